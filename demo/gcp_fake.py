"""A local fake of the Google Cloud APIs the GCP provider reads, for the demo and tests.

The real SDK clients talk to it unchanged: Compute Engine, Resource Manager and Cloud
Storage over REST (a werkzeug WSGI server on 127.0.0.1), Cloud Monitoring over gRPC (an
in-process ``grpc.server``: the Monitoring SDK has no REST transport). Point the provider at
it with ``COSTSCAN_GCP_ENDPOINT`` and ``COSTSCAN_GCP_GRPC_ENDPOINT`` (``FakeGcp.environment``).

Answers follow the shapes of Google's public API references:

- Compute Engine v1 (https://cloud.google.com/compute/docs/reference/rest/v1):
  ``aggregated/{instances,machineTypes,disks,addresses,commitments}`` (``items`` keyed by
  ``zones/Z`` or ``regions/R``), ``global/{snapshots,images,addresses}``; pages of
  ``maxResults`` (default 500) with ``nextPageToken``; the ``name eq "RE2"`` filter;
- Resource Manager v3 ``projects:search``; Cloud Storage JSON API ``b?project=P``;
- Cloud Logging v2 (https://cloud.google.com/logging/docs/reference/v2/rest/v2/
  projects.locations.buckets/list) ``v2/projects/P/locations/L/buckets`` (``-``: every
  location), pages of ``pageSize`` with ``nextPageToken``;
- Recommender v1 (https://cloud.google.com/recommender/docs/reference/rest/v1/
  projects.locations.recommenders.recommendations/list)
  ``projects/P/locations/L/recommenders/R/recommendations``, pages of ``pageSize`` with
  ``nextPageToken``;
- Cloud Billing Catalog v1 (https://cloud.google.com/billing/docs/reference/rest/v1/
  services/list and services.skus/list): ``services`` and ``services/S/skus``, paged the
  same way;
- Monitoring v3 ``ListTimeSeries`` with ``metric.type``, ``resource.type`` and
  ``metric.labels.KEY`` filters, answered from hourly values seeded per aligner, paged at
  ``points_per_page`` points (the HEADERS view: labels only); ``ListMetricDescriptors``
  with a ``starts_with`` filter, from the types of the seeded series;
- errors as Google sends them: HTTP 403 with ``{"error": {"code", "message", "status",
  "errors": [{"reason"}]}}`` (``SERVICE_DISABLED``), gRPC ``PERMISSION_DENIED``.

Every request is recorded (``requests``) so a test can check that only reads arrived.
Nothing runs at import; werkzeug, grpc and the Monitoring protos load in ``start``.
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

WsgiStart = Callable[..., Any]
DEFAULT_PAGE = 500
# Cloud Monitoring caps a ListTimeSeries response by points; this fake pages at this many.
POINTS_PER_PAGE = 100_000
COMPUTE_PREFIX = "/compute/v1/projects/"

# api name (as ``deny`` takes it) for each REST route and the Monitoring RPC.
APIS = (
    "compute", "storage", "cloudresourcemanager", "monitoring", "recommender", "cloudbilling",
    "logging",
)  # fmt: skip
COMPUTE_ENGINE_SERVICE = "6F81-5844-456A"
SKUS = re.compile(r"^/v1/services/([^/]+)/skus$")
LOG_BUCKETS = re.compile(r"^/v2/projects/([^/]+)/locations/([^/]+)/buckets$")
RECOMMENDATIONS = re.compile(
    r"^/v1/projects/([^/]+)/locations/([^/]+)/recommenders/([^/]+)/recommendations$"
)


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    protocol: str  # http | grpc
    method: str  # GET, POST ... or the gRPC method path
    path: str
    query: str = ""


@dataclass
class Series:
    """One time series: its labels and, per aligner, hourly (end epoch seconds, value)."""

    metric_type: str
    resource_type: str
    resource_labels: dict[str, str]
    metric_labels: dict[str, str]
    points: dict[str, list[tuple[int, float]]]
    value_type: str = "DOUBLE"


@dataclass
class Project:
    project_id: str
    number: str
    instances: list[dict[str, Any]] = field(default_factory=list)
    disks: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    global_addresses: list[dict[str, Any]] = field(default_factory=list)
    commitments: list[dict[str, Any]] = field(default_factory=list)
    buckets: list[dict[str, Any]] = field(default_factory=list)
    log_buckets: list[dict[str, Any]] = field(default_factory=list)
    machine_types: list[dict[str, Any]] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    # (location, recommender id) -> Recommendation resources, as the API returns them.
    recommendations: dict[tuple[str, str], list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000-00:00")


def compute_url(rest: str, path: str) -> str:
    return f"https://www.googleapis.com/compute/v1/{path}" if rest else path


class FakeGcp:
    """The fake's state, its two servers, and what it was asked."""

    def __init__(
        self, *, points_per_page: int = POINTS_PER_PAGE, page_size: int = DEFAULT_PAGE
    ) -> None:
        self.projects: dict[str, Project] = {}
        # Items per REST page when the client names no maxResults (tests make it small).
        self.page_size = page_size
        self.requests: list[Recorded] = []
        self.points_per_page = points_per_page
        # (project or "*", api) -> (HTTP status, gRPC status name, reason, message)
        self.denied: dict[tuple[str, str], tuple[int, str, str, str]] = {}
        # The Cloud Billing Catalog: its services, and each one's SKUs.
        self.services: list[dict[str, Any]] = [
            {"name": f"services/{COMPUTE_ENGINE_SERVICE}", "serviceId": COMPUTE_ENGINE_SERVICE,
             "displayName": "Compute Engine", "businessEntityName": "businessEntities/GCP"},
            {"name": "services/95FF-2EF5-5EA1", "serviceId": "95FF-2EF5-5EA1",
             "displayName": "Cloud Storage", "businessEntityName": "businessEntities/GCP"},
        ]  # fmt: skip
        self.skus: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._lock = threading.Lock()
        self.rest_url = ""
        self.grpc_target = ""
        self._http: Any = None
        self._thread: threading.Thread | None = None
        self._grpc: Any = None

    # ------------------------------------------------------------------ seeding

    def project(self, project_id: str, number: str | None = None) -> Project:
        if project_id not in self.projects:
            self.projects[project_id] = Project(
                project_id, number or str(100000 + len(self.projects))
            )
        return self.projects[project_id]

    def deny(self, project: str, api: str, *, disabled: bool = True) -> None:
        """Answer ``api`` calls for ``project`` as Google does when the API is disabled
        (or, with ``disabled=False``, when the caller lacks the permission)."""
        if disabled:
            message = (
                f"{api.title()} API has not been used in project {project} before or it is "
                f"disabled. Enable it by visiting https://console.developers.google.com/apis/"
                f"api/{api}.googleapis.com/overview?project={project} then retry."
            )
            self.denied[(project, api)] = (403, "PERMISSION_DENIED", "accessNotConfigured", message)
        else:
            message = f"Required '{api}' permission denied on project {project}."
            self.denied[(project, api)] = (403, "PERMISSION_DENIED", "forbidden", message)

    def add_machine_types(
        self, project: str, zone: str, types: Iterable[Mapping[str, Any]]
    ) -> None:
        for t in types:
            self.project(project).machine_types.append(
                {
                    "kind": "compute#machineType",
                    "name": t["name"],
                    "guestCpus": int(t["vcpus"]),
                    "memoryMb": round(float(t["memory_gib"]) * 1024),
                    "isSharedCpu": bool(t.get("shared", False)),
                    "architecture": t.get("architecture", "X86_64"),
                    "zone": zone,
                }
            )

    def add_instance(
        self,
        project: str,
        zone: str,
        name: str,
        machine_type: str,
        *,
        status: str = "RUNNING",
        labels: Mapping[str, str] | None = None,
        created: datetime,
        last_stop: datetime | None = None,
        spot: bool = False,
        group: str | None = None,
        instance_id: str | None = None,
    ) -> dict[str, Any]:
        p = self.project(project)
        metadata = (
            [
                {
                    "key": "created-by",
                    "value": f"projects/{p.number}/zones/{zone}/instanceGroupManagers/{group}",
                }
            ]
            if group
            else []
        )
        vm: dict[str, Any] = {
            "kind": "compute#instance",
            "id": instance_id or str(7000000000000000000 + len(p.instances)),
            "name": name,
            "zone": compute_url("x", f"projects/{project}/zones/{zone}"),
            "machineType": compute_url(
                "x", f"projects/{project}/zones/{zone}/machineTypes/{machine_type}"
            ),
            "status": status,
            "creationTimestamp": rfc3339(created),
            "lastStartTimestamp": rfc3339(created),
            "labels": dict(labels or {}),
            "metadata": {"items": metadata},
            "scheduling": {
                "provisioningModel": "SPOT" if spot else "STANDARD",
                "preemptible": spot,
            },
        }
        if last_stop is not None:
            vm["lastStopTimestamp"] = rfc3339(last_stop)
        p.instances.append(vm)
        return vm

    def add_disk(
        self, project: str, zone: str, name: str, disk_type: str, size_gb: int, *,
        users: Iterable[str] = (), created: datetime, device_name: str | None = None,
    ) -> None:  # fmt: skip
        """A disk; each instance in ``users`` (added before) lists it in its ``disks`` as
        an AttachedDisk (``deviceName``, default the disk's name; ``source``)."""
        p = self.project(project)
        source = compute_url("x", f"projects/{project}/zones/{zone}/disks/{name}")
        users = list(users)
        p.disks.append(
            {
                "kind": "compute#disk",
                "name": name,
                "zone": compute_url("x", f"projects/{project}/zones/{zone}"),
                "type": compute_url("x", f"projects/{project}/zones/{zone}/diskTypes/{disk_type}"),
                "sizeGb": str(size_gb),
                "status": "READY",
                "users": [
                    compute_url("x", f"projects/{project}/zones/{zone}/instances/{u}")
                    for u in users
                ],
                "creationTimestamp": rfc3339(created),
            }
        )
        for vm in p.instances:
            if vm["name"] in users and vm["zone"].endswith(f"/zones/{zone}"):
                attached = vm.setdefault("disks", [])
                attached.append(
                    {"kind": "compute#attachedDisk", "type": "PERSISTENT", "mode": "READ_WRITE",
                     "source": source, "deviceName": device_name or name,
                     "index": len(attached), "boot": not attached}
                )  # fmt: skip

    def add_snapshot(
        self, project: str, name: str, *, source_disk: str, disk_size_gb: int,
        storage_bytes: int, created: datetime, location: str = "us",
    ) -> None:  # fmt: skip
        self.project(project).snapshots.append(
            {
                "kind": "compute#snapshot",
                "name": name,
                "sourceDisk": compute_url("x", f"projects/{project}/{source_disk}"),
                "diskSizeGb": str(disk_size_gb),
                "storageBytes": str(storage_bytes),
                "storageLocations": [location],
                "snapshotType": "STANDARD",
                "status": "READY",
                "creationTimestamp": rfc3339(created),
            }
        )

    def add_address(
        self, project: str, region: str, name: str, address: str, *, in_use_by: str | None = None,
        created: datetime,
    ) -> None:  # fmt: skip
        self.project(project).addresses.append(
            {
                "kind": "compute#address",
                "name": name,
                "address": address,
                "addressType": "EXTERNAL",
                "region": compute_url("x", f"projects/{project}/regions/{region}"),
                "status": "IN_USE" if in_use_by else "RESERVED",
                "users": [in_use_by] if in_use_by else [],
                "creationTimestamp": rfc3339(created),
            }
        )

    def add_commitment(
        self, project: str, region: str, name: str, commitment_type: str, *, vcpus: int,
        memory_gib: float, start: datetime, end: datetime, plan: str = "TWELVE_MONTH",
    ) -> None:  # fmt: skip
        self.project(project).commitments.append(
            {
                "kind": "compute#commitment",
                "name": name,
                "region": compute_url("x", f"projects/{project}/regions/{region}"),
                "status": "ACTIVE",
                "plan": plan,
                "type": commitment_type,
                "category": "MACHINE",
                "startTimestamp": rfc3339(start),
                "endTimestamp": rfc3339(end),
                "resources": [
                    {"type": "VCPU", "amount": str(vcpus)},
                    {"type": "MEMORY", "amount": str(int(memory_gib * 1024))},
                ],
            }
        )

    def add_bucket(
        self, project: str, name: str, *, location: str = "US-CENTRAL1",
        storage_class: str = "STANDARD", lifecycle: list[dict[str, Any]] | None = None,
        autoclass: bool = False,
    ) -> None:  # fmt: skip
        bucket: dict[str, Any] = {
            "kind": "storage#bucket",
            "id": name,
            "name": name,
            "projectNumber": self.project(project).number,
            "location": location,
            "locationType": "region",
            "storageClass": storage_class,
        }
        if lifecycle:
            bucket["lifecycle"] = {"rule": lifecycle}
        if autoclass:
            bucket["autoclass"] = {"enabled": True, "terminalStorageClass": "NEARLINE"}
        self.project(project).buckets.append(bucket)

    def add_log_bucket(
        self, project: str, bucket_id: str, *, location: str = "global", retention_days: int = 30,
        created: datetime, locked: bool = False,
    ) -> None:  # fmt: skip
        """A LogBucket resource as the Logging API v2 returns it."""
        self.project(project).log_buckets.append(
            {
                "name": f"projects/{project}/locations/{location}/buckets/{bucket_id}",
                "description": f"{bucket_id} bucket",
                "createTime": rfc3339(created).replace(".000-00:00", ".000000Z"),
                "updateTime": rfc3339(created).replace(".000-00:00", ".000000Z"),
                "retentionDays": retention_days,
                "locked": locked,
                "lifecycleState": "ACTIVE",
                "analyticsEnabled": False,
            }
        )

    def add_recommendation(
        self, project: str, location: str, recommender: str, *, resource: str,
        monthly_cost: float, description: str, subtype: str, refreshed: datetime,
        state: str = "ACTIVE", machine_type: str | None = None,
        operations: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """A Recommendation resource with a 30-day costProjection of ``monthly_cost`` (USD
        over 30 days, negative: a saving), for ``resource`` (a full resource name, e.g.
        ``//compute.googleapis.com/projects/P/zones/Z/instances/N``). Named by project
        number, as Google names them. A resize replaces ``/machineType``."""
        p = self.project(project)
        index = sum(len(v) for v in p.recommendations.values())
        units = int(monthly_cost)
        nanos = round((monthly_cost - units) * 1e9)
        if operations is None:
            operations = [
                {"action": "test", "resourceType": "compute.googleapis.com/Instance",
                 "resource": resource, "path": "/status", "value": "RUNNING"},
            ]  # fmt: skip
            if machine_type is not None:
                zone = resource.split("/zones/")[-1].split("/")[0]
                operations.append(
                    {"action": "replace", "resourceType": "compute.googleapis.com/Instance",
                     "resource": resource, "path": "/machineType",
                     "value": f"zones/{zone}/machineTypes/{machine_type}"}
                )  # fmt: skip
        recommendation = {
            "name": f"projects/{p.number}/locations/{location}/recommenders/{recommender}/"
            f"recommendations/{index:08x}-0000-4000-8000-000000000000",
            "description": description,
            "recommenderSubtype": subtype,
            "lastRefreshTime": rfc3339(refreshed).replace(".000-00:00", "Z"),
            "primaryImpact": {
                "category": "COST",
                "costProjection": {
                    "cost": {"currencyCode": "USD", "units": str(units), "nanos": nanos},
                    "duration": "2592000s",
                },
            },
            "priority": "P4",
            "content": {"operationGroups": [{"operations": operations}]},
            "stateInfo": {"state": state},
            "etag": f'"{index:016x}"',
            "targetResources": [resource],
        }
        p.recommendations[(location, recommender)].append(recommendation)
        return recommendation

    def add_sku(
        self, description: str, *, sku_id: str, price: float, regions: Iterable[str],
        resource_group: str, usage_unit: str, usage_type: str = "OnDemand",
        service: str = COMPUTE_ENGINE_SERVICE,
    ) -> dict[str, Any]:  # fmt: skip
        """A catalogue SKU with one tier from 0 at ``price`` USD per ``usage_unit``."""
        units = int(price)
        sku = {
            "name": f"services/{service}/skus/{sku_id}",
            "skuId": sku_id,
            "description": description,
            "category": {
                "serviceDisplayName": "Compute Engine",
                "resourceFamily": "Compute",
                "resourceGroup": resource_group,
                "usageType": usage_type,
            },
            "serviceRegions": list(regions),
            "pricingInfo": [
                {
                    "summary": "",
                    "pricingExpression": {
                        "usageUnit": usage_unit,
                        "displayQuantity": 1,
                        "tieredRates": [
                            {
                                "startUsageAmount": 0,
                                "unitPrice": {
                                    "currencyCode": "USD",
                                    "units": str(units),
                                    "nanos": round((price - units) * 1e9),
                                },
                            }
                        ],
                        "usageUnitDescription": "hour" if usage_unit == "h" else "gibibyte hour",
                        "baseUnit": "s" if usage_unit == "h" else "By.s",
                        "baseUnitDescription": "second" if usage_unit == "h" else "byte second",
                        "baseUnitConversionFactor": 3600 if usage_unit == "h" else 3865470566400,
                    },
                    "currencyConversionRate": 1,
                    "effectiveTime": "2026-09-01T00:00:00Z",
                }
            ],
            "serviceProviderName": "Google",
            "geoTaxonomy": {"type": "MULTI_REGIONAL", "regions": list(regions)},
        }
        self.skus[service].append(sku)
        return sku

    def add_series(self, project: str, series: Series) -> None:
        self.project(project).series.append(series)

    # ------------------------------------------------------------------ servers

    def start(self) -> FakeGcp:
        import logging

        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._http = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        host, port = self._http.server_address[:2]
        self.rest_url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._http.serve_forever, name="costscan-fake-gcp", daemon=True
        )
        self._thread.start()
        self._start_grpc()
        return self

    def stop(self) -> None:
        if self._grpc is not None:
            self._grpc.stop(grace=None)
            self._grpc = None
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> FakeGcp:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def environment(self) -> dict[str, str]:
        """The variables that point the GCP provider at this fake."""
        return {
            "COSTSCAN_GCP_ENDPOINT": self.rest_url,
            "COSTSCAN_GCP_GRPC_ENDPOINT": self.grpc_target,
        }

    def _record(self, entry: Recorded) -> None:
        with self._lock:
            self.requests.append(entry)

    def _denial(self, project: str, api: str) -> tuple[int, str, str, str] | None:
        return self.denied.get((project, api)) or self.denied.get(("*", api))

    # ------------------------------------------------------------------ REST

    def wsgi(self, environ: dict[str, Any], start_response: WsgiStart) -> list[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        path = str(environ.get("PATH_INFO", ""))
        query = str(environ.get("QUERY_STRING", ""))
        self._record(Recorded("http", method, path, query))
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        try:
            status, body = self._route(method, path, params)
        except KeyError as exc:
            status, body = 404, _error(404, "NOT_FOUND", "notFound", f"not found: {exc}")
        payload = json.dumps(body).encode()
        start_response(
            f"{status} {'OK' if status == 200 else 'Error'}",
            [
                ("Content-Type", "application/json; charset=UTF-8"),
                ("Content-Length", str(len(payload))),
            ],
        )
        return [payload]

    def _route(self, method: str, path: str, params: dict[str, str]) -> tuple[int, Any]:
        if method != "GET":
            return 405, _error(405, "METHOD_NOT_ALLOWED", "badRequest", "this fake only reads")
        if path == "/v3/projects:search":
            denial = self._denial("*", "cloudresourcemanager")
            if denial:
                return denial[0], _error(*denial)
            found = [
                {"name": f"projects/{p.number}", "projectId": p.project_id, "state": "ACTIVE",
                 "displayName": p.project_id}
                for p in self.projects.values()
            ]  # fmt: skip
            return 200, {"projects": found}
        if path == "/storage/v1/b":
            project = params.get("project", "")
            denial = self._denial(project, "storage")
            if denial:
                return denial[0], _error(denial[0], denial[1], denial[2], denial[3])
            items = self.projects[project].buckets if project in self.projects else []
            return 200, _page(items, params, "storage#buckets", "items", self.page_size)
        if path == "/v1/services" or SKUS.match(path):
            denial = self._denial("*", "cloudbilling")
            if denial:
                return denial[0], _error(*denial)
            if path == "/v1/services":
                return 200, _token_page(self.services, params, "services", self.page_size)
            service = path.split("/")[3]
            skus = self.skus.get(service, [])
            return 200, _token_page(skus, params, "skus", self.page_size)
        buckets = LOG_BUCKETS.match(path)
        if buckets:
            project, location = buckets.groups()
            denial = self._denial(project, "logging")
            if denial:
                return denial[0], _error(*denial)
            p = self.projects.get(project)
            items = [
                b for b in (p.log_buckets if p else [])
                if location == "-" or f"/locations/{location}/" in b["name"]
            ]  # fmt: skip
            return 200, _token_page(items, params, "buckets", self.page_size)
        listed = RECOMMENDATIONS.match(path)
        if listed:
            project, location, recommender = listed.groups()
            denial = self._denial(project, "recommender")
            if denial:
                return denial[0], _error(*denial)
            p = self.projects.get(project)
            items = p.recommendations.get((location, recommender), []) if p else []
            if "enum-encoding=int" in params.get("$alt", ""):
                items = [_enums_as_numbers(item) for item in items]
            return 200, _token_page(items, params, "recommendations", self.page_size)
        if path.startswith(COMPUTE_PREFIX):
            return self._compute(path[len(COMPUTE_PREFIX) :], params)
        raise KeyError(path)

    def _compute(self, rest: str, params: dict[str, str]) -> tuple[int, Any]:
        project_id, _, what = rest.partition("/")
        denial = self._denial(project_id, "compute")
        if denial:
            return denial[0], _error(denial[0], denial[1], denial[2], denial[3])
        p = self.projects.get(project_id) or Project(project_id, "0")
        aggregated = {
            "aggregated/instances": ("instances", p.instances, "zone"),
            "aggregated/machineTypes": ("machineTypes", p.machine_types, "zone"),
            "aggregated/disks": ("disks", p.disks, "zone"),
            "aggregated/addresses": ("addresses", p.addresses, "region"),
            "aggregated/commitments": ("commitments", p.commitments, "region"),
        }
        listed = {
            "global/snapshots": p.snapshots,
            "global/images": p.images,
            "global/addresses": p.global_addresses,
        }
        if what in aggregated:
            key, items, scope = aggregated[what]
            chosen = _filtered(items, params.get("filter"))
            return 200, _aggregated_page(chosen, params, key, scope, self.page_size)
        if what in listed:
            return 200, _page(listed[what], params, "compute#list", "items", self.page_size)
        raise KeyError(what)

    # ------------------------------------------------------------------ gRPC

    def _start_grpc(self) -> None:
        from concurrent import futures

        import grpc
        from google.cloud import monitoring_v3

        request_type = monitoring_v3.ListTimeSeriesRequest
        descriptors_type = monitoring_v3.ListMetricDescriptorsRequest
        handler = grpc.method_handlers_generic_handler(
            "google.monitoring.v3.MetricService",
            {
                "ListTimeSeries": grpc.unary_unary_rpc_method_handler(
                    self._list_time_series,
                    request_deserializer=lambda raw: request_type.pb().FromString(raw),
                    response_serializer=lambda message: message.SerializeToString(),
                ),
                "ListMetricDescriptors": grpc.unary_unary_rpc_method_handler(
                    self._list_metric_descriptors,
                    request_deserializer=lambda raw: descriptors_type.pb().FromString(raw),
                    response_serializer=lambda message: message.SerializeToString(),
                ),
            },
        )
        self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self._grpc.add_generic_rpc_handlers((handler,))
        port = self._grpc.add_insecure_port("127.0.0.1:0")
        self._grpc.start()
        self.grpc_target = f"127.0.0.1:{port}"

    def _list_metric_descriptors(self, request: Any, context: Any) -> Any:
        """User-defined metric descriptors: every type a seeded series of the project has,
        under the ``metric.type = starts_with("PREFIX")`` filter, paged by ``page_size``."""
        import grpc
        from google.cloud import monitoring_v3

        project_id = request.name.split("/", 1)[-1]
        self._record(
            Recorded("grpc", "/google.monitoring.v3.MetricService/ListMetricDescriptors",
                     request.name, request.filter)
        )  # fmt: skip
        denial = self._denial(project_id, "monitoring")
        if denial:
            context.abort(getattr(grpc.StatusCode, denial[1]), denial[3])
        prefix = re.search(r'starts_with\("([^"]*)"\)', request.filter)
        p = self.projects.get(project_id)
        labels: dict[str, set[str]] = defaultdict(set)
        for series in p.series if p else []:
            if prefix is None or series.metric_type.startswith(prefix.group(1)):
                labels[series.metric_type].update(series.metric_labels)
        types = sorted(labels)
        size = request.page_size or self.page_size
        offset = int(request.page_token or 0)
        response = monitoring_v3.ListMetricDescriptorsResponse.pb()()
        for metric_type in types[offset : offset + size]:
            descriptor = response.metric_descriptors.add()
            descriptor.name = f"projects/{project_id}/metricDescriptors/{metric_type}"
            descriptor.type = metric_type
            descriptor.metric_kind = 1  # GAUGE
            descriptor.value_type = 3  # DOUBLE
            for key in sorted(labels[metric_type]):
                descriptor.labels.add().key = key
        if offset + size < len(types):
            response.next_page_token = str(offset + size)
        return response

    def _list_time_series(self, request: Any, context: Any) -> Any:
        import grpc
        from google.cloud import monitoring_v3

        project_id = request.name.split("/", 1)[-1]
        self._record(
            Recorded("grpc", "/google.monitoring.v3.MetricService/ListTimeSeries", request.name,
                     request.filter)
        )  # fmt: skip
        denial = self._denial(project_id, "monitoring")
        if denial:
            context.abort(getattr(grpc.StatusCode, denial[1]), denial[3])
        wanted = _parse_filter(request.filter)
        aligner = monitoring_v3.Aggregation.Aligner(request.aggregation.per_series_aligner).name
        start = request.interval.start_time.seconds
        end = request.interval.end_time.seconds
        p = self.projects.get(project_id)
        matching = [
            s for s in (p.series if p else [])
            if s.metric_type == wanted.get("metric.type")
            and s.resource_type == wanted.get("resource.type", s.resource_type)
            and all(s.metric_labels.get(k) == v for k, v in wanted.get("labels", {}).items())
        ]  # fmt: skip
        offset = int(request.page_token or 0)
        response = monitoring_v3.ListTimeSeriesResponse.pb()()
        points = 0
        index = offset
        headers = request.view == monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.HEADERS
        if headers:
            # Labels only, for the series with a point of any kind in the interval.
            matching = [
                s for s in matching
                if any(start < t <= end for pts in s.points.values() for t, _v in pts)
            ]  # fmt: skip
        while index < len(matching):
            series = matching[index]
            chosen = [(t, v) for t, v in series.points.get(aligner, []) if start < t <= end]
            if headers:
                chosen = []
            if points and points + len(chosen) > self.points_per_page:
                break
            out = response.time_series.add()
            out.metric.type = series.metric_type
            out.metric.labels.update(series.metric_labels)
            out.resource.type = series.resource_type
            out.resource.labels.update(series.resource_labels)
            out.value_type = (
                monitoring_v3.TimeSeries.pb()
                .DESCRIPTOR.fields_by_name["value_type"]
                .enum_type.values_by_name[series.value_type]
                .number
            )
            for t, v in sorted(chosen, reverse=True):
                point = out.points.add()
                point.interval.start_time.seconds = t - 3600
                point.interval.end_time.seconds = t
                if series.value_type == "INT64":
                    point.value.int64_value = int(v)
                else:
                    point.value.double_value = v
            points += len(chosen)
            index += 1
        if index < len(matching):
            response.next_page_token = str(index)
        return response


def _error(code: int, status: str, reason: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "status": status,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
        }
    }


