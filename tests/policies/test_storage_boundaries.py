"""The storage policies at each threshold and each price tier, worked by hand (issue 21).

us-east-1 list prices (tests/policies/storage_inventories.py): gp2 $0.10/GB-month (the
volumes' monthly_price below is priced with it), gp3 $0.08/GB, $0.005 per IOPS above
3,000, $0.04 per MB/s above 125; io1 and io2 $0.125/GB, io1 $0.065 per IOPS, io2 $0.065 up
to 32,000, $0.0455 to 64,000, $0.032 above; snapshots $0.05/GB; S3 Standard $0.023/GB,
Standard-IA $0.0125, transitions $0.01 per 1,000, Intelligent-Tiering monitoring $0.0025
per 1,000 objects. Each test names the rule or tier it pins; they were written against the
mutants that survived tests/policies/test_storage.py
(``python benchmarks/mutation.py policies/storage.py``).
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest

from tests.policies.runner import run_policy
from tests.policies.storage_inventories import bucket, inventory, snapshot, volume

GIB = 1024.0**3
MIB_OBJECTS = 1024 * 1024.0  # 1 TiB of 1 MiB objects


def gp2(resource_id: str, size: float, price_per_gb: float = 0.10) -> dict[str, Any]:
    return volume(resource_id, "gp2", size, size * price_per_gb, attached_to="i-1",
                  attached_state="running")  # fmt: skip


def by_id(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {r["resource_id"]: r for r in frame.to_dicts()}


# --- volumes to delete -----------------------------------------------------------------


def test_unattached_volume_age_cutoff_is_seven_days_inclusive() -> None:
    # Trusted Advisor's 7-day lookback: 7 days old is flagged, 6.9 is not; no creation date
    # is not a reason to keep it.
    inv = inventory(
        volumes=[
            volume("vol-7", "gp2", 100, 10.0, age_days=7),
            volume("vol-6", "gp2", 100, 10.0, age_days=6.9),
            {**volume("vol-undated", "gp2", 100, 10.0), "created": None},
            {**volume("vol-unpriced", "gp2", 100, 10.0), "monthly_price": None},
        ]
    )
    out = run_policy("storage.unattached-volume", inv)
    assert sorted(out["resource_id"].to_list()) == ["vol-7", "vol-undated"]
    row = by_id(out)["vol-7"]
    # 10 saved; a first snapshot of 100 GiB at $0.05 = 5 added.
    assert (row["monthly_savings"], row["added_monthly_cost"]) == (10.0, 5.0)
    assert row["current_monthly_cost"] == 10.0
    evidence = json.loads(row["evidence"])
    assert evidence["snapshot_monthly"] == 5.0 and evidence["snapshot_before_delete"] is True


def test_stopped_instance_volume_cutoff_is_thirty_days_inclusive() -> None:
    # 30 days stopped is flagged, 29.9 is not; a running instance's volume and an unknown
    # stop date never are. 200 GiB gp3 at 16 a month: 16 saved, 200 × 0.05 = 10 added.
    def attached(resource_id: str, days: float | None, state: str = "stopped") -> dict[str, Any]:
        return volume(resource_id, "gp3", 200, 16.0, attached_to="i-1", attached_state=state,
                      stopped_days=days)  # fmt: skip

    inv = inventory(
        volumes=[
            attached("vol-30", 30),
            attached("vol-29", 29.9),
            attached("vol-running", 90, state="running"),
            attached("vol-unknown", None),
        ]
    )
    out = run_policy("storage.stopped-instance-volume", inv)
    assert out["resource_id"].to_list() == ["vol-30"]
    row = out.row(0, named=True)
    assert (row["monthly_savings"], row["added_monthly_cost"]) == (16.0, 10.0)
    assert "stopped since 2024-05-18 (30 days)" in row["detail"]
    # The instance is the unit: deleting it excludes the volume's other findings.
    assert row["exclusive_group"] == "i-1"


# --- gp2 -> gp3 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "iops", "throughput", "added"),
    [
        # 20 GiB: 60 IOPS raised to gp2's floor of 100; 128 MB/s: (128 − 125) × 0.04.
        (20, 100, 128, 0.12),
        # 170 GiB, the last size at 128 MB/s: 510 IOPS.
        (170, 510, 128, 0.12),
        # 171 GiB: above 170, 171 × 0.75 = 128.25 MB/s sustained: 3.25 × 0.04 = 0.13.
        (171, 513, 128.25, 0.13),
        # 200 GiB: 150 MB/s: 25 × 0.04 = 1.
        (200, 600, 150, 1.0),
        # 300 GiB: 225 MB/s: 100 × 0.04 = 4 (the 170-334 GiB range where burst reaches 250).
        (300, 900, 225, 4.0),
        # 400 GiB: 300 capped at 250 MB/s: 125 × 0.04 = 5.
        (400, 1200, 250, 5.0),
        # 1,000 GiB: 3,000 IOPS, all included: only throughput's 5.
        (1000, 3000, 250, 5.0),
        # 2,000 GiB: 6,000 IOPS: 3,000 × 0.005 = 15, + 5.
        (2000, 6000, 250, 20.0),
        # 6,000 GiB: 18,000 IOPS capped at gp2's 16,000: 13,000 × 0.005 = 65, + 5.
        (6000, 16000, 250, 70.0),
    ],
)
def test_gp2_baseline_and_gp3_extra_charges_at_each_size(
    size: float, iops: float, throughput: float, added: float
) -> None:
    out = run_policy("storage.gp2-to-gp3", inventory(volumes=[gp2("vol-1", size)]))
    row = out.row(0, named=True)
    # gp2 at 0.10 − gp3 at 0.08 per GB.
    assert row["monthly_savings"] == pytest.approx(size * 0.02)
    assert row["added_monthly_cost"] == pytest.approx(added)
    evidence = json.loads(row["evidence"])
    assert evidence["gp2_baseline_iops"] == pytest.approx(iops)
    assert evidence["gp2_baseline_throughput_mbps"] == pytest.approx(throughput)


def test_gp2_performance_improves_only_under_3000_baseline_iops() -> None:
    out = by_id(run_policy("storage.gp2-to-gp3", inventory(
        volumes=[gp2("vol-999", 999), gp2("vol-1000", 1000)])))  # fmt: skip
    assert out["vol-999"]["performance"] == "improves"  # 2,997 IOPS -> 3,000
    assert out["vol-1000"]["performance"] == "neutral"  # 3,000 -> 3,000


def test_gp2_to_gp3_detail_prices_gp3_with_its_extra_charges() -> None:
    # 300 GiB: gp3 costs 300 × 0.08 + 4 = 28 instead of 30; target 3,000 IOPS and 225 MB/s.
    row = run_policy("storage.gp2-to-gp3", inventory(volumes=[gp2("vol-1", 300)])).row(
        0, named=True
    )
    assert "it costs $28.00 instead of $30.00 a month" in row["detail"]
    assert "gp3 with 3000 IOPS and 225 MB/s" in row["recommendation"]


def test_gp2_whose_extra_charges_eat_the_saving_is_not_flagged() -> None:
    # Billed at 0.085/GB (a discount): 300 GiB saves 25.5 − 24 = 1.5 but adds 4: net −2.5.
    # At 0.0933.../GB (28 a month) the net is exactly 0: not flagged either; at 0.094 it is
    # 0.2 and flagged.
    inv = inventory(
        volumes=[
            gp2("vol-loss", 300, 0.085),
            {**gp2("vol-even", 300), "monthly_price": 28.0},
            gp2("vol-gain", 300, 0.094),
        ]
    )
    out = run_policy("storage.gp2-to-gp3", inv)
    assert out["resource_id"].to_list() == ["vol-gain"]
    assert out["monthly_savings"].item() == pytest.approx(28.2 - 24.0)
    assert out["added_monthly_cost"].item() == pytest.approx(4.0)


# --- io1 -> io2 ----------------------------------------------------------------------


def io1(resource_id: str, iops: float | None, size: float = 100) -> dict[str, Any]:
    price = size * 0.125 + (iops or 0) * 0.065
    return volume(resource_id, "io1", size, price, iops=iops)


@pytest.mark.parametrize(
    ("iops", "saving"),
    [
        # At or under 32,000 io2 prices IOPS like io1: nothing to save.
        (32000, None),
        # 40,000: 8,000 in tier 2 at 0.0455 instead of 0.065: 8,000 × 0.0195 = 156.
        (40000, 156.0),
        # 64,000: 32,000 in tier 2: 624.
        (64000, 624.0),
        # 80,000: 624 + 16,000 in tier 3 at 0.032 instead of 0.065: + 528 = 1,152.
        (80000, 1152.0),
    ],
)
def test_io2_iops_tiers(iops: float, saving: float | None) -> None:
    out = run_policy("storage.io1-to-io2", inventory(volumes=[io1("vol-1", iops)]))
    if saving is None:
        assert out.height == 0
        return
    row = out.row(0, named=True)
    assert row["monthly_savings"] == pytest.approx(saving)
    io1_price = 100 * 0.125 + iops * 0.065
    assert json.loads(row["evidence"])["io2_monthly_price"] == pytest.approx(io1_price - saving)


# --- io1 -> gp3 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iops", "throughput", "target", "gp3_extra"),
    [
        # 400 IOPS: 100 MB/s raised to gp3's included 125; the 3,000 included IOPS: no extra.
        (400, None, 125.0, 0.0),
        # 1,000 IOPS: 1,000 × 0.25 = 250 MB/s: 125 × 0.04 = 5.
        (1000, None, 250.0, 5.0),
        # 10,000 IOPS: 2,500 MB/s capped at io1's 500: 7,000 × 0.005 + 375 × 0.04 = 50.
        (10000, None, 500.0, 50.0),
        # 16,000, gp3's most: 13,000 × 0.005 + 375 × 0.04 = 80.
        (16000, None, 500.0, 80.0),
        # A reported 1,000 MB/s at 2,000 IOPS: gp3 allows 0.25 MB/s per IOPS of at least
        # 3,000: 750 MB/s: 625 × 0.04 = 25.
        (2000, 1000.0, 750.0, 25.0),
        # A reported 200 MB/s is kept: 75 × 0.04 = 3.
        (8000, 200.0, 200.0, 25.0 + 3.0),
        # A reported 1,200 MB/s at 16,000 IOPS: gp3's most, 1,000 MB/s: 65 + 875 × 0.04.
        (16000, 1200.0, 1000.0, 65.0 + 35.0),
    ],
)
def test_io1_to_gp3_target_throughput_and_price(
    iops: float, throughput: float | None, target: float, gp3_extra: float
) -> None:
    row = {**io1("vol-1", iops), "throughput": throughput}
    out = run_policy("storage.io1-to-gp3", inventory(volumes=[row]))
    found = out.row(0, named=True)
    gp3 = 100 * 0.08 + gp3_extra
    assert found["monthly_savings"] == pytest.approx(100 * 0.125 + iops * 0.065 - gp3)
    evidence = json.loads(found["evidence"])
    assert evidence["gp3_throughput_mbps"] == pytest.approx(target)
    assert evidence["gp3_monthly_price"] == pytest.approx(gp3)


def test_io1_above_16000_iops_cannot_move_to_gp3() -> None:
    out = run_policy("storage.io1-to-gp3", inventory(volumes=[io1("vol-1", 16001)]))
    assert out.height == 0


def test_io1_cheaper_than_its_gp3_twin_is_not_flagged() -> None:
    # An io1 volume billed at 10 a month: gp3 at 8 + 0 (400 IOPS) = 8 saves 2, flagged;
    # billed at 8 (the same as gp3) it saves nothing.
    out = run_policy("storage.io1-to-gp3", inventory(volumes=[
        volume("vol-2", "io1", 100, 10.0, iops=400),
        volume("vol-0", "io1", 100, 8.0, iops=400),
    ]))  # fmt: skip
    assert out["resource_id"].to_list() == ["vol-2"]
    assert out["monthly_savings"].item() == pytest.approx(2.0)


# --- snapshots -----------------------------------------------------------------------


def test_stale_snapshot_age_cutoff_and_reasons() -> None:
    # 365 days old is stale, 364 is not (unless orphaned); each says why.
    inv = inventory(
        snapshots=[
            snapshot("snap-365", 100, age_days=365, source_exists=True, used=False),
            snapshot("snap-364", 100, age_days=364, source_exists=True, used=False),
            snapshot("snap-both", 40, age_days=400, source_exists=False, used=False),
            snapshot("snap-orphan", 20, age_days=10, source_exists=False, used=False),
        ]
    )
    out = by_id(run_policy("storage.stale-snapshot", inv))
    assert sorted(out) == ["snap-365", "snap-both", "snap-orphan"]
    assert "is older than 365 days; up to $5.00 a month" in out["snap-365"]["detail"]
    assert "is old and orphaned; up to $2.00 a month" in out["snap-both"]["detail"]
    assert "is orphaned (source volume gone" in out["snap-orphan"]["detail"]
    assert json.loads(out["snap-365"]["evidence"])["age_days"] == 365
    assert run_policy("storage.stale-snapshot", inv, max_age_days=366).height == 2


# --- buckets -------------------------------------------------------------------------


def test_bucket_current_cost_is_every_class_at_its_price() -> None:
    # 1 TiB Standard at 0.023 (23.552) and 100 GiB Standard-IA at 0.0125 (1.25): 24.802 a
    # month; only the Standard bytes are tiered: 512 × 0.0105 = 5.376.
    ia_row = {**bucket("raw", 100 * GIB, 1000.0, has_lifecycle=False),
              "storage_class": "STANDARD_IA", "price_gb_month": 0.0125}  # fmt: skip
    inv = inventory(buckets=[bucket("raw", 1024 * GIB, MIB_OBJECTS, has_lifecycle=False), ia_row])
    row = run_policy("storage.bucket-without-lifecycle", inv).row(0, named=True)
    assert row["current_monthly_cost"] == pytest.approx(24.802)
    assert row["monthly_savings"] == pytest.approx(5.376)
    assert json.loads(row["evidence"])["standard_bytes"] == 1024 * GIB


def cheap_it(name: str, **kw: Any) -> dict[str, Any]:
    """1 TiB of 1 MiB objects, where Intelligent-Tiering's infrequent tier costs 0.004."""
    return {**bucket(name, 1024 * GIB, MIB_OBJECTS, **kw),
            "price_intelligent_tiering_ia_gb_month": 0.004}  # fmt: skip


