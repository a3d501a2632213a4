"""Storage policies on small inventories: each fires and does not, to the cent."""

from __future__ import annotations

import json

import polars as pl
import pytest

from costscan.scanner.contracts.inventory import Inventory
from tests.policies.runner import run_policy
from tests.policies.storage_inventories import bucket, inventory, snapshot, volume

GIB = 1024.0**3


def run(policy_id: str, inv: Inventory, **params: object) -> pl.DataFrame:
    return run_policy(policy_id, inv, **params)


def test_unattached_volume_saves_its_price_and_pays_a_snapshot() -> None:
    inv = inventory(
        volumes=[
            volume("vol-old", "gp2", 100, 10.0),
            volume("vol-new", "gp2", 100, 10.0, age_days=2),
            volume("vol-used", "gp2", 100, 10.0, attached_to="i-1", attached_state="running"),
        ]
    )
    out = run("storage.unattached-volume", inv)
    assert out["resource_id"].to_list() == ["vol-old"]
    assert out["monthly_savings"].item() == pytest.approx(10.0)
    assert out["added_monthly_cost"].item() == pytest.approx(100 * 0.05)
    without = run("storage.unattached-volume", inv, snapshot_before_delete=False)
    assert without["added_monthly_cost"].item() == 0.0


def test_stopped_instance_volume_needs_the_threshold() -> None:
    inv = inventory(
        volumes=[
            volume(
                "vol-a",
                "gp3",
                50,
                4.0,
                attached_to="i-1",
                attached_state="stopped",
                stopped_days=45,
            ),
            volume(
                "vol-b", "gp3", 50, 4.0, attached_to="i-2", attached_state="stopped", stopped_days=5
            ),
        ]
    )
    out = run("storage.stopped-instance-volume", inv)
    assert out["resource_id"].to_list() == ["vol-a"]
    assert out["monthly_savings"].item() == pytest.approx(4.0)
    assert run("storage.stopped-instance-volume", inv, min_stopped_days=60).height == 0


def test_gp2_to_gp3_charges_performance_above_the_included_baseline() -> None:
    inv = inventory(
        volumes=[
            volume("vol-small", "gp2", 100, 10.0, attached_to="i-1", attached_state="running"),
            volume("vol-big", "gp2", 2000, 200.0, attached_to="i-1", attached_state="running"),
            volume("vol-gp3", "gp3", 100, 8.0, attached_to="i-1", attached_state="running"),
        ]
    )
    out = run("storage.gp2-to-gp3", inv).sort("resource_id")
    assert out["resource_id"].to_list() == ["vol-big", "vol-small"]
    big, small = out.row(0, named=True), out.row(1, named=True)
    assert small["monthly_savings"] == pytest.approx(2.0)
    assert small["added_monthly_cost"] == pytest.approx(3 * 0.04)  # 128 MB/s vs 125
    assert small["performance"] == "improves"
    # 2,000 GiB: 6,000 IOPS and 250 MB/s baseline to match.
    assert big["monthly_savings"] == pytest.approx(40.0)
    assert big["added_monthly_cost"] == pytest.approx(3000 * 0.005 + 125 * 0.04)
    assert big["performance"] == "neutral"


def test_io1_moves_are_priced_both_ways() -> None:
    low = 400 * 0.125 + 10000 * 0.065
    high = 1000 * 0.125 + 40000 * 0.065
    inv = inventory(
        volumes=[
            volume("vol-low", "io1", 400, low, iops=10000),
            volume("vol-high", "io1", 1000, high, iops=40000),
        ]
    )
    io2 = run("storage.io1-to-io2", inv)
    assert io2["resource_id"].to_list() == ["vol-high"]
    assert io2["monthly_savings"].item() == pytest.approx(8000 * (0.065 - 0.0455))
    gp3 = run("storage.io1-to-gp3", inv)
    assert gp3["resource_id"].to_list() == ["vol-low"]
    expected = low - (400 * 0.08 + 7000 * 0.005 + 375 * 0.04)
    assert gp3["monthly_savings"].item() == pytest.approx(expected)


def test_stale_snapshot_skips_those_an_ami_uses() -> None:
    inv = inventory(
        snapshots=[
            snapshot("snap-old", 100, age_days=400, source_exists=True, used=False),
            snapshot("snap-orphan", 20, age_days=10, source_exists=False, used=False),
            snapshot("snap-ami", 50, age_days=400, source_exists=False, used=True),
            snapshot("snap-fresh", 50, age_days=10, source_exists=True, used=False),
        ]
    )
    out = run("storage.stale-snapshot", inv).sort("resource_id")
    assert out["resource_id"].to_list() == ["snap-old", "snap-orphan"]
    assert out["monthly_savings"].to_list() == [pytest.approx(5.0), pytest.approx(1.0)]
    assert "incremental" in json.loads(out["evidence"][0])["confidence_reason"]


def test_bucket_without_lifecycle_prices_a_basic_rule() -> None:
    size, objects = 1024 * GIB, 1024 * 1024.0  # 1 MiB objects
    inv = inventory(
        buckets=[
            bucket(
                "raw", size, objects, has_lifecycle=False, upload_bytes=10 * GIB, upload_age_days=30
            ),
            bucket("ruled", size, objects, has_lifecycle=True, transitions=True, aborts=True),
            bucket("tiny", 10 * GIB, 10 * GIB / 1024, has_lifecycle=False),  # 1 KiB objects
        ]
    )
    out = run("storage.bucket-without-lifecycle", inv).sort("resource_id")
    assert out["resource_id"].to_list() == ["raw", "tiny"]
    raw = out.row(0, named=True)
    assert raw["monthly_savings"] == pytest.approx(512 * (0.023 - 0.0125) + 10 * 0.023)
    assert raw["upfront_cost"] == pytest.approx(objects * 0.5 / 1000 * 0.01)
    # Objects under 128 KB: no tiering saving, and nothing else to save.
    assert out.row(1, named=True)["monthly_savings"] == 0.0
    assert json.loads(raw["evidence"])["confidence_reason"].startswith(
        "access patterns are unknown"
    )


def test_standard_tiering_and_uploads_only_where_rules_lack_them() -> None:
    size, objects = 1024 * GIB, 1024 * 1024.0
    inv = inventory(
        buckets=[
            bucket(
                "keeps", size, objects, has_lifecycle=True, upload_bytes=GIB, upload_age_days=20
            ),
            bucket(
                "moves",
                size,
                objects,
                has_lifecycle=True,
                transitions=True,
                aborts=True,
                upload_bytes=GIB,
                upload_age_days=20,
            ),
            bucket("none", size, objects, has_lifecycle=False),
        ]
    )
    tiering = run("storage.standard-tiering", inv)
    assert tiering["resource_id"].to_list() == ["keeps"]
    assert tiering["monthly_savings"].item() == pytest.approx(512 * 0.0105)
    uploads = run("storage.incomplete-multipart-uploads", inv)
    assert uploads["resource_id"].to_list() == ["keeps"]
    assert uploads["monthly_savings"].item() == pytest.approx(0.023)


def test_region_without_bundled_prices_lowers_confidence() -> None:
    inv = inventory(volumes=[volume("vol-x", "gp2", 100, 10.0, price_region="us-east-1")])
    inv_fallback = inventory(volumes=[{**volume("vol-x", "gp2", 100, 10.0), "region": "sa-east-1"}])
    base = run("storage.unattached-volume", inv)["confidence"].item()
    fallback = run("storage.unattached-volume", inv_fallback)["confidence"].item()
    assert fallback == pytest.approx(base * 0.8)
