"""The vocabularies every part shares, one spelling each.

Each is a ``StrEnum``: its members are the strings that appear in frames and reports
(``Family.STORAGE == "storage"``), so a typo in code is an AttributeError at import, and
the registry and the schema check values against the same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import polars as pl


class CloudProvider(StrEnum):
    """The ``provider`` identity column: whose resource it is."""

    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"


class Family(StrEnum):
    """The six policy families (DESIGN.md), in report order."""

    RIGHTSIZING = "rightsizing"
    COMMITMENTS = "commitments"
    STORAGE = "storage"
    SCHEDULING = "scheduling"
    OBSERVABILITY = "observability"
    NETWORK = "network"


class Action(StrEnum):
    """What a finding asks the owner to do. Ranking uses it to order stacked savings
    (remove, then resize, then schedule, then commit) and to group exclusive findings.
    ``investigate`` findings (a cost anomaly, untagged spend) point at money to look into
    without claiming a saving: they are ranked and shown, never counted."""

    REMOVE = "remove"
    RESIZE = "resize"
    SCHEDULE = "schedule"
    COMMIT = "commit"
    CONFIGURE = "configure"
    INVESTIGATE = "investigate"
    BOTTLENECK = "bottleneck"


class Category(StrEnum):
    """What kind of money a finding is about (README, "How savings are counted").

    Only ``savings`` lowers next month's bill and enters ``summary.monthly_savings``; each
    other category has a total of its own. FinOps practice keeps usage and rate reduction
    (savings) apart from avoided increases (cost avoidance), and AWS Cost Optimization Hub
    reports savings after the account's discounts; see the README for each rule's anchor.
    """

    SAVINGS = "savings"  # the bill drops next month, after existing discounts
    COST_AVOIDANCE = "cost_avoidance"  # prevents an increase (renewing a commitment)
    WASTE = "waste"  # committed money no mechanism recovers (an unused savings plan)
    POSSIBLE = "possible"  # rests on assumptions below the confidence floor
    DEFERRED = "deferred"  # starts later: the resource's commitment bills until it ends
    INVESTMENT = "investment"  # costs money to buy performance (a bottleneck's remedy)
    REVIEW = "review"  # money to look into (an anomaly, untagged spend): no saving claimed


class EffortLevel(StrEnum):
    """AWS Cost Optimization Hub's implementation effort levels."""

    VERY_LOW = "very_low"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"


class Change(StrEnum):
    """The kind of change a finding asks for; ``CHANGES`` says what each takes."""

    PURCHASE_COMMITMENT = "purchase_commitment"
    RENEW_COMMITMENT = "renew_commitment"
    RECOVER_COMMITMENT = "recover_commitment"  # sell a standard RI, exchange a convertible
    STOP_OR_TERMINATE = "stop_or_terminate"
    DELETE_STORAGE = "delete_storage"
    DELETE_NETWORK_RESOURCE = "delete_network_resource"
    RIGHTSIZE_INSTANCE = "rightsize_instance"
    UPGRADE_INSTANCE = "upgrade_instance"
    MIGRATE_TO_GRAVITON = "migrate_to_graviton"
    MOVE_TO_SPOT = "move_to_spot"
    UPGRADE_VOLUME = "upgrade_volume"
    REPLACE_VOLUME = "replace_volume"  # a new volume of another type, data copied over
    SCHEDULE_INSTANCE = "schedule_instance"
    CONFIGURE_SERVICE = "configure_service"
    EXPIRE_DATA = "expire_data"  # retention and lifecycle rules that delete data
    ADD_CAPACITY = "add_capacity"
    INVESTIGATE = "investigate"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Performance(StrEnum):
    IMPROVES = "improves"
    NEUTRAL = "neutral"
    RISK = "risk"


class PriceSource(StrEnum):
    """Where a price comes from, strongest first: what was billed, a live price list, the
    bundled catalogue, or nothing at all."""

    BILLING = "billing"
    LIVE = "live"
    BUNDLED = "bundled"
    NONE = "none"


