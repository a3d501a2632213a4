"""Rightsizing rules at each threshold, worked by hand (issue 21).

The lookback is 14 days of hourly data ending Monday 2024-06-17 00:00 UTC, prices are AWS
us-east-1 Linux on-demand list prices (tests/policies/inventories.py), 730 hours a month.
Written against the mutants that survived tests/policies/test_rightsizing.py
(``python benchmarks/mutation.py policies/rightsizing.py``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
import pytest

from costscan.policies.rightsizing import (
    COMPUTE_OPTIMIZER_MIN_HOURS,
    BillingIdleParams,
    GcpArmParams,
    GravitonParams,
    IdleParams,
    OverprovisionedParams,
    UnderprovisionedParams,
)
from tests.policies.inventories import (
    alternating,
    cpu,
    hourly,
    instance,
    inventory,
    only,
    price,
    prices_frame,
    run,
)
from tests.policies.test_billing_idle import HOURS, line_items
from tests.policies.test_billing_idle import inventory as billing_inventory
from tests.policies.test_billing_idle import only as billing_only
from tests.policies.test_billing_idle import run as billing_run
from tests.policies.test_gcp_commitments import vm as gcp_vm
from tests.policies.test_gcp_sustained_use import inventory as gcp_inventory

CENT = 0.005
M5_LARGE_MONTH = 0.096 * 730  # $70.08


def quiet_network(
    resource_id: str, in_per_s: float | None, out_per_s: float | None
) -> list[pl.DataFrame]:
    """Hourly network sums (bytes an hour) whose rate is ``in_per_s`` / ``out_per_s`` B/s;
    a series given as None is left out."""
    frames = []
    if in_per_s is not None:
        frames.append(hourly(resource_id, "network_in", "sum", in_per_s * 3600))
    if out_per_s is not None:
        frames.append(hourly(resource_id, "network_out", "sum", out_per_s * 3600))
    return frames


def idle_box(in_per_s: float | None, out_per_s: float | None, *, hours: int = 336) -> pl.DataFrame:
    inv = inventory(
        [instance("i-idle", "m5.large")],
        [
            *cpu("i-idle", 0.3, maximum=0.8, hours=hours),
            *quiet_network("i-idle", in_per_s, out_per_s),
        ],
    )
    return run("rightsizing.idle", inv)


# --------------------------------------------------------------------------- idle


def test_the_published_idle_lines_are_the_defaults() -> None:
    # Cost Explorer's idle CPU line (at or below 1%), GCP Recommender's network lines
    # (under 2,000 B/s in, 1,000 B/s out, at p95) and Compute Optimizer's 30 hours.
    p = IdleParams()
    assert (p.max_cpu_percent, p.network_percentile) == (1.0, 0.95)
    assert (p.max_network_in_bytes_per_second, p.max_network_out_bytes_per_second) == (
        2000.0,
        1000.0,
    )
    assert p.min_hours == COMPUTE_OPTIMIZER_MIN_HOURS == 30
    assert (p.confidence, p.confidence_without_network, p.confidence_short_history) == (
        0.9,
        0.7,
        0.4,
    )


@pytest.mark.parametrize(
    ("in_per_s", "out_per_s", "idle"),
    [
        # GCP's lines are strict: under 2,000 B/s received and under 1,000 B/s sent.
        (1999.4, 999.4, True),
        (2000.0, 999.0, False),
        (1999.0, 1000.0, False),
        (2001.0, 0.0, False),
        (0.0, 1001.0, False),
    ],
)
def test_network_lines_are_strict(in_per_s: float, out_per_s: float, idle: bool) -> None:
    found = idle_box(in_per_s, out_per_s)
    if idle:
        finding = only(found, "i-idle")
        assert finding["monthly_savings"] == pytest.approx(M5_LARGE_MONTH, abs=CENT)
        assert finding["confidence"] == pytest.approx(0.9)
        assert (
            "; network p95 1999 B/s in, 999 B/s out; it costs $70.08 a month."
            in (finding["detail"])
        )
    else:
        assert found.is_empty()


def test_one_network_direction_is_network_data() -> None:
    # Only received bytes are reported: the network is known (confidence 0.9, not the
    # CPU-only 0.7), and a busy received rate alone keeps it from being idle.
    assert only(idle_box(100.0, None), "i-idle")["confidence"] == pytest.approx(0.9)
    assert only(idle_box(None, 100.0), "i-idle")["confidence"] == pytest.approx(0.9)
    assert idle_box(5000.0, None).is_empty()
    assert idle_box(None, 5000.0).is_empty()
    cpu_only = only(idle_box(None, None), "i-idle")
    assert cpu_only["confidence"] == pytest.approx(0.7)
    assert "; no network data; it costs $70.08 a month." in cpu_only["detail"]


@pytest.mark.parametrize(("hours", "confidence"), [(29, 0.4), (30, 0.9), (31, 0.9)])
def test_thirty_hours_of_cpu_is_enough_for_full_confidence(hours: int, confidence: float) -> None:
    # Compute Optimizer's 30 hours: 29 is short history (0.4), 30 is not.
    finding = only(idle_box(10.0, 10.0, hours=hours), "i-idle")
    assert finding["evidence"]["cpu"]["hours"] == hours
    assert finding["confidence"] == pytest.approx(confidence)
    # Short history lowers the confidence, never the figure.
    assert finding["monthly_savings"] == pytest.approx(M5_LARGE_MONTH, abs=CENT)


# --------------------------------------------------------------------------- over-provisioned


def big_box(cpu_load: pl.Expr | float, memory: float | None = None) -> pl.DataFrame:
    """m5.4xlarge (16 vCPU, 64 GiB, $0.768/h) with the given CPU and memory use."""
    frames = [*cpu("i-big", cpu_load)]
    if memory is not None:
        frames.append(hourly("i-big", "memory", "average", memory))
    return run("rightsizing.overprovisioned", inventory([instance("i-big", "m5.4xlarge")], frames))


def test_the_published_headroom_lines_are_the_defaults() -> None:
    # Compute Optimizer: 30% CPU headroom (70% line), 20% memory headroom (80% line).
    p = OverprovisionedParams()
    assert (p.target_cpu_p99_percent, p.target_memory_p99_percent) == (70.0, 80.0)
    assert (p.memory_floor_without_data, p.min_hours) == (0.5, 30)
    assert (p.confidence, p.confidence_without_memory, p.confidence_short_history) == (
        0.85,
        0.6,
        0.3,
    )


@pytest.mark.parametrize(
    ("p99", "target", "saving"),
    [
        # p99 17.5% × 16 / 4 vCPU = exactly 70%: m5.xlarge fits, (0.768 - 0.192) × 730.
        (17.5, "m5.xlarge", (0.768 - 0.192) * 730),
        # 17.6% × 4 = 70.4%: over the line; 8 vCPU (35.2%) it is, (0.768 - 0.384) × 730.
        (17.6, "m5.2xlarge", (0.768 - 0.384) * 730),
    ],
)
def test_projected_cpu_at_the_70_percent_line_fits(p99: float, target: str, saving: float) -> None:
    # Memory 15% of 64 GiB = 9.6 GiB: 60% of a 16 GiB type, 30% of a 32 GiB one.
    finding = only(big_box(alternating(10, p99), memory=15), "i-big")
    assert finding["evidence"]["candidate"]["instance_type"] == target
    assert finding["monthly_savings"] == pytest.approx(saving, abs=CENT)
    assert finding["current_monthly_cost"] == pytest.approx(0.768 * 730, abs=CENT)
    assert finding["confidence"] == pytest.approx(0.85)


@pytest.mark.parametrize(
    ("memory", "target", "saving"),
    [
        # 20% of 64 GiB = 12.8 GiB = exactly 80% of m5.xlarge's 16 GiB: it fits.
        (20.0, "m5.xlarge", (0.768 - 0.192) * 730),
        # 20.5% = 13.12 GiB = 82% of 16 GiB: the cheapest 4-vCPU type with room is
        # r5.xlarge (32 GiB, $0.252).
        (20.5, "r5.xlarge", (0.768 - 0.252) * 730),
    ],
)
def test_projected_memory_at_the_80_percent_line_fits(
    memory: float, target: str, saving: float
) -> None:
    # p99 CPU 15% × 16 / 4 = 60%: four vCPUs are enough; memory decides the type.
    finding = only(big_box(alternating(10, 15), memory=memory), "i-big")
    assert finding["evidence"]["candidate"]["instance_type"] == target
    assert finding["monthly_savings"] == pytest.approx(saving, abs=CENT)


def test_same_vcpus_with_less_memory_is_smaller_only_with_memory_data() -> None:
    # r5.xlarge (4 vCPU, 32 GiB, $0.252) at p99 CPU 40%: two vCPUs would be 80%, over the
    # line. With memory data, 10% of 32 GiB = 3.2 GiB fits c5.xlarge's 8 GiB (40%): the
    # same vCPUs, less memory, (0.252 - 0.17) × 730 = $59.86.
    frames = [*cpu("i-r", alternating(30, 40)), hourly("i-r", "memory", "average", 10)]
    inv = inventory([instance("i-r", "r5.xlarge")], frames)
    finding = only(run("rightsizing.overprovisioned", inv), "i-r")
    assert finding["evidence"]["candidate"]["instance_type"] == "c5.xlarge"
    assert finding["monthly_savings"] == pytest.approx(59.86, abs=CENT)
    # Without memory data nothing says less memory is enough: no smaller type, no finding.
    inv = inventory([instance("i-r", "r5.xlarge")], cpu("i-r", alternating(30, 40)))
    assert run("rightsizing.overprovisioned", inv).is_empty()


# --------------------------------------------------------------------------- under-provisioned


def hot_box(
    load: pl.Expr | float,
    instance_type: str = "m5.large",
    *,
    hours: int = 336,
    hourly_price: float | None = None,
    price_source: str = "bundled",
) -> pl.DataFrame:
    box = instance("i-hot", instance_type, hourly_price=hourly_price, price_source=price_source)
    return run("rightsizing.underprovisioned", inventory([box], cpu("i-hot", load, hours=hours)))


def test_the_alert_line_is_the_default() -> None:
    p = UnderprovisionedParams()
    assert (p.alert_cpu_p95_percent, p.min_hours, p.confidence, p.confidence_short_history) == (
        85.0,
        30,
        0.8,
        0.4,
    )


def test_p95_exactly_at_85_percent_is_not_a_bottleneck() -> None:
    # The line is strict: p95 of a flat 85% is 85, not above it; 85.1% is.
    assert hot_box(85.0).is_empty()
    finding = only(hot_box(85.1), "i-hot")
    # The next size up of m5.large (2 vCPU, $0.096) is m5.xlarge (4 vCPU, $0.192), not the
    # 8- or 16-vCPU sizes: (0.192 - 0.096) × 730 = $70.08 added, nothing saved.
    assert finding["added_monthly_cost"] == pytest.approx(70.08, abs=CENT)
    assert finding["monthly_savings"] == 0.0
    assert finding["recommendation"] == (
        "Move i-hot up to m5.xlarge (4 vCPU, $0.192/h); it adds $70.08 a month."
    )
    # 2 of 4 vCPUs: the next size takes half the load per vCPU off.
    assert finding["performance_gain"] == pytest.approx(0.5)
    assert finding["confidence"] == pytest.approx(0.8)


@pytest.mark.parametrize(("hours", "confidence"), [(29, 0.4), (30, 0.8)])
def test_underprovisioned_short_history(hours: int, confidence: float) -> None:
    assert only(hot_box(95.0, hours=hours), "i-hot")["confidence"] == pytest.approx(confidence)


def test_the_added_cost_is_from_the_billed_price_and_the_weaker_source_is_reported() -> None:
    # Billed at $0.09/h: (0.192 - 0.09) × 730 = $74.46 added; the next size's price is the
    # bundled catalogue's, the weaker of the two.
    finding = only(hot_box(95.0, hourly_price=0.09, price_source="billing"), "i-hot")
    assert finding["added_monthly_cost"] == pytest.approx(74.46, abs=CENT)
    assert finding["current_monthly_cost"] == pytest.approx(0.09 * 730, abs=CENT)
    assert finding["price_source"] == "bundled"
    # At the largest m5 size there is no next size: the instance's own source stands.
    top = only(hot_box(95.0, "m5.4xlarge", hourly_price=0.7, price_source="billing"), "i-hot")
    assert top["price_source"] == "billing"
    assert top["added_monthly_cost"] == 0.0
    assert top["recommendation"] == (
        "No larger m5 size is priced in us-east-1; scale out or move i-hot to a larger family."
    )


def test_a_cheaper_type_of_the_same_size_is_not_a_smaller_one() -> None:
    # m5.large (2 vCPU, 8 GiB, $0.096) with memory data: m5a.large has the same 2 vCPU and
    # 8 GiB for $0.086. Not smaller: no over-provisioned finding (a same-size move is
    # another policy's). 60% of 8 GiB = 4.8 GiB does not fit c5.large's 4 GiB.
    frames = [*cpu("i-m", 10), hourly("i-m", "memory", "average", 60)]
    inv = inventory([instance("i-m", "m5.large")], frames)
    assert run("rightsizing.overprovisioned", inv).is_empty()


@pytest.mark.parametrize(("hours", "confidence"), [(29, 0.3), (30, 0.85)])
def test_overprovisioned_thirty_hours_is_enough_history(hours: int, confidence: float) -> None:
    frames = [*cpu("i-big", 12, hours=hours), hourly("i-big", "memory", "average", 15, hours=hours)]
    inv = inventory([instance("i-big", "m5.4xlarge")], frames)
    finding = only(run("rightsizing.overprovisioned", inv), "i-big")
    assert finding["confidence"] == pytest.approx(confidence)
    # p99 12% × 16 / 4 = 48%, 9.6 GiB on 16: m5.xlarge, (0.768 - 0.192) × 730 = $420.48.
    assert finding["monthly_savings"] == pytest.approx(420.48, abs=CENT)


def test_an_accelerated_instance_is_never_resized_on_cpu() -> None:
    # g5.xlarge (4 vCPU, 16 GiB, a GPU, $1.006/h) idling on CPU: its value is the GPU, so
    # no CPU-driven resize, though m5.large would hold its load.
    gpu = (
        prices_frame()
        .filter(pl.col("instance_type") == "m5.xlarge")
        .with_columns(
            pl.lit("g5.xlarge").alias("instance_type"),
            pl.lit("g5").alias("family"),
            pl.lit(1.006).alias("hourly_price"),
        )
    )
    box = instance("i-gpu", "m5.xlarge") | {"instance_type": "g5.xlarge", "hourly_price": None}
    frames = [*cpu("i-gpu", 5), hourly("i-gpu", "memory", "average", 10)]
    inv = inventory([box], frames, with_prices=False)
    inv.add("prices", pl.concat([prices_frame(), gpu]))
    assert run("rightsizing.overprovisioned", inv).is_empty()


@pytest.mark.parametrize("billed", [0.05, 0.192])
def test_a_smaller_type_must_be_strictly_cheaper_than_the_billed_price(billed: float) -> None:
    # m5.4xlarge at p99 CPU 15% and 9.6 GiB of memory fits m5.xlarge or m6i.xlarge ($0.192)
    # or anything bigger; c5.xlarge ($0.17) lacks the memory. Billed at $0.192 the move
    # saves nothing, at $0.05 every fitting type costs more: no finding either way.
    frames = [*cpu("i-big", alternating(10, 15)), hourly("i-big", "memory", "average", 15)]
    box = instance("i-big", "m5.4xlarge", hourly_price=billed, price_source="billing")
    assert run("rightsizing.overprovisioned", inventory([box], frames)).is_empty()


def test_a_previous_generation_type_is_a_candidate_only_in_its_own_family() -> None:
    # m4.xlarge (4 vCPU, 16 GiB, $0.20) at p99 CPU 30% (60% on 2 vCPU) using 3.2 GiB, in
    # a catalogue without m5.large, m5a.large, m6i.large and c5.large: the same-family
    # m4.large ($0.10) is allowed though not current; r5.large ($0.126) is the next.
    # (0.20 - 0.10) × 730 = $73.00.
    frames = [*cpu("i-m4", alternating(20, 30)), hourly("i-m4", "memory", "average", 20)]
    inv = inventory([instance("i-m4", "m4.xlarge")], frames, with_prices=False)
    gone = ["m5.large", "m5a.large", "m6i.large", "c5.large"]
    inv.add("prices", prices_frame().filter(~pl.col("instance_type").is_in(gone)))
    finding = only(run("rightsizing.overprovisioned", inv), "i-m4")
    assert finding["evidence"]["candidate"]["instance_type"] == "m4.large"
    assert finding["monthly_savings"] == pytest.approx(73.0, abs=CENT)


# --------------------------------------------------------------------------- previous generation


def test_previous_generation_picks_the_cheapest_current_type_of_its_class() -> None:
    # m4.large (2 vCPU, 8 GiB, $0.10): m5.large and m6i.large cost $0.096, m5a.large
    # $0.086; all m, newer, same vCPUs and memory. (0.10 - 0.086) × 730 = $10.22.
    finding = only(
        run("rightsizing.previous-generation", inventory([instance("i-old", "m4.large")])), "i-old"
    )
    assert finding["evidence"]["candidate"]["instance_type"] == "m5a.large"
    assert finding["monthly_savings"] == pytest.approx(
        (price("m4.large") - price("m5a.large")) * 730, abs=CENT
    )
    assert finding["monthly_savings"] == pytest.approx(10.22, abs=CENT)
    assert finding["confidence"] == pytest.approx(0.8)


def test_previous_generation_stays_in_its_class_unless_told_otherwise() -> None:
    # m4.large billed at $0.13 (live), in a catalogue without the m-class 2-vCPU types:
    # r5.large (2 vCPU, 16 GiB, $0.126) is cheaper but memory optimised. Only with
    # same_class off: (0.13 - 0.126) × 730 = $2.92.
    gone = ["m5.large", "m5a.large", "m6i.large"]

    def moves(**params: object) -> pl.DataFrame:
        box = instance("i-old", "m4.large", hourly_price=0.13, price_source="live")
        inv = inventory([box], with_prices=False)
        inv.add("prices", prices_frame().filter(~pl.col("instance_type").is_in(gone)))
        return run("rightsizing.previous-generation", inv, **params)

    assert moves().is_empty()
    finding = only(moves(same_class=False), "i-old")
    assert finding["evidence"]["candidate"]["instance_type"] == "r5.large"
    assert finding["monthly_savings"] == pytest.approx(2.92, abs=CENT)


def test_a_current_generation_instance_is_never_previous_generation() -> None:
    # m5.large billed at $0.12 would save on m6i.large ($0.096), but m5 is current.
    box = instance("i-m5", "m5.large", hourly_price=0.12, price_source="live")
    assert run("rightsizing.previous-generation", inventory([box])).is_empty()


def test_without_the_class_rule_memory_and_burstable_still_hold() -> None:
    # m4.large (2 vCPU, 8 GiB, $0.10), any class: t3.large ($0.0832) is burstable and
    # c5.large ($0.085) has 4 GiB; m5a.large ($0.086) is the move: $10.22.
    finding = only(
        run(
            "rightsizing.previous-generation",
            inventory([instance("i-old", "m4.large")]),
            same_class=False,
        ),
        "i-old",
    )
    assert finding["evidence"]["candidate"]["instance_type"] == "m5a.large"
    assert finding["monthly_savings"] == pytest.approx(10.22, abs=CENT)


def test_previous_generation_needs_a_strictly_cheaper_and_newer_type() -> None:
    # Billed at m5a.large's own $0.086: nothing to save.
    box = instance("i-old", "m4.large", hourly_price=0.086, price_source="live")
    assert run("rightsizing.previous-generation", inventory([box])).is_empty()
    # A current type of the same generation (a hypothetical m4a.xlarge, generation 4, at
    # $0.15) is no generation move: m5.xlarge it is, (0.20 - 0.192) × 730 = $5.84.
    same_gen = (
        prices_frame()
        .filter(pl.col("instance_type") == "m5.xlarge")
        .with_columns(
            pl.lit("m4a.xlarge").alias("instance_type"),
            pl.lit("m4a").alias("family"),
            pl.lit(0.15).alias("hourly_price"),
        )
    )
    inv = inventory([instance("i-old", "m4.xlarge")], with_prices=False)
    inv.add("prices", pl.concat([prices_frame(), same_gen]))
    finding = only(run("rightsizing.previous-generation", inv), "i-old")
    assert finding["evidence"]["candidate"]["instance_type"] == "m5.xlarge"
    assert finding["monthly_savings"] == pytest.approx(5.84, abs=CENT)


# --------------------------------------------------------------------------- graviton


def test_graviton_needs_at_least_the_memory() -> None:
    # A hypothetical arm64 m9g.large with 2 vCPU but 4 GiB at $0.05 is cheaper than
    # m6g.large ($0.077), but m5.large uses 8 GiB: m6g.large, (0.096 - 0.077) × 730 = $13.87.
    small = (
        prices_frame()
        .filter(pl.col("instance_type") == "m6g.large")
        .with_columns(
            pl.lit("m9g.large").alias("instance_type"),
            pl.lit("m9g").alias("family"),
            pl.lit(4.0).alias("memory_gib"),
            pl.lit(0.05).alias("hourly_price"),
        )
    )
    inv = inventory([instance("i-x86", "m5.large")], with_prices=False)
    inv.add("prices", pl.concat([prices_frame(), small]))
    finding = only(run("rightsizing.graviton", inv), "i-x86")
    assert finding["evidence"]["candidate"]["instance_type"] == "m6g.large"
    assert finding["monthly_savings"] == pytest.approx(13.87, abs=CENT)
    assert finding["confidence"] == pytest.approx(0.6)
    # Sized vCPU for vCPU: no per-core speed-up is assumed.
    assert finding["evidence"]["shape"]["per_core_performance_factor"] == 1.0


def test_graviton_at_the_same_price_saves_nothing() -> None:
    # Billed at m6g.large's own $0.077: no move.
    box = instance("i-x86", "m5.large", hourly_price=0.077, price_source="live")
    assert run("rightsizing.graviton", inventory([box])).is_empty()


def test_gcp_arm_confidence() -> None:
    # The same medium confidence as Graviton: arm64 builds and an Arm boot image needed.
    assert GcpArmParams().confidence == GravitonParams().confidence == 0.6
    inv = gcp_inventory(gcp_vm("api", "n2-standard-8"), 40.0)
    (finding,) = run("rightsizing.gcp-arm", inv).iter_rows(named=True)
    assert finding["confidence"] == pytest.approx(0.6)


# --------------------------------------------------------------------------- billing idle


def test_the_billing_idle_lines_are_the_defaults() -> None:
    # 95% of the hours billed, under 0.01 units an hour, at least 72 hours of export.
    assert BillingIdleParams() == BillingIdleParams(
        min_billed_hour_share=0.95, max_quantity_per_hour=0.01, min_period_hours=72, confidence=0.7
    )


def billed(
    resource_id: str, hourly: float, *, hours: range | list[int] = range(HOURS), **kw: Any
) -> list[dict[str, Any]]:
    """A resource billed ``hourly`` an hour ("Hrs") with a request meter at zero."""
    return [
        *line_items(resource_id, hourly_cost=hourly, quantity=1.0, unit="Hrs", hours=hours, **kw),
        *line_items(resource_id, hourly_cost=0.0, quantity=0.0, unit="Requests", hours=hours, **kw),
    ]


def idle_bill(rows: list[dict[str, Any]], **params: Any) -> pl.DataFrame:
    return billing_run(billing_inventory(rows), **params)


@pytest.mark.parametrize(("span", "flagged"), [(72, True), (71, False)])
def test_seventy_two_hours_of_export_is_enough(span: int, flagged: bool) -> None:
    # $0.05 an hour × 730 = $36.50 a month.
    found = idle_bill(billed("mq-1", 0.05, hours=range(span)))
    assert (found.height == 1) is flagged
    if flagged:
        finding = billing_only(found, "mq-1")
        assert finding["monthly_savings"] == pytest.approx(36.5, abs=0.011)
        assert finding["confidence"] == pytest.approx(0.7)
        assert finding["evidence"]["billing"]["span_hours"] == span


def test_billed_in_exactly_95_percent_of_the_span_is_every_hour() -> None:
    # The export spans 160 hours (another resource); mq-1 is billed in 152 of them: 0.95.
    # Its request meter reads 0.0012345 an hour: shown to three significant figures.
    rows = [
        *line_items("i-busy", hourly_cost=0.1, quantity=1.0, unit="Hrs", hours=range(160)),
        *line_items("mq-1", hourly_cost=0.05, quantity=1.0, unit="Hrs", hours=range(8, 160)),
        *line_items(
            "mq-1", hourly_cost=0.0, quantity=0.0012345, unit="Requests", hours=range(8, 160)
        ),
    ]
    finding = billing_only(idle_bill(rows), "mq-1")
    assert finding["evidence"]["billing"]["billed_hour_share"] == pytest.approx(0.95)
    assert (
        "was billed in 152 of 160 hours (95.0%) but used 0.00123 Requests an hour"
        in (finding["detail"])
    )
    # 151 of 160 (94.4%) is not.
    rows = [
        *line_items("i-busy", hourly_cost=0.1, quantity=1.0, unit="Hrs", hours=range(160)),
        *billed("mq-1", 0.05, hours=range(9, 160)),
    ]
    assert idle_bill(rows).is_empty()


def test_a_single_metered_line_is_enough_to_judge() -> None:
    # Billed every hour, one request line in the whole week, for nothing.
    rows = [
        *line_items("mq-1", hourly_cost=0.05, quantity=1.0, unit="Hrs"),
        *line_items("mq-1", hourly_cost=0.0, quantity=0.0, unit="Requests", hours=[5]),
    ]
    assert billing_only(idle_bill(rows), "mq-1")["evidence"]["usage"]["metered_line_items"] == 1


def test_a_week_long_line_of_its_own_proves_the_week() -> None:
    # One "Hrs" line over the whole 168 hours ($8.40: $0.05 an hour) and one transfer line
    # with nothing moved: one own line item, billed every hour, unused. $0.05 × 730.
    week = timedelta(hours=HOURS)
    rows = [
        *line_items("nat-1", hourly_cost=8.4, quantity=168.0, unit="Hrs", hours=[0], step=week),
        *line_items("nat-1", hourly_cost=0.0, quantity=0.0, unit="GB", hours=[0], step=week),
    ]
    finding = billing_only(idle_bill(rows), "nat-1")
    assert finding["evidence"]["billing"]["own_line_items"] == 1
    assert finding["evidence"]["billing"]["billed_hours"] == HOURS
    assert finding["monthly_savings"] == pytest.approx(36.5, abs=0.011)


def test_transfer_lines_alone_are_never_judged_whatever_they_cost() -> None:
    # A month-long $50 transfer line proves no hour of running.
    month = timedelta(days=30)
    rows = line_items("i-gone", hourly_cost=50.0, quantity=0.0, unit="GB", hours=[0], step=month)
    assert idle_bill(rows).is_empty()


def test_a_line_without_a_unit_still_shows_the_hours_billed() -> None:
    # The standing charge has no unit (neither ConsumedUnit nor PricingUnit); the request
    # meter is read once. The hours come from the standing charge: 168 of 168.
    standing = line_items("mq-1", hourly_cost=0.05, quantity=1.0, unit="Hrs")
    for row in standing:
        row["ConsumedUnit"] = row["PricingUnit"] = None
    rows = [
        *standing,
        *line_items("mq-1", hourly_cost=0.0, quantity=0.0, unit="Requests", hours=[5]),
    ]
    finding = billing_only(idle_bill(rows), "mq-1")
    assert finding["evidence"]["billing"]["billed_hours"] == HOURS


def test_pricing_units_stand_in_for_missing_consumed_units() -> None:
    rows = billed("mq-1", 0.05)
    for row in rows:
        row["ConsumedUnit"] = row["ConsumedQuantity"] = None
    finding = billing_only(idle_bill(rows), "mq-1")
    assert finding["evidence"]["billing"]["billed_hours"] == HOURS
    assert finding["evidence"]["usage"]["metered_units"] == "Requests"


def test_what_a_commitment_pays_for_is_deferred() -> None:
    # $0.03 an hour under a commitment, $0.01001 on demand: $0.04001 × 730 = $29.2073,
    # $29.20 rounded down. Committed share 0.03 / 0.04001 = 0.74981; now
    # 29.20 × 0.25019 = $7.3055 -> $7.30; deferred 29.20 − 7.30 = $21.90.
    rows = [
        *line_items("mq-1", hourly_cost=0.03, quantity=1.0, unit="Hrs"),
        *line_items("mq-1", hourly_cost=0.01001, quantity=0.0, unit="Requests"),
    ]
    for row in rows[:HOURS]:
        row["PricingCategory"] = "Committed"
    finding = billing_only(idle_bill(rows), "mq-1")
    assert finding["monthly_savings_before_discounts"] == pytest.approx(29.20, abs=1e-9)
    assert finding["monthly_savings"] == pytest.approx(7.30, abs=1e-9)
    assert finding["deferred_monthly_savings"] == pytest.approx(21.90, abs=1e-9)
    assert finding["evidence"]["billing"]["committed_share"] == pytest.approx(0.03 / 0.04001)


def test_a_committed_share_over_one_saves_nothing_now() -> None:
    # $0.03 committed and −$0.01 on demand (a usage refund): net $0.02 × 730 = $14.60;
    # the share 1.5 is capped at 1: nothing now, all $14.60 deferred.
    rows = [
        *line_items("mq-1", hourly_cost=0.03, quantity=1.0, unit="Hrs"),
        *line_items("mq-1", hourly_cost=-0.01, quantity=0.0, unit="Requests"),
    ]
    for row in rows[:HOURS]:
        row["PricingCategory"] = "Committed"
    finding = billing_only(idle_bill(rows), "mq-1")
    assert finding["monthly_savings"] == 0.0
    assert finding["deferred_monthly_savings"] == pytest.approx(
        finding["monthly_savings_before_discounts"]
    )
    assert finding["monthly_savings_before_discounts"] == pytest.approx(14.6, abs=0.011)


def test_a_saving_under_a_dollar_is_still_a_finding() -> None:
    # $0.00101 an hour × 730 = $0.7373: $0.73.
    finding = billing_only(idle_bill(billed("mq-1", 0.00101)), "mq-1")
    assert finding["monthly_savings"] == pytest.approx(0.73, abs=1e-9)


def test_a_line_with_no_end_counts_one_hour_per_start() -> None:
    # No ChargePeriodEnd: each distinct start is one hour. Billed in all 168 hours of the
    # export: idle, $0.05 × 730 = $36.50; in 100 of them (59.5%): not every hour.
    busy = line_items("i-busy", hourly_cost=0.1, quantity=1.0, unit="Hrs")
    endless = billed("mq-1", 0.05)
    for row in endless:
        row["ChargePeriodEnd"] = None
    finding = billing_only(idle_bill(busy + endless), "mq-1")
    assert finding["evidence"]["billing"]["billed_hours"] == HOURS
    assert finding["monthly_savings"] == pytest.approx(36.5, abs=0.011)
    assert idle_bill(
        busy + [r for r in endless if r["ChargePeriodStart"] < endless[100]["ChargePeriodStart"]]
    ).is_empty()
