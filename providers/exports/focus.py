"""FOCUS exports (1.0, 1.1, 1.2), read as they are.

The FinOps Open Cost and Usage Specification (https://focus.finops.org/focus-specification/,
CHANGELOG at github.com/FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec) names the columns the
``billing`` frame keeps, so the mapping is the identity with a cast to the frame's types.

What changed between the versions we read, and what it means here:

- 1.0: every column ``scanner.schema.BILLING`` holds (ContractedCost, ChargeClass, RegionId
  and RegionName were new in 1.0 against 1.0-preview).
- 1.1 added CapacityReservationId, CapacityReservationStatus, CommitmentDiscountQuantity,
  CommitmentDiscountUnit, ServiceSubcategory, SkuMeter and SkuPriceDetails. None is in
  BILLING, so 1.1 files map exactly like 1.0; their presence tells the version.
- 1.2 added BillingAccountType, SubAccountType, InvoiceId, PricingCurrency and the three
  PricingCurrency* price columns; again outside BILLING, again a version marker.
- 1.3 (draft) splits ProviderName into ServiceProviderName and HostProviderName; when a file
  has no ProviderName we take ServiceProviderName so newer files still load.

The mandatory columns we insist on are the 1.0 Mandatory columns that BILLING carries:
a file without them is not a FOCUS export, and the error names what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from costscan.providers.exports._common import (
    Mapped,
    RawSchema,
    currency,
    number,
    tags_json,
    text,
    timestamp,
)
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.export_vocab import FOCUS_MANDATORY

NAME = "focus"

# FOCUS 1.0 "Mandatory" feature level, restricted to the columns BILLING keeps.
MANDATORY = FOCUS_MANDATORY

ADDED_IN_1_1: frozenset[str] = frozenset(
    {
        "CapacityReservationId",
        "CapacityReservationStatus",
        "CommitmentDiscountQuantity",
        "CommitmentDiscountUnit",
        "ServiceSubcategory",
        "SkuMeter",
        "SkuPriceDetails",
    }
)
ADDED_IN_1_2: frozenset[str] = frozenset(
    {
        "BillingAccountType",
        "SubAccountType",
        "InvoiceId",
        "PricingCurrency",
        "PricingCurrencyContractedUnitPrice",
        "PricingCurrencyEffectiveCost",
        "PricingCurrencyListUnitPrice",
    }
)

COST_COLUMNS: tuple[str, ...] = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")

# Columns whose presence says "this is FOCUS" (enough to name what else is missing).
SIGNATURE: frozenset[str] = frozenset({"BilledCost", "ChargePeriodStart", "EffectiveCost"})


def version(columns: RawSchema) -> str:
    """The FOCUS version a file's columns say it follows (the earliest that fits)."""
    names = set(columns)
    if names & ADDED_IN_1_2:
        return "1.2"
    if names & ADDED_IN_1_1:
        return "1.1"
    return "1.0"


def missing(columns: RawSchema) -> list[str]:
    names = set(columns)
    if "ProviderName" not in names and "ServiceProviderName" in names:
        names.add("ProviderName")
    return [c for c in MANDATORY if c not in names]


def to_focus(
    columns: RawSchema, textual: bool, layouts: Mapping[str, Sequence[str]] | None = None
) -> Mapped:
    exprs: dict[str, pl.Expr] = {}
    numeric: list[str] = []
    stamps: list[str] = []
    for col, dtype in schema.BILLING.items():
        source = col
        if col == "ProviderName" and col not in columns and "ServiceProviderName" in columns:
            source = "ServiceProviderName"
        if source not in columns:
            continue
        raw = columns[source]
        if dtype == pl.Float64():
            exprs[col] = number(pl.col(source), raw)
            if not raw.is_numeric():
                numeric.append(source)
        elif dtype == schema.UTC_TS:
            exprs[col] = timestamp(pl.col(source), raw, (layouts or {}).get(source))
            if raw == pl.String():
                stamps.append(source)
        elif col == "Tags" and raw == pl.String():
            # FOCUS requires Tags as JSON in KeyValueFormat (specification/columns/tags.md),
            # so text is kept as it is, empty as null; the brace repair of tags_json is for
            # Azure's native files and would cost a string copy per line item.
            exprs[col] = text(pl.col(source))
        elif col == "Tags":
            exprs[col] = tags_json(pl.col(source), raw)
        elif col == "BillingCurrency":
            exprs[col] = currency(pl.col(source), textual)
        else:
            # Typed files (parquet) hold real nulls; only text files spell them "".
            exprs[col] = text(pl.col(source)) if textual else pl.col(source)
    return Mapped(
        exprs=exprs,
        numeric_sources=tuple(numeric),
        timestamp_sources=tuple(stamps),
        version=f"focus-{version(columns)}",
    )
