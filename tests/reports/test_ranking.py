from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest

from costscan.reports.ranking import Ranked, rank
from costscan.scanner.contracts import schema

RATE = 100.0


def finding(
    resource: str, policy: str, action: str, current: float, savings: float, **kw: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "provider": "aws",
        "account_id": "111122223333",
        "region": "us-east-1",
        "resource_id": resource,
        "resource_name": resource,
        "resource_type": "ec2_instance",
        "finding_id": f"{policy}|{resource}",
        "policy_id": policy,
        "family": kw.pop("family", "rightsizing"),
        "action": action,
        "title": policy,
        "detail": "",
        "recommendation": "",
        "current_monthly_cost": current,
        "monthly_savings": savings,
        "added_monthly_cost": 0.0,
        "upfront_cost": 0.0,
        "effort_hours": 1.0,
        "risk": "low",
        "performance": "neutral",
        "confidence": 0.9,
        "price_source": "bundled",
        "evidence": json.dumps({}),
    }
    row.update(kw)
    return row


def ranked(*rows: dict[str, Any], min_savings: float = 0.0) -> Ranked:
    frame = pl.DataFrame(list(rows), schema=dict(schema.FINDINGS))
    return rank(frame, hourly_rate=RATE, min_savings=min_savings)


def by_policy(df: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {r["policy_id"]: r for r in df.to_dicts()}


def test_unattached_gp2_volume_counts_once_with_gp3_as_alternative() -> None:
    out = ranked(
        finding("vol-1", "storage.unattached", "remove", 10.0, 10.0, family="storage"),
        finding("vol-1", "storage.gp2-to-gp3", "resize", 10.0, 2.0, family="storage"),
    )
    rows = by_policy(out.findings)
    assert rows["storage.unattached"]["counted"] is True
    assert rows["storage.gp2-to-gp3"]["counted"] is False
    assert rows["storage.gp2-to-gp3"]["alternative_to"] == "storage.unattached|vol-1"
    assert out.summary["monthly_savings"] == 10.0
    assert out.summary["counted_findings"] == 1 and out.summary["findings"] == 2


def test_same_action_alternatives_keep_the_best_net_saving() -> None:
    out = ranked(
        finding("i-1", "rightsizing.graviton", "resize", 140.16, 28.47),
        finding("i-1", "rightsizing.overprovisioned", "resize", 140.16, 70.08),
    )
    rows = by_policy(out.findings)
    assert rows["rightsizing.overprovisioned"]["counted"]
    assert rows["rightsizing.graviton"]["alternative_to"] == "rightsizing.overprovisioned|i-1"
    assert out.summary["monthly_savings"] == 70.08


def test_commit_stacks_on_the_price_left_after_rightsizing() -> None:
    out = ranked(
        finding("i-1", "rightsizing.overprovisioned", "resize", 100.0, 50.0),
        finding(
            "i-1", "commitments.compute-commitment", "commit", 100.0, 35.0, family="commitments"
        ),
    )
    rows = by_policy(out.findings)
    commit = rows["commitments.compute-commitment"]
    assert commit["counted"]
    assert commit["standalone_monthly_savings"] == 35.0
    assert commit["monthly_savings"] == pytest.approx(35.0 * (1 - 0.5))
    assert out.summary["monthly_savings"] == pytest.approx(50.0 + 17.5)


def test_schedule_stacks_after_resize_and_excludes_commitment() -> None:
    off_share = 108 * 52 / 12 / 730
    out = ranked(
        finding("i-1", "rightsizing.overprovisioned", "resize", 100.0, 40.0),
        finding(
            "i-1", "scheduling.offhours", "schedule", 100.0, 100.0 * off_share, family="scheduling"
        ),
        finding(
            "i-1", "commitments.compute-commitment", "commit", 100.0, 35.0, family="commitments"
        ),
    )
    rows = by_policy(out.findings)
    assert rows["scheduling.offhours"]["monthly_savings"] == round(
        60.0 * off_share * 100.0 / 100, 2
    )
    assert rows["commitments.compute-commitment"]["counted"] is False
    assert rows["commitments.compute-commitment"]["alternative_to"] == "scheduling.offhours|i-1"
    expected = round(40.0, 2) + round(60.0 * off_share, 2)
    assert out.summary["monthly_savings"] == pytest.approx(expected)


def test_removal_excludes_everything_else_on_the_resource() -> None:
    out = ranked(
        finding("i-1", "rightsizing.idle", "remove", 100.0, 100.0),
        finding("i-1", "scheduling.offhours", "schedule", 100.0, 60.0, family="scheduling"),
        finding("i-2", "scheduling.offhours", "schedule", 50.0, 30.0, family="scheduling"),
    )
    counted = out.findings.filter(pl.col("counted"))
    assert sorted(counted["finding_id"].to_list()) == [
        "rightsizing.idle|i-1",
        "scheduling.offhours|i-2",
    ]
    assert out.summary["monthly_savings"] == 130.0


def test_configure_findings_on_one_resource_all_count() -> None:
    out = ranked(
        finding(
            "lg-1", "observability.log-retention", "configure", 50.0, 20.0, family="observability"
        ),
        finding(
            "lg-1", "observability.log-ingestion", "configure", 50.0, 10.0, family="observability"
        ),
    )
    assert out.findings["counted"].to_list() == [True, True]
    assert out.summary["monthly_savings"] == 30.0
    assert out.summary["by_family"]["observability"] == {"findings": 2, "monthly_savings": 30.0}
    assert set(out.summary["by_family"]) == set(schema.FAMILIES)


def test_roi_payback_and_totals_follow_the_formulas() -> None:
    out = ranked(
        finding(
            "i-1", "rightsizing.idle", "remove", 70.08, 70.08, effort_hours=2.0, upfront_cost=50.0
        )
    )
    row = out.findings.to_dicts()[0]
    implementation = 2.0 * RATE + 50.0
    assert row["implementation_cost"] == implementation
    assert row["net_monthly_savings"] == 70.08
    assert row["payback_months"] == round(implementation / 70.08, 2)
    assert row["roi_12m"] == round((12 * 70.08 - implementation) / implementation, 2)
    assert out.summary["annual_savings"] == round(70.08 * 12, 2)


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"monthly_savings": 0.0}, "Low"),
        # A CDN that makes pages faster and costs $500/month more still ranks High.
        (
            {
                "monthly_savings": 2000.0,
                "added_monthly_cost": 500.0,
                "performance": "improves",
                "effort_hours": 16.0,
                "risk": "medium",
            },
            "High",
        ),
        # A sharding project adding $2,000/month that pays back within the year is Medium.
        (
            {
                "monthly_savings": 6000.0,
                "added_monthly_cost": 2000.0,
                "effort_hours": 320.0,
                "risk": "medium",
            },
            "Medium",
        ),
        # $20/month for half an hour: $40 per effort hour, under the High line of $50.
        ({"monthly_savings": 20.0, "effort_hours": 0.5}, "Medium"),
        # High risk halves the value: 200 × 0.5 / 2 h = $50 per hour, paid back in a month.
        ({"monthly_savings": 200.0, "risk": "high", "effort_hours": 2.0}, "High"),
        ({"monthly_savings": 5.0, "risk": "high", "effort_hours": 40.0}, "Low"),
        ({"monthly_savings": 10.0, "risk": "medium", "effort_hours": 40.0}, "Low"),
    ],
)
def test_priority_rule_table(kw: dict[str, Any], expected: str) -> None:
    savings = kw.pop("monthly_savings")
    out = ranked(
        finding("r-1", "network.cdn", "configure", 10000.0, savings, family="network", **kw)
    )
    assert out.findings["priority"].to_list() == [expected]


