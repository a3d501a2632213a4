"""The billing rollup against the line items it stands for: same sums, same distinct starts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from costscan.policies._billing import distinct_starts
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.billing import earliest
from costscan.scanner.contracts.errors import SchemaError
from costscan.scanner.contracts.inventory import Inventory, RunContext
from costscan.scanner.pipeline import billing_rollup

START = datetime(2024, 10, 1, tzinfo=UTC)
KEYS = list(schema.BILLING_ROLLUP_KEYS)


def line_items(rows: int, seed: int = 7, late_resources: int = 0) -> pl.DataFrame:
    """Hourly line items over five days for a few dozen resources, with what real exports
    hold too: null keys, a changed tag, starts off the hour, rows without a start, daily
    charges, and ``late_resources`` resources that first appear in the last rows."""
    rng = random.Random(seed)
    records = []
    for index in range(rows):
        late = late_resources and index >= rows - late_resources
        resource = f"late-{index}" if late else f"r-{rng.randrange(40)}"
        hour = rng.randrange(5 * 24)
        start: datetime | None = START + timedelta(hours=hour)
        length = timedelta(hours=1)
        roll = rng.random()
        if roll < 0.03:
            start = None
        elif roll < 0.08:
            start = START + timedelta(hours=hour, minutes=rng.choice([7, 30]))
        elif roll < 0.12:
            start = START + timedelta(days=hour // 24)
            length = timedelta(days=1)
        records.append(
            {
                "ResourceId": None if rng.random() < 0.05 else resource,
                "SubAccountId": rng.choice(["111", "222", None]),
                "BillingAccountId": "999",
                "ProviderName": "AWS",
                "ServiceName": rng.choice(["Amazon EC2", "Amazon S3"]),
                "ServiceCategory": "Compute",
                "ChargeCategory": rng.choice(["Usage", "Usage", "Tax"]),
                "PricingCategory": rng.choice(["Standard", "Committed"]),
                "ConsumedUnit": rng.choice(["Hours", "GB", None]),
                "PricingUnit": "Hours",
                "RegionId": "us-east-1",
                "ResourceName": f"name-{resource}",
                "ResourceType": None,
                "Tags": rng.choice(['{"env": "prod"}', '{"env": "dev"}', None]),
                "ChargeDescription": "usage",
                "CommitmentDiscountId": rng.choice([None, None, None, "ri-1", "sp-2"]),
                "CommitmentDiscountStatus": rng.choice(["Used", "Unused", None]),
                "CommitmentDiscountType": rng.choice(["Reserved", None]),
                "SkuId": rng.choice(["SKU1", "SKU2"]),
                "EffectiveCost": None if rng.random() < 0.1 else round(rng.uniform(0, 3), 4),
                "BilledCost": round(rng.uniform(0, 3), 4),
                "ConsumedQuantity": None if rng.random() < 0.2 else rng.uniform(0, 10),
                "PricingQuantity": rng.uniform(0, 10),
                "ChargePeriodStart": start,
                "ChargePeriodEnd": None if start is None else start + length,
            }
        )
    return schema.conform("billing", pl.DataFrame(records, infer_schema_length=None))


def expected_daily(items: pl.DataFrame) -> pl.DataFrame:
    """The rollup's figures computed the plain way: a group-by over every key string."""
    day = pl.col("ChargePeriodStart").dt.truncate("1d")
    return (
        items.group_by(*KEYS, day.alias("day"))
        .agg(
            pl.coalesce("EffectiveCost", "BilledCost").sum().alias("cost"),
            pl.col("EffectiveCost").sum().alias("effective_cost"),
            pl.col("BilledCost").sum().alias("billed_cost"),
            pl.coalesce("ConsumedQuantity", "PricingQuantity").sum().alias("quantity"),
            pl.len().cast(pl.Int64).alias("line_items"),
            pl.col("ChargePeriodStart").min().alias("first_start"),
            pl.col("ChargePeriodEnd").max().alias("last_end"),
            (pl.col("ChargePeriodEnd") - pl.col("ChargePeriodStart")).max().alias("period_length"),
        )
        .sort(*KEYS, "day", nulls_last=True)
    )


def comparable(daily: pl.DataFrame) -> pl.DataFrame:
    columns = [*KEYS, "day", "cost", "effective_cost", "billed_cost", "quantity"]
    columns += ["line_items", "first_start", "last_end", "period_length"]
    return daily.select(columns).sort(*KEYS, "day", nulls_last=True)


