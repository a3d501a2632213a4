"""Cache and DynamoDB seeding for the offline demo account, with planted waste.

``seed_data_services`` makes, in the first of ``regions`` (us-east-1, whose prices are
bundled), and publishes hourly metrics for each over the lookback:

- ``old-sessions-cache``: Redis, one cache.m5.large, no hits, misses or connections (idle);
- ``catalog-cache``: Redis, one cache.r5.2xlarge, CPU 5%, memory 15% (one size down);
- ``feed-cache``: Redis, one cache.m5.large, memory 92%, evictions every hour and a 60%
  hit rate (the bottleneck: the next node size);
- ``clickstream-events``: a DynamoDB table provisioned at 2,000 RCU / 1,000 WCU consuming a
  steady 50 / 30 per second (provisioned far above use);
- ``audit-archive``: 100 RCU / 50 WCU, consuming 60 / 35 per second, holding 2,000 GB in
  the Standard class (Standard-IA);
- ``orders-hot``: 100 RCU / 100 WCU, consuming 80 / 95 per second and throttled every hour
  (the bottleneck: more provisioned capacity);
- an EFS file system ``shared-home`` holding 2,000 GB in Standard with no lifecycle policy;
- ``legacy-logs``: an OpenSearch domain of two r6g.large.search on 100 GB gp2 each, with
  no search and no indexing (idle);
- ``app-search``: three m6g.large.search at 90% JVM memory pressure (the bottleneck: the
  next node size);
- ``old-bi-warehouse``: a Redshift cluster of two dc2.large nodes, no connections (idle).

moto reports every table's size as 0 bytes (its DescribeTable hard-codes TableSizeBytes),
so the demo's local layer (``MissingApis``, the same that answers Cost Explorer) answers
DescribeTable for the demo's tables with the sizes in ``TABLE_CASES``; likewise
DescribeFileSystems (moto's EFS sizes are 0 bytes too) with ``EFS_STANDARD_GB``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from costscan.demo.account import (
    LOOKBACK_DAYS,
    _put_all,
    _statistic_set,
    gaps_for,
    metric_client,
)

if TYPE_CHECKING:
    from costscan.demo.gaps import MissingApis

SEED = 20240617
GIB = 1024**3
EFS_NAME = "shared-home"
EFS_STANDARD_GB = 2000.0
IDLE_DOMAIN = "legacy-logs"
HOT_DOMAIN = "app-search"
IDLE_WAREHOUSE = "old-bi-warehouse"


@dataclass(frozen=True)
class CacheCase:
    name: str
    node_type: str
    nodes: int
    cpu: float
    memory: float  # DatabaseMemoryUsagePercentage
    hits: float  # per hour
    misses: float
    evictions: float
    connections: float


@dataclass(frozen=True)
class TableCase:
    name: str
    read_capacity: int
    write_capacity: int
    consumed_read: float  # units per second, steady
    consumed_write: float
    storage_gb: float
    throttles_per_hour: float = 0.0


CACHE_CASES: dict[str, CacheCase] = {
    case.name: case
    for case in (
        CacheCase("old-sessions-cache", "cache.m5.large", 1, 1.0, 3.0, 0.0, 0.0, 0.0, 0.0),
        CacheCase("catalog-cache", "cache.r5.2xlarge", 1, 5.0, 15.0, 90_000.0, 5_000.0, 0.0, 40.0),
        CacheCase("feed-cache", "cache.m5.large", 1, 45.0, 92.0, 60_000.0, 40_000.0, 500.0, 80.0),
    )
}
TABLE_CASES: dict[str, TableCase] = {
    case.name: case
    for case in (
        TableCase("clickstream-events", 2000, 1000, 50.0, 30.0, 10.0),
        TableCase("audit-archive", 100, 50, 60.0, 35.0, 2000.0),
        TableCase("orders-hot", 100, 100, 80.0, 95.0, 20.0, throttles_per_hour=200.0),
    )
}


def seed_data_services(
    endpoint_url: str,
    now: datetime,
    regions: Sequence[str],
    *,
    hours: int | None = None,
    gaps: MissingApis | None = None,
) -> None:
    """Seed ``CACHE_CASES`` and ``TABLE_CASES`` and ``hours`` (default: the demo's
    lookback) of their metrics ending at ``now``'s hour. ``gaps`` (default: the in-process
    demo server's) answers DescribeTable with the tables' sizes."""
    import boto3

    region = regions[0] if regions else "us-east-1"
    cloudwatch = metric_client(endpoint_url, region)
    rng = random.Random(SEED)
    span = hours if hours is not None else LOOKBACK_DAYS * 24
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=span)

    elasticache = boto3.client("elasticache", region_name=region, endpoint_url=endpoint_url)
    for cache in CACHE_CASES.values():
        elasticache.create_cache_cluster(
            CacheClusterId=cache.name,
            Engine="redis",
            CacheNodeType=cache.node_type,
            NumCacheNodes=cache.nodes,
            Tags=[
                {"Key": "Name", "Value": cache.name},
                {"Key": "environment", "Value": "production"},
            ],
        )
        for node in range(1, cache.nodes + 1):
            _put_all(
                cloudwatch, "AWS/ElastiCache", _cache_series(cache, f"{node:04d}", rng, start, span)
            )

    dynamodb = boto3.client("dynamodb", region_name=region, endpoint_url=endpoint_url)
    described: dict[str, dict[str, Any]] = {}
    for table in TABLE_CASES.values():
        dynamodb.create_table(
            TableName=table.name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PROVISIONED",
            ProvisionedThroughput={
                "ReadCapacityUnits": table.read_capacity,
                "WriteCapacityUnits": table.write_capacity,
            },
            Tags=[{"Key": "environment", "Value": "production"}],
        )
        description = dict(dynamodb.describe_table(TableName=table.name)["Table"])
        description["TableSizeBytes"] = int(table.storage_gb * GIB)
        described[table.name] = {k: v for k, v in description.items() if v is not None}
        _put_all(cloudwatch, "AWS/DynamoDB", _table_series(table, start, span))

    efs = boto3.client("efs", region_name=region, endpoint_url=endpoint_url)
    file_system = efs.create_file_system(
        CreationToken=EFS_NAME,
        PerformanceMode="generalPurpose",
        Tags=[{"Key": "Name", "Value": EFS_NAME}, {"Key": "environment", "Value": "production"}],
    )
    file_system.pop("ResponseMetadata", None)
    size = int(EFS_STANDARD_GB * GIB)
    file_system["SizeInBytes"] = {"Value": size, "ValueInStandard": size, "ValueInIA": 0}
    file_system["NumberOfMountTargets"] = 0

    account = boto3.client("sts", region_name=region, endpoint_url=endpoint_url)
    account_id = account.get_caller_identity()["Account"]
    opensearch = boto3.client("opensearch", region_name=region, endpoint_url=endpoint_url)
    for domain, search_node, count, volume, volume_gb, jvm, searches in (
        (IDLE_DOMAIN, "r6g.large.search", 2, "gp2", 100, 20.0, 0.0),
        (HOT_DOMAIN, "m6g.large.search", 3, "gp3", 200, 90.0, 40.0),
    ):
        opensearch.create_domain(
            DomainName=domain,
            EngineVersion="OpenSearch_2.11",
            ClusterConfig={"InstanceType": search_node, "InstanceCount": count},
            EBSOptions={"EBSEnabled": True, "VolumeType": volume, "VolumeSize": volume_gb},
            TagList=[{"Key": "environment", "Value": "production"}],
        )
        _put_all(
            cloudwatch,
            "AWS/ES",
            _search_series(domain, account_id, jvm, searches, rng, start, span),
        )
    redshift = boto3.client("redshift", region_name=region, endpoint_url=endpoint_url)
    redshift.create_cluster(
        ClusterIdentifier=IDLE_WAREHOUSE,
        NodeType="dc2.large",
        NumberOfNodes=2,
        ClusterType="multi-node",
        MasterUsername="admin",
        MasterUserPassword="Demo-password-1",
        Tags=[{"Key": "environment", "Value": "production"}],
    )
    dims = [{"Name": "ClusterIdentifier", "Value": IDLE_WAREHOUSE}]
    _put_all(
        cloudwatch,
        "AWS/Redshift",
        [
            {"MetricName": name, "Dimensions": dims, "Timestamp": start + timedelta(hours=i),
             "StatisticValues": _statistic_set(value, value)}
            for i in range(span)
            for name, value in (("CPUUtilization", 1.0), ("DatabaseConnections", 0.0))
        ],
    )  # fmt: skip

    layer = gaps if gaps is not None else gaps_for(endpoint_url)
    if layer is not None:

        def describe_table(params: dict[str, Any]) -> dict[str, Any]:
            return {"Table": described[str(params.get("TableName"))]}

        # In the seeded region only: elsewhere moto answers (no tables, no file systems).
        layer.answer("dynamodb", "DescribeTable", describe_table, region=region)
        layer.answer("efs", "DescribeFileSystems", {"FileSystems": [file_system]}, region=region)


def _cache_series(
    cache: CacheCase, node: str, rng: random.Random, start: datetime, hours: int
) -> list[dict[str, Any]]:
    dims = [
        {"Name": "CacheClusterId", "Value": cache.name},
        {"Name": "CacheNodeId", "Value": node},
    ]
    data: list[dict[str, Any]] = []
    for i in range(hours):
        ts = start + timedelta(hours=i)
        cpu = max(0.0, cache.cpu + rng.uniform(-0.5, 0.5))
        memory = min(100.0, max(0.0, cache.memory + rng.uniform(-1.0, 1.0)))
        for name, stats in (
            ("CPUUtilization", _statistic_set(cpu, cpu + 2.0)),
            ("EngineCPUUtilization", _statistic_set(cpu, cpu + 2.0)),
            ("DatabaseMemoryUsagePercentage", _statistic_set(memory, min(100.0, memory + 1.0))),
            ("CurrConnections", _statistic_set(cache.connections, cache.connections)),
        ):
            data.append(
                {"MetricName": name, "Dimensions": dims, "Timestamp": ts, "StatisticValues": stats}
            )
        for name, value in (
            ("CacheHits", cache.hits),
            ("CacheMisses", cache.misses),
            ("Evictions", cache.evictions),
        ):
            data.append({"MetricName": name, "Dimensions": dims, "Timestamp": ts, "Value": value})
    return data


def _table_series(table: TableCase, start: datetime, hours: int) -> list[dict[str, Any]]:
    dims = [{"Name": "TableName", "Value": table.name}]
    data: list[dict[str, Any]] = []
    for i in range(hours):
        ts = start + timedelta(hours=i)
        for name, value in (
            ("ConsumedReadCapacityUnits", table.consumed_read * 3600.0),
            ("ConsumedWriteCapacityUnits", table.consumed_write * 3600.0),
            ("WriteThrottleEvents", table.throttles_per_hour),
        ):
            data.append({"MetricName": name, "Dimensions": dims, "Timestamp": ts, "Value": value})
    return data


def _search_series(
    domain: str,
    account_id: str,
    jvm: float,
    searches: float,
    rng: random.Random,
    start: datetime,
    hours: int,
) -> list[dict[str, Any]]:
    dims = [{"Name": "DomainName", "Value": domain}, {"Name": "ClientId", "Value": account_id}]
    data: list[dict[str, Any]] = []
    for i in range(hours):
        ts = start + timedelta(hours=i)
        pressure = min(100.0, max(0.0, jvm + rng.uniform(-1.0, 1.0)))
        for name, average, maximum in (
            ("CPUUtilization", 20.0, 25.0),
            ("JVMMemoryPressure", pressure, min(100.0, pressure + 2.0)),
            ("SearchRate", searches, searches),
            ("IndexingRate", searches / 2.0, searches / 2.0),
            ("SearchLatency", 40.0, 60.0),
        ):
            data.append(
                {
                    "MetricName": name,
                    "Dimensions": dims,
                    "Timestamp": ts,
                    "StatisticValues": _statistic_set(average, maximum),
                }
            )
    return data
