"""A billing export in BigQuery, queried where it lives (``--billing bigquery://...``).

``open_engine("bigquery://PROJECT.DATASET.TABLE?location=US&billing_project=P")`` gives a
``QueryEngine`` (scanner/contracts/billing_query.py) over that table, through
google-cloud-bigquery's own client:

- ``columns`` and ``partition_columns`` come from ``tables.get``: each top-level field's
  type in BigQuery's own spelling, lower case (``string``, ``float64``, ``timestamp``,
  ``struct<id string, description string>``, ``array<struct<key string, value string>>``),
  and the time partitioning's field, or ``_PARTITIONTIME`` for a table partitioned by
  ingestion time (Google's billing export tables are);
- ``estimate_bytes`` is a dry run (``jobs.insert`` with ``dryRun``, the query cache off so
  the figure is what a real run reads): ``totalBytesProcessed``, free of charge;
- ``fetch`` runs the query job (``jobs.insert``) and reads every page of its result
  (``jobs.getQueryResults`` with ``maxResults`` and ``pageToken``), typed by the result's
  schema; ``bytes_scanned`` adds each job's ``totalBytesBilled`` (else processed).

Read-only by construction: every SQL text is parsed (sqlglot, BigQuery dialect) and
refused unless it is one SELECT; the job configuration never names a destination table or
a write disposition (results go to the anonymous temporary table BigQuery keeps for every
query, for 24 hours); and the client's HTTP session refuses, before sending, any request
that is not a GET or a query job of that kind (``guard_request``), so a change of the
client cannot make it write either.

Price: on-demand queries cost $6.25 per TiB scanned (https://cloud.google.com/bigquery/
pricing, "On-demand compute pricing"). The first TiB of each month is free per billing
account; it is not subtracted, because other queries of the month share it: the estimate
is the most the query can cost.

Credentials: Application Default Credentials as the GCP provider finds them
(providers/gcp/clients.py), with BigQuery's scope (``jobs.insert`` accepts no read-only
scope). ``COSTSCAN_BIGQUERY_ENDPOINT`` (an http(s) base URL) points the client at another
server (the tests' fake) with anonymous credentials.

Every error (a bad URI, a missing table, a denied call, a failed job) is
``InputFileError`` with one line naming the URI.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import polars as pl

from costscan.scanner.contracts.errors import CostscanError, InputFileError, ReadOnlyViolation

if TYPE_CHECKING:
    from google.cloud import bigquery

SCHEME = "bigquery"
ENDPOINT_ENV = "COSTSCAN_BIGQUERY_ENDPOINT"
# jobs.insert takes no read-only scope
# (https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/insert#authorization-scopes).
BIGQUERY_SCOPE = "https://www.googleapis.com/auth/bigquery"
# On-demand compute pricing, per TiB scanned (https://cloud.google.com/bigquery/pricing).
USD_PER_TIB = 6.25
# Rows per page of a query's result (jobs.getQueryResults maxResults); a page also stops
# at 10 MB, whichever comes first.
PAGE_SIZE = 20_000
URI_PARAMETERS = frozenset({"location", "billing_project"})
# How long the client retries a call that fails for a passing reason (a 5xx, a rate
# limit, a refused connection) before the run gives up with one line. The client's own
# default is 600 s: ten minutes of silence for an endpoint that is not there.
RETRY_SECONDS = 60.0

# What a query job may set, and nothing else: no destination table, no write or create
# disposition, no schema updates, no external tables, no scripts' session.
ALLOWED_JOB_KEYS = frozenset({"query", "dryRun", "labels", "jobTimeoutMs", "jobType"})
ALLOWED_QUERY_KEYS = frozenset(
    {"query", "useLegacySql", "useQueryCache", "priority", "maximumBytesBilled"}
)

# BigQuery's legacy type names as the API reports them -> the standard SQL spelling.
_STANDARD_TYPES = {
    "INTEGER": "int64",
    "FLOAT": "float64",
    "BOOLEAN": "bool",
}

_Answer = TypeVar("_Answer")


@dataclass(frozen=True)
class TableUri:
    """``bigquery://PROJECT.DATASET.TABLE?location=..&billing_project=..``, parsed."""

    uri: str
    project: str
    dataset: str
    table: str
    location: str | None = None
    billing_project: str | None = None

    @property
    def table_id(self) -> str:
        return f"{self.project}.{self.dataset}.{self.table}"


