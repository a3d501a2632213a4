"""Week over week: each run's findings kept as Parquet, and what changed since the last run.

``--history DIR`` (a local folder or an ``s3://bucket/prefix`` URI) holds one file per run,
``costscan-<provider>-<account or multi>-<UTC stamp>.parquet``: the ranked findings
(schema.RANKED, with their ``status`` and ``weeks_open``, plus ``first_seen`` and
``last_seen``) and, in the file's key-value metadata, the run's scope: provider, accounts,
regions, the policies that ran and the collectors that failed. The next run of the same
provider reads the latest earlier file that covered any of its accounts and marks each
finding:

- ``new``: its finding_id was not in the previous run; ``weeks_open`` is 1;
- ``open``: it was; ``weeks_open`` counts the weeks since it was first seen, from the
  timestamps (1 in its first seven days), not the number of runs.

A finding of the previous run that this run does not produce is *resolved* only if this
run could have seen it (``Scope``): its account and region were scanned, its policy ran,
and no collector it depends on failed there. Only resolved counted findings make the
*realized* savings, and the report says which accounts and regions they cover. Any other
absent finding is *not seen this run*: it is kept in this run's file (status
``not_seen``, its first sighting unchanged), so the next run that sees it again finds it
open at its true age, not new. One unseen for 13 weeks is dropped.

Each history is checked before the scan (``HistoryStore.open``): a write is proven (a
probe file, or the fixed ``WRITE_PROBE`` object under an S3 prefix), and every earlier run
a comparison could pick is read; a damaged file names itself and the way out
(``--history-reset``, which starts a new chain: earlier files are never read again).

``costscan diff OLD NEW`` computes the same changes from two saved runs (or two JSON or
Parquet reports).

Writing to S3 is the one write costscan ever makes to a cloud, and only when the user passes
an ``s3://`` ``--history``: see ``history_s3_client``.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import InputFileError, ReportError, UsageError
from costscan.scanner.contracts.files import (
    check_writable_folder,
    name_part,
    output_path,
    parse_utc,
    sweep_leftovers,
    utc_stamp,
    write_atomically,
)

# boto3 builds its clients at run time and no S3 type stubs are installed.
S3Client = Any

HISTORY_METADATA_KEY = "costscan_history"
HISTORY_SCHEMA_VERSION = 1
REPORT_METADATA_KEY = "costscan"  # a ``--format parquet`` report, also accepted by ``diff``
PARQUET_MAGIC = b"PAR1"
_STAMP = re.compile(r"\d{8}T\d{6}Z")
# What a run must carry for its changes to be computed at all.
COMPARED_COLUMNS = ("finding_id", "counted", "net_monthly_savings")
# Kept beside schema.RANKED in a history file: when a finding was first and last seen.
HISTORY_COLUMNS: schema.Schema = {"first_seen": pl.String(), "last_seen": pl.String()}
NOT_SEEN = "not_seen"
# A finding not seen for a quarter (its region no longer scanned, its policy disabled) is
# forgotten: neither resolved nor realized, and no longer carried.
FORGET_AFTER_DAYS = 91
DAYS_PER_WEEK = 7
SECONDS_PER_DAY = 86_400
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
GLOBAL_REGION = "global"
# The one object a run puts under an S3 history prefix besides its own file: a fixed name,
# overwritten each run, proving before the scan that the history can be written.
WRITE_PROBE = ".costscan-write-check"


@dataclass(frozen=True)
class PreviousRun:
    location: str  # the file's path or s3:// URI
    started_at: str  # ISO 8601, UTC
    findings: pl.DataFrame  # schema.RANKED plus HISTORY_COLUMNS
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class _S3Location:
    bucket: str
    prefix: str  # "" or ending in "/"

    def uri(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{name}"


@dataclass(frozen=True)
class Scope:
    """What a run could see: the history claims nothing about the rest.

    ``visible`` is true for a finding of an earlier run that this run would have reported
    had it still been there: its account and region were scanned, its policy ran, and no
    collector it depends on failed there (scanner/pipeline/gaps.py). Only such a finding,
    when absent, is resolved.
    """

    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    policies: tuple[str, ...]
    blind: pl.Expr = field(default_factory=lambda: pl.lit(False))
    gaps: tuple[str, ...] = ()  # the failed collectors, "collector account region"

    def visible(self) -> pl.Expr:
        regions = [*self.regions, GLOBAL_REGION, ""]
        pairs = sorted(f"{a}|{r}" for a in self.accounts for r in regions)
        where = pl.concat_str(
            [pl.col("account_id").fill_null(""), pl.col("region").fill_null("")], separator="|"
        )
        return (
            where.is_in(pairs)
            & pl.col("policy_id").is_in(sorted(self.policies)).fill_null(False)
            & ~self.blind
        )

    def document(self) -> dict[str, Any]:
        return {
            "accounts": list(self.accounts),
            "regions": list(self.regions),
            "gaps": list(self.gaps),
        }


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
    and it is used only to list, read and put the history files under that URI (and the
    one fixed-name probe object, ``WRITE_PROBE``, that proves a put works before the
    scan). The scanner's read-only guard stays on the scan clients
    (providers/aws/session.py); this session never scans and the scan sessions never
    write. The standard credential chain and ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3``
    apply, as botocore reads them.
    """
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.session.Session(profile_name=profile)
        return session.client(
            "s3",
            config=Config(
                connect_timeout=5,
                read_timeout=60,
                retries={"mode": "adaptive", "max_attempts": 5},
            ),
        )
    except BotoCoreError as exc:
        raise UsageError(f"--history: cannot use the AWS credentials for S3 ({exc})") from None


