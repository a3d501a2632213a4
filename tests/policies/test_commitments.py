"""Commitment policies (savings plan / RI estimate, spot) on hand-built inventories."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.policies.inventories import (
    NOW,
    REGION,
    cpu,
    instance,
    inventory,
    only,
    price,
    run,
)

CENT = 0.005
DEFAULT_DISCOUNT = 0.28
TYPICAL_SPOT_DISCOUNT = 0.6


def spot_price(
    instance_type: str, hourly: float, zone: str = "us-east-1a", hours_ago: int = 1
) -> dict[str, Any]:
    return {
        "provider": "aws",
        "region": REGION,
        "availability_zone": zone,
        "instance_type": instance_type,
        "hourly_price": hourly,
        "ts": NOW - timedelta(hours=hours_ago),
    }


# --------------------------------------------------------------------------- savings plan / RI


def test_steady_on_demand_instance_gets_a_one_year_commitment_estimate() -> None:
    inv = inventory([instance("i-db", "r5.xlarge")], cpu("i-db", 35))
    finding = only(run("commitments.compute-commitment", inv), "i-db")

    assert finding["monthly_savings"] == pytest.approx(
        price("r5.xlarge") * 730 * DEFAULT_DISCOUNT, abs=CENT
    )
    assert finding["current_monthly_cost"] == pytest.approx(0.252 * 730, abs=CENT)
    assert finding["action"] == "commit"
    assert finding["risk"] == "medium"
    commitment = finding["evidence"]["commitment"]
    assert commitment["break_even_utilization"] == pytest.approx(1 - DEFAULT_DISCOUNT)
    assert commitment["effective_hourly_usd"] == pytest.approx(0.252 * (1 - DEFAULT_DISCOUNT))
    assert commitment["term"] == "1 year, no upfront"


def test_commitment_discount_is_a_parameter() -> None:
    inv = inventory([instance("i-db", "r5.xlarge")], cpu("i-db", 35))
    finding = only(run("commitments.compute-commitment", inv, discount=0.37), "i-db")
    assert finding["monthly_savings"] == pytest.approx(0.252 * 730 * 0.37, abs=CENT)
    assert finding["evidence"]["commitment"]["break_even_utilization"] == pytest.approx(0.63)


def test_commitment_skips_new_spot_grouped_and_intermittent_instances() -> None:
    inv = inventory(
        [
            instance("i-new", "m5.large", launch_time=NOW - timedelta(days=3)),
            instance("i-spot", "m5.large", lifecycle="spot"),
            instance("i-asg", "m5.large", group="web-asg"),
            instance("i-part", "m5.large"),
            instance("i-stopped", "m5.large", state="stopped"),
        ],
        [
            *cpu("i-new", 20, hours=72),
            *cpu("i-spot", 20),
            *cpu("i-asg", 20),
            *cpu("i-part", 20, hours=200),
            *cpu("i-stopped", 20),
        ],
    )
    assert run("commitments.compute-commitment", inv).is_empty()


def test_commitment_can_include_group_members() -> None:
    inv = inventory([instance("i-asg", "m5.large", group="web-asg")], cpu("i-asg", 20))
    found = run("commitments.compute-commitment", inv, include_group_members=True)
    assert found["resource_id"].to_list() == ["i-asg"]


# --------------------------------------------------------------------------- spot


def test_asg_member_priced_from_the_latest_cheapest_zone() -> None:
    # us-east-1a: 0.020 three days ago, 0.035 now; us-east-1b: 0.040 now -> 0.035.
    inv = inventory(
        [instance("i-web", "m5.large", group="web-asg")],
        spot_prices=[
            spot_price("m5.large", 0.020, "us-east-1a", hours_ago=72),
            spot_price("m5.large", 0.035, "us-east-1a", hours_ago=3),
            spot_price("m5.large", 0.040, "us-east-1b", hours_ago=2),
        ],
    )
    finding = only(run("commitments.spot", inv), "i-web")
    assert finding["monthly_savings"] == pytest.approx((0.096 - 0.035) * 730, abs=CENT)
    assert finding["current_monthly_cost"] == pytest.approx(0.096 * 730, abs=CENT)
    assert finding["risk"] == "high"
    assert finding["action"] == "commit"
    assert finding["confidence"] == pytest.approx(0.6)
    spot = finding["evidence"]["spot"]
    assert spot["availability_zone"] == "us-east-1a"
    assert spot["basis"] == "observed"


def test_unbelievable_spot_price_falls_back_to_the_typical_discount() -> None:
    # moto answers 0.00001 $/h for everything: under a tenth of on-demand, not believed.
    inv = inventory(
        [instance("i-web", "c5.large", group="web-asg")],
        spot_prices=[spot_price("c5.large", 0.00001)],
    )
    finding = only(run("commitments.spot", inv), "i-web")
    assert finding["monthly_savings"] == pytest.approx(
        price("c5.large") * 730 * TYPICAL_SPOT_DISCOUNT, abs=CENT
    )
    assert finding["confidence"] == pytest.approx(0.4)
    assert finding["evidence"]["spot"]["believed"] is False
    assert finding["evidence"]["spot"]["basis"] == "typical_discount"


def test_missing_spot_price_falls_back_and_a_stateless_tag_raises_confidence() -> None:
    inv = inventory(
        [instance("i-worker", "m5.xlarge", group="workers")],
        tags=[("i-worker", "Stateless", "True")],
    )
    finding = only(run("commitments.spot", inv), "i-worker")
    assert finding["monthly_savings"] == pytest.approx(
        0.192 * 730 * TYPICAL_SPOT_DISCOUNT, abs=CENT
    )
    assert finding["confidence"] == pytest.approx(0.5)


def test_spot_skips_standalone_already_spot_and_pricier_spot() -> None:
    inv = inventory(
        [
            instance("i-alone", "m5.large"),
            instance("i-spot", "m5.large", group="web-asg", lifecycle="spot"),
            instance("i-dear", "c5.large", group="web-asg"),
        ],
        spot_prices=[spot_price("m5.large", 0.03), spot_price("c5.large", 0.09)],
    )
    assert run("commitments.spot", inv).is_empty()
