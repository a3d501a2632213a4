"""Shared lazy building blocks for the billing-driven policies.

Every billing policy used to run its own group-by over the raw line items (10M+ rows),
each hashing string keys and taking ``first()`` of string columns. Here one canonical
rollup, per resource, its descriptive columns and UTC day (``daily_rollup``), reduces the
line items once; the policies derive their figures from it. The plan is built the same
way for every caller, so ``pl.collect_all`` (common-subplan elimination, on by default)
computes it once and every policy reads the small result.

Why it is exact:

- sums, counts, minima and maxima of a day-level group add up to those of any coarser
  group (cost, quantity, line items, first and last charge, longest charge period);
- distinct ChargePeriodStart values are the one figure that does not add up across
  groups. The rollup keeps, per group, a 24-bit mask of the hours of the day its
  hour-aligned starts fall on: OR-ing the masks of a coarser group per day and counting
  the bits gives its distinct aligned starts exactly. Starts that are not on the hour
  (or null) are rare and counted directly from the line items (``distinct_starts``); they
  can never equal an aligned start, so the two counts add up.

The line items are grouped by ResourceId, a 64-bit fingerprint of the other keys and
the day (see ``daily_rollup``): one fixed-width key instead of 13 strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import polars as pl

HOUR_US: Final = 3_600_000_000
DAY_US: Final = 24 * HOUR_US

# The rollup's grain besides the day. Descriptive columns (names, region, provider,
# tags) almost always follow the resource, so keying on them costs no extra groups and
# lets policies read them from the rollup instead of a first() over the line items.
ROLLUP_KEYS: Final = (
    "ResourceId",
    "SubAccountId",
    "BillingAccountId",
    "ProviderName",
    "ServiceName",
    "ServiceCategory",
    "ChargeCategory",
    "PricingCategory",
    "ConsumedUnit",
    "PricingUnit",
    "RegionId",
    "ResourceName",
    "ResourceType",
    "Tags",
)


def _start_us() -> pl.Expr:
    return pl.col("ChargePeriodStart").dt.epoch("us")


def _irregular_start() -> pl.Expr:
    """True where ChargePeriodStart is null or not on the hour (the mask cannot hold it)."""
    return (_start_us() % HOUR_US != 0).fill_null(True)


# The descriptive keys (all of ROLLUP_KEYS but ResourceId) folded into one 64-bit
# fingerprint; the multiplier is odd, so two rows that differ in a single key never collide.
_DESCRIPTIVE_KEYS: Final = ROLLUP_KEYS[1:]
_FINGERPRINT_MULTIPLIER: Final = 0x9E3779B97F4A7C15


def _descriptive_fingerprint() -> pl.Expr:
    """Per row, a polynomial over the hashes of its descriptive keys (null hashes to its
    own value), wrapping at 64 bits."""
    folded = pl.lit(0, dtype=pl.UInt64)
    for key in _DESCRIPTIVE_KEYS:
        folded = folded * pl.lit(_FINGERPRINT_MULTIPLIER, dtype=pl.UInt64) + pl.col(key).hash()
    return folded.alias("_descriptive")


def daily_rollup(billing: pl.LazyFrame) -> pl.LazyFrame:
    """Billing line items summed per ``ROLLUP_KEYS`` and UTC day of ChargePeriodStart.

    Columns: the keys (String), ``day`` (UTC midnight; null for rows without a
    ChargePeriodStart), ``cost`` (EffectiveCost, else BilledCost), ``effective_cost``,
    ``billed_cost``, ``quantity`` (ConsumedQuantity, else PricingQuantity), ``line_items``,
    ``first_start``, ``last_end``, ``period_length`` (longest ChargePeriodEnd -
    ChargePeriodStart) and ``hour_mask`` (bit h set: a start on the hour h of that day).

    Grouping by 14 string keys costs about three times a single key (each is cast and
    hashed per row), so the line items are grouped by ResourceId, one 64-bit fingerprint
    of the 13 descriptive keys and the day. Two key tuples merge only if they share the
    ResourceId and their fingerprints collide (odds about 2^-64 per pair of tuples of one
    resource, and a resource has a handful). The descriptive strings come from a second
    aggregation per (ResourceId, fingerprint), a few per resource, joined back.
    """
    start_us = _start_us()
    hour_bit = pl.lit(2, dtype=pl.UInt32).pow((start_us // HOUR_US % 24).cast(pl.UInt32))
    keys: list[pl.Expr] = [pl.col("ResourceId"), _descriptive_fingerprint()]
    sums = billing.group_by(*keys, (start_us // DAY_US).alias("_day")).agg(
        pl.coalesce("EffectiveCost", "BilledCost").sum().alias("cost"),
        pl.col("EffectiveCost").sum().alias("effective_cost"),
        pl.col("BilledCost").sum().alias("billed_cost"),
        pl.coalesce("ConsumedQuantity", "PricingQuantity").sum().alias("quantity"),
        pl.len().alias("line_items"),
        pl.col("ChargePeriodStart").min().alias("first_start"),
        pl.col("ChargePeriodEnd").max().alias("last_end"),
        (pl.col("ChargePeriodEnd") - pl.col("ChargePeriodStart")).max().alias("period_length"),
        # OR with 0 changes nothing: irregular starts leave the mask alone (a plain
        # expression aggregates on polars' fast path, a filtered one does not).
        pl.when(_irregular_start())
        .then(pl.lit(0, dtype=pl.UInt32))
        .otherwise(hour_bit)
        .bitwise_or()
        .alias("hour_mask"),
    )
    # Every row of a fingerprint holds the same keys, so first() is the keys themselves.
    names = billing.group_by(*keys).agg(pl.col(key).first() for key in _DESCRIPTIVE_KEYS)
    return sums.join(
        names, on=["ResourceId", "_descriptive"], how="inner", nulls_equal=True
    ).select(
        *ROLLUP_KEYS,
        "_day",
        (pl.col("_day") * DAY_US).cast(pl.Datetime("us", "UTC")).alias("day"),
        "cost",
        "effective_cost",
        "billed_cost",
        "quantity",
        "line_items",
        "first_start",
        "last_end",
        "period_length",
        "hour_mask",
    )


# The rollup plan handed out per billing scan, so every policy of a run gets the same
# cached node and ``pl.collect_all`` computes it once (the streaming engine does not
# find repeated subplans by itself). Keyed by the scan object, kept with it so an id is
# never reused for another scan; a run holds one or two scans.
_SHARED: dict[int, tuple[pl.LazyFrame, pl.LazyFrame]] = {}
_SHARED_MAX: Final = 4


def shared_rollup(billing: pl.LazyFrame) -> pl.LazyFrame:
    """``daily_rollup(billing)`` behind one cache node shared by every caller with
    the same ``billing`` scan."""
    held = _SHARED.get(id(billing))
    if held is not None and held[0] is billing:
        return held[1]
    if len(_SHARED) >= _SHARED_MAX:
        _SHARED.clear()
    rollup = daily_rollup(billing).cache()
    _SHARED[id(billing)] = (billing, rollup)
    return rollup


def distinct_starts(
    rollup: pl.LazyFrame, billing: pl.LazyFrame, keys: Sequence[str], alias: str
) -> pl.LazyFrame:
    """Distinct ChargePeriodStart values per ``keys``, as ``n_unique`` over the line items.

    ``rollup`` and ``billing`` must be filtered alike (the same rows). Aligned starts come
    from the rollup's hour masks (OR per key and day, bits counted, summed over days);
    irregular ones (not on the hour, or null) from the line items that have them.
    """
    key_list = list(keys)
    aligned = (
        rollup.group_by(*key_list, "_day")
        .agg(pl.col("hour_mask").bitwise_or())
        .group_by(key_list)
        .agg(pl.col("hour_mask").bitwise_count_ones().cast(pl.Int64).sum().alias(alias))
    )
    irregular = (
        billing.filter(_irregular_start())
        .group_by(key_list)
        .agg(pl.col("ChargePeriodStart").n_unique().cast(pl.Int64).alias("_irregular"))
    )
    return aligned.join(irregular, on=key_list, how="full", nulls_equal=True, coalesce=True).select(
        *key_list,
        (pl.col(alias).fill_null(0) + pl.col("_irregular").fill_null(0)).alias(alias),
    )


def earliest(column: str, *, ignore_nulls: bool = False) -> pl.Expr:
    """Inside an aggregation over rollup rows: ``column`` of the earliest charge (by
    first_start, then the value), the rollup's stand-in for ``first()`` in file order."""
    ordered = pl.col(column).sort_by("first_start", column, nulls_last=True)
    return (ordered.drop_nulls() if ignore_nulls else ordered).first()
