"""Demand matching: capacity that follows the load, serverless sized to what it uses, and
the services that are already slow.

- ``rightsizing.lambda-memory``: a Lambda function configured with far more memory than it
  uses. Lambda bills GB-seconds (memory × duration) and gives CPU in proportion to memory,
  so a smaller size may run longer: both ends are priced (I/O-bound: same duration;
  CPU-bound: duration grows as the CPU share shrinks), and only the CPU-bound figure
  counts as a saving.
- ``rightsizing.lambda-arm64``: an x86_64 function that would bill less on arm64
  (Graviton).
- ``rightsizing.fleet-demand-matching``: an Auto Scaling group held at a fixed size while
  its load swings daily, priced hour by hour as the capacity above what target tracking
  at 70% CPU would run.
- ``rightsizing.fleet-bottleneck`` and ``rightsizing.load-balancer-bottleneck``: a group
  whose CPU is above the 85% alert line, or a load balancer above the latency or error
  alert lines: performance investments with a priced remedy, never savings; no shrink of
  such a fleet is proposed.

The performance lines are the seed's health table: latency under 200 ms healthy, above
500 ms alert; errors under 1%, above 5% alert; utilization target 70%, alert 85%.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

from costscan.policies._compute import (
    evidence,
    findings,
    instance_types,
    money,
    monthly,
    num,
    pct,
    regional_price_confidence,
    utilization_in_window,
)
from costscan.policies._discounts import (
    after_discounts,
    commitment_note,
    discount_columns,
    discount_evidence,
)
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.contracts.registry import policy
from costscan.scanner.contracts.units import HOURS_PER_MONTH
from costscan.scanner.contracts.vocab import Category, Change

# Lambda: "At 1,769 MB, a function has the equivalent of one vCPU"; CPU is allocated in
# proportion to memory below it. Memory goes from 128 MB to 10,240 MB.
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory-console.html
LAMBDA_MB_PER_VCPU: Final = 1769.0
LAMBDA_MIN_MB: Final = 128.0
LAMBDA_MEMORY_DOCS: Final = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html"
MB_PER_GB: Final = 1024.0
MS_PER_S: Final = 1000.0
# Runtimes Lambda offers on x86_64 only (the Amazon Linux 1 generation).
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
X86_ONLY_RUNTIMES: Final = ("go1.x", "java8", "python3.7", "nodejs12.x", "dotnetcore3.1")

# The seed's health table (DESIGN.md, performance investments).
LATENCY_WATCH_MS: Final = 200.0
LATENCY_ALERT_MS: Final = 500.0
ERROR_WATCH_RATE: Final = 0.01
ERROR_ALERT_RATE: Final = 0.05
CPU_TARGET_PERCENT: Final = 70.0
CPU_ALERT_PERCENT: Final = 85.0
# The seed's trade-off table: a caching layer, 60% less load on what is behind it, for
# about +$300 a month.
CACHE_MONTHLY: Final = 300.0
CACHE_GAIN: Final = 0.6


def _monthly_factor() -> pl.Expr:
    """Lookback figures to a 730-hour month."""
    return pl.lit(HOURS_PER_MONTH) / pl.col("lookback_hours")


# --------------------------------------------------------------------------- AWS's own advice

# Compute Optimizer recommenders (providers/aws/advice.py), and why its figure differs from
# costscan's, in one line per policy.
CO_LAMBDA: Final = "aws.compute-optimizer.lambda"
CO_AUTO_SCALING: Final = "aws.compute-optimizer.auto-scaling-group"
CO_ECS: Final = "aws.compute-optimizer.ecs-service"
CO_REASONS: Final = {
    CO_LAMBDA: (
        "Compute Optimizer projects the duration at its size from its own model and 14 days "
        "of data; costscan counts the CPU-bound end and sizes from Lambda Insights' largest "
        "memory used plus 20%"
    ),
    CO_AUTO_SCALING: (
        "Compute Optimizer changes the instance type for the group's peak; costscan changes "
        "how many instances run, hour by hour (the two stack)"
    ),
    CO_ECS: (
        "Compute Optimizer applies its own headroom to its lookback's utilization; costscan "
        "holds p95 CPU at 70% and the largest memory used plus 20%"
    ),
}


def _aws_advice(inv: InventoryView, recommender: str) -> pl.LazyFrame:
    """Compute Optimizer's advice per resource: what it recommends and its monthly figure."""
    return (
        inv.lazy("provider_advice")
        .filter((pl.col("provider") == "aws") & (pl.col("recommender") == recommender))
        .group_by("provider", "account_id", "resource_id")
        .agg(
            pl.col("description").first().alias("_co_description"),
            pl.col("target").first().alias("_co_target"),
            pl.col("monthly_savings").first().alias("_co_saving"),
            pl.col("currency").first().alias("_co_currency"),
            pl.col("state").first().alias("_co_finding"),
        )
    )


def _with_aws_advice(inv: InventoryView, frame: pl.LazyFrame, recommender: str) -> pl.LazyFrame:
    return frame.join(
        _aws_advice(inv, recommender), on=["provider", "account_id", "resource_id"], how="left"
    )


def _aws_sentence(recommender: str, ours: pl.Expr) -> pl.Expr:
    """ " AWS Compute Optimizer: ... (it projects $X a month; costscan $Y): why.", or ""."""
    return (
        pl.when(pl.col("_co_description").is_not_null())
        .then(
            pl.format(
                " AWS Compute Optimizer advises: {} (it projects {} a month, costscan {}); "
                "they differ because {}.",
                pl.col("_co_description"),
                money(pl.col("_co_saving").fill_null(0.0)),
                money(ours),
                pl.lit(CO_REASONS[recommender]),
            )
        )
        .otherwise(pl.lit(""))
    )


def _aws_evidence(recommender: str) -> pl.Expr:
    return pl.struct(
        source=pl.lit("AWS Compute Optimizer"),
        finding=pl.col("_co_finding"),
        recommendation=pl.col("_co_description"),
        target=pl.col("_co_target"),
        monthly_savings=pl.col("_co_saving"),
        currency=pl.col("_co_currency"),
        why_they_differ=pl.when(pl.col("_co_description").is_not_null()).then(
            pl.lit(CO_REASONS[recommender])
        ),
    )


# --------------------------------------------------------------------------- Lambda memory


@dataclass(frozen=True)
class LambdaMemoryParams:
    # Compute Optimizer recommends Lambda memory only for functions invoked at least 50
    # times in the last 14 days.
    # https://docs.aws.amazon.com/compute-optimizer/latest/ug/requirements.html
    min_invocations: float = 50.0
    # Headroom above the largest memory used, then rounded up to a 64 MB step.
    headroom_fraction: float = 0.2
    step_mb: float = 64.0
    # Flag only when the size would fall by at least this share.
    min_reduction: float = 0.25
    confidence: float = 0.75
    fallback_price_factor: float = 0.8


def _gb_seconds() -> pl.Expr:
    return pl.col("duration_ms_sum") / MS_PER_S * pl.col("memory_mb") / MB_PER_GB


