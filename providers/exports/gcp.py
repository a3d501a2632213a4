"""Google Cloud billing export, in the BigQuery export's shape (CSV, Parquet or JSONL).

Fields follow "Structure of Standard/Detailed data export"
(https://cloud.google.com/billing/docs/how-to/export-data-bigquery-tables/standard-usage and
.../detailed-usage). A BigQuery extract to CSV flattens records into dotted names
(``service.description``) and writes repeated records (``labels``, ``credits``) as JSON
text; Parquet and JSONL keep them nested. Both shapes are read. The FOCUS derivation follows
Google's FOCUS BigQuery view (https://cloud.google.com/billing/docs/how-to/focus).

- BilledCost, EffectiveCost <- cost + sum(credits.amount) (credits are negative), the invoiced
  amount
- ListCost <- cost_at_list when present, else cost
- ContractedCost <- cost
- BillingAccountId <- billing_account_id
- SubAccountId <- project.id
- ProviderName <- "Google Cloud"
- ServiceName <- service.description
- ServiceCategory <- a table of common service names, else "Other"
- ResourceId / ResourceName <- resource.global_name (else resource.name) / resource.name
- RegionId <- location.region (else location.location)
- ChargeCategory <- cost_type: regular -> Usage, tax -> Tax, adjustment and rounding_error ->
  Adjustment; a row whose credits cancel its cost entirely stays Usage
- ChargePeriodStart/End <- usage_start_time / usage_end_time
- BillingPeriodStart/End <- invoice.month (YYYYMM) -> first day of that month / of the next
- PricingCategory <- Committed when a credit of type COMMITTED_USAGE_DISCOUNT(_DOLLAR_BASE)
  applies, Dynamic for SKUs named Spot or Preemptible, else Standard (usage rows)
- PricingQuantity / PricingUnit <- usage.amount_in_pricing_units / usage.pricing_unit
- ConsumedQuantity / ConsumedUnit <- usage.amount / usage.unit
- CommitmentDiscountId <- the committed-use credit's id (else its name)
- CommitmentDiscountType / Category / Status <- "Committed Use Discount" / Usage (or Spend for
  the dollar-based kind) / Used
- SkuId <- sku.id
- Tags <- labels (key/value list) as a JSON object
- BillingCurrency <- currency

Credits in a CSV are a list of records as text: JSON as BigQuery writes it
(``[{"name": "x", "amount": -0.1}]``), or Python's own spelling when the rows went
through pandas (``[{'name': 'x', 'amount': -0.1, 'id': None}]``). Both are read field by
field; a cell that is neither is that row's problem (rejected with the reason), never
the file's. JSON lines whose every row holds an empty list (``"labels": []``) carry no
element type, so the export's record types are given to the reader (``json_overrides``).
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
    tags_json,
    text,
    timestamp,
)
from costscan.scanner.contracts.export_vocab import GCP_COMMITTED_CREDITS, GCP_SERVICE_CATEGORY

NAME = "gcp"

REQUIRED = ("cost", "usage_start_time", "service.description")
SIGNATURE = frozenset({"cost", "usage_start_time"})

CREDIT = pl.Struct(
    {
        "name": pl.String(),
        "amount": pl.Float64(),
        "full_name": pl.String(),
        "id": pl.String(),
        "type": pl.String(),
    }
)
COMMITTED_CREDITS = GCP_COMMITTED_CREDITS
SERVICE_CATEGORY = GCP_SERVICE_CATEGORY
LABELS = pl.List(pl.Struct({"key": pl.String(), "value": pl.String()}))


# The export's record lists, typed as the BigQuery schema defines them.
JSON_RECORDS: dict[str, pl.DataType] = {
    "labels": LABELS,
    "system_labels": LABELS,
    "credits": pl.List(CREDIT),
}


def json_overrides(columns: RawSchema) -> dict[str, pl.DataType]:
    """Types for the record lists a JSON lines file holds (see the module docstring)."""
    return {name: dtype for name, dtype in JSON_RECORDS.items() if name in columns}


def field_names(columns: RawSchema) -> set[str]:
    """Every dotted field the file has, whether flattened (CSV) or nested (Parquet, JSONL)."""
    names = set(columns)
    for name, dtype in columns.items():
        if isinstance(dtype, pl.Struct):
            names.update(f"{name}.{f.name}" for f in dtype.fields)
    return names


def missing(columns: RawSchema) -> list[str]:
    names = field_names(columns)
    return [c for c in REQUIRED if c not in names]


def _field(columns: RawSchema, dotted: str) -> tuple[pl.Expr, pl.DataType | None]:
    if dotted in columns:
        return pl.col(dotted), columns[dotted]
    parent, _, child = dotted.partition(".")
    dtype = columns.get(parent)
    if child and isinstance(dtype, pl.Struct):
        for f in dtype.fields:
            if f.name == child:
                child_type = f.dtype if isinstance(f.dtype, pl.DataType) else f.dtype()
                return pl.col(parent).struct.field(child), child_type
    return pl.lit(None, dtype=pl.String), None


def to_focus(
    columns: RawSchema, textual: bool, layouts: Mapping[str, Sequence[str]] | None = None
) -> Mapped:
    def col(dotted: str) -> pl.Expr:
        expr, dtype = _field(columns, dotted)
        if dtype is None:
            return expr
        return text(expr) if textual or dtype == pl.String() else expr.cast(pl.String)

    def num(dotted: str) -> pl.Expr:
        expr, dtype = _field(columns, dotted)
        return number(expr, dtype) if dtype is not None else pl.lit(None, dtype=pl.Float64)

    def ts(dotted: str) -> pl.Expr:
        expr, dtype = _field(columns, dotted)
        if dtype is None:
            return pl.lit(None, dtype=pl.Datetime("us", "UTC"))
        return timestamp(expr, dtype, (layouts or {}).get(dotted))

    credits = _credits(columns)
    credit_total = credits.list.eval(pl.element().struct.field("amount")).list.sum()
    committed = credits.list.eval(
        pl.element().filter(pl.element().struct.field("type").is_in(list(COMMITTED_CREDITS)))
    ).list.first()
    cost = num("cost")
    net = cost + credit_total.fill_null(0.0)
    cost_type = col("cost_type").str.to_lowercase()
    charge_category = (
        pl.when(cost_type == "tax")
        .then(pl.lit("Tax"))
        .when(cost_type.is_in(["adjustment", "rounding_error"]))
        .then(pl.lit("Adjustment"))
        .otherwise(pl.lit("Usage"))
    )
    is_usage = charge_category == "Usage"
    sku_text = col("sku.description").str.to_lowercase()
    pricing_category = (
        pl.when(~is_usage)
        .then(pl.lit(None, dtype=pl.String))
        .when(committed.is_not_null())
        .then(pl.lit("Committed"))
        .when(sku_text.str.contains("spot|preemptible"))
        .then(pl.lit("Dynamic"))
        .otherwise(pl.lit("Standard"))
    )
    month = col("invoice.month")
    period_start = month.str.to_date("%Y%m", strict=False).cast(pl.Datetime("us"))
    period_start = period_start.dt.replace_time_zone("UTC")
    committed_type = committed.struct.field("type")
    names = field_names(columns)
    exprs: dict[str, pl.Expr] = {
        "BilledCost": net,
        "EffectiveCost": net,
        "ListCost": pl.coalesce(num("cost_at_list"), cost) if "cost_at_list" in names else cost,
        "ContractedCost": cost,
        "BillingAccountId": col("billing_account_id"),
        "SubAccountId": col("project.id"),
        "ProviderName": pl.lit("Google Cloud"),
        "ServiceName": col("service.description"),
        "ServiceCategory": lookup(SERVICE_CATEGORY, col("service.description"), default="Other"),
        "ResourceId": pl.coalesce(col("resource.global_name"), col("resource.name")),
        "ResourceName": col("resource.name"),
        "RegionId": pl.coalesce(col("location.region"), col("location.location")),
        "ChargeCategory": charge_category,
        "ChargePeriodStart": ts("usage_start_time"),
        "ChargePeriodEnd": ts("usage_end_time"),
        "BillingPeriodStart": period_start,
        "BillingPeriodEnd": period_start.dt.offset_by("1mo"),
        "PricingCategory": pricing_category,
        "PricingQuantity": num("usage.amount_in_pricing_units"),
        "PricingUnit": col("usage.pricing_unit"),
        "ConsumedQuantity": pl.when(is_usage).then(num("usage.amount")),
        "ConsumedUnit": pl.when(is_usage).then(col("usage.unit")),
        "CommitmentDiscountId": pl.coalesce(
            committed.struct.field("id"), committed.struct.field("name")
        ),
        "CommitmentDiscountType": pl.when(committed.is_not_null()).then(
            pl.lit("Committed Use Discount")
        ),
        "CommitmentDiscountCategory": pl.when(committed_type == COMMITTED_CREDITS[1])
        .then(pl.lit("Spend"))
        .when(committed.is_not_null())
        .then(pl.lit("Usage")),
        "CommitmentDiscountStatus": pl.when(committed.is_not_null()).then(pl.lit("Used")),
        "SkuId": col("sku.id"),
        "Tags": _labels(columns),
        "BillingCurrency": currency(pl.col("currency"), textual)
        if "currency" in columns
        else pl.lit("USD"),
    }
    numeric = tuple(
        c for c in ("cost", "cost_at_list") if c in columns and not columns[c].is_numeric()
    )
    stamps = ("usage_start_time",) if columns.get("usage_start_time") == pl.String() else ()
    checks: dict[str, tuple[pl.Expr, str]] = {}
    if columns.get("credits") == pl.String():
        checks["credits"] = (_unreadable_credits(pl.col("credits")), "a list of credits")
    notes = [] if "currency" in columns else [NO_CURRENCY_NOTE]
    return Mapped(exprs, numeric, stamps, version=NAME, notes=notes, cell_checks=checks)


def _credits(columns: RawSchema) -> pl.Expr:
    """``credits`` as a list of structs: nested already, or decoded from CSV's JSON text."""
    dtype = columns.get("credits")
    if dtype is None:
        return pl.lit(None, dtype=pl.List(CREDIT))
    if isinstance(dtype, pl.List):
        wanted = {"name", "amount", "full_name", "id", "type"}
        inner = dtype.inner
        have = {f.name for f in inner.fields} if isinstance(inner, pl.Struct) else set()
        element = pl.element()
        return pl.col("credits").list.eval(
            pl.struct(
                [
                    (
                        element.struct.field(n).cast(CREDIT.to_schema()[n])
                        if n in have
                        else pl.lit(None, dtype=CREDIT.to_schema()[n])
                    ).alias(n)
                    for n in sorted(wanted)
                ]
            )
        )
    return _credits_from_text(pl.col("credits"))


