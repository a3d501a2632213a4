"""The savings report as a GitHub comment: a hidden marker line, then the report, cut to fit.

The comment carries a hidden ``<!-- costscan:<marker_id> -->`` line, so the next run finds it
again and edits it in place (``costscan.publish.github`` does the posting). GitHub refuses a
comment of 65,536 characters or more; a report longer than that is cut inside its findings
table, keeping the headline, the totals and the top rows in rank order, with a line
saying how many rows were cut and where the rest is. Nothing here computes money or talks
to GitHub: it rearranges the Markdown report's lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from costscan.reports.markdown import GITHUB_COMMENT_LIMIT, MARKER, count_of, link_target
from costscan.scanner.contracts.errors import UsageError

DEFAULT_MARKER_ID = "costscan"
# GitHub answers 422 "Body is too long (maximum is 65536 characters)"; staying one below
# the number also keeps clear of its other measured cap, 262,144 UTF-8 bytes, since no
# character takes more than 4 bytes.
MAX_BODY_CHARS = GITHUB_COMMENT_LIMIT - 1
# Rows of the findings table kept even when that means cutting the sections after it.
MIN_FINDING_ROWS = 10

# The renderer's first table: its top changes (before, its top findings).
TOP_HEADINGS = ("### Top findings", "### Top ")
_MARKER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# The renderer's own note under a findings table it already cut.
_RENDERER_NOTE = re.compile(r"^_([\d,]+) findings? not shown\b")


def marker_line(marker_id: str = DEFAULT_MARKER_ID) -> str:
    """The hidden line that identifies our comment (and our tracking issue)."""
    if not _MARKER_ID.match(marker_id):
        raise UsageError(
            f"marker id {marker_id!r}: use letters, digits, '.', '_' or '-' (at most 64)"
        )
    return f"<!-- costscan:{marker_id} -->"


def comment_body(
    markdown: str,
    *,
    marker_id: str = DEFAULT_MARKER_ID,
    report_url: str | None = None,
    max_chars: int = MAX_BODY_CHARS,
) -> tuple[str, bool]:
    """The comment's text (our marker line, then the report) and whether it was trimmed.

    The renderer's own ``<!-- costscan -->`` first line is replaced by the marker, so the
    comment carries one hidden line, not two. A report longer than ``max_chars`` is cut
    inside its findings table, pointing at ``report_url`` for the rest.
    """
    lines = markdown.replace("\r\n", "\n").split("\n")
    if lines and lines[0].strip() == MARKER:
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines.pop()
    lines.insert(0, marker_line(marker_id))
    if _length(lines) <= max_chars:
        return _joined(lines), False
    return _joined(_trim(lines, max_chars, report_url)), True


def tracking_issue_body(marker_id: str = DEFAULT_MARKER_ID, *, edited_in_place: bool) -> str:
    """The body of the issue costscan opens to hold its reports; it carries the marker."""
    how = "edited in place" if edited_in_place else "added as a new comment each run"
    return (
        f"{marker_line(marker_id)}\n"
        f"costscan posts its savings report on this issue; each run's report is {how}.\n"
        "Close the issue to start a fresh one on the next run.\n"
    )


# --- trimming -------------------------------------------------------------------------


def _length(lines: Sequence[str]) -> int:
    """Characters of ``_joined(lines)``, without joining."""
    return sum(len(line) + 1 for line in lines)


def _joined(lines: Sequence[str]) -> str:
    return "\n".join(lines) + "\n"


def _findings_rows(lines: Sequence[str]) -> tuple[int, int] | None:
    """[start, end) of the findings table's data rows (the first table when none is named)."""
    heading = next((i for i, line in enumerate(lines) if line.startswith(TOP_HEADINGS)), None)
    for i in range(heading or 0, len(lines) - 1):
        if heading is not None and i > heading and lines[i].startswith("### "):
            return None  # the heading has no table under it ("No findings.")
        if lines[i].startswith("|") and lines[i + 1].replace(" ", "").startswith("|---"):
            end = i + 2
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            return i + 2, end
    return None


def _trim(lines: list[str], max_chars: int, report_url: str | None) -> list[str]:
    where = (
        f"the full report is at {link_target(report_url)}"
        if report_url
        else "the HTML, CSV and JSON reports list them all"
    )
    span = _findings_rows(lines)
    if span is None:
        return _cut_anywhere(lines, max_chars, where)
    start, end = span
    prefix, rows, tail = lines[:start], lines[start:end], lines[end:]
    # The renderer may already have cut rows and said so: fold its count into ours.
    already_cut = 0
    probe = 1 if tail[:1] == [""] else 0
    note = _RENDERER_NOTE.match(tail[probe]) if len(tail) > probe else None
    if note:
        already_cut = int(note.group(1).replace(",", ""))
        tail = tail[probe + 1 :]

    def note_lines(shown: int, tail_kept: bool) -> list[str]:
        cut = len(rows) - shown + already_cut
        parts = [f"{count_of(cut, 'finding')} not shown"] if cut else []
        if not tail_kept and any(line.strip() for line in tail):
            parts.append("the sections after this table were cut")
        if not parts:
            return []
        return ["", f"_{', and '.join(parts)}, to fit GitHub's comment limit; {where}._"]

    def rows_that_fit(tail_kept: bool) -> int:
        """Rows that fit beside the rest; -1 when even the rest does not fit."""
        # The note is measured with every row cut: its count only gets shorter from there.
        budget = max_chars - _length(prefix) - _length(note_lines(0, tail_kept))
        budget -= _length(tail) if tail_kept else 0
        if budget < 0:
            return -1
        shown = 0
        for row in rows:
            budget -= len(row) + 1
            if budget < 0:
                break
            shown += 1
        return shown

    shown = rows_that_fit(tail_kept=True)
    tail_kept = shown >= min(len(rows), MIN_FINDING_ROWS)
    if not tail_kept:
        shown = rows_that_fit(tail_kept=False)
    if shown < 0:
        # Even the headline and family table overflow: nothing sensible is left to keep
        # in order, so cut at the last line that fits.
        return _cut_anywhere(lines, max_chars, where)
    return [*prefix, *rows[:shown], *note_lines(shown, tail_kept), *(tail if tail_kept else [])]


def _cut_anywhere(lines: Sequence[str], max_chars: int, where: str) -> list[str]:
    note = ["", f"_The report was cut here to fit GitHub's comment limit; {where}._"]
    budget = max_chars - _length(note)
    kept: list[str] = []
    for line in lines:
        budget -= len(line) + 1
        if budget < 0:
            break
        kept.append(line)
    return [*kept, *note]
