"""AWS data-service list prices (RDS and Aurora), bundled, and the RDS support calendar.

``data/aws_rds_instance_prices.csv`` holds the Single-AZ on-demand rate, vCPUs and memory
of each bundled DB instance class per engine; ``data/aws_rds_prices.csv`` the storage, IOPS,
backup and Extended Support unit prices (``data/README.md`` names the sources). Only
us-east-1 is bundled: a database elsewhere is left unpriced (``price_source`` none) and
the policies skip it, so a region's price is never guessed from another's.

``price_databases`` adds the unit prices, the monthly price and the next size down and up
to the ``databases`` frame, vectorised. Nothing here touches the network.
"""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path

import polars as pl

from costscan.scanner.contracts.units import HOURS_PER_MONTH

DATA_DIR = Path(__file__).parent / "data"
INSTANCE_FILE = DATA_DIR / "aws_rds_instance_prices.csv"
UNIT_FILE = DATA_DIR / "aws_rds_prices.csv"

# RDS engine -> the price table it bills by. MariaDB's instance rates are MySQL's.
PRICE_ENGINE = {
    "mysql": "mysql",
    "mariadb": "mysql",
    "postgres": "postgres",
    "aurora": "aurora",
    "aurora-mysql": "aurora",
    "aurora-postgresql": "aurora",
}
# Size order within a class family, smallest first (db.m5.large < db.m5.xlarge ...).
SIZE_ORDER = ("micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge")

# RDS gp3 includes 3,000 IOPS under 400 GiB and 12,000 IOPS from 400 GiB (MySQL,
# MariaDB, PostgreSQL); more is billed per IOPS-month.
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html#gp3-storage
GP3_SMALL_INCLUDED_IOPS = 3000.0
GP3_LARGE_INCLUDED_IOPS = 12000.0
GP3_LARGE_FROM_GB = 400.0


# The Graviton family of the same class and generation or the next: RDS runs MySQL,
# MariaDB and PostgreSQL on Graviton2 (m6g, r6g, t4g) and Aurora on r6g.
# https://aws.amazon.com/rds/features/#Graviton2-based_instances
GRAVITON_FAMILY = {"m5": "m6g", "m6i": "m6g", "r5": "r6g", "r6i": "r6g", "t3": "t4g"}
# The cache the seed's caching layer prices: Redis OSS on Graviton, two nodes (primary and
# replica). https://aws.amazon.com/elasticache/pricing/
CACHE_LAYER_NODE = "cache.r6g.large"
CACHE_LAYER_ENGINE = "redis"


# Major versions past standard support, with the day standard support ended and the day
# the Extended Support year-3 rate starts. RDS enrols such databases in Extended Support
# and bills every vCPU of every instance (primary and standby) by the hour.
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/extended-support-charges.html
# (calendars: https://docs.aws.amazon.com/AmazonRDS/latest/MySQLReleaseNotes/mysql-release-calendar.html,
# https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-release-calendar.html,
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraMySQLReleaseNotes/AuroraMySQL.release-calendars.html)
SUPPORT_CALENDAR: dict[tuple[str, str], tuple[date, date]] = {
    ("mysql", "5.7"): (date(2024, 2, 29), date(2026, 3, 1)),
    ("mysql", "8.0"): (date(2026, 7, 31), date(2028, 8, 1)),
    ("postgres", "11"): (date(2024, 2, 29), date(2026, 3, 1)),
    ("postgres", "12"): (date(2025, 2, 28), date(2027, 3, 1)),
    ("postgres", "13"): (date(2026, 2, 28), date(2028, 3, 1)),
    ("aurora-mysql", "5.7"): (date(2024, 10, 31), date(2026, 12, 1)),
    ("aurora-postgresql", "11"): (date(2024, 2, 29), date(2026, 3, 1)),
    ("aurora-postgresql", "12"): (date(2025, 2, 28), date(2027, 3, 1)),
}
# Engines whose version names a major as its first two numbers (5.7.44, 8.0.35); the
# others name it by the first (11.22, 16.4).
TWO_PART_MAJOR = ("mysql", "mariadb", "aurora-mysql")


