"""A local fake of BigQuery's REST API (v2) that google-cloud-bigquery's own client talks to.

It answers, in the shapes of https://cloud.google.com/bigquery/docs/reference/rest:

- ``tables.get`` (GET /projects/P/datasets/D/tables/T): the table's schema (nested RECORD
  and REPEATED fields included), ``timePartitioning``, ``numRows``, ``numBytes``;
- ``jobs.insert`` (POST /projects/P/jobs) of a query job: with ``dryRun``, a finished job
  whose ``statistics.totalBytesProcessed`` comes from the fake's per-table sizes (the share
  of a partitioned table's rows that its partition filter keeps); otherwise the query runs
  at once and the job is DONE, with ``totalBytesProcessed`` and ``totalBytesBilled``
  (rounded up to a MiB, at least 10 MiB a table, as BigQuery bills on demand);
- ``jobs.get`` (GET /projects/P/jobs/J) and ``jobs.getQueryResults`` (GET
  /projects/P/queries/J) with ``maxResults``, ``pageToken`` and ``startIndex``: rows as
  ``{"f": [{"v": ...}]}``, TIMESTAMPs as int64 microseconds when the client asks
  (``formatOptions.useInt64Timestamp``);
- not ``jobs.query`` (POST /projects/P/queries): ``Client.query`` (what the engine calls)
  inserts a job in google-cloud-bigquery 3.x; only ``query_and_wait`` uses jobs.query, and
  the fake answers it 400, so a client change shows here;
- BigQuery's error bodies: 404 ``notFound``, 403 ``accessDenied``, 400 ``invalidQuery``
  (``{"error": {"code", "message", "status", "errors": [{"reason", "message"}]}}``); a
  query that fails after the job was created is a DONE job with ``status.errorResult``.

It EXECUTES the queries: sqlglot turns the BigQuery SQL into DuckDB's, table references
become the tables loaded from Parquet (``add_table``), and DuckDB runs it. A table
partitioned by ingestion time gets the ``_PARTITIONTIME`` pseudo-column (from an expression
over its own columns), which ``tables.get`` does not list, as BigQuery does not.

Every request is recorded (``requests``) and every query's SQL as received (``queries``).
"""

from __future__ import annotations

import json
import math
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import duckdb
import sqlglot
from sqlglot import exp

PREFIX = "/bigquery/v2"
TABLE_PATH = re.compile(r"^/projects/([^/]+)/datasets/([^/]+)/tables/([^/]+)$")
JOBS_PATH = re.compile(r"^/projects/([^/]+)/jobs$")
JOB_PATH = re.compile(r"^/projects/([^/]+)/jobs/([^/]+)$")
RESULTS_PATH = re.compile(r"^/projects/([^/]+)/queries/([^/]+)$")
MIB = 1 << 20
# BigQuery bills at least 10 MB for each table a query references, rounded up to a MB
# (https://cloud.google.com/bigquery/pricing#on_demand_pricing).
MIN_BILLED_PER_TABLE = 10 * MIB
DEFAULT_PAGE = 100_000


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: str = ""


@dataclass(frozen=True)
class ReceivedQuery:
    """One query job as it arrived: its SQL, whether a dry run, the whole configuration."""

    sql: str
    dry_run: bool
    project: str
    configuration: dict[str, Any]


@dataclass
class FakeTable:
    project: str
    dataset: str
    table: str
    view: str  # the DuckDB table holding it
    schema: list[dict[str, Any]]
    rows: int
    size_bytes: int
    partition: str | None  # "_PARTITIONTIME", a column name, or None
    location: str


