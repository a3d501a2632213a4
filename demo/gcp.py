"""`costscan demo --provider gcp`: a seeded, offline Google Cloud project on ``FakeGcp``.

One project, ``costscan-demo``, in us-central1, shaped like the cases a FinOps review
meets, each the twin of one in the AWS demo:

- ``batch-idle-1`` (n2-standard-4): idle, CPU under 1% and quiet network;
- ``api-oversized`` (n2-standard-8): p99 CPU about 11%, fits a smaller type;
- ``web-1``, ``web-2`` (e2-standard-4): busy, left alone; ``dev-box`` (n2-standard-2,
  label env=dev) busy in office hours only; ``ci-runner`` (e2-standard-4) on Spot;
- ``build-old`` (e2-standard-2): stopped 45 days with its boot disk;
- ``orphan-data`` (pd-ssd, 500 GB) and ``old-export`` (pd-standard, 200 GB): unattached;
- ``web-1-db`` (pd-ssd, 400 GB on ``web-1``): its busiest minutes stay under 1,500 IOPS and
  60 MiB/s, which pd-balanced serves; ``dev-scratch`` (pd-ssd, 100 GB on ``dev-box``)
  reports no disk I/O, so its move is only a possible saving;
- a 2-year-old snapshot of a disk that is gone; a reserved static address nobody uses;
- ``costscan-demo-logs-archive``: 2 TiB in Standard, no lifecycle rule, Autoclass off;
- Cloud Logging: ``_Default`` (30 days) takes in 8 GiB a day, 240 GiB a month, and
  ``app-archive`` (us-central1, 365 days, two years old) 2 GiB a day and holds 730 GiB:
  the project bills 300 − 50 = 250 GiB of ingestion, and app-archive 670 GiB of retention;
- Cloud Monitoring: ``custom.googleapis.com/checkout/latency`` written per user (500
  ``user_id`` values × 2 ``status``: 1,000 series), and a small Prometheus counter (12
  series) left alone;
- a 1-year N2 commitment of 4 vCPUs and 16 GB, so part of the N2 usage is covered and
  savings on it are counted after the discount; a 1-year N2D commitment of 8 vCPUs and
  32 GB that nothing uses (waste);
- Google Recommender's advice, so the cross-check shows every verdict: it agrees on the
  idle VM, the over-sized VM (to another type), the orphaned disk and the unused address;
  it is silent on ``old-export``; and it advises resizing ``dev-box``, which costscan
  schedules instead (listed as Google's advice alone).

Hourly utilization series cover the run's lookback (14 days).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from costscan.demo.gcp_fake import FakeGcp, Series

DEMO_PROJECT = "costscan-demo"
DEMO_PROJECT_NUMBER = "123456789012"
DEMO_REGION = "us-central1"
DEMO_ZONE = "us-central1-a"
LOOKBACK_DAYS = 14
DEMO_SEED = 20241206
GIB = 1024**3

CPU = "compute.googleapis.com/instance/cpu/utilization"
NET_IN = "compute.googleapis.com/instance/network/received_bytes_count"
NET_OUT = "compute.googleapis.com/instance/network/sent_bytes_count"
MEMORY = "agent.googleapis.com/memory/percent_used"
DISK_METRIC = "compute.googleapis.com/instance/disk/{}"
LOG_INGESTED = "logging.googleapis.com/billing/log_bucket_bytes_ingested"
LOG_STORED = "logging.googleapis.com/billing/bytes_stored"
CHECKOUT_LATENCY = "custom.googleapis.com/checkout/latency"
PROMETHEUS_REQUESTS = "prometheus.googleapis.com/http_requests_total/counter"
BUCKET_BYTES = "storage.googleapis.com/storage/total_bytes"
BUCKET_OBJECTS = "storage.googleapis.com/storage/object_count"
IDLE_VM = "google.compute.instance.IdleResourceRecommender"
MACHINE_TYPE = "google.compute.instance.MachineTypeRecommender"
IDLE_DISK = "google.compute.disk.IdleResourceRecommender"
IDLE_ADDRESS = "google.compute.address.IdleResourceRecommender"

# Hour start -> (mean CPU %, max CPU %, bytes in, bytes out) for that hour.
Shape = Callable[[datetime, random.Random], tuple[float, float, float, float]]


def idle(_hour: datetime, rng: random.Random) -> tuple[float, float, float, float]:
    mean = rng.uniform(0.2, 0.5)
    return mean, mean + rng.uniform(0.05, 0.3), rng.uniform(2e5, 8e5), rng.uniform(1e5, 4e5)


def oversized(_hour: datetime, rng: random.Random) -> tuple[float, float, float, float]:
    mean = rng.uniform(4.0, 9.0)
    return mean, mean + rng.uniform(1.0, 3.0), rng.uniform(4e8, 9e8), rng.uniform(3e8, 7e8)


def busy(_hour: datetime, rng: random.Random) -> tuple[float, float, float, float]:
    mean = rng.uniform(45.0, 68.0)
    return mean, min(100.0, mean + rng.uniform(5, 20)), rng.uniform(2e9, 4e9), rng.uniform(2e9, 5e9)


def office_hours(hour: datetime, rng: random.Random) -> tuple[float, float, float, float]:
    working = hour.weekday() < 5 and 8 <= hour.hour < 18
    if working:
        mean = rng.uniform(35.0, 60.0)
        return mean, mean + rng.uniform(5, 15), rng.uniform(1e9, 2e9), rng.uniform(1e9, 2e9)
    return idle(hour, rng)


@dataclass(frozen=True)
class DemoVm:
    name: str
    machine_type: str
    shape: Shape | None
    labels: tuple[tuple[str, str], ...] = ()
    status: str = "RUNNING"
    spot: bool = False


VMS: tuple[DemoVm, ...] = (
    DemoVm("batch-idle-1", "n2-standard-4", idle, (("team", "data"),)),
    DemoVm("api-oversized", "n2-standard-8", oversized, (("team", "api"), ("env", "prod"))),
    DemoVm("web-1", "e2-standard-4", busy, (("team", "web"), ("env", "prod"))),
    DemoVm("web-2", "e2-standard-4", busy, (("team", "web"), ("env", "prod"))),
    DemoVm("dev-box", "n2-standard-2", office_hours, (("env", "dev"), ("owner", "alice"))),
    DemoVm("ci-runner", "e2-standard-4", busy, (("team", "ci"),), spot=True),
    DemoVm("build-old", "e2-standard-2", None, (("team", "build"),), status="TERMINATED"),
)


def start_demo_gcp(now: datetime, points_per_page: int | None = None) -> FakeGcp:
    """Start the fake on 127.0.0.1 and seed the demo project; ``.stop()`` ends it."""
    fake = FakeGcp() if points_per_page is None else FakeGcp(points_per_page=points_per_page)
    seed_demo_project(fake, now)
    return fake.start()


def hourly(shape: Shape, now: datetime, rng: random.Random) -> list[tuple[int, tuple[float, ...]]]:
    """(end epoch of the hour, figures) for every hour of the lookback ending at ``now``."""
    end = now.replace(minute=0, second=0, microsecond=0)
    hours: list[tuple[int, tuple[float, ...]]] = []
    for back in range(LOOKBACK_DAYS * 24, 0, -1):
        start = end - timedelta(hours=back)
        hours.append((int((start + timedelta(hours=1)).timestamp()), shape(start, rng)))
    return hours


def instance_series(
    project: str,
    zone: str,
    name: str,
    instance_id: str,
    figures: list[tuple[int, tuple[float, ...]]],
) -> list[Series]:
    """The four series Compute Engine publishes for an instance, aligned hourly."""
    resource = {"project_id": project, "zone": zone, "instance_id": instance_id}
    labels = {"instance_name": name}
    cpu = Series(
        CPU, "gce_instance", resource, labels,
        {
            "ALIGN_MEAN": [(t, f[0] / 100.0) for t, f in figures],
            "ALIGN_MAX": [(t, f[1] / 100.0) for t, f in figures],
        },
    )  # fmt: skip
    received = Series(
        NET_IN, "gce_instance", resource, labels,
        {"ALIGN_SUM": [(t, float(round(f[2]))) for t, f in figures]}, value_type="INT64",
    )  # fmt: skip
    sent = Series(
        NET_OUT, "gce_instance", resource, labels,
        {"ALIGN_SUM": [(t, float(round(f[3]))) for t, f in figures]}, value_type="INT64",
    )  # fmt: skip
    return [cpu, received, sent]


def disk_series(
    project: str, zone: str, vm: str, instance_id: str, device: str, now: datetime,
    rng: random.Random,
) -> list[Series]:  # fmt: skip
    """The four disk counters Compute Engine publishes for one pd-ssd device, as ALIGN_MAX
    over each hour answers them: the busiest minute's count (reads up to 900 and writes up
    to 600 a second, 40 and 20 MiB/s)."""
    resource = {"project_id": project, "zone": zone, "instance_id": instance_id}
    labels = {"instance_name": vm, "device_name": device, "storage_type": "pd-ssd",
              "device_type": "permanent"}  # fmt: skip
    peaks = {"read_ops_count": 900.0, "write_ops_count": 600.0,
             "read_bytes_count": 40.0 * 1024**2, "write_bytes_count": 20.0 * 1024**2}  # fmt: skip
    hours = [t for t, _ in hourly(idle, now, random.Random(2))]
    series = []
    for kind, peak in peaks.items():
        counts = [(t, float(round(60 * peak * rng.uniform(0.3, 1.0)))) for t in hours]
        series.append(
            Series(DISK_METRIC.format(kind), "gce_instance", resource, labels,
                   {"ALIGN_MAX": counts}, value_type="INT64")
        )  # fmt: skip
    return series


def seed_demo_project(fake: FakeGcp, now: datetime) -> None:
    from costscan.providers.pricing import gcp as gcp_prices

    rng = random.Random(DEMO_SEED)
    project = fake.project(DEMO_PROJECT, DEMO_PROJECT_NUMBER).project_id
    types = gcp_prices.machine_types()
    fake.add_machine_types(
        project,
        DEMO_ZONE,
        [
            {
                "name": row["instance_type"],
                "vcpus": row["vcpus"],
                "memory_gib": row["memory_gib"],
                "shared": row["shape"] == "shared",
                "architecture": "ARM64" if row["architecture"] == "arm64" else "X86_64",
            }
            for row in types.iter_rows(named=True)
        ],
    )
    created = now - timedelta(days=120)
    for index, vm in enumerate(VMS):
        stopped = now - timedelta(days=45) if vm.status == "TERMINATED" else None
        made = fake.add_instance(
            project, DEMO_ZONE, vm.name, vm.machine_type, status=vm.status,
            labels=dict(vm.labels), created=created, last_stop=stopped, spot=vm.spot,
            instance_id=str(4100000000000000000 + index),
        )  # fmt: skip
        fake.add_disk(project, DEMO_ZONE, vm.name, "pd-balanced", 20, users=[vm.name],
                      created=created)  # fmt: skip
        if vm.shape is not None:
            for series in instance_series(
                project, DEMO_ZONE, vm.name, made["id"], hourly(vm.shape, now, rng)
            ):
                fake.add_series(project, series)
    # The Ops Agent reports memory on the over-sized VM: about a quarter of it used.
    fake.add_series(
        project,
        Series(
            MEMORY, "gce_instance",
            {"project_id": project, "zone": DEMO_ZONE, "instance_id": "4100000000000000001"},
            {"state": "used", "instance_name": "api-oversized"},
            {"ALIGN_MEAN": [(t, 22.0 + 6.0 * math.sin(t / 7200.0)) for t, _ in
                            hourly(idle, now, random.Random(1))]},
        ),
    )  # fmt: skip
    fake.add_disk(
        project, DEMO_ZONE, "orphan-data", "pd-ssd", 500, created=now - timedelta(days=60)
    )
    fake.add_disk(project, DEMO_ZONE, "web-1-db", "pd-ssd", 400, users=["web-1"],
                  created=created, device_name="db")  # fmt: skip
    for series in disk_series(project, DEMO_ZONE, "web-1", "4100000000000000002", "db", now,
                              random.Random(DEMO_SEED + 1)):  # fmt: skip
        fake.add_series(project, series)
    fake.add_disk(project, DEMO_ZONE, "dev-scratch", "pd-ssd", 100, users=["dev-box"],
                  created=created)  # fmt: skip
    fake.add_disk(project, DEMO_ZONE, "old-export", "pd-standard", 200,
                  created=now - timedelta(days=200))  # fmt: skip
    fake.add_snapshot(
        project, "nightly-2024-11", source_disk=f"zones/{DEMO_ZONE}/disks/retired-db",
        disk_size_gb=300, storage_bytes=120 * GIB, created=now - timedelta(days=730),
    )  # fmt: skip
    fake.add_address(project, DEMO_REGION, "legacy-lb-ip", "203.0.113.7",
                     created=now - timedelta(days=300))  # fmt: skip
    fake.add_address(
        project, DEMO_REGION, "web-ip", "203.0.113.8", created=created,
        in_use_by=f"projects/{project}/zones/{DEMO_ZONE}/instances/web-1",
    )  # fmt: skip
    fake.add_commitment(
        project, DEMO_REGION, "n2-commitment-1y", "GENERAL_PURPOSE_N2", vcpus=4,
        memory_gib=16, start=now - timedelta(days=200), end=now + timedelta(days=165),
    )  # fmt: skip
    # Bought for a migration to N2D that never happened: nothing uses it.
    fake.add_commitment(
        project, DEMO_REGION, "n2d-commitment-1y", "GENERAL_PURPOSE_N2D", vcpus=8,
        memory_gib=32, start=now - timedelta(days=90), end=now + timedelta(days=275),
    )  # fmt: skip
    fake.add_bucket(project, "costscan-demo-logs-archive")
    fake.add_bucket(
        project, "costscan-demo-assets",
        lifecycle=[{"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"},
                    "condition": {"age": 30}}],
    )  # fmt: skip
    fake.add_bucket(project, "costscan-demo-ml", autoclass=True)
    day_end = int(now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())
    stored = {
        "costscan-demo-logs-archive": (2048 * GIB, 420_000.0),
        "costscan-demo-assets": (150 * GIB, 90_000.0),
        "costscan-demo-ml": (600 * GIB, 12_000.0),
    }
    for bucket, (size, objects) in stored.items():
        resource = {"project_id": project, "bucket_name": bucket, "location": "us-central1"}
        labels = {"storage_class": "STANDARD", "type": "live-object"}
        days = [day_end - 86400, day_end]
        fake.add_series(project, Series(BUCKET_BYTES, "gcs_bucket", resource, labels,
                                        {"ALIGN_MEAN": [(d, size) for d in days]}))  # fmt: skip
        fake.add_series(project, Series(BUCKET_OBJECTS, "gcs_bucket", resource, labels,
                                        {"ALIGN_MEAN": [(d, objects) for d in days]}))  # fmt: skip
    seed_logging(fake, now)
    seed_metrics(fake, now)
    seed_recommendations(fake, now)


def seed_metrics(fake: FakeGcp, now: datetime) -> None:
    """User-defined metrics, one point each in the last hour: a custom latency metric
    labelled by user (high cardinality), and a Prometheus counter by method and code."""
    project = DEMO_PROJECT
    point = {"ALIGN_NONE": [(int(now.timestamp()) - 600, 1.0)]}
    resource = {"project_id": project}
    for user in range(500):
        for status in ("ok", "error"):
            labels = {"user_id": f"u{user:04d}", "status": status}
            fake.add_series(project, Series(CHECKOUT_LATENCY, "global", resource, labels, point))
    for method in ("GET", "POST", "PUT"):
        for code in ("200", "301", "404", "500"):
            labels = {"method": method, "code": code}
            fake.add_series(
                project, Series(PROMETHEUS_REQUESTS, "prometheus_target", resource, labels, point)
            )


def seed_logging(fake: FakeGcp, now: datetime) -> None:
    """Log buckets and Cloud Logging's billing metrics for them: bytes taken in a day (one
    series per resource type) and bytes stored."""
    project = DEMO_PROJECT
    fake.add_log_bucket(project, "_Required", retention_days=400, locked=True,
                        created=now - timedelta(days=900))  # fmt: skip
    fake.add_log_bucket(project, "_Default", created=now - timedelta(days=900))
    fake.add_log_bucket(project, "app-archive", location="us-central1", retention_days=365,
                        created=now - timedelta(days=730))  # fmt: skip
    end = int(now.replace(minute=0, second=0, microsecond=0).timestamp())
    days = [end - 86400 * back for back in range(LOOKBACK_DAYS * 2)]
    daily = (
        ("global", "_Default", "gce_instance", 6 * GIB),
        ("global", "_Default", "k8s_container", 2 * GIB),
        ("us-central1", "app-archive", "gce_instance", 2 * GIB),
        ("global", "_Required", "audited_resource", 1 * GIB),
    )
    for location, bucket, resource_type, size in daily:
        labels = {"log_bucket_location": location, "log_bucket_id": bucket,
                  "resource_type": resource_type, "log_source": project}  # fmt: skip
        fake.add_series(project, Series(LOG_INGESTED, "global", {"project_id": project}, labels,
                                        {"ALIGN_SUM": [(d, size) for d in days]},
                                        value_type="INT64"))  # fmt: skip
    for location, bucket, size in (
        ("global", "_Default", 240 * GIB),
        ("us-central1", "app-archive", 730 * GIB),
        ("global", "_Required", 400 * GIB),
    ):
        labels = {"log_bucket_location": location, "log_bucket_id": bucket,
                  "data_type": "LOG_ENTRIES"}  # fmt: skip
        fake.add_series(project, Series(LOG_STORED, "global", {"project_id": project}, labels,
                                        {"ALIGN_MEAN": [(d, size) for d in days[:2]]},
                                        value_type="INT64"))  # fmt: skip


def seed_recommendations(fake: FakeGcp, now: datetime) -> None:
    """Google's advice on the demo project, each a 30-day costProjection at list prices
    (0.194236 $/h for n2-standard-4 × 720 h = $139.85; n2-standard-8 less e2-standard-4,
    0.254449 $/h × 720 h = $183.20; 500 GB pd-ssd, $85 × 720 / 730 = $83.84; an address,
    $0.01 × 720 h = $7.20; n2-standard-2 less e2-standard-2, 0.030107 $/h × 720 h = $21.68)."""
    project = DEMO_PROJECT
    number = fake.project(DEMO_PROJECT).number
    refreshed = now - timedelta(hours=6)

    def instance(name: str) -> str:
        return f"//compute.googleapis.com/projects/{project}/zones/{DEMO_ZONE}/instances/{name}"

    fake.add_recommendation(
        project, DEMO_ZONE, IDLE_VM, resource=instance("batch-idle-1"), monthly_cost=-139.85,
        description="Save cost by stopping Idle VM 'batch-idle-1'.", subtype="STOP_VM",
        refreshed=refreshed,
    )  # fmt: skip
    fake.add_recommendation(
        project, DEMO_ZONE, MACHINE_TYPE, resource=instance("api-oversized"),
        monthly_cost=-183.20, machine_type="e2-standard-4", subtype="CHANGE_MACHINE_TYPE",
        description="Save cost by changing machine type from n2-standard-8 to e2-standard-4.",
        refreshed=refreshed,
    )  # fmt: skip
    fake.add_recommendation(
        project, DEMO_ZONE, MACHINE_TYPE, resource=instance("dev-box"), monthly_cost=-21.68,
        machine_type="e2-standard-2", subtype="CHANGE_MACHINE_TYPE",
        description="Save cost by changing machine type from n2-standard-2 to e2-standard-2.",
        refreshed=refreshed,
    )  # fmt: skip
    disk = f"//compute.googleapis.com/projects/{number}/zones/{DEMO_ZONE}/disks/orphan-data"
    fake.add_recommendation(
        project, DEMO_ZONE, IDLE_DISK, resource=disk, monthly_cost=-83.84,
        description="Save cost by snapshotting and then deleting idle persistent disk "
        "'orphan-data'.", subtype="SNAPSHOT_AND_DELETE_DISK", refreshed=refreshed,
        operations=[{"action": "remove", "resourceType": "compute.googleapis.com/Disk",
                     "resource": disk, "path": "/"}],
    )  # fmt: skip
    address = (
        f"//compute.googleapis.com/projects/{project}/regions/{DEMO_REGION}/addresses/legacy-lb-ip"
    )
    fake.add_recommendation(
        project, DEMO_REGION, IDLE_ADDRESS, resource=address, monthly_cost=-7.20,
        description="Save cost by deleting idle address 'legacy-lb-ip'.",
        subtype="DELETE_ADDRESS", refreshed=refreshed,
        operations=[{"action": "remove", "resourceType": "compute.googleapis.com/Address",
                     "resource": address, "path": "/"}],
    )  # fmt: skip
