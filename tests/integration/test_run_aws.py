"""End to end: `costscan run --provider aws` against a seeded moto server, through the CLI.

The account holds five instances: an idle one, an over-sized one, a non-production one busy
only in office hours, one above the CPU alert line and a busy one. The first three must be
found at the savings their formulas give, the fourth must be a bottleneck, the busy one must
be left alone, and the scan must send nothing but reads.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import polars as pl
import pytest

from costscan.demo.account import (
    flat_load,
    metric_client,
    network_bytes,
    office_hours_load,
    publish_hourly_metrics,
)
from costscan.providers.aws import AwsProvider
from costscan.providers.aws.permissions import IAM_ACTIONS, iam_action
from costscan.providers.pricing.aws import bundled_ec2_prices
from costscan.scanner.app import engine
from costscan.scanner.app.cli import main
from tests.moto_server import RecordingMotoServer
from tests.read_only import CallRecorder, request_is_read

# Each seeds a moto account or runs the whole CLI: seconds each (`pytest -m 'not slow'`).
pytestmark = pytest.mark.slow

REGION = "us-east-1"
HOURS = 14 * 24
HOURS_PER_MONTH = 730
WEEKS_PER_MONTH = 52 / 12
READ_PREFIXES = ("Describe", "List", "Get")


@dataclass(frozen=True)
class Seeded:
    idle: str
    oversized: str
    office_hours: str
    above_alert: str
    busy: str


def price(instance_type: str) -> float:
    prices = bundled_ec2_prices([REGION])
    return float(prices.filter(pl.col("instance_type") == instance_type)["hourly_price"].item())


def launch(ec2: Any, instance_type: str, name: str, **tags: str) -> str:
    all_tags = {"Name": name, **tags}
    answer = ec2.run_instances(
        ImageId="ami-12345678",
        InstanceType=instance_type,
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()],
            }
        ],
    )
    return str(answer["Instances"][0]["InstanceId"])


def seed(endpoint_url: str) -> Seeded:
    rng = random.Random(7)
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=endpoint_url)
    cloudwatch = metric_client(endpoint_url, REGION)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(hours=HOURS)
    ids = Seeded(
        idle=launch(ec2, "m5.xlarge", "forgotten-box"),
        oversized=launch(ec2, "m5.4xlarge", "oversized-api"),
        office_hours=launch(ec2, "m5.large", "dev-portal", environment="dev"),
        above_alert=launch(ec2, "c5.large", "hot-worker"),
        busy=launch(ec2, "m7g.large", "busy-api"),
    )
    quiet_net = network_bytes(rng, HOURS, 50_000)
    busy_net = network_bytes(rng, HOURS, 500_000_000)
    idle_cpu = flat_load(rng, HOURS, 0.3, 0.2, 0.8)
    publish_hourly_metrics(
        cloudwatch, ids.idle, idle_cpu[0], start=start, cpu_max_by_hour=idle_cpu[1],
        network_in_by_hour=quiet_net[0], network_out_by_hour=quiet_net[1],
    )  # fmt: skip
    big_cpu = flat_load(rng, HOURS, 4.0, 1.0, 8.0)
    big_mem = flat_load(rng, HOURS, 6.0, 1.0, 9.0)
    publish_hourly_metrics(
        cloudwatch, ids.oversized, big_cpu[0], start=start, cpu_max_by_hour=big_cpu[1],
        network_in_by_hour=busy_net[0], network_out_by_hour=busy_net[1],
        memory_by_hour=big_mem[0], memory_max_by_hour=big_mem[1],
    )  # fmt: skip
    office = office_hours_load(rng, start, HOURS)
    publish_hourly_metrics(
        cloudwatch, ids.office_hours, office[0], start=start, cpu_max_by_hour=office[1],
        network_in_by_hour=busy_net[0], network_out_by_hour=busy_net[1],
    )  # fmt: skip
    hot = flat_load(rng, HOURS, 93.0, 3.0, 100.0)
    publish_hourly_metrics(
        cloudwatch, ids.above_alert, hot[0], start=start, cpu_max_by_hour=hot[1],
        network_in_by_hour=busy_net[0], network_out_by_hour=busy_net[1],
    )  # fmt: skip
    busy = flat_load(rng, HOURS, 50.0, 8.0, 75.0)
    busy_mem = flat_load(rng, HOURS, 60.0, 5.0, 70.0)
    publish_hourly_metrics(
        cloudwatch, ids.busy, busy[0], start=start, cpu_max_by_hour=busy[1],
        network_in_by_hour=busy_net[0], network_out_by_hour=busy_net[1],
        memory_by_hour=busy_mem[0], memory_max_by_hour=busy_mem[1],
    )  # fmt: skip
    return ids


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    files: dict[str, Path]
    seeded: Seeded
    requests: list[Any]
    calls: set[tuple[str, str]]

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.files["json"].read_text(encoding="utf-8")))


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


@pytest.fixture(scope="module")
def seeded_account(moto_server: RecordingMotoServer) -> Iterator[Seeded]:
    moto_server.reset()
    yield seed(moto_server.endpoint_url)


@pytest.fixture
def scan(
    seeded_account: Seeded,
    moto_server: RecordingMotoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Run:
    # The CLI gets no endpoint flag: boto3 itself must honour AWS_ENDPOINT_URL.
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint_url)
    recorder = CallRecorder()
    monkeypatch.setattr(engine, "build_provider", lambda _name: AwsProvider(hooks=[recorder.hook]))
    moto_server.clear_log()
    out = tmp_path / "report"
    code, stdout, stderr = run_cli(
        ["run", "--provider", "aws", "--region", REGION, "--output-dir", str(out)], capsys
    )
    # By what follows the name's timestamp: "csv" and "investments.csv" are apart.
    files = {p.name.split(".", 1)[1]: p for p in out.iterdir()}
    return Run(
        code, stdout, stderr, files, seeded_account, moto_server.operations(), recorder.calls
    )


def by_resource(findings: list[dict[str, Any]], resource_id: str) -> dict[str, dict[str, Any]]:
    return {f["policy_id"]: f for f in findings if f["resource_id"] == resource_id}


def test_idle_oversized_and_office_hours_found_at_formula_savings(scan: Run) -> None:
    assert scan.code == 0, scan.stderr
    doc = scan.json()
    ids = scan.seeded

    idle = by_resource(doc["findings"], ids.idle)["rightsizing.idle"]
    assert idle["counted"] is True
    assert idle["monthly_savings"] == round(price("m5.xlarge") * HOURS_PER_MONTH, 2)
    assert idle["price_source"] == "bundled"
    assert by_resource(doc["findings"], ids.idle).keys() - {"rightsizing.idle"} == {
        f["policy_id"] for f in doc["findings"] if f["resource_id"] == ids.idle and not f["counted"]
    }

    oversized = by_resource(doc["findings"], ids.oversized)["rightsizing.overprovisioned"]
    assert oversized["counted"] is True
    candidate = oversized["evidence"]["candidate"]["instance_type"]
    assert price(candidate) < price("m5.4xlarge")
    expected = (price("m5.4xlarge") - price(candidate)) * HOURS_PER_MONTH
    assert oversized["standalone_monthly_savings"] == round(expected, 2)
    assert oversized["evidence"]["cpu"]["projected_p99_percent"] <= 70

    office = by_resource(doc["findings"], ids.office_hours)["scheduling.offhours"]
    assert office["counted"] is True
    hours_off = office["evidence"]["hours_off_per_week"]
    # Busy Mon-Fri 08:00-18:00: 50 hours on, plus at most an hour of buffer each side a day.
    assert 168 - 50 - 5 * 2 <= hours_off <= 168 - 50
    assert "Mon-Fri" in office["evidence"]["window"]["schedule"]
    standalone = price("m5.large") * hours_off * WEEKS_PER_MONTH
    assert office["standalone_monthly_savings"] == round(standalone, 2)
    # Stacked after any counted resize on the same instance: on the price that remains.
    resized = [
        f for f in doc["findings"]
        if f["resource_id"] == ids.office_hours and f["action"] == "resize" and f["counted"]
    ]  # fmt: skip
    remaining = 1.0
    for f in resized:
        remaining *= 1 - f["standalone_monthly_savings"] / f["current_monthly_cost"]
    assert office["monthly_savings"] == pytest.approx(standalone * remaining, abs=0.01)


def test_above_alert_is_a_bottleneck_and_busy_is_left_alone(scan: Run) -> None:
    doc = scan.json()
    ids = scan.seeded
    bottlenecks = {b["resource_id"]: b for b in doc["bottlenecks"]}
    assert set(bottlenecks) == {ids.above_alert}
    hot = bottlenecks[ids.above_alert]
    assert hot["policy_id"] == "rightsizing.underprovisioned"
    next_size = hot["evidence"]["next_size"]["instance_type"]
    assert next_size == "c5.xlarge"
    assert hot["added_monthly_cost"] == round(
        (price("c5.xlarge") - price("c5.large")) * HOURS_PER_MONTH, 2
    )
    assert hot["counted"] is False
    assert [f for f in doc["findings"] if f["resource_id"] == ids.busy] == []
    assert not any(f["resource_id"] == ids.above_alert and f["counted"] for f in doc["findings"])


def test_summary_is_the_sum_of_counted_net_savings(scan: Run) -> None:
    doc = scan.json()
    counted = [f["net_monthly_savings"] for f in doc["findings"] if f["counted"]]
    assert doc["summary"]["monthly_savings"] == round(sum(counted), 2)
    assert doc["summary"]["counted_findings"] == len(counted)
    assert doc["run"]["regions"] == [REGION]
    assert doc["errors"] == []


def test_every_format_is_written_and_agrees(scan: Run) -> None:
    assert set(scan.files) == {"html", "csv", "investments.csv", "json", "md"}
    doc = scan.json()
    rows = list(csv.DictReader(io.StringIO(scan.files["csv"].read_text(encoding="utf-8"))))
    assert len(rows) == len(doc["findings"])
    investments = scan.files["investments.csv"].read_text(encoding="utf-8")
    assert len(list(csv.DictReader(io.StringIO(investments)))) == len(doc["bottlenecks"])
    assert {r["currency"] for r in rows} == {"USD"}
    total = sum(float(r["net_monthly_savings"]) for r in rows if r["counted"].lower() == "true")
    assert round(total, 2) == doc["summary"]["monthly_savings"]
    markdown = scan.files["md"].read_text(encoding="utf-8")
    assert f"${doc['summary']['monthly_savings']:,.2f}/month" in markdown
    html = scan.files["html"].read_text(encoding="utf-8")
    assert scan.seeded.idle in html
    assert "Top " in scan.stdout and "open " in scan.stdout


def test_scan_sends_only_reads(scan: Run) -> None:
    operations = {(r.service, r.operation) for r in scan.requests}
    assert operations, "the recording server saw no requests"
    writes = sorted((r.service, r.operation) for r in scan.requests if not request_is_read(r))
    assert writes == []
    assert ("monitoring", "GetMetricData") in operations
    assert not any(op == "GetMetricStatistics" for _, op in operations)
    # The same from the client's side, by API name: every call is a read, and the
    # README's least-privilege policy allows each one.
    assert scan.calls and all(op.startswith(READ_PREFIXES) for _, op in scan.calls)
    undocumented = {iam_action(service, op) for service, op in scan.calls} - set(IAM_ACTIONS)
    assert undocumented == set()


def test_savings_gate_writes_reports_then_exits_1(
    seeded_account: Seeded,
    moto_server: RecordingMotoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint_url)
    out = tmp_path / "gated"
    code, _, _ = run_cli(
        ["run", "--region", REGION, "--output-dir", str(out), "--format", "json",
         "--fail-on-savings", "1", "--min-savings", "100"],
        capsys,
    )  # fmt: skip
    assert code == 1
    (report,) = out.iterdir()
    doc = json.loads(report.read_text(encoding="utf-8"))
    assert doc["summary"]["hidden_below_min_savings"] > 0
    assert all(f["net_monthly_savings"] >= 100 for f in doc["findings"])


def idle_billing(idle: str) -> pl.DataFrame:
    """FOCUS line items billing the idle instance, by its ARN, at a discounted 0.150 an
    hour for two days of May 2025."""
    start = datetime(2025, 5, 1, tzinfo=UTC)
    arn = f"arn:aws:ec2:{REGION}:123456789012:instance/{idle}"
    hours = [start + timedelta(hours=h) for h in range(48)]
    return pl.DataFrame(
        {
            "BilledCost": [0.150] * 48,
            "EffectiveCost": [0.150] * 48,
            "ListCost": [0.192] * 48,
            "ContractedCost": [0.150] * 48,
            "BillingAccountId": ["123456789012"] * 48,
            "BillingCurrency": ["USD"] * 48,
            "BillingPeriodStart": [start] * 48,
            "BillingPeriodEnd": [start + timedelta(days=31)] * 48,
            "ChargeCategory": ["Usage"] * 48,
            "ChargeClass": [None] * 48,
            "ChargePeriodStart": hours,
            "ChargePeriodEnd": [h + timedelta(hours=1) for h in hours],
            "PricingQuantity": [1.0] * 48,
            "PricingUnit": ["Hrs"] * 48,
            "ProviderName": ["AWS"] * 48,
            "ServiceCategory": ["Compute"] * 48,
            "ServiceName": ["Amazon EC2"] * 48,
            "ResourceId": [arn] * 48,
        },
        schema_overrides={"ChargeClass": pl.String},
    )


def test_billing_export_prices_the_scan_and_adds_its_spend(
    seeded_account: Seeded,
    moto_server: RecordingMotoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A FOCUS CSV bills the idle instance, by its ARN, at a discounted 0.150 an hour for two
    # days; its billed price must win over the list price in the scan's findings.
    arn = f"arn:aws:ec2:{REGION}:123456789012:instance/{seeded_account.idle}"
    billing = idle_billing(seeded_account.idle).with_columns(
        pl.col(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    export = tmp_path / "focus.csv.gz"
    export.write_bytes(gzip.compress(billing.write_csv().encode()))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint_url)
    out = tmp_path / "billed"
    code, _, stderr = run_cli(
        ["run", "--region", REGION, "--billing", str(export), "--output-dir", str(out),
         "--format", "json"],
        capsys,
    )  # fmt: skip
    assert code == 0, stderr
    (report,) = out.iterdir()
    doc = json.loads(report.read_text(encoding="utf-8"))
    idle = by_resource(doc["findings"], seeded_account.idle)["rightsizing.idle"]
    assert idle["price_source"] == "billing"
    assert idle["monthly_savings"] == round(0.150 * HOURS_PER_MONTH, 2)
    assert doc["summary"]["spend"]["billed_cost"] == pytest.approx(0.150 * 48)
    assert doc["summary"]["spend"]["top_resources"][0]["resource_id"] == arn


def test_a_pushdown_billing_source_prices_the_scan_as_files_do(
    seeded_account: Seeded,
    moto_server: RecordingMotoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The same line items queried where they live (DuckDB over Parquet): the same billed
    # price wins, the same spend, and the report says what the queries scanned.
    arn = f"arn:aws:ec2:{REGION}:123456789012:instance/{seeded_account.idle}"
    export = tmp_path / "focus.parquet"
    idle_billing(seeded_account.idle).write_parquet(export)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint_url)
    out = tmp_path / "pushed"
    code, _, stderr = run_cli(
        ["run", "--region", REGION, "--billing", f"duckdb://{export}", "--billing-period",
         "2025-05", "--output-dir", str(out), "--format", "json"],
        capsys,
    )  # fmt: skip
    assert code == 0, stderr
    (report,) = out.iterdir()
    doc = json.loads(report.read_text(encoding="utf-8"))
    idle = by_resource(doc["findings"], seeded_account.idle)["rightsizing.idle"]
    assert idle["price_source"] == "billing"
    assert idle["monthly_savings"] == round(0.150 * HOURS_PER_MONTH, 2)
    assert doc["summary"]["spend"]["billed_cost"] == pytest.approx(0.150 * 48)
    assert doc["summary"]["spend"]["top_resources"][0]["resource_id"] == arn
    assert doc["summary"]["spend"]["pushdown"]["engine"] == "duckdb"
