"""The fake GitHub API for the posting tests, and no proxy between them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_github import FakeGitHub

REPO = "acme/infra"
TOKEN = "ghs_test_token"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(repository=REPO, token=TOKEN) as fake:
        yield fake


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fake server is local: a proxy from the machine's environment must not intercept
    # (requests, under PyGithub, reads these variables).
    for name in (
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
