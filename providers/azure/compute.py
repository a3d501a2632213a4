"""Compute and network collectors: virtual machines (sizes, power state, Spot priority,
tags), managed disks, snapshots and public IP addresses, read through azure-mgmt-compute
and azure-mgmt-network.

Every list follows all pages (the SDK's pagers follow ``nextLink``). Identity is the ARM
resource id as ARM returns it (``/subscriptions/S/resourceGroups/RG/providers/
Microsoft.Compute/virtualMachines/NAME``); ARM ids are case-insensitive, so references
between resources (a disk's ``managedBy``, a metric's resource) are matched in lower case
and written back in the VM's own spelling.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from costscan.providers.pricing import azure as azure_prices
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.vocab import ResourceType

PROVIDER = "azure"
# Power states (https://learn.microsoft.com/azure/virtual-machines/states-billing) in the
# compute frame's vocabulary. A VM "stopped" from inside the OS is still allocated and bills
# its compute like a running one: only "deallocated" stops the bill, so "stopped" reads as
# running here (the idle policy then sees it at 0% CPU, which is what it costs for).
POWER_STATES: dict[str, str] = {
    "running": "running",
    "starting": "pending",
    "stopping": "stopping",
    "stopped": "running",
    "deallocating": "stopping",
    "deallocated": "stopped",
}
# Managed disk states (https://learn.microsoft.com/rest/api/compute/disks/get, DiskState) in
# the volumes frame's vocabulary (EBS's): only "Unattached" is "available".
DISK_STATES: dict[str, str] = {"unattached": "available"}
HOURS_PER_MONTH = 730.0


def text(value: Any) -> str | None:
    """An SDK enum (a str subclass whose str() is its class and member name) or string as
    its plain value; None stays None."""
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _time(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


# --------------------------------------------------------------------------- VMs


@dataclass
class Vms:
    rows: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)

    @property
    def locations(self) -> list[str]:
        return sorted({str(r["region"]) for r in self.rows})

    def ids(self) -> dict[str, str]:
        """Each VM's id in lower case -> as ARM spells it."""
        return {str(r["resource_id"]).lower(): str(r["resource_id"]) for r in self.rows}


def list_vms(client: Any, subscription: str) -> Vms:
    """Every VM of ``subscription`` (List All, all pages), with its power state from a second
    List All with ``statusOnly=true`` (which returns each VM's instance view): two listings
    a subscription, never one call per VM."""
    views: dict[str, Any] = {}
    for vm in client.virtual_machines.list_all(status_only="true"):
        views[str(vm.id).lower()] = vm.instance_view
    found = Vms()
    for vm in client.virtual_machines.list_all():
        view = views.get(str(vm.id).lower())
        statuses = list(getattr(view, "statuses", None) or [])
        power = next(
            (str(s.code).split("/", 1)[1].lower() for s in statuses
             if str(s.code or "").startswith("PowerState/")),
            None,
        )  # fmt: skip
        # The instance view gives no time for a power state; the last successful operation
        # (for a deallocated VM, usually the deallocation) is the nearest stop date it has.
        last_operation = next(
            (s.time for s in statuses if str(s.code or "").startswith("ProvisioningState/")),
            None,
        )
        os_type = None
        if vm.storage_profile and vm.storage_profile.os_disk:
            os_type = text(vm.storage_profile.os_disk.os_type)
        scale_set = vm.virtual_machine_scale_set.id if vm.virtual_machine_scale_set else None
        state = POWER_STATES.get(power or "", power)
        found.rows.append(
            {
                "provider": PROVIDER,
                "account_id": subscription,
                "region": str(vm.location),
                "resource_id": str(vm.id),
                "resource_name": str(vm.name),
                "resource_type": ResourceType.AZURE_VM.value,
                "instance_type": vm.hardware_profile.vm_size if vm.hardware_profile else None,
                "state": state,
                "lifecycle": "spot" if (text(vm.priority) or "").lower() == "spot" else "on-demand",
                "launch_time": _time(vm.time_created),
                "group": scale_set.rsplit("/", 1)[-1] if scale_set else None,
                "platform": os_type.lower() if os_type else None,
                "_stopped_since": _time(last_operation) if state == "stopped" else None,
                "_license_type": vm.license_type,
            }
        )
        found.tags.extend(
            {"resource_id": str(vm.id), "key": k, "value": v}
            for k, v in sorted((vm.tags or {}).items())
        )
    return found


