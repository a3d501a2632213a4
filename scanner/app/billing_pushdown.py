"""``--billing athena://...`` / ``bigquery://...`` / ``duckdb://...`` in a run: the flags
that go with a push-down source, checked before any cloud call, and the rollup built
where the export lives (scanner/pipeline/billing_sql.py) in place of reading files.

- ``--billing-period YYYY-MM[:YYYY-MM]``: the billing periods (months, both ends included)
  the queries read; by default the months the run's lookback window overlaps, so a weekly
  run reads this month and, early in a month, the last one.
- ``--max-scan-gb N``: the most the queries may scan together (GB, 10^9 bytes); a larger
  estimate is refused before any query runs.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.billing import BillingRollup
from costscan.scanner.contracts.errors import UsageError
from costscan.scanner.contracts.inventory import Inventory

if TYPE_CHECKING:
    from costscan.scanner.app.engine import Settings

log = logging.getLogger("costscan")

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# Billing exports begin in the 2000s; a year outside this range is a typo.
_YEARS = range(2000, 2100)


def pushdown_uri(paths: Sequence[str]) -> str | None:
    """The one push-down URI among the --billing values, or None when they are files."""
    from costscan.providers.exports.pushdown import scheme_of

    uris = [path for path in paths if scheme_of(path) is not None]
    if not uris:
        return None
    if len(paths) > 1:
        raise UsageError(
            f"--billing {uris[0]}: a push-down source is queried alone; give one URI, or files"
        )
    return uris[0]


def _month(text: str, flag: str) -> date:
    found = _MONTH.match(text.strip())
    if found is None or int(found.group(1)) not in _YEARS or not 1 <= int(found.group(2)) <= 12:
        raise UsageError(f"{flag} {text!r}: give YYYY-MM or YYYY-MM:YYYY-MM, e.g. 2024-09:2024-10")
    return date(int(found.group(1)), int(found.group(2)), 1)


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def parse_period(text: str, flag: str = "--billing-period") -> tuple[date, date]:
    """``YYYY-MM`` or ``YYYY-MM:YYYY-MM`` (both months included) as [start, end) dates."""
    first, sep, last = text.partition(":")
    start = _month(first, flag)
    final = _month(last, flag) if sep else start
    if final < start:
        raise UsageError(f"{flag} {text!r}: the last month comes before the first")
    return start, _next_month(final)


def default_period(now: datetime, lookback_days: int) -> tuple[date, date]:
    """The months the lookback window [now - lookback_days, now] overlaps."""
    first = (now - timedelta(days=lookback_days)).date().replace(day=1)
    return first, _next_month(now.date().replace(day=1))


def check(settings: Settings) -> None:
    """The push-down flags, and that they go with a push-down URI (one line each)."""
    uri = pushdown_uri(settings.billing_paths)
    if settings.billing_period is not None:
        parse_period(settings.billing_period)
    if settings.max_scan_gb is not None and not (
        math.isfinite(settings.max_scan_gb) and settings.max_scan_gb > 0
    ):
        raise UsageError(
            f"--max-scan-gb must be a number of GB above 0, got {settings.max_scan_gb}"
        )
    if uri is None:
        for flag, value in (
            ("--billing-period", settings.billing_period),
            ("--max-scan-gb", settings.max_scan_gb),
        ):
            if value is not None:
                raise UsageError(
                    f"{flag} applies to a push-down --billing (athena://, bigquery:// or "
                    "duckdb://); billing files are read whole"
                )
    elif settings.billing_format is not None:
        raise UsageError(
            f"--billing-format applies to billing files; {uri} is recognised by its columns"
        )


def rollup(
    uri: str, settings: Settings, rates: Mapping[str, float], now: datetime
) -> tuple[BillingRollup, dict[str, Any]]:
    """The rollup of the table ``uri`` names, and what its queries scanned and cost."""
    from costscan.providers.exports.pushdown import open_engine
    from costscan.scanner.pipeline import billing_sql

    start, end = (
        parse_period(settings.billing_period)
        if settings.billing_period is not None
        else default_period(now, settings.lookback_days)
    )
    budget = None if settings.max_scan_gb is None else int(settings.max_scan_gb * billing_sql.GB)
    engine = open_engine(uri)
    built, stats = billing_sql.rollup_from_engine(
        engine,
        start,
        end,
        rates,
        budget,
        # Said on stderr before the first query runs, as the local path's size note is.
        announce=lambda line: log.warning("costscan: %s", line),
    )
    return built, stats.as_dict()


def attach(inventory: Inventory, built: BillingRollup) -> None:
    """Hold ``built`` as the inventory's billing rollup. The line items stay in the
    engine: the ``billing`` scan is an empty frame that says billing data is present (no
    policy reads the scan; each reads the rollup, Inventory.billing_rollup)."""
    inventory.add_scan("billing", schema.empty_lazy(schema.BILLING))
    inventory.use_billing_rollup(built)
    if not inventory.accounts:
        inventory.accounts = built.accounts()
    if not inventory.regions:
        inventory.regions = built.regions()
