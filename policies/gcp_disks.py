"""Compute Engine disks: pd-ssd that pd-balanced serves (the twin of storage.gp2-to-gp3).

A pd-ssd disk costs $0.17 per GB-month in the US regions and pd-balanced $0.10 for the
same provisioned size; pd-balanced gives less performance per GB, so the move counts as a
saving only where the disk's measured busiest minutes fit what pd-balanced delivers at
that size. A disk with no measured I/O is shown as a possible saving, never counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

from costscan.policies._compute import (
    evidence,
    findings,
    lookback_hours,
    money,
    num,
    regional_price_confidence,
    utilization_in_window,
)
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.contracts.registry import policy
from costscan.scanner.contracts.vocab import Category, Change

# Persistent Disk performance by size (https://cloud.google.com/compute/docs/disks/performance):
# pd-balanced gives a 3,000 IOPS and 140 MiB/s baseline plus 6 IOPS and 0.28 MiB/s per GB,
# up to 80,000 IOPS and 1,200 MiB/s per disk; pd-ssd gives 6,000 IOPS and 240 MiB/s plus
# 30 IOPS and 0.48 MiB/s per GB, up to 100,000 IOPS and 1,200 MiB/s. The per-VM limits
# (by vCPU count) cap both alike and are left out: they never favour pd-ssd.
PD_PERFORMANCE: Final = "https://cloud.google.com/compute/docs/disks/performance"
PD_PRICING: Final = "https://cloud.google.com/compute/disks-image-pricing"
BALANCED_BASE_IOPS: Final = 3000.0
BALANCED_IOPS_PER_GB: Final = 6.0
BALANCED_MAX_IOPS: Final = 80000.0
BALANCED_BASE_MIBPS: Final = 140.0
BALANCED_MIBPS_PER_GB: Final = 0.28
BALANCED_MAX_MIBPS: Final = 1200.0
SSD_BASE_IOPS: Final = 6000.0
SSD_IOPS_PER_GB: Final = 30.0
SSD_MAX_IOPS: Final = 100000.0
SSD_BASE_MIBPS: Final = 240.0
SSD_MIBPS_PER_GB: Final = 0.48
SSD_MAX_MIBPS: Final = 1200.0


def balanced_iops(size_gb: pl.Expr) -> pl.Expr:
    return (BALANCED_BASE_IOPS + size_gb * BALANCED_IOPS_PER_GB).clip(upper_bound=BALANCED_MAX_IOPS)


def balanced_mibps(size_gb: pl.Expr) -> pl.Expr:
    return (BALANCED_BASE_MIBPS + size_gb * BALANCED_MIBPS_PER_GB).clip(
        upper_bound=BALANCED_MAX_MIBPS
    )


def ssd_iops(size_gb: pl.Expr) -> pl.Expr:
    return (SSD_BASE_IOPS + size_gb * SSD_IOPS_PER_GB).clip(upper_bound=SSD_MAX_IOPS)


def ssd_mibps(size_gb: pl.Expr) -> pl.Expr:
    return (SSD_BASE_MIBPS + size_gb * SSD_MIBPS_PER_GB).clip(upper_bound=SSD_MAX_MIBPS)


@dataclass(frozen=True)
class PdSsdToBalancedParams:
    # The busiest minute must stay under this share of pd-balanced's limits: the same
    # 80% headroom the rightsizing policies keep under a smaller type's capacity.
    headroom: float = 0.8
    # Hours of the lookback with I/O figures before the peak is believed (a disk whose
    # instance ran a day of the last fourteen has not shown its busy days).
    min_coverage: float = 0.8
    confidence: float = 0.85
    # Without I/O figures the move rests on pd-ssd being bought by habit: "possible",
    # whatever the confidence floor, and shown below it.
    unmeasured_confidence: float = 0.4
    fallback_price_factor: float = 0.8


@policy(
    id="storage.pd-ssd-to-pd-balanced",
    family="storage",
    action="resize",
    title="pd-ssd disk that pd-balanced serves",
    needs=("volumes", "utilization"),
    effort_hours=1.0,
    risk="medium",
    performance="neutral",
    change=Change.REPLACE_VOLUME,
    formula="monthly_savings = size_gb × (pd-ssd per-GB − pd-balanced per-GB), when peak "
    "IOPS ≤ headroom × min(3000 + 6 × size_gb, 80000) and peak MiB/s ≤ headroom × "
    "min(140 + 0.28 × size_gb, 1200); no I/O figures: possible",
)
def pd_ssd_to_balanced(inv: InventoryView, p: PdSsdToBalancedParams) -> pl.LazyFrame:
    """Attached pd-ssd disks whose busiest minutes pd-balanced serves, for less per GB.

    Peaks come from Cloud Monitoring's disk counters (read plus write operations and
    bytes, the busiest minute of each hour, over the lookback; see
    providers/gcp/monitoring.py): ``disk_ops`` in IOPS and ``disk_throughput`` in MiB/s.
    pd-balanced at the same size gives min(3,000 + 6 × GB, 80,000) IOPS and
    min(140 + 0.28 × GB, 1,200) MiB/s; a disk is a saving when both peaks stay under
    ``headroom`` of those. A disk with both figures for at least ``min_coverage`` of the
    lookback's hours and a peak over them is left alone; a disk without them is shown at
    ``unmeasured_confidence``, under the confidence floor: a possible saving, not counted.
    Unattached disks are the unattached-volume policy's (deleting beats converting).

    Saving formula: monthly_savings = size_gb × (pd-ssd per-GB-month − pd-balanced
    per-GB-month). Persistent Disk bills provisioned GB, with no discount (committed use
    discounts and sustained use do not cover disks), so it is the same after discounts.

    Sources: Persistent Disk performance limits, https://cloud.google.com/compute/docs/disks/performance;
    prices, https://cloud.google.com/compute/disks-image-pricing. Google's Recommender has
    no pd-ssd advice; AWS Compute Optimizer's gp2 -> gp3 EBS advice is the pattern.
    """
    hours = float(lookback_hours(inv))
    ops = pl.col("metric") == "disk_ops"
    throughput = pl.col("metric") == "disk_throughput"
    hour = pl.col("ts").dt.truncate("1h")
    peaks = (
        utilization_in_window(inv)
        .filter(ops | throughput)
        .group_by("resource_id")
        .agg(
            pl.col("value").filter(ops).max().alias("_peak_iops"),
            pl.col("value").filter(throughput).max().alias("_peak_mibps"),
            (
                pl.min_horizontal(hour.filter(ops).n_unique(), hour.filter(throughput).n_unique())
                / hours
            ).alias("_coverage"),
        )
    )
    size = pl.col("size_gb")
    measured = pl.col("_coverage").fill_null(0.0) >= p.min_coverage
    fits = (pl.col("_peak_iops") <= p.headroom * pl.col("_balanced_iops")) & (
        pl.col("_peak_mibps") <= p.headroom * pl.col("_balanced_mibps")
    )
    flagged = (
        inv.lazy("volumes")
        .filter(
            (pl.col("volume_type") == "pd-ssd")
            & pl.col("attached_to").is_not_null()
            & pl.col("price_pd_balanced_gb_month").is_not_null()
        )
        .join(peaks, on="resource_id", how="left")
        .with_columns(
            balanced_iops(size).alias("_balanced_iops"),
            balanced_mibps(size).alias("_balanced_mibps"),
            ssd_iops(size).alias("_ssd_iops"),
            ssd_mibps(size).alias("_ssd_mibps"),
            (size * pl.col("price_pd_balanced_gb_month")).alias("_balanced_cost"),
            measured.alias("_measured"),
        )
        .with_columns((pl.col("monthly_price") - pl.col("_balanced_cost")).alias("_saving"))
        .filter((pl.col("_saving") > 0) & (~pl.col("_measured") | fits))
    )
    limits = pl.format(
        "pd-balanced at {} GB gives {} IOPS and {} MiB/s (pd-ssd: {} IOPS and {} MiB/s)",
        num(size),
        num(pl.col("_balanced_iops")),
        num(pl.col("_balanced_mibps")),
        num(pl.col("_ssd_iops")),
        num(pl.col("_ssd_mibps")),
    )
    observed = pl.format(
        "its busiest minute over the lookback reached {} IOPS and {} MiB/s",
        num(pl.col("_peak_iops")),
        num(pl.col("_peak_mibps")),
    )
    unmeasured = pl.lit(
        "Cloud Monitoring reported no disk I/O for it over the lookback, so whether "
        "pd-balanced keeps up is not known: a possible saving, not counted"
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} is pd-ssd, {} GB, attached to {}; {}; {}. As pd-balanced it costs {} instead "
            "of {} a month.",
            pl.col("resource_id"),
            num(size),
            pl.col("attached_to"),
            limits,
            pl.when(pl.col("_measured")).then(observed).otherwise(unmeasured),
            money(pl.col("_balanced_cost")),
            money(pl.col("monthly_price")),
        ),
        recommendation=pl.format(
            "Snapshot {} and create a pd-balanced disk of {} GB from it, then swap it in on "
            "{} (detach, attach, remount); keep the old disk until the workload is checked.",
            pl.col("resource_id"),
            num(size),
            pl.col("attached_to"),
        ),
        current_monthly_cost=pl.col("monthly_price"),
        monthly_savings=pl.col("_saving"),
        category=pl.when(pl.col("_measured"))
        .then(pl.lit(Category.SAVINGS.value))
        .otherwise(pl.lit(Category.POSSIBLE.value)),
        confidence=regional_price_confidence(
            pl.when(pl.col("_measured"))
            .then(pl.lit(p.confidence))
            .otherwise(pl.lit(p.unmeasured_confidence)),
            p.fallback_price_factor,
        ),
        price_source=pl.col("price_source"),
        exclusive_group=pl.col("attached_to"),
        group_key=pl.lit("pd-ssd→pd-balanced"),
        evidence=evidence(
            size_gb=size,
            attached_to=pl.col("attached_to"),
            pd_ssd_monthly_price=pl.col("monthly_price"),
            pd_ssd_price_gb_month=pl.col("price_storage_gb_month"),
            pd_balanced_price_gb_month=pl.col("price_pd_balanced_gb_month"),
            peak_iops=pl.col("_peak_iops"),
            peak_mibps=pl.col("_peak_mibps"),
            io_hours_coverage=pl.col("_coverage").fill_null(0.0),
            pd_balanced_iops=pl.col("_balanced_iops"),
            pd_balanced_mibps=pl.col("_balanced_mibps"),
            pd_ssd_iops=pl.col("_ssd_iops"),
            pd_ssd_mibps=pl.col("_ssd_mibps"),
            headroom=p.headroom,
            performance_source=PD_PERFORMANCE,
            prices=PD_PRICING,
            price_region=pl.col("price_region"),
            price_reference=pl.col("price_reference"),
        ),
    )
