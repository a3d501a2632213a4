"""GetMetricData calls per region for the AWS provider, against one call per resource.

Runs moto in server mode with 1,000 instances in each of two regions and no datapoints
(moto answers empty series quickly), scans them with the real provider, and counts the
GetMetricData calls each region made with a botocore hook. The per-resource approach
(Cloud Custodian's metrics filter) makes one statistics call per instance and metric:
4 per instance for the series fetched here (CPU average, CPU maximum, network in and
network out), so 1 call per series.

Target (issue 2): at most ceil(8 x instances / 500) GetMetricData calls per region.

The same run holds 100 RDS DB instances per region (issue 16): their AWS/RDS series
(``providers/aws/databases.RDS_SERIES``, 11 per database) go through the same batched path,
counted apart by namespace. Target: at most ceil(database series / 500) calls per region.

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
DATABASES_PER_REGION = 100
RDS_NAMESPACE = "AWS/RDS"


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
            rds = boto3.client("rds", region_name=region, endpoint_url=url)
            for i in range(DATABASES_PER_REGION):
                rds.create_db_instance(
                    DBInstanceIdentifier=f"bench-db-{i}",
                    DBInstanceClass="db.m5.large",
                    Engine="postgres",
                    AllocatedStorage=20,
                    MasterUsername="bench",
                    MasterUserPassword="bench-password",
                )

        calls: Counter[str] = Counter()
        queries: Counter[str] = Counter()
        largest: Counter[str] = Counter()
        db_calls: Counter[str] = Counter()
        db_queries: Counter[str] = Counter()
        db_largest: Counter[str] = Counter()

        def count(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            region = context["client_region"]
            size = len(params["MetricDataQueries"])
            spaces = {q["MetricStat"]["Metric"]["Namespace"] for q in params["MetricDataQueries"]}
            if spaces == {RDS_NAMESPACE}:
                db_calls[region] += 1
                db_queries[region] += size
                db_largest[region] = max(db_largest[region], size)
                return
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
    databases = inventory.frame("databases")
    print(
        f"\n{'region':<11} {'databases':>9} {'series':>7} {'GetMetricData':>13} "
        f"{'largest call':>12} {'per-resource':>12} {'ratio':>7} {'target':>6}  met"
    )
    print("-" * len(header))
    for region in REGIONS:
        held = databases.filter(databases["region"] == region).height
        target = math.ceil(db_queries[region] / 500)
        met = held > 0 and 0 < db_calls[region] <= target and db_largest[region] <= 500
        all_met = all_met and met
        ratio = db_queries[region] / db_calls[region] if db_calls[region] else float("nan")
        print(
            f"{region:<11} {held:>9} {db_queries[region]:>7} {db_calls[region]:>13} "
            f"{db_largest[region]:>12} {db_queries[region]:>12} {ratio:>6.0f}x {target:>6}  "
            f"{'yes' if met else 'NO'}"
        )
    print(
        f"\nfull scan of {compute.height} instances and {databases.height} databases in "
        f"{elapsed:.1f}s; errors: {inventory.errors}"
    )
    return 0 if all_met else 1


if __name__ == "__main__":
    raise SystemExit(main())
