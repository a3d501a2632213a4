"""Caches and DynamoDB tables: idle and oversized cache clusters, DynamoDB capacity mode
and table class as savings; a cache with evictions or a low hit rate and a throttled
table as bottlenecks with a priced remedy.

Rows carry their unit list prices (``providers/pricing/aws_data.py``); an unpriced row
(``price_source`` none: a region or node type not bundled) makes no finding.
``current_monthly_cost`` is the resource's monthly list cost: a cluster's nodes × hourly ×
730; a table's throughput (provisioned capacity, or consumed request units on demand)
plus its storage, at its table class's prices.

How findings on one table add up: the capacity change (``resize``) is priced at the
table's current class and the class change (``configure``) on its current throughput;
done together they save a little more than the two figures' sum (Standard-IA's 25%
throughput premium then applies to the smaller throughput), so counting both never
overstates. While active reserved nodes of a cluster's engine and node family run, its
node-hour savings are deferred to their end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

from costscan.policies._compute import (
    evidence,
    findings,
    money,
    num,
    pct,
    preferred_series,
    rate,
    utilization_in_window,
)
from costscan.policies.databases import reservation_split
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.contracts.registry import policy
from costscan.scanner.contracts.units import HOURS_PER_MONTH
from costscan.scanner.contracts.vocab import Change

# AWS Compute Optimizer needs 30 hours of metrics in the lookback before it recommends.
# https://docs.aws.amazon.com/compute-optimizer/latest/ug/requirements.html
MIN_HOURS: Final = 30
ON_DEMAND: Final = "PAY_PER_REQUEST"
STANDARD_IA: Final = "STANDARD_INFREQUENT_ACCESS"
# DynamoDB auto scaling's default target utilization is 70%, which is the seed's target too.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/AutoScaling.html
CAPACITY_TARGET: Final = 0.7


def _sums(inv: InventoryView, metric: str, prefix: str) -> pl.LazyFrame:
    """Per resource: the lookback's total of an hourly ``sum`` series, its hours, and its
    largest hour."""
    return (
        utilization_in_window(inv)
        .filter((pl.col("metric") == metric) & (pl.col("statistic") == "sum"))
        .group_by("resource_id", "ts")
        .agg(pl.col("value").sum())
        .group_by("resource_id")
        .agg(
            pl.col("value").sum().alias(f"{prefix}_total"),
            pl.col("ts").n_unique().alias(f"{prefix}_hours"),
            pl.col("value").max().alias(f"{prefix}_peak"),
            (pl.col("value") > 0).sum().alias(f"{prefix}_busy_hours"),
        )
    )


def _profile(inv: InventoryView, metric: str, prefix: str) -> pl.LazyFrame:
    """Per resource: hours, p95 and max of the hourly ``metric`` (averages, else maxima)."""
    series = (
        preferred_series(inv, metric)
        .group_by("resource_id")
        .agg(
            pl.col("ts").n_unique().alias(f"{prefix}_hours"),
            pl.col("value").quantile(0.95, interpolation="linear").alias(f"{prefix}_p95"),
        )
    )
    peak = (
        utilization_in_window(inv)
        .filter(pl.col("metric") == metric)
        .group_by("resource_id")
        .agg(pl.col("value").max().alias(f"{prefix}_max"))
    )
    return series.join(peak, on="resource_id", how="left")


def _caches(inv: InventoryView) -> pl.LazyFrame:
    return inv.lazy("caches").filter(
        (pl.col("status").fill_null("available") == "available")
        & (pl.col("price_source") != "none")
        & pl.col("monthly_price").is_not_null()
    )


# --------------------------------------------------------------------------- caches


@dataclass(frozen=True)
class IdleCacheParams:
    min_hours: int = MIN_HOURS
    confidence: float = 0.85


@policy(
    id="rightsizing.idle-cache",
    family="rightsizing",
    action="remove",
    title="Idle cache cluster: no hits or misses in the lookback",
    needs=("caches", "utilization"),
    effort_hours=1.0,
    risk="medium",
    performance="neutral",
    change=Change.STOP_OR_TERMINATE,
    formula="monthly_savings = nodes × hourly_price × 730",
)
def idle_cache(inv: InventoryView, p: IdleCacheParams) -> pl.LazyFrame:
    """Cache clusters nobody reads: not one hit or miss over the lookback.

    Flagged: an available, priced ElastiCache cluster whose hourly CacheHits and
    CacheMisses sums are all zero over at least ``min_hours`` hours of data.

    Saving formula: monthly_savings = nodes × hourly node price × 730. A final backup is
    recommended and not priced (a Redis backup bills per GB-month of the data it keeps).

    Sources: AWS Well-Architected COST04-BP02, decommission resources no longer used
    (https://docs.aws.amazon.com/wellarchitected/latest/framework/cost_decomissioning_resources_implement_process.html);
    the metrics (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.html);
    prices from https://aws.amazon.com/elasticache/pricing/.
    """
    hits = _sums(inv, "cache_hits", "hits")
    misses = _sums(inv, "cache_misses", "misses")
    flagged = (
        _caches(inv)
        .join(hits, on="resource_id", how="inner")
        .join(misses, on="resource_id", how="inner")
        .filter(
            (pl.col("hits_total") + pl.col("misses_total") <= 0)
            & (pl.col("hits_hours") >= p.min_hours)
        )
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} ({} × {} {}) served no hit or miss in {} h; it costs {} a month.",
            pl.col("resource_id"),
            pl.col("nodes"),
            pl.col("node_type"),
            pl.col("engine"),
            num(pl.col("hits_hours")),
            money(pl.col("monthly_price")),
        ),
        recommendation=pl.format(
            "Take a final backup of {} if its data matters, then delete the cluster.",
            pl.col("resource_id"),
        ),
        current_monthly_cost=pl.col("monthly_price"),
        **reservation_split(inv, pl.col("monthly_price")),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            node_type=pl.col("node_type"),
            nodes=pl.col("nodes"),
            hourly_price=pl.col("hourly_price"),
            reserved_until=pl.col("reserved_until").dt.to_string(),
            hits=pl.col("hits_total"),
            misses=pl.col("misses_total"),
            hours_of_data=pl.col("hits_hours"),
            price_reference=pl.col("price_reference"),
        ),
    )


@dataclass(frozen=True)
class OversizedCacheParams:
    # The seed's utilization target, for both memory and CPU on the smaller node.
    target_memory_percent: float = 70.0
    target_cpu_p95_percent: float = 70.0
    min_hours: int = MIN_HOURS
    confidence: float = 0.7


@policy(
    id="rightsizing.oversized-cache",
    family="rightsizing",
    action="resize",
    title="Over-provisioned cache cluster: one node size down",
    needs=("caches", "utilization"),
    effort_hours=2.0,
    risk="medium",
    performance="neutral",
    change=Change.RIGHTSIZE_INSTANCE,
    formula="monthly_savings = nodes × (hourly_price - smaller_hourly_price) × 730",
)
def oversized_cache(inv: InventoryView, p: OversizedCacheParams) -> pl.LazyFrame:
    """Cache clusters whose data and load fit the next node size down.

    Flagged: an available, priced cluster with a smaller node type in its family, whose
    hourly maximum memory used, scaled by memory / smaller memory, stays under
    ``target_memory_percent``, and whose p95 CPU doubled (one size down halves the
    vCPUs) stays under ``target_cpu_p95_percent``, over at least ``min_hours``.

    Saving formula: monthly_savings = nodes × (hourly − smaller hourly) × 730.

    Sources: the 70% target is the seed's; sizing by memory used
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/nodes-select-size.html);
    prices from https://aws.amazon.com/elasticache/pricing/.
    """
    memory = _profile(inv, "cache_memory", "mem")
    cpu = _profile(inv, "cpu", "cpu")
    scale = pl.col("memory_gib") / pl.col("smaller_memory_gib")
    saving = (
        pl.col("nodes")
        * (pl.col("hourly_price") - pl.col("smaller_hourly_price"))
        * HOURS_PER_MONTH
    )
    flagged = (
        _caches(inv)
        .filter(pl.col("smaller_node_type").is_not_null())
        .join(memory, on="resource_id", how="inner")
        .join(cpu, on="resource_id", how="inner")
        .filter(
            (pl.col("mem_max") * scale < p.target_memory_percent)
            & (pl.col("cpu_p95") * 2.0 < p.target_cpu_p95_percent)
            & (pl.col("mem_hours") >= p.min_hours)
        )
        .with_columns(saving.alias("_saving"))
        .filter(pl.col("_saving") > 0)
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} ({} × {}) uses at most {} of {} GiB memory and {} CPU at p95; on {} "
            "memory would peak near {}.",
            pl.col("resource_id"),
            pl.col("nodes"),
            pl.col("node_type"),
            pct(pl.col("mem_max")),
            num(pl.col("memory_gib")),
            pct(pl.col("cpu_p95")),
            pl.col("smaller_node_type"),
            pct(pl.col("mem_max") * scale),
        ),
        recommendation=pl.format(
            "Modify {} to {} ({} instead of {} per node).",
            pl.col("resource_id"),
            pl.col("smaller_node_type"),
            rate(pl.col("smaller_hourly_price")),
            rate(pl.col("hourly_price")),
        ),
        current_monthly_cost=pl.col("monthly_price"),
        **reservation_split(inv, pl.col("_saving")),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            node_type=pl.col("node_type"),
            nodes=pl.col("nodes"),
            hourly_price=pl.col("hourly_price"),
            reserved_until=pl.col("reserved_until").dt.to_string(),
            smaller_node_type=pl.col("smaller_node_type"),
            smaller_hourly_price=pl.col("smaller_hourly_price"),
            memory_max_percent=pl.col("mem_max"),
            projected_memory_percent=pl.col("mem_max") * scale,
            cpu_p95=pl.col("cpu_p95"),
            price_reference=pl.col("price_reference"),
        ),
    )


@dataclass(frozen=True)
class CacheBottleneckParams:
    # The seed's alert line for utilization; a hit rate target of 80% (a parameter: the
    # right figure depends on the workload).
    alert_percent: float = 85.0
    min_hit_rate: float = 0.8
    min_hours: int = MIN_HOURS
    confidence: float = 0.8


@policy(
    id="rightsizing.cache-bottleneck",
    family="rightsizing",
    action="bottleneck",
    title="Cache under pressure: evictions, a low hit rate or memory above the alert line",
    needs=("caches", "utilization"),
    effort_hours=2.0,
    risk="low",
    performance="improves",
    change=Change.ADD_CAPACITY,
    formula="added_monthly_cost = nodes × (larger_hourly_price - hourly_price) × 730; "
    "monthly_savings = 0",
)
def cache_bottleneck(inv: InventoryView, p: CacheBottleneckParams) -> pl.LazyFrame:
    """Cache clusters that evict, miss too often, or run memory or CPU above the alert line.

    Flagged: an available, priced cluster with at least ``min_hours`` of memory data and
    any eviction in the lookback, or a hit rate (hits / (hits + misses)) under
    ``min_hit_rate``, or p95 memory used or p95 engine CPU above ``alert_percent``.

    Remedy and its cost: the next node size up in the family (more memory keeps more
    keys): added_monthly_cost = nodes × (larger hourly − hourly) × 730; performance_gain
    = 1 − memory / larger memory. Without a larger size priced, more shards (unpriced).
    monthly_savings = 0: an investment, never a saving.

    Sources: the 85% alert line is the seed's; Evictions, CacheHits and CacheMisses
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.WhichShouldIMonitor.html);
    prices from https://aws.amazon.com/elasticache/pricing/.
    """
    memory = _profile(inv, "cache_memory", "mem")
    engine = _profile(inv, "engine_cpu", "ecpu").select("resource_id", "ecpu_p95")
    hits = _sums(inv, "cache_hits", "hits").select("resource_id", "hits_total")
    misses = _sums(inv, "cache_misses", "misses").select("resource_id", "misses_total")
    evictions = _sums(inv, "evictions", "evict").select("resource_id", "evict_total")
    requests = pl.col("hits_total").fill_null(0.0) + pl.col("misses_total").fill_null(0.0)
    hit_rate = pl.when(requests > 0).then(pl.col("hits_total").fill_null(0.0) / requests)
    hot = (
        _caches(inv)
        .join(memory, on="resource_id", how="inner")
        .join(engine, on="resource_id", how="left")
        .join(hits, on="resource_id", how="left")
        .join(misses, on="resource_id", how="left")
        .join(evictions, on="resource_id", how="left")
        .with_columns(hit_rate.alias("_hit_rate"))
        .filter(
            (pl.col("mem_hours") >= p.min_hours)
            & (
                (pl.col("evict_total").fill_null(0.0) > 0)
                | (pl.col("_hit_rate").fill_null(1.0) < p.min_hit_rate)
                | (pl.col("mem_p95") > p.alert_percent)
                | (pl.col("ecpu_p95").fill_null(0.0) > p.alert_percent)
            )
        )
    )
    has_larger = pl.col("larger_node_type").is_not_null()
    added = (
        pl.col("nodes") * (pl.col("larger_hourly_price") - pl.col("hourly_price")) * HOURS_PER_MONTH
    )
    return findings(
        hot,
        detail=pl.format(
            "{} ({} × {}): {} evictions, hit rate {}, p95 memory {} over {} h.",
            pl.col("resource_id"),
            pl.col("nodes"),
            pl.col("node_type"),
            num(pl.col("evict_total").fill_null(0.0)),
            pct(pl.col("_hit_rate").fill_null(1.0) * 100.0),
            pct(pl.col("mem_p95")),
            num(pl.col("mem_hours")),
        ),
        recommendation=pl.when(has_larger)
        .then(
            pl.format(
                "Move {} up to {} ({} GiB per node); it adds {} a month.",
                pl.col("resource_id"),
                pl.col("larger_node_type"),
                num(pl.col("larger_memory_gib")),
                money(added),
            )
        )
        .otherwise(
            pl.format(
                "No larger {} is priced; add shards to {}.",
                pl.col("node_type"),
                pl.col("resource_id"),
            )
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.lit(0.0),
        added_monthly_cost=pl.when(has_larger).then(added).otherwise(0.0),
        performance_gain=pl.when(has_larger)
        .then(1.0 - pl.col("memory_gib") / pl.col("larger_memory_gib"))
        .clip(lower_bound=0.0),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            node_type=pl.col("node_type"),
            nodes=pl.col("nodes"),
            hourly_price=pl.col("hourly_price"),
            evictions=pl.col("evict_total"),
            hit_rate=pl.col("_hit_rate"),
            memory_p95=pl.col("mem_p95"),
            engine_cpu_p95=pl.col("ecpu_p95"),
            larger_node_type=pl.col("larger_node_type"),
            larger_hourly_price=pl.col("larger_hourly_price"),
            price_reference=pl.col("price_reference"),
        ),
    )


# --------------------------------------------------------------------------- DynamoDB


def _tables(inv: InventoryView) -> pl.LazyFrame:
    return inv.lazy("dynamodb_tables").filter(
        (pl.col("status").fill_null("ACTIVE") == "ACTIVE")
        & (pl.col("price_source") != "none")
        & pl.col("monthly_price").is_not_null()
    )


def _class_price(kind: str) -> pl.Expr:
    return (
        pl.when(pl.col("table_class") == STANDARD_IA)
        .then(pl.col(f"price_ia_{kind}"))
        .otherwise(pl.col(f"price_std_{kind}"))
    )


def _consumption(inv: InventoryView) -> pl.LazyFrame:
    """Per table: consumed read and write units a month (the lookback scaled to 730 h), the
    busiest hour's rate per second, the hours of data, and throttle events."""
    scale = HOURS_PER_MONTH / float(inv.context.lookback_days * 24)
    reads = _sums(inv, "consumed_rcu", "r")
    writes = _sums(inv, "consumed_wcu", "w")
    read_throttles = _sums(inv, "read_throttles", "rt").select(
        "resource_id", "rt_total", "rt_busy_hours"
    )
    write_throttles = _sums(inv, "write_throttles", "wt").select(
        "resource_id", "wt_total", "wt_busy_hours"
    )
    return (
        reads.join(writes, on="resource_id", how="full", coalesce=True)
        .join(read_throttles, on="resource_id", how="left")
        .join(write_throttles, on="resource_id", how="left")
        .with_columns(
            (pl.col("r_total").fill_null(0.0) * scale).alias("read_units_month"),
            (pl.col("w_total").fill_null(0.0) * scale).alias("write_units_month"),
            (pl.col("r_peak").fill_null(0.0) / 3600.0).alias("read_peak_per_second"),
            (pl.col("w_peak").fill_null(0.0) / 3600.0).alias("write_peak_per_second"),
            pl.max_horizontal(pl.col("r_hours").fill_null(0), pl.col("w_hours").fill_null(0)).alias(
                "capacity_hours"
            ),
            (pl.col("rt_total").fill_null(0.0) + pl.col("wt_total").fill_null(0.0)).alias(
                "throttle_events"
            ),
            pl.max_horizontal(
                pl.col("rt_busy_hours").fill_null(0), pl.col("wt_busy_hours").fill_null(0)
            ).alias("throttled_hours"),
        )
    )


