"""The Cloud Logging policies at each threshold, worked by hand (issue 21).

Cloud Logging's list prices (https://cloud.google.com/stackdriver/pricing): $0.50 per GiB
ingested, which includes 30 days of storage; $0.01 per GiB-month kept beyond 30 days; the
first 50 GiB a project takes in each month free. Each test names the rule it pins; they
were written against the mutants that survived tests/policies/test_gcp_observability.py
(``python benchmarks/mutation.py policies/gcp_observability.py``).
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest

from tests.policies.runner import run_policy
from tests.policies.test_gcp_observability import bucket, inventory


def by_name(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {r["resource_name"].split(" ")[0]: r for r in frame.to_dicts()}


# --- retention ---------------------------------------------------------------------------


def test_retention_longer_than_30_days_by_one_day_bills_one_day() -> None:
    # 2 GiB a day (60 GiB over 30 days) kept 31 days: 62 GiB stored, 60 included, 2 GiB
    # bill $0.01: 0.02 a month, all saved at 30 days. Kept exactly 30 days: nothing to do,
    # even holding 90 GiB (its ingestion fell: 30 GiB past the included 60 would bill).
    # A bucket holding less than its 30 included days bills nothing: no finding.
    inv = inventory(
        bucket("d31", retention=31, stored_gib=62, ingested_gib_30d=60),
        bucket("d30", retention=30, stored_gib=90, ingested_gib_30d=60),
        bucket("young", retention=365, stored_gib=50, ingested_gib_30d=60),
    )
    out = by_name(run_policy("observability.gcp-log-retention", inv))
    assert sorted(out) == ["d31"]
    row = out["d31"]
    assert row["monthly_savings"] == pytest.approx(0.02)
    assert row["current_monthly_cost"] == pytest.approx(0.02)
    assert row["confidence"] == 0.8
    evidence = json.loads(row["evidence"])
    assert evidence["retained_billed_gib_now"] == pytest.approx(2.0)
    assert evidence["retained_billed_gib_after"] == 0.0
    assert evidence["daily_bytes"] == pytest.approx(2 * 2**30)
    assert evidence["daily_basis"] == "ingestion"
    assert (
        "keeps logs 31 days and holds 62 GiB, taking in about 2 GiB a day (from ingestion); "
        "the 2 GiB older than 30 days bill $0.02 a month."
    ) in row["detail"]


def test_retention_daily_rate_from_age_when_younger_than_its_retention() -> None:
    # No ingestion figure, 100 days old, 400 days' retention, 200 GiB: it has filled for
    # 100 days, so 2 GiB a day: 200 − 60 = 140 GiB bill, 1.40 a month, at the lower
    # confidence. Cut to 90 days it keeps 180 GiB, 120 billed: 0.20 saved. No creation
    # date and no ingestion: no daily rate, no finding; one created just now neither, nor
    # one dated a day in the future (a clock ahead: no age to read a rate from).
    inv = inventory(
        bucket("young-400", retention=400, stored_gib=200, ingested_gib_30d=None, age_days=100),
        {
            **bucket("undated", retention=400, stored_gib=200, ingested_gib_30d=None),
            "created": None,
        },
        bucket("brand-new", retention=400, stored_gib=200, ingested_gib_30d=None, age_days=0),
        bucket("future", retention=400, stored_gib=200, ingested_gib_30d=None, age_days=-1),
    )
    out = by_name(run_policy("observability.gcp-log-retention", inv))
    assert sorted(out) == ["young-400"]
    row = out["young-400"]
    assert row["monthly_savings"] == pytest.approx(1.40)
    assert row["confidence"] == 0.5
    evidence = json.loads(row["evidence"])
    assert evidence["daily_basis"] == "age"
    assert evidence["age_days"] == pytest.approx(100.0)
    ninety = run_policy("observability.gcp-log-retention", inv, retention_days=90)
    assert ninety["monthly_savings"].to_list() == pytest.approx([0.20])
    after = json.loads(ninety["evidence"].item())
    assert (after["retained_billed_gib_now"], after["retained_billed_gib_after"]) == (
        pytest.approx(140.0),
        pytest.approx(120.0),
    )


def test_retention_needs_stored_bytes_a_price_and_an_unlocked_bucket() -> None:
    # Empty, unpriced and locked buckets make no finding; an unknown lock is unlocked.
    # 2 GiB a day kept 365 days, 730 GiB: 670 GiB past 30 days, 6.70 a month.
    base = bucket("b", retention=365, stored_gib=730, ingested_gib_30d=60)
    inv = inventory(
        {
            **base,
            "resource_name": "unknown-lock (global)",
            "resource_id": "u",
            "retention_locked": None,
        },
        {**base, "resource_name": "locked (global)", "resource_id": "l", "retention_locked": True},
        {
            **base,
            "resource_name": "unpriced (global)",
            "resource_id": "p",
            "storage_price_per_gb_month": None,
        },
        {**base, "resource_name": "empty (global)", "resource_id": "e", "stored_bytes": 0.0},
    )
    out = by_name(run_policy("observability.gcp-log-retention", inv))
    assert sorted(out) == ["unknown-lock"]
    assert out["unknown-lock"]["monthly_savings"] == pytest.approx(6.70)
    # A threshold above the saving hides it; one just under keeps it.
    assert run_policy("observability.gcp-log-retention", inv, min_monthly_savings=6.71).height == 0
    assert run_policy("observability.gcp-log-retention", inv, min_monthly_savings=6.69).height == 1


# --- ingestion ---------------------------------------------------------------------------


def test_ingestion_line_is_50_gib_inclusive_and_the_allowance_per_project() -> None:
    # Project p: 50 + 49.9 + 100.1 = 200 GiB, 150 billed past the free 50: the 50 GiB
    # bucket's share 50 × 150 / 200 = 37.5 GiB, $18.75, half saved 9.375; the 100.1 GiB
    # bucket 75.075 GiB, $37.5375; the 49.9 GiB one is under the line. Project q takes
    # in 50 GiB: all free, no finding.
    inv = inventory(
        bucket("p50", retention=30, stored_gib=50, ingested_gib_30d=50),
        bucket("p49.9", retention=30, stored_gib=49.9, ingested_gib_30d=49.9),
        bucket("p100.1", retention=30, stored_gib=100.1, ingested_gib_30d=100.1),
        bucket("q50", retention=30, stored_gib=50, ingested_gib_30d=50, project="q"),
        {
            **bucket("unpriced", retention=30, stored_gib=90, ingested_gib_30d=90, project="r"),
            "ingestion_price_per_gb": None,
        },
    )
    out = by_name(run_policy("observability.gcp-log-ingestion", inv))
    assert sorted(out) == ["p100.1", "p50"]
    row = out["p50"]
    assert row["confidence"] == pytest.approx(0.4)  # GcpLogIngestionParams' default
    assert row["current_monthly_cost"] == pytest.approx(18.75)
    assert row["monthly_savings"] == pytest.approx(9.375)
    assert out["p100.1"]["current_monthly_cost"] == pytest.approx(37.5375)
    evidence = json.loads(row["evidence"])
    assert evidence["billed_gib"] == pytest.approx(37.5)
    assert evidence["free_gib_per_project_month"] == 50.0
    assert evidence["project_ingested_bytes_30d"] == pytest.approx(200 * 2**30)
    assert "takes in about 50 GiB a month of the project's 200 GiB" in row["detail"]
    assert "its share bills $18.75 a month." in row["detail"]
    assert row["recommendation"].endswith("an estimated 50.0% less ingestion.")
    # A 100 GiB free allowance (hypothetical) leaves 100 of 200 billed: 25 GiB, $12.50.
    bigger = by_name(
        run_policy("observability.gcp-log-ingestion", inv, free_gib_per_project_month=100.0)
    )
    assert bigger["p50"]["current_monthly_cost"] == pytest.approx(12.50)


def test_ingestion_over_the_allowance_by_a_little_is_still_billed() -> None:
    # 51 GiB in one bucket: 1 GiB billed, $0.50, 0.25 saved (a saving under a dollar). An
    # unmeasured bucket in the same project neither counts toward the project nor is
    # flagged. With an 80% reduction (a parameter): 0.40 saved.
    inv = inventory(
        bucket("b51", retention=30, stored_gib=51, ingested_gib_30d=51),
        bucket("unmeasured", retention=30, stored_gib=10, ingested_gib_30d=None),
    )
    out = run_policy("observability.gcp-log-ingestion", inv)
    assert out["resource_name"].to_list() == ["b51 (global)"]
    assert out["current_monthly_cost"].to_list() == pytest.approx([0.50])
    assert out["monthly_savings"].to_list() == pytest.approx([0.25])
    evidence = json.loads(out["evidence"].item())
    assert evidence["lookback_days"] == 14
    assert evidence["reduction_share"] == 0.5
    more = run_policy("observability.gcp-log-ingestion", inv, reduction_share=0.8)
    assert more["monthly_savings"].to_list() == pytest.approx([0.40])
    assert more["recommendation"].item().endswith("an estimated 80.0% less ingestion.")
    # A share of 0.1234 is shown to one decimal, 12.3%: 0.50 × 0.1234 = 0.0617 saved.
    odd = run_policy("observability.gcp-log-ingestion", inv, reduction_share=0.1234)
    assert odd["recommendation"].item().endswith("an estimated 12.3% less ingestion.")
    assert odd["monthly_savings"].to_list() == pytest.approx([0.0617])
