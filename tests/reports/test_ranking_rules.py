"""The ranking's rules and formulas pinned at their boundaries (issue 21).

Each case is worked by hand in its comment, at an engineer rate of $100 an hour, and names
the rule or the formula it pins (reports/ranking.py's module docstring numbers the rules).
They were written against the mutants that survived tests/reports/test_ranking.py
(``python benchmarks/mutation.py reports/ranking.py``): a comparison flipped, a sign
swapped, a threshold moved, a condition negated, each had no test that failed.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import polars as pl
import pytest

from costscan.reports.ranking import effort_of_group, rank, summarize
from costscan.scanner.contracts import schema
from tests.reports.test_ranking import RATE, by_policy, finding, ranked


def one(**kw: Any) -> dict[str, Any]:
    """The one finding ranked from a single row (a $10,000 resource: no cap applies)."""
    current = kw.pop("current", 10000.0)
    savings = kw.pop("savings")
    action = kw.pop("action", "configure")
    out = ranked(finding("r-1", "network.cdn", action, current, savings, family="network", **kw))
    rows = out.findings.to_dicts()
    assert len(rows) == 1
    return rows[0]


# --- the formulas: net, implementation cost, payback, ROI, value per effort hour ---------


def test_net_saving_subtracts_what_the_change_adds() -> None:
    # 100 saved, 30 added: net 70. Implementation 1 h × 100 = 100; payback 100 / 70 = 1.43
    # months; ROI (12 × 70 − 100) / 100 = 7.4; value 70 × 1 (low risk) / 1 h = 70.
    out = ranked(
        finding("i-1", "rightsizing.graviton", "resize", 200.0, 100.0, added_monthly_cost=30.0)
    )
    row = out.findings.row(0, named=True)
    assert row["net_monthly_savings"] == 70.0
    assert row["implementation_cost"] == 100.0
    assert row["payback_months"] == 1.43
    assert row["roi_12m"] == 7.4
    assert row["value_per_effort_hour"] == 70.0
    assert row["priority_reason"] == (
        "High: $70.00/month net for 1.0 h of work at low risk ($70.00 per hour of effort),"
        " pays back in 1.4 months"
    )
    assert out.summary["monthly_savings"] == 70.0
    assert out.summary["annual_savings"] == 840.0
    # The figure before discounts is the gross one, capped like the saving.
    assert out.summary["monthly_savings_before_discounts"] == 100.0


def test_implementation_cost_adds_the_upfront_cost_to_the_hours() -> None:
    # 3 h × 100 + 40 upfront = 340; payback 340 / 85 = 4.0; ROI (1020 − 340) / 340 = 2.0.
    row = one(savings=85.0, effort_hours=3.0, upfront_cost=40.0)
    assert row["implementation_cost"] == 340.0
    assert row["payback_months"] == 4.0
    assert row["roi_12m"] == 2.0


def test_zero_net_has_no_payback_and_loses_its_whole_implementation_cost() -> None:
    # Net 0: payback is null (never inf), ROI (0 − 100) / 100 = −1, and it is not counted.
    row = one(savings=10.0, added_monthly_cost=10.0)
    assert row["net_monthly_savings"] == 0.0
    assert row["payback_months"] is None
    assert row["roi_12m"] == -1.0
    assert row["counted"] is False
    assert row["priority_reason"] == "Low: not counted: it saves nothing net of what it adds"


def test_no_implementation_cost_has_no_roi_and_no_effort_is_a_quarter_hour() -> None:
    # 0 h and nothing upfront: ROI null (no division by zero), payback 0 / 10 = 0 months;
    # the value per hour divides by the quarter-hour floor: 10 / 0.25 = 40.
    row = one(savings=10.0, effort_hours=0.0)
    assert row["implementation_cost"] == 0.0
    assert row["roi_12m"] is None
    assert row["payback_months"] == 0.0
    assert row["value_per_effort_hour"] == 40.0


def test_value_per_hour_above_the_quarter_hour_floor_uses_the_hours() -> None:
    # 0.5 h: 10 / 0.5 = 20 (the floor does not raise it).
    assert one(savings=10.0, effort_hours=0.5)["value_per_effort_hour"] == 20.0


@pytest.mark.parametrize(("risk", "value"), [("low", 80.0), ("medium", 60.0), ("high", 40.0)])
def test_risk_weights_the_value_per_hour(risk: str, value: float) -> None:
    # 80 a month for 1 h: × 1 (low), × 0.75 (medium), × 0.5 (high).
    assert one(savings=80.0, risk=risk)["value_per_effort_hour"] == value


def test_money_in_reasons_has_thousands_separators_and_cents() -> None:
    # 1,234.5 a month: "$1,234.50"; 1,234,567.8 a month: "$1,234,567.80".
    assert one(savings=1234.5)["priority_reason"].startswith("High: $1,234.50/month net")
    big = one(savings=1234567.8, current=2_000_000.0)
    assert big["priority_reason"].startswith("High: $1,234,567.80/month net")
    # Cents under ten keep their zero: 5.05 -> "$5.05" (Low: 5.05 an hour, 19.8 months).
    assert one(savings=5.05)["priority_reason"].startswith("Low: $5.05/month net")


# --- rule 11: priority at each threshold --------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        # Value exactly 50 and payback exactly (100 + 50) / 50 = 3: both High lines met.
        ({"savings": 50.0, "upfront_cost": 50.0}, "High"),
        # Value 49.99 (just under 50), payback 100 / 49.99 = 2.0: Medium.
        ({"savings": 49.99}, "Medium"),
        # Value 50, payback (100 + 50.5) / 50 = 3.01 (just over 3): Medium.
        ({"savings": 50.0, "upfront_cost": 50.5}, "Medium"),
        # Value 100 but payback (100 + 250) / 100 = 3.5: High needs both, so Medium.
        ({"savings": 100.0, "upfront_cost": 250.0}, "Medium"),
        # Value exactly 10, payback (100 + 100) / 10 = 20: Medium on the value alone.
        ({"savings": 10.0, "upfront_cost": 100.0}, "Medium"),
        # Value 9.99 (just under 10), payback 200 / 9.99 = 20.02: Low.
        ({"savings": 9.99, "upfront_cost": 100.0}, "Low"),
        # Value 10 × 0.5 (high risk) = 5, payback (100 + 20) / 10 = 12 exactly: Medium on
        # the payback alone.
        ({"savings": 10.0, "risk": "high", "upfront_cost": 20.0}, "Medium"),
        # Value 5, payback (100 + 20.1) / 10 = 12.01 (just over 12): Low.
        ({"savings": 10.0, "risk": "high", "upfront_cost": 20.1}, "Low"),
    ],
)
def test_priority_at_each_threshold(kw: dict[str, Any], expected: str) -> None:
    row = one(**kw)
    assert row["priority"] == expected
    assert row["priority_reason"].startswith(f"{expected}: $")


def test_the_reason_states_hours_risk_value_and_payback() -> None:
    # 200 a month for 2 h at medium risk: 200 × 0.75 / 2 = 75 an hour; payback 200 / 200 = 1.
    row = one(savings=200.0, effort_hours=2.0, risk="medium")
    assert row["priority_reason"] == (
        "High: $200.00/month net for 2.0 h of work at medium risk ($75.00 per hour of effort),"
        " pays back in 1.0 months"
    )


# --- rule 10: the order ------------------------------------------------------------------


def test_order_is_counted_first_then_value_per_hour_then_net_then_id() -> None:
    # a: 20 / 1 h = 20 an hour, net 20.   b: 40 / 2 h = 20 an hour, net 40 (ties a's value,
    # more net: before a).   c: 90 / 1 h = 90 an hour (first).   d: 1,000 at confidence 0.1
    # (possible, not counted: last, whatever its value).   e: like a, id after a.
    out = ranked(
        finding("i-a", "p.a", "remove", 100.0, 20.0),
        finding("i-d", "p.d", "remove", 5000.0, 1000.0, confidence=0.1),
        finding("i-e", "p.e", "remove", 100.0, 20.0),
        finding("i-b", "p.b", "remove", 100.0, 40.0, effort_hours=2.0),
        finding("i-c", "p.c", "remove", 100.0, 90.0),
    )
    assert out.findings["policy_id"].to_list() == ["p.c", "p.b", "p.a", "p.e", "p.d"]
    assert out.findings["rank"].to_list() == [1, 2, 3, 4, 5]
    assert out.findings["priority"].to_list() == ["High", "Medium", "Medium", "Medium", "Low"]
    assert out.summary["monthly_savings"] == 170.0
    assert out.summary["possible_monthly_savings"] == 1000.0


# --- min_savings ---------------------------------------------------------------------


def test_by_default_nothing_is_hidden_not_even_a_net_loss() -> None:
    # min_savings 0 hides nothing: a finding that adds more than it saves is still shown.
    out = ranked(
        finding("i-1", "rightsizing.idle", "remove", 10.0, 10.0),
        finding("vol-1", "storage.unattached", "remove", 7.5, 7.5, added_monthly_cost=25.0),
    )
    assert out.findings.height == 2
    assert out.summary["hidden_below_min_savings"] == 0
    assert out.findings.filter(pl.col("policy_id") == "storage.unattached")[
        "net_monthly_savings"
    ].to_list() == [-17.5]


def test_min_savings_keeps_a_net_equal_to_it_and_renumbers_the_ranks() -> None:
    # min 10: net 10 stays (at the line), 9.99 goes; the two left are ranked 1 and 2.
    out = ranked(
        finding("i-1", "rightsizing.idle", "remove", 50.0, 50.0),
        finding("i-2", "rightsizing.idle", "remove", 9.99, 9.99),
        finding("i-3", "rightsizing.idle", "remove", 10.0, 10.0),
        min_savings=10.0,
    )
    assert out.findings["resource_id"].to_list() == ["i-1", "i-3"]
    assert out.findings["rank"].to_list() == [1, 2]
    assert out.summary["hidden_below_min_savings"] == 1
    assert out.summary["min_savings"] == 10.0
    assert out.summary["monthly_savings"] == 60.0


# --- rules 1, 3 and 8 at their edges -----------------------------------------------------


def test_a_saving_above_the_resource_cost_is_capped_at_it() -> None:
    # 120 claimed on a 100-a-month resource: 100 counts, before discounts too.
    out = ranked(finding("i-1", "rightsizing.idle", "remove", 100.0, 120.0))
    row = out.findings.row(0, named=True)
    assert row["monthly_savings"] == 100.0
    assert row["monthly_savings_before_discounts"] == 100.0
    assert out.summary["monthly_savings"] == 100.0


def test_an_unknown_or_zero_resource_cost_caps_nothing() -> None:
    # No cost to cap by (null or 0, e.g. a billing-only finding): the saving stands.
    out = ranked(
        finding("i-1", "rightsizing.idle", "remove", 0.0, 12.0),
        finding("i-2", "rightsizing.idle", "remove", 0.0, 8.0, current_monthly_cost=None),
    )
    assert sorted(out.findings["monthly_savings"].to_list()) == [8.0, 12.0]
    assert out.summary["monthly_savings"] == 20.0


def test_a_negative_saving_is_clipped_to_zero() -> None:
    row = one(savings=-5.0)
    assert row["monthly_savings"] == 0.0 and row["counted"] is False


def test_confidence_exactly_at_the_floor_counts_and_just_under_is_possible() -> None:
    out = ranked(
        finding("i-1", "rightsizing.idle", "remove", 10.0, 10.0, confidence=0.5),
        finding("i-2", "rightsizing.idle", "remove", 20.0, 20.0, confidence=0.49),
        finding("i-3", "rightsizing.idle", "remove", 40.0, 40.0, confidence=None),
    )
    rows = {r["resource_id"]: r for r in out.findings.to_dicts()}
    assert rows["i-1"]["category"] == "savings" and rows["i-1"]["counted"]
    assert rows["i-2"]["category"] == "possible" and not rows["i-2"]["counted"]
    # No confidence at all is no confidence: possible.
    assert rows["i-3"]["category"] == "possible"
    assert rows["i-2"]["priority_reason"] == (
        "Low: not counted: possible, confidence 0.49 is under the floor"
    )
    assert out.summary["possible_monthly_savings"] == 60.0
    assert out.summary["monthly_savings"] == 10.0
    assert out.summary["confidence_floor"] == 0.5


def test_the_confidence_floor_is_a_setting() -> None:
    frame = pl.DataFrame(
        [finding("i-1", "rightsizing.idle", "remove", 10.0, 10.0, confidence=0.6)],
        schema=dict(schema.FINDINGS),
    )
    out = rank(frame, hourly_rate=RATE, confidence_floor=0.7)
    assert out.findings["category"].to_list() == ["possible"]


def test_a_saving_that_starts_later_is_deferred_and_totalled_apart() -> None:
    # Nothing now, 50 from the day the commitment ends: deferred, not counted.
    out = ranked(
        finding("i-1", "rightsizing.idle", "remove", 100.0, 0.0,
                deferred_monthly_savings=50.0, savings_start=date(2027, 3, 1)),
        finding("i-2", "rightsizing.idle", "remove", 100.0, 0.0, deferred_monthly_savings=20.0),
        # Nothing now and nothing later is not deferred: it stays a (worthless) saving.
        finding("i-3", "rightsizing.idle", "remove", 100.0, 0.0),
    )  # fmt: skip
    rows = {r["resource_id"]: r for r in out.findings.to_dicts()}
    assert rows["i-1"]["category"] == "deferred" and not rows["i-1"]["counted"]
    assert rows["i-1"]["priority_reason"] == (
        "Low: not counted yet: $50.00/month starts 2027-03-01"
        " (a commitment covers the usage until then)"
    )
    assert rows["i-2"]["priority_reason"].endswith(
        "starts when the commitment ends (a commitment covers the usage until then)"
    )
    assert rows["i-3"]["category"] == "savings"
    assert out.summary["deferred_monthly_savings"] == 70.0
    assert out.summary["monthly_savings"] == 0.0


def test_a_saving_now_and_a_part_later_counts_now_and_defers_the_rest() -> None:
    # 30 now and 20 later: a saving (counted 30), and 20 in the deferred total.
    out = ranked(
        finding("i-1", "rightsizing.idle", "remove", 100.0, 30.0, deferred_monthly_savings=20.0)
    )
    row = out.findings.row(0, named=True)
    assert row["category"] == "savings" and row["counted"]
    assert out.summary["monthly_savings"] == 30.0
    assert out.summary["deferred_monthly_savings"] == 20.0


def test_a_net_under_half_a_cent_is_nothing_and_a_cent_counts() -> None:
    # Rule 8 in cents: 0.004 rounds to 0.00 (not counted), 0.01 counts.
    out = ranked(
        finding("i-1", "rightsizing.idle", "remove", 1.0, 0.004),
        finding("i-2", "rightsizing.idle", "remove", 1.0, 0.01),
    )
    rows = {r["resource_id"]: r for r in out.findings.to_dicts()}
    assert rows["i-1"]["counted"] is False
    assert rows["i-2"]["counted"] is True
    assert out.summary["counted_findings"] == 1


@pytest.mark.parametrize(
    ("category", "reason"),
    [
        ("cost_avoidance", "cost avoidance keeps the bill from rising, it does not lower it"),
        ("waste", "committed money no mechanism recovers"),
        ("review", "money to look into, no saving claimed"),
    ],
)
def test_each_category_that_never_counts_says_why(category: str, reason: str) -> None:
    row = one(savings=100.0, category=category)
    assert row["counted"] is False and row["priority"] == "Low"
    assert row["priority_reason"] == f"Low: not counted: {reason}"


# --- rules 4-6 -------------------------------------------------------------------------


def test_a_saving_beats_a_deferred_alternative_with_more_money() -> None:
    # Rule 4: savings before deferred, whatever the amounts.
    out = ranked(
        finding("i-1", "rightsizing.graviton", "resize", 100.0, 0.0,
                deferred_monthly_savings=60.0),
        finding("i-1", "rightsizing.overprovisioned", "resize", 100.0, 10.0),
    )  # fmt: skip
    rows = by_policy(out.findings)
    assert rows["rightsizing.overprovisioned"]["counted"]
    assert rows["rightsizing.graviton"]["alternative_to"] == "rightsizing.overprovisioned|i-1"
    assert rows["rightsizing.graviton"]["priority_reason"] == (
        "Low: not counted: an alternative to rightsizing.overprovisioned|i-1"
    )
    # An alternative's deferred money is not in the deferred total.
    assert out.summary["deferred_monthly_savings"] == 0.0


def test_a_possible_removal_still_excludes_the_rest_and_a_review_removal_does_not() -> None:
    # Rule 5 among categories: a removal at low confidence (possible) still excludes a
    # resize on its resource; a removal only to review (category review) excludes nothing.
    out = ranked(
        finding("i-1", "rightsizing.idle", "remove", 100.0, 100.0, confidence=0.3),
        finding("i-1", "rightsizing.graviton", "resize", 100.0, 20.0),
        finding("i-2", "rightsizing.idle", "remove", 100.0, 100.0, category="review"),
        finding("i-2", "rightsizing.graviton", "resize", 100.0, 20.0),
    )
    counted = out.findings.filter(pl.col("counted"))["finding_id"].to_list()
    assert counted == ["rightsizing.graviton|i-2"]
    assert out.summary["monthly_savings"] == 20.0


def test_three_stacked_changes_each_save_on_what_the_earlier_left() -> None:
    # Rule 6 on a 200-a-month instance: resize 50 (share 0.25), schedule 60 (0.3) on the
    # 75% left: 45; commit 40 (0.2) on 75% × 70% = 52.5% left: 21. Total 116.
    # A schedule excludes the commitment (rule 5), so the commit is on i-2 alone: resize
    # 50 of 200, then commit 40 × 0.75 = 30.
    out = ranked(
        finding("i-1", "rightsizing.overprovisioned", "resize", 200.0, 50.0),
        finding("i-1", "scheduling.offhours", "schedule", 200.0, 60.0, family="scheduling"),
        finding("i-2", "rightsizing.overprovisioned", "resize", 200.0, 50.0),
        finding("i-2", "commitments.compute", "commit", 200.0, 40.0, family="commitments"),
    )
    rows = {r["finding_id"]: r for r in out.findings.to_dicts()}
    assert rows["scheduling.offhours|i-1"]["monthly_savings"] == 45.0
    assert rows["scheduling.offhours|i-1"]["standalone_monthly_savings"] == 60.0
    assert rows["commitments.compute|i-2"]["monthly_savings"] == 30.0
    assert rows["rightsizing.overprovisioned|i-1"]["monthly_savings"] == 50.0
    assert out.summary["monthly_savings"] == 175.0


def test_a_removal_does_not_stack_it_takes_the_whole_resource() -> None:
    # A removal's saving is never scaled by stacking: 80 of a 100-a-month resource stays 80.
    out = ranked(
        finding("i-1", "rightsizing.idle", "remove", 100.0, 80.0),
        finding("i-2", "scheduling.offhours", "schedule", 100.0, 30.0, family="scheduling"),
    )
    rows = by_policy(out.findings)
    assert rows["rightsizing.idle"]["monthly_savings"] == 80.0
    assert rows["scheduling.offhours"]["monthly_savings"] == 30.0


# --- rule 7: a commitment's scope ------------------------------------------------------


def scoped(resource: str, savings: float, pool: float, **kw: Any) -> dict[str, Any]:
    return finding(resource, "rightsizing.overprovisioned", "resize", 1000.0, savings,
                   commitment_scope="ri|111122223333|us-east-1|m5",
                   scope_uncovered_monthly=pool, **kw)  # fmt: skip


def test_changes_in_a_commitment_scope_share_its_uncovered_usage_in_rank_order() -> None:
    # Pool 60. i-1 (90 an hour) takes 50 of it: all 50 now. i-2 (40 an hour) takes 40 with
    # 10 left: 10 now, 30 deferred. i-3 (30 an hour) finds the pool empty: 0 now, all 30
    # deferred, so it is deferred.
    out = ranked(
        scoped("i-2", 40.0, 60.0),
        scoped("i-1", 50.0, 60.0, effort_hours=0.5, monthly_savings_before_discounts=50.0),
        scoped("i-3", 30.0, 60.0),
    )
    rows = {r["resource_id"]: r for r in out.findings.to_dicts()}
    assert (rows["i-1"]["monthly_savings"], rows["i-1"]["deferred_monthly_savings"]) == (50, 0)
    assert (rows["i-2"]["monthly_savings"], rows["i-2"]["deferred_monthly_savings"]) == (10, 30)
    assert (rows["i-3"]["monthly_savings"], rows["i-3"]["deferred_monthly_savings"]) == (0, 30)
    assert rows["i-2"]["category"] == "savings" and rows["i-3"]["category"] == "deferred"
    assert out.summary["monthly_savings"] == 60.0
    assert out.summary["deferred_monthly_savings"] == 60.0


def test_a_move_out_of_the_scope_draws_its_whole_usage() -> None:
    # A move to a family the RI does not cover frees 100 of covered usage to save 30: with
    # 80 uncovered, 20 of the freed usage finds nothing to absorb it: 30 − 20 = 10 now.
    out = ranked(scoped("i-1", 30.0, 80.0, scope_usage_removed_monthly=100.0))
    row = out.findings.row(0, named=True)
    assert row["monthly_savings"] == 10.0
    assert row["deferred_monthly_savings"] == 20.0


def test_a_commitment_purchase_does_not_draw_on_a_scope() -> None:
    # Only remove, resize and schedule take usage out of a scope; a purchase does not.
    out = ranked(
        finding("i-1", "commitments.compute", "commit", 1000.0, 40.0, family="commitments",
                commitment_scope="sp|111122223333", scope_uncovered_monthly=0.0),
    )  # fmt: skip
    assert out.findings["monthly_savings"].to_list() == [40.0]


# --- rule 9 and rule 12 ----------------------------------------------------------------


def test_group_effort_formula() -> None:
    # effort × (1 + log10(members)): 8 h × 2 = 16 for 10, 8 h for 1 (and for none).
    assert effort_of_group(8.0, 10) == pytest.approx(16.0)
    assert effort_of_group(8.0, 1) == 8.0
    assert effort_of_group(8.0, 0) == 8.0


def test_a_group_sums_money_keeps_the_weakest_confidence_and_the_latest_start() -> None:
    # Two like moves, 20 and 10 a month, confidence 0.9 and 0.6: one finding of 30, at 0.6,
    # effort 2 h × (1 + log10 2) = 2.60 h, starting with the later member.
    out = ranked(
        finding("i-1", "rightsizing.graviton", "resize", 70.0, 20.0, effort_hours=2.0,
                group_key="m5→m6g", savings_start=date(2027, 1, 1)),
        finding("i-2", "rightsizing.graviton", "resize", 70.0, 10.0, effort_hours=1.0,
                group_key="m5→m6g", confidence=0.6, savings_start=date(2027, 2, 1)),
        finding("i-3", "rightsizing.graviton", "resize", 70.0, 5.0, group_key="other"),
    )  # fmt: skip
    group = out.findings.filter(pl.col("member_count") == 2).row(0, named=True)
    assert group["monthly_savings"] == 30.0 and group["current_monthly_cost"] == 140.0
    assert group["confidence"] == 0.6
    assert group["effort_hours"] == pytest.approx(2.0 * 1.30103, abs=1e-4)
    assert group["savings_start"] == date(2027, 2, 1)
    assert group["resource_name"] == "2 resources"
    single = out.findings.filter(pl.col("resource_id") == "i-3").row(0, named=True)
    assert single["member_count"] is None


def test_an_investment_without_added_cost_ranks_by_its_gain_over_a_cent() -> None:
    # Gain per dollar: 0.2 / max(0, 0.01) = 20 beats 0.9 / 10 = 0.09. Equal gains per
    # dollar: the cheaper first.
    out = ranked(
        finding("i-a", "rightsizing.underprovisioned", "bottleneck", 70.0, 0.0,
                added_monthly_cost=10.0, performance_gain=0.9),
        finding("i-b", "rightsizing.underprovisioned", "bottleneck", 70.0, 0.0,
                added_monthly_cost=0.0, performance_gain=0.2),
        finding("i-c", "rightsizing.underprovisioned", "bottleneck", 70.0, 0.0,
                added_monthly_cost=20.0, performance_gain=0.4),
        finding("i-d", "rightsizing.underprovisioned", "bottleneck", 70.0, 0.0,
                added_monthly_cost=40.0, performance_gain=0.8),
        # 0.5 / 0.5 = 1: after i-b's 20 (the cent floor, not a dollar, divides i-b).
        finding("i-x", "rightsizing.underprovisioned", "bottleneck", 70.0, 0.0,
                added_monthly_cost=0.5, performance_gain=0.5),
    )  # fmt: skip
    assert out.bottlenecks["resource_id"].to_list() == ["i-b", "i-x", "i-a", "i-c", "i-d"]
    assert out.bottlenecks["rank"].to_list() == [1, 2, 3, 4, 5]
    reasons = out.bottlenecks["priority_reason"].to_list()
    assert reasons[2] == "Medium: an investment, $10.00/month for 90.0% more headroom"
    # Nothing added is "$0.00", not "-$0.00".
    assert reasons[0] == "Medium: an investment, $0.00/month for 20.0% more headroom"
    assert out.summary["bottlenecks"] == 5
    assert out.summary["investments_monthly_cost"] == 70.5


def test_by_family_totals_count_only_counted_net() -> None:
    # storage: 10 counted + a 7.5 − 25 loss (not counted) = 10 over 2 findings.
    out = ranked(
        finding("vol-1", "storage.gp2-to-gp3", "resize", 50.0, 10.0, family="storage"),
        finding("vol-2", "storage.unattached", "remove", 7.5, 7.5, family="storage",
                added_monthly_cost=25.0),
    )  # fmt: skip
    assert out.summary["by_family"]["storage"] == {"findings": 2, "monthly_savings": 10.0}
    assert out.summary["by_family"]["network"] == {"findings": 0, "monthly_savings": 0.0}


# --- category preference, rounding, grouping details -------------------------------------


@pytest.mark.parametrize("category", ["cost_avoidance", "waste"])
def test_a_category_earlier_in_the_preference_beats_more_money_to_review(category: str) -> None:
    # Rule 4: on one resource and action, cost avoidance and waste (3) come before review
    # (4), whatever the amounts: 10 beats 50.
    out = ranked(
        finding("i-1", "p.first", "resize", 100.0, 10.0, category=category),
        finding("i-1", "p.review", "resize", 100.0, 50.0, category="review"),
    )
    rows = by_policy(out.findings)
    assert rows["p.review"]["alternative_to"] == "p.first|i-1"
    assert rows["p.first"]["alternative_to"] is None


def test_a_saving_beats_a_deferred_finding_whatever_its_money() -> None:
    # Rule 4: a policy's own deferred finding (30 a month, category deferred) loses to a
    # saving of 10 on the same resource and action.
    out = ranked(
        finding("i-1", "p.later", "resize", 100.0, 30.0, category="deferred"),
        finding("i-1", "p.now", "resize", 100.0, 10.0),
    )
    rows = by_policy(out.findings)
    assert rows["p.later"]["alternative_to"] == "p.now|i-1"
    assert out.summary["monthly_savings"] == 10.0


def test_resources_without_a_region_are_still_told_apart() -> None:
    # Global resources (no region): the key skips the null, so two resources stay two.
    out = ranked(
        finding("dist-1", "network.cdn", "resize", 100.0, 10.0, region=None),
        finding("dist-2", "network.cdn", "resize", 100.0, 20.0, region=None),
    )
    assert out.findings["counted"].to_list() == [True, True]
    assert out.summary["monthly_savings"] == 30.0


def test_a_finding_with_no_saving_has_nothing_before_discounts_either() -> None:
    # Null savings are 0, before discounts too; 0.5 before discounts stays 0.5 (the floor
    # is 0, not more).
    out = ranked(
        finding("i-1", "p.none", "remove", 100.0, None),  # type: ignore[arg-type]
        finding("i-2", "p.half", "remove", 100.0, 0.5),
    )
    rows = by_policy(out.findings)
    assert rows["p.none"]["monthly_savings_before_discounts"] == 0.0
    assert rows["p.half"]["monthly_savings_before_discounts"] == 0.5


def test_stacking_on_a_resource_under_a_dollar() -> None:
    # Rule 6 with a cost of 0.80: the resize takes 0.40 (half), so the commitment's 0.20
    # becomes 0.10.
    out = ranked(
        finding("i-1", "rightsizing.overprovisioned", "resize", 0.8, 0.4),
        finding("i-1", "commitments.compute", "commit", 0.8, 0.2, family="commitments"),
    )
    assert by_policy(out.findings)["commitments.compute"]["monthly_savings"] == 0.1


def test_rounding_of_implementation_cost_and_value_per_hour() -> None:
    # 1.23456 h × 100 = 123.456: 123.46; 10 / 3 h = 3.333...: 3.33 an hour.
    assert one(savings=10.0, effort_hours=1.23456)["implementation_cost"] == 123.46
    assert one(savings=10.0, effort_hours=3.0)["value_per_effort_hour"] == 3.33


def test_a_tiny_value_per_hour_shows_as_zero_dollars() -> None:
    # 0.01 a month for 100 h: 0.0001 an hour, shown "$0.00" (not "-$0.00").
    row = one(savings=0.01, effort_hours=100.0)
    assert "($0.00 per hour of effort)" in row["priority_reason"]


def test_a_group_lists_its_members_in_cents_and_takes_its_weakest_price_source() -> None:
    # Members: 20.004 now (live prices) and 10 now + 1.234 later (billing): listed as 20.0
    # and 10.0 / 1.23; the group's price source is the weakest, live.
    out = ranked(
        finding("i-1", "rightsizing.graviton", "resize", 70.0, 20.004, group_key="g",
                price_source="live"),
        finding("i-2", "rightsizing.graviton", "resize", 70.0, 10.0, group_key="g",
                price_source="billing", deferred_monthly_savings=1.234),
    )  # fmt: skip
    group = out.findings.row(0, named=True)
    assert group["price_source"] == "live"
    members = json.loads(group["members"])
    assert [m["monthly_savings"] for m in members] == [20.0, 10.0]
    assert [m["deferred_monthly_savings"] for m in members] == [0.0, 1.23]


def test_a_finding_without_a_risk_is_weighted_as_high_risk() -> None:
    # No risk stated: the cautious weight, 0.5: 80 × 0.5 / 1 h = 40.
    assert one(savings=80.0, risk=None)["value_per_effort_hour"] == 40.0


def test_only_savings_draw_on_a_commitment_scope() -> None:
    # Pool 50. A possible finding (confidence 0.2) of 40 ranks first but draws nothing:
    # the saving of 50 after it still finds the whole pool.
    out = ranked(
        scoped("i-1", 40.0, 50.0, confidence=0.2, effort_hours=0.25),
        scoped("i-2", 50.0, 50.0),
    )
    rows = {r["resource_id"]: r for r in out.findings.to_dicts()}
    assert rows["i-2"]["monthly_savings"] == 50.0
    assert rows["i-2"]["deferred_monthly_savings"] == 0.0


def test_a_negative_uncovered_figure_is_an_empty_pool() -> None:
    # −10 uncovered is nothing to absorb the change: all 30 waits for the commitment.
    out = ranked(scoped("i-1", 30.0, -10.0))
    row = out.findings.row(0, named=True)
    assert (row["monthly_savings"], row["deferred_monthly_savings"]) == (0.0, 30.0)
    assert row["category"] == "deferred"


def test_a_schedule_only_to_review_does_not_exclude_the_commitment() -> None:
    # Rule 5 needs a schedule that could count (savings, deferred or possible); one filed
    # for review leaves the commitment standing.
    out = ranked(
        finding("i-1", "scheduling.offhours", "schedule", 100.0, 60.0, family="scheduling",
                category="review"),
        finding("i-1", "commitments.compute", "commit", 100.0, 30.0, family="commitments"),
    )  # fmt: skip
    rows = by_policy(out.findings)
    assert rows["commitments.compute"]["counted"] is True
    assert rows["commitments.compute"]["alternative_to"] is None


@pytest.mark.parametrize(
    ("stronger", "weaker"),
    [("billing", "live"), ("live", "bundled"), ("bundled", "none"), ("none", "a new source")],
)
def test_a_group_takes_its_weakest_price_source_whatever_the_member_order(
    stronger: str, weaker: str
) -> None:
    # Two groups of the same two sources, in both orders of their savings: each takes the
    # weaker (billing < live < bundled < none < anything unknown).
    rows = []
    for key, (first, second) in {"g1": (stronger, weaker), "g2": (weaker, stronger)}.items():
        rows += [
            finding(f"{key}-a", "rightsizing.graviton", "resize", 70.0, 20.0, group_key=key,
                    price_source=first),
            finding(f"{key}-b", "rightsizing.graviton", "resize", 70.0, 10.0, group_key=key,
                    price_source=second),
        ]  # fmt: skip
    out = ranked(*rows)
    assert out.findings["price_source"].to_list() == [weaker, weaker]


# --- third round: survivors of the full run ------------------------------------------------


def test_a_review_schedule_stacks_before_the_commitment_not_after() -> None:
    # Rule 6's order (resize, schedule, commit) holds whatever the amounts: a schedule
    # filed for review (20 of 100) does not exclude the commitment, and stacks first:
    # the commitment's 30 is taken on the 80% left, 24. Counting less when unsure.
    out = ranked(
        finding("i-1", "scheduling.offhours", "schedule", 100.0, 20.0, family="scheduling",
                category="review"),
        finding("i-1", "commitments.compute", "commit", 100.0, 30.0, family="commitments"),
    )  # fmt: skip
    rows = by_policy(out.findings)
    assert rows["commitments.compute"]["monthly_savings"] == 24.0
    assert rows["scheduling.offhours"]["monthly_savings"] == 20.0


def test_a_deferred_saving_beats_a_possible_one_on_the_same_action() -> None:
    # Rule 4: deferred (1) before possible (2): 50 later beats 30 now at confidence 0.2.
    out = ranked(
        finding("i-1", "p.later", "resize", 100.0, 0.0, deferred_monthly_savings=50.0),
        finding("i-1", "p.unsure", "resize", 100.0, 30.0, confidence=0.2),
    )
    rows = by_policy(out.findings)
    assert rows["p.unsure"]["alternative_to"] == "p.later|i-1"
    assert rows["p.later"]["alternative_to"] is None


def test_a_removal_that_only_avoids_cost_excludes_nothing() -> None:
    # Rule 5 counts removals up to possible (2); a cost-avoidance removal (3) leaves the
    # resize on its resource standing and counted.
    out = ranked(
        finding("i-1", "p.avoid", "remove", 100.0, 100.0, category="cost_avoidance"),
        finding("i-1", "p.resize", "resize", 100.0, 20.0),
    )
    rows = by_policy(out.findings)
    assert rows["p.resize"]["alternative_to"] is None and rows["p.resize"]["counted"]
    assert out.summary["monthly_savings"] == 20.0


def test_rank_hides_nothing_by_default() -> None:
    # rank() without min_savings: a net of 0.5 is shown, nothing hidden.
    frame = pl.DataFrame(
        [finding("i-1", "rightsizing.idle", "remove", 10.0, 0.5)], schema=dict(schema.FINDINGS)
    )
    out = rank(frame, hourly_rate=RATE)
    assert out.findings.height == 1
    assert out.summary["hidden_below_min_savings"] == 0
    assert out.summary["min_savings"] == 0.0


def test_a_min_savings_under_a_dollar_still_hides() -> None:
    # min 0.5: a net of 0.4 is hidden, 0.6 shown.
    out = ranked(
        finding("i-1", "rightsizing.idle", "remove", 10.0, 0.4),
        finding("i-2", "rightsizing.idle", "remove", 10.0, 0.6),
        min_savings=0.5,
    )
    assert out.findings["resource_id"].to_list() == ["i-2"]
    assert out.summary["hidden_below_min_savings"] == 1


def test_missing_money_figures_are_zero() -> None:
    # No added cost, upfront cost or effort: net 10, nothing to implement, paid back at once.
    row = one(savings=10.0, added_monthly_cost=None, upfront_cost=None, effort_hours=None)
    assert row["net_monthly_savings"] == 10.0
    assert row["added_monthly_cost"] == 0.0
    assert row["implementation_cost"] == 0.0
    assert row["payback_months"] == 0.0


def test_a_resource_under_a_dollar_still_caps_its_saving() -> None:
    # Rule 1 with a cost of 0.50: 0.80 claimed, 0.50 counts, before discounts too; a
    # possible finding (never capped across findings) is capped on its own as well.
    out = ranked(
        finding("i-1", "rightsizing.idle", "remove", 0.5, 0.8),
        finding("i-2", "rightsizing.idle", "remove", 0.5, 0.8, confidence=0.2),
    )
    assert out.findings["monthly_savings"].to_list() == [0.5, 0.5]
    assert out.findings["monthly_savings_before_discounts"].to_list() == [0.5, 0.5]
    assert out.summary["possible_monthly_savings"] == 0.5


def test_deferred_is_nothing_now_and_something_later_down_to_the_cent() -> None:
    # 0.50 now and 20 later is a saving (counted 0.50); nothing now and 0.50 later is
    # deferred.
    out = ranked(
        finding("i-1", "rightsizing.idle", "remove", 100.0, 0.5, deferred_monthly_savings=20.0),
        finding("i-2", "rightsizing.idle", "remove", 100.0, 0.0, deferred_monthly_savings=0.5),
    )
    rows = {r["resource_id"]: r for r in out.findings.to_dicts()}
    assert rows["i-1"]["category"] == "savings" and rows["i-1"]["counted"]
    assert rows["i-2"]["category"] == "deferred"
    assert out.summary["deferred_monthly_savings"] == 20.5


def test_equal_alternatives_are_decided_by_later_money_then_by_id() -> None:
    # Rule 4's tie-breaks: both deferred with no net now, the larger deferred (50) wins
    # whatever its id; two identical savings, the first id wins.
    out = ranked(
        finding("i-1", "p.a", "resize", 100.0, 0.0, deferred_monthly_savings=20.0),
        finding("i-1", "p.z", "resize", 100.0, 0.0, deferred_monthly_savings=50.0),
        finding("i-2", "p.b", "resize", 100.0, 10.0),
        finding("i-2", "p.c", "resize", 100.0, 10.0),
    )
    alternatives = dict(out.findings.select("finding_id", "alternative_to").iter_rows())
    assert alternatives["p.a|i-1"] == "p.z|i-1" and alternatives["p.z|i-1"] is None
    assert alternatives["p.c|i-2"] == "p.b|i-2" and alternatives["p.b|i-2"] is None


def test_without_a_cost_a_change_takes_no_share_from_the_next() -> None:
    # Rule 6 needs the resource's cost: at 0, the resize's 10 leaves the commitment's 5
    # whole (no share to take).
    out = ranked(
        finding("i-1", "rightsizing.overprovisioned", "resize", 0.0, 10.0),
        finding("i-1", "commitments.compute", "commit", 0.0, 5.0, family="commitments"),
    )
    assert by_policy(out.findings)["commitments.compute"]["monthly_savings"] == 5.0


def test_an_unknown_uncovered_figure_is_an_empty_pool() -> None:
    # No figure for the scope's uncovered usage: nothing known to absorb the change.
    out = ranked(scoped("i-1", 30.0, None))  # type: ignore[arg-type]
    row = out.findings.row(0, named=True)
    assert (row["monthly_savings"], row["deferred_monthly_savings"]) == (0.0, 30.0)


def test_equal_value_in_a_scope_draws_in_id_order() -> None:
    # Pool 30, two changes of 30 at the same value per hour: i-1 (first id) takes it all.
    out = ranked(scoped("i-2", 30.0, 30.0), scoped("i-1", 30.0, 30.0))
    rows = {r["resource_id"]: r for r in out.findings.to_dicts()}
    assert rows["i-1"]["monthly_savings"] == 30.0
    assert rows["i-2"]["monthly_savings"] == 0.0


def test_half_a_dollar_left_in_a_scope_is_still_a_saving() -> None:
    # Pool 0.50 for a change of 30: 0.50 now (a saving, counted), 29.50 deferred.
    row = ranked(scoped("i-1", 30.0, 0.5)).findings.row(0, named=True)
    assert row["category"] == "savings" and row["counted"]
    assert (row["monthly_savings"], row["deferred_monthly_savings"]) == (0.5, 29.5)


def log_group(policy: str, savings: float, cost: float = 30.0, **kw: Any) -> dict[str, Any]:
    return finding("lg-1", policy, "configure", cost, savings, family="observability", **kw)


def test_a_resources_cost_caps_its_savings_in_value_then_id_order() -> None:
    # Rule 1 across findings on a 30-a-month log group: two of 20 at the same value, the
    # first id keeps 20, the second gets the 10 left.
    out = ranked(log_group("p.b", 20.0), log_group("p.a", 20.0))
    rows = by_policy(out.findings)
    assert (rows["p.a"]["monthly_savings"], rows["p.b"]["monthly_savings"]) == (20.0, 10.0)


def test_only_counted_savings_use_up_a_resources_cost() -> None:
    # A possible finding (25, confidence 0.2) ranks first but takes nothing from the 30:
    # the counted 30 keeps all 30; the possible 25 is left whole in its own total.
    out = ranked(
        log_group("p.unsure", 25.0, confidence=0.2, effort_hours=0.25),
        log_group("p.sure", 30.0),
    )
    rows = by_policy(out.findings)
    assert rows["p.sure"]["monthly_savings"] == 30.0
    assert rows["p.unsure"]["monthly_savings"] == 25.0
    assert out.summary["possible_monthly_savings"] == 25.0


def test_a_finding_with_no_room_left_saves_nothing_and_is_not_counted() -> None:
    # 30 then 10 on a 30-a-month resource: the 10 finds no room, 0, not counted.
    out = ranked(log_group("p.big", 30.0), log_group("p.small", 10.0, effort_hours=2.0))
    rows = by_policy(out.findings)
    assert rows["p.small"]["monthly_savings"] == 0.0
    assert rows["p.small"]["counted"] is False
    assert out.summary["monthly_savings"] == 30.0


def test_a_resource_under_a_dollar_caps_the_sum_of_its_savings() -> None:
    # 0.40 and 0.40 on a 0.50 resource: 0.40 and the 0.10 left.
    out = ranked(log_group("p.a", 0.4, cost=0.5), log_group("p.b", 0.4, cost=0.5))
    assert sorted(out.findings["monthly_savings"].to_list()) == [0.1, 0.4]


def test_a_group_without_a_region_is_one_group_with_its_members_in_order() -> None:
    # A regionless group of two equal members: one finding, members listed by id.
    out = ranked(
        finding("i-2", "rightsizing.graviton", "resize", 70.0, 10.0, group_key="g", region=None),
        finding("i-1", "rightsizing.graviton", "resize", 70.0, 10.0, group_key="g", region=None),
    )
    group = out.findings.row(0, named=True)
    assert out.findings.height == 1 and group["member_count"] == 2
    assert group["finding_id"] == "rightsizing.graviton|aws|111122223333|savings|group|g"
    assert [m["resource_id"] for m in json.loads(group["members"])] == ["i-1", "i-2"]
    assert group["resource_name"] == "2 resources"


def test_a_groups_detail_totals_its_members_in_cents() -> None:
    # 10.004 + 10.004 = 20.008: "20.01 a month in all".
    out = ranked(
        finding("i-1", "rightsizing.graviton", "resize", 70.0, 10.004, group_key="g"),
        finding("i-2", "rightsizing.graviton", "resize", 70.0, 10.004, group_key="g"),
    )
    assert out.findings["detail"].item().startswith("2 like changes (g), 20.01 a month in all")


def test_an_implementation_cost_under_a_dollar_has_an_roi() -> None:
    # 0.005 h × 100 = 0.50: ROI (12 × 10 − 0.5) / 0.5 = 239.
    row = one(savings=10.0, effort_hours=0.005)
    assert row["implementation_cost"] == 0.5
    assert row["roi_12m"] == 239.0


def test_reasons_round_hours_and_confidence_to_two_places() -> None:
    counted = one(savings=100.0, effort_hours=1.2345)
    assert "for 1.23 h of work" in counted["priority_reason"]
    possible = one(savings=100.0, confidence=0.333)
    assert possible["priority_reason"] == (
        "Low: not counted: possible, confidence 0.33 is under the floor"
    )


def test_an_investigation_filed_as_a_saving_is_not_counted_and_not_called_worthless() -> None:
    # A saving's figure on an investigate action (0.50 net): shown, not counted, and not
    # "saves nothing net" (it does save).
    row = one(savings=0.5, action="investigate", category="savings")
    assert row["counted"] is False
    assert row["priority_reason"] == "Low: not counted"


def test_an_investment_without_a_stated_gain_ranks_last() -> None:
    # No performance_gain: 0 per dollar, after a gain of 0.1 for 10 (0.01 per dollar).
    out = ranked(
        finding("i-a", "rightsizing.underprovisioned", "bottleneck", 70.0, 0.0,
                added_monthly_cost=1.0, performance_gain=None),
        finding("i-b", "rightsizing.underprovisioned", "bottleneck", 70.0, 0.0,
                added_monthly_cost=10.0, performance_gain=0.1),
    )  # fmt: skip
    assert out.bottlenecks["resource_id"].to_list() == ["i-b", "i-a"]


def test_an_investments_reason_states_its_gain_in_whole_percent() -> None:
    # 0.1234 -> "12.0%"; no gain -> "0.0%". Equal gains per dollar and costs: by id.
    out = ranked(
        finding("i-b", "rightsizing.underprovisioned", "bottleneck", 70.0, 0.0,
                added_monthly_cost=10.0, performance_gain=0.1234),
        finding("i-a", "rightsizing.underprovisioned", "bottleneck", 70.0, 0.0,
                added_monthly_cost=10.0, performance_gain=0.1234),
        finding("i-c", "rightsizing.underprovisioned", "bottleneck", 70.0, 0.0,
                added_monthly_cost=10.0, performance_gain=None),
    )  # fmt: skip
    assert out.bottlenecks["resource_id"].to_list() == ["i-a", "i-b", "i-c"]
    reasons = out.bottlenecks["priority_reason"].to_list()
    assert reasons[0] == "Medium: an investment, $10.00/month for 12.0% more headroom"
    assert reasons[2] == "Medium: an investment, $10.00/month for 0.0% more headroom"


def test_summarize_defaults_to_nothing_hidden() -> None:
    empty = schema.empty(schema.RANKED)
    summary = summarize(empty, empty)
    assert (summary["hidden_below_min_savings"], summary["min_savings"]) == (0, 0.0)


def test_a_family_with_nothing_counted_totals_zero() -> None:
    # Its only finding loses money: one finding, 0 saved (not a made-up figure).
    out = ranked(
        finding("vol-2", "storage.unattached", "remove", 7.5, 7.5, family="storage",
                added_monthly_cost=25.0),
    )  # fmt: skip
    assert out.summary["by_family"]["storage"] == {"findings": 1, "monthly_savings": 0.0}


def test_the_possible_and_deferred_totals_at_their_edges() -> None:
    # A possible 0.50 is in the possible total; a possible finding's later money is not in
    # the deferred total (only savings and deferred findings are).
    out = ranked(
        finding("i-1", "rightsizing.idle", "remove", 10.0, 0.5, confidence=0.2),
        finding("i-2", "rightsizing.idle", "remove", 10.0, 5.0, confidence=0.2,
                deferred_monthly_savings=20.0),
    )  # fmt: skip
    assert out.summary["possible_monthly_savings"] == 5.5
    assert out.summary["deferred_monthly_savings"] == 0.0


def test_a_possible_finding_after_the_counted_ones_keeps_its_own_figure() -> None:
    # The counted 30 (first: 120 an hour) uses the whole 30 a month; the possible 25 after
    # it is not cut to the room left (it is not counted): 25 in the possible total.
    out = ranked(
        log_group("p.sure", 30.0, effort_hours=0.25),
        log_group("p.unsure", 25.0, confidence=0.2),
    )
    rows = by_policy(out.findings)
    assert rows["p.unsure"]["monthly_savings"] == 25.0
    assert out.summary["possible_monthly_savings"] == 25.0
