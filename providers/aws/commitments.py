"""Reserved instances and savings plans: what is committed, how much of it is used, and
how much running usage no commitment covers. Reads only.

Rows of the ``commitments`` frame (scanner.schema.COMMITMENTS), by ``kind`` and ``source``:

- ``kind="ri", source="ec2"``: one per reserved instance purchase (DescribeReservedInstances,
  regional): ``instance_type``, ``family``, ``instance_count``, ``term`` ("1y" / "3y"),
  ``start``, ``expires``, ``state``, ``offering_class``, ``payment_option``,
  ``upfront_cost`` and ``monthly_commitment`` = count × (upfront / term hours + hourly usage
  price + hourly recurring charges) × 730; ``scope`` ("Region" or "Availability Zone") and
  ``platform`` (ProductDescription), which decide where it applies.
- ``kind="savings_plan", source="savingsplans"``: one per savings plan (DescribeSavingsPlans,
  account-wide): ``offering_class`` is the plan type (Compute, EC2Instance, SageMaker),
  ``family`` the EC2 instance family of an EC2 Instance plan, ``region`` its region or
  "global", ``monthly_commitment`` = hourly commitment × 730.
- ``kind="ri" | "savings_plan", source="cost_explorer"``: the same commitments as Cost
  Explorer measured them over the run's lookback (GetReservationUtilization grouped by
  subscription, GetSavingsPlansUtilizationDetails): ``utilization`` (0..1),
  ``monthly_commitment`` (amortized cost), ``on_demand_equivalent`` (what the usage it
  covered would have cost on demand). A consumer merges them with the description rows
  per ``(account_id, resource_id)``, taking the first non-null value of each column with
  the description rows first (policies/commitments.py does).
- ``kind="coverage"``: one per region and instance type (``covered_by="ri"``,
  GetReservationCoverage: ``covered_hours``, ``on_demand_hours``, ``on_demand_cost``) or
  per region and instance family (``covered_by="savings_plan"``, GetSavingsPlansCoverage:
  ``covered_cost``, ``on_demand_cost``), with ``coverage`` (0..1).

Cost Explorer figures cover [``period_start``, ``period_end``) and are scaled to a month of
730 hours, so they add up with every other monthly figure. Cost Explorer and Savings Plans
are account-wide services answered from us-east-1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from costscan.providers.aws.scan import RegionScan
from costscan.scanner.contracts.schema import COMMITMENTS, conform
from costscan.scanner.contracts.units import HOURS_PER_MONTH
from costscan.scanner.contracts.vocab import ResourceType

COST_EXPLORER_REGION = "us-east-1"
ACTIVE_RI_STATES = ("active", "payment-pending")
ACTIVE_SP_STATES = ("active", "payment-pending", "queued")
SECONDS_PER_YEAR = 31_536_000
# Cost Explorer names regions by their display name in some attributes.
_REGION_NAMES: Mapping[str, str] = {
    "US East (N. Virginia)": "us-east-1",
    "US East (Ohio)": "us-east-2",
    "US West (N. California)": "us-west-1",
    "US West (Oregon)": "us-west-2",
    "EU (Ireland)": "eu-west-1",
    "Europe (Ireland)": "eu-west-1",
    "EU (London)": "eu-west-2",
    "Europe (London)": "eu-west-2",
    "EU (Frankfurt)": "eu-central-1",
    "Europe (Frankfurt)": "eu-central-1",
    "Asia Pacific (Tokyo)": "ap-northeast-1",
    "Asia Pacific (Singapore)": "ap-southeast-1",
    "Asia Pacific (Sydney)": "ap-southeast-2",
    "Asia Pacific (Mumbai)": "ap-south-1",
    "Canada (Central)": "ca-central-1",
    "South America (Sao Paulo)": "sa-east-1",
}


# --------------------------------------------------------------------------- collectors


def scan_commitments_region(run: RegionScan) -> None:
    """Reserved instances of this account in ``run.region``."""
    ec2 = run.client("ec2")
    found = run.attempt("ec2.reserved_instances", lambda: reserved_instances(ec2))
    if found:
        run.inventory.add(
            "commitments",
            reserved_instance_rows(found, account_id=run.account.account_id, region=run.region),
        )


def scan_commitments_account(run: RegionScan) -> None:
    """Savings plans, and Cost Explorer's utilization and coverage of all commitments."""
    account = run.account.account_id
    now = run.request.context.now
    start, end = cost_explorer_window(now, run.request.context.lookback_days)
    plans_client = run.client("savingsplans", region=COST_EXPLORER_REGION)
    ce = run.client("ce", region=COST_EXPLORER_REGION)
    frames: list[pl.DataFrame] = []

    plans = run.attempt("savingsplans.savings_plans", lambda: savings_plans(plans_client))
    if plans:
        frames.append(savings_plan_rows(plans, account_id=account))
    steps: list[tuple[str, Callable[[], pl.DataFrame]]] = [
        (
            "ce.reservation_utilization",
            lambda: reservation_utilization(ce, start, end, account_id=account),
        ),
        (
            "ce.savings_plans_utilization",
            lambda: savings_plans_utilization(ce, start, end, account_id=account),
        ),
        (
            "ce.reservation_coverage",
            lambda: reservation_coverage(ce, start, end, account_id=account),
        ),
        (
            "ce.savings_plans_coverage",
            lambda: savings_plans_coverage(ce, start, end, account_id=account),
        ),
    ]
    for collector, call in steps:
        got = run.attempt(collector, call)
        if got is not None and got.height:
            frames.append(got)
    for frame in frames:
        run.inventory.add("commitments", frame)


