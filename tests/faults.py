"""Fault injection in front of moto: the failures real AWS gives, on the wire.

``Faults`` is WSGI middleware that ``RecordingMotoServer`` puts between its request log
and moto. A test adds rules; each request that a rule matches (by service, operation,
region, or text in its body such as an account id in a RoleArn) gets that rule's fault
instead of moto's answer:

- ``throttle``: the service's own throttling error (HTTP 400 or 503, in the service's
  protocol), which botocore's retry modes back off from;
- ``deny``: the service's own access-denied error (HTTP 403);
- ``hang``: the connection is accepted and no answer ever comes (until the test ends);
- ``fail``: HTTP 500 with an InternalError;
- ``drop``: the connection is closed without an answer, as a reset load balancer or a
  dying proxy leaves it.

Errors are written in the protocol botocore expects for each service (EC2's XML, the
query XML of STS and Auto Scaling, JSON with ``__type`` for Logs, Cost Explorer and
Organizations, REST XML for S3 and CloudFront, REST JSON for Savings Plans, and
Smithy RPC v2 CBOR for CloudWatch), so the real client code parses them: what the
scanner sees is what it would see from AWS.

``share`` throttles a seeded random share of matching requests, never the same request
more than ``max_in_a_row`` times running, so a retrying client always gets through and a
test's outcome does not depend on the draw.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs

Kind = Literal["throttle", "deny", "hang", "fail", "drop"]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# (code, HTTP status) per protocol family for each fault.
_THROTTLE = {
    "ec2": ("RequestLimitExceeded", 503),
    "query": ("Throttling", 400),
    "json": ("ThrottlingException", 400),
    "rest-xml": ("SlowDown", 503),
    "rest-json": ("ThrottlingException", 429),
    "cbor": ("Throttling", 400),
}
_DENY = {
    "ec2": ("UnauthorizedOperation", 403),
    "query": ("AccessDenied", 403),
    "json": ("AccessDeniedException", 400),
    "rest-xml": ("AccessDenied", 403),
    "rest-json": ("AccessDeniedException", 403),
    "cbor": ("AccessDenied", 403),
}
# Services that answer in REST XML or REST JSON (the others say so in the request).
_REST_XML = {"s3", "cloudfront"}
HANG_LIMIT_SECONDS = 600.0


@dataclass
class Rule:
    kind: Kind
    service: str | None = None  # SigV4 signing name: ec2, monitoring, sts, s3, logs ...
    operation: str | None = None
    region: str | None = None
    body_contains: str | None = None
    query_contains: str | None = None  # for REST calls told apart by their query (?lifecycle)
    share: float = 1.0
    max_in_a_row: int = 2
    hits: int = 0

    def matches(
        self, service: str, operation: str, region: str, body: bytes, query: str = ""
    ) -> bool:
        return (
            (self.query_contains is None or self.query_contains in query)
            and (self.service is None or self.service == service)
            and (self.operation is None or self.operation == operation)
            and (self.region is None or self.region == region)
            and (self.body_contains is None or self.body_contains.encode() in body)
        )


@dataclass
class Faults:
    """The rules in force, and what they did (``injected``: counts by kind)."""

    seed: int = 11
    rules: list[Rule] = field(default_factory=list)
    injected: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)
    _random: random.Random = field(default_factory=random.Random)
    _in_a_row: dict[str, int] = field(default_factory=dict)

    def add(self, kind: Kind, **match: Any) -> Rule:
        rule = Rule(kind, **match)
        with self._lock:
            self.rules.append(rule)
        return rule

    def reset(self) -> None:
        """No rules; anything hanging is let go."""
        with self._lock:
            self.rules.clear()
            self.injected.clear()
            self._in_a_row.clear()
            self._random.seed(self.seed)
        self._release.set()
        self._release = threading.Event()

    def _pick(
        self, service: str, operation: str, region: str, body: bytes, query: str = ""
    ) -> Rule | None:
        key = hashlib.sha256(f"{service}|{operation}|{region}|".encode() + body).hexdigest()
        with self._lock:
            for rule in self.rules:
                if not rule.matches(service, operation, region, body, query):
                    continue
                if rule.share < 1.0:
                    running = self._in_a_row.get(key, 0)
                    if running >= rule.max_in_a_row or self._random.random() >= rule.share:
                        self._in_a_row[key] = 0
                        return None
                    self._in_a_row[key] = running + 1
                rule.hits += 1
                self.injected[rule.kind] = self.injected.get(rule.kind, 0) + 1
                return rule
        return None

    def middleware(self, app: WsgiApp, identify: Callable[..., tuple[str, str, str]]) -> WsgiApp:
        """``app`` behind the rules; ``identify(environ, body)`` gives (service, operation,
        region) as the request log reads them."""

        def faulty(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if environ.get("PATH_INFO", "").startswith("/moto-api") or not self.rules:
                return app(environ, start_response)
            body = environ["wsgi.input"].read()
            import io

            environ["wsgi.input"] = io.BytesIO(body)
            service, operation, region = identify(environ, body)
            rule = self._pick(service, operation, region, body, environ.get("QUERY_STRING", ""))
            if rule is None:
                return app(environ, start_response)
            if rule.kind == "hang":
                self._release.wait(HANG_LIMIT_SECONDS)
                return _answer(start_response, *_error(environ, service, "InternalError", 500))
            if rule.kind == "drop":
                import socket

                connection = environ["werkzeug.socket"]  # werkzeug's dev server gives it
                connection.shutdown(socket.SHUT_RDWR)
                # Nothing reaches the client; werkzeug's write to the closed socket fails
                # quietly (it expects clients that go away).
                start_response("500 Internal Server Error", [("Content-Length", "0")])
                return []
            if rule.kind == "fail":
                return _answer(start_response, *_error(environ, service, "InternalError", 500))
            table = _THROTTLE if rule.kind == "throttle" else _DENY
            code, status = table[_protocol(environ, service)]
            return _answer(start_response, *_error(environ, service, code, status))

        return faulty


def _protocol(environ: dict[str, Any], service: str) -> str:
    if "/service/" in environ.get("PATH_INFO", "") and "/operation/" in environ.get(
        "PATH_INFO", ""
    ):
        return "cbor"
    if environ.get("HTTP_X_AMZ_TARGET"):
        return "json"
    if service == "ec2":
        return "ec2"
    if service in _REST_XML:
        return "rest-xml"
    form = environ.get("CONTENT_TYPE", "")
    if "x-www-form-urlencoded" in form or "Action" in parse_qs(environ.get("QUERY_STRING", "")):
        return "query"
    return "rest-json"


def _error(
    environ: dict[str, Any], service: str, code: str, status: int
) -> tuple[int, list[tuple[str, str]], bytes]:
    message = f"injected by the test's fault layer: {code}"
    protocol = _protocol(environ, service)
    request_id = "fault-injected-0000"
    if protocol == "ec2":
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}'
            f"</Code><Message>{message}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        return status, [("Content-Type", "text/xml")], body.encode()
    if protocol == "query" or (protocol == "rest-xml" and service == "cloudfront"):
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId>"
            "</ErrorResponse>"
        )
        return status, [("Content-Type", "text/xml")], body.encode()
    if protocol == "rest-xml":
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        return status, [("Content-Type", "application/xml")], body.encode()
    if protocol == "cbor":
        headers = [
            ("Content-Type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("x-amzn-query-error", f"{code};Sender"),
        ]
        return status, headers, _cbor_map({"__type": code, "message": message})
    headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)]
    return status, headers, json.dumps({"__type": code, "message": message}).encode()


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    if len(data) < 24:
        return bytes([0x60 | len(data)]) + data
    if len(data) < 256:
        return bytes([0x78, len(data)]) + data
    return bytes([0x79]) + len(data).to_bytes(2, "big") + data


def _cbor_map(items: dict[str, str]) -> bytes:
    """A CBOR map of text to text (RFC 8949 major types 5 and 3), all an error needs."""
    out = bytes([0xA0 | len(items)])
    for key, value in items.items():
        out += _cbor_text(key) + _cbor_text(value)
    return out


def _answer(
    start_response: Callable[..., Any], status: int, headers: list[tuple[str, str]], body: bytes
) -> list[bytes]:
    reason = {400: "Bad Request", 403: "Forbidden", 429: "Too Many Requests"}.get(status, "Error")
    start_response(
        f"{status} {reason}",
        [*headers, ("Content-Length", str(len(body))), ("x-amzn-RequestId", "fault-injected")],
    )
    return [body]
