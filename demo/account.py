"""`costscan demo`: a seeded, offline AWS account on an in-process moto server.

The account looks like a small company's: a few hundred instances in us-east-1 and
eu-west-1, most of them a steady background fleet, and about thirty with 14 days of
hourly CloudWatch data shaped like the cases a FinOps review meets: idle machines,
over-provisioned ones, previous-generation types, development boxes that run around the
clock but are busy only in office hours (one already scheduled), one running hot, busy
ones to leave alone, steady production that could be committed, and a stateless Auto
Scaling group. The other families' seeders add storage, network and observability waste
(providers/demo_storage.py, demo_network.py, demo_observability.py), and
providers/demo_commitments.py adds reservations and a savings plan.

The server is moto's own WSGI application behind ``MissingApis`` (providers/demo_gaps.py),
which answers the reads moto lacks (reserved instances, savings plans, Cost Explorer
utilization and coverage) in their documented shapes: without it botocore retries moto's
HTTP 500s with backoff for tens of seconds, and the scan ends with collector errors.

The building blocks (``publish_hourly_metrics`` and the shape generators) are public so
end-to-end tests can seed their own small scenario the same way.

moto keeps every datapoint in one list and rescans it for every query and every hour of
a GetMetricData call, so its cost grows with queries × datapoints. ``start_demo_server``
therefore swaps in ``indexed_get_metric_data``, which answers MetricStat queries the same
way from an index, and ``deduplicated_filtered_metrics`` for ListMetrics, which moto
answers by checking every datapoint against every series already listed; tests check
that each agrees with moto's own.
"""

from __future__ import annotations

import logging
import math
import os
import random
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from costscan.demo.commitments import DemoCommitments
    from costscan.demo.gaps import MissingApis

_log = logging.getLogger(__name__)

DEMO_REGIONS: tuple[str, ...] = ("us-east-1", "eu-west-1")
DEMO_SEED = 20240601
LOOKBACK_DAYS = 14
# Any id works: moto accepts every AMI id once default AMIs are off.
DEMO_AMI = "ami-0abcdef1234567890"
# PutMetricData accepts up to 1,000 datums per call.
MAX_DATUMS_PER_CALL = 1000
# Basic monitoring samples every 5 minutes; 4 samples per hour keeps Sum / SampleCount
# exact in binary floating point, so published averages come back bit for bit.
SAMPLES_PER_HOUR = 4

Dimension = Mapping[str, str]


# --------------------------------------------------------------------------- server


def _quiet_moto_environment() -> None:
    # An account should own only what the demo made, not moto's ~1,300 default AMIs and
    # their snapshots; this must be set before moto's EC2 models are imported.
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


class DemoServer:
    """moto's WSGI application on 127.0.0.1 (a free port), served by werkzeug in a thread,
    with the reads moto lacks answered in front of it (``gaps``, providers/demo_gaps.py)."""

    def __init__(self) -> None:
        from costscan.demo.gaps import MissingApis

        self.gaps = MissingApis()
        self.endpoint_url = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        app = self.gaps.middleware(DomainDispatcherApplication(create_backend_app))
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        host, port = self._server.server_address[:2]
        self.endpoint_url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="costscan-demo-aws", daemon=True
        )
        self._thread.start()
        _SERVERS[self.endpoint_url] = self
        return self.endpoint_url

    def stop(self) -> None:
        _SERVERS.pop(self.endpoint_url, None)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None


# Demo servers running in this process, by endpoint URL: seeding registers answers for
# the APIs moto lacks with the server that serves them.
_SERVERS: dict[str, DemoServer] = {}


def gaps_for(endpoint_url: str) -> MissingApis | None:
    """The answers for moto's missing APIs of a demo server running in this process."""
    server = _SERVERS.get(endpoint_url.rstrip("/"))
    return server.gaps if server is not None else None


def start_demo_server(*, fast_cloudwatch: bool = True) -> tuple[DemoServer, str]:
    """Start the demo's AWS (moto, with its gaps answered) on 127.0.0.1 on a free port;
    return the server (``.stop()`` ends it) and its endpoint URL."""
    _quiet_moto_environment()
    use_documented_instance_generations()
    if fast_cloudwatch:
        install_indexed_get_metric_data()
        install_deduplicated_list_metrics()
    server = DemoServer()
    return server, server.start()


def use_documented_instance_generations() -> None:
    """Correct moto's copy of DescribeInstanceTypes' ``CurrentGeneration``.

    moto 5.2 marks m5, c5, r5, m6i and r6i as previous generation; AWS lists them as
    current. A real scan reads AWS's own answer; the demo (and the tests) answer with AWS's
    documented list (``PREVIOUS_GENERATION_FAMILIES``) instead of moto's. Process-wide
    and idempotent.
    """
    from moto.ec2.models.instance_types import INSTANCE_TYPES, InstanceTypeBackend

    from costscan.providers.pricing.aws import PREVIOUS_GENERATION_FAMILIES

    # moto copies each type's facts into the backend's list when it is imported.
    for facts in (*INSTANCE_TYPES.values(), *InstanceTypeBackend.instance_types):
        family = str(facts["InstanceType"]).split(".", 1)[0]
        facts["CurrentGeneration"] = family not in PREVIOUS_GENERATION_FAMILIES


