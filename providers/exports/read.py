"""Reading billing export files lazily into the ``billing`` frame, and what they add up to.

A path is a file, a folder (every billing file under it) or a glob. Each file is scanned
with polars (``scan_csv`` with every column as text, ``scan_parquet``, ``scan_ndjson``),
its columns mapped to FOCUS and cast to ``scanner.schema.BILLING``; the files are then
concatenated into one LazyFrame.

Parquet is read where it lies. A text file is parsed once: its FOCUS columns, with flags
for cells that do not parse, are streamed into a Parquet file in a staging folder under
the system's temporary directory (removed when the process exits), and every later read
is of that copy. A CSV.gz is first inflated there, streaming, because polars would inflate
it whole in memory on every read. Timestamp text is parsed in the layouts a sample of the
file's first rows shows, and in every known layout if a later cell needs another.

Bad input raises ``InputFileError`` naming the file and the problem, before any report is
written: a path that matches nothing, an empty file, a Parquet file that cannot be read
(truncated or not Parquet at all), missing mandatory columns, and a cost column that is
not numeric. A few stray unparsable cells in an otherwise good file (at most
``MAX_BAD_SHARE`` of its rows) do not fail the run: those rows are left out and reported as
``Rejection``s with the column, an example value and the row count.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from providers.exports import detect
from providers.exports._common import Mapped, RawSchema, layouts_of, number, timestamp
from scanner import billing_rollup, schema
from scanner.errors import InputFileError
from scanner.inventory import Inventory

SUFFIXES = (".csv", ".csv.gz", ".parquet", ".jsonl", ".ndjson", ".json")
MAX_BAD_SHARE = 0.01
LAYOUT_SAMPLE_ROWS = 10_000
NULL_TEXT = ["NULL"]  # the FOCUS sample (and Athena/BigQuery CSV extracts) write null so


@dataclass
class BillingRead:
    """A lazily read set of billing files, conformed to ``scanner.schema.BILLING``."""

    scan: pl.LazyFrame
    rejections: list[schema.Rejection]
    source_format: str  # focus | cur | cur2 | gcp | azure, or "mixed"
    files: list[str]
    # file -> what it was read as ("focus-1.2", "cur", ...), for the run's log
    file_formats: dict[str, str] = field(default_factory=dict)


def read_billing(paths: Sequence[str], billing_format: str | None = None) -> BillingRead:
    """Scan every billing file under ``paths`` as FOCUS; ``billing_format`` None detects it."""
    if billing_format is not None and billing_format not in detect.FORMATS:
        raise InputFileError(
            f"--billing-format: unknown format {billing_format!r} "
            f"(choose from {', '.join(detect.FORMATS)})"
        )
    files = expand_paths(paths)
    prepared = [_prepare(path, billing_format) for path in files]
    rejections = _check_cells(prepared)
    for item in prepared:
        if item.staged is not None and item.inflated is not None:
            item.inflated.unlink(missing_ok=True)
    scans = [item.conformed() for item in prepared]
    scan = scans[0] if len(scans) == 1 else pl.concat(scans, how="vertical")
    formats = {item.format for item in prepared}
    return BillingRead(
        scan=scan,
        rejections=rejections,
        source_format=formats.pop() if len(formats) == 1 else "mixed",
        files=[str(p) for p in files],
        file_formats={str(item.path): item.mapped.version for item in prepared},
    )


def attach(inventory: Inventory, read: BillingRead) -> None:
    """Hold ``read`` as the inventory's ``billing`` scan and build its rollup now, in the
    provider's read of the files, so a file that fails half-way through is bad input
    (exit 2, one line) rather than a failed policy."""
    inventory.add_scan("billing", read.scan)
    inventory.rejections.extend(read.rejections)
    try:
        inventory.billing_rollup()
    except pl.exceptions.PolarsError as exc:
        raise InputFileError(
            f"{', '.join(read.files)}: cannot be read: {_first_line(exc)}"
        ) from exc


def spend_summary(scan: pl.LazyFrame) -> dict[str, Any]:
    """Billed and effective cost over every row of ``scan``, and the period they cover.

    A run gets the same figures from ``Inventory.billing_rollup().spend``, computed in the
    rollup's single read; this is for a scan on its own.
    """
    return billing_rollup.spend_from(billing_rollup.spend_query(scan).collect(engine="streaming"))


def top_resources(scan: pl.LazyFrame, limit: int = 10) -> list[dict[str, Any]]:
    """The ``limit`` most expensive resources of a billing scan, for the report's context.

    Not a finding: the engine puts them in ``summary.spend["top_resources"]`` from the
    run's rollup (``BillingRollup.top_resources``, which says what each item holds); this
    builds the rollup of a scan on its own.
    """
    if limit <= 0:
        return []
    return billing_rollup.build(scan).top_resources(limit)


def expand_paths(paths: Sequence[str]) -> list[Path]:
    """Files named by ``paths``: files as they are, folders walked, globs expanded."""
    if not paths:
        raise InputFileError("--billing: no billing file given")
    found: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and _is_billing_name(p))
            if not inside:
                raise InputFileError(
                    f"{raw}: folder holds no billing files ({', '.join(SUFFIXES)})"
                )
            found.extend(inside)
        elif glob.has_magic(raw):
            matched = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
            matched = [p for p in matched if p.is_file()]
            if not matched:
                raise InputFileError(f"{raw}: no file matches this pattern")
            found.extend(matched)
        else:
            raise InputFileError(f"{raw}: no such file or folder")
    unique = list(dict.fromkeys(found))
    return unique


def _is_billing_name(path: Path) -> bool:
    name = path.name.lower()
    return not name.startswith(".") and name.endswith(SUFFIXES)


def file_kind(path: Path) -> str:
    """csv | csv.gz | parquet | jsonl, from the name, or from the first bytes when unclear."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".csv.gz", ".gz")):
        return "csv.gz"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    with path.open("rb") as handle:
        head = handle.read(4)
    if head == b"PAR1":
        return "parquet"
    if head[:2] == b"\x1f\x8b":
        return "csv.gz"
    if head[:1] == b"{":
        return "jsonl"
    return "csv"


