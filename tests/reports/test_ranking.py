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


# --- the counting rules of issue 10, each on a case worked out by hand -------------------


def test_removing_an_instance_excludes_converting_its_attached_volume() -> None:
    # Rule 5 across linked resources: the volume's finding names its instance as its unit.
    out = ranked(
        finding("i-1", "rightsizing.idle", "remove", 140.16, 140.16),
        finding(
            "vol-1", "storage.gp2-to-gp3", "resize", 10.0, 2.0, family="storage",
            resource_type="ebs_volume", exclusive_group="i-1",
        ),
    )  # fmt: skip
    rows = by_policy(out.findings)
    assert rows["rightsizing.idle"]["counted"]
    assert not rows["storage.gp2-to-gp3"]["counted"]
    assert rows["storage.gp2-to-gp3"]["alternative_to"] == "rightsizing.idle|i-1"
    assert out.summary["monthly_savings"] == 140.16


def test_an_sc1_volume_whose_snapshot_costs_more_than_it_saves_is_shown_never_counted() -> None:
    # 500 GiB sc1 at $0.015 = 7.50 a month; its first snapshot at $0.05 = 25.00: net -17.50.
    out = ranked(
        finding(
            "vol-sc1", "storage.unattached-volume", "remove", 7.5, 7.5, family="storage",
            added_monthly_cost=25.0,
        )
    )  # fmt: skip
    row = out.findings.row(0, named=True)
    assert row["net_monthly_savings"] == -17.5 and not row["counted"]
    assert row["priority"] == "Low" and "saves nothing net" in row["priority_reason"]
    assert out.summary["monthly_savings"] == 0.0


def test_a_saving_under_the_confidence_floor_is_possible_and_totalled_apart() -> None:
    out = ranked(finding("b-1", "storage.standard-tiering", "configure", 50.0, 10.0,
                         family="storage", confidence=0.35))  # fmt: skip
    row = out.findings.row(0, named=True)
    assert row["category"] == "possible" and not row["counted"]
    assert out.summary["possible_monthly_savings"] == 10.0
    assert out.summary["monthly_savings"] == 0.0


def test_cost_avoidance_and_waste_have_totals_of_their_own() -> None:
    out = ranked(
        finding("ri-1", "commitments.expiring", "configure", 2000.0, 1036.6,
                family="commitments", category="cost_avoidance"),
        finding("sp-1", "commitments.underused", "configure", 1825.0, 547.5,
                family="commitments", category="waste"),
        finding("i-1", "rightsizing.idle", "remove", 140.16, 140.16),
    )  # fmt: skip
    assert out.summary["monthly_savings"] == 140.16
    assert out.summary["cost_avoidance"] == 1036.6
    assert out.summary["commitment_waste"] == 547.5
    counted = out.findings.filter(pl.col("counted"))["policy_id"].to_list()
    assert counted == ["rightsizing.idle"]


def test_a_saving_is_never_above_its_figure_before_discounts_nor_its_resource_cost() -> None:
    out = ranked(
        finding("i-1", "rightsizing.overprovisioned", "resize", 100.0, 80.0,
                monthly_savings_before_discounts=60.0),
        finding("log-1", "observability.log-retention", "configure", 30.0, 20.0,
                family="observability"),
        finding("log-1", "observability.log-ingestion", "configure", 30.0, 25.0,
                family="observability", effort_hours=2.0),
    )  # fmt: skip
    rows = by_policy(out.findings)
    assert rows["rightsizing.overprovisioned"]["monthly_savings"] == 60.0
    # Two configure findings on a 30-a-month log group: 20 first (more value per hour of
    # effort), then only the 10 left of its cost.
    assert rows["observability.log-retention"]["monthly_savings"] == 20.0
    assert rows["observability.log-ingestion"]["monthly_savings"] == 10.0


def test_like_changes_fold_into_one_finding_with_one_effort() -> None:
    # 100 m5.large -> m6g.large moves at 14.02 a month and 8 h each: one change of
    # 8 × (1 + log10(100)) = 24 h for 1,402 a month, its members listed.
    rows = [
        finding(f"i-{k:03d}", "rightsizing.graviton", "resize", 70.08, 14.02,
                effort_hours=8.0, group_key="m5.large→m6g.large")
        for k in range(100)
    ]  # fmt: skip
    out = ranked(*rows)
    assert out.findings.height == 1
    group = out.findings.row(0, named=True)
    assert group["member_count"] == 100
    assert group["effort_hours"] == pytest.approx(24.0)
    assert group["monthly_savings"] == pytest.approx(1402.0)
    assert len(json.loads(group["members"])) == 100
    assert group["counted"] and out.summary["monthly_savings"] == pytest.approx(1402.0)


def test_the_order_follows_net_value_per_hour_of_effort_at_risk() -> None:
    # The pair: an idle Elastic IP ($3.65, 0.25 h, low risk: 14.60 per hour of
    # effort) and an io1 -> gp3 change ($618, 1 h, medium risk: 463.50 per hour).
    out = ranked(
        finding("eip-1", "network.idle-elastic-ip", "remove", 3.65, 3.65, family="network",
                effort_hours=0.25),
        finding("vol-io1", "storage.io1-to-gp3", "resize", 700.0, 618.0, family="storage",
                risk="medium"),
    )  # fmt: skip
    rows = by_policy(out.findings)
    io1, eip = rows["storage.io1-to-gp3"], rows["network.idle-elastic-ip"]
    assert io1["rank"] == 1 and io1["priority"] == "High"
    assert io1["value_per_effort_hour"] == pytest.approx(618.0 * 0.75)
    assert eip["value_per_effort_hour"] == pytest.approx(14.6)
    # 25 of effort / 3.65 a month: paid back in 6.85 months, so Medium.
    assert eip["priority"] == "Medium" and eip["rank"] == 2
    assert io1["priority_reason"].startswith("High: $618.00/month net for 1.0 h")


def test_investments_are_ranked_by_performance_gained_per_added_dollar() -> None:
    out = ranked(
        finding("i-a", "rightsizing.underprovisioned", "bottleneck", 70.0, 0.0,
                added_monthly_cost=70.0, performance_gain=0.5),
        finding("i-b", "rightsizing.underprovisioned", "bottleneck", 140.0, 0.0,
                added_monthly_cost=35.0, performance_gain=0.5),
    )  # fmt: skip
    order = out.bottlenecks["resource_id"].to_list()
    assert order == ["i-b", "i-a"]  # 0.5 / 35 beats 0.5 / 70
    assert out.summary["investments_monthly_cost"] == 105.0
    assert out.summary["monthly_savings"] == 0.0
