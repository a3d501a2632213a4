"""The vocabularies every part shares, one spelling each.

Each is a ``StrEnum``: its members are the strings that appear in frames and reports
(``Family.STORAGE == "storage"``), so a typo in code is an AttributeError at import, and
the registry and the schema check values against the same list.
"""

from __future__ import annotations

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
    EBS_VOLUME = "ebs_volume"
    EBS_SNAPSHOT = "ebs_snapshot"
    S3_BUCKET = "s3_bucket"
    LOG_GROUP = "log_group"
    CLOUDWATCH_METRIC = "cloudwatch_metric"
    NAT_GATEWAY = "nat_gateway"
    ELASTIC_IP = "elastic_ip"
    LOAD_BALANCER = "load_balancer"
    CLOUDFRONT_DISTRIBUTION = "cloudfront_distribution"
    DATA_TRANSFER = "data_transfer"
    DATA_TRANSFER_SOURCE = "data_transfer_source"
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
