"""`costscan comment` end to end: flags and GitHub's environment in, one line out.

The command composes ``reports.comment`` (the body) and ``publish.github`` (the post); these
tests run it through ``main`` against the fake GitHub API with PyGithub's default pacing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from costscan.reports.comment import marker_line
from costscan.reports.markdown import GITHUB_COMMENT_LIMIT, render_markdown
from costscan.scanner.app.cli import main
from tests.fake_github import FakeGitHub
from tests.publish.conftest import REPO, TOKEN
from tests.reports.sample import large_report

GOLDEN = Path(__file__).parents[1] / "reports" / "golden"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


@pytest.fixture
def environment(
    github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[FakeGitHub, int]:
    """What a pull_request workflow gives the step: repository, token, API URL, event."""
    pr = github.add_pull_request()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "synchronize", "pull_request": {"number": pr}}))
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", github.api_url)
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    return github, pr


def test_comment_posts_on_the_event_s_pull_request_then_leaves_it_unchanged(
    environment: tuple[FakeGitHub, int], capsys: pytest.CaptureFixture[str]
) -> None:
    github, pr = environment
    report = str(GOLDEN / "sample.md")

    code, out, err = run(["comment", "--to", "pr", "--report", report], capsys)
    assert (code, err) == (0, "")
    [comment] = github.comments_on(pr)
    assert out == f"costscan: comment created: {comment['html_url']}\n"
    assert comment["body"].splitlines()[0] == marker_line()

    code, out, _ = run(["comment", "--to", "pr", "--report", report], capsys)
    assert (code, out) == (0, f"costscan: comment unchanged: {comment['html_url']}\n")
    assert len(github.requests("POST")) == 1
    assert github.requests("PATCH") == []


def test_a_long_report_is_posted_cut_under_github_s_limit_and_says_so(
    environment: tuple[FakeGitHub, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github, pr = environment
    report = tmp_path / "costscan-aws-multi.md"
    long_markdown = render_markdown(large_report(900), max_chars=500_000, family_rows=None)
    report.write_text(long_markdown, encoding="utf-8")
    assert len(report.read_text(encoding="utf-8")) > GITHUB_COMMENT_LIMIT
    run_url = "https://github.com/acme/infra/actions/runs/123"

    code, out, _ = run(
        ["comment", "--to", "pr", "--report", str(report), "--report-url", run_url], capsys
    )

    assert code == 0
    assert out.endswith(" (cut to fit GitHub's comment limit)\n")
    [comment] = github.comments_on(pr)  # the fake, like GitHub, refuses 65,536 or more
    assert len(comment["body"]) < GITHUB_COMMENT_LIMIT
    assert f"the full report is at <{run_url}>" in comment["body"]


def test_a_refused_post_is_one_line_and_exit_2(
    environment: tuple[FakeGitHub, int], capsys: pytest.CaptureFixture[str]
) -> None:
    github, _ = environment
    github.fail(403, "Resource not accessible by integration", methods={"POST"})

    code, out, err = run(["comment", "--to", "pr", "--report", str(GOLDEN / "sample.md")], capsys)

    assert (code, out) == (2, "")
    assert err.startswith("costscan: error: GitHub answered 403 Resource not accessible")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_without_pygithub_comment_says_in_one_line_how_to_install_it(
    environment: tuple[FakeGitHub, int],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    github, _ = environment
    monkeypatch.setitem(sys.modules, "github", None)  # `import github` now raises ImportError

    code, _, err = run(["comment", "--to", "pr", "--report", str(GOLDEN / "sample.md")], capsys)

    assert code == 2
    assert err == (
        "costscan: error: costscan comment posts through PyGithub, which is not installed: "
        "pip install 'costscan[github]'\n"
    )
    assert github.requests() == []


def test_help_does_not_import_pygithub() -> None:
    probe = (
        "import sys\n"
        "from costscan.scanner.app.cli import main\n"
        "try:\n    main(['comment', '--help'])\nexcept SystemExit:\n    pass\n"
        "print('LOADED:' + ','.join(m for m in ('github', 'requests') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    assert "--report-url" in out
    assert [line for line in out.splitlines() if line.startswith("LOADED:")] == ["LOADED:"]