@pytest.mark.parametrize("streaming", [True, False])
def test_rollup_sums_equal_a_group_by_over_every_key(streaming: bool) -> None:
    items = line_items(3_000)
    rollup = billing_rollup.build(items.lazy(), streaming=streaming)

    got = comparable(rollup.daily)
    want = expected_daily(items)
    assert got.height == want.height
    for column in ("cost", "effective_cost", "billed_cost", "quantity"):
        assert got[column].to_list() == pytest.approx(want[column].to_list())
    assert got.drop("cost", "effective_cost", "billed_cost", "quantity").equals(
        want.drop("cost", "effective_cost", "billed_cost", "quantity")
    )
    assert rollup.daily.schema == pl.Schema(schema.BILLING_DAILY)
    # The spend block sums the line items themselves.
    assert rollup.spend["billed_cost"] == pytest.approx(items["BilledCost"].sum())


def test_pair_grouping_gives_the_same_rows_as_the_folded_key() -> None:
    # The fallback when two (tuple, day) cells share a 64-bit key must agree with the
    # fast path it replaces.
    items = line_items(2_000, seed=3).lazy().with_row_index("_row")
    folded = billing_rollup._day_sums(items, by_pair=False).collect()
    paired = billing_rollup._day_sums(items, by_pair=True).collect()
    assert (folded["group_key"] == folded["_group_key_max"]).all()
    columns = paired.columns
    assert (
        folded.select(columns)
        .sort("group_key", "day_index", nulls_last=True)
        .equals(paired.sort("group_key", "day_index", nulls_last=True))
    )


def test_commitment_table_sums_the_commitment_line_items() -> None:
    items = line_items(3_000, seed=13)
    rollup = billing_rollup.build(items.lazy())
    keys = ["CommitmentDiscountId", "CommitmentDiscountStatus"]
    want = (
        items.filter(pl.col("CommitmentDiscountId").is_not_null())
        .group_by(keys)
        .agg(
            pl.col("EffectiveCost").sum().alias("effective_cost"),
            pl.len().cast(pl.Int64).alias("line_items"),
            pl.col("ChargePeriodStart").min().alias("first_start"),
            pl.col("ChargePeriodEnd").max().alias("last_end"),
        )
        .sort(keys, nulls_last=True)
    )
    got = rollup.commitments.sort(keys, nulls_last=True)
    assert got.schema == pl.Schema(schema.BILLING_COMMITMENTS)
    assert got.select(want.columns).drop("effective_cost").equals(want.drop("effective_cost"))
    assert got["effective_cost"].to_list() == pytest.approx(want["effective_cost"].to_list())
    assert set(got["CommitmentDiscountType"].to_list()) == {"Reserved"}


@pytest.mark.parametrize(
    "keys", [["ResourceId"], ["ResourceId", "ConsumedUnit", "PricingUnit"], ["ServiceName"]]
)
def test_distinct_starts_equal_n_unique_over_the_line_items(keys: list[str]) -> None:
    items = line_items(3_000, seed=11)
    rollup = billing_rollup.build(items.lazy())
    usage = pl.col("ChargeCategory") == "Usage"

    got = (
        distinct_starts(
            rollup.daily.lazy().filter(usage), rollup.irregular_starts.lazy(), keys, "periods"
        )
        .collect()
        .sort(keys, nulls_last=True)
    )
    want = (
        items.filter(usage)
        .group_by(keys)
        .agg(pl.col("ChargePeriodStart").n_unique().cast(pl.Int64).alias("periods"))
        .sort(keys, nulls_last=True)
    )
    assert got.equals(want)
    assert rollup.irregular_starts.height > 0  # the data does hold off-the-hour starts


@pytest.mark.slow
def test_key_strings_of_tuples_first_seen_late_in_a_long_export_are_read() -> None:
    # 200,000 rows are more than one read range, so the names of tuples that first appear
    # at the end come from a second range.
    items = line_items(200_000, seed=5, late_resources=50)
    rollup = billing_rollup.build(items.lazy())
    late = rollup.daily.filter(pl.col("ResourceId").str.starts_with("late-"))
    want = items.filter(pl.col("ResourceId").str.starts_with("late-"))
    assert sorted(late["ResourceId"].unique().to_list()) == sorted(
        want["ResourceId"].unique().to_list()
    )
    assert late["ResourceName"].to_list() == ["name-" + r for r in late["ResourceId"]]
    ranges = billing_rollup._row_ranges(pl.Series([0, 5, 199_990], dtype=pl.UInt32), 200_000)
    assert ranges[0][0] == 0 and ranges[-1][0] + ranges[-1][1] >= 200_000
    assert len(ranges) == 2