@policy(
    id="rightsizing.lambda-memory",
    family="rightsizing",
    action="resize",
    title="Lambda function has more memory than it uses",
    needs=("functions", "provider_advice"),
    effort_hours=0.5,
    risk="medium",
    performance="neutral",
    change=Change.CONFIGURE_SERVICE,
    formula=(
        "monthly_savings = GB-s × price × 730/lookback_h × (1 − target/memory × "
        "min(memory, 1769)/min(target, 1769)); target = max(128, ceil(used_max × 1.2 / 64) × 64)"
    ),
)
def lambda_memory(inv: InventoryView, p: LambdaMemoryParams) -> pl.LazyFrame:
    """Lambda functions whose largest memory used (Lambda Insights) is far below their size.

    Flagged: at least ``min_invocations`` invocations over the lookback, a known
    ``used_memory_max``, and a target size (used × (1 + headroom), rounded up to 64 MB, at
    least 128 MB) at least ``min_reduction`` below the configured memory. Functions whose
    errors are above the 5% alert line are left alone (a shrink is never proposed for a
    service at risk).

    Formula, with GB-s = Duration sum / 1000 × memory / 1024 over the lookback and
    f = 730 / lookback hours:

    - duration cost now = GB-s × price_gb_second × f;
    - I/O-bound (same duration) = duration cost × target / memory;
    - CPU-bound (duration grows as the CPU share falls; Lambda gives one vCPU at 1,769 MB
      and CPU in proportion below it) = duration cost × target / memory ×
      min(memory, 1769) / min(target, 1769).

    monthly_savings = duration cost − CPU-bound cost (the conservative end). When that is
    zero or less but the I/O-bound end saves, the finding is ``possible`` at the I/O-bound
    figure: measure the duration at the smaller size first. Requests cost the same.

    Where Compute Optimizer advises on the same function, its recommendation and figure
    are shown beside costscan's, with why they differ; they never change what counts.

    Sources: AWS Compute Optimizer's Lambda memory recommendations (50 invocations in 14
    days, https://docs.aws.amazon.com/compute-optimizer/latest/ug/requirements.html);
    memory and CPU from https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html;
    prices from https://aws.amazon.com/lambda/pricing/.
    """
    target = (
        (pl.col("memory_used_mb_max") * (1.0 + p.headroom_fraction) / p.step_mb).ceil() * p.step_mb
    ).clip(lower_bound=LAMBDA_MIN_MB)
    cpu_ratio = pl.min_horizontal(pl.col("memory_mb"), pl.lit(LAMBDA_MB_PER_VCPU)) / (
        pl.min_horizontal(pl.col("_target_mb"), pl.lit(LAMBDA_MB_PER_VCPU))
    )
    error_rate = pl.col("errors") / pl.col("invocations")
    base = (
        inv.lazy("functions")
        .filter(
            pl.col("memory_used_mb_max").is_not_null()
            & (pl.col("invocations") >= p.min_invocations)
            & (pl.col("duration_ms_sum") > 0)
            & (pl.col("lookback_hours") > 0)
            & (error_rate.fill_null(0.0) <= ERROR_ALERT_RATE)
        )
        .with_columns(target.alias("_target_mb"))
        .filter(pl.col("_target_mb") <= pl.col("memory_mb") * (1.0 - p.min_reduction))
        .with_columns(
            (_gb_seconds() * pl.col("price_gb_second") * _monthly_factor()).alias("_duration"),
            (
                pl.col("invocations")
                / 1e6
                * pl.col("price_per_million_requests")
                * _monthly_factor()
            ).alias("_requests"),
            cpu_ratio.alias("_cpu_ratio"),
        )
        .with_columns(
            (pl.col("_duration") * pl.col("_target_mb") / pl.col("memory_mb")).alias("_io_cost"),
        )
        .with_columns(
            (pl.col("_io_cost") * pl.col("_cpu_ratio")).alias("_cpu_cost"),
        )
        .with_columns(
            (pl.col("_duration") - pl.col("_io_cost")).alias("_io_saving"),
            (pl.col("_duration") - pl.col("_cpu_cost")).alias("_cpu_saving"),
        )
        .filter(pl.col("_io_saving") > 0)
    )
    base = _with_aws_advice(inv, base, CO_LAMBDA)
    counted = pl.col("_cpu_saving") > 0
    # The worst-case longest run at the smaller size, against the timeout.
    slowest = pl.col("duration_ms_max") * pl.col("_cpu_ratio")
    return findings(
        base,
        detail=pl.format(
            "{} has {} MB and used at most {} MB over {} invocations; at {} MB its duration "
            "costs {} a month if I/O-bound (same duration) or {} if CPU-bound (about {}x "
            "longer), against {} now.",
            pl.col("resource_name"),
            num(pl.col("memory_mb")),
            num(pl.col("memory_used_mb_max")),
            num(pl.col("invocations")),
            num(pl.col("_target_mb")),
            money(pl.col("_io_cost")),
            money(pl.col("_cpu_cost")),
            pl.col("_cpu_ratio").round(2),
            money(pl.col("_duration")),
        )
        + _aws_sentence(
            CO_LAMBDA,
            pl.when(counted).then(pl.col("_cpu_saving")).otherwise(pl.col("_io_saving")),
        ),
        recommendation=pl.when(counted)
        .then(
            pl.format(
                "Set {} to {} MB (Lambda Power Tuning can confirm the duration).",
                pl.col("resource_name"),
                num(pl.col("_target_mb")),
            )
        )
        .otherwise(
            pl.format(
                "Measure {} at {} MB before changing it: it saves only if the run takes "
                "less than {}x as long.",
                pl.col("resource_name"),
                num(pl.col("_target_mb")),
                (pl.col("memory_mb") / pl.col("_target_mb")).round(2),
            )
        ),
        current_monthly_cost=pl.col("_duration") + pl.col("_requests"),
        monthly_savings=pl.when(counted)
        .then(pl.col("_cpu_saving"))
        .otherwise(pl.col("_io_saving")),
        category=pl.when(counted)
        .then(pl.lit(Category.SAVINGS.value))
        .otherwise(pl.lit(Category.POSSIBLE.value)),
        confidence=regional_price_confidence(p.confidence, p.fallback_price_factor),
        price_source=pl.col("price_source"),
        evidence=evidence(
            memory_mb=pl.col("memory_mb"),
            memory_used_mb_max=pl.col("memory_used_mb_max"),
            memory_source=pl.col("memory_source"),
            target_mb=pl.col("_target_mb"),
            invocations=pl.col("invocations"),
            duration_ms_sum=pl.col("duration_ms_sum"),
            duration_ms_max=pl.col("duration_ms_max"),
            worst_case_duration_ms_max=slowest,
            timeout_seconds=pl.col("timeout_seconds"),
            lookback_hours=pl.col("lookback_hours"),
            gb_seconds=_gb_seconds(),
            price_gb_second=pl.col("price_gb_second"),
            price_per_million_requests=pl.col("price_per_million_requests"),
            duration_monthly_now=pl.col("_duration"),
            duration_monthly_io_bound=pl.col("_io_cost"),
            duration_monthly_cpu_bound=pl.col("_cpu_cost"),
            cpu_share_ratio=pl.col("_cpu_ratio"),
            price_region=pl.col("price_region"),
            price_reference=pl.col("price_reference"),
            aws_compute_optimizer=_aws_evidence(CO_LAMBDA),
        ),
    )


# --------------------------------------------------------------------------- Lambda arm64


@dataclass(frozen=True)
class LambdaArm64Params:
    min_invocations: float = 50.0
    confidence: float = 0.6
    # A container image must be rebuilt for arm64: less certain than a zip of interpreted code.
    confidence_image: float = 0.4
    fallback_price_factor: float = 0.8


@policy(
    id="rightsizing.lambda-arm64",
    family="rightsizing",
    action="resize",
    title="Lambda function can run on arm64 (Graviton)",
    needs=("functions",),
    effort_hours=2.0,
    risk="medium",
    performance="neutral",
    change=Change.MIGRATE_TO_GRAVITON,
    formula=(
        "monthly_savings = duration_ms_sum / 1000 × memory_mb / 1024 × "
        "(x86 GB-s price − arm64 GB-s price) × 730 / lookback_hours"
    ),
)
def lambda_arm64(inv: InventoryView, p: LambdaArm64Params) -> pl.LazyFrame:
    """x86_64 Lambda functions on a runtime that also runs on arm64, priced at the same
    duration on Graviton's lower GB-second rate.

    Flagged: an x86_64 function invoked at least ``min_invocations`` times over the
    lookback, on a runtime Lambda offers for arm64 (the Amazon Linux 1 runtimes are x86
    only), with a positive duration. AWS states up to 34% better price performance on
    arm64; the saving here takes the duration as unchanged, so it is the price difference
    alone. Native dependencies must be built for arm64: container images get a lower
    confidence. It is a ``resize`` on the same function as the memory finding, so ranking
    counts the better of the two and shows the other as its alternative.

    Saving formula: monthly_savings = GB-s × (x86 price − arm64 price) × 730 / lookback
    hours, GB-s = duration_ms_sum / 1000 × memory_mb / 1024.

    Sources: AWS Compute Optimizer and Cost Optimization Hub recommend Graviton
    migrations; runtimes from https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html;
    prices from https://aws.amazon.com/lambda/pricing/.
    """
    base = (
        inv.lazy("functions")
        .filter(
            (pl.col("architecture") == "x86_64")
            & ~pl.col("runtime").fill_null("").is_in(list(X86_ONLY_RUNTIMES))
            & (pl.col("invocations") >= p.min_invocations)
            & (pl.col("duration_ms_sum") > 0)
            & (pl.col("lookback_hours") > 0)
        )
        .with_columns(
            (_gb_seconds() * pl.col("price_gb_second_x86_64") * _monthly_factor()).alias("_now"),
            (_gb_seconds() * pl.col("price_gb_second_arm64") * _monthly_factor()).alias("_arm"),
            (
                pl.col("invocations")
                / 1e6
                * pl.col("price_per_million_requests")
                * _monthly_factor()
            ).alias("_requests"),
        )
        .filter(pl.col("_now") > pl.col("_arm"))
    )
    image = pl.col("package_type") == "Image"
    return findings(
        base,
        detail=pl.format(
            "{} runs on x86_64 ({}, {} MB): its duration costs {} a month; the same duration "
            "on arm64 costs {}.",
            pl.col("resource_name"),
            pl.col("runtime").fill_null(pl.col("package_type")),
            num(pl.col("memory_mb")),
            money(pl.col("_now")),
            money(pl.col("_arm")),
        ),
        recommendation=pl.when(image)
        .then(
            pl.format(
                "Rebuild {}'s image for arm64 and switch its architecture.", pl.col("resource_name")
            )
        )
        .otherwise(
            pl.format(
                "Switch {} to arm64 (rebuild any native dependencies) and compare its duration.",
                pl.col("resource_name"),
            )
        ),
        current_monthly_cost=pl.col("_now") + pl.col("_requests"),
        monthly_savings=pl.col("_now") - pl.col("_arm"),
        confidence=regional_price_confidence(
            pl.when(image).then(pl.lit(p.confidence_image)).otherwise(pl.lit(p.confidence)),
            p.fallback_price_factor,
        ),
        price_source=pl.col("price_source"),
        evidence=evidence(
            memory_mb=pl.col("memory_mb"),
            invocations=pl.col("invocations"),
            duration_ms_sum=pl.col("duration_ms_sum"),
            lookback_hours=pl.col("lookback_hours"),
            gb_seconds=_gb_seconds(),
            price_gb_second_x86_64=pl.col("price_gb_second_x86_64"),
            price_gb_second_arm64=pl.col("price_gb_second_arm64"),
            duration_monthly_x86_64=pl.col("_now"),
            duration_monthly_arm64=pl.col("_arm"),
            price_region=pl.col("price_region"),
            price_reference=pl.col("price_reference"),
        ),
    )


