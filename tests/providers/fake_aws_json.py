"""A small local AWS endpoint for APIs moto lacks, answering real botocore clients.

Register an answer per (service, operation): a dict in the operation's documented output
shape (the names boto3 returns), or a function of the request's parameters returning one.
The server finds the operation the way AWS does (``X-Amz-Target`` for JSON services, the
``Action`` form field for EC2 / query services, the request path for REST-JSON), checks
the answer against botocore's own output model (unknown members and non-string values
for string members are refused, so a canned answer cannot drift from the documented
shape), and serializes it in the service's protocol: JSON, or EC2's XML.

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
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

Answer = Mapping[str, Any] | Callable[[dict[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Failure:
    status: int
    code: str
    message: str


class ShapeMismatch(ValueError):
    """A registered answer does not fit the operation's documented output shape."""


def _service_model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


class FakeAws:
    """A threaded HTTP server on 127.0.0.1 (a free port) answering registered operations."""

    def __init__(self, upstream: str | None = None) -> None:
        self.upstream = upstream
        self.calls: list[Call] = []
        self._answers: dict[tuple[str, str], Answer | Failure] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self)

            do_GET = do_POST

            def log_message(self, *_args: Any) -> None:  # quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.endpoint_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

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
        model = _service_model(service)
        if operation not in model.operation_names:
            raise ValueError(f"{service} has no operation {operation}")
        if not callable(body):
            check_shape(model.operation_model(operation).output_shape, body, operation)
        with self._lock:
            self._answers[(service, operation)] = body

    def fail(
        self,
        service: str,
        operation: str,
        *,
        status: int = 403,
        code: str = "AccessDeniedException",
        message: str = "User is not authorized to perform this operation",
    ) -> None:
        with self._lock:
            self._answers[(service, operation)] = Failure(status, code, message)

    def reset(self) -> None:
        with self._lock:
            self._answers.clear()
            self.calls.clear()

    def operations(self) -> list[tuple[str, str]]:
        """(service, operation) of every request answered here, in order."""
        return [(c.service, c.operation) for c in self.calls]

    # ------------------------------------------------------------------ serving

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        service = _signing_service(request.headers.get("Authorization", ""))
        try:
            model = _service_model(service) if service else None
        except Exception:  # an unknown service name: not ours to answer
            model = None
        operation, params = _operation(model, request, body) if model else (None, {})
        with self._lock:
            registered = self._answers.get((service, operation or ""))
            if registered is not None and operation:
                self.calls.append(Call(service, operation, params))
        if registered is None or model is None or operation is None:
            if self.upstream:
                self._forward(request, body)
            else:
                _send(request, 400, b'{"__type": "UnknownOperationException"}', "application/json")
            return
        if isinstance(registered, Failure):
            _send_error(request, model.protocol, registered)
            return
        try:
            answer = registered(params) if callable(registered) else registered
            output = model.operation_model(operation).output_shape
            check_shape(output, answer, operation)
        except ShapeMismatch as exc:
            _send_error(request, model.protocol, Failure(400, "FakeShapeMismatch", str(exc)))
            return
        if model.protocol in ("ec2", "query"):
            payload = _ec2_xml(operation, output, answer).encode()
            _send(request, 200, payload, "text/xml")
        else:
            _send(
                request, 200, json.dumps(answer, default=_json_default).encode(), _json_type(model)
            )

    def _forward(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        assert self.upstream is not None
        target = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=120)
        try:
            headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
            conn.request(request.command, request.path, body=body, headers=headers)
            answer = conn.getresponse()
            payload = answer.read()
            request.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    request.send_header(key, value)
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        finally:
            conn.close()


# --------------------------------------------------------------------------- protocol


def _signing_service(authorization: str) -> str:
    """The service in a SigV4 scope: Credential=KEY/DATE/REGION/SERVICE/aws4_request."""
    marker = "Credential="
    if marker not in authorization:
        return ""
    scope = authorization.split(marker, 1)[1].split(",", 1)[0].split("/")
    return scope[3] if len(scope) >= 5 else ""


