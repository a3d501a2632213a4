"""Every bad input is caught before the first cloud call: one line, exit 2, nothing written.

Each case runs the real CLI with AWS_ENDPOINT_URL pointing at the test's moto server, and
checks the server's own request log: not one request reached it.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from costscan.scanner.app.cli import main
from tests.moto_server import RecordingMotoServer


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    return int(exit_info.value.code or 0), capsys.readouterr().err


def assert_refused_before_any_call(
    code: int, err: str, moto: RecordingMotoServer, out_dir: Path, *needles: str
) -> None:
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("costscan: error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert moto.operations() == [], "a bad input reached the cloud"
    assert not out_dir.exists() or not any(out_dir.iterdir()), "a bad input wrote a file"


@pytest.fixture()
def aws(moto: RecordingMotoServer, monkeypatch: pytest.MonkeyPatch) -> RecordingMotoServer:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint_url)
    return moto


def config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "costscan.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


CONFIGS = {
    "rate nan": ("engineer_hourly_rate = nan\n", "engineer_hourly_rate"),
    "rate inf": ("engineer_hourly_rate = inf\n", "engineer_hourly_rate"),
    "param nan": ('[policies."rightsizing.idle"]\nmax_cpu_percent = nan\n', "max_cpu_percent"),
    "param inf": ('[policies."storage.stale-snapshot"]\nmax_age_days = 1e400\n', "max_age_days"),
    "param negative": ('[policies."rightsizing.idle"]\nmax_cpu_percent = -5\n', "at least 0"),
    "percent over 100": (
        '[policies."rightsizing.overprovisioned"]\ntarget_cpu_p99_percent = 170\n',
        "at most 100",
    ),
    "fraction over 1": ('[policies."storage.gp2-to-gp3"]\nconfidence = 1.5\n', "confidence"),
    "reversed glob range": (
        '[[suppress]]\npolicy = "storage.*"\nresource = "[z-a]*"\nreason = "r"\n'
        'owner = "o"\nexpires = 2030-01-01\n',
        "[z-a]*",
    ),
    "reversed policy glob": (
        '[[suppress]]\npolicy = "[z-a]*"\nresource = "*"\nreason = "r"\n'
        'owner = "o"\nexpires = 2030-01-01\n',
        "[z-a]*",
    ),
}


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_a_bad_config_value_is_refused_before_any_call(
    case: str, aws: RecordingMotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, needle = CONFIGS[case]
    out = tmp_path / "out"
    path = config(tmp_path, text)
    code, err = run_cli(["run", "--config", path, "--output-dir", str(out)], capsys)
    assert_refused_before_any_call(code, err, aws, out, path, needle)


FLAGS = {
    "lookback a million days": (["--lookback-days", "1000000"], "--lookback-days"),
    "gate at nan": (["--fail-on-savings", "nan"], "--fail-on-savings"),
    "gate at inf": (["--fail-on-savings", "inf"], "--fail-on-savings"),
    "min savings nan": (["--min-savings", "nan"], "--min-savings"),
    "no workers": (["--max-workers", "0"], "--max-workers"),
    "too many workers": (["--max-workers", "1000"], "--max-workers"),
    "deadline nan": (["--collector-timeout", "nan"], "--collector-timeout"),
    "deadline zero": (["--collector-timeout", "0"], "--collector-timeout"),
    "reset without history": (["--history-reset"], "--history-reset"),
    "region misspelt": (["--region", "us-east1"], "--region"),
    "role with spaces": (["--org-role", "my role"], "--org-role"),
    "unknown profile": (["--profile", "nosuch"], "nosuch"),
}


@pytest.mark.parametrize("case", sorted(FLAGS))
def test_a_bad_flag_is_refused_before_any_call(
    case: str, aws: RecordingMotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args, needle = FLAGS[case]
    out = tmp_path / "out"
    code, err = run_cli(["run", "--output-dir", str(out), *args], capsys)
    assert_refused_before_any_call(code, err, aws, out, needle)


def test_aws_profile_naming_no_profile_is_refused(
    aws: RecordingMotoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    out = tmp_path / "out"
    code, err = run_cli(["run", "--output-dir", str(out)], capsys)
    assert_refused_before_any_call(code, err, aws, out, "nosuch")


def test_a_broken_shared_config_file_is_refused(
    aws: RecordingMotoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = tmp_path / "aws-config"
    broken.write_text("[default\nregion = us-east-1\n", encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(broken))
    out = tmp_path / "out"
    code, err = run_cli(["run", "--output-dir", str(out)], capsys)
    assert_refused_before_any_call(code, err, aws, out, str(broken))


def test_no_credentials_anywhere_is_refused(
    aws: RecordingMotoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    # No instance metadata service either: botocore would wait for one otherwise.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    out = tmp_path / "out"
    code, err = run_cli(["run", "--output-dir", str(out)], capsys)
    assert_refused_before_any_call(code, err, aws, out, "no AWS credentials found")


@pytest.mark.parametrize("kind", ["an existing file", "under a file", "in /proc"])
def test_an_output_dir_that_cannot_be_written_is_refused(
    kind: str, aws: RecordingMotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "report.txt"
    a_file.write_text("mine", encoding="utf-8")
    target = {
        "an existing file": a_file,
        "under a file": a_file / "reports",
        "in /proc": Path("/proc/costscan-reports"),
    }[kind]
    code, err = run_cli(["run", "--output-dir", str(target)], capsys)
    assert_refused_before_any_call(code, err, aws, tmp_path / "none", "--output-dir", str(target))
    assert a_file.read_text(encoding="utf-8") == "mine"


def test_a_config_path_naming_a_folder_says_so(
    aws: RecordingMotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, err = run_cli(["run", "--config", str(tmp_path), "--output-dir", str(out)], capsys)
    assert_refused_before_any_call(code, err, aws, out, "is a folder")


def test_an_output_dir_made_for_the_probe_is_removed_when_a_later_check_fails(
    aws: RecordingMotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "deep" / "out"
    code, err = run_cli(["run", "--output-dir", str(out), "--profile", "nosuch"], capsys)
    assert_refused_before_any_call(code, err, aws, out, "nosuch")
    assert not (tmp_path / "deep").exists()


@pytest.mark.slow  # two scans of the (empty) moto account
def test_a_truncated_history_file_names_itself_and_the_way_out(
    aws: RecordingMotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "history"
    history.mkdir()
    whole = pl.DataFrame({"finding_id": ["x"], "counted": [True], "net_monthly_savings": [1.0]})
    damaged = history / "costscan-aws-123456789012-20200101T000000Z.parquet"
    whole.write_parquet(damaged)
    damaged.write_bytes(damaged.read_bytes()[:-40])  # the footer is gone
    out = tmp_path / "out"
    args = ["run", "--region", "us-east-1", "--output-dir", str(out), "--history", str(history)]
    code, err = run_cli(args, capsys)
    assert_refused_before_any_call(code, err, aws, out, str(damaged), "--history-reset")

    # --history-reset starts anew: the damaged file is not read, now or later.
    code, err = run_cli([*args, "--history-reset"], capsys)
    assert code == 0, err
    assert len(list(history.glob("*.parquet"))) == 2
    code, err = run_cli(args, capsys)
    assert code == 0, err


def test_an_unreachable_endpoint_is_named_as_such_not_as_bad_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    out = tmp_path / "out"
    code, err = run_cli(
        ["run", "--region", "us-east-1", "--output-dir", str(out), "--collector-timeout", "20"],
        capsys,
    )
    assert code == 2, err
    assert "cannot reach AWS STS" in err
    assert "credentials could not be used" not in err
    assert not out.exists() or not any(out.iterdir())
