"""Issue 17's Done-when on the demo: the fixed group with a daily cycle gets a counted
scaling finding at its worked figure, the slow erroring service is a bottleneck with a
priced remedy and no counted shrink, and the over-sized Lambda function is found and
priced (demo/fleets.py seeds them)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import polars as pl
import pytest

from costscan.demo.fleets import (
    DEMAND_GROUP,
    DEMAND_GROUP_SIZE,
    DURATION_MS,
    FARGATE_SERVICE,
    FARGATE_TASKS,
    FUNCTION_MEMORY_MB,
    INVOCATIONS_PER_HOUR,
    OVERSIZED_FUNCTION,
    SLOW_BALANCER,
    SLOW_GROUP,
)
from costscan.providers.aws import AwsProvider
from costscan.providers.interface import ScanRequest
from costscan.reports.ranking import Ranked, rank
from costscan.scanner.app.engine import run_policies
from costscan.scanner.contracts.config import Config
from costscan.scanner.contracts.inventory import RunContext
from costscan.scanner.pipeline import provider_advice

if TYPE_CHECKING:
    from tests.conftest import DemoAccount

pytestmark = pytest.mark.slow

HOURS = 14 * 24
# https://aws.amazon.com/ec2/pricing/on-demand/ (us-east-1): the cheapest like type of
# m5.xlarge (4 vCPU, 16 GiB, class m, not burstable) is m6g.xlarge.
M6G_XLARGE = Decimal("0.154")
LAMBDA_X86 = Decimal("0.0000166667")  # https://aws.amazon.com/lambda/pricing/


@pytest.fixture(scope="module")
def ranked(demo_account: DemoAccount) -> Ranked:
    inventory = AwsProvider().collect(
        ScanRequest(
            context=RunContext(now=demo_account.now),
            regions=demo_account.seed.regions,
            endpoint_url=demo_account.endpoint_url,
        )
    )
    assert inventory.errors == []
    # As the engine finishes a run: the findings cross-checked against the cloud's advice.
    found = provider_advice.cross_check(run_policies(inventory, Config()), inventory)
    return rank(found, hourly_rate=Config().engineer_hourly_rate)


def _row(frame: pl.DataFrame, policy_id: str, name: str) -> dict[str, object]:
    rows = frame.filter(
        (pl.col("policy_id") == policy_id) & (pl.col("resource_name") == name)
    ).to_dicts()
    assert len(rows) == 1, (policy_id, name, rows)
    return rows[0]


def test_fixed_group_with_a_daily_cycle_is_counted_at_its_worked_figure(ranked: Ranked) -> None:
    row = _row(ranked.findings, "rightsizing.fleet-demand-matching", DEMAND_GROUP)
    # Busy hours need ceil(6 × 47..53 / 70) = 5, quiet ones the floor of 2: 12 × 1 + 12 × 4
    # = 60 surplus instance-hours a day, 2.5 on average, priced at m6g.xlarge (the members'
    # Graviton move is its own counted finding: each counts only what the other leaves).
    expected = Decimal(DEMAND_GROUP_SIZE - 5) * 12 + Decimal(DEMAND_GROUP_SIZE - 2) * 12
    worked = expected / 24 * M6G_XLARGE * 730
    assert float(worked) == pytest.approx(281.05)
    assert row["counted"] is True
    assert row["monthly_savings"] == pytest.approx(float(worked), rel=0.03)


def test_slow_erroring_service_is_a_bottleneck_and_its_group_is_never_shrunk(
    ranked: Ranked,
) -> None:
    row = _row(ranked.bottlenecks, "rightsizing.load-balancer-bottleneck", SLOW_BALANCER)
    assert row["category"] == "investment"
    assert row["added_monthly_cost"] == pytest.approx(300.0)  # the seed's caching layer
    shrinks = ranked.findings.filter(
        (pl.col("resource_name") == SLOW_GROUP) & pl.col("counted") & (pl.col("action") != "commit")
    )
    assert shrinks.height == 0


def test_oversized_lambda_is_priced_at_its_cpu_bound_figure(ranked: Ranked) -> None:
    row = _row(ranked.findings, "rightsizing.lambda-memory", OVERSIZED_FUNCTION)
    # 1,008,000 invocations × 1.2 s × 3,008/1,024 GB = 3,553,200 GB-s over 336 h; at the
    # target of 512 MB (used at most 420 MB, × 1.2, 64 MB steps) the CPU-bound cost is
    # × 512/3008 × 1769/512 = × 1769/3008.
    gb_seconds = (
        (Decimal(INVOCATIONS_PER_HOUR * HOURS) * Decimal(str(DURATION_MS)) / 1000)
        * Decimal(FUNCTION_MEMORY_MB)
        / 1024
    )
    now = gb_seconds * LAMBDA_X86 * 730 / HOURS
    expected = now * (1 - Decimal(1769) / Decimal(FUNCTION_MEMORY_MB))
    assert row["counted"] is True
    assert row["monthly_savings"] == pytest.approx(float(expected), abs=0.005)  # cents
    arm = _row(ranked.findings, "rightsizing.lambda-arm64", OVERSIZED_FUNCTION)
    assert arm["counted"] is False  # an alternative resize of the same function


def test_oversized_fargate_service_is_found_and_priced(ranked: Ranked) -> None:
    row = _row(ranked.findings, "rightsizing.fargate-task", FARGATE_SERVICE)
    # 4 vCPU / 16 GiB -> 1 vCPU / 4 GiB (p95 CPU under 16% of 4096 units needs < 936 at
    # 70%; memory 20% × 16 GiB × 1.2 = 3.84 GiB): https://aws.amazon.com/fargate/pricing/.
    vcpu, gb = Decimal("0.04048"), Decimal("0.004445")
    worked = ((4 * vcpu + 16 * gb) - (1 * vcpu + 4 * gb)) * FARGATE_TASKS * 730
    assert float(worked) == pytest.approx(382.77, abs=0.01)
    assert row["counted"] is True
    assert row["monthly_savings"] == pytest.approx(float(worked), abs=0.005)


def test_findings_aws_also_covers_show_its_figure_and_why_they_differ(ranked: Ranked) -> None:
    from costscan.demo.account import ASG_NAME

    for policy_id, name, figure in (
        ("rightsizing.lambda-memory", OVERSIZED_FUNCTION, "$34.90"),
        ("rightsizing.fargate-task", FARGATE_SERVICE, "$361.50"),
        ("rightsizing.fleet-demand-matching", DEMAND_GROUP, "$420.48"),
    ):
        row = _row(ranked.findings, policy_id, name)
        assert "AWS Compute Optimizer advises: " in str(row["detail"]), policy_id
        assert f"(it projects {figure} a month" in str(row["detail"]), policy_id
        assert "they differ because" in str(row["detail"])
    # The group AWS flags and costscan's demand policies do not: listed, never counted.
    only_aws = _row(ranked.findings, "rightsizing.aws-compute-optimizer", ASG_NAME)
    assert only_aws["category"] == "review" and only_aws["counted"] is False


def test_cost_optimization_hub_stands_beside_the_function_and_its_savings_plan_is_a_review(
    ranked: Ranked,
) -> None:
    import json

    from costscan.demo.cost_hub import FUNCTION_SAVING, SAVINGS_PLAN_ID, SAVINGS_PLAN_SAVING

    row = _row(ranked.findings, "rightsizing.lambda-memory", OVERSIZED_FUNCTION)
    hub = json.loads(str(row["evidence"]))
    assert hub["provider_advice"]["source"] == "AWS Cost Optimization Hub"
    assert hub["provider_advice"]["verdict"] == "agrees"
    assert hub["provider_advice_monthly_savings"] == FUNCTION_SAVING
    # The Hub's 40.12 against costscan's CPU-bound figure: the line says why they differ.
    assert "AWS Cost Optimization Hub agrees (it projects 40.12 USD a month; " in str(row["detail"])
    # The function's Hub advice is folded into costscan's finding, not listed again.
    hub_reviews = ranked.findings.filter(
        pl.col("policy_id").str.ends_with(".aws-cost-optimization-hub")
    )
    assert hub_reviews["resource_name"].to_list() == [SAVINGS_PLAN_ID]
    plan = hub_reviews.to_dicts()[0]
    assert plan["policy_id"] == "commitments.aws-cost-optimization-hub"
    assert plan["category"] == "review" and plan["counted"] is False
    assert json.loads(str(plan["evidence"]))["provider_advice_monthly_savings"] == (
        SAVINGS_PLAN_SAVING
    )
