"""Supply-chain rules for what runs with a user's cloud credentials: action.yml and the workflows.

Every ``uses:`` is pinned to a commit with its version beside it, every checkout leaves its
token out of ``.git/config``, every job says which token permissions it needs, and the Action
installs its dependencies from a hashed lock. The rules are checked on the repository's own
files and, so that a check cannot pass by finding nothing, on small counter-examples.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
ACTION_LOCK = ROOT / "requirements" / "action.txt"
TEST_LOCK = ROOT / "requirements" / "test.txt"

# `uses: owner/repo[/path]@<40 hex> # vX.Y.Z`, or GitHub's self-repository form `$/path`.
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^#\s*v\d+\.\d+\.\d+$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)\s*(?P<comment>#.*)?$")


def load(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), path
    return document


def uses_in_document(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "uses" and isinstance(value, str):
                yield value
            else:
                yield from uses_in_document(value)
    elif isinstance(node, list):
        for item in node:
            yield from uses_in_document(item)


def unpinned_uses(text: str) -> list[str]:
    """Each `uses:` line that is not a SHA pin with a version comment (or `$/`), as a message.

    The lines are read as text because YAML drops the comments; the parsed document must
    hold the same references, so a `uses:` written in a shape this reader misses fails too.
    """
    problems = []
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = USES_LINE.match(line)
        if match is None:
            continue
        ref, comment = match["ref"], (match["comment"] or "").strip()
        found.append(ref)
        if ref.startswith("$/"):
            continue
        if not PINNED.match(ref):
            problems.append(f"line {number}: {ref} is not pinned to a full commit SHA")
        elif not VERSION_COMMENT.match(comment):
            problems.append(f"line {number}: {ref} has no version comment (# vX.Y.Z)")
    parsed = Counter(uses_in_document(yaml.safe_load(text)))
    if parsed != Counter(found):
        problems.append(
            f"uses: read as lines {sorted(found)} != parsed {sorted(parsed.elements())}"
        )
    return problems


def all_files() -> list[Path]:
    assert WORKFLOWS, "no workflow found"
    return [ACTION, *WORKFLOWS]


def steps_of(path: Path) -> Iterator[dict[str, Any]]:
    document = load(path)
    if path == ACTION:
        yield from document["runs"]["steps"]
        return
    for job in document["jobs"].values():
        yield from job.get("steps", [])


# --- pins -------------------------------------------------------------------------------


def test_every_uses_is_pinned_to_a_commit_with_its_version() -> None:
    problems = {
        path.relative_to(ROOT).as_posix(): unpinned_uses(path.read_text(encoding="utf-8"))
        for path in all_files()
    }
    assert {name: found for name, found in problems.items() if found} == {}
    # The self-repository form is the only one without a SHA, and the weekly example uses it.
    weekly = load(ROOT / ".github" / "workflows" / "weekly-costscan.yml")
    assert any(ref.startswith("$/") for ref in uses_in_document(weekly))


def test_one_commit_means_one_version_everywhere() -> None:
    versions: dict[str, set[str]] = {}
    for path in all_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            match = USES_LINE.match(line)
            if match and "@" in match["ref"]:
                repository = "/".join(match["ref"].split("@")[0].split("/")[:2])
                sha = match["ref"].split("@")[1]
                versions.setdefault(f"{repository}@{sha}", set()).add(match["comment"] or "")
    assert versions
    assert {ref: found for ref, found in versions.items() if len(found) != 1} == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- uses: actions/checkout@v4\n", "is not pinned to a full commit SHA"),
        ("- uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n", "no version"),
        ("- uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4\n", "no vers"),
        ("- uses: ./\n", "is not pinned to a full commit SHA"),
        ("- uses: docker://alpine:3\n", "is not pinned to a full commit SHA"),
        ('- {name: x, uses: "actions/checkout@v4"}\n', "read as lines"),
    ],
)
def test_the_pin_check_catches_what_it_should(text: str, expected: str) -> None:
    [problem] = unpinned_uses(text)
    assert expected in problem


def test_the_pin_check_accepts_a_sha_with_its_version_and_the_self_repository_form() -> None:
    text = (
        "- uses: actions/cache/save@5a3ec84eff668545956fd18022155c47e93e2684 # v4.2.3\n- uses: $/\n"
    )
    assert unpinned_uses(text) == []


# --- credentials and permissions -------------------------------------------------------


def test_every_checkout_leaves_its_token_out_of_the_workspace() -> None:
    checkouts = [
        (path.name, step)
        for path in all_files()
        for step in steps_of(path)
        if str(step.get("uses", "")).startswith("actions/checkout@")
    ]
    assert len(checkouts) >= 3  # ci.yml's two jobs and the weekly example
    for name, step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, name


def test_every_job_declares_its_permissions_and_the_workflows_grant_none() -> None:
    granted: dict[str, dict[str, str]] = {}
    for path in WORKFLOWS:
        document = load(path)
        assert document.get("permissions", {}) == {}, f"{path.name}: permissions per job"
        for job_id, job in document["jobs"].items():
            assert isinstance(job.get("permissions"), dict), f"{path.name} {job_id}"
            granted[f"{path.name}:{job_id}"] = job["permissions"]
    # Least privilege, as the README's Action section explains each one.
    assert granted == {
        "ci.yml:test": {"contents": "read"},
        "ci.yml:newest": {"contents": "read"},
        "mutation.yml:mutants": {"contents": "read"},
        "weekly-costscan.yml:scan": {
            "id-token": "write",
            "contents": "read",
            "issues": "write",
        },
    }


# --- CI -------------------------------------------------------------------------------


def test_ci_runs_the_pinned_tests_and_lint_and_a_non_blocking_newest_job() -> None:
    document = load(ROOT / ".github" / "workflows" / "ci.yml")
    triggers = document["on"] if "on" in document else document[True]  # YAML 1.1: on is True
    assert {"push", "pull_request", "schedule"} <= set(triggers)
    test, newest = document["jobs"]["test"], document["jobs"]["newest"]

    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    lowest = re.fullmatch(r">=(3\.\d+)", requires)
    assert lowest is not None
    assert test["strategy"]["matrix"]["python-version"] == [lowest[1], "3.12"]
    runs = [step.get("run", "") for step in test["steps"]]
    assert "pip install -c requirements/test.txt -e '.[test]' && pytest" in runs
    assert ".ci/lint" in runs
    assert "pip install -c requirements/test.txt -e '.[test]' && pytest" in (
        ROOT / ".ci" / "run"
    ).read_text(encoding="utf-8")

    assert newest["continue-on-error"] is True
    newest_runs = "\n".join(step.get("run", "") for step in newest["steps"])
    assert "pip install -e '.[test]'" in newest_runs
    assert "requirements/test.txt -e" not in newest_runs  # no constraints: the newest releases
    assert "pytest" in newest_runs


def test_lint_runs_zizmor_offline() -> None:
    lint = (ROOT / ".ci" / "lint").read_text(encoding="utf-8")
    assert re.search(r"^zizmor --offline \.$", lint, re.M)


@pytest.mark.skipif(shutil.which("zizmor") is None, reason="zizmor is not installed")
def test_zizmor_finds_nothing_even_as_an_auditor() -> None:
    # .ci/lint runs zizmor's default persona; the auditor persona adds the findings that may
    # be false positives, and today there is none of those either. zizmor 1.33.1 was used
    # when this was written (requirements/test.txt).
    completed = subprocess.run(
        ["zizmor", "--offline", "--persona", "auditor", "--format", "json", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    findings = json.loads(completed.stdout)
    assert [(f["ident"], f["locations"][0]["symbolic"]["key"]) for f in findings] == []
    assert completed.returncode == 0, completed.stderr


def test_dependabot_keeps_the_action_pins_and_the_python_locks_current() -> None:
    updates = load(ROOT / ".github" / "dependabot.yml")["updates"]
    ecosystems = {update["package-ecosystem"]: update for update in updates}
    assert set(ecosystems) == {"github-actions", "pip"}
    for update in ecosystems.values():
        assert update["directory"] == "/"  # workflows + action.yml; pyproject + requirements/
        assert update["cooldown"]["default-days"] >= 1


# --- the Action's install -------------------------------------------------------------


def install_step() -> dict[str, Any]:
    [step] = [s for s in load(ACTION)["runs"]["steps"] if s.get("name") == "Install costscan"]
    return step


def pip_installs(script: str) -> list[str]:
    """Every pip install command of a script, continuation lines joined."""
    joined = script.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if re.search(r"\binstall\b", line)]


def test_the_action_installs_the_hashed_lock_then_costscan_alone() -> None:
    script = install_step()["run"]
    installs = pip_installs(script)
    assert len(installs) == 2, installs
    lock, package = installs
    assert "--require-hashes" in lock
    assert "--only-binary :all:" in lock
    assert '-r "$COSTSCAN_ACTION_PATH/requirements/action.txt"' in lock
    assert "--no-deps" in package
    assert "--no-build-isolation" in package  # the build backend is the locked setuptools
    assert '"${pip[@]}" check' in script
    # No other step installs anything.
    others = [s.get("run", "") for s in load(ACTION)["runs"]["steps"] if s != install_step()]
    assert [line for script in others for line in pip_installs(script)] == []


def lock_pins(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", re.M)
    return {canonicalize_name(name): version for name, version in pattern.findall(text)}


def test_the_action_lock_pins_every_package_with_hashes() -> None:
    text = ACTION_LOCK.read_text(encoding="utf-8")
    requirements = [
        block for block in re.split(r"\n(?=[A-Za-z0-9])", text) if re.match(r"[A-Za-z0-9]", block)
    ]
    assert len(requirements) == len(lock_pins(ACTION_LOCK)) > 10
    for block in requirements:
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", block), block.splitlines()[0]


def test_the_action_lock_covers_costscan_and_its_github_extra_at_allowed_versions() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = [
        Requirement(spec)
        for spec in [
            *project["project"]["dependencies"],
            *project["project"]["optional-dependencies"]["github"],
        ]
    ]
    pins = lock_pins(ACTION_LOCK)
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is missing from {ACTION_LOCK.name}: regenerate it"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]}"
    # The build backend the Action builds costscan with is the one pyproject.toml names.
    [backend] = project["build-system"]["requires"]
    assert f"setuptools=={pins['setuptools']}" == backend
    assert backend in (ROOT / "requirements" / "action.in").read_text(encoding="utf-8")


def test_the_action_runs_the_versions_ci_tested() -> None:
    action, tested = lock_pins(ACTION_LOCK), lock_pins(TEST_LOCK)
    shared = set(action) & set(tested)
    assert shared >= {"polars", "boto3", "pygithub"}
    assert {
        name: (action[name], tested[name]) for name in shared if action[name] != tested[name]
    } == {}


@pytest.mark.parametrize(
    ("version", "spec"),
    [("", "<action path>"), ("0.1.0", "costscan==0.1.0"), ("==0.2.1", "costscan==0.2.1")],
)
def test_the_action_installs_one_exact_release_or_its_own_checkout(version: str, spec: str) -> None:
    completed = run_install_checks(version)
    assert (completed.returncode, completed.stdout.strip()) == (0, spec)


@pytest.mark.parametrize("version", [">=0.1,<0.2", "latest", "0.1.0; rm -rf /", "costscan"])
def test_the_action_refuses_a_version_range_in_one_line(version: str) -> None:
    completed = run_install_checks(version)
    assert completed.returncode == 2
    assert completed.stdout.strip() == (
        f"::error::costscan: version must be one exact release such as 0.1.0, not '{version}'"
    )


def run_install_checks(version: str) -> subprocess.CompletedProcess[str]:
    """The install step up to where it creates its environment, then the spec it chose."""
    script = install_step()["run"].split('venv="$RUNNER_TEMP')[0] + 'echo "$spec"\n'
    return subprocess.run(
        ["bash", "-c", script],
        env={
            "PATH": "/usr/bin:/bin",
            "COSTSCAN_VERSION": version,
            "COSTSCAN_ACTION_PATH": "<action path>",
            "COSTSCAN_COMMENT": "none",
            "COSTSCAN_COMMENT_BEHAVIOR": "update",
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
