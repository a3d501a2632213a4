"""rightsizing.gcp-arm: an x86 Compute Engine VM whose shape has a cheaper Arm (T2A) type.

T2A's bundled us-central1 price is $0.0385 a vCPU-hour with 4 GiB each (SkyPilot's copy of
Google's catalog: t2a-standard-8 $0.308/h); N2 is $0.031611 a vCPU and $0.004237 a GiB.
"""

from __future__ import annotations

import json
from decimal import Decimal

from costscan.providers.pricing.gcp import bundled_gcp_prices
from tests.policies.runner import run_policy
from tests.policies.test_gcp_commitments import HOURS, N2_8, by_name, money, vm
from tests.policies.test_gcp_sustained_use import N2_FULL_MONTH, inventory

T2A_8 = Decimal("0.308") * HOURS


def test_bundled_t2a_prices_are_the_catalogs_per_vcpu_rate() -> None:
    prices = bundled_gcp_prices(["us-central1", "asia-southeast1"])
    t2a = {
        (r["region"], r["instance_type"]): r["hourly_price"]
        for r in prices.filter(prices["instance_type"].str.starts_with("t2a-")).iter_rows(
            named=True
        )
    }
    assert t2a[("us-central1", "t2a-standard-1")] == 0.0385
    assert t2a[("us-central1", "t2a-standard-48")] == 1.848
    assert t2a[("asia-southeast1", "t2a-standard-8")] == 0.37984
    assert prices.filter(prices["instance_type"] == "t2a-standard-8")["architecture"].to_list() == [
        "arm64",
        "arm64",
    ]


def test_n2_standard_8_moves_to_t2a_standard_8_after_its_sustained_use_discount() -> None:
    found = by_name(run_policy("rightsizing.gcp-arm", inventory(vm("api", "n2-standard-8"), 40.0)))
    api = found["api"]
    assert "t2a-standard-8" in api["recommendation"]
    # List: $283.58 − $224.84 = $58.74; after the N2 discount (80.02% billed all month) the
    # x86 bill is $226.92, so the move saves $2.08.
    assert money(api["monthly_savings_before_discounts"]) == money(N2_8 - T2A_8)
    assert money(api["monthly_savings"]) == money(N2_8 * N2_FULL_MONTH - T2A_8)
    evidence = json.loads(api["evidence"])
    assert evidence["candidate"]["instance_type"] == "t2a-standard-8"
    assert evidence["shape"]["candidate_architecture"] == "arm64"


def test_e2_is_already_cheaper_than_t2a_and_graviton_stays_on_aws() -> None:
    inv = inventory(vm("web", "e2-standard-4"), 40.0)
    assert run_policy("rightsizing.gcp-arm", inv).height == 0
    assert (
        run_policy("rightsizing.graviton", inventory(vm("api", "n2-standard-8"), 40.0)).height == 0
    )
