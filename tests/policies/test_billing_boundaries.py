"""The billing policies' shared blocks (policies/_billing.py), counted by hand (issue 21).

``distinct_starts`` counts the distinct ChargePeriodStart values per key as ``n_unique``
over the line items would: the starts on the hour from the rollup's hour masks, plus the
irregular ones (not on the hour) from its side table. The hours billed that
``commitments.on-demand-billing`` divides by a period (FOCUS ChargePeriodStart,
https://focus.finops.org/focus-specification/) come from it. Written against the mutants
that survived tests/policies/test_billing_idle.py
(``python benchmarks/mutation.py policies/_billing.py``).
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from costscan.policies._billing import commitments, daily, distinct_starts, irregular_starts
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.pipeline import billing_rollup
from tests.policies.commitment_inventories import billing_inventory, hourly_usage
from tests.policies.inventories import NOW

START = NOW - timedelta(days=3)


def _starts(frames: list[pl.DataFrame], keys: list[str]) -> dict[str | None, int]:
    inv = billing_inventory(frames)
    billing_rollup.prepare(inv)
    view = InventoryView(inv, ("billing",), "test")
    counted = distinct_starts(daily(view), irregular_starts(view), keys, "_n").collect()
    return {row[keys[0]]: row["_n"] for row in counted.to_dicts()}


def _shifted(frame: pl.DataFrame, minutes: int) -> pl.DataFrame:
    """The same line items, starting ``minutes`` past the hour."""
    return frame.with_columns(
        pl.col("ChargePeriodStart") + timedelta(minutes=minutes),
        pl.col("ChargePeriodEnd") + timedelta(minutes=minutes),
    )


def test_starts_on_the_hour_and_off_it_add_up() -> None:
    # r-hourly: 5 starts on the hour. r-mixed: 3 on the hour + 2 at half past = 5.
    # r-odd: 2 at half past only = 2. A null ResourceId is a key like any other: 3 + 2.
    frames = [
        hourly_usage("r-hourly", 0.1, hours=5, start=START),
        hourly_usage("r-mixed", 0.1, hours=3, start=START),
        _shifted(hourly_usage("r-mixed", 0.1, hours=2, start=START + timedelta(hours=10)), 30),
        _shifted(hourly_usage("r-odd", 0.1, hours=2, start=START), 30),
        hourly_usage("null", 0.1, hours=3, start=START).with_columns(
            pl.lit(None, dtype=pl.String).alias("ResourceId")
        ),
        _shifted(hourly_usage("null", 0.1, hours=2, start=START), 30).with_columns(
            pl.lit(None, dtype=pl.String).alias("ResourceId")
        ),
    ]
    assert _starts(frames, ["ResourceId"]) == {
        "r-hourly": 5,
        "r-mixed": 5,
        "r-odd": 2,
        None: 5,
    }


def test_the_same_start_twice_counts_once() -> None:
    # Two line items for each of 4 hours (two usage types): 4 starts, not 8; the same for
    # an irregular start repeated.
    hours = hourly_usage("r-twice", 0.1, hours=4, start=START)
    odd = _shifted(hourly_usage("r-twice", 0.1, hours=1, start=START + timedelta(hours=8)), 15)
    frames = [hours, hours.with_columns(pl.lit("Storage").alias("ServiceCategory")), odd, odd]
    assert _starts(frames, ["ResourceId"]) == {"r-twice": 5}


def test_the_rollup_tables_are_what_the_policies_read() -> None:
    inv = billing_inventory(
        [hourly_usage("r-1", 0.1, hours=2, start=START, status="Used", commitment="c-1")]
    )
    billing_rollup.prepare(inv)
    view = InventoryView(inv, ("billing",), "test")
    assert daily(view).collect().height == 1
    assert commitments(view).collect()["CommitmentDiscountId"].to_list() == ["c-1"]
    assert irregular_starts(view).collect().height == 0
