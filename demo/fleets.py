"""Demo seeding for demand matching (issue 17), in the first demo region:

- ``report-render-asg``: six m5.xlarge held at a fixed size (MinSize = MaxSize = 6, no
  scaling policy) while the group's CPU follows a daily cycle: 47-53% from 08:00 to
  19:59 UTC, 7-11% the rest of the day. Target tracking at 70% would run 5 instances in
  the busy hours (ceil(6 × 53 / 70) = 5 at the top of the band, ceil(6 × 47 / 70) = 5 at
  the bottom) and the floor of 2 in the quiet ones (ceil(6 × 11 / 70) = 1): 12 × 1 + 12 × 4
  = 60 surplus instance-hours a day, 2.5 instances on average, 2.5 × $0.192 × 730 =
  $350.40 a month before the account's discounts.
- ``checkout-alb`` in front of ``checkout-asg`` (three m5.large, CPU flat around 40%):
  target response time around 650 ms and 6.7% 5XX, over both alert lines while its
  targets are not CPU-bound: a bottleneck whose remedy is the caching layer.
- ``pdf-export``: a Fargate service of three tasks of 4 vCPU and 16 GiB whose Container
  Insights show 12-16% of the CPU and 20% of the memory in use: 1 vCPU and 4 GiB hold
  its p95 CPU at 70% and its memory with 20% headroom.
- ``thumbnailer``: a Lambda function with 3,008 MB on x86_64 whose Lambda Insights
  ``used_memory_max`` stays under 420 MB, invoked 3,000 times an hour for 1.2 s each.

AWS Compute Optimizer (which moto lacks) answers through the demo's local layer, in its
documented shapes: it advises on the function, the Fargate service and the fixed group
(each finding shows its figure beside costscan's), and on ``web-stateless-asg``, which no
demand policy flags (listed for review).

Group and load balancer series are published under their own dimensions (the group's
members publish nothing themselves, so no instance policy sees them). Everything here is
a seeded fact of the demo's moto account, deterministic from ``DEMO_SEED``.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from costscan.demo.account import DEMO_AMI, DEMO_SEED, LOOKBACK_DAYS, metric_client

DEMAND_GROUP = "report-render-asg"
DEMAND_GROUP_TYPE = "m5.xlarge"
DEMAND_GROUP_SIZE = 6
SLOW_BALANCER = "checkout-alb"
SLOW_GROUP = "checkout-asg"
SLOW_GROUP_TYPE = "m5.large"
SLOW_GROUP_SIZE = 3
OVERSIZED_FUNCTION = "thumbnailer"
FUNCTION_MEMORY_MB = 3008
INVOCATIONS_PER_HOUR = 3000
DURATION_MS = 1200.0
FARGATE_SERVICE = "pdf-export"
FARGATE_CPU_UNITS = 4096
FARGATE_MEMORY_MB = 16384
FARGATE_TASKS = 3
# Instances the groups here run (the seed's instance count does not include them).
SEEDED_INSTANCES = DEMAND_GROUP_SIZE + SLOW_GROUP_SIZE


def _busy(hour: int) -> bool:
    return 8 <= hour < 20


def seed_fleets(endpoint_url: str, now: datetime, regions: Sequence[str]) -> None:
    """Seed the demand-matching cases into the moto account at ``endpoint_url``."""
    import boto3

    region = regions[0] if regions else "us-east-1"
    rng = random.Random(DEMO_SEED + 17)
    moment = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC)
    end = moment.replace(minute=0, second=0, microsecond=0)
    hours = [end - timedelta(hours=LOOKBACK_DAYS * 24 - h) for h in range(LOOKBACK_DAYS * 24)]

    ec2 = boto3.client("ec2", region_name=region, endpoint_url=endpoint_url)
    vpc = ec2.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.70.{i}.0/24", AvailabilityZone=f"{region}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    autoscaling = boto3.client("autoscaling", region_name=region, endpoint_url=endpoint_url)
    elbv2 = boto3.client("elbv2", region_name=region, endpoint_url=endpoint_url)
    cloudwatch = metric_client(endpoint_url, region)

    # The fixed group with a daily cycle.
    _group(autoscaling, DEMAND_GROUP, DEMAND_GROUP_TYPE, DEMAND_GROUP_SIZE, subnets, [])
    cpu = [rng.uniform(47.0, 53.0) if _busy(ts.hour) else rng.uniform(7.0, 11.0) for ts in hours]
    _put(
        cloudwatch, "AWS/EC2", "CPUUtilization", {"AutoScalingGroupName": DEMAND_GROUP}, hours, cpu
    )

    # The slow, erroring service and the group behind it.
    alb = elbv2.create_load_balancer(Name=SLOW_BALANCER, Subnets=subnets, Type="application")
    alb_arn = alb["LoadBalancers"][0]["LoadBalancerArn"]
    target_group = elbv2.create_target_group(
        Name=f"{SLOW_GROUP}-tg", Protocol="HTTP", Port=80, VpcId=vpc
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(
        LoadBalancerArn=alb_arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}],
    )
    _group(autoscaling, SLOW_GROUP, SLOW_GROUP_TYPE, SLOW_GROUP_SIZE, subnets, [target_group])
    flat = [rng.uniform(36.0, 44.0) for _ in hours]
    _put(cloudwatch, "AWS/EC2", "CPUUtilization", {"AutoScalingGroupName": SLOW_GROUP}, hours, flat)
    lb = {"LoadBalancer": alb_arn.split(":loadbalancer/", 1)[1]}
    latency = [rng.uniform(0.57, 0.73) for _ in hours]
    _put(cloudwatch, "AWS/ApplicationELB", "TargetResponseTime", lb, hours, latency)
    _put(cloudwatch, "AWS/ApplicationELB", "RequestCount", lb, hours, [1200.0] * len(hours))
    _put(
        cloudwatch,
        "AWS/ApplicationELB",
        "HTTPCode_Target_5XX_Count",
        lb,
        hours,
        [70.0] * len(hours),
    )
    _put(cloudwatch, "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", lb, hours, [10.0] * len(hours))

    # The over-sized Fargate service.
    _fargate_service(
        boto3.client("ecs", region_name=region, endpoint_url=endpoint_url), ec2, vpc, subnets
    )
    insights = {"ClusterName": "batch", "ServiceName": FARGATE_SERVICE}
    cpu_reserved = float(FARGATE_CPU_UNITS * FARGATE_TASKS)
    memory_reserved = float(FARGATE_MEMORY_MB * FARGATE_TASKS)
    _put(
        cloudwatch,
        "ECS/ContainerInsights",
        "CpuReserved",
        insights,
        hours,
        [cpu_reserved] * len(hours),
    )
    cpu_used = [cpu_reserved * rng.uniform(0.12, 0.16) for _ in hours]
    _put(cloudwatch, "ECS/ContainerInsights", "CpuUtilized", insights, hours, cpu_used)
    _put(
        cloudwatch,
        "ECS/ContainerInsights",
        "MemoryReserved",
        insights,
        hours,
        [memory_reserved] * len(hours),
    )
    memory_used = [memory_reserved * 0.20] * len(hours)
    _put(cloudwatch, "ECS/ContainerInsights", "MemoryUtilized", insights, hours, memory_used)

    # The over-sized Lambda function.
    _function(
        boto3.client("lambda", region_name=region, endpoint_url=endpoint_url), endpoint_url, region
    )
    fn = {"FunctionName": OVERSIZED_FUNCTION}
    _put(
        cloudwatch,
        "AWS/Lambda",
        "Invocations",
        fn,
        hours,
        [float(INVOCATIONS_PER_HOUR)] * len(hours),
    )
    _put_set(
        cloudwatch,
        "AWS/Lambda",
        "Duration",
        fn,
        hours,
        [
            {
                "SampleCount": float(INVOCATIONS_PER_HOUR),
                "Sum": INVOCATIONS_PER_HOUR * DURATION_MS,
                "Minimum": 800.0,
                "Maximum": 2600.0,
            }
            for _ in hours
        ],
    )
    _advise(endpoint_url, region, alb_arn.split(":")[4])

    used = [rng.uniform(360.0, 420.0) for _ in hours]
    _put(
        cloudwatch,
        "LambdaInsights",
        "used_memory_max",
        {"function_name": OVERSIZED_FUNCTION},
        hours,
        used,
    )


def _advise(endpoint_url: str, region: str, account_id: str) -> None:
    """Compute Optimizer's advice, answered by the demo server's local layer (when it runs
    in this process)."""
    from costscan.demo.account import ASG_NAME, gaps_for
    from costscan.demo.cost_hub import advise_cost_hub

    gaps = gaps_for(endpoint_url)
    if gaps is None:
        return

    def saving(value: float) -> dict[str, Any]:
        return {"estimatedMonthlySavings": {"currency": "USD", "value": value}}

    arn = f"arn:aws:lambda:{region}:{account_id}:function:{OVERSIZED_FUNCTION}"
    gaps.answer(
        "compute-optimizer",
        "GetLambdaFunctionRecommendations",
        {
            "lambdaFunctionRecommendations": [
                {
                    "functionArn": f"{arn}:$LATEST",
                    "accountId": account_id,
                    "currentMemorySize": FUNCTION_MEMORY_MB,
                    "finding": "NotOptimized",
                    "lookbackPeriodInDays": 14.0,
                    "memorySizeRecommendationOptions": [
                        {"rank": 1, "memorySize": 1024, "savingsOpportunity": saving(34.9)}
                    ],
                }
            ]
        },
        region=region,
    )
    service = f"arn:aws:ecs:{region}:{account_id}:service/batch/{FARGATE_SERVICE}"
    gaps.answer(
        "compute-optimizer",
        "GetECSServiceRecommendations",
        {
            "ecsServiceRecommendations": [
                {
                    "serviceArn": service,
                    "accountId": account_id,
                    "finding": "Overprovisioned",
                    "currentServiceConfiguration": {
                        "cpu": FARGATE_CPU_UNITS,
                        "memory": FARGATE_MEMORY_MB,
                    },
                    "serviceRecommendationOptions": [
                        {"cpu": 1024, "memory": 6144, "savingsOpportunity": saving(361.5)}
                    ],
                }
            ]
        },
        region=region,
    )
    gaps.answer(
        "compute-optimizer",
        "GetAutoScalingGroupRecommendations",
        {
            "autoScalingGroupRecommendations": [
                {
                    "accountId": account_id,
                    "autoScalingGroupName": DEMAND_GROUP,
                    "finding": "Overprovisioned",
                    "currentConfiguration": {"instanceType": DEMAND_GROUP_TYPE},
                    "recommendationOptions": [
                        {
                            "rank": 1,
                            "configuration": {"instanceType": "m6g.large"},
                            "savingsOpportunity": saving(420.48),
                        }
                    ],
                },
                {
                    "accountId": account_id,
                    "autoScalingGroupName": ASG_NAME,
                    "finding": "Overprovisioned",
                    "currentConfiguration": {"instanceType": "m5.large"},
                    "recommendationOptions": [
                        {
                            "rank": 1,
                            "configuration": {"instanceType": "t3.large"},
                            "savingsOpportunity": saving(38.54),
                        }
                    ],
                },
            ]
        },
        region=region,
    )
    # Cost Optimization Hub: the same function, and a Savings Plan costscan has no finding for.
    advise_cost_hub(gaps, region, account_id, OVERSIZED_FUNCTION, FUNCTION_MEMORY_MB)


def _group(
    autoscaling: Any,
    name: str,
    instance_type: str,
    size: int,
    subnets: list[str],
    targets: list[str],
) -> None:
    autoscaling.create_launch_configuration(
        LaunchConfigurationName=f"{name}-lc", ImageId=DEMO_AMI, InstanceType=instance_type
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchConfigurationName=f"{name}-lc",
        MinSize=size,
        MaxSize=size,
        DesiredCapacity=size,
        VPCZoneIdentifier=",".join(subnets),
        TargetGroupARNs=targets,
    )


def _fargate_service(ecs: Any, ec2: Any, vpc: str, subnets: list[str]) -> None:
    group = ec2.create_security_group(
        GroupName=f"{FARGATE_SERVICE}-sg", Description="pdf export tasks", VpcId=vpc
    )["GroupId"]
    ecs.create_cluster(clusterName="batch")
    ecs.register_task_definition(
        family=FARGATE_SERVICE,
        cpu=str(FARGATE_CPU_UNITS),
        memory=str(FARGATE_MEMORY_MB),
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        containerDefinitions=[{"name": "export", "image": "pdf-export:7", "essential": True}],
        runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
    )
    ecs.create_service(
        cluster="batch",
        serviceName=FARGATE_SERVICE,
        taskDefinition=FARGATE_SERVICE,
        desiredCount=FARGATE_TASKS,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}
        },
    )


def _function(client: Any, endpoint_url: str, region: str) -> None:
    import boto3

    iam = boto3.client("iam", region_name=region, endpoint_url=endpoint_url)
    role = iam.create_role(RoleName=f"{OVERSIZED_FUNCTION}-role", AssumeRolePolicyDocument="{}")[
        "Role"
    ]["Arn"]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("handler.py", "def handle(event, context):\n    return event\n")
    client.create_function(
        FunctionName=OVERSIZED_FUNCTION,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handle",
        Code={"ZipFile": package.getvalue()},
        MemorySize=FUNCTION_MEMORY_MB,
        Architectures=["x86_64"],
        Timeout=30,
    )


def _put(
    cloudwatch: Any,
    namespace: str,
    name: str,
    dims: dict[str, str],
    hours: list[datetime],
    values: list[float],
) -> None:
    data = [
        {"MetricName": name, "Dimensions": _dims(dims), "Timestamp": ts, "Value": value}
        for ts, value in zip(hours, values, strict=True)
    ]
    _send(cloudwatch, namespace, data)


def _put_set(
    cloudwatch: Any,
    namespace: str,
    name: str,
    dims: dict[str, str],
    hours: list[datetime],
    sets: list[dict[str, float]],
) -> None:
    data = [
        {"MetricName": name, "Dimensions": _dims(dims), "Timestamp": ts, "StatisticValues": s}
        for ts, s in zip(hours, sets, strict=True)
    ]
    _send(cloudwatch, namespace, data)


def _dims(dims: dict[str, str]) -> list[dict[str, str]]:
    return [{"Name": k, "Value": v} for k, v in dims.items()]


def _send(cloudwatch: Any, namespace: str, data: list[dict[str, Any]]) -> None:
    # PutMetricData takes at most 1,000 datums a call.
    for first in range(0, len(data), 1000):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[first : first + 1000])