def _page(
    items: list[dict[str, Any]], params: dict[str, str], kind: str, key: str, default: int
) -> dict[str, Any]:
    size = int(params.get("maxResults") or default)
    start = int(params.get("pageToken") or 0)
    body: dict[str, Any] = {"kind": kind, key: items[start : start + size]}
    if start + size < len(items):
        body["nextPageToken"] = str(start + size)
    return body


# The Recommendation enums' numbers (google/cloud/recommender/v1/recommendation.proto): the
# REST clients ask for ``$alt=json;enum-encoding=int``, and Google then answers numbers.
_PRIORITY = {"P4": 1, "P3": 2, "P2": 3, "P1": 4}
_STATE = {"ACTIVE": 1, "SUCCEEDED": 3, "FAILED": 4, "DISMISSED": 5, "CLAIMED": 6}
_CATEGORY = {"COST": 1}


def _enums_as_numbers(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(item))
    out["priority"] = _PRIORITY[out["priority"]]
    out["stateInfo"]["state"] = _STATE[out["stateInfo"]["state"]]
    out["primaryImpact"]["category"] = _CATEGORY[out["primaryImpact"]["category"]]
    return out


def _token_page(
    items: list[dict[str, Any]], params: dict[str, str], key: str, default: int
) -> dict[str, Any]:
    """The newer APIs' pages: ``pageSize`` and ``pageToken``; an empty list is omitted, as
    Google omits empty repeated fields."""
    size = int(params.get("pageSize") or default)
    start = int(params.get("pageToken") or 0)
    body: dict[str, Any] = {}
    if items[start : start + size]:
        body[key] = items[start : start + size]
    if start + size < len(items):
        body["nextPageToken"] = str(start + size)
    return body


