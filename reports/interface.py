"""What every renderer is: ranked findings plus run metadata in, one file's bytes out.

Renderers compute nothing new about money: every figure comes from ``reports.ranking``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from costscan.reports.series import CpuSeries
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
    # Where the whole report can be read (the CI run holding the HTML artifact); the
    # Markdown links it. None outside CI.
    report_url: str | None = None


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
    # Hourly CPU of the compute resources the findings name (reports/series.py), by
    # resource id: the HTML draws it beside each compute finding.
    utilization: dict[str, CpuSeries] = field(default_factory=dict)
    # Findings priced in another currency than the run's (billing in several currencies
    # without --fx rates: ranked apart, never added up), by finding id.
    currencies: dict[str, str] = field(default_factory=dict)

    def currency_of(self, finding_id: str | None) -> str:
        """The currency a finding's money is in."""
        return self.currencies.get(finding_id or "", self.run.currency)


class Renderer(abc.ABC):
    extension: str

    @abc.abstractmethod
    def render(self, report: Report) -> bytes:
        """The file's whole content."""

    def render_files(self, report: Report) -> list[tuple[str, bytes]]:
        """Every file this format writes, as (extension, content): one, unless a format
        splits its rows (the CSV writes bottlenecks and investments to a file of their own)."""
        return [(self.extension, self.render(report))]
