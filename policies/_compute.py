"""Shared pieces of the compute policies (rightsizing, scheduling, commitments).

Everything here is a polars expression or a LazyFrame builder over an ``Inventory``, so
each policy stays one vectorised query. The leading underscore keeps this module out of
the registry's scan: it registers no policy.

Conventions every compute finding follows, so ranking can stack them:

- ``current_monthly_cost`` is the instance's hourly on-demand price × ``HOURS_PER_MONTH``,
  and ``monthly_savings`` is expressed against that same base.
- Utilization percentiles come from the hourly ``average`` series (the ``maximum`` series
  stands in when an instance has no averages), over the run's lookback window only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.contracts.units import (
    HOURS_PER_MONTH,
)
from costscan.scanner.contracts.vocab import PriceSource

# Units live in the contracts (scanner/contracts/units.py); the policies read them here.

# Which statistic the percentiles read; the other one is the fallback.
PERCENTILE_STATISTIC: Final = "average"
FALLBACK_STATISTIC: Final = "maximum"
# Network series carry bytes per hour under this statistic (see scanner.schema.UTILIZATION).
NETWORK_STATISTIC: Final = "sum"

# Price sources from strongest to weakest; a finding reports the weakest it used.
_SOURCE_RANK: Final = {"billing": 0, "live": 1, "bundled": 2, "none": 3}

WEEKDAY_NAMES: Final = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}


# --------------------------------------------------------------------------- window


def lookback_start(inv: InventoryView) -> datetime:
    """The first instant of the run's lookback window."""
    return inv.context.now - timedelta(days=inv.context.lookback_days)


def lookback_hours(inv: InventoryView) -> int:
    return inv.context.lookback_days * 24


def utilization_in_window(inv: InventoryView) -> pl.LazyFrame:
    """Utilization rows in [now - lookback, now), so a longer fetch changes nothing.

    A datapoint is stamped with the start of its hour, so the hour stamped ``now`` has
    not finished and is left out.
    """
    start = lookback_start(inv)
    return inv.lazy("utilization").filter(
        (pl.col("ts") >= pl.lit(start, dtype=schema.UTC_TS))
        & (pl.col("ts") < pl.lit(inv.context.now, dtype=schema.UTC_TS))
    )


def preferred_series(inv: InventoryView, metric: str) -> pl.LazyFrame:
    """One hourly series per resource for ``metric``: averages, or maxima where no average."""
    rows = utilization_in_window(inv).filter(
        (pl.col("metric") == metric)
        & pl.col("statistic").is_in([PERCENTILE_STATISTIC, FALLBACK_STATISTIC])
    )
    has_average = (
        rows.filter(pl.col("statistic") == PERCENTILE_STATISTIC)
        .select("resource_id")
        .unique()
        .with_columns(pl.lit(True).alias("_has_average"))
    )
    preferred = (
        rows.join(has_average, on="resource_id", how="left")
        .filter(
            pl.when(pl.col("_has_average").fill_null(False))
            .then(pl.col("statistic") == PERCENTILE_STATISTIC)
            .otherwise(pl.col("statistic") == FALLBACK_STATISTIC)
        )
        .drop("_has_average")
    )
    # A provider may deliver an hour twice (overlapping fetches); count each hour once.
    return preferred.group_by("resource_id", "statistic", "ts").agg(pl.col("value").mean())


# --------------------------------------------------------------------------- profiles


def cpu_profile(inv: InventoryView) -> pl.LazyFrame:
    """Per resource: hours of CPU data, p50/p95/p99/mean of the hourly series, and max.

    ``cpu_max`` is the highest CPU value seen under any statistic (so the hourly maxima
    count when present); ``cpu_statistic`` says which series the percentiles read.
    """
    series = preferred_series(inv, "cpu")
    percentiles = series.group_by("resource_id").agg(
        pl.col("ts").n_unique().alias("cpu_hours"),
        pl.col("statistic").first().alias("cpu_statistic"),
        pl.col("value").quantile(0.50, interpolation="linear").alias("cpu_p50"),
        pl.col("value").quantile(0.95, interpolation="linear").alias("cpu_p95"),
        pl.col("value").quantile(0.99, interpolation="linear").alias("cpu_p99"),
        pl.col("value").mean().alias("cpu_mean"),
    )
    peak = (
        utilization_in_window(inv)
        .filter(pl.col("metric") == "cpu")
        .group_by("resource_id")
        .agg(pl.col("value").max().alias("cpu_max"))
    )
    return percentiles.join(peak, on="resource_id", how="left")


