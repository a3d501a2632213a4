"""Small billing files of our own in the shapes exports really arrive in.

Each writer lays out text the way the cloud (or the tool in between) writes it: header-only
day files, US dates with a two-digit year, GCP credits as pandas writes them, JSON lines
with empty record lists, a CAD export, AWS delivery folders with several versions of a
month and their manifests, a German Azure export with a byte-order mark, an OCI cost
report. The tests work out each file's right answer from its own text with ``decimal``
(``decimal_sum``), never with the code under test.
"""

from __future__ import annotations

import ast
import csv
import gzip
import io
import json
import os
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """``rows`` under ``header`` as RFC 4180 CSV; .gz names are gzip-compressed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    data = buffer.getvalue().encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def read_rows(path: Path) -> list[dict[str, str]]:
    """A CSV (or CSV.gz) file's rows as text, a byte-order mark dropped."""
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def decimal_sum(
    paths: Iterable[Path], column: str, value: Callable[[dict[str, str]], Decimal] | None = None
) -> Decimal:
    """Σ of ``column`` (or ``value(row)``) over every row of ``paths``, exactly."""
    total = Decimal(0)
    for path in paths:
        for row in read_rows(path):
            if value is not None:
                total += value(row)
            elif row[column] not in ("", "NULL"):
                total += Decimal(row[column])
    return total


def touch(path: Path, seconds: float) -> None:
    """Set ``path``'s modification time (``aws s3 sync`` sets it from S3's LastModified)."""
    os.utime(path, (seconds, seconds))


# --------------------------------------------------------------------------- FOCUS

FOCUS_HEADER = (
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "ServiceCategory",
    "ServiceName",
    "ResourceId",
    "SubAccountId",
    "RegionId",
)


def focus_row(
    cost: str, start: str, end: str, *, currency: str = "USD", resource: str = "i-1"
) -> list[object]:
    return [
        cost,
        cost,
        cost,
        cost,
        "111111111111",
        currency,
        start,
        end,
        "Usage",
        None,
        start,
        end,
        "1",
        "Hrs",
        "AWS",
        "Compute",
        "Amazon Elastic Compute Cloud",
        resource,
        "222222222222",
        "ca-central-1",
    ]


def write_focus_two_digit_years(path: Path) -> Path:
    """FOCUS saved from a spreadsheet: US dates with a two-digit year (M/D/YY)."""
    rows = [
        focus_row("1.25", "4/1/25", "4/2/25"),
        focus_row("0.75", "4/2/25", "4/3/25"),
        focus_row("2.125", "3/31/26", "4/1/26"),
    ]
    return write_csv(path, FOCUS_HEADER, rows)


def write_focus_cad(path: Path) -> Path:
    """A FOCUS export billed in Canadian dollars."""
    rows = [
        focus_row("0.42", "2024-09-01T00:00:00Z", "2024-09-01T01:00:00Z", currency="CAD"),
        focus_row("0.84", "2024-09-01T01:00:00Z", "2024-09-01T02:00:00Z", currency="CAD"),
    ]
    return write_csv(path, FOCUS_HEADER, rows)


def write_focus_usd(path: Path) -> Path:
    rows = [
        focus_row("3.5", "2024-09-01T00:00:00Z", "2024-09-01T01:00:00Z", resource="i-usd"),
        focus_row("1.5", "2024-09-02T00:00:00Z", "2024-09-02T01:00:00Z", resource="i-usd"),
    ]
    return write_csv(path, FOCUS_HEADER, rows)


# --------------------------------------------------------------------------- Azure

AZURE_HEADER = (
    "BillingAccountId",
    "SubscriptionId",
    "Date",
    "MeterCategory",
    "ResourceId",
    "ResourceLocation",
    "ChargeType",
    "PricingModel",
    "Quantity",
    "UnitOfMeasure",
    "CostInBillingCurrency",
    "BillingCurrencyCode",
)