def parse_uri(uri: str) -> TableUri:
    """The table a ``bigquery://`` URI names, or InputFileError saying what is wrong."""
    split = urlsplit(uri)
    shape = "bigquery://PROJECT.DATASET.TABLE[?location=US&billing_project=PROJECT]"
    if split.scheme != SCHEME:
        raise InputFileError(f"--billing {uri}: not a BigQuery table URI ({shape})")
    # A project id may hold a domain ("example.com:project"), which a URL parser reads as
    # a host and a port; the path part is everything between "//" and "?".
    target = uri.partition("://")[2].partition("?")[0].strip("/")
    parts = target.split(".")
    if len(parts) == 4 and ":" in parts[1]:  # example.com:project.dataset.table
        parts = [f"{parts[0]}.{parts[1]}", parts[2], parts[3]]
    if len(parts) != 3 or not all(parts):
        raise InputFileError(f"--billing {uri}: give the table as {shape}")
    params = parse_qs(split.query, keep_blank_values=True)
    unknown = sorted(set(params) - URI_PARAMETERS)
    if unknown:
        raise InputFileError(
            f"--billing {uri}: unknown parameter {unknown[0]!r} "
            f"(known: {', '.join(sorted(URI_PARAMETERS))})"
        )
    values = {key: value[-1].strip() or None for key, value in params.items()}
    return TableUri(
        uri, parts[0], parts[1], parts[2], values.get("location"), values.get("billing_project")
    )


def read_only_select(sql: str) -> str:
    """``sql`` when it is one read-only SELECT (BigQuery's dialect), else ReadOnlyViolation."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        statements = [s for s in sqlglot.parse(sql, read="bigquery") if s is not None]
    except ParseError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "unparsable"
        raise ReadOnlyViolation(f"costscan sends only one SELECT: {first}") from None
    writes = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Command)
    if (
        len(statements) != 1
        or not isinstance(statements[0], exp.Query)
        or statements[0].find(*writes) is not None
    ):
        raise ReadOnlyViolation("costscan sends only one SELECT to BigQuery; refused this query")
    return sql


def guard_request(method: str, path: str, body: bytes | str | None) -> None:
    """Raise ReadOnlyViolation unless the request only reads: a GET, or a POST of a query
    job (``jobs.insert``, ``jobs.query``) that is one SELECT and writes no table."""
    if method.upper() in ("GET", "HEAD"):
        return
    endpoint = path.rstrip("/").rsplit("/", 1)[-1]
    if method.upper() != "POST" or endpoint not in ("jobs", "queries"):
        raise ReadOnlyViolation(f"costscan is read-only: refused {method} {path} before sending it")
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        raise ReadOnlyViolation(f"costscan is read-only: refused {path}: not JSON") from None
    if endpoint == "queries":  # jobs.query: the query request itself
        config: Mapping[str, Any] = {"query": payload, "dryRun": payload.get("dryRun")}
        query = payload
        allowed_query = ALLOWED_QUERY_KEYS | {
            "dryRun", "kind", "maxResults", "timeoutMs", "location", "formatOptions",
            "requestId", "jobCreationMode", "labels",
        }  # fmt: skip
    else:
        config = payload.get("configuration") or {}
        query = config.get("query") or {}
        allowed_query = ALLOWED_QUERY_KEYS
    extra = sorted((set(config) - ALLOWED_JOB_KEYS) | (set(query) - allowed_query))
    if "query" not in config or extra:
        what = extra[0] if extra else "a job that is not a query"
        raise ReadOnlyViolation(f"costscan is read-only: refused a BigQuery job setting {what}")
    read_only_select(str(query.get("query", "")))


def _guarded_session(credentials: Any) -> Any:
    """An authorized requests session whose every request passes ``guard_request``."""
    from google.auth.transport.requests import AuthorizedSession
    from requests.adapters import HTTPAdapter

    class ReadOnlyBigQueryAdapter(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            guard_request(str(request.method or ""), urlsplit(request.url).path, request.body)
            return super().send(request, *args, **kwargs)

    session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
    adapter = ReadOnlyBigQueryAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def type_name(field: Any) -> str:
    """A field's type in BigQuery's standard SQL spelling, lower case, records spelled out."""
    kind = str(field.field_type).upper()
    if kind in ("RECORD", "STRUCT"):
        inner = ", ".join(f"{sub.name} {type_name(sub)}" for sub in field.fields)
        name = f"struct<{inner}>"
    else:
        name = _STANDARD_TYPES.get(kind, kind.lower())
    return f"array<{name}>" if str(field.mode).upper() == "REPEATED" else name


def _polars_type(field: Any) -> pl.DataType:
    """The result column type the contract asks for (``QueryEngine.fetch``)."""
    if str(field.mode).upper() == "REPEATED":
        return pl.String()
    kind = str(field.field_type).upper()
    if kind in ("INTEGER", "INT64"):
        return pl.Int64()
    if kind in ("FLOAT", "FLOAT64", "NUMERIC", "BIGNUMERIC", "DECIMAL", "BIGDECIMAL"):
        return pl.Float64()
    if kind == "TIMESTAMP":
        return pl.Datetime("us", "UTC")
    if kind == "DATE":
        return pl.Date()
    if kind in ("BOOLEAN", "BOOL"):
        return pl.Boolean()
    return pl.String()


def _cell(value: Any, dtype: pl.DataType) -> Any:
    """One value of the client's row as the polars column ``dtype`` holds it."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    if dtype == pl.String() and not isinstance(value, str):
        # Records, arrays, times and bytes: their JSON text (datetimes in ISO 8601).
        if isinstance(value, (dict, list)):
            return json.dumps(value, default=str)
        return value.isoformat() if isinstance(value, (datetime, date)) else str(value)
    return value


