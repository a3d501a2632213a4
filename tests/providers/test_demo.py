"""The demo account: seeded on its own moto server and scanned by the real provider."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import polars as pl
import pytest

from costscan.demo.account import (
    DemoSeed,
    deduplicated_filtered_metrics,
    indexed_get_metric_data,
    install_indexed_get_metric_data,
    metric_client,
    publish_hourly_metrics,
)
from costscan.demo.data_services import CACHE_CASES, TABLE_CASES
from costscan.demo.databases import DATABASE_CASES
from costscan.providers.aws import AwsProvider
from costscan.providers.interface import ScanRequest
from costscan.reports.ranking import rank
from costscan.scanner.app.engine import run_policies
from costscan.scanner.contracts.config import Config
from costscan.scanner.contracts.inventory import Inventory, RunContext
from tests.moto_server import RecordingMotoServer

# Each seeds a moto account or runs the whole CLI: seconds each (`pytest -m 'not slow'`).
pytestmark = pytest.mark.slow

if TYPE_CHECKING:
    from tests.conftest import DemoAccount

NOW = datetime(2025, 6, 4, 10, 30, tzinfo=UTC)
FAMILIES = {"rightsizing", "commitments", "storage", "scheduling", "observability", "network"}


@dataclass(frozen=True)
class DemoScan:
    seed: DemoSeed
    inventory: Inventory
    now: datetime


@pytest.fixture(scope="module")
def demo(demo_account: DemoAccount) -> DemoScan:
    """The session's seeded demo account, scanned once by the real provider."""
    inventory = AwsProvider().collect(
        ScanRequest(
            context=RunContext(now=demo_account.now),
            regions=demo_account.seed.regions,
            endpoint_url=demo_account.endpoint_url,
        )
    )
    return DemoScan(demo_account.seed, inventory, demo_account.now)


@pytest.fixture(scope="module")
def ranked(demo: DemoScan) -> pl.DataFrame:
    """Every policy over the demo's inventory, ranked as the report ranks them."""
    findings = run_policies(demo.inventory, Config())
    return rank(findings, hourly_rate=Config().engineer_hourly_rate).findings


def _cpu(inv: Inventory, statistic: str) -> pl.DataFrame:
    return inv.frame("utilization").filter(
        (pl.col("metric") == "cpu") & (pl.col("statistic") == statistic)
    )


def test_demo_seeds_a_realistic_account_and_scans_quickly(demo: DemoScan) -> None:
    seed, inv = demo.seed, demo.inventory
    # How long seeding and scanning take is measured by benchmarks/demo.py, not here.
    assert inv.errors == []
    assert inv.rejections == []
    assert seed.skipped_families == ()
    assert set(seed.seeded_families) == {
        "storage",
        "network",
        "observability",
        "databases",
        "data services",
        "demand",
        "commitments",
    }
    assert 200 <= seed.instance_count <= 400
    assert 20 <= len(seed.with_metrics) <= 40
    compute = inv.frame("compute")
    assert set(compute["region"]) == set(seed.regions)
    # The compute seed's instances, and a few more the storage seed attaches volumes to.
    mine = compute.filter(pl.col("resource_id").is_in(list(seed.instance_region)))
    assert dict(mine.select("resource_id", "region").iter_rows()) == dict(seed.instance_region)
    assert dict(mine.select("resource_id", "instance_type").iter_rows()) == dict(seed.instance_type)
    # The demand seed's Auto Scaling groups own instances of their own (demo/fleets.py).
    from costscan.demo.fleets import SEEDED_INSTANCES

    extra = 5 + SEEDED_INSTANCES
    assert seed.instance_count <= compute.height <= seed.instance_count + extra
    # Only the metric-bearing instances have utilization, 14 days of hourly points each.
    util = inv.frame("utilization")
    # Auto Scaling group and load balancer series (demo/fleets.py) sit beside the instances'.
    instance_util = util.filter(pl.col("resource_id").is_in(compute["resource_id"].to_list()))
    assert set(instance_util["resource_id"]) == set(seed.with_metrics)
    # The demo's databases, caches, tables, search domains and warehouse have theirs.
    data_services = set(DATABASE_CASES) | set(CACHE_CASES) | set(TABLE_CASES)
    data_services |= {"legacy-logs", "app-search", "old-bi-warehouse"}
    assert data_services <= set(util["resource_id"])
    per_series = util.group_by("resource_id", "metric", "statistic").len()
    assert set(per_series["len"]) == {seed.metrics_hours}
    assert set(util.filter(pl.col("metric") == "memory")["resource_id"]) == set(seed.with_memory)
    assert 0 < len(seed.with_memory) < len(seed.with_metrics)
    # Production ran before the lookback began (LaunchTime backdated on the in-process moto).
    lookback_start = demo.now - timedelta(days=14)
    steady = compute.filter(pl.col("resource_id").is_in(list(seed.steady)))
    assert (steady["launch_time"] < lookback_start).all()


