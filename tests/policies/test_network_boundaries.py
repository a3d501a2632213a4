"""The network policies at each threshold and each price tier, worked by hand (issue 21).

Prices and thresholds (policies/network.py, tests/policies/network_inventories.py): a
public IPv4 address $0.005/h, a NAT gateway $0.045/h and $0.045/GB, an ALB $0.0225/h
(https://aws.amazon.com/vpc/pricing/, https://aws.amazon.com/elasticloadbalancing/pricing/);
CloudFront per GB 0.085 to 10 TB, 0.080 to 50 TB, 0.060 to 150 TB, 0.040 to 500 TB,
0.030 to 1 PB, 0.025 to 5 PB, 0.020 beyond, $0.01 per 10,000 HTTPS requests, free 1 TB and
10M requests a month (https://aws.amazon.com/cloudfront/pricing/); internet egress 0.09 to
10 TB, 0.085 to 50 TB, 0.07 to 150 TB, 0.05 beyond (https://aws.amazon.com/ec2/pricing/on-demand/);
an idle NAT gateway processed at most 1 GB (Compute Optimizer), an idle load balancer under
100 requests a day (Trusted Advisor). A 14-day lookback: a month is 730 / 336 of it.
Written against the mutants that survived tests/policies/test_network.py
(``python benchmarks/mutation.py policies/network.py``).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from costscan.policies import network
from costscan.policies.network import CdnPricing, cdn_arithmetic, tiered
from costscan.scanner.contracts.inventory import Inventory, RunContext
from tests.policies import network_inventories as ni
from tests.policies.runner import run_policy

CENT = 0.005
GIB = 1024.0**3
MONTH_SCALE = 730.0 / 336.0
LOOKBACK_START = ni.NOW - timedelta(days=14)
# The module's own tables: the tests below price them by hand.
CF_LIMITS = network.CLOUDFRONT_LIMITS_GB
CF_PRICES = network.CLOUDFRONT_PRICES
EGRESS_LIMITS = network.EGRESS_LIMITS_GB
EGRESS_PRICES = network.EGRESS_PRICES


def run(policy_id: str, inv: Inventory, **params: Any) -> pl.DataFrame:
    return run_policy(policy_id, inv, **params).sort("resource_id")


def by_id(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {
        r["resource_id"]: {**r, "evidence": json.loads(r["evidence"])} for r in frame.to_dicts()
    }


# --- the tiered prices -----------------------------------------------------------------


def test_cloudfront_tiers_at_each_limit_and_one_gb_over() -> None:
    # Cumulative cost at each limit: 10,240 × 0.085 = 870.40; + 40,960 × 0.080 = 4,147.20;
    # + 102,400 × 0.060 = 10,291.20; + 358,400 × 0.040 = 24,627.20; + 536,576 × 0.030 =
    # 40,724.48; + 4,194,304 × 0.025 = 145,582.08. One GB over each adds the next price.
    at = [870.40, 4147.20, 10291.20, 24627.20, 40724.48, 145582.08]
    limits = [10240.0, 51200.0, 153600.0, 512000.0, 1048576.0, 5242880.0]
    over = [0.080, 0.060, 0.040, 0.030, 0.025, 0.020]
    gb = [0.0, -5.0, *limits, *(limit + 1 for limit in limits)]
    expected = [0.0, 0.0, *at, *(c + p for c, p in zip(at, over, strict=True))]
    frame = pl.DataFrame({"gb": gb})
    cost = frame.select(tiered(pl.col("gb"), CF_LIMITS, CF_PRICES)).to_series().to_list()
    assert cost == pytest.approx(expected, abs=1e-6)


def test_egress_tiers_at_each_limit_and_one_gb_over() -> None:
    # 10,240 × 0.09 = 921.60; + 40,960 × 0.085 = 4,403.20; + 102,400 × 0.07 = 11,571.20;
    # then 0.05 a GB.
    at = [921.60, 4403.20, 11571.20]
    limits = [10240.0, 51200.0, 153600.0]
    gb = [*limits, *(limit + 1 for limit in limits)]
    expected = [*at, *(c + p for c, p in zip(at, [0.085, 0.07, 0.05], strict=True))]
    frame = pl.DataFrame({"gb": gb})
    cost = frame.select(tiered(pl.col("gb"), EGRESS_LIMITS, EGRESS_PRICES)).to_series().to_list()
    assert cost == pytest.approx(expected, abs=1e-6)


def test_cdn_arithmetic_shares_the_free_tier_by_gb_within_the_key() -> None:
    # Two sources of one account, 3,072 and 1,024 GB (shares 0.75 and 0.25): the free 1 TB
    # is 768 and 256 GB of them; requests at 1 MiB objects are GB × 1,024, free 10M split
    # the same way. A: 2,304 GB × 0.085 = 195.84; 3,145,728 − 7,500,000 < 0: no fee.
    # B (other account, alone): 20,480 GB, 20,971,520 requests: (20,480 − 1,024) GB =
    # 19,456: 10,240 × 0.085 + 9,216 × 0.080 = 1,607.68; (20,971,520 − 10M) / 10,000 ×
    # 0.01 = 10.97152. Direct cost known for A (300) is used; unknown for B: its list
    # egress, 10,240 × 0.09 + 10,240 × 0.085 = 1,792.
    frame = pl.LazyFrame(
        {
            "account_id": ["a", "a", "b", "c"],
            "monthly_gb": [3072.0, 1024.0, 20480.0, 10.0],
            "direct_cost": [300.0, None, 0.0, 0.5],
            "object_bytes": [1024.0**2] * 4,
        }
    )
    rows = cdn_arithmetic(frame, CdnPricing(), "account_id").collect().to_dicts()
    a, a2, b, c = rows
    # C (third account): 0.50 billed is the egress cost, however small.
    assert c["egress_cost"] == 0.5
    assert a["cdn_billable_gb"] == pytest.approx(2304.0)
    assert a["cdn_transfer_cost"] == pytest.approx(195.84)
    assert a["monthly_requests"] == pytest.approx(3072.0 * 1024)
    assert a["cdn_billable_requests"] == 0.0 and a["cdn_request_cost"] == 0.0
    assert a["egress_cost"] == 300.0
    assert a2["cdn_billable_gb"] == pytest.approx(768.0)
    assert a2["egress_cost"] == pytest.approx(1024 * 0.09)
    assert b["cdn_billable_requests"] == pytest.approx(20_971_520 - 10_000_000, abs=1e-6)
    assert b["cdn_request_cost"] == pytest.approx(10.97152)
    assert b["cdn_cost"] == pytest.approx(1607.68 + 10.97152)
    assert b["list_egress_cost"] == pytest.approx(1792.0)
    assert b["egress_cost"] == pytest.approx(1792.0)


# --- idle addresses, gateways and balancers --------------------------------------------


def test_static_address_release_command_names_the_cloud() -> None:
    azure = {**ni.elastic_ip("pip-1", attached=False), "kind": "static_address",
             "provider": "azure"}  # fmt: skip
    gcp = {**ni.elastic_ip("addr-1", attached=False), "kind": "static_address", "provider": "gcp"}
    used = {**ni.elastic_ip("addr-used", attached=True), "kind": "static_address"}
    found = by_id(
        run("network.unused-static-address", ni.inventory({"network_idle": [azure, gcp, used]}))
    )
    assert sorted(found) == ["addr-1", "pip-1"]
    assert "(az network public-ip delete)" in found["pip-1"]["recommendation"]
    assert "(gcloud compute addresses delete)" in found["addr-1"]["recommendation"]
    assert found["addr-1"]["monthly_savings"] == pytest.approx(0.005 * 730, abs=CENT)
    assert found["addr-1"]["detail"] == (
        "Static address addr-1 is reserved, used by no resource, and costs $3.65 a month."
    )


def test_an_address_without_a_price_is_not_priced() -> None:
    # Nor is an address of another kind (a static address is the other policy's).
    unpriced = {**ni.elastic_ip("eip-x", attached=False), "hourly_price": None}
    static = {**ni.elastic_ip("addr-1", attached=False), "kind": "static_address"}
    inv = ni.inventory({"network_idle": [unpriced, static]})
    assert run("network.idle-elastic-ip", inv).is_empty()


def test_nat_gateway_idle_up_to_one_gb_inclusive() -> None:
    # 1.0 GB: idle; 32.85 a month of hours + 1.0 × 0.045 × 730/336 = 0.0978 of data.
    # 1.01 GB: not idle.
    inv = ni.inventory(
        {"network_idle": [ni.nat_gateway("nat-1gb", processed_gb=1.0),
                          ni.nat_gateway("nat-over", processed_gb=1.01)]}
    )  # fmt: skip
    found = by_id(run("network.idle-nat-gateway", inv))
    assert list(found) == ["nat-1gb"]
    row = found["nat-1gb"]
    assert row["monthly_savings"] == pytest.approx(32.85 + 0.045 * MONTH_SCALE, abs=1e-6)
    assert row["confidence"] == pytest.approx(0.85)
    assert (
        row["detail"] == "NAT gateway nat-1gb processed 1.0 GB in 14 days; it costs $32.95 a month."
    )
    assert row["recommendation"].endswith("then release its Elastic IP.")


def test_nat_gateway_created_at_the_lookback_start_was_watched_long_enough() -> None:
    inv = ni.inventory(
        {
            "network_idle": [
                ni.nat_gateway("nat-at", processed_gb=0.0, created=LOOKBACK_START),
                ni.nat_gateway("nat-after", processed_gb=0.0,
                               created=LOOKBACK_START + timedelta(seconds=1)),
                {**ni.nat_gateway("nat-azure", processed_gb=0.0), "provider": "azure"},
            ]
        }
    )  # fmt: skip
    found = by_id(run("network.idle-nat-gateway", inv))
    assert found["nat-at"]["confidence"] == pytest.approx(0.85)
    assert found["nat-after"]["confidence"] == pytest.approx(0.4)
    assert found["nat-azure"]["recommendation"].endswith("then release its public IP.")


def test_load_balancer_quiet_means_under_a_hundred_requests_a_day() -> None:
    # 1,400 requests in 14 days = 100 a day: not quiet; 1,399: quiet (0.85). No healthy
    # target but busy: idle at 0.7. (0.0225 × 730 = 16.425, 16.4249… in binary: $16.42.)
    inv = ni.inventory(
        {
            "network_idle": [
                ni.load_balancer("lb-100", requests=1400.0, healthy=2, registered=2),
                ni.load_balancer("lb-99", requests=1399.0, healthy=2, registered=2),
                ni.load_balancer("lb-empty", requests=90_000.0, healthy=0, registered=1),
            ]
        }
    )
    found = by_id(run("network.idle-load-balancer", inv))
    assert sorted(found) == ["lb-99", "lb-empty"]
    assert found["lb-99"]["confidence"] == pytest.approx(0.85)
    assert found["lb-empty"]["confidence"] == pytest.approx(0.7)
    assert found["lb-99"]["monthly_savings"] == pytest.approx(0.0225 * 730, abs=CENT)
    assert found["lb-99"]["detail"] == (
        "application load balancer lb-99: 2 healthy of 2 targets, 99.9 requests a day; "
        "$16.42 a month."
    )


# --- gateway endpoints -----------------------------------------------------------------

# 100 GB a month exactly: 100 × 336 / 730 GB over the lookback, to the last bit.
AT_100_GB = 46.02739726027398


def test_gateway_endpoint_from_a_hundred_gb_a_month_inclusive() -> None:
    # 100 GB a month × 0.25 assumed to S3/DynamoDB × 0.045 = 1.125 saved; current 32.85 +
    # 100 × 0.045 = 37.35. Just under 100 GB: nothing.
    inv = ni.inventory(
        {
            "network_idle": [
                ni.nat_gateway("nat-100", processed_gb=AT_100_GB),
                ni.nat_gateway("nat-under", processed_gb=46.0),
                {**ni.nat_gateway("nat-unpriced", processed_gb=1000.0), "data_price_per_gb": None},
                ni.nat_gateway("nat-both", processed_gb=1000.0, s3_endpoint=False,
                               dynamodb_endpoint=False),
                ni.nat_gateway("nat-dynamo", processed_gb=1000.0, s3_endpoint=True,
                               dynamodb_endpoint=False),
                ni.nat_gateway("nat-unknown", processed_gb=1000.0, s3_endpoint=None,
                               dynamodb_endpoint=None),
            ]
        }
    )  # fmt: skip
    found = by_id(run("network.nat-gateway-endpoint", inv))
    assert sorted(found) == ["nat-100", "nat-both", "nat-dynamo"]
    row = found["nat-100"]
    assert row["monthly_savings"] == pytest.approx(1.125, abs=1e-9)
    assert row["current_monthly_cost"] == pytest.approx(37.35, abs=1e-9)
    assert row["confidence"] == pytest.approx(0.3)  # the S3/DynamoDB share is assumed
    assert row["detail"] == (
        "NAT gateway nat-100 processes about 100.0 GB a month; VPC vpc-1 has no S3 gateway "
        "endpoint."
    )
    assert "no S3 and DynamoDB gateway endpoint" in found["nat-both"]["detail"]
    assert found["nat-dynamo"]["recommendation"].startswith("Add DynamoDB gateway endpoint(s)")


# --- CDN for an origin -----------------------------------------------------------------


def _monthly_rows(source: str, gb: float, cost: float) -> list[dict[str, Any]]:
    # 73 days over three months (31 + 30 + 12), so a month (730/24 days) is exactly 240/73
    # × 730/24 = 100 of 240 GB; two usage types in March count its 31 days once.
    third, half = gb / 3, gb / 6
    return [
        ni.transfer_row(source, gb=half, cost=cost / 6, month=date(2024, 3, 1), days=31),
        ni.transfer_row(source, gb=half, cost=cost / 6, month=date(2024, 3, 1), days=31,
                        usage_type="USE1-DataTransfer-Out-Bytes-2"),
        ni.transfer_row(source, gb=third, cost=cost / 3, month=date(2024, 4, 1), days=30),
        ni.transfer_row(source, gb=third, cost=cost / 3, month=date(2024, 5, 1), days=12),
    ]  # fmt: skip


def test_cdn_from_a_hundred_gb_and_ten_dollars_net_a_month_inclusive() -> None:
    # 240 GB and 24.00 over 73 days: 100 GB and 10.00 a month. Within the free tier (1 TB;
    # 100 GB of 5 MB objects is 21,475 requests), CloudFront costs 0: the net saving is
    # 10.00, at the line: a finding. A little less GB, or a little less cost: none.
    inv = ni.inventory(
        {
            "transfer": [
                *_monthly_rows("b-at", 240.0, 24.0),
                *_monthly_rows("b-fewer-gb", 239.9, 24.0),
                *_monthly_rows("b-cheaper", 240.0, 23.9),
            ],
            "buckets": [ni.bucket(b, bytes_=5e12, objects=1e6)
                        for b in ("b-at", "b-fewer-gb", "b-cheaper")],
        }
    )  # fmt: skip
    found = by_id(run("network.cdn-for-origin", inv))
    assert list(found) == ["b-at"]
    row = found["b-at"]
    assert row["monthly_savings"] == pytest.approx(10.0, abs=1e-9)
    assert row["added_monthly_cost"] == 0.0
    assert row["confidence"] == pytest.approx(0.6)
    assert row["price_source"] == "billing"
    assert row["evidence"]["days_observed"] == 73
    assert row["evidence"]["average_object_bytes"] == pytest.approx(5e6)
    assert row["detail"] == (
        "b-at sends about 100.0 GB a month to the internet ($10.00); CloudFront would cost $0.00."
    )


def test_cdn_with_no_billed_cost_uses_list_egress_and_an_assumed_size() -> None:
    # 2,000 GB a month, cost not billed: list egress 2,000 × 0.09 = 180 (bundled). Object
    # size unknown (a bucket with no objects tells nothing): 4 MB assumed, 536,871
    # requests, free. CloudFront: (2,000 − 1,024) × 0.085 = 82.96. Net 97.04: a finding at
    # the assumed size's confidence 0.4.
    monthly = 2000.0
    inv = ni.inventory(
        {
            "transfer": [ni.transfer_row("i-web", gb=monthly * 31 / (730 / 24), cost=0.0)],
            "buckets": [ni.bucket("i-web", bytes_=0.0, objects=0.0)],
        }
    )
    row = by_id(run("network.cdn-for-origin", inv, assumed_object_bytes=4e6))["i-web"]
    assert row["monthly_savings"] == pytest.approx(180.0, abs=1e-6)
    assert row["added_monthly_cost"] == pytest.approx(82.96, abs=1e-6)
    assert row["price_source"] == "bundled"
    assert row["confidence"] == pytest.approx(0.4)
    assert row["evidence"]["object_size_source"] == "assumed (HTTP Archive median response)"


def test_cdn_ignores_transfer_not_to_the_internet_or_from_no_known_source() -> None:
    inv = ni.inventory(
        {
            "transfer": [
                ni.transfer_row("b-x", gb=60_000.0, cost=5_000.0, destination="region"),
                ni.transfer_row(None, gb=60_000.0, cost=5_000.0, service="AmazonS3"),
                ni.transfer_row("b-zero", gb=60_000.0, cost=5_000.0, days=0),
            ]
        }
    )
    # At 5 MB objects these would pay for a CDN if they counted.
    assert run("network.cdn-for-origin", inv, assumed_object_bytes=5e6).is_empty()


# --- billed CDN egress -----------------------------------------------------------------


def _focus(rows: list[dict[str, Any]]) -> Inventory:
    inv = Inventory(provider="focus", context=RunContext(now=ni.NOW))
    inv.add("billing", ni.focus_rows(rows))
    return inv


def _egress(resource: str | None, gb: float, cost: float, **over: Any) -> dict[str, Any]:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    return {
        "ProviderName": "AWS",
        "SubAccountId": ni.ACCOUNT,
        "RegionId": "us-east-1",
        "ChargePeriodStart": start,
        "ChargePeriodEnd": start + timedelta(days=73),
        "PricingUnit": "GB",
        "ResourceId": resource,
        "ServiceName": "Amazon S3",
        "ChargeDescription": "$0.09 per GB - data transfer out beyond the global free tier",
        "ConsumedQuantity": gb,
        "EffectiveCost": cost,
        "BilledCost": cost,
        **over,
    }


def test_billed_egress_from_a_hundred_gb_and_ten_dollars_net_a_month_inclusive() -> None:
    # A 73-day export: 240 GB and 24.00 are 100 GB and 10.00 a month, within the free
    # tier at 8 MB objects: net 10.00, at both lines. Less GB or less cost: none. Rows
    # without a resource group by service; a GiB unit counts; CloudFront's own egress,
    # inter-region transfer and hour-priced rows never count.
    inv = _focus(
        [
            _egress("s3-at", 240.0, 24.0),
            _egress("s3-fewer", 239.9, 24.0),
            _egress("s3-cheaper", 240.0, 23.9),
            _egress(None, 240.0, 24.0, ServiceName="Amazon EC2", PricingUnit="GiB"),
            _egress("cf", 60_000.0, 5_000.0, ServiceName="Amazon CloudFront"),
            _egress("s3-region", 60_000.0, 5_000.0,
                    ChargeDescription="data transfer out to US West (Oregon) inter-region"),
            _egress("s3-hours", 60_000.0, 5_000.0, PricingUnit="Hrs"),
        ]
    )  # fmt: skip
    found = by_id(run("network.billing-cdn-egress", inv, assumed_object_bytes=8e6))
    assert sorted(found) == ["Amazon EC2", "s3-at"]
    row = found["s3-at"]
    assert row["monthly_savings"] == pytest.approx(10.0, abs=1e-9)
    assert row["added_monthly_cost"] == 0.0
    assert row["provider"] == "aws"
    assert row["evidence"]["billed_days"] == pytest.approx(73.0)
    assert row["detail"] == (
        "s3-at (Amazon S3) is billed $10.00 a month for about 100.0 GB of internet egress; "
        "a CDN would cost $0.00."
    )


# --- distributions ---------------------------------------------------------------------


def test_compression_saving_from_a_dollar_a_month_inclusive() -> None:
    # Compressing cuts bytes by 0.267 × 0.7 = 18.69%; in the first tier a GB saved is
    # 0.085: the saving is GB × 0.1869 × 0.085. For 1.00: 62.9508 GB a month; picked so
    # the month's GB are 336/730 of the lookback's. 62.95 GB: 0.99999, under the line.
    def bytes_for(monthly_gb: float) -> float:
        return monthly_gb / MONTH_SCALE * GIB

    at = 1.0 / (0.267 * 0.7 * 0.085)
    inv = ni.inventory(
        {
            "distributions": [
                ni.distribution("E-AT", bytes_out=bytes_for(at * 1.000001), compress=False),
                ni.distribution("E-UNDER", bytes_out=bytes_for(at * 0.999), compress=False),
                {**ni.distribution("E-UNKNOWN", bytes_out=1e15, compress=False),
                 "bytes_out": None},
            ]
        }
    )  # fmt: skip
    found = by_id(run("network.distribution-compression", inv))
    assert list(found) == ["E-AT"]
    row = found["E-AT"]
    assert row["monthly_savings"] == pytest.approx(1.0, abs=1e-5)
    assert row["current_monthly_cost"] == pytest.approx(at * 0.085, abs=1e-4)
    assert row["evidence"]["monthly_gb"] == pytest.approx(at, rel=1e-5)
    assert row["evidence"]["estimated"] is True


def test_compression_across_a_tier_boundary_saves_at_both_prices() -> None:
    # 20,000 GB a month: compressed 16,262 GB. Current 10,240 × 0.085 + 9,760 × 0.080 =
    # 1,651.20; after 870.40 + 6,022 × 0.080 = 1,352.16; saving 299.04.
    inv = ni.inventory(
        {"distributions": [ni.distribution("E-BIG", bytes_out=20_000 / MONTH_SCALE * GIB,
                                           compress=False)]}
    )  # fmt: skip
    row = by_id(run("network.distribution-compression", inv))["E-BIG"]
    assert row["current_monthly_cost"] == pytest.approx(1651.20, abs=1e-6)
    after = 870.40 + (20_000 * (1 - 0.267 * 0.7) - 10_240) * 0.080
    assert row["monthly_savings"] == pytest.approx(1651.20 - after, abs=1e-6)
    assert row["monthly_savings"] == pytest.approx(299.04, abs=CENT)


# --- price class -----------------------------------------------------------------------


def _cdn(dist: str | None, edge: str, gb: float, days: int = 73) -> dict[str, Any]:
    return ni.transfer_row(dist, gb=gb, cost=0.0, destination="cdn",
                           usage_type=f"{edge}-DataTransfer-Out-Bytes", days=days)  # fmt: skip


def test_price_class_outside_share_up_to_five_percent_inclusive() -> None:
    # Over 73 days: 2,280 + 120 GB (5.0% outside, AP) and 2,279 + 121 GB (5.04%). Monthly:
    # 120 GB × 730/24 / 73 = 50 GB at 0.120 − 0.085 = 0.035 a GB: 1.75 saved; the cost is
    # 950 × 0.085 + 50 × 0.120 = 86.75.
    inv = ni.inventory(
        {
            "transfer": [
                _cdn("E-AT", "US", 2280.0),
                _cdn("E-AT", "AP", 120.0),
                _cdn("E-AT", "EU", 500.0, days=0),  # a row over no days: no rate, left out
                _cdn("E-OVER", "EU", 2279.0), _cdn("E-OVER", "AP", 121.0),
            ],
            "distributions": [ni.distribution("E-AT", bytes_out=1e12),
                              ni.distribution("E-OVER", bytes_out=1e12)],
        }
    )  # fmt: skip
    found = by_id(run("network.price-class-regional", inv))
    assert list(found) == ["E-AT"]
    row = found["E-AT"]
    assert row["monthly_savings"] == pytest.approx(1.75, abs=1e-9)
    assert row["current_monthly_cost"] == pytest.approx(86.75, abs=1e-9)
    assert row["confidence"] == pytest.approx(0.6)
    assert row["evidence"]["outside_share"] == pytest.approx(0.05)
    assert row["detail"] == (
        "Distribution E-AT uses PriceClass_All but 5.0% of its bytes go to edges outside the "
        "US, Canada and Europe."
    )


def test_price_class_saving_from_a_dollar_a_month_inclusive() -> None:
    # South America at 0.110: 0.025 a GB over 0.085. 40 GB a month saves 1.00 exactly (96
    # GB over 73 days, with 1,900 in the US: 4.8% outside; 96 and one bit, as 0.110 − 0.085
    # is a hair under 0.025 in binary); 39.6 GB (95.04) saves 0.99.
    inv = ni.inventory(
        {
            "transfer": [
                _cdn("E-DOLLAR", "US", 1900.0), _cdn("E-DOLLAR", "SA", 96.00000000000001),
                _cdn("E-UNDER", "US", 1900.0), _cdn("E-UNDER", "SA", 95.04),
            ],
            "distributions": [ni.distribution("E-DOLLAR", bytes_out=1e12),
                              ni.distribution("E-UNDER", bytes_out=1e12)],
        }
    )  # fmt: skip
    found = by_id(run("network.price-class-regional", inv))
    assert list(found) == ["E-DOLLAR"]
    assert found["E-DOLLAR"]["monthly_savings"] == pytest.approx(1.0, abs=1e-9)
    # 96 of 1,996 GB: 4.8096%, shown to one decimal.
    assert "but 4.8% of its bytes" in found["E-DOLLAR"]["detail"]


def test_account_wide_cdn_bytes_are_apportioned_by_each_distributions_share() -> None:
    # Account-wide rows (no distribution named): 4,560 GB US and 240 GB JP over 73 days,
    # i.e. 1,900 and 100 GB a month. E-BIG serves 3/4 of the account's bytes, E-SMALL 1/4;
    # E-OWN has rows of its own (all in the US, no saving) and serves no counted bytes.
    # E-BIG: 75 GB JP × (0.114 − 0.085) = 2.175 (outside 5%), at the apportioned 0.4.
    # E-SMALL: 25 GB × 0.029 = 0.725: under a dollar.
    inv = ni.inventory(
        {
            "transfer": [
                _cdn(None, "US", 4560.0), _cdn(None, "JP", 240.0),
                _cdn("E-OWN", "US", 1000.0),
            ],
            "distributions": [
                ni.distribution("E-BIG", bytes_out=3e12),
                ni.distribution("E-SMALL", bytes_out=1e12),
                ni.distribution("E-OWN", bytes_out=0.0),
            ],
        }
    )  # fmt: skip
    found = by_id(run("network.price-class-regional", inv))
    assert list(found) == ["E-BIG"]
    row = found["E-BIG"]
    assert row["monthly_savings"] == pytest.approx(2.175, abs=1e-9)
    assert row["confidence"] == pytest.approx(0.4)
    assert row["evidence"]["monthly_gb"] == pytest.approx(1500.0)
    assert row["evidence"]["apportioned_from_account"] is True
    # A lower floor shows E-SMALL; E-OWN still saves nothing.
    found = by_id(run("network.price-class-regional", inv, min_monthly_saving=0.5))
    assert sorted(found) == ["E-BIG", "E-SMALL"]
    assert found["E-SMALL"]["monthly_savings"] == pytest.approx(0.725, abs=1e-9)


# --- defaults, unknowns and the text around the figures --------------------------------


def test_the_http_archive_figures() -> None:
    # 2,652 KB = 2,715,648 bytes over 71 requests = 38,248.56 a response, rounded to
    # 38,249; text is
    # 613 + 78 + 18 = 709 of 2,652 KB = 0.267 of the bytes.
    assert network.MEDIAN_RESPONSE_BYTES == 38249
    assert network.TEXT_SHARE_OF_BYTES == 0.267


def test_billed_egress_at_the_median_response_size_pays_the_request_fee() -> None:
    # 30,000 GB over 73 days: 12,500 GB a month and 5,000 a month billed. At 38,249-byte
    # responses: 12,500 × 2^30 / 38,249 = 350,905,195 requests, less 10M free, × 0.01 per
    # 10,000 = 340.91. Transfer: 11,476 GB billable: 870.40 + 1,236 × 0.080 = 969.28.
    inv = _focus([_egress("s3-big", 30_000.0, 12_000.0)])
    row = by_id(run("network.billing-cdn-egress", inv))["s3-big"]
    requests = 12_500 * GIB / 38_249
    assert row["evidence"]["monthly_requests"] == pytest.approx(requests)
    assert row["added_monthly_cost"] == pytest.approx(
        969.28 + (requests - 10_000_000) / 10_000 * 0.01, abs=1e-6
    )
    assert row["monthly_savings"] == pytest.approx(5000.0, abs=1e-6)
    assert row["confidence"] == pytest.approx(0.5)
    assert "about 12500.0 GB of internet egress" in row["detail"]


def test_a_billed_cost_under_a_dollar_is_still_the_billed_cost() -> None:
    # 0.50 a month billed for 100 GB: that is the egress cost (billing), not the list
    # 100 × 0.09 = 9; with no net floor it is a finding.
    inv = ni.inventory(
        {"transfer": _monthly_rows("b-cheap", 240.0, 1.2),
         "buckets": [ni.bucket("b-cheap", bytes_=5e12, objects=1e6)]}
    )  # fmt: skip
    row = by_id(run("network.cdn-for-origin", inv, min_net_monthly_saving=0.0))["b-cheap"]
    assert row["monthly_savings"] == pytest.approx(0.5, abs=1e-9)
    assert row["price_source"] == "billing"


def test_each_edge_outside_price_class_100_at_its_own_first_tier_price() -> None:
    # 1,900 GB a month in the US/Canada/Europe and 100 GB at one other edge (5% outside):
    # saving 100 × (edge price − 0.085); cost 1,900 × 0.085 + 100 × edge price.
    prices = {"ZA": 0.110, "ME": 0.110, "SA": 0.110, "JP": 0.114, "AU": 0.114,
              "AP": 0.120, "IN": 0.109}  # fmt: skip
    per_month = 73 / (730 / 24)  # GB over 73 days for 1 GB a month
    rows, dists = [], []
    for edge in prices:
        dist = f"E-{edge}"
        rows += [_cdn(dist, "US", 900 * per_month), _cdn(dist, "CA", 500 * per_month),
                 _cdn(dist, "EU", 500 * per_month), _cdn(dist, edge, 100 * per_month),
                 # Not a transfer row (requests): no edge, never counted.
                 {**_cdn(dist, "US", 1e6), "usage_type": "US-Requests-Tier1"}]  # fmt: skip
        dists.append(ni.distribution(dist, bytes_out=1e12))
    found = by_id(
        run(
            "network.price-class-regional", ni.inventory({"transfer": rows, "distributions": dists})
        )
    )
    for edge, price in prices.items():
        row = found[f"E-{edge}"]
        assert row["monthly_savings"] == pytest.approx(100 * (price - 0.085), abs=1e-9), edge
        assert row["current_monthly_cost"] == pytest.approx(1900 * 0.085 + 100 * price, abs=1e-9)


def test_a_tiny_distribution_is_priced_when_the_floor_allows() -> None:
    # 0.95 GB in the US and 0.05 in Asia Pacific a month: 0.05 × 0.035 = 0.00175.
    per_month = 73 / (730 / 24)
    inv = ni.inventory(
        {"transfer": [_cdn("E-TINY", "US", 0.95 * per_month),
                      _cdn("E-TINY", "AP", 0.05 * per_month)],
         "distributions": [ni.distribution("E-TINY", bytes_out=1e9)]}
    )  # fmt: skip
    found = by_id(run("network.price-class-regional", inv, min_monthly_saving=0.001))
    assert found["E-TINY"]["monthly_savings"] == pytest.approx(0.00175, abs=1e-9)


def test_idle_defaults_with_a_stand_in_price_and_unknown_facts() -> None:
    # A price from another region: × 0.85 on each policy's confidence. Unknown creation:
    # not young. Unknown requests: never quiet (an LB with no healthy target still idle,
    # at 0.7); unknown healthy targets with traffic: not idle. One healthy target: not idle.
    far = {"region": "ap-south-1", "price_region": "us-east-1"}
    inv = ni.inventory(
        {
            "network_idle": [
                {**ni.elastic_ip("addr-far", attached=False), "kind": "static_address",
                 "provider": "gcp", **far},
                {**ni.nat_gateway("nat-far", processed_gb=0.5678), **far},
                {**ni.nat_gateway("nat-undated", processed_gb=0.0), "created": None},
                {**ni.load_balancer("lb-far", requests=0.0, healthy=2, registered=2), **far},
                ni.load_balancer("lb-unknown-empty", requests=None, healthy=0, registered=1),
                {**ni.load_balancer("lb-unknown-busy", requests=90_000.0, healthy=0,
                                    registered=1), "healthy_targets": None},
                ni.load_balancer("lb-unknown-healthy", requests=None, healthy=2, registered=2),
                ni.load_balancer("lb-one", requests=90_000.0, healthy=1, registered=1),
            ]
        }
    )  # fmt: skip
    static = by_id(run("network.unused-static-address", inv))
    assert static["addr-far"]["confidence"] == pytest.approx(0.95 * 0.85)
    nat = by_id(run("network.idle-nat-gateway", inv))
    assert nat["nat-far"]["confidence"] == pytest.approx(0.85 * 0.85)
    assert nat["nat-undated"]["confidence"] == pytest.approx(0.85)
    assert "processed 0.568 GB in 14 days" in nat["nat-far"]["detail"]
    lbs = by_id(run("network.idle-load-balancer", inv))
    assert sorted(lbs) == ["lb-far", "lb-unknown-empty"]
    assert lbs["lb-far"]["confidence"] == pytest.approx(0.85 * 0.85)
    assert lbs["lb-unknown-empty"]["confidence"] == pytest.approx(0.7)


def test_endpoint_and_compression_details_round_to_whole_gb() -> None:
    # 1,000 GB over the lookback is 2,172.6 GB a month: "about 2173.0 GB".
    inv = ni.inventory({"network_idle": [ni.nat_gateway("nat-k", processed_gb=1000.0)]})
    row = by_id(run("network.nat-gateway-endpoint", inv))["nat-k"]
    assert "processes about 2173.0 GB a month" in row["detail"]
    dist = ni.distribution("E-K", bytes_out=1000 * GIB, compress=False)
    row = by_id(run("network.distribution-compression", ni.inventory({"distributions": [dist]})))[
        "E-K"
    ]
    assert row["detail"].startswith("Distribution E-K serves about 2173.0 GB a month")
    assert row["confidence"] == pytest.approx(0.5)


def test_billed_egress_detail_rounds_to_whole_gb() -> None:
    # 242.952 GB over 73 days: 101.23 GB a month, "about 101.0 GB"; 24.00 is 10.00 a month.
    inv = _focus([_egress("s3-odd", 242.952, 24.0)])
    row = by_id(run("network.billing-cdn-egress", inv))["s3-odd"]
    assert "for about 101.0 GB of internet egress" in row["detail"]


def test_the_free_requests_are_shared_like_the_free_gb() -> None:
    # Two sources of one account, 1,024 GB each at 1 KiB objects: 2^30 requests each; each
    # gets half of the 10M free: 1,073,741,824 − 5,000,000 billable, × 0.01 / 10,000.
    frame = pl.LazyFrame(
        {"account_id": ["d", "d"], "monthly_gb": [1024.0, 1024.0], "direct_cost": [None, None],
         "object_bytes": [1024.0, 1024.0]},
        schema_overrides={"direct_cost": pl.Float64},
    )  # fmt: skip
    rows = cdn_arithmetic(frame, CdnPricing(), "account_id").collect().to_dicts()
    billable = 1_073_741_824 - 5_000_000
    assert [r["cdn_billable_requests"] for r in rows] == pytest.approx([billable] * 2, abs=1e-6)
    assert rows[0]["cdn_request_cost"] == pytest.approx(billable / 10_000 * 0.01)


def test_an_idle_nat_gateway_without_a_data_price_saves_its_hours() -> None:
    unpriced = {**ni.nat_gateway("nat-np", processed_gb=1.0), "data_price_per_gb": None}
    row = by_id(run("network.idle-nat-gateway", ni.inventory({"network_idle": [unpriced]})))
    assert row["nat-np"]["monthly_savings"] == pytest.approx(0.045 * 730, abs=1e-9)


def test_a_bucket_of_one_object_still_gives_its_size() -> None:
    inv = ni.inventory(
        {"transfer": _monthly_rows("b-one", 240.0, 24.0),
         "buckets": [ni.bucket("b-one", bytes_=5e9, objects=1.0)]}
    )  # fmt: skip
    row = by_id(run("network.cdn-for-origin", inv))["b-one"]
    assert row["evidence"]["average_object_bytes"] == 5e9
    assert row["confidence"] == pytest.approx(0.6)
