"""Commitment policies (savings plan / RI estimate, spot) on hand-built inventories."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
import pytest

from costscan.scanner.contracts.inventory import Inventory
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


# --------------------------------------------------------------------------- commitments held

from tests.policies.commitment_inventories import (  # noqa: E402
    billing_inventory,
    coverage,
    hourly_usage,
    measured,
    reservation,
    savings_plan,
    with_commitments,
)

RI_ARN = "arn:aws:ec2:us-east-1:123456789012:reserved-instances/ri-web"
# Four m5.xlarge reserved at 0.12 $/h each (upfront amortized plus recurring).
RI_MONTHLY = 0.12 * 4 * 730


def _ri_web(**ce: Any) -> list[dict[str, Any]]:
    return [
        reservation(
            "ri-web",
            instance_type="m5.xlarge",
            family="m5",
            instance_count=4.0,
            monthly_commitment=RI_MONTHLY,
        ),
        measured("ri-web", monthly_commitment=RI_MONTHLY * 0.98, **ce),
    ]


def test_half_used_reservation_wastes_its_unused_half_and_a_sale_may_recover_it() -> None:
    inv = with_commitments(inventory(), _ri_web(utilization=0.5))
    waste = only(run("commitments.underused", inv), "ri-web")
    # The description's commitment wins over Cost Explorer's amortized figure.
    assert waste["current_monthly_cost"] == pytest.approx(RI_MONTHLY, abs=CENT)
    assert waste["category"] == "waste"
    assert waste["monthly_savings"] == pytest.approx(RI_MONTHLY * 0.5, abs=CENT)
    assert waste["evidence"]["utilization"] == pytest.approx(0.5)
    assert waste["evidence"]["commitment"]["instance_count"] == 4
    # A standard reservation can be sold: its recurring fees pass to the buyer. A sale
    # needs a buyer, so the recovery is a possible saving (confidence 0.4 < 0.5).
    sale = only(run("commitments.recover-unused", inv), "ri-web")
    assert sale["category"] == "savings" and sale["confidence"] == pytest.approx(0.4)
    assert sale["monthly_savings"] == pytest.approx(RI_MONTHLY * 0.5, abs=CENT)
    assert "Marketplace" in sale["recommendation"] and "12%" in sale["recommendation"]


def test_under_used_savings_plan_is_right_sized_at_renewal() -> None:
    inv = with_commitments(
        inventory(),
        [
            savings_plan("sp-1", monthly_commitment=1.5 * 730),
            measured("sp-1", kind="savings_plan", utilization=0.6, region="global"),
        ],
    )
    finding = only(run("commitments.underused", inv), "sp-1")
    # A savings plan can be neither sold nor exchanged: all of its unused part is waste.
    assert finding["category"] == "waste"
    assert finding["monthly_savings"] == pytest.approx(1.5 * 730 * 0.4, abs=CENT)
    assert "commit less when it renews" in finding["recommendation"]
    assert run("commitments.recover-unused", inv).is_empty()


def test_well_used_expired_unmeasured_or_billed_commitments_are_left_alone() -> None:
    rows = [
        *_ri_web(utilization=0.85),
        reservation("ri-gone", monthly_commitment=100.0, expires=NOW - timedelta(days=1)),
        measured("ri-gone", utilization=0.1),
        reservation("ri-unmeasured", monthly_commitment=100.0),
        reservation("ri-billed", monthly_commitment=100.0),
        measured("ri-billed", utilization=0.2),
    ]
    inv = with_commitments(inventory(), rows)
    assert run("commitments.underused", inv)["resource_id"].to_list() == ["ri-billed"]
    # A higher threshold is a parameter.
    assert run("commitments.underused", inv, min_utilization=0.9)["resource_id"].to_list() == [
        "ri-billed",
        "ri-web",
    ]
    # Once the billing data prices ri-billed, the billing policy owns it.
    arn = RI_ARN.replace("ri-web", "ri-billed")
    billed = hourly_usage(arn, 0.1, hours=24, status="Unused", pricing="Committed", commitment=arn)
    inv.add_scan("billing", billing_inventory([billed]).lazy("billing"))
    assert run("commitments.underused", inv).is_empty()


def test_expiring_reservation_saves_the_on_demand_premium_measured() -> None:
    expires = NOW + timedelta(days=10)
    rows = _ri_web(utilization=0.9, on_demand_equivalent=500.0)
    rows[0]["expires"] = expires
    inv = with_commitments(inventory(), rows)
    finding = only(run("commitments.expiring", inv), "ri-web")
    assert finding["monthly_savings"] == pytest.approx(500.0 - RI_MONTHLY * 0.9, abs=CENT)
    assert finding["confidence"] == pytest.approx(0.8)
    assert finding["evidence"]["expires"] == "2024-06-27T00:00:00Z"
    assert finding["evidence"]["days_left"] == pytest.approx(10.0)
    assert finding["evidence"]["basis"] == "cost_explorer"


def test_expiring_reservation_without_cost_explorer_uses_list_prices() -> None:
    inv = with_commitments(
        inventory(),
        [
            reservation(
                "ri-db",
                instance_type="r5.xlarge",
                family="r5",
                instance_count=2.0,
                monthly_commitment=250.0,
                expires=NOW + timedelta(days=20),
            )
        ],
    )
    finding = only(run("commitments.expiring", inv), "ri-db")
    assert finding["monthly_savings"] == pytest.approx(
        2 * 730 * price("r5.xlarge") - 250.0, abs=CENT
    )
    assert finding["price_source"] == "bundled"
    assert finding["confidence"] == pytest.approx(0.6)


def test_commitments_far_from_expiry_or_not_worth_renewing_are_left_alone() -> None:
    late = _ri_web(utilization=0.9, on_demand_equivalent=500.0)
    late[0]["expires"] = NOW + timedelta(days=45)
    dear = [
        reservation("ri-dear", monthly_commitment=400.0, expires=NOW + timedelta(days=5)),
        measured("ri-dear", utilization=1.0, on_demand_equivalent=390.0),
    ]
    inv = with_commitments(inventory(), [*late, *dear])
    assert run("commitments.expiring", inv).is_empty()
    assert run("commitments.expiring", inv, within_days=60)["resource_id"].to_list() == ["ri-web"]


# --------------------------------------------------------------------------- coverage gap


def _two_steady_m5() -> Inventory:
    return inventory(
        [instance("i-a", "m5.large"), instance("i-b", "m5.large")],
        [*cpu("i-a", 40), *cpu("i-b", 40)],
    )


def test_usage_existing_reservations_cover_gets_no_new_commitment() -> None:
    # Cost Explorer: reservations covered 730 m5.large hours a month: one instance.
    inv = with_commitments(
        _two_steady_m5(),
        [coverage("ri", instance_type="m5.large", family="m5", covered_hours=730.0)],
    )
    found = run("commitments.compute-commitment", inv)
    assert found["resource_id"].to_list() == ["i-b"]
    finding = only(found, "i-b")
    assert finding["monthly_savings"] == pytest.approx(0.096 * 730 * DEFAULT_DISCOUNT, abs=CENT)
    assert finding["evidence"]["existing_coverage"]["reserved_hours_applied"] == 0


def test_savings_plan_coverage_shrinks_what_is_left_to_commit() -> None:
    covered_by_plan = 0.096 * 730 * 0.5
    inv = with_commitments(
        _two_steady_m5(),
        [
            coverage("ri", instance_type="m5.large", family="m5", covered_hours=730.0),
            coverage("savings_plan", family="m5", covered_cost=covered_by_plan),
        ],
    )
    finding = only(run("commitments.compute-commitment", inv), "i-b")
    uncovered = 0.096 * 730 - covered_by_plan
    assert finding["monthly_savings"] == pytest.approx(uncovered * DEFAULT_DISCOUNT, abs=CENT)
    assert finding["current_monthly_cost"] == pytest.approx(0.096 * 730, abs=CENT)
    assert finding["evidence"]["existing_coverage"]["uncovered_monthly_usd"] == pytest.approx(
        uncovered
    )


def test_coverage_of_another_region_or_family_changes_nothing() -> None:
    inv = with_commitments(
        _two_steady_m5(),
        [
            coverage("ri", instance_type="m5.large", family="m5", covered_hours=2000.0,
                     region="eu-west-1"),
            coverage("savings_plan", family="c5", covered_cost=500.0),
        ],
    )  # fmt: skip
    found = run("commitments.compute-commitment", inv)
    assert found["resource_id"].to_list() == ["i-a", "i-b"]
    assert found["monthly_savings"].to_list() == pytest.approx(
        [0.096 * 730 * DEFAULT_DISCOUNT] * 2, abs=CENT
    )


# --------------------------------------------------------------------------- billing (FOCUS)


def test_unused_commitment_cost_from_billing() -> None:
    inv = billing_inventory(
        [
            hourly_usage("i-1", 0.06, hours=720, pricing="Committed", status="Used",
                         commitment=RI_ARN),
            hourly_usage(RI_ARN, 0.04, hours=720, pricing="Committed", status="Unused",
                         commitment=RI_ARN),
        ]
    )  # fmt: skip
    finding = only(run("commitments.unused-billing", inv), RI_ARN)
    # 28.80 unused over 720 billed hours, scaled to 730 hours.
    assert finding["monthly_savings"] == pytest.approx(0.04 * 720 * 730 / 720, abs=CENT)
    assert finding["current_monthly_cost"] == pytest.approx(0.10 * 730, abs=CENT)
    assert finding["price_source"] == "billing"
    assert (finding["provider"], finding["account_id"]) == ("aws", "123456789012")
    assert finding["evidence"]["utilization"] == pytest.approx(0.6)


def test_well_used_commitment_in_billing_is_left_alone() -> None:
    inv = billing_inventory(
        [
            hourly_usage("i-1", 0.09, hours=720, pricing="Committed", status="Used",
                         commitment=RI_ARN),
            hourly_usage(RI_ARN, 0.01, hours=720, pricing="Committed", status="Unused",
                         commitment=RI_ARN),
        ]
    )  # fmt: skip
    assert run("commitments.unused-billing", inv).is_empty()
    assert run("commitments.unused-billing", inv, min_utilization=0.95).height == 1


def test_steady_on_demand_spend_in_billing_gets_a_commitment_with_break_even() -> None:
    inv = billing_inventory(
        [
            hourly_usage("i-steady", 0.192, hours=720),
            hourly_usage("i-part", 0.192, hours=300),
            hourly_usage("i-alternate", 0.192, hours=720, every=2),
            hourly_usage("i-covered", 0.192, hours=720, pricing="Committed", status="Used",
                         commitment=RI_ARN),
            hourly_usage("vol-1", 0.01, hours=720, category="Storage"),
        ]
    )  # fmt: skip
    found = run("commitments.on-demand-billing", inv)
    assert found["resource_id"].to_list() == ["i-steady"]
    finding = only(found, "i-steady")
    assert finding["current_monthly_cost"] == pytest.approx(0.192 * 730, abs=CENT)
    assert finding["monthly_savings"] == pytest.approx(0.192 * 730 * DEFAULT_DISCOUNT, abs=CENT)
    assert finding["action"] == "commit"
    assert finding["region"] == REGION
    assert finding["evidence"]["commitment"]["break_even_utilization"] == pytest.approx(
        1 - DEFAULT_DISCOUNT
    )
    assert finding["evidence"]["hour_share"] == pytest.approx(1.0)
    # The discount is the same parameter as the instance-based estimate.
    cheaper = only(run("commitments.on-demand-billing", inv, discount=0.4), "i-steady")
    assert cheaper["monthly_savings"] == pytest.approx(0.192 * 730 * 0.4, abs=CENT)


def test_one_day_of_a_reservation_in_a_month_is_no_commitment() -> None:
    # Issue 12: one Azure capacity-reservation row on one day of a month's export was
    # "billed on demand in 24 of 24 hours". Coverage is over the export's whole period.
    month = hourly_usage("vm-month", 0.1, hours=720)
    day = hourly_usage("vm-one-day", 0.5, hours=24).with_columns(
        pl.lit("Microsoft").alias("ProviderName")
    )
    found = run("commitments.on-demand-billing", billing_inventory([month, day]))
    assert found["resource_id"].to_list() == ["vm-month"]


def test_an_export_of_a_few_days_gets_no_commitment_however_steady() -> None:
    # Every hour of a 3-day export is 100% of it, and still no year's evidence.
    inv = billing_inventory([hourly_usage("i-short", 0.192, hours=72)])
    assert run("commitments.on-demand-billing", inv).height == 0
    assert run("commitments.on-demand-billing", inv, min_days=3).height == 1


@pytest.mark.parametrize(
    ("provider", "cloud", "param", "source"),
    [
        ("AWS", "aws", "discount", "https://aws.amazon.com/savingsplans/compute-pricing/"),
        ("Microsoft", "azure", "azure_discount", "azure.microsoft.com/pricing/offers/savings-plan"),
        (
            "Google Cloud",
            "gcp",
            "gcp_discount",
            "cloud.google.com/compute/docs/instances/committed",
        ),
    ],
)
def test_each_cloud_gets_its_own_published_commitment_discount(
    provider: str, cloud: str, param: str, source: str
) -> None:
    rows = hourly_usage("r-steady", 0.2, hours=720).with_columns(
        pl.lit(provider).alias("ProviderName")
    )
    inv = billing_inventory([rows])
    finding = only(run("commitments.on-demand-billing", inv, **{param: 0.31}), "r-steady")
    assert finding["provider"] == cloud
    assert finding["monthly_savings"] == pytest.approx(0.2 * 730 * 0.31, abs=CENT)
    assert source in finding["evidence"]["commitment"]["discount_source"]
    assert finding["evidence"]["commitment"]["discount"] == pytest.approx(0.31)


def test_a_provider_without_a_published_discount_gets_no_estimate() -> None:
    rows = hourly_usage("oci-vm", 0.2, hours=720).with_columns(
        pl.lit("Oracle").alias("ProviderName")
    )
    assert run("commitments.on-demand-billing", billing_inventory([rows])).height == 0
