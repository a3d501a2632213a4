"""Folders as the clouds deliver them: which files of a billing folder count.

AWS rewrites a month's report several times and keeps every version unless told not to,
so a folder copied from S3 holds the same month more than once. Each delivery names what
it is in a manifest, and only the current version's files count:

- Legacy CUR (https://docs.aws.amazon.com/cur/latest/userguide/understanding-report-versions.html):
  ``<report>/<yyyymmdd-yyyymmdd>/<assemblyId>/<report>-<n>.csv.gz`` when new versions are
  kept, ``<report>/<yyyymmdd-yyyymmdd>/<report>-<n>.csv.gz`` when they are overwritten.
  ``<report>-Manifest.json`` sits in the period folder (the current version) and, when
  versions are kept, in each assembly folder too; its ``reportKeys`` are the S3 keys of
  that version's files and ``assemblyId`` names it.
- CUR 2.0 and FOCUS data exports
  (https://docs.aws.amazon.com/cur/latest/userguide/dataexports-export-delivery.html):
  ``<export>/data/BILLING_PERIOD=YYYY-MM/[<executionId>/]<export>-<n>.csv.gz|.snappy.parquet``
  with ``<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json``, whose
  ``dataFiles`` are the S3 URIs of the current files
  (https://docs.aws.amazon.com/cur/latest/userguide/dataexports-manifest.html).

A listed key is matched to a local file by its trailing path: the file's path from the
period folder (legacy) or from the export folder (data exports) must end the key. A
period with data files and no manifest reads all of them when they sit in one version's
folder, and only the newest version (by the files' modification times, which ``aws s3
sync`` sets from S3) when they sit in several, with a warning. Files outside any period
folder are read as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from costscan.scanner.contracts.billing import SkippedFile
from costscan.scanner.contracts.errors import InputFileError

_LEGACY_PERIOD = re.compile(r"^\d{8}-\d{8}$")
_PARTITION = re.compile(r"^BILLING_PERIOD=.+$")
# AWS's Athena integration writes a status table beside the report; it is not billing data.
_STATUS_FOLDER = "cost_and_usage_data_status"


def is_manifest(path: Path) -> bool:
    """A delivery manifest (``<report>-Manifest.json``), never a billing data file."""
    return path.name.lower().endswith("manifest.json")


@dataclass(frozen=True)
class _Period:
    """One month of one report: where its versions live and what its paths start from."""

    kind: str  # "cur" (legacy) | "export" (data exports)
    folder: Path  # the period folder (legacy) or the data partition (data exports)
    base: Path  # listed keys end with a file's path from here

    def version_of(self, path: Path) -> str:
        """The version folder a data file sits in ("" when directly in the period)."""
        relative = path.relative_to(self.folder)
        return relative.parts[0] if len(relative.parts) > 1 else ""


def period_of(path: Path) -> _Period | None:
    """The report month ``path`` (a data file or a manifest) belongs to, if it sits in a
    delivery layout."""
    for ancestor in path.parents:
        if _LEGACY_PERIOD.match(ancestor.name):
            return _Period("cur", ancestor, ancestor)
        if _PARTITION.match(ancestor.name) and ancestor.parent.name in ("data", "metadata"):
            export = ancestor.parent.parent
            return _Period("export", export / "data" / ancestor.name, export)
    return None


@dataclass
class Selection:
    """The data files to read, what was left out and why, and what the reader decided."""

    files: list[Path]
    skipped: list[SkippedFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Manifest:
    path: Path
    period: _Period
    keys: list[str]
    version: str  # assemblyId or executionId, when the manifest names one

    @property
    def top_level(self) -> bool:
        """Legacy: the manifest of the period folder itself names the current version."""
        return self.period.kind != "cur" or self.path.parent == self.period.folder


def _read_manifest(path: Path) -> _Manifest | None:
    period = period_of(path)
    if period is None:
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputFileError(f"{path}: not a readable manifest: {exc}") from exc
    if not isinstance(document, dict):
        raise InputFileError(f"{path}: not a readable manifest: not a JSON object")
    if "reportKeys" in document:
        keys, version = document["reportKeys"], document.get("assemblyId")
    elif "dataFiles" in document:
        keys, version = document["dataFiles"], document.get("executionId")
    else:
        return None  # another tool's manifest (Redshift, QuickSight): nothing to select by
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise InputFileError(f"{path}: manifest file list is not a list of file names")
    return _Manifest(path, period, keys, str(version or ""))


def _key_parts(key: str) -> tuple[str, ...]:
    text = re.sub(r"^s3://[^/]+/", "", key.strip())
    return tuple(part for part in text.split("/") if part)


def _matches(key: tuple[str, ...], path: Path, base: Path) -> bool:
    relative = path.relative_to(base).parts
    return len(key) >= len(relative) and key[-len(relative) :] == relative


def select(files: Iterable[Path], manifests: Iterable[Path], *, look_near: bool) -> Selection:
    """Of ``files`` (data files found under a folder or by a glob), those each report
    month's current version holds. ``manifests`` are the manifest files found with them;
    ``look_near`` looks for more in each month's own folders (for a glob, which names data
    files only; a folder given by the user holds the manifests that count, so pointing at
    one version's folder reads that version)."""
    data = list(dict.fromkeys(files))
    by_period: dict[_Period, list[Path]] = {}
    selection = Selection(files=[])
    for path in data:
        if _STATUS_FOLDER in path.parts:
            selection.skipped.append(
                SkippedFile(str(path), "AWS's Athena status table, not billing data")
            )
            continue
        period = period_of(path)
        if period is None:
            selection.files.append(path)
        else:
            by_period.setdefault(period, []).append(path)
    found = set(manifests)
    if look_near:
        for period in by_period:
            found.update(_manifests_near(period))
    parsed = [m for m in (_read_manifest(p) for p in sorted(found)) if m is not None]
    for period, paths in by_period.items():
        own = [m for m in parsed if m.period == period]
        if own:
            _select_by_manifest(period, paths, own, selection)
        else:
            _select_newest_version(period, paths, selection)
    chosen = set(selection.files)
    selection.files = [p for p in data if p in chosen]
    return selection


