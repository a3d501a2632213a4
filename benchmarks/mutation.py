"""Mutation testing of the money modules: do their tests fail when the arithmetic is wrong?

Our own small AST mutator (issue 21). Each mutant is one change to one module:

- ``compare``: a comparison's boundary or sense (``<`` <-> ``<=``, ``>`` <-> ``>=``,
  ``==`` <-> ``!=``, ``in`` <-> ``not in``, ``is`` <-> ``is not``);
- ``arith``: ``+`` <-> ``-``, ``*`` <-> ``/``, ``//`` -> ``/``, polars' ``&`` <-> ``|``;
- ``const``: a number moved by one (``n`` -> ``n + 1``), ``True`` <-> ``False``;
- ``negate``: the condition of an ``if``, ``while``, conditional expression, polars
  ``when(...)`` or single-argument ``filter(...)`` negated;
- ``return``: ``return value`` -> ``return None``;
- ``boolop``: ``and`` <-> ``or``.

Docstrings, annotations, strings and f-strings are left alone (text, not arithmetic).
The mutated module is written to a temporary file, and the tests run in a fresh process
whose import system loads that file under the module's name (the package installs through
a package-dir mapping, so nothing in the tree is touched): ``pytest -x -q -n0``, with a
timeout per mutant of three times the unmutated run plus ten seconds. A mutant is killed
when the tests fail, survives when they pass, times out when they hang.

The unmutated run records which lines of the module each test runs (a trace function on
that one file); a mutant then runs only the tests that run a line of its statement, and a
mutant no test reaches survives without a run. Code run at import (module level, class
bodies: constants, dataclass defaults) counts for every test. ``--all-tests`` runs every
test against every mutant instead (the same outcomes on storage's sample, 49 s against
65 s; the gain grows with the tests' length); ``--jobs N`` runs N mutants side by side.

Survivors that cannot change behaviour (equivalent mutants) are listed, each with its
reason, in ``benchmarks/mutation_equivalent.toml``; they are reported apart and leave the
score: ``score = killed / (mutants - equivalent)``, timeouts counting as killed.

    python benchmarks/mutation.py                        # every module in MODULES
    python benchmarks/mutation.py reports/ranking.py     # one module, its own tests
    python benchmarks/mutation.py policies/storage.py --sample 60 --seed 21
    python benchmarks/mutation.py reports/ranking.py --list     # the mutants, not run
    python benchmarks/mutation.py reports/ranking.py --match _money_text   # some of them
    python benchmarks/mutation.py reports/ranking.py --rerun last.txt  # last run's survivors
    python benchmarks/mutation.py policies/gcp.py --tests tests/policies/test_gcp_commitments.py

Run one module at a time on a shared machine; ``--sample N --seed S`` runs a fixed random
sample of N mutants. Exit code 1 when a module scores under ``--fail-under``.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import queue
import random
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT_FILE = ROOT / "benchmarks" / "mutation_equivalent.toml"

# Each module and its own fast tests (issue 21: the ranking and every policy module). A
# module not listed runs the test files that import it by name.
MODULES: dict[str, tuple[str, ...]] = {
    "reports/ranking.py": (
        "tests/reports/test_ranking.py",
        "tests/reports/test_ranking_rules.py",
    ),
    "policies/storage.py": (
        "tests/policies/test_storage.py",
        "tests/policies/test_storage_boundaries.py",
    ),
    "policies/rightsizing.py": (
        "tests/policies/test_rightsizing.py",
        "tests/policies/test_gcp_arm.py",
        "tests/policies/test_billing_idle.py",
        "tests/policies/test_discounts.py",
        "tests/policies/test_rightsizing_boundaries.py",
    ),
    "policies/scheduling.py": (
        "tests/policies/test_scheduling.py",
        "tests/policies/test_scheduling_boundaries.py",
    ),
    "policies/commitments.py": (
        "tests/policies/test_commitments.py",
        "tests/policies/test_commitments_boundaries.py",
    ),
    "policies/network.py": (
        "tests/policies/test_network.py",
        "tests/policies/test_network_boundaries.py",
    ),
    "policies/observability.py": (
        "tests/policies/test_observability.py",
        "tests/policies/test_observability_boundaries.py",
    ),
    "policies/gcp.py": (
        "tests/policies/test_gcp_commitments.py",
        "tests/policies/test_gcp_boundaries.py",
    ),
    "policies/_compute.py": (
        "tests/policies/test_compute_boundaries.py",
        "tests/policies/test_rightsizing.py",
    ),
    "policies/gcp_disks.py": (
        "tests/policies/test_gcp_disks.py",
        "tests/policies/test_gcp_disks_boundaries.py",
    ),
    "policies/azure.py": ("tests/policies/test_azure_boundaries.py",),
    "policies/aws_cost_hub.py": (
        "tests/scanner/test_cost_hub_cross_check.py",
        "tests/policies/test_aws_cost_hub_boundaries.py",
    ),
    "policies/databases.py": (
        "tests/policies/test_databases.py",
        "tests/policies/test_databases_boundaries.py",
    ),
    "policies/data_services.py": (
        "tests/policies/test_data_services.py",
        "tests/policies/test_data_services_boundaries.py",
    ),
    "policies/gcp_observability.py": (
        "tests/policies/test_gcp_observability.py",
        "tests/policies/test_gcp_observability_boundaries.py",
    ),
    "policies/_discounts.py": (
        "tests/policies/test_discounts.py",
        "tests/policies/test_gcp_sustained_use.py",
        "tests/policies/test_discounts_boundaries.py",
    ),
    "policies/_billing.py": (
        "tests/policies/test_billing_idle.py",
        "tests/policies/test_billing_boundaries.py",
    ),
    "policies/demand.py": (
        "tests/policies/test_demand.py",
        "tests/policies/test_demand_boundaries.py",
    ),
    "scanner/pipeline/history.py": (
        "tests/scanner/test_history.py",
        "tests/scanner/test_history_boundaries.py",
    ),
}

# Runs in the child: load the mutant file under the module's import name, then pytest.
_BOOT = """
import importlib.abc, importlib.util, sys
sys.dont_write_bytecode = True
_name, _path = sys.argv[1], sys.argv[2]
class _Mutant(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname == _name:
            return importlib.util.spec_from_file_location(fullname, _path)
        return None
sys.meta_path.insert(0, _Mutant())
import pytest
sys.exit(pytest.main(sys.argv[3:]))
"""

# The same, recording which lines of the module each test runs (the unmutated module, its
# own line numbers): a mutant then runs only the tests that run its statement. Lines run
# outside any test (at import, in collection) count for every test.
_BOOT_COVER = """
import importlib.abc, importlib.util, json, sys, threading
sys.dont_write_bytecode = True
_name, _path, _out = sys.argv[1], sys.argv[2], sys.argv[3]
class _Mutant(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname == _name:
            return importlib.util.spec_from_file_location(fullname, _path)
        return None
sys.meta_path.insert(0, _Mutant())
import pytest
_outside = set()
_by_test = {}
_now = [_outside]
def _line(frame, event, arg):
    if event == "line":
        _now[0].add(frame.f_lineno)
    return _line
def _at_import(frame, event, arg):
    if event == "line":
        _outside.add(frame.f_lineno)
    return _at_import
def _call(frame, event, arg):
    if frame.f_code.co_filename != _path:
        return None
    # The module's and class bodies' code (not CO_OPTIMIZED) runs once, at import, which
    # may happen inside whichever test first imports it: it counts for every test.
    if not frame.f_code.co_flags & 1:
        _outside.add(frame.f_lineno)
        return _at_import
    _now[0].add(frame.f_lineno)
    return _line
class _Recorder:
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        _now[0] = _by_test.setdefault(item.nodeid, set())
        yield
        _now[0] = _outside
threading.settrace(_call)
sys.settrace(_call)
code = pytest.main(sys.argv[4:], plugins=[_Recorder()])
sys.settrace(None)
with open(_out, "w", encoding="utf-8") as out:
    tests = {k: sorted(v) for k, v in _by_test.items()}
    json.dump({"outside": sorted(_outside), "tests": tests}, out)
sys.exit(code)
"""

_PYTEST_ARGS = ("-x", "-q", "-n0", "-p", "no:cacheprovider", "--no-header", "-W", "ignore")


@dataclass(frozen=True)
class Mutant:
    index: int  # its position in the module's mutation points (stable for one source)
    kind: str
    line: int
    key: str  # "qualname: before -> after", what the allow-list names
    before: str
    after: str
    # The lines of the statement it sits in: a test that runs none of them cannot see it.
    span: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant
    status: str  # killed, survived, timeout, equivalent (survived and allow-listed)
    seconds: float
    tests_run: int = 0  # the tests that run its lines (0: none does, it survives unrun)


# --- finding the mutation points -------------------------------------------------------

_COMPARE_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_BINOP_SWAP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
}

# A point: what it is, and a function that mutates the (deep-copied) tree at that node.
_Apply = Callable[[ast.AST], None]


def _points(tree: ast.Module) -> Iterator[tuple[str, ast.AST, str, _Apply]]:
    """Every mutation point, in a fixed order: (kind, node, qualname, apply)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        # Text and types are not arithmetic: docstrings, annotations, f-strings.
        if isinstance(node, ast.JoinedStr):
            skip.update(id(n) for n in ast.walk(node))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args
            every = [*arguments.args, *arguments.kwonlyargs, *arguments.posonlyargs]
            every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
            for arg in every:
                if arg.annotation is not None:
                    skip.update(id(n) for n in ast.walk(arg.annotation))
            # Decorators configure (frozen=True, a policy's registration), they do not count.
            for decorator in node.decorator_list:
                skip.update(id(n) for n in ast.walk(decorator))
            if node.returns is not None:
                skip.update(id(n) for n in ast.walk(node.returns))
        if isinstance(node, ast.ClassDef):
            for decorator in node.decorator_list:
                skip.update(id(n) for n in ast.walk(decorator))
        if isinstance(node, ast.AnnAssign):
            skip.update(id(n) for n in ast.walk(node.annotation))
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            skip.update(id(n) for n in ast.walk(node))
    yield from _visit(tree, "", skip)


def _visit(node: ast.AST, qual: str, skip: set[int]) -> Iterator[tuple[str, ast.AST, str, _Apply]]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        qual = f"{qual}.{node.name}" if qual else node.name
    if id(node) not in skip:
        yield from _here(node, qual)
    for child in ast.iter_child_nodes(node):
        yield from _visit(child, qual, skip)


def _here(node: ast.AST, qual: str) -> Iterator[tuple[str, ast.AST, str, _Apply]]:
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in _COMPARE_SWAP:
                yield "compare", node, qual, _swap_cmp(i)
    elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BINOP_SWAP:
        yield "arith", node, qual, _swap_binop
    elif isinstance(node, ast.BoolOp):
        yield "boolop", node, qual, _swap_boolop
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, int | float):  # bool is an int: True <-> False
            yield "const", node, qual, _bump
    elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
        yield "negate", node, qual, _negate_test
    elif isinstance(node, ast.Return) and node.value is not None:
        if not (isinstance(node.value, ast.Constant) and node.value.value is None):
            yield "return", node, qual, _drop_return
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("when", "filter")
        and len(node.args) == 1
        and not node.keywords
        and not isinstance(node.args[0], (ast.Starred, ast.List))
    ):
        yield "negate", node, qual, _negate_polars


