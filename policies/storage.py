"""Storage: idle and mis-typed block volumes, stale snapshots, and S3 buckets left unmanaged.

Volumes and snapshots carry their region's unit list prices (``price_*`` columns, filled by
the provider), so every alternative here is priced from the same catalogue as the current
cost, and the evidence names the figures and their reference. ``current_monthly_cost`` is
the resource's own monthly price (for a bucket: its stored bytes at their class prices).

Ranking: deleting a volume (``remove``) excludes converting it (``resize``), so an
unattached gp2 volume counts once and its gp3 move shows as the alternative; io1 -> io2 and
io1 -> gp3 are both ``resize`` on one volume, so the cheaper counts and the other is its
alternative. The three bucket findings are ``configure`` and are built not to overlap: a
bucket without any lifecycle rule gets one finding covering a basic rule (tiering plus
aborting old uploads); a bucket that has rules gets the tiering and the upload findings only
for what its rules lack.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from costscan.policies._compute import evidence, findings, money, num, regional_price_confidence
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.contracts.registry import policy
from costscan.scanner.contracts.units import BYTES_PER_GIB as GIB
from costscan.scanner.contracts.vocab import Change, CloudProvider

KIB = 1024.0
# The EBS pricing page: https://aws.amazon.com/ebs/pricing/
EBS_PRICING = "https://aws.amazon.com/ebs/pricing/"
# gp2 baseline: 3 IOPS per GiB, at least 100, at most 16,000; throughput 128 MiB/s up to
# 170 GiB and 250 MiB/s above. gp3 includes 3,000 IOPS and 125 MiB/s, and goes to 16,000
# IOPS and 1,000 MiB/s at 0.25 MiB/s per IOPS.
# https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html
GP2_IOPS_PER_GIB = 3.0
GP2_MIN_IOPS = 100.0
GP2_MAX_IOPS = 16000.0
GP2_SMALL_THROUGHPUT_MAX_GIB = 170.0
GP2_SMALL_THROUGHPUT = 128.0
GP2_LARGE_THROUGHPUT = 250.0
GP2_SUSTAINED_MIBPS_PER_GIB = 0.75
GP3_INCLUDED_IOPS = 3000.0
GP3_INCLUDED_THROUGHPUT = 125.0
GP3_MAX_IOPS = 16000.0
GP3_MAX_THROUGHPUT = 1000.0
GP3_THROUGHPUT_PER_IOPS = 0.25
# io1 up to 32,000 IOPS delivers at most 256 KiB per I/O and 500 MiB/s.
# https://docs.aws.amazon.com/ebs/latest/userguide/provisioned-iops.html
IO1_MAX_THROUGHPUT = 500.0
IO2_TIER1_LIMIT = 32000.0
IO2_TIER2_LIMIT = 64000.0
# S3 bills objects under 128 KB in Standard-IA (and monitors none under 128 KB in
# Intelligent-Tiering); lifecycle rules do not transition objects under 128 KB by default.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html
S3_MIN_BILLABLE_BYTES = 128.0 * KIB
# Minimum storage durations, days: https://aws.amazon.com/s3/storage-classes/
MIN_STORAGE_DAYS = {
    "STANDARD_IA": 30,
    "ONEZONE_IA": 30,
    "GLACIER_IR": 90,
    "GLACIER": 90,
    "DEEP_ARCHIVE": 180,
}
STANDARD = "STANDARD"


def _price_note() -> pl.Expr:
    return (
        pl.when(pl.col("price_region") != pl.col("region"))
        .then(pl.format("list prices of {} (region not bundled)", pl.col("price_region")))
        .otherwise(pl.format("list prices of {}", pl.col("region")))
    )


def _snapshot_cost() -> pl.Expr:
    """A full first snapshot of the volume: size_gb × the snapshot price (upper bound)."""
    return pl.col("size_gb") * pl.col("price_snapshot_gb_month")


# --------------------------------------------------------------------------- volumes


@dataclass(frozen=True)
class UnattachedVolumeParams:
    # AWS Trusted Advisor's "Underutilized Amazon EBS Volumes" check flags volumes that
    # are unattached, looking back 7 days.
    # https://docs.aws.amazon.com/awssupport/latest/user/cost-optimization-checks.html
    min_age_days: int = 7
    # Keep a snapshot before deleting: its storage is charged as added_monthly_cost.
    snapshot_before_delete: bool = True
    confidence: float = 0.9
    fallback_price_factor: float = 0.8


# The saving of removing a volume (both volume policies).
VOLUME_REMOVAL_FORMULA = (
    "monthly_savings = monthly_price; added_monthly_cost = size_gb × "
    "snapshot price (a full first snapshot, an upper bound: snapshots are "
    "incremental and bill only used blocks)"
)


def _volume_removal(
    flagged: pl.LazyFrame, p: UnattachedVolumeParams | StoppedInstanceVolumeParams, why: pl.Expr
) -> pl.LazyFrame:
    snapshot = _snapshot_cost() if p.snapshot_before_delete else pl.lit(0.0)
    return findings(
        flagged,
        detail=pl.format(
            "{} ({} {} GiB) {}; it costs {} a month.",
            pl.col("resource_id"),
            pl.col("volume_type"),
            num(pl.col("size_gb")),
            why,
            money(pl.col("monthly_price")),
        ),
        recommendation=pl.format(
            "Snapshot {} (about {} a month at most, snapshots are incremental), then delete it.",
            pl.col("resource_id"),
            money(_snapshot_cost()),
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.col("monthly_price"),
        added_monthly_cost=snapshot,
        confidence=regional_price_confidence(p.confidence, p.fallback_price_factor),
        price_source=pl.col("price_source"),
        exclusive_group=pl.col("attached_to"),
        evidence=evidence(
            volume_type=pl.col("volume_type"),
            size_gb=pl.col("size_gb"),
            iops=pl.col("iops"),
            monthly_price=pl.col("monthly_price"),
            snapshot_price_gb_month=pl.col("price_snapshot_gb_month"),
            snapshot_monthly=_snapshot_cost(),
            snapshot_before_delete=p.snapshot_before_delete,
            attached_to=pl.col("attached_to"),
            attached_state=pl.col("attached_state"),
            attached_stopped_since=pl.col("attached_stopped_since").dt.to_string(),
            created=pl.col("created").dt.to_string(),
            prices=_price_note(),
            price_reference=pl.col("price_reference"),
        ),
    )


@policy(
    id="storage.unattached-volume",
    family="storage",
    action="remove",
    title="Unattached disk volume: snapshot and delete",
    needs=("volumes",),
    effort_hours=0.5,
    risk="low",
    performance="neutral",
    change=Change.DELETE_STORAGE,
    formula=VOLUME_REMOVAL_FORMULA,
)
def unattached_volume(inv: InventoryView, p: UnattachedVolumeParams) -> pl.LazyFrame:
    """Volumes attached to nothing (state ``available``), older than ``min_age_days``.

    An unattached volume does no work and bills its full provisioned size, IOPS and
    throughput. Keep a snapshot if the data may matter, then delete it.

    Saving formula: monthly_savings = the volume's monthly price (size × per-GB price, plus
    provisioned IOPS/throughput where the type charges them);
    added_monthly_cost = size_gb × snapshot price per GB-month when
    ``snapshot_before_delete`` (an upper bound: snapshots are incremental).

    Source: AWS Trusted Advisor's "Underutilized Amazon EBS Volumes" check (unattached, 7-day
    lookback), https://docs.aws.amazon.com/awssupport/latest/user/cost-optimization-checks.html;
    prices from https://aws.amazon.com/ebs/pricing/.
    """
    oldest = inv.context.now - timedelta(days=p.min_age_days)
    flagged = inv.lazy("volumes").filter(
        (pl.col("state") == "available")
        & pl.col("attached_to").is_null()
        & pl.col("monthly_price").is_not_null()
        & (pl.col("created").is_null() | (pl.col("created") <= pl.lit(oldest, schema.UTC_TS)))
    )
    return _volume_removal(flagged, p, pl.lit("is attached to no instance"))


@dataclass(frozen=True)
class StoppedInstanceVolumeParams:
    # AWS Trusted Advisor's "Amazon EC2 instances stopped" check: stopped for more than
    # 30 days. https://docs.aws.amazon.com/awssupport/latest/user/cost-optimization-checks.html
    min_stopped_days: int = 30
    snapshot_before_delete: bool = True
    confidence: float = 0.7
    fallback_price_factor: float = 0.8


@policy(
    id="storage.stopped-instance-volume",
    family="storage",
    action="remove",
    title="Volume of a long-stopped instance: snapshot and delete",
    needs=("volumes",),
    effort_hours=1.0,
    risk="medium",
    performance="neutral",
    change=Change.DELETE_STORAGE,
    formula=VOLUME_REMOVAL_FORMULA,
)
def stopped_instance_volume(inv: InventoryView, p: StoppedInstanceVolumeParams) -> pl.LazyFrame:
    """Volumes attached to an instance stopped for more than ``min_stopped_days``.

    A stopped instance pays nothing for compute, but its volumes bill in full. After a
    month stopped, the instance is rarely coming back: snapshot its volumes (or create an
    AMI) and delete them with the instance. Volumes whose stop date is unknown are skipped.

    Saving formula: monthly_savings = the volume's monthly price; added_monthly_cost =
    size_gb × snapshot price per GB-month when ``snapshot_before_delete``.

    Source: AWS Trusted Advisor's "Amazon EC2 instances stopped" check (30 days),
    https://docs.aws.amazon.com/awssupport/latest/user/cost-optimization-checks.html.
    """
    cutoff = inv.context.now - timedelta(days=p.min_stopped_days)
    flagged = inv.lazy("volumes").filter(
        pl.col("attached_to").is_not_null()
        & (pl.col("attached_state") == "stopped")
        & (pl.col("attached_stopped_since") <= pl.lit(cutoff, schema.UTC_TS))
        & pl.col("monthly_price").is_not_null()
    )
    days = (
        pl.lit(inv.context.now, schema.UTC_TS) - pl.col("attached_stopped_since")
    ).dt.total_days()
    why = pl.format(
        "is attached to {}, stopped since {} ({} days)",
        pl.col("attached_to"),
        pl.col("attached_stopped_since").dt.strftime("%Y-%m-%d"),
        days,
    )
    return _volume_removal(flagged, p, why)


def gp2_baseline_iops() -> pl.Expr:
    return (pl.col("size_gb") * GP2_IOPS_PER_GIB).clip(GP2_MIN_IOPS, GP2_MAX_IOPS)


def gp2_baseline_throughput() -> pl.Expr:
    """128 MiB/s up to 170 GiB; above, the sustained 3 IOPS/GiB × 256 KiB = 0.75 MiB/s per
    GiB (250 MiB/s between 170 and 334 GiB needs burst credits), at most 250 MiB/s."""
    return (
        pl.when(pl.col("size_gb") <= GP2_SMALL_THROUGHPUT_MAX_GIB)
        .then(pl.lit(GP2_SMALL_THROUGHPUT))
        .otherwise(
            (pl.col("size_gb") * GP2_SUSTAINED_MIBPS_PER_GIB).clip(
                GP2_SMALL_THROUGHPUT, GP2_LARGE_THROUGHPUT
            )
        )
    )


def gp3_extra_charges(iops: pl.Expr, throughput: pl.Expr) -> pl.Expr:
    """gp3's monthly charge for IOPS above 3,000 and throughput above 125 MB/s."""
    return (iops - GP3_INCLUDED_IOPS).clip(lower_bound=0.0) * pl.col("price_gp3_iops_month") + (
        throughput - GP3_INCLUDED_THROUGHPUT
    ).clip(lower_bound=0.0) * pl.col("price_gp3_throughput_month")


