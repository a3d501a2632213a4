"""Analytics collectors: OpenSearch Service domains and Redshift clusters per region.

- ``opensearch.domains``: ListDomainNames, DescribeDomains (five names a call, its limit)
  and ListTags per domain: data and dedicated master nodes, UltraWarm, EBS.
- ``redshift.clusters``: DescribeClusters, all pages (tags included).
- Utilization: ``search_queries`` and ``warehouse_queries`` name the hourly ``AWS/ES`` and
  ``AWS/Redshift`` series, fetched with the other data services' series in one batched
  path (``data_services``).

Prices come from ``providers.pricing.aws_data`` and travel on the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl

from costscan.providers.aws.metrics import SeriesQuery
from costscan.providers.pricing.aws_data import price_search_domains, price_warehouses
from costscan.scanner.contracts import schema

# DescribeDomains takes at most five domain names per call.
# https://docs.aws.amazon.com/opensearch-service/latest/APIReference/API_DescribeDomains.html
DOMAINS_PER_CALL = 5
SEARCH_NAMESPACE = "AWS/ES"
# https://docs.aws.amazon.com/opensearch-service/latest/developerguide/managedomains-cloudwatchmetrics.html
SEARCH_SERIES: tuple[tuple[str, str, str, str], ...] = (
    ("cpu", "average", "CPUUtilization", "Average"),
    ("cpu", "maximum", "CPUUtilization", "Maximum"),
    ("jvm_memory_pressure", "average", "JVMMemoryPressure", "Average"),
    ("jvm_memory_pressure", "maximum", "JVMMemoryPressure", "Maximum"),
    ("search_rate", "maximum", "SearchRate", "Maximum"),
    ("indexing_rate", "maximum", "IndexingRate", "Maximum"),
    ("search_latency", "average", "SearchLatency", "Average"),
)
WAREHOUSE_NAMESPACE = "AWS/Redshift"
# https://docs.aws.amazon.com/redshift/latest/mgmt/metrics-listing.html
WAREHOUSE_SERIES: tuple[tuple[str, str, str, str], ...] = (
    ("cpu", "average", "CPUUtilization", "Average"),
    ("cpu", "maximum", "CPUUtilization", "Maximum"),
    ("db_connections", "maximum", "DatabaseConnections", "Maximum"),
)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _tags(rows: list[dict[str, Any]], ident: str, tags: Iterable[Mapping[str, str]]) -> None:
    for tag in tags:
        if "Key" in tag:
            rows.append({"resource_id": ident, "key": tag["Key"], "value": tag.get("Value")})


# --------------------------------------------------------------------------- OpenSearch


def describe_domains(opensearch: Any) -> list[dict[str, Any]]:
    """Every OpenSearch Service domain in the region, described, with its tags under
    ``TagList``."""
    names = [d["DomainName"] for d in opensearch.list_domain_names().get("DomainNames", [])]
    found: list[dict[str, Any]] = []
    for first in range(0, len(names), DOMAINS_PER_CALL):
        answer = opensearch.describe_domains(DomainNames=names[first : first + DOMAINS_PER_CALL])
        found.extend(answer.get("DomainStatusList", []))
    for domain in found:
        if domain.get("ARN"):
            domain["TagList"] = opensearch.list_tags(ARN=domain["ARN"]).get("TagList", [])
    return [d for d in found if not d.get("Deleted")]


def search_queries(domains: Sequence[Mapping[str, Any]], account_id: str) -> list[SeriesQuery]:
    """``SEARCH_SERIES`` of every domain, by DomainName and ClientId (the account)."""
    return [
        SeriesQuery(
            str(d["DomainName"]),
            metric,
            statistic,
            SEARCH_NAMESPACE,
            name,
            stat,
            (("DomainName", str(d["DomainName"])), ("ClientId", account_id)),
        )
        for d in domains
        for metric, statistic, name, stat in SEARCH_SERIES
    ]


def search_domain_frames(
    domains: Sequence[Mapping[str, Any]], *, account_id: str, region: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The priced ``search_domains`` frame and the ``tags`` frame."""
    rows = []
    tag_rows: list[dict[str, Any]] = []
    for domain in domains:
        ident = str(domain["DomainName"])
        config = domain.get("ClusterConfig") or {}
        ebs = domain.get("EBSOptions") or {}
        masters = bool(config.get("DedicatedMasterEnabled"))
        warm = bool(config.get("WarmEnabled"))
        rows.append(
            {
                "provider": "aws",
                "account_id": account_id,
                "region": region,
                "resource_id": ident,
                "resource_name": ident,
                "resource_type": "opensearch_domain",
                "engine_version": domain.get("EngineVersion"),
                "instance_type": config.get("InstanceType"),
                "instance_count": int(config.get("InstanceCount") or 1),
                "master_type": config.get("DedicatedMasterType") if masters else None,
                "master_count": int(config.get("DedicatedMasterCount") or 0) if masters else 0,
                "warm_type": config.get("WarmType") if warm else None,
                "warm_count": int(config.get("WarmCount") or 0) if warm else 0,
                "volume_type": ebs.get("VolumeType") if ebs.get("EBSEnabled") else None,
                "volume_gb": float(ebs.get("VolumeSize") or 0) if ebs.get("EBSEnabled") else None,
            }
        )
        _tags(tag_rows, ident, domain.get("TagList") or ())
    if not rows:
        return schema.empty(schema.SEARCH_DOMAINS), schema.empty(schema.TAGS)
    base = pl.DataFrame(rows, schema={k: schema.SEARCH_DOMAINS[k] for k in rows[0]})
    return schema.conform("search_domains", price_search_domains(base)), pl.DataFrame(
        tag_rows, schema=dict(schema.TAGS)
    )


