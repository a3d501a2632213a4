"""Azure list prices, bundled: virtual machine sizes, managed disk tiers, snapshots and
public IP addresses, in the shapes of the Azure Retail Prices API
(https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices).

Three small files (``data/README.md`` gives their sources):

- ``azure_vm_prices.csv``: per region and size, vCPUs, memory and the Linux pay-as-you-go
  hourly ``retailPrice`` (``type`` Consumption, ``unitOfMeasure`` 1 Hour);
- ``azure_disk_prices.csv``: per region, managed disk SKU and tier (P10, E20, S30 ...), the
  tier's size and monthly price: a managed disk bills the smallest tier that holds its
  provisioned size (https://azure.microsoft.com/pricing/details/managed-disks/);
- ``azure_storage_prices.csv``: per-unit items (snapshot GB-month, public IP hour).

``Standard_D4s_v5`` in eastus is $0.192 an hour, so $140.16 a 730-hour month.

A size's facts come from its name (https://learn.microsoft.com/azure/virtual-machines/
vm-naming-conventions): ``Standard_D4ps_v5`` is family D, 4 vCPUs, additive features
``ps`` (``p``: Arm, ``d``: a local temp disk, ``s``: premium storage capable) and version 5.
Nothing here touches the network.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import polars as pl

from costscan.scanner.contracts import schema

DATA_DIR = Path(__file__).resolve().parent / "data"
VM_PRICES_CSV = DATA_DIR / "azure_vm_prices.csv"
DISK_PRICES_CSV = DATA_DIR / "azure_disk_prices.csv"
STORAGE_PRICES_CSV = DATA_DIR / "azure_storage_prices.csv"
# A region the disk and storage files lack is priced at this region's list prices, and
# ``price_region`` says so (policies lower their confidence for it).
FALLBACK_REGION: Final = "eastus"

# The workload class of each size family letter (the Azure sizes overview,
# https://learn.microsoft.com/azure/virtual-machines/sizes/overview): rightsizing keeps a
# VM among types whose class is known, and never treats GPU (N) or HPC (H) sizes as plain.
FAMILY_CLASS: dict[str, str] = {
    "A": "general",
    "B": "burstable",
    "D": "general",
    "E": "memory",
    "F": "compute",
    "L": "storage",
    "M": "memory",
}
# Versions before v4 of D and E, and v2 of F, are the older generations that newer
# series replace (https://learn.microsoft.com/azure/virtual-machines/sizes/retirement/).
CURRENT_FROM_VERSION: Final = 4

VM_PRICES_SCHEMA: dict[str, pl.DataType] = {
    "region": pl.String(),
    "instance_type": pl.String(),
    "vcpus": pl.Float64(),
    "memory_gib": pl.Float64(),
    "hourly_price": pl.Float64(),
    "reference": pl.String(),
    "as_of": pl.String(),
}
DISK_PRICES_SCHEMA: dict[str, pl.DataType] = {
    "region": pl.String(),
    "sku": pl.String(),
    "tier": pl.String(),
    "size_gib": pl.Float64(),
    "monthly_price": pl.Float64(),
    "reference": pl.String(),
    "as_of": pl.String(),
}
_NAME = r"^(?:Standard|Basic)_([A-Z]+)(\d+)(?:-\d+)?([a-z]*)(?:_v(\d+))?$"


@functools.lru_cache(maxsize=1)
def vm_prices() -> pl.DataFrame:
    return pl.read_csv(VM_PRICES_CSV, schema=VM_PRICES_SCHEMA)


@functools.lru_cache(maxsize=1)
def disk_prices() -> pl.DataFrame:
    return pl.read_csv(DISK_PRICES_CSV, schema=DISK_PRICES_SCHEMA)


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


def unit_price(item: str, region: str) -> tuple[float | None, str, str | None]:
    """(price, the region it is of, reference) of one per-unit item; the fallback region's
    when ``region`` has none; (None, region, None) when neither has it."""
    catalog = _storage_catalog().filter(pl.col("item") == item)
    for where in (region, FALLBACK_REGION):
        row = catalog.filter(pl.col("region") == where)
        if row.height:
            return float(row["price"][0]), where, str(row["reference"][0])
    return None, region, None


def size_facts(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (with ``instance_type``) plus the facts the compute policies read:
    ``family`` (the series: Dsv5, Dpsv5, Bs), ``size`` (the vCPU digits), ``instance_class``
    (``FAMILY_CLASS``), ``generation`` (the version, 1 when none), ``current_generation``,
    ``burstable`` (B), ``local_disk`` (``d`` feature), ``architecture`` (``p``: arm64)."""
    name = pl.col("instance_type")
    letter = name.str.extract(_NAME, 1)
    features = name.str.extract(_NAME, 3).fill_null("")
    version = name.str.extract(_NAME, 4).cast(pl.Int64, strict=False).fill_null(1)
    return frame.with_columns(
        pl.concat_str(
            [letter, features, pl.when(version > 1).then(pl.format("v{}", version))],
            ignore_nulls=True,
        ).alias("family"),
        name.str.extract(_NAME, 2).alias("size"),
        letter.replace_strict(FAMILY_CLASS, default=None, return_dtype=pl.String).alias(
            "instance_class"
        ),
        version.alias("generation"),
        ((letter == "B") | (version >= CURRENT_FROM_VERSION)).alias("current_generation"),
        (letter == "B").alias("burstable"),
        features.str.contains("d").alias("local_disk"),
        pl.when(features.str.contains("p"))
        .then(pl.lit("arm64"))
        .otherwise(pl.lit("x86_64"))
        .alias("architecture"),
    )


def bundled_azure_prices(regions: Sequence[str] | None = None) -> pl.DataFrame:
    """Bundled Linux pay-as-you-go prices of every known size as ``schema.PRICES``
    (source ``bundled``). A region the file lacks gives no rows."""
    rows = vm_prices()
    if regions is not None:
        rows = rows.filter(pl.col("region").is_in(list(regions)))
    frame = size_facts(rows).with_columns(
        pl.lit("azure").alias("provider"), pl.lit("bundled").alias("source")
    )
    return schema.conform("prices", frame)


def disk_tier(sku: str, size_gb: float, tier: str | None, region: str) -> dict[str, object]:
    """The billed tier of a managed disk: its own ``tier`` when set (a Premium disk can be
    set to a higher performance tier), else the smallest of its SKU that holds
    ``size_gb``. Keys: tier, tier_size_gib, monthly_price, price_region, price_reference;
    the price is None for a SKU or size the file lacks (Premium v2, Ultra)."""
    table = disk_prices().filter(pl.col("sku") == sku)
    where = region if table.filter(pl.col("region") == region).height else FALLBACK_REGION
    table = table.filter(pl.col("region") == where).sort("size_gib")
    chosen = (
        table.filter(pl.col("tier") == tier)
        if tier and table.filter(pl.col("tier") == tier).height
        else table.filter(pl.col("size_gib") >= math.ceil(size_gb)).head(1)
    )
    if chosen.height == 0:
        return {
            "tier": tier,
            "tier_size_gib": None,
            "monthly_price": None,
            "price_region": where,
            "price_reference": None,
        }
    row = chosen.row(0, named=True)
    return {
        "tier": row["tier"],
        "tier_size_gib": row["size_gib"],
        "monthly_price": row["monthly_price"],
        "price_region": where,
        "price_reference": row["reference"],
    }
