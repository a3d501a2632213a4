"""Network: idle addresses, NAT gateways and load balancers; gateway endpoints; CDN economics.

Reads ``network_idle``, ``distributions``, ``transfer`` (and ``buckets`` for object
sizes) from a cloud scan, and the FOCUS ``billing`` frame lazily for the billing-driven
CDN policy. Monthly figures use AWS's 730-hour month; usage measured over the lookback is
scaled to a month by 730 / (lookback_days × 24).

CDN arithmetic (shared by ``network.cdn-for-origin`` and ``network.billing-cdn-egress``):
CloudFront cost = tiered per-GB price on the GB beyond the free tier + request fee on the
requests beyond the free tier, where requests = GB × 2^30 / average object size. The free
tier (1 TB and 10M requests a month per account) is split over an account's candidate
sources in proportion to their GB, so it is never counted twice. Origin fetches from AWS
origins are free, so the direct egress cost goes away. A CDN is recommended only where
what it saves beats what it adds by ``min_net_monthly_saving``: small objects make the
request fee outweigh the per-GB gain, and then nothing is recommended.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from costscan.policies._billing import daily, earliest
from costscan.policies._compute import (
    evidence,
    findings,
    money,
    regional_price_confidence,
)
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.contracts.registry import policy
from costscan.scanner.contracts.units import BYTES_PER_GIB as GIB
from costscan.scanner.contracts.units import DAYS_PER_MONTH, HOURS_PER_MONTH
from costscan.scanner.contracts.vocab import Change, provider_of

# CloudFront, United States / Mexico / Canada and Europe / Israel / Türkiye, per GB:
# first 10 TB $0.085, next 40 TB $0.080, next 100 TB $0.060, next 350 TB $0.040,
# next 524 TB $0.030, next 4 PB $0.025, over 5 PB $0.020; free tier 1 TB and 10,000,000
# requests a month. https://aws.amazon.com/cloudfront/pricing/ (read 2026)
CLOUDFRONT_LIMITS_GB = (10240.0, 51200.0, 153600.0, 512000.0, 1048576.0, 5242880.0)
CLOUDFRONT_PRICES = (0.085, 0.080, 0.060, 0.040, 0.030, 0.025, 0.020)
# Data transfer out to the internet from EC2/S3/ELB in us-east-1: first 10 TB $0.09,
# next 40 TB $0.085, next 100 TB $0.07, over 150 TB $0.05 (after 100 GB free a month).
# https://aws.amazon.com/ec2/pricing/on-demand/ (Data Transfer section)
EGRESS_LIMITS_GB = (10240.0, 51200.0, 153600.0)
EGRESS_PRICES = (0.09, 0.085, 0.07, 0.05)
# HTTP Archive Web Almanac 2024, Page Weight: the median desktop page is 2,652 KB over 71
# requests, about 38 KB a response; and 709 KB of it is JavaScript, CSS and HTML (613 +
# 78 + 18), the text that compresses. https://almanac.httparchive.org/en/2024/page-weight
MEDIAN_RESPONSE_BYTES = round(2652 * 1024 / 71)
TEXT_SHARE_OF_BYTES = round((613 + 78 + 18) / 2652, 3)
# PriceClass_100 serves the United States, Canada, Europe and Israel; CloudFront bills
# those edges as US, CA and EU. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/PriceClass.html
PRICE_CLASS_100_EDGES = ("US", "CA", "EU")
# First-10-TB CloudFront price per billing edge code (same pricing page).
EDGE_FIRST_TIER_PRICE = {
    "US": 0.085,
    "CA": 0.085,
    "EU": 0.085,
    "ZA": 0.110,
    "ME": 0.110,
    "SA": 0.110,
    "JP": 0.114,
    "AU": 0.114,
    "AP": 0.120,
    "IN": 0.109,
}


def tiered(gb: pl.Expr, limits: tuple[float, ...], prices: tuple[float, ...]) -> pl.Expr:
    """The cost of ``gb`` under a tiered per-GB price (each GB at its own tier's price)."""
    total = pl.lit(0.0)
    lower = 0.0
    for index, price in enumerate(prices):
        upper = limits[index] if index < len(limits) else None
        capped = gb if upper is None else pl.min_horizontal(gb, pl.lit(upper))
        total = total + (capped - lower).clip(lower_bound=0.0) * price
        lower = upper if upper is not None else lower
    return total


@dataclass(frozen=True)
class CdnPricing:
    """CloudFront and direct-egress list prices (sources in the module docstring)."""

    cloudfront_tier_limits_gb: tuple[float, ...] = CLOUDFRONT_LIMITS_GB
    cloudfront_tier_prices: tuple[float, ...] = CLOUDFRONT_PRICES
    egress_tier_limits_gb: tuple[float, ...] = EGRESS_LIMITS_GB
    egress_tier_prices: tuple[float, ...] = EGRESS_PRICES
    # CloudFront HTTPS requests, US/Mexico/Canada: $0.0100 per 10,000.
    # https://aws.amazon.com/cloudfront/pricing/ (request pricing table)
    https_price_per_10k_requests: float = 0.01
    free_tier_gb: float = 1024.0
    free_tier_requests: float = 10_000_000.0


def cdn_arithmetic(frame: pl.LazyFrame, p: CdnPricing, key: str) -> pl.LazyFrame:
    """Add the CloudFront cost next to the direct egress cost of each candidate source.

    Needs ``monthly_gb``, ``direct_cost`` (actual, null when unknown), ``object_bytes``
    and ``key`` (the column the free tier is shared within, e.g. the account).
    """
    share = pl.col("monthly_gb") / pl.col("monthly_gb").sum().over(key)
    requests = pl.col("monthly_gb") * GIB / pl.col("object_bytes")
    billable_gb = (pl.col("monthly_gb") - p.free_tier_gb * share).clip(lower_bound=0.0)
    billable_requests = (requests - p.free_tier_requests * share).clip(lower_bound=0.0)
    list_egress = tiered(pl.col("monthly_gb"), p.egress_tier_limits_gb, p.egress_tier_prices)
    return frame.with_columns(
        requests.alias("monthly_requests"),
        billable_gb.alias("cdn_billable_gb"),
        billable_requests.alias("cdn_billable_requests"),
        tiered(billable_gb, p.cloudfront_tier_limits_gb, p.cloudfront_tier_prices).alias(
            "cdn_transfer_cost"
        ),
        (billable_requests / 10_000.0 * p.https_price_per_10k_requests).alias("cdn_request_cost"),
        list_egress.alias("list_egress_cost"),
        pl.when(pl.col("direct_cost").fill_null(0.0) > 0)
        .then(pl.col("direct_cost"))
        .otherwise(list_egress)
        .alias("egress_cost"),
    ).with_columns(
        (pl.col("cdn_transfer_cost") + pl.col("cdn_request_cost")).alias("cdn_cost"),
    )


# The saving of serving an origin's egress through CloudFront (both CDN policies).
CDN_FORMULA = (
    "monthly_savings = direct egress cost; added_monthly_cost = CloudFront per-GB tiers"
    " on (GB - free 1 TB share) + HTTPS fee per 10,000 on (GB x 2^30 / object bytes -"
    " free 10M share)"
)


def _cdn_evidence(p: CdnPricing, extra: dict[str, pl.Expr | str | float]) -> pl.Expr:
    return evidence(
        monthly_gb=pl.col("monthly_gb"),
        egress_cost=pl.col("egress_cost"),
        egress_list_cost=pl.col("list_egress_cost"),
        average_object_bytes=pl.col("object_bytes"),
        object_size_source=pl.col("object_size_source"),
        monthly_requests=pl.col("monthly_requests"),
        cloudfront=pl.struct(
            transfer_cost=pl.col("cdn_transfer_cost"),
            request_cost=pl.col("cdn_request_cost"),
            billable_gb=pl.col("cdn_billable_gb"),
            billable_requests=pl.col("cdn_billable_requests"),
            tier_limits_gb=pl.lit(list(p.cloudfront_tier_limits_gb)),
            tier_prices=pl.lit(list(p.cloudfront_tier_prices)),
            https_price_per_10k_requests=pl.lit(p.https_price_per_10k_requests),
            free_tier_gb=pl.lit(p.free_tier_gb),
            free_tier_requests=pl.lit(p.free_tier_requests),
            reference=pl.lit("https://aws.amazon.com/cloudfront/pricing/"),
        ),
        egress_prices=pl.struct(
            tier_limits_gb=pl.lit(list(p.egress_tier_limits_gb)),
            tier_prices=pl.lit(list(p.egress_tier_prices)),
            reference=pl.lit("https://aws.amazon.com/ec2/pricing/on-demand/"),
        ),
        **extra,
    )


def _month_scale(inv: InventoryView) -> float:
    """Lookback usage -> a month."""
    return HOURS_PER_MONTH / (inv.context.lookback_days * 24.0)


def _idle_rows(inv: InventoryView, kind: str) -> pl.LazyFrame:
    return inv.lazy("network_idle").filter(
        (pl.col("kind") == kind) & pl.col("hourly_price").is_not_null()
    )


# --------------------------------------------------------------------------- idle


@dataclass(frozen=True)
class IdleElasticIpParams:
    confidence: float = 0.95
    # A price from another region (us-east-1) standing in for this one lowers confidence.
    fallback_price_factor: float = 0.85


@policy(
    id="network.idle-elastic-ip",
    family="network",
    action="remove",
    title="Unassociated Elastic IP: release it",
    needs=("network_idle",),
    effort_hours=0.25,
    risk="low",
    performance="neutral",
    change=Change.DELETE_NETWORK_RESOURCE,
    formula=f"monthly_savings = hourly_price × {HOURS_PER_MONTH:g}",
)
def idle_elastic_ip(inv: InventoryView, p: IdleElasticIpParams) -> pl.LazyFrame:
    """Elastic IPs associated with nothing.

    Since 1 February 2024 AWS charges $0.005 an hour for every public IPv4 address, in use
    or idle; an address associated with nothing serves nothing, so all of it is waste.

    Saving formula: monthly_savings = hourly_price × 730.

    Source: https://aws.amazon.com/blogs/aws/new-aws-public-ipv4-address-charge-public-ip-insights/
    and https://aws.amazon.com/vpc/pricing/.
    """
    rows = _idle_rows(inv, "elastic_ip").filter(pl.col("attached") == False)  # noqa: E712
    monthly = pl.col("hourly_price") * HOURS_PER_MONTH
    return findings(
        rows,
        detail=pl.format(
            "Elastic IP {} is associated with nothing and costs {} a month.",
            pl.col("resource_name"),
            money(monthly),
        ),
        recommendation=pl.format(
            "Release {} (ReleaseAddress) unless a DNS record or allow-list needs it.",
            pl.col("resource_id"),
        ),
        current_monthly_cost=monthly,
        monthly_savings=monthly,
        confidence=regional_price_confidence(p.confidence, p.fallback_price_factor),
        price_source=pl.col("price_source"),
        evidence=evidence(
            hourly_price=pl.col("hourly_price"),
            price_reference=pl.col("price_reference"),
            associated=pl.col("attached"),
        ),
    )


@dataclass(frozen=True)
class UnusedStaticAddressParams:
    confidence: float = 0.95
    # A price from another region (us-central1) standing in for this one lowers confidence.
    fallback_price_factor: float = 0.85


@policy(
    id="network.unused-static-address",
    family="network",
    action="remove",
    title="Reserved static external address in use by nothing: release it",
    needs=("network_idle",),
    effort_hours=0.25,
    risk="low",
    performance="neutral",
    change=Change.DELETE_NETWORK_RESOURCE,
    formula=f"monthly_savings = hourly_price × {HOURS_PER_MONTH:g}",
)
def unused_static_address(inv: InventoryView, p: UnusedStaticAddressParams) -> pl.LazyFrame:
    """Compute Engine static external IP addresses reserved but used by nothing (status
    RESERVED): the twin of ``network.idle-elastic-ip``.

    Google charges a static external IPv4 address that is reserved but not in use by the
    hour; it serves nothing, so all of it is waste.

    Saving formula: monthly_savings = hourly_price × 730.

    Sources: Google's VPC pricing, "Static and ephemeral IP addresses"
    (https://cloud.google.com/vpc/network-pricing#ipaddress); Recommender's idle IP address
    recommender flags the same addresses
    (https://cloud.google.com/compute/docs/ip-addresses/reserve-static-external-ip-address#view-recommendations).
    """
    rows = _idle_rows(inv, "static_address").filter(pl.col("attached") == False)  # noqa: E712
    monthly = pl.col("hourly_price") * HOURS_PER_MONTH
    return findings(
        rows,
        detail=pl.format(
            "Static address {} is reserved, used by no resource, and costs {} a month.",
            pl.col("resource_name"),
            money(monthly),
        ),
        recommendation=pl.format(
            "Release {} ({}) unless a DNS record or allow-list needs it.",
            pl.col("resource_id"),
            # The command by cloud: this policy reads GCP addresses and Azure public IPs.
            pl.when(pl.col("provider") == "azure")
            .then(pl.lit("az network public-ip delete"))
            .otherwise(pl.lit("gcloud compute addresses delete")),
        ),
        current_monthly_cost=monthly,
        monthly_savings=monthly,
        confidence=regional_price_confidence(p.confidence, p.fallback_price_factor),
        price_source=pl.col("price_source"),
        evidence=evidence(
            hourly_price=pl.col("hourly_price"),
            price_region=pl.col("price_region"),
            price_reference=pl.col("price_reference"),
            in_use=pl.col("attached"),
        ),
    )


@dataclass(frozen=True)
class IdleNatGatewayParams:
    # AWS Compute Optimizer calls a NAT gateway idle when it carried no traffic over its
    # lookback (https://docs.aws.amazon.com/compute-optimizer/latest/ug/idle-resources.html);
    # a little slack (1 GB over the lookback) lets stray health checks through.
    max_processed_gb: float = 1.0
    confidence: float = 0.85
    # A gateway younger than the lookback has not been watched long enough.
    confidence_young: float = 0.4
    # A price from another region (us-east-1) standing in for this one lowers confidence.
    fallback_price_factor: float = 0.85


@policy(
    id="network.idle-nat-gateway",
    family="network",
    action="remove",
    title="Idle NAT gateway: delete it",
    needs=("network_idle",),
    effort_hours=1.0,
    risk="medium",
    performance="neutral",
    change=Change.DELETE_NETWORK_RESOURCE,
    formula=(
        f"monthly_savings = hourly_price × {HOURS_PER_MONTH:g} + processed_gb × "
        "data_price_per_gb × 730 / (lookback_days × 24)"
    ),
)
def idle_nat_gateway(inv: InventoryView, p: IdleNatGatewayParams) -> pl.LazyFrame:
    """NAT gateways that processed (almost) no bytes over the lookback.

    Flagged: processed_gb (BytesInFromSource + BytesInFromDestination over the lookback)
    at or under ``max_processed_gb``. Unknown traffic (the metrics call failed) is never
    taken for idle.

    Saving formula: monthly_savings = hourly_price × 730 + processed_gb × data_price_per_gb
    × 730 / (lookback_days × 24).

    Source: AWS Compute Optimizer idle NAT gateways
    (https://docs.aws.amazon.com/compute-optimizer/latest/ug/idle-resources.html); prices
    from https://aws.amazon.com/vpc/pricing/.
    """
    start = inv.context.now.timestamp() - inv.context.lookback_days * 86400
    rows = _idle_rows(inv, "nat_gateway").filter(
        pl.col("processed_gb").is_not_null() & (pl.col("processed_gb") <= p.max_processed_gb)
    )
    data = pl.col("processed_gb") * pl.col("data_price_per_gb").fill_null(0.0) * _month_scale(inv)
    monthly = pl.col("hourly_price") * HOURS_PER_MONTH + data
    young = pl.col("created").dt.epoch("s") > start
    return findings(
        rows,
        detail=pl.format(
            "NAT gateway {} processed {} GB in {} days; it costs {} a month.",
            pl.col("resource_id"),
            pl.col("processed_gb").round(3),
            pl.lit(inv.context.lookback_days),
            money(monthly),
        ),
        recommendation=pl.format(
            "Delete {} and its route-table entries, then release its {}.",
            pl.col("resource_id"),
            pl.when(pl.col("provider") == "azure")
            .then(pl.lit("public IP"))
            .otherwise(pl.lit("Elastic IP")),
        ),
        current_monthly_cost=monthly,
        monthly_savings=monthly,
        confidence=pl.when(young.fill_null(False))
        .then(pl.lit(p.confidence_young))
        .otherwise(regional_price_confidence(p.confidence, p.fallback_price_factor)),
        price_source=pl.col("price_source"),
        evidence=evidence(
            hourly_price=pl.col("hourly_price"),
            data_price_per_gb=pl.col("data_price_per_gb"),
            processed_gb=pl.col("processed_gb"),
            lookback_days=inv.context.lookback_days,
            max_processed_gb=p.max_processed_gb,
            price_reference=pl.col("price_reference"),
        ),
    )


@dataclass(frozen=True)
class IdleLoadBalancerParams:
    # AWS Trusted Advisor "Idle Load Balancers": no active back-end instances, or fewer
    # than 100 requests a day. https://docs.aws.amazon.com/awssupport/latest/user/cost-optimization-checks.html
    max_requests_per_day: float = 100.0
    confidence: float = 0.85
    confidence_no_targets_only: float = 0.7
    # A price from another region (us-east-1) standing in for this one lowers confidence.
    fallback_price_factor: float = 0.85


@policy(
    id="network.idle-load-balancer",
    family="network",
    action="remove",
    title="Idle load balancer: delete it",
    needs=("network_idle",),
    effort_hours=1.0,
    risk="medium",
    performance="neutral",
    change=Change.DELETE_NETWORK_RESOURCE,
    formula=f"monthly_savings = hourly_price × {HOURS_PER_MONTH:g}",
)
def idle_load_balancer(inv: InventoryView, p: IdleLoadBalancerParams) -> pl.LazyFrame:
    """Load balancers with no healthy targets, or under 100 requests a day.

    Requests are ALB RequestCount and, for NLBs, NewFlowCount, over the lookback.

    Saving formula: monthly_savings = hourly_price × 730 (capacity-unit charges of an idle
    balancer are negligible and left out).

    Source: AWS Trusted Advisor "Idle Load Balancers"
    (https://docs.aws.amazon.com/awssupport/latest/user/cost-optimization-checks.html);
    prices from https://aws.amazon.com/elasticloadbalancing/pricing/.
    """
    per_day = pl.col("requests") / inv.context.lookback_days
    no_healthy = pl.col("healthy_targets") == 0
    quiet = per_day < p.max_requests_per_day
    rows = _idle_rows(inv, "load_balancer").filter(
        no_healthy.fill_null(False) | quiet.fill_null(False)
    )
    monthly = pl.col("hourly_price") * HOURS_PER_MONTH
    return findings(
        rows,
        detail=pl.format(
            "{} load balancer {}: {} healthy of {} targets, {} requests a day; {} a month.",
            pl.col("subtype"),
            pl.col("resource_name"),
            pl.col("healthy_targets"),
            pl.col("registered_targets"),
            per_day.round(1),
            money(monthly),
        ),
        recommendation=pl.format(
            "Delete load balancer {} (and its target groups) if nothing depends on its DNS name.",
            pl.col("resource_name"),
        ),
        current_monthly_cost=monthly,
        monthly_savings=monthly,
        confidence=pl.when(quiet.fill_null(False))
        .then(regional_price_confidence(p.confidence, p.fallback_price_factor))
        .otherwise(pl.lit(p.confidence_no_targets_only)),
        price_source=pl.col("price_source"),
        evidence=evidence(
            hourly_price=pl.col("hourly_price"),
            requests=pl.col("requests"),
            requests_per_day=per_day,
            healthy_targets=pl.col("healthy_targets"),
            registered_targets=pl.col("registered_targets"),
            max_requests_per_day=p.max_requests_per_day,
            price_reference=pl.col("price_reference"),
        ),
    )


# --------------------------------------------------------------------------- endpoints


@dataclass(frozen=True)
class GatewayEndpointParams:
    # An assumption, not a measurement: CloudWatch does not split NAT bytes by
    # destination. Set it from VPC Flow Logs; confidence stays low while it is assumed.
    assumed_s3_dynamodb_share: float = 0.25
    # Below this, the endpoint saves under a dollar or two a month.
    min_monthly_processed_gb: float = 100.0
    confidence: float = 0.3


@policy(
    id="network.nat-gateway-endpoint",
    family="network",
    action="configure",
    title="NAT gateway without S3/DynamoDB gateway endpoints",
    needs=("network_idle",),
    effort_hours=2.0,
    risk="low",
    performance="neutral",
    change=Change.CONFIGURE_SERVICE,
    formula=(
        "monthly_savings = processed_gb × 730 / (lookback_days × 24) × "
        "assumed_s3_dynamodb_share × data_price_per_gb"
    ),
)
def nat_gateway_endpoint(inv: InventoryView, p: GatewayEndpointParams) -> pl.LazyFrame:
    """Busy NAT gateways in VPCs lacking a (free) S3 or DynamoDB gateway endpoint.

    Traffic from private subnets to S3 and DynamoDB goes through the NAT gateway and pays
    its data processing charge, unless the VPC has a gateway endpoint, which costs
    nothing. Destination evidence: DescribeVpcEndpoints says the endpoint is absent; the
    share of NAT bytes bound for S3/DynamoDB is ``assumed_s3_dynamodb_share`` (estimated:
    CloudWatch does not split NAT bytes by destination).

    Saving formula: monthly_savings = monthly processed GB × share × data_price_per_gb,
    where monthly processed GB = processed_gb × 730 / (lookback_days × 24).

    Sources: gateway endpoints have no charge
    (https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html); NAT data
    processing prices from https://aws.amazon.com/vpc/pricing/.
    """
    monthly_gb = pl.col("processed_gb") * _month_scale(inv)
    missing = (pl.col("has_s3_endpoint") == False) | (pl.col("has_dynamodb_endpoint") == False)  # noqa: E712
    rows = _idle_rows(inv, "nat_gateway").filter(
        missing.fill_null(False)
        & pl.col("data_price_per_gb").is_not_null()
        & (monthly_gb >= p.min_monthly_processed_gb)
    )
    saving = monthly_gb * p.assumed_s3_dynamodb_share * pl.col("data_price_per_gb")
    current = pl.col("hourly_price") * HOURS_PER_MONTH + monthly_gb * pl.col("data_price_per_gb")
    lacking = pl.concat_str(
        [
            pl.when(pl.col("has_s3_endpoint") == False).then(pl.lit("S3")),  # noqa: E712
            pl.when(pl.col("has_dynamodb_endpoint") == False).then(pl.lit("DynamoDB")),  # noqa: E712
        ],
        separator=" and ",
        ignore_nulls=True,
    )
    return findings(
        rows,
        detail=pl.format(
            "NAT gateway {} processes about {} GB a month; VPC {} has no {} gateway endpoint.",
            pl.col("resource_id"),
            monthly_gb.round(0),
            pl.col("vpc_id"),
            lacking,
        ),
        recommendation=pl.format(
            "Add {} gateway endpoint(s) to VPC {} and its private route tables (free).",
            lacking,
            pl.col("vpc_id"),
        ),
        current_monthly_cost=current,
        monthly_savings=saving,
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            processed_gb=pl.col("processed_gb"),
            monthly_processed_gb=monthly_gb,
            assumed_s3_dynamodb_share=p.assumed_s3_dynamodb_share,
            share_is_estimated=True,
            data_price_per_gb=pl.col("data_price_per_gb"),
            has_s3_endpoint=pl.col("has_s3_endpoint"),
            has_dynamodb_endpoint=pl.col("has_dynamodb_endpoint"),
            price_reference=pl.col("price_reference"),
        ),
    )


