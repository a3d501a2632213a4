"""Database seeding for the offline demo account: RDS instances with planted waste.

``seed_databases`` makes, in the first of ``regions`` (us-east-1, whose prices are bundled),
one database per case, and publishes their hourly ``AWS/RDS`` metrics over the lookback:

- ``legacy-audit-db``: MySQL 8.4, db.m5.large, 50 GiB gp2, no connection in the lookback
  (idle: snapshot and delete);
- ``staging-orders-db``: MySQL 8.4, db.r5.xlarge Multi-AZ, 200 GiB gp3, tagged staging
  (Multi-AZ on non-production);
- ``reports-db``: PostgreSQL 11.22, db.m5.large, 100 GiB gp3 (Extended Support);
- ``analytics-db``: PostgreSQL 16.4, db.r5.2xlarge, CPU under 15% (one size down);
- ``ledger-db``: PostgreSQL 16.4, db.m5.xlarge, 1,000 GiB io1 with 20,000 IOPS (gp3);
- ``checkout-db``: MySQL 8.4, db.m5.large at 90%+ CPU, reads ten times its writes (the
  bottleneck: a read replica).

``DATABASE_CASES`` names them so tests can find each case's database.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from costscan.demo.account import LOOKBACK_DAYS, _put_all, _statistic_set, metric_client

SEED = 20240616


@dataclass(frozen=True)
class DatabaseCase:
    name: str
    engine: str
    version: str
    instance_class: str
    storage_type: str
    allocated_gb: int
    environment: str
    cpu: float  # hourly average CPU, percent
    connections: float  # hourly average connections
    read_iops: float
    write_iops: float
    multi_az: bool = False
    iops: int | None = None


DATABASE_CASES: dict[str, DatabaseCase] = {
    case.name: case
    for case in (
        DatabaseCase(
            "legacy-audit-db", "mysql", "8.4.3", "db.m5.large", "gp2", 50, "production",
            cpu=2.0, connections=0.0, read_iops=0.5, write_iops=0.5,
        ),
        DatabaseCase(
            "staging-orders-db", "mysql", "8.4.3", "db.r5.xlarge", "gp3", 200, "staging",
            cpu=45.0, connections=12.0, read_iops=150.0, write_iops=60.0, multi_az=True,
        ),
        DatabaseCase(
            "reports-db", "postgres", "11.22", "db.m5.large", "gp3", 100, "production",
            cpu=40.0, connections=25.0, read_iops=300.0, write_iops=80.0,
        ),
        DatabaseCase(
            "analytics-db", "postgres", "16.4", "db.r5.2xlarge", "gp3", 500, "production",
            cpu=6.0, connections=8.0, read_iops=200.0, write_iops=20.0,
        ),
        DatabaseCase(
            "ledger-db", "postgres", "16.4", "db.m5.xlarge", "io1", 1000, "production",
            cpu=45.0, connections=40.0, read_iops=1500.0, write_iops=900.0, iops=20000,
        ),
        DatabaseCase(
            "checkout-db", "mysql", "8.4.3", "db.m5.large", "gp3", 100, "production",
            cpu=93.0, connections=180.0, read_iops=2500.0, write_iops=200.0,
        ),
    )
}  # fmt: skip


def seed_databases(
    endpoint_url: str, now: datetime, regions: Sequence[str], *, hours: int | None = None
) -> dict[str, str]:
    """Seed the ``DATABASE_CASES`` and ``hours`` (default: the demo's lookback) of their
    metrics, ending at ``now``'s hour; returns name -> DB instance identifier."""
    import boto3

    region = regions[0] if regions else "us-east-1"
    rds = boto3.client("rds", region_name=region, endpoint_url=endpoint_url)
    cloudwatch = metric_client(endpoint_url, region)
    rng = random.Random(SEED)
    span = hours if hours is not None else LOOKBACK_DAYS * 24
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=span)
    made: dict[str, str] = {}
    for case in DATABASE_CASES.values():
        extra: dict[str, Any] = {"Iops": case.iops} if case.iops else {}
        rds.create_db_instance(
            DBInstanceIdentifier=case.name,
            DBInstanceClass=case.instance_class,
            Engine=case.engine,
            EngineVersion=case.version,
            AllocatedStorage=case.allocated_gb,
            StorageType=case.storage_type,
            MultiAZ=case.multi_az,
            MasterUsername="admin",
            MasterUserPassword="demo-password-1",
            Tags=[
                {"Key": "Name", "Value": case.name},
                {"Key": "environment", "Value": case.environment},
            ],
            **extra,
        )
        made[case.name] = case.name
        _put_all(cloudwatch, "AWS/RDS", _series(case, rng, start, span))
    return made


def _series(
    case: DatabaseCase, rng: random.Random, start: datetime, hours: int
) -> list[dict[str, Any]]:
    dims = [{"Name": "DBInstanceIdentifier", "Value": case.name}]
    data: list[dict[str, Any]] = []
    for i in range(hours):
        ts = start + timedelta(hours=i)

        def around(level: float, spread: float, ceiling: float | None = None) -> float:
            value = max(0.0, level + rng.uniform(-spread, spread)) if level else 0.0
            return min(value, ceiling) if ceiling is not None else value

        cpu = around(case.cpu, 2.0, 100.0)
        connections = round(around(case.connections, case.connections * 0.1))
        for name, average, maximum, unit in (
            ("CPUUtilization", cpu, min(100.0, cpu + 3.0), "Percent"),
            ("DatabaseConnections", connections, connections, "Count"),
            ("ReadIOPS", around(case.read_iops, case.read_iops * 0.1), None, "Count/Second"),
            ("WriteIOPS", around(case.write_iops, case.write_iops * 0.1), None, "Count/Second"),
            ("ReadLatency", 0.002, 0.004, "Seconds"),
        ):
            top = average if maximum is None else maximum
            data.append(
                {
                    "MetricName": name,
                    "Dimensions": dims,
                    "Timestamp": ts,
                    "StatisticValues": _statistic_set(average, top),
                    "Unit": unit,
                }
            )
    return data