@functools.lru_cache(maxsize=1)
def instance_catalog() -> pl.DataFrame:
    """region, engine, instance_class, vcpus, memory_gib, hourly_price, reference, as_of,
    plus family and size_rank (the class's place in its family, smallest first)."""
    frame = pl.read_csv(
        INSTANCE_FILE,
        schema={
            "region": pl.String,
            "engine": pl.String,
            "instance_class": pl.String,
            "vcpus": pl.Float64,
            "memory_gib": pl.Float64,
            "hourly_price": pl.Float64,
            "reference": pl.String,
            "as_of": pl.String,
        },
    )
    parts = pl.col("instance_class").str.split(".")
    return frame.with_columns(
        parts.list.get(1).alias("family"),
        parts.list.get(2)
        .replace_strict(
            {s: i for i, s in enumerate(SIZE_ORDER)}, default=None, return_dtype=pl.Int64
        )
        .alias("size_rank"),
    )


@functools.lru_cache(maxsize=1)
def unit_prices() -> pl.DataFrame:
    """region, item, unit, price, reference, as_of."""
    return pl.read_csv(
        UNIT_FILE,
        schema={
            "region": pl.String,
            "item": pl.String,
            "unit": pl.String,
            "price": pl.Float64,
            "reference": pl.String,
            "as_of": pl.String,
        },
    )


def major_version(engine: pl.Expr, version: pl.Expr) -> pl.Expr:
    """5.7.44 -> 5.7 (MySQL family), 11.22 -> 11 (PostgreSQL); Aurora MySQL 2.x reports
    5.7.mysql_aurora.2.11.2 and so reads 5.7."""
    two = version.str.extract(r"^(\d+\.\d+)", 1)
    one = version.str.extract(r"^(\d+)", 1)
    return pl.when(engine.is_in(TWO_PART_MAJOR)).then(two).otherwise(one)


def _calendar() -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"engine": e, "_major": v, "standard_support_end": end, "_year3": y3}
            for (e, v), (end, y3) in SUPPORT_CALENDAR.items()
        ],
        schema={
            "engine": pl.String,
            "_major": pl.String,
            "standard_support_end": pl.Date,
            "_year3": pl.Date,
        },
    )