def memory_profile(inv: InventoryView) -> pl.LazyFrame:
    """Per resource with memory data: hours, p99 and max of memory used, in percent."""
    return (
        preferred_series(inv, "memory")
        .group_by("resource_id")
        .agg(
            pl.col("ts").n_unique().alias("memory_hours"),
            pl.col("value").quantile(0.99, interpolation="linear").alias("memory_p99"),
            pl.col("value").max().alias("memory_max"),
        )
    )


def network_profile(inv: InventoryView, percentile: float) -> pl.LazyFrame:
    """Per resource with network data: the ``percentile`` of bytes/second in and out.

    The series hold bytes per hour; dividing by 3,600 gives the average rate in the hour.
    """
    rows = utilization_in_window(inv).filter(
        pl.col("metric").is_in(["network_in", "network_out"])
        & (pl.col("statistic") == NETWORK_STATISTIC)
    )
    per_hour = rows.group_by("resource_id", "metric", "ts").agg(pl.col("value").mean())
    return per_hour.group_by("resource_id").agg(
        pl.col("ts").n_unique().alias("network_hours"),
        (
            pl.col("value")
            .filter(pl.col("metric") == "network_in")
            .quantile(percentile, interpolation="linear")
            / 3600.0
        ).alias("network_in_bytes_per_second"),
        (
            pl.col("value")
            .filter(pl.col("metric") == "network_out")
            .quantile(percentile, interpolation="linear")
            / 3600.0
        ).alias("network_out_bytes_per_second"),
        pl.col("value").filter(pl.col("metric") == "network_in").sum().alias("network_in_bytes"),
        pl.col("value").filter(pl.col("metric") == "network_out").sum().alias("network_out_bytes"),
    )


def hourly_coverage(inv: InventoryView) -> pl.LazyFrame:
    """Per resource: the share of the lookback's hours that have a CPU datapoint."""
    expected = float(lookback_hours(inv))
    return (
        utilization_in_window(inv)
        .filter(pl.col("metric") == "cpu")
        .group_by("resource_id")
        .agg(pl.col("ts").dt.truncate("1h").n_unique().alias("hours_with_data"))
        .with_columns((pl.col("hours_with_data") / expected).alias("coverage"))
    )


# --------------------------------------------------------------------------- types


def instance_class(family: pl.Expr) -> pl.Expr:
    """The letters before the generation digit: m5 -> m, m6g -> m, c7gn -> c, t4g -> t."""
    return family.str.extract(r"^([a-z]+)", 1)


def generation(family: pl.Expr) -> pl.Expr:
    """The generation number after the class letters: m4 -> 4, m6i -> 6, c7gn -> 7. A move
    to a lower number is a move to an older generation, which no policy recommends."""
    return family.str.extract(r"^[a-z]+(\d+)", 1).cast(pl.Int64, strict=False)


def not_older(candidate: pl.Expr, current: pl.Expr) -> pl.Expr:
    """True unless the candidate is of an older generation than the current type."""
    return candidate.is_null() | current.is_null() | (candidate >= current)


def has_local_disk(family: pl.Expr) -> pl.Expr:
    """AWS marks instance-store families with a ``d`` after the generation (m5d, c6gd)."""
    return family.str.extract(r"^[a-z]+\d+([a-z-]*)", 1).str.contains("d").fill_null(False)


def catalogue_or_derived() -> list[pl.Expr]:
    """``instance_class``, ``generation`` and ``local_disk`` as the provider's catalogue
    states them (GCP fills them: n2-standard-8 is class standard, generation 2), derived
    from the AWS-style family name where it leaves them null."""
    return [
        pl.coalesce(pl.col("instance_class"), instance_class(pl.col("family"))).alias(
            "instance_class"
        ),
        pl.coalesce(pl.col("generation"), generation(pl.col("family"))).alias("generation"),
        pl.coalesce(pl.col("local_disk"), has_local_disk(pl.col("family"))).alias("local_disk"),
    ]


def instance_types(inv: InventoryView) -> pl.LazyFrame:
    """The price catalogue, one row per (provider, region, instance_type), with derived facts.

    Where a type is priced twice (say bundled and live), the stronger source wins.
    """
    prices = inv.lazy("prices")
    family = pl.coalesce(pl.col("family"), pl.col("instance_type").str.extract(r"^([^.]+)\.", 1))
    return (
        prices.with_columns(
            family.alias("family"),
            pl.col("source")
            .replace_strict(_SOURCE_RANK, default=len(_SOURCE_RANK), return_dtype=pl.Int64)
            .alias("_rank"),
        )
        .sort("_rank", "hourly_price", "instance_type", nulls_last=True)
        .unique(subset=["provider", "region", "instance_type"], keep="first", maintain_order=True)
        .with_columns(
            *catalogue_or_derived(),
            pl.col("burstable").fill_null(False),
            pl.col("current_generation").fill_null(True),
        )
        .drop("_rank")
    )


