"""The hourly CPU behind compute findings, small enough to draw inline in a report.

The engine passes the inventory's utilization frame and the findings; this picks the
compute resources the report shows (each finding's resource, or the first members of a
grouped one, best ranked first, at most ``MAX_SERIES``) and lays their hourly CPU average
and maximum on one grid of ``hours`` hours ending at the run's start, one decimal each:
a chart needs no more, and a 50,000-finding report stays a file a browser opens.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl

# Resources with a chart: 500 × 336 hours × 2 series is about 1.5 MB of JSON at most.
MAX_SERIES = 500
# Members of a grouped finding drawn: enough to see they behave alike.
MEMBERS_CHARTED = 3


@dataclass(frozen=True)
class CpuSeries:
    """One resource's hourly CPU (percent), ``average[i]`` for the hour ``start + i``."""

    start: str  # ISO 8601 UTC, the first hour
    average: list[float | None]
    maximum: list[float | None]

    def document(self) -> dict[str, Any]:
        return {"start": self.start, "average": self.average, "maximum": self.maximum}

    @staticmethod
    def from_document(document: Any) -> CpuSeries | None:
        if not isinstance(document, dict) or not isinstance(document.get("start"), str):
            return None
        average = document.get("average")
        maximum = document.get("maximum")
        if not isinstance(average, list) or not isinstance(maximum, list):
            return None
        return CpuSeries(document["start"], list(average), list(maximum))


def charted_resources(
    frames: Iterable[pl.DataFrame], compute_ids: Iterable[str], limit: int = MAX_SERIES
) -> list[str]:
    """The compute resources the report draws, in the order the findings rank them."""
    known = set(compute_ids)
    out: dict[str, None] = {}
    for frame in frames:
        if frame.height == 0:
            continue
        columns = frame.select("resource_id", "members").iter_rows()
        for resource_id, members in columns:
            for candidate in [resource_id, *_member_ids(members)[:MEMBERS_CHARTED]]:
                if candidate in known and candidate not in out:
                    out[candidate] = None
                    if len(out) >= limit:
                        return list(out)
    return list(out)


def _member_ids(members: str | None) -> list[str]:
    if not members:
        return []
    try:
        parsed = json.loads(members)
    except ValueError:
        return []
    if not isinstance(parsed, list):
        return []
    return [
        str(m.get("resource_id")) if isinstance(m, dict) else str(m)
        for m in parsed
        if m is not None
    ]


def cpu_series(
    utilization: pl.DataFrame, resource_ids: Sequence[str], *, end: datetime, hours: int
) -> dict[str, CpuSeries]:
    """Hourly CPU average and maximum of ``resource_ids`` over the ``hours`` before
    ``end`` (truncated to the hour), one decimal; hours without data are null."""
    if not resource_ids or utilization.height == 0 or hours <= 0:
        return {}
    last = end.replace(minute=0, second=0, microsecond=0)
    first = last - timedelta(hours=hours)
    wanted = pl.Series("resource_id", list(resource_ids), dtype=pl.String)
    cpu = (
        utilization.lazy()
        .filter(
            (pl.col("metric") == "cpu")
            & pl.col("statistic").is_in(["average", "maximum"])
            & pl.col("resource_id").is_in(wanted.implode())
        )
        .with_columns(
            ((pl.col("ts").dt.truncate("1h") - pl.lit(first)).dt.total_hours())
            .cast(pl.Int64)
            .alias("hour")
        )
        .filter((pl.col("hour") >= 0) & (pl.col("hour") < hours))
        .group_by("resource_id", "hour", "statistic")
        .agg(pl.col("value").mean().round(1))
        .collect()
    )
    if cpu.height == 0:
        return {}
    present = cpu["resource_id"].unique()
    grid = (
        pl.DataFrame({"resource_id": present})
        .join(pl.DataFrame({"hour": pl.int_range(0, hours, eager=True)}), how="cross")
        .join(
            cpu.filter(pl.col("statistic") == "average").select(
                "resource_id", "hour", pl.col("value").alias("average")
            ),
            on=["resource_id", "hour"],
            how="left",
        )
        .join(
            cpu.filter(pl.col("statistic") == "maximum").select(
                "resource_id", "hour", pl.col("value").alias("maximum")
            ),
            on=["resource_id", "hour"],
            how="left",
        )
        .sort("resource_id", "hour")
        .group_by("resource_id", maintain_order=True)
        .agg("average", "maximum")
    )
    start = first.strftime("%Y-%m-%dT%H:%M:%SZ")
    by_id = {
        resource_id: CpuSeries(start, list(average), list(maximum))
        for resource_id, average, maximum in grid.iter_rows()
    }
    return {r: by_id[r] for r in resource_ids if r in by_id}
