"""AWS Cost Optimization Hub's recommendations, as ``provider_advice`` rows beside
costscan's findings. Reads only.

``scan_cost_hub_account`` (once per account, with the account-wide collectors):
ListRecommendations, every ``nextToken`` page. The service answers in us-east-1 only,
whatever the scanned regions are. Each recommendation becomes one row (recommender
``aws.cost-optimization-hub``, so it is told from Compute Optimizer's): its action as the
advice ``kind``, its estimated monthly savings and currency, its target, and the resource
named the way costscan names it (the instance id, the unversioned function ARN...).
https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_CostOptimizationHub_ListRecommendations.html

Each read account also gets one ``kind == "coverage"`` row (its resource is the account): ``state``
``available`` or ``unavailable`` and, when unavailable, the reason. An account that has
not enrolled answers AccessDeniedException saying so: that is "no advice to compare with",
never a failure of the scan. Any other error (a missing IAM permission included) is a real
failure: a CollectorError, and the cross-check says the advice could not be read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import polars as pl

from costscan.providers.aws.scan import RegionScan
from costscan.scanner.contracts.vocab import ResourceType

RECOMMENDER: Final = "aws.cost-optimization-hub"
COLLECTOR: Final = "costoptimizationhub.recommendations"
HUB_REGION: Final = "us-east-1"
NOT_ENROLLED_CODE: Final = "AccessDeniedException"
# ListRecommendations' actionType -> the kind of advice the cross-check compares.
KINDS: Final = {
    "Rightsize": "resize",
    "MigrateToGraviton": "resize",
    "Upgrade": "resize",
    "Stop": "stop",
    "Delete": "delete",
    "PurchaseSavingsPlans": "commit",
    "PurchaseReservedInstances": "commit",
}
# currentResourceType values whose costscan id is the resource's ARN (unversioned).
ARN_NAMED: Final = frozenset({"LambdaFunction", "EcsService"})


class NotEnrolled(Exception):
    """The account has not enrolled in Cost Optimization Hub."""


def scan_cost_hub_account(run: RegionScan) -> None:
    """Cost Optimization Hub's recommendations for the account, and whether it had any."""
    account = run.account.account_id
    client = run.client("cost-optimization-hub", HUB_REGION)
    found = run.attempt(COLLECTOR, lambda: _read(client), region=HUB_REGION)
    if found is None:  # a real failure: the CollectorError says why
        return
    if isinstance(found, NotEnrolled):
        rows = [_coverage(account, "unavailable", str(found))]
    else:
        rows = [_coverage(account, "available", None)]
        rows += [_row(r, account) for r in found]
    run.inventory.add("provider_advice", pl.DataFrame(rows, infer_schema_length=None))


def _read(client: Any) -> list[Mapping[str, Any]] | NotEnrolled:
    """Every page of ListRecommendations, or NotEnrolled when the account has not opted in."""
    from botocore.exceptions import ClientError

    found: list[Mapping[str, Any]] = []
    request: dict[str, Any] = {"includeAllRecommendations": False}
    while True:
        try:
            page = client.list_recommendations(**request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            message = str(error.get("Message") or "")
            # Not enrolled is AccessDenied whose message says so; AccessDenied for a
            # missing IAM permission is a real failure and is re-raised.
            if error.get("Code") == NOT_ENROLLED_CODE and "enroll" in message.lower():
                return NotEnrolled(f"not enrolled in Cost Optimization Hub ({message})")
            raise
        found.extend(page.get("items") or [])
        token = page.get("nextToken")
        if not token:
            return found
        request["nextToken"] = token


def resource_id(item: Mapping[str, Any]) -> str:
    """The id costscan gives the resource: the unversioned ARN for functions and services,
    else the resource id, or the ARN's short id (after the last ``/``) when it is an ARN."""
    arn = str(item.get("resourceArn") or "")
    if item.get("currentResourceType") in ARN_NAMED and arn:
        parts = arn.split(":")
        return ":".join(parts[:7]) if len(parts) > 7 else arn
    rid = str(item.get("resourceId") or arn)
    return rid.rsplit("/", 1)[-1] if rid.startswith("arn:") else rid


def _when(moment: Any) -> datetime | None:
    if isinstance(moment, datetime):
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    return None


def _coverage(account: str, state: str, reason: str | None) -> dict[str, Any]:
    return {
        "provider": "aws",
        "account_id": account,
        "region": HUB_REGION,
        # Every row names a resource: the coverage row's is the account itself.
        "resource_id": account,
        "resource_type": ResourceType.ACCOUNT.value,
        "recommender": RECOMMENDER,
        "kind": "coverage",
        "state": state,
        "description": reason,
    }


def _row(item: Mapping[str, Any], account: str) -> dict[str, Any]:
    rid = resource_id(item)
    action = str(item.get("actionType") or "")
    current, target = item.get("currentResourceSummary"), item.get("recommendedResourceSummary")
    what = str(item.get("currentResourceType") or "resource")
    description = f"{action} {what}" + (
        f" from {current} to {target}" if current and target and current != target else ""
    )
    saving = item.get("estimatedMonthlySavings")
    return {
        "provider": "aws",
        "account_id": item.get("accountId") or account,
        "region": item.get("region"),
        "resource_id": rid,
        "resource_name": rid.rsplit(":", 1)[-1],
        "resource_type": what,
        "recommender": RECOMMENDER,
        "recommendation": item.get("recommendationId"),
        "subtype": action,
        "kind": KINDS.get(action, "other"),
        "description": description,
        "monthly_savings": float(saving) if saving is not None else None,
        "currency": item.get("currencyCode"),
        "target": target,
        "priority": item.get("implementationEffort"),
        "state": "restart needed" if item.get("restartNeeded") else None,
        "refreshed": _when(item.get("lastRefreshTimestamp")),
    }
