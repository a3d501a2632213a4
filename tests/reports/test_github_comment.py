"""The Action's comment path, end to end against our fake GitHub API; the Action's own files.

The posting tests run ``reports.github.post_report`` over real HTTP against
``tests.fake_github.FakeGitHub``. The Action tests run the composite action's shell steps,
as written in action.yml, with a stand-in ``costscan`` executable on PATH.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from costscan.publish.github import (
    MAX_BODY_CHARS,
    PostResult,
    comment_body,
    marker_line,
    post_report,
    pull_request_number,
    read_markdown,
)
from costscan.reports.markdown import GITHUB_COMMENT_LIMIT, MARKER, render_markdown
from costscan.scanner.contracts.errors import InputFileError, ReportError, UsageError
from tests.fake_github import FakeGitHub
from tests.reports.sample import SAMPLE_BOTTLENECKS, large_report, ranked_frame

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
REPO = "acme/infra"
TOKEN = "ghs_test_token"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(repository=REPO, token=TOKEN) as fake:
        yield fake


def post(github: FakeGitHub, markdown: str, **options: Any) -> PostResult:
    options.setdefault("to", "pr")
    options.setdefault("number", None)
    return post_report(markdown, repository=REPO, token=TOKEN, api_url=github.api_url, **options)


def sample_markdown() -> str:
    return (GOLDEN / "sample.md").read_text(encoding="utf-8")


def headline(markdown: str) -> str:
    return next(line for line in markdown.splitlines() if line.startswith("**"))


def finding_rows(text: str) -> list[str]:
    """The data rows of the "Top findings" table."""
    lines = text.splitlines()
    start = lines.index("### Top findings") + 4  # heading, blank, header, separator
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


# --- posting: update in place ----------------------------------------------------------


def test_first_post_creates_one_comment_carrying_the_marker(github: FakeGitHub) -> None:
    pr = github.add_pull_request()
    result = post(github, sample_markdown(), number=pr)

    comments = github.comments_on(pr)
    assert result.action == "created"
    assert [c["id"] for c in comments] == [result.comment_id]
    body = comments[0]["body"]
    assert body.splitlines()[0] == "<!-- costscan:costscan -->"
    # The renderer's own marker is replaced, not repeated.
    assert MARKER not in body
    assert headline(sample_markdown()) in body
    assert result.url.endswith(f"#issuecomment-{result.comment_id}")
    assert result.trimmed is False
    assert result.number == pr


def test_posting_the_same_report_again_is_unchanged_and_sends_no_edit(
    github: FakeGitHub,
) -> None:
    pr = github.add_pull_request()
    first = post(github, sample_markdown(), number=pr)
    github.clear_requests()

    second = post(github, sample_markdown(), number=pr)

    assert second.action == "unchanged"
    assert second.comment_id == first.comment_id
    assert github.requests("PATCH") == []
    assert github.requests("POST") == []
    assert len(github.comments_on(pr)) == 1


def test_a_changed_report_edits_the_same_comment_in_place(github: FakeGitHub) -> None:
    pr = github.add_pull_request()
    first = post(github, sample_markdown(), number=pr)
    changed = sample_markdown().replace("$860.87/month", "$900.00/month")

    third = post(github, changed, number=pr)

    assert third.action == "updated"
    assert third.comment_id == first.comment_id
    [comment] = github.comments_on(pr)
    assert "**$900.00/month in savings found**" in comment["body"]
    assert [r.path for r in github.requests("PATCH")] == [
        f"/repos/{REPO}/issues/comments/{first.comment_id}"
    ]


def test_new_behavior_adds_another_comment_and_update_then_edits_the_newest(
    github: FakeGitHub,
) -> None:
    pr = github.add_pull_request()
    first = post(github, sample_markdown(), number=pr)
    second = post(github, sample_markdown(), number=pr, behavior="new")

    assert second.action == "created"
    assert second.comment_id != first.comment_id
    assert len(github.comments_on(pr)) == 2

    changed = sample_markdown().replace("$860.87/month", "$1.00/month")
    third = post(github, changed, number=pr)
    assert (third.action, third.comment_id) == ("updated", second.comment_id)


def test_comments_of_people_and_other_markers_are_left_alone(github: FakeGitHub) -> None:
    pr = github.add_pull_request()
    quoted = f"> {marker_line()}\n> **$1.00/month in savings found**\nIs this right?"
    people = github.add_comment(pr, quoted)
    other_stack = github.add_comment(pr, marker_line("staging") + "\nthe staging report")

    result = post(github, sample_markdown(), number=pr)

    assert result.action == "created"
    bodies = {c["id"]: c["body"] for c in github.comments_on(pr)}
    assert bodies[people] == quoted
    assert bodies[other_stack].endswith("the staging report")
    assert post(github, sample_markdown(), number=pr, marker_id="staging").comment_id == (
        other_stack
    )


def test_the_marker_comment_is_found_on_the_third_page(github: FakeGitHub) -> None:
    github.max_per_page = 2
    pr = github.add_pull_request()
    for n in range(4):
        github.add_comment(pr, f"review remark {n}")
    ours = github.add_comment(pr, marker_line() + "\nlast week's report", user="bot")
    github.add_comment(pr, "a later remark")
    github.clear_requests()

    result = post(github, sample_markdown(), number=pr)

    assert (result.action, result.comment_id) == ("updated", ours)
    pages = [r.query.get("page", "1") for r in github.requests("GET")]
    assert pages == ["1", "2", "3"]
    assert {r.query["per_page"] for r in github.requests("GET")} == {"100"}
    assert len(github.comments_on(pr)) == 6


# --- trimming --------------------------------------------------------------------------


def test_a_70000_character_report_is_trimmed_under_the_limit_keeping_headline_and_top_rows(
    github: FakeGitHub,
) -> None:
    report = large_report(600)
    markdown = render_markdown(report, max_chars=500_000)
    assert len(markdown) > 70_000
    pr = github.add_pull_request()
    run_url = "https://github.com/acme/infra/actions/runs/123"

    result = post(github, markdown, number=pr, report_url=run_url)

    [comment] = github.comments_on(pr)
    body = comment["body"]
    assert result.trimmed is True
    assert len(body) < GITHUB_COMMENT_LIMIT
    assert headline(markdown) in body
    assert "### Savings by family" in body
    kept = finding_rows(body)
    all_rows = finding_rows(markdown)
    assert 100 < len(kept) < len(all_rows)
    assert kept == all_rows[: len(kept)]  # the top rows, in rank order, each whole
    cut = len(all_rows) - len(kept)
    assert f"_{cut:,} findings not shown, to fit GitHub's comment limit; " in body
    assert f"the full report is at <{run_url}>" in body


def test_trimming_keeps_the_sections_after_the_findings_table_when_they_fit() -> None:
    report = dataclasses.replace(large_report(600), bottlenecks=ranked_frame(SAMPLE_BOTTLENECKS))
    markdown = render_markdown(report, max_chars=500_000)

    body, trimmed = comment_body(markdown)

    assert trimmed and len(body) <= MAX_BODY_CHARS
    assert "### Bottlenecks (" in body
    assert "checkout-db (i-0f9a00000000009)" in body
    assert body.index("not shown, to fit") < body.index("### Bottlenecks")


def test_trimming_folds_in_the_rows_the_renderer_already_left_out() -> None:
    markdown = render_markdown(large_report(600), max_chars=20_000)
    renderer_note = re.search(r"_([\d,]+) findings not shown;", markdown)
    assert renderer_note is not None
    already = int(renderer_note.group(1).replace(",", ""))
    shown_by_renderer = len(finding_rows(markdown))

    body, trimmed = comment_body(markdown, max_chars=10_000)

    assert trimmed and len(body) <= 10_000
    kept = len(finding_rows(body))
    assert f"_{already + shown_by_renderer - kept:,} findings not shown" in body
    assert "findings not shown;" not in body  # the renderer's stale note is gone
    assert "the HTML, CSV and JSON reports list them all" in body


def test_trimming_drops_the_later_sections_before_the_top_ten_findings() -> None:
    markdown = render_markdown(large_report(40), max_chars=500_000)
    long_tail = "\n".join(f"| e{n} | {'x' * 200} |" for n in range(40))
    markdown += "\n### Collector errors (40)\n\n| Collector | Message |\n| --- | --- |\n"
    markdown += long_tail + "\n"
    # Keeping the errors table would leave fewer than ten findings; dropping it leaves all.
    limit = len(markdown) - 5_500

    body, trimmed = comment_body(markdown, max_chars=limit)

    assert trimmed and len(body) <= limit
    assert finding_rows(body) == finding_rows(markdown)
    assert "### Collector errors" not in body
    assert "_the sections after this table were cut, to fit GitHub's comment limit; " in body
    assert "not shown" not in body


def test_a_report_that_fits_is_posted_exactly_after_the_marker() -> None:
    markdown = sample_markdown()
    body, trimmed = comment_body(markdown, marker_id="prod")
    assert trimmed is False
    assert body == markdown.replace(MARKER, "<!-- costscan:prod -->", 1)


# --- errors ----------------------------------------------------------------------------


def test_a_403_is_a_report_error_of_one_line_naming_status_message_and_permission(
    github: FakeGitHub,
) -> None:
    pr = github.add_pull_request()
    github.fail_with = (403, "Resource not accessible by integration")

    with pytest.raises(ReportError) as caught:
        post(github, sample_markdown(), number=pr)

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("GitHub answered 403 Resource not accessible by integration: ")
    assert "pull-requests: write" in message
    assert github.comments_on(pr) == []


def test_a_wrong_token_is_a_401_report_error(github: FakeGitHub) -> None:
    pr = github.add_pull_request()
    with pytest.raises(ReportError, match=r"^GitHub answered 401 Bad credentials: the token"):
        post_report(
            sample_markdown(),
            to="pr",
            repository=REPO,
            number=pr,
            token="ghs_wrong",
            api_url=github.api_url,
        )


def test_a_missing_pull_request_is_a_404_naming_the_request(github: FakeGitHub) -> None:
    with pytest.raises(ReportError, match=r"GitHub answered 404 Not Found: GET /repos/acme"):
        post(github, sample_markdown(), number=99)


def test_no_network_is_one_line_naming_the_api_url() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    api_url = f"http://127.0.0.1:{port}"
    with pytest.raises(ReportError, match=f"^cannot reach GitHub at {re.escape(api_url)}: "):
        post_report(
            sample_markdown(), to="pr", repository=REPO, number=1, token=TOKEN, api_url=api_url
        )


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"to": "pr", "number": None}, "pull request number"),
        ({"to": "wiki"}, "use pr or issue"),
        ({"behavior": "append"}, "use update or new"),
        ({"repository": "not-a-repo"}, "owner/name"),
        ({"token": ""}, "GITHUB_TOKEN"),
        ({"marker_id": "x -->"}, "marker id"),
        ({"number": None, "title": " "}, "title"),
    ],
)
def test_bad_options_are_usage_errors_before_any_request(
    github: FakeGitHub, options: dict[str, Any], complaint: str
) -> None:
    arguments: dict[str, Any] = {
        "to": "issue",
        "repository": REPO,
        "number": 1,
        "token": TOKEN,
        "api_url": github.api_url,
        **options,
    }
    with pytest.raises(UsageError, match=complaint):
        post_report(sample_markdown(), **arguments)
    assert github.requests() == []


# --- issue mode ------------------------------------------------------------------------


def test_issue_mode_creates_one_tracking_issue_then_reuses_it(github: FakeGitHub) -> None:
    github.max_per_page = 2
    # Open pull requests and unrelated issues share the list; none of them is ours.
    github.add_pull_request("costscan savings report")
    github.add_issue("costscan savings report", "a person's issue with the same title")
    github.add_issue("Flaky test", marker_line())

    first = post(github, sample_markdown(), to="issue")
    changed = sample_markdown().replace("$860.87/month", "$870.00/month")
    second = post(github, changed, to="issue")
    third = post(github, changed, to="issue")

    ours = [i for i in github.issues() if marker_line() in i["body"].splitlines()]
    assert [i["title"] for i in ours] == ["Flaky test", "costscan savings report"]
    tracking = next(i for i in ours if i["title"] == "costscan savings report")
    assert first.number == second.number == third.number == tracking["number"]
    assert (first.action, second.action, third.action) == ("created", "updated", "unchanged")
    [comment] = github.comments_on(tracking["number"])
    assert "**$870.00/month in savings found**" in comment["body"]


def test_issue_mode_opens_a_new_issue_once_the_old_one_is_closed(github: FakeGitHub) -> None:
    first = post(github, sample_markdown(), to="issue", title="Weekly AWS savings")
    github._state.issues[first.number]["state"] = "closed"

    second = post(github, sample_markdown(), to="issue", title="Weekly AWS savings")

    assert second.number != first.number
    assert second.action == "created"


def test_issue_mode_with_a_number_posts_on_that_issue(github: FakeGitHub) -> None:
    issue = github.add_issue("FinOps weekly")
    result = post(github, sample_markdown(), to="issue", number=issue)
    assert result.number == issue
    assert len(github.comments_on(issue)) == 1
    assert [i["number"] for i in github.issues()] == [issue]


# --- helpers the command line uses -----------------------------------------------------


def test_pull_request_number_comes_from_the_event_payload(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "opened", "pull_request": {"number": 42}}))
    assert pull_request_number(event) == 42
    event.write_text(json.dumps({"issue": {"number": 7, "pull_request": {"url": "x"}}}))
    assert pull_request_number(event) == 7
    event.write_text(json.dumps({"schedule": "17 6 * * 1"}))
    assert pull_request_number(event) is None
    with pytest.raises(InputFileError, match="event payload"):
        pull_request_number(tmp_path / "missing.json")


def test_reading_a_missing_report_is_one_input_error_line(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"^cannot read the Markdown report .*missing\.md"):
        read_markdown(tmp_path / "missing.md")


# --- the Action and the example workflow -----------------------------------------------

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load_yaml(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def action() -> dict[Any, Any]:
    return load_yaml(ROOT / "action.yml")


def test_action_is_composite_and_reads_only_declared_inputs_and_step_outputs() -> None:
    document = action()
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    declared = set(document["inputs"])
    used = set(re.findall(r"\binputs\.([A-Za-z0-9_-]+)", text))
    assert used == declared  # nothing read undeclared, nothing declared unused
    assert {
        "provider",
        "args",
        "formats",
        "output-dir",
        "fail-on-savings",
        "min-savings",
        "comment",
        "comment-behavior",
        "history-path",
        "python-version",
        "version",
    } <= declared
    steps = document["runs"]["steps"]
    assert document["runs"]["using"] == "composite"
    ids = {step["id"] for step in steps if "id" in step}
    assert set(re.findall(r"\bsteps\.([A-Za-z0-9_-]+)\.outputs", text)) <= ids
    assert {"monthly-savings", "findings", "report-dir"} <= set(document["outputs"])
    for step in steps:
        assert ("run" in step) != ("uses" in step)
        if "run" in step:
            assert step["shell"] == "bash"  # composite run steps must name their shell
            assert "${{" not in step["run"], "expressions go through env, never into scripts"
    # Each pinned to a commit: tests/test_workflows.py checks every `uses:` in the repository.
    uses = [step["uses"].split("@")[0] for step in steps if "uses" in step]
    assert uses == ["actions/setup-python", "actions/upload-artifact"]


def test_weekly_workflow_runs_on_a_schedule_with_oidc_history_and_an_issue() -> None:
    document = load_yaml(ROOT / ".github" / "workflows" / "weekly-costscan.yml")
    triggers = document["on"] if "on" in document else document[True]  # YAML 1.1: on is True
    assert triggers["schedule"][0]["cron"]
    assert "workflow_dispatch" in triggers
    [job] = document["jobs"].values()
    assert job["permissions"] == {"id-token": "write", "contents": "read", "issues": "write"}
    steps = {step.get("uses", "").split("@")[0]: step for step in job["steps"]}
    assert steps["aws-actions/configure-aws-credentials"]["with"]["role-to-assume"]
    ours = steps["$/"]["with"]  # GitHub's self-repository form: this repository's action.yml
    assert ours["comment"] == "issue"
    # History lives at an s3:// URI from a repository variable, or in the Actions cache.
    assert "vars.COSTSCAN_HISTORY_URI" in str(job["env"])
    assert "env.HISTORY_URI" in ours["history-path"]
    assert set(ours) <= set(action()["inputs"])
    assert {"actions/cache/restore", "actions/cache/save"} <= set(steps)


FAKE_COSTSCAN = """\
#!{python}
import json, os, pathlib, sys
with open(os.environ["FAKE_COSTSCAN_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1] == "run" and os.environ.get("FAKE_WRITE_REPORTS") == "1":
    out = pathlib.Path(sys.argv[sys.argv.index("--output-dir") + 1])
    out.mkdir(parents=True, exist_ok=True)
    golden = pathlib.Path(os.environ["FAKE_GOLDEN"])
    for ext in ("json", "md"):
        text = (golden / f"sample.{{ext}}").read_text()
        (out / f"costscan-aws-multi-20261130T061700Z.{{ext}}").write_text(text)
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
"""


class ActionRunner:
    """Runs action.yml's shell steps in order, the way the runner would."""

    def __init__(self, tmp_path: Path, inputs: dict[str, str], event: dict[str, Any]) -> None:
        self.document = action()
        self.inputs = {
            name: str(spec.get("default", "")) for name, spec in self.document["inputs"].items()
        }
        self.inputs.update(inputs)
        self.github = {
            "action_path": str(ROOT),
            "server_url": "https://github.com",
            "repository": REPO,
            "run_id": "123",
            "token": TOKEN,
            "event": event,
        }
        self.outputs: dict[str, dict[str, str]] = {}
        self.cwd = tmp_path / "workspace"
        self.cwd.mkdir(parents=True)
        self.temp = tmp_path / "runner-temp"
        self.temp.mkdir()
        self.summary = tmp_path / "summary.md"
        self.summary.touch()
        self.log = tmp_path / "costscan-calls.jsonl"
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        fake = bin_dir / "costscan"
        fake.write_text(FAKE_COSTSCAN.format(python=sys.executable))
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
        (bin_dir / "python").symlink_to(sys.executable)
        self.path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"

    def resolve(self, expression: str) -> str:
        head, *rest = expression.split(".")
        value: Any
        if head == "inputs":
            [name] = rest
            # A default can itself be an expression, like `${{ github.token }}`.
            return EXPRESSION.sub(lambda m: self.resolve(m.group(1)), self.inputs[name])
        if head == "steps":
            step_id, _, name = rest
            return self.outputs.get(step_id, {}).get(name, "")
        assert head == "github", f"the test does not evaluate {expression!r}"
        value = self.github
        for key in rest:
            value = value.get(key) if isinstance(value, dict) else None
        return "" if value is None else str(value)

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def run(self, fake_env: dict[str, str]) -> int:
        """Every shell step in order; returns the first failing step's exit code, or 0."""
        for step in self.document["runs"]["steps"]:
            if "run" not in step:
                continue
            condition = step.get("if")
            if condition is not None:
                match = re.fullmatch(r"inputs\.([\w-]+) != '(\w+)'", condition)
                assert match, f"the test does not evaluate if: {condition}"
                if self.inputs[match.group(1)] == match.group(2):
                    continue
            if step["name"] == "Install costscan":
                # Only its input checks run here: the package is installed already.
                script = step["run"].split('venv="$RUNNER_TEMP')[0]
            else:
                script = step["run"]
            env = {
                name: EXPRESSION.sub(lambda m: self.resolve(m.group(1)), str(value))
                for name, value in step.get("env", {}).items()
            }
            output_file = self.temp / f"output-{step.get('id', 'step')}"
            output_file.write_text("")
            completed = subprocess.run(
                ["bash", "-c", script],
                cwd=self.cwd,
                env={
                    **os.environ,
                    **fake_env,
                    **env,
                    "PATH": self.path,
                    "RUNNER_TEMP": str(self.temp),
                    "GITHUB_OUTPUT": str(output_file),
                    "GITHUB_STEP_SUMMARY": str(self.summary),
                    "FAKE_COSTSCAN_LOG": str(self.log),
                    "FAKE_GOLDEN": str(GOLDEN),
                },
                capture_output=True,
                text=True,
                timeout=60,
            )
            if "id" in step:
                self.outputs[step["id"]] = dict(
                    line.split("=", 1) for line in output_file.read_text().splitlines()
                )
            if completed.returncode != 0:
                return completed.returncode
        return 0


def test_action_posts_and_summarizes_before_failing_on_the_savings_gate(
    tmp_path: Path,
) -> None:
    runner = ActionRunner(
        tmp_path,
        {
            "formats": "html, csv",
            "fail-on-savings": "100",
            "min-savings": "5",
            "history-path": "s3://finops/costscan",
            "args": "--region us-east-1\n--region eu-west-1 *",
            "comment": "pr",
        },
        event={"pull_request": {"number": 42}},
    )
    # An older run's report in the same folder must not be taken for this run's.
    old = runner.cwd / "costscan-report" / "costscan-aws-multi-20261123T061700Z.json"
    old.parent.mkdir()
    old.write_text(json.dumps({"summary": {"monthly_savings": 1.0, "findings": 1}}))
    os.utime(old, (1_000_000_000, 1_000_000_000))

    code = runner.run({"FAKE_EXIT": "1", "FAKE_WRITE_REPORTS": "1"})

    assert code == 1  # the gate fails the job, in the last step
    scan, comment = runner.calls()
    assert scan == [
        "run",
        "--provider",
        "aws",
        "--format",
        "html,csv,json,md",
        "--output-dir",
        "costscan-report",
        "--history",
        "s3://finops/costscan",
        "--min-savings",
        "5",
        "--fail-on-savings",
        "100",
        "--region",
        "us-east-1",
        "--region",
        "eu-west-1",
        "*",
    ]
    markdown_file = runner.outputs["results"]["markdown-file"]
    assert markdown_file == "costscan-report/costscan-aws-multi-20261130T061700Z.md"
    assert comment == [
        "comment",
        "--to",
        "pr",
        "--report",
        markdown_file,
        "--behavior",
        "update",
        "--report-url",
        "https://github.com/acme/infra/actions/runs/123",
        "--number",
        "42",
    ]
    summary = json.loads((GOLDEN / "sample.json").read_text())["summary"]
    assert runner.outputs["results"]["monthly-savings"] == f"{summary['monthly_savings']:.2f}"
    assert runner.outputs["results"]["findings"] == str(summary["findings"])
    assert runner.outputs["scan"]["exit-code"] == "1"
    assert runner.summary.read_text() == sample_markdown()


def test_action_with_no_report_says_so_posts_nothing_and_keeps_the_usage_exit_code(
    tmp_path: Path,
) -> None:
    runner = ActionRunner(tmp_path, {"comment": "issue"}, event={})

    code = runner.run({"FAKE_EXIT": "2"})

    assert code == 2
    assert [call[0] for call in runner.calls()] == ["run"]
    assert runner.outputs["results"]["markdown-file"] == ""
    assert "costscan wrote no report (exit code 2)" in runner.summary.read_text()


def test_action_skips_a_pr_comment_outside_pull_requests_and_rejects_bad_choices(
    tmp_path: Path,
) -> None:
    runner = ActionRunner(tmp_path / "a", {"comment": "pr"}, event={"schedule": "x"})
    assert runner.run({"FAKE_WRITE_REPORTS": "1"}) == 0
    assert [call[0] for call in runner.calls()] == ["run"]

    wrong = ActionRunner(tmp_path / "b", {"comment": "slack"}, event={})
    assert wrong.run({}) == 2
    assert wrong.calls() == []  # refused before the scan


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fake server is local: a proxy from the machine's environment must not intercept.
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
