"""The observability policies at each threshold and each tier, worked by hand (issue 21).

CloudWatch's us-east-1 list prices (https://aws.amazon.com/cloudwatch/pricing/, kept in
tests/policies/observability_inventories.py): $0.50 per GB ingested, $0.03 per GB-month
archived (billed on compressed data: 0.15 of the stored bytes, the AWS Pricing
Calculator's factor), custom metrics $0.30 (first 10,000), $0.10 (next 240,000), $0.05
(next 750,000), $0.02 (over 1,000,000) a metric-month. The anomaly lines ($100 and 2x)
are AWS Cost Anomaly Detection's alert examples
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ce-anomalysubscription.html).
A month is 730 / 24 = 30.4167 days. Each test names the rule or tier it pins; they were
written against the mutants that survived tests/policies/test_observability.py
(``python benchmarks/mutation.py policies/observability.py``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import polars as pl
import pytest

from costscan.scanner.contracts import schema
from tests.policies.observability_inventories import (
    ACCOUNT,
    GIB,
    NOW,
    daily_charges,
    inventory,
    log_group,
    metric,
)
from tests.policies.runner import run_policy

DAYS_PER_MONTH = 730 / 24
CENT = 0.005


def by_name(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {r["resource_name"]: r for r in frame.to_dicts()}


def by_id(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {r["resource_id"]: r for r in frame.to_dicts()}


# --- log retention -----------------------------------------------------------------------


def test_retention_share_from_ingestion_and_its_detail() -> None:
    # 200 GB stored, 20 GB taken in a month: 30 days keep 20 / 30 × 30 = 20 GB, so 90% is
    # older. Billed 200 × 0.15 = 30 GB × $0.03 = 0.90 a month; saving 0.90 × 0.9 = 0.81.
    # With compression_factor 1.0 (stored bytes already as billed): 200 × 0.03 × 0.9 = 5.40.
    # An unpriced group makes no finding; a missing price source reads as bundled.
    groups = [
        {
            **log_group("/app/api", stored_bytes=200 * GIB, ingested_bytes_30d=20 * GIB),
            "price_source": None,
        },
        {
            **log_group("/app/unpriced", stored_bytes=200 * GIB, ingested_bytes_30d=20 * GIB),
            "storage_price_per_gb_month": None,
        },
    ]
    inv = inventory(log_groups=groups)
    out = by_name(run_policy("observability.log-retention", inv))
    assert sorted(out) == ["/app/api"]
    row = out["/app/api"]
    assert row["monthly_savings"] == pytest.approx(0.81)
    assert row["current_monthly_cost"] == pytest.approx(0.90)
    assert row["price_source"] == "bundled"
    assert row["detail"] == (
        "/app/api never expires and holds 200 GB; an estimated 90% of it is older than 30 "
        "days (from ingestion), costing $0.81 a month to keep."
    )
    assert row["recommendation"].startswith("Set a 30-day retention on /app/api")
    raw = run_policy("observability.log-retention", inv, compression_factor=1.0)
    assert raw["monthly_savings"].to_list() == pytest.approx([5.40])


def test_retention_share_from_age_and_the_minimum_saving_is_strict() -> None:
    # No ingestion figure, 120 days old: 30 days of 120 are kept, 75% is older. 100 GB:
    # 100 × 0.15 × 0.03 = 0.45 a month, 0.3375 saved. A group created just now has no age
    # to read a share from: no finding.
    inv = inventory(
        log_groups=[
            log_group("/aged", stored_bytes=100 * GIB, created=NOW - timedelta(days=120)),
            log_group("/new", stored_bytes=100 * GIB, created=NOW),
        ]
    )
    out = by_name(run_policy("observability.log-retention", inv))
    assert sorted(out) == ["/aged"]
    row = out["/aged"]
    assert row["monthly_savings"] == pytest.approx(0.3375)
    evidence = json.loads(row["evidence"])
    assert evidence["age_days"] == pytest.approx(120.0)
    assert evidence["older_share"] == pytest.approx(0.75)
    assert "an estimated 75% of it is older than 30 days (from age)" in row["detail"]
    # The minimum is strict: a saving of exactly 0.3375 is not above 0.3375.
    exact = 100.0 * 0.15 * 0.03 * (1.0 - 30 / 120)
    assert run_policy("observability.log-retention", inv, min_monthly_savings=exact).height == 0
    below = run_policy("observability.log-retention", inv, min_monthly_savings=0.3374)
    assert below.height == 1


def test_retention_leaves_set_retentions_alone() -> None:
    # A group with a retention set is never flagged, even one whose age would give a share
    # (300 days, 7 kept).
    inv = inventory(
        log_groups=[
            log_group(
                "/set", retention_days=7, stored_bytes=100 * GIB, created=NOW - timedelta(days=300)
            ),
        ]
    )
    assert run_policy("observability.log-retention", inv).height == 0


def test_retention_age_must_be_positive_and_zero_days_keeps_nothing() -> None:
    # A creation date in the future (a clock ahead) gives no age to read a share from: no
    # finding. A retention of 0 days (a parameter: keep nothing) makes all of a group
    # half a day old "older": 100 GB × 0.15 × $0.03 = 0.45 saved; a group created this
    # very instant still has no age: no finding.
    inv = inventory(
        log_groups=[
            log_group("/future", stored_bytes=100 * GIB, created=NOW + timedelta(days=1)),
            log_group("/half-day", stored_bytes=100 * GIB, created=NOW - timedelta(hours=12)),
            log_group("/now", stored_bytes=100 * GIB, created=NOW),
        ]
    )
    assert run_policy("observability.log-retention", inv).height == 0
    out = by_name(run_policy("observability.log-retention", inv, retention_days=0))
    assert sorted(out) == ["/half-day"]
    assert out["/half-day"]["monthly_savings"] == pytest.approx(0.45)


# --- log ingestion -----------------------------------------------------------------------


def test_ingestion_line_is_10_gb_inclusive() -> None:
    # Twice the 5 GB free tier: 10 GB a month is flagged, 9.99 is not. 10 × 0.50 = 5.00 a
    # month, half of it saved: 2.50. An unpriced group and a Google Cloud bucket (its twin
    # policy prices the free 50 GiB) make no finding; no log class reads as STANDARD.
    groups = [
        {**log_group("/ten", ingested_bytes_30d=10 * GIB), "log_class": None},
        log_group("/under", ingested_bytes_30d=9.99 * GIB),
        {**log_group("/unpriced", ingested_bytes_30d=40 * GIB), "ingestion_price_per_gb": None},
        {**log_group("/gcp", ingested_bytes_30d=40 * GIB), "provider": "gcp"},
        log_group("/ia", ingested_bytes_30d=20 * GIB, log_class="INFREQUENT_ACCESS"),
    ]
    out = by_name(run_policy("observability.log-ingestion", inventory(log_groups=groups)))
    assert sorted(out) == ["/ia", "/ten"]
    row = out["/ten"]
    assert row["current_monthly_cost"] == pytest.approx(5.00)
    assert row["monthly_savings"] == pytest.approx(2.50)
    assert row["detail"] == "/ten takes in about 10 GB a month (STANDARD log class), $5.00 a month."
    assert row["recommendation"].endswith("an estimated 50.0% less ingestion.")
    assert "(INFREQUENT_ACCESS log class), $10.00 a month." in out["/ia"]["detail"]
    evidence = json.loads(row["evidence"])
    assert evidence["lookback_days"] == 14
    assert evidence["threshold_gb_per_month"] == 10.0
    # A share of 0.1234 is shown to one decimal: 12.3%; 10 × 0.50 × 0.1234 = 0.617 saved.
    odd = by_name(
        run_policy(
            "observability.log-ingestion", inventory(log_groups=groups), reduction_share=0.1234
        )
    )["/ten"]
    assert odd["recommendation"].endswith("an estimated 12.3% less ingestion.")
    # Priced at us-east-1's rates for an eu-west-1 group: 0.4 × 0.8 = 0.32 confidence.
    eu = [log_group("/eu", ingested_bytes_30d=10 * GIB, region="eu-west-1")]
    fallback = run_policy("observability.log-ingestion", inventory(log_groups=eu))
    assert fallback["confidence"].to_list() == pytest.approx([0.32])
    assert odd["monthly_savings"] == pytest.approx(0.617)


# --- metric cardinality ------------------------------------------------------------------


def test_cardinality_every_tier_at_once() -> None:
    # One metric of 1,300,000 series, its RequestId with 1,300,000 values: one series is
    # left. cost(1,300,000) = 10,000 × 0.30 + 240,000 × 0.10 + 750,000 × 0.05 + 300,000 ×
    # 0.02 = 3,000 + 24,000 + 37,500 + 6,000 = 70,500; cost(1) = 0.30: saves 70,499.70 of a
    # current 70,500.
    inv = inventory(metrics=[metric("Api", "Hits", 1_300_000, {"RequestId": 1_300_000})])
    row = run_policy("observability.metric-cardinality", inv).row(0, named=True)
    assert row["monthly_savings"] == pytest.approx(70_499.70)
    assert row["current_monthly_cost"] == pytest.approx(70_500.00)
    assert row["confidence"] == pytest.approx(0.6)  # MetricCardinalityParams' default
    # The same metric in eu-west-1 priced at us-east-1's tiers: 0.6 × 0.8 = 0.48.
    eu = [metric("Api", "Hits", 1_300_000, {"RequestId": 1_300_000}, region="eu-west-1")]
    fallback = run_policy("observability.metric-cardinality", inventory(metrics=eu))
    assert fallback["confidence"].to_list() == pytest.approx([0.48])


def test_cardinality_key_ties_rounding_and_what_is_left_alone() -> None:
    # Shop/Latency, 250 series over two keys of 100 values (a tie: the first by name,
    # CustomerId): ceil(250 / 100) = 3 series left, 247 removed, at $0.30 (the account's
    # 250 + 1 + 500 custom series sit in the first tier): 74.10. Left alone: one series
    # whose key has 100 values (nothing to remove), a metric with no price tiers (its 500
    # series still count in the account), a non-custom row, a custom flag not known and a
    # metric with no series (neither counts).
    metrics = [
        metric("Shop", "Latency", 250, {"Path": 100, "CustomerId": 100}),
        metric("Shop", "Single", 1, {"UserId": 100}),
        {**metric("Shop", "Unknown", 500, {"UserId": 500}), "custom": None},
        metric("Shop", "Empty", 0, {"UserId": 500}),
        {**metric("Shop", "Unpriced", 500, {"UserId": 500}), "price_tiers": []},
        metric("AWS/Lambda", "Duration", 900, {"FunctionName": 900}),
    ]
    out = by_id(run_policy("observability.metric-cardinality", inventory(metrics=metrics)))
    assert sorted(out) == ["Shop/Latency"]
    row = out["Shop/Latency"]
    evidence = json.loads(row["evidence"])
    assert evidence["dimension"] == "CustomerId"
    assert (evidence["series_after"], evidence["series_removed"]) == (3, 247)
    assert evidence["account_custom_series"] == 751
    assert row["monthly_savings"] == pytest.approx(247 * 0.30)
    assert row["detail"] == (
        "Shop/Latency has 250 series; its dimension CustomerId has 100 distinct values. "
        "Dropping or bucketing it leaves 3 series."
    )
    assert "Embedded Metric Format" in row["recommendation"]


def test_cardinality_removing_one_series_and_the_price_tiers_it_needs() -> None:
    # Two series whose key has 100 values: one left, 1 removed, 0.30 saved. A metric with
    # no price tiers at all (null) is left alone; one with a single flat tier (a
    # hypothetical $0.10 a series) is priced on it: 100 series of 100 values, 99 removed,
    # 9.90.
    flat = [{"first_metric": 0, "price": 0.10}]
    metrics = [
        metric("Shop", "Pair", 2, {"UserId": 100}),
        {
            **metric("Other", "Null", 500, {"UserId": 500}, account="222222222222"),
            "price_tiers": None,
        },
        {
            **metric("Flat", "Hits", 100, {"UserId": 100}, account="333333333333"),
            "price_tiers": flat,
        },
    ]
    out = by_id(run_policy("observability.metric-cardinality", inventory(metrics=metrics)))
    assert sorted(out) == ["Flat/Hits", "Shop/Pair"]
    assert out["Shop/Pair"]["monthly_savings"] == pytest.approx(0.30)
    assert out["Flat/Hits"]["monthly_savings"] == pytest.approx(9.90)
    assert out["Flat/Hits"]["current_monthly_cost"] == pytest.approx(10.00)


def test_cardinality_equal_removals_take_the_margin_by_region_then_name() -> None:
    # Four metrics of 2,525 series (10,100 in the account), each key of 505 values: 5
    # left, 2,520 removed each. Equal removals are taken by region, then by name: us-east-1
    # App/B, us-east-1 App/C, then us-west-2 App/A, us-west-2 App/D. The first takes the
    # top of the 10,100: 100 × 0.10 + 2,420 × 0.30 = 736.00; the others 2,520 × 0.30 = 756.00.
    metrics = [
        metric("App", name, 2_525, {"Pod": 505}, region=region)
        for name, region in (
            ("A", "us-west-2"),
            ("B", "us-east-1"),
            ("C", "us-east-1"),
            ("D", "us-west-2"),
        )
    ]
    out = run_policy("observability.metric-cardinality", inventory(metrics=metrics))
    saving = {(r["region"], r["resource_id"]): r["monthly_savings"] for r in out.to_dicts()}
    assert saving == {
        ("us-east-1", "App/B"): pytest.approx(736.00),
        ("us-east-1", "App/C"): pytest.approx(756.00),
        ("us-west-2", "App/A"): pytest.approx(756.00),
        ("us-west-2", "App/D"): pytest.approx(756.00),
    }
    removed_before = {
        r["resource_id"]: json.loads(r["evidence"])["removed_by_earlier_findings"]
        for r in out.to_dicts()
    }
    assert removed_before == {"App/B": 0, "App/C": 2_520, "App/A": 5_040, "App/D": 7_560}


def test_cardinality_margins_are_per_account_and_google_gets_no_emf_advice() -> None:
    # Two accounts, each with one 12,000-series metric cut to 12 (11,988 removed): each
    # account prices its own margin, cost(12,000) − cost(12) = 3,000 + 200 − 3.60 =
    # 3,196.40, never the other's. The same metric on Google Cloud: no EMF advice.
    metrics = [
        metric("App", "A", 12_000, {"Pod": 1_000}, account="111111111111"),
        metric("App", "A", 12_000, {"Pod": 1_000}, account="222222222222"),
    ]
    out = run_policy("observability.metric-cardinality", inventory(metrics=metrics))
    assert out["monthly_savings"].to_list() == pytest.approx([3196.40, 3196.40])
    gcp = [{**metric("custom.googleapis.com", "a", 12_000, {"pod": 1_000}), "provider": "gcp"}]
    row = run_policy("observability.metric-cardinality", inventory(metrics=gcp)).row(0, named=True)
    assert row["recommendation"] == (
        "Drop the pod dimension from custom.googleapis.com/a (or bucket it into a few values)."
    )


# --- cost anomaly ------------------------------------------------------------------------

START = NOW - timedelta(days=14)  # 2024-06-03; the export's last day is 2024-06-16


def one_day(resource_id: str, service: str, day: int, cost: float) -> pl.DataFrame:
    """``cost`` on START + ``day`` days."""
    return daily_charges(
        resource_id=resource_id,
        service=service,
        first_day=START + timedelta(days=day),
        days=1,
        cost_per_day=cost,
    )


def span(days: int = 14) -> pl.DataFrame:
    """A flat $1 a day ending on 2024-06-16: it sets the export's first and last days."""
    return daily_charges(
        resource_id="flat",
        service="Flat",
        first_day=NOW - timedelta(days=days),
        days=days,
        cost_per_day=1.0,
    )


