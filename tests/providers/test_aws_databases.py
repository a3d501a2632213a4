"""RDS collectors against moto in server mode, through the whole AwsProvider and ranking.

The demo's databases (demo/databases.py) are seeded with two days of hourly ``AWS/RDS``
metrics; every expected figure is worked out by hand from the bundled us-east-1 list
prices (https://aws.amazon.com/rds/mysql/pricing/, .../postgresql/pricing/,
https://aws.amazon.com/rds/pricing/), written out beside it.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from costscan.demo.databases import DATABASE_CASES, seed_databases
from costscan.providers.aws import AwsProvider, data_services, provider
from costscan.providers.aws.databases import RDS_SERIES
from costscan.providers.aws.metrics import MAX_QUERIES_PER_CALL
from costscan.providers.aws.permissions import IAM_ACTIONS, iam_action
from costscan.providers.interface import ScanRequest
from costscan.reports.ranking import rank
from costscan.scanner.app import catalog
from costscan.scanner.contracts.inventory import Inventory, RunContext
from tests.moto_server import RecordingMotoServer
from tests.read_only import CallRecorder, request_is_read

REGION = "us-east-1"
HOURS = 48


@pytest.fixture
def scanned(
    moto: RecordingMotoServer, endpoint_url: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Inventory, CallRecorder]:
    # Only this area's collectors: the other families' are tested on their own.
    monkeypatch.setattr(provider, "REGIONAL_COLLECTORS", (data_services.scan_data_services_region,))
    monkeypatch.setattr(provider, "ACCOUNT_COLLECTORS", ())
    now = datetime.now(UTC)
    seed_databases(endpoint_url, now, [REGION], hours=HOURS)
    moto.clear_log()
    recorder = CallRecorder()
    request = ScanRequest(
        context=RunContext(now=now, lookback_days=2), regions=(REGION,), endpoint_url=endpoint_url
    )
    inv = AwsProvider(max_attempts=2, hooks=(recorder.hook,)).collect(request)
    return inv, recorder


def _database_findings(inv: Inventory) -> pl.DataFrame:
    frames = [
        pol.run(inv, pol.build_params()).collect()
        for pol in catalog.all_policies().values()
        if "databases" in pol.needs
    ]
    return pl.concat(frames, how="vertical")


def test_collects_databases_with_prices_tags_and_metrics(
    scanned: tuple[Inventory, CallRecorder], moto: RecordingMotoServer
) -> None:
    inv, recorder = scanned
    assert inv.errors == []
    frame = inv.frame("databases")
    by_id = {r["resource_id"]: r for r in frame.to_dicts()}
    assert set(by_id) == set(DATABASE_CASES)
    ledger = by_id["ledger-db"]
    assert (ledger["storage_type"], ledger["allocated_gb"], ledger["iops"]) == ("io1", 1000, 20000)
    # db.m5.xlarge PostgreSQL 0.356 × 730 = 259.88; io1 1,000 × 0.125 + 20,000 × 0.10 = 2,125.
    assert ledger["monthly_price"] == pytest.approx(259.88 + 2125.0, abs=0.005)
    staging = by_id["staging-orders-db"]
    assert staging["multi_az"] is True
    # db.r5.xlarge MySQL 0.48 × 730 × 2 = 700.80; gp3 200 × 0.115 × 2 = 46.00.
    assert staging["monthly_price"] == pytest.approx(746.80, abs=0.005)
    reports = by_id["reports-db"]
    assert reports["extended_support"] is True
    assert reports["engine_version"] == "11.22"
    assert by_id["analytics-db"]["smaller_class"] == "db.r5.xlarge"
    tags = inv.frame("tags").filter(pl.col("key") == "environment")
    assert dict(zip(tags["resource_id"], tags["value"], strict=True))["staging-orders-db"] == (
        "staging"
    )

    utilization = inv.frame("utilization")
    per_db = utilization.group_by("resource_id").agg(pl.col("metric").n_unique())
    assert per_db.height == len(DATABASE_CASES)
    assert set(utilization["metric"]) >= {"cpu", "db_connections", "read_iops", "write_iops"}

    # Every series of every database in ceil(queries / 500) GetMetricData calls.
    queries = len(DATABASE_CASES) * len(RDS_SERIES)
    metric_calls = [
        o for o in moto.operations() if o.service == "monitoring" and o.operation == "GetMetricData"
    ]
    assert len(metric_calls) == math.ceil(queries / MAX_QUERIES_PER_CALL)
    assert all(request_is_read(o) for o in moto.operations())
    assert {iam_action(s, op) for s, op in recorder.calls} <= set(IAM_ACTIONS)


def test_each_planted_database_case_is_found_and_priced(
    scanned: tuple[Inventory, CallRecorder],
) -> None:
    inv, _ = scanned
    ranked = rank(_database_findings(inv), hourly_rate=100.0)
    counted = ranked.findings.filter(pl.col("counted"))
    found = {
        (r["policy_id"], r["resource_id"]): r["net_monthly_savings"] for r in counted.to_dicts()
    }
    expected = {
        # 0.171 × 730 + 50 × 0.115 = 130.58, less a 50 GB final snapshot at 0.095 = 4.75.
        ("rightsizing.idle-database", "legacy-audit-db"): 130.58 - 4.75,
        # Standby: 0.48 × 730 = 350.40 + 200 × 0.115 = 23.00.
        ("rightsizing.multi-az-nonprod", "staging-orders-db"): 373.40,
        # PostgreSQL 11 in Extended Support year 3: 2 vCPU × 0.200 × 730.
        ("rightsizing.database-extended-support", "reports-db"): 292.00,
        # db.r5.2xlarge 1.00 -> db.r5.xlarge 0.50: 0.50 × 730.
        ("rightsizing.oversized-database", "analytics-db"): 365.00,
        # io1 2,125 -> gp3 1,000 × 0.115 + 8,000 × 0.02 = 275.
        ("storage.database-io1-to-gp3", "ledger-db"): 1850.00,
        # Graviton, same size: db.r5.xlarge MySQL 0.48 -> db.r6g.xlarge 0.43, one instance
        # kept (the standby finding takes the other): 0.05 × 730.
        ("rightsizing.database-graviton", "staging-orders-db"): 36.50,
        # db.m5.large PostgreSQL 0.178 -> db.m6g.large 0.159: 0.019 × 730.
        ("rightsizing.database-graviton", "reports-db"): 13.87,
        # db.m5.xlarge PostgreSQL 0.356 -> db.m6g.xlarge 0.318: 0.038 × 730.
        ("rightsizing.database-graviton", "ledger-db"): 27.74,
    }
    assert found == pytest.approx(expected, abs=0.01)

    remedies = {
        r["policy_id"]: r
        for r in ranked.bottlenecks.filter(pl.col("resource_id") == "checkout-db").to_dicts()
    }
    assert set(remedies) == {"rightsizing.database-bottleneck", "rightsizing.database-cache-layer"}
    # The seed's other strategy: two cache.r6g.large Redis OSS nodes, 2 × 0.206 × 730.
    cache = remedies["rightsizing.database-cache-layer"]
    assert cache["added_monthly_cost"] == pytest.approx(300.76, abs=0.005)
    hot = remedies["rightsizing.database-bottleneck"]
    # A db.m5.large read replica with its 100 GB gp3: 0.171 × 730 + 100 × 0.115.
    assert hot["added_monthly_cost"] == pytest.approx(124.83 + 11.50, abs=0.005)
    assert json.loads(hot["evidence"])["remedy"] == "read_replica"
    assert hot["monthly_savings"] == 0.0


def test_reserved_db_instances_defer_the_instance_hours_they_cover(
    moto: RecordingMotoServer, endpoint_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto has no DescribeReservedDBInstances: the local layer answers it, in its
    # documented shape, with an active db.r5 PostgreSQL reservation (size-flexible) and a
    # retired one that covers nothing.
    monkeypatch.setattr(provider, "REGIONAL_COLLECTORS", (data_services.scan_data_services_region,))
    monkeypatch.setattr(provider, "ACCOUNT_COLLECTORS", ())
    now = datetime.now(UTC)
    seed_databases(endpoint_url, now, [REGION], hours=HOURS)
    start = now - timedelta(days=100)
    year = 365 * 24 * 3600
    moto.gaps.answer(
        "rds",
        "DescribeReservedDBInstances",
        {
            "ReservedDBInstances": [
                {
                    "ReservedDBInstanceId": "ri-analytics",
                    "DBInstanceClass": "db.r5.xlarge",
                    "ProductDescription": "postgresql",
                    "StartTime": start,
                    "Duration": year,
                    "DBInstanceCount": 2,
                    "MultiAZ": False,
                    "State": "active",
                },
                {
                    "ReservedDBInstanceId": "ri-old",
                    "DBInstanceClass": "db.m5.large",
                    "ProductDescription": "mysql",
                    "StartTime": start - timedelta(days=400),
                    "Duration": year,
                    "DBInstanceCount": 1,
                    "MultiAZ": False,
                    "State": "retired",
                },
            ]
        },
    )
    request = ScanRequest(
        context=RunContext(now=now, lookback_days=2), regions=(REGION,), endpoint_url=endpoint_url
    )
    inv = AwsProvider(max_attempts=2).collect(request)
    assert inv.errors == []
    until = dict(inv.frame("databases").select("resource_id", "reserved_until").iter_rows())
    # The answer travels as epoch seconds: equal to the second.
    ends = start + timedelta(seconds=year)
    assert abs((until["analytics-db"] - ends).total_seconds()) < 1
    assert until["legacy-audit-db"] is None and until["checkout-db"] is None
    ranked = rank(_database_findings(inv), hourly_rate=100.0).findings
    (resize,) = ranked.filter(
        (pl.col("resource_id") == "analytics-db")
        & (pl.col("policy_id") == "rightsizing.oversized-database")
    ).to_dicts()
    # 0.50 × 730 of instance hours, all deferred to the reservation's end.
    assert resize["category"] == "deferred"
    assert resize["deferred_monthly_savings"] == pytest.approx(365.00, abs=0.01)
    assert resize["monthly_savings"] == 0.0