@dataclass(frozen=True)
class Gp2ToGp3Params:
    confidence: float = 0.9
    fallback_price_factor: float = 0.8


@policy(
    id="storage.gp2-to-gp3",
    family="storage",
    action="resize",
    title="gp2 volume can move to gp3",
    needs=("volumes",),
    effort_hours=0.5,
    risk="low",
    performance="improves",
    change=Change.UPGRADE_VOLUME,
    formula="monthly_savings = gp2 monthly_price - size_gb × gp3 per-GB; "
    "added_monthly_cost = max(iops - 3000, 0) × gp3 per-IOPS + "
    "max(throughput - 125, 0) × gp3 per-MB/s",
)
def gp2_to_gp3(inv: InventoryView, p: Gp2ToGp3Params) -> pl.LazyFrame:
    """gp2 volumes, which gp3 serves at least as fast for less (an online Elastic Volumes change).

    gp3 is priced lower per GB and includes 3,000 IOPS and 125 MB/s whatever the size; a
    gp2 volume's baseline is 3 IOPS/GiB (100 to 16,000) and 128 MiB/s up to 170 GiB, 250
    above. The gp3 target matches the gp2 baseline, so large volumes provision (and pay for)
    the IOPS and throughput beyond gp3's included figures.

    Saving formula: monthly_savings = gp2 monthly price - size_gb × gp3 per-GB price;
    added_monthly_cost = max(baseline IOPS - 3,000, 0) × gp3 per-IOPS price
    + max(baseline throughput - 125, 0) × gp3 per-MB/s price. Only volumes where the net is
    positive are flagged. Performance improves below 1,000 GiB (3,000 IOPS instead of the
    burstable baseline) and is unchanged above.

    Sources: AWS Compute Optimizer recommends gp2 -> gp3 migrations
    (https://docs.aws.amazon.com/compute-optimizer/latest/ug/view-ebs-recommendations.html);
    baselines from https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html;
    prices from https://aws.amazon.com/ebs/pricing/.
    """
    iops = gp2_baseline_iops()
    throughput = gp2_baseline_throughput()
    storage_saving = pl.col("monthly_price") - pl.col("size_gb") * pl.col("price_gp3_gb_month")
    extra = gp3_extra_charges(iops, throughput)
    flagged = (
        inv.lazy("volumes")
        .filter(pl.col("volume_type") == "gp2")
        .with_columns(
            storage_saving.alias("_saving"),
            extra.alias("_extra"),
            iops.alias("_iops"),
            throughput.alias("_throughput"),
        )
        .filter((pl.col("_saving") - pl.col("_extra")) > 0)
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} is gp2, {} GiB ({} IOPS, {} MB/s baseline); as gp3 with the same performance "
            "it costs {} instead of {} a month.",
            pl.col("resource_id"),
            num(pl.col("size_gb")),
            num(pl.col("_iops")),
            num(pl.col("_throughput")),
            money(pl.col("monthly_price") - pl.col("_saving") + pl.col("_extra")),
            money(pl.col("monthly_price")),
        ),
        recommendation=pl.format(
            "Modify {} to gp3 with {} IOPS and {} MB/s (no downtime).",
            pl.col("resource_id"),
            num(pl.col("_iops").clip(lower_bound=GP3_INCLUDED_IOPS)),
            num(pl.col("_throughput").clip(lower_bound=GP3_INCLUDED_THROUGHPUT)),
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.col("_saving"),
        added_monthly_cost=pl.col("_extra"),
        performance=pl.when(pl.col("_iops") < GP3_INCLUDED_IOPS)
        .then(pl.lit("improves"))
        .otherwise(pl.lit("neutral")),
        confidence=regional_price_confidence(p.confidence, p.fallback_price_factor),
        price_source=pl.col("price_source"),
        exclusive_group=pl.col("attached_to"),
        group_key=pl.lit("gp2→gp3"),
        evidence=evidence(
            size_gb=pl.col("size_gb"),
            gp2_monthly_price=pl.col("monthly_price"),
            gp2_baseline_iops=pl.col("_iops"),
            gp2_baseline_throughput_mbps=pl.col("_throughput"),
            gp3_price_gb_month=pl.col("price_gp3_gb_month"),
            gp3_price_iops_month=pl.col("price_gp3_iops_month"),
            gp3_price_throughput_month=pl.col("price_gp3_throughput_month"),
            gp3_extra_performance_monthly=pl.col("_extra"),
            prices=_price_note(),
            price_reference=pl.col("price_reference"),
        ),
    )