def write_azure_day(path: Path, rows: Sequence[tuple[str, str]]) -> Path:
    """An Azure EA daily export: (date MM/DD/YYYY, cost) per row; no rows is a header-only
    file, as Azure delivers for a day without charges."""
    return write_csv(
        path,
        AZURE_HEADER,
        [
            [
                "ea-1",
                "sub-1",
                date,
                "Virtual Machines",
                "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Compute/"
                "virtualMachines/vm-1",
                "East US",
                "Usage",
                "OnDemand",
                "24",
                "1 Hour",
                cost,
                "EUR",
            ]
            for date, cost in rows
        ],
    )


# The older EA usage layout, as a portal set to German writes it: the German name with
# the English one in parentheses (header list as seen in kubecost/kubecost#1526), and a
# byte-order mark before the first name.
GERMAN_AZURE_HEADER = (
    "Name der Abteilung (DepartmentName)",
    "Name des Kontos (AccountName)",
    "ID des Kontobesitzers (AccountOwnerId)",
    "Abonnement-GUID (SubscriptionGuid)",
    "Name des Abonnements (SubscriptionName)",
    "Ressourcengruppe (ResourceGroup)",
    "Ressourcenstandort (ResourceLocation)",
    "UsageDateTime (UsageDateTime)",
    "ProductName (ProductName)",
    "Kategorie der Verbrauchseinheit (MeterCategory)",
    "MeterSubcategory (MeterSubcategory)",
    "ID der Verbrauchseinheit (MeterId)",
    "Name der Verbrauchseinheit (MeterName)",
    "Region der Verbrauchseinheit (MeterRegion)",
    "Maßeinheit (UnitOfMeasure)",
    "UsageQuantity (UsageQuantity)",
    "Ressourcensatz (ResourceRate)",
    "PreTaxCost (PreTaxCost)",
    "Kostenstelle (CostCenter)",
    "Genutzter Dienst (ConsumedService)",
    "ResourceType (ResourceType)",
    "InstanceId (InstanceId)",
    "Tags (Tags)",
    "OfferId (OfferId)",
    "Zusätzliche Informationen (AdditionalInfo)",
    "Dienstinformation 1 (ServiceInfo1)",
    "Dienstinformation 2 (ServiceInfo2)",
)


def write_german_azure(path: Path) -> Path:
    costs = ["1.2345", "0.0001", "10.5", "3.25"]
    rows = []
    for day, cost in enumerate(costs, start=1):
        rows.append(
            [
                "Abteilung",
                "Konto",
                "owner@example.com",
                "sub-guid-1",
                "Abo",
                "rg-de",
                "Germany West Central",
                f"2024-09-0{day}",
                "Virtual Machines Dv3 Series",
                "Virtual Machines",
                "Dv3 Series",
                "meter-1",
                "D2 v3",
                "DE West Central",
                "1 Hour",
                "24",
                "0.05",
                cost,
                "",
                "Microsoft.Compute",
                "Microsoft.Compute/virtualMachines",
                "/subscriptions/sub-guid-1/resourceGroups/rg-de/providers/Microsoft.Compute/"
                "virtualMachines/vm-de",
                '"env": "prod"',
                "MS-AZR-0017P",
                "",
                "",
                "",
            ]
        )
    write_csv(path, GERMAN_AZURE_HEADER, rows)
    path.write_bytes("\ufeff".encode() + path.read_bytes())
    return path


# --------------------------------------------------------------------------- GCP

GCP_HEADER = (
    "billing_account_id",
    "service.id",
    "service.description",
    "sku.id",
    "sku.description",
    "usage_start_time",
    "usage_end_time",
    "project.id",
    "labels",
    "location.region",
    "resource.name",
    "resource.global_name",
    "cost",
    "currency",
    "usage.amount",
    "usage.unit",
    "credits",
    "invoice.month",
    "cost_type",
)


def _python_list(records: list[dict[str, object]]) -> str:
    """A list of records as pandas writes a Python object to CSV: ``str(list)``."""
    return str(records)


