"""Commitment collectors through real boto3 clients against our fake endpoint.

moto has no DescribeReservedInstances, Savings Plans or Cost Explorer utilization and
coverage, so ``FakeAws`` answers them in the documented shapes (checked against
botocore's own output model) and the provider code runs exactly as against AWS.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from costscan.providers.aws.commitments import (
    cost_explorer_window,
    scan_commitments_account,
    scan_commitments_region,
)
from costscan.providers.aws.scan import GLOBAL, Account, RegionScan
from costscan.providers.aws.session import (
    ClientFactory,
    client_config,
    guarded_session,
    is_read_operation,
)
from costscan.providers.interface import ScanRequest, no_progress
from costscan.scanner.contracts.inventory import RunContext
from tests.providers.fake_aws_json import FakeAws, ShapeMismatch

NOW = datetime(2025, 6, 4, 10, 30, tzinfo=UTC)
LOOKBACK_DAYS = 14
ACCOUNT = "123456789012"
# 14 days of Cost Explorer figures scaled to a 730-hour month.
MONTHLY = 730.0 / (LOOKBACK_DAYS * 24)
CENT = 0.005


@pytest.fixture
def fake() -> Iterator[FakeAws]:
    with FakeAws() as server:
        yield server


def _scan(endpoint_url: str, region: str) -> RegionScan:
    clients = ClientFactory(guarded_session(), endpoint_url=endpoint_url, config=client_config(1))
    request = ScanRequest(
        context=RunContext(now=NOW, lookback_days=LOOKBACK_DAYS), endpoint_url=endpoint_url
    )
    return RegionScan(
        Account(ACCOUNT, clients),
        region,
        request,
        pl.DataFrame(),
        no_progress,
        home_region="us-east-1",
    )


RESERVED = {
    "ReservedInstances": [
        {
            "ReservedInstancesId": "ri-0a1b2c3d",
            "InstanceType": "m5.xlarge",
            "InstanceCount": 4,
            "Start": datetime(2024, 7, 1, tzinfo=UTC),
            "End": datetime(2025, 7, 1, tzinfo=UTC),
            "Duration": 31_536_000,
            "FixedPrice": 876.0,
            "UsagePrice": 0.0,
            "RecurringCharges": [{"Amount": 0.02, "Frequency": "Hourly"}],
            "OfferingClass": "standard",
            "OfferingType": "Partial Upfront",
            "State": "active",
            "Scope": "Region",
            "ProductDescription": "Linux/UNIX",
            "Tags": [{"Key": "Name", "Value": "web-fleet"}],
        }
    ]
}


def test_reserved_instances_become_commitment_rows_from_one_read(fake: FakeAws) -> None:
    fake.answer("ec2", "DescribeReservedInstances", RESERVED)
    run = _scan(fake.endpoint_url, "eu-west-1")
    scan_commitments_region(run)

    assert run.inventory.errors == []
    row = run.inventory.frame("commitments").row(0, named=True)
    assert row["resource_id"] == "ri-0a1b2c3d"
    assert row["resource_name"] == "web-fleet"
    assert (row["kind"], row["source"], row["region"]) == ("ri", "ec2", "eu-west-1")
    assert (row["family"], row["instance_type"], row["term"]) == ("m5", "m5.xlarge", "1y")
    assert row["expires"] == datetime(2025, 7, 1, tzinfo=UTC)
    assert row["upfront_cost"] == pytest.approx(876.0 * 4)
    # Each instance: 876 / 8,760 h upfront + 0.02 recurring = 0.12 $/h; four of them.
    assert row["monthly_commitment"] == pytest.approx(0.12 * 4 * 730, abs=CENT)
    (call,) = fake.calls
    assert call.params["Filter.1.Name"] == "state"
    assert {call.params["Filter.1.Value.1"], call.params["Filter.1.Value.2"]} == {
        "active",
        "payment-pending",
    }


def _plans(params: dict[str, Any]) -> dict[str, Any]:
    """Two pages, as DescribeSavingsPlans pages with nextToken."""
    first = params.get("nextToken") is None
    plan = {
        "savingsPlanId": "sp-first" if first else "sp-second",
        "savingsPlanArn": "arn:aws:savingsplans::123456789012:savingsplan/"
        + ("sp-first" if first else "sp-second"),
        "savingsPlanType": "Compute" if first else "EC2Instance",
        "ec2InstanceFamily": "" if first else "c5",
        "region": "" if first else "us-east-1",
        "paymentOption": "No Upfront",
        "state": "active",
        "commitment": "1.5" if first else "0.25",
        "upfrontPaymentAmount": "0",
        "recurringPaymentAmount": "1.5" if first else "0.25",
        "termDurationInSeconds": 94_608_000 if first else 31_536_000,
        "start": "2024-06-20T00:00:00.000Z",
        "end": "2027-06-20T00:00:00.000Z" if first else "2025-06-20T00:00:00.000Z",
        "currency": "USD",
    }
    return {"savingsPlans": [plan], **({"nextToken": "page-2"} if first else {})}


def _answer_cost_explorer(fake: FakeAws) -> None:
    fake.answer("savingsplans", "DescribeSavingsPlans", _plans)
    fake.answer(
        "ce",
        "GetReservationUtilization",
        {
            "UtilizationsByTime": [
                {
                    "TimePeriod": {"Start": "2025-05-21", "End": "2025-06-04"},
                    "Groups": [
                        {
                            "Key": "SUBSCRIPTION_ID",
                            "Value": "1234567890",
                            "Attributes": {
                                "leaseId": "ri-0a1b2c3d",
                                "instanceType": "m5.xlarge",
                                "region": "EU (Ireland)",
                                "numberOfInstances": "4",
                                "endDateTime": "2025-07-01T00:00:00.000Z",
                            },
                            "Utilization": {
                                "UtilizationPercentage": "50",
                                "PurchasedHours": "1344",
                                "TotalActualHours": "672",
                                "UnusedHours": "672",
                                "OnDemandCostOfRIHoursUsed": "129.024",
                                "TotalAmortizedFee": "161.28",
                            },
                        }
                    ],
                }
            ],
            "Total": {"UtilizationPercentage": "50"},
        },
    )
    fake.answer(
        "ce",
        "GetSavingsPlansUtilizationDetails",
        {
            "SavingsPlansUtilizationDetails": [
                {
                    "SavingsPlanArn": "arn:aws:savingsplans::123456789012:savingsplan/sp-first",
                    "Attributes": {"AccountId": ACCOUNT},
                    "Utilization": {
                        "TotalCommitment": "504",
                        "UsedCommitment": "453.6",
                        "UnusedCommitment": "50.4",
                        "UtilizationPercentage": "90",
                    },
                    "Savings": {"NetSavings": "176.4", "OnDemandCostEquivalent": "630"},
                    "AmortizedCommitment": {"TotalAmortizedCommitment": "504"},
                }
            ],
            "TimePeriod": {"Start": "2025-05-21", "End": "2025-06-04"},
        },
    )

    def coverage(params: dict[str, Any]) -> dict[str, Any]:
        # Two pages: a second page after NextPageToken, as Cost Explorer pages.
        if params.get("NextPageToken") is None:
            group = {
                "Attributes": {"region": "us-east-1", "instanceType": "m5.large"},
                "Coverage": {
                    "CoverageHours": {
                        "OnDemandHours": "336",
                        "ReservedHours": "336",
                        "TotalRunningHours": "672",
                        "CoverageHoursPercentage": "50",
                    },
                    "CoverageCost": {"OnDemandCost": "32.256"},
                },
            }
            return {
                "CoveragesByTime": [{"TimePeriod": {"Start": "2025-05-21"}, "Groups": [group]}],
                "NextPageToken": "next",
            }
        return {"CoveragesByTime": []}

    fake.answer("ce", "GetReservationCoverage", coverage)
    fake.answer(
        "ce",
        "GetSavingsPlansCoverage",
        {
            "SavingsPlansCoverages": [
                {
                    "Attributes": {"REGION": "us-east-1", "INSTANCE_TYPE_FAMILY": "c5"},
                    "Coverage": {
                        "SpendCoveredBySavingsPlans": "30",
                        "OnDemandCost": "10",
                        "TotalCost": "40",
                        "CoveragePercentage": "75",
                    },
                    "TimePeriod": {"Start": "2025-05-21", "End": "2025-06-04"},
                }
            ]
        },
    )


def _rows(run: RegionScan, **match: str) -> list[dict[str, Any]]:
    frame = run.inventory.frame("commitments")
    for col, value in match.items():
        frame = frame.filter(pl.col(col) == value)
    return frame.sort("resource_id").to_dicts()


def test_account_scan_reads_plans_utilization_and_coverage_every_page(fake: FakeAws) -> None:
    _answer_cost_explorer(fake)
    run = _scan(fake.endpoint_url, GLOBAL)
    scan_commitments_account(run)

    assert run.inventory.errors == []
    plans = _rows(run, kind="savings_plan", source="savingsplans")
    assert [p["resource_id"] for p in plans] == ["sp-first", "sp-second"]
    assert plans[0]["monthly_commitment"] == pytest.approx(1.5 * 730)
    assert (plans[0]["region"], plans[0]["term"], plans[0]["family"]) == ("global", "3y", None)
    assert (plans[1]["region"], plans[1]["family"], plans[1]["offering_class"]) == (
        "us-east-1",
        "c5",
        "EC2Instance",
    )
    assert plans[1]["expires"] == datetime(2025, 6, 20, tzinfo=UTC)

    (ri,) = _rows(run, kind="ri")
    assert (ri["resource_id"], ri["region"], ri["source"]) == (
        "ri-0a1b2c3d",
        "eu-west-1",
        "cost_explorer",
    )
    assert ri["utilization"] == pytest.approx(0.5)
    assert ri["monthly_commitment"] == pytest.approx(161.28 * MONTHLY, abs=CENT)
    assert ri["on_demand_equivalent"] == pytest.approx(129.024 * MONTHLY, abs=CENT)
    start, end = cost_explorer_window(NOW, LOOKBACK_DAYS)
    assert (start, end) == ("2025-05-21", "2025-06-04")
    assert ri["period_start"] == datetime(2025, 5, 21, tzinfo=UTC)

    (sp_use,) = _rows(run, kind="savings_plan", source="cost_explorer")
    assert sp_use["resource_id"] == "sp-first"
    assert sp_use["utilization"] == pytest.approx(0.9)
    assert sp_use["on_demand_equivalent"] == pytest.approx(630 * MONTHLY, abs=CENT)

    ri_cover, sp_cover = _rows(run, kind="coverage")
    assert (ri_cover["covered_by"], ri_cover["instance_type"], ri_cover["family"]) == (
        "ri",
        "m5.large",
        "m5",
    )
    assert ri_cover["coverage"] == pytest.approx(0.5)
    assert ri_cover["covered_hours"] == pytest.approx(336 * MONTHLY)
    assert ri_cover["on_demand_cost"] == pytest.approx(32.256 * MONTHLY)
    assert (sp_cover["covered_by"], sp_cover["family"]) == ("savings_plan", "c5")
    assert sp_cover["coverage"] == pytest.approx(0.75)
    assert sp_cover["covered_cost"] == pytest.approx(30 * MONTHLY)

    # Every page was read, and every call was a read.
    ops = fake.operations()
    assert ops.count(("savingsplans", "DescribeSavingsPlans")) == 2
    assert ops.count(("ce", "GetReservationCoverage")) == 2
    assert all(is_read_operation(service, op) for service, op in ops)
    windows = {c.params["TimePeriod"]["End"] for c in fake.calls if c.service == "ce"}
    assert windows == {"2025-06-04"}


def test_access_denied_costs_only_its_own_data(fake: FakeAws) -> None:
    _answer_cost_explorer(fake)
    fake.fail("ce", "GetReservationCoverage", status=403, code="AccessDeniedException")
    run = _scan(fake.endpoint_url, GLOBAL)
    scan_commitments_account(run)

    (error,) = run.inventory.errors
    assert error.collector == "ce.reservation_coverage"
    assert (error.account_id, error.region) == (ACCOUNT, GLOBAL)
    assert "AccessDenied" in error.message
    kinds = run.inventory.frame("commitments")
    assert kinds.filter(pl.col("covered_by") == "ri").is_empty()
    assert kinds.filter(pl.col("covered_by") == "savings_plan").height == 1
    assert kinds.filter(pl.col("kind") == "savings_plan").height == 3


def test_unauthorized_ec2_read_leaves_an_error_and_no_rows(fake: FakeAws) -> None:
    fake.fail("ec2", "DescribeReservedInstances", code="UnauthorizedOperation")
    run = _scan(fake.endpoint_url, "us-east-1")
    scan_commitments_region(run)
    (error,) = run.inventory.errors
    assert error.collector == "ec2.reserved_instances"
    assert "UnauthorizedOperation" in error.message
    assert not run.inventory.has("commitments")


def test_fake_refuses_answers_outside_the_documented_shape(fake: FakeAws) -> None:
    with pytest.raises(ShapeMismatch, match="UtilizationPercent"):
        fake.answer(
            "ce",
            "GetSavingsPlansCoverage",
            {"SavingsPlansCoverages": [{"Coverage": {"UtilizationPercent": "1"}}]},
        )
    with pytest.raises(ShapeMismatch, match="string"):
        fake.answer(
            "ce",
            "GetSavingsPlansCoverage",
            {"SavingsPlansCoverages": [{"Coverage": {"OnDemandCost": 10.0}}]},
        )