def test_demo_scenarios_have_their_shapes(demo: DemoScan) -> None:
    seed, inv = demo.seed, demo.inventory
    peak = _cpu(inv, "maximum").group_by("resource_id").agg(pl.col("value").max())
    peaks = dict(peak.iter_rows())
    p95 = dict(
        _cpu(inv, "average").group_by("resource_id").agg(pl.col("value").quantile(0.95)).iter_rows()
    )
    mean = dict(
        _cpu(inv, "average").group_by("resource_id").agg(pl.col("value").mean()).iter_rows()
    )
    assert all(peaks[i] < 1.0 for i in seed.idle)
    assert all(3.0 <= mean[i] <= 10.0 for i in seed.oversized)
    assert all(p95[i] > 85.0 for i in seed.above_alert)
    assert all(40.0 <= p95[i] <= 70.0 for i in seed.busy)

    compute = inv.frame("compute")
    types = dict(compute.select("resource_id", "instance_type").iter_rows())
    assert {types[i].split(".")[0] for i in seed.previous_generation} <= {"m4", "c4", "r4"}
    assert any(types[i] == "m5.4xlarge" for i in seed.oversized)

    tags = inv.frame("tags")
    dev = set(
        tags.filter((pl.col("key") == "environment") & (pl.col("value") == "dev"))["resource_id"]
    )
    assert set(seed.office_hours) | set(seed.scheduled) <= dev
    scheduled = set(tags.filter(pl.col("key") == "Schedule")["resource_id"])
    assert scheduled == set(seed.scheduled)

    # Office-hours machines: busy on weekday working hours, near idle otherwise.
    hours = _cpu(inv, "average").filter(pl.col("resource_id").is_in(list(seed.office_hours)))
    working = (pl.col("ts").dt.weekday() <= 5) & pl.col("ts").dt.hour().is_between(8, 17)
    shape = hours.group_by(working.alias("working")).agg(pl.col("value").mean())
    by_kind = dict(shape.iter_rows())
    assert by_kind[True] > 25.0 > 5.0 > by_kind[False]

    group = compute.filter(pl.col("group") == seed.autoscaling_group)
    assert sorted(group["resource_id"]) == sorted(seed.autoscaling)
    assert inv.frame("spot_prices").height > 0


