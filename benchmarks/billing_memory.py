"""Billing memory growth: the whole ``costscan run`` over ever larger FOCUS exports.

Writes (once, cached under benchmarks/out/) synthetic FOCUS Parquet exports of each size
(benchmarks/focus_synth.py, a million rows at a time, so the generator holds one chunk):
by default 50,000 resources over one month of hourly charges, the shape of issue 19. Each
size then runs ``costscan run --provider focus --billing FILE --format json`` in its own
process (read, rollup, every billing policy, ranking, the report written), and its wall
time and peak resident memory (the child's own ru_maxrss, from wait4) are printed side by
side with:

- the slope between consecutive sizes: MB and seconds per 10 million more rows;
- the ratio of peaks where one size is 4x another (flat memory: near 1), and of times
  (linear time: at most 4).

A size ``AxN`` is N copies of the A-million-row export (hard links in one folder): N
times the rows over the same resources and days, so the rollup's cells do not grow and
the ratio to A's run is the cost of rows alone. Single exports of growing size fill
more cells too (50,000 resources x 30 days is filled only slowly by random line items).

Targets (issue 19): peak under 3 GB at every size, the 4x peak ratio near 1, time no
worse than linear. The table is also written to benchmarks/out/billing-memory-latest.txt.

    python benchmarks/billing_memory.py                    # 5, 20 and 40 million rows
    python benchmarks/billing_memory.py --sizes 10,40,100  # millions of rows
    python benchmarks/billing_memory.py --sizes 10,10x4    # one export, four times

Above 40 million rows the export is a folder of several files (``several_files``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
TARGET_MB = 3 * 1024
# The largest export written as one file (a 100M-row file takes the generator most of an
# hour on 2 busy cores); larger sizes are several files (``several_files``).
ONE_FILE = 40_000_000


@dataclass(frozen=True)
class Size:
    """``rows`` line items in one export (``copies`` 1) or ``copies`` copies of one."""

    rows: int
    copies: int = 1

    @property
    def total(self) -> int:
        return self.rows * self.copies

    @property
    def label(self) -> str:
        one = f"{self.rows / 1e6:g}M"
        return one if self.copies == 1 else f"{self.total / 1e6:g}M ({one} x{self.copies})"

    @staticmethod
    def parse(text: str) -> Size:
        rows, _x, copies = text.strip().lower().partition("x")
        return Size(int(float(rows) * 1_000_000), int(copies) if copies else 1)


@dataclass(frozen=True)
class Run:
    size: Size
    seconds: float
    peak_mb: float
    exit_code: int

    @property
    def rows(self) -> int:
        return self.size.total


def export_for(size: Size, resources: int, days: int) -> Path:
    """The cached synthetic export of ``size``: one file up to ``ONE_FILE`` rows, else a
    folder of several (``several_files``); copies are hard links in a folder."""
    if size.copies > 1:
        source = export_for(Size(size.rows), resources, days)
        folder = OUT / f"{source.name.removesuffix('.parquet')}-x{size.copies}"
        if not folder.exists():
            partial = folder.with_suffix(".partial")
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            for n in range(size.copies):
                os.link(source, partial / f"copy-{n:02d}.parquet")
            partial.replace(folder)
        return folder
    if size.rows > ONE_FILE:
        return several_files(size.rows, resources, days)
    return one_file(size.rows, resources, days)


def several_files(rows: int, resources: int, days: int) -> Path:
    """A folder of ``rows`` rows: copies (hard links) of the ``ONE_FILE``-row export and one
    smaller export for the rest. The copies bill the same resources and days again, as the
    issue's 80 million rows were the 40 million file given twice: rows grow, the rollup's
    cells do not, and writing them costs nothing."""
    folder = OUT / f"focus-{resources // 1000}k-{days}d-{_rows_label(rows)}"
    if folder.exists():
        return folder
    partial = folder.with_suffix(".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    left, n = rows, 0
    while left > 0:
        take = min(ONE_FILE, left)
        os.link(one_file(take, resources, days), partial / f"part-{n:02d}.parquet")
        left, n = left - take, n + 1
    partial.replace(folder)
    return folder


def _rows_label(rows: int) -> str:
    """The row count in a cached export's name: "10m" for whole millions, else exact (two
    sizes under a million once shared "0m", and the second run read the first's file)."""
    return f"{rows // 1_000_000}m" if rows % 1_000_000 == 0 else f"{rows}rows"