def _swap_cmp(i: int) -> _Apply:
    def apply(node: ast.AST) -> None:
        assert isinstance(node, ast.Compare)
        node.ops[i] = _COMPARE_SWAP[type(node.ops[i])]()

    return apply


def _swap_binop(node: ast.AST) -> None:
    assert isinstance(node, (ast.BinOp, ast.AugAssign))
    node.op = _BINOP_SWAP[type(node.op)]()


def _swap_boolop(node: ast.AST) -> None:
    assert isinstance(node, ast.BoolOp)
    node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()


def _bump(node: ast.AST) -> None:
    assert isinstance(node, ast.Constant)
    value = node.value
    if isinstance(value, bool):
        node.value = not value
    elif isinstance(value, int | float):
        node.value = value + 1


def _negate_test(node: ast.AST) -> None:
    assert isinstance(node, (ast.If, ast.While, ast.IfExp))
    node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)


def _drop_return(node: ast.AST) -> None:
    assert isinstance(node, ast.Return)
    node.value = ast.Constant(value=None)


def _negate_polars(node: ast.AST) -> None:
    assert isinstance(node, ast.Call)
    node.args[0] = ast.UnaryOp(op=ast.Invert(), operand=node.args[0])


def _show(node: ast.AST) -> str:
    if isinstance(node, (ast.If, ast.While)):
        text = f"{'if' if isinstance(node, ast.If) else 'while'} {ast.unparse(node.test)}"
    elif isinstance(node, ast.Return):
        text = ast.unparse(node)
    else:
        text = ast.unparse(node)
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= 90 else text[:87] + "..."


