"""Demo seeding for commitments: reservations and a savings plan, with Cost Explorer's view.

moto has no reserved instances, savings plans or Cost Explorer utilization and coverage,
so the demo registers answers for them with the demo server's ``MissingApis``
(providers/demo_gaps.py), in the documented shapes and consistent with the instances the
demo runs (``instances``: instance id -> (region, instance type)):

- a reserved instance bought for a fleet that has since shrunk: ``round(n / 0.55)``
  r5.large in the first region where ``n`` run, so about 55% of it is used
  (``commitments.underused``);
- a fully used reserved instance of 40 m5.large in the first region that expires in 20
  days (``commitments.expiring``), covering 40 of the 60 m5.large web fleet there;
- a fully used reserved instance of 25 c5.large in the second region, covering part of
  its 35 c5.large worker fleet, so moving that fleet saves now only what the 10 uncovered
  instances cost and the rest when the reservation ends (savings after discounts);
- a 1-year EC2 Instance Savings Plan for the r5 family in the second region, used at
  70% (``commitments.underused``: waste, a plan cannot be sold): it covers all the r5
  usage there, so cutting that usage only adds to its unused part until it ends;
- reservation coverage per region and instance type, and savings plan coverage per
  region and family, for every instance the demo runs, so coverage gaps are priced on
  what no commitment covers (``commitments.compute``).

Cost Explorer answers are functions of the request's time period: the figures are for the
window asked, as Cost Explorer's are. Committed rates are typical 1-year no-upfront
discounts off the bundled on-demand list prices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from costscan.scanner.contracts.units import HOURS_PER_MONTH

if TYPE_CHECKING:
    from costscan.demo.gaps import MissingApis

# Standard 1-year no-upfront reserved instances run about 37% below on demand for general
# purpose and memory optimized types (https://aws.amazon.com/ec2/pricing/reserved-instances/pricing/).
RI_DISCOUNT = 0.37
# 1-year no-upfront Compute Savings Plans: about 28% off (https://aws.amazon.com/savingsplans/compute-pricing/).
SP_DISCOUNT = 0.28
UNDERUSED_TYPE = "r5.large"
UNDERUSED_UTILIZATION = 0.55
EXPIRING_TYPE = "m5.large"
EXPIRING_COUNT = 40
EXPIRING_IN_DAYS = 20
PARTIAL_TYPE = "c5.large"
PARTIAL_COUNT = 25
PARTIAL_ENDS_IN_DAYS = 200
SP_UTILIZATION = 0.70
SP_FAMILY = "r5"
SP_ID = "sp-0demo4ec2r5"
YEAR_SECONDS = 31_536_000
HOURS_PER_DAY = 24


@dataclass(frozen=True)
class _Reservation:
    reservation_id: str
    region: str
    instance_type: str
    count: int
    used: int  # instances it covers on average
    hourly_each: float  # the committed rate
    on_demand_each: float
    start: datetime
    end: datetime

    @property
    def utilization(self) -> float:
        return self.used / self.count


@dataclass(frozen=True)
class DemoCommitments:
    """What ``seed_commitments`` registered, so tests can check the findings."""

    underused_reservation: str
    expiring_reservation: str
    partial_reservation: str
    savings_plan: str
    reservation_utilization: Mapping[str, float]
    savings_plan_utilization: float
    # Per reservation or plan id: what it costs a month (committed rate × 730 h).
    monthly_commitment: Mapping[str, float]
    # Expiring reservation: its used instances' on-demand cost a month.
    expiring_on_demand_monthly: float


def _on_demand_prices(regions: Sequence[str]) -> dict[tuple[str, str], float]:
    from costscan.providers.pricing.aws import bundled_ec2_prices

    prices = bundled_ec2_prices(list(regions))
    return {
        (str(region), str(instance_type)): float(price)
        for region, instance_type, price in prices.select(
            "region", "instance_type", "hourly_price"
        ).iter_rows()
    }


def _window_days(params: Mapping[str, Any]) -> tuple[str, str, int]:
    period = params.get("TimePeriod") or {}
    start, end = str(period.get("Start", "")), str(period.get("End", ""))
    try:
        days = (date.fromisoformat(end) - date.fromisoformat(start)).days
    except ValueError:
        days = 0
    return start, end, max(days, 0)


def _committed_rate(on_demand_hourly: float) -> float:
    # Reservation rates are quoted to the tenth of a cent.
    return round(on_demand_hourly * (1 - RI_DISCOUNT), 4)


def _money(value: float) -> str:
    return f"{value:.2f}"


def seed_commitments(
    gaps: MissingApis,
    now: datetime,
    regions: Sequence[str],
    instances: Mapping[str, tuple[str, str]],
    *,
    account_id: str = "123456789012",
) -> DemoCommitments:
    """Register the demo's reservations, savings plan, utilization and coverage with
    ``gaps`` (see the module doc). ``instances``: instance id -> (region, type)."""
    moment = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC)
    home = regions[0]
    other = regions[1] if len(regions) > 1 else regions[0]
    prices = _on_demand_prices(regions)
    running: dict[tuple[str, str], int] = {}
    for region, instance_type in instances.values():
        running[(region, instance_type)] = running.get((region, instance_type), 0) + 1

    def price(region: str, instance_type: str) -> float:
        return prices.get((region, instance_type), 0.0)

    shrunk = max(1, running.get((home, UNDERUSED_TYPE), 0))
    underused = _Reservation(
        reservation_id="4d1c7a52-demo-0000-0000-underused0001",
        region=home,
        instance_type=UNDERUSED_TYPE,
        count=round(shrunk / UNDERUSED_UTILIZATION),
        used=shrunk,
        hourly_each=_committed_rate(price(home, UNDERUSED_TYPE)),
        on_demand_each=price(home, UNDERUSED_TYPE),
        start=moment - timedelta(days=150),
        end=moment - timedelta(days=150) + timedelta(seconds=YEAR_SECONDS),
    )
    fleet = running.get((home, EXPIRING_TYPE), 0)
    expiring = _Reservation(
        reservation_id="9b2e0f13-demo-0000-0000-expiring0001",
        region=home,
        instance_type=EXPIRING_TYPE,
        count=EXPIRING_COUNT,
        used=min(EXPIRING_COUNT, fleet) if fleet else EXPIRING_COUNT,
        hourly_each=_committed_rate(price(home, EXPIRING_TYPE)),
        on_demand_each=price(home, EXPIRING_TYPE),
        end=moment + timedelta(days=EXPIRING_IN_DAYS),
        start=moment + timedelta(days=EXPIRING_IN_DAYS) - timedelta(seconds=YEAR_SECONDS),
    )
    partial = _Reservation(
        reservation_id="5e7a1c20-demo-0000-0000-partial00001",
        region=other,
        instance_type=PARTIAL_TYPE,
        count=PARTIAL_COUNT,
        used=min(PARTIAL_COUNT, running.get((other, PARTIAL_TYPE), 0)) or PARTIAL_COUNT,
        hourly_each=_committed_rate(price(other, PARTIAL_TYPE)),
        on_demand_each=price(other, PARTIAL_TYPE),
        start=moment - timedelta(days=165),
        end=moment + timedelta(days=PARTIAL_ENDS_IN_DAYS),
    )
    reservations = (underused, expiring, partial)
    # The plan covers the r5 usage of the second region at its committed rate, and was
    # bought for more than that usage: SP_UTILIZATION of it is used.
    plan_family_on_demand_hourly = sum(
        count * price(region, instance_type)
        for (region, instance_type), count in running.items()
        if region == other and instance_type.split(".", 1)[0] == SP_FAMILY
    )
    # Quoted in cents an hour, as DescribeSavingsPlans' commitment is read back.
    sp_hourly_commitment = round(
        plan_family_on_demand_hourly * (1 - SP_DISCOUNT) / SP_UTILIZATION, 2
    )

    for region in dict.fromkeys(regions):
        mine = [r for r in reservations if r.region == region]
        gaps.answer(
            "ec2",
            "DescribeReservedInstances",
            {"ReservedInstances": [_describe_reservation(r) for r in mine]},
            region=region,
        )

    plan_start = moment - timedelta(days=200)
    plan_arn = f"arn:aws:savingsplans::{account_id}:savingsplan/{SP_ID}"
    gaps.answer(
        "savingsplans",
        "DescribeSavingsPlans",
        {
            "savingsPlans": [
                {
                    "savingsPlanId": SP_ID,
                    "savingsPlanArn": plan_arn,
                    "description": "1-year no-upfront EC2 Instance Savings Plan (r5)",
                    "start": plan_start.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "end": (plan_start + timedelta(seconds=YEAR_SECONDS)).strftime(
                        "%Y-%m-%dT%H:%M:%S.000Z"
                    ),
                    "state": "active",
                    "region": other,
                    "ec2InstanceFamily": SP_FAMILY,
                    "savingsPlanType": "EC2Instance",
                    "paymentOption": "No Upfront",
                    "currency": "USD",
                    "commitment": _money(sp_hourly_commitment),
                    "upfrontPaymentAmount": "0",
                    "recurringPaymentAmount": _money(sp_hourly_commitment),
                    "termDurationInSeconds": YEAR_SECONDS,
                    "tags": {"Name": "r5-baseline-eu"},
                }
            ]
        },
    )

    def reservation_utilization(params: dict[str, Any]) -> dict[str, Any]:
        start, end, days = _window_days(params)
        hours = days * HOURS_PER_DAY
        groups = []
        for r in reservations:
            purchased = r.count * hours
            used = r.used * hours
            groups.append(
                {
                    "Key": "SUBSCRIPTION_ID",
                    "Value": r.reservation_id,
                    "Attributes": {
                        "leaseId": r.reservation_id,
                        "accountId": account_id,
                        "region": r.region,
                        "instanceType": r.instance_type,
                        "numberOfInstances": str(r.count),
                        "startDateTime": r.start.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                        "endDateTime": r.end.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                        "platform": "Linux/UNIX",
                        "tenancy": "Shared",
                        "scope": "Region",
                    },
                    "Utilization": {
                        "UtilizationPercentage": _money(r.utilization * 100),
                        "PurchasedHours": str(purchased),
                        "TotalActualHours": str(used),
                        "UnusedHours": str(purchased - used),
                        "OnDemandCostOfRIHoursUsed": _money(used * r.on_demand_each),
                        "TotalAmortizedFee": _money(purchased * r.hourly_each),
                        "AmortizedRecurringFee": _money(purchased * r.hourly_each),
                        "AmortizedUpfrontFee": "0",
                        "NetRISavings": _money(used * r.on_demand_each - purchased * r.hourly_each),
                    },
                }
            )
        return {
            "UtilizationsByTime": [{"TimePeriod": {"Start": start, "End": end}, "Groups": groups}]
        }

    sp_used_commitment = sp_hourly_commitment * SP_UTILIZATION
    # The on-demand spend the plan's used commitment pays for.
    sp_on_demand_hourly = sp_used_commitment / (1 - SP_DISCOUNT)

    def savings_plans_utilization(params: dict[str, Any]) -> dict[str, Any]:
        start, end, days = _window_days(params)
        hours = days * HOURS_PER_DAY
        total = sp_hourly_commitment * hours
        used = sp_used_commitment * hours
        return {
            "SavingsPlansUtilizationDetails": [
                {
                    "SavingsPlanArn": plan_arn,
                    "Attributes": {"AccountId": account_id, "SavingsPlansType": "EC2Instance"},
                    "Utilization": {
                        "TotalCommitment": _money(total),
                        "UsedCommitment": _money(used),
                        "UnusedCommitment": _money(total - used),
                        "UtilizationPercentage": _money(SP_UTILIZATION * 100),
                    },
                    "Savings": {
                        "NetSavings": _money(sp_on_demand_hourly * hours - total),
                        "OnDemandCostEquivalent": _money(sp_on_demand_hourly * hours),
                    },
                    "AmortizedCommitment": {
                        "AmortizedRecurringCommitment": _money(total),
                        "AmortizedUpfrontCommitment": "0",
                        "TotalAmortizedCommitment": _money(total),
                    },
                }
            ],
            "TimePeriod": {"Start": start, "End": end},
        }

    def reservation_coverage(params: dict[str, Any]) -> dict[str, Any]:
        start, end, days = _window_days(params)
        hours = days * HOURS_PER_DAY
        reserved_count = {(r.region, r.instance_type): r.used for r in reservations}
        groups = []
        for (region, instance_type), count in sorted(running.items()):
            total = count * hours
            reserved = min(count, reserved_count.get((region, instance_type), 0)) * hours
            on_demand = total - reserved
            groups.append(
                {
                    "Attributes": {"region": region, "instanceType": instance_type},
                    "Coverage": {
                        "CoverageHours": {
                            "OnDemandHours": str(on_demand),
                            "ReservedHours": str(reserved),
                            "TotalRunningHours": str(total),
                            "CoverageHoursPercentage": _money(100 * reserved / total),
                        },
                        "CoverageCost": {
                            "OnDemandCost": _money(on_demand * price(region, instance_type))
                        },
                    },
                }
            )
        return {"CoveragesByTime": [{"TimePeriod": {"Start": start, "End": end}, "Groups": groups}]}

    def savings_plans_coverage(params: dict[str, Any]) -> dict[str, Any]:
        start, end, days = _window_days(params)
        hours = days * HOURS_PER_DAY
        reserved_count = {(r.region, r.instance_type): r.used for r in reservations}
        spend: dict[tuple[str, str], float] = {}
        for (region, instance_type), count in running.items():
            uncovered = count - min(count, reserved_count.get((region, instance_type), 0))
            family = instance_type.split(".", 1)[0]
            key = (region, family)
            spend[key] = spend.get(key, 0.0) + uncovered * price(region, instance_type) * hours
        plan_left = sp_on_demand_hourly * hours
        coverages = []
        for (region, family), total in sorted(spend.items()):
            covered = 0.0
            if (region, family) == (other, SP_FAMILY):
                covered = min(total, plan_left)
            coverages.append(
                {
                    "Attributes": {"REGION": region, "INSTANCE_TYPE_FAMILY": family},
                    "Coverage": {
                        "SpendCoveredBySavingsPlans": _money(covered),
                        "OnDemandCost": _money(total - covered),
                        "TotalCost": _money(total),
                        "CoveragePercentage": _money(100 * covered / total if total else 0.0),
                    },
                    "TimePeriod": {"Start": start, "End": end},
                }
            )
        return {"SavingsPlansCoverages": coverages}

    gaps.answer("ce", "GetReservationUtilization", reservation_utilization)
    gaps.answer("ce", "GetSavingsPlansUtilizationDetails", savings_plans_utilization)
    gaps.answer("ce", "GetReservationCoverage", reservation_coverage)
    gaps.answer("ce", "GetSavingsPlansCoverage", savings_plans_coverage)
    return DemoCommitments(
        underused_reservation=underused.reservation_id,
        expiring_reservation=expiring.reservation_id,
        partial_reservation=partial.reservation_id,
        savings_plan=SP_ID,
        reservation_utilization={r.reservation_id: r.utilization for r in reservations},
        savings_plan_utilization=SP_UTILIZATION,
        monthly_commitment={
            **{r.reservation_id: r.count * r.hourly_each * HOURS_PER_MONTH for r in reservations},
            SP_ID: sp_hourly_commitment * HOURS_PER_MONTH,
        },
        expiring_on_demand_monthly=expiring.used * expiring.on_demand_each * HOURS_PER_MONTH,
    )


def _describe_reservation(r: _Reservation) -> dict[str, Any]:
    return {
        "ReservedInstancesId": r.reservation_id,
        "InstanceType": r.instance_type,
        "InstanceCount": r.count,
        "Start": r.start,
        "End": r.end,
        "Duration": YEAR_SECONDS,
        "FixedPrice": 0.0,
        "UsagePrice": 0.0,
        "RecurringCharges": [{"Amount": r.hourly_each, "Frequency": "Hourly"}],
        "CurrencyCode": "USD",
        "OfferingClass": "standard",
        "OfferingType": "No Upfront",
        "State": "active",
        "Scope": "Region",
        "ProductDescription": "Linux/UNIX",
        "InstanceTenancy": "default",
        "Tags": [{"Key": "Name", "Value": f"{r.instance_type} fleet"}],
    }
