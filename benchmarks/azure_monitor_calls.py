"""Azure Monitor calls for the Azure provider: N VMs in one subscription and region, against
one call per VM.

Seeds the local HTTPS fake of Resource Manager (demo/azure_fake.py) with N running
Standard_D4s_v5 VMs, each with 14 days of hourly CPU (average and maximum) and network
(in and out totals), scans the subscription with the real provider (azure-mgmt-monitor's
Metrics - List At Subscription Scope, POST form), and counts the metrics requests the fake
received.
The per-VM approach (``metrics.list`` on each VM's resource URI) asks once per VM: all
four metrics and three aggregations fit in one call, so N calls.

Target (DESIGN.md): batched per 50 resources, never one call per VM.

    python benchmarks/azure_monitor_calls.py [N ...]     (default: 50 200 1000)
"""

from __future__ import annotations

import math
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SUBSCRIPTION = "00000000-0000-4000-8000-00000000be00"
GROUP = "rg-bench"
REGION = "eastus"
LOOKBACK_DAYS = 14


def measure(vms: int) -> tuple[int, float, int]:
    """(metrics requests, seconds to collect, utilization rows) for ``vms`` VMs."""
    from costscan.demo.azure_fake import FakeAzure, MetricSeries
    from costscan.providers.azure import AzureProvider
    from costscan.providers.interface import ScanRequest
    from costscan.scanner.contracts.inventory import RunContext

    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [now - timedelta(hours=back) for back in range(LOOKBACK_DAYS * 24, 0, -1)]
    fake = FakeAzure()
    fake.add_sizes(
        SUBSCRIPTION, REGION, [{"name": "Standard_D4s_v5", "vcpus": 4, "memory_gib": 16}]
    )
    for n in range(vms):
        vm = fake.add_vm(SUBSCRIPTION, GROUP, REGION, f"vm-{n:04d}", "Standard_D4s_v5",
                         created=now - timedelta(days=60))  # fmt: skip
        fake.add_metric(
            SUBSCRIPTION,
            MetricSeries(
                vm["id"], "Percentage CPU", [(t, {"average": 3.0, "maximum": 5.0}) for t in hours]
            ),
        )
        for metric in ("Network In Total", "Network Out Total"):
            fake.add_metric(
                SUBSCRIPTION, MetricSeries(vm["id"], metric, [(t, {"total": 1e6}) for t in hours])
            )
    with fake:
        os.environ.update(fake.environment())
        provider = AzureProvider()
        started = time.perf_counter()
        inv = provider.collect(
            ScanRequest(
                context=RunContext(now=now, lookback_days=LOOKBACK_DAYS),
                subscriptions=(SUBSCRIPTION,),
            )
        )
        elapsed = time.perf_counter() - started
    calls = sum(1 for r in fake.requests if r.path.lower().endswith("/microsoft.insights/metrics"))
    assert calls == provider.counter.total
    return calls, elapsed, inv.frame("utilization").height


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [50, 200, 1000]
    print(f"{'VMs':>6} {'metrics calls':>14} {'per-VM calls':>13} {'ratio':>7} {'collect s':>10}"
          f" {'rows':>9}")  # fmt: skip
    for vms in sizes:
        calls, elapsed, rows = measure(vms)
        assert calls == math.ceil(vms / 50), (vms, calls)
        print(f"{vms:>6} {calls:>14} {vms:>13} {vms / calls:>7.0f} {elapsed:>10.2f} {rows:>9,}")


if __name__ == "__main__":
    main()
