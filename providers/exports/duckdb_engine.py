"""``--billing duckdb:///path/to/*.parquet`` (or a folder): the push-down's SQL run by DuckDB
over local Parquet files.

DuckDB is the engine the push-down's one SQL definition is written in and checked on: its
results over the same files equal the local polars path's
(tests/scanner/test_billing_sql.py). It is also a way to aggregate Parquet files that are
larger than memory with a second engine.

The files are a view (``costscan_billing``) of an in-memory database that is never
written; a query is run only when it parses as one SELECT. Partitions in a Hive layout
(``billing_period=2024-09/``) are columns DuckDB prunes. What a query would scan is
estimated as the bytes of the Parquet files (an upper bound: DuckDB reads only the columns
and row groups it needs); scanning is free (``usd_per_tib`` 0).
"""

from __future__ import annotations

import glob
import re
from pathlib import Path
from typing import Any

import polars as pl
import sqlglot
from sqlglot import exp

from costscan.scanner.contracts.errors import InputFileError

SCHEME = "duckdb://"
VIEW = "costscan_billing"
# A path segment of a Hive-partitioned layout: ``key=value``.
_HIVE_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=[^/]*$")


def _files(uri: str) -> list[Path]:
    """The Parquet files ``uri`` names: a file, a folder (every .parquet under it) or a glob."""
    raw = uri.removeprefix(SCHEME)
    if not raw:
        raise InputFileError(f"{uri}: give a Parquet file, folder or glob after duckdb://")
    path = Path(raw).expanduser()
    if path.is_file():
        found = [path]
    elif path.is_dir():
        found = sorted(p for p in path.rglob("*.parquet") if p.is_file())
        if not found:
            raise InputFileError(f"{uri}: the folder holds no .parquet files")
    elif glob.has_magic(raw):
        found = sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
        if not found:
            raise InputFileError(f"{uri}: no file matches this pattern")
    else:
        raise InputFileError(f"{uri}: no such file or folder")
    others = [p for p in found if p.suffix.lower() != ".parquet"]
    if others:
        raise InputFileError(
            f"{uri}: DuckDB reads Parquet here; {others[0]} is not a .parquet file"
        )
    return found


def _hive_keys(files: list[Path]) -> tuple[str, ...]:
    """The ``key=value`` folder names every file sits under (in path order)."""
    per_file = [
        [m.group(1) for part in f.parent.parts if (m := _HIVE_SEGMENT.match(part))] for f in files
    ]
    first = per_file[0] if per_file else []
    return tuple(k for k in first if all(k in keys for keys in per_file))


class DuckDbEngine:
    """One view over local Parquet files in an in-memory DuckDB (``QueryEngine``)."""

    def __init__(self, uri: str, files: list[Path]) -> None:
        import duckdb

        self._uri = uri
        self._files = files
        self._sizes = {f: f.stat().st_size for f in files}
        self._partitions = _hive_keys(files)
        self._scanned = 0
        self._error: type[Exception] = duckdb.Error
        self._con = duckdb.connect(":memory:")
        try:
            # Days and hours are UTC days and hours, as in the local rollup.
            self._con.execute("SET TimeZone = 'UTC'")
            relation = self._con.read_parquet(
                [str(f) for f in files],
                hive_partitioning=bool(self._partitions),
                union_by_name=True,
            )
            relation.create_view(VIEW)
        except duckdb.Error as exc:
            raise InputFileError(f"{uri}: cannot be read: {_first_line(exc)}") from None

    @property
    def uri(self) -> str:
        return self._uri

    @property
    def dialect(self) -> str:
        return "duckdb"

    @property
    def usd_per_tib(self) -> float:
        return 0.0

    def table_parts(self) -> tuple[str, ...]:
        return (VIEW,)

    def columns(self) -> dict[str, str]:
        rows = self._run(f"DESCRIBE {VIEW}").fetchall()
        return {str(row[0]): str(row[1]).lower() for row in rows}

    def partition_columns(self) -> tuple[str, ...]:
        return self._partitions

    def estimate_bytes(self, sql: str) -> int | None:
        _check_select(self._uri, sql)
        return self._read_bytes(sql)

    def fetch(self, sql: str) -> pl.DataFrame:
        _check_select(self._uri, sql)
        frame = pl.from_arrow(self._run(sql, relation=True).to_arrow_table())
        if not isinstance(frame, pl.DataFrame):  # pragma: no cover - a table gives a frame
            raise TypeError("DuckDB returned a column, not a table")
        self._scanned += self._read_bytes(sql)
        return conform(frame)

    @property
    def bytes_scanned(self) -> int:
        return self._scanned

    def _read_bytes(self, sql: str) -> int:
        """The bytes of the files ``sql`` reads: those of the partitions its ``column IN
        ('value', ...)`` conditions keep (DuckDB prunes the others), else every file."""
        kept = _partition_values(sql, self._partitions)
        return sum(
            size
            for path, size in self._sizes.items()
            if all(_value_of(path, key) in values for key, values in kept.items())
        )

    def _run(self, sql: str, *, relation: bool = False) -> Any:
        try:
            # A relation hands its rows to Arrow without the DB-API result's extra copy.
            return self._con.sql(sql) if relation else self._con.execute(sql)
        except self._error as exc:
            raise InputFileError(f"{self._uri}: query failed: {_first_line(exc)}") from None


def _partition_values(sql: str, partitions: tuple[str, ...]) -> dict[str, set[str]]:
    """Partition column (lower case) -> the values an ``IN`` list of ``sql`` keeps."""
    wanted = {key.lower() for key in partitions}
    kept: dict[str, set[str]] = {}
    for found in sqlglot.parse_one(sql, read="duckdb").find_all(exp.In):
        column = found.this
        if isinstance(column, exp.Column) and column.name.lower() in wanted:
            values = {v.name for v in found.expressions if isinstance(v, exp.Literal)}
            kept[column.name.lower()] = kept.get(column.name.lower(), values) & values
    return kept


def _value_of(path: Path, key: str) -> str | None:
    """The value of partition ``key`` in ``path``'s folders (``key=value``)."""
    for part in path.parent.parts:
        name, sep, value = part.partition("=")
        if sep and name.lower() == key:
            return value
    return None


def _check_select(uri: str, sql: str) -> None:
    """Only one read-only query runs: a SELECT (with its CTEs), nothing else."""
    try:
        statements = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise InputFileError(f"{uri}: not a query costscan runs: {_first_line(exc)}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise InputFileError(f"{uri}: costscan runs one SELECT at a time, nothing else")


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """The result's columns as the contract types them: integers Int64, floating and
    decimal Float64, timestamps UTC microseconds, dates, booleans, the rest String."""
    columns = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype.is_integer():
            columns.append(column.cast(pl.Int64))
        elif dtype.is_float() or dtype.is_decimal():
            columns.append(column.cast(pl.Float64))
        elif isinstance(dtype, pl.Datetime):
            stamp = column.dt.cast_time_unit("us")
            columns.append(
                stamp.dt.replace_time_zone("UTC")
                if dtype.time_zone is None
                else stamp.dt.convert_time_zone("UTC")
            )
        elif dtype in (pl.Date(), pl.Boolean(), pl.String()):
            columns.append(column)
        else:
            columns.append(column.cast(pl.String))
    return frame.select(columns) if columns else frame


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def open_engine(uri: str) -> DuckDbEngine:
    """The engine for ``duckdb://PATH`` (a Parquet file, a folder of them, or a glob)."""
    return DuckDbEngine(uri, _files(uri))
