"""boto3 sessions and clients that can only read.

Every session and client the AWS provider makes carries a botocore event hook that runs
before a request is even built, and refuses any operation that is not a read. A bug in a
collector (or in a library we call with our session) therefore cannot change an account:
it raises ``ReadOnlyViolation`` before a byte leaves the machine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from costscan.providers.aws.deadline import refuse_cancelled
from costscan.scanner.contracts.errors import ReadOnlyViolation, UsageError

if TYPE_CHECKING:
    import boto3
    from botocore.client import BaseClient
    from botocore.config import Config

# Read operations by naming convention across AWS APIs.
READ_PREFIXES: tuple[str, ...] = ("Describe", "List", "Get", "BatchGet", "Lookup", "Search")

# Reads whose names do not say so: identity lookups and the role hop for Organizations
# fan-out. AssumeRole only mints credentials; it changes nothing in the account.
ALLOWED_OPERATIONS: frozenset[tuple[str, str]] = frozenset(
    {
        ("sts", "AssumeRole"),
        ("sts", "GetCallerIdentity"),
        # --billing athena://: runs a SELECT whose results Athena writes only to the
        # output location the user named (ResultConfiguration). The guard lets it through
        # only when its QueryString is a single SELECT (``is_select_query``).
        ("athena", "StartQueryExecution"),
    }
)


def _athena_query_refusal(params: Mapping[str, Any]) -> str | None:
    query = params.get("QueryString")
    if not isinstance(query, str) or not is_select_query(query):
        return "its QueryString is not a single SELECT"
    output = (params.get("ResultConfiguration") or {}).get("OutputLocation")
    if not isinstance(output, str) or not output.startswith("s3://"):
        return "it names no s3:// output location for its results"
    return None


# Operations that read only with certain parameters: (service, operation) -> a check of
# the request's parameters giving why it is refused (None: it reads).
PARAMETER_CHECKS: dict[tuple[str, str], Callable[[Mapping[str, Any]], str | None]] = {
    ("athena", "StartQueryExecution"): _athena_query_refusal,
}

# Registered under a fixed id, so a client copying its session's handlers (botocore
# copies the event emitter at client creation) does not run the check twice.
_GUARD_ID = "costscan-read-only-guard"

# (event name, handler) pairs: extra botocore hooks a caller wants on every client, such
# as a counter of GetMetricData calls in the benchmark.
EventHook = tuple[str, Callable[..., Any]]


def is_read_operation(service: str, operation: str) -> bool:
    """Whether ``operation`` of ``service`` (botocore names) only reads."""
    return (service, operation) in ALLOWED_OPERATIONS or operation.startswith(READ_PREFIXES)


def is_select_query(sql: str) -> bool:
    """Whether ``sql`` is one SELECT (set operations and WITH included) holding no statement
    that writes, read in Trino's dialect (Athena's)."""
    import sqlglot
    from sqlglot import exp

    try:
        statements = [s for s in sqlglot.parse(sql, read="trino") if s is not None]
    except sqlglot.errors.SqlglotError:
        return False
    if len(statements) != 1 or not isinstance(statements[0], (exp.Select, exp.SetOperation)):
        return False
    writes = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter)
    return not any(isinstance(n, (*writes, exp.Command, exp.Into)) for n in statements[0].walk())


def _refuse_writes(model: Any = None, params: Any = None, **_kwargs: Any) -> None:
    """botocore ``before-parameter-build`` handler: raise on anything but a read."""
    if model is None:  # pragma: no cover - botocore always passes the operation model
        return
    service = model.service_model.service_name
    if not is_read_operation(service, model.name):
        raise ReadOnlyViolation(
            f"costscan is read-only: refused {service}:{model.name} before sending it"
        )
    check = PARAMETER_CHECKS.get((service, model.name))
    refusal = None if check is None else check(params if isinstance(params, Mapping) else {})
    if refusal is not None:
        raise ReadOnlyViolation(
            f"costscan is read-only: refused {service}:{model.name} before sending it: {refusal}"
        )


def install_read_only_guard(target: boto3.Session | BaseClient) -> None:
    """Register the read-only check on a boto3 session or a botocore client."""
    events = target.events if hasattr(target, "events") else target.meta.events
    events.register("before-parameter-build", _refuse_writes, unique_id=_GUARD_ID)


def guarded_session(
    profile: str | None = None,
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    session_token: str | None = None,
    region: str | None = None,
) -> boto3.Session:
    """A boto3 session (standard credential chain unless keys are given), guarded."""
    import boto3

    session = boto3.Session(
        profile_name=profile,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        aws_session_token=session_token,
        region_name=region,
    )
    install_read_only_guard(session)
    return session


# Seconds to open a connection, and to wait for the next bytes of an answer. The slowest
# reads costscan makes (Cost Explorer, a 500-query GetMetricData) answer within seconds.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0


def client_config(max_attempts: int, *, read_timeout: float = READ_TIMEOUT) -> Config:
    """Adaptive retries (standard mode's backoff with jitter, plus a client-side rate
    limiter that slows down when AWS throttles) and bounded waits: a read never waits
    longer than ``read_timeout`` (the collector's deadline when that is shorter)."""
    from botocore.config import Config

    return Config(
        retries={"mode": "adaptive", "max_attempts": max_attempts},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=min(READ_TIMEOUT, read_timeout),
        max_pool_connections=20,
    )


def check_credentials(profile: str | None) -> None:
    """UsageError unless the profile and shared config resolve to credentials, locally.

    A named profile that does not exist (``--profile`` or ``AWS_PROFILE``), a shared
    config file that does not parse, or no credentials anywhere in the chain: each is one
    line before any call. Whether AWS accepts the credentials is the first call's answer.
    """
    import boto3
    from botocore.exceptions import BotoCoreError

    where = f"--profile {profile}" if profile else "the AWS credential chain"
    try:
        session = boto3.Session(profile_name=profile)
        session.region_name  # noqa: B018 - resolving the region reads the shared config
        credentials = session.get_credentials()
    except BotoCoreError as exc:
        raise UsageError(f"{where}: {exc}") from None
    if credentials is None:
        raise UsageError(
            f"{where}: no AWS credentials found (set AWS_PROFILE or --profile, "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or sign in with aws sso login)"
        )


