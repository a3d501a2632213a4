"""Database collectors: RDS DB instances (Aurora cluster members included) per region.

- ``rds.db_instances``: DescribeDBInstances, all pages: class, engine and version,
  Multi-AZ, storage type, size and provisioned IOPS, the Aurora cluster, read replicas and
  tags (the answer carries ``TagList``, so no ListTagsForResource call per database).
- Utilization: ``plan_queries`` names the hourly ``AWS/RDS`` series of every database,
  fetched with the other data services' series in one batched path
  (``data_services.scan_data_services_region``), into the shared ``utilization`` frame
  under the metric names in ``RDS_SERIES``.

Prices come from ``providers.pricing.aws_data`` and travel on the rows. Every call is a
read (Describe, Get).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from costscan.providers.aws.metrics import SeriesQuery
from costscan.providers.pricing.aws_data import price_databases
from costscan.scanner.contracts import schema

RDS_NAMESPACE = "AWS/RDS"
# (our metric, our statistic, CloudWatch metric, CloudWatch statistic) for every database.
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html
RDS_SERIES: tuple[tuple[str, str, str, str], ...] = (
    ("cpu", "average", "CPUUtilization", "Average"),
    ("cpu", "maximum", "CPUUtilization", "Maximum"),
    ("db_connections", "average", "DatabaseConnections", "Average"),
    ("db_connections", "maximum", "DatabaseConnections", "Maximum"),
    ("freeable_memory", "average", "FreeableMemory", "Average"),
    ("read_iops", "average", "ReadIOPS", "Average"),
    ("write_iops", "average", "WriteIOPS", "Average"),
    ("read_latency", "average", "ReadLatency", "Average"),
    ("read_latency", "maximum", "ReadLatency", "Maximum"),
    ("write_latency", "average", "WriteLatency", "Average"),
    ("replica_lag", "maximum", "ReplicaLag", "Maximum"),
)


def describe_db_instances(rds: Any) -> list[dict[str, Any]]:
    """Every DB instance in the region, all pages."""
    found: list[dict[str, Any]] = []
    for page in rds.get_paginator("describe_db_instances").paginate():
        found.extend(page.get("DBInstances", []))
    return found


def describe_reserved_db_instances(rds: Any) -> list[dict[str, Any]]:
    """The region's reserved DB instances, all pages (every state: matching keeps the
    active ones)."""
    found: list[dict[str, Any]] = []
    for page in rds.get_paginator("describe_reserved_db_instances").paginate():
        found.extend(page.get("ReservedDBInstances", []))
    return found


# ProductDescription of a reserved DB instance -> the engines it covers.
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithReservedDBInstances.html
RESERVED_ENGINES = {
    "mysql": ("mysql",),
    "mariadb": ("mariadb",),
    "postgresql": ("postgres",),
    "aurora-mysql": ("aurora-mysql", "aurora"),
    "aurora-postgresql": ("aurora-postgresql",),
}


def reservation_ends(reserved: Sequence[Mapping[str, Any]], now: datetime) -> pl.DataFrame:
    """engine, _family, reserved_until: the latest end of the active reservations per
    engine and class family (MySQL, MariaDB, PostgreSQL and Aurora reservations are
    size-flexible within a family, so any size of it may be covered)."""
    rows = []
    for ri in reserved:
        if str(ri.get("State", "")).lower() != "active" or not ri.get("StartTime"):
            continue
        start = _utc(ri["StartTime"])
        if start is None:
            continue
        ends = start + timedelta(seconds=int(ri.get("Duration") or 0))
        if ends <= now:
            continue
        family = str(ri.get("DBInstanceClass", "")).split(".")[1:2]
        for engine in RESERVED_ENGINES.get(str(ri.get("ProductDescription", "")).lower(), ()):
            rows.append(
                {"engine": engine, "_family": family[0] if family else None, "reserved_until": ends}
            )
    frame = pl.DataFrame(
        rows,
        schema={"engine": pl.String, "_family": pl.String, "reserved_until": schema.UTC_TS},
    )
    return frame.group_by("engine", "_family").agg(pl.col("reserved_until").max())


def plan_queries(db_ids: Iterable[str]) -> list[SeriesQuery]:
    """The ``RDS_SERIES`` of every database, by its DBInstanceIdentifier."""
    return [
        SeriesQuery(
            db,
            metric,
            statistic,
            RDS_NAMESPACE,
            name,
            stat,
            (("DBInstanceIdentifier", db),),
        )
        for db in db_ids
        for metric, statistic, name, stat in RDS_SERIES
    ]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def database_frames(
    instances: Sequence[Mapping[str, Any]],
    *,
    account_id: str,
    region: str,
    now: datetime,
    reserved: Sequence[Mapping[str, Any]] | None = (),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The priced ``databases`` frame and the ``tags`` frame of DescribeDBInstances output.

    ``reserved``: the region's reserved DB instances (None: they could not be read, and
    ``reserved_until`` stays null)."""
    rows = []
    tag_rows = []
    for db in instances:
        ident = str(db["DBInstanceIdentifier"])
        engine = str(db.get("Engine") or "")
        aurora = engine.startswith("aurora")
        rows.append(
            {
                "provider": "aws",
                "account_id": account_id,
                "region": region,
                "resource_id": ident,
                "resource_name": ident,
                "resource_type": "rds_instance",
                "engine": engine,
                "engine_version": db.get("EngineVersion"),
                "instance_class": db.get("DBInstanceClass"),
                "status": db.get("DBInstanceStatus"),
                # An Aurora cluster's instances are each billed once: the cluster, not
                # the instance, replicates across zones.
                "multi_az": bool(db.get("MultiAZ")) and not aurora,
                "storage_type": "aurora" if aurora else db.get("StorageType"),
                "allocated_gb": _float(db.get("AllocatedStorage")),
                "iops": _float(db.get("Iops"))
                if db.get("StorageType") in ("io1", "io2", "gp3")
                else None,
                "cluster_id": db.get("DBClusterIdentifier"),
                "replica_of": db.get("ReadReplicaSourceDBInstanceIdentifier"),
                "read_replicas": len(db.get("ReadReplicaDBInstanceIdentifiers") or ()),
                "created": _utc(db.get("InstanceCreateTime")),
            }
        )
        for tag in db.get("TagList") or ():
            if "Key" in tag:
                tag_rows.append(
                    {"resource_id": ident, "key": tag["Key"], "value": tag.get("Value")}
                )
    base = pl.DataFrame(
        rows,
        schema={
            name: dtype
            for name, dtype in schema.DATABASES.items()
            if name in (rows[0] if rows else {})
        }
        or None,
    )
    priced = price_databases(base, now.astimezone(UTC).date()) if rows else base
    if rows and reserved:
        moment = now if now.tzinfo else now.replace(tzinfo=UTC)
        ends = reservation_ends(reserved, moment.astimezone(UTC))
        family = pl.col("instance_class").str.split(".").list.get(1, null_on_oob=True)
        priced = (
            priced.drop("reserved_until", strict=False)
            .with_columns(family.alias("_family"))
            .join(ends, on=["engine", "_family"], how="left")
            .drop("_family")
        )
    tags = pl.DataFrame(tag_rows, schema=dict(schema.TAGS))
    return schema.conform("databases", priced), tags
