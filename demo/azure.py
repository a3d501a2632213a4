"""`costscan demo --provider azure`: a seeded, offline Azure subscription on ``FakeAzure``.

One subscription, ``costscan-demo``, in eastus, shaped like the cases a FinOps review
meets, each the twin of one in the AWS and GCP demos:

- ``batch-idle-1`` (Standard_D4s_v5): idle, CPU under 1% and quiet network;
- ``api-oversized`` (Standard_D8s_v5): p99 CPU about 11%, a quarter of its memory used,
  fits a smaller size;
- ``web-1``, ``web-2`` (Standard_D4s_v5): busy, left alone; ``dev-box``
  (Standard_D2s_v5, tag env=dev) busy in office hours only; ``ci-runner``
  (Standard_D4s_v5) on Spot;
- ``build-old`` (Standard_D2s_v5): deallocated 45 days ago, its OS disk still billed;
- ``orphan-data`` (Premium SSD, 512 GiB, P20) and ``old-export`` (Standard HDD, 1 TiB,
  S30): unattached;
- a 2-year-old snapshot of a disk that is gone; a Standard static public IP associated
  with nothing;
- Azure Advisor's advice: shut down the idle VM, resize the over-sized one, and resize
  ``dev-box``, which costscan schedules instead; and buy a 1-year reservation for the two
  steady Standard_D4s_v5 web VMs (listed for review, never counted);
- ``nat-legacy``: a NAT gateway attached to no subnet; ``lb-retired``: a Standard load
  balancer with no backend; ``lb-web`` serves web-1 and web-2;
- ``costscandemologs``: a storage account with 2 TiB of blobs in the Hot tier and no
  lifecycle management policy; ``costscandemoassets`` has one;
- Cost Management's amortized costs over the lookback: ``batch-idle-1`` is covered by a
  savings plan and billed $0.1536 an hour (20% under its $0.192 list price), so its saving
  counts at what it is billed; ``api-oversized`` is billed at list.

Every VM has a 128 GiB Premium SSD OS disk (P10). Hourly utilization series cover the run's
lookback (14 days).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from costscan.demo.azure_fake import FakeAzure, MetricSeries

DEMO_SUBSCRIPTION = "00000000-0000-4000-8000-0000c0575ca1"
DEMO_SUBSCRIPTION_NAME = "costscan-demo"
DEMO_GROUP = "rg-costscan-demo"
DEMO_REGION = "eastus"
LOOKBACK_DAYS = 14
DEMO_SEED = 20261206
GIB = 1024**3

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
    if hour.weekday() < 5 and 8 <= hour.hour < 18:
        mean = rng.uniform(35.0, 60.0)
        return mean, mean + rng.uniform(5, 15), rng.uniform(1e9, 2e9), rng.uniform(1e9, 2e9)
    return idle(hour, rng)


@dataclass(frozen=True)
class DemoVm:
    name: str
    size: str
    shape: Shape | None
    tags: tuple[tuple[str, str], ...] = ()
    power: str = "running"
    spot: bool = False


VMS: tuple[DemoVm, ...] = (
    DemoVm("batch-idle-1", "Standard_D4s_v5", idle, (("team", "data"),)),
    DemoVm("api-oversized", "Standard_D8s_v5", oversized, (("team", "api"), ("env", "prod"))),
    DemoVm("web-1", "Standard_D4s_v5", busy, (("team", "web"), ("env", "prod"))),
    DemoVm("web-2", "Standard_D4s_v5", busy, (("team", "web"), ("env", "prod"))),
    DemoVm("dev-box", "Standard_D2s_v5", office_hours, (("env", "dev"), ("owner", "alice"))),
    DemoVm("ci-runner", "Standard_D4s_v5", busy, (("team", "ci"),), spot=True),
    DemoVm("build-old", "Standard_D2s_v5", None, (("team", "build"),), power="deallocated"),
)


def start_demo_azure(now: datetime, page_size: int | None = None) -> FakeAzure:
    """Start the fake on 127.0.0.1 (HTTPS) and seed the demo subscription; ``.stop()``
    ends it."""
    fake = FakeAzure() if page_size is None else FakeAzure(page_size=page_size)
    seed_demo_subscription(fake, now)
    return fake.start()


def hourly(
    shape: Shape, now: datetime, rng: random.Random
) -> list[tuple[datetime, tuple[float, ...]]]:
    """(hour start, figures) for every whole hour of the lookback before ``now``."""
    end = now.replace(minute=0, second=0, microsecond=0)
    return [
        (end - timedelta(hours=back), shape(end - timedelta(hours=back), rng))
        for back in range(LOOKBACK_DAYS * 24, 0, -1)
    ]


def vm_series(
    resource_id: str, figures: list[tuple[datetime, tuple[float, ...]]]
) -> list[MetricSeries]:
    """The three platform metrics Azure publishes for every VM, hourly."""
    return [
        MetricSeries(resource_id, "Percentage CPU",
                     [(t, {"average": f[0], "maximum": f[1]}) for t, f in figures]),
        MetricSeries(resource_id, "Network In Total",
                     [(t, {"total": float(round(f[2]))}) for t, f in figures]),
        MetricSeries(resource_id, "Network Out Total",
                     [(t, {"total": float(round(f[3]))}) for t, f in figures]),
    ]  # fmt: skip


def seed_demo_subscription(fake: FakeAzure, now: datetime) -> None:
    from costscan.providers.pricing import azure as azure_prices

    rng = random.Random(DEMO_SEED)
    sub = fake.subscription(DEMO_SUBSCRIPTION, DEMO_SUBSCRIPTION_NAME).subscription_id
    sizes = azure_prices.vm_prices().filter(azure_prices.vm_prices()["region"] == DEMO_REGION)
    fake.add_sizes(
        sub,
        DEMO_REGION,
        [
            {"name": r["instance_type"], "vcpus": r["vcpus"], "memory_gib": r["memory_gib"]}
            for r in sizes.iter_rows(named=True)
        ],
    )
    created = now - timedelta(days=120)
    ids: dict[str, str] = {}
    for vm in VMS:
        stopped = now - timedelta(days=45) if vm.power == "deallocated" else None
        made = fake.add_vm(
            sub, DEMO_GROUP, DEMO_REGION, vm.name, vm.size, power=vm.power,
            tags=dict(vm.tags), created=created, last_operation=stopped, spot=vm.spot,
        )  # fmt: skip
        ids[vm.name] = str(made["id"])
        fake.add_disk(
            sub, DEMO_GROUP, DEMO_REGION, f"{vm.name}_OsDisk_1", "Premium_LRS", 128,
            managed_by=made["id"], created=created, reserved=vm.power == "deallocated",
        )  # fmt: skip
        if vm.shape is not None:
            for series in vm_series(made["id"], hourly(vm.shape, now, rng)):
                fake.add_metric(sub, series)
    # The Azure Monitor agent reports available memory on the over-sized VM: about three
    # quarters of its 32 GiB free, so a quarter used.
    fake.add_metric(
        sub,
        MetricSeries(
            ids["api-oversized"],
            "Available Memory Bytes",
            [(t, {"average": 24.0 * GIB}) for t, _ in hourly(idle, now, random.Random(1))],
        ),
    )
    fake.add_disk(sub, DEMO_GROUP, DEMO_REGION, "orphan-data", "Premium_LRS", 512,
                  created=now - timedelta(days=60))  # fmt: skip
    fake.add_disk(sub, DEMO_GROUP, DEMO_REGION, "old-export", "Standard_LRS", 1024,
                  created=now - timedelta(days=200))  # fmt: skip
    gone = (
        f"/subscriptions/{sub}/resourceGroups/{DEMO_GROUP}/providers/Microsoft.Compute/"
        "disks/retired-db"
    )
    fake.add_snapshot(sub, DEMO_GROUP, DEMO_REGION, "nightly-2024-11", source=gone,
                      size_gb=256, created=now - timedelta(days=730))  # fmt: skip
    fake.add_public_ip(sub, DEMO_GROUP, DEMO_REGION, "legacy-lb-ip", "203.0.113.7")
    fake.add_public_ip(
        sub, DEMO_GROUP, DEMO_REGION, "web-ip", "203.0.113.8",
        associated_with=f"{ids['web-1']}-nic/ipConfigurations/ipconfig1",
    )  # fmt: skip
    seed_advice(fake, ids, now)
    fake.add_nat_gateway(sub, DEMO_GROUP, DEMO_REGION, "nat-legacy")
    fake.add_load_balancer(sub, DEMO_GROUP, DEMO_REGION, "lb-retired")
    fake.add_load_balancer(
        sub, DEMO_GROUP, DEMO_REGION, "lb-web",
        backends=[f"{ids[n]}-nic/ipConfigurations/ipconfig1" for n in ("web-1", "web-2")],
    )  # fmt: skip
    logs = fake.add_storage_account(sub, DEMO_GROUP, DEMO_REGION, "costscandemologs")
    assets = fake.add_storage_account(
        sub, DEMO_GROUP, DEMO_REGION, "costscandemoassets",
        lifecycle=[{"enabled": True, "name": "cool-after-30-days", "type": "Lifecycle",
                    "definition": {"filters": {"blobTypes": ["blockBlob"]},
                                   "actions": {"baseBlob": {"tierToCool": {
                                       "daysAfterModificationGreaterThan": 30}}}}}],
    )  # fmt: skip
    day = [now - timedelta(hours=back) for back in range(24, 0, -1)]
    for account, (size, blobs) in ((logs, (2048 * GIB, 420_000.0)), (assets, (150 * GIB, 9e4))):
        service = f"{account}/blobServices/default"
        fake.add_metric(
            sub, MetricSeries(service, "BlobCapacity", [(t, {"average": float(size)}) for t in day])
        )
        fake.add_metric(sub, MetricSeries(service, "BlobCount",
                                          [(t, {"average": blobs}) for t in day]))  # fmt: skip
    # Amortized cost over the lookback's whole days (14 × 24 = 336 hours of each VM).
    hours = float(LOOKBACK_DAYS * 24)
    fake.add_cost(sub, ids["batch-idle-1"], "Virtual Machines", 0.1536 * hours, hours)
    fake.add_cost(sub, ids["api-oversized"], "Virtual Machines", 0.384 * hours, hours)


def seed_advice(fake: FakeAzure, ids: dict[str, str], now: datetime) -> None:
    """Advisor's advice at retail prices per 730-hour month: shutting down a D4s_v5,
    $0.192 × 730 = $140.16; D8s_v5 to D4s_v5, ($0.384 − $0.192) × 730 = $140.16; D2s_v5 to
    B2s, ($0.096 − $0.0416) × 730 = $39.71."""
    updated = now - timedelta(hours=6)
    sub = DEMO_SUBSCRIPTION
    fake.add_advice(sub, ids["batch-idle-1"], kind="Shutdown", current_sku="Standard_D4s_v5",
                    target_sku="Shutdown", monthly_savings=140.16, region=DEMO_REGION,
                    updated=updated)  # fmt: skip
    fake.add_advice(sub, ids["api-oversized"], kind="SkuChange", current_sku="Standard_D8s_v5",
                    target_sku="Standard_D4s_v5", monthly_savings=140.16, region=DEMO_REGION,
                    updated=updated)  # fmt: skip
    fake.add_advice(sub, ids["dev-box"], kind="SkuChange", current_sku="Standard_D2s_v5",
                    target_sku="Standard_B2s", monthly_savings=39.71, region=DEMO_REGION,
                    updated=updated)  # fmt: skip
    # Advisor's own projection for two reserved D4s_v5 over a year (its figure, at retail).
    fake.add_reservation_advice(sub, size="Standard_D4s_v5", quantity=2, term="P1Y",
                                monthly_savings=113.53, region=DEMO_REGION,
                                updated=updated)  # fmt: skip
