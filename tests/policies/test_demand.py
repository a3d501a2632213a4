"""Demand matching: Lambda memory and arm64, fixed Auto Scaling groups with a daily cycle,
and the bottlenecks that are never shrunk. Every figure is worked by hand (or by an
independent Decimal sum over the hours) in the test."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from costscan.scanner.contracts.inventory import Inventory, RunContext
from tests.policies.runner import run_policy

NOW = datetime(2024, 6, 17, tzinfo=UTC)
DAYS = 14
HOURS = DAYS * 24
X86 = 0.0000166667  # https://aws.amazon.com/lambda/pricing/, us-east-1
ARM = 0.0000133334
M5_LARGE = 0.096  # https://aws.amazon.com/ec2/pricing/on-demand/, us-east-1


def _inventory() -> Inventory:
    return Inventory(provider="aws", context=RunContext(now=NOW, lookback_days=DAYS))


def _function(name: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "provider": "aws",
        "account_id": "123456789012",
        "region": "us-east-1",
        "resource_id": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        "resource_name": name,
        "resource_type": "lambda_function",
        "runtime": "python3.12",
        "architecture": "x86_64",
        "memory_mb": 2048.0,
        "timeout_seconds": 30.0,
        "package_type": "Zip",
        "lookback_hours": float(HOURS),
        "invocations": 1_000_000.0,
        "duration_ms_sum": 1_000_000 * 500.0,
        "duration_ms_max": 900.0,
        "errors": 0.0,
        "throttles": 0.0,
        "memory_used_mb_max": 300.0,
        "memory_source": "lambda_insights",
        "price_gb_second": X86,
        "price_gb_second_x86_64": X86,
        "price_gb_second_arm64": ARM,
        "price_per_million_requests": 0.20,
        "price_region": "us-east-1",
        "price_source": "bundled",
        "price_reference": "https://aws.amazon.com/lambda/pricing/",
    }
    row.update(overrides)
    return row


def _functions(*rows: dict[str, Any]) -> Inventory:
    inv = _inventory()
    inv.add("functions", pl.DataFrame(list(rows), infer_schema_length=None))
    return inv


def _by_name(found: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {r["resource_id"].rsplit(":", 1)[-1]: r for r in found.to_dicts()}


# --------------------------------------------------------------------------- Lambda memory


def test_oversized_lambda_saves_the_cpu_bound_figure() -> None:
    # 2048 MB, at most 300 MB used: target ceil(300 × 1.2 / 64) × 64 = 384 MB.
    # GB-s = 5e8 ms / 1000 × 2048 / 1024 = 1,000,000 over 336 h.
    # Now: 1e6 × X86 × 730/336. CPU-bound at 384 MB: × 384/2048 × 1769/384 = × 1769/2048.
    found = run_policy("rightsizing.lambda-memory", _functions(_function("big")))
    (row,) = found.to_dicts()
    now = Decimal(1_000_000) * Decimal(str(X86)) * Decimal(730) / Decimal(336)
    expected = now * (1 - Decimal(1769) / Decimal(2048))
    assert row["category"] == "savings"
    assert row["monthly_savings"] == pytest.approx(float(expected), rel=1e-9)
    assert float(expected) == pytest.approx(4.9329, abs=1e-3)
    requests = Decimal("1") * Decimal("0.20") * Decimal(730) / Decimal(336)
    assert row["current_monthly_cost"] == pytest.approx(float(now + requests), rel=1e-9)
    figures = json.loads(row["evidence"])
    assert figures["target_mb"] == 384
    assert figures["duration_monthly_io_bound"] == pytest.approx(float(now * 384 / 2048))
    assert "384 MB" in row["recommendation"]


def test_lambda_whose_cpu_bound_size_saves_nothing_is_only_possible() -> None:
    # 1024 MB, 200 MB used: target 256 MB. CPU-bound: 256/1024 × 1024/256 = 1 (no saving);
    # I/O-bound: 3/4 of the duration cost, a possible saving to measure first.
    fn = _function("small", memory_mb=1024.0, memory_used_mb_max=200.0)
    (row,) = run_policy("rightsizing.lambda-memory", _functions(fn)).to_dicts()
    gb_s = Decimal(500_000) * Decimal(1024) / Decimal(1024)
    io_saving = gb_s * Decimal(str(X86)) * Decimal(730) / Decimal(336) * Decimal("0.75")
    assert row["category"] == "possible"
    assert row["monthly_savings"] == pytest.approx(float(io_saving), rel=1e-9)
    assert "Measure" in row["recommendation"]


@pytest.mark.parametrize(
    ("why", "overrides"),
    [
        ("no memory data", {"memory_used_mb_max": None, "memory_source": "none"}),
        ("too few invocations", {"invocations": 49.0, "duration_ms_sum": 49 * 500.0}),
        ("errors above the 5% alert line", {"errors": 60_000.0}),
        ("already close to what it uses", {"memory_used_mb_max": 1500.0}),
    ],
)
def test_lambda_memory_leaves_alone(why: str, overrides: dict[str, Any]) -> None:
    found = run_policy("rightsizing.lambda-memory", _functions(_function("f", **overrides)))
    assert found.height == 0, why


# --------------------------------------------------------------------------- Lambda arm64


def test_x86_lambda_on_arm64_saves_the_price_difference() -> None:
    inv = _functions(
        _function("big"),
        _function("old", runtime="go1.x"),
        _function("graviton", architecture="arm64", price_gb_second=ARM),
        _function("idle", invocations=0.0, duration_ms_sum=0.0),
    )
    found = _by_name(run_policy("rightsizing.lambda-arm64", inv))
    assert set(found) == {"big"}
    # 1,000,000 GB-s × (0.0000166667 − 0.0000133334) × 730/336 = 7.2421...
    expected = (
        Decimal(1_000_000) * (Decimal(str(X86)) - Decimal(str(ARM))) * Decimal(730) / Decimal(336)
    )
    assert found["big"]["monthly_savings"] == pytest.approx(float(expected), rel=1e-9)
    assert float(expected) == pytest.approx(7.2421, abs=1e-3)


def test_memory_and_arm64_on_one_function_are_alternatives() -> None:
    from costscan.reports.ranking import rank
    from costscan.scanner.contracts import schema

    inv = _functions(_function("big"))
    both = pl.concat(
        [
            run_policy("rightsizing.lambda-memory", inv),
            run_policy("rightsizing.lambda-arm64", inv),
        ]
    )
    ranked = rank(schema.conform_findings(both.lazy()).collect(), hourly_rate=0.0)
    counted = ranked.findings.filter(pl.col("counted"))
    # Both are resizes of one function: the larger (arm64, 7.24) counts, memory (4.93) is
    # its alternative, so the function is never counted twice.
    assert counted["policy_id"].to_list() == ["rightsizing.lambda-arm64"]


# --------------------------------------------------------------------------- fleets


def _fleet(name: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "provider": "aws",
        "account_id": "123456789012",
        "region": "us-east-1",
        "resource_id": name,
        "resource_name": name,
        "resource_type": "auto_scaling_group",
        "min_size": 10,
        "max_size": 10,
        "desired_capacity": 10,
        "instances": 10,
        "instance_type": "m5.large",
        "instance_types": "m5.large",
        "mixed_instances": False,
        "spot_share": 0.0,
        "scaling_policies": "",
        "target_tracking": False,
        "step_scaling": False,
        "predictive_scaling": False,
        "scheduled_actions": 0,
        "hourly_price": M5_LARGE,
        "price_source": "bundled",
    }
    row.update(overrides)
    return row


def _hours() -> list[datetime]:
    start = NOW - timedelta(hours=HOURS)
    return [start + timedelta(hours=h) for h in range(HOURS)]


def _daily_cycle(hour: int) -> float:
    """Busy 08:00-19:59 UTC at 60% CPU, quiet at 12% the rest of the day."""
    return 60.0 if 8 <= hour < 20 else 12.0


def _fleet_inventory(fleets: list[dict[str, Any]], cpu: dict[str, Any]) -> Inventory:
    inv = _inventory()
    inv.add("fleets", pl.DataFrame(fleets, infer_schema_length=None))
    rows = [
        {"resource_id": name, "metric": "cpu", "statistic": "average", "ts": ts, "value": curve(ts)}
        for name, curve in cpu.items()
        for ts in _hours()
    ]
    inv.add("utilization", pl.DataFrame(rows))
    return inv


def test_fixed_group_with_a_daily_cycle_saves_the_area_above_target_tracking() -> None:
    inv = _fleet_inventory(
        [
            _fleet("web"),
            _fleet("steady"),
            _fleet("tracked", target_tracking=True, scaling_policies="TargetTrackingScaling"),
            _fleet("unknown-policies", target_tracking=None, step_scaling=None),
        ],
        {
            "web": lambda ts: _daily_cycle(ts.hour),
            "steady": lambda ts: 50.0,
            "tracked": lambda ts: _daily_cycle(ts.hour),
            "unknown-policies": lambda ts: _daily_cycle(ts.hour),
        },
    )
    found = run_policy("rightsizing.fleet-demand-matching", inv)
    assert found["resource_id"].to_list() == ["web"]
    (row,) = found.to_dicts()

    # The worked example, hour by hour: 10 instances all day; the same work at 70% needs
    # max(2, ceil(10 × cpu / 70)): busy hours ceil(8.57) = 9, quiet hours max(2, ceil(1.71)) = 2.
    surplus = Decimal(0)
    for ts in _hours():
        needed = max(2, math.ceil(10 * _daily_cycle(ts.hour) / 70))
        surplus += Decimal(10 - needed)
    assert surplus == 14 * (12 * 1 + 12 * 8)  # 1,512 instance-hours
    expected = surplus * Decimal(str(M5_LARGE)) * Decimal(730) / Decimal(HOURS)
    assert float(expected) == pytest.approx(315.36)
    assert row["monthly_savings"] == pytest.approx(float(expected), rel=1e-9)
    assert row["current_monthly_cost"] == pytest.approx(10 * M5_LARGE * 730)
    assert row["category"] == "savings"
    assert "MinSize 2 and MaxSize 10" in row["recommendation"]


def test_spot_share_counts_less() -> None:
    inv = _fleet_inventory(
        [_fleet("web", spot_share=0.5)], {"web": lambda ts: _daily_cycle(ts.hour)}
    )
    (row,) = run_policy("rightsizing.fleet-demand-matching", inv).to_dicts()
    assert row["monthly_savings"] == pytest.approx(315.36 / 2)


def test_hot_group_is_a_bottleneck_and_never_shrunk() -> None:
    # 4 instances at 90% with a daily dip to 20%: p95 90 > 85, so no demand-matching shrink.
    hot = _fleet("hot", min_size=4, max_size=4, desired_capacity=4, instances=4)
    inv = _fleet_inventory([hot], {"hot": lambda ts: 90.0 if ts.hour >= 4 else 20.0})
    assert run_policy("rightsizing.fleet-demand-matching", inv).height == 0
    (row,) = run_policy("rightsizing.fleet-bottleneck", inv).to_dicts()
    # extra = ceil(4 × 90 / 70) − 4 = ceil(5.14) − 4 = 2 instances; 2 × 0.096 × 730 = 140.16.
    assert row["category"] == "investment"
    assert row["monthly_savings"] == 0.0
    assert row["added_monthly_cost"] == pytest.approx(140.16)
    assert row["performance_gain"] == pytest.approx(1 - 70 / 90)


# --------------------------------------------------------------------------- load balancers

ALB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/{}/50dc6c495c0c9188"


def _balancer(name: str) -> dict[str, Any]:
    return {
        "provider": "aws",
        "account_id": "123456789012",
        "region": "us-east-1",
        "resource_id": ALB.format(name),
        "resource_name": name,
        "resource_type": "load_balancer",
        "kind": "load_balancer",
        "subtype": "application",
        "attached": True,
        "hourly_price": 0.0225,
    }


def _lb_rows(name: str, latency_ms: float, requests: float, errors: float) -> list[dict[str, Any]]:
    rows = []
    for ts in _hours():
        for metric, statistic, value in (
            ("latency", "average", latency_ms),
            ("latency", "maximum", latency_ms * 3),
            ("requests", "sum", requests),
            ("errors_5xx", "sum", errors),
        ):
            rows.append(
                {
                    "resource_id": ALB.format(name),
                    "metric": metric,
                    "statistic": statistic,
                    "ts": ts,
                    "value": value,
                }
            )
    return rows


def _lb_inventory(
    balancers: dict[str, tuple[float, float, float]],
    fleets: list[dict[str, Any]],
    cpu: dict[str, Any],
) -> Inventory:
    inv = _fleet_inventory(fleets, cpu)
    inv.add("network_idle", pl.DataFrame([_balancer(name) for name in balancers]))
    rows = [r for name, figures in balancers.items() for r in _lb_rows(name, *figures)]
    inv.add("utilization", pl.DataFrame(rows))
    return inv


def test_slow_erroring_service_is_a_bottleneck_and_its_fleet_is_never_shrunk() -> None:
    # "shop": 600 ms and 6% 5XX, alert on both; the fixed group behind it has a daily cycle
    # peaking at 60% CPU (under the 70% target), so the remedy is the caching layer.
    # "api": 250 ms and 0.5% errors: watch (a review, no money). "fast": healthy.
    inv = _lb_inventory(
        {"shop": (600.0, 1000.0, 60.0), "api": (250.0, 1000.0, 5.0), "fast": (80.0, 1000.0, 0.0)},
        [_fleet("web", load_balancers=ALB.format("shop"))],
        {"web": lambda ts: _daily_cycle(ts.hour)},
    )
    assert run_policy("rightsizing.fleet-demand-matching", inv).height == 0
    found = {
        r["resource_name"]: r
        for r in run_policy("rightsizing.load-balancer-bottleneck", inv).to_dicts()
    }
    assert set(found) == {"shop", "api"}
    shop, api = found["shop"], found["api"]
    assert shop["category"] == "investment" and shop["monthly_savings"] == 0.0
    assert shop["added_monthly_cost"] == 300.0
    assert shop["performance_gain"] == pytest.approx(0.6)
    figures = json.loads(shop["evidence"])
    assert figures["level"] == "alert"
    assert figures["latency_p95_ms"] == pytest.approx(600.0)
    assert figures["error_rate"] == pytest.approx(60 / 1000)
    assert "not CPU-bound" in shop["recommendation"]
    assert api["category"] == "review" and api["added_monthly_cost"] == 0.0


def test_slow_service_on_a_hot_group_is_priced_as_a_scale_out() -> None:
    # 4 instances at 80% p95 behind a 700 ms ALB: extra = ceil(4 × 80 / 70) − 4 = 1 instance,
    # 1 × 0.096 × 730 = 70.08 a month.
    hot = _fleet("hot", min_size=4, max_size=4, desired_capacity=4, instances=4)
    inv = _lb_inventory(
        {"shop": (700.0, 1000.0, 0.0)},
        [{**hot, "load_balancers": ALB.format("shop")}],
        {"hot": lambda ts: 80.0},
    )
    (row,) = run_policy("rightsizing.load-balancer-bottleneck", inv).to_dicts()
    assert row["added_monthly_cost"] == pytest.approx(70.08)
    assert row["performance_gain"] == pytest.approx(1 - 70 / 80)
    assert "Scale hot out by 1" in row["recommendation"]


def test_group_whose_peak_fits_a_smaller_type_is_left_to_rightsizing() -> None:
    # Peak 30% ≤ 35%: half-size members would serve it (rightsizing.overprovisioned's case).
    inv = _fleet_inventory([_fleet("web")], {"web": lambda ts: 30.0 if 8 <= ts.hour < 20 else 5.0})
    assert run_policy("rightsizing.fleet-demand-matching", inv).height == 0


def test_surplus_is_priced_at_the_cheapest_like_type_so_a_type_move_never_counts_twice() -> None:
    inv = _fleet_inventory([_fleet("web")], {"web": lambda ts: _daily_cycle(ts.hour)})

    def price(instance_type: str, vcpus: float, memory: float, hourly: float, **kw: Any) -> dict:
        family, size = instance_type.split(".")
        return {
            "provider": "aws",
            "region": "us-east-1",
            "instance_type": instance_type,
            "family": family,
            "size": size,
            "current_generation": True,
            "vcpus": vcpus,
            "memory_gib": memory,
            "architecture": kw.get("arch", "x86_64"),
            "burstable": kw.get("burstable", False),
            "hourly_price": hourly,
            "source": "bundled",
        }

    inv.add(
        "prices",
        pl.DataFrame(
            [
                price("m5.large", 2, 8, 0.096),
                price("m6g.large", 2, 8, 0.077, arch="arm64"),
                price("m7g.large", 2, 8, 0.0816, arch="arm64"),
                price("t4g.large", 2, 8, 0.0672, arch="arm64", burstable=True),  # burstable
                price("c5.large", 2, 4, 0.085),  # another class, less memory
            ]
        ),
    )
    (row,) = run_policy("rightsizing.fleet-demand-matching", inv).to_dicts()
    # The same 1,512 surplus instance-hours, at m6g.large's $0.077: after a Graviton move
    # of the members (its own finding, 10 × (0.096 − 0.077) × 730), this is what is left.
    expected = Decimal(1512) * Decimal("0.077") * Decimal(730) / Decimal(HOURS)
    assert row["monthly_savings"] == pytest.approx(float(expected), rel=1e-9)
    assert json.loads(row["evidence"])["cheapest_like_type"] == "m6g.large"
    assert row["current_monthly_cost"] == pytest.approx(10 * M5_LARGE * 730)


# --------------------------------------------------------------------------- Fargate

FARGATE_VCPU = 0.04048  # https://aws.amazon.com/fargate/pricing/, us-east-1, Linux x86
FARGATE_GB = 0.004445


def _service(name: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "provider": "aws",
        "account_id": "123456789012",
        "region": "us-east-1",
        "resource_id": f"arn:aws:ecs:us-east-1:123456789012:service/main/{name}",
        "resource_name": name,
        "resource_type": "ecs_service",
        "cluster": "main",
        "launch_type": "FARGATE",
        "task_cpu_units": 2048.0,
        "task_memory_mb": 8192.0,
        "architecture": "X86_64",
        "desired_count": 4,
        "running_count": 4,
        "cpu_p95": 20.0,
        "cpu_max": 30.0,
        "memory_p95": 22.0,
        "memory_max": 25.0,
        "metric_hours": float(HOURS),
        "price_vcpu_hour": FARGATE_VCPU,
        "price_gb_hour": FARGATE_GB,
        "price_region": "us-east-1",
        "price_source": "bundled",
    }
    row.update(overrides)
    return row


def test_oversized_fargate_service_moves_to_the_smallest_size_that_holds_its_load() -> None:
    inv = _inventory()
    inv.add(
        "services",
        pl.DataFrame(
            [
                _service("api"),
                _service("on-ec2", launch_type="EC2"),
                _service("hot", cpu_max=90.0),
                _service("no-insights", cpu_p95=None, cpu_max=None, metric_hours=None),
            ],
            infer_schema_length=None,
        ),
    )
    found = {r["resource_name"]: r for r in run_policy("rightsizing.fargate-task", inv).to_dicts()}
    assert set(found) == {"api"}
    # CPU: 2048 × 20 / 70 = 585 units -> 1024; memory: 8192 × 25% × 1.2 = 2,458 MiB -> 3072
    # (1024-unit tasks take 2-8 GiB in 1 GiB steps). Per task-hour: 2 × 0.04048 + 8 ×
    # 0.004445 = 0.11652 now, 1 × 0.04048 + 3 × 0.004445 = 0.053815 after.
    now = 2 * Decimal(str(FARGATE_VCPU)) + 8 * Decimal(str(FARGATE_GB))
    after = 1 * Decimal(str(FARGATE_VCPU)) + 3 * Decimal(str(FARGATE_GB))
    expected = (now - after) * 4 * 730
    assert found["api"]["monthly_savings"] == pytest.approx(float(expected), rel=1e-9)
    assert float(expected) == pytest.approx(183.0986, abs=1e-3)
    assert "1024 CPU units and 3072 MiB" in found["api"]["recommendation"]


def test_hot_group_behind_a_slow_balancer_is_one_investment_not_two() -> None:
    hot = _fleet("hot", min_size=4, max_size=4, desired_capacity=4, instances=4)
    inv = _lb_inventory(
        {"shop": (700.0, 1000.0, 0.0)},
        [{**hot, "load_balancers": ALB.format("shop")}],
        {"hot": lambda ts: 90.0},
    )
    assert run_policy("rightsizing.fleet-bottleneck", inv).height == 0
    (row,) = run_policy("rightsizing.load-balancer-bottleneck", inv).to_dicts()
    # ceil(4 × 90 / 70) − 4 = 2 instances, 2 × 0.096 × 730.
    assert row["added_monthly_cost"] == pytest.approx(140.16)


def _with_capacity(inv: Inventory, name: str, capacity: Any) -> Inventory:
    rows = [
        {
            "resource_id": name,
            "metric": "capacity",
            "statistic": "average",
            "ts": ts,
            "value": capacity(ts),
        }
        for ts in _hours()
    ]
    inv.add("utilization", pl.DataFrame(rows))
    return inv


def test_scaling_group_held_at_a_high_minimum_gets_a_lower_one() -> None:
    tracked = _fleet(
        "api",
        min_size=8,
        max_size=20,
        desired_capacity=8,
        instances=8,
        target_tracking=True,
        scaling_policies="TargetTrackingScaling",
    )
    inv = _fleet_inventory([tracked], {"api": lambda ts: 20.0})
    inv = _with_capacity(inv, "api", lambda ts: 8.0)
    # Every hour at the floor of 8 with load for ceil(8 × 20 / 70) = 3: new minimum 3,
    # 5 surplus instances all day: 5 × 0.096 × 730 = 350.40 a month.
    (row,) = run_policy("rightsizing.fleet-high-minimum", inv).to_dicts()
    assert row["monthly_savings"] == pytest.approx(350.40)
    assert "MinSize from 8 to 3" in row["recommendation"]
    # The fixed-group policy leaves a scaling group alone.
    assert run_policy("rightsizing.fleet-demand-matching", inv).height == 0


def test_scaling_group_above_its_minimum_or_without_capacity_data_is_left_alone() -> None:
    tracked = _fleet("api", min_size=8, max_size=20, target_tracking=True)
    busy = _with_capacity(
        _fleet_inventory([tracked], {"api": lambda ts: 20.0}), "api", lambda ts: 12.0
    )
    assert run_policy("rightsizing.fleet-high-minimum", busy).height == 0
    unmeasured = _fleet_inventory([tracked], {"api": lambda ts: 20.0})
    assert run_policy("rightsizing.fleet-high-minimum", unmeasured).height == 0


def test_fargate_service_of_several_tasks_could_mostly_run_on_spot_as_a_possible_saving() -> None:
    spot = {"price_spot_vcpu_hour": FARGATE_VCPU * 0.3, "price_spot_gb_hour": FARGATE_GB * 0.3}
    inv = _inventory()
    inv.add(
        "services",
        pl.DataFrame(
            [
                _service("api", **spot),
                _service("single", desired_count=1, **spot),
                _service("already", capacity_providers="FARGATE,FARGATE_SPOT", **spot),
            ],
            infer_schema_length=None,
        ),
    )
    (row,) = run_policy("commitments.fargate-spot", inv).to_dicts()
    # 3 of 4 tasks move; per task-hour 0.11652 × 70% off: 3 × 0.11652 × 0.7 × 730.
    task = 2 * Decimal(str(FARGATE_VCPU)) + 8 * Decimal(str(FARGATE_GB))
    expected = 3 * task * Decimal("0.7") * 730
    assert row["monthly_savings"] == pytest.approx(float(expected), rel=1e-9)
    assert row["category"] == "possible" and row["resource_name"] == "api"


# --------------------------------------------------------------------------- AWS's own advice


def _advice(resource_id: str, recommender: str, description: str, saving: float) -> dict:
    return {
        "provider": "aws",
        "account_id": "123456789012",
        "region": "us-east-1",
        "resource_id": resource_id,
        "resource_name": resource_id.rsplit(":", 1)[-1],
        "resource_type": "lambda_function",
        "recommender": recommender,
        "recommendation": f"{recommender}:{resource_id}",
        "kind": "resize",
        "description": description,
        "monthly_savings": saving,
        "currency": "USD",
        "target": "512 MB",
        "state": "NotOptimized",
    }


def test_lambda_finding_shows_compute_optimizers_figure_and_why_they_differ() -> None:
    big = _function("big")
    other = _function("other", memory_mb=1024.0, memory_used_mb_max=900.0)  # not flagged
    inv = _functions(big, other)
    lam = "aws.compute-optimizer.lambda"
    inv.add(
        "provider_advice",
        pl.DataFrame(
            [
                _advice(big["resource_id"], lam, "set memory from 2048 MB to 512 MB", 6.0),
                _advice(other["resource_id"], lam, "set memory from 1024 MB to 768 MB", 2.5),
            ]
        ),
    )
    (row,) = run_policy("rightsizing.lambda-memory", inv).to_dicts()
    assert (
        "AWS Compute Optimizer advises: set memory from 2048 MB to 512 MB (it projects $6.00 a "
        "month, costscan $4.93); they differ because" in row["detail"]
    )
    figures = json.loads(row["evidence"])["aws_compute_optimizer"]
    assert figures["monthly_savings"] == 6.0 and figures["target"] == "512 MB"
    assert figures["why_they_differ"].startswith("Compute Optimizer projects the duration")
    # Our own figure is unchanged by AWS's.
    assert row["monthly_savings"] == pytest.approx(4.9329, abs=1e-3)

    # What AWS flags and costscan does not is listed for review, never counted.
    (only_aws,) = run_policy("rightsizing.aws-compute-optimizer", inv).to_dicts()
    assert only_aws["resource_id"] == other["resource_id"]
    assert only_aws["category"] == "review" and only_aws["monthly_savings"] == 0.0
    assert "(it projects $2.50 a month)" in only_aws["detail"]
    # Google's advice policies never list AWS's advice.
    assert run_policy("rightsizing.google-recommender", inv).height == 0


def test_a_finding_without_aws_advice_says_nothing_about_it() -> None:
    (row,) = run_policy("rightsizing.lambda-memory", _functions(_function("big"))).to_dicts()
    assert "Compute Optimizer" not in row["detail"]
    assert json.loads(row["evidence"])["aws_compute_optimizer"]["recommendation"] is None
