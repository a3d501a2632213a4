"""Google Cloud list prices, bundled: Compute Engine machine types, disks, snapshots, static
addresses and Cloud Storage classes.

Compute Engine prices a predefined machine type as its vCPUs times the series' per-vCPU
hourly rate plus its memory times the per-GiB hourly rate (the "Instance Core" and
"Instance Ram" SKUs of the Cloud Billing Catalog, one pair per series and region group);
shared-core E2 types bill a fraction of one vCPU (e2-micro 0.25, e2-small 0.5, e2-medium 1).
So two small files hold the whole catalogue (``data/README.md`` gives their sources):

- ``gcp_machine_types.csv``: every predefined type costscan prices, with its series, shape
  (standard, highmem, highcpu, shared), vCPUs, memory, billed vCPUs and architecture;
- ``gcp_compute_prices.csv``: per series and region, the two hourly rates, the SKUs they
  come from and the date they were read.

``n2-standard-8`` in us-central1 is therefore 8 × $0.031611 + 32 × $0.004237 =
$0.388472 an hour, the figure https://cloud.google.com/compute/vm-instance-pricing lists.

Each row also carries the facts the compute policies need and cannot read from a GCP
type's name the AWS way (``instance_class``: the shape, so n1-standard moves to
e2-standard; ``generation``: the series' digit; ``local_disk``: false for these types).
Nothing here touches the network.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import polars as pl

from costscan.scanner.contracts import schema

DATA_DIR = Path(__file__).resolve().parent / "data"
MACHINE_TYPES_CSV = DATA_DIR / "gcp_machine_types.csv"
COMPUTE_PRICES_CSV = DATA_DIR / "gcp_compute_prices.csv"
STORAGE_PRICES_CSV = DATA_DIR / "gcp_storage_prices.csv"
# A region the storage file lacks is priced at this region's list prices, and
# ``price_region`` says so (policies lower their confidence for it).
FALLBACK_REGION: Final = "us-central1"

# The series Google calls first generation (N1 and its shared-core f1/g1), which a
# "newer generation" move leaves; every other series here is current.
# https://cloud.google.com/compute/docs/general-purpose-machines#n1_machines
PREVIOUS_GENERATION_SERIES: frozenset[str] = frozenset({"n1", "f1", "g1"})

# Resource-based committed use discounts name the series they cover by a commitment type
# (https://cloud.google.com/compute/docs/reference/rest/v1/regionCommitments, ``type``);
# GENERAL_PURPOSE is N1's.
COMMITMENT_TYPE_SERIES: dict[str, str] = {
    "GENERAL_PURPOSE": "n1",
    "GENERAL_PURPOSE_E2": "e2",
    "GENERAL_PURPOSE_N2": "n2",
    "GENERAL_PURPOSE_N2D": "n2d",
    "GENERAL_PURPOSE_N4": "n4",
    "GENERAL_PURPOSE_T2D": "t2d",
    "GENERAL_PURPOSE_C4": "c4",
    "GENERAL_PURPOSE_C4A": "c4a",
    "COMPUTE_OPTIMIZED": "c2",
    "COMPUTE_OPTIMIZED_C2D": "c2d",
    "COMPUTE_OPTIMIZED_C3": "c3",
    "COMPUTE_OPTIMIZED_C3D": "c3d",
    "MEMORY_OPTIMIZED": "m1",
    "MEMORY_OPTIMIZED_M3": "m3",
    "ACCELERATOR_OPTIMIZED": "a2",
    "GRAPHICS_OPTIMIZED": "g2",
}

MACHINE_TYPES_SCHEMA: dict[str, pl.DataType] = {
    "instance_type": pl.String(),
    "series": pl.String(),
    "shape": pl.String(),
    "vcpus": pl.Float64(),
    "memory_gib": pl.Float64(),
    "billed_vcpus": pl.Float64(),
    "architecture": pl.String(),
}
COMPUTE_PRICES_SCHEMA: dict[str, pl.DataType] = {
    "series": pl.String(),
    "region": pl.String(),
    "core_hour": pl.Float64(),
    "ram_gib_hour": pl.Float64(),
    "reference": pl.String(),
    "as_of": pl.String(),
}


@functools.lru_cache(maxsize=1)
def machine_types() -> pl.DataFrame:
    """Every predefined machine type costscan knows: series, shape, vCPUs, memory, billed
    vCPUs (a fraction for shared-core E2) and architecture."""
    return pl.read_csv(MACHINE_TYPES_CSV, schema=MACHINE_TYPES_SCHEMA)


@functools.lru_cache(maxsize=1)
def compute_rates() -> pl.DataFrame:
    """Per series and region: USD per vCPU-hour and per GiB-hour, with reference and date."""
    return pl.read_csv(COMPUTE_PRICES_CSV, schema=COMPUTE_PRICES_SCHEMA)


def series_of(machine_type: pl.Expr) -> pl.Expr:
    """A machine type's series: the part before the first dash (n2-standard-8 -> n2,
    e2-medium -> e2, t2a-standard-4 -> t2a)."""
    return machine_type.str.extract(r"^([a-z0-9]+)-", 1)


def generation_of(series: pl.Expr) -> pl.Expr:
    """The series' generation digit: n1 -> 1, e2 / n2 / n2d / t2a -> 2, c3 -> 3, n4 -> 4."""
    return series.str.extract(r"^[a-z]+(\d+)", 1).cast(pl.Int64, strict=False)


