"""Answers for the AWS read operations moto lacks, in their documented shapes.

moto has no EC2 DescribeReservedInstances, no Savings Plans service and, in Cost Explorer,
nothing beyond GetCostAndUsage. In server mode it answers those with HTTP 500, which
botocore retries with backoff before giving up: a scan against moto then loses tens of
seconds and records collector errors. ``MissingApis`` answers them instead, in front of
moto, as WSGI middleware (no extra HTTP hop):

```python
gaps = MissingApis()                        # valid, empty answers: no commitments
app = gaps.middleware(moto_wsgi_app)        # everything else goes to moto
gaps.answer("ce", "GetReservationCoverage", {"CoveragesByTime": [...]})   # seeded
gaps.answer("ec2", "DescribeReservedInstances", {...}, region="eu-west-1")  # one region
gaps.fail("ec2", "DescribeReservedInstances", code="UnauthorizedOperation")
```

An answer is a dict in the operation's output shape (the names boto3 returns) or a
function of the request's parameters returning one, for every region or for one (the
region of the request's SigV4 scope); a region's own answer wins. The operation is found the way AWS
finds it (``X-Amz-Target`` for JSON services, the ``Action`` field for EC2 / query
services, method and path for REST-JSON); every answer is checked against botocore's own
output model (unknown members and non-string values for string members are refused, so
a canned answer cannot drift from the documented shape), then serialized in the
service's protocol: JSON, or XML for EC2 and query services.

The default answers are what a real account without reservations or savings plans gets:
empty lists. botocore and werkzeug are imported lazily; nothing here runs at import.
"""

from __future__ import annotations

import functools
import io
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

Answer = Mapping[str, Any] | Callable[[dict[str, Any]], Mapping[str, Any]]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# The reads a scan makes that moto (5.x) does not implement, as (botocore service name,
# operation name).
MISSING_FROM_MOTO: tuple[tuple[str, str], ...] = (
    ("ec2", "DescribeReservedInstances"),
    ("savingsplans", "DescribeSavingsPlans"),
    ("ce", "GetReservationUtilization"),
    ("ce", "GetReservationCoverage"),
    ("ce", "GetSavingsPlansUtilizationDetails"),
    ("ce", "GetSavingsPlansCoverage"),
    ("ce", "GetCostAndUsageWithResources"),
    ("rds", "DescribeReservedDBInstances"),
    ("elasticache", "DescribeReservedCacheNodes"),
    ("compute-optimizer", "GetLambdaFunctionRecommendations"),
    ("compute-optimizer", "GetAutoScalingGroupRecommendations"),
    ("compute-optimizer", "GetECSServiceRecommendations"),
    ("cost-optimization-hub", "ListRecommendations"),
)


# SigV4 signing names that differ from botocore's service name (EFS signs as
# "elasticfilesystem"), so an answer registered under the service name is found.
SIGNING_NAMES: dict[str, str] = {"elasticfilesystem": "efs"}


@dataclass(frozen=True)
class Call:
    """One request answered here (not by the application behind)."""

    service: str
    operation: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Failure:
    status: int
    code: str
    message: str


class ShapeMismatch(ValueError):
    """An answer does not fit the operation's documented output shape."""


def _echo_time_period(params: dict[str, Any]) -> Mapping[str, Any]:
    # TimePeriod is a required member of the output: AWS echoes the requested window.
    period = params.get("TimePeriod") or {"Start": "", "End": ""}
    return {"SavingsPlansUtilizationDetails": [], "TimePeriod": dict(period)}


def empty_answers() -> dict[tuple[str, str], Answer]:
    """The answer an account with no reservations or savings plans gets, per operation."""
    return {
        ("ec2", "DescribeReservedInstances"): {"ReservedInstances": []},
        ("savingsplans", "DescribeSavingsPlans"): {"savingsPlans": []},
        ("ce", "GetReservationUtilization"): {"UtilizationsByTime": []},
        ("ce", "GetReservationCoverage"): {"CoveragesByTime": []},
        ("ce", "GetSavingsPlansUtilizationDetails"): _echo_time_period,
        ("ce", "GetSavingsPlansCoverage"): {"SavingsPlansCoverages": []},
        ("ce", "GetCostAndUsageWithResources"): {"ResultsByTime": []},
        ("rds", "DescribeReservedDBInstances"): {"ReservedDBInstances": []},
        ("elasticache", "DescribeReservedCacheNodes"): {"ReservedCacheNodes": []},
        # Compute Optimizer enrolled, with no advice.
        ("compute-optimizer", "GetLambdaFunctionRecommendations"): {
            "lambdaFunctionRecommendations": []
        },
        ("compute-optimizer", "GetAutoScalingGroupRecommendations"): {
            "autoScalingGroupRecommendations": []
        },
        ("compute-optimizer", "GetECSServiceRecommendations"): {"ecsServiceRecommendations": []},
        # Cost Optimization Hub enrolled, with no advice.
        ("cost-optimization-hub", "ListRecommendations"): {"items": []},
    }


