"""Which export a file is, from its column names alone (no rows are read).

``--billing-format`` overrides the guess; either way the chosen format's mandatory columns
must be present, and the error names the ones that are not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from costscan.providers.exports import azure, cur, focus, gcp, oci
from costscan.providers.exports._common import Mapped, RawSchema

FORMATS: tuple[str, ...] = ("focus", "cur", "cur2", "gcp", "azure", "oci")


def detect(columns: RawSchema) -> str | None:
    """The format whose signature columns the file has; None when nothing fits."""
    names = set(columns)
    if names >= focus.SIGNATURE or ({"BilledCost", "EffectiveCost"} <= names):
        return "focus"
    # OCI's cost report shares CUR's "lineItem/" prefix: told apart by its own columns.
    if names & oci.SIGNATURE_ANY:
        return "oci"
    if any(c.startswith("lineItem/") for c in names):
        return "cur"
    if any(c.startswith("line_item_") for c in names):
        return "cur2"
    if gcp.field_names(columns) >= gcp.SIGNATURE:
        return "gcp"
    if azure.looks_like(columns):
        return "azure"
    return None


def refused(columns: RawSchema) -> str | None:
    """Why a file that looks like an export cannot be read as one (None when it can)."""
    return oci.refused(columns)


def missing(fmt: str, columns: RawSchema) -> list[str]:
    """The mandatory columns of ``fmt`` that the file lacks."""
    if fmt == "focus":
        return focus.missing(columns)
    if fmt in ("cur", "cur2"):
        return cur.missing(columns, fmt)
    if fmt == "gcp":
        return gcp.missing(columns)
    if fmt == "azure":
        return azure.missing(columns)
    if fmt == "oci":
        return oci.missing(columns)
    raise ValueError(f"unknown billing format {fmt!r}")  # pragma: no cover - checked earlier


def to_focus(
    fmt: str,
    columns: RawSchema,
    textual: bool,
    layouts: Mapping[str, Sequence[str]] | None = None,
) -> Mapped:
    """The expressions that turn a file of ``fmt`` into FOCUS columns; ``layouts`` names,
    per raw text column, the timestamp layouts it holds (all are tried where absent)."""
    if fmt == "focus":
        return focus.to_focus(columns, textual, layouts)
    if fmt in ("cur", "cur2"):
        return cur.to_focus(columns, fmt, textual, layouts)
    if fmt == "gcp":
        return gcp.to_focus(columns, textual, layouts)
    if fmt == "azure":
        return azure.to_focus(columns, textual, layouts)
    if fmt == "oci":
        return oci.to_focus(columns, textual, layouts)
    raise ValueError(f"unknown billing format {fmt!r}")  # pragma: no cover - checked earlier
