"""policies/gcp.py at each threshold, worked by hand (issue 21): Google Recommender's advice
as reviews, unused CUDs as waste, CUD purchases after the sustained-use discount.

Prices are the bundled us-central1 list rates (N2 $0.031611 a vCPU-hour and $0.004237 a
GiB-hour; e2-standard-4 $0.134023/h, n1-standard-4 $0.189999/h); a 1-year CUD is 37% off
(https://cloud.google.com/compute/vm-instance-pricing); sustained use takes 30% off N1 and
20% off N2 run all month (https://cloud.google.com/compute/docs/sustained-use-discounts).
Written against the mutants that survived tests/policies/test_gcp_commitments.py
(``python benchmarks/mutation.py policies/gcp.py``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from costscan.policies.gcp import CudPurchaseParams, GoogleAdviceParams, UnusedCudParams
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import Inventory, RunContext
from tests.policies.inventories import LOOKBACK_DAYS, NOW
from tests.policies.runner import run_policy
from tests.policies.test_gcp_commitments import (
    E2_4,
    N2_4,
    N2_8,
    by_name,
    coverage,
    cud,
    inventory,
    money,
    vm,
)

N1_4 = Decimal("0.189999") * 730  # $138.70
START = NOW - timedelta(days=LOOKBACK_DAYS)  # the first instant of the lookback


def purchase(
    vms: list[dict[str, Any]],
    commitments: list[dict[str, Any]] | None = None,
    *,
    hours: dict[str, int] | None = None,
    **params: Any,
) -> dict[str, dict[str, Any]]:
    inv = inventory(vms, commitments or [], hours=hours)
    return by_name(run_policy("commitments.gcp-cud-purchase", inv, **params))


def unused(*commitments: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return by_name(run_policy("commitments.gcp-unused-cud", inventory([], list(commitments))))


# --------------------------------------------------------------------------- defaults


def test_the_published_figures_are_the_defaults() -> None:
    # 37% off for a 1-year CUD; a CUD under 99% used bills for capacity nothing uses.
    assert CudPurchaseParams() == CudPurchaseParams(
        discount=0.37, min_coverage=0.95, include_group_members=False, confidence=0.75
    )
    assert UnusedCudParams() == UnusedCudParams(min_utilization=0.99, confidence=0.8)
    assert GoogleAdviceParams().confidence == 1.0


# --------------------------------------------------------------------------- unused CUDs


@pytest.mark.parametrize(
    ("utilization", "waste"),
    [
        # Under 99% used is waste: $100 × (1 − 0.985) = $1.50 a month.
        (0.985, Decimal("1.50")),
        # A utilization under 0 (a provider glitch) is clipped: at most the whole $100.
        (-0.5, Decimal("100.00")),
    ],
)
def test_a_cud_under_99_percent_used_wastes_the_unused_share(
    utilization: float, waste: Decimal
) -> None:
    found = unused(cud("c", "n2", utilization=utilization, monthly=100.0))
    c = found["c"]
    assert money(c["monthly_savings"]) == waste
    assert c["current_monthly_cost"] == 100.0
    assert c["category"] == "waste"
    assert c["confidence"] == pytest.approx(0.8)
    assert c["price_source"] == "bundled"
    evidence = json.loads(c["evidence"])
    assert evidence["min_utilization"] == 0.99
    assert evidence["utilization"] == utilization
    assert evidence["expires"] == "2025-01-03"  # 200 days after 2024-06-17


def test_the_waste_detail_names_the_unused_dollars() -> None:
    # $155.43 at 25.34% used: $116.04 of it pays for nothing (0.7466 × 155.43 = 116.044).
    half = unused(cud("half", "n2d", utilization=0.2534, monthly=155.43))["half"]
    assert half["detail"] == (
        "Committed use discount half (N2D 1yr) is 25.3% used by running instances: $116.04 "
        "of its $155.43 a month pays for nothing until it ends (2025-01-03)."
    )
    assert half["recommendation"].startswith("Move N2D usage in us-central1 onto it")


def test_a_cud_at_99_percent_or_costing_nothing_is_not_waste() -> None:
    assert (
        unused(
            cud("full", "n2", utilization=0.99, monthly=100.0),
            cud("free", "n2", utilization=0.5, monthly=0.0),
        )
        == {}
    )


def test_a_cud_under_a_dollar_a_month_still_wastes() -> None:
    # $0.50 a month at half use: $0.25 wasted.
    small = unused(cud("small", "n2", utilization=0.5, monthly=0.5))["small"]
    assert small["monthly_savings"] == pytest.approx(0.25)


def test_only_active_unexpired_google_cuds_count() -> None:
    ending_now = cud("now", "n2", utilization=0.5, monthly=10.0, expires_in_days=0)
    no_end = cud("open", "n2", utilization=0.5, monthly=10.0) | {"expires": None}
    upper = cud("upper", "n2", utilization=0.5, monthly=10.0) | {"state": "ACTIVE"}
    expired = cud("gone", "n2", utilization=0.5, monthly=10.0) | {"state": "expired"}
    aws = cud("aws", "n2", utilization=0.5, monthly=10.0) | {"provider": "aws"}
    covered = coverage("n2", 10.0) | {"utilization": 0.5, "monthly_commitment": 10.0}
    found = unused(ending_now, no_end, upper, expired, aws, covered)
    # Expiring exactly now is over; no end date and an upper-case state still count.
    assert set(found) == {"open", "upper"}
    assert found["open"]["savings_start"] is None
    assert money(found["upper"]["monthly_savings"]) == Decimal("5.00")


# --------------------------------------------------------------------------- CUD purchase


def test_the_n2_purchase_says_what_the_sustained_use_discount_already_takes() -> None:
    api = purchase([vm("api", "n2-standard-8")])["api"]
    # $283.58 uncovered × (0.37 − 0.20) = $48.21; before discounts × 0.37 = $104.93.
    assert money(api["monthly_savings"]) == money(N2_8 * Decimal("0.17")) == Decimal("48.21")
    assert money(api["monthly_savings_before_discounts"]) == Decimal("104.93")
    assert money(api["current_monthly_cost"]) == Decimal("283.58")
    assert api["confidence"] == pytest.approx(0.75)
    assert api["detail"] == (
        "projects/proj-a/zones/us-central1-a/instances/api (n2-standard-8) ran on demand for "
        "336 of the last 336 hours; CUDs cover $0.00 of its $283.58 a month. The $283.58 "
        "left already gets a 20% sustained-use discount for running all month, which a CUD "
        "replaces."
    )
    assert api["recommendation"] == (
        "Buy a 1-year N2 commitment in us-central1 for its vCPUs and memory (37% off on "
        "demand instead of the 20% sustained-use discount), saving $48.21 a month."
    )
    evidence = json.loads(api["evidence"])
    assert evidence["sustained_use_discount"] == 0.2
    assert evidence["cud_discount"] == 0.37
    assert money(evidence["uncovered_monthly"]) == Decimal("283.58")
    assert evidence["covered_by_existing_cuds_monthly"] == 0.0


def test_an_e2_purchase_has_no_sustained_use_sentence() -> None:
    web = purchase([vm("web", "e2-standard-4")])["web"]
    # $97.84 × 0.37 = $36.20, nothing to subtract.
    assert money(web["monthly_savings"]) == money(E2_4 * Decimal("0.37")) == Decimal("36.20")
    assert web["detail"].endswith("CUDs cover $0.00 of its $97.84 a month.")
    assert web["recommendation"] == (
        "Buy a 1-year E2 commitment in us-central1 for its vCPUs and memory (37% off on "
        "demand), saving $36.20 a month."
    )


def test_an_n1_purchase_saves_only_seven_points_over_its_30_percent_sud() -> None:
    n1 = vm("old", "n2-standard-4") | {"instance_type": "n1-standard-4", "memory_gib": 15.0}
    old = purchase([n1])["old"]
    # $138.70 × (0.37 − 0.30) = $9.71.
    assert money(old["monthly_savings"]) == money(N1_4 * Decimal("0.07")) == Decimal("9.71")
    assert "30% sustained-use discount" in old["recommendation"]


def test_a_discount_under_the_sud_saves_nothing_never_a_negative_figure() -> None:
    api = purchase([vm("api", "n2-standard-8")], discount=0.1)["api"]
    # 10% off replaces 20% off: clipped to $0, while the list view shows $28.36.
    assert api["monthly_savings"] == 0.0
    assert money(api["monthly_savings_before_discounts"]) == money(N2_8 * Decimal("0.1"))


def test_held_coverage_runs_over_into_the_next_vm() -> None:
    vms = [vm("big", "n2-standard-8"), vm("small", "n2-standard-4")]
    held = cud("held", "n2", utilization=1.0, monthly=100.0)
    found = purchase(vms, [held, coverage("n2", 300.0)])
    # $300 covers big ($283.58) and $16.42 of small: small's $125.38 left × 0.17 = $21.31.
    assert set(found) == {"small"}
    small = found["small"]
    assert money(small["monthly_savings"]) == money((N2_8 + N2_4 - 300) * Decimal("0.17"))
    assert money(small["monthly_savings"]) == Decimal("21.31")
    evidence = json.loads(small["evidence"])
    assert money(evidence["covered_by_existing_cuds_monthly"]) == money(300 - N2_8)
    assert money(evidence["uncovered_monthly"]) == Decimal("125.38")
    # Covering more than both leaves nothing to buy.
    assert purchase(vms, [held, coverage("n2", 500.0)]) == {}


def test_between_equal_vms_coverage_goes_by_name() -> None:
    # Two n2-standard-4 ($141.79 each) and exactly one's worth covered: "a" first.
    found = purchase(
        [vm("b", "n2-standard-4"), vm("a", "n2-standard-4")], [coverage("n2", float(N2_4))]
    )
    assert set(found) == {"b"}
    assert money(found["b"]["monthly_savings"]) == money(N2_4 * Decimal("0.17"))


def test_a_three_year_discount_is_named_as_such() -> None:
    # 55% off (3-year): $97.84 × 0.55 = $53.81 on an E2.
    web = purchase([vm("web", "e2-standard-4")], discount=0.55)["web"]
    assert "(55% off on demand)" in web["recommendation"]
    assert money(web["monthly_savings"]) == money(E2_4 * Decimal("0.55")) == Decimal("53.81")


def test_coverage_of_one_series_does_not_cover_another() -> None:
    found = purchase([vm("web", "e2-standard-4")], [coverage("n2", 500.0)])
    assert money(found["web"]["monthly_savings"]) == Decimal("36.20")


def test_another_clouds_coverage_rows_cover_nothing_here() -> None:
    aws = coverage("n2", 500.0) | {"provider": "aws"}
    found = purchase([vm("api", "n2-standard-8")], [aws])
    assert money(found["api"]["monthly_savings"]) == Decimal("48.21")


def test_under_half_a_cent_left_uncovered_is_no_purchase() -> None:
    just = float(N2_8) - 0.004
    assert purchase([vm("api", "n2-standard-8")], [coverage("n2", just)]) == {}
    # A cent left: bought, 0.01 × 0.17 rounds to nothing, but the uncovered cent shows.
    left = purchase([vm("api", "n2-standard-8")], [coverage("n2", float(N2_8) - 0.01)])["api"]
    assert json.loads(left["evidence"])["uncovered_monthly"] == pytest.approx(0.01, abs=1e-6)


def test_exactly_half_a_cent_uncovered_is_no_purchase() -> None:
    # A VM billed $0.01 a month (1/730 of a cent an hour, so × 730 is exactly 0.01) with
    # half a cent covered: exactly $0.005 is left, not over the line.
    tiny = vm("tiny", "e2-standard-4", hourly_price=0.01 / 730)
    assert purchase([tiny], [coverage("e2", 0.005)]) == {}
    assert "tiny" in purchase([tiny], [coverage("e2", 0.004)])


def test_a_cud_at_99_percent_used_does_not_block_a_purchase() -> None:
    found = purchase([vm("api", "n2-standard-8")], [cud("c", "n2", utilization=0.99, monthly=1.0)])
    assert set(found) == {"api"}
    assert (
        purchase([vm("api", "n2-standard-8")], [cud("c", "n2", utilization=0.98, monthly=1.0)])
        == {}
    )


def test_steady_means_running_since_the_lookback_began() -> None:
    found = purchase(
        [
            vm("at-start", "e2-standard-4", launch_time=START),
            vm("after", "e2-standard-4", launch_time=START + timedelta(seconds=1)),
            vm("unknown", "e2-standard-4", launch_time=None),
        ]
    )
    assert set(found) == {"at-start", "unknown"}


def test_group_members_and_lifecycle() -> None:
    vms = [
        vm("blank-group", "e2-standard-4", group=""),
        vm("mig", "e2-standard-4", group="web"),
        vm("upper", "e2-standard-4", lifecycle="On-Demand"),
    ]
    assert set(purchase(vms)) == {"blank-group", "upper"}
    assert set(purchase(vms, include_group_members=True)) == {"blank-group", "mig", "upper"}


@pytest.mark.parametrize(("hours", "flagged"), [(320, True), (319, False)])
def test_coverage_at_95_percent_of_the_lookback(hours: int, flagged: bool) -> None:
    # 336 hours: 320 is 95.2%, 319 is 94.9%.
    found = purchase([vm("web", "e2-standard-4")], hours={"web": hours})
    assert ("web" in found) is flagged


def test_coverage_exactly_at_the_minimum_is_steady() -> None:
    # 168 of 336 hours is exactly 0.5.
    assert "web" in purchase([vm("web", "e2-standard-4")], hours={"web": 168}, min_coverage=0.5)
    assert purchase([vm("web", "e2-standard-4")], hours={"web": 167}, min_coverage=0.5) == {}


def test_other_clouds_vms_are_not_bought_a_cud() -> None:
    inv = inventory([vm("web", "e2-standard-4"), vm("aws", "e2-standard-4", provider="aws")])
    found = by_name(run_policy("commitments.gcp-cud-purchase", inv))
    assert set(found) == {"web"}


# --------------------------------------------------------------------------- Google's advice

ADVICE_NOW = datetime(2026, 12, 1, tzinfo=UTC)


def advice(name: str, kind: str, monthly: float | None, **overrides: Any) -> dict[str, Any]:
    row = {
        "provider": "gcp",
        "account_id": "proj-a",
        "region": "us-central1",
        "resource_id": f"projects/proj-a/zones/us-central1-a/instances/{name}",
        "resource_name": name,
        "resource_type": "gce_instance",
        "recommender": "google.compute.instance.IdleResourceRecommender",
        "recommendation": f"rec-{name}",
        "subtype": "STOP_VM",
        "kind": kind,
        "description": f"Stop {name}.",
        "monthly_savings": monthly,
        "currency": "USD",
        "target": None,
        "priority": "P2",
        "state": "ACTIVE",
        "refreshed": ADVICE_NOW,
    }
    return row | overrides


def advised(policy_id: str, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    inv = Inventory(provider="gcp", context=RunContext(now=ADVICE_NOW))
    inv.add("provider_advice", pl.DataFrame(rows, schema=dict(schema.PROVIDER_ADVICE)))
    return by_name(run_policy(policy_id, inv))


ROWS = [
    advice("stop", "stop", 21.981),
    advice("resize", "resize", None, description=None, target="e2-small"),
    advice("azure", "stop", 5.0, provider="azure"),
    advice("disk", "delete", 3.0, resource_type="persistent_disk"),
    advice("ip", "delete", 7.3, resource_type="static_address"),
    advice("cud", "commit", -0.5, currency="EUR"),
]


def test_googles_vm_advice_is_a_review_counting_nothing() -> None:
    found = advised("rightsizing.google-recommender", ROWS)
    assert set(found) == {"stop", "resize"}
    stop = found["stop"]
    assert stop["detail"] == (
        "Google Recommender (google.compute.instance.IdleResourceRecommender) advises: "
        "Stop stop. Google projects 21.98 USD a month. costscan's own policies do not flag "
        "this resource for it."
    )
    assert stop["recommendation"] == (
        "Review Google's recommendation rec-stop (gcloud recommender recommendations "
        "describe) against this resource's use; costscan counts no saving for it."
    )
    assert stop["monthly_savings"] == 0.0
    assert stop["current_monthly_cost"] is None
    assert stop["confidence"] == 1.0
    assert stop["price_source"] == "none"
    evidence = json.loads(stop["evidence"])
    assert evidence["provider_advice_monthly_savings"] == 21.981
    assert evidence["provider_advice"]["verdict"] == "only_google"
    assert evidence["provider_advice"]["refreshed"] == "2026-12-01T00:00:00Z"
    # No projection, no description: the kind stands in and no figure is made up.
    assert found["resize"]["detail"] == (
        "Google Recommender (google.compute.instance.IdleResourceRecommender) advises: "
        "resize costscan's own policies do not flag this resource for it."
    )
    assert json.loads(found["resize"]["evidence"])["provider_advice"]["target"] == "e2-small"


def test_each_family_takes_its_own_kind_and_resource_type() -> None:
    assert set(advised("storage.google-recommender", ROWS)) == {"disk"}
    assert set(advised("network.google-recommender", ROWS)) == {"ip"}
    commit = advised("commitments.google-recommender", ROWS)
    assert set(commit) == {"cud"}
    # A negative projection keeps its sign, in Google's currency.
    assert "Google projects -0.50 EUR a month." in commit["cud"]["detail"]