def _operation(
    model: Any, request: BaseHTTPRequestHandler, body: bytes
) -> tuple[str | None, dict[str, Any]]:
    protocol = model.protocol
    if protocol == "json":
        target = request.headers.get("X-Amz-Target", "")
        return (target.rsplit(".", 1)[-1] or None), json.loads(body or b"{}")
    if protocol in ("ec2", "query"):
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        return form.get("Action"), form
    path = urlsplit(request.path).path
    for name in model.operation_names:
        http = model.operation_model(name).http
        if (
            http.get("method") == request.command
            and http.get("requestUri", "").split("?")[0] == path
        ):
            return name, json.loads(body or b"{}")
    return None, {}


def _json_type(model: Any) -> str:
    version = model.metadata.get("jsonVersion", "1.0")
    return f"application/x-amz-json-{version}" if model.protocol == "json" else "application/json"


def _send(
    request: BaseHTTPRequestHandler, status: int, payload: bytes, ctype: str, **hdr: str
) -> None:
    request.send_response(status)
    request.send_header("Content-Type", ctype)
    request.send_header("Content-Length", str(len(payload)))
    request.send_header("x-amzn-RequestId", "fake-request-id")
    for key, value in hdr.items():
        request.send_header(key.replace("_", "-"), value)
    request.end_headers()
    request.wfile.write(payload)


def _send_error(request: BaseHTTPRequestHandler, protocol: str, failure: Failure) -> None:
    if protocol in ("ec2", "query"):
        xml = (
            f"<Response><Errors><Error><Code>{escape(failure.code)}</Code>"
            f"<Message>{escape(failure.message)}</Message></Error></Errors>"
            "<RequestID>fake-request-id</RequestID></Response>"
        )
        _send(request, failure.status, xml.encode(), "text/xml")
        return
    payload = json.dumps({"__type": failure.code, "message": failure.message}).encode()
    _send(request, failure.status, payload, "application/json", x_amzn_ErrorType=failure.code)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"cannot serialize {type(value).__name__}")


# --------------------------------------------------------------------------- shapes


def check_shape(shape: Any, value: Any, where: str) -> None:
    """Raise ShapeMismatch when ``value`` does not fit botocore ``shape``."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, Mapping):
            raise ShapeMismatch(f"{where}: expected an object, got {type(value).__name__}")
        unknown = sorted(set(value) - set(shape.members))
        if unknown:
            raise ShapeMismatch(f"{where}: {unknown} not in the documented shape {shape.name}")
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                check_shape(member, value[name], f"{where}.{name}")
    elif kind == "list":
        if not isinstance(value, (list, tuple)):
            raise ShapeMismatch(f"{where}: expected a list")
        for i, item in enumerate(value):
            check_shape(shape.member, item, f"{where}[{i}]")
    elif kind == "map":
        if not isinstance(value, Mapping):
            raise ShapeMismatch(f"{where}: expected a map")
        for key, item in value.items():
            check_shape(shape.value, item, f"{where}[{key}]")
    elif kind == "string" and not isinstance(value, str):
        raise ShapeMismatch(f"{where}: the documented type is a string, got {value!r}")
    elif kind in ("integer", "long", "float", "double") and (
        isinstance(value, bool) or not isinstance(value, (int, float))
    ):
        raise ShapeMismatch(f"{where}: expected a number, got {value!r}")


def _ec2_xml(operation: str, shape: Any, value: Mapping[str, Any]) -> str:
    inner = "".join(
        _xml_member(member, value[name], member.serialization.get("name") or _lower_first(name))
        for name, member in shape.members.items()
        if value.get(name) is not None
    )
    return (
        f'<{operation}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        f"<requestId>fake-request-id</requestId>{inner}</{operation}Response>"
    )


def _xml_member(shape: Any, value: Any, tag: str) -> str:
    kind = shape.type_name
    if kind == "structure":
        inner = "".join(
            _xml_member(m, value[n], m.serialization.get("name") or _lower_first(n))
            for n, m in shape.members.items()
            if value.get(n) is not None
        )
    elif kind == "list":
        inner = "".join(_xml_member(shape.member, item, "item") for item in value)
    elif kind == "timestamp":
        inner = value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value
    elif kind == "boolean":
        inner = "true" if value else "false"
    else:
        inner = escape(str(value))
    return f"<{tag}>{inner}</{tag}>"


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]
