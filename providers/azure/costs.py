"""Actual costs from Cost Management (azure-mgmt-costmanagement ``query.usage``): what each
resource was billed over the lookback, so billed cost wins over list price, as
``--billing`` does on AWS.

One Query - Usage a subscription (a POST that only reads;
https://learn.microsoft.com/rest/api/cost-management/query/usage): ``type``
AmortizedCost (reservation and savings plan purchases spread over the resources they
cover, so a covered VM shows its discounted rate), a custom time period of the lookback's
whole days, no granularity, the sums of ``Cost`` and ``UsageQuantity`` grouped by
``ResourceId`` and ``MeterCategory``; every page (``nextLink``, the same body POSTed again).
Cost Management names resources in lower case: they are matched case-insensitively.

From the rows (USD; another billing currency is left alone and said so):

- a VM (meter category "Virtual Machines", quantity in hours) is billed
  ``hourly = cost / hours``;
- a disk, a snapshot or a public IP bills all the time it exists, so
  ``hourly = cost / the window's hours`` (monthly = hourly × 730).

The frames' price columns become these figures and ``price_source`` ``billing``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

import polars as pl

from costscan.scanner.contracts.units import HOURS_PER_MONTH

API_VERSION: Final = "2023-03-01"
VM_METER: Final = "virtual machines"
CURRENCY: Final = "USD"
COSTS_SCHEMA: Final[dict[str, pl.DataType]] = {
    "_key": pl.String(),  # the resource id in lower case
    "meter_category": pl.String(),
    "cost": pl.Float64(),
    "quantity": pl.Float64(),
}


def window(now: datetime, lookback_days: int) -> tuple[datetime, datetime]:
    """The lookback's whole UTC days before today: Cost Management settles a day late."""
    end = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return end - timedelta(days=lookback_days), end


def definition(start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "type": "AmortizedCost",
        "timeframe": "Custom",
        "timePeriod": {
            "from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "to": (end - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "dataset": {
            "granularity": "None",
            "aggregation": {
                "totalCost": {"name": "Cost", "function": "Sum"},
                "totalQuantity": {"name": "UsageQuantity", "function": "Sum"},
            },
            "grouping": [
                {"type": "Dimension", "name": "ResourceId"},
                {"type": "Dimension", "name": "MeterCategory"},
            ],
        },
    }


def query_costs(client: Any, subscription: str, start: datetime, end: datetime) -> pl.DataFrame:
    """Every row of the subscription's amortized costs by resource and meter category."""
    from azure.core.rest import HttpRequest

    body = definition(start, end)
    scope = f"/subscriptions/{subscription}"
    result = client.query.usage(scope, body)
    rows: list[dict[str, Any]] = []
    columns = [str(c.name) for c in (result.columns or [])] if result is not None else []
    pages = [result.rows or []] if result is not None else []
    next_link = result.next_link if result is not None else None
    while next_link:
        response = client.send_request(HttpRequest("POST", next_link, json=body))
        response.raise_for_status()
        page = response.json().get("properties", {})
        columns = [str(c.get("name")) for c in page.get("columns", [])] or columns
        pages.append(page.get("rows") or [])
        next_link = page.get("nextLink") or None
    index = {name.lower(): i for i, name in enumerate(columns)}
    needed = ("resourceid", "metercategory", "cost", "usagequantity")
    if not all(k in index for k in needed):
        return pl.DataFrame(schema=COSTS_SCHEMA)
    for page_rows in pages:
        for row in page_rows:
            currency = row[index["currency"]] if "currency" in index else CURRENCY
            if currency != CURRENCY or not row[index["resourceid"]]:
                continue
            rows.append(
                {
                    "_key": str(row[index["resourceid"]]).lower(),
                    "meter_category": str(row[index["metercategory"]] or "").lower(),
                    "cost": float(row[index["cost"]] or 0.0),
                    "quantity": float(row[index["usagequantity"]] or 0.0),
                }
            )
    return pl.DataFrame(rows, schema=COSTS_SCHEMA)


def billed_hourly(costs: pl.DataFrame, window_hours: float) -> pl.DataFrame:
    """Per resource (lower-case id): its billed cost per hour, by the rules above."""
    is_vm = pl.col("meter_category") == VM_METER
    per_resource = costs.group_by("_key").agg(
        pl.col("cost").sum().alias("_total"),
        pl.col("cost").filter(is_vm).sum().alias("_vm_cost"),
        pl.col("quantity").filter(is_vm).sum().alias("_vm_hours"),
    )
    return per_resource.select(
        "_key",
        pl.when(pl.col("_vm_hours") > 0)
        .then(pl.col("_vm_cost") / pl.col("_vm_hours"))
        .otherwise(pl.col("_total") / window_hours)
        .alias("_billed_hourly"),
    )


def apply(frame: pl.DataFrame, billed: pl.DataFrame, column: str, monthly: bool) -> pl.DataFrame:
    """``frame`` with ``column`` (hourly, or monthly when ``monthly``) and ``price_source``
    from ``billed`` wherever the resource was billed."""
    if frame.height == 0 or billed.height == 0:
        return frame
    joined = frame.with_columns(pl.col("resource_id").str.to_lowercase().alias("_key")).join(
        billed, on="_key", how="left"
    )
    matched = pl.col("_billed_hourly").is_not_null()
    price = pl.col("_billed_hourly") * (HOURS_PER_MONTH if monthly else 1.0)
    return joined.with_columns(
        pl.when(matched).then(price).otherwise(pl.col(column)).alias(column),
        pl.when(matched)
        .then(pl.lit("billing"))
        .otherwise(pl.col("price_source"))
        .alias("price_source"),
    ).drop("_key", "_billed_hourly")
