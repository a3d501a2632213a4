"""Network collectors: Elastic IPs, NAT gateways, load balancers, CloudFront distributions
and data transfer spend by source. Reads only.

- ``scan_network_region`` (once per account and region): DescribeAddresses,
  DescribeNatGateways, DescribeVpcEndpoints (gateway endpoints for S3 and DynamoDB),
  elbv2 DescribeLoadBalancers / DescribeTargetGroups / DescribeTargetHealth, and one
  batched GetMetricData sweep (≤ 500 queries a call, daily sums over the lookback) for
  the NAT byte counters and the load balancers' requests and processed bytes
  -> ``network_idle``.
- ``scan_network_account`` (once per account): CloudFront ListDistributions (and
  GetDistributionConfig where the summary lacks a behaviour's Compress flag), CloudFront
  metrics (us-east-1, ``Region=Global``) -> ``distributions``; Cost Explorer
  GetCostAndUsage by SERVICE and USAGE_TYPE, then GetCostAndUsageWithResources by
  RESOURCE_ID and USAGE_TYPE (the last 14 days, the most the API keeps) -> ``transfer``.
  Cost Explorer bills $0.01 per request, so the resource-level call is made only when the
  account-wide answer shows data transfer at all.

Prices come from ``providers.pricing.aws_network`` (bundled, with a us-east-1 fallback
that the ``price_reference`` column names).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl

from costscan.providers.aws import metrics
from costscan.providers.aws.scan import RegionScan
from costscan.providers.pricing import aws_network as prices
from costscan.scanner.contracts import schema

GB = 1024.0**3
DAY_SECONDS = 86400
CLOUDFRONT_METRICS_REGION = "us-east-1"
COST_EXPLORER_REGION = "us-east-1"
# Cost Explorer keeps resource-level daily data for the last 14 days only.
# https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostAndUsageWithResources.html
RESOURCE_LEVEL_DAYS = 14
# Account-wide transfer: this many whole months before the current one, plus month to date.
FULL_MONTHS = 2
# Services whose data transfer is billed against a resource in resource-level data.
RESOURCE_LEVEL_SERVICES = (
    "Amazon Elastic Compute Cloud - Compute",
    "EC2 - Other",
    "Amazon Simple Storage Service",
    "Amazon CloudFront",
    "Amazon Elastic Load Balancing",
    "AWS Data Transfer",
)
CLOUDFRONT_SERVICE = "Amazon CloudFront"

NAT_STATES = ("pending", "available")
# (our metric label, CloudWatch metric) for NAT gateways; all Sum, bytes.
NAT_METRICS = (
    ("bytes_in_from_source", "BytesInFromSource"),
    ("bytes_in_from_destination", "BytesInFromDestination"),
    ("bytes_out_to_destination", "BytesOutToDestination"),
)
LB_NAMESPACES = {"application": "AWS/ApplicationELB", "network": "AWS/NetworkELB"}
# What counts as a request: ALB RequestCount; NLB has no requests, NewFlowCount stands in.
LB_REQUEST_METRIC = {"application": "RequestCount", "network": "NewFlowCount"}


# --------------------------------------------------------------------------- regional


def scan_network_region(run: RegionScan) -> None:
    """Elastic IPs, NAT gateways and load balancers of one region -> ``network_idle``."""
    ec2 = run.client("ec2")
    addresses = run.attempt("ec2.elastic_ips", lambda: describe_addresses(ec2))
    gateways = run.attempt("ec2.nat_gateways", lambda: describe_nat_gateways(ec2))
    endpoints = run.attempt("ec2.gateway_endpoints", lambda: gateway_endpoints(ec2))
    elbv2 = run.client("elbv2")
    balancers = run.attempt("elbv2.load_balancers", lambda: describe_load_balancers(elbv2))
    health: dict[str, tuple[int, int]] | None = {}
    if balancers:
        health = run.attempt("elbv2.target_health", lambda: target_health(elbv2))

    plan = metric_plan(gateways or [], balancers or [])
    sums: dict[tuple[str, str], float] | None = {}
    if plan:
        start, end = metrics.lookback_window(
            run.request.context.now, run.request.context.lookback_days
        )
        cloudwatch = run.client("cloudwatch")
        sums = run.attempt(
            "cloudwatch.network_idle_traffic",
            lambda: metric_sums(cloudwatch, plan, start, end),
            resources=[query.resource_id for query in plan],
        )
    frame = network_idle_frame(
        account_id=run.account.account_id,
        region=run.region,
        addresses=addresses or [],
        gateways=gateways or [],
        balancers=balancers or [],
        endpoints=endpoints,
        health=health,
        sums=sums,
    )
    if frame.height:
        run.inventory.add("network_idle", frame)


def describe_addresses(ec2: Any) -> list[dict[str, Any]]:
    """Every Elastic IP of the region (DescribeAddresses has no pagination)."""
    return list(ec2.describe_addresses().get("Addresses", []))


def describe_nat_gateways(ec2: Any) -> list[dict[str, Any]]:
    """NAT gateways that exist (pending or available), all pages."""
    found: list[dict[str, Any]] = []
    pages = ec2.get_paginator("describe_nat_gateways").paginate(
        Filters=[{"Name": "state", "Values": list(NAT_STATES)}]
    )
    for page in pages:
        found.extend(page.get("NatGateways", []))
    return found


def gateway_endpoints(ec2: Any) -> dict[str, set[str]]:
    """VPC id -> services ("s3", "dynamodb") it has a gateway endpoint for."""
    found: dict[str, set[str]] = {}
    pages = ec2.get_paginator("describe_vpc_endpoints").paginate(
        Filters=[{"Name": "vpc-endpoint-type", "Values": ["Gateway"]}]
    )
    for page in pages:
        for endpoint in page.get("VpcEndpoints", []):
            if str(endpoint.get("State", "available")).lower() in ("deleted", "deleting", "failed"):
                continue
            # com.amazonaws.<region>.s3 / .dynamodb
            service = str(endpoint.get("ServiceName", "")).rsplit(".", 1)[-1]
            if endpoint.get("VpcId") and service in ("s3", "dynamodb"):
                found.setdefault(endpoint["VpcId"], set()).add(service)
    return found


def describe_load_balancers(elbv2: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in elbv2.get_paginator("describe_load_balancers").paginate():
        found.extend(page.get("LoadBalancers", []))
    return found


def target_health(elbv2: Any) -> dict[str, tuple[int, int]]:
    """Load balancer ARN -> (healthy targets, registered targets) over its target groups.

    One DescribeTargetGroups sweep (all pages), then DescribeTargetHealth per group that
    a load balancer uses: the API takes one group per call.
    """
    groups: list[dict[str, Any]] = []
    for page in elbv2.get_paginator("describe_target_groups").paginate():
        groups.extend(page.get("TargetGroups", []))
    counts: dict[str, tuple[int, int]] = {}
    for group in groups:
        owners = group.get("LoadBalancerArns") or []
        if not owners:
            continue
        answer = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
        states = [
            str(d.get("TargetHealth", {}).get("State", "")).lower()
            for d in answer.get("TargetHealthDescriptions", [])
        ]
        healthy = sum(1 for s in states if s == "healthy")
        for arn in owners:
            have_healthy, have_total = counts.get(arn, (0, 0))
            counts[arn] = (have_healthy + healthy, have_total + len(states))
    return counts


def _lb_dimension(arn: str) -> str:
    """CloudWatch's LoadBalancer dimension: the ARN after ``loadbalancer/`` (app/name/id)."""
    return arn.split(":loadbalancer/", 1)[-1]


