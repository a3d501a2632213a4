"""AWS storage list prices (EBS volumes and snapshots, S3 storage classes), bundled.

``data/aws_storage_prices.csv`` holds one row per region and price item (``ebs.gp3.storage``,
``s3.STANDARD_IA`` ...) with its unit, USD price, public reference and as-of date; see
``data/README.md`` for the sources. A region the file lacks is priced at us-east-1's list
prices, and ``price_region`` says so, so findings can lower their confidence and show it.

The ``price_*`` functions add the unit prices and the monthly price to the ``volumes``,
``snapshots`` and ``buckets`` frames, vectorised over whole frames. Nothing here touches
the network.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from costscan.scanner.contracts import schema

DATA_FILE = Path(__file__).parent / "data" / "aws_storage_prices.csv"
FALLBACK_REGION = "us-east-1"

# gp3 includes this much performance in its per-GB price; more is charged per unit.
# https://aws.amazon.com/ebs/pricing/
GP3_INCLUDED_IOPS = 3000.0
GP3_INCLUDED_THROUGHPUT = 125.0
# io2 prices provisioned IOPS in tiers: up to 32,000, 32,001-64,000, above 64,000.
IO2_TIER1_LIMIT = 32000.0
IO2_TIER2_LIMIT = 64000.0

# volumes column -> price item; the type's own per-GB and per-IOPS prices are chosen below.
_VOLUME_PRICE_ITEMS = {
    "price_gp3_gb_month": "ebs.gp3.storage",
    "price_gp3_iops_month": "ebs.gp3.iops",
    "price_gp3_throughput_month": "ebs.gp3.throughput",
    "price_io2_gb_month": "ebs.io2.storage",
    "price_io2_iops_tier1_month": "ebs.io2.iops.tier1",
    "price_io2_iops_tier2_month": "ebs.io2.iops.tier2",
    "price_io2_iops_tier3_month": "ebs.io2.iops.tier3",
    "price_snapshot_gb_month": "ebs.snapshot.standard",
}
_BUCKET_PRICE_ITEMS = {
    "price_standard_gb_month": "s3.STANDARD",
    "price_standard_ia_gb_month": "s3.STANDARD_IA",
    "price_intelligent_tiering_ia_gb_month": "s3.INTELLIGENT_TIERING_IA",
    "price_intelligent_tiering_monitoring_per_1000": "s3.INTELLIGENT_TIERING.monitoring",
    "price_transition_per_1000": "s3.transition.STANDARD_IA",
}


@functools.lru_cache(maxsize=1)
def _read_catalog() -> pl.DataFrame:
    return pl.read_csv(
        DATA_FILE,
        schema={
            "region": pl.String,
            "item": pl.String,
            "unit": pl.String,
            "price": pl.Float64,
            "reference": pl.String,
            "as_of": pl.String,
        },
    )


def bundled_storage_prices(regions: Sequence[str]) -> pl.DataFrame:
    """Price rows for ``regions``: region, item, unit, price, reference, as_of, price_region.

    ``price_region`` is the region the figure was published for: the region itself, or
    us-east-1 where the bundled file has nothing for the region.
    """
    catalog = _read_catalog()
    known = set(catalog["region"].unique().to_list())
    wanted = pl.DataFrame(
        {
            "region": list(dict.fromkeys(regions)),
        },
        schema={"region": pl.String},
    ).with_columns(
        pl.when(pl.col("region").is_in(sorted(known)))
        .then(pl.col("region"))
        .otherwise(pl.lit(FALLBACK_REGION))
        .alias("price_region")
    )
    return wanted.join(
        catalog.rename({"region": "price_region"}), on="price_region", how="inner"
    ).select("region", "item", "unit", "price", "reference", "as_of", "price_region")


def _wide(prices: pl.DataFrame, items: dict[str, str]) -> pl.DataFrame:
    """One row per region: ``price_region``, ``price_reference`` and one column per item."""
    picked = prices.filter(pl.col("item").is_in(list(items.values())))
    by_item = {item: column for column, item in items.items()}
    columns = [
        pl.col("price").filter(pl.col("item") == item).first().alias(column)
        for item, column in by_item.items()
    ]
    return picked.group_by("region").agg(
        pl.col("price_region").first(),
        pl.format("{} (as of {})", pl.col("reference"), pl.col("as_of"))
        .first()
        .alias("price_reference"),
        *columns,
    )


def _storage_item(kind: pl.Expr, prefix: str) -> pl.Expr:
    return pl.format("{}.{}.storage", pl.lit(prefix), kind)


def price_volumes(volumes: pl.DataFrame, prices: pl.DataFrame) -> pl.DataFrame:
    """Add unit prices, ``monthly_price`` and ``price_source`` to volume rows.

    monthly_price, by type (USD a month, the EBS pricing page's formulas):
      gp2, st1, sc1, standard: size_gb × per-GB price (standard's I/O requests are not
      counted: DescribeVolumes does not report them);
      gp3: size_gb × per-GB + max(iops - 3,000, 0) × per-IOPS + max(throughput - 125, 0)
      × per-MB/s;
      io1: size_gb × per-GB + iops × per-IOPS;
      io2: size_gb × per-GB + IOPS priced in its three tiers.
    A type with no bundled price gets a null price and price_source "none".
    """
    wide = _wide(prices, _VOLUME_PRICE_ITEMS)
    own_storage = prices.select(
        "region", pl.col("item").alias("_storage_item"), pl.col("price").alias("_own_gb")
    )
    own_iops = prices.select(
        "region", pl.col("item").alias("_iops_item"), pl.col("price").alias("_own_iops")
    )
    kind = pl.col("volume_type").str.to_lowercase()
    frame = (
        volumes.drop([c for c in volumes.columns if c.startswith("price_")], strict=False)
        .drop(["monthly_price"], strict=False)
        .with_columns(
            pl.format("ebs.{}.storage", kind).alias("_storage_item"),
            pl.when(kind == "io2")
            .then(pl.lit("ebs.io2.iops.tier1"))
            .otherwise(pl.format("ebs.{}.iops", kind))
            .alias("_iops_item"),
        )
        .join(wide, on="region", how="left")
        .join(own_storage, on=["region", "_storage_item"], how="left")
        .join(own_iops, on=["region", "_iops_item"], how="left")
    )
    size = pl.col("size_gb").fill_null(0.0)
    iops = pl.col("iops").fill_null(0.0)
    throughput = pl.col("throughput").fill_null(GP3_INCLUDED_THROUGHPUT)
    storage = size * pl.col("_own_gb")
    io2_iops = (
        iops.clip(upper_bound=IO2_TIER1_LIMIT) * pl.col("price_io2_iops_tier1_month")
        + (iops - IO2_TIER1_LIMIT).clip(0.0, IO2_TIER2_LIMIT - IO2_TIER1_LIMIT)
        * pl.col("price_io2_iops_tier2_month")
        + (iops - IO2_TIER2_LIMIT).clip(lower_bound=0.0) * pl.col("price_io2_iops_tier3_month")
    )
    monthly = (
        pl.when(kind == "gp3")
        .then(
            storage
            + (iops - GP3_INCLUDED_IOPS).clip(lower_bound=0.0) * pl.col("price_gp3_iops_month")
            + (throughput - GP3_INCLUDED_THROUGHPUT).clip(lower_bound=0.0)
            * pl.col("price_gp3_throughput_month")
        )
        .when(kind == "io1")
        .then(storage + iops * pl.col("_own_iops"))
        .when(kind == "io2")
        .then(storage + io2_iops)
        .otherwise(storage)
    )
    frame = frame.with_columns(
        monthly.alias("monthly_price"),
        pl.col("_own_gb").alias("price_storage_gb_month"),
        pl.col("_own_iops").fill_null(0.0).alias("price_iops_month"),
    ).with_columns(
        pl.when(pl.col("monthly_price").is_null())
        .then(pl.lit("none"))
        .otherwise(pl.lit("bundled"))
        .alias("price_source")
    )
    return schema.conform("volumes", frame)


def price_snapshots(snapshots: pl.DataFrame, prices: pl.DataFrame) -> pl.DataFrame:
    """Add the per-GB price and ``monthly_price = size_gb × price`` to snapshot rows.

    Standard-tier snapshots are incremental, so size_gb (the source volume's size) is an
    upper bound of what is billed; archive-tier snapshots are full copies.
    """
    tiers = prices.filter(pl.col("item").str.starts_with("ebs.snapshot.")).select(
        "region",
        pl.col("item").str.strip_prefix("ebs.snapshot.").alias("storage_tier"),
        pl.col("price").alias("price_gb_month"),
        "price_region",
        pl.format("{} (as of {})", pl.col("reference"), pl.col("as_of")).alias("price_reference"),
    )
    frame = (
        snapshots.drop(
            ["price_gb_month", "price_region", "price_reference", "monthly_price"], strict=False
        )
        .with_columns(pl.col("storage_tier").fill_null("standard"))
        .join(tiers, on=["region", "storage_tier"], how="left")
        .with_columns((pl.col("size_gb") * pl.col("price_gb_month")).alias("monthly_price"))
        .with_columns(
            pl.when(pl.col("monthly_price").is_null())
            .then(pl.lit("none"))
            .otherwise(pl.lit("bundled"))
            .alias("price_source")
        )
    )
    return schema.conform("snapshots", frame)


def price_buckets(buckets: pl.DataFrame, prices: pl.DataFrame) -> pl.DataFrame:
    """Add the storage-class price and the prices of the cheaper classes to bucket rows.

    Bytes are priced per GB (2^30 bytes), the unit S3 bills GB-months in.
    """
    wide = _wide(prices, _BUCKET_PRICE_ITEMS)
    own = prices.filter(pl.col("item").str.starts_with("s3.")).select(
        "region",
        pl.col("item").str.strip_prefix("s3.").alias("storage_class"),
        pl.col("price").alias("price_gb_month"),
    )
    frame = (
        buckets.drop([c for c in buckets.columns if c.startswith("price_")], strict=False)
        .join(wide, on="region", how="left")
        .join(own, on=["region", "storage_class"], how="left")
    )
    return schema.conform("buckets", frame)
