"""Week over week: each run's findings kept as Parquet, and what changed since the last run.

``--history DIR`` (a local folder or an ``s3://bucket/prefix`` URI) holds one file per run,
``costscan-<provider>-<account or multi>-<UTC stamp>.parquet``: the ranked findings
(schema.RANKED, with their ``status`` and ``weeks_open``) and, in the file's key-value
metadata, the run's provider, accounts and start. The next run with the same provider and
accounts reads the latest earlier file and marks each finding:

- ``new``: its finding_id was not in the previous run; ``weeks_open`` is 1;
- ``open``: it was; ``weeks_open`` is the previous run's figure plus one (runs are weekly,
  so a finding first seen last week is in its second week).

Counted findings of the previous run that this run no longer produces are *resolved*: their
net monthly savings are what the team realized. ``costscan diff OLD NEW`` computes the same
changes from two saved runs (or two JSON or Parquet reports).

Writing to S3 is the one write costscan ever makes to a cloud, and only when the user passes
an ``s3://`` ``--history``: see ``history_s3_client``.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import InputFileError, ReportError, UsageError
from costscan.scanner.contracts.files import output_path, utc_stamp, write_atomically

# boto3 builds its clients at run time and no S3 type stubs are installed.
S3Client = Any

HISTORY_METADATA_KEY = "costscan_history"
HISTORY_SCHEMA_VERSION = 1
REPORT_METADATA_KEY = "costscan"  # a ``--format parquet`` report, also accepted by ``diff``
PARQUET_MAGIC = b"PAR1"
_STAMP = re.compile(r"\d{8}T\d{6}Z")
# What a run must carry for its changes to be computed at all.
COMPARED_COLUMNS = ("finding_id", "counted", "net_monthly_savings")


@dataclass(frozen=True)
class PreviousRun:
    location: str  # the file's path or s3:// URI
    started_at: str  # ISO 8601, UTC
    findings: pl.DataFrame  # schema.RANKED


@dataclass(frozen=True)
class _S3Location:
    bucket: str
    prefix: str  # "" or ending in "/"

    def uri(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{name}"


def check_location(history: str) -> None:
    """UsageError when ``--history`` cannot be a folder or an s3:// URI: check before scanning."""
    location = _location(history)
    if isinstance(location, Path) and location.exists() and not location.is_dir():
        raise UsageError(f"--history {history}: not a folder")


def _location(history: str) -> Path | _S3Location:
    text = history.strip()
    if not text:
        raise UsageError("--history: give a folder or an s3://bucket/prefix URI")
    if text.lower().startswith("s3://"):
        bucket, _, prefix = text[5:].partition("/")
        if not bucket:
            raise UsageError(f"--history {history}: an S3 URI needs a bucket (s3://bucket/prefix)")
        prefix = prefix.strip("/")
        return _S3Location(bucket, f"{prefix}/" if prefix else "")
    if "://" in text:
        raise UsageError(f"--history {history}: only local folders and s3:// URIs are supported")
    return Path(text)


def history_s3_client(profile: str | None = None) -> S3Client:
    """The S3 client for ``--history s3://...``: the one place costscan writes to a cloud.

    It is made here, on its own boto3 session, only when the user passes an s3:// history,
    and it is used only to list, read and put the history files under that URI. The
    scanner's read-only guard stays on the scan clients (providers/aws/session.py); this
    session never scans and the scan sessions never write. The standard credential chain
    and ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3`` apply, as botocore reads them.
    """
    import boto3

    return boto3.session.Session(profile_name=profile).client("s3")


def _file_name(provider: str, accounts: list[str], started_at: str) -> str:
    # The same naming as every report file, so a history folder reads like an output folder.
    return output_path(Path("."), provider, accounts, started_at, "parquet").name


def _name_prefix(provider: str, accounts: list[str], started_at: str) -> tuple[str, str]:
    """(the part of the file name before the stamp, the stamp) for a run."""
    stamp = utc_stamp(started_at)
    name = _file_name(provider, accounts, started_at)
    return name[: -len(f"{stamp}.parquet")], stamp