def running_instances(inv: InventoryView) -> pl.LazyFrame:
    """Running instances with a positive price, joined with their type's facts.

    Columns: identity, ``instance_type``, ``vcpus``, ``memory_gib``, ``architecture``,
    ``state``, ``lifecycle``, ``launch_time``, ``group``, ``hourly_price`` (the instance's
    own price, else the catalogue's), ``list_hourly_price`` (on demand, before
    discounts), ``price_source``, ``price_reference``, ``family``, ``size``,
    ``current_generation``, ``burstable``, ``instance_class``, ``generation``,
    ``local_disk``.
    """
    types = instance_types(inv).select(
        "provider",
        "region",
        "instance_type",
        pl.col("family"),
        pl.col("size"),
        pl.col("current_generation"),
        pl.col("burstable"),
        pl.col("instance_class"),
        pl.col("generation"),
        pl.col("local_disk"),
        pl.col("vcpus").alias("_type_vcpus"),
        pl.col("memory_gib").alias("_type_memory_gib"),
        pl.col("architecture").alias("_type_architecture"),
        pl.col("hourly_price").alias("_type_hourly_price"),
        pl.col("source").alias("_type_source"),
        pl.col("reference").alias("price_reference"),
    )
    own_price = pl.col("hourly_price").is_not_null() & (pl.col("hourly_price") > 0)
    family = pl.coalesce(pl.col("family"), pl.col("instance_type").str.extract(r"^([^.]+)\.", 1))
    return (
        inv.lazy("compute")
        .filter(pl.col("state").str.to_lowercase() == "running")
        .join(types, on=["provider", "region", "instance_type"], how="left")
        .with_columns(
            pl.when(own_price)
            .then(pl.col("hourly_price"))
            .otherwise(pl.col("_type_hourly_price"))
            .alias("hourly_price"),
            pl.when(own_price)
            .then(pl.col("price_source"))
            .otherwise(pl.col("_type_source"))
            .fill_null("none")
            .alias("price_source"),
            # The on-demand list price, for savings before discounts: a billed price is
            # after them (EffectiveCost), so the catalogue's stands in for it.
            pl.when(own_price & (pl.col("price_source") != "billing"))
            .then(pl.col("hourly_price"))
            .otherwise(pl.coalesce("_type_hourly_price", "hourly_price"))
            .alias("list_hourly_price"),
            pl.coalesce(pl.col("vcpus"), pl.col("_type_vcpus")).alias("vcpus"),
            pl.coalesce(pl.col("memory_gib"), pl.col("_type_memory_gib")).alias("memory_gib"),
            # The type's processor decides what runs on it (m7g is arm64 whatever an emulator
            # reports for the instance), so its facts win over the instance's own field.
            pl.coalesce(pl.col("_type_architecture"), pl.col("architecture")).alias("architecture"),
            family.alias("family"),
            pl.col("burstable").fill_null(False),
            pl.col("current_generation").fill_null(True),
        )
        .with_columns(
            *catalogue_or_derived(),
        )
        .filter(pl.col("hourly_price").is_not_null() & (pl.col("hourly_price") > 0))
        .drop("_type_vcpus", "_type_memory_gib", "_type_architecture", "_type_hourly_price")
    )


def candidate_types(inv: InventoryView) -> pl.LazyFrame:
    """The catalogue with every column prefixed ``cand_``, ready to join on region."""
    types = instance_types(inv)
    return types.select(
        pl.col("provider"),
        pl.col("region"),
        *[
            pl.col(c).alias(f"cand_{c}")
            for c in types.collect_schema().names()
            if c not in ("provider", "region")
        ],
    )


# --------------------------------------------------------------------------- output


def asg_key() -> pl.Expr:
    """The Auto Scaling group an instance belongs to, as a group key: its members move
    together (one launch template change), so ranking folds their findings into one."""
    return pl.when(pl.col("group").is_not_null()).then(pl.format("asg:{}", pl.col("group")))


def move_key(target: pl.Expr) -> pl.Expr:
    """Like moves share a key: the same type to the same target (or one Auto Scaling
    group), so a fleet's move is one finding with one effort."""
    return pl.coalesce(asg_key(), pl.format("{}→{}", pl.col("instance_type"), target))


def monthly(hourly: pl.Expr) -> pl.Expr:
    return hourly * HOURS_PER_MONTH


