"""Cache and DynamoDB policies on small inventories with us-east-1 list prices, to the cent.

Prices (https://aws.amazon.com/elasticache/pricing/, https://aws.amazon.com/dynamodb/pricing/):
cache.m5.large $0.156/h, cache.m5.xlarge $0.311/h, cache.r5.2xlarge $0.862/h,
cache.r5.xlarge $0.431/h; DynamoDB Standard $0.00013 per RCU-hour, $0.00065 per WCU-hour,
$0.125 / $0.625 per million read / write request units, $0.25 per GB-month; Standard-IA
25% more for throughput ($0.0001625, $0.0008125, $0.15625, $0.78125) and $0.10 per
GB-month. Every expected figure is worked out by hand from these.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from costscan.scanner.contracts.inventory import Inventory, RunContext
from tests.policies.runner import run_policy

NOW = datetime(2026, 12, 6, tzinfo=UTC)
HOURS = 48
DDB_PRICES = {
    "price_std_rcu_hour": 0.00013,
    "price_std_wcu_hour": 0.00065,
    "price_std_read_million": 0.125,
    "price_std_write_million": 0.625,
    "price_std_gb_month": 0.25,
    "price_ia_rcu_hour": 0.0001625,
    "price_ia_wcu_hour": 0.0008125,
    "price_ia_read_million": 0.15625,
    "price_ia_write_million": 0.78125,
    "price_ia_gb_month": 0.10,
}


def _identity(name: str, kind: str) -> dict[str, Any]:
    return {
        "provider": "aws",
        "account_id": "123456789012",
        "region": "us-east-1",
        "resource_id": name,
        "resource_name": name,
        "resource_type": kind,
        "price_source": "bundled",
        "price_region": "us-east-1",
        "price_reference": "https://aws.amazon.com/",
    }


def cache(name: str, **fields: Any) -> dict[str, Any]:
    row = {
        **_identity(name, "elasticache_cluster"),
        "engine": "redis",
        "node_type": "cache.m5.large",
        "nodes": 1,
        "vcpus": 2.0,
        "memory_gib": 6.38,
        "status": "available",
        "hourly_price": 0.156,
        "monthly_price": 113.88,
        "larger_node_type": "cache.m5.xlarge",
        "larger_hourly_price": 0.311,
        "larger_memory_gib": 12.93,
    }
    row.update(fields)
    return row


def table(name: str, **fields: Any) -> dict[str, Any]:
    row = {
        **_identity(name, "dynamodb_table"),
        "billing_mode": "PROVISIONED",
        "table_class": "STANDARD",
        "read_capacity": 100.0,
        "write_capacity": 50.0,
        "storage_gb": 10.0,
        "status": "ACTIVE",
        **DDB_PRICES,
    }
    row.update(fields)
    return row


def series(name: str, metric: str, value: float, statistic: str = "sum") -> list[dict[str, Any]]:
    start = NOW - timedelta(hours=HOURS)
    return [
        {
            "resource_id": name,
            "metric": metric,
            "statistic": statistic,
            "ts": start + timedelta(hours=i),
            "value": value,
        }
        for i in range(HOURS)
    ]


def inventory(
    *, caches: list[dict[str, Any]] | None = None, tables: list[dict[str, Any]] | None = None,
    utilization: list[dict[str, Any]] | None = None,
) -> Inventory:  # fmt: skip
    inv = Inventory(provider="aws", context=RunContext(now=NOW, lookback_days=2))
    if caches:
        inv.add("caches", pl.DataFrame(caches))
    if tables:
        inv.add("dynamodb_tables", pl.DataFrame(tables))
    if utilization:
        inv.add("utilization", pl.DataFrame(utilization))
    return inv


def test_idle_cache_saves_its_nodes() -> None:
    # One cache.m5.large: 0.156 × 730 = 113.88.
    inv = inventory(
        caches=[cache("unused"), cache("used")],
        utilization=series("unused", "cache_hits", 0.0)
        + series("unused", "cache_misses", 0.0)
        + series("used", "cache_hits", 10.0)
        + series("used", "cache_misses", 0.0),
    )
    out = run_policy("rightsizing.idle-cache", inv)
    assert out["resource_id"].to_list() == ["unused"]
    assert out["monthly_savings"].item() == pytest.approx(113.88, abs=0.005)


def test_oversized_cache_moves_down_when_memory_fits() -> None:
    # cache.r5.2xlarge (52.82 GiB) at 16% memory -> cache.r5.xlarge (26.32 GiB) ≈ 32%:
    # (0.862 - 0.431) × 730 = 314.63. At 40% it would run near 80%: left alone.
    big = {
        "node_type": "cache.r5.2xlarge",
        "vcpus": 8.0,
        "memory_gib": 52.82,
        "hourly_price": 0.862,
        "monthly_price": 629.26,
        "smaller_node_type": "cache.r5.xlarge",
        "smaller_hourly_price": 0.431,
        "smaller_memory_gib": 26.32,
    }
    inv = inventory(
        caches=[cache("roomy", **big), cache("snug", **big)],
        utilization=series("roomy", "cache_memory", 16.0, "maximum")
        + series("roomy", "cpu", 5.0, "average")
        + series("snug", "cache_memory", 40.0, "maximum")
        + series("snug", "cpu", 5.0, "average"),
    )
    out = run_policy("rightsizing.oversized-cache", inv)
    assert out["resource_id"].to_list() == ["roomy"]
    assert out["monthly_savings"].item() == pytest.approx(314.63, abs=0.005)


def test_evicting_cache_is_a_bottleneck_priced_at_the_next_node() -> None:
    # cache.m5.large -> cache.m5.xlarge: (0.311 - 0.156) × 730 = 113.15.
    inv = inventory(
        caches=[cache("evicting"), cache("healthy")],
        utilization=series("evicting", "cache_memory", 92.0, "average")
        + series("evicting", "evictions", 500.0)
        + series("evicting", "cache_hits", 60.0)
        + series("evicting", "cache_misses", 40.0)
        + series("healthy", "cache_memory", 50.0, "average")
        + series("healthy", "evictions", 0.0)
        + series("healthy", "cache_hits", 95.0)
        + series("healthy", "cache_misses", 5.0),
    )
    out = run_policy("rightsizing.cache-bottleneck", inv)
    assert out["resource_id"].to_list() == ["evicting"]
    assert out["added_monthly_cost"].item() == pytest.approx(113.15, abs=0.005)
    assert out["monthly_savings"].item() == 0.0
    assert out["category"].item() == "investment"


def test_overprovisioned_table_right_sizes_at_the_70_percent_target() -> None:
    # 2,000 RCU / 1,000 WCU: (2,000 × 0.00013 + 1,000 × 0.00065) × 730 = 664.30.
    # Consumed 50 / 30 a second: on demand 50 × 3,600 × 730 / 10^6 × 0.125 = 16.425 +
    # 30 × 3,600 × 730 / 10^6 × 0.625 = 49.275 -> 65.70; provisioned at ceil(50 / 0.7) = 72
    # RCU and ceil(30 / 0.7) = 43 WCU: (72 × 0.00013 + 43 × 0.00065) × 730 = 27.2363.
    # Saving 664.30 - 27.2363 = 637.0637.
    inv = inventory(
        tables=[table("clicks", read_capacity=2000.0, write_capacity=1000.0, monthly_price=666.80)],
        utilization=series("clicks", "consumed_rcu", 50.0 * 3600)
        + series("clicks", "consumed_wcu", 30.0 * 3600),
    )
    out = run_policy("rightsizing.dynamodb-capacity", inv)
    assert out["monthly_savings"].item() == pytest.approx(637.06, abs=0.005)
    assert json.loads(out["evidence"].item())["on_demand_monthly"] == pytest.approx(65.70)


def test_spiky_provisioned_table_goes_on_demand() -> None:
    # 1,000 RCU, reads of 700 a second in one hour and none otherwise: provisioned at
    # ceil(700 / 0.7) = 1,000 RCU saves nothing; on demand 700 × 3,600 = 2.52 M units over
    # 48 h, × 730 / 48 = 38.325 M a month × 0.125 = 4.790625. Writes: none, 1 WCU kept
    # (0.4745). Current (1,000 × 0.00013 + 1 × 0.00065) × 730 = 95.3745; saving 90.583875.
    reads = [dict(r, value=0.0) for r in series("spiky", "consumed_rcu", 0.0)]
    reads[10]["value"] = 700.0 * 3600
    inv = inventory(
        tables=[table("spiky", read_capacity=1000.0, write_capacity=1.0, monthly_price=97.8745)],
        utilization=reads + series("spiky", "consumed_wcu", 0.0),
    )
    out = run_policy("rightsizing.dynamodb-capacity", inv)
    assert out["monthly_savings"].item() == pytest.approx(90.583875, abs=0.005)
    assert "on-demand" in out["recommendation"].item()


def test_storage_heavy_table_moves_to_standard_ia() -> None:
    # 100 RCU / 50 WCU: 33.215 a month at Standard, 41.51875 at Standard-IA; 2,000 GB:
    # 500.00 vs 200.00. Saving (33.215 + 500) - (41.51875 + 200) = 291.69625. A 10 GB
    # table would pay more: left alone.
    inv = inventory(
        tables=[
            table("archive", storage_gb=2000.0, monthly_price=533.215),
            table("small", monthly_price=35.715),
        ]
    )
    out = run_policy("storage.dynamodb-standard-ia", inv)
    assert out["resource_id"].to_list() == ["archive"]
    assert out["monthly_savings"].item() == pytest.approx(291.69625, abs=0.005)


def test_throttled_table_is_a_bottleneck_priced_at_the_raised_capacity() -> None:
    # 100 RCU / 100 WCU (56.94 a month) consuming 80 / 95 a second, throttled: raised to
    # ceil(80 / 0.7) = 115 RCU and ceil(95 / 0.7) = 136 WCU: (115 × 0.00013 + 136 ×
    # 0.00065) × 730 = 75.4455 (on demand would be 182.3175): adds 18.5055.
    inv = inventory(
        tables=[table("orders", read_capacity=100.0, write_capacity=100.0, monthly_price=59.44)],
        utilization=series("orders", "consumed_rcu", 80.0 * 3600)
        + series("orders", "consumed_wcu", 95.0 * 3600)
        + series("orders", "write_throttles", 200.0),
    )
    out = run_policy("rightsizing.dynamodb-throttling", inv)
    assert out["added_monthly_cost"].item() == pytest.approx(18.5055, abs=0.005)
    assert json.loads(out["evidence"].item())["remedy"] == "raise_capacity"
    assert out["performance_gain"].item() == pytest.approx(1 - 100 / 136)
    # A throttled table gets no capacity saving finding.
    assert run_policy("rightsizing.dynamodb-capacity", inv).height == 0


def test_efs_without_lifecycle_is_a_possible_saving_on_its_assumed_cold_share() -> None:
    # 2,000 GB in Standard, 80% assumed cold: 1,600 × (0.30 - 0.016) = 454.40 a month, and
    # 1,600 × 0.01 = 16.00 once to tier it. The file system with a policy is left alone.
    def fs(name: str, lifecycle: bool) -> dict[str, Any]:
        return {
            **_identity(name, "efs_file_system"),
            "standard_gb": 2000.0,
            "ia_gb": 0.0,
            "archive_gb": 0.0,
            "has_lifecycle": lifecycle,
            "monthly_price": 600.0,
            "price_standard_gb_month": 0.30,
            "price_ia_gb_month": 0.016,
            "price_archive_gb_month": 0.008,
            "price_tiering_gb": 0.01,
        }

    inv = Inventory(provider="aws", context=RunContext(now=NOW, lookback_days=2))
    inv.add("file_systems", pl.DataFrame([fs("fs-plain", False), fs("fs-tiered", True)]))
    out = run_policy("storage.efs-without-lifecycle", inv)
    assert out["resource_id"].to_list() == ["fs-plain"]
    assert out["monthly_savings"].item() == pytest.approx(454.40, abs=0.005)
    assert out["upfront_cost"].item() == pytest.approx(16.00, abs=0.005)
    assert out["confidence"].item() < 0.5  # under the default floor: a possible saving


def _domain(name: str, **fields: Any) -> dict[str, Any]:
    row = {
        **_identity(name, "opensearch_domain"),
        "instance_type": "r6g.large.search",
        "instance_count": 2,
        "master_count": 0,
        "volume_type": "gp2",
        "volume_gb": 100.0,
        "hourly_price": 0.167,
        "larger_instance_type": "r6g.xlarge.search",
        "larger_hourly_price": 0.335,
        "price_volume_gb_month": 0.135,
        "price_gp3_gb_month": 0.122,
        # 2 × 0.167 × 730 + 2 × 100 × 0.135 = 243.82 + 27.00.
        "monthly_price": 270.82,
    }
    row.update(fields)
    return row


def test_idle_search_domain_saves_its_nodes_and_volumes_and_gp2_moves_to_gp3() -> None:
    inv = Inventory(provider="aws", context=RunContext(now=NOW, lookback_days=2))
    inv.add("search_domains", pl.DataFrame([_domain("quiet"), _domain("busy")]))
    inv.add(
        "utilization",
        pl.DataFrame(
            series("quiet", "search_rate", 0.0, "maximum")
            + series("quiet", "indexing_rate", 0.0, "maximum")
            + series("busy", "search_rate", 12.0, "maximum")
            + series("busy", "indexing_rate", 0.0, "maximum")
        ),
    )
    idle = run_policy("rightsizing.idle-search-domain", inv)
    assert idle["resource_id"].to_list() == ["quiet"]
    assert idle["monthly_savings"].item() == pytest.approx(270.82, abs=0.005)
    # 2 × 100 GB × (0.135 - 0.122) = 2.60 on each gp2 domain.
    gp3 = run_policy("storage.search-domain-gp2-to-gp3", inv)
    assert gp3["monthly_savings"].to_list() == pytest.approx([2.60, 2.60], abs=0.005)


def test_search_domain_under_jvm_pressure_is_priced_at_the_next_node() -> None:
    # 2 × (0.335 - 0.167) × 730 = 245.28.
    inv = Inventory(provider="aws", context=RunContext(now=NOW, lookback_days=2))
    inv.add("search_domains", pl.DataFrame([_domain("pressed"), _domain("calm")]))
    inv.add(
        "utilization",
        pl.DataFrame(
            series("pressed", "jvm_memory_pressure", 91.0, "average")
            + series("calm", "jvm_memory_pressure", 50.0, "average")
        ),
    )
    out = run_policy("rightsizing.search-domain-bottleneck", inv)
    assert out["resource_id"].to_list() == ["pressed"]
    assert out["added_monthly_cost"].item() == pytest.approx(245.28, abs=0.005)
    # A bottleneck's remedy adds cost and saves nothing: no dollar of it reaches a total.
    assert out["monthly_savings"].item() == 0.0
    assert out["category"].item() == "investment"


def test_idle_warehouse_saves_its_node_hours() -> None:
    # Two dc2.large at $0.25/h: 2 × 0.25 × 730 = 365.00; a paused twin bills nothing.
    def warehouse(name: str, status: str, monthly: float) -> dict[str, Any]:
        return {
            **_identity(name, "redshift_cluster"),
            "node_type": "dc2.large",
            "nodes": 2,
            "status": status,
            "hourly_price": 0.25,
            "monthly_price": monthly,
        }

    inv = Inventory(provider="aws", context=RunContext(now=NOW, lookback_days=2))
    inv.add(
        "warehouses",
        pl.DataFrame(
            [warehouse("idle-bi", "available", 365.0), warehouse("paused", "paused", 0.0)]
        ),
    )
    inv.add(
        "utilization",
        pl.DataFrame(
            series("idle-bi", "db_connections", 0.0, "maximum")
            + series("paused", "db_connections", 0.0, "maximum")
        ),
    )
    out = run_policy("rightsizing.idle-warehouse", inv)
    assert out["resource_id"].to_list() == ["idle-bi"]
    assert out["monthly_savings"].item() == pytest.approx(365.00, abs=0.005)


def test_reserved_cache_nodes_defer_the_node_hours() -> None:
    # The idle cluster's 113.88 a month is prepaid by an active cache.m5 reservation
    # until 2027-06-01: deferred, nothing now.
    ends = datetime(2027, 6, 1, tzinfo=UTC)
    inv = inventory(
        caches=[cache("reserved-unused", reserved_until=ends)],
        utilization=series("reserved-unused", "cache_hits", 0.0)
        + series("reserved-unused", "cache_misses", 0.0),
    )
    out = run_policy("rightsizing.idle-cache", inv)
    assert out["monthly_savings"].item() == 0.0
    assert out["deferred_monthly_savings"].item() == pytest.approx(113.88, abs=0.005)
    assert out["savings_start"].item() == ends.date()
