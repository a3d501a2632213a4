"""Compute Engine savings after sustained-use discounts (policies/_discounts.py): an N1 or
N2 instance that runs all month already bills at 70% or 80.02% of its list price, so a
change saves what it takes off that bill, not off the list.

The tier rates are Google's (https://cloud.google.com/compute/docs/sustained-use-discounts):
N1 100/80/60/40% and N2 100/86.78/73.3/60% of the list price for each quarter of the month.
Prices are the bundled us-central1 list rates; every figure is worked out here with
``decimal``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from costscan.policies._discounts import SUSTAINED_USE_FULL_MONTH, sustained_use_share
from costscan.providers.pricing.gcp import bundled_gcp_prices
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import Inventory, RunContext
from tests.policies.inventories import LOOKBACK_DAYS, NOW, cpu
from tests.policies.runner import run_policy
from tests.policies.test_gcp_commitments import N2_4, N2_8, REGION, by_name, money, vm


def inventory(machine: dict[str, Any], cpu_percent: float, *, env: str | None = None) -> Inventory:
    """One Compute Engine VM at a flat ``cpu_percent`` for the whole lookback."""
    inv = Inventory(provider="gcp", context=RunContext.at(NOW, lookback_days=LOOKBACK_DAYS))
    inv.add("compute", pl.DataFrame([machine], schema=dict(schema.COMPUTE)))
    inv.add("utilization", pl.concat(cpu(machine["resource_id"], cpu_percent, cpu_percent)))
    inv.add("prices", bundled_gcp_prices([REGION]))
    if env:
        tag = {"resource_id": machine["resource_id"], "key": "env", "value": env}
        inv.add("tags", pl.DataFrame([tag], schema=dict(schema.TAGS)))
    assert not inv.rejections
    return inv


N2_Q2 = Decimal("0.8678")
N2_FULL_MONTH = (Decimal(1) + Decimal("0.8678") + Decimal("0.733") + Decimal("0.60")) / 4


@pytest.mark.parametrize(
    ("series", "share", "billed"),
    [
        ("n1", 1.0, Decimal("0.70")),
        ("n2", 1.0, N2_FULL_MONTH),  # 0.80020
        ("n1", 0.5, Decimal("0.25") + Decimal("0.25") * Decimal("0.80")),  # 0.45
        # 60 of 168 hours: the first quarter at list, 0.10714 of the month at 86.78%.
        ("n2", 60 / 168, Decimal("0.25") + (Decimal(60) / 168 - Decimal("0.25")) * N2_Q2),
        ("e2", 0.7, Decimal("0.7")),  # no sustained-use discount: the share itself
        ("n2", 0.0, Decimal(0)),
    ],
)  # fmt: skip
def test_the_billed_share_integrates_the_tier_rates(
    series: str, share: float, billed: Decimal
) -> None:
    frame = pl.DataFrame({"series": [series], "share": [share]})
    result = frame.select(sustained_use_share(pl.col("series"), pl.col("share")))
    assert result.item() == pytest.approx(float(billed), abs=1e-9)


def test_full_month_rates_match_googles_headline_figures() -> None:
    assert SUSTAINED_USE_FULL_MONTH["n1"] == 0.30
    assert SUSTAINED_USE_FULL_MONTH["n2d"] == 0.20
    assert "e2" not in SUSTAINED_USE_FULL_MONTH


def test_stopping_an_idle_n2_saves_its_bill_after_the_sustained_use_discount() -> None:
    inv = inventory(vm("idle", "n2-standard-4"), 0.5)
    found = by_name(run_policy("rightsizing.idle", inv))
    idle = found["idle"]
    assert money(idle["monthly_savings_before_discounts"]) == money(N2_4)  # $141.79
    assert money(idle["monthly_savings"]) == money(N2_4 * N2_FULL_MONTH)  # $113.46
    assert "Sustained-use discounts already take 28.33" in idle["detail"]


def test_a_move_from_n2_to_e2_saves_the_discounted_bill_minus_the_undiscounted_one() -> None:
    inv = inventory(vm("api", "n2-standard-8"), 9.0)
    found = by_name(run_policy("rightsizing.overprovisioned", inv))
    api = found["api"]
    target = Decimal(str(json.loads(api["evidence"])["candidate"]["monthly_usd"]))
    assert target > 0
    assert money(api["monthly_savings_before_discounts"]) == money(N2_8 - target)
    # n2 bills at 80.02% all month; an E2 gets no sustained-use discount.
    assert money(api["monthly_savings"]) == money(N2_8 * N2_FULL_MONTH - target)


def test_a_dev_n2_stopped_out_of_hours_loses_its_deepest_discounted_hours_first() -> None:
    inv = inventory(vm("dev", "n2-standard-4"), 2.0, env="dev")
    found = by_name(run_policy("scheduling.offhours", inv))
    dev = found["dev"]
    # The default 60 of 168 hours on: list saving 108/168 of the month; on the bill, the
    # month at 80.02% minus 60/168 of it billed through the first tiers.
    weeks = Decimal(52) / 12
    list_saving = N2_4 / 730 * 108 * weeks
    on_share = Decimal(60) / 168
    kept = Decimal("0.25") + (on_share - Decimal("0.25")) * Decimal("0.8678")
    assert money(dev["monthly_savings_before_discounts"]) == money(list_saving)
    assert money(dev["monthly_savings"]) == money(min(list_saving, N2_4 * (N2_FULL_MONTH - kept)))


def test_a_price_read_from_the_bill_is_already_net_of_the_discount() -> None:
    billed_price = float(N2_4 / 730)
    inv = inventory(
        vm("idle", "n2-standard-4", hourly_price=billed_price, price_source="billing"), 0.5
    )
    found = by_name(run_policy("rightsizing.idle", inv))
    assert money(found["idle"]["monthly_savings"]) == money(N2_4)
