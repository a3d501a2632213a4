"""Cloud Logging and Cloud Monitoring list prices.

Read from ``data/gcp_observability.csv`` (sources in ``data/README.md``). Google prices
both the same in every location, so one set of rows serves every log bucket and metric.

Cloud Monitoring bills user-defined metrics by volume, not per metric: custom metrics by
MiB ingested (a numeric point counts 8 bytes), Managed Service for Prometheus by samples.
``metric_series_tiers`` turns each into a price per series-month for a series written once
every ``SECONDS_PER_POINT`` seconds (an assumption, said in every price reference), so the
per-metric policies can price a series count.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl

from costscan.scanner.contracts.units import HOURS_PER_MONTH

DATA_DIR = Path(__file__).resolve().parent / "data"
OBSERVABILITY_CSV = DATA_DIR / "gcp_observability.csv"
# One point a minute: the Ops Agent's default collection interval and Managed Service for
# Prometheus's default scrape interval (PodMonitoring ``interval: 60s``); a series written
# more often costs proportionally more.
SECONDS_PER_POINT: Final = 60.0
POINTS_PER_SERIES_MONTH: Final = HOURS_PER_MONTH * 3600.0 / SECONDS_PER_POINT  # 43,800
BYTES_PER_POINT: Final = 8.0  # a numeric point, https://cloud.google.com/stackdriver/pricing
MIB: Final = float(2**20)
CUSTOM: Final = "custom"
PROMETHEUS: Final = "prometheus"


@dataclass(frozen=True)
class LoggingPrices:
    """USD per GiB ingested, GiB free per project a month, USD per GiB-month retained
    beyond the 30 days ingestion includes, and where the figures come from."""

    ingestion_per_gib: float
    free_gib_per_project_month: float
    retention_per_gib_month: float
    reference: str


@functools.cache
def _rows() -> pl.DataFrame:
    return pl.read_csv(
        OBSERVABILITY_CSV,
        schema={
            "item": pl.String(),
            "unit": pl.String(),
            "tier_start": pl.Float64(),
            "price": pl.Float64(),
            "reference": pl.String(),
            "as_of": pl.String(),
        },
    )


def _one(item: str) -> float:
    return float(_rows().filter(pl.col("item") == item)["price"][0])


@functools.cache
def logging_prices() -> LoggingPrices:
    return LoggingPrices(
        ingestion_per_gib=_one("logging.ingestion"),
        free_gib_per_project_month=_one("logging.free_ingestion"),
        retention_per_gib_month=_one("logging.retention"),
        reference=str(_rows().filter(pl.col("item") == "logging.ingestion")["reference"][0]),
    )


@functools.cache
def metric_series_tiers(kind: str) -> tuple[tuple[tuple[int, float], ...], str]:
    """((first series of the tier, USD per series-month), ...) ascending, and the reference,
    for ``custom`` or ``prometheus`` metrics written once every ``SECONDS_PER_POINT``."""
    if kind == CUSTOM:
        per_series = POINTS_PER_SERIES_MONTH * BYTES_PER_POINT / MIB  # MiB a series-month
    elif kind == PROMETHEUS:
        per_series = POINTS_PER_SERIES_MONTH / 1e6  # million samples a series-month
    else:
        raise ValueError(f"unknown metric kind {kind!r}")
    rows = _rows().filter(pl.col("item") == f"monitoring.{kind}").sort("tier_start")
    tiers = tuple(
        (round(start / per_series), price * per_series)
        for start, price in zip(rows["tier_start"].to_list(), rows["price"].to_list(), strict=True)
    )
    reference = (
        "https://cloud.google.com/stackdriver/pricing ("
        + ("MiB ingested, 8 bytes a point" if kind == CUSTOM else "samples ingested")
        + f"), per series written every {SECONDS_PER_POINT:.0f} s"
    )
    return tiers, reference
