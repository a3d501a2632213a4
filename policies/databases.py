"""Databases: idle, oversized, Multi-AZ non-production, Extended Support and io1 RDS
instances as savings, and hot databases as bottlenecks with a priced remedy.

Every row of ``databases`` carries its region's unit list prices (the provider fills them
from ``providers/pricing/aws_data.py``; a database the catalogue lacks has
``price_source`` none and no finding here), so each alternative is priced from the same
catalogue as the current cost. ``current_monthly_cost`` is the database's whole monthly
list cost: instance hours (twice with a Multi-AZ standby), storage and IOPS, Extended
Support.

How the findings on one database add up without counting a dollar twice (ranking's
rules 4-6 do the rest): deleting an idle database (``remove``) excludes everything else on
it; the class change (``resize``) is priced on the instances that stay (one when the
Multi-AZ finding fires on the same database, else every billed instance); the Multi-AZ
standby finding counts the standby's instance hours and its storage at the gp3 price
where the storage finding moves it to gp3, never its Extended Support (the upgrade
finding counts all of it); the upgrade and storage findings each take a part of the bill
no other finding takes. While an active reserved DB instance of a database's engine
and class family runs, the instance-hour part of its savings is deferred to the
reservation's end (``reservation_split``): the bill drops by the rest now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

from costscan.policies._compute import (
    cpu_profile,
    evidence,
    findings,
    money,
    num,
    pct,
    preferred_series,
    rate,
    utilization_in_window,
)
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.contracts.registry import policy
from costscan.scanner.contracts.units import HOURS_PER_MONTH
from costscan.scanner.contracts.vocab import Change

# AWS Compute Optimizer needs 30 hours of metrics in the lookback before it recommends.
# https://docs.aws.amazon.com/compute-optimizer/latest/ug/requirements.html
MIN_HOURS: Final = 30
# RDS gp3 includes 3,000 IOPS under 400 GiB and 12,000 from 400 GiB (MySQL, MariaDB,
# PostgreSQL), and provisions at most 64,000; under 400 GiB its IOPS cannot be raised.
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html#gp3-storage
GP3_SMALL_INCLUDED_IOPS: Final = 3000.0
GP3_LARGE_INCLUDED_IOPS: Final = 12000.0
GP3_LARGE_FROM_GB: Final = 400.0
GP3_MAX_IOPS: Final = 64000.0
RDS_PRICING: Final = "https://aws.amazon.com/rds/pricing/"


def _az_count() -> pl.Expr:
    return pl.when(pl.col("multi_az").fill_null(False)).then(2.0).otherwise(1.0)


def _priced(inv: InventoryView) -> pl.LazyFrame:
    """Available (running), priced databases."""
    return inv.lazy("databases").filter(
        (pl.col("status").fill_null("available") == "available")
        & (pl.col("price_source") != "none")
        & pl.col("monthly_price").is_not_null()
    )


def _nonprod(inv: InventoryView) -> pl.LazyFrame:
    """resource_id, tag_key, tag_value of resources tagged non-production (the run's
    ``nonprod_tags``, case-insensitive)."""
    pairs = pl.LazyFrame(
        [
            {"_key": key.lower(), "_value": value.lower()}
            for key, values in inv.context.nonprod_tags.items()
            for value in values
        ],
        schema={"_key": pl.String(), "_value": pl.String()},
    )
    return (
        inv.lazy("tags")
        .with_columns(
            pl.col("key").str.to_lowercase().alias("_key"),
            pl.col("value").str.to_lowercase().alias("_value"),
        )
        .join(pairs, on=["_key", "_value"], how="inner")
        .sort("resource_id", "key", "value")
        .group_by("resource_id")
        .agg(pl.col("key").first().alias("tag_key"), pl.col("value").first().alias("tag_value"))
    )


def _gp3_included_iops() -> pl.Expr:
    return (
        pl.when(pl.col("allocated_gb") >= GP3_LARGE_FROM_GB)
        .then(pl.lit(GP3_LARGE_INCLUDED_IOPS))
        .otherwise(pl.lit(GP3_SMALL_INCLUDED_IOPS))
    )


def _gp3_single_az_monthly() -> pl.Expr:
    """The storage as gp3 with the same provisioned IOPS, one zone."""
    extra = (pl.col("iops").fill_null(0.0) - _gp3_included_iops()).clip(lower_bound=0.0)
    return pl.col("allocated_gb") * pl.col("price_gp3_gb_month") + extra * pl.col(
        "price_gp3_iops_month"
    )


def _gp3_serves() -> pl.Expr:
    """gp3 can provision the IOPS the io1/io2 storage has: from 400 GiB up to 64,000, or
    at most its included 3,000 below 400 GiB."""
    iops = pl.col("iops").fill_null(0.0)
    return pl.col("storage_type").is_in(["io1", "io2"]) & (
        ((pl.col("allocated_gb") >= GP3_LARGE_FROM_GB) & (iops <= GP3_MAX_IOPS))
        | (iops <= GP3_SMALL_INCLUDED_IOPS)
    )


def _confidence(base: float, hours: pl.Expr, short: float) -> pl.Expr:
    return pl.when(hours.fill_null(0) < MIN_HOURS).then(pl.lit(short)).otherwise(pl.lit(base))


def _statistic_profile(inv: InventoryView, metric: str, prefix: str) -> pl.LazyFrame:
    """Per database: hours, p95 and mean of the hourly ``metric`` series, and its max
    under any statistic."""
    series = (
        preferred_series(inv, metric)
        .group_by("resource_id")
        .agg(
            pl.col("ts").n_unique().alias(f"{prefix}_hours"),
            pl.col("value").quantile(0.95, interpolation="linear").alias(f"{prefix}_p95"),
            pl.col("value").mean().alias(f"{prefix}_mean"),
        )
    )
    peak = (
        utilization_in_window(inv)
        .filter(pl.col("metric") == metric)
        .group_by("resource_id")
        .agg(pl.col("value").max().alias(f"{prefix}_max"))
    )
    return series.join(peak, on="resource_id", how="left")


def reservation_split(
    inv: InventoryView, instance_part: pl.Expr, other_part: pl.Expr | float = 0.0
) -> dict[str, pl.Expr]:
    """The saving split by the reservations that prepay instance hours: while an active
    reserved DB instance of the database's engine and class family runs
    (``reserved_until``), the instance-hour part of a saving starts only when it ends
    (deferred), and the rest (storage, Extended Support, which reservations do not cover)
    counts now. Reservations are size-flexible within a family, so any size may be the
    one covered: counting less is the safe reading. Reserved cache nodes
    (policies/data_services.py) prepay node hours the same way."""
    other = other_part if isinstance(other_part, pl.Expr) else pl.lit(other_part)
    covered = pl.col("reserved_until").is_not_null() & (
        pl.col("reserved_until") > pl.lit(inv.context.now)
    )
    return {
        "monthly_savings": pl.when(covered).then(other).otherwise(instance_part + other),
        "monthly_savings_before_discounts": instance_part + other,
        "deferred_monthly_savings": pl.when(covered).then(instance_part).otherwise(0.0),
        "savings_start": pl.when(covered).then(pl.col("reserved_until").dt.date()),
    }


# --------------------------------------------------------------------------- idle


@dataclass(frozen=True)
class IdleDatabaseParams:
    # Trusted Advisor's "Amazon RDS Idle DB Instances" check: no connection for 7 days.
    # https://docs.aws.amazon.com/awssupport/latest/user/cost-optimization-checks.html
    max_connections: float = 0.0
    min_hours: int = MIN_HOURS
    # Keep a final snapshot: its storage is charged as added_monthly_cost.
    final_snapshot: bool = True
    confidence: float = 0.9


@policy(
    id="rightsizing.idle-database",
    family="rightsizing",
    action="remove",
    title="Idle database: no connections in the lookback",
    needs=("databases", "utilization"),
    effort_hours=1.0,
    risk="medium",
    performance="neutral",
    change=Change.STOP_OR_TERMINATE,
    formula="monthly_savings = monthly_price (instance hours × zones + storage + IOPS + "
    "Extended Support); added_monthly_cost = allocated_gb × snapshot per-GB",
)
def idle_database(inv: InventoryView, p: IdleDatabaseParams) -> pl.LazyFrame:
    """Databases with no connection at all over the lookback: snapshot and delete them.

    Flagged: an available, priced DB instance whose hourly DatabaseConnections maximum
    never exceeds ``max_connections`` over at least ``min_hours`` hours of data.

    Saving formula: monthly_savings = the database's monthly list price (instance hours,
    twice with a Multi-AZ standby, plus storage, provisioned IOPS and any Extended Support);
    added_monthly_cost = allocated_gb × the backup (snapshot) storage price, an upper bound
    for the final snapshot kept in case it is needed again.

    Sources: AWS Trusted Advisor "Amazon RDS Idle DB Instances" (no connection in the last
    7 days, https://docs.aws.amazon.com/awssupport/latest/user/cost-optimization-checks.html);
    prices from https://aws.amazon.com/rds/pricing/.
    """
    connections = _statistic_profile(inv, "db_connections", "conn")
    snapshot = (
        pl.col("allocated_gb").fill_null(0.0) * pl.col("price_snapshot_gb_month")
        if p.final_snapshot
        else pl.lit(0.0)
    )
    flagged = (
        _priced(inv)
        .join(connections, on="resource_id", how="inner")
        .filter((pl.col("conn_max") <= p.max_connections) & (pl.col("conn_hours") >= p.min_hours))
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} ({} {}, {}) had at most {} connections over {} h; it costs {} a month.",
            pl.col("resource_id"),
            pl.col("engine"),
            pl.col("engine_version"),
            pl.col("instance_class"),
            num(pl.col("conn_max")),
            num(pl.col("conn_hours")),
            money(pl.col("monthly_price")),
        ),
        recommendation=pl.format(
            "Take a final snapshot of {} (about {} a month at most), then delete it.",
            pl.col("resource_id"),
            money(snapshot),
        ),
        current_monthly_cost=pl.col("monthly_price"),
        **reservation_split(
            inv,
            pl.col("hourly_price") * HOURS_PER_MONTH * _az_count(),
            pl.col("monthly_price") - pl.col("hourly_price") * HOURS_PER_MONTH * _az_count(),
        ),
        added_monthly_cost=snapshot,
        confidence=_confidence(p.confidence, pl.col("conn_hours"), p.confidence * 0.5),
        price_source=pl.col("price_source"),
        evidence=evidence(
            engine=pl.col("engine"),
            engine_version=pl.col("engine_version"),
            instance_class=pl.col("instance_class"),
            multi_az=pl.col("multi_az"),
            hourly_price=pl.col("hourly_price"),
            storage_monthly=pl.col("storage_monthly"),
            monthly_price=pl.col("monthly_price"),
            max_connections=pl.col("conn_max"),
            hours_of_data=pl.col("conn_hours"),
            snapshot_price_gb_month=pl.col("price_snapshot_gb_month"),
            snapshot_monthly=snapshot,
            price_reference=pl.col("price_reference"),
        ),
    )


# --------------------------------------------------------------------------- oversized


@dataclass(frozen=True)
class OversizedDatabaseParams:
    # The seed's utilization target: the smaller class must run under 70% at p95, with
    # CPU assumed to scale with the vCPUs removed.
    target_cpu_p95_percent: float = 70.0
    min_hours: int = MIN_HOURS
    confidence: float = 0.7


@policy(
    id="rightsizing.oversized-database",
    family="rightsizing",
    action="resize",
    title="Over-provisioned database: one class size down",
    needs=("databases", "utilization", "tags"),
    effort_hours=2.0,
    risk="medium",
    performance="neutral",
    change=Change.RIGHTSIZE_INSTANCE,
    formula="monthly_savings = (hourly_price - smaller_hourly_price) × 730 × instances "
    "kept (1 when the Multi-AZ standby finding fires, else 2 for Multi-AZ)",
)
def oversized_database(inv: InventoryView, p: OversizedDatabaseParams) -> pl.LazyFrame:
    """Databases whose CPU would stay under the target one class size down.

    Flagged: an available, priced DB instance with a smaller size in its class family,
    whose p95 hourly CPU scaled by vCPUs / smaller vCPUs (one size down halves them)
    stays under ``target_cpu_p95_percent``, and whose hourly maximum CPU scaled the same
    way stays under 100%.

    Saving formula: monthly_savings = (hourly_price − smaller_hourly_price) × 730 ×
    instances kept: both instances of a Multi-AZ database, except when it is tagged
    non-production and the Multi-AZ finding removes the standby (then one, so the two
    findings add up to exactly what the bill loses).

    Sources: the 70% target is the seed's utilization target; AWS Compute Optimizer's
    RDS recommendations downsize on CPU with headroom the same way
    (https://docs.aws.amazon.com/compute-optimizer/latest/ug/view-rds-recommendations.html);
    prices from https://aws.amazon.com/rds/pricing/.
    """
    smaller_vcpus = pl.col("vcpus") / 2.0
    scale = pl.col("vcpus") / smaller_vcpus
    standby_goes = pl.col("multi_az").fill_null(False) & pl.col("tag_key").is_not_null()
    kept = pl.when(standby_goes).then(1.0).otherwise(_az_count())
    saving = (pl.col("hourly_price") - pl.col("smaller_hourly_price")) * HOURS_PER_MONTH * kept
    flagged = (
        _priced(inv)
        .filter(pl.col("smaller_class").is_not_null() & pl.col("cluster_id").is_null())
        .join(cpu_profile(inv), on="resource_id", how="inner")
        .join(_nonprod(inv), on="resource_id", how="left")
        .filter(
            (pl.col("cpu_p95") * scale < p.target_cpu_p95_percent)
            & (pl.col("cpu_max") * scale < 100.0)
            & (pl.col("cpu_hours") >= p.min_hours)
        )
        .with_columns(saving.alias("_saving"), kept.alias("_kept"))
        .filter(pl.col("_saving") > 0)
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} ({}, {} vCPU) p95 CPU {} (max {}) over {} h: {} would run it near {}.",
            pl.col("resource_id"),
            pl.col("instance_class"),
            num(pl.col("vcpus")),
            pct(pl.col("cpu_p95")),
            pct(pl.col("cpu_max")),
            num(pl.col("cpu_hours")),
            pl.col("smaller_class"),
            pct(pl.col("cpu_p95") * scale),
        ),
        recommendation=pl.format(
            "Modify {} to {} ({} instead of {}) in the next maintenance window.",
            pl.col("resource_id"),
            pl.col("smaller_class"),
            rate(pl.col("smaller_hourly_price")),
            rate(pl.col("hourly_price")),
        ),
        current_monthly_cost=pl.col("monthly_price"),
        **reservation_split(inv, pl.col("_saving")),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            instance_class=pl.col("instance_class"),
            hourly_price=pl.col("hourly_price"),
            reserved_until=pl.col("reserved_until").dt.to_string(),
            smaller_class=pl.col("smaller_class"),
            smaller_hourly_price=pl.col("smaller_hourly_price"),
            instances_priced=pl.col("_kept"),
            cpu_p95=pl.col("cpu_p95"),
            cpu_max=pl.col("cpu_max"),
            projected_cpu_p95=pl.col("cpu_p95") * scale,
            hours_of_data=pl.col("cpu_hours"),
            price_reference=pl.col("price_reference"),
        ),
    )


# --------------------------------------------------------------------------- Multi-AZ


@dataclass(frozen=True)
class MultiAzNonprodParams:
    confidence: float = 0.8


@policy(
    id="rightsizing.multi-az-nonprod",
    family="rightsizing",
    action="configure",
    title="Multi-AZ standby on a non-production database",
    needs=("databases", "tags"),
    effort_hours=1.0,
    risk="low",
    performance="neutral",
    change=Change.CONFIGURE_SERVICE,
    formula="monthly_savings = hourly_price × 730 + the standby's storage "
    "(at the gp3 price where io1/io2 moves to gp3)",
)
def multi_az_nonprod(inv: InventoryView, p: MultiAzNonprodParams) -> pl.LazyFrame:
    """Multi-AZ databases tagged non-production: the standby doubles the bill for an
    availability a development or staging database rarely needs.

    Flagged: an available, priced, Multi-AZ DB instance (not an Aurora member: Aurora
    replicates in the cluster) tagged with one of the run's non-production tags.

    Saving formula: monthly_savings = hourly_price × 730 (the standby's instance hours) +
    the standby's storage: storage_monthly / 2, or the gp3 single-zone price of the same
    storage where the io1/io2 → gp3 finding applies (that finding counts the rest). The
    standby's Extended Support share is left to the upgrade finding, which counts it all.

    Sources: a Multi-AZ deployment bills the standby's instance hours and storage
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_OnDemandDBInstances.html);
    AWS Well-Architected COST06-BP03 (select resource type, size and number based on
    requirements: availability only where it is needed,
    https://docs.aws.amazon.com/wellarchitected/latest/framework/cost_type_size_number_resources.html).
    """
    single = pl.col("storage_monthly") / 2.0
    standby_storage = (
        pl.when(_gp3_serves())
        .then(pl.min_horizontal(single, _gp3_single_az_monthly()))
        .otherwise(single)
    )
    saving = pl.col("hourly_price") * HOURS_PER_MONTH + standby_storage
    flagged = (
        _priced(inv)
        .filter(pl.col("multi_az").fill_null(False))
        .join(_nonprod(inv), on="resource_id", how="inner")
        .with_columns(saving.alias("_saving"), standby_storage.alias("_standby_storage"))
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} ({}) is tagged {}={} and runs a Multi-AZ standby: {} of its {} a month.",
            pl.col("resource_id"),
            pl.col("instance_class"),
            pl.col("tag_key"),
            pl.col("tag_value"),
            money(pl.col("_saving")),
            money(pl.col("monthly_price")),
        ),
        recommendation=pl.format(
            "Modify {} to a Single-AZ deployment (no downtime; the standby is removed).",
            pl.col("resource_id"),
        ),
        current_monthly_cost=pl.col("monthly_price"),
        **reservation_split(
            inv, pl.col("hourly_price") * HOURS_PER_MONTH, pl.col("_standby_storage")
        ),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            instance_class=pl.col("instance_class"),
            hourly_price=pl.col("hourly_price"),
            reserved_until=pl.col("reserved_until").dt.to_string(),
            standby_instance_monthly=pl.col("hourly_price") * HOURS_PER_MONTH,
            standby_storage_monthly=pl.col("_standby_storage"),
            storage_monthly_both_zones=pl.col("storage_monthly"),
            nonprod_tag=pl.struct(key=pl.col("tag_key"), value=pl.col("tag_value")),
            price_reference=pl.col("price_reference"),
        ),
    )


# --------------------------------------------------------------------------- Extended Support


@dataclass(frozen=True)
class ExtendedSupportParams:
    confidence: float = 0.9


@policy(
    id="rightsizing.database-extended-support",
    family="rightsizing",
    action="configure",
    title="Database engine in paid Extended Support",
    needs=("databases",),
    effort_hours=8.0,
    risk="medium",
    performance="neutral",
    change=Change.UPGRADE_INSTANCE,
    formula="monthly_savings = vcpus × Extended Support rate per vCPU-hour × 730 × instances",
)
def database_extended_support(inv: InventoryView, p: ExtendedSupportParams) -> pl.LazyFrame:
    """Databases on a major version past its standard support, billed for Extended Support.

    Flagged: an available, priced DB instance whose engine major version's end of
    standard support (the RDS release calendars) is before the run's date.

    Saving formula: monthly_savings = vCPUs × the Extended Support rate per vCPU-hour
    (year 1-2, or the year-3 rate from its start date) × 730 × instances (2 with a
    Multi-AZ standby); the upgrade to a supported major version removes the charge.

    Sources: Extended Support charges
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/extended-support-charges.html)
    and rates (https://aws.amazon.com/rds/mysql/pricing/,
    https://aws.amazon.com/rds/postgresql/pricing/).
    """
    saving = pl.col("vcpus") * pl.col("extended_support_vcpu_hour") * HOURS_PER_MONTH * _az_count()
    flagged = (
        _priced(inv)
        .filter(pl.col("extended_support").fill_null(False))
        .with_columns(saving.alias("_saving"))
        .filter(pl.col("_saving") > 0)
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} runs {} {}, past standard support since {}: Extended Support bills {} "
            "vCPU × {} a month.",
            pl.col("resource_id"),
            pl.col("engine"),
            pl.col("engine_version"),
            pl.col("standard_support_end").cast(pl.String),
            num(pl.col("vcpus") * _az_count()),
            money(pl.col("extended_support_vcpu_hour") * HOURS_PER_MONTH),
        ),
        recommendation=pl.format(
            "Upgrade {} to a supported {} major version (test it on a snapshot first).",
            pl.col("resource_id"),
            pl.col("engine"),
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.col("_saving"),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            engine=pl.col("engine"),
            engine_version=pl.col("engine_version"),
            standard_support_end=pl.col("standard_support_end").cast(pl.String),
            vcpus=pl.col("vcpus"),
            instances=_az_count(),
            extended_support_vcpu_hour=pl.col("extended_support_vcpu_hour"),
            price_reference=pl.col("price_reference"),
        ),
    )


# --------------------------------------------------------------------------- storage


@dataclass(frozen=True)
class DatabaseStorageParams:
    confidence: float = 0.85


@policy(
    id="storage.database-io1-to-gp3",
    family="storage",
    action="configure",
    title="Database io1/io2 storage can move to gp3",
    needs=("databases",),
    effort_hours=1.0,
    risk="low",
    performance="neutral",
    change=Change.UPGRADE_VOLUME,
    formula="monthly_savings = storage_monthly - (allocated_gb × gp3 per-GB + "
    "max(iops - gp3 included, 0) × gp3 per-IOPS) × zones",
)
def database_io1_to_gp3(inv: InventoryView, p: DatabaseStorageParams) -> pl.LazyFrame:
    """Provisioned IOPS (io1/io2) database storage that gp3 serves with the same IOPS.

    Flagged: an available, priced, non-Aurora DB instance on io1 or io2 whose provisioned
    IOPS gp3 can match: from 400 GiB gp3 includes 12,000 IOPS and provisions up to
    64,000; below 400 GiB it has 3,000 and no more (so only databases provisioned at or
    under 3,000 IOPS qualify there).

    Saving formula: monthly_savings = storage_monthly − (allocated_gb × gp3 per-GB +
    max(iops − included, 0) × gp3 per-IOPS) × zones (2 with a Multi-AZ standby).

    Sources: RDS gp3 baselines and limits
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html#gp3-storage);
    prices from https://aws.amazon.com/rds/pricing/.
    """
    gp3 = _gp3_single_az_monthly() * _az_count()
    flagged = (
        _priced(inv)
        .filter(_gp3_serves())
        .with_columns(gp3.alias("_gp3"))
        .with_columns((pl.col("storage_monthly") - pl.col("_gp3")).alias("_saving"))
        .filter(pl.col("_saving") > 0)
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} stores {} GiB on {} with {} IOPS for {} a month; gp3 with the same IOPS costs {}.",
            pl.col("resource_id"),
            num(pl.col("allocated_gb")),
            pl.col("storage_type"),
            num(pl.col("iops")),
            money(pl.col("storage_monthly")),
            money(pl.col("_gp3")),
        ),
        recommendation=pl.format(
            "Modify {} storage to gp3 with {} IOPS (online; the change can take hours).",
            pl.col("resource_id"),
            num(pl.max_horizontal(pl.col("iops"), _gp3_included_iops())),
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.col("_saving"),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            storage_type=pl.col("storage_type"),
            allocated_gb=pl.col("allocated_gb"),
            iops=pl.col("iops"),
            zones=_az_count(),
            storage_monthly=pl.col("storage_monthly"),
            price_storage_gb_month=pl.col("price_storage_gb_month"),
            price_iops_month=pl.col("price_iops_month"),
            gp3_price_gb_month=pl.col("price_gp3_gb_month"),
            gp3_price_iops_month=pl.col("price_gp3_iops_month"),
            gp3_included_iops=_gp3_included_iops(),
            gp3_monthly=pl.col("_gp3"),
            price_reference=pl.lit(RDS_PRICING),
        ),
    )


# --------------------------------------------------------------------------- bottleneck


@dataclass(frozen=True)
class DatabaseBottleneckParams:
    # The seed's alert lines: utilization above 85%, latency above 500 ms.
    alert_cpu_p95_percent: float = 85.0
    alert_read_latency_seconds: float = 0.5
    # Reads at least this share of the I/O make a read replica the remedy.
    read_heavy_share: float = 0.8
    min_hours: int = MIN_HOURS
    confidence: float = 0.8


@policy(
    id="rightsizing.database-bottleneck",
    family="rightsizing",
    action="bottleneck",
    title="Database above the alert line: CPU or read latency",
    needs=("databases", "utilization"),
    effort_hours=4.0,
    risk="low",
    performance="improves",
    change=Change.ADD_CAPACITY,
    formula="read-heavy: added_monthly_cost = hourly_price × 730 + allocated_gb × per-GB "
    "(a read replica); else (larger_hourly_price - hourly_price) × 730 × zones; "
    "monthly_savings = 0",
)
def database_bottleneck(inv: InventoryView, p: DatabaseBottleneckParams) -> pl.LazyFrame:
    """Databases whose p95 CPU or p95 read latency is above the alert line: an investment.

    Flagged: an available, priced DB instance with at least ``min_hours`` of CPU data
    whose p95 hourly CPU is above ``alert_cpu_p95_percent``, or whose p95 hourly read
    latency is above ``alert_read_latency_seconds``.

    Remedy and its cost: when reads are at least ``read_heavy_share`` of its IOPS and it
    is not an Aurora member, a read replica of the same class takes the reads:
    added_monthly_cost = hourly_price × 730 + allocated_gb × per-GB (+ provisioned IOPS ×
    per-IOPS); performance_gain = read share / 2 (half the reads move). Otherwise the
    next class size up: added_monthly_cost = (larger − current hourly) × 730 × zones;
    performance_gain = 1 − vCPUs / larger vCPUs. monthly_savings = 0: it goes to the
    performance investments, never into savings.

    Sources: the 85% and 500 ms alert lines are the seed's; read replicas for read-heavy
    load (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.html);
    prices from https://aws.amazon.com/rds/pricing/.
    """
    reads = _statistic_profile(inv, "read_iops", "reads").select("resource_id", "reads_mean")
    writes = _statistic_profile(inv, "write_iops", "writes").select("resource_id", "writes_mean")
    latency = _statistic_profile(inv, "read_latency", "lat").select("resource_id", "lat_p95")
    read_share = pl.col("reads_mean") / (pl.col("reads_mean") + pl.col("writes_mean"))
    hot = (
        _priced(inv)
        .join(cpu_profile(inv), on="resource_id", how="inner")
        .join(reads, on="resource_id", how="left")
        .join(writes, on="resource_id", how="left")
        .join(latency, on="resource_id", how="left")
        .with_columns(read_share.fill_nan(None).alias("_read_share"))
        .filter(
            (pl.col("cpu_hours") >= p.min_hours)
            & (
                (pl.col("cpu_p95") > p.alert_cpu_p95_percent)
                | (pl.col("lat_p95").fill_null(0.0) > p.alert_read_latency_seconds)
            )
        )
    )
    replica = pl.col("_read_share").fill_null(0.0) >= p.read_heavy_share
    replica = replica & pl.col("cluster_id").is_null()
    replica_cost = (
        pl.col("hourly_price") * HOURS_PER_MONTH + pl.col("storage_monthly") / _az_count()
    )
    larger_cost = (
        (pl.col("larger_hourly_price") - pl.col("hourly_price")) * HOURS_PER_MONTH * _az_count()
    )
    has_larger = pl.col("larger_class").is_not_null()
    added = pl.when(replica).then(replica_cost).when(has_larger).then(larger_cost)
    gain = (
        pl.when(replica)
        .then(pl.col("_read_share") / 2.0)
        .when(has_larger)
        .then(1.0 - pl.col("vcpus") / pl.col("larger_vcpus"))
    )
    remedy = (
        pl.when(replica)
        .then(
            pl.format(
                "Add a {} read replica of {} and send its reads there; it adds {} a month.",
                pl.col("instance_class"),
                pl.col("resource_id"),
                money(replica_cost),
            )
        )
        .when(has_larger)
        .then(
            pl.format(
                "Move {} up to {} ({}); it adds {} a month.",
                pl.col("resource_id"),
                pl.col("larger_class"),
                rate(pl.col("larger_hourly_price")),
                money(larger_cost),
            )
        )
        .otherwise(
            pl.format(
                "No larger {} class is priced; shard {} or move it to a larger family.",
                pl.col("instance_class"),
                pl.col("resource_id"),
            )
        )
    )
    return findings(
        hot,
        detail=pl.format(
            "{} ({}) p95 CPU {} (max {}) over {} h; reads are {} of its IOPS; p95 read "
            "latency {} ms.",
            pl.col("resource_id"),
            pl.col("instance_class"),
            pct(pl.col("cpu_p95")),
            pct(pl.col("cpu_max")),
            num(pl.col("cpu_hours")),
            pct(pl.col("_read_share").fill_null(0.0) * 100.0),
            num(pl.col("lat_p95").fill_null(0.0) * 1000.0),
        ),
        recommendation=remedy,
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.lit(0.0),
        added_monthly_cost=added.fill_null(0.0),
        performance_gain=gain.clip(lower_bound=0.0),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            instance_class=pl.col("instance_class"),
            hourly_price=pl.col("hourly_price"),
            cpu_p95=pl.col("cpu_p95"),
            cpu_max=pl.col("cpu_max"),
            read_share=pl.col("_read_share"),
            read_latency_p95_seconds=pl.col("lat_p95"),
            remedy=pl.when(replica)
            .then(pl.lit("read_replica"))
            .when(has_larger)
            .then(pl.lit("larger_class"))
            .otherwise(pl.lit("none_priced")),
            larger_class=pl.col("larger_class"),
            larger_hourly_price=pl.col("larger_hourly_price"),
            storage_monthly=pl.col("storage_monthly"),
            price_reference=pl.col("price_reference"),
        ),
    )


# --------------------------------------------------------------------------- Graviton


@dataclass(frozen=True)
class DatabaseGravitonParams:
    confidence: float = 0.75


@policy(
    id="rightsizing.database-graviton",
    family="rightsizing",
    action="resize",
    title="Database class has a cheaper Graviton equivalent",
    needs=("databases", "tags"),
    effort_hours=2.0,
    risk="low",
    performance="neutral",
    change=Change.UPGRADE_INSTANCE,
    formula="monthly_savings = (hourly_price - graviton_hourly_price) × 730 × instances kept",
)
def database_graviton(inv: InventoryView, p: DatabaseGravitonParams) -> pl.LazyFrame:
    """Databases on an x86 class whose Graviton twin of the same size costs less.

    Flagged: an available, priced DB instance of db.m5, db.m6i, db.r5, db.r6i or db.t3
    whose same size in db.m6g, db.r6g or db.t4g is priced lower for its engine. RDS for
    MySQL, MariaDB and PostgreSQL and Aurora run on Graviton with no change to the
    application: a class modification (a restart, or a failover with Multi-AZ).

    Saving formula: monthly_savings = (hourly − Graviton hourly) × 730 × instances kept
    (as for the one-size-down finding: one when the Multi-AZ standby finding fires on
    the same database, else every billed instance). It is a ``resize`` like the size
    change, so of the two only the larger counts.

    Sources: AWS Compute Optimizer recommends Graviton RDS classes
    (https://docs.aws.amazon.com/compute-optimizer/latest/ug/view-rds-recommendations.html);
    Graviton on RDS (https://aws.amazon.com/rds/features/); prices from
    https://aws.amazon.com/rds/pricing/.
    """
    standby_goes = pl.col("multi_az").fill_null(False) & pl.col("tag_key").is_not_null()
    kept = pl.when(standby_goes).then(1.0).otherwise(_az_count())
    saving = (pl.col("hourly_price") - pl.col("graviton_hourly_price")) * HOURS_PER_MONTH * kept
    flagged = (
        _priced(inv)
        .filter(pl.col("graviton_class").is_not_null())
        .join(_nonprod(inv), on="resource_id", how="left")
        .with_columns(saving.alias("_saving"), kept.alias("_kept"))
        .filter(pl.col("_saving") > 0)
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} runs {} at {}; {} costs {} ({} a month less).",
            pl.col("resource_id"),
            pl.col("instance_class"),
            rate(pl.col("hourly_price")),
            pl.col("graviton_class"),
            rate(pl.col("graviton_hourly_price")),
            money(pl.col("_saving")),
        ),
        recommendation=pl.format(
            "Modify {} to {} in the next maintenance window.",
            pl.col("resource_id"),
            pl.col("graviton_class"),
        ),
        current_monthly_cost=pl.col("monthly_price"),
        **reservation_split(inv, pl.col("_saving")),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            instance_class=pl.col("instance_class"),
            hourly_price=pl.col("hourly_price"),
            reserved_until=pl.col("reserved_until").dt.to_string(),
            graviton_class=pl.col("graviton_class"),
            graviton_hourly_price=pl.col("graviton_hourly_price"),
            instances_priced=pl.col("_kept"),
            price_reference=pl.col("price_reference"),
        ),
    )


# --------------------------------------------------------------------------- cache layer


@dataclass(frozen=True)
class CacheLayerParams:
    alert_cpu_p95_percent: float = 85.0
    alert_read_latency_seconds: float = 0.5
    read_heavy_share: float = 0.8
    # The seed's trade-off table: a caching layer takes about 60% of the database's load.
    load_reduction: float = 0.6
    cache_nodes: int = 2
    min_hours: int = MIN_HOURS
    confidence: float = 0.6


@policy(
    id="rightsizing.database-cache-layer",
    family="rightsizing",
    action="bottleneck",
    title="Read-heavy database above the alert line: a cache in front of it",
    needs=("databases", "utilization"),
    effort_hours=24.0,
    risk="medium",
    performance="improves",
    change=Change.ADD_CAPACITY,
    formula="added_monthly_cost = cache_nodes × cache_node_hourly_price × 730; monthly_savings = 0",
)
def database_cache_layer(inv: InventoryView, p: CacheLayerParams) -> pl.LazyFrame:
    """Read-heavy databases above the CPU or read-latency alert line: a caching layer is
    the seed's other remedy beside a read replica (the replica is the database bottleneck
    finding's own remedy; this one is its alternative, ranked beside it).

    Flagged: as the database bottleneck (p95 CPU above ``alert_cpu_p95_percent`` or p95
    read latency above ``alert_read_latency_seconds``, at least ``min_hours``), with reads
    at least ``read_heavy_share`` of its IOPS.

    Cost: added_monthly_cost = ``cache_nodes`` (a primary and a replica) ×
    cache.r6g.large Redis OSS hourly × 730; performance_gain = ``load_reduction``.
    Application work (read-through caching) is the effort; monthly_savings = 0.

    Sources: the seed's trade-off table (a caching layer, 60% less database load for
    about +$300 a month); caching strategies
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Strategies.html); prices
    from https://aws.amazon.com/elasticache/pricing/.
    """
    reads = _statistic_profile(inv, "read_iops", "reads").select("resource_id", "reads_mean")
    writes = _statistic_profile(inv, "write_iops", "writes").select("resource_id", "writes_mean")
    latency = _statistic_profile(inv, "read_latency", "lat").select("resource_id", "lat_p95")
    share = pl.col("reads_mean") / (pl.col("reads_mean") + pl.col("writes_mean"))
    added = p.cache_nodes * pl.col("cache_node_hourly_price") * HOURS_PER_MONTH
    hot = (
        _priced(inv)
        .filter(pl.col("cache_node_hourly_price").is_not_null())
        .join(cpu_profile(inv), on="resource_id", how="inner")
        .join(reads, on="resource_id", how="inner")
        .join(writes, on="resource_id", how="inner")
        .join(latency, on="resource_id", how="left")
        .with_columns(share.fill_nan(None).alias("_read_share"), added.alias("_added"))
        .filter(
            (pl.col("cpu_hours") >= p.min_hours)
            & (pl.col("_read_share").fill_null(0.0) >= p.read_heavy_share)
            & (
                (pl.col("cpu_p95") > p.alert_cpu_p95_percent)
                | (pl.col("lat_p95").fill_null(0.0) > p.alert_read_latency_seconds)
            )
        )
    )
    return findings(
        hot,
        detail=pl.format(
            "{} ({}) p95 CPU {}; reads are {} of its IOPS: a cache in front takes most of them.",
            pl.col("resource_id"),
            pl.col("instance_class"),
            pct(pl.col("cpu_p95")),
            pct(pl.col("_read_share") * 100.0),
        ),
        recommendation=pl.format(
            "Put {} × {} (Redis OSS) in front of {} for its hot reads; it adds {} a month.",
            pl.lit(str(p.cache_nodes)),
            pl.col("cache_node_type"),
            pl.col("resource_id"),
            money(pl.col("_added")),
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.lit(0.0),
        added_monthly_cost=pl.col("_added"),
        performance_gain=pl.lit(p.load_reduction),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            cpu_p95=pl.col("cpu_p95"),
            read_share=pl.col("_read_share"),
            read_latency_p95_seconds=pl.col("lat_p95"),
            cache_node_type=pl.col("cache_node_type"),
            cache_node_hourly_price=pl.col("cache_node_hourly_price"),
            cache_nodes=p.cache_nodes,
            load_reduction=p.load_reduction,
        ),
    )
