"""Actual costs from billing data win over list prices, wherever a resource id matches.

With ``--billing`` on a cloud provider, each scanned resource whose id appears in the
billing frame's ResourceId gets its price from what it was billed:

    hourly_price  = sum(EffectiveCost) / distinct billed hours      (compute, network_idle)
    monthly_price = sum(EffectiveCost) / distinct billed hours × 730 (volumes, snapshots)

EffectiveCost is FOCUS's amortized cost after discounts, so a resource already covered by
a reservation or savings plan shows its discounted rate. Billing ids are often ARNs
(``arn:aws:ec2:us-east-1:123:instance/i-0abc``) while scanners see ``i-0abc``: the last
``/`` or ``:`` segment is matched too. ``price_source`` becomes ``billing`` on every
resource priced this way.
"""

from __future__ import annotations

import polars as pl

from costscan.scanner.contracts import billing
from costscan.scanner.contracts.billing import BillingRollup
from costscan.scanner.contracts.inventory import Inventory
from costscan.scanner.contracts.units import HOURS_PER_MONTH
from costscan.scanner.contracts.vocab import last_segment

# frame -> (price column, True when the column is monthly)
PRICED_FRAMES: dict[str, tuple[str, bool]] = {
    "compute": ("hourly_price", False),
    "network_idle": ("hourly_price", False),
    "volumes": ("monthly_price", True),
    "snapshots": ("monthly_price", True),
}


def billed_hourly_costs(rollup: BillingRollup) -> pl.LazyFrame:
    """One row per billed resource id (full id and its last segment): cost per billed hour.

    From the run's billing rollup (scanner/billing_rollup.py), not the line items. Billed
    hours are the distinct clock hours of ChargePeriodStart (a start without one counts
    once, as ``n_unique`` would count it): per resource and day, the hour masks of its
    rows OR-ed with the hours of its starts that are off the hour, bits counted.
    """
    usage = pl.col("ResourceId").is_not_null() & (
        pl.col("ChargeCategory").is_null() | (pl.col("ChargeCategory") == "Usage")
    )
    rows = rollup.daily.lazy().filter(usage)
    start_us = billing.start_us()
    off_the_hour = (
        rows.select("group_key", "ResourceId")
        .unique()
        .join(rollup.irregular_starts.lazy(), on="group_key")
    )
    hours_of_starts = off_the_hour.filter(pl.col("ChargePeriodStart").is_not_null()).select(
        "ResourceId",
        (start_us // billing.DAY_US).alias("day_index"),
        billing.hour_bit(start_us).alias("hour_mask"),
    )
    clock_hours = (
        pl.concat(
            [
                rows.filter(pl.col("day_index").is_not_null()).select(
                    "ResourceId", "day_index", "hour_mask"
                ),
                hours_of_starts,
            ]
        )
        .group_by("ResourceId", "day_index")
        .agg(pl.col("hour_mask").bitwise_or())
        .group_by("ResourceId")
        .agg(pl.col("hour_mask").bitwise_count_ones().cast(pl.Int64).sum().alias("hours"))
    )
    without_start = (
        off_the_hour.filter(pl.col("ChargePeriodStart").is_null())
        .select("ResourceId")
        .unique()
        .with_columns(pl.lit(1, dtype=pl.Int64).alias("_no_start"))
    )
    per_resource = (
        rows.group_by("ResourceId")
        .agg(pl.col("cost").sum())
        .join(clock_hours, on="ResourceId", how="left")
        .join(without_start, on="ResourceId", how="left")
        .with_columns(
            (pl.col("hours").fill_null(0) + pl.col("_no_start").fill_null(0)).alias("hours")
        )
    )
    per_resource = per_resource.filter(pl.col("hours") > 0).with_columns(
        (pl.col("cost") / pl.col("hours")).alias("billed_hourly")
    )
    short = per_resource.with_columns(last_segment(pl.col("ResourceId")).alias("ResourceId"))
    return (
        pl.concat([per_resource, short], how="vertical")
        .drop_nulls("ResourceId")
        .unique("ResourceId", keep="first", maintain_order=True)
        .select(pl.col("ResourceId").alias("resource_id"), "billed_hourly")
    )


def apply_billed_prices(inv: Inventory) -> int:
    """Replace list prices with billed ones where ids match; returns resources repriced."""
    if not inv.has("billing"):
        return 0
    costs = billed_hourly_costs(inv.billing_rollup()).collect()
    if costs.height == 0:
        return 0
    repriced = 0
    for name, (column, monthly) in PRICED_FRAMES.items():
        if not inv.has(name) or name in inv.scans:
            continue
        frame = inv.frames[name]
        joined = frame.join(costs, on="resource_id", how="left")
        billed = pl.col("billed_hourly") * (HOURS_PER_MONTH if monthly else 1.0)
        matched = pl.col("billed_hourly").is_not_null()
        repriced += int(joined.select(matched.sum()).item())
        inv.frames[name] = joined.with_columns(
            pl.when(matched).then(billed).otherwise(pl.col(column)).alias(column),
            pl.when(matched)
            .then(pl.lit("billing"))
            .otherwise(pl.col("price_source"))
            .alias("price_source"),
        ).drop("billed_hourly")
    return repriced