def price_databases(frame: pl.DataFrame, today: date) -> pl.DataFrame:
    """``frame`` (the ``databases`` columns before prices) with its prices filled.

    monthly_price = hourly_price × 730 × (2 when Multi-AZ) + storage_monthly + Extended
    Support (vCPUs × rate × 730 × instances); storage_monthly = (allocated_gb × per-GB +
    iops × per-IOPS) × (2 when Multi-AZ). Aurora storage is the cluster's, not billed per
    instance, and is left out. A database the catalogue lacks (region, engine or class)
    keeps null prices and ``price_source`` none.
    """
    catalog = instance_catalog()
    units = unit_prices()

    def unit(item: str) -> pl.DataFrame:
        return units.filter(pl.col("item") == item).select("region", pl.col("price").alias(item))

    engine_key = pl.col("engine").replace_strict(PRICE_ENGINE, default=None, return_dtype=pl.String)
    base = frame.with_columns(
        engine_key.alias("_price_engine"),
        pl.col("instance_class").str.split(".").list.get(1, null_on_oob=True).alias("_family"),
        major_version(pl.col("engine"), pl.col("engine_version")).alias("_major"),
    )
    own = catalog.select(
        "region",
        pl.col("engine").alias("_price_engine"),
        "instance_class",
        pl.col("vcpus").alias("_vcpus"),
        pl.col("memory_gib").alias("_memory_gib"),
        pl.col("hourly_price").alias("_hourly"),
        pl.col("reference").alias("_reference"),
        pl.col("size_rank").alias("_rank"),
    )
    priced = base.drop("vcpus", "memory_gib", "hourly_price", strict=False).join(
        own, on=["region", "_price_engine", "instance_class"], how="left"
    )
    neighbours = catalog.select(
        "region",
        pl.col("engine").alias("_price_engine"),
        pl.col("family").alias("_family"),
        pl.col("instance_class").alias("_cand"),
        pl.col("hourly_price").alias("_cand_hourly"),
        pl.col("vcpus").alias("_cand_vcpus"),
        pl.col("size_rank").alias("_cand_rank"),
    )
    keys = ["region", "_price_engine", "_family"]
    smaller = (
        priced.select("resource_id", *keys, "_rank")
        .join(neighbours, on=keys, how="inner")
        .filter(pl.col("_cand_rank") < pl.col("_rank"))
        .sort("_cand_rank", descending=True)
        .unique("resource_id", keep="first", maintain_order=True)
        .select(
            "resource_id",
            pl.col("_cand").alias("smaller_class"),
            pl.col("_cand_hourly").alias("smaller_hourly_price"),
        )
    )
    larger = (
        priced.select("resource_id", *keys, "_rank")
        .join(neighbours, on=keys, how="inner")
        .filter(pl.col("_cand_rank") > pl.col("_rank"))
        .sort("_cand_rank")
        .unique("resource_id", keep="first", maintain_order=True)
        .select(
            "resource_id",
            pl.col("_cand").alias("larger_class"),
            pl.col("_cand_hourly").alias("larger_hourly_price"),
            pl.col("_cand_vcpus").alias("larger_vcpus"),
        )
    )
    storage_item = pl.format("rds.{}.storage", pl.col("storage_type"))
    iops_item = pl.format("rds.{}.iops", pl.col("storage_type"))
    storage_prices = units.select(
        "region", pl.col("item").alias("_storage_item"), pl.col("price").alias("_gb_price")
    )
    iops_prices = units.select(
        "region", pl.col("item").alias("_iops_item"), pl.col("price").alias("_iops_price")
    )
    az = pl.when(pl.col("multi_az").fill_null(False)).then(2.0).otherwise(1.0)
    is_aurora = pl.col("_price_engine") == "aurora"
    priced = (
        priced.with_columns(storage_item.alias("_storage_item"), iops_item.alias("_iops_item"))
        .join(storage_prices, on=["region", "_storage_item"], how="left")
        .join(iops_prices, on=["region", "_iops_item"], how="left")
        .join(unit("rds.gp3.storage"), on="region", how="left")
        .join(unit("rds.gp3.iops"), on="region", how="left")
        .join(unit("rds.snapshot.storage"), on="region", how="left")
        .join(unit("rds.extended_support.year1"), on="region", how="left")
        .join(unit("rds.extended_support.year3"), on="region", how="left")
        .join(_calendar(), on=["engine", "_major"], how="left")
        .join(smaller, on="resource_id", how="left")
        .join(larger, on="resource_id", how="left")
    )
    past_end = pl.col("standard_support_end").is_not_null() & (
        pl.col("standard_support_end") < pl.lit(today)
    )
    es_rate = (
        pl.when(~past_end)
        .then(0.0)
        .when(pl.lit(today) >= pl.col("_year3"))
        .then(pl.col("rds.extended_support.year3"))
        .otherwise(pl.col("rds.extended_support.year1"))
    )
    storage_monthly = (
        pl.when(is_aurora)
        .then(0.0)
        .otherwise(
            (
                pl.col("allocated_gb").fill_null(0.0) * pl.col("_gb_price")
                + pl.col("iops").fill_null(0.0) * pl.col("_iops_price").fill_null(0.0)
            )
            * az
        )
    )
    priced = priced.with_columns(
        pl.col("_vcpus").alias("vcpus"),
        pl.col("_memory_gib").alias("memory_gib"),
        pl.col("_hourly").alias("hourly_price"),
        storage_monthly.alias("storage_monthly"),
        pl.col("_gb_price").alias("price_storage_gb_month"),
        pl.col("_iops_price").fill_null(0.0).alias("price_iops_month"),
        pl.col("rds.gp3.storage").alias("price_gp3_gb_month"),
        pl.col("rds.gp3.iops").alias("price_gp3_iops_month"),
        pl.col("rds.snapshot.storage").alias("price_snapshot_gb_month"),
        past_end.alias("extended_support"),
        es_rate.alias("extended_support_vcpu_hour"),
    )
    running = pl.col("status").fill_null("available") != "stopped"
    instance_monthly = pl.when(running).then(pl.col("hourly_price") * HOURS_PER_MONTH * az)
    support_monthly = pl.when(running).then(
        pl.col("vcpus") * pl.col("extended_support_vcpu_hour") * HOURS_PER_MONTH * az
    )
    has_price = pl.col("hourly_price").is_not_null() & pl.col("storage_monthly").is_not_null()
    priced = _with_graviton(priced, catalog)
    priced = _with_cache_node(priced)
    priced = priced.with_columns(
        pl.when(has_price)
        .then(
            instance_monthly.fill_null(0.0)
            + pl.col("storage_monthly")
            + support_monthly.fill_null(0.0)
        )
        .alias("monthly_price"),
        pl.when(has_price).then(pl.lit("bundled")).otherwise(pl.lit("none")).alias("price_source"),
        pl.when(has_price).then(pl.col("region")).alias("price_region"),
        pl.when(has_price).then(pl.col("_reference")).alias("price_reference"),
    )
    return priced.select([c for c in priced.columns if not c.startswith(("_", "rds."))])


