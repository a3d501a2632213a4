"""Shared fixtures: one moto server per test session, reset before each test that uses it.

Fake credentials and a default region are set here, before anything imports boto3, and
AWS_PROFILE / AWS_ENDPOINT_URL are removed, so no test can reach a real account.

``demo_account`` is the demo's seeded account (providers/demo.py), seeded once per
session. moto keeps its state per process, and the ``moto`` fixture empties it, so the
tests that use ``demo_account`` are moved to the end of the run, together: the seed
then survives until the last of them.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from tests.moto_server import RecordingMotoServer

if TYPE_CHECKING:
    from costscan.demo.account import DemoSeed, DemoServer

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    }
)
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
    os.environ.pop(_name, None)
# No shared config or credentials files from the machine running the tests.
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


@pytest.fixture(scope="session")
def moto_server() -> Iterator[RecordingMotoServer]:
    from costscan.demo.account import use_documented_instance_generations

    # moto 5.2 marks m5, c5, r5, m6i and r6i as previous generation; AWS does not. The
    # tests answer DescribeInstanceTypes as AWS does, like the demo.
    use_documented_instance_generations()
    server = RecordingMotoServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def moto(moto_server: RecordingMotoServer) -> RecordingMotoServer:
    """The session's moto server, emptied (resources and request log) for this test."""
    moto_server.reset()
    return moto_server


@pytest.fixture
def endpoint_url(moto: RecordingMotoServer) -> str:
    return moto.endpoint_url


@dataclass(frozen=True)
class DemoAccount:
    server: DemoServer
    endpoint_url: str
    seed: DemoSeed
    now: datetime  # what ``costscan demo`` uses: this hour (UTC)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that share the seeded demo account last, one after another."""
    uses_demo = [i for i in items if "demo_account" in getattr(i, "fixturenames", ())]
    if uses_demo:
        others = [i for i in items if "demo_account" not in getattr(i, "fixturenames", ())]
        items[:] = others + uses_demo


@pytest.fixture(scope="session")
def demo_account() -> Iterator[DemoAccount]:
    """The demo's AWS account on its own server, seeded once for the session."""
    from moto.cloudwatch.models import CloudWatchBackend

    from costscan.demo.account import seed_demo_account, start_demo_server

    # The demo speeds up moto's CloudWatch process-wide; put moto's own back afterwards.
    originals: dict[str, Any] = {
        name: getattr(CloudWatchBackend, name)
        for name in ("get_metric_data", "get_filtered_metrics")
    }
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    server, url = start_demo_server()
    try:
        # moto's state is per process, shared with the session's server: start empty.
        urllib.request.urlopen(
            urllib.request.Request(f"{url}/moto-api/reset", data=b"{}", method="POST"), timeout=30
        ).close()
        seed = seed_demo_account(url, now)
        yield DemoAccount(server, url, seed, now)
    finally:
        server.stop()
        for name, original in originals.items():
            setattr(CloudWatchBackend, name, original)
