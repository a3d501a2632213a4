"""Storage collectors against moto in server mode, through the whole AwsProvider and ranking."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from costscan.demo.storage import BUCKET_SIZES, NO_LIFECYCLE_BUCKET, RULED_BUCKET, seed_storage
from costscan.providers.aws import AwsProvider, provider, storage
from costscan.providers.aws.session import is_read_operation
from costscan.providers.aws.storage import stopped_since
from costscan.providers.interface import ScanRequest
from costscan.reports.ranking import rank
from costscan.scanner.app import catalog
from costscan.scanner.contracts.inventory import Inventory, RunContext
from tests.moto_server import RecordingMotoServer

REGION = "us-east-1"
GIB = 1024.0**3


@pytest.fixture
def scanned(
    moto: RecordingMotoServer, endpoint_url: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Inventory, datetime]:
    # Only this area's collectors: the other families' are tested on their own.
    monkeypatch.setattr(provider, "REGIONAL_COLLECTORS", (storage.scan_storage_region,))
    monkeypatch.setattr(provider, "ACCOUNT_COLLECTORS", (storage.scan_storage_account,))
    # moto stamps creation with the wall clock; the seeding moves those stamps back.
    now = datetime.now(UTC)
    seed_storage(endpoint_url, now, [REGION])
    moto.clear_log()
    request = ScanRequest(
        context=RunContext(now=now, lookback_days=2), regions=(REGION,), endpoint_url=endpoint_url
    )
    return AwsProvider(max_attempts=2).collect(request), now


def _storage_findings(inv: Inventory) -> pl.DataFrame:
    frames = [
        pol.run(inv, pol.build_params()).collect()
        for pol in catalog.all_policies().values()
        if pol.family == "storage"
    ]
    return pl.concat(frames, how="vertical")


def test_stopped_since_reads_aws_and_moto_reasons() -> None:
    expected = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    assert stopped_since("User initiated (2024-01-01 10:00:00 GMT)") == expected
    assert stopped_since("User initiated (2024-01-01 10:00:00 UTC)") == expected
    assert stopped_since("") is None


def test_collects_volumes_snapshots_and_buckets(
    scanned: tuple[Inventory, datetime], moto: RecordingMotoServer
) -> None:
    inv, now = scanned
    assert not [e for e in inv.errors if e.collector.startswith(("ec2.", "s3.", "cloudwatch."))]
    volumes = inv.frame("volumes")
    by_name = {r["resource_name"]: r for r in volumes.to_dicts()}
    assert by_name["old-build-cache"]["monthly_price"] == pytest.approx(50.0)
    assert by_name["reporting-db"]["monthly_price"] == pytest.approx(400 * 0.125 + 10000 * 0.065)
    stopped = by_name["legacy-batch-data"]
    assert stopped["attached_state"] == "stopped"
    assert stopped["attached_stopped_since"] <= now - timedelta(days=59)

    snapshots = inv.frame("snapshots")
    assert snapshots.height == 1
    assert snapshots.row(0, named=True)["source_exists"] is False
    assert snapshots.row(0, named=True)["used_by_image"] is False

    buckets = inv.frame("buckets")
    raw = buckets.filter(pl.col("resource_id") == NO_LIFECYCLE_BUCKET).row(0, named=True)
    assert raw["storage_class"] == "STANDARD"
    assert raw["bytes"] == BUCKET_SIZES[0][1]
    assert raw["objects"] == BUCKET_SIZES[0][2]
    assert raw["has_lifecycle"] is False
    assert raw["incomplete_uploads"] == 1
    assert raw["incomplete_upload_bytes"] == 5 * 1024 * 1024
    # No Intelligent-Tiering configuration was made, so the bucket has none: what AWS
    # answers, and moto since 5.2.6 (5.2.5 answered the call as ListObjects, which the
    # collector reads as "unknown"; the lock pins a moto that answers it).
    assert raw["intelligent_tiering"] is False
    ruled = buckets.filter(pl.col("resource_id") == RULED_BUCKET).row(0, named=True)
    assert ruled["has_lifecycle"] is True and ruled["lifecycle_transitions"] is False

    operations = moto.operations()
    assert operations, "the scan reached the server"
    s3_metric_calls = [
        o for o in operations if o.service == "monitoring" and o.operation == "GetMetricData"
    ]
    # Per account-region: the EC2 utilization sweep and one S3 storage batch.
    assert len([o for o in s3_metric_calls if o.region == REGION]) <= 2
    for op in operations:
        assert (
            op.method in ("GET", "HEAD")
            or is_read_operation(op.service, op.operation)
            or (op.operation.split(" ")[0] in ("GET", "HEAD"))
        ), op


def test_seeded_account_counts_each_storage_finding_once(
    scanned: tuple[Inventory, datetime],
) -> None:
    inv, _ = scanned
    ranked = rank(_storage_findings(inv), hourly_rate=100.0).findings
    volumes = {r["resource_name"]: r["resource_id"] for r in inv.frame("volumes").to_dicts()}

    unattached = ranked.filter(pl.col("resource_id") == volumes["old-build-cache"])
    counted = unattached.filter(pl.col("counted"))
    assert counted["policy_id"].to_list() == ["storage.unattached-volume"]
    assert counted["monthly_savings"].item() == pytest.approx(50.0)
    assert counted["added_monthly_cost"].item() == pytest.approx(500 * 0.05)
    alternative = unattached.filter(~pl.col("counted")).row(0, named=True)
    assert alternative["policy_id"] == "storage.gp2-to-gp3"
    assert alternative["alternative_to"] == counted["finding_id"].item()
    # 500 GiB: 10.00 cheaper storage, 125 MB/s more throughput to match gp2's 250.
    assert alternative["monthly_savings"] == pytest.approx(500 * (0.10 - 0.08))
    assert alternative["added_monthly_cost"] == pytest.approx(125 * 0.04)

    # The account's gp2 -> gp3 conversions are one change, listing each volume.
    converting = ranked.filter(
        (pl.col("policy_id") == "storage.gp2-to-gp3") & pl.col("counted")
    ).row(0, named=True)
    members = {m["resource_id"]: m for m in json.loads(converting["members"] or "[]")}
    if not members:  # a single conversion stands alone
        members = {converting["resource_id"]: converting}
    # 200 GiB gp2: 600 IOPS (inside gp3's 3,000), 150 MB/s sustained (25 above 125).
    assert members[volumes["app-data"]]["monthly_savings"] == pytest.approx(200 * 0.02)
    assert converting["added_monthly_cost"] >= 25 * 0.04

    io1 = ranked.filter(pl.col("resource_id") == volumes["reporting-db"])
    assert io1.filter(pl.col("counted"))["policy_id"].to_list() == ["storage.io1-to-gp3"]
    gp3 = 400 * 0.08 + 7000 * 0.005 + (500 - 125) * 0.04
    assert io1.filter(pl.col("counted"))["monthly_savings"].item() == pytest.approx(
        400 * 0.125 + 10000 * 0.065 - gp3
    )

    bucket = ranked.filter(pl.col("resource_id") == NO_LIFECYCLE_BUCKET)
    assert bucket["policy_id"].to_list() == ["storage.bucket-without-lifecycle"]
    # The cold share is an assumption (confidence under the floor): a possible saving.
    assert not bucket["counted"].item() and bucket["category"].item() == "possible"
    standard_gib = BUCKET_SIZES[0][1] / GIB
    # Half the Standard bytes to Standard-IA beats Intelligent-Tiering once its monitoring
    # fee for 524,288 objects is paid.
    assert bucket["monthly_savings"].item() == pytest.approx(
        round(standard_gib * 0.5 * (0.023 - 0.0125), 2)
    )
    evidence = json.loads(bucket["evidence"].item())
    assert evidence["chosen_target"] == "STANDARD_IA"
    assert "access patterns are unknown" in evidence["confidence_reason"]

    ruled = ranked.filter(pl.col("resource_id") == RULED_BUCKET)
    assert ruled["policy_id"].to_list() == ["storage.standard-tiering"]

    stale = ranked.filter(pl.col("policy_id") == "storage.stale-snapshot")
    assert stale["monthly_savings"].to_list() == [pytest.approx(80 * 0.05)]
    stopped = ranked.filter(pl.col("policy_id") == "storage.stopped-instance-volume")
    # The stopped instance's data volume and its root volume, nothing else.
    on_stopped = inv.frame("volumes").filter(pl.col("attached_state") == "stopped")
    assert volumes["legacy-batch-data"] in on_stopped["resource_id"].to_list()
    assert sorted(stopped["resource_id"].to_list()) == sorted(on_stopped["resource_id"].to_list())
    assert stopped["monthly_savings"].sum() == pytest.approx(on_stopped["monthly_price"].sum())


def test_scan_describes_each_regions_instances_once(
    moto: RecordingMotoServer, endpoint_url: str
) -> None:
    # Every collector runs: the storage collector reads instance states from the compute
    # frame instead of describing the instances a second time.
    from costscan.demo.storage import seed_volumes

    regions = (REGION, "eu-west-1")
    now = datetime.now(UTC)
    seed_storage(endpoint_url, now, [regions[0]])
    seed_volumes(endpoint_url, now, regions[1])
    moto.clear_log()
    request = ScanRequest(
        context=RunContext(now=now, lookback_days=2), regions=regions, endpoint_url=endpoint_url
    )
    inv = AwsProvider(max_attempts=2).collect(request)

    on_stopped = inv.frame("volumes").filter(pl.col("attached_state") == "stopped")
    assert sorted(set(on_stopped["region"].to_list())) == sorted(regions)
    assert on_stopped["attached_stopped_since"].is_not_null().all()
    assert (on_stopped["attached_stopped_since"] <= now - timedelta(days=59)).all()
    described = [
        o.region
        for o in moto.operations()
        if o.service == "ec2" and o.operation == "DescribeInstances"
    ]
    assert sorted(described) == sorted(regions)
