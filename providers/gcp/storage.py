"""Cloud Storage buckets (google-cloud-storage, JSON API): default class, lifecycle rules,
Autoclass and labels; bytes and objects by storage class come from Cloud Monitoring
(``monitoring.bucket_storage``).

The ``buckets`` frame is shared with S3, so its price columns are read as GCS classes:
``price_standard_gb_month`` is Standard, ``price_standard_ia_gb_month`` and
``price_intelligent_tiering_ia_gb_month`` are Nearline (where a lifecycle rule or Autoclass
first moves cold data), ``price_intelligent_tiering_monitoring_per_1000`` is Autoclass's
management fee and ``price_transition_per_1000`` is a Nearline Class A operation (what a
lifecycle SetStorageClass costs). ``intelligent_tiering`` holds whether Autoclass is on.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from costscan.providers.pricing import gcp as gcp_prices
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.vocab import ResourceType

PROVIDER = "gcp"
GCS_CLASSES = ("STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE")
_MOVES_DATA = {"SetStorageClass", "Delete"}


def list_buckets(client: Any, project: str) -> list[dict[str, Any]]:
    """Every bucket of ``project`` (all pages) with its lifecycle and Autoclass facts."""
    rows = []
    for bucket in client.list_buckets(project=project):
        rules = [dict(rule) for rule in bucket.lifecycle_rules]
        actions = [str(rule.get("action", {}).get("type", "")) for rule in rules]
        rows.append(
            {
                "provider": PROVIDER,
                "account_id": project,
                "region": str(bucket.location or "").lower() or None,
                "resource_id": bucket.name,
                "resource_name": bucket.name,
                "resource_type": ResourceType.GCS_BUCKET.value,
                "_default_class": str(bucket.storage_class or "STANDARD").upper(),
                "has_lifecycle": bool(rules),
                "lifecycle_rules": len(rules),
                "lifecycle_transitions": any(a in _MOVES_DATA for a in actions),
                "lifecycle_aborts_uploads": "AbortIncompleteMultipartUpload" in actions,
                "lifecycle_summary": ", ".join(a for a in actions if a) or None,
                "intelligent_tiering": bool(bucket.autoclass_enabled),
            }
        )
    return rows


def buckets_frame(buckets: list[dict[str, Any]], stored: pl.DataFrame) -> pl.DataFrame:
    """One row per bucket and storage class holding data (Monitoring's figures), or one
    row in the bucket's default class with unknown bytes when Monitoring has none."""
    facts = pl.DataFrame(
        buckets,
        schema={
            **{c: schema.BUCKETS[c] for c in schema.IDENTITY_COLUMNS},
            "_default_class": pl.String(),
            "has_lifecycle": pl.Boolean(),
            "lifecycle_rules": pl.Int64(),
            "lifecycle_transitions": pl.Boolean(),
            "lifecycle_aborts_uploads": pl.Boolean(),
            "lifecycle_summary": pl.String(),
            "intelligent_tiering": pl.Boolean(),
        },
    )
    measured = facts.join(stored, on="resource_id", how="inner")
    unmeasured = facts.join(stored, on="resource_id", how="anti").with_columns(
        pl.col("_default_class").alias("storage_class")
    )
    rows = pl.concat([measured, unmeasured], how="diagonal_relaxed").drop("_default_class")
    items = {f"_class_{c}": f"gcs.{c}" for c in GCS_CLASSES}
    items |= {
        "price_intelligent_tiering_monitoring_per_1000": "gcs.autoclass.management_per_1000",
        "price_transition_per_1000": "gcs.classA.NEARLINE_per_1000",
    }
    priced = gcp_prices.with_regional_prices(rows, items)
    own = pl.coalesce(
        *[pl.when(pl.col("storage_class") == c).then(pl.col(f"_class_{c}")) for c in GCS_CLASSES]
    )
    out = priced.with_columns(
        own.alias("price_gb_month"),
        pl.col("_class_STANDARD").alias("price_standard_gb_month"),
        pl.col("_class_NEARLINE").alias("price_standard_ia_gb_month"),
        pl.col("_class_NEARLINE").alias("price_intelligent_tiering_ia_gb_month"),
    )
    return schema.conform("buckets", out)
