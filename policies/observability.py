"""Observability: log retention and ingestion, metric cardinality, and spend to look into.

The CloudWatch policies read ``log_groups`` and ``metric_series``, whose rows carry the
list prices of their region (with the region actually priced, so a fallback to us-east-1
lowers confidence). The billing policies read the ``billing`` frame (FOCUS columns) lazily
and aggregate before anything else, so they scale to exports of tens of millions of rows;
they point at money to investigate and claim no saving.

Units: AWS bills CloudWatch data in GB of 2^30 bytes; a month is 730 hours (30.42 days),
as on AWS pricing pages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from costscan.policies._billing import daily
from costscan.policies._compute import (
    evidence,
    findings,
    money,
    num,
    regional_price_confidence,
)
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.contracts.registry import policy
from costscan.scanner.contracts.units import DAYS_PER_MONTH
from costscan.scanner.contracts.vocab import Change, CloudProvider

BYTES_PER_GB: Final = float(2**30)
DAYS_PER_SCALED_MONTH: Final = 30.0  # ingested_bytes_30d is scaled to 30 days


def _gb(column: str) -> pl.Expr:
    return pl.col(column) / BYTES_PER_GB


def _price_evidence(*fields: str) -> pl.Expr:
    return pl.struct(
        *[pl.col(f) for f in fields],
        pl.col("price_region").alias("region"),
        pl.col("price_source").alias("source"),
        pl.col("price_reference").alias("reference"),
    )


# --------------------------------------------------------------------------- log retention


@dataclass(frozen=True)
class LogRetentionParams:
    # How long to keep logs. 30 days leaves a month for incident work; set it to what your
    # compliance asks (PCI DSS v4.0 req. 10.5.1: 12 months of audit logs, the latest 3
    # immediately available, https://docs-prv.pcisecuritystandards.org/PCI%20DSS/Standard/PCI-DSS-v4_0.pdf).
    retention_days: int = 30
    # Archived bytes per stored byte. CloudWatch Logs bills storage on gzip-compressed
    # data; the AWS Pricing Calculator's CloudWatch estimate assumes archived volume is
    # 15% of the ingested volume ("storage compression factor" 0.15,
    # https://calculator.aws/#/createCalculator/CloudWatch). storedBytes is treated as
    # uncompressed; use 1.0 if yours already matches the billed archive.
    compression_factor: float = 0.15
    # Skip findings that save less than this (USD per month); 0 reports every group.
    min_monthly_savings: float = 0.0
    confidence_from_ingestion: float = 0.7
    confidence_from_age: float = 0.5
    fallback_price_factor: float = 0.8


@policy(
    id="observability.log-retention",
    family="observability",
    action="configure",
    title="Log group never expires: set a retention period",
    needs=("log_groups",),
    effort_hours=0.25,
    risk="low",
    performance="neutral",
    change=Change.EXPIRE_DATA,
    formula=(
        "monthly_savings = stored_bytes / 2^30 × compression_factor × older_share"
        " × storage_price_per_gb_month"
    ),
)
def log_retention(inv: InventoryView, p: LogRetentionParams) -> pl.LazyFrame:
    """Log groups with no retention keep every byte forever; a retention period drops the old.

    Flagged: a log group with no retention setting (never expire) holding stored bytes
    whose estimated share older than ``retention_days`` saves more than
    ``min_monthly_savings``.

    Share of stored bytes older than the retention:

    - from ingestion (when the group's IncomingBytes is known): the retention keeps about
      ``ingested_bytes_30d / 30 × retention_days`` bytes, so
      ``older_share = 1 − min(1, kept_bytes / stored_bytes)`` (a group that took in nothing
      over the lookback keeps nothing);
    - else from age, assuming even ingestion over the group's life:
      ``older_share = 1 − min(1, retention_days / age_days)``, at lower confidence.

    Saving formula: monthly_savings = stored_bytes / 2^30 × compression_factor ×
    older_share × storage $/GB-month; current_monthly_cost is the whole storage line,
    stored_bytes / 2^30 × compression_factor × storage $/GB-month.

    Sources: storage price, https://aws.amazon.com/cloudwatch/pricing/ (Store (Archival),
    billed on compressed data); compression factor 0.15 from the AWS Pricing Calculator's
    CloudWatch Logs estimate; the retention is the user's choice (PCI DSS 10.5.1 as a
    reference point for audit logs).
    """
    now = pl.lit(inv.context.now, dtype=schema.UTC_TS)
    stored = pl.col("stored_bytes")
    ingested = pl.col("ingested_bytes_30d")
    age_days = (now - pl.col("created")).dt.total_seconds() / 86_400.0
    kept_from_ingestion = ingested / DAYS_PER_SCALED_MONTH * p.retention_days
    kept_share = (
        pl.when(ingested.is_not_null())
        .then((kept_from_ingestion / stored).clip(0.0, 1.0))
        .when(pl.col("created").is_not_null() & (age_days > 0))
        .then((p.retention_days / age_days).clip(0.0, 1.0))
        .otherwise(None)
    )
    basis = (
        pl.when(ingested.is_not_null())
        .then(pl.lit("ingestion"))
        .when(pl.col("created").is_not_null())
        .then(pl.lit("age"))
        .otherwise(None)
    )
    billed_gb = _gb("stored_bytes") * p.compression_factor
    storage_cost = billed_gb * pl.col("storage_price_per_gb_month")
    groups = (
        inv.lazy("log_groups")
        .filter(pl.col("retention_days").is_null() & (stored > 0))
        .filter(pl.col("storage_price_per_gb_month").is_not_null())
        .with_columns(
            (1.0 - kept_share).alias("_older_share"),
            basis.alias("_basis"),
            age_days.alias("_age_days"),
            storage_cost.alias("_storage_cost"),
        )
        .with_columns((pl.col("_storage_cost") * pl.col("_older_share")).alias("_saving"))
        .filter(pl.col("_saving").is_not_null() & (pl.col("_saving") > p.min_monthly_savings))
    )
    confidence = (
        pl.when(pl.col("_basis") == "ingestion")
        .then(pl.lit(p.confidence_from_ingestion))
        .otherwise(pl.lit(p.confidence_from_age))
    )
    return findings(
        groups,
        detail=pl.format(
            "{} never expires and holds {} GB; an estimated {}% of it is older than {} days "
            "(from {}), costing {} a month to keep.",
            pl.col("resource_name"),
            num(_gb("stored_bytes")),
            num(pl.col("_older_share") * 100),
            pl.lit(p.retention_days),
            pl.col("_basis"),
            money(pl.col("_saving")),
        ),
        recommendation=pl.format(
            "Set a {}-day retention on {} (export to S3 first if the old logs must be kept).",
            pl.lit(p.retention_days),
            pl.col("resource_name"),
        ),
        current_monthly_cost=pl.col("_storage_cost"),
        monthly_savings=pl.col("_saving"),
        confidence=regional_price_confidence(confidence, p.fallback_price_factor),
        price_source=pl.col("price_source").fill_null("bundled"),
        evidence=evidence(
            stored_bytes=pl.col("stored_bytes"),
            ingested_bytes_30d=pl.col("ingested_bytes_30d"),
            age_days=pl.col("_age_days"),
            older_share=pl.col("_older_share"),
            older_share_basis=pl.col("_basis"),
            retention_days=p.retention_days,
            compression_factor=p.compression_factor,
            price=_price_evidence("storage_price_per_gb_month"),
        ),
    )


# --------------------------------------------------------------------------- log ingestion


@dataclass(frozen=True)
class LogIngestionParams:
    # Twice the 5 GB of log data the CloudWatch free tier includes each month
    # (https://aws.amazon.com/cloudwatch/pricing/, Free tier).
    min_ingested_gb_per_month: float = 10.0
    # Share of ingestion that sampling or a higher log level removes: an estimate.
    # Practitioners report 50-80% from dropping DEBUG/INFO and noisy paths
    # (https://c3x.dev/blog/cloudwatch-logs-cost-optimization); the low end is used.
    reduction_share: float = 0.5
    confidence: float = 0.4
    fallback_price_factor: float = 0.8


@policy(
    id="observability.log-ingestion",
    family="observability",
    action="configure",
    title="Heavy log ingestion: sample or raise the log level",
    needs=("log_groups",),
    effort_hours=4.0,
    risk="low",
    performance="neutral",
    change=Change.CONFIGURE_SERVICE,
    formula=(
        "monthly_savings = ingested_bytes_30d / 2^30 × ingestion_price_per_gb"
        " × reduction_share (estimate)"
    ),
)
def log_ingestion(inv: InventoryView, p: LogIngestionParams) -> pl.LazyFrame:
    """Log groups taking in many GB a month; sampling or a higher log level cuts ingestion.

    Flagged: a log group whose ingestion (IncomingBytes over the lookback, scaled to 30
    days) is at least ``min_ingested_gb_per_month`` GB.

    Saving formula (an estimate: what a team can drop is unknown, hence the low
    confidence): monthly_savings = ingested_bytes_30d / 2^30 × ingestion $/GB ×
    reduction_share; current_monthly_cost = ingested_bytes_30d / 2^30 × ingestion $/GB.

    Sources: ingestion price per log class, https://aws.amazon.com/cloudwatch/pricing/;
    the threshold is twice the 5 GB monthly free tier on that page; the 50% reduction is
    the low end of the 50-80% practitioners report
    (https://c3x.dev/blog/cloudwatch-logs-cost-optimization).
    """
    ingestion_cost = _gb("ingested_bytes_30d") * pl.col("ingestion_price_per_gb")
    groups = (
        inv.lazy("log_groups")
        # Cloud Logging's free 50 GiB a project: observability.gcp-log-ingestion prices it.
        .filter(pl.col("provider") != CloudProvider.GCP.value)
        .filter(_gb("ingested_bytes_30d") >= p.min_ingested_gb_per_month)
        .filter(pl.col("ingestion_price_per_gb").is_not_null())
        .with_columns(ingestion_cost.alias("_ingestion_cost"))
        .with_columns((pl.col("_ingestion_cost") * p.reduction_share).alias("_saving"))
    )
    return findings(
        groups,
        detail=pl.format(
            "{} takes in about {} GB a month ({} log class), {} a month.",
            pl.col("resource_name"),
            num(_gb("ingested_bytes_30d")),
            pl.col("log_class").fill_null("STANDARD"),
            money(pl.col("_ingestion_cost")),
        ),
        recommendation=pl.format(
            "Sample or drop debug and per-request logs from {} (raise the log level); "
            "an estimated {}% less ingestion.",
            pl.col("resource_name"),
            pl.lit(round(p.reduction_share * 100, 1)),
        ),
        current_monthly_cost=pl.col("_ingestion_cost"),
        monthly_savings=pl.col("_saving"),
        confidence=regional_price_confidence(p.confidence, p.fallback_price_factor),
        price_source=pl.col("price_source").fill_null("bundled"),
        evidence=evidence(
            ingested_bytes_30d=pl.col("ingested_bytes_30d"),
            lookback_days=inv.context.lookback_days,
            log_class=pl.col("log_class"),
            reduction_share=p.reduction_share,
            threshold_gb_per_month=p.min_ingested_gb_per_month,
            price=_price_evidence("ingestion_price_per_gb"),
        ),
    )


# --------------------------------------------------------------------------- cardinality


@dataclass(frozen=True)
class MetricCardinalityParams:
    # No public numeric line exists; CloudWatch's guidance is only to avoid dimensions
    # with high cardinality such as request or user IDs
    # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension).
    # 100 values: a key that multiplies a metric's cost a hundredfold.
    min_distinct_values: int = 100
    confidence: float = 0.6
    fallback_price_factor: float = 0.8


_ACCOUNT = ["provider", "account_id"]


def _tiered_cost(frame: pl.LazyFrame, counts: dict[str, pl.Expr], row: str) -> pl.LazyFrame:
    """Add, for each named metric count, its monthly cost at the row's ``price_tiers``.

    cost(n) = Σ over tiers of price × clip(n − first_metric, 0, next_first − first_metric).
    """
    exploded = (
        frame.select(row, "price_tiers", *[e.alias(k) for k, e in counts.items()])
        .explode("price_tiers")
        .unnest("price_tiers")
        .sort(row, "first_metric")
        .with_columns(pl.col("first_metric").shift(-1).over(row).alias("_next"))
    )
    width = (pl.col("_next") - pl.col("first_metric")).cast(pl.Float64)
    parts = []
    for name in counts:
        span = (pl.col(name).cast(pl.Float64) - pl.col("first_metric")).clip(lower_bound=0.0)
        span = (
            pl.when(pl.col("_next").is_null()).then(span).otherwise(pl.min_horizontal(span, width))
        )
        parts.append((span * pl.col("price")).sum().alias(f"_cost_{name}"))
    return frame.join(exploded.group_by(row).agg(parts), on=row, how="left")


@policy(
    id="observability.metric-cardinality",
    family="observability",
    action="configure",
    title="High-cardinality custom metric: drop or bucket a dimension",
    needs=("metric_series",),
    effort_hours=4.0,
    risk="low",
    performance="neutral",
    change=Change.CONFIGURE_SERVICE,
    formula=(
        "monthly_savings = cost(M) − cost(M − removed), M = account custom series"
        " − series removed by larger findings before this one; cost = tiered"
        " custom-metric price"
    ),
)
def metric_cardinality(inv: InventoryView, p: MetricCardinalityParams) -> pl.LazyFrame:
    """Custom metrics whose series multiply by a dimension with many distinct values.

    Flagged: a custom metric (namespace not under ``AWS/``) whose dimension key with the
    most distinct values has at least ``min_distinct_values`` of them. Dropping that key
    (or bucketing it into a few values) leaves
    ``series_after = max(1, ceil(series_count / distinct_values))`` series.

    Saving formula, at the tiered custom-metric rates applied across the account's total
    N custom series (every region; tiers are per metric-month): flagged metrics are taken
    in order of series removed (largest first), each priced at the margin left by the
    ones before it, so the findings add up to the saving of doing them all:

        M_k = N − Σ_{j<k} removed_j
        monthly_savings_k = cost(M_k) − cost(M_k − removed_k)
        current_monthly_cost_k = cost(M_k) − cost(M_k − series_count_k)

    with cost(n) = Σ_tiers price × (metrics of n in the tier). The 10-metric free tier is
    shared with detailed monitoring and left out.

    On Google Cloud the rows are Cloud Monitoring's custom and Prometheus metric types (the
    label with the most values is the dimension), priced per series-month from Google's
    per-MiB and per-sample rates for a series written once a minute
    (providers/pricing/gcp_observability.py).

    Sources: tiers $0.30 (first 10,000), $0.10 (next 240,000), $0.05 (next 750,000),
    $0.02 (over 1,000,000) per metric-month, https://aws.amazon.com/cloudwatch/pricing/;
    a metric is one name plus one set of dimension values
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html).
    """
    custom = inv.lazy("metric_series").filter(
        pl.col("custom").fill_null(False) & (pl.col("series_count") > 0)
    )
    totals = custom.group_by(_ACCOUNT).agg(pl.col("series_count").sum().alias("_account_series"))
    top_key = (
        custom.select("provider", "account_id", "region", "resource_id", "dimension_cardinality")
        .explode("dimension_cardinality")
        .drop_nulls("dimension_cardinality")
        .unnest("dimension_cardinality")
        .sort("distinct_values", "key", descending=[True, False])
        .group_by("provider", "account_id", "region", "resource_id", maintain_order=True)
        .agg(
            pl.col("key").first().alias("_top_key"),
            pl.col("distinct_values").first().alias("_top_values"),
        )
    )
    identity = ["provider", "account_id", "region", "resource_id"]
    after = (
        (pl.col("series_count") / pl.col("_top_values")).ceil().cast(pl.Int64).clip(lower_bound=1)
    )
    flagged = (
        custom.join(top_key, on=identity, how="inner")
        .filter(pl.col("_top_values") >= p.min_distinct_values)
        .filter(pl.col("price_tiers").list.len().fill_null(0) > 0)
        .with_columns(after.alias("_series_after"))
        .with_columns((pl.col("series_count") - pl.col("_series_after")).alias("_removed"))
        .filter(pl.col("_removed") > 0)
        .join(totals, on=_ACCOUNT, how="left")
        .sort("_removed", "region", "resource_id", descending=[True, False, False])
        .with_columns(
            (pl.col("_removed").cum_sum().over(_ACCOUNT) - pl.col("_removed")).alias(
                "_removed_before"
            ),
            pl.concat_str(identity, separator="|").alias("_row"),
        )
        .with_columns((pl.col("_account_series") - pl.col("_removed_before")).alias("_margin_top"))
    )
    priced = _tiered_cost(
        flagged,
        {
            "top": pl.col("_margin_top"),
            "after": pl.col("_margin_top") - pl.col("_removed"),
            "without": pl.col("_margin_top") - pl.col("series_count"),
        },
        "_row",
    ).with_columns(
        (pl.col("_cost_top") - pl.col("_cost_after")).alias("_saving"),
        (pl.col("_cost_top") - pl.col("_cost_without")).alias("_current"),
    )
    return findings(
        priced,
        detail=pl.format(
            "{} has {} series; its dimension {} has {} distinct values. Dropping or "
            "bucketing it leaves {} series.",
            pl.col("resource_name"),
            pl.col("series_count"),
            pl.col("_top_key"),
            pl.col("_top_values"),
            pl.col("_series_after"),
        ),
        recommendation=pl.format(
            "Drop the {} dimension from {} (or bucket it into a few values{}).",
            pl.col("_top_key"),
            pl.col("resource_name"),
            pl.when(pl.col("provider") == CloudProvider.AWS.value)
            .then(
                pl.lit(
                    ", or move it into the log line with the Embedded Metric Format's "
                    "non-dimension properties"
                )
            )
            .otherwise(pl.lit("")),
        ),
        current_monthly_cost=pl.col("_current"),
        monthly_savings=pl.col("_saving"),
        confidence=regional_price_confidence(p.confidence, p.fallback_price_factor),
        price_source=pl.col("price_source").fill_null("bundled"),
        evidence=evidence(
            dimension=pl.col("_top_key"),
            distinct_values=pl.col("_top_values"),
            series_count=pl.col("series_count"),
            series_after=pl.col("_series_after"),
            series_removed=pl.col("_removed"),
            account_custom_series=pl.col("_account_series"),
            removed_by_earlier_findings=pl.col("_removed_before"),
            dimension_cardinality=pl.col("dimension_cardinality"),
            price=pl.struct(
                pl.col("price_tiers").alias("tiers"),
                pl.col("price_region").alias("region"),
                pl.col("price_source").alias("source"),
                pl.col("price_reference").alias("reference"),
            ),
        ),
    )


# --------------------------------------------------------------------------- billing


@dataclass(frozen=True)
class CostAnomalyParams:
    # AWS Cost Anomaly Detection alert thresholds: total impact of at least $100
    # (ANOMALY_TOTAL_IMPACT_ABSOLUTE >= 100) and of at least 100% (ANOMALY_TOTAL_IMPACT_
    # PERCENTAGE >= 100, i.e. cost doubled), the values in AWS's own examples
    # (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ce-anomalysubscription.html).
    min_ratio: float = 2.0
    min_increase: float = 100.0
    # Compared windows in days: week over week and month over month (30-day windows
    # ending at the last day in the data).
    windows_days: tuple[int, ...] = (7, 30)
    # Spend that was zero in the previous window and is now above min_increase.
    include_new_spend: bool = True
    confidence: float = 0.6
    confidence_new_spend: float = 0.4


def _anchored_billing(inv: InventoryView) -> pl.LazyFrame:
    """The billing rollup's rows with a charge day, with ``_days_back``: whole days before
    the last day in the export.

    Windows end at the last day in the data, not at the clock (exports lag), and
    ``_first`` is the export's first day, so a window pair is judged complete or not.
    The rollup (policies/_billing.py) is already per key tuple and day, so the windows
    are sums over a few hundred thousand rows, not the line items.
    """
    day = pl.col("day")
    return (
        daily(inv)
        .filter(day.is_not_null())
        .with_columns(day.max().alias("_anchor"), day.min().alias("_first"))
        .with_columns((pl.col("_anchor") - day).dt.total_days().alias("_days_back"))
    )


def _window_costs(windows: Sequence[int]) -> list[pl.Expr]:
    """Per row, its cost in each window's latest and previous period (else 0), so the
    group-by after it is plain sums (polars' fast path) rather than filtered ones."""
    days_back = pl.col("_days_back")
    cost = pl.col("cost")
    columns = []
    for w in windows:
        columns.append(pl.when(days_back < w).then(cost).otherwise(0.0).alias(f"_current_{w}"))
        columns.append(
            pl.when((days_back >= w) & (days_back < 2 * w))
            .then(cost)
            .otherwise(0.0)
            .alias(f"_previous_{w}")
        )
    return columns


def _sum_columns(windows: Sequence[int]) -> list[str]:
    return [c for w in windows for c in (f"_current_{w}", f"_previous_{w}")]


def _per_window(frame: pl.LazyFrame, windows: Sequence[int]) -> pl.LazyFrame:
    """One row per key and window: current_cost, previous_cost, window_days, _complete."""
    fixed = [
        c for c in frame.collect_schema().names() if not c.startswith(("_current_", "_previous_"))
    ]
    parts = [
        frame.select(
            *fixed,
            pl.col(f"_current_{w}").alias("current_cost"),
            pl.col(f"_previous_{w}").alias("previous_cost"),
            pl.lit(w, dtype=pl.Int64).alias("window_days"),
            ((pl.col("_anchor") - pl.col("_first")).dt.total_days() >= 2 * w - 1).alias(
                "_complete"
            ),
        )
        for w in windows
    ]
    return pl.concat(parts, how="vertical")


@policy(
    id="observability.cost-anomaly",
    family="observability",
    action="investigate",
    title="Cost jumped: investigate",
    needs=("billing",),
    effort_hours=1.0,
    risk="low",
    performance="neutral",
    change=Change.INVESTIGATE,
    formula="current_monthly_cost = latest_period.cost × 30.42 / window_days",
)
def cost_anomaly(inv: InventoryView, p: CostAnomalyParams) -> pl.LazyFrame:
    """Resources and services whose cost jumped week over week or month over month.

    Flagged, per resource (ResourceId) and per service (ServiceName) within each account
    (SubAccountId): latest-window cost ≥ ``min_ratio`` × previous-window cost and higher
    by at least ``min_increase`` USD, for any window in ``windows_days`` (7 and 30 days,
    ending at the last day in the export). New spend (nothing before) counts when
    ``include_new_spend``. Where several windows flag one resource, the largest increase
    is shown. Cost is EffectiveCost, BilledCost where it is absent.

    current_monthly_cost = latest-window cost × 30.42 / window days (the latest period
    scaled to a month); monthly_savings = 0: an anomaly is something to look into, and
    ranking never counts it.

    Sources: the $100 and 100% thresholds are the values in AWS Cost Anomaly Detection's
    alert-subscription examples
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ce-anomalysubscription.html).
    """
    windows = sorted({w for w in p.windows_days if w > 0})
    if not windows:
        return findings(schema.empty_lazy(schema.FINDINGS), **_no_columns())
    account_service = ["SubAccountId", "ServiceName"]
    # One group-by over the rows (per resource, null ResourceId kept as its own group);
    # services are summed from that small result.
    per_resource = (
        _anchored_billing(inv)
        .with_columns(_window_costs(windows))
        .group_by([*account_service, "ResourceId"])
        .agg(
            *[pl.col(c).sum() for c in _sum_columns(windows)],
            pl.col("RegionId").max().alias("region"),
            pl.col("ResourceName").max().alias("resource_name"),
            pl.col("_anchor").first(),
            pl.col("_first").first(),
        )
    )
    sums = _sum_columns(windows)
    per_service = (
        per_resource.group_by(account_service)
        .agg(
            *[pl.col(c).sum() for c in sums],
            pl.col("_anchor").first(),
            pl.col("_first").first(),
        )
        .with_columns(
            pl.lit(None, dtype=pl.String).alias("ResourceId"),
            pl.lit(None, dtype=pl.String).alias("region"),
            pl.lit(None, dtype=pl.String).alias("resource_name"),
            pl.lit("billed_service").alias("resource_type"),
        )
    )
    resources = per_resource.filter(pl.col("ResourceId").is_not_null()).with_columns(
        pl.lit("billed_resource").alias("resource_type")
    )
    columns = [
        *account_service, "ResourceId", "region", "resource_name", "resource_type",
        "_anchor", "_first", *sums,
    ]  # fmt: skip
    frames = [_per_window(f.select(columns), windows) for f in (resources, per_service)]
    increase = pl.col("current_cost") - pl.col("previous_cost")
    is_new = pl.col("previous_cost") <= 0
    jumped = (
        pl.concat(frames, how="diagonal_relaxed")
        .filter(pl.col("_complete"))
        .with_columns(increase.alias("_increase"))
        .filter(pl.col("_increase") >= p.min_increase)
        .filter(
            pl.when(is_new)
            .then(pl.lit(p.include_new_spend))
            .otherwise(pl.col("current_cost") >= pl.col("previous_cost") * p.min_ratio)
        )
        .sort("_increase", "window_days", descending=[True, False])
        .unique(
            ["resource_type", "SubAccountId", "ServiceName", "ResourceId"],
            keep="first",
            maintain_order=True,
        )
    )
    window_span = pl.duration(days=pl.col("window_days"))
    one_day = pl.duration(days=1)
    latest_start = pl.col("_anchor") - window_span + one_day
    previous_start = latest_start - window_span
    monthly = pl.col("current_cost") * DAYS_PER_MONTH / pl.col("window_days")
    service_id = pl.format("service:{}", pl.col("ServiceName").fill_null("unknown"))
    ratio = pl.when(is_new).then(None).otherwise(pl.col("current_cost") / pl.col("previous_cost"))
    out = jumped.with_columns(
        pl.lit(inv.provider).alias("provider"),
        pl.col("SubAccountId").fill_null("unknown").alias("account_id"),
        pl.col("region").fill_null("global"),
        pl.coalesce(pl.col("ResourceId"), service_id).alias("resource_id"),
        pl.when(pl.col("resource_type") == "billed_resource")
        .then(pl.coalesce(pl.col("resource_name"), pl.col("ResourceId")))
        .otherwise(pl.col("ServiceName"))
        .alias("resource_name"),
        ratio.alias("_ratio"),
    )
    return findings(
        out,
        detail=pl.format(
            "{} ({}) cost {} in the {} days to {}, against {} in the {} days before ({}).",
            pl.col("resource_name").fill_null("unknown"),
            pl.col("ServiceName").fill_null("unknown service"),
            money(pl.col("current_cost")),
            pl.col("window_days"),
            pl.col("_anchor").dt.strftime("%Y-%m-%d"),
            money(pl.col("previous_cost")),
            pl.col("window_days"),
            pl.when(is_new)
            .then(pl.lit("new spend"))
            .otherwise(pl.format("{}x", pl.col("_ratio").round(2))),
        ),
        recommendation=pl.format(
            "Find out why {} costs {} more than the previous {} days (a deployment, traffic, "
            "a misconfiguration?) and whether it should.",
            pl.col("resource_name").fill_null("it"),
            money(pl.col("_increase")),
            pl.col("window_days"),
        ),
        current_monthly_cost=monthly,
        monthly_savings=pl.lit(0.0),
        confidence=pl.when(is_new)
        .then(pl.lit(p.confidence_new_spend))
        .otherwise(pl.lit(p.confidence)),
        price_source=pl.lit("billing"),
        evidence=evidence(
            cost_column="EffectiveCost (BilledCost where null)",
            window_days=pl.col("window_days"),
            latest_period=pl.struct(
                latest_start.dt.strftime("%Y-%m-%d").alias("start"),
                pl.col("_anchor").dt.strftime("%Y-%m-%d").alias("end"),
                pl.col("current_cost").alias("cost"),
            ),
            previous_period=pl.struct(
                previous_start.dt.strftime("%Y-%m-%d").alias("start"),
                (latest_start - one_day).dt.strftime("%Y-%m-%d").alias("end"),
                pl.col("previous_cost").alias("cost"),
            ),
            ratio=pl.col("_ratio"),
            increase=pl.col("_increase"),
            thresholds=pl.struct(
                min_ratio=pl.lit(p.min_ratio), min_increase=pl.lit(p.min_increase)
            ),
        ),
    )


def _no_columns() -> dict[str, pl.Expr]:
    return {c: pl.col(c) for c in schema.POLICY_OUTPUT_COLUMNS if c not in schema.IDENTITY}


@dataclass(frozen=True)
class UnallocatedSpendParams:
    # AWS's tagging guidance names owner, cost center and environment among the tags
    # for cost allocation ("Tagging Best Practices",
    # https://docs.aws.amazon.com/whitepapers/latest/tagging-best-practices/tagging-best-practices.html).
    # Keys match case-insensitively, with or without a prefix such as "user:".
    required_tags: tuple[str, ...] = ("owner", "cost-center", "environment")
    # FOCUS ChargeCategory values whose rows can carry tags (taxes and credits cannot).
    charge_categories: tuple[str, ...] = ("Usage",)
    # The latest window of the export, in days, ending at its last day.
    window_days: int = 30
    # Report an account's service when its untagged spend is at least this, per month.
    min_monthly_cost: float = 10.0
    confidence: float = 0.9


def _has_tag(key: str) -> pl.Expr:
    """True where the FOCUS Tags JSON text holds ``key`` with a non-empty value.

    A key is a JSON string followed by a colon, so this cannot match a value; the value
    must be a non-empty string, a number, a boolean, an object or an array (not null, not "").
    """
    pattern = r'(?i)"(?:[^"\\]*:)?' + re.escape(key) + r'"\s*:\s*(?:"(?:[^"\\]|\\.)+"|[-0-9tf\{\[])'
    return pl.col("Tags").str.contains(pattern).fill_null(False)


@policy(
    id="observability.unallocated-spend",
    family="observability",
    action="investigate",
    title="Untagged spend: cannot be allocated",
    needs=("billing",),
    effort_hours=2.0,
    risk="low",
    performance="neutral",
    change=Change.INVESTIGATE,
    formula="current_monthly_cost = untagged_cost × 30.42 / days",
)
def unallocated_spend(inv: InventoryView, p: UnallocatedSpendParams) -> pl.LazyFrame:
    """Spend per account and service that lacks one of the required cost-allocation tags.

    Rows of the ``charge_categories`` in the latest ``window_days`` of the export whose
    Tags (FOCUS JSON text) miss any key of ``required_tags`` (or give it an empty value)
    are unallocated. Flagged: an account (SubAccountId) and service (ServiceName) whose
    unallocated cost, scaled to a month, is at least ``min_monthly_cost``.

    current_monthly_cost = unallocated cost × 30.42 / days covered; monthly_savings = 0:
    tagging saves nothing by itself, it makes the spend someone's to manage. The evidence
    gives the cost missing each key.

    Rows are summed per account, service, tag set and day first; the tag check then runs
    once per distinct tag set (vectorised string matching), so 10M rows cost one group-by.

    Sources: required keys from AWS's "Tagging Best Practices" whitepaper
    (https://docs.aws.amazon.com/whitepapers/latest/tagging-best-practices/tagging-best-practices.html);
    FOCUS Tags and ChargeCategory (https://focus.finops.org/focus-specification/).
    """
    keys = tuple(dict.fromkeys(k for k in p.required_tags if k))
    grouped = (
        daily(inv)
        .filter(
            pl.col("day").is_not_null() & pl.col("ChargeCategory").is_in(list(p.charge_categories))
        )
        .group_by("SubAccountId", "ServiceName", "Tags", "day")
        .agg(pl.col("cost").sum())
        .with_columns(pl.col("day").max().alias("_anchor"), pl.col("day").min().alias("_first"))
        .filter((pl.col("_anchor") - pl.col("day")).dt.total_days() < p.window_days)
    )
    missing = {key: ~_has_tag(key) for key in keys}
    any_missing = pl.any_horizontal(*missing.values()) if missing else pl.lit(False)
    per_service = (
        grouped.with_columns(
            any_missing.alias("_untagged"),
            *[m.alias(f"_missing_{i}") for i, m in enumerate(missing.values())],
        )
        .group_by("SubAccountId", "ServiceName")
        .agg(
            pl.col("cost").sum().alias("_total"),
            pl.col("cost").filter(pl.col("_untagged")).sum().alias("_untagged_cost"),
            *[
                pl.col("cost").filter(pl.col(f"_missing_{i}")).sum().alias(f"_missing_{i}")
                for i in range(len(keys))
            ],
            pl.col("_anchor").first(),
            pl.col("_first").first(),
        )
        .with_columns(
            pl.min_horizontal(
                pl.lit(p.window_days, dtype=pl.Int64),
                (pl.col("_anchor") - pl.col("_first")).dt.total_days() + 1,
            ).alias("_days")
        )
        .with_columns(
            (pl.col("_untagged_cost") * DAYS_PER_MONTH / pl.col("_days")).alias("_monthly")
        )
        .filter((pl.col("_untagged_cost") > 0) & (pl.col("_monthly") >= p.min_monthly_cost))
    )
    account = pl.col("SubAccountId").fill_null("unknown")
    service = pl.col("ServiceName").fill_null("unknown service")
    out = per_service.with_columns(
        pl.lit(inv.provider).alias("provider"),
        account.alias("account_id"),
        pl.lit("global").alias("region"),
        pl.format("unallocated:{}:{}", account, service).alias("resource_id"),
        service.alias("resource_name"),
        pl.lit("billed_service").alias("resource_type"),
    )
    share = pl.when(pl.col("_total") > 0).then(pl.col("_untagged_cost") / pl.col("_total"))
    missing_by_key = (
        pl.struct(*[pl.col(f"_missing_{i}").alias(k) for i, k in enumerate(keys)])
        if keys
        else pl.lit(None, dtype=pl.String)
    )
    return findings(
        out,
        detail=pl.format(
            "{} in account {}: {} of {} over {} days ({}%) lacks one of the tags {}.",
            service,
            account,
            money(pl.col("_untagged_cost")),
            money(pl.col("_total")),
            pl.col("_days"),
            num(share * 100),
            pl.lit(", ".join(keys)),
        ),
        recommendation=pl.format(
            "Tag the {} resources in account {} with {} (a tag policy or AWS Config rule "
            "keeps them tagged), so this spend has an owner.",
            service,
            account,
            pl.lit(", ".join(keys)),
        ),
        current_monthly_cost=pl.col("_monthly"),
        monthly_savings=pl.lit(0.0),
        confidence=pl.lit(p.confidence),
        price_source=pl.lit("billing"),
        evidence=evidence(
            required_tags=pl.lit(list(keys), dtype=pl.List(pl.String)),
            charge_categories=pl.lit(list(p.charge_categories), dtype=pl.List(pl.String)),
            period=pl.struct(
                (pl.col("_anchor") - pl.duration(days=pl.col("_days") - 1))
                .dt.strftime("%Y-%m-%d")
                .alias("start"),
                pl.col("_anchor").dt.strftime("%Y-%m-%d").alias("end"),
                pl.col("_days").alias("days"),
            ),
            untagged_cost=pl.col("_untagged_cost"),
            total_cost=pl.col("_total"),
            untagged_share=share,
            cost_missing_each_tag=missing_by_key,
        ),
    )
