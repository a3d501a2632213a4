"""Compute Engine collectors: instances, machine types, disks, snapshots, images, static
addresses and committed use discounts, read through google-cloud-compute (REST).

Every list follows all pages (the SDK's pagers follow ``nextPageToken``). The
answers become plain rows here and frames in ``frames_*``; identity follows gcloud's
resource paths (``projects/P/zones/Z/instances/NAME``), unique across projects, which the
Monitoring collector rebuilds from each time series' labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from costscan.providers.pricing import gcp as gcp_prices
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.units import BYTES_PER_GIB, HOURS_PER_MONTH
from costscan.scanner.contracts.vocab import ResourceType

PROVIDER = "gcp"
GLOBAL = "global"
# Compute Engine's instance states (https://cloud.google.com/compute/docs/instances/instance-life-cycle)
# in the compute frame's vocabulary: only "running" bills for vCPUs and memory.
STATES: dict[str, str] = {
    "RUNNING": "running",
    "PROVISIONING": "pending",
    "STAGING": "pending",
    "STOPPING": "stopping",
    "TERMINATED": "stopped",
    "STOPPED": "stopped",
    "SUSPENDING": "stopping",
    "SUSPENDED": "stopped",
    "REPAIRING": "running",
}
ARCHITECTURES = {"X86_64": "x86_64", "ARM64": "arm64"}
# Disk types priced per provisioned GB-month (data/gcp_storage_prices.csv).
DISK_PRICE_ITEMS = {"pd-standard", "pd-balanced", "pd-ssd"}


def relative(url: str | None) -> str | None:
    """A Compute Engine URL as its resource path: ``.../compute/v1/projects/p/zones/z/
    instances/vm`` -> ``projects/p/zones/z/instances/vm``."""
    if not url:
        return None
    at = url.find("projects/")
    return url[at:] if at >= 0 else url


def last(url: str | None) -> str | None:
    return url.rsplit("/", 1)[-1] if url else None


def region_of_zone(zone: str) -> str:
    """us-central1-a -> us-central1."""
    return zone.rsplit("-", 1)[0] if zone.count("-") >= 2 else zone


def timestamp(value: str | None) -> datetime | None:
    """Compute Engine's RFC 3339 timestamps (``2026-10-01T12:00:00.000-07:00``)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _aggregated(client: Any, request: dict[str, Any]) -> Iterable[tuple[str, Any]]:
    """(scope, scoped list) for every page of an aggregated list."""
    yield from client.aggregated_list(request=request)


# --------------------------------------------------------------------------- instances


@dataclass
class Instances:
    rows: list[dict[str, Any]] = field(default_factory=list)
    labels: list[dict[str, str]] = field(default_factory=list)
    # (instance id, device name, disk id) for each attached persistent disk: Monitoring's
    # disk metrics name the instance and the device, not the disk.
    devices: list[dict[str, str]] = field(default_factory=list)

    @property
    def types(self) -> set[str]:
        return {str(r["instance_type"]) for r in self.rows if r.get("instance_type")}


def list_instances(client: Any, project: str) -> Instances:
    """Every instance of ``project`` (aggregated list, all zones and pages)."""
    found = Instances()
    for _scope, scoped in _aggregated(client, {"project": project}):
        for vm in scoped.instances:
            zone = last(vm.zone) or ""
            rid = f"projects/{project}/zones/{zone}/instances/{vm.name}"
            scheduling = vm.scheduling
            spot = scheduling.provisioning_model == "SPOT" or bool(scheduling.preemptible)
            created_by = next(
                (item.value for item in vm.metadata.items if item.key == "created-by"), None
            )
            found.rows.append(
                {
                    "provider": PROVIDER,
                    "account_id": project,
                    "region": region_of_zone(zone),
                    "resource_id": rid,
                    "resource_name": vm.name,
                    "resource_type": ResourceType.GCE_INSTANCE.value,
                    "instance_type": last(vm.machine_type),
                    "state": STATES.get(vm.status, vm.status.lower() or None),
                    "lifecycle": "spot" if spot else "on-demand",
                    "launch_time": timestamp(vm.last_start_timestamp)
                    or timestamp(vm.creation_timestamp),
                    # A managed instance group's members say so in ``created-by``.
                    "group": last(created_by) if created_by else None,
                    "_stopped_since": timestamp(vm.last_stop_timestamp),
                    "_zone": zone,
                }
            )
            found.labels.extend(
                {"resource_id": rid, "key": key, "value": value}
                for key, value in sorted(vm.labels.items())
            )
            found.devices.extend(
                {"instance_id": rid, "device_name": disk.device_name, "disk_id": str(source)}
                for disk in vm.disks
                if (source := relative(disk.source)) and disk.device_name
            )
    return found