def test_intelligent_tiering_is_chosen_when_it_nets_more() -> None:
    # Cold half, 512 GiB: Standard-IA saves 512 × 0.0105 = 5.376; Intelligent-Tiering
    # 512 × 0.019 = 9.728 less 1,048.576 × 0.0025 = 2.62144 monitoring: 7.10656 nets more.
    # Its upfront moves every object: 1,048.576 × 0.01 = 10.48576.
    inv = inventory(buckets=[cheap_it("it", has_lifecycle=False)])
    row = run_policy("storage.bucket-without-lifecycle", inv).row(0, named=True)
    assert row["monthly_savings"] == pytest.approx(9.728)
    assert row["added_monthly_cost"] == pytest.approx(2.62144)
    assert row["upfront_cost"] == pytest.approx(10.48576)
    assert "Standard to INTELLIGENT_TIERING after 30 days" in row["recommendation"]
    assert "saves about $7.11 a month" in row["detail"]
    evidence = json.loads(row["evidence"])
    assert evidence["chosen_target"] == "INTELLIGENT_TIERING"
    assert evidence["standard_ia"] == pytest.approx(
        {"saving": 5.376, "upfront": 5.24288, "added": 0.0}
    )


def test_standard_ia_is_chosen_when_monitoring_eats_intelligent_tierings_edge() -> None:
    # The fixture's prices: both infrequent tiers at 0.0125, so Intelligent-Tiering saves
    # the same 5.376 and adds monitoring: Standard-IA, nothing added, upfront half the
    # objects: 524.288 × 0.01 = 5.24288.
    inv = inventory(buckets=[bucket("ia", 1024 * GIB, MIB_OBJECTS, has_lifecycle=False)])
    row = run_policy("storage.bucket-without-lifecycle", inv).row(0, named=True)
    assert row["monthly_savings"] == pytest.approx(5.376)
    assert row["added_monthly_cost"] == 0.0
    assert row["upfront_cost"] == pytest.approx(5.24288)
    assert json.loads(row["evidence"])["chosen_target"] == "STANDARD_IA"