# --------------------------------------------------------------------------- fleets


def _fleet_hours(inv: InventoryView) -> pl.LazyFrame:
    """One row per group and hour with CPU: ``cpu`` (group average, percent) and ``n``
    (in-service instances that hour, else the group's desired capacity)."""
    window = utilization_in_window(inv)
    cpu = (
        window.filter((pl.col("metric") == "cpu") & (pl.col("statistic") == "average"))
        .group_by("resource_id", "ts")
        .agg(pl.col("value").mean().alias("cpu"))
    )
    capacity = (
        window.filter((pl.col("metric") == "capacity") & (pl.col("statistic") == "average"))
        .group_by("resource_id", "ts")
        .agg(pl.col("value").mean().alias("_capacity"))
    )
    fleets = inv.lazy("fleets").select(
        "resource_id", pl.col("desired_capacity").cast(pl.Float64).alias("_desired")
    )
    return (
        cpu.join(fleets, on="resource_id", how="inner")
        .join(capacity, on=["resource_id", "ts"], how="left")
        .with_columns(pl.coalesce("_capacity", "_desired").alias("n"))
        .filter(pl.col("n") > 0)
        .drop("_capacity", "_desired")
    )


def _like_prices(inv: InventoryView) -> pl.LazyFrame:
    """Per (provider, region, instance_type): the cheapest current, non-burstable type of
    the same class with the same vCPUs and at least the memory (``_like_price``,
    ``_like_type``)."""
    types = instance_types(inv).filter(
        pl.col("hourly_price").is_not_null()
        & (pl.col("hourly_price") > 0)
        & ~pl.col("burstable")
        & pl.col("current_generation")
    )
    like = types.select(
        "provider",
        "region",
        "instance_class",
        "vcpus",
        pl.col("memory_gib").alias("_like_memory"),
        pl.col("hourly_price").alias("_like_price"),
        pl.col("instance_type").alias("_like_type"),
    )
    return (
        types.select("provider", "region", "instance_type", "instance_class", "vcpus", "memory_gib")
        .join(like, on=["provider", "region", "instance_class", "vcpus"], how="inner")
        .filter(pl.col("_like_memory") >= pl.col("memory_gib"))
        .sort("_like_price", "_like_type")
        .unique(subset=["provider", "region", "instance_type"], keep="first", maintain_order=True)
        .select("provider", "region", "instance_type", "_like_price", "_like_type")
    )


def _slow_groups(inv: InventoryView) -> pl.LazyFrame:
    """Groups behind a load balancer over the latency or error alert line (with the data
    ``rightsizing.load-balancer-bottleneck`` needs to say so): never shrunk, and their
    remedy is that finding's."""
    enough = LoadBalancerBottleneckParams()
    at_alert = (
        _lb_profile(inv)
        .filter(
            _at_alert()
            & (pl.col("latency_hours") >= enough.min_hours)
            & (pl.col("lb_requests") >= enough.min_requests)
        )
        .select(pl.col("resource_id").alias("_lb"))
    )
    return (
        _groups_behind(inv)
        .join(at_alert, on="_lb", how="semi")
        .select(pl.col("group").alias("resource_id"))
        .unique()
    )


@dataclass(frozen=True)
class FleetDemandParams:
    # The seed's utilization target: target tracking holds the group's CPU at 70%.
    target_cpu_percent: float = CPU_TARGET_PERCENT
    # Never fewer than this many instances (two Availability Zones).
    min_instances: int = 2
    # "Swings daily": the mean of each day's highest minus lowest hourly CPU.
    min_daily_swing_percent: float = 20.0
    # The seed's alert line: a group this hot is a bottleneck, never shrunk.
    alert_cpu_percent: float = CPU_ALERT_PERCENT
    # "Sized for its peak": the peak (p99) needs the size. At or below half the target, a
    # type half the size serves the peak, which is rightsizing.overprovisioned's finding on
    # the members (p99 on the smaller type at most 70%); counting both would count twice.
    min_peak_cpu_percent: float = CPU_TARGET_PERCENT / 2
    # Compute Optimizer needs 30 hours of metrics in 14 days.
    min_hours: int = 30
    confidence: float = 0.7