class BigQueryEngine:
    """One BigQuery table, read-only (``QueryEngine``)."""

    def __init__(self, table: TableUri, client: bigquery.Client, found: Any) -> None:
        self._table = table
        self._client = client
        self._found = found
        self._billed = 0
        # Rows per page of a result (jobs.getQueryResults maxResults).
        self.page_size = PAGE_SIZE

    @property
    def uri(self) -> str:
        return self._table.uri

    @property
    def dialect(self) -> str:
        return "bigquery"

    @property
    def usd_per_tib(self) -> float:
        return USD_PER_TIB

    @property
    def bytes_scanned(self) -> int:
        return self._billed

    def table_parts(self) -> tuple[str, ...]:
        return (self._table.project, self._table.dataset, self._table.table)

    def columns(self) -> Mapping[str, str]:
        return {field.name: type_name(field) for field in self._found.schema}

    def partition_columns(self) -> tuple[str, ...]:
        partitioning = self._found.time_partitioning
        if partitioning is None:
            return ()
        return (partitioning.field or "_PARTITIONTIME",)

    def estimate_bytes(self, sql: str) -> int | None:
        from google.cloud import bigquery

        checked = self._checked(sql)
        config = bigquery.QueryJobConfig(dry_run=True, use_query_cache=False)
        job = self._call(
            "dry run", lambda: self._client.query(checked, job_config=config, retry=_retry())
        )
        processed = job.total_bytes_processed
        return None if processed is None else int(processed)

    def fetch(self, sql: str) -> pl.DataFrame:
        from google.cloud import bigquery

        checked = self._checked(sql)
        config = bigquery.QueryJobConfig()
        job = self._call(
            "query", lambda: self._client.query(checked, job_config=config, retry=_retry())
        )
        rows = self._call("query", lambda: job.result(page_size=self.page_size, retry=_retry()))
        billed = job.total_bytes_billed
        self._billed += int(billed if billed is not None else job.total_bytes_processed or 0)
        fields = list(rows.schema)
        types = [_polars_type(field) for field in fields]
        values: list[list[Any]] = [[] for _ in fields]

        # Integers, timestamps, dates and booleans arrive as polars takes them; numbers
        # may be Decimal (NUMERIC) and text columns may hold records or times.
        exact = [dtype in (pl.Int64(), pl.Boolean(), pl.Date()) or isinstance(dtype, pl.Datetime)
                 for dtype in types]  # fmt: skip

        def read_pages() -> None:
            for page in rows.pages:
                # A Row indexes its values; Row.values() would deep-copy every row.
                width = len(fields)
                page_rows = [[row[i] for i in range(width)] for row in page]
                for i, column in enumerate(zip(*page_rows, strict=True)):
                    if exact[i]:
                        values[i].extend(column)
                    else:
                        values[i].extend(_cell(value, types[i]) for value in column)

        self._call("reading the query's result", read_pages)
        return pl.DataFrame(
            [
                pl.Series(field.name, column, dtype=dtype, strict=False)
                for field, column, dtype in zip(fields, values, types, strict=True)
            ]
        )

    def _checked(self, sql: str) -> str:
        try:
            return read_only_select(sql)
        except ReadOnlyViolation as exc:
            raise InputFileError(f"--billing {self.uri}: {exc}") from None

    def _call(self, what: str, call: Callable[[], _Answer]) -> _Answer:
        return _answered(self.uri, what, call)


