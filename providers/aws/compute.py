"""EC2 collectors: instances and their tags, instance type facts, Auto Scaling membership
and spot prices. Each function is one collector: it makes its calls and returns a frame,
and lets botocore errors propagate to the caller, which records them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from costscan.scanner.contracts import schema

ASG_TAG = "aws:autoscaling:groupName"
# Instances in these states cost nothing and are gone within the hour.
GONE_STATES = frozenset({"terminated", "shutting-down"})
SPOT_PRODUCT = "Linux/UNIX"
# EC2 filters take up to 200 values; 100 keeps each request small.
FILTER_VALUES_PER_CALL = 100


def _tag_map(tags: Iterable[Mapping[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in tags or () if "Key" in t}


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def describe_instances(ec2: Any) -> list[dict[str, Any]]:
    """Every instance in the region (all pages), except terminated ones."""
    found: list[dict[str, Any]] = []
    for page in ec2.get_paginator("describe_instances").paginate():
        for reservation in page.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                if instance.get("State", {}).get("Name") not in GONE_STATES:
                    found.append(instance)
    return found


def instance_frames(
    instances: Sequence[Mapping[str, Any]],
    *,
    account_id: str,
    region: str,
    groups: Mapping[str, str] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(compute without facts and prices, tags) for DescribeInstances output.

    ``groups`` maps instance id -> Auto Scaling group from DescribeAutoScalingGroups; the
    ``aws:autoscaling:groupName`` tag fills in where it is absent.
    """
    groups = groups or {}
    rows: list[dict[str, Any]] = []
    tag_ids: list[str] = []
    tag_keys: list[str] = []
    tag_values: list[str] = []
    for inst in instances:
        instance_id = inst["InstanceId"]
        tags = _tag_map(inst.get("Tags"))
        for key, value in tags.items():
            tag_ids.append(instance_id)
            tag_keys.append(key)
            tag_values.append(value)
        # InstanceLifecycle is "spot" or "scheduled"; absent means on-demand. Reserved
        # instances are a billing construct, invisible here.
        lifecycle = "spot" if inst.get("InstanceLifecycle") == "spot" else "on-demand"
        platform = "windows" if str(inst.get("Platform", "")).lower() == "windows" else "linux"
        rows.append(
            {
                "provider": "aws",
                "account_id": account_id,
                "region": region,
                "resource_id": instance_id,
                "resource_name": tags.get("Name"),
                "resource_type": "ec2_instance",
                "instance_type": inst.get("InstanceType"),
                "state": inst.get("State", {}).get("Name"),
                "lifecycle": lifecycle,
                "launch_time": _utc(inst.get("LaunchTime")),
                "group": groups.get(instance_id) or tags.get(ASG_TAG) or None,
                "platform": platform,
                "architecture": inst.get("Architecture"),
            }
        )
    compute = pl.DataFrame(
        rows,
        schema={
            k: v
            for k, v in schema.COMPUTE.items()
            if k not in ("vcpus", "memory_gib", "hourly_price", "price_source")
        },
    )
    tags_frame = pl.DataFrame(
        {"resource_id": tag_ids, "key": tag_keys, "value": tag_values},
        schema=dict(schema.TAGS),
    )
    return compute, tags_frame


def instance_type_facts(ec2: Any, instance_types: Iterable[str]) -> pl.DataFrame:
    """Facts of ``instance_types`` that the region offers (unknown names are skipped).

    Columns: instance_type, family, size, current_generation, vcpus, memory_gib,
    architecture, burstable. Asking by name through the ``instance-type`` filter (which,
    unlike the InstanceTypes parameter, ignores names the region lacks) fetches only
    what can be priced or is running, instead of every type the region has.
    """
    wanted = sorted(set(instance_types))
    rows: list[dict[str, Any]] = []
    pages = (
        page
        for first in range(0, len(wanted), FILTER_VALUES_PER_CALL)
        for page in ec2.get_paginator("describe_instance_types").paginate(
            Filters=[
                {
                    "Name": "instance-type",
                    "Values": wanted[first : first + FILTER_VALUES_PER_CALL],
                }
            ]
        )
    )
    for page in pages:
        for info in page.get("InstanceTypes", []):
            name = info["InstanceType"]
            family, _, size = name.partition(".")
            arches = info.get("ProcessorInfo", {}).get("SupportedArchitectures", [])
            rows.append(
                {
                    "instance_type": name,
                    "family": family,
                    "size": size,
                    "current_generation": info.get("CurrentGeneration"),
                    "vcpus": info.get("VCpuInfo", {}).get("DefaultVCpus"),
                    "memory_gib": info.get("MemoryInfo", {}).get("SizeInMiB", 0) / 1024 or None,
                    # Types list x86_64 with i386 or x86_64_mac; arm64 stands alone.
                    "architecture": "arm64" if "arm64" in arches else "x86_64",
                    "burstable": info.get("BurstablePerformanceSupported"),
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "instance_type": pl.String,
            "family": pl.String,
            "size": pl.String,
            "current_generation": pl.Boolean,
            "vcpus": pl.Float64,
            "memory_gib": pl.Float64,
            "architecture": pl.String,
            "burstable": pl.Boolean,
        },
    )


