"""A thin HTTP layer in front of moto for Athena, answering what moto 5.2.6 does not.

botocore 1.44 speaks Athena's REST-JSON protocol (``POST /query-executions``,
``GET /query-executions/{id}/results``). moto 5.2.6 reads those requests with botocore's
own model, but its server routes only ``/`` to Athena (the older JSON 1.1 protocol's one
path) and answers 404 to the rest: ``route_every_athena_path`` adds the missing route
before moto builds its Athena app (it builds it at the first Athena request).

moto stores an execution's results (POST /moto-api/static/athena/query-results) and answers
GetQueryResults with every row at once; its GetQueryExecution always ends SUCCEEDED and
says 0 bytes scanned. Athena pages results (MaxResults, at most 1,000 rows, and
NextToken: https://docs.aws.amazon.com/athena/latest/APIReference/API_GetQueryResults.html),
fails queries with a StateChangeReason, and reports DataScannedInBytes. This layer forwards
every request to moto unchanged and edits only those answers:

- GetQueryResults: moto's rows cut into pages of MaxResults, with a NextToken between;
- GetQueryExecution: for a query whose text holds a key of ``failures``, State FAILED with
  that reason; RUNNING for ever for one that holds a member of ``running``;
  DataScannedInBytes from ``scanned`` (the first key the query's text holds), else
  ``default_scanned``.

Everything else (Glue, S3, StartQueryExecution, moto's own API) passes through as moto
answers it, so the request log and the fault rules of ``RecordingMotoServer`` still see
every call.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

_RESULTS = re.compile(r"/query-executions/[^/]+/results")
_EXECUTION = re.compile(r"/query-executions/[^/]+")
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


def route_every_athena_path() -> None:
    """Let moto's server route Athena's REST paths to its Athena responses (idempotent)."""
    import moto.athena.urls
    from moto.athena.responses import AthenaResponse

    moto.athena.urls.url_paths.setdefault("{0}/(?P<athena_path>.+)$", AthenaResponse.dispatch)


class AthenaFront:
    def __init__(self, moto_url: str) -> None:
        route_every_athena_path()
        self.moto_url = moto_url
        self.failures: dict[str, str] = {}
        self.running: set[str] = set()
        self.scanned: dict[str, int] = {}
        self.default_scanned = 0
        self.pages_served = 0
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.endpoint_url = ""

    def start(self) -> str:
        from werkzeug.serving import make_server

        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        host, port = self._server.server_address[:2]
        self.endpoint_url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.endpoint_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join()

    def _forward(
        self, environ: dict[str, Any], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        path = environ.get("PATH_INFO", "/")
        query = environ.get("QUERY_STRING", "")
        url = self.moto_url + path + (f"?{query}" if query else "")
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in _HOP_HEADERS
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        request = urllib.request.Request(
            url, data=body if body else None, headers=headers, method=environ["REQUEST_METHOD"]
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, list(answer.headers.items()), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, list(error.headers.items()), error.read()

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        status, headers, answer = self._forward(environ, body)
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD")
        if status == 200 and method == "GET" and _RESULTS.fullmatch(path):
            asked = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            answer = self._page(asked, json.loads(answer))
        elif status == 200 and method == "GET" and _EXECUTION.fullmatch(path):
            answer = self._execution(json.loads(answer))
        kept = [(k, v) for k, v in headers if k.lower() not in _HOP_HEADERS]
        kept.append(("Content-Length", str(len(answer))))
        start_response(f"{status} {'OK' if status == 200 else 'Error'}", kept)
        return [answer]

    def _page(self, asked: dict[str, Any], whole: dict[str, Any]) -> bytes:
        rows = whole.get("ResultSet", {}).get("Rows", [])
        size = int(asked.get("MaxResults") or 1000)
        start = int(asked.get("NextToken") or 0)
        whole["ResultSet"]["Rows"] = rows[start : start + size]
        if start + size < len(rows):
            whole["NextToken"] = str(start + size)
        self.pages_served += 1
        return json.dumps(whole).encode()

    def _execution(self, answer: dict[str, Any]) -> bytes:
        execution = answer["QueryExecution"]
        query = execution.get("Query", "")
        if any(marker in query for marker in self.running):
            execution["Status"]["State"] = "RUNNING"
        for marker, reason in self.failures.items():
            if marker in query and execution["Status"]["State"] == "SUCCEEDED":
                execution["Status"]["State"] = "FAILED"
                execution["Status"]["StateChangeReason"] = reason
        scanned = next(
            (n for marker, n in self.scanned.items() if marker in query), self.default_scanned
        )
        execution.setdefault("Statistics", {})["DataScannedInBytes"] = scanned
        return json.dumps(answer).encode()
