"""scheduling.offhours on small hand-built inventories, savings checked to the cent."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest

from tests.policies.inventories import (
    cpu,
    instance,
    inventory,
    office_hours,
    only,
    price,
    run,
)

CENT = 0.005
WEEKS_PER_MONTH = 52 / 12


def test_office_hours_dev_box_gets_its_derived_window() -> None:
    # Busy 40% on weekdays 09:00-17:00 UTC, 2% otherwise: busy line max(2 × 2%, 10%) = 10%.
    # With a one-hour buffer each side it runs Mon-Fri 08:00-18:00: 50 h on, 118 h off.
    inv = inventory(
        [instance("i-dev", "m5.xlarge")],
        cpu("i-dev", office_hours(40, 2, 9, 17)),
        tags=[("i-dev", "Environment", "Dev")],
    )
    finding = only(run("scheduling.offhours", inv), "i-dev")

    hours_off = 168 - 5 * (17 - 9 + 2)
    assert hours_off == 118
    expected = price("m5.xlarge") * hours_off * 52 / 12
    assert finding["monthly_savings"] == pytest.approx(expected, abs=CENT)
    assert finding["current_monthly_cost"] == pytest.approx(0.192 * 730, abs=CENT)
    assert finding["action"] == "schedule"
    assert finding["confidence"] == pytest.approx(0.8)
    window = finding["evidence"]["window"]
    assert window["derived_from_data"] is True
    assert window["busy"] == "Mon-Fri 09:00-17:00 UTC"
    assert window["schedule"] == "Mon-Fri 08:00-18:00 UTC"
    assert finding["evidence"]["hours_off_per_week"] == 118
    assert finding["evidence"]["nonprod_tag"] == {"key": "Environment", "value": "Dev"}


def test_flat_nonprod_instance_gets_the_12_by_5_default() -> None:
    inv = inventory(
        [instance("i-test", "m5.large")],
        cpu("i-test", 3),
        tags=[("i-test", "env", "TEST")],
    )
    finding = only(run("scheduling.offhours", inv), "i-test")
    expected = price("m5.large") * (168 - 12 * 5) * WEEKS_PER_MONTH
    assert finding["monthly_savings"] == pytest.approx(expected, abs=CENT)
    assert finding["confidence"] == pytest.approx(0.6)
    assert finding["evidence"]["window"]["derived_from_data"] is False
    assert finding["evidence"]["hours_on_per_week"] == 60


def test_weekend_day_with_its_own_window_is_described_separately() -> None:
    weekday = office_hours(50, 1, 8, 18)
    inv = inventory(
        [instance("i-qa", "c5.large")],
        cpu("i-qa", _with_saturday(weekday)),
        tags=[("i-qa", "environment", "qa")],
    )
    finding = only(run("scheduling.offhours", inv), "i-qa")
    # Mon-Fri 07:00-19:00 (12 h × 5) plus Sat 09:00-13:00 (4 h): 64 on, 104 off.
    assert finding["evidence"]["window"]["schedule"] == (
        "Mon-Fri 07:00-19:00 UTC; Sat 09:00-13:00 UTC"
    )
    expected = price("c5.large") * (168 - 64) * WEEKS_PER_MONTH
    assert finding["monthly_savings"] == pytest.approx(expected, abs=CENT)


def _with_saturday(weekday: pl.Expr) -> pl.Expr:
    """``weekday``, plus 30% CPU on Saturdays from 10:00 to 12:00 UTC."""
    saturday = (pl.col("weekday") == 6) & pl.col("hour").is_between(10, 11)
    return pl.when(saturday).then(pl.lit(30.0)).otherwise(weekday)


def test_production_instance_is_not_scheduled() -> None:
    inv = inventory(
        [instance("i-prod", "m5.xlarge")],
        cpu("i-prod", office_hours(40, 2, 9, 17)),
        tags=[("i-prod", "Environment", "production")],
    )
    assert run("scheduling.offhours", inv).is_empty()


@pytest.mark.parametrize("key", ["Schedule", "schedule", "maid_offhours", "MAID_OFFHOURS"])
def test_already_scheduled_instance_is_skipped(key: str) -> None:
    inv = inventory(
        [instance("i-dev", "m5.xlarge")],
        cpu("i-dev", 3),
        tags=[("i-dev", "env", "dev"), ("i-dev", key, "office-hours")],
    )
    assert run("scheduling.offhours", inv).is_empty()


def test_instance_that_does_not_run_around_the_clock_is_skipped() -> None:
    # Only the last 100 of 336 hours have data: it was stopped most of the lookback.
    inv = inventory(
        [instance("i-part", "m5.xlarge")],
        cpu("i-part", 3, hours=100),
        tags=[("i-part", "env", "dev")],
    )
    assert run("scheduling.offhours", inv).is_empty()


def test_nonprod_instance_busy_all_week_is_not_flagged() -> None:
    # Busy every hour but 02:00-04:00. Its median (60%) is above the 10% floor, so the
    # floor alone is the busy line, and each day's window spans 00:00-24:00: nothing off.
    busy = pl.when(pl.col("hour").is_between(2, 3)).then(pl.lit(1.0)).otherwise(pl.lit(60.0))
    inv = inventory(
        [instance("i-ci", "m5.xlarge")],
        cpu("i-ci", busy),
        tags=[("i-ci", "env", "dev")],
    )
    assert run("scheduling.offhours", inv).is_empty()


def test_nonprod_tags_come_from_the_run_context() -> None:
    inv = inventory(
        [instance("i-x", "m5.large")],
        cpu("i-x", 3),
        tags=[("i-x", "Stage", "Sandbox")],
    )
    assert run("scheduling.offhours", inv).is_empty()
    inv.context = replace(inv.context, nonprod_tags={"stage": ("sandbox",)})
    assert len(run("scheduling.offhours", inv)) == 1


def test_scheduling_an_asg_member_points_at_the_group() -> None:
    inv = inventory(
        [instance("i-web", "m5.large", group="dev-web")],
        cpu("i-web", 3),
        tags=[("i-web", "env", "dev")],
    )
    finding = only(run("scheduling.offhours", inv), "i-web")
    assert finding["recommendation"].startswith("Give Auto Scaling group dev-web")
    expected = price("m5.large") * 108 * WEEKS_PER_MONTH
    assert finding["monthly_savings"] == pytest.approx(expected, abs=CENT)