def _aggregated_page(
    items: list[dict[str, Any]], params: dict[str, str], key: str, scope: str, default: int
) -> dict[str, Any]:
    size = int(params.get("maxResults") or default)
    start = int(params.get("pageToken") or 0)
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items[start : start + size]:
        where = str(item.get(scope, "")).rsplit("/", 1)[-1]
        grouped[f"{scope}s/{where}"].append(item)
    body: dict[str, Any] = {
        "kind": f"compute#{key}AggregatedList",
        "items": {k: {key: v} for k, v in grouped.items()},
    }
    if start + size < len(items):
        body["nextPageToken"] = str(start + size)
    return body


def _filtered(items: list[dict[str, Any]], expression: str | None) -> list[dict[str, Any]]:
    """Compute Engine's ``name eq "RE2"`` filter: the pattern matches the whole name."""
    if not expression:
        return items
    match = re.fullmatch(r'\s*name\s+eq\s+"?([^"]*)"?\s*', expression)
    if not match:
        return items
    pattern = re.compile(match.group(1))
    return [i for i in items if pattern.fullmatch(str(i.get("name", "")))]


def _parse_filter(expression: str) -> dict[str, Any]:
    """``metric.type = "X" AND resource.type = "Y" AND metric.labels.K = "V"``."""
    out: dict[str, Any] = {"labels": {}}
    for key, value in re.findall(r'([\w.]+)\s*=\s*"([^"]*)"', expression):
        if key.startswith("metric.labels."):
            out["labels"][key.removeprefix("metric.labels.")] = value
        else:
            out[key] = value
    return out
