"""The GCP provider: every project the run names (or every project the credentials can
list), each collector failing on its own.

Flow: credentials (Application Default Credentials, or anonymous against an endpoint
override), the projects (``--project``, else Resource Manager's SearchProjects, under
``--organization`` when given), the price catalogue (bundled; with ``--live-pricing`` the
Cloud Billing Catalog's, cached, bundled for what it lacks), then one thread per project
running the Compute Engine, Recommender, Cloud Storage, Cloud Logging and Cloud Monitoring
collectors. A collector that fails (an API disabled in a project, a role missing) leaves a
``CollectorError`` that names it, and the rest of the scan goes on.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import polars as pl

from costscan.providers.collectors import Collector, attempted, declared_error
from costscan.providers.gcp import cloud_logging, monitoring, recommender
from costscan.providers.gcp import compute as gce
from costscan.providers.gcp import metrics as gcm
from costscan.providers.gcp import storage as gcs
from costscan.providers.gcp.clients import Clients, Endpoints, resolve_credentials
from costscan.providers.interface import Progress, Provider, ScanRequest, no_progress
from costscan.providers.sdk import require_modules
from costscan.scanner.contracts.errors import ProviderError
from costscan.scanner.contracts.inventory import Inventory
from costscan.scanner.contracts.vocab import ResourceType

T = TypeVar("T")

GLOBAL = "global"
DEFAULT_MAX_WORKERS = 4
MESSAGE_LIMIT = 300
# The cross-check (scanner/pipeline/provider_advice.py) reads a failure of this collector as
# "Google's advice unavailable" for the project, never as Google's silence.
RECOMMENDER_COLLECTOR = "recommender.recommendations.list"

_VM = (ResourceType.GCE_INSTANCE.value,)
_DISK = (ResourceType.PERSISTENT_DISK.value,)
_SNAPSHOT = (ResourceType.GCE_SNAPSHOT.value,)
_BUCKET = (ResourceType.GCS_BUCKET.value,)
_LOG_BUCKET = (ResourceType.LOG_BUCKET.value,)
_METRIC = (ResourceType.MONITORING_METRIC.value,)
# What each collector's failure loses (providers/collectors.py): the findings that read it
# are withheld in the project, and last run's are "not seen", never "resolved".
COLLECTORS: dict[str, Collector] = {
    "cloudresourcemanager.projects.search": Collector("the projects the credentials can see"),
    "cloudbilling.services.skus.list": Collector(
        "live Compute Engine prices (the bundled catalog is used)"
    ),
    "compute.instances.aggregatedList": Collector(
        "Compute Engine instances", ("compute", "tags", "utilization"), _VM
    ),
    "compute.machineTypes.aggregatedList": Collector(
        "machine type facts and prices", ("prices",), _VM
    ),
    "compute.disks.aggregatedList": Collector(
        "persistent disks (and so their snapshots)", ("volumes", "snapshots"), _DISK + _SNAPSHOT
    ),
    "compute.snapshots.list": Collector("disk snapshots", ("snapshots",), _SNAPSHOT),
    "compute.images.list": Collector("which snapshots back an image", ("snapshots",), _SNAPSHOT),
    "compute.addresses.aggregatedList": Collector(
        "static IP addresses", ("network_idle",), (ResourceType.STATIC_ADDRESS.value,)
    ),
    "compute.regionCommitments.aggregatedList": Collector(
        "committed use discounts", ("commitments",), (ResourceType.COMMITTED_USE_DISCOUNT.value,)
    ),
    RECOMMENDER_COLLECTOR: Collector("Google Recommender's advice (the cross-check)"),
    "storage.buckets.list": Collector("Cloud Storage buckets", ("buckets",), _BUCKET),
    "monitoring.timeSeries.list(storage)": Collector(
        "bytes per bucket and storage class", ("buckets",), _BUCKET
    ),
    "logging.buckets.list": Collector("Cloud Logging buckets", ("log_groups",), _LOG_BUCKET),
    "monitoring.timeSeries.list(logging)": Collector(
        "log bucket ingestion", ("log_groups",), _LOG_BUCKET
    ),
    "monitoring.metricDescriptors.list": Collector(
        "custom and Prometheus metric types", ("metric_series",), _METRIC
    ),
    "monitoring.timeSeries.list(metrics)": Collector(
        "active series per metric type", ("metric_series",), _METRIC
    ),
    "monitoring.timeSeries.list(compute)": Collector(
        "instance CPU and memory utilization", ("utilization",), _VM
    ),
    "monitoring.timeSeries.list(disks)": Collector("pd-ssd disk I/O", ("utilization",), _DISK),
}


def one_line(exc: BaseException) -> str:
    """An API error as one short line: Google's message (it names a disabled API and how
    to enable it), without the HTTP body around it."""
    message = getattr(exc, "message", None) or str(exc)
    text = re.sub(r"\s+", " ", str(message)).strip() or type(exc).__name__
    code = getattr(exc, "code", None)
    if isinstance(code, int) and not text.startswith(str(code)):
        text = f"{code} {text}"
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def _api_errors() -> tuple[type[BaseException], ...]:
    import grpc
    import requests
    from google.api_core import exceptions as api_exceptions
    from google.auth import exceptions as auth_exceptions

    from costscan.providers.gcp.clients import RestApiError

    return (
        RestApiError,
        api_exceptions.GoogleAPIError,
        auth_exceptions.GoogleAuthError,
        requests.RequestException,
        grpc.RpcError,
    )


class ProjectScan:
    """What one project's scan needs and collects."""

    def __init__(self, project: str, clients: Clients, request: ScanRequest, prices: pl.DataFrame,
                 counter: monitoring.CallCounter) -> None:  # fmt: skip
        self.project = project
        self.clients = clients
        self.request = request
        self.prices = prices
        self.counter = counter
        self.inventory = Inventory(provider="gcp", context=request.context, accounts=[project])

    def attempt(self, collector: str, call: Callable[[], T]) -> T | None:
        """Run one collector; an API failure becomes a CollectorError, not a crash."""
        return attempted(
            call,
            table=COLLECTORS,
            collector=collector,
            account_id=self.project,
            errors=self.inventory.errors,
            api_errors=_api_errors(),
            one_line=one_line,
            region=GLOBAL,
        )


