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

from scanner.inventory import Inventory

HOURS_PER_MONTH = 730.0  # AWS's hours-per-month convention

# frame -> (price column, True when the column is monthly)
PRICED_FRAMES: dict[str, tuple[str, bool]] = {
    "compute": ("hourly_price", False),
    "network_idle": ("hourly_price", False),
    "volumes": ("monthly_price", True),
    "snapshots": ("monthly_price", True),
}


def billed_hourly_costs(billing: pl.LazyFrame) -> pl.LazyFrame:
    """One row per billed resource id (full id and its last segment): cost per billed hour."""
    usage = billing.filter(
        pl.col("ResourceId").is_not_null()
        & (pl.col("ChargeCategory").is_null() | (pl.col("ChargeCategory") == "Usage"))
    )
    per_resource = usage.group_by("ResourceId").agg(
        pl.col("EffectiveCost").fill_null(pl.col("BilledCost")).sum().alias("cost"),
        pl.col("ChargePeriodStart").dt.truncate("1h").n_unique().alias("hours"),
    )
    per_resource = per_resource.filter(pl.col("hours") > 0).with_columns(
        (pl.col("cost") / pl.col("hours")).alias("billed_hourly")
    )
    short = per_resource.with_columns(
        pl.col("ResourceId").str.extract(r"([^/:]+)$", 1).alias("ResourceId")
    )
    return (
        pl.concat([per_resource, short], how="vertical")
        .drop_nulls("ResourceId")
        .unique("ResourceId", keep="first")
        .select(pl.col("ResourceId").alias("resource_id"), "billed_hourly")
    )


def apply_billed_prices(inv: Inventory) -> int:
    """Replace list prices with billed ones where ids match; returns resources repriced."""
    if not inv.has("billing"):
        return 0
    costs = billed_hourly_costs(inv.lazy("billing")).collect()
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