def shape_of(machine_type: pl.Expr) -> pl.Expr:
    """A predefined type's shape (standard, highmem, highcpu); ``shared`` for the
    shared-core types (e2-micro, e2-small, e2-medium, f1-micro, g1-small)."""
    return (
        pl.when(machine_type.str.contains(r"^[a-z0-9]+-(micro|small|medium)$"))
        .then(pl.lit("shared"))
        .otherwise(machine_type.str.extract(r"^[a-z0-9]+-([a-z]+)-", 1))
    )


def type_facts(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (with ``instance_type``) plus the policy facts of each GCP type:
    ``family`` (series-shape: n2-standard), ``size``, ``instance_class`` (the shape),
    ``generation``, ``current_generation``, ``burstable`` (shared core) and
    ``local_disk`` (types whose name ends in -lssd bundle Local SSD)."""
    name = pl.col("instance_type")
    series = series_of(name)
    shape = shape_of(name)
    return frame.with_columns(
        pl.concat_str([series, shape], separator="-").alias("family"),
        name.str.extract(r"-(\d+)(?:-lssd)?$", 1)
        .fill_null(name.str.extract(r"-([a-z]+)$", 1))
        .alias("size"),
        shape.alias("instance_class"),
        generation_of(series).alias("generation"),
        series.is_in(list(PREVIOUS_GENERATION_SERIES)).not_().alias("current_generation"),
        (shape == "shared").alias("burstable"),
        name.str.ends_with("-lssd").alias("local_disk"),
    )


def bundled_gcp_prices(regions: Sequence[str] | None = None) -> pl.DataFrame:
    """Bundled on-demand prices of every known machine type as ``schema.PRICES``
    (source ``bundled``): billed vCPUs × per-vCPU rate + GiB × per-GiB rate, rounded to
    the micro-dollar as the catalogue lists rates. A region the file lacks gives no rows."""
    rates = compute_rates()
    if regions is not None:
        rates = rates.filter(pl.col("region").is_in(list(regions)))
    priced = machine_types().join(rates, on="series", how="inner")
    hourly = pl.col("billed_vcpus") * pl.col("core_hour") + pl.col("memory_gib") * pl.col(
        "ram_gib_hour"
    )
    frame = type_facts(
        priced.with_columns(
            hourly.round(6).alias("hourly_price"),
            pl.lit("gcp").alias("provider"),
            pl.lit("bundled").alias("source"),
        )
    )
    return schema.conform("prices", frame)


# --------------------------------------------------------------------------- storage


@functools.lru_cache(maxsize=1)
def _storage_catalog() -> pl.DataFrame:
    return pl.read_csv(
        STORAGE_PRICES_CSV,
        schema={
            "region": pl.String(),
            "item": pl.String(),
            "unit": pl.String(),
            "price": pl.Float64(),
            "reference": pl.String(),
            "as_of": pl.String(),
        },
    )


def storage_prices(items: Sequence[str]) -> pl.DataFrame:
    """Wide table: one row per bundled region, one column per ``items`` price (null where
    the region lacks it), and the reference of the first item."""
    catalog = _storage_catalog().filter(pl.col("item").is_in(list(items)))
    wide = catalog.pivot(on="item", index="region", values="price", aggregate_function="first")
    for item in items:
        if item not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(item))
    refs = catalog.group_by("region").agg(
        pl.col("reference").sort_by("item").first().alias("price_reference")
    )
    return wide.join(refs, on="region", how="left")


def with_regional_prices(
    frame: pl.DataFrame, items: dict[str, str], region_column: str = "region"
) -> pl.DataFrame:
    """``frame`` plus one column per ``items`` (column -> price item) from its region's
    list prices, ``price_region`` (the region used: the row's own, else
    ``FALLBACK_REGION``) and ``price_reference``."""
    table = storage_prices(list(items.values())).rename(
        {item: column for column, item in items.items()}
    )
    known = set(table["region"].to_list())
    keyed = frame.with_columns(
        pl.when(pl.col(region_column).is_in(list(known)))
        .then(pl.col(region_column))
        .otherwise(pl.lit(FALLBACK_REGION))
        .alias("price_region")
    )
    return keyed.join(table.rename({"region": "price_region"}), on="price_region", how="left")