def test_objects_of_exactly_128_kib_are_tiered_and_smaller_are_not() -> None:
    # 128 GiB in 1,048,576 objects is 128 KiB each: 64 × 0.0105 = 0.672. One more object
    # and the average is under 128 KiB: no tiering saving.
    inv = inventory(
        buckets=[
            bucket("at", 128 * GIB, MIB_OBJECTS, has_lifecycle=True),
            bucket("under", 128 * GIB, MIB_OBJECTS + 1, has_lifecycle=True),
        ]
    )
    out = run_policy("storage.standard-tiering", inv)
    assert out["resource_id"].to_list() == ["at"]
    assert out["monthly_savings"].item() == pytest.approx(0.672)


def test_unknown_object_counts_are_tiered_with_no_request_charges() -> None:
    # No object count: sizes unknown, tiered anyway (confidence is low), and the request
    # charges are unknown: 0 upfront.
    inv = inventory(buckets=[bucket("n", 1024 * GIB, None, has_lifecycle=True)])  # type: ignore[arg-type]
    row = run_policy("storage.standard-tiering", inv).row(0, named=True)
    assert row["monthly_savings"] == pytest.approx(5.376)
    assert row["upfront_cost"] == 0.0


def test_standard_tiering_with_intelligent_tiering_nets_its_monitoring() -> None:
    inv = inventory(buckets=[cheap_it("it", has_lifecycle=True)])
    row = run_policy("storage.standard-tiering", inv).row(0, named=True)
    assert row["monthly_savings"] == pytest.approx(9.728)
    assert row["added_monthly_cost"] == pytest.approx(2.62144)
    assert "nets about $7.11 a month" in row["detail"]


