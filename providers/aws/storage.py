"""Storage collectors: EBS volumes and snapshots (per region), S3 buckets (per account).

- ``scan_storage_region``: DescribeVolumes, the attached instances' state and, for stopped
  ones, the stop date from StateTransitionReason (from the instances the EC2 collector
  already described, so a scan describes a region's instances once; DescribeInstances only
  for attached instances it lacks, e.g. when its call failed), DescribeSnapshots
  (OwnerIds=self) and DescribeImages (Owners=self) to know which snapshots an AMI uses.
- ``scan_storage_account``: ListBuckets, each bucket's region (GetBucketLocation), then per
  region the daily ``AWS/S3`` BucketSizeBytes and NumberOfObjects series (ListMetrics to
  find them, GetMetricData in batches of up to 500 queries: objects are never listed), and
  per bucket its lifecycle, Intelligent-Tiering configurations and incomplete multipart
  uploads.

Every call group runs inside ``run.attempt``; a missing field costs confidence, not the scan.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from costscan.providers.aws.scan import RegionScan
from costscan.scanner.contracts import schema

# EC2 filters take up to 200 values; 100 keeps each request small.
FILTER_VALUES_PER_CALL = 100
# "User initiated (2024-01-01 10:00:00 GMT)": the time an instance was stopped.
_STOPPED_AT = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)")
# The EC2 collector's DescribeInstances answer in ``RegionScan.collected``.
DESCRIBE_INSTANCES = "ec2.instances"

# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
MAX_QUERIES_PER_CALL = 500
S3_NAMESPACE = "AWS/S3"
DAY_SECONDS = 86400
# S3 publishes its storage metrics once a day, a day or two late: look back far enough
# to find the latest datapoint.
S3_METRICS_LOOKBACK = timedelta(days=4)
ALL_STORAGE_TYPES = "AllStorageTypes"
# CloudWatch StorageType -> S3 storage class (the API's names, which the prices use).
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html
STORAGE_TYPES: Mapping[str, str] = {
    "StandardStorage": "STANDARD",
    "StandardIAStorage": "STANDARD_IA",
    "OneZoneIAStorage": "ONEZONE_IA",
    "ReducedRedundancyStorage": "REDUCED_REDUNDANCY",
    "GlacierInstantRetrievalStorage": "GLACIER_IR",
    "GlacierStorage": "GLACIER",
    "DeepArchiveStorage": "DEEP_ARCHIVE",
    "IntelligentTieringFAStorage": "INTELLIGENT_TIERING",
    "IntelligentTieringIAStorage": "INTELLIGENT_TIERING_IA",
    "IntelligentTieringAIAStorage": "INTELLIGENT_TIERING_AIA",
    "IntelligentTieringAAStorage": "INTELLIGENT_TIERING_AA",
    "IntelligentTieringDAAStorage": "INTELLIGENT_TIERING_DAA",
    "ExpressOneZone": "EXPRESS_ONEZONE",
}
# Sizing every upload takes a ListParts call each; past this many per bucket the bytes are
# a lower bound (the count stays exact) and the evidence says so.
MAX_UPLOADS_SIZED = 100
_IT_ROOT = "ListBucketIntelligentTieringConfigurationsOutput"
_ROOT_TAG = re.compile(rb"<([A-Za-z][\w.-]*)[\s>/]")
_ROOT_KEY = "CostscanResponseRoot"


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _tag_map(tags: Iterable[Mapping[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in tags or () if "Key" in t}


# --------------------------------------------------------------------------- EBS

_VOLUME_FIELDS = {
    k: schema.VOLUMES[k]
    for k in (
        *schema.IDENTITY_COLUMNS,
        "volume_type",
        "size_gb",
        "iops",
        "throughput",
        "attached_to",
        "attached_state",
        "attached_stopped_since",
        "state",
        "created",
    )
}
_SNAPSHOT_FIELDS = {
    k: schema.SNAPSHOTS[k]
    for k in (
        *schema.IDENTITY_COLUMNS,
        "size_gb",
        "created",
        "source_volume",
        "source_exists",
        "used_by_image",
        "image_ids",
        "storage_tier",
    )
}


def describe_volumes(ec2: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in ec2.get_paginator("describe_volumes").paginate():
        found.extend(page.get("Volumes", []))
    return found


def stopped_since(reason: str | None) -> datetime | None:
    """The stop time in a StateTransitionReason ("User initiated (... GMT)"), UTC."""
    match = _STOPPED_AT.search(reason or "")
    if match is None:
        return None
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def instance_state(instance: Mapping[str, Any]) -> tuple[str, datetime | None]:
    """(state, stopped since) of one DescribeInstances instance; the time only when stopped."""
    state = str(instance.get("State", {}).get("Name", ""))
    since = stopped_since(instance.get("StateTransitionReason")) if state == "stopped" else None
    return state, since


def instance_states(
    ec2: Any, instance_ids: Sequence[str]
) -> dict[str, tuple[str, datetime | None]]:
    """Instance id -> (state, stopped since) for ``instance_ids`` (gone ones are absent).

    The ``instance-id`` filter, unlike InstanceIds, ignores ids that no longer exist.
    """
    wanted = sorted(set(instance_ids))
    states: dict[str, tuple[str, datetime | None]] = {}
    for first in range(0, len(wanted), FILTER_VALUES_PER_CALL):
        chunk = wanted[first : first + FILTER_VALUES_PER_CALL]
        pages = ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": "instance-id", "Values": chunk}]
        )
        for page in pages:
            for reservation in page.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    states[instance["InstanceId"]] = instance_state(instance)
    return states


def attached_instance_states(
    run: RegionScan, ec2: Any, attached: Sequence[str]
) -> dict[str, tuple[str, datetime | None]] | None:
    """State and stop time of the instances ``attached`` names.

    The EC2 collector ran first and described every instance of the region (its answer
    is in ``run.collected``); only ids it lacks (its call failed, or an instance shutting
    down or launched since) cost a DescribeInstances call. None when that call failed and
    nothing was known.
    """
    described_before = run.collected.get(DESCRIBE_INSTANCES) or []
    states = {str(i["InstanceId"]): instance_state(i) for i in described_before}
    missing = sorted({i for i in attached if i not in states})
    if not missing:
        return states
    described = run.attempt(
        "ec2.volume_attachment_states",
        lambda: instance_states(ec2, missing),
        resources=[v for v in attached if v],
    )
    if described is None:
        return states or None
    return {**states, **described}


def volume_frame(
    volumes: Sequence[Mapping[str, Any]],
    states: Mapping[str, tuple[str, datetime | None]] | None,
    *,
    account_id: str,
    region: str,
) -> pl.DataFrame:
    """The ``volumes`` frame without prices, from DescribeVolumes and instance states."""
    rows: list[dict[str, Any]] = []
    for volume in volumes:
        attachments = [
            a for a in volume.get("Attachments", []) if a.get("State") in ("attached", "attaching")
        ]
        instance = attachments[0].get("InstanceId") if attachments else None
        state, since = (states or {}).get(instance or "", (None, None))
        rows.append(
            {
                "provider": "aws",
                "account_id": account_id,
                "region": region,
                "resource_id": volume["VolumeId"],
                "resource_name": _tag_map(volume.get("Tags")).get("Name"),
                "resource_type": "ebs_volume",
                "volume_type": volume.get("VolumeType"),
                "size_gb": volume.get("Size"),
                "iops": volume.get("Iops"),
                "throughput": volume.get("Throughput"),
                "attached_to": instance,
                "attached_state": state,
                "attached_stopped_since": since,
                "state": volume.get("State"),
                "created": _utc(volume.get("CreateTime")),
            }
        )
    return schema.conform("volumes", pl.DataFrame(rows, schema=_VOLUME_FIELDS))


def describe_snapshots(ec2: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in ec2.get_paginator("describe_snapshots").paginate(OwnerIds=["self"]):
        found.extend(page.get("Snapshots", []))
    return found


def image_snapshots(ec2: Any) -> dict[str, list[str]]:
    """Snapshot id -> ids of the account's AMIs whose block devices use it."""
    used: dict[str, list[str]] = {}
    for page in ec2.get_paginator("describe_images").paginate(Owners=["self"]):
        for image in page.get("Images", []):
            for mapping in image.get("BlockDeviceMappings", []):
                snapshot = mapping.get("Ebs", {}).get("SnapshotId")
                if snapshot:
                    used.setdefault(snapshot, []).append(image["ImageId"])
    return used