def metric_plan(
    gateways: Sequence[Mapping[str, Any]], balancers: Sequence[Mapping[str, Any]]
) -> list[metrics.SeriesQuery]:
    """Daily Sum series for every NAT gateway and ALB/NLB, fetched in one batched sweep."""
    plan: list[metrics.SeriesQuery] = []
    for gateway in gateways:
        dims = (("NatGatewayId", str(gateway["NatGatewayId"])),)
        for label, name in NAT_METRICS:
            plan.append(
                metrics.SeriesQuery(
                    gateway["NatGatewayId"], label, "sum", "AWS/NATGateway", name, "Sum", dims
                )
            )
    for balancer in balancers:
        kind = str(balancer.get("Type", ""))
        namespace = LB_NAMESPACES.get(kind)
        if namespace is None:
            continue
        arn = str(balancer["LoadBalancerArn"])
        dims = (("LoadBalancer", _lb_dimension(arn)),)
        plan.append(
            metrics.SeriesQuery(
                arn, "requests", "sum", namespace, LB_REQUEST_METRIC[kind], "Sum", dims
            )
        )
        plan.append(
            metrics.SeriesQuery(
                arn, "processed_bytes", "sum", namespace, "ProcessedBytes", "Sum", dims
            )
        )
    return plan


def metric_sums(
    cloudwatch: Any, plan: Sequence[metrics.SeriesQuery], start: datetime, end: datetime
) -> dict[tuple[str, str], float]:
    """(resource, metric label) -> the sum over [start, end), from daily Sum points."""
    series = metrics.fetch_series(cloudwatch, plan, start, end, period=DAY_SECONDS)
    totals = series.group_by("resource_id", "metric").agg(pl.col("value").sum())
    return {(r, m): float(v) for r, m, v in totals.iter_rows()}


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _name(tags: Iterable[Mapping[str, str]] | None) -> str | None:
    for tag in tags or ():
        if tag.get("Key") == "Name":
            return tag.get("Value")
    return None


