"""The cross-check: costscan's findings beside the cloud's own advice (GCP Recommender,
Azure Advisor, AWS Cost Optimization Hub).

After the policies, per finding that Google's recommenders judge too (``COMPARED``: the
costscan policy and the kind of advice that says the same thing), the evidence gains

- ``provider_advice``: ``verdict`` and Google's recommendation, where
  - ``agrees``: Google advises the same change on the resource;
  - ``differs``: Google advises another change on it (a resize where costscan stops it);
  - ``silent``: Google's recommenders were read for the project and advise nothing there;
  - ``unavailable``: reading them failed for the project (the report's errors say why),
    so nothing is claimed about Google's view;
- ``provider_advice_monthly_savings``: Google's costProjection per 730-hour month (its
  currency in ``provider_advice.currency``), beside costscan's own figure,

and the detail a sentence saying so. Google's advice that no comparable costscan finding
answers stays listed as the ``*.google-recommender`` review findings (policies/gcp.py);
advice on a resource costscan does flag is folded into that finding's evidence instead.
So a disagreement either way is shown: costscan's finding marked ``silent`` or
``differs``, and Google's advice listed on its own. Nothing here changes a figure that
counts.

AWS: Cost Optimization Hub's rows (recommender ``aws.cost-optimization-hub``) are compared;
Compute Optimizer's are reconciled inside the demand policies (policies/demand.py) and are
left out here. Which accounts were checked comes from the Hub's ``coverage`` row per
account (``available``, or ``unavailable`` with the reason, e.g. not enrolled) and from
the collector's errors, so a run that never asked the Hub claims nothing about it.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import Inventory

ADVICE_POLICIES: Final = frozenset(
    {
        "rightsizing.google-recommender",
        "storage.google-recommender",
        "network.google-recommender",
        "commitments.google-recommender",
        "rightsizing.azure-advisor",
        "storage.azure-advisor",
        "network.azure-advisor",
        "commitments.azure-advisor",
        "rightsizing.aws-cost-optimization-hub",
        "commitments.aws-cost-optimization-hub",
    }
)
# costscan policy -> the kind of Google advice that makes the same call.
COMPARED: Final[dict[str, str]] = {
    "rightsizing.idle": "stop",
    "rightsizing.overprovisioned": "resize",
    "storage.unattached-volume": "delete",
    "network.unused-static-address": "delete",
    # AWS only: Cost Optimization Hub's Rightsize / MigrateToGraviton advice on the resource.
    "rightsizing.graviton": "resize",
    "rightsizing.lambda-memory": "resize",
    "rightsizing.fargate-task": "resize",
}
# Providers whose scan reads the cloud's advice, and the collector names (a prefix) whose
# failure in a project makes the advice unavailable there.
ADVISED_PROVIDERS: Final[dict[str, str]] = {
    "gcp": "recommender.",
    "azure": "advisor.",
    "aws": "costoptimizationhub.",
}
# Whose advice it is, by provider, as the evidence and the sentence name it.
ADVISOR_NAMES: Final[dict[str, str]] = {
    "gcp": "Google Recommender",
    "azure": "Azure Advisor",
    "aws": "AWS Cost Optimization Hub",
}
# The AWS advice compared here, and its per-account coverage rows (kind "coverage").
AWS_HUB: Final = "aws.cost-optimization-hub"
COVERAGE: Final = "coverage"
_KEYS: Final = ["provider", "account_id", "resource_id"]


def checked_accounts(inv: Inventory) -> pl.DataFrame:
    """(provider, account_id, available, reason) for every account whose advice the scan
    read (the reason says why advice is unavailable where the provider said so)."""
    prefix = ADVISED_PROVIDERS.get(inv.provider)
    rows: list[tuple[str, str, bool, str | None]] = []
    if prefix is not None:
        failed = {e.account_id for e in inv.errors if e.collector.startswith(prefix)}
        accounts: dict[str, tuple[bool, str | None]] = {
            a: (True, None) for a in sorted(set(inv.accounts))
        }
        if inv.provider == "aws":
            # Only the accounts the Hub was asked about: its coverage rows and its failures.
            accounts = {a: (True, None) for a in sorted(failed)}
            if inv.has("provider_advice"):
                coverage = inv.frame("provider_advice").filter(
                    (pl.col("recommender") == AWS_HUB) & (pl.col("kind") == COVERAGE)
                )
                for row in coverage.iter_rows(named=True):
                    ok = row["state"] == "available"
                    accounts[row["account_id"]] = (ok, None if ok else row["description"])
        rows = [
            (inv.provider, a, ok and a not in failed, why)
            for a, (ok, why) in sorted(accounts.items())
        ]
    return pl.DataFrame(
        rows,
        schema={
            "provider": pl.String(),
            "account_id": pl.String(),
            "_available": pl.Boolean(),
            "_reason": pl.String(),
        },
        orient="row",
    )


def cross_check(findings: pl.DataFrame, inv: Inventory) -> pl.DataFrame:
    """``findings`` with Google's verdict on each comparable one, and Google's own advice
    only where no comparable finding answers it. Order and schema are kept."""
    accounts = checked_accounts(inv)
    if accounts.height == 0 or findings.height == 0:
        return findings
    advice = (
        inv.frame("provider_advice")
        if inv.has("provider_advice")
        else schema.empty(schema.PROVIDER_ADVICE)
    ).filter(
        (pl.col("kind") != COVERAGE).fill_null(True)
        & ((pl.col("provider") != "aws") | (pl.col("recommender") == AWS_HUB))
    )
    claims = pl.col("policy_id").replace_strict(COMPARED, default=None, return_dtype=pl.String)
    comparable = findings.filter(pl.col("policy_id").is_in(list(COMPARED))).select(
        "finding_id", *_KEYS, claims.alias("_claims")
    )
    best = (
        comparable.join(advice, on=_KEYS, how="inner")
        .with_columns((pl.col("kind") == pl.col("_claims")).alias("_same"))
        .sort(
            ["finding_id", "_same", "monthly_savings"],
            descending=[False, True, True],
            nulls_last=True,
        )
        .group_by("finding_id", maintain_order=True)
        .first()
        .select(
            "finding_id",
            "_same",
            pl.col("recommender").alias("_recommender"),
            pl.col("recommendation").alias("_recommendation"),
            pl.col("kind").alias("_kind"),
            pl.col("target").alias("_target"),
            pl.col("description").alias("_description"),
            pl.col("currency").alias("_currency"),
            pl.col("monthly_savings").alias("_google_monthly"),
        )
    )
    verdicts = (
        comparable.join(best, on="finding_id", how="left")
        .join(accounts, on=["provider", "account_id"], how="left")
        .select(
            "finding_id",
            pl.exclude("finding_id", *_KEYS, "_claims", "_available"),
            pl.when(pl.col("_same"))
            .then(pl.lit("agrees"))
            .when(pl.col("_recommendation").is_not_null())
            .then(pl.lit("differs"))
            .when(pl.col("_available"))
            .then(pl.lit("silent"))
            .when(pl.col("_available").not_())
            .then(pl.lit("unavailable"))
            .alias("_verdict"),
        )
        .filter(pl.col("_verdict").is_not_null())
    )
    annotated = findings.join(verdicts, on="finding_id", how="left", maintain_order="left")
    has_verdict = pl.col("_verdict").is_not_null()
    answered = comparable.select(_KEYS).unique()
    folded = pl.col("policy_id").is_in(list(ADVICE_POLICIES)) & pl.struct(_KEYS).is_in(
        answered.select(pl.struct(_KEYS)).to_series().implode()
    )
    return (
        annotated.with_columns(
            pl.when(has_verdict)
            .then(_with_members(pl.col("evidence"), _advice_members()))
            .otherwise(pl.col("evidence"))
            .alias("evidence"),
            pl.when(has_verdict)
            .then(pl.concat_str([pl.col("detail"), _sentence()], ignore_nulls=True))
            .otherwise(pl.col("detail"))
            .alias("detail"),
        )
        .filter(~folded)
        .select(list(schema.FINDINGS))
    )


def _advice_members() -> pl.Expr:
    """The evidence members, as one JSON object's text."""
    return pl.struct(
        provider_advice=pl.struct(
            source=_advisor(),
            verdict=pl.col("_verdict"),
            recommender=pl.col("_recommender"),
            recommendation=pl.col("_recommendation"),
            kind=pl.col("_kind"),
            target=pl.col("_target"),
            description=pl.col("_description"),
            currency=pl.col("_currency"),
        ),
        provider_advice_monthly_savings=pl.col("_google_monthly"),
    ).struct.json_encode()


