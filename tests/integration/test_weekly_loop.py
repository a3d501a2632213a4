"""The weekly loop on a seeded moto account: history across two runs, and suppressions."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from costscan.scanner.app.cli import main
from tests.integration.test_run_aws import REGION, Seeded, seed
from tests.moto_server import RecordingMotoServer

# Each seeds a moto account or runs the whole CLI: seconds each (`pytest -m 'not slow'`).
pytestmark = pytest.mark.slow


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def config(tmp_path: Path, name: str, expires: date) -> Path:
    path = tmp_path / name
    path.write_text(
        "[[suppress]]\n"
        'policy = "rightsizing.*"\n'
        'resource = "oversized-*"\n'
        'reason = "load test next month needs the headroom"\n'
        'owner = "platform@example.com"\n'
        f"expires = {expires.isoformat()}\n",
        encoding="utf-8",
    )
    return path


def report(out: Path, ext: str) -> Path:
    (path,) = out.glob(f"*.{ext}")
    return path


def load(out: Path) -> dict[str, Any]:
    return dict(json.loads(report(out, "json").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def account(moto_server: RecordingMotoServer) -> Seeded:
    moto_server.reset()
    return seed(moto_server.endpoint_url)


def test_two_runs_show_new_resolved_realized_and_suppressions(
    account: Seeded,
    moto_server: RecordingMotoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint_url)
    history = tmp_path / "history"
    today = date.today()
    common = ["run", "--region", REGION, "--history", str(history), "--format", "json,md"]

    first_out = tmp_path / "week1"
    active = config(tmp_path, "active.toml", today + timedelta(days=30))
    code, _, err = run([*common, "--output-dir", str(first_out), "--config", str(active)], capsys)
    assert code == 0, err
    first = load(first_out)
    suppressed = {s["resource_id"]: s for s in first["suppressed"]}
    assert account.oversized in suppressed
    assert suppressed[account.oversized]["suppress_owner"] == "platform@example.com"
    assert all(f["resource_id"] != account.oversized for f in first["findings"])
    assert first["summary"]["suppressed"] == len(first["suppressed"])
    assert first["summary"]["monthly_savings"] == round(
        sum(f["net_monthly_savings"] for f in first["findings"] if f["counted"]), 2
    )
    assert {f["status"] for f in first["findings"]} == {"new"}
    idle_saving = next(
        f["net_monthly_savings"]
        for f in first["findings"]
        if f["resource_id"] == account.idle and f["counted"]
    )

    # The owner terminates the idle instance; the suppression has expired by next week.
    boto3.client("ec2", region_name=REGION).terminate_instances(InstanceIds=[account.idle])
    second_out = tmp_path / "week2"
    expired = config(tmp_path, "expired.toml", today - timedelta(days=1))
    code, _, err = run([*common, "--output-dir", str(second_out), "--config", str(expired)], capsys)
    assert code == 0, err
    second = load(second_out)
    assert second["suppressed"] == []
    assert any("expired" in w for w in second["warnings"])
    back = [f for f in second["findings"] if f["resource_id"] == account.oversized and f["counted"]]
    assert back and back[0]["status"] == "new"
    resolved = {r["resource_id"]: r for r in second["history"]["resolved"]}
    assert account.idle in resolved
    assert second["history"]["realized_monthly_savings"] >= idle_saving
    still_open = [f for f in second["findings"] if f["status"] == "open"]
    # Weeks open count from the timestamps: two runs minutes apart are both in week one.
    assert still_open and all(f["weeks_open"] == 1 for f in still_open)
    headline = report(second_out, "md").read_text(encoding="utf-8")
    assert "realized since last week" in headline

    code, diff_text, err = run(
        ["diff", str(report(first_out, "json")), str(report(second_out, "json"))], capsys
    )
    assert code == 0, err
    resolved_lines = diff_text.split("Resolved:", 1)[1].split("Still open:", 1)[0]
    assert "forgotten-box" in resolved_lines or account.idle in resolved_lines
