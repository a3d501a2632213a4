"""Storage accounts (azure-mgmt-storage): default access tier, lifecycle management policy
and tags; blob bytes and counts from Azure Monitor.

- Storage Accounts - List (all pages) gives each account's kind, SKU, location and default
  access tier (Hot or Cool);
- Management Policies - Get (``default``) gives its lifecycle rules: ARM answers 404 when an
  account has none, which here means "no lifecycle policy", not a failure. One call per
  account: ARM has no list of management policies.
- Monitor's ``BlobCapacity`` and ``BlobCount`` on each account's blob service
  (``.../blobServices/default``), one multi-resource call per region and batch of 50, the
  latest hourly value of the last two days
  (https://learn.microsoft.com/azure/azure-monitor/reference/supported-metrics/
  microsoft-storage-storageaccounts-blobservices-metrics).

The ``buckets`` frame is shared with S3 and GCS: ``storage_class`` is the account's access
tier, ``price_gb_month`` its per-GB rate, ``price_standard_gb_month`` Hot's and
``price_standard_ia_gb_month`` Cool's (where a lifecycle rule moves cold blobs first), and
``price_transition_per_1000`` the Cool write operation a tier change costs per blob.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

import polars as pl

from costscan.providers.azure.compute import text
from costscan.providers.azure.monitor import batches, query
from costscan.providers.pricing import azure as azure_prices
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.vocab import ResourceType

PROVIDER: Final = "azure"
BLOB_NAMESPACE: Final = "microsoft.storage/storageaccounts/blobservices"
BLOB_SERVICE: Final = "/blobServices/default"
# Kinds that hold block blobs with access tiers (general-purpose v2, Blob storage).
TIERED_KINDS: Final = frozenset({"storagev2", "blobstorage"})


def _group_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    lower = [p.lower() for p in parts]
    return parts[lower.index("resourcegroups") + 1] if "resourcegroups" in lower else ""


def list_accounts(client: Any, subscription: str) -> list[dict[str, Any]]:
    """Every storage account with blob tiers, and its lifecycle policy's enabled rules."""
    from azure.core.exceptions import ResourceNotFoundError

    rows = []
    for account in client.storage_accounts.list():
        kind = (text(account.kind) or "").lower()
        if kind not in TIERED_KINDS:
            continue
        rid, name = str(account.id), str(account.name)
        try:
            policy = client.management_policies.get(_group_of(rid), name, "default")
            rules = [r for r in (policy.policy.rules or []) if r.enabled is not False]
        except ResourceNotFoundError:
            rules = []
        rows.append(
            {
                "provider": PROVIDER,
                "account_id": subscription,
                "region": str(account.location),
                "resource_id": rid,
                "resource_name": name,
                "resource_type": ResourceType.STORAGE_ACCOUNT.value,
                "storage_class": (text(account.access_tier) or "Hot").upper(),
                "has_lifecycle": bool(rules),
                "lifecycle_rules": len(rules),
                "lifecycle_transitions": bool(rules),
                "lifecycle_summary": ", ".join(str(r.name) for r in rules) or None,
                "intelligent_tiering": False,
            }
        )
    return rows


def blob_usage(
    client: Any, accounts: list[dict[str, Any]], now: datetime
) -> dict[str, tuple[float | None, float | None, datetime | None]]:
    """Per account id (lower case): (bytes, blobs, the hour they are of), the latest values
    of BlobCapacity and BlobCount."""
    end = now.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=2)
    timespan = f"{start.strftime('%Y-%m-%dT%H:%M:%SZ')}/{end.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    found: dict[str, tuple[float | None, float | None, datetime | None]] = {}
    by_region: dict[str, list[str]] = {}
    for a in accounts:
        by_region.setdefault(str(a["region"]), []).append(str(a["resource_id"]) + BLOB_SERVICE)
    for region, services in sorted(by_region.items()):
        for batch in batches(sorted(services)):
            answer = query(
                client, region, timespan, ("BlobCapacity", "BlobCount"), "average",
                BLOB_NAMESPACE, batch,
            )  # fmt: skip
            for metric in answer.value or []:
                name = str(metric.name.value) if metric.name else ""
                for series in metric.timeseries or []:
                    service = next(
                        (str(m.value) for m in series.metadatavalues or []
                         if str(m.name.value if m.name else "").lower() == "microsoft.resourceid"),
                        "",
                    )  # fmt: skip
                    key = service.lower().removesuffix(BLOB_SERVICE.lower())
                    points = [p for p in series.data or [] if p.average is not None]
                    if not key or not points:
                        continue
                    latest = max(points, key=lambda p: p.time_stamp)
                    size, count, when = found.get(key, (None, None, None))
                    if name == "BlobCapacity":
                        size = float(latest.average)
                    elif name == "BlobCount":
                        count = float(latest.average)
                    found[key] = (size, count, latest.time_stamp or when)
    return found


def buckets_frame(
    accounts: list[dict[str, Any]],
    usage: dict[str, tuple[float | None, float | None, datetime | None]],
) -> pl.DataFrame:
    """One row per account, in its access tier, with Monitor's bytes and blobs (unknown
    without them) and the tier prices of its region (eastus's where not bundled)."""
    rows = []
    for account in accounts:
        size, count, when = usage.get(str(account["resource_id"]).lower(), (None, None, None))
        hot, where, reference = azure_prices.unit_price("blob.hot", str(account["region"]))
        cool, _, _ = azure_prices.unit_price("blob.cool", str(account["region"]))
        write, _, _ = azure_prices.unit_price("blob.cool_write_10k", str(account["region"]))
        own = cool if account["storage_class"] == "COOL" else hot
        rows.append(
            account
            | {
                "bytes": size,
                "objects": count,
                "metrics_date": when,
                "price_gb_month": own,
                "price_standard_gb_month": hot,
                "price_standard_ia_gb_month": cool,
                "price_transition_per_1000": write / 10.0 if write is not None else None,
                "price_region": where,
                "price_reference": reference,
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={
            **{c: schema.BUCKETS[c] for c in schema.IDENTITY_COLUMNS},
            "storage_class": pl.String(),
            "has_lifecycle": pl.Boolean(),
            "lifecycle_rules": pl.Int64(),
            "lifecycle_transitions": pl.Boolean(),
            "lifecycle_summary": pl.String(),
            "intelligent_tiering": pl.Boolean(),
            "bytes": pl.Float64(),
            "objects": pl.Float64(),
            "metrics_date": schema.UTC_TS,
            "price_gb_month": pl.Float64(),
            "price_standard_gb_month": pl.Float64(),
            "price_standard_ia_gb_month": pl.Float64(),
            "price_transition_per_1000": pl.Float64(),
            "price_region": pl.String(),
            "price_reference": pl.String(),
        },
    )
    return schema.conform("buckets", frame)
