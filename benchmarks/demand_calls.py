"""GetMetricData calls for the demand-matching collectors, against one call per series.

Runs moto in server mode with 400 Lambda functions, 40 Auto Scaling groups (one instance
each) and 20 application load balancers in one region, no datapoints (moto answers empty
series quickly), scans with the real provider and counts, with a botocore hook, the
GetMetricData calls and queries by collector (told apart by their namespaces). The
per-resource approach asks once per series: 6 per function (Invocations, Duration Sum and
Maximum, Errors, Throttles, ConcurrentExecutions), 1 per group (CPU; 2 with group metrics
collection) and 5 per load balancer.

Target (DESIGN.md): at most ceil(series / 500) GetMetricData calls per collector.

    python benchmarks/demand_calls.py
"""

from __future__ import annotations

import io
import math
import os
import sys
import time
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REGION = "us-east-1"
FUNCTIONS = 400
GROUPS = 40
BALANCERS = 20


def _seed(url: str) -> None:
    import boto3

    from costscan.demo.account import DEMO_AMI

    iam = boto3.client("iam", region_name=REGION, endpoint_url=url)
    role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("h.py", "def h(e, c):\n    return e\n")
    functions = boto3.client("lambda", region_name=REGION, endpoint_url=url)
    for i in range(FUNCTIONS):
        functions.create_function(
            FunctionName=f"fn-{i:04d}",
            Runtime="python3.12",
            Role=role,
            Handler="h.h",
            Code={"ZipFile": package.getvalue()},
            MemorySize=1024,
        )
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=url)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    elbv2 = boto3.client("elbv2", region_name=REGION, endpoint_url=url)
    for i in range(BALANCERS):
        elbv2.create_load_balancer(Name=f"alb-{i:03d}", Subnets=subnets, Type="application")
    autoscaling = boto3.client("autoscaling", region_name=REGION, endpoint_url=url)
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="bench", ImageId=DEMO_AMI, InstanceType="m5.large"
    )
    for i in range(GROUPS):
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=f"asg-{i:03d}",
            LaunchConfigurationName="bench",
            MinSize=1,
            MaxSize=1,
            DesiredCapacity=1,
            VPCZoneIdentifier=",".join(subnets),
        )


def main() -> int:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "benchmark",
        "AWS_SECRET_ACCESS_KEY": "benchmark",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        os.environ.setdefault(key, value)
    os.environ.pop("AWS_PROFILE", None)

    from costscan.demo.account import start_demo_server
    from costscan.providers.aws import AwsProvider
    from costscan.providers.interface import ScanRequest
    from costscan.scanner.contracts.inventory import RunContext

    server, url = start_demo_server(fast_cloudwatch=False)
    try:
        _seed(url)
        calls: Counter[str] = Counter()
        queries: Counter[str] = Counter()

        def collector(params: dict[str, Any]) -> str:
            spaces = {q["MetricStat"]["Metric"]["Namespace"] for q in params["MetricDataQueries"]}
            if spaces & {"AWS/Lambda", "LambdaInsights"}:
                return "lambda"
            metrics = [q["MetricStat"]["Metric"] for q in params["MetricDataQueries"]]
            # The network collector asks ALB RequestCount too; only the fleets collector
            # asks TargetResponseTime or per-group series.
            if any(
                m["MetricName"] == "TargetResponseTime"
                or any(d["Name"] == "AutoScalingGroupName" for d in m["Dimensions"])
                for m in metrics
            ):
                return "fleets and load balancers"
            return "other"

        def count(params: dict[str, Any], **_: Any) -> None:
            name = collector(params)
            calls[name] += 1
            queries[name] += len(params["MetricDataQueries"])

        provider = AwsProvider(hooks=[("before-parameter-build.cloudwatch.GetMetricData", count)])
        started = time.perf_counter()
        inventory = provider.collect(
            ScanRequest(
                context=RunContext(now=datetime.now(UTC)), regions=(REGION,), endpoint_url=url
            )
        )
        elapsed = time.perf_counter() - started
    finally:
        server.stop()

    expected = {"lambda": 6 * FUNCTIONS, "fleets and load balancers": GROUPS + 5 * BALANCERS}
    header = (
        f"{'collector':<26} {'series':>7} {'GetMetricData':>13} {'per-series':>10} "
        f"{'ratio':>6} {'target':>6}  met"
    )
    print(header)
    print("-" * len(header))
    all_met = not inventory.errors
    for name, series in expected.items():
        target = math.ceil(series / 500)
        met = queries[name] == series and 0 < calls[name] <= target
        all_met = all_met and met
        ratio = series / calls[name] if calls[name] else float("nan")
        print(
            f"{name:<26} {queries[name]:>7} {calls[name]:>13} {series:>10} {ratio:>5.0f}x "
            f"{target:>6}  {'yes' if met else 'NO'}"
        )
    print(
        f"\n{inventory.frame('functions').height} functions, {inventory.frame('fleets').height} "
        f"groups scanned in {elapsed:.1f}s; errors: {inventory.errors}"
    )
    return 0 if all_met else 1


if __name__ == "__main__":
    raise SystemExit(main())
