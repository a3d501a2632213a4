"""Rightsizing policies on small hand-built inventories, savings checked to the cent."""

from __future__ import annotations

import polars as pl
import pytest

from costscan.policies._compute import HOURS_PER_MONTH
from tests.policies.inventories import (
    alternating,
    cpu,
    hourly,
    instance,
    inventory,
    network,
    only,
    price,
    run,
)

CENT = 0.005

# --------------------------------------------------------------------------- idle


def test_idle_instance_saves_its_whole_price() -> None:
    inv = inventory(
        [instance("i-idle", "m5.large")],
        [*cpu("i-idle", 0.3, maximum=0.8), *network("i-idle", 500_000, 200_000)],
    )
    finding = only(run("rightsizing.idle", inv), "i-idle")

    expected = price("m5.large") * 730
    assert finding["monthly_savings"] == pytest.approx(expected, abs=CENT)
    assert finding["current_monthly_cost"] == pytest.approx(expected, abs=CENT)
    assert finding["action"] == "remove"
    assert finding["confidence"] == pytest.approx(0.9)
    evidence = finding["evidence"]
    assert evidence["cpu"]["max_percent"] == pytest.approx(0.8)
    assert evidence["cpu"]["hours"] == 336
    # 500,000 bytes in an hour is 138.9 B/s, under GCP's 2,000 B/s idle line.
    assert evidence["network"]["in_bytes_per_second"] == pytest.approx(500_000 / 3600)
    assert evidence["price"] == {
        "instance_type": "m5.large",
        "hourly_usd": 0.096,
        "monthly_usd": pytest.approx(expected),
        "source": "bundled",
    }


def test_idle_needs_max_cpu_at_or_under_one_percent() -> None:
    inv = inventory(
        [instance("i-blip", "m5.large"), instance("i-edge", "m5.large")],
        [*cpu("i-blip", 0.3, maximum=1.5), *cpu("i-edge", 0.3, maximum=1.0)],
    )
    found = run("rightsizing.idle", inv)
    assert found["resource_id"].to_list() == ["i-edge"]


def test_idle_cpu_with_busy_network_is_not_idle() -> None:
    # 20 MB an hour received is 5,556 B/s: something talks to it.
    inv = inventory(
        [instance("i-proxy", "m5.large")],
        [*cpu("i-proxy", 0.2, maximum=0.5), *network("i-proxy", 20_000_000, 100_000)],
    )
    assert run("rightsizing.idle", inv).is_empty()


def test_idle_ignores_stopped_instances() -> None:
    inv = inventory(
        [instance("i-stopped", "m5.large", state="stopped")],
        cpu("i-stopped", 0.1, maximum=0.2),
    )
    assert run("rightsizing.idle", inv).is_empty()


def test_idle_without_network_data_has_lower_confidence() -> None:
    inv = inventory([instance("i-quiet", "m5.xlarge")], cpu("i-quiet", 0.2, maximum=0.4))
    finding = only(run("rightsizing.idle", inv), "i-quiet")
    assert finding["confidence"] == pytest.approx(0.7)
    assert finding["monthly_savings"] == pytest.approx(0.192 * 730, abs=CENT)


def test_idle_uses_the_instance_price_not_the_catalogue() -> None:
    inv = inventory(
        [instance("i-billed", "m5.large", hourly_price=0.081, price_source="billing")],
        cpu("i-billed", 0.2, maximum=0.4),
    )
    finding = only(run("rightsizing.idle", inv), "i-billed")
    assert finding["monthly_savings"] == pytest.approx(0.081 * 730, abs=CENT)
    assert finding["price_source"] == "billing"


# --------------------------------------------------------------------------- over-provisioned


def test_overprovisioned_moves_to_cheapest_type_under_the_70_percent_line() -> None:
    # p99 CPU 15% on 16 vCPU -> 60% on 4 vCPU; p99 memory 15% of 64 GiB = 9.6 GiB ->
    # 60% of m5.xlarge's 16 GiB. c5.xlarge is cheaper but its 8 GiB cannot hold 9.6 GiB.
    inv = inventory(
        [instance("i-big", "m5.4xlarge")],
        [*cpu("i-big", alternating(10, 15)), hourly("i-big", "memory", "average", 15)],
    )
    finding = only(run("rightsizing.overprovisioned", inv), "i-big")

    assert finding["monthly_savings"] == pytest.approx((0.768 - 0.192) * 730, abs=CENT)
    assert finding["current_monthly_cost"] == pytest.approx(0.768 * 730, abs=CENT)
    assert finding["action"] == "resize"
    assert finding["confidence"] == pytest.approx(0.85)
    evidence = finding["evidence"]
    assert evidence["candidate"]["instance_type"] == "m5.xlarge"
    assert evidence["cpu"]["p99_percent"] == pytest.approx(15.0)
    assert evidence["cpu"]["projected_p99_percent"] == pytest.approx(15.0 * 16 / 4)
    assert evidence["memory"]["used_gib"] == pytest.approx(9.6)
    assert evidence["memory"]["projected_p99_percent"] == pytest.approx(9.6 / 16 * 100)