# --------------------------------------------------------------------------- ElastiCache

CACHE_FILE = DATA_DIR / "aws_elasticache_prices.csv"
DYNAMODB_FILE = DATA_DIR / "aws_dynamodb_prices.csv"
# Valkey node-based clusters are priced 20% below Redis OSS on the same node type.
# https://aws.amazon.com/elasticache/pricing/
VALKEY_PRICE_FACTOR = 0.8


@functools.lru_cache(maxsize=1)
def cache_catalog() -> pl.DataFrame:
    """region, engine, node_type, vcpus, memory_gib, hourly_price, reference, as_of,
    family and size_rank; Valkey rows derived from Redis OSS's at ``VALKEY_PRICE_FACTOR``."""
    frame = pl.read_csv(
        CACHE_FILE,
        schema={
            "region": pl.String,
            "engine": pl.String,
            "node_type": pl.String,
            "vcpus": pl.Float64,
            "memory_gib": pl.Float64,
            "hourly_price": pl.Float64,
            "reference": pl.String,
            "as_of": pl.String,
        },
    )
    valkey = frame.filter(pl.col("engine") == "redis").with_columns(
        pl.lit("valkey").alias("engine"),
        (pl.col("hourly_price") * VALKEY_PRICE_FACTOR).round(6).alias("hourly_price"),
        (pl.col("reference") + " × 0.8 for Valkey").alias("reference"),
    )
    parts = pl.col("node_type").str.split(".")
    return pl.concat([frame, valkey]).with_columns(
        parts.list.get(1).alias("family"),
        parts.list.get(2)
        .replace_strict(
            {s: i for i, s in enumerate(SIZE_ORDER)}, default=None, return_dtype=pl.Int64
        )
        .alias("size_rank"),
    )