class ClientFactory:
    """Creates and caches guarded clients for one session.

    boto3 sessions are not thread-safe while creating clients, so creation holds a lock;
    the clients themselves are safe to share between the region threads.
    """

    def __init__(
        self,
        session: boto3.Session,
        *,
        endpoint_url: str | None,
        config: Config,
        hooks: Sequence[EventHook] = (),
    ) -> None:
        install_read_only_guard(session)
        self.session = session
        self._endpoint_url = endpoint_url
        self._config = config
        self._hooks = tuple(hooks)
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], BaseClient] = {}

    def for_session(self, session: boto3.Session) -> ClientFactory:
        """A factory with the same endpoint, retries and hooks for another session."""
        return ClientFactory(
            session, endpoint_url=self._endpoint_url, config=self._config, hooks=self._hooks
        )

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            made = self._clients.get(key)
            if made is None:
                # endpoint_url is passed only when set, so AWS_ENDPOINT_URL and the
                # profile's own endpoint settings keep working for real runs.
                kwargs: dict[str, Any] = {"region_name": region, "config": self._config}
                if self._endpoint_url:
                    kwargs["endpoint_url"] = self._endpoint_url
                made = self.session.client(service, **kwargs)  # type: ignore[call-overload]
                install_read_only_guard(made)
                made.meta.events.register(
                    "before-send", refuse_cancelled, unique_id="costscan-deadline"
                )
                for event, handler in self._hooks:
                    made.meta.events.register(event, handler)
                self._clients[key] = made
            return made
