"""Clean writes: whole files with the umask's mode, no temporary file left on any exit
path Python sees, leftovers of a killed run swept, and a run recorded in its reports and
its history together or not at all."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from costscan.scanner.app.cli import main
from costscan.scanner.contracts import files
from costscan.scanner.contracts.errors import ReportError, UsageError
from costscan.scanner.pipeline import history

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "focus-1.0-sample.csv"


@pytest.fixture()
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if files.TEMP_MARK in p.name]


def test_a_written_file_gets_the_umasks_mode(tmp_path: Path, umask_027: None) -> None:
    path = tmp_path / "report.json"
    files.write_atomically(path, b"{}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # 0o666 & ~0o027
    assert path.read_bytes() == b"{}"


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, SystemExit, OSError])
def test_an_interrupted_write_leaves_no_temporary_file(
    interruption: type[BaseException], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_fsync(_fd: int) -> None:
        raise interruption("interrupted mid-write")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    expected = ReportError if interruption is OSError else interruption
    with pytest.raises(expected):
        files.write_atomically(tmp_path / "report.html", b"x" * 100_000)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_commit_puts_back_nothing_half_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace
    calls: list[str] = []

    def second_rename_fails(src: str, dst: str) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", second_rename_fails)
    with files.StagedFiles() as staged, pytest.raises(KeyboardInterrupt):
        staged.add(tmp_path / "a.json", b"a")
        staged.add(tmp_path / "a.csv", b"b")
        staged.commit()
    assert list(tmp_path.iterdir()) == []


def test_leftovers_of_a_killed_run_are_swept_and_fresh_ones_kept(tmp_path: Path) -> None:
    old = tmp_path / f".costscan-aws-1-x.json{files.TEMP_MARK}abc"
    fresh = tmp_path / f".costscan-aws-1-y.json{files.TEMP_MARK}def"
    mine = tmp_path / ".hidden-but-not-ours"
    for path in (old, fresh, mine):
        path.write_bytes(b"partial")
    hours_ago = time.time() - 2 * files.LEFTOVER_AGE_SECONDS
    os.utime(old, (hours_ago, hours_ago))
    assert files.sweep_leftovers(tmp_path) == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, mine.name])


def test_the_writability_probe_leaves_nothing(tmp_path: Path) -> None:
    files.check_writable_folder(str(tmp_path / "a" / "b"), "--output-dir")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match=r"--output-dir .*: exists and is not a folder"):
        files.check_writable_folder(str(tmp_path / "file"), "--output-dir")


@pytest.mark.skipif(not SAMPLE.is_file(), reason=f"the FOCUS sample is not at {SAMPLE}")
def test_a_run_whose_history_cannot_be_written_leaves_no_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refused(*_args: object, **_kwargs: object) -> str:
        raise ReportError("--history: cannot write it (disk full)")

    monkeypatch.setattr(history, "put", refused)
    out, kept = tmp_path / "out", tmp_path / "history"
    args = ["run", "--provider", "focus", "--billing", str(SAMPLE), "--output-dir", str(out)]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--history", str(kept)])
    assert exit_info.value.code == 2
    assert "disk full" in capsys.readouterr().err
    assert list(out.iterdir()) == [], "the reports went with the history: neither"
    assert not kept.exists() or list(kept.iterdir()) == []

    monkeypatch.undo()
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--history", str(kept)])
    assert exit_info.value.code == 0
    # html, csv (and its investments CSV), json, md; one history entry.
    assert len(list(out.iterdir())) == 5 and len(list(kept.iterdir())) == 1
