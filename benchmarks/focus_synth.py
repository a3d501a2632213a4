"""Synthetic FOCUS 1.2 billing data with realistic shape, for the billing benchmark.

Cardinalities follow a mid-sized AWS organisation: a few thousand resources spread over a
few dozen services, five member accounts under one payer, six regions, hourly
ChargePeriodStart over about two months (September and October 2024), about a fifth of
compute rows covered by a Savings Plan or Reserved Instance (FOCUS PricingCategory
"Committed"; the reserved instance unused one hour in three), internet data transfer
rows priced per GB, and Tags as JSON text of which a share
lacks the keys a tagging policy asks for. Costs are log-normal per resource, so a few
resources dominate spend, as in real bills.

    python benchmarks/focus_synth.py --rows 10000000 --out benchmarks/out/focus-10m.parquet
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

START = datetime(2024, 9, 1, tzinfo=UTC)
HOURS = 61 * 24  # September and October
PAYER = "999900000001"
ACCOUNTS = [f"1000000000{n:02d}" for n in range(5)]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "sa-east-1"]
# (service, FOCUS ServiceCategory, pricing unit, share of resources)
SERVICES: list[tuple[str, str, str]] = [
    ("Amazon Elastic Compute Cloud", "Compute", "Hrs"),
    ("Amazon Elastic Block Store", "Storage", "GB-Mo"),
    ("Amazon Simple Storage Service", "Storage", "GB-Mo"),
    ("Amazon Relational Database Service", "Databases", "Hrs"),
    ("Amazon DynamoDB", "Databases", "ReadRequestUnits"),
    ("Amazon ElastiCache", "Databases", "Hrs"),
    ("AWS Lambda", "Compute", "Lambda-GB-Second"),
    ("Amazon Elastic Container Service", "Compute", "vCPU-Hours"),
    ("Amazon Elastic Kubernetes Service", "Compute", "Hrs"),
    ("Amazon CloudFront", "Networking", "GB"),
    ("AWS Data Transfer", "Networking", "GB"),
    ("Amazon Virtual Private Cloud", "Networking", "Hrs"),
    ("Elastic Load Balancing", "Networking", "LCU-Hrs"),
    ("Amazon Route 53", "Networking", "Queries"),
    ("Amazon CloudWatch", "Management and Governance", "Metrics"),
    ("AWS Config", "Management and Governance", "ConfigurationItemRecorded"),
    ("AWS CloudTrail", "Management and Governance", "Events"),
    ("Amazon Simple Queue Service", "Integration", "Requests"),
    ("Amazon Simple Notification Service", "Integration", "Requests"),
    ("Amazon Kinesis", "Analytics", "ShardHour"),
    ("Amazon Athena", "Analytics", "TB"),
    ("AWS Glue", "Analytics", "DPU-Hour"),
    ("Amazon OpenSearch Service", "Analytics", "Hrs"),
    ("Amazon Redshift", "Databases", "Hrs"),
    ("Amazon SageMaker", "AI and Machine Learning", "Hrs"),
    ("Amazon Bedrock", "AI and Machine Learning", "Tokens"),
    ("AWS Key Management Service", "Security", "Requests"),
    ("AWS Secrets Manager", "Security", "Secrets"),
    ("AWS WAF", "Security", "Requests"),
    ("Amazon GuardDuty", "Security", "Events"),
    ("Amazon Elastic File System", "Storage", "GB-Mo"),
    ("AWS Backup", "Storage", "GB-Mo"),
    ("Amazon API Gateway", "Networking", "Requests"),
    ("AWS Step Functions", "Integration", "StateTransitions"),
    ("Amazon EventBridge", "Integration", "Events"),
    ("Amazon Elastic Container Registry", "Storage", "GB-Mo"),
]
TEAMS = ["web", "data", "platform", "ml", "payments", "search", "mobile", "growth"]
COMPUTE_LIKE = {"Compute", "Databases"}


def resources(count: int, rng: np.random.Generator) -> pl.DataFrame:
    """One row per resource: its service, account, region, tags, cost scale and usage."""
    service_weights = rng.dirichlet(np.full(len(SERVICES), 0.7))
    service_idx = rng.choice(len(SERVICES), size=count, p=service_weights)
    tags = []
    for n in range(count):
        tag: dict[str, str] = {"env": ["prod", "staging", "dev"][n % 3]}
        # About 30% lack "owner" and 20% lack "cost_center": untagged spend to find.
        if rng.random() > 0.30:
            tag["owner"] = TEAMS[n % len(TEAMS)]
        if rng.random() > 0.20:
            tag["cost_center"] = f"cc-{n % 40:03d}"
        tags.append(json.dumps(tag) if rng.random() > 0.05 else None)
    services = [SERVICES[i] for i in service_idx]
    category = [s[1] for s in services]
    committed = rng.random(count) < 0.22
    return pl.DataFrame(
        {
            "ResourceId": [f"arn:aws:synthetic:res/{n:06d}" for n in range(count)],
            "ResourceName": [f"res-{n:06d}" for n in range(count)],
            "ServiceName": [s[0] for s in services],
            "ServiceCategory": category,
            "PricingUnit": [s[2] for s in services],
            "SubAccountId": [ACCOUNTS[i] for i in rng.integers(0, len(ACCOUNTS), count)],
            "RegionId": [REGIONS[i] for i in rng.integers(0, len(REGIONS), count)],
            "Tags": tags,
            # hourly list cost scale per resource: log-normal, a heavy tail as in real bills
            "scale": rng.lognormal(mean=-2.0, sigma=1.4, size=count),
            # idle resources: billed every hour with almost no usage
            "idle": rng.random(count) < 0.06,
            "committed": committed & np.isin(category, list(COMPUTE_LIKE)),
            "sku": [f"SKU{n % 900:04d}" for n in range(count)],
        }
    ).with_columns((pl.col("ServiceName") + " usage").alias("usage_description"))


def chunk(
    res: pl.DataFrame,
    rows: int,
    rng: np.random.Generator,
    *,
    first_row: int = 0,
    always_on: int = 0,
    hours: int = HOURS,
) -> pl.DataFrame:
    """``rows`` line items, from global row ``first_row`` on.

    The first ``always_on × hours`` rows of the file bill resources 0 .. always_on - 1 once
    every hour of the period (standing hourly charges, as load balancers, NAT gateways,
    databases and streams have); the rest are drawn at random over all resources and hours.

    String columns are chosen with polars expressions, not ``np.where``: numpy would build
    fixed-width unicode arrays (4 bytes a character) and convert them back, which was a
    third of the time per chunk.
    """
    index = np.arange(first_row, first_row + rows, dtype=np.int64)
    steady = index < always_on * HOURS
    pick = np.where(steady, index % max(always_on, 1), rng.integers(0, res.height, rows))
    hour = np.where(steady, index // max(always_on, 1), rng.integers(0, hours, rows))
    base = res[pick]
    noise = rng.lognormal(mean=0.0, sigma=0.25, size=rows)
    # A late-October jump for a few resources, so week-over-week anomalies exist.
    spike = (hour > hours - 10 * 24) & (pick % 97 == 0)
    list_cost = base["scale"].to_numpy() * noise * np.where(spike, 6.0, 1.0)
    committed = base["committed"].to_numpy()
    effective = np.where(committed, list_cost * 0.62, list_cost)
    billed = np.where(committed, 0.0, list_cost)
    usage = np.where(base["idle"].to_numpy(), rng.random(rows) * 0.01, rng.random(rows) * 10 + 0.5)
    start = pl.Series(hour, dtype=pl.Int64) * 3_600_000_000 + int(START.timestamp() * 1_000_000)
    start_ts = start.cast(pl.Datetime("us", "UTC"))
    sp = pick % 2 == 0
    # The reserved instance sits idle one hour in three: utilization about 67%, below
    # the usual 80% alert, so commitments.unused-billing has something to find.
    unused = committed & ~sp & (hour % 3 == 0)
    # "AWS Data Transfer" rows are internet egress, described as AWS's CUR describes it,
    # so network.billing-cdn-egress has sources to price.
    egress = (base["ServiceName"] == "AWS Data Transfer").to_numpy()
    flags = pl.DataFrame({"_committed": committed, "_sp": sp, "_unused": unused, "_egress": egress})

    def when_committed(if_sp: str, otherwise: str) -> pl.Expr:
        # null where not committed: FOCUS leaves a line item's commitment columns empty
        return pl.when(pl.col("_committed")).then(
            pl.when(pl.col("_sp")).then(pl.lit(if_sp)).otherwise(pl.lit(otherwise))
        )

    frame = pl.DataFrame(
        {
            "BilledCost": billed,
            "EffectiveCost": effective,
            "ListCost": list_cost,
            "ContractedCost": list_cost,
            "BillingAccountId": pl.Series([PAYER]).gather(np.zeros(rows, dtype=np.int64)),
            "BillingAccountName": "synthetic-payer",
            "SubAccountId": base["SubAccountId"],
            "ProviderName": "AWS",
            "PublisherName": "AWS",
            "InvoiceIssuerName": "AWS",
            "ServiceName": base["ServiceName"],
            "ServiceCategory": base["ServiceCategory"],
            "ResourceId": base["ResourceId"],
            "ResourceName": base["ResourceName"],
            "ResourceType": None,
            "RegionId": base["RegionId"],
            "ChargeCategory": "Usage",
            "ChargeClass": None,
            "ChargeDescription": base["usage_description"],
            "ChargePeriodStart": start_ts,
            "ChargePeriodEnd": start_ts.dt.offset_by("1h"),
            "BillingPeriodStart": start_ts.dt.truncate("1mo"),
            "BillingPeriodEnd": start_ts.dt.truncate("1mo").dt.offset_by("1mo"),
            "PricingCategory": "Standard",
            "PricingQuantity": usage,
            "PricingUnit": base["PricingUnit"],
            "ConsumedQuantity": usage,
            "ConsumedUnit": base["PricingUnit"],
            "CommitmentDiscountId": None,
            "CommitmentDiscountType": None,
            "CommitmentDiscountCategory": None,
            "CommitmentDiscountStatus": None,
            "SkuId": base["sku"],
            "Tags": base["Tags"],
            "BillingCurrency": "USD",
            "InvoiceId": "INV-2024",
        },
        strict=False,
    ).with_columns(
        pl.col(pl.Null).cast(pl.String),
    )
    committed_on = pl.col("_committed")
    return (
        pl.concat([frame, flags], how="horizontal")
        .with_columns(
            pl.when(pl.col("_egress"))
            .then(
                pl.lit(
                    "$0.09 per GB - first 10 TB / month data transfer out beyond the global "
                    "free tier"
                )
            )
            .otherwise(pl.col("ChargeDescription"))
            .alias("ChargeDescription"),
            pl.when(committed_on)
            .then(pl.lit("Committed"))
            .otherwise(pl.lit("Standard"))
            .alias("PricingCategory"),
            when_committed("arn:aws:savingsplans::999900000001:savingsplan/sp-01", "ri-0007").alias(
                "CommitmentDiscountId"
            ),
            when_committed("Savings Plan", "Reserved Instance").alias("CommitmentDiscountType"),
            when_committed("Spend", "Usage").alias("CommitmentDiscountCategory"),
            pl.when(committed_on)
            .then(pl.when(pl.col("_unused")).then(pl.lit("Unused")).otherwise(pl.lit("Used")))
            .alias("CommitmentDiscountStatus"),
            pl.when(pl.col("_egress"))
            .then(pl.lit("USE1-DataTransfer-Out-Bytes"))
            .otherwise(pl.col("SkuId"))
            .alias("SkuId"),
        )
        .drop("_committed", "_sp", "_unused", "_egress")
    )


# Share of the rows that are standing hourly charges of always-on resources.
ALWAYS_ON_SHARE = 0.3


def generate(
    path: Path, rows: int, seed: int = 7, resource_count: int = 6000, hours: int = HOURS
) -> Path:
    """Write ``rows`` synthetic FOCUS rows over ``hours`` hours from START to ``path``
    (Parquet), a million at a time: the generator holds one chunk, never the file."""
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    res = resources(resource_count, rng)
    always_on = min(resource_count, int(rows * ALWAYS_ON_SHARE) // hours)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    writer = None
    try:
        written = 0
        while written < rows:
            size = min(1_000_000, rows - written)
            table = chunk(
                res, size, rng, first_row=written, always_on=always_on, hours=hours
            ).to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(partial, table.schema, compression="zstd")
            writer.write_table(table, row_group_size=250_000)
            written += size
    finally:
        if writer is not None:
            writer.close()
    partial.replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/focus-synthetic.parquet"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--resources", type=int, default=6000)
    parser.add_argument("--days", type=int, default=HOURS // 24, help="charge period length")
    args = parser.parse_args()
    generate(args.out, args.rows, args.seed, args.resources, args.days * 24)
    print(args.out)


if __name__ == "__main__":
    main()