def snapshot_frame(
    snapshots: Sequence[Mapping[str, Any]],
    *,
    volume_ids: set[str] | None,
    images: Mapping[str, list[str]] | None,
    account_id: str,
    region: str,
) -> pl.DataFrame:
    """The ``snapshots`` frame without prices.

    ``source_exists`` and ``used_by_image`` are null when the call that would tell
    (DescribeVolumes, DescribeImages) failed: unknown, never guessed.
    """
    rows: list[dict[str, Any]] = []
    for snap in snapshots:
        source = snap.get("VolumeId")
        ami = (images or {}).get(snap["SnapshotId"], [])
        rows.append(
            {
                "provider": "aws",
                "account_id": account_id,
                "region": region,
                "resource_id": snap["SnapshotId"],
                "resource_name": _tag_map(snap.get("Tags")).get("Name"),
                "resource_type": "ebs_snapshot",
                "size_gb": snap.get("VolumeSize"),
                "created": _utc(snap.get("StartTime")),
                "source_volume": source,
                "source_exists": None if volume_ids is None else source in volume_ids,
                "used_by_image": None if images is None else bool(ami),
                "image_ids": ",".join(sorted(ami)) or None,
                "storage_tier": str(snap.get("StorageTier") or "standard").lower(),
            }
        )
    return schema.conform("snapshots", pl.DataFrame(rows, schema=_SNAPSHOT_FIELDS))


