"""policies/aws_cost_hub.py: AWS Cost Optimization Hub's advice listed as reviews, each
kind in its family, the Hub's figure shown and never counted (issue 21).

Kinds and fields follow ListRecommendations
(https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_CostOptimizationHub_ListRecommendations.html)
as providers/aws/cost_hub.py reads them. Written against the mutants that survived
tests/scanner/test_cost_hub_cross_check.py
(``python benchmarks/mutation.py policies/aws_cost_hub.py``).
"""

from __future__ import annotations

import json
from typing import Any

from costscan.policies.aws_cost_hub import CostHubParams
from tests.policies.runner import run_policy
from tests.scanner.test_cost_hub_cross_check import ACCOUNT, aws_inventory, coverage, hub

SP = f"arn:aws:savingsplans::{ACCOUNT}:sp"
ROWS = [
    coverage("available"),
    hub("i-0abc", "stop", 61.324),
    hub("vol-0def", "delete", None, action="Delete") | {"description": None},
    hub("fn-resize", "resize", 3.5, action="Rightsize", target="1024 MB"),
    hub("i-other", "other", -2.5, action="Upgrade"),
    hub("i-0co", "resize", 34.9, recommender="aws.compute-optimizer.ec2"),
    hub("i-gcp", "stop", 1.0) | {"provider": "gcp"},
    hub(SP, "commit", 120.0, action="PurchaseSavingsPlans"),
]


def reviews(policy_id: str) -> dict[str, dict[str, Any]]:
    found = run_policy(policy_id, aws_inventory(ROWS))
    return {r["resource_id"]: r for r in found.iter_rows(named=True)}


def test_the_confidence_is_the_hubs_own() -> None:
    assert CostHubParams().confidence == 1.0


def test_the_hubs_resource_advice_is_a_review_with_its_figure_beside() -> None:
    found = reviews("rightsizing.aws-cost-optimization-hub")
    # Stop, delete, resize and other are resource advice; Compute Optimizer's row, another
    # cloud's row, the coverage row and the Savings Plan are not.
    assert set(found) == {"i-0abc", "vol-0def", "fn-resize", "i-other"}
    stop = found["i-0abc"]
    assert stop["detail"] == (
        "AWS Cost Optimization Hub advises: Stop i-0abc (it estimates 61.32 USD a month). "
        "costscan's own policies do not flag this resource for it."
    )
    assert stop["recommendation"] == (
        "Review Cost Optimization Hub's recommendation rec-0abc for i-0abc against its use; "
        "costscan counts no saving for it."
    )
    assert (stop["monthly_savings"], stop["confidence"], stop["category"]) == (
        0.0,
        1.0,
        "review",
    )
    evidence = json.loads(stop["evidence"])
    assert evidence["provider_advice_monthly_savings"] == 61.324
    assert evidence["provider_advice"] == {
        "source": "AWS Cost Optimization Hub",
        "verdict": "only_aws",
        "recommender": "aws.cost-optimization-hub",
        "recommendation": "rec-0abc",
        "action": "Stop",
        "kind": "stop",
        "target": None,
        "implementation_effort": "Low",
        "currency": "USD",
    }
    # No description: the action names it; no estimate: no figure is made up.
    assert found["vol-0def"]["detail"] == (
        "AWS Cost Optimization Hub advises: Delete. costscan's own policies do not flag this "
        "resource for it."
    )
    # A negative estimate keeps its sign.
    assert "Upgrade i-other (it estimates -2.50 USD a month)." in found["i-other"]["detail"]


def test_the_hubs_commitment_advice_is_the_commitments_familys() -> None:
    found = reviews("commitments.aws-cost-optimization-hub")
    assert set(found) == {SP}
    assert found[SP]["detail"] == (
        "AWS Cost Optimization Hub advises: PurchaseSavingsPlans sp (it estimates 120.00 USD "
        "a month). costscan's own policies do not flag this resource for it."
    )
    assert found[SP]["monthly_savings"] == 0.0


def test_no_advice_no_review() -> None:
    assert run_policy("rightsizing.aws-cost-optimization-hub", aws_inventory([])).is_empty()
    only_coverage = aws_inventory([coverage("available")])
    assert run_policy("commitments.aws-cost-optimization-hub", only_coverage).height == 0