def _throughput_columns() -> list[pl.Expr]:
    """The table's throughput three ways, a month, at its class's prices: as it is
    provisioned, on demand for what it consumed, and provisioned at the busiest hour over
    the 70% target (whole units, at least one)."""
    # A peak the target divides exactly comes out a hair over its whole number in floating
    # point (700 / 0.7 = 1000.0000000000001), and ceil would buy a unit nobody needs:
    # round that noise away (consumed units come in halves, so a real remainder is at
    # least 0.5 / 3,600 / 0.7 ≈ 0.0002 of a unit, far above 10^-6) before rounding up.
    target_reads = (
        (pl.col("read_peak_per_second") / CAPACITY_TARGET).round(6).ceil().clip(lower_bound=1.0)
    )
    target_writes = (
        (pl.col("write_peak_per_second") / CAPACITY_TARGET).round(6).ceil().clip(lower_bound=1.0)
    )
    return [
        (
            (
                pl.col("read_capacity").fill_null(0.0) * _class_price("rcu_hour")
                + pl.col("write_capacity").fill_null(0.0) * _class_price("wcu_hour")
            )
            * HOURS_PER_MONTH
        ).alias("_provisioned"),
        (
            (
                pl.col("read_units_month") * _class_price("read_million")
                + pl.col("write_units_month") * _class_price("write_million")
            )
            / 1e6
        ).alias("_on_demand"),
        target_reads.alias("_target_rcu"),
        target_writes.alias("_target_wcu"),
        (
            (target_reads * _class_price("rcu_hour") + target_writes * _class_price("wcu_hour"))
            * HOURS_PER_MONTH
        ).alias("_right_sized"),
    ]


