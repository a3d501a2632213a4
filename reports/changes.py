"""``costscan diff OLD NEW`` as text: what changed between two runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from costscan.reports.markdown import count_of, format_money


def format_diff(d: Mapping[str, Any]) -> str:
    """The changes as plain text lines: new, resolved with realized savings, still open."""
    since = d.get("previous_started_at") or "the previous run"
    resolved = list(d.get("resolved") or [])
    lines = [
        f"Changes since {since}:",
        f"New: {count_of(int(d.get('new_findings') or 0), 'finding')}, "
        f"+{format_money(d.get('new_monthly_savings') or 0.0)}/month",
        f"Resolved: {count_of(len(resolved), 'finding')}, "
        f"{format_money(d.get('realized_monthly_savings') or 0.0)}/month realized",
    ]
    for item in resolved:
        resource = item.get("resource_name") or item.get("resource_id") or "-"
        weeks = int(item.get("weeks_open") or 1)
        lines.append(
            f"  - {item.get('policy_id')} on {resource}: {item.get('title')}, "
            f"{format_money(item.get('net_monthly_savings'))}/month, "
            f"open {count_of(weeks, 'week')}"
        )
    lines.append(f"Still open: {count_of(int(d.get('still_open') or 0), 'finding')}")
    return "\n".join(lines) + "\n"