@policy(
    id="rightsizing.fleet-demand-matching",
    family="rightsizing",
    action="resize",
    title="Auto Scaling group sized for its peak all day",
    needs=("fleets", "utilization", "commitments", "prices", "provider_advice"),
    effort_hours=3.0,
    risk="medium",
    performance="neutral",
    change=Change.CONFIGURE_SERVICE,
    formula=(
        "monthly_savings = Σ_h max(n_h − max(min, ceil(n_h × cpu_h / 70)), 0) × "
        "min(hourly_price, cheapest like type) × (1 − spot_share) × 730 / hours"
    ),
)
def fleet_demand_matching(inv: InventoryView, p: FleetDemandParams) -> pl.LazyFrame:
    """A fixed-size Auto Scaling group whose load swings daily: the capacity above what
    target tracking at 70% CPU would run, hour by hour.

    Flagged: a group with no target tracking, step or predictive policy and no scheduled
    action (all known), at least ``min_hours`` hours of group CPU, a mean daily CPU swing
    of at least ``min_daily_swing_percent`` points, a p95 CPU at or under the 85% alert
    line (a hotter group is a bottleneck: ``rightsizing.fleet-bottleneck``), a p99 CPU
    above ``min_peak_cpu_percent`` (below it a smaller type serves the peak: the members'
    rightsizing finding, not this one, so the two never count the same hours), and no load
    balancer in front of it over the latency or error alert line (a slow service is never
    shrunk: ``rightsizing.load-balancer-bottleneck``). A steady group
    is left to the commitment policies.

    Formula, per hour h with n_h instances in service (GroupInServiceInstances, else the
    desired capacity) at cpu_h average CPU: the same work at the target needs
    needed_h = max(min_instances, ceil(n_h × cpu_h / target)) instances, never more than
    n_h; saving_h = (n_h − needed_h) × hourly price. The monthly saving is Σ saving_h ×
    730 / hours observed. The hourly price is the members' on-demand price, or the
    cheapest like type's (same class and vCPUs, at least the memory) where lower, since a
    type move on the members is its own finding and stacks only on what it leaves. Spot
    members are taken as costing nothing (the figure is reduced by the spot share: count
    less), and existing commitments on the type apply (savings after discounts).

    Sources: target tracking at the seed's 70% utilization target; AWS Auto Scaling
    target tracking (https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-target-tracking.html)
    and Compute Optimizer's Auto Scaling group recommendations (30 hours of metrics,
    https://docs.aws.amazon.com/compute-optimizer/latest/ug/requirements.html).
    """
    hours = _fleet_hours(inv).with_columns(
        pl.max_horizontal(
            pl.lit(float(p.min_instances)),
            (pl.col("n") * pl.col("cpu") / p.target_cpu_percent).ceil(),
        )
        .clip(upper_bound=pl.col("n"))
        .alias("needed")
    )
    daily = (
        hours.group_by("resource_id", pl.col("ts").dt.date().alias("_day"))
        .agg((pl.col("cpu").max() - pl.col("cpu").min()).alias("_swing"))
        .group_by("resource_id")
        .agg(pl.col("_swing").mean().alias("daily_swing"))
    )
    profile = hours.group_by("resource_id").agg(
        pl.col("ts").n_unique().alias("hours"),
        pl.col("cpu").quantile(0.95, interpolation="linear").alias("cpu_p95"),
        pl.col("cpu").quantile(0.99, interpolation="linear").alias("cpu_p99"),
        pl.col("cpu").mean().alias("cpu_mean"),
        pl.col("n").mean().alias("n_mean"),
        pl.col("n").max().alias("n_max"),
        pl.col("needed").mean().alias("needed_mean"),
        pl.col("needed").min().alias("needed_min"),
        pl.col("needed").max().alias("needed_max"),
        (pl.col("n") - pl.col("needed")).sum().alias("surplus_instance_hours"),
    )
    fixed = (
        (pl.col("target_tracking") == False)  # noqa: E712 - null (unknown) must not match
        & (pl.col("step_scaling") == False)  # noqa: E712
        & (pl.col("predictive_scaling") == False)  # noqa: E712
        & (pl.col("scheduled_actions") == 0)
    )
    # The surplus is priced at the cheapest like type (same class and vCPUs, at least the
    # memory, not burstable) where that is below the members' price: a type move (Graviton,
    # a newer generation) on the members is its own finding, and the two stack only on
    # what the move leaves, so neither counts the same dollars twice.
    stack_price = pl.min_horizontal(pl.col("hourly_price"), pl.col("_like_price"))
    effective_price = stack_price * (1.0 - pl.col("spot_share").fill_null(0.0))
    before = pl.col("surplus_instance_hours") * effective_price * HOURS_PER_MONTH / pl.col("hours")
    base = (
        inv.lazy("fleets")
        .filter(fixed & pl.col("hourly_price").is_not_null() & (pl.col("hourly_price") > 0))
        .join(profile, on="resource_id", how="inner")
        .join(daily, on="resource_id", how="inner")
        .filter(
            (pl.col("hours") >= p.min_hours)
            & (pl.col("daily_swing") >= p.min_daily_swing_percent)
            & (pl.col("cpu_p95") <= p.alert_cpu_percent)
            & (pl.col("cpu_p99") > p.min_peak_cpu_percent)
            & (pl.col("surplus_instance_hours") > 0)
        )
        .join(_slow_groups(inv), on="resource_id", how="anti")
        .join(_like_prices(inv), on=["provider", "region", "instance_type"], how="left")
        .with_columns(before.alias("_before"))
    )
    current = (
        pl.col("n_mean")
        * pl.col("hourly_price")
        * (1.0 - pl.col("spot_share").fill_null(0.0))
        * HOURS_PER_MONTH
    )
    priced = _with_aws_advice(inv, after_discounts(inv, base, pl.col("_before")), CO_AUTO_SCALING)
    return findings(
        priced,
        detail=pl.format(
            "{} runs {} × {} all day while its CPU swings {} points a day (mean {}, p95 {}); "
            "target tracking at {} would run {} to {} instances ({} on average): {} "
            "instance-hours fewer over {} h.",
            pl.col("resource_name"),
            num(pl.col("n_mean")),
            pl.col("instance_type").fill_null("instances"),
            num(pl.col("daily_swing")),
            pct(pl.col("cpu_mean")),
            pct(pl.col("cpu_p95")),
            pct(pl.lit(p.target_cpu_percent)),
            num(pl.col("needed_min")),
            num(pl.col("needed_max")),
            num(pl.col("needed_mean")),
            num(pl.col("surplus_instance_hours")),
            num(pl.col("hours")),
        )
        + commitment_note()
        + _aws_sentence(CO_AUTO_SCALING, pl.col("_saving_now")),
        recommendation=pl.format(
            "Add a target tracking policy on ASGAverageCPUUtilization at {} to {} with "
            "MinSize {} and MaxSize {} (it scales out above the target and in below it); "
            "or scheduled actions for the daily cycle.",
            num(pl.lit(p.target_cpu_percent)),
            pl.col("resource_name"),
            num(pl.col("needed_min")),
            num(pl.col("n_max")),
        ),
        current_monthly_cost=current,
        **discount_columns(pl.col("_before")),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        group_key=pl.format("asg:{}", pl.col("resource_name")),
        evidence=evidence(
            hours=pl.col("hours"),
            target_cpu_percent=p.target_cpu_percent,
            min_instances=p.min_instances,
            instances_mean=pl.col("n_mean"),
            instances_needed_mean=pl.col("needed_mean"),
            surplus_instance_hours=pl.col("surplus_instance_hours"),
            recommended_min_size=pl.col("needed_min"),
            recommended_max_size=pl.col("n_max"),
            cpu_mean=pl.col("cpu_mean"),
            cpu_p95=pl.col("cpu_p95"),
            daily_swing_points=pl.col("daily_swing"),
            instance_type=pl.col("instance_type"),
            hourly_price=pl.col("hourly_price"),
            surplus_hourly_price=stack_price,
            cheapest_like_type=pl.col("_like_type"),
            spot_share=pl.col("spot_share"),
            hours_per_month=HOURS_PER_MONTH,
            discounts=discount_evidence(),
            aws_compute_optimizer=_aws_evidence(CO_AUTO_SCALING),
        ),
    )


@dataclass(frozen=True)
class FleetBottleneckParams:
    alert_cpu_percent: float = CPU_ALERT_PERCENT
    target_cpu_percent: float = CPU_TARGET_PERCENT
    min_hours: int = 30
    confidence: float = 0.75


@policy(
    id="rightsizing.fleet-bottleneck",
    family="rightsizing",
    action="bottleneck",
    title="Auto Scaling group CPU above the alert line",
    needs=("fleets", "utilization"),
    effort_hours=1.0,
    risk="low",
    performance="improves",
    change=Change.ADD_CAPACITY,
    formula=(
        "added_monthly_cost = (ceil(n × cpu_p95 / 70) − n) × hourly_price × 730; "
        "monthly_savings = 0 (a bottleneck never counts as a saving)"
    ),
)
def fleet_bottleneck(inv: InventoryView, p: FleetBottleneckParams) -> pl.LazyFrame:
    """Auto Scaling groups whose p95 hourly CPU is above the seed's 85% alert line.

    The remedy is more instances: enough that the p95 load sits at the 70% target,
    extra = ceil(n × cpu_p95 / 70) − n (at least one), priced at the members' on-demand
    rate. It is an investment, never a saving, and the demand-matching policy never
    shrinks such a group. A group behind a load balancer at its alert line is left to
    ``rightsizing.load-balancer-bottleneck``, which prices the same scale-out once.

    Cost formula: added_monthly_cost = extra × hourly_price × 730; monthly_savings = 0;
    performance_gain = 1 − 70 / cpu_p95 (the load per instance taken off).

    Source: the seed's utilization alert line (85%) and target (70%), consistent with
    AWS Compute Optimizer's default CPU headroom
    (https://docs.aws.amazon.com/compute-optimizer/latest/ug/rightsizing-preferences.html).
    """
    profile = (
        _fleet_hours(inv)
        .group_by("resource_id")
        .agg(
            pl.col("ts").n_unique().alias("hours"),
            pl.col("cpu").quantile(0.95, interpolation="linear").alias("cpu_p95"),
            pl.col("cpu").max().alias("cpu_max"),
            pl.col("n").mean().alias("n_mean"),
        )
    )
    base = (
        inv.lazy("fleets")
        .join(profile, on="resource_id", how="inner")
        .filter((pl.col("hours") >= p.min_hours) & (pl.col("cpu_p95") > p.alert_cpu_percent))
        # Behind a load balancer at alert, that finding prices this group's scale-out.
        .join(_slow_groups(inv), on="resource_id", how="anti")
        .with_columns(
            pl.max_horizontal(
                pl.lit(1.0),
                (pl.col("n_mean").round(0) * pl.col("cpu_p95") / p.target_cpu_percent).ceil()
                - pl.col("n_mean").round(0),
            ).alias("_extra")
        )
    )
    added = pl.col("_extra") * monthly(pl.col("hourly_price").fill_null(0.0))
    return findings(
        base,
        detail=pl.format(
            "{} ({} × {}) has p95 CPU {} (max {}) over {} h, above the {} alert line.",
            pl.col("resource_name"),
            num(pl.col("n_mean")),
            pl.col("instance_type").fill_null("instances"),
            pct(pl.col("cpu_p95")),
            pct(pl.col("cpu_max")),
            num(pl.col("hours")),
            pct(pl.lit(p.alert_cpu_percent)),
        ),
        recommendation=pl.format(
            "Scale {} out by {} instance(s) (or target tracking at {} with a higher MaxSize); "
            "it adds {} a month.",
            pl.col("resource_name"),
            num(pl.col("_extra")),
            pct(pl.lit(p.target_cpu_percent)),
            money(added),
        ),
        current_monthly_cost=pl.col("n_mean") * monthly(pl.col("hourly_price").fill_null(0.0)),
        monthly_savings=pl.lit(0.0),
        added_monthly_cost=added,
        performance_gain=(1.0 - p.target_cpu_percent / pl.col("cpu_p95")).clip(lower_bound=0.0),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            hours=pl.col("hours"),
            cpu_p95=pl.col("cpu_p95"),
            cpu_max=pl.col("cpu_max"),
            instances_mean=pl.col("n_mean"),
            extra_instances=pl.col("_extra"),
            instance_type=pl.col("instance_type"),
            hourly_price=pl.col("hourly_price"),
            alert_cpu_percent=p.alert_cpu_percent,
            target_cpu_percent=p.target_cpu_percent,
        ),
    )


