"""Shared lazy building blocks for the billing-driven policies.

Every billing policy reads the run's billing rollup (``Inventory.billing_rollup``,
scanner/billing_rollup.py): the line items reduced once per key tuple and UTC day, so a
policy's group-by runs over a few hundred thousand rows instead of 10M+ line items. Any
filter on the rollup's key columns selects exactly the rollup rows of the line items the
same filter would select.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from costscan.scanner.contracts.billing import earliest
from costscan.scanner.contracts.inventory import InventoryView

__all__ = ["commitments", "daily", "distinct_starts", "earliest", "irregular_starts"]


def daily(inv: InventoryView) -> pl.LazyFrame:
    """The billing rollup's rows (schema.BILLING_DAILY), lazy."""
    return inv.billing_rollup().daily.lazy()


def commitments(inv: InventoryView) -> pl.LazyFrame:
    """Commitment line items per commitment and status (schema.BILLING_COMMITMENTS), lazy."""
    return inv.billing_rollup().commitments.lazy()


def irregular_starts(inv: InventoryView) -> pl.LazyFrame:
    """Charge starts not on the hour, per key tuple (schema.BILLING_IRREGULAR_STARTS)."""
    return inv.billing_rollup().irregular_starts.lazy()


def distinct_starts(
    rows: pl.LazyFrame, irregular: pl.LazyFrame, keys: Sequence[str], alias: str
) -> pl.LazyFrame:
    """Distinct ChargePeriodStart values per ``keys``, as ``n_unique`` over the line items
    the rollup ``rows`` stand for.

    Aligned starts come from the hour masks (OR per key and day, bits counted, summed over
    days); irregular ones (not on the hour, or null) from ``irregular``, the rollup's
    side table, for the key tuples among ``rows``. Exact when ``rows`` is the rollup
    filtered on its key columns only: the side table is per key tuple over every day, so
    a filter on the day would count irregular starts of days it left out.
    """
    key_list = list(keys)
    aligned = (
        rows.group_by(*key_list, "day_index")
        .agg(pl.col("hour_mask").bitwise_or())
        .group_by(key_list)
        .agg(pl.col("hour_mask").bitwise_count_ones().cast(pl.Int64).sum().alias(alias))
    )
    extra = (
        rows.select("group_key", *key_list)
        .unique()
        .join(irregular, on="group_key", how="inner")
        .group_by(key_list)
        .agg(pl.col("ChargePeriodStart").n_unique().cast(pl.Int64).alias("_irregular"))
    )
    return aligned.join(extra, on=key_list, how="full", nulls_equal=True, coalesce=True).select(
        *key_list,
        (pl.col(alias).fill_null(0) + pl.col("_irregular").fill_null(0)).alias(alias),
    )