@dataclass(frozen=True)
class CapacityModeParams:
    min_hours: int = MIN_HOURS
    # Act only when the cheaper mode saves at least this share of the throughput cost.
    min_saving_share: float = 0.2
    confidence: float = 0.75


@policy(
    id="rightsizing.dynamodb-capacity",
    family="rightsizing",
    action="resize",
    title="DynamoDB table capacity far from its use",
    needs=("dynamodb_tables", "utilization"),
    effort_hours=1.0,
    risk="low",
    performance="neutral",
    change=Change.CONFIGURE_SERVICE,
    formula="provisioned: monthly_savings = provisioned - min(on-demand for consumed units, "
    "ceil(peak / 0.7) provisioned); on demand: on-demand - ceil(peak / 0.7) provisioned",
)
def dynamodb_capacity(inv: InventoryView, p: CapacityModeParams) -> pl.LazyFrame:
    """DynamoDB tables paying for capacity they do not use, or on demand when steady.

    Flagged: an active, priced table with at least ``min_hours`` of consumed-capacity
    data and no throttling in the lookback, whose cheapest capacity saves at least
    ``min_saving_share`` of its throughput cost:
    - provisioned: the cheaper of on demand for the units it consumed, and provisioned at
      its busiest hour's rate over the 70% target (whole units);
    - on demand: provisioned at its busiest hour's rate over the 70% target.

    Saving formula: monthly_savings = current throughput − the cheaper alternative, all
    a month at the table class's prices (provisioned: units × per unit-hour × 730; on
    demand: consumed units scaled to 730 h / 10^6 × per million). Storage is unchanged.
    The per-region free tier (25 RCU and 25 WCU) is not subtracted.

    Sources: DynamoDB auto scaling's default 70% target utilization
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/AutoScaling.html);
    choosing a capacity mode
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/capacity-mode.html);
    prices from https://aws.amazon.com/dynamodb/pricing/.
    """
    provisioned = pl.col("billing_mode") != ON_DEMAND
    current = pl.when(provisioned).then(pl.col("_provisioned")).otherwise(pl.col("_on_demand"))
    to_on_demand = provisioned & (pl.col("_on_demand") < pl.col("_right_sized"))
    alternative = pl.when(to_on_demand).then(pl.col("_on_demand")).otherwise(pl.col("_right_sized"))
    target = (
        pl.when(to_on_demand)
        .then(pl.lit("on-demand"))
        .otherwise(
            pl.format(
                "provisioned {} RCU / {} WCU",
                num(pl.col("_target_rcu")),
                num(pl.col("_target_wcu")),
            )
        )
    )
    flagged = (
        _tables(inv)
        .join(_consumption(inv), on="resource_id", how="inner")
        .filter((pl.col("capacity_hours") >= p.min_hours) & (pl.col("throttle_events") <= 0))
        .with_columns(_throughput_columns())
        .with_columns(
            current.alias("_current"), alternative.alias("_alternative"), target.alias("_target")
        )
        .with_columns((pl.col("_current") - pl.col("_alternative")).alias("_saving"))
        .filter(
            (pl.col("_saving") > 0) & (pl.col("_saving") >= p.min_saving_share * pl.col("_current"))
        )
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} ({}) pays {} a month for throughput; it consumed {} reads and {} writes a "
            "second at its busiest hour. As {} it would pay {}.",
            pl.col("resource_id"),
            pl.col("billing_mode"),
            money(pl.col("_current")),
            num(pl.col("read_peak_per_second")),
            num(pl.col("write_peak_per_second")),
            pl.col("_target"),
            money(pl.col("_alternative")),
        ),
        recommendation=pl.when(to_on_demand)
        .then(pl.format("Switch {} to on-demand capacity.", pl.col("resource_id")))
        .otherwise(
            pl.format(
                "Set {} to {} (or auto scaling at a 70% target).",
                pl.col("resource_id"),
                pl.col("_target"),
            )
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.col("_saving"),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            billing_mode=pl.col("billing_mode"),
            table_class=pl.col("table_class"),
            read_capacity=pl.col("read_capacity"),
            write_capacity=pl.col("write_capacity"),
            autoscaling=pl.col("autoscaling"),
            read_units_month=pl.col("read_units_month"),
            write_units_month=pl.col("write_units_month"),
            read_peak_per_second=pl.col("read_peak_per_second"),
            write_peak_per_second=pl.col("write_peak_per_second"),
            provisioned_monthly=pl.col("_provisioned"),
            on_demand_monthly=pl.col("_on_demand"),
            right_sized_monthly=pl.col("_right_sized"),
            target=pl.col("_target"),
            target_rcu=pl.when(~to_on_demand).then(pl.col("_target_rcu")),
            target_wcu=pl.when(~to_on_demand).then(pl.col("_target_wcu")),
            price_reference=pl.col("price_reference"),
        ),
    )


