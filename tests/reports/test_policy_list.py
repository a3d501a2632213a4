"""`costscan policies` as text: reStructuredText made plain, every line within the width."""

from __future__ import annotations

import pytest

from costscan.reports.policy_list import first_paragraph, plain_text, policies_text, policy_rows
from costscan.scanner.app.catalog import all_policies


def test_literals_lose_their_markup_and_a_parameter_shows_its_default() -> None:
    text = "Volumes attached to nothing (state ``available``), older than ``min_age_days``."
    assert plain_text(text, {"min_age_days": 7}) == (
        "Volumes attached to nothing (state available), older than min_age_days (7)."
    )
    assert plain_text("see :class:`Inventory` and `x`") == "see Inventory and x"


def test_the_summary_is_the_whole_first_paragraph() -> None:
    doc = "First line\nstill the first sentence.\n\nSecond paragraph."
    assert first_paragraph(doc) == "First line\nstill the first sentence."


@pytest.mark.parametrize("width", [60, 80, 100, 160])
def test_every_line_fits_the_width_and_every_policy_is_listed(width: int) -> None:
    rows = policy_rows(all_policies().values())
    text = policies_text(rows, width)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    for row in rows:
        assert row.id in text
        # The summary, whole, once its wrapping is undone.
        assert row.summary in " ".join(text.split())


def test_a_family_narrows_the_list() -> None:
    rows = policy_rows(all_policies().values(), "network")
    assert rows and {row.family for row in rows} == {"network"}