def _in_regions(frame: pl.DataFrame, regions: list[str]) -> pl.DataFrame:
    return frame.filter(pl.col("region").is_in(regions)) if regions else frame


def scan_project(run: ProjectScan) -> Inventory:
    project, inv = run.project, run.inventory
    regions = list(dict.fromkeys(run.request.regions))
    instances = run.attempt(
        "compute.instances.aggregatedList",
        lambda: gce.list_instances(run.clients.compute("InstancesClient"), project),
    )
    instances = instances or gce.Instances()
    facts = run.attempt(
        "compute.machineTypes.aggregatedList",
        lambda: gce.machine_type_facts(
            run.clients.compute("MachineTypesClient"), project, sorted(instances.types)
        ),
    )
    if facts is None:
        facts = gce.machine_type_facts(None, project, [])
    compute, tags = gce.compute_frames(instances, facts, run.prices)
    compute = _in_regions(compute, regions)
    inv.add("compute", compute)
    inv.add("tags", tags.filter(pl.col("resource_id").is_in(compute["resource_id"].implode())))

    disks = run.attempt(
        "compute.disks.aggregatedList",
        lambda: gce.list_disks(run.clients.compute("DisksClient"), project),
    )
    if disks is not None:
        stopped = gce.stopped_since(instances.rows)
        inv.add("volumes", _in_regions(gce.volumes_frame(disks, compute, stopped), regions))
        snapshots = run.attempt(
            "compute.snapshots.list",
            lambda: gce.list_snapshots(run.clients.compute("SnapshotsClient"), project),
        )
        images = run.attempt(
            "compute.images.list",
            lambda: gce.image_snapshots(run.clients.compute("ImagesClient"), project),
        )
        if snapshots is not None and images is not None:
            ids = {str(d["resource_id"]) for d in disks}
            inv.add("snapshots", gce.snapshots_frame(project, snapshots, ids, images))

    addresses = run.attempt(
        "compute.addresses.aggregatedList",
        lambda: gce.list_addresses(
            run.clients.compute("AddressesClient"),
            run.clients.compute("GlobalAddressesClient"),
            project,
        ),
    )
    if addresses is not None:
        inv.add("network_idle", _in_regions(gce.network_idle_frame(addresses), regions))

    cuds = run.attempt(
        "compute.regionCommitments.aggregatedList",
        lambda: gce.list_commitments(run.clients.compute("RegionCommitmentsClient"), project),
    )
    if cuds is not None:
        inv.add("commitments", gce.commitments_frame(cuds, compute, run.request.context.now))

    where = recommender.locations(compute, disks or [], addresses or [])
    advice = run.attempt(
        RECOMMENDER_COLLECTOR,
        lambda: recommender.list_advice(run.clients.recommender(), project, where),
    )
    if advice is not None:
        inv.add("provider_advice", _in_regions(recommender.advice_frame(advice), regions))

    buckets = run.attempt(
        "storage.buckets.list", lambda: gcs.list_buckets(run.clients.storage(project), project)
    )
    if buckets:
        stored = run.attempt(
            "monitoring.timeSeries.list(storage)",
            lambda: monitoring.bucket_storage(
                run.clients.monitoring(), project, run.request.context.now, run.counter
            ),
        )
        if stored is None:
            stored = monitoring.bucket_storage_empty()
        inv.add("buckets", gcs.buckets_frame(buckets, stored))

    log_buckets = run.attempt(
        "logging.buckets.list",
        lambda: cloud_logging.list_log_buckets(run.clients.logging_api(), project),
    )
    if log_buckets:
        usage = run.attempt(
            "monitoring.timeSeries.list(logging)",
            lambda: monitoring.log_bucket_usage(
                run.clients.monitoring(),
                project,
                run.request.context.now,
                run.request.context.lookback_days,
                run.counter,
            ),
        )
        if usage is None:
            usage = pl.DataFrame(schema=monitoring.LOG_USAGE_SCHEMA)
        inv.add("log_groups", cloud_logging.log_groups_frame(log_buckets, usage))

    metric_types = run.attempt(
        "monitoring.metricDescriptors.list",
        lambda: monitoring.metric_descriptors(run.clients.monitoring(), project, run.counter),
    )
    if metric_types:
        counts = run.attempt(
            "monitoring.timeSeries.list(metrics)",
            lambda: monitoring.metric_series_counts(
                run.clients.monitoring(), project, run.request.context.now, metric_types,
                run.counter,
            ),
        )  # fmt: skip
        if counts is not None:
            inv.add("metric_series", gcm.metric_series_frame(project, counts))

    if compute.height:
        utilization = run.attempt(
            "monitoring.timeSeries.list(compute)",
            lambda: monitoring.instance_utilization(
                run.clients.monitoring(),
                project,
                run.request.context.now,
                run.request.context.lookback_days,
                run.counter,
            ),
        )
        if utilization is not None:
            inv.add("utilization", utilization)
    # Disk I/O is asked only where a pd-ssd disk is attached: the pd-ssd -> pd-balanced
    # policy is its one reader, and without such a disk the calls would find nothing.
    ssd_ids = {str(d["resource_id"]) for d in disks or [] if d["volume_type"] == "pd-ssd"}
    devices = pl.DataFrame(
        [d for d in instances.devices if d["disk_id"] in ssd_ids],
        schema={"instance_id": pl.String(), "device_name": pl.String(), "disk_id": pl.String()},
    )
    if devices.height:
        activity = run.attempt(
            "monitoring.timeSeries.list(disks)",
            lambda: monitoring.disk_activity(
                run.clients.monitoring(),
                project,
                run.request.context.now,
                run.request.context.lookback_days,
                devices,
                run.counter,
            ),
        )
        if activity is not None:
            inv.add("utilization", activity)
    for region in sorted(set(compute["region"].to_list())):
        if region not in inv.regions:
            inv.regions.append(region)
    return inv


