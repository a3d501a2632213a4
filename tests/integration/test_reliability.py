"""Weekly runs that meet failures on the wire (tests/faults.py in front of moto).

A denied collector, a different region set, lost utilization, a hung endpoint and an S3
history that cannot be written: each must end as a named gap or one clear line, and the
history must never claim as realized what the run did not measure.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from costscan.providers.aws import AwsProvider
from costscan.providers.interface import ScanRequest
from costscan.scanner.app.cli import main
from costscan.scanner.contracts.inventory import RunContext
from tests.integration.test_run_aws import REGION, Seeded, seed
from tests.moto_server import RecordingMotoServer

pytestmark = pytest.mark.slow

OTHER_REGION = "eu-west-1"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def report(out: Path, ext: str) -> Path:
    # The timestamp ends every report's stem: "*.csv" alone would match the investments CSV.
    (path,) = out.glob(f"*Z.{ext}")
    return path


def load(out: Path) -> dict[str, Any]:
    return dict(json.loads(report(out, "json").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def account(moto_server: RecordingMotoServer) -> Seeded:
    moto_server.reset()
    return seed(moto_server.endpoint_url)


@pytest.fixture()
def wire(
    account: Seeded, moto_server: RecordingMotoServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RecordingMotoServer]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint_url)
    moto_server.faults.reset()
    yield moto_server
    moto_server.faults.reset()


def weekly(tmp_path: Path, history: Path, week: str, *extra: str) -> list[str]:
    out = tmp_path / week
    return [
        "run",
        "--history",
        str(history),
        "--format",
        "json,md,csv",
        "--output-dir",
        str(out),
        *extra,
    ]


def test_a_week_with_a_denied_collector_claims_no_realized_savings(
    wire: RecordingMotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "history"
    code, _, err = run(weekly(tmp_path, history, "w1", "--region", REGION), capsys)
    assert code == 0, err
    first = load(tmp_path / "w1")
    volume_findings = {
        f["finding_id"]: f for f in first["findings"] if f["resource_type"] == "ebs_volume"
    }
    assert volume_findings, "moto gives every instance a gp2 root volume"

    wire.faults.add("deny", service="ec2", operation="DescribeVolumes")
    code, _, err = run(weekly(tmp_path, history, "w2", "--region", REGION), capsys)
    assert code == 3, err
    second = load(tmp_path / "w2")
    changes = second["history"]
    assert changes["resolved"] == []
    assert changes["realized_monthly_savings"] == 0.0
    assert changes["not_seen"] >= len(volume_findings)
    counted = [f for f in volume_findings.values() if f["counted"]]
    assert changes["not_seen_monthly_savings"] >= round(
        sum(f["net_monthly_savings"] for f in counted), 2
    )
    (gap,) = [e for e in second["errors"] if e["collector"] == "ec2.volumes"]
    assert "UnauthorizedOperation" in gap["message"]
    assert "storage.gp2-to-gp3" in gap["affects"]
    assert not any(f["resource_type"] == "ebs_volume" for f in second["findings"])
    # Partial, and said at the top of the Markdown and the CSV.
    markdown = report(tmp_path / "w2", "md").read_text(encoding="utf-8").splitlines()
    assert markdown[3].startswith("**Partial report:**") and "ec2.volumes" in markdown[3]
    rows = list(csv.DictReader(io.StringIO(report(tmp_path / "w2", "csv").read_text())))
    assert rows[0]["section"] == "partial" and rows[0]["policy_id"] == "ec2.volumes"

    wire.faults.reset()
    code, _, err = run(weekly(tmp_path, history, "w3", "--region", REGION), capsys)
    assert code == 0, err
    third = load(tmp_path / "w3")
    back = {f["finding_id"]: f for f in third["findings"] if f["finding_id"] in volume_findings}
    assert set(back) == set(volume_findings)
    # Seen again: open since week one, not "new this week".
    assert {f["status"] for f in back.values()} == {"open"}
    assert third["history"]["new_findings"] == 0
    assert third["history"]["new_monthly_savings"] == 0.0
    assert third["history"]["realized_monthly_savings"] == 0.0


def test_scanning_another_region_claims_nothing_about_the_first(
    wire: RecordingMotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "history"
    code, _, err = run(weekly(tmp_path, history, "w1", "--region", REGION), capsys)
    assert code == 0, err
    first = load(tmp_path / "w1")
    east = {f["finding_id"] for f in first["findings"] if f["region"] == REGION}
    assert east

    code, _, err = run(weekly(tmp_path, history, "w2", "--region", OTHER_REGION), capsys)
    assert code == 0, err
    changes = load(tmp_path / "w2")["history"]
    assert changes["resolved"] == [] and changes["realized_monthly_savings"] == 0.0
    assert changes["not_seen"] >= len(east)
    assert changes["scope"]["regions"] == [OTHER_REGION]
    headline = report(tmp_path / "w2", "md").read_text(encoding="utf-8")
    assert f"regions {OTHER_REGION}." in headline and "not seen this run" in headline

    code, _, err = run(weekly(tmp_path, history, "w3", "--region", REGION), capsys)
    assert code == 0, err
    third = load(tmp_path / "w3")
    assert third["history"]["new_findings"] == 0
    assert third["history"]["realized_monthly_savings"] == 0.0
    assert {f["status"] for f in third["findings"] if f["finding_id"] in east} == {"open"}


def test_lost_utilization_withholds_its_policies_and_marks_what_it_could_have_ruled_out(
    wire: RecordingMotoServer,
    account: Seeded,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(
        ["run", "--region", REGION, "--format", "json", "--output-dir", str(tmp_path / "clean")],
        capsys,
    )
    assert code == 0, err
    clean = load(tmp_path / "clean")
    assert any(f["policy_id"] == "rightsizing.idle" for f in clean["findings"])

    wire.faults.add("deny", service="monitoring", operation="GetMetricData")
    code, _, err = run(
        ["run", "--region", REGION, "--format", "json", "--output-dir", str(tmp_path / "lost")],
        capsys,
    )
    assert code == 3, err
    lost = load(tmp_path / "lost")
    (gap,) = [e for e in lost["errors"] if e["collector"] == "cloudwatch.instance_utilization"]
    instances = set(gap["resources"])
    assert {account.idle, account.oversized, account.busy} <= instances
    for policy in ("rightsizing.idle", "rightsizing.overprovisioned", "scheduling.offhours"):
        assert policy in gap["affects"]
        assert not any(f["policy_id"] == policy for f in lost["findings"])
    on_them = [f for f in lost["findings"] if f["resource_id"] in instances]
    assert on_them, "findings that need no utilization remain, marked"
    for finding in on_them:
        assert finding["category"] == "possible" and not finding["counted"], finding
        assert "collector failed" in finding["priority_reason"]
    # Every collector that calls GetMetricData is a gap of its own, named for what it
    # measures, never the API.
    names = {e["collector"] for e in lost["errors"]}
    assert "cloudwatch.get_metric_data" not in names


def test_a_hung_endpoint_ends_as_a_named_gap_within_the_deadline(
    wire: RecordingMotoServer, account: Seeded
) -> None:
    deadline = 3.0
    wire.faults.add("hang", service="monitoring", operation="GetMetricData")
    marks: dict[str, float] = {}

    def progress(step: str, advance: int = 1) -> None:
        # The utilization collector starts as the memory metric listing before it ends.
        for collector in ("cloudwatch.memory_metric_list", "cloudwatch.instance_utilization"):
            if advance and step.endswith(collector):
                marks.setdefault(collector, time.monotonic())

    request = ScanRequest(
        context=RunContext.at(),
        regions=(REGION,),
        endpoint_url=wire.endpoint_url,
        collector_timeout=deadline,
    )
    began = time.monotonic()
    inv = AwsProvider().collect(request, progress)
    total = time.monotonic() - began
    (gap,) = [e for e in inv.errors if e.collector == "cloudwatch.instance_utilization"]
    assert f"no complete answer within {deadline:g} s" in gap.message
    waited = marks["cloudwatch.instance_utilization"] - marks["cloudwatch.memory_metric_list"]
    print(f"hung GetMetricData: named gap after {waited:.2f} s (deadline {deadline:g} s)")
    assert deadline <= waited <= deadline + 1.5
    # Without the deadline the hung call held the scan for 7 x 120 s.
    assert total < 60


def test_an_s3_history_that_cannot_be_written_stops_the_run_before_the_scan(
    wire: RecordingMotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("s3", endpoint_url=wire.endpoint_url).create_bucket(Bucket="finops-history")
    wire.faults.add(
        "deny", service="s3", operation="PUT /finops-history/weekly/.costscan-write-check"
    )
    wire.clear_log()
    out = tmp_path / "out"
    code, _, err = run(
        [
            "run",
            "--region",
            REGION,
            "--output-dir",
            str(out),
            "--history",
            "s3://finops-history/weekly",
        ],
        capsys,
    )
    assert code == 2, err
    assert err.strip().splitlines() == [
        line for line in err.strip().splitlines() if line.startswith("costscan: error: ")
    ]
    assert "s3://finops-history/weekly/" in err and "cannot write" in err
    assert {r.service for r in wire.operations()} == {"s3"}, "nothing was scanned"
    assert not out.exists() or not any(out.iterdir())


def test_each_denied_lifecycle_read_names_its_bucket_once(
    wire: RecordingMotoServer, tmp_path: Path
) -> None:
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=wire.endpoint_url)
    for bucket in ("logs-archive", "media-assets"):
        s3.create_bucket(Bucket=bucket)
    wire.faults.add("deny", service="s3", query_contains="lifecycle")
    request = ScanRequest(
        context=RunContext.at(), regions=(REGION,), endpoint_url=wire.endpoint_url
    )
    inv = AwsProvider().collect(request)
    mine = {"logs-archive", "media-assets"}  # the module's moto may hold other buckets
    denied = [
        e for e in inv.errors if e.collector == "s3.bucket_lifecycle" and mine & set(e.resources)
    ]
    assert sorted(e.resources for e in denied) == [("logs-archive",), ("media-assets",)]
    assert all(e.region == REGION and "AccessDenied" in e.message for e in denied)
    for bucket in ("logs-archive", "media-assets"):
        s3.delete_bucket(Bucket=bucket)


def test_connections_dropped_half_way_end_as_a_named_gap(wire: RecordingMotoServer) -> None:
    wire.faults.add("drop", service="ec2", operation="DescribeNatGateways")
    request = ScanRequest(
        context=RunContext.at(), regions=(REGION,), endpoint_url=wire.endpoint_url
    )
    inv = AwsProvider(max_attempts=3).collect(request)
    (gap,) = [e for e in inv.errors if e.collector == "ec2.nat_gateways"]
    assert gap.region == REGION and gap.frames == ("network_idle",)
    # Every attempt was dropped (at least the three allowed), then the collector became a
    # gap and the scan went on.
    assert wire.faults.injected["drop"] >= 3
    assert not [e for e in inv.errors if e.collector != "ec2.nat_gateways"]
