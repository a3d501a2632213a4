"""The Azure provider: every subscription the run names (or every one the credential can
list, or those under a management group), each collector failing on its own.

Flow: a credential (DefaultAzureCredential, or a local token against an endpoint
override), the subscriptions (``--subscription``, else those under
``--management-group``, else Subscriptions - List), the bundled retail prices, then one
thread per subscription running the compute, disk, snapshot, public IP, Monitor and
Advisor collectors. A collector that fails (a role missing, a resource provider not
registered) leaves a ``CollectorError`` that names it, and the rest of the scan goes on.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import polars as pl

from costscan.providers.azure import advisor, costs, monitor
from costscan.providers.azure import compute as vms
from costscan.providers.azure import storage as blobs
from costscan.providers.azure.clients import Clients, Endpoints, resolve_credential
from costscan.providers.collectors import Collector, attempted, declared_error
from costscan.providers.interface import Progress, Provider, ScanRequest, no_progress
from costscan.providers.pricing.azure_retail import RetailPrices
from costscan.providers.sdk import require_modules
from costscan.scanner.contracts.errors import (
    ProviderError,
)
from costscan.scanner.contracts.inventory import Inventory
from costscan.scanner.contracts.vocab import ResourceType

T = TypeVar("T")

GLOBAL = "global"
DEFAULT_MAX_WORKERS = 4
MESSAGE_LIMIT = 300
# The cross-check (scanner/pipeline/provider_advice.py) reads a failure of this collector as
# "Advisor's advice unavailable" for the subscription, never as Advisor's silence.
ADVISOR_COLLECTOR = "advisor.recommendations.list"
LIVE_PRICES_COLLECTOR = "retailprices.list"
COSTS_COLLECTOR = "costmanagement.query"

_VM = (ResourceType.AZURE_VM.value,)
_DISK = (ResourceType.MANAGED_DISK.value,)
_SNAPSHOT = (ResourceType.AZURE_SNAPSHOT.value,)
_NAT = (ResourceType.AZURE_NAT_GATEWAY.value,)
_STORAGE = (ResourceType.STORAGE_ACCOUNT.value,)
# What each collector's failure loses (providers/collectors.py): the findings that read it
# are withheld in the subscription, and last run's are "not seen", never "resolved".
COLLECTORS: dict[str, Collector] = {
    "subscriptions.list": Collector("the subscriptions the credentials can see"),
    "managementGroups.descendants": Collector("the management group's subscriptions"),
    COSTS_COLLECTOR: Collector("amortized cost per resource (list prices are used)"),
    LIVE_PRICES_COLLECTOR: Collector("live Azure retail prices (the bundled catalog is used)"),
    ADVISOR_COLLECTOR: Collector("Azure Advisor's advice (the cross-check)"),
    "compute.virtualMachines.listAll": Collector(
        "virtual machines", ("compute", "tags", "utilization"), _VM
    ),
    "compute.virtualMachineSizes.list": Collector("VM size facts", ("prices",), _VM),
    "compute.disks.list": Collector(
        "managed disks (and so their snapshots)", ("volumes", "snapshots"), _DISK + _SNAPSHOT
    ),
    "compute.snapshots.list": Collector("disk snapshots", ("snapshots",), _SNAPSHOT),
    "network.publicIPAddresses.listAll": Collector(
        "public IP addresses", ("network_idle",), (ResourceType.PUBLIC_IP.value,)
    ),
    "network.natGateways.listAll": Collector("NAT gateways", ("network_idle",), _NAT),
    "monitor.metrics.listAtSubscriptionScope(nat)": Collector(
        "NAT gateway processed bytes", ("network_idle",), _NAT
    ),
    "network.loadBalancers.listAll": Collector(
        "load balancers", ("network_idle",), (ResourceType.AZURE_LOAD_BALANCER.value,)
    ),
    "storage.storageAccounts.list": Collector("storage accounts", ("buckets",), _STORAGE),
    "monitor.metrics.listAtSubscriptionScope(storage)": Collector(
        "blob capacity per storage account", ("buckets",), _STORAGE
    ),
    "monitor.metrics.listAtSubscriptionScope": Collector(
        "VM CPU, memory and network utilization", ("utilization",), _VM
    ),
}
MANAGEMENT_GROUPS_API = "2020-05-01"
# What `pip install 'costscan[azure]'` brings, found (not imported) before the scan starts.
SDK_MODULES = (
    "azure.core",
    "azure.identity",
    "azure.mgmt.compute",
    "azure.mgmt.network",
    "azure.mgmt.monitor",
    "azure.mgmt.advisor",
    "azure.mgmt.costmanagement",
    "azure.mgmt.storage",
)


def one_line(exc: BaseException) -> str:
    """An ARM error as one short line: its code and message, without the body around it."""
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    message = getattr(error, "message", None) or getattr(exc, "message", None) or str(exc)
    text = re.sub(r"\s+", " ", str(message)).strip() or type(exc).__name__
    if code and not text.startswith(str(code)):
        text = f"{code}: {text}"
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def _api_errors() -> tuple[type[BaseException], ...]:
    from azure.core.exceptions import AzureError

    return (AzureError,)


class SubscriptionScan:
    """What one subscription's scan needs and collects."""

    def __init__(self, subscription: str, clients: Clients, request: ScanRequest,
                 prices: pl.DataFrame, counter: monitor.CallCounter,
                 retail: RetailPrices | None = None) -> None:  # fmt: skip
        self.subscription = subscription
        self.retail = retail
        self.clients = clients
        self.request = request
        self.prices = prices
        self.counter = counter
        self.inventory = Inventory(provider="azure", context=request.context,
                                   accounts=[subscription])  # fmt: skip

    def attempt(self, collector: str, call: Callable[[], T]) -> T | None:
        """Run one collector; an API failure becomes a CollectorError, not a crash."""
        return attempted(
            call,
            table=COLLECTORS,
            collector=collector,
            account_id=self.subscription,
            errors=self.inventory.errors,
            api_errors=_api_errors(),
            one_line=one_line,
            region=GLOBAL,
        )


