"""Where costscan's files go and how they are written: report and history files share one
naming, and every file is written whole or not at all.

- A file is written to a hidden temporary name beside its place (``.<name>.costscan-tmp-*``)
  and renamed into place; the temporary file is removed on every exit path Python sees
  (an error, Ctrl-C, the CLI's SIGTERM handler). Only a SIGKILL or a power cut can leave one,
  and ``sweep_leftovers`` removes those the next run finds (older than an hour, so a run
  writing beside it at the same moment keeps its own).
- The file gets the mode the user's umask gives a new file (``0o666 & ~umask``), as ``open``
  would, not ``mkstemp``'s private 0600.
- ``StagedFiles`` writes several files as one: every file is staged first, then all are
  renamed, and a failure before the last rename removes what was already renamed. The run's
  reports and its history entry go through it, so a run is recorded in both or neither.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from costscan.scanner.contracts.errors import ReportError, UsageError

_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]+")
TEMP_MARK = ".costscan-tmp-"
# A leftover temporary file older than this belongs to no running write.
LEFTOVER_AGE_SECONDS = 3600.0
_UMASK_LOCK = threading.Lock()


def name_part(text: str) -> str:
    # Account ids and providers end up in a file name: no separators, no "..", no spaces.
    return _UNSAFE_IN_NAME.sub("_", text).strip("._") or "unknown"


def utc_stamp(started_at: str) -> str:
    """``2026-11-29T21:45:00Z`` (or any ISO 8601 with an offset) as ``20261129T214500Z``."""
    return parse_utc(started_at).strftime("%Y%m%dT%H%M%SZ")


def parse_utc(started_at: str) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime; a naive one is taken as UTC."""
    text = started_at.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"  # fromisoformat accepts "Z" only from Python 3.11
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ReportError(f"run start {started_at!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the run's clock is UTC by contract
    return moment.astimezone(UTC)


def output_path(
    output_dir: Path, provider: str, accounts: list[str], started_at: str, ext: str
) -> Path:
    """``output_dir/costscan-<provider>-<account or multi>-<UTC timestamp>.<ext>``."""
    account = accounts[0] if len(accounts) == 1 else "multi"
    extension = name_part(ext.lstrip("."))
    name = f"costscan-{name_part(provider)}-{name_part(account)}-{utc_stamp(started_at)}"
    return Path(output_dir) / f"{name}.{extension}"


def new_file_mode() -> int:
    """The mode ``open()`` gives a new file under the process's umask."""
    with _UMASK_LOCK:  # reading the umask means setting it; no other thread sees the gap
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


def _stage(path: Path, data: bytes) -> Path:
    """``data`` in a temporary file beside ``path``, synced, with the umask's mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{TEMP_MARK}", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), new_file_mode())
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename it: never a half-written file."""
    with StagedFiles() as staged:
        staged.add(path, data)
        staged.commit()


class StagedFiles:
    """Files written together: ``add`` stages each, ``commit`` renames them all into place.

    Leaving the ``with`` block without a commit (an exception, Ctrl-C) removes every staged
    file; ``rollback`` after a commit removes the renamed ones too, for when something
    that must go with them (the history entry) then fails.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []
        self._placed: list[Path] = []

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._discard_staged()

    def add(self, path: Path, data: bytes) -> None:
        try:
            self._staged.append((_stage(path, data), path))
        except OSError as exc:
            raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None

    def commit(self) -> list[Path]:
        """Rename every staged file into place; on a failure, none stays in place."""
        try:
            while self._staged:
                tmp, path = self._staged[0]
                os.replace(tmp, path)
                self._staged.pop(0)
                self._placed.append(path)
        except BaseException as exc:
            self.rollback()
            if isinstance(exc, OSError):
                raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
            raise
        return list(self._placed)

    def rollback(self) -> None:
        """Remove what was committed and what is still staged."""
        for path in self._placed:
            with contextlib.suppress(OSError):
                path.unlink()
        self._placed.clear()
        self._discard_staged()

    def _discard_staged(self) -> None:
        for tmp, _path in self._staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self._staged.clear()


def sweep_leftovers(folder: Path, *, older_than: float = LEFTOVER_AGE_SECONDS) -> list[Path]:
    """Remove temporary files a killed run left in ``folder``; returns what was removed."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    cutoff = time.time() - older_than
    for candidate in folder.glob(f".*{TEMP_MARK}*"):
        try:
            if candidate.is_file() and candidate.stat().st_mtime < cutoff:
                candidate.unlink()
                removed.append(candidate)
        except OSError:
            continue  # someone else's file, or gone already: not ours to insist on
    return removed


def check_writable_folder(folder: str, flag: str) -> None:
    """UsageError (naming ``flag``) unless files can be written in ``folder``.

    Proven by writing and removing a probe file; folders made for the probe are removed
    again, so a run that then stops on other bad input leaves nothing behind.
    """
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {folder}: exists and is not a folder")
    made: list[Path] = []
    try:
        missing = [p for p in (path, *path.parents) if not p.exists()]
        for parent in reversed(missing):
            parent.mkdir()
            made.append(parent)
        fd, probe = tempfile.mkstemp(prefix=f".probe{TEMP_MARK}", dir=path)
        os.close(fd)
        Path(probe).unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"{flag} {folder}: cannot write there ({reason})") from None
    finally:
        for made_dir in reversed(made):
            with contextlib.suppress(OSError):
                made_dir.rmdir()
