"""Azure Resource Manager clients that can only read, and the credential they run with.

Every client the Azure provider makes goes through ``Clients``, and every one carries
``ReadOnlyPolicy`` in its azure-core pipeline: a request whose method is not GET or HEAD
is refused before it leaves the machine, unless it is one of the POSTs Azure defines as
reads (``READ_POSTS``: a Cost Management query, a metrics query). A bug in a collector
therefore cannot change a subscription: it raises ``ReadOnlyViolation``.

Endpoints: ``COSTSCAN_AZURE_ENDPOINT`` (an https base URL) points every ARM client at
another server, with a static local token instead of a real credential (the demo's fake, a
test server); ``COSTSCAN_AZURE_CA_BUNDLE`` names the certificate that server's TLS is
checked against (azure-core refuses bearer tokens over plain http, so the fake speaks
https with a certificate it makes). Otherwise ``DefaultAzureCredential`` (environment,
workload identity, managed identity, Azure CLI, Azure PowerShell, Azure Developer CLI)
is asked for an ARM token within ``CREDENTIALS_TIMEOUT`` seconds, so a machine with no
login fails in seconds with one line.

The Azure SDKs are imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from costscan.scanner.contracts.errors import ProviderError, ReadOnlyViolation

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

ENDPOINT_ENV = "COSTSCAN_AZURE_ENDPOINT"
CA_BUNDLE_ENV = "COSTSCAN_AZURE_CA_BUNDLE"
ARM = "https://management.azure.com"
ARM_SCOPE = "https://management.azure.com/.default"
READ_METHODS: frozenset[str] = frozenset({"GET", "HEAD"})
# POSTs that only read, by the path they go to (case-insensitive: ARM is):
# - Cost Management query (https://learn.microsoft.com/rest/api/cost-management/query/usage);
# - Monitor metrics at subscription scope, POST form
#   (https://learn.microsoft.com/rest/api/monitor/metrics/list-at-subscription-scope-post).
READ_POSTS: tuple[re.Pattern[str], ...] = (
    re.compile(r"/providers/microsoft\.costmanagement/query$", re.IGNORECASE),
    re.compile(r"^/subscriptions/[^/]+/providers/microsoft\.insights/metrics$", re.IGNORECASE),
)
# The CLI's own process is given this long (its default is 10 s), and the whole chain this
# long: IMDS is probed with a short timeout by azure-identity, and a machine with nothing
# must fail well under ten seconds.
PROCESS_TIMEOUT = 4
CREDENTIALS_TIMEOUT = 6.0
# A call that hangs longer than this is a dead endpoint, not a slow page.
READ_TIMEOUT = 120
LOCAL_TOKEN = "costscan-local-token"

NO_CREDENTIALS = (
    "no Azure credentials: DefaultAzureCredential tried the environment (AZURE_CLIENT_ID, "
    "AZURE_TENANT_ID, AZURE_CLIENT_SECRET), workload identity, managed identity, the Azure "
    "CLI, Azure PowerShell and the Azure Developer CLI; run `az login`, or set a service "
    "principal in AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET"
)


@dataclass(frozen=True)
class Endpoints:
    """Where the clients go: Azure's own Resource Manager (``base`` None), or an override."""

    base: str | None = None
    ca_bundle: str | None = None

    @staticmethod
    def from_env(environ: Mapping[str, str] | None = None) -> Endpoints:
        env = os.environ if environ is None else environ
        base = env.get(ENDPOINT_ENV, "").strip().rstrip("/") or None
        bundle = env.get(CA_BUNDLE_ENV, "").strip() or None
        if base is not None and not base.startswith("https://"):
            raise ProviderError(
                f"{ENDPOINT_ENV}: give an https base URL like https://127.0.0.1:8443 "
                "(Azure SDKs send bearer tokens over TLS only)"
            )
        if bundle is not None and not os.path.isfile(bundle):
            raise ProviderError(f"{CA_BUNDLE_ENV}: no such file {bundle!r}")
        return Endpoints(base, bundle)

    @property
    def overridden(self) -> bool:
        return self.base is not None