def test_indexed_get_metric_data_answers_like_moto(endpoint_url: str) -> None:
    from moto.cloudwatch.models import CloudWatchBackend

    start = NOW.replace(minute=0) - timedelta(hours=30)
    cloudwatch = metric_client(endpoint_url, "eu-west-1")
    for n, instance in enumerate(("i-aaa", "i-bbb", "i-ccc")):
        publish_hourly_metrics(
            cloudwatch,
            instance,
            [float(h % 7 + n) for h in range(30)],
            start=start,
            cpu_max_by_hour=[float(h % 7 + n + 2) for h in range(30)],
            network_in_by_hour=[float(h * 100 + n) for h in range(30)],
            memory_by_hour=[float(30 + n)] * 30 if n else None,
        )
    queries: list[dict[str, Any]] = []
    for instance in ("i-aaa", "i-bbb", "i-ccc", "i-none"):
        for name, stat, namespace in (
            ("CPUUtilization", "Average", "AWS/EC2"),
            ("CPUUtilization", "Maximum", "AWS/EC2"),
            ("NetworkIn", "Sum", "AWS/EC2"),
            ("mem_used_percent", "Maximum", "CWAgent"),
        ):
            queries.append(
                {
                    "Id": f"q{len(queries)}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": namespace,
                            "MetricName": name,
                            "Dimensions": [{"Name": "InstanceId", "Value": instance}],
                        },
                        "Period": 3600,
                        "Stat": stat,
                    },
                }
            )
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends["123456789012"]["eu-west-1"]
    current = CloudWatchBackend.get_metric_data
    moto_own = getattr(current, "_costscan_original", current)
    # moto keeps naive UTC timestamps inside; its HTTP layer strips the zone the same way.
    window = (
        (start + timedelta(hours=2)).replace(tzinfo=None),
        (start + timedelta(hours=40)).replace(tzinfo=None),
    )
    for scan_by in ("TimestampAscending", "TimestampDescending"):
        expected = moto_own(backend, queries, *window, scan_by)
        assert indexed_get_metric_data(backend, queries, *window, scan_by) == expected
    assert any(r["values"] for r in expected)
    # And through HTTP with the swap installed, the same numbers come back.
    answer = boto3.client("cloudwatch", region_name="eu-west-1", endpoint_url=endpoint_url)
    install_indexed_get_metric_data()
    try:
        got = answer.get_metric_data(
            MetricDataQueries=queries,
            StartTime=window[0],
            EndTime=window[1],
            ScanBy="TimestampAscending",
        )
        assert getattr(CloudWatchBackend.get_metric_data, "_costscan_indexed", False)
    finally:
        CloudWatchBackend.get_metric_data = current  # type: ignore[method-assign]
    assert [r["Values"] for r in got["MetricDataResults"]] == [
        r["values"] for r in moto_own(backend, queries, *window)
    ]


def test_demo_findings_cover_all_six_families(demo: DemoScan, ranked: pl.DataFrame) -> None:
    assert demo.inventory.errors == []
    counted = ranked.filter(pl.col("counted"))
    by_family = counted.group_by("family").agg(
        pl.len().alias("findings"), pl.col("net_monthly_savings").sum().alias("savings")
    )
    savings = dict(by_family.select("family", "savings").iter_rows())
    print({family: round(usd, 2) for family, usd in sorted(savings.items())})
    assert set(savings) == FAMILIES
    assert all(usd > 0 for usd in savings.values())
    # Each family's seeded waste is found, by the policy made for it.
    policies = set(counted["policy_id"])
    assert {
        "rightsizing.idle",
        "rightsizing.overprovisioned",
        "scheduling.offhours",
        "commitments.compute-commitment",
        "storage.unattached-volume",
        "observability.metric-cardinality",
        "network.idle-elastic-ip",
    } <= policies
    # Found, and totalled apart from the savings: a renewal keeps the bill flat, an
    # unused plan is sunk, a tiering guess rests on an assumed cold share.
    categories = dict(ranked.select("policy_id", "category").unique().iter_rows())
    assert categories["commitments.expiring"] == "cost_avoidance"
    assert categories["commitments.underused"] == "waste"
    assert categories["storage.bucket-without-lifecycle"] == "possible"


