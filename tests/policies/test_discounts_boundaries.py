"""Savings after existing commitments (policies/_discounts.py) at each rule, worked by hand
(issue 21): ``commitment_context`` (which scope covers an instance type, its uncovered
on-demand pool), ``after_discounts`` (saving now = max(0, saving − max(0, R − P)), the rest
deferred to the commitment's end) and the sustained-use discounts before them.

Public sources (policies/_discounts.py): how reservations and savings plans apply
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/apply_ri.html,
https://docs.aws.amazon.com/savingsplans/latest/userguide/sp-applying.html); resource-based
CUDs (https://cloud.google.com/compute/docs/instances/committed-use-discounts-overview);
sustained-use tiers N1 100/80/60/40%, N2 100/86.78/73.3/60%
(https://cloud.google.com/compute/docs/sustained-use-discounts). A commitment used at 99% or
more has no spare capacity (FULLY_USED). Written against the mutants that survived
tests/policies/test_discounts.py (``python benchmarks/mutation.py policies/_discounts.py``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest

from costscan.policies._discounts import (
    SUSTAINED_USE_FULL_MONTH,
    after_discounts,
    commitment_context,
    commitment_note,
    discount_columns,
    discount_evidence,
    held_commitments,
    sustained_use_saving,
    sustained_use_share,
)
from costscan.scanner.contracts.inventory import Inventory, InventoryView
from tests.policies.commitment_inventories import (
    coverage,
    measured,
    reservation,
    savings_plan,
    with_commitments,
)
from tests.policies.inventories import ACCOUNT, NOW, REGION, inventory

ENDS = NOW + timedelta(days=100)
ENDS_DATE = ENDS.date()


def _view(inv: Inventory) -> InventoryView:
    return InventoryView(inv, ("commitments", "compute", "prices"), "test")


def _held(rows: list[dict[str, Any]]) -> InventoryView:
    return _view(with_commitments(inventory(), rows))


def _context(view: InventoryView, *types: str, provider: str = "aws") -> dict[str, Any]:
    frame = pl.LazyFrame(
        {
            "provider": [provider] * len(types),
            "account_id": [ACCOUNT] * len(types),
            "region": [REGION] * len(types),
            "instance_type": list(types),
        }
    )
    rows = commitment_context(view, frame).collect().to_dicts()
    return {r["instance_type"]: r for r in rows}


def _ri(resource_id: str = "ri-1", **facts: Any) -> dict[str, Any]:
    base = reservation(resource_id, instance_type="r5.large", family="r5", instance_count=1.0,
                       monthly_commitment=50.0, expires=ENDS)  # fmt: skip
    return {**base, **facts}


# --- commitment_context: which scope covers a type -------------------------------------


def test_a_regional_linux_reservation_covers_its_family_with_the_family_pool() -> None:
    # Size-flexible: every r5 size; its pool is the r5 on demand of every type (50 + 30).
    view = _held(
        [
            _ri(scope="Region", platform="Linux/UNIX"),
            coverage("ri", instance_type="r5.large", on_demand_cost=50.0),
            coverage("ri", instance_type="r5.xlarge", on_demand_cost=30.0),
            coverage("ri", instance_type="m5.large", on_demand_cost=999.0),
        ]
    )
    found = _context(view, "r5.2xlarge", "m5.large")
    r5 = found["r5.2xlarge"]
    assert r5["commitment_scope"] == f"ri|{ACCOUNT}|{REGION}|r5"
    assert r5["scope_uncovered_monthly"] == pytest.approx(80.0)
    assert r5["commitment_ends"] == ENDS_DATE
    assert (r5["scope_binds_family"], r5["scope_binds_type"]) == (True, False)
    assert r5["scope_underused"] is False
    # m5 has no commitment: no scope at all.
    assert "m5.large" not in found


@pytest.mark.parametrize(
    ("scope", "platform"),
    [("Availability Zone", "Linux/UNIX"), ("Region", "Windows"), (None, "Linux")],
)
def test_a_zonal_or_windows_reservation_covers_only_its_type(
    scope: str | None, platform: str
) -> None:
    # A zonal or Windows reservation is not size-flexible: its own type, its own pool (50).
    # A regional one with no scope given and "Linux" as platform is flexible (the family).
    view = _held(
        [
            _ri(scope=scope, platform=platform),
            coverage("ri", instance_type="r5.large", on_demand_cost=50.0),
            coverage("ri", instance_type="r5.xlarge", on_demand_cost=30.0),
        ]
    )
    found = _context(view, "r5.large", "r5.xlarge")
    if scope is None:
        assert found["r5.large"]["commitment_scope"] == f"ri|{ACCOUNT}|{REGION}|r5"
        assert found["r5.xlarge"]["scope_uncovered_monthly"] == pytest.approx(80.0)
        return
    assert list(found) == ["r5.large"]
    row = found["r5.large"]
    assert row["commitment_scope"] == f"ri|{ACCOUNT}|{REGION}|r5.large"
    assert row["scope_uncovered_monthly"] == pytest.approx(50.0)
    assert (row["scope_binds_family"], row["scope_binds_type"]) == (False, True)


def test_savings_plans_cover_a_family_or_the_whole_account() -> None:
    # An EC2 Instance plan on r5: the r5 savings-plan pool (40). A Compute plan: every
    # family's pool in the account (40 + 25 = 65), binding no family.
    family = _held(
        [
            savings_plan(
                "sp-ec2", offering_class="EC2Instance", family="r5", expires=ENDS, region=REGION
            ),
            coverage("savings_plan", family="r5", on_demand_cost=40.0),
            coverage("savings_plan", family="m5", on_demand_cost=25.0),
        ]
    )
    row = _context(family, "r5.large")["r5.large"]
    assert row["commitment_scope"] == f"sp|{ACCOUNT}|{REGION}|r5"
    assert row["scope_uncovered_monthly"] == pytest.approx(40.0)
    assert (row["scope_binds_family"], row["scope_binds_type"]) == (True, False)
    compute = _held(
        [
            savings_plan("sp-all", offering_class="Compute", expires=ENDS),
            coverage("savings_plan", family="r5", on_demand_cost=40.0),
            coverage("savings_plan", family="m5", on_demand_cost=25.0),
        ]
    )
    row = _context(compute, "c5.large")["c5.large"]
    assert row["commitment_scope"] == f"sp|{ACCOUNT}"
    assert row["scope_uncovered_monthly"] == pytest.approx(65.0)
    assert (row["scope_binds_family"], row["scope_binds_type"]) == (False, False)


def test_the_tightest_scope_is_the_one_with_the_smallest_pool() -> None:
    # A Compute plan (pool 65) and a regional r5 reservation (pool 10): r5 usage freed
    # lands where least on-demand usage can absorb it, the reservation's 10. The last end
    # of the two is kept (200 days).
    view = _held(
        [
            _ri(scope="Region", platform="Linux/UNIX"),
            coverage("ri", instance_type="r5.large", on_demand_cost=10.0),
            savings_plan("sp-all", offering_class="Compute",
                         expires=NOW + timedelta(days=200)),
            coverage("savings_plan", family="r5", on_demand_cost=65.0),
        ]
    )  # fmt: skip
    row = _context(view, "r5.large")["r5.large"]
    assert row["commitment_scope"] == f"ri|{ACCOUNT}|{REGION}|r5"
    assert row["scope_uncovered_monthly"] == pytest.approx(10.0)
    assert row["commitment_ends"] == (NOW + timedelta(days=200)).date()
    assert row["scope_binds_family"] is True


def test_a_commitment_used_at_99_percent_is_full_at_98_it_is_underused() -> None:
    def row(utilization: float | None) -> dict[str, Any]:
        facts = [] if utilization is None else [measured("ri-1", utilization=utilization)]
        view = _held(
            [_ri(scope="Region", platform="Linux/UNIX"), *facts,
             coverage("ri", instance_type="r5.large", on_demand_cost=50.0)]
        )  # fmt: skip
        return _context(view, "r5.large")["r5.large"]

    full = row(0.99)
    assert full["scope_underused"] is False and full["scope_uncovered_monthly"] == 50.0
    spare = row(0.98)
    assert spare["scope_underused"] is True and spare["scope_uncovered_monthly"] == 0.0
    # Unmeasured is taken for fully used: the pool stays as Cost Explorer gives it.
    assert row(None)["scope_uncovered_monthly"] == 50.0


def test_only_commitments_in_force_cover_anything() -> None:
    # Expired at NOW, retired: nothing. Payment pending, queued, or no state: in force.
    def scope(**facts: Any) -> str | None:
        view = _held([_ri(scope="Region", platform="Linux/UNIX", **facts)])
        found = _context(view, "r5.large")
        return found["r5.large"]["commitment_scope"] if found else None

    assert scope(expires=NOW) is None
    assert scope(state="retired") is None
    assert scope(expires=NOW + timedelta(seconds=1)) is not None
    assert scope(state="Payment-Pending") is not None
    assert scope(state="queued") is not None
    assert scope(state=None) is not None


def test_unknown_or_negative_coverage_is_an_empty_pool() -> None:
    # No coverage rows: unknown, counted as 0 (count less). A negative figure: clipped to 0.
    assert (
        _context(_held([_ri(scope="Region", platform="Linux/UNIX")]), "r5.large")["r5.large"][
            "scope_uncovered_monthly"
        ]
        == 0.0
    )
    negative = _held(
        [_ri(scope="Region", platform="Linux/UNIX"),
         coverage("ri", instance_type="r5.large", on_demand_cost=-5.0)]
    )  # fmt: skip
    assert _context(negative, "r5.large")["r5.large"]["scope_uncovered_monthly"] == 0.0


def test_a_resource_based_cud_covers_its_machine_series_in_its_region() -> None:
    rows = [
        {"provider": "gcp", "account_id": ACCOUNT, "region": REGION, "resource_id": "cud-1",
         "kind": "cud", "family": "n2", "state": "active", "expires": ENDS},
        {"provider": "gcp", "account_id": ACCOUNT, "region": REGION,
         "resource_id": "coverage/cud/n2", "kind": "coverage", "covered_by": "cud",
         "family": "n2", "on_demand_cost": 12.5},
    ]  # fmt: skip
    found = _context(_held(rows), "n2-standard-8", "e2-standard-4", provider="gcp")
    assert list(found) == ["n2-standard-8"]
    row = found["n2-standard-8"]
    assert row["commitment_scope"] == f"cud|{ACCOUNT}|{REGION}|n2"
    assert row["scope_uncovered_monthly"] == pytest.approx(12.5)
    assert row["scope_binds_family"] is True


def test_held_commitments_take_the_description_first_and_cost_explorer_for_the_rest() -> None:
    view = _held([_ri(), measured("ri-1", utilization=0.7, monthly_commitment=48.0)])
    row = held_commitments(view).collect().row(0, named=True)
    assert row["monthly_commitment"] == 50.0
    assert row["utilization"] == pytest.approx(0.7)
    assert row["source"] == "ec2"
    # A description row that names no source is still not Cost Explorer's: it comes first
    # even when Cost Explorer's row is listed before it.
    view = _held(
        [measured("ri-1", utilization=0.7, monthly_commitment=48.0), {**_ri(), "source": None}]
    )
    assert held_commitments(view).collect().row(0, named=True)["monthly_commitment"] == 50.0


# --- after_discounts: saving now and later ---------------------------------------------


def _after(
    view: InventoryView,
    saving: float,
    *,
    instance_type: str = "r5.large",
    current: float | None = None,
    target: str | None = None,
    share_after: float | None = None,
    provider: str = "aws",
    price_source: str = "bundled",
    hourly_price: float = 0.126,
) -> dict[str, Any]:
    frame = pl.LazyFrame(
        {
            "provider": [provider],
            "account_id": [ACCOUNT],
            "region": [REGION],
            "instance_type": [instance_type],
            "hourly_price": [hourly_price],
            "price_source": [price_source],
            "saving": [saving],
            "current": [current],
            "target": [target],
            "share_after": [share_after],
        },
        schema_overrides={"current": pl.Float64, "target": pl.String, "share_after": pl.Float64},
    )
    out = after_discounts(
        view,
        frame,
        pl.col("saving"),
        current_cost=None if current is None else pl.col("current"),
        target_type=None if target is None else pl.col("target"),
        running_share_after=None if share_after is None else pl.col("share_after"),
    )
    return out.with_columns(commitment_note().alias("_note")).collect().row(0, named=True)


def _r5_reserved(pool: float, **ri: Any) -> InventoryView:
    return _held(
        [_ri(scope=ri.pop("scope", "Region"), platform="Linux/UNIX", **ri),
         coverage("ri", instance_type="r5.large", on_demand_cost=pool)]
    )  # fmt: skip


def test_inside_the_scope_the_saving_now_is_at_most_the_pool() -> None:
    # Saving 30, pool 20: 20 now, 10 when the reservation ends.
    row = _after(_r5_reserved(20.0), 30.0)
    assert (row["_saving_now"], row["_saving_later"]) == (pytest.approx(20.0), pytest.approx(10.0))
    assert row["_savings_start"] == ENDS_DATE
    assert row["_scope_removed"] == pytest.approx(30.0)
    assert row["_scope_uncovered"] == pytest.approx(20.0)
    assert row["_sud_cut"] == 0.0  # AWS: no sustained-use discounts
    assert row["_note"] == (
        " Existing commitments cover this usage: 10.0 a month of it leaves the bill only "
        f"when they end ({ENDS_DATE})."
    )
    # Pool 50 absorbs all 30: nothing deferred, no note.
    row = _after(_r5_reserved(50.0), 30.0)
    assert (row["_saving_now"], row["_saving_later"]) == (pytest.approx(30.0), 0.0)
    assert row["_note"] == ""


def test_a_move_out_of_the_family_takes_all_its_usage_out_of_the_scope() -> None:
    # r5.large (current 91.98) to m6g.large saving 30: all 91.98 leaves the r5
    # reservation; pool 70 absorbs 70 of it, so 30 − (91.98 − 70) = 8.02 now, 21.98 later.
    row = _after(_r5_reserved(70.0), 30.0, current=91.98, target="m6g.large")
    assert row["_scope_removed"] == pytest.approx(91.98)
    assert row["_saving_now"] == pytest.approx(8.02)
    assert row["_saving_later"] == pytest.approx(21.98)
    # Pool 10: 30 − 81.98 < 0, nothing now.
    row = _after(_r5_reserved(10.0), 30.0, current=91.98, target="m6g.large")
    assert (row["_saving_now"], row["_saving_later"]) == (0.0, pytest.approx(30.0))
    # Within the family (r5.large to r5.xlarge, both r5): only the saving leaves the
    # scope, and pool 20 absorbs 20 of the 30.
    row = _after(_r5_reserved(20.0), 30.0, current=91.98, target="r5.xlarge")
    assert row["_scope_removed"] == pytest.approx(30.0)
    assert row["_saving_now"] == pytest.approx(20.0)
    # A current cost with no target (a stop, a schedule) moves nothing out of the family.
    row = _after(_r5_reserved(20.0), 30.0, current=91.98)
    assert row["_scope_removed"] == pytest.approx(30.0)
    assert row["_saving_now"] == pytest.approx(20.0)


def test_a_zonal_reservation_binds_the_type_a_compute_plan_binds_nothing() -> None:
    # Zonal r5.large reservation: a move to r5.xlarge leaves it (removed = current 91.98),
    # pool 70: 30 − 21.98 = 8.02 now.
    zonal = _r5_reserved(70.0, scope="Availability Zone")
    row = _after(zonal, 30.0, current=91.98, target="r5.xlarge")
    assert row["_scope_removed"] == pytest.approx(91.98)
    assert row["_saving_now"] == pytest.approx(8.02)
    # Same type: stays.
    assert _after(zonal, 30.0, current=91.98, target="r5.large")["_scope_removed"] == 30.0
    # A Compute plan covers any family: a move to m6g takes out only the saving.
    compute = _held(
        [savings_plan("sp-all", offering_class="Compute", expires=ENDS),
         coverage("savings_plan", family="r5", on_demand_cost=20.0)]
    )  # fmt: skip
    row = _after(compute, 30.0, current=91.98, target="m6g.large")
    assert row["_scope_removed"] == pytest.approx(30.0)
    assert row["_saving_now"] == pytest.approx(20.0)


def test_an_uncovered_instance_saves_everything_now() -> None:
    row = _after(_held([]), 30.0, current=91.98, target="m6g.large")
    assert (row["_saving_now"], row["_saving_later"]) == (30.0, 0.0)
    assert row["_savings_start"] is None
    assert row["_scope_removed"] is None and row["_commitment_scope"] is None


# --- sustained-use discounts -----------------------------------------------------------


def test_sustained_use_share_integrates_the_tiers_quarter_by_quarter() -> None:
    # N1: 100/80/60/40%. 30% of the month: 0.25 × 1 + 0.05 × 0.8 = 0.29; 60%: 0.25 + 0.2
    # + 0.1 × 0.6 = 0.51; all month 0.7; over 1 is clipped to 1, under 0 to 0.
    # N2: 100/86.78/73.3/60%: all month (1 + 0.8678 + 0.733 + 0.6) / 4 = 0.80020.
    # E2 has none: the share itself.
    frame = pl.DataFrame(
        {
            "series": ["n1", "n1", "n1", "n1", "n1", "n2", "e2"],
            "share": [0.3, 0.6, 1.0, 1.5, -0.2, 1.0, 0.3],
        }
    )
    billed = frame.select(sustained_use_share(pl.col("series"), pl.col("share")))
    assert billed.to_series().to_list() == pytest.approx(
        [0.29, 0.51, 0.7, 0.7, 0.0, 0.80020, 0.3], abs=1e-9
    )
    assert SUSTAINED_USE_FULL_MONTH["n1"] == 0.3 and SUSTAINED_USE_FULL_MONTH["n2"] == 0.2


def test_sustained_use_saving_for_a_stop_a_schedule_and_a_resize() -> None:
    def saving(
        value: float,
        *,
        target: str | None = None,
        share: float | None = None,
        provider: str = "gcp",
        source: str = "bundled",
    ) -> float:
        frame = pl.DataFrame(
            {"provider": [provider], "price_source": [source],
             "instance_type": ["n1-standard-4"], "target": [target], "share": [share]},
            schema_overrides={"target": pl.String, "share": pl.Float64},
        )  # fmt: skip
        expr = sustained_use_saving(
            pl.lit(value),
            current_cost=pl.lit(100.0),
            target_type=None if target is None else pl.col("target"),
            running_share_after=None if share is None else pl.col("share"),
        )
        return float(frame.select(expr).item())

    # Stop an N1 billed 100 at list: it really costs 100 × 0.7 = 70: 70 saved, not 100.
    assert saving(100.0) == pytest.approx(70.0)
    # Run half the month: 70 − 100 × (0.25 + 0.25 × 0.8) = 70 − 45 = 25 of a list 50.
    assert saving(50.0, share=0.5) == pytest.approx(25.0)
    # Resize to an N2 costing 60 at list: 70 − 60 × 0.8002 = 21.988 of a list 40.
    assert saving(40.0, target="n2-standard-2") == pytest.approx(21.988)
    # Into E2 (no SUD) at 75: 70 − 75 = −5: nothing at all, not a negative saving.
    assert saving(25.0, target="e2-standard-4") == 0.0
    # AWS, or a price already read from the bill: the saving as given.
    assert saving(100.0, provider="aws") == 100.0
    assert saving(100.0, source="billing") == 100.0


def test_after_discounts_applies_sustained_use_first_and_says_so() -> None:
    # An N1 VM at 0.2 $/h (146 a month at list) stopped: 146 × 0.7 = 102.2 saved, and the
    # note says the discounts already took 43.80.
    row = _after(_held([]), 146.0, instance_type="n1-standard-4", provider="gcp",
                 hourly_price=0.2)  # fmt: skip
    assert row["_saving_now"] == pytest.approx(102.2)
    assert row["_sud_cut"] == pytest.approx(43.8)
    assert row["_note"] == (
        " Sustained-use discounts already take 43.8 a month off this usage; only the rest "
        "is counted."
    )


def test_commitment_note_without_an_end_date_says_so() -> None:
    frame = pl.DataFrame(
        {"_sud_cut": [0.0], "_saving_later": [12.346], "_savings_start": [None]},
        schema_overrides={"_savings_start": pl.Date},
    )
    assert frame.select(commitment_note()).item() == (
        " Existing commitments cover this usage: 12.35 a month of it leaves the bill only "
        "when they end (end date unknown)."
    )
    # Both sentences, each from half a cent up, to the cent.
    both = frame.with_columns(pl.lit(0.5).alias("_saving_later"), pl.lit(0.123).alias("_sud_cut"))
    assert both.select(commitment_note()).item() == (
        " Sustained-use discounts already take 0.12 a month off this usage; only the rest is "
        "counted. Existing commitments cover this usage: 0.5 a month of it leaves the bill "
        "only when they end (end date unknown)."
    )
    # Half a cent or less is float noise: no sentence.
    quiet = frame.with_columns(
        pl.lit(0.005).alias("_saving_later"), pl.lit(0.005).alias("_sud_cut")
    )
    assert quiet.select(commitment_note()).item() == ""


def test_savings_start_is_the_end_date_only_when_covered() -> None:
    assert _after(_r5_reserved(0.0), 30.0)["_savings_start"] == ENDS_DATE
    assert isinstance(ENDS_DATE, date)


def test_discount_columns_and_evidence_carry_the_figures_of_after_discounts() -> None:
    # Saving 30 in the r5 reservation's scope, pool 20: 20 now, 10 from its end; the
    # evidence and findings columns name the same figures.
    frame = pl.LazyFrame(
        {"provider": ["aws"], "account_id": [ACCOUNT], "region": [REGION],
         "instance_type": ["r5.large"], "hourly_price": [0.126], "price_source": ["bundled"],
         "saving": [30.0]}
    )  # fmt: skip
    out = after_discounts(_r5_reserved(20.0), frame, pl.col("saving"))
    evidence = out.select(discount_evidence().alias("e")).collect().row(0, named=True)["e"]
    assert evidence == {
        "scope": f"ri|{ACCOUNT}|{REGION}|r5",
        "uncovered_on_demand_monthly": pytest.approx(20.0),
        "usage_taken_out_of_scope_monthly": pytest.approx(30.0),
        "saving_now": pytest.approx(20.0),
        "saving_from_commitment_end": pytest.approx(10.0),
        "commitments_end": str(ENDS_DATE),
        "sustained_use_discount_monthly": 0.0,
    }
    columns = out.select(**discount_columns(pl.col("saving"))).collect().row(0, named=True)
    assert columns == {
        "monthly_savings_before_discounts": 30.0,
        "monthly_savings": pytest.approx(20.0),
        "deferred_monthly_savings": pytest.approx(10.0),
        "savings_start": ENDS_DATE,
        "commitment_scope": f"ri|{ACCOUNT}|{REGION}|r5",
        "scope_uncovered_monthly": pytest.approx(20.0),
        "scope_usage_removed_monthly": pytest.approx(30.0),
    }
