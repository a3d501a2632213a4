"""AWS Cost and Usage Report, legacy (``lineItem/UnblendedCost``) and CUR 2.0 (snake_case).

Column meanings follow the AWS data dictionaries: legacy CUR
https://docs.aws.amazon.com/cur/latest/userguide/data-dictionary.html and CUR 2.0
https://docs.aws.amazon.com/cur/latest/userguide/table-dictionary-cur2.html. The FOCUS
derivation follows AWS's own "FOCUS 1.0 with AWS columns" export
(https://docs.aws.amazon.com/cur/latest/userguide/table-dictionary-focus-1-0-aws.html) and the
amortization rules in "Understanding your reservations / Savings Plans in CUR".

- BilledCost <- legacy: lineItem/UnblendedCost, 0 for SavingsPlanCoveredUsage and
  SavingsPlanNegation (they cancel: the plan's fee is what is billed); CUR 2.0:
  line_item_unblended_cost, same rule
- EffectiveCost <- legacy: by lineItem/LineItemType: SavingsPlanCoveredUsage ->
  savingsPlan/SavingsPlanEffectiveCost; SavingsPlanRecurringFee -> TotalCommitmentToDate -
  UsedCommitment (the unused part); SavingsPlanNegation, SavingsPlanUpfrontFee and RI upfront
  Fee -> 0; DiscountedUsage -> reservation/EffectiveCost; RIFee ->
  UnusedAmortizedUpfrontFeeForBillingPeriod + UnusedRecurringFee; anything else ->
  UnblendedCost; CUR 2.0: the snake_case twins
- ListCost <- legacy: pricing/publicOnDemandCost (UnblendedCost when absent); CUR 2.0:
  pricing_public_on_demand_cost
- ContractedCost <- legacy: UnblendedCost; CUR 2.0: line_item_unblended_cost
- BillingAccountId / SubAccountId <- legacy: bill/PayerAccountId / lineItem/UsageAccountId; CUR
  2.0: bill_payer_account_id / line_item_usage_account_id
- ServiceName <- legacy: product/ProductName, else lineItem/ProductCode; CUR 2.0:
  product_product_name or the ``product`` map's product_name, else line_item_product_code
- ServiceCategory <- legacy: product/productFamily "Data Transfer" -> Networking, else a table
  of product codes; CUR 2.0: same
- ResourceId <- legacy: lineItem/ResourceId; CUR 2.0: line_item_resource_id
- RegionId <- legacy: product/regionCode, else product/region; CUR 2.0: product_region_code
- ChargeCategory <- legacy: LineItemType: Usage, DiscountedUsage, SavingsPlanCoveredUsage,
  SavingsPlanNegation -> Usage; Fee, RIFee, SavingsPlanRecurringFee, SavingsPlanUpfrontFee ->
  Purchase; Tax -> Tax; Credit and the *Discount types -> Credit; Refund -> Credit with
  ChargeClass Correction; CUR 2.0: same
- ChargePeriodStart/End <- legacy: lineItem/UsageStartDate / UsageEndDate; CUR 2.0:
  line_item_usage_start_date / end_date
- BillingPeriodStart/End <- legacy: bill/BillingPeriodStartDate / EndDate; CUR 2.0:
  bill_billing_period_start_date / end_date
- PricingCategory <- legacy: Committed for covered or discounted usage, Dynamic for pricing/term
  Spot, Standard for OnDemand (usage rows only); CUR 2.0: pricing_term
- PricingQuantity, ConsumedQuantity <- legacy: lineItem/UsageAmount (consumed: usage rows only);
  CUR 2.0: line_item_usage_amount
- PricingUnit, ConsumedUnit <- legacy: pricing/unit; CUR 2.0: pricing_unit
- CommitmentDiscountId <- legacy: savingsPlan/SavingsPlanARN, else reservation/ReservationARN;
  CUR 2.0: savings_plan_savings_plan_a_r_n, reservation_reservation_a_r_n
- CommitmentDiscountType / Category <- legacy: "Savings Plan" / Spend, "Reserved Instance" /
  Usage; CUR 2.0: same
- CommitmentDiscountStatus <- legacy: Used on covered or discounted usage, Unused on RIFee and
  SavingsPlanRecurringFee; CUR 2.0: same
- SkuId <- legacy: product/sku; CUR 2.0: product_sku
- Tags <- legacy: JSON object of the resourceTags/* columns; "user:" is dropped from user tag
  keys, "aws:" keys stay; CUR 2.0: the ``resource_tags`` map (or its JSON text), "user_" dropped
  from keys
- BillingCurrency <- legacy: lineItem/CurrencyCode; CUR 2.0: line_item_currency_code
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from costscan.providers.exports._common import (
    NO_CURRENCY_NOTE,
    Mapped,
    RawSchema,
    currency,
    key_values,
    lookup,
    number,
    tags_from_columns,
    tags_json,
    text,
    timestamp,
)
from costscan.scanner.contracts.cur_vocab import (
    CHARGE_CATEGORY,
    FIELDS,
    REQUIRED_FIELDS,
    SERVICE_CATEGORY,
    USAGE_TYPES,
)

LEGACY = "cur"
CUR2 = "cur2"

NUMERIC_FIELDS = (
    "unblended_cost",
    "public_cost",
    "ri_effective",
    "ri_unused_upfront",
    "ri_unused_recurring",
    "sp_effective",
    "sp_total_commitment",
    "sp_used_commitment",
)
TIMESTAMP_FIELDS = ("usage_start",)


def columns_for(flavour: str) -> dict[str, str]:
    index = 0 if flavour == LEGACY else 1
    return {name: pair[index] for name, pair in FIELDS.items()}


def missing(columns: RawSchema, flavour: str) -> list[str]:
    names = columns_for(flavour)
    return [names[f] for f in REQUIRED_FIELDS if names[f] not in columns]


def _map_value(expr: pl.Expr, dtype: pl.DataType, key: str) -> pl.Expr:
    """One key of a CUR 2.0 map column (a list of key/value structs, or JSON text in CSV)."""
    expr, entries = key_values(expr, dtype)
    if isinstance(entries, pl.List):
        return expr.list.eval(
            pl.element().filter(pl.element().struct.field("key") == key).struct.field("value")
        ).list.first()
    return text(expr).str.json_path_match(f"$.{key}")


def to_focus(
    columns: RawSchema,
    flavour: str,
    textual: bool,
    layouts: Mapping[str, Sequence[str]] | None = None,
) -> Mapped:
    names = columns_for(flavour)

    def has(field: str) -> bool:
        return names[field] in columns

    def col(field: str) -> pl.Expr:
        if not has(field):
            return pl.lit(None, dtype=pl.String)
        # Empty text is "no value" in Parquet exports too: CUR writes "" where a line has
        # no resource, reservation or Savings Plan (Athena's CUR queries test `<> ''`), and
        # an empty ARN kept as text would make every line item one commitment.
        return text(pl.col(names[field]))

    def num(field: str) -> pl.Expr:
        if not has(field):
            return pl.lit(None, dtype=pl.Float64)
        return number(pl.col(names[field]), columns[names[field]])

    def ts(field: str) -> pl.Expr:
        if not has(field):
            return pl.lit(None, dtype=pl.Datetime("us", "UTC"))
        source = names[field]
        return timestamp(pl.col(source), columns[source], (layouts or {}).get(source))

    kind = col("line_item_type")
    unblended = num("unblended_cost")
    zero = pl.lit(0.0)
    ri_arn, sp_arn = col("ri_arn"), col("sp_arn")
    covered = kind.is_in(["SavingsPlanCoveredUsage", "DiscountedUsage"])

    billed = (
        pl.when(kind.is_in(["SavingsPlanCoveredUsage", "SavingsPlanNegation"]))
        .then(zero)
        .otherwise(unblended)
    )
    effective = (
        pl.when(kind == "SavingsPlanCoveredUsage")
        .then(num("sp_effective"))
        .when(kind == "SavingsPlanRecurringFee")
        .then(num("sp_total_commitment").fill_null(0.0) - num("sp_used_commitment").fill_null(0.0))
        .when(kind.is_in(["SavingsPlanNegation", "SavingsPlanUpfrontFee"]))
        .then(zero)
        .when((kind == "Fee") & ri_arn.is_not_null())
        .then(zero)
        .when(kind == "DiscountedUsage")
        .then(num("ri_effective"))
        .when(kind == "RIFee")
        .then(num("ri_unused_upfront").fill_null(0.0) + num("ri_unused_recurring").fill_null(0.0))
        .otherwise(unblended)
    )

    service = col("product_name")
    if not has("product_name") and flavour == CUR2 and "product" in columns:
        service = _map_value(pl.col("product"), columns["product"], "product_name")
    service = pl.coalesce(service, col("product_code"))

    code = col("product_code")
    category = (
        pl.when(col("product_family") == "Data Transfer")
        .then(pl.lit("Networking"))
        .otherwise(lookup(SERVICE_CATEGORY, code, default="Other"))
    )
    charge_category = lookup(CHARGE_CATEGORY, kind, default="Adjustment")
    is_usage = kind.is_in(list(USAGE_TYPES))
    term = col("term").str.to_lowercase()
    pricing_category = (
        pl.when(~is_usage)
        .then(pl.lit(None, dtype=pl.String))
        .when(covered)
        .then(pl.lit("Committed"))
        .when(term == "spot")
        .then(pl.lit("Dynamic"))
        .when(term == "ondemand")
        .then(pl.lit("Standard"))
        .otherwise(pl.lit("Other"))
    )
    commitment_type = (
        pl.when(sp_arn.is_not_null())
        .then(pl.lit("Savings Plan"))
        .when(ri_arn.is_not_null())
        .then(pl.lit("Reserved Instance"))
    )
    commitment_category = (
        pl.when(sp_arn.is_not_null())
        .then(pl.lit("Spend"))
        .when(ri_arn.is_not_null())
        .then(pl.lit("Usage"))
    )
    commitment_status = (
        pl.when(covered)
        .then(pl.lit("Used"))
        .when(kind.is_in(["RIFee", "SavingsPlanRecurringFee"]))
        .then(pl.lit("Unused"))
    )
    exprs: dict[str, pl.Expr] = {
        "BilledCost": billed,
        "EffectiveCost": effective,
        "ListCost": pl.coalesce(num("public_cost"), unblended) if has("public_cost") else unblended,
        "ContractedCost": unblended,
        "BillingAccountId": col("payer"),
        "SubAccountId": col("usage_account"),
        "ProviderName": pl.lit("AWS"),
        "ServiceName": service,
        "ServiceCategory": category,
        "ResourceId": col("resource_id"),
        "RegionId": pl.coalesce(col("region_code"), col("region")),
        "ChargeCategory": charge_category,
        "ChargeClass": pl.when(kind == "Refund").then(pl.lit("Correction")),
        "ChargePeriodStart": ts("usage_start"),
        "ChargePeriodEnd": ts("usage_end"),
        "BillingPeriodStart": ts("period_start"),
        "BillingPeriodEnd": ts("period_end"),
        "PricingCategory": pricing_category,
        "PricingQuantity": num("usage_amount"),
        "PricingUnit": col("unit"),
        "ConsumedQuantity": pl.when(is_usage).then(num("usage_amount")),
        "ConsumedUnit": pl.when(is_usage).then(col("unit")),
        "CommitmentDiscountId": pl.coalesce(sp_arn, ri_arn),
        "CommitmentDiscountType": commitment_type,
        "CommitmentDiscountCategory": commitment_category,
        "CommitmentDiscountStatus": commitment_status,
        "SkuId": col("sku"),
        "Tags": _tags(columns, flavour),
        "BillingCurrency": currency(pl.col(names["currency"]), textual)
        if has("currency")
        else pl.lit("USD"),
    }
    raw_numeric = tuple(
        names[f] for f in NUMERIC_FIELDS if has(f) and not columns[names[f]].is_numeric()
    )
    raw_stamps = tuple(
        names[f] for f in TIMESTAMP_FIELDS if has(f) and columns[names[f]] == pl.String()
    )
    notes = [] if has("currency") else [NO_CURRENCY_NOTE]
    return Mapped(exprs, raw_numeric, raw_stamps, version=flavour, notes=notes)


def _tags(columns: RawSchema, flavour: str) -> pl.Expr:
    if flavour == LEGACY:
        tag_columns: Mapping[str, str] = {
            _legacy_tag_key(c): c for c in columns if c.startswith("resourceTags/")
        }
        return tags_from_columns(tag_columns)
    if "resource_tags" not in columns:
        return pl.lit(None, dtype=pl.String)
    as_json = tags_json(pl.col("resource_tags"), columns["resource_tags"])
    # CUR 2.0 writes user tag "team" as key "user_team"; keep the user's own key.
    return as_json.str.replace_all(r'"user_([^"]*)"\s*:', r'"$1":')


def _legacy_tag_key(column: str) -> str:
    key = column.removeprefix("resourceTags/")
    return key.removeprefix("user:")