def _file_name(provider: str, accounts: Sequence[str], started_at: str) -> str:
    # The same naming as every report file, so a history folder reads like an output folder.
    return output_path(Path("."), provider, list(accounts), started_at, "parquet").name


def _run_metadata(
    provider: str,
    accounts: Sequence[str],
    started_at: str,
    scope: Scope | None = None,
    *,
    reset: bool = False,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "schema_version": HISTORY_SCHEMA_VERSION,
        "provider": provider,
        "accounts": sorted(accounts),
        "started_at": started_at,
    }
    if scope is not None:
        out["regions"] = sorted(scope.regions)
        out["policies"] = sorted(scope.policies)
        out["gaps"] = list(scope.gaps)
    if reset:
        out["reset"] = True
    return out


def _as_ranked(frame: pl.DataFrame, where: str) -> pl.DataFrame:
    """``frame`` cast to schema.RANKED plus HISTORY_COLUMNS; absent optional columns
    (status, first_seen ...) become null."""
    missing = [c for c in COMPARED_COLUMNS if c not in frame.columns]
    if missing:
        raise InputFileError(f"{where}: not a costscan run: no {', '.join(missing)} column")
    try:
        return frame.select(
            [
                pl.col(c).cast(t, strict=False).alias(c)
                if c in frame.columns
                else pl.lit(None, dtype=t).alias(c)
                for c, t in {**schema.RANKED, **HISTORY_COLUMNS}.items()
            ]
        )
    except pl.exceptions.PolarsError as exc:
        raise InputFileError(
            f"{where}: its findings do not fit the ranked schema ({exc})"
        ) from None


def encode_run(
    frame: pl.DataFrame,
    started_at: str,
    provider: str,
    accounts: Sequence[str],
    scope: Scope | None = None,
    *,
    reset: bool = False,
) -> tuple[str, bytes]:
    """(file name, Parquet bytes) of a run's history entry: ``frame`` is what ``compare``
    returned to keep (this run's findings and the earlier ones not seen this run)."""
    kept = _as_ranked(frame, "findings to save")
    buffer = io.BytesIO()
    metadata = _run_metadata(provider, accounts, started_at, scope, reset=reset)
    kept.write_parquet(buffer, metadata={HISTORY_METADATA_KEY: json.dumps(metadata)})
    return _file_name(provider, accounts, started_at), buffer.getvalue()


