"""Recommender advice through the real google-cloud-recommender REST client against the
local fake (demo/gcp_fake.py), seeded as the demo is.

Google's figures are a 30-day costProjection; costscan's month is 730 hours, so each is
checked here as ``projection × 730 / 720`` with ``decimal``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from costscan.demo.gcp import DEMO_PROJECT, DEMO_ZONE, IDLE_VM, seed_demo_project
from costscan.demo.gcp_fake import FakeGcp
from costscan.providers.gcp import GcpProvider
from costscan.providers.interface import ScanRequest
from costscan.scanner.contracts.inventory import Inventory, RunContext

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
MONTH_OF_30_DAYS = Decimal(730) / Decimal(720)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGcp]:
    # One recommendation a page: the pager must follow nextPageToken.
    made = FakeGcp(page_size=1)
    seed_demo_project(made, NOW)
    with made:
        for key, value in made.environment().items():
            monkeypatch.setenv(key, value)
        yield made


def collect() -> Inventory:
    return GcpProvider().collect(ScanRequest(context=RunContext(now=NOW), projects=(DEMO_PROJECT,)))


@pytest.mark.slow
def test_advice_is_read_from_every_page_of_the_locations_the_project_uses(fake: FakeGcp) -> None:
    inv = collect()
    assert inv.errors == []
    advice = inv.frame("provider_advice")
    by_name = {r["resource_name"]: r for r in advice.iter_rows(named=True)}
    assert set(by_name) == {
        "batch-idle-1", "api-oversized", "dev-box", "orphan-data", "legacy-lb-ip",
    }  # fmt: skip
    idle = by_name["batch-idle-1"]
    assert idle["resource_id"] == (
        f"projects/{DEMO_PROJECT}/zones/{DEMO_ZONE}/instances/batch-idle-1"
    )
    assert (idle["kind"], idle["currency"], idle["state"]) == ("stop", "USD", "ACTIVE")
    assert Decimal(str(idle["monthly_savings"])).quantize(Decimal("0.0001")) == (
        Decimal("139.85") * MONTH_OF_30_DAYS
    ).quantize(Decimal("0.0001"))
    assert (by_name["api-oversized"]["kind"], by_name["api-oversized"]["target"]) == (
        "resize",
        "e2-standard-4",
    )
    # Google named the disk's project by number; it reads back as the scanned project id.
    assert by_name["orphan-data"]["resource_id"] == (
        f"projects/{DEMO_PROJECT}/zones/{DEMO_ZONE}/disks/orphan-data"
    )
    calls = [r for r in fake.requests if r.path.endswith("/recommendations")]
    locations = {r.path.split("/")[5] for r in calls}
    # Only where the project has instances, disks or addresses: one zone and its region.
    assert locations == {DEMO_ZONE, "us-central1"}
    # 5 recommender × location lists, and a second page where a list holds two.
    assert len(calls) == 6
    assert all(r.method == "GET" for r in calls)


@pytest.mark.slow
def test_dismissed_and_succeeded_advice_is_history_not_advice(fake: FakeGcp) -> None:
    for state in ("DISMISSED", "SUCCEEDED"):
        fake.add_recommendation(
            DEMO_PROJECT, DEMO_ZONE, IDLE_VM, monthly_cost=-50.0, subtype="STOP_VM",
            resource=f"//compute.googleapis.com/projects/{DEMO_PROJECT}/zones/{DEMO_ZONE}/"
            "instances/web-1", description="old", state=state,
            refreshed=NOW - timedelta(days=3),
        )  # fmt: skip
    advice = collect().frame("provider_advice")
    assert "web-1" not in advice["resource_name"].to_list()
    assert advice.height == 5


@pytest.mark.slow
def test_a_denied_recommender_leaves_the_scan_whole_and_the_verdict_unavailable(
    fake: FakeGcp, tmp_path: Path
) -> None:
    from costscan.scanner.app import engine

    fake.deny(DEMO_PROJECT, "recommender", disabled=False)
    result = engine.run(
        engine.Settings(
            provider="gcp", projects=(DEMO_PROJECT,), formats=("json",),
            output_dir=str(tmp_path), now=NOW,
        )
    )  # fmt: skip
    assert result.exit_code == engine.EXIT_PARTIAL
    [error] = result.report.errors
    assert error.collector == "recommender.recommendations.list"
    assert error.message.startswith("403")
    findings = result.report.findings
    idle = findings.filter(pl.col("policy_id") == "rightsizing.idle")
    assert idle.height == 1
    assert '"verdict":"unavailable"' in idle["evidence"][0]
    assert not findings["policy_id"].str.ends_with("google-recommender").any()
