"""ElastiCache collectors: clusters and their nodes per region.

- ``elasticache.cache_clusters``: DescribeCacheClusters (all pages, with node info), then
  each cluster's tags (ListTagsForResource by ARN: the describe answer carries none).
- Utilization: ``plan_queries`` names the hourly ``AWS/ElastiCache`` series of every node
  (host and engine CPU, memory used, hits, misses, evictions, connections), fetched with
  the other data services' series in one batched path (``data_services``); each point is
  filed under its cluster id, so a cluster's series hold its nodes' hours.

Prices come from ``providers.pricing.aws_data`` and travel on the rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from costscan.providers.aws.metrics import SeriesQuery
from costscan.providers.pricing.aws_data import price_caches
from costscan.scanner.contracts import schema

CACHE_NAMESPACE = "AWS/ElastiCache"
# (our metric, our statistic, CloudWatch metric, CloudWatch statistic) for every node.
# https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.html
CACHE_SERIES: tuple[tuple[str, str, str, str], ...] = (
    ("cpu", "average", "CPUUtilization", "Average"),
    ("cpu", "maximum", "CPUUtilization", "Maximum"),
    ("engine_cpu", "average", "EngineCPUUtilization", "Average"),
    ("cache_memory", "average", "DatabaseMemoryUsagePercentage", "Average"),
    ("cache_memory", "maximum", "DatabaseMemoryUsagePercentage", "Maximum"),
    ("cache_hits", "sum", "CacheHits", "Sum"),
    ("cache_misses", "sum", "CacheMisses", "Sum"),
    ("evictions", "sum", "Evictions", "Sum"),
    ("connections", "maximum", "CurrConnections", "Maximum"),
)


def describe_cache_clusters(elasticache: Any) -> list[dict[str, Any]]:
    """Every cache cluster in the region with its nodes, all pages, each with its tags
    under ``TagList``."""
    found: list[dict[str, Any]] = []
    paginator = elasticache.get_paginator("describe_cache_clusters")
    for page in paginator.paginate(ShowCacheNodeInfo=True):
        found.extend(page.get("CacheClusters", []))
    for cluster in found:
        arn = cluster.get("ARN")
        if arn:
            answer = elasticache.list_tags_for_resource(ResourceName=arn)
            cluster["TagList"] = answer.get("TagList", [])
    return found


def describe_reserved_cache_nodes(elasticache: Any) -> list[dict[str, Any]]:
    """The region's reserved cache nodes, all pages."""
    found: list[dict[str, Any]] = []
    for page in elasticache.get_paginator("describe_reserved_cache_nodes").paginate():
        found.extend(page.get("ReservedCacheNodes", []))
    return found


def reservation_ends(reserved: Sequence[Mapping[str, Any]], now: datetime) -> pl.DataFrame:
    """engine, _family, reserved_until: the latest end of the active reserved nodes per
    engine and node family (reserved nodes are size-flexible within a family, so any size
    of it may be covered).
    https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheNodes.Reserved.html"""
    rows = []
    for node in reserved:
        start = _utc(node.get("StartTime"))
        if str(node.get("State", "")).lower() != "active" or start is None:
            continue
        ends = start + timedelta(seconds=int(node.get("Duration") or 0))
        family = str(node.get("CacheNodeType", "")).split(".")[1:2]
        if ends > now and family:
            engine = str(node.get("ProductDescription", "")).lower()
            rows.append({"engine": engine, "_family": family[0], "reserved_until": ends})
    frame = pl.DataFrame(
        rows, schema={"engine": pl.String, "_family": pl.String, "reserved_until": schema.UTC_TS}
    )
    return frame.group_by("engine", "_family").agg(pl.col("reserved_until").max())


def node_ids(cluster: Mapping[str, Any]) -> list[str]:
    """The cluster's node ids: as described, else ElastiCache's own numbering (0001...)."""
    listed = [str(n["CacheNodeId"]) for n in cluster.get("CacheNodes") or () if "CacheNodeId" in n]
    if listed:
        return listed
    return [f"{i:04d}" for i in range(1, int(cluster.get("NumCacheNodes") or 1) + 1)]


def plan_queries(clusters: Sequence[Mapping[str, Any]]) -> list[SeriesQuery]:
    """``CACHE_SERIES`` of every node, filed under its cluster id."""
    return [
        SeriesQuery(
            str(cluster["CacheClusterId"]),
            metric,
            statistic,
            CACHE_NAMESPACE,
            name,
            stat,
            (("CacheClusterId", str(cluster["CacheClusterId"])), ("CacheNodeId", node)),
        )
        for cluster in clusters
        for node in node_ids(cluster)
        for metric, statistic, name, stat in CACHE_SERIES
    ]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def cache_frames(
    clusters: Sequence[Mapping[str, Any]],
    *,
    account_id: str,
    region: str,
    now: datetime | None = None,
    reserved: Sequence[Mapping[str, Any]] | None = (),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The priced ``caches`` frame and the ``tags`` frame of DescribeCacheClusters output;
    ``reserved`` (the region's reserved nodes; None: unread) fills ``reserved_until``."""
    rows = []
    tag_rows = []
    for cluster in clusters:
        ident = str(cluster["CacheClusterId"])
        rows.append(
            {
                "provider": "aws",
                "account_id": account_id,
                "region": region,
                "resource_id": ident,
                "resource_name": ident,
                "resource_type": "elasticache_cluster",
                "engine": str(cluster.get("Engine") or "").lower(),
                "engine_version": cluster.get("EngineVersion"),
                "node_type": cluster.get("CacheNodeType"),
                "nodes": int(cluster.get("NumCacheNodes") or len(node_ids(cluster))),
                "status": cluster.get("CacheClusterStatus"),
                "replication_group": cluster.get("ReplicationGroupId"),
                "created": _utc(cluster.get("CacheClusterCreateTime")),
            }
        )
        for tag in cluster.get("TagList") or ():
            if "Key" in tag:
                tag_rows.append(
                    {"resource_id": ident, "key": tag["Key"], "value": tag.get("Value")}
                )
    if not rows:
        return schema.empty(schema.CACHES), schema.empty(schema.TAGS)
    base = pl.DataFrame(rows, schema={name: schema.CACHES[name] for name in rows[0]})
    priced = price_caches(base)
    if reserved and now is not None:
        moment = now if now.tzinfo else now.replace(tzinfo=UTC)
        family = pl.col("node_type").str.split(".").list.get(1, null_on_oob=True)
        priced = (
            priced.drop("reserved_until", strict=False)
            .with_columns(family.alias("_family"))
            .join(
                reservation_ends(reserved, moment.astimezone(UTC)),
                on=["engine", "_family"],
                how="left",
            )
            .drop("_family")
        )
    return schema.conform("caches", priced), pl.DataFrame(tag_rows, schema=dict(schema.TAGS))