def network_idle_frame(
    *,
    account_id: str,
    region: str,
    addresses: Sequence[Mapping[str, Any]],
    gateways: Sequence[Mapping[str, Any]],
    balancers: Sequence[Mapping[str, Any]],
    endpoints: Mapping[str, set[str]] | None,
    health: Mapping[str, tuple[int, int]] | None,
    sums: Mapping[tuple[str, str], float] | None,
) -> pl.DataFrame:
    """The ``network_idle`` rows for one region, priced from the bundled catalog.

    A figure that could not be read (the metrics call failed, target health unknown,
    endpoints unknown) is null, never zero: unknown must not look idle.
    """
    rows: list[dict[str, Any]] = []
    base = {"provider": "aws", "account_id": account_id, "region": region}
    for address in addresses:
        rows.append(
            {
                **base,
                "resource_id": address.get("AllocationId") or address.get("PublicIp"),
                "resource_name": _name(address.get("Tags")) or address.get("PublicIp"),
                "resource_type": "elastic_ip",
                "kind": "elastic_ip",
                "attached": bool(address.get("AssociationId") or address.get("InstanceId")),
                "subtype": address.get("Domain"),
                "_item": prices.PUBLIC_IPV4_HOUR,
            }
        )
    for gateway in gateways:
        gid = str(gateway["NatGatewayId"])
        vpc = str(gateway.get("VpcId") or "")
        known = sums is not None and any((gid, m) in sums for m, _ in NAT_METRICS)
        processed = (
            (
                (sums or {}).get((gid, "bytes_in_from_source"), 0.0)
                + (sums or {}).get((gid, "bytes_in_from_destination"), 0.0)
            )
            / GB
            if sums is not None
            else None
        )
        rows.append(
            {
                **base,
                "resource_id": gid,
                "resource_name": _name(gateway.get("Tags")),
                "resource_type": "nat_gateway",
                "kind": "nat_gateway",
                "attached": True,
                "subtype": gateway.get("ConnectivityType", "public"),
                "vpc_id": vpc or None,
                "created": _utc(gateway.get("CreateTime")),
                # No datapoint at all over the lookback means no traffic (CloudWatch
                # publishes NAT metrics only while bytes flow), once the call succeeded.
                "processed_gb": processed,
                "bytes_out_to_destination_gb": (
                    (sums or {}).get((gid, "bytes_out_to_destination"), 0.0) / GB
                    if sums is not None
                    else None
                ),
                "has_s3_endpoint": None if endpoints is None else "s3" in endpoints.get(vpc, set()),
                "has_dynamodb_endpoint": (
                    None if endpoints is None else "dynamodb" in endpoints.get(vpc, set())
                ),
                "_item": prices.NAT_GATEWAY_HOUR,
                "_metrics_seen": known,
            }
        )
    for balancer in balancers:
        arn = str(balancer["LoadBalancerArn"])
        kind = str(balancer.get("Type", "application"))
        healthy, registered = (health or {}).get(arn, (0, 0))
        metered = kind in LB_NAMESPACES and sums is not None
        rows.append(
            {
                **base,
                "resource_id": arn,
                "resource_name": balancer.get("LoadBalancerName"),
                "resource_type": "load_balancer",
                "kind": "load_balancer",
                "attached": registered > 0 if health is not None else None,
                "subtype": kind,
                "vpc_id": balancer.get("VpcId"),
                "created": _utc(balancer.get("CreatedTime")),
                "requests": (sums or {}).get((arn, "requests"), 0.0) if metered else None,
                "processed_gb": (
                    (sums or {}).get((arn, "processed_bytes"), 0.0) / GB if metered else None
                ),
                "healthy_targets": healthy if health is not None else None,
                "registered_targets": registered if health is not None else None,
                "_item": prices.LOAD_BALANCER_HOUR.get(
                    kind, prices.LOAD_BALANCER_HOUR["application"]
                ),
            }
        )
    if not rows:
        return schema.empty(schema.NETWORK_IDLE)
    frame = pl.DataFrame(
        rows,
        schema={
            **{k: v for k, v in schema.NETWORK_IDLE.items() if k not in ("hourly_price",)},
            "_item": pl.String(),
            "_metrics_seen": pl.Boolean(),
        },
    )
    items = sorted({str(r["_item"]) for r in rows} | {prices.NAT_GATEWAY_DATA})
    book = prices.price_lookup(region, items)
    hourly = book.select(
        pl.col("item").alias("_item"),
        pl.col("price").alias("hourly_price"),
        pl.col("reference").alias("price_reference"),
        pl.when(pl.col("fallback"))
        .then(pl.lit(prices.FALLBACK_REGION))
        .otherwise(pl.lit(region))
        .alias("price_region"),
    )
    data = book.filter(pl.col("item") == prices.NAT_GATEWAY_DATA).select(
        pl.col("price").alias("_nat_data_price"), pl.col("reference").alias("_nat_data_reference")
    )
    priced = frame.drop("price_reference", "price_region").join(hourly, on="_item", how="left")
    if data.height:
        priced = priced.join(data, how="cross")
    else:
        priced = priced.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("_nat_data_price"),
            pl.lit(None, dtype=pl.String).alias("_nat_data_reference"),
        )
    is_nat = pl.col("kind") == "nat_gateway"
    priced = priced.with_columns(
        pl.when(is_nat).then(pl.col("_nat_data_price")).alias("data_price_per_gb"),
        pl.when(is_nat & pl.col("_nat_data_reference").is_not_null())
        .then(pl.format("{} | data: {}", pl.col("price_reference"), pl.col("_nat_data_reference")))
        .otherwise(pl.col("price_reference"))
        .alias("price_reference"),
        pl.when(pl.col("hourly_price").is_null())
        .then(pl.lit("none"))
        .otherwise(pl.lit("bundled"))
        .alias("price_source"),
    )
    return schema.conform("network_idle", priced)