@dataclass(frozen=True)
class StandardIaParams:
    min_hours: int = MIN_HOURS
    confidence: float = 0.8


@policy(
    id="storage.dynamodb-standard-ia",
    family="storage",
    action="configure",
    title="DynamoDB table whose storage outweighs its throughput: Standard-IA",
    needs=("dynamodb_tables", "utilization"),
    effort_hours=0.5,
    risk="low",
    performance="neutral",
    change=Change.CONFIGURE_SERVICE,
    formula="monthly_savings = (throughput_std + storage_gb × std per-GB) - "
    "(throughput at Standard-IA prices + storage_gb × IA per-GB)",
)
def dynamodb_standard_ia(inv: InventoryView, p: StandardIaParams) -> pl.LazyFrame:
    """Standard-class tables whose storage costs more than Standard-IA's throughput premium.

    Flagged: an active, priced Standard table where the same throughput (provisioned
    capacity, or on demand the units consumed over at least ``min_hours``) at
    Standard-IA's prices plus its storage at Standard-IA's per-GB price costs less than
    today.

    Saving formula: monthly_savings = (throughput at Standard prices + storage_gb ×
    Standard per-GB) − (throughput at Standard-IA prices + storage_gb × Standard-IA
    per-GB). The table class changes online.

    Sources: table classes
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.TableClasses.html);
    prices from https://aws.amazon.com/dynamodb/pricing/.
    """
    on_demand = pl.col("billing_mode") == ON_DEMAND

    def throughput(cls: str) -> pl.Expr:
        provisioned = (
            pl.col("read_capacity").fill_null(0.0) * pl.col(f"price_{cls}_rcu_hour")
            + pl.col("write_capacity").fill_null(0.0) * pl.col(f"price_{cls}_wcu_hour")
        ) * HOURS_PER_MONTH
        consumed = (
            pl.col("read_units_month") * pl.col(f"price_{cls}_read_million")
            + pl.col("write_units_month") * pl.col(f"price_{cls}_write_million")
        ) / 1e6
        return pl.when(on_demand).then(consumed).otherwise(provisioned)

    standard = throughput("std") + pl.col("storage_gb") * pl.col("price_std_gb_month")
    infrequent = throughput("ia") + pl.col("storage_gb") * pl.col("price_ia_gb_month")
    flagged = (
        _tables(inv)
        .filter(pl.col("table_class") != STANDARD_IA)
        .join(_consumption(inv), on="resource_id", how="left")
        .filter(~on_demand | (pl.col("capacity_hours").fill_null(0) >= p.min_hours))
        .with_columns(standard.alias("_standard"), infrequent.alias("_ia"))
        .with_columns((pl.col("_standard") - pl.col("_ia")).alias("_saving"))
        .filter(pl.col("_saving") > 0)
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} stores {} GB in the Standard class: {} a month with its throughput; as "
            "Standard-IA {}.",
            pl.col("resource_id"),
            num(pl.col("storage_gb")),
            money(pl.col("_standard")),
            money(pl.col("_ia")),
        ),
        recommendation=pl.format(
            "Change {}'s table class to Standard-IA (online, no downtime).", pl.col("resource_id")
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.col("_saving"),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            storage_gb=pl.col("storage_gb"),
            billing_mode=pl.col("billing_mode"),
            standard_monthly=pl.col("_standard"),
            standard_ia_monthly=pl.col("_ia"),
            price_std_gb_month=pl.col("price_std_gb_month"),
            price_ia_gb_month=pl.col("price_ia_gb_month"),
            price_reference=pl.col("price_reference"),
        ),
    )