def _statement_spans(tree: ast.Module) -> dict[int, tuple[int, int]]:
    """id(node) -> the lines of the innermost statement holding it."""
    spans: dict[int, tuple[int, int]] = {}

    def walk(node: ast.AST, span: tuple[int, int]) -> None:
        if isinstance(node, ast.stmt):
            span = (node.lineno, node.end_lineno or node.lineno)
        spans[id(node)] = span
        for child in ast.iter_child_nodes(node):
            walk(child, span)

    walk(tree, (0, 0))
    return spans


def mutants(source: str) -> list[Mutant]:
    """Every mutant of a module's source, numbered in a fixed order."""
    tree = ast.parse(source)
    spans = _statement_spans(tree)
    lines = source.splitlines()
    found: list[Mutant] = []
    seen: Counter[str] = Counter()
    index = -1
    for kind, node, qual, apply in _points(tree):
        index += 1
        before = _show(node)
        changed = copy.deepcopy(node)
        apply(changed)
        after = _show(changed)
        line = getattr(node, "lineno", 0)
        # The line it sits on names a number or a test apart from its twins elsewhere.
        where = re.sub(r"\s+", " ", lines[line - 1].strip())[:80] if line else ""
        key = f"{qual or '<module>'}: {before} -> {after}"
        if kind in ("const", "negate") or len(before) < 20:
            key = f"{key} in `{where}`"
        seen[key] += 1
        if seen[key] > 1:
            key = f"{key} #{seen[key]}"
        found.append(Mutant(index, kind, line, key, before, after, spans.get(id(node), (0, 0))))
    return found


