"""How long the demo takes: starting and seeding the offline account, then the scan.

The tests check what the demo finds; this script measures how long it takes, against the
budget a new user should meet (the demo's first screen in about a minute on 2 cores), and
how long a scan of an empty region takes with the local layer answering what moto lacks
(botocore retrying moto's HTTP 500s for those calls used to take tens of seconds).

    python benchmarks/demo.py
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

DEMO_BUDGET_SECONDS = 60.0
EMPTY_REGION_BUDGET_SECONDS = 20.0


def main() -> int:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ["AWS_ACCESS_KEY_ID"] = "benchmark"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "benchmark"

    from costscan.demo.account import seed_demo_account, start_demo_server
    from costscan.providers.aws import AwsProvider
    from costscan.providers.interface import ScanRequest
    from costscan.scanner.contracts.inventory import RunContext

    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    started = time.perf_counter()
    server, url = start_demo_server()
    try:
        seed = seed_demo_account(url, now)
        seeded = time.perf_counter()
        inventory = AwsProvider().collect(
            ScanRequest(context=RunContext(now=now), regions=seed.regions, endpoint_url=url)
        )
        scanned = time.perf_counter()
        empty = AwsProvider().collect(
            ScanRequest(context=RunContext(now=now), regions=("ap-south-1",), endpoint_url=url)
        )
        empty_done = time.perf_counter()
    finally:
        server.stop()
    seed_s, scan_s, empty_s = seeded - started, scanned - seeded, empty_done - scanned
    total = seed_s + scan_s
    print(f"demo: {seed.instance_count} instances in {len(seed.regions)} regions")
    print(f"  start and seed   {seed_s:6.1f} s")
    print(f"  scan             {scan_s:6.1f} s   ({len(inventory.errors)} collector errors)")
    print(f"  total            {total:6.1f} s   {total / DEMO_BUDGET_SECONDS:.2f}x of the budget")
    print(
        f"empty region scan  {empty_s:6.1f} s   {empty_s / EMPTY_REGION_BUDGET_SECONDS:.2f}x of "
        f"the budget ({len(empty.errors)} collector errors)"
    )
    return 0 if total <= DEMO_BUDGET_SECONDS and empty_s <= EMPTY_REGION_BUDGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