def _io2_iops_cost(iops: pl.Expr) -> pl.Expr:
    return (
        iops.clip(upper_bound=IO2_TIER1_LIMIT) * pl.col("price_io2_iops_tier1_month")
        + (iops - IO2_TIER1_LIMIT).clip(0.0, IO2_TIER2_LIMIT - IO2_TIER1_LIMIT)
        * pl.col("price_io2_iops_tier2_month")
        + (iops - IO2_TIER2_LIMIT).clip(lower_bound=0.0) * pl.col("price_io2_iops_tier3_month")
    )


@dataclass(frozen=True)
class Io1Params:
    confidence: float = 0.85
    fallback_price_factor: float = 0.8


@policy(
    id="storage.io1-to-io2",
    family="storage",
    action="resize",
    title="io1 volume can move to io2",
    needs=("volumes",),
    effort_hours=0.5,
    risk="low",
    performance="improves",
    change=Change.UPGRADE_VOLUME,
    formula="monthly_savings = io1 monthly_price - (size_gb × io2 per-GB + "
    "min(iops, 32000) × tier1 + clip(iops - 32000, 0, 32000) × tier2 + "
    "max(iops - 64000, 0) × tier3)",
)
def io1_to_io2(inv: InventoryView, p: Io1Params) -> pl.LazyFrame:
    """io1 volumes whose IOPS cost less as io2 (tiered IOPS), at the same IOPS.

    io2 costs the same per GB as io1 but prices provisioned IOPS in tiers (above 32,000 and
    above 64,000 at lower rates), with 100x the durability. At or under 32,000 IOPS the
    price is the same, so only volumes above it are flagged; io1 -> gp3 is the other
    ``resize`` on the same volume, and ranking counts the cheaper of the two.

    Saving formula: monthly_savings = io1 monthly price - (size_gb × io2 per-GB + IOPS in
    io2's tiers: min(iops, 32,000) × tier 1 + IOPS 32,001-64,000 × tier 2 + above × tier 3).

    Sources: AWS Compute Optimizer recommends io1 -> io2
    (https://docs.aws.amazon.com/compute-optimizer/latest/ug/view-ebs-recommendations.html);
    tiers from https://aws.amazon.com/ebs/pricing/.
    """
    iops = pl.col("iops").fill_null(0.0)
    io2 = pl.col("size_gb") * pl.col("price_io2_gb_month") + _io2_iops_cost(iops)
    flagged = (
        inv.lazy("volumes")
        .filter(pl.col("volume_type") == "io1")
        .with_columns(io2.alias("_io2"))
        .filter((pl.col("monthly_price") - pl.col("_io2")) > 0)
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} is io1 with {} IOPS; as io2 it costs {} instead of {} a month.",
            pl.col("resource_id"),
            num(iops),
            money(pl.col("_io2")),
            money(pl.col("monthly_price")),
        ),
        recommendation=pl.format(
            "Modify {} to io2 with the same {} IOPS.", pl.col("resource_id"), num(iops)
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.col("monthly_price") - pl.col("_io2"),
        confidence=regional_price_confidence(p.confidence, p.fallback_price_factor),
        price_source=pl.col("price_source"),
        exclusive_group=pl.col("attached_to"),
        group_key=pl.lit("io1→io2"),
        evidence=evidence(
            size_gb=pl.col("size_gb"),
            iops=iops,
            io1_monthly_price=pl.col("monthly_price"),
            io2_monthly_price=pl.col("_io2"),
            io2_price_gb_month=pl.col("price_io2_gb_month"),
            io2_price_iops_tiers=pl.concat_list(
                "price_io2_iops_tier1_month",
                "price_io2_iops_tier2_month",
                "price_io2_iops_tier3_month",
            ),
            prices=_price_note(),
            price_reference=pl.col("price_reference"),
        ),
    )