# What `pip install 'costscan[gcp]'` brings, found (not imported) before the scan starts.
SDK_MODULES = (
    "google.auth",
    "google.cloud.billing_v1",
    "google.cloud.compute_v1",
    "google.cloud.monitoring_v3",
    "google.cloud.recommender_v1",
    "google.cloud.storage",
    "google.cloud.resourcemanager_v3",
    "grpc",
    "requests",
)


class GcpProvider(Provider):
    """Compute Engine, Cloud Storage and Cloud Monitoring across projects.

    ``counter`` counts Cloud Monitoring requests (the benchmark reads it).
    """

    name = "gcp"

    def __init__(self, *, max_workers: int = DEFAULT_MAX_WORKERS) -> None:
        self.max_workers = max_workers
        self.counter = monitoring.CallCounter()

    def check(self, request: ScanRequest) -> None:
        """The Google SDKs are an extra: without them, one line saying how to install."""
        require_modules("gcp", "gcp", SDK_MODULES, "Google Cloud SDKs")

    def collect(self, request: ScanRequest, progress: Progress = no_progress) -> Inventory:
        lock = threading.Lock()

        def report(step: str, advance: int = 1) -> None:
            with lock:
                progress(step, advance)

        endpoints = Endpoints.from_env()
        credentials, adc_project = resolve_credentials(endpoints)
        clients = Clients(credentials, endpoints)
        inventory = Inventory(provider="gcp", context=request.context)
        projects = list(dict.fromkeys(request.projects))
        if not projects:
            projects = _listed_projects(clients, request.organization, inventory)
        if not projects and adc_project and request.organization is None:
            projects = [adc_project]
        if not projects:
            where = f" under organization {request.organization}" if request.organization else ""
            raise ProviderError(
                f"no Google Cloud project to scan{where}: pass --project P, or give the "
                "credentials resourcemanager.projects.get on the projects (Browser role)"
            )
        prices = _prices(request, clients, inventory)
        inventory.add("prices", prices)
        report("prices", 1)

        def run(project: str) -> Inventory:
            scanned = scan_project(ProjectScan(project, clients, request, prices, self.counter))
            report(f"project {project}", 1)
            return scanned

        workers = max(1, min(self.max_workers, len(projects)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="costscan-gcp") as pool:
            scanned = list(pool.map(run, projects))
        inventory.merge(scanned)
        for project in projects:
            if project not in inventory.accounts:
                inventory.accounts.append(project)
        return inventory


def _prices(request: ScanRequest, clients: Clients, inventory: Inventory) -> pl.DataFrame:
    """The bundled catalogue; with ``--live-pricing``, the Cloud Billing Catalog's rates
    (cached) first and the bundled ones for whatever it lacks, or all of them when the
    catalogue cannot be read (the report says why)."""
    from costscan.providers.pricing.gcp import bundled_gcp_prices
    from costscan.providers.pricing.gcp_catalog import live_gcp_prices

    if not request.live_pricing:
        return bundled_gcp_prices()
    failures: tuple[type[BaseException], ...] = (*_api_errors(), OSError)
    try:
        return live_gcp_prices(clients.billing_catalog, request.cache_dir, request.context.now)
    except failures as exc:
        inventory.errors.append(
            declared_error(
                COLLECTORS, "cloudbilling.services.skus.list", "*", GLOBAL, one_line(exc)
            )
        )
        return bundled_gcp_prices()


def _listed_projects(clients: Clients, organization: str | None, inventory: Inventory) -> list[str]:
    """Active projects the credentials can see (SearchProjects, all pages), under
    ``organization`` when given (its direct children)."""
    query = f"parent:organizations/{organization}" if organization else ""
    try:
        found: list[Any] = list(clients.projects().search_projects(request={"query": query}))
    except _api_errors() as exc:
        inventory.errors.append(
            declared_error(
                COLLECTORS, "cloudresourcemanager.projects.search", "*", GLOBAL, one_line(exc)
            )
        )
        return []
    return sorted(str(p.project_id) for p in found if p.state.name == "ACTIVE")
