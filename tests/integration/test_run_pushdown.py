"""`costscan run --billing duckdb://...` against `--billing FILE`: the push-down's rollup
gives the same findings and the same totals to the cent, and the report states what the
queries scanned and cost. Bad URIs, flags and budgets: one line, exit 2."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from costscan.providers.exports import read_billing
from costscan.scanner.app.billing_pushdown import default_period, parse_period
from costscan.scanner.app.cli import main
from costscan.scanner.contracts.errors import UsageError
from tests.scanner import pushdown_data

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "focus-1.0-sample.csv"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code, _out, err = run_out(args, capsys)
    return code, err


def run_out(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--provider", "focus", *args])
    code = exit_info.value.code
    captured = capsys.readouterr()
    return (code if isinstance(code, int) else 0), captured.out, captured.err


def report(out: Path, suffix: str = "json") -> Any:
    (path,) = out.glob(f"*.{suffix}")
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if suffix == "json" else text


def cents(value: float | None) -> int | None:
    return None if value is None else round(value * 100)


def findings(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            f["finding_id"],
            f["policy_id"],
            f["resource_id"],
            cents(f["monthly_savings"]),
            cents(f["current_monthly_cost"]),
            f["counted"],
            f["category"],
        )
        for f in doc["findings"]
    )


def assert_same_report(local: dict[str, Any], pushed: dict[str, Any]) -> None:
    assert findings(local) == findings(pushed)
    for key in ("findings", "counted_findings", "monthly_savings", "annual_savings"):
        assert local["summary"][key] == pushed["summary"][key], key
    for key in ("billed_cost", "effective_cost"):
        assert cents(local["summary"]["spend"][key]) == cents(pushed["summary"]["spend"][key])
    for key in ("period_start", "period_end", "currency"):
        assert local["summary"]["spend"][key] == pushed["summary"]["spend"][key]
    assert local["run"]["accounts"] == pushed["run"]["accounts"]
    assert local["run"]["regions"] == pushed["run"]["regions"]


def both(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], period: str
) -> tuple[dict[str, Any], dict[str, Any], str]:
    local_out, pushed_out = tmp_path / "local", tmp_path / "pushed"
    code, err = run(
        ["--billing", str(path), "--output-dir", str(local_out), "--format", "json"], capsys
    )
    assert code == 0, err
    code, out, err = run_out(
        [
            "--billing",
            f"duckdb://{path}",
            "--billing-period",
            period,
            "--max-scan-gb",
            "1",
            "--output-dir",
            str(pushed_out),
            "--format",
            "json,md,html",
        ],
        capsys,
    )
    assert code == 0, err
    return report(local_out), report(pushed_out), out


def test_duckdb_pushdown_gives_the_local_findings_and_totals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    path = pushdown_data.write(tmp_path / "focus.parquet")
    local, pushed, terminal = both(path, tmp_path, capsys, "2024-09:2024-10")
    assert len(local["findings"]) >= 3
    assert_same_report(local, pushed)
    size = path.stat().st_size
    # One line before the queries run, with the estimate.
    (line,) = [r.getMessage() for r in caplog.records if "will scan" in r.getMessage()]
    assert line.startswith(f"costscan: duckdb://{path}: 4 queries over the focus billing of ")
    assert "billing of 2024-09 to 2024-10 will scan" in line
    assert line.endswith(f"will scan {4 * size / 1e6:,.2f} MB")
    block = pushed["summary"]["spend"]["pushdown"]
    assert block["engine"] == "duckdb"
    assert block["bytes_estimated"] == block["bytes_scanned"] == 4 * size
    assert (block["period_start"], block["period_end"]) == ("2024-09-01", "2024-11-01")
    assert block["query_cost_usd"] == 0.0
    assert sorted(block["queries"]) == ["commitments", "daily", "irregular", "spend"]
    assert "pushdown" not in local["summary"]["spend"]
    markdown = report(tmp_path / "pushed", "md")
    # (Markdown escapes the URI and the dollar signs.)
    assert "Billing queried in duckdb (duckdb:" in markdown
    assert "billing periods 2024-09-01 to 2024-11-01 (exclusive): 2.56 MB scanned" in markdown
    assert "estimated query cost \\$0.00." in markdown
    html = report(tmp_path / "pushed", "html")
    assert f"Billing queried in duckdb (duckdb://{path}), billing periods" in html
    # The terminal wraps its lines (a long path too).
    flowing = " ".join(terminal.split())
    assert "Billing queried in duckdb (duckdb:" in flowing
    assert "estimated query cost $0.00." in flowing


@pytest.mark.skipif(not SAMPLE.is_file(), reason=f"the FOCUS sample is not at {SAMPLE}")
def test_duckdb_pushdown_of_the_focus_sample_gives_the_local_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sample.parquet"
    read_billing([str(SAMPLE)]).scan.collect().write_parquet(path)
    # One line item of the sample is billed in October's period (a September charge).
    local, pushed, _out = both(path, tmp_path, capsys, "2024-09:2024-10")
    assert_same_report(local, pushed)


def test_a_scan_over_budget_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = pushdown_data.write(tmp_path / "focus.parquet", count=6, hours=48)
    out = tmp_path / "out"
    code, err = run(
        [
            "--billing",
            f"duckdb://{path}",
            "--billing-period",
            "2024-09",
            "--max-scan-gb",
            "0.000001",
            "--output-dir",
            str(out),
        ],
        capsys,
    )
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith(f"costscan: error: duckdb://{path}: the queries would scan")
    assert "--max-scan-gb budget of 0.00 MB" in line
    assert not list(out.glob("costscan-*"))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--billing", "duckdb:///no/such/folder"], "duckdb:///no/such/folder: no such file"),
        (["--billing", "ftp://host/x.parquet"], "ftp:// is not a billing source"),
        (["--billing", "duckdb:///x", "--billing", "y.csv"], "queried alone"),
        (["--billing", "x.csv", "--billing-period", "2024-09"], "--billing-period applies to"),
        (["--billing", "x.csv", "--max-scan-gb", "5"], "--max-scan-gb applies to"),
        (["--billing", "duckdb:///x", "--billing-period", "2024-13"], "give YYYY-MM"),
        (["--billing", "duckdb:///x", "--billing-period", "2024-10:2024-09"], "before the first"),
        (["--billing", "duckdb:///x", "--max-scan-gb", "0"], "--max-scan-gb must be"),
        (["--billing", "duckdb:///x", "--billing-format", "cur"], "--billing-format applies"),
    ],
)
def test_bad_pushdown_input_is_one_line_and_exit_2(
    args: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run([*args, "--output-dir", str(tmp_path / "out")], capsys)
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith("costscan: error: ") and expected in line


def test_a_table_of_no_known_shape_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "other.parquet"
    pushdown_data.frame(count=2, hours=2).drop("EffectiveCost").write_parquet(path)
    code, err = run(
        ["--billing", f"duckdb://{path}", "--output-dir", str(tmp_path / "out")], capsys
    )
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.endswith("as focus it lacks EffectiveCost")


def test_the_default_period_is_the_months_the_lookback_overlaps() -> None:
    early = datetime(2024, 10, 5, 9, tzinfo=UTC)
    assert default_period(early, 14) == (
        datetime(2024, 9, 1).date(),
        datetime(2024, 11, 1).date(),
    )
    late = datetime(2024, 12, 31, 23, tzinfo=UTC)
    assert default_period(late, 14) == (datetime(2024, 12, 1).date(), datetime(2025, 1, 1).date())


def test_a_period_names_its_months_both_ends_included() -> None:
    assert parse_period("2024-11:2025-01") == (
        datetime(2024, 11, 1).date(),
        datetime(2025, 2, 1).date(),
    )
    with pytest.raises(UsageError):
        parse_period("24-11")


def test_without_a_period_the_run_reads_the_months_its_lookback_overlaps(tmp_path: Path) -> None:
    from costscan.scanner.app import engine

    path = pushdown_data.write(tmp_path / "focus.parquet", count=4)
    settings = engine.Settings(
        provider="focus",
        billing_paths=(f"duckdb://{path}",),
        now=datetime(2024, 10, 3, 12, tzinfo=UTC),
        lookback_days=14,
        formats=("json",),
        output_dir=str(tmp_path / "out"),
    )
    result = engine.run(settings)
    block = result.report.summary["spend"]["pushdown"]
    assert (block["period_start"], block["period_end"]) == ("2024-09-01", "2024-11-01")
    settings = dataclasses.replace(
        settings, lookback_days=1, now=datetime(2024, 10, 20, tzinfo=UTC)
    )
    result = engine.run(settings)
    block = result.report.summary["spend"]["pushdown"]
    assert (block["period_start"], block["period_end"]) == ("2024-10-01", "2024-11-01")
    assert result.report.summary["spend"]["period_start"].startswith("2024-10-01")
