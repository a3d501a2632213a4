"""``--billing athena://DATABASE.TABLE?workgroup=WG&output=s3://BUCKET/PREFIX``: a billing
export's table queried in Amazon Athena, read-only (the push-down's ``QueryEngine``,
scanner/contracts/billing_query.py).

Optional query parameters: ``region=`` (else the profile's region, as the AWS provider
resolves it) and ``catalog=`` (else ``AwsDataCatalog``, the Glue Data Catalog). The
credentials are the AWS provider's: the standard chain, ``AWS_PROFILE``, SSO.

- Columns and partitions: Glue GetTable (the table's columns, then its partition keys).
- A query: StartQueryExecution in the named database, catalog and workgroup, its results
  written to the output location the URI names and nowhere else (a workgroup that
  overrides client settings with another location is refused first, by GetWorkGroup);
  GetQueryExecution polled with a growing wait until it SUCCEEDED, FAILED or was
  CANCELLED (or ``timeout`` passed); then every page of GetQueryResults (NextToken). Only
  a single SELECT is ever sent: the SQL is parsed (sqlglot, Trino's dialect) and anything
  else is refused before a call.
- Typed results: Athena answers every cell as text; the columns are typed from the
  result's ColumnInfo (integers Int64, double/real/decimal Float64, timestamps UTC
  Datetime, dates, booleans, the rest String). Trino lower-cases every identifier, quoted
  ones too, so the names the SELECT gave its columns are put back.
- Before a query: ``estimate_bytes`` sums the S3 objects under the partitions the query
  reads. The partitions are Glue GetPartitions with an expression made of the query's
  predicates on partition columns (its billing period); an unpartitioned table is read
  whole, so its location's size is the estimate. Athena's bytes scanned are at most that
  (Parquet's column pruning reads less).
- Cost: https://aws.amazon.com/athena/pricing/ "$5.00 per TB of data scanned", "rounded up
  to the nearest megabyte, with a 10 MB minimum per query". ``bytes_scanned`` is what the
  queries were billed: each query's Statistics.DataScannedInBytes, so rounded.

Errors (a bad URI, a missing database or table, access denied, a failed query) raise
``InputFileError``: one line naming the URI.

IAM (README, "Billing in Athena"): athena:GetWorkGroup, StartQueryExecution,
GetQueryExecution and GetQueryResults; glue:GetDatabase, GetTable and GetPartitions;
s3:GetBucketLocation, ListBucket and GetObject on the export; the same and s3:PutObject
(with the multipart upload actions) on the output location, where Athena writes the
results as the caller; athena:GetTableMetadata for a catalog other than Glue's.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import polars as pl

from costscan.scanner.contracts.billing_query import QueryEngine
from costscan.scanner.contracts.errors import InputFileError, UsageError

SCHEME = "athena"
DEFAULT_CATALOG = "AwsDataCatalog"  # Athena's name for the account's Glue Data Catalog
DEFAULT_WORKGROUP = "primary"  # every account's Athena has it
QUERY_PARAMETERS = ("workgroup", "output", "region", "catalog")

# Athena's on-demand price (https://aws.amazon.com/athena/pricing/): $5 per TB scanned,
# each query billed at least 10 MB, rounded up to the megabyte. AWS's TB here is the
# binary one, as in its other data prices.
USD_PER_TIB = 5.0
BILLED_UNIT_BYTES = 1 << 20
MIN_BILLED_BYTES = 10 * BILLED_UNIT_BYTES

# GetQueryResults answers at most 1,000 rows a page.
PAGE_ROWS = 1000
# The wait between GetQueryExecution polls grows from FIRST_POLL by POLL_GROWTH up to
# LAST_POLL; past ``timeout`` the run stops waiting (Athena's own DML limit is 30 minutes).
FIRST_POLL = 0.2
POLL_GROWTH = 1.5
LAST_POLL = 5.0
QUERY_TIMEOUT = 1800.0

_NAME = re.compile(r"[A-Za-z0-9_-]+")
_DONE = ("SUCCEEDED", "FAILED", "CANCELLED")
_INTEGERS = ("bigint", "integer", "int", "smallint", "tinyint")
_FLOATS = ("double", "real", "float", "decimal")
# The IAM action an API call needs, where its name is not the call's own.
_IAM_ACTIONS = {"s3:ListObjectsV2": "s3:ListBucket"}
_ACCESS_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")


def billed_bytes(scanned: int) -> int:
    """What Athena bills for a query that scanned ``scanned`` bytes."""
    rounded = math.ceil(max(scanned, 0) / BILLED_UNIT_BYTES) * BILLED_UNIT_BYTES
    return max(rounded, MIN_BILLED_BYTES)


@dataclass(frozen=True)
class AthenaTable:
    """What an ``athena://`` URI names."""

    uri: str
    database: str
    table: str
    workgroup: str
    output: str
    region: str | None
    catalog: str


