"""AWS only: what AWS Cost Optimization Hub advises that costscan's own policies do not.

The AWS provider reads the Hub's recommendations into the ``provider_advice`` frame
(recommender ``aws.cost-optimization-hub``; providers/aws/cost_hub.py). Each policy here
lists that advice for one family as a ``review`` finding: money to look into, no saving
claimed (the Hub's figure is its own estimate, from its lookback and the account's
discount preference, not costscan's). The cross-check after the policies
(``scanner/pipeline/provider_advice.py``) then drops the advice a comparable costscan
finding on the same resource answers, and puts the Hub's figure beside costscan's on that
finding, so a disagreement in either direction is listed, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

from costscan.policies._compute import advice_review, amount_text
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.contracts.registry import policy
from costscan.scanner.contracts.vocab import Change

RECOMMENDER: Final = "aws.cost-optimization-hub"
SOURCE: Final = "AWS Cost Optimization Hub"
FORMULA: Final = "monthly_savings = 0 (Cost Optimization Hub's estimate is shown, not counted)"
DOCS: Final = (
    "https://docs.aws.amazon.com/cost-management/latest/userguide/cost-optimization-hub.html"
)


@dataclass(frozen=True)
class CostHubParams:
    # As sure that AWS advises it as AWS says; the figure itself is AWS's, not counted.
    confidence: float = 1.0


def _advice(inv: InventoryView, p: CostHubParams, kinds: tuple[str, ...]) -> pl.LazyFrame:
    aws = pl.col("monthly_savings")
    # The Hub's recommendations only: its coverage rows and Compute Optimizer's rows share
    # the frame.
    rows = inv.lazy("provider_advice").filter(
        (pl.col("provider") == "aws")
        & (pl.col("recommender") == RECOMMENDER)
        & pl.col("kind").is_in(list(kinds))
    )
    return advice_review(
        rows,
        detail=pl.concat_str(
            [
                pl.lit(f"{SOURCE} advises: "),
                pl.col("description").fill_null(pl.col("subtype")),
                pl.when(aws.is_not_null())
                .then(
                    pl.format(" (it estimates {} {} a month)", amount_text(aws), pl.col("currency"))
                )
                .otherwise(pl.lit("")),
                pl.lit(". costscan's own policies do not flag this resource for it."),
            ]
        ),
        recommendation=pl.format(
            "Review Cost Optimization Hub's recommendation {} for {} against its use; "
            "costscan counts no saving for it.",
            pl.col("recommendation"),
            pl.col("resource_name"),
        ),
        confidence=p.confidence,
        advice=pl.struct(
            source=pl.lit(SOURCE),
            verdict=pl.lit("only_aws"),
            recommender=pl.col("recommender"),
            recommendation=pl.col("recommendation"),
            action=pl.col("subtype"),
            kind=pl.col("kind"),
            target=pl.col("target"),
            implementation_effort=pl.col("priority"),
            currency=pl.col("currency"),
        ),
    )


@policy(
    id="rightsizing.aws-cost-optimization-hub",
    family="rightsizing",
    action="investigate",
    title="AWS Cost Optimization Hub advises a change costscan does not",
    needs=("provider_advice",),
    effort_hours=0.5,
    risk="low",
    performance="neutral",
    change=Change.INVESTIGATE,
    formula=FORMULA,
)
def cost_hub_resource_advice(inv: InventoryView, p: CostHubParams) -> pl.LazyFrame:
    """Resources Cost Optimization Hub advises resizing, stopping, upgrading, moving to
    Graviton or deleting, and no comparable costscan finding flags.

    monthly_savings = 0 (a review); the Hub's ``estimatedMonthlySavings`` is in the
    evidence (``provider_advice_monthly_savings``), in its ``currencyCode``.

    Source: AWS Cost Optimization Hub ListRecommendations
    (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_CostOptimizationHub_ListRecommendations.html).
    """
    return _advice(inv, p, ("resize", "stop", "delete", "other"))


@policy(
    id="commitments.aws-cost-optimization-hub",
    family="commitments",
    action="investigate",
    title="AWS Cost Optimization Hub advises buying a Savings Plan or reservation",
    needs=("provider_advice",),
    effort_hours=0.5,
    risk="low",
    performance="neutral",
    change=Change.INVESTIGATE,
    formula=FORMULA,
)
def cost_hub_commitment_advice(inv: InventoryView, p: CostHubParams) -> pl.LazyFrame:
    """Savings Plans and reservations Cost Optimization Hub advises buying (listed for
    review: costscan's own commitment policies size purchases from this run's usage).

    monthly_savings = 0 (a review); the Hub's ``estimatedMonthlySavings`` is in the
    evidence.

    Source: AWS Cost Optimization Hub (PurchaseSavingsPlans, PurchaseReservedInstances;
    https://docs.aws.amazon.com/cost-management/latest/userguide/cost-optimization-hub.html).
    """
    return _advice(inv, p, ("commit",))
