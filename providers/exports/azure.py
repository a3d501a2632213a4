"""Azure Cost Management export, actual and amortized cost (EA and MCA layouts).

Fields follow "Understand the terms in your Azure usage and charges file"
(https://learn.microsoft.com/azure/cost-management-billing/automate/understand-usage-details-fields);
EA files use PascalCase (``CostInBillingCurrency``), MCA files camelCase
(``costInBillingCurrency``), so names are matched without regard to case. The header sets
read are those of the dataset schemas
(https://learn.microsoft.com/azure/cost-management-billing/dataset-schema/schema-index):
EA and MCA cost details (``Date``, ``CostInBillingCurrency``, ``BillingCurrencyCode`` or
``billingCurrency``), pay-as-you-go, and the older usage details layout
(``UsageDateTime``, ``PreTaxCost``, ``UsageQuantity``, ``SubscriptionGuid``,
``InstanceId``, ``Currency``). A file downloaded from a portal in another language
names each column in that language with the English name in parentheses
(``Kategorie der Verbrauchseinheit (MeterCategory)``): the name in parentheses is the one
matched. A byte-order mark before the first name is dropped. The FOCUS
derivation follows Microsoft's FOCUS conversion
(https://learn.microsoft.com/azure/cost-management-billing/dataset-schema/cost-usage-details-focus).

Actual and amortized files have the same columns and differ in their rows, so each row is
read by what it is: in the actual file a reservation purchase is billed and covered usage
costs 0; in the amortized file covered usage carries its share of the purchase and unused
commitment shows as UnusedReservation / UnusedSavingsPlan rows.

- BilledCost <- CostInBillingCurrency (PreTaxCost, Cost in old layouts), except 0 on amortized
  rows: covered usage (PricingModel Reservation or SavingsPlan, ChargeType Usage) and Unused*
  rows, which were billed at purchase
- EffectiveCost <- CostInBillingCurrency, except 0 on commitment Purchase rows (amortized into
  usage)
- ListCost <- PayGCostInBillingCurrency, else PayGPrice x Quantity, else the cost
- ContractedCost <- CostInBillingCurrency
- BillingAccountId / SubAccountId <- BillingAccountId / SubscriptionId (SubscriptionGuid)
- ProviderName <- "Microsoft"
- ServiceName <- MeterCategory (ConsumedService when absent)
- ServiceCategory <- a table of MeterCategory values, else "Other"
- ResourceId / ResourceName <- ResourceId (InstanceId) / its last path segment
- RegionId <- ResourceLocation, lower case without spaces ("East US" -> "eastus")
- ChargeCategory <- ChargeType: Usage, UnusedReservation, UnusedSavingsPlan -> Usage; Purchase
  -> Purchase; Tax -> Tax; Refund -> Credit (ChargeClass Correction); RoundingAdjustment ->
  Adjustment
- ChargePeriodStart/End <- Date (a day) / Date + 1 day
- BillingPeriodStart/End <- BillingPeriodStartDate / BillingPeriodEndDate + 1 day (Azure's end
  is inclusive)
- PricingCategory <- PricingModel: OnDemand -> Standard, Reservation and SavingsPlan ->
  Committed, Spot -> Dynamic
- PricingQuantity, ConsumedQuantity / units <- Quantity / UnitOfMeasure
- CommitmentDiscountId <- ReservationId, else BenefitId
- CommitmentDiscountType / Category <- "Reservation" / Usage, "Savings Plan" / Spend
- CommitmentDiscountStatus <- Unused on Unused* rows, Used on covered usage
- SkuId <- MeterId
- Tags <- Tags (JSON; older files omit the braces)
- BillingCurrency <- BillingCurrencyCode (BillingCurrency)
"""

from __future__ import annotations

import re
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

NAME = "azure"

