"""A small local AWS endpoint for APIs moto lacks, answering real botocore clients.

The answering, shape checking and serializing live in ``providers.demo_gaps``
(``MissingApis``), which the demo and the tests' moto server put in front of moto. This
is the same middleware on its own HTTP server, with no default answers: register an
answer per (service, operation), a dict in the operation's documented output shape or a
function of the request's parameters returning one, or a failure.

Anything not registered is forwarded to ``upstream`` (a moto server) when one is given,
so one ``endpoint_url`` serves a whole scan; otherwise it answers a client error.

```python
with FakeAws() as fake:
    fake.answer("ce", "GetSavingsPlansCoverage", {"SavingsPlansCoverages": []})
    fake.fail("ec2", "DescribeReservedInstances", status=403, code="UnauthorizedOperation")
    boto3.client("ce", endpoint_url=fake.endpoint_url, region_name="us-east-1")
```
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from costscan.demo.gaps import (
    Answer,
    Call,
    Failure,
    MissingApis,
    ShapeMismatch,
    check_shape,
)

__all__ = ["Answer", "Call", "Failure", "FakeAws", "ShapeMismatch", "check_shape"]

# Request headers WSGI keeps outside HTTP_*.
_PLAIN_HEADERS = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}
_HOP_BY_HOP = {"transfer-encoding", "connection", "content-length", "keep-alive"}


class FakeAws:
    """A threaded HTTP server on 127.0.0.1 (a free port) answering registered operations."""

    def __init__(self, upstream: str | None = None) -> None:
        self.upstream = upstream
        self.gaps = MissingApis(defaults=False)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def calls(self) -> list[Call]:
        return self.gaps.calls

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> str:
        from werkzeug.serving import make_server

        self._server = make_server(
            "127.0.0.1", 0, self.gaps.middleware(self._fallback), threaded=True
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.endpoint_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> FakeAws:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake AWS server is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # ------------------------------------------------------------------ registration

    def answer(self, service: str, operation: str, body: Answer) -> None:
        """Answer ``service``'s ``operation`` (botocore names: "ce", "GetReservationCoverage")."""
        self.gaps.answer(service, operation, body)

    def fail(
        self,
        service: str,
        operation: str,
        *,
        status: int = 403,
        code: str = "AccessDeniedException",
        message: str = "User is not authorized to perform this operation",
    ) -> None:
        self.gaps.fail(service, operation, status=status, code=code, message=message)

    def reset(self) -> None:
        self.gaps.reset()

    def operations(self) -> list[tuple[str, str]]:
        """(service, operation) of every request answered here, in order."""
        return self.gaps.operations()

    # ------------------------------------------------------------------ the rest

    def _fallback(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if not self.upstream:
            payload = b'{"__type": "UnknownOperationException"}'
            start_response(
                "400 Bad Request",
                [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
            )
            return [payload]
        return self._forward(environ, start_response)

    def _forward(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        assert self.upstream is not None
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            name: str(environ[key]) for key, name in _PLAIN_HEADERS.items() if environ.get(key)
        }
        for key, value in environ.items():
            if key.startswith("HTTP_") and key != "HTTP_HOST":
                headers[key[5:].replace("_", "-").title()] = str(value)
        path = environ.get("PATH_INFO", "/")
        if environ.get("QUERY_STRING"):
            path = f"{path}?{environ['QUERY_STRING']}"
        target = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=120)
        try:
            conn.request(environ.get("REQUEST_METHOD", "POST"), path, body=body, headers=headers)
            answer = conn.getresponse()
            payload = answer.read()
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP]
            kept.append(("Content-Length", str(len(payload))))
            start_response(f"{answer.status} {answer.reason}", kept)
            return [payload]
        finally:
            conn.close()
