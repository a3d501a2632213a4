"""Azure Monitor: hourly utilization of every VM, read in batches of ``BATCH`` VMs.

One Metrics - List At Subscription Scope call (azure-mgmt-monitor
``metrics.list_at_subscription_scope_post``: the POST form, a read, whose body carries the
long filter a URL might not) per subscription, region and batch of up to 50 VMs: its
``filter`` names the batch's resource ids (``Microsoft.ResourceId eq '...'`` joined by
``or``), ``metricNames`` all four metrics and ``aggregation`` average, maximum and total, so
one answer holds every series of 50 VMs
(https://learn.microsoft.com/rest/api/monitor/metrics/list-at-subscription-scope-post). N VMs
in one region therefore cost ceil(N / 50) requests, never one per VM. Aligned hourly
(``interval`` PT1H), the frame is the same shape as the AWS and GCP collectors':

- cpu, average and maximum: ``Percentage CPU``, percent;
- network_in and network_out, sum: ``Network In Total`` and ``Network Out Total``, bytes in
  the hour;
- memory, average: ``Available Memory Bytes`` turned into percent used,
  100 × (1 − available / the size's memory), where the size's memory is known

(https://learn.microsoft.com/azure/azure-monitor/reference/supported-metrics/
microsoft-compute-virtualmachines-metrics). ``CallCounter`` counts the requests.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.units import BYTES_PER_GIB

# The metrics API takes at most 50 resource ids in one multi-resource call (the same cap
# as the metrics batch API's resourceids), and ``top`` bounds the series it answers.
BATCH: Final = 50
NAMESPACE: Final = "microsoft.compute/virtualmachines"
CPU: Final = "Percentage CPU"
NET_IN: Final = "Network In Total"
NET_OUT: Final = "Network Out Total"
MEMORY: Final = "Available Memory Bytes"
METRIC_NAMES: Final = (CPU, NET_IN, NET_OUT, MEMORY)


@dataclass
class CallCounter:
    """Metrics requests by subscription and region."""

    calls: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, key: str) -> None:
        with self._lock:
            self.calls[key] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def window(now: datetime, lookback_days: int) -> tuple[datetime, datetime]:
    """[start, end) on whole hours: the hour running now has not finished."""
    end = now.replace(minute=0, second=0, microsecond=0)
    return end - timedelta(days=lookback_days), end


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def batches(ids: Sequence[str], size: int = BATCH) -> list[list[str]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def query(
    client: Any,
    region: str,
    timespan: str,
    names: Sequence[str],
    aggregation: str,
    namespace: str,
    resource_ids: Sequence[str],
) -> Any:
    """One multi-resource metrics query for ``resource_ids`` (at most ``BATCH``) in
    ``region``: the filter and the rest in the POST body."""
    from azure.mgmt.monitor.models import SubscriptionScopeMetricsRequestBodyParameters

    body = SubscriptionScopeMetricsRequestBodyParameters(
        timespan=timespan,
        interval="PT1H",
        metric_names=",".join(names),
        aggregation=aggregation,
        metric_namespace=namespace,
        top=len(resource_ids),
        filter=" or ".join(f"Microsoft.ResourceId eq '{rid}'" for rid in resource_ids),
        auto_adjust_timegrain=True,
        validate_dimensions=False,
    )
    return client.metrics.list_at_subscription_scope_post(region=region, body=body)


def vm_utilization(
    client: Any,
    subscription: str,
    compute: pl.DataFrame,
    now: datetime,
    lookback_days: int,
    counter: CallCounter | None = None,
) -> pl.DataFrame:
    """The ``utilization`` frame for the VMs of ``compute`` (one subscription's): one call
    per region and batch of ``BATCH``."""
    start, end = window(now, lookback_days)
    timespan = f"{_iso(start)}/{_iso(end)}"
    by_lower = {rid.lower(): rid for rid in compute["resource_id"].to_list()}
    memory_gib = dict(zip(compute["resource_id"], compute["memory_gib"], strict=True))
    ids: list[str] = []
    metrics: list[str] = []
    statistics: list[str] = []
    stamps: list[datetime] = []
    values: list[float] = []

    def add(rid: str, metric: str, statistic: str, stamp: datetime, value: float | None) -> None:
        if value is None:
            return
        ids.append(rid)
        metrics.append(metric)
        statistics.append(statistic)
        stamps.append(stamp)
        values.append(float(value))

    regions = compute.group_by("region", maintain_order=True).agg("resource_id")
    for region, members in regions.iter_rows():
        for batch in batches(sorted(members)):
            answer = query(
                client, region, timespan, METRIC_NAMES, "average,maximum,total", NAMESPACE, batch
            )
            if counter is not None:
                counter.add(f"{subscription}/{region}")
            for metric in answer.value or []:
                name = str(metric.name.value) if metric.name else ""
                for series in metric.timeseries or []:
                    rid = _resource_of(series, by_lower)
                    if rid is None:
                        continue
                    for point in series.data or []:
                        stamp = point.time_stamp
                        if name == CPU:
                            add(rid, "cpu", "average", stamp, point.average)
                            add(rid, "cpu", "maximum", stamp, point.maximum)
                        elif name == NET_IN:
                            add(rid, "network_in", "sum", stamp, point.total)
                        elif name == NET_OUT:
                            add(rid, "network_out", "sum", stamp, point.total)
                        elif name == MEMORY and point.average is not None:
                            total = memory_gib.get(rid)
                            if total:
                                used = 100.0 * (1.0 - point.average / (total * BYTES_PER_GIB))
                                add(rid, "memory", "average", stamp, max(0.0, used))
    frame = pl.DataFrame(
        {
            "resource_id": pl.Series(ids, dtype=pl.String),
            "metric": pl.Series(metrics, dtype=pl.String),
            "statistic": pl.Series(statistics, dtype=pl.String),
            "ts": pl.Series(stamps, dtype=pl.Datetime("us", "UTC")),
            "value": pl.Series(values, dtype=pl.Float64),
        }
    )
    return schema.conform("utilization", frame)


def _resource_of(series: Any, by_lower: dict[str, str]) -> str | None:
    """The VM a multi-resource series is of (its ``microsoft.resourceid`` metadata value,
    which Azure Monitor may answer in lower case), in the VM's own spelling."""
    for meta in series.metadatavalues or []:
        key = str(meta.name.value if meta.name else "").lower()
        if key == "microsoft.resourceid" and meta.value:
            return by_lower.get(str(meta.value).lower())
    return None
