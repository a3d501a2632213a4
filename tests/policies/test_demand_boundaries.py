"""policies/demand.py at each threshold and each price, worked by hand (issue 21).

Written against the mutants that survived tests/policies/test_demand.py
(``python benchmarks/mutation.py policies/demand.py``). Each threshold is tried just under,
at and just over its line, each in one inventory so that one policy run pins them all.
The lookback is 14 days of hours ending 2024-06-17 00:00 UTC (tests/policies/test_demand.py);
prices are us-east-1's list prices:

- Lambda: $0.0000166667 per GB-s on x86_64, $0.0000133334 on arm64, $0.20 per million
  requests (https://aws.amazon.com/lambda/pricing/); one vCPU at 1,769 MB, memory from
  128 MB (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html);
- m5.large $0.096 an hour (https://aws.amazon.com/ec2/pricing/on-demand/);
- Fargate $0.04048 per vCPU-hour and $0.004445 per GB-hour
  (https://aws.amazon.com/fargate/pricing/), task sizes from
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html;
- the seed's health table: latency 200 ms watch, 500 ms alert; errors 1% watch, 5% alert;
  CPU target 70%, alert 85%; a caching layer at $300 a month for 60% less load;
- 30 hours of metrics and 50 invocations: AWS Compute Optimizer's minimums
  (https://docs.aws.amazon.com/compute-optimizer/latest/ug/requirements.html).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from costscan.scanner.contracts.inventory import Inventory
from tests.policies.runner import run_policy
from tests.policies.test_demand import (
    ALB,
    ARM,
    FARGATE_GB,
    FARGATE_VCPU,
    HOURS,
    M5_LARGE,
    NOW,
    X86,
    _advice,
    _balancer,
    _by_name,
    _daily_cycle,
    _fleet,
    _fleet_inventory,
    _function,
    _functions,
    _hours,
    _inventory,
    _service,
)

D = Decimal
MONTH = D(730)
# The default function: 1,000,000 invocations of 500 ms at 2,048 MB over 336 h.
GB_S = D(1_000_000)


def _d(value: float) -> Decimal:
    return D(str(value))


def _per_month(amount: Decimal, hours: int = HOURS) -> Decimal:
    return amount * MONTH / D(hours)


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(row["evidence"]))


# --------------------------------------------------------------------------- Lambda memory


def test_lambda_target_is_rounded_up_to_64_mb_and_never_below_128() -> None:
    # 1024 MB, 50 MB used: 50 × 1.2 = 60 -> 64 MB, raised to Lambda's minimum of 128 MB.
    # GB-s = 5e8 ms / 1000 × 1024 / 1024 = 500,000. CPU share 1024 / 128 = 8, so the CPU-bound
    # end costs 128/1024 × 8 = exactly what it costs now: nothing counted, and the I/O-bound
    # end (7/8 of the duration cost) is a possible saving to measure.
    fn = _function("tiny", memory_mb=1024.0, memory_used_mb_max=50.0)
    (row,) = run_policy("rightsizing.lambda-memory", _functions(fn)).to_dicts()
    now = _per_month(D(500_000) * _d(X86))
    assert _figures(row)["target_mb"] == 128
    assert row["category"] == "possible"
    assert row["monthly_savings"] == pytest.approx(float(now * 7 / 8), rel=1e-9)
    assert "less than 8.0x as long" in row["recommendation"]


def test_lambda_cpu_bound_saving_under_a_dollar_still_counts() -> None:
    # 1,000 invocations of 100 ms at 2048 MB: 200 GB-s over 336 h. Target 384 MB, CPU-bound
    # cost × 384/2048 × 1769/384 = × 1769/2048: saves 279/2048 of $0.00724 = $0.00099 a month,
    # above zero, so it is a saving (counted), however small.
    fn = _function("rare", invocations=1000.0, duration_ms_sum=1000 * 100.0)
    (row,) = run_policy("rightsizing.lambda-memory", _functions(fn)).to_dicts()
    expected = _per_month(D(200) * _d(X86)) * (1 - D(1769) / D(2048))
    assert row["category"] == "savings"
    assert row["monthly_savings"] == pytest.approx(float(expected), rel=1e-9)


def test_lambda_above_one_vcpu_both_sizes_keep_their_cpu() -> None:
    # 4096 MB, 1700 MB used: 2040 -> 2048 MB. Both sizes are at or above 1,769 MB, so the CPU
    # share is 1769/1769 = 1: the duration is unchanged and half the duration cost is saved.
    # GB-s = 500,000 × 4 = 2,000,000.
    fn = _function("wide", memory_mb=4096.0, memory_used_mb_max=1700.0)
    (row,) = run_policy("rightsizing.lambda-memory", _functions(fn)).to_dicts()
    now = _per_month(D(2_000_000) * _d(X86))
    assert row["category"] == "savings"
    assert row["monthly_savings"] == pytest.approx(float(now / 2), rel=1e-9)
    assert _figures(row)["cpu_share_ratio"] == 1.0
    assert _figures(row)["gb_seconds"] == pytest.approx(2_000_000)


def test_lambda_memory_thresholds() -> None:
    inv = _functions(
        # Compute Optimizer's 50 invocations: at 50 it is flagged.
        _function("calls-50", invocations=50.0, duration_ms_sum=50 * 500.0),
        # Any duration at all, and any lookback, is enough to price.
        _function("one-ms", invocations=50.0, duration_ms_sum=1.0),
        _function("one-hour", lookback_hours=1.0),
        _function("no-lookback", lookback_hours=0.0),
        # A duration priced at nothing saves nothing: not flagged.
        _function("free", price_gb_second=0.0),
        # The 5% error alert line: exactly 5% is not above it; one error more is.
        _function("errors-5pct", errors=50_000.0),
        _function("errors-over", errors=50_001.0),
        _function("errors-few", errors=10.0),
        _function("errors-unknown", errors=None),
        # 25% smaller at least: 2048 × 0.75 = 1536. 1280 × 1.2 = 1536 exactly is flagged;
        # 1290 × 1.2 = 1548 -> 1600 MB is not.
        _function("at-75pct", memory_used_mb_max=1280.0),
        _function("over-75pct", memory_used_mb_max=1290.0),
    )
    found = _by_name(run_policy("rightsizing.lambda-memory", inv))
    assert set(found) == {
        "calls-50",
        "one-ms",
        "one-hour",
        "errors-5pct",
        "errors-few",
        "errors-unknown",
        "at-75pct",
    }
    assert _figures(found["at-75pct"])["target_mb"] == 1536
    # One hour of data stands for 730: 1,000,000 GB-s × price × 730 × (1 − 1769/2048).
    one_hour = D(1_000_000) * _d(X86) * MONTH * (1 - D(1769) / D(2048))
    assert found["one-hour"]["monthly_savings"] == pytest.approx(float(one_hour), rel=1e-9)


def test_lambda_memory_detail_and_evidence() -> None:
    # 2048 MB -> 384 MB: CPU share 1769 / 384 = 4.6068 (shown as 4.61), so the 900 ms
    # longest run may take 900 × 4.6068 = 4,146.09 ms at the smaller size.
    (row,) = run_policy("rightsizing.lambda-memory", _functions(_function("big"))).to_dicts()
    assert "(about 4.61x longer)" in row["detail"]
    figures = _figures(row)
    assert figures["worst_case_duration_ms_max"] == pytest.approx(900 * 1769 / 384)
    assert figures["gb_seconds"] == pytest.approx(1_000_000)
    assert figures["aws_compute_optimizer"]["why_they_differ"] is None
    # 1000 MB -> 256 MB: the I/O-bound end only; it saves if the run takes under 1000/256 =
    # 3.90625x as long, shown as 3.91.
    odd = _function("odd", memory_mb=1000.0, memory_used_mb_max=200.0)
    (row,) = run_policy("rightsizing.lambda-memory", _functions(odd)).to_dicts()
    assert row["category"] == "possible"
    assert "less than 3.91x as long" in row["recommendation"]


def test_lambda_confidence_falls_with_another_regions_prices() -> None:
    inv = _functions(
        _function("home"),
        _function("abroad", region="eu-south-2", price_region="us-east-1"),
    )
    memory = _by_name(run_policy("rightsizing.lambda-memory", inv))
    assert memory["home"]["confidence"] == pytest.approx(0.75)
    assert memory["abroad"]["confidence"] == pytest.approx(0.75 * 0.8)


def test_lambda_advice_is_only_compute_optimizers_lambda_advice() -> None:
    big = _function("big")
    inv = _functions(big)
    # AWS advice of another recommender on the same ARN is not this function's memory advice.
    inv.add(
        "provider_advice",
        pl.DataFrame(
            [_advice(big["resource_id"], "aws.compute-optimizer.ecs-service", "resize", 1.0)]
        ),
    )
    (row,) = run_policy("rightsizing.lambda-memory", inv).to_dicts()
    assert "Compute Optimizer" not in row["detail"]


def test_lambda_advice_without_a_figure_projects_nothing() -> None:
    big = _function("big")
    inv = _functions(big)
    advice = _advice(big["resource_id"], "aws.compute-optimizer.lambda", "set 512 MB", 0.0)
    inv.add("provider_advice", pl.DataFrame([{**advice, "monthly_savings": None}]))
    (row,) = run_policy("rightsizing.lambda-memory", inv).to_dicts()
    assert "(it projects $0.00 a month, costscan $4.93)" in row["detail"]


# --------------------------------------------------------------------------- Lambda arm64


def test_arm64_thresholds_and_current_cost() -> None:
    inv = _functions(
        _function("big"),
        _function("calls-50", invocations=50.0, duration_ms_sum=50 * 500.0),
        _function("one-ms", duration_ms_sum=1.0),
        _function("one-hour", lookback_hours=1.0),
        _function("no-lookback", lookback_hours=0.0),
        # Same price on both: nothing to save, nothing flagged.
        _function("same-price", price_gb_second_arm64=X86),
        _function("image", package_type="Image", runtime=None),
        _function("abroad", region="eu-south-2", price_region="us-east-1"),
    )
    found = _by_name(run_policy("rightsizing.lambda-arm64", inv))
    assert set(found) == {"big", "calls-50", "one-ms", "one-hour", "image", "abroad"}
    big = found["big"]
    # Now: 1,000,000 GB-s × 0.0000166667 × 730/336 plus 1 million requests × $0.20 × 730/336.
    now = _per_month(GB_S * _d(X86))
    requests = _per_month(D("0.20"))
    assert big["current_monthly_cost"] == pytest.approx(float(now + requests), rel=1e-9)
    assert big["monthly_savings"] == pytest.approx(
        float(_per_month(GB_S * (_d(X86) - _d(ARM)))), rel=1e-9
    )
    # A zip of interpreted code 0.6; an image to rebuild 0.4; another region's prices × 0.8.
    assert big["confidence"] == pytest.approx(0.6)
    assert found["image"]["confidence"] == pytest.approx(0.4)
    assert found["abroad"]["confidence"] == pytest.approx(0.6 * 0.8)
    assert found["image"]["recommendation"].startswith("Rebuild image's image for arm64")
    assert big["recommendation"].startswith("Switch big to arm64")


# --------------------------------------------------------------------------- fleets


def _rows(name: str, metric: str, values: dict[datetime, float]) -> list[dict[str, Any]]:
    return [
        {"resource_id": name, "metric": metric, "statistic": "average", "ts": ts, "value": v}
        for ts, v in values.items()
    ]


def _last_hours(n: int) -> list[datetime]:
    return [NOW - timedelta(hours=n - h) for h in range(n)]


def _fleets(fleets: list[dict[str, Any]], rows: list[dict[str, Any]]) -> Inventory:
    inv = _inventory()
    inv.add("fleets", pl.DataFrame(fleets, infer_schema_length=None))
    inv.add("utilization", pl.DataFrame(rows))
    return inv


def _cycle(busy: float, quiet: float) -> Any:
    return lambda ts: busy if 8 <= ts.hour < 20 else quiet


def test_demand_matching_swing_peak_and_alert_lines() -> None:
    inv = _fleet_inventory(
        [
            _fleet("swing-20"),
            _fleet("swing-19.5"),
            _fleet("p95-85"),
            _fleet("p95-85.5"),
            _fleet("p99-35"),
            _fleet("p99-36"),
            _fleet("two", min_size=2, max_size=2, desired_capacity=2, instances=2),
            _fleet("free", hourly_price=0.0),
            _fleet("unpriced", hourly_price=None),
            _fleet("stepped", step_scaling=True),
            _fleet("predicted", predictive_scaling=True),
            _fleet("scheduled", scheduled_actions=1),
        ],
        {
            "swing-20": _cycle(60.0, 40.0),
            "swing-19.5": _cycle(59.5, 40.0),
            "p95-85": _cycle(85.0, 20.0),
            "p95-85.5": _cycle(85.5, 20.0),
            "p99-35": _cycle(35.0, 5.0),
            "p99-36": _cycle(36.0, 5.0),
            **{
                name: _cycle(60.0, 12.0)
                for name in ("two", "free", "unpriced", "stepped", "predicted", "scheduled")
            },
        },
    )
    found = {
        r["resource_id"]: r for r in run_policy("rightsizing.fleet-demand-matching", inv).to_dicts()
    }
    # A daily swing of 20 points is enough (19.5 is not); a p95 at the 85% alert line is not
    # above it; a p99 at 35% (half the target) fits a half-size type, 36% does not; a group
    # of two has nothing above the two-instance floor; no price, no figure; any scaling
    # policy or scheduled action is left to the groups that scale.
    assert set(found) == {"swing-20", "p95-85", "p99-36"}
    # swing-20: busy 60% needs ceil(10 × 60/70) = 9 (1 spare), quiet 40% needs ceil(5.71) = 6
    # (4 spare): 12 × 1 + 12 × 4 = 60 instance-hours a day, 840 in 14 days.
    assert found["swing-20"]["monthly_savings"] == pytest.approx(
        float(_per_month(840 * _d(M5_LARGE))), rel=1e-9
    )
    assert float(_per_month(840 * _d(M5_LARGE))) == pytest.approx(175.20)
    assert found["swing-20"]["confidence"] == pytest.approx(0.7)
    # p95-85: busy 85% needs 13 (capped at the 10 running), quiet 20% needs ceil(2.86) = 3:
    # 12 × 7 × 14 = 1,176 instance-hours, $245.28 a month.
    assert found["p95-85"]["monthly_savings"] == pytest.approx(245.28)
    # p99-36: busy 36% needs ceil(5.14) = 6 (4 spare); quiet 5% needs ceil(0.71) = 1, raised
    # to the two-instance floor (8 spare): 144 a day, 2,016 in 14 days = 6 a month-hour.
    assert found["p99-36"]["monthly_savings"] == pytest.approx(6 * 0.096 * 730)
    # The 85% line: at it the group is not a bottleneck, above it it is (and never shrunk).
    hot = {r["resource_id"]: r for r in run_policy("rightsizing.fleet-bottleneck", inv).to_dicts()}
    assert set(hot) == {"p95-85.5"}
    # extra = ceil(10 × 85.5 / 70) − 10 = ceil(12.21) − 10 = 3; 3 × 0.096 × 730 = 210.24.
    assert hot["p95-85.5"]["added_monthly_cost"] == pytest.approx(210.24)
    assert hot["p95-85.5"]["current_monthly_cost"] == pytest.approx(10 * 0.096 * 730)
    assert hot["p95-85.5"]["confidence"] == pytest.approx(0.75)


def test_demand_matching_needs_30_hours_and_counts_a_single_spare_hour() -> None:
    # A group of 3 measured for exactly the last 30 hours (from 2024-06-15 18:00 UTC): on
    # the 15th one hour at 45% (needs max(2, ceil(3 × 45/70) = 2) = 2: one spare), the rest
    # at 80% (needs 4, capped at 3); on the 16th one hour at 50% (needs ceil(2.14) = 3) and
    # the rest at 80%. Daily swings 35 and 30, mean 32.5 ≥ 20. One spare instance-hour:
    # 1 × 0.096 × 730 / 30 = $2.336 a month.
    hours = _last_hours(30)
    cpu = {ts: 80.0 for ts in hours}
    cpu[hours[0]] = 45.0
    cpu[hours[6]] = 50.0
    three = {"min_size": 3, "max_size": 3, "desired_capacity": 3, "instances": 3}
    inv = _fleets(
        [_fleet("thirty", **three), _fleet("twenty-nine", **three)],
        _rows("thirty", "cpu", cpu) + _rows("twenty-nine", "cpu", dict(list(cpu.items())[:-1])),
    )
    (row,) = run_policy("rightsizing.fleet-demand-matching", inv).to_dicts()
    assert row["resource_id"] == "thirty"
    assert row["monthly_savings"] == pytest.approx(1 * 0.096 * 730 / 30)
    assert _figures(row)["surplus_instance_hours"] == 1.0


def test_in_service_capacity_sets_the_hours_and_the_instances() -> None:
    # The daily cycle on 10 instances, but GroupInServiceInstances says 0 on 3 June (those
    # hours are not counted) and 1 on 4 June (one instance needs itself: nothing spare).
    # The other 12 days keep 12 × 1 + 12 × 8 = 108 spare instance-hours each: 1,296 over the
    # 312 hours counted.
    inv = _fleet_inventory([_fleet("web")], {"web": lambda ts: _daily_cycle(ts.hour)})
    first = NOW - timedelta(hours=HOURS)
    capacity = {ts: 0.0 if ts.day == 3 else 1.0 if ts.day == 4 else 10.0 for ts in _hours()}
    assert first.day == 3
    inv.add("utilization", pl.DataFrame(_rows("web", "capacity", capacity)))
    (row,) = run_policy("rightsizing.fleet-demand-matching", inv).to_dicts()
    expected = D(1296) * _d(M5_LARGE) * MONTH / D(312)
    assert row["monthly_savings"] == pytest.approx(float(expected), rel=1e-9)
    assert _figures(row)["hours"] == 312
    # 24 hours of 1 and 288 of 10 instances: 2,904 / 312 on average.
    current = D(2904) / D(312) * _d(M5_LARGE) * MONTH
    assert row["current_monthly_cost"] == pytest.approx(float(current), rel=1e-9)


def test_demand_matching_spot_share_unknown_counts_as_on_demand() -> None:
    inv = _fleet_inventory(
        [_fleet("unknown", spot_share=None), _fleet("half", spot_share=0.5)],
        {name: lambda ts: _daily_cycle(ts.hour) for name in ("unknown", "half")},
    )
    found = {
        r["resource_id"]: r for r in run_policy("rightsizing.fleet-demand-matching", inv).to_dicts()
    }
    assert found["unknown"]["monthly_savings"] == pytest.approx(315.36)
    assert found["unknown"]["current_monthly_cost"] == pytest.approx(10 * 0.096 * 730)
    # Half the members on Spot (taken as free): half the saving and half the cost now.
    assert found["half"]["monthly_savings"] == pytest.approx(315.36 / 2)
    assert found["half"]["current_monthly_cost"] == pytest.approx(10 * 0.096 * 730 / 2)


def _price(instance_type: str, memory: float, hourly: float | None, **kw: Any) -> dict[str, Any]:
    family, size = instance_type.split(".")
    return {
        "provider": "aws",
        "region": "us-east-1",
        "instance_type": instance_type,
        "family": family,
        "size": size,
        "current_generation": kw.get("current", True),
        "vcpus": 2,
        "memory_gib": memory,
        "architecture": "x86_64",
        "burstable": False,
        "hourly_price": hourly,
        "source": "bundled",
    }


def test_like_type_must_be_current_priced_and_hold_the_memory() -> None:
    inv = _fleet_inventory([_fleet("web")], {"web": lambda ts: _daily_cycle(ts.hour)})
    inv.add(
        "prices",
        pl.DataFrame(
            [
                _price("m5.large", 8, 0.096),
                _price("m6a.large", 8, 0.0864),
                _price("m6i.large", 8, 0.0),  # no price: not a like type
                _price("m4.large", 8, 0.05, current=False),  # previous generation
                _price("m5n.large", 7.5, 0.06),  # less memory
            ]
        ),
    )
    (row,) = run_policy("rightsizing.fleet-demand-matching", inv).to_dicts()
    # 1,512 spare instance-hours at m6a.large's $0.0864.
    expected = _per_month(1512 * D("0.0864"))
    assert row["monthly_savings"] == pytest.approx(float(expected), rel=1e-9)
    assert _figures(row)["cheapest_like_type"] == "m6a.large"


def _lb_util(
    name: str, hours: list[datetime], latency: float, requests: float, errors: float | None
) -> list[dict[str, Any]]:
    """Hourly average latency (and a maximum of three times it), the requests and 5XX
    totals in the first hour."""
    arn = ALB.format(name)
    rows = [
        {"resource_id": arn, "metric": "latency", "statistic": stat, "ts": ts, "value": value}
        for ts in hours
        for stat, value in (("average", latency), ("maximum", latency * 3))
    ]
    counts = [("requests", requests)] + ([] if errors is None else [("errors_5xx", errors)])
    rows += [
        {"resource_id": arn, "metric": m, "statistic": "sum", "ts": hours[0], "value": v}
        for m, v in counts
    ]
    return rows


def test_a_group_is_spared_only_behind_a_balancer_at_alert_with_enough_data() -> None:
    names = ["h30", "h29", "r1000", "r999", "watch"]
    fleets = [_fleet(f"web-{n}", load_balancers=ALB.format(n)) for n in names]
    inv = _fleet_inventory(fleets, {f"web-{n}": lambda ts: _daily_cycle(ts.hour) for n in names})
    inv.add("network_idle", pl.DataFrame([_balancer(n) for n in names]))
    rows = (
        _lb_util("h30", _last_hours(30), 600.0, 1000.0, 0.0)
        + _lb_util("h29", _last_hours(29), 600.0, 1000.0, 0.0)
        + _lb_util("r1000", _hours(), 600.0, 1000.0, 0.0)
        + _lb_util("r999", _hours(), 600.0, 999.0, 0.0)
        + _lb_util("watch", _hours(), 250.0, 1000.0, 0.0)
    )
    inv.add("utilization", pl.DataFrame(rows))
    found = {
        r["resource_id"] for r in run_policy("rightsizing.fleet-demand-matching", inv).to_dicts()
    }
    # 30 hours and 1,000 requests are enough to call the service slow; 29 hours or 999
    # requests are not, and a service at the watch line does not stop a shrink.
    assert found == {"web-h29", "web-r999", "web-watch"}


# --------------------------------------------------------------------------- bottlenecks


def test_extra_instances_come_from_the_rounded_group_size() -> None:
    # 30 hours of a group of 4.4 on average (18 hours at 4, 12 at 5), rounded to 4:
    # at 86% ceil(4 × 86/70) − 4 = ceil(4.91) − 4 = 1 (not ceil(4.4 × 86/70) − 4 = 2);
    # at 90% ceil(5.14) − 4 = 2 (not 6 − 4.4 = 1.6). 29 hours is too few.
    hours = _last_hours(30)
    capacity = {ts: 4.0 if h < 18 else 5.0 for h, ts in enumerate(hours)}
    fleets, rows = [], []
    for name, cpu, n_hours in (("b86", 86.0, 30), ("b90", 90.0, 30), ("b29", 90.0, 29)):
        fleets.append(_fleet(name, min_size=4, max_size=5, desired_capacity=4))
        rows += _rows(name, "cpu", {ts: cpu for ts in hours[:n_hours]})
        rows += _rows(name, "capacity", {ts: capacity[ts] for ts in hours[:n_hours]})
    fleets.append(_fleet("nameless-price", min_size=4, desired_capacity=4, hourly_price=None))
    rows += _rows("nameless-price", "cpu", {ts: 90.0 for ts in hours})
    inv = _fleets(fleets, rows)
    found = {
        r["resource_id"]: r for r in run_policy("rightsizing.fleet-bottleneck", inv).to_dicts()
    }
    assert set(found) == {"b86", "b90", "nameless-price"}
    assert found["b86"]["added_monthly_cost"] == pytest.approx(1 * 0.096 * 730)
    assert found["b90"]["added_monthly_cost"] == pytest.approx(2 * 0.096 * 730)
    assert found["b90"]["current_monthly_cost"] == pytest.approx(4.4 * 0.096 * 730)
    assert found["b90"]["performance_gain"] == pytest.approx(1 - 70 / 90)
    # Without a price the remedy is named, not priced.
    assert found["nameless-price"]["added_monthly_cost"] == 0.0
    assert found["nameless-price"]["current_monthly_cost"] == 0.0


def test_balancer_watch_and_alert_lines() -> None:
    cases: dict[str, tuple[float, float, float | None, int]] = {
        # name: (latency ms, requests, 5XX, hours)
        "lat-200": (200.0, 1000.0, 0.0, HOURS),
        "lat-200.5": (200.5, 1000.0, None, HOURS),
        "lat-500": (500.0, 1000.0, 0.0, HOURS),
        "lat-500.5": (500.5, 1000.0, 0.0, HOURS),
        "err-1pct": (100.0, 1000.0, 10.0, HOURS),
        "err-1.1pct": (100.0, 1000.0, 11.0, HOURS),
        "err-5pct": (100.0, 1000.0, 50.0, HOURS),
        "err-5.1pct": (100.0, 1000.0, 51.0, HOURS),
        "req-999": (600.0, 999.0, 0.0, HOURS),
        "req-1000": (600.0, 1000.0, 0.0, HOURS),
        "hours-29": (600.0, 1000.0, 0.0, 29),
        "hours-30": (600.0, 1000.0, 0.0, 30),
        "network": (600.0, 1000.0, 0.0, HOURS),
        "nat": (600.0, 1000.0, 0.0, HOURS),
    }
    rows = []
    for name, (latency, requests, errors, n) in cases.items():
        rows += _lb_util(name, _last_hours(n), latency, requests, errors)
    balancers = [_balancer(name) for name in cases]
    for b in balancers:
        if b["resource_name"] == "network":
            b["subtype"] = "network"
        if b["resource_name"] == "nat":
            b["kind"] = "nat_gateway"
        if b["resource_name"] == "req-1000":
            b["hourly_price"] = None
    inv = _inventory()
    inv.add("fleets", pl.DataFrame([_fleet("elsewhere", load_balancers=ALB.format("other"))]))
    inv.add("network_idle", pl.DataFrame(balancers, infer_schema_length=None))
    inv.add("utilization", pl.DataFrame(rows))
    found = {
        r["resource_name"]: r
        for r in run_policy("rightsizing.load-balancer-bottleneck", inv).to_dicts()
    }
    # Strictly above each line: 200 ms and 1% are healthy, 500 ms and 5% are watch.
    watch = {"lat-200.5", "lat-500", "err-1.1pct", "err-5pct"}
    alert = {"lat-500.5", "err-5.1pct", "req-1000", "hours-30"}
    assert set(found) == watch | alert
    for name in watch:
        assert found[name]["category"] == "review", name
        assert found[name]["added_monthly_cost"] == 0.0, name
    for name in alert:
        # No group behind it: the seed's caching layer, $300 a month, 60% less load.
        assert found[name]["category"] == "investment", name
        assert found[name]["added_monthly_cost"] == 300.0, name
        assert found[name]["performance_gain"] == pytest.approx(0.6), name
        assert found[name]["price_source"] == "bundled", name
        assert "no Auto Scaling group behind it is known" in found[name]["recommendation"]
    # 51 of 1,000 requests failed: 5.1%, shown as a percentage.
    assert "failed with 5XX (5.1%)" in found["err-5.1pct"]["detail"]
    # No 5XX datapoints at all: no errors, not one.
    figures = _figures(found["lat-200.5"])
    assert figures["errors_5xx"] == 0.0 and figures["error_rate"] == 0.0
    assert figures["latency_max_ms"] == pytest.approx(601.5)
    # The balancer's own hourly price, a month of it; none known, none counted.
    assert found["lat-500.5"]["current_monthly_cost"] == pytest.approx(0.0225 * 730)
    assert found["lat-500.5"]["confidence"] == pytest.approx(0.7)
    assert found["req-1000"]["current_monthly_cost"] == 0.0


def test_balancer_remedy_prices_the_hottest_group_behind_it() -> None:
    # Behind "shop" (700 ms): groups of 4 at 80% and 90% p95; the hotter one is scaled out:
    # ceil(4 × 90 / 70) − 4 = 2 instances, 2 × 0.096 × 730 = 140.16, from its own prices.
    # Behind "calm": a group at exactly the 70% target is not CPU-bound: the caching layer.
    # Behind "dark": a hot group whose price is unknown: the scale-out is named, not priced.
    four = {"min_size": 4, "max_size": 4, "desired_capacity": 4, "instances": 4}
    inv = _lb_inventory_of(
        {"shop": 700.0, "calm": 700.0, "dark": 700.0},
        [
            _fleet("g80", load_balancers=ALB.format("shop"), **four),
            _fleet("g90", load_balancers=ALB.format("shop"), price_source="live", **four),
            _fleet("g70", load_balancers=ALB.format("calm"), **four),
            _fleet("gnone", load_balancers=ALB.format("dark"), hourly_price=None, **four),
        ],
        {"g80": 80.0, "g90": 90.0, "g70": 70.0, "gnone": 90.0},
    )
    found = {
        r["resource_name"]: r
        for r in run_policy("rightsizing.load-balancer-bottleneck", inv).to_dicts()
    }
    shop, calm, dark = found["shop"], found["calm"], found["dark"]
    assert shop["added_monthly_cost"] == pytest.approx(140.16)
    assert shop["price_source"] == "live"
    assert "Scale g90 out by 2" in shop["recommendation"]
    assert calm["added_monthly_cost"] == 300.0
    assert calm["performance_gain"] == pytest.approx(0.6)
    assert "(g70 p95 CPU 70.0%)" in calm["recommendation"]
    assert dark["added_monthly_cost"] == 0.0
    assert "Scale gnone out by 2" in dark["recommendation"]


def _lb_inventory_of(
    latency: dict[str, float], fleets: list[dict[str, Any]], cpu: dict[str, float]
) -> Inventory:
    rows: list[dict[str, Any]] = []
    for name, ms in latency.items():
        rows += _lb_util(name, _hours(), ms, 1000.0, 0.0)
    for group, value in cpu.items():
        rows += _rows(group, "cpu", {ts: value for ts in _hours()})
    inv = _fleets(fleets, rows)
    inv.add("network_idle", pl.DataFrame([_balancer(name) for name in latency]))
    return inv


def test_balancer_remedy_rounds_the_group_size_first() -> None:
    # Groups of 4.4 on average (18 of 30 hours at 4, 12 at 5), rounded to 4, behind slow
    # balancers: at 80% ceil(4 × 80/70) − 4 = ceil(4.57) − 4 = 1 (not ceil(5.03) − 4 = 2);
    # at 90% ceil(5.14) − 4 = 2 (not 6 − 4.4 = 1.6).
    hours = _last_hours(30)
    rows: list[dict[str, Any]] = []
    fleets = []
    for name, cpu in (("lb80", 80.0), ("lb90", 90.0)):
        rows += _lb_util(name, hours, 700.0, 1000.0, 0.0)
        group = f"g-{name}"
        fleets.append(_fleet(group, load_balancers=ALB.format(name), desired_capacity=4))
        rows += _rows(group, "cpu", {ts: cpu for ts in hours})
        rows += _rows(group, "capacity", {ts: 4.0 if h < 18 else 5.0 for h, ts in enumerate(hours)})
    inv = _fleets(fleets, rows)
    inv.add("network_idle", pl.DataFrame([_balancer("lb80"), _balancer("lb90")]))
    found = {
        r["resource_name"]: r
        for r in run_policy("rightsizing.load-balancer-bottleneck", inv).to_dicts()
    }
    assert found["lb80"]["added_monthly_cost"] == pytest.approx(1 * 0.096 * 730)
    assert found["lb90"]["added_monthly_cost"] == pytest.approx(2 * 0.096 * 730)


# --------------------------------------------------------------------------- high minimum


def _tracked(name: str, **overrides: Any) -> dict[str, Any]:
    return _fleet(
        name,
        **{
            "min_size": 8,
            "max_size": 20,
            "desired_capacity": 8,
            "instances": 8,
            "target_tracking": True,
            **overrides,
        },
    )


def test_high_minimum_counts_only_hours_at_the_floor_above_the_load() -> None:
    # Each day: 2 hours at 12 instances (above the floor of 8, nothing counted), 2 hours at
    # the floor at 85% (the load needs ceil(8 × 85/70) = 10: nothing spare) and 20 hours at
    # the floor at 20% (needs ceil(2.29) = 3). The tenth percentile of the floor hours' need
    # is 3, the new minimum: 20 × 5 × 14 = 1,400 spare instance-hours, 1400/336 × 0.096 ×
    # 730 = $292.00 a month. The p95 CPU is 85%: at the alert line, not above it ("spiky"
    # peaks at 85.5% and is left alone).
    fleets, rows = [], []
    for name, peak in (("steady", 85.0), ("spiky", 85.5)):
        fleets.append(_tracked(name))
        capacity = {ts: 12.0 if ts.hour < 2 else 8.0 for ts in _hours()}
        cpu = {ts: 50.0 if ts.hour < 2 else peak if ts.hour < 4 else 20.0 for ts in _hours()}
        rows += _rows(name, "capacity", capacity) + _rows(name, "cpu", cpu)
    (row,) = run_policy("rightsizing.fleet-high-minimum", _fleets(fleets, rows)).to_dicts()
    assert row["resource_id"] == "steady"
    assert row["monthly_savings"] == pytest.approx(292.0)
    assert "MinSize from 8 to 3" in row["recommendation"]
    assert row["confidence"] == pytest.approx(0.7)
    # 28 hours at 12 and 308 at 8: 2,800 / 336 instances on average.
    assert row["current_monthly_cost"] == pytest.approx(2800 / 336 * 0.096 * 730)


def test_high_minimum_groups_that_scale_prices_and_spot() -> None:
    names = {
        # Flagged: any of the three kinds of scaling policy.
        "tracking": _tracked("tracking"),
        "step": _tracked("step", target_tracking=False, step_scaling=True),
        "predictive": _tracked("predictive", target_tracking=False, predictive_scaling=True),
        "spot-half": _tracked("spot-half", spot_share=0.5),
        "spot-unknown": _tracked("spot-unknown", spot_share=None),
        # Not: a fixed group whose other policies are unknown, no price, a zero price.
        "tt-unknown": _tracked("tt-unknown", target_tracking=None),
        "step-unknown": _tracked("step-unknown", target_tracking=False, step_scaling=None),
        "pred-unknown": _tracked("pred-unknown", target_tracking=False, predictive_scaling=None),
        "free": _tracked("free", hourly_price=0.0),
        "unpriced": _tracked("unpriced", hourly_price=None),
    }
    rows = []
    for name in names:
        rows += _rows(name, "cpu", {ts: 5.0 for ts in _hours()})
        rows += _rows(name, "capacity", {ts: 8.0 for ts in _hours()})
    # At its floor of 8 (the desired capacity) but never measured in service: not flagged.
    unmeasured = _tracked("unmeasured")
    rows += _rows("unmeasured", "cpu", {ts: 5.0 for ts in _hours()})
    inv = _fleets([*names.values(), unmeasured], rows)
    found = {
        r["resource_id"]: r for r in run_policy("rightsizing.fleet-high-minimum", inv).to_dicts()
    }
    assert set(found) == {"tracking", "step", "predictive", "spot-half", "spot-unknown"}
    # 5% CPU on 8 needs ceil(0.57) = 1, but never fewer than 2: 6 spare all month,
    # 6 × 0.096 × 730 = 420.48.
    for name in ("tracking", "step", "predictive", "spot-unknown"):
        assert found[name]["monthly_savings"] == pytest.approx(420.48), name
        assert found[name]["current_monthly_cost"] == pytest.approx(8 * 0.096 * 730), name
    assert "MinSize from 8 to 2" in found["tracking"]["recommendation"]
    assert found["spot-half"]["monthly_savings"] == pytest.approx(420.48 / 2)
    assert found["spot-half"]["current_monthly_cost"] == pytest.approx(8 * 0.096 * 730 / 2)


def test_high_minimum_needs_30_hours() -> None:
    # 30 hours at the floor of 8 with load for 3: 5 spare every hour, 5 × 0.096 × 730.
    hours = _last_hours(30)
    rows = []
    for name, n in (("thirty", 30), ("twenty-nine", 29)):
        rows += _rows(name, "cpu", {ts: 20.0 for ts in hours[:n]})
        rows += _rows(name, "capacity", {ts: 8.0 for ts in hours[:n]})
    inv = _fleets([_tracked("thirty"), _tracked("twenty-nine")], rows)
    (row,) = run_policy("rightsizing.fleet-high-minimum", inv).to_dicts()
    assert row["resource_id"] == "thirty"
    assert row["monthly_savings"] == pytest.approx(5 * 0.096 * 730)


@pytest.mark.parametrize(("odd_hour", "expected"), [(2.5, 0.5 * 0.096 * 730 / 336), (2.0, None)])
def test_high_minimum_counts_any_spare_fraction(odd_hour: float, expected: float | None) -> None:
    # Minimum 8 but only 2 in service (replacements): at 20% they need 1, the new minimum
    # is the floor of 2, and nothing is spare, except one hour averaging 2.5 in service:
    # 0.5 instance-hours, 0.5 × 0.096 × 730 / 336 = $0.104 a month.
    hours = _hours()
    capacity = {ts: 2.0 for ts in hours}
    capacity[hours[100]] = odd_hour
    rows = _rows("g", "cpu", {ts: 20.0 for ts in hours}) + _rows("g", "capacity", capacity)
    found = run_policy("rightsizing.fleet-high-minimum", _fleets([_tracked("g")], rows))
    if expected is None:
        assert found.height == 0
    else:
        assert found["monthly_savings"].to_list() == [pytest.approx(expected)]


# --------------------------------------------------------------------------- Fargate tasks


# Every CPU tier's smallest memory, second memory and largest memory (the 16 vCPU tier's
# largest is the largest task, never cheaper than any valid task). (cpu, memory, step).
SIZES = [
    (256, 512, 512),
    (256, 1024, 512),
    (256, 2048, 1024),
    (512, 1024, 1024),
    (512, 2048, 1024),
    (512, 4096, 1024),
    (1024, 2048, 1024),
    (1024, 3072, 1024),
    (1024, 8192, 1024),
    (2048, 4096, 1024),
    (2048, 5120, 1024),
    (2048, 16384, 1024),
    (4096, 8192, 1024),
    (4096, 9216, 1024),
    (4096, 30720, 1024),
    (8192, 16384, 4096),
    (8192, 20480, 4096),
    (8192, 61440, 4096),
    (16384, 32768, 8192),
    (16384, 40960, 8192),
]


def test_each_fargate_size_is_chosen_when_it_is_the_smallest_that_fits() -> None:
    # Each service runs one task of the largest size (16 vCPU, 120 GiB) and needs 3/4 of a
    # tier's CPU and half a step under a tier's memory: the cheapest size that holds that
    # is exactly (cpu, memory). needed CPU = 16384 × p95 / 70; needed memory = 122880 ×
    # max% / 100 × 1.2.
    services = []
    for cpu, memory, step in SIZES:
        need_cpu = 0.75 * cpu
        need_memory = memory - step / 2
        services.append(
            _service(
                f"s-{cpu}-{memory}",
                task_cpu_units=16384.0,
                task_memory_mb=122880.0,
                desired_count=1,
                cpu_p95=need_cpu * 70 / 16384,
                memory_max=need_memory * 100 / (122880 * 1.2),
            )
        )
    # A service already at the size it needs: nothing to save, not flagged.
    services.append(
        _service("fits", task_cpu_units=1024.0, task_memory_mb=3072.0, cpu_p95=52.5, memory_max=70)
    )
    inv = _inventory()
    inv.add("services", pl.DataFrame(services, infer_schema_length=None))
    found = {r["resource_name"]: r for r in run_policy("rightsizing.fargate-task", inv).to_dicts()}
    assert set(found) == {f"s-{cpu}-{memory}" for cpu, memory, _ in SIZES}
    now = 16 * _d(FARGATE_VCPU) + 120 * _d(FARGATE_GB)
    for cpu, memory, _ in SIZES:
        row = found[f"s-{cpu}-{memory}"]
        assert f"with {cpu} CPU units and {memory} MiB" in row["recommendation"]
        after = D(cpu) / 1024 * _d(FARGATE_VCPU) + D(memory) / 1024 * _d(FARGATE_GB)
        assert row["monthly_savings"] == pytest.approx(float((now - after) * MONTH), rel=1e-9)


def test_fargate_task_thresholds() -> None:
    services = [
        _service("api"),
        # Compute Optimizer's 30 hours: at 30 it is flagged, at 29 not.
        _service("h30", metric_hours=30.0),
        _service("h29", metric_hours=29.0),
        # The 85% alert line on the maximum CPU: at it a service may shrink, above it not.
        _service("cpu-85", cpu_max=85.0),
        _service("cpu-85.5", cpu_max=85.5),
        _service("idle", desired_count=0),
        _service("single", desired_count=1),
        _service("unmeasured", memory_max=None),
        _service("undefined", task_cpu_units=None),
        _service("providers", launch_type=None, capacity_providers="FARGATE"),
        # Needs exactly a size: 2048 × 35 / 70 = 1024 units and 8192 × 31.25% × 1.2 = 3072
        # MiB: (1024, 3072) holds it.
        _service("exact", cpu_p95=35.0, memory_max=31.25),
        # Just over a size: 8192 × 31.4% × 1.2 = 3,086.7 MiB needs the 4096 MiB size.
        _service("over", cpu_p95=35.0, memory_max=31.4),
        _service("abroad", region="eu-south-2", price_region="us-east-1"),
    ]
    inv = _inventory()
    inv.add("services", pl.DataFrame(services, infer_schema_length=None))
    found = {r["resource_name"]: r for r in run_policy("rightsizing.fargate-task", inv).to_dicts()}
    assert set(found) == {"api", "h30", "cpu-85", "single", "providers", "exact", "over", "abroad"}
    # (2 × 0.04048 + 8 × 0.004445) − (1 × 0.04048 + 3 × 0.004445) = 0.062705 a task-hour.
    per_task = (2 - 1) * _d(FARGATE_VCPU) + (8 - 3) * _d(FARGATE_GB)
    assert found["exact"]["monthly_savings"] == pytest.approx(float(4 * per_task * MONTH))
    assert "1024 CPU units and 3072 MiB" in found["exact"]["recommendation"]
    # (1024, 4096): one vCPU and 4 GB less than (2048, 8192), 4 tasks.
    over = 4 * (_d(FARGATE_VCPU) + 4 * _d(FARGATE_GB)) * MONTH
    assert found["over"]["monthly_savings"] == pytest.approx(float(over))
    assert "1024 CPU units and 4096 MiB" in found["over"]["recommendation"]
    assert found["single"]["monthly_savings"] == pytest.approx(float(per_task * MONTH))
    api = found["api"]
    # Now: 4 × (2 × 0.04048 + 8 × 0.004445) × 730 = 4 × 0.11652 × 730 = 340.2384.
    assert api["current_monthly_cost"] == pytest.approx(340.2384)
    assert "it saves $183.10 a month" in api["recommendation"]
    assert api["confidence"] == pytest.approx(0.7)
    assert found["abroad"]["confidence"] == pytest.approx(0.7 * 0.8)


def test_fargate_task_shows_compute_optimizers_figure_beside_its_own() -> None:
    api = _service("api")
    inv = _inventory()
    inv.add("services", pl.DataFrame([api], infer_schema_length=None))
    advice = _advice(api["resource_id"], "aws.compute-optimizer.ecs-service", "1 vCPU", 150.0)
    inv.add("provider_advice", pl.DataFrame([advice]))
    (row,) = run_policy("rightsizing.fargate-task", inv).to_dicts()
    assert "(it projects $150.00 a month, costscan $183.10)" in row["detail"]


# --------------------------------------------------------------------------- Fargate Spot

SPOT = {"price_spot_vcpu_hour": FARGATE_VCPU * 0.3, "price_spot_gb_hour": FARGATE_GB * 0.3}


def test_fargate_spot_thresholds_and_current_cost() -> None:
    services = [
        _service("api", **SPOT),
        # Two tasks: one stays on demand, one moves.
        _service("pair", desired_count=2, **SPOT),
        _service("providers", launch_type=None, capacity_providers="FARGATE", **SPOT),
        _service("graviton", architecture="ARM64", **SPOT),
        _service("arch-unknown", architecture=None, **SPOT),
        _service("undefined", task_cpu_units=None, **SPOT),
    ]
    inv = _inventory()
    inv.add("services", pl.DataFrame(services, infer_schema_length=None))
    found = {r["resource_name"]: r for r in run_policy("commitments.fargate-spot", inv).to_dicts()}
    # Fargate Spot runs Linux x86 only; unknown architecture is taken as the x86 default.
    assert set(found) == {"api", "pair", "providers", "arch-unknown"}
    task = 2 * _d(FARGATE_VCPU) + 8 * _d(FARGATE_GB)  # 0.11652 an hour
    assert found["pair"]["monthly_savings"] == pytest.approx(float(task * D("0.7") * MONTH))
    api = found["api"]
    # 4 tasks on demand: 4 × 0.11652 × 730 = $340.24 a month.
    assert api["current_monthly_cost"] == pytest.approx(float(4 * task * MONTH))
    assert "runs 4 Fargate tasks on demand ($340.24 a month)" in api["detail"]
    assert api["confidence"] == pytest.approx(0.4)


# --------------------------------------------------------------------------- only AWS's advice


def test_only_aws_lists_compute_optimizers_three_recommenders_and_nothing_else() -> None:
    inv = _inventory()
    rows = [
        _advice("asg-a", "aws.compute-optimizer.auto-scaling-group", "m5.large -> m6g.large", 40.0),
        _advice("svc-a", "aws.compute-optimizer.ecs-service", "1 vCPU", 20.0),
        _advice("ebs-a", "aws.compute-optimizer.ebs-volume", "gp3", 5.0),
        {**_advice("fn-gcp", "aws.compute-optimizer.lambda", "512 MB", 3.0), "provider": "gcp"},
    ]
    inv.add("provider_advice", pl.DataFrame(rows))
    found = {
        r["resource_id"]: r for r in run_policy("rightsizing.aws-compute-optimizer", inv).to_dicts()
    }
    assert set(found) == {"asg-a", "svc-a"}
    assert found["asg-a"]["confidence"] == pytest.approx(0.5)
    assert found["asg-a"]["monthly_savings"] == 0.0


def test_balancer_error_rate_with_little_or_no_traffic() -> None:
    # With the traffic floor lowered to none (min_requests=0): one request that failed is a
    # 100% error rate (alert); no requests at all, or no request datapoints at all, is a 0%
    # error rate and no 5XX, so only the 250 ms latency puts them on the watch line.
    rows = (
        _lb_util("one", _hours(), 100.0, 1.0, 1.0)
        + _lb_util("none", _hours(), 250.0, 0.0, 0.0)
        + [r for r in _lb_util("uncounted", _hours(), 250.0, 0.0, None) if r["metric"] == "latency"]
    )
    inv = _inventory()
    inv.add("fleets", pl.DataFrame([_fleet("elsewhere", load_balancers=ALB.format("other"))]))
    inv.add("network_idle", pl.DataFrame([_balancer(n) for n in ("one", "none", "uncounted")]))
    inv.add("utilization", pl.DataFrame(rows))
    found = {
        r["resource_name"]: r
        for r in run_policy("rightsizing.load-balancer-bottleneck", inv, min_requests=0).to_dicts()
    }
    assert found["one"]["category"] == "investment"
    assert _figures(found["one"])["error_rate"] == 1.0
    for name in ("none", "uncounted"):
        assert found[name]["category"] == "review", name
        figures = _figures(found[name])
        assert figures["error_rate"] == 0.0 and figures["errors_5xx"] == 0.0, name
        assert figures["requests"] == 0.0, name