def test_bottlenecks_never_count_toward_savings() -> None:
    out = ranked(
        finding(
            "i-9",
            "rightsizing.underprovisioned",
            "bottleneck",
            70.08,
            0.0,
            added_monthly_cost=70.08,
        ),
        finding("i-1", "rightsizing.idle", "remove", 10.0, 10.0),
    )
    assert out.bottlenecks.height == 1 and out.findings.height == 1
    assert out.summary["monthly_savings"] == 10.0
    assert out.summary["bottleneck_monthly_cost"] == 70.08
    assert out.bottlenecks["counted"].to_list() == [False]


def test_min_savings_hides_small_findings_and_says_how_many() -> None:
    out = ranked(
        finding("i-1", "rightsizing.idle", "remove", 10.0, 10.0),
        finding("i-2", "rightsizing.idle", "remove", 2.0, 2.0),
        min_savings=5.0,
    )
    assert out.findings["resource_id"].to_list() == ["i-1"]
    assert out.summary["hidden_below_min_savings"] == 1
    assert out.summary["monthly_savings"] == 10.0


def test_empty_findings_rank_to_empty_frames_with_the_ranked_schema() -> None:
    out = rank(schema.empty(schema.FINDINGS), hourly_rate=RATE)
    assert out.findings.schema == pl.Schema(schema.RANKED)
    assert out.findings.height == 0 and out.summary["monthly_savings"] == 0.0