def test_incomplete_uploads_count_from_seven_days_inclusive() -> None:
    # 10 GiB of parts: 10 × 0.023 = 0.23 a month, once the oldest is 7 days old.
    def uploads(name: str, age: float, ruled: bool, size: float = 10 * GIB) -> dict[str, Any]:
        return bucket(name, 0.0, 0.0, has_lifecycle=ruled, transitions=ruled, upload_bytes=size,
                      upload_age_days=age)  # fmt: skip

    inv = inventory(
        buckets=[
            uploads("ruled-7", 7, True),
            uploads("ruled-6", 6.9, True),
            uploads("ruled-empty", 30, True, size=0.0),
            uploads("none-7", 7, False),
            uploads("none-6", 6.9, False),
        ]
    )
    out = by_id(run_policy("storage.incomplete-multipart-uploads", inv))
    assert sorted(out) == ["ruled-7"]
    assert out["ruled-7"]["monthly_savings"] == pytest.approx(0.23)
    basic = by_id(run_policy("storage.bucket-without-lifecycle", inv))
    assert basic["none-7"]["monthly_savings"] == pytest.approx(0.23)
    assert basic["none-6"]["monthly_savings"] == 0.0


def test_gcs_bucket_moves_its_cold_share_to_nearline_or_autoclass() -> None:
    # Test prices: Standard 0.020, Nearline 0.010, Autoclass's cold rate 0.0095 and fee
    # 0.0025 per 1,000 objects, a Class A operation 0.01 per 1,000. Cold half: 512 GiB.
    # 1 MiB objects: the rule saves 512 × 0.010 = 5.12 (5.24288 upfront for 524,288
    # moves); Autoclass 5.376 less 2.62144 = 2.75: the rule. 100 objects: Autoclass nets
    # 5.376 − 0.00025, more than 5.12: Autoclass, no upfront.
    def gcs(name: str, objects: float, **kw: Any) -> dict[str, Any]:
        row = bucket(name, 1024 * GIB, objects, has_lifecycle=False)
        return {**row, "provider": "gcp", "price_gb_month": 0.020,
                "price_standard_gb_month": 0.020, "price_standard_ia_gb_month": 0.010,
                "price_intelligent_tiering_ia_gb_month": 0.0095,
                "intelligent_tiering": False, **kw}  # fmt: skip

    inv = inventory(
        buckets=[
            gcs("rule", MIB_OBJECTS),
            gcs("auto", 100.0),
            gcs("already", 100.0, intelligent_tiering=True),
            # A fee of 1.0 per 1,000: Autoclass nets 5.376 − 0.1 = 5.276, still more.
            gcs("fee", 100.0, price_intelligent_tiering_monitoring_per_1000=1.0),
        ]
    )
    out = by_id(run_policy("storage.gcs-bucket-without-lifecycle", inv))
    assert sorted(out) == ["auto", "fee", "rule"]
    assert out["fee"]["detail"] == (
        "Bucket fee has no lifecycle rule and Autoclass is off; it holds 1024 GiB in Standard."
        " Moving the cold share to Autoclass saves about $5.28 a month."
    )
    assert out["fee"]["price_source"] == "bundled"
    rule, auto = out["rule"], out["auto"]
    assert rule["monthly_savings"] == pytest.approx(5.12)
    assert rule["upfront_cost"] == pytest.approx(5.24288)
    assert rule["added_monthly_cost"] == 0.0
    assert "SetStorageClass NEARLINE" in rule["recommendation"]
    assert json.loads(rule["evidence"])["chosen_target"] == "NEARLINE"
    # Autoclass: 512 × (0.020 − 0.0095) = 5.376, adds 0.1 × 0.0025 = 0.00025, no upfront.
    assert auto["monthly_savings"] == pytest.approx(5.376)
    assert auto["added_monthly_cost"] == pytest.approx(0.00025)
    assert auto["upfront_cost"] == 0.0
    assert json.loads(auto["evidence"])["chosen_target"] == "Autoclass"
    assert auto["current_monthly_cost"] == pytest.approx(1024 * 0.020)