@dataclass(frozen=True)
class ThrottlingParams:
    # Throttled in at least this many hours of the lookback.
    min_throttled_hours: int = 1
    confidence: float = 0.8


@policy(
    id="rightsizing.dynamodb-throttling",
    family="rightsizing",
    action="bottleneck",
    title="DynamoDB table throttled: capacity below demand",
    needs=("dynamodb_tables", "utilization"),
    effort_hours=1.0,
    risk="low",
    performance="improves",
    change=Change.ADD_CAPACITY,
    formula="added_monthly_cost = min(on-demand, ceil(peak / 0.7) provisioned) - "
    "provisioned, at least 0; monthly_savings = 0",
)
def dynamodb_throttling(inv: InventoryView, p: ThrottlingParams) -> pl.LazyFrame:
    """Provisioned tables that throttled requests: a bottleneck with a priced remedy.

    Flagged: an active, priced, provisioned table with read or write throttle events in
    at least ``min_throttled_hours`` hours of the lookback.

    Remedy and its cost: the cheaper of on-demand capacity for the units it consumed and
    provisioning its busiest hour's consumed rate over the 70% target (never below what
    it has): added_monthly_cost = that − today's provisioned throughput. Throttled
    requests consumed nothing, so true demand, and the cost, may be higher.
    monthly_savings = 0: an investment.

    Sources: throttling and capacity
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TroubleshootingThrottling.html);
    DynamoDB auto scaling's default 70% target
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/AutoScaling.html);
    prices from https://aws.amazon.com/dynamodb/pricing/.
    """
    raised = (
        pl.max_horizontal(pl.col("_target_rcu"), pl.col("read_capacity").fill_null(0.0))
        * _class_price("rcu_hour")
        + pl.max_horizontal(pl.col("_target_wcu"), pl.col("write_capacity").fill_null(0.0))
        * _class_price("wcu_hour")
    ) * HOURS_PER_MONTH
    to_on_demand = pl.col("_on_demand") < pl.col("_raised")
    remedy = pl.when(to_on_demand).then(pl.col("_on_demand")).otherwise(pl.col("_raised"))
    hot = (
        _tables(inv)
        .filter(pl.col("billing_mode") != ON_DEMAND)
        .join(_consumption(inv), on="resource_id", how="inner")
        .filter(pl.col("throttled_hours") >= p.min_throttled_hours)
        .with_columns(_throughput_columns())
        .with_columns(raised.alias("_raised"))
        .with_columns(
            remedy.alias("_remedy"),
            (remedy - pl.col("_provisioned")).clip(lower_bound=0.0).alias("_added"),
        )
    )
    return findings(
        hot,
        detail=pl.format(
            "{} throttled {} requests in {} h; provisioned {} RCU / {} WCU against a busiest "
            "hour of {} reads and {} writes a second.",
            pl.col("resource_id"),
            num(pl.col("throttle_events")),
            num(pl.col("throttled_hours")),
            num(pl.col("read_capacity")),
            num(pl.col("write_capacity")),
            num(pl.col("read_peak_per_second")),
            num(pl.col("write_peak_per_second")),
        ),
        recommendation=pl.when(to_on_demand)
        .then(
            pl.format(
                "Switch {} to on-demand capacity; it adds {} a month.",
                pl.col("resource_id"),
                money(pl.col("_added")),
            )
        )
        .otherwise(
            pl.format(
                "Raise {} to {} RCU / {} WCU (or auto scaling at a 70% target); it adds {} "
                "a month.",
                pl.col("resource_id"),
                num(pl.max_horizontal(pl.col("_target_rcu"), pl.col("read_capacity"))),
                num(pl.max_horizontal(pl.col("_target_wcu"), pl.col("write_capacity"))),
                money(pl.col("_added")),
            )
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.lit(0.0),
        added_monthly_cost=pl.col("_added"),
        # The headroom the remedy adds where the table throttled: 1 - capacity / target
        # capacity on the tighter side (100 WCU raised to 136: 0.26).
        performance_gain=pl.max_horizontal(
            1.0 - pl.col("read_capacity") / pl.col("_target_rcu"),
            1.0 - pl.col("write_capacity") / pl.col("_target_wcu"),
        ).clip(lower_bound=0.0),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            read_capacity=pl.col("read_capacity"),
            write_capacity=pl.col("write_capacity"),
            throttle_events=pl.col("throttle_events"),
            throttled_hours=pl.col("throttled_hours"),
            read_peak_per_second=pl.col("read_peak_per_second"),
            write_peak_per_second=pl.col("write_peak_per_second"),
            provisioned_monthly=pl.col("_provisioned"),
            on_demand_monthly=pl.col("_on_demand"),
            raised_monthly=pl.col("_raised"),
            raised_rcu=pl.max_horizontal(pl.col("_target_rcu"), pl.col("read_capacity")),
            raised_wcu=pl.max_horizontal(pl.col("_target_wcu"), pl.col("write_capacity")),
            remedy=pl.when(to_on_demand)
            .then(pl.lit("on_demand"))
            .otherwise(pl.lit("raise_capacity")),
            price_reference=pl.col("price_reference"),
        ),
    )


