"""The cross-check of costscan's findings against Google Recommender's advice
(scanner/pipeline/provider_advice.py), on hand-built findings and advice."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import polars as pl

from costscan.scanner.app.catalog import all_policies
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import CollectorError
from costscan.scanner.contracts.inventory import Inventory, RunContext
from costscan.scanner.pipeline import provider_advice
from tests.policies.runner import run_policy

NOW = datetime(2026, 12, 1, tzinfo=UTC)
P = "proj-a"
VM = f"projects/{P}/zones/us-central1-a/instances/vm-1"
VM2 = f"projects/{P}/zones/us-central1-a/instances/vm-2"
DISK = f"projects/{P}/zones/us-central1-a/disks/d-1"


def finding(
    policy_id: str, resource_id: str, *, account: str = P, provider: str = "gcp",
    evidence: str | None = '{"formula":"x"}', saving: float = 100.0,
) -> dict[str, Any]:  # fmt: skip
    return {
        "provider": provider,
        "account_id": account,
        "region": "us-central1",
        "resource_id": resource_id,
        "resource_name": resource_id.rsplit("/", 1)[-1],
        "resource_type": "gce_instance",
        "finding_id": f"{policy_id}|{resource_id}",
        "policy_id": policy_id,
        "detail": "Flagged.",
        "monthly_savings": saving,
        "evidence": evidence,
    }


def advice(resource_id: str, kind: str, monthly: float | None, *, target: str | None = None,
           resource_type: str = "gce_instance") -> dict[str, Any]:  # fmt: skip
    recommender = {
        "stop": "google.compute.instance.IdleResourceRecommender",
        "resize": "google.compute.instance.MachineTypeRecommender",
        "delete": "google.compute.disk.IdleResourceRecommender",
    }[kind]
    return {
        "provider": "gcp",
        "account_id": P,
        "region": "us-central1",
        "resource_id": resource_id,
        "resource_name": resource_id.rsplit("/", 1)[-1],
        "resource_type": resource_type,
        "recommender": recommender,
        "recommendation": f"projects/1/locations/us-central1-a/recommenders/{recommender}/"
        f"recommendations/{resource_id.rsplit('/', 1)[-1]}-{kind}",
        "kind": kind,
        "description": f"Google says {kind}.",
        "monthly_savings": monthly,
        "currency": "USD",
        "target": target,
        "state": "ACTIVE",
        "refreshed": NOW,
    }


def inventory(advised: list[dict[str, Any]], *, accounts: tuple[str, ...] = (P,),
              provider: str = "gcp") -> Inventory:  # fmt: skip
    inv = Inventory(provider=provider, context=RunContext(now=NOW), accounts=list(accounts))
    inv.add("provider_advice", pl.DataFrame(advised, schema=dict(schema.PROVIDER_ADVICE)))
    return inv


def findings_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return (
        pl.DataFrame(rows, schema={c: schema.FINDINGS[c] for c in rows[0]})
        .with_columns(
            pl.lit(None, dtype=t).alias(c) for c, t in schema.FINDINGS.items() if c not in rows[0]
        )
        .select(list(schema.FINDINGS))
    )


def evidence_of(frame: pl.DataFrame, policy_id: str, resource_id: str) -> dict[str, Any]:
    row = frame.filter((pl.col("policy_id") == policy_id) & (pl.col("resource_id") == resource_id))
    assert row.height == 1
    parsed: dict[str, Any] = json.loads(row["evidence"][0])
    return parsed


def test_same_advice_on_the_same_resource_agrees_with_googles_figure() -> None:
    inv = inventory([advice(VM, "stop", 141.79)])
    out = provider_advice.cross_check(findings_frame([finding("rightsizing.idle", VM)]), inv)
    ev = evidence_of(out, "rightsizing.idle", VM)
    # What the policy wrote is kept, first.
    assert next(iter(ev)) == "formula"
    assert ev["provider_advice"]["verdict"] == "agrees"
    assert ev["provider_advice"]["recommender"] == "google.compute.instance.IdleResourceRecommender"
    assert ev["provider_advice_monthly_savings"] == 141.79
    assert (
        out["detail"][0] == "Flagged. Google Recommender agrees (it projects 141.79 USD a month)."
    )
    # Nothing that counts changes.
    assert out["monthly_savings"].to_list() == [100.0]


def test_other_advice_on_the_resource_differs_and_names_googles_change() -> None:
    inv = inventory([advice(VM, "resize", 50.0, target="e2-standard-2")])
    out = provider_advice.cross_check(findings_frame([finding("rightsizing.idle", VM)]), inv)
    ev = evidence_of(out, "rightsizing.idle", VM)
    assert (ev["provider_advice"]["verdict"], ev["provider_advice"]["target"]) == (
        "differs",
        "e2-standard-2",
    )
    assert (
        "advises otherwise: Google says resize (it projects 50.00 USD a month)."
        in (out["detail"][0])
    )


def test_the_matching_kind_wins_over_other_advice_on_the_resource() -> None:
    inv = inventory([advice(VM, "resize", 300.0), advice(VM, "stop", 120.0)])
    out = provider_advice.cross_check(findings_frame([finding("rightsizing.idle", VM)]), inv)
    ev = evidence_of(out, "rightsizing.idle", VM)
    assert (ev["provider_advice"]["verdict"], ev["provider_advice_monthly_savings"]) == (
        "agrees",
        120.0,
    )


def test_no_advice_where_google_was_read_is_silent() -> None:
    out = provider_advice.cross_check(
        findings_frame([finding("storage.unattached-volume", DISK)]), inventory([])
    )
    ev = evidence_of(out, "storage.unattached-volume", DISK)
    assert ev["provider_advice"]["verdict"] == "silent"
    assert ev["provider_advice_monthly_savings"] is None
    assert out["detail"][0].endswith("Google Recommender does not flag this resource.")


def test_a_project_whose_recommender_failed_is_unavailable_not_silent() -> None:
    inv = inventory([])
    inv.errors.append(CollectorError("recommender.recommendations.list", P, "global", "403"))
    out = provider_advice.cross_check(findings_frame([finding("rightsizing.idle", VM)]), inv)
    assert evidence_of(out, "rightsizing.idle", VM)["provider_advice"]["verdict"] == "unavailable"


def test_findings_google_does_not_judge_and_other_clouds_are_left_as_they_are() -> None:
    rows = [
        finding("scheduling.offhours", VM),
        finding("rightsizing.idle", "i-0abc", provider="aws", account="111122223333"),
    ]
    before = findings_frame(rows)
    assert provider_advice.cross_check(before, inventory([])).equals(before)
    # Nor does a billing-only run claim Google's silence.
    focus = inventory([], provider="focus")
    idle = findings_frame([finding("rightsizing.idle", VM)])
    assert provider_advice.cross_check(idle, focus).equals(idle)


def test_googles_advice_on_a_flagged_resource_folds_into_the_finding_else_stays_listed() -> None:
    inv = inventory([advice(VM, "stop", 141.79), advice(VM2, "resize", 21.98, target="e2-small")])
    google = run_policy("rightsizing.google-recommender", inv)
    assert google.height == 2
    assert set(google["category"]) == {"review"}
    assert google["monthly_savings"].to_list() == [0.0, 0.0]
    ours = findings_frame([finding("rightsizing.idle", VM)])
    out = provider_advice.cross_check(pl.concat([ours, google], how="vertical"), inv)
    # vm-1's advice is answered by costscan's idle finding; vm-2's is Google's alone.
    assert sorted(zip(out["policy_id"], out["resource_id"], strict=True)) == [
        ("rightsizing.google-recommender", VM2),
        ("rightsizing.idle", VM),
    ]
    alone = evidence_of(out, "rightsizing.google-recommender", VM2)
    assert alone["provider_advice"]["verdict"] == "only_google"
    assert alone["provider_advice_monthly_savings"] == 21.98
    assert out.columns == list(schema.FINDINGS)


def test_evidence_without_members_or_missing_gets_a_well_formed_object() -> None:
    rows = [
        finding("rightsizing.idle", VM, evidence="{}"),
        finding("rightsizing.overprovisioned", VM2, evidence=None),
    ]
    out = provider_advice.cross_check(findings_frame(rows), inventory([]))
    for text in out["evidence"]:
        assert json.loads(text)["provider_advice"]["verdict"] == "silent"


def test_every_policy_the_cross_check_names_is_registered() -> None:
    registered = set(all_policies())
    assert set(provider_advice.COMPARED) <= registered
    assert registered.issuperset(provider_advice.ADVICE_POLICIES)
