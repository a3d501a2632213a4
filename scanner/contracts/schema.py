"""Every frame's schema, in one place, and the validator providers call at their boundary.

A provider fills the frames its cloud has; an empty frame with the right schema is valid.
Policies read these frames and return frames in ``FINDINGS``; nothing else crosses a
boundary, so a change of column here is a change of contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from costscan.scanner.contracts.errors import SchemaError
from costscan.scanner.contracts.vocab import Action, Family, Performance, PriceSource, Risk

Schema = Mapping[str, pl.DataType]

UTC_TS = pl.Datetime("us", "UTC")

# Every resource frame starts with these, in this order.
IDENTITY: dict[str, pl.DataType] = {
    "provider": pl.String(),
    "account_id": pl.String(),
    "region": pl.String(),
    "resource_id": pl.String(),
    "resource_name": pl.String(),
    "resource_type": pl.String(),
}
IDENTITY_COLUMNS: tuple[str, ...] = tuple(IDENTITY)


def _with_identity(extra: dict[str, pl.DataType]) -> dict[str, pl.DataType]:
    return {**IDENTITY, **extra}


COMPUTE: Schema = _with_identity(
    {
        "instance_type": pl.String(),
        "vcpus": pl.Float64(),
        "memory_gib": pl.Float64(),
        "state": pl.String(),  # running | stopped | ...
        "lifecycle": pl.String(),  # on-demand | spot | reserved
        "launch_time": UTC_TS,
        "group": pl.String(),  # ASG / MIG / scale set name, null when standalone
        "platform": pl.String(),  # linux | windows
        "architecture": pl.String(),  # x86_64 | arm64
        "hourly_price": pl.Float64(),  # list (or billed) on-demand price, USD/h
        "price_source": pl.String(),  # billing | live | bundled | none
    }
)

# One row per resource, metric, statistic and hour, so policies see daily and weekly shape.
UTILIZATION: Schema = {
    "resource_id": pl.String(),
    # cpu | memory | network_in | network_out | disk_ops (IOPS) | disk_throughput (MiB/s)
    "metric": pl.String(),
    "statistic": pl.String(),  # average | maximum | sum (network: bytes in the hour)
    "ts": UTC_TS,
    "value": pl.Float64(),  # percent for cpu/memory, bytes per hour for network
}

TAGS: Schema = {
    "resource_id": pl.String(),
    "key": pl.String(),
    "value": pl.String(),
}

VOLUMES: Schema = _with_identity(
    {
        "volume_type": pl.String(),
        "size_gb": pl.Float64(),
        "iops": pl.Float64(),
        "throughput": pl.Float64(),  # MB/s
        "attached_to": pl.String(),
        "attached_state": pl.String(),  # state of the attached instance
        "attached_stopped_since": UTC_TS,
        "state": pl.String(),
        "created": UTC_TS,
        "monthly_price": pl.Float64(),
        "price_source": pl.String(),
        # Unit list prices (USD) for the volume's region, so storage policies can price
        # the alternatives (gp3, io2, a snapshot) without reaching a price catalogue.
        "price_storage_gb_month": pl.Float64(),  # this volume's type
        "price_iops_month": pl.Float64(),  # this volume's type, first tier; 0 when none
        "price_gp3_gb_month": pl.Float64(),
        "price_gp3_iops_month": pl.Float64(),  # above the included 3,000
        "price_gp3_throughput_month": pl.Float64(),  # per MB/s above the included 125
        "price_io2_gb_month": pl.Float64(),
        "price_io2_iops_tier1_month": pl.Float64(),  # up to 32,000 IOPS
        "price_io2_iops_tier2_month": pl.Float64(),  # 32,001 to 64,000
        "price_io2_iops_tier3_month": pl.Float64(),  # above 64,000
        "price_snapshot_gb_month": pl.Float64(),
        "price_region": pl.String(),  # region whose prices were used (fallback shows here)
        "price_reference": pl.String(),
        # Compute Engine: pd-balanced per GB-month, the pd-ssd disk's cheaper alternative.
        "price_pd_balanced_gb_month": pl.Float64(),
    }
)

SNAPSHOTS: Schema = _with_identity(
    {
        "size_gb": pl.Float64(),
        "created": UTC_TS,
        "source_volume": pl.String(),
        "source_exists": pl.Boolean(),
        "monthly_price": pl.Float64(),
        "price_source": pl.String(),
        "used_by_image": pl.Boolean(),  # an AMI the account owns references it
        "image_ids": pl.String(),  # comma-separated AMI ids, null when none
        "storage_tier": pl.String(),  # standard | archive
        "price_gb_month": pl.Float64(),
        "price_region": pl.String(),
        "price_reference": pl.String(),
    }
)

BUCKETS: Schema = _with_identity(
    {
        "storage_class": pl.String(),
        "bytes": pl.Float64(),
        "objects": pl.Float64(),
        "has_lifecycle": pl.Boolean(),
        "lifecycle_summary": pl.String(),
        "intelligent_tiering": pl.Boolean(),  # null: the configuration could not be read
        "incomplete_uploads": pl.Int64(),
        "objects_all_classes": pl.Float64(),  # NumberOfObjects, AllStorageTypes
        "metrics_date": UTC_TS,  # the daily datapoint bytes and objects come from
        "lifecycle_rules": pl.Int64(),  # enabled rules
        "lifecycle_transitions": pl.Boolean(),  # an enabled rule moves or expires current data
        "lifecycle_aborts_uploads": pl.Boolean(),  # AbortIncompleteMultipartUpload present
        "incomplete_upload_bytes": pl.Float64(),  # sum of uploaded parts (ListParts)
        "incomplete_upload_oldest": UTC_TS,
        "price_gb_month": pl.Float64(),  # this row's storage class
        "price_standard_gb_month": pl.Float64(),
        "price_standard_ia_gb_month": pl.Float64(),
        "price_intelligent_tiering_ia_gb_month": pl.Float64(),  # its Infrequent Access tier
        "price_intelligent_tiering_monitoring_per_1000": pl.Float64(),  # objects a month
        "price_transition_per_1000": pl.Float64(),  # lifecycle transition requests
        "price_region": pl.String(),
        "price_reference": pl.String(),
    }
)

LOG_GROUPS: Schema = _with_identity(
    {
        "retention_days": pl.Int64(),  # null = never expire
        "stored_bytes": pl.Float64(),
        "ingested_bytes_30d": pl.Float64(),
        # Appended for observability policies (issue 3).
        "created": UTC_TS,
        "log_class": pl.String(),  # STANDARD | INFREQUENT_ACCESS
        # Cloud Logging: a locked bucket's retention cannot be shortened.
        "retention_locked": pl.Boolean(),
        "ingestion_price_per_gb": pl.Float64(),  # USD per GB ingested
        "storage_price_per_gb_month": pl.Float64(),  # USD per GB-month archived (compressed)
        "price_region": pl.String(),  # region whose price was used (fallback: us-east-1)
        "price_source": pl.String(),
        "price_reference": pl.String(),
    }
)

METRIC_SERIES: Schema = _with_identity(
    {
        "namespace": pl.String(),
        "metric_name": pl.String(),
        "custom": pl.Boolean(),
        "series_count": pl.Int64(),
        "dimension_cardinality": pl.List(
            pl.Struct({"key": pl.String(), "distinct_values": pl.Int64()})
        ),
        # Appended for observability policies (issue 3): the region's custom-metric price
        # tiers (USD per metric-month from the first_metric-th metric on), and their source.
        "price_tiers": pl.List(pl.Struct({"first_metric": pl.Int64(), "price": pl.Float64()})),
        "price_region": pl.String(),
        "price_source": pl.String(),
        "price_reference": pl.String(),
    }
)

TRANSFER: Schema = _with_identity(
    {
        "source_resource": pl.String(),
        "destination": pl.String(),  # internet | inter_region | inter_az | cdn
        "month": pl.Date(),
        "gb": pl.Float64(),
        "cost": pl.Float64(),
        "usage_type": pl.String(),  # the billing usage type (USE1-DataTransfer-Out-Bytes ...)
        "service": pl.String(),  # the billed service (Cost Explorer SERVICE)
        "days": pl.Int64(),  # days of usage the row covers (a month, or month to date)
    }
)

DISTRIBUTIONS: Schema = _with_identity(
    {
        "requests": pl.Float64(),
        "bytes_out": pl.Float64(),
        "cache_hit_rate": pl.Float64(),
        "compress": pl.Boolean(),
        "price_class": pl.String(),
        "enabled": pl.Boolean(),
        "origins": pl.String(),  # origin domain names, comma-separated
        "uncompressed_behaviors": pl.Int64(),  # cache behaviours with Compress off
    }
)

NETWORK_IDLE: Schema = _with_identity(
    {
        "kind": pl.String(),  # elastic_ip | nat_gateway | load_balancer
        "attached": pl.Boolean(),
        "processed_gb": pl.Float64(),
        "hourly_price": pl.Float64(),
        "price_source": pl.String(),
        "subtype": pl.String(),  # load balancer: application | network | gateway | classic
        "vpc_id": pl.String(),
        "created": UTC_TS,
        "requests": pl.Float64(),  # LB requests (NLB: new flows) over the lookback
        "healthy_targets": pl.Int64(),
        "registered_targets": pl.Int64(),
        "bytes_out_to_destination_gb": pl.Float64(),  # NAT: toward the destination
        "data_price_per_gb": pl.Float64(),  # NAT data processing, USD/GB
        "has_s3_endpoint": pl.Boolean(),  # the VPC has an S3 gateway endpoint
        "has_dynamodb_endpoint": pl.Boolean(),
        "price_reference": pl.String(),
        "price_region": pl.String(),  # region whose prices were used (fallback shows here)
    }
)

COMMITMENTS: Schema = _with_identity(
    {
        "kind": pl.String(),  # ri | savings_plan | cud | reservation
        "family": pl.String(),
        "term": pl.String(),
        "utilization": pl.Float64(),
        "coverage": pl.Float64(),
        "expires": UTC_TS,
        "monthly_commitment": pl.Float64(),
        # Appended for commitments (providers/aws/commitments.py documents each row kind).
        # Money is USD per month (Cost Explorer figures scaled from their window to 730 h);
        # hours are instance-hours per month.
        "source": pl.String(),  # ec2 | savingsplans | cost_explorer: who said it
        "covered_by": pl.String(),  # coverage rows: ri | savings_plan
        "instance_type": pl.String(),
        "instance_count": pl.Float64(),
        "state": pl.String(),  # active | payment-pending | retired ...
        "start": UTC_TS,
        "offering_class": pl.String(),  # RI standard | convertible; SP Compute | EC2Instance
        "payment_option": pl.String(),  # No Upfront | Partial Upfront | All Upfront
        "upfront_cost": pl.Float64(),  # paid once at purchase
        "on_demand_equivalent": pl.Float64(),  # on-demand cost of the usage it covered
        "covered_hours": pl.Float64(),
        "on_demand_hours": pl.Float64(),
        "covered_cost": pl.Float64(),  # spend covered (savings plans coverage)
        "on_demand_cost": pl.Float64(),  # spend left on demand
        "period_start": UTC_TS,  # the Cost Explorer window the figures come from
        "period_end": UTC_TS,
        "scope": pl.String(),  # RI: Region | Availability Zone
        "platform": pl.String(),  # RI: Linux/UNIX, Windows ... (ProductDescription)
    }
)

# Demand matching (issue 17; providers/aws/fleets.py and serverless.py). Hourly series of
# these resources go to ``utilization`` under their own resource ids: an Auto Scaling
# group's ``cpu`` (group average) and ``capacity`` (in-service instances), a load
# balancer's ``latency`` (ms), ``requests`` and ``errors_5xx``.
FLEETS: Schema = _with_identity(
    {
        "min_size": pl.Int64(),
        "max_size": pl.Int64(),
        "desired_capacity": pl.Int64(),
        "instances": pl.Int64(),  # in service now
        "instance_type": pl.String(),  # the members' most common type
        "instance_types": pl.String(),  # every member type, comma-separated
        "mixed_instances": pl.Boolean(),  # a mixed instances policy
        "spot_share": pl.Float64(),  # members on spot, 0..1
        "scaling_policies": pl.String(),  # PolicyType of each policy, comma-separated
        "target_tracking": pl.Boolean(),
        "step_scaling": pl.Boolean(),  # step or simple scaling
        "predictive_scaling": pl.Boolean(),
        "scheduled_actions": pl.Int64(),
        "target_groups": pl.String(),  # target group ARNs, comma-separated
        "load_balancers": pl.String(),  # the load balancers in front, comma-separated ARNs
        "hourly_price": pl.Float64(),  # one on-demand member, USD/h (members' mean)
        "price_source": pl.String(),
        "price_reference": pl.String(),
    }
)

FUNCTIONS: Schema = _with_identity(
    {
        "runtime": pl.String(),
        "architecture": pl.String(),  # x86_64 | arm64
        "memory_mb": pl.Float64(),
        "timeout_seconds": pl.Float64(),
        "package_type": pl.String(),  # Zip | Image
        "provisioned_concurrency": pl.Float64(),  # allocated, all aliases; null: unknown
        # Over the lookback (CloudWatch AWS/Lambda; null: the metrics could not be read).
        "lookback_hours": pl.Float64(),
        "invocations": pl.Float64(),
        "duration_ms_sum": pl.Float64(),
        "duration_ms_max": pl.Float64(),
        "errors": pl.Float64(),
        "throttles": pl.Float64(),
        "concurrent_max": pl.Float64(),
        "provisioned_utilization_max": pl.Float64(),  # 0..1
        # Lambda Insights used_memory_max (MB); null: no memory data.
        "memory_used_mb_max": pl.Float64(),
        "memory_source": pl.String(),  # lambda_insights | none
        "price_gb_second": pl.Float64(),  # on-demand duration, this architecture
        "price_gb_second_x86_64": pl.Float64(),
        "price_gb_second_arm64": pl.Float64(),
        "price_per_million_requests": pl.Float64(),
        "price_provisioned_gb_second": pl.Float64(),  # provisioned concurrency, allocated
        "price_region": pl.String(),
        "price_source": pl.String(),
        "price_reference": pl.String(),
    }
)

SERVICES: Schema = _with_identity(
    {
        "cluster": pl.String(),
        "launch_type": pl.String(),  # FARGATE | EC2 | EXTERNAL
        "capacity_providers": pl.String(),  # FARGATE, FARGATE_SPOT ..., comma-separated
        "task_definition": pl.String(),
        "task_cpu_units": pl.Float64(),  # 1024 = 1 vCPU
        "task_memory_mb": pl.Float64(),
        "architecture": pl.String(),  # X86_64 | ARM64
        "desired_count": pl.Int64(),
        "running_count": pl.Int64(),
        # Container Insights over the lookback, percent of the task's reservation; null: off.
        "cpu_p95": pl.Float64(),
        "cpu_max": pl.Float64(),
        "memory_p95": pl.Float64(),
        "memory_max": pl.Float64(),
        "metric_hours": pl.Float64(),
        "price_vcpu_hour": pl.Float64(),
        "price_gb_hour": pl.Float64(),
        "price_spot_vcpu_hour": pl.Float64(),
        "price_spot_gb_hour": pl.Float64(),
        "price_region": pl.String(),
        "price_source": pl.String(),
        "price_reference": pl.String(),
    }
)

# One row per RDS DB instance (Aurora cluster members included), with the unit list prices
# its policies need, so the database policies price every alternative from the same
# catalogue as the current cost (providers/pricing/aws_data.py fills them; null: unpriced).
DATABASES: Schema = _with_identity(
    {
        "engine": pl.String(),  # mysql | postgres | mariadb | aurora-mysql | aurora-postgresql ...
        "engine_version": pl.String(),
        "instance_class": pl.String(),  # db.m5.large
        "vcpus": pl.Float64(),
        "memory_gib": pl.Float64(),
        "status": pl.String(),  # available | stopped | ...
        "multi_az": pl.Boolean(),
        "storage_type": pl.String(),  # gp2 | gp3 | io1 | io2 | standard | aurora
        "allocated_gb": pl.Float64(),
        "iops": pl.Float64(),  # provisioned IOPS (io1/io2, gp3 above its baseline); null: none
        "cluster_id": pl.String(),  # Aurora: the DB cluster it belongs to
        "replica_of": pl.String(),  # a read replica's source instance
        "read_replicas": pl.Int64(),  # read replicas of this instance
        "created": UTC_TS,
        # Monthly list cost: instance hours (× 2 Multi-AZ) + storage + IOPS + Extended Support.
        "monthly_price": pl.Float64(),
        "hourly_price": pl.Float64(),  # one instance (Single-AZ), on demand, USD/h
        "storage_monthly": pl.Float64(),  # storage and provisioned IOPS, both AZs
        "price_storage_gb_month": pl.Float64(),  # this storage type, Single-AZ
        "price_iops_month": pl.Float64(),  # this storage type's provisioned IOPS; 0 when none
        "price_gp3_gb_month": pl.Float64(),
        "price_gp3_iops_month": pl.Float64(),  # gp3 IOPS above its included baseline
        "price_snapshot_gb_month": pl.Float64(),  # manual snapshot (backup) storage
        "smaller_class": pl.String(),  # the next size down in the class family, priced
        "smaller_hourly_price": pl.Float64(),
        "larger_class": pl.String(),  # the next size up
        "larger_hourly_price": pl.Float64(),
        "larger_vcpus": pl.Float64(),
        "graviton_class": pl.String(),  # the same size on Graviton: db.m5.large -> db.m6g.large
        "graviton_hourly_price": pl.Float64(),
        # A cache in front of the database (the seed's caching layer): a node type and its
        # hourly price, two nodes (primary and replica) for availability.
        "cache_node_type": pl.String(),
        "cache_node_hourly_price": pl.Float64(),
        # The latest end of the active reserved DB instances of its region, engine and class
        # family (size-flexible), null when none: its instance hours are prepaid until then.
        "reserved_until": UTC_TS,
        "extended_support": pl.Boolean(),  # the major version is past standard support
        "standard_support_end": pl.Date(),
        "extended_support_vcpu_hour": pl.Float64(),  # its rate at the run's date, USD
        "price_source": pl.String(),  # bundled | none
        "price_region": pl.String(),
        "price_reference": pl.String(),
    }
)

# One row per ElastiCache cluster (a Memcached cluster, or one Redis/Valkey node group
# member cluster), priced per node from providers/pricing/aws_data.py.
CACHES: Schema = _with_identity(
    {
        "engine": pl.String(),  # redis | valkey | memcached
        "engine_version": pl.String(),
        "node_type": pl.String(),  # cache.r6g.large
        "nodes": pl.Int64(),
        "vcpus": pl.Float64(),  # per node
        "memory_gib": pl.Float64(),  # per node
        "status": pl.String(),
        "replication_group": pl.String(),
        "created": UTC_TS,
        "hourly_price": pl.Float64(),  # one node, on demand, USD/h
        "monthly_price": pl.Float64(),  # nodes × hourly × 730
        "smaller_node_type": pl.String(),
        "smaller_hourly_price": pl.Float64(),
        "smaller_memory_gib": pl.Float64(),
        "larger_node_type": pl.String(),
        "larger_hourly_price": pl.Float64(),
        "larger_memory_gib": pl.Float64(),
        # The latest end of the active reserved nodes of its engine and node family, null
        # when none: its node hours are prepaid until then.
        "reserved_until": UTC_TS,
        "price_source": pl.String(),
        "price_region": pl.String(),
        "price_reference": pl.String(),
    }
)

# One row per DynamoDB table, with its capacity and storage prices in both table classes.
DYNAMODB_TABLES: Schema = _with_identity(
    {
        "billing_mode": pl.String(),  # PROVISIONED | PAY_PER_REQUEST
        "table_class": pl.String(),  # STANDARD | STANDARD_INFREQUENT_ACCESS
        "read_capacity": pl.Float64(),  # provisioned RCU, table and its global indexes
        "write_capacity": pl.Float64(),
        "autoscaling": pl.Boolean(),  # an Application Auto Scaling target is registered
        "storage_gb": pl.Float64(),  # TableSizeBytes / 2^30 (indexes included)
        "items": pl.Int64(),
        "status": pl.String(),
        "created": UTC_TS,
        "monthly_price": pl.Float64(),  # throughput (provisioned; on demand: consumed) + storage
        # Unit list prices, Standard (std) and Standard-IA (ia): USD per RCU-hour and
        # WCU-hour, per million read and write request units, per GB-month.
        "price_std_rcu_hour": pl.Float64(),
        "price_std_wcu_hour": pl.Float64(),
        "price_std_read_million": pl.Float64(),
        "price_std_write_million": pl.Float64(),
        "price_std_gb_month": pl.Float64(),
        "price_ia_rcu_hour": pl.Float64(),
        "price_ia_wcu_hour": pl.Float64(),
        "price_ia_read_million": pl.Float64(),
        "price_ia_write_million": pl.Float64(),
        "price_ia_gb_month": pl.Float64(),
        "price_source": pl.String(),
        "price_region": pl.String(),
        "price_reference": pl.String(),
    }
)

# One row per EFS file system, with its storage by class and its lifecycle.
FILE_SYSTEMS: Schema = _with_identity(
    {
        "throughput_mode": pl.String(),  # bursting | elastic | provisioned
        "provisioned_mibps": pl.Float64(),
        "standard_gb": pl.Float64(),
        "ia_gb": pl.Float64(),
        "archive_gb": pl.Float64(),
        "has_lifecycle": pl.Boolean(),  # a TransitionToIA policy is set
        "lifecycle_summary": pl.String(),  # the policies, as AWS names them
        "created": UTC_TS,
        "monthly_price": pl.Float64(),  # storage by class at its per-GB price
        "price_standard_gb_month": pl.Float64(),
        "price_ia_gb_month": pl.Float64(),
        "price_archive_gb_month": pl.Float64(),
        "price_tiering_gb": pl.Float64(),  # per GB moved to Infrequent Access
        "price_source": pl.String(),
        "price_region": pl.String(),
        "price_reference": pl.String(),
    }
)

# One row per OpenSearch Service domain: its data nodes, dedicated masters and EBS.
SEARCH_DOMAINS: Schema = _with_identity(
    {
        "engine_version": pl.String(),
        "instance_type": pl.String(),  # r6g.large.search
        "instance_count": pl.Int64(),
        "master_type": pl.String(),
        "master_count": pl.Int64(),
        "warm_type": pl.String(),  # UltraWarm nodes (unpriced)
        "warm_count": pl.Int64(),
        "volume_type": pl.String(),  # gp2 | gp3 | io1 | null (no EBS)
        "volume_gb": pl.Float64(),  # per data node
        "hourly_price": pl.Float64(),  # one data node
        "master_hourly_price": pl.Float64(),
        "larger_instance_type": pl.String(),  # the next size up in the family, priced
        "larger_hourly_price": pl.Float64(),
        "price_volume_gb_month": pl.Float64(),
        "price_gp3_gb_month": pl.Float64(),
        "monthly_price": pl.Float64(),  # (data + master nodes) × hourly × 730 + EBS
        "price_source": pl.String(),
        "price_region": pl.String(),
        "price_reference": pl.String(),
    }
)

# One row per Redshift provisioned cluster.
WAREHOUSES: Schema = _with_identity(
    {
        "node_type": pl.String(),
        "nodes": pl.Int64(),
        "status": pl.String(),  # available | paused | ...
        "created": UTC_TS,
        "hourly_price": pl.Float64(),  # one node, on demand
        "monthly_price": pl.Float64(),  # nodes × hourly × 730 (RA3 managed storage apart)
        "price_source": pl.String(),
        "price_region": pl.String(),
        "price_reference": pl.String(),
    }
)

# Instance type facts joined with a price, one row per type and region.
PRICES: Schema = {
    "provider": pl.String(),
    "region": pl.String(),
    "instance_type": pl.String(),
    "family": pl.String(),
    "size": pl.String(),
    "current_generation": pl.Boolean(),
    "vcpus": pl.Float64(),
    "memory_gib": pl.Float64(),
    "architecture": pl.String(),
    "burstable": pl.Boolean(),
    "hourly_price": pl.Float64(),
    "source": pl.String(),  # bundled | live (the findings' price_source vocabulary)
    "reference": pl.String(),  # where the figure comes from: a public URL or API name
    "as_of": pl.String(),  # ISO date the price was published or fetched
    # Facts a provider knows from its own catalogue; null: the compute policies derive them
    # from an AWS-style name (m5.xlarge: class m, generation 5, a "d" after the digit for
    # instance storage), which would misread n2-standard-8 or t2a-standard-4.
    "instance_class": pl.String(),  # shape of the workload: m / c / r; standard / highmem
    "generation": pl.Int64(),  # a move to a lower number is a move to an older generation
    "local_disk": pl.Boolean(),  # the type bundles instance storage (m5d, c3-standard-8-lssd)
}

# Observed spot prices; policies sanity-check them against on-demand.
SPOT_PRICES: Schema = {
    "provider": pl.String(),
    "region": pl.String(),
    "availability_zone": pl.String(),
    "instance_type": pl.String(),
    "hourly_price": pl.Float64(),
    "ts": UTC_TS,
}

# FOCUS 1.x columns as they are named by the specification.
BILLING: Schema = {
    "BilledCost": pl.Float64(),
    "EffectiveCost": pl.Float64(),
    "ListCost": pl.Float64(),
    "ContractedCost": pl.Float64(),
    "BillingAccountId": pl.String(),
    "SubAccountId": pl.String(),
    "ProviderName": pl.String(),
    "ServiceName": pl.String(),
    "ServiceCategory": pl.String(),
    "ResourceId": pl.String(),
    "ResourceName": pl.String(),
    "ResourceType": pl.String(),
    "RegionId": pl.String(),
    "ChargeCategory": pl.String(),
    "ChargeClass": pl.String(),
    "ChargePeriodStart": UTC_TS,
    "ChargePeriodEnd": UTC_TS,
    "BillingPeriodStart": UTC_TS,
    "BillingPeriodEnd": UTC_TS,
    "PricingCategory": pl.String(),
    "PricingQuantity": pl.Float64(),
    "PricingUnit": pl.String(),
    "ConsumedQuantity": pl.Float64(),
    "ConsumedUnit": pl.String(),
    "CommitmentDiscountId": pl.String(),
    "CommitmentDiscountType": pl.String(),
    "CommitmentDiscountCategory": pl.String(),
    "CommitmentDiscountStatus": pl.String(),
    "SkuId": pl.String(),
    "ChargeDescription": pl.String(),
    "Tags": pl.String(),
    "BillingCurrency": pl.String(),
}

# The billing line items reduced once per run (scanner/billing_rollup.py): one row per
# distinct tuple of these columns and UTC day of ChargePeriodStart. The billing policies,
# the spend block and the top resources read it instead of the line items. Descriptive
# columns (names, region, tags, description, SKU) almost always follow the resource, so
# keying on them costs few extra rows and lets every reader group by any of them.
BILLING_ROLLUP_KEYS: tuple[str, ...] = (
    "ResourceId",
    "SubAccountId",
    "BillingAccountId",
    "ProviderName",
    "ServiceName",
    "ServiceCategory",
    "ChargeCategory",
    "PricingCategory",
    "ConsumedUnit",
    "PricingUnit",
    "RegionId",
    "ResourceName",
    "ResourceType",
    "Tags",
    "ChargeDescription",
    "SkuId",
    # Money of two currencies never adds up: every sum over the rollup is per currency
    # (after any --fx conversion, converted rows say USD).
    "BillingCurrency",
)

BILLING_DAILY: Schema = {
    **{key: pl.String() for key in BILLING_ROLLUP_KEYS},
    # 64-bit fingerprint of the key tuple (the same for every day of it).
    "group_key": pl.UInt64(),
    # Whole days since 1970-01-01 UTC of ChargePeriodStart, and that day as a timestamp;
    # null for line items without a ChargePeriodStart.
    "day_index": pl.Int64(),
    "day": UTC_TS,
    # EffectiveCost, else BilledCost.
    "cost": pl.Float64(),
    "effective_cost": pl.Float64(),
    "billed_cost": pl.Float64(),
    # ConsumedQuantity, else PricingQuantity.
    "quantity": pl.Float64(),
    "line_items": pl.Int64(),
    "first_start": UTC_TS,
    "last_end": UTC_TS,
    # The longest ChargePeriodEnd - ChargePeriodStart.
    "period_length": pl.Duration("us"),
    # Bit h set: some line item starts on the hour h of that day.
    "hour_mask": pl.UInt32(),
    # The row's rank by first_start, then by its first line item's position in the
    # export: "the earliest charge" in one pass, ties in file order.
    "charge_order": pl.Int64(),
}

# The distinct ChargePeriodStart values the hour mask cannot hold (not on the hour, or
# null), per key tuple: rare, and kept apart so distinct charge periods stay exact.
BILLING_IRREGULAR_STARTS: Schema = {"group_key": pl.UInt64(), "ChargePeriodStart": UTC_TS}

# Line items that carry a CommitmentDiscountId, per commitment and status (Used, Unused,
# or none): what the commitment policies read instead of the line items.
BILLING_COMMITMENTS: Schema = {
    "CommitmentDiscountId": pl.String(),
    "CommitmentDiscountStatus": pl.String(),
    # The first non-null value in the export's order, as the line items give it.
    "CommitmentDiscountType": pl.String(),
    "CommitmentDiscountCategory": pl.String(),
    "ProviderName": pl.String(),
    "SubAccountId": pl.String(),
    "BillingAccountId": pl.String(),
    "RegionId": pl.String(),
    "BillingCurrency": pl.String(),
    "effective_cost": pl.Float64(),
    "line_items": pl.Int64(),
    "first_start": UTC_TS,
    "last_end": UTC_TS,
    # The row's rank by first_start, then commitment id and status.
    "charge_order": pl.Int64(),
}

# A cloud's own advice on a resource (GCP Recommender): the cross-check beside the findings
# (scanner/pipeline/provider_advice.py). One row per live recommendation.
PROVIDER_ADVICE: Schema = _with_identity(
    {
        "recommender": pl.String(),  # google.compute.instance.IdleResourceRecommender ...
        "recommendation": pl.String(),  # the recommendation's own name (its id)
        "subtype": pl.String(),
        "kind": pl.String(),  # stop | resize | delete | commit
        "description": pl.String(),
        "monthly_savings": pl.Float64(),  # the cloud's projection, per 730-hour month
        "currency": pl.String(),
        "target": pl.String(),  # a resize's machine type
        "priority": pl.String(),
        "state": pl.String(),
        "xor_group": pl.String(),  # recommendations that exclude each other
        "refreshed": UTC_TS,
    }
)

FRAMES: dict[str, Schema] = {
    "compute": COMPUTE,
    "utilization": UTILIZATION,
    "tags": TAGS,
    "volumes": VOLUMES,
    "snapshots": SNAPSHOTS,
    "buckets": BUCKETS,
    "log_groups": LOG_GROUPS,
    "metric_series": METRIC_SERIES,
    "transfer": TRANSFER,
    "distributions": DISTRIBUTIONS,
    "network_idle": NETWORK_IDLE,
    "fleets": FLEETS,
    "functions": FUNCTIONS,
    "services": SERVICES,
    "commitments": COMMITMENTS,
    "databases": DATABASES,
    "caches": CACHES,
    "dynamodb_tables": DYNAMODB_TABLES,
    "file_systems": FILE_SYSTEMS,
    "search_domains": SEARCH_DOMAINS,
    "warehouses": WAREHOUSES,
    "provider_advice": PROVIDER_ADVICE,
    "prices": PRICES,
    "spot_prices": SPOT_PRICES,
    "billing": BILLING,
}

# Columns that must be present and non-null for a row to be usable at all.
REQUIRED_NON_NULL: dict[str, tuple[str, ...]] = {
    "utilization": ("resource_id", "metric", "statistic", "ts", "value"),
    "tags": ("resource_id", "key"),
    "prices": ("region", "instance_type", "hourly_price"),
    "spot_prices": ("region", "instance_type", "hourly_price"),
}
for _name, _schema in FRAMES.items():
    if "resource_id" in _schema and _name not in REQUIRED_NON_NULL:
        REQUIRED_NON_NULL[_name] = ("resource_id",)

# The vocabularies (scanner/contracts/vocab.py) as plain strings, in their order.
RISKS: tuple[str, ...] = tuple(r.value for r in Risk)
PERFORMANCE: tuple[str, ...] = tuple(p.value for p in Performance)
PRICE_SOURCES: tuple[str, ...] = tuple(s.value for s in PriceSource)
FAMILIES: tuple[str, ...] = tuple(f.value for f in Family)

ACTIONS: tuple[str, ...] = tuple(a.value for a in Action)

FINDINGS: Schema = _with_identity(
    {
        "finding_id": pl.String(),
        "policy_id": pl.String(),
        "family": pl.String(),
        "action": pl.String(),
        # savings | cost_avoidance | waste | possible | deferred | investment | review
        # (vocab.Category): which total the finding's money belongs to.
        "category": pl.String(),
        "title": pl.String(),
        "detail": pl.String(),
        "recommendation": pl.String(),
        "current_monthly_cost": pl.Float64(),
        # The same change priced at list (on-demand) rates, before the account's discounts.
        "monthly_savings_before_discounts": pl.Float64(),
        # What next month's bill drops, after the account's discounts (RIs, savings plans,
        # billed effective cost). Never above the figure before discounts.
        "monthly_savings": pl.Float64(),
        # The part that starts later (a commitment covering the resource bills until it
        # ends), from ``savings_start``.
        "deferred_monthly_savings": pl.Float64(),
        "savings_start": pl.Date(),
        "added_monthly_cost": pl.Float64(),
        "upfront_cost": pl.Float64(),
        "effort_hours": pl.Float64(),
        # What the change takes, from one table (vocab.CHANGES, after Cost Optimization Hub).
        "effort_level": pl.String(),
        "restart_needed": pl.Boolean(),
        "rollback_possible": pl.Boolean(),
        "risk": pl.String(),
        "performance": pl.String(),
        # What an investment buys, as a share (0.4: 40% faster, or 40% less load per
        # unit); investments are ranked by it per added dollar.
        "performance_gain": pl.Float64(),
        "confidence": pl.Float64(),
        "price_source": pl.String(),
        # The unit the finding acts on (a volume's instance; null: the resource itself):
        # removing the unit excludes every other finding on it (reports/ranking.py).
        "exclusive_group": pl.String(),
        # The commitment scope whose uncovered usage absorbs what a covered resource frees
        # ("ri|account|region|family", "sp|account"), and that usage's monthly on-demand
        # cost: savings on covered usage count only up to it, across findings.
        "commitment_scope": pl.String(),
        "scope_uncovered_monthly": pl.Float64(),
        # What the change takes out of that scope's covered usage a month: the saving for a
        # change inside it, the whole cost for a move to a family it does not cover.
        "scope_usage_removed_monthly": pl.Float64(),
        # Like changes (the same move on many resources of an account and region, one Auto
        # Scaling group) share a key; ranking folds them into one finding with one effort.
        "group_key": pl.String(),
        "evidence": pl.String(),  # JSON text of the figures the decision rests on
    }
)

# What ranking adds to findings.
RANKED: Schema = {
    **FINDINGS,
    "standalone_monthly_savings": pl.Float64(),
    "net_monthly_savings": pl.Float64(),
    "implementation_cost": pl.Float64(),
    "payback_months": pl.Float64(),
    "roi_12m": pl.Float64(),
    # Net monthly value per hour of effort, after the risk weight: what the order follows.
    "value_per_effort_hour": pl.Float64(),
    "priority": pl.String(),
    "priority_reason": pl.String(),
    "counted": pl.Boolean(),
    "alternative_to": pl.String(),
    # A grouped finding: how many findings it folds, and their resource ids (JSON list).
    "member_count": pl.Int64(),
    "members": pl.String(),
    "rank": pl.Int64(),
    # With --history: "new" this run or still "open", and for how many weekly runs.
    "status": pl.String(),
    "weeks_open": pl.Int64(),
}

# Findings a [[suppress]] entry in costscan.toml took out of the totals.
SUPPRESSED: Schema = {
    **RANKED,
    "suppress_rule": pl.String(),  # the entry's policy / resource globs, as written
    "suppress_reason": pl.String(),
    "suppress_owner": pl.String(),
    "suppress_expires": pl.Date(),
}

# A finding that was open last run and is gone now, as the history and the reports list it.
RESOLVED_KEYS: tuple[str, ...] = (
    "finding_id",
    "policy_id",
    "family",
    "resource_id",
    "resource_name",
    "title",
    "net_monthly_savings",
    "weeks_open",
)

# Columns a policy must produce itself; the registry fills in the rest from metadata.
POLICY_OUTPUT_COLUMNS: tuple[str, ...] = (
    *IDENTITY_COLUMNS,
    "detail",
    "recommendation",
    "current_monthly_cost",
    "monthly_savings",
    "confidence",
    "price_source",
    "evidence",
)


def empty(schema: Schema) -> pl.DataFrame:
    """An empty frame with ``schema``."""
    return pl.DataFrame(schema=dict(schema))


def empty_lazy(schema: Schema) -> pl.LazyFrame:
    return empty(schema).lazy()


@dataclass(frozen=True)
class Rejection:
    frame: str
    reason: str
    rows: int


@dataclass
class Validated:
    frame: pl.DataFrame
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def rejected_rows(self) -> int:
        return sum(r.rows for r in self.rejections)


def conform(name: str, df: pl.DataFrame) -> pl.DataFrame:
    """Order and cast ``df`` to frame ``name``'s schema, adding absent optional columns.

    Raises SchemaError when a cast cannot succeed: a provider bug, not bad cloud data.
    """
    schema = FRAMES.get(name)
    if schema is None:
        raise SchemaError(f"unknown frame {name!r}")
    return _conform(name, df, schema)


def _conform(name: str, df: pl.DataFrame, schema: Schema) -> pl.DataFrame:
    # Required columns cast leniently: a value that does not parse becomes null, and
    # ``validate`` counts and rejects its row. Every other column casts strictly, so a
    # value that does not fit is a provider bug that fails loudly, never a silent null.
    required = REQUIRED_NON_NULL.get(name, ())
    exprs = []
    for col, dtype in schema.items():
        if col in df.columns:
            exprs.append(pl.col(col).cast(dtype, strict=col not in required).alias(col))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(col))
    try:
        return df.select(exprs)
    except pl.exceptions.PolarsError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SchemaError(f"frame {name!r} does not fit its schema: {first}") from exc


def validate(name: str, df: pl.DataFrame) -> Validated:
    """Conform ``df`` to frame ``name`` and split off rows that cannot be used.

    Rows whose required columns are null (or whose values failed to cast to the
    column's type) are counted with a reason, never dropped silently.
    """
    schema = FRAMES.get(name)
    if schema is None:
        raise SchemaError(f"unknown frame {name!r}")
    conformed = _conform(name, df, schema)
    required = REQUIRED_NON_NULL.get(name, ())
    if not required or conformed.height == 0:
        return Validated(conformed)
    rejections = []
    bad_mask = pl.lit(False)
    for col in required:
        # A value present in the input but null after the cast did not parse.
        is_bad = pl.col(col).is_null()
        n_bad = conformed.select(is_bad.sum()).item()
        if n_bad:
            had_value = col in df.columns
            why = f"{col} is missing or not a valid {schema[col]}" if had_value else f"no {col}"
            rejections.append(Rejection(name, why, int(n_bad)))
        bad_mask = bad_mask | is_bad
    kept = conformed.filter(~bad_mask)
    return Validated(kept, rejections)


def conform_findings(df: pl.LazyFrame) -> pl.LazyFrame:
    """Select and cast findings to the findings schema, in order; a value that does not
    fit its column fails the plan (the registry has checked every policy's types)."""
    return df.select([pl.col(c).cast(t).alias(c) for c, t in FINDINGS.items()])
