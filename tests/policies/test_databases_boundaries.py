"""The database policies at each threshold and each price, worked by hand (issue 21).

us-east-1 list prices (https://aws.amazon.com/rds/pricing/, .../rds/mysql/pricing/,
.../rds/postgresql/pricing/, https://aws.amazon.com/elasticache/pricing/): db.m5.large
MySQL $0.171/h (× 730 = 124.83), db.m5.xlarge $0.342/h, db.r5.2xlarge PostgreSQL $1.00/h,
db.r5.xlarge $0.50/h, db.m6g.large $0.152/h; gp3 $0.115 per GB-month and $0.02 per IOPS
above its included 3,000 (12,000 from 400 GiB); io1 $0.125 per GB-month and $0.10 per
IOPS-month; snapshots $0.095 per GB-month; Extended Support $0.100 per vCPU-hour in years
1-2, $0.200 in year 3; cache.r6g.large Redis OSS $0.206/h. The gp3 limits (3,000 IOPS and
no more under 400 GiB, 12,000 included and 64,000 at most from 400 GiB) are from
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html#gp3-storage;
the 30 hours of data from https://docs.aws.amazon.com/compute-optimizer/latest/ug/requirements.html.
Each test names the rule or price it pins; they were written against the mutants that
survived tests/policies/test_databases.py (``python benchmarks/mutation.py
policies/databases.py``).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest

from tests.policies.runner import run_policy
from tests.policies.test_databases import HOURS, NOW, database, inventory, series

CENT = 0.005
# db.m5.large MySQL with 100 GB of gp3: 124.83 + 11.50.
SMALL = {"monthly_price": 136.33, "storage_monthly": 11.5}


def by_id(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {r["resource_id"]: r for r in frame.to_dicts()}


def idle(name: str, hours: int = HOURS, peak: float = 0.0) -> list[dict[str, Any]]:
    """Hourly DatabaseConnections maxima: zero but for the last hour at ``peak``."""
    return series(name, "db_connections", [0.0] * (hours - 1) + [peak], "maximum")


# --- which databases count at all ------------------------------------------------------


def test_only_available_priced_databases_make_findings() -> None:
    # _priced: a stopped database bills no instance hours; an unpriced one (price_source
    # none) or one with no monthly price has nothing to save from; an unknown status is
    # taken as available.
    rows = [
        database("up", **SMALL),
        database("unknown-status", status=None, **SMALL),
        database("stopped", status="stopped", **SMALL),
        database("unpriced", price_source="none", **SMALL),
        database("no-price", monthly_price=None, storage_monthly=11.5),
    ]
    inv = inventory(rows, [u for r in rows for u in idle(r["resource_id"])])
    out = run_policy("rightsizing.idle-database", inv)
    assert sorted(out["resource_id"].to_list()) == ["unknown-status", "up"]


# --- idle ------------------------------------------------------------------------------


def test_idle_database_needs_thirty_hours_inclusive_and_no_connection() -> None:
    # 30 hours of data is enough (Compute Optimizer's minimum), 29 is not; one connection
    # in the lookback is over the default maximum of 0.
    inv = inventory(
        [database(n, **SMALL) for n in ("h30", "h29", "one-connection")],
        idle("h30", 30) + idle("h29", 29) + idle("one-connection", peak=1.0),
    )
    out = run_policy("rightsizing.idle-database", inv)
    assert out["resource_id"].to_list() == ["h30"]
    row = out.row(0, named=True)
    assert row["monthly_savings"] == pytest.approx(136.33, abs=CENT)
    # 100 GB final snapshot × 0.095 = 9.50.
    assert row["added_monthly_cost"] == pytest.approx(9.50, abs=CENT)
    assert row["confidence"] == pytest.approx(0.9)
    assert "about $9.50 a month at most" in row["recommendation"]
    assert "had at most 0 connections over 30 h; it costs $136.33 a month." in row["detail"]


def test_idle_database_confidence_halves_under_thirty_hours_when_allowed() -> None:
    # With min_hours lowered to 24, 29 hours is flagged at half the confidence (0.45):
    # under Compute Optimizer's 30 hours the evidence is thin; 30 hours keeps 0.9. A
    # maximum of 1 connection is idle when max_connections is 1 (at most, inclusive).
    inv = inventory(
        [database(n, **SMALL) for n in ("h30", "h29", "h23")],
        idle("h30", 30, peak=1.0) + idle("h29", 29) + idle("h23", 23),
    )
    out = by_id(run_policy("rightsizing.idle-database", inv, min_hours=24, max_connections=1))
    assert sorted(out) == ["h29", "h30"]
    assert out["h30"]["confidence"] == pytest.approx(0.9)
    assert out["h29"]["confidence"] == pytest.approx(0.45)


def test_idle_database_snapshot_is_optional_and_zero_without_a_size() -> None:
    # final_snapshot=False: nothing added; no allocated size: a snapshot of 0 GB.
    inv = inventory(
        [
            database("sized", **SMALL),
            database("unsized", allocated_gb=None, monthly_price=124.83, storage_monthly=0.0),
        ],
        idle("sized") + idle("unsized"),
    )
    kept = by_id(run_policy("rightsizing.idle-database", inv))
    assert kept["sized"]["added_monthly_cost"] == pytest.approx(9.50, abs=CENT)
    assert kept["unsized"]["added_monthly_cost"] == 0.0
    none = by_id(run_policy("rightsizing.idle-database", inv, final_snapshot=False))
    assert none["sized"]["added_monthly_cost"] == 0.0
    assert "about $0.00 a month at most" in none["sized"]["recommendation"]


def test_idle_multi_az_reservation_defers_both_instances_and_keeps_storage_now() -> None:
    # Multi-AZ db.m5.large, 100 GB both zones: 2 × 124.83 + 23.00 = 272.66 a month.
    # reservation_split: a reservation still running (ends after now) defers the
    # instance hours 249.66 to its end and saves the storage 23.00 now; one that ends
    # exactly now or has ended covers nothing; no reservation saves it all now.
    ha = {"multi_az": True, "monthly_price": 272.66, "storage_monthly": 23.0}
    ends = NOW + timedelta(days=31)
    rows = [
        database("running", reserved_until=ends, **ha),
        database("ends-now", reserved_until=NOW, **ha),
        database("ended", reserved_until=NOW - timedelta(days=1), **ha),
        database("none", **ha),
    ]
    inv = inventory(rows, [u for r in rows for u in idle(r["resource_id"])])
    out = by_id(run_policy("rightsizing.idle-database", inv))
    running = out["running"]
    assert running["monthly_savings"] == pytest.approx(23.00, abs=CENT)
    assert running["deferred_monthly_savings"] == pytest.approx(249.66, abs=CENT)
    assert running["monthly_savings_before_discounts"] == pytest.approx(272.66, abs=CENT)
    assert running["savings_start"] == ends.date()
    for name in ("ends-now", "ended", "none"):
        row = out[name]
        assert row["monthly_savings"] == pytest.approx(272.66, abs=CENT), name
        assert row["deferred_monthly_savings"] == 0.0, name
        assert row["monthly_savings_before_discounts"] == pytest.approx(272.66, abs=CENT)
        assert row["savings_start"] is None, name


# --- one size down ---------------------------------------------------------------------

R5 = {
    "engine": "postgres",
    "instance_class": "db.r5.2xlarge",
    "vcpus": 8.0,
    "hourly_price": 1.0,
    "smaller_class": "db.r5.xlarge",
    "smaller_hourly_price": 0.5,
    "monthly_price": 787.5,
    "storage_monthly": 57.5,
}


def cpu(
    name: str, p95: float, peak: float | None = None, hours: int = HOURS
) -> list[dict[str, Any]]:
    """Hourly average CPU at ``p95`` every hour, and hourly maxima peaking at ``peak``."""
    rows = series(name, "cpu", [p95] * hours)
    if peak is not None:
        rows += series(name, "cpu", [p95] * (hours - 1) + [peak], "maximum")
    return rows


def test_oversized_database_cpu_lines_are_strict_after_halving_the_vcpus() -> None:
    # One size down halves the vCPUs, so CPU doubles: p95 34.9% -> 69.8% is under the
    # 70% target, 35% -> 70% is not; a maximum of 49.9% -> 99.8% stays under 100%, 50%
    # -> 100% does not. 30 hours is enough, 29 not. Saving (1.00 − 0.50) × 730 = 365.00.
    cases = {
        "p95-34.9": cpu("p95-34.9", 34.9),
        "p95-35": cpu("p95-35", 35.0),
        "max-49.9": cpu("max-49.9", 10.0, peak=49.9),
        "max-50": cpu("max-50", 10.0, peak=50.0),
        "h30": cpu("h30", 10.0, hours=30),
        "h29": cpu("h29", 10.0, hours=29),
    }
    inv = inventory(
        [database(n, **R5) for n in cases], [u for rows in cases.values() for u in rows]
    )
    out = by_id(run_policy("rightsizing.oversized-database", inv))
    assert sorted(out) == ["h30", "max-49.9", "p95-34.9"]
    row = out["p95-34.9"]
    assert row["monthly_savings"] == pytest.approx(365.00, abs=CENT)
    assert row["confidence"] == pytest.approx(0.7)  # OversizedDatabaseParams' default
    assert (
        "p95 CPU 34.9% (max 34.9%) over 48 h: db.r5.xlarge would run it near 69.8%."
        in (row["detail"])
    )
    evidence = json.loads(row["evidence"])
    assert evidence["projected_cpu_p95"] == pytest.approx(69.8)
    assert evidence["instances_priced"] == 1.0
    assert evidence["cpu_max"] == pytest.approx(34.9)
    assert json.loads(out["max-49.9"]["evidence"])["cpu_max"] == pytest.approx(49.9)


def test_oversized_database_needs_a_cheaper_smaller_class_outside_aurora() -> None:
    # No smaller class priced, an Aurora member (its cluster is sized as a whole), and a
    # smaller class that costs the same (0 saved) make no finding; one a tenth of a cent
    # an hour cheaper saves (1.000 − 0.999) × 730 = 0.73, under a dollar but a saving.
    names = ["ok", "no-smaller", "aurora", "same-price", "cheaper-0.73"]
    rows = [
        database("ok", **R5),
        database("cheaper-0.73", **{**R5, "smaller_hourly_price": 0.999}),
        database("no-smaller", **{**R5, "smaller_class": None, "smaller_hourly_price": None}),
        database("aurora", cluster_id="orders-cluster", **R5),
        database("same-price", **{**R5, "smaller_hourly_price": 1.0}),
    ]
    inv = inventory(rows, [u for n in names for u in cpu(n, 10.0)])
    out = by_id(run_policy("rightsizing.oversized-database", inv))
    assert sorted(out) == ["cheaper-0.73", "ok"]
    assert out["cheaper-0.73"]["monthly_savings"] == pytest.approx(0.73, abs=CENT)


def test_oversized_database_counts_one_instance_unless_multi_az() -> None:
    # Single-AZ tagged dev and an unknown Multi-AZ flag: one instance, 365.00.
    rows = [database("dev-single", **R5), database("unknown-az", multi_az=None, **R5)]
    inv = inventory(
        rows, cpu("dev-single", 10.0) + cpu("unknown-az", 10.0), tags=[("dev-single", "env", "dev")]
    )
    out = run_policy("rightsizing.oversized-database", inv)
    assert out["monthly_savings"].to_list() == pytest.approx([365.0, 365.0], abs=CENT)


# --- Multi-AZ standby --------------------------------------------------------------------


def test_multi_az_standby_storage_at_gp3_only_where_gp3_serves_and_costs_less() -> None:
    # db.m5.large standby: 124.83 of instance hours, plus the standby's storage:
    # - 200 GB io1 at 5,000 IOPS: gp3 cannot serve it under 400 GB, so the standby keeps
    #   its io1 half: (25 + 500) = 525.00 -> 649.83;
    # - 200 GB io1 at 3,000 IOPS: gp3 200 × 0.115 = 23.00 -> 147.83;
    # - the same with gp3 IOPS priced (hypothetically) so high that gp3 costs more than
    #   io1 (500 GB at 20,000 IOPS: io1 62.50 + 2,000 = 2,062.50 a zone; gp3 57.50 +
    #   8,000 × 0.30 = 2,457.50): the io1 half, 2,062.50 -> 2,187.33;
    # - an unknown Multi-AZ flag is no standby; a Single-AZ one has none.
    io1 = {
        "storage_type": "io1",
        "price_storage_gb_month": 0.125,
        "price_iops_month": 0.10,
        "multi_az": True,
    }
    rows = [
        database(
            "io1-fast",
            allocated_gb=200.0,
            iops=5000.0,
            storage_monthly=1050.0,
            monthly_price=1299.66,
            **io1,
        ),
        database(
            "io1-ok",
            allocated_gb=200.0,
            iops=3000.0,
            storage_monthly=650.0,
            monthly_price=899.66,
            **io1,
        ),
        database(
            "gp3-dearer",
            allocated_gb=500.0,
            iops=20000.0,
            storage_monthly=4125.0,
            monthly_price=4374.66,
            price_gp3_iops_month=0.30,
            **io1,
        ),
        database("unknown-az", multi_az=None, **SMALL),
        database("single-az", **SMALL),
    ]
    inv = inventory(rows, tags=[(r["resource_id"], "environment", "dev") for r in rows])
    out = by_id(run_policy("rightsizing.multi-az-nonprod", inv))
    assert sorted(out) == ["gp3-dearer", "io1-fast", "io1-ok"]
    assert out["io1-fast"]["monthly_savings"] == pytest.approx(649.83, abs=CENT)
    assert out["io1-ok"]["monthly_savings"] == pytest.approx(147.83, abs=CENT)
    assert out["io1-ok"]["confidence"] == pytest.approx(0.8)  # MultiAzNonprodParams' default
    assert out["gp3-dearer"]["monthly_savings"] == pytest.approx(2187.33, abs=CENT)
    evidence = json.loads(out["io1-ok"]["evidence"])
    assert evidence["standby_instance_monthly"] == pytest.approx(124.83)
    assert evidence["standby_storage_monthly"] == pytest.approx(23.0)
    assert (
        "is tagged environment=dev and runs a Multi-AZ standby: $147.83 of its $899.66"
        in (out["io1-ok"]["detail"])
    )
    # The storage finding stays away from the gp3-dearer one, and takes the rest of io1-ok:
    # (325 − 23) × 2 = 604.00.
    storage = by_id(run_policy("storage.database-io1-to-gp3", inv))
    assert sorted(storage) == ["io1-ok"]
    assert storage["io1-ok"]["monthly_savings"] == pytest.approx(604.00, abs=CENT)
    assert storage["io1-ok"]["confidence"] == pytest.approx(0.85)  # DatabaseStorageParams'


def test_multi_az_standby_reserved_defers_its_hours_and_saves_its_storage_now() -> None:
    # A running reservation prepays the standby's hours (124.83, deferred); its gp3
    # storage half, 100 GB × 0.115 = 11.50, is saved now.
    ends = NOW + timedelta(days=90)
    row = database(
        "dev-ha", multi_az=True, monthly_price=272.66, storage_monthly=23.0, reserved_until=ends
    )
    inv = inventory([row], tags=[("dev-ha", "env", "dev")])
    out = run_policy("rightsizing.multi-az-nonprod", inv).row(0, named=True)
    assert out["monthly_savings"] == pytest.approx(11.50, abs=CENT)
    assert out["deferred_monthly_savings"] == pytest.approx(124.83, abs=CENT)
    assert out["savings_start"] == ends.date()


# --- io1/io2 -> gp3 ----------------------------------------------------------------------


def test_io1_to_gp3_limits_at_400_gib_3000_and_64000_iops() -> None:
    # Single-AZ io1 at $0.125/GB and $0.10/IOPS against gp3 at $0.115/GB and $0.02 per
    # IOPS above the included baseline:
    # - 399 GB at 3,000 IOPS: 49.875 + 300 = 349.875; gp3 45.885 -> 303.99;
    # - 399 GB at 3,001 IOPS: gp3 under 400 GiB cannot go past 3,000: no finding;
    # - 400 GB at 12,000 IOPS: 50 + 1,200 = 1,250; gp3 46 (12,000 included) -> 1,204.00;
    # - 400 GB at 13,000 IOPS: 50 + 1,300 = 1,350; gp3 46 + 1,000 × 0.02 = 66 -> 1,284.00;
    # - 500 GB at 64,000 IOPS: 62.5 + 6,400 = 6,462.5; gp3 57.5 + 52,000 × 0.02 = 1,097.5
    #   -> 5,365.00; at 64,001 IOPS gp3 cannot provision it: no finding;
    # - io2 200 GB at 1,000 IOPS: 25 + 100 = 125; gp3 23 (under the baseline: no IOPS
    #   charge, never a negative one) -> 102.00;
    # - an io1 row with no IOPS recorded: 200 GB, 25.00; gp3 23 -> 2.00;
    # - gp2 is not provisioned-IOPS storage: no finding.
    def io(name: str, gb: float, iops: float | None, kind: str = "io1") -> dict[str, Any]:
        storage = gb * 0.125 + (iops or 0.0) * 0.10
        return database(
            name,
            storage_type=kind,
            allocated_gb=gb,
            iops=iops,
            price_storage_gb_month=0.125,
            price_iops_month=0.10,
            storage_monthly=storage,
            monthly_price=124.83 + storage,
        )

    inv = inventory(
        [
            io("gb399-3000", 399.0, 3000.0),
            io("gb399-3001", 399.0, 3001.0),
            io("gb400-12000", 400.0, 12000.0),
            io("gb400-13000", 400.0, 13000.0),
            io("gb500-64000", 500.0, 64000.0),
            io("gb500-64001", 500.0, 64001.0),
            io("io2-1000", 200.0, 1000.0, "io2"),
            io("no-iops", 200.0, None),
            io("gp2", 200.0, None, "gp2"),
        ]
    )
    out = by_id(run_policy("storage.database-io1-to-gp3", inv))
    expected = {
        "gb399-3000": 303.99,
        "gb400-12000": 1204.00,
        "gb400-13000": 1284.00,
        "gb500-64000": 5365.00,
        "io2-1000": 102.00,
        "no-iops": 2.00,
    }
    assert {k: round(v["monthly_savings"], 2) for k, v in out.items()} == expected
    evidence = json.loads(out["gb400-13000"]["evidence"])
    assert evidence["gp3_included_iops"] == 12000.0
    assert evidence["gp3_monthly"] == pytest.approx(66.0)
    assert evidence["zones"] == 1.0
    assert json.loads(out["gb399-3000"]["evidence"])["gp3_included_iops"] == 3000.0
    # The IOPS to set: what it has, or gp3's baseline when that is more.
    assert "to gp3 with 13000 IOPS" in out["gb400-13000"]["recommendation"]
    assert "to gp3 with 3000 IOPS" in out["io2-1000"]["recommendation"]


def test_io1_to_gp3_counts_a_saving_under_a_dollar_and_none_when_gp3_costs_more() -> None:
    # Hypothetical prices at the edge: io1 100 GB at 1,000 IOPS with IOPS unpriced
    # (12.50) against gp3 at $0.12/GB (12.00): 0.50 saved, still a finding; gp3 at the
    # same $0.125/GB (12.50): 0 saved, no finding; with gp3 IOPS priced above io1's at
    # 400 GB and 20,000 IOPS (io1 50 + 2,000 = 2,050; gp3 46 + 8,000 × 0.30 = 2,446) it
    # would cost more: no finding.
    cheap = database(
        "cheap",
        storage_type="io1",
        allocated_gb=100.0,
        iops=1000.0,
        price_storage_gb_month=0.125,
        price_iops_month=0.0,
        price_gp3_gb_month=0.12,
        storage_monthly=12.5,
        monthly_price=137.33,
    )
    dear = database(
        "dear",
        storage_type="io1",
        allocated_gb=400.0,
        iops=20000.0,
        price_storage_gb_month=0.125,
        price_iops_month=0.10,
        price_gp3_iops_month=0.30,
        storage_monthly=2050.0,
        monthly_price=2174.83,
    )
    even = {**cheap, "resource_id": "even", "resource_name": "even", "price_gp3_gb_month": 0.125}
    out = run_policy("storage.database-io1-to-gp3", inventory([cheap, dear, even]))
    assert out["resource_id"].to_list() == ["cheap"]
    assert out["monthly_savings"].item() == pytest.approx(0.50, abs=CENT)


# --- Extended Support --------------------------------------------------------------------


def test_extended_support_needs_the_flag_and_a_rate() -> None:
    # PostgreSQL 11, 4 vCPU Multi-AZ in year 1-2: 4 × 0.100 × 730 × 2 = 584.00. A row
    # with no Extended Support flag, or flagged at a $0 rate, saves nothing; at a
    # hypothetical $0.00025 per vCPU-hour, 4 × 0.00025 × 730 = 0.73 is still a saving.
    common = {
        "engine": "postgres",
        "engine_version": "11.22",
        "vcpus": 4.0,
        "standard_support_end": datetime(2024, 2, 29).date(),
        **SMALL,
    }
    inv = inventory(
        [
            database(
                "ha", multi_az=True, extended_support=True, extended_support_vcpu_hour=0.1, **common
            ),
            database("unknown", extended_support=None, extended_support_vcpu_hour=0.1, **common),
            database("free", extended_support=True, extended_support_vcpu_hour=0.0, **common),
            database("tiny", extended_support=True, extended_support_vcpu_hour=0.00025, **common),
        ]
    )
    out = by_id(run_policy("rightsizing.database-extended-support", inv))
    assert sorted(out) == ["ha", "tiny"]
    assert out["tiny"]["monthly_savings"] == pytest.approx(0.73, abs=CENT)
    row = out["ha"]
    assert row["confidence"] == pytest.approx(0.9)  # ExtendedSupportParams' default
    assert row["monthly_savings"] == pytest.approx(584.00, abs=CENT)
    assert "Extended Support bills 8 vCPU × $73.00 a month." in row["detail"]
    assert json.loads(row["evidence"])["instances"] == 2.0


# --- bottleneck and cache layer ------------------------------------------------------------

HOT = {"larger_class": "db.m5.xlarge", "larger_hourly_price": 0.342, "larger_vcpus": 4.0, **SMALL}


def load(
    name: str,
    cpu_p95: float,
    reads: float | None = None,
    writes: float | None = None,
    latency: float | None = None,
    hours: int = HOURS,
) -> list[dict[str, Any]]:
    rows = series(name, "cpu", [cpu_p95] * hours)
    if reads is not None:
        rows += series(name, "read_iops", [reads] * hours)
    if writes is not None:
        rows += series(name, "write_iops", [writes] * hours)
    if latency is not None:
        rows += series(name, "read_latency", [latency] * hours)
    return rows


def test_bottleneck_alert_lines_are_strict_and_need_thirty_hours() -> None:
    # The seed's alert lines: p95 CPU above 85% (85.0 is not), p95 read latency above
    # 500 ms (0.5 s is not, 0.51 s is); 29 hours of CPU data is too few, 30 enough. Write-heavy, so
    # the remedy is db.m5.xlarge: (0.342 − 0.171) × 730 = 124.83, gain 1 − 2/4 = 0.5.
    inv = inventory(
        [database(n, **HOT) for n in ("cpu-85.1", "cpu-85", "lat-0.51", "lat-0.5", "h29", "h30")],
        load("cpu-85.1", 85.1, 100.0, 900.0)
        + load("cpu-85", 85.0, 100.0, 900.0)
        + load("lat-0.51", 30.0, 100.0, 900.0, latency=0.51)
        + load("lat-0.5", 30.0, 100.0, 900.0, latency=0.5)
        + load("h29", 95.0, 100.0, 900.0, hours=29)
        + load("h30", 95.0, 100.0, 900.0, hours=30),
    )
    out = by_id(run_policy("rightsizing.database-bottleneck", inv))
    assert sorted(out) == ["cpu-85.1", "h30", "lat-0.51"]
    for row in out.values():
        assert row["added_monthly_cost"] == pytest.approx(124.83, abs=CENT)
        assert row["confidence"] == pytest.approx(0.8)  # DatabaseBottleneckParams' default
        assert row["performance_gain"] == pytest.approx(0.5)
        assert row["monthly_savings"] == 0.0
        assert "it adds $124.83 a month" in row["recommendation"]
    assert "reads are 10.0% of its IOPS; p95 read latency 510 ms." in out["lat-0.51"]["detail"]


def test_bottleneck_replica_from_80_percent_reads_outside_aurora() -> None:
    # Reads exactly 80% of the IOPS (800 / 1,000) take a db.m5.large replica with its
    # storage: 124.83 + 11.50 = 136.33, gain 0.8 / 2 = 0.40; 79% reads move up a size
    # (124.83); an Aurora member never gets a replica here (its cluster adds readers);
    # Multi-AZ: the replica is one instance and one zone's storage, 124.83 + 23 / 2 =
    # 136.33, while the size up doubles, 249.66.
    rows = [
        database("r80", **HOT),
        database("r79", **HOT),
        database("aurora", cluster_id="c1", **HOT),
        database(
            "ha-r80", **{**HOT, "multi_az": True, "monthly_price": 272.66, "storage_monthly": 23.0}
        ),
        database(
            "ha-r79", **{**HOT, "multi_az": True, "monthly_price": 272.66, "storage_monthly": 23.0}
        ),
    ]
    inv = inventory(
        rows,
        load("r80", 93.0, 800.0, 200.0)
        + load("r79", 93.0, 790.0, 210.0)
        + load("aurora", 93.0, 900.0, 100.0)
        + load("ha-r80", 93.0, 800.0, 200.0)
        + load("ha-r79", 93.0, 790.0, 210.0),
    )
    out = by_id(run_policy("rightsizing.database-bottleneck", inv))
    added = {k: round(v["added_monthly_cost"], 2) for k, v in out.items()}
    assert added == {
        "r80": 136.33,
        "r79": 124.83,
        "aurora": 124.83,
        "ha-r80": 136.33,
        "ha-r79": 249.66,
    }
    remedy = {k: json.loads(v["evidence"])["remedy"] for k, v in out.items()}
    assert remedy == {
        "r80": "read_replica",
        "r79": "larger_class",
        "aurora": "larger_class",
        "ha-r80": "read_replica",
        "ha-r79": "larger_class",
    }
    assert out["r80"]["performance_gain"] == pytest.approx(0.40)
    assert "it adds $136.33 a month" in out["r80"]["recommendation"]
    assert "reads are 80.0% of its IOPS" in out["r80"]["detail"]


def test_bottleneck_without_a_larger_class_or_io_data_adds_nothing_priced() -> None:
    # Hot, no I/O series (and a twin whose reads and writes are both 0: no share), and no
    # larger class priced: the remedy is unpriced (added 0, no gain figure).
    rows = [database("top", **SMALL), database("idle-io", **SMALL)]
    inv = inventory(rows, load("top", 93.0) + load("idle-io", 93.0, 0.0, 0.0))
    out = by_id(run_policy("rightsizing.database-bottleneck", inv))
    for row in out.values():
        assert row["added_monthly_cost"] == 0.0
        assert row["performance_gain"] is None
        assert json.loads(row["evidence"])["remedy"] == "none_priced"
        assert "reads are 0.0% of its IOPS; p95 read latency 0 ms." in row["detail"]


def test_cache_layer_from_80_percent_reads_above_the_alert_lines() -> None:
    # cache.r6g.large at $0.206/h: two nodes 2 × 0.206 × 730 = 300.76. Reads 80% of the
    # IOPS count (79% do not, nor does a database with no reads or writes at all); p95 CPU
    # 85.1% is above the line, 85.0 is not; read latency 0.51 s is, 0.5 s is not; 29
    # hours is too few, 30 enough; no cache node priced, no finding.
    cache = {"cache_node_type": "cache.r6g.large", "cache_node_hourly_price": 0.206, **SMALL}
    names = ("r80", "r79", "no-io", "cpu-85.1", "cpu-85", "lat-0.51", "lat-0.5", "h29", "h30")
    rows = [database(n, **cache) for n in names]
    rows.append(database("unpriced-cache", **SMALL))
    inv = inventory(
        rows,
        load("r80", 93.0, 800.0, 200.0)
        + load("r79", 93.0, 790.0, 210.0)
        + load("no-io", 93.0, 0.0, 0.0)
        + load("cpu-85.1", 85.1, 800.0, 200.0)
        + load("cpu-85", 85.0, 800.0, 200.0)
        + load("lat-0.51", 30.0, 800.0, 200.0, latency=0.51)
        + load("lat-0.5", 30.0, 800.0, 200.0, latency=0.5)
        + load("h29", 93.0, 800.0, 200.0, hours=29)
        + load("h30", 93.0, 800.0, 200.0, hours=30)
        + load("unpriced-cache", 93.0, 800.0, 200.0),
    )
    out = by_id(run_policy("rightsizing.database-cache-layer", inv))
    assert sorted(out) == ["cpu-85.1", "h30", "lat-0.51", "r80"]
    row = out["r80"]
    assert row["added_monthly_cost"] == pytest.approx(300.76, abs=CENT)
    assert row["confidence"] == pytest.approx(0.6)  # CacheLayerParams' default
    assert row["monthly_savings"] == 0.0
    assert "reads are 80.0% of its IOPS" in row["detail"]
    assert "Put 2 × cache.r6g.large (Redis OSS) in front of r80" in row["recommendation"]
    # Three nodes: 3 × 0.206 × 730 = 451.14.
    three = by_id(run_policy("rightsizing.database-cache-layer", inv, cache_nodes=3))
    assert three["r80"]["added_monthly_cost"] == pytest.approx(451.14, abs=CENT)


# --- Graviton ------------------------------------------------------------------------------


def test_graviton_counts_the_instance_kept_and_only_a_cheaper_twin() -> None:
    # db.m5.large $0.171 -> db.m6g.large $0.152: 0.019 × 730 = 13.87 an instance.
    # Multi-AZ tagged dev (the standby finding takes the standby): one instance, 13.87;
    # a Graviton twin at the same price saves nothing: no finding; one at $0.170 saves
    # 0.001 × 730 = 0.73, under a dollar but a saving.
    arm = {"graviton_class": "db.m6g.large", "graviton_hourly_price": 0.152}
    rows = [
        database("dev-ha", multi_az=True, monthly_price=272.66, storage_monthly=23.0, **arm),
        database("same", graviton_class="db.m6g.large", graviton_hourly_price=0.171, **SMALL),
        database("tiny", graviton_class="db.m6g.large", graviton_hourly_price=0.170, **SMALL),
    ]
    inv = inventory(rows, tags=[("dev-ha", "env", "dev")])
    out = by_id(run_policy("rightsizing.database-graviton", inv))
    assert sorted(out) == ["dev-ha", "tiny"]
    assert out["tiny"]["monthly_savings"] == pytest.approx(0.73, abs=CENT)
    row = out["dev-ha"]
    assert row["monthly_savings"] == pytest.approx(13.87, abs=CENT)
    assert row["confidence"] == pytest.approx(0.75)  # DatabaseGravitonParams' default
    assert json.loads(row["evidence"])["instances_priced"] == 1.0
    assert "($13.87 a month less)" in row["detail"]
