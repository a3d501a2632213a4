"""The AWS CUR 2.0 data export as Athena (or DuckDB over its Parquet) sees it, as line items.

``SHAPE.line_items(columns)`` is one DuckDB-dialect SELECT over ``EXPORT_TABLE`` whose
columns carry ``schema.BILLING`` names and the values the local CUR 2.0 reader gives for
the same rows (providers/exports/cur.py, ``to_focus`` with flavour "cur2", over a typed
Parquet file). The derivations are that reader's, column for column; its module docstring
cites AWS's data dictionary and the amortization rules they follow:

- BilledCost: line_item_unblended_cost, 0 for SavingsPlanCoveredUsage and
  SavingsPlanNegation (they cancel: the plan's fee is what is billed);
- EffectiveCost: by line_item_line_item_type: SavingsPlanCoveredUsage -> the plan's
  effective cost; SavingsPlanRecurringFee -> total commitment to date - used commitment
  (the unused part); SavingsPlanNegation, SavingsPlanUpfrontFee and an RI's upfront Fee ->
  0; DiscountedUsage -> reservation_effective_cost; RIFee -> the unused amortized upfront
  fee + the unused recurring fee; anything else -> the unblended cost;
- ListCost: pricing_public_on_demand_cost, else the unblended cost; ContractedCost: the
  unblended cost;
- ServiceName: product_product_name, else the ``product`` map's product_name, else
  line_item_product_code; ServiceCategory: "Networking" for product family "Data
  Transfer", else the product code's category (``cur_vocab.SERVICE_CATEGORY``, "Other");
- ChargeCategory from the line item type (``cur_vocab.CHARGE_CATEGORY``, "Adjustment"
  when unknown), ChargeClass "Correction" for a Refund; PricingCategory (usage rows
  only): Committed for covered or discounted usage, Dynamic for Spot, Standard for
  OnDemand, Other for the rest;
- the commitment columns from the Savings Plan ARN, else the reservation ARN;
- Tags: the ``resource_tags`` map as JSON object text in the map's order, "user_" dropped
  from user tag keys (CUR 2.0 writes tag "team" as "user_team"), null for no tags.

Where the local reader reads typed Parquet cells as they are (an empty string stays an
empty string), so does this SQL: the two paths must agree on the same file.

Maps. Athena types ``resource_tags`` and ``product`` as ``map<string,string>``; a Parquet
file written as a list of key/value structs (polars writes maps so) is read through
``map_from_entries``. A key is looked up only after ``map_keys`` shows it is there:
Trino's ``map[key]`` fails on a missing key where DuckDB's gives null. Tags held as JSON
text (a CSV-backed table) are passed through as the text is: the "user_" prefix stays,
because DuckDB's and Trino's regular-expression replacements do not spell back references
alike, and sqlglot does not translate them.

Timestamps come out as TIMESTAMP, in UTC: a ``timestamp with time zone`` column is moved
to UTC first; a plain ``timestamp`` (what CUR 2.0's Parquet holds) is UTC already.

``period_filter`` keeps the line items of the billing periods that start in [start, end)
(``bill_billing_period_start_date``, as the FOCUS shape keeps BillingPeriodStart's) and,
when the table is partitioned on ``billing_period`` (CUR 2.0 data exports deliver
``BILLING_PERIOD=YYYY-MM`` folders, which Glue names ``billing_period``), names those
months so the engine reads only their partitions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from costscan.scanner.contracts import cur_vocab, schema
from costscan.scanner.contracts.billing_query import EXPORT_TABLE, ExportShape
from costscan.scanner.pipeline.billing_shapes.focus import months

# Logical field -> CUR 2.0 column name (the reader's own table).
COLUMN: dict[str, str] = {field: names[1] for field, names in cur_vocab.FIELDS.items()}
PERIOD_PARTITION = "billing_period"
# user tag "team" is written as key "user_team" in CUR 2.0.
USER_TAG_PREFIX = "user_"

_TEXT_TYPES = ("varchar", "string", "char", "text")
_NULL_TEXT = "CAST(NULL AS VARCHAR)"
_NULL_NUMBER = "CAST(NULL AS DOUBLE)"
_NULL_TIME = "CAST(NULL AS TIMESTAMP)"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in(expr: str, values: tuple[str, ...] | list[str]) -> str:
    return f"{expr} IN ({', '.join(_lit(v) for v in values)})"


def _lookup(table: Mapping[str, str], expr: str, default: str) -> str:
    """``_common.lookup``: case-insensitive keys, ``default`` for anything else (and null)."""
    arms = " ".join(f"WHEN {_lit(k.lower())} THEN {_lit(v)}" for k, v in table.items())
    return f"CASE lower({expr}) {arms} ELSE {_lit(default)} END"


def _is_text(kind: str) -> bool:
    return kind.startswith(_TEXT_TYPES)


def _is_map(kind: str) -> bool:
    return kind.startswith("map")


def _is_key_value_list(kind: str) -> bool:
    """A list of key/value structs: DuckDB's ``struct(key varchar, value varchar)[]``, or
    Glue's ``array<struct<key:string,value:string>>``."""
    compact = kind.replace(" ", "")
    return ("key" in compact and "value" in compact) and (
        compact.endswith("[]") or compact.startswith("array<")
    )


