"""Fleet collectors: Auto Scaling groups, their scaling set-up and hourly demand, and the
load balancers' performance series. Reads only.

``scan_fleets_region`` (once per account and region, after the EC2 and network
collectors, whose answers it reuses):

- Auto Scaling DescribePolicies and DescribeScheduledActions
  (every page), over the groups the EC2 collector described (DescribeAutoScalingGroups,
  once) -> ``fleets``: sizes, policy types, mixed instances, spot share, the
  target groups and load balancers in front, and one member's on-demand price (the
  members' mean, from the ``compute`` frame the EC2 collector priced).
- elbv2 DescribeTargetGroups, only when a group names target groups, to find the load
  balancers that send it traffic.
- One batched GetMetricData sweep (≤ 500 queries a call, hourly points) -> hourly
  ``utilization`` rows under each group's name and each ALB's ARN:
  group ``cpu`` (AWS/EC2 CPUUtilization by AutoScalingGroupName, Average) and, where
  group metrics collection is on, ``capacity`` (AWS/AutoScaling GroupInServiceInstances,
  Average); ALB ``latency`` (TargetResponseTime, Average and Maximum, in milliseconds),
  ``requests`` (RequestCount) and ``errors_5xx`` (HTTPCode_Target_5XX_Count plus
  HTTPCode_ELB_5XX_Count), Sums. Percentiles are computed in polars by the policies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import polars as pl

from costscan.providers.aws import metrics
from costscan.providers.aws.scan import RegionScan
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.vocab import ResourceType

ASG_NAMESPACE = "AWS/AutoScaling"
EC2_NAMESPACE = "AWS/EC2"
ALB_NAMESPACE = "AWS/ApplicationELB"
IN_SERVICE_METRIC = "GroupInServiceInstances"
# CloudWatch reports TargetResponseTime in seconds; the utilization frame holds ms.
SECONDS_TO_MS = 1000.0

# (our metric, our statistic, CloudWatch metric, CloudWatch statistic) per ALB.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
ALB_SERIES: tuple[tuple[str, str, str, str], ...] = (
    ("latency", "average", "TargetResponseTime", "Average"),
    ("latency", "maximum", "TargetResponseTime", "Maximum"),
    ("requests", "sum", "RequestCount", "Sum"),
    ("errors_5xx", "sum", "HTTPCode_Target_5XX_Count", "Sum"),
    ("errors_5xx", "sum", "HTTPCode_ELB_5XX_Count", "Sum"),
)
TARGET_TRACKING = "TargetTrackingScaling"
PREDICTIVE = "PredictiveScaling"
STEP_TYPES = ("StepScaling", "SimpleScaling")


def scan_fleets_region(run: RegionScan) -> None:
    """Auto Scaling groups and load balancer performance of one region."""
    # The EC2 collector described the groups (only where instances run: a group with none
    # has nothing to match); its failure is already recorded once.
    groups: list[dict[str, Any]] = run.collected.get("autoscaling.group_membership") or []
    autoscaling = run.client("autoscaling")
    balancers = [
        b
        for b in run.collected.get("elbv2.load_balancers") or []
        if str(b.get("Type", "")) == "application"
    ]
    if not groups and not balancers:
        return
    policies: list[dict[str, Any]] | None = []
    scheduled: list[dict[str, Any]] | None = []
    owners: dict[str, list[str]] | None = {}
    if groups:
        policies = run.attempt(
            "autoscaling.scaling_policies", lambda: describe_policies(autoscaling)
        )
        scheduled = run.attempt(
            "autoscaling.scheduled_actions", lambda: describe_scheduled(autoscaling)
        )
        if any(g.get("TargetGroupARNs") for g in groups):
            elbv2 = run.client("elbv2")
            owners = run.attempt("elbv2.target_group_owners", lambda: target_group_owners(elbv2))
        frame = fleets_frame(
            groups,
            account_id=run.account.account_id,
            region=run.region,
            policies=policies,
            scheduled=scheduled,
            owners=owners,
            compute=run.inventory.frame("compute"),
        )
        run.inventory.add("fleets", frame)

    plan = series_plan(groups or [], balancers)
    if not plan:
        return
    start, end = metrics.lookback_window(run.request.context.now, run.request.context.lookback_days)
    cloudwatch = run.client("cloudwatch")
    series = run.attempt(
        "cloudwatch.demand_series",
        lambda: demand_series(cloudwatch, plan, start, end),
        resources=sorted({q.resource_id for q in plan}),
    )
    if series is not None:
        run.inventory.add("utilization", series)


def _paged(client: Any, operation: str, key: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate():
        found.extend(page.get(key, []))
    return found


def describe_groups(autoscaling: Any) -> list[dict[str, Any]]:
    return _paged(autoscaling, "describe_auto_scaling_groups", "AutoScalingGroups")


def membership(groups: Sequence[Mapping[str, Any]] | None) -> dict[str, str] | None:
    """Instance id -> the name of the Auto Scaling group that owns it."""
    if groups is None:
        return None
    return {
        str(instance["InstanceId"]): str(group["AutoScalingGroupName"])
        for group in groups
        for instance in group.get("Instances") or []
    }


def describe_policies(autoscaling: Any) -> list[dict[str, Any]]:
    return _paged(autoscaling, "describe_policies", "ScalingPolicies")


def describe_scheduled(autoscaling: Any) -> list[dict[str, Any]]:
    return _paged(autoscaling, "describe_scheduled_actions", "ScheduledUpdateGroupActions")


def target_group_owners(elbv2: Any) -> dict[str, list[str]]:
    """Target group ARN -> the ARNs of the load balancers that route to it."""
    groups = _paged(elbv2, "describe_target_groups", "TargetGroups")
    return {str(g["TargetGroupArn"]): list(g.get("LoadBalancerArns") or []) for g in groups}


def _alb_dimension(arn: str) -> str:
    """CloudWatch's LoadBalancer dimension: the ARN after ``loadbalancer/`` (app/name/id)."""
    return arn.split(":loadbalancer/", 1)[-1]