# One credit record in a list as text: the braces of a record with no nested braces.
_RECORD = r"\{[^{}]*\}"
_QUOTE = "[\"']"
_NUMBER = r"(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"


def _credit_field(record: pl.Expr, name: str) -> pl.Expr:
    """Field ``name`` of one record's text (a credit, a label), in JSON or Python spelling."""
    key = f"{_QUOTE}{name}{_QUOTE}\\s*:\\s*"
    if name == "amount":
        return record.str.extract(key + _NUMBER, 1).cast(pl.Float64, strict=False)
    return record.str.extract(key + f"{_QUOTE}([^\"']*){_QUOTE}", 1)


def _credits_from_text(expr: pl.Expr) -> pl.Expr:
    """Credits as a list of CREDIT structs, from JSON or Python-style list text."""
    records = text(expr).str.extract_all(_RECORD)
    element = pl.element()
    return records.list.eval(
        pl.struct([_credit_field(element, f).alias(f) for f in CREDIT.to_schema()])
    )


def _unreadable_credits(expr: pl.Expr) -> pl.Expr:
    """True where a credits cell holds something other than a list of credit records
    that each have a numeric amount (an empty cell or "[]" is no credit, and fine)."""
    raw = text(expr).str.strip_chars()
    records = raw.str.extract_all(_RECORD)
    amounts = records.list.eval(_credit_field(pl.element(), "amount").is_null().any())
    not_a_list = ~raw.str.contains(r"^\[.*\]$")
    braces = raw.str.count_matches(r"\{")
    return raw.is_not_null() & (
        not_a_list | (braces != records.list.len()) | amounts.list.first().fill_null(False)
    )


def _labels(columns: RawSchema) -> pl.Expr:
    dtype = columns.get("labels")
    if dtype is None:
        return pl.lit(None, dtype=pl.String)
    if dtype == pl.String():
        # JSON or Python-style list text, like credits; a cell that is neither has no
        # labels (tags do not change what was spent, so the row stays).
        element = pl.element()
        decoded = (
            text(pl.col("labels"))
            .str.extract_all(_RECORD)
            .list.eval(
                pl.struct(
                    _credit_field(element, "key").alias("key"),
                    _credit_field(element, "value").alias("value"),
                )
            )
        )
        return tags_json(decoded, LABELS)
    return tags_json(pl.col("labels"), dtype)
