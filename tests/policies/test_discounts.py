"""Savings after existing commitments (policies/_discounts.py), on small inventories whose
right answers are worked out by hand here."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest

from costscan.reports.ranking import rank
from costscan.scanner.contracts.inventory import Inventory
from tests.policies.commitment_inventories import (
    coverage,
    measured,
    reservation,
    savings_plan,
    with_commitments,
)
from tests.policies.inventories import (
    NOW,
    cpu,
    instance,
    inventory,
    network,
    prices_frame,
    run,
)

CENT = 0.01
HOURS = 730.0
RI_ENDS = NOW + timedelta(days=200)
R5, R6G = 0.126, 0.1008


def _fleet(n: int, instance_type: str = "r5.large") -> list[dict[str, Any]]:
    return [instance(f"i-{k:02d}", instance_type) for k in range(n)]


def _covered_r5_fleet(n: int, reserved: int, utilization: float = 1.0) -> Inventory:
    """``n`` r5.large, a regional Linux RI for ``reserved`` of them, and Cost Explorer's
    coverage: the uncovered r5 on demand a month."""
    inv = inventory(_fleet(n))
    uncovered = max(n - reserved, 0) * R5 * HOURS
    return with_commitments(
        inv,
        [
            reservation(
                "ri-r5",
                instance_type="r5.large",
                family="r5",
                instance_count=reserved,
                scope="Region",
                platform="Linux/UNIX",
                monthly_commitment=reserved * R5 * 0.63 * HOURS,
                expires=RI_ENDS,
            ),
            measured("ri-r5", utilization=utilization),
            coverage("ri", instance_type="r5.large", on_demand_cost=uncovered),
        ],
    )


def _by_resource(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["resource_id"]: row for row in frame.to_dicts()}


def test_a_fully_covered_fleet_moved_to_graviton_saves_only_when_the_reservation_ends() -> None:
    # The r5.large fleet, all covered by an active reservation: moving it to r6g
    # takes all its r5 usage out of the reservation's family (0.126 × 730 = 91.98 each)
    # and nothing uncovered is left to absorb it, so the bill drops by nothing now; the
    # list saving (0.126 − 0.1008) × 730 = 18.396 each starts when the reservation ends.
    found = _by_resource(run("rightsizing.graviton", _covered_r5_fleet(4, reserved=4)))
    for row in found.values():
        assert row["monthly_savings_before_discounts"] == pytest.approx(
            (R5 - R6G) * HOURS, abs=CENT
        )
        assert row["monthly_savings"] == 0.0
        assert row["deferred_monthly_savings"] == pytest.approx((R5 - R6G) * HOURS, abs=CENT)
        assert row["savings_start"] == RI_ENDS.date()
        assert row["scope_usage_removed_monthly"] == pytest.approx(R5 * HOURS)
        assert row["scope_uncovered_monthly"] == 0.0


def test_a_partly_covered_fleet_saves_now_what_the_uncovered_usage_absorbs() -> None:
    # 5 r5.large, a reservation for 3: 2 × 91.98 = 183.96 a month runs on demand. Each move
    # to r6g takes out 91.98 of r5 usage; the reservation floats to the rest, so the first
    # two moves land on uncovered usage and save their full 18.396 now; the other three
    # would leave the reservation unused: they save only when it ends. Ranking spends the
    # pool once across findings (rule 7).
    inv = _covered_r5_fleet(5, reserved=3)
    ranked = rank(run("rightsizing.graviton", inv), hourly_rate=100.0).findings
    saving = (R5 - R6G) * HOURS
    group = ranked.filter(pl.col("member_count").is_not_null())
    now = group.filter(pl.col("category") == "savings").row(0, named=True)
    later = group.filter(pl.col("category") == "deferred").row(0, named=True)
    assert now["member_count"] == 2 and now["monthly_savings"] == pytest.approx(
        2 * saving, abs=CENT
    )
    assert later["member_count"] == 3
    assert later["deferred_monthly_savings"] == pytest.approx(3 * saving, abs=CENT)
    assert later["monthly_savings"] == 0.0 and not later["counted"]


def test_stopping_an_idle_covered_instance_is_deferred_and_never_in_the_headline() -> None:
    # One of four reserved r5.large is idle: stopping it frees 91.98 of reservation no
    # other usage takes up; the bill drops when the reservation ends.
    inv = _covered_r5_fleet(4, reserved=4)
    inv.add("utilization", pl.concat([*cpu("i-00", 0.3), *network("i-00", 100.0, 50.0)]))
    finding = run("rightsizing.idle", inv).row(0, named=True)
    assert finding["monthly_savings"] == 0.0
    assert finding["deferred_monthly_savings"] == pytest.approx(R5 * HOURS, abs=CENT)
    ranked = rank(run("rightsizing.idle", inv), hourly_rate=100.0)
    assert ranked.summary["monthly_savings"] == 0.0
    assert ranked.summary["deferred_monthly_savings"] == pytest.approx(R5 * HOURS, abs=CENT)
    assert ranked.findings["category"].to_list() == ["deferred"]


def test_an_under_used_commitment_absorbs_nothing() -> None:
    # The reservation already sits 30% unused, whatever Cost Explorer says runs on demand
    # in its family: freeing more of it only adds to that.
    inv = _covered_r5_fleet(5, reserved=3, utilization=0.7)
    found = run("rightsizing.graviton", inv)
    assert found["monthly_savings"].to_list() == [0.0] * 5


def test_a_partly_used_compute_savings_plan_defers_every_ec2_saving_in_the_account() -> None:
    # A Compute Savings Plan applies to all EC2 usage of the account; at 60% used it has
    # spare capacity, so resizing any instance frees usage only it would have paid for.
    inv = inventory([instance("i-big", "m5.4xlarge")], cpu("i-big", 8))
    with_commitments(
        inv,
        [
            savings_plan("sp-1", monthly_commitment=1.5 * HOURS, expires=RI_ENDS),
            measured("sp-1", kind="savings_plan", utilization=0.6, region="global"),
            coverage("savings_plan", family="m5", on_demand_cost=0.0),
        ],
    )
    finding = run("rightsizing.overprovisioned", inv).row(0, named=True)
    assert finding["monthly_savings"] == 0.0
    assert finding["deferred_monthly_savings"] == pytest.approx(
        finding["monthly_savings_before_discounts"], abs=CENT
    )
    assert finding["commitment_scope"].startswith("sp|")


def test_a_fully_used_compute_plan_lets_a_move_to_another_family_save_now() -> None:
    # A Compute Savings Plan covers any family, so a move to m6g stays in its scope: the
    # change frees only the price difference, which the account's uncovered on-demand
    # usage (400 a month) absorbs.
    inv = inventory([instance("i-m", "m5.xlarge")])
    with_commitments(
        inv,
        [
            savings_plan("sp-1", monthly_commitment=1.0 * HOURS, expires=RI_ENDS),
            measured("sp-1", kind="savings_plan", utilization=1.0, region="global"),
            coverage("savings_plan", family="m5", on_demand_cost=400.0),
        ],
    )
    finding = run("rightsizing.graviton", inv).row(0, named=True)
    assert finding["monthly_savings"] == pytest.approx((0.192 - 0.154) * HOURS, abs=CENT)
    assert finding["deferred_monthly_savings"] == 0.0


def test_no_commitment_is_bought_where_one_sits_unused() -> None:
    # Steady m5.xlarge on demand, but an under-used Compute plan covers the account: its
    # unused part applies first, so nothing new is recommended.
    inv = inventory([instance("i-steady", "m5.xlarge")], cpu("i-steady", 40))
    assert not run("commitments.compute-commitment", inv).is_empty()
    with_commitments(
        inv,
        [
            savings_plan("sp-1", monthly_commitment=1.0 * HOURS, expires=RI_ENDS),
            measured("sp-1", kind="savings_plan", utilization=0.5, region="global"),
        ],
    )
    assert run("commitments.compute-commitment", inv).is_empty()


def test_a_convertible_reservation_is_exchanged_into_uncovered_usage() -> None:
    # A convertible RI half used (200 a month unused), 120 a month of the account's EC2
    # runs on demand: the exchange recovers 120 (savings); the other 80 stays waste.
    inv = with_commitments(
        inventory(),
        [
            reservation(
                "ri-conv",
                offering_class="convertible",
                instance_type="m5.large",
                instance_count=4,
                monthly_commitment=400.0,
                start=NOW - timedelta(days=100),
            ),
            measured("ri-conv", utilization=0.5),
            coverage("ri", instance_type="c5.large", on_demand_cost=120.0),
        ],
    )
    recovered = run("commitments.recover-unused", inv).row(0, named=True)
    assert recovered["monthly_savings"] == pytest.approx(120.0)
    assert recovered["confidence"] == pytest.approx(0.75)
    waste = run("commitments.underused", inv).row(0, named=True)
    assert waste["category"] == "waste" and waste["monthly_savings"] == pytest.approx(80.0)


def test_generation_rules_never_move_to_an_older_generation() -> None:
    # m6i.large: m5a.large is cheaper ($0.086 against $0.096) with the same shape, but it is
    # generation 5: no "newer generation" move, no downsize, no Graviton goes there. Even
    # with m6i wrongly marked previous generation (as moto 5.2 marks it), the issue's
    # m6i.large -> m5a.large never comes back.
    inv = inventory([instance("i-new", "m6i.large")], cpu("i-new", 5), with_prices=False)
    inv.add(
        "prices",
        prices_frame().with_columns(
            pl.when(pl.col("family") == "m6i")
            .then(False)
            .otherwise(pl.col("current_generation"))
            .alias("current_generation")
        ),
    )
    targets = []
    for policy_id in (
        "rightsizing.previous-generation",
        "rightsizing.overprovisioned",
        "rightsizing.graviton",
    ):
        for row in run(policy_id, inv).to_dicts():
            targets.append(json.loads(row["evidence"])["candidate"]["instance_type"])
    assert targets == ["m6g.large"]  # the Graviton move, a generation 6 type


def test_savings_start_is_a_date() -> None:
    row = run("rightsizing.graviton", _covered_r5_fleet(1, reserved=1)).row(0, named=True)
    assert isinstance(row["savings_start"], date)
