"""A GCP or Azure collector that fails costs its own findings and nothing else: the report
says what it withheld, and the history treats last week's findings on the lost data as not
seen, never as resolved or realized (providers/collectors.py, scanner/pipeline/gaps.py).

Before each provider declared its collectors, a denied Cloud Monitoring (or Azure Monitor)
turned last week's idle-VM findings into "resolved", with their savings "realized".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from costscan.demo.azure import DEMO_SUBSCRIPTION, seed_demo_subscription
from costscan.demo.azure_fake import FakeAzure
from costscan.demo.gcp import DEMO_PROJECT, seed_demo_project
from costscan.demo.gcp_fake import FakeGcp
from costscan.providers.azure.provider import COLLECTORS as AZURE_COLLECTORS
from costscan.providers.gcp.provider import COLLECTORS as GCP_COLLECTORS
from costscan.scanner.app import engine
from costscan.scanner.contracts.vocab import ResourceType

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.fixture
def gcp(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGcp]:
    made = FakeGcp(page_size=2)
    seed_demo_project(made, NOW)
    with made:
        for key, value in made.environment().items():
            monkeypatch.setenv(key, value)
        yield made


@pytest.fixture
def azure(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAzure]:
    made = FakeAzure(page_size=2)
    seed_demo_subscription(made, NOW)
    with made:
        for key, value in made.environment().items():
            monkeypatch.setenv(key, value)
        yield made


def _week(provider: str, history: Path, out: Path, now: datetime, **scope: Any) -> engine.RunResult:
    return engine.run(
        engine.Settings(
            provider=provider,
            formats=("json",),
            output_dir=str(out),
            history=str(history),
            now=now,
            **scope,
        )
    )


# The second run an hour later: the history reads runs started before it; the fakes'
# metrics are seeded for NOW and still cover the window.
LATER = NOW + timedelta(hours=1)


def _idle_vms(result: engine.RunResult, vm_type: str) -> dict[str, float]:
    findings = result.report.findings
    rows = findings.filter(
        (findings["policy_id"] == "rightsizing.idle") & (findings["resource_type"] == vm_type)
    )
    return dict(
        zip(rows["finding_id"].to_list(), rows["net_monthly_savings"].to_list(), strict=True)
    )


def test_every_gcp_and_azure_collector_the_providers_call_is_declared() -> None:
    source = {
        "gcp": Path("providers/gcp/provider.py").read_text(encoding="utf-8"),
        "azure": Path("providers/azure/provider.py").read_text(encoding="utf-8"),
    }
    for name, table in (("gcp", GCP_COLLECTORS), ("azure", AZURE_COLLECTORS)):
        for collector, spec in table.items():
            assert spec.measures, f"{name}: {collector} says nothing about what it measures"
            for resource_type in spec.resource_types:
                ResourceType(resource_type)  # a real resource type, or ValueError
        # Each literal collector name the scan passes to attempt() has its declaration.
        import re

        called = set(re.findall(r'attempt\(\s*"([^"]+)"', source[name]))
        assert called, name
        assert called <= set(table), f"{name}: undeclared {sorted(called - set(table))}"


@pytest.mark.slow
def test_gcp_monitoring_denied_in_week_two_resolves_nothing(gcp: FakeGcp, tmp_path: Path) -> None:
    history = tmp_path / "history"
    first = _week("gcp", history, tmp_path / "w1", NOW, projects=(DEMO_PROJECT,))
    assert first.exit_code == engine.EXIT_OK
    idle = _idle_vms(first, ResourceType.GCE_INSTANCE.value)
    assert idle, "the demo project plants idle VMs"

    gcp.deny(DEMO_PROJECT, "monitoring", disabled=False)
    second = _week("gcp", history, tmp_path / "w2", LATER, projects=(DEMO_PROJECT,))
    assert second.exit_code == engine.EXIT_PARTIAL
    changes = second.report.history
    assert changes is not None
    resolved = {r["finding_id"] for r in changes["resolved"]}
    # Without the declarations every finding the lost data fed (idle, over-sized, the
    # CUD purchase sized on the same VMs) came back "resolved"; now none does.
    assert resolved == set(), "a finding nobody acted on was called resolved"
    assert changes["realized_monthly_savings"] == 0.0
    assert changes["not_seen"] >= len(idle)
    (gap,) = [
        e for e in second.report.errors if e.collector == "monitoring.timeSeries.list(compute)"
    ]
    assert gap.frames == ("utilization",) and gap.resource_types == ("gce_instance",)
    assert "rightsizing.idle" in gap.affects


@pytest.mark.slow
def test_azure_monitor_denied_in_week_two_resolves_nothing(
    azure: FakeAzure, tmp_path: Path
) -> None:
    history = tmp_path / "history"
    first = _week("azure", history, tmp_path / "w1", NOW, subscriptions=(DEMO_SUBSCRIPTION,))
    assert first.exit_code == engine.EXIT_OK
    idle = _idle_vms(first, ResourceType.AZURE_VM.value)
    assert idle, "the demo subscription plants idle VMs"

    azure.deny(DEMO_SUBSCRIPTION, "monitor")
    second = _week("azure", history, tmp_path / "w2", LATER, subscriptions=(DEMO_SUBSCRIPTION,))
    assert second.exit_code == engine.EXIT_PARTIAL
    changes = second.report.history
    assert changes is not None
    resolved = {r["finding_id"] for r in changes["resolved"]}
    # Without the declarations every finding the lost data fed (idle, over-sized, the
    # CUD purchase sized on the same VMs) came back "resolved"; now none does.
    assert resolved == set(), "a finding nobody acted on was called resolved"
    assert changes["realized_monthly_savings"] == 0.0
    assert changes["not_seen"] >= len(idle)
    (gap,) = [
        e for e in second.report.errors if e.collector == "monitor.metrics.listAtSubscriptionScope"
    ]
    assert gap.frames == ("utilization",) and gap.resource_types == ("azure_vm",)
    assert "rightsizing.idle" in gap.affects