class _Columns:
    """The table's columns (name -> type, lower case) and the SQL of each field, typed as
    the local reader types it."""

    def __init__(self, columns: Mapping[str, str]) -> None:
        self.types = {name.lower(): kind.lower().strip() for name, kind in columns.items()}

    def has(self, field: str) -> bool:
        return COLUMN[field] in self.types

    def text(self, field: str) -> str:
        if not self.has(field):
            return _NULL_TEXT
        name = COLUMN[field]
        column = _quote(name)
        # Empty text is null, as the local reader reads it (CUR writes "" for no value).
        text = column if _is_text(self.types[name]) else f"CAST({column} AS VARCHAR)"
        return f"NULLIF({text}, '')"

    def number(self, field: str) -> str:
        if not self.has(field):
            return _NULL_NUMBER
        name = COLUMN[field]
        column = _quote(name)
        if _is_text(self.types[name]):
            # ``_common.number``: text is trimmed, and what does not parse is null.
            return f"TRY_CAST(trim({column}) AS DOUBLE)"
        return f"CAST({column} AS DOUBLE)"

    def timestamp(self, field: str) -> str:
        if not self.has(field):
            return _NULL_TIME
        name = COLUMN[field]
        return _utc(_quote(name), self.types[name])

    def map_of(self, name: str) -> str | None:
        """The column as a map, or None when it is not one (JSON text)."""
        kind = self.types.get(name)
        if kind is None:
            return None
        if _is_map(kind):
            return _quote(name)
        if _is_key_value_list(kind):
            return f"map_from_entries({_quote(name)})"
        return None


def _utc(column: str, kind: str) -> str:
    if "with time zone" in kind or kind.startswith("timestamptz"):
        return f"CAST({column} AT TIME ZONE 'UTC' AS TIMESTAMP)"
    if kind.startswith("timestamp"):
        return column
    if kind == "date":
        return f"CAST({column} AS TIMESTAMP)"
    # Text: ISO 8601 as the export writes it; what does not parse is null.
    return f"TRY_CAST({column} AS TIMESTAMP)"


def _value_of(map_sql: str, key: str) -> str:
    # Trino's map[key] fails on a missing key; DuckDB's is null. Asking first suits both.
    return (
        f"CASE WHEN list_contains(map_keys({map_sql}), {_lit(key)}) THEN {map_sql}[{_lit(key)}] END"
    )


def _json_text(expr: str) -> str:
    """``expr`` as a JSON string literal. AWS tag keys and values hold only letters, digits,
    spaces and _ . : / = + - @ (https://docs.aws.amazon.com/tag-editor/latest/userguide/
    best-practices-and-strats.html), so escaping the backslash and the quote is all a
    tag needs; both are escaped for any other text."""
    return f"""'"' || replace(replace({expr}, '\\', '\\\\'), '"', '\\"') || '"'"""


