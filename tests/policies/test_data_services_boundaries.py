"""The cache, DynamoDB, EFS, OpenSearch and Redshift policies at each threshold, worked by
hand (issue 21).

us-east-1 list prices (https://aws.amazon.com/elasticache/pricing/,
https://aws.amazon.com/dynamodb/pricing/, https://aws.amazon.com/efs/pricing/,
https://aws.amazon.com/opensearch-service/pricing/, https://aws.amazon.com/redshift/pricing/):
cache.m5.large $0.156/h (6.38 GiB), cache.m5.xlarge $0.311/h (12.93 GiB); DynamoDB
Standard $0.00013 per RCU-hour (× 730 = 0.0949 a month), $0.00065 per WCU-hour (0.4745),
$0.125 / $0.625 per million read / write units, $0.25 per GB-month; Standard-IA
$0.0001625, $0.0008125, $0.15625, $0.78125 and $0.10 per GB-month; EFS Standard $0.30,
Infrequent Access $0.016 per GB-month, $0.01 per GB tiered; OpenSearch r6g.large.search
$0.167/h, r6g.xlarge.search $0.335/h, gp2 $0.135 and gp3 $0.122 per GB-month; Redshift
dc2.large $0.25/h. The 30 hours of data are Compute Optimizer's minimum
(https://docs.aws.amazon.com/compute-optimizer/latest/ug/requirements.html), the 70%
capacity target DynamoDB auto scaling's default
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/AutoScaling.html), the
70% utilization target and the 85% alert line the seed's. Each test names the rule or
price it pins; they were written against the mutants that survived
tests/policies/test_data_services.py (``python benchmarks/mutation.py
policies/data_services.py``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import polars as pl
import pytest

from costscan.scanner.contracts.inventory import Inventory, RunContext
from tests.policies.runner import run_policy
from tests.policies.test_data_services import HOURS, NOW, _domain, _identity, cache, table

CENT = 0.005


def hourly(
    name: str, metric: str, values: list[float], statistic: str = "sum"
) -> list[dict[str, Any]]:
    """One datapoint an hour, ending at the last full hour before now."""
    start = NOW - timedelta(hours=len(values))
    return [
        {
            "resource_id": name,
            "metric": metric,
            "statistic": statistic,
            "ts": start + timedelta(hours=i),
            "value": v,
        }
        for i, v in enumerate(values)
    ]


def steady(
    name: str, metric: str, value: float, hours: int = HOURS, statistic: str = "sum"
) -> list[dict[str, Any]]:
    return hourly(name, metric, [value] * hours, statistic)


def once(name: str, metric: str, value: float, statistic: str = "sum") -> list[dict[str, Any]]:
    """``value`` in the last hour and 0 in the 47 before it."""
    return hourly(name, metric, [0.0] * (HOURS - 1) + [value], statistic)


def inventory(**tables: list[dict[str, Any]]) -> Inventory:
    inv = Inventory(provider="aws", context=RunContext(now=NOW, lookback_days=2))
    for name, rows in tables.items():
        if rows:
            inv.add(name, pl.DataFrame(rows))
    return inv


def by_id(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {r["resource_id"]: r for r in frame.to_dicts()}


# --- idle cache --------------------------------------------------------------------------


def test_idle_cache_means_no_hit_and_no_miss_over_thirty_hours() -> None:
    # Idle: every hit and miss sum 0 over at least 30 hours (30 is enough, 29 is not);
    # one hit or one miss in 48 hours is a reader. Other sum metrics (network bytes of
    # replication) are not reads. An unknown status counts as available; a cluster
    # being modified, unpriced or price-less clusters make no finding. Three cache.m5.large
    # nodes: 3 × 0.156 × 730 = 341.64.
    three = {"nodes": 3, "monthly_price": 341.64}
    rows = [
        cache("h30", **three),
        cache("h29", **three),
        cache("one-hit", **three),
        cache("one-miss", **three),
        cache("chatty-network", **three),
        cache("unknown-status", status=None, **three),
        cache("modifying", status="modifying", **three),
        cache("unpriced", price_source="none", **three),
        cache("no-price", nodes=3, monthly_price=None),
    ]
    usage: list[dict[str, Any]] = []
    for row in rows:
        name = row["resource_id"]
        hours = {"h30": 30, "h29": 29}.get(name, HOURS)
        usage += steady(name, "cache_hits", 0.0, hours) + steady(name, "cache_misses", 0.0, hours)
    usage += once("one-hit", "cache_hits", 1.0) + once("one-miss", "cache_misses", 1.0)
    usage += steady("chatty-network", "network_bytes_in", 5e6)
    out = by_id(run_policy("rightsizing.idle-cache", inventory(caches=rows, utilization=usage)))
    assert sorted(out) == ["chatty-network", "h30", "unknown-status"]
    row = out["h30"]
    assert row["monthly_savings"] == pytest.approx(341.64, abs=CENT)
    assert row["deferred_monthly_savings"] == 0.0
    assert row["confidence"] == pytest.approx(0.85)  # IdleCacheParams' default
    assert "(3 × cache.m5.large redis) served no hit or miss in 30 h" in row["detail"]


# --- one node size down ------------------------------------------------------------------

# A node type with twice the memory of the next size down (16 and 8 GiB, hypothetical, so
# the projection is exact): memory used doubles.
BIG = {
    "node_type": "cache.m5.xlarge",
    "memory_gib": 16.0,
    "hourly_price": 0.311,
    "smaller_node_type": "cache.m5.large",
    "smaller_memory_gib": 8.0,
    "smaller_hourly_price": 0.156,
    "nodes": 2,
    "monthly_price": 454.06,
}


def test_oversized_cache_lines_are_strict_and_priced_per_node() -> None:
    # Memory max 34.9% -> 69.8% on the smaller node is under 70%, 35% -> 70% is not; p95
    # CPU 34.9% doubled is under 70%, 35% is not; 30 hours is enough, 29 not. Two nodes:
    # 2 × (0.311 − 0.156) × 730 = 226.30. A smaller node at the same price saves nothing;
    # one $0.0005 an hour cheaper saves 2 × 0.0005 × 730 = 0.73, under a dollar but a saving.
    cases = {
        "mem-34.9": (34.9, 10.0, HOURS),
        "mem-35": (35.0, 10.0, HOURS),
        "cpu-34.9": (10.0, 34.9, HOURS),
        "cpu-35": (10.0, 35.0, HOURS),
        "h30": (10.0, 10.0, 30),
        "h29": (10.0, 10.0, 29),
    }
    usage: list[dict[str, Any]] = []
    for name, (memory, cpu, hours) in cases.items():
        usage += steady(name, "cache_memory", memory, hours, "maximum")
        usage += steady(name, "cpu", cpu, hours, "average")
    rows = [cache(n, **BIG) for n in cases]
    rows += [
        cache("no-smaller", **{**BIG, "smaller_node_type": None, "smaller_hourly_price": None}),
        cache("same-price", **{**BIG, "smaller_hourly_price": 0.311}),
        cache("cheaper-0.73", **{**BIG, "smaller_hourly_price": 0.3105}),
    ]
    usage += steady("no-smaller", "cache_memory", 10.0, statistic="maximum")
    usage += steady("no-smaller", "cpu", 10.0, statistic="average")
    usage += steady("same-price", "cache_memory", 10.0, statistic="maximum")
    usage += steady("same-price", "cpu", 10.0, statistic="average")
    usage += steady("cheaper-0.73", "cache_memory", 10.0, statistic="maximum")
    usage += steady("cheaper-0.73", "cpu", 10.0, statistic="average")
    out = by_id(
        run_policy("rightsizing.oversized-cache", inventory(caches=rows, utilization=usage))
    )
    assert sorted(out) == ["cheaper-0.73", "cpu-34.9", "h30", "mem-34.9"]
    assert out["cheaper-0.73"]["monthly_savings"] == pytest.approx(0.73, abs=CENT)
    row = out["mem-34.9"]
    assert row["monthly_savings"] == pytest.approx(226.30, abs=CENT)
    assert row["confidence"] == pytest.approx(0.7)  # OversizedCacheParams' default
    assert json.loads(row["evidence"])["projected_memory_percent"] == pytest.approx(69.8)
    assert "memory would peak near 69.8%" in row["detail"]


# --- cache bottleneck ----------------------------------------------------------------------


def test_cache_bottleneck_lines() -> None:
    # Flagged with 30 hours of memory data or more (29 is too few) and any of: one
    # eviction; a hit rate under 80% (79 hits of 100; 80 of 100 is not); p95 memory or
    # engine CPU above 85% (85.0 is not); 30 hours are enough. No hits or misses at all is
    # no hit-rate problem.
    # Two cache.m5.large nodes up to cache.m5.xlarge: 2 × (0.311 − 0.156) × 730 = 226.30,
    # gain 1 − 6.38 / 12.93.
    two = {"nodes": 2, "monthly_price": 227.76}
    names = [
        "evict-1",
        "hit-79",
        "hit-80",
        "mem-85.1",
        "mem-85",
        "ecpu-85.1",
        "ecpu-85",
        "no-requests",
        "h29",
        "h30",
    ]
    usage: list[dict[str, Any]] = []
    for name in names:
        memory = {"mem-85.1": 85.1, "mem-85": 85.0}.get(name, 50.0)
        hours = {"h29": 29, "h30": 30}.get(name, HOURS)
        usage += steady(name, "cache_memory", memory, hours, "average")
    usage += once("evict-1", "evictions", 1.0) + once("h29", "evictions", 500.0)
    usage += once("h30", "evictions", 500.0)
    for name, hits in (("hit-79", 79.0), ("hit-80", 80.0)):
        usage += once(name, "cache_hits", hits) + once(name, "cache_misses", 100.0 - hits)
    usage += steady("ecpu-85.1", "engine_cpu", 85.1, statistic="average")
    usage += steady("ecpu-85", "engine_cpu", 85.0, statistic="average")
    rows = [cache(n, **two) for n in names]
    out = by_id(
        run_policy("rightsizing.cache-bottleneck", inventory(caches=rows, utilization=usage))
    )
    assert sorted(out) == ["ecpu-85.1", "evict-1", "h30", "hit-79", "mem-85.1"]
    for row in out.values():
        assert row["added_monthly_cost"] == pytest.approx(226.30, abs=CENT)
        assert row["performance_gain"] == pytest.approx(1 - 6.38 / 12.93)
        assert row["monthly_savings"] == 0.0
        assert row["confidence"] == pytest.approx(0.8)  # CacheBottleneckParams' default
    # An alert line of 0.5% (a parameter): a cache at 0.4% memory with no engine CPU data
    # is under it (the missing CPU reads as 0%).
    cold = [cache("cold", **two)]
    cold_usage = steady("cold", "cache_memory", 0.4, statistic="average")
    low = run_policy(
        "rightsizing.cache-bottleneck",
        inventory(caches=cold, utilization=cold_usage),
        alert_percent=0.5,
    )
    assert low.height == 0
    # No eviction series reads as 0 evictions; no request as a 100% hit rate.
    assert (
        "(2 × cache.m5.large): 0 evictions, hit rate 79.0%, p95 memory 50.0% over 48 h."
        in (out["hit-79"]["detail"])
    )
    assert "1 evictions, hit rate 100.0%" in out["evict-1"]["detail"]
    assert "it adds $226.30 a month" in out["evict-1"]["recommendation"]


def test_cache_bottleneck_without_a_larger_node_is_unpriced() -> None:
    # No larger node priced: more shards, unpriced: added 0, no gain figure.
    row = cache("top", larger_node_type=None, larger_hourly_price=None, larger_memory_gib=None)
    usage = steady("top", "cache_memory", 95.0, statistic="average")
    out = run_policy("rightsizing.cache-bottleneck", inventory(caches=[row], utilization=usage))
    finding = out.row(0, named=True)
    assert finding["added_monthly_cost"] == 0.0
    assert finding["performance_gain"] is None
    assert finding["recommendation"] == "No larger cache.m5.large is priced; add shards to top."


# --- DynamoDB capacity -------------------------------------------------------------------


def reads_writes(
    name: str, reads: float, writes: float, hours: int = HOURS
) -> list[dict[str, Any]]:
    """Consumed units a second, steady, as hourly sums."""
    return steady(name, "consumed_rcu", reads * 3600, hours) + steady(
        name, "consumed_wcu", writes * 3600, hours
    )


def test_capacity_saving_must_reach_20_percent_of_the_throughput_inclusive() -> None:
    # 200 RCU / 1 WCU: (200 × 0.00013 + 0.00065) × 730 = 19.4545. Reads of 111 a second
    # right-size to ceil(111 / 0.7) = 159 RCU, 1 WCU kept: saving 41 × 0.0949 = 3.8909,
    # exactly 20% of 19.4545: flagged. At 112 a second, 160 RCU: 3.7960, under 20%.
    # (On demand would be 111 × 3,600 × 730 / 10^6 × 0.125 = 36.46: dearer.)
    rows = [
        table(n, read_capacity=200.0, write_capacity=1.0, monthly_price=21.9545)
        for n in ("at-20", "under-20")
    ]
    usage = reads_writes("at-20", 111.0, 0.0) + reads_writes("under-20", 112.0, 0.0)
    out = run_policy(
        "rightsizing.dynamodb-capacity", inventory(dynamodb_tables=rows, utilization=usage)
    )
    assert out["resource_id"].to_list() == ["at-20"]
    row = out.row(0, named=True)
    assert row["monthly_savings"] == pytest.approx(3.8909, abs=1e-9)
    assert row["confidence"] == pytest.approx(0.75)  # CapacityModeParams' default
    assert row["recommendation"] == (
        "Set at-20 to provisioned 159 RCU / 1 WCU (or auto scaling at a 70% target)."
    )
    evidence = json.loads(row["evidence"])
    assert (evidence["target_rcu"], evidence["target_wcu"]) == (159.0, 1.0)
    assert evidence["right_sized_monthly"] == pytest.approx(15.5636)
    assert evidence["read_peak_per_second"] == pytest.approx(111.0)


def test_capacity_needs_thirty_hours_no_throttle_and_a_positive_saving() -> None:
    # 2,000 RCU / 1,000 WCU consuming 50 / 30 a second: saving 637.06 (the module tests'
    # figure) with 30 hours of data; 29 hours or one throttled request: no finding. With
    # min_saving_share 0 a table already right-sized (72 / 43 for 50 / 30 a second) saves
    # 0: no finding, and one a single RCU over saves 0.0949: a finding.
    big = {"read_capacity": 2000.0, "write_capacity": 1000.0, "monthly_price": 666.80}
    rows = [
        table("h30", **big),
        table("h29", **big),
        table("throttled-once", **big),
        table("right", read_capacity=72.0, write_capacity=43.0, monthly_price=29.7363),
        table("one-over", read_capacity=73.0, write_capacity=43.0, monthly_price=29.8312),
    ]
    usage = (
        reads_writes("h30", 50.0, 30.0, 30)
        + reads_writes("h29", 50.0, 30.0, 29)
        + reads_writes("throttled-once", 50.0, 30.0)
        + once("throttled-once", "read_throttles", 1.0)
        + reads_writes("right", 50.0, 30.0)
        + reads_writes("one-over", 50.0, 30.0)
    )
    inv = inventory(dynamodb_tables=rows, utilization=usage)
    out = by_id(run_policy("rightsizing.dynamodb-capacity", inv, min_saving_share=0.0))
    assert sorted(out) == ["h30", "one-over"]
    assert out["h30"]["monthly_savings"] == pytest.approx(637.0637, abs=CENT)
    assert out["one-over"]["monthly_savings"] == pytest.approx(0.0949, abs=1e-6)


def test_steady_on_demand_table_moves_to_provisioned_at_its_class_prices() -> None:
    # On demand, 50 reads and 30 writes a second: 50 × 3,600 × 730 = 131.4 M reads ×
    # 0.125 = 16.425 and 78.84 M writes × 0.625 = 49.275 -> 65.70 a month; provisioned at
    # 72 RCU / 43 WCU: (72 × 0.00013 + 43 × 0.00065) × 730 = 27.2363; saving 38.4637.
    # The same table in Standard-IA pays 25% more on both sides: 82.125 - 34.045375 =
    # 48.079625. Reads only (no write series at all): 16.425 on demand against 72 RCU and
    # the 1 WCU minimum, (72 × 0.00013 + 0.00065) × 730 = 7.3073: 9.1177 saved. Writes
    # only: 49.275 against 1 RCU / 43 WCU, (0.00013 + 43 × 0.00065) × 730 = 20.4984:
    # 28.7766 saved.
    rows = [
        table(
            "std",
            billing_mode="PAY_PER_REQUEST",
            read_capacity=None,
            write_capacity=None,
            monthly_price=68.20,
        ),
        table(
            "ia",
            billing_mode="PAY_PER_REQUEST",
            table_class="STANDARD_INFREQUENT_ACCESS",
            read_capacity=None,
            write_capacity=None,
            monthly_price=83.125,
        ),
    ]
    rows += [
        table(
            n,
            billing_mode="PAY_PER_REQUEST",
            read_capacity=None,
            write_capacity=None,
            monthly_price=price,
        )
        for n, price in (("reads-only", 18.925), ("writes-only", 51.775))
    ]
    usage = reads_writes("std", 50.0, 30.0) + reads_writes("ia", 50.0, 30.0)
    usage += steady("reads-only", "consumed_rcu", 50.0 * 3600)
    usage += steady("writes-only", "consumed_wcu", 30.0 * 3600)
    out = by_id(
        run_policy(
            "rightsizing.dynamodb-capacity", inventory(dynamodb_tables=rows, utilization=usage)
        )
    )
    assert out["std"]["monthly_savings"] == pytest.approx(38.4637, abs=1e-6)
    assert out["ia"]["monthly_savings"] == pytest.approx(48.079625, abs=1e-6)
    evidence = json.loads(out["std"]["evidence"])
    assert evidence["on_demand_monthly"] == pytest.approx(65.70)
    assert evidence["read_units_month"] == pytest.approx(131.4e6)
    assert evidence["write_units_month"] == pytest.approx(78.84e6)
    assert evidence["write_peak_per_second"] == pytest.approx(30.0)
    assert evidence["provisioned_monthly"] == 0.0  # no capacity provisioned on demand
    assert out["reads-only"]["monthly_savings"] == pytest.approx(9.1177, abs=1e-6)
    reads_only = json.loads(out["reads-only"]["evidence"])
    assert (reads_only["write_units_month"], reads_only["write_peak_per_second"]) == (0.0, 0.0)
    assert out["writes-only"]["monthly_savings"] == pytest.approx(28.7766, abs=1e-6)
    assert "Set writes-only to provisioned 1 RCU / 43 WCU" in out["writes-only"]["recommendation"]
    assert "pays $65.70 a month for throughput" in out["std"]["detail"]
    assert "As provisioned 72 RCU / 43 WCU it would pay $27.24." in out["std"]["detail"]


def test_inactive_or_unpriced_tables_make_no_finding() -> None:
    big = {"read_capacity": 2000.0, "write_capacity": 1000.0, "monthly_price": 666.80}
    rows = [
        table("active", **big),
        table("unknown-status", **{**big, "status": None}),
        table("updating", **{**big, "status": "UPDATING"}),
        table("unpriced", **{**big, "price_source": "none"}),
        table("no-price", **{**big, "monthly_price": None}),
    ]
    usage = [u for r in rows for u in reads_writes(r["resource_id"], 50.0, 30.0)]
    out = run_policy(
        "rightsizing.dynamodb-capacity", inventory(dynamodb_tables=rows, utilization=usage)
    )
    assert sorted(out["resource_id"].to_list()) == ["active", "unknown-status"]


# --- DynamoDB Standard-IA ------------------------------------------------------------------


def test_standard_ia_break_even_between_55_and_56_gb() -> None:
    # 100 RCU / 50 WCU: 33.215 a month at Standard, 41.51875 at Standard-IA, a premium of
    # 8.30375; each GB saves 0.25 − 0.10 = 0.15. 56 GB saves 8.40 − 8.30375 = 0.09625;
    # 55 GB would pay 0.05375 more: no finding. A table already in Standard-IA is left. A
    # provisioned table with no write capacity recorded: 100 RCU only, 9.49 at Standard
    # and 11.8625 at Standard-IA; 2,000 GB: (9.49 + 500) − (11.8625 + 200) = 297.6275. No
    # read capacity recorded: 50 WCU only, 23.725 and 29.65625; (23.725 + 500) −
    # (29.65625 + 200) = 294.06875.
    rows = [
        table("gb56", storage_gb=56.0, monthly_price=47.215),
        table("gb55", storage_gb=55.0, monthly_price=46.965),
        table(
            "already-ia",
            table_class="STANDARD_INFREQUENT_ACCESS",
            storage_gb=2000.0,
            monthly_price=241.51875,
        ),
        table("no-wcu", write_capacity=None, storage_gb=2000.0, monthly_price=509.49),
        table("no-rcu", read_capacity=None, storage_gb=2000.0, monthly_price=523.725),
    ]
    out = by_id(run_policy("storage.dynamodb-standard-ia", inventory(dynamodb_tables=rows)))
    assert sorted(out) == ["gb56", "no-rcu", "no-wcu"]
    assert out["no-rcu"]["monthly_savings"] == pytest.approx(294.06875, abs=1e-6)
    assert out["no-wcu"]["monthly_savings"] == pytest.approx(297.6275, abs=1e-6)
    row = out["gb56"]
    assert row["monthly_savings"] == pytest.approx(0.09625, abs=1e-9)
    assert row["confidence"] == pytest.approx(0.8)  # StandardIaParams' default
    evidence = json.loads(row["evidence"])
    assert evidence["standard_monthly"] == pytest.approx(47.215)
    assert evidence["standard_ia_monthly"] == pytest.approx(47.11875)


def test_standard_ia_on_demand_prices_consumed_units_over_thirty_hours() -> None:
    # On demand, 50 / 30 a second, 2,000 GB, 30 hours of data (29: no finding). A full
    # month of it: Standard 65.70 and Standard-IA 131.4 M × 0.15625 = 20.53125 + 78.84 M ×
    # 0.78125 = 61.59375 -> 82.125 for the throughput; storage 500 and 200.
    od = {
        "billing_mode": "PAY_PER_REQUEST",
        "read_capacity": None,
        "write_capacity": None,
        "storage_gb": 2000.0,
        "monthly_price": 565.70,
    }
    rows = [table("h30", **od), table("h29", **od)]
    usage = reads_writes("h30", 50.0, 30.0, 30) + reads_writes("h29", 50.0, 30.0, 29)
    out = run_policy(
        "storage.dynamodb-standard-ia", inventory(dynamodb_tables=rows, utilization=usage)
    )
    assert out["resource_id"].to_list() == ["h30"]
    # 30 hours scale by 730 / 48 (the lookback's hours), not by the hours seen: 30/48 of
    # the month's units. Standard (65.70 × 30/48 = 41.0625) + 500 = 541.0625;
    # Standard-IA 82.125 × 30/48 = 51.328125 + 200 = 251.328125; saving 289.734375.
    assert out["monthly_savings"].item() == pytest.approx(289.734375, abs=1e-6)


# --- DynamoDB throttling -------------------------------------------------------------------


def test_throttled_hours_take_the_busier_side_and_on_demand_can_cost_less() -> None:
    # 10 RCU / 10 WCU, 5.694 a month ((10 × 0.00013 + 10 × 0.00065) × 730 = 5.694). Reads
    # of 700 a second in one hour (2.52 M units, × 730 / 48 = 38.325 M a month × 0.125 =
    # 4.790625 on demand) throttled in two hours, writes in one: 2 throttled hours.
    # Raised capacity: ceil(700 / 0.7) = 1,000 RCU, 10 WCU kept: (0.13 + 0.0065) × 730 =
    # 99.645; on demand is cheaper than today: the remedy adds 0 (never a negative cost).
    # Gain: 1 − 10 / 1,000 = 0.99 on the read side.
    row = table("bursty", read_capacity=10.0, write_capacity=10.0, monthly_price=8.194)
    usage = (
        once("bursty", "consumed_rcu", 700.0 * 3600)
        + steady("bursty", "consumed_wcu", 0.0)
        + hourly("bursty", "read_throttles", [0.0] * (HOURS - 2) + [30.0, 40.0])
        + once("bursty", "write_throttles", 5.0)
    )
    inv = inventory(dynamodb_tables=[row], utilization=usage)
    out = run_policy("rightsizing.dynamodb-throttling", inv)
    finding = out.row(0, named=True)
    assert finding["added_monthly_cost"] == 0.0
    assert finding["monthly_savings"] == 0.0
    assert finding["confidence"] == pytest.approx(0.8)  # ThrottlingParams' default
    assert finding["performance_gain"] == pytest.approx(0.99)
    evidence = json.loads(finding["evidence"])
    assert evidence["remedy"] == "on_demand"
    assert evidence["throttled_hours"] == 2
    assert evidence["throttle_events"] == 75.0
    assert evidence["raised_monthly"] == pytest.approx(99.645)
    assert evidence["on_demand_monthly"] == pytest.approx(4.790625)
    assert "throttled 75 requests in 2 h" in finding["detail"]
    assert (
        finding["recommendation"] == "Switch bursty to on-demand capacity; it adds $0.00 a month."
    )
    assert run_policy("rightsizing.dynamodb-throttling", inv, min_throttled_hours=2).height == 1
    assert run_policy("rightsizing.dynamodb-throttling", inv, min_throttled_hours=3).height == 0


def test_throttling_skips_on_demand_and_unthrottled_tables() -> None:
    # An on-demand table has no capacity to raise; no throttle at all is no bottleneck.
    rows = [
        table("on-demand", billing_mode="PAY_PER_REQUEST", monthly_price=10.0),
        table("calm", monthly_price=35.715),
    ]
    usage = (
        reads_writes("on-demand", 50.0, 30.0)
        + steady("on-demand", "read_throttles", 10.0)
        + reads_writes("calm", 50.0, 30.0)
        + steady("calm", "read_throttles", 0.0)
    )
    out = run_policy(
        "rightsizing.dynamodb-throttling", inventory(dynamodb_tables=rows, utilization=usage)
    )
    assert out.height == 0


# --- EFS -----------------------------------------------------------------------------------


def file_system(name: str, standard_gb: float, **fields: Any) -> dict[str, Any]:
    row = {
        **_identity(name, "efs_file_system"),
        "standard_gb": standard_gb,
        "ia_gb": 0.0,
        "archive_gb": 0.0,
        "has_lifecycle": False,
        "monthly_price": standard_gb * 0.30,
        "price_standard_gb_month": 0.30,
        "price_ia_gb_month": 0.016,
        "price_archive_gb_month": 0.008,
        "price_tiering_gb": 0.01,
    }
    row.update(fields)
    return row


def test_efs_lifecycle_from_100_gb_inclusive() -> None:
    # 100 GB, 80% assumed cold: 80 × (0.30 − 0.016) = 22.72 a month, 80 × 0.01 = 0.80 once;
    # 99.9 GB is under the line; an unknown lifecycle counts as none; unpriced, or IA not
    # cheaper: no finding; IA $0.0001 cheaper: 80 × 0.0001 = 0.008, a saving still. With
    # cold_share 0.5: 50 × 0.284 = 14.20, 0.50 once.
    rows = [
        file_system("gb100", 100.0),
        file_system("gb99.9", 99.9),
        file_system("unknown-lifecycle", 100.0, has_lifecycle=None),
        file_system("unpriced", 100.0, price_source="none"),
        file_system("ia-not-cheaper", 100.0, price_ia_gb_month=0.30),
        file_system("ia-barely-cheaper", 100.0, price_ia_gb_month=0.2999),
    ]
    inv = inventory(file_systems=rows)
    out = by_id(run_policy("storage.efs-without-lifecycle", inv))
    assert sorted(out) == ["gb100", "ia-barely-cheaper", "unknown-lifecycle"]
    assert out["ia-barely-cheaper"]["monthly_savings"] == pytest.approx(0.008)
    row = out["gb100"]
    assert row["monthly_savings"] == pytest.approx(22.72, abs=CENT)
    assert row["confidence"] == pytest.approx(0.4)  # EfsLifecycleParams' default
    assert row["upfront_cost"] == pytest.approx(0.80, abs=CENT)
    assert "keeps 100 GB in Standard ($30.00 a month)" in row["detail"]
    assert "if 80.0% of it is cold, Infrequent Access saves $22.72 a month." in row["detail"]
    half = by_id(run_policy("storage.efs-without-lifecycle", inv, cold_share=0.5))["gb100"]
    assert half["monthly_savings"] == pytest.approx(14.20, abs=CENT)
    assert half["upfront_cost"] == pytest.approx(0.50, abs=CENT)


# --- OpenSearch ----------------------------------------------------------------------------


def test_idle_search_domain_needs_thirty_quiet_hours() -> None:
    # No search and no indexing for 30 hours (29 too few); one indexing request in 48
    # hours is use; unpriced or price-less domains make no finding. 270.82 a month (2 ×
    # 0.167 × 730 + 2 × 100 × 0.135).
    rows = [
        _domain("h30"),
        _domain("h29"),
        _domain("one-index"),
        _domain("one-search"),
        _domain("unpriced", price_source="none"),
        _domain("no-price", monthly_price=None),
    ]
    usage: list[dict[str, Any]] = []
    for row in rows:
        name = row["resource_id"]
        hours = {"h30": 30, "h29": 29}.get(name, HOURS)
        usage += steady(name, "search_rate", 0.0, hours, "maximum")
        usage += steady(name, "indexing_rate", 0.0, hours, "maximum")
    usage += once("one-index", "indexing_rate", 1.0, "maximum")
    usage += once("one-search", "search_rate", 1.0, "maximum")
    out = by_id(
        run_policy(
            "rightsizing.idle-search-domain", inventory(search_domains=rows, utilization=usage)
        )
    )
    assert sorted(out) == ["h30"]
    assert out["h30"]["monthly_savings"] == pytest.approx(270.82, abs=CENT)
    assert out["h30"]["confidence"] == pytest.approx(0.85)  # IdleSearchDomainParams' default


def test_search_gp2_to_gp3_only_on_priced_gp2() -> None:
    # 2 nodes × 100 GB × (0.135 − 0.122) = 2.60; one node of 10 GB: 0.13, under a dollar
    # but a saving; a gp3 domain, an unpriced one and one whose gp3 is not cheaper make
    # no finding.
    rows = [
        _domain("gp2"),
        _domain("gp3", volume_type="gp3", price_volume_gb_month=0.122),
        _domain("unpriced", price_source="none"),
        _domain("same", price_gp3_gb_month=0.135),
        _domain("small", instance_count=1, volume_gb=10.0),
    ]
    out = by_id(run_policy("storage.search-domain-gp2-to-gp3", inventory(search_domains=rows)))
    assert sorted(out) == ["gp2", "small"]
    assert out["small"]["monthly_savings"] == pytest.approx(0.13, abs=CENT)
    row = out["gp2"]
    assert row["monthly_savings"] == pytest.approx(2.60, abs=CENT)
    assert row["confidence"] == pytest.approx(0.9)  # SearchGp2Params' default
    assert row["detail"] == "gp2 stores 2 × 100 GB on gp2; gp3 saves $2.60 a month."


def test_search_bottleneck_lines_are_strict() -> None:
    # p95 JVM memory pressure or CPU above 85% (85.0 is not), 30 hours of JVM data (29
    # too few): 2 × (0.335 − 0.167) × 730 = 245.28, gain 1 − 0.167 / 0.335. No larger node
    # priced: added 0, no gain figure. An unpriced domain: no finding.
    rows = [_domain(n) for n in ("jvm-85.1", "jvm-85", "cpu-85.1", "cpu-85", "h29", "h30")]
    rows += [
        _domain("top", larger_instance_type=None, larger_hourly_price=None),
        _domain("unpriced", price_source="none"),
    ]
    jvm = {"jvm-85.1": 85.1, "jvm-85": 85.0, "top": 95.0, "unpriced": 95.0, "h30": 95.0}
    usage: list[dict[str, Any]] = []
    for row in rows:
        name = row["resource_id"]
        usage += steady(
            name,
            "jvm_memory_pressure",
            jvm.get(name, 50.0),
            {"h29": 29, "h30": 30}.get(name, HOURS),
            "average",
        )
    usage += steady("h29", "cpu", 95.0, 29, "average")
    usage += steady("cpu-85.1", "cpu", 85.1, statistic="average")
    usage += steady("cpu-85", "cpu", 85.0, statistic="average")
    out = by_id(
        run_policy(
            "rightsizing.search-domain-bottleneck",
            inventory(search_domains=rows, utilization=usage),
        )
    )
    # Exactly 30 hours of JVM data is enough.
    assert sorted(out) == ["cpu-85.1", "h30", "jvm-85.1", "top"]
    for name in ("cpu-85.1", "jvm-85.1"):
        assert out[name]["added_monthly_cost"] == pytest.approx(245.28, abs=CENT)
        assert out[name]["performance_gain"] == pytest.approx(1 - 0.167 / 0.335)
        assert "it adds $245.28 a month" in out[name]["recommendation"]
        assert out[name]["confidence"] == pytest.approx(0.8)  # SearchBottleneckParams' default
    assert out["top"]["added_monthly_cost"] == 0.0
    assert out["top"]["performance_gain"] is None
    # No CPU series reads as 0%.
    assert "p95 JVM memory pressure 85.1%, p95 CPU 0.0% over 48 h." in out["jvm-85.1"]["detail"]


# --- Redshift ------------------------------------------------------------------------------


def test_idle_warehouse_needs_thirty_hours_without_a_connection() -> None:
    # Two dc2.large: 2 × 0.25 × 730 = 365.00. 30 hours enough, 29 not; one connection in
    # 48 hours is use; an unknown status counts as available; unpriced or free: no finding.
    def warehouse(name: str, **fields: Any) -> dict[str, Any]:
        row = {
            **_identity(name, "redshift_cluster"),
            "node_type": "dc2.large",
            "nodes": 2,
            "status": "available",
            "hourly_price": 0.25,
            "monthly_price": 365.0,
        }
        row.update(fields)
        return row

    rows = [
        warehouse("h30"),
        warehouse("h29"),
        warehouse("one-connection"),
        warehouse("unknown-status", status=None),
        warehouse("resizing", status="resizing"),
        warehouse("unpriced", price_source="none"),
        warehouse("free", monthly_price=0.0),
    ]
    usage: list[dict[str, Any]] = []
    for row in rows:
        name = row["resource_id"]
        hours = {"h30": 30, "h29": 29}.get(name, HOURS)
        usage += steady(name, "db_connections", 0.0, hours, "maximum")
    usage += once("one-connection", "db_connections", 1.0, "maximum")
    out = by_id(
        run_policy("rightsizing.idle-warehouse", inventory(warehouses=rows, utilization=usage))
    )
    assert sorted(out) == ["h30", "unknown-status"]
    assert out["h30"]["monthly_savings"] == pytest.approx(365.00, abs=CENT)
    assert out["h30"]["confidence"] == pytest.approx(0.85)  # IdleWarehouseParams' default


def test_throttling_on_a_tie_keeps_provisioned_capacity() -> None:
    # 1 RCU / 1 WCU consuming 1,040 units an hour each way: on demand 1,040 × 48 × 730 /
    # 48 = 759,200 units a month each, × (0.125 + 0.625) / 10^6 = 0.5694; raised
    # capacity stays 1 / 1 (ceil(0.289 / 0.7) = 1): (0.00013 + 0.00065) × 730 = 0.5694.
    # On a tie no mode change is advised, and nothing is added.
    row = table("tied", read_capacity=1.0, write_capacity=1.0, monthly_price=3.0694)
    usage = steady("tied", "consumed_rcu", 1040.0) + steady("tied", "consumed_wcu", 1040.0)
    usage += once("tied", "write_throttles", 3.0)
    out = run_policy(
        "rightsizing.dynamodb-throttling", inventory(dynamodb_tables=[row], utilization=usage)
    )
    finding = out.row(0, named=True)
    evidence = json.loads(finding["evidence"])
    assert evidence["on_demand_monthly"] == pytest.approx(0.5694)
    assert evidence["raised_monthly"] == evidence["on_demand_monthly"]  # an exact tie
    assert evidence["remedy"] == "raise_capacity"
    assert finding["added_monthly_cost"] == 0.0