def _run_metadata(provider: str, accounts: list[str], started_at: str) -> dict[str, Any]:
    return {
        "schema_version": HISTORY_SCHEMA_VERSION,
        "provider": provider,
        "accounts": sorted(accounts),
        "started_at": started_at,
    }


def _as_ranked(frame: pl.DataFrame, where: str) -> pl.DataFrame:
    """``frame`` cast to schema.RANKED; absent optional columns (status ...) become null."""
    missing = [c for c in COMPARED_COLUMNS if c not in frame.columns]
    if missing:
        raise InputFileError(f"{where}: not a costscan run: no {', '.join(missing)} column")
    try:
        return frame.select(
            [
                pl.col(c).cast(t, strict=False).alias(c)
                if c in frame.columns
                else pl.lit(None, dtype=t).alias(c)
                for c, t in schema.RANKED.items()
            ]
        )
    except pl.exceptions.PolarsError as exc:
        raise InputFileError(
            f"{where}: its findings do not fit the ranked schema ({exc})"
        ) from None


def save_run(
    history: str,
    report_findings: pl.DataFrame,
    run_started_at: str,
    provider: str,
    accounts: list[str],
    *,
    profile: str | None = None,
) -> str:
    """Keep this run's ranked findings in ``history``; returns the file's path or URI.

    Call it after ``compare``, so the saved ``status`` and ``weeks_open`` carry forward.
    A local file is written to a temporary name and renamed; an S3 object appears whole.
    """
    location = _location(history)
    frame = _as_ranked(report_findings, "findings to save")
    buffer = io.BytesIO()
    metadata = _run_metadata(provider, accounts, run_started_at)
    frame.write_parquet(buffer, metadata={HISTORY_METADATA_KEY: json.dumps(metadata)})
    data = buffer.getvalue()
    name = _file_name(provider, accounts, run_started_at)
    if isinstance(location, Path):
        path = location / name
        write_atomically(path, data)
        return str(path)
    from botocore.exceptions import BotoCoreError, ClientError

    uri = location.uri(name)
    try:
        history_s3_client(profile).put_object(
            Bucket=location.bucket,
            Key=f"{location.prefix}{name}",
            Body=data,
            ContentType="application/vnd.apache.parquet",
        )
    except (BotoCoreError, ClientError) as exc:
        raise ReportError(f"--history: cannot write {uri}: {exc}") from None
    return uri


def load_previous(
    history: str,
    provider: str,
    accounts: list[str],
    before: str,
    *,
    profile: str | None = None,
) -> PreviousRun | None:
    """The latest run in ``history`` started before ``before`` for the same provider and
    accounts; None when there is none (the first run, or an empty or absent folder)."""
    location = _location(history)
    prefix, current_stamp = _name_prefix(provider, accounts, before)
    wanted = _run_metadata(provider, accounts, before)
    client = None if isinstance(location, Path) else history_s3_client(profile)
    names = _list_names(location, prefix, client)
    stamps = {name: name[len(prefix) : -len(".parquet")] for name in names}
    earlier = sorted(
        (n for n, s in stamps.items() if _STAMP.fullmatch(s) and s < current_stamp),
        key=lambda n: stamps[n],
        reverse=True,
    )
    # "multi" in a name stands for any set of accounts: the metadata says which.
    for name in earlier:
        where = str(location / name) if isinstance(location, Path) else location.uri(name)
        data = _read_bytes(where, client)
        metadata = _parquet_metadata(data, where).get(HISTORY_METADATA_KEY)
        if metadata is None:
            continue  # another costscan file kept in the same folder, not a history run
        run = _json_metadata(metadata, where)
        if run.get("provider") != wanted["provider"] or run.get("accounts") != wanted["accounts"]:
            continue
        frame = _read_parquet(data, where)
        return PreviousRun(where, str(run.get("started_at") or ""), _as_ranked(frame, where))
    return None