# --------------------------------------------------------------------------- CDN


@dataclass(frozen=True)
class CdnForOriginParams(CdnPricing):
    # Used when the object size is unknown (no bucket metrics for the source): the web's
    # median response (module docstring), which keeps the request fee honest.
    assumed_object_bytes: float = float(MEDIAN_RESPONSE_BYTES)
    min_monthly_gb: float = 100.0
    min_net_monthly_saving: float = 10.0
    confidence: float = 0.6
    confidence_assumed_size: float = 0.4


def _object_sizes(inv: InventoryView) -> pl.LazyFrame:
    """Average stored object size per bucket (bytes / objects), where metrics exist."""
    return (
        inv.lazy("buckets")
        .group_by("resource_id")
        .agg(pl.col("bytes").sum().alias("_bytes"), pl.col("objects").sum().alias("_objects"))
        .filter(pl.col("_objects") > 0)
        .select(
            pl.col("resource_id").alias("source_resource"),
            (pl.col("_bytes") / pl.col("_objects")).alias("_bucket_object_bytes"),
        )
    )


@policy(
    id="network.cdn-for-origin",
    family="network",
    action="configure",
    title="Heavy internet egress without a CDN: put CloudFront in front",
    needs=("transfer", "buckets"),
    effort_hours=8.0,
    risk="low",
    performance="improves",
    change=Change.CONFIGURE_SERVICE,
    formula=CDN_FORMULA,
)
def cdn_for_origin(inv: InventoryView, p: CdnForOriginParams) -> pl.LazyFrame:
    """Sources (EC2, S3, load balancers) serving heavy egress straight to the internet.

    From ``transfer`` rows with destination ``internet`` and a known source resource,
    scaled to a month (GB / days × 730/24). The direct egress cost is the billed cost
    (else the tiered list price) and disappears behind CloudFront (origin fetches from AWS
    are free); CloudFront's own cost is added. Average object size: the bucket's stored
    bytes / objects where known, else ``assumed_object_bytes``.

    Formula: see the module docstring; fires when monthly GB ≥ ``min_monthly_gb`` and
    egress cost - CloudFront cost ≥ ``min_net_monthly_saving``.

    Sources: https://aws.amazon.com/cloudfront/pricing/ (tiers, request fee, always-free
    tier), https://aws.amazon.com/ec2/pricing/on-demand/ (egress tiers), HTTP Archive Web
    Almanac 2024 Page Weight (median response size).
    """
    per_source = (
        inv.lazy("transfer")
        .filter((pl.col("destination") == "internet") & pl.col("source_resource").is_not_null())
        .group_by("provider", "account_id", "source_resource")
        .agg(
            pl.col("region").first(),
            pl.col("gb").sum(),
            pl.col("cost").sum(),
            # Days per month once per source (several usage types share a month).
            pl.struct("month", "days").unique().struct.field("days").sum().alias("_days"),
        )
        .filter(pl.col("_days") > 0)
        .with_columns(
            (pl.col("gb") / pl.col("_days") * DAYS_PER_MONTH).alias("monthly_gb"),
            (pl.col("cost") / pl.col("_days") * DAYS_PER_MONTH).alias("direct_cost"),
        )
        .join(_object_sizes(inv), on="source_resource", how="left")
        .with_columns(
            pl.coalesce("_bucket_object_bytes", pl.lit(p.assumed_object_bytes)).alias(
                "object_bytes"
            ),
            pl.when(pl.col("_bucket_object_bytes").is_not_null())
            .then(pl.lit("bucket bytes / objects"))
            .otherwise(pl.lit("assumed (HTTP Archive median response)"))
            .alias("object_size_source"),
        )
        .filter(pl.col("monthly_gb") >= p.min_monthly_gb)
    )
    priced = cdn_arithmetic(per_source, p, "account_id").filter(
        pl.col("egress_cost") - pl.col("cdn_cost") >= p.min_net_monthly_saving
    )
    return findings(
        priced.with_columns(
            pl.col("source_resource").alias("resource_id"),
            pl.col("source_resource").alias("resource_name"),
            pl.lit("data_transfer_source").alias("resource_type"),
        ),
        detail=pl.format(
            "{} sends about {} GB a month to the internet ({}); CloudFront would cost {}.",
            pl.col("source_resource"),
            pl.col("monthly_gb").round(0),
            money(pl.col("egress_cost")),
            money(pl.col("cdn_cost")),
        ),
        recommendation=pl.format(
            "Serve {} through a CloudFront distribution (origin fetches from AWS are free).",
            pl.col("source_resource"),
        ),
        current_monthly_cost=pl.col("egress_cost"),
        monthly_savings=pl.col("egress_cost"),
        added_monthly_cost=pl.col("cdn_cost"),
        confidence=pl.when(pl.col("_bucket_object_bytes").is_not_null())
        .then(pl.lit(p.confidence))
        .otherwise(pl.lit(p.confidence_assumed_size)),
        price_source=pl.when(pl.col("direct_cost").fill_null(0.0) > 0)
        .then(pl.lit("billing"))
        .otherwise(pl.lit("bundled")),
        evidence=_cdn_evidence(p, {"days_observed": pl.col("_days")}),
    )