def write_gcp_python_lists(path: Path, bad_row: bool = False) -> Path:
    """A BigQuery export saved to CSV through pandas: credits and labels as Python lists
    (single quotes, None); ``bad_row`` adds a row whose credits are cut off."""
    rows = [
        ("vm-1", "1.50", [{"name": "Sustained use", "amount": -0.1, "full_name": None,
                           "id": "sud-1", "type": "SUSTAINED_USAGE_DISCOUNT"}]),
        ("vm-1", "1.50", []),
        ("vm-2", "2.00", [{"name": "Committed use", "amount": -2.0, "full_name": None,
                           "id": "cud-1", "type": "COMMITTED_USAGE_DISCOUNT"},
                          {"name": "Promo", "amount": -1e-05, "full_name": None,
                           "id": "promo-1", "type": "PROMOTION"}]),
    ]  # fmt: skip
    out = []
    for hour, (resource, cost, credits) in enumerate(rows):
        out.append(_gcp_row(resource, cost, hour, _python_list(credits)))
    if bad_row:
        out.append(_gcp_row("vm-3", "5.00", 3, "[{'name': 'Promo', 'amount': "))
    return write_csv(path, GCP_HEADER, out)


def _gcp_row(resource: str, cost: str, hour: int, credits: str) -> list[object]:
    return [
        "0000-AAAA",
        "svc",
        "Compute Engine",
        "sku-1",
        "N2 Instance Core",
        f"2024-09-01 {hour:02d}:00:00 UTC",
        f"2024-09-01 {hour + 1:02d}:00:00 UTC",
        "proj-1",
        _python_list([{"key": "env", "value": "prod"}]),
        "us-central1",
        resource,
        f"//compute.googleapis.com/projects/proj-1/zones/us-central1-a/instances/{resource}",
        cost,
        "USD",
        "3600",
        "seconds",
        credits,
        "202409",
        "regular",
    ]


def gcp_net_cost(row: dict[str, str]) -> Decimal:
    """cost + Σ credits.amount of one CSV row, read with Python's own literal parser."""
    credits = ast.literal_eval(row["credits"]) if row["credits"] else []
    return Decimal(row["cost"]) + sum((Decimal(repr(c["amount"])) for c in credits), Decimal(0))


def write_gcp_jsonl_empty_labels(path: Path) -> Path:
    """A BigQuery export as JSON lines where every row has ``labels: []``."""
    lines = []
    for hour, (cost, credit) in enumerate([(0.5, -0.25), (0.125, 0.0), (2.0, -0.5)]):
        lines.append(
            {
                "billing_account_id": "0000-AAAA",
                "service": {"id": "svc", "description": "Compute Engine"},
                "sku": {"id": "sku-1", "description": "E2 Instance Core"},
                "usage_start_time": f"2024-09-01T{hour:02d}:00:00Z",
                "usage_end_time": f"2024-09-01T{hour + 1:02d}:00:00Z",
                "project": {"id": "proj-1", "labels": []},
                "labels": [],
                "system_labels": [],
                "location": {"location": "us-central1", "region": "us-central1"},
                "resource": {"name": "vm-j", "global_name": "//compute/vm-j"},
                "cost": cost,
                "currency": "USD",
                "usage": {"amount": 3600, "unit": "seconds"},
                "credits": [] if not credit else [{"name": "Free", "amount": credit}],
                "invoice": {"month": "202409"},
                "cost_type": "regular",
            }
        )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- AWS CUR

CUR_HEADER = (
    "identity/LineItemId",
    "bill/PayerAccountId",
    "bill/BillingPeriodStartDate",
    "bill/BillingPeriodEndDate",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/UsageEndDate",
    "lineItem/ProductCode",
    "lineItem/UsageAmount",
    "lineItem/CurrencyCode",
    "lineItem/UnblendedCost",
    "lineItem/ResourceId",
    "product/ProductName",
    "product/productFamily",
    "product/regionCode",
    "pricing/unit",
    "pricing/term",
)


