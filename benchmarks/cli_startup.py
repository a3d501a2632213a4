"""`costscan --help` start-up against a bare `python -c "import typer"`, side by side.

Target (DESIGN.md): within 2x. Runs both commands alternately so machine noise hits both
alike, and prints medians and their ratio. Also lists any cloud SDK or polars module that
`--help` imported, which must be none.

    python benchmarks/cli_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

HEAVY = ("boto3", "botocore", "polars", "moto", "jinja2", "google.cloud", "azure")


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def heavy_modules_loaded_by_help() -> list[str]:
    probe = (
        "import sys\n"
        "from costscan.scanner.app.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    marked = [line for line in out.splitlines() if line.startswith("HEAVY:")]
    return [m for m in marked[-1].removeprefix("HEAVY:").split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    bare = [sys.executable, "-c", "import typer"]
    entry = "from costscan.scanner.app.cli import main; main()"
    costscan_help = [sys.executable, "-c", entry, "--help"]
    bare_times, help_times = [], []
    for _ in range(args.runs):
        bare_times.append(timed(bare))
        help_times.append(timed(costscan_help))
    bare_median = statistics.median(bare_times)
    help_median = statistics.median(help_times)
    ratio = help_median / bare_median
    heavy = heavy_modules_loaded_by_help()
    print(f"{'command':<32}{'median s':>10}")
    bare_label = 'python -c "import typer"'
    print(f"{bare_label:<32}{bare_median:>10.3f}")
    print(f"{'costscan --help':<32}{help_median:>10.3f}")
    print(f"ratio {ratio:.2f}x (target <= 2.0x): {'met' if ratio <= 2.0 else 'NOT met'}")
    print(f"heavy modules imported by --help: {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