def price_caches(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (the ``caches`` columns before prices) with node prices, the monthly price
    (nodes × hourly × 730) and the next node size down and up in its family."""
    catalog = cache_catalog()
    base = frame.with_columns(
        pl.col("node_type").str.split(".").list.get(1, null_on_oob=True).alias("_family")
    )
    own = catalog.select(
        "region",
        "engine",
        "node_type",
        pl.col("vcpus").alias("_vcpus"),
        pl.col("memory_gib").alias("_memory"),
        pl.col("hourly_price").alias("_hourly"),
        pl.col("reference").alias("_reference"),
        pl.col("size_rank").alias("_rank"),
    )
    priced = base.drop("vcpus", "memory_gib", "hourly_price", strict=False).join(
        own, on=["region", "engine", "node_type"], how="left"
    )
    neighbours = catalog.select(
        "region",
        "engine",
        pl.col("family").alias("_family"),
        pl.col("node_type").alias("_cand"),
        pl.col("hourly_price").alias("_cand_hourly"),
        pl.col("memory_gib").alias("_cand_memory"),
        pl.col("size_rank").alias("_cand_rank"),
    )
    keys = ["region", "engine", "_family"]
    pairs = priced.select("resource_id", *keys, "_rank").join(neighbours, on=keys, how="inner")
    smaller = (
        pairs.filter(pl.col("_cand_rank") < pl.col("_rank"))
        .sort("_cand_rank", descending=True)
        .unique("resource_id", keep="first", maintain_order=True)
        .select(
            "resource_id",
            pl.col("_cand").alias("smaller_node_type"),
            pl.col("_cand_hourly").alias("smaller_hourly_price"),
            pl.col("_cand_memory").alias("smaller_memory_gib"),
        )
    )
    larger = (
        pairs.filter(pl.col("_cand_rank") > pl.col("_rank"))
        .sort("_cand_rank")
        .unique("resource_id", keep="first", maintain_order=True)
        .select(
            "resource_id",
            pl.col("_cand").alias("larger_node_type"),
            pl.col("_cand_hourly").alias("larger_hourly_price"),
            pl.col("_cand_memory").alias("larger_memory_gib"),
        )
    )
    has_price = pl.col("_hourly").is_not_null()
    priced = (
        priced.join(smaller, on="resource_id", how="left")
        .join(larger, on="resource_id", how="left")
        .with_columns(
            pl.col("_vcpus").alias("vcpus"),
            pl.col("_memory").alias("memory_gib"),
            pl.col("_hourly").alias("hourly_price"),
            (pl.col("_hourly") * pl.col("nodes") * HOURS_PER_MONTH).alias("monthly_price"),
            pl.when(has_price)
            .then(pl.lit("bundled"))
            .otherwise(pl.lit("none"))
            .alias("price_source"),
            pl.when(has_price).then(pl.col("region")).alias("price_region"),
            pl.when(has_price).then(pl.col("_reference")).alias("price_reference"),
        )
    )
    return priced.select([c for c in priced.columns if not c.startswith("_")])


# --------------------------------------------------------------------------- DynamoDB

# dynamodb_tables column -> price item.
_TABLE_PRICE_ITEMS = {
    "price_std_rcu_hour": "dynamodb.standard.rcu",
    "price_std_wcu_hour": "dynamodb.standard.wcu",
    "price_std_read_million": "dynamodb.standard.read",
    "price_std_write_million": "dynamodb.standard.write",
    "price_std_gb_month": "dynamodb.standard.storage",
    "price_ia_rcu_hour": "dynamodb.standard_ia.rcu",
    "price_ia_wcu_hour": "dynamodb.standard_ia.wcu",
    "price_ia_read_million": "dynamodb.standard_ia.read",
    "price_ia_write_million": "dynamodb.standard_ia.write",
    "price_ia_gb_month": "dynamodb.standard_ia.storage",
}
STANDARD_IA = "STANDARD_INFREQUENT_ACCESS"
ON_DEMAND = "PAY_PER_REQUEST"


@functools.lru_cache(maxsize=1)
def dynamodb_prices() -> pl.DataFrame:
    """region, one column per ``_TABLE_PRICE_ITEMS`` price, price_reference."""
    units = pl.read_csv(
        DYNAMODB_FILE,
        schema={
            "region": pl.String,
            "item": pl.String,
            "unit": pl.String,
            "price": pl.Float64,
            "reference": pl.String,
            "as_of": pl.String,
        },
    )
    wide = units.pivot(on="item", index="region", values="price")
    return wide.select(
        "region",
        *[pl.col(item).alias(column) for column, item in _TABLE_PRICE_ITEMS.items()],
    ).with_columns(pl.lit("https://aws.amazon.com/dynamodb/pricing/").alias("_reference"))


def price_tables(frame: pl.DataFrame, consumed: pl.DataFrame | None) -> pl.DataFrame:
    """``frame`` (the ``dynamodb_tables`` columns before prices) with unit prices and the
    monthly price.

    ``consumed``: resource_id, read_units_month, write_units_month (consumed capacity
    units scaled to 730 hours), which prices an on-demand table's throughput; None (its
    metrics were not read) leaves an on-demand table's monthly price null. monthly_price =
    throughput (provisioned: (RCU × per RCU-hour + WCU × per WCU-hour) × 730; on demand:
    consumed units / 10^6 × per million) + storage_gb × per GB-month, at the table
    class's prices.
    """
    priced = frame.drop(*_TABLE_PRICE_ITEMS, strict=False).join(
        dynamodb_prices(), on="region", how="left"
    )
    if consumed is not None:
        priced = priced.join(consumed, on="resource_id", how="left")
    else:
        priced = priced.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("read_units_month"),
            pl.lit(None, dtype=pl.Float64).alias("write_units_month"),
        )
    ia = pl.col("table_class") == STANDARD_IA

    def price(kind: str) -> pl.Expr:
        return pl.when(ia).then(pl.col(f"price_ia_{kind}")).otherwise(pl.col(f"price_std_{kind}"))

    provisioned = (
        pl.col("read_capacity").fill_null(0.0) * price("rcu_hour")
        + pl.col("write_capacity").fill_null(0.0) * price("wcu_hour")
    ) * HOURS_PER_MONTH
    on_demand = (
        pl.col("read_units_month") * price("read_million")
        + pl.col("write_units_month") * price("write_million")
    ) / 1e6
    throughput = pl.when(pl.col("billing_mode") == ON_DEMAND).then(on_demand).otherwise(provisioned)
    has_price = pl.col("price_std_rcu_hour").is_not_null()
    priced = priced.with_columns(
        (throughput + pl.col("storage_gb").fill_null(0.0) * price("gb_month")).alias(
            "monthly_price"
        ),
        pl.when(has_price).then(pl.lit("bundled")).otherwise(pl.lit("none")).alias("price_source"),
        pl.when(has_price).then(pl.col("region")).alias("price_region"),
        pl.when(has_price).then(pl.col("_reference")).alias("price_reference"),
    )
    return priced.select(
        [
            c
            for c in priced.columns
            if not c.startswith("_") and c not in ("read_units_month", "write_units_month")
        ]
    )


# --------------------------------------------------------------------------- EFS

EFS_FILE = DATA_DIR / "aws_efs_prices.csv"
# file_systems column -> price item.
_EFS_PRICE_ITEMS = {
    "price_standard_gb_month": "efs.standard.storage",
    "price_ia_gb_month": "efs.ia.storage",
    "price_archive_gb_month": "efs.archive.storage",
    "price_tiering_gb": "efs.tiering",
}


@functools.lru_cache(maxsize=1)
def efs_prices() -> pl.DataFrame:
    """region, one column per ``_EFS_PRICE_ITEMS`` price, and the reference."""
    units = pl.read_csv(
        EFS_FILE,
        schema={
            "region": pl.String,
            "item": pl.String,
            "unit": pl.String,
            "price": pl.Float64,
            "reference": pl.String,
            "as_of": pl.String,
        },
    )
    wide = units.pivot(on="item", index="region", values="price")
    return wide.select(
        "region", *[pl.col(item).alias(column) for column, item in _EFS_PRICE_ITEMS.items()]
    ).with_columns(pl.lit("https://aws.amazon.com/efs/pricing/").alias("_reference"))


def price_file_systems(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (the ``file_systems`` columns before prices) with per-GB prices and
    monthly_price = standard_gb × Standard + ia_gb × IA + archive_gb × Archive."""
    priced = frame.drop(*_EFS_PRICE_ITEMS, strict=False).join(efs_prices(), on="region", how="left")
    has_price = pl.col("price_standard_gb_month").is_not_null()
    priced = priced.with_columns(
        (
            pl.col("standard_gb").fill_null(0.0) * pl.col("price_standard_gb_month")
            + pl.col("ia_gb").fill_null(0.0) * pl.col("price_ia_gb_month")
            + pl.col("archive_gb").fill_null(0.0) * pl.col("price_archive_gb_month")
        ).alias("monthly_price"),
        pl.when(has_price).then(pl.lit("bundled")).otherwise(pl.lit("none")).alias("price_source"),
        pl.when(has_price).then(pl.col("region")).alias("price_region"),
        pl.when(has_price).then(pl.col("_reference")).alias("price_reference"),
    )
    return priced.select([c for c in priced.columns if not c.startswith("_")])


