"""Google Cloud only: what Google's Recommender advises that costscan's own policies do not.

The GCP provider reads Recommender's cost advice into the ``provider_advice`` frame. Each
policy here lists that advice for one family as a ``review`` finding (money to look into,
no saving claimed: Google's figure is its projection, not costscan's). The cross-check
after the policies (``scanner/pipeline/provider_advice.py``) then keeps only the advice no
costscan finding on the same resource answers, and marks each comparable costscan finding
with Google's verdict, so a disagreement in either direction is listed, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from costscan.policies._compute import evidence, findings
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.contracts.registry import policy
from costscan.scanner.contracts.vocab import Change, PriceSource

FORMULA = "monthly_savings = 0 (Google's costProjection is shown, not counted)"


@dataclass(frozen=True)
class GoogleAdviceParams:
    # Google's projection is its own model of the bill (list or contract prices, a 30-day
    # window); costscan shows it, and is as sure that Google advises it as Google says.
    confidence: float = 1.0


def _amount(value: pl.Expr) -> pl.Expr:
    """Money as text with two decimals (21.981 -> "21.98"); Google's currency may not be USD."""
    cents = (value * 100).round(0).cast(pl.Int64)
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    whole = cents.abs()
    return pl.format(
        "{}{}.{}", sign, whole // 100, (whole % 100).cast(pl.String).str.pad_start(2, "0")
    )


def _advice(inv: InventoryView, p: GoogleAdviceParams, kinds: tuple[str, ...]) -> pl.LazyFrame:
    google = pl.col("monthly_savings")
    rows = inv.lazy("provider_advice").filter(pl.col("kind").is_in(list(kinds)))
    saving = pl.when(google.is_not_null()).then(
        pl.format(" Google projects {} {} a month.", _amount(google), pl.col("currency"))
    )
    return findings(
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
        current_monthly_cost=pl.lit(None, dtype=pl.Float64),
        monthly_savings=pl.lit(0.0),
        confidence=pl.lit(p.confidence),
        price_source=pl.lit(PriceSource.NONE.value),
        evidence=evidence(
            provider_advice=pl.struct(
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
            provider_advice_monthly_savings=google,
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