# --------------------------------------------------------------------------- describe


def reserved_instances(ec2: Any) -> list[dict[str, Any]]:
    """Active reserved instances (DescribeReservedInstances answers in one page)."""
    answer = ec2.describe_reserved_instances(
        Filters=[{"Name": "state", "Values": list(ACTIVE_RI_STATES)}]
    )
    return list(answer.get("ReservedInstances", []))


def reserved_instance_rows(
    found: list[dict[str, Any]], *, account_id: str, region: str
) -> pl.DataFrame:
    rows = []
    for ri in found:
        count = float(ri.get("InstanceCount") or 0)
        duration = float(ri.get("Duration") or 0)  # seconds
        fixed = _number(ri.get("FixedPrice"))
        usage = _number(ri.get("UsagePrice")) or 0.0
        recurring = sum(
            _number(c.get("Amount")) or 0.0
            for c in ri.get("RecurringCharges", [])
            if c.get("Frequency") == "Hourly"
        )
        hourly_each = usage + recurring + ((fixed or 0.0) / (duration / 3600.0) if duration else 0)
        instance_type = ri.get("InstanceType")
        rows.append(
            {
                "provider": "aws",
                "account_id": account_id,
                "region": region,
                "resource_id": ri.get("ReservedInstancesId"),
                "resource_name": _tag(ri.get("Tags"), "Name"),
                "resource_type": ResourceType.EC2_RESERVED_INSTANCE.value,
                "kind": "ri",
                "source": "ec2",
                "family": _family(instance_type),
                "instance_type": instance_type,
                "instance_count": count,
                "term": _term(duration),
                "start": ri.get("Start"),
                "expires": ri.get("End"),
                "state": ri.get("State"),
                "offering_class": ri.get("OfferingClass"),
                "payment_option": ri.get("OfferingType"),
                "upfront_cost": (fixed or 0.0) * count if fixed is not None else None,
                "monthly_commitment": hourly_each * count * HOURS_PER_MONTH,
                # Where it applies: a regional Linux RI floats across its family's sizes.
                "scope": ri.get("Scope"),
                "platform": ri.get("ProductDescription"),
            }
        )
    return _frame(rows)


def savings_plans(client: Any) -> list[dict[str, Any]]:
    """Active and queued savings plans, every page."""
    plans: list[dict[str, Any]] = []
    for page in _pages(
        lambda token: client.describe_savings_plans(
            states=list(ACTIVE_SP_STATES), **({"nextToken": token} if token else {})
        ),
        "nextToken",
    ):
        plans.extend(page.get("savingsPlans", []))
    return plans


