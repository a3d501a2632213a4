"""`costscan demo` end to end, in process: the seeded account, the scan, the reports.

The session's demo account (tests/conftest.py, seeded once) stands in for the seeding
``costscan demo`` would do, so this test costs one scan and no second seed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from costscan.demo import account as demo_module
from costscan.scanner.app import cli

if TYPE_CHECKING:
    from tests.conftest import DemoAccount

FAMILIES = {"rightsizing", "commitments", "storage", "scheduling", "observability", "network"}

# Runs the whole CLI on the seeded demo account: seconds (`pytest -m 'not slow'` skips it).
pytestmark = pytest.mark.slow


class _Borrowed:
    """The session's demo server, lent to one command: stopping it is the fixture's job."""

    def stop(self) -> None:
        return None


def test_costscan_demo_reports_all_six_families(
    demo_account: DemoAccount,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def start_demo_server(**_: Any) -> tuple[_Borrowed, str]:
        return _Borrowed(), demo_account.endpoint_url

    def seed_demo_account(endpoint_url: str, now: Any, **_: Any) -> demo_module.DemoSeed:
        assert endpoint_url == demo_account.endpoint_url
        return demo_account.seed

    monkeypatch.setattr(demo_module, "start_demo_server", start_demo_server)
    monkeypatch.setattr(demo_module, "seed_demo_account", seed_demo_account)
    # The demo command sets its own dummy credentials; give them back afterwards.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    output = tmp_path / "report"

    with pytest.raises(SystemExit) as exited:
        # Every default format, as a new user runs it: the HTML page embeds dates too.
        cli.main(["demo", "--output-dir", str(output)])

    assert exited.value.code == 0, capsys.readouterr().err
    assert {path.suffix for path in output.iterdir()} >= {".json", ".html", ".csv", ".md"}
    (written,) = output.glob("costscan-*.json")
    report = json.loads(written.read_text())
    assert report["errors"] == []
    by_family = report["summary"]["by_family"]
    assert set(by_family) == FAMILIES
    for family in FAMILIES:
        assert by_family[family]["findings"] > 0, family
        assert by_family[family]["monthly_savings"] > 0, family
    counted = [f for f in report["findings"] if f["counted"]]
    assert {f["family"] for f in counted} == FAMILIES
    total = sum(f["net_monthly_savings"] for f in counted)
    assert report["summary"]["monthly_savings"] == pytest.approx(total, abs=0.01)
    # The terminal shows the top findings and the total.
    assert "savings found" in capsys.readouterr().out


def test_two_demo_runs_name_the_same_resources_so_their_diff_is_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two real `costscan demo` processes (moto keeps its state per process), then diff."""
    import subprocess
    import sys

    runs = []
    for name in ("first", "second"):
        out = tmp_path / name
        done = subprocess.run(
            [
                sys.executable, "-c", "from costscan.scanner.app.cli import main; main()",
                "demo", "--output-dir", str(out), "--format", "parquet",
            ],
            capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        (written,) = out.glob("costscan-*.parquet")
        runs.append(str(written))

    with pytest.raises(SystemExit) as exited:
        cli.main(["diff", *runs])

    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "New: 0 findings, +$0.00/month" in out
    assert "Resolved: 0 findings, $0.00/month realized" in out