def mutated_source(source: str, mutant: Mutant) -> str:
    tree = ast.parse(source)
    for index, (_kind, node, _qual, apply) in enumerate(_points(tree)):
        if index == mutant.index:
            apply(node)
            return ast.unparse(ast.fix_missing_locations(tree))
    raise LookupError(f"no mutation point {mutant.index}")


# --- running ---------------------------------------------------------------------------


def module_name(path: str) -> str:
    return "costscan." + path.removesuffix(".py").replace("/", ".")


def tests_importing(path: str) -> tuple[str, ...]:
    """The test files that import the module by name (a module MODULES does not list)."""
    name = module_name(path)
    parent, _, leaf = name.rpartition(".")
    pattern = re.compile(rf"{re.escape(name)}\b|from {re.escape(parent)} import .*\b{leaf}\b")
    return tuple(
        str(test.relative_to(ROOT))
        for test in sorted((ROOT / "tests").rglob("test_*.py"))
        if pattern.search(test.read_text(encoding="utf-8"))
    )


def run_tests(
    name: str,
    module_file: Path,
    tests: tuple[str, ...],
    timeout: float,
    *,
    boot: str = _BOOT,
    extra: tuple[str, ...] = (),
    pytest_args: tuple[str, ...] = _PYTEST_ARGS,
) -> str:
    command = [sys.executable, "-c", boot, name, str(module_file), *extra, *pytest_args, *tests]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    # Its own process group, so a timeout ends the whole run (moto servers, workers).
    with subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    ) as child:
        try:
            code = child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, 9)
            child.wait()
            return "timeout"
    return "survived" if code == 0 else "killed"