# --------------------------------------------------------------------------- load balancers


def _lb_profile(inv: InventoryView) -> pl.LazyFrame:
    """Per load balancer with latency data: hours, p95/p99 of the hourly average latency
    (ms), the highest hourly maximum, requests and 5XX over the lookback, the error rate."""
    window = utilization_in_window(inv)
    latency = (
        window.filter((pl.col("metric") == "latency") & (pl.col("statistic") == "average"))
        .group_by("resource_id", "ts")
        .agg(pl.col("value").mean())
        .group_by("resource_id")
        .agg(
            pl.col("ts").n_unique().alias("latency_hours"),
            pl.col("value").quantile(0.95, interpolation="linear").alias("latency_p95_ms"),
            pl.col("value").quantile(0.99, interpolation="linear").alias("latency_p99_ms"),
        )
    )
    peak = (
        window.filter((pl.col("metric") == "latency") & (pl.col("statistic") == "maximum"))
        .group_by("resource_id")
        .agg(pl.col("value").max().alias("latency_max_ms"))
    )
    counts = (
        window.filter(pl.col("metric").is_in(["requests", "errors_5xx"]))
        .group_by("resource_id")
        .agg(
            pl.col("value").filter(pl.col("metric") == "requests").sum().alias("lb_requests"),
            pl.col("value").filter(pl.col("metric") == "errors_5xx").sum().alias("errors_5xx"),
        )
    )
    return (
        latency.join(peak, on="resource_id", how="left")
        .join(counts, on="resource_id", how="left")
        .with_columns(
            pl.col("lb_requests").fill_null(0.0),
            pl.col("errors_5xx").fill_null(0.0),
        )
        .with_columns(
            pl.when(pl.col("lb_requests") > 0)
            .then(pl.col("errors_5xx") / pl.col("lb_requests"))
            .otherwise(0.0)
            .alias("error_rate")
        )
    )


def _at_alert() -> pl.Expr:
    return (pl.col("latency_p95_ms") > LATENCY_ALERT_MS) | (pl.col("error_rate") > ERROR_ALERT_RATE)


def _at_watch() -> pl.Expr:
    return (pl.col("latency_p95_ms") > LATENCY_WATCH_MS) | (pl.col("error_rate") > ERROR_WATCH_RATE)


def _groups_behind(inv: InventoryView) -> pl.LazyFrame:
    """(load balancer ARN, group) pairs, with the group's size, price and CPU p95."""
    cpu = (
        _fleet_hours(inv)
        .group_by("resource_id")
        .agg(
            pl.col("cpu").quantile(0.95, interpolation="linear").alias("group_cpu_p95"),
            pl.col("n").mean().alias("group_instances"),
        )
    )
    return (
        inv.lazy("fleets")
        .filter(pl.col("load_balancers").is_not_null())
        .select(
            pl.col("resource_id").alias("group"),
            pl.col("load_balancers").str.split(",").alias("_lb"),
            pl.col("hourly_price").alias("group_hourly_price"),
            pl.col("instance_type").alias("group_instance_type"),
            pl.col("price_source").alias("group_price_source"),
        )
        .explode("_lb")
        .join(cpu, left_on="group", right_on="resource_id", how="left")
    )


@dataclass(frozen=True)
class LoadBalancerBottleneckParams:
    # Hours of latency data needed, and traffic enough for an error rate to mean something.
    min_hours: int = 30
    min_requests: float = 1000.0
    target_cpu_percent: float = CPU_TARGET_PERCENT
    cache_monthly: float = CACHE_MONTHLY
    cache_gain: float = CACHE_GAIN
    confidence: float = 0.7


@policy(
    id="rightsizing.load-balancer-bottleneck",
    family="rightsizing",
    action="bottleneck",
    title="Service behind a load balancer is slow or failing",
    needs=("network_idle", "utilization", "fleets"),
    effort_hours=4.0,
    risk="low",
    performance="improves",
    change=Change.ADD_CAPACITY,
    formula=(
        "added_monthly_cost = (ceil(n × cpu_p95 / 70) − n) × hourly_price × 730 when the "
        "targets' CPU is above 70%, else a caching layer at 300; monthly_savings = 0"
    ),
)
def load_balancer_bottleneck(inv: InventoryView, p: LoadBalancerBottleneckParams) -> pl.LazyFrame:
    """Application load balancers whose targets answer slowly or fail: performance at risk.

    Alert (a bottleneck, an investment): p95 of the hourly average TargetResponseTime above
    500 ms, or 5XX responses (target and load balancer) above 5% of requests. Watch (a
    review, no money claimed): above 200 ms or 1%. Needs ``min_hours`` hours of latency and
    ``min_requests`` requests over the lookback.

    The remedy is priced from what is behind it: when an Auto Scaling group behind the load
    balancer runs its p95 CPU above the 70% target, scale it out by
    extra = max(1, ceil(n × cpu_p95 / 70) − n) instances (added_monthly_cost = extra ×
    hourly price × 730, performance_gain = 1 − 70 / cpu_p95); otherwise the time is spent
    behind the targets (a database, a dependency), and the remedy is the seed's caching
    layer (added_monthly_cost = 300, 60% less load on what is behind it). monthly_savings
    is always 0, and the demand-matching policy never shrinks a group behind a load
    balancer at alert.

    Sources: the seed's performance table (latency under 200 ms, alert above 500 ms;
    errors under 1%, alert above 5%; utilization target 70%), in line with the
    AWS Well-Architected performance pillar; metrics from
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html.
    """
    behind = _groups_behind(inv)
    hot_group = (
        behind.filter(pl.col("group_cpu_p95") > p.target_cpu_percent)
        .with_columns(
            pl.max_horizontal(
                pl.lit(1.0),
                (
                    pl.col("group_instances").round(0)
                    * pl.col("group_cpu_p95")
                    / p.target_cpu_percent
                ).ceil()
                - pl.col("group_instances").round(0),
            ).alias("_extra")
        )
        .sort("group_cpu_p95", descending=True)
        .unique(subset=["_lb"], keep="first", maintain_order=True)
    )
    any_group = behind.group_by("_lb").agg(
        pl.col("group").sort().str.join(",").alias("groups"),
        pl.col("group_cpu_p95").max().alias("groups_cpu_p95"),
    )
    base = (
        inv.lazy("network_idle")
        .filter((pl.col("kind") == "load_balancer") & (pl.col("subtype") == "application"))
        .join(_lb_profile(inv), on="resource_id", how="inner")
        .filter(
            (pl.col("latency_hours") >= p.min_hours)
            & (pl.col("lb_requests") >= p.min_requests)
            & _at_watch()
        )
        .join(hot_group, left_on="resource_id", right_on="_lb", how="left")
        .join(any_group, left_on="resource_id", right_on="_lb", how="left")
    )
    scale_out = pl.col("_extra").is_not_null()
    alert = _at_alert()
    remedy_cost = (
        pl.when(scale_out)
        .then(pl.col("_extra") * monthly(pl.col("group_hourly_price").fill_null(0.0)))
        .otherwise(pl.lit(p.cache_monthly))
    )
    level = pl.when(alert).then(pl.lit("alert")).otherwise(pl.lit("watch"))
    return findings(
        base,
        detail=pl.format(
            "{} ({} line): p95 response time {} ms (p99 {}, max {}) and {} of {} requests "
            "failed with 5XX ({}) over {} h; healthy lines are 200 ms and 1%, alert 500 ms "
            "and 5%.",
            pl.col("resource_name"),
            level,
            num(pl.col("latency_p95_ms")),
            num(pl.col("latency_p99_ms")),
            num(pl.col("latency_max_ms").fill_null(pl.col("latency_p99_ms"))),
            num(pl.col("errors_5xx")),
            num(pl.col("lb_requests")),
            pct(pl.col("error_rate") * 100.0),
            num(pl.col("latency_hours")),
        ),
        recommendation=pl.when(scale_out)
        .then(
            pl.format(
                "Scale {} out by {} instance(s): its p95 CPU is {} (target {}); it adds {} a "
                "month. Do not shrink it while {} is slow.",
                pl.col("group"),
                num(pl.col("_extra")),
                pct(pl.col("group_cpu_p95")),
                pct(pl.lit(p.target_cpu_percent)),
                money(remedy_cost),
                pl.col("resource_name"),
            )
        )
        .otherwise(
            pl.format(
                "The targets are not CPU-bound ({}): the time goes behind them. Put a cache "
                "in front of the slow dependency (about {} a month, the seed's caching "
                "layer) or a CDN in front of {}; find the slow calls first.",
                pl.when(pl.col("groups").is_not_null())
                .then(pl.format("{} p95 CPU {}", pl.col("groups"), pct(pl.col("groups_cpu_p95"))))
                .otherwise(pl.lit("no Auto Scaling group behind it is known")),
                money(pl.lit(p.cache_monthly)),
                pl.col("resource_name"),
            )
        ),
        current_monthly_cost=monthly(pl.col("hourly_price").fill_null(0.0)),
        monthly_savings=pl.lit(0.0),
        added_monthly_cost=pl.when(alert).then(remedy_cost).otherwise(pl.lit(0.0)),
        category=pl.when(alert)
        .then(pl.lit(Category.INVESTMENT.value))
        .otherwise(pl.lit(Category.REVIEW.value)),
        performance_gain=pl.when(scale_out)
        .then((1.0 - p.target_cpu_percent / pl.col("group_cpu_p95")).clip(lower_bound=0.0))
        .otherwise(pl.lit(p.cache_gain)),
        confidence=pl.lit(p.confidence),
        price_source=pl.when(scale_out)
        .then(pl.col("group_price_source"))
        .otherwise(pl.lit("bundled")),
        evidence=evidence(
            level=level,
            latency_p95_ms=pl.col("latency_p95_ms"),
            latency_p99_ms=pl.col("latency_p99_ms"),
            latency_max_ms=pl.col("latency_max_ms"),
            requests=pl.col("lb_requests"),
            errors_5xx=pl.col("errors_5xx"),
            error_rate=pl.col("error_rate"),
            hours=pl.col("latency_hours"),
            latency_watch_ms=LATENCY_WATCH_MS,
            latency_alert_ms=LATENCY_ALERT_MS,
            error_watch_rate=ERROR_WATCH_RATE,
            error_alert_rate=ERROR_ALERT_RATE,
            group=pl.col("group"),
            group_cpu_p95=pl.col("group_cpu_p95"),
            group_instances=pl.col("group_instances"),
            extra_instances=pl.col("_extra"),
            group_hourly_price=pl.col("group_hourly_price"),
            remedy_monthly=remedy_cost,
        ),
    )