@policy(
    id="storage.io1-to-gp3",
    family="storage",
    action="resize",
    title="io1 volume can move to gp3",
    needs=("volumes",),
    effort_hours=1.0,
    risk="medium",
    performance="risk",
    change=Change.UPGRADE_VOLUME,
    formula="monthly_savings = io1 monthly_price - (size_gb × gp3 per-GB + "
    "max(iops - 3000, 0) × gp3 per-IOPS + max(throughput - 125, 0) × gp3 per-MB/s)",
)
def io1_to_gp3(inv: InventoryView, p: Io1Params) -> pl.LazyFrame:
    """io1 volumes whose provisioned IOPS gp3 can deliver (at most 16,000).

    gp3 provisions up to 16,000 IOPS and 1,000 MB/s for far less than io1, but its latency
    is single-digit milliseconds rather than sub-millisecond, and it is designed for 99%
    rather than 99.9% delivery of its IOPS: performance is at risk for latency-critical
    databases. The gp3 target keeps io1's IOPS and its throughput ceiling (min(iops × 0.25,
    500) MB/s, the volume's reported throughput when there is one).

    Saving formula: monthly_savings = io1 monthly price - (size_gb × gp3 per-GB +
    max(iops - 3,000, 0) × gp3 per-IOPS + max(throughput - 125, 0) × gp3 per-MB/s).

    Sources: AWS Compute Optimizer's EBS recommendations
    (https://docs.aws.amazon.com/compute-optimizer/latest/ug/view-ebs-recommendations.html);
    limits from https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html;
    prices from https://aws.amazon.com/ebs/pricing/.
    """
    iops = pl.col("iops").fill_null(0.0)
    ceiling = (iops * GP3_THROUGHPUT_PER_IOPS).clip(upper_bound=IO1_MAX_THROUGHPUT)
    target_throughput = (
        pl.coalesce(pl.col("throughput"), ceiling)
        .clip(GP3_INCLUDED_THROUGHPUT, GP3_MAX_THROUGHPUT)
        .clip(upper_bound=iops.clip(lower_bound=GP3_INCLUDED_IOPS) * GP3_THROUGHPUT_PER_IOPS)
    )
    gp3 = pl.col("size_gb") * pl.col("price_gp3_gb_month") + gp3_extra_charges(
        iops.clip(lower_bound=GP3_INCLUDED_IOPS), pl.col("_throughput")
    )
    flagged = (
        inv.lazy("volumes")
        .filter((pl.col("volume_type") == "io1") & (pl.col("iops") <= GP3_MAX_IOPS))
        .with_columns(target_throughput.alias("_throughput"))
        .with_columns(gp3.alias("_gp3"))
        .filter((pl.col("monthly_price") - pl.col("_gp3")) > 0)
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} is io1 with {} IOPS; gp3 with the same IOPS and {} MB/s costs {} instead "
            "of {} a month, at higher latency.",
            pl.col("resource_id"),
            num(iops),
            num(pl.col("_throughput")),
            money(pl.col("_gp3")),
            money(pl.col("monthly_price")),
        ),
        recommendation=pl.format(
            "If the workload tolerates millisecond latency, modify {} to gp3 with {} IOPS "
            "and {} MB/s.",
            pl.col("resource_id"),
            num(iops.clip(lower_bound=GP3_INCLUDED_IOPS)),
            num(pl.col("_throughput")),
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.col("monthly_price") - pl.col("_gp3"),
        confidence=regional_price_confidence(p.confidence, p.fallback_price_factor),
        price_source=pl.col("price_source"),
        exclusive_group=pl.col("attached_to"),
        group_key=pl.lit("io1→gp3"),
        evidence=evidence(
            size_gb=pl.col("size_gb"),
            iops=iops,
            gp3_throughput_mbps=pl.col("_throughput"),
            io1_monthly_price=pl.col("monthly_price"),
            gp3_monthly_price=pl.col("_gp3"),
            gp3_price_gb_month=pl.col("price_gp3_gb_month"),
            gp3_price_iops_month=pl.col("price_gp3_iops_month"),
            gp3_price_throughput_month=pl.col("price_gp3_throughput_month"),
            prices=_price_note(),
            price_reference=pl.col("price_reference"),
        ),
    )


# --------------------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class StaleSnapshotParams:
    # A year: the retention AWS Backup's own default plans stop at for monthly backups, and
    # the age past which Trusted Advisor-style reviews treat snapshots as stale. Set your
    # retention policy here.
    # https://docs.aws.amazon.com/aws-backup/latest/devguide/creating-a-backup-plan.html
    max_age_days: int = 365
    # Standard-tier snapshots are incremental: the bill is for changed blocks only, so
    # size_gb × price is an upper bound and confidence stays moderate.
    confidence: float = 0.5
    fallback_price_factor: float = 0.8