def one_file(rows: int, resources: int, days: int) -> Path:
    """The cached synthetic export of ``rows`` rows in one file, written first if missing."""
    path = OUT / f"focus-{resources // 1000}k-{days}d-{_rows_label(rows)}.parquet"
    if not path.exists():
        print(f"writing {path.name} ...", file=sys.stderr, flush=True)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "focus_synth.py"),
                "--rows",
                str(rows),
                "--resources",
                str(resources),
                "--days",
                str(days),
                "--out",
                str(path),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return path


def costscan_command() -> list[str]:
    found = shutil.which("costscan", path=str(Path(sys.executable).parent))
    if found:
        return [found]
    return [sys.executable, "-m", "costscan"]


def measure(path: Path, size: Size) -> Run:
    """One ``costscan run`` over ``path`` in a child process: wall time, its peak RSS."""
    with tempfile.TemporaryDirectory(prefix="costscan-bench-") as reports:
        command = [
            *costscan_command(),
            "run",
            "--provider",
            "focus",
            "--billing",
            str(path),
            "--format",
            "json",
            "--output-dir",
            reports,
        ]
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be the largest of all).
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
    return Run(size, seconds, usage.ru_maxrss / 1024, child.returncode)


def table(runs: list[Run]) -> str:
    lines = [
        "| rows | seconds | peak MB | MB per 10M more rows | s per 10M more rows |",
        "|--:|--:|--:|--:|--:|",
    ]
    previous: Run | None = None
    for run in runs:
        mb_slope = s_slope = ""
        # Slopes between one export and the next larger one; copies are compared below.
        if run.size.copies == 1 and previous is not None and run.rows > previous.rows:
            per = 10_000_000 / (run.rows - previous.rows)
            mb_slope = f"{(run.peak_mb - previous.peak_mb) * per:+,.0f}"
            s_slope = f"{(run.seconds - previous.seconds) * per:+.1f}"
        failed = "" if run.exit_code == 0 else f" (exit {run.exit_code})"
        lines.append(
            f"| {run.size.label}{failed} | {run.seconds:.1f} | {run.peak_mb:,.0f} | "
            f"{mb_slope} | {s_slope} |"
        )
        if run.size.copies == 1:
            previous = run
    single = {run.size.rows: run for run in runs if run.size.copies == 1}
    for run in runs:
        base = single.get(run.rows // 4) if run.rows % 4 == 0 else None
        if base is not None and base is not run:
            what = "same cells" if run.size.copies > 1 else "more cells"
            lines.append(
                f"4x rows ({base.size.label} -> {run.size.label}, {what}): peak x"
                f"{run.peak_mb / base.peak_mb:.2f}, time x{run.seconds / base.seconds:.2f}"
            )
    worst = max(runs, key=lambda r: r.peak_mb)
    verdict = "met" if worst.peak_mb < TARGET_MB else "NOT met"
    lines.append(
        f"largest peak {worst.peak_mb:,.0f} MB at {worst.size.label}: under 3 GB {verdict}"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="5,20,40", help="millions of rows, comma-separated; AxN: N copies of A"
    )
    parser.add_argument("--resources", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    sizes = sorted(
        {Size.parse(s) for s in args.sizes.split(",") if s.strip()},
        key=lambda s: (s.total, s.copies),
    )
    paths = {size: export_for(size, args.resources, args.days) for size in sizes}
    runs = []
    for size in sizes:
        run = measure(paths[size], size)
        print(f"{size.label}: {run.seconds:.1f} s, {run.peak_mb:,.0f} MB", flush=True)
        runs.append(run)
    load = os.getloadavg()[0]
    header = (
        f"costscan run --provider focus --billing FILE --format json; {args.resources:,} "
        f"resources, {args.days} days hourly; {os.cpu_count()} cores, load {load:.1f}"
    )
    text = f"{header}\n\n{table(runs)}\n"
    print("\n" + text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "billing-memory-latest.txt").write_text(text)


if __name__ == "__main__":
    main()