# --- second round: what the first left alive -------------------------------------------


def test_an_in_use_volume_with_no_attachment_read_is_not_unattached() -> None:
    # Both conditions: state available AND no attachment. An in-use volume whose
    # attachment was not read is not flagged.
    row = {**volume("vol-1", "gp2", 100, 10.0), "state": "in-use"}
    assert run_policy("storage.unattached-volume", inventory(volumes=[row])).height == 0


@pytest.mark.parametrize(
    ("policy_id", "frame", "row", "confidence"),
    [
        ("storage.unattached-volume", "volumes", volume("v", "gp2", 100, 10.0), 0.9),
        ("storage.stopped-instance-volume", "volumes",
         volume("v", "gp2", 100, 10.0, attached_to="i-1", attached_state="stopped",
                stopped_days=40), 0.7),
        ("storage.gp2-to-gp3", "volumes", volume("v", "gp2", 100, 10.0), 0.9),
        ("storage.io1-to-io2", "volumes", volume("v", "io1", 100, 3000.0, iops=40000), 0.85),
        ("storage.io1-to-gp3", "volumes", volume("v", "io1", 100, 100.0, iops=1000), 0.85),
        ("storage.stale-snapshot", "snapshots",
         snapshot("s", 100, age_days=400, source_exists=True, used=False), 0.5),
    ],
)  # fmt: skip
def test_each_volume_policy_lowers_confidence_by_a_fifth_on_another_regions_prices(
    policy_id: str, frame: str, row: dict[str, Any], confidence: float
) -> None:
    # Its own confidence in a bundled region; × 0.8 where us-east-1 prices stand in.
    home = run_policy(policy_id, inventory(**{frame: [row]}))
    away = run_policy(policy_id, inventory(**{frame: [{**row, "region": "sa-east-1"}]}))
    assert home["confidence"].item() == pytest.approx(confidence)
    assert away["confidence"].item() == pytest.approx(confidence * 0.8)
    # The evidence names whose prices were used.
    assert json.loads(home["evidence"].item())["prices"] == "list prices of us-east-1"
    assert json.loads(away["evidence"].item())["prices"] == (
        "list prices of us-east-1 (region not bundled)"
    )