# --------------------------------------------------------------------------- EFS


@dataclass(frozen=True)
class EfsLifecycleParams:
    # The share of a file system's data assumed cold enough for Infrequent Access: AWS's
    # own EFS pricing example assumes 80% of files are infrequently accessed. It is an
    # assumption (no access data is read), so the confidence sits under the default
    # floor and the finding is a possible saving.
    cold_share: float = 0.8
    min_standard_gb: float = 100.0
    confidence: float = 0.4


@policy(
    id="storage.efs-without-lifecycle",
    family="storage",
    action="configure",
    title="EFS file system without a lifecycle policy to Infrequent Access",
    needs=("file_systems",),
    effort_hours=0.5,
    risk="low",
    performance="neutral",
    change=Change.CONFIGURE_SERVICE,
    formula="monthly_savings = standard_gb × cold_share × (Standard - IA per-GB); "
    "upfront_cost = standard_gb × cold_share × tiering per-GB",
)
def efs_without_lifecycle(inv: InventoryView, p: EfsLifecycleParams) -> pl.LazyFrame:
    """EFS file systems that keep every file in Standard: no transition to Infrequent Access.

    Flagged: a priced file system with no TransitionToIA lifecycle policy and at least
    ``min_standard_gb`` in Standard.

    Saving formula: monthly_savings = standard_gb × cold_share × (Standard − Infrequent
    Access per-GB); upfront_cost = standard_gb × cold_share × the per-GB tiering charge.
    Reads from Infrequent Access are charged per GB and are not priced (no access data is
    read), which is why the share is an assumption and the finding a possible saving.

    Sources: EFS lifecycle management
    (https://docs.aws.amazon.com/efs/latest/ug/lifecycle-management-efs.html); the 80%
    infrequently accessed share and prices from https://aws.amazon.com/efs/pricing/.
    """
    cold = pl.col("standard_gb") * p.cold_share
    flagged = (
        inv.lazy("file_systems")
        .filter(
            (pl.col("price_source") != "none")
            & ~pl.col("has_lifecycle").fill_null(False)
            & (pl.col("standard_gb") >= p.min_standard_gb)
        )
        .with_columns(
            (cold * (pl.col("price_standard_gb_month") - pl.col("price_ia_gb_month"))).alias(
                "_saving"
            ),
            (cold * pl.col("price_tiering_gb")).alias("_upfront"),
        )
        .filter(pl.col("_saving") > 0)
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} keeps {} GB in Standard ({} a month) with no lifecycle policy; if {} of it "
            "is cold, Infrequent Access saves {} a month.",
            pl.col("resource_id"),
            num(pl.col("standard_gb")),
            money(pl.col("standard_gb") * pl.col("price_standard_gb_month")),
            pct(pl.lit(p.cold_share * 100.0)),
            money(pl.col("_saving")),
        ),
        recommendation=pl.format(
            "Set a lifecycle policy on {}: TransitionToIA after 30 days, and back to Standard "
            "on first access.",
            pl.col("resource_id"),
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.col("_saving"),
        upfront_cost=pl.col("_upfront"),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            standard_gb=pl.col("standard_gb"),
            ia_gb=pl.col("ia_gb"),
            assumed_cold_share=p.cold_share,
            price_standard_gb_month=pl.col("price_standard_gb_month"),
            price_ia_gb_month=pl.col("price_ia_gb_month"),
            price_tiering_gb=pl.col("price_tiering_gb"),
            throughput_mode=pl.col("throughput_mode"),
            price_reference=pl.col("price_reference"),
        ),
    )