def parse_uri(uri: str) -> AthenaTable:
    """The table, workgroup and output location of ``uri``; one line naming it if bad."""

    def bad(why: str) -> InputFileError:
        return InputFileError(
            f"--billing {uri}: {why} (expected athena://DATABASE.TABLE?workgroup=WG"
            "&output=s3://BUCKET/PREFIX)"
        )

    parts = urlsplit(uri)
    if parts.scheme != SCHEME:
        raise bad("not an athena:// URI")
    names = parts.netloc.split(".")
    if len(names) != 2 or not all(_NAME.fullmatch(n) for n in names):
        raise bad(f"{parts.netloc or 'nothing'!r} is not DATABASE.TABLE")
    if parts.path not in ("", "/"):
        raise bad(f"unexpected path {parts.path!r}")
    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise bad(f"unreadable query {parts.query!r}") from None
    unknown = sorted(set(query) - set(QUERY_PARAMETERS))
    if unknown:
        raise bad(f"unknown parameter {unknown[0]!r} (known: {', '.join(QUERY_PARAMETERS)})")
    repeated = sorted(k for k, v in query.items() if len(v) > 1)
    if repeated:
        raise bad(f"{repeated[0]} given twice")
    given = {k: v[0].strip() for k, v in query.items()}
    output = given.get("output", "")
    if not output:
        raise bad("output= is missing: the s3:// location Athena writes the results to")
    if not output.startswith("s3://") or len(output) <= len("s3://"):
        raise bad(f"output {output!r} is not an s3:// location")
    return AthenaTable(
        uri=uri,
        # Glue keeps database and table names in lower case.
        database=names[0].lower(),
        table=names[1].lower(),
        workgroup=given.get("workgroup") or DEFAULT_WORKGROUP,
        output=output,
        region=given.get("region") or None,
        catalog=given.get("catalog") or DEFAULT_CATALOG,
    )


def open_engine(uri: str, *, endpoint_url: str | None = None) -> AthenaEngine:
    """The Athena engine for ``uri``, with the AWS provider's credentials and region
    (``endpoint_url`` only for tests: AWS_ENDPOINT_URL works too). No call is made yet."""
    target = parse_uri(uri)
    return AthenaEngine(target, _clients(target, endpoint_url))


def _clients(target: AthenaTable, endpoint_url: str | None) -> Callable[[str], Any]:
    from costscan.providers.aws.provider import DEFAULT_REGION
    from costscan.providers.aws.session import (
        ClientFactory,
        check_credentials,
        client_config,
        guarded_session,
    )

    try:
        # No credentials anywhere in the chain: the provider's one line (what to set),
        # before any call, not botocore's "Unable to locate credentials" at the first.
        check_credentials(None)
    except UsageError as exc:
        raise InputFileError(f"--billing {target.uri}: {exc}") from None
    try:
        session = guarded_session(region=target.region)
        region = target.region or session.region_name or DEFAULT_REGION
    except Exception as exc:  # botocore: a profile that does not exist, a bad config file
        raise InputFileError(f"--billing {target.uri}: {_one_line(exc)}") from exc
    factory = ClientFactory(session, endpoint_url=endpoint_url, config=client_config(3))
    return lambda service: factory.client(service, region)


def _one_line(problem: BaseException | str) -> str:
    """An error, or a message an AWS answer carries, as one short line."""
    from costscan.providers.aws.scan import one_line

    return one_line(problem if isinstance(problem, BaseException) else ValueError(problem))


