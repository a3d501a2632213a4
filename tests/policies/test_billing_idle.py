"""rightsizing.billing-idle on small FOCUS frames, savings checked to the cent."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import Inventory, RunContext
from tests.policies.runner import run_policy

POLICY = "rightsizing.billing-idle"
START = datetime(2024, 9, 1, tzinfo=UTC)
DAYS = 7
HOURS = DAYS * 24
CENT = 0.005


def line_items(
    resource_id: str,
    *,
    hourly_cost: float,
    quantity: float,
    unit: str,
    hours: Sequence[int] = range(HOURS),
    service: str = "Elastic Load Balancing",
    effective: bool = True,
    category: str = "Usage",
    step: timedelta = timedelta(hours=1),
) -> list[dict[str, Any]]:
    """One FOCUS line item per hour in ``hours`` for ``resource_id``."""
    rows = []
    for h in hours:
        start = START + h * timedelta(hours=1)
        rows.append(
            {
                "BilledCost": hourly_cost,
                "EffectiveCost": hourly_cost if effective else None,
                "ListCost": hourly_cost,
                "ContractedCost": hourly_cost,
                "BillingAccountId": "999900000001",
                "SubAccountId": "123456789012",
                "ProviderName": "AWS",
                "ServiceName": service,
                "ServiceCategory": "Networking",
                "ResourceId": resource_id,
                "ResourceName": resource_id.rsplit("/", 1)[-1],
                "RegionId": "us-east-1",
                "ChargeCategory": category,
                "ChargePeriodStart": start,
                "ChargePeriodEnd": start + step,
                "PricingCategory": "Standard",
                "PricingQuantity": quantity,
                "PricingUnit": unit,
                "ConsumedQuantity": quantity,
                "ConsumedUnit": unit,
                "BillingCurrency": "USD",
            }
        )
    return rows


def load_balancer(
    resource_id: str,
    *,
    lcu_per_hour: float,
    hours: Sequence[int] = range(HOURS),
    effective: bool = True,
) -> list[dict[str, Any]]:
    """An Application Load Balancer's two hourly lines: $0.0225 an hour and LCU-Hrs used
    (us-east-1 list prices, https://aws.amazon.com/elasticloadbalancing/pricing/)."""
    return [
        *line_items(
            resource_id,
            hourly_cost=0.0225,
            quantity=1.0,
            unit="Hrs",
            hours=hours,
            effective=effective,
        ),
        *line_items(
            resource_id,
            hourly_cost=0.008 * lcu_per_hour,
            quantity=lcu_per_hour,
            unit="LCU-Hrs",
            hours=hours,
            effective=effective,
        ),
    ]


def inventory(rows: list[dict[str, Any]]) -> Inventory:
    frame = schema.conform("billing", pl.DataFrame(rows, infer_schema_length=None))
    inv = Inventory(provider="focus", context=RunContext.at(START + timedelta(days=DAYS)))
    inv.add_scan("billing", frame.lazy())
    return inv


def run(inv: Inventory, **params: Any) -> pl.DataFrame:
    return run_policy(POLICY, inv, **params).sort("resource_id")


def only(found: pl.DataFrame, resource_id: str) -> dict[str, Any]:
    rows = found.filter(pl.col("resource_id") == resource_id).to_dicts()
    assert len(rows) == 1, f"expected one finding for {resource_id}, got {len(rows)}"
    row = rows[0]
    row["evidence"] = json.loads(row["evidence"])
    return row


def test_idle_load_balancer_saves_its_whole_monthly_bill() -> None:
    lb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/quiet/1"
    found = run(inventory(load_balancer(lb, lcu_per_hour=0.001)))

    finding = only(found, lb)
    # Per hour: $0.0225 + 0.001 LCU × $0.008 = $0.022508; × 730 h = $16.43084 a month.
    expected = (0.0225 + 0.001 * 0.008) * 730
    assert finding["monthly_savings"] == pytest.approx(expected, abs=CENT)
    assert finding["current_monthly_cost"] == pytest.approx(expected, abs=CENT)
    assert finding["action"] == "remove"
    assert finding["family"] == "rightsizing"
    assert finding["price_source"] == "billing"
    assert (finding["provider"], finding["account_id"], finding["region"]) == (
        "aws",
        "123456789012",
        "us-east-1",
    )
    assert finding["resource_name"] == "1"
    usage = finding["evidence"]["usage"]
    assert usage["metered_units"] == "LCU-Hrs"
    assert usage["quantity_per_hour"] == pytest.approx(0.001)
    assert finding["evidence"]["billing"]["billed_hours"] == HOURS
    assert finding["evidence"]["billing"]["billed_hour_share"] == pytest.approx(1.0)
    assert "$16.43" in finding["detail"]


def test_used_load_balancer_is_not_idle() -> None:
    busy = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/busy/2"
    found = run(inventory(load_balancer(busy, lcu_per_hour=0.5)))
    assert found.height == 0


def test_usage_threshold_is_strict_and_configurable() -> None:
    edge = "lb-edge"
    rows = load_balancer(edge, lcu_per_hour=0.01)
    assert run(inventory(rows)).height == 0  # 0.01 an hour is not under 0.01
    # Trusted Advisor's looser idle line, ~4.2 requests an hour, makes it idle.
    assert run(inventory(rows), max_quantity_per_hour=4.2)["resource_id"].to_list() == [edge]


def test_resource_missing_hours_is_not_billed_every_hour() -> None:
    # Billed in 159 of 168 hours (94.6%), under the 95% line; 160 hours (95.2%) is over.
    rows = [
        *load_balancer("lb-gappy", lcu_per_hour=0.0, hours=range(9, HOURS)),
        *load_balancer("lb-steady", lcu_per_hour=0.0, hours=range(8, HOURS)),
        # A third resource spans the whole week, so the export's span is 168 hours.
        *line_items(
            "i-busy",
            hourly_cost=0.096,
            quantity=1.0,
            unit="Hrs",
            service="Amazon Elastic Compute Cloud",
        ),
    ]
    found = run(inventory(rows))
    assert found["resource_id"].to_list() == ["lb-steady"]
    steady = only(found, "lb-steady")
    # Cost per billed hour × 730, whatever the number of hours billed.
    assert steady["monthly_savings"] == pytest.approx(0.0225 * 730, abs=CENT)
    assert steady["evidence"]["billing"]["billed_hours"] == 160


def test_time_and_storage_units_are_not_usage() -> None:
    rows = [
        # A VM billed only by the hour: its quantity is time, not use; rightsizing.idle's job.
        *line_items(
            "i-vm",
            hourly_cost=0.096,
            quantity=1.0,
            unit="Hrs",
            service="Amazon Elastic Compute Cloud",
        ),
        # A 1 GB volume bills 1/730 GB-Mo an hour: tiny, but it is capacity, not use.
        *line_items(
            "vol-small",
            hourly_cost=0.08 / 730,
            quantity=1 / 730,
            unit="GB-Mo",
            service="Amazon Elastic Block Store",
        ),
        *line_items(
            "vol-gib", hourly_cost=0.0001, quantity=0.001, unit="GibibyteMonth", service="Storage"
        ),
    ]
    assert run(inventory(rows)).height == 0


def test_request_metered_resource_with_no_requests_is_idle() -> None:
    # A provisioned resource billed hourly whose request meter stays at zero.
    rows = [
        *line_items("queue-1", hourly_cost=0.05, quantity=1.0, unit="Hours", service="Amazon MQ"),
        *line_items("queue-1", hourly_cost=0.0, quantity=0.0, unit="Requests", service="Amazon MQ"),
    ]
    finding = only(run(inventory(rows)), "queue-1")
    assert finding["monthly_savings"] == pytest.approx(0.05 * 730, abs=CENT)
    assert finding["evidence"]["usage"]["metered_quantity"] == 0.0


def test_billed_cost_stands_in_where_effective_cost_is_missing() -> None:
    found = run(inventory(load_balancer("lb-billed", lcu_per_hour=0.0, effective=False)))
    assert only(found, "lb-billed")["monthly_savings"] == pytest.approx(0.0225 * 730, abs=CENT)


def test_effective_cost_wins_over_billed_cost() -> None:
    rows = load_balancer("lb-discounted", lcu_per_hour=0.0)
    for row in rows:
        row["EffectiveCost"] = row["BilledCost"] * 0.5
    found = run(inventory(rows))
    assert only(found, "lb-discounted")["monthly_savings"] == pytest.approx(
        0.0225 * 0.5 * 730, abs=CENT
    )


def test_daily_exports_count_each_day_as_24_hours() -> None:
    rows = [
        *line_items(
            "nat-daily",
            hourly_cost=0.045 * 24,
            quantity=24.0,
            unit="Hrs",
            hours=range(0, HOURS, 24),
            step=timedelta(days=1),
            service="Amazon Virtual Private Cloud",
        ),
        *line_items(
            "nat-daily",
            hourly_cost=0.0,
            quantity=0.0,
            unit="GB",
            hours=range(0, HOURS, 24),
            step=timedelta(days=1),
            service="Amazon Virtual Private Cloud",
        ),
    ]
    finding = only(run(inventory(rows)), "nat-daily")
    assert finding["evidence"]["billing"]["billed_hours"] == HOURS
    assert finding["monthly_savings"] == pytest.approx(0.045 * 730, abs=CENT)


def test_non_usage_rows_and_short_exports_do_not_fire() -> None:
    credits = load_balancer("lb-credit", lcu_per_hour=0.0)
    for row in credits:
        row["ChargeCategory"] = "Credit"
    assert run(inventory(credits)).height == 0
    short = load_balancer("lb-new", lcu_per_hour=0.0, hours=range(48))
    assert run(inventory(short)).height == 0  # two days, under min_period_hours (72)


def test_many_resources_are_judged_each_on_its_own() -> None:
    rows = [
        row
        for n in range(6)
        for row in load_balancer(f"lb-{n}", lcu_per_hour=0.0 if n % 2 else 2.0)
    ]
    found = run(inventory(rows))
    assert found["resource_id"].to_list() == ["lb-1", "lb-3", "lb-5"]
    # Each saves $0.0225 x 730 = $16.425 a month, rounded down to the cent: $16.42.
    assert found["monthly_savings"].to_list() == pytest.approx([16.42] * 3, abs=1e-9)


def test_a_resource_seen_only_in_a_month_long_transfer_line_is_not_idle() -> None:
    # As a CUR writes data transfer for resources that ran elsewhere: one line per
    # resource covering the month, in GB, for a fraction of a cent. Nothing says these
    # resources ran any hour, so nothing is idle (issue 12: 19 such lines were flagged).
    month = timedelta(days=30)
    rows = [
        row
        for n in range(19)
        for row in line_items(
            f"arn:aws:ec2:us-east-1:123456789012:instance/i-{n:04d}",
            hourly_cost=0.005,
            quantity=0.0004,
            unit="GB",
            hours=[0],
            service="AWS Data Transfer",
            step=month,
        )
    ]
    assert run(inventory(rows)).height == 0


def test_a_saving_under_a_cent_is_no_finding_and_none_is_rounded_up() -> None:
    # $0.0000068 an hour is $0.0049 a month: rounded down, nothing; never "$0.01".
    rows = [
        *line_items("lb-tiny", hourly_cost=0.0000068, quantity=1, unit="Hrs"),
        *line_items("lb-tiny", hourly_cost=0.0, quantity=0.0, unit="LCU-Hrs"),
    ]
    assert run(inventory(rows)).height == 0
    found = run(inventory(load_balancer("lb-quiet", lcu_per_hour=0.0)))
    assert only(found, "lb-quiet")["monthly_savings"] == pytest.approx(16.42, abs=1e-9)
    assert "$16.42" in only(found, "lb-quiet")["detail"]


def test_empty_billing_gives_no_findings() -> None:
    inv = Inventory(provider="focus", context=RunContext.at(START))
    found = run(inv)
    assert found.height == 0
    assert found.columns == list(schema.FINDINGS)
