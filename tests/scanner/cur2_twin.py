"""The push-down's synthetic data set (``pushdown_data``) as AWS's CUR 2.0 data export writes
it: snake_case columns, ``resource_tags`` and ``product`` as Parquet maps, timestamps
without a zone (UTC).

Each FOCUS line item becomes the CUR 2.0 line item that gives it back: Savings Plan
covered usage as SavingsPlanCoveredUsage (its list cost unblended, its effective cost the
plan's), Reserved Instance usage as DiscountedUsage (the reservation's effective cost),
the rest as on-demand Usage; tags under "user_" keys, as CUR 2.0 writes user tags.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from tests.scanner import pushdown_data

PRODUCT_CODES = {
    "Amazon Elastic Compute Cloud": "AmazonEC2",
    "Amazon Relational Database Service": "AmazonRDS",
    "Amazon Simple Storage Service": "AmazonS3",
    "AWS Data Transfer": "AWSDataTransfer",
    "Amazon CloudWatch": "AmazonCloudWatch",
    "Elastic Load Balancing": "AWSELB",
}
_MAP = pa.map_(pa.string(), pa.string())


def _naive(column: str) -> pl.Expr:
    return pl.col(column).dt.replace_time_zone(None)


def frame(count: int = 48, hours: int = pushdown_data.HOURS) -> pl.DataFrame:
    """CUR 2.0 columns, with ``Tags`` (JSON) and ``ServiceName`` still to become maps."""
    focus = pushdown_data.frame(count, hours)
    sp = pl.col("CommitmentDiscountType") == "Savings Plan"
    ri = pl.col("CommitmentDiscountType") == "Reserved Instance"
    kind = (
        pl.when(sp)
        .then(pl.lit("SavingsPlanCoveredUsage"))
        .when(ri)
        .then(pl.lit("DiscountedUsage"))
        .otherwise(pl.lit("Usage"))
    )
    transfer = pl.col("ServiceName") == "AWS Data Transfer"
    return focus.select(
        pl.col("BillingAccountId").alias("bill_payer_account_id"),
        _naive("BillingPeriodStart").alias("bill_billing_period_start_date"),
        _naive("BillingPeriodEnd").alias("bill_billing_period_end_date"),
        pl.col("SubAccountId").alias("line_item_usage_account_id"),
        kind.alias("line_item_line_item_type"),
        pl.col("ResourceId").alias("line_item_resource_id"),
        pl.col("ServiceName").replace_strict(PRODUCT_CODES).alias("line_item_product_code"),
        _naive("ChargePeriodStart").alias("line_item_usage_start_date"),
        _naive("ChargePeriodEnd").alias("line_item_usage_end_date"),
        pl.col("PricingQuantity").alias("line_item_usage_amount"),
        pl.col("BillingCurrency").alias("line_item_currency_code"),
        pl.col("ListCost").alias("line_item_unblended_cost"),
        pl.col("ListCost").alias("pricing_public_on_demand_cost"),
        pl.when(sp | ri)
        .then(pl.lit("Reserved"))
        .otherwise(pl.lit("OnDemand"))
        .alias("pricing_term"),
        pl.col("PricingUnit").alias("pricing_unit"),
        pl.when(transfer)
        .then(pl.lit("Data Transfer"))
        .otherwise(pl.lit("Other"))
        .alias("product_product_family"),
        pl.col("RegionId").alias("product_region_code"),
        pl.col("SkuId").alias("product_sku"),
        pl.when(ri).then(pl.col("CommitmentDiscountId")).alias("reservation_reservation_a_r_n"),
        pl.when(ri).then(pl.col("EffectiveCost")).alias("reservation_effective_cost"),
        pl.when(sp).then(pl.col("CommitmentDiscountId")).alias("savings_plan_savings_plan_a_r_n"),
        pl.when(sp).then(pl.col("EffectiveCost")).alias("savings_plan_savings_plan_effective_cost"),
        "Tags",
        "ServiceName",
    )


def write_frame(rows: pl.DataFrame, path: Path) -> Path:
    """``frame``'s rows as the export's Parquet file (maps for tags and product)."""
    tags = [
        None if text is None else [(f"user_{k}", v) for k, v in json.loads(text).items()]
        for text in rows["Tags"].to_list()
    ]
    product = [[("product_name", name), ("servicecode", "x")] for name in rows["ServiceName"]]
    table = rows.drop("Tags", "ServiceName").to_arrow()
    table = table.append_column("resource_tags", pa.array(tags, type=_MAP))
    table = table.append_column("product", pa.array(product, type=_MAP))
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=20_000)
    return path


def write(path: Path, count: int = 48, hours: int = pushdown_data.HOURS) -> Path:
    return write_frame(frame(count, hours), path)