def machine_type_facts(client: Any, project: str, names: Sequence[str]) -> pl.DataFrame:
    """vCPUs, memory and architecture of the machine types in use (aggregated list of
    machine types, all pages, filtered by name: the filter's literal is an RE2 pattern
    matched whole)."""
    schema_ = {
        "instance_type": pl.String(),
        "_api_vcpus": pl.Float64(),
        "_api_memory_gib": pl.Float64(),
        "_api_architecture": pl.String(),
    }
    if not names:
        return pl.DataFrame(schema=schema_)
    pattern = "|".join(sorted(set(names)))
    seen: dict[str, tuple[float, float, str | None]] = {}
    for _scope, scoped in _aggregated(
        client, {"project": project, "filter": f'name eq "{pattern}"'}
    ):
        for mt in scoped.machine_types:
            seen.setdefault(
                mt.name,
                (float(mt.guest_cpus), mt.memory_mb / 1024.0, ARCHITECTURES.get(mt.architecture)),
            )
    return pl.DataFrame(
        [(name, *facts) for name, facts in sorted(seen.items())], schema=schema_, orient="row"
    )


def compute_frames(
    instances: Instances, facts: pl.DataFrame, prices: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ``compute`` and ``tags`` frames: each instance with its type's vCPUs, memory and
    architecture (the API's facts, else the bundled catalogue's) and its region's price."""
    rows = pl.DataFrame(
        instances.rows,
        schema={
            **{c: t for c, t in schema.COMPUTE.items() if c in _INSTANCE_COLUMNS},
            "_stopped_since": schema.UTC_TS,
            "_zone": pl.String(),
        },
    )
    catalogue = gcp_prices.machine_types().select(
        "instance_type",
        pl.col("vcpus").alias("_cat_vcpus"),
        pl.col("memory_gib").alias("_cat_memory_gib"),
        pl.col("architecture").alias("_cat_architecture"),
    )
    priced = prices.select(
        "region",
        "instance_type",
        pl.col("hourly_price"),
        pl.col("source").alias("price_source"),
    )
    compute = (
        rows.join(facts, on="instance_type", how="left")
        .join(catalogue, on="instance_type", how="left")
        .join(priced, on=["region", "instance_type"], how="left")
        .with_columns(
            pl.coalesce("_api_vcpus", "_cat_vcpus").alias("vcpus"),
            pl.coalesce("_api_memory_gib", "_cat_memory_gib").alias("memory_gib"),
            pl.coalesce("_api_architecture", "_cat_architecture").alias("architecture"),
            pl.col("price_source").fill_null("none"),
        )
    )
    tags = pl.DataFrame(instances.labels, schema=dict(schema.TAGS))
    return schema.conform("compute", compute), tags


_INSTANCE_COLUMNS = (
    *schema.IDENTITY_COLUMNS,
    "instance_type",
    "state",
    "lifecycle",
    "launch_time",
    "group",
)


# --------------------------------------------------------------------------- disks


def list_disks(client: Any, project: str) -> list[dict[str, Any]]:
    """Every persistent disk and Hyperdisk of ``project`` (aggregated list, all pages)."""
    rows = []
    for _scope, scoped in _aggregated(client, {"project": project}):
        for disk in scoped.disks:
            zone = last(disk.zone)
            region = region_of_zone(zone) if zone else (last(disk.region) or GLOBAL)
            where = f"zones/{zone}" if zone else f"regions/{region}"
            users = [relative(u) for u in disk.users]
            rows.append(
                {
                    "provider": PROVIDER,
                    "account_id": project,
                    "region": region,
                    "resource_id": f"projects/{project}/{where}/disks/{disk.name}",
                    "resource_name": disk.name,
                    "resource_type": ResourceType.PERSISTENT_DISK.value,
                    "volume_type": last(disk.type_),
                    "size_gb": float(disk.size_gb),
                    "iops": float(disk.provisioned_iops) if disk.provisioned_iops else None,
                    "throughput": float(disk.provisioned_throughput)
                    if disk.provisioned_throughput
                    else None,
                    "attached_to": users[0] if users else None,
                    # The vocabulary the volume policies read (EBS's): a disk no instance
                    # uses is "available".
                    "state": "in-use" if users else "available",
                    "created": timestamp(disk.creation_timestamp),
                    "_labels": dict(disk.labels),
                }
            )
    return rows


def volumes_frame(
    disks: list[dict[str, Any]], compute: pl.DataFrame, stopped: pl.DataFrame
) -> pl.DataFrame:
    """The ``volumes`` frame: each disk priced at its type's per-GB list price (the
    region's, else us-central1's with ``price_region`` saying so), with the state of the
    instance it is attached to."""
    frame = pl.DataFrame(
        [{k: v for k, v in d.items() if not k.startswith("_")} for d in disks],
        schema={c: schema.VOLUMES[c] for c in _DISK_COLUMNS},
    )
    items = {f"_price_{t}": f"disk.{t}" for t in sorted(DISK_PRICE_ITEMS)}
    items["price_snapshot_gb_month"] = "snapshot.standard"
    priced = gcp_prices.with_regional_prices(frame, items)
    per_gb = pl.coalesce(
        *[
            pl.when(pl.col("volume_type") == t).then(pl.col(f"_price_{t}"))
            for t in sorted(DISK_PRICE_ITEMS)
        ]
    )
    attached = compute.select(
        pl.col("resource_id").alias("attached_to"),
        pl.col("state").alias("attached_state"),
    )
    out = (
        priced.with_columns(
            per_gb.alias("price_storage_gb_month"),
            pl.col("_price_pd-balanced").alias("price_pd_balanced_gb_month"),
        )
        .with_columns(
            (pl.col("size_gb") * pl.col("price_storage_gb_month")).alias("monthly_price"),
            pl.lit(0.0).alias("price_iops_month"),
            pl.when(pl.col("price_storage_gb_month").is_not_null())
            .then(pl.lit("bundled"))
            .otherwise(pl.lit("none"))
            .alias("price_source"),
        )
        .join(attached, on="attached_to", how="left")
        .join(stopped, on="attached_to", how="left")
    )
    return schema.conform("volumes", out)


def stopped_since(compute_rows: list[dict[str, Any]]) -> pl.DataFrame:
    """When each stopped instance stopped (``lastStopTimestamp``), by its resource id."""
    return pl.DataFrame(
        [
            {"attached_to": r["resource_id"], "attached_stopped_since": r["_stopped_since"]}
            for r in compute_rows
            if r.get("state") == "stopped"
        ],
        schema={"attached_to": pl.String(), "attached_stopped_since": schema.UTC_TS},
    )


_DISK_COLUMNS = (
    *schema.IDENTITY_COLUMNS,
    "volume_type",
    "size_gb",
    "iops",
    "throughput",
    "attached_to",
    "state",
    "created",
)


# --------------------------------------------------------------------------- snapshots


def list_snapshots(client: Any, project: str) -> list[Any]:
    return list(client.list(request={"project": project}))


def image_snapshots(client: Any, project: str) -> set[str]:
    """Snapshots the project's own images were made from (such a snapshot is kept)."""
    return {
        str(relative(image.source_snapshot))
        for image in client.list(request={"project": project})
        if image.source_snapshot
    }


def snapshots_frame(
    project: str, snapshots: list[Any], disk_ids: set[str], used_by_images: set[str]
) -> pl.DataFrame:
    """The ``snapshots`` frame: billed size (``storageBytes``, what the snapshot stores
    after compression and increments; the source disk's size when absent), priced at its
    storage location's standard or archive snapshot rate."""
    rows = []
    for snap in snapshots:
        rid = f"projects/{project}/global/snapshots/{snap.name}"
        stored = float(snap.storage_bytes or 0) / BYTES_PER_GIB
        location = snap.storage_locations[0] if snap.storage_locations else "us"
        source = relative(snap.source_disk)
        rows.append(
            {
                "provider": PROVIDER,
                "account_id": project,
                "region": location,
                "resource_id": rid,
                "resource_name": snap.name,
                "resource_type": ResourceType.GCE_SNAPSHOT.value,
                "size_gb": stored if stored > 0 else float(snap.disk_size_gb),
                "created": timestamp(snap.creation_timestamp),
                "source_volume": source,
                "source_exists": source in disk_ids if source else False,
                "used_by_image": rid in used_by_images,
                "storage_tier": (snap.snapshot_type or "STANDARD").lower(),
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={
            **{c: schema.SNAPSHOTS[c] for c in schema.IDENTITY_COLUMNS},
            "size_gb": pl.Float64(),
            "created": schema.UTC_TS,
            "source_volume": pl.String(),
            "source_exists": pl.Boolean(),
            "used_by_image": pl.Boolean(),
            "storage_tier": pl.String(),
        },
    )
    priced = gcp_prices.with_regional_prices(
        frame, {"_standard": "snapshot.standard", "_archive": "snapshot.archive"}
    )
    out = priced.with_columns(
        pl.when(pl.col("storage_tier") == "archive")
        .then(pl.col("_archive"))
        .otherwise(pl.col("_standard"))
        .alias("price_gb_month")
    ).with_columns(
        (pl.col("size_gb") * pl.col("price_gb_month")).alias("monthly_price"),
        pl.lit("bundled").alias("price_source"),
    )
    return schema.conform("snapshots", out)


# --------------------------------------------------------------------------- addresses


def list_addresses(regional: Any, global_: Any, project: str) -> list[dict[str, Any]]:
    """Every external static address, regional (aggregated list) and global."""
    rows = []
    found = [
        (addr, last(addr.region) or GLOBAL)
        for _scope, scoped in _aggregated(regional, {"project": project})
        for addr in scoped.addresses
    ]
    found += [(addr, GLOBAL) for addr in global_.list(request={"project": project})]
    for addr, region in found:
        # Internal addresses are free; only external ones bill when reserved and unused.
        if (addr.address_type or "EXTERNAL") != "EXTERNAL":
            continue
        where = "global" if region == GLOBAL else f"regions/{region}"
        rows.append(
            {
                "provider": PROVIDER,
                "account_id": project,
                "region": region,
                "resource_id": f"projects/{project}/{where}/addresses/{addr.name}",
                "resource_name": f"{addr.name} ({addr.address})" if addr.address else addr.name,
                "resource_type": ResourceType.STATIC_ADDRESS.value,
                "kind": "static_address",
                "attached": addr.status == "IN_USE" or bool(addr.users),
                "created": timestamp(addr.creation_timestamp),
            }
        )
    return rows


def network_idle_frame(addresses: list[dict[str, Any]]) -> pl.DataFrame:
    """The ``network_idle`` frame's static addresses, priced at the unused-address rate."""
    frame = pl.DataFrame(
        addresses,
        schema={
            **{c: schema.NETWORK_IDLE[c] for c in schema.IDENTITY_COLUMNS},
            "kind": pl.String(),
            "attached": pl.Boolean(),
            "created": schema.UTC_TS,
        },
    )
    priced = gcp_prices.with_regional_prices(frame, {"hourly_price": "address.static_unused"})
    return schema.conform(
        "network_idle", priced.with_columns(pl.lit("bundled").alias("price_source"))
    )


# --------------------------------------------------------------------------- commitments


def list_commitments(client: Any, project: str) -> list[dict[str, Any]]:
    """Resource-based committed use discounts (regionCommitments, aggregated, all pages):
    series, region, term, vCPUs and memory committed, start, end and status."""
    rows = []
    for _scope, scoped in _aggregated(client, {"project": project}):
        for cud in scoped.commitments:
            region = last(cud.region) or GLOBAL
            vcpus = sum(float(r.amount) for r in cud.resources if r.type_ == "VCPU")
            memory_mb = sum(float(r.amount) for r in cud.resources if r.type_ == "MEMORY")
            rows.append(
                {
                    "provider": PROVIDER,
                    "account_id": project,
                    "region": region,
                    "resource_id": f"projects/{project}/regions/{region}/commitments/{cud.name}",
                    "resource_name": cud.name,
                    "resource_type": ResourceType.COMMITTED_USE_DISCOUNT.value,
                    "kind": "cud",
                    "family": gcp_prices.COMMITMENT_TYPE_SERIES.get(cud.type_),
                    "term": {"TWELVE_MONTH": "1yr", "THIRTY_SIX_MONTH": "3yr"}.get(
                        cud.plan, cud.plan or None
                    ),
                    "state": (cud.status or "").lower() or None,
                    "start": timestamp(cud.start_timestamp),
                    "expires": timestamp(cud.end_timestamp),
                    "source": "compute",
                    "offering_class": cud.type_ or None,
                    "_vcpus": vcpus,
                    "_memory_gib": memory_mb / 1024.0,
                }
            )
    return rows


def commitments_frame(
    cuds: list[dict[str, Any]], compute: pl.DataFrame, now: datetime
) -> pl.DataFrame:
    """The CUD rows and, per project, region and series, a ``coverage`` row: the on-demand
    cost of the running usage no CUD covers a month, which is what a change to a covered
    instance can take off the bill now (policies/_discounts.py).

    Usage per scope = the billed vCPUs (shared-core E2 types bill a fraction) and GiB of
    running, non-spot instances of the series in the region; uncovered = max(0, usage −
    committed), priced at the series' on-demand rates × 730. A CUD's utilization is the
    lower of used/committed for vCPUs and for memory, capped at 1; its
    ``monthly_commitment`` = (vCPUs × core rate + GiB × RAM rate) × 730 × (1 − the term's
    discount, ``gcp_prices.CUD_DISCOUNT``), ``on_demand_equivalent`` the same at on demand.
    """
    held = pl.DataFrame(
        cuds,
        schema={
            **{c: schema.COMMITMENTS[c] for c in schema.IDENTITY_COLUMNS},
            "kind": pl.String(),
            "family": pl.String(),
            "term": pl.String(),
            "state": pl.String(),
            "start": schema.UTC_TS,
            "expires": schema.UTC_TS,
            "source": pl.String(),
            "offering_class": pl.String(),
            "_vcpus": pl.Float64(),
            "_memory_gib": pl.Float64(),
        },
    )
    moment = pl.lit(now, dtype=schema.UTC_TS)
    active = (pl.col("state") == "active") & (
        pl.col("expires").is_null() | (pl.col("expires") > moment)
    )
    scope = ["provider", "account_id", "region", "family"]
    committed = (
        held.filter(active)
        .group_by(scope)
        .agg(pl.col("_vcpus").sum().alias("_c_vcpus"), pl.col("_memory_gib").sum().alias("_c_mem"))
    )
    billed = gcp_prices.machine_types().select("instance_type", "billed_vcpus")
    usage = (
        compute.filter((pl.col("state") == "running") & (pl.col("lifecycle") != "spot"))
        .join(billed, on="instance_type", how="left")
        .with_columns(gcp_prices.series_of(pl.col("instance_type")).alias("family"))
        .group_by(scope)
        .agg(
            pl.coalesce("billed_vcpus", "vcpus").sum().alias("_u_vcpus"),
            pl.col("memory_gib").sum().alias("_u_mem"),
        )
    )
    rates = gcp_prices.compute_rates().rename({"series": "family"})
    joined = (
        committed.join(usage, on=scope, how="left")
        .with_columns(pl.col("_u_vcpus").fill_null(0.0), pl.col("_u_mem").fill_null(0.0))
        .join(rates, on=["family", "region"], how="left")
    )
    uncovered = (
        (pl.col("_u_vcpus") - pl.col("_c_vcpus")).clip(lower_bound=0.0) * pl.col("core_hour")
        + (pl.col("_u_mem") - pl.col("_c_mem")).clip(lower_bound=0.0) * pl.col("ram_gib_hour")
    ) * HOURS_PER_MONTH
    covered = (
        pl.min_horizontal("_u_vcpus", "_c_vcpus") * pl.col("core_hour")
        + pl.min_horizontal("_u_mem", "_c_mem") * pl.col("ram_gib_hour")
    ) * HOURS_PER_MONTH
    utilization = pl.min_horizontal(
        pl.when(pl.col("_c_vcpus") > 0).then(pl.col("_u_vcpus") / pl.col("_c_vcpus")),
        pl.when(pl.col("_c_mem") > 0).then(pl.col("_u_mem") / pl.col("_c_mem")),
    ).clip(upper_bound=1.0)
    coverage = joined.with_columns(
        uncovered.alias("on_demand_cost"),
        covered.alias("covered_cost"),
        utilization.alias("_utilization"),
    )
    coverage_rows = coverage.select(
        "provider",
        "account_id",
        "region",
        pl.format("cud-coverage|{}|{}|{}", "account_id", "region", "family").alias("resource_id"),
        pl.format("CUD coverage of {} in {}", "family", "region").alias("resource_name"),
        pl.lit(ResourceType.COMMITMENT_COVERAGE.value).alias("resource_type"),
        pl.lit("coverage").alias("kind"),
        pl.lit("cud").alias("covered_by"),
        "family",
        "on_demand_cost",
        "covered_cost",
        pl.lit("compute").alias("source"),
    )
    # What each CUD bills a month whether used or not: its vCPUs and GiB at the series'
    # on-demand rates less the term's discount (``gcp_prices.CUD_DISCOUNT``).
    discount = pl.col("term").replace_strict(
        gcp_prices.CUD_DISCOUNT, default=None, return_dtype=pl.Float64
    )
    on_demand = (
        pl.col("_vcpus") * pl.col("core_hour") + pl.col("_memory_gib") * pl.col("ram_gib_hour")
    ) * HOURS_PER_MONTH
    cud_rows = (
        held.join(coverage.select(*scope, "_utilization"), on=scope, how="left")
        .join(
            rates.select("family", "region", "core_hour", "ram_gib_hour"),
            on=["family", "region"],
            how="left",
        )
        .select(
            pl.exclude("_vcpus", "_memory_gib", "_utilization", "core_hour", "ram_gib_hour"),
            pl.when(active).then(pl.col("_utilization").fill_null(0.0)).alias("utilization"),
            on_demand.alias("on_demand_equivalent"),
            (on_demand * (1.0 - discount)).alias("monthly_commitment"),
        )
    )
    return pl.concat(
        [schema.conform("commitments", cud_rows), schema.conform("commitments", coverage_rows)],
        how="vertical",
    )
