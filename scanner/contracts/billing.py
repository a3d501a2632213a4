"""What the pipeline's billing rollup is, for everyone who reads it.

The billing line items are reduced once per run (``costscan.scanner.pipeline.billing_rollup``
builds it) to a rollup per key tuple and UTC day; the billing policies, the spend block, the
top resources and billed prices read this instead of the line items. This module is the
contract between the builder and its readers: the rollup's frames (schemas in
``schema.BILLING_DAILY``, ``BILLING_IRREGULAR_STARTS``, ``BILLING_COMMITMENTS``), how its
hour masks are encoded, and ``BillingSource``, the read export files a provider hands over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import polars as pl

from costscan.scanner.contracts import schema

HOUR_US: Final = 3_600_000_000
DAY_US: Final = 24 * HOUR_US


@dataclass
class BillingSource:
    """A lazily read set of billing files, conformed to ``schema.BILLING``."""

    scan: pl.LazyFrame
    rejections: list[schema.Rejection]
    source_format: str  # focus | cur | cur2 | gcp | azure, or "mixed"
    files: list[str]
    # file -> what it was read as ("focus-1.2", "cur", ...), for the run's log
    file_formats: dict[str, str] = field(default_factory=dict)


def start_us() -> pl.Expr:
    """ChargePeriodStart in microseconds since the epoch (null stays null)."""
    return pl.col("ChargePeriodStart").dt.epoch("us")


def hour_bit(micros: pl.Expr) -> pl.Expr:
    """Bit h (h = 0..23) set for a start (µs since the epoch) in the hour h of its UTC day:
    the unit of the rollup's ``hour_mask``."""
    return pl.lit(2, dtype=pl.UInt32).pow((micros // HOUR_US % 24).cast(pl.UInt32))


def earliest(column: str, *, ignore_nulls: bool = False) -> pl.Expr:
    """Inside an aggregation over rollup rows (daily or commitments): ``column`` of the
    earliest charge, the rollup's stand-in for ``first()`` over the line items.
    ``charge_order`` numbers the rows by first charge, then by the position of their first
    line item in the export, so this is one pass per group, not a sort, and ties fall in
    file order."""
    order = pl.col("charge_order")
    if ignore_nulls:
        order = pl.when(pl.col(column).is_not_null()).then(order)
    return pl.col(column).min_by(order)


@dataclass(frozen=True)
class BillingRollup:
    """``daily`` (schema.BILLING_DAILY), ``irregular_starts`` (schema.
    BILLING_IRREGULAR_STARTS), ``commitments`` (schema.BILLING_COMMITMENTS) and the spend
    totals of one billing frame."""

    daily: pl.DataFrame
    irregular_starts: pl.DataFrame
    commitments: pl.DataFrame
    spend: dict[str, Any]

    @staticmethod
    def empty() -> BillingRollup:
        """The rollup of no line items at all."""
        return BillingRollup(
            daily=schema.empty(schema.BILLING_DAILY),
            irregular_starts=schema.empty(schema.BILLING_IRREGULAR_STARTS),
            commitments=schema.empty(schema.BILLING_COMMITMENTS),
            spend={
                "billed_cost": 0.0,
                "effective_cost": 0.0,
                "period_start": None,
                "period_end": None,
            },
        )

    def accounts(self) -> list[str]:
        """Every account the line items name (SubAccountId, else BillingAccountId)."""
        column = pl.coalesce("SubAccountId", "BillingAccountId")
        return sorted(self.daily.select(column.drop_nulls().unique()).to_series().to_list())

    def regions(self) -> list[str]:
        return sorted(self.daily["RegionId"].drop_nulls().unique().to_list())

    def top_resources(self, limit: int = 10) -> list[dict[str, Any]]:
        """The ``limit`` resources with the highest effective cost (context, not findings).

        Each item: resource_id, resource_name, service, account (SubAccountId, else
        BillingAccountId), billed_cost, effective_cost; most expensive first (ties by
        billed cost, then resource id). Names are those of the earliest charge that has
        one. Line items without a ResourceId (taxes, support, credits at account level)
        belong to no resource and are left out.
        """
        if limit <= 0:
            return []
        top = (
            self.daily.lazy()
            .filter(pl.col("ResourceId").is_not_null())
            .group_by("ResourceId")
            .agg(
                pl.col("billed_cost").sum(),
                pl.col("effective_cost").sum(),
                earliest("ResourceName", ignore_nulls=True).alias("resource_name"),
                earliest("ServiceName", ignore_nulls=True).alias("service"),
                earliest("SubAccountId", ignore_nulls=True).alias("_sub_account"),
                earliest("BillingAccountId", ignore_nulls=True).alias("_billing_account"),
            )
            .sort(
                ["effective_cost", "billed_cost", "ResourceId"],
                descending=[True, True, False],
                nulls_last=True,
            )
            .head(limit)
            .select(
                pl.col("ResourceId").alias("resource_id"),
                "resource_name",
                "service",
                pl.coalesce("_sub_account", "_billing_account").alias("account"),
                pl.col("billed_cost").fill_null(0.0),
                pl.col("effective_cost").fill_null(0.0),
            )
            .collect()
        )
        return list(top.iter_rows(named=True))