class LocalToken:
    """A credential for a local fake: a fixed token that never expires (for a year)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(LOCAL_TOKEN, int(time.time()) + 365 * 86400)


def resolve_credential(endpoints: Endpoints) -> TokenCredential:
    """The local token with an endpoint override; otherwise DefaultAzureCredential, proven
    by one ARM token within ``CREDENTIALS_TIMEOUT`` seconds (ProviderError, one line)."""
    if endpoints.overridden:
        return LocalToken()
    outcome: list[TokenCredential | BaseException] = []

    def look_up() -> None:
        try:
            outcome.append(_default_credential())
        except BaseException as exc:  # handed to the caller's thread below
            outcome.append(exc)

    # A daemon thread: a probe still waiting on IMDS must not hold the exit.
    worker = threading.Thread(target=look_up, name="costscan-azure-auth", daemon=True)
    worker.start()
    worker.join(CREDENTIALS_TIMEOUT)
    if not outcome:
        raise ProviderError(NO_CREDENTIALS + " (no credential answered in time)")
    found = outcome[0]
    if isinstance(found, BaseException):
        raise found
    return found


def _default_credential() -> TokenCredential:
    import logging

    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import DefaultAzureCredential

    # azure-identity logs every credential it tried as a warning; the one line below says
    # the same for the user, so its log stays quiet unless something worse happens.
    logging.getLogger("azure.identity").setLevel(logging.ERROR)

    credential = DefaultAzureCredential(process_timeout=PROCESS_TIMEOUT)
    try:
        credential.get_token(ARM_SCOPE)
    except ClientAuthenticationError:
        raise ProviderError(NO_CREDENTIALS) from None
    return credential


# --------------------------------------------------------------------------- read-only


def is_read_request(method: str, path: str) -> bool:
    """Whether an ARM request only reads: a GET or HEAD, or a POST on ``READ_POSTS``."""
    verb = method.upper()
    if verb in READ_METHODS:
        return True
    return verb == "POST" and any(p.search(path) for p in READ_POSTS)


def read_only_policy() -> Any:
    """An azure-core pipeline policy that refuses every request that is not a read."""
    from urllib.parse import urlsplit

    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class ReadOnlyPolicy(SansIOHTTPPolicy):  # type: ignore[type-arg]
        def on_request(self, request: Any) -> None:
            http = request.http_request
            path = urlsplit(str(http.url)).path
            if not is_read_request(str(http.method), path):
                raise ReadOnlyViolation(
                    f"costscan is read-only: refused {http.method} {http.url} before sending it"
                )

    return ReadOnlyPolicy()


# --------------------------------------------------------------------------- clients


class Clients:
    """Creates and caches guarded ARM clients for one credential and set of endpoints."""

    def __init__(self, credential: TokenCredential, endpoints: Endpoints, *,
                 retries: int | None = None) -> None:  # fmt: skip
        self.credential = credential
        self.endpoints = endpoints
        self.retries = retries
        self._lock = threading.Lock()
        self._made: dict[str, Any] = {}

    def _cached(self, key: str, make: Callable[[], Any]) -> Any:
        with self._lock:
            made = self._made.get(key)
            if made is None:
                made = make()
                self._made[key] = made
            return made

    def options(self) -> dict[str, Any]:
        """Keyword arguments every client gets: the read-only policy, the base URL and
        certificate of an override, bounded reads and retries."""
        options: dict[str, Any] = {
            "per_call_policies": [read_only_policy()],
            "read_timeout": READ_TIMEOUT,
        }
        if self.endpoints.base is not None:
            options["base_url"] = self.endpoints.base
            # The local token is for any audience: the scope stays ARM's.
            options["credential_scopes"] = [ARM_SCOPE]
        if self.endpoints.ca_bundle is not None:
            options["connection_verify"] = self.endpoints.ca_bundle
        if self.retries is not None:
            options["retry_total"] = self.retries
        return options

    def tenant(self) -> Any:
        """A client for ARM's tenant-level reads (Subscriptions - List, Management Groups -
        Get Descendants), sent with ``send_request`` through the same guarded pipeline: the
        compute client's, whose subscription id these paths never use (so no subscription
        or management-group package is needed)."""
        from azure.mgmt.compute import ComputeManagementClient

        return self._cached(
            "tenant", lambda: ComputeManagementClient(self.credential, "-", **self.options())
        )

    def cost_management(self) -> Any:
        """Cost Management (Query - Usage is a POST the read-only policy allows)."""

        def make() -> Any:
            from azure.mgmt.costmanagement import CostManagementClient

            return CostManagementClient(self.credential, **self.options())

        return self._cached("cost_management", make)

    def retail_prices(self) -> Any:
        """A client for the Azure Retail Prices API: public, so no credential; the same
        read-only policy, and the override's certificate when one is set."""
        from azure.core import PipelineClient
        from azure.core.pipeline.policies import RetryPolicy, UserAgentPolicy
        from azure.core.pipeline.transport import RequestsTransport

        from costscan.providers.pricing.azure_retail import endpoint

        verify = self.endpoints.ca_bundle
        transport = RequestsTransport(connection_verify=verify) if verify else RequestsTransport()
        return PipelineClient(
            endpoint(),
            policies=[
                UserAgentPolicy(user_agent="costscan"),
                read_only_policy(),
                RetryPolicy(retry_total=3 if self.retries is None else self.retries),
            ],
            transport=transport,
        )

    def _per_subscription(self, key: str, subscription: str, make: Callable[..., Any]) -> Any:
        return self._cached(
            f"{key}.{subscription}",
            lambda: make(self.credential, subscription, **self.options()),
        )

    def compute(self, subscription: str) -> Any:
        from azure.mgmt.compute import ComputeManagementClient

        return self._per_subscription("compute", subscription, ComputeManagementClient)

    def network(self, subscription: str) -> Any:
        from azure.mgmt.network import NetworkManagementClient

        return self._per_subscription("network", subscription, NetworkManagementClient)

    def monitor(self, subscription: str) -> Any:
        from azure.mgmt.monitor import MonitorManagementClient

        return self._per_subscription("monitor", subscription, MonitorManagementClient)

    def storage(self, subscription: str) -> Any:
        from azure.mgmt.storage import StorageManagementClient

        return self._per_subscription("storage", subscription, StorageManagementClient)

    def advisor(self, subscription: str) -> Any:
        from azure.mgmt.advisor import AdvisorManagementClient

        return self._per_subscription("advisor", subscription, AdvisorManagementClient)
