"""AWS Cost Optimization Hub beside costscan's findings (scanner/pipeline/provider_advice.py
and policies/aws_cost_hub.py), on hand-built findings and advice with hand-worked figures."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import CollectorError
from costscan.scanner.contracts.inventory import Inventory, RunContext
from costscan.scanner.pipeline import provider_advice
from tests.policies.runner import run_policy
from tests.scanner.test_provider_advice import NOW, evidence_of, finding, findings_frame

ACCOUNT = "111122223333"
HUB = "aws.cost-optimization-hub"
FUNCTION = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:resize-images"


def hub(resource_id: str, kind: str, monthly: float | None, *, action: str = "Stop",
        recommender: str = HUB, target: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "provider": "aws",
        "account_id": ACCOUNT,
        "region": "eu-west-1",
        "resource_id": resource_id,
        "resource_name": resource_id.rsplit(":", 1)[-1],
        "resource_type": "Ec2Instance",
        "recommender": recommender,
        "recommendation": f"rec-{resource_id[-4:]}",
        "subtype": action,
        "kind": kind,
        "description": f"{action} {resource_id.rsplit(':', 1)[-1]}",
        "monthly_savings": monthly,
        "currency": "USD",
        "target": target,
        "priority": "Low",
        "refreshed": NOW,
    }


def coverage(state: str, reason: str | None = None) -> dict[str, Any]:
    return {
        "provider": "aws",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "resource_id": ACCOUNT,
        "resource_type": "account",
        "recommender": HUB,
        "kind": "coverage",
        "state": state,
        "description": reason,
    }


def aws_inventory(rows: list[dict[str, Any]]) -> Inventory:
    inv = Inventory(provider="aws", context=RunContext(now=NOW), accounts=[ACCOUNT])
    if rows:
        inv.add("provider_advice", advice_frame(rows))
    return inv


def advice_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    full = [{c: r.get(c) for c in schema.PROVIDER_ADVICE} for r in rows]
    return pl.DataFrame(full, schema=dict(schema.PROVIDER_ADVICE))


def ours(policy_id: str, resource_id: str, saving: float) -> dict[str, Any]:
    return finding(policy_id, resource_id, account=ACCOUNT, provider="aws", saving=saving)


def test_the_hubs_figure_stands_beside_ours_and_its_other_advice_is_a_review() -> None:
    rows = [
        coverage("available"),
        hub("i-0abc", "stop", 61.32),
        hub("vol-0def", "delete", 8.0, action="Delete"),
        hub(FUNCTION, "resize", 3.5, action="Rightsize", target="1024 MB"),
        # Compute Optimizer's advice on the same function is reconciled by the demand
        # policy, not here: it neither answers nor is answered.
        hub(FUNCTION, "resize", 34.9, recommender="aws.compute-optimizer.lambda"),
        hub(f"arn:aws:savingsplans::{ACCOUNT}:sp", "commit", 120.0, action="PurchaseSavingsPlans"),
    ]
    inv = aws_inventory(rows)
    reviews = pl.concat(
        [
            run_policy("rightsizing.aws-cost-optimization-hub", inv),
            run_policy("commitments.aws-cost-optimization-hub", inv),
        ]
    )
    # The Hub's three resource recommendations and its Savings Plan, none counted; neither
    # the coverage row nor Compute Optimizer's row is listed.
    assert sorted(reviews["resource_id"]) == sorted(
        ["i-0abc", "vol-0def", FUNCTION, f"arn:aws:savingsplans::{ACCOUNT}:sp"]
    )
    assert set(reviews["category"]) == {"review"}
    assert reviews["monthly_savings"].sum() == 0.0
    mine = findings_frame(
        [
            ours("rightsizing.idle", "i-0abc", 55.10),
            ours("rightsizing.lambda-memory", FUNCTION, 3.5),
        ]
    )
    out = provider_advice.cross_check(pl.concat([mine, reviews], how="vertical"), inv)
    # The instance and the function are answered by costscan's findings (folded into
    # them); the volume and the Savings Plan are the Hub's alone.
    assert sorted(zip(out["policy_id"], out["resource_id"], strict=True)) == [
        ("commitments.aws-cost-optimization-hub", f"arn:aws:savingsplans::{ACCOUNT}:sp"),
        ("rightsizing.aws-cost-optimization-hub", "vol-0def"),
        ("rightsizing.idle", "i-0abc"),
        ("rightsizing.lambda-memory", FUNCTION),
    ]
    idle = evidence_of(out, "rightsizing.idle", "i-0abc")
    assert idle["provider_advice"]["source"] == "AWS Cost Optimization Hub"
    assert idle["provider_advice"]["verdict"] == "agrees"
    assert idle["provider_advice_monthly_savings"] == 61.32
    detail = out.filter(pl.col("resource_id") == "i-0abc")["detail"][0]
    # 61.32 against costscan's 55.10: 6.22 apart, so the line says why.
    assert detail.startswith(
        "Flagged. AWS Cost Optimization Hub agrees (it projects 61.32 USD a month; the Hub "
        "estimates from its own lookback"
    )
    fn = evidence_of(out, "rightsizing.lambda-memory", FUNCTION)
    # The Hub's 3.50, not Compute Optimizer's 34.90; same figure as ours, so no reason line.
    assert (fn["provider_advice"]["verdict"], fn["provider_advice_monthly_savings"]) == (
        "agrees",
        3.5,
    )
    assert out.filter(pl.col("resource_id") == FUNCTION)["detail"][0] == (
        "Flagged. AWS Cost Optimization Hub agrees (it projects 3.50 USD a month)."
    )
    # Nothing that counts changes: 55.10 + 3.50, the reviews at zero.
    assert out["monthly_savings"].sum() == pytest.approx(58.6)


def test_an_account_not_enrolled_is_unavailable_with_the_reason() -> None:
    inv = aws_inventory([coverage("unavailable", "not enrolled in Cost Optimization Hub")])
    out = provider_advice.cross_check(
        findings_frame([ours("rightsizing.idle", "i-0abc", 55.10)]), inv
    )
    ev = evidence_of(out, "rightsizing.idle", "i-0abc")
    assert ev["provider_advice"]["verdict"] == "unavailable"
    assert out["detail"][0] == (
        "Flagged. AWS Cost Optimization Hub's advice is unavailable for this account: "
        "not enrolled in Cost Optimization Hub."
    )


def test_a_failed_read_is_unavailable_and_an_enrolled_account_without_advice_is_silent() -> None:
    failed = aws_inventory([])
    failed.errors.append(
        CollectorError("costoptimizationhub.recommendations", ACCOUNT, "us-east-1", "500")
    )
    out = provider_advice.cross_check(
        findings_frame([ours("storage.unattached-volume", "vol-1", 4.0)]), failed
    )
    assert out["detail"][0].endswith(
        "AWS Cost Optimization Hub's advice could not be read for this account."
    )
    silent = provider_advice.cross_check(
        findings_frame([ours("storage.unattached-volume", "vol-1", 4.0)]),
        aws_inventory([coverage("available")]),
    )
    assert json.loads(silent["evidence"][0])["provider_advice"]["verdict"] == "silent"


def test_a_run_that_never_asked_the_hub_claims_nothing() -> None:
    before = findings_frame([ours("rightsizing.idle", "i-0abc", 55.10)])
    assert provider_advice.cross_check(before, aws_inventory([])).equals(before)
