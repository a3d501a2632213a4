"""Small hand-built storage inventories: volumes, snapshots and buckets, with us-east-1
list prices (https://aws.amazon.com/ebs/pricing/, https://aws.amazon.com/s3/pricing/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from costscan.scanner.contracts.inventory import Inventory, RunContext

NOW = datetime(2024, 6, 17, tzinfo=UTC)
REGION = "us-east-1"
EBS_PRICES: dict[str, Any] = {
    "price_gp3_gb_month": 0.08,
    "price_gp3_iops_month": 0.005,
    "price_gp3_throughput_month": 0.04,
    "price_io2_gb_month": 0.125,
    "price_io2_iops_tier1_month": 0.065,
    "price_io2_iops_tier2_month": 0.0455,
    "price_io2_iops_tier3_month": 0.032,
    "price_snapshot_gb_month": 0.05,
    "price_region": REGION,
    "price_reference": "https://aws.amazon.com/ebs/pricing/",
    "price_source": "bundled",
}
S3_PRICES: dict[str, Any] = {
    "price_standard_gb_month": 0.023,
    "price_standard_ia_gb_month": 0.0125,
    "price_intelligent_tiering_ia_gb_month": 0.0125,
    "price_intelligent_tiering_monitoring_per_1000": 0.0025,
    "price_transition_per_1000": 0.01,
    "price_region": REGION,
    "price_reference": "https://aws.amazon.com/s3/pricing/",
}


def _identity(resource_id: str, kind: str, region: str = REGION) -> dict[str, Any]:
    return {
        "provider": "aws",
        "account_id": "123456789012",
        "region": region,
        "resource_id": resource_id,
        "resource_name": resource_id,
        "resource_type": kind,
    }


def volume(
    resource_id: str,
    volume_type: str,
    size_gb: float,
    monthly_price: float,
    *,
    iops: float | None = None,
    attached_to: str | None = None,
    attached_state: str | None = None,
    stopped_days: float | None = None,
    age_days: float = 100,
    price_region: str = REGION,
) -> dict[str, Any]:
    return {
        **_identity(resource_id, "ebs_volume"),
        **EBS_PRICES,
        "price_region": price_region,
        "volume_type": volume_type,
        "size_gb": size_gb,
        "iops": iops,
        "attached_to": attached_to,
        "attached_state": attached_state,
        "attached_stopped_since": None
        if stopped_days is None
        else NOW - timedelta(days=stopped_days),
        "state": "in-use" if attached_to else "available",
        "created": NOW - timedelta(days=age_days),
        "monthly_price": monthly_price,
    }


def snapshot(
    resource_id: str, size_gb: float, *, age_days: float, source_exists: bool, used: bool
) -> dict[str, Any]:
    return {
        **_identity(resource_id, "ebs_snapshot"),
        "size_gb": size_gb,
        "created": NOW - timedelta(days=age_days),
        "source_volume": "vol-1",
        "source_exists": source_exists,
        "used_by_image": used,
        "storage_tier": "standard",
        "price_gb_month": 0.05,
        "monthly_price": size_gb * 0.05,
        "price_source": "bundled",
        "price_region": REGION,
        "price_reference": "https://aws.amazon.com/ebs/pricing/",
    }


def bucket(
    name: str,
    standard_bytes: float,
    objects: float,
    *,
    has_lifecycle: bool,
    transitions: bool = False,
    aborts: bool = False,
    upload_bytes: float = 0.0,
    upload_age_days: float | None = None,
) -> dict[str, Any]:
    return {
        **_identity(name, "s3_bucket"),
        **S3_PRICES,
        "storage_class": "STANDARD",
        "bytes": standard_bytes,
        "objects": objects,
        "price_gb_month": 0.023,
        "has_lifecycle": has_lifecycle,
        "lifecycle_transitions": transitions,
        "lifecycle_aborts_uploads": aborts,
        "incomplete_uploads": 1 if upload_age_days is not None else 0,
        "incomplete_upload_bytes": upload_bytes,
        "incomplete_upload_oldest": None
        if upload_age_days is None
        else NOW - timedelta(days=upload_age_days),
    }


def inventory(**frames: list[dict[str, Any]]) -> Inventory:
    inv = Inventory(provider="aws", context=RunContext(now=NOW))
    for name, rows in frames.items():
        inv.add(name, pl.DataFrame(rows))
    return inv
