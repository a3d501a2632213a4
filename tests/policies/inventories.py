"""Small hand-built inventories for the compute policy tests.

Prices are real AWS us-east-1 Linux on-demand list prices (USD per hour, shared tenancy),
kept here so the tests never depend on the bundled catalogue. Utilization is built
vectorially: 14 days × 24 hourly points ending at ``NOW`` (a Monday, 00:00 UTC), with
values given as a polars expression over ``ts``, ``weekday`` (1 = Monday) and ``hour``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import Inventory, RunContext

NOW = datetime(2024, 6, 17, tzinfo=UTC)  # a Monday, 00:00 UTC
LOOKBACK_DAYS = 14
HOURS = LOOKBACK_DAYS * 24
REGION = "us-east-1"
ACCOUNT = "123456789012"
PRICE_REFERENCE = "https://aws.amazon.com/ec2/pricing/on-demand/"
LONG_AGO = NOW - timedelta(days=90)


@dataclass(frozen=True)
class TypeFacts:
    family: str
    size: str
    current_generation: bool
    vcpus: float
    memory_gib: float
    architecture: str
    burstable: bool
    hourly: float


def _t(
    family: str,
    size: str,
    vcpus: float,
    memory_gib: float,
    hourly: float,
    *,
    arch: str = "x86_64",
    current: bool = True,
    burstable: bool = False,
) -> TypeFacts:
    return TypeFacts(family, size, current, vcpus, memory_gib, arch, burstable, hourly)


US_EAST_1: Mapping[str, TypeFacts] = {
    "m5.large": _t("m5", "large", 2, 8, 0.096),
    "m5.xlarge": _t("m5", "xlarge", 4, 16, 0.192),
    "m5.2xlarge": _t("m5", "2xlarge", 8, 32, 0.384),
    "m5.4xlarge": _t("m5", "4xlarge", 16, 64, 0.768),
    "m6i.xlarge": _t("m6i", "xlarge", 4, 16, 0.192),
    "m6g.large": _t("m6g", "large", 2, 8, 0.077, arch="arm64"),
    "m6g.xlarge": _t("m6g", "xlarge", 4, 16, 0.154, arch="arm64"),
    "m6g.4xlarge": _t("m6g", "4xlarge", 16, 64, 0.616, arch="arm64"),
    "m7g.xlarge": _t("m7g", "xlarge", 4, 16, 0.1632, arch="arm64"),
    "m4.large": _t("m4", "large", 2, 8, 0.10, current=False),
    "m4.xlarge": _t("m4", "xlarge", 4, 16, 0.20, current=False),
    "c5.large": _t("c5", "large", 2, 4, 0.085),
    "c5.xlarge": _t("c5", "xlarge", 4, 8, 0.17),
    "c6g.large": _t("c6g", "large", 2, 4, 0.068, arch="arm64"),
    "r5.large": _t("r5", "large", 2, 16, 0.126),
    "r5.xlarge": _t("r5", "xlarge", 4, 32, 0.252),
    "r5.2xlarge": _t("r5", "2xlarge", 8, 64, 0.504),
    "r6g.large": _t("r6g", "large", 2, 16, 0.1008, arch="arm64"),
    "m6i.large": _t("m6i", "large", 2, 8, 0.096),
    "m5a.large": _t("m5a", "large", 2, 8, 0.086),
    "t3.medium": _t("t3", "medium", 2, 4, 0.0416, burstable=True),
    "t3.large": _t("t3", "large", 2, 8, 0.0832, burstable=True),
    "t3.xlarge": _t("t3", "xlarge", 4, 16, 0.1664, burstable=True),
    "t4g.medium": _t("t4g", "medium", 2, 4, 0.0336, arch="arm64", burstable=True),
}


def price(instance_type: str) -> float:
    return US_EAST_1[instance_type].hourly


def prices_frame(region: str = REGION) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "provider": "aws",
                "region": region,
                "instance_type": name,
                "family": f.family,
                "size": f.size,
                "current_generation": f.current_generation,
                "vcpus": f.vcpus,
                "memory_gib": f.memory_gib,
                "architecture": f.architecture,
                "burstable": f.burstable,
                "hourly_price": f.hourly,
                "source": "bundled",
                "reference": PRICE_REFERENCE,
                "as_of": "2024-06-01",
            }
            for name, f in US_EAST_1.items()
        ],
        schema=dict(schema.PRICES),
    )


def instance(
    resource_id: str,
    instance_type: str,
    *,
    state: str = "running",
    lifecycle: str = "on-demand",
    group: str | None = None,
    launch_time: datetime = LONG_AGO,
    hourly_price: float | None = None,
    price_source: str = "bundled",
) -> dict[str, Any]:
    """One ``compute`` row, with vCPUs, memory and architecture from the price table."""
    facts = US_EAST_1[instance_type]
    return {
        "provider": "aws",
        "account_id": ACCOUNT,
        "region": REGION,
        "resource_id": resource_id,
        "resource_name": f"name-{resource_id}",
        "resource_type": "ec2_instance",
        "instance_type": instance_type,
        "vcpus": facts.vcpus,
        "memory_gib": facts.memory_gib,
        "state": state,
        "lifecycle": lifecycle,
        "launch_time": launch_time,
        "group": group,
        "platform": "linux",
        "architecture": facts.architecture,
        "hourly_price": facts.hourly if hourly_price is None else hourly_price,
        "price_source": price_source,
    }


def hourly(
    resource_id: str,
    metric: str,
    statistic: str,
    value: pl.Expr | float,
    *,
    hours: int = HOURS,
) -> pl.DataFrame:
    """``hours`` hourly points ending at ``NOW`` (exclusive), valued by ``value``.

    ``value`` may use the columns ``ts``, ``weekday`` (1 = Monday ... 7 = Sunday) and
    ``hour`` (0-23, UTC).
    """
    start = NOW - timedelta(hours=hours)
    ts = pl.datetime_range(start, NOW, "1h", closed="left", time_zone="UTC", eager=True)
    expr = value if isinstance(value, pl.Expr) else pl.lit(float(value))
    return (
        pl.DataFrame({"ts": ts})
        .with_columns(
            pl.col("ts").dt.weekday().alias("weekday"),
            pl.col("ts").dt.hour().cast(pl.Int64).alias("hour"),
        )
        .with_columns(
            pl.lit(resource_id).alias("resource_id"),
            pl.lit(metric).alias("metric"),
            pl.lit(statistic).alias("statistic"),
            expr.cast(pl.Float64).alias("value"),
        )
        .select(list(schema.UTILIZATION))
    )


def cpu(
    resource_id: str,
    average: pl.Expr | float,
    maximum: pl.Expr | float | None = None,
    *,
    hours: int = HOURS,
) -> list[pl.DataFrame]:
    """Hourly CPU average series, plus a maximum series when given."""
    frames = [hourly(resource_id, "cpu", "average", average, hours=hours)]
    if maximum is not None:
        frames.append(hourly(resource_id, "cpu", "maximum", maximum, hours=hours))
    return frames


def network(resource_id: str, bytes_in: float, bytes_out: float) -> list[pl.DataFrame]:
    """Hourly network series in bytes per hour."""
    return [
        hourly(resource_id, "network_in", "sum", bytes_in),
        hourly(resource_id, "network_out", "sum", bytes_out),
    ]


def office_hours(busy: float, quiet: float, start_hour: int, end_hour: int) -> pl.Expr:
    """``busy`` on weekdays from ``start_hour`` up to ``end_hour`` (UTC), else ``quiet``."""
    working = (pl.col("weekday") <= 5) & pl.col("hour").is_between(
        start_hour, end_hour, closed="left"
    )
    return pl.when(working).then(pl.lit(busy)).otherwise(pl.lit(quiet))


def alternating(low: float, high: float) -> pl.Expr:
    """``low`` on even hours and ``high`` on odd hours: p99 = ``high``, median between."""
    return pl.when(pl.col("hour") % 2 == 0).then(pl.lit(low)).otherwise(pl.lit(high))


def inventory(
    compute: Sequence[Mapping[str, Any]] = (),
    utilization: Iterable[pl.DataFrame] = (),
    tags: Iterable[tuple[str, str, str]] = (),
    spot_prices: Iterable[Mapping[str, Any]] = (),
    *,
    with_prices: bool = True,
) -> Inventory:
    """An AWS inventory at ``NOW`` with a 14-day lookback, built through ``Inventory.add``."""
    inv = Inventory(provider="aws", context=RunContext.at(NOW, lookback_days=LOOKBACK_DAYS))
    if compute:
        inv.add("compute", pl.DataFrame(list(compute), schema=dict(schema.COMPUTE)))
    frames = list(utilization)
    if frames:
        inv.add("utilization", pl.concat(frames, how="vertical"))
    tag_rows = [{"resource_id": r, "key": k, "value": v} for r, k, v in tags]
    if tag_rows:
        inv.add("tags", pl.DataFrame(tag_rows, schema=dict(schema.TAGS)))
    spot_rows = list(spot_prices)
    if spot_rows:
        inv.add("spot_prices", pl.DataFrame(spot_rows, schema=dict(schema.SPOT_PRICES)))
    if with_prices:
        inv.add("prices", prices_frame())
    assert not inv.rejections, inv.rejections
    return inv


def run(policy_id: str, inv: Inventory, **params: Any) -> pl.DataFrame:
    """Run a registered policy with ``params`` over ``inv``; one row per finding."""
    from tests.policies.runner import run_policy

    return run_policy(policy_id, inv, **params).sort("resource_id")


def only(findings: pl.DataFrame, resource_id: str) -> dict[str, Any]:
    """The single finding for ``resource_id``, with its evidence parsed."""
    rows = findings.filter(pl.col("resource_id") == resource_id).to_dicts()
    assert len(rows) == 1, f"expected one finding for {resource_id}, got {len(rows)}"
    row = rows[0]
    row["evidence"] = json.loads(row["evidence"])
    return row
