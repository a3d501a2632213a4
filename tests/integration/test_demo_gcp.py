"""`costscan demo --provider gcp` end to end, in a fresh interpreter (the demo puts the
fake's endpoints in its own environment): the seeded fake, the scan through the real SDK
clients, the policies, ranking and the reports.

Each saving is worked out here from the bundle's cited rates with ``decimal``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

N2_CORE, N2_RAM = Decimal("0.031611"), Decimal("0.004237")
E2_CORE, E2_RAM = Decimal("0.02181159"), Decimal("0.00292353")
HOURS = Decimal(730)
CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def test_gcp_demo_finds_the_five_seeded_kinds_priced_from_gcp_list_prices(tmp_path: Path) -> None:
    env_free = {k: v for k, v in os.environ.items() if not k.startswith("COSTSCAN_GCP")}
    done = subprocess.run(
        [sys.executable, "-m", "costscan.scanner.app.cli", "demo", "--provider", "gcp",
         "--output-dir", str(tmp_path), "--format", "json,md"],
        capture_output=True, text=True, timeout=300, env=env_free,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(next(tmp_path.glob("costscan-gcp-costscan-demo-*.json")).read_text())
    assert report["run"]["provider"] == "gcp"
    assert report["errors"] == []
    by_policy = {(f["policy_id"], f["resource_name"]): f for f in report["findings"]}

    # Idle VM: n2-standard-4 = 4 vCPUs + 16 GiB at N2 rates, all of it.
    idle = by_policy[("rightsizing.idle", "batch-idle-1")]
    assert money(Decimal(str(idle["monthly_savings_before_discounts"]))) == money(
        (4 * N2_CORE + 16 * N2_RAM) * HOURS
    )  # $141.79
    assert idle["counted"] and idle["price_source"] == "bundled"

    # Over-sized VM: n2-standard-8 to e2-highmem-2 (2 vCPUs, 16 GiB: a quarter of 32 GiB is
    # used, so 16 GiB keeps memory under 80%), the difference at list price.
    oversized = by_policy[("rightsizing.overprovisioned", "api-oversized")]
    e2_highmem_2 = (2 * E2_CORE + 16 * E2_RAM).quantize(Decimal("0.000001"))
    assert "e2-highmem-2" in oversized["recommendation"]
    assert money(Decimal(str(oversized["monthly_savings_before_discounts"]))) == money(
        (8 * N2_CORE + 32 * N2_RAM - e2_highmem_2) * HOURS
    )  # $217.59
    # The move leaves the N2 commitment's scope: only what its uncovered pool absorbs
    # counts now, the rest when the CUD ends.
    assert oversized["monthly_savings"] < oversized["monthly_savings_before_discounts"]
    assert oversized["deferred_monthly_savings"] > 0

    # Unattached disk: 500 GB pd-ssd at $0.17 per GB-month.
    disk = by_policy[("storage.unattached-volume", "orphan-data")]
    assert money(Decimal(str(disk["monthly_savings"]))) == money(500 * Decimal("0.17"))

    # Unused static address: $0.01 an hour.
    address = by_policy[("network.unused-static-address", "legacy-lb-ip (203.0.113.7)")]
    assert money(Decimal(str(address["monthly_savings"]))) == money(Decimal("0.01") * HOURS)

    # Bucket without lifecycle: half of 2,048 GiB from Standard ($0.020) to Nearline ($0.010).
    bucket = by_policy[("storage.gcs-bucket-without-lifecycle", "costscan-demo-logs-archive")]
    assert money(Decimal(str(bucket["monthly_savings"]))) == money(
        2048 * Decimal("0.5") * (Decimal("0.020") - Decimal("0.010"))
    )
    # Buckets with a lifecycle rule or Autoclass are left alone.
    assert ("storage.gcs-bucket-without-lifecycle", "costscan-demo-assets") not in by_policy
    assert ("storage.gcs-bucket-without-lifecycle", "costscan-demo-ml") not in by_policy

    # No AWS-only advice on GCP resources.
    assert not {f["policy_id"] for f in report["findings"]} & {
        "rightsizing.graviton",
        "commitments.spot",
        "commitments.compute-commitment",
        "storage.bucket-without-lifecycle",
        "network.idle-elastic-ip",
    }