@functools.cache
def service_model(service: str) -> Any:
    """botocore's model of ``service`` (loaded once: loading takes tens of milliseconds)."""
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


class MissingApis:
    """A registry of answers per (service, operation), served as WSGI middleware.

    ``defaults=True`` starts with ``empty_answers()``; ``reset()`` goes back to them.
    ``calls`` lists every request answered here, in order.
    """

    def __init__(self, *, defaults: bool = True) -> None:
        self.defaults = defaults
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, str, str | None], Answer | Failure] = {}
        self.reset()

    # ------------------------------------------------------------------ registration

    def answer(
        self, service: str, operation: str, body: Answer, *, region: str | None = None
    ) -> None:
        """Answer ``service``'s ``operation`` (botocore names: "ce", "GetReservationCoverage"),
        in every region or only in ``region``."""
        model = service_model(service)
        if operation not in model.operation_names:
            raise ValueError(f"{service} has no operation {operation}")
        if not callable(body):
            check_shape(model.operation_model(operation).output_shape, body, operation)
        with self._lock:
            self._answers[(service, operation, region)] = body

    def fail(
        self,
        service: str,
        operation: str,
        *,
        status: int = 403,
        code: str = "AccessDeniedException",
        message: str = "User is not authorized to perform this operation",
        region: str | None = None,
    ) -> None:
        with self._lock:
            self._answers[(service, operation, region)] = Failure(status, code, message)

    def reset(self) -> None:
        """Back to the default answers (or none), with no calls recorded."""
        with self._lock:
            defaults = empty_answers() if self.defaults else {}
            self._answers = {(svc, op, None): body for (svc, op), body in defaults.items()}
            self.calls.clear()

    def operations(self) -> list[tuple[str, str]]:
        """(service, operation) of every request answered here, in order."""
        with self._lock:
            return [(c.service, c.operation) for c in self.calls]

    def _services(self) -> set[str]:
        with self._lock:
            return {service for service, _, _ in self._answers}

    # ------------------------------------------------------------------ serving

    def middleware(self, app: WsgiApp) -> WsgiApp:
        """``app`` with the registered operations answered here first."""

        def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            service, region = signing_scope(environ.get("HTTP_AUTHORIZATION", ""))
            service = SIGNING_NAMES.get(service, service)
            if not service or service not in self._services():
                return app(environ, start_response)
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            answered = self.respond(service, region, environ, body)
            if answered is None:
                return app(environ, start_response)
            status, headers, payload = answered
            start_response(status, headers)
            return [payload]

        return serve

    def respond(
        self, service: str, region: str, environ: Mapping[str, Any], body: bytes
    ) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """(status line, headers, body) for a registered operation, else None."""
        try:
            model = service_model(service)
        except Exception:  # an unknown service name: not ours to answer
            return None
        operation, params = operation_of(model, environ, body)
        if operation is None:
            return None
        with self._lock:
            registered = self._answers.get((service, operation, region))
            if registered is None:
                registered = self._answers.get((service, operation, None))
            if registered is None:
                return None
            self.calls.append(Call(service, operation, params))
        wire = "json" if environ.get("HTTP_X_AMZ_TARGET") else model.protocol
        if isinstance(registered, Failure):
            return error_response(wire, registered)
        try:
            answer = registered(params) if callable(registered) else registered
            output = model.operation_model(operation).output_shape
            check_shape(output, answer, operation)
        except ShapeMismatch as exc:
            return error_response(wire, Failure(400, "FakeShapeMismatch", str(exc)))
        if wire == "ec2":
            return _ok(_ec2_xml(operation, output, answer).encode(), "text/xml")
        if wire == "query":
            return _ok(_query_xml(operation, output, answer).encode(), "text/xml")
        payload = json.dumps(answer, default=_json_default).encode()
        return _ok(payload, json_content_type(model, wire))


# --------------------------------------------------------------------------- protocol


