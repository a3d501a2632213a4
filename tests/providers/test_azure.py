"""The Azure provider against a local HTTPS fake of Resource Manager (demo/azure_fake.py),
through the real azure-mgmt clients: Compute, Network, Monitor and Advisor.

Figures are worked out here from the retail prices the bundle cites (eastus, Linux pay as
you go: Standard_D4s_v5 $0.192 and Standard_D8s_v5 $0.384 an hour; Premium SSD P20
$73.22 and P10 $19.71 a month; snapshots $0.05 per GB-month; a Standard static public IP
$0.005 an hour), never read back from the code under test.
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from costscan.demo.azure import DEMO_GROUP, DEMO_REGION, DEMO_SUBSCRIPTION, seed_demo_subscription
from costscan.demo.azure_fake import FakeAzure
from costscan.providers.azure import AzureProvider
from costscan.providers.azure.clients import Clients, Endpoints, is_read_request, resolve_credential
from costscan.providers.interface import ScanRequest
from costscan.providers.pricing.azure import bundled_azure_prices, disk_tier
from costscan.scanner.contracts.errors import ReadOnlyViolation
from costscan.scanner.contracts.inventory import Inventory, RunContext

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAzure]:
    made = FakeAzure(page_size=2)
    seed_demo_subscription(made, NOW)
    with made:
        for key, value in made.environment().items():
            monkeypatch.setenv(key, value)
        yield made


def collect(provider: AzureProvider | None = None, **request: object) -> Inventory:
    scan = ScanRequest(context=RunContext(now=NOW), **request)  # type: ignore[arg-type]
    return (provider or AzureProvider(retries=0)).collect(scan)


def demo_collect() -> Inventory:
    return collect(subscriptions=(DEMO_SUBSCRIPTION,))


# --------------------------------------------------------------------------- prices


def test_bundled_price_of_d4s_v5_in_eastus_is_the_retail_rate() -> None:
    prices = bundled_azure_prices()
    row = prices.filter(
        (pl.col("region") == "eastus") & (pl.col("instance_type") == "Standard_D4s_v5")
    ).row(0, named=True)
    assert (row["provider"], row["hourly_price"], row["vcpus"], row["memory_gib"]) == (
        "azure", 0.192, 4.0, 16.0,
    )  # fmt: skip
    assert "prices.azure.com" in row["reference"]


@pytest.mark.parametrize(
    ("size", "family", "architecture", "burstable", "local_disk", "current"),
    [
        ("Standard_D8s_v5", "Dsv5", "x86_64", False, False, True),
        ("Standard_D4ps_v5", "Dpsv5", "arm64", False, False, True),
        ("Standard_B2ms", "Bms", "x86_64", True, False, True),
        ("Standard_D4s_v3", "Dsv3", "x86_64", False, False, False),
    ],
)
def test_azure_sizes_carry_facts_read_from_the_azure_naming_convention(
    size: str, family: str, architecture: str, burstable: bool, local_disk: bool, current: bool
) -> None:
    row = bundled_azure_prices().filter(pl.col("instance_type") == size).row(0, named=True)
    assert (row["family"], row["architecture"], row["burstable"]) == (
        family, architecture, burstable,
    )  # fmt: skip
    assert (row["local_disk"], row["current_generation"]) == (local_disk, current)


@pytest.mark.parametrize(
    ("sku", "size_gb", "tier", "monthly"),
    [
        ("Premium_LRS", 512, "P20", 73.22),
        ("Premium_LRS", 513, "P30", 135.17),  # a GiB over a tier bills the next one
        ("Standard_LRS", 100, "S10", 5.89),
        ("StandardSSD_LRS", 64, "E6", 4.80),
    ],
)
def test_a_managed_disk_bills_the_smallest_tier_that_holds_it(
    sku: str, size_gb: int, tier: str, monthly: float
) -> None:
    billed = disk_tier(sku, size_gb, None, "eastus")
    assert (billed["tier"], billed["monthly_price"]) == (tier, monthly)


def test_premium_v2_is_left_unpriced_rather_than_guessed() -> None:
    assert disk_tier("PremiumV2_LRS", 512, None, "eastus")["monthly_price"] is None


# --------------------------------------------------------------------------- collect


@pytest.mark.slow
def test_collect_fills_the_inventory_frames_from_every_page(fake: FakeAzure) -> None:
    inv = demo_collect()
    assert inv.errors == []
    assert inv.rejections == []
    compute = inv.frame("compute")
    # Seven VMs at two per page, listed twice (model and statusOnly): every nextLink read.
    assert compute.height == 7
    listings = [r for r in fake.requests if r.path.endswith("/virtualMachines")]
    assert len(listings) == 2 * math.ceil(7 / 2)
    vm = compute.filter(pl.col("resource_name") == "api-oversized").row(0, named=True)
    assert vm["resource_id"] == (
        f"/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/{DEMO_GROUP}/providers/"
        "Microsoft.Compute/virtualMachines/api-oversized"
    )
    assert (vm["instance_type"], vm["vcpus"], vm["memory_gib"]) == ("Standard_D8s_v5", 8.0, 32.0)
    # Cost Management billed it 336 h at $0.384: the billed rate, marked as billing.
    assert vm["hourly_price"] == pytest.approx(0.384)
    assert (vm["price_source"], vm["platform"]) == ("billing", "linux")
    idle = compute.filter(pl.col("resource_name") == "batch-idle-1").row(0, named=True)
    assert idle["hourly_price"] == pytest.approx(0.1536)  # a savings plan's amortized rate
    web = compute.filter(pl.col("resource_name") == "web-1").row(0, named=True)
    assert (web["hourly_price"], web["price_source"]) == (0.192, "bundled")  # not billed
    assert compute.filter(pl.col("resource_name") == "build-old")["state"].to_list() == ["stopped"]
    assert compute.filter(pl.col("resource_name") == "ci-runner")["lifecycle"].to_list() == ["spot"]
    tags = inv.frame("tags").filter(pl.col("resource_id") == vm["resource_id"])
    assert dict(zip(tags["key"], tags["value"], strict=True)) == {"team": "api", "env": "prod"}

    volumes = inv.frame("volumes")
    orphan = volumes.filter(pl.col("resource_name") == "orphan-data").row(0, named=True)
    assert (orphan["state"], orphan["attached_to"]) == ("available", None)
    assert (orphan["volume_type"], orphan["monthly_price"]) == ("Premium_LRS P20", 73.22)
    assert orphan["price_snapshot_gb_month"] == 0.05
    os_disk = volumes.filter(pl.col("resource_name") == "build-old_OsDisk_1").row(0, named=True)
    assert (os_disk["attached_state"], os_disk["monthly_price"]) == ("stopped", 19.71)
    assert os_disk["attached_stopped_since"] == NOW - timedelta(days=45)

    snapshot = inv.frame("snapshots").row(0, named=True)
    assert (snapshot["source_exists"], snapshot["size_gb"]) == (False, 256.0)
    assert snapshot["monthly_price"] == pytest.approx(256 * 0.05)

    address = inv.frame("network_idle").filter(~pl.col("attached")).row(0, named=True)
    assert (address["kind"], address["hourly_price"]) == ("static_address", 0.005)
    assert address["resource_name"] == "legacy-lb-ip (203.0.113.7)"

    # Storage accounts: the one without a management policy (ARM's 404) has no lifecycle;
    # bytes and blobs are Monitor's latest BlobCapacity and BlobCount.
    buckets = inv.frame("buckets").sort("resource_name")
    assert buckets["resource_name"].to_list() == ["costscandemoassets", "costscandemologs"]
    assert buckets["has_lifecycle"].to_list() == [True, False]
    assert buckets["lifecycle_summary"].to_list() == ["cool-after-30-days", None]
    assert buckets["storage_class"].to_list() == ["HOT", "HOT"]
    assert buckets["bytes"].to_list() == [150 * 1024**3, 2048 * 1024**3]
    assert buckets["objects"].to_list() == [90_000.0, 420_000.0]
    assert buckets["price_standard_gb_month"].to_list() == [0.018, 0.018]
    assert buckets["price_standard_ia_gb_month"].to_list() == [0.01, 0.01]

    # 14 days × 24 hours of CPU average for each of the six running VMs.
    utilization = inv.frame("utilization")
    cpu = utilization.filter((pl.col("metric") == "cpu") & (pl.col("statistic") == "average"))
    assert cpu["resource_id"].n_unique() == 6
    assert cpu.height == 6 * 14 * 24
    # 24 GiB available of 32 GiB: a quarter used.
    memory = utilization.filter(pl.col("metric") == "memory")
    assert memory["resource_id"].unique().to_list() == [vm["resource_id"]]
    assert memory["value"].unique().to_list() == [pytest.approx(25.0)]


@pytest.mark.slow
def test_advisor_cost_advice_becomes_the_provider_advice_frame(fake: FakeAzure) -> None:
    advice = demo_collect().frame("provider_advice").sort("resource_name")
    # The VMs' advice, and the reservation advice on the subscription (named by its id).
    assert advice["resource_name"].to_list() == [
        DEMO_SUBSCRIPTION, "api-oversized", "batch-idle-1", "dev-box",
    ]  # fmt: skip
    assert advice["kind"].to_list() == ["commit", "resize", "stop", "resize"]
    assert advice["target"].to_list() == [
        "Standard_D4s_v5", "Standard_D4s_v5", None, "Standard_B2s",
    ]  # fmt: skip
    assert advice["resource_type"].to_list()[0] == "commitment_coverage"
    assert advice["resource_id"].to_list()[0] == f"/subscriptions/{DEMO_SUBSCRIPTION}"
    # Advisor's savingsAmount is monthly: $0.192 × 730 = $140.16 for the D4s_v5.
    assert advice["monthly_savings"].to_list() == [113.53, 140.16, 140.16, 39.71]
    assert set(advice["recommender"]) == {"Azure Advisor"}


@pytest.mark.slow
def test_monitor_is_one_call_per_fifty_vms_per_region_not_one_per_vm(fake: FakeAzure) -> None:
    # 120 more running VMs without metrics: 126 running in eastus, so ceil(126 / 50) = 3.
    for index in range(120):
        fake.add_vm(DEMO_SUBSCRIPTION, DEMO_GROUP, DEMO_REGION, f"fleet-{index:03d}",
                    "Standard_D2s_v5", created=NOW - timedelta(days=30))  # fmt: skip
    provider = AzureProvider(retries=0)
    inv = collect(provider, subscriptions=(DEMO_SUBSCRIPTION,))
    assert inv.frame("compute").filter(pl.col("state") == "running").height == 126
    calls = [
        r for r in fake.requests
        if r.path.lower().endswith("/microsoft.insights/metrics")
        and "virtualmachines" in r.body.lower()
    ]  # fmt: skip
    assert len(calls) == provider.counter.total == math.ceil(126 / 50) == 3
    # The resource ids travel in the POST body's filter, never one call per VM.
    assert all(r.method == "POST" and "Microsoft.ResourceId eq" in r.body for r in calls)


@pytest.mark.slow
def test_management_group_scans_the_subscriptions_under_it(fake: FakeAzure) -> None:
    fake.subscription("00000000-0000-4000-8000-00000000ffff", "outside")
    fake.management_groups["platform"] = [DEMO_SUBSCRIPTION]
    inv = collect(management_group="platform")
    assert inv.accounts == [DEMO_SUBSCRIPTION]
    assert inv.frame("compute").height == 7


@pytest.mark.slow
def test_without_subscriptions_every_listed_subscription_is_scanned(fake: FakeAzure) -> None:
    fake.subscription("00000000-0000-4000-8000-00000000ffff", "empty")
    inv = collect()
    assert sorted(inv.accounts) == sorted(
        [DEMO_SUBSCRIPTION, "00000000-0000-4000-8000-00000000ffff"]
    )


# --------------------------------------------------------------------------- read-only


@pytest.mark.slow
def test_every_request_the_fake_receives_is_a_read(fake: FakeAzure) -> None:
    demo_collect()
    assert fake.requests
    # GETs, and the POSTs Azure defines as reads: Cost Management's query and the metrics
    # query's POST form.
    assert {r.method for r in fake.requests} == {"GET", "POST"}
    assert {r.path.lower() for r in fake.requests if r.method == "POST"} == {
        f"/subscriptions/{DEMO_SUBSCRIPTION}/providers/microsoft.costmanagement/query",
        f"/subscriptions/{DEMO_SUBSCRIPTION}/providers/microsoft.insights/metrics",
    }
    paths = {r.path.lower().split("/providers/", 1)[-1] for r in fake.requests}
    assert {"microsoft.compute/disks", "microsoft.insights/metrics",
            "microsoft.advisor/recommendations"} <= paths  # fmt: skip


def test_read_only_policy_refuses_a_write_before_sending_it(fake: FakeAzure) -> None:
    endpoints = Endpoints.from_env()
    client = Clients(resolve_credential(endpoints), endpoints, retries=0).compute(DEMO_SUBSCRIPTION)
    before = len(fake.requests)
    with pytest.raises(ReadOnlyViolation, match="refused POST"):
        client.virtual_machines.begin_deallocate(DEMO_GROUP, "batch-idle-1")
    with pytest.raises(ReadOnlyViolation, match="refused DELETE"):
        client.disks.begin_delete(DEMO_GROUP, "orphan-data")
    assert len(fake.requests) == before


def test_only_the_posts_azure_defines_as_reads_pass() -> None:
    sub = "/subscriptions/s"
    assert is_read_request("GET", f"{sub}/providers/Microsoft.Compute/disks")
    assert is_read_request("POST", f"{sub}/providers/Microsoft.CostManagement/query")
    assert is_read_request("POST", f"{sub}/providers/microsoft.insights/metrics")
    assert not is_read_request("POST", f"{sub}/resourceGroups/g/providers/Microsoft.Compute/"
                               "virtualMachines/vm/deallocate")  # fmt: skip
    assert not is_read_request("PUT", f"{sub}/providers/Microsoft.CostManagement/query")
    assert not is_read_request("PATCH", f"{sub}/resourceGroups/g")


def test_an_endpoint_override_must_be_https() -> None:
    from costscan.scanner.contracts.errors import ProviderError

    with pytest.raises(ProviderError, match="https base URL"):
        Endpoints.from_env({"COSTSCAN_AZURE_ENDPOINT": "http://127.0.0.1:1"})


# --------------------------------------------------------------------------- failures


@pytest.mark.slow
def test_a_denied_collector_costs_only_its_own_data(fake: FakeAzure) -> None:
    fake.deny(DEMO_SUBSCRIPTION, "network")
    inv = demo_collect()
    assert [e.collector for e in inv.errors] == [
        "network.publicIPAddresses.listAll",
        "network.natGateways.listAll",
        "network.loadBalancers.listAll",
    ]
    message = inv.errors[0].message
    assert message.startswith("AuthorizationFailed: ") and "publicIPAddresses/read" in message
    assert "\n" not in message
    assert inv.frame("compute").height == 7
    assert inv.frame("volumes").height == 9


@pytest.mark.slow
def test_a_denied_api_run_exits_3_with_the_gap_in_the_report(
    fake: FakeAzure, tmp_path: Path
) -> None:
    from costscan.scanner.app import engine

    fake.deny(DEMO_SUBSCRIPTION, "monitor")
    result = engine.run(
        engine.Settings(
            provider="azure",
            subscriptions=(DEMO_SUBSCRIPTION,),
            formats=("json",),
            output_dir=str(tmp_path),
            now=NOW,
        )
    )
    assert result.exit_code == engine.EXIT_PARTIAL
    assert {e.collector for e in result.report.errors} == {
        "monitor.metrics.listAtSubscriptionScope",
        "monitor.metrics.listAtSubscriptionScope(storage)",
    }
    # Without utilization no idle finding, but the unattached disk is still found.
    policies = set(result.report.findings["policy_id"])
    assert "storage.unattached-volume" in policies
    assert "rightsizing.idle" not in policies


def test_subscription_flags_apply_to_azure_only(tmp_path: Path) -> None:
    from costscan.scanner.app import engine
    from costscan.scanner.contracts.errors import UsageError

    with pytest.raises(UsageError, match="--provider azure only"):
        engine.check_settings(
            engine.Settings(provider="gcp", subscriptions=("s",), output_dir=str(tmp_path))
        )


@pytest.mark.slow
def test_no_credentials_is_one_line_and_exit_2_within_ten_seconds(tmp_path: Path) -> None:
    # IMDS at an address that accepts connections and never answers: the worst case.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AZURE_", "COSTSCAN_AZURE_", "IDENTITY_", "MSI_", "IMDS_"))
    }
    env |= {
        "HOME": str(tmp_path),
        "AZURE_CONFIG_DIR": str(tmp_path / "azure"),
        "AZURE_POD_IDENTITY_AUTHORITY_HOST": f"http://127.0.0.1:{silent.getsockname()[1]}",
    }
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "costscan.scanner.app.cli", "run", "--provider", "azure",
             "--subscription", "s", "--output-dir", str(tmp_path / "out")],
            env=env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    finally:
        silent.close()
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("costscan: error: no Azure credentials")
    assert "DefaultAzureCredential" in lines[0] and "az login" in lines[0]
    # The lookup is capped at 6 s; a loaded CI runner is slower, so only a hang (the 30 s
    # subprocess timeout) fails here.
    assert elapsed < 25, elapsed
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- live prices


def seed_retail(fake: FakeAzure) -> None:
    """The Retail Prices API's eastus meters: D8s_v5 at a live $0.40 (bundled: $0.384),
    its Windows and Spot meters (which must not be taken), and D4s_v5."""
    fake.add_retail_price("eastus", "Standard_D8s_v5", 0.40)
    fake.add_retail_price("eastus", "Standard_D8s_v5", 0.752, windows=True)
    fake.add_retail_price("eastus", "Standard_D8s_v5", 0.0768, spot=True)
    fake.add_retail_price("eastus", "Standard_D2s_v5", 0.10)
    fake.add_retail_price("westus", "Standard_D8s_v5", 0.41)


@pytest.mark.slow
def test_live_pricing_reads_every_page_of_the_retail_api_and_wins_over_bundled(
    fake: FakeAzure, tmp_path: Path
) -> None:
    seed_retail(fake)
    inv = collect(subscriptions=(DEMO_SUBSCRIPTION,), live_pricing=True, cache_dir=str(tmp_path))
    assert inv.errors == []
    # dev-box (Standard_D2s_v5) has no billed cost: the live price wins over the bundled one.
    vm = inv.frame("compute").filter(pl.col("resource_name") == "dev-box").row(0, named=True)
    assert (vm["hourly_price"], vm["price_source"]) == (0.10, "live")
    # Four eastus meters at two a page: two pages, the Linux on-demand one of each size kept.
    pages = [r for r in fake.requests if r.path == "/api/retail/prices"]
    assert len(pages) == 2
    live = inv.frame("prices").filter(pl.col("source") == "live").sort("instance_type")
    assert live["instance_type"].to_list() == ["Standard_D2s_v5", "Standard_D8s_v5"]
    assert live["hourly_price"].to_list() == [0.10, 0.40]
    assert live["vcpus"].to_list() == [2.0, 8.0]  # from Virtual Machine Sizes - List
    # Sizes the live answer lacks keep their bundled price.
    assert inv.frame("prices").filter(
        (pl.col("instance_type") == "Standard_E2s_v5") & (pl.col("region") == "eastus")
    )["source"].to_list() == ["bundled"]

    # A second run within the week reads the cache, not the API.
    before = len([r for r in fake.requests if r.path == "/api/retail/prices"])
    again = collect(subscriptions=(DEMO_SUBSCRIPTION,), live_pricing=True, cache_dir=str(tmp_path))
    assert len([r for r in fake.requests if r.path == "/api/retail/prices"]) == before
    vm = again.frame("compute").filter(pl.col("resource_name") == "dev-box")
    assert vm["hourly_price"].to_list() == [0.10]


@pytest.mark.slow
def test_an_unreachable_retail_api_leaves_bundled_prices_and_names_the_gap(
    fake: FakeAzure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    monkeypatch.setenv("COSTSCAN_AZURE_PRICES_ENDPOINT", f"https://127.0.0.1:{port}")
    inv = collect(subscriptions=(DEMO_SUBSCRIPTION,), live_pricing=True, cache_dir=str(tmp_path))
    assert [e.collector for e in inv.errors] == ["retailprices.list"]
    vm = inv.frame("compute").filter(pl.col("resource_name") == "dev-box").row(0, named=True)
    assert (vm["hourly_price"], vm["price_source"]) == (0.096, "bundled")


def test_only_linux_on_demand_hourly_meters_are_kept() -> None:
    from costscan.providers.pricing.azure_retail import linux_rates

    item = {"armSkuName": "Standard_D2s_v5", "type": "Consumption", "unitOfMeasure": "1 Hour",
            "productName": "Virtual Machines Dsv5 Series", "skuName": "D2s v5",
            "armRegionName": "eastus", "currencyCode": "USD", "retailPrice": 0.096}  # fmt: skip
    others = [
        item | {"productName": "Virtual Machines Dsv5 Series Windows", "retailPrice": 0.188},
        item | {"skuName": "D2s v5 Spot", "retailPrice": 0.0192},
        item | {"skuName": "D2s v5 Low Priority", "retailPrice": 0.0192},
        item | {"type": "Reservation", "unitOfMeasure": "1 Hour", "retailPrice": 500.0},
        item | {"armRegionName": "westus"},
    ]
    rates = linux_rates([*others, item], "eastus")
    assert [(r["instance_type"], r["hourly_price"]) for r in rates] == [("Standard_D2s_v5", 0.096)]


# --------------------------------------------------------------------------- actual costs


def test_billed_hourly_is_vm_cost_per_vm_hour_and_other_cost_per_window_hour() -> None:
    from costscan.providers.azure.costs import COSTS_SCHEMA, billed_hourly

    spent = pl.DataFrame(
        [
            # A VM run 100 of the window's 336 hours, $15 of compute, plus a $2 extension.
            ("/s/vm", "virtual machines", 15.0, 100.0),
            ("/s/vm", "virtual machines licenses", 2.0, 100.0),
            # A disk: $33.60 over the 336-hour window.
            ("/s/disk", "storage", 33.60, 0.5),
        ],
        schema=COSTS_SCHEMA,
        orient="row",
    )
    billed = dict(billed_hourly(spent, 336.0).iter_rows())
    assert billed["/s/vm"] == pytest.approx(15.0 / 100.0)
    assert billed["/s/disk"] == pytest.approx(33.60 / 336.0)


@pytest.mark.slow
def test_cost_management_pages_are_all_read_and_a_denial_keeps_list_prices(
    fake: FakeAzure,
) -> None:
    for index in range(3):  # five rows at two a page: three pages
        fake.add_cost(DEMO_SUBSCRIPTION, f"/subscriptions/{DEMO_SUBSCRIPTION}/x/{index}",
                      "Storage", 1.0, 1.0)  # fmt: skip
    demo_collect()
    queries = [
        r for r in fake.requests if r.method == "POST" and "costmanagement" in r.path.lower()
    ]
    assert len(queries) == 3
    fake.deny(DEMO_SUBSCRIPTION, "costmanagement")
    inv = demo_collect()
    assert [e.collector for e in inv.errors] == ["costmanagement.query"]
    vm = inv.frame("compute").filter(pl.col("resource_name") == "batch-idle-1").row(0, named=True)
    assert (vm["hourly_price"], vm["price_source"]) == (0.192, "bundled")


@pytest.mark.slow
def test_a_denied_advisor_marks_its_advice_unavailable_never_silent(
    fake: FakeAzure, tmp_path: Path
) -> None:
    from costscan.scanner.app import engine

    fake.deny(DEMO_SUBSCRIPTION, "advisor")
    result = engine.run(
        engine.Settings(
            provider="azure",
            subscriptions=(DEMO_SUBSCRIPTION,),
            formats=("json",),
            output_dir=str(tmp_path),
            now=NOW,
        )
    )
    assert result.exit_code == engine.EXIT_PARTIAL
    assert {e.collector for e in result.report.errors} == {"advisor.recommendations.list"}
    idle = result.report.findings.filter(pl.col("policy_id") == "rightsizing.idle").row(
        0, named=True
    )
    assert '"verdict":"unavailable"' in idle["evidence"].replace(" ", "")
    assert "Azure Advisor's advice could not be read for this subscription" in idle["detail"]


def test_without_the_azure_sdks_the_run_stops_with_how_to_install_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from costscan.providers.azure import provider as azure_provider
    from costscan.scanner.contracts.errors import UsageError

    AzureProvider().check(ScanRequest(context=RunContext(now=NOW)))  # all installed here
    monkeypatch.setattr(
        azure_provider, "SDK_MODULES", (*azure_provider.SDK_MODULES, "azure.mgmt.costscanmissing")
    )
    with pytest.raises(
        UsageError, match=r"pip install 'costscan\[azure\]' \(azure.mgmt.costscanmissing"
    ):
        AzureProvider().check(ScanRequest(context=RunContext(now=NOW)))