def test_anomaly_lines_are_inclusive_and_new_spend_is_apart() -> None:
    # Week over week: 100 -> 200 is up $100 and 2x: flagged, charged on the edge days of
    # the windows (2024-06-09, the previous week's last, and 2024-06-10, the latest's
    # first; its $1,000 on 2024-06-02, 14 days back, is in neither); 101 -> 201 is up $100
    # but 1.99x; 99.5 -> 199 is 2x but up $99.50: neither. New spend of $100 is flagged at
    # the lower confidence, $99 is not; $0.50 -> $150.50 is a jump (301x), not new spend.
    billing = pl.concat(
        [
            span(),
            one_day("at-line", "A", -1, 1000.0),
            one_day("at-line", "A", 6, 100.0),
            one_day("at-line", "A", 7, 200.0),
            one_day("tiny-before", "F", 2, 0.5),
            one_day("tiny-before", "F", 9, 150.5),
            one_day("under-ratio", "B", 2, 101.0),
            one_day("under-ratio", "B", 9, 201.0),
            one_day("under-increase", "C", 2, 99.5),
            one_day("under-increase", "C", 9, 199.0),
            one_day("new", "D", 9, 100.0),
            one_day("new-small", "E", 9, 99.0),
            one_day("odd-ratio", "H", 2, 100.0),
            one_day("odd-ratio", "H", 9, 234.56),
        ]
    )
    out = by_id(run_policy("observability.cost-anomaly", inventory(billing=billing)))
    assert sorted(out) == [
        "at-line",
        "new",
        "odd-ratio",
        "service:A",
        "service:D",
        "service:F",
        "service:H",
        "tiny-before",
    ]
    assert out["tiny-before"]["confidence"] == pytest.approx(0.6)
    # 234.56 / 100 = 2.3456, shown to two decimals.
    assert out["odd-ratio"]["detail"].endswith("against $100.00 in the 7 days before (2.35x).")
    row = out["at-line"]
    assert row["confidence"] == pytest.approx(0.6)
    assert row["current_monthly_cost"] == pytest.approx(200 * DAYS_PER_MONTH / 7)
    assert row["detail"] == (
        "at-line (A) cost $200.00 in the 7 days to 2024-06-16, against $100.00 in the 7 "
        "days before (2.0x)."
    )
    assert row["recommendation"].startswith(
        "Find out why at-line costs $100.00 more than the previous 7 days"
    )
    evidence = json.loads(row["evidence"])
    assert evidence["ratio"] == pytest.approx(2.0)
    assert evidence["increase"] == pytest.approx(100.0)
    assert evidence["previous_period"] == {
        "start": "2024-06-03",
        "end": "2024-06-09",
        "cost": pytest.approx(100.0),
    }
    assert evidence["thresholds"] == {"min_ratio": 2.0, "min_increase": 100.0}
    new = out["new"]
    assert new["confidence"] == pytest.approx(0.4)
    assert new["detail"].endswith("against $0.00 in the 7 days before (new spend).")
    service = out["service:A"]
    assert (service["resource_name"], service["region"]) == ("A", "global")
    assert service["resource_type"] == "billed_service"


