"""GCP committed use discounts: unused ones (waste) and steady usage none covers (a 1-year
purchase, after the sustained-use discount the usage already gets).

Prices are the bundled us-central1 list rates (N2 $0.031611 per vCPU-hour and $0.004237
per GiB-hour; E2 $0.02181159 and $0.00292353), each figure worked out here with
``decimal``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from costscan.providers.pricing.gcp import bundled_gcp_prices
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import Inventory, RunContext
from tests.policies.inventories import LONG_AGO, LOOKBACK_DAYS, NOW, cpu
from tests.policies.runner import run_policy

PROJECT = "proj-a"
REGION = "us-central1"
HOURS = Decimal(730)
N2_8 = (8 * Decimal("0.031611") + 32 * Decimal("0.004237")) * HOURS  # $283.58456
N2_4 = (4 * Decimal("0.031611") + 16 * Decimal("0.004237")) * HOURS  # $141.79228
# e2-standard-4: 4 × 0.02181159 + 16 × 0.00292353 = 0.13402284, listed to the micro-dollar.
E2_4 = Decimal("0.134023") * HOURS
CENT = Decimal("0.01")
FACTS = {
    "n2-standard-8": (8.0, 32.0),
    "n2-standard-4": (4.0, 16.0),
    "e2-standard-4": (4.0, 16.0),
    "e2-medium": (2.0, 4.0),
}


def vm(name: str, machine_type: str, **overrides: Any) -> dict[str, Any]:
    vcpus, memory = FACTS[machine_type]
    row = {
        "provider": "gcp",
        "account_id": PROJECT,
        "region": REGION,
        "resource_id": f"projects/{PROJECT}/zones/{REGION}-a/instances/{name}",
        "resource_name": name,
        "resource_type": "gce_instance",
        "instance_type": machine_type,
        "vcpus": vcpus,
        "memory_gib": memory,
        "state": "running",
        "lifecycle": "on-demand",
        "launch_time": LONG_AGO,
        "architecture": "x86_64",
        "price_source": "bundled",
    }
    return row | overrides


def cud(name: str, series: str, *, utilization: float, monthly: float,
        expires_in_days: int = 200) -> dict[str, Any]:  # fmt: skip
    return {
        "provider": "gcp",
        "account_id": PROJECT,
        "region": REGION,
        "resource_id": f"projects/{PROJECT}/regions/{REGION}/commitments/{name}",
        "resource_name": name,
        "resource_type": "committed_use_discount",
        "kind": "cud",
        "family": series,
        "term": "1yr",
        "state": "active",
        "utilization": utilization,
        "monthly_commitment": monthly,
        "on_demand_equivalent": monthly / 0.63,
        "expires": NOW + timedelta(days=expires_in_days),
        "offering_class": f"GENERAL_PURPOSE_{series.upper()}",
    }


def coverage(series: str, covered: float) -> dict[str, Any]:
    return {
        "provider": "gcp",
        "account_id": PROJECT,
        "region": REGION,
        "resource_id": f"cud-coverage|{PROJECT}|{REGION}|{series}",
        "resource_name": f"CUD coverage of {series} in {REGION}",
        "resource_type": "commitment_coverage",
        "kind": "coverage",
        "covered_by": "cud",
        "family": series,
        "covered_cost": covered,
    }


def inventory(vms: list[dict[str, Any]], commitments: Sequence[dict[str, Any]] = (),
              *, hours: dict[str, int] | None = None) -> Inventory:  # fmt: skip
    inv = Inventory(provider="gcp", context=RunContext.at(NOW, lookback_days=LOOKBACK_DAYS))
    if vms:
        inv.add("compute", pl.DataFrame(vms, schema=dict(schema.COMPUTE)))
        series = [
            frame
            for v in vms
            for frame in cpu(v["resource_id"], 40.0, hours=(hours or {}).get(v["resource_name"],
                                                                             LOOKBACK_DAYS * 24))
        ]  # fmt: skip
        inv.add("utilization", pl.concat(series, how="vertical"))
    inv.add("prices", bundled_gcp_prices([REGION]))
    if commitments:
        inv.add("commitments", pl.DataFrame(list(commitments), schema=dict(schema.COMMITMENTS)))
    assert not inv.rejections
    return inv


def by_name(found: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {r["resource_name"]: r for r in found.iter_rows(named=True)}


def money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def test_a_steady_e2_vm_saves_the_full_cud_discount_it_gets_no_sud() -> None:
    found = by_name(
        run_policy("commitments.gcp-cud-purchase", inventory([vm("web", "e2-standard-4")]))
    )
    web = found["web"]
    assert money(web["monthly_savings"]) == money(E2_4 * Decimal("0.37"))  # $36.20
    assert money(web["monthly_savings_before_discounts"]) == money(E2_4 * Decimal("0.37"))
    assert web["category"] == "savings" and web["action"] == "commit"
    assert web["group_key"] == "1-year e2 CUD in us-central1"


def test_a_steady_n2_vm_saves_only_what_the_cud_adds_to_its_sustained_use_discount() -> None:
    found = by_name(
        run_policy("commitments.gcp-cud-purchase", inventory([vm("api", "n2-standard-8")]))
    )
    api = found["api"]
    # List view: 37% of $283.58; on the bill, it already gets 20% off for running all month.
    assert money(api["monthly_savings_before_discounts"]) == money(N2_8 * Decimal("0.37"))
    assert money(api["monthly_savings"]) == money(N2_8 * (Decimal("0.37") - Decimal("0.20")))
    assert "20% sustained-use discount" in api["recommendation"]


def test_held_cuds_cover_the_dearest_steady_vms_first() -> None:
    inv = inventory(
        [vm("big", "n2-standard-8"), vm("small", "n2-standard-4")],
        [cud("held", "n2", utilization=1.0, monthly=100.0), coverage("n2", 200.0)],
    )
    found = by_name(run_policy("commitments.gcp-cud-purchase", inv))
    # $200 of covered usage goes to "big" ($283.58) first; "small" is all uncovered.
    rate = Decimal("0.17")
    assert money(found["big"]["monthly_savings"]) == money((N2_8 - 200) * rate)
    assert money(found["small"]["monthly_savings"]) == money(N2_4 * rate)


def test_no_purchase_where_a_cud_sits_unused_or_usage_is_not_steady() -> None:
    inv = inventory(
        [
            vm("n2-vm", "n2-standard-8"),
            vm("young", "e2-standard-4", launch_time=NOW - timedelta(days=3)),
            vm("spot", "e2-standard-4", lifecycle="spot"),
            vm("shared", "e2-medium"),
            vm("part-time", "e2-standard-4"),
            vm("mig", "e2-standard-4", group="web-group"),
        ],
        [cud("idle-n2", "n2", utilization=0.5, monthly=100.0)],
        hours={"part-time": 200},
    )
    assert run_policy("commitments.gcp-cud-purchase", inv).height == 0


def test_an_unused_share_of_a_cud_is_waste_until_it_ends() -> None:
    inv = inventory(
        [],
        [
            cud("half", "n2d", utilization=0.25, monthly=155.43),
            cud("full", "n2", utilization=1.0, monthly=89.33),
            cud("ended", "e2", utilization=0.0, monthly=50.0, expires_in_days=-1),
        ],
    )
    found = by_name(run_policy("commitments.gcp-unused-cud", inv))
    assert set(found) == {"half"}
    half = found["half"]
    assert money(half["monthly_savings"]) == money(Decimal("155.43") * Decimal("0.75"))
    assert half["category"] == "waste"
    assert half["savings_start"] == (NOW + timedelta(days=200)).date()


@pytest.mark.parametrize(("term", "discount"), [("1yr", Decimal("0.37")), ("3yr", Decimal("0.55"))])
def test_the_provider_prices_a_held_cud_at_its_terms_discount(term: str, discount: Decimal) -> None:
    from costscan.providers.gcp.compute import commitments_frame

    held = [{
        "provider": "gcp", "account_id": PROJECT, "region": REGION,
        "resource_id": f"projects/{PROJECT}/regions/{REGION}/commitments/c",
        "resource_name": "c", "resource_type": "committed_use_discount", "kind": "cud",
        "family": "n2d", "term": term, "state": "active", "start": NOW - timedelta(days=9),
        "expires": NOW + timedelta(days=300), "source": "compute",
        "offering_class": "GENERAL_PURPOSE_N2D", "_vcpus": 8.0, "_memory_gib": 32.0,
    }]  # fmt: skip
    compute = pl.DataFrame(schema=dict(schema.COMPUTE))
    row = commitments_frame(held, compute, NOW).filter(pl.col("kind") == "cud").row(0, named=True)
    on_demand = (8 * Decimal("0.027502") + 32 * Decimal("0.003686")) * HOURS  # $246.72
    assert money(row["on_demand_equivalent"]) == money(on_demand)
    assert money(row["monthly_commitment"]) == money(on_demand * (1 - discount))
    assert row["utilization"] == 0.0
