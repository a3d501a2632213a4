"""Cost Optimization Hub's recommendations against moto in server mode, answered by the
local layer (demo/gaps.py): every page read, resources named as costscan names them, and
an account that has not enrolled told from a real failure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from costscan.providers.aws import AwsProvider
from costscan.providers.aws.cost_hub import COLLECTOR, RECOMMENDER
from costscan.providers.aws.permissions import IAM_ACTIONS, iam_action
from costscan.providers.interface import ScanRequest
from costscan.scanner.contracts.inventory import Inventory, RunContext
from tests.moto_server import RecordingMotoServer
from tests.read_only import CallRecorder, request_is_read

NOW = datetime(2025, 6, 4, 10, 30, tzinfo=UTC)
ACCOUNT = "123456789012"
FUNCTION = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:resize-images"


def _item(rid: str, action: str, saving: float, **extra: Any) -> dict[str, Any]:
    return {
        "recommendationId": f"rec-{rid[-6:]}",
        "accountId": ACCOUNT,
        "region": "eu-west-1",
        "resourceId": rid,
        "actionType": action,
        "estimatedMonthlySavings": saving,
        "estimatedSavingsPercentage": 40.0,
        "currencyCode": "USD",
        "implementationEffort": "Low",
        "restartNeeded": action != "Delete",
        **extra,
    }


def _pages(params: dict[str, Any]) -> dict[str, Any]:
    # Two pages: the second only for the first page's token.
    if params.get("nextToken") == "page-2":
        return {
            "items": [
                _item(
                    "resize-images",
                    "Rightsize",
                    3.5,
                    resourceArn=f"{FUNCTION}:$LATEST",
                    currentResourceType="LambdaFunction",
                    currentResourceSummary="2048 MB",
                    recommendedResourceSummary="1024 MB",
                )
            ]
        }
    return {
        "items": [
            _item(
                "i-0abc123",
                "Stop",
                61.32,
                resourceArn=f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0abc123",
                currentResourceType="Ec2Instance",
            ),
            _item(
                f"arn:aws:ec2:eu-west-1:{ACCOUNT}:volume/vol-0def456",
                "Delete",
                8.0,
                currentResourceType="EbsVolume",
            ),
        ],
        "nextToken": "page-2",
    }


def _scan(moto: RecordingMotoServer, *hooks: Any) -> Inventory:
    request = ScanRequest(
        context=RunContext(now=NOW, lookback_days=2),
        regions=("eu-west-1",),
        endpoint_url=moto.endpoint_url,
    )
    return AwsProvider(max_attempts=1, hooks=hooks).collect(request)


def _hub(inv: Inventory) -> list[dict[str, Any]]:
    rows = inv.frame("provider_advice").to_dicts() if inv.has("provider_advice") else []
    return [r for r in rows if r["recommender"] == RECOMMENDER]


def test_every_page_is_read_in_us_east_1_with_reads_only(moto: RecordingMotoServer) -> None:
    moto.gaps.answer("cost-optimization-hub", "ListRecommendations", _pages)
    recorder = CallRecorder()
    inv = _scan(moto, recorder.hook)
    assert inv.errors == []
    rows = {r["resource_id"]: r for r in _hub(inv) if r["kind"] != "coverage"}
    # The instance by its id, the volume by its ARN's short id, the function unversioned.
    assert set(rows) == {"i-0abc123", "vol-0def456", FUNCTION}
    assert (rows["i-0abc123"]["kind"], rows["i-0abc123"]["monthly_savings"]) == ("stop", 61.32)
    assert rows["vol-0def456"]["kind"] == "delete"
    fn = rows[FUNCTION]
    assert (fn["kind"], fn["target"], fn["currency"]) == ("resize", "1024 MB", "USD")
    assert fn["description"] == "Rightsize LambdaFunction from 2048 MB to 1024 MB"
    coverage = [r for r in _hub(inv) if r["kind"] == "coverage"]
    assert [(c["account_id"], c["state"]) for c in coverage] == [(ACCOUNT, "available")]
    calls = [c for c in moto.gaps.calls if c.operation == "ListRecommendations"]
    assert [c.params.get("nextToken") for c in calls] == [None, "page-2"]
    sent = moto.operations()
    assert [r for r in sent if not request_is_read(r)] == []
    assert {iam_action(s, op) for s, op in recorder.calls} <= set(IAM_ACTIONS)
    assert "cost-optimization-hub:ListRecommendations" in IAM_ACTIONS


def test_an_account_not_enrolled_has_advice_unavailable_and_no_error(
    moto: RecordingMotoServer,
) -> None:
    moto.gaps.fail(
        "cost-optimization-hub",
        "ListRecommendations",
        code="AccessDeniedException",
        message="The account is not enrolled in Cost Optimization Hub",
    )
    inv = _scan(moto)
    assert inv.errors == []
    [coverage] = _hub(inv)
    assert (coverage["kind"], coverage["state"]) == ("coverage", "unavailable")
    assert "not enrolled" in coverage["description"]


def test_a_denied_read_is_a_real_failure(moto: RecordingMotoServer) -> None:
    # AccessDenied for a missing IAM permission is not "not enrolled": the run says so.
    moto.gaps.fail("cost-optimization-hub", "ListRecommendations")
    inv = _scan(moto)
    assert [e.collector for e in inv.errors] == [COLLECTOR]
    assert _hub(inv) == []