def _tags(columns: _Columns) -> str:
    name = "resource_tags"
    if name not in columns.types:
        return _NULL_TEXT
    tags = columns.map_of(name)
    if tags is None:
        if not _is_text(columns.types[name]):
            return _NULL_TEXT
        # ``_common.tags_json`` on text: an object as it is, braces added when missing.
        text = f"NULLIF({_quote(name)}, '')"
        return (
            f"CASE WHEN starts_with({text}, '{{') OR starts_with({text}, '[') THEN {text} "
            f"ELSE '{{' || {text} || '}}' END"
        )
    size = len(USER_TAG_PREFIX)
    key = f"CASE WHEN starts_with(k, {_lit(USER_TAG_PREFIX)}) THEN substr(k, {size + 1}) ELSE k END"
    value = f"CASE WHEN {tags}[k] IS NULL THEN 'null' ELSE {_json_text(f'{tags}[k]')} END"
    pair = f"""{_json_text(key)} || ':' || {value}"""
    body = f"array_to_string(list_transform(map_keys({tags}), lambda k: {pair}), ',')"
    return f"CASE WHEN cardinality({tags}) > 0 THEN '{{' || {body} || '}}' END"


def _service_name(columns: _Columns) -> str:
    if columns.has("product_name"):
        name = columns.text("product_name")
    elif "product" in columns.types:
        product = columns.map_of("product")
        if product is not None:
            name = _value_of(product, "product_name")
        elif _is_text(columns.types["product"]):
            name = f"json_extract_string(NULLIF({_quote('product')}, ''), '$.product_name')"
        else:
            name = _NULL_TEXT
    else:
        name = _NULL_TEXT
    return f"COALESCE({name}, {columns.text('product_code')})"


def _currency(columns: _Columns) -> str:
    """``_common.currency`` for a typed file: the code as written, USD when empty (null)."""
    if not columns.has("currency"):
        return "'USD'"
    return f"COALESCE({columns.text('currency')}, 'USD')"


