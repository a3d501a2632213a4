"""storage.pd-ssd-to-pd-balanced over small hand-built inventories.

Prices: us-central1 list prices, pd-ssd $0.17 and pd-balanced $0.10 per GB-month
(https://cloud.google.com/compute/disks-image-pricing). Limits: pd-balanced gives
3,000 + 6 IOPS and 140 + 0.28 MiB/s per GB (https://cloud.google.com/compute/docs/disks/performance).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from costscan.scanner.contracts.inventory import Inventory, RunContext
from tests.policies.runner import run_policy

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
POLICY = "storage.pd-ssd-to-pd-balanced"
VM = "projects/p/zones/us-central1-a/instances/db-1"


def disk(name: str, size_gb: float, *, volume_type: str = "pd-ssd", attached: bool = True,
         region: str = "us-central1") -> dict[str, Any]:  # fmt: skip
    per_gb = {"pd-ssd": 0.17, "pd-balanced": 0.10}[volume_type]
    return {
        "provider": "gcp",
        "account_id": "p",
        "region": region,
        "resource_id": f"projects/p/zones/us-central1-a/disks/{name}",
        "resource_name": name,
        "resource_type": "persistent_disk",
        "volume_type": volume_type,
        "size_gb": size_gb,
        "attached_to": VM if attached else None,
        "state": "in-use" if attached else "available",
        "monthly_price": size_gb * per_gb,
        "price_source": "bundled",
        "price_storage_gb_month": per_gb,
        "price_pd_balanced_gb_month": 0.10,
        "price_region": "us-central1",
        "price_reference": "https://cloud.google.com/compute/disks-image-pricing",
    }


def io(name: str, peak_iops: float, peak_mibps: float, hours: int = 336) -> list[dict[str, Any]]:
    """Hourly busiest-minute figures, the peak in the last hour, a tenth of it before."""
    rid = f"projects/p/zones/us-central1-a/disks/{name}"
    start = NOW.replace(minute=0) - timedelta(hours=hours)
    rows = []
    for h in range(hours):
        share = 1.0 if h == hours - 1 else 0.1
        ts = start + timedelta(hours=h)
        rows.append({"resource_id": rid, "metric": "disk_ops", "statistic": "maximum",
                     "ts": ts, "value": peak_iops * share})  # fmt: skip
        rows.append({"resource_id": rid, "metric": "disk_throughput", "statistic": "maximum",
                     "ts": ts, "value": peak_mibps * share})  # fmt: skip
    return rows


def inventory(disks: list[dict[str, Any]], utilization: list[dict[str, Any]]) -> Inventory:
    inv = Inventory(provider="gcp", context=RunContext(now=NOW, lookback_days=14))
    inv.add("volumes", pl.DataFrame(disks))
    if utilization:
        inv.add("utilization", pl.DataFrame(utilization))
    return inv


def test_pd_ssd_whose_busiest_minute_fits_pd_balanced_saves_the_per_gb_difference() -> None:
    # 400 GB: pd-balanced gives 5,400 IOPS and 252 MiB/s; 80% of that is 4,320 and 201.6.
    inv = inventory([disk("db", 400)], io("db", 4300, 200))
    out = run_policy(POLICY, inv).row(0, named=True)
    assert round(out["monthly_savings"], 6) == round(400 * (0.17 - 0.10), 6)  # $28.00
    assert out["category"] == "savings"
    assert out["current_monthly_cost"] == 400 * 0.17
    assert "4300 IOPS" in out["detail"] and "5400 IOPS" in out["detail"]
    assert '"peak_iops":4300.0' in out["evidence"]


def test_pd_ssd_busier_than_pd_balanced_serves_is_left_alone() -> None:
    # 4,400 IOPS is over 80% of 5,400; 210 MiB/s over 80% of 252 on the other disk.
    inv = inventory(
        [disk("iops", 400), disk("mibps", 400)],
        io("iops", 4400, 50) + io("mibps", 1000, 210),
    )
    assert run_policy(POLICY, inv).height == 0


def test_pd_ssd_without_io_figures_is_a_possible_saving_only() -> None:
    out = run_policy(POLICY, inventory([disk("quiet", 100)], [])).row(0, named=True)
    assert out["category"] == "possible"
    assert out["confidence"] < 0.5
    assert round(out["monthly_savings"], 6) == 7.0
    assert "not known" in out["detail"]


def test_a_few_hours_of_io_figures_are_not_enough_to_count() -> None:
    inv = inventory([disk("new", 400)], io("new", 100, 10, hours=24))
    assert run_policy(POLICY, inv).row(0, named=True)["category"] == "possible"


def test_unattached_and_balanced_disks_are_not_this_policys() -> None:
    inv = inventory(
        [disk("orphan", 500, attached=False), disk("already", 200, volume_type="pd-balanced")],
        io("already", 10, 1),
    )
    assert run_policy(POLICY, inv).height == 0