@dataclass(frozen=True)
class BillingCdnParams(CdnPricing):
    assumed_object_bytes: float = float(MEDIAN_RESPONSE_BYTES)
    min_monthly_gb: float = 100.0
    min_net_monthly_saving: float = 10.0
    confidence: float = 0.5


# FOCUS rows that are data transfer out to the internet: the AWS charge descriptions
# ("... data transfer out beyond the global free tier", "... transfer out to Internet"),
# SKU or usage-type text "DataTransfer-Out-Bytes", and similar wording in other clouds'
# exports ("Internet Egress", "Data Transfer Out"). Inter-region and CDN delivery excluded.
EGRESS_PATTERN = (
    r"(?i)data ?transfer[ -]out|transfer out to (the )?internet"
    r"|internet (data transfer|egress)|DataTransfer-Out-Bytes"
)
NOT_INTERNET_PATTERN = (
    r"(?i)inter-?region|region to region|-AWS-Out-Bytes|to origin|OBytes|Regional"
    r"|InterZone|inter-?zone"
)
CDN_SERVICE_PATTERN = r"(?i)cloudfront|\bcdn\b|front door"
GB_UNITS = ("gb", "gib", "gigabytes", "gibibytes", "gb-month")


@policy(
    id="network.billing-cdn-egress",
    family="network",
    action="configure",
    title="Billed internet egress a CDN would cut",
    needs=("billing",),
    effort_hours=8.0,
    risk="low",
    performance="improves",
    change=Change.CONFIGURE_SERVICE,
    formula=CDN_FORMULA,
)
def billing_cdn_egress(inv: InventoryView, p: BillingCdnParams) -> pl.LazyFrame:
    """Data transfer out to the internet in a FOCUS export, by source, priced against a CDN.

    Rows: ChargeDescription / SkuId naming data transfer out to the internet (not
    inter-region, not CDN delivery itself), PricingUnit in GB, ServiceName not a CDN.
    Grouped by ResourceId (else ServiceName) and SubAccountId; GB = ConsumedQuantity
    (else PricingQuantity), cost = EffectiveCost (else BilledCost); the period's days come
    from ChargePeriodStart/End so the result is a month (× 730/24 per day).

    Formula: as ``network.cdn-for-origin`` (module docstring), with the billed cost as the
    direct egress cost and ``assumed_object_bytes`` as the object size.

    Sources: https://aws.amazon.com/cloudfront/pricing/,
    https://aws.amazon.com/ec2/pricing/on-demand/, HTTP Archive Web Almanac 2024.
    """
    text = pl.concat_str(
        [pl.col("ChargeDescription"), pl.col("SkuId")], separator=" ", ignore_nulls=True
    )
    source = pl.coalesce(pl.col("ResourceId"), pl.col("ServiceName"), pl.lit("unknown"))
    # From the billing rollup (policies/_billing.py): the patterns run once per distinct
    # description and SKU of a resource and day, not once per line item.
    rows = daily(inv)
    span = pl.col("last_end").max() - pl.col("first_start").min()
    export_period = rows.select((span.dt.total_seconds() / 86400.0).alias("_days"))
    egress = (
        rows.filter(
            text.str.contains(EGRESS_PATTERN)
            & ~text.str.contains(NOT_INTERNET_PATTERN)
            & ~pl.col("ServiceName").fill_null("").str.contains(CDN_SERVICE_PATTERN)
            & pl.col("PricingUnit").str.to_lowercase().is_in(GB_UNITS)
        )
        .group_by(
            pl.col("SubAccountId").fill_null("unknown").alias("account_id"),
            source.alias("source_resource"),
        )
        .agg(
            earliest("ProviderName").alias("_provider"),
            earliest("RegionId").alias("region"),
            earliest("ServiceName").alias("service"),
            pl.col("quantity").sum().alias("gb"),
            pl.col("cost").sum(),
        )
        # Scale by the export's whole period, not the source's own first and last charge:
        # one hour of egress in a month's export is that month's egress, not 730 hours of it.
        .join(export_period, how="cross")
        .filter(pl.col("_days") > 0)
        .with_columns(
            (pl.col("gb") / pl.col("_days") * DAYS_PER_MONTH).alias("monthly_gb"),
            (pl.col("cost") / pl.col("_days") * DAYS_PER_MONTH).alias("direct_cost"),
            pl.lit(p.assumed_object_bytes).alias("object_bytes"),
            pl.lit("assumed (HTTP Archive median response)").alias("object_size_source"),
        )
        .filter(pl.col("monthly_gb") >= p.min_monthly_gb)
    )
    priced = cdn_arithmetic(egress, p, "account_id").filter(
        pl.col("egress_cost") - pl.col("cdn_cost") >= p.min_net_monthly_saving
    )
    return findings(
        priced.with_columns(
            provider_of(pl.col("_provider").fill_null("unknown")).alias("provider"),
            pl.col("source_resource").alias("resource_id"),
            pl.col("source_resource").alias("resource_name"),
            pl.lit("data_transfer_source").alias("resource_type"),
        ),
        detail=pl.format(
            "{} ({}) is billed {} a month for about {} GB of internet egress; a CDN would cost {}.",
            pl.col("source_resource"),
            pl.col("service"),
            money(pl.col("egress_cost")),
            pl.col("monthly_gb").round(0),
            money(pl.col("cdn_cost")),
        ),
        recommendation=pl.format(
            "Serve {} through a CDN (CloudFront for AWS origins).", pl.col("source_resource")
        ),
        current_monthly_cost=pl.col("egress_cost"),
        monthly_savings=pl.col("egress_cost"),
        added_monthly_cost=pl.col("cdn_cost"),
        confidence=pl.lit(p.confidence),
        price_source=pl.lit("billing"),
        evidence=_cdn_evidence(p, {"billed_days": pl.col("_days")}),
    )


