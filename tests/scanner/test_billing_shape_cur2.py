"""The CUR 2.0 shape (scanner/pipeline/billing_shapes/cur2.py) run by DuckDB over a CUR 2.0
Parquet file gives the local CUR reader's line items for the same file, column for column.

Two files: one as AWS's data export writes CUR 2.0 (``resource_tags`` and ``product`` as
Parquet maps, timestamps without a zone), with a row for every line item type the
derivations tell apart; and the export samples' CUR 2.0 (maps written as lists of
key/value structs, timestamps with a zone), the file the other export tests read.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot

from costscan.providers.exports.read import read_billing
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.billing_query import EXPORT_TABLE
from costscan.scanner.pipeline.billing_shapes import cur2, shape_of
from tests.providers.export_samples import write_cur2

SP = "arn:aws:savingsplans::222222222222:savingsplan/sp-1"
RI = "arn:aws:ec2:us-east-1:222222222222:reserved-instances/ri-1"
START = datetime(2024, 9, 1)
MONEY = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")


def _row(hour: int, kind: str, cost: float, **extra: Any) -> dict[str, Any]:
    start = START + timedelta(hours=hour)
    row: dict[str, Any] = {
        "bill_payer_account_id": "111111111111",
        "bill_billing_period_start_date": START,
        "bill_billing_period_end_date": datetime(2024, 10, 1),
        "line_item_usage_account_id": "222222222222",
        "line_item_line_item_type": kind,
        "line_item_unblended_cost": cost,
        "line_item_usage_start_date": start,
        "line_item_usage_end_date": start + timedelta(hours=1),
        "line_item_usage_amount": 1.0,
        "line_item_product_code": "AmazonEC2",
        "line_item_resource_id": f"i-{hour:03d}",
        "line_item_currency_code": "USD",
        "pricing_public_on_demand_cost": cost * 1.5,
        "pricing_term": "OnDemand",
        "pricing_unit": "Hrs",
        "product_product_family": "Compute Instance",
        "product_region_code": "us-east-1",
        "product_sku": "SKU1",
        "reservation_reservation_a_r_n": None,
        "reservation_effective_cost": None,
        "reservation_unused_amortized_upfront_fee_for_billing_period": None,
        "reservation_unused_recurring_fee": None,
        "savings_plan_savings_plan_a_r_n": None,
        "savings_plan_savings_plan_effective_cost": None,
        "savings_plan_total_commitment_to_date": None,
        "savings_plan_used_commitment": None,
        "resource_tags": [("user_team", "web"), ("aws:createdBy", "ci"), ("user_env", "prod")],
        "product": [("product_name", "Amazon Elastic Compute Cloud"), ("servicecode", "AmazonEC2")],
    }
    row.update(extra)
    return row


ROWS = [
    _row(0, "Usage", 1.25),
    _row(1, "Usage", 0.4, pricing_term="Spot", resource_tags=[]),
    _row(
        2,
        "SavingsPlanCoveredUsage",
        2.0,
        pricing_term="Savings Plan",
        savings_plan_savings_plan_a_r_n=SP,
        savings_plan_savings_plan_effective_cost=1.3,
    ),
    _row(2, "SavingsPlanNegation", -2.0, savings_plan_savings_plan_a_r_n=SP),
    _row(
        3,
        "SavingsPlanRecurringFee",
        5.0,
        line_item_product_code="ComputeSavingsPlans",
        savings_plan_savings_plan_a_r_n=SP,
        savings_plan_total_commitment_to_date=5.0,
        savings_plan_used_commitment=3.75,
        line_item_resource_id=None,
    ),
    _row(3, "SavingsPlanUpfrontFee", 100.0, savings_plan_savings_plan_a_r_n=SP),
    _row(
        4,
        "DiscountedUsage",
        0.0,
        pricing_term="Reserved",
        reservation_reservation_a_r_n=RI,
        reservation_effective_cost=0.62,
    ),
    _row(
        4,
        "RIFee",
        7.0,
        reservation_reservation_a_r_n=RI,
        reservation_unused_amortized_upfront_fee_for_billing_period=0.5,
        reservation_unused_recurring_fee=1.25,
    ),
    _row(4, "Fee", 300.0, reservation_reservation_a_r_n=RI),
    _row(5, "Fee", 12.0, line_item_product_code="AWSSupportBusiness"),
    _row(
        5,
        "Tax",
        0.99,
        line_item_product_code="AmazonS3",
        line_item_resource_id=None,
        resource_tags=None,
        pricing_public_on_demand_cost=None,
    ),
    _row(6, "Credit", -3.0, line_item_currency_code=None),
    _row(6, "Refund", -1.5),
    _row(6, "EdpDiscount", -0.25),
    _row(
        7,
        "Usage",
        0.09,
        product_product_family="Data Transfer",
        line_item_product_code="AWSDataTransfer",
    ),
    _row(7, "Usage", 0.01, line_item_product_code="AmazonBrandNew", product=[("servicecode", "x")]),
    _row(
        8,
        "SomethingNew",
        0.5,
        line_item_product_code=None,
        product=None,
        product_region_code=None,
        pricing_term=None,
    ),
    _row(
        9,
        "Usage",
        0.33,
        pricing_unit="GB-Mo",
        line_item_usage_amount=12.5,
        resource_tags=[("user_cost center", 'R&D "core"'), ("user_", "empty key")],
    ),
    # October: outside a September period, in the next billing period.
    _row(24 * 30 + 1, "Usage", 4.0, bill_billing_period_start_date=datetime(2024, 10, 1)),
]

_TEXT_MAP = pa.map_(pa.string(), pa.string())
_TYPES = {
    "resource_tags": _TEXT_MAP,
    "product": _TEXT_MAP,
    **{
        name: pa.timestamp("ms")
        for name in (
            "bill_billing_period_start_date",
            "bill_billing_period_end_date",
            "line_item_usage_start_date",
            "line_item_usage_end_date",
        )
    },
}


def _write_export(path: Path) -> Path:
    """CUR 2.0 as AWS's data export writes it: maps, timestamps without a zone."""
    names = list(ROWS[0])
    fields = [
        pa.field(
            n,
            _TYPES.get(
                n,
                pa.float64()
                if "cost" in n or "amount" in n or "fee" in n or "commitment" in n
                else pa.string(),
            ),
        )
        for n in names
    ]
    table = pa.Table.from_pylist(ROWS, schema=pa.schema(fields))
    pq.write_table(table, path)
    return path


