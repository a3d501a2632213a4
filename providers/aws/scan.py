"""What one account-region scan holds: its clients, its inventory and its error list.

Every collector module (compute, storage, network, observability, commitments) takes a
``RegionScan`` and wraps each AWS call in ``attempt`` so that a failure costs only its own
data and becomes a ``CollectorError`` in the report. ``collected`` keeps each collector's
latest answer, so a later collector reuses what an earlier one fetched (the storage
collector reads the instances the EC2 collector described) instead of calling again.

Each collector is declared once in ``COLLECTORS``: a name saying what it measures (not the
API it calls: five collectors call GetMetricData), and the inventory frames and resource
types its failure leaves incomplete. A failure carries those, with the resources it
concerns where they are known, so the pipeline can withhold the policies that read the
lost data instead of letting them fire on part of it (scanner/pipeline/gaps.py), and the
history does not take what was not measured for resolved.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, TypeVar

import polars as pl

from costscan.providers.aws.deadline import CollectorTimeout, run_with_deadline
from costscan.providers.aws.session import ClientFactory
from costscan.providers.collectors import Collector, declared_error
from costscan.providers.interface import Progress, ScanRequest
from costscan.scanner.contracts.errors import CollectorError
from costscan.scanner.contracts.inventory import Inventory

T = TypeVar("T")

GLOBAL = "global"
MESSAGE_LIMIT = 300


_INSTANCE = ("ec2_instance",)
COLLECTORS: dict[str, Collector] = {
    # Accounts and prices
    "organizations.member_accounts": Collector("the organization's active accounts"),
    "sts.member_account_access": Collector("access to a member account through --org-role"),
    "pricing.live_ec2_prices": Collector("live EC2 prices (the bundled catalog is used)"),
    # Compute
    "ec2.instances": Collector("EC2 instances", ("compute", "tags", "utilization"), _INSTANCE),
    "ec2.instance_type_facts": Collector("instance type facts and prices", ("prices",), _INSTANCE),
    "autoscaling.group_membership": Collector(
        "Auto Scaling groups and the instances they own", ("fleets",), ("auto_scaling_group",)
    ),
    "ec2.spot_prices": Collector("spot prices", ("spot_prices",), _INSTANCE),
    "cloudwatch.memory_metric_list": Collector("which instances publish memory metrics"),
    "cloudwatch.instance_utilization": Collector(
        "instance CPU, memory and network utilization", ("utilization",), _INSTANCE
    ),
    # Storage
    "ec2.volume_attachment_states": Collector(
        "states of the instances volumes are attached to", ("volumes",), ("ebs_volume",)
    ),
    "ec2.volumes": Collector("EBS volumes", ("volumes",), ("ebs_volume",)),
    "ec2.snapshots": Collector("EBS snapshots", ("snapshots",), ("ebs_snapshot",)),
    "ec2.snapshot_images": Collector(
        "which snapshots back an AMI", ("snapshots",), ("ebs_snapshot",)
    ),
    "s3.buckets": Collector("S3 buckets", ("buckets",), ("s3_bucket",)),
    "s3.bucket_region": Collector("an S3 bucket's region", ("buckets",), ("s3_bucket",)),
    "s3.bucket_lifecycle": Collector(
        "an S3 bucket's lifecycle rules", ("buckets",), ("s3_bucket",)
    ),
    "s3.bucket_intelligent_tiering": Collector(
        "an S3 bucket's Intelligent-Tiering configurations", ("buckets",), ("s3_bucket",)
    ),
    "s3.incomplete_uploads": Collector(
        "an S3 bucket's incomplete multipart uploads", ("buckets",), ("s3_bucket",)
    ),
    "cloudwatch.s3_size_metric_list": Collector(
        "which S3 size metrics exist", ("buckets",), ("s3_bucket",)
    ),
    "cloudwatch.s3_sizes": Collector(
        "S3 bytes and objects per storage class", ("buckets",), ("s3_bucket",)
    ),
    # Network
    "ec2.elastic_ips": Collector("Elastic IP addresses", ("network_idle",), ("elastic_ip",)),
    "ec2.nat_gateways": Collector("NAT gateways", ("network_idle",), ("nat_gateway",)),
    "ec2.gateway_endpoints": Collector(
        "S3 and DynamoDB gateway endpoints", ("network_idle",), ("nat_gateway",)
    ),
    "elbv2.load_balancers": Collector("load balancers", ("network_idle",), ("load_balancer",)),
    "elbv2.target_health": Collector(
        "load balancer target health", ("network_idle",), ("load_balancer",)
    ),
    "cloudwatch.network_idle_traffic": Collector(
        "NAT gateway and load balancer traffic",
        ("network_idle",),
        ("nat_gateway", "load_balancer"),
    ),
    "cloudfront.distributions": Collector(
        "CloudFront distributions", ("distributions",), ("cloudfront_distribution",)
    ),
    "cloudfront.distribution_configs": Collector(
        "CloudFront distribution settings", ("distributions",), ("cloudfront_distribution",)
    ),
    "cloudwatch.cloudfront_traffic": Collector(
        "CloudFront requests and bytes", ("distributions",), ("cloudfront_distribution",)
    ),
    "ce.data_transfer": Collector(
        "data transfer by usage type", ("transfer",), ("data_transfer", "data_transfer_source")
    ),
    "ce.data_transfer_by_resource": Collector(
        "data transfer by resource", ("transfer",), ("data_transfer", "data_transfer_source")
    ),
    # Commitments
    "ec2.reserved_instances": Collector("reserved instances", ("commitments",)),
    "savingsplans.savings_plans": Collector("savings plans", ("commitments",)),
    "ce.reservation_utilization": Collector("reserved instance utilization", ("commitments",)),
    "ce.savings_plans_utilization": Collector("savings plan utilization", ("commitments",)),
    "ce.reservation_coverage": Collector("reserved instance coverage", ("commitments",)),
    "ce.savings_plans_coverage": Collector("savings plan coverage", ("commitments",)),
    # Databases
    "rds.db_instances": Collector("RDS and Aurora DB instances", ("databases",), ("rds_instance",)),
    "rds.reserved_db_instances": Collector(
        "reserved DB instances", ("databases",), ("rds_instance",)
    ),
    "elasticache.reserved_cache_nodes": Collector(
        "reserved cache nodes", ("caches",), ("elasticache_cluster",)
    ),
    "elasticache.cache_clusters": Collector(
        "ElastiCache clusters and their tags", ("caches",), ("elasticache_cluster",)
    ),
    "dynamodb.tables": Collector(
        "DynamoDB tables, their capacity and tags", ("dynamodb_tables",), ("dynamodb_table",)
    ),
    "application-autoscaling.dynamodb_targets": Collector(
        "which DynamoDB tables auto scale", ("dynamodb_tables",), ("dynamodb_table",)
    ),
    "efs.file_systems": Collector(
        "EFS file systems, their size by class and lifecycle",
        ("file_systems",),
        ("efs_file_system",),
    ),
    "opensearch.domains": Collector(
        "OpenSearch Service domains", ("search_domains",), ("opensearch_domain",)
    ),
    "redshift.clusters": Collector("Redshift clusters", ("warehouses",), ("redshift_cluster",)),
    "cloudwatch.data_service_utilization": Collector(
        "database, cache, table, search domain and warehouse utilization (CPU, connections, "
        "IOPS, latency, memory, hits, evictions, consumed capacity, throttles, JVM pressure)",
        ("utilization", "dynamodb_tables"),
        (
            "rds_instance",
            "elasticache_cluster",
            "dynamodb_table",
            "opensearch_domain",
            "redshift_cluster",
        ),
    ),
    # Observability
    "logs.log_groups": Collector("CloudWatch Logs log groups", ("log_groups",), ("log_group",)),
    "cloudwatch.log_ingestion": Collector(
        "log ingestion per log group", ("log_groups",), ("log_group",)
    ),
    "cloudwatch.metric_series": Collector(
        "custom metric series and dimensions", ("metric_series",), ("cloudwatch_metric",)
    ),
    # Demand matching (providers/aws/fleets.py, serverless.py)
    "autoscaling.scaling_policies": Collector(
        "Auto Scaling policies", ("fleets",), ("auto_scaling_group",)
    ),
    "autoscaling.scheduled_actions": Collector(
        "Auto Scaling scheduled actions", ("fleets",), ("auto_scaling_group",)
    ),
    "elbv2.target_group_owners": Collector(
        "the load balancers in front of Auto Scaling groups", ("fleets",), ("auto_scaling_group",)
    ),
    "cloudwatch.demand_series": Collector(
        "hourly Auto Scaling group CPU and capacity, load balancer latency and errors",
        ("utilization",),
        ("auto_scaling_group", "load_balancer"),
    ),
    "lambda.functions": Collector("Lambda functions", ("functions",), ("lambda_function",)),
    "cloudwatch.lambda_insights_list": Collector(
        "which Lambda functions publish Lambda Insights memory",
        ("functions",),
        ("lambda_function",),
    ),
    # AWS's advice is a cross-check beside the findings, not data a figure rests on: its
    # failure is reported but withholds nothing (no frames declared).
    "computeoptimizer.lambda": Collector("AWS Compute Optimizer's Lambda advice"),
    "computeoptimizer.auto_scaling_groups": Collector(
        "AWS Compute Optimizer's Auto Scaling group advice"
    ),
    "computeoptimizer.ecs_services": Collector("AWS Compute Optimizer's ECS service advice"),
    "costoptimizationhub.recommendations": Collector("AWS Cost Optimization Hub's advice"),
    "ecs.services": Collector("ECS services", ("services",), ("ecs_service",)),
    "ecs.task_definitions": Collector(
        "ECS task sizes (task definitions)", ("services",), ("ecs_service",)
    ),
    "cloudwatch.container_insights_list": Collector(
        "which ECS services publish Container Insights", ("services",), ("ecs_service",)
    ),
    "cloudwatch.container_utilization": Collector(
        "ECS service CPU and memory use (Container Insights)", ("services",), ("ecs_service",)
    ),
    "cloudwatch.lambda_metrics": Collector(
        "Lambda invocations, duration, errors and memory used", ("functions",), ("lambda_function",)
    ),
}


def collector_error(
    collector: str,
    account_id: str,
    region: str,
    message: str,
    resources: tuple[str, ...] = (),
) -> CollectorError:
    """A CollectorError carrying what the collector's declaration says its failure loses."""
    if collector not in COLLECTORS:
        raise KeyError(collector)
    return declared_error(COLLECTORS, collector, account_id, region, message, resources)