def _collects_in_service(group: Mapping[str, Any]) -> bool:
    """Group metrics collection is on for GroupInServiceInstances (or for every metric)."""
    for enabled in group.get("EnabledMetrics") or []:
        if enabled.get("Metric") == IN_SERVICE_METRIC:
            return True
    return False


def series_plan(
    groups: Sequence[Mapping[str, Any]], balancers: Sequence[Mapping[str, Any]]
) -> list[metrics.SeriesQuery]:
    """Hourly group CPU (and in-service capacity where collected) and ALB performance."""
    plan: list[metrics.SeriesQuery] = []
    for group in groups:
        name = str(group["AutoScalingGroupName"])
        dims = (("AutoScalingGroupName", name),)
        plan.append(
            metrics.SeriesQuery(
                name, "cpu", "average", EC2_NAMESPACE, "CPUUtilization", "Average", dims
            )
        )
        if _collects_in_service(group):
            plan.append(
                metrics.SeriesQuery(
                    name, "capacity", "average", ASG_NAMESPACE, IN_SERVICE_METRIC, "Average", dims
                )
            )
    for balancer in balancers:
        arn = str(balancer["LoadBalancerArn"])
        dims = (("LoadBalancer", _alb_dimension(arn)),)
        for metric, statistic, name, stat in ALB_SERIES:
            plan.append(
                metrics.SeriesQuery(arn, metric, statistic, ALB_NAMESPACE, name, stat, dims)
            )
    return plan


def demand_series(
    cloudwatch: Any, plan: Sequence[metrics.SeriesQuery], start: datetime, end: datetime
) -> pl.DataFrame:
    """The plan's hourly points as ``utilization`` rows: latency in ms, the two 5XX
    counters added into one ``errors_5xx`` series."""
    series = metrics.fetch_series(cloudwatch, plan, start, end)
    scaled = series.with_columns(
        pl.when(pl.col("metric") == "latency")
        .then(pl.col("value") * SECONDS_TO_MS)
        .otherwise(pl.col("value"))
        .alias("value")
    )
    combined = scaled.group_by("resource_id", "metric", "statistic", "ts").agg(
        pl.when(pl.col("metric").first() == "errors_5xx")
        .then(pl.col("value").sum())
        .otherwise(pl.col("value").mean())
        .alias("value")
    )
    return schema.conform("utilization", combined).sort("resource_id", "metric", "statistic", "ts")