# --------------------------------------------------------------------------- Fargate


def _fargate_sizes() -> pl.LazyFrame:
    """Every Fargate (Linux) task size: CPU units and memory MiB.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html"""
    ranges = (
        (256, (512, 1024, 2048)),
        (512, tuple(range(1024, 4096 + 1, 1024))),
        (1024, tuple(range(2048, 8192 + 1, 1024))),
        (2048, tuple(range(4096, 16384 + 1, 1024))),
        (4096, tuple(range(8192, 30720 + 1, 1024))),
        (8192, tuple(range(16384, 61440 + 1, 4096))),
        (16384, tuple(range(32768, 122880 + 1, 8192))),
    )
    pairs = [(float(cpu), float(memory)) for cpu, memories in ranges for memory in memories]
    return pl.LazyFrame(
        {"cand_cpu": [c for c, _ in pairs], "cand_memory": [m for _, m in pairs]},
        schema={"cand_cpu": pl.Float64, "cand_memory": pl.Float64},
    )


@dataclass(frozen=True)
class FargateTaskParams:
    # The seed's utilization target: the new size runs the p95 CPU at 70%.
    target_cpu_percent: float = CPU_TARGET_PERCENT
    # Memory is sized from its maximum (a task over its memory is stopped), plus headroom:
    # Compute Optimizer's default memory headroom is 20%.
    memory_headroom_fraction: float = 0.2
    alert_cpu_percent: float = CPU_ALERT_PERCENT
    min_hours: int = 30
    confidence: float = 0.7
    fallback_price_factor: float = 0.8


@policy(
    id="rightsizing.fargate-task",
    family="rightsizing",
    action="resize",
    title="Fargate task larger than its service uses",
    needs=("services", "provider_advice"),
    effort_hours=1.0,
    risk="medium",
    performance="neutral",
    change=Change.RIGHTSIZE_INSTANCE,
    formula=(
        "monthly_savings = desired_count × 730 × ((cpu − new_cpu) / 1024 × vCPU-hour + "
        "(memory − new_memory) / 1024 × GB-hour)"
    ),
)
def fargate_task(inv: InventoryView, p: FargateTaskParams) -> pl.LazyFrame:
    """Fargate services whose tasks reserve far more CPU or memory than Container Insights
    shows them using: the smallest valid Fargate size that holds the p95 CPU at the 70%
    target and the largest memory used with 20% headroom.

    Flagged: a service on Fargate (launch type or capacity provider) with at least
    ``min_hours`` hours of Container Insights, its maximum CPU at or under the 85% alert line
    (a hotter service is not shrunk), and a cheaper valid size with
    new_cpu ≥ cpu × cpu_p95 / 70 and new_memory ≥ memory × memory_max × 1.2.

    Saving formula: monthly_savings = desired_count × 730 × ((cpu − new_cpu) / 1024 ×
    price per vCPU-hour + (memory − new_memory) / 1024 × price per GB-hour).

    Sources: AWS Compute Optimizer's ECS on Fargate recommendations (CPU and memory from
    the last 14 days, https://docs.aws.amazon.com/compute-optimizer/latest/ug/view-ecs-recommendations.html);
    sizes from https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html;
    prices from https://aws.amazon.com/fargate/pricing/.
    """
    on_fargate = (pl.col("launch_type") == "FARGATE") | pl.col("capacity_providers").fill_null(
        ""
    ).str.contains("FARGATE")
    hourly = pl.col("task_cpu_units") / 1024.0 * pl.col("price_vcpu_hour") + pl.col(
        "task_memory_mb"
    ) / 1024.0 * pl.col("price_gb_hour")
    cand_hourly = pl.col("cand_cpu") / 1024.0 * pl.col("price_vcpu_hour") + pl.col(
        "cand_memory"
    ) / 1024.0 * pl.col("price_gb_hour")
    needed_cpu = pl.col("task_cpu_units") * pl.col("cpu_p95") / p.target_cpu_percent
    needed_memory = (
        pl.col("task_memory_mb") * pl.col("memory_max") / 100.0 * (1.0 + p.memory_headroom_fraction)
    )
    base = (
        inv.lazy("services")
        .filter(
            on_fargate
            & (pl.col("metric_hours") >= p.min_hours)
            & (pl.col("cpu_max") <= p.alert_cpu_percent)
            & pl.col("memory_max").is_not_null()
            & pl.col("task_cpu_units").is_not_null()
            & pl.col("task_memory_mb").is_not_null()
            & (pl.col("desired_count") > 0)
        )
        .with_columns(
            hourly.alias("_hourly"),
            needed_cpu.alias("_needed_cpu"),
            needed_memory.alias("_needed_memory"),
        )
        .join(_fargate_sizes(), how="cross")
        .filter(
            (pl.col("cand_cpu") >= pl.col("_needed_cpu"))
            & (pl.col("cand_memory") >= pl.col("_needed_memory"))
        )
        .with_columns(cand_hourly.alias("_cand_hourly"))
        .sort("_cand_hourly", "cand_cpu", "cand_memory")
        .unique(subset=["resource_id"], keep="first", maintain_order=True)
        .filter(pl.col("_cand_hourly") < pl.col("_hourly") - 1e-9)
    )
    base = _with_aws_advice(inv, base, CO_ECS)
    tasks = pl.col("desired_count").cast(pl.Float64)
    return findings(
        base,
        detail=pl.format(
            "{} runs {} tasks of {} CPU units and {} MiB; Container Insights shows p95 CPU "
            "{} and at most {} memory of that over {} h.",
            pl.col("resource_name"),
            num(tasks),
            num(pl.col("task_cpu_units")),
            num(pl.col("task_memory_mb")),
            pct(pl.col("cpu_p95")),
            pct(pl.col("memory_max")),
            num(pl.col("metric_hours")),
        )
        + _aws_sentence(CO_ECS, tasks * monthly(pl.col("_hourly") - pl.col("_cand_hourly"))),
        recommendation=pl.format(
            "Register a task definition for {} with {} CPU units and {} MiB and update the "
            "service; it saves {} a month.",
            pl.col("resource_name"),
            num(pl.col("cand_cpu")),
            num(pl.col("cand_memory")),
            money(tasks * monthly(pl.col("_hourly") - pl.col("_cand_hourly"))),
        ),
        current_monthly_cost=tasks * monthly(pl.col("_hourly")),
        monthly_savings=tasks * monthly(pl.col("_hourly") - pl.col("_cand_hourly")),
        confidence=regional_price_confidence(p.confidence, p.fallback_price_factor),
        price_source=pl.col("price_source"),
        evidence=evidence(
            tasks=tasks,
            task_cpu_units=pl.col("task_cpu_units"),
            task_memory_mb=pl.col("task_memory_mb"),
            cpu_p95=pl.col("cpu_p95"),
            cpu_max=pl.col("cpu_max"),
            memory_max=pl.col("memory_max"),
            needed_cpu_units=pl.col("_needed_cpu"),
            needed_memory_mb=pl.col("_needed_memory"),
            new_cpu_units=pl.col("cand_cpu"),
            new_memory_mb=pl.col("cand_memory"),
            price_vcpu_hour=pl.col("price_vcpu_hour"),
            price_gb_hour=pl.col("price_gb_hour"),
            task_hourly_now=pl.col("_hourly"),
            task_hourly_new=pl.col("_cand_hourly"),
            price_region=pl.col("price_region"),
            price_reference=pl.col("price_reference"),
            aws_compute_optimizer=_aws_evidence(CO_ECS),
        ),
    )