def one_line(exc: BaseException) -> str:
    """An exception as one short line (botocore messages can carry HTML bodies)."""
    text = re.sub(r"\s+", " ", str(exc)).strip() or type(exc).__name__
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


@dataclass(frozen=True)
class Account:
    account_id: str
    clients: ClientFactory


class SharedFacts:
    """Instance type facts (DescribeInstanceTypes) are AWS's public catalogue, the same in
    every account: across an organisation each region is asked once for each type, not
    once per account. The answer is the largest response a scan parses, so asking it per
    account-region made the fan-out CPU-bound (benchmarks/org_fanout.py)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._regions: dict[str, tuple[threading.Lock, list[pl.DataFrame], set[str]]] = {}

    def get(
        self, region: str, wanted: set[str], fetch: Callable[[set[str]], pl.DataFrame]
    ) -> pl.DataFrame:
        """Facts of ``wanted`` in ``region``; ``fetch`` asks for the types not asked yet."""
        with self._lock:
            lock, frames, asked = self._regions.setdefault(region, (threading.Lock(), [], set()))
        with lock:  # one fetch per region at a time; the others wait for its answer
            missing = wanted - asked
            if missing:
                frames.append(fetch(missing))
                asked.update(missing)
            known = pl.concat(frames, how="vertical") if frames else None
        if known is None:
            return fetch(set())
        return known.filter(pl.col("instance_type").is_in(sorted(wanted))).unique(
            "instance_type", keep="first", maintain_order=True
        )


class RegionScan:
    """What one account-region scan needs and collects."""

    def __init__(
        self,
        account: Account,
        region: str,
        request: ScanRequest,
        prices: pl.DataFrame,
        progress: Progress,
        *,
        home_region: str | None = None,
        facts: SharedFacts | None = None,
    ) -> None:
        self.account = account
        self.facts = facts or SharedFacts()
        self.region = region
        # Where global services are called from (region is "global" for account scans).
        self.home_region = home_region or region
        self.request = request
        self.prices = prices
        self.progress = progress
        self.inventory = Inventory(
            provider="aws",
            context=request.context,
            accounts=[account.account_id],
            regions=[] if region == GLOBAL else [region],
        )
        # Collector name -> its latest successful answer (a failed call leaves no entry).
        self.collected: dict[str, Any] = {}

    def client(self, service: str, region: str | None = None) -> Any:
        """A guarded client; an account scan's clients live in the home region."""
        where = region or (self.home_region if self.region == GLOBAL else self.region)
        return self.account.clients.client(service, where)

    def attempt(
        self,
        collector: str,
        call: Callable[[], T],
        *,
        resources: Collection[str] = (),
        region: str | None = None,
    ) -> T | None:
        """Run one collector within its deadline; a botocore failure or a missed deadline
        becomes a CollectorError naming what was lost (``resources``: the ids it concerns,
        where known; ``region``: where they are, for an account-wide scan), not a crash."""
        from botocore.exceptions import BotoCoreError, ClientError
        from botocore.parsers import ResponseParserError

        COLLECTORS[collector]  # an undeclared collector is a bug: fail every test at once
        where = region or self.region
        label = f"{self.account.account_id} {where}: {collector}"
        try:
            answer = run_with_deadline(
                call,
                self.request.collector_timeout,
                label=label,
                notice=lambda text: self.progress(text, 0),
            )
        # ResponseParserError is not a BotoCoreError: an endpoint answering HTML (a proxy,
        # an emulator lacking the API) must cost only this collector.
        except (ClientError, BotoCoreError, ResponseParserError, CollectorTimeout) as exc:
            self.inventory.errors.append(
                collector_error(
                    collector,
                    self.account.account_id,
                    where,
                    one_line(exc),
                    tuple(sorted(set(resources))),
                )
            )
            return None
        finally:
            self.progress(label, 1)
        self.collected[collector] = answer
        return answer