def weaker_source(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """Of two price sources, the weaker (billing > live > bundled > none)."""
    rank_a = a.replace_strict(_SOURCE_RANK, default=len(_SOURCE_RANK), return_dtype=pl.Int64)
    rank_b = b.replace_strict(_SOURCE_RANK, default=len(_SOURCE_RANK), return_dtype=pl.Int64)
    return pl.when(rank_a >= rank_b).then(a).otherwise(b).fill_null("none")


def money(amount: pl.Expr) -> pl.Expr:
    """USD as text with cents: 420.48 -> "$420.48" (for detail lines, not arithmetic)."""
    cents = (amount * 100).round(0).cast(pl.Int64)
    return pl.format("${}.{}", cents // 100, (cents % 100).cast(pl.String).str.pad_start(2, "0"))


def money_in(amount: pl.Expr, currency: str) -> pl.Expr:
    """Money as text in the run's currency, cents rounded down: "$0.41", "0.41 CAD"."""
    cents = (amount * 100).floor().cast(pl.Int64)
    figure = pl.format("{}.{}", cents // 100, (cents % 100).cast(pl.String).str.pad_start(2, "0"))
    return (
        pl.format("${}", figure)
        if currency == "USD"
        else pl.format("{} {}", figure, pl.lit(currency))
    )


def rate(hourly: pl.Expr) -> pl.Expr:
    """An hourly price as text, to four significant figures: 0.192 -> "$0.192/h"."""
    return pl.format("${}/h", hourly.round_sig_figs(4))


def num(value: pl.Expr) -> pl.Expr:
    """A count or size as text, one decimal at most: 16.0 -> "16", 30.5 -> "30.5"."""
    return value.round(1).cast(pl.String).str.replace(r"\.0$", "")


def pct(value: pl.Expr) -> pl.Expr:
    """A percentage as text with one decimal: 12.345 -> "12.3%"."""
    return pl.format("{}%", value.round(1))


def price_evidence(instance_type: pl.Expr, hourly: pl.Expr, source: pl.Expr) -> pl.Expr:
    """A price as evidence: the type, USD per hour, per month, and where it comes from."""
    return pl.struct(
        instance_type=instance_type,
        hourly_usd=hourly,
        monthly_usd=monthly(hourly),
        source=source,
    )


def evidence(**fields: pl.Expr | str | float | int | bool) -> pl.Expr:
    """JSON text of the figures a decision rests on; plain values become literals."""
    exprs = [(v if isinstance(v, pl.Expr) else pl.lit(v)).alias(k) for k, v in fields.items()]
    return pl.struct(exprs).struct.json_encode()


def findings(frame: pl.LazyFrame, **columns: pl.Expr) -> pl.LazyFrame:
    """Select the identity columns plus ``columns`` (the policy output) from ``frame``."""
    return frame.select(
        *[pl.col(c) for c in schema.IDENTITY_COLUMNS],
        *[expr.alias(name) for name, expr in columns.items()],
    )


def amount_text(value: pl.Expr) -> pl.Expr:
    """Money as text with two decimals and its sign (21.981 -> "21.98", -0.5 -> "-0.50"),
    for a figure in a currency other than the run's (a cloud's own advice)."""
    cents = (value * 100).round(0).cast(pl.Int64)
    whole = cents.abs()
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.format(
        "{}{}.{}", sign, whole // 100, (whole % 100).cast(pl.String).str.pad_start(2, "0")
    )


def advice_review(
    rows: pl.LazyFrame,
    *,
    detail: pl.Expr,
    recommendation: pl.Expr,
    confidence: float,
    advice: pl.Expr,
) -> pl.LazyFrame:
    """A cloud's own advice (``provider_advice`` rows) that no costscan finding answers, as
    review findings: listed so a disagreement is never hidden, counting nothing. Its
    figure (the rows' ``monthly_savings``, in their currency) and ``advice`` (a struct of
    what the cloud said) go to the evidence."""
    return findings(
        rows,
        detail=detail,
        recommendation=recommendation,
        current_monthly_cost=pl.lit(None, dtype=pl.Float64),
        monthly_savings=pl.lit(0.0),
        confidence=pl.lit(confidence),
        price_source=pl.lit(PriceSource.NONE.value),
        evidence=evidence(
            provider_advice=advice, provider_advice_monthly_savings=pl.col("monthly_savings")
        ),
    )


def regional_price_confidence(base: pl.Expr | float, factor: float) -> pl.Expr:
    """``base``, times ``factor`` where the row's prices are another region's stand-ins.

    Collectors put ``price_region`` on each row: the region whose bundled prices were used,
    which differs from ``region`` when that region is not bundled.
    """
    base_expr = base if isinstance(base, pl.Expr) else pl.lit(base)
    fell_back = pl.col("price_region").is_not_null() & (pl.col("price_region") != pl.col("region"))
    return pl.when(fell_back).then(base_expr * factor).otherwise(base_expr)