def size_facts(client: Any, locations: Iterable[str]) -> pl.DataFrame:
    """vCPUs and memory of every size offered in ``locations`` (Virtual Machine Sizes -
    List, one call a location)."""
    rows: dict[tuple[str, str], tuple[float, float]] = {}
    for location in locations:
        for size in client.virtual_machine_sizes.list(location):
            rows[(location, str(size.name))] = (
                float(size.number_of_cores),
                float(size.memory_in_mb) / 1024.0,
            )
    return pl.DataFrame(
        [(loc, name, *facts) for (loc, name), facts in sorted(rows.items())],
        schema={
            "region": pl.String(),
            "instance_type": pl.String(),
            "_api_vcpus": pl.Float64(),
            "_api_memory_gib": pl.Float64(),
        },
        orient="row",
    )


def compute_frames(
    vms: Vms, facts: pl.DataFrame, prices: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ``compute`` and ``tags`` frames: each VM with its size's vCPUs and memory (the
    API's, else the bundled catalogue's), architecture and its region's Linux price.

    A Windows VM without Azure Hybrid Benefit also pays the Windows license, which the
    bundled Linux price leaves out: it is priced as none rather than too low. With Hybrid
    Benefit (``licenseType`` Windows_Server) the license is the customer's own and the
    Linux rate is what Azure bills."""
    rows = pl.DataFrame(
        vms.rows,
        schema={
            **{c: t for c, t in schema.COMPUTE.items() if c in _VM_COLUMNS},
            "_stopped_since": schema.UTC_TS,
            "_license_type": pl.String(),
        },
    )
    catalogue = prices.select(
        "region",
        "instance_type",
        pl.col("vcpus").alias("_cat_vcpus"),
        pl.col("memory_gib").alias("_cat_memory_gib"),
        pl.col("hourly_price").alias("_cat_price"),
        pl.col("source").alias("_cat_source"),
    )
    priced_os = (
        pl.col("platform").is_null()
        | (pl.col("platform") != "windows")
        | (pl.col("_license_type").fill_null("").str.starts_with("Windows"))
    )
    compute = (
        azure_prices.size_facts(rows)
        .join(facts, on=["region", "instance_type"], how="left")
        .join(catalogue, on=["region", "instance_type"], how="left")
        .with_columns(
            pl.coalesce("_api_vcpus", "_cat_vcpus").alias("vcpus"),
            pl.coalesce("_api_memory_gib", "_cat_memory_gib").alias("memory_gib"),
            pl.when(priced_os).then(pl.col("_cat_price")).alias("hourly_price"),
            pl.when(priced_os & pl.col("_cat_price").is_not_null())
            .then(pl.col("_cat_source"))
            .otherwise(pl.lit("none"))
            .alias("price_source"),
        )
    )
    tags = pl.DataFrame(vms.tags, schema=dict(schema.TAGS))
    return schema.conform("compute", compute), tags


_VM_COLUMNS = (
    *schema.IDENTITY_COLUMNS,
    "instance_type",
    "state",
    "lifecycle",
    "launch_time",
    "group",
    "platform",
)


def stopped_since(vms: Vms) -> pl.DataFrame:
    """When each deallocated VM stopped, by its id in lower case (``_attached_key``)."""
    return pl.DataFrame(
        [
            {"_attached_key": str(r["resource_id"]).lower(),
             "attached_stopped_since": r["_stopped_since"]}
            for r in vms.rows
            if r.get("state") == "stopped"
        ],
        schema={"_attached_key": pl.String(), "attached_stopped_since": schema.UTC_TS},
    )  # fmt: skip


# --------------------------------------------------------------------------- disks


def list_disks(client: Any, subscription: str) -> list[dict[str, Any]]:
    """Every managed disk of ``subscription`` (Disks - List, all pages) with its billed
    tier and price."""
    rows = []
    for disk in client.disks.list():
        sku = text(disk.sku.name) if disk.sku else None
        size = float(disk.disk_size_gb or 0)
        billed = azure_prices.disk_tier(sku or "", size, disk.tier, str(disk.location))
        state = (text(disk.disk_state) or "").lower()
        rows.append(
            {
                "provider": PROVIDER,
                "account_id": subscription,
                "region": str(disk.location),
                "resource_id": str(disk.id),
                "resource_name": str(disk.name),
                "resource_type": ResourceType.MANAGED_DISK.value,
                "volume_type": f"{sku} {billed['tier']}" if billed["tier"] else sku,
                "size_gb": size,
                "iops": float(disk.disk_iops_read_write) if disk.disk_iops_read_write else None,
                "throughput": float(disk.disk_m_bps_read_write)
                if disk.disk_m_bps_read_write
                else None,
                "attached_to": disk.managed_by or None,
                "state": DISK_STATES.get(state, "in-use"),
                "created": _time(disk.time_created),
                "monthly_price": billed["monthly_price"],
                "price_region": billed["price_region"],
                "price_reference": billed["price_reference"],
            }
        )
    return rows


def volumes_frame(
    disks: list[dict[str, Any]], compute: pl.DataFrame, stopped: pl.DataFrame
) -> pl.DataFrame:
    """The ``volumes`` frame: each disk at its tier's monthly price, with the state of the
    VM it is attached to (matched case-insensitively) and the snapshot price."""
    frame = pl.DataFrame(
        disks,
        schema={
            **{c: schema.VOLUMES[c] for c in _DISK_COLUMNS},
            "monthly_price": pl.Float64(),
            "price_region": pl.String(),
            "price_reference": pl.String(),
        },
    )
    snapshot, _, _ = azure_prices.unit_price("snapshot.standard", azure_prices.FALLBACK_REGION)
    attached = compute.select(
        pl.col("resource_id").str.to_lowercase().alias("_attached_key"),
        pl.col("resource_id").alias("_vm_id"),
        pl.col("state").alias("attached_state"),
    )
    out = (
        frame.with_columns(pl.col("attached_to").str.to_lowercase().alias("_attached_key"))
        .join(attached, on="_attached_key", how="left")
        .join(stopped, on="_attached_key", how="left")
        .with_columns(
            pl.coalesce("_vm_id", "attached_to").alias("attached_to"),
            (pl.col("monthly_price") / pl.col("size_gb")).alias("price_storage_gb_month"),
            pl.lit(0.0).alias("price_iops_month"),
            pl.lit(snapshot).alias("price_snapshot_gb_month"),
            pl.when(pl.col("monthly_price").is_not_null())
            .then(pl.lit("bundled"))
            .otherwise(pl.lit("none"))
            .alias("price_source"),
        )
    )
    return schema.conform("volumes", out)


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


def list_snapshots(client: Any, subscription: str) -> list[dict[str, Any]]:
    """Every snapshot of ``subscription`` (Snapshots - List, all pages)."""
    rows = []
    for snap in client.snapshots.list():
        source = snap.creation_data.source_resource_id if snap.creation_data else None
        rows.append(
            {
                "provider": PROVIDER,
                "account_id": subscription,
                "region": str(snap.location),
                "resource_id": str(snap.id),
                "resource_name": str(snap.name),
                "resource_type": ResourceType.AZURE_SNAPSHOT.value,
                "size_gb": float(snap.disk_size_gb or 0),
                "created": _time(snap.time_created),
                "source_volume": source,
                "storage_tier": "standard",
            }
        )
    return rows


def snapshots_frame(snapshots: list[dict[str, Any]], disk_ids: set[str]) -> pl.DataFrame:
    """The ``snapshots`` frame, each at the Standard snapshot rate on its full size (an
    upper bound: an incremental snapshot bills only the blocks it holds)."""
    frame = pl.DataFrame(
        snapshots,
        schema={
            **{c: schema.SNAPSHOTS[c] for c in schema.IDENTITY_COLUMNS},
            "size_gb": pl.Float64(),
            "created": schema.UTC_TS,
            "source_volume": pl.String(),
            "storage_tier": pl.String(),
        },
    )
    known = sorted(disk_ids)
    price, where, reference = azure_prices.unit_price(
        "snapshot.standard", azure_prices.FALLBACK_REGION
    )
    out = frame.with_columns(
        pl.col("source_volume").str.to_lowercase().is_in(known).alias("source_exists"),
        pl.lit(False).alias("used_by_image"),
        pl.lit(price, dtype=pl.Float64).alias("price_gb_month"),
        (pl.col("size_gb") * pl.lit(price, dtype=pl.Float64)).alias("monthly_price"),
        pl.when(pl.col("region") == where)
        .then(pl.col("region"))
        .otherwise(pl.lit(where))
        .alias("price_region"),
        pl.lit(reference, dtype=pl.String).alias("price_reference"),
        pl.lit("bundled").alias("price_source"),
    )
    return schema.conform("snapshots", out)


# --------------------------------------------------------------------------- public IPs


def list_public_ips(client: Any, subscription: str) -> list[dict[str, Any]]:
    """Every public IP address (List All, all pages). One with no ``ipConfiguration`` and
    no NAT gateway is associated with nothing; a Standard or Static one still bills by the
    hour (https://azure.microsoft.com/pricing/details/ip-addresses/); a dynamic Basic one
    has no address while unassociated and bills nothing, so it is left out."""
    rows = []
    for ip in client.public_ip_addresses.list_all():
        sku = (text(ip.sku.name) if ip.sku else None) or "Basic"
        method = text(ip.public_ip_allocation_method) or "Dynamic"
        if sku.lower() == "basic" and method.lower() == "dynamic":
            continue
        item = (
            "public_ip.standard_static" if sku.lower() == "standard" else "public_ip.basic_static"
        )
        price, where, reference = azure_prices.unit_price(item, str(ip.location))
        address = f" ({ip.ip_address})" if ip.ip_address else ""
        rows.append(
            {
                "provider": PROVIDER,
                "account_id": subscription,
                "region": str(ip.location),
                "resource_id": str(ip.id),
                "resource_name": f"{ip.name}{address}",
                "resource_type": ResourceType.PUBLIC_IP.value,
                "kind": "static_address",
                "attached": ip.ip_configuration is not None or ip.nat_gateway is not None,
                "hourly_price": price,
                "price_source": "bundled" if price is not None else "none",
                "price_region": where,
                "price_reference": reference,
            }
        )
    return rows


def network_idle_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Public IPs, NAT gateways and load balancers in the ``network_idle`` frame."""
    columns = [c for c in schema.NETWORK_IDLE if any(c in r for r in rows)] or list(
        schema.IDENTITY_COLUMNS
    )
    frame = pl.DataFrame(
        [{c: r.get(c) for c in columns} for r in rows],
        schema={c: schema.NETWORK_IDLE[c] for c in columns},
    )
    return schema.conform("network_idle", frame)


# --------------------------------------------------------------------------- NAT, LBs

NAT_NAMESPACE = "microsoft.network/natgateways"


def list_nat_gateways(client: Any, subscription: str) -> list[dict[str, Any]]:
    """Every NAT gateway (List All, all pages). One attached to no subnet carries no traffic:
    its processed bytes are 0 without asking Monitor."""
    rows = []
    for nat in client.nat_gateways.list_all():
        hourly, where, reference = azure_prices.unit_price("nat_gateway.hour", str(nat.location))
        per_gb, _, _ = azure_prices.unit_price("nat_gateway.gb", str(nat.location))
        subnets = list(nat.subnets or [])
        rows.append(
            {
                "provider": PROVIDER,
                "account_id": subscription,
                "region": str(nat.location),
                "resource_id": str(nat.id),
                "resource_name": str(nat.name),
                "resource_type": ResourceType.AZURE_NAT_GATEWAY.value,
                "kind": "nat_gateway",
                "attached": bool(subnets),
                "processed_gb": None if subnets else 0.0,
                "hourly_price": hourly,
                "data_price_per_gb": per_gb,
                "price_source": "bundled" if hourly is not None else "none",
                "price_region": where,
                "price_reference": reference,
            }
        )
    return rows


def nat_processed_gb(
    monitor_client: Any, nats: list[dict[str, Any]], now: datetime, lookback_days: int
) -> dict[str, float]:
    """Per NAT gateway id (lower case) attached to a subnet: GB processed over the lookback
    (Monitor's ``ByteCount``, total, one multi-resource call per region and 50 gateways)."""
    from costscan.providers.azure.monitor import batches, query, window

    start, end = window(now, lookback_days)
    timespan = f"{start.strftime('%Y-%m-%dT%H:%M:%SZ')}/{end.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    asked: dict[str, list[str]] = {}
    for nat in nats:
        if nat["processed_gb"] is None:
            asked.setdefault(str(nat["region"]), []).append(str(nat["resource_id"]))
    found: dict[str, float] = {}
    for region, ids in sorted(asked.items()):
        for batch in batches(sorted(ids)):
            answer = query(monitor_client, region, timespan, ("ByteCount",), "total",
                           NAT_NAMESPACE, batch)  # fmt: skip
            for metric in answer.value or []:
                for series in metric.timeseries or []:
                    rid = next(
                        (str(m.value).lower() for m in series.metadatavalues or []
                         if str(m.name.value if m.name else "").lower() == "microsoft.resourceid"),
                        "",
                    )  # fmt: skip
                    total = sum(float(p.total or 0.0) for p in series.data or [])
                    if rid:
                        found[rid] = found.get(rid, 0.0) + total / 1e9
    return found


def list_load_balancers(client: Any, subscription: str) -> list[dict[str, Any]]:
    """Every Standard load balancer (List All, all pages; Basic ones bill nothing), with
    the backends its pools hold. One with no backend serves nothing: no healthy target and
    no request. Priced at the first five rules' hourly rate plus each rule past five."""
    rows = []
    for lb in client.load_balancers.list_all():
        sku = (text(lb.sku.name) if lb.sku else None) or "Basic"
        if sku.lower() != "standard":
            continue
        backends = sum(
            len(pool.backend_ip_configurations or [])
            + len(pool.load_balancer_backend_addresses or [])
            for pool in lb.backend_address_pools or []
        )
        rules = len(lb.load_balancing_rules or []) + len(lb.outbound_rules or [])
        base, where, reference = azure_prices.unit_price(
            "load_balancer.standard_hour", str(lb.location)
        )
        extra, _, _ = azure_prices.unit_price("load_balancer.extra_rule_hour", str(lb.location))
        hourly = None if base is None else base + max(0, rules - 5) * (extra or 0.0)
        rows.append(
            {
                "provider": PROVIDER,
                "account_id": subscription,
                "region": str(lb.location),
                "resource_id": str(lb.id),
                "resource_name": str(lb.name),
                "resource_type": ResourceType.AZURE_LOAD_BALANCER.value,
                "kind": "load_balancer",
                "subtype": "Standard",
                "attached": backends > 0,
                "registered_targets": backends,
                "healthy_targets": 0 if backends == 0 else None,
                "requests": 0.0 if backends == 0 else None,
                "hourly_price": hourly,
                "price_source": "bundled" if hourly is not None else "none",
                "price_region": where,
                "price_reference": reference,
            }
        )
    return rows