def _with_members(evidence: pl.Expr, members: pl.Expr) -> pl.Expr:
    """``evidence`` (a JSON object's text) with ``members``' (another's) appended."""
    inner = members.str.strip_prefix("{").str.strip_suffix("}")
    body = evidence.str.strip_chars_end().str.strip_suffix("}")
    return (
        pl.when(evidence.is_null())
        .then(members)
        .when(body.str.strip_chars_end().str.ends_with("{"))
        .then(pl.concat_str([body, inner, pl.lit("}")]))
        .otherwise(pl.concat_str([body, pl.lit(","), inner, pl.lit("}")]))
    )


def amount(value: pl.Expr) -> pl.Expr:
    """Money as text with two decimals (85.004 -> "85.00"), in whatever currency."""
    cents = (value * 100).round(0).cast(pl.Int64)
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    whole = cents.abs()
    return pl.format(
        "{}{}.{}", sign, whole // 100, (whole % 100).cast(pl.String).str.pad_start(2, "0")
    )


def _advisor() -> pl.Expr:
    return pl.col("provider").replace_strict(
        ADVISOR_NAMES, default="The cloud's advisor", return_dtype=pl.String
    )


def _sentence() -> pl.Expr:
    projected = (
        pl.when(pl.col("_google_monthly").is_not_null())
        .then(
            pl.format(
                " (it projects {} {} a month)", amount(pl.col("_google_monthly")), "_currency"
            )
        )
        .otherwise(pl.lit(""))
    )
    # Advisor estimates at retail, before reservations and savings plans; costscan's figure
    # is after them (and may be for another target): where the two differ, say why.
    differ = pl.col("_google_monthly").is_not_null() & (
        (pl.col("_google_monthly") - pl.col("monthly_savings")).abs() >= 0.01
    )
    retail = (
        pl.when((pl.col("provider") == "azure") & differ)
        .then(pl.lit("; Advisor prices at retail and ignores reservations and savings plans"))
        # The Hub estimates from its own lookback (14 days by default) and, per the
        # account's preference, before or after discounts; costscan from this run's
        # lookback, after the discounts it sees.
        .when((pl.col("provider") == "aws") & differ)
        .then(
            pl.lit(
                "; the Hub estimates from its own lookback and the account's discount "
                "preference, costscan from this run's lookback after existing discounts"
            )
        )
        .otherwise(pl.lit(""))
    )
    projected = pl.concat_str([projected.str.strip_suffix(")"), retail, pl.lit(")")])
    projected = pl.when(projected == ")").then(pl.lit("")).otherwise(projected)
    verdict = pl.col("_verdict")
    return (
        pl.when(verdict == "agrees")
        .then(pl.format(" {} agrees{}.", _advisor(), projected))
        .when(verdict == "differs")
        .then(
            pl.format(
                " {} advises otherwise: {}{}.",
                _advisor(),
                pl.col("_description").fill_null(pl.col("_kind")).str.strip_suffix("."),
                projected,
            )
        )
        .when(verdict == "silent")
        .then(pl.format(" {} does not flag this resource.", _advisor()))
        .when(pl.col("_reason").is_not_null())
        .then(pl.format(" {}'s advice is unavailable for this account: {}.", _advisor(), "_reason"))
        .otherwise(
            pl.format(
                " {}'s advice could not be read for this {}.",
                _advisor(),
                pl.when(pl.col("provider") == "azure")
                .then(pl.lit("subscription"))
                .when(pl.col("provider") == "aws")
                .then(pl.lit("account"))
                .otherwise(pl.lit("project")),
            )
        )
    )