@policy(
    id="storage.stale-snapshot",
    family="storage",
    action="remove",
    title="Old or orphaned disk snapshot",
    needs=("snapshots",),
    effort_hours=0.25,
    risk="low",
    performance="neutral",
    change=Change.DELETE_STORAGE,
    formula="monthly_savings = size_gb × snapshot per-GB-month (upper bound)",
)
def stale_snapshot(inv: InventoryView, p: StaleSnapshotParams) -> pl.LazyFrame:
    """Snapshots older than ``max_age_days``, or orphaned (their volume is gone), that no
    AMI of the account uses.

    A snapshot an AMI uses is never flagged (deregister the AMI first). Orphaned means the
    source volume no longer exists and no AMI references it: nothing can restore from it
    except by hand.

    Saving formula: monthly_savings = size_gb × snapshot price per GB-month. EBS snapshots
    are incremental, so this is an upper bound: deleting one snapshot frees only the blocks
    no other snapshot shares. Confidence says so.

    Sources: AWS Trusted Advisor cost optimization checks
    (https://docs.aws.amazon.com/awssupport/latest/user/cost-optimization-checks.html);
    snapshot billing: https://repost.aws/knowledge-center/ebs-snapshot-billing.
    """
    cutoff = inv.context.now - timedelta(days=p.max_age_days)
    old = pl.col("created") <= pl.lit(cutoff, schema.UTC_TS)
    orphaned = pl.col("source_exists").eq(False)
    age = (pl.lit(inv.context.now, schema.UTC_TS) - pl.col("created")).dt.total_days()
    flagged = inv.lazy("snapshots").filter(
        pl.col("used_by_image").eq(False)
        & (old.fill_null(False) | orphaned)
        & pl.col("monthly_price").is_not_null()
    )
    reason = (
        pl.when(old.fill_null(False) & orphaned)
        .then(pl.lit("old and orphaned"))
        .when(orphaned)
        .then(pl.lit("orphaned (source volume gone, no AMI uses it)"))
        .otherwise(pl.format("older than {} days", pl.lit(p.max_age_days)))
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} ({} GiB, {}, from {}) is {}; up to {} a month.",
            pl.col("resource_id"),
            num(pl.col("size_gb")),
            # An orphaned snapshot of unknown age is still flagged: a null here would blank
            # the whole line.
            pl.format("{} days old", age).fill_null(pl.lit("age unknown")),
            pl.col("source_volume").fill_null("unknown volume"),
            reason,
            money(pl.col("monthly_price")),
        ),
        recommendation=pl.format(
            "Delete {} if no restore needs it (or move it to the archive tier).",
            pl.col("resource_id"),
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.col("monthly_price"),
        confidence=regional_price_confidence(p.confidence, p.fallback_price_factor),
        price_source=pl.col("price_source"),
        group_key=pl.lit("stale snapshots"),
        evidence=evidence(
            confidence_reason="snapshots are incremental: the billed blocks can be far "
            "fewer than the volume size, and blocks shared with later snapshots stay billed",
            size_gb=pl.col("size_gb"),
            age_days=age,
            max_age_days=p.max_age_days,
            source_volume=pl.col("source_volume"),
            source_exists=pl.col("source_exists"),
            used_by_image=pl.col("used_by_image"),
            storage_tier=pl.col("storage_tier"),
            price_gb_month=pl.col("price_gb_month"),
            prices=_price_note(),
            price_reference=pl.col("price_reference"),
        ),
    )


# --------------------------------------------------------------------------- buckets


@dataclass(frozen=True)
class BucketTieringParams:
    # Share of Standard bytes assumed not read for 30+ days. Access patterns are not in the
    # inventory; AWS's S3 Storage Class Analysis measures this per bucket
    # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/analytics-storage-class.html).
    # Set it from that analysis; the default is a planning assumption and confidence says so.
    cold_fraction: float = 0.5
    # Standard -> Standard-IA needs objects 30 days old and bills 30 days minimum; the
    # rule transitions after this many days (AWS's minimum for Standard-IA).
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html
    transition_days: int = 30
    # AWS's documented example AbortIncompleteMultipartUpload period is 7 days.
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpu-abort-incomplete-mpu-lifecycle-config.html
    abort_after_days: int = 7
    confidence: float = 0.3
    fallback_price_factor: float = 0.8


def _bucket_totals(
    inv: InventoryView, p: BucketTieringParams, provider: str = CloudProvider.AWS
) -> pl.LazyFrame:
    """One row per bucket of ``provider``: Standard bytes and objects, the prices, and the
    tiering options (for S3 below; ``gcs_bucket_without_lifecycle`` reads the same columns
    as Nearline and Autoclass).

    Options for the cold Standard share (``cold_fraction`` of Standard bytes):
    - lifecycle to Standard-IA after ``transition_days``: saving = cold bytes × (Standard -
      Standard-IA); upfront = transitioned objects / 1,000 × transition price. Objects
      under 128 KB are not transitioned (lifecycle's default) and would be billed as
      128 KB in IA: when the average object is under 128 KB the option saves nothing.
    - Intelligent-Tiering: saving = cold bytes × (Standard - its Infrequent tier);
      added = every object of 128 KB or more / 1,000 × monitoring fee.
    The better net option is chosen; the other goes to the evidence.
    """
    rows = inv.lazy("buckets").filter(pl.col("provider") == provider)
    standard = pl.col("storage_class") == STANDARD
    cost = pl.col("bytes").fill_null(0.0) / GIB * pl.col("price_gb_month").fill_null(0.0)
    per_bucket = rows.group_by("provider", "account_id", "region", "resource_id").agg(
        pl.col("resource_name").first(),
        pl.col("resource_type").first(),
        pl.col("has_lifecycle").first(),
        pl.col("lifecycle_summary").first(),
        pl.col("lifecycle_transitions").first(),
        pl.col("lifecycle_aborts_uploads").first(),
        pl.col("intelligent_tiering").first(),
        pl.col("incomplete_uploads").first(),
        pl.col("incomplete_upload_bytes").first(),
        pl.col("incomplete_upload_oldest").first(),
        pl.col("metrics_date").max(),
        pl.col("bytes").filter(standard).sum().alias("standard_bytes"),
        pl.col("objects").filter(standard).sum().alias("_standard_objects"),
        pl.col("objects").filter(standard).null_count().alias("_objects_unknown"),
        cost.sum().alias("current_cost"),
        pl.col("price_standard_gb_month").first(),
        pl.col("price_standard_ia_gb_month").first(),
        pl.col("price_intelligent_tiering_ia_gb_month").first(),
        pl.col("price_intelligent_tiering_monitoring_per_1000").first(),
        pl.col("price_transition_per_1000").first(),
        pl.col("price_region").first(),
        pl.col("price_reference").first(),
    )
    objects = pl.when(pl.col("_objects_unknown") == 0).then(pl.col("_standard_objects"))
    average = pl.col("standard_bytes") / pl.col("standard_objects")
    # Unknown object counts: size is unknown, treat objects as large enough (lower confidence).
    large_enough = average.is_null() | (average >= S3_MIN_BILLABLE_BYTES)
    cold_gib = pl.col("standard_bytes") * p.cold_fraction / GIB
    ia_saving = (
        pl.when(large_enough)
        .then(cold_gib * (pl.col("price_standard_gb_month") - pl.col("price_standard_ia_gb_month")))
        .otherwise(0.0)
    )
    ia_upfront = (
        pl.when(large_enough)
        .then(
            pl.col("standard_objects").fill_null(0.0)
            * p.cold_fraction
            / 1000.0
            * pl.col("price_transition_per_1000")
        )
        .otherwise(0.0)
    )
    it_saving = (
        pl.when(large_enough)
        .then(
            cold_gib
            * (pl.col("price_standard_gb_month") - pl.col("price_intelligent_tiering_ia_gb_month"))
        )
        .otherwise(0.0)
    )
    it_added = (
        pl.when(large_enough)
        .then(
            pl.col("standard_objects").fill_null(0.0)
            / 1000.0
            * pl.col("price_intelligent_tiering_monitoring_per_1000")
        )
        .otherwise(0.0)
    )
    it_upfront = (
        pl.when(large_enough)
        .then(
            pl.col("standard_objects").fill_null(0.0) / 1000.0 * pl.col("price_transition_per_1000")
        )
        .otherwise(0.0)
    )
    uploads_saving = (
        pl.col("incomplete_upload_bytes").fill_null(0.0) / GIB * pl.col("price_standard_gb_month")
    )
    return (
        per_bucket.with_columns(objects.alias("standard_objects"))
        .with_columns(
            average.alias("average_object_bytes"),
            ia_saving.fill_null(0.0).alias("ia_saving"),
            ia_upfront.fill_null(0.0).alias("ia_upfront"),
            it_saving.fill_null(0.0).alias("it_saving"),
            it_added.fill_null(0.0).alias("it_added"),
            it_upfront.fill_null(0.0).alias("it_upfront"),
            uploads_saving.fill_null(0.0).alias("uploads_saving"),
        )
        .with_columns(
            ((pl.col("it_saving") - pl.col("it_added")) > pl.col("ia_saving")).alias("use_it")
        )
        .with_columns(
            pl.when(pl.col("use_it"))
            .then(pl.col("it_saving"))
            .otherwise(pl.col("ia_saving"))
            .alias("tier_saving"),
            pl.when(pl.col("use_it")).then(pl.col("it_added")).otherwise(0.0).alias("tier_added"),
            pl.when(pl.col("use_it"))
            .then(pl.col("it_upfront"))
            .otherwise(pl.col("ia_upfront"))
            .alias("tier_upfront"),
            pl.when(pl.col("use_it"))
            .then(pl.lit("INTELLIGENT_TIERING"))
            .otherwise(pl.lit("STANDARD_IA"))
            .alias("tier_target"),
        )
    )