def test_empty_billing_gives_an_empty_rollup() -> None:
    rollup = billing_rollup.build(schema.empty_lazy(schema.BILLING))
    assert rollup.daily.height == 0
    assert rollup.daily.schema == pl.Schema(schema.BILLING_DAILY)
    assert rollup.top_resources() == []
    assert rollup.spend["billed_cost"] == 0.0


def test_the_pipeline_builds_the_rollup_once_and_again_when_billing_changes() -> None:
    inv = Inventory(provider="focus", context=RunContext.at(START))
    inv.add_scan("billing", line_items(500).lazy())
    with pytest.raises(SchemaError, match="rollup has not been built"):
        inv.billing_rollup()
    billing_rollup.prepare(inv)
    first = inv.billing_rollup()
    billing_rollup.prepare(inv)
    assert inv.billing_rollup() is first
    assert inv.accounts == first.accounts() and inv.regions == first.regions()
    inv.add_scan("billing", line_items(100, seed=1).lazy())
    billing_rollup.prepare(inv)
    second = inv.billing_rollup()
    assert second is not first
    assert int(second.daily["line_items"].sum()) == 100


def test_an_inventory_without_billing_reads_an_empty_rollup() -> None:
    inv = Inventory(provider="aws", context=RunContext.at(START))
    rollup = inv.billing_rollup()
    assert rollup.daily.schema == pl.Schema(schema.BILLING_DAILY)
    assert rollup.daily.is_empty() and rollup.spend["billed_cost"] == 0.0


def test_earliest_takes_the_first_charge_with_a_value() -> None:
    items = line_items(1_000, seed=2)
    rollup = billing_rollup.build(items.lazy())
    got = rollup.daily.group_by("SubAccountId").agg(
        earliest("Tags", ignore_nulls=True).alias("tags")
    )
    tagged = items.filter(pl.col("Tags").is_not_null())
    for account, tags in got.iter_rows():
        rows = tagged.filter(pl.col("SubAccountId").eq_missing(account))
        first = rows["ChargePeriodStart"].min()
        # The tags of a line item at the account's earliest tagged charge.
        assert tags in rows.filter(pl.col("ChargePeriodStart") == first)["Tags"].to_list()


def test_earliest_breaks_a_tie_of_first_charges_in_file_order() -> None:
    # Two key tuples of one resource start in the same hour: the export's first line
    # item names the resource, whatever their fingerprints.
    for services in (["Amazon EC2", "AWS Data Transfer"], ["AWS Data Transfer", "Amazon EC2"]):
        items = schema.conform(
            "billing",
            pl.DataFrame(
                {
                    "ResourceId": ["i-1", "i-1"],
                    "ServiceName": services,
                    "BilledCost": [1.0, 2.0],
                    "ChargePeriodStart": [START, START],
                }
            ),
        )
        rollup = billing_rollup.build(items.lazy())
        picked = rollup.daily.group_by("ResourceId").agg(earliest("ServiceName"))
        assert picked["ServiceName"].to_list() == [services[0]]


def test_commitment_descriptions_are_the_first_non_null_in_file_order(tmp_path: Path) -> None:
    # Read in many row groups by the streaming engine: the first non-null type in the
    # file is the one kept, not whichever morsel a thread finished first.
    rows = 200_000
    types = [None] * 150_000 + ["first"] + ["later"] * (rows - 150_001)
    items = schema.conform(
        "billing",
        pl.DataFrame(
            {
                "CommitmentDiscountId": ["ri-1"] * rows,
                "CommitmentDiscountStatus": ["Used"] * rows,
                "CommitmentDiscountType": types,
                "EffectiveCost": [0.5] * rows,
                "ChargePeriodStart": [START] * rows,
            }
        ),
    )
    path = tmp_path / "commitments.parquet"
    items.write_parquet(path, row_group_size=10_000)
    rollup = billing_rollup.build(pl.scan_parquet(path), streaming=True)
    assert rollup.commitments["CommitmentDiscountType"].to_list() == ["first"]
    assert rollup.commitments["line_items"].to_list() == [rows]
