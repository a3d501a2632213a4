"""Google Cloud clients that can only read, and the credentials they run with.

Every client the GCP provider makes goes through ``Clients``:

- REST clients (Compute Engine, Cloud Storage, Resource Manager, Recommender, Cloud
  Billing Catalog, and Cloud Logging through ``RestApi``) send through a requests session
  with ``ReadOnlyAdapter`` mounted, which refuses any HTTP method but GET before a byte
  leaves the machine (every read these APIs offer is a GET);
- the Cloud Monitoring client (gRPC only) sends through a channel with
  ``ReadOnlyInterceptor``, which refuses any method not named ``Get*`` or ``List*``.

A bug in a collector therefore cannot change a project: it raises ``ReadOnlyViolation``.

Endpoints: ``COSTSCAN_GCP_ENDPOINT`` (an http(s) base URL) points every REST client at
another server, and ``COSTSCAN_GCP_GRPC_ENDPOINT`` (host:port, plaintext) the Monitoring
client; with either set, the clients use anonymous credentials (the demo's fake, a test
server). Otherwise Application Default Credentials are looked up with a bounded wait on
the metadata server, so a machine with none fails in seconds with one line.

The Google SDKs are imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from costscan.scanner.contracts.errors import ProviderError, ReadOnlyViolation

if TYPE_CHECKING:
    import grpc
    import requests
    from google.auth.credentials import Credentials

ENDPOINT_ENV = "COSTSCAN_GCP_ENDPOINT"
GRPC_ENDPOINT_ENV = "COSTSCAN_GCP_GRPC_ENDPOINT"
# The read-only scope covers every API the scan calls.
# https://developers.google.com/identity/protocols/oauth2/scopes#compute
READ_ONLY_SCOPE = "https://www.googleapis.com/auth/cloud-platform.read-only"
READ_METHODS: frozenset[str] = frozenset({"GET", "HEAD"})
READ_RPC_PREFIXES: tuple[str, ...] = ("Get", "List")
# The metadata server answers in milliseconds on Compute Engine; off it, each probe waits
# for a connection that never comes. google-auth probes three times, so one second each
# and an overall bound keep "no credentials" well under ten seconds.
METADATA_PROBE_TIMEOUT = 0.5
CREDENTIALS_TIMEOUT = 5.0
# A call that hangs longer than this is a dead endpoint, not a slow page.
CALL_TIMEOUT = 120.0

NO_CREDENTIALS = (
    "no Google Cloud credentials: looked for GOOGLE_APPLICATION_CREDENTIALS, the gcloud "
    "application-default file (~/.config/gcloud/application_default_credentials.json) "
    "and the Compute Engine metadata server; run `gcloud auth application-default login`, "
    "or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file"
)


@dataclass(frozen=True)
class Endpoints:
    """Where the clients go: Google's own endpoints (both None), or an override."""

    rest: str | None = None
    grpc: str | None = None

    @staticmethod
    def from_env(environ: Mapping[str, str] | None = None) -> Endpoints:
        env = os.environ if environ is None else environ
        rest = env.get(ENDPOINT_ENV, "").strip().rstrip("/") or None
        grpc_target = env.get(GRPC_ENDPOINT_ENV, "").strip() or None
        if rest is not None and not rest.startswith(("http://", "https://")):
            raise ProviderError(f"{ENDPOINT_ENV}: give a base URL like http://127.0.0.1:8080")
        return Endpoints(rest, grpc_target)

    @property
    def overridden(self) -> bool:
        return self.rest is not None or self.grpc is not None


def resolve_credentials(
    endpoints: Endpoints, scopes: tuple[str, ...] = (READ_ONLY_SCOPE,)
) -> tuple[Credentials, str | None]:
    """(credentials, the ADC's own project or None). Anonymous with an endpoint override;
    otherwise Application Default Credentials for ``scopes``, within
    ``CREDENTIALS_TIMEOUT`` seconds."""
    if endpoints.overridden:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials(), None  # type: ignore[no-untyped-call]
    # A daemon thread: a probe still waiting on the metadata server must not hold the exit
    # (a pool's worker threads are joined when the interpreter ends).
    outcome: list[tuple[Credentials, str | None] | BaseException] = []

    def look_up() -> None:
        try:
            outcome.append(_application_default(scopes))
        except BaseException as exc:  # handed to the caller's thread below
            outcome.append(exc)

    worker = threading.Thread(target=look_up, name="costscan-gcp-auth", daemon=True)
    worker.start()
    worker.join(CREDENTIALS_TIMEOUT)
    if not outcome:
        raise ProviderError(NO_CREDENTIALS + " (the metadata server did not answer)")
    found = outcome[0]
    if isinstance(found, BaseException):
        raise found
    return found