def cur_rows(costs: Sequence[str], day: int = 1) -> list[list[object]]:
    return [
        [
            f"id-{day}-{n}",
            "111111111111",
            "2024-09-01T00:00:00Z",
            "2024-10-01T00:00:00Z",
            "222222222222",
            "Usage",
            f"2024-09-{day:02d}T{n:02d}:00:00Z",
            f"2024-09-{day:02d}T{n + 1:02d}:00:00Z",
            "AmazonEC2",
            "1",
            "USD",
            cost,
            "i-0abc",
            "Amazon Elastic Compute Cloud",
            "Compute Instance",
            "us-east-1",
            "Hrs",
            "OnDemand",
        ]
        for n, cost in enumerate(costs)
    ]


def write_cur_delivery(root: Path, *, top_manifest: bool = True) -> dict[str, list[Path]]:
    """A legacy CUR delivery folder as ``aws s3 sync`` copies it, new versions kept:
    ``<report>/<period>/<assemblyId>/<report>-<n>.csv.gz`` for two assemblies of
    September (AWS rewrote the month; the second is current), a manifest in each assembly
    folder and, when ``top_manifest``, the period's own manifest naming the current one.
    Returns the data files per assembly ("old", "current")."""
    period = root / "costreport" / "20240901-20241001"
    old_id, new_id = "a1b2c3d4-0000-0000-0000-000000000001", "a1b2c3d4-0000-0000-0000-000000000002"
    old = [write_csv(period / old_id / "costreport-1.csv.gz", CUR_HEADER, cur_rows(["1.0", "2.0"]))]
    current = [
        write_csv(period / new_id / "costreport-1.csv.gz", CUR_HEADER, cur_rows(["1.0", "2.0"])),
        write_csv(period / new_id / "costreport-2.csv.gz", CUR_HEADER, cur_rows(["4.25"], day=2)),
    ]
    for path in old:
        touch(path, 1_725_300_000)
    for path in current:
        touch(path, 1_725_400_000)

    def manifest(folder: Path, assembly: str, files: list[Path]) -> None:
        document = {
            "assemblyId": assembly,
            "account": "111111111111",
            "columns": [{"category": c.split("/")[0], "name": c.split("/")[1]} for c in CUR_HEADER],
            "charset": "UTF-8",
            "compression": "GZIP",
            "contentType": "text/csv",
            "reportId": "0123456789abcdef",
            "reportName": "costreport",
            "billingPeriod": {
                "start": "20240901T000000.000Z",
                "end": "20241001T000000.000Z",
            },
            "bucket": "my-cur-bucket",
            "reportKeys": [f"cur/costreport/20240901-20241001/{assembly}/{f.name}" for f in files],
        }
        (folder / "costreport-Manifest.json").write_text(json.dumps(document), encoding="utf-8")

    manifest(period / old_id, old_id, old)
    manifest(period / new_id, new_id, current)
    if top_manifest:
        manifest(period, new_id, current)
    return {"old": old, "current": current}


def write_data_export(root: Path) -> dict[str, list[Path]]:
    """A CUR 2.0 data export as delivered: ``<export>/data/BILLING_PERIOD=YYYY-MM/`` files
    and ``<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`` naming them;
    September also holds a file of an earlier execution the manifest no longer lists.
    Returns the listed files ("current") and the stale one ("stale")."""
    export = root / "prefix" / "cur2-export"
    header = CUR2_HEADER
    september = export / "data" / "BILLING_PERIOD=2024-09"
    october = export / "data" / "BILLING_PERIOD=2024-10"
    current = [
        write_csv(september / "cur2-export-00001.csv.gz", header, cur2_rows(["1.5", "2.5"], 9)),
        write_csv(september / "cur2-export-00002.csv.gz", header, cur2_rows(["0.25"], 9, 5)),
        write_csv(october / "cur2-export-00001.csv.gz", header, cur2_rows(["7.0"], 10)),
    ]
    stale = [write_csv(september / "cur2-export-00003.csv.gz", header, cur2_rows(["99"], 9))]
    for month, files in (("2024-09", current[:2]), ("2024-10", current[2:])):
        folder = export / "metadata" / f"BILLING_PERIOD={month}"
        folder.mkdir(parents=True, exist_ok=True)
        document = {
            "executionId": f"exec-{month}",
            "exportArn": "arn:aws:bcm-data-exports:us-east-1:111111111111:export/cur2-export",
            "columns": [{"name": c, "type": "string"} for c in header],
            "dataFiles": [
                f"s3://my-bucket/prefix/cur2-export/data/BILLING_PERIOD={month}/{f.name}"
                for f in files
            ],
        }
        (folder / "cur2-export-Manifest.json").write_text(json.dumps(document), "utf-8")
    return {"current": current, "stale": stale}