def scan_storage_region(run: RegionScan) -> None:
    """EBS volumes and the snapshots the account owns in ``run.region``, priced."""
    from costscan.providers.pricing.aws_storage import (
        bundled_storage_prices,
        price_snapshots,
        price_volumes,
    )

    ec2 = run.client("ec2")
    account, region = run.account.account_id, run.region
    prices = bundled_storage_prices([region])
    volumes = run.attempt("ec2.volumes", lambda: describe_volumes(ec2))
    if volumes is not None:
        attached = [
            a["InstanceId"]
            for v in volumes
            for a in v.get("Attachments", [])
            if a.get("InstanceId")
        ]
        states = attached_instance_states(run, ec2, attached) if attached else {}
        frame = volume_frame(volumes, states, account_id=account, region=region)
        run.inventory.add("volumes", price_volumes(frame, prices))

    snapshots = run.attempt("ec2.snapshots", lambda: describe_snapshots(ec2))
    if snapshots:
        images = run.attempt("ec2.snapshot_images", lambda: image_snapshots(ec2))
        volume_ids = None if volumes is None else {str(v["VolumeId"]) for v in volumes}
        frame = snapshot_frame(
            snapshots, volume_ids=volume_ids, images=images, account_id=account, region=region
        )
        run.inventory.add("snapshots", price_snapshots(frame, prices))


# --------------------------------------------------------------------------- S3


def list_buckets(s3: Any) -> list[str]:
    names: list[str] = []
    for page in s3.get_paginator("list_buckets").paginate():
        names.extend(b["Name"] for b in page.get("Buckets", []))
    return names


def bucket_region(s3: Any, bucket: str) -> str:
    """GetBucketLocation's answer as a region name (null means us-east-1, "EU" eu-west-1)."""
    location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    if not location:
        return "us-east-1"
    return "eu-west-1" if location == "EU" else str(location)


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def lifecycle_rules(s3: Any, bucket: str) -> list[dict[str, Any]]:
    """The bucket's lifecycle rules; none configured is an empty list, not an error."""
    from botocore.exceptions import ClientError

    try:
        answer = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    except ClientError as exc:
        if _error_code(exc) == "NoSuchLifecycleConfiguration":
            return []
        raise
    return list(answer.get("Rules", []))