# --------------------------------------------------------------------------- account-wide


def scan_network_account(run: RegionScan) -> None:
    """CloudFront distributions and data transfer by source, once per account."""
    cloudfront = run.client("cloudfront", region=CLOUDFRONT_METRICS_REGION)
    summaries = run.attempt("cloudfront.distributions", lambda: list_distributions(cloudfront))
    if summaries:
        configs = run.attempt(
            "cloudfront.distribution_configs",
            lambda: missing_configs(cloudfront, summaries),
        )
        start, end = metrics.lookback_window(
            run.request.context.now, run.request.context.lookback_days
        )
        cloudwatch = run.client("cloudwatch", region=CLOUDFRONT_METRICS_REGION)
        ids = [str(s["Id"]) for s in summaries]
        sums = run.attempt(
            "cloudwatch.cloudfront_traffic",
            lambda: cloudfront_metrics(cloudwatch, ids, start, end),
            resources=ids,
        )
        run.inventory.add(
            "distributions",
            distributions_frame(run.account.account_id, summaries, configs or {}, sums),
        )

    ce = run.client("ce", region=COST_EXPLORER_REGION)
    now = run.request.context.now
    account_wide = run.attempt("ce.data_transfer", lambda: transfer_by_usage_type(ce, now))
    if account_wide is None:
        return
    frame = transfer_frame(run.account.account_id, account_wide, resource_level=False)
    if frame.height:
        run.inventory.add("transfer", frame)
        by_resource = run.attempt(
            "ce.data_transfer_by_resource", lambda: transfer_by_resource(ce, now)
        )
        if by_resource:
            run.inventory.add(
                "transfer", transfer_frame(run.account.account_id, by_resource, resource_level=True)
            )


