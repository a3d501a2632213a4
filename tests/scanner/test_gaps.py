"""What a failed collector does to the findings: withheld, marked, described."""

from __future__ import annotations

from typing import Any

import polars as pl

from costscan.scanner.app.catalog import all_policies
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import CollectorError
from costscan.scanner.pipeline import gaps

ACCOUNT = "111111111111"


def finding(policy_id: str, resource_id: str, region: str = "us-east-1") -> dict[str, Any]:
    return {
        "provider": "aws",
        "account_id": ACCOUNT,
        "region": region,
        "resource_id": resource_id,
        "resource_type": "ec2_instance",
        "finding_id": f"{policy_id}|{resource_id}|{region}",
        "policy_id": policy_id,
        "category": "savings",
        "detail": "d",
        "monthly_savings": 10.0,
    }


def frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=dict(schema.FINDINGS))


LOST_UTILIZATION = CollectorError(
    "cloudwatch.instance_utilization",
    ACCOUNT,
    "us-east-1",
    "AccessDenied",
    measures="instance utilization",
    frames=("utilization",),
    resource_types=("ec2_instance",),
    resources=("i-1",),
)


def test_policies_reading_lost_data_are_withheld_and_the_rest_marked_possible() -> None:
    findings = frame(
        finding("rightsizing.idle", "i-1"),
        finding("rightsizing.idle", "i-2"),  # its utilization arrived
        finding("rightsizing.idle", "i-1", region="eu-west-1"),  # another region
        finding("rightsizing.graviton", "i-1"),
        finding("rightsizing.graviton", "i-2"),
    )
    rules = gaps.rules_for([LOST_UTILIZATION], all_policies())
    (rule,) = rules
    assert "rightsizing.idle" in rule.policies and "rightsizing.graviton" not in rule.policies
    applied = gaps.apply(findings, rules, [LOST_UTILIZATION])
    kept = {(r["policy_id"], r["resource_id"], r["region"]): r for r in applied.findings.to_dicts()}
    assert ("rightsizing.idle", "i-1", "us-east-1") not in kept
    assert applied.withheld == 1
    assert kept[("rightsizing.idle", "i-2", "us-east-1")]["category"] == "savings"
    assert kept[("rightsizing.idle", "i-1", "eu-west-1")]["category"] == "savings"
    graviton = kept[("rightsizing.graviton", "i-1", "us-east-1")]
    assert graviton["category"] == "possible" and "could have" in graviton["detail"]
    assert kept[("rightsizing.graviton", "i-2", "us-east-1")]["category"] == "savings"
    assert applied.marked_ids == {"rightsizing.graviton|i-1|us-east-1"}
    (described,) = applied.errors
    assert described.affects.startswith("ec2_instance i-1; withheld: ")
    assert (
        "rightsizing.idle" in described.affects and "1 finding(s) not reported" in described.affects
    )


def test_a_failed_policy_hides_its_findings_everywhere_from_the_history() -> None:
    failed = CollectorError("policy:storage.gp2-to-gp3", "*", "*", "policy failed: boom")
    (rule,) = gaps.rules_for([failed], all_policies())
    previous = frame(finding("storage.gp2-to-gp3", "vol-1", "ap-south-1"), finding("x.y", "z"))
    blind = previous.select(gaps.blind([rule]).alias("b"))["b"].to_list()
    assert blind == [True, False]


def test_an_error_that_loses_no_frame_withholds_nothing() -> None:
    listing = CollectorError("cloudwatch.memory_metric_list", ACCOUNT, "us-east-1", "denied")
    assert gaps.rules_for([listing], all_policies()) == []


def test_identical_errors_from_two_threads_are_listed_once() -> None:
    assert gaps.distinct([LOST_UTILIZATION, LOST_UTILIZATION]) == [LOST_UTILIZATION]
