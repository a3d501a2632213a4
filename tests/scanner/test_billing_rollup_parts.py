"""The billing rollup built in parts equals the rollup built at once, to the cent.

Parts of a few hundred line items over data whose cells (key tuple and UTC day) each hold
several line items, so most cells are split across parts, and across files when the line
items are written to several Parquet files and read as one export.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from costscan.providers.exports.read import read_billing
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.billing import BillingRollup
from costscan.scanner.pipeline import billing_rollup

from .test_billing_rollup import line_items

MONEY = ["cost", "effective_cost", "billed_cost", "quantity"]
KEYS = list(schema.BILLING_ROLLUP_KEYS)


def ordered(daily: pl.DataFrame) -> pl.DataFrame:
    return daily.sort("charge_order")


def assert_same_rollup(got: BillingRollup, want: BillingRollup) -> None:
    """Every rollup frame equal; money within half a cent (a sum of part sums differs from
    one sum only in the last bits of a float), everything else exactly."""
    a, b = ordered(got.daily), ordered(want.daily)
    assert a.height == b.height
    assert a.drop(MONEY).equals(b.drop(MONEY))
    for column in MONEY:
        assert (a[column] - b[column]).abs().max() < 0.005
        assert a[column].sum() == pytest.approx(b[column].sum(), abs=0.005)
    assert got.irregular_starts.sort(pl.all()).equals(want.irregular_starts.sort(pl.all()))
    assert got.commitments.drop("effective_cost").equals(want.commitments.drop("effective_cost"))
    assert got.commitments["effective_cost"].to_list() == pytest.approx(
        want.commitments["effective_cost"].to_list(), abs=0.005
    )
    # The spend is one sum over the line items either way, but over several files the
    # engine adds them in another order: equal to the cent, not to the last bit.
    assert_same_money(got.spend, want.spend)
    assert got.spend_by_currency.keys() == want.spend_by_currency.keys()
    for code, figures in got.spend_by_currency.items():
        assert_same_money(figures, want.spend_by_currency[code])


def assert_same_money(got: dict[str, object], want: dict[str, object]) -> None:
    money = {"billed_cost", "effective_cost"}
    assert {k: v for k, v in got.items() if k not in money} == {
        k: v for k, v in want.items() if k not in money
    }
    for key in money:
        assert got[key] == pytest.approx(want[key], abs=0.005)


def split_cells(items: pl.DataFrame, bounds: list[int]) -> int:
    """How many (resource, day) cells have line items on both sides of some bound."""
    day = pl.col("ChargePeriodStart").dt.truncate("1d")
    part = pl.sum_horizontal([(pl.col("_n") >= b).cast(pl.Int32) for b in bounds])
    numbered = items.with_row_index("_n").with_columns(part.alias("_part"))
    per_cell = numbered.group_by("ResourceId", day.alias("day")).agg(pl.col("_part").n_unique())
    return int((per_cell["_part"] > 1).sum())


@pytest.mark.parametrize("streaming", [True, False])
def test_rollup_in_parts_equals_the_rollup_at_once(streaming: bool) -> None:
    items = line_items(3_000, seed=21)
    assert split_cells(items, [700 * k for k in range(1, 5)]) > 100
    at_once = billing_rollup.build(items.lazy(), streaming=streaming, part_rows=10**9)
    in_parts = billing_rollup.build(items.lazy(), streaming=streaming, part_rows=700)
    assert_same_rollup(in_parts, at_once)
    assert int(in_parts.daily["line_items"].sum()) == items.height


def test_parts_of_one_row_still_add_up() -> None:
    items = line_items(300, seed=4)
    assert_same_rollup(
        billing_rollup.build(items.lazy(), part_rows=1),
        billing_rollup.build(items.lazy(), part_rows=10**9),
    )


def test_pair_grouping_in_parts_equals_the_folded_key_in_parts() -> None:
    # The fallback for a fingerprint collision folds its parts the same way.
    items = line_items(2_000, seed=8).lazy()
    options = {"part_rows": 450, "engine": "streaming", "optimizations": pl.QueryOptFlags()}
    folded = billing_rollup._day_sums_in_parts([items], by_pair=False, **options)
    paired = billing_rollup._day_sums_in_parts([items], by_pair=True, **options)
    columns = paired.columns
    by = ["group_key", "day_index"]
    a = folded.select(columns).sort(by, nulls_last=True)
    b = paired.sort(by, nulls_last=True)
    assert a.drop(MONEY).equals(b.drop(MONEY))
    for column in MONEY:
        assert (a[column] - b[column]).abs().max() < 1e-9


def test_files_read_as_one_export_give_the_rollup_of_their_rows(tmp_path: Path) -> None:
    # Three files of uneven length, parts that end inside a file and cells whose line items
    # sit in two files: the row numbers run on across files, so the first line item of
    # every key tuple (its names, its charge order) is the one of the whole export.
    items = line_items(3_000, seed=33)
    bounds = [1_100, 2_300]
    assert split_cells(items, bounds) > 100
    whole = tmp_path / "whole.parquet"
    items.write_parquet(whole)
    paths = []
    for n, (start, end) in enumerate(zip([0, *bounds], [*bounds, items.height], strict=True)):
        path = tmp_path / f"part-{n}.parquet"
        items.slice(start, end - start).write_parquet(path, row_group_size=256)
        paths.append(str(path))
    source = read_billing(paths)
    pieces = billing_rollup._pieces(source)
    assert pieces is not None and len(pieces) == 3

    # The reader fills what the files leave out (a null BillingCurrency is USD), so the
    # rollup at once is of the same rows in one file, read the same way.
    want = billing_rollup.build(read_billing([str(whole)]).scan, part_rows=10**9)
    for part_rows in (500, 1_100, 10**9):
        got = billing_rollup.build(source.scan, pieces=pieces, part_rows=part_rows)
        assert_same_rollup(got, want)
    # rollup_of slices the files one by one too
    assert_same_rollup(billing_rollup.rollup_of(source), want)


def test_rates_convert_each_part(tmp_path: Path) -> None:
    items = line_items(1_200, seed=9).with_columns(
        pl.when(pl.col("SubAccountId") == "111")
        .then(pl.lit("CAD"))
        .otherwise(pl.lit("USD"))
        .alias("BillingCurrency")
    )
    rates = {"CAD": 0.73}
    path_a, path_b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    items.head(500).write_parquet(path_a)
    items.tail(700).write_parquet(path_b)
    source = read_billing([str(path_a), str(path_b)])
    got = billing_rollup.build(
        source.scan, pieces=billing_rollup._pieces(source), part_rows=300, rates=rates
    )
    whole = tmp_path / "whole.parquet"
    items.write_parquet(whole)
    want = billing_rollup.build(read_billing([str(whole)]).scan, rates=rates, part_rows=10**9)
    assert_same_rollup(got, want)
    assert set(got.daily["BillingCurrency"].to_list()) == {"USD"}


def test_a_range_of_rows_is_read_from_each_file_it_covers() -> None:
    heights = [1_100, 1_200, 700]
    assert billing_rollup._in_pieces(heights, 0, 65_536) == [
        (0, 0, 1_100, 0),
        (1, 0, 1_200, 1_100),
        (2, 0, 700, 2_300),
    ]
    assert billing_rollup._in_pieces(heights, 1_000, 200) == [
        (0, 1_000, 100, 1_000),
        (1, 0, 100, 1_100),
    ]
    assert billing_rollup._in_pieces(heights, 2_400, 100) == [(2, 100, 100, 2_400)]
    assert billing_rollup._in_pieces(heights, 3_000, 10) == []