def _application_default(scopes: tuple[str, ...]) -> tuple[Credentials, str | None]:
    import google.auth
    from google.auth import exceptions
    from google.auth.transport.requests import Request

    class BoundedProbe(Request):
        """google.auth.default uses this request only to detect the metadata server."""

        def __call__(self, url: str, method: str = "GET", body: Any = None,
                     headers: Any = None, timeout: Any = None, **kwargs: Any) -> Any:  # fmt: skip
            return super().__call__(url, method, body, headers, METADATA_PROBE_TIMEOUT, **kwargs)  # type: ignore[no-untyped-call]

    bounded_probe = BoundedProbe()
    try:
        credentials, project = google.auth.default(scopes=list(scopes), request=bounded_probe)
    except exceptions.DefaultCredentialsError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else ""
        hint = f" ({detail})" if "File" in detail and "not found" in detail else ""
        raise ProviderError(NO_CREDENTIALS + hint) from None
    return credentials, project


# --------------------------------------------------------------------------- read-only


def _read_only_adapter() -> Any:
    from requests.adapters import HTTPAdapter

    class ReadOnlyAdapter(HTTPAdapter):
        """Refuses any request that is not a GET or HEAD before it is sent."""

        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            method = str(request.method or "").upper()
            if method not in READ_METHODS:
                raise ReadOnlyViolation(
                    f"costscan is read-only: refused {method} {request.url} before sending it"
                )
            return super().send(request, *args, **kwargs)

    return ReadOnlyAdapter()


def guard_session(session: requests.Session) -> requests.Session:
    """Mount the read-only adapter on ``session`` for every scheme."""
    adapter = _read_only_adapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def is_read_rpc(method: str) -> bool:
    """Whether a gRPC method (``/google.monitoring.v3.MetricService/ListTimeSeries``) only
    reads: its name starts with Get or List."""
    return method.rsplit("/", 1)[-1].startswith(READ_RPC_PREFIXES)


def read_only_channel(channel: grpc.Channel) -> grpc.Channel:
    """``channel`` with an interceptor that refuses every non-read method."""
    import grpc

    class ReadOnlyInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):  # type: ignore[misc]
        def _check(self, details: Any) -> None:
            if not is_read_rpc(str(details.method)):
                raise ReadOnlyViolation(
                    f"costscan is read-only: refused {details.method} before sending it"
                )

        def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
            self._check(details)
            return continuation(details, request)

        def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
            self._check(details)
            return continuation(details, request)

    return grpc.intercept_channel(channel, ReadOnlyInterceptor())


def guard_rest_client(client: Any) -> Any:
    """Put the read-only adapter on a generated (GAPIC) REST client's session.

    The generated REST transports keep their requests session as ``_session``; without one
    the guarantee cannot be given, so the scan refuses to go on (an SDK change shows here,
    and in the tests, not as a silent write)."""
    session = getattr(getattr(client, "_transport", None), "_session", None)
    if session is None or not hasattr(session, "mount"):
        raise ProviderError(
            f"cannot guard {type(client).__name__} as read-only: its transport has no session"
        )
    guard_session(session)
    return client


# --------------------------------------------------------------------------- clients

LOGGING_ENDPOINT = "https://logging.googleapis.com"


