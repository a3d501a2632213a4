"""Google Cloud only: committed use discounts (unused ones, and steady usage none covers,
after sustained-use discounts), and what Google's Recommender advises that costscan's own
policies do not.

The GCP provider reads Recommender's cost advice into the ``provider_advice`` frame. Each
policy here lists that advice for one family as a ``review`` finding (money to look into,
no saving claimed: Google's figure is its projection, not costscan's). The cross-check
after the policies (``scanner/pipeline/provider_advice.py``) then keeps only the advice no
costscan finding on the same resource answers, and marks each comparable costscan finding
with Google's verdict, so a disagreement in either direction is listed, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

from costscan.policies._compute import (
    advice_review,
    amount_text,
    evidence,
    findings,
    hourly_coverage,
    lookback_hours,
    lookback_start,
    money,
    monthly,
    price_evidence,
    running_instances,
)
from costscan.policies._discounts import SUSTAINED_USE_FULL_MONTH
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.contracts.registry import policy
from costscan.scanner.contracts.units import HOURS_PER_MONTH
from costscan.scanner.contracts.vocab import Category, Change, CloudProvider

FORMULA = "monthly_savings = 0 (Google's costProjection is shown, not counted)"


@dataclass(frozen=True)
class GoogleAdviceParams:
    # Google's projection is its own model of the bill (list or contract prices, a 30-day
    # window); costscan shows it, and is as sure that Google advises it as Google says.
    confidence: float = 1.0


def _advice(inv: InventoryView, p: GoogleAdviceParams, kinds: tuple[str, ...]) -> pl.LazyFrame:
    google = pl.col("monthly_savings")
    # Google's advice only: Azure Advisor's and AWS Compute Optimizer's rows share the frame.
    rows = inv.lazy("provider_advice").filter(
        (pl.col("provider") == CloudProvider.GCP.value) & pl.col("kind").is_in(list(kinds))
    )
    saving = pl.when(google.is_not_null()).then(
        pl.format(" Google projects {} {} a month.", amount_text(google), pl.col("currency"))
    )
    return advice_review(
        rows,
        detail=pl.concat_str(
            [
                pl.format("Google Recommender ({}) advises: ", pl.col("recommender")),
                pl.col("description").fill_null(pl.col("kind")),
                saving.otherwise(pl.lit("")),
                pl.lit(" costscan's own policies do not flag this resource for it."),
            ]
        ),
        recommendation=pl.format(
            "Review Google's recommendation {} (gcloud recommender recommendations describe) "
            "against this resource's use; costscan counts no saving for it.",
            pl.col("recommendation"),
        ),
        confidence=p.confidence,
        advice=pl.struct(
            source=pl.lit("Google Recommender"),
            verdict=pl.lit("only_google"),
            recommender=pl.col("recommender"),
            recommendation=pl.col("recommendation"),
            subtype=pl.col("subtype"),
            kind=pl.col("kind"),
            target=pl.col("target"),
            priority=pl.col("priority"),
            currency=pl.col("currency"),
            refreshed=pl.col("refreshed").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        ),
    )


@policy(
    id="rightsizing.google-recommender",
    family="rightsizing",
    action="investigate",
    title="Google Recommender advises stopping or resizing this VM",
    needs=("provider_advice",),
    effort_hours=0.5,
    risk="low",
    performance="neutral",
    change=Change.INVESTIGATE,
    formula=FORMULA,
)
def google_instance_advice(inv: InventoryView, p: GoogleAdviceParams) -> pl.LazyFrame:
    """Compute Engine instances Google's idle VM or machine type recommender flags and no
    costscan rightsizing finding does.

    monthly_savings = 0 (a review); Google's ``costProjection`` per 730-hour month is in
    the evidence (``provider_advice_monthly_savings``).

    Source: google.compute.instance.IdleResourceRecommender and
    google.compute.instance.MachineTypeRecommender (https://cloud.google.com/recommender/docs/recommenders).
    """
    return _advice(inv, p, ("stop", "resize"))


@policy(
    id="storage.google-recommender",
    family="storage",
    action="investigate",
    title="Google Recommender advises deleting this idle disk",
    needs=("provider_advice",),
    effort_hours=0.5,
    risk="low",
    performance="neutral",
    change=Change.INVESTIGATE,
    formula=FORMULA,
)
def google_disk_advice(inv: InventoryView, p: GoogleAdviceParams) -> pl.LazyFrame:
    """Persistent disks Google's idle disk recommender flags and no costscan volume
    finding does.

    monthly_savings = 0 (a review); Google's projection is in the evidence.

    Source: google.compute.disk.IdleResourceRecommender
    (https://cloud.google.com/compute/docs/disks/view-idle-pd-recommendations).
    """
    return _advice(inv, p, ("delete",)).filter(pl.col("resource_type") == "persistent_disk")


@policy(
    id="network.google-recommender",
    family="network",
    action="investigate",
    title="Google Recommender advises releasing this idle address",
    needs=("provider_advice",),
    effort_hours=0.5,
    risk="low",
    performance="neutral",
    change=Change.INVESTIGATE,
    formula=FORMULA,
)
def google_address_advice(inv: InventoryView, p: GoogleAdviceParams) -> pl.LazyFrame:
    """Static external addresses Google's idle address recommender flags and no costscan
    network finding does.

    monthly_savings = 0 (a review); Google's projection is in the evidence.

    Source: google.compute.address.IdleResourceRecommender
    (https://cloud.google.com/compute/docs/ip-addresses/reserve-static-external-ip-address#view-recommendations).
    """
    return _advice(inv, p, ("delete",)).filter(pl.col("resource_type") == "static_address")


@policy(
    id="commitments.google-recommender",
    family="commitments",
    action="investigate",
    title="Google Recommender advises buying a committed use discount",
    needs=("provider_advice",),
    effort_hours=0.5,
    risk="low",
    performance="neutral",
    change=Change.INVESTIGATE,
    formula=FORMULA,
)
def google_commitment_advice(inv: InventoryView, p: GoogleAdviceParams) -> pl.LazyFrame:
    """Committed use discounts Google's usage commitment recommender advises buying, per
    project and region.

    monthly_savings = 0 (a review); Google's projection is in the evidence.

    Source: google.compute.commitment.UsageCommitmentRecommender
    (https://cloud.google.com/compute/docs/instances/commitment-recommendations).
    """
    return _advice(inv, p, ("commit",))


# --------------------------------------------------------------------------- commitments

# Sustained-use discounts: the share Compute Engine takes off a vCPU and its memory that run
# the whole month and no commitment covers (N1, M1, M2 and the shared-core f1/g1 up to 30%;
# N2, N2D and C2 up to 20%; E2, T2D, T2A, C3, N4 and the rest none), per
# https://cloud.google.com/compute/docs/sustained-use-discounts. A commitment replaces it:
# its usage gets no SUD, so buying one saves only the difference.
# (SUSTAINED_USE_FULL_MONTH, from policies/_discounts.py, per series.)
# A 1-year resource-based commitment's discount off on-demand vCPU and memory (the
# general-purpose series list 1-year rates about 37% below on demand,
# https://cloud.google.com/compute/vm-instance-pricing); the provider prices held CUDs with
# the same figure (providers/pricing/gcp.py, CUD_DISCOUNT).
ONE_YEAR_CUD_DISCOUNT: Final = 0.37
CUD_DOCS = "https://cloud.google.com/compute/docs/instances/signing-up-committed-use-discounts"
# Used below this share, a CUD bills for capacity nothing uses.
FULLY_USED: Final = 0.99


def _series(machine_type: pl.Expr) -> pl.Expr:
    return machine_type.str.extract(r"^([a-z0-9]+)-", 1)


def _active_cuds(inv: InventoryView) -> pl.LazyFrame:
    now = pl.lit(inv.context.now, dtype=schema.UTC_TS)
    return inv.lazy("commitments").filter(
        (pl.col("provider") == CloudProvider.GCP)
        & (pl.col("kind") == "cud")
        & (pl.col("state").str.to_lowercase() == "active")
        & (pl.col("expires").is_null() | (pl.col("expires") > now))
    )


@dataclass(frozen=True)
class UnusedCudParams:
    min_utilization: float = FULLY_USED
    # Utilization is measured on the instances running when the scan ran, not averaged over
    # the month as the bill is.
    confidence: float = 0.8


@policy(
    id="commitments.gcp-unused-cud",
    family="commitments",
    action="configure",
    title="Committed use discount paid for but partly unused",
    needs=("commitments",),
    effort_hours=1.0,
    risk="low",
    performance="neutral",
    change=Change.RECOVER_COMMITMENT,
    category=Category.WASTE,
    formula="waste = monthly_commitment × (1 − utilization)",
)
def gcp_unused_cud(inv: InventoryView, p: UnusedCudParams) -> pl.LazyFrame:
    """Resource-based committed use discounts whose vCPUs or memory nothing uses: the unused
    share bills every month until the commitment ends, and no mechanism recovers it (a CUD
    cannot be cancelled or sold). Waste, not savings: it never enters the savings total.

    Utilization (the provider's) = the lower of used / committed vCPUs and GiB of running,
    non-spot instances of the CUD's series in its project and region, capped at 1.
    monthly_commitment = (vCPUs × core rate + GiB × RAM rate) × 730 × (1 − the term's
    discount).

    Waste formula: waste = monthly_commitment × (1 − utilization), from now to the end date.

    Sources: a commitment bills "whether or not you use the services" and cannot be
    cancelled (https://cloud.google.com/compute/docs/instances/signing-up-committed-use-discounts);
    the 80%-utilization alerting practice of the FinOps Foundation
    (https://www.finops.org/framework/) is left to ``min_utilization``.
    """
    cuds = _active_cuds(inv).filter(
        (pl.col("utilization") < p.min_utilization) & (pl.col("monthly_commitment") > 0)
    )
    waste = pl.col("monthly_commitment") * (1.0 - pl.col("utilization").clip(0.0, 1.0))
    return findings(
        cuds,
        detail=pl.format(
            "Committed use discount {} ({} {}) is {}% used by running instances: {} of its {} "
            "a month pays for nothing until it ends ({}).",
            pl.col("resource_name"),
            pl.col("family").str.to_uppercase(),
            pl.col("term"),
            (pl.col("utilization") * 100).round(1),
            money(waste),
            money(pl.col("monthly_commitment")),
            pl.col("expires").dt.strftime("%Y-%m-%d"),
        ),
        recommendation=pl.format(
            "Move {} usage in {} onto it (resize or start instances of that series there), "
            "or share it across projects; commit less when it ends.",
            pl.col("family").str.to_uppercase(),
            pl.col("region"),
        ),
        current_monthly_cost=pl.col("monthly_commitment"),
        monthly_savings=waste,
        savings_start=pl.col("expires").dt.date(),
        confidence=pl.lit(p.confidence),
        price_source=pl.lit("bundled"),
        evidence=evidence(
            utilization=pl.col("utilization"),
            min_utilization=pl.lit(p.min_utilization),
            monthly_commitment=pl.col("monthly_commitment"),
            on_demand_equivalent=pl.col("on_demand_equivalent"),
            term=pl.col("term"),
            commitment_type=pl.col("offering_class"),
            expires=pl.col("expires").dt.strftime("%Y-%m-%d"),
        ),
    )


@dataclass(frozen=True)
class CudPurchaseParams:
    discount: float = ONE_YEAR_CUD_DISCOUNT
    # CPU datapoints in at least this share of the lookback's hours: it ran throughout.
    min_coverage: float = 0.95
    # Managed instance group members churn; they are left out unless asked for.
    include_group_members: bool = False
    confidence: float = 0.75


@policy(
    id="commitments.gcp-cud-purchase",
    family="commitments",
    action="commit",
    title="Steady on-demand VM: cover it with a 1-year committed use discount",
    needs=("compute", "utilization", "prices", "commitments"),
    effort_hours=1.0,
    risk="medium",
    performance="neutral",
    change=Change.PURCHASE_COMMITMENT,
    formula=(
        "monthly_savings = uncovered × (discount − sustained-use discount); "
        f"uncovered = hourly_price × {HOURS_PER_MONTH:g} − what existing CUDs cover"
    ),
)
def gcp_cud_purchase(inv: InventoryView, p: CudPurchaseParams) -> pl.LazyFrame:
    """Steady on-demand Compute Engine VMs no committed use discount covers: a 1-year
    resource-based CUD for their vCPUs and memory (the GCP twin of
    ``commitments.compute-commitment``).

    Flagged: a running, non-spot instance of a series CUDs cover (not shared-core), not a
    managed instance group member unless ``include_group_members``, started before the
    lookback and with CPU datapoints in at least ``min_coverage`` of its hours. Scopes
    (project, region, series) where a CUD already sits partly unused get nothing: the
    unused part applies first.

    Existing CUDs first: per scope, the on-demand value the held CUDs cover (the
    provider's ``coverage`` row, ``covered_cost``) is spent on the steady instances,
    dearest first; only what is left (``uncovered``) is recommended.

    Saving formula: before discounts, uncovered × discount; after them, uncovered ×
    (discount − SUD), SUD being the sustained-use discount the same usage already gets for
    running the whole month (30% N1, 20% N2/N2D/C2, none E2): a CUD replaces it, so only
    the difference leaves the bill. Risk is medium: the commitment bills for a year.

    Sources: resource-based CUDs (https://cloud.google.com/compute/docs/instances/signing-up-committed-use-discounts),
    sustained-use discounts (https://cloud.google.com/compute/docs/sustained-use-discounts),
    1-year committed prices (https://cloud.google.com/compute/vm-instance-pricing).
    """
    start = pl.lit(lookback_start(inv), dtype=schema.UTC_TS)
    in_group = pl.col("group").is_not_null() & (pl.col("group") != "")
    scope = ["account_id", "region", "_series"]
    steady = (
        running_instances(inv)
        .filter(
            (pl.col("provider") == CloudProvider.GCP)
            & (pl.col("lifecycle").str.to_lowercase() == "on-demand")
            & ~pl.col("burstable")
            & (pl.lit(p.include_group_members) | ~in_group)
            & (pl.col("launch_time").is_null() | (pl.col("launch_time") <= start))
        )
        .join(hourly_coverage(inv), on="resource_id", how="inner")
        .filter(pl.col("coverage") >= p.min_coverage)
        .with_columns(_series(pl.col("instance_type")).alias("_series"))
    )
    cuds = _active_cuds(inv).select(
        "account_id", "region", pl.col("family").alias("_series"), "utilization"
    )
    underused = cuds.filter(pl.col("utilization") < FULLY_USED).select(scope).unique()
    covered = (
        inv.lazy("commitments")
        .filter((pl.col("provider") == CloudProvider.GCP) & (pl.col("kind") == "coverage"))
        .group_by("account_id", "region", pl.col("family").alias("_series"))
        .agg(pl.col("covered_cost").sum().alias("_covered"))
    )
    monthly_cost = monthly(pl.col("hourly_price"))
    # Held CUDs cover the dearest steady instances first (conservative: the saving is the
    # smallest the scope allows).
    spent = (
        steady.join(underused, on=scope, how="anti")
        .join(covered, on=scope, how="left")
        .with_columns(monthly_cost.alias("_monthly"), pl.col("_covered").fill_null(0.0))
        .sort(
            ["account_id", "region", "_series", "_monthly", "resource_id"],
            descending=[False, False, False, True, False],
        )
        .with_columns(pl.col("_monthly").cum_sum().over(scope).alias("_cumulative"))
        .with_columns(
            pl.min_horizontal(
                (pl.col("_cumulative") - pl.col("_covered")).clip(0.0, None), pl.col("_monthly")
            ).alias("_uncovered")
        )
        .filter(pl.col("_uncovered") > 0.005)
    )
    sud = (
        pl.col("_series")
        .replace_strict(SUSTAINED_USE_FULL_MONTH, default=0.0, return_dtype=pl.Float64)
        .alias("_sud")
    )
    priced = spent.with_columns(sud).with_columns(
        (pl.col("_uncovered") * p.discount).alias("_before"),
        (pl.col("_uncovered") * (p.discount - pl.col("_sud"))).clip(0.0, None).alias("_after"),
    )
    return findings(
        priced,
        detail=pl.concat_str(
            [
                pl.format(
                    "{} ({}) ran on demand for {} of the last {} hours; CUDs cover {} of its "
                    "{} a month.",
                    pl.col("resource_id"),
                    pl.col("instance_type"),
                    pl.col("hours_with_data"),
                    pl.lit(lookback_hours(inv)),
                    money(pl.col("_monthly") - pl.col("_uncovered")),
                    money(pl.col("_monthly")),
                ),
                pl.when(pl.col("_sud") > 0)
                .then(
                    pl.format(
                        " The {} left already gets a {}% sustained-use discount for running "
                        "all month, which a CUD replaces.",
                        money(pl.col("_uncovered")),
                        (pl.col("_sud") * 100).round(0).cast(pl.Int64),
                    )
                )
                .otherwise(pl.lit("")),
            ]
        ),
        recommendation=pl.format(
            "Buy a 1-year {} commitment in {} for its vCPUs and memory ({}% off on demand{}), "
            "saving {} a month.",
            pl.col("_series").str.to_uppercase(),
            pl.col("region"),
            pl.lit(round(p.discount * 100)),
            pl.when(pl.col("_sud") > 0)
            .then(
                pl.format(
                    " instead of the {}% sustained-use discount",
                    (pl.col("_sud") * 100).round(0).cast(pl.Int64),
                )
            )
            .otherwise(pl.lit("")),
            money(pl.col("_after")),
        ),
        current_monthly_cost=pl.col("_monthly"),
        monthly_savings_before_discounts=pl.col("_before"),
        monthly_savings=pl.col("_after"),
        group_key=pl.format("1-year {} CUD in {}", pl.col("_series"), pl.col("region")),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            hours_per_month=HOURS_PER_MONTH,
            price=price_evidence(
                pl.col("instance_type"), pl.col("hourly_price"), pl.col("price_source")
            ),
            uncovered_monthly=pl.col("_uncovered"),
            covered_by_existing_cuds_monthly=pl.col("_monthly") - pl.col("_uncovered"),
            cud_discount=pl.lit(p.discount),
            sustained_use_discount=pl.col("_sud"),
            sources=pl.struct(
                cud=pl.lit(CUD_DOCS),
                sud=pl.lit("https://cloud.google.com/compute/docs/sustained-use-discounts"),
            ),
        ),
    )
