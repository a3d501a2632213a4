"""The commitment policies at each threshold, worked by hand (issue 21).

us-east-1 list prices (tests/policies/inventories.py): m5.large $0.096/h, r5.xlarge
$0.252/h; a 730-hour month; a 14-day (336-hour) lookback ending at NOW. Thresholds and
their public sources are in policies/commitments.py: a 1-year no-upfront Compute Savings
Plan at 28% off (https://aws.amazon.com/savingsplans/compute-pricing/), "steady" at 95%
of the lookback's hours, spot believed above a tenth of on-demand ("up to 90% off",
https://aws.amazon.com/ec2/spot/pricing/), 60% off when not believed (Spot Instance
Advisor), the 80% utilization alert (Cost Explorer, AWS Budgets), the Reserved Instance
Marketplace's 12% fee, 30 days active and 31 days left
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ri-market-general.html), a 30-day
expiry warning, and 7 billed days (Cost Explorer's shortest Savings Plans lookback).
Each test names the rule it pins; they were written against the mutants that survived
tests/policies/test_commitments.py (``python benchmarks/mutation.py policies/commitments.py``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
import pytest

from tests.policies.commitment_inventories import (
    billing_inventory,
    coverage,
    hourly_usage,
    measured,
    reservation,
    savings_plan,
    with_commitments,
)
from tests.policies.inventories import NOW, cpu, instance, inventory, only, run

CENT = 0.005
LOOKBACK_START = NOW - timedelta(days=14)


def spot_at(hourly: float, instance_type: str = "m5.large") -> dict[str, Any]:
    return {
        "provider": "aws",
        "region": "us-east-1",
        "availability_zone": "us-east-1a",
        "instance_type": instance_type,
        "hourly_price": hourly,
        "ts": NOW - timedelta(hours=1),
    }


# --- compute-commitment: which instances are steady ------------------------------------


def test_steady_means_cpu_data_in_at_least_the_min_coverage_share_of_hours() -> None:
    # 168 of 336 hours is a coverage of exactly 0.5: at the threshold, flagged; 167 is not.
    inv = inventory(
        [instance("i-168", "m5.large"), instance("i-167", "m5.large")],
        [*cpu("i-168", 30, hours=168), *cpu("i-167", 30, hours=167)],
    )
    found = run("commitments.compute-commitment", inv, min_coverage=0.5)
    assert found["resource_id"].to_list() == ["i-168"]
    # Default 95%: 320 of 336 hours (95.2%) is steady, 319 (94.9%) is not.
    inv = inventory(
        [instance("i-320", "m5.large"), instance("i-319", "m5.large")],
        [*cpu("i-320", 30, hours=320), *cpu("i-319", 30, hours=319)],
    )
    found = run("commitments.compute-commitment", inv)
    assert found["resource_id"].to_list() == ["i-320"]
    usage = only(found, "i-320")["evidence"]["usage"]
    assert usage["hours_with_data"] == 320 and usage["expected_hours"] == 336
    assert usage["min_coverage"] == pytest.approx(0.95)


def test_launched_at_the_lookback_start_or_undated_counts_as_steady() -> None:
    # Launched exactly when the lookback began: ran all of it. One second later: not.
    inv = inventory(
        [
            instance("i-at", "m5.large", launch_time=LOOKBACK_START),
            instance("i-after", "m5.large", launch_time=LOOKBACK_START + timedelta(seconds=1)),
            {**instance("i-undated", "m5.large"), "launch_time": None},
        ],
        [*cpu("i-at", 30), *cpu("i-after", 30), *cpu("i-undated", 30)],
    )
    found = run("commitments.compute-commitment", inv)
    assert found["resource_id"].to_list() == ["i-at", "i-undated"]


def test_an_empty_group_name_is_no_auto_scaling_group() -> None:
    inv = inventory([instance("i-blank", "m5.large", group="")], cpu("i-blank", 30))
    found = run("commitments.compute-commitment", inv)
    assert found["resource_id"].to_list() == ["i-blank"]


def test_detail_and_recommendation_name_hours_prices_and_break_even() -> None:
    # m5.large 0.096 × 730 = 70.08 a month; 28% off: 19.6224 saved, 0.06912/h committed;
    # it pays above 72% of the hours.
    inv = inventory([instance("i-a", "m5.large")], cpu("i-a", 30))
    finding = only(run("commitments.compute-commitment", inv), "i-a")
    assert finding["detail"] == (
        "i-a (m5.large) ran on demand for 336 of the last 336 hours at $0.096/h; existing "
        "commitments cover $0.00 of its $70.08 a month."
    )
    assert finding["recommendation"] == (
        "Cover i-a with a 1-year no-upfront Compute Savings Plan or reserved instance: "
        "$0.06912/h instead of $0.096/h, saving $19.62 a month; it pays while the instance "
        "runs more than 72.0% of the hours."
    )
    assert finding["monthly_savings"] == pytest.approx(19.6224, abs=CENT)
    commitment = finding["evidence"]["commitment"]
    assert commitment["monthly_commitment_usd"] == pytest.approx(70.08 * 0.72, abs=CENT)
    assert finding["group_key"] == "1-year commitment for m5"


# --- compute-commitment: existing coverage spent first ---------------------------------


def test_reserved_hours_go_to_the_dearest_instance_first() -> None:
    # Two m5.large at 0.12 and 0.10 $/h; 730 reserved hours cover one: the dearer one.
    # The cheaper one is left: 0.10 × 730 × 0.28 = 20.44.
    inv = with_commitments(
        inventory(
            [
                instance("i-a", "m5.large", hourly_price=0.10),
                instance("i-b", "m5.large", hourly_price=0.12),
            ],
            [*cpu("i-a", 30), *cpu("i-b", 30)],
        ),
        [coverage("ri", instance_type="m5.large", family="m5", covered_hours=730.0)],
    )
    found = run("commitments.compute-commitment", inv)
    assert found["resource_id"].to_list() == ["i-a"]
    assert only(found, "i-a")["monthly_savings"] == pytest.approx(20.44, abs=CENT)


def test_reserved_hours_beyond_one_instance_spill_onto_the_next() -> None:
    # 1,000 reserved hours: i-a takes 730, i-b the other 270; i-b's uncovered
    # 0.096 × (730 − 270) = 44.16, saving 44.16 × 0.28 = 12.3648.
    inv = with_commitments(
        inventory(
            [instance("i-a", "m5.large"), instance("i-b", "m5.large")],
            [*cpu("i-a", 30), *cpu("i-b", 30)],
        ),
        [coverage("ri", instance_type="m5.large", family="m5", covered_hours=1000.0)],
    )
    finding = only(run("commitments.compute-commitment", inv), "i-b")
    assert finding["monthly_savings"] == pytest.approx(12.3648, abs=CENT)
    applied = finding["evidence"]["existing_coverage"]
    assert applied["reserved_hours_applied"] == pytest.approx(270.0)
    assert applied["uncovered_monthly_usd"] == pytest.approx(44.16)
    assert finding["detail"].endswith("existing commitments cover $25.92 of its $70.08 a month.")


def test_savings_plan_spend_covers_instances_in_turn_within_the_family() -> None:
    # A plan covering 1.5 instances' spend (105.12): i-a (first by id) takes 70.08 and
    # gets no finding; i-b takes the other 35.04 and is left 35.04, saving 9.8112.
    inv = with_commitments(
        inventory(
            [instance("i-a", "m5.large"), instance("i-b", "m5.large")],
            [*cpu("i-a", 30), *cpu("i-b", 30)],
        ),
        [coverage("savings_plan", family="m5", covered_cost=70.08 * 1.5)],
    )
    found = run("commitments.compute-commitment", inv)
    assert found["resource_id"].to_list() == ["i-b"]
    finding = only(found, "i-b")
    assert finding["monthly_savings"] == pytest.approx(35.04 * 0.28, abs=CENT)
    assert finding["evidence"]["existing_coverage"]["savings_plan_usd_applied"] == pytest.approx(
        35.04
    )


def test_a_dollar_left_uncovered_is_still_recommended_nothing_left_is_not() -> None:
    # The plan covers all but 1.00 of i-a's 70.08: 1.00 × 0.28 = 0.28 saved. (Only an
    # amount under half a cent is dropped as float noise.)
    inv = with_commitments(
        inventory([instance("i-a", "m5.large")], cpu("i-a", 30)),
        [coverage("savings_plan", family="m5", covered_cost=69.08)],
    )
    finding = only(run("commitments.compute-commitment", inv), "i-a")
    assert finding["monthly_savings"] == pytest.approx(0.28, abs=CENT)
    inv = with_commitments(
        inventory([instance("i-a", "m5.large")], cpu("i-a", 30)),
        [coverage("savings_plan", family="m5", covered_cost=70.08)],
    )
    assert run("commitments.compute-commitment", inv).is_empty()


def test_no_purchase_while_a_commitment_in_scope_sits_partly_unused() -> None:
    # A regional Linux reservation of the m5 family used at 60%: its unused part applies
    # first, so nothing new is bought for the steady m5.large.
    inv = with_commitments(
        inventory([instance("i-a", "m5.large")], cpu("i-a", 30)),
        [
            reservation("ri-m5", instance_type="m5.xlarge", family="m5", instance_count=1.0,
                        scope="Region", platform="Linux/UNIX", monthly_commitment=100.0),
            measured("ri-m5", utilization=0.6),
        ],
    )  # fmt: skip
    assert run("commitments.compute-commitment", inv).is_empty()


# --- spot ------------------------------------------------------------------------------


def test_spot_price_of_exactly_a_tenth_of_on_demand_is_believed() -> None:
    # On-demand 1.00 $/h, spot 0.10: at the believable line, so (1.00 − 0.10) × 730 = 657.
    inv = inventory(
        [instance("i-web", "m5.large", group="web", hourly_price=1.0)],
        spot_prices=[spot_at(0.1)],
    )
    finding = only(run("commitments.spot", inv), "i-web")
    assert finding["monthly_savings"] == pytest.approx(657.0, abs=CENT)
    assert finding["evidence"]["spot"]["used_hourly_usd"] == pytest.approx(0.1)
    assert finding["detail"] == (
        "i-web (m5.large) is an on-demand member of Auto Scaling group web at $1.0/h; "
        "spot $0.1/h in us-east-1a."
    )
    assert finding["recommendation"] == (
        "Run group web on spot (a mixed instances policy with several types) if its members "
        "are stateless; saves $657.00 a month for i-web."
    )


def test_spot_price_just_under_a_tenth_is_not_believed_and_says_why() -> None:
    # 0.099 < 0.10: the typical 60% off applies instead: 1.00 × 730 × 0.6 = 438.
    inv = inventory(
        [instance("i-web", "m5.large", group="web", hourly_price=1.0)],
        spot_prices=[spot_at(0.099)],
    )
    finding = only(run("commitments.spot", inv), "i-web")
    assert finding["monthly_savings"] == pytest.approx(438.0, abs=CENT)
    assert finding["evidence"]["spot"]["used_hourly_usd"] == pytest.approx(0.4)
    assert finding["detail"].endswith(
        "observed spot $0.099/h not believed (under 10.0% of on-demand); assumed 60.0% off."
    )


def test_no_spot_price_says_the_discount_assumed() -> None:
    inv = inventory([instance("i-web", "m5.large", group="web", hourly_price=1.0)])
    finding = only(run("commitments.spot", inv), "i-web")
    assert finding["detail"].endswith("no spot price observed; assumed 60.0% off.")
    assert finding["evidence"]["spot"]["basis"] == "typical_discount"


def test_spot_at_on_demand_gives_nothing_a_cent_under_gives_a_cent_an_hour() -> None:
    inv = inventory(
        [
            instance("i-even", "m5.large", group="web", hourly_price=0.5),
            instance("i-under", "c5.large", group="web", hourly_price=0.5),
        ],
        spot_prices=[spot_at(0.5, "m5.large"), spot_at(0.49, "c5.large")],
    )
    found = run("commitments.spot", inv)
    assert found["resource_id"].to_list() == ["i-under"]
    assert only(found, "i-under")["monthly_savings"] == pytest.approx(0.01 * 730, abs=CENT)


def test_stateless_tag_values_and_the_confidence_cap() -> None:
    # "yes", "1" and "y" are truthy; "no" is not. Observed spot: 0.6 (+ 0.1 with the tag);
    # the sum is capped at 1.0.
    inv = inventory(
        [
            instance("i-yes", "m5.large", group="web"),
            instance("i-one", "m5.large", group="web"),
            instance("i-y", "m5.large", group="web"),
            instance("i-no", "m5.large", group="web"),
        ],
        tags=[("i-yes", "stateless", "Yes"), ("i-one", "STATELESS", "1"),
              ("i-y", "stateless", "y"), ("i-no", "stateless", "no")],
        spot_prices=[spot_at(0.03)],
    )  # fmt: skip
    found = {r["resource_id"]: r for r in run("commitments.spot", inv).to_dicts()}
    assert {k: round(v["confidence"], 2) for k, v in found.items()} == {
        "i-no": 0.6, "i-one": 0.7, "i-y": 0.7, "i-yes": 0.7,
    }  # fmt: skip
    capped = run("commitments.spot", inv, confidence_observed=0.95)
    assert capped.filter(pl.col("resource_id") == "i-yes")["confidence"].item() == 1.0
    assert capped.filter(pl.col("resource_id") == "i-no")["confidence"].item() == 0.95


# --- commitments held: underused and recover-unused ------------------------------------


def _ri(resource_id: str = "ri-1", **facts: Any) -> dict[str, Any]:
    # One m5.xlarge reserved, 100.00 a month (amortized), a year from 165 days ago.
    return reservation(
        resource_id,
        instance_type="m5.xlarge",
        family="m5",
        instance_count=1.0,
        monthly_commitment=100.0,
        start=NOW - timedelta(days=165),
        expires=NOW + timedelta(days=200),
        **facts,
    )


def test_utilization_alert_is_strictly_under_eighty_percent() -> None:
    # At 80% exactly, no finding; at 79%, 100 × 0.21 = 21.00 paid for nothing.
    inv = with_commitments(
        inventory(),
        [_ri("ri-80"), measured("ri-80", utilization=0.8),
         _ri("ri-79"), measured("ri-79", utilization=0.79)],
    )  # fmt: skip
    found = run("commitments.underused", inv)
    assert found["resource_id"].to_list() == ["ri-79"]
    finding = only(found, "ri-79")
    assert finding["monthly_savings"] == pytest.approx(21.0, abs=CENT)
    assert finding["detail"] == (
        "standard reserved instance (1.0 × m5.xlarge) ri-79 is 79.0% used: $21.00 of its "
        "$100.00 a month pays for nothing until it ends (2025-01-03)."
    )
    assert finding["recommendation"].startswith("Fit running instances to it")
    assert str(finding["savings_start"]) == "2025-01-03"


def test_active_states_and_the_expiry_instant() -> None:
    # payment-pending and queued count as active, retired does not; a commitment that
    # expires at NOW has ended.
    inv = with_commitments(
        inventory(),
        [
            _ri("ri-pending", state="payment-pending"), measured("ri-pending", utilization=0.5),
            _ri("ri-queued", state="Queued"), measured("ri-queued", utilization=0.5),
            _ri("ri-retired", state="retired"), measured("ri-retired", utilization=0.5),
            {**_ri("ri-now"), "expires": NOW}, measured("ri-now", utilization=0.5),
            {**_ri("ri-later"), "expires": NOW + timedelta(seconds=1)},
            measured("ri-later", utilization=0.5),
        ],
    )  # fmt: skip
    found = run("commitments.underused", inv)
    assert found["resource_id"].to_list() == ["ri-later", "ri-pending", "ri-queued"]


def test_a_commitment_costing_nothing_wastes_nothing() -> None:
    inv = with_commitments(
        inventory(), [{**_ri("ri-free"), "monthly_commitment": 0.0},
                      measured("ri-free", utilization=0.1)]
    )  # fmt: skip
    assert run("commitments.underused", inv).is_empty()
    assert run("commitments.recover-unused", inv).is_empty()


def _convertible(account_on_demand: float) -> list[dict[str, Any]]:
    return [
        _ri("ri-conv", offering_class="convertible"),
        measured("ri-conv", utilization=0.5),
        coverage("ri", instance_type="c5.large", family="c5", on_demand_cost=account_on_demand),
        # Savings plans coverage reports the same on-demand spend again, per family: it
        # must not count twice.
        coverage("savings_plan", family="c5", on_demand_cost=account_on_demand),
    ]


def test_a_convertible_exchange_recovers_at_most_the_uncovered_on_demand_spend() -> None:
    # Unused: 100 × 0.5 = 50. With 30 of uncovered on demand in the account, an exchange
    # recovers 30 (sure: confidence 0.75) and 20 stays waste.
    inv = with_commitments(inventory(), _convertible(30.0))
    recover = only(run("commitments.recover-unused", inv), "ri-conv")
    assert recover["monthly_savings"] == pytest.approx(30.0, abs=CENT)
    assert recover["confidence"] == pytest.approx(0.75)
    assert recover["evidence"]["mechanism"] == "exchange"
    assert recover["recommendation"] == (
        "Exchange it for convertible reservations that match instances running on demand; "
        "saves $30.00 a month."
    )
    assert recover["detail"] == (
        "convertible reserved instance (1.0 × m5.xlarge) ri-conv is 50.0% used; $30.00 of "
        "its $100.00 a month can be recovered."
    )
    waste = only(run("commitments.underused", inv), "ri-conv")
    assert waste["monthly_savings"] == pytest.approx(20.0, abs=CENT)
    # 80 uncovered: the exchange takes all 50 unused, and nothing is waste any more.
    inv = with_commitments(inventory(), _convertible(80.0))
    assert only(run("commitments.recover-unused", inv), "ri-conv")["monthly_savings"] == (
        pytest.approx(50.0, abs=CENT)
    )
    assert run("commitments.underused", inv).is_empty()


def test_marketplace_sale_needs_thirty_days_active_and_thirty_one_left() -> None:
    # Sellable at exactly 30 days old and exactly 31 days left; a day short of either, no
    # mechanism recovers anything (and all of the unused part stays waste).
    rows = [
        {**_ri("ri-30d"), "start": NOW - timedelta(days=30)},
        {**_ri("ri-29d"), "start": NOW - timedelta(days=29)},
        {**_ri("ri-31left"), "expires": NOW + timedelta(days=31)},
        {**_ri("ri-30left"), "expires": NOW + timedelta(days=30)},
        {**_ri("ri-undated"), "start": None, "expires": None},
    ]
    ids = [r["resource_id"] for r in rows]
    inv = with_commitments(inventory(), [*rows, *(measured(i, utilization=0.5) for i in ids)])
    sales = run("commitments.recover-unused", inv)
    assert sales["resource_id"].to_list() == ["ri-30d", "ri-31left", "ri-undated"]
    assert sales["monthly_savings"].to_list() == pytest.approx([50.0] * 3, abs=CENT)
    waste = run("commitments.underused", inv)
    assert waste["monthly_savings"].to_list() == pytest.approx([50.0] * 5, abs=CENT)


def test_sale_proceeds_are_the_unused_upfront_left_net_of_the_twelve_percent_fee() -> None:
    # Upfront 1,200, half unused, 200 of its 365 days left: 1200 × 0.5 × 200/365 × 0.88
    # = 289.32 once (evidence, not a monthly saving); confidence 0.4, a possible saving.
    inv = with_commitments(
        inventory(), [_ri("ri-up", upfront_cost=1200.0), measured("ri-up", utilization=0.5)]
    )
    sale = only(run("commitments.recover-unused", inv), "ri-up")
    assert sale["evidence"]["sale_proceeds_once"] == pytest.approx(
        1200 * 0.5 * 200 / 365 * 0.88, abs=CENT
    )
    assert sale["evidence"]["marketplace_fee"] == pytest.approx(0.12)
    assert sale["confidence"] == pytest.approx(0.4)
    assert sale["monthly_savings"] == pytest.approx(50.0, abs=CENT)
    assert "is about $289.32 once" in sale["recommendation"]
    assert "fees pass to the buyer ($50.00 a month)" in sale["recommendation"]


def test_a_savings_plan_recovers_nothing_and_all_its_unused_part_is_waste() -> None:
    inv = with_commitments(
        inventory(),
        [savings_plan("sp-1", monthly_commitment=200.0),
         measured("sp-1", kind="savings_plan", utilization=0.25, region="global")],
    )  # fmt: skip
    waste = only(run("commitments.underused", inv), "sp-1")
    assert waste["monthly_savings"] == pytest.approx(150.0, abs=CENT)
    assert waste["evidence"]["recoverable_monthly"] == 0.0
    assert waste["detail"].startswith("Compute savings plan sp-1 is 25.0% used: $150.00")
    assert run("commitments.recover-unused", inv).is_empty()


# --- expiring --------------------------------------------------------------------------


def _expiring(resource_id: str, expires_in: timedelta, **ce: Any) -> list[dict[str, Any]]:
    return [
        {**_ri(resource_id), "expires": NOW + expires_in},
        measured(resource_id, utilization=1.0, on_demand_equivalent=180.0, **ce),
    ]


def test_expiring_within_thirty_days_inclusive() -> None:
    # 180 on demand − 100 committed × 1.0 used = 80 a month avoided by renewing.
    inv = with_commitments(
        inventory(),
        [*_expiring("ri-30d", timedelta(days=30)),
         *_expiring("ri-late", timedelta(days=30, seconds=1))],
    )  # fmt: skip
    found = run("commitments.expiring", inv)
    assert found["resource_id"].to_list() == ["ri-30d"]
    finding = only(found, "ri-30d")
    assert finding["monthly_savings"] == pytest.approx(80.0, abs=CENT)
    assert finding["category"] == "cost_avoidance"
    assert finding["price_source"] == "live"
    assert finding["detail"] == (
        "Reserved instance ri-30d expires on 2024-07-17 (in 30 days); the usage it covers "
        "would then cost $80.00 more a month on demand."
    )
    assert finding["recommendation"] == (
        "Renew ri-30d for the part in use before 2024-07-17 (compare a savings plan); saves "
        "$80.00 a month against on-demand."
    )


def test_expiring_premium_uses_utilization_and_needs_both_cost_explorer_figures() -> None:
    # Used 60%: 180 − 100 × 0.6 = 120. Cost Explorer's on-demand equivalent without a
    # utilization falls back to list prices: 1 × 730 × 0.192 − 100 = 40.16.
    rows = [
        {**_ri("ri-60"), "expires": NOW + timedelta(days=5)},
        measured("ri-60", utilization=0.6, on_demand_equivalent=180.0),
        {**_ri("ri-half"), "expires": NOW + timedelta(days=5)},
        measured("ri-half", on_demand_equivalent=180.0),
    ]
    found = run("commitments.expiring", with_commitments(inventory(), rows))
    assert only(found, "ri-60")["monthly_savings"] == pytest.approx(120.0, abs=CENT)
    half = only(found, "ri-half")
    assert half["monthly_savings"] == pytest.approx(730 * 0.192 - 100.0, abs=CENT)
    assert half["evidence"]["basis"] == "list_price"
    assert half["evidence"]["list_price"]["hourly_usd"] == pytest.approx(0.192)


def test_an_expiring_savings_plan_without_cost_explorer_is_not_estimated() -> None:
    inv = with_commitments(
        inventory(), [savings_plan("sp-1", monthly_commitment=100.0,
                                   expires=NOW + timedelta(days=5))]
    )  # fmt: skip
    assert run("commitments.expiring", inv).is_empty()


def test_renewal_worth_a_cent_is_shown_worth_nothing_is_not() -> None:
    # On-demand equivalent 100.01 against 100 used in full: 0.01 a month; 100.00: 0.
    rows = [
        {**_ri("ri-cent"), "expires": NOW + timedelta(days=5)},
        measured("ri-cent", utilization=1.0, on_demand_equivalent=100.01),
        {**_ri("ri-even"), "expires": NOW + timedelta(days=5)},
        measured("ri-even", utilization=1.0, on_demand_equivalent=100.0),
    ]
    found = run("commitments.expiring", with_commitments(inventory(), rows))
    assert found["resource_id"].to_list() == ["ri-cent"]


# --- billing: unused commitments -------------------------------------------------------

ARN = "arn:aws:ec2:us-east-1:123456789012:reserved-instances/ri-b"


def _commitment_bill(used: float, unused: float, hours: int = 720) -> Any:
    return billing_inventory(
        [
            hourly_usage("i-1", used, hours=hours, pricing="Committed", status="Used",
                         commitment=ARN),
            hourly_usage(ARN, unused, hours=hours, pricing="Committed", status="Unused",
                         commitment=ARN),
        ]
    )  # fmt: skip


def test_billed_commitment_at_exactly_eighty_percent_is_not_flagged() -> None:
    # 4.00 used and 1.00 unused an hour: 80% used, at the line: no finding.
    assert run("commitments.unused-billing", _commitment_bill(4.0, 1.0)).is_empty()
    # 3.00 and 1.00: 75% used; over 360 billed hours, 360 unused × 730/360 = 730 a month
    # and 4 × 730 = 2,920 current.
    finding = only(run("commitments.unused-billing", _commitment_bill(3.0, 1.0, 360)), ARN)
    assert finding["monthly_savings"] == pytest.approx(730.0, abs=CENT)
    assert finding["current_monthly_cost"] == pytest.approx(2920.0, abs=CENT)
    assert finding["evidence"]["billed_hours"] == pytest.approx(360.0)
    assert finding["resource_name"] == "ri-b"
    assert finding["detail"] == (
        f"Reserved Instance {ARN} was 75.0% used over 360 billed hours: $360.00 of it went "
        "unused ($730.00 a month)."
    )
    assert finding["recommendation"].endswith("recovers up to $730.00 a month.")


# --- billing: steady on-demand spend ---------------------------------------------------


def test_billed_share_at_exactly_the_steady_line_is_flagged() -> None:
    # A 720-hour export; 684 hours is exactly 95% of it, 683 is not. i-684: 684 × 0.5 =
    # 342 over 720 hours, 342 × 730 / 720 = 346.75 a month, saving × 0.28 = 97.09.
    inv = billing_inventory(
        [
            hourly_usage("i-full", 0.5, hours=720),
            hourly_usage("i-684", 0.5, hours=684),
            hourly_usage("i-683", 0.5, hours=683),
        ]
    )
    found = run("commitments.on-demand-billing", inv)
    assert found["resource_id"].to_list() == ["i-684", "i-full"]
    finding = only(found, "i-684")
    assert finding["current_monthly_cost"] == pytest.approx(342 * 730 / 720, abs=CENT)
    assert finding["monthly_savings"] == pytest.approx(342 * 730 / 720 * 0.28, abs=CENT)
    assert finding["evidence"]["hour_share"] == pytest.approx(0.95)
    assert finding["evidence"]["commitment"]["monthly_commitment_usd"] == pytest.approx(
        342 * 730 / 720 * 0.72, abs=CENT
    )
    assert finding["detail"] == (
        "i-684 (Amazon Elastic Compute Cloud) was billed on demand in 684 of 720 hours: "
        "$346.75 a month."
    )
    assert finding["recommendation"] == (
        "Cover i-684 with a 1-year no-upfront savings plan or reservation: saves $97.09 a "
        "month; it pays while it runs more than 72.0% of the hours."
    )


def test_seven_billed_days_are_enough_six_are_not() -> None:
    # Each export covers only its resource, so the share is 100%; the days decide.
    week = billing_inventory([hourly_usage("i-7d", 0.5, hours=7 * 24)])
    assert run("commitments.on-demand-billing", week)["resource_id"].to_list() == ["i-7d"]
    six = billing_inventory([hourly_usage("i-6d", 0.5, hours=6 * 24)])
    assert run("commitments.on-demand-billing", six).is_empty()


def test_free_on_demand_usage_gets_no_commitment() -> None:
    inv = billing_inventory([hourly_usage("i-free", 0.0, hours=720)])
    assert run("commitments.on-demand-billing", inv).is_empty()


# --- the rest of the survivors of the first run ----------------------------------------


def test_recovering_under_a_dollar_is_still_a_finding() -> None:
    # A convertible reservation 50 unused; the account has 0.50 of uncovered on demand:
    # the exchange recovers 0.50 a month (anything over half a cent counts).
    inv = with_commitments(inventory(), _convertible(0.5))
    assert only(run("commitments.recover-unused", inv), "ri-conv")["monthly_savings"] == (
        pytest.approx(0.5, abs=1e-9)
    )


def test_a_reservation_without_upfront_sells_for_no_upfront_value() -> None:
    inv = with_commitments(inventory(), [_ri("ri-nu"), measured("ri-nu", utilization=0.5)])
    sale = only(run("commitments.recover-unused", inv), "ri-nu")
    assert sale["evidence"]["sale_proceeds_once"] == 0.0


def test_a_queued_reservation_has_all_of_its_term_left() -> None:
    # Starts in 10 days: the share of the term left is capped at 1: 1,000 × 0.5 × 1 × 0.88
    # = 440 of upfront value (evidence of the exchange finding).
    rows = [
        {**_ri("ri-q", offering_class="convertible", upfront_cost=1000.0, state="queued"),
         "start": NOW + timedelta(days=10), "expires": NOW + timedelta(days=375)},
        measured("ri-q", utilization=0.5),
        coverage("ri", instance_type="c5.large", family="c5", on_demand_cost=500.0),
    ]  # fmt: skip
    found = only(run("commitments.recover-unused", with_commitments(inventory(), rows)), "ri-q")
    assert found["evidence"]["sale_proceeds_once"] == pytest.approx(440.0, abs=CENT)


def test_expiring_utilization_over_one_counts_as_full_use() -> None:
    # Cost Explorer reporting 120% used: capped at 100%: 180 − 100 = 80, not 60.
    rows = [
        {**_ri("ri-over"), "expires": NOW + timedelta(days=5)},
        measured("ri-over", utilization=1.2, on_demand_equivalent=180.0),
    ]
    found = run("commitments.expiring", with_commitments(inventory(), rows))
    assert only(found, "ri-over")["monthly_savings"] == pytest.approx(80.0, abs=CENT)


def test_billed_commitment_defaults_and_an_hour_of_data() -> None:
    # One hour billed: 0.25 used, 0.25 unused (50%): 0.25 × 730 = 182.50 a month unused,
    # at the default confidence 0.8.
    finding = only(run("commitments.unused-billing", _commitment_bill(0.25, 0.25, 1)), ARN)
    assert finding["monthly_savings"] == pytest.approx(182.5, abs=CENT)
    assert finding["confidence"] == pytest.approx(0.8)


def test_billed_commitment_with_no_billed_time_is_not_scaled() -> None:
    # One charge period that starts and ends at the same instant: no hours to scale from.
    rows = [
        hourly_usage("i-1", 0.5, hours=1, pricing="Committed", status="Used", commitment=ARN),
        hourly_usage(ARN, 0.5, hours=1, pricing="Committed", status="Unused", commitment=ARN),
    ]
    inv = billing_inventory([f.with_columns(pl.col("ChargePeriodStart").alias("ChargePeriodEnd"))
                             for f in rows])  # fmt: skip
    assert run("commitments.unused-billing", inv).is_empty()


def test_billed_commitment_type_and_region_come_from_the_first_row_that_has_them() -> None:
    # The first day's rows lack the commitment's type; later rows name it.
    early = hourly_usage("i-1", 0.3, hours=24, pricing="Committed", status="Used",
                         commitment=ARN).with_columns(
        pl.lit(None, dtype=pl.String).alias("CommitmentDiscountType")
    )  # fmt: skip
    later = hourly_usage(ARN, 0.7, hours=24, pricing="Committed", status="Unused",
                         commitment=ARN, start=NOW - timedelta(days=29))  # fmt: skip
    inv = billing_inventory([early, later])
    finding = only(run("commitments.unused-billing", inv), ARN)
    assert finding["resource_type"] == "Reserved Instance"


def test_on_demand_resource_name_comes_from_the_first_row_that_has_one() -> None:
    early = hourly_usage("i-named", 0.5, hours=24).with_columns(
        pl.lit(None, dtype=pl.String).alias("ResourceName")
    )
    later = hourly_usage("i-named", 0.5, hours=696, start=NOW - timedelta(days=29)).with_columns(
        pl.lit("web-1").alias("ResourceName")
    )
    finding = only(
        run("commitments.on-demand-billing", billing_inventory([early, later])), "i-named"
    )
    assert finding["resource_name"] == "web-1"


def test_an_export_of_one_hour_can_be_steady_when_one_day_is_enough() -> None:
    # min_days 1: one hour billed of a one-hour export, 0.5 × 730 = 365 a month, × 0.28.
    inv = billing_inventory([hourly_usage("i-hour", 0.5, hours=1)])
    finding = only(run("commitments.on-demand-billing", inv, min_days=1), "i-hour")
    assert finding["monthly_savings"] == pytest.approx(365.0 * 0.28, abs=CENT)


def test_half_a_cent_left_uncovered_is_float_noise_not_a_purchase() -> None:
    # An instance costing 0.01 a month (1/73,000 $/h, to the last bit) with a savings plan
    # covering 0.005 of it: 0.005 left, at the noise line: no finding. The plan covering
    # 0.004 leaves 0.006: a finding saving 0.006 × 0.28.
    tiny = 1.3698630136986302e-05

    def found(plan: float) -> pl.DataFrame:
        inv = with_commitments(
            inventory([instance("i-tiny", "m5.large", hourly_price=tiny)], cpu("i-tiny", 30)),
            [coverage("savings_plan", family="m5", covered_cost=plan)],
        )
        return run("commitments.compute-commitment", inv)

    assert found(0.005).is_empty()
    assert only(found(0.004), "i-tiny")["monthly_savings"] == pytest.approx(0.006 * 0.28)


def test_default_discounts_and_confidences_of_the_billing_estimate() -> None:
    # Azure and Google Cloud at their published 1-year planning figure, 28% each; a row
    # priced "On-Demand" (older exports) counts as list price; 0.72 of spend in total is
    # still spend. Confidence 0.75 by default.
    def provider(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return frame.with_columns(pl.lit(name).alias("ProviderName"))

    inv = billing_inventory(
        [
            provider(hourly_usage("vm-azure", 0.2, hours=720), "Microsoft"),
            provider(hourly_usage("vm-gcp", 0.2, hours=720), "Google Cloud"),
            hourly_usage("i-old", 0.2, hours=720, pricing="On-Demand"),
            hourly_usage("i-cheap", 0.001, hours=720),
            # A purchase (an upfront fee) is no usage: never counted.
            hourly_usage("i-bought", 5.0, hours=720).with_columns(
                pl.lit("Purchase").alias("ChargeCategory")
            ),
        ]
    )
    found = {r["resource_id"]: r for r in run("commitments.on-demand-billing", inv).to_dicts()}
    assert sorted(found) == ["i-cheap", "i-old", "vm-azure", "vm-gcp"]
    for rid in ("vm-azure", "vm-gcp", "i-old"):
        assert found[rid]["monthly_savings"] == pytest.approx(0.2 * 730 * 0.28, abs=CENT), rid
        assert found[rid]["confidence"] == pytest.approx(0.75)
    assert found["i-cheap"]["monthly_savings"] == pytest.approx(0.73 * 0.28, abs=1e-6)


def test_default_confidences_of_the_held_commitment_findings() -> None:
    inv = with_commitments(inventory(), [_ri("ri-d"), measured("ri-d", utilization=0.5)])
    assert only(run("commitments.underused", inv), "ri-d")["confidence"] == pytest.approx(0.9)
    steady = inventory([instance("i-a", "m5.large")], cpu("i-a", 30))
    finding = only(run("commitments.compute-commitment", steady), "i-a")
    assert finding["confidence"] == pytest.approx(0.75)


def test_coverage_of_an_unnamed_account_applies_to_that_accounts_instances() -> None:
    # A scan that could not name the account (account_id null on both sides): Cost
    # Explorer's 730 reserved hours still cover the m5.large, and a plan's 35.04 covers
    # part of the m5.xlarge's 140.16: 105.12 left, × 0.28 = 29.4336 saved.
    def unnamed(row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "account_id": None}

    inv = with_commitments(
        inventory(
            [unnamed(instance("i-a", "m5.large")), unnamed(instance("i-b", "m5.xlarge"))],
            [*cpu("i-a", 30), *cpu("i-b", 30)],
        ),
        [
            unnamed(coverage("ri", instance_type="m5.large", family="m5", covered_hours=730.0)),
            unnamed(coverage("savings_plan", family="m5", covered_cost=35.04)),
        ],
    )
    found = run("commitments.compute-commitment", inv)
    assert found["resource_id"].to_list() == ["i-b"]
    finding = only(found, "i-b")
    assert finding["monthly_savings"] == pytest.approx((140.16 - 35.04) * 0.28, abs=CENT)


def test_commitments_of_cents_waste_and_recover_from_over_half_a_cent() -> None:
    # 0.50 a month at 50%: 0.25 paid for nothing (and sold, 0.25 recovered). 0.01 at 50%:
    # 0.005, float noise: neither finding.
    inv = with_commitments(
        inventory(),
        [{**_ri("ri-half"), "monthly_commitment": 0.5}, measured("ri-half", utilization=0.5),
         {**_ri("ri-cent"), "monthly_commitment": 0.01}, measured("ri-cent", utilization=0.5)],
    )  # fmt: skip
    waste = run("commitments.underused", inv)
    assert waste["resource_id"].to_list() == ["ri-half"]
    assert waste["monthly_savings"].to_list() == pytest.approx([0.25], abs=1e-9)
    sale = run("commitments.recover-unused", inv)
    assert sale["resource_id"].to_list() == ["ri-half"]


def test_a_convertible_with_no_uncovered_usage_to_exchange_into_recovers_nothing() -> None:
    # No coverage figures for the account: nothing known to exchange into: 0 recovered,
    # all 50 unused stays waste.
    inv = with_commitments(
        inventory(),
        [_ri("ri-conv", offering_class="convertible"), measured("ri-conv", utilization=0.5)],
    )
    assert run("commitments.recover-unused", inv).is_empty()
    assert only(run("commitments.underused", inv), "ri-conv")["monthly_savings"] == (
        pytest.approx(50.0, abs=CENT)
    )


def test_an_undated_reservation_has_no_upfront_value_left_to_sell() -> None:
    # Start unknown: the share of the term left is unknown and counted as 0 (count less).
    rows = [{**_ri("ri-u", upfront_cost=1200.0), "start": None}, measured("ri-u", utilization=0.5)]
    sale = only(run("commitments.recover-unused", with_commitments(inventory(), rows)), "ri-u")
    assert sale["evidence"]["sale_proceeds_once"] == 0.0


def test_expiring_premium_at_half_a_cent_is_noise_and_plans_are_never_list_priced() -> None:
    # 0.01 on demand against 0.01 committed used at 50%: 0.005 a month, not a finding. A
    # savings plan that names a type and a count still has no list-price estimate (only
    # reservations are priced per instance).
    rows = [
        {**_ri("ri-noise"), "monthly_commitment": 0.01, "expires": NOW + timedelta(days=5)},
        measured("ri-noise", utilization=0.5, on_demand_equivalent=0.01),
        savings_plan("sp-typed", monthly_commitment=10.0, instance_type="m5.large",
                     instance_count=1.0, region="us-east-1", expires=NOW + timedelta(days=5)),
    ]  # fmt: skip
    assert run("commitments.expiring", with_commitments(inventory(), rows)).is_empty()


def test_an_export_spanning_no_time_gives_no_on_demand_estimate() -> None:
    # One charge that starts and ends at the same instant: no period to scale a month from.
    row = hourly_usage("i-instant", 0.5, hours=1)
    inv = billing_inventory(
        [row.with_columns(pl.col("ChargePeriodStart").alias("ChargePeriodEnd"))]
    )
    assert run("commitments.on-demand-billing", inv, min_days=1).is_empty()
