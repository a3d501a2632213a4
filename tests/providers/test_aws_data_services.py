"""ElastiCache and DynamoDB collectors against moto in server mode, through ranking.

The demo's caches and tables (demo/data_services.py) are seeded with two days of hourly
metrics; expected figures are worked out by hand from the bundled us-east-1 list prices
(https://aws.amazon.com/elasticache/pricing/, https://aws.amazon.com/dynamodb/pricing/).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import polars as pl
import pytest

from costscan.demo.data_services import CACHE_CASES, EFS_NAME, TABLE_CASES, seed_data_services
from costscan.demo.databases import DATABASE_CASES, seed_databases
from costscan.providers.aws import AwsProvider, data_services, provider
from costscan.providers.aws.analytics import SEARCH_SERIES, WAREHOUSE_SERIES
from costscan.providers.aws.caches import CACHE_SERIES
from costscan.providers.aws.data_services import TABLE_SERIES
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
FRAMES = ("caches", "dynamodb_tables", "file_systems", "search_domains", "warehouses")


@pytest.fixture
def scanned(
    moto: RecordingMotoServer, endpoint_url: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Inventory, CallRecorder]:
    monkeypatch.setattr(provider, "REGIONAL_COLLECTORS", (data_services.scan_data_services_region,))
    monkeypatch.setattr(provider, "ACCOUNT_COLLECTORS", ())
    now = datetime.now(UTC)
    seed_databases(endpoint_url, now, [REGION], hours=HOURS)
    seed_data_services(endpoint_url, now, [REGION], hours=HOURS, gaps=moto.gaps)
    moto.clear_log()
    recorder = CallRecorder()
    request = ScanRequest(
        context=RunContext(now=now, lookback_days=2), regions=(REGION,), endpoint_url=endpoint_url
    )
    return AwsProvider(max_attempts=2, hooks=(recorder.hook,)).collect(request), recorder


def test_collects_caches_and_tables_in_one_metric_batch(
    scanned: tuple[Inventory, CallRecorder], moto: RecordingMotoServer
) -> None:
    inv, recorder = scanned
    assert inv.errors == []
    caches = {r["resource_id"]: r for r in inv.frame("caches").to_dicts()}
    assert set(caches) == set(CACHE_CASES)
    # One cache.r5.2xlarge: 0.862 × 730.
    assert caches["catalog-cache"]["monthly_price"] == pytest.approx(629.26, abs=0.005)
    tables = {r["resource_id"]: r for r in inv.frame("dynamodb_tables").to_dicts()}
    assert set(tables) == set(TABLE_CASES)
    archive = tables["audit-archive"]
    # The size comes from the demo's DescribeTable answer (moto reports 0 bytes).
    assert archive["storage_gb"] == pytest.approx(2000.0)
    # (100 × 0.00013 + 50 × 0.00065) × 730 + 2,000 × 0.25.
    assert archive["monthly_price"] == pytest.approx(533.215, abs=0.005)
    assert archive["autoscaling"] is False

    # Databases, cache nodes and tables share ceil(series / 500) GetMetricData calls.
    series = (
        len(DATABASE_CASES) * len(RDS_SERIES)
        + sum(c.nodes for c in CACHE_CASES.values()) * len(CACHE_SERIES)
        + len(TABLE_CASES) * len(TABLE_SERIES)
        + 2 * len(SEARCH_SERIES)
        + len(WAREHOUSE_SERIES)
    )
    calls = [
        o for o in moto.operations() if o.service == "monitoring" and o.operation == "GetMetricData"
    ]
    assert len(calls) == math.ceil(series / MAX_QUERIES_PER_CALL)
    assert all(request_is_read(o) for o in moto.operations())
    assert {iam_action(s, op) for s, op in recorder.calls} <= set(IAM_ACTIONS)


def test_each_planted_cache_and_table_case_is_found_and_priced(
    scanned: tuple[Inventory, CallRecorder],
) -> None:
    inv, _ = scanned
    frames = [
        pol.run(inv, pol.build_params()).collect()
        for pol in catalog.all_policies().values()
        if set(pol.needs) & set(FRAMES)
    ]
    ranked = rank(pl.concat(frames, how="vertical"), hourly_rate=100.0)
    counted = ranked.findings.filter(pl.col("counted"))
    found = {
        (r["policy_id"], r["resource_id"]): r["net_monthly_savings"] for r in counted.to_dicts()
    }
    assert found == pytest.approx(
        {
            # One cache.m5.large: 0.156 × 730.
            ("rightsizing.idle-cache", "old-sessions-cache"): 113.88,
            # cache.r5.2xlarge -> cache.r5.xlarge: (0.862 - 0.431) × 730.
            ("rightsizing.oversized-cache", "catalog-cache"): 314.63,
            # 664.30 provisioned -> ceil(50 / 0.7) = 72 RCU, ceil(30 / 0.7) = 43 WCU:
            # (72 × 0.00013 + 43 × 0.00065) × 730 = 27.2363.
            ("rightsizing.dynamodb-capacity", "clickstream-events"): 664.30 - 27.2363,
            # (33.215 + 500) - (33.215 × 1.25 + 200).
            ("storage.dynamodb-standard-ia", "audit-archive"): 533.215 - 241.51875,
            # Two r6g.large.search: 2 × 0.167 × 730 + 2 × 100 GB gp2 × 0.135 (its gp2 -> gp3
            # move is the removal's alternative).
            ("rightsizing.idle-search-domain", "legacy-logs"): 243.82 + 27.00,
            # Two dc2.large: 2 × 0.25 × 730.
            ("rightsizing.idle-warehouse", "old-bi-warehouse"): 365.00,
        },
        abs=0.01,
    )
    # The file system without a lifecycle: 2,000 GB × an assumed 80% cold × (0.30 - 0.016),
    # a possible saving (the cold share is an assumption).
    (efs,) = ranked.findings.filter(
        pl.col("policy_id") == "storage.efs-without-lifecycle"
    ).to_dicts()
    assert efs["resource_name"] == EFS_NAME
    assert efs["monthly_savings"] == pytest.approx(454.40, abs=0.005)
    assert efs["category"] == "possible" and not efs["counted"]
    bottlenecks = {r["resource_id"]: r for r in ranked.bottlenecks.to_dicts()}
    # cache.m5.large -> cache.m5.xlarge: (0.311 - 0.156) × 730.
    assert bottlenecks["feed-cache"]["added_monthly_cost"] == pytest.approx(113.15, abs=0.005)
    # 100 / 100 -> 115 RCU / 136 WCU: (115 × 0.00013 + 136 × 0.00065) × 730 - 56.94.
    # Three m6g.large.search -> m6g.xlarge.search: 3 × (0.256 - 0.128) × 730.
    assert bottlenecks["app-search"]["added_monthly_cost"] == pytest.approx(280.32, abs=0.005)
    hot = bottlenecks["orders-hot"]
    assert hot["added_monthly_cost"] == pytest.approx(75.4455 - 56.94, abs=0.005)
    assert json.loads(hot["evidence"])["remedy"] == "raise_capacity"