@dataclass
class FakeJob:
    project: str
    job_id: str
    location: str
    configuration: dict[str, Any]
    schema: list[dict[str, Any]] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    processed: int = 0
    billed: int = 0
    error: dict[str, Any] | None = None
    created_ms: int = 0

    def resource(self) -> dict[str, Any]:
        dry = bool(self.configuration.get("dryRun"))
        status: dict[str, Any] = {"state": "DONE"}
        if self.error is not None:
            status["errorResult"] = self.error
            status["errors"] = [self.error]
        statistics: dict[str, Any] = {
            "creationTime": str(self.created_ms),
            "totalBytesProcessed": str(self.processed),
            "query": {
                "totalBytesProcessed": str(self.processed),
                "statementType": "SELECT",
                "cacheHit": False,
            },
        }
        if not dry:
            statistics["startTime"] = str(self.created_ms)
            statistics["endTime"] = str(self.created_ms)
            statistics["query"]["totalBytesBilled"] = str(self.billed)
            statistics["totalBytesBilled"] = str(self.billed)
        return {
            "kind": "bigquery#job",
            "id": f"{self.project}:{self.location}.{self.job_id}",
            "jobReference": {
                "projectId": self.project,
                "jobId": self.job_id,
                "location": self.location,
            },
            "configuration": self.configuration,
            "status": status,
            "statistics": statistics,
        }


