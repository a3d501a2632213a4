"""Rightsizing: idle, over-provisioned, previous-generation, Graviton and bottlenecked VMs.

Every policy here reads the ``compute`` frame (running instances only: a stopped instance
pays no compute), the hourly ``utilization`` series and the ``prices`` catalogue, and is
provider-agnostic wherever the catalogue says what a type is (vCPUs, memory, architecture,
generation, burstable). Savings are per month against the instance's on-demand price
× 730 h, so ranking can stack them with scheduling and commitment findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

from costscan.policies._billing import daily, distinct_starts, earliest, irregular_starts
from costscan.policies._compute import (
    asg_key,
    candidate_types,
    cpu_profile,
    evidence,
    findings,
    memory_profile,
    money,
    money_in,
    monthly,
    move_key,
    network_profile,
    not_older,
    num,
    pct,
    price_evidence,
    rate,
    running_instances,
    weaker_source,
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
from costscan.scanner.contracts.vocab import Change, CloudProvider, provider_of

# Graviton moves go from this architecture to that one (schema.COMPUTE's vocabulary).
X86_64 = "x86_64"
ARM64 = "arm64"

# Accelerated and special-purpose classes (GPU, Inferentia, Trainium, FPGA, video, Mac,
# high-memory) whose value is not in vCPUs and memory: never a source or a target of a
# CPU-driven resize.
ACCELERATED_CLASSES = ("p", "g", "gr", "inf", "trn", "dl", "f", "vt", "mac", "u")


def _cheapest_per_instance(pairs: pl.LazyFrame) -> pl.LazyFrame:
    """Keep, for each instance, the candidate with the lowest price (ties by type name)."""
    return pairs.sort("cand_hourly_price", "cand_instance_type").unique(
        subset=["provider", "account_id", "region", "resource_id"],
        keep="first",
        maintain_order=True,
    )


# A move to a cheaper type (previous generation, Graviton): the price difference.
MOVE_FORMULA: Final = f"monthly_savings = (current_hourly - candidate_hourly) × {HOURS_PER_MONTH:g}"

# AWS Compute Optimizer needs at least 30 hours of metrics in the past 14 days before it
# recommends anything; with less, findings lose confidence.
# https://docs.aws.amazon.com/compute-optimizer/latest/ug/requirements.html
COMPUTE_OPTIMIZER_MIN_HOURS: Final = 30


# --------------------------------------------------------------------------- idle


@dataclass(frozen=True)
class IdleParams:
    # AWS Cost Explorer rightsizing: "Idle – If the maximum CPU utilization is at or
    # below 1%" over the last 14 days.
    # https://docs.aws.amazon.com/cost-management/latest/userguide/understanding-rr-calc.html
    max_cpu_percent: float = 1.0
    # GCP Recommender's idle-VM rule: received traffic under 2,000 B/s and sent traffic
    # under 1,000 B/s for 95% of VM runtime.
    # https://cloud.google.com/compute/docs/instances/viewing-and-applying-idle-vm-recommendations
    network_percentile: float = 0.95
    max_network_in_bytes_per_second: float = 2000.0
    max_network_out_bytes_per_second: float = 1000.0
    # AWS Compute Optimizer needs at least 30 hours of metrics in the past 14 days.
    # https://docs.aws.amazon.com/compute-optimizer/latest/ug/requirements.html
    min_hours: int = COMPUTE_OPTIMIZER_MIN_HOURS
    confidence: float = 0.9
    confidence_without_network: float = 0.7
    confidence_short_history: float = 0.4


@policy(
    id="rightsizing.idle",
    family="rightsizing",
    action="remove",
    title="Idle instance: stop or terminate",
    needs=("compute", "utilization", "prices", "commitments"),
    effort_hours=1.0,
    risk="medium",
    performance="neutral",
    change=Change.STOP_OR_TERMINATE,
    formula=f"monthly_savings = hourly_price × {HOURS_PER_MONTH:g}",
)
def idle(inv: InventoryView, p: IdleParams) -> pl.LazyFrame:
    """Running instances whose CPU never rose above 1% and whose network stayed quiet.

    Flagged: a running instance whose maximum CPU over the lookback is at or under
    ``max_cpu_percent`` and, where network data exists, whose p95 network rate is under
    ``max_network_in_bytes_per_second`` received and ``max_network_out_bytes_per_second``
    sent. Nothing runs on it, so the whole price is waste: stop it, or terminate it after
    a snapshot.

    Saving formula: monthly_savings = hourly_price × 730 (the whole on-demand price).

    Confidence drops to ``confidence_without_network`` when there is no network data
    (CPU alone says idle) and to ``confidence_short_history`` under ``min_hours`` hours
    of CPU data.

    Sources: AWS Cost Explorer rightsizing, idle = maximum CPU at or below 1% over 14 days
    (https://docs.aws.amazon.com/cost-management/latest/userguide/understanding-rr-calc.html);
    low network from GCP Recommender's idle-VM rule, under 2,000 B/s received and
    1,000 B/s sent for 95% of runtime
    (https://cloud.google.com/compute/docs/instances/viewing-and-applying-idle-vm-recommendations);
    the 30-hour minimum from AWS Compute Optimizer
    (https://docs.aws.amazon.com/compute-optimizer/latest/ug/requirements.html).
    """
    instances = running_instances(inv)
    profiled = instances.join(cpu_profile(inv), on="resource_id", how="inner").join(
        network_profile(inv, p.network_percentile), on="resource_id", how="left"
    )
    in_rate = pl.col("network_in_bytes_per_second")
    out_rate = pl.col("network_out_bytes_per_second")
    network_known = in_rate.is_not_null() | out_rate.is_not_null()
    quiet = (in_rate.is_null() | (in_rate < p.max_network_in_bytes_per_second)) & (
        out_rate.is_null() | (out_rate < p.max_network_out_bytes_per_second)
    )
    flagged = profiled.filter(
        (pl.col("cpu_max") <= p.max_cpu_percent) & (~network_known | quiet)
    ).with_columns(network_known.alias("_network_known"))
    saving = monthly(pl.col("hourly_price"))
    flagged = after_discounts(inv, flagged, saving)
    network_text = (
        pl.when(pl.col("_network_known"))
        .then(
            pl.format(
                "; network p95 {} B/s in, {} B/s out",
                num(in_rate.round(0)),
                num(out_rate.round(0)),
            )
        )
        .otherwise(pl.lit("; no network data"))
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} ({}) peaked at {} CPU over {} h of data{}; it costs {} a month.{}",
            pl.col("resource_id"),
            pl.col("instance_type"),
            pct(pl.col("cpu_max")),
            num(pl.col("cpu_hours")),
            network_text,
            money(saving),
            commitment_note(),
        ),
        recommendation=pl.format(
            "Stop {} or terminate it (snapshot its volumes first if the data matters).",
            pl.col("resource_id"),
        ),
        current_monthly_cost=saving,
        **discount_columns(before=monthly(pl.col("list_hourly_price"))),
        group_key=asg_key(),
        confidence=pl.when(pl.col("cpu_hours") < p.min_hours)
        .then(pl.lit(p.confidence_short_history))
        .when(~pl.col("_network_known"))
        .then(pl.lit(p.confidence_without_network))
        .otherwise(pl.lit(p.confidence)),
        price_source=pl.col("price_source"),
        evidence=evidence(
            hours_per_month=HOURS_PER_MONTH,
            price=price_evidence(
                pl.col("instance_type"), pl.col("hourly_price"), pl.col("price_source")
            ),
            discounts=discount_evidence(),
            cpu=pl.struct(
                max_percent=pl.col("cpu_max"),
                hours=pl.col("cpu_hours"),
                lookback_days=pl.lit(inv.context.lookback_days),
            ),
            network=pl.struct(
                percentile=pl.lit(p.network_percentile),
                in_bytes_per_second=in_rate,
                out_bytes_per_second=out_rate,
                in_bytes_total=pl.col("network_in_bytes"),
                out_bytes_total=pl.col("network_out_bytes"),
            ),
            thresholds=pl.struct(
                max_cpu_percent=pl.lit(p.max_cpu_percent),
                max_network_in_bytes_per_second=pl.lit(p.max_network_in_bytes_per_second),
                max_network_out_bytes_per_second=pl.lit(p.max_network_out_bytes_per_second),
                min_hours=pl.lit(p.min_hours),
            ),
        ),
    )


# --------------------------------------------------------------------------- over-provisioned


@dataclass(frozen=True)
class OverprovisionedParams:
    # The normal-range line: projected p99 CPU on the smaller type stays at or under 70%,
    # i.e. 30% headroom, one of AWS Compute Optimizer's CPU headroom settings (30/20/0%).
    # https://docs.aws.amazon.com/compute-optimizer/latest/ug/rightsizing-preferences.html
    target_cpu_p99_percent: float = 70.0
    # Compute Optimizer's default memory headroom is 20%: projected p99 memory <= 80%.
    # https://docs.aws.amazon.com/compute-optimizer/latest/APIReference/API_UtilizationPreference.html
    target_memory_p99_percent: float = 80.0
    # Without memory data, AWS Cost Explorer and Compute Optimizer still recommend from CPU
    # (memory counts only where the CloudWatch agent reports it:
    # https://docs.aws.amazon.com/compute-optimizer/latest/APIReference/API_RecommendedOptionProjectedMetric.html,
    # https://docs.aws.amazon.com/cost-management/latest/userguide/understanding-rr-calc.html).
    # costscan follows them, more carefully: the new type keeps at least half the memory
    # (one size step), the confidence drops and the text says to check memory first.
    memory_floor_without_data: float = 0.5
    # Compute Optimizer needs at least 30 hours of metrics in the past 14 days.
    # https://docs.aws.amazon.com/compute-optimizer/latest/ug/requirements.html
    min_hours: int = COMPUTE_OPTIMIZER_MIN_HOURS
    confidence: float = 0.85
    confidence_without_memory: float = 0.6
    confidence_short_history: float = 0.3


@policy(
    id="rightsizing.overprovisioned",
    family="rightsizing",
    action="resize",
    title="Over-provisioned instance: move to a smaller type",
    needs=("compute", "utilization", "prices", "commitments"),
    effort_hours=2.0,
    risk="medium",
    performance="neutral",
    change=Change.RIGHTSIZE_INSTANCE,
    formula=(
        f"monthly_savings = (current_hourly - candidate_hourly) × {HOURS_PER_MONTH:g}; "
        "projected_cpu_p99 = cpu_p99 × current_vcpus / candidate_vcpus"
    ),
)
def overprovisioned(inv: InventoryView, p: OverprovisionedParams) -> pl.LazyFrame:
    """Running instances whose load fits a cheaper, smaller type with headroom to spare.

    Flagged: a running instance for which a cheaper type exists in the same region with
    the same architecture (burstable only if the current one is; current generation or
    the same family; with instance storage if the current has it; never a GPU/accelerator
    class) that keeps

    - projected p99 CPU = p99 CPU × current vCPUs / candidate vCPUs at or under
      ``target_cpu_p99_percent``, and
    - with memory data: projected p99 memory = p99 memory × current GiB / candidate GiB
      at or under ``target_memory_p99_percent`` (so the candidate always holds what is
      used); without memory data: candidate GiB >= current GiB ×
      ``memory_floor_without_data``, at ``confidence_without_memory``,

    and that is actually smaller (fewer vCPUs or, with memory data, less memory). The
    cheapest such type is recommended.

    Saving formula: monthly_savings = (current hourly − candidate hourly) × 730.

    Under ``min_hours`` hours of CPU data the finding stays, at
    ``confidence_short_history``.

    Sources: 30% CPU headroom (the 70% line) and the 20% default memory headroom are
    AWS Compute Optimizer's rightsizing preferences
    (https://docs.aws.amazon.com/compute-optimizer/latest/ug/rightsizing-preferences.html,
    https://docs.aws.amazon.com/compute-optimizer/latest/APIReference/API_UtilizationPreference.html);
    the 30-hour minimum is Compute Optimizer's requirement
    (https://docs.aws.amazon.com/compute-optimizer/latest/ug/requirements.html).
    """
    profiled = (
        running_instances(inv)
        .filter(
            pl.col("vcpus").is_not_null()
            & pl.col("memory_gib").is_not_null()
            & pl.col("architecture").is_not_null()
            & ~pl.col("instance_class").is_in(ACCELERATED_CLASSES)
        )
        .join(cpu_profile(inv), on="resource_id", how="inner")
        .join(memory_profile(inv), on="resource_id", how="left")
        .filter(pl.col("cpu_p99").is_not_null())
        .with_columns(
            pl.col("memory_p99").is_not_null().alias("_memory_known"),
            (pl.col("memory_p99") / 100.0 * pl.col("memory_gib")).alias("_memory_used_gib"),
        )
    )
    projected_cpu = pl.col("cpu_p99") * pl.col("vcpus") / pl.col("cand_vcpus")
    projected_memory = pl.col("_memory_used_gib") / pl.col("cand_memory_gib") * 100.0
    memory_fits = (
        pl.when(pl.col("_memory_known"))
        .then(projected_memory <= p.target_memory_p99_percent)
        .otherwise(pl.col("cand_memory_gib") >= pl.col("memory_gib") * p.memory_floor_without_data)
    )
    smaller = (pl.col("cand_vcpus") < pl.col("vcpus")) | (
        pl.col("_memory_known") & (pl.col("cand_memory_gib") < pl.col("memory_gib"))
    )
    # Equal keys in the join, inequalities after it, so each instance meets only the
    # types of its own region and architecture.
    pairs = profiled.join(
        candidate_types(inv),
        left_on=["provider", "region", "architecture"],
        right_on=["provider", "region", "cand_architecture"],
        how="inner",
        coalesce=False,
    ).filter(
        (pl.col("cand_instance_type") != pl.col("instance_type"))
        & (pl.col("cand_hourly_price") < pl.col("hourly_price"))
        & (~pl.col("cand_burstable") | pl.col("burstable"))
        & (pl.col("cand_current_generation") | (pl.col("cand_family") == pl.col("family")))
        & not_older(pl.col("cand_generation"), pl.col("generation"))
        & (~pl.col("local_disk") | pl.col("cand_local_disk"))
        & ~pl.col("cand_instance_class").is_in(ACCELERATED_CLASSES)
        & pl.col("cand_vcpus").is_not_null()
        & pl.col("cand_memory_gib").is_not_null()
        & (projected_cpu <= p.target_cpu_p99_percent)
        & memory_fits
        & smaller
    )
    current = monthly(pl.col("hourly_price"))
    saving = monthly(pl.col("hourly_price") - pl.col("cand_hourly_price"))
    best = after_discounts(
        inv,
        _cheapest_per_instance(pairs).with_columns(
            projected_cpu.alias("_projected_cpu"),
            projected_memory.alias("_projected_memory"),
        ),
        saving,
        current_cost=current,
        target_type=pl.col("cand_instance_type"),
    )
    memory_text = (
        pl.when(pl.col("_memory_known"))
        .then(
            pl.format(
                ", p99 memory {} of {} GiB -> {} of {} GiB",
                pct(pl.col("memory_p99")),
                num(pl.col("memory_gib")),
                pct(pl.col("_projected_memory")),
                num(pl.col("cand_memory_gib")),
            )
        )
        .otherwise(
            pl.format(
                ", no memory data: {} GiB -> {} GiB, confirm memory use first (CPU-only "
                "sizing, as AWS Cost Explorer's)",
                num(pl.col("memory_gib")),
                num(pl.col("cand_memory_gib")),
            )
        )
    )
    return findings(
        best,
        detail=pl.format(
            "{} ({}, {} vCPU, {} GiB) p99 CPU {} -> {} on {} ({} vCPU){}; over {} h.{}",
            pl.col("resource_id"),
            pl.col("instance_type"),
            num(pl.col("vcpus")),
            num(pl.col("memory_gib")),
            pct(pl.col("cpu_p99")),
            pct(pl.col("_projected_cpu")),
            pl.col("cand_instance_type"),
            num(pl.col("cand_vcpus")),
            memory_text,
            num(pl.col("cpu_hours")),
            commitment_note(),
        ),
        recommendation=pl.format(
            "Resize {} from {} ({}) to {} ({}); saves {} a month.",
            pl.col("resource_id"),
            pl.col("instance_type"),
            rate(pl.col("hourly_price")),
            pl.col("cand_instance_type"),
            rate(pl.col("cand_hourly_price")),
            money(saving),
        ),
        current_monthly_cost=current,
        **discount_columns(
            before=monthly(pl.col("list_hourly_price") - pl.col("cand_hourly_price"))
        ),
        group_key=move_key(pl.col("cand_instance_type")),
        confidence=pl.when(pl.col("cpu_hours") < p.min_hours)
        .then(pl.lit(p.confidence_short_history))
        .when(~pl.col("_memory_known"))
        .then(pl.lit(p.confidence_without_memory))
        .otherwise(pl.lit(p.confidence)),
        price_source=weaker_source(pl.col("price_source"), pl.col("cand_source")),
        evidence=evidence(
            hours_per_month=HOURS_PER_MONTH,
            current=price_evidence(
                pl.col("instance_type"), pl.col("hourly_price"), pl.col("price_source")
            ),
            candidate=price_evidence(
                pl.col("cand_instance_type"), pl.col("cand_hourly_price"), pl.col("cand_source")
            ),
            cpu=pl.struct(
                p99_percent=pl.col("cpu_p99"),
                p95_percent=pl.col("cpu_p95"),
                max_percent=pl.col("cpu_max"),
                statistic=pl.col("cpu_statistic"),
                hours=pl.col("cpu_hours"),
                current_vcpus=pl.col("vcpus"),
                candidate_vcpus=pl.col("cand_vcpus"),
                projected_p99_percent=pl.col("_projected_cpu"),
            ),
            memory=pl.struct(
                data=pl.col("_memory_known"),
                p99_percent=pl.col("memory_p99"),
                used_gib=pl.col("_memory_used_gib"),
                hours=pl.col("memory_hours"),
                current_gib=pl.col("memory_gib"),
                candidate_gib=pl.col("cand_memory_gib"),
                projected_p99_percent=pl.col("_projected_memory"),
            ),
            thresholds=pl.struct(
                target_cpu_p99_percent=pl.lit(p.target_cpu_p99_percent),
                target_memory_p99_percent=pl.lit(p.target_memory_p99_percent),
                memory_floor_without_data=pl.lit(p.memory_floor_without_data),
                min_hours=pl.lit(p.min_hours),
            ),
        ),
    )


# --------------------------------------------------------------------------- previous generation


@dataclass(frozen=True)
class PreviousGenerationParams:
    # Stay in the same instance class (m -> m, c -> c, r -> r), so the workload's shape
    # (general purpose, compute, memory optimised) does not change with the generation.
    same_class: bool = True
    confidence: float = 0.8


@policy(
    id="rightsizing.previous-generation",
    family="rightsizing",
    action="resize",
    title="Previous-generation instance: move to current generation",
    needs=("compute", "prices", "commitments"),
    effort_hours=2.0,
    risk="low",
    performance="improves",
    change=Change.UPGRADE_INSTANCE,
    formula=MOVE_FORMULA,
)
def previous_generation(inv: InventoryView, p: PreviousGenerationParams) -> pl.LazyFrame:
    """Running instances of a previous-generation type with a cheaper current one.

    Flagged: a running instance whose type the catalogue marks as previous generation
    (m4, c4, r4, t2 ...) when a current-generation type in the same region has the same
    vCPUs, at least the same memory, the same architecture, burstable only if the
    current one is, instance storage if the current has it, the same class when
    ``same_class`` (m4.xlarge -> m5.xlarge or m6i.xlarge), and a lower price. The cheapest
    is recommended; newer generations run faster per vCPU, so performance improves.

    Saving formula: monthly_savings = (current hourly − candidate hourly) × 730, only when
    positive.

    Source: AWS lists which families are previous generation and recommends moving to
    current ones for better price-performance
    (https://aws.amazon.com/ec2/previous-generation/); AWS Compute Optimizer flags the
    same move for "Optimized" instances on older generations
    (https://docs.aws.amazon.com/compute-optimizer/latest/ug/view-ec2-recommendations.html).
    """
    instances = running_instances(inv).filter(
        ~pl.col("current_generation") & pl.col("vcpus").is_not_null()
    )
    same_class = (
        pl.col("cand_instance_class") == pl.col("instance_class") if p.same_class else pl.lit(True)
    )
    current = candidate_types(inv).filter(pl.col("cand_current_generation"))
    pairs = instances.join(
        current,
        left_on=["provider", "region", "architecture", "vcpus"],
        right_on=["provider", "region", "cand_architecture", "cand_vcpus"],
        how="inner",
        coalesce=False,
    ).filter(
        (pl.col("cand_memory_gib") >= pl.col("memory_gib"))
        & (~pl.col("cand_burstable") | pl.col("burstable"))
        & (~pl.col("local_disk") | pl.col("cand_local_disk"))
        & (pl.col("cand_hourly_price") < pl.col("hourly_price"))
        # A "newer generation" move goes to a newer generation: never m6i -> m5a.
        & (pl.col("cand_generation") > pl.col("generation"))
        & same_class
    )
    best = _cheapest_per_instance(pairs)
    return _resize_findings(
        inv,
        best,
        confidence=p.confidence,
        detail=pl.format(
            "{} runs {}, a previous-generation type; {} has the same {} vCPU and {} GiB "
            "(>= {} GiB) at {} instead of {}.",
            pl.col("resource_id"),
            pl.col("instance_type"),
            pl.col("cand_instance_type"),
            num(pl.col("cand_vcpus")),
            num(pl.col("cand_memory_gib")),
            num(pl.col("memory_gib")),
            rate(pl.col("cand_hourly_price")),
            rate(pl.col("hourly_price")),
        ),
        move="current generation",
    )


# --------------------------------------------------------------------------- graviton


@dataclass(frozen=True)
class GravitonParams:
    confidence: float = 0.6


@policy(
    id="rightsizing.graviton",
    family="rightsizing",
    action="resize",
    title="x86 instance with a cheaper Graviton (arm64) equivalent",
    needs=("compute", "prices", "commitments"),
    effort_hours=8.0,
    risk="medium",
    performance="neutral",
    change=Change.MIGRATE_TO_GRAVITON,
    formula=MOVE_FORMULA,
)
def graviton(inv: InventoryView, p: GravitonParams) -> pl.LazyFrame:
    """Running x86_64 instances whose class has a cheaper arm64 (Graviton) type.

    Flagged: a running x86_64 instance when a current-generation arm64 type in the same
    region and the same class (m5/m6i -> m6g/m7g, c5 -> c6g, r5 -> r6g, t3 -> t4g) has
    the same vCPUs, at least the same memory, the same burstable-ness, instance storage
    if the current has it, and a lower price. The cheapest is recommended. Risk is
    medium: the software must have arm64 builds and be tested on them.

    Saving formula: monthly_savings = (current hourly − Graviton hourly) × 730, only
    when positive.

    Source: AWS's Graviton instances and their price-performance claim
    (https://aws.amazon.com/ec2/graviton/), and the Graviton getting-started guide on
    what to check before moving (https://github.com/aws/aws-graviton-getting-started);
    AWS Compute Optimizer recommends the same moves when asked for ``AWS_ARM64`` in its
    ``cpuVendorArchitectures`` preference
    (https://docs.aws.amazon.com/compute-optimizer/latest/APIReference/API_RecommendationPreferences.html).
    """
    # Graviton is EC2's; Compute Engine's Arm series have their twin, rightsizing.gcp-arm.
    best = _cheapest_per_instance(_arm_pairs(inv, CloudProvider.AWS))
    return _resize_findings(
        inv,
        best,
        confidence=p.confidence,
        detail=pl.format(
            "{} runs {} (x86_64); {} is its arm64 Graviton equivalent with {} vCPU and {} GiB "
            "at {} instead of {}; the software needs arm64 builds.",
            pl.col("resource_id"),
            pl.col("instance_type"),
            pl.col("cand_instance_type"),
            num(pl.col("cand_vcpus")),
            num(pl.col("cand_memory_gib")),
            rate(pl.col("cand_hourly_price")),
            rate(pl.col("hourly_price")),
        ),
        move="Graviton (arm64)",
    )


def _arm_pairs(inv: InventoryView, provider: CloudProvider) -> pl.LazyFrame:
    """Running x86_64 instances of ``provider`` with each cheaper current-generation arm64
    type of the same class (shape on GCP), vCPUs, burstable-ness and local disk, at least
    the memory, in the same region, not an older generation."""
    instances = running_instances(inv).filter(
        (pl.col("provider") == provider)
        & (pl.col("architecture") == X86_64)
        & pl.col("vcpus").is_not_null()
    )
    arm = candidate_types(inv).filter(
        (pl.col("cand_architecture") == ARM64) & pl.col("cand_current_generation")
    )
    return instances.join(
        arm,
        left_on=["provider", "region", "instance_class", "vcpus"],
        right_on=["provider", "region", "cand_instance_class", "cand_vcpus"],
        how="inner",
        coalesce=False,
    ).filter(
        (pl.col("cand_memory_gib") >= pl.col("memory_gib"))
        & (pl.col("cand_burstable") == pl.col("burstable"))
        & (~pl.col("local_disk") | pl.col("cand_local_disk"))
        & not_older(pl.col("cand_generation"), pl.col("generation"))
        & (pl.col("cand_hourly_price") < pl.col("hourly_price"))
    )


@dataclass(frozen=True)
class GcpArmParams:
    confidence: float = 0.6


@policy(
    id="rightsizing.gcp-arm",
    family="rightsizing",
    action="resize",
    title="x86 VM with a cheaper Arm (T2A, C4A) machine type",
    needs=("compute", "prices", "commitments"),
    effort_hours=8.0,
    risk="medium",
    performance="neutral",
    change=Change.MIGRATE_TO_GRAVITON,
    formula=MOVE_FORMULA,
)
def gcp_arm(inv: InventoryView, p: GcpArmParams) -> pl.LazyFrame:
    """Running x86_64 Compute Engine VMs whose shape has a cheaper Arm machine type: the
    twin of rightsizing.graviton.

    Flagged: a running x86_64 VM when a current Arm (arm64) type of the same shape
    (n2-standard-8 -> t2a-standard-8, c4a-standard-8), the same vCPUs and at least the
    memory is priced lower in its region; the cheapest is recommended. The Arm series are
    T2A (Ampere Altra) and C4A (Google Axion); only those priced in the region (bundled
    T2A in us-central1, europe-west4 and asia-southeast1, or live prices) are candidates.
    Risk is medium: the software must have arm64 builds and an Arm boot image. A move
    leaves N1/N2 sustained-use discounts and the current series' commitments, and the
    saving is counted after them (policies/_discounts.py).

    Saving formula: monthly_savings = (current hourly − Arm hourly) × 730, only when
    positive.

    Source: Arm VMs on Compute Engine (https://cloud.google.com/compute/docs/instances/
    arm-on-compute) and their prices (https://cloud.google.com/compute/vm-instance-pricing);
    Google's Recommender has no cross-architecture advice, so AWS Compute Optimizer's
    ``AWS_ARM64`` preference is the pattern.
    """
    best = _cheapest_per_instance(_arm_pairs(inv, CloudProvider.GCP))
    return _resize_findings(
        inv,
        best,
        confidence=p.confidence,
        detail=pl.format(
            "{} runs {} (x86_64); {} is its Arm equivalent with {} vCPU and {} GiB at {} "
            "instead of {}; the software needs arm64 builds and an Arm boot image.",
            pl.col("resource_id"),
            pl.col("instance_type"),
            pl.col("cand_instance_type"),
            num(pl.col("cand_vcpus")),
            num(pl.col("cand_memory_gib")),
            rate(pl.col("cand_hourly_price")),
            rate(pl.col("hourly_price")),
        ),
        move="Arm (arm64)",
    )


# A move across families (m4 -> m6i, m5 -> m6g) is sized vCPU for vCPU: costscan assumes no
# per-core speed-up (AWS quotes 10-40% better price-performance per generation and for
# Graviton, https://aws.amazon.com/ec2/graviton/, but per-core speed depends on the
# workload), so the projected load is the current one, and the evidence says so.
PER_CORE_PERFORMANCE_FACTOR: Final = 1.0


def _resize_findings(
    inv: InventoryView, best: pl.LazyFrame, *, confidence: float, detail: pl.Expr, move: str
) -> pl.LazyFrame:
    """Findings for a same-size move to ``cand_instance_type`` (previous-gen, Graviton)."""
    saving = monthly(pl.col("hourly_price") - pl.col("cand_hourly_price"))
    best = after_discounts(
        inv,
        best,
        saving,
        current_cost=monthly(pl.col("hourly_price")),
        target_type=pl.col("cand_instance_type"),
    )
    return findings(
        best,
        detail=pl.concat_str([detail, commitment_note()]),
        recommendation=pl.format(
            "Move {} from {} to {} ({}); saves {} a month.",
            pl.col("resource_id"),
            pl.col("instance_type"),
            pl.col("cand_instance_type"),
            pl.lit(move),
            money(saving),
        ),
        current_monthly_cost=monthly(pl.col("hourly_price")),
        **discount_columns(
            before=monthly(pl.col("list_hourly_price") - pl.col("cand_hourly_price"))
        ),
        group_key=move_key(pl.col("cand_instance_type")),
        confidence=pl.lit(confidence),
        price_source=weaker_source(pl.col("price_source"), pl.col("cand_source")),
        evidence=evidence(
            hours_per_month=HOURS_PER_MONTH,
            discounts=discount_evidence(),
            current=price_evidence(
                pl.col("instance_type"), pl.col("hourly_price"), pl.col("price_source")
            ),
            candidate=price_evidence(
                pl.col("cand_instance_type"), pl.col("cand_hourly_price"), pl.col("cand_source")
            ),
            shape=pl.struct(
                vcpus=pl.col("vcpus"),
                memory_gib=pl.col("memory_gib"),
                candidate_memory_gib=pl.col("cand_memory_gib"),
                architecture=pl.col("architecture"),
                candidate_architecture=pl.col("cand_architecture"),
                current_generation=pl.col("current_generation"),
                generation=pl.col("generation"),
                candidate_generation=pl.col("cand_generation"),
                per_core_performance_factor=pl.lit(PER_CORE_PERFORMANCE_FACTOR),
            ),
        ),
    )


# --------------------------------------------------------------------------- under-provisioned


@dataclass(frozen=True)
class UnderprovisionedParams:
    # The alert line: p95 CPU over 85%. AWS Compute Optimizer's default 20% CPU headroom
    # treats sustained use above ~80% of capacity as under-provisioned; 85% at p95 is
    # the same idea with room for the hourly averaging.
    # https://docs.aws.amazon.com/compute-optimizer/latest/ug/rightsizing-preferences.html
    alert_cpu_p95_percent: float = 85.0
    # Compute Optimizer needs at least 30 hours of metrics in the past 14 days.
    min_hours: int = COMPUTE_OPTIMIZER_MIN_HOURS
    confidence: float = 0.8
    confidence_short_history: float = 0.4


@policy(
    id="rightsizing.underprovisioned",
    family="rightsizing",
    action="bottleneck",
    title="Under-provisioned instance: CPU above the alert line",
    needs=("compute", "utilization", "prices"),
    effort_hours=2.0,
    risk="low",
    performance="improves",
    change=Change.ADD_CAPACITY,
    formula=(
        f"added_monthly_cost = (next_size_hourly - current_hourly) × {HOURS_PER_MONTH:g};"
        " monthly_savings = 0 (a bottleneck never counts as a saving)"
    ),
)
def underprovisioned(inv: InventoryView, p: UnderprovisionedParams) -> pl.LazyFrame:
    """Running instances whose p95 CPU is above the alert line: a bottleneck, not a saving.

    Flagged: a running instance whose p95 hourly CPU over the lookback is above
    ``alert_cpu_p95_percent``. The fix is the next size up in the same family (the
    smallest type of that family with more vCPUs, cheapest first); its extra cost is
    reported, never counted as a saving.

    Cost formula: added_monthly_cost = (next size hourly − current hourly) × 730;
    monthly_savings = 0. When the catalogue has no larger size in the family, the
    finding stays with no added cost and says so.

    Source: the 85% alert line follows AWS Compute Optimizer's default 20% CPU headroom,
    under which sustained use above ~80% of capacity is under-provisioned
    (https://docs.aws.amazon.com/compute-optimizer/latest/ug/rightsizing-preferences.html,
    finding classes in
    https://docs.aws.amazon.com/compute-optimizer/latest/APIReference/API_InstanceRecommendation.html);
    the 30-hour minimum is Compute Optimizer's
    (https://docs.aws.amazon.com/compute-optimizer/latest/ug/requirements.html).
    """
    hot = (
        running_instances(inv)
        .join(cpu_profile(inv), on="resource_id", how="inner")
        .filter(pl.col("cpu_p95") > p.alert_cpu_p95_percent)
    )
    larger = (
        hot.join(
            candidate_types(inv),
            left_on=["provider", "region", "family"],
            right_on=["provider", "region", "cand_family"],
            how="inner",
            coalesce=False,
        )
        .filter(
            (pl.col("cand_vcpus") > pl.col("vcpus")) & pl.col("cand_hourly_price").is_not_null()
        )
        .sort("cand_vcpus", "cand_hourly_price", "cand_instance_type")
        .unique(
            subset=["provider", "account_id", "region", "resource_id"],
            keep="first",
            maintain_order=True,
        )
        .select(
            "resource_id",
            "cand_instance_type",
            "cand_vcpus",
            "cand_memory_gib",
            "cand_hourly_price",
            "cand_source",
        )
    )
    joined = hot.join(larger, on="resource_id", how="left")
    added = monthly(pl.col("cand_hourly_price") - pl.col("hourly_price"))
    has_next = pl.col("cand_instance_type").is_not_null()
    return findings(
        joined,
        detail=pl.format(
            "{} ({}, {} vCPU) p95 CPU {} (p99 {}, max {}) over {} h, above the {} alert line.",
            pl.col("resource_id"),
            pl.col("instance_type"),
            num(pl.col("vcpus")),
            pct(pl.col("cpu_p95")),
            pct(pl.col("cpu_p99")),
            pct(pl.col("cpu_max")),
            num(pl.col("cpu_hours")),
            pct(pl.lit(p.alert_cpu_p95_percent)),
        ),
        recommendation=pl.when(has_next)
        .then(
            pl.format(
                "Move {} up to {} ({} vCPU, {}); it adds {} a month.",
                pl.col("resource_id"),
                pl.col("cand_instance_type"),
                num(pl.col("cand_vcpus")),
                rate(pl.col("cand_hourly_price")),
                money(added),
            )
        )
        .otherwise(
            pl.format(
                "No larger {} size is priced in {}; scale out or move {} to a larger family.",
                pl.col("family"),
                pl.col("region"),
                pl.col("resource_id"),
            )
        ),
        current_monthly_cost=monthly(pl.col("hourly_price")),
        monthly_savings=pl.lit(0.0),
        added_monthly_cost=added,
        # The load per vCPU the next size takes off (16 vCPU from 8: half), what ranking
        # weighs per added dollar among investments.
        performance_gain=(1.0 - pl.col("vcpus") / pl.col("cand_vcpus")).clip(lower_bound=0.0),
        confidence=pl.when(pl.col("cpu_hours") < p.min_hours)
        .then(pl.lit(p.confidence_short_history))
        .otherwise(pl.lit(p.confidence)),
        price_source=pl.when(has_next)
        .then(weaker_source(pl.col("price_source"), pl.col("cand_source")))
        .otherwise(pl.col("price_source")),
        evidence=evidence(
            hours_per_month=HOURS_PER_MONTH,
            current=price_evidence(
                pl.col("instance_type"), pl.col("hourly_price"), pl.col("price_source")
            ),
            next_size=price_evidence(
                pl.col("cand_instance_type"), pl.col("cand_hourly_price"), pl.col("cand_source")
            ),
            cpu=pl.struct(
                p95_percent=pl.col("cpu_p95"),
                p99_percent=pl.col("cpu_p99"),
                max_percent=pl.col("cpu_max"),
                statistic=pl.col("cpu_statistic"),
                hours=pl.col("cpu_hours"),
                vcpus=pl.col("vcpus"),
                next_size_vcpus=pl.col("cand_vcpus"),
            ),
            thresholds=pl.struct(
                alert_cpu_p95_percent=pl.lit(p.alert_cpu_p95_percent),
                min_hours=pl.lit(p.min_hours),
            ),
        ),
    )


# --------------------------------------------------------------------------- billing idle


def cents_down(amount: pl.Expr) -> pl.Expr:
    """``amount`` rounded down to the cent: a saving is never rounded up."""
    return (amount * 100).floor() / 100


# Units whose quantity says only how long a resource existed (an hourly fee) or how much it
# held (storage per month), never whether anything used it: a quiet NAT gateway still bills
# 1 "Hrs" an hour and a 1 GB volume bills 0.0014 "GB-Mo" an hour. Rows in these units count
# towards "billed every hour" but not towards usage. Matched case-insensitively on the whole
# unit, after FOCUS's "Unit Format" (https://focus.finops.org/focus-specification/, appendix
# "Unit Format") and the units AWS, GCP and Azure exports write (Hrs, Hours, GB-Mo,
# GibibyteMonth, "1 Hour", "10 GB/Month").
TIME_UNIT_PATTERN = r"^(\d+\s*)?(h|hr|hrs|hour|hours|day|days|month|months|mo|second|seconds|s)$"
CAPACITY_UNIT_PATTERN = (
    r"^(\d+\s*)?(b|byte|bytes|kb|mb|gb|tb|pb|kib|mib|gib|tib|pib|"
    r"kilobyte|megabyte|gigabyte|terabyte|kibibyte|mebibyte|gibibyte|tebibyte)s?"
    r"\s*[-/ ]?\s*(h|hr|hrs|hour|hours|day|days|mo|mos|month|months)$"
)
# Data moved, with no time in the unit (GB, GiB, TB): transfer lines. CUR writes a
# resource's transfer as one line over the whole month, so its charge period says nothing
# about the hours the resource ran; billed hours come from the resource's other lines.
TRANSFER_UNIT_PATTERN = (
    r"^(\d+\s*)?(b|byte|bytes|kb|mb|gb|tb|pb|kib|mib|gib|tib|pib|"
    r"kilobyte|megabyte|gigabyte|terabyte|kibibyte|mebibyte|gibibyte|tebibyte)s?$"
)
USAGE_CHARGE_CATEGORY = "Usage"
# FOCUS PricingCategory of usage a commitment discount pays for.
COMMITTED_PRICING = "Committed"


@dataclass(frozen=True)
class BillingIdleParams:
    # "Billed every hour": the resource's charge periods cover at least this share of the
    # hours the export's resource usage spans. 95% leaves room for an hour or two of late
    # or missing line items, as AWS Cost Explorer's 95% coverage line does for steady use.
    min_billed_hour_share: float = 0.95
    # Near-zero use: usage-metered quantity (ConsumedQuantity, else PricingQuantity) per
    # billed hour under this. 0.01 a unit an hour is about 7 requests, queries or GB a
    # month: nothing is using it. AWS Trusted Advisor's "Idle Load Balancers" check uses a
    # looser line, under 100 requests a day (~4.2 an hour); set 4.2 to match it.
    # https://docs.aws.amazon.com/awssupport/latest/user/cost-optimization-checks.html
    max_quantity_per_hour: float = 0.01
    # A day of billing says little about "every hour"; below this many hours, no finding.
    min_period_hours: int = 72
    confidence: float = 0.7


def _hours(delta: pl.Expr) -> pl.Expr:
    return delta.dt.total_microseconds() / 3_600_000_000.0


@policy(
    id="rightsizing.billing-idle",
    family="rightsizing",
    action="remove",
    title="Idle resource: billed every hour, used next to nothing",
    needs=("billing",),
    effort_hours=1.0,
    risk="medium",
    performance="neutral",
    change=Change.STOP_OR_TERMINATE,
    formula=(
        f"monthly_savings = billed cost / billed hours × {HOURS_PER_MONTH:g} "
        "(EffectiveCost, else BilledCost, over Usage rows)"
    ),
)
def billing_idle(inv: InventoryView, p: BillingIdleParams) -> pl.LazyFrame:
    """Resources billed nearly every hour of the billing export with near-zero usage.

    Read from the ``billing`` frame (FOCUS line items), ``Usage`` rows only
    (ChargeCategory = Usage; purchases, taxes, credits and adjustments say nothing about
    use) that carry a ResourceId. For each resource:

    - billed hours = distinct ChargePeriodStart values × the longest charge period (1 h
      in hourly exports, 24 h in daily ones), capped at the export's span;
    - billed-hour share = billed hours / the hours between the earliest ChargePeriodStart
      and the latest ChargePeriodEnd of any resource's usage in the export;
    - usage = ConsumedQuantity (PricingQuantity where it is null) summed over its
      usage-metered rows, per billed hour.

    Usage-metered rows are those whose unit (ConsumedUnit, else PricingUnit) is neither a
    pure time unit (Hrs, Hours, "1 Hour", days, months) nor storage held over time (GB-Mo,
    GiB-Hours, GibibyteMonth): those quantities measure that the resource exists, not that
    it is used. Requests, queries, GB transferred or processed, LCU-Hrs, tokens and the
    like count. A resource with no usage-metered row at all is not judged (a VM billed only
    by the hour is ``rightsizing.idle``'s, from its CPU), and neither is one seen for less
    than ``min_period_hours``.

    Billed hours come from the resource's own usage lines, never from data-transfer lines
    (a unit of data with no time in it: GB, GiB, TB): CUR writes a resource's transfer as
    one line over the whole month, which says nothing about the hours the resource ran, so
    a resource whose only lines are transfer is never judged. The saving is rounded down
    to the cent, never up, and a resource saving less than a cent a month is no finding.

    Flagged: billed-hour share at or above ``min_billed_hour_share`` and usage per billed
    hour under ``max_quantity_per_hour``.

    Saving formula: current_monthly_cost = (sum of EffectiveCost, or BilledCost where
    EffectiveCost is null, over its Usage rows) / billed hours × 730: removing it stops
    the whole charge, except what a commitment pays for (FOCUS PricingCategory
    "Committed"), which stays on the bill until the commitment ends: monthly_savings =
    current × (1 − committed share), the rest deferred. price_source is "billing".

    Sources: AWS Trusted Advisor's idle-resource checks (idle load balancers: under 100
    requests a day over 7 days; https://docs.aws.amazon.com/awssupport/latest/user/cost-optimization-checks.html);
    the FOCUS columns and units (https://focus.finops.org/focus-specification/); 730 hours
    a month as in AWS pricing (https://calculator.aws/).
    """
    usage = (pl.col("ChargeCategory") == USAGE_CHARGE_CATEGORY) & pl.col("ResourceId").is_not_null()
    # Aggregate first: 10 million line items become one row per resource and unit (a few
    # per resource), from the rollup the billing policies share (policies/_billing.py).
    # Both unit columns are group keys, coalesced after: cheaper than a coalesce per row.
    unit_keys = ["ResourceId", "ConsumedUnit", "PricingUnit"]
    rows = daily(inv).filter(usage)
    per_unit = (
        rows.group_by(unit_keys)
        .agg(
            _hours(pl.col("period_length")).max().alias("period_hours"),
            pl.col("first_start").min(),
            pl.col("last_end").max(),
            pl.col("cost").sum(),
            # Usage a commitment pays for keeps being paid until the commitment ends.
            pl.col("cost")
            .filter(pl.col("PricingCategory") == COMMITTED_PRICING)
            .sum()
            .alias("committed_cost"),
            pl.col("quantity").sum(),
            pl.col("line_items").sum(),
            # Coalesced after aggregation, not per line item, for the same reason.
            earliest("ProviderName").alias("provider_name"),
            earliest("SubAccountId"),
            earliest("BillingAccountId"),
            earliest("RegionId").alias("region"),
            earliest("ResourceName").alias("resource_name"),
            earliest("ResourceType"),
            earliest("ServiceName").alias("service"),
        )
        .join(
            distinct_starts(rows, irregular_starts(inv), unit_keys, "periods"),
            on=unit_keys,
            how="left",
            nulls_equal=True,
        )
    )
    unit = pl.coalesce(pl.col("ConsumedUnit"), pl.col("PricingUnit"))
    lowered = pl.col("unit").str.strip_chars().str.to_lowercase()
    metered = (
        pl.col("unit").is_not_null()
        & ~lowered.str.contains(TIME_UNIT_PATTERN)
        & ~lowered.str.contains(CAPACITY_UNIT_PATTERN)
    )
    # Distinct periods are counted per unit, so the resource's billed hours are those of
    # its most regular charge (the standing hourly fee), not a sum that double counts.
    per_resource = (
        per_unit.with_columns(unit.alias("unit"))
        .with_columns(
            metered.alias("_metered"),
            lowered.str.contains(TRANSFER_UNIT_PATTERN).fill_null(False).alias("_transfer"),
            (pl.col("periods") * pl.col("period_hours").fill_null(1.0).clip(lower_bound=1.0)).alias(
                "_covered"
            ),
        )
        .group_by("ResourceId")
        .agg(
            # Hours from the resource's own usage lines: a month-long transfer line would
            # claim every hour of the month.
            pl.col("_covered").filter(~pl.col("_transfer")).max().alias("billed_hours"),
            pl.col("line_items").filter(~pl.col("_transfer")).sum().alias("_own_items"),
            pl.col("first_start").min(),
            pl.col("last_end").max(),
            pl.col("cost").sum(),
            pl.col("committed_cost").sum(),
            pl.col("quantity").filter(pl.col("_metered")).sum().alias("metered_quantity"),
            pl.col("line_items").filter(pl.col("_metered")).sum().alias("metered_line_items"),
            pl.col("unit")
            .filter(pl.col("_metered"))
            .unique()
            .sort()
            .str.join(", ")
            .alias("metered_units"),
            pl.col("line_items").sum(),
            pl.col("provider_name").first(),
            pl.coalesce("SubAccountId", "BillingAccountId").first().alias("account_id"),
            pl.col("region").first(),
            pl.col("resource_name").first(),
            pl.coalesce("ResourceType", "service").first().alias("resource_type"),
            pl.col("service").first(),
        )
    )
    span_hours = _hours(pl.col("last_end").max() - pl.col("first_start").min())
    judged = per_resource.with_columns(span_hours.alias("span_hours")).with_columns(
        pl.min_horizontal("billed_hours", "span_hours").alias("billed_hours"),
    )
    share = pl.col("billed_hours") / pl.col("span_hours")
    per_hour = pl.col("metered_quantity") / pl.col("billed_hours")
    flagged = (
        judged.filter(
            (pl.col("span_hours") >= p.min_period_hours)
            & (pl.col("metered_line_items") > 0)
            & (pl.col("_own_items") > 0)
            & (share >= p.min_billed_hour_share)
            & (per_hour < p.max_quantity_per_hour)
        )
        .with_columns(
            share.alias("_share"),
            per_hour.alias("_per_hour"),
            monthly(pl.col("cost") / pl.col("billed_hours")).alias("_cost_monthly"),
        )
        .with_columns(
            cents_down(pl.col("_cost_monthly")).alias("_monthly"),
            (pl.col("committed_cost") / pl.col("cost"))
            .fill_nan(0.0)
            .fill_null(0.0)
            .clip(0.0, 1.0)
            .alias("_committed_share"),
        )
        .filter(pl.col("_monthly") > 0)
    )
    provider = provider_of(pl.col("provider_name"))
    identity = flagged.with_columns(
        provider.alias("provider"),
        pl.col("ResourceId").alias("resource_id"),
    )
    saving = pl.col("_monthly")
    currency = inv.context.currency
    return findings(
        identity,
        detail=pl.format(
            "{} ({}) was billed in {} of {} hours ({}) but used {} {} an hour; it costs {} a "
            "month.",
            pl.col("resource_id"),
            pl.col("service"),
            num(pl.col("billed_hours")),
            num(pl.col("span_hours")),
            pct(pl.col("_share") * 100.0),
            pl.col("_per_hour").round_sig_figs(3),
            pl.col("metered_units"),
            money_in(saving, currency),
        ),
        recommendation=pl.format(
            "Confirm nothing depends on {} and delete it; it stops {} a month.",
            pl.col("resource_id"),
            money_in(saving, currency),
        ),
        current_monthly_cost=pl.col("_cost_monthly"),
        monthly_savings_before_discounts=saving,
        # The part a commitment pays for stays on the bill until the commitment ends.
        monthly_savings=cents_down(saving * (1.0 - pl.col("_committed_share"))),
        deferred_monthly_savings=saving - cents_down(saving * (1.0 - pl.col("_committed_share"))),
        confidence=pl.lit(p.confidence),
        price_source=pl.lit("billing"),
        evidence=evidence(
            hours_per_month=HOURS_PER_MONTH,
            billing=pl.struct(
                cost=pl.col("cost"),
                billed_hours=pl.col("billed_hours"),
                span_hours=pl.col("span_hours"),
                billed_hour_share=pl.col("_share"),
                first_charge=pl.col("first_start").dt.to_string("%Y-%m-%dT%H:%M:%SZ"),
                last_charge=pl.col("last_end").dt.to_string("%Y-%m-%dT%H:%M:%SZ"),
                line_items=pl.col("line_items"),
                own_line_items=pl.col("_own_items"),
                committed_share=pl.col("_committed_share"),
                currency=pl.lit(currency),
            ),
            usage=pl.struct(
                metered_quantity=pl.col("metered_quantity"),
                quantity_per_hour=pl.col("_per_hour"),
                metered_units=pl.col("metered_units"),
                metered_line_items=pl.col("metered_line_items"),
            ),
            thresholds=pl.struct(
                min_billed_hour_share=pl.lit(p.min_billed_hour_share),
                max_quantity_per_hour=pl.lit(p.max_quantity_per_hour),
                min_period_hours=pl.lit(p.min_period_hours),
            ),
        ),
    )
