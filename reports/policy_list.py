"""``costscan policies``: every registered policy as plain text a terminal shows whole, or
as JSON.

A policy's summary is the first paragraph of its docstring, whole (not its first line,
which stops mid-sentence), with the reStructuredText markup taken out: a parameter
written ````within_days```` reads ``within_days (30)``, with its default.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from costscan.scanner.contracts.registry import Policy
from costscan.scanner.contracts.schema import FAMILIES

_LITERAL = re.compile(r"``([^`]+)``|`([^`]+)`")
_ROLE = re.compile(r":[a-z]+:`([^`]+)`")
# The widest layout keeps the summary in its own column; narrower, it goes under the id.
MIN_COLUMN_SUMMARY = 40
INDENT = 4


@dataclass(frozen=True)
class PolicyRow:
    id: str
    family: str
    action: str
    category: str
    title: str
    summary: str
    formula: str | None
    effort_hours: float
    risk: str
    performance: str
    needs: tuple[str, ...]
    parameters: Mapping[str, Any]

    def document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "family": self.family,
            "action": self.action,
            "category": self.category,
            "title": self.title,
            "summary": self.summary,
            "formula": self.formula,
            "effort_hours": self.effort_hours,
            "risk": self.risk,
            "performance": self.performance,
            "needs": list(self.needs),
            "parameters": {k: _json_value(v) for k, v in self.parameters.items()},
        }


def _json_value(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_value(v) for v in value]
    return str(value)


def plain_text(text: str, parameters: Mapping[str, Any] | None = None) -> str:
    """reStructuredText as plain words: literals unquoted, a parameter with its default."""
    known = parameters or {}

    def literal(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or ""
        if name in known and not isinstance(known[name], (Mapping, list, tuple, set)):
            return f"{name} ({known[name]})"
        return name

    return " ".join(_LITERAL.sub(literal, _ROLE.sub(r"\1", text)).split())


def first_paragraph(doc: str) -> str:
    return doc.strip().split("\n\n", 1)[0] if doc.strip() else ""


def policy_rows(policies: Iterable[Policy], family: str | None = None) -> list[PolicyRow]:
    """The policies (of one family when given), by family in report order, then by id."""
    order = {name: index for index, name in enumerate(FAMILIES)}
    rows = []
    for p in policies:
        if family is not None and p.family != family:
            continue
        parameters = p.defaults()
        rows.append(
            PolicyRow(
                id=p.id,
                family=str(p.family),
                action=str(p.action),
                category=str(p.category),
                title=p.title,
                summary=plain_text(first_paragraph(p.doc) or p.title, parameters),
                formula=p.formula,
                effort_hours=float(p.effort_hours),
                risk=str(p.risk),
                performance=str(p.performance),
                needs=tuple(p.needs),
                parameters=parameters,
            )
        )
    return sorted(rows, key=lambda r: (order.get(r.family, len(order)), r.id))


def policies_json(rows: Sequence[PolicyRow]) -> str:
    return json.dumps([r.document() for r in rows], indent=2, ensure_ascii=False) + "\n"


def policies_text(rows: Sequence[PolicyRow], width: int) -> str:
    """A header, then one entry per policy, every line at most ``width`` characters.

    Wide enough, the summary has a column of its own and wraps inside it; narrower, it
    wraps under the policy's id, indented.
    """
    width = max(width, 40)
    if not rows:
        return "No policy matches.\n"
    id_width = max(len("POLICY"), *(len(r.id) for r in rows))
    family_width = max(len("FAMILY"), *(len(r.family) for r in rows))
    action_width = max(len("ACTION"), *(len(r.action) for r in rows))
    lead = id_width + family_width + action_width + 6
    count = f"{len(rows)} {'policy' if len(rows) == 1 else 'policies'}"
    lines = [
        *textwrap.wrap(
            f"{count}; `costscan policies show ID` prints one's formula and parameters.", width
        ),
        "",
    ]
    columns = width - lead >= MIN_COLUMN_SUMMARY

    def head(policy_id: str, family: str, action: str) -> str:
        return f"{policy_id:<{id_width}}  {family:<{family_width}}  {action:<{action_width}}"

    if columns:
        lines.append(head("POLICY", "FAMILY", "ACTION") + "  WHAT IT FINDS")
        lines.append("-" * min(width, lead + max(len(r.summary) for r in rows)))
        for r in rows:
            wrapped = textwrap.wrap(r.summary, width - lead, break_on_hyphens=False) or [""]
            lines.append(head(r.id, r.family, r.action) + "  " + wrapped[0])
            lines.extend(" " * lead + rest for rest in wrapped[1:])
    else:
        lines.append(head("POLICY", "FAMILY", "ACTION").rstrip())
        lines.append(f"{'':<{INDENT}}WHAT IT FINDS")
        lines.append("-" * min(width, lead))
        for r in rows:
            entry = head(r.id, r.family, r.action).rstrip()
            lines.extend(textwrap.wrap(entry, width, subsequent_indent=" " * INDENT) or [""])
            lines.extend(
                textwrap.wrap(
                    r.summary,
                    width,
                    initial_indent=" " * INDENT,
                    subsequent_indent=" " * INDENT,
                    break_on_hyphens=False,
                )
            )
    return "\n".join(line.rstrip() for line in lines) + "\n"