class ResourceType(StrEnum):
    """The ``resource_type`` identity column."""

    EC2_INSTANCE = "ec2_instance"
    EC2_RESERVED_INSTANCE = "ec2_reserved_instance"
    SAVINGS_PLAN = "savings_plan"
    COMMITMENT_COVERAGE = "commitment_coverage"  # RI / Savings Plan coverage of usage
    ACCOUNT = "account"  # a cloud account itself (whether its provider's advice was read)
    EBS_VOLUME = "ebs_volume"
    EBS_SNAPSHOT = "ebs_snapshot"
    S3_BUCKET = "s3_bucket"
    LOG_GROUP = "log_group"
    CLOUDWATCH_METRIC = "cloudwatch_metric"
    NAT_GATEWAY = "nat_gateway"
    ELASTIC_IP = "elastic_ip"
    LOAD_BALANCER = "load_balancer"
    AUTO_SCALING_GROUP = "auto_scaling_group"
    LAMBDA_FUNCTION = "lambda_function"
    ECS_SERVICE = "ecs_service"
    CLOUDFRONT_DISTRIBUTION = "cloudfront_distribution"
    DATA_TRANSFER = "data_transfer"
    DATA_TRANSFER_SOURCE = "data_transfer_source"
    RDS_INSTANCE = "rds_instance"  # an RDS DB instance, Aurora cluster members included
    ELASTICACHE_CLUSTER = "elasticache_cluster"
    DYNAMODB_TABLE = "dynamodb_table"
    EFS_FILE_SYSTEM = "efs_file_system"
    OPENSEARCH_DOMAIN = "opensearch_domain"
    REDSHIFT_CLUSTER = "redshift_cluster"
    # Google Cloud (providers/gcp).
    GCE_INSTANCE = "gce_instance"
    PERSISTENT_DISK = "persistent_disk"
    GCE_SNAPSHOT = "gce_snapshot"
    STATIC_ADDRESS = "static_address"
    COMMITTED_USE_DISCOUNT = "committed_use_discount"
    GCS_BUCKET = "gcs_bucket"
    LOG_BUCKET = "log_bucket"  # a Cloud Logging bucket
    MONITORING_METRIC = "monitoring_metric"  # a Cloud Monitoring user-defined metric type
    # Azure (providers/azure).
    AZURE_VM = "azure_vm"
    MANAGED_DISK = "managed_disk"
    AZURE_SNAPSHOT = "azure_snapshot"
    PUBLIC_IP = "public_ip"
    STORAGE_ACCOUNT = "storage_account"
    AZURE_NAT_GATEWAY = "azure_nat_gateway"
    AZURE_LOAD_BALANCER = "azure_load_balancer"
    # Billing-export lines with no resource, or whose resource the inventory lacks.
    BILLED_SERVICE = "billed_service"
    BILLED_RESOURCE = "billed_resource"


# FOCUS ProviderName values (and the variants exports write), lower-cased, as the
# ``provider`` identity column the cloud scanners write.
_BILLING_PROVIDER_NAMES: dict[str, str] = {
    "aws": CloudProvider.AWS,
    "amazon web services": CloudProvider.AWS,
    "amazon": CloudProvider.AWS,
    "google cloud": CloudProvider.GCP,
    "google cloud platform": CloudProvider.GCP,
    "google": CloudProvider.GCP,
    "gcp": CloudProvider.GCP,
    "microsoft": CloudProvider.AZURE,
    "microsoft azure": CloudProvider.AZURE,
    "azure": CloudProvider.AZURE,
}


def provider_of(name: pl.Expr) -> pl.Expr:
    """A billing export's ProviderName as the ``provider`` identity column: the three
    clouds by their short names, any other provider lower-cased as it is written."""
    folded = name.str.strip_chars().str.to_lowercase()
    return folded.replace_strict(_BILLING_PROVIDER_NAMES, default=folded, return_dtype=pl.String)


def last_segment(resource_id: pl.Expr) -> pl.Expr:
    """The last ``/`` or ``:`` segment of an id: ``i-0abc`` of
    ``arn:aws:ec2:us-east-1:123:instance/i-0abc``."""
    return resource_id.str.extract(r"([^/:]+)$", 1)


