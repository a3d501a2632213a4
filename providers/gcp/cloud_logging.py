"""Cloud Logging: the log buckets of a project, their retention, and what they hold and
take in, as the ``log_groups`` frame.

Buckets come from the Logging API v2 (``GET v2/projects/P/locations/-/buckets``, every
location, all pages; https://cloud.google.com/logging/docs/reference/v2/rest/v2/
projects.locations.buckets/list); their bytes from Cloud Monitoring
(``monitoring.log_bucket_usage``). ``_Required`` (audit logs, 400 days) is free and
cannot be changed, so it is left out; a bucket being deleted is too.

Prices: Cloud Logging's list prices (providers/pricing/gcp_observability.py): the
ingestion rate per GiB, and the retention rate per GiB-month in
``storage_price_per_gb_month`` (charged only on what is older than 30 days; the policies
say so).
"""

from __future__ import annotations

from typing import Any, Final

import polars as pl

from costscan.providers.gcp.clients import RestApi
from costscan.providers.pricing.gcp_observability import logging_prices
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.vocab import ResourceType

FREE_BUCKET: Final = "_Required"
COLUMNS: dict[str, pl.DataType] = {
    **{c: schema.LOG_GROUPS[c] for c in schema.IDENTITY_COLUMNS},
    "retention_days": pl.Int64(),
    "created": schema.UTC_TS,
    "retention_locked": pl.Boolean(),
    "_location": pl.String(),
    "_bucket_id": pl.String(),
}


def list_log_buckets(api: RestApi, project: str) -> list[dict[str, Any]]:
    """Every active log bucket of ``project`` but ``_Required``, as rows."""
    rows = []
    for bucket in api.pages(f"v2/projects/{project}/locations/-/buckets", "buckets"):
        name = str(bucket.get("name", ""))
        parts = name.split("/")
        if len(parts) < 6 or parts[-1] == FREE_BUCKET:
            continue
        if bucket.get("lifecycleState", "ACTIVE") not in ("ACTIVE", "LIFECYCLE_STATE_UNSPECIFIED"):
            continue
        location, bucket_id = parts[3], parts[5]
        rows.append(
            {
                "provider": "gcp",
                "account_id": project,
                "region": location,
                "resource_id": f"projects/{project}/locations/{location}/buckets/{bucket_id}",
                "resource_name": f"{bucket_id} ({location})",
                "resource_type": ResourceType.LOG_BUCKET.value,
                # Google's default, when a bucket names none, is 30 days.
                "retention_days": int(bucket.get("retentionDays") or 30),
                "created": bucket.get("createTime"),
                "retention_locked": bool(bucket.get("locked", False)),
                "_location": location,
                "_bucket_id": bucket_id,
            }
        )
    return rows


def log_groups_frame(buckets: list[dict[str, Any]], usage: pl.DataFrame) -> pl.DataFrame:
    """The ``log_groups`` rows: each bucket with its stored and 30-day ingested bytes
    (``usage``: ``location, bucket_id, stored_bytes, ingested_bytes_30d``) and the list
    prices."""
    frame = pl.DataFrame([{**b, "created": None} for b in buckets], schema=COLUMNS).with_columns(
        pl.Series(
            "created",
            [b["created"] for b in buckets],
            dtype=pl.String,
        )
        .str.to_datetime(time_zone="UTC", strict=False)
        .cast(schema.UTC_TS)
    )
    prices = logging_prices()
    out = frame.join(
        usage.rename({"location": "_location", "bucket_id": "_bucket_id"}),
        on=["_location", "_bucket_id"],
        how="left",
    ).with_columns(
        pl.lit(prices.ingestion_per_gib).alias("ingestion_price_per_gb"),
        pl.lit(prices.retention_per_gib_month).alias("storage_price_per_gb_month"),
        pl.lit(prices.reference).alias("price_reference"),
        # One price everywhere: the bucket's own location is the region priced.
        pl.col("region").alias("price_region"),
        pl.lit("bundled").alias("price_source"),
    )
    return schema.conform("log_groups", out)
