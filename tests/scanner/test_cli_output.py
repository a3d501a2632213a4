"""What the command line prints: help for `costscan` alone, --version, the policy list, the
progress lines and the link to the run's page in GitHub Actions."""

from __future__ import annotations

import json
from importlib import metadata

import pytest

from costscan.scanner.app import cli
from costscan.scanner.app.catalog import all_policies


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_costscan_alone_shows_the_help_not_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([], capsys)
    assert code == 0 and err == ""
    assert out.startswith("Usage: ") and "[OPTIONS] COMMAND [ARGS]..." in out.splitlines()[0]
    assert "Commands:" in out and "costscan demo" in out


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--version"], capsys)
    assert (code, out) == (0, f"costscan {metadata.version('costscan')}\n")


def test_policies_list_has_a_header_plain_text_and_whole_summaries(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(["policies"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (
        f"{len(all_policies())} policies; `costscan policies show ID` prints one's formula "
        "and parameters."
    )
    assert lines[2].split() == ["POLICY", "FAMILY", "ACTION"]
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert "``" not in out
    # The summary that used to stop mid-sentence, whole, its parameter with its default.
    text = " ".join(out.split())
    assert (
        "Active reservations and savings plans used below min_utilization (0.8): the part "
        "of their cost that pays for nothing, which no mechanism recovers. Waste, not savings."
    ) in text
    for policy_id in all_policies():
        assert policy_id in out


def test_policies_of_one_family_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["policies", "--family", "storage", "--json"], capsys)
    assert code == 0
    rows = json.loads(out)
    expected = sorted(p for p, policy in all_policies().items() if policy.family == "storage")
    assert [row["id"] for row in rows] == expected
    gp2 = next(row for row in rows if row["id"] == "storage.gp2-to-gp3")
    assert gp2["family"] == "storage" and gp2["formula"] and "needs" in gp2
    assert isinstance(gp2["parameters"], dict)


def test_an_unknown_family_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["policies", "--family", "compute"], capsys)
    assert (code, out) == (2, "")
    assert err.startswith("costscan: error: --family: unknown family 'compute'")
    assert len(err.splitlines()) == 1


def test_plain_progress_lines_carry_the_counts_and_fit_the_width(
    capsys: pytest.CaptureFixture[str],
) -> None:
    display = cli.ProgressDisplay(interactive=False, width=60)
    seeding = display.stage("seeding the demo account", 41, "steps")
    seeding("instance legacy-reporting and 14 days of its metrics", 1)
    seeding("not counted", 0)
    seeding("Auto Scaling group web-stateless-asg (4 instances)", 1)
    scanning = display.stage("scanning", unit="calls")
    scanning("123456789012 us-east-1: ec2.describe_instances", 1)
    lines = capsys.readouterr().err.splitlines()
    # Each line whole up to 59 characters, then an ellipsis: 60 in all.
    full = [
        "costscan: seeding the demo account 1/41 steps: instance legacy-reporting and 14 "
        "days of its metrics",
        "costscan: seeding the demo account 2/41 steps: Auto Scaling group "
        "web-stateless-asg (4 instances)",
        "costscan: scanning 1 call: 123456789012 us-east-1: ec2.describe_instances",
    ]
    assert lines == [line[:59] + "…" for line in full]


def test_in_github_actions_the_report_links_the_run_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert cli.github_run_url() is None
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com/")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/infra")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    assert cli.github_run_url() == "https://github.com/acme/infra/actions/runs/42"