class AthenaEngine:
    """One Glue table queried through Athena (``QueryEngine``)."""

    dialect = "trino"
    usd_per_tib = USD_PER_TIB

    def __init__(
        self,
        target: AthenaTable,
        client: Callable[[str], Any],
        *,
        timeout: float = QUERY_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.target = target
        self._client = client
        self._timeout = timeout
        self._sleep = sleep
        self._table: dict[str, Any] | None = None
        # S3 bytes per location: the rollup's queries read the same partitions, so each
        # is listed once.
        self._sizes: dict[str, int] = {}
        self._billed = 0
        self._workgroup_checked = False
        self.query_ids: list[str] = []

    @property
    def uri(self) -> str:
        return self.target.uri

    @property
    def bytes_scanned(self) -> int:
        return self._billed

    def table_parts(self) -> tuple[str, ...]:
        return (self.target.database, self.target.table)

    def _fail(self, what: str) -> InputFileError:
        return InputFileError(f"--billing {self.uri}: {what}")

    def _call(self, service: str, operation: str, **params: Any) -> Any:
        """One call, its error as one line naming the URI and what was asked."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._client(service), operation)(**params)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message", "") or _one_line(exc)
            api = f"{service}:{''.join(w.title() for w in operation.split('_'))}"
            action = _IAM_ACTIONS.get(api, api)
            if code == "EntityNotFoundException":
                raise self._fail(
                    f"{self.target.database}.{self.target.table} is not in the Glue Data "
                    f"Catalog: {_one_line(message)}"
                ) from None
            if code in _ACCESS_DENIED or "AccessDenied" in code:
                raise self._fail(f"access denied to {action}: {_one_line(message)}") from None
            raise self._fail(f"{action} failed: {code} {_one_line(message)}") from None
        except BotoCoreError as exc:
            raise self._fail(_one_line(exc)) from None

    # ------------------------------------------------------------------ the table

    def _glue_table(self) -> dict[str, Any]:
        if self._table is None:
            params: dict[str, Any] = {
                "DatabaseName": self.target.database,
                "Name": self.target.table,
            }
            if self.target.catalog == DEFAULT_CATALOG:
                answer = self._call("glue", "get_table", **params)
                self._table = answer["Table"]
            else:
                # A federated catalog is not in Glue: Athena describes its tables.
                answer = self._call(
                    "athena",
                    "get_table_metadata",
                    CatalogName=self.target.catalog,
                    DatabaseName=self.target.database,
                    TableName=self.target.table,
                )
                meta = answer["TableMetadata"]
                self._table = {
                    "StorageDescriptor": {"Columns": meta.get("Columns", [])},
                    "PartitionKeys": meta.get("PartitionKeys", []),
                }
        return self._table

    def columns(self) -> Mapping[str, str]:
        table = self._glue_table()
        found = [
            *table.get("StorageDescriptor", {}).get("Columns", []),
            *table.get("PartitionKeys", []),
        ]
        return {c["Name"].lower(): str(c.get("Type", "")).lower() for c in found}

    def partition_columns(self) -> tuple[str, ...]:
        keys = self._glue_table().get("PartitionKeys", [])
        return tuple(k["Name"].lower() for k in keys)

    # ------------------------------------------------------------------ estimate

    def estimate_bytes(self, sql: str) -> int | None:
        """The S3 bytes under the partitions ``sql`` reads (the whole table's location when
        it has no partitions); None for a catalog that is not Glue's."""
        if self.target.catalog != DEFAULT_CATALOG:
            return None
        self._check(sql)
        table = self._glue_table()
        partitions = self.partition_columns()
        if not partitions:
            location = table.get("StorageDescriptor", {}).get("Location")
            return self._s3_bytes(location) if location else None
        expression = partition_expression(sql, partitions, self.target.table)
        params: dict[str, Any] = {
            "DatabaseName": self.target.database,
            "TableName": self.target.table,
        }
        if expression:
            params["Expression"] = expression
        total = 0
        while True:
            page = self._call("glue", "get_partitions", **params)
            for partition in page.get("Partitions", []):
                location = partition.get("StorageDescriptor", {}).get("Location")
                if location:
                    total += self._s3_bytes(location)
            token = page.get("NextToken")
            if not token:
                return total
            params["NextToken"] = token

    def _s3_bytes(self, location: str) -> int:
        if location not in self._sizes:
            self._sizes[location] = self._list_bytes(location)
        return self._sizes[location]

    def _list_bytes(self, location: str) -> int:
        parts = urlsplit(location)
        if parts.scheme not in ("s3", "s3a", "s3n") or not parts.netloc:
            raise self._fail(f"table location {location!r} is not in S3")
        prefix = parts.path.lstrip("/")
        if prefix and not prefix.endswith("/"):
            # "billing_period=2024-1" must not also count "billing_period=2024-10".
            prefix += "/"
        params: dict[str, Any] = {"Bucket": parts.netloc, "Prefix": prefix}
        total = 0
        while True:
            page = self._call("s3", "list_objects_v2", **params)
            total += sum(int(o.get("Size", 0)) for o in page.get("Contents", []))
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return total
            params["ContinuationToken"] = token

    # ------------------------------------------------------------------ queries

    def _check(self, sql: str) -> None:
        from costscan.providers.aws.session import is_select_query

        if not is_select_query(sql):
            raise self._fail("refused to send a query that is not a single SELECT")

    def _check_workgroup(self) -> None:
        """Refuse a workgroup that would write the results elsewhere: one that overrides
        the client's settings ("EnforceWorkGroupConfiguration") with an output location of
        its own that is not the one the URI names."""
        if self._workgroup_checked:
            return
        answer = self._call("athena", "get_work_group", WorkGroup=self.target.workgroup)
        configuration = answer.get("WorkGroup", {}).get("Configuration", {})
        theirs = configuration.get("ResultConfiguration", {}).get("OutputLocation")
        enforced = bool(configuration.get("EnforceWorkGroupConfiguration"))
        if enforced and theirs and theirs.rstrip("/") != self.target.output.rstrip("/"):
            raise self._fail(
                f"workgroup {self.target.workgroup} writes every result to {theirs} "
                f"(it overrides client settings), not to output={self.target.output}; "
                "name that location as output=, or use another workgroup"
            )
        self._workgroup_checked = True

    def fetch(self, sql: str) -> pl.DataFrame:
        self._check(sql)
        self._check_workgroup()
        started = self._call(
            "athena",
            "start_query_execution",
            QueryString=sql,
            QueryExecutionContext={
                "Database": self.target.database,
                "Catalog": self.target.catalog,
            },
            WorkGroup=self.target.workgroup,
            ResultConfiguration={"OutputLocation": self.target.output},
        )
        query_id = started["QueryExecutionId"]
        self.query_ids.append(query_id)
        execution = self._wait(query_id)
        landed = execution.get("ResultConfiguration", {}).get("OutputLocation")
        if landed and not landed.startswith(self.target.output.rstrip("/") + "/"):
            raise self._fail(f"Athena wrote the results of query {query_id} to {landed}")
        scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes") or 0)
        self._billed += billed_bytes(scanned)
        return self._results(query_id, select_names(sql))

    def _wait(self, query_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + self._timeout
        pause = FIRST_POLL
        while True:
            answer = self._call("athena", "get_query_execution", QueryExecutionId=query_id)
            execution: dict[str, Any] = answer["QueryExecution"]
            status = execution.get("Status", {})
            state = status.get("State", "")
            if state == "SUCCEEDED":
                return execution
            if state in _DONE:
                reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get(
                    "ErrorMessage", "no reason given"
                )
                word = "failed" if state == "FAILED" else "was cancelled"
                raise self._fail(f"Athena query {query_id} {word}: {_one_line(reason)}")
            if time.monotonic() + pause > deadline:
                raise self._fail(
                    f"Athena query {query_id} did not finish within {self._timeout:g} s "
                    f"(still {state or 'queued'}; it may still run, and bill, in Athena)"
                )
            self._sleep(pause)
            pause = min(pause * POLL_GROWTH, LAST_POLL)

    def _results(self, query_id: str, names: list[str] | None) -> pl.DataFrame:
        params: dict[str, Any] = {"QueryExecutionId": query_id, "MaxResults": PAGE_ROWS}
        info: list[dict[str, Any]] | None = None
        rows: list[list[str | None]] = []
        first = True
        while True:
            page = self._call("athena", "get_query_results", **params)
            result = page.get("ResultSet", {})
            if info is None:
                info = result.get("ResultSetMetadata", {}).get("ColumnInfo", [])
            page_rows = result.get("Rows", [])
            if first and page_rows:
                # A SELECT's first row is its header (the column labels).
                page_rows = page_rows[1:]
            first = False
            rows.extend(
                [cell.get("VarCharValue") for cell in row.get("Data", [])] for row in page_rows
            )
            token = page.get("NextToken")
            if not token:
                break
            params["NextToken"] = token
        return self._typed(info or [], rows, names)

    def _typed(
        self,
        info: list[dict[str, Any]],
        rows: list[list[str | None]],
        names: list[str] | None,
    ) -> pl.DataFrame:
        labels = [str(c.get("Name") or c.get("Label") or f"_col{i}") for i, c in enumerate(info)]
        if names is not None and [n.lower() for n in names] == [n.lower() for n in labels]:
            labels = names  # Trino lower-cased them; the SELECT's own spelling is kept
        columns: dict[str, pl.Series] = {}
        for index, (label, column) in enumerate(zip(labels, info, strict=True)):
            raw = pl.Series(label, [r[index] if index < len(r) else None for r in rows], pl.String)
            try:
                columns[label] = _typed_column(raw, str(column.get("Type", "varchar")).lower())
            except pl.exceptions.PolarsError as exc:
                raise self._fail(
                    f"column {label!r} ({column.get('Type')}) holds a value that does not "
                    f"read as one: {_one_line(exc)}"
                ) from None
        return pl.DataFrame(list(columns.values()))


def _is_a_query_engine(engine: AthenaEngine) -> QueryEngine:
    """mypy checks here that ``AthenaEngine`` keeps the ``QueryEngine`` contract."""
    return engine


def _typed_column(raw: pl.Series, kind: str) -> pl.Series:
    """Athena's text of one column as the type its ColumnInfo names."""
    if kind.startswith(_INTEGERS):
        return raw.cast(pl.Int64)
    if kind.startswith(_FLOATS):
        return raw.cast(pl.Float64)
    if kind.startswith("timestamp"):
        # "2024-09-01 00:00:00.000", with " UTC" after it for timestamp with time zone.
        text = raw.str.strip_chars().str.strip_suffix(" UTC")
        return text.str.to_datetime(
            "%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC", strict=True
        )
    if kind == "date":
        return raw.str.to_date("%Y-%m-%d", strict=True)
    if kind == "boolean":
        lowered = raw.str.to_lowercase()
        unreadable = lowered.is_not_null() & ~lowered.is_in(["true", "false"])
        if unreadable.any():
            raise pl.exceptions.InvalidOperationError(
                f"not a boolean: {raw.filter(unreadable)[0]!r}"
            )
        return (lowered == "true").alias(raw.name)
    return raw


def select_names(sql: str) -> list[str] | None:
    """The output names of ``sql``'s outermost SELECT as it spells them; None when a
    column has no name of its own (``SELECT *``)."""
    import sqlglot
    from sqlglot import exp

    statement = sqlglot.parse_one(sql, read="trino")
    if not isinstance(statement, (exp.Select, exp.SetOperation)):
        return None
    names = statement.named_selects
    if "*" in names or len(names) != len(statement.selects):
        return None
    return list(names)


def _glue_expression_nodes() -> tuple[type, ...]:
    from sqlglot import exp

    return (
        exp.Column,
        exp.Identifier,
        exp.Literal,
        exp.Paren,
        exp.EQ,
        exp.NEQ,
        exp.GT,
        exp.GTE,
        exp.LT,
        exp.LTE,
        exp.In,
        exp.Between,
        exp.Like,
        exp.Not,
        exp.And,
        exp.Or,
    )


def partition_expression(sql: str, partitions: tuple[str, ...], table: str) -> str | None:
    """A Glue GetPartitions expression for the partitions ``sql`` reads of ``table``.

    Each SELECT that reads the table keeps the partitions its WHERE's conjuncts on
    partition columns allow (ANDed); the query reads what any of them reads (ORed). None
    when some read of the table has no such predicate (every partition is read).
    """
    import sqlglot
    from sqlglot import exp

    glue_nodes = _glue_expression_nodes()
    wanted = {p.lower() for p in partitions}
    statement = sqlglot.parse_one(sql, read="trino")
    reads: list[str] = []
    for select in statement.find_all(exp.Select):
        # The tables this SELECT reads itself (a subquery's are its own SELECT's).
        sources = [select.args.get("from_") or select.args.get("from")]
        sources += select.args.get("joins") or []
        tables = [s.this for s in sources if s is not None and isinstance(s.this, exp.Table)]
        if not any(t.name.lower() == table.lower() for t in tables):
            continue
        where = select.args.get("where")
        condition = None if where is None else where.this
        conjuncts = (
            []
            if condition is None
            else list(condition.flatten())
            if isinstance(condition, exp.And)
            else [condition]
        )
        kept: list[str] = []
        for conjunct in conjuncts:
            names = {c.name.lower() for c in conjunct.find_all(exp.Column)}
            if not names or not names <= wanted:
                continue
            if not all(isinstance(node, glue_nodes) for node in conjunct.walk()):
                # Glue's expressions know comparisons, IN, BETWEEN, LIKE, AND, OR and NOT
                # over bare keys and literals; leaving another predicate out reads more
                # partitions, never fewer.
                continue
            plain = conjunct.copy()
            for column in list(plain.find_all(exp.Column)):
                # Glue names partition keys bare.
                column.replace(exp.column(column.name.lower(), quoted=False))
            kept.append(plain.sql(dialect="trino"))
        if not kept:
            return None
        reads.append(" AND ".join(f"({k})" for k in kept) if len(kept) > 1 else kept[0])
    if not reads:
        return None
    unique = list(dict.fromkeys(reads))
    return unique[0] if len(unique) == 1 else " OR ".join(f"({r})" for r in unique)
