"""Synthetic FOCUS 1.0 Parquet for the push-down's equivalence tests.

A small twin of benchmarks/focus_synth.py (which needs numpy, a benchmark extra), built
with polars alone: resources billed every hour over September and October 2024, in
several accounts, services and regions; a Savings Plan and a Reserved Instance covering
some compute (the RI unused one hour in three); idle resources; internet data transfer;
Tags as JSON text, some without an owner; and a resource that jumps in late October.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

START = datetime(2024, 9, 1, tzinfo=UTC)
HOURS = 61 * 24
PAYER = "999900000001"
SERVICES = (
    ("Amazon Elastic Compute Cloud", "Compute", "Hrs"),
    ("Amazon Relational Database Service", "Databases", "Hrs"),
    ("Amazon Simple Storage Service", "Storage", "GB-Mo"),
    ("AWS Data Transfer", "Networking", "GB"),
    ("Amazon CloudWatch", "Management and Governance", "Metrics"),
    ("Elastic Load Balancing", "Networking", "LCU-Hrs"),
)
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-1")
SP_ARN = "arn:aws:savingsplans::999900000001:savingsplan/sp-01"


def resources(count: int) -> pl.DataFrame:
    rows = []
    for n in range(count):
        service, category, unit = SERVICES[n % len(SERVICES)]
        tags = {"env": ("prod", "staging", "dev")[n % 3]}
        if n % 4:
            tags["owner"] = f"team-{n % 5}"
        rows.append(
            {
                "n": n,
                "ResourceId": f"arn:aws:synthetic:{REGIONS[n % 3]}:10000000000{n % 4}:r/{n:04d}",
                "ResourceName": f"res-{n:04d}",
                "SubAccountId": f"10000000000{n % 4}",
                "RegionId": REGIONS[n % 3],
                "ServiceName": service,
                "ServiceCategory": category,
                "PricingUnit": unit,
                "Tags": json.dumps(tags),
                "scale": 0.02 + (n * 37 % 101) / 40.0,
                "idle": n % 11 == 5,
                "committed": category == "Compute" and n % 2 == 0,
                "sp": n % 4 == 0,
            }
        )
    return pl.DataFrame(rows)


def frame(count: int = 48, hours: int = HOURS, currency: str = "USD") -> pl.DataFrame:
    """FOCUS 1.0 line items: every resource once an hour over ``hours`` hours."""
    hour = pl.int_range(0, hours, dtype=pl.Int64, eager=True).alias("hour").to_frame()
    grid = resources(count).join(hour, how="cross")
    start = (pl.col("hour") * 3_600_000_000 + int(START.timestamp() * 1_000_000)).cast(
        pl.Datetime("us", "UTC")
    )
    # Deterministic noise per resource and hour; a late-October jump for every 7th.
    noise = 0.8 + ((pl.col("hour") * 7919 + pl.col("n") * 104729) % 400) / 1000.0
    spike = pl.when((pl.col("hour") > hours - 10 * 24) & (pl.col("n") % 7 == 0)).then(6.0)
    list_cost = pl.col("scale") * noise * spike.otherwise(1.0)
    committed = pl.col("committed")
    unused = committed & ~pl.col("sp") & (pl.col("hour") % 3 == 0)
    egress = pl.col("ServiceName") == "AWS Data Transfer"
    usage = pl.when(pl.col("idle")).then(0.004).otherwise(noise * 5)

    def when_committed(sp: str, ri: str) -> pl.Expr:
        return pl.when(committed).then(pl.when(pl.col("sp")).then(pl.lit(sp)).otherwise(pl.lit(ri)))

    return grid.select(
        pl.when(committed).then(0.0).otherwise(list_cost).alias("BilledCost"),
        pl.when(committed).then(list_cost * 0.62).otherwise(list_cost).alias("EffectiveCost"),
        list_cost.alias("ListCost"),
        list_cost.alias("ContractedCost"),
        pl.lit(PAYER).alias("BillingAccountId"),
        "SubAccountId",
        pl.lit("AWS").alias("ProviderName"),
        "ServiceName",
        "ServiceCategory",
        "ResourceId",
        "ResourceName",
        pl.lit(None, dtype=pl.String).alias("ResourceType"),
        "RegionId",
        pl.lit("Usage").alias("ChargeCategory"),
        pl.lit(None, dtype=pl.String).alias("ChargeClass"),
        pl.when(egress)
        .then(pl.lit("$0.09 per GB - first 10 TB / month data transfer out"))
        .otherwise(pl.col("ServiceName") + " usage")
        .alias("ChargeDescription"),
        start.alias("ChargePeriodStart"),
        start.dt.offset_by("1h").alias("ChargePeriodEnd"),
        start.dt.truncate("1mo").alias("BillingPeriodStart"),
        start.dt.truncate("1mo").dt.offset_by("1mo").alias("BillingPeriodEnd"),
        pl.when(committed)
        .then(pl.lit("Committed"))
        .otherwise(pl.lit("Standard"))
        .alias("PricingCategory"),
        usage.alias("PricingQuantity"),
        "PricingUnit",
        usage.alias("ConsumedQuantity"),
        pl.col("PricingUnit").alias("ConsumedUnit"),
        when_committed(SP_ARN, "ri-0007").alias("CommitmentDiscountId"),
        when_committed("Savings Plan", "Reserved Instance").alias("CommitmentDiscountType"),
        when_committed("Spend", "Usage").alias("CommitmentDiscountCategory"),
        pl.when(committed)
        .then(pl.when(unused).then(pl.lit("Unused")).otherwise(pl.lit("Used")))
        .alias("CommitmentDiscountStatus"),
        pl.when(egress)
        .then(pl.lit("USE1-DataTransfer-Out-Bytes"))
        .otherwise(pl.lit("SKU") + pl.col("n").cast(pl.String))
        .alias("SkuId"),
        "Tags",
        pl.lit(currency).alias("BillingCurrency"),
    )


def write(path: Path, count: int = 48, hours: int = HOURS, currency: str = "USD") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame(count, hours, currency).write_parquet(path, row_group_size=20_000)
    return path