def savings_plan_rows(plans: list[dict[str, Any]], *, account_id: str) -> pl.DataFrame:
    rows = []
    for sp in plans:
        hourly = _number(sp.get("commitment"))
        seconds = float(sp.get("termDurationInSeconds") or 0)
        rows.append(
            {
                "provider": "aws",
                "account_id": account_id,
                "region": sp.get("region") or "global",
                "resource_id": sp.get("savingsPlanId"),
                "resource_name": (sp.get("tags") or {}).get("Name"),
                "resource_type": ResourceType.SAVINGS_PLAN.value,
                "kind": "savings_plan",
                "source": "savingsplans",
                "family": sp.get("ec2InstanceFamily") or None,
                "term": _term(seconds),
                "start": _timestamp(sp.get("start")),
                "expires": _timestamp(sp.get("end")),
                "state": sp.get("state"),
                "offering_class": sp.get("savingsPlanType"),
                "payment_option": sp.get("paymentOption"),
                "upfront_cost": _number(sp.get("upfrontPaymentAmount")),
                "monthly_commitment": hourly * HOURS_PER_MONTH if hourly is not None else None,
            }
        )
    return _frame(rows)


# --------------------------------------------------------------------------- cost explorer


def cost_explorer_window(now: datetime, lookback_days: int) -> tuple[str, str]:
    """[start, end) in whole days ending today (UTC): Cost Explorer takes dates, end exclusive."""
    end = now.astimezone(UTC).date()
    start = end - timedelta(days=lookback_days)
    return start.isoformat(), end.isoformat()


def _monthly_factor(start: str, end: str) -> float:
    days = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).days
    return HOURS_PER_MONTH / (max(days, 1) * 24.0)


def _window(start: str, end: str) -> dict[str, datetime]:
    return {
        "period_start": datetime.fromisoformat(start).replace(tzinfo=UTC),
        "period_end": datetime.fromisoformat(end).replace(tzinfo=UTC),
    }


def reservation_utilization(ce: Any, start: str, end: str, *, account_id: str) -> pl.DataFrame:
    """Per reservation (grouped by subscription): utilization and amortized cost."""
    totals: dict[str, dict[str, Any]] = {}
    for page in _pages(
        lambda token: ce.get_reservation_utilization(
            TimePeriod={"Start": start, "End": end},
            GroupBy=[{"Type": "DIMENSION", "Key": "SUBSCRIPTION_ID"}],
            **({"NextPageToken": token} if token else {}),
        ),
        "NextPageToken",
    ):
        for period in page.get("UtilizationsByTime", []):
            for group in period.get("Groups", []):
                attrs = group.get("Attributes", {})
                key = attrs.get("leaseId") or group.get("Value")
                if not key:
                    continue
                agg = totals.setdefault(key, {"attrs": attrs, "sums": {}})
                for name, value in group.get("Utilization", {}).items():
                    number = _number(value)
                    if number is not None:
                        agg["sums"][name] = agg["sums"].get(name, 0.0) + number
    factor = _monthly_factor(start, end)
    rows = []
    for lease, agg in totals.items():
        attrs, sums = agg["attrs"], agg["sums"]
        purchased = sums.get("PurchasedHours")
        used = sums.get("TotalActualHours")
        instance_type = attrs.get("instanceType")
        rows.append(
            {
                "provider": "aws",
                "account_id": attrs.get("accountId") or account_id,
                "region": _region(attrs.get("region")),
                "resource_id": lease,
                "resource_type": ResourceType.EC2_RESERVED_INSTANCE.value,
                "kind": "ri",
                "source": "cost_explorer",
                "family": _family(instance_type),
                "instance_type": instance_type,
                "instance_count": _number(attrs.get("numberOfInstances")),
                "expires": _timestamp(attrs.get("endDateTime")),
                "utilization": used / purchased if purchased and used is not None else None,
                "monthly_commitment": _scaled(sums.get("TotalAmortizedFee"), factor),
                "on_demand_equivalent": _scaled(sums.get("OnDemandCostOfRIHoursUsed"), factor),
                **_window(start, end),
            }
        )
    return _frame(rows)