def _retry() -> Any:
    """The client's retry policy, bounded by ``RETRY_SECONDS``."""
    from google.cloud import bigquery

    return bigquery.DEFAULT_RETRY.with_timeout(RETRY_SECONDS)


def _first_line(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(message).strip().splitlines()[0]


def _answered(uri: str, what: str, call: Callable[[], _Answer]) -> _Answer:
    """``call()``, with every failure turned into one InputFileError line naming ``uri``."""
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    try:
        return call()
    except ReadOnlyViolation as exc:
        raise InputFileError(f"--billing {uri}: {exc}") from None
    except api.NotFound as exc:
        raise InputFileError(f"--billing {uri}: not found ({_first_line(exc)})") from None
    except api.Forbidden as exc:
        raise InputFileError(
            f"--billing {uri}: access denied during the {what} ({_first_line(exc)}); "
            "costscan needs bigquery.jobs.create on the billing project and "
            "bigquery.tables.get and bigquery.tables.getData on the table"
        ) from None
    except api.GoogleAPICallError as exc:
        code = f"{exc.code} " if exc.code else ""
        raise InputFileError(
            f"--billing {uri}: the {what} failed ({code}{_first_line(exc)})"
        ) from None
    except api.RetryError as exc:
        # Retried to the end: the last failure says why (a refused connection, a 5xx).
        cause = exc.cause if exc.cause is not None else exc
        raise InputFileError(
            f"--billing {uri}: the {what} failed after {RETRY_SECONDS:g} s of retries "
            f"({_first_line(cause)})"
        ) from None
    except (api.GoogleAPIError, auth.GoogleAuthError, OSError) as exc:
        # OSError covers requests' connection errors: an endpoint that does not answer.
        raise InputFileError(f"--billing {uri}: the {what} failed ({_first_line(exc)})") from None


def _credentials(uri: str, endpoint: str | None) -> Any:
    if endpoint is not None:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()  # type: ignore[no-untyped-call]
    from costscan.providers.gcp.clients import Endpoints, resolve_credentials

    try:
        credentials, _project = resolve_credentials(Endpoints(), scopes=(BIGQUERY_SCOPE,))
    except CostscanError as exc:
        raise InputFileError(f"--billing {uri}: {exc}") from None
    return credentials


def _endpoint(uri: str, environ: Mapping[str, str]) -> str | None:
    endpoint = environ.get(ENDPOINT_ENV, "").strip().rstrip("/") or None
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise InputFileError(
            f"--billing {uri}: {ENDPOINT_ENV} must be a base URL like http://127.0.0.1:8080"
        )
    return endpoint


def _require_sdk(uri: str, modules: Iterable[str]) -> None:
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            raise InputFileError(
                f"--billing {uri} needs google-cloud-bigquery: pip install 'costscan[gcp]' "
                f"({module} is missing)"
            )


def open_engine(uri: str, environ: Mapping[str, str] | None = None) -> BigQueryEngine:
    """The engine over the table ``uri`` names; reads the table's metadata (tables.get)."""
    table = parse_uri(uri)
    _require_sdk(uri, ("google.cloud.bigquery", "google.auth"))
    endpoint = _endpoint(uri, os.environ if environ is None else environ)
    from google.api_core.client_options import ClientOptions
    from google.cloud import bigquery

    credentials = _credentials(uri, endpoint)
    client = bigquery.Client(
        project=table.billing_project or table.project,
        credentials=credentials,
        location=table.location,
        client_options=ClientOptions(api_endpoint=endpoint) if endpoint else None,
        _http=_guarded_session(credentials),
    )
    found = _answered(uri, "table lookup", lambda: client.get_table(table.table_id, retry=_retry()))
    return BigQueryEngine(table, client, found)
