"""The Action's own files: action.yml's shell steps and the example weekly workflow.

The Action tests run the composite action's shell steps, as written in action.yml, with a
stand-in ``costscan`` executable on PATH; the posting itself is tested in test_github.py.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.publish.conftest import REPO, TOKEN

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "reports" / "golden"


def sample_markdown() -> str:
    return (GOLDEN / "sample.md").read_text(encoding="utf-8")


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
