from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import Inventory, RunContext
from costscan.scanner.pipeline import billing_rollup
from costscan.scanner.pipeline.billed_prices import apply_billed_prices

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def billing_rows(resource_id: str, hours: int, hourly_cost: float) -> list[dict[str, object]]:
    start = NOW - timedelta(hours=hours)
    return [
        {
            "ResourceId": resource_id,
            "ChargeCategory": "Usage",
            "ChargePeriodStart": start + timedelta(hours=h),
            "ChargePeriodEnd": start + timedelta(hours=h + 1),
            "BilledCost": hourly_cost,
            "EffectiveCost": hourly_cost,
        }
        for h in range(hours)
    ]


def test_billed_cost_wins_over_list_price_by_id_or_arn_suffix() -> None:
    inv = Inventory(provider="aws", context=RunContext(now=NOW))
    inv.add(
        "compute",
        pl.DataFrame(
            {
                "provider": ["aws"] * 3,
                "account_id": ["1"] * 3,
                "region": ["us-east-1"] * 3,
                "resource_id": ["i-arn", "i-plain", "i-unbilled"],
                "instance_type": ["m5.large"] * 3,
                "hourly_price": [0.096] * 3,
                "price_source": ["bundled"] * 3,
                "state": ["running"] * 3,
            }
        ),
    )
    rows = billing_rows("arn:aws:ec2:us-east-1:1:instance/i-arn", 48, 0.062)
    rows += billing_rows("i-plain", 24, 0.05)
    inv.add_scan("billing", schema.conform("billing", pl.DataFrame(rows)).lazy())
    billing_rollup.prepare(inv)
    assert apply_billed_prices(inv) == 2
    prices = dict(
        zip(
            *inv.frame("compute").select("resource_id", "hourly_price").to_dict().values(),
            strict=True,
        )
    )
    sources = inv.frame("compute")["price_source"].to_list()
    assert prices["i-arn"] == pytest.approx(0.062)
    assert prices["i-plain"] == pytest.approx(0.05)
    assert prices["i-unbilled"] == 0.096
    assert sources == ["billing", "billing", "bundled"]


def test_no_billing_frame_changes_nothing() -> None:
    inv = Inventory(provider="aws", context=RunContext(now=NOW))
    assert apply_billed_prices(inv) == 0


def test_billed_hours_from_the_rollup_equal_distinct_clock_hours_of_the_line_items() -> None:
    from costscan.scanner.pipeline import billing_rollup
    from costscan.scanner.pipeline.billed_prices import billed_hourly_costs
    from tests.scanner.test_billing_rollup import line_items

    # Starts on and off the hour, daily charges and rows without a start, as exports hold.
    items = line_items(3_000, seed=17)
    got = billed_hourly_costs(billing_rollup.build(items.lazy())).collect()
    usage = items.filter(
        pl.col("ResourceId").is_not_null()
        & (pl.col("ChargeCategory").is_null() | (pl.col("ChargeCategory") == "Usage"))
    )
    want = usage.group_by("ResourceId").agg(
        (
            pl.col("EffectiveCost").fill_null(pl.col("BilledCost")).sum()
            / pl.col("ChargePeriodStart").dt.truncate("1h").n_unique()
        ).alias("billed_hourly")
    )
    expected = dict(want.iter_rows())
    measured = dict(got.filter(pl.col("resource_id").is_in(list(expected))).iter_rows())
    assert set(measured) == set(expected)
    for resource, hourly in expected.items():
        assert measured[resource] == pytest.approx(hourly)