def _tier_evidence(p: BucketTieringParams, **extra: pl.Expr | str | float | int | bool) -> pl.Expr:
    return evidence(
        confidence_reason="access patterns are unknown: the cold share is the "
        "cold_fraction parameter, not a measurement (S3 Storage Class Analysis measures it)",
        cold_fraction=p.cold_fraction,
        standard_bytes=pl.col("standard_bytes"),
        standard_objects=pl.col("standard_objects"),
        average_object_bytes=pl.col("average_object_bytes"),
        min_billable_object_bytes=S3_MIN_BILLABLE_BYTES,
        min_storage_days=pl.struct([pl.lit(v).alias(k) for k, v in MIN_STORAGE_DAYS.items()]),
        transition_days=p.transition_days,
        chosen_target=pl.col("tier_target"),
        standard_ia=pl.struct(
            saving=pl.col("ia_saving"), upfront=pl.col("ia_upfront"), added=pl.lit(0.0)
        ),
        intelligent_tiering=pl.struct(
            saving=pl.col("it_saving"), upfront=pl.col("it_upfront"), added=pl.col("it_added")
        ),
        prices=pl.struct(
            standard_gb_month=pl.col("price_standard_gb_month"),
            standard_ia_gb_month=pl.col("price_standard_ia_gb_month"),
            intelligent_tiering_ia_gb_month=pl.col("price_intelligent_tiering_ia_gb_month"),
            intelligent_tiering_monitoring_per_1000=pl.col(
                "price_intelligent_tiering_monitoring_per_1000"
            ),
            transition_per_1000=pl.col("price_transition_per_1000"),
        ),
        price_region=pl.col("price_region"),
        price_reference=pl.col("price_reference"),
        metrics_date=pl.col("metrics_date").dt.to_string(),
        lifecycle=pl.col("lifecycle_summary"),
        intelligent_tiering_configured=pl.col("intelligent_tiering"),
        **extra,
    )


def _old_uploads(inv: InventoryView, p: BucketTieringParams) -> pl.Expr:
    cutoff = inv.context.now - timedelta(days=p.abort_after_days)
    return (pl.col("incomplete_uploads").fill_null(0) > 0) & (
        pl.col("incomplete_upload_oldest") <= pl.lit(cutoff, schema.UTC_TS)
    ).fill_null(False)


TIER_FORMULA = (
    "tier saving = standard_bytes × cold_fraction / GiB × (Standard - target per-GB); "
    "Intelligent-Tiering adds objects / 1000 × monitoring fee a month; transitions cost "
    "objects moved / 1000 × transition price once (upfront); 0 when the average object "
    "is under 128 KB"
)


@policy(
    id="storage.bucket-without-lifecycle",
    family="storage",
    action="configure",
    title="S3 bucket without lifecycle rules",
    needs=("buckets",),
    effort_hours=1.0,
    risk="low",
    performance="neutral",
    change=Change.CONFIGURE_SERVICE,
    formula="monthly_savings = tier saving + incomplete_upload_bytes / GiB × Standard; "
    + TIER_FORMULA,
)
def bucket_without_lifecycle(inv: InventoryView, p: BucketTieringParams) -> pl.LazyFrame:
    """Buckets with no enabled lifecycle rule: a basic rule tiers cold data and aborts
    abandoned uploads.

    The basic rule: transition Standard objects to Standard-IA after ``transition_days`` (or
    put them in Intelligent-Tiering, whichever nets more), and AbortIncompleteMultipartUpload
    after ``abort_after_days``. Minimum storage durations (30 days Standard-IA/One Zone-IA,
    90 Glacier Instant/Flexible Retrieval, 180 Deep Archive) and the 128 KB minimum billable
    object size are respected: transitions start at 30 days, and buckets of small objects
    get no tiering saving.

    Saving formula: monthly_savings = tier saving (see TIER_FORMULA) + incomplete-upload
    bytes / GiB × Standard price (uploads older than ``abort_after_days``);
    added_monthly_cost = Intelligent-Tiering monitoring when it is the chosen target;
    upfront_cost = lifecycle transition requests. When the bucket's bytes are unknown (no
    storage metrics) only the upload part is priced. Confidence is low: access patterns are
    unknown.

    Sources: AWS Well-Architected cost optimization (COST04-BP05, enforce data retention
    with lifecycle policies,
    https://docs.aws.amazon.com/wellarchitected/latest/cost-optimization-pillar/cost_decomissioning_resources_data_retention.html);
    S3 prices from https://aws.amazon.com/s3/pricing/.
    """
    totals = _bucket_totals(inv, p)
    old_uploads = _old_uploads(inv, p)
    flagged = totals.filter(pl.col("has_lifecycle").eq(False)).with_columns(
        pl.when(old_uploads).then(pl.col("uploads_saving")).otherwise(0.0).alias("_uploads")
    )
    saving = pl.col("tier_saving") + pl.col("_uploads")
    return findings(
        flagged,
        detail=pl.format(
            "Bucket {} has no lifecycle rule; it holds {} GiB in Standard and {} incomplete "
            "upload(s). A basic rule saves about {} a month.",
            pl.col("resource_id"),
            num(pl.col("standard_bytes") / GIB),
            pl.col("incomplete_uploads").fill_null(0),
            money(saving - pl.col("tier_added")),
        ),
        recommendation=pl.format(
            "Add a lifecycle rule: Standard to {} after {} days (objects of 128 KB and more), "
            "and abort incomplete multipart uploads after {} days.",
            pl.col("tier_target"),
            pl.lit(p.transition_days),
            pl.lit(p.abort_after_days),
        ),
        current_monthly_cost=pl.col("current_cost"),
        monthly_savings=saving,
        added_monthly_cost=pl.col("tier_added"),
        upfront_cost=pl.col("tier_upfront"),
        confidence=regional_price_confidence(p.confidence, p.fallback_price_factor),
        price_source=pl.when(pl.col("price_standard_gb_month").is_null())
        .then(pl.lit("none"))
        .otherwise(pl.lit("bundled")),
        evidence=_tier_evidence(
            p,
            incomplete_uploads=pl.col("incomplete_uploads"),
            incomplete_upload_bytes=pl.col("incomplete_upload_bytes"),
            incomplete_upload_saving=pl.col("_uploads"),
        ),
    )


