"""Cloud Monitoring's user-defined metrics (custom and Managed Service for Prometheus) as
the ``metric_series`` frame: one row per metric type with its active series and the
distinct values of each label, priced per series-month (providers/pricing/
gcp_observability.py), so the provider-agnostic cardinality policy prices them as it
prices CloudWatch's."""

from __future__ import annotations

import polars as pl

from costscan.providers.gcp.monitoring import MetricCount
from costscan.providers.pricing.gcp_observability import CUSTOM, PROMETHEUS, metric_series_tiers
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.vocab import ResourceType

GLOBAL = "global"


def metric_series_frame(project: str, counts: list[MetricCount]) -> pl.DataFrame:
    rows = []
    for count in counts:
        domain, _, name = count.metric_type.partition("/")
        kind = PROMETHEUS if domain.startswith("prometheus.") else CUSTOM
        tiers, reference = metric_series_tiers(kind)
        rows.append(
            {
                "provider": "gcp",
                "account_id": project,
                "region": GLOBAL,
                "resource_id": f"projects/{project}/metricDescriptors/{count.metric_type}",
                "resource_name": count.metric_type,
                "resource_type": ResourceType.MONITORING_METRIC.value,
                "namespace": domain,
                "metric_name": name,
                "custom": True,
                "series_count": count.series,
                "dimension_cardinality": [
                    {"key": key, "distinct_values": n} for key, n in sorted(count.distinct.items())
                ],
                "price_tiers": [{"first_metric": start, "price": price} for start, price in tiers],
                "price_region": GLOBAL,
                "price_source": "bundled",
                "price_reference": reference,
            }
        )
    return schema.conform(
        "metric_series", pl.DataFrame(rows, schema=schema.METRIC_SERIES, strict=False)
    )
