"""AWS network list prices: public IPv4 addresses, NAT gateways and load balancers.

One bundled CSV (``data/aws_network_prices.csv``, sources in ``data/README.md``), one row
per region and priced item, USD. A region the file does not cover is priced at its
us-east-1 figure by ``price_lookup``, which says so (``fallback``), so findings can lower
their confidence and name the substitution in their evidence. No network, no credentials.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import polars as pl

DATA_DIR = Path(__file__).resolve().parent / "data"
NETWORK_PRICES_CSV = DATA_DIR / "aws_network_prices.csv"
FALLBACK_REGION = "us-east-1"

# Items priced in the CSV (the ``item`` column).
PUBLIC_IPV4_HOUR = "public_ipv4_address"
NAT_GATEWAY_HOUR = "nat_gateway_hour"
NAT_GATEWAY_DATA = "nat_gateway_data"
LOAD_BALANCER_HOUR = {
    "application": "alb_hour",
    "network": "nlb_hour",
    "gateway": "gwlb_hour",
    "classic": "clb_hour",
}

PRICES_SCHEMA: dict[str, pl.DataType] = {
    "region": pl.String(),
    "item": pl.String(),
    "unit": pl.String(),
    "price": pl.Float64(),
    "reference": pl.String(),
    "as_of": pl.String(),
}


@functools.lru_cache(maxsize=1)
def _read() -> pl.DataFrame:
    return pl.read_csv(NETWORK_PRICES_CSV, schema=PRICES_SCHEMA)


def bundled_network_prices(regions: Sequence[str] | None = None) -> pl.DataFrame:
    """The bundled rows (region, item, unit, price, reference, as_of), for ``regions``."""
    prices = _read()
    if regions is not None:
        prices = prices.filter(pl.col("region").is_in(list(regions)))
    return prices.clone()


def price_lookup(region: str, items: Sequence[str]) -> pl.DataFrame:
    """One row per item: its price in ``region``, else its us-east-1 price.

    Columns: item, price, reference, as_of, fallback (True when the us-east-1 figure
    stands in for a region the file does not price). Items priced nowhere are absent.
    """
    wanted = pl.DataFrame({"item": list(items)}, schema={"item": pl.String()})
    prices = _read()
    here = prices.filter(pl.col("region") == region).select("item", "price", "reference", "as_of")
    home = prices.filter(pl.col("region") == FALLBACK_REGION).select(
        "item",
        pl.col("price").alias("_home_price"),
        pl.col("reference").alias("_home_reference"),
        pl.col("as_of").alias("_home_as_of"),
    )
    joined = wanted.join(here, on="item", how="left").join(home, on="item", how="left")
    fallback = pl.col("price").is_null() & pl.col("_home_price").is_not_null()
    return joined.select(
        "item",
        pl.coalesce("price", "_home_price").alias("price"),
        pl.when(fallback)
        .then(
            pl.format(
                "{}; {} is not bundled, us-east-1 price used", "_home_reference", pl.lit(region)
            )
        )
        .otherwise(pl.col("reference"))
        .alias("reference"),
        pl.coalesce("as_of", "_home_as_of").alias("as_of"),
        fallback.alias("fallback"),
    ).filter(pl.col("price").is_not_null())
