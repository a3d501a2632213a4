"""Cloud Logging list prices: ingestion, its free tier, and retention beyond 30 days.

Read from ``data/gcp_observability.csv`` (sources in ``data/README.md``). Google prices
Cloud Logging the same in every location, so one row per item serves every log bucket.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import polars as pl

DATA_DIR = Path(__file__).resolve().parent / "data"
OBSERVABILITY_CSV = DATA_DIR / "gcp_observability.csv"


@dataclass(frozen=True)
class LoggingPrices:
    """USD per GiB ingested, GiB free per project a month, USD per GiB-month retained
    beyond the 30 days ingestion includes, and where the figures come from."""

    ingestion_per_gib: float
    free_gib_per_project_month: float
    retention_per_gib_month: float
    reference: str


@functools.cache
def logging_prices() -> LoggingPrices:
    rows = pl.read_csv(
        OBSERVABILITY_CSV,
        schema={
            "item": pl.String(),
            "unit": pl.String(),
            "price": pl.Float64(),
            "reference": pl.String(),
            "as_of": pl.String(),
        },
    )
    price = dict(zip(rows["item"].to_list(), rows["price"].to_list(), strict=True))
    return LoggingPrices(
        ingestion_per_gib=price["logging.ingestion"],
        free_gib_per_project_month=price["logging.free_ingestion"],
        retention_per_gib_month=price["logging.retention"],
        reference=str(rows.filter(pl.col("item") == "logging.ingestion")["reference"][0]),
    )
