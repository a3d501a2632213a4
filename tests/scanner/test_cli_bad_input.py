"""Bad input: exit 2, one clear line naming the flag, key or file, no traceback, no report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from costscan.scanner.app.cli import main


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    err = capsys.readouterr().err
    return int(exit_info.value.code or 0), err


def assert_one_line_exit_2(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture()
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "report"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "costscan.toml"
    path.write_text(text, encoding="utf-8")
    return path


CASES = {
    "unknown provider": (["--provider", "oracle"], ("--provider", "oracle")),
    "negative lookback": (["--lookback-days", "-3"], ("--lookback-days",)),
    "non-numeric lookback": (["--lookback-days", "abc"], ("--lookback-days",)),
    "unknown format": (["--format", "html,pdf"], ("--format", "pdf")),
    "missing config": (["--config", "/nonexistent/costscan.toml"], ("/nonexistent/costscan.toml",)),
    "unknown flag": (["--regoin", "us-east-1"], ("--regoin",)),
    "negative min savings": (["--min-savings", "-1"], ("--min-savings",)),
    "focus without billing": (["--provider", "focus"], ("--billing",)),
    "missing billing file": (
        ["--provider", "focus", "--billing", "/nonexistent/export.parquet"],
        ("/nonexistent/export.parquet",),
    ),
    "unknown billing format": (
        ["--provider", "focus", "--billing", "x.csv", "--billing-format", "oracle"],
        ("--billing-format", "oracle"),
    ),
    "missing billing file on aws": (
        ["--provider", "aws", "--billing", "/nonexistent/cur.csv.gz"],
        ("/nonexistent/cur.csv.gz",),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_flag_exits_2_with_one_line(
    case: str, out_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args, needles = CASES[case]
    code, err = run_cli(["run", "--output-dir", str(out_dir), *args], capsys)
    assert_one_line_exit_2(code, err, *needles)
    assert not out_dir.exists()


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("engineer_hourly_rate = [", ("costscan.toml", "not valid TOML")),
        ("engineer_rate = 90\n", ("costscan.toml", "engineer_rate")),
        ('[policies."rightsizing.nonexistent"]\nenabled = false\n', ("rightsizing.nonexistent",)),
        ('[policies."rightsizing.idle"]\nmax_cpu_pct = 2\n', ("rightsizing.idle", "max_cpu_pct")),
        ('[policies."rightsizing.idle"]\nenabled = "yes"\n', ("rightsizing.idle", "enabled")),
        ("engineer_hourly_rate = -5\n", ("engineer_hourly_rate",)),
        ("[nonprod_tags]\nenvironment = 3\n", ("nonprod_tags.environment",)),
    ],
    ids=[
        "broken",
        "unknown-key",
        "unknown-policy",
        "unknown-param",
        "bad-enabled",
        "neg-rate",
        "bad-tags",
    ],
)
def test_bad_config_exits_2_naming_the_key(
    text: str,
    needles: tuple[str, ...],
    tmp_path: Path,
    out_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write(tmp_path, text)
    code, err = run_cli(["run", "--config", str(config), "--output-dir", str(out_dir)], capsys)
    assert_one_line_exit_2(code, err, *needles)
    assert not out_dir.exists()


def test_unknown_policy_id_in_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(["policies", "show", "rightsizing.bogus"], capsys)
    assert_one_line_exit_2(code, err, "rightsizing.bogus")


ENTRY_POINT = "from costscan.scanner.app.cli import main; main()"


def test_console_script_prints_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", ENTRY_POINT, "run", "--provider", "nope"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "costscan: error: --provider: unknown provider 'nope' (choose from aws, gcp, azure, focus)"
    )
    assert not (tmp_path / "costscan-report").exists()


def test_policies_show_prints_the_declared_formula(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["policies", "show", "rightsizing.idle"])
    assert exit_info.value.code in (0, None)
    lines = capsys.readouterr().out.splitlines()
    assert "formula: monthly_savings = hourly_price × 730" in lines
    assert (
        "change stop_or_terminate: effort level low, restart needed no, rollback possible yes "
        "(after AWS Cost Optimization Hub); counts as savings"
    ) in lines