def signing_scope(authorization: str) -> tuple[str, str]:
    """(service, region) of a SigV4 scope: Credential=KEY/DATE/REGION/SERVICE/aws4_request."""
    marker = "Credential="
    if marker not in authorization:
        return "", ""
    scope = authorization.split(marker, 1)[1].split(",", 1)[0].split("/")
    return (scope[3], scope[2]) if len(scope) >= 5 else ("", "")


def operation_of(
    model: Any, environ: Mapping[str, Any], body: bytes
) -> tuple[str | None, dict[str, Any]]:
    """(operation name, request parameters) of a WSGI request to ``model``'s service."""
    protocol = model.protocol
    # A service whose model lists several protocols (Compute Optimizer: RPC v2 CBOR and
    # JSON) is called by botocore in JSON, named by X-Amz-Target.
    if protocol == "json" or environ.get("HTTP_X_AMZ_TARGET"):
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        return (target.rsplit(".", 1)[-1] or None), _json_body(body)
    if protocol in ("ec2", "query"):
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        form.update({k: v[0] for k, v in parse_qs(str(environ.get("QUERY_STRING", ""))).items()})
        return form.get("Action"), form
    path = str(environ.get("PATH_INFO", ""))
    method = str(environ.get("REQUEST_METHOD", ""))
    for name in model.operation_names:
        http = model.operation_model(name).http
        if http.get("method") == method and http.get("requestUri", "").split("?")[0] == path:
            return name, _json_body(body)
    return None, {}


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def json_content_type(model: Any, wire: str | None = None) -> str:
    version = model.metadata.get("jsonVersion", "1.0")
    protocol = wire or model.protocol
    return f"application/x-amz-json-{version}" if protocol == "json" else "application/json"


_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Error"}


def _status(code: int) -> str:
    return f"{code} {_REASONS.get(code, 'Error')}"


def _ok(payload: bytes, content_type: str) -> tuple[str, list[tuple[str, str]], bytes]:
    return _status(200), _headers(payload, content_type), payload


def _headers(payload: bytes, content_type: str, **extra: str) -> list[tuple[str, str]]:
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(payload))),
        ("x-amzn-RequestId", "costscan-local-request"),
    ]
    headers.extend((key.replace("_", "-"), value) for key, value in extra.items())
    return headers


def error_response(protocol: str, failure: Failure) -> tuple[str, list[tuple[str, str]], bytes]:
    if protocol in ("ec2", "query"):
        xml = (
            f"<Response><Errors><Error><Code>{escape(failure.code)}</Code>"
            f"<Message>{escape(failure.message)}</Message></Error></Errors>"
            "<RequestID>costscan-local-request</RequestID></Response>"
        )
        payload = xml.encode()
        return _status(failure.status), _headers(payload, "text/xml"), payload
    payload = json.dumps({"__type": failure.code, "message": failure.message}).encode()
    headers = _headers(payload, "application/json", x_amzn_ErrorType=failure.code)
    return _status(failure.status), headers, payload


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
    inner = _xml_members(shape, value, list_item="item")
    return (
        f'<{operation}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        f"<requestId>costscan-local-request</requestId>{inner}</{operation}Response>"
    )


def _query_xml(operation: str, shape: Any, value: Mapping[str, Any]) -> str:
    inner = _xml_members(shape, value, list_item="member")
    return (
        f"<{operation}Response><{operation}Result>{inner}</{operation}Result>"
        "<ResponseMetadata><RequestId>costscan-local-request</RequestId></ResponseMetadata>"
        f"</{operation}Response>"
    )


def _xml_members(shape: Any, value: Mapping[str, Any], *, list_item: str) -> str:
    # EC2 names members in lower camel case unless the model says otherwise; the query
    # protocol keeps the member names.
    def tag(name: str, member: Any) -> str:
        named = member.serialization.get("name")
        if named:
            return str(named)
        return _lower_first(name) if list_item == "item" else name

    return "".join(
        _xml_member(member, value[name], tag(name, member), list_item=list_item)
        for name, member in shape.members.items()
        if value.get(name) is not None
    )


def _xml_member(shape: Any, value: Any, tag: str, *, list_item: str) -> str:
    kind = shape.type_name
    if kind == "structure":
        inner = _xml_members(shape, value, list_item=list_item)
    elif kind == "list":
        item = shape.member.serialization.get("name") or list_item
        inner = "".join(_xml_member(shape.member, v, item, list_item=list_item) for v in value)
    elif kind == "timestamp":
        inner = value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value
    elif kind == "boolean":
        inner = "true" if value else "false"
    else:
        inner = escape(str(value))
    return f"<{tag}>{inner}</{tag}>"


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]