def _manifests_near(period: _Period) -> list[Path]:
    if period.kind == "cur":
        places = [period.folder, *[p for p in period.folder.iterdir() if p.is_dir()]]
        folders = [p for p in places if p.is_dir()]
    else:
        metadata = period.base / "metadata" / period.folder.name
        folders = [metadata, *metadata.rglob("*")] if metadata.is_dir() else []
    return [
        child
        for folder in folders
        if folder.is_dir()
        for child in folder.iterdir()
        if child.is_file() and is_manifest(child)
    ]


def _newest(paths: list[Path]) -> float:
    return max(p.stat().st_mtime for p in paths)


def _select_by_manifest(
    period: _Period, paths: list[Path], manifests: list[_Manifest], selection: Selection
) -> None:
    top = [m for m in manifests if m.top_level]
    if top:
        # Several period-level manifests (data exports keep one per partition): the newest.
        current = max(top, key=lambda m: m.path.stat().st_mtime)
    else:
        # Only per-version manifests: the version whose files are newest is current.
        def newest_files(m: _Manifest) -> float:
            mine = [p for p in paths if p.is_relative_to(m.path.parent)]
            return _newest(mine) if mine else m.path.stat().st_mtime

        current = max(manifests, key=newest_files)
        if len(manifests) > 1:
            selection.warnings.append(
                f"{period.folder}: {len(manifests)} versions of the month and no manifest "
                f"naming the current one; read the newest, {current.path.parent.name}"
            )
    listed = [_key_parts(k) for k in current.keys]
    billing_keys = [k for k in listed if k and not is_manifest(Path(k[-1]))]
    for key in billing_keys:
        matched = [p for p in paths if _matches(key, p, period.base)]
        if not matched:
            raise InputFileError(
                f"{current.path}: lists {'/'.join(key)}, which is not in the folder "
                "(a partial download?)"
            )
        selection.files.extend(matched)
    kept = set(selection.files)
    version = f" ({current.version})" if current.version else ""
    for path in paths:
        if path not in kept:
            selection.skipped.append(
                SkippedFile(
                    str(path),
                    f"not in the current manifest {current.path}{version}: an earlier "
                    "version of the month",
                )
            )


def _select_newest_version(period: _Period, paths: list[Path], selection: Selection) -> None:
    versions: dict[str, list[Path]] = {}
    for path in paths:
        versions.setdefault(period.version_of(path), []).append(path)
    if len(versions) == 1:
        selection.files.extend(paths)
        return
    newest = max(versions, key=lambda v: _newest(versions[v]))
    selection.warnings.append(
        f"{period.folder}: {len(versions)} versions of the month and no manifest; read the "
        f"newest ({newest or 'the files directly in the folder'}, by file time) and left "
        f"out {sum(len(v) for k, v in versions.items() if k != newest)} older files"
    )
    selection.files.extend(versions[newest])
    for version, older in versions.items():
        if version != newest:
            selection.skipped.extend(
                SkippedFile(str(p), f"an older version of the month ({version or 'top level'})")
                for p in older
            )