def _in_regions(frame: pl.DataFrame, regions: list[str]) -> pl.DataFrame:
    return frame.filter(pl.col("region").is_in(regions)) if regions else frame


def scan_subscription(run: SubscriptionScan) -> Inventory:
    sub, inv, clients = run.subscription, run.inventory, run.clients
    regions = list(dict.fromkeys(run.request.regions))
    found = run.attempt(
        "compute.virtualMachines.listAll", lambda: vms.list_vms(clients.compute(sub), sub)
    )
    found = found or vms.Vms()
    # What each resource was billed (amortized) over the lookback: it wins over list prices.
    start, end = costs.window(run.request.context.now, run.request.context.lookback_days)
    spent = run.attempt(
        COSTS_COLLECTOR,
        lambda: costs.query_costs(clients.cost_management(), sub, start, end),
    )
    hours = (end - start).total_seconds() / 3600.0
    billed = costs.billed_hourly(
        spent if spent is not None else pl.DataFrame(schema=costs.COSTS_SCHEMA), hours
    )
    locations = [r for r in found.locations if not regions or r in regions]
    facts = run.attempt(
        "compute.virtualMachineSizes.list",
        lambda: vms.size_facts(clients.compute(sub), locations),
    )
    if facts is None:
        facts = vms.size_facts(None, [])
    prices = run.prices
    if run.retail is not None and locations:
        retail = run.retail
        sized = facts
        live = run.attempt(LIVE_PRICES_COLLECTOR, lambda: retail.prices(locations, sized))
        if live is not None and live.height:
            inv.add("prices", live)
            keys = ["region", "instance_type"]
            prices = pl.concat(
                [live, prices.join(live.select(keys), on=keys, how="anti")], how="vertical"
            )
    compute, tags = vms.compute_frames(found, facts, prices)
    compute = costs.apply(_in_regions(compute, regions), billed, "hourly_price", monthly=False)
    inv.add("compute", compute)
    inv.add("tags", tags.filter(pl.col("resource_id").is_in(compute["resource_id"].implode())))

    disks = run.attempt("compute.disks.list", lambda: vms.list_disks(clients.compute(sub), sub))
    if disks is not None:
        stopped = vms.stopped_since(found)
        volumes = _in_regions(vms.volumes_frame(disks, compute, stopped), regions)
        inv.add("volumes", costs.apply(volumes, billed, "monthly_price", monthly=True))
        snapshots = run.attempt(
            "compute.snapshots.list", lambda: vms.list_snapshots(clients.compute(sub), sub)
        )
        if snapshots is not None:
            ids = {str(d["resource_id"]).lower() for d in disks}
            kept = _in_regions(vms.snapshots_frame(snapshots, ids), regions)
            inv.add("snapshots", costs.apply(kept, billed, "monthly_price", monthly=True))

    network: list[dict[str, Any]] = []
    addresses = run.attempt(
        "network.publicIPAddresses.listAll",
        lambda: vms.list_public_ips(clients.network(sub), sub),
    )
    network += addresses or []
    nats = run.attempt(
        "network.natGateways.listAll", lambda: vms.list_nat_gateways(clients.network(sub), sub)
    )
    if nats and any(n["processed_gb"] is None for n in nats):
        processed = run.attempt(
            "monitor.metrics.listAtSubscriptionScope(nat)",
            lambda: vms.nat_processed_gb(
                clients.monitor(sub), nats, run.request.context.now,
                run.request.context.lookback_days,
            ),
        )  # fmt: skip
        for nat in nats:
            if nat["processed_gb"] is None and processed is not None:
                nat["processed_gb"] = processed.get(str(nat["resource_id"]).lower(), 0.0)
    network += nats or []
    network += (
        run.attempt(
            "network.loadBalancers.listAll",
            lambda: vms.list_load_balancers(clients.network(sub), sub),
        )
        or []
    )
    if network:
        idle = _in_regions(vms.network_idle_frame(network), regions)
        inv.add("network_idle", costs.apply(idle, billed, "hourly_price", monthly=False))

    advice = run.attempt(
        ADVISOR_COLLECTOR, lambda: advisor.list_advice(clients.advisor(sub), sub, found.ids())
    )
    if advice is not None:
        inv.add("provider_advice", advisor.advice_frame(advice))

    accounts = run.attempt(
        "storage.storageAccounts.list", lambda: blobs.list_accounts(clients.storage(sub), sub)
    )
    if accounts:
        accounts = [a for a in accounts if not regions or a["region"] in regions]
        usage = run.attempt(
            "monitor.metrics.listAtSubscriptionScope(storage)",
            lambda: blobs.blob_usage(clients.monitor(sub), accounts, run.request.context.now),
        )
        inv.add("buckets", blobs.buckets_frame(accounts, usage or {}))

    running = compute.filter(pl.col("state") == "running")
    if running.height:
        utilization = run.attempt(
            "monitor.metrics.listAtSubscriptionScope",
            lambda: monitor.vm_utilization(
                clients.monitor(sub),
                sub,
                running,
                run.request.context.now,
                run.request.context.lookback_days,
                run.counter,
            ),
        )
        if utilization is not None:
            inv.add("utilization", utilization)
    for region in sorted(set(compute["region"].to_list())):
        if region not in inv.regions:
            inv.regions.append(region)
    return inv


