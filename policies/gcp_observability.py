"""Cloud Logging on Google Cloud: retention kept past 30 days, and heavy ingestion.

The twins of observability.log-retention and observability.log-ingestion, for Cloud
Logging's pricing, which differs from CloudWatch's in two ways: ingestion includes 30 days
of storage and only what is kept longer bills ($0.01 per GiB-month), and the first 50 GiB a
project takes in each month are free. Both read the ``log_groups`` rows the GCP provider
fills, one per log bucket (``_Required``, free, is not among them).

Units: Google bills logs in GiB (2^30 bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

from costscan.policies._compute import evidence, findings, money, num
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.contracts.registry import policy
from costscan.scanner.contracts.vocab import Change, CloudProvider

GIB: Final = float(2**30)
# Ingestion pays for the first 30 days of storage (https://cloud.google.com/stackdriver/pricing).
INCLUDED_DAYS: Final = 30.0
PRICING: Final = "https://cloud.google.com/stackdriver/pricing"


def _gib(column: str) -> pl.Expr:
    return pl.col(column) / GIB


def _gcp_buckets(inv: InventoryView) -> pl.LazyFrame:
    return inv.lazy("log_groups").filter(pl.col("provider") == CloudProvider.GCP.value)


# --------------------------------------------------------------------------- retention


@dataclass(frozen=True)
class GcpLogRetentionParams:
    # How long to keep logs in a bucket: the 30 days ingestion already pays for. Set it to
    # what your compliance asks (PCI DSS v4.0 req. 10.5.1: 12 months of audit logs).
    retention_days: int = 30
    min_monthly_savings: float = 0.0
    confidence_from_ingestion: float = 0.8
    confidence_from_age: float = 0.5


@policy(
    id="observability.gcp-log-retention",
    family="observability",
    action="configure",
    title="Log bucket keeps logs past 30 days: shorten its retention",
    needs=("log_groups",),
    effort_hours=0.25,
    risk="low",
    performance="neutral",
    change=Change.EXPIRE_DATA,
    formula="monthly_savings = (max(0, stored − 30 × daily) − max(0, min(stored, "
    "retention_days × daily) − 30 × daily)) / 2^30 × retention $/GiB-month",
)
def gcp_log_retention(inv: InventoryView, p: GcpLogRetentionParams) -> pl.LazyFrame:
    """Cloud Logging buckets whose retention is longer than ``retention_days``.

    Cloud Logging bills storage only for logs older than 30 days, at $0.01 per GiB-month.
    A locked bucket's retention cannot be shortened, so it is left alone.
    With ``daily`` the bucket's bytes taken in a day (its 30-day ingestion / 30; without
    it, stored bytes / min(retention, age in days), at lower confidence), the bytes
    billed for retention are ``max(0, stored − 30 × daily)`` now and
    ``max(0, min(stored, retention_days × daily) − 30 × daily)`` after the change.

    Saving formula: monthly_savings = (billed now − billed after) / 2^30 × the retention
    rate; current_monthly_cost = billed now / 2^30 × the retention rate.

    Sources: https://cloud.google.com/stackdriver/pricing (Cloud Logging storage: $0.50/GiB
    ingested including 30 days, $0.01/GiB-month retained beyond); retention is set per
    bucket (https://cloud.google.com/logging/docs/buckets#custom-retention).
    """
    now = pl.lit(inv.context.now, dtype=schema.UTC_TS)
    age_days = (now - pl.col("created")).dt.total_seconds() / 86_400.0
    stored = pl.col("stored_bytes")
    from_age = stored / pl.min_horizontal(pl.col("retention_days").cast(pl.Float64), age_days)
    daily = (
        pl.when(pl.col("ingested_bytes_30d").is_not_null())
        .then(pl.col("ingested_bytes_30d") / INCLUDED_DAYS)
        .when(pl.col("created").is_not_null() & (age_days > 0))
        .then(from_age)
        .otherwise(None)
    )
    basis = (
        pl.when(pl.col("ingested_bytes_30d").is_not_null())
        .then(pl.lit("ingestion"))
        .otherwise(pl.lit("age"))
    )
    included = INCLUDED_DAYS * pl.col("_daily")
    billed_now = (stored - included).clip(lower_bound=0.0)
    billed_after = (pl.min_horizontal(stored, p.retention_days * pl.col("_daily")) - included).clip(
        lower_bound=0.0
    )
    price = pl.col("storage_price_per_gb_month")
    buckets = (
        _gcp_buckets(inv)
        .filter(
            (pl.col("retention_days") > p.retention_days)
            & ~pl.col("retention_locked").fill_null(False)
            & (stored > 0)
            & price.is_not_null()
        )
        .with_columns(daily.alias("_daily"), basis.alias("_basis"), age_days.alias("_age_days"))
        .filter(pl.col("_daily").is_not_null())
        .with_columns(billed_now.alias("_billed_now"), billed_after.alias("_billed_after"))
        .with_columns(
            (pl.col("_billed_now") / GIB * price).alias("_current"),
            ((pl.col("_billed_now") - pl.col("_billed_after")) / GIB * price).alias("_saving"),
        )
        .filter(pl.col("_saving") > p.min_monthly_savings)
    )
    return findings(
        buckets,
        detail=pl.format(
            "Log bucket {} keeps logs {} days and holds {} GiB, taking in about {} GiB a day "
            "(from {}); the {} GiB older than 30 days bill {} a month.",
            pl.col("resource_name"),
            pl.col("retention_days"),
            num(_gib("stored_bytes")),
            num(pl.col("_daily") / GIB),
            pl.col("_basis"),
            num(pl.col("_billed_now") / GIB),
            money(pl.col("_current")),
        ),
        recommendation=pl.format(
            "Set a {}-day retention on log bucket {} (gcloud logging buckets update); route "
            "logs that must be kept longer to a Cloud Storage archive bucket first.",
            pl.lit(p.retention_days),
            pl.col("resource_name"),
        ),
        current_monthly_cost=pl.col("_current"),
        monthly_savings=pl.col("_saving"),
        confidence=pl.when(pl.col("_basis") == "ingestion")
        .then(pl.lit(p.confidence_from_ingestion))
        .otherwise(pl.lit(p.confidence_from_age)),
        price_source=pl.col("price_source").fill_null("bundled"),
        evidence=evidence(
            retention_days=pl.col("retention_days"),
            target_retention_days=p.retention_days,
            stored_bytes=stored,
            ingested_bytes_30d=pl.col("ingested_bytes_30d"),
            daily_bytes=pl.col("_daily"),
            daily_basis=pl.col("_basis"),
            age_days=pl.col("_age_days"),
            retained_billed_gib_now=pl.col("_billed_now") / GIB,
            retained_billed_gib_after=pl.col("_billed_after") / GIB,
            price=pl.struct(
                price.alias("retention_per_gib_month"),
                pl.col("price_source").alias("source"),
                pl.col("price_reference").alias("reference"),
            ),
        ),
    )


# --------------------------------------------------------------------------- ingestion


@dataclass(frozen=True)
class GcpLogIngestionParams:
    # Cloud Logging's free allowance: the first 50 GiB a project takes in each month
    # (https://cloud.google.com/stackdriver/pricing; data/gcp_observability.csv holds it too).
    free_gib_per_project_month: float = 50.0
    # A bucket taking in at least a project's whole free allowance (50 GiB a month,
    # https://cloud.google.com/stackdriver/pricing) is worth a look.
    min_ingested_gib_per_month: float = 50.0
    # Share of ingestion exclusion filters or a higher log level remove: the same estimate
    # as observability.log-ingestion (the low end of the 50-80% practitioners report).
    reduction_share: float = 0.5
    confidence: float = 0.4


@policy(
    id="observability.gcp-log-ingestion",
    family="observability",
    action="configure",
    title="Heavy log ingestion into a log bucket: exclude or sample",
    needs=("log_groups",),
    effort_hours=4.0,
    risk="low",
    performance="neutral",
    change=Change.CONFIGURE_SERVICE,
    formula="monthly_savings = ingested_30d × max(0, project_30d − 50 GiB) / project_30d "
    "/ 2^30 × ingestion $/GiB × reduction_share (estimate)",
)
def gcp_log_ingestion(inv: InventoryView, p: GcpLogIngestionParams) -> pl.LazyFrame:
    """Log buckets taking in many GiB a month; exclusion filters on the sinks that feed
    them, or a higher log level, cut what is billed.

    Flagged: a bucket whose ingestion over the lookback, scaled to 30 days, is at least
    ``min_ingested_gib_per_month`` GiB, in a project whose ingestion is over its 50 GiB
    free allowance.

    The free allowance is per project, so each bucket is charged its pro-rata share of the
    project's billed ingestion: billed = ingested × max(0, project − 50 GiB) / project.
    Saving formula (an estimate, hence the low confidence, which shows it as possible):
    monthly_savings = billed / 2^30 × $0.50 × reduction_share; current_monthly_cost =
    billed / 2^30 × $0.50. Cutting each bucket's share saves at least that together.

    Sources: https://cloud.google.com/stackdriver/pricing ($0.50/GiB, the first 50 GiB per
    project a month free); exclusion filters
    (https://cloud.google.com/logging/docs/routing/overview#exclusions).
    """
    free = p.free_gib_per_project_month * GIB
    project_total = pl.col("ingested_bytes_30d").sum().over("provider", "account_id")
    billed = pl.col("ingested_bytes_30d") * (
        (pl.col("_project") - free).clip(lower_bound=0.0) / pl.col("_project")
    )
    price = pl.col("ingestion_price_per_gb")
    buckets = (
        _gcp_buckets(inv)
        .filter(pl.col("ingested_bytes_30d").is_not_null() & price.is_not_null())
        .with_columns(project_total.alias("_project"))
        .filter(_gib("ingested_bytes_30d") >= p.min_ingested_gib_per_month)
        .with_columns(billed.alias("_billed"))
        .filter(pl.col("_billed") > 0)
        .with_columns((pl.col("_billed") / GIB * price).alias("_cost"))
        .with_columns((pl.col("_cost") * p.reduction_share).alias("_saving"))
    )
    return findings(
        buckets,
        detail=pl.format(
            "Log bucket {} takes in about {} GiB a month of the project's {} GiB; past the "
            "50 GiB free a project, its share bills {} a month.",
            pl.col("resource_name"),
            num(_gib("ingested_bytes_30d")),
            num(pl.col("_project") / GIB),
            money(pl.col("_cost")),
        ),
        recommendation=pl.format(
            "Add exclusion filters for debug and per-request logs on the sinks routing to {}, "
            "or raise the log level; an estimated {}% less ingestion.",
            pl.col("resource_name"),
            pl.lit(round(p.reduction_share * 100, 1)),
        ),
        current_monthly_cost=pl.col("_cost"),
        monthly_savings=pl.col("_saving"),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source").fill_null("bundled"),
        evidence=evidence(
            ingested_bytes_30d=pl.col("ingested_bytes_30d"),
            project_ingested_bytes_30d=pl.col("_project"),
            billed_gib=pl.col("_billed") / GIB,
            free_gib_per_project_month=free / GIB,
            lookback_days=inv.context.lookback_days,
            reduction_share=p.reduction_share,
            price=pl.struct(
                price.alias("ingestion_per_gib"),
                pl.col("price_source").alias("source"),
                pl.col("price_reference").alias("reference"),
            ),
        ),
    )
