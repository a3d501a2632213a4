"""Small billing files in every native export layout, all written from one FOCUS twin.

``TWIN`` is a handful of FOCUS rows covering what the mappings must get right: on-demand,
spot, Savings Plan and Reserved Instance covered usage, a commitment's recurring fee with
an unused part, storage, data transfer, tax and a credit. Each writer turns the twin into
the rows that export would hold for the same charges (a CUR Savings Plan charge is a
covered-usage row plus its negation; a GCP committed-use charge is a cost cancelled by a
credit), so reading any of them back must give the twin's costs per service and resource.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

START = datetime(2024, 9, 1, tzinfo=UTC)
PERIOD_END = datetime(2024, 10, 1, tzinfo=UTC)
PAYER = "111111111111"
SP_ARN = "arn:aws:savingsplans::222222222222:savingsplan/sp-0001"
RI_ARN = "arn:aws:ec2:us-east-1:222222222222:reserved-instances/ri-0001"


@dataclass(frozen=True)
class TwinRow:
    service: str
    category: str
    resource: str | None
    account: str
    region: str | None
    hour: int
    billed: float
    effective: float
    list_cost: float
    charge: str = "Usage"  # FOCUS ChargeCategory
    pricing: str | None = "Standard"
    commitment: str | None = None  # "sp" | "ri"
    status: str | None = None  # Used | Unused
    quantity: float = 1.0
    unit: str = "Hrs"
    sku: str = "SKU-1"
    family: str = "Compute Instance"  # CUR product family ("Data Transfer" -> Networking)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def start(self) -> datetime:
        return START + timedelta(hours=self.hour)


EC2, S3, DT = "Amazon Elastic Compute Cloud", "Amazon Simple Storage Service", "Data Transfer"
SP_FEE = "Savings Plans for AWS Compute usage"
TWIN: tuple[TwinRow, ...] = (
    TwinRow(
        EC2,
        "Compute",
        "i-aaa",
        "222222222222",
        "us-east-1",
        0,
        1.25,
        1.25,
        1.25,
        tags={"team": "web", "env": "prod"},
    ),
    TwinRow(
        EC2,
        "Compute",
        "i-aaa",
        "222222222222",
        "us-east-1",
        1,
        1.25,
        1.25,
        1.25,
        tags={"team": "web", "env": "prod"},
    ),
    TwinRow(
        EC2,
        "Compute",
        "i-bbb",
        "222222222222",
        "us-east-1",
        0,
        0.0,
        0.70,
        1.00,
        pricing="Committed",
        commitment="sp",
        status="Used",
        tags={"team": "data"},
    ),
    TwinRow(
        EC2,
        "Compute",
        "i-ccc",
        "333333333333",
        "eu-west-1",
        0,
        0.0,
        0.55,
        0.96,
        pricing="Committed",
        commitment="ri",
        status="Used",
    ),
    TwinRow(
        EC2,
        "Compute",
        "i-ddd",
        "333333333333",
        "eu-west-1",
        2,
        0.31,
        0.31,
        0.96,
        pricing="Dynamic",
        tags={"team": "batch", "note": 'says "hi", ok'},
    ),
    TwinRow(
        S3,
        "Storage",
        "logs-bucket",
        "222222222222",
        "us-east-1",
        0,
        3.40,
        3.40,
        3.40,
        quantity=147.8,
        unit="GB-Mo",
        sku="SKU-S3",
        family="Storage",
    ),
    TwinRow(
        DT,
        "Networking",
        "i-aaa",
        "222222222222",
        "us-east-1",
        3,
        0.90,
        0.90,
        0.90,
        quantity=10.0,
        unit="GB",
        sku="SKU-DT",
        family="Data Transfer",
    ),
    TwinRow(
        SP_FEE,
        "Compute",
        SP_ARN,
        "222222222222",
        None,
        0,
        0.80,
        0.10,
        0.80,
        charge="Purchase",
        pricing=None,
        commitment="sp",
        status="Unused",
        sku="SKU-SP",
    ),
    TwinRow(
        EC2,
        "Compute",
        None,
        "222222222222",
        "us-east-1",
        0,
        0.35,
        0.35,
        0.35,
        charge="Tax",
        pricing=None,
        sku="SKU-TAX",
    ),
    TwinRow(
        EC2,
        "Compute",
        None,
        "222222222222",
        "us-east-1",
        0,
        -0.50,
        -0.50,
        -0.50,
        charge="Credit",
        pricing=None,
        sku="SKU-CREDIT",
    ),
)

FOCUS_1_1_EXTRA = ("ServiceSubcategory", "CommitmentDiscountQuantity", "CommitmentDiscountUnit")
FOCUS_1_2_EXTRA = ("BillingAccountType", "SubAccountType", "InvoiceId", "PricingCurrency")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _tags_json(tags: dict[str, str]) -> str | None:
    return json.dumps(tags) if tags else None


def _write(df: pl.DataFrame, path: Path) -> Path:
    """Write ``df`` in the layout the file name asks for: .csv, .csv.gz, .parquet, .jsonl."""
    path.parent.mkdir(parents=True, exist_ok=True)
    name = path.name
    if name.endswith(".csv.gz"):
        path.write_bytes(gzip.compress(df.write_csv().encode()))
    elif name.endswith(".csv"):
        df.write_csv(path)
    elif name.endswith(".parquet"):
        df.write_parquet(path)
    elif name.endswith(".jsonl"):
        df.write_ndjson(path)
    else:  # pragma: no cover - test helper misuse
        raise ValueError(name)
    return path


def focus_frame(version: str = "1.0") -> pl.DataFrame:
    """The twin as a FOCUS file of ``version`` (1.1 and 1.2 add their own columns)."""
    rows = []
    for r in TWIN:
        commitment_id = {"sp": SP_ARN, "ri": RI_ARN}.get(r.commitment or "")
        row: dict[str, object] = {
            "BilledCost": r.billed,
            "EffectiveCost": r.effective,
            "ListCost": r.list_cost,
            "ContractedCost": r.list_cost,
            "BillingAccountId": PAYER,
            "BillingAccountName": "payer",
            "BillingCurrency": "USD",
            "BillingPeriodStart": START,
            "BillingPeriodEnd": PERIOD_END,
            "ChargeCategory": r.charge,
            "ChargeClass": None,
            "ChargeDescription": f"{r.service} {r.unit}",
            "ChargePeriodStart": r.start,
            "ChargePeriodEnd": r.start + timedelta(hours=1),
            "CommitmentDiscountId": commitment_id,
            "CommitmentDiscountType": {"sp": "Savings Plan", "ri": "Reserved Instance"}.get(
                r.commitment or ""
            ),
            "CommitmentDiscountCategory": {"sp": "Spend", "ri": "Usage"}.get(r.commitment or ""),
            "CommitmentDiscountStatus": r.status,
            "ConsumedQuantity": r.quantity if r.charge == "Usage" else None,
            "ConsumedUnit": r.unit if r.charge == "Usage" else None,
            "InvoiceIssuerName": "AWS",
            "PricingCategory": r.pricing,
            "PricingQuantity": r.quantity,
            "PricingUnit": r.unit,
            "ProviderName": "AWS",
            "PublisherName": "AWS",
            "RegionId": r.region,
            "ResourceId": r.resource,
            "ServiceCategory": r.category,
            "ServiceName": r.service,
            "SkuId": r.sku,
            "SubAccountId": r.account,
            "Tags": _tags_json(r.tags),
        }
        if version in ("1.1", "1.2"):
            row |= {
                "ServiceSubcategory": "Virtual Machines",
                "CommitmentDiscountQuantity": None,
                "CommitmentDiscountUnit": None,
            }
        if version == "1.2":
            row |= {
                "BillingAccountType": "Billing Account",
                "SubAccountType": "Account",
                "InvoiceId": "INV-1",
                "PricingCurrency": "USD",
            }
        rows.append(row)
    df = pl.DataFrame(rows, infer_schema_length=None)
    return df.with_columns(pl.col(pl.Null).cast(pl.String))


def write_focus(path: Path, version: str = "1.0") -> Path:
    df = focus_frame(version)
    if not path.name.endswith(".parquet"):
        # FOCUS CSV: ISO 8601 UTC timestamps, as the specification's date/time format asks.
        df = df.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _write(df, path)


def _cur_rows(legacy: bool) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for r in TWIN:
        base: dict[str, object] = {
            "bill_payer_account_id": PAYER,
            "bill_billing_period_start_date": START,
            "bill_billing_period_end_date": PERIOD_END,
            "line_item_usage_account_id": r.account,
            "line_item_resource_id": r.resource,
            "line_item_product_code": "AmazonS3" if r.service == S3 else "AmazonEC2",
            "line_item_usage_start_date": r.start,
            "line_item_usage_end_date": r.start + timedelta(hours=1),
            "line_item_usage_amount": r.quantity,
            "line_item_currency_code": "USD",
            "line_item_unblended_cost": r.billed,
            "pricing_public_on_demand_cost": r.list_cost,
            "pricing_term": {"Standard": "OnDemand", "Dynamic": "Spot"}.get(r.pricing or ""),
            "pricing_unit": r.unit,
            "product_product_family": r.family,
            "product_region_code": r.region,
            "product_sku": r.sku,
            "reservation_reservation_a_r_n": None,
            "reservation_effective_cost": None,
            "savings_plan_savings_plan_a_r_n": None,
            "savings_plan_savings_plan_effective_cost": None,
            "savings_plan_total_commitment_to_date": None,
            "savings_plan_used_commitment": None,
            "product_name": r.service,
            "tags": {f"user_{k}": v for k, v in r.tags.items()},
            "line_item_line_item_type": {"Tax": "Tax", "Credit": "Credit"}.get(r.charge, "Usage"),
        }
        if r.commitment == "sp" and r.status == "Used":
            base |= {
                "line_item_line_item_type": "SavingsPlanCoveredUsage",
                "line_item_unblended_cost": r.list_cost,
                "savings_plan_savings_plan_a_r_n": SP_ARN,
                "savings_plan_savings_plan_effective_cost": r.effective,
                "pricing_term": "Savings Plan",
            }
            negation = base | {
                "line_item_line_item_type": "SavingsPlanNegation",
                "line_item_unblended_cost": -r.list_cost,
                "savings_plan_savings_plan_effective_cost": None,
            }
            rows.extend([base, negation])
            continue
        if r.commitment == "ri":
            base |= {
                "line_item_line_item_type": "DiscountedUsage",
                "reservation_reservation_a_r_n": RI_ARN,
                "reservation_effective_cost": r.effective,
                "pricing_term": "Reserved",
            }
        if r.commitment == "sp" and r.status == "Unused":
            base |= {
                "line_item_line_item_type": "SavingsPlanRecurringFee",
                "line_item_product_code": "ComputeSavingsPlans",
                "savings_plan_savings_plan_a_r_n": SP_ARN,
                "savings_plan_total_commitment_to_date": r.billed,
                "savings_plan_used_commitment": r.billed - r.effective,
            }
        rows.append(base)
    return rows


# CUR 2.0 snake_case name -> legacy CUR name (for the columns the twin uses)
LEGACY_NAMES = {
    "bill_payer_account_id": "bill/PayerAccountId",
    "bill_billing_period_start_date": "bill/BillingPeriodStartDate",
    "bill_billing_period_end_date": "bill/BillingPeriodEndDate",
    "line_item_usage_account_id": "lineItem/UsageAccountId",
    "line_item_resource_id": "lineItem/ResourceId",
    "line_item_product_code": "lineItem/ProductCode",
    "line_item_usage_start_date": "lineItem/UsageStartDate",
    "line_item_usage_end_date": "lineItem/UsageEndDate",
    "line_item_usage_amount": "lineItem/UsageAmount",
    "line_item_currency_code": "lineItem/CurrencyCode",
    "line_item_unblended_cost": "lineItem/UnblendedCost",
    "line_item_line_item_type": "lineItem/LineItemType",
    "pricing_public_on_demand_cost": "pricing/publicOnDemandCost",
    "pricing_term": "pricing/term",
    "pricing_unit": "pricing/unit",
    "product_product_family": "product/productFamily",
    "product_region_code": "product/regionCode",
    "product_sku": "product/sku",
    "product_name": "product/ProductName",
    "reservation_reservation_a_r_n": "reservation/ReservationARN",
    "reservation_effective_cost": "reservation/EffectiveCost",
    "savings_plan_savings_plan_a_r_n": "savingsPlan/SavingsPlanARN",
    "savings_plan_savings_plan_effective_cost": "savingsPlan/SavingsPlanEffectiveCost",
    "savings_plan_total_commitment_to_date": "savingsPlan/TotalCommitmentToDate",
    "savings_plan_used_commitment": "savingsPlan/UsedCommitment",
}


def write_cur(path: Path) -> Path:
    """Legacy CUR: slash-named columns, one resourceTags/user:KEY column per tag key."""
    rows = _cur_rows(legacy=True)
    keys = sorted({k.removeprefix("user_") for row in rows for k in row["tags"]})  # type: ignore[attr-defined]
    out = []
    for row in rows:
        tags: dict[str, str] = row.pop("tags")  # type: ignore[assignment]
        record = {LEGACY_NAMES[k]: v for k, v in row.items()}
        record |= {f"resourceTags/user:{k}": tags.get(f"user_{k}") for k in keys}
        out.append(record)
    df = pl.DataFrame(out, infer_schema_length=None).with_columns(pl.col(pl.Null).cast(pl.String))
    if not path.name.endswith(".parquet"):
        df = df.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _write(df, path)


def write_cur2(path: Path) -> Path:
    """CUR 2.0: snake_case columns, ``product`` and ``resource_tags`` as maps (JSON in CSV)."""
    rows = _cur_rows(legacy=False)
    parquet = path.name.endswith(".parquet")
    out = []
    for row in rows:
        tags: dict[str, str] = row.pop("tags")  # type: ignore[assignment]
        product = {"product_name": row.pop("product_name"), "servicecode": "x"}
        if parquet:
            row["resource_tags"] = [{"key": k, "value": v} for k, v in tags.items()]
            row["product"] = [{"key": k, "value": v} for k, v in product.items()]
        else:
            row["resource_tags"] = json.dumps(tags) if tags else None
            row["product"] = json.dumps(product)
        out.append(row)
    df = pl.DataFrame(out, infer_schema_length=None).with_columns(pl.col(pl.Null).cast(pl.String))
    if parquet:
        kv = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))
        df = df.with_columns(pl.col("resource_tags", "product").cast(kv))
    else:
        df = df.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _write(df, path)


def write_gcp(path: Path) -> Path:
    """GCP BigQuery export: nested records in Parquet/JSONL, dotted names and JSON in CSV."""
    rows = []
    for r in TWIN:
        credits: list[dict[str, object]] = []
        cost = r.billed
        if r.commitment and r.status == "Used":
            # Committed use: the usage is charged at list and a CUD credit cancels it.
            cost = r.list_cost
            credits.append(
                {
                    "name": "Committed use discount",
                    "amount": -r.list_cost,
                    "full_name": None,
                    "id": "cud-0001",
                    "type": "COMMITTED_USAGE_DISCOUNT",
                }
            )
        elif r.charge == "Credit":
            cost = 0.0
            credits.append(
                {
                    "name": "Promotion",
                    "amount": r.billed,
                    "full_name": None,
                    "id": "promo-1",
                    "type": "PROMOTION",
                }
            )
        rows.append(
            {
                "billing_account_id": PAYER,
                "service": {"id": "svc", "description": r.service},
                "sku": {"id": r.sku, "description": "Spot VM" if r.pricing == "Dynamic" else "VM"},
                "usage_start_time": r.start,
                "usage_end_time": r.start + timedelta(hours=1),
                "project": {"id": r.account, "name": f"project-{r.account}"},
                "labels": [{"key": k, "value": v} for k, v in r.tags.items()],
                "location": {"location": r.region, "region": r.region},
                "resource": {"name": r.resource, "global_name": r.resource},
                "cost": cost,
                "currency": "USD",
                "usage": {
                    "amount": r.quantity,
                    "unit": r.unit,
                    "amount_in_pricing_units": r.quantity,
                    "pricing_unit": r.unit,
                },
                "credits": credits,
                "invoice": {"month": "202409"},
                "cost_type": {"Tax": "tax"}.get(r.charge, "regular"),
            }
        )
    credit_type = pl.List(
        pl.Struct(
            {
                "name": pl.String,
                "amount": pl.Float64,
                "full_name": pl.String,
                "id": pl.String,
                "type": pl.String,
            }
        )
    )
    df = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.col("credits").cast(credit_type)
    )
    if path.name.endswith(".csv") or path.name.endswith(".csv.gz"):
        # BigQuery's CSV extract: records flattened to dotted names, repeated ones as JSON.
        flat = df.select(
            "billing_account_id",
            *[
                pl.col(rec).struct.field(f).alias(f"{rec}.{f}")
                for rec in ("service", "sku", "project", "location", "resource", "usage", "invoice")
                for f in df.schema[rec].to_schema()
            ],  # type: ignore[union-attr]
            pl.col("usage_start_time").dt.strftime("%Y-%m-%d %H:%M:%S UTC"),
            pl.col("usage_end_time").dt.strftime("%Y-%m-%d %H:%M:%S UTC"),
            "cost",
            "currency",
            "cost_type",
            pl.col("labels").map_elements(
                lambda v: json.dumps(v.to_list()), return_dtype=pl.String
            ),
            pl.col("credits").map_elements(
                lambda v: json.dumps(v.to_list()), return_dtype=pl.String
            ),
        )
        return _write(flat, path)
    return _write(df, path)


def write_azure(path: Path, amortized: bool = False, camel_case: bool = False) -> Path:
    """Azure cost export: the actual file (purchases billed, covered usage at 0) or the
    amortized one (covered usage at its share, unused commitment as Unused* rows)."""
    rows = []
    for r in TWIN:
        model = "Spot" if r.pricing == "Dynamic" else "OnDemand"
        charge = {"Tax": "Tax", "Credit": "Refund", "Purchase": "Purchase"}.get(r.charge, "Usage")
        cost = r.billed
        benefit = None
        if r.commitment:
            model = "SavingsPlan" if r.commitment == "sp" else "Reservation"
            benefit = SP_ARN if r.commitment == "sp" else RI_ARN
            if r.status == "Used":
                cost = r.effective if amortized else 0.0
            elif amortized:  # the fee: amortized files show only what went unused
                charge = "UnusedSavingsPlan"
                cost = r.effective
        rows.append(
            {
                "BillingAccountId": PAYER,
                "SubscriptionId": r.account,
                "Date": r.start.strftime("%m/%d/%Y"),
                "BillingPeriodStartDate": "09/01/2024",
                "BillingPeriodEndDate": "09/30/2024",
                "MeterCategory": r.service,
                "MeterId": r.sku,
                "ResourceId": r.resource,
                "ResourceLocation": r.region,
                "ChargeType": charge,
                "PricingModel": model,
                "ReservationId": benefit,
                "Quantity": r.quantity,
                "UnitOfMeasure": r.unit,
                "CostInBillingCurrency": cost,
                "PayGPrice": r.list_cost / r.quantity if r.quantity else None,
                "BillingCurrencyCode": "USD",
                # Azure's EA file writes tags without the object's braces.
                "Tags": json.dumps(r.tags)[1:-1] if r.tags else None,
            }
        )
    df = pl.DataFrame(rows, infer_schema_length=None).with_columns(pl.col(pl.Null).cast(pl.String))
    if camel_case:
        df = df.rename({c: c[0].lower() + c[1:] for c in df.columns})
    return _write(df, path)