def short_resource_id(resource_id: pl.Expr) -> pl.Expr:
    """A resource id as a cloud scan names it: billing exports write ARNs
    (``arn:aws:ec2:us-east-1:123:instance/i-0abc``) where the scan says ``i-0abc``, so an
    ARN's last segment; any other id as it is."""
    return (
        pl.when(resource_id.str.starts_with("arn:"))
        .then(last_segment(resource_id))
        .otherwise(resource_id)
    )


@dataclass(frozen=True)
class ChangeFacts:
    """What a change takes, as AWS Cost Optimization Hub states it for each action."""

    effort: EffortLevel
    restart_needed: bool
    rollback_possible: bool


# One table for every action (after AWS Cost Optimization Hub's "Understanding cost
# optimization strategies", https://docs.aws.amazon.com/cost-management/latest/userguide/
# coh-optimization-strategies.html, which gives effort, restart and rollback per action and
# resource type). Rows COH has no action for (schedule, spot, configure, expire, add
# capacity, investigate) follow the closest COH action, named in the comment.
CHANGES: dict[Change, ChangeFacts] = {
    # COH "Purchase Savings Plans" / "Purchase reservations": very low, no restart, no rollback.
    Change.PURCHASE_COMMITMENT: ChangeFacts(EffortLevel.VERY_LOW, False, False),
    Change.RENEW_COMMITMENT: ChangeFacts(EffortLevel.VERY_LOW, False, False),
    # A Marketplace listing or a convertible exchange: a purchase's effort; irreversible.
    Change.RECOVER_COMMITMENT: ChangeFacts(EffortLevel.LOW, False, False),
    # COH "Stop" (EC2 instance): low, no restart, rollback possible (start it again).
    Change.STOP_OR_TERMINATE: ChangeFacts(EffortLevel.LOW, False, True),
    # COH "Delete" (EBS volume, snapshot): deleted data does not come back.
    Change.DELETE_STORAGE: ChangeFacts(EffortLevel.LOW, False, False),
    Change.DELETE_NETWORK_RESOURCE: ChangeFacts(EffortLevel.LOW, False, False),
    # COH "Rightsize" (EC2 instance): medium, restart needed, rollback possible.
    Change.RIGHTSIZE_INSTANCE: ChangeFacts(EffortLevel.MEDIUM, True, True),
    # COH "Upgrade" (EC2 instance to a later generation): medium, restart, rollback.
    Change.UPGRADE_INSTANCE: ChangeFacts(EffortLevel.MEDIUM, True, True),
    # COH "Migrate to Graviton": new AMIs and Arm builds of the software: high.
    Change.MIGRATE_TO_GRAVITON: ChangeFacts(EffortLevel.HIGH, True, True),
    # No COH action; as "Migrate": a launch template change and interruption handling.
    Change.MOVE_TO_SPOT: ChangeFacts(EffortLevel.HIGH, True, True),
    # COH "Upgrade" (EBS volume, gp2/io1 to gp3/io2): an online modification.
    Change.UPGRADE_VOLUME: ChangeFacts(EffortLevel.VERY_LOW, False, True),
    # No COH action; as "Rightsize": a Persistent Disk's type does not change in place, so
    # a snapshot becomes a new disk that is swapped in (detach and attach; a boot disk
    # stops its instance); the old disk is kept until the new one is proven.
    Change.REPLACE_VOLUME: ChangeFacts(EffortLevel.MEDIUM, True, True),
    # No COH action; as "Stop" on a timetable (Instance Scheduler).
    Change.SCHEDULE_INSTANCE: ChangeFacts(EffortLevel.LOW, True, True),
    # No COH action: a setting changed in place.
    Change.CONFIGURE_SERVICE: ChangeFacts(EffortLevel.LOW, False, True),
    Change.EXPIRE_DATA: ChangeFacts(EffortLevel.LOW, False, False),
    # As COH "Rightsize" upward.
    Change.ADD_CAPACITY: ChangeFacts(EffortLevel.MEDIUM, True, True),
    Change.INVESTIGATE: ChangeFacts(EffortLevel.LOW, False, True),
}
