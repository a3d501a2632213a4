"""Live Compute Engine prices from the Cloud Billing Catalog API through the real
google-cloud-billing REST client against the local fake, cached on disk, the bundled
table filling what the catalogue lacks.

The catalogue's rates here are test figures (the fake's, not Google's), so every price is
worked out from them with ``decimal``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from costscan.demo.gcp import DEMO_PROJECT, seed_demo_project
from costscan.demo.gcp_fake import FakeGcp
from costscan.providers.gcp import GcpProvider
from costscan.providers.gcp.clients import Clients, Endpoints, resolve_credentials
from costscan.providers.interface import ScanRequest
from costscan.providers.pricing import gcp_catalog
from costscan.scanner.contracts.inventory import RunContext

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
AMERICAS = ("us-central1", "us-east1", "us-west1")
N2_CORE, N2_RAM = Decimal("0.0316"), Decimal("0.0042")  # the fake's Americas rates
EU_CORE, EU_RAM = Decimal("0.034773"), Decimal("0.004661")  # the fake's Belgium rates


def seed_catalog(fake: FakeGcp) -> None:
    def pair(series: str, where: str, regions: tuple[str, ...], core: Decimal, ram: Decimal,
             ids: tuple[str, str]) -> None:  # fmt: skip
        fake.add_sku(f"{series} Instance Core running in {where}", sku_id=ids[0],
                     price=float(core), regions=regions, resource_group="CPU",
                     usage_unit="h")  # fmt: skip
        fake.add_sku(f"{series} Instance Ram running in {where}", sku_id=ids[1],
                     price=float(ram), regions=regions, resource_group="RAM",
                     usage_unit="GiBy.h")  # fmt: skip

    pair("N2", "Americas", AMERICAS, N2_CORE, N2_RAM, ("AAAA-0001", "AAAA-0002"))
    pair("N2", "Belgium", ("europe-west1",), EU_CORE, EU_RAM, ("AAAA-0003", "AAAA-0004"))
    # Neither Spot, nor custom, nor commitment SKUs are on-demand list prices.
    fake.add_sku("Spot Preemptible N2 Instance Core running in Americas", sku_id="BBBB-0001",
                 price=0.0077, regions=AMERICAS, resource_group="CPU", usage_unit="h",
                 usage_type="Preemptible")  # fmt: skip
    fake.add_sku("N2 Custom Instance Core running in Americas", sku_id="BBBB-0002",
                 price=0.033, regions=AMERICAS, resource_group="CPU", usage_unit="h")  # fmt: skip
    fake.add_sku("Commitment v1: N2 Cpu in Americas for 1 Year", sku_id="BBBB-0003",
                 price=0.019915, regions=AMERICAS, resource_group="CPU", usage_unit="h",
                 usage_type="Commit1Yr")  # fmt: skip


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGcp]:
    made = FakeGcp(page_size=2)  # the SKUs come in four pages
    seed_catalog(made)
    with made:
        for key, value in made.environment().items():
            monkeypatch.setenv(key, value)
        yield made


def catalog_client() -> Any:
    endpoints = Endpoints.from_env()
    return Clients(resolve_credentials(endpoints)[0], endpoints).billing_catalog()


def sku_calls(fake: FakeGcp) -> list[str]:
    return [r.query for r in fake.requests if r.path.endswith("/skus")]


def price(prices: pl.DataFrame, region: str, machine_type: str) -> dict[str, Any]:
    rows = prices.filter((pl.col("region") == region) & (pl.col("instance_type") == machine_type))
    assert rows.height == 1
    return rows.row(0, named=True)


def test_live_prices_come_from_every_page_of_the_on_demand_skus(
    fake: FakeGcp, tmp_path: Path
) -> None:
    prices = gcp_catalog.live_gcp_prices(catalog_client, str(tmp_path), NOW)
    n2_eu = price(prices, "europe-west1", "n2-standard-8")
    assert Decimal(str(n2_eu["hourly_price"])) == 8 * EU_CORE + 32 * EU_RAM
    assert (n2_eu["source"], n2_eu["as_of"]) == ("live", "2026-12-01")
    assert "N2 Instance Core running in Belgium (AAAA-0003)" in n2_eu["reference"]
    n2_us = price(prices, "us-east1", "n2-highmem-4")
    assert Decimal(str(n2_us["hourly_price"])) == 4 * N2_CORE + 32 * N2_RAM
    # The catalogue has no E2 SKU here: the bundled rate stands, and says so.
    e2 = price(prices, "us-central1", "e2-standard-2")
    assert e2["source"] == "bundled"
    # Eight SKUs at two a page, in USD.
    calls = sku_calls(fake)
    assert len(calls) == 4
    assert all("currencyCode=USD" in q for q in calls)
    assert all(r.method == "GET" for r in fake.requests)


def test_the_cached_catalogue_serves_a_week_then_is_read_again(
    fake: FakeGcp, tmp_path: Path
) -> None:
    gcp_catalog.live_gcp_prices(catalog_client, str(tmp_path), NOW)
    assert (tmp_path / gcp_catalog.CACHE_FILE).exists()

    def no_client() -> Any:
        raise AssertionError("a fresh cache asks the catalogue nothing")

    later = NOW + timedelta(days=6)
    cached = gcp_catalog.live_gcp_prices(no_client, str(tmp_path), later)
    n2 = price(cached, "europe-west1", "n2-standard-2")
    assert (n2["source"], n2["as_of"]) == ("live", "2026-12-01")
    before = len(sku_calls(fake))
    stale = gcp_catalog.live_gcp_prices(catalog_client, str(tmp_path), NOW + timedelta(days=8))
    assert len(sku_calls(fake)) == before + 4
    assert price(stale, "europe-west1", "n2-standard-2")["as_of"] == "2026-12-09"


@pytest.mark.slow
def test_a_live_priced_scan_prices_instances_from_the_catalogue(
    fake: FakeGcp, tmp_path: Path
) -> None:
    seed_demo_project(fake, NOW)
    request = ScanRequest(
        context=RunContext(now=NOW), projects=(DEMO_PROJECT,), live_pricing=True,
        cache_dir=str(tmp_path),
    )  # fmt: skip
    inv = GcpProvider().collect(request)
    assert inv.errors == []
    compute = inv.frame("compute")
    vm = compute.filter(pl.col("resource_name") == "api-oversized").row(0, named=True)
    assert (vm["price_source"], vm["instance_type"]) == ("live", "n2-standard-8")
    assert Decimal(str(vm["hourly_price"])) == 8 * N2_CORE + 32 * N2_RAM
    web = compute.filter(pl.col("resource_name") == "web-1").row(0, named=True)
    assert web["price_source"] == "bundled"


@pytest.mark.slow
def test_an_unreadable_catalogue_falls_back_to_bundled_prices_and_says_why(
    fake: FakeGcp, tmp_path: Path
) -> None:
    seed_demo_project(fake, NOW)
    fake.deny("*", "cloudbilling")
    request = ScanRequest(
        context=RunContext(now=NOW), projects=(DEMO_PROJECT,), live_pricing=True,
        cache_dir=str(tmp_path),
    )  # fmt: skip
    inv = GcpProvider().collect(request)
    [error] = inv.errors
    assert error.collector == "cloudbilling.services.skus.list"
    assert error.message.startswith("403") and "disabled" in error.message
    vm = inv.frame("compute").filter(pl.col("resource_name") == "api-oversized")
    assert vm["price_source"].to_list() == ["bundled"]
    assert not (tmp_path / gcp_catalog.CACHE_FILE).exists()


@pytest.mark.parametrize(
    ("region", "machine_type", "published"),
    [
        # On-demand prices as SkyPilot's GCP catalog lists them (5 decimals), including types
        # the bundled rates were not solved from.
        ("europe-west1", "n2-standard-8", "0.42734"),
        ("europe-west1", "n2-highcpu-32", "1.26189"),
        ("asia-southeast1", "n2-standard-8", "0.47922"),
        ("asia-northeast1", "n2-standard-8", "0.49835"),
        ("asia-northeast1", "n2-highcpu-32", "1.47318"),
        ("europe-west1", "n2d-highcpu-48", "1.64678"),
        ("asia-southeast1", "n2d-standard-96", "5.00323"),
        # The bundled Americas rates give the same catalog's us-central1 figures.
        ("us-central1", "n2-standard-64", "3.10778"),
        ("us-central1", "n2d-highcpu-64", "1.99603"),
    ],
)
def test_bundled_european_and_asian_rates_give_the_published_prices(
    region: str, machine_type: str, published: str
) -> None:
    from costscan.providers.pricing.gcp import bundled_gcp_prices

    row = price(bundled_gcp_prices([region]), region, machine_type)
    assert Decimal(str(row["hourly_price"])).quantize(Decimal("0.00001")) == Decimal(published)
    assert row["source"] == "bundled"


def test_live_c4a_arm_rates_price_every_c4a_shape(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # C4A is not bundled; its "Arm" SKUs in the catalogue price its standard, highmem and
    # highcpu types (4, 8 and 2 GiB per vCPU) as arm64 candidates.
    core, ram = Decimal("0.03465"), Decimal("0.003938")
    made = FakeGcp()
    made.add_sku("C4A Arm Instance Core running in Americas", sku_id="CCCC-0001",
                 price=float(core), regions=AMERICAS, resource_group="CPU",
                 usage_unit="h")  # fmt: skip
    made.add_sku("C4A Arm Instance Ram running in Americas", sku_id="CCCC-0002",
                 price=float(ram), regions=AMERICAS, resource_group="RAM",
                 usage_unit="GiBy.h")  # fmt: skip
    with made:
        for key, value in made.environment().items():
            monkeypatch.setenv(key, value)
        prices = gcp_catalog.live_gcp_prices(catalog_client, str(tmp_path), NOW)
    for machine_type, vcpus, gib in (
        ("c4a-standard-8", 8, 32), ("c4a-highmem-4", 4, 32), ("c4a-highcpu-72", 72, 144),
    ):  # fmt: skip
        row = price(prices, "us-central1", machine_type)
        assert Decimal(str(row["hourly_price"])) == vcpus * core + gib * ram
        assert (row["architecture"], row["source"]) == ("arm64", "live")
