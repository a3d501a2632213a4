"""Observability policies: log retention and ingestion, metric cardinality, cost anomalies
and unallocated spend, each firing and not firing, savings checked against the formula."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from costscan.reports.ranking import rank
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import Inventory
from tests.policies.observability_inventories import (
    ACCOUNT,
    GIB,
    INGESTION_PRICE,
    NOW,
    STORAGE_PRICE,
    daily_charges,
    inventory,
    log_group,
    metric,
    tiered_cost,
)
from tests.policies.runner import run_policy

FOCUS_SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "focus-1.0-sample.csv"
DAYS_PER_MONTH = 730 / 24


def _run(policy_id: str, inv: Inventory, **params: Any) -> pl.DataFrame:
    out = run_policy(policy_id, inv, **params)
    assert out.schema == pl.Schema(schema.FINDINGS)
    return out


def _one(frame: pl.DataFrame) -> dict[str, Any]:
    assert frame.height == 1, frame
    row = frame.row(0, named=True)
    row["evidence"] = json.loads(row["evidence"])
    return row


# --------------------------------------------------------------------------- log retention


def test_never_expiring_group_saves_storage_older_than_retention_from_ingestion() -> None:
    inv = inventory(
        log_groups=[
            log_group("/app/api", stored_bytes=100 * GIB, ingested_bytes_30d=10 * GIB),
            log_group("/app/kept", retention_days=30, stored_bytes=100 * GIB),
        ]
    )
    row = _one(_run("observability.log-retention", inv))
    # 10 GiB a month kept for 30 days = 10 GiB of 100: 90% is older than the retention.
    older = 1 - (10 / 30 * 30) / 100
    assert row["resource_name"] == "/app/api"
    assert row["action"] == "configure"
    assert row["monthly_savings"] == pytest.approx(100 * 0.15 * older * STORAGE_PRICE)
    assert row["current_monthly_cost"] == pytest.approx(100 * 0.15 * STORAGE_PRICE)
    assert row["evidence"]["older_share_basis"] == "ingestion"
    assert row["evidence"]["price"]["reference"].startswith("https://aws.amazon.com/cloudwatch")
    assert row["confidence"] == pytest.approx(0.7)


def test_never_expiring_group_without_ingestion_uses_its_age() -> None:
    inv = inventory(
        log_groups=[
            log_group("/old", stored_bytes=50 * GIB, created=NOW - timedelta(days=300)),
            log_group("/young", stored_bytes=50 * GIB, created=NOW - timedelta(days=10)),
        ]
    )
    row = _one(_run("observability.log-retention", inv, retention_days=60))
    assert row["resource_name"] == "/old"
    assert row["monthly_savings"] == pytest.approx(50 * 0.15 * (1 - 60 / 300) * STORAGE_PRICE)
    assert row["evidence"]["older_share_basis"] == "age"
    assert row["confidence"] == pytest.approx(0.5)


def test_retention_not_flagged_when_the_retention_would_keep_everything() -> None:
    inv = inventory(
        log_groups=[
            # Takes in 60 GiB a month and holds 10 GiB: all of it is younger than 30 days.
            log_group("/busy", stored_bytes=10 * GIB, ingested_bytes_30d=60 * GIB),
            log_group("/empty", stored_bytes=0.0, ingested_bytes_30d=0.0),
            log_group("/set", retention_days=7, stored_bytes=10 * GIB),
            log_group("/unknown", stored_bytes=10 * GIB),  # neither ingestion nor age
        ]
    )
    assert _run("observability.log-retention", inv).height == 0


def test_retention_confidence_drops_when_us_east_1_prices_stand_in() -> None:
    inv = inventory(
        log_groups=[
            log_group(
                "/eu",
                region="eu-west-1",
                price_region="us-east-1",
                stored_bytes=10 * GIB,
                ingested_bytes_30d=0.0,
            )
        ]
    )
    row = _one(_run("observability.log-retention", inv))
    assert row["confidence"] == pytest.approx(0.7 * 0.8)
    assert row["evidence"]["price"]["region"] == "us-east-1"
    assert row["monthly_savings"] == pytest.approx(10 * 0.15 * STORAGE_PRICE)


# --------------------------------------------------------------------------- log ingestion


def test_heavy_ingestion_saves_the_reduction_share_of_ingestion() -> None:
    inv = inventory(
        log_groups=[
            log_group("/noisy", retention_days=14, ingested_bytes_30d=40 * GIB),
            log_group("/quiet", retention_days=14, ingested_bytes_30d=5 * GIB),
            log_group("/unmeasured", retention_days=14),
        ]
    )
    row = _one(_run("observability.log-ingestion", inv))
    assert row["resource_name"] == "/noisy"
    assert row["current_monthly_cost"] == pytest.approx(40 * INGESTION_PRICE)
    assert row["monthly_savings"] == pytest.approx(40 * INGESTION_PRICE * 0.5)
    assert row["confidence"] == pytest.approx(0.4)
    assert "estimate" in row["evidence"]["formula"]


def test_heavy_ingestion_threshold_and_reduction_are_params() -> None:
    inv = inventory(log_groups=[log_group("/quiet", ingested_bytes_30d=5 * GIB)])
    row = _one(
        _run(
            "observability.log-ingestion",
            inv,
            min_ingested_gb_per_month=4.0,
            reduction_share=0.25,
        )
    )
    assert row["monthly_savings"] == pytest.approx(5 * INGESTION_PRICE * 0.25)


# --------------------------------------------------------------------------- cardinality


def test_high_cardinality_custom_metric_names_its_key_and_prices_the_drop() -> None:
    inv = inventory(
        metrics=[
            metric("Shop", "Latency", 200, {"Endpoint": 2, "CustomerId": 100}),
            metric("Shop", "Orders", 50, {"Endpoint": 50}),
            metric("AWS/EC2", "CPUUtilization", 900, {"InstanceId": 900}),
        ]
    )
    row = _one(_run("observability.metric-cardinality", inv))
    assert row["resource_id"] == "Shop/Latency"
    ev = row["evidence"]
    assert ev["dimension"] == "CustomerId"
    assert ev["series_after"] == 2
    assert ev["account_custom_series"] == 250  # AWS/ namespaces are not custom
    assert row["monthly_savings"] == pytest.approx(tiered_cost(250) - tiered_cost(52))
    assert row["monthly_savings"] == pytest.approx(198 * 0.30)
    assert row["current_monthly_cost"] == pytest.approx(tiered_cost(250) - tiered_cost(50))
    assert "CustomerId" in row["recommendation"]


def test_cardinality_savings_walk_down_the_tiers_and_add_up() -> None:
    metrics = [
        metric("App", "A", 5_000, {"RequestPath": 1_000, "Status": 5}),
        metric("App", "B", 3_000, {"PodName": 300}),
        metric("App", "C", 2_100, {"Status": 21}),
    ]
    out = _run("observability.metric-cardinality", inventory(metrics=metrics))
    by_id = {r["resource_id"]: r for r in out.to_dicts()}
    assert set(by_id) == {"App/A", "App/B"}
    total = 10_100
    # A removes 4,995 (largest first), at the top of the account's 10,100 series.
    assert by_id["App/A"]["monthly_savings"] == pytest.approx(
        tiered_cost(total) - tiered_cost(total - 4_995)
    )
    assert by_id["App/A"]["monthly_savings"] == pytest.approx(100 * 0.10 + 4_895 * 0.30)
    # B removes 2,990 from what A leaves.
    assert by_id["App/B"]["monthly_savings"] == pytest.approx(
        tiered_cost(total - 4_995) - tiered_cost(total - 4_995 - 2_990)
    )
    combined = tiered_cost(total) - tiered_cost(total - 4_995 - 2_990)
    assert sum(r["monthly_savings"] for r in by_id.values()) == pytest.approx(combined)


def test_cardinality_not_flagged_below_the_distinct_value_line() -> None:
    inv = inventory(metrics=[metric("Shop", "Latency", 99, {"CustomerId": 99})])
    assert _run("observability.metric-cardinality", inv).height == 0
    flagged = _run("observability.metric-cardinality", inv, min_distinct_values=50)
    assert flagged.height == 1


# --------------------------------------------------------------------------- anomalies


START = NOW - timedelta(days=14)


def _frames(*frames: pl.DataFrame) -> pl.DataFrame:
    return pl.concat(frames, how="vertical")


def test_week_over_week_jump_of_a_resource_is_investigated_never_counted() -> None:
    billing = _frames(
        daily_charges(resource_id="i-jump", service="EC2", first_day=START, days=7,
                      cost_per_day=10.0, rows_per_day=24),
        daily_charges(resource_id="i-jump", service="EC2", first_day=START + timedelta(days=7),
                      days=7, cost_per_day=40.0, rows_per_day=24),
        daily_charges(resource_id="i-steady", service="EC2", first_day=START, days=14,
                      cost_per_day=100.0),
        # Up 50%: below the 2x line.
        daily_charges(resource_id="i-mild", service="RDS", first_day=START, days=7,
                      cost_per_day=100.0),
        daily_charges(resource_id="i-mild", service="RDS", first_day=START + timedelta(days=7),
                      days=7, cost_per_day=150.0),
        # 10x but only $63 more: below the $100 line.
        daily_charges(resource_id="i-small", service="S3", first_day=START, days=7,
                      cost_per_day=1.0),
        daily_charges(resource_id="i-small", service="S3", first_day=START + timedelta(days=7),
                      days=7, cost_per_day=10.0),
    )  # fmt: skip
    out = _run("observability.cost-anomaly", inventory(billing=billing))
    row = _one(out)
    assert row["resource_id"] == "i-jump"
    assert row["action"] == "investigate"
    assert row["monthly_savings"] == 0.0
    assert row["price_source"] == "billing"
    assert row["current_monthly_cost"] == pytest.approx(280.0 * DAYS_PER_MONTH / 7)
    ev = row["evidence"]
    assert ev["window_days"] == 7
    assert ev["latest_period"]["cost"] == pytest.approx(280.0)
    assert ev["previous_period"]["cost"] == pytest.approx(70.0)
    assert ev["latest_period"]["start"] == "2024-06-10"
    assert ev["previous_period"]["end"] == "2024-06-09"
    assert ev["ratio"] == pytest.approx(4.0)

    ranked = rank(out, hourly_rate=100.0)
    assert ranked.findings["counted"].to_list() == [False]
    assert ranked.summary["monthly_savings"] == 0


def test_month_over_month_jump_and_new_spend_and_service_level() -> None:
    start = NOW - timedelta(days=60)
    billing = _frames(
        daily_charges(resource_id="db-1", service="RDS", first_day=start, days=30,
                      cost_per_day=5.0),
        daily_charges(resource_id="db-1", service="RDS", first_day=start + timedelta(days=30),
                      days=30, cost_per_day=20.0),
        daily_charges(resource_id="fn-new", service="Lambda",
                      first_day=NOW - timedelta(days=7), days=7, cost_per_day=50.0),
    )  # fmt: skip
    out = _run("observability.cost-anomaly", inventory(billing=billing))
    by_id = {r["resource_id"]: r for r in out.to_dicts()}
    assert set(by_id) == {"db-1", "service:RDS", "fn-new", "service:Lambda"}
    db = json.loads(by_id["db-1"]["evidence"])
    assert db["window_days"] == 30
    assert db["latest_period"]["cost"] == pytest.approx(600.0)
    assert db["previous_period"]["cost"] == pytest.approx(150.0)
    assert by_id["db-1"]["current_monthly_cost"] == pytest.approx(600.0 * DAYS_PER_MONTH / 30)
    new = json.loads(by_id["fn-new"]["evidence"])
    assert new["ratio"] is None
    assert by_id["fn-new"]["confidence"] == pytest.approx(0.4)
    assert by_id["service:RDS"]["region"] == "global"
    none = _run("observability.cost-anomaly", inventory(billing=billing), include_new_spend=False)
    assert "fn-new" not in none["resource_id"].to_list()


def test_incomplete_history_is_not_an_anomaly() -> None:
    # Ten days of data: the previous week is partial, so no week-over-week pair exists.
    billing = _frames(
        daily_charges(resource_id="i-1", service="EC2", first_day=NOW - timedelta(days=10),
                      days=3, cost_per_day=1.0),
        daily_charges(resource_id="i-1", service="EC2", first_day=NOW - timedelta(days=7),
                      days=7, cost_per_day=100.0),
    )  # fmt: skip
    assert _run("observability.cost-anomaly", inventory(billing=billing)).height == 0


# --------------------------------------------------------------------------- unallocated


def test_untagged_spend_by_account_and_service() -> None:
    tagged = json.dumps({"owner": "ana", "cost-center": "42", "environment": "prod"})
    tagged_odd_case = json.dumps(
        {"Owner": "bo", "user:cost-center": "7", "Environment": "dev", "x": 1}
    )
    empty_owner = json.dumps({"owner": "", "cost-center": "42", "environment": "prod"})
    value_not_key = json.dumps({"team": "owner", "cost-center": "1", "environment": "qa"})
    start = NOW - timedelta(days=30)
    charges = [
        ("r-1", tagged, 10.0, "Usage"),
        ("r-2", tagged_odd_case, 20.0, "Usage"),
        ("r-3", empty_owner, 3.0, "Usage"),
        ("r-4", None, 4.0, "Usage"),
        ("r-5", value_not_key, 5.0, "Usage"),
        (None, None, 100.0, "Tax"),
    ]
    billing = _frames(
        *[
            daily_charges(resource_id=rid, service="EC2", first_day=start, days=30,
                          cost_per_day=cost, tags=tags, category=category)
            for rid, tags, cost, category in charges
        ],
        daily_charges(resource_id="b-1", service="S3", first_day=start, days=30,
                      cost_per_day=0.2, tags=None),
    )  # fmt: skip
    out = _run("observability.unallocated-spend", inventory(billing=billing))
    row = _one(out)  # S3's $6 a month is under the $10 line
    assert row["resource_name"] == "EC2"
    assert row["account_id"] == ACCOUNT
    assert row["action"] == "investigate"
    untagged = (3.0 + 4.0 + 5.0) * 30
    assert row["evidence"]["untagged_cost"] == pytest.approx(untagged)
    assert row["evidence"]["total_cost"] == pytest.approx((10 + 20 + 3 + 4 + 5) * 30)
    assert row["current_monthly_cost"] == pytest.approx(untagged * DAYS_PER_MONTH / 30)
    missing = row["evidence"]["cost_missing_each_tag"]
    assert missing == {
        "owner": pytest.approx((3 + 4 + 5) * 30),
        "cost-center": pytest.approx(4 * 30),
        "environment": pytest.approx(4 * 30),
    }
    assert rank(out, hourly_rate=100.0).findings["counted"].to_list() == [False]


def test_unallocated_spend_with_custom_required_tags() -> None:
    start = NOW - timedelta(days=30)
    billing = daily_charges(
        resource_id="r-1", service="EC2", first_day=start, days=30, cost_per_day=10.0,
        tags=json.dumps({"team": "core"}),
    )  # fmt: skip
    inv = inventory(billing=billing)
    assert _run("observability.unallocated-spend", inv, required_tags=["team"]).height == 0
    assert _run("observability.unallocated-spend", inv, required_tags=["owner"]).height == 1


@pytest.mark.skipif(not FOCUS_SAMPLE.exists(), reason=f"FOCUS sample not at {FOCUS_SAMPLE}")
def test_unallocated_spend_on_the_real_focus_sample() -> None:
    from costscan.providers.exports import read_billing

    scan = read_billing([str(FOCUS_SAMPLE)]).scan
    inv = Inventory(provider="focus", context=inventory().context)
    inv.add_scan("billing", scan)
    keys = ("application", "env")
    out = _run(
        "observability.unallocated-spend", inv, required_tags=list(keys), min_monthly_cost=0.0
    )
    assert out.height > 0
    # Independent check: decode every Tags cell as JSON and sum the usage cost of rows
    # lacking a key, per account and service.
    rows = scan.filter(pl.col("ChargeCategory") == "Usage").collect()
    decoded = [json.loads(t) if t else {} for t in rows["Tags"].to_list()]
    lacking = [any(not str(d.get(k, "") or "") for k in keys) for d in decoded]
    cost = rows.select(pl.coalesce("EffectiveCost", "BilledCost").fill_null(0.0)).to_series()
    expected = (
        rows.select("SubAccountId", "ServiceName")
        .with_columns(cost.alias("cost"), pl.Series("lacking", lacking))
        .filter(pl.col("lacking"))
        .group_by("SubAccountId", "ServiceName")
        .agg(pl.col("cost").sum())
        .filter(pl.col("cost") > 0)
    )
    got = {
        (r["account_id"], r["resource_name"]): json.loads(r["evidence"])["untagged_cost"]
        for r in out.to_dicts()
    }
    want = {
        (r["SubAccountId"] or "unknown", r["ServiceName"] or "unknown service"): r["cost"]
        for r in expected.to_dicts()
    }
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert math.isclose(got[key], value, rel_tol=1e-9, abs_tol=1e-12), key
