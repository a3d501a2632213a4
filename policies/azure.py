"""Azure only: what Azure Advisor advises that costscan's own policies do not.

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

from costscan.policies._compute import evidence, findings
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.contracts.registry import policy
from costscan.scanner.contracts.vocab import Change, PriceSource

FORMULA = "monthly_savings = 0 (Advisor's savingsAmount is shown, not counted)"


@dataclass(frozen=True)
class AdvisorParams:
    # Advisor's figure is its own model of the bill; costscan shows it, and is as sure that
    # Advisor advises it as Advisor says.
    confidence: float = 1.0


def _amount(value: pl.Expr) -> pl.Expr:
    """Money as text with two decimals; Advisor's currency may not be USD."""
    cents = (value * 100).round(0).cast(pl.Int64)
    whole = cents.abs()
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.format(
        "{}{}.{}", sign, whole // 100, (whole % 100).cast(pl.String).str.pad_start(2, "0")
    )


def _advice(inv: InventoryView, p: AdvisorParams, kinds: tuple[str, ...]) -> pl.LazyFrame:
    advisor = pl.col("monthly_savings")
    rows = inv.lazy("provider_advice").filter(
        (pl.col("provider") == "azure") & pl.col("kind").is_in(list(kinds))
    )
    saving = pl.when(advisor.is_not_null()).then(
        pl.format(" Advisor estimates {} {} a month.", _amount(advisor), pl.col("currency"))
    )
    target = pl.when(pl.col("target").is_not_null()).then(pl.format(" (to {})", "target"))
    return findings(
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
        current_monthly_cost=pl.lit(None, dtype=pl.Float64),
        monthly_savings=pl.lit(0.0),
        confidence=pl.lit(p.confidence),
        price_source=pl.lit(PriceSource.NONE.value),
        evidence=evidence(
            provider_advice=pl.struct(
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
            provider_advice_monthly_savings=advisor,
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
