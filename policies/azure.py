"""Azure only: storage accounts without a lifecycle policy, and what Azure Advisor advises
that costscan's own policies do not.

The Azure provider reads Advisor's cost recommendations into the ``provider_advice`` frame.
Each policy here lists that advice for one family as a ``review`` finding (money to look
into, no saving claimed: Advisor's figure is its own, at retail prices and without
reservations or savings plans). The cross-check after the policies
(``scanner/pipeline/provider_advice.py``) then keeps only the advice no costscan finding on
the same resource answers, and marks each comparable costscan finding with Advisor's
verdict, so a disagreement in either direction is listed, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from costscan.policies._compute import advice_review, amount_text, evidence, findings, money, num
from costscan.policies.storage import BucketTieringParams
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.contracts.registry import policy
from costscan.scanner.contracts.units import BYTES_PER_GIB
from costscan.scanner.contracts.vocab import Change, PriceSource

FORMULA = "monthly_savings = 0 (Advisor's savingsAmount is shown, not counted)"


@dataclass(frozen=True)
class AdvisorParams:
    # Advisor's figure is its own model of the bill; costscan shows it, and is as sure that
    # Advisor advises it as Advisor says.
    confidence: float = 1.0


def _advice(inv: InventoryView, p: AdvisorParams, kinds: tuple[str, ...]) -> pl.LazyFrame:
    advisor = pl.col("monthly_savings")
    rows = inv.lazy("provider_advice").filter(
        (pl.col("provider") == "azure") & pl.col("kind").is_in(list(kinds))
    )
    saving = pl.when(advisor.is_not_null()).then(
        pl.format(" Advisor estimates {} {} a month.", amount_text(advisor), pl.col("currency"))
    )
    target = pl.when(pl.col("target").is_not_null()).then(pl.format(" (to {})", "target"))
    return advice_review(
        rows,
        detail=pl.concat_str(
            [
                pl.lit("Azure Advisor advises: "),
                pl.col("description").fill_null(pl.col("kind")),
                target.otherwise(pl.lit("")),
                pl.lit("."),
                saving.otherwise(pl.lit("")),
                pl.lit(" costscan's own policies do not flag this resource for it."),
            ]
        ),
        recommendation=pl.format(
            "Review Advisor's recommendation {} (az advisor recommendation list --category "
            "Cost) against this resource's use; costscan counts no saving for it.",
            pl.col("recommendation"),
        ),
        confidence=p.confidence,
        advice=pl.struct(
            source=pl.lit("Azure Advisor"),
            verdict=pl.lit("only_advisor"),
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
    id="rightsizing.azure-advisor",
    family="rightsizing",
    action="investigate",
    title="Azure Advisor advises shutting down or resizing this VM",
    needs=("provider_advice",),
    effort_hours=0.5,
    risk="low",
    performance="neutral",
    change=Change.INVESTIGATE,
    formula=FORMULA,
)
def advisor_vm_advice(inv: InventoryView, p: AdvisorParams) -> pl.LazyFrame:
    """Virtual machines Advisor's "right-size or shut down underutilized virtual machines"
    rule flags and no costscan rightsizing finding does.

    monthly_savings = 0 (a review); Advisor's ``savingsAmount`` is in the evidence
    (``provider_advice_monthly_savings``).

    Source: Azure Advisor cost recommendations
    (https://learn.microsoft.com/azure/advisor/advisor-cost-recommendations).
    """
    return _advice(inv, p, ("stop", "resize"))


@policy(
    id="commitments.azure-advisor",
    family="commitments",
    action="investigate",
    title="Azure Advisor advises buying a reservation or savings plan",
    needs=("provider_advice",),
    effort_hours=0.5,
    risk="low",
    performance="neutral",
    change=Change.INVESTIGATE,
    formula=FORMULA,
)
def advisor_commitment_advice(inv: InventoryView, p: AdvisorParams) -> pl.LazyFrame:
    """Reserved VM instances or savings plans Advisor advises buying for a subscription,
    from its look back at on-demand usage.

    monthly_savings = 0 (a review: a commitment is bought for one to three years, and
    Advisor's savingsAmount assumes the usage it saw goes on); Advisor's figure is in the
    evidence.

    Source: https://learn.microsoft.com/azure/advisor/advisor-reference-cost-recommendations
    (reserved instances and savings plans).
    """
    return _advice(inv, p, ("commit",))


@policy(
    id="storage.azure-advisor",
    family="storage",
    action="investigate",
    title="Azure Advisor advises deleting this unattached disk",
    needs=("provider_advice",),
    effort_hours=0.5,
    risk="low",
    performance="neutral",
    change=Change.INVESTIGATE,
    formula=FORMULA,
)
def advisor_disk_advice(inv: InventoryView, p: AdvisorParams) -> pl.LazyFrame:
    """Managed disks Advisor flags (unattached) and no costscan volume finding does.

    monthly_savings = 0 (a review); Advisor's figure is in the evidence.

    Source: https://learn.microsoft.com/azure/advisor/advisor-reference-cost-recommendations.
    """
    return _advice(inv, p, ("delete",)).filter(pl.col("resource_type") == "managed_disk")


@policy(
    id="network.azure-advisor",
    family="network",
    action="investigate",
    title="Azure Advisor advises deleting this unassociated public IP",
    needs=("provider_advice",),
    effort_hours=0.5,
    risk="low",
    performance="neutral",
    change=Change.INVESTIGATE,
    formula=FORMULA,
)
def advisor_address_advice(inv: InventoryView, p: AdvisorParams) -> pl.LazyFrame:
    """Public IP addresses Advisor flags (not associated) and no costscan network finding
    does.

    monthly_savings = 0 (a review); Advisor's figure is in the evidence.

    Source: https://learn.microsoft.com/azure/advisor/advisor-reference-cost-recommendations.
    """
    return _advice(inv, p, ("delete",)).filter(pl.col("resource_type") == "public_ip")


# --------------------------------------------------------------------------- blob tiers

BLOB_TIER_FORMULA = (
    "monthly_savings = hot_bytes / GiB × cold_fraction × (Hot − Cool per GB-month); "
    "upfront_cost = blobs × cold_fraction / 1,000 × Cool write price per 1,000"
)


@policy(
    id="storage.azure-blob-without-lifecycle",
    family="storage",
    action="configure",
    title="Storage account without a lifecycle management policy",
    needs=("buckets",),
    effort_hours=1.0,
    risk="low",
    performance="neutral",
    change=Change.CONFIGURE_SERVICE,
    formula=BLOB_TIER_FORMULA,
)
def azure_blob_without_lifecycle(inv: InventoryView, p: BucketTieringParams) -> pl.LazyFrame:
    """Storage accounts in the Hot access tier with no lifecycle management policy: the
    twin of ``storage.bucket-without-lifecycle`` for Azure Blob Storage tiers.

    The cold share of Hot bytes (``cold_fraction``) moves to Cool by a lifecycle rule
    (tierToCool after ``transition_days`` since last modification, Cool's 30-day minimum).

    Saving formula: monthly_savings = BlobCapacity / GiB × cold_fraction × (Hot − Cool
    per-GB price); upfront_cost = BlobCount × cold_fraction / 1,000 × the Cool write price
    per 1,000 (a tier change bills one write per blob). Bytes and blobs are Azure Monitor's
    ``BlobCapacity`` and ``BlobCount``. Confidence is low: access patterns are unknown.

    Sources: Azure Blob Storage lifecycle management
    (https://learn.microsoft.com/azure/storage/blobs/lifecycle-management-overview) and
    Azure Advisor's storage cost guidance; prices from
    https://azure.microsoft.com/pricing/details/storage/blobs/.
    """
    hot = pl.col("price_standard_gb_month")
    cool = pl.col("price_standard_ia_gb_month")
    cold_gib = pl.col("bytes") / BYTES_PER_GIB * p.cold_fraction
    saving = cold_gib * (hot - cool)
    moved = pl.col("objects").fill_null(0.0) * p.cold_fraction
    upfront = moved / 1000.0 * pl.col("price_transition_per_1000").fill_null(0.0)
    rows = inv.lazy("buckets").filter(
        (pl.col("provider") == "azure")
        & pl.col("has_lifecycle").eq(False)
        & (pl.col("storage_class") == "HOT")
        & (pl.col("bytes") > 0)
        & hot.is_not_null()
        & cool.is_not_null()
    )
    return findings(
        rows,
        detail=pl.format(
            "Storage account {} has no lifecycle management policy and holds {} GiB in the "
            "Hot tier; moving the cold share to Cool saves about {} a month.",
            pl.col("resource_name"),
            num(pl.col("bytes") / BYTES_PER_GIB),
            money(saving),
        ),
        recommendation=pl.format(
            "Add a lifecycle management policy to {}: tierToCool {} days after last "
            "modification (and delete old versions and snapshots you do not need).",
            pl.col("resource_name"),
            pl.lit(p.transition_days),
        ),
        current_monthly_cost=pl.col("bytes") / BYTES_PER_GIB * hot,
        monthly_savings=saving,
        upfront_cost=upfront,
        confidence=pl.lit(p.confidence),
        price_source=pl.lit(PriceSource.BUNDLED.value),
        evidence=evidence(
            confidence_reason="access patterns are unknown: the cold share is the "
            "cold_fraction parameter, not a measurement",
            cold_fraction=p.cold_fraction,
            hot_bytes=pl.col("bytes"),
            blobs=pl.col("objects"),
            transition_days=p.transition_days,
            prices=pl.struct(
                hot_gb_month=hot,
                cool_gb_month=cool,
                cool_write_per_1000=pl.col("price_transition_per_1000"),
            ),
            price_region=pl.col("price_region"),
            price_reference=pl.col("price_reference"),
        ),
    )
