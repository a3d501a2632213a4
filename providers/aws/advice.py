"""AWS's own advice: Compute Optimizer's recommendations for the demand-matching resources,
as ``provider_advice`` rows beside costscan's findings. Reads only.

``scan_advice_region`` (once per account and region, after the fleet and serverless
collectors): GetLambdaFunctionRecommendations, GetAutoScalingGroupRecommendations and
GetECSServiceRecommendations (every page), each only when the region has that kind of
resource. An account that has not opted in to Compute Optimizer answers
OptInRequiredException: that is "no advice", not a failure. Each recommendation's rank-1
option becomes one row: its target (memory, instance type, task size) and its estimated
monthly savings, after discounts where Compute Optimizer computed them.
https://docs.aws.amazon.com/compute-optimizer/latest/APIReference/API_GetLambdaFunctionRecommendations.html
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl

from costscan.providers.aws.scan import RegionScan
from costscan.scanner.contracts.vocab import ResourceType

NOT_ENROLLED = "OptInRequiredException"
LAMBDA = "aws.compute-optimizer.lambda"
AUTO_SCALING = "aws.compute-optimizer.auto-scaling-group"
ECS = "aws.compute-optimizer.ecs-service"


def scan_advice_region(run: RegionScan) -> None:
    """Compute Optimizer's advice on the region's functions, groups and ECS services."""
    inv = run.inventory
    client = run.client("compute-optimizer")
    rows: list[dict[str, Any] | None] = []
    if inv.has("functions"):
        found = run.attempt(
            "computeoptimizer.lambda",
            lambda: _pages(
                client.get_lambda_function_recommendations, "lambdaFunctionRecommendations"
            ),
        )
        rows += [_lambda_row(r, run) for r in found or []]
    if inv.has("fleets"):
        found = run.attempt(
            "computeoptimizer.auto_scaling_groups",
            lambda: _pages(
                client.get_auto_scaling_group_recommendations, "autoScalingGroupRecommendations"
            ),
        )
        rows += [_group_row(r, run) for r in found or []]
    if inv.has("services"):
        found = run.attempt(
            "computeoptimizer.ecs_services",
            lambda: _pages(client.get_ecs_service_recommendations, "ecsServiceRecommendations"),
        )
        rows += [_service_row(r, run) for r in found or []]
    advice = [r for r in rows if r is not None]
    if advice:
        inv.add("provider_advice", pl.DataFrame(advice, infer_schema_length=None))


def _pages(call: Callable[..., Mapping[str, Any]], key: str) -> list[Mapping[str, Any]]:
    """Every page of a Compute Optimizer answer; none when the account is not enrolled."""
    from botocore.exceptions import ClientError

    found: list[Mapping[str, Any]] = []
    request: dict[str, Any] = {}
    while True:
        try:
            page = call(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == NOT_ENROLLED:
                return []
            raise
        found.extend(page.get(key) or [])
        token = page.get("nextToken")
        if not token:
            return found
        request["nextToken"] = token


def _best(options: Sequence[Mapping[str, Any]] | None) -> Mapping[str, Any] | None:
    ranked = sorted(options or [], key=lambda o: o.get("rank") or 0)
    return ranked[0] if ranked else None


def _savings(option: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """The option's estimated monthly savings, after discounts where AWS gives them."""
    for key in ("savingsOpportunityAfterDiscounts", "savingsOpportunity"):
        estimate = (option.get(key) or {}).get("estimatedMonthlySavings") or {}
        if estimate.get("value") is not None:
            return float(estimate["value"]), estimate.get("currency")
    return None, None


def _when(moment: Any) -> datetime | None:
    if isinstance(moment, datetime):
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    return None


def _row(
    run: RegionScan,
    recommendation: Mapping[str, Any],
    *,
    recommender: str,
    resource_id: str,
    resource_type: str,
    option: Mapping[str, Any],
    target: str,
    description: str,
) -> dict[str, Any]:
    saving, currency = _savings(option)
    return {
        "provider": "aws",
        "account_id": recommendation.get("accountId") or run.account.account_id,
        "region": run.region,
        "resource_id": resource_id,
        "resource_name": resource_id.rsplit("/", 1)[-1].rsplit(":", 1)[-1],
        "resource_type": resource_type,
        "recommender": recommender,
        "recommendation": f"{recommender}:{resource_id}",
        "subtype": recommendation.get("finding"),
        "kind": "resize",
        "description": description,
        "monthly_savings": saving,
        "currency": currency,
        "target": target,
        "state": recommendation.get("finding"),
        "refreshed": _when(recommendation.get("lastRefreshTimestamp")),
    }


def _unversioned(arn: str) -> str:
    """A function ARN without its version (``...:function:name:$LATEST`` -> ``...:name``),
    as ListFunctions names it."""
    parts = arn.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 else arn


def _lambda_row(recommendation: Mapping[str, Any], run: RegionScan) -> dict[str, Any] | None:
    option = _best(recommendation.get("memorySizeRecommendationOptions"))
    if option is None or option.get("memorySize") is None:
        return None
    memory = int(option["memorySize"])
    return _row(
        run,
        recommendation,
        recommender=LAMBDA,
        resource_id=_unversioned(str(recommendation.get("functionArn", ""))),
        resource_type=ResourceType.LAMBDA_FUNCTION.value,
        option=option,
        target=f"{memory} MB",
        description=(
            f"set memory from {recommendation.get('currentMemorySize')} MB to {memory} MB"
        ),
    )


def _group_row(recommendation: Mapping[str, Any], run: RegionScan) -> dict[str, Any] | None:
    option = _best(recommendation.get("recommendationOptions"))
    if option is None:
        return None
    target = str((option.get("configuration") or {}).get("instanceType") or "")
    current = str((recommendation.get("currentConfiguration") or {}).get("instanceType") or "")
    return _row(
        run,
        recommendation,
        recommender=AUTO_SCALING,
        resource_id=str(recommendation.get("autoScalingGroupName", "")),
        resource_type=ResourceType.AUTO_SCALING_GROUP.value,
        option=option,
        target=target,
        description=f"move the group's instances from {current} to {target}",
    )


def _service_row(recommendation: Mapping[str, Any], run: RegionScan) -> dict[str, Any] | None:
    option = _best(recommendation.get("serviceRecommendationOptions"))
    if option is None:
        return None
    cpu, memory = option.get("cpu"), option.get("memory")
    current = recommendation.get("currentServiceConfiguration") or {}
    return _row(
        run,
        recommendation,
        recommender=ECS,
        resource_id=str(recommendation.get("serviceArn", "")),
        resource_type=ResourceType.ECS_SERVICE.value,
        option=option,
        target=f"{cpu} CPU units, {memory} MiB",
        description=(
            f"set the task from {current.get('cpu')} CPU units and {current.get('memory')} MiB "
            f"to {cpu} and {memory}"
        ),
    )