def test_demo_databases_are_priced_by_hand(demo: DemoScan, ranked: pl.DataFrame) -> None:
    """Each planted database case (demo/databases.py) over 14 days, at the bundled
    us-east-1 list prices (https://aws.amazon.com/rds/pricing/)."""
    counted = ranked.filter(pl.col("counted") & pl.col("resource_id").is_in(list(DATABASE_CASES)))
    found = {
        (r["policy_id"], r["resource_id"]): r["net_monthly_savings"] for r in counted.to_dicts()
    }
    assert found == pytest.approx(
        {
            # db.m5.large MySQL 0.171 × 730 + 50 GB gp2 × 0.115, less a 50 GB snapshot × 0.095.
            ("rightsizing.idle-database", "legacy-audit-db"): 124.83 + 5.75 - 4.75,
            # The standby: db.r5.xlarge 0.48 × 730 + 200 GB × 0.115.
            ("rightsizing.multi-az-nonprod", "staging-orders-db"): 350.40 + 23.00,
            # PostgreSQL 11, Extended Support year 3: 2 vCPU × 0.200 × 730.
            ("rightsizing.database-extended-support", "reports-db"): 292.00,
            # db.r5.2xlarge 1.00 -> db.r5.xlarge 0.50 (PostgreSQL): 0.50 × 730.
            ("rightsizing.oversized-database", "analytics-db"): 365.00,
            # io1 1,000 × 0.125 + 20,000 × 0.10 -> gp3 1,000 × 0.115 + 8,000 × 0.02.
            ("storage.database-io1-to-gp3", "ledger-db"): 2125.00 - 275.00,
            # Graviton, same size: db.r5.xlarge MySQL 0.48 -> db.r6g.xlarge 0.43 on the
            # instance kept (the standby finding takes the other).
            ("rightsizing.database-graviton", "staging-orders-db"): 0.05 * 730,
            # db.m5.large PostgreSQL 0.178 -> db.m6g.large 0.159.
            ("rightsizing.database-graviton", "reports-db"): 0.019 * 730,
            # db.m5.xlarge PostgreSQL 0.356 -> db.m6g.xlarge 0.318.
            ("rightsizing.database-graviton", "ledger-db"): 0.038 * 730,
        },
        abs=0.01,
    )
    bottlenecks = rank(
        run_policies(demo.inventory, Config()), hourly_rate=Config().engineer_hourly_rate
    ).bottlenecks
    on_checkout = bottlenecks.filter(pl.col("resource_id") == "checkout-db")
    assert sorted(on_checkout["policy_id"]) == [
        "rightsizing.database-bottleneck",
        "rightsizing.database-cache-layer",
    ]
    # The caching layer: two cache.r6g.large Redis OSS nodes, 2 × 0.206 × 730.
    cache = on_checkout.filter(pl.col("policy_id") == "rightsizing.database-cache-layer")
    assert cache["added_monthly_cost"].item() == pytest.approx(300.76, abs=0.005)
    hot = on_checkout.filter(pl.col("policy_id") == "rightsizing.database-bottleneck")
    assert hot["category"].item() == "investment"
    # A db.m5.large read replica with 100 GB gp3: 0.171 × 730 + 100 × 0.115.
    assert hot["added_monthly_cost"].item() == pytest.approx(124.83 + 11.50, abs=0.005)