def test_anomaly_needs_both_windows_complete() -> None:
    # 13 days of data: the week before the latest is one day short, so 100 -> 200 is not
    # judged; with 14 days it is (the test above).
    billing = pl.concat(
        [span(13), one_day("at-line", "A", 2, 100.0), one_day("at-line", "A", 9, 200.0)]
    )
    assert run_policy("observability.cost-anomaly", inventory(billing=billing)).height == 0


def test_anomaly_shows_the_largest_increase_and_the_shorter_window_on_a_tie() -> None:
    # 60 days: $10 a day for 53 days, then $110 a day for 7. Week over week: 770 against
    # 70 (+700, 11x); month over month: 7 × 110 + 23 × 10 = 1,000 against 300 (+700,
    # 3.33x). A tie on the increase: the 7-day window is shown. A cache at $10 a day for
    # 30 days, $20 for 23, $60 for 7: week over week 420 against 140 (+280), month over
    # month 23 × 20 + 7 × 60 = 880 against 300 (+580): the larger, month over month, shows.
    first = NOW - timedelta(days=60)

    def cache(day: int, days: int, cost: float) -> pl.DataFrame:
        return daily_charges(
            resource_id="cache",
            service="ElastiCache",
            first_day=first + timedelta(days=day),
            days=days,
            cost_per_day=cost,
        )

    billing = pl.concat(
        [
            cache(0, 30, 10.0),
            cache(30, 23, 20.0),
            cache(53, 7, 60.0),
            daily_charges(
                resource_id="db", service="RDS", first_day=first, days=53, cost_per_day=10.0
            ),
            daily_charges(
                resource_id="db",
                service="RDS",
                first_day=first + timedelta(days=53),
                days=7,
                cost_per_day=110.0,
            ),
        ]
    )
    out = by_id(run_policy("observability.cost-anomaly", inventory(billing=billing)))
    evidence = json.loads(out["db"]["evidence"])
    assert evidence["window_days"] == 7
    assert evidence["increase"] == pytest.approx(700.0)
    cache_evidence = json.loads(out["cache"]["evidence"])
    assert (cache_evidence["window_days"], cache_evidence["increase"]) == (30, pytest.approx(580.0))
    assert evidence["latest_period"]["start"] == "2024-06-10"
    # Month over month alone: +700 at 1,000 against 300.
    monthly = by_id(
        run_policy("observability.cost-anomaly", inventory(billing=billing), windows_days=(30,))
    )
    evidence = json.loads(monthly["db"]["evidence"])
    assert (evidence["latest_period"]["start"], evidence["previous_period"]["start"]) == (
        "2024-05-18",
        "2024-04-18",
    )
    assert evidence["latest_period"]["cost"] == pytest.approx(1000.0)
    assert evidence["previous_period"]["cost"] == pytest.approx(300.0)
    assert monthly["db"]["current_monthly_cost"] == pytest.approx(1000 * DAYS_PER_MONTH / 30)


