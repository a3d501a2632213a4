"""Live Azure VM prices from the Azure Retail Prices API, cached on disk, with the bundled
table as the fallback (``--live-pricing``).

The API is public and unauthenticated (https://prices.azure.com/api/retail/prices,
https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices):
an OData ``$filter`` chooses the meters, ``currencyCode`` the currency, and each answer
holds ``Items`` and a ``NextPageLink`` to the next page. Per region a scan uses, costscan
asks for ``serviceName eq 'Virtual Machines' and armRegionName eq '<region>' and priceType
eq 'Consumption'`` in USD, every page, and keeps the Linux pay-as-you-go meter of each size:
``type`` Consumption, ``unitOfMeasure`` "1 Hour", a ``productName`` that does not end in
"Windows", and a ``skuName`` that is not Spot or Low Priority. The kept rows are cached as
JSON per region under the cache directory while younger than ``CACHE_MAX_AGE`` (the run's
clock). A size's vCPUs and memory come from Virtual Machine Sizes - List (the scan reads
it) or the bundled table; a size with neither is left out. Prices are ``source = live``
with ``as_of`` the day fetched, and bundled rows fill every (region, size) the live answer
lacks.

Requests go through the client the provider makes (``Clients.retail_prices``: an azure-core
pipeline with its read-only policy, so only GETs). ``COSTSCAN_AZURE_PRICES_ENDPOINT`` points
it at another base URL (the demo's fake).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import polars as pl

from costscan.providers.pricing import azure as azure_prices
from costscan.scanner.contracts import files, schema
from costscan.scanner.contracts.errors import ProviderError

ENDPOINT: Final = "https://prices.azure.com"
ENDPOINT_ENV: Final = "COSTSCAN_AZURE_PRICES_ENDPOINT"
API_VERSION: Final = "2023-01-01-preview"
CURRENCY: Final = "USD"
DEFAULT_CACHE_DIR: Final = "~/.cache/costscan/pricing"
# List prices move rarely; a week-old answer is still the list price in practice.
CACHE_MAX_AGE: Final = timedelta(days=7)
CACHE_FORMAT_VERSION: Final = 1
LIVE_REFERENCE: Final = "Azure Retail Prices API (prices.azure.com), Virtual Machines"
_REGION = re.compile(r"^[a-z0-9]+$")
RATE_SCHEMA: Final[dict[str, pl.DataType]] = {
    "region": pl.String(),
    "instance_type": pl.String(),
    "hourly_price": pl.Float64(),
    "meter": pl.String(),
}


def endpoint() -> str:
    return os.environ.get(ENDPOINT_ENV, "").strip().rstrip("/") or ENDPOINT


def query(region: str) -> str:
    """The first page's path and query for ``region``'s Linux and Windows VM meters."""
    if not _REGION.match(region):
        raise ProviderError(f"not an Azure region name: {region!r}")
    expression = (
        f"serviceName eq 'Virtual Machines' and armRegionName eq '{region}' "
        "and priceType eq 'Consumption'"
    )
    return (
        f"/api/retail/prices?api-version={API_VERSION}&currencyCode='{CURRENCY}'"
        f"&$filter={quote(expression)}"
    )


def linux_rates(items: Iterable[dict[str, Any]], region: str) -> list[dict[str, Any]]:
    """The Linux pay-as-you-go hourly rate of each size among ``items`` (the API's)."""
    rows: dict[str, dict[str, Any]] = {}
    for item in items:
        size = str(item.get("armSkuName") or "")
        product = str(item.get("productName") or "")
        sku = str(item.get("skuName") or "")
        if (
            not size
            or item.get("type") != "Consumption"
            or item.get("unitOfMeasure") != "1 Hour"
            or product.endswith("Windows")
            or "Spot" in sku
            or "Low Priority" in sku
            or str(item.get("armRegionName") or region) != region
            or item.get("currencyCode", CURRENCY) != CURRENCY
        ):
            continue
        price = float(item.get("retailPrice") or 0.0)
        if price <= 0:
            continue
        rows.setdefault(
            size,
            {
                "region": region,
                "instance_type": size,
                "hourly_price": price,
                "meter": f"{product} {item.get('meterName', '')} ({item.get('meterId', '')})",
            },
        )
    return [rows[k] for k in sorted(rows)]


def fetch_region(client: Any, region: str) -> list[dict[str, Any]]:
    """Every page of ``region``'s VM meters, reduced to Linux pay-as-you-go rates."""
    from azure.core.rest import HttpRequest

    items: list[dict[str, Any]] = []
    url: str | None = query(region)
    while url:
        # A plain pipeline client sends the URL as given: the first page's is relative.
        response = client.send_request(HttpRequest("GET", client.format_url(url)))
        response.raise_for_status()
        body = response.json()
        items.extend(body.get("Items") or [])
        url = body.get("NextPageLink") or None
    return linux_rates(items, region)


class RetailPrices:
    """Live prices per region, fetched (or read from the cache) once per run each."""

    def __init__(self, client_factory: Callable[[], Any], cache_dir: str | None,
                 now: datetime) -> None:  # fmt: skip
        self.client_factory = client_factory
        self.cache_dir = Path(cache_dir or DEFAULT_CACHE_DIR).expanduser()
        self.now = now
        self._lock = threading.Lock()
        self._regions: dict[str, tuple[list[dict[str, Any]], str]] = {}
        self._client: Any = None

    def rates(self, region: str) -> tuple[list[dict[str, Any]], str]:
        """(rates, the ISO date fetched) for ``region``: this run's, the cache's when fresh,
        else the API's (written to the cache atomically)."""
        with self._lock:
            if region in self._regions:
                return self._regions[region]
            path = self.cache_dir / f"azure-retail-vm-{region}.json"
            cached = _fresh(path, self.now)
            if cached is None:
                if self._client is None:
                    self._client = self.client_factory()
                cached = {
                    "format": CACHE_FORMAT_VERSION,
                    "fetched_at": self.now.isoformat(),
                    "rates": fetch_region(self._client, region),
                }
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    files.write_atomically(path, json.dumps(cached, separators=(",", ":")).encode())
                except OSError:
                    pass  # an unwritable cache costs the next run a fetch, nothing more
            fetched_on = datetime.fromisoformat(cached["fetched_at"]).date().isoformat()
            found = (list(cached["rates"]), fetched_on)
            self._regions[region] = found
            return found

    def prices(self, regions: Iterable[str], facts: pl.DataFrame) -> pl.DataFrame:
        """Live ``schema.PRICES`` rows for ``regions``: each size with vCPUs and memory from
        ``facts`` (region, instance_type, _api_vcpus, _api_memory_gib) or the bundled
        table."""
        frames = []
        for region in sorted(set(regions)):
            rates, fetched_on = self.rates(region)
            frames.append(
                pl.DataFrame(rates, schema=RATE_SCHEMA).with_columns(
                    pl.lit(fetched_on).alias("as_of")
                )
            )
        if not frames:
            return schema.empty(schema.PRICES)
        live = pl.concat(frames, how="vertical")
        bundled = (
            azure_prices.vm_prices()
            .select(
                "instance_type",
                pl.col("vcpus").alias("_b_vcpus"),
                pl.col("memory_gib").alias("_b_memory_gib"),
            )
            .unique("instance_type", keep="first")
        )
        frame = (
            live.join(facts, on=["region", "instance_type"], how="left")
            .join(bundled, on="instance_type", how="left")
            .with_columns(
                pl.coalesce("_api_vcpus", "_b_vcpus").alias("vcpus"),
                pl.coalesce("_api_memory_gib", "_b_memory_gib").alias("memory_gib"),
                pl.lit("azure").alias("provider"),
                pl.lit("live").alias("source"),
                pl.format("{}: {}", pl.lit(LIVE_REFERENCE), "meter").alias("reference"),
            )
            .filter(pl.col("vcpus").is_not_null() & pl.col("memory_gib").is_not_null())
        )
        return schema.conform("prices", azure_prices.size_facts(frame))


def _fresh(path: Path, now: datetime) -> dict[str, Any] | None:
    """The cached answer when it exists, parses and is younger than CACHE_MAX_AGE."""
    try:
        cached: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        age = now - datetime.fromisoformat(cached["fetched_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if cached.get("format") != CACHE_FORMAT_VERSION or not timedelta(0) <= age < CACHE_MAX_AGE:
        return None
    return cached
