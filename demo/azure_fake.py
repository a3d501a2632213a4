"""A local fake of the Azure Resource Manager APIs the Azure provider reads, for the demo
and tests.

The real azure-mgmt-* clients talk to it unchanged, over HTTPS: azure-core refuses to send
a bearer token over plain http, so ``start`` makes a self-signed certificate for 127.0.0.1
(``cryptography``) and serves TLS with it; ``FakeAzure.environment`` points the provider at
the fake (``COSTSCAN_AZURE_ENDPOINT``) and that certificate (``COSTSCAN_AZURE_CA_BUNDLE``).

Answers follow the shapes of the Azure REST API reference
(https://learn.microsoft.com/rest/api/azure/):

- Subscriptions - List (``GET /subscriptions``), Management Groups - Get Descendants;
- Compute: Virtual Machines - List All (with ``statusOnly=true``: each VM's
  ``instanceView``), Virtual Machine Sizes - List, Disks - List, Snapshots - List;
- Network: Public IP Addresses - List All;
- Monitor: Metrics - List At Subscription Scope (``region``, ``metricnames``,
  ``aggregation``, ``interval`` PT1H, ``$filter`` of ``Microsoft.ResourceId eq '...'``
  joined by ``or``, ``top``), the resource id as the series' ``metadatavalues``;
- Advisor: Recommendations - List (``$filter=Category eq 'Cost'``);
- the Azure Retail Prices API (``/api/retail/prices``, public): ``Items`` of the
  ``armRegionName`` the filter names, paged by ``NextPageLink``;
- pages of ``page_size`` items linked by ``nextLink`` (a ``$skiptoken``);
- errors as ARM sends them: ``{"error": {"code", "message"}}``, 403 AuthorizationFailed.

Routes match case-insensitively, as ARM does (``Microsoft.Insights`` and
``microsoft.insights`` are one path). Every request is recorded (``requests``) so a test can
check that only reads arrived. Nothing runs at import.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

WsgiStart = Callable[..., Any]
DEFAULT_PAGE = 100
TENANT = "00000000-0000-4000-8000-00000000a2e0"

# api name (as ``deny`` takes it) -> the ARM action its denial names.
APIS: dict[str, str] = {
    "compute": "Microsoft.Compute/virtualMachines/read",
    "disks": "Microsoft.Compute/disks/read",
    "network": "Microsoft.Network/publicIPAddresses/read",
    "monitor": "Microsoft.Insights/metrics/read",
    "advisor": "Microsoft.Advisor/recommendations/read",
    "costmanagement": "Microsoft.CostManagement/query/action",
    "storage": "Microsoft.Storage/storageAccounts/read",
}
_SUB = r"^/subscriptions/([^/]+)"
ROUTES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("vms", re.compile(_SUB + r"/providers/microsoft\.compute/virtualmachines$")),
    ("sizes", re.compile(_SUB + r"/providers/microsoft\.compute/locations/([^/]+)/vmsizes$")),
    ("disks", re.compile(_SUB + r"/providers/microsoft\.compute/disks$")),
    ("snapshots", re.compile(_SUB + r"/providers/microsoft\.compute/snapshots$")),
    ("public_ips", re.compile(_SUB + r"/providers/microsoft\.network/publicipaddresses$")),
    ("metrics", re.compile(_SUB + r"/providers/microsoft\.insights/metrics$")),
    ("advisor", re.compile(_SUB + r"/providers/microsoft\.advisor/recommendations$")),
    ("costs", re.compile(_SUB + r"/providers/microsoft\.costmanagement/query$")),
    ("accounts", re.compile(_SUB + r"/providers/microsoft\.storage/storageaccounts$")),
    ("nats", re.compile(_SUB + r"/providers/microsoft\.network/natgateways$")),
    ("lbs", re.compile(_SUB + r"/providers/microsoft\.network/loadbalancers$")),
    (
        "policy",
        re.compile(
            _SUB + r"/resourcegroups/[^/]+/providers/microsoft\.storage/storageaccounts/"
            r"([^/]+)/managementpolicies/default$"
        ),
    ),
)
ROUTE_API = {
    "vms": "compute",
    "sizes": "compute",
    "disks": "disks",
    "snapshots": "disks",
    "public_ips": "network",
    "metrics": "monitor",
    "advisor": "advisor",
    "costs": "costmanagement",
    "accounts": "storage",
    "nats": "network",
    "lbs": "network",
    "policy": "storage",
}
DESCENDANTS = re.compile(r"^/providers/microsoft\.management/managementgroups/([^/]+)/descendants$")
RESOURCE_ID_TERM = re.compile(r"microsoft\.resourceid\s+eq\s+'([^']*)'", re.IGNORECASE)


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    query: str = ""
    body: str = ""


@dataclass
class MetricSeries:
    """One VM's hourly values of one metric: (hour start, {aggregation: value})."""

    resource_id: str
    metric: str
    points: list[tuple[datetime, dict[str, float]]]


