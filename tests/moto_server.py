"""A moto server for tests that also records every request it receives.

It is moto's own WSGI application (what ``ThreadedMotoServer`` serves) behind a thin
recorder, so a test can assert on what actually reached the "cloud": the server-side
view, independent of any botocore hook in the code under test.

moto's missing reads (reserved instances, savings plans, Cost Explorer utilization and
coverage: see ``providers.demo_gaps``) are answered in front of it with valid, empty
answers, so a scan against it neither waits on botocore's retries of moto's HTTP 500s nor
records collector errors. ``gaps`` takes seeded answers for a test; ``reset`` puts the
empty ones back. The recorder sits outside, so the log holds those operations too.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import threading
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from costscan.demo.gaps import MissingApis
from tests.faults import Faults

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_RPC_V2_OPERATION = re.compile(r"/service/[^/]+/operation/([^/?]+)")


@dataclass(frozen=True)
class RecordedRequest:
    service: str  # from the SigV4 credential scope (e.g. ec2, monitoring, sts)
    region: str
    operation: str  # API operation name, or "METHOD /path" for REST calls
    method: str


def _operation(environ: dict[str, Any], body: bytes) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rsplit(".", 1)[-1]
    path = environ.get("PATH_INFO", "")
    rpc = _RPC_V2_OPERATION.search(path)
    if rpc:
        return rpc.group(1)
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    content_type = environ.get("CONTENT_TYPE", "")
    if "x-www-form-urlencoded" in content_type:
        form = parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return form["Action"][0]
    return f"{environ.get('REQUEST_METHOD', '?')} {path}"


def _identify(environ: dict[str, Any], body: bytes) -> tuple[str, str, str]:
    """(service, operation, region) of a request, as the request log records them."""
    scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    region, service = scope.groups() if scope else ("", "")
    return service, _operation(environ, body), region


class RecordingMotoServer:
    """moto in server mode on 127.0.0.1 (a free port), with a request log."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.gaps = MissingApis()
        # Failures a test injects on the wire (tests/faults.py); none until it adds rules.
        self.faults = Faults()
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.endpoint_url = ""

    def _app(self) -> Callable[..., Iterable[bytes]]:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        moto_app = self.faults.middleware(
            self.gaps.middleware(DomainDispatcherApplication(create_backend_app)), _identify
        )

        def recorder(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            path = environ.get("PATH_INFO", "")
            if not path.startswith("/moto-api"):
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = environ["wsgi.input"].read(length) if length else b""
                environ["wsgi.input"] = io.BytesIO(body)
                scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
                region, service = scope.groups() if scope else ("", "")
                entry = RecordedRequest(
                    service, region, _operation(environ, body), environ.get("REQUEST_METHOD", "")
                )
                with self._lock:
                    self.requests.append(entry)
            return moto_app(environ, start_response)

        return recorder

    def start(self) -> str:
        os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from werkzeug.serving import make_server

        self._server = make_server("127.0.0.1", 0, self._app(), threaded=True)
        host, port = self._server.server_address[:2]
        self.endpoint_url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.endpoint_url

    def stop(self) -> None:
        self.faults.reset()  # let go of anything hanging, or shutdown waits for it
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join()

    def reset(self) -> None:
        """Forget every resource (POST /moto-api/reset), seeded answers and the request log."""
        request = urllib.request.Request(
            f"{self.endpoint_url}/moto-api/reset", data=json.dumps({}).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
        self.gaps.reset()
        self.faults.reset()
        self.clear_log()

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def operations(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self.requests)