def summarize_lifecycle(rules: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Enabled rule count, whether one moves or expires current data, whether one aborts
    incomplete uploads, and a one-line summary."""
    enabled = [r for r in rules if r.get("Status") == "Enabled"]
    parts: list[str] = []
    transitions = False
    aborts = False
    for rule in enabled:
        for move in rule.get("Transitions", []):
            transitions = True
            parts.append(f"to {move.get('StorageClass')} after {move.get('Days', '?')} d")
        if "Expiration" in rule:
            expiration = rule["Expiration"]
            if "Days" in expiration or "Date" in expiration:
                transitions = True
                parts.append(f"expire after {expiration.get('Days', expiration.get('Date'))} d")
        if "AbortIncompleteMultipartUpload" in rule:
            aborts = True
            days = rule["AbortIncompleteMultipartUpload"].get("DaysAfterInitiation")
            parts.append(f"abort uploads after {days} d")
        if "NoncurrentVersionExpiration" in rule or "NoncurrentVersionTransitions" in rule:
            parts.append("noncurrent versions")
    summary = f"{len(enabled)} enabled rule(s)" + (f": {'; '.join(parts)}" if parts else "")
    return {
        "has_lifecycle": bool(enabled),
        "lifecycle_rules": len(enabled),
        "lifecycle_transitions": transitions,
        "lifecycle_aborts_uploads": aborts,
        "lifecycle_summary": summary if rules else None,
    }


def _remember_root(
    response_dict: Mapping[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    """botocore ``before-parse`` handler: note the XML root element of the raw answer.

    An answer in another shape (emulators answer this call as ListObjects) parses into
    an empty, valid-looking result; the root element tells the two apart.
    """
    body = response_dict.get("body") or b""
    if isinstance(body, bytes):
        match = _ROOT_TAG.search(body.split(b"?>", 1)[-1])
        customized_response_dict[_ROOT_KEY] = match.group(1).decode() if match else ""


def intelligent_tiering(s3: Any, bucket: str) -> bool | None:
    """Whether an enabled Intelligent-Tiering configuration exists; None when the answer
    is not a ListBucketIntelligentTieringConfigurations answer at all (unknown)."""
    s3.meta.events.register(
        "before-parse.s3.ListBucketIntelligentTieringConfigurations",
        _remember_root,
        unique_id="costscan-it-root",
    )
    token: str | None = None
    enabled = False
    while True:
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if token:
            kwargs["ContinuationToken"] = token
        answer = s3.list_bucket_intelligent_tiering_configurations(**kwargs)
        if answer.get(_ROOT_KEY) != _IT_ROOT:
            return None
        configs = answer.get("IntelligentTieringConfigurationList", [])
        enabled = enabled or any(c.get("Status") == "Enabled" for c in configs)
        token = answer.get("NextContinuationToken")
        if not answer.get("IsTruncated") or not token:
            return enabled


def incomplete_uploads(s3: Any, bucket: str) -> dict[str, Any]:
    """Count, oldest initiation and stored bytes (ListParts, first MAX_UPLOADS_SIZED) of
    the bucket's incomplete multipart uploads."""
    uploads: list[Mapping[str, Any]] = []
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        uploads.extend(page.get("Uploads", []))
    stored = 0.0
    for upload in uploads[:MAX_UPLOADS_SIZED]:
        pages = s3.get_paginator("list_parts").paginate(
            Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
        )
        stored += sum(float(p.get("Size", 0)) for page in pages for p in page.get("Parts", []))
    initiated = [_utc(u.get("Initiated")) for u in uploads if u.get("Initiated")]
    return {
        "incomplete_uploads": len(uploads),
        "incomplete_upload_bytes": stored,
        "incomplete_upload_oldest": min((i for i in initiated if i), default=None),
    }


def s3_series(cloudwatch: Any, buckets: set[str]) -> list[tuple[str, str, str]]:
    """(bucket, metric, storage type) of every daily storage series of ``buckets``.

    ListMetrics can list a series once per datapoint on emulators: deduplicated here.
    """
    found: set[tuple[str, str, str]] = set()
    for metric in ("BucketSizeBytes", "NumberOfObjects"):
        pages = cloudwatch.get_paginator("list_metrics").paginate(
            Namespace=S3_NAMESPACE, MetricName=metric
        )
        for page in pages:
            for item in page.get("Metrics", []):
                dims = {d["Name"]: d["Value"] for d in item.get("Dimensions", [])}
                if set(dims) == {"BucketName", "StorageType"} and dims["BucketName"] in buckets:
                    found.add((dims["BucketName"], metric, dims["StorageType"]))
    return sorted(found)


def latest_s3_metrics(
    cloudwatch: Any, series: Sequence[tuple[str, str, str]], now: datetime
) -> pl.DataFrame:
    """The latest daily value of each series: bucket, metric, storage_type, ts, value.

    GetMetricData with up to 500 queries a call (Average over 86,400 s, the period S3
    publishes at), following NextToken.
    """
    # Up to the start of today: a day's point is complete only once the day is over.
    end = (_utc(now) or now).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - S3_METRICS_LOOKBACK
    ids: list[int] = []
    stamps: list[list[datetime]] = []
    values: list[list[float]] = []
    for first in range(0, len(series), MAX_QUERIES_PER_CALL):
        batch = series[first : first + MAX_QUERIES_PER_CALL]
        request: dict[str, Any] = {
            "MetricDataQueries": [
                {
                    "Id": f"s{first + i}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": S3_NAMESPACE,
                            "MetricName": metric,
                            "Dimensions": [
                                {"Name": "BucketName", "Value": bucket},
                                {"Name": "StorageType", "Value": storage_type},
                            ],
                        },
                        "Period": DAY_SECONDS,
                        "Stat": "Average",
                    },
                    "ReturnData": True,
                }
                for i, (bucket, metric, storage_type) in enumerate(batch)
            ],
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampDescending",
        }
        while True:
            page = cloudwatch.get_metric_data(**request)
            for result in page.get("MetricDataResults", []):
                ids.append(int(str(result["Id"])[1:]))
                stamps.append([_utc(t) or t for t in result.get("Timestamps", [])])
                values.append([float(v) for v in result.get("Values", [])])
            token = page.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
    labels = pl.DataFrame(
        {
            "index": list(range(len(series))),
            "bucket": [s[0] for s in series],
            "metric": [s[1] for s in series],
            "storage_type": [s[2] for s in series],
        },
        schema={
            "index": pl.Int64,
            "bucket": pl.String,
            "metric": pl.String,
            "storage_type": pl.String,
        },
    )
    points = (
        pl.DataFrame(
            {"index": ids, "ts": stamps, "value": values},
            schema={"index": pl.Int64, "ts": pl.List(schema.UTC_TS), "value": pl.List(pl.Float64)},
        )
        .explode(["ts", "value"])
        .drop_nulls()
        .sort("ts")
        .group_by("index")
        .agg(pl.col("ts").last(), pl.col("value").last())
    )
    return labels.join(points, on="index", how="inner").drop("index")