def save_run(
    history: str,
    report_findings: pl.DataFrame,
    run_started_at: str,
    provider: str,
    accounts: list[str],
    *,
    profile: str | None = None,
    scope: Scope | None = None,
    reset: bool = False,
) -> str:
    """Keep this run's ranked findings in ``history``; returns the file's path or URI.

    Call it after ``compare``, so the saved ``status`` and ``weeks_open`` carry forward.
    A local file is written to a temporary name and renamed; an S3 object appears whole.
    """
    name, data = encode_run(report_findings, run_started_at, provider, accounts, scope, reset=reset)
    return put(history, name, data, profile=profile)


def put(history: str, name: str, data: bytes, *, profile: str | None = None) -> str:
    """Write one history entry; ReportError naming where, when it cannot."""
    location = _location(history)
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


RESET_HINT = (
    "run once with --history-reset to start the history anew (earlier files are then "
    "never read again), or delete the file"
)


def _corrupt(where: str, why: str) -> InputFileError:
    return InputFileError(f"{where}: {why}")


class HistoryStore:
    """An opened ``--history``: checked, before the scan, for everything a run will do
    with it (list, read every earlier run that could be compared, write), so a bad
    history costs seconds, not a whole scan.

    Earlier runs of the provider are read newest first, down to the newest run that was
    itself a ``--history-reset`` (what is older is never read again). A file that cannot
    be read names itself and the way out. With ``reset`` nothing earlier is read.
    """

    def __init__(
        self, history: str, provider: str, *, profile: str | None = None, reset: bool = False
    ) -> None:
        self.history = history
        self.provider = provider
        self.profile = profile
        self.reset = reset
        self.location = _location(history)
        self._client: S3Client | None = None
        # (started_at, accounts, where, metadata, frame or None), newest first.
        self._runs: list[tuple[str, tuple[str, ...], str, dict[str, Any], pl.DataFrame]] = []

    @property
    def client(self) -> S3Client:
        if self._client is None:
            self._client = history_s3_client(self.profile)
        return self._client

    def open(self, before: str) -> HistoryStore:
        """List and read the earlier runs, and prove a write works; UsageError if not."""
        if isinstance(self.location, Path):
            check_writable_folder(str(self.location), "--history")
            sweep_leftovers(self.location)
        else:
            self._probe_s3_write()
        return self if self.reset else self.read(before)

    def read(self, before: str) -> HistoryStore:
        """Read the earlier runs (started before ``before``) a comparison could pick."""
        current = utc_stamp(before)
        prefix = f"costscan-{name_part(self.provider)}-"
        names = _list_names(self.location, prefix, self._client_or_none())
        stamped = sorted(
            (
                (stamp, name)
                for name in names
                if _STAMP.fullmatch(stamp := name[-len("YYYYMMDDTHHMMSSZ.parquet") : -8])
                and stamp < current
            ),
            reverse=True,
        )
        newest_per_accounts: set[tuple[str, ...]] = set()
        for _stamp, name in stamped:
            where = self._where(name)
            try:
                data = _read_bytes(where, self._client_or_none())
                metadata = _parquet_metadata(data, where).get(HISTORY_METADATA_KEY)
                if metadata is None:
                    continue  # another costscan file in the same folder, not a history run
                run = _json_metadata(metadata, where)
                if run.get("provider") != self.provider:
                    continue
                accounts = tuple(sorted(str(a) for a in run.get("accounts") or ()))
                if accounts not in newest_per_accounts:
                    # The newest run of each account set is the one a comparison can pick:
                    # read it whole now, so a damaged file fails before the scan.
                    newest_per_accounts.add(accounts)
                    frame = _as_ranked(_read_parquet(data, where), where)
                    started = str(run.get("started_at") or "")
                    self._runs.append((started, accounts, where, run, frame))
            except InputFileError as exc:
                raise InputFileError(f"{exc}; {RESET_HINT}") from None
            if run.get("reset"):
                break
        return self

    def previous(self, accounts: Sequence[str]) -> PreviousRun | None:
        """The latest earlier run of the provider that covered any of ``accounts``."""
        wanted = set(accounts)
        for started_at, covered, where, run, frame in self._runs:
            if wanted & set(covered):
                return PreviousRun(
                    where,
                    started_at,
                    frame,
                    covered,
                    tuple(str(r) for r in run.get("regions") or ()),
                )
        return None

    def _client_or_none(self) -> S3Client | None:
        return None if isinstance(self.location, Path) else self.client

    def _where(self, name: str) -> str:
        location = self.location
        return str(location / name) if isinstance(location, Path) else location.uri(name)

    def _probe_s3_write(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        location = self.location
        assert isinstance(location, _S3Location)
        key = f"{location.prefix}{WRITE_PROBE}"
        try:
            self.client.put_object(
                Bucket=location.bucket, Key=key, Body=b"costscan can write its history here\n"
            )
        except (BotoCoreError, ClientError) as exc:
            raise UsageError(
                f"--history {location.uri('')}: cannot write there ({_short(exc)})"
            ) from None


def _short(exc: BaseException) -> str:
    return re.sub(r"\s+", " ", str(exc)).strip()[:300] or type(exc).__name__


def load_previous(
    history: str,
    provider: str,
    accounts: list[str],
    before: str,
    *,
    profile: str | None = None,
) -> PreviousRun | None:
    """The latest run in ``history`` started before ``before`` for the same provider that
    covered any of ``accounts``; None when there is none (the first run, or an empty or
    absent folder)."""
    location = _location(history)
    if isinstance(location, Path) and not location.is_dir():
        return None
    return HistoryStore(history, provider, profile=profile).read(before).previous(accounts)


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
        raise InputFileError(
            f"--history {location.uri('')}: cannot list it ({_short(exc)})"
        ) from None
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
            raise InputFileError(f"{where}: cannot read it ({_short(exc)})") from None
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
        raise _corrupt(where, f"cannot read it as Parquet ({_short(exc)})") from None


def _read_parquet(data: bytes, where: str) -> pl.DataFrame:
    try:
        return pl.read_parquet(io.BytesIO(data))
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise _corrupt(where, f"cannot read it as Parquet ({_short(exc)})") from None


def _json_metadata(text: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise _corrupt(where, "its costscan metadata is not valid JSON") from None
    if not isinstance(value, dict):
        raise _corrupt(where, "its costscan metadata is not an object")
    return value


def _first_seen_of(previous_started_at: str | None) -> pl.Expr:
    """A previous finding's first sighting: its own, or (files from before it was kept)
    the previous run's start less its weeks open."""
    if previous_started_at:
        try:
            start = parse_utc(previous_started_at)
        except ReportError:
            start = None
    else:
        start = None
    kept = pl.col("first_seen").cast(pl.String)
    if start is None:
        return kept
    weeks = (pl.col("weeks_open").cast(pl.Int64).fill_null(1) - 1).clip(lower_bound=0)
    derived = (pl.lit(start) - pl.duration(days=weeks * DAYS_PER_WEEK)).dt.strftime(ISO_FORMAT)
    return kept.fill_null(derived)


def _weeks_since(first_seen: pl.Expr, now: datetime) -> pl.Expr:
    """Weeks open from the timestamps: 1 in the first seven days, 2 in the next seven..."""
    seen = first_seen.str.to_datetime(ISO_FORMAT, time_zone="UTC", strict=False)
    days = (pl.lit(now) - seen).dt.total_seconds() / SECONDS_PER_DAY
    return (days.clip(lower_bound=0) // DAYS_PER_WEEK + 1).fill_null(1).cast(pl.Int64)


def mark_status(
    current: pl.DataFrame,
    previous: pl.DataFrame | None,
    *,
    started_at: str | None = None,
    previous_started_at: str | None = None,
) -> pl.DataFrame:
    """``current`` (schema.RANKED) with ``status``, ``weeks_open`` and ``first_seen`` set
    against ``previous``: ``new`` in its first week, or ``open`` with the weeks since it
    was first seen (counted from the timestamps, so two runs a minute apart do not make
    a second week). Without ``started_at`` (comparing two saved files) weeks count runs."""
    now = _now(started_at)
    stamp = now.strftime(ISO_FORMAT) if now is not None else None
    frame = current.drop([c for c in HISTORY_COLUMNS if c in current.columns])
    if previous is None:
        return frame.with_columns(
            pl.lit("new", dtype=pl.String).alias("status"),
            pl.lit(1, dtype=pl.Int64).alias("weeks_open"),
            pl.lit(stamp, dtype=pl.String).alias("first_seen"),
            pl.lit(stamp, dtype=pl.String).alias("last_seen"),
        )
    prior = previous
    for column, dtype in HISTORY_COLUMNS.items():
        if column not in prior.columns:
            prior = prior.with_columns(pl.lit(None, dtype=dtype).alias(column))
    before = (
        prior.filter(pl.col("finding_id").is_not_null())
        .unique("finding_id", keep="first")
        .select(
            "finding_id",
            pl.lit(True).alias("_was_open"),
            # A run saved without a figure was that finding's first recorded week.
            pl.col("weeks_open").cast(pl.Int64).fill_null(1).alias("_weeks_before"),
            _first_seen_of(previous_started_at).alias("_first_seen"),
        )
    )
    was_open = pl.col("_was_open").fill_null(False)
    if now is None:
        weeks = pl.col("_weeks_before") + 1
        first_seen = pl.col("_first_seen")
    else:
        first_seen = pl.col("_first_seen").fill_null(pl.lit(stamp))
        weeks = _weeks_since(first_seen, now)
    return (
        frame.join(before, on="finding_id", how="left", maintain_order="left")
        .with_columns(
            pl.when(was_open).then(pl.lit("open")).otherwise(pl.lit("new")).alias("status"),
            pl.when(was_open)
            .then(weeks)
            .otherwise(pl.lit(1, dtype=pl.Int64))
            .cast(pl.Int64)
            .alias("weeks_open"),
            pl.when(was_open)
            .then(first_seen)
            .otherwise(pl.lit(stamp, dtype=pl.String))
            .cast(pl.String)
            .alias("first_seen"),
            pl.lit(stamp, dtype=pl.String).alias("last_seen"),
        )
        .drop("_was_open", "_weeks_before", "_first_seen")
    )


def _now(started_at: str | None) -> datetime | None:
    if not started_at:
        return None
    try:
        return parse_utc(started_at)
    except ReportError:
        return None


def compare(
    current: pl.DataFrame,
    previous: pl.DataFrame | None,
    *,
    previous_started_at: str | None,
    seen_finding_ids: Collection[str] | pl.Series | None = None,
    started_at: str | None = None,
    scope: Scope | None = None,
) -> tuple[pl.DataFrame, dict[str, Any] | None]:
    """Mark ``current`` (schema.RANKED) new or open and describe what changed since
    ``previous``: the ``Report.history`` dict, or None without a previous run.

    ``seen_finding_ids``: every finding_id this run produced, including the ones a
    suppression or ``--min-savings`` took out of ``current``; such a finding is not
    resolved, only hidden. Defaults to ``current``'s ids.

    ``scope``: what this run could see. A previous finding outside it (an account or
    region not scanned, a policy that did not run, a collector that failed) is *not seen
    this run*: neither resolved nor realized, it keeps its age and is carried in
    ``carried_forward(...)``. Without a scope every previous finding was visible (``diff``
    of two files).
    """
    marked = mark_status(
        current, previous, started_at=started_at, previous_started_at=previous_started_at
    )
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
    ).unique()
    prior = previous
    if "first_seen" not in prior.columns:
        prior = prior.with_columns(pl.lit(None, dtype=pl.String).alias("first_seen"))
    absent = prior.filter(~pl.col("finding_id").is_in(seen.implode()).fill_null(False)).unique(
        "finding_id", keep="first"
    )
    visible = scope.visible() if scope is not None else pl.lit(True)
    counted = pl.col("counted").fill_null(False)
    new = marked.filter(pl.col("status") == "new")
    gone = absent.filter(visible)
    unseen = absent.filter(~visible)
    resolved = _listed(gone.filter(counted))
    history: dict[str, Any] = {
        "previous_started_at": previous_started_at,
        "new_findings": new.height,
        "new_monthly_savings": _money_sum(new.filter(counted)),
        "still_open": marked.height - new.height,
        "resolved": resolved.to_dicts(),
        "realized_monthly_savings": _money_sum(resolved),
    }
    if scope is not None:
        history["not_seen"] = unseen.height
        history["not_seen_monthly_savings"] = _money_sum(unseen.filter(counted))
        history["scope"] = scope.document()
    return marked, history


def carried_forward(
    marked: pl.DataFrame,
    previous: pl.DataFrame | None,
    *,
    seen_finding_ids: Collection[str] | pl.Series | None,
    scope: Scope,
    started_at: str,
    previous_started_at: str | None,
) -> pl.DataFrame:
    """What the history keeps for this run: ``marked`` (this run's findings, from
    ``compare``) and every earlier finding this run could not see, with its status
    ``not_seen`` and its first sighting, so a later run that sees it again finds it open
    at its true age. A finding unseen for ``FORGET_AFTER_DAYS`` is dropped."""
    own = _as_ranked(marked, "findings to save")
    if previous is None:
        return own
    seen = set(own["finding_id"].drop_nulls().to_list())
    seen.update(str(i) for i in (seen_finding_ids if seen_finding_ids is not None else ()))
    now = parse_utc(started_at)
    prior = _as_ranked(previous, "the previous run")
    unseen = (
        prior.filter(~pl.col("finding_id").is_in(sorted(seen)).fill_null(False))
        .unique("finding_id", keep="first")
        .filter(~scope.visible())
        .with_columns(
            _first_seen_of(previous_started_at).alias("first_seen"),
            pl.col("last_seen").fill_null(pl.lit(previous_started_at)),
        )
    )
    last = pl.col("last_seen").str.to_datetime(ISO_FORMAT, time_zone="UTC", strict=False)
    recent = (pl.lit(now) - last).dt.total_seconds() <= FORGET_AFTER_DAYS * SECONDS_PER_DAY
    unseen = unseen.filter(recent.fill_null(True)).with_columns(
        pl.lit(NOT_SEEN).alias("status"),
        _weeks_since(pl.col("first_seen"), now).alias("weeks_open"),
    )
    return pl.concat([own, unseen], how="vertical")


def _listed(frame: pl.DataFrame) -> pl.DataFrame:
    return (
        frame.with_columns(pl.col("weeks_open").cast(pl.Int64).fill_null(1))
        .sort(["net_monthly_savings", "finding_id"], descending=[True, False], nulls_last=True)
        .select(schema.RESOLVED_KEYS)
    )


def _money_sum(frame: pl.DataFrame) -> float:
    return round(float(frame["net_monthly_savings"].fill_null(0.0).sum()), 2)


def _parse_iso(column: str, dtype: pl.DataType) -> pl.Expr:
    """The JSON report's ISO text of a date or time column, back to its ranked type."""
    text = pl.col(column)
    if dtype == pl.Date:
        return text.str.slice(0, 10).str.to_date("%Y-%m-%d").alias(column)
    return text.str.to_datetime(time_zone="UTC").cast(dtype).alias(column)


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
        # Dates and times are ISO text in JSON: read them as text, then parse them.
        as_text = {c: (pl.String if t.is_temporal() else t) for c, t in columns.items()}
        frame = pl.DataFrame(records, schema=as_text, strict=False).with_columns(
            _parse_iso(c, t) for c, t in columns.items() if t.is_temporal()
        )
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
    # A history file keeps what its run could not see (status not_seen): not a finding of
    # that run, and not resolved either.
    unseen = pl.col("status").fill_null("") == NOT_SEEN
    _, history = compare(
        new.filter(~unseen),
        old,
        previous_started_at=old_started_at or old_path,
        seen_finding_ids=new.filter(unseen)["finding_id"],
    )
    assert history is not None
    return history