FACT_COLUMNS = (
    "family",
    "size",
    "current_generation",
    "vcpus",
    "memory_gib",
    "architecture",
    "burstable",
)


def region_prices(facts: pl.DataFrame | None, priced: pl.DataFrame, region: str) -> pl.DataFrame:
    """The ``prices`` frame for one region: the catalog's prices with this region's facts.

    Only types the region offers (DescribeInstanceTypes) and the catalog prices are kept;
    the API's facts win over the catalog's. Without facts the catalog stands alone.
    """
    here = priced.filter(pl.col("region") == region)
    if facts is None:
        return schema.conform("prices", here)
    merged = here.drop(FACT_COLUMNS).join(facts, on="instance_type", how="inner")
    return schema.conform("prices", merged)


def price_instances(
    compute: pl.DataFrame, prices: pl.DataFrame, facts: pl.DataFrame | None
) -> pl.DataFrame:
    """Add vcpus, memory_gib, hourly_price and price_source to instance rows.

    Catalog prices are Linux list prices, so Windows instances get no price
    (price_source "none"): a guessed price would understate them badly.
    """
    fact_source = facts if facts is not None else prices
    sized = compute.join(
        fact_source.select("instance_type", "vcpus", "memory_gib").unique("instance_type"),
        on="instance_type",
        how="left",
    )
    priced = sized.join(
        prices.select("instance_type", "hourly_price", pl.col("source").alias("_source")),
        on="instance_type",
        how="left",
    ).with_columns(
        pl.when(pl.col("platform") == "windows")
        .then(None)
        .otherwise(pl.col("hourly_price"))
        .alias("hourly_price"),
    )
    priced = priced.with_columns(
        pl.when(pl.col("hourly_price").is_null())
        .then(pl.lit("none"))
        .otherwise(pl.col("_source"))
        .alias("price_source")
    )
    return schema.conform("compute", priced)


def autoscaling_members(autoscaling: Any) -> dict[str, str]:
    """Instance id -> Auto Scaling group name, for every group in the region."""
    members: dict[str, str] = {}
    for page in autoscaling.get_paginator("describe_auto_scaling_groups").paginate():
        for group in page.get("AutoScalingGroups", []):
            for instance in group.get("Instances", []):
                members[instance["InstanceId"]] = group["AutoScalingGroupName"]
    return members


def spot_prices(
    ec2: Any, instance_types: Sequence[str], *, region: str, now: datetime
) -> pl.DataFrame:
    """Latest Linux/UNIX spot price per availability zone for ``instance_types``."""
    if not instance_types:
        return schema.empty(schema.SPOT_PRICES)
    end = _utc(now)
    assert end is not None
    rows: list[dict[str, Any]] = []
    paginator = ec2.get_paginator("describe_spot_price_history")
    pages = paginator.paginate(
        InstanceTypes=sorted(set(instance_types)),
        ProductDescriptions=[SPOT_PRODUCT],
        # The API returns the price in effect at StartTime too, so a day is enough.
        StartTime=end - timedelta(days=1),
        EndTime=end,
    )
    for page in pages:
        for item in page.get("SpotPriceHistory", []):
            rows.append(
                {
                    "provider": "aws",
                    "region": region,
                    "availability_zone": item.get("AvailabilityZone"),
                    "instance_type": item.get("InstanceType"),
                    "hourly_price": float(item["SpotPrice"]) if "SpotPrice" in item else None,
                    "ts": _utc(item.get("Timestamp")),
                }
            )
    frame = pl.DataFrame(rows, schema=dict(schema.SPOT_PRICES))
    # Keep the latest observation per zone and type.
    return frame.sort("ts").unique(["availability_zone", "instance_type"], keep="last")