@dataclass
class _Prepared:
    path: Path
    kind: str
    format: str
    columns: RawSchema
    mapped: Mapped
    raw: pl.LazyFrame
    reject: pl.Expr | None = None
    # Per checked raw timestamp column, the layouts a sample of the file showed.
    layouts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # A text file once parsed: its FOCUS columns and cell flags in a Parquet file of the
    # run's staging folder (``stage``).
    staged: pl.LazyFrame | None = None
    # A CSV.gz inflated into the staging folder, removed once the file is staged.
    inflated: Path | None = None

    @property
    def textual(self) -> bool:
        return self.kind in ("csv", "csv.gz")

    def conformed(self) -> pl.LazyFrame:
        if self.staged is not None:
            frame = self.staged if self.reject is None else self.staged.filter(~self.reject)
            return frame.select(list(schema.BILLING))
        frame = self.raw if self.reject is None else self.raw.filter(~self.reject)
        return frame.select(self._focus_columns())

    def _focus_columns(self) -> list[pl.Expr]:
        exprs = []
        for col, dtype in schema.BILLING.items():
            expr = self.mapped.exprs.get(col)
            if expr is None:
                exprs.append(pl.lit(None, dtype=dtype).alias(col))
            else:
                exprs.append(expr.cast(dtype).alias(col))
        return exprs

    def stage(self, checks: dict[str, pl.Expr]) -> pl.LazyFrame:
        """The sink that parses a text file once into Parquet: its FOCUS columns, and per
        checked column a flag (``__bad:``) and the raw text of a bad cell (``__raw:``).

        Every later pass (the cell counts, the rollup's reads) then reads typed, columnar
        Parquet instead of parsing text again: a CSV costs one parse, not one per pass.
        """
        target = _staging_dir() / f"{uuid.uuid4().hex}.parquet"
        columns = [
            *self._focus_columns(),
            *[bad.alias(f"__bad:{source}") for source, bad in checks.items()],
            *[
                pl.when(bad).then(pl.col(source).cast(pl.String)).alias(f"__raw:{source}")
                for source, bad in checks.items()
            ],
        ]
        self.staged = pl.scan_parquet(target)
        return self.raw.select(columns).sink_parquet(target, compression="lz4", lazy=True)

    def measured(self, checks: dict[str, pl.Expr]) -> pl.LazyFrame:
        """One row of cell counts (``_cell_counts``), from the staged file when there is one."""
        if self.staged is None:
            examples = {
                source: pl.col(source).cast(pl.String).filter(bad).first()
                for source, bad in checks.items()
            }
            return _cell_counts(self.raw, checks, examples)
        flags = {source: pl.col(f"__bad:{source}") for source in checks}
        examples = {source: pl.col(f"__raw:{source}").drop_nulls().first() for source in checks}
        return _cell_counts(self.staged, flags, examples)

    def rejecting(self, checks: dict[str, pl.Expr]) -> pl.Expr:
        """True for a row with a bad cell, in the frame ``conformed`` filters."""
        if self.staged is None:
            return pl.any_horizontal(list(checks.values()))
        return pl.any_horizontal([pl.col(f"__bad:{source}") for source in checks])

    def bad_cells(self) -> dict[str, pl.Expr]:
        """Per checked raw column: true where the cell holds text that does not parse."""
        checks: dict[str, pl.Expr] = {}
        for source in self.mapped.numeric_sources:
            raw = pl.col(source).cast(pl.String).str.strip_chars()
            parsed = number(pl.col(source), self.columns[source])
            checks[source] = ((raw.str.len_bytes() > 0) & parsed.is_null()).fill_null(False)
        for source in self.mapped.timestamp_sources:
            raw = pl.col(source).cast(pl.String).str.strip_chars()
            parsed = timestamp(pl.col(source), self.columns[source], self.layouts.get(source))
            checks[source] = ((raw.str.len_bytes() > 0) & parsed.is_null()).fill_null(False)
        return checks

    def sample_layouts(self) -> None:
        """Parse each checked timestamp column of a text file only in the layouts its first
        ``LAYOUT_SAMPLE_ROWS`` rows use: polars parses every layout tried over every row,
        so trying all six costs six parses per cell. The cell check widens them again if
        the rest of the file holds another layout (``widen``)."""
        sources = [c for c in self.mapped.timestamp_sources if self.columns[c] == pl.String()]
        if not sources:
            return
        try:
            sample = self.raw.select(sources).head(LAYOUT_SAMPLE_ROWS).collect()
        except pl.exceptions.PolarsError:
            return  # the cell check reads the file again and names what is wrong
        found = {c: layouts_of(sample[c].drop_nulls()) for c in sources}
        self.layouts = {c: layouts for c, layouts in found.items() if layouts}
        self._remap()

    def widen(self) -> None:
        """Back to every layout, for a file whose later rows hold one the sample did not."""
        self.layouts = {}
        self._remap()

    def _remap(self) -> None:
        self.mapped = detect.to_focus(self.format, self.columns, self.textual, self.layouts)


