"""Demo seeding for observability: log groups and a high-cardinality custom namespace.

In every region:
- ``/demo/orders/app``: never expires, holds a little history and takes in a trickle, so
  most of what it stores is older than 30 days (a retention finding);
- ``/demo/edge/access-logs``: 14-day retention, about 4 GiB a day of IncomingBytes
  (a heavy-ingestion finding, about $60 a month of ingestion at us-east-1 prices);
- ``/demo/batch/jobs``: 30-day retention and quiet (nothing to say).

In the first region only, the custom namespace ``Demo/Checkout``: ``Latency`` published per
``CustomerId`` (400 values) and ``Endpoint`` (3 values), 1,200 series, and ``Orders`` per
``Endpoint`` (3 series). Dropping CustomerId leaves 3 Latency series.

moto derives storedBytes from the events it holds and stamps creationTime "now", so the
no-retention group's saving is small but follows the formula; IncomingBytes comes from
``AWS/Logs`` datapoints published here (moto serves back what it is given).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

NO_RETENTION_GROUP = "/demo/orders/app"
HEAVY_GROUP = "/demo/edge/access-logs"
QUIET_GROUP = "/demo/batch/jobs"
CUSTOM_NAMESPACE = "Demo/Checkout"
CUSTOMERS = 400
ENDPOINTS = ("/cart", "/checkout", "/pay")
# Stored history of the no-retention group: 200 events of 1,000 bytes.
HISTORY_EVENTS = 200
EVENT_BYTES = 1000
# Its trickle: 1,000 bytes a day, so a 30-day retention keeps 30,000 of its 200,000 bytes.
TRICKLE_BYTES_PER_DAY = 1000.0
HEAVY_BYTES_PER_DAY = 4.0 * 2**30
LOOKBACK_DAYS = 14
MAX_DATUMS_PER_CALL = 1000
MAX_EVENTS_PER_CALL = 1000


def seed_observability(
    endpoint_url: str,
    now: datetime,
    regions: Sequence[str],
    *,
    lookback_days: int = LOOKBACK_DAYS,
) -> None:
    """Seed log groups in every region and the custom namespace in the first."""
    import boto3

    from costscan.demo.account import metric_client

    moment = now if now.tzinfo else now.replace(tzinfo=UTC)
    for index, region in enumerate(regions):
        logs = boto3.client("logs", region_name=region, endpoint_url=endpoint_url)
        cloudwatch = metric_client(endpoint_url, region)
        _seed_log_groups(logs, cloudwatch, moment, lookback_days)
        if index == 0:
            _seed_custom_metrics(cloudwatch, moment)


def _seed_log_groups(logs: Any, cloudwatch: Any, now: datetime, lookback_days: int) -> None:
    logs.create_log_group(logGroupName=NO_RETENTION_GROUP)
    logs.create_log_stream(logGroupName=NO_RETENTION_GROUP, logStreamName="app-1")
    stamp = int((now - timedelta(hours=1)).timestamp() * 1000)
    events = [{"timestamp": stamp + i, "message": "x" * EVENT_BYTES} for i in range(HISTORY_EVENTS)]
    for first in range(0, len(events), MAX_EVENTS_PER_CALL):
        logs.put_log_events(
            logGroupName=NO_RETENTION_GROUP,
            logStreamName="app-1",
            logEvents=events[first : first + MAX_EVENTS_PER_CALL],
        )
    logs.create_log_group(logGroupName=HEAVY_GROUP)
    logs.put_retention_policy(logGroupName=HEAVY_GROUP, retentionInDays=14)
    logs.create_log_group(logGroupName=QUIET_GROUP)
    logs.put_retention_policy(logGroupName=QUIET_GROUP, retentionInDays=30)

    end = now.replace(minute=0, second=0, microsecond=0)
    days = [
        end - timedelta(days=lookback_days) + timedelta(days=d, hours=1)
        for d in range(lookback_days)
    ]
    datums = [
        _incoming(group, day, per_day)
        for group, per_day in (
            (NO_RETENTION_GROUP, TRICKLE_BYTES_PER_DAY),
            (HEAVY_GROUP, HEAVY_BYTES_PER_DAY),
        )
        for day in days
    ]
    _put(cloudwatch, "AWS/Logs", datums)


def _incoming(group: str, when: datetime, value: float) -> dict[str, Any]:
    return {
        "MetricName": "IncomingBytes",
        "Dimensions": [{"Name": "LogGroupName", "Value": group}],
        "Timestamp": when,
        "Value": value,
        "Unit": "Bytes",
    }


def _seed_custom_metrics(cloudwatch: Any, now: datetime) -> None:
    when = now - timedelta(hours=1)
    latency = [
        {
            "MetricName": "Latency",
            "Dimensions": [
                {"Name": "CustomerId", "Value": f"cust-{customer:04d}"},
                {"Name": "Endpoint", "Value": endpoint},
            ],
            "Timestamp": when,
            "Value": 120.0,
            "Unit": "Milliseconds",
        }
        for customer in range(CUSTOMERS)
        for endpoint in ENDPOINTS
    ]
    orders = [
        {
            "MetricName": "Orders",
            "Dimensions": [{"Name": "Endpoint", "Value": endpoint}],
            "Timestamp": when,
            "Value": 10.0,
            "Unit": "Count",
        }
        for endpoint in ENDPOINTS
    ]
    _put(cloudwatch, CUSTOM_NAMESPACE, latency + orders)


def _put(cloudwatch: Any, namespace: str, datums: list[dict[str, Any]]) -> None:
    for first in range(0, len(datums), MAX_DATUMS_PER_CALL):
        cloudwatch.put_metric_data(
            Namespace=namespace, MetricData=datums[first : first + MAX_DATUMS_PER_CALL]
        )
