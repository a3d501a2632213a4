"""Small hand-built inventories for the network policy tests (us-east-1 list prices)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import Inventory, RunContext

NOW = datetime(2024, 6, 17, tzinfo=UTC)
LOOKBACK_DAYS = 14
ACCOUNT = "123456789012"
REGION = "us-east-1"
IPV4_HOURLY = 0.005  # https://aws.amazon.com/vpc/pricing/
NAT_HOURLY = 0.045
NAT_PER_GB = 0.045
ALB_HOURLY = 0.0225
VPC_REFERENCE = "https://aws.amazon.com/vpc/pricing/"
LONG_AGO = NOW - timedelta(days=90)


def _identity(resource_id: str, resource_type: str, region: str = REGION) -> dict[str, Any]:
    return {
        "provider": "aws",
        "account_id": ACCOUNT,
        "region": region,
        "resource_id": resource_id,
        "resource_name": resource_id,
        "resource_type": resource_type,
    }


def elastic_ip(resource_id: str, *, attached: bool) -> dict[str, Any]:
    return {
        **_identity(resource_id, "elastic_ip"),
        "kind": "elastic_ip",
        "attached": attached,
        "hourly_price": IPV4_HOURLY,
        "price_source": "bundled",
        "price_reference": VPC_REFERENCE,
    }


def nat_gateway(
    resource_id: str,
    *,
    processed_gb: float | None,
    s3_endpoint: bool | None = False,
    dynamodb_endpoint: bool | None = True,
    created: datetime = LONG_AGO,
) -> dict[str, Any]:
    return {
        **_identity(resource_id, "nat_gateway"),
        "kind": "nat_gateway",
        "attached": True,
        "processed_gb": processed_gb,
        "hourly_price": NAT_HOURLY,
        "data_price_per_gb": NAT_PER_GB,
        "price_source": "bundled",
        "price_reference": VPC_REFERENCE,
        "vpc_id": "vpc-1",
        "created": created,
        "has_s3_endpoint": s3_endpoint,
        "has_dynamodb_endpoint": dynamodb_endpoint,
    }


def load_balancer(
    resource_id: str, *, requests: float | None, healthy: int, registered: int
) -> dict[str, Any]:
    return {
        **_identity(resource_id, "load_balancer"),
        "kind": "load_balancer",
        "subtype": "application",
        "attached": registered > 0,
        "requests": requests,
        "processed_gb": 0.0,
        "healthy_targets": healthy,
        "registered_targets": registered,
        "hourly_price": ALB_HOURLY,
        "price_source": "bundled",
        "price_reference": "https://aws.amazon.com/elasticloadbalancing/pricing/",
        "created": LONG_AGO,
    }


def transfer_row(
    source: str | None,
    *,
    gb: float,
    cost: float,
    destination: str = "internet",
    usage_type: str = "USE1-DataTransfer-Out-Bytes",
    month: date = date(2024, 5, 1),
    days: int = 31,
    service: str | None = None,
) -> dict[str, Any]:
    return {
        **_identity(source or f"{service}|{usage_type}", "data_transfer"),
        "source_resource": source,
        "destination": destination,
        "month": month,
        "gb": gb,
        "cost": cost,
        "usage_type": usage_type,
        "service": service,
        "days": days,
    }


def distribution(
    resource_id: str,
    *,
    bytes_out: float,
    compress: bool = True,
    price_class: str = "PriceClass_All",
) -> dict[str, Any]:
    return {
        **_identity(resource_id, "cloudfront_distribution", region="global"),
        "requests": bytes_out / 100_000,
        "bytes_out": bytes_out,
        "compress": compress,
        "uncompressed_behaviors": 0 if compress else 1,
        "price_class": price_class,
        "enabled": True,
    }


def bucket(name: str, *, bytes_: float, objects: float) -> dict[str, Any]:
    return {
        **_identity(name, "s3_bucket"),
        "storage_class": "STANDARD",
        "bytes": bytes_,
        "objects": objects,
    }


def inventory(frames: Mapping[str, Sequence[Mapping[str, Any]]]) -> Inventory:
    inv = Inventory(provider="aws", context=RunContext(now=NOW, lookback_days=LOOKBACK_DAYS))
    for name, rows in frames.items():
        inv.add(name, pl.DataFrame(list(rows), schema=dict(schema.FRAMES[name]), strict=False))
    return inv


def focus_rows(rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """A small FOCUS frame in schema.BILLING."""
    return pl.DataFrame(list(rows), schema=dict(schema.BILLING), strict=False)