def savings_plans_utilization(ce: Any, start: str, end: str, *, account_id: str) -> pl.DataFrame:
    """Per savings plan: utilization, amortized commitment and on-demand equivalent."""
    factor = _monthly_factor(start, end)
    rows = []
    for page in _pages(
        lambda token: ce.get_savings_plans_utilization_details(
            TimePeriod={"Start": start, "End": end}, **({"NextToken": token} if token else {})
        ),
        "NextToken",
    ):
        for detail in page.get("SavingsPlansUtilizationDetails", []):
            arn = str(detail.get("SavingsPlanArn") or "")
            attrs = detail.get("Attributes", {})
            use = detail.get("Utilization", {})
            total = _number(use.get("TotalCommitment"))
            used = _number(use.get("UsedCommitment"))
            rows.append(
                {
                    "provider": "aws",
                    "account_id": attrs.get("AccountId") or account_id,
                    "region": _region(attrs.get("RegionCode") or attrs.get("Region")) or "global",
                    # The id DescribeSavingsPlans gives is the ARN's last path segment.
                    "resource_id": arn.rsplit("/", 1)[-1] or None,
                    "resource_type": ResourceType.SAVINGS_PLAN.value,
                    "kind": "savings_plan",
                    "source": "cost_explorer",
                    "family": attrs.get("InstanceFamily") or None,
                    "utilization": used / total if total and used is not None else None,
                    "monthly_commitment": _scaled(
                        _number(
                            detail.get("AmortizedCommitment", {}).get("TotalAmortizedCommitment")
                        )
                        if detail.get("AmortizedCommitment")
                        else total,
                        factor,
                    ),
                    "on_demand_equivalent": _scaled(
                        _number(detail.get("Savings", {}).get("OnDemandCostEquivalent")), factor
                    ),
                    **_window(start, end),
                }
            )
    return _frame(rows)


def reservation_coverage(ce: Any, start: str, end: str, *, account_id: str) -> pl.DataFrame:
    """Per region and instance type: hours covered by reservations and hours on demand."""
    sums: dict[tuple[str, str], dict[str, float]] = {}
    for page in _pages(
        lambda token: ce.get_reservation_coverage(
            TimePeriod={"Start": start, "End": end},
            GroupBy=[
                {"Type": "DIMENSION", "Key": "REGION"},
                {"Type": "DIMENSION", "Key": "INSTANCE_TYPE"},
            ],
            **({"NextPageToken": token} if token else {}),
        ),
        "NextPageToken",
    ):
        for period in page.get("CoveragesByTime", []):
            for group in period.get("Groups", []):
                attrs = group.get("Attributes", {})
                region = _region(attrs.get("region") or attrs.get("REGION"))
                instance_type = attrs.get("instanceType") or attrs.get("INSTANCE_TYPE")
                if not region or not instance_type:
                    continue
                coverage = group.get("Coverage", {})
                hours = coverage.get("CoverageHours", {})
                agg = sums.setdefault((region, instance_type), {})
                for name, value in (
                    ("reserved", hours.get("ReservedHours")),
                    ("on_demand", hours.get("OnDemandHours")),
                    ("total", hours.get("TotalRunningHours")),
                    ("cost", coverage.get("CoverageCost", {}).get("OnDemandCost")),
                ):
                    number = _number(value)
                    if number is not None:
                        agg[name] = agg.get(name, 0.0) + number
    factor = _monthly_factor(start, end)
    rows = []
    for (region, instance_type), agg in sums.items():
        total = agg.get("total")
        reserved = agg.get("reserved")
        rows.append(
            {
                "provider": "aws",
                "account_id": account_id,
                "region": region,
                "resource_id": f"coverage/ri/{region}/{instance_type}",
                "resource_type": ResourceType.COMMITMENT_COVERAGE.value,
                "kind": "coverage",
                "source": "cost_explorer",
                "covered_by": "ri",
                "family": _family(instance_type),
                "instance_type": instance_type,
                "coverage": reserved / total if total and reserved is not None else None,
                "covered_hours": _scaled(reserved, factor),
                "on_demand_hours": _scaled(agg.get("on_demand"), factor),
                "on_demand_cost": _scaled(agg.get("cost"), factor),
                **_window(start, end),
            }
        )
    return _frame(rows)