def test_an_oversized_instance_without_memory_data_still_gets_a_smaller_type() -> None:
    # The m5.4xlarge (16 vCPU, 64 GiB) peaking at 15% CPU, no memory metrics: as
    # Cost Explorer does, sized from CPU, keeping at least half the memory (32 GiB).
    # p99 15% × 16 / 4 vCPU = 60% <= 70%; 2 vCPU would be 120%. The cheapest 4-vCPU type
    # with >= 32 GiB: r5.xlarge at $0.252 (m5.xlarge has only 16 GiB).
    inv = inventory([instance("i-big", "m5.4xlarge")], cpu("i-big", alternating(10, 15)))
    finding = only(run("rightsizing.overprovisioned", inv), "i-big")
    assert finding["evidence"]["candidate"]["instance_type"] == "r5.xlarge"
    assert finding["monthly_savings"] == pytest.approx((0.768 - 0.252) * 730, abs=CENT)
    assert finding["confidence"] == pytest.approx(0.6)  # above the 0.5 floor: counted
    assert finding["evidence"]["memory"]["data"] is False
    assert "confirm memory use first" in finding["detail"]


def test_overprovisioned_memory_floor_param_allows_smaller_memory() -> None:
    inv = inventory([instance("i-big", "m5.4xlarge")], cpu("i-big", alternating(10, 15)))
    finding = only(run("rightsizing.overprovisioned", inv, memory_floor_without_data=0.25), "i-big")
    assert finding["evidence"]["candidate"]["instance_type"] == "m5.xlarge"
    assert finding["monthly_savings"] == pytest.approx((0.768 - 0.192) * 730, abs=CENT)


def test_overprovisioned_under_30_hours_of_data_has_low_confidence() -> None:
    inv = inventory(
        [instance("i-new", "m5.4xlarge")],
        [*cpu("i-new", 12, hours=20), hourly("i-new", "memory", "average", 15, hours=20)],
    )
    finding = only(run("rightsizing.overprovisioned", inv), "i-new")
    assert finding["confidence"] == pytest.approx(0.3)
    assert finding["evidence"]["cpu"]["hours"] == 20


def test_busy_instance_is_not_overprovisioned() -> None:
    # p99 50% on 16 vCPU would be 100% on 8: no cheaper x86 type fits.
    inv = inventory(
        [instance("i-busy", "m5.4xlarge")],
        [*cpu("i-busy", alternating(40, 50)), hourly("i-busy", "memory", "average", 15)],
    )
    assert run("rightsizing.overprovisioned", inv).is_empty()


def test_memory_bound_instance_is_not_overprovisioned() -> None:
    # Low CPU but 90% of 64 GiB used: 57.6 GiB needs >= 72 GiB at the 80% line.
    inv = inventory(
        [instance("i-cache", "m5.4xlarge")],
        [*cpu("i-cache", 5), hourly("i-cache", "memory", "average", 90)],
    )
    assert run("rightsizing.overprovisioned", inv).is_empty()


def test_overprovisioned_never_recommends_burstable_for_a_fixed_performance_type() -> None:
    # t3.large (2 vCPU, 8 GiB, $0.0832) would fit, but m5.xlarge is not burstable: the
    # cheapest fixed-performance 2-vCPU type of its generation or newer is m5a.large.
    inv = inventory(
        [instance("i-m", "m5.xlarge")],
        [*cpu("i-m", 10), hourly("i-m", "memory", "average", 35)],
    )
    finding = only(run("rightsizing.overprovisioned", inv), "i-m")
    assert finding["evidence"]["candidate"]["instance_type"] == "m5a.large"
    assert finding["monthly_savings"] == pytest.approx((0.192 - 0.086) * 730, abs=CENT)


# --------------------------------------------------------------------------- previous generation


