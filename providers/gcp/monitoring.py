"""Cloud Monitoring: hourly utilization of every instance, and Cloud Storage bytes by class.

One ``ListTimeSeries`` per metric type and aligner per project, whose filter names the
metric type and the monitored resource type only, so a single call (and the pages it
runs to) covers every instance of the project: never one call per VM. Aligned hourly
(``alignmentPeriod`` 3600 s), the answer is the same shape as the AWS collector's
GetMetricData series:

- cpu, average and maximum: ``compute.googleapis.com/instance/cpu/utilization`` with
  ALIGN_MEAN and ALIGN_MAX, a fraction made percent;
- network_in and network_out, sum: ``compute.googleapis.com/instance/network/
  received_bytes_count`` and ``.../sent_bytes_count`` with ALIGN_SUM, bytes in the hour;
- memory, average: ``agent.googleapis.com/memory/percent_used`` (state "used", the Ops
  Agent's) with ALIGN_MEAN, percent

(https://cloud.google.com/monitoring/api/metrics_gcp_c and .../metrics_agent). Points are
stamped with the start of their hour, as the AWS series are. ``CallCounter`` counts the
requests (pages included) for the benchmark.

Disk activity (``disk_activity``, asked only in a project with an attached pd-ssd disk):
``compute.googleapis.com/instance/disk/{read,write}_{ops,bytes}_count``, one call each,
filtered to ``storage_type`` pd-ssd. These are DELTA counts sampled every 60 s, so ALIGN_MAX
over the hour is the busiest minute's count; divided by 60 it is that minute's rate. Read
and write peaks are added (an upper bound on their joint peak: they may fall in different
minutes), and the series, which name the instance and its device, are keyed to the disk.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import polars as pl

from costscan.scanner.contracts import schema

HOUR: Final = 3600
DAY: Final = 86400


@dataclass(frozen=True)
class Query:
    metric: str  # the utilization frame's metric
    statistic: str
    metric_type: str
    aligner: str
    scale: float = 1.0  # to the frame's unit (fraction -> percent)
    extra_filter: str = ""


QUERIES: tuple[Query, ...] = (
    Query("cpu", "average", "compute.googleapis.com/instance/cpu/utilization", "ALIGN_MEAN", 100.0),
    Query("cpu", "maximum", "compute.googleapis.com/instance/cpu/utilization", "ALIGN_MAX", 100.0),
    Query(
        "network_in", "sum", "compute.googleapis.com/instance/network/received_bytes_count",
        "ALIGN_SUM",
    ),
    Query(
        "network_out", "sum", "compute.googleapis.com/instance/network/sent_bytes_count",
        "ALIGN_SUM",
    ),
    Query(
        "memory", "average", "agent.googleapis.com/memory/percent_used", "ALIGN_MEAN",
        extra_filter=' AND metric.labels.state = "used"',
    ),
)  # fmt: skip
MIB: Final = 1024.0 * 1024.0
# Compute Engine samples the disk counters every 60 s (metrics_gcp_c: "Sampled every 60
# seconds"): a minute's count over 60 is its mean rate per second.
DISK_SAMPLE_SECONDS: Final = 60.0
PD_SSD_FILTER: Final = ' AND metric.labels.storage_type = "pd-ssd"'
DISK_QUERIES: tuple[Query, ...] = tuple(
    Query(metric, "maximum", f"compute.googleapis.com/instance/disk/{kind}", "ALIGN_MAX",
          scale, PD_SSD_FILTER)
    for metric, scale, kinds in (
        ("disk_ops", 1.0 / DISK_SAMPLE_SECONDS, ("read_ops_count", "write_ops_count")),
        ("disk_throughput", 1.0 / DISK_SAMPLE_SECONDS / MIB,
         ("read_bytes_count", "write_bytes_count")),
    )
    for kind in kinds
)  # fmt: skip
LOG_BUCKET_INGESTED: Final = "logging.googleapis.com/billing/log_bucket_bytes_ingested"
LOG_BUCKET_STORED: Final = "logging.googleapis.com/billing/bytes_stored"
STORAGE_BYTES: Final = "storage.googleapis.com/storage/total_bytes"
STORAGE_OBJECTS: Final = "storage.googleapis.com/storage/object_count"


@dataclass
class CallCounter:
    """ListTimeSeries requests (pages included) by metric type."""

    calls: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, metric_type: str) -> None:
        with self._lock:
            self.calls[metric_type] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def window(now: datetime, lookback_days: int) -> tuple[datetime, datetime]:
    """[start, end) on whole hours: the hour running now has not finished."""
    end = now.replace(minute=0, second=0, microsecond=0)
    return end - timedelta(days=lookback_days), end


def _list(
    client: Any,
    project: str,
    metric_filter: str,
    start: datetime,
    end: datetime,
    period: int,
    aligner: str,
    counter: CallCounter | None,
    metric_type: str,
) -> list[Any]:
    """Every time series of one ListTimeSeries, all pages, as raw protobuf messages."""
    from google.cloud import monitoring_v3

    request = monitoring_v3.ListTimeSeriesRequest(
        name=f"projects/{project}",
        filter=metric_filter,
        interval=monitoring_v3.TimeInterval(start_time=start, end_time=end),
        aggregation=monitoring_v3.Aggregation(
            alignment_period={"seconds": period},
            per_series_aligner=getattr(monitoring_v3.Aggregation.Aligner, aligner),
        ),
        view=monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL,
    )
    series: list[Any] = []
    for page in client.list_time_series(request=request).pages:
        if counter is not None:
            counter.add(metric_type)
        # The raw protobuf messages: proto-plus wrappers cost microseconds per field read,
        # and a thousand instances send a third of a million points per query.
        series.extend(type(page).pb(page).time_series)
    return series


def _value(point: Any) -> float:
    which = point.value.WhichOneof("value")
    return float(getattr(point.value, which)) if which else float("nan")


def instance_utilization(
    client: Any,
    project: str,
    now: datetime,
    lookback_days: int,
    counter: CallCounter | None = None,
    queries: Sequence[Query] = QUERIES,
) -> pl.DataFrame:
    """The ``utilization`` frame for every instance of ``project``: one call per query."""
    start, end = window(now, lookback_days)
    ids: list[str] = []
    metrics: list[str] = []
    statistics: list[str] = []
    stamps: list[int] = []
    values: list[float] = []
    for query in queries:
        found = _list(
            client,
            project,
            f'metric.type = "{query.metric_type}" AND resource.type = "gce_instance"'
            + query.extra_filter,
            start,
            end,
            HOUR,
            query.aligner,
            counter,
            query.metric_type,
        )
        for series in found:
            labels = series.resource.labels
            name = series.metric.labels.get("instance_name") or labels.get("instance_id", "")
            owner, zone = labels.get("project_id", project), labels.get("zone", "")
            rid = f"projects/{owner}/zones/{zone}/instances/{name}"
            for point in series.points:
                ids.append(rid)
                # An aligned point covers the hour that ends at its end time.
                stamps.append(point.interval.end_time.seconds - HOUR)
                values.append(_value(point) * query.scale)
            metrics.extend([query.metric] * len(series.points))
            statistics.extend([query.statistic] * len(series.points))
    frame = pl.DataFrame(
        {
            "resource_id": ids,
            "metric": metrics,
            "statistic": statistics,
            "ts": (pl.Series(stamps, dtype=pl.Int64) * 1_000_000).cast(schema.UTC_TS),
            "value": pl.Series(values, dtype=pl.Float64),
        }
    )
    return schema.conform("utilization", frame.filter(pl.col("value").is_not_nan()))


def disk_activity(
    client: Any,
    project: str,
    now: datetime,
    lookback_days: int,
    devices: pl.DataFrame,
    counter: CallCounter | None = None,
) -> pl.DataFrame:
    """``utilization`` rows per pd-ssd disk and hour: ``disk_ops`` (peak IOPS) and
    ``disk_throughput`` (peak MiB/s), read and write added; one call per metric type.

    ``devices`` maps (``instance_id``, ``device_name``) to ``disk_id``; a series whose
    device matches no attached disk is dropped (a local SSD reports too)."""
    start, end = window(now, lookback_days)
    rows: dict[str, list[Any]] = {k: [] for k in ("instance_id", "device_name", "metric", "ts")}
    values: list[float] = []
    for query in DISK_QUERIES:
        found = _list(
            client,
            project,
            f'metric.type = "{query.metric_type}" AND resource.type = "gce_instance"'
            + query.extra_filter,
            start,
            end,
            HOUR,
            query.aligner,
            counter,
            query.metric_type,
        )
        for series in found:
            labels = series.resource.labels
            name = series.metric.labels.get("instance_name") or labels.get("instance_id", "")
            owner, zone = labels.get("project_id", project), labels.get("zone", "")
            count = len(series.points)
            rows["instance_id"].extend([f"projects/{owner}/zones/{zone}/instances/{name}"] * count)
            rows["device_name"].extend([series.metric.labels.get("device_name", "")] * count)
            rows["metric"].extend([query.metric] * count)
            rows["ts"].extend(p.interval.end_time.seconds - HOUR for p in series.points)
            values.extend(_value(p) * query.scale for p in series.points)
    frame = pl.DataFrame(
        {
            **{k: pl.Series(v, dtype=pl.String) for k, v in rows.items() if k != "ts"},
            "ts": (pl.Series(rows["ts"], dtype=pl.Int64) * 1_000_000).cast(schema.UTC_TS),
            "value": pl.Series(values, dtype=pl.Float64),
        }
    )
    keyed = (
        frame.filter(pl.col("value").is_not_nan())
        .join(devices.select("instance_id", "device_name", "disk_id"),
              on=["instance_id", "device_name"], how="inner")
        .group_by("disk_id", "metric", "ts")
        .agg(pl.col("value").sum())
        .sort("disk_id", "metric", "ts")
    )  # fmt: skip
    return schema.conform(
        "utilization",
        keyed.select(
            pl.col("disk_id").alias("resource_id"),
            "metric",
            pl.lit("maximum").alias("statistic"),
            "ts",
            "value",
        ),
    )


# User-defined metric domains Cloud Monitoring bills by volume: custom metrics (also
# OpenTelemetry and agent-written ones land here as custom or workload) and Managed Service
# for Prometheus (https://cloud.google.com/monitoring/api/metrics#metric-domains).
CHARGEABLE_PREFIXES: Final = ("custom.googleapis.com/", "prometheus.googleapis.com/")


@dataclass(frozen=True)
class MetricCount:
    """One user-defined metric type: its series active over the window and, per label
    key, how many distinct values they hold."""

    metric_type: str
    series: int
    distinct: dict[str, int]


def metric_descriptors(client: Any, project: str, counter: CallCounter | None = None) -> list[str]:
    """Types of the project's user-defined metrics (``ListMetricDescriptors``, one call per
    chargeable prefix, all pages)."""
    from google.cloud import monitoring_v3

    found: list[str] = []
    for prefix in CHARGEABLE_PREFIXES:
        request = monitoring_v3.ListMetricDescriptorsRequest(
            name=f"projects/{project}", filter=f'metric.type = starts_with("{prefix}")'
        )
        for page in client.list_metric_descriptors(request=request).pages:
            if counter is not None:
                counter.add(f"metricDescriptors:{prefix}")
            found.extend(str(d.type) for d in type(page).pb(page).metric_descriptors)
    return sorted(set(found))


def metric_series_counts(
    client: Any, project: str, now: datetime, metric_types: Sequence[str],
    counter: CallCounter | None = None,
) -> list[MetricCount]:  # fmt: skip
    """Active series per metric type over the last day: one ``ListTimeSeries`` per type,
    HEADERS view (labels only, no points), all pages."""
    from google.cloud import monitoring_v3

    start = now - timedelta(days=1)
    counts = []
    for metric_type in metric_types:
        request = monitoring_v3.ListTimeSeriesRequest(
            name=f"projects/{project}",
            filter=f'metric.type = "{metric_type}"',
            interval=monitoring_v3.TimeInterval(start_time=start, end_time=now),
            view=monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.HEADERS,
        )
        values: dict[str, set[str]] = {}
        series = 0
        for page in client.list_time_series(request=request).pages:
            if counter is not None:
                counter.add(metric_type)
            for header in type(page).pb(page).time_series:
                series += 1
                for key, value in header.metric.labels.items():
                    values.setdefault(key, set()).add(value)
        counts.append(MetricCount(metric_type, series, {k: len(v) for k, v in values.items()}))
    return counts


LOG_USAGE_SCHEMA: dict[str, pl.DataType] = {
    "location": pl.String(),
    "bucket_id": pl.String(),
    "stored_bytes": pl.Float64(),
    "ingested_bytes_30d": pl.Float64(),
}


def log_bucket_usage(
    client: Any, project: str, now: datetime, lookback_days: int, counter: CallCounter | None = None
) -> pl.DataFrame:
    """Per log bucket (``log_bucket_location``, ``log_bucket_id``): bytes taken in over the
    lookback, scaled to 30 days (``billing/log_bucket_bytes_ingested``, DELTA, summed by
    day, every log source and resource type), and bytes stored on the latest day
    (``billing/bytes_stored``, GAUGE, every data type). Two calls.

    Both are Cloud Logging's own billing metrics (https://cloud.google.com/monitoring/api/
    metrics_gcp_i_o#gcp-logging)."""
    start, end = window(now, lookback_days)
    ingested: dict[tuple[str, str], float] = {}
    for series in _list(
        client, project, f'metric.type = "{LOG_BUCKET_INGESTED}"', start, end, DAY,
        "ALIGN_SUM", counter, LOG_BUCKET_INGESTED,
    ):  # fmt: skip
        labels = series.metric.labels
        key = (labels.get("log_bucket_location", ""), labels.get("log_bucket_id", ""))
        total = sum(v for p in series.points if not math.isnan(v := _value(p)))
        ingested[key] = ingested.get(key, 0.0) + total
    stored: dict[tuple[str, str], tuple[int, float]] = {}
    for series in _list(
        client, project, f'metric.type = "{LOG_BUCKET_STORED}"', now - timedelta(days=3), now,
        DAY, "ALIGN_MEAN", counter, LOG_BUCKET_STORED,
    ):  # fmt: skip
        if not series.points:
            continue
        labels = series.metric.labels
        key = (labels.get("log_bucket_location", ""), labels.get("log_bucket_id", ""))
        latest = max(series.points, key=lambda p: p.interval.end_time.seconds)
        day, value = latest.interval.end_time.seconds, _value(latest)
        held_day, held = stored.get(key, (day, 0.0))
        # Series of one bucket (one per data type) add up on the same latest day.
        if day > held_day:
            stored[key] = (day, value)
        elif day == held_day:
            stored[key] = (day, held + value)
    scale = 30.0 / lookback_days
    keys = sorted(set(ingested) | set(stored))
    return pl.DataFrame(
        [
            {
                "location": location,
                "bucket_id": bucket,
                "stored_bytes": stored[(location, bucket)][1]
                if (location, bucket) in stored
                else None,
                "ingested_bytes_30d": ingested[(location, bucket)] * scale
                if (location, bucket) in ingested
                else None,
            }
            for location, bucket in keys
        ],
        schema=LOG_USAGE_SCHEMA,
    )