@policy(
    id="storage.standard-tiering",
    family="storage",
    action="configure",
    title="S3 Standard data a lifecycle rule or Intelligent-Tiering would move",
    needs=("buckets",),
    effort_hours=1.0,
    risk="low",
    performance="neutral",
    change=Change.CONFIGURE_SERVICE,
    formula=TIER_FORMULA,
)
def standard_tiering(inv: InventoryView, p: BucketTieringParams) -> pl.LazyFrame:
    """Buckets whose lifecycle rules move or expire nothing, with Standard data to tier.

    (Buckets with no rule at all are ``storage.bucket-without-lifecycle``'s, which prices
    the same move, so nothing is counted twice.) The cold share of Standard bytes goes to
    Standard-IA by a lifecycle transition after ``transition_days`` or to Intelligent-Tiering,
    whichever nets more; the other is in the evidence. Minimum storage durations (30 days
    Standard-IA/One Zone-IA, 90 Glacier Instant/Flexible Retrieval, 180 Deep Archive) and
    the 128 KB minimum billable object size are respected.

    Saving formula: see TIER_FORMULA: monthly_savings = standard_bytes × cold_fraction / GiB
    × (Standard - target per-GB); added_monthly_cost = objects / 1,000 × Intelligent-Tiering
    monitoring fee (when chosen); upfront_cost = transition requests. Confidence is low:
    access patterns are unknown.

    Sources: AWS Well-Architected cost optimization (COST04-BP05) and S3 storage class
    guidance, https://aws.amazon.com/s3/storage-classes/; S3 prices from
    https://aws.amazon.com/s3/pricing/.
    """
    flagged = _bucket_totals(inv, p).filter(
        pl.col("has_lifecycle").eq(True)
        & pl.col("lifecycle_transitions").eq(False)
        & ((pl.col("tier_saving") - pl.col("tier_added")) > 0)
    )
    return findings(
        flagged,
        detail=pl.format(
            "Bucket {} keeps {} GiB in Standard and its rules move nothing; moving the cold "
            "share to {} nets about {} a month.",
            pl.col("resource_id"),
            num(pl.col("standard_bytes") / GIB),
            pl.col("tier_target"),
            money(pl.col("tier_saving") - pl.col("tier_added")),
        ),
        recommendation=pl.format(
            "Add a transition of Standard objects to {} after {} days (or measure access with "
            "S3 Storage Class Analysis first).",
            pl.col("tier_target"),
            pl.lit(p.transition_days),
        ),
        current_monthly_cost=pl.col("current_cost"),
        monthly_savings=pl.col("tier_saving"),
        added_monthly_cost=pl.col("tier_added"),
        upfront_cost=pl.col("tier_upfront"),
        confidence=regional_price_confidence(p.confidence, p.fallback_price_factor),
        price_source=pl.lit("bundled"),
        evidence=_tier_evidence(p),
    )


@dataclass(frozen=True)
class IncompleteUploadsParams:
    # AWS's documented example AbortIncompleteMultipartUpload period is 7 days.
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpu-abort-incomplete-mpu-lifecycle-config.html
    abort_after_days: int = 7
    confidence: float = 0.8
    fallback_price_factor: float = 0.8


@policy(
    id="storage.incomplete-multipart-uploads",
    family="storage",
    action="configure",
    title="S3 incomplete multipart uploads left stored",
    needs=("buckets",),
    effort_hours=0.5,
    risk="low",
    performance="neutral",
    change=Change.EXPIRE_DATA,
    formula="monthly_savings = incomplete_upload_bytes / GiB × Standard per-GB-month",
)
def incomplete_multipart_uploads(inv: InventoryView, p: IncompleteUploadsParams) -> pl.LazyFrame:
    """Buckets with lifecycle rules but no AbortIncompleteMultipartUpload, holding uploads
    started more than ``abort_after_days`` ago.

    Parts of an upload that was never completed or aborted stay stored and billed at the
    Standard rate, invisible to object listings. (Buckets without any rule are covered by
    ``storage.bucket-without-lifecycle``.)

    Saving formula: monthly_savings = incomplete-upload bytes (ListParts) / GiB × Standard
    price per GB-month.

    Source: AWS S3 user guide, "Configuring a bucket lifecycle configuration to delete
    incomplete multipart uploads",
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpu-abort-incomplete-mpu-lifecycle-config.html;
    prices from https://aws.amazon.com/s3/pricing/.
    """
    tiering = BucketTieringParams(abort_after_days=p.abort_after_days)
    flagged = _bucket_totals(inv, tiering).filter(
        pl.col("has_lifecycle").eq(True)
        & pl.col("lifecycle_aborts_uploads").eq(False)
        & _old_uploads(inv, tiering)
        & (pl.col("uploads_saving") > 0)
    )
    return findings(
        flagged,
        detail=pl.format(
            "Bucket {} holds {} incomplete upload(s), {} GiB, the oldest from {}.",
            pl.col("resource_id"),
            pl.col("incomplete_uploads"),
            num(pl.col("incomplete_upload_bytes") / GIB),
            pl.col("incomplete_upload_oldest").dt.strftime("%Y-%m-%d"),
        ),
        recommendation=pl.format(
            "Add an AbortIncompleteMultipartUpload rule ({} days) to {}.",
            pl.lit(p.abort_after_days),
            pl.col("resource_id"),
        ),
        current_monthly_cost=pl.col("current_cost"),
        monthly_savings=pl.col("uploads_saving"),
        confidence=regional_price_confidence(p.confidence, p.fallback_price_factor),
        price_source=pl.lit("bundled"),
        evidence=evidence(
            incomplete_uploads=pl.col("incomplete_uploads"),
            incomplete_upload_bytes=pl.col("incomplete_upload_bytes"),
            oldest=pl.col("incomplete_upload_oldest").dt.to_string(),
            standard_price_gb_month=pl.col("price_standard_gb_month"),
            price_region=pl.col("price_region"),
            price_reference=pl.col("price_reference"),
        ),
    )


