"""What to run for the demand-matching findings (policies/demand.py): Lambda memory and
architecture, Auto Scaling target tracking and capacity, Fargate task sizes, and the load
balancer bottleneck's remedy. Read back from each finding's own columns and evidence, like
every builder in ``reports.remediation``, which registers these."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import quote

from costscan.reports.remediation import (
    AND,
    AWS_CONSOLE,
    Builder,
    Finding,
    Remediation,
    _figures,
    _int_text,
    _q,
    _region,
    _region_flag,
    _text,
)

TARGET_TRACKING = {
    "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
    "TargetValue": 70.0,
}


def _console(finding: Finding, service: str, fragment: str) -> str:
    region = _region(finding) or "us-east-1"
    r = quote(region, safe="")
    return f"https://{r}.{AWS_CONSOLE}/{service}/home?region={r}#{fragment}"


def _name(finding: Finding) -> str:
    return _text(finding.get("resource_name")) or _text(finding.get("resource_id"))


def _lambda_memory(finding: Finding) -> Remediation:
    name = _name(finding)
    target = _int_text(_figures(finding).get("target_mb")) or "<memory-mb>"
    return Remediation(
        change=f"Set Lambda function {name} to {target} MB",
        cli=(
            f"aws lambda update-function-configuration --function-name {_q(name)} "
            f"--memory-size {target}{_region_flag(finding)}"
        ),
        terraform=f"aws_lambda_function.memory_size = {target}",
        console_url=_console(finding, "lambda", "/functions/" + quote(name, safe="")),
        note="Run AWS Lambda Power Tuning at the new size first if the function is CPU-bound.",
    )


def _lambda_arm64(finding: Finding) -> Remediation:
    name = _name(finding)
    return Remediation(
        change=f"Move Lambda function {name} to arm64 (Graviton)",
        cli=(
            f"aws lambda update-function-code --function-name {_q(name)} --architectures arm64 "
            f"--zip-file fileb://function-arm64.zip{_region_flag(finding)}"
        ),
        terraform='aws_lambda_function.architectures = ["arm64"]',
        console_url=_console(finding, "lambda", "/functions/" + quote(name, safe="")),
        note="Build native dependencies (and a container image) for arm64 before switching.",
    )


def _target_tracking(finding: Finding) -> Remediation:
    name = _name(finding)
    figures = _figures(finding)
    low = _int_text(figures.get("recommended_min_size")) or "<min>"
    high = _int_text(figures.get("recommended_max_size")) or "<max>"
    config = json.dumps(TARGET_TRACKING, separators=(",", ":"))
    region = _region_flag(finding)
    return Remediation(
        change=f"Scale Auto Scaling group {name} with target tracking at 70% CPU ({low}-{high})",
        cli=(
            f"aws autoscaling put-scaling-policy --auto-scaling-group-name {_q(name)} "
            f"--policy-name cpu-target-70 --policy-type TargetTrackingScaling "
            f"--target-tracking-configuration {_q(config)}{region}"
            + AND
            + f"aws autoscaling update-auto-scaling-group --auto-scaling-group-name {_q(name)} "
            f"--min-size {low} --max-size {high}{region}"
        ),
        terraform=(
            'aws_autoscaling_policy.policy_type = "TargetTrackingScaling" '
            f"(target_value = 70); aws_autoscaling_group.min_size = {low}"
        ),
        console_url=_console(finding, "ec2", "AutoScalingGroupDetails:id=" + quote(name, safe="")),
    )


def _lower_minimum(finding: Finding) -> Remediation:
    name = _name(finding)
    low = _int_text(_figures(finding).get("recommended_min_size")) or "<min>"
    return Remediation(
        change=f"Lower Auto Scaling group {name}'s minimum to {low}",
        cli=(
            f"aws autoscaling update-auto-scaling-group --auto-scaling-group-name {_q(name)} "
            f"--min-size {low}{_region_flag(finding)}"
        ),
        terraform=f"aws_autoscaling_group.min_size = {low}",
        console_url=_console(finding, "ec2", "AutoScalingGroupDetails:id=" + quote(name, safe="")),
    )


def _scale_out(finding: Finding) -> Remediation:
    name = _name(finding)
    figures = _figures(finding)
    now = figures.get("instances_mean")
    extra = figures.get("extra_instances")
    if isinstance(now, (int, float)) and isinstance(extra, (int, float)):
        size = _int_text(round(now) + extra) or "<capacity>"
    else:
        size = "<capacity>"
    return Remediation(
        change=f"Scale Auto Scaling group {name} out to {size} instances",
        cli=(
            f"aws autoscaling update-auto-scaling-group --auto-scaling-group-name {_q(name)} "
            f"--desired-capacity {size} --max-size {size}{_region_flag(finding)}"
        ),
        terraform=f"aws_autoscaling_group.desired_capacity = {size}",
        console_url=_console(finding, "ec2", "AutoScalingGroupDetails:id=" + quote(name, safe="")),
    )


def _slow_service(finding: Finding) -> Remediation:
    figures = _figures(finding)
    group = figures.get("group")
    if isinstance(group, str) and group and figures.get("extra_instances") is not None:
        sizes = {
            "instances_mean": figures.get("group_instances"),
            "extra_instances": figures.get("extra_instances"),
        }
        fix = _scale_out({**finding, "resource_name": group, "evidence": sizes})
        return Remediation(
            change=f"{fix.change} (behind {_name(finding)})",
            cli=fix.cli,
            terraform=fix.terraform,
            console_url=fix.console_url,
        )
    return Remediation(
        change=f"Find the slow dependency behind {_name(finding)} and cache it (or add a CDN)",
        console_url=_console(finding, "ec2", "LoadBalancers:"),
        note=_text(finding.get("recommendation")) or None,
    )


def _fargate_task(finding: Finding) -> Remediation:
    arn = _text(finding.get("resource_id"))
    parts = arn.split("/")
    cluster = parts[-2] if len(parts) >= 3 else "<cluster>"
    service = _name(finding)
    figures = _figures(finding)
    cpu = _int_text(figures.get("new_cpu_units")) or "<cpu>"
    memory = _int_text(figures.get("new_memory_mb")) or "<memory>"
    region = _region(finding) or "us-east-1"
    r = quote(region, safe="")
    return Remediation(
        change=f"Run ECS service {service} with {cpu} CPU units and {memory} MiB tasks",
        cli=(
            f"# register a revision of the task definition with cpu {cpu} and memory {memory}"
            + "\n"
            + f"aws ecs update-service --cluster {_q(cluster)} --service {_q(service)} "
            f"--task-definition <family:new-revision>{_region_flag(finding)}"
        ),
        terraform=(
            f'aws_ecs_task_definition.cpu = "{cpu}"; aws_ecs_task_definition.memory = "{memory}"'
        ),
        console_url=(
            f"https://{r}.{AWS_CONSOLE}/ecs/v2/clusters/{quote(cluster, safe='')}/services/"
            f"{quote(service, safe='')}?region={r}"
        ),
    )


def _fargate_spot(finding: Finding) -> Remediation:
    arn = _text(finding.get("resource_id"))
    parts = arn.split("/")
    cluster = parts[-2] if len(parts) >= 3 else "<cluster>"
    service = _name(finding)
    strategy = "capacityProvider=FARGATE,base=1,weight=0 capacityProvider=FARGATE_SPOT,weight=1"
    region = _region(finding) or "us-east-1"
    r = quote(region, safe="")
    return Remediation(
        change=f"Run ECS service {service} mostly on Fargate Spot (one task on Fargate)",
        cli=(
            f"aws ecs update-service --cluster {_q(cluster)} --service {_q(service)} "
            f"--capacity-provider-strategy {strategy} --force-new-deployment"
            f"{_region_flag(finding)}"
        ),
        terraform=(
            'aws_ecs_service.capacity_provider_strategy { capacity_provider = "FARGATE_SPOT" }'
        ),
        console_url=(
            f"https://{r}.{AWS_CONSOLE}/ecs/v2/clusters/{quote(cluster, safe='')}/services/"
            f"{quote(service, safe='')}?region={r}"
        ),
        note="Only for services that tolerate a two-minute interruption notice.",
    )


def _review_aws_advice(finding: Finding) -> Remediation:
    return Remediation(
        change=f"Review AWS Compute Optimizer's advice for {_name(finding)}",
        console_url=_console(finding, "compute-optimizer", "/dashboard"),
        note=_text(finding.get("detail")) or None,
    )


def builders() -> dict[str, Callable[[Finding], Remediation]]:
    found: dict[str, Builder] = {
        "rightsizing.lambda-memory": _lambda_memory,
        "rightsizing.lambda-arm64": _lambda_arm64,
        "rightsizing.fleet-demand-matching": _target_tracking,
        "rightsizing.fleet-high-minimum": _lower_minimum,
        "rightsizing.fleet-bottleneck": _scale_out,
        "rightsizing.load-balancer-bottleneck": _slow_service,
        "rightsizing.fargate-task": _fargate_task,
        "commitments.fargate-spot": _fargate_spot,
        "rightsizing.aws-compute-optimizer": _review_aws_advice,
    }
    return found
