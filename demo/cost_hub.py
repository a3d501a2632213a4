"""Cost Optimization Hub's advice on the demo account, answered by the local layer
(demo/gaps.py) in ListRecommendations' documented shape.

Two recommendations: one on a resource costscan flags too (the over-sized Lambda function:
its ``rightsizing.lambda-memory`` finding shows the Hub's figure beside its own), and one
costscan has no finding for (a Compute Savings Plan: listed as a review, never counted).
https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_CostOptimizationHub_Recommendation.html
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from costscan.demo.gaps import MissingApis

# The Hub's estimates (its own model: not costscan's figures).
FUNCTION_SAVING: Final = 40.12
SAVINGS_PLAN_SAVING: Final = 212.4
SAVINGS_PLAN_ID: Final = "compute-savings-plan-1yr"


def advise_cost_hub(
    gaps: MissingApis, region: str, account_id: str, function: str, memory_mb: int
) -> None:
    """Answer ListRecommendations (one page) for the account."""
    arn = f"arn:aws:lambda:{region}:{account_id}:function:{function}"
    common = {
        "accountId": account_id,
        "region": region,
        "currencyCode": "USD",
        "recommendationLookbackPeriodInDays": 14,
        "source": "ComputeOptimizer",
    }
    gaps.answer(
        "cost-optimization-hub",
        "ListRecommendations",
        {
            "items": [
                {
                    **common,
                    "recommendationId": "demo-rec-lambda",
                    "resourceId": function,
                    "resourceArn": f"{arn}:$LATEST",
                    "currentResourceType": "LambdaFunction",
                    "recommendedResourceType": "LambdaFunction",
                    "actionType": "Rightsize",
                    "currentResourceSummary": f"{memory_mb} MB",
                    "recommendedResourceSummary": "512 MB",
                    "estimatedMonthlySavings": FUNCTION_SAVING,
                    "estimatedSavingsPercentage": 31.2,
                    "implementationEffort": "VeryLow",
                    "restartNeeded": False,
                    "rollbackPossible": True,
                },
                {
                    **common,
                    "region": "Global",
                    "recommendationId": "demo-rec-savings-plan",
                    "resourceId": SAVINGS_PLAN_ID,
                    "resourceArn": f"arn:aws:savingsplans::{account_id}:{SAVINGS_PLAN_ID}",
                    "currentResourceType": "ComputeSavingsPlans",
                    "recommendedResourceType": "ComputeSavingsPlans",
                    "actionType": "PurchaseSavingsPlans",
                    "recommendedResourceSummary": "$1.20/hour for 1 year, no upfront",
                    "estimatedMonthlySavings": SAVINGS_PLAN_SAVING,
                    "estimatedSavingsPercentage": 18.0,
                    "implementationEffort": "VeryLow",
                    "restartNeeded": False,
                    "rollbackPossible": False,
                },
            ]
        },
    )