def bucket_rows(facts: pl.DataFrame, metrics: pl.DataFrame, *, account_id: str) -> pl.DataFrame:
    """One row per bucket and storage class: metrics joined with per-bucket facts.

    Objects per class come from NumberOfObjects for that class when S3 publishes it;
    otherwise, for a bucket holding a single class, from the AllStorageTypes count. A
    bucket with no storage metrics keeps one row with null class and bytes.
    """
    sizes = metrics.filter(pl.col("metric") == "BucketSizeBytes").select(
        "bucket",
        "storage_type",
        pl.col("value").alias("bytes"),
        pl.col("ts").alias("metrics_date"),
    )
    counts = metrics.filter(pl.col("metric") == "NumberOfObjects")
    per_class = counts.filter(pl.col("storage_type") != ALL_STORAGE_TYPES).select(
        "bucket", "storage_type", pl.col("value").alias("_class_objects")
    )
    total = counts.filter(pl.col("storage_type") == ALL_STORAGE_TYPES).select(
        "bucket", pl.col("value").alias("objects_all_classes")
    )
    sized = (
        sizes.join(per_class, on=["bucket", "storage_type"], how="left")
        .join(total, on="bucket", how="left")
        .with_columns(
            pl.coalesce(
                pl.col("_class_objects"),
                pl.when(pl.len().over("bucket") == 1).then(pl.col("objects_all_classes")),
            ).alias("objects"),
            pl.col("storage_type")
            .replace_strict(dict(STORAGE_TYPES), default=pl.col("storage_type"))
            .alias("storage_class"),
        )
        .drop("_class_objects", "storage_type")
    )
    rows = facts.join(sized, on="bucket", how="left")
    return schema.conform(
        "buckets",
        rows.with_columns(
            pl.lit("aws").alias("provider"),
            pl.lit(account_id).alias("account_id"),
            pl.col("bucket").alias("resource_id"),
            pl.col("bucket").alias("resource_name"),
            pl.lit("s3_bucket").alias("resource_type"),
        ),
    )


