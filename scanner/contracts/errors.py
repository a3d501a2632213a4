"""The error types every part raises; the CLI turns each into one clear line.

``UsageError`` and its subclasses mean the user's input is wrong (exit 2). A collector that
fails mid-scan does not raise: it leaves a ``CollectorError`` in the inventory (exit 3).
"""

from __future__ import annotations

from dataclasses import dataclass


class CostscanError(Exception):
    """Base of every error costscan raises on purpose."""


class UsageError(CostscanError):
    """Bad flag, file, key or value given by the user: exit code 2, one line."""


class ConfigError(UsageError):
    """costscan.toml is missing, unreadable or holds an unknown key or bad value."""


class InputFileError(UsageError):
    """An input file (billing export, findings parquet) is missing or unreadable."""


class ProviderError(CostscanError):
    """A provider could not run at all (no credentials, no reachable endpoint)."""


class ReadOnlyViolation(ProviderError):
    """Something tried to call a cloud API that is not a read."""


class ReportError(CostscanError):
    """A renderer could not write its file."""


class SchemaError(CostscanError):
    """A frame does not fit its schema: a bug in the code that produced it."""


@dataclass(frozen=True)
class CollectorError:
    """One collector that failed; the scan goes on and the report lists it.

    ``collector`` names what it measures (``cloudwatch.instance_utilization``), not the API
    it calls. ``frames`` and ``resource_types`` say what its failure left incomplete, and
    ``resources`` which resources (empty: every one of those types in the account and
    region; region ``global``: in every region). The pipeline fills ``affects``: what the
    report withheld or marked because of it, in words.
    """

    collector: str
    account_id: str
    region: str
    message: str
    measures: str = ""
    frames: tuple[str, ...] = ()
    resource_types: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    affects: str = ""