def test_anomaly_one_day_window() -> None:
    # A 1-day window (a parameter): $100 on 2024-06-15, $200 on 2024-06-16: up $100, 2x.
    billing = pl.concat(
        [span(), one_day("daily", "G", 12, 100.0), one_day("daily", "G", 13, 200.0)]
    )
    out = by_id(
        run_policy("observability.cost-anomaly", inventory(billing=billing), windows_days=(1,))
    )
    assert sorted(out) == ["daily", "service:G"]
    assert out["daily"]["current_monthly_cost"] == pytest.approx(200 * DAYS_PER_MONTH)


def test_anomaly_windows_of_no_days_are_ignored() -> None:
    # A window of 0 days (or none at all) compares nothing, even with no $ line.
    billing = pl.concat([span(), one_day("new", "D", 9, 100.0)])
    inv = inventory(billing=billing)
    assert (
        run_policy("observability.cost-anomaly", inv, windows_days=(0,), min_increase=0.0).height
        == 0
    )
    none = run_policy("observability.cost-anomaly", inv, windows_days=())
    assert none.height == 0
    assert none.schema == pl.Schema(schema.FINDINGS)  # still every findings column


# --- unallocated spend ----------------------------------------------------------------------

TAGGED = json.dumps({"owner": "ana", "cost-center": "42", "environment": "prod"})


