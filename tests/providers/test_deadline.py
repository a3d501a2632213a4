"""A deadline per collector: a hung endpoint is a named gap at the deadline, says what it
waits on meanwhile, and stops retrying once nobody waits for it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import boto3
import pytest

from costscan.providers.aws.deadline import CollectorTimeout, run_with_deadline
from costscan.providers.aws.session import ClientFactory, client_config
from costscan.providers.interface import WAITING


class HungEndpoint:
    """Accepts every connection and never answers; counts the connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self.held: list[socket.socket] = []
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            self.held.append(conn)

    def close(self) -> None:
        self._stop.set()
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture()
def hung() -> Iterator[HungEndpoint]:
    endpoint = HungEndpoint()
    yield endpoint
    endpoint.close()


def test_a_slow_call_says_what_it_waits_on_and_ends_at_the_deadline() -> None:
    notices: list[str] = []
    began = time.monotonic()
    with pytest.raises(CollectorTimeout, match=r"no complete answer within 0\.5 s"):
        run_with_deadline(
            lambda: time.sleep(5),
            0.5,
            label="123 us-east-1: cloudwatch.instance_utilization",
            notice=notices.append,
            notice_every=0.1,
        )
    assert time.monotonic() - began < 1.0
    assert notices and all(n.startswith(WAITING) for n in notices)
    assert "cloudwatch.instance_utilization" in notices[0]


def test_answers_and_errors_come_back_through_the_deadline() -> None:
    assert run_with_deadline(lambda: 42, 5, label="x", notice=print) == 42
    with pytest.raises(KeyError):
        run_with_deadline(lambda: {}["missing"], 5, label="x", notice=print)


def test_a_hung_endpoint_is_abandoned_at_the_deadline_and_not_retried(
    hung: HungEndpoint,
) -> None:
    deadline = 1.5
    factory = ClientFactory(
        boto3.Session(region_name="us-east-1"),
        endpoint_url=hung.url,
        # Eight attempts of a 60 s read would hold the scan eight minutes.
        config=client_config(8, read_timeout=deadline),
    )
    cloudwatch = factory.client("cloudwatch", "us-east-1")
    began = time.monotonic()
    with pytest.raises(CollectorTimeout):
        run_with_deadline(cloudwatch.list_metrics, deadline, label="list", notice=print)
    waited = time.monotonic() - began
    assert deadline <= waited < deadline + 0.5
    time.sleep(deadline + 1.5)  # the abandoned attempt's read times out; no retry follows
    assert hung.connections == 1