class RestApiError(Exception):
    """A Google REST API answered an error: ``code`` is the HTTP status, ``message``
    Google's own (it names a disabled API and how to enable it)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class RestApi:
    """GETs against one Google REST API on a guarded session."""

    session: Any
    base_url: str

    def get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        answer = self.session.get(
            f"{self.base_url}/{path.lstrip('/')}", params=dict(params or {}), timeout=CALL_TIMEOUT
        )
        if answer.status_code != 200:
            try:
                message = str(answer.json()["error"]["message"])
            except (ValueError, KeyError, TypeError):
                message = answer.reason or "error"
            raise RestApiError(int(answer.status_code), message)
        body: dict[str, Any] = answer.json()
        return body

    def pages(self, path: str, key: str, params: Mapping[str, str] | None = None) -> list[Any]:
        """Every item under ``key`` across the pages (``pageToken`` / ``nextPageToken``)."""
        items: list[Any] = []
        query = dict(params or {})
        while True:
            body = self.get(path, query)
            items.extend(body.get(key, []))
            token = body.get("nextPageToken")
            if not token:
                return items
            query["pageToken"] = str(token)


class Clients:
    """Creates and caches guarded clients for one set of credentials and endpoints."""

    def __init__(self, credentials: Credentials, endpoints: Endpoints) -> None:
        self.credentials = credentials
        self.endpoints = endpoints
        self._lock = threading.Lock()
        self._made: dict[str, Any] = {}

    def _cached(self, key: str, make: Callable[[], Any]) -> Any:
        with self._lock:
            made = self._made.get(key)
            if made is None:
                made = make()
                self._made[key] = made
            return made

    def _client_options(self) -> Any:
        from google.api_core.client_options import ClientOptions

        return ClientOptions(api_endpoint=self.endpoints.rest) if self.endpoints.rest else None

    def compute(self, name: str) -> Any:
        """A Compute Engine REST client by class name (``InstancesClient``...)."""

        def make() -> Any:
            from google.cloud import compute_v1

            cls = getattr(compute_v1, name)
            return guard_rest_client(
                cls(
                    credentials=self.credentials,
                    transport="rest",
                    client_options=self._client_options(),
                )
            )

        return self._cached(f"compute.{name}", make)

    def projects(self) -> Any:
        def make() -> Any:
            from google.cloud import resourcemanager_v3

            return guard_rest_client(
                resourcemanager_v3.ProjectsClient(
                    credentials=self.credentials,
                    transport="rest",
                    client_options=self._client_options(),
                )
            )

        return self._cached("projects", make)

    def recommender(self) -> Any:
        """A Recommender REST client (ListRecommendations is a GET)."""

        def make() -> Any:
            from google.cloud import recommender_v1

            return guard_rest_client(
                recommender_v1.RecommenderClient(
                    credentials=self.credentials,
                    transport="rest",
                    client_options=self._client_options(),
                )
            )

        return self._cached("recommender", make)

    def billing_catalog(self) -> Any:
        """A Cloud Billing Catalog REST client (services and SKUs are GETs)."""

        def make() -> Any:
            from google.cloud import billing_v1

            return guard_rest_client(
                billing_v1.CloudCatalogClient(
                    credentials=self.credentials,
                    transport="rest",
                    client_options=self._client_options(),
                )
            )

        return self._cached("billing_catalog", make)

    def storage(self, project: str) -> Any:
        """A Cloud Storage JSON API client for ``project`` on a guarded session."""

        def make() -> Any:
            from google.auth.transport.requests import AuthorizedSession
            from google.cloud import storage  # type: ignore[attr-defined]

            session = guard_session(AuthorizedSession(self.credentials))  # type: ignore[no-untyped-call]
            options = {"api_endpoint": self.endpoints.rest} if self.endpoints.rest else None
            return storage.Client(
                project=project,
                credentials=self.credentials,
                _http=session,
                client_options=options,
            )

        return self._cached(f"storage.{project}", make)

    def logging_api(self) -> RestApi:
        """Cloud Logging API v2 over a guarded session (no SDK client: the log bucket list
        is one GET, and google-cloud-logging would add a dependency for it)."""

        def make() -> RestApi:
            from google.auth.transport.requests import AuthorizedSession

            session = guard_session(AuthorizedSession(self.credentials))  # type: ignore[no-untyped-call]
            return RestApi(session, self.endpoints.rest or LOGGING_ENDPOINT)

        made: RestApi = self._cached("logging", make)
        return made

    def monitoring(self) -> Any:
        """A Cloud Monitoring client (gRPC) on a read-only channel."""

        def make() -> Any:
            import grpc
            from google.cloud import monitoring_v3
            from google.cloud.monitoring_v3.services.metric_service.transports.grpc import (
                MetricServiceGrpcTransport,
            )

            if self.endpoints.overridden:
                if self.endpoints.grpc is None:
                    raise ProviderError(
                        f"{ENDPOINT_ENV} is set but {GRPC_ENDPOINT_ENV} is not: Cloud "
                        "Monitoring speaks gRPC only; give it host:port"
                    )
                channel = grpc.insecure_channel(self.endpoints.grpc)
            else:
                channel = MetricServiceGrpcTransport.create_channel(
                    credentials=self.credentials, scopes=[READ_ONLY_SCOPE]
                )
            transport = MetricServiceGrpcTransport(channel=read_only_channel(channel))
            return monitoring_v3.MetricServiceClient(transport=transport)

        return self._cached("monitoring", make)