def charges(
    resource_id: str,
    days: int,
    cost: float,
    tags: str | None,
    first: int = 30,
    service: str = "EC2",
) -> pl.DataFrame:
    """``cost`` a day for ``days`` days from ``first`` days before NOW."""
    return daily_charges(
        resource_id=resource_id,
        service=service,
        first_day=NOW - timedelta(days=first),
        days=days,
        cost_per_day=cost,
        tags=tags,
    )


def test_unallocated_window_is_the_last_30_days_and_the_line_inclusive() -> None:
    # 30 days to 2024-06-16: $10 a day untagged and $10 tagged: $300 of $600 (50%); the
    # day before the window ($1,000 untagged) is not counted. Monthly: 300 × 30.4167 / 30 =
    # 304.17. A line of exactly that is met.
    billing = pl.concat(
        [
            charges("untagged", 30, 10.0, None),
            charges("tagged", 30, 10.0, TAGGED),
            charges("old", 1, 1000.0, None, first=31),
            charges("bucket", 30, 0.33, None, service="S3"),
            charges("queue", 30, 0.32, None, service="SQS"),
        ]
    )
    inv = inventory(billing=billing)
    # The default $10 line: S3's 9.90 untagged is 9.90 × 30.4167 / 30 = 10.04 a month,
    # over it; SQS's 9.60 is 9.73, under it.
    found = by_name(run_policy("observability.unallocated-spend", inv))
    assert sorted(found) == ["EC2", "S3"]
    assert found["S3"]["current_monthly_cost"] == pytest.approx(9.90 * DAYS_PER_MONTH / 30)
    row = found["EC2"]
    assert row["monthly_savings"] == 0.0  # tagging saves nothing by itself
    assert row["current_monthly_cost"] == pytest.approx(300 * DAYS_PER_MONTH / 30)
    assert row["confidence"] == pytest.approx(0.9)  # UnallocatedSpendParams' default
    assert row["detail"] == (
        f"EC2 in account {ACCOUNT}: $300.00 of $600.00 over 30 days (50%) lacks one of the "
        "tags owner, cost-center, environment."
    )
    evidence = json.loads(row["evidence"])
    assert evidence["period"] == {"start": "2024-05-18", "end": "2024-06-16", "days": 30}
    assert evidence["untagged_share"] == pytest.approx(0.5)
    line = 300.0 * DAYS_PER_MONTH / 30
    at = run_policy("observability.unallocated-spend", inv, min_monthly_cost=line)
    assert at.height == 1
    over = run_policy("observability.unallocated-spend", inv, min_monthly_cost=line + 0.01)
    assert over.height == 0