@dataclass
class Subscription:
    subscription_id: str
    display_name: str
    vms: list[dict[str, Any]] = field(default_factory=list)
    disks: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    public_ips: list[dict[str, Any]] = field(default_factory=list)
    sizes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    metrics: list[MetricSeries] = field(default_factory=list)
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    storage_accounts: list[dict[str, Any]] = field(default_factory=list)
    nat_gateways: list[dict[str, Any]] = field(default_factory=list)
    load_balancers: list[dict[str, Any]] = field(default_factory=list)
    # Lifecycle management policies by storage account name (lower case).
    lifecycle: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Cost Management rows: (resource id, meter category, cost USD, usage quantity).
    costs: list[tuple[str, str, float, float]] = field(default_factory=list)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000+00:00")


def arm_id(subscription: str, group: str, provider: str, kind: str, name: str) -> str:
    return (
        f"/subscriptions/{subscription}/resourceGroups/{group}/providers/{provider}/{kind}/{name}"
    )


class FakeAzure:
    """The fake's state, its HTTPS server, and what it was asked."""

    def __init__(self, *, page_size: int = DEFAULT_PAGE) -> None:
        self.subscriptions: dict[str, Subscription] = {}
        self.management_groups: dict[str, list[str]] = {}
        # The Azure Retail Prices API's items (public, not per subscription).
        self.retail_prices: list[dict[str, Any]] = []
        self.page_size = page_size
        self.requests: list[Recorded] = []
        # (subscription or "*", api) -> (HTTP status, ARM error code, message)
        self.denied: dict[tuple[str, str], tuple[int, str, str]] = {}
        self._lock = threading.Lock()
        self.base_url = ""
        self.ca_bundle = ""
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._http: Any = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ seeding

    def subscription(self, subscription_id: str, name: str | None = None) -> Subscription:
        if subscription_id not in self.subscriptions:
            self.subscriptions[subscription_id] = Subscription(
                subscription_id, name or subscription_id
            )
        return self.subscriptions[subscription_id]

    def deny(self, subscription: str, api: str) -> None:
        """Answer ``api`` calls in ``subscription`` as ARM does when the caller's role
        lacks the read action (403 AuthorizationFailed)."""
        action = APIS[api]
        message = (
            f"The client 'costscan-test' with object id '{TENANT}' does not have "
            f"authorization to perform action '{action}' over scope '/subscriptions/"
            f"{subscription}' or the scope is invalid. If access was recently granted, "
            "please refresh your credentials."
        )
        self.denied[(subscription, api)] = (403, "AuthorizationFailed", message)

    def add_sizes(
        self, subscription: str, location: str, sizes: Iterable[Mapping[str, Any]]
    ) -> None:
        self.subscription(subscription).sizes.setdefault(location, []).extend(
            {
                "name": s["name"],
                "numberOfCores": int(s["vcpus"]),
                "memoryInMB": round(float(s["memory_gib"]) * 1024),
                "maxDataDiskCount": 8,
                "osDiskSizeInMB": 1047552,
                "resourceDiskSizeInMB": 0,
            }
            for s in sizes
        )

    def add_vm(
        self, subscription: str, group: str, location: str, name: str, size: str, *,
        power: str = "running", tags: Mapping[str, str] | None = None, created: datetime,
        last_operation: datetime | None = None, spot: bool = False, os_type: str = "Linux",
        license_type: str | None = None, scale_set: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        vm_id = arm_id(subscription, group, "Microsoft.Compute", "virtualMachines", name)
        disk_id = arm_id(subscription, group, "Microsoft.Compute", "disks", f"{name}_OsDisk_1")
        properties: dict[str, Any] = {
            "vmId": f"{len(self.subscription(subscription).vms):08x}-0000-4000-8000-00000000beef",
            "hardwareProfile": {"vmSize": size},
            "storageProfile": {
                "osDisk": {
                    "osType": os_type,
                    "name": f"{name}_OsDisk_1",
                    "createOption": "FromImage",
                    "managedDisk": {"id": disk_id},
                }
            },
            "priority": "Spot" if spot else "Regular",
            "provisioningState": "Succeeded",
            "timeCreated": iso(created),
        }
        if spot:
            properties["evictionPolicy"] = "Deallocate"
        if license_type:
            properties["licenseType"] = license_type
        if scale_set:
            properties["virtualMachineScaleSet"] = {
                "id": arm_id(subscription, group, "Microsoft.Compute", "virtualMachineScaleSets",
                             scale_set)
            }  # fmt: skip
        vm = {
            "id": vm_id,
            "name": name,
            "type": "Microsoft.Compute/virtualMachines",
            "location": location,
            "tags": dict(tags or {}),
            "properties": properties,
            # The fake's own: answered only under statusOnly=true, as instanceView.
            "_instance_view": {
                "statuses": [
                    {
                        "code": "ProvisioningState/succeeded",
                        "level": "Info",
                        "displayStatus": "Provisioning succeeded",
                        "time": iso(last_operation or created),
                    },
                    {
                        "code": f"PowerState/{power}",
                        "level": "Info",
                        "displayStatus": f"VM {power}",
                    },
                ]
            },
        }
        self.subscription(subscription).vms.append(vm)
        return vm

    def add_disk(
        self, subscription: str, group: str, location: str, name: str, sku: str, size_gb: int,
        *, managed_by: str | None = None, created: datetime, reserved: bool = False,
        tier: str | None = None, iops: int | None = None, mbps: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        state = ("Reserved" if reserved else "Attached") if managed_by else "Unattached"
        properties: dict[str, Any] = {
            "diskSizeGB": size_gb,
            "diskState": state,
            "timeCreated": iso(created),
            "provisioningState": "Succeeded",
        }
        if tier:
            properties["tier"] = tier
        if iops is not None:
            properties["diskIOPSReadWrite"] = iops
        if mbps is not None:
            properties["diskMBpsReadWrite"] = mbps
        disk: dict[str, Any] = {
            "id": arm_id(subscription, group, "Microsoft.Compute", "disks", name),
            "name": name,
            "type": "Microsoft.Compute/disks",
            "location": location,
            "tags": {},
            "sku": {"name": sku, "tier": sku.split("_")[0]},
            "properties": properties,
        }
        if managed_by:
            disk["managedBy"] = managed_by
        self.subscription(subscription).disks.append(disk)
        return disk

    def add_snapshot(
        self, subscription: str, group: str, location: str, name: str, *, source: str,
        size_gb: int, created: datetime, incremental: bool = True,
    ) -> None:  # fmt: skip
        self.subscription(subscription).snapshots.append(
            {
                "id": arm_id(subscription, group, "Microsoft.Compute", "snapshots", name),
                "name": name,
                "type": "Microsoft.Compute/snapshots",
                "location": location,
                "sku": {"name": "Standard_LRS", "tier": "Standard"},
                "properties": {
                    "creationData": {"createOption": "Copy", "sourceResourceId": source},
                    "diskSizeGB": size_gb,
                    "incremental": incremental,
                    "timeCreated": iso(created),
                    "provisioningState": "Succeeded",
                },
            }
        )

    def add_public_ip(
        self, subscription: str, group: str, location: str, name: str, address: str, *,
        associated_with: str | None = None, sku: str = "Standard", method: str = "Static",
    ) -> None:  # fmt: skip
        properties: dict[str, Any] = {
            "ipAddress": address,
            "publicIPAllocationMethod": method,
            "publicIPAddressVersion": "IPv4",
            "provisioningState": "Succeeded",
        }
        if associated_with:
            properties["ipConfiguration"] = {"id": associated_with}
        self.subscription(subscription).public_ips.append(
            {
                "id": arm_id(subscription, group, "Microsoft.Network", "publicIPAddresses", name),
                "name": name,
                "type": "Microsoft.Network/publicIPAddresses",
                "location": location,
                "sku": {"name": sku, "tier": "Regional"},
                "properties": properties,
            }
        )

    def add_reservation_advice(
        self, subscription: str, *, size: str, quantity: int, term: str,
        monthly_savings: float, region: str, updated: datetime,
    ) -> None:  # fmt: skip
        """Advisor's "buy virtual machine reserved instances" advice for a subscription."""
        sub = self.subscription(subscription)
        name = f"{len(sub.recommendations):08x}-0000-4000-8000-0000000ad716"
        scope = f"/subscriptions/{subscription}"
        sub.recommendations.append(
            {
                "id": f"{scope}/providers/Microsoft.Advisor/recommendations/{name}",
                "name": name,
                "type": "Microsoft.Advisor/recommendations",
                "properties": {
                    "category": "Cost",
                    "impact": "Medium",
                    "impactedField": "Microsoft.Subscriptions/subscriptions",
                    "impactedValue": subscription,
                    "lastUpdated": iso(updated),
                    "recommendationTypeId": "84b1a508-fc21-49da-979e-96894f1665df",
                    "shortDescription": {
                        "problem": "Consider virtual machine reserved instance to save over "
                        "your on-demand costs",
                        "solution": "Consider virtual machine reserved instance to save over "
                        "your on-demand costs",
                    },
                    "extendedProperties": {
                        "vmSize": size,
                        "displaySKU": size,
                        "qty": str(quantity),
                        "displayQty": str(quantity),
                        "term": term,
                        "region": region,
                        "scope": "Single",
                        "lookbackPeriod": "30",
                        "reservedResourceType": "VirtualMachines",
                        "savingsAmount": f"{monthly_savings:.2f}",
                        "annualSavingsAmount": f"{monthly_savings * 12:.2f}",
                        "savingsCurrency": "USD",
                        "subscriptionId": subscription,
                    },
                    "resourceMetadata": {"resourceId": scope, "source": "Advisor"},
                },
            }
        )

    def add_retail_price(
        self, region: str, size: str, price: float, *, windows: bool = False, spot: bool = False
    ) -> None:
        """One Retail Prices API item: a VM size's hourly Consumption meter in ``region``."""
        series = size.removeprefix("Standard_").split("_")[0]
        sku = size.removeprefix("Standard_").replace("_", " ") + (" Spot" if spot else "")
        self.retail_prices.append(
            {
                "currencyCode": "USD",
                "tierMinimumUnits": 0.0,
                "retailPrice": price,
                "unitPrice": price,
                "armRegionName": region,
                "location": region,
                "effectiveStartDate": "2026-01-01T00:00:00Z",
                "meterId": f"{len(self.retail_prices):08x}-0000-4000-8000-00000000eee0",
                "meterName": sku,
                "productId": "DZH318Z0BQ4L",
                "skuId": f"DZH318Z0BQ4L/{len(self.retail_prices):04X}",
                "productName": f"Virtual Machines {series} Series"
                + (" Windows" if windows else ""),
                "skuName": sku,
                "serviceName": "Virtual Machines",
                "serviceId": "DZH313Z7MMC8",
                "serviceFamily": "Compute",
                "unitOfMeasure": "1 Hour",
                "type": "Consumption",
                "isPrimaryMeterRegion": True,
                "armSkuName": size,
            }
        )

    def add_nat_gateway(
        self, subscription: str, group: str, location: str, name: str, *,
        subnets: Iterable[str] = (),
    ) -> str:  # fmt: skip
        rid = arm_id(subscription, group, "Microsoft.Network", "natGateways", name)
        self.subscription(subscription).nat_gateways.append(
            {
                "id": rid,
                "name": name,
                "type": "Microsoft.Network/natGateways",
                "location": location,
                "sku": {"name": "Standard"},
                "properties": {
                    "idleTimeoutInMinutes": 4,
                    "subnets": [{"id": s} for s in subnets],
                    "provisioningState": "Succeeded",
                },
            }
        )
        return rid

    def add_load_balancer(
        self, subscription: str, group: str, location: str, name: str, *,
        backends: Iterable[str] = (), rules: int = 1, sku: str = "Standard",
    ) -> str:  # fmt: skip
        rid = arm_id(subscription, group, "Microsoft.Network", "loadBalancers", name)
        self.subscription(subscription).load_balancers.append(
            {
                "id": rid,
                "name": name,
                "type": "Microsoft.Network/loadBalancers",
                "location": location,
                "sku": {"name": sku, "tier": "Regional"},
                "properties": {
                    "backendAddressPools": [
                        {
                            "id": f"{rid}/backendAddressPools/pool",
                            "name": "pool",
                            "properties": {
                                "backendIPConfigurations": [{"id": b} for b in backends]
                            },
                        }
                    ],
                    "loadBalancingRules": [
                        {"id": f"{rid}/loadBalancingRules/rule{n}", "name": f"rule{n}",
                         "properties": {"protocol": "Tcp", "frontendPort": 80 + n,
                                        "backendPort": 80 + n}}
                        for n in range(rules)
                    ],
                    "provisioningState": "Succeeded",
                },
            }
        )  # fmt: skip
        return rid

    def add_storage_account(
        self, subscription: str, group: str, location: str, name: str, *,
        tier: str = "Hot", lifecycle: list[dict[str, Any]] | None = None,
    ) -> str:  # fmt: skip
        """A general-purpose v2 account; ``lifecycle`` its management policy's rules."""
        sub = self.subscription(subscription)
        rid = arm_id(subscription, group, "Microsoft.Storage", "storageAccounts", name)
        sub.storage_accounts.append(
            {
                "id": rid,
                "name": name,
                "type": "Microsoft.Storage/storageAccounts",
                "location": location,
                "kind": "StorageV2",
                "sku": {"name": "Standard_LRS", "tier": "Standard"},
                "tags": {},
                "properties": {"accessTier": tier, "provisioningState": "Succeeded"},
            }
        )
        if lifecycle is not None:
            sub.lifecycle[name.lower()] = {
                "id": f"{rid}/managementPolicies/default",
                "name": "DefaultManagementPolicy",
                "type": "Microsoft.Storage/storageAccounts/managementPolicies",
                "properties": {"policy": {"rules": lifecycle}},
            }
        return rid

    def add_cost(
        self, subscription: str, resource_id: str, meter_category: str, cost: float,
        quantity: float,
    ) -> None:  # fmt: skip
        """One Cost Management row: a resource's cost and usage over the queried period."""
        self.subscription(subscription).costs.append((resource_id, meter_category, cost, quantity))

    def add_metric(self, subscription: str, series: MetricSeries) -> None:
        self.subscription(subscription).metrics.append(series)

    def add_advice(
        self, subscription: str, resource_id: str, *, kind: str, current_sku: str,
        target_sku: str, monthly_savings: float, region: str, updated: datetime,
    ) -> None:  # fmt: skip
        """An Advisor cost recommendation of the "right-size or shut down underutilized
        virtual machines" type (``kind``: Shutdown or SkuChange)."""
        sub = self.subscription(subscription)
        name = f"{len(sub.recommendations):08x}-0000-4000-8000-0000000ad715"
        sub.recommendations.append(
            {
                "id": f"{resource_id}/providers/Microsoft.Advisor/recommendations/{name}",
                "name": name,
                "type": "Microsoft.Advisor/recommendations",
                "properties": {
                    "category": "Cost",
                    "impact": "High",
                    "impactedField": "Microsoft.Compute/virtualMachines",
                    "impactedValue": resource_id.rsplit("/", 1)[-1],
                    "lastUpdated": iso(updated),
                    "recommendationTypeId": "e10b1381-5f0a-47ff-8c7b-37bd13d7c974",
                    "shortDescription": {
                        "problem": "Right-size or shutdown underutilized virtual machines",
                        "solution": "Right-size or shutdown underutilized virtual machines",
                    },
                    "extendedProperties": {
                        "recommendationType": kind,
                        "currentSku": current_sku,
                        "targetSku": target_sku,
                        "savingsAmount": f"{monthly_savings:.2f}",
                        "annualSavingsAmount": f"{monthly_savings * 12:.2f}",
                        "savingsCurrency": "USD",
                        "regionId": region,
                        "subscriptionId": subscription,
                    },
                    "resourceMetadata": {"resourceId": resource_id, "source": "Advisor"},
                },
            }
        )

    # ------------------------------------------------------------------ server

    def start(self) -> FakeAzure:
        import logging
        import ssl

        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._tmp = tempfile.TemporaryDirectory(prefix="costscan-fake-azure-")
        cert, key = _self_signed(Path(self._tmp.name))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._http = make_server("127.0.0.1", 0, self.wsgi, threaded=True, ssl_context=context)
        host, port = self._http.server_address[:2]
        self.base_url = f"https://{host}:{port}"
        self.ca_bundle = str(cert)
        self._thread = threading.Thread(
            target=self._http.serve_forever, name="costscan-fake-azure", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> FakeAzure:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def environment(self) -> dict[str, str]:
        """The variables that point the Azure provider at this fake."""
        return {
            "COSTSCAN_AZURE_ENDPOINT": self.base_url,
            "COSTSCAN_AZURE_CA_BUNDLE": self.ca_bundle,
            "COSTSCAN_AZURE_PRICES_ENDPOINT": self.base_url,
        }

    def _record(self, entry: Recorded) -> None:
        with self._lock:
            self.requests.append(entry)

    def _denial(self, subscription: str, api: str) -> tuple[int, str, str] | None:
        return self.denied.get((subscription, api)) or self.denied.get(("*", api))

    # ------------------------------------------------------------------ routes

    def wsgi(self, environ: dict[str, Any], start_response: WsgiStart) -> list[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        path = str(environ.get("PATH_INFO", ""))
        query = str(environ.get("QUERY_STRING", ""))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length).decode() if length else ""
        self._record(Recorded(method, path, query, raw))
        params = {k.lower(): v[-1] for k, v in parse_qs(query).items()}
        # A POST's JSON body names the query's parameters (metrics' POST form): lower-cased,
        # with ``$filter`` for its filter, as the GET form's query string has them.
        if raw:
            try:
                sent = json.loads(raw)
            except ValueError:
                sent = {}
            if isinstance(sent, dict):
                for key, value in sent.items():
                    if not isinstance(value, (dict, list)):
                        name = "$filter" if key.lower() == "filter" else key.lower()
                        params.setdefault(name, str(value))
        try:
            status, body = self._route(method, path, params)
        except KeyError as exc:
            status, body = 404, _error("NotFound", f"The resource '{exc}' was not found.")
        payload = json.dumps(body).encode()
        start_response(
            f"{status} {'OK' if status == 200 else 'Error'}",
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Content-Length", str(len(payload))),
                ("x-ms-request-id", f"{len(self.requests):08x}-fake"),
            ],
        )
        return [payload]

    def _route(self, method: str, path: str, params: dict[str, str]) -> tuple[int, Any]:
        lower = path.lower().rstrip("/")
        # Cost Management's query and the metrics query's POST form are the POSTs here: Azure
        # defines both as reads.
        is_query = method == "POST" and lower.endswith(
            ("/providers/microsoft.costmanagement/query", "/providers/microsoft.insights/metrics")
        )
        if method != "GET" and not is_query:
            return 405, _error("MethodNotAllowed", "this fake only reads")
        if lower == "/api/retail/prices":
            return 200, self._retail(path, params)
        if lower == "/subscriptions":
            items: list[dict[str, Any]] = [
                {
                    "id": f"/subscriptions/{s.subscription_id}",
                    "subscriptionId": s.subscription_id,
                    "tenantId": TENANT,
                    "displayName": s.display_name,
                    "state": "Enabled",
                }
                for s in self.subscriptions.values()
            ]
            return 200, self._page(path, items, params)
        found = DESCENDANTS.match(lower)
        if found:
            group = next((g for g in self.management_groups if g.lower() == found.group(1)), None)
            if group is None:
                raise KeyError(path)
            items = [
                {
                    "id": f"/subscriptions/{s}",
                    "type": "Microsoft.Management/managementGroups/subscriptions",
                    "name": s,
                    "properties": {"displayName": self.subscription(s).display_name},
                }
                for s in self.management_groups[group]
            ]
            return 200, self._page(path, items, params)
        for route, pattern in ROUTES:
            matched = pattern.match(lower)
            if matched:
                return self._resource(route, matched.groups(), path, params)
        raise KeyError(path)

    def _resource(
        self, route: str, groups: tuple[str, ...], path: str, params: dict[str, str]
    ) -> tuple[int, Any]:
        sub_id = next((s for s in self.subscriptions if s.lower() == groups[0]), groups[0])
        denial = self._denial(sub_id, ROUTE_API[route])
        if denial:
            return denial[0], _error(denial[1], denial[2])
        sub = self.subscriptions.get(sub_id) or Subscription(sub_id, sub_id)
        if route == "vms":
            status_only = params.get("statusonly", "").lower() == "true"
            vms = [_vm_view(vm, status_only) for vm in sub.vms]
            return 200, self._page(path, vms, params)
        if route == "sizes":
            # Virtual Machine Sizes - List answers one page, no nextLink.
            return 200, {"value": sub.sizes.get(groups[1], [])}
        if route == "metrics":
            return 200, _metrics(sub, params)
        if route == "costs":
            return 200, self._costs(sub, path, params)
        if route == "policy":
            policy = sub.lifecycle.get(groups[1])
            if policy is None:
                return 404, _error(
                    "ManagementPolicyNotFound",
                    f"No ManagementPolicy found for account {groups[1]}",
                )
            return 200, policy
        items = {
            "disks": sub.disks,
            "snapshots": sub.snapshots,
            "public_ips": sub.public_ips,
            "accounts": sub.storage_accounts,
            "nats": sub.nat_gateways,
            "lbs": sub.load_balancers,
            "advisor": [
                r
                for r in sub.recommendations
                if "category eq 'cost'" not in params.get("$filter", "").lower()
                or r["properties"]["category"] == "Cost"
            ],
        }[route]
        return 200, self._page(path, items, params)

    def _page(self, path: str, items: list[dict[str, Any]], params: dict[str, str]) -> Any:
        start = int(params.get("$skiptoken") or 0)
        body: dict[str, Any] = {"value": items[start : start + self.page_size]}
        if start + self.page_size < len(items):
            query = {k: v for k, v in params.items() if k != "$skiptoken"}
            query["$skiptoken"] = str(start + self.page_size)
            body["nextLink"] = f"{self.base_url}{path}?{urlencode(query)}"
        return body

    def _costs(self, sub: Subscription, path: str, params: dict[str, str]) -> dict[str, Any]:
        """Query - Usage grouped by ResourceId and MeterCategory: ``columns`` and ``rows``
        (resource ids in lower case, as Cost Management names them), paged by ``nextLink``
        (a ``$skiptoken``)."""
        rows = [
            [cost, quantity, rid.lower(), category, "USD"]
            for rid, category, cost, quantity in sub.costs
        ]
        start = int(params.get("$skiptoken") or 0)
        next_link = None
        if start + self.page_size < len(rows):
            query = {k: v for k, v in params.items() if k != "$skiptoken"}
            query["$skiptoken"] = str(start + self.page_size)
            next_link = f"{self.base_url}{path}?{urlencode(query)}"
        return {
            "id": f"/subscriptions/{sub.subscription_id}/providers/Microsoft.CostManagement/"
            "query/costscan-fake",
            "name": "costscan-fake",
            "type": "Microsoft.CostManagement/query",
            "properties": {
                "nextLink": next_link,
                "columns": [
                    {"name": "Cost", "type": "Number"},
                    {"name": "UsageQuantity", "type": "Number"},
                    {"name": "ResourceId", "type": "String"},
                    {"name": "MeterCategory", "type": "String"},
                    {"name": "Currency", "type": "String"},
                ],
                "rows": rows[start : start + self.page_size],
            },
        }

    def _retail(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        """Retail Prices: ``Items`` matching the filter's ``armRegionName`` (and service),
        pages of ``page_size`` linked by ``NextPageLink`` (a ``$skip``)."""
        expression = params.get("$filter", "")
        region = re.search(r"armregionname eq '([^']*)'", expression, re.IGNORECASE)
        chosen = [
            i for i in self.retail_prices
            if region is None or i["armRegionName"] == region.group(1)
        ]  # fmt: skip
        start = int(params.get("$skip") or 0)
        page = chosen[start : start + self.page_size]
        body: dict[str, Any] = {
            "BillingCurrency": "USD",
            "CustomerEntityId": "Default",
            "CustomerEntityType": "Retail",
            "Items": page,
            "NextPageLink": None,
            "Count": len(page),
        }
        if start + self.page_size < len(chosen):
            query = {k: v for k, v in params.items() if k != "$skip"}
            query["$skip"] = str(start + self.page_size)
            body["NextPageLink"] = f"{self.base_url}{path}?{urlencode(query)}"
        return body


def _vm_view(vm: dict[str, Any], status_only: bool) -> dict[str, Any]:
    out = {k: v for k, v in vm.items() if not k.startswith("_")}
    if status_only:
        out["properties"] = {**out["properties"], "instanceView": vm["_instance_view"]}
    return out


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _parse_timespan(value: str) -> tuple[datetime, datetime]:
    start, _, end = value.partition("/")
    return (
        datetime.fromisoformat(start.replace("Z", "+00:00")),
        datetime.fromisoformat(end.replace("Z", "+00:00")),
    )


def _metrics(sub: Subscription, params: dict[str, str]) -> dict[str, Any]:
    """Metrics - List At Subscription Scope: one ``value`` entry per metric name asked,
    one time series per resource the filter names (at most ``top``)."""
    names = [n.strip() for n in params.get("metricnames", "").split(",") if n.strip()]
    aggregations = [a.strip().lower() for a in params.get("aggregation", "").split(",")]
    wanted = [rid.lower() for rid in RESOURCE_ID_TERM.findall(params.get("$filter", ""))]
    top = int(params.get("top") or 10)
    start, end = _parse_timespan(params["timespan"])
    values = []
    for name in names:
        series = []
        for s in sub.metrics:
            if s.metric.lower() != name.lower() or s.resource_id.lower() not in wanted:
                continue
            data = [
                {"timeStamp": hour.strftime("%Y-%m-%dT%H:%M:%SZ")}
                | {k: v for k, v in figures.items() if k in aggregations}
                for hour, figures in s.points
                if start <= hour < end
            ]
            # Azure Monitor names the resource in lower case in multi-resource answers.
            series.append(
                {
                    "metadatavalues": [
                        {
                            "name": {"value": "microsoft.resourceid",
                                     "localizedValue": "microsoft.resourceid"},
                            "value": s.resource_id.lower(),
                        }
                    ],
                    "data": data,
                }
            )  # fmt: skip
        values.append(
            {
                "id": f"/subscriptions/{sub.subscription_id}/providers/Microsoft.Insights/"
                f"metrics/{name}",
                "type": "Microsoft.Insights/metrics",
                "name": {"value": name, "localizedValue": name},
                "unit": "Percent" if name == "Percentage CPU" else "Bytes",
                "timeseries": series[:top],
                "errorCode": "Success",
            }
        )
    return {
        "cost": 0,
        "timespan": params["timespan"],
        "interval": params.get("interval", "PT1H"),
        "value": values,
        "namespace": params.get("metricnamespace", ""),
        "resourceregion": params.get("region", ""),
    }


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 and localhost, valid for a day."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "costscan fake azure")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