def test_io1_without_an_iops_figure_is_priced_on_its_storage_alone() -> None:
    # No IOPS figure: 0 IOPS. io2 costs 100 × 0.125 = 12.5 against a bill of 20: 7.5. It
    # cannot move to gp3 (gp3 needs the IOPS to match).
    inv = inventory(volumes=[volume("vol-1", "io1", 100, 20.0, iops=None)])
    out = run_policy("storage.io1-to-io2", inv)
    assert out["monthly_savings"].item() == pytest.approx(7.5)
    assert run_policy("storage.io1-to-gp3", inv).height == 0


def test_tiering_evidence_states_minimum_durations_and_both_options() -> None:
    # 1 KiB objects: no option saves anything, and neither adds nor costs anything.
    inv = inventory(buckets=[bucket("tiny", 10 * GIB, 10 * GIB / 1024, has_lifecycle=False)])
    evidence = json.loads(run_policy("storage.bucket-without-lifecycle", inv)["evidence"][0])
    assert evidence["min_storage_days"] == {
        "STANDARD_IA": 30, "ONEZONE_IA": 30, "GLACIER_IR": 90, "GLACIER": 90, "DEEP_ARCHIVE": 180,
    }  # fmt: skip
    assert evidence["standard_ia"] == {"saving": 0.0, "upfront": 0.0, "added": 0.0}
    assert evidence["intelligent_tiering"] == {"saving": 0.0, "upfront": 0.0, "added": 0.0}
    assert evidence["average_object_bytes"] == 1024.0


def test_unknown_object_counts_show_as_unknown_in_the_evidence() -> None:
    # Standard's count unknown while Standard-IA's is known: Standard's stays unknown.
    ia_row = {**bucket("n", 100 * GIB, 1000.0, has_lifecycle=True),
              "storage_class": "STANDARD_IA", "price_gb_month": 0.0125}  # fmt: skip
    std_row = bucket("n", 1024 * GIB, None, has_lifecycle=True)  # type: ignore[arg-type]
    row = run_policy("storage.standard-tiering", inventory(buckets=[std_row, ia_row])).row(
        0, named=True
    )
    evidence = json.loads(row["evidence"])
    assert evidence["standard_objects"] is None and evidence["average_object_bytes"] is None
    assert row["upfront_cost"] == 0.0


def test_intelligent_tiering_netting_exactly_what_standard_ia_saves_is_not_chosen() -> None:
    # Dyadic prices, exact in binary: 2 GiB, cold 1 GiB; Standard 0.5, IA 0.25: IA saves
    # 0.25. Intelligent-Tiering's tier 0.125 saves 0.375, less 1,000 objects × 0.125 per
    # 1,000 = 0.125: 0.25, a tie. A tie keeps Standard-IA (no monitoring to pay).
    row = {**bucket("tie", 2 * GIB, 1000.0, has_lifecycle=False),
           "price_gb_month": 0.5, "price_standard_gb_month": 0.5,
           "price_standard_ia_gb_month": 0.25, "price_intelligent_tiering_ia_gb_month": 0.125,
           "price_intelligent_tiering_monitoring_per_1000": 0.125}  # fmt: skip
    out = run_policy("storage.bucket-without-lifecycle", inventory(buckets=[row]))
    assert json.loads(out["evidence"][0])["chosen_target"] == "STANDARD_IA"
    assert out["monthly_savings"].item() == 0.25
    assert out["added_monthly_cost"].item() == 0.0


