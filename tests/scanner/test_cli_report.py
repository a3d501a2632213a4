"""`costscan report FINDINGS.parquet --format ...` re-renders a past run with the same numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from costscan.reports.formats import ParquetRenderer
from costscan.scanner.app.cli import main
from costscan.scanner.contracts.files import write_atomically
from tests.reports.sample import sample_report


def test_saved_run_re_renders_with_the_same_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = sample_report()
    saved = tmp_path / "run.parquet"
    write_atomically(saved, ParquetRenderer().render(original))
    out = tmp_path / "again"
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(saved), "--format", "json,md", "--output-dir", str(out)])
    assert exit_info.value.code == 0, capsys.readouterr().err
    (json_file,) = out.glob("*.json")
    doc = json.loads(json_file.read_text(encoding="utf-8"))
    assert doc["summary"]["monthly_savings"] == original.summary["monthly_savings"]
    assert [f["finding_id"] for f in doc["findings"]] == original.findings["finding_id"].to_list()
    assert len(list(out.glob("*.md"))) == 1


def test_a_file_that_is_not_a_saved_run_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "notes.parquet"
    bogus.write_text("not parquet", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(bogus), "--output-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert len(err.strip().splitlines()) == 1 and str(bogus) in err
    assert not (tmp_path / "out").exists()
