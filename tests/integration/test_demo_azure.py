"""`costscan demo --provider azure` end to end, in a fresh interpreter (the demo puts the
fake's endpoint and certificate in its own environment): the seeded HTTPS fake, the scan
through the real azure-mgmt clients, the policies, ranking and the reports.

Each saving is worked out here with ``decimal`` from the eastus retail prices the bundle
cites (Standard_D4s_v5 $0.192, Standard_D8s_v5 $0.384 and Standard_E2s_v5 $0.126 an hour;
Premium SSD P20 (512 GiB) $73.22 and P10 (128 GiB) $19.71, Standard HDD S30 (1 TiB)
$40.96 a month; snapshots $0.05 per GB-month; a Standard static public IP $0.005 an hour),
and from the demo's Cost Management rows where they bill a resource.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

DEMO_SUBSCRIPTION = "00000000-0000-4000-8000-0000c0575ca1"

HOURS = Decimal(730)
SNAPSHOT_GB_MONTH = Decimal("0.05")
CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def figure(finding: dict[str, Any], column: str) -> Decimal:
    return money(Decimal(str(finding[column])))


def test_azure_demo_finds_the_seeded_waste_priced_from_azure_retail_prices(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COSTSCAN_AZURE")}
    done = subprocess.run(
        [sys.executable, "-m", "costscan.scanner.app.cli", "demo", "--provider", "azure",
         "--output-dir", str(tmp_path), "--format", "json,md"],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(next(tmp_path.glob("costscan-azure-*.json")).read_text())
    assert report["run"]["provider"] == "azure"
    assert report["errors"] == []
    by_policy = {(f["policy_id"], f["resource_name"]): f for f in report["findings"]}

    # Idle VM: a Standard_D4s_v5 running all month, all of it, at what Cost Management
    # billed it (a savings plan: $0.1536 an hour amortized, 336 h over the lookback), not
    # its $0.192 list price.
    idle = by_policy[("rightsizing.idle", "batch-idle-1")]
    assert figure(idle, "monthly_savings") == money(Decimal("0.1536") * HOURS)  # $112.13
    assert idle["counted"] and idle["price_source"] == "billing"

    # Over-sized VM: p99 CPU about 11% of 8 vCPUs and 8 of 32 GiB used. Standard_E2s_v5
    # (2 vCPUs, 16 GiB) keeps projected p99 CPU under 70% (11 × 8 / 2 = 44%) and memory
    # under 80% (8 / 16 = 50%), and is the cheapest size that does.
    oversized = by_policy[("rightsizing.overprovisioned", "api-oversized")]
    assert "Standard_E2s_v5" in oversized["recommendation"]
    assert figure(oversized, "monthly_savings") == money(
        (Decimal("0.384") - Decimal("0.126")) * HOURS
    )  # $188.34

    # Unattached Premium SSD of 512 GiB bills P20; a snapshot of it first costs 512 × $0.05.
    disk = by_policy[("storage.unattached-volume", "orphan-data")]
    assert figure(disk, "monthly_savings") == Decimal("73.22")
    assert figure(disk, "added_monthly_cost") == money(512 * SNAPSHOT_GB_MONTH)  # $25.60
    assert disk["counted"]
    # The 1 TiB Standard HDD (S30, $40.96) would cost more to snapshot (1,024 × $0.05 =
    # $51.20) than to keep: it nets below zero and never counts.
    cheap = by_policy[("storage.unattached-volume", "old-export")]
    assert figure(cheap, "monthly_savings") == Decimal("40.96")
    assert figure(cheap, "added_monthly_cost") == money(1024 * SNAPSHOT_GB_MONTH)
    assert not cheap["counted"]

    # The OS disk of the VM deallocated 45 days ago: P10, still billed.
    kept = by_policy[("storage.stopped-instance-volume", "build-old_OsDisk_1")]
    assert figure(kept, "monthly_savings") == Decimal("19.71")

    # The 2-year-old snapshot of a disk that is gone: 256 GB × $0.05 at most.
    snapshot = by_policy[("storage.stale-snapshot", "nightly-2024-11")]
    assert figure(snapshot, "monthly_savings") == money(256 * SNAPSHOT_GB_MONTH)  # $12.80

    # The Standard static public IP associated with nothing: $0.005 an hour.
    address = by_policy[("network.unused-static-address", "legacy-lb-ip (203.0.113.7)")]
    assert figure(address, "monthly_savings") == money(Decimal("0.005") * HOURS)  # $3.65

    # The storage account without a lifecycle policy: half of its 2,048 GiB in Hot ($0.018)
    # moved to Cool ($0.010), one $0.10-per-10,000 write per blob moved (210,000 of them).
    # At the low confidence of an assumed cold share it is a possible saving, not counted.
    blob = by_policy[("storage.azure-blob-without-lifecycle", "costscandemologs")]
    assert figure(blob, "monthly_savings") == money(
        2048 * Decimal("0.5") * (Decimal("0.018") - Decimal("0.010"))
    )  # $8.19
    assert figure(blob, "upfront_cost") == money(210_000 * Decimal("0.10") / 10_000)  # $2.10
    assert ("storage.azure-blob-without-lifecycle", "costscandemoassets") not in by_policy

    # A NAT gateway attached to no subnet ($0.045 an hour, nothing processed) and a
    # Standard load balancer with no backend (first five rules, $0.025 an hour).
    nat = by_policy[("network.idle-nat-gateway", "nat-legacy")]
    assert figure(nat, "monthly_savings") == money(Decimal("0.045") * HOURS)  # $32.85
    lb = by_policy[("network.idle-load-balancer", "lb-retired")]
    assert figure(lb, "monthly_savings") == money(Decimal("0.025") * HOURS)  # $18.25
    assert ("network.idle-load-balancer", "lb-web") not in by_policy
    assert "az network public-ip delete" in address["recommendation"]

    # The dev box (tag env=dev) busy in office hours only is scheduled, not resized.
    assert by_policy[("scheduling.offhours", "dev-box")]["counted"]
    # Busy and Spot VMs are left alone.
    named = {name for _, name in by_policy}
    assert not {"web-1", "web-2", "ci-runner"} & named

    # Azure Advisor beside each comparable finding: its savingsAmount a month, at retail.
    def advice(f: dict[str, Any]) -> tuple[object, object]:
        evidence = f["evidence"]  # the JSON report gives evidence as an object
        return evidence["provider_advice"]["verdict"], evidence["provider_advice_monthly_savings"]

    assert advice(idle) == ("agrees", 140.16)  # shut down: $0.192 × 730, at retail
    assert "Azure Advisor agrees" in idle["detail"]
    assert "Advisor prices at retail" in idle["detail"]
    # A resize too, to Standard_D4s_v5 ($0.384 − $0.192) × 730 = $140.16 where costscan picks
    # Standard_E2s_v5: the figures differ, and the detail says Advisor prices at retail.
    assert advice(oversized) == ("agrees", 140.16)
    assert "Advisor prices at retail" in oversized["detail"]
    # Advisor is silent on the disk and the address costscan flags ...
    assert advice(disk) == ("silent", None) and advice(address) == ("silent", None)
    # ... and advises resizing dev-box to Standard_B2s, which costscan schedules instead: a
    # review finding that counts nothing, ($0.096 − $0.0416) × 730 = $39.71 by Advisor.
    only_advisor = by_policy[("rightsizing.azure-advisor", "dev-box")]
    assert (only_advisor["category"], only_advisor["counted"]) == ("review", False)
    assert advice(only_advisor) == ("only_advisor", 39.71)
    assert money((Decimal("0.096") - Decimal("0.0416")) * HOURS) == Decimal("39.71")
    # Advisor's reservation advice for the steady web VMs: listed for review, not counted.
    reserve = by_policy[("commitments.azure-advisor", DEMO_SUBSCRIPTION)]
    assert (reserve["category"], reserve["counted"]) == ("review", False)
    assert advice(reserve) == ("only_advisor", 113.53)
    assert reserve["evidence"]["provider_advice"]["target"] == "Standard_D4s_v5"
    # Advice costscan answers is folded into its finding, not listed twice.
    assert not any(p == "rightsizing.azure-advisor" and n != "dev-box" for p, n in by_policy)

    # No AWS- or Google-only advice on Azure resources.
    assert not {f["policy_id"] for f in report["findings"]} & {
        "rightsizing.graviton",
        "rightsizing.google-recommender",
        "storage.google-recommender",
        "storage.gp2-to-gp3",
        "network.idle-elastic-ip",
    }
    # The Markdown's commands are Azure CLI, named so.
    markdown = next(tmp_path.glob("costscan-azure-*.md")).read_text()
    assert "Commands for the top changes (Azure CLI)" in markdown
    assert "az vm deallocate --ids" in markdown

    # The summary counts what the findings count.
    counted = sum(
        Decimal(str(f["net_monthly_savings"])) for f in report["findings"] if f["counted"]
    )
    assert money(Decimal(str(report["summary"]["monthly_savings"]))) == money(counted)
