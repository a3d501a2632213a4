"""Storage seeding for the offline demo account: volumes, snapshots and S3 buckets.

``seed_storage`` makes, in the first of ``regions``:
- an unattached 500 GiB gp2 volume (delete it; gp3 is its alternative);
- a 200 GiB gp2 volume attached to a running instance (gp3 move);
- an io1 volume with 10,000 IOPS (io1 -> gp3, io1 -> io2 shown where it saves);
- a gp3 volume attached to an instance stopped 60 days ago (snapshot and delete);
- a snapshot whose source volume is gone (orphaned);
- a bucket with no lifecycle and 2 TiB in Standard, with an old incomplete upload;
- a bucket with a lifecycle rule that only expires noncurrent versions, 1 TiB in Standard;
and publishes the daily ``AWS/S3`` BucketSizeBytes and NumberOfObjects figures (moto's
own figures are not the bytes stored). Dates moto stamps with the wall clock (volume and
snapshot creation, the stop time) are moved back when the server runs in this process.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

DEMO_AMI = "ami-0abcdef1234567890"
TIB = 1024.0**4
MIB = 1024.0**2
NO_LIFECYCLE_BUCKET = "costscan-demo-raw-logs"
RULED_BUCKET = "costscan-demo-media"
# (bucket, Standard bytes, objects): average objects of 4 MiB and 2 MiB.
BUCKET_SIZES: tuple[tuple[str, float, float], ...] = (
    (NO_LIFECYCLE_BUCKET, 2 * TIB, 2 * TIB / (4 * MIB)),
    (RULED_BUCKET, 1 * TIB, 1 * TIB / (2 * MIB)),
)
UPLOAD_PART_BYTES = 5 * 1024 * 1024  # S3's minimum part size


def _client(service: str, endpoint_url: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(  # type: ignore[call-overload]
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(disable_request_compression=True, retries={"max_attempts": 2}),
    )


def _backdate(
    region: str,
    created: dict[str, datetime],
    stopped: dict[str, datetime],
) -> None:
    """Move moto's wall-clock stamps back, when the server runs in this process."""
    try:
        from moto.ec2.models import ec2_backends
    except ImportError:  # pragma: no cover - moto is the demo's own dependency
        return
    for account_id in list(ec2_backends.keys()):
        backend = ec2_backends[account_id][region]
        for volume_id, moment in created.items():
            volume = backend.volumes.get(volume_id)
            if volume is not None:
                volume.create_time = moment.astimezone(UTC).replace(tzinfo=None)
            snapshot = backend.snapshots.get(volume_id)
            if snapshot is not None:
                snapshot.start_time = moment.astimezone(UTC).replace(tzinfo=None)
        for instance_id, moment in stopped.items():
            instance = backend.get_instance_by_id(instance_id)
            if instance is not None:
                stamp = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
                instance._reason = f"User initiated ({stamp} GMT)"


def seed_volumes(endpoint_url: str, now: datetime, region: str) -> dict[str, str]:
    """The EBS side of the demo; returns scenario -> volume, snapshot or instance id."""
    ec2 = _client("ec2", endpoint_url, region)
    zone = f"{region}a"

    def volume(kind: str, size: int, name: str, **extra: Any) -> str:
        answer = ec2.create_volume(
            AvailabilityZone=zone,
            Size=size,
            VolumeType=kind,
            TagSpecifications=[
                {"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": name}]}
            ],
            **extra,
        )
        return str(answer["VolumeId"])

    def instance() -> str:
        answer = ec2.run_instances(
            ImageId=DEMO_AMI,
            InstanceType="t3.medium",
            MinCount=1,
            MaxCount=1,
            Placement={"AvailabilityZone": zone},
        )
        return str(answer["Instances"][0]["InstanceId"])

    ids = {
        "unattached_gp2": volume("gp2", 500, "old-build-cache"),
        "attached_gp2": volume("gp2", 200, "app-data"),
        "io1": volume("io1", 400, "reporting-db", Iops=10000),
        "stopped_gp3": volume("gp3", 250, "legacy-batch-data"),
        "gone_volume": volume("gp2", 80, "deleted-scratch"),
    }
    running, stopped = instance(), instance()
    ec2.attach_volume(VolumeId=ids["attached_gp2"], InstanceId=running, Device="/dev/sdf")
    ec2.attach_volume(VolumeId=ids["io1"], InstanceId=running, Device="/dev/sdg")
    ec2.attach_volume(VolumeId=ids["stopped_gp3"], InstanceId=stopped, Device="/dev/sdf")
    ec2.stop_instances(InstanceIds=[stopped])
    orphan = ec2.create_snapshot(VolumeId=ids["gone_volume"], Description="before cleanup")
    ec2.delete_volume(VolumeId=ids["gone_volume"])
    ids.update(
        running_instance=running, stopped_instance=stopped, orphan_snapshot=orphan["SnapshotId"]
    )
    long_ago = now - timedelta(days=90)
    _backdate(
        region,
        {ids[k]: long_ago for k in ("unattached_gp2", "attached_gp2", "io1", "stopped_gp3")}
        | {ids["orphan_snapshot"]: long_ago},
        {stopped: now - timedelta(days=60)},
    )
    return ids


def publish_bucket_metrics(
    endpoint_url: str, region: str, day: datetime, sizes: Sequence[tuple[str, float, float]]
) -> None:
    """Publish one daily BucketSizeBytes (StandardStorage) and NumberOfObjects
    (AllStorageTypes) datapoint per bucket, stamped ``day``."""
    cloudwatch = _client("cloudwatch", endpoint_url, region)
    data: list[dict[str, Any]] = []
    for bucket, size, objects in sizes:
        for name, storage_type, value, unit in (
            ("BucketSizeBytes", "StandardStorage", size, "Bytes"),
            ("NumberOfObjects", "AllStorageTypes", objects, "Count"),
        ):
            data.append(
                {
                    "MetricName": name,
                    "Dimensions": [
                        {"Name": "BucketName", "Value": bucket},
                        {"Name": "StorageType", "Value": storage_type},
                    ],
                    "Timestamp": day,
                    "Value": value,
                    "Unit": unit,
                }
            )
    cloudwatch.put_metric_data(Namespace="AWS/S3", MetricData=data)


def seed_buckets(endpoint_url: str, now: datetime, region: str) -> dict[str, str]:
    s3 = _client("s3", endpoint_url, region)
    for bucket, _, _ in BUCKET_SIZES:
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
            )
    s3.put_bucket_lifecycle_configuration(
        Bucket=RULED_BUCKET,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "expire-old-versions",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                }
            ]
        },
    )
    upload = s3.create_multipart_upload(Bucket=NO_LIFECYCLE_BUCKET, Key="exports/huge.parquet")
    s3.upload_part(
        Bucket=NO_LIFECYCLE_BUCKET,
        Key="exports/huge.parquet",
        UploadId=upload["UploadId"],
        PartNumber=1,
        Body=b"\0" * UPLOAD_PART_BYTES,
    )
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    publish_bucket_metrics(endpoint_url, region, day - timedelta(days=1), BUCKET_SIZES)
    return {"no_lifecycle": NO_LIFECYCLE_BUCKET, "ruled": RULED_BUCKET}


def seed_storage(endpoint_url: str, now: datetime, regions: Sequence[str]) -> None:
    """Seed the demo's storage waste in the first of ``regions`` (see the module doc)."""
    region = regions[0] if regions else "us-east-1"
    seed_volumes(endpoint_url, now, region)
    seed_buckets(endpoint_url, now, region)