BUCKET_STORAGE_SCHEMA: dict[str, pl.DataType] = {
    "resource_id": pl.String(),
    "storage_class": pl.String(),
    "metrics_date": schema.UTC_TS,
    "bytes": pl.Float64(),
    "objects": pl.Float64(),
}


def bucket_storage_empty() -> pl.DataFrame:
    return pl.DataFrame(schema=BUCKET_STORAGE_SCHEMA)


def bucket_storage(
    client: Any, project: str, now: datetime, counter: CallCounter | None = None
) -> pl.DataFrame:
    """Per bucket and storage class: the latest daily bytes and object count
    (``total_bytes`` and ``object_count``, sampled once a day), with the day they are of."""
    start = now - timedelta(days=3)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for metric_type, column in ((STORAGE_BYTES, "bytes"), (STORAGE_OBJECTS, "objects")):
        found = _list(
            client,
            project,
            f'metric.type = "{metric_type}" AND resource.type = "gcs_bucket"',
            start,
            now,
            DAY,
            "ALIGN_MEAN",
            counter,
            metric_type,
        )
        for series in found:
            if not series.points:
                continue
            bucket = series.resource.labels.get("bucket_name", "")
            storage_class = series.metric.labels.get("storage_class", "STANDARD").upper()
            latest = max(series.points, key=lambda p: p.interval.end_time.seconds)
            row = out.setdefault((bucket, storage_class), {"metrics_date": None})
            row[column] = _value(latest)
            row["metrics_date"] = datetime.fromtimestamp(
                latest.interval.end_time.seconds - DAY, tz=now.tzinfo
            )
    return pl.DataFrame(
        [
            {"resource_id": b, "storage_class": c, **figures}
            for (b, c), figures in sorted(out.items())
        ],
        schema=BUCKET_STORAGE_SCHEMA,
    )