# --------------------------------------------------------------------------- distributions


@dataclass(frozen=True)
class CompressionParams:
    cloudfront_tier_limits_gb: tuple[float, ...] = CLOUDFRONT_LIMITS_GB
    cloudfront_tier_prices: tuple[float, ...] = CLOUDFRONT_PRICES
    # Share of bytes that is text (HTTP Archive 2024, module docstring).
    compressible_share: float = TEXT_SHARE_OF_BYTES
    # Assumed size reduction of text by gzip/brotli; set it from your own responses.
    compression_reduction: float = 0.7
    min_monthly_saving: float = 1.0
    confidence: float = 0.5


@policy(
    id="network.distribution-compression",
    family="network",
    action="configure",
    title="CloudFront distribution without compression",
    needs=("distributions",),
    effort_hours=0.5,
    risk="low",
    performance="improves",
    change=Change.CONFIGURE_SERVICE,
    formula=(
        "monthly_savings = tiered(GB) - tiered(GB × (1 - compressible_share × "
        "compression_reduction))"
    ),
)
def distribution_compression(inv: InventoryView, p: CompressionParams) -> pl.LazyFrame:
    """Distributions with a cache behaviour that does not compress.

    Saving formula: monthly GB = bytes_out / 2^30 × 730 / (lookback_days × 24);
    monthly_savings = tiered(GB) - tiered(GB × (1 - compressible_share ×
    compression_reduction)), with CloudFront's per-GB tiers (free tier ignored: it is
    shared with every distribution of the account, so the saving is an upper bound).

    Sources: https://aws.amazon.com/cloudfront/pricing/;
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/ServingCompressedFiles.html;
    compressible share from HTTP Archive Web Almanac 2024 Page Weight (estimated).
    """
    gb = pl.col("bytes_out") / GIB * _month_scale(inv)
    cut = 1.0 - p.compressible_share * p.compression_reduction
    current = tiered(gb, p.cloudfront_tier_limits_gb, p.cloudfront_tier_prices)
    after = tiered(gb * cut, p.cloudfront_tier_limits_gb, p.cloudfront_tier_prices)
    rows = (
        inv.lazy("distributions")
        .filter((pl.col("compress") == False) & pl.col("bytes_out").is_not_null())  # noqa: E712
        .with_columns(
            gb.alias("_gb"), current.alias("_current"), (current - after).alias("_saving")
        )
        .filter(pl.col("_saving") >= p.min_monthly_saving)
    )
    return findings(
        rows,
        detail=pl.format(
            "Distribution {} serves about {} GB a month; {} cache behaviour(s) do not compress.",
            pl.col("resource_id"),
            pl.col("_gb").round(0),
            pl.col("uncompressed_behaviors"),
        ),
        recommendation=pl.format(
            "Turn on Compress objects automatically for every cache behaviour of {}.",
            pl.col("resource_id"),
        ),
        current_monthly_cost=pl.col("_current"),
        monthly_savings=pl.col("_saving"),
        confidence=pl.lit(p.confidence),
        price_source=pl.lit("bundled"),
        evidence=evidence(
            monthly_gb=pl.col("_gb"),
            compressible_share=p.compressible_share,
            compression_reduction=p.compression_reduction,
            estimated=True,
            tier_limits_gb=pl.lit(list(p.cloudfront_tier_limits_gb)),
            tier_prices=pl.lit(list(p.cloudfront_tier_prices)),
            reference="https://aws.amazon.com/cloudfront/pricing/",
        ),
    )