# logical field -> candidate column names, lower case, in order of preference
FIELDS: dict[str, tuple[str, ...]] = {
    "cost": ("costinbillingcurrency", "pretaxcost", "cost", "extendedcost"),
    "payg_cost": ("paygcostinbillingcurrency",),
    "payg_price": ("paygprice",),
    "date": ("date", "usagedatetime", "usagedate"),
    "billing_account": ("billingaccountid",),
    "subscription": ("subscriptionid", "subscriptionguid"),
    "meter_category": ("metercategory",),
    "consumed_service": ("consumedservice",),
    "resource_id": ("resourceid", "instanceid"),
    "location": ("resourcelocation",),
    "charge_type": ("chargetype",),
    "period_start": ("billingperiodstartdate",),
    "period_end": ("billingperiodenddate",),
    "pricing_model": ("pricingmodel",),
    "quantity": ("quantity", "usagequantity", "consumedquantity"),
    "unit": ("unitofmeasure",),
    "reservation_id": ("reservationid",),
    "benefit_id": ("benefitid",),
    "meter_id": ("meterid",),
    "tags": ("tags",),
    "currency": ("billingcurrencycode", "billingcurrency", "currency"),
}
REQUIRED = ("cost", "date", "meter_category")

CHARGE_CATEGORY = {
    "Usage": "Usage",
    "UnusedReservation": "Usage",
    "UnusedSavingsPlan": "Usage",
    "Purchase": "Purchase",
    "Tax": "Tax",
    "Refund": "Credit",
    "RoundingAdjustment": "Adjustment",
}
PRICING_CATEGORY = {
    "OnDemand": "Standard",
    "Reservation": "Committed",
    "SavingsPlan": "Committed",
    "Spot": "Dynamic",
}
SERVICE_CATEGORY = {
    "Virtual Machines": "Compute",
    "Azure App Service": "Compute",
    "Functions": "Compute",
    "Container Instances": "Compute",
    "Azure Kubernetes Service": "Compute",
    "Storage": "Storage",
    "Backup": "Storage",
    "SQL Database": "Databases",
    "Azure Cosmos DB": "Databases",
    "Azure Database for PostgreSQL": "Databases",
    "Azure Database for MySQL": "Databases",
    "Redis Cache": "Databases",
    "Bandwidth": "Networking",
    "Virtual Network": "Networking",
    "Load Balancer": "Networking",
    "Content Delivery Network": "Networking",
    "Azure Front Door Service": "Networking",
    "VPN Gateway": "Networking",
    "Application Gateway": "Networking",
    "Azure DNS": "Networking",
    "Log Analytics": "Management and Governance",
    "Azure Monitor": "Management and Governance",
    "Key Vault": "Security",
    "Azure Synapse Analytics": "Analytics",
    "Event Hubs": "Integration",
    "Service Bus": "Integration",
    "Cognitive Services": "AI and Machine Learning",
}


# "Kategorie der Verbrauchseinheit (MeterCategory)": the English name in the parentheses.
_LOCALISED = re.compile(r"^.*\(\s*([A-Za-z0-9]+)\s*\)\s*$")


def _names(column: str) -> list[str]:
    """The lower-case names a header cell answers to: itself, and the English name a
    localised header carries in parentheses."""
    bare = column.lstrip("\ufeff").strip()
    names = [bare.lower()]
    localised = _LOCALISED.match(bare)
    if localised:
        names.insert(0, localised.group(1).lower())
    return names


def resolve(columns: RawSchema) -> dict[str, str]:
    """logical field -> the file's own column name, for the fields the file has."""
    by_lower: dict[str, str] = {}
    for column in columns:
        for name in _names(column):
            by_lower.setdefault(name, column)
    found: dict[str, str] = {}
    for name, candidates in FIELDS.items():
        for candidate in candidates:
            if candidate in by_lower:
                found[name] = by_lower[candidate]
                break
    return found


def looks_like(columns: RawSchema) -> bool:
    """An Azure cost file: a cost, a date and a meter or subscription column."""
    found = resolve(columns)
    return (
        "cost" in found
        and "date" in found
        and bool({"meter_category", "subscription", "consumed_service"} & set(found))
    )


def missing(columns: RawSchema) -> list[str]:
    found = resolve(columns)
    labels = {
        "cost": "CostInBillingCurrency (or PreTaxCost, Cost)",
        "date": "Date (or UsageDateTime)",
        "meter_category": "MeterCategory",
    }
    return [labels[f] for f in REQUIRED if f not in found]


