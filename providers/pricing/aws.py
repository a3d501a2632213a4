"""AWS EC2 on-demand list prices: a bundled catalog, and the live Price List API.

Both return frames in ``scanner.schema.PRICES``: one row per instance type and region,
Linux, shared tenancy, USD per hour, each row naming where its figure comes from.

- ``bundled_ec2_prices`` reads two CSV files shipped in ``data/`` (see ``data/README.md``
  for the sources and how they were assembled). No network, no credentials.
- ``live_ec2_prices`` asks the AWS Price List API (``pricing:GetProducts``) and keeps the
  answer on disk for a week, because list prices change rarely and the full EC2 offer for
  one region is tens of pages.

boto3 is imported by the caller (it passes a session); nothing here touches the network
at import time.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from costscan.scanner.contracts import schema

if TYPE_CHECKING:
    import boto3

DATA_DIR = Path(__file__).resolve().parent / "data"
FACTS_CSV = DATA_DIR / "aws_ec2_instance_types.csv"
PRICES_CSV = DATA_DIR / "aws_ec2_linux_ondemand.csv"

# Families AWS lists as previous generation ("Previous generation instances",
# https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-types.html#previous-gen-instances
# and https://aws.amazon.com/ec2/previous-generation/). Everything else AWS sells is current
# (m5, c5, r5, m6i, r6i and t2 among them). The bundled facts follow this list, and the demo
# corrects moto's copy of DescribeInstanceTypes with it.
PREVIOUS_GENERATION_FAMILIES: frozenset[str] = frozenset(
    {
        "a1", "c1", "c3", "c4", "cc1", "cc2", "cg1", "cr1", "g2", "hi1", "hs1", "i2",
        "m1", "m2", "m3", "m4", "r3", "r4", "t1",
    }
)  # fmt: skip

# The Price List Query API is served from us-east-1 (and two other regions) only; the
# region of the prices asked for is a filter, not the endpoint.
PRICE_LIST_API_REGION = "us-east-1"
LIVE_REFERENCE = "AWS Price List API GetProducts"
DEFAULT_CACHE_DIR = "~/.cache/costscan/pricing"
# List prices move rarely; a week-old answer is still the list price in practice.
CACHE_MAX_AGE = timedelta(days=7)
CACHE_FORMAT_VERSION = 1

FACTS_SCHEMA: dict[str, pl.DataType] = {
    "instance_type": pl.String(),
    "family": pl.String(),
    "size": pl.String(),
    "vcpus": pl.Float64(),
    "memory_gib": pl.Float64(),
    "architecture": pl.String(),
    "current_generation": pl.Boolean(),
    "burstable": pl.Boolean(),
}
_BUNDLED_PRICES_SCHEMA: dict[str, pl.DataType] = {
    "region": pl.String(),
    "instance_type": pl.String(),
    "hourly_price": pl.Float64(),
    "reference": pl.String(),
    "as_of": pl.String(),
}
_FACT_COLUMNS = tuple(c for c in FACTS_SCHEMA if c != "instance_type")


@functools.lru_cache(maxsize=1)
def _read_facts() -> pl.DataFrame:
    return pl.read_csv(FACTS_CSV, schema=FACTS_SCHEMA)


@functools.lru_cache(maxsize=1)
def _read_bundled_prices() -> pl.DataFrame:
    return pl.read_csv(PRICES_CSV, schema=_BUNDLED_PRICES_SCHEMA)


def ec2_instance_facts() -> pl.DataFrame:
    """Instance type facts (vCPUs, memory, architecture, generation, burstable).

    From EC2 DescribeInstanceTypes as bundled with moto; one row per instance type that
    the bundled catalog prices.
    """
    return _read_facts().clone()


def bundled_ec2_prices(regions: Sequence[str] | None = None) -> pl.DataFrame:
    """Bundled on-demand Linux list prices as ``schema.PRICES`` (source ``bundled``).

    ``regions`` limits the rows to those regions; ``None`` returns every bundled region.
    A region the catalog does not cover gives no rows (never a guessed price).
    """
    prices = _read_bundled_prices()
    if regions is not None:
        prices = prices.filter(pl.col("region").is_in(list(regions)))
    joined = prices.join(_read_facts(), on="instance_type", how="left").with_columns(
        pl.lit("aws").alias("provider"), pl.lit("bundled").alias("source")
    )
    return schema.conform("prices", joined)


def live_ec2_prices(
    session: boto3.Session,
    regions: Sequence[str],
    cache_dir: str | None,
    now: datetime,
    instance_types: Sequence[str] | None = None,
    *,
    endpoint_url: str | None = None,
) -> pl.DataFrame:
    """On-demand Linux list prices from the AWS Price List API, as ``schema.PRICES``.

    One GetProducts query per region (every page), filtered to Linux, shared tenancy, no
    pre-installed software and capacity status ``Used`` (the plain on-demand instance
    hour), and to ``instance_types`` when given. Answers are cached as JSON under
    ``cache_dir`` (default ``~/.cache/costscan/pricing``), keyed by region and filter, and
    reused while younger than seven days measured from ``now``. ``as_of`` is the date the
    answer was fetched.

    ``endpoint_url`` is for tests and local emulators; when it is ``None`` botocore
    resolves the endpoint itself, so ``AWS_ENDPOINT_URL`` is honoured.
    API errors (for example AccessDenied without ``pricing:GetProducts``) propagate as
    ``botocore.exceptions.ClientError``; the caller records them as a collector error.
    """
    cache_root = Path(cache_dir or DEFAULT_CACHE_DIR).expanduser()
    wanted = sorted(set(instance_types)) if instance_types else None
    client: Any = None
    frames: list[pl.DataFrame] = []
    for region in regions:
        cache_path = cache_root / _cache_file_name(region, wanted)
        cached = _read_fresh_cache(cache_path, now)
        if cached is None:
            if client is None:
                client = session.client(
                    "pricing", region_name=PRICE_LIST_API_REGION, endpoint_url=endpoint_url
                )
            products = list(_fetch_products(client, region, wanted))
            cached = {
                "format": CACHE_FORMAT_VERSION,
                "region": region,
                "instance_types": wanted,
                "fetched_at": now.isoformat(),
                "products": products,
            }
            _write_atomically(cache_path, cached)
        fetched_on = datetime.fromisoformat(cached["fetched_at"]).date().isoformat()
        frames.append(_products_frame(region, cached["products"], fetched_on))
    if not frames:
        return schema.empty(schema.PRICES)
    return _with_facts(pl.concat(frames, how="vertical"))


def _price_filters(region: str, instance_types: Sequence[str] | None) -> list[dict[str, str]]:
    terms = {
        "regionCode": region,
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
    }
    filters = [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in terms.items()]
    if instance_types:
        if len(instance_types) == 1:
            filters.append(
                {"Type": "TERM_MATCH", "Field": "instanceType", "Value": instance_types[0]}
            )
        else:
            # ANY_OF takes a comma-separated list, so one query covers the whole fleet.
            filters.append(
                {"Type": "ANY_OF", "Field": "instanceType", "Value": ",".join(instance_types)}
            )
    return filters


def _fetch_products(
    client: Any, region: str, instance_types: Sequence[str] | None
) -> Iterator[dict[str, Any]]:
    """Yield one compact record per priced product, following NextToken to the end."""
    paginator = client.get_paginator("get_products")
    pages = paginator.paginate(
        ServiceCode="AmazonEC2",
        Filters=_price_filters(region, instance_types),
        FormatVersion="aws_v1",
    )
    for page in pages:
        for item in page.get("PriceList", []):
            record = _parse_price_item(item)
            if record is not None:
                yield record


def _parse_price_item(item: str | dict[str, Any]) -> dict[str, Any] | None:
    """The instance type, its hourly USD price and facts from one PriceList entry."""
    doc = json.loads(item) if isinstance(item, str) else item
    attributes = doc.get("product", {}).get("attributes", {})
    instance_type = attributes.get("instanceType")
    if not instance_type:
        return None
    hourly = [
        float(dimension["pricePerUnit"]["USD"])
        for term in doc.get("terms", {}).get("OnDemand", {}).values()
        for dimension in term.get("priceDimensions", {}).values()
        if dimension.get("unit", "Hrs") == "Hrs" and "USD" in dimension.get("pricePerUnit", {})
    ]
    # A zero price marks placeholder SKUs (for example reservation-backed capacity).
    positive = [p for p in hourly if p > 0]
    if not positive:
        return None
    return {
        "instance_type": instance_type,
        "hourly_price": min(positive),
        "vcpu": attributes.get("vcpu"),
        "memory": attributes.get("memory"),
        "physical_processor": attributes.get("physicalProcessor"),
        "current_generation": attributes.get("currentGeneration"),
    }


_PRODUCT_SCHEMA: dict[str, pl.DataType] = {
    "instance_type": pl.String(),
    "hourly_price": pl.Float64(),
    "vcpu": pl.String(),
    "memory": pl.String(),
    "physical_processor": pl.String(),
    "current_generation": pl.String(),
}


def _products_frame(region: str, products: Iterable[dict[str, Any]], as_of: str) -> pl.DataFrame:
    frame = pl.DataFrame(list(products), schema=_PRODUCT_SCHEMA)
    # Several SKUs can share an instance type; the plain on-demand hour is the cheapest
    # positive one left after the filters.
    frame = frame.sort("hourly_price").unique("instance_type", keep="first", maintain_order=True)
    return frame.with_columns(
        pl.lit(region).alias("region"),
        pl.lit(as_of).alias("as_of"),
    )


def _with_facts(products: pl.DataFrame) -> pl.DataFrame:
    """Join bundled facts, falling back to the product attributes for unknown types."""
    facts = _read_facts().rename({c: f"{c}_fact" for c in _FACT_COLUMNS})
    joined = products.join(facts, on="instance_type", how="left")
    type_parts = pl.col("instance_type").str.splitn(".", 2)
    from_attributes = {
        "family": type_parts.struct.field("field_0"),
        "size": type_parts.struct.field("field_1"),
        "vcpus": pl.col("vcpu").cast(pl.Float64, strict=False),
        # "8 GiB" -> 8.0
        "memory_gib": pl.col("memory")
        .str.replace_all(",", "")
        .str.extract(r"([0-9.]+)")
        .cast(pl.Float64, strict=False),
        "architecture": pl.when(pl.col("physical_processor").str.contains("(?i)graviton"))
        .then(pl.lit("arm64"))
        .otherwise(pl.lit("x86_64")),
        "current_generation": pl.col("current_generation").str.to_lowercase() == "yes",
        "burstable": type_parts.struct.field("field_0").str.starts_with("t"),
    }
    return schema.conform(
        "prices",
        joined.with_columns(
            *[
                pl.coalesce(pl.col(f"{c}_fact"), expr).alias(c)
                for c, expr in from_attributes.items()
            ],
            pl.lit("aws").alias("provider"),
            pl.lit("live").alias("source"),
            pl.lit(LIVE_REFERENCE).alias("reference"),
        ),
    )


def _cache_file_name(region: str, instance_types: Sequence[str] | None) -> str:
    if not instance_types:
        return f"aws-ec2-{region}-all.json"
    digest = hashlib.sha256(",".join(instance_types).encode()).hexdigest()[:16]
    return f"aws-ec2-{region}-{digest}.json"


def _read_fresh_cache(path: Path, now: datetime) -> dict[str, Any] | None:
    """The cached answer when it exists, parses and is younger than CACHE_MAX_AGE."""
    try:
        cached: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        fetched_at = datetime.fromisoformat(cached["fetched_at"])
        age = now - fetched_at
    except (OSError, ValueError, KeyError, TypeError):
        # Missing, half-written by an older version, or naive/aware clocks mixed: refetch.
        return None
    if cached.get("format") != CACHE_FORMAT_VERSION or not timedelta(0) <= age < CACHE_MAX_AGE:
        return None
    return cached


def _write_atomically(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON through a temporary file in the same directory, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, separators=(",", ":"))
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
