"""Demand-matching collectors against moto in server mode: Auto Scaling groups with their
policies, group and load balancer series, and Lambda functions with their figures."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import polars as pl
import pytest

from costscan.demo.account import metric_client
from costscan.providers.aws import AwsProvider
from costscan.providers.aws.permissions import IAM_ACTIONS, iam_action
from costscan.providers.interface import ScanRequest
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import RunContext
from tests.moto_server import RecordingMotoServer
from tests.read_only import CallRecorder, request_is_read

NOW = datetime(2025, 6, 4, 10, 30, tzinfo=UTC)
HOUR_END = datetime(2025, 6, 4, 10, 0, tzinfo=UTC)
LOOKBACK_DAYS = 2
REGION = "us-east-1"


def _client(service: str, endpoint_url: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint_url)


def _hours() -> list[datetime]:
    start = HOUR_END - timedelta(days=LOOKBACK_DAYS)
    return [start + timedelta(hours=h) for h in range(LOOKBACK_DAYS * 24)]


def _put(cw: Any, namespace: str, name: str, dims: dict[str, str], values: list[float]) -> None:
    datums = [
        {
            "MetricName": name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            "Timestamp": ts,
            "Value": value,
        }
        for ts, value in zip(_hours(), values, strict=True)
    ]
    for first in range(0, len(datums), 500):
        cw.put_metric_data(Namespace=namespace, MetricData=datums[first : first + 500])


def _lambda(endpoint_url: str, name: str, memory: int, architecture: str) -> None:
    iam = _client("iam", endpoint_url)
    try:
        role = iam.get_role(RoleName="fn")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("handler.py", "def handle(event, context):\n    return event\n")
    _client("lambda", endpoint_url).create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handle",
        Code={"ZipFile": package.getvalue()},
        MemorySize=memory,
        Architectures=[architecture],
        Timeout=30,
    )


def _group(endpoint_url: str) -> tuple[str, str]:
    """A fixed group of 3 m5.large behind an ALB; (group name, ALB ARN)."""
    ec2 = _client("ec2", endpoint_url)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    elbv2 = _client("elbv2", endpoint_url)
    alb = elbv2.create_load_balancer(Name="web", Subnets=subnets, Type="application")
    alb_arn = alb["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elbv2.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)
    tg_arn = tg["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(
        LoadBalancerArn=alb_arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}],
    )
    asg = _client("autoscaling", endpoint_url)
    asg.create_launch_configuration(
        LaunchConfigurationName="web", ImageId="ami-12345678", InstanceType="m5.large"
    )
    asg.create_auto_scaling_group(
        AutoScalingGroupName="web",
        LaunchConfigurationName="web",
        MinSize=3,
        MaxSize=3,
        DesiredCapacity=3,
        VPCZoneIdentifier=",".join(subnets),
        TargetGroupARNs=[tg_arn],
    )
    asg.create_auto_scaling_group(
        AutoScalingGroupName="tracked",
        LaunchConfigurationName="web",
        MinSize=1,
        MaxSize=4,
        DesiredCapacity=1,
        VPCZoneIdentifier=",".join(subnets),
    )
    asg.put_scaling_policy(
        AutoScalingGroupName="tracked",
        PolicyName="cpu70",
        PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration={
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
            "TargetValue": 70.0,
        },
    )
    return "web", alb_arn


def _service(endpoint_url: str) -> str:
    """A Fargate service of 4 tasks of 2048 CPU units and 8 GiB; its ARN."""
    ec2 = _client("ec2", endpoint_url)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="api", Description="api", VpcId=vpc)["GroupId"]
    ecs = _client("ecs", endpoint_url)
    ecs.create_cluster(clusterName="main")
    ecs.register_task_definition(
        family="api",
        cpu="2048",
        memory="8192",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        containerDefinitions=[{"name": "api", "image": "api:1", "essential": True}],
        runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
    )
    answer = ecs.create_service(
        cluster="main",
        serviceName="api",
        taskDefinition="api",
        desiredCount=4,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}
        },
    )
    return str(answer["service"]["serviceArn"])


@pytest.fixture
def seeded(moto: RecordingMotoServer) -> dict[str, str]:
    endpoint_url = moto.endpoint_url
    group, alb_arn = _group(endpoint_url)
    _lambda(endpoint_url, "resize-images", 2048, "x86_64")
    _lambda(endpoint_url, "quiet", 512, "arm64")
    cw = metric_client(endpoint_url, REGION)
    hours = _hours()
    _put(cw, "AWS/EC2", "CPUUtilization", {"AutoScalingGroupName": group}, [55.0] * len(hours))
    # Group metrics collection on: in-service capacity is read hour by hour.
    _client("autoscaling", endpoint_url).enable_metrics_collection(
        AutoScalingGroupName=group, Granularity="1Minute", Metrics=["GroupInServiceInstances"]
    )
    in_service = {"AutoScalingGroupName": group}
    _put(cw, "AWS/AutoScaling", "GroupInServiceInstances", in_service, [3.0] * len(hours))
    lb_dim = {"LoadBalancer": alb_arn.split(":loadbalancer/", 1)[1]}
    _put(cw, "AWS/ApplicationELB", "TargetResponseTime", lb_dim, [0.6] * len(hours))
    _put(cw, "AWS/ApplicationELB", "RequestCount", lb_dim, [1000.0] * len(hours))
    _put(cw, "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", lb_dim, [40.0] * len(hours))
    _put(cw, "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", lb_dim, [20.0] * len(hours))
    fn = {"FunctionName": "resize-images"}
    _put(cw, "AWS/Lambda", "Invocations", fn, [100.0] * len(hours))
    _put(cw, "AWS/Lambda", "Duration", fn, [400.0] * len(hours))
    _put(
        cw,
        "LambdaInsights",
        "used_memory_max",
        {"function_name": "resize-images"},
        [250.0 if h % 2 else 300.0 for h in range(len(hours))],
    )
    service = _service(endpoint_url)
    insights = {"ClusterName": "main", "ServiceName": "api"}
    # 4 tasks × 2048 units reserved, 400 used (19.5%); 4 × 8192 MiB reserved, 6144 used (18.75%).
    _put(cw, "ECS/ContainerInsights", "CpuReserved", insights, [8192.0] * len(hours))
    _put(cw, "ECS/ContainerInsights", "CpuUtilized", insights, [1600.0] * len(hours))
    _put(cw, "ECS/ContainerInsights", "MemoryReserved", insights, [32768.0] * len(hours))
    _put(cw, "ECS/ContainerInsights", "MemoryUtilized", insights, [6144.0] * len(hours))
    moto.clear_log()
    return {"group": group, "alb": alb_arn, "service": service}


def test_fleets_functions_and_demand_series_are_collected_with_reads_only(
    moto: RecordingMotoServer, seeded: dict[str, str]
) -> None:
    recorder = CallRecorder()
    request = ScanRequest(
        context=RunContext(now=NOW, lookback_days=LOOKBACK_DAYS),
        regions=(REGION,),
        endpoint_url=moto.endpoint_url,
    )
    inv = AwsProvider(max_attempts=1, hooks=[recorder.hook]).collect(request)
    assert inv.errors == []
    assert inv.rejections == []

    fleets = {r["resource_id"]: r for r in inv.frame("fleets").to_dicts()}
    assert inv.frame("fleets").schema == pl.Schema(schema.FLEETS)
    web, tracked = fleets["web"], fleets["tracked"]
    assert (web["min_size"], web["max_size"], web["desired_capacity"]) == (3, 3, 3)
    assert web["instances"] == 3 and web["instance_type"] == "m5.large"
    assert web["target_tracking"] is False and web["scheduled_actions"] == 0
    assert web["load_balancers"] == seeded["alb"]
    # m5.large in us-east-1, the bundled on-demand price.
    assert web["hourly_price"] == pytest.approx(0.096)
    assert tracked["target_tracking"] is True
    assert tracked["scaling_policies"] == "TargetTrackingScaling"

    series = inv.frame("utilization")
    group_cpu = series.filter((pl.col("resource_id") == "web") & (pl.col("metric") == "cpu"))
    assert group_cpu.height == LOOKBACK_DAYS * 24
    assert set(group_cpu["value"]) == {55.0}
    capacity = series.filter(pl.col("metric") == "capacity")
    assert set(capacity["resource_id"]) == {"web"}  # only the group that collects it
    assert capacity.height == LOOKBACK_DAYS * 24 and set(capacity["value"]) == {3.0}
    latency = series.filter(
        (pl.col("resource_id") == seeded["alb"])
        & (pl.col("metric") == "latency")
        & (pl.col("statistic") == "average")
    )
    assert latency.height == LOOKBACK_DAYS * 24
    assert latency["value"].to_list() == pytest.approx([600.0] * latency.height)  # s -> ms
    errors = series.filter(
        (pl.col("resource_id") == seeded["alb"]) & (pl.col("metric") == "errors_5xx")
    )
    assert set(errors["value"]) == {60.0}  # target and ELB 5XX, added

    functions = {r["resource_name"]: r for r in inv.frame("functions").to_dicts()}
    big, quiet = functions["resize-images"], functions["quiet"]
    assert big["memory_mb"] == 2048 and big["architecture"] == "x86_64"
    assert big["invocations"] == 100.0 * 48
    assert big["duration_ms_sum"] == 400.0 * 48
    assert big["memory_used_mb_max"] == 300.0
    assert big["memory_source"] == "lambda_insights"
    assert big["price_gb_second"] == pytest.approx(0.0000166667)
    assert big["lookback_hours"] == 48.0
    # Not invoked: zero invocations, memory unknown.
    assert quiet["invocations"] == 0.0 and quiet["memory_used_mb_max"] is None
    assert quiet["price_gb_second"] == pytest.approx(0.0000133334)

    (service,) = inv.frame("services").to_dicts()
    assert service["resource_id"] == seeded["service"]
    assert (service["cluster"], service["launch_type"]) == ("main", "FARGATE")
    assert (service["task_cpu_units"], service["task_memory_mb"]) == (2048.0, 8192.0)
    assert service["desired_count"] == 4 and service["architecture"] == "X86_64"
    assert service["cpu_p95"] == pytest.approx(1600 / 8192 * 100)
    assert service["memory_max"] == pytest.approx(6144 / 32768 * 100)
    assert service["metric_hours"] == LOOKBACK_DAYS * 24
    assert service["price_vcpu_hour"] == pytest.approx(0.04048)

    sent = moto.operations()
    assert [r for r in sent if not request_is_read(r)] == []
    assert not any(r.operation == "GetMetricStatistics" for r in sent)
    # Every call the scan made is in the documented least-privilege policy.
    assert {iam_action(service, op) for service, op in recorder.calls} <= set(IAM_ACTIONS)
    assert sum(r.operation == "DescribeAutoScalingGroups" for r in sent) == 1


def _scan(moto: RecordingMotoServer) -> Any:
    request = ScanRequest(
        context=RunContext(now=NOW, lookback_days=LOOKBACK_DAYS),
        regions=(REGION,),
        endpoint_url=moto.endpoint_url,
    )
    return AwsProvider(max_attempts=1).collect(request)


def test_compute_optimizer_advice_is_read_beside_the_resources_it_names(
    moto: RecordingMotoServer, seeded: dict[str, str]
) -> None:
    function_arn = "arn:aws:lambda:us-east-1:123456789012:function:resize-images"
    saving = {"estimatedMonthlySavings": {"currency": "USD", "value": 4.25}}
    moto.gaps.answer(
        "compute-optimizer",
        "GetLambdaFunctionRecommendations",
        {
            "lambdaFunctionRecommendations": [
                {
                    "functionArn": f"{function_arn}:$LATEST",
                    "accountId": "123456789012",
                    "currentMemorySize": 2048,
                    "finding": "NotOptimized",
                    "memorySizeRecommendationOptions": [
                        {"rank": 2, "memorySize": 768},
                        {"rank": 1, "memorySize": 512, "savingsOpportunityAfterDiscounts": saving},
                    ],
                }
            ]
        },
    )
    moto.gaps.answer(
        "compute-optimizer",
        "GetECSServiceRecommendations",
        {
            "ecsServiceRecommendations": [
                {
                    "serviceArn": seeded["service"],
                    "accountId": "123456789012",
                    "finding": "Overprovisioned",
                    "currentServiceConfiguration": {"cpu": 2048, "memory": 8192},
                    "serviceRecommendationOptions": [{"cpu": 1024, "memory": 4096}],
                }
            ]
        },
    )
    inv = _scan(moto)
    assert inv.errors == []
    advice = {r["recommender"]: r for r in inv.frame("provider_advice").to_dicts()}
    lam = advice["aws.compute-optimizer.lambda"]
    # The version is dropped, so the advice meets the function ListFunctions names.
    assert lam["resource_id"] == function_arn
    assert (lam["target"], lam["monthly_savings"], lam["currency"]) == ("512 MB", 4.25, "USD")
    ecs = advice["aws.compute-optimizer.ecs-service"]
    assert ecs["resource_id"] == seeded["service"] and ecs["monthly_savings"] is None
    assert ecs["target"] == "1024 CPU units, 4096 MiB"
    assert ("compute-optimizer", "GetAutoScalingGroupRecommendations") in moto.gaps.operations()


def test_an_account_not_opted_in_to_compute_optimizer_has_no_advice_and_no_error(
    moto: RecordingMotoServer, seeded: dict[str, str]
) -> None:
    for operation in (
        "GetLambdaFunctionRecommendations",
        "GetAutoScalingGroupRecommendations",
        "GetECSServiceRecommendations",
    ):
        moto.gaps.fail("compute-optimizer", operation, status=400, code="OptInRequiredException")
    inv = _scan(moto)
    assert inv.errors == []
    # The frame also holds Cost Optimization Hub's coverage row (another recommender).
    advice = inv.frame("provider_advice")
    assert advice.filter(pl.col("recommender").str.starts_with("aws.compute-optimizer")).height == 0
    assert inv.frame("functions").height == 2  # the rest of the scan is whole


def test_a_failed_compute_optimizer_read_withholds_no_finding() -> None:
    from costscan.providers.aws.scan import collector_error
    from costscan.scanner.app.catalog import all_policies
    from costscan.scanner.pipeline import gaps

    failed = collector_error("computeoptimizer.lambda", "123456789012", REGION, "AccessDenied")
    assert gaps.rules_for([failed], all_policies()) == []