@pytest.fixture(params=["export", "samples"])
def cur2_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "export":
        return _write_export(tmp_path / "cur2-export.parquet")
    return write_cur2(tmp_path / "cur2-samples.parquet")


def _duckdb(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.sql("SET TimeZone = 'UTC'")
    con.sql(f"CREATE VIEW {EXPORT_TABLE} AS SELECT * FROM read_parquet('{path}')")
    return con


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    described = con.sql(f"DESCRIBE {EXPORT_TABLE}").fetchall()
    return {str(name): str(kind).lower() for name, kind, *_ in described}


def _pushed(path: Path, where: str | None = None) -> pl.DataFrame:
    con = _duckdb(path)
    sql = cur2.line_items(_columns(con))
    if where:
        sql += f" WHERE {where}"
    frame = con.sql(sql).pl()
    # DuckDB gives TIMESTAMP (UTC, without a zone); the reader's frames say UTC.
    return frame.with_columns(pl.col(pl.Datetime).dt.replace_time_zone("UTC"))


def _local(path: Path) -> pl.DataFrame:
    return read_billing([str(path)]).scan.collect()


def test_the_shape_gives_the_local_readers_line_items(cur2_file: Path) -> None:
    pushed, local = _pushed(cur2_file), _local(cur2_file)
    assert pushed.columns == list(schema.BILLING)
    assert pushed.height == local.height
    for name in schema.BILLING:
        if name in MONEY or schema.BILLING[name] == pl.Float64():
            # To the cent: both add and subtract the same float64s.
            gap = (pushed[name] - local[name]).abs().max()
            assert gap is None or float(gap) < 0.005, name  # type: ignore[arg-type]
            assert pushed[name].is_null().to_list() == local[name].is_null().to_list(), name
        else:
            assert pushed[name].to_list() == local[name].to_list(), name


def test_every_line_item_type_is_told_apart_as_the_reader_does(tmp_path: Path) -> None:
    """The hand-worked values of the export file, beside the reader's (both must hold)."""
    path = _write_export(tmp_path / "cur2.parquet")
    pushed = _pushed(path)
    rows = pushed.rows(named=True)

    def by_type(hour: int, kind: str, cost: float) -> dict[str, Any]:
        """The pushed line item of ROWS' row with this hour, line item type and cost."""
        (index,) = [
            i
            for i, r in enumerate(ROWS)
            if r["line_item_usage_start_date"].hour == hour
            and r["line_item_line_item_type"] == kind
            and r["line_item_unblended_cost"] == cost
        ]
        return rows[index]

    covered = by_type(2, "SavingsPlanCoveredUsage", 2.0)
    assert (covered["BilledCost"], covered["ChargeCategory"]) == (0.0, "Usage")
    negation = by_type(2, "SavingsPlanNegation", -2.0)
    assert (negation["BilledCost"], negation["EffectiveCost"]) == (0.0, 0.0)
    assert by_type(3, "SavingsPlanUpfrontFee", 100.0)["EffectiveCost"] == 0.0
    discounted = by_type(4, "DiscountedUsage", 0.0)
    assert (discounted["EffectiveCost"], discounted["CommitmentDiscountType"]) == (
        0.62,
        "Reserved Instance",
    )
    assert by_type(6, "EdpDiscount", -0.25)["ChargeCategory"] == "Credit"
    assert covered["EffectiveCost"] == 1.3
    assert covered["PricingCategory"] == "Committed"
    assert covered["CommitmentDiscountStatus"] == "Used"
    assert covered["CommitmentDiscountType"] == "Savings Plan"
    recurring = by_type(3, "SavingsPlanRecurringFee", 5.0)
    assert recurring["EffectiveCost"] == 1.25  # 5.00 committed - 3.75 used
    assert recurring["CommitmentDiscountStatus"] == "Unused"
    assert recurring["PricingCategory"] is None
    ri_fee = by_type(4, "RIFee", 7.0)
    assert ri_fee["EffectiveCost"] == 1.75  # 0.50 unused upfront + 1.25 unused recurring
    assert by_type(4, "Fee", 300.0)["EffectiveCost"] == 0.0  # the RI's upfront fee
    assert by_type(5, "Fee", 12.0)["EffectiveCost"] == 12.0  # a fee of no commitment
    assert by_type(6, "Refund", -1.5)["ChargeClass"] == "Correction"
    assert by_type(6, "Credit", -3.0)["BillingCurrency"] == "USD"
    unknown = by_type(8, "SomethingNew", 0.5)
    assert (unknown["ServiceName"], unknown["ServiceCategory"], unknown["RegionId"]) == (
        None,
        "Other",
        None,
    )
    transfer = by_type(7, "Usage", 0.09)
    assert transfer["ServiceCategory"] == "Networking"
    brand_new = by_type(7, "Usage", 0.01)
    assert (brand_new["ServiceName"], brand_new["ServiceCategory"]) == ("AmazonBrandNew", "Other")
    first = by_type(0, "Usage", 1.25)
    assert first["Tags"] == '{"team":"web","aws:createdBy":"ci","env":"prod"}'
    # The local reader reads the export's Parquet maps (polars reads them as Map) alike.
    local = _local(path).row(0, named=True)
    assert (local["Tags"], local["ServiceName"]) == (first["Tags"], first["ServiceName"])
    assert first["ServiceName"] == "Amazon Elastic Compute Cloud"
    assert first["ListCost"] == 1.875
    assert by_type(1, "Usage", 0.4)["Tags"] is None  # an empty map
    assert by_type(1, "Usage", 0.4)["PricingCategory"] == "Dynamic"
    quoted = by_type(9, "Usage", 0.33)
    assert quoted["Tags"] == '{"cost center":"R&D \\"core\\"","":"empty key"}'
    assert quoted["ConsumedQuantity"] == 12.5


def test_the_period_filter_keeps_the_billing_periods_line_items(cur2_file: Path) -> None:
    where = cur2.period_filter(date(2024, 9, 1), date(2024, 10, 1), ())
    pushed = _pushed(cur2_file, where)
    local = _local(cur2_file).filter(
        pl.col("BillingPeriodStart").is_between(
            pl.datetime(2024, 9, 1, time_zone="UTC"),
            pl.datetime(2024, 10, 1, time_zone="UTC"),
            closed="left",
        )
    )
    assert pushed.height == local.height > 0
    assert pushed["ResourceId"].to_list() == local["ResourceId"].to_list()


def test_the_period_filter_names_the_billing_period_partitions() -> None:
    where = cur2.period_filter(date(2024, 9, 15), date(2024, 11, 2), ("billing_period",))
    assert where.startswith("\"billing_period\" IN ('2024-09', '2024-10', '2024-11') AND ")
    unpartitioned = cur2.period_filter(date(2024, 9, 1), date(2024, 10, 1), ())
    assert '"billing_period"' not in unpartitioned


def test_a_partitioned_export_is_pruned_and_read_alike(tmp_path: Path) -> None:
    """billing_period as a column, as Athena shows the partition: only its months are kept."""
    path = _write_export(tmp_path / "cur2.parquet")
    con = _duckdb(path)
    con.sql(
        f"CREATE OR REPLACE VIEW {EXPORT_TABLE} AS SELECT *, "
        "strftime(bill_billing_period_start_date, '%Y-%m') AS billing_period "
        f"FROM read_parquet('{path}')"
    )
    where = cur2.period_filter(date(2024, 10, 1), date(2024, 11, 1), ("billing_period",))
    got = con.sql(cur2.line_items(_columns(con)) + f" WHERE {where}").pl()
    assert got["BilledCost"].to_list() == [4.0]


@pytest.mark.parametrize("partitions", [(), ("billing_period",)])
def test_the_sql_transpiles_to_trino_and_parses_back(
    cur2_file: Path, partitions: tuple[str, ...]
) -> None:
    con = _duckdb(cur2_file)
    where = cur2.period_filter(date(2024, 9, 1), date(2024, 10, 1), partitions)
    sql = cur2.line_items(_columns(con)) + f" WHERE {where}"
    trino = sqlglot.transpile(sql, read="duckdb", write="trino")[0]
    # Trino's spelling of DuckDB's list functions and lambdas; no DuckDB-only name left.
    upper = trino.upper()
    for duckdb_only in ("LIST_TRANSFORM", "LAMBDA ", "LIST_CONTAINS", "ARRAY_TO_STRING"):
        assert duckdb_only not in upper
    assert "TRANSFORM(MAP_KEYS(" in upper
    assert "ARRAY_JOIN(" in upper
    # A map is only subscripted once its key is known to be there (Trino fails otherwise).
    assert "CONTAINS(MAP_KEYS(" in upper
    reparsed = sqlglot.parse_one(trino, read="trino")
    assert reparsed.sql("trino") == trino
    assert [s.alias_or_name for s in reparsed.selects] == list(schema.BILLING)


def test_the_shape_is_chosen_for_a_cur2_table_only(cur2_file: Path) -> None:
    columns = _columns(_duckdb(cur2_file))
    assert cur2.matches(columns)
    assert not cur2.matches({"BilledCost": "double", "EffectiveCost": "double"})
    assert not cur2.matches({"lineitem/unblendedcost": "double"})
    found = shape_of(columns)
    assert found is not None and found.name == "cur2"


def test_empty_text_is_no_value_in_both_paths(tmp_path: Path) -> None:
    # CUR's Parquet writes "" where a line has no resource, reservation or Savings Plan
    # (Athena's CUR queries filter `<> ''`). Kept as text, "" was a ResourceId and, through
    # coalesce(Savings Plan ARN, reservation ARN), every line item's CommitmentDiscountId:
    # the whole bill one commitment.
    from tests.scanner import cur2_twin

    rows = cur2_twin.frame(count=6, hours=4)
    text_columns = [
        "line_item_resource_id",
        "reservation_reservation_a_r_n",
        "savings_plan_savings_plan_a_r_n",
    ]
    blank = rows.with_columns(pl.col(c).fill_null("") for c in text_columns)
    assert (blank["savings_plan_savings_plan_a_r_n"] == "").sum() > 0
    path = cur2_twin.write_frame(blank, tmp_path / "blank.parquet")
    local, pushed = _local(path), _pushed(path)
    ids = local["CommitmentDiscountId"]
    assert "" not in ids.drop_nulls().to_list()
    # Exactly the line items the twin gave a commitment carry one.
    assert (
        ids.is_not_null().sum()
        == rows.select(pl.coalesce(text_columns[2], text_columns[1]).is_not_null().sum()).item()
    )
    assert "" not in local["ResourceId"].drop_nulls().to_list()
    for name in ("CommitmentDiscountId", "ResourceId"):
        assert pushed[name].to_list() == local[name].to_list(), name
