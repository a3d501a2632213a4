"""A GCP billing export in BigQuery's nested shape, and its flat twin (BigQuery's CSV extract).

The rows cover what the mapping must get right: credits of every kind (none, a promotion,
sustained use, committed use by resource and by spend, two credits on one row), labels
(none, several, a null value), every cost type (regular, tax, adjustment, rounding error,
none), Spot and Preemptible SKUs, December's invoice (the next year's period end), a
region missing (location only), empty strings, list cost present or not, and, in the
detailed export, resources with and without a global name. ``seed`` varies the amounts.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

START = datetime(2024, 9, 1, tzinfo=UTC)
ACCOUNT = "01A2B3-C4D5E6-F7A8B9"

CREDIT = pl.Struct(
    {
        "name": pl.String,
        "amount": pl.Float64,
        "full_name": pl.String,
        "id": pl.String,
        "type": pl.String,
    }
)
LABEL = pl.Struct({"key": pl.String, "value": pl.String})
SERVICES = (
    ("6F81-5844-456A", "Compute Engine"),
    ("95FF-2EF5-5EA1", "Cloud Storage"),
    ("24E6-581D-38E5", "BigQuery"),
    ("9662-B51E-5089", "Cloud SQL"),
    ("E505-1604-58F8", "Networking"),
    ("AAAA-BBBB-CCCC", "Some New Service"),
)
LABELS = (
    [],
    [{"key": "env", "value": "prod"}, {"key": "team", "value": "web"}],
    [{"key": "env", "value": "dev"}],
    [{"key": "owner", "value": None}, {"key": "app", "value": "billing-api"}],
)


def _credits(kind: int, cost: float) -> list[dict[str, Any]]:
    if kind == 1:
        return [{"name": "Free tier", "amount": -round(cost * 0.1, 6), "full_name": None,
                 "id": "promo-1", "type": "PROMOTION"}]  # fmt: skip
    if kind == 2:
        return [{"name": "Sustained usage discount", "amount": -round(cost * 0.2, 6),
                 "full_name": "Sustained usage discount", "id": None,
                 "type": "SUSTAINED_USAGE_DISCOUNT"}]  # fmt: skip
    if kind == 3:
        return [{"name": "Committed use discount: CPU", "amount": -cost, "full_name": None,
                 "id": "cud-cpu-1", "type": "COMMITTED_USAGE_DISCOUNT"}]  # fmt: skip
    if kind == 4:
        return [{"name": "Committed use discount (dollar based)", "amount": -round(cost * 0.28, 6),
                 "full_name": None, "id": None,
                 "type": "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE"}]  # fmt: skip
    if kind == 5:
        return [
            {"name": "Sustained usage discount", "amount": -round(cost * 0.1, 6),
             "full_name": None, "id": "", "type": "SUSTAINED_USAGE_DISCOUNT"},
            {"name": "Free trial", "amount": -round(cost * 0.05, 6), "full_name": None,
             "id": "trial-1", "type": "FREE_TIER"},
        ]  # fmt: skip
    return []


def rows(count: int = 240, seed: int = 18, detailed: bool = True) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        service_id, service = SERVICES[i % len(SERVICES)]
        hour = (i * 7) % (24 * 45)  # 45 days: into October's invoice
        start = START + timedelta(hours=hour) - timedelta(days=3)  # from 29 August
        cost = round(rng.uniform(0.0, 9.0), 6)
        cost_type = (None, "regular", "regular", "tax", "adjustment", "rounding_error", "regular")[
            i % 7
        ]
        month = "202412" if i % 29 == 0 else start.strftime("%Y%m")
        sku = ("N2 Instance Core", "Spot Preemptible E2 Core", "Preemptible N1 Core", "Storage",
               "E2 Instance Ram")[i % 5]  # fmt: skip
        region = ("us-central1", "europe-west1", None, "")[i % 4]
        row: dict[str, Any] = {
            "billing_account_id": ACCOUNT,
            "service": {"id": service_id, "description": service},
            "sku": {"id": f"SKU-{i % 13:03d}", "description": sku},
            "usage_start_time": start,
            "usage_end_time": start + timedelta(hours=1),
            "project": {
                "id": f"project-{i % 4}",
                "number": str(1000 + i % 4),
                "name": f"Project {i % 4}",
            },
            "labels": LABELS[i % len(LABELS)],
            "location": {
                "location": "us" if region is None else region,
                "country": "US",
                "region": region,
                "zone": None,
            },
            "export_time": start + timedelta(hours=5),
            "cost": cost,
            "currency": "USD",
            "currency_conversion_rate": 1.0,
            "usage": {
                "amount": float(i % 11) * 3600.0,
                "unit": "seconds",
                "amount_in_pricing_units": float(i % 11),
                "pricing_unit": "hour",
            },
            "credits": _credits(i % 6, cost),
            "invoice": {"month": month},
            "cost_type": cost_type,
            "cost_at_list": None if i % 3 == 0 else round(cost * 1.25, 6),
        }
        if detailed:
            name = None if i % 9 == 0 else f"vm-{i % 17}"
            global_name = (
                None if i % 5 == 0 else f"//compute.googleapis.com/projects/p/instances/{i % 17}"
            )
            row["resource"] = {"name": name, "global_name": global_name}
        out.append(row)
    return out


def frame(count: int = 240, seed: int = 18, detailed: bool = True) -> pl.DataFrame:
    """The export as BigQuery holds it: records as structs, repeated records as lists."""
    data = pl.DataFrame(rows(count, seed, detailed), infer_schema_length=None)
    return data.with_columns(
        pl.col("credits").cast(pl.List(CREDIT)), pl.col("labels").cast(pl.List(LABEL))
    )


def write_nested(path: Path, count: int = 240, seed: int = 18, detailed: bool = True) -> Path:
    frame(count, seed, detailed).write_parquet(path)
    return path


def write_flat_csv(path: Path, count: int = 240, seed: int = 18, detailed: bool = True) -> Path:
    """BigQuery's CSV extract of the same table: dotted names, repeated records as JSON."""
    nested = frame(count, seed, detailed)
    records = [name for name, dtype in nested.schema.items() if isinstance(dtype, pl.Struct)]
    flat = nested.select(
        *[
            pl.col(record).struct.field(sub).alias(f"{record}.{sub}")
            for record in records
            for sub in nested.schema[record].to_schema()  # type: ignore[union-attr]
        ],
        *[
            pl.col(name).dt.strftime("%Y-%m-%d %H:%M:%S UTC")
            for name, dtype in nested.schema.items()
            if isinstance(dtype, pl.Datetime)
        ],
        *[
            pl.col(name).map_elements(lambda v: json.dumps(v.to_list()), return_dtype=pl.String)
            for name in ("labels", "credits")
        ],
        *[
            name
            for name, dtype in nested.schema.items()
            if not isinstance(dtype, (pl.Struct, pl.Datetime, pl.List))
        ],
    )
    flat.write_csv(path)
    return path