def survivors_in(log: Path) -> set[str]:
    """The mutant keys an earlier run's output lists as SURVIVED (to re-run after a fix)."""
    found = re.findall(r"^  SURVIVED L\d+: (.+)$", log.read_text(encoding="utf-8"), re.M)
    return set(found)


def load_equivalent() -> dict[str, dict[str, str]]:
    """module -> {mutant key: reason}, from the reviewed allow-list."""
    if not EQUIVALENT_FILE.exists():
        return {}
    data = tomllib.loads(EQUIVALENT_FILE.read_text(encoding="utf-8"))
    listed: dict[str, dict[str, str]] = {}
    for entry in data.get("equivalent", []):
        listed.setdefault(entry["module"], {})[entry["mutant"]] = entry["reason"]
    return listed


def run_module(
    path: str,
    tests: tuple[str, ...],
    sample: int | None,
    seed: int,
    equivalent: dict[str, str],
    match: str | None = None,
    only: set[str] | None = None,
    *,
    jobs: int = 1,
    select: bool = True,
) -> list[Outcome]:
    source = (ROOT / path).read_text(encoding="utf-8")
    name = module_name(path)
    chosen = [
        m
        for m in mutants(source)
        if (match is None or match in m.key) and (only is None or m.key in only)
    ]
    if sample is not None and sample < len(chosen):
        chosen = sorted(random.Random(seed).sample(chosen, sample), key=lambda m: m.index)
    with tempfile.TemporaryDirectory(prefix="costscan-mutation-") as scratch:
        # The unmutated module, as written (its line numbers are the mutants'): the tests
        # must pass on it; the run records each test's lines, and its time sets the timeout.
        original = Path(scratch) / "original" / Path(path).name
        original.parent.mkdir()
        original.write_text(source, encoding="utf-8")
        lines_file = Path(scratch) / "lines.json"
        started = time.monotonic()
        baseline = run_tests(
            name,
            original,
            tests,
            timeout=1800,
            boot=_BOOT_COVER,
            extra=(str(lines_file),),
            pytest_args=tuple(a for a in _PYTEST_ARGS if a != "-x"),
        )
        if baseline != "survived":
            raise SystemExit(f"{path}: its tests fail without any mutant: {' '.join(tests)}")
        timeout = 3 * (time.monotonic() - started) + 10
        covering = TestsByLine.load(lines_file) if select else None
        print(f"{path}: {len(chosen)} mutants, tests {' '.join(tests)}", flush=True)

        def one(mutant: Mutant, slot: int) -> Outcome:
            chosen_tests = covering.covering(mutant.span) if covering is not None else tests
            if not chosen_tests:
                # No test runs its statement: nothing could fail, so it survives unrun.
                status = "equivalent" if mutant.key in equivalent else "survived"
                return Outcome(mutant, status, 0.0, 0)
            target = Path(scratch) / f"slot{slot}" / Path(path).name
            target.parent.mkdir(exist_ok=True)
            target.write_text(mutated_source(source, mutant), encoding="utf-8")
            begun = time.monotonic()
            status = run_tests(name, target, chosen_tests, timeout)
            if status == "survived" and mutant.key in equivalent:
                status = "equivalent"
            return Outcome(mutant, status, time.monotonic() - begun, len(chosen_tests))

        outcomes: list[Outcome] = []
        slots = queue.SimpleQueue[int]()
        for slot in range(max(1, jobs)):
            slots.put(slot)

        def in_slot(mutant: Mutant) -> Outcome:
            slot = slots.get()
            try:
                return one(mutant, slot)
            finally:
                slots.put(slot)

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for outcome in pool.map(in_slot, chosen):
                outcomes.append(outcome)
                unrun = " (no test runs it)" if outcome.tests_run == 0 else ""
                print(
                    f"  {outcome.status:<10} L{outcome.mutant.line:<4} {outcome.mutant.key}{unrun}",
                    flush=True,
                )
    return outcomes


