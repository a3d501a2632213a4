"""Classifying what a scan sent, on the server side (moto's log) and on the client side."""

from __future__ import annotations

from typing import Any

from costscan.providers.aws.session import is_read_operation
from tests.moto_server import RecordedRequest

# REST-JSON reads sent as POST whose path does not end in the operation's name, as
# (service, "METHOD /path") -> operation.
REST_READS: dict[tuple[str, str], str] = {
    ("es", "POST /2021-01-01/opensearch/domain-info"): "DescribeDomains",
    # --billing athena://: a SELECT whose results go only to the output location the user
    # named; the guard (providers/aws/session.py) sends no other query.
    ("athena", "POST /query-executions"): "StartQueryExecution",
}


def request_is_read(request: RecordedRequest) -> bool:
    """A request the recording server saw was a read.

    Query and JSON protocols carry the operation name; REST protocols (S3, CloudFront,
    Savings Plans) are recorded as "METHOD /path": GET and HEAD only read, and a REST-JSON
    POST names its operation in the last path segment.
    """
    routed = REST_READS.get((request.service, request.operation))
    if routed is not None:
        return is_read_operation(request.service, routed)
    method, rest_call, path = request.operation.partition(" /")
    if not rest_call:
        return is_read_operation(request.service, request.operation)
    if method in ("GET", "HEAD"):
        return True
    return is_read_operation(request.service, path.rstrip("/").rsplit("/", 1)[-1])


class CallRecorder:
    """A botocore ``before-call`` hook that keeps (service, operation) of every API call."""

    def __init__(self) -> None:
        self.calls: set[tuple[str, str]] = set()

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls.add((model.service_model.service_name, model.name))

    @property
    def hook(self) -> tuple[str, CallRecorder]:
        return ("before-call", self)