def _list_names(location: Path | _S3Location, prefix: str, client: S3Client | None) -> list[str]:
    if isinstance(location, Path):
        if not location.is_dir():
            return []
        return [p.name for p in location.glob(f"{glob_escape(prefix)}*.parquet") if p.is_file()]
    from botocore.exceptions import BotoCoreError, ClientError

    assert client is not None
    names = []
    try:
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=location.bucket, Prefix=f"{location.prefix}{prefix}"
        )
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.endswith(".parquet") and "/" not in key[len(location.prefix) :]:
                    names.append(key[len(location.prefix) :])
    except (BotoCoreError, ClientError) as exc:
        raise InputFileError(f"--history {location.uri('')}: cannot list it ({exc})") from None
    return names


def glob_escape(text: str) -> str:
    """``text`` as a literal in a pathlib glob."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def _read_bytes(where: str, client: S3Client | None = None) -> bytes:
    if where.lower().startswith("s3://"):
        from botocore.exceptions import BotoCoreError, ClientError

        location = _location(where)
        assert isinstance(location, _S3Location)
        key = location.prefix.rstrip("/")
        try:
            answer = (client or history_s3_client()).get_object(Bucket=location.bucket, Key=key)
            return bytes(answer["Body"].read())
        except (BotoCoreError, ClientError) as exc:
            raise InputFileError(f"{where}: cannot read it ({exc})") from None
    path = Path(where)
    if not path.is_file():
        raise InputFileError(f"{where}: no such file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{where}: cannot read it ({exc.strerror})") from None


def _parquet_metadata(data: bytes, where: str) -> dict[str, str]:
    try:
        return pl.read_parquet_metadata(io.BytesIO(data))
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputFileError(f"{where}: cannot read it as Parquet ({exc})") from None


def _read_parquet(data: bytes, where: str) -> pl.DataFrame:
    try:
        return pl.read_parquet(io.BytesIO(data))
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputFileError(f"{where}: cannot read it as Parquet ({exc})") from None


def _json_metadata(text: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise InputFileError(f"{where}: its costscan metadata is not valid JSON") from None
    if not isinstance(value, dict):
        raise InputFileError(f"{where}: its costscan metadata is not an object")
    return value


def mark_status(current: pl.DataFrame, previous: pl.DataFrame | None) -> pl.DataFrame:
    """``current`` (schema.RANKED) with ``status`` and ``weeks_open`` set against
    ``previous``; without a previous run every finding is new, in its first week."""
    if previous is None:
        return current.with_columns(
            pl.lit("new", dtype=pl.String).alias("status"),
            pl.lit(1, dtype=pl.Int64).alias("weeks_open"),
        )
    before = (
        previous.filter(pl.col("finding_id").is_not_null())
        .unique("finding_id", keep="first")
        .select(
            "finding_id",
            pl.lit(True).alias("_was_open"),
            # A run saved without a figure was that finding's first recorded week.
            pl.col("weeks_open").cast(pl.Int64).fill_null(1).alias("_weeks_before"),
        )
    )
    was_open = pl.col("_was_open").fill_null(False)
    return (
        current.join(before, on="finding_id", how="left", maintain_order="left")
        .with_columns(
            pl.when(was_open).then(pl.lit("open")).otherwise(pl.lit("new")).alias("status"),
            pl.when(was_open)
            .then(pl.col("_weeks_before") + 1)
            .otherwise(pl.lit(1, dtype=pl.Int64))
            .cast(pl.Int64)
            .alias("weeks_open"),
        )
        .drop("_was_open", "_weeks_before")
    )


def compare(
    current: pl.DataFrame,
    previous: pl.DataFrame | None,
    *,
    previous_started_at: str | None,
    seen_finding_ids: Collection[str] | pl.Series | None = None,
) -> tuple[pl.DataFrame, dict[str, Any] | None]:
    """Mark ``current`` (schema.RANKED) new or open and describe what changed since
    ``previous``: the ``Report.history`` dict, or None without a previous run.

    ``seen_finding_ids``: every finding_id this run produced, including the ones a
    suppression or ``--min-savings`` took out of ``current``; such a finding is not
    resolved, only hidden. Defaults to ``current``'s ids.
    """
    marked = mark_status(current, previous)
    if previous is None:
        return marked, None
    seen = pl.concat(
        [
            current["finding_id"].cast(pl.String),
            pl.Series(
                "finding_id",
                [] if seen_finding_ids is None else list(seen_finding_ids),
                dtype=pl.String,
            ),
        ]
    )
    counted = pl.col("counted").fill_null(False)
    new = marked.filter(pl.col("status") == "new")
    resolved = (
        previous.filter(
            counted & ~pl.col("finding_id").is_in(seen.unique().implode()).fill_null(False)
        )
        .unique("finding_id", keep="first")
        .with_columns(pl.col("weeks_open").cast(pl.Int64).fill_null(1))
        .sort(["net_monthly_savings", "finding_id"], descending=[True, False], nulls_last=True)
        .select(schema.RESOLVED_KEYS)
    )
    history = {
        "previous_started_at": previous_started_at,
        "new_findings": new.height,
        "new_monthly_savings": _money_sum(new.filter(counted)),
        "still_open": marked.height - new.height,
        "resolved": resolved.to_dicts(),
        "realized_monthly_savings": _money_sum(resolved),
    }
    return marked, history


def _money_sum(frame: pl.DataFrame) -> float:
    return round(float(frame["net_monthly_savings"].fill_null(0.0).sum()), 2)


def read_run(path: str) -> tuple[str, pl.DataFrame]:
    """(started_at, ranked findings) from a saved history run, a ``--format parquet``
    report or a JSON report, told apart by their content; InputFileError naming the file."""
    data = _read_bytes(path)
    if data[:4] == PARQUET_MAGIC:
        metadata = _parquet_metadata(data, path)
        frame = _read_parquet(data, path)
        if HISTORY_METADATA_KEY in metadata:
            run = _json_metadata(metadata[HISTORY_METADATA_KEY], path)
        elif REPORT_METADATA_KEY in metadata and "section" in frame.columns:
            run = _json_metadata(metadata[REPORT_METADATA_KEY], path).get("run") or {}
            frame = frame.filter(pl.col("section") == "findings").drop("section")
        else:
            raise InputFileError(f"{path}: a Parquet file, but not a costscan run or report")
        return str(run.get("started_at") or ""), _as_ranked(frame, path)
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InputFileError(
            f"{path}: neither a costscan history Parquet file nor a JSON report"
        ) from None
    findings = document.get("findings") if isinstance(document, dict) else None
    run_info = document.get("run") if isinstance(document, dict) else None
    if not isinstance(findings, list) or not isinstance(run_info, dict):
        raise InputFileError(f"{path}: JSON, but not a costscan report (no run and findings)")
    # Evidence is an object and members a list in the JSON report; the comparison needs
    # neither, and the members go back to the JSON text they are in a ranked frame.
    columns = {c: t for c, t in schema.RANKED.items() if c != "evidence"}
    try:
        records = [
            {
                c: json.dumps(record.get(c))
                if c == "members" and record.get(c) is not None
                else record.get(c)
                for c in columns
            }
            for record in findings
            if isinstance(record, dict)
        ]
        frame = pl.DataFrame(records, schema=columns, strict=False)
    except (pl.exceptions.PolarsError, TypeError, ValueError) as exc:
        raise InputFileError(f"{path}: its findings do not fit the ranked schema ({exc})") from None
    if findings and not all(isinstance(r, dict) and "finding_id" in r for r in findings):
        raise InputFileError(f"{path}: not a costscan run: findings without finding_id")
    return str(run_info.get("started_at") or ""), _as_ranked(frame, path)


def diff(old_path: str, new_path: str) -> dict[str, Any]:
    """What changed from the run in ``old_path`` to the one in ``new_path``: the
    ``Report.history`` dict, for ``costscan diff OLD NEW``."""
    old_started_at, old = read_run(old_path)
    _, new = read_run(new_path)
    _, history = compare(new, old, previous_started_at=old_started_at or old_path)
    assert history is not None
    return history
