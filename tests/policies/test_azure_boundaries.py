"""policies/azure.py: Azure Advisor's advice listed as reviews, and Hot storage accounts
without a lifecycle policy, worked by hand (issue 21).

The blob figures use round hand-picked prices (Hot $0.02 and Cool $0.01 a GB-month, Cool
writes $0.10 per 1,000) so each product is exact; the formula is Azure's lifecycle
tierToCool rule (https://learn.microsoft.com/azure/storage/blobs/lifecycle-management-overview)
priced per https://azure.microsoft.com/pricing/details/storage/blobs/. Written against the
mutants of ``python benchmarks/mutation.py policies/azure.py`` (no fast test ran the module
before: only the demo's integration test).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from costscan.policies.azure import AdvisorParams
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import Inventory, RunContext
from tests.policies.runner import run_policy

NOW = datetime(2026, 12, 1, tzinfo=UTC)
GIB = 1024**3
SUB = "00000000-0000-0000-0000-000000000001"
POLICY = "storage.azure-blob-without-lifecycle"


def account(name: str, gib: float = 100.0, **overrides: Any) -> dict[str, Any]:
    row = {
        "provider": "azure",
        "account_id": SUB,
        "region": "eastus",
        "resource_id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/"
        f"Microsoft.Storage/storageAccounts/{name}",
        "resource_name": name,
        "resource_type": "storage_account",
        "storage_class": "HOT",
        "bytes": gib * GIB,
        "objects": 20_000.0,
        "has_lifecycle": False,
        "price_standard_gb_month": 0.02,
        "price_standard_ia_gb_month": 0.01,
        "price_transition_per_1000": 0.1,
        "price_region": "eastus",
        "price_reference": "https://azure.microsoft.com/pricing/details/storage/blobs/",
    }
    return row | overrides


def blobs(*rows: dict[str, Any], **params: Any) -> dict[str, dict[str, Any]]:
    inv = Inventory(provider="azure", context=RunContext(now=NOW))
    full = [{c: r.get(c) for c in schema.BUCKETS} for r in rows]
    inv.add("buckets", pl.DataFrame(full, schema=dict(schema.BUCKETS)))
    found = run_policy(POLICY, inv, **params)
    return {r["resource_name"]: r for r in found.iter_rows(named=True)}


# --------------------------------------------------------------------------- blob lifecycle


def test_half_the_hot_bytes_to_cool_saves_half_the_price_gap() -> None:
    found = blobs(account("logs"))["logs"]
    # 100 GiB × 0.5 × (0.02 − 0.01) = $0.50 a month; today 100 × 0.02 = $2.00; moving
    # 20,000 × 0.5 = 10,000 blobs costs 10 × $0.10 = $1.00 once.
    assert found["monthly_savings"] == pytest.approx(0.5)
    assert found["current_monthly_cost"] == pytest.approx(2.0)
    assert found["upfront_cost"] == pytest.approx(1.0)
    assert found["confidence"] == pytest.approx(0.3)
    assert found["price_source"] == "bundled"
    assert found["detail"] == (
        "Storage account logs has no lifecycle management policy and holds 100 GiB in the Hot "
        "tier; moving the cold share to Cool saves about $0.50 a month."
    )
    assert found["recommendation"].startswith(
        "Add a lifecycle management policy to logs: tierToCool 30 days after last modification"
    )
    evidence = json.loads(found["evidence"])
    assert (evidence["cold_fraction"], evidence["transition_days"]) == (0.5, 30)
    assert evidence["hot_bytes"] == 100 * GIB
    assert evidence["prices"] == {
        "hot_gb_month": 0.02,
        "cool_gb_month": 0.01,
        "cool_write_per_1000": 0.1,
    }


def test_the_cold_share_scales_saving_and_upfront_alike() -> None:
    found = blobs(account("logs", gib=400.0), cold_fraction=0.25)["logs"]
    # 400 × 0.25 × 0.01 = $1.00; 20,000 × 0.25 / 1,000 × 0.10 = $0.50.
    assert found["monthly_savings"] == pytest.approx(1.0)
    assert found["upfront_cost"] == pytest.approx(0.5)
    assert found["current_monthly_cost"] == pytest.approx(8.0)


def test_unknown_blob_count_or_write_price_costs_nothing_upfront() -> None:
    found = blobs(account("a", objects=None), account("b", price_transition_per_1000=None))
    assert found["a"]["upfront_cost"] == 0.0
    assert found["b"]["upfront_cost"] == 0.0
    assert found["a"]["monthly_savings"] == pytest.approx(0.5)


def test_only_hot_azure_accounts_with_no_policy_and_bytes_and_prices() -> None:
    found = blobs(
        account("flagged"),
        account("has-policy", has_lifecycle=True),
        account("unknown-policy", has_lifecycle=None),
        account("cool", storage_class="COOL"),
        account("empty", gib=0.0),
        account("s3", provider="aws"),
        account("no-hot-price", price_standard_gb_month=None),
        account("no-cool-price", price_standard_ia_gb_month=None),
    )
    assert set(found) == {"flagged"}
    # Any Hot byte at all is judged: one byte is a finding (worth nothing, shown as such).
    tiny = blobs(account("tiny", gib=1 / GIB))["tiny"]
    assert tiny["monthly_savings"] == pytest.approx(0.5 / GIB * 0.01)


# --------------------------------------------------------------------------- Advisor's advice


def advice(name: str, kind: str, monthly: float | None, **overrides: Any) -> dict[str, Any]:
    row = {
        "provider": "azure",
        "account_id": SUB,
        "region": "eastus",
        "resource_id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/{name}",
        "resource_name": name,
        "resource_type": "virtual_machine",
        "recommender": "Microsoft.Advisor/recommendations",
        "recommendation": f"rec-{name}",
        "subtype": "Shutdown",
        "kind": kind,
        "description": f"Right-size or shut down {name}",
        "monthly_savings": monthly,
        "currency": "USD",
        "target": None,
        "priority": "Medium",
        "state": "ACTIVE",
        "refreshed": NOW,
    }
    return row | overrides


ROWS = [
    advice("vm-1", "resize", 12.346, target="Standard_B2s"),
    advice("vm-2", "stop", None, description=None),
    advice("gce", "stop", 5.0, provider="gcp"),
    advice("disk-1", "delete", 3.0, resource_type="managed_disk"),
    advice("ip-1", "delete", 3.65, resource_type="public_ip"),
    advice("sub", "commit", -1.5, currency="EUR"),
]


def advised(policy_id: str) -> dict[str, dict[str, Any]]:
    inv = Inventory(provider="azure", context=RunContext(now=NOW))
    inv.add("provider_advice", pl.DataFrame(ROWS, schema=dict(schema.PROVIDER_ADVICE)))
    return {r["resource_name"]: r for r in run_policy(policy_id, inv).iter_rows(named=True)}


def test_advisors_vm_advice_is_a_review_counting_nothing() -> None:
    assert AdvisorParams().confidence == 1.0
    found = advised("rightsizing.azure-advisor")
    assert set(found) == {"vm-1", "vm-2"}
    vm = found["vm-1"]
    assert vm["detail"] == (
        "Azure Advisor advises: Right-size or shut down vm-1 (to Standard_B2s). Advisor "
        "estimates 12.35 USD a month. costscan's own policies do not flag this resource for it."
    )
    assert vm["recommendation"] == (
        "Review Advisor's recommendation rec-vm-1 (az advisor recommendation list --category "
        "Cost) against this resource's use; costscan counts no saving for it."
    )
    assert (vm["monthly_savings"], vm["confidence"], vm["price_source"]) == (0.0, 1.0, "none")
    evidence = json.loads(vm["evidence"])
    assert evidence["provider_advice_monthly_savings"] == 12.346
    assert evidence["provider_advice"]["verdict"] == "only_advisor"
    assert evidence["provider_advice"]["target"] == "Standard_B2s"
    assert evidence["provider_advice"]["refreshed"] == "2026-12-01T00:00:00Z"
    # No description, target or figure: the kind alone, nothing made up.
    assert found["vm-2"]["detail"] == (
        "Azure Advisor advises: stop. costscan's own policies do not flag this resource for it."
    )


def test_each_family_takes_its_own_kind_and_resource_type() -> None:
    assert set(advised("storage.azure-advisor")) == {"disk-1"}
    assert set(advised("network.azure-advisor")) == {"ip-1"}
    commit = advised("commitments.azure-advisor")
    assert set(commit) == {"sub"}
    assert "Advisor estimates -1.50 EUR a month." in commit["sub"]["detail"]