def savings_plans_coverage(ce: Any, start: str, end: str, *, account_id: str) -> pl.DataFrame:
    """Per region and instance family: spend covered by savings plans and spend on demand."""
    sums: dict[tuple[str, str], dict[str, float]] = {}
    for page in _pages(
        lambda token: ce.get_savings_plans_coverage(
            TimePeriod={"Start": start, "End": end},
            GroupBy=[
                {"Type": "DIMENSION", "Key": "REGION"},
                {"Type": "DIMENSION", "Key": "INSTANCE_TYPE_FAMILY"},
            ],
            **({"NextToken": token} if token else {}),
        ),
        "NextToken",
    ):
        for item in page.get("SavingsPlansCoverages", []):
            attrs = item.get("Attributes", {})
            region = _region(attrs.get("REGION") or attrs.get("region"))
            family = attrs.get("INSTANCE_TYPE_FAMILY") or attrs.get("instanceTypeFamily")
            if not region or not family:
                continue
            coverage = item.get("Coverage", {})
            agg = sums.setdefault((region, family), {})
            for name, value in (
                ("covered", coverage.get("SpendCoveredBySavingsPlans")),
                ("on_demand", coverage.get("OnDemandCost")),
                ("total", coverage.get("TotalCost")),
            ):
                number = _number(value)
                if number is not None:
                    agg[name] = agg.get(name, 0.0) + number
    factor = _monthly_factor(start, end)
    rows = []
    for (region, family), agg in sums.items():
        total = agg.get("total")
        covered = agg.get("covered")
        rows.append(
            {
                "provider": "aws",
                "account_id": account_id,
                "region": region,
                "resource_id": f"coverage/savings_plan/{region}/{family}",
                "resource_type": ResourceType.COMMITMENT_COVERAGE.value,
                "kind": "coverage",
                "source": "cost_explorer",
                "covered_by": "savings_plan",
                "family": family,
                "coverage": covered / total if total and covered is not None else None,
                "covered_cost": _scaled(covered, factor),
                "on_demand_cost": _scaled(agg.get("on_demand"), factor),
                **_window(start, end),
            }
        )
    return _frame(rows)


# --------------------------------------------------------------------------- helpers


def _pages(
    call: Callable[[str | None], dict[str, Any]], token_key: str
) -> Iterator[dict[str, Any]]:
    """Every page of an operation that botocore has no paginator for."""
    token: str | None = None
    seen: set[str] = set()
    while True:
        page = call(token)
        yield page
        token = page.get(token_key) or None
        if token is None or token in seen:  # a repeated token would loop for ever
            return
        seen.add(token)


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    if not rows:
        return conform("commitments", pl.DataFrame(schema=dict(COMMITMENTS)))
    columns = sorted({k for row in rows for k in row})
    data = {c: [row.get(c) for row in rows] for c in columns}
    frame = pl.DataFrame({c: pl.Series(c, v, dtype=COMMITMENTS[c]) for c, v in data.items()})
    return conform("commitments", frame)


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _scaled(value: float | None, factor: float) -> float | None:
    return value * factor if value is not None else None


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _family(instance_type: Any) -> str | None:
    text = str(instance_type or "")
    return text.split(".", 1)[0] if "." in text else None


def _term(seconds: float) -> str | None:
    if not seconds:
        return None
    return f"{round(seconds / SECONDS_PER_YEAR)}y"


def _region(value: Any) -> str | None:
    if not value:
        return None
    text = str(value)
    return _REGION_NAMES.get(text, text)


def _tag(tags: Any, key: str) -> str | None:
    for tag in tags or []:
        if tag.get("Key") == key:
            return str(tag.get("Value"))
    return None