@dataclass(frozen=True)
class TestsByLine:
    """Which tests run which lines of the unmutated module (the coverage run's record)."""

    everyone: frozenset[int]  # lines run outside any test: at import, in collection
    by_test: dict[str, frozenset[int]]

    @staticmethod
    def load(path: Path) -> TestsByLine:
        import json

        data = json.loads(path.read_text(encoding="utf-8"))
        return TestsByLine(
            frozenset(data["outside"]),
            {test: frozenset(lines) for test, lines in data["tests"].items()},
        )

    def covering(self, span: tuple[int, int]) -> tuple[str, ...]:
        """The tests that run a line of ``span`` (every test when the module's import
        does), in the order they ran."""
        lines = set(range(span[0], span[1] + 1))
        if lines & self.everyone:
            return tuple(self.by_test)
        return tuple(test for test, ran in self.by_test.items() if lines & ran)


def summary(path: str, outcomes: list[Outcome], equivalent: dict[str, str]) -> float:
    counts = Counter(o.status for o in outcomes)
    scored = len(outcomes) - counts["equivalent"]
    caught = counts["killed"] + counts["timeout"]
    score = 100.0 * caught / scored if scored else 100.0
    print(
        f"\n{path}: mutants {len(outcomes)}, killed {counts['killed']}, "
        f"survived {counts['survived']}, timed out {counts['timeout']}, "
        f"equivalent {counts['equivalent']}, score {score:.1f}%"
    )
    for outcome in outcomes:
        if outcome.status == "survived":
            print(f"  SURVIVED L{outcome.mutant.line}: {outcome.mutant.key}")
    for outcome in outcomes:
        if outcome.status == "equivalent":
            reason = equivalent[outcome.mutant.key]
            print(f"  equivalent L{outcome.mutant.line}: {outcome.mutant.key} ({reason})")
    keys = {o.mutant.key for o in outcomes}
    stale = [key for key in equivalent if key not in keys]
    if stale and len(outcomes) == len(mutants((ROOT / path).read_text(encoding="utf-8"))):
        for key in stale:
            print(f"  allow-list entry matches no mutant any more: {key}")
    return score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="paths from the repository root")
    parser.add_argument("--tests", nargs="+", help="test files (default: the module's own)")
    parser.add_argument("--sample", type=int, help="run a random sample of N mutants")
    parser.add_argument("--seed", type=int, default=21, help="the sample's seed")
    parser.add_argument("--match", help="run only the mutants whose key contains this text")
    parser.add_argument(
        "--rerun", type=Path, help="run only the survivors listed in an earlier run's output"
    )
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--fail-under", type=float, default=0.0, help="minimum score, %%")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run side by side")
    parser.add_argument(
        "--all-tests",
        action="store_true",
        help="run every test of the module against each mutant, not only those that run "
        "its statement (slower; the same outcomes unless a test depends on another's state)",
    )
    args = parser.parse_args(argv)

    paths = args.modules or list(MODULES)
    for path in paths:
        if not (ROOT / path).is_file():
            parser.error(f"no such module: {path}")
    listed = load_equivalent()
    worst = 100.0
    for path in paths:
        if args.list:
            for mutant in mutants((ROOT / path).read_text(encoding="utf-8")):
                print(f"{path} L{mutant.line:<4} {mutant.kind:<8} {mutant.key}")
            continue
        tests = tuple(args.tests) if args.tests else MODULES.get(path) or tests_importing(path)
        if not tests:
            parser.error(f"{path}: no test imports it; name them with --tests")
        equivalent = listed.get(path, {})
        only = survivors_in(args.rerun) if args.rerun else None
        outcomes = run_module(
            path,
            tests,
            args.sample,
            args.seed,
            equivalent,
            args.match,
            only,
            jobs=args.jobs,
            select=not args.all_tests,
        )
        worst = min(worst, summary(path, outcomes, equivalent))
    return 1 if worst < args.fail_under else 0


if __name__ == "__main__":
    sys.exit(main())
