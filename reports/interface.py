"""What every renderer is: ranked findings plus run metadata in, one file's bytes out.

Renderers compute nothing new about money: every figure comes from ``reports.ranking``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import CollectorError


@dataclass(frozen=True)
class RunInfo:
    provider: str
    accounts: list[str]
    regions: list[str]
    started_at: str  # ISO 8601, UTC
    lookback_days: int
    currency: str = "USD"
    costscan_version: str = "0"
    hidden_below_min_savings: int = 0
    min_savings: float = 0.0


@dataclass(frozen=True)
class Report:
    """Everything a renderer may show."""

    run: RunInfo
    findings: pl.DataFrame  # schema.RANKED, ranked order, bottlenecks excluded
    bottlenecks: pl.DataFrame  # schema.RANKED
    summary: dict[str, Any]
    errors: list[CollectorError] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    # schema.SUPPRESSED: findings a [[suppress]] entry took out of the totals.
    suppressed: pl.DataFrame = field(default_factory=lambda: schema.empty(schema.SUPPRESSED))
    # With --history, what changed since the previous run:
    # {"previous_started_at": str, "new_findings": int, "new_monthly_savings": float,
    #  "still_open": int, "resolved": [{"finding_id", "policy_id", "family", "resource_id",
    #  "resource_name", "title", "net_monthly_savings", "weeks_open"}],
    #  "realized_monthly_savings": float}
    history: dict[str, Any] | None = None
    # Plain-language warnings for the reader (e.g. a suppression that expired).
    warnings: list[str] = field(default_factory=list)


class Renderer(abc.ABC):
    extension: str

    @abc.abstractmethod
    def render(self, report: Report) -> bytes:
        """The file's whole content."""