# --------------------------------------------------------------------------- OpenSearch


@dataclass(frozen=True)
class IdleSearchDomainParams:
    min_hours: int = MIN_HOURS
    confidence: float = 0.85


@policy(
    id="rightsizing.idle-search-domain",
    family="rightsizing",
    action="remove",
    title="Idle OpenSearch domain: no searches and no indexing in the lookback",
    needs=("search_domains", "utilization"),
    effort_hours=1.0,
    risk="medium",
    performance="neutral",
    change=Change.STOP_OR_TERMINATE,
    formula="monthly_savings = (data nodes × hourly + masters × master hourly) × 730 + "
    "data nodes × volume_gb × EBS per-GB",
)
def idle_search_domain(inv: InventoryView, p: IdleSearchDomainParams) -> pl.LazyFrame:
    """OpenSearch domains nobody searches or writes to.

    Flagged: a priced domain whose hourly maximum SearchRate and IndexingRate are zero
    over at least ``min_hours`` hours of data.

    Saving formula: monthly_savings = its monthly price: (data nodes × hourly + dedicated
    masters × their hourly) × 730 + data nodes × EBS GB × per GB-month. UltraWarm nodes
    are not priced (they would add to the saving). Take a manual snapshot to S3 first.

    Sources: AWS Well-Architected COST04-BP02, decommission resources no longer used
    (https://docs.aws.amazon.com/wellarchitected/latest/framework/cost_decomissioning_resources_implement_process.html);
    the metrics
    (https://docs.aws.amazon.com/opensearch-service/latest/developerguide/managedomains-cloudwatchmetrics.html);
    prices from https://aws.amazon.com/opensearch-service/pricing/.
    """
    searches = _profile(inv, "search_rate", "search").select(
        "resource_id", "search_hours", "search_max"
    )
    indexing = _profile(inv, "indexing_rate", "index").select("resource_id", "index_max")
    flagged = (
        inv.lazy("search_domains")
        .filter((pl.col("price_source") != "none") & pl.col("monthly_price").is_not_null())
        .join(searches, on="resource_id", how="inner")
        .join(indexing, on="resource_id", how="inner")
        .filter(
            (pl.col("search_max") <= 0)
            & (pl.col("index_max") <= 0)
            & (pl.col("search_hours") >= p.min_hours)
        )
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} ({} × {}) served no search and indexed nothing in {} h; it costs {} a month.",
            pl.col("resource_id"),
            pl.col("instance_count"),
            pl.col("instance_type"),
            num(pl.col("search_hours")),
            money(pl.col("monthly_price")),
        ),
        recommendation=pl.format(
            "Take a manual snapshot of {} to S3, then delete the domain.", pl.col("resource_id")
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.col("monthly_price"),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            instance_type=pl.col("instance_type"),
            instance_count=pl.col("instance_count"),
            hourly_price=pl.col("hourly_price"),
            master_type=pl.col("master_type"),
            master_count=pl.col("master_count"),
            volume_type=pl.col("volume_type"),
            volume_gb=pl.col("volume_gb"),
            price_volume_gb_month=pl.col("price_volume_gb_month"),
            hours_of_data=pl.col("search_hours"),
            price_reference=pl.col("price_reference"),
        ),
    )


@dataclass(frozen=True)
class SearchGp2Params:
    confidence: float = 0.9


@policy(
    id="storage.search-domain-gp2-to-gp3",
    family="storage",
    action="configure",
    title="OpenSearch domain on gp2 EBS can move to gp3",
    needs=("search_domains",),
    effort_hours=0.5,
    risk="low",
    performance="improves",
    change=Change.UPGRADE_VOLUME,
    formula="monthly_savings = data nodes × volume_gb × (gp2 - gp3 per-GB)",
)
def search_domain_gp2_to_gp3(inv: InventoryView, p: SearchGp2Params) -> pl.LazyFrame:
    """OpenSearch domains whose data nodes use gp2 volumes: gp3 costs less per GB and
    includes 3,000 IOPS and 125 MiB/s whatever the size.

    Saving formula: monthly_savings = data nodes × volume_gb × (gp2 − gp3 per GB-month).

    Sources: OpenSearch EBS volume types
    (https://docs.aws.amazon.com/opensearch-service/latest/developerguide/limits.html#ebsresource);
    prices from https://aws.amazon.com/opensearch-service/pricing/.
    """
    saving = (
        pl.col("instance_count")
        * pl.col("volume_gb")
        * (pl.col("price_volume_gb_month") - pl.col("price_gp3_gb_month"))
    )
    flagged = (
        inv.lazy("search_domains")
        .filter((pl.col("volume_type") == "gp2") & (pl.col("price_source") != "none"))
        .with_columns(saving.alias("_saving"))
        .filter(pl.col("_saving") > 0)
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} stores {} × {} GB on gp2; gp3 saves {} a month.",
            pl.col("resource_id"),
            pl.col("instance_count"),
            num(pl.col("volume_gb")),
            money(pl.col("_saving")),
        ),
        recommendation=pl.format(
            "Change {}'s EBS volume type to gp3 (a blue/green configuration change).",
            pl.col("resource_id"),
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.col("_saving"),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            instance_count=pl.col("instance_count"),
            volume_gb=pl.col("volume_gb"),
            gp2_price_gb_month=pl.col("price_volume_gb_month"),
            gp3_price_gb_month=pl.col("price_gp3_gb_month"),
            price_reference=pl.col("price_reference"),
        ),
    )


@dataclass(frozen=True)
class SearchBottleneckParams:
    # The seed's alert line; AWS's own alarm for JVMMemoryPressure is at 80% maximum.
    alert_percent: float = 85.0
    min_hours: int = MIN_HOURS
    confidence: float = 0.8