# --------------------------------------------------------------------------- Redshift


def describe_clusters(redshift: Any) -> list[dict[str, Any]]:
    """Every provisioned Redshift cluster in the region, all pages."""
    found: list[dict[str, Any]] = []
    for page in redshift.get_paginator("describe_clusters").paginate():
        found.extend(page.get("Clusters", []))
    return found


def warehouse_queries(clusters: Sequence[Mapping[str, Any]]) -> list[SeriesQuery]:
    """``WAREHOUSE_SERIES`` of every cluster, by ClusterIdentifier."""
    return [
        SeriesQuery(
            str(c["ClusterIdentifier"]),
            metric,
            statistic,
            WAREHOUSE_NAMESPACE,
            name,
            stat,
            (("ClusterIdentifier", str(c["ClusterIdentifier"])),),
        )
        for c in clusters
        for metric, statistic, name, stat in WAREHOUSE_SERIES
    ]


def warehouse_frames(
    clusters: Sequence[Mapping[str, Any]], *, account_id: str, region: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The priced ``warehouses`` frame and the ``tags`` frame."""
    rows = []
    tag_rows: list[dict[str, Any]] = []
    for cluster in clusters:
        ident = str(cluster["ClusterIdentifier"])
        rows.append(
            {
                "provider": "aws",
                "account_id": account_id,
                "region": region,
                "resource_id": ident,
                "resource_name": ident,
                "resource_type": "redshift_cluster",
                "node_type": cluster.get("NodeType"),
                "nodes": int(cluster.get("NumberOfNodes") or 1),
                "status": cluster.get("ClusterStatus"),
                "created": _utc(cluster.get("ClusterCreateTime")),
            }
        )
        _tags(tag_rows, ident, cluster.get("Tags") or ())
    if not rows:
        return schema.empty(schema.WAREHOUSES), schema.empty(schema.TAGS)
    base = pl.DataFrame(rows, schema={k: schema.WAREHOUSES[k] for k in rows[0]})
    return schema.conform("warehouses", price_warehouses(base)), pl.DataFrame(
        tag_rows, schema=dict(schema.TAGS)
    )