class AzureProvider(Provider):
    """Virtual machines, managed disks, snapshots, public IPs, Azure Monitor and Advisor
    across subscriptions.

    ``counter`` counts Azure Monitor metrics requests (the benchmark reads it).
    """

    name = "azure"

    def __init__(
        self, *, max_workers: int = DEFAULT_MAX_WORKERS, retries: int | None = None
    ) -> None:
        self.max_workers = max_workers
        self.retries = retries
        self.counter = monitor.CallCounter()

    def check(self, request: ScanRequest) -> None:
        """The Azure SDKs are an extra: without them, one line saying how to install."""
        require_modules("azure", "azure", SDK_MODULES, "Azure SDKs")

    def collect(self, request: ScanRequest, progress: Progress = no_progress) -> Inventory:
        lock = threading.Lock()

        def report(step: str, advance: int = 1) -> None:
            with lock:
                progress(step, advance)

        endpoints = Endpoints.from_env()
        credential = resolve_credential(endpoints)
        clients = Clients(credential, endpoints, retries=self.retries)
        inventory = Inventory(provider="azure", context=request.context)
        subscriptions = list(dict.fromkeys(request.subscriptions))
        if not subscriptions and request.management_group:
            subscriptions = _group_subscriptions(clients, request.management_group, inventory)
        elif not subscriptions:
            subscriptions = _listed_subscriptions(clients, inventory)
        if not subscriptions:
            where = (
                f" under management group {request.management_group}"
                if request.management_group
                else ""
            )
            raise ProviderError(
                f"no Azure subscription to scan{where}: pass --subscription ID, or give the "
                "credential the Reader role on the subscriptions"
            )
        from costscan.providers.pricing.azure import bundled_azure_prices

        prices = bundled_azure_prices()
        inventory.add("prices", prices)
        report("prices", 1)

        retail = (
            RetailPrices(clients.retail_prices, request.cache_dir, request.context.now)
            if request.live_pricing
            else None
        )

        def run(subscription: str) -> Inventory:
            scanned = scan_subscription(
                SubscriptionScan(subscription, clients, request, prices, self.counter, retail)
            )
            report(f"subscription {subscription}", 1)
            return scanned

        workers = max(1, min(self.max_workers, len(subscriptions)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="costscan-azure") as pool:
            scanned = list(pool.map(run, subscriptions))
        inventory.merge(scanned)
        # Subscriptions in one region each add its live prices: keep one row of each.
        inventory.frames["prices"] = inventory.frame("prices").unique(
            subset=["region", "instance_type", "source"], keep="first", maintain_order=True
        )
        for subscription in subscriptions:
            if subscription not in inventory.accounts:
                inventory.accounts.append(subscription)
        return inventory


SUBSCRIPTIONS_API = "2022-12-01"


def _arm_list(clients: Clients, url: str) -> list[dict[str, Any]]:
    """Every item of an ARM list (``value``, all pages through ``nextLink``)."""
    from azure.core.rest import HttpRequest

    client = clients.tenant()
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        response = client.send_request(HttpRequest("GET", next_url))
        response.raise_for_status()
        body = response.json()
        items.extend(body.get("value", []))
        next_url = body.get("nextLink") or None
    return items


def _listed_subscriptions(clients: Clients, inventory: Inventory) -> list[str]:
    """Enabled subscriptions the credential can see (Subscriptions - List, all pages)."""
    try:
        found = _arm_list(clients, f"/subscriptions?api-version={SUBSCRIPTIONS_API}")
    except _api_errors() as exc:
        inventory.errors.append(
            declared_error(COLLECTORS, "subscriptions.list", "*", GLOBAL, one_line(exc))
        )
        return []
    return sorted(
        str(s.get("subscriptionId"))
        for s in found
        if str(s.get("state") or "Enabled").lower() == "enabled"
    )


def _group_subscriptions(clients: Clients, group: str, inventory: Inventory) -> list[str]:
    """Subscriptions under management group ``group`` at any depth (Management Groups - Get
    Descendants, all pages)."""
    try:
        found = _arm_list(
            clients,
            f"/providers/Microsoft.Management/managementGroups/{group}/descendants"
            f"?api-version={MANAGEMENT_GROUPS_API}",
        )
    except _api_errors() as exc:
        inventory.errors.append(
            declared_error(COLLECTORS, "managementGroups.descendants", "*", GLOBAL, one_line(exc))
        )
        return []
    names = [
        str(item.get("name"))
        for item in found
        if str(item.get("type", "")).lower().endswith("/subscriptions")
    ]
    return sorted(dict.fromkeys(names))