def test_previous_generation_moves_to_current_generation_same_size() -> None:
    inv = inventory([instance("i-old", "m4.xlarge")])
    finding = only(run("rightsizing.previous-generation", inv), "i-old")
    # m5.xlarge and m6i.xlarge both cost $0.192; the name breaks the tie.
    assert finding["evidence"]["candidate"]["instance_type"] == "m5.xlarge"
    assert finding["monthly_savings"] == pytest.approx((0.20 - 0.192) * 730, abs=CENT)
    assert finding["current_monthly_cost"] == pytest.approx(0.20 * 730, abs=CENT)
    assert finding["performance"] == "improves"
    assert finding["action"] == "resize"


def test_current_generation_and_stopped_instances_are_not_flagged() -> None:
    inv = inventory(
        [instance("i-new", "m5.xlarge"), instance("i-off", "m4.xlarge", state="stopped")]
    )
    assert run("rightsizing.previous-generation", inv).is_empty()


def test_previous_generation_needs_a_cheaper_target() -> None:
    # Billed below the current-generation list price: moving would cost more.
    inv = inventory([instance("i-cheap", "m4.xlarge", hourly_price=0.15)])
    assert run("rightsizing.previous-generation", inv).is_empty()


# --------------------------------------------------------------------------- graviton


@pytest.mark.parametrize(
    ("current", "target"),
    [("m5.xlarge", "m6g.xlarge"), ("t3.medium", "t4g.medium"), ("m5.large", "m6g.large")],
)
def test_graviton_candidate_is_the_cheapest_arm64_type_of_the_same_size(
    current: str, target: str
) -> None:
    inv = inventory([instance("i-x86", current)])
    finding = only(run("rightsizing.graviton", inv), "i-x86")
    assert finding["evidence"]["candidate"]["instance_type"] == target
    expected = (price(current) - price(target)) * 730
    assert finding["monthly_savings"] == pytest.approx(expected, abs=CENT)
    assert finding["risk"] == "medium"


def test_graviton_skips_arm_instances_and_classes_without_a_same_size_arm_type() -> None:
    # m6g.large is already arm64; the table has no c6g.xlarge for c5.xlarge.
    inv = inventory([instance("i-arm", "m6g.large"), instance("i-c5", "c5.xlarge")])
    assert run("rightsizing.graviton", inv).is_empty()


# --------------------------------------------------------------------------- under-provisioned


def test_underprovisioned_is_a_bottleneck_priced_at_the_next_size_up() -> None:
    inv = inventory([instance("i-hot", "m5.large")], cpu("i-hot", alternating(88, 97)))
    finding = only(run("rightsizing.underprovisioned", inv), "i-hot")
    assert finding["action"] == "bottleneck"
    assert finding["monthly_savings"] == 0.0
    assert finding["added_monthly_cost"] == pytest.approx((0.192 - 0.096) * 730, abs=CENT)
    assert finding["current_monthly_cost"] == pytest.approx(0.096 * 730, abs=CENT)
    assert finding["evidence"]["next_size"]["instance_type"] == "m5.xlarge"
    assert finding["evidence"]["cpu"]["p95_percent"] > 85


def test_underprovisioned_at_the_largest_size_still_reports_with_no_added_cost() -> None:
    inv = inventory([instance("i-top", "m5.4xlarge")], cpu("i-top", 95))
    finding = only(run("rightsizing.underprovisioned", inv), "i-top")
    assert finding["added_monthly_cost"] == 0.0
    assert finding["evidence"]["next_size"]["instance_type"] is None


def test_instance_under_the_alert_line_is_not_a_bottleneck() -> None:
    # p95 of hourly averages that are 80% with a rare 99% spike stays under 85%.
    spikes = pl.when(pl.col("hour") == 3).then(pl.lit(99.0)).otherwise(pl.lit(80.0))
    inv = inventory([instance("i-warm", "m5.large")], cpu("i-warm", spikes))
    assert run("rightsizing.underprovisioned", inv).is_empty()


def test_every_instance_finding_uses_the_same_monthly_base() -> None:
    inv = inventory(
        [instance("i-big", "m5.4xlarge")],
        [*cpu("i-big", alternating(10, 15)), hourly("i-big", "memory", "average", 15)],
    )
    bases = {
        policy_id: only(run(policy_id, inv), "i-big")["current_monthly_cost"]
        for policy_id in ("rightsizing.overprovisioned", "rightsizing.graviton")
    }
    assert all(base == pytest.approx(0.768 * HOURS_PER_MONTH) for base in bases.values())