def test_unallocated_short_export_scales_its_days_and_tagged_spend_never_shows() -> None:
    # 10 days of export: $5 a day untagged is $50 over 10 days, 50 × 30.4167 / 10 =
    # 152.08 a month; the period starts 9 days before its last day. A fully tagged service
    # is never flagged, even with no $ line; empty or repeated required keys count once.
    billing = charges("untagged", 10, 5.0, None, first=10)
    inv = inventory(billing=billing)
    row = run_policy("observability.unallocated-spend", inv).row(0, named=True)
    assert row["current_monthly_cost"] == pytest.approx(50 * DAYS_PER_MONTH / 10)
    evidence = json.loads(row["evidence"])
    assert evidence["period"] == {"start": "2024-06-07", "end": "2024-06-16", "days": 10}
    tagged = inventory(billing=charges("tagged", 10, 5.0, TAGGED, first=10))
    assert run_policy("observability.unallocated-spend", tagged, min_monthly_cost=0.0).height == 0
    keys = run_policy("observability.unallocated-spend", inv, required_tags=["owner", "", "owner"])
    assert json.loads(keys["evidence"].item())["required_tags"] == ["owner"]
    assert run_policy("observability.unallocated-spend", inv, required_tags=[]).height == 0
    # A service of 50 cents over the 10 days, all untagged: 100% of it, with no $ line.
    cents = inventory(billing=charges("tiny", 10, 0.05, None, first=10))
    tiny = run_policy("observability.unallocated-spend", cents, min_monthly_cost=0.0)
    assert json.loads(tiny["evidence"].item())["untagged_share"] == pytest.approx(1.0)
    assert "$0.50 of $0.50 over 10 days (100%)" in tiny["detail"].item()
