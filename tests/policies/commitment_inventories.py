"""Commitment rows and FOCUS billing frames for the commitment policy tests.

Rows go through ``Inventory.add`` (the schema validator), in the shapes the AWS collector
writes them (providers/aws/commitments.py) and the FOCUS columns a billing export holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import Inventory
from tests.policies.inventories import ACCOUNT, NOW, REGION


def reservation(resource_id: str, **facts: Any) -> dict[str, Any]:
    """A reserved instance as DescribeReservedInstances describes it."""
    return {
        "provider": "aws",
        "account_id": ACCOUNT,
        "region": REGION,
        "resource_id": resource_id,
        "resource_type": "ec2_reserved_instance",
        "kind": "ri",
        "source": "ec2",
        "state": "active",
        "term": "1y",
        "offering_class": "standard",
        "expires": NOW + timedelta(days=200),
        **facts,
    }


def measured(resource_id: str, kind: str = "ri", **facts: Any) -> dict[str, Any]:
    """The same commitment as Cost Explorer measured it."""
    return {
        "provider": "aws",
        "account_id": ACCOUNT,
        "region": REGION,
        "resource_id": resource_id,
        "kind": kind,
        "source": "cost_explorer",
        **facts,
    }


def savings_plan(resource_id: str, **facts: Any) -> dict[str, Any]:
    return {
        "provider": "aws",
        "account_id": ACCOUNT,
        "region": "global",
        "resource_id": resource_id,
        "resource_type": "savings_plan",
        "kind": "savings_plan",
        "source": "savingsplans",
        "state": "active",
        "offering_class": "Compute",
        "term": "1y",
        "expires": NOW + timedelta(days=200),
        **facts,
    }


def coverage(covered_by: str, **facts: Any) -> dict[str, Any]:
    return {
        "provider": "aws",
        "account_id": ACCOUNT,
        "region": REGION,
        "resource_id": f"coverage/{covered_by}/{facts.get('instance_type') or facts['family']}",
        "kind": "coverage",
        "source": "cost_explorer",
        "covered_by": covered_by,
        **facts,
    }


def with_commitments(inv: Inventory, rows: Iterable[Mapping[str, Any]]) -> Inventory:
    inv.add("commitments", pl.DataFrame(list(rows), schema=dict(schema.COMMITMENTS)))
    assert not inv.rejections, inv.rejections
    return inv


def hourly_usage(
    resource_id: str,
    hourly_cost: float,
    *,
    hours: int,
    start: datetime = NOW - timedelta(days=30),
    pricing: str = "Standard",
    category: str = "Compute",
    status: str | None = None,
    commitment: str | None = None,
    every: int = 1,
) -> pl.DataFrame:
    """FOCUS rows for ``resource_id``: one charge period an hour, each ``every`` hours."""
    starts = pl.datetime_range(
        start, start + timedelta(hours=hours - 1), "1h", time_zone="UTC", eager=True
    )[::every]
    n = len(starts)
    return pl.DataFrame(
        {
            "ChargePeriodStart": starts,
            "ChargePeriodEnd": starts + timedelta(hours=1),
            "EffectiveCost": [hourly_cost] * n,
            "BilledCost": [hourly_cost] * n,
            "ProviderName": ["AWS"] * n,
            "SubAccountId": [ACCOUNT] * n,
            "RegionId": [REGION] * n,
            "ResourceId": [resource_id] * n,
            "ServiceName": ["Amazon Elastic Compute Cloud"] * n,
            "ServiceCategory": [category] * n,
            "ChargeCategory": ["Usage"] * n,
            "PricingCategory": [pricing] * n,
            "CommitmentDiscountId": [commitment] * n,
            "CommitmentDiscountStatus": [status] * n,
            "CommitmentDiscountType": ["Reserved Instance" if commitment else None] * n,
        }
    )


def billing_inventory(frames: Sequence[pl.DataFrame]) -> Inventory:
    """An inventory whose billing frame is a lazy scan, as the FOCUS provider gives it."""
    from costscan.scanner.contracts.inventory import RunContext

    inv = Inventory(provider="focus", context=RunContext.at(NOW, lookback_days=14))
    rows = schema.conform("billing", pl.concat(frames, how="diagonal_relaxed"))
    inv.add_scan("billing", rows.lazy())
    return inv
