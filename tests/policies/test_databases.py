"""Database policies on small inventories with us-east-1 list prices, to the cent.

Prices (https://aws.amazon.com/rds/mysql/pricing/, .../postgresql/pricing/,
https://aws.amazon.com/rds/pricing/): db.m5.large MySQL $0.171/h, db.m5.xlarge $0.342/h,
db.r5.xlarge PostgreSQL $0.50/h, db.r5.2xlarge $1.00/h; gp2/gp3 $0.115 per GB-month, gp3
IOPS $0.02, io1 $0.125 per GB-month and $0.10 per IOPS-month; snapshots $0.095 per
GB-month; Extended Support year 3 $0.200 per vCPU-hour. Every expected figure below is
worked out by hand from these.
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
REGION = "us-east-1"
HOURS = 48


def database(name: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "provider": "aws",
        "account_id": "123456789012",
        "region": REGION,
        "resource_id": name,
        "resource_name": name,
        "resource_type": "rds_instance",
        "engine": "mysql",
        "engine_version": "8.4.3",
        "instance_class": "db.m5.large",
        "vcpus": 2.0,
        "status": "available",
        "multi_az": False,
        "storage_type": "gp3",
        "allocated_gb": 100.0,
        "price_storage_gb_month": 0.115,
        "price_iops_month": 0.0,
        "price_gp3_gb_month": 0.115,
        "price_gp3_iops_month": 0.02,
        "price_snapshot_gb_month": 0.095,
        "hourly_price": 0.171,
        "extended_support": False,
        "extended_support_vcpu_hour": 0.0,
        "price_source": "bundled",
        "price_region": REGION,
        "price_reference": "https://aws.amazon.com/rds/mysql/pricing/",
    }
    row.update(fields)
    return row


def series(
    name: str, metric: str, values: list[float], statistic: str = "average"
) -> list[dict[str, Any]]:
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


def inventory(
    databases: list[dict[str, Any]],
    utilization: list[dict[str, Any]] = (),  # type: ignore[assignment]
    tags: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
) -> Inventory:
    inv = Inventory(provider="aws", context=RunContext(now=NOW, lookback_days=2))
    inv.add("databases", pl.DataFrame(databases))
    if utilization:
        inv.add("utilization", pl.DataFrame(utilization))
    if tags:
        inv.add("tags", pl.DataFrame(tags, schema=["resource_id", "key", "value"], orient="row"))
    return inv


def test_idle_database_saves_its_whole_bill_and_pays_a_final_snapshot() -> None:
    # 0.171 × 730 + 50 GB × 0.115 = 124.83 + 5.75 = 130.58; snapshot 50 × 0.095 = 4.75.
    inv = inventory(
        [
            database("idle-db", allocated_gb=50.0, monthly_price=130.58, storage_monthly=5.75),
            database("busy-db", monthly_price=136.33, storage_monthly=11.5),
        ],
        series("idle-db", "db_connections", [0.0] * HOURS, "maximum")
        + series("busy-db", "db_connections", [0.0] * 40 + [3.0] * 8, "maximum"),
    )
    out = run_policy("rightsizing.idle-database", inv)
    assert out["resource_id"].to_list() == ["idle-db"]
    assert out["monthly_savings"].item() == pytest.approx(130.58, abs=0.005)
    assert out["added_monthly_cost"].item() == pytest.approx(4.75, abs=0.005)
    assert out["action"].item() == "remove"


def test_idle_database_needs_thirty_hours_of_connections() -> None:
    inv = inventory(
        [database("new-db", monthly_price=136.33, storage_monthly=11.5)],
        series("new-db", "db_connections", [0.0] * 20, "maximum"),
    )
    assert run_policy("rightsizing.idle-database", inv).height == 0


def test_oversized_database_moves_one_size_down_when_cpu_stays_under_the_target() -> None:
    # db.r5.2xlarge PostgreSQL $1.00/h -> db.r5.xlarge $0.50/h: (1.00 - 0.50) × 730 = 365.00.
    common = {
        "engine": "postgres",
        "engine_version": "16.4",
        "instance_class": "db.r5.2xlarge",
        "vcpus": 8.0,
        "hourly_price": 1.0,
        "smaller_class": "db.r5.xlarge",
        "smaller_hourly_price": 0.5,
        "monthly_price": 787.5,
        "storage_monthly": 57.5,
    }
    inv = inventory(
        [database("quiet-db", **common), database("warm-db", **common)],
        series("quiet-db", "cpu", [10.0] * HOURS)
        + series("warm-db", "cpu", [40.0] * HOURS),  # 40% × 2 = 80%: above the 70% target
    )
    out = run_policy("rightsizing.oversized-database", inv)
    assert out["resource_id"].to_list() == ["quiet-db"]
    assert out["monthly_savings"].item() == pytest.approx(365.00, abs=0.005)


def test_oversized_multi_az_counts_one_instance_when_the_standby_finding_fires() -> None:
    # Multi-AZ, tagged staging: the standby finding takes the standby, so the resize is
    # priced on the instance kept: (1.00 - 0.50) × 730 × 1 = 365.00; in production both
    # instances shrink: × 2 = 730.00.
    common = {
        "engine": "postgres",
        "instance_class": "db.r5.2xlarge",
        "vcpus": 8.0,
        "hourly_price": 1.0,
        "multi_az": True,
        "smaller_class": "db.r5.xlarge",
        "smaller_hourly_price": 0.5,
        "monthly_price": 1575.0,
        "storage_monthly": 115.0,
    }
    inv = inventory(
        [database("stage-db", **common), database("prod-db", **common)],
        series("stage-db", "cpu", [10.0] * HOURS) + series("prod-db", "cpu", [10.0] * HOURS),
        tags=[("stage-db", "environment", "Staging"), ("prod-db", "environment", "production")],
    )
    out = run_policy("rightsizing.oversized-database", inv).sort("resource_id")
    assert out["resource_id"].to_list() == ["prod-db", "stage-db"]
    assert out["monthly_savings"].to_list() == pytest.approx([730.0, 365.0], abs=0.005)


def test_multi_az_standby_on_nonprod_saves_the_standby_hours_and_storage() -> None:
    # db.r5.xlarge MySQL $0.48/h: 0.48 × 730 = 350.40, + the standby's 200 GB × 0.115 = 23.00
    # -> 373.40. The production twin is left alone.
    common = {
        "instance_class": "db.r5.xlarge",
        "vcpus": 4.0,
        "hourly_price": 0.48,
        "multi_az": True,
        "allocated_gb": 200.0,
        "storage_monthly": 46.0,
        "monthly_price": 746.8,
    }
    inv = inventory(
        [database("staging-orders", **common), database("orders", **common)],
        tags=[("staging-orders", "env", "staging"), ("orders", "env", "prod")],
    )
    out = run_policy("rightsizing.multi-az-nonprod", inv)
    assert out["resource_id"].to_list() == ["staging-orders"]
    assert out["monthly_savings"].item() == pytest.approx(373.40, abs=0.005)


def test_multi_az_standby_storage_is_priced_at_gp3_where_the_storage_moves() -> None:
    # io1 1,000 GB with 20,000 IOPS, Multi-AZ: per zone 125 + 2,000 = 2,125; as gp3
    # 115 + 8,000 × 0.02 = 275. Standby: 0.342 × 730 = 249.66 + 275 = 524.66; the storage
    # finding saves (2,125 - 275) × 2 = 3,700; together 4,224.66 = what the bill loses
    # (2 × 249.66 + 4,250 - (249.66 + 275)).
    row = database(
        "test-ledger",
        instance_class="db.m5.xlarge",
        vcpus=4.0,
        hourly_price=0.342,
        multi_az=True,
        storage_type="io1",
        allocated_gb=1000.0,
        iops=20000.0,
        price_storage_gb_month=0.125,
        price_iops_month=0.10,
        storage_monthly=4250.0,
        monthly_price=4749.32,
    )
    inv = inventory([row], tags=[("test-ledger", "environment", "test")])
    standby = run_policy("rightsizing.multi-az-nonprod", inv)
    storage = run_policy("storage.database-io1-to-gp3", inv)
    assert standby["monthly_savings"].item() == pytest.approx(524.66, abs=0.005)
    assert storage["monthly_savings"].item() == pytest.approx(3700.0, abs=0.005)
    bill_drop = 2 * 249.66 + 4250.0 - (249.66 + 275.0)
    assert standby["monthly_savings"].item() + storage["monthly_savings"].item() == (
        pytest.approx(bill_drop, abs=0.01)
    )


def test_io1_to_gp3_needs_gp3_to_match_the_iops() -> None:
    # Below 400 GB gp3 has 3,000 IOPS and no more: 5,000 provisioned IOPS stay on io1.
    # 200 GB io1 at 3,000 IOPS: 25 + 300 = 325; gp3 200 × 0.115 = 23 -> 302.00.
    io1 = {
        "storage_type": "io1",
        "allocated_gb": 200.0,
        "price_storage_gb_month": 0.125,
        "price_iops_month": 0.10,
    }
    inv = inventory(
        [
            database("small-fast", iops=5000.0, storage_monthly=525.0, monthly_price=649.83, **io1),
            database("small-ok", iops=3000.0, storage_monthly=325.0, monthly_price=449.83, **io1),
        ]
    )
    out = run_policy("storage.database-io1-to-gp3", inv)
    assert out["resource_id"].to_list() == ["small-ok"]
    assert out["monthly_savings"].item() == pytest.approx(302.00, abs=0.005)


def test_extended_support_saves_its_per_vcpu_charge() -> None:
    # PostgreSQL 11 in year 3: 2 vCPU × $0.200 × 730 = 292.00; Multi-AZ bills both: 584.00.
    common = {
        "engine": "postgres",
        "engine_version": "11.22",
        "extended_support": True,
        "standard_support_end": datetime(2024, 2, 29).date(),
        "extended_support_vcpu_hour": 0.2,
        "hourly_price": 0.178,
        "storage_monthly": 11.5,
    }
    inv = inventory(
        [
            database("reports", monthly_price=433.44, **common),
            database("reports-ha", multi_az=True, monthly_price=866.88, **common),
            database("current", engine="postgres", engine_version="16.4", monthly_price=141.44),
        ]
    )
    out = run_policy("rightsizing.database-extended-support", inv).sort("resource_id")
    assert out["resource_id"].to_list() == ["reports", "reports-ha"]
    assert out["monthly_savings"].to_list() == pytest.approx([292.0, 584.0], abs=0.005)


def test_hot_read_heavy_database_gets_a_priced_read_replica() -> None:
    # CPU 93%, reads 2,500 of 2,700 IOPS (92.6%): a db.m5.large replica with its 100 GB:
    # 0.171 × 730 + 100 × 0.115 = 124.83 + 11.50 = 136.33. A write-heavy hot twin moves up
    # to db.m5.xlarge: (0.342 - 0.171) × 730 = 124.83.
    common = {
        "larger_class": "db.m5.xlarge",
        "larger_hourly_price": 0.342,
        "larger_vcpus": 4.0,
        "storage_monthly": 11.5,
        "monthly_price": 136.33,
    }
    inv = inventory(
        [database("checkout", **common), database("writer", **common), database("calm", **common)],
        series("checkout", "cpu", [93.0] * HOURS)
        + series("checkout", "read_iops", [2500.0] * HOURS)
        + series("checkout", "write_iops", [200.0] * HOURS)
        + series("writer", "cpu", [93.0] * HOURS)
        + series("writer", "read_iops", [100.0] * HOURS)
        + series("writer", "write_iops", [900.0] * HOURS)
        + series("calm", "cpu", [50.0] * HOURS),
    )
    out = run_policy("rightsizing.database-bottleneck", inv).sort("resource_id")
    assert out["resource_id"].to_list() == ["checkout", "writer"]
    assert out["added_monthly_cost"].to_list() == pytest.approx([136.33, 124.83], abs=0.005)
    assert (out["monthly_savings"] == 0.0).all()
    assert set(out["category"]) == {"investment"}
    remedies = [json.loads(e)["remedy"] for e in out["evidence"]]
    assert remedies == ["read_replica", "larger_class"]
    assert out["performance_gain"].to_list() == pytest.approx([2500 / 2700 / 2, 0.5])


def test_slow_reads_are_a_bottleneck_too() -> None:
    inv = inventory(
        [database("slow", monthly_price=136.33, storage_monthly=11.5)],
        series("slow", "cpu", [30.0] * HOURS) + series("slow", "read_latency", [0.8] * HOURS),
    )
    out = run_policy("rightsizing.database-bottleneck", inv)
    assert out["resource_id"].to_list() == ["slow"]


def test_unpriced_databases_make_no_finding() -> None:
    row = database(
        "eu-db",
        region="eu-west-1",
        hourly_price=None,
        monthly_price=None,
        price_source="none",
        multi_az=True,
    )
    inv = inventory(
        [row],
        series("eu-db", "db_connections", [0.0] * HOURS, "maximum"),
        tags=[("eu-db", "env", "dev")],
    )
    assert run_policy("rightsizing.idle-database", inv).height == 0
    assert run_policy("rightsizing.multi-az-nonprod", inv).height == 0


def test_graviton_class_saves_the_price_difference() -> None:
    # db.m5.large MySQL $0.171/h -> db.m6g.large $0.152/h: 0.019 × 730 = 13.87; Multi-AZ
    # in production: both instances, 27.74.
    common = {"graviton_class": "db.m6g.large", "graviton_hourly_price": 0.152}
    inv = inventory(
        [
            database("x86", monthly_price=136.33, storage_monthly=11.5, **common),
            database("x86-ha", multi_az=True, monthly_price=272.66, storage_monthly=23.0, **common),
            database(
                "arm", instance_class="db.m6g.large", hourly_price=0.152, monthly_price=122.46
            ),
        ]
    )
    out = run_policy("rightsizing.database-graviton", inv).sort("resource_id")
    assert out["resource_id"].to_list() == ["x86", "x86-ha"]
    assert out["monthly_savings"].to_list() == pytest.approx([13.87, 27.74], abs=0.005)


def test_read_heavy_hot_database_gets_a_priced_cache_layer() -> None:
    # Two cache.r6g.large Redis OSS nodes at $0.206/h: 2 × 0.206 × 730 = 300.76, the
    # seed's "about +$300 a month" for 60% less database load.
    common = {
        "cache_node_type": "cache.r6g.large",
        "cache_node_hourly_price": 0.206,
        "monthly_price": 136.33,
        "storage_monthly": 11.5,
    }
    inv = inventory(
        [database("reads", **common), database("writes", **common)],
        series("reads", "cpu", [93.0] * HOURS)
        + series("reads", "read_iops", [2500.0] * HOURS)
        + series("reads", "write_iops", [200.0] * HOURS)
        + series("writes", "cpu", [93.0] * HOURS)
        + series("writes", "read_iops", [100.0] * HOURS)
        + series("writes", "write_iops", [900.0] * HOURS),
    )
    out = run_policy("rightsizing.database-cache-layer", inv)
    assert out["resource_id"].to_list() == ["reads"]
    assert out["added_monthly_cost"].item() == pytest.approx(300.76, abs=0.005)
    assert out["performance_gain"].item() == pytest.approx(0.6)
    assert out["category"].item() == "investment"


def test_reserved_instance_hours_save_only_when_the_reservation_ends() -> None:
    # db.r5.2xlarge -> db.r5.xlarge would save 365.00 of instance hours; a db.r5
    # reservation runs until 2027-03-01, so all of it is deferred to then. An idle twin
    # keeps its storage saving now (500 GB × 0.115 = 57.50) and defers 1.00 × 730 = 730.
    ends = datetime(2027, 3, 1, tzinfo=UTC)
    common = {
        "engine": "postgres",
        "instance_class": "db.r5.2xlarge",
        "vcpus": 8.0,
        "hourly_price": 1.0,
        "allocated_gb": 500.0,
        "smaller_class": "db.r5.xlarge",
        "smaller_hourly_price": 0.5,
        "monthly_price": 787.5,
        "storage_monthly": 57.5,
        "reserved_until": ends,
    }
    inv = inventory(
        [database("reserved-quiet", **common), database("reserved-idle", **common)],
        series("reserved-quiet", "cpu", [10.0] * HOURS)
        + series("reserved-idle", "db_connections", [0.0] * HOURS, "maximum"),
    )
    resize = run_policy("rightsizing.oversized-database", inv)
    assert resize["resource_id"].to_list() == ["reserved-quiet"]
    assert resize["monthly_savings"].item() == 0.0
    assert resize["deferred_monthly_savings"].item() == pytest.approx(365.00, abs=0.005)
    assert resize["monthly_savings_before_discounts"].item() == pytest.approx(365.00, abs=0.005)
    assert resize["savings_start"].item() == ends.date()
    idle = run_policy("rightsizing.idle-database", inv)
    assert idle["monthly_savings"].item() == pytest.approx(57.50, abs=0.005)
    assert idle["deferred_monthly_savings"].item() == pytest.approx(730.00, abs=0.005)