def test_demo_caches_and_tables_are_priced_by_hand(demo: DemoScan, ranked: pl.DataFrame) -> None:
    """Each planted cache and table case (demo/data_services.py) over 14 days, at the
    bundled us-east-1 list prices (https://aws.amazon.com/elasticache/pricing/,
    https://aws.amazon.com/dynamodb/pricing/)."""
    mine = set(CACHE_CASES) | set(TABLE_CASES) | {"legacy-logs", "old-bi-warehouse"}
    counted = ranked.filter(pl.col("counted") & pl.col("resource_id").is_in(sorted(mine)))
    found = {
        (r["policy_id"], r["resource_id"]): r["net_monthly_savings"] for r in counted.to_dicts()
    }
    assert found == pytest.approx(
        {
            # One cache.m5.large: 0.156 × 730.
            ("rightsizing.idle-cache", "old-sessions-cache"): 113.88,
            # cache.r5.2xlarge 0.862 -> cache.r5.xlarge 0.431: 0.431 × 730.
            ("rightsizing.oversized-cache", "catalog-cache"): 314.63,
            # (2,000 × 0.00013 + 1,000 × 0.00065) × 730 = 664.30 -> 72 RCU / 43 WCU:
            # (72 × 0.00013 + 43 × 0.00065) × 730 = 27.2363.
            ("rightsizing.dynamodb-capacity", "clickstream-events"): 664.30 - 27.2363,
            # 33.215 + 2,000 × 0.25 -> 33.215 × 1.25 + 2,000 × 0.10.
            ("storage.dynamodb-standard-ia", "audit-archive"): 533.215 - 241.51875,
            # Two r6g.large.search: 2 × 0.167 × 730 + 2 × 100 GB gp2 × 0.135.
            ("rightsizing.idle-search-domain", "legacy-logs"): 243.82 + 27.00,
            # Two dc2.large: 2 × 0.25 × 730.
            ("rightsizing.idle-warehouse", "old-bi-warehouse"): 365.00,
        },
        abs=0.01,
    )
    bottlenecks = rank(
        run_policies(demo.inventory, Config()), hourly_rate=Config().engineer_hourly_rate
    ).bottlenecks
    added = dict(bottlenecks.select("resource_id", "added_monthly_cost").iter_rows())
    # cache.m5.large -> cache.m5.xlarge: (0.311 - 0.156) × 730.
    assert added["feed-cache"] == pytest.approx(113.15, abs=0.005)
    # Three m6g.large.search -> m6g.xlarge.search: 3 × (0.256 - 0.128) × 730.
    assert added["app-search"] == pytest.approx(280.32, abs=0.005)
    # EFS without lifecycle: 2,000 GB × an assumed 80% cold × (0.30 - 0.016), possible.
    efs = ranked.filter(pl.col("policy_id") == "storage.efs-without-lifecycle")
    assert efs["monthly_savings"].to_list() == pytest.approx([454.40], abs=0.005)
    assert efs["category"].to_list() == ["possible"]
    # 100 RCU / 100 WCU -> 115 / 136: (115 × 0.00013 + 136 × 0.00065) × 730 - 56.94.
    assert added["orders-hot"] == pytest.approx(75.4455 - 56.94, abs=0.005)


def test_demo_commitments_are_priced_by_their_formulas(
    demo: DemoScan, ranked: pl.DataFrame
) -> None:
    seeded = demo.seed.commitments
    assert seeded is not None
    by_policy = {
        (row["policy_id"], row["resource_id"]): row["monthly_savings"]
        for row in ranked.select("policy_id", "resource_id", "monthly_savings").iter_rows(
            named=True
        )
    }
    for commitment in (seeded.underused_reservation, seeded.savings_plan):
        utilization = (
            seeded.savings_plan_utilization
            if commitment == seeded.savings_plan
            else seeded.reservation_utilization[commitment]
        )
        assert utilization < 0.8
        expected = seeded.monthly_commitment[commitment] * (1 - utilization)
        assert by_policy[("commitments.underused", commitment)] == pytest.approx(expected, abs=0.01)
    # Renewing the fully used reservation that expires soon avoids on-demand rates.
    expiring = seeded.expiring_reservation
    assert seeded.reservation_utilization[expiring] == 1.0
    expected = seeded.expiring_on_demand_monthly - seeded.monthly_commitment[expiring]
    assert by_policy[("commitments.expiring", expiring)] == pytest.approx(expected, abs=0.01)
    assert ("commitments.underused", expiring) not in by_policy
    # Coverage is spent before anything new is recommended: the r5 instances of the
    # second region are covered by the (under-used) EC2 Instance Savings Plan, so none
    # gets a new commitment.
    compute = demo.inventory.frame("compute")
    covered = compute.filter(
        (pl.col("region") == demo.seed.regions[1]) & pl.col("instance_type").str.starts_with("r5.")
    )["resource_id"]
    assert len(covered) > 0
    new = ranked.filter(pl.col("policy_id") == "commitments.compute-commitment")
    assert new.height > 0
    assert not set(new["resource_id"]) & set(covered)