@dataclass(frozen=True)
class PriceClassParams:
    # "Regional": at most this share of the bytes goes to edges outside PriceClass_100.
    max_outside_share: float = 0.05
    min_monthly_saving: float = 1.0
    confidence: float = 0.6
    confidence_apportioned: float = 0.4


@policy(
    id="network.price-class-regional",
    family="network",
    action="configure",
    title="PriceClass_All for regional traffic: use PriceClass_100",
    needs=("distributions", "transfer"),
    effort_hours=0.5,
    risk="low",
    performance="risk",
    change=Change.CONFIGURE_SERVICE,
    formula="monthly_savings = Σ outside-PriceClass_100 edge GB × (edge price - 0.085)",
)
def price_class_regional(inv: InventoryView, p: PriceClassParams) -> pl.LazyFrame:
    """PriceClass_All distributions whose viewers are (almost) all in the US, Canada, Europe.

    Evidence: CloudFront ``<edge>-DataTransfer-Out-Bytes`` rows of ``transfer`` (billing
    edge codes US, CA, EU, JP, AP, AU, SA, IN, ME, ZA). Rows naming the distribution are
    used as they are; where a distribution has none, the account-wide CloudFront rows are
    apportioned by its share of BytesDownloaded (assumed: every distribution has the
    account's geographic mix; lower confidence). Under PriceClass_100 the few viewers
    elsewhere are served from US/EU edges at the US/EU price (slower for them: performance
    at risk).

    Saving formula: Σ over edges outside PriceClass_100 of monthly GB × (the edge's first
    tier price - $0.085), first 10 TB tier prices.

    Source: https://aws.amazon.com/cloudfront/pricing/ and
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/PriceClass.html.
    """
    edge = pl.col("usage_type").str.extract(r"^([A-Z]{2})-DataTransfer-Out-Bytes$", 1)
    cdn_rows = (
        inv.lazy("transfer")
        .filter(pl.col("destination") == "cdn")
        .with_columns(
            edge.alias("edge"),
            (pl.col("gb") / pl.col("days") * DAYS_PER_MONTH).alias("monthly_gb"),
        )
        .filter(pl.col("edge").is_not_null() & pl.col("days").is_not_null() & (pl.col("days") > 0))
    )
    dists = inv.lazy("distributions").filter(pl.col("price_class") == "PriceClass_All")
    own = cdn_rows.filter(pl.col("source_resource").is_not_null()).select(
        pl.col("source_resource").alias("resource_id"),
        "edge",
        "monthly_gb",
        pl.lit(False).alias("apportioned"),
    )
    with_own = own.select("resource_id").unique()
    share = pl.col("bytes_out") / pl.col("bytes_out").sum().over("account_id")
    account_wide = (
        inv.lazy("distributions")
        .filter(pl.col("bytes_out") > 0)
        .with_columns(share.alias("_share"))
        .join(with_own, on="resource_id", how="anti")
        .join(
            cdn_rows.filter(pl.col("source_resource").is_null()).select(
                "account_id", "edge", pl.col("monthly_gb").alias("_account_gb")
            ),
            on="account_id",
            how="inner",
        )
        .select(
            "resource_id",
            "edge",
            (pl.col("_account_gb") * pl.col("_share")).alias("monthly_gb"),
            pl.lit(True).alias("apportioned"),
        )
    )
    prices = pl.LazyFrame(
        {"edge": list(EDGE_FIRST_TIER_PRICE), "_price": list(EDGE_FIRST_TIER_PRICE.values())}
    )
    base_price = EDGE_FIRST_TIER_PRICE["US"]
    inside = pl.col("edge").is_in(PRICE_CLASS_100_EDGES)
    per_dist = (
        pl.concat([own, account_wide], how="vertical")
        .join(prices, on="edge", how="left")
        .group_by("resource_id")
        .agg(
            pl.col("monthly_gb").sum().alias("_gb"),
            pl.col("monthly_gb").filter(~inside).sum().alias("_outside_gb"),
            (pl.col("monthly_gb") * (pl.col("_price").fill_null(base_price) - base_price))
            .filter(~inside)
            .sum()
            .alias("_saving"),
            (pl.col("monthly_gb") * pl.col("_price").fill_null(base_price)).sum().alias("_cost"),
            pl.col("apportioned").any().alias("_apportioned"),
            pl.struct("edge", "monthly_gb").alias("_edges"),
        )
        .filter(pl.col("_gb") > 0)
        .with_columns((pl.col("_outside_gb") / pl.col("_gb")).alias("_outside_share"))
        .filter(
            (pl.col("_outside_share") <= p.max_outside_share)
            & (pl.col("_saving") >= p.min_monthly_saving)
        )
    )
    rows = dists.join(per_dist, on="resource_id", how="inner")
    return findings(
        rows,
        detail=pl.format(
            "Distribution {} uses PriceClass_All but {}% of its bytes go to edges outside "
            "the US, Canada and Europe.",
            pl.col("resource_id"),
            (pl.col("_outside_share") * 100).round(1),
        ),
        recommendation=pl.format(
            "Set PriceClass_100 on {} (viewers elsewhere get US/EU edges).",
            pl.col("resource_id"),
        ),
        current_monthly_cost=pl.col("_cost"),
        monthly_savings=pl.col("_saving"),
        confidence=pl.when(pl.col("_apportioned"))
        .then(pl.lit(p.confidence_apportioned))
        .otherwise(pl.lit(p.confidence)),
        price_source=pl.lit("bundled"),
        evidence=evidence(
            monthly_gb=pl.col("_gb"),
            outside_gb=pl.col("_outside_gb"),
            outside_share=pl.col("_outside_share"),
            edges=pl.col("_edges"),
            apportioned_from_account=pl.col("_apportioned"),
            first_tier_prices=pl.lit(str(EDGE_FIRST_TIER_PRICE)),
            reference="https://aws.amazon.com/cloudfront/pricing/",
        ),
    )
