"""Cloud Monitoring calls for the GCP provider: 1,000 VMs in one project, against one call
per VM.

Seeds the local fake of the Google Cloud APIs (demo/gcp_fake.py) with 1,000 running
n2-standard-4 instances, each with 14 days of hourly CPU (mean and max) and network (in and
out) series, scans the project with the real provider (google-cloud-monitoring over gRPC),
and counts the ListTimeSeries requests the fake received, pages included. The fake pages at
100,000 points per response. The per-VM approach asks once per instance and metric query:
5 queries (CPU mean, CPU max, network in, network out, memory) x 1,000 VMs.

Target (issue 14): a few calls per metric, never one per VM.

    python benchmarks/gcp_monitoring_calls.py
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

VMS = 1000
PROJECT = "bench-project"
ZONE = "us-central1-a"
LOOKBACK_DAYS = 14


def main() -> None:
    from costscan.demo.gcp import instance_series
    from costscan.demo.gcp_fake import POINTS_PER_PAGE, FakeGcp
    from costscan.providers.gcp import GcpProvider
    from costscan.providers.gcp.monitoring import QUERIES
    from costscan.providers.interface import ScanRequest
    from costscan.scanner.contracts.inventory import RunContext

    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    fake = FakeGcp()
    hours = [
        (int((now - timedelta(hours=back - 1)).timestamp()), (3.0, 5.0, 1e6, 1e6))
        for back in range(LOOKBACK_DAYS * 24, 0, -1)
    ]
    created = now - timedelta(days=60)
    for n in range(VMS):
        name = f"vm-{n:04d}"
        vm = fake.add_instance(PROJECT, ZONE, name, "n2-standard-4", created=created)
        for series in instance_series(PROJECT, ZONE, name, vm["id"], hours):
            fake.add_series(PROJECT, series)
    with fake:
        os.environ.update(fake.environment())
        provider = GcpProvider()
        started = time.perf_counter()
        inv = provider.collect(
            ScanRequest(
                context=RunContext(now=now, lookback_days=LOOKBACK_DAYS), projects=(PROJECT,)
            )
        )
        elapsed = time.perf_counter() - started
    calls = [r for r in fake.requests if r.protocol == "grpc"]
    by_type = Counter(r.query.split('"')[1] for r in calls)
    points = inv.frame("utilization").height
    per_query = VMS * LOOKBACK_DAYS * 24
    pages_per_query = math.ceil(per_query / POINTS_PER_PAGE)
    per_vm = len(QUERIES) * VMS
    print(f"VMs: {VMS} in one project, {LOOKBACK_DAYS} days hourly")
    print(f"utilization rows: {points:,}")
    print(f"Monitoring requests (ListTimeSeries and ListMetricDescriptors, pages): {len(calls)}")
    for metric_type, count in sorted(by_type.items()):
        print(f"  {metric_type}: {count}")
    print(f"expected: {len(QUERIES)} queries; each with points, ceil({per_query:,} / "
          f"{POINTS_PER_PAGE:,}) = {pages_per_query} pages")  # fmt: skip
    print(f"per-VM approach: {per_vm:,} calls; ratio {per_vm / len(calls):.0f}x fewer")
    print(f"scan time (whole provider, this machine): {elapsed:.1f} s")
    assert provider.counter.total == len(calls)


if __name__ == "__main__":
    main()
