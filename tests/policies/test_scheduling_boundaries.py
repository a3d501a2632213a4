"""scheduling.offhours at each threshold of its window rule, worked by hand (issue 21).

The lookback is 14 days of hourly CPU ending Monday 2024-06-17 00:00 UTC
(tests/policies/inventories.py). The busy line is max(2 × median CPU, 10%), or 10% alone
when the median is at or above it; an hour is busy strictly above the line; each busy day
runs from an hour before its first busy hour to an hour after its last, within 00:00-24:00.
Written against the mutants that survived tests/policies/test_scheduling.py
(``python benchmarks/mutation.py policies/scheduling.py``).
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from tests.policies.inventories import cpu, instance, inventory, office_hours, only, price, run

CENT = 0.005
WEEKS_PER_MONTH = 52 / 12


def dev_box(load: pl.Expr | float, *, hours: int | None = None, **params: Any) -> pl.DataFrame:
    kw = {} if hours is None else {"hours": hours}
    inv = inventory(
        [instance("i-dev", "m5.large")],
        cpu("i-dev", load, **kw),
        tags=[("i-dev", "env", "dev")],
    )
    return run("scheduling.offhours", inv, **params)


def window(found: pl.DataFrame) -> dict[str, Any]:
    return dict(only(found, "i-dev")["evidence"]["window"])


@pytest.mark.parametrize(
    ("quiet", "busy", "line", "derived"),
    [
        # Median 2%: line max(4, 10) = 10. 10.5% is busy; exactly 10% is not (strictly above).
        (2.0, 10.5, 10.0, True),
        (2.0, 10.0, 10.0, False),
        # Median 6%: line max(12, 10) = 12. 13% is busy, 11% is not.
        (6.0, 13.0, 12.0, True),
        (6.0, 11.0, 12.0, False),
        # Median exactly 10% (the floor): the floor alone, 10; 15% is busy (2 × 10 = 20
        # would have hidden it).
        (10.0, 15.0, 10.0, True),
    ],
)
def test_the_busy_line(quiet: float, busy: float, line: float, derived: bool) -> None:
    # Busy weekdays 09:00-17:00 (40 of 168 hours: the median is the quiet level).
    found = dev_box(office_hours(busy, quiet, 9, 17))
    shape = window(found)
    assert shape["derived_from_data"] is derived
    assert shape["busy_line_percent"] == pytest.approx(line)
    if derived:
        assert shape["schedule"] == "Mon-Fri 08:00-18:00 UTC"
        # 50 on, 118 off.
        expected = price("m5.large") * 118 * WEEKS_PER_MONTH
        assert only(found, "i-dev")["confidence"] == pytest.approx(0.8)
    else:
        # No busy hour: the 12 × 5 default, 108 off, at the lower confidence.
        expected = price("m5.large") * 108 * WEEKS_PER_MONTH
        assert only(found, "i-dev")["confidence"] == pytest.approx(0.6)
    assert only(found, "i-dev")["monthly_savings"] == pytest.approx(expected, abs=CENT)


def test_the_buffer_stops_at_midnight_at_both_ends() -> None:
    # Busy weekdays 00:00-08:00 and weekends 16:00-24:00: on 00:00-09:00 (not from 23:00
    # the day before) and 15:00-24:00 (not to 01:00): 5 × 9 + 2 × 9 = 63 on, 105 off.
    load = (
        pl.when((pl.col("weekday") <= 5) & (pl.col("hour") < 8))
        .then(pl.lit(50.0))
        .when((pl.col("weekday") >= 6) & (pl.col("hour") >= 16))
        .then(pl.lit(50.0))
        .otherwise(pl.lit(1.0))
    )
    found = only(dev_box(load), "i-dev")
    assert found["evidence"]["window"]["schedule"] == (
        "Mon-Fri 00:00-09:00 UTC; Sat-Sun 15:00-24:00 UTC"
    )
    assert found["evidence"]["hours_on_per_week"] == 63
    assert found["evidence"]["hours_off_per_week"] == 105
    expected = price("m5.large") * 105 * WEEKS_PER_MONTH
    assert found["monthly_savings"] == pytest.approx(expected, abs=CENT)


def test_days_that_do_not_follow_each_other_are_listed() -> None:
    # Busy Mon, Wed and Fri 09:00-17:00, and Sunday alone 12:00-13:00.
    load = (
        pl.when(pl.col("weekday").is_in([1, 3, 5]) & pl.col("hour").is_between(9, 16))
        .then(pl.lit(40.0))
        .when((pl.col("weekday") == 7) & (pl.col("hour") == 12))
        .then(pl.lit(40.0))
        .otherwise(pl.lit(1.0))
    )
    shape = window(dev_box(load))
    assert shape["busy"] == "Mon,Wed,Fri 09:00-17:00 UTC; Sun 12:00-13:00 UTC"
    assert shape["schedule"] == "Mon,Wed,Fri 08:00-18:00 UTC; Sun 11:00-14:00 UTC"


def test_twenty_four_hours_off_a_week_is_enough_to_flag() -> None:
    # Busy around the clock Monday to Saturday, idle on Sunday: 144 on, exactly 24 off.
    load = pl.when(pl.col("weekday") <= 6).then(pl.lit(60.0)).otherwise(pl.lit(1.0))
    found = dev_box(load)
    assert only(found, "i-dev")["evidence"]["hours_off_per_week"] == 24
    assert only(found, "i-dev")["monthly_savings"] == pytest.approx(
        price("m5.large") * 24 * WEEKS_PER_MONTH, abs=CENT
    )
    assert dev_box(load, min_off_hours_per_week=25).is_empty()


def test_coverage_exactly_at_the_minimum_is_enough() -> None:
    # Data in 168 of the 336 hours: a share of 0.5, flagged at a minimum of 0.5 and not
    # above it.
    assert len(dev_box(3.0, hours=168, min_coverage=0.5)) == 1
    assert dev_box(3.0, hours=168, min_coverage=0.51).is_empty()


def test_the_default_week_follows_its_parameters() -> None:
    # 10 h a day × 4 days = 40 on, 128 off.
    found = only(dev_box(3.0, default_hours_per_day=10, default_days_per_week=4), "i-dev")
    assert found["evidence"]["hours_on_per_week"] == 40
    assert found["monthly_savings"] == pytest.approx(
        price("m5.large") * 128 * WEEKS_PER_MONTH, abs=CENT
    )


def test_an_empty_group_name_is_a_standalone_instance() -> None:
    inv = inventory(
        [instance("i-dev", "m5.large", group="")],
        cpu("i-dev", 3.0),
        tags=[("i-dev", "env", "dev")],
    )
    found = only(run("scheduling.offhours", inv), "i-dev")
    assert found["recommendation"].startswith("Run i-dev only 12 h a day, 5 days a week")
    assert "(60 h on, 108 h off a week)" in found["recommendation"]


def test_the_saving_before_discounts_is_priced_at_list() -> None:
    # On demand, no commitment: before discounts = list price × 108 h × 52 / 12, the same
    # as after.
    found = only(dev_box(3.0), "i-dev")
    expected = price("m5.large") * 108 * WEEKS_PER_MONTH
    assert found["monthly_savings_before_discounts"] == pytest.approx(expected, abs=CENT)