def line_items(columns: Mapping[str, str]) -> str:
    """The SELECT over ``EXPORT_TABLE`` giving one ``schema.BILLING`` row per line item."""
    c = _Columns(columns)
    kind = c.text("line_item_type")
    unblended = c.number("unblended_cost")
    ri_arn, sp_arn = c.text("ri_arn"), c.text("sp_arn")
    covered = _in(kind, ["SavingsPlanCoveredUsage", "DiscountedUsage"])
    is_usage = _in(kind, list(cur_vocab.USAGE_TYPES))
    term = f"lower({c.text('term')})"
    usage_amount = c.number("usage_amount")
    billed = (
        f"CASE WHEN {_in(kind, ['SavingsPlanCoveredUsage', 'SavingsPlanNegation'])} "
        f"THEN 0.0 ELSE {unblended} END"
    )
    effective = (
        "CASE"
        f" WHEN {kind} = 'SavingsPlanCoveredUsage' THEN {c.number('sp_effective')}"
        f" WHEN {kind} = 'SavingsPlanRecurringFee' THEN"
        f" COALESCE({c.number('sp_total_commitment')}, 0.0)"
        f" - COALESCE({c.number('sp_used_commitment')}, 0.0)"
        f" WHEN {_in(kind, ['SavingsPlanNegation', 'SavingsPlanUpfrontFee'])} THEN 0.0"
        f" WHEN {kind} = 'Fee' AND {ri_arn} IS NOT NULL THEN 0.0"
        f" WHEN {kind} = 'DiscountedUsage' THEN {c.number('ri_effective')}"
        f" WHEN {kind} = 'RIFee' THEN COALESCE({c.number('ri_unused_upfront')}, 0.0)"
        f" + COALESCE({c.number('ri_unused_recurring')}, 0.0)"
        f" ELSE {unblended} END"
    )
    category = (
        f"CASE WHEN {c.text('product_family')} = 'Data Transfer' THEN 'Networking' "
        f"ELSE {_lookup(cur_vocab.SERVICE_CATEGORY, c.text('product_code'), 'Other')} END"
    )
    pricing_category = (
        f"CASE WHEN NOT ({is_usage}) THEN {_NULL_TEXT}"
        f" WHEN {covered} THEN 'Committed'"
        f" WHEN {term} = 'spot' THEN 'Dynamic'"
        f" WHEN {term} = 'ondemand' THEN 'Standard'"
        " ELSE 'Other' END"
    )
    exprs: dict[str, str] = {
        "BilledCost": billed,
        "EffectiveCost": effective,
        "ListCost": f"COALESCE({c.number('public_cost')}, {unblended})"
        if c.has("public_cost")
        else unblended,
        "ContractedCost": unblended,
        "BillingAccountId": c.text("payer"),
        "SubAccountId": c.text("usage_account"),
        "ProviderName": "'AWS'",
        "ServiceName": _service_name(c),
        "ServiceCategory": category,
        "ResourceId": c.text("resource_id"),
        "RegionId": f"COALESCE({c.text('region_code')}, {c.text('region')})",
        "ChargeCategory": _lookup(cur_vocab.CHARGE_CATEGORY, kind, "Adjustment"),
        "ChargeClass": f"CASE WHEN {kind} = 'Refund' THEN 'Correction' END",
        "ChargePeriodStart": c.timestamp("usage_start"),
        "ChargePeriodEnd": c.timestamp("usage_end"),
        "BillingPeriodStart": c.timestamp("period_start"),
        "BillingPeriodEnd": c.timestamp("period_end"),
        "PricingCategory": pricing_category,
        "PricingQuantity": usage_amount,
        "PricingUnit": c.text("unit"),
        "ConsumedQuantity": f"CASE WHEN {is_usage} THEN {usage_amount} END",
        "ConsumedUnit": f"CASE WHEN {is_usage} THEN {c.text('unit')} END",
        "CommitmentDiscountId": f"COALESCE({sp_arn}, {ri_arn})",
        "CommitmentDiscountType": f"CASE WHEN {sp_arn} IS NOT NULL THEN 'Savings Plan' "
        f"WHEN {ri_arn} IS NOT NULL THEN 'Reserved Instance' END",
        "CommitmentDiscountCategory": f"CASE WHEN {sp_arn} IS NOT NULL THEN 'Spend' "
        f"WHEN {ri_arn} IS NOT NULL THEN 'Usage' END",
        "CommitmentDiscountStatus": f"CASE WHEN {covered} THEN 'Used' "
        f"WHEN {_in(kind, ['RIFee', 'SavingsPlanRecurringFee'])} THEN 'Unused' END",
        "SkuId": c.text("sku"),
        "Tags": _tags(c),
        "BillingCurrency": _currency(c),
    }
    selected = []
    for name, dtype in schema.BILLING.items():
        expr = exprs.get(name)
        if expr is None:  # ResourceName, ResourceType, ChargeDescription: CUR has none
            expr = _NULL_TIME if dtype == schema.UTC_TS else _NULL_TEXT
        selected.append(f"{expr} AS {_quote(name)}")
    return "SELECT\n  " + ",\n  ".join(selected) + f"\nFROM {EXPORT_TABLE}"


def period_filter(start: date, end: date, partition_columns: tuple[str, ...]) -> str:
    """The line items of the billing periods that start in [start, end) (as the FOCUS
    shape keeps them); the ``billing_period`` partitions named first, so Athena reads
    those partitions only. The bounds are UTC: a plain TIMESTAMP, as CUR 2.0 holds it (the
    DuckDB engine's session is in UTC, as Athena's is)."""
    period = _quote(COLUMN["period_start"])
    clauses = [
        f"{period} >= TIMESTAMP '{start.isoformat()} 00:00:00'",
        f"{period} < TIMESTAMP '{end.isoformat()} 00:00:00'",
    ]
    if PERIOD_PARTITION in {c.lower() for c in partition_columns}:
        wanted = months(start, end) or [f"{start.year:04d}-{start.month:02d}"]
        clauses.insert(0, _in(_quote(PERIOD_PARTITION), wanted))
    return " AND ".join(clauses)


def matches(columns: Mapping[str, str]) -> bool:
    """A CUR 2.0 table: it has the columns the local reader requires of one."""
    names = {name.lower() for name in columns}
    return all(COLUMN[field] in names for field in cur_vocab.REQUIRED_FIELDS)


SHAPE = ExportShape(
    name="cur2",
    description="AWS CUR 2.0 data export (Athena over its Parquet, or the Parquet itself)",
    matches=matches,
    line_items=line_items,
    period_filter=period_filter,
    required=tuple(COLUMN[field] for field in cur_vocab.REQUIRED_FIELDS),
)