CUR2_HEADER = (
    "bill_payer_account_id",
    "bill_billing_period_start_date",
    "bill_billing_period_end_date",
    "line_item_usage_account_id",
    "line_item_line_item_type",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_product_code",
    "line_item_usage_amount",
    "line_item_currency_code",
    "line_item_unblended_cost",
    "line_item_resource_id",
    "product_region_code",
    "pricing_unit",
    "pricing_term",
)


def cur2_rows(costs: Sequence[str], month: int, first_hour: int = 0) -> list[list[object]]:
    return [
        [
            "111111111111",
            f"2024-{month:02d}-01T00:00:00Z",
            f"2024-{month + 1:02d}-01T00:00:00Z",
            "222222222222",
            "Usage",
            f"2024-{month:02d}-01T{first_hour + n:02d}:00:00Z",
            f"2024-{month:02d}-01T{first_hour + n + 1:02d}:00:00Z",
            "AmazonEC2",
            "1",
            "USD",
            cost,
            "i-0def",
            "us-east-1",
            "Hrs",
            "OnDemand",
        ]
        for n, cost in enumerate(costs)
    ]


# --------------------------------------------------------------------------- OCI

OCI_HEADER = (
    "lineItem/referenceNo",
    "lineItem/tenantId",
    "lineItem/intervalUsageStart",
    "lineItem/intervalUsageEnd",
    "product/service",
    "product/resource",
    "product/compartmentId",
    "product/compartmentName",
    "product/region",
    "product/availabilityDomain",
    "product/resourceId",
    "usage/billedQuantity",
    "usage/billedQuantityOverage",
    "cost/subscriptionId",
    "cost/productSku",
    "product/Description",
    "cost/unitPrice",
    "cost/unitPriceOverage",
    "cost/myCost",
    "cost/myCostOverage",
    "cost/currencyCode",
    "cost/billingUnitReadable",
    "cost/skuUnitDescription",
    "cost/overageFlag",
    "lineItem/isCorrection",
    "lineItem/backreferenceNo",
    "tags/Oracle-Tags.CreatedBy",
)


def write_oci_cost_report(path: Path) -> Path:
    """An OCI cost report (reports/cost-csv), billed in GBP."""
    costs = [("COMPUTE", "0.0255", "false"), ("BLOCK_STORAGE", "0.0017", "false"),
             ("COMPUTE", "-0.0005", "true")]  # fmt: skip
    rows = []
    for hour, (service, cost, correction) in enumerate(costs):
        rows.append(
            [
                f"ref-{hour}",
                "ocid1.tenancy.oc1..aaaa",
                f"2024-09-01T{hour:02d}:00Z",
                f"2024-09-01T{hour + 1:02d}:00Z",
                service,
                "PIC_COMPUTE_STANDARD_E4_FLEX",
                "ocid1.compartment.oc1..bbbb",
                "prod",
                "uk-london-1",
                "AD-1",
                "ocid1.instance.oc1.uk-london-1.cccc",
                "1",
                "",
                "sub-1",
                "B93113",
                "Compute - Standard - E4 - OCPU",
                cost,
                "",
                cost,
                "",
                "GBP",
                "OCPU Hours",
                "OCPU Per Hour",
                "",
                correction,
                "",
                "someone@example.com",
            ]
        )
    return write_csv(path, OCI_HEADER, rows)


def write_oci_usage_report(path: Path) -> Path:
    """An OCI usage report: quantities, no costs."""
    header = [c for c in OCI_HEADER if not c.startswith("cost/")]
    row = ["ref", "ocid1.tenancy", "2024-09-01T00:00Z", "2024-09-01T01:00Z", "COMPUTE"]
    return write_csv(path, header, [row + [""] * (len(header) - len(row))])