def _prepare(path: Path, billing_format: str | None) -> _Prepared:
    kind = file_kind(path)
    columns, raw = _open(path, kind)
    fmt = billing_format or detect.detect(columns)
    if fmt is None:
        lacking = detect.missing("focus", columns)
        raise InputFileError(
            f"{path}: not a billing export costscan knows; missing mandatory FOCUS columns: "
            f"{', '.join(lacking)} (or name the format with --billing-format)"
        )
    lacking = detect.missing(fmt, columns)
    if lacking:
        what = "mandatory FOCUS columns" if fmt == "focus" else f"{fmt} columns"
        raise InputFileError(f"{path}: missing {what}: {', '.join(lacking)}")
    inflated = None
    if kind == "csv.gz":
        # polars inflates a gzip file whole, in memory, on every read: inflate it once,
        # streaming, to the staging folder, and read that.
        inflated = _gunzip(path)
        raw = _scan_csv(inflated)
    mapped = detect.to_focus(fmt, columns, textual=kind in ("csv", "csv.gz"))
    prepared = _Prepared(path, kind, fmt, columns, mapped, raw, inflated=inflated)
    prepared.sample_layouts()
    return prepared


# The run's staging folder for parsed text files, removed when the process exits.
_STAGING: list[tempfile.TemporaryDirectory[str]] = []


def _staging_dir() -> Path:
    if not _STAGING:
        _STAGING.append(tempfile.TemporaryDirectory(prefix="costscan-billing-"))
    return Path(_STAGING[0].name)


def _open(path: Path, kind: str) -> tuple[RawSchema, pl.LazyFrame]:
    """The file's columns (from its header or footer only) and its lazy scan."""
    if path.stat().st_size == 0:
        raise InputFileError(f"{path}: empty file")
    if kind in ("csv", "csv.gz"):
        header = _csv_header(path, gz=kind == "csv.gz")
        columns: dict[str, pl.DataType] = {name: pl.String() for name in header}
        return columns, _scan_csv(path)
    if kind == "parquet":
        try:
            parquet_schema = pl.read_parquet_schema(path)
        except Exception as exc:  # polars raises several types for a bad footer
            raise InputFileError(
                f"{path}: not a readable Parquet file (truncated or corrupt): {_first_line(exc)}"
            ) from exc
        return dict(parquet_schema), pl.scan_parquet(path)
    try:
        scan = pl.scan_ndjson(path, infer_schema_length=1000)
        json_schema = dict(scan.collect_schema())
    except Exception as exc:
        raise InputFileError(f"{path}: not readable JSON lines: {_first_line(exc)}") from exc
    if not json_schema:
        raise InputFileError(f"{path}: empty file")
    return json_schema, scan


def _scan_csv(path: Path) -> pl.LazyFrame:
    return pl.scan_csv(
        path,
        infer_schema=False,
        null_values=NULL_TEXT,
        raise_if_empty=False,
        truncate_ragged_lines=False,
    )


