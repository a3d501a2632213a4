"""Oracle Cloud Infrastructure cost reports (the CSV in ``reports/cost-csv``).

Columns follow OCI's "Cost and Usage Reports" page
(https://docs.oracle.com/en-us/iaas/Content/Billing/Concepts/costusagereportsoverview.htm):
one row per resource and usage interval, ``lineItem/``, ``product/``, ``usage/``,
``cost/`` and ``tags/`` columns. They share CUR's ``lineItem/`` prefix and nothing else,
so ``lineItem/intervalUsageStart``, ``lineItem/tenantId`` or ``cost/myCost`` tell them
apart. OCI's usage reports (quantities without costs) are refused by name: they say
nothing about money.

- BilledCost, EffectiveCost, ContractedCost, ListCost <- cost/myCost (OCI: "billedQuantity,
  myCost and unitPrice are inclusive of Overage"; the report holds no list price)
- BillingAccountId <- lineItem/tenantId; SubAccountId <- product/compartmentId
- ProviderName <- "Oracle" (as in the FOCUS sample data's OCI rows)
- ServiceName <- product/service; ServiceCategory <- a table of service names, else "Other"
- ResourceId <- product/resourceId; RegionId <- product/region
- ChargeCategory <- Usage; ChargeClass <- Correction where lineItem/isCorrection is true
- ChargePeriodStart/End <- lineItem/intervalUsageStart / intervalUsageEnd
- PricingQuantity, ConsumedQuantity <- usage/billedQuantity
- PricingUnit, ConsumedUnit <- cost/skuUnitDescription (cost/billingUnitReadable before)
- SkuId <- cost/productSku; ChargeDescription <- product/Description
- Tags <- the tags/* columns, "tags/" dropped from each key
- BillingCurrency <- cost/currencyCode
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from costscan.providers.exports._common import (
    NO_CURRENCY_NOTE,
    Mapped,
    RawSchema,
    currency,
    lookup,
    number,
    tags_from_columns,
    text,
    timestamp,
)

NAME = "oci"

COST = "cost/myCost"
START = "lineItem/intervalUsageStart"
END = "lineItem/intervalUsageEnd"
SERVICE = "product/service"
REQUIRED = (COST, START, SERVICE)
# Columns only OCI's reports have (CUR has lineItem/UsageStartDate, never these).
SIGNATURE_ANY = frozenset({COST, START, "lineItem/tenantId", "product/compartmentId"})

SERVICE_CATEGORY = {
    "COMPUTE": "Compute",
    "CONTAINER_ENGINE": "Compute",
    "FUNCTIONS": "Compute",
    "BLOCK_STORAGE": "Storage",
    "OBJECTSTORE": "Storage",
    "OBJECT_STORAGE": "Storage",
    "FILE_STORAGE": "Storage",
    "DATABASE": "Databases",
    "AUTONOMOUS_DATABASE": "Databases",
    "MYSQL": "Databases",
    "NETWORK": "Networking",
    "NETWORKING": "Networking",
    "LOAD_BALANCER": "Networking",
    "DNS": "Networking",
    "FASTCONNECT": "Networking",
    "TELEMETRY": "Management and Governance",
    "MONITORING": "Management and Governance",
    "LOGGING": "Management and Governance",
}


def refused(columns: RawSchema) -> str | None:
    names = set(columns)
    if START in names and COST not in names:
        return (
            "an OCI usage report (quantities, no costs): give the cost report "
            "(reports/cost-csv) instead"
        )
    return None


def missing(columns: RawSchema) -> list[str]:
    return [c for c in REQUIRED if c not in columns]


def to_focus(
    columns: RawSchema, textual: bool, layouts: Mapping[str, Sequence[str]] | None = None
) -> Mapped:
    def col(name: str) -> pl.Expr:
        if name not in columns:
            return pl.lit(None, dtype=pl.String)
        return text(pl.col(name)) if textual else pl.col(name).cast(pl.String)

    def ts(name: str) -> pl.Expr:
        if name not in columns:
            return pl.lit(None, dtype=pl.Datetime("us", "UTC"))
        return timestamp(pl.col(name), columns[name], (layouts or {}).get(name))

    cost = number(pl.col(COST), columns[COST])
    quantity = (
        number(pl.col("usage/billedQuantity"), columns["usage/billedQuantity"])
        if "usage/billedQuantity" in columns
        else pl.lit(None, dtype=pl.Float64)
    )
    unit = pl.coalesce(col("cost/skuUnitDescription"), col("cost/billingUnitReadable"))
    correction = col("lineItem/isCorrection").str.to_lowercase() == "true"
    tags = {c.removeprefix("tags/"): c for c in columns if c.startswith("tags/")}
    exprs: dict[str, pl.Expr] = {
        "BilledCost": cost,
        "EffectiveCost": cost,
        "ListCost": cost,
        "ContractedCost": cost,
        "BillingAccountId": col("lineItem/tenantId"),
        "SubAccountId": col("product/compartmentId"),
        "ProviderName": pl.lit("Oracle"),
        "ServiceName": col(SERVICE),
        "ServiceCategory": lookup(SERVICE_CATEGORY, col(SERVICE), default="Other"),
        "ResourceId": col("product/resourceId"),
        "RegionId": col("product/region"),
        "ChargeCategory": pl.lit("Usage"),
        "ChargeClass": pl.when(correction).then(pl.lit("Correction")),
        "ChargePeriodStart": ts(START),
        "ChargePeriodEnd": ts(END),
        "PricingCategory": pl.lit("Standard"),
        "PricingQuantity": quantity,
        "PricingUnit": unit,
        "ConsumedQuantity": quantity,
        "ConsumedUnit": unit,
        "SkuId": col("cost/productSku"),
        "ChargeDescription": col("product/Description"),
        "Tags": tags_from_columns(tags),
        "BillingCurrency": currency(pl.col("cost/currencyCode"), textual)
        if "cost/currencyCode" in columns
        else pl.lit("USD"),
    }
    numeric = tuple(
        c for c in (COST, "usage/billedQuantity") if c in columns and not columns[c].is_numeric()
    )
    stamps = (START,) if columns[START] == pl.String() else ()
    notes = [] if "cost/currencyCode" in columns else [NO_CURRENCY_NOTE]
    return Mapped(exprs, numeric, stamps, version=NAME, notes=notes)
