"""GCP's standard and detailed usage cost export, as BigQuery holds it (``ExportShape``).

The tables are ``gcp_billing_export_v1_<ACCOUNT>`` (standard) and
``gcp_billing_export_resource_v1_<ACCOUNT>`` (detailed: the standard columns and
``resource``, ``price``), with the fields of "Structure of Standard data export" and
"Structure of Detailed data export"
(https://cloud.google.com/billing/docs/how-to/export-data-bigquery-tables/standard-usage
and .../detailed-usage): ``billing_account_id``, ``invoice{month}``, ``cost_type``,
``service{id,description}``, ``sku{id,description}``, ``usage_start_time``,
``usage_end_time``, ``project{id,number,name,labels,ancestry_numbers,ancestors}``,
``labels`` and ``system_labels`` (repeated ``{key,value}``), ``location{location,country,
region,zone}``, ``resource{name,global_name}`` (detailed only), ``export_time``, ``cost``,
``currency``, ``currency_conversion_rate``, ``usage{amount,unit,amount_in_pricing_units,
pricing_unit}``, ``credits`` (repeated ``{name,amount,full_name,id,type}``),
``adjustment_info``, ``tags``, ``cost_at_list``, ``transaction_type``, ``seller_name``.

The SELECT gives, column for column, what the local reader of the same export gives
(providers/exports/gcp.py, whose docstring has the mapping and its sources); this module
writes that mapping in SQL, once, in DuckDB's dialect, and sqlglot renders it for BigQuery
(tests/scanner/test_billing_shape_gcp_bigquery.py holds the two to the cent). Where the two
differ in kind, and why:

- text fields: an empty string is no value (NULLIF), as the reader's ``text`` makes it;
- the repeated records are read with ``(SELECT ... FROM UNNEST(credits) AS c)``: a form
  DuckDB runs and sqlglot turns into BigQuery's own, where DuckDB's list lambdas have no
  BigQuery rendering;
- Tags: the labels as a JSON object text, built by concatenation. GCP label keys and
  values hold only lowercase letters, digits, ``_`` and ``-`` (and international letters)
  (https://cloud.google.com/resource-manager/docs/labels-overview#requirements), so
  quoting ``"`` and ``\\`` is the whole of JSON's escaping they can need;
- the labels and the committed-use credit keep the record's order (``WITH ORDINALITY``,
  which sqlglot renders as BigQuery's ``WITH OFFSET``): the Tags text is the reader's,
  and the commitment is the first credit of a committed-use type, as the reader takes it;
- timestamps are built from text with an explicit ``+00`` offset, so neither DuckDB's
  session time zone nor BigQuery's month arithmetic (TIMESTAMP_ADD has no MONTH) enter.

``period_filter`` keeps the billing periods (invoice months, ``invoice.month``) of [start,
end), as the FOCUS shape keeps its ``BillingPeriodStart``s, and prunes the partitions:
Google's tables are partitioned by ingestion time (``_PARTITIONTIME``, the UTC day the rows
were loaded). A charge goes on the invoice of the month open when it is processed, and
invoice months run on Pacific time, so no row of an invoice month is loaded before that
month begins in UTC: ``_PARTITIONTIME >= start - 1 day`` (a day of slack) drops every older
partition and loses nothing. No upper bound is safe there: late usage and corrections
arrive days after the month.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.billing_query import EXPORT_TABLE, ExportShape
from costscan.scanner.contracts.export_vocab import GCP_COMMITTED_CREDITS, GCP_SERVICE_CATEGORY

# The columns every standard and detailed export table has, and a FOCUS or CUR table has
# none of (a table with these is this export).
REQUIRED: tuple[str, ...] = (
    "billing_account_id",
    "service",
    "sku",
    "usage_start_time",
    "cost",
    "credits",
    "invoice",
)
SIGNATURE = frozenset(REQUIRED)
# Slack below the period's start for the load-time partitions (see the module docstring).
PARTITION_SLACK = timedelta(days=1)

COMMITTED_CREDITS = GCP_COMMITTED_CREDITS

# One table with the local reader's (scanner/contracts/export_vocab.py).
SERVICE_CATEGORY = GCP_SERVICE_CATEGORY

# Partition columns that hold when a row was loaded (never before its charge starts).
LOAD_TIME_PARTITIONS = ("_partitiontime", "export_time")

_SQL_TYPES = {
    "Float64": "DOUBLE",
    "String": "VARCHAR",
    "Datetime": "TIMESTAMPTZ",
}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(_quote(v) for v in values) + ")"


def _text(expr: str) -> str:
    """A text field with an empty string as no value (the local reader's ``text``)."""
    return f"NULLIF(CAST({expr} AS VARCHAR), '')"


def _json_text(expr: str) -> str:
    r"""``expr`` as a JSON string literal: quoted, with ``\`` and ``"`` escaped."""
    return f"""'"' || REPLACE(REPLACE({expr}, '\\', '\\\\'), '"', '\\"') || '"'"""


def _utc(text_expr: str) -> str:
    """A UTC timestamp from 'YYYY-MM-DD' text (null when it is not a date)."""
    return f"TRY_CAST({text_expr} || ' 00:00:00+00' AS TIMESTAMPTZ)"


def matches(columns: Mapping[str, str]) -> bool:
    return set(columns) >= SIGNATURE


def line_items(columns: Mapping[str, str]) -> str:
    """The export's rows as ``schema.BILLING`` line items (see the module docstring)."""
    have = set(columns)

    def field(dotted: str) -> str | None:
        top = dotted.partition(".")[0]
        return dotted if top in have else None

    def text(dotted: str) -> str:
        found = field(dotted)
        return _text(found) if found else "CAST(NULL AS VARCHAR)"

    def number(dotted: str) -> str:
        found = field(dotted)
        return f"CAST({found} AS DOUBLE)" if found else "CAST(NULL AS DOUBLE)"

    committed = f"c.type IN {_in_list(COMMITTED_CREDITS)}"
    credit_total = "(SELECT SUM(c.amount) FROM UNNEST(credits) AS u(c))"
    has_committed = f"EXISTS (SELECT 1 FROM UNNEST(credits) AS u(c) WHERE {committed})"
    # The first committed-use credit, in the record's order (WITH ORDINALITY: BigQuery's
    # WITH OFFSET once rendered).
    first_committed = (
        f"FROM UNNEST(credits) WITH ORDINALITY AS u(c, n) WHERE {committed} ORDER BY n LIMIT 1)"
    )
    committed_id = (
        f"(SELECT COALESCE(CAST(c.id AS VARCHAR), CAST(c.name AS VARCHAR)) {first_committed}"
    )
    committed_type = f"(SELECT c.type {first_committed}"
    cost = number("cost")
    net = f"({cost} + COALESCE({credit_total}, 0))"
    cost_type = f"LOWER({text('cost_type')})"
    charge_category = (
        f"CASE WHEN {cost_type} = 'tax' THEN 'Tax' "
        f"WHEN {cost_type} IN ('adjustment', 'rounding_error') THEN 'Adjustment' "
        "ELSE 'Usage' END"
    )
    is_usage = f"({charge_category}) = 'Usage'"
    sku_text = f"LOWER({text('sku.description')})"
    pricing_category = (
        f"CASE WHEN NOT {is_usage} THEN CAST(NULL AS VARCHAR) "
        f"WHEN {has_committed} THEN 'Committed' "
        f"WHEN {sku_text} LIKE '%spot%' OR {sku_text} LIKE '%preemptible%' THEN 'Dynamic' "
        "ELSE 'Standard' END"
    )
    month = text("invoice.month")
    year = f"SUBSTRING({month}, 1, 4)"
    month_number = f"SUBSTRING({month}, 5, 2)"
    period_start = _utc(f"{year} || '-' || {month_number} || '-01'")
    next_month = (
        f"CASE WHEN {month_number} = '12' "
        f"THEN CAST(TRY_CAST({year} AS BIGINT) + 1 AS VARCHAR) || '-01-01' "
        f"ELSE {year} || '-' || LPAD(CAST(TRY_CAST({month_number} AS BIGINT) + 1 AS VARCHAR), "
        "2, '0') || '-01' END"
    )
    category_cases = " ".join(
        f"WHEN {_quote(name.lower())} THEN {_quote(category)}"
        for name, category in SERVICE_CATEGORY.items()
    )
    service = text("service.description")
    service_category = f"CASE LOWER({service}) {category_cases} ELSE 'Other' END"
    # The labels in their order. The ordinal is never null: NULLS FIRST only spares
    # sqlglot a warning (BigQuery's aggregate ORDER BY cannot say DuckDB's NULLS LAST).
    labels = (
        "(SELECT '{' || STRING_AGG("
        + _json_text("l.key")
        + " || ':' || COALESCE("
        + _json_text("l.value")
        + ", 'null'), ',' ORDER BY n NULLS FIRST) || '}' "
        "FROM UNNEST(labels) WITH ORDINALITY AS u(l, n) WHERE l.key IS NOT NULL)"
        if "labels" in have
        else "CAST(NULL AS VARCHAR)"
    )
    list_cost = f"COALESCE({number('cost_at_list')}, {cost})" if "cost_at_list" in have else cost
    resource_id = f"COALESCE({text('resource.global_name')}, {text('resource.name')})"
    exprs: dict[str, str | None] = {
        "BilledCost": net,
        "EffectiveCost": net,
        "ListCost": list_cost,
        "ContractedCost": cost,
        "BillingAccountId": text("billing_account_id"),
        "SubAccountId": text("project.id"),
        "ProviderName": "'Google Cloud'",
        "ServiceName": service,
        "ServiceCategory": service_category,
        "ResourceId": resource_id,
        "ResourceName": text("resource.name"),
        "RegionId": f"COALESCE({text('location.region')}, {text('location.location')})",
        "ChargeCategory": charge_category,
        "ChargePeriodStart": "usage_start_time",
        "ChargePeriodEnd": "usage_end_time" if "usage_end_time" in have else None,
        "BillingPeriodStart": period_start,
        "BillingPeriodEnd": _utc(next_month),
        "PricingCategory": pricing_category,
        "PricingQuantity": number("usage.amount_in_pricing_units"),
        "PricingUnit": text("usage.pricing_unit"),
        "ConsumedQuantity": f"CASE WHEN {is_usage} THEN {number('usage.amount')} END",
        "ConsumedUnit": f"CASE WHEN {is_usage} THEN {text('usage.unit')} END",
        "CommitmentDiscountId": committed_id,
        "CommitmentDiscountType": f"CASE WHEN {has_committed} THEN 'Committed Use Discount' END",
        "CommitmentDiscountCategory": (
            f"CASE WHEN {committed_type} = {_quote(COMMITTED_CREDITS[1])} THEN 'Spend' "
            f"WHEN {has_committed} THEN 'Usage' END"
        ),
        "CommitmentDiscountStatus": f"CASE WHEN {has_committed} THEN 'Used' END",
        "SkuId": text("sku.id"),
        "Tags": labels,
        # The reader keeps a typed file's currency as written; only a missing one is USD.
        "BillingCurrency": "COALESCE(CAST(currency AS VARCHAR), 'USD')"
        if "currency" in have
        else "'USD'",
    }
    selected = []
    for name, dtype in schema.BILLING.items():
        expr = exprs.get(name)
        if expr is None:
            sql_type = _SQL_TYPES[type(dtype).__name__]
            expr = f"CAST(NULL AS {sql_type})"
        selected.append(f"  {expr} AS {name}")
    return "SELECT\n" + ",\n".join(selected) + f"\nFROM {EXPORT_TABLE}"


def period_filter(start: date, end: date, partition_columns: tuple[str, ...]) -> str:
    """The invoice months of [start, end), and the load-time partitions pruned below them."""
    terms = [
        f"invoice.month >= {_quote(f'{start:%Y%m}')}",
        f"invoice.month < {_quote(f'{end:%Y%m}')}",
    ]
    loaded_from = start - PARTITION_SLACK
    low = f"CAST({_quote(f'{loaded_from.isoformat()} 00:00:00+00')} AS TIMESTAMPTZ)"
    for column in partition_columns:
        if column.lower() in LOAD_TIME_PARTITIONS:
            terms.append(f"{column} >= {low}")
        elif column.lower() == "_partitiondate":
            terms.append(f"{column} >= CAST({_quote(loaded_from.isoformat())} AS DATE)")
    return " AND ".join(terms)


SHAPE = ExportShape(
    name="gcp_bigquery",
    description="GCP's standard or detailed usage cost export in BigQuery",
    matches=matches,
    line_items=line_items,
    period_filter=period_filter,
    required=REQUIRED,
)