def test_a_bucket_without_prices_saves_nothing_and_says_so() -> None:
    # A region with no S3 prices: nothing priced, price source "none".
    unpriced = {key: None for key in (
        "price_gb_month", "price_standard_gb_month", "price_standard_ia_gb_month",
        "price_intelligent_tiering_ia_gb_month", "price_intelligent_tiering_monitoring_per_1000",
        "price_transition_per_1000")}  # fmt: skip
    # It also holds 10 GiB of old upload parts, unpriced too.
    dark = bucket("dark", 1024 * GIB, MIB_OBJECTS, has_lifecycle=False, upload_bytes=10 * GIB,
                  upload_age_days=30)  # fmt: skip
    out = run_policy("storage.bucket-without-lifecycle", inventory(buckets=[{**dark, **unpriced}]))
    row = out.row(0, named=True)
    assert row["monthly_savings"] == 0.0 and row["added_monthly_cost"] == 0.0
    assert row["upfront_cost"] == 0.0
    assert row["current_monthly_cost"] == 0.0
    assert row["price_source"] == "none"
    evidence = json.loads(row["evidence"])
    assert evidence["intelligent_tiering"] == {"saving": 0.0, "upfront": 0.0, "added": 0.0}
    assert evidence["standard_ia"] == {"saving": 0.0, "upfront": 0.0, "added": 0.0}


def test_a_bucket_with_unknown_bytes_costs_nothing_known() -> None:
    # No storage metrics (bytes unknown): its current cost is 0 exactly, not a byte's worth.
    row = {**bucket("blind", 0.0, 0.0, has_lifecycle=False), "bytes": None, "objects": None}
    out = run_policy("storage.bucket-without-lifecycle", inventory(buckets=[row]))
    assert out["current_monthly_cost"].item() == 0.0


def test_uploads_of_unknown_size_or_count_save_nothing() -> None:
    # An old upload whose size is unknown saves 0 exactly (not a byte's worth); a bucket
    # that lists no incomplete upload saves nothing for its stray figures either.
    unsized = {**bucket("unsized", 0.0, 0.0, has_lifecycle=True, transitions=True,
                        upload_age_days=30), "incomplete_upload_bytes": None}  # fmt: skip
    listed = bucket("none", 0.0, 0.0, has_lifecycle=True, transitions=True, upload_bytes=GIB,
                    upload_age_days=30)  # fmt: skip
    none_listed = {**listed, "incomplete_uploads": 0}
    # An unknown count (the listing failed) claims nothing either: count less when unsure;
    # nor does an upload whose start is unknown (its age decides).
    uncounted = {**listed, "resource_id": "uncounted", "incomplete_uploads": None}
    undated = {**listed, "resource_id": "undated", "incomplete_upload_oldest": None}
    inv = inventory(buckets=[unsized, none_listed, uncounted, undated])
    assert run_policy("storage.incomplete-multipart-uploads", inv).height == 0
    basic = {**unsized, "has_lifecycle": False, "incomplete_uploads": None}
    out = run_policy("storage.bucket-without-lifecycle", inventory(buckets=[basic])).row(
        0, named=True
    )
    assert out["monthly_savings"] == 0.0
    assert "and 0 incomplete upload(s)" in out["detail"]


def test_bucket_details_state_sizes_in_gib() -> None:
    keeps = bucket("keeps", 1024 * GIB, MIB_OBJECTS, has_lifecycle=True, upload_bytes=10 * GIB,
                   upload_age_days=20)  # fmt: skip
    inv = inventory(buckets=[keeps])
    tiering = run_policy("storage.standard-tiering", inv)["detail"].item()
    assert tiering.startswith("Bucket keeps keeps 1024 GiB in Standard")
    uploads = run_policy("storage.incomplete-multipart-uploads", inv)["detail"].item()
    assert (
        uploads == "Bucket keeps holds 1 incomplete upload(s), 10 GiB, the oldest from 2024-05-28."
    )


def test_gcs_evidence_prices_both_options() -> None:
    # The GCS twin's evidence: the rule adds nothing a month, Autoclass has no upfront.
    row = {**bucket("g", 1024 * GIB, MIB_OBJECTS, has_lifecycle=False), "provider": "gcp",
           "intelligent_tiering": False}  # fmt: skip
    out = run_policy("storage.gcs-bucket-without-lifecycle", inventory(buckets=[row]))
    evidence = json.loads(out["evidence"][0])
    assert evidence["lifecycle_to_nearline"]["added"] == 0.0
    assert evidence["autoclass"]["upfront"] == 0.0
    assert evidence["autoclass"]["added"] == pytest.approx(2.62144)
    assert evidence["lifecycle_to_nearline"]["upfront"] == pytest.approx(5.24288)


