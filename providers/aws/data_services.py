"""Data services per region: RDS, ElastiCache, DynamoDB, OpenSearch, Redshift and EFS, and
their utilization in one batched GetMetricData path.

``scan_data_services_region`` describes each service in its own collector (a failure
costs only that service), then fetches the hourly series of every database, cache node
and table together (``metrics.fetch_series``: at most 500 queries a call, so a region
with Q series costs ceil(Q / 500) calls, never one per resource), and adds the
``databases``, ``caches`` and ``dynamodb_tables`` frames, their tags and the points to
``utilization``.

DynamoDB (this module): ListTables, DescribeTable per table (capacity, class, size),
ListTagsOfResource per table, and Application Auto Scaling's DescribeScalableTargets
once per region (which tables scale their capacity). Consumed capacity comes from the
``AWS/DynamoDB`` Consumed{Read,Write}CapacityUnits hourly sums and prices an on-demand
table's throughput.

EFS (this module): DescribeFileSystems (all pages: size by storage class, throughput mode,
tags) and DescribeLifecycleConfiguration per file system.

Every call is a read (Describe, List, Get).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl

from costscan.providers.aws import analytics as analytics_collectors
from costscan.providers.aws import caches as cache_collectors
from costscan.providers.aws import databases as database_collectors
from costscan.providers.aws.metrics import SeriesQuery, fetch_series, lookback_window
from costscan.providers.aws.scan import RegionScan
from costscan.providers.pricing.aws_data import price_file_systems, price_tables
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.units import BYTES_PER_GIB, HOURS_PER_MONTH

DYNAMODB_NAMESPACE = "AWS/DynamoDB"
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html
TABLE_SERIES: tuple[tuple[str, str, str, str], ...] = (
    ("consumed_rcu", "sum", "ConsumedReadCapacityUnits", "Sum"),
    ("consumed_wcu", "sum", "ConsumedWriteCapacityUnits", "Sum"),
    ("read_throttles", "sum", "ReadThrottleEvents", "Sum"),
    ("write_throttles", "sum", "WriteThrottleEvents", "Sum"),
)


def scan_data_services_region(run: RegionScan) -> None:
    """Collect RDS, ElastiCache and DynamoDB for one account and region."""
    account, region = run.account.account_id, run.region
    context = run.request.context
    dbs = run.attempt(
        "rds.db_instances", lambda: database_collectors.describe_db_instances(run.client("rds"))
    )
    clusters = run.attempt(
        "elasticache.cache_clusters",
        lambda: cache_collectors.describe_cache_clusters(run.client("elasticache")),
    )
    tables = run.attempt("dynamodb.tables", lambda: describe_tables(run.client("dynamodb")))
    domains = run.attempt(
        "opensearch.domains",
        lambda: analytics_collectors.describe_domains(run.client("opensearch")),
    )
    warehouses = run.attempt(
        "redshift.clusters",
        lambda: analytics_collectors.describe_clusters(run.client("redshift")),
    )
    scaled: set[str] | None = set()
    if tables:
        scaled = run.attempt(
            "application-autoscaling.dynamodb_targets",
            lambda: autoscaled_tables(run.client("application-autoscaling")),
        )

    plan: list[SeriesQuery] = []
    ids: list[str] = []
    if dbs:
        plan += database_collectors.plan_queries(str(d["DBInstanceIdentifier"]) for d in dbs)
        ids += [str(d["DBInstanceIdentifier"]) for d in dbs]
    if clusters:
        plan += cache_collectors.plan_queries(clusters)
        ids += [str(c["CacheClusterId"]) for c in clusters]
    if tables:
        plan += table_queries(str(t["TableName"]) for t in tables)
        ids += [str(t["TableName"]) for t in tables]
    if domains:
        plan += analytics_collectors.search_queries(domains, account)
        ids += [str(d["DomainName"]) for d in domains]
    if warehouses:
        plan += analytics_collectors.warehouse_queries(warehouses)
        ids += [str(c["ClusterIdentifier"]) for c in warehouses]
    utilization = None
    if plan:
        start, end = lookback_window(context.now, context.lookback_days)
        utilization = run.attempt(
            "cloudwatch.data_service_utilization",
            lambda: fetch_series(run.client("cloudwatch"), plan, start, end),
            resources=ids,
        )
        if utilization is not None:
            run.inventory.add("utilization", utilization)

    if dbs:
        reserved = run.attempt(
            "rds.reserved_db_instances",
            lambda: database_collectors.describe_reserved_db_instances(run.client("rds")),
        )
        frame, tags = database_collectors.database_frames(
            dbs, account_id=account, region=region, now=context.now, reserved=reserved
        )
        run.inventory.add("databases", frame)
        run.inventory.add("tags", tags)
    if clusters:
        reserved_nodes = run.attempt(
            "elasticache.reserved_cache_nodes",
            lambda: cache_collectors.describe_reserved_cache_nodes(run.client("elasticache")),
        )
        frame, tags = cache_collectors.cache_frames(
            clusters, account_id=account, region=region, now=context.now, reserved=reserved_nodes
        )
        run.inventory.add("caches", frame)
        run.inventory.add("tags", tags)
    if tables:
        consumed = (
            None
            if utilization is None
            else consumed_units(utilization, hours=context.lookback_days * 24)
        )
        frame, tags = table_frames(tables, scaled, consumed, account_id=account, region=region)
        run.inventory.add("dynamodb_tables", frame)
        run.inventory.add("tags", tags)

    if domains:
        frame, tags = analytics_collectors.search_domain_frames(
            domains, account_id=account, region=region
        )
        run.inventory.add("search_domains", frame)
        run.inventory.add("tags", tags)
    if warehouses:
        frame, tags = analytics_collectors.warehouse_frames(
            warehouses, account_id=account, region=region
        )
        run.inventory.add("warehouses", frame)
        run.inventory.add("tags", tags)

    file_systems = run.attempt("efs.file_systems", lambda: describe_file_systems(run.client("efs")))
    if file_systems:
        frame, tags = file_system_frames(file_systems, account_id=account, region=region)
        run.inventory.add("file_systems", frame)
        run.inventory.add("tags", tags)


# --------------------------------------------------------------------------- DynamoDB


def describe_tables(dynamodb: Any) -> list[dict[str, Any]]:
    """Every table in the region (ListTables, all pages), described, with its tags under
    ``Tags``."""
    names: list[str] = []
    for page in dynamodb.get_paginator("list_tables").paginate():
        names.extend(page.get("TableNames", []))
    tables = []
    for name in names:
        table = dict(dynamodb.describe_table(TableName=name)["Table"])
        tags: list[dict[str, str]] = []
        arn = table.get("TableArn")
        if arn:
            for page in dynamodb.get_paginator("list_tags_of_resource").paginate(ResourceArn=arn):
                tags.extend(page.get("Tags", []))
        table["Tags"] = tags
        tables.append(table)
    return tables


def autoscaled_tables(autoscaling: Any) -> set[str]:
    """Tables with a registered Application Auto Scaling target (table or index)."""
    found: set[str] = set()
    paginator = autoscaling.get_paginator("describe_scalable_targets")
    for page in paginator.paginate(ServiceNamespace="dynamodb"):
        for target in page.get("ScalableTargets", []):
            # table/orders or table/orders/index/by-customer
            parts = str(target.get("ResourceId", "")).split("/")
            if len(parts) >= 2 and parts[0] == "table":
                found.add(parts[1])
    return found


def table_queries(names: Iterable[str]) -> list[SeriesQuery]:
    """``TABLE_SERIES`` of every table, by TableName."""
    return [
        SeriesQuery(name, metric, statistic, DYNAMODB_NAMESPACE, cw, stat, (("TableName", name),))
        for name in names
        for metric, statistic, cw, stat in TABLE_SERIES
    ]


def consumed_units(utilization: pl.DataFrame, *, hours: int) -> pl.DataFrame:
    """resource_id, read_units_month, write_units_month: consumed capacity units over the
    lookback scaled to a 730-hour month (hours without a point consumed nothing)."""
    scale = HOURS_PER_MONTH / max(hours, 1)
    sums = utilization.filter(
        pl.col("metric").is_in(["consumed_rcu", "consumed_wcu"]) & (pl.col("statistic") == "sum")
    )
    return sums.group_by("resource_id").agg(
        (pl.col("value").filter(pl.col("metric") == "consumed_rcu").sum() * scale).alias(
            "read_units_month"
        ),
        (pl.col("value").filter(pl.col("metric") == "consumed_wcu").sum() * scale).alias(
            "write_units_month"
        ),
    )


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _capacity(table: Mapping[str, Any], key: str) -> float:
    """Provisioned units of the table and its global secondary indexes."""
    total = float((table.get("ProvisionedThroughput") or {}).get(key) or 0)
    for index in table.get("GlobalSecondaryIndexes") or ():
        total += float((index.get("ProvisionedThroughput") or {}).get(key) or 0)
    return total


def table_frames(
    tables: Sequence[Mapping[str, Any]],
    scaled: set[str] | None,
    consumed: pl.DataFrame | None,
    *,
    account_id: str,
    region: str,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The priced ``dynamodb_tables`` frame and the ``tags`` frame."""
    rows = []
    tag_rows = []
    for table in tables:
        name = str(table["TableName"])
        mode = (table.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED"
        table_class = (table.get("TableClassSummary") or {}).get("TableClass") or "STANDARD"
        rows.append(
            {
                "provider": "aws",
                "account_id": account_id,
                "region": region,
                "resource_id": name,
                "resource_name": name,
                "resource_type": "dynamodb_table",
                "billing_mode": mode,
                "table_class": table_class,
                "read_capacity": _capacity(table, "ReadCapacityUnits")
                if mode != "PAY_PER_REQUEST"
                else None,
                "write_capacity": _capacity(table, "WriteCapacityUnits")
                if mode != "PAY_PER_REQUEST"
                else None,
                "autoscaling": None if scaled is None else name in scaled,
                "storage_gb": float(table.get("TableSizeBytes") or 0) / BYTES_PER_GIB,
                "items": int(table.get("ItemCount") or 0),
                "status": table.get("TableStatus"),
                "created": _utc(table.get("CreationDateTime")),
            }
        )
        for tag in table.get("Tags") or ():
            if "Key" in tag:
                tag_rows.append({"resource_id": name, "key": tag["Key"], "value": tag.get("Value")})
    if not rows:
        return schema.empty(schema.DYNAMODB_TABLES), schema.empty(schema.TAGS)
    base = pl.DataFrame(rows, schema={k: schema.DYNAMODB_TABLES[k] for k in rows[0]})
    priced = price_tables(base, consumed)
    return schema.conform("dynamodb_tables", priced), pl.DataFrame(
        tag_rows, schema=dict(schema.TAGS)
    )


# --------------------------------------------------------------------------- EFS


def describe_file_systems(efs: Any) -> list[dict[str, Any]]:
    """Every file system in the region, all pages, each with its lifecycle policies under
    ``LifecyclePolicies``."""
    found: list[dict[str, Any]] = []
    for page in efs.get_paginator("describe_file_systems").paginate():
        found.extend(page.get("FileSystems", []))
    for fs in found:
        answer = efs.describe_lifecycle_configuration(FileSystemId=fs["FileSystemId"])
        fs["LifecyclePolicies"] = answer.get("LifecyclePolicies", [])
    return found


def file_system_frames(
    file_systems: Sequence[Mapping[str, Any]], *, account_id: str, region: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The priced ``file_systems`` frame and the ``tags`` frame."""
    rows = []
    tag_rows = []
    for fs in file_systems:
        ident = str(fs["FileSystemId"])
        size = fs.get("SizeInBytes") or {}
        total = float(size.get("Value") or 0)
        ia = float(size.get("ValueInIA") or 0)
        archive = float(size.get("ValueInArchive") or 0)
        standard = float(size.get("ValueInStandard") or max(total - ia - archive, 0.0))
        lifecycle = list(fs.get("LifecyclePolicies") or ())
        rows.append(
            {
                "provider": "aws",
                "account_id": account_id,
                "region": region,
                "resource_id": ident,
                "resource_name": fs.get("Name") or ident,
                "resource_type": "efs_file_system",
                "throughput_mode": fs.get("ThroughputMode"),
                "provisioned_mibps": fs.get("ProvisionedThroughputInMibps"),
                "standard_gb": standard / BYTES_PER_GIB,
                "ia_gb": ia / BYTES_PER_GIB,
                "archive_gb": archive / BYTES_PER_GIB,
                "has_lifecycle": any("TransitionToIA" in policy for policy in lifecycle),
                "lifecycle_summary": ", ".join(
                    f"{key}={value}" for policy in lifecycle for key, value in policy.items()
                )
                or None,
                "created": _utc(fs.get("CreationTime")),
            }
        )
        for tag in fs.get("Tags") or ():
            if "Key" in tag:
                tag_rows.append(
                    {"resource_id": ident, "key": tag["Key"], "value": tag.get("Value")}
                )
    if not rows:
        return schema.empty(schema.FILE_SYSTEMS), schema.empty(schema.TAGS)
    base = pl.DataFrame(rows, schema={k: schema.FILE_SYSTEMS[k] for k in rows[0]})
    return schema.conform("file_systems", price_file_systems(base)), pl.DataFrame(
        tag_rows, schema=dict(schema.TAGS)
    )
