"""The GCP provider against a local fake of Google's APIs (demo/gcp_fake.py), through the
real SDK clients: Compute Engine and Cloud Storage over REST, Cloud Monitoring over gRPC.

Figures are worked out here from the Cloud Billing Catalog rates the bundle cites (N2:
$0.031611 per vCPU-hour and $0.004237 per GiB-hour; E2: $0.02181159 and $0.00292353 in
us-central1), with ``decimal``, never read back from the code under test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from costscan.demo.gcp import DEMO_PROJECT, seed_demo_project
from costscan.demo.gcp_fake import FakeGcp
from costscan.providers.gcp import GcpProvider
from costscan.providers.gcp.clients import guard_session, is_read_rpc, read_only_channel
from costscan.providers.interface import ScanRequest
from costscan.providers.pricing.gcp import bundled_gcp_prices
from costscan.scanner.contracts.errors import ReadOnlyViolation
from costscan.scanner.contracts.inventory import Inventory, RunContext

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
N2_CORE, N2_RAM = Decimal("0.031611"), Decimal("0.004237")
E2_CORE, E2_RAM = Decimal("0.02181159"), Decimal("0.00292353")
HOURS = Decimal(730)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGcp]:
    made = FakeGcp(page_size=2)
    seed_demo_project(made, NOW)
    with made:
        for key, value in made.environment().items():
            monkeypatch.setenv(key, value)
        yield made


def collect(projects: tuple[str, ...] = (DEMO_PROJECT,)) -> Inventory:
    return GcpProvider().collect(ScanRequest(context=RunContext(now=NOW), projects=projects))


def test_bundled_price_of_n2_standard_8_is_googles_hourly_rate() -> None:
    prices = bundled_gcp_prices(["us-central1"])
    n2 = prices.filter(pl.col("instance_type") == "n2-standard-8").row(0, named=True)
    assert Decimal(str(n2["hourly_price"])) == 8 * N2_CORE + 32 * N2_RAM  # 0.388472
    # Shared-core e2-medium bills one vCPU of its two.
    e2 = prices.filter(pl.col("instance_type") == "e2-medium").row(0, named=True)
    assert Decimal(str(e2["hourly_price"])) == (E2_CORE + 4 * E2_RAM).quantize(Decimal("0.000001"))
    assert n2["source"] == "bundled" and "Cloud Billing Catalog" in n2["reference"]
    assert n2["as_of"] == "2026-09-27"


@pytest.mark.parametrize(
    ("machine_type", "family", "instance_class", "generation", "burstable", "current"),
    [
        ("n2-standard-8", "n2-standard", "standard", 2, False, True),
        ("e2-medium", "e2-shared", "shared", 2, True, True),
        ("n1-highmem-4", "n1-highmem", "highmem", 1, False, False),
        ("n2d-highcpu-16", "n2d-highcpu", "highcpu", 2, False, True),
    ],
)
def test_gcp_types_carry_their_own_facts_not_an_aws_reading_of_the_name(
    machine_type: str,
    family: str,
    instance_class: str,
    generation: int,
    burstable: bool,
    current: bool,
) -> None:
    row = (
        bundled_gcp_prices(["us-central1"])
        .filter(pl.col("instance_type") == machine_type)
        .row(0, named=True)
    )
    assert (row["family"], row["instance_class"], row["generation"]) == (
        family,
        instance_class,
        generation,
    )
    # AWS's reading would see a "d" after the digit in "n2-standard" (instance storage).
    assert row["local_disk"] is False
    assert (row["burstable"], row["current_generation"]) == (burstable, current)


def test_arm_t2a_type_is_arm64_in_the_catalogue() -> None:
    from costscan.providers.pricing.gcp import machine_types, type_facts

    t2a = type_facts(machine_types().filter(pl.col("instance_type") == "t2a-standard-4"))
    row = t2a.row(0, named=True)
    assert (row["architecture"], row["instance_class"], row["generation"]) == (
        "arm64",
        "standard",
        2,
    )
    assert row["local_disk"] is False


@pytest.mark.slow
def test_collect_fills_the_inventory_frames_from_every_page(fake: FakeGcp) -> None:
    inv = collect()
    assert inv.errors == []
    assert inv.rejections == []
    compute = inv.frame("compute")
    # Seven instances at two per page: the pager followed every nextPageToken.
    assert compute.height == 7
    pages = [r for r in fake.requests if r.path.endswith("/aggregated/instances")]
    assert len(pages) == 4
    vm = compute.filter(pl.col("resource_name") == "api-oversized").row(0, named=True)
    assert (
        vm["resource_id"] == f"projects/{DEMO_PROJECT}/zones/us-central1-a/instances/api-oversized"
    )
    assert (vm["instance_type"], vm["vcpus"], vm["memory_gib"]) == ("n2-standard-8", 8.0, 32.0)
    assert Decimal(str(vm["hourly_price"])) == 8 * N2_CORE + 32 * N2_RAM
    assert compute.filter(pl.col("resource_name") == "build-old")["state"].to_list() == ["stopped"]
    assert compute.filter(pl.col("resource_name") == "ci-runner")["lifecycle"].to_list() == ["spot"]
    tags = inv.frame("tags").filter(pl.col("resource_id") == vm["resource_id"])
    assert dict(zip(tags["key"], tags["value"], strict=True)) == {"team": "api", "env": "prod"}

    volumes = inv.frame("volumes")
    orphan = volumes.filter(pl.col("resource_name") == "orphan-data").row(0, named=True)
    assert (orphan["state"], orphan["attached_to"]) == ("available", None)
    assert orphan["monthly_price"] == pytest.approx(float(500 * Decimal("0.17")))
    stopped = volumes.filter(pl.col("resource_name") == "build-old").row(0, named=True)
    assert stopped["attached_state"] == "stopped"
    assert stopped["attached_stopped_since"] is not None

    address = inv.frame("network_idle").filter(~pl.col("attached")).row(0, named=True)
    assert (address["kind"], address["hourly_price"]) == ("static_address", 0.01)

    bucket = inv.frame("buckets").filter(pl.col("resource_id") == "costscan-demo-logs-archive")
    assert bucket["bytes"].to_list() == [2048.0 * 1024**3]
    assert bucket["has_lifecycle"].to_list() == [False]

    # 14 days × 24 hours for each of the six running instances' CPU average.
    cpu = inv.frame("utilization").filter(
        (pl.col("metric") == "cpu") & (pl.col("statistic") == "average")
    )
    assert cpu["resource_id"].n_unique() == 6
    assert cpu.height == 6 * 14 * 24


@pytest.mark.slow
def test_cud_coverage_is_the_uncovered_n2_usage_at_on_demand_rates(fake: FakeGcp) -> None:
    commitments = collect().frame("commitments")
    # One coverage row per series and region (the demo holds an N2D commitment too).
    coverage = commitments.filter((pl.col("kind") == "coverage") & (pl.col("family") == "n2")).row(
        0, named=True
    )
    # Running N2 on demand: 4 + 8 + 2 = 14 vCPUs and 16 + 32 + 8 = 56 GiB; the CUD holds
    # 4 vCPUs and 16 GiB, so 10 vCPUs and 40 GiB run uncovered.
    expected = (10 * N2_CORE + 40 * N2_RAM) * HOURS
    assert Decimal(str(round(coverage["on_demand_cost"], 6))) == expected.quantize(
        Decimal("0.000001")
    )
    cud = commitments.filter((pl.col("kind") == "cud") & (pl.col("family") == "n2")).row(
        0, named=True
    )
    assert (cud["family"], cud["term"], cud["utilization"]) == ("n2", "1yr", 1.0)


@pytest.mark.slow
def test_monitoring_is_one_call_per_metric_type_and_aligner_not_per_vm(fake: FakeGcp) -> None:
    provider = GcpProvider()
    provider.collect(ScanRequest(context=RunContext(now=NOW), projects=(DEMO_PROJECT,)))
    calls = [r for r in fake.requests if r.protocol == "grpc"]
    # cpu mean and max, network in and out, memory; bucket bytes and objects; disk read and
    # write ops and bytes (the project has attached pd-ssd disks); log bucket bytes taken
    # in and stored; custom and Prometheus metric descriptors, then one HEADERS call per
    # user-defined metric type (2): 17 calls for 6 instances, 3 buckets, 2 pd-ssd disks,
    # 3 log buckets and 1,012 user-defined series, all below one page.
    assert len(calls) == 17
    assert provider.counter.total == 17
    assert all(
        'resource.type = "gce_instance"' in c.query
        or "gcs_bucket" in c.query
        or "logging.googleapis.com/billing/" in c.query
        or "starts_with(" in c.query
        or c.query.startswith(('metric.type = "custom.', 'metric.type = "prometheus.'))
        for c in calls
    )
    assert not any("instance_name" in c.query or "instance_id" in c.query for c in calls)


@pytest.mark.slow
def test_disk_io_peaks_are_keyed_to_the_attached_pd_ssd_disk(fake: FakeGcp) -> None:
    disk_rows = collect().frame("utilization").filter(pl.col("metric").str.starts_with("disk_"))
    # The demo's web-1 reads its "db" device, the pd-ssd disk web-1-db: 14 × 24 hours of
    # busiest minutes for each figure. dev-scratch reports nothing, and no other disk is asked.
    web_db = "projects/costscan-demo/zones/us-central1-a/disks/web-1-db"
    assert disk_rows["resource_id"].unique().to_list() == [web_db]
    by_metric = disk_rows.group_by("metric").agg(pl.len(), pl.col("value").max())
    peaks = dict(by_metric.select("metric", "value").iter_rows())
    assert dict(by_metric.select("metric", "len").iter_rows()) == {
        "disk_ops": 14 * 24,
        "disk_throughput": 14 * 24,
    }
    # Read plus write, each minute's count over 60: at most 900 + 600 IOPS, 40 + 20 MiB/s.
    assert 750 < peaks["disk_ops"] <= 1500
    assert 30 < peaks["disk_throughput"] <= 60
    calls = [r for r in fake.requests if "/disk/" in r.query]
    assert len(calls) == 4
    assert all('metric.labels.storage_type = "pd-ssd"' in c.query for c in calls)


@pytest.mark.slow
def test_log_buckets_carry_their_retention_and_bytes_but_required_is_free(fake: FakeGcp) -> None:
    logs = collect().frame("log_groups").sort("resource_id")
    gib = 1024**3
    # _Required (free, fixed 400 days) is left out; 14 days of daily ingestion scaled to 30.
    assert logs.select("resource_name", "retention_days").rows() == [
        ("_Default (global)", 30),
        ("app-archive (us-central1)", 365),
    ]
    assert (logs["stored_bytes"] / gib).to_list() == [240.0, 730.0]
    assert (logs["ingested_bytes_30d"] / gib).to_list() == [240.0, 60.0]
    assert logs["ingestion_price_per_gb"].to_list() == [0.50, 0.50]
    assert logs["storage_price_per_gb_month"].to_list() == [0.01, 0.01]
    assert logs["retention_locked"].to_list() == [False, False]
    listed = [r for r in fake.requests if r.path.endswith("/buckets")]
    assert [r.path for r in listed] == ["/v2/projects/costscan-demo/locations/-/buckets"] * 2


@pytest.mark.slow
def test_user_defined_metrics_carry_series_counts_label_cardinality_and_tiers(
    fake: FakeGcp,
) -> None:
    metrics = collect().frame("metric_series").sort("resource_name")
    assert metrics.select("namespace", "metric_name", "custom", "series_count").rows() == [
        ("custom.googleapis.com", "checkout/latency", True, 1000),
        ("prometheus.googleapis.com", "http_requests_total/counter", True, 12),
    ]
    assert metrics["dimension_cardinality"].to_list()[0] == [
        {"key": "status", "distinct_values": 2},
        {"key": "user_id", "distinct_values": 500},
    ]
    # Custom metrics: 43,800 points a series-month × 8 bytes = 0.33417 MiB; the first 150
    # MiB free (449 series), then $0.2580 a MiB.
    mib = Decimal(43800 * 8) / Decimal(2**20)
    tiers = metrics["price_tiers"].to_list()[0]
    assert [t["first_metric"] for t in tiers] == [0, 449, 299_251, 748_128]
    assert Decimal(str(tiers[1]["price"])).quantize(Decimal("1e-9")) == (
        Decimal("0.2580") * mib
    ).quantize(Decimal("1e-9"))
    # Prometheus: 43,800 samples a series-month at $0.06 a million.
    prometheus = metrics["price_tiers"].to_list()[1][0]
    assert round(prometheus["price"], 9) == round(0.06 * 0.0438, 9)
    assert {r.query for r in fake.requests if "starts_with(" in r.query} == {
        'metric.type = starts_with("custom.googleapis.com/")',
        'metric.type = starts_with("prometheus.googleapis.com/")',
    }


@pytest.mark.slow
def test_a_disabled_logging_api_is_one_named_gap(fake: FakeGcp) -> None:
    fake.deny(DEMO_PROJECT, "logging")
    inv = collect()
    assert [(e.collector, e.message[:3]) for e in inv.errors] == [("logging.buckets.list", "403")]
    assert "disabled" in inv.errors[0].message
    assert inv.frame("log_groups").height == 0


@pytest.mark.slow
def test_every_request_the_fake_receives_is_a_read(fake: FakeGcp) -> None:
    collect()
    assert fake.requests
    assert {r.method for r in fake.requests if r.protocol == "http"} == {"GET"}
    # Every API the scan reads over REST is in the record, Recommender included.
    paths = [r.path for r in fake.requests if r.protocol == "http"]
    assert any(p.endswith("/recommendations") for p in paths)
    assert any(p.startswith("/compute/v1/") for p in paths)
    assert any(p.startswith("/storage/v1/") for p in paths)
    assert any(p.startswith("/v2/projects/") and p.endswith("/buckets") for p in paths)
    assert {r.method for r in fake.requests if r.protocol == "grpc"} == {
        "/google.monitoring.v3.MetricService/ListTimeSeries",
        "/google.monitoring.v3.MetricService/ListMetricDescriptors",
    }


def test_guarded_session_refuses_a_write_before_sending_it(fake: FakeGcp) -> None:
    import requests

    session = guard_session(requests.Session())
    before = len(fake.requests)
    with pytest.raises(ReadOnlyViolation, match="refused POST"):
        session.post(f"{fake.rest_url}/compute/v1/projects/p/zones/z/instances/vm/stop")
    assert len(fake.requests) == before
    assert session.get(f"{fake.rest_url}/storage/v1/b?project=p").status_code == 200


def test_guarded_recommender_client_refuses_to_change_a_recommendation(fake: FakeGcp) -> None:
    from costscan.providers.gcp.clients import Clients, Endpoints, resolve_credentials

    endpoints = Endpoints.from_env()
    client = Clients(resolve_credentials(endpoints)[0], endpoints).recommender()
    before = len(fake.requests)
    # MarkRecommendationDismissed is a POST: refused before it leaves the machine.
    with pytest.raises(ReadOnlyViolation, match="refused POST"):
        client.mark_recommendation_dismissed(
            request={"name": "projects/p/locations/l/recommenders/r/recommendations/x"}
        )
    assert len(fake.requests) == before


def test_logging_session_refuses_to_change_a_log_bucket(fake: FakeGcp) -> None:
    from costscan.providers.gcp.clients import Clients, Endpoints, resolve_credentials

    endpoints = Endpoints.from_env()
    api = Clients(resolve_credentials(endpoints)[0], endpoints).logging_api()
    before = len(fake.requests)
    # UpdateBucket is a PATCH: refused before it leaves the machine.
    with pytest.raises(ReadOnlyViolation, match="refused PATCH"):
        api.session.patch(
            f"{api.base_url}/v2/projects/p/locations/global/buckets/_Default",
            json={"retentionDays": 1},
        )
    assert len(fake.requests) == before


def test_read_only_channel_refuses_a_non_read_rpc(fake: FakeGcp) -> None:
    import grpc

    assert is_read_rpc("/google.monitoring.v3.MetricService/ListTimeSeries")
    assert not is_read_rpc("/google.monitoring.v3.MetricService/CreateTimeSeries")
    channel = read_only_channel(grpc.insecure_channel(fake.grpc_target))
    create = channel.unary_unary("/google.monitoring.v3.MetricService/CreateTimeSeries")
    before = len(fake.requests)
    with pytest.raises(ReadOnlyViolation, match="CreateTimeSeries"):
        create(b"")
    assert len(fake.requests) == before


@pytest.mark.slow
def test_a_disabled_api_costs_only_its_own_data(fake: FakeGcp) -> None:
    fake.deny(DEMO_PROJECT, "compute")
    inv = collect()
    failed = {e.collector for e in inv.errors}
    assert "compute.instances.aggregatedList" in failed
    message = next(
        e.message for e in inv.errors if e.collector == "compute.instances.aggregatedList"
    )
    assert message.startswith("403") and "disabled" in message
    assert all(e.account_id == DEMO_PROJECT for e in inv.errors)
    # Cloud Storage still answered.
    assert inv.frame("buckets").height == 3
    assert inv.frame("compute").height == 0


@pytest.mark.slow
def test_a_denied_api_run_exits_3_with_the_gap_in_the_report(fake: FakeGcp, tmp_path: Path) -> None:
    from costscan.scanner.app import engine

    fake.deny(DEMO_PROJECT, "monitoring", disabled=False)
    result = engine.run(
        engine.Settings(
            provider="gcp",
            projects=(DEMO_PROJECT,),
            formats=("json",),
            output_dir=str(tmp_path),
            now=NOW,
        )
    )
    assert result.exit_code == engine.EXIT_PARTIAL
    collectors = {e.collector for e in result.report.errors}
    assert collectors == {
        "monitoring.timeSeries.list(storage)",
        "monitoring.timeSeries.list(compute)",
        # Disk I/O is read from Monitoring too (the project has attached pd-ssd disks).
        "monitoring.timeSeries.list(disks)",
        "monitoring.timeSeries.list(logging)",
        "monitoring.metricDescriptors.list",
    }
    # Without utilization no idle finding, but the unattached disk is still found.
    policies = set(result.report.findings["policy_id"])
    assert "storage.unattached-volume" in policies
    assert "rightsizing.idle" not in policies


@pytest.mark.slow
def test_no_credentials_is_one_line_and_exit_2_within_ten_seconds(tmp_path: Path) -> None:
    # A metadata server that accepts connections and never answers: the worst case.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    host = f"127.0.0.1:{silent.getsockname()[1]}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GOOGLE_", "CLOUDSDK_", "COSTSCAN_GCP_", "GCE_"))
    }
    env |= {
        "HOME": str(tmp_path),
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
        "GCE_METADATA_HOST": host,
        "GCE_METADATA_IP": host,
    }
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "costscan.scanner.app.cli", "run", "--provider", "gcp",
             "--project", "p", "--output-dir", str(tmp_path / "out")],
            env=env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    finally:
        silent.close()
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("costscan: error: no Google Cloud credentials")
    assert "GOOGLE_APPLICATION_CREDENTIALS" in lines[0]
    assert "gcloud auth application-default login" in lines[0]
    # The lookup is capped at 5 s (about 10 s with start-up on a quiet machine); a loaded
    # CI runner is slower, so only a hang (the 30 s subprocess timeout) fails here.
    assert elapsed < 25, elapsed
    assert not (tmp_path / "out").exists()


def test_without_the_google_sdks_the_run_stops_with_how_to_install_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`pip install costscan` alone, then --provider gcp: one line and exit 2, before any
    call (the SDKs are the gcp extra)."""
    from costscan.providers.gcp import provider as gcp_provider
    from costscan.scanner.app import cli
    from costscan.scanner.contracts.errors import UsageError

    GcpProvider().check(ScanRequest(context=RunContext(now=NOW)))  # all installed here
    missing = "google.cloud.costscanmissing_v1"
    monkeypatch.setattr(gcp_provider, "SDK_MODULES", (*gcp_provider.SDK_MODULES, missing))
    with pytest.raises(UsageError, match=rf"pip install 'costscan\[gcp\]' \({missing} is"):
        GcpProvider().check(ScanRequest(context=RunContext(now=NOW)))
    with pytest.raises(SystemExit) as exited:
        cli.main(["run", "--provider", "gcp", "--project", "p", "--format", "json"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "costscan[gcp]" in err and "Traceback" not in err