def list_distributions(cloudfront: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in cloudfront.get_paginator("list_distributions").paginate():
        found.extend(page.get("DistributionList", {}).get("Items", []) or [])
    return found


def _behaviors(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    default = config.get("DefaultCacheBehavior")
    others = (config.get("CacheBehaviors") or {}).get("Items") or []
    return ([default] if default else []) + list(others)


def missing_configs(
    cloudfront: Any, summaries: Sequence[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """GetDistributionConfig, only for distributions whose summary lacks a Compress flag
    on some cache behaviour (the summary normally carries it: one call saved each)."""
    configs: dict[str, dict[str, Any]] = {}
    for summary in summaries:
        behaviors = _behaviors(summary)
        if behaviors and all("Compress" in b for b in behaviors):
            continue
        answer = cloudfront.get_distribution_config(Id=summary["Id"])
        configs[str(summary["Id"])] = answer.get("DistributionConfig", {})
    return configs


def cloudfront_metrics(
    cloudwatch: Any, distribution_ids: Sequence[str], start: datetime, end: datetime
) -> dict[tuple[str, str], float]:
    """(distribution, metric) -> Requests and BytesDownloaded summed over the lookback, and
    the mean daily CacheHitRate (present only where additional metrics are on)."""
    plan: list[metrics.SeriesQuery] = []
    for dist in distribution_ids:
        dims = (("DistributionId", dist), ("Region", "Global"))
        for label, name, stat in (
            ("requests", "Requests", "Sum"),
            ("bytes_downloaded", "BytesDownloaded", "Sum"),
            ("cache_hit_rate", "CacheHitRate", "Average"),
        ):
            statistic = "average" if stat == "Average" else "sum"
            plan.append(
                metrics.SeriesQuery(dist, label, statistic, "AWS/CloudFront", name, stat, dims)
            )
    series = metrics.fetch_series(cloudwatch, plan, start, end, period=DAY_SECONDS)
    totals = series.group_by("resource_id", "metric").agg(
        pl.when(pl.col("metric").first() == "cache_hit_rate")
        .then(pl.col("value").mean())
        .otherwise(pl.col("value").sum())
        .alias("value")
    )
    return {(r, m): float(v) for r, m, v in totals.iter_rows()}


def distributions_frame(
    account_id: str,
    summaries: Sequence[Mapping[str, Any]],
    configs: Mapping[str, Mapping[str, Any]],
    sums: Mapping[tuple[str, str], float] | None,
) -> pl.DataFrame:
    rows: list[dict[str, Any]] = []
    for summary in summaries:
        dist = str(summary["Id"])
        config = configs.get(dist, summary)
        behaviors = _behaviors(config)
        known = [b for b in behaviors if "Compress" in b]
        uncompressed = sum(1 for b in known if not b.get("Compress"))
        origins = (config.get("Origins") or summary.get("Origins") or {}).get("Items") or []
        hit_rate = (sums or {}).get((dist, "cache_hit_rate"))
        rows.append(
            {
                "provider": "aws",
                "account_id": account_id,
                "region": "global",
                "resource_id": dist,
                "resource_name": summary.get("DomainName"),
                "resource_type": "cloudfront_distribution",
                "requests": (sums or {}).get((dist, "requests"), 0.0) if sums is not None else None,
                "bytes_out": (
                    (sums or {}).get((dist, "bytes_downloaded"), 0.0) if sums is not None else None
                ),
                "cache_hit_rate": hit_rate,
                "compress": (uncompressed == 0) if known else None,
                "price_class": config.get("PriceClass") or summary.get("PriceClass"),
                "enabled": config.get("Enabled", summary.get("Enabled")),
                "origins": ",".join(str(o.get("DomainName", "")) for o in origins) or None,
                "uncompressed_behaviors": uncompressed if known else None,
            }
        )
    frame = pl.DataFrame(rows, schema=dict(schema.DISTRIBUTIONS))
    return frame


# --------------------------------------------------------------------------- Cost Explorer


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _months_back(day: date, months: int) -> date:
    year, month = day.year, day.month - months
    while month < 1:
        month += 12
        year -= 1
    return date(year, month, 1)


def _paged(call: Any, request: dict[str, Any]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    while True:
        page = call(**request)
        results.extend(page.get("ResultsByTime", []))
        token = page.get("NextPageToken")
        if not token:
            return results
        request = {**request, "NextPageToken": token}


def transfer_by_usage_type(ce: Any, now: datetime) -> list[dict[str, Any]]:
    """Monthly cost and usage by SERVICE and USAGE_TYPE, two whole months and this one."""
    today = now.astimezone(UTC).date()
    start = _months_back(today, FULL_MONTHS)
    end = today if today > _month_start(today) else today + timedelta(days=1)
    return _paged(
        ce.get_cost_and_usage,
        {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": "MONTHLY",
            "Metrics": ["UnblendedCost", "UsageQuantity"],
            "GroupBy": [
                {"Type": "DIMENSION", "Key": "SERVICE"},
                {"Type": "DIMENSION", "Key": "USAGE_TYPE"},
            ],
        },
    )


def transfer_by_resource(ce: Any, now: datetime) -> list[dict[str, Any]]:
    """Daily cost and usage by RESOURCE_ID and USAGE_TYPE over the last 14 days."""
    end = now.astimezone(UTC).date()
    start = end - timedelta(days=RESOURCE_LEVEL_DAYS)
    return _paged(
        ce.get_cost_and_usage_with_resources,
        {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": "DAILY",
            "Metrics": ["UnblendedCost", "UsageQuantity"],
            "Filter": {"Dimensions": {"Key": "SERVICE", "Values": list(RESOURCE_LEVEL_SERVICES)}},
            "GroupBy": [
                {"Type": "DIMENSION", "Key": "RESOURCE_ID"},
                {"Type": "DIMENSION", "Key": "USAGE_TYPE"},
            ],
        },
    )


# Usage type prefixes (the billing region codes) for the regions most accounts use.
# https://docs.aws.amazon.com/cur/latest/userguide/product-columns.html (usage types)
USAGE_TYPE_REGIONS = {
    "USE1": "us-east-1",
    "USE2": "us-east-2",
    "USW1": "us-west-1",
    "USW2": "us-west-2",
    "CAN1": "ca-central-1",
    "EU": "eu-west-1",
    "EUW2": "eu-west-2",
    "EUW3": "eu-west-3",
    "EUC1": "eu-central-1",
    "EUN1": "eu-north-1",
    "APS1": "ap-southeast-1",
    "APS2": "ap-southeast-2",
    "APS3": "ap-south-1",
    "APN1": "ap-northeast-1",
    "APN2": "ap-northeast-2",
    "SAE1": "sa-east-1",
}


def destination_of(service: pl.Expr, usage_type: pl.Expr) -> pl.Expr:
    """internet | inter_region | inter_az | cdn, or null for usage that is not transfer.

    CloudFront's ``<edge>-DataTransfer-Out-Bytes`` is delivery from the CDN; elsewhere
    ``DataTransfer-Out-Bytes`` is egress to the internet, ``DataTransfer-Regional-Bytes``
    crosses availability zones, and ``<from>-<to>-AWS-Out-Bytes`` crosses regions.
    (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/billing-and-usage-interpreting.html)
    """
    return (
        pl.when(
            (service == CLOUDFRONT_SERVICE) & usage_type.str.ends_with("DataTransfer-Out-Bytes")
        )
        .then(pl.lit("cdn"))
        .when(usage_type.str.ends_with("DataTransfer-Out-Bytes"))
        .then(pl.lit("internet"))
        .when(usage_type.str.ends_with("DataTransfer-Regional-Bytes"))
        .then(pl.lit("inter_az"))
        .when(usage_type.str.contains(r"-AWS-Out-Bytes$"))
        .then(pl.lit("inter_region"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _days(start: str, end: str) -> int:
    return (date.fromisoformat(end) - date.fromisoformat(start)).days


def transfer_frame(
    account_id: str, results: Sequence[Mapping[str, Any]], *, resource_level: bool
) -> pl.DataFrame:
    """The ``transfer`` rows: data-transfer usage types only, one row per source,
    usage type and month (resource-level days are summed into their month)."""
    records: list[dict[str, Any]] = []
    windows: dict[str, int] = {}
    for period in results:
        window = period.get("TimePeriod", {})
        start, end = str(window.get("Start")), str(window.get("End"))
        windows[start] = _days(start, end)
        for group in period.get("Groups", []):
            keys = [*group.get("Keys", []), "", ""]
            got = group.get("Metrics", {})
            records.append(
                {
                    "key0": keys[0],
                    "usage_type": keys[1],
                    "start": start,
                    "gb": float(got.get("UsageQuantity", {}).get("Amount", 0) or 0),
                    "cost": float(got.get("UnblendedCost", {}).get("Amount", 0) or 0),
                }
            )
    if not records:
        return schema.empty(schema.TRANSFER)
    raw = pl.DataFrame(
        records,
        schema={
            "key0": pl.String,
            "usage_type": pl.String,
            "start": pl.String,
            "gb": pl.Float64,
            "cost": pl.Float64,
        },
    )
    # Days each month of the asked window covers (a day without usage is still a day).
    covered = (
        pl.DataFrame(
            {"start": list(windows), "days": list(windows.values())},
            schema={"start": pl.String, "days": pl.Int64},
        )
        .with_columns(pl.col("start").str.to_date().dt.month_start().alias("month"))
        .group_by("month")
        .agg(pl.col("days").sum())
    )
    if resource_level:
        # The resource id names the source; the service is not in the answer.
        service = pl.lit(None, dtype=pl.String)
        resource = (
            pl.when(pl.col("key0").is_in(["", "NoResourceId"]))
            .then(pl.lit(None, dtype=pl.String))
            .otherwise(pl.col("key0"))
        )
    else:
        service = pl.col("key0")
        resource = pl.lit(None, dtype=pl.String)
    labelled = raw.with_columns(
        service.alias("service"),
        resource.alias("source_resource"),
        pl.col("start").str.to_date().dt.month_start().alias("month"),
    )
    cloudfront_resource = pl.col("source_resource").str.contains(r"^E[A-Z0-9]{8,}$|:distribution/")
    labelled = labelled.with_columns(
        destination_of(
            pl.when(cloudfront_resource.fill_null(False))
            .then(pl.lit(CLOUDFRONT_SERVICE))
            .otherwise(pl.col("service")),
            pl.col("usage_type"),
        ).alias("destination"),
    )
    kept = labelled.filter(pl.col("destination").is_not_null())
    if resource_level:
        kept = kept.filter(pl.col("source_resource").is_not_null())
    grouped = (
        kept.group_by("source_resource", "service", "usage_type", "destination", "month")
        .agg(pl.col("gb").sum(), pl.col("cost").sum())
        .join(covered, on="month", how="left")
    )
    # Identity: the resource for resource-level rows, "<service>|<usage type>" otherwise.
    return schema.conform(
        "transfer",
        grouped.with_columns(
            pl.lit("aws").alias("provider"),
            pl.lit(account_id).alias("account_id"),
            pl.coalesce(
                pl.col("usage_type")
                .str.extract(r"^([A-Z]{2,4}\d?)-", 1)
                .replace_strict(USAGE_TYPE_REGIONS, default=None, return_dtype=pl.String),
                pl.lit("global"),
            ).alias("region"),
            pl.coalesce(
                pl.col("source_resource"),
                pl.format("{}|{}", pl.col("service"), pl.col("usage_type")),
            ).alias("resource_id"),
            pl.col("source_resource").alias("resource_name"),
            pl.lit("data_transfer").alias("resource_type"),
        ).sort("resource_id", "month"),
    )