class FakeBigQuery:
    """BigQuery's REST API over DuckDB, on 127.0.0.1 (``start``; ``url`` is its base)."""

    def __init__(self, location: str = "US", page_size: int = DEFAULT_PAGE) -> None:
        self.location = location
        self.page_size = page_size
        self.tables: dict[tuple[str, str, str], FakeTable] = {}
        self.jobs: dict[tuple[str, str], FakeJob] = {}
        self.requests: list[Recorded] = []
        self.queries: list[ReceivedQuery] = []
        # (kind, name) -> message: kind "table" (project.dataset.table) denies tables.get
        # and queries reading it; kind "jobs" (a project) denies bigquery.jobs.create there.
        self.denied: dict[tuple[str, str], str] = {}
        self.url = ""
        self._db = duckdb.connect()
        self._db.execute("SET TimeZone = 'UTC'")
        self._lock = threading.Lock()
        self._http: Any = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ set-up

    def add_table(
        self,
        table_id: str,
        parquet: Path | str,
        *,
        partition: str | None = "_PARTITIONTIME",
        partition_time: str = "date_trunc('day', usage_start_time)",
        size_bytes: int | None = None,
    ) -> FakeTable:
        """Load ``parquet`` as ``project.dataset.table``. ``partition``: "_PARTITIONTIME"
        (ingestion time, computed by the DuckDB expression ``partition_time``), a column's
        name (column partitioning), or None. ``size_bytes``: what a full scan reads
        (default: the Parquet file's size)."""
        project, dataset, table = table_id.split(".")
        view = f"t_{len(self.tables)}"
        source = f"read_parquet('{Path(parquet).as_posix()}')"
        with self._lock:
            if partition == "_PARTITIONTIME":
                self._db.execute(
                    f"CREATE TABLE {view} AS SELECT *, "
                    f"CAST({partition_time} AS TIMESTAMPTZ) AS _PARTITIONTIME FROM {source}"
                )
            else:
                self._db.execute(f"CREATE TABLE {view} AS SELECT * FROM {source}")
            described = self._db.execute(f"SELECT * FROM {view} LIMIT 0").description or []
            count = self._db.execute(f"SELECT count(*) FROM {view}").fetchone()
        schema = [
            bigquery_field(str(column[0]), column[1])
            for column in described
            if str(column[0]) != "_PARTITIONTIME"
        ]
        found = FakeTable(
            project,
            dataset,
            table,
            view,
            schema,
            int(count[0]) if count else 0,
            size_bytes if size_bytes is not None else Path(parquet).stat().st_size,
            partition,
            self.location,
        )
        self.tables[(project, dataset, table)] = found
        return found

    def deny_table(self, table_id: str) -> None:
        self.denied[("table", table_id)] = (
            f"Access Denied: Table {_colon(table_id)}: User does not have permission to query "
            f"table {_colon(table_id)}, or perhaps it does not exist."
        )

    def deny_jobs(self, project: str) -> None:
        self.denied[("jobs", project)] = (
            f"Access Denied: Project {project}: User does not have bigquery.jobs.create "
            f"permission in project {project}."
        )

    # ------------------------------------------------------------------ server

    def start(self) -> FakeBigQuery:
        import logging

        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._http = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        host, port = self._http.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._http.serve_forever, name="costscan-fake-bigquery", daemon=True
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
        self._db.close()

    def __enter__(self) -> FakeBigQuery:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def environment(self) -> dict[str, str]:
        return {"COSTSCAN_BIGQUERY_ENDPOINT": self.url}

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        path = str(environ.get("PATH_INFO", ""))
        query = str(environ.get("QUERY_STRING", ""))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        with self._lock:
            self.requests.append(Recorded(method, path, query))
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        status, answer = self._route(method, path.removeprefix(PREFIX), params, body)
        payload = json.dumps(answer).encode()
        start_response(
            f"{status} {'OK' if status == 200 else 'Error'}",
            [
                ("Content-Type", "application/json; charset=UTF-8"),
                ("Content-Length", str(len(payload))),
            ],
        )
        return [payload]

    # ------------------------------------------------------------------ routes

    def _route(
        self, method: str, path: str, params: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        if method == "GET" and (match := TABLE_PATH.match(path)):
            return self._get_table(*match.groups())
        if method == "POST" and (match := JOBS_PATH.match(path)):
            return self._insert_job(match.group(1), json.loads(body or b"{}"))
        if method == "GET" and (match := JOB_PATH.match(path)):
            job = self.jobs.get((match.group(1), match.group(2)))
            if job is None:
                return 404, error(
                    404, "notFound", f"Not found: Job {match.group(1)}:{match.group(2)}"
                )
            return 200, job.resource()
        if method == "GET" and (match := RESULTS_PATH.match(path)):
            return self._query_results(match.group(1), match.group(2), params)
        return 400, error(400, "badRequest", f"the fake does not answer {method} {path}")

    def _get_table(self, project: str, dataset: str, table: str) -> tuple[int, Any]:
        table_id = f"{project}.{dataset}.{table}"
        if ("table", table_id) in self.denied:
            return 403, error(403, "accessDenied", self.denied[("table", table_id)])
        found = self.tables.get((project, dataset, table))
        if found is None:
            return 404, error(404, "notFound", f"Not found: Table {_colon(table_id)}")
        resource: dict[str, Any] = {
            "kind": "bigquery#table",
            "id": _colon(table_id),
            "tableReference": {"projectId": project, "datasetId": dataset, "tableId": table},
            "schema": {"fields": found.schema},
            "numRows": str(found.rows),
            "numBytes": str(found.size_bytes),
            "type": "TABLE",
            "location": found.location,
        }
        if found.partition == "_PARTITIONTIME":
            resource["timePartitioning"] = {"type": "DAY"}
        elif found.partition is not None:
            resource["timePartitioning"] = {"type": "DAY", "field": found.partition}
        return 200, resource

    def _insert_job(self, project: str, body: dict[str, Any]) -> tuple[int, Any]:
        configuration = body.get("configuration") or {}
        reference = body.get("jobReference") or {}
        sql = str((configuration.get("query") or {}).get("query", ""))
        dry = bool(configuration.get("dryRun"))
        with self._lock:
            self.queries.append(ReceivedQuery(sql, dry, project, configuration))
        if ("jobs", project) in self.denied:
            return 403, error(403, "accessDenied", self.denied[("jobs", project)])
        job = FakeJob(
            project,
            str(reference.get("jobId") or uuid.uuid4().hex),
            str(reference.get("location") or self.location),
            configuration,
            created_ms=int(datetime.now(UTC).timestamp() * 1000),
        )
        try:
            tree = sqlglot.parse_one(sql, read="bigquery")
            tables = self._referenced(tree, project)
        except sqlglot.errors.ParseError as exc:
            return 400, error(400, "invalidQuery", f"Syntax error: {str(exc).splitlines()[0]}")
        except LookupError as exc:
            return exc.args[0], exc.args[1]
        try:
            duck = self._duckdb_sql(tree, tables)
            job.processed = self._bytes_read(tree, tables)
            if not dry:
                self._run(job, duck)
                job.billed = sum(
                    max(MIN_BILLED_PER_TABLE, -(-share // MIB) * MIB)
                    for share in self._bytes_per_table(tree, tables)
                )
        except duckdb.Error as exc:
            message = str(exc).splitlines()[0]
            if dry:
                return 400, error(400, "invalidQuery", message)
            job.error = {"reason": "invalidQuery", "message": message, "location": "query"}
        self.jobs[(project, job.job_id)] = job
        return 200, job.resource()

    def _query_results(self, project: str, job_id: str, params: dict[str, str]) -> tuple[int, Any]:
        job = self.jobs.get((project, job_id))
        if job is None:
            return 404, error(404, "notFound", f"Not found: Job {project}:{job_id}")
        if job.error is not None:
            return 400, error(400, job.error["reason"], job.error["message"])
        size = int(params["maxResults"]) if "maxResults" in params else self.page_size
        start = int(params.get("pageToken") or params.get("startIndex") or 0)
        int64_ts = params.get("formatOptions.useInt64Timestamp", "").lower() == "true"
        page = job.rows[start : start + size]
        answer: dict[str, Any] = {
            "kind": "bigquery#getQueryResultsResponse",
            "jobReference": {"projectId": project, "jobId": job_id, "location": job.location},
            "jobComplete": True,
            "schema": {"fields": job.schema},
            "totalRows": str(len(job.rows)),
            "totalBytesProcessed": str(job.processed),
            "cacheHit": False,
        }
        if page:
            answer["rows"] = [
                {"f": [_cell(value, f, int64_ts) for value, f in zip(row, job.schema, strict=True)]}
                for row in page
            ]
        if size and start + size < len(job.rows):
            answer["pageToken"] = str(start + size)
        return 200, answer

    # ------------------------------------------------------------------ queries

    def _referenced(self, tree: exp.Expression, project: str) -> dict[str, FakeTable]:
        """Each table the query reads, by its exp.Table's SQL; LookupError(status, body)
        for a missing or denied one. CTE names are not tables."""
        ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        found: dict[str, FakeTable] = {}
        for table in tree.find_all(exp.Table):
            if not table.db and table.name in ctes:
                continue
            key = (table.catalog or project, table.db, table.name)
            table_id = ".".join(key)
            if ("table", table_id) in self.denied:
                raise LookupError(403, error(403, "accessDenied", self.denied[("table", table_id)]))
            if key not in self.tables:
                raise LookupError(
                    404,
                    error(404, "notFound", f"Not found: Table {_colon(table_id)} was not found "
                          f"in location {self.location}"),
                )  # fmt: skip
            found[table.sql(dialect="bigquery")] = self.tables[key]
        return found

    def _duckdb_sql(self, tree: exp.Expression, tables: dict[str, FakeTable]) -> str:
        copy = tree.copy()
        for table in list(copy.find_all(exp.Table)):
            target = tables.get(table.sql(dialect="bigquery"))
            if target is not None:
                alias = table.args.get("alias")
                replacement = exp.to_table(target.view)
                if alias is not None:
                    replacement.set("alias", alias)
                table.replace(replacement)
        return copy.sql(dialect="duckdb")

    def _bytes_per_table(self, tree: exp.Expression, tables: dict[str, FakeTable]) -> list[int]:
        """What each referenced table costs to read: its size, times the share of its rows
        in the partitions the query's filter on the partition column keeps."""
        out = []
        for table in tables.values():
            share = 1.0
            if table.partition is not None and table.rows:
                kept = self._partition_rows(tree, table)
                share = kept / table.rows
            out.append(math.ceil(table.size_bytes * share))
        return out

    def _bytes_read(self, tree: exp.Expression, tables: dict[str, FakeTable]) -> int:
        return sum(self._bytes_per_table(tree, tables))

    def _partition_rows(self, tree: exp.Expression, table: FakeTable) -> int:
        """Rows in the partitions kept by the WHERE conjuncts that name only the
        partition column (BigQuery prunes on those alone)."""
        column = str(table.partition).lower()
        kept = []
        for where in tree.find_all(exp.Where):
            for term in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
                names = {c.name.lower() for c in term.find_all(exp.Column)}
                if names == {column} and not list(term.find_all(exp.Subquery)):
                    kept.append(term.sql(dialect="bigquery"))
        if not kept:
            return table.rows
        condition = sqlglot.transpile(" AND ".join(kept), read="bigquery", write="duckdb")[0]
        with self._lock:
            counted = self._db.execute(
                f"SELECT count(*) FROM {table.view} WHERE {condition}"
            ).fetchone()
        return int(counted[0]) if counted else 0

    def _run(self, job: FakeJob, sql: str) -> None:
        with self._lock:
            cursor = self._db.cursor()
            try:
                result = cursor.execute(sql)
                described = result.description or []
                job.rows = result.fetchall()
            finally:
                cursor.close()
        job.schema = [bigquery_field(str(column[0]), column[1]) for column in described]


# ---------------------------------------------------------------------- helpers


def error(code: int, reason: str, message: str) -> dict[str, Any]:
    status = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}.get(
        code, "UNKNOWN"
    )
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": status,
        }
    }