def test_summary_equals_sum_of_counted_net_savings() -> None:
    rows = [
        finding(f"i-{n}", "rightsizing.overprovisioned", "resize", 100.0, 33.333 + n)
        for n in range(50)
    ]
    rows += [finding(f"i-{n}", "rightsizing.graviton", "resize", 100.0, 10.0) for n in range(50)]
    out = ranked(*rows)
    counted_sum = out.findings.filter(pl.col("counted"))["net_monthly_savings"].sum()
    assert out.summary["monthly_savings"] == round(counted_sum, 2)
    assert out.findings["rank"].to_list() == list(range(1, 101))


def test_resize_on_a_bottlenecked_resource_is_an_alternative_to_the_fix() -> None:
    out = ranked(
        finding(
            "i-9",
            "rightsizing.underprovisioned",
            "bottleneck",
            62.05,
            0.0,
            added_monthly_cost=62.05,
        ),
        finding("i-9", "rightsizing.graviton", "resize", 62.05, 12.41),
        finding(
            "i-9", "commitments.compute-commitment", "commit", 62.05, 17.37, family="commitments"
        ),
    )
    rows = by_policy(out.findings)
    assert rows["rightsizing.graviton"]["counted"] is False
    assert rows["rightsizing.graviton"]["alternative_to"] == "rightsizing.underprovisioned|i-9"
    assert rows["commitments.compute-commitment"]["counted"] is True
    assert out.summary["monthly_savings"] == 17.37


def test_investigate_findings_are_ranked_but_never_counted() -> None:
    out = ranked(
        finding(
            "svc-1",
            "observability.cost-anomaly",
            "investigate",
            900.0,
            400.0,
            family="observability",
        ),
        finding("i-1", "rightsizing.idle", "remove", 10.0, 10.0),
    )
    rows = by_policy(out.findings)
    assert rows["observability.cost-anomaly"]["counted"] is False
    assert rows["observability.cost-anomaly"]["alternative_to"] is None
    assert out.summary["monthly_savings"] == 10.0
    assert out.findings["policy_id"].to_list() == ["rightsizing.idle", "observability.cost-anomaly"]


def test_billing_arn_and_scanned_id_are_one_resource() -> None:
    out = ranked(
        finding(
            "i-0abc", "commitments.compute-commitment", "commit", 70.08, 19.62, family="commitments"
        ),
        finding(
            "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc",
            "commitments.on-demand-billing",
            "commit",
            70.08,
            19.0,
            family="commitments",
            provider="AWS",
        ),
    )
    assert out.summary["counted_findings"] == 1
    assert out.summary["monthly_savings"] == 19.62
