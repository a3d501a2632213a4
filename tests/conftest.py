"""Shared fixtures: one moto server per test session, reset before each test that uses it.

Fake credentials and a default region are set here, before anything imports boto3, and
AWS_PROFILE / AWS_ENDPOINT_URL are removed, so no test can reach a real account.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.moto_server import RecordingMotoServer

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