# --------------------------------------------------------------------------- high minimum


@dataclass(frozen=True)
class FleetMinimumParams:
    target_cpu_percent: float = CPU_TARGET_PERCENT
    min_instances: int = 2
    # The new minimum covers the demand of all but the quietest tenth of the hours at the
    # floor; target tracking adds capacity above it as before.
    minimum_percentile: float = 0.1
    alert_cpu_percent: float = CPU_ALERT_PERCENT
    min_hours: int = 30
    confidence: float = 0.7


@policy(
    id="rightsizing.fleet-high-minimum",
    family="rightsizing",
    action="resize",
    title="Auto Scaling group never scales below a high minimum",
    needs=("fleets", "utilization", "commitments", "prices"),
    effort_hours=1.0,
    risk="medium",
    performance="neutral",
    change=Change.CONFIGURE_SERVICE,
    formula=(
        "monthly_savings = Σ_h [n_h ≤ min_size] × max(n_h − max(new_min, ceil(n_h × cpu_h / 70)), "
        "0) × min(hourly_price, cheapest like type) × 730 / hours"
    ),
)
def fleet_high_minimum(inv: InventoryView, p: FleetMinimumParams) -> pl.LazyFrame:
    """A group that scales (target tracking, step or predictive) but sits at a minimum far
    above what its load needs: the hours at the floor priced against a lower minimum.

    Flagged: a scaling group with group metrics collection (its in-service capacity hour by
    hour), at least ``min_hours`` hours, a p95 CPU at or under the 85% alert line, no load
    balancer in front of it at alert, and hours at its minimum whose load at the 70% target
    needs fewer instances. The new minimum is the ``minimum_percentile`` of the instances
    those hours need (at least ``min_instances``): target tracking still adds capacity
    above it.

    Formula, per hour h at the floor (n_h ≤ min_size): needed_h = max(new_min,
    ceil(n_h × cpu_h / 70)); saving_h = (n_h − needed_h) × hourly price (the cheapest like
    type's where lower, as for ``rightsizing.fleet-demand-matching``). monthly_savings =
    Σ saving_h × 730 / hours observed, after existing commitments.

    Sources: the seed's 70% utilization target and AWS Auto Scaling's guidance on minimum
    capacity (https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-capacity-limits.html);
    Compute Optimizer's 30-hour minimum (https://docs.aws.amazon.com/compute-optimizer/latest/ug/requirements.html).
    """
    window = utilization_in_window(inv)
    measured = (
        window.filter((pl.col("metric") == "capacity") & (pl.col("statistic") == "average"))
        .select("resource_id", "ts")
        .unique()
    )
    hours = (
        _fleet_hours(inv)
        .join(measured, on=["resource_id", "ts"], how="semi")
        .join(
            inv.lazy("fleets").select("resource_id", pl.col("min_size").cast(pl.Float64)),
            on="resource_id",
        )
        .with_columns(
            (pl.col("n") * pl.col("cpu") / p.target_cpu_percent).ceil().alias("_load"),
            (pl.col("n") <= pl.col("min_size")).alias("_at_floor"),
        )
    )
    floors = (
        hours.filter(pl.col("_at_floor"))
        .group_by("resource_id")
        .agg(
            pl.max_horizontal(
                pl.lit(float(p.min_instances)),
                pl.col("_load").quantile(p.minimum_percentile, interpolation="higher"),
            )
            .first()
            .alias("new_min")
        )
    )
    per_hour = hours.join(floors, on="resource_id", how="inner").with_columns(
        pl.when(pl.col("_at_floor"))
        .then(
            (pl.col("n") - pl.max_horizontal(pl.col("new_min"), pl.col("_load"))).clip(
                lower_bound=0.0
            )
        )
        .otherwise(0.0)
        .alias("_surplus")
    )
    profile = per_hour.group_by("resource_id").agg(
        pl.col("ts").n_unique().alias("hours"),
        pl.col("cpu").quantile(0.95, interpolation="linear").alias("cpu_p95"),
        pl.col("_at_floor").sum().alias("hours_at_floor"),
        pl.col("new_min").first(),
        pl.col("_surplus").sum().alias("surplus_instance_hours"),
        pl.col("n").mean().alias("n_mean"),
    )
    scales = (
        pl.col("target_tracking").fill_null(False)
        | pl.col("step_scaling").fill_null(False)
        | pl.col("predictive_scaling").fill_null(False)
    )
    stack_price = pl.min_horizontal(pl.col("hourly_price"), pl.col("_like_price"))
    effective_price = stack_price * (1.0 - pl.col("spot_share").fill_null(0.0))
    before = pl.col("surplus_instance_hours") * effective_price * HOURS_PER_MONTH / pl.col("hours")
    base = (
        inv.lazy("fleets")
        .filter(scales & pl.col("hourly_price").is_not_null() & (pl.col("hourly_price") > 0))
        .join(profile, on="resource_id", how="inner")
        .filter(
            (pl.col("hours") >= p.min_hours)
            & (pl.col("cpu_p95") <= p.alert_cpu_percent)
            & (pl.col("new_min") < pl.col("min_size"))
            & (pl.col("surplus_instance_hours") > 0)
        )
        .join(_slow_groups(inv), on="resource_id", how="anti")
        .join(_like_prices(inv), on=["provider", "region", "instance_type"], how="left")
        .with_columns(before.alias("_before"))
    )
    priced = after_discounts(inv, base, pl.col("_before"))
    return findings(
        priced,
        detail=pl.format(
            "{} scales but spent {} of {} h at its minimum of {} while the load there needed "
            "as few as {} instances at {}: {} instance-hours above it.",
            pl.col("resource_name"),
            num(pl.col("hours_at_floor")),
            num(pl.col("hours")),
            num(pl.col("min_size")),
            num(pl.col("new_min")),
            pct(pl.lit(p.target_cpu_percent)),
            num(pl.col("surplus_instance_hours")),
        )
        + commitment_note(),
        recommendation=pl.format(
            "Lower {}'s MinSize from {} to {}; its scaling policy adds capacity above it.",
            pl.col("resource_name"),
            num(pl.col("min_size")),
            num(pl.col("new_min")),
        ),
        current_monthly_cost=pl.col("n_mean")
        * pl.col("hourly_price")
        * (1.0 - pl.col("spot_share").fill_null(0.0))
        * HOURS_PER_MONTH,
        **discount_columns(pl.col("_before")),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        group_key=pl.format("asg:{}", pl.col("resource_name")),
        evidence=evidence(
            hours=pl.col("hours"),
            hours_at_minimum=pl.col("hours_at_floor"),
            min_size=pl.col("min_size"),
            recommended_min_size=pl.col("new_min"),
            surplus_instance_hours=pl.col("surplus_instance_hours"),
            cpu_p95=pl.col("cpu_p95"),
            instance_type=pl.col("instance_type"),
            hourly_price=pl.col("hourly_price"),
            surplus_hourly_price=stack_price,
            spot_share=pl.col("spot_share"),
            hours_per_month=HOURS_PER_MONTH,
            discounts=discount_evidence(),
        ),
    )


