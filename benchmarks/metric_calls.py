"""GetMetricData calls per region for the AWS provider, against one call per resource.

Runs moto in server mode with 1,000 instances in each of two regions and no datapoints
(moto answers empty series quickly), scans them with the real provider, and counts the
GetMetricData calls each region made with a botocore hook. The per-resource approach
(Cloud Custodian's metrics filter) makes one statistics call per instance and metric:
4 per instance for the series fetched here (CPU average, CPU maximum, network in and
network out), so 1 call per series.

Target (issue 2): at most ceil(8 x instances / 500) GetMetricData calls per region.

    python benchmarks/metric_calls.py
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

INSTANCES_PER_REGION = 1000
REGIONS = ("us-east-1", "eu-west-1")
BATCH = 250  # instances per RunInstances call while seeding


def main() -> int:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "benchmark",
        "AWS_SECRET_ACCESS_KEY": "benchmark",
        "AWS_DEFAULT_REGION": REGIONS[0],
    }.items():
        os.environ.setdefault(key, value)
    os.environ.pop("AWS_PROFILE", None)

    import boto3

    from costscan.demo.account import DEMO_AMI, start_demo_server
    from costscan.providers.aws import AwsProvider
    from costscan.providers.interface import ScanRequest
    from costscan.scanner.contracts.inventory import RunContext

    # moto's own GetMetricData: the counts must not depend on the demo's speed-up.
    server, url = start_demo_server(fast_cloudwatch=False)
    try:
        for region in REGIONS:
            ec2 = boto3.client("ec2", region_name=region, endpoint_url=url)
            for _ in range(INSTANCES_PER_REGION // BATCH):
                ec2.run_instances(
                    ImageId=DEMO_AMI, InstanceType="m5.large", MinCount=BATCH, MaxCount=BATCH
                )

        calls: Counter[str] = Counter()
        queries: Counter[str] = Counter()
        largest: Counter[str] = Counter()

        def count(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            region = context["client_region"]
            size = len(params["MetricDataQueries"])
            calls[region] += 1
            queries[region] += size
            largest[region] = max(largest[region], size)

        provider = AwsProvider(hooks=[("before-parameter-build.cloudwatch.GetMetricData", count)])
        started = time.perf_counter()
        inventory = provider.collect(
            ScanRequest(
                context=RunContext(now=datetime.now(UTC)),
                regions=REGIONS,
                endpoint_url=url,
            )
        )
        elapsed = time.perf_counter() - started
    finally:
        server.stop()

    compute = inventory.frame("compute")
    header = (
        f"{'region':<11} {'instances':>9} {'series':>7} {'GetMetricData':>13} "
        f"{'largest call':>12} {'per-resource':>12} {'ratio':>7} {'target':>6}  met"
    )
    print(header)
    print("-" * len(header))
    all_met = not inventory.errors
    for region in REGIONS:
        instances = compute.filter(compute["region"] == region).height
        per_resource = queries[region]  # one statistics call per instance and metric
        target = math.ceil(8 * instances / 500)
        met = 0 < calls[region] <= target and largest[region] <= 500
        all_met = all_met and met
        ratio = per_resource / calls[region] if calls[region] else float("nan")
        print(
            f"{region:<11} {instances:>9} {queries[region]:>7} {calls[region]:>13} "
            f"{largest[region]:>12} {per_resource:>12} {ratio:>6.0f}x {target:>6}  "
            f"{'yes' if met else 'NO'}"
        )
    print(
        f"\nfull scan of {compute.height} instances in {elapsed:.1f}s; errors: {inventory.errors}"
    )
    return 0 if all_met else 1


if __name__ == "__main__":
    raise SystemExit(main())