# --------------------------------------------------------------------------- analytics

ANALYTICS_FILE = DATA_DIR / "aws_analytics_prices.csv"
OPENSEARCH_INSTANCE = "opensearch.instance."
REDSHIFT_NODE = "redshift.node."


@functools.lru_cache(maxsize=1)
def analytics_prices() -> pl.DataFrame:
    """region, item, unit, price, reference, as_of."""
    return pl.read_csv(
        ANALYTICS_FILE,
        schema={
            "region": pl.String,
            "item": pl.String,
            "unit": pl.String,
            "price": pl.Float64,
            "reference": pl.String,
            "as_of": pl.String,
        },
    )


def _search_instances() -> pl.DataFrame:
    """region, instance_type, hourly, family, size_rank of the bundled OpenSearch types."""
    rows = analytics_prices().filter(pl.col("item").str.starts_with(OPENSEARCH_INSTANCE))
    kind = pl.col("item").str.strip_prefix(OPENSEARCH_INSTANCE)
    parts = kind.str.split(".")
    return rows.select(
        "region",
        kind.alias("instance_type"),
        pl.col("price").alias("hourly"),
        pl.col("reference"),
        parts.list.get(0).alias("family"),
        parts.list.get(1)
        .replace_strict(
            {s: i for i, s in enumerate(SIZE_ORDER)}, default=None, return_dtype=pl.Int64
        )
        .alias("size_rank"),
    )


