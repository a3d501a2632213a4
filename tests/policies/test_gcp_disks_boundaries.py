"""storage.pd-ssd-to-pd-balanced at each limit, worked by hand (issue 21).

Persistent Disk limits (https://cloud.google.com/compute/docs/disks/performance):
pd-balanced min(3,000 + 6 × GB, 80,000) IOPS and min(140 + 0.28 × GB, 1,200) MiB/s; pd-ssd
min(6,000 + 30 × GB, 100,000) IOPS and min(240 + 0.48 × GB, 1,200) MiB/s. A measured disk
saves when both busiest-minute peaks are at or under 80% of pd-balanced's. Prices:
us-central1 pd-ssd $0.17 and pd-balanced $0.10 a GB-month
(https://cloud.google.com/compute/disks-image-pricing). Written against the mutants that
survived tests/policies/test_gcp_disks.py
(``python benchmarks/mutation.py policies/gcp_disks.py``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from costscan.policies.gcp_disks import PdSsdToBalancedParams
from tests.policies.runner import run_policy
from tests.policies.test_gcp_disks import POLICY, disk, inventory, io

CENT = 0.005


def one(
    disks: list[dict[str, Any]], utilization: list[dict[str, Any]], **params: Any
) -> dict[str, Any] | None:
    found = run_policy(POLICY, inventory(disks, utilization), **params)
    assert found.height <= 1
    if found.is_empty():
        return None
    row = found.row(0, named=True)
    row["evidence"] = json.loads(row["evidence"])
    return row


def test_the_published_headroom_is_the_default() -> None:
    assert PdSsdToBalancedParams() == PdSsdToBalancedParams(
        headroom=0.8,
        min_coverage=0.8,
        confidence=0.85,
        unmeasured_confidence=0.4,
        fallback_price_factor=0.8,
    )


@pytest.mark.parametrize(
    ("size", "iops", "mibps", "fits"),
    [
        # 500 GB: pd-balanced gives 3,000 + 3,000 = 6,000 IOPS (80%: 4,800) and
        # 140 + 140 = 280 MiB/s (80%: 224). At the line fits; half a unit over does not.
        (500, 4800.0, 224.0, True),
        (500, 4800.5, 100.0, False),
        (500, 100.0, 224.5, False),
        # 13,000 GB: 3,000 + 78,000 = 81,000 IOPS, capped at 80,000 (80%: 64,000).
        (13000, 64000.0, 100.0, True),
        (13000, 64000.5, 100.0, False),
        (13000, 64500.0, 100.0, False),
        # 4,000 GB: 140 + 1,120 = 1,260 MiB/s, capped at 1,200 (80%: 960).
        (4000, 100.0, 960.0, True),
        (4000, 100.0, 960.5, False),
        (4000, 100.0, 1000.0, False),
    ],
)
def test_peaks_at_80_percent_of_pd_balanced_fit(
    size: int, iops: float, mibps: float, fits: bool
) -> None:
    found = one([disk("db", size)], io("db", iops, mibps))
    if not fits:
        assert found is None
        return
    assert found is not None
    # size × (0.17 − 0.10).
    assert found["monthly_savings"] == pytest.approx(size * 0.07, abs=CENT)
    assert found["current_monthly_cost"] == pytest.approx(size * 0.17, abs=CENT)
    assert found["category"] == "savings"
    assert found["confidence"] == pytest.approx(0.85)
    assert found["evidence"]["peak_iops"] == iops
    assert found["evidence"]["peak_mibps"] == mibps
    assert found["evidence"]["io_hours_coverage"] == 1.0


@pytest.mark.parametrize(
    ("size", "balanced", "ssd"),
    [
        # 500 GB: pd-ssd 6,000 + 15,000 = 21,000 IOPS and 240 + 240 = 480 MiB/s.
        (500, (6000.0, 280.0), (21000.0, 480.0)),
        # 4,000 GB: 6,000 + 120,000 capped at 100,000; 240 + 1,920 capped at 1,200.
        (4000, (27000.0, 1200.0), (100000.0, 1200.0)),
    ],
)
def test_the_limits_shown_are_the_published_ones(
    size: int, balanced: tuple[float, float], ssd: tuple[float, float]
) -> None:
    found = one([disk("db", size)], io("db", 10.0, 1.0))
    assert found is not None
    evidence = found["evidence"]
    assert (evidence["pd_balanced_iops"], evidence["pd_balanced_mibps"]) == balanced
    assert (evidence["pd_ssd_iops"], evidence["pd_ssd_mibps"]) == ssd
    assert evidence["headroom"] == 0.8
    assert (
        f"pd-balanced at {size} GB gives {balanced[0]:g} IOPS and {balanced[1]:g} MiB/s "
        f"(pd-ssd: {ssd[0]:g} IOPS and {ssd[1]:g} MiB/s)"
    ) in found["detail"]


@pytest.mark.parametrize(("hours", "category"), [(269, "savings"), (268, "possible")])
def test_io_figures_for_80_percent_of_the_lookback_are_enough(hours: int, category: str) -> None:
    # 336 hours: 269 is 80.06%, 268 is 79.76%.
    found = one([disk("db", 500)], io("db", 100.0, 10.0, hours=hours))
    assert found is not None
    assert found["category"] == category
    assert found["evidence"]["io_hours_coverage"] == pytest.approx(hours / 336)


def test_coverage_exactly_at_the_minimum_is_measured() -> None:
    # 168 of 336 hours is exactly 0.5; a busy disk measured that long is left alone.
    assert one([disk("db", 500)], io("db", 9000.0, 10.0, hours=168), min_coverage=0.5) is None
    found = one([disk("db", 500)], io("db", 9000.0, 10.0, hours=167), min_coverage=0.5)
    assert found is not None and found["category"] == "possible"


def test_one_counter_alone_is_not_a_measurement() -> None:
    # Operations without bytes: coverage is the lower of the two, 0.
    ops_only = [r for r in io("db", 100.0, 10.0) if r["metric"] == "disk_ops"]
    found = one([disk("db", 500)], ops_only)
    assert found is not None
    assert found["category"] == "possible"
    assert found["confidence"] == pytest.approx(0.4)
    assert found["evidence"]["io_hours_coverage"] == 0.0
    # Bytes without operations: the same.
    bytes_only = [r for r in io("db", 100.0, 10.0) if r["metric"] == "disk_throughput"]
    found = one([disk("db", 500)], bytes_only)
    assert found is not None
    assert found["category"] == "possible"
    assert found["evidence"]["io_hours_coverage"] == 0.0


def test_another_regions_prices_lower_the_confidence() -> None:
    # Bundled prices of us-central1 standing in for a region not bundled: × 0.8.
    measured = one([disk("db", 500, region="me-west1")], io("db", 100.0, 10.0))
    unmeasured = one([disk("db", 500, region="me-west1")], [])
    assert measured is not None and unmeasured is not None
    assert measured["confidence"] == pytest.approx(0.85 * 0.8)
    assert unmeasured["confidence"] == pytest.approx(0.4 * 0.8)
    # No I/O figure at all: the evidence says 0% of the hours, not null.
    assert unmeasured["evidence"]["io_hours_coverage"] == 0.0
    assert unmeasured["evidence"]["peak_iops"] is None


def test_no_cheaper_balanced_price_is_no_finding() -> None:
    same = disk("db", 500) | {"price_pd_balanced_gb_month": 0.17}
    assert one([same], io("db", 100.0, 10.0)) is None
    unpriced = disk("db", 500) | {"price_pd_balanced_gb_month": None}
    assert one([unpriced], io("db", 100.0, 10.0)) is None


def test_a_saving_under_a_dollar_still_counts() -> None:
    # 10 GB: 10 × 0.07 = $0.70 a month; pd-balanced gives 3,060 IOPS and 142.8 MiB/s.
    found = one([disk("boot", 10)], io("boot", 100.0, 10.0))
    assert found is not None
    assert found["monthly_savings"] == pytest.approx(0.70, abs=CENT)
    assert found["category"] == "savings"
