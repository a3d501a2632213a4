"""CloudWatch list prices: Logs ingestion and storage, and the tiered custom-metric rate.

Read from ``data/aws_observability.csv`` (sources in ``data/README.md``). A region the
file does not price falls back, item by item, to us-east-1; the answer says which region
it used, so findings can lower their confidence and say so in their evidence.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import polars as pl

DATA_DIR = Path(__file__).resolve().parent / "data"
OBSERVABILITY_CSV = DATA_DIR / "aws_observability.csv"
FALLBACK_REGION = "us-east-1"

LOGS_INGESTION = {
    "STANDARD": "logs_ingestion_standard",
    "INFREQUENT_ACCESS": "logs_ingestion_infrequent_access",
}
LOGS_STORAGE = "logs_storage"
CUSTOM_METRIC = "custom_metric"

_CSV_SCHEMA: dict[str, pl.DataType] = {
    "region": pl.String(),
    "item": pl.String(),
    "unit": pl.String(),
    "tier_start": pl.Int64(),
    "price": pl.Float64(),
    "reference": pl.String(),
    "as_of": pl.String(),
}


@dataclass(frozen=True)
class LogPrices:
    """USD per GB ingested (by log class) and per GB-month stored, for one region."""

    ingestion_per_gb: dict[str, float]
    storage_per_gb_month: float
    price_region: str
    reference: str


@dataclass(frozen=True)
class MetricTiers:
    """Custom-metric tiers: (first metric of the tier, USD per metric-month), ascending."""

    tiers: tuple[tuple[int, float], ...]
    price_region: str
    reference: str


@functools.cache
def bundled_observability_prices() -> pl.DataFrame:
    """Every bundled CloudWatch price row (region, item, unit, tier_start, price, ...)."""
    return pl.read_csv(OBSERVABILITY_CSV, schema=_CSV_SCHEMA)


def _rows(region: str, item: str) -> tuple[pl.DataFrame, str]:
    table = bundled_observability_prices()
    here = table.filter((pl.col("region") == region) & (pl.col("item") == item))
    if here.height:
        return here.sort("tier_start"), region
    fallback = table.filter((pl.col("region") == FALLBACK_REGION) & (pl.col("item") == item))
    return fallback.sort("tier_start"), FALLBACK_REGION


def _reference(rows: pl.DataFrame, price_region: str, region: str) -> str:
    text = f"{rows['reference'][0]}, as of {rows['as_of'][0]}"
    if price_region != region:
        return f"no bundled price for {region}: {price_region} list price used; {text}"
    return text


def log_prices(region: str) -> LogPrices:
    """CloudWatch Logs prices for ``region``, all from one region where possible.

    The region's own figures when it has both Standard ingestion and storage, else
    us-east-1's. A log class the chosen region lacks takes us-east-1's rate, and the
    reference says so.
    """
    table = bundled_observability_prices()
    here = set(table.filter(pl.col("region") == region)["item"])
    price_region = region if {LOGS_STORAGE, LOGS_INGESTION["STANDARD"]} <= here else FALLBACK_REGION
    storage, _ = _rows(price_region, LOGS_STORAGE)
    standard, _ = _rows(price_region, LOGS_INGESTION["STANDARD"])
    ingestion: dict[str, float] = {}
    borrowed: list[str] = []
    for log_class, item in LOGS_INGESTION.items():
        rows, used = _rows(price_region, item)
        ingestion[log_class] = float(rows["price"][0])
        if used != price_region:
            borrowed.append(log_class)
    reference = _reference(standard, price_region, region)
    if borrowed:
        reference += f"; {', '.join(borrowed)} ingestion at the {FALLBACK_REGION} rate"
    return LogPrices(
        ingestion_per_gb=ingestion,
        storage_per_gb_month=float(storage["price"][0]),
        price_region=price_region,
        reference=reference,
    )


def custom_metric_tiers(region: str) -> MetricTiers:
    """The tiered custom-metric price for ``region`` (us-east-1's when not bundled)."""
    rows, price_region = _rows(region, CUSTOM_METRIC)
    tiers = tuple(
        (int(start), float(price))
        for start, price in zip(rows["tier_start"], rows["price"], strict=True)
    )
    return MetricTiers(tiers, price_region, _reference(rows, price_region, region))