def fleets_frame(
    groups: Sequence[Mapping[str, Any]],
    *,
    account_id: str,
    region: str,
    policies: Sequence[Mapping[str, Any]] | None,
    scheduled: Sequence[Mapping[str, Any]] | None,
    owners: Mapping[str, Sequence[str]] | None,
    compute: pl.DataFrame,
) -> pl.DataFrame:
    """One ``fleets`` row per group. What could not be read (policies, scheduled actions,
    load balancers) is null, never "none": a group whose policies are unknown must not
    look fixed."""
    by_group: dict[str, list[str]] = {}
    for policy in policies or ():
        by_group.setdefault(str(policy.get("AutoScalingGroupName")), []).append(
            str(policy.get("PolicyType") or "SimpleScaling")
        )
    actions: Counter[str] = Counter(str(a.get("AutoScalingGroupName")) for a in scheduled or ())
    members = compute.filter(pl.col("group").is_not_null())
    prices = {
        str(r["group"]): r
        for r in members.group_by("group")
        .agg(
            pl.col("hourly_price").filter(pl.col("lifecycle") != "spot").mean().alias("od"),
            pl.col("hourly_price").mean().alias("any"),
            pl.col("price_source").first().alias("price_source"),
        )
        .to_dicts()
    }
    rows: list[dict[str, Any]] = []
    for group in groups:
        name = str(group["AutoScalingGroupName"])
        instances = [
            i for i in group.get("Instances") or [] if i.get("LifecycleState") == "InService"
        ]
        types = Counter(str(i.get("InstanceType")) for i in instances if i.get("InstanceType"))
        spot = _spot_share(group, instances)
        types_known = policies is not None
        kinds = by_group.get(name, []) if types_known else []
        balancers: list[str] | None = None
        if owners is not None:
            balancers = sorted(
                {lb for tg in group.get("TargetGroupARNs") or [] for lb in owners.get(tg, [])}
            )
        priced = prices.get(name) or {}
        hourly = priced.get("od") if priced.get("od") is not None else priced.get("any")
        rows.append(
            {
                "provider": "aws",
                "account_id": account_id,
                "region": region,
                "resource_id": name,
                "resource_name": name,
                "resource_type": ResourceType.AUTO_SCALING_GROUP.value,
                "min_size": group.get("MinSize"),
                "max_size": group.get("MaxSize"),
                "desired_capacity": group.get("DesiredCapacity"),
                "instances": len(instances),
                "instance_type": types.most_common(1)[0][0] if types else None,
                "instance_types": ",".join(sorted(types)) or None,
                "mixed_instances": group.get("MixedInstancesPolicy") is not None,
                "spot_share": spot,
                "scaling_policies": ",".join(sorted(set(kinds))) if types_known else None,
                "target_tracking": (TARGET_TRACKING in kinds) if types_known else None,
                "step_scaling": any(k in STEP_TYPES for k in kinds) if types_known else None,
                "predictive_scaling": (PREDICTIVE in kinds) if types_known else None,
                "scheduled_actions": actions.get(name, 0) if scheduled is not None else None,
                "target_groups": ",".join(group.get("TargetGroupARNs") or []) or None,
                "load_balancers": ",".join(balancers) if balancers else None,
                "hourly_price": hourly,
                "price_source": priced.get("price_source") or "none",
                "price_reference": None,
            }
        )
    return schema.conform("fleets", pl.DataFrame(rows, infer_schema_length=None))


def _spot_share(group: Mapping[str, Any], instances: Sequence[Mapping[str, Any]]) -> float | None:
    """Members on spot, 0..1: from the instances' lifecycle where AWS reports it."""
    if not instances:
        return None
    spot = sum(1 for i in instances if str(i.get("InstanceLifecycle", "")).lower() == "spot")
    return spot / len(instances)
