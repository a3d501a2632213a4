"""Where costscan's files go and how they are written: report and history files share one
naming, and every file is written whole or not at all."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from costscan.scanner.contracts.errors import ReportError

_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _name_part(text: str) -> str:
    # Account ids and providers end up in a file name: no separators, no "..", no spaces.
    return _UNSAFE_IN_NAME.sub("_", text).strip("._") or "unknown"


def utc_stamp(started_at: str) -> str:
    """``2026-11-29T21:45:00Z`` (or any ISO 8601 with an offset) as ``20261129T214500Z``."""
    text = started_at.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"  # fromisoformat accepts "Z" only from Python 3.11
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ReportError(f"run start {started_at!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the run's clock is UTC by contract
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def output_path(
    output_dir: Path, provider: str, accounts: list[str], started_at: str, ext: str
) -> Path:
    """``output_dir/costscan-<provider>-<account or multi>-<UTC timestamp>.<ext>``."""
    account = accounts[0] if len(accounts) == 1 else "multi"
    extension = _name_part(ext.lstrip("."))
    name = f"costscan-{_name_part(provider)}-{_name_part(account)}-{utc_stamp(started_at)}"
    return Path(output_dir) / f"{name}.{extension}"


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename it: never a half-written report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ReportError(f"cannot write {path}: {exc.strerror}") from None
