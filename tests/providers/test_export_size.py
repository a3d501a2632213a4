"""A billing input past what one machine reads well says so, and still runs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from costscan.providers.exports import read as read_module
from costscan.providers.exports.read import local_size_note, read_billing
from costscan.scanner.pipeline import billing_rollup
from tests.scanner.test_billing_rollup import line_items


def test_below_the_local_size_nothing_is_said(tmp_path: Path) -> None:
    path = tmp_path / "small.parquet"
    line_items(50).write_parquet(path)
    source = read_billing([str(path)])
    assert not [w for w in source.warnings if "push-down" in w]
    assert local_size_note(read_module.LOCAL_ROWS) is None


def test_past_the_local_size_one_line_names_the_push_down_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(read_module, "LOCAL_ROWS", 60)
    paths = []
    for n in range(2):  # counted over every file of the run, not per file
        path = tmp_path / f"export-{n}.parquet"
        line_items(40, seed=n).write_parquet(path)
        paths.append(str(path))
    with caplog.at_level(logging.WARNING, logger="costscan"):
        source = read_billing(paths)
    said = [w for w in source.warnings if "push-down" in w]
    assert len(said) == 1 and "\n" not in said[0]
    assert said[0].startswith("80 billing line items, past the 60")
    assert "Athena" in said[0] and "BigQuery" in said[0]
    assert [r.getMessage() for r in caplog.records] == [f"costscan: {said[0]}"]
    # It runs all the same.
    rollup = billing_rollup.rollup_of(source)
    assert int(rollup.daily["line_items"].sum()) == 80