@policy(
    id="rightsizing.search-domain-bottleneck",
    family="rightsizing",
    action="bottleneck",
    title="OpenSearch domain above the alert line: JVM memory pressure or CPU",
    needs=("search_domains", "utilization"),
    effort_hours=2.0,
    risk="low",
    performance="improves",
    change=Change.ADD_CAPACITY,
    formula="added_monthly_cost = data nodes × (larger_hourly_price - hourly_price) × 730; "
    "monthly_savings = 0",
)
def search_domain_bottleneck(inv: InventoryView, p: SearchBottleneckParams) -> pl.LazyFrame:
    """OpenSearch domains whose p95 JVM memory pressure or CPU is above the alert line.

    Remedy and its cost: the next data node size up: added_monthly_cost = data nodes ×
    (larger − current hourly) × 730; performance_gain = 1 − hourly / larger hourly (the
    share of the node's capacity added, as its price doubles with its size).
    monthly_savings = 0: an investment.

    Sources: the 85% alert line is the seed's; recommended alarms
    (https://docs.aws.amazon.com/opensearch-service/latest/developerguide/cloudwatch-alarms.html);
    prices from https://aws.amazon.com/opensearch-service/pricing/.
    """
    jvm = _profile(inv, "jvm_memory_pressure", "jvm").select("resource_id", "jvm_hours", "jvm_p95")
    cpu = _profile(inv, "cpu", "cpu").select("resource_id", "cpu_p95")
    hot = (
        inv.lazy("search_domains")
        .filter(pl.col("price_source") != "none")
        .join(jvm, on="resource_id", how="inner")
        .join(cpu, on="resource_id", how="left")
        .filter(
            (pl.col("jvm_hours") >= p.min_hours)
            & (
                (pl.col("jvm_p95") > p.alert_percent)
                | (pl.col("cpu_p95").fill_null(0.0) > p.alert_percent)
            )
        )
    )
    has_larger = pl.col("larger_instance_type").is_not_null()
    added = (
        pl.col("instance_count")
        * (pl.col("larger_hourly_price") - pl.col("hourly_price"))
        * HOURS_PER_MONTH
    )
    return findings(
        hot,
        detail=pl.format(
            "{} ({} × {}) p95 JVM memory pressure {}, p95 CPU {} over {} h.",
            pl.col("resource_id"),
            pl.col("instance_count"),
            pl.col("instance_type"),
            pct(pl.col("jvm_p95")),
            pct(pl.col("cpu_p95").fill_null(0.0)),
            num(pl.col("jvm_hours")),
        ),
        recommendation=pl.when(has_larger)
        .then(
            pl.format(
                "Move {}'s data nodes up to {}; it adds {} a month.",
                pl.col("resource_id"),
                pl.col("larger_instance_type"),
                money(added),
            )
        )
        .otherwise(
            pl.format(
                "No larger {} is priced; add data nodes to {}.",
                pl.col("instance_type"),
                pl.col("resource_id"),
            )
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.lit(0.0),
        added_monthly_cost=pl.when(has_larger).then(added).otherwise(0.0),
        performance_gain=pl.when(has_larger)
        .then(1.0 - pl.col("hourly_price") / pl.col("larger_hourly_price"))
        .clip(lower_bound=0.0),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            instance_type=pl.col("instance_type"),
            instance_count=pl.col("instance_count"),
            hourly_price=pl.col("hourly_price"),
            jvm_memory_pressure_p95=pl.col("jvm_p95"),
            cpu_p95=pl.col("cpu_p95"),
            larger_instance_type=pl.col("larger_instance_type"),
            larger_hourly_price=pl.col("larger_hourly_price"),
            price_reference=pl.col("price_reference"),
        ),
    )


# --------------------------------------------------------------------------- Redshift


@dataclass(frozen=True)
class IdleWarehouseParams:
    min_hours: int = MIN_HOURS
    confidence: float = 0.85


@policy(
    id="rightsizing.idle-warehouse",
    family="rightsizing",
    action="remove",
    title="Idle Redshift cluster: no connections in the lookback",
    needs=("warehouses", "utilization"),
    effort_hours=1.0,
    risk="medium",
    performance="neutral",
    change=Change.STOP_OR_TERMINATE,
    formula="monthly_savings = nodes × hourly_price × 730",
)
def idle_warehouse(inv: InventoryView, p: IdleWarehouseParams) -> pl.LazyFrame:
    """Redshift clusters with no connection at all: pause them (or move to Serverless).

    Flagged: an available, priced provisioned cluster whose hourly DatabaseConnections
    maximum is zero over at least ``min_hours`` hours of data.

    Saving formula: monthly_savings = nodes × hourly node price × 730: a paused cluster
    bills no node hours (RA3 managed storage and backups still bill, and are not counted).

    Sources: pausing and resuming clusters
    (https://docs.aws.amazon.com/redshift/latest/mgmt/rs-mgmt-pause-resume-cluster.html);
    prices from https://aws.amazon.com/redshift/pricing/.
    """
    connections = _profile(inv, "db_connections", "conn").select(
        "resource_id", "conn_hours", "conn_max"
    )
    flagged = (
        inv.lazy("warehouses")
        .filter(
            (pl.col("status").fill_null("available") == "available")
            & (pl.col("price_source") != "none")
            & (pl.col("monthly_price") > 0)
        )
        .join(connections, on="resource_id", how="inner")
        .filter((pl.col("conn_max") <= 0) & (pl.col("conn_hours") >= p.min_hours))
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} ({} × {}) had no connection in {} h; its nodes cost {} a month.",
            pl.col("resource_id"),
            pl.col("nodes"),
            pl.col("node_type"),
            num(pl.col("conn_hours")),
            money(pl.col("monthly_price")),
        ),
        recommendation=pl.format(
            "Pause {} (resume it when needed), or move its occasional queries to Redshift "
            "Serverless.",
            pl.col("resource_id"),
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.col("monthly_price"),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            node_type=pl.col("node_type"),
            nodes=pl.col("nodes"),
            hourly_price=pl.col("hourly_price"),
            hours_of_data=pl.col("conn_hours"),
            price_reference=pl.col("price_reference"),
        ),
    )