def _gunzip(path: Path) -> Path:
    target = _staging_dir() / f"{uuid.uuid4().hex}.csv"
    try:
        with gzip.open(path, "rb") as source, target.open("wb") as sink:
            shutil.copyfileobj(source, sink, length=1 << 24)
    except (OSError, EOFError) as exc:
        target.unlink(missing_ok=True)
        raise InputFileError(f"{path}: cannot be read as csv.gz: {_first_line(exc)}") from exc
    return target


def _csv_header(path: Path, gz: bool) -> list[str]:
    try:
        if gz:
            with gzip.open(path, "rt", encoding="utf-8-sig", newline="") as handle:
                first = handle.readline()
        else:
            with path.open("r", encoding="utf-8-sig", newline="") as handle:
                first = handle.readline()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: cannot be read as CSV: {_first_line(exc)}") from exc
    if not first.strip():
        raise InputFileError(f"{path}: empty file")
    header = next(csv.reader(io.StringIO(first)))
    return [name.strip() for name in header]


def _check_cells(prepared: list[_Prepared]) -> list[schema.Rejection]:
    """Count unparsable money and time cells in one projected pass per file that needs it
    (for a text file, the pass that stages it as Parquet)."""
    owners = [(item, checks) for item in prepared if (checks := item.bad_cells())]
    if not owners:
        return []
    results = _measure(owners)
    narrowed = [
        index
        for index, ((item, _checks), result) in enumerate(zip(owners, results, strict=True))
        if item.layouts and any(result[f"n:{c}"].item() for c in item.layouts)
    ]
    if narrowed:
        # A timestamp the sample's layouts did not parse: read those files again in all.
        for index in narrowed:
            item = owners[index][0]
            item.widen()
            owners[index] = (item, item.bad_cells())
        for index, result in zip(narrowed, _measure([owners[i] for i in narrowed]), strict=True):
            results[index] = result
    rejections: list[schema.Rejection] = []
    for (item, checks), result in zip(owners, results, strict=True):
        counts = result.row(0, named=True)
        rows, bad_rows = int(counts["__rows"]), int(counts["__any"])
        if not bad_rows:
            continue
        problems = []
        for source in checks:
            n_bad = int(counts[f"n:{source}"])
            if not n_bad:
                continue
            example = counts[f"e:{source}"]
            what = "a number" if source in item.mapped.numeric_sources else "a date and time"
            problem = f"{source} is not {what} in {n_bad} of {rows} rows (e.g. {example!r})"
            if source in item.mapped.numeric_sources and n_bad > MAX_BAD_SHARE * rows:
                raise InputFileError(f"{item.path}: non-numeric cost: {problem}")
            if n_bad > MAX_BAD_SHARE * rows:
                raise InputFileError(f"{item.path}: unreadable dates: {problem}")
            problems.append(problem)
        item.reject = item.rejecting(checks)
        reason = f"{item.path}: rows left out: {'; '.join(problems)}"
        rejections.append(schema.Rejection("billing", reason, bad_rows))
    return rejections


def _measure(owners: list[tuple[_Prepared, dict[str, pl.Expr]]]) -> list[pl.DataFrame]:
    """Each file's cell counts; text files are staged as Parquet first, in the same read."""
    sinks = [item.stage(checks) for item, checks in owners if item.textual]
    try:
        if sinks:
            pl.collect_all(sinks, engine="streaming")
        return pl.collect_all(
            [item.measured(checks) for item, checks in owners], engine="streaming"
        )
    except pl.exceptions.PolarsError as exc:
        raise InputFileError(_which_file_failed(owners, exc)) from exc


def _cell_counts(
    frame: pl.LazyFrame, flags: dict[str, pl.Expr], examples: dict[str, pl.Expr]
) -> pl.LazyFrame:
    """One row: the rows, the rows with any bad cell, and per column its bad cells
    (``flags``) and one example (``examples``)."""
    any_bad = pl.any_horizontal(list(flags.values()))
    aggregations = [pl.len().alias("__rows"), any_bad.sum().alias("__any")]
    for source, bad in flags.items():
        aggregations.append(bad.sum().alias(f"n:{source}"))
        aggregations.append(examples[source].alias(f"e:{source}"))
    return frame.select(aggregations)


def _which_file_failed(owners: list[tuple[_Prepared, dict[str, pl.Expr]]], exc: Exception) -> str:
    """Name the file a failed combined pass choked on, by re-trying each file alone."""
    for item, checks in owners:
        try:
            item.raw.select([bad.sum() for bad in checks.values()]).collect(engine="streaming")
        except pl.exceptions.PolarsError as single:
            return f"{item.path}: cannot be read as {item.kind}: {_first_line(single)}"
    return f"billing files cannot be read: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