def price_search_domains(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (the ``search_domains`` columns before prices) with node and EBS prices,
    the next data node size up, and monthly_price = (data nodes × hourly + masters ×
    master hourly) × 730 + data nodes × volume_gb × per GB-month. UltraWarm is unpriced."""
    types = _search_instances()
    units = analytics_prices()
    own = types.select(
        "region",
        "instance_type",
        pl.col("hourly").alias("_hourly"),
        pl.col("reference").alias("_reference"),
        pl.col("family").alias("_family"),
        pl.col("size_rank").alias("_rank"),
    )
    masters = types.select(
        "region", pl.col("instance_type").alias("master_type"), pl.col("hourly").alias("_master")
    )
    storage = units.filter(pl.col("item").str.starts_with("opensearch.storage.")).select(
        "region",
        pl.col("item").str.strip_prefix("opensearch.storage.").alias("volume_type"),
        pl.col("price").alias("_volume_price"),
    )
    gp3 = storage.filter(pl.col("volume_type") == "gp3").select(
        "region", pl.col("_volume_price").alias("_gp3")
    )
    priced = (
        frame.drop("hourly_price", "master_hourly_price", strict=False)
        .join(own, on=["region", "instance_type"], how="left")
        .join(masters, on=["region", "master_type"], how="left")
        .join(storage, on=["region", "volume_type"], how="left")
        .join(gp3, on="region", how="left")
    )
    larger = (
        priced.select("resource_id", "region", "_family", "_rank")
        .join(
            types.select(
                "region",
                pl.col("family").alias("_family"),
                pl.col("instance_type").alias("larger_instance_type"),
                pl.col("hourly").alias("larger_hourly_price"),
                pl.col("size_rank").alias("_cand_rank"),
            ),
            on=["region", "_family"],
            how="inner",
        )
        .filter(pl.col("_cand_rank") > pl.col("_rank"))
        .sort("_cand_rank")
        .unique("resource_id", keep="first", maintain_order=True)
        .select("resource_id", "larger_instance_type", "larger_hourly_price")
    )
    has_price = pl.col("_hourly").is_not_null()
    priced = priced.join(larger, on="resource_id", how="left").with_columns(
        pl.col("_hourly").alias("hourly_price"),
        pl.col("_master").alias("master_hourly_price"),
        pl.col("_volume_price").alias("price_volume_gb_month"),
        pl.col("_gp3").alias("price_gp3_gb_month"),
        (
            (
                pl.col("instance_count") * pl.col("_hourly")
                + pl.col("master_count").fill_null(0) * pl.col("_master").fill_null(0.0)
            )
            * HOURS_PER_MONTH
            + pl.col("instance_count")
            * pl.col("volume_gb").fill_null(0.0)
            * pl.col("_volume_price").fill_null(0.0)
        ).alias("monthly_price"),
        pl.when(has_price).then(pl.lit("bundled")).otherwise(pl.lit("none")).alias("price_source"),
        pl.when(has_price).then(pl.col("region")).alias("price_region"),
        pl.when(has_price).then(pl.col("_reference")).alias("price_reference"),
    )
    return priced.select([c for c in priced.columns if not c.startswith("_")])


def price_warehouses(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (the ``warehouses`` columns before prices) with the node price and
    monthly_price = nodes × hourly × 730 (a paused cluster bills no node hours)."""
    nodes = analytics_prices().filter(pl.col("item").str.starts_with(REDSHIFT_NODE))
    own = nodes.select(
        "region",
        pl.col("item").str.strip_prefix(REDSHIFT_NODE).alias("node_type"),
        pl.col("price").alias("_hourly"),
        pl.col("reference").alias("_reference"),
    )
    has_price = pl.col("_hourly").is_not_null()
    running = pl.col("status").fill_null("available") != "paused"
    priced = (
        frame.drop("hourly_price", strict=False)
        .join(own, on=["region", "node_type"], how="left")
        .with_columns(
            pl.col("_hourly").alias("hourly_price"),
            pl.when(running)
            .then(pl.col("nodes") * pl.col("_hourly") * HOURS_PER_MONTH)
            .otherwise(0.0)
            .alias("monthly_price"),
            pl.when(has_price)
            .then(pl.lit("bundled"))
            .otherwise(pl.lit("none"))
            .alias("price_source"),
            pl.when(has_price).then(pl.col("region")).alias("price_region"),
            pl.when(has_price).then(pl.col("_reference")).alias("price_reference"),
        )
    )
    return priced.select([c for c in priced.columns if not c.startswith("_")])


def _with_graviton(priced: pl.DataFrame, catalog: pl.DataFrame) -> pl.DataFrame:
    """``graviton_class`` and its price: the same size in ``GRAVITON_FAMILY``'s family."""
    size = pl.col("instance_class").str.split(".").list.get(2, null_on_oob=True)
    target = pl.col("_family").replace_strict(GRAVITON_FAMILY, default=None, return_dtype=pl.String)
    graviton = catalog.select(
        "region",
        pl.col("engine").alias("_price_engine"),
        pl.col("instance_class").alias("graviton_class"),
        pl.col("hourly_price").alias("graviton_hourly_price"),
    )
    return (
        priced.with_columns(pl.format("db.{}.{}", target, size).alias("graviton_class"))
        .join(graviton, on=["region", "_price_engine", "graviton_class"], how="left")
        .with_columns(
            pl.when(pl.col("graviton_hourly_price").is_not_null())
            .then(pl.col("graviton_class"))
            .alias("graviton_class")
        )
    )


def _with_cache_node(priced: pl.DataFrame) -> pl.DataFrame:
    """``cache_node_type`` and its hourly price in the database's region, where bundled."""
    nodes = cache_catalog().filter(
        (pl.col("node_type") == CACHE_LAYER_NODE) & (pl.col("engine") == CACHE_LAYER_ENGINE)
    )
    return priced.join(
        nodes.select(
            "region",
            pl.col("node_type").alias("cache_node_type"),
            pl.col("hourly_price").alias("cache_node_hourly_price"),
        ),
        on="region",
        how="left",
    )
