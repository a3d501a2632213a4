"""Reading billing export files lazily into the ``billing`` frame, and what they add up to.

A path is a file, a folder (every billing file under it) or a glob. In a folder or a glob
laid out as AWS delivers reports, only the current version of each month counts
(``delivery``: the manifests say which files; older versions are listed as skipped).
Each file is scanned with polars (``scan_csv`` with every column as text,
``scan_parquet``, ``scan_ndjson``), its columns mapped to FOCUS and cast to
``scanner.schema.BILLING``; the files are then concatenated into one LazyFrame.

Parquet is read where it lies. A text file (CSV, CSV.gz, JSON lines) is parsed once: its
FOCUS columns, with flags for cells that do not parse, are streamed into a Parquet file in
a staging folder under the system's temporary directory (removed when the process exits),
and every later read is of that copy. A CSV.gz is first inflated there, streaming, because
polars would inflate it whole in memory on every read. Timestamp text is parsed in the
layouts a sample of the file's first rows shows, and in every known layout if a later
cell needs another.

Bad input raises ``InputFileError`` naming the file and the problem, before any report is
written: a path that matches nothing, an empty file, a Parquet file that cannot be read
(truncated or not Parquet at all), missing mandatory columns, and a cost column that is
not numeric. A few stray unparsable cells in an otherwise good file (at most
``MAX_BAD_SHARE`` of its rows) do not fail the run: those rows are left out and reported as
``Rejection``s with the column, an example value and the row count. Cells a row cannot
be used without beyond those (GCP's credits) reject their rows one by one, never the
file. A header-only file (Azure and CUR deliver them for days without charges) is zero
rows. Every file read is accounted for (``FileRead``: rows read, rejected per reason).
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import logging
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from costscan.providers.exports import delivery, detect, gcp
from costscan.providers.exports._common import (
    PLAUSIBLE_YEARS,
    Mapped,
    RawSchema,
    layouts_of,
    number,
    timestamp,
)
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.billing import BillingSource, FileRead, SkippedFile
from costscan.scanner.contracts.errors import InputFileError

SUFFIXES = (".csv", ".csv.gz", ".parquet", ".jsonl", ".ndjson", ".json")
MAX_BAD_SHARE = 0.01
LAYOUT_SAMPLE_ROWS = 10_000
_GZ_SAMPLE_BYTES = 8 << 20
NULL_TEXT = ["NULL"]  # the FOCUS sample (and Athena/BigQuery CSV extracts) write null so
# Past this many line items in one run, the run says the push-down source is the better
# tool (it still runs). Memory stays flat past it (the rollup is built in parts,
# scanner/pipeline/billing_rollup.py); time does not: benchmarks/billing_memory.py
# measured 2.5 to 5 s per million rows of the whole command on 2 busy cores (100 million:
# 249 s), minutes of one machine for what the engine the export already sits in
# aggregates in seconds (README, "Billing memory").
LOCAL_ROWS = 100_000_000

_log = logging.getLogger("costscan")


# What a read of export files gives the pipeline (its type is a contract).
BillingRead = BillingSource


def read_billing(paths: Sequence[str], billing_format: str | None = None) -> BillingRead:
    """Scan every billing file under ``paths`` as FOCUS; ``billing_format`` None detects it."""
    if billing_format is not None and billing_format not in detect.FORMATS:
        raise InputFileError(
            f"--billing-format: unknown format {billing_format!r} "
            f"(choose from {', '.join(detect.FORMATS)})"
        )
    found = _expand(paths)
    # Every file's columns are checked before any is read in full.
    prepared = [_prepare(path, billing_format) for path in found.files]
    rejections: list[schema.Rejection] = []
    reads: list[FileRead] = []
    for item in prepared:
        # One file at a time: at most one inflated CSV.gz in the staging folder at once.
        checked = _check_cells(item)
        rejections.extend(checked.rejections)
        reads.append(checked.read)
    scans = [item.conformed() for item in prepared]
    scan = scans[0] if len(scans) == 1 else pl.concat(scans, how="vertical")
    formats = {item.format for item in prepared}
    warnings = list(found.warnings)
    for item in prepared:
        warnings.extend(f"{item.path}: {note}" for note in item.mapped.notes)
    too_large = local_size_note(sum(read.rows_read for read in reads))
    if too_large is not None:
        # Said now, on stderr, as well as in the report: the run has minutes ahead of it.
        _log.warning("costscan: %s", too_large)
        warnings.append(too_large)
    return BillingRead(
        scan=scan,
        rejections=rejections,
        source_format=formats.pop() if len(formats) == 1 else "mixed",
        files=[str(p) for p in found.files],
        file_formats={str(item.path): item.mapped.version for item in prepared},
        reads=reads,
        skipped=list(found.skipped),
        warnings=warnings,
    )


def local_size_note(rows: int) -> str | None:
    """One line when ``rows`` line items are past what one machine reads well
    (``LOCAL_ROWS``), naming the push-down alternative; None below it."""
    if rows <= LOCAL_ROWS:
        return None
    return (
        f"{rows:,} billing line items, past the {LOCAL_ROWS:,} one machine reads well: "
        "this run takes minutes; querying the export where it lives keeps it short "
        "(push-down: --billing athena://DATABASE.TABLE?workgroup=WG&output=s3://BUCKET/PREFIX "
        "for CUR and FOCUS in S3 behind Athena, --billing bigquery://PROJECT.DATASET.TABLE for "
        "GCP's export in BigQuery: the rollup runs there and only its daily result is read "
        "here), as does one run per billing account"
    )


def expand_paths(paths: Sequence[str]) -> list[Path]:
    """Files named by ``paths``: files as they are, folders walked, globs expanded (in a
    delivery layout, the current version of each month only)."""
    return _expand(paths).files


def _expand(paths: Sequence[str]) -> delivery.Selection:
    if not paths:
        raise InputFileError("--billing: no billing file given")
    files: list[Path] = []
    skipped: list[SkippedFile] = []
    warnings: list[str] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_file():
            files.append(path)
            continue
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and _is_billing_name(p))
            matched, look_near = inside, False
            if not [p for p in inside if not delivery.is_manifest(p)]:
                raise InputFileError(
                    f"{raw}: folder holds no billing files ({', '.join(SUFFIXES)})"
                )
        elif glob.has_magic(raw):
            matched = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
            matched = [p for p in matched if p.is_file()]
            look_near = True
            if not matched:
                raise InputFileError(f"{raw}: no file matches this pattern")
        else:
            raise InputFileError(f"{raw}: no such file or folder")
        manifests = [p for p in matched if delivery.is_manifest(p)]
        chosen = delivery.select(
            [p for p in matched if not delivery.is_manifest(p)], manifests, look_near=look_near
        )
        files.extend(chosen.files)
        skipped.extend(chosen.skipped)
        warnings.extend(chosen.warnings)
    return delivery.Selection(list(dict.fromkeys(files)), skipped, warnings)


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
    # run's staging folder (``stage``), rows with bad cells already left out.
    staged_path: Path | None = None
    # A CSV.gz inflated into the staging folder, removed once the file is staged.
    inflated: Path | None = None

    @property
    def staged(self) -> pl.LazyFrame | None:
        return None if self.staged_path is None else pl.scan_parquet(self.staged_path)

    @property
    def textual(self) -> bool:
        return self.kind in ("csv", "csv.gz")

    @property
    def stages(self) -> bool:
        """Text (CSV, CSV.gz, JSON lines) is staged as Parquet; Parquet is read in place."""
        return self.kind != "parquet"

    def conformed(self) -> pl.LazyFrame:
        if self.staged is not None:
            return self.staged.select(list(schema.BILLING))
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

    def stage(self, checks: dict[str, pl.Expr]) -> None:
        """Parse a text file once into Parquet: its FOCUS columns, and per
        checked column a flag (``__bad:``) and the raw text of a bad cell (``__raw:``).

        Every later pass (the cell counts, the rollup's reads) then reads typed, columnar
        Parquet instead of parsing text again: a CSV costs one parse, not one per pass.
        """
        columns = [
            *self._focus_columns(),
            *[bad.alias(f"__bad:{source}") for source, bad in checks.items()],
            *[
                pl.when(bad).then(pl.col(source).cast(pl.String)).alias(f"__raw:{source}")
                for source, bad in checks.items()
            ],
        ]
        self._restage(self.raw.select(columns))

    def _restage(self, frame: pl.LazyFrame) -> None:
        """Stream ``frame`` into the staged file (then remove the one before, if any)."""
        target = _staging_dir() / f"{uuid.uuid4().hex}.parquet"
        frame.sink_parquet(target, compression="lz4", engine="streaming")
        before, self.staged_path = self.staged_path, target
        if before is not None:
            before.unlink(missing_ok=True)

    def leave_out(self, rejecting: pl.Expr) -> None:
        """Drop the rows with bad cells: from the staged file itself (so every later read is
        a plain scan, which slices and filters push into), or by a filter on the text."""
        staged = self.staged
        if staged is None:
            self.reject = rejecting
            return
        self._restage(staged.filter(~rejecting))

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

    def expected(self, source: str) -> str:
        """What a cell of checked column ``source`` should be, for the reason line."""
        if source in self.mapped.numeric_sources:
            return "a number"
        if source in self.mapped.timestamp_sources:
            return f"a date and time from {PLAUSIBLE_YEARS}"
        return self.mapped.cell_checks[source][1]

    def bad_cells(self) -> dict[str, pl.Expr]:
        """Per checked raw column: true where the cell holds text that does not parse."""
        checks: dict[str, pl.Expr] = {}
        for source, (bad, _what) in self.mapped.cell_checks.items():
            checks[source] = bad.fill_null(False)
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
            if self.kind == "csv.gz":
                sample = _gz_head(self.path, sources)
            else:
                sample = self.raw.select(sources).head(LAYOUT_SAMPLE_ROWS).collect()
        except (pl.exceptions.PolarsError, OSError, EOFError):
            return  # the cell check reads the file again and names what is wrong
        found = {c: layouts_of(sample[c].drop_nulls()) for c in sources}
        self.layouts = {c: layouts for c, layouts in found.items() if layouts}
        self._remap()

    def widen(self) -> None:
        """Back to every layout, for a file whose later rows hold one the sample did not."""
        self.layouts = {}
        self._remap()

    def another_layout_parses(self, sources: list[str]) -> bool:
        """Whether a bad cell of ``sources`` parses in some layout the sample did not show
        (else the cells are simply bad, and the file need not be parsed again)."""
        staged = self.staged
        if staged is None:
            return True
        parses = [
            timestamp(pl.col(f"__raw:{c}"), pl.String(), None).is_not_null().any() for c in sources
        ]
        return bool(staged.select(pl.any_horizontal(parses)).collect().item())

    def open_text(self) -> None:
        """Inflate a CSV.gz into the staging folder, streaming, and read that: polars would
        inflate the whole file in memory on every read."""
        if self.kind == "csv.gz" and self.inflated is None:
            self.inflated = _gunzip(self.path)
            self.raw = _scan_csv(self.inflated)

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
    refusal = detect.refused(columns)
    if refusal and billing_format is None:
        raise InputFileError(f"{path}: {refusal}")
    if kind == "jsonl" and fmt == "gcp":
        # A record list that is empty in every sampled row ("labels": []) has no element
        # type to infer; the export's own types are given instead.
        columns, raw = _rescan_ndjson(path, gcp.json_overrides(columns))
    lacking = detect.missing(fmt, columns)
    if lacking:
        what = "mandatory FOCUS columns" if fmt == "focus" else f"{fmt} columns"
        raise InputFileError(f"{path}: missing {what}: {', '.join(lacking)}")
    mapped = detect.to_focus(fmt, columns, textual=kind in ("csv", "csv.gz"))
    prepared = _Prepared(path, kind, fmt, columns, mapped, raw)
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


def _rescan_ndjson(path: Path, overrides: dict[str, pl.DataType]) -> tuple[RawSchema, pl.LazyFrame]:
    try:
        scan = pl.scan_ndjson(path, infer_schema_length=1000, schema_overrides=overrides)
        return dict(scan.collect_schema()), scan
    except Exception as exc:
        raise InputFileError(f"{path}: not readable JSON lines: {_first_line(exc)}") from exc


def _scan_csv(path: Path) -> pl.LazyFrame:
    return pl.scan_csv(
        path,
        infer_schema=False,
        null_values=NULL_TEXT,
        raise_if_empty=False,
        truncate_ragged_lines=False,
    )


def _gz_head(path: Path, columns: list[str]) -> pl.DataFrame:
    """``columns`` of the first rows of a CSV.gz, from its first few inflated megabytes."""
    with gzip.open(path, "rb") as handle:
        head = handle.read(_GZ_SAMPLE_BYTES)
    complete = head[: head.rfind(b"\n") + 1] if len(head) == _GZ_SAMPLE_BYTES else head
    return pl.read_csv(
        io.BytesIO(complete), infer_schema=False, null_values=NULL_TEXT, columns=columns
    ).head(LAYOUT_SAMPLE_ROWS)


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


@dataclass(frozen=True)
class _Checked:
    rejections: list[schema.Rejection]
    read: FileRead


def _check_cells(item: _Prepared) -> _Checked:
    """Count one file's unparsable money and time cells in one projected pass (for a text
    file, the pass that stages it as Parquet), and leave out the rows that hold them."""
    if item.textual:
        item.open_text()
    checks = item.bad_cells()
    if not checks:
        if item.stages:
            _measure(item, checks)
        return _Checked([], _file_read(item, _row_count(item), 0, ()))
    counts = _measure(item, checks)
    narrowed = [c for c in item.layouts if counts[f"n:{c}"]]
    if narrowed and item.another_layout_parses(narrowed):
        # A later row holds a timestamp layout the sample did not: read it again in all.
        item.widen()
        checks = item.bad_cells()
        counts = _measure(item, checks)
    if item.inflated is not None and item.staged_path is not None:
        item.inflated.unlink(missing_ok=True)
    rows, bad_rows = int(counts["__rows"]), int(counts["__any"])
    if not bad_rows:
        return _Checked([], _file_read(item, rows, 0, ()))
    problems = []
    by_reason: list[tuple[str, int]] = []
    for source in checks:
        n_bad = int(counts[f"n:{source}"])
        if not n_bad:
            continue
        example = counts[f"e:{source}"]
        what = item.expected(source)
        problem = f"{source} is not {what} in {n_bad} of {rows} rows (e.g. {example!r})"
        if source in item.mapped.numeric_sources and n_bad > MAX_BAD_SHARE * rows:
            raise InputFileError(f"{item.path}: non-numeric cost: {problem}")
        if source in item.mapped.timestamp_sources and n_bad > MAX_BAD_SHARE * rows:
            raise InputFileError(f"{item.path}: unreadable dates: {problem}")
        problems.append(problem)
        by_reason.append((f"{source} is not {what} (e.g. {example!r})", n_bad))
    item.leave_out(item.rejecting(checks))
    reason = f"{item.path}: rows left out: {'; '.join(problems)}"
    read = _file_read(item, rows, bad_rows, tuple(by_reason))
    return _Checked([schema.Rejection("billing", reason, bad_rows)], read)


def _file_read(
    item: _Prepared, rows: int, rejected: int, by_reason: tuple[tuple[str, int], ...]
) -> FileRead:
    return FileRead(
        path=str(item.path),
        format=item.mapped.version,
        rows_read=rows,
        rows_rejected=rejected,
        rejected_by_reason=by_reason,
        scan=item.conformed(),
    )


def _row_count(item: _Prepared) -> int:
    """The file's rows, from Parquet metadata (the staged copy of a text file)."""
    target = item.staged_path if item.staged_path is not None else item.path
    if item.kind != "parquet" and item.staged_path is None:
        return int(item.raw.select(pl.len()).collect().item())
    return int(pl.scan_parquet(target).select(pl.len()).collect().item())


def _measure(item: _Prepared, checks: dict[str, pl.Expr]) -> dict[str, Any]:
    """The file's cell counts; a text file is staged as Parquet first, in the same read."""
    try:
        if item.stages:
            item.stage(checks)
        if not checks:
            return {}
        return item.measured(checks).collect(engine="streaming").row(0, named=True)
    except pl.exceptions.PolarsError as exc:
        raise InputFileError(
            f"{item.path}: cannot be read as {item.kind}: {_first_line(exc)}"
        ) from exc


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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
