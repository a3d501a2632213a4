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
from typing import Any

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

    # The Arm twin of Graviton: t2a-standard-8 ($0.308/h) for n2-standard-8 at list; the
    # resize to e2-highmem-2 saves more, so the Arm move is its alternative, not counted.
    arm = by_policy[("rightsizing.gcp-arm", "api-oversized")]
    assert money(Decimal(str(arm["monthly_savings_before_discounts"]))) == money(
        (8 * N2_CORE + 32 * N2_RAM - Decimal("0.308")) * HOURS
    )  # $58.74
    assert not arm["counted"] and oversized["counted"]

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

    # pd-ssd that pd-balanced serves: web-1-db's busiest minutes (at most 1,500 IOPS and
    # 60 MiB/s) fit pd-balanced at 400 GB (5,400 IOPS, 252 MiB/s): 400 × ($0.17 − $0.10).
    ssd = by_policy[("storage.pd-ssd-to-pd-balanced", "web-1-db")]
    assert money(Decimal(str(ssd["monthly_savings"]))) == money(400 * Decimal("0.07"))  # $28.00
    assert ssd["counted"] and ssd["category"] == "savings"
    assert ssd["evidence"]["peak_iops"] <= 1500 and ssd["evidence"]["pd_balanced_iops"] == 5400
    # dev-scratch reports no disk I/O: 100 × ($0.17 − $0.10) is possible, not counted.
    scratch = by_policy[("storage.pd-ssd-to-pd-balanced", "dev-scratch")]
    assert (scratch["category"], scratch["counted"]) == ("possible", False)
    assert money(Decimal(str(scratch["monthly_savings"]))) == money(100 * Decimal("0.07"))
    # The unattached pd-ssd is the unattached-volume policy's alone.
    assert ("storage.pd-ssd-to-pd-balanced", "orphan-data") not in by_policy

    # Cloud Logging: app-archive keeps 365 days of 2 GiB a day, 730 GiB; 60 GiB are within
    # the 30 days ingestion pays for, 670 GiB bill $0.01 a month each.
    retention = by_policy[("observability.gcp-log-retention", "app-archive (us-central1)")]
    assert money(Decimal(str(retention["monthly_savings"]))) == money(670 * Decimal("0.01"))
    assert retention["counted"]
    # _Default takes in 240 of the project's 300 GiB a month; 250 GiB bill past the free 50,
    # 4/5 of them _Default's: $100.00, half of it an estimated (possible) saving.
    ingestion = by_policy[("observability.gcp-log-ingestion", "_Default (global)")]
    assert money(Decimal(str(ingestion["current_monthly_cost"]))) == money(
        240 * Decimal(250) / 300 * Decimal("0.50")
    )
    assert money(Decimal(str(ingestion["monthly_savings"]))) == Decimal("50.00")
    assert (ingestion["category"], ingestion["counted"]) == ("possible", False)
    assert not any(n.startswith("_Required") for _p, n in by_policy)
    # checkout/latency: 1,000 series by user; dropping user_id leaves 2. The project's
    # 1,012 user-defined series less the 449 the free 150 MiB covers bill $0.2580 a MiB at
    # 43,800 × 8 bytes a series-month; after the drop, 14 series are all free.
    cardinality = by_policy[
        ("observability.metric-cardinality", "custom.googleapis.com/checkout/latency")
    ]
    mib_per_series = Decimal(43800 * 8) / Decimal(2**20)
    assert money(Decimal(str(cardinality["monthly_savings"]))) == money(
        (1012 - 449) * Decimal("0.2580") * mib_per_series
    )  # $48.54
    assert cardinality["counted"] and "Embedded Metric Format" not in cardinality["recommendation"]

    # Google Recommender beside each finding: its 30-day projection per 730-hour month.
    def advice(f: dict[str, Any]) -> tuple[object, object]:
        evidence = f["evidence"]  # the JSON report gives evidence as an object
        return evidence["provider_advice"]["verdict"], evidence["provider_advice_monthly_savings"]

    month = Decimal(730) / Decimal(720)
    verdict, google = advice(idle)
    assert verdict == "agrees"
    assert money(Decimal(str(google))) == money(Decimal("139.85") * month)  # $141.79
    verdict, google = advice(oversized)
    assert verdict == "agrees"  # a resize too, to e2-standard-4 where costscan says e2-highmem-2
    assert money(Decimal(str(google))) == money(Decimal("183.20") * month)
    assert advice(disk)[0] == "agrees" and advice(address)[0] == "agrees"
    # Disagreements either way are listed: costscan flags old-export and Google does not ...
    silent = by_policy[("storage.unattached-volume", "old-export")]
    assert advice(silent) == ("silent", None)
    assert "Google Recommender does not flag this resource" in silent["detail"]
    # ... and Google advises resizing dev-box, which costscan only schedules: a review
    # finding that counts nothing.
    only_google = by_policy[("rightsizing.google-recommender", "dev-box")]
    assert (only_google["category"], only_google["counted"]) == ("review", False)
    assert only_google["monthly_savings"] == 0
    assert advice(only_google)[0] == "only_google"
    assert money(Decimal(str(advice(only_google)[1]))) == money(Decimal("21.68") * month)
    # Advice costscan answers is folded into its finding, not listed twice.
    assert not any(p == "rightsizing.google-recommender" and n != "dev-box" for p, n in by_policy)

    # The N2D commitment nothing uses: 8 vCPUs and 32 GiB at N2D rates less 37%, all of it
    # waste, outside the savings total.
    unused = by_policy[("commitments.gcp-unused-cud", "n2d-commitment-1y")]
    n2d = (8 * Decimal("0.027502") + 32 * Decimal("0.003686")) * HOURS * Decimal("0.63")
    assert money(Decimal(str(unused["monthly_savings"]))) == money(n2d)  # $155.43
    assert unused["category"] == "waste" and not unused["counted"]
    assert money(Decimal(str(report["summary"]["commitment_waste"]))) == money(n2d)

    # No AWS-only advice on GCP resources.
    assert not {f["policy_id"] for f in report["findings"]} & {
        "rightsizing.graviton",
        "commitments.spot",
        "commitments.compute-commitment",
        "storage.bucket-without-lifecycle",
        "network.idle-elastic-ip",
        "observability.log-ingestion",
    }