MISSING_READS = {
    ("ec2", "DescribeReservedInstances"),
    ("savingsplans", "DescribeSavingsPlans"),
    ("ce", "GetReservationUtilization"),
    ("ce", "GetReservationCoverage"),
    ("ce", "GetSavingsPlansUtilizationDetails"),
    ("ce", "GetSavingsPlansCoverage"),
    # Asked once per account, whatever the account holds.
    ("cost-optimization-hub", "ListRecommendations"),
}


def test_moto_missing_reads_get_empty_answers_without_retries(moto: RecordingMotoServer) -> None:
    inventory = AwsProvider().collect(
        ScanRequest(
            context=RunContext(now=NOW), regions=("us-east-1",), endpoint_url=moto.endpoint_url
        )
    )
    assert inventory.errors == []
    assert not inventory.has("commitments") or inventory.frame("commitments").height == 0
    answered = moto.gaps.operations()
    assert set(answered) == MISSING_READS
    # Each asked once: an empty answer is final, nothing was retried.
    assert len(answered) == len(MISSING_READS)
    # The server's own log saw them too.
    logged = {r.operation for r in moto.operations()}
    assert {"DescribeReservedInstances", "GetReservationCoverage"} <= logged


def test_missing_reads_answer_seeded_shapes_per_region(moto: RecordingMotoServer) -> None:
    moto.gaps.answer(
        "ec2",
        "DescribeReservedInstances",
        {
            "ReservedInstances": [
                {
                    "ReservedInstancesId": "ri-eu",
                    "InstanceType": "m5.large",
                    "InstanceCount": 3,
                    "Start": datetime(2025, 1, 1, tzinfo=UTC),
                    "State": "active",
                }
            ]
        },
        region="eu-west-1",
    )

    def reserved(region: str) -> list[dict[str, Any]]:
        ec2 = boto3.client("ec2", region_name=region, endpoint_url=moto.endpoint_url)
        return list(ec2.describe_reserved_instances()["ReservedInstances"])

    (eu,) = reserved("eu-west-1")
    assert (eu["ReservedInstancesId"], eu["InstanceType"], eu["InstanceCount"]) == (
        "ri-eu",
        "m5.large",
        3,
    )
    assert eu["Start"] == datetime(2025, 1, 1, tzinfo=UTC)
    assert reserved("us-east-1") == []
    ce = boto3.client("ce", region_name="us-east-1", endpoint_url=moto.endpoint_url)
    period = {"Start": "2025-05-01", "End": "2025-05-15"}
    details = ce.get_savings_plans_utilization_details(TimePeriod=period)
    assert details["SavingsPlansUtilizationDetails"] == []
    assert details["TimePeriod"] == period
    by_resource = ce.get_cost_and_usage_with_resources(
        TimePeriod=period,
        Granularity="DAILY",
        Filter={"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Elastic Compute Cloud"]}},
    )
    assert by_resource["ResultsByTime"] == []
    # moto's own APIs still answer behind the middleware.
    assert (
        "Reservations"
        in boto3.client(
            "ec2", region_name="us-east-1", endpoint_url=moto.endpoint_url
        ).describe_instances()
    )
    moto.reset()
    assert reserved("eu-west-1") == []