# --------------------------------------------------------------------------- Cloud Storage

# Nearline bills 30 days at least and Autoclass moves an object to Nearline after 30 days
# without access; objects under 128 KiB stay in Standard under Autoclass and pay no
# management fee. https://cloud.google.com/storage/docs/storage-classes,
# https://cloud.google.com/storage/docs/autoclass
GCS_TIER_FORMULA = (
    "monthly_savings = standard_bytes × cold_fraction / GiB × (Standard - Nearline per-GB); "
    "Autoclass adds objects / 1000 × management fee a month and no transition charge; a "
    "lifecycle SetStorageClass costs objects moved / 1000 × Nearline Class A price once "
    "(upfront); 0 when the average object is under 128 KiB"
)


@policy(
    id="storage.gcs-bucket-without-lifecycle",
    family="storage",
    action="configure",
    title="Cloud Storage bucket without lifecycle rules or Autoclass",
    needs=("buckets",),
    effort_hours=1.0,
    risk="low",
    performance="neutral",
    change=Change.CONFIGURE_SERVICE,
    formula=GCS_TIER_FORMULA,
)
def gcs_bucket_without_lifecycle(inv: InventoryView, p: BucketTieringParams) -> pl.LazyFrame:
    """Cloud Storage buckets with no lifecycle rule and Autoclass off: the twin of
    ``storage.bucket-without-lifecycle`` for GCS storage classes.

    The cold share of Standard bytes (``cold_fraction``) moves to Nearline, either by a
    lifecycle rule (SetStorageClass NEARLINE at ``transition_days``, Nearline's 30-day
    minimum) or by Autoclass, whichever nets more; the other is in the evidence. Autoclass
    charges a management fee per 1,000 objects and no transition; the rule pays one Class
    A operation per object moved. Buckets of objects averaging under 128 KiB get no saving
    (Autoclass keeps them in Standard; the same line as the S3 policy).

    Saving formula: see GCS_TIER_FORMULA: monthly_savings = standard_bytes × cold_fraction
    / GiB × (Standard − Nearline per-GB); added_monthly_cost = objects / 1,000 × Autoclass
    fee (when chosen); upfront_cost = objects moved / 1,000 × Nearline Class A price (the
    rule). Bytes by class come from Cloud Monitoring's
    ``storage.googleapis.com/storage/total_bytes``. Confidence is low: access patterns are
    unknown.

    Sources: Google's Cloud Storage cost guidance (lifecycle management and Autoclass,
    https://cloud.google.com/storage/docs/lifecycle, https://cloud.google.com/storage/docs/autoclass);
    prices from https://cloud.google.com/storage/pricing.
    """
    totals = _bucket_totals(inv, p, CloudProvider.GCP)
    autoclass = pl.col("use_it")
    flagged = totals.filter(
        pl.col("has_lifecycle").eq(False) & pl.col("intelligent_tiering").ne(True)
    ).with_columns(
        pl.when(autoclass)
        .then(pl.lit("Autoclass"))
        .otherwise(pl.lit("NEARLINE"))
        .alias("tier_target"),
        # Autoclass charges no transition.
        pl.when(autoclass).then(0.0).otherwise(pl.col("ia_upfront")).alias("tier_upfront"),
    )
    net = pl.col("tier_saving") - pl.col("tier_added")
    return findings(
        flagged,
        detail=pl.format(
            "Bucket {} has no lifecycle rule and Autoclass is off; it holds {} GiB in "
            "Standard. Moving the cold share to {} saves about {} a month.",
            pl.col("resource_id"),
            num(pl.col("standard_bytes") / GIB),
            pl.col("tier_target"),
            money(net),
        ),
        recommendation=pl.format(
            "Add a lifecycle rule to {}: SetStorageClass NEARLINE at age {} days (or turn "
            "on Autoclass), and AbortIncompleteMultipartUpload after {} days.",
            pl.col("resource_id"),
            pl.lit(p.transition_days),
            pl.lit(p.abort_after_days),
        ),
        current_monthly_cost=pl.col("current_cost"),
        monthly_savings=pl.col("tier_saving"),
        added_monthly_cost=pl.col("tier_added"),
        upfront_cost=pl.col("tier_upfront"),
        confidence=regional_price_confidence(p.confidence, p.fallback_price_factor),
        price_source=pl.when(pl.col("price_standard_gb_month").is_null())
        .then(pl.lit("none"))
        .otherwise(pl.lit("bundled")),
        evidence=evidence(
            confidence_reason="access patterns are unknown: the cold share is the "
            "cold_fraction parameter, not a measurement",
            cold_fraction=p.cold_fraction,
            standard_bytes=pl.col("standard_bytes"),
            standard_objects=pl.col("standard_objects"),
            average_object_bytes=pl.col("average_object_bytes"),
            transition_days=p.transition_days,
            chosen_target=pl.col("tier_target"),
            lifecycle_to_nearline=pl.struct(
                saving=pl.col("ia_saving"), upfront=pl.col("ia_upfront"), added=pl.lit(0.0)
            ),
            autoclass=pl.struct(
                saving=pl.col("it_saving"), upfront=pl.lit(0.0), added=pl.col("it_added")
            ),
            prices=pl.struct(
                standard_gb_month=pl.col("price_standard_gb_month"),
                nearline_gb_month=pl.col("price_standard_ia_gb_month"),
                autoclass_management_per_1000=pl.col(
                    "price_intelligent_tiering_monitoring_per_1000"
                ),
                nearline_class_a_per_1000=pl.col("price_transition_per_1000"),
            ),
            price_region=pl.col("price_region"),
            price_reference=pl.col("price_reference"),
            metrics_date=pl.col("metrics_date").dt.to_string(),
        ),
    )