def _colon(table_id: str) -> str:
    """BigQuery's own spelling in messages: project:dataset.table."""
    project, _, rest = table_id.partition(".")
    return f"{project}:{rest}"


_SCALARS = {
    "BIGINT": "INTEGER",
    "INTEGER": "INTEGER",
    "SMALLINT": "INTEGER",
    "TINYINT": "INTEGER",
    "HUGEINT": "INTEGER",
    "UBIGINT": "INTEGER",
    "UINTEGER": "INTEGER",
    "DOUBLE": "FLOAT",
    "FLOAT": "FLOAT",
    "VARCHAR": "STRING",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "TIMESTAMP": "TIMESTAMP",
    "TIMESTAMP_NS": "TIMESTAMP",
    "TIMESTAMP_MS": "TIMESTAMP",
    "BLOB": "BYTES",
    "TIME": "TIME",
}


def bigquery_field(name: str, duck_type: Any, mode: str = "NULLABLE") -> dict[str, Any]:
    """A BigQuery schema field (REST shape) for a DuckDB column type."""
    type_id = str(getattr(duck_type, "id", "")).lower()
    if type_id == "list":
        child = duck_type.children[0][1]
        return bigquery_field(name, child, "REPEATED")
    if type_id == "struct":
        fields = [bigquery_field(str(sub), sub_type) for sub, sub_type in duck_type.children]
        return {"name": name, "type": "RECORD", "mode": mode, "fields": fields}
    text = str(duck_type).upper()
    kind = "NUMERIC" if text.startswith("DECIMAL") else _SCALARS.get(text, "STRING")
    return {"name": name, "type": kind, "mode": mode}


def _value(value: Any, schema_field: dict[str, Any], int64_ts: bool) -> Any:
    """One value in the REST rows' encoding (scalars as text, records as {"f": [...]})."""
    if value is None:
        return None
    kind = schema_field["type"]
    if kind == "RECORD":
        items = list(value.values()) if isinstance(value, dict) else list(value)
        return {
            "f": [
                _cell(v, sub, int64_ts)
                for v, sub in zip(items, schema_field["fields"], strict=True)
            ]
        }
    if kind == "TIMESTAMP":
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        micros = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // _MICROSECOND
        return str(micros) if int64_ts else repr(micros / 1_000_000)
    if kind == "BOOLEAN":
        return "true" if value else "false"
    if kind == "FLOAT":
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(float(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _cell(value: Any, schema_field: dict[str, Any], int64_ts: bool) -> dict[str, Any]:
    if schema_field.get("mode") == "REPEATED":
        scalar = {**schema_field, "mode": "NULLABLE"}
        return {"v": [{"v": _value(v, scalar, int64_ts)} for v in value or []]}
    return {"v": _value(value, schema_field, int64_ts)}


_MICROSECOND = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)