def test_deduplicated_list_metrics_answers_like_moto(endpoint_url: str) -> None:
    from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends

    cloudwatch = metric_client(endpoint_url, "eu-west-1")
    start = NOW.replace(minute=0) - timedelta(hours=6)
    data = []
    for hour in range(6):
        stamp = start + timedelta(hours=hour)
        for dims in (
            [{"Name": "InstanceId", "Value": "i-aaa"}],
            [{"Name": "InstanceId", "Value": "i-bbb"}],
            [{"Name": "InstanceId", "Value": "i-aaa"}, {"Name": "Size", "Value": "large"}],
            [],
        ):
            data.append(
                {"MetricName": "Load", "Dimensions": dims, "Timestamp": stamp, "Value": 1.0}
            )
    cloudwatch.put_metric_data(Namespace="Demo/Test", MetricData=data)
    cloudwatch.put_metric_data(
        Namespace="Other",
        MetricData=[
            {
                "MetricName": "Load",
                "Dimensions": [{"Name": "InstanceId", "Value": "i-aaa"}],
                "Timestamp": start,
                "Value": 2.0,
            }
        ],
    )
    backend = cloudwatch_backends["123456789012"]["eu-west-1"]
    current = CloudWatchBackend.get_filtered_metrics
    moto_own = getattr(current, "_costscan_original", current)
    for name, namespace, dims in (
        ("", "", []),
        ("Load", "Demo/Test", []),
        ("", "Other", []),
        ("", "", [{"Name": "InstanceId", "Value": "i-aaa"}]),
        ("", "", [{"Name": "Size"}]),
    ):
        expected = moto_own(backend, name, namespace, dims)
        assert deduplicated_filtered_metrics(backend, name, namespace, dims) == expected
    # Single-dimension series are listed once, the rest once per datapoint (moto's rule).
    assert len(moto_own(backend, "", "Demo/Test", [])) == 2 + 6 + 6


def test_the_demo_report_obeys_every_counting_rule(demo: DemoScan) -> None:
    """Issue 10's Done-when, on the demo as ranked for the report."""
    findings = run_policies(demo.inventory, Config())
    out = rank(findings, hourly_rate=Config().engineer_hourly_rate)
    ranked, summary = out.findings, out.summary
    counted = ranked.filter(pl.col("counted"))
    # No counted finding nets zero or less; only savings count.
    assert (counted["net_monthly_savings"] > 0).all()
    assert set(counted["category"]) == {"savings"}
    # No renewal or unrecoverable commitment is in the savings.
    assert not set(counted["policy_id"]) & {"commitments.expiring", "commitments.underused"}
    assert summary["cost_avoidance"] > 0 and summary["commitment_waste"] > 0
    # After discounts never above before; commitments visibly reduce some.
    assert (ranked["monthly_savings"] <= ranked["monthly_savings_before_discounts"] + 0.005).all()
    reduced = ranked.filter(
        pl.col("monthly_savings") + 0.005 < pl.col("monthly_savings_before_discounts")
    )
    assert reduced.height > 0 and summary["deferred_monthly_savings"] > 0
    # No resource saves more than it costs.
    costly = ranked.filter(pl.col("current_monthly_cost") > 0)
    assert (costly["monthly_savings"] <= costly["current_monthly_cost"] + 0.005).all()
    # No move goes to an older generation.
    moves = ranked.filter(pl.col("action") == "resize").select("evidence")
    for (text,) in moves.iter_rows():
        shape = json.loads(text).get("shape") or {}
        if shape.get("candidate_generation") is not None:
            assert shape["candidate_generation"] >= shape["generation"]
    # The over-sized m5.4xlarge gets a counted resize.
    oversized = counted.filter(
        (pl.col("policy_id") == "rightsizing.overprovisioned")
        & pl.col("detail").str.contains("m5.4xlarge", literal=True)
    )
    assert oversized.height >= 1
    # The headline is the sum of what is counted.
    assert summary["monthly_savings"] == pytest.approx(
        float(counted["net_monthly_savings"].sum()), abs=0.01
    )
