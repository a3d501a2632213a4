"""Live Compute Engine list prices from the Cloud Billing Catalog API (google-cloud-billing
CloudCatalogClient, REST), cached on disk, with the bundled table as the fallback.

Compute Engine prices a machine type as vCPUs × the series' "Instance Core" rate plus GiB ×
its "Instance Ram" rate (``providers/pricing/gcp.py``). The catalogue holds those rates as
SKUs of the Compute Engine service (``services/6F81-5844-456A``, found by its display name
through ``services.list``), one per series and region group:

- description ``<SERIES> [AMD|Arm|Intel|Predefined] Instance Core running in <where>``
  (or ``Ram``), category resource family ``Compute``, resource group ``CPU`` or ``RAM``,
  usage type ``OnDemand``; Spot, custom, sole-tenant and commitment SKUs do not match;
- ``serviceRegions``: every region the rate applies to;
- ``pricingInfo[0].pricingExpression``: ``usageUnit`` ``h`` (a vCPU-hour) or ``GiBy.h``
  (a GiB-hour), and ``tieredRates`` of ``startUsageAmount`` and ``unitPrice`` (Money:
  units plus nanos). The rate is that of the tier starting at 0.

(https://cloud.google.com/billing/docs/reference/rest/v1/services.skus/list). SKUs are
listed in USD (``currencyCode``), every page; the matching rows (a few hundred of the
thousands) are cached as JSON under the cache directory and reused while younger than
``CACHE_MAX_AGE`` measured from the run's clock. Prices from them are ``source = live``
with ``as_of`` the day they were fetched; bundled rows fill every (region, type) the live
answer lacks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import polars as pl

from costscan.providers.pricing import gcp as gcp_prices
from costscan.scanner.contracts import files

COMPUTE_ENGINE: Final = "Compute Engine"
CURRENCY: Final = "USD"
DEFAULT_CACHE_DIR: Final = "~/.cache/costscan/pricing"
CACHE_FILE: Final = "gcp-compute-engine-rates.json"
# List prices move rarely; a week-old answer is still the list price in practice.
CACHE_MAX_AGE: Final = timedelta(days=7)
CACHE_FORMAT_VERSION: Final = 1
LIVE_REFERENCE: Final = "Cloud Billing Catalog API"

_SKU_DESCRIPTION = re.compile(
    r"^(?P<series>[A-Z][A-Z0-9]*)(?: (?:AMD|Arm|Intel|Predefined))? Instance "
    r"(?P<part>Core|Ram) running in (?P<where>.+)$"
)
_UNITS: Final = {"Core": ("CPU", "h"), "Ram": ("RAM", "GiBy.h")}
RATE_SCHEMA: Final[dict[str, pl.DataType]] = {
    "series": pl.String(),
    "part": pl.String(),  # core | ram
    "region": pl.String(),
    "rate": pl.Float64(),  # USD per vCPU-hour (core) or per GiB-hour (ram)
    "sku": pl.String(),  # "<description> (<skuId>)"
}


def sku_rates(skus: Iterable[Any]) -> list[dict[str, Any]]:
    """One row per on-demand core or RAM SKU and region it serves, from catalogue Skus."""
    rows: list[dict[str, Any]] = []
    for sku in skus:
        named = _SKU_DESCRIPTION.match(sku.description or "")
        if named is None or sku.category.usage_type != "OnDemand" or not sku.pricing_info:
            continue
        group, unit = _UNITS[named.group("part")]
        expression = sku.pricing_info[0].pricing_expression
        if sku.category.resource_group != group or expression.usage_unit != unit:
            continue
        first = [t for t in expression.tiered_rates if t.start_usage_amount == 0]
        if not first or first[0].unit_price.currency_code not in ("", CURRENCY):
            continue
        price = first[0].unit_price
        rate = float(price.units) + float(price.nanos) / 1e9
        rows.extend(
            {
                "series": named.group("series").lower(),
                "part": named.group("part").lower(),
                "region": region,
                "rate": rate,
                "sku": f"{sku.description} ({sku.sku_id})",
            }
            for region in sku.service_regions
        )
    return rows


def fetch_rates(client: Any) -> list[dict[str, Any]]:
    """The Compute Engine on-demand core and RAM rates: services.list, then every page of
    the service's skus.list in USD."""
    service = next(
        (s.name for s in client.list_services() if s.display_name == COMPUTE_ENGINE), None
    )
    if service is None:
        return []
    return sku_rates(client.list_skus(request={"parent": service, "currency_code": CURRENCY}))


def cached_rates(
    client_factory: Callable[[], Any], cache_dir: str | None, now: datetime
) -> tuple[list[dict[str, Any]], str]:
    """(rates, the ISO date they were fetched): the cache when fresh, else the catalogue
    (written to the cache atomically). ``client_factory`` is called only on a miss."""
    path = Path(cache_dir or DEFAULT_CACHE_DIR).expanduser() / CACHE_FILE
    cached = _fresh(path, now)
    if cached is None:
        cached = {
            "format": CACHE_FORMAT_VERSION,
            "fetched_at": now.isoformat(),
            "rates": fetch_rates(client_factory()),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        files.write_atomically(path, json.dumps(cached, separators=(",", ":")).encode())
    fetched_on = datetime.fromisoformat(cached["fetched_at"]).date().isoformat()
    return list(cached["rates"]), fetched_on


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


def live_compute_rates(rates: list[dict[str, Any]], fetched_on: str) -> pl.DataFrame:
    """Per series and region with both a core and a RAM rate: the compute rates table
    (``gcp_prices.COMPUTE_PRICES_SCHEMA``), its reference naming both SKUs."""
    frame = pl.DataFrame(rates, schema=RATE_SCHEMA)
    core = frame.filter(pl.col("part") == "core").group_by("series", "region").first()
    ram = frame.filter(pl.col("part") == "ram").group_by("series", "region").first()
    return (
        core.join(ram, on=["series", "region"], how="inner", suffix="_ram")
        .select(
            "series",
            "region",
            pl.col("rate").alias("core_hour"),
            pl.col("rate_ram").alias("ram_gib_hour"),
            pl.format(
                "{}, Compute Engine: SKUs '{}' and '{}'", pl.lit(LIVE_REFERENCE), "sku", "sku_ram"
            ).alias("reference"),
            pl.lit(fetched_on).alias("as_of"),
        )
        .sort("series", "region")
    )


def live_gcp_prices(
    client_factory: Callable[[], Any], cache_dir: str | None, now: datetime
) -> pl.DataFrame:
    """Every known machine type priced from the live catalogue (``source = live``), then the
    bundled price of every (region, type) the live answer lacks."""
    rates, fetched_on = cached_rates(client_factory, cache_dir, now)
    live = gcp_prices.prices_from_rates(live_compute_rates(rates, fetched_on), source="live")
    bundled = gcp_prices.bundled_gcp_prices()
    missing = bundled.join(
        live.select("region", "instance_type"), on=["region", "instance_type"], how="anti"
    )
    return pl.concat([live, missing], how="vertical")
