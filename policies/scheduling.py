"""Scheduling: non-production instances that run around the clock.

Stopping a development or test instance outside the hours it is used saves its price for
every hour it is off. The active window is read from the instance's own hourly CPU shape
where the data shows one; otherwise the common 12 hours × 5 days default applies.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from costscan.policies._compute import (
    WEEKDAY_NAMES,
    asg_key,
    evidence,
    findings,
    hourly_coverage,
    lookback_hours,
    money,
    monthly,
    preferred_series,
    price_evidence,
    running_instances,
)
from costscan.policies._discounts import (
    after_discounts,
    commitment_note,
    discount_columns,
    discount_evidence,
)
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.contracts.registry import policy
from costscan.scanner.contracts.units import HOURS_PER_MONTH, HOURS_PER_WEEK, WEEKS_PER_MONTH
from costscan.scanner.contracts.vocab import Change


@dataclass(frozen=True)
class OffhoursParams:
    # Tags that mean the instance is already scheduled: Cloud Custodian's offhours filter
    # reads ``maid_offhours`` (https://cloudcustodian.io/docs/aws/examples/offhours.html),
    # AWS Instance Scheduler reads ``Schedule``
    # (https://docs.aws.amazon.com/solutions/latest/instance-scheduler-on-aws/). Keys
    # match case-insensitively.
    schedule_tag_keys: tuple[str, ...] = ("maid_offhours", "Schedule")
    # "Runs around the clock": CPU datapoints in at least this share of the lookback's
    # hours (CloudWatch publishes EC2 metrics only while an instance runs).
    min_coverage: float = 0.9
    # An hour of the week is busy when its mean CPU is above
    # max(busy_factor × the instance's median CPU, busy_floor_percent), or above the
    # floor alone when the median is over it. The floor keeps background agents
    # (patching, monitoring: low single-digit CPU) from counting as use.
    busy_factor: float = 2.0
    busy_floor_percent: float = 10.0
    # Hours added before the first and after the last busy hour of each day.
    buffer_hours: int = 1
    # Without a visible shape: on 12 hours a day, 5 days a week (60 on, 108 off), a
    # business-hours week with an hour's margin each side. AWS Prescriptive Guidance's
    # Instance Scheduler example cuts 168 h to 50 h a week, "up to 70 percent" saved:
    # https://docs.aws.amazon.com/prescriptive-guidance/latest/optimize-costs-microsoft-workloads/windows-ec2-schedules.html
    default_hours_per_day: int = 12
    default_days_per_week: int = 5
    # A shape that leaves fewer hours off than this is a busy instance, not a candidate.
    min_off_hours_per_week: int = 24
    confidence_shape: float = 0.8
    confidence_default: float = 0.6


@policy(
    id="scheduling.offhours",
    family="scheduling",
    action="schedule",
    title="Non-production instance runs around the clock",
    needs=("compute", "utilization", "tags", "prices", "commitments"),
    effort_hours=2.0,
    risk="low",
    performance="neutral",
    change=Change.SCHEDULE_INSTANCE,
    formula="monthly_savings = hourly_price × hours_off_per_week × 52 / 12",
)
def offhours(inv: InventoryView, p: OffhoursParams) -> pl.LazyFrame:
    """Non-production instances that run 24/7: stop them outside the hours they are used.

    Flagged: a running instance tagged as non-production (a tag key and value from the
    run's ``nonprod_tags``, case-insensitive) with CPU data for at least ``min_coverage``
    of the lookback's hours, and no schedule tag (``schedule_tag_keys``: Cloud
    Custodian's ``maid_offhours``, AWS Instance Scheduler's ``Schedule``).

    Active window: mean CPU per (weekday, hour of day) over the lookback; an hour is busy
    above max(``busy_factor`` × the instance's median hourly CPU, ``busy_floor_percent``)
    (above the floor alone when the median is over it: such an instance is in use most
    hours).
    Each weekday with busy hours is on from ``buffer_hours`` before its first busy hour
    to ``buffer_hours`` after its last (whole hours, UTC); other days are off. With no
    busy hour at all, the default is ``default_hours_per_day`` ×
    ``default_days_per_week`` on (12 × 5 = 60 on, 108 off), at lower confidence. A shape
    that leaves fewer than ``min_off_hours_per_week`` off is not flagged.

    Saving formula: monthly_savings = hourly_price × hours_off_per_week × 52 / 12, where
    hours_off_per_week = 168 − hours_on_per_week.

    Sources: Cloud Custodian offhours (``maid_offhours`` tag,
    https://cloudcustodian.io/docs/aws/examples/offhours.html); AWS Instance Scheduler
    (``Schedule`` tag,
    https://docs.aws.amazon.com/solutions/latest/instance-scheduler-on-aws/); the
    business-hours default after AWS Prescriptive Guidance, whose Instance Scheduler
    example runs 50 of 168 hours a week for "up to 70 percent" saved
    (https://docs.aws.amazon.com/prescriptive-guidance/latest/optimize-costs-microsoft-workloads/windows-ec2-schedules.html),
    and AWS Well-Architected COST09-BP03 "Supply resources dynamically" (time-based
    supply, https://docs.aws.amazon.com/wellarchitected/latest/framework/cost-09.html).
    """
    instances = running_instances(inv)
    tags = inv.lazy("tags").with_columns(
        pl.col("key").str.to_lowercase().alias("_key"),
        pl.col("value").str.to_lowercase().alias("_value"),
    )
    nonprod_pairs = pl.LazyFrame(
        [
            {"_key": key.lower(), "_value": value.lower()}
            for key, values in inv.context.nonprod_tags.items()
            for value in values
        ],
        schema={"_key": pl.String(), "_value": pl.String()},
    )
    nonprod = (
        tags.join(nonprod_pairs, on=["_key", "_value"], how="inner")
        .sort("resource_id", "key", "value")
        .group_by("resource_id")
        .agg(pl.col("key").first().alias("tag_key"), pl.col("value").first().alias("tag_value"))
    )
    scheduled = (
        tags.filter(pl.col("_key").is_in([k.lower() for k in p.schedule_tag_keys]))
        .select("resource_id")
        .unique()
    )
    coverage = hourly_coverage(inv).filter(pl.col("coverage") >= p.min_coverage)
    eligible = (
        instances.join(nonprod, on="resource_id", how="inner")
        .join(scheduled, on="resource_id", how="anti")
        .join(coverage, on="resource_id", how="inner")
    )
    # The weekly shape is the costly part: read it only for the eligible instances.
    shape = _weekly_shape(inv, p, eligible.select("resource_id"))
    candidates = eligible.join(shape, on="resource_id", how="left")
    default_on = p.default_hours_per_day * p.default_days_per_week
    derived = pl.col("on_hours").is_not_null()
    on_hours = pl.when(derived).then(pl.col("on_hours")).otherwise(pl.lit(default_on))
    default_text = (
        f"{p.default_hours_per_day} h a day, {p.default_days_per_week} days a week "
        "(the default: no busy hours in the data)"
    )
    flagged = candidates.with_columns(
        derived.alias("_derived"),
        on_hours.cast(pl.Int64).alias("_on_hours"),
        (HOURS_PER_WEEK - on_hours).cast(pl.Int64).alias("_off_hours"),
        pl.coalesce(pl.col("schedule_text"), pl.lit(default_text)).alias("_schedule"),
    ).filter(pl.col("_off_hours") >= p.min_off_hours_per_week)

    saving = pl.col("hourly_price") * pl.col("_off_hours") * WEEKS_PER_MONTH
    flagged = after_discounts(
        inv, flagged, saving, running_share_after=pl.col("_on_hours") / HOURS_PER_WEEK
    )
    return findings(
        flagged,
        detail=pl.format(
            "{} ({}) is tagged {}={} and ran {} of the last {} hours; busy: {}.{}",
            pl.col("resource_id"),
            pl.col("instance_type"),
            pl.col("tag_key"),
            pl.col("tag_value"),
            pl.col("hours_with_data"),
            pl.lit(lookback_hours(inv)),
            pl.coalesce(pl.col("busy_text"), pl.lit("no hour above the busy line")),
            commitment_note(),
        ),
        recommendation=pl.when(pl.col("group").is_null() | (pl.col("group") == ""))
        .then(
            pl.format(
                "Run {} only {} ({} h on, {} h off a week) with an Instance Scheduler "
                "`Schedule` or Custodian `maid_offhours` tag; saves {} a month.",
                pl.col("resource_id"),
                pl.col("_schedule"),
                pl.col("_on_hours"),
                pl.col("_off_hours"),
                money(saving),
            )
        )
        .otherwise(
            # A group replaces a member that is stopped; its capacity is what to schedule.
            pl.format(
                "Give Auto Scaling group {} scheduled actions so {} runs only {} ({} h on, "
                "{} h off a week); saves {} a month.",
                pl.col("group"),
                pl.col("resource_id"),
                pl.col("_schedule"),
                pl.col("_on_hours"),
                pl.col("_off_hours"),
                money(saving),
            )
        ),
        current_monthly_cost=monthly(pl.col("hourly_price")),
        **discount_columns(
            before=pl.col("list_hourly_price") * pl.col("_off_hours") * WEEKS_PER_MONTH
        ),
        group_key=asg_key(),
        confidence=pl.when(pl.col("_derived"))
        .then(pl.lit(p.confidence_shape))
        .otherwise(pl.lit(p.confidence_default)),
        price_source=pl.col("price_source"),
        evidence=evidence(
            hours_per_month=HOURS_PER_MONTH,
            weeks_per_month=WEEKS_PER_MONTH,
            price=price_evidence(
                pl.col("instance_type"), pl.col("hourly_price"), pl.col("price_source")
            ),
            discounts=discount_evidence(),
            hours_on_per_week=pl.col("_on_hours"),
            hours_off_per_week=pl.col("_off_hours"),
            window=pl.struct(
                derived_from_data=pl.col("_derived"),
                busy=pl.col("busy_text"),
                schedule=pl.col("_schedule"),
                busy_line_percent=pl.col("busy_line"),
                median_cpu_percent=pl.col("median_cpu"),
                busy_factor=pl.lit(p.busy_factor),
                busy_floor_percent=pl.lit(p.busy_floor_percent),
                buffer_hours=pl.lit(p.buffer_hours),
            ),
            nonprod_tag=pl.struct(key=pl.col("tag_key"), value=pl.col("tag_value")),
            coverage=pl.struct(
                hours_with_data=pl.col("hours_with_data"),
                expected_hours=pl.lit(lookback_hours(inv)),
                share=pl.col("coverage"),
                min_share=pl.lit(p.min_coverage),
            ),
        ),
    )


def _weekly_shape(inv: InventoryView, p: OffhoursParams, resources: pl.LazyFrame) -> pl.LazyFrame:
    """Per resource of ``resources`` with CPU data: busy line, on-hours a week, windows.

    Columns: resource_id, median_cpu, busy_line, on_hours, busy_text, schedule_text.
    The last three are null for a resource with no busy hour (the caller then falls back
    to the default schedule).
    """
    series = (
        preferred_series(inv, "cpu")
        .join(resources, on="resource_id", how="semi")
        .with_columns(
            pl.col("ts").dt.weekday().alias("weekday"),
            pl.col("ts").dt.hour().cast(pl.Int64).alias("hour"),
        )
    )
    lines = (
        series.group_by("resource_id")
        .agg(pl.col("value").median().alias("median_cpu"))
        .with_columns(
            # An instance whose median is already above the floor is in use most hours,
            # and a multiple of its median would hide that: the floor alone decides.
            pl.when(pl.col("median_cpu") >= p.busy_floor_percent)
            .then(pl.lit(p.busy_floor_percent))
            .otherwise(
                pl.max_horizontal(
                    pl.col("median_cpu") * p.busy_factor, pl.lit(p.busy_floor_percent)
                )
            )
            .alias("busy_line")
        )
    )
    slots = (
        series.group_by("resource_id", "weekday", "hour")
        .agg(pl.col("value").mean().alias("mean_cpu"))
        .join(lines, on="resource_id", how="inner")
    )
    days = (
        slots.filter(pl.col("mean_cpu") > pl.col("busy_line"))
        .group_by("resource_id", "weekday")
        .agg(
            pl.col("hour").min().alias("busy_start"),
            (pl.col("hour").max() + 1).alias("busy_end"),
        )
        .with_columns(
            pl.max_horizontal(pl.col("busy_start") - p.buffer_hours, pl.lit(0)).alias("on_start"),
            pl.min_horizontal(pl.col("busy_end") + p.buffer_hours, pl.lit(24)).alias("on_end"),
        )
    )
    on_hours = days.group_by("resource_id").agg(
        (pl.col("on_end") - pl.col("on_start")).sum().alias("on_hours")
    )
    busy_text = _window_text(days, "busy_start", "busy_end", "busy_text")
    schedule_text = _window_text(days, "on_start", "on_end", "schedule_text")
    return (
        lines.join(on_hours, on="resource_id", how="left")
        .join(busy_text, on="resource_id", how="left")
        .join(schedule_text, on="resource_id", how="left")
    )


def _window_text(days: pl.LazyFrame, start: str, end: str, name: str) -> pl.LazyFrame:
    """Describe per-weekday windows compactly: "Mon-Fri 08:00-18:00 UTC; Sat 10:00-12:00 UTC".

    Weekdays sharing a window are grouped; a run of consecutive days shows as a range.
    """

    def clock(col: str) -> pl.Expr:
        return pl.format("{}:00", pl.col(col).cast(pl.String).str.pad_start(2, "0"))

    day_name = pl.element().replace_strict(WEEKDAY_NAMES, return_dtype=pl.String)
    grouped = (
        days.with_columns(pl.format("{}-{}", clock(start), clock(end)).alias("_hours"))
        .group_by("resource_id", "_hours")
        .agg(
            pl.col("weekday").min().alias("_first"),
            pl.col("weekday").max().alias("_last"),
            pl.col("weekday").sort().alias("_days"),
        )
        .with_columns(
            pl.when(pl.col("_first") == pl.col("_last"))
            .then(pl.col("_days").list.eval(day_name).list.first())
            .when(pl.col("_days").list.len() == pl.col("_last") - pl.col("_first") + 1)
            .then(
                pl.format(
                    "{}-{}",
                    pl.col("_first").replace_strict(WEEKDAY_NAMES, return_dtype=pl.String),
                    pl.col("_last").replace_strict(WEEKDAY_NAMES, return_dtype=pl.String),
                )
            )
            .otherwise(pl.col("_days").list.eval(day_name).list.join(","))
            .alias("_day_text")
        )
    )
    return (
        grouped.sort("resource_id", "_first")
        .group_by("resource_id", maintain_order=True)
        .agg(
            pl.format("{} {} UTC", pl.col("_day_text"), pl.col("_hours")).str.join("; ").alias(name)
        )
    )