# --------------------------------------------------------------------------- Fargate Spot


@dataclass(frozen=True)
class FargateSpotParams:
    # One task stays on regular Fargate (the capacity provider strategy's base), so an
    # interruption never takes the whole service down; services of one task are left alone.
    on_demand_base_tasks: int = 1
    # Interruption tolerance is the owner's call: below the confidence floor, a possible
    # saving until they say the service tolerates a two-minute warning.
    confidence: float = 0.4


@policy(
    id="commitments.fargate-spot",
    family="commitments",
    action="commit",
    title="Fargate service could run most tasks on Fargate Spot",
    needs=("services",),
    effort_hours=2.0,
    risk="high",
    performance="risk",
    change=Change.MOVE_TO_SPOT,
    formula=(
        "monthly_savings = (desired_count − base) × 730 × (cpu/1024 × (vCPU-hour − spot "
        "vCPU-hour) + memory/1024 × (GB-hour − spot GB-hour))"
    ),
)
def fargate_spot(inv: InventoryView, p: FargateSpotParams) -> pl.LazyFrame:
    """Fargate services of several tasks that use no Fargate Spot: all but a base of tasks
    could run on FARGATE_SPOT, if the service tolerates interruption.

    Flagged: a service on Fargate (launch type FARGATE, or capacity providers without
    FARGATE_SPOT) with more than ``on_demand_base_tasks`` desired tasks, x86_64 (Fargate
    Spot runs Linux x86 tasks only).

    Saving formula: monthly_savings = (desired_count − base) × 730 × (cpu / 1024 ×
    (vCPU-hour − spot vCPU-hour) + memory / 1024 × (GB-hour − spot GB-hour)). The spot
    rates are AWS's stated ceiling ("up to a 70% discount"), so the figure is the most
    it saves, and with the confidence below the floor it is counted as possible, never
    as savings.

    Sources: https://aws.amazon.com/fargate/pricing/ (Fargate Spot) and
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html
    (two-minute interruption notice, Linux x86 only); AWS Compute Optimizer and the
    Well-Architected cost pillar recommend Spot for interruption-tolerant work.
    """
    on_fargate = (pl.col("launch_type") == "FARGATE") | pl.col("capacity_providers").fill_null(
        ""
    ).str.contains("FARGATE")
    uses_spot = pl.col("capacity_providers").fill_null("").str.contains("FARGATE_SPOT")
    moved = pl.col("desired_count").cast(pl.Float64) - float(p.on_demand_base_tasks)
    task_hourly = pl.col("task_cpu_units") / 1024.0 * pl.col("price_vcpu_hour") + pl.col(
        "task_memory_mb"
    ) / 1024.0 * pl.col("price_gb_hour")
    spot_hourly = pl.col("task_cpu_units") / 1024.0 * pl.col("price_spot_vcpu_hour") + pl.col(
        "task_memory_mb"
    ) / 1024.0 * pl.col("price_spot_gb_hour")
    base = inv.lazy("services").filter(
        on_fargate
        & ~uses_spot
        & (pl.col("architecture").fill_null("X86_64") == "X86_64")
        & (moved > 0)
        & pl.col("task_cpu_units").is_not_null()
        & pl.col("task_memory_mb").is_not_null()
    )
    saving = moved * monthly(task_hourly - spot_hourly)
    return findings(
        base,
        detail=pl.format(
            "{} runs {} Fargate tasks on demand ({} a month); {} of them on Fargate Spot "
            "would cost up to {} less, if the service tolerates a two-minute interruption.",
            pl.col("resource_name"),
            num(pl.col("desired_count").cast(pl.Float64)),
            money(pl.col("desired_count").cast(pl.Float64) * monthly(task_hourly)),
            num(moved),
            money(saving),
        ),
        recommendation=pl.format(
            "Give {} a capacity provider strategy of FARGATE (base {}) and FARGATE_SPOT "
            "(weight 1) if it is stateless and handles SIGTERM.",
            pl.col("resource_name"),
            pl.lit(p.on_demand_base_tasks),
        ),
        current_monthly_cost=pl.col("desired_count").cast(pl.Float64) * monthly(task_hourly),
        monthly_savings=saving,
        category=pl.lit(Category.POSSIBLE.value),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            tasks=pl.col("desired_count"),
            tasks_on_spot=moved,
            task_hourly=task_hourly,
            task_hourly_spot=spot_hourly,
            spot_discount="up to 70% (AWS's stated ceiling)",
            price_reference=pl.col("price_reference"),
        ),
    )


# --------------------------------------------------------------------------- AWS-only advice


@dataclass(frozen=True)
class AwsAdviceParams:
    confidence: float = 0.5


@policy(
    id="rightsizing.aws-compute-optimizer",
    family="rightsizing",
    action="investigate",
    title="AWS Compute Optimizer advises a change costscan does not",
    needs=(
        "provider_advice",
        "functions",
        "fleets",
        "utilization",
        "commitments",
        "prices",
        "services",
    ),
    effort_hours=0.5,
    risk="low",
    performance="neutral",
    change=Change.INVESTIGATE,
    formula="monthly_savings = 0 (AWS Compute Optimizer's estimate is shown, not counted)",
)
def aws_compute_optimizer(inv: InventoryView, p: AwsAdviceParams) -> pl.LazyFrame:
    """Lambda functions, Auto Scaling groups and ECS services that AWS Compute Optimizer
    advises resizing and no costscan demand policy flags (run at its default parameters):
    listed for review, so a disagreement either way is visible.

    Formula: monthly_savings = 0 (a review); Compute Optimizer's estimated monthly savings
    (after discounts where it computed them) is in the evidence. Resources costscan does
    flag carry Compute Optimizer's figure in their own finding instead.

    Source: AWS Compute Optimizer
    (https://docs.aws.amazon.com/compute-optimizer/latest/ug/what-is-compute-optimizer.html).
    """
    keys = ["provider", "account_id", "resource_id"]
    flagged = pl.concat(
        [
            # arm64 is another change than Compute Optimizer's memory size: not an answer.
            lambda_memory(inv, LambdaMemoryParams()).select(keys),
            fleet_demand_matching(inv, FleetDemandParams()).select(keys),
            fleet_high_minimum(inv, FleetMinimumParams()).select(keys),
            fargate_task(inv, FargateTaskParams()).select(keys),
        ]
    ).unique()
    advice = (
        inv.lazy("provider_advice")
        .filter(
            (pl.col("provider") == "aws")
            & pl.col("recommender").is_in([CO_LAMBDA, CO_AUTO_SCALING, CO_ECS])
        )
        .join(flagged, on=keys, how="anti")
    )
    aws = pl.col("monthly_savings")
    return findings(
        advice,
        detail=pl.format(
            "AWS Compute Optimizer ({}) advises: {}{}. costscan's demand policies do not flag "
            "this resource.",
            pl.col("state").fill_null("NotOptimized"),
            pl.col("description").fill_null(pl.col("kind")),
            pl.when(aws.is_not_null())
            .then(pl.format(" (it projects {} a month)", money(aws)))
            .otherwise(pl.lit("")),
        ),
        recommendation=pl.format(
            "Review Compute Optimizer's recommendation for {} against its use; costscan counts "
            "no saving for it.",
            pl.col("resource_name"),
        ),
        current_monthly_cost=pl.lit(None, dtype=pl.Float64),
        monthly_savings=pl.lit(0.0),
        confidence=pl.lit(p.confidence),
        price_source=pl.lit("none"),
        evidence=evidence(
            provider_advice=pl.struct(
                source=pl.lit("AWS Compute Optimizer"),
                verdict=pl.lit("only_aws"),
                recommender=pl.col("recommender"),
                finding=pl.col("state"),
                recommendation=pl.col("description"),
                target=pl.col("target"),
                currency=pl.col("currency"),
            ),
            provider_advice_monthly_savings=aws,
        ),
    )