def _bucket_facts(run: RegionScan, s3: Any, bucket: str, region: str) -> dict[str, Any]:
    facts: dict[str, Any] = {"bucket": bucket, "region": region}
    rules = run.attempt(
        "s3.bucket_lifecycle",
        lambda: lifecycle_rules(s3, bucket),
        resources=[bucket],
        region=region,
    )
    if rules is not None:
        facts.update(summarize_lifecycle(rules))
    facts["intelligent_tiering"] = run.attempt(
        "s3.bucket_intelligent_tiering",
        lambda: intelligent_tiering(s3, bucket),
        resources=[bucket],
        region=region,
    )
    uploads = run.attempt(
        "s3.incomplete_uploads",
        lambda: incomplete_uploads(s3, bucket),
        resources=[bucket],
        region=region,
    )
    if uploads is not None:
        facts.update(uploads)
    return facts


_FACT_SCHEMA: dict[str, pl.DataType] = {
    "bucket": pl.String(),
    "region": pl.String(),
    "has_lifecycle": pl.Boolean(),
    "lifecycle_rules": pl.Int64(),
    "lifecycle_transitions": pl.Boolean(),
    "lifecycle_aborts_uploads": pl.Boolean(),
    "lifecycle_summary": pl.String(),
    "intelligent_tiering": pl.Boolean(),
    "incomplete_uploads": pl.Int64(),
    "incomplete_upload_bytes": pl.Float64(),
    "incomplete_upload_oldest": schema.UTC_TS,
}
_METRIC_SCHEMA: dict[str, pl.DataType] = {
    "bucket": pl.String(),
    "metric": pl.String(),
    "storage_type": pl.String(),
    "ts": schema.UTC_TS,
    "value": pl.Float64(),
}


def _scan_region_buckets(run: RegionScan, region: str, buckets: list[str]) -> pl.DataFrame:
    from costscan.providers.pricing.aws_storage import bundled_storage_prices, price_buckets

    regional_s3 = run.client("s3", region=region)
    facts = pl.DataFrame(
        [_bucket_facts(run, regional_s3, b, region) for b in buckets], schema=_FACT_SCHEMA
    )
    cloudwatch = run.client("cloudwatch", region=region)
    series = run.attempt(
        "cloudwatch.s3_size_metric_list",
        lambda: s3_series(cloudwatch, set(buckets)),
        resources=buckets,
        region=region,
    )
    metrics = None
    if series:
        metrics = run.attempt(
            "cloudwatch.s3_sizes",
            lambda: latest_s3_metrics(cloudwatch, series, run.request.context.now),
            resources=buckets,
            region=region,
        )
    if metrics is None:
        metrics = pl.DataFrame(schema=_METRIC_SCHEMA)
    rows = bucket_rows(facts, metrics, account_id=run.account.account_id)
    return price_buckets(rows, bundled_storage_prices([region]))


def scan_storage_account(run: RegionScan) -> None:
    """Every S3 bucket of the account in the scanned regions, sized and priced."""
    s3 = run.client("s3")
    names = run.attempt("s3.buckets", lambda: list_buckets(s3))
    if not names:
        return
    regions: dict[str, list[str]] = {}
    for bucket in names:
        where = run.attempt(
            "s3.bucket_region", functools.partial(bucket_region, s3, bucket), resources=[bucket]
        )
        if where is not None:
            regions.setdefault(where, []).append(bucket)
    wanted = set(run.request.regions)
    frames = [
        _scan_region_buckets(run, region, buckets)
        for region, buckets in sorted(regions.items())
        if not wanted or region in wanted
    ]
    if frames:
        run.inventory.add("buckets", pl.concat(frames, how="vertical"))
