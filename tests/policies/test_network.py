"""Network policies on small inventories: each fires where it should, with its formula."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from costscan.scanner.contracts.inventory import Inventory
from tests.policies import network_inventories as ni
from tests.policies.runner import run_policy

GIB = 1024.0**3
MONTH_SCALE = 730.0 / (ni.LOOKBACK_DAYS * 24)
DAYS_PER_MONTH = 730.0 / 24.0


def run(policy_id: str, inv: Inventory, **params: object) -> pl.DataFrame:
    return run_policy(policy_id, inv, **params)


def tiered(gb: float, limits: list[float], prices: list[float]) -> float:
    total, lower = 0.0, 0.0
    for i, price in enumerate(prices):
        upper = limits[i] if i < len(limits) else float("inf")
        total += max(min(gb, upper) - lower, 0.0) * price
        lower = upper
    return total


CF_LIMITS = [10240.0, 51200.0, 153600.0, 512000.0, 1048576.0, 5242880.0]
CF_PRICES = [0.085, 0.080, 0.060, 0.040, 0.030, 0.025, 0.020]


def test_unassociated_elastic_ip_is_released_at_its_hourly_price() -> None:
    inv = ni.inventory(
        {
            "network_idle": [
                ni.elastic_ip("eipalloc-idle", attached=False),
                ni.elastic_ip("eipalloc-used", attached=True),
            ]
        }
    )
    out = run("network.idle-elastic-ip", inv)
    assert out["resource_id"].to_list() == ["eipalloc-idle"]
    assert out["monthly_savings"][0] == pytest.approx(0.005 * 730, abs=0.005)
    assert out["action"][0] == "remove"
    assert json.loads(out["evidence"][0])["hourly_price"] == 0.005


def test_a_price_from_another_region_lowers_the_confidence() -> None:
    home = ni.elastic_ip("eipalloc-home", attached=False)
    stand_in = {**ni.elastic_ip("eipalloc-far", attached=False), "region": "ap-south-1"}
    stand_in["price_region"] = "us-east-1"
    home["price_region"] = home["region"]
    out = run("network.idle-elastic-ip", ni.inventory({"network_idle": [home, stand_in]}))
    confidence = dict(zip(out["resource_id"], out["confidence"], strict=True))
    assert confidence["eipalloc-home"] == pytest.approx(0.95)
    assert confidence["eipalloc-far"] == pytest.approx(0.95 * 0.85)


def test_idle_nat_gateway_saves_hours_and_the_data_it_still_processes() -> None:
    inv = ni.inventory(
        {
            "network_idle": [
                ni.nat_gateway("nat-idle", processed_gb=0.5),
                ni.nat_gateway("nat-busy", processed_gb=400.0),
                ni.nat_gateway("nat-unknown", processed_gb=None),
            ]
        }
    )
    out = run("network.idle-nat-gateway", inv)
    assert out["resource_id"].to_list() == ["nat-idle"]
    expected = 0.045 * 730 + 0.5 * 0.045 * MONTH_SCALE
    assert out["monthly_savings"][0] == pytest.approx(expected, abs=0.005)


def test_young_nat_gateway_has_low_confidence() -> None:
    young = ni.nat_gateway("nat-new", processed_gb=0.0, created=datetime(2024, 6, 15, tzinfo=UTC))
    out = run("network.idle-nat-gateway", ni.inventory({"network_idle": [young]}))
    assert out["confidence"][0] == 0.4


def test_load_balancer_without_requests_or_healthy_targets_is_idle() -> None:
    inv = ni.inventory(
        {
            "network_idle": [
                ni.load_balancer("lb-quiet", requests=700.0, healthy=2, registered=2),  # 50/day
                ni.load_balancer("lb-empty", requests=90_000.0, healthy=0, registered=1),
                ni.load_balancer("lb-busy", requests=90_000.0, healthy=2, registered=2),
            ]
        }
    )
    out = run("network.idle-load-balancer", inv).sort("resource_id")
    assert out["resource_id"].to_list() == ["lb-empty", "lb-quiet"]
    assert out["monthly_savings"].to_list() == pytest.approx([0.0225 * 730] * 2, abs=0.005)


def test_nat_gateway_without_s3_endpoint_is_priced_on_the_assumed_share() -> None:
    inv = ni.inventory(
        {
            "network_idle": [
                ni.nat_gateway("nat-a", processed_gb=1000.0, s3_endpoint=False),
                ni.nat_gateway(
                    "nat-b", processed_gb=1000.0, s3_endpoint=True, dynamodb_endpoint=True
                ),
                ni.nat_gateway("nat-c", processed_gb=10.0, s3_endpoint=False),
            ]
        }
    )
    out = run("network.nat-gateway-endpoint", inv)
    assert out["resource_id"].to_list() == ["nat-a"]
    expected = 1000.0 * MONTH_SCALE * 0.25 * 0.045
    assert out["monthly_savings"][0] == pytest.approx(expected, abs=0.005)
    assert json.loads(out["evidence"][0])["share_is_estimated"] is True
    assert out["action"][0] == "configure"


def _cdn_expected(gb: float, cost: float, object_bytes: float) -> tuple[float, float]:
    requests = gb * GIB / object_bytes
    cdn = tiered(max(gb - 1024.0, 0.0), CF_LIMITS, CF_PRICES)
    cdn += max(requests - 10_000_000.0, 0.0) / 10_000.0 * 0.01
    return cost, cdn


def test_heavy_egress_with_large_objects_gets_a_cdn() -> None:
    monthly_gb, monthly_cost = 20_000.0, 1_781.5
    inv = ni.inventory(
        {
            "transfer": [
                ni.transfer_row(
                    "media-bucket",
                    gb=monthly_gb * 31 / DAYS_PER_MONTH,
                    cost=monthly_cost * 31 / DAYS_PER_MONTH,
                )
            ],
            "buckets": [ni.bucket("media-bucket", bytes_=5e12, objects=1e6)],  # 5 MB objects
        }
    )
    out = run("network.cdn-for-origin", inv)
    assert out.height == 1
    saving, added = _cdn_expected(monthly_gb, monthly_cost, 5e6)
    assert out["monthly_savings"][0] == pytest.approx(saving, abs=0.01)
    assert out["added_monthly_cost"][0] == pytest.approx(added, abs=0.01)
    assert out["performance"][0] == "improves"
    assert out["price_source"][0] == "billing"


def test_small_objects_get_no_cdn_because_request_fees_outweigh_the_gain() -> None:
    inv = ni.inventory(
        {
            "transfer": [ni.transfer_row("api-bucket", gb=20_000.0, cost=1_781.5)],
            "buckets": [ni.bucket("api-bucket", bytes_=1e10, objects=1e6)],  # 10 KB objects
        }
    )
    assert run("network.cdn-for-origin", inv).height == 0


def test_unknown_object_size_uses_the_median_response_and_stays_quiet() -> None:
    inv = ni.inventory({"transfer": [ni.transfer_row("i-0abc", gb=20_000.0, cost=1_781.5)]})
    assert run("network.cdn-for-origin", inv).height == 0
    # With a stated object size, the same source gets the CDN.
    assert run("network.cdn-for-origin", inv, assumed_object_bytes=4e6).height == 1


def test_billing_egress_by_resource_is_priced_against_a_cdn() -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    end = datetime(2024, 5, 31, tzinfo=UTC)  # 30 days of charges
    base = {
        "ProviderName": "AWS",
        "SubAccountId": ni.ACCOUNT,
        "RegionId": "us-east-1",
        "ChargePeriodStart": start,
        "ChargePeriodEnd": end,
        "PricingUnit": "GB",
    }
    rows = [
        {
            **base,
            "ResourceId": "arn:aws:s3:::downloads",
            "ServiceName": "Amazon S3",
            "ChargeDescription": (
                "$0.09 per GB - first 10 TB / month data transfer out beyond the global free tier"
            ),
            "ConsumedQuantity": 30_000.0,
            "EffectiveCost": 2_700.0,
            "BilledCost": 2_700.0,
        },
        {
            **base,
            "ResourceId": "arn:aws:s3:::downloads",
            "ServiceName": "Amazon S3",
            "ChargeDescription": (
                "$0.02 per GB - US East (N. Virginia) data transfer to US West (Oregon)"
                " inter-region"
            ),
            "ConsumedQuantity": 5_000.0,
            "EffectiveCost": 100.0,
            "BilledCost": 100.0,
        },
        {
            **base,
            "ResourceId": "E2CDN",
            "ServiceName": "Amazon CloudFront",
            "ChargeDescription": "$0.085 per GB - data transfer out to internet",
            "ConsumedQuantity": 9_000.0,
            "EffectiveCost": 765.0,
            "BilledCost": 765.0,
        },
    ]
    from costscan.scanner.contracts.inventory import Inventory, RunContext

    inv = Inventory(provider="focus", context=RunContext(now=ni.NOW))
    inv.add("billing", ni.focus_rows(rows))
    out = run("network.billing-cdn-egress", inv, assumed_object_bytes=8e6)
    assert out["resource_id"].to_list() == ["arn:aws:s3:::downloads"]
    monthly_gb = 30_000.0 / 30 * DAYS_PER_MONTH
    monthly_cost = 2_700.0 / 30 * DAYS_PER_MONTH
    saving, added = _cdn_expected(monthly_gb, monthly_cost, 8e6)
    assert out["monthly_savings"][0] == pytest.approx(saving, abs=0.01)
    assert out["added_monthly_cost"][0] == pytest.approx(added, abs=0.01)
    assert out["price_source"][0] == "billing"
    # Small objects: no CDN.
    assert run("network.billing-cdn-egress", inv).height == 0


def test_billing_egress_billed_in_one_hour_is_scaled_by_the_export_period() -> None:
    month_start = datetime(2024, 9, 1, tzinfo=UTC)
    month_end = datetime(2024, 10, 1, tzinfo=UTC)  # a 30-day export
    hour = datetime(2024, 9, 18, 22, tzinfo=UTC)
    common = {"ProviderName": "AWS", "SubAccountId": ni.ACCOUNT, "RegionId": "us-east-1"}
    rows = [
        {
            **common,
            "ResourceId": "i-web",
            "ServiceName": "Amazon Elastic Compute Cloud",
            "ChargeDescription": "$0.09 per GB - first 10 TB / month data transfer out",
            "PricingUnit": "GB",
            "ChargePeriodStart": hour,
            "ChargePeriodEnd": hour + timedelta(hours=1),
            "ConsumedQuantity": 60_000.0,
            "EffectiveCost": 5_400.0,
            "BilledCost": 5_400.0,
        },
        {  # another charge that makes the export span the whole month
            **common,
            "ResourceId": "i-other",
            "ServiceName": "Amazon Elastic Compute Cloud",
            "ChargeDescription": "Linux/UNIX usage",
            "PricingUnit": "Hrs",
            "ChargePeriodStart": month_start,
            "ChargePeriodEnd": month_end,
            "ConsumedQuantity": 720.0,
            "EffectiveCost": 69.12,
            "BilledCost": 69.12,
        },
    ]
    from costscan.scanner.contracts.inventory import Inventory, RunContext

    inv = Inventory(provider="focus", context=RunContext(now=ni.NOW))
    inv.add("billing", ni.focus_rows(rows))
    out = run("network.billing-cdn-egress", inv, assumed_object_bytes=8e6)
    monthly_gb = 60_000.0 / 30 * DAYS_PER_MONTH
    monthly_cost = 5_400.0 / 30 * DAYS_PER_MONTH
    saving, added = _cdn_expected(monthly_gb, monthly_cost, 8e6)
    assert out["monthly_savings"][0] == pytest.approx(saving, abs=0.01)
    assert out["added_monthly_cost"][0] == pytest.approx(added, abs=0.01)


def test_distribution_without_compression_saves_the_compressible_bytes() -> None:
    inv = ni.inventory(
        {
            "distributions": [
                ni.distribution("EOFF", bytes_out=5_000 * GIB, compress=False),
                ni.distribution("EON", bytes_out=5_000 * GIB, compress=True),
            ]
        }
    )
    out = run("network.distribution-compression", inv)
    assert out["resource_id"].to_list() == ["EOFF"]
    gb = 5_000 * MONTH_SCALE
    share = round((613 + 78 + 18) / 2652, 3)
    expected = tiered(gb, CF_LIMITS, CF_PRICES) - tiered(
        gb * (1 - share * 0.7), CF_LIMITS, CF_PRICES
    )
    assert out["monthly_savings"][0] == pytest.approx(expected, abs=0.005)


def test_price_class_all_with_regional_traffic_moves_to_price_class_100() -> None:
    rows = [
        ni.transfer_row(
            "EREG", gb=9_700.0, cost=0.0, destination="cdn", usage_type="US-DataTransfer-Out-Bytes"
        ),
        ni.transfer_row(
            "EREG", gb=300.0, cost=0.0, destination="cdn", usage_type="AP-DataTransfer-Out-Bytes"
        ),
        ni.transfer_row(
            "EGLOBAL",
            gb=5_000.0,
            cost=0.0,
            destination="cdn",
            usage_type="US-DataTransfer-Out-Bytes",
        ),
        ni.transfer_row(
            "EGLOBAL",
            gb=5_000.0,
            cost=0.0,
            destination="cdn",
            usage_type="JP-DataTransfer-Out-Bytes",
        ),
    ]
    inv = ni.inventory(
        {
            "transfer": rows,
            "distributions": [
                ni.distribution("EREG", bytes_out=1e12),
                ni.distribution("EGLOBAL", bytes_out=1e12),
            ],
        }
    )
    out = run("network.price-class-regional", inv)
    assert out["resource_id"].to_list() == ["EREG"]
    expected = 300.0 / 31 * DAYS_PER_MONTH * (0.120 - 0.085)
    assert out["monthly_savings"][0] == pytest.approx(expected, abs=0.005)
    assert out["performance"][0] == "risk"
