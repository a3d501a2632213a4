"""Cloud Logging policies over small hand-built log bucket rows.

Prices: Cloud Logging's list prices (https://cloud.google.com/stackdriver/pricing): $0.50
per GiB ingested (30 days of storage included, the first 50 GiB a project a month free),
$0.01 per GiB-month kept beyond 30 days. Every figure is worked out here by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from costscan.scanner.contracts.inventory import Inventory, RunContext
from tests.policies.runner import run_policy

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
GIB = float(2**30)


def bucket(bucket_id: str, *, retention: int, stored_gib: float | None,
           ingested_gib_30d: float | None, project: str = "p", age_days: float = 730,
           provider: str = "gcp") -> dict[str, Any]:  # fmt: skip
    return {
        "provider": provider,
        "account_id": project,
        "region": "global",
        "resource_id": f"projects/{project}/locations/global/buckets/{bucket_id}",
        "resource_name": f"{bucket_id} (global)",
        "resource_type": "log_bucket",
        "retention_days": retention,
        "stored_bytes": None if stored_gib is None else stored_gib * GIB,
        "ingested_bytes_30d": None if ingested_gib_30d is None else ingested_gib_30d * GIB,
        "created": NOW - timedelta(days=age_days),
        "ingestion_price_per_gb": 0.50,
        "storage_price_per_gb_month": 0.01,
        "price_region": "global",
        "price_source": "bundled",
        "price_reference": "https://cloud.google.com/stackdriver/pricing",
    }


def inventory(*rows: dict[str, Any]) -> Inventory:
    inv = Inventory(provider="gcp", context=RunContext(now=NOW, lookback_days=14))
    inv.add("log_groups", pl.DataFrame(list(rows)))
    return inv


def test_retention_past_30_days_saves_what_is_billed_beyond_the_included_month() -> None:
    # 2 GiB a day, kept 365 days: 730 GiB stored, 60 within the included 30 days, so
    # 670 GiB bill $0.01 each; at 30 days' retention none do.
    inv = inventory(bucket("archive", retention=365, stored_gib=730, ingested_gib_30d=60))
    row = run_policy("observability.gcp-log-retention", inv).row(0, named=True)
    assert row["monthly_savings"] == pytest.approx(6.70)
    assert row["current_monthly_cost"] == pytest.approx(6.70)
    assert "670 GiB older than 30 days" in row["detail"]


def test_retention_cut_to_90_days_keeps_paying_for_days_31_to_90() -> None:
    # 90 days keeps 180 GiB, 120 of them past the included 30: 670 − 120 = 550 GiB saved.
    inv = inventory(bucket("archive", retention=365, stored_gib=730, ingested_gib_30d=60))
    row = run_policy("observability.gcp-log-retention", inv, retention_days=90).row(0, named=True)
    assert row["monthly_savings"] == pytest.approx(5.50)


def test_retention_without_ingestion_reads_the_daily_rate_from_what_is_stored() -> None:
    # 400 GiB over 400 days' retention (bucket older than that): 1 GiB a day, 370 GiB billed.
    inv = inventory(bucket("old", retention=400, stored_gib=400, ingested_gib_30d=None))
    row = run_policy("observability.gcp-log-retention", inv).row(0, named=True)
    assert row["monthly_savings"] == pytest.approx(3.70)
    assert row["confidence"] == 0.5


def test_default_retention_locked_buckets_and_aws_log_groups_are_left_alone() -> None:
    locked = bucket("audit", retention=365, stored_gib=730, ingested_gib_30d=60)
    inv = inventory(
        {**locked, "retention_locked": True},
        bucket("_Default", retention=30, stored_gib=240, ingested_gib_30d=240),
        bucket("cw", retention=365, stored_gib=730, ingested_gib_30d=60, provider="aws"),
    )
    assert run_policy("observability.gcp-log-retention", inv).height == 0


def test_ingestion_charges_each_bucket_its_share_past_the_free_50_gib() -> None:
    # The project takes in 300 GiB, 250 billed; _Default's 240 is 4/5 of it: 200 GiB,
    # $100.00, half of it saved by the estimate. small (10 GiB) is under the 50 GiB line.
    inv = inventory(
        bucket("_Default", retention=30, stored_gib=240, ingested_gib_30d=240),
        bucket("app", retention=30, stored_gib=50, ingested_gib_30d=50),
        bucket("small", retention=30, stored_gib=10, ingested_gib_30d=10),
    )
    out = run_policy("observability.gcp-log-ingestion", inv).sort("resource_id")
    inv_total = 240 + 50 + 10
    shares = {"_Default": 240, "app": 50}
    assert out["resource_name"].to_list() == ["_Default (global)", "app (global)"]
    for row in out.iter_rows(named=True):
        gib = shares[row["resource_name"].split(" ")[0]]
        billed = gib * (inv_total - 50) / inv_total
        assert row["current_monthly_cost"] == pytest.approx(billed * 0.50)
        assert row["monthly_savings"] == pytest.approx(billed * 0.50 * 0.5)


def test_ingestion_inside_the_free_allowance_bills_nothing() -> None:
    inv = inventory(bucket("_Default", retention=30, stored_gib=45, ingested_gib_30d=50))
    assert run_policy("observability.gcp-log-ingestion", inv).height == 0


def test_cloudwatch_ingestion_policy_leaves_gcp_buckets_to_their_twin() -> None:
    inv = inventory(bucket("_Default", retention=30, stored_gib=240, ingested_gib_30d=240))
    assert run_policy("observability.log-ingestion", inv).height == 0