def to_focus(
    columns: RawSchema, textual: bool, layouts: Mapping[str, Sequence[str]] | None = None
) -> Mapped:
    found = resolve(columns)

    def col(name: str) -> pl.Expr:
        if name not in found:
            return pl.lit(None, dtype=pl.String)
        raw = pl.col(found[name])
        return text(raw) if textual else raw.cast(pl.String)

    def num(name: str) -> pl.Expr:
        if name not in found:
            return pl.lit(None, dtype=pl.Float64)
        return number(pl.col(found[name]), columns[found[name]])

    def ts(name: str) -> pl.Expr:
        if name not in found:
            return pl.lit(None, dtype=pl.Datetime("us", "UTC"))
        source = found[name]
        return timestamp(pl.col(source), columns[source], (layouts or {}).get(source))

    cost = num("cost")
    charge_type = col("charge_type")
    model = col("pricing_model")
    benefit = pl.coalesce(col("reservation_id"), col("benefit_id"))
    unused = charge_type.is_in(["UnusedReservation", "UnusedSavingsPlan"])
    committed_model = model.is_in(["Reservation", "SavingsPlan"])
    covered_usage = committed_model & (charge_type == "Usage")
    billed = pl.when(unused | covered_usage).then(pl.lit(0.0)).otherwise(cost)
    effective = (
        pl.when((charge_type == "Purchase") & (benefit.is_not_null() | committed_model))
        .then(pl.lit(0.0))
        .otherwise(cost)
    )
    if "payg_cost" in found:
        list_cost = pl.coalesce(num("payg_cost"), cost)
    elif "payg_price" in found:
        list_cost = pl.coalesce(num("payg_price") * num("quantity"), cost)
    else:
        list_cost = cost
    resource_id = col("resource_id")
    day = ts("date")
    is_savings_plan = (model == "SavingsPlan") | (charge_type == "UnusedSavingsPlan")
    exprs: dict[str, pl.Expr] = {
        "BilledCost": billed,
        "EffectiveCost": effective,
        "ListCost": list_cost,
        "ContractedCost": cost,
        "BillingAccountId": col("billing_account"),
        "SubAccountId": col("subscription"),
        "ProviderName": pl.lit("Microsoft"),
        "ServiceName": pl.coalesce(col("meter_category"), col("consumed_service")),
        "ServiceCategory": lookup(SERVICE_CATEGORY, col("meter_category"), default="Other"),
        "ResourceId": resource_id,
        "ResourceName": resource_id.str.split("/").list.last(),
        "RegionId": col("location").str.to_lowercase().str.replace_all(" ", "", literal=True),
        "ChargeCategory": lookup(CHARGE_CATEGORY, charge_type, default="Usage"),
        "ChargeClass": pl.when(charge_type == "Refund").then(pl.lit("Correction")),
        "ChargePeriodStart": day,
        "ChargePeriodEnd": day.dt.offset_by("1d"),
        "BillingPeriodStart": ts("period_start"),
        "BillingPeriodEnd": ts("period_end").dt.offset_by("1d"),
        "PricingCategory": lookup(PRICING_CATEGORY, model, default=None),
        "PricingQuantity": num("quantity"),
        "PricingUnit": col("unit"),
        "ConsumedQuantity": pl.when(~unused).then(num("quantity")),
        "ConsumedUnit": pl.when(~unused).then(col("unit")),
        "CommitmentDiscountId": pl.when(committed_model | unused).then(benefit),
        "CommitmentDiscountType": pl.when(benefit.is_not_null() & (committed_model | unused)).then(
            pl.when(is_savings_plan).then(pl.lit("Savings Plan")).otherwise(pl.lit("Reservation"))
        ),
        "CommitmentDiscountCategory": pl.when(
            benefit.is_not_null() & (committed_model | unused)
        ).then(pl.when(is_savings_plan).then(pl.lit("Spend")).otherwise(pl.lit("Usage"))),
        "CommitmentDiscountStatus": pl.when(unused)
        .then(pl.lit("Unused"))
        .when(covered_usage)
        .then(pl.lit("Used")),
        "SkuId": col("meter_id"),
        "Tags": tags_json(pl.col(found["tags"]), columns[found["tags"]])
        if "tags" in found
        else pl.lit(None, dtype=pl.String),
        "BillingCurrency": currency(pl.col(found["currency"]), textual)
        if "currency" in found
        else pl.lit("USD"),
    }
    numeric = tuple(
        found[n]
        for n in ("cost", "payg_cost", "payg_price")
        if n in found and not columns[found[n]].is_numeric()
    )
    stamps = (found["date"],) if "date" in found and columns[found["date"]] == pl.String() else ()
    notes = [] if "currency" in found else [NO_CURRENCY_NOTE]
    return Mapped(exprs, numeric, stamps, version=NAME, notes=notes)