def test_an_orphaned_snapshot_without_a_creation_date_is_orphaned_not_old() -> None:
    # Its age is unknown: it is flagged for being orphaned only, and its detail says so
    # (it was blank: a null age made the whole formatted line null).
    row = {**snapshot("snap-x", 10, age_days=1, source_exists=False, used=False), "created": None}
    out = run_policy("storage.stale-snapshot", inventory(snapshots=[row]))
    assert out["detail"].item() == (
        "snap-x (10 GiB, age unknown, from vol-1) is orphaned (source volume gone, no AMI uses"
        " it); up to $0.50 a month."
    )


# --- fourth round: survivors of the full run ------------------------------------------------


def test_io1_moves_saving_under_a_dollar_are_still_flagged() -> None:
    # io2 at 100 × 0.125 + 40,000 IOPS in tiers = 2,768 a month; billed 0.50 more. gp3 at
    # 8 + 0 (400 IOPS) = 8; billed 8.50.
    io2_cost = 12.5 + 32000 * 0.065 + 8000 * 0.0455
    io2 = run_policy("storage.io1-to-io2", inventory(volumes=[
        volume("vol-1", "io1", 100, io2_cost + 0.5, iops=40000)]))  # fmt: skip
    assert io2["monthly_savings"].item() == pytest.approx(0.5)
    gp3 = run_policy("storage.io1-to-gp3", inventory(volumes=[
        volume("vol-2", "io1", 100, 8.5, iops=400)]))  # fmt: skip
    assert gp3["monthly_savings"].item() == pytest.approx(0.5)


def test_an_undated_snapshot_whose_volume_exists_is_not_stale() -> None:
    # No creation date and its volume still there: nothing says it is stale.
    row = {**snapshot("snap-x", 10, age_days=1, source_exists=True, used=False), "created": None}
    assert run_policy("storage.stale-snapshot", inventory(snapshots=[row])).height == 0


@pytest.mark.parametrize(
    "policy_id", ["storage.bucket-without-lifecycle", "storage.standard-tiering"]
)
def test_bucket_tiering_confidence_is_low_and_lower_on_another_regions_prices(
    policy_id: str,
) -> None:
    # Access patterns are unknown: 0.3; × 0.8 where us-east-1 prices stand in.
    ruled = policy_id == "storage.standard-tiering"
    row = bucket("b", 1024 * GIB, MIB_OBJECTS, has_lifecycle=ruled)
    home = run_policy(policy_id, inventory(buckets=[row]))
    away = run_policy(policy_id, inventory(buckets=[{**row, "region": "sa-east-1"}]))
    assert home["confidence"].item() == pytest.approx(0.3)
    assert away["confidence"].item() == pytest.approx(0.24)


def test_unknown_object_counts_add_no_request_or_monitoring_charges() -> None:
    # Intelligent-Tiering's option for unknown counts: nothing added, nothing upfront (not
    # one object's worth).
    inv = inventory(buckets=[bucket("n", 1024 * GIB, None, has_lifecycle=False)])  # type: ignore[arg-type]
    row = run_policy("storage.bucket-without-lifecycle", inv).row(0, named=True)
    it = json.loads(row["evidence"])["intelligent_tiering"]
    assert (it["added"], it["upfront"]) == (0.0, 0.0)
    assert row["detail"].startswith("Bucket n has no lifecycle rule; it holds 1024 GiB in Standard")


def test_a_tiering_move_that_nets_nothing_is_never_flagged() -> None:
    # Odd prices where neither option saves: Standard-IA dearer than Standard (0.03),
    # Intelligent-Tiering's tier at Standard's price: IT "wins" at 0 saved, 2.62 added.
    row = {**bucket("odd", 1024 * GIB, MIB_OBJECTS, has_lifecycle=True),
           "price_standard_ia_gb_month": 0.03,
           "price_intelligent_tiering_ia_gb_month": 0.023}  # fmt: skip
    assert run_policy("storage.standard-tiering", inventory(buckets=[row])).height == 0


def test_incomplete_upload_confidence_and_its_fallback() -> None:
    # Upload bytes are listed, not assumed: 0.8; × 0.8 on another region's prices.
    row = bucket("u", 0.0, 0.0, has_lifecycle=True, transitions=True, upload_bytes=GIB,
                 upload_age_days=30)  # fmt: skip
    home = run_policy("storage.incomplete-multipart-uploads", inventory(buckets=[row]))
    away = run_policy("storage.incomplete-multipart-uploads",
                      inventory(buckets=[{**row, "region": "sa-east-1"}]))  # fmt: skip
    assert home["confidence"].item() == pytest.approx(0.8)
    assert away["confidence"].item() == pytest.approx(0.64)