def install_indexed_get_metric_data() -> None:
    """Make moto's GetMetricData index its datapoints instead of rescanning them.

    Only MetricStat queries take the indexed path; anything else (metric math, insights)
    goes to moto's own implementation. Process-wide and idempotent.
    """
    from moto.cloudwatch.models import CloudWatchBackend

    if getattr(CloudWatchBackend.get_metric_data, "_costscan_indexed", False):
        return
    original = CloudWatchBackend.get_metric_data

    def get_metric_data(
        self: Any,
        queries: list[dict[str, Any]],
        start_time: datetime,
        end_time: datetime,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        if any("MetricStat" not in q for q in queries):
            return original(self, queries, start_time, end_time, scan_by)
        # moto's own checks of the time range (and nothing else, with no queries).
        original(self, [], start_time, end_time, scan_by)
        return indexed_get_metric_data(self, queries, start_time, end_time, scan_by)

    get_metric_data._costscan_indexed = True  # type: ignore[attr-defined]
    get_metric_data._costscan_original = original  # type: ignore[attr-defined]
    CloudWatchBackend.get_metric_data = get_metric_data  # type: ignore[method-assign]


def install_deduplicated_list_metrics() -> None:
    """Make moto's ListMetrics find repeated series with a set instead of a list scan.

    moto checks every datapoint against every series already listed, so a ListMetrics
    call costs datapoints × series: seconds per call once a namespace holds a thousand
    series. ``deduplicated_filtered_metrics`` gives the same answer in one pass.
    Process-wide and idempotent.
    """
    from moto.cloudwatch.models import CloudWatchBackend

    if getattr(CloudWatchBackend.get_filtered_metrics, "_costscan_indexed", False):
        return
    original = CloudWatchBackend.get_filtered_metrics

    def get_filtered_metrics(
        self: Any, metric_name: str, namespace: str, dimensions: list[dict[str, str]]
    ) -> list[Any]:
        return deduplicated_filtered_metrics(self, metric_name, namespace, dimensions)

    get_filtered_metrics._costscan_indexed = True  # type: ignore[attr-defined]
    get_filtered_metrics._costscan_original = original  # type: ignore[attr-defined]
    CloudWatchBackend.get_filtered_metrics = get_filtered_metrics  # type: ignore[method-assign]


def deduplicated_filtered_metrics(
    backend: Any, metric_name: str, namespace: str, dimensions: list[dict[str, str]]
) -> list[Any]:
    """moto's ``get_filtered_metrics`` (the datums ListMetrics lists), in one pass.

    moto's rule, kept as is: a datum is left out as a repeat only when an earlier listed
    datum has the same namespace and name and moto's ``are_dimensions_same`` holds, which
    (comparing every pair) is only when all the dimensions of both are one and the same
    name and value; datums with several different dimensions are listed once per
    datapoint, as the notes in TESTING-CLOUDS.md say.
    """
    listed: list[Any] = []
    seen: set[tuple[str, str, int, str | None, str | None]] = set()
    for datum in backend.get_all_metrics():
        if not datum.filter(namespace=namespace, name=metric_name, dimensions=dimensions):
            continue
        dims = datum.dimensions
        key = None
        if dims and all(d.name == dims[0].name and d.value == dims[0].value for d in dims):
            key = (datum.namespace, datum.name, len(dims), dims[0].name, dims[0].value)
            if key in seen:
                continue
            seen.add(key)
        listed.append(datum)
    return listed


def indexed_get_metric_data(
    backend: Any,
    queries: Sequence[Mapping[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    """moto's GetMetricData for MetricStat queries, from an index of the datapoints.

    Same buckets (aligned to ``start_time``), same statistics (moto's ``Statistics``),
    same dimension rule (exact set; like moto, the namespace is not checked when
    dimensions are given), same result shape.
    """
    from moto.cloudwatch.models import Statistics

    start_time = start_time.replace(microsecond=0)
    end_time = end_time.replace(microsecond=0)
    by_dimensions: dict[tuple[str, tuple[tuple[str, str], ...]], list[Any]] = {}
    by_namespace: dict[tuple[str, str], list[Any]] = {}
    for datum in backend.get_all_metrics():
        if not start_time <= datum.timestamp < end_time:
            continue
        dims = tuple(sorted((d.name, d.value) for d in datum.dimensions))
        by_dimensions.setdefault((datum.name, dims), []).append(datum)
        by_namespace.setdefault((datum.namespace, datum.name), []).append(datum)

    results: list[dict[str, Any]] = []
    for query in queries:
        stat_query = query["MetricStat"]
        metric = stat_query["Metric"]
        name = metric["MetricName"]
        wanted = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))
        if wanted:
            candidates = by_dimensions.get((name, wanted), [])
        else:
            candidates = by_namespace.get((metric["Namespace"], name), [])
        unit = stat_query.get("Unit")
        if unit:
            candidates = [d for d in candidates if d.unit == unit]
        period = timedelta(seconds=int(stat_query["Period"]))
        buckets: dict[int, list[Any]] = {}
        for datum in candidates:
            buckets.setdefault((datum.timestamp - start_time) // period, []).append(datum)
        stat = stat_query["Stat"]
        values: list[Any] = []
        timestamps: list[datetime] = []
        for index in sorted(buckets):
            stats = Statistics([stat], start_time + index * period)
            stats.metric_data = buckets[index]
            values.append(stats.get_statistics_for_type(stat))
            timestamps.append(stats.timestamp)
        if scan_by == "TimestampDescending":
            values.reverse()
            timestamps.reverse()
        if query.get("ReturnData", True):
            results.append(
                {
                    "id": query["Id"],
                    "label": query.get("Label") or f"{name} {stat}",
                    "values": values,
                    "timestamps": timestamps,
                    "status_code": "Complete",
                }
            )
    return results


# --------------------------------------------------------------------------- metrics


def _statistic_set(average: float, maximum: float) -> dict[str, float]:
    maximum = max(maximum, average)
    rest = (SAMPLES_PER_HOUR * average - maximum) / (SAMPLES_PER_HOUR - 1)
    return {
        "SampleCount": float(SAMPLES_PER_HOUR),
        "Sum": average * SAMPLES_PER_HOUR,
        "Minimum": max(0.0, min(rest, average)),
        "Maximum": maximum,
    }


def publish_hourly_metrics(
    cloudwatch: Any,
    instance_id: str,
    cpu_by_hour: Sequence[float],
    *,
    start: datetime,
    cpu_max_by_hour: Sequence[float] | None = None,
    network_in_by_hour: Sequence[float] | None = None,
    network_out_by_hour: Sequence[float] | None = None,
    memory_by_hour: Sequence[float] | None = None,
    memory_max_by_hour: Sequence[float] | None = None,
    agent_dimensions: Sequence[Dimension] | None = None,
) -> int:
    """Publish hourly series for one instance; return the number of datums sent.

    Hour ``i`` is stamped ``start + i hours``. CPU (AWS/EC2 CPUUtilization) and memory
    (CWAgent mem_used_percent) go out as statistic sets, so one datum per hour carries
    both the Average and the Maximum; network (NetworkIn/NetworkOut, bytes in the hour)
    as one value per hour. ``agent_dimensions`` defaults to just InstanceId.
    """
    hours = len(cpu_by_hour)
    for label, series in (
        ("cpu_max_by_hour", cpu_max_by_hour),
        ("network_in_by_hour", network_in_by_hour),
        ("network_out_by_hour", network_out_by_hour),
        ("memory_by_hour", memory_by_hour),
        ("memory_max_by_hour", memory_max_by_hour),
    ):
        if series is not None and len(series) != hours:
            raise ValueError(f"{label} has {len(series)} hours, cpu_by_hour has {hours}")
    instance_dims = [{"Name": "InstanceId", "Value": instance_id}]
    stamp = start if start.tzinfo else start.replace(tzinfo=UTC)
    ec2_data: list[dict[str, Any]] = []
    agent_data: list[dict[str, Any]] = []
    for i in range(hours):
        ts = stamp + timedelta(hours=i)
        cpu_max = cpu_max_by_hour[i] if cpu_max_by_hour is not None else cpu_by_hour[i]
        ec2_data.append(
            {
                "MetricName": "CPUUtilization",
                "Dimensions": instance_dims,
                "Timestamp": ts,
                "StatisticValues": _statistic_set(cpu_by_hour[i], cpu_max),
                "Unit": "Percent",
            }
        )
        for name, series in (
            ("NetworkIn", network_in_by_hour),
            ("NetworkOut", network_out_by_hour),
        ):
            if series is not None:
                ec2_data.append(
                    {
                        "MetricName": name,
                        "Dimensions": instance_dims,
                        "Timestamp": ts,
                        "Value": float(series[i]),
                        "Unit": "Bytes",
                    }
                )
        if memory_by_hour is not None:
            mem_max = memory_max_by_hour[i] if memory_max_by_hour is not None else memory_by_hour[i]
            agent_data.append(
                {
                    "MetricName": "mem_used_percent",
                    "Dimensions": [dict(d) for d in agent_dimensions or instance_dims],
                    "Timestamp": ts,
                    "StatisticValues": _statistic_set(memory_by_hour[i], mem_max),
                    "Unit": "Percent",
                }
            )
    _put_all(cloudwatch, "AWS/EC2", ec2_data)
    _put_all(cloudwatch, "CWAgent", agent_data)
    return len(ec2_data) + len(agent_data)


def _put_all(cloudwatch: Any, namespace: str, data: Sequence[dict[str, Any]]) -> None:
    for first in range(0, len(data), MAX_DATUMS_PER_CALL):
        cloudwatch.put_metric_data(
            Namespace=namespace, MetricData=list(data[first : first + MAX_DATUMS_PER_CALL])
        )


def metric_client(endpoint_url: str, region: str) -> Any:
    """A CloudWatch client for seeding (request compression off: moto cannot read it)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "cloudwatch",
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(disable_request_compression=True, retries={"max_attempts": 2}),
    )


# --------------------------------------------------------------------------- shapes


def hour_starts(start: datetime, hours: int) -> list[datetime]:
    return [start + timedelta(hours=i) for i in range(hours)]


def flat_load(
    rng: random.Random, hours: int, level: float, jitter: float, peak: float
) -> tuple[list[float], list[float]]:
    """(average, maximum) per hour around ``level``; the maximum reaches up to ``peak``."""
    avg = [max(0.0, level + rng.uniform(-jitter, jitter)) for _ in range(hours)]
    # The hour's maximum lies between its average and the peak, never above the peak.
    mx = [min(100.0, a + rng.uniform(0.0, max(0.0, peak - a))) for a in avg]
    return avg, mx


def daily_load(
    rng: random.Random, start: datetime, hours: int, low: float, high: float, peak: float
) -> tuple[list[float], list[float]]:
    """A production day: quiet at night (UTC), ``high`` in the afternoon, every day."""
    avg: list[float] = []
    mx: list[float] = []
    for ts in hour_starts(start, hours):
        wave = (1 - math.cos(2 * math.pi * ((ts.hour - 3) % 24) / 24)) / 2
        a = low + (high - low) * wave + rng.uniform(-1.5, 1.5)
        a = min(100.0, max(0.0, a))
        avg.append(a)
        mx.append(min(100.0, max(a, a + rng.uniform(2.0, max(2.0, peak - a)))))
    return avg, mx


def office_hours_load(
    rng: random.Random,
    start: datetime,
    hours: int,
    *,
    busy: float = 45.0,
    quiet: float = 2.0,
    first_hour: int = 8,
    last_hour: int = 18,
) -> tuple[list[float], list[float]]:
    """Busy Monday to Friday from ``first_hour`` to ``last_hour`` (UTC), idle otherwise."""
    avg: list[float] = []
    mx: list[float] = []
    for ts in hour_starts(start, hours):
        working = ts.weekday() < 5 and first_hour <= ts.hour < last_hour
        level = busy if working else quiet
        a = max(0.0, level + rng.uniform(-level * 0.2, level * 0.2))
        avg.append(a)
        mx.append(min(100.0, a * (1.6 if working else 1.5)))
    return avg, mx


def network_bytes(
    rng: random.Random, hours: int, bytes_per_hour: float
) -> tuple[list[float], list[float]]:
    """(in, out) bytes per hour around ``bytes_per_hour``."""
    inbound = [bytes_per_hour * rng.uniform(0.6, 1.4) for _ in range(hours)]
    outbound = [bytes_per_hour * rng.uniform(0.4, 1.2) for _ in range(hours)]
    return inbound, outbound


# --------------------------------------------------------------------------- the account


@dataclass(frozen=True)
class DemoSeed:
    """What ``seed_demo_account`` created, so tests can check the findings."""

    account_id: str
    regions: tuple[str, ...]
    metrics_start: datetime  # first hour with datapoints (UTC)
    metrics_hours: int
    idle: tuple[str, ...]
    oversized: tuple[str, ...]
    previous_generation: tuple[str, ...]
    office_hours: tuple[str, ...]  # non-production, 24x7, busy weekdays only
    scheduled: tuple[str, ...]  # like office_hours, already carrying a Schedule tag
    above_alert: tuple[str, ...]  # p95 CPU above 85%
    busy: tuple[str, ...]
    steady: tuple[str, ...]  # on-demand production running the whole lookback
    autoscaling: tuple[str, ...]  # members of the stateless group
    autoscaling_group: str
    with_memory: tuple[str, ...]  # instances that publish CWAgent mem_used_percent
    background: tuple[str, ...]  # instances without metrics
    instance_region: Mapping[str, str]
    instance_type: Mapping[str, str] = field(default_factory=dict)
    # The other families' seeders that ran, and those that were missing or failed (the
    # demo runs without them).
    seeded_families: tuple[str, ...] = ()
    skipped_families: tuple[str, ...] = ()
    commitments: DemoCommitments | None = None

    @property
    def with_metrics(self) -> tuple[str, ...]:
        return (
            self.idle
            + self.oversized
            + self.previous_generation
            + self.office_hours
            + self.scheduled
            + self.above_alert
            + self.busy
            + self.steady
            + self.autoscaling
        )

    @property
    def instance_count(self) -> int:
        return len(self.with_metrics) + len(self.background)


@dataclass(frozen=True)
class _Spec:
    """One scenario instance: where, what, its tags and how its CPU behaves."""

    scenario: str
    region: str
    instance_type: str
    name: str
    environment: str
    load: Callable[[random.Random, datetime, int], tuple[list[float], list[float]]]
    bytes_per_hour: float
    memory: float | None = None  # mean mem_used_percent, when the agent runs
    extra_tags: tuple[tuple[str, str], ...] = ()


def _flat(
    level: float, jitter: float, peak: float
) -> Callable[..., tuple[list[float], list[float]]]:
    return lambda rng, _start, hours: flat_load(rng, hours, level, jitter, peak)


def _daily(low: float, high: float, peak: float) -> Callable[..., tuple[list[float], list[float]]]:
    return lambda rng, start, hours: daily_load(rng, start, hours, low, high, peak)


def _office(busy: float) -> Callable[..., tuple[list[float], list[float]]]:
    return lambda rng, start, hours: office_hours_load(rng, start, hours, busy=busy)


_MB = 1024.0 * 1024.0

# Realistic but small: ~30 instances with metrics keeps moto's CloudWatch quick.
_SCENARIOS: tuple[_Spec, ...] = (
    # Idle: max CPU under 1% and a trickle of network (Cost Explorer's idle rule).
    _Spec(
        "idle",
        "us-east-1",
        "m5.xlarge",
        "legacy-reporting",
        "production",
        _flat(0.3, 0.15, 0.9),
        20_000,
    ),
    _Spec(
        "idle",
        "us-east-1",
        "t3.large",
        "old-jenkins-agent",
        "production",
        _flat(0.2, 0.1, 0.8),
        8_000,
    ),
    _Spec(
        "idle",
        "eu-west-1",
        "r5.large",
        "abandoned-poc",
        "production",
        _flat(0.4, 0.2, 0.95),
        12_000,
        memory=12.0,
    ),
    # Over-provisioned: large types loafing at 5-10% CPU.
    _Spec(
        "oversized",
        "us-east-1",
        "m5.4xlarge",
        "search-indexer",
        "production",
        _daily(4.0, 9.0, 14.0),
        80 * _MB,
        memory=18.0,
    ),
    _Spec(
        "oversized",
        "us-east-1",
        "c5.4xlarge",
        "image-resizer",
        "production",
        _daily(5.0, 10.0, 16.0),
        120 * _MB,
    ),
    _Spec(
        "oversized",
        "eu-west-1",
        "m5.4xlarge",
        "billing-api",
        "production",
        _daily(5.0, 8.0, 13.0),
        60 * _MB,
        memory=22.0,
    ),
    _Spec(
        "oversized",
        "eu-west-1",
        "r5.2xlarge",
        "cache-warmer",
        "production",
        _daily(3.0, 7.0, 11.0),
        40 * _MB,
    ),
    # Previous generation, moderately used.
    _Spec(
        "previous_generation",
        "us-east-1",
        "m4.xlarge",
        "crm-backend",
        "production",
        _daily(20.0, 40.0, 60.0),
        150 * _MB,
        memory=55.0,
    ),
    _Spec(
        "previous_generation",
        "eu-west-1",
        "c4.2xlarge",
        "pdf-renderer",
        "production",
        _daily(25.0, 45.0, 65.0),
        90 * _MB,
    ),
    _Spec(
        "previous_generation",
        "eu-west-1",
        "r4.xlarge",
        "reporting-db-replica",
        "production",
        _daily(15.0, 35.0, 55.0),
        70 * _MB,
        memory=68.0,
    ),
    # Non-production, on around the clock, busy only on weekday office hours.
    _Spec("office_hours", "us-east-1", "t3.xlarge", "dev-api", "dev", _office(40.0), 30 * _MB),
    _Spec(
        "office_hours",
        "us-east-1",
        "m5.large",
        "dev-worker",
        "dev",
        _office(35.0),
        20 * _MB,
        memory=40.0,
    ),
    _Spec("office_hours", "us-east-1", "m5.xlarge", "qa-runner", "dev", _office(50.0), 25 * _MB),
    _Spec("office_hours", "eu-west-1", "t3.large", "dev-frontend", "dev", _office(30.0), 15 * _MB),
    _Spec("office_hours", "eu-west-1", "m5.large", "dev-etl", "dev", _office(45.0), 35 * _MB),
    _Spec(
        "scheduled",
        "us-east-1",
        "t3.large",
        "dev-scheduled",
        "dev",
        _office(35.0),
        10 * _MB,
        extra_tags=(("Schedule", "office-hours"),),
    ),
    # Above the alert line: p95 CPU over 85%.
    _Spec(
        "above_alert",
        "us-east-1",
        "c5.large",
        "checkout-api",
        "production",
        _flat(90.0, 4.0, 100.0),
        400 * _MB,
        memory=71.0,
    ),
    _Spec(
        "above_alert",
        "eu-west-1",
        "m5.xlarge",
        "ledger-sync",
        "production",
        _flat(88.0, 3.0, 99.0),
        250 * _MB,
    ),
    # Busy, well sized: leave alone.
    _Spec(
        "busy",
        "us-east-1",
        "m5.2xlarge",
        "orders-api",
        "production",
        _daily(40.0, 60.0, 78.0),
        600 * _MB,
        memory=62.0,
    ),
    _Spec(
        "busy",
        "us-east-1",
        "m5.2xlarge",
        "payments-api",
        "production",
        _daily(42.0, 58.0, 76.0),
        550 * _MB,
    ),
    _Spec(
        "busy",
        "eu-west-1",
        "c5.2xlarge",
        "catalog-api",
        "production",
        _daily(40.0, 55.0, 75.0),
        500 * _MB,
        memory=58.0,
    ),
    # Steady on-demand production: the commitments candidates.
    _Spec(
        "steady",
        "us-east-1",
        "r5.xlarge",
        "postgres-primary",
        "production",
        _flat(45.0, 5.0, 65.0),
        300 * _MB,
        memory=75.0,
    ),
    _Spec(
        "steady",
        "us-east-1",
        "m5.xlarge",
        "kafka-broker",
        "production",
        _flat(50.0, 6.0, 70.0),
        700 * _MB,
    ),
    _Spec(
        "steady",
        "eu-west-1",
        "m5.2xlarge",
        "elastic-node",
        "production",
        _flat(48.0, 5.0, 68.0),
        450 * _MB,
        memory=66.0,
    ),
    _Spec(
        "steady",
        "eu-west-1",
        "r5.xlarge",
        "redis-primary",
        "production",
        _flat(40.0, 4.0, 60.0),
        350 * _MB,
    ),
)

# (region, instance type, count, name, environment): the fleet without metrics.
_BACKGROUND: tuple[tuple[str, str, int, str, str], ...] = (
    ("us-east-1", "m5.large", 60, "web-fleet", "production"),
    ("us-east-1", "c5.xlarge", 40, "worker-fleet", "production"),
    ("us-east-1", "t3.medium", 30, "bastion-pool", "production"),
    ("us-east-1", "r5.large", 20, "cache-fleet", "production"),
    ("us-east-1", "m6g.large", 15, "arm-workers", "production"),
    ("us-east-1", "t3.small", 10, "staging-web", "staging"),
    ("eu-west-1", "m5.large", 45, "web-fleet-eu", "production"),
    ("eu-west-1", "c5.large", 35, "worker-fleet-eu", "production"),
    ("eu-west-1", "t3.medium", 20, "tools", "production"),
    ("eu-west-1", "m6i.large", 15, "api-fleet-eu", "production"),
    ("eu-west-1", "t3.small", 8, "staging-eu", "staging"),
)

ASG_NAME = "web-stateless-asg"
ASG_REGION = "us-east-1"
ASG_TYPE = "m5.large"
ASG_SIZE = 4


def _tags(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs]


def _run_instances(
    ec2: Any, instance_type: str, count: int, tags: Iterable[tuple[str, str]]
) -> list[str]:
    answer = ec2.run_instances(
        ImageId=DEMO_AMI,
        InstanceType=instance_type,
        MinCount=count,
        MaxCount=count,
        TagSpecifications=[{"ResourceType": "instance", "Tags": _tags(tags)}],
    )
    return [i["InstanceId"] for i in answer["Instances"]]


def _seed_autoscaling(endpoint_url: str) -> list[str]:
    import boto3

    ec2: Any = boto3.client("ec2", region_name=ASG_REGION, endpoint_url=endpoint_url)
    autoscaling = boto3.client("autoscaling", region_name=ASG_REGION, endpoint_url=endpoint_url)
    ec2.create_launch_template(
        LaunchTemplateName=f"{ASG_NAME}-lt",
        LaunchTemplateData={
            "ImageId": DEMO_AMI,
            "InstanceType": ASG_TYPE,
            "TagSpecifications": [
                {
                    "ResourceType": "instance",
                    "Tags": _tags([("environment", "production"), ("team", "web")]),
                }
            ],
        },
    )
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=ASG_NAME,
        LaunchTemplate={"LaunchTemplateName": f"{ASG_NAME}-lt", "Version": "$Latest"},
        MinSize=2,
        MaxSize=8,
        DesiredCapacity=ASG_SIZE,
        AvailabilityZones=zones,
        Tags=[
            {
                "Key": "Name",
                "Value": "web-stateless",
                "PropagateAtLaunch": True,
                "ResourceId": ASG_NAME,
                "ResourceType": "auto-scaling-group",
            }
        ],
    )
    groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[ASG_NAME])
    return sorted(i["InstanceId"] for i in groups["AutoScalingGroups"][0]["Instances"])


def backdate_launch_times(launch_times: Mapping[str, datetime]) -> int:
    """Set LaunchTime on instances held by a moto server running in this process.

    moto stamps every instance with the wall clock; a real account's production fleet was
    launched months ago, and policies that ask "did it run the whole lookback" need to see
    that. Returns how many instances were found (0 when the server is elsewhere).
    """
    try:
        from moto.ec2.models import ec2_backends
    except ImportError:  # pragma: no cover - moto is the demo's own dependency
        return 0
    found = 0
    for account_id in list(ec2_backends.keys()):
        for region in DEMO_REGIONS:
            backend = ec2_backends[account_id][region]
            for instance_id, launched in launch_times.items():
                instance = backend.get_instance_by_id(instance_id)
                if instance is not None:
                    # moto keeps naive UTC datetimes.
                    instance.launch_time = launched.astimezone(UTC).replace(tzinfo=None)
                    found += 1
    return found


# Progress callback (step description, advance by), the same shape the providers call.
SeedProgress = Callable[[str, int], None]


def _no_progress(_step: str, _advance: int = 1) -> None:
    return None


def seed_steps() -> int:
    """How many steps ``seed_demo_account`` reports: one per scenario instance, the Auto
    Scaling group, each background fleet, each other family and the commitments."""
    return len(_SCENARIOS) + 1 + len(_BACKGROUND) + len(OTHER_FAMILY_SEEDERS) + 1


def seed_identifiers(endpoint_url: str, seed: int = DEMO_SEED) -> None:
    """Seed the random source moto draws resource ids from (its ``/moto-api/seed``).

    moto names every instance, volume, snapshot and address from one random generator;
    seeded, the same requests in the same order give the same ids, so two demo runs name
    the same resources and ``costscan diff`` of them finds no change.
    """
    import urllib.request

    request = urllib.request.Request(
        f"{endpoint_url.rstrip('/')}/moto-api/seed?a={int(seed)}", data=b"", method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()


def seed_demo_account(
    endpoint_url: str,
    now: datetime,
    *,
    gaps: MissingApis | None = None,
    progress: SeedProgress = _no_progress,
) -> DemoSeed:
    """Seed the demo account on the moto server at ``endpoint_url``; deterministic, ids
    included (``seed_identifiers``): the same seed gives the same resources.

    Compute and its metrics first, then the other families' seeders (storage, network,
    observability; each imported when needed, and the demo goes on without one that is
    missing or fails), then commitments, which are answers registered with ``gaps`` (by
    default those of the demo server at ``endpoint_url`` when it runs in this process;
    without one, no commitments are seeded). ``progress`` hears of each of the
    ``seed_steps()`` steps as it ends.
    """
    import boto3

    seed_identifiers(endpoint_url)
    rng = random.Random(DEMO_SEED)
    now_utc = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC)
    end = now_utc.replace(minute=0, second=0, microsecond=0)
    hours = LOOKBACK_DAYS * 24
    start = end - timedelta(hours=hours)

    ec2_clients = {
        r: boto3.client("ec2", region_name=r, endpoint_url=endpoint_url) for r in DEMO_REGIONS
    }
    cloudwatch = {r: metric_client(endpoint_url, r) for r in DEMO_REGIONS}
    account_id = boto3.client(
        "sts", region_name=DEMO_REGIONS[0], endpoint_url=endpoint_url
    ).get_caller_identity()["Account"]

    by_scenario: dict[str, list[str]] = {}
    with_memory: list[str] = []
    region_of: dict[str, str] = {}
    type_of: dict[str, str] = {}
    launch_times: dict[str, datetime] = {}
    for spec in _SCENARIOS:
        tags = [
            ("Name", spec.name),
            ("environment", spec.environment),
            ("team", spec.name.split("-")[0]),
            *spec.extra_tags,
        ]
        (instance_id,) = _run_instances(ec2_clients[spec.region], spec.instance_type, 1, tags)
        by_scenario.setdefault(spec.scenario, []).append(instance_id)
        region_of[instance_id] = spec.region
        type_of[instance_id] = spec.instance_type
        launch_times[instance_id] = end - timedelta(days=rng.randint(30, 400))
        avg, mx = spec.load(rng, start, hours)
        net_in, net_out = network_bytes(rng, hours, spec.bytes_per_hour)
        memory = memory_max = None
        if spec.memory is not None:
            memory = [min(100.0, max(0.0, spec.memory + rng.uniform(-4, 4))) for _ in range(hours)]
            memory_max = [min(100.0, m + rng.uniform(0, 6)) for m in memory]
            with_memory.append(instance_id)
        publish_hourly_metrics(
            cloudwatch[spec.region],
            instance_id,
            avg,
            start=start,
            cpu_max_by_hour=mx,
            network_in_by_hour=net_in,
            network_out_by_hour=net_out,
            memory_by_hour=memory,
            memory_max_by_hour=memory_max,
            agent_dimensions=(
                None
                if memory is None
                else [
                    {"Name": "InstanceId", "Value": instance_id},
                    {"Name": "InstanceType", "Value": spec.instance_type},
                ]
            ),
        )
        progress(f"instance {spec.name} and 14 days of its metrics", 1)

    group_members = _seed_autoscaling(endpoint_url)
    for instance_id in group_members:
        region_of[instance_id] = ASG_REGION
        type_of[instance_id] = ASG_TYPE
        # Group members are replaced now and then; they are young but predate the lookback.
        launch_times[instance_id] = end - timedelta(days=rng.randint(15, 25))
        avg, mx = daily_load(rng, start, hours, 15.0, 35.0, 55.0)
        net_in, net_out = network_bytes(rng, hours, 200 * _MB)
        publish_hourly_metrics(
            cloudwatch[ASG_REGION],
            instance_id,
            avg,
            start=start,
            cpu_max_by_hour=mx,
            network_in_by_hour=net_in,
            network_out_by_hour=net_out,
        )
    progress(f"Auto Scaling group {ASG_NAME} ({len(group_members)} instances)", 1)

    background: list[str] = []
    for region, instance_type, count, name, environment in _BACKGROUND:
        made = _run_instances(
            ec2_clients[region],
            instance_type,
            count,
            [("Name", name), ("environment", environment), ("team", name.split("-")[0])],
        )
        for instance_id in made:
            region_of[instance_id] = region
            type_of[instance_id] = instance_type
            launch_times[instance_id] = end - timedelta(days=rng.randint(20, 500))
        background.extend(made)
        progress(f"{count} background instances {name} ({region})", 1)

    backdate_launch_times(launch_times)

    seeded, skipped = _seed_other_families(endpoint_url, now_utc, DEMO_REGIONS, progress)
    commitments = None
    gaps = gaps if gaps is not None else gaps_for(endpoint_url)
    if gaps is not None:
        from costscan.demo.commitments import seed_commitments

        commitments = seed_commitments(
            gaps,
            now_utc,
            DEMO_REGIONS,
            {i: (region_of[i], type_of[i]) for i in type_of},
            account_id=account_id,
        )
        seeded += ("commitments",)
    else:
        skipped += ("commitments",)
    progress("reservations and savings plans", 1)

    def ids(scenario: str) -> tuple[str, ...]:
        return tuple(by_scenario.get(scenario, ()))

    return DemoSeed(
        account_id=account_id,
        regions=DEMO_REGIONS,
        metrics_start=start,
        metrics_hours=hours,
        idle=ids("idle"),
        oversized=ids("oversized"),
        previous_generation=ids("previous_generation"),
        office_hours=ids("office_hours"),
        scheduled=ids("scheduled"),
        above_alert=ids("above_alert"),
        busy=ids("busy"),
        steady=ids("steady"),
        autoscaling=tuple(group_members),
        autoscaling_group=ASG_NAME,
        with_memory=tuple(with_memory),
        background=tuple(background),
        instance_region=dict(region_of),
        instance_type=dict(type_of),
        seeded_families=seeded,
        skipped_families=skipped,
        commitments=commitments,
    )


# (family, module, seeder): each ``seeder(endpoint_url, now, regions)``.
OTHER_FAMILY_SEEDERS: tuple[tuple[str, str, str], ...] = (
    ("storage", "costscan.demo.storage", "seed_storage"),
    ("network", "costscan.demo.network", "seed_network"),
    ("observability", "costscan.demo.observability", "seed_observability"),
    ("databases", "costscan.demo.databases", "seed_databases"),
    ("data services", "costscan.demo.data_services", "seed_data_services"),
    ("demand", "costscan.demo.fleets", "seed_fleets"),
)


def _seed_other_families(
    endpoint_url: str,
    now: datetime,
    regions: Sequence[str],
    progress: SeedProgress = _no_progress,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Run each family's demo seeder; (families seeded, families missing or failed)."""
    import importlib

    seeded: list[str] = []
    skipped: list[str] = []
    for family, module_name, function in OTHER_FAMILY_SEEDERS:
        try:
            seeder = getattr(importlib.import_module(module_name), function)
        except (ImportError, AttributeError) as exc:
            _log.warning("demo: no %s seed (%s)", family, exc)
            skipped.append(family)
            progress(f"{family} resources (skipped)", 1)
            continue
        try:
            seeder(endpoint_url, now, regions)
        except Exception as exc:  # the demo runs on without this family's resources
            _log.warning("demo: seeding %s failed: %s", family, exc)
            skipped.append(family)
            progress(f"{family} resources (failed)", 1)
            continue
        seeded.append(family)
        progress(f"{family} resources", 1)
    return tuple(seeded), tuple(skipped)
