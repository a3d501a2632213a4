"""Network collectors against moto (server mode) and, for what moto lacks, a local server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import boto3
import polars as pl
import pytest

from costscan.providers.aws import AwsProvider
from costscan.providers.aws.network import (
    transfer_by_resource,
    transfer_by_usage_type,
    transfer_frame,
)
from costscan.providers.aws.session import is_read_operation
from costscan.providers.interface import ScanRequest
from costscan.reports.ranking import rank
from costscan.scanner.app import catalog
from costscan.scanner.contracts.inventory import RunContext
from tests.moto_server import RecordingMotoServer

NOW = datetime(2025, 6, 4, 10, 30, tzinfo=UTC)
ACCOUNT = "123456789012"


def _request(endpoint_url: str) -> ScanRequest:
    return ScanRequest(
        context=RunContext(now=NOW, lookback_days=2),
        regions=("us-east-1",),
        endpoint_url=endpoint_url,
    )


def test_idle_elastic_ip_gets_one_counted_finding_and_every_call_is_a_read(
    moto: RecordingMotoServer, endpoint_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the network collectors: other families' collectors are tested in their own files.
    from costscan.providers.aws import network, provider

    monkeypatch.setattr(provider, "REGIONAL_COLLECTORS", (network.scan_network_region,))
    monkeypatch.setattr(provider, "ACCOUNT_COLLECTORS", (network.scan_network_account,))
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=endpoint_url)
    idle = ec2.allocate_address(Domain="vpc")["AllocationId"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    elbv2 = boto3.client("elbv2", region_name="us-east-1", endpoint_url=endpoint_url)
    lb = elbv2.create_load_balancer(Name="quiet-alb", Subnets=[subnet], Type="application")
    lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    moto.clear_log()

    inv = AwsProvider(max_attempts=1).collect(_request(endpoint_url))

    assert [e for e in inv.errors if "network" in e.collector or "elbv2" in e.collector] == []
    frame = inv.frame("network_idle")
    kinds = dict(zip(frame["resource_id"], frame["kind"], strict=True))
    assert kinds[idle] == "elastic_ip" and kinds[lb_arn] == "load_balancer"
    eip = frame.filter(pl.col("resource_id") == idle).row(0, named=True)
    assert eip["attached"] is False and eip["hourly_price"] == 0.005

    pol = catalog.policy_by_id("network.idle-elastic-ip")
    found = pol.run(inv, pol.build_params()).collect()
    ranked = rank(found, hourly_rate=100.0)
    counted = ranked.findings.filter(pl.col("counted"))
    assert counted["resource_id"].to_list() == [idle]
    assert counted["monthly_savings"][0] == pytest.approx(0.005 * 730, abs=0.005)

    for call in moto.operations():
        assert is_read_operation(call.service, call.operation) or call.operation.startswith(
            "GET "
        ), call


class _CostExplorerFake(BaseHTTPRequestHandler):
    """GetCostAndUsageWithResources in botocore's JSON protocol, in the documented shape."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        target = self.headers.get("X-Amz-Target", "")
        type(self).seen.append({"target": target, "body": body})
        groups = [
            {
                "Keys": ["i-0web", "USE1-DataTransfer-Out-Bytes"],
                "Metrics": {
                    "UnblendedCost": {"Amount": "9.0", "Unit": "USD"},
                    "UsageQuantity": {"Amount": "100.0", "Unit": "GB"},
                },
            },
            {
                "Keys": ["NoResourceId", "USE1-DataTransfer-Out-Bytes"],
                "Metrics": {
                    "UnblendedCost": {"Amount": "1.0", "Unit": "USD"},
                    "UsageQuantity": {"Amount": "11.0", "Unit": "GB"},
                },
            },
        ]
        answer = {
            "ResultsByTime": [
                {
                    "TimePeriod": {"Start": f"2025-05-{d:02d}", "End": f"2025-05-{d + 1:02d}"},
                    "Groups": groups,
                    "Estimated": False,
                }
                for d in (21, 22)
            ]
        }
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture
def fake_ce() -> Iterator[str]:
    _CostExplorerFake.seen = []
    server = HTTPServer(("127.0.0.1", 0), _CostExplorerFake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


def test_resource_level_transfer_from_the_documented_shape(fake_ce: str) -> None:
    ce = boto3.client("ce", region_name="us-east-1", endpoint_url=fake_ce)
    results = transfer_by_resource(ce, NOW)
    (call,) = _CostExplorerFake.seen
    assert call["target"].endswith("GetCostAndUsageWithResources")
    assert call["body"]["Granularity"] == "DAILY"
    assert call["body"]["TimePeriod"] == {"Start": "2025-05-21", "End": "2025-06-04"}
    frame = transfer_frame(ACCOUNT, results, resource_level=True)
    assert frame.select("source_resource", "destination", "month", "gb", "cost", "days").rows() == [
        ("i-0web", "internet", date(2025, 5, 1), 200.0, 18.0, 2)
    ]


def test_account_wide_transfer_from_seeded_cost_explorer(endpoint_url: str) -> None:
    import urllib.request

    result = {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": "2025-05-01", "End": "2025-06-01"},
                "Total": {},
                "Groups": [
                    {
                        "Keys": ["Amazon Simple Storage Service", "USE1-DataTransfer-Out-Bytes"],
                        "Metrics": {
                            "UnblendedCost": {"Amount": "450.0", "Unit": "USD"},
                            "UsageQuantity": {"Amount": "5000", "Unit": "GB"},
                        },
                    },
                    {
                        "Keys": ["Amazon CloudFront", "EU-DataTransfer-Out-Bytes"],
                        "Metrics": {
                            "UnblendedCost": {"Amount": "85.0", "Unit": "USD"},
                            "UsageQuantity": {"Amount": "1000", "Unit": "GB"},
                        },
                    },
                    {
                        "Keys": ["Amazon Elastic Compute Cloud - Compute", "BoxUsage:m5.large"],
                        "Metrics": {
                            "UnblendedCost": {"Amount": "70.0", "Unit": "USD"},
                            "UsageQuantity": {"Amount": "730", "Unit": "Hrs"},
                        },
                    },
                ],
                "Estimated": False,
            }
        ]
    }
    seed = urllib.request.Request(
        f"{endpoint_url}/moto-api/static/ce/cost-and-usage-results",
        data=json.dumps({"results": [result], "account_id": ACCOUNT}).encode(),
        method="POST",
    )
    urllib.request.urlopen(seed, timeout=30).read()
    ce = boto3.client("ce", region_name="us-east-1", endpoint_url=endpoint_url)
    frame = transfer_frame(ACCOUNT, transfer_by_usage_type(ce, NOW), resource_level=False)
    assert sorted(frame.select("service", "destination", "gb", "cost", "days").rows()) == [
        ("Amazon CloudFront", "cdn", 1000.0, 85.0, 31),
        ("Amazon Simple Storage Service", "internet", 5000.0, 450.0, 31),
    ]
