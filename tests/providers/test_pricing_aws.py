"""The AWS EC2 price catalog: the bundled CSVs and the live Price List API path.

The live path runs the real boto3 client against a small HTTP server of our own that
answers pricing GetProducts in the documented awsJson1_1 shape (moto has no Pricing API).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import polars as pl
import pytest
from botocore.exceptions import ClientError

from costscan.providers.pricing import aws as pricing
from costscan.scanner.contracts import schema

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PUBLISHED_M5_LARGE_US_EAST_1 = 0.096  # https://aws.amazon.com/ec2/pricing/on-demand/
# Read from skypilot-catalog catalogs/v7/aws/vms.csv (snapshot 001367d2), Price column.
CATALOG_M5_LARGE_EU_WEST_1 = 0.107
CATALOG_C7G_LARGE_US_EAST_2 = 0.0723  # us-east-1 lists 0.0725: regions are not copies
BUNDLED_REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "eu-west-2",
    "ap-southeast-1",
    "ap-northeast-1",
    "ap-south-1",
    "ca-central-1",
)
COMMON_FAMILIES = (
    "t2",
    "t3",
    "t3a",
    "t4g",
    "m4",
    "m5",
    "m5a",
    "m6a",
    "m6g",
    "m6i",
    "m7g",
    "m7i",
    "c4",
    "c5",
    "c5a",
    "c6g",
    "c6i",
    "c7g",
    "r4",
    "r5",
    "r6g",
    "r6i",
    "r7g",
)


# --- bundled catalog -------------------------------------------------------------------


def test_bundled_prices_have_the_prices_schema_and_every_row_is_sourced() -> None:
    prices = pricing.bundled_ec2_prices()
    assert prices.schema == pl.Schema(schema.PRICES)
    assert prices.height > 500
    assert prices.filter(pl.col("hourly_price") <= 0).height == 0
    for column in ("reference", "as_of", "vcpus", "memory_gib", "architecture", "family"):
        assert prices[column].null_count() == 0, column
    assert set(prices["provider"]) == {"aws"}
    assert set(prices["source"]) == {"bundled"}
    assert prices["as_of"].str.contains(r"^\d{4}-\d{2}-\d{2}$").all()
    assert prices["reference"].str.starts_with("https://").all()
    # One price per type and region, so joins on the catalog never fan out.
    assert prices.select("region", "instance_type").is_duplicated().sum() == 0


def test_m5_large_in_us_east_1_is_the_published_list_price() -> None:
    row = pricing.bundled_ec2_prices(["us-east-1"]).filter(pl.col("instance_type") == "m5.large")
    assert row["hourly_price"].to_list() == [PUBLISHED_M5_LARGE_US_EAST_1]
    assert row["vcpus"].item() == 2.0
    assert row["memory_gib"].item() == 8.0
    assert row["as_of"].item() == "2026-01-19"


def test_derived_sizes_say_so_and_follow_the_sourced_size() -> None:
    eu = pricing.bundled_ec2_prices(["eu-central-1"]).filter(pl.col("family") == "c6g")
    by_type = dict(zip(eu["instance_type"], eu["hourly_price"], strict=True))
    derived = eu.filter(pl.col("reference").str.contains("derived by size from c6g.large"))
    assert "c6g.xlarge" in derived["instance_type"].to_list()
    assert by_type["c6g.xlarge"] == pytest.approx(2 * by_type["c6g.large"])
    sourced = eu.filter(pl.col("instance_type") == "c6g.large")["reference"].item()
    assert "derived" not in sourced


def test_catalog_figures_outside_us_east_1_are_read_not_scaled() -> None:
    prices = pricing.bundled_ec2_prices(["eu-west-1", "us-east-2"])
    by_key = {
        (r["region"], r["instance_type"]): r
        for r in prices.select("region", "instance_type", "hourly_price", "reference").to_dicts()
    }
    for key, expected in (
        (("eu-west-1", "m5.large"), CATALOG_M5_LARGE_EU_WEST_1),
        (("us-east-2", "c7g.large"), CATALOG_C7G_LARGE_US_EAST_2),
    ):
        row = by_key[key]
        assert row["hourly_price"] == expected, key
        assert "skypilot-catalog" in row["reference"] and "derived" not in row["reference"]


def test_every_bundled_region_prices_the_common_families() -> None:
    prices = pricing.bundled_ec2_prices(BUNDLED_REGIONS)
    families = prices.group_by("region").agg(pl.col("family").unique())
    missing = {
        region: sorted(set(COMMON_FAMILIES) - set(present))
        for region, present in zip(families["region"], families["family"], strict=True)
    }
    assert set(missing) == set(BUNDLED_REGIONS)
    assert all(not gap for gap in missing.values()), missing


def test_every_derived_size_follows_its_sourced_size_by_the_us_east_1_ratio() -> None:
    prices = pricing.bundled_ec2_prices()
    derived = prices.filter(pl.col("reference").str.contains("derived by size from")).select(
        "region",
        "instance_type",
        "size",
        "hourly_price",
        pl.col("reference").str.extract(r"derived by size from (\S+)$").alias("source_type"),
    )
    assert derived.height > 0
    assert derived["source_type"].null_count() == 0
    # .metal sizes are priced irregularly, so they are never derived.
    assert not derived["size"].str.starts_with("metal").any()

    sourced = prices.filter(~pl.col("reference").str.contains("derived")).select(
        "region",
        pl.col("instance_type").alias("source_type"),
        pl.col("hourly_price").alias("source_price"),
    )
    us_east_1 = prices.filter(pl.col("region") == "us-east-1").select(
        "instance_type", pl.col("hourly_price").alias("use1_price")
    )
    checked = (
        derived.join(sourced, on=["region", "source_type"], how="left")
        .join(us_east_1, on="instance_type", how="left")
        .join(
            us_east_1.rename({"instance_type": "source_type", "use1_price": "use1_source"}),
            on="source_type",
            how="left",
        )
        .with_columns(
            (pl.col("source_price") * pl.col("use1_price") / pl.col("use1_source")).alias(
                "expected"
            )
        )
    )
    # The named source is a sourced row of the same region, never another derived one.
    assert checked["source_price"].null_count() == 0
    off = checked.filter((pl.col("hourly_price") - pl.col("expected")).abs() > 1e-6)
    assert off.height == 0, off.head(5).to_dicts()


def test_graviton_families_are_arm64_and_the_rest_x86_64() -> None:
    facts = pricing.ec2_instance_facts()
    arch = dict(zip(facts["family"], facts["architecture"], strict=True))
    for family in ("t4g", "m6g", "m7g", "c6g", "c7g", "r6g", "r7g"):
        assert arch[family] == "arm64", family
    for family in ("t3", "m5", "m6i", "m7i", "c5", "r5"):
        assert arch[family] == "x86_64", family


def test_previous_generation_families_are_marked_so() -> None:
    facts = pricing.ec2_instance_facts()
    by_family = facts.group_by("family").agg(pl.col("current_generation").all())
    generation = dict(zip(by_family["family"], by_family["current_generation"], strict=True))
    for family in ("m3", "c3", "r3", "m4", "c4", "r4"):
        assert generation[family] is False, family
    for family in ("m7i", "m7g", "c7g", "r7g", "t3"):
        assert generation[family] is True, family


def test_burstable_is_true_only_for_t_families() -> None:
    facts = pricing.ec2_instance_facts()
    burstable = facts.filter(pl.col("burstable"))["family"].unique().sort().to_list()
    assert burstable == ["t2", "t3", "t3a", "t4g"]


def test_regions_filter_keeps_only_the_regions_asked_for() -> None:
    both = pricing.bundled_ec2_prices(["eu-west-1", "us-east-2"])
    assert set(both["region"]) == {"eu-west-1", "us-east-2"}
    alone = pricing.bundled_ec2_prices(["eu-west-1"])
    assert alone.height == both.filter(pl.col("region") == "eu-west-1").height > 0
    assert pricing.bundled_ec2_prices(["xx-nowhere-1"]).height == 0


def test_bundled_frames_are_fresh_copies() -> None:
    first = pricing.bundled_ec2_prices(["us-east-1"])
    first = first.with_columns(pl.lit(0.0).alias("hourly_price"))
    again = pricing.bundled_ec2_prices(["us-east-1"])
    assert again.filter(pl.col("hourly_price") <= 0).height == 0


# --- live Price List API against a fake endpoint -----------------------------------------


def price_item(instance_type: str, usd: str, **attributes: str) -> str:
    """One PriceList entry as the API returns it: a JSON document serialised to a string."""
    sku = f"SKU{instance_type.replace('.', '').upper()}"
    return json.dumps(
        {
            "product": {
                "productFamily": "Compute Instance",
                "sku": sku,
                "attributes": {
                    "instanceType": instance_type,
                    "regionCode": "eu-west-1",
                    "operatingSystem": "Linux",
                    "tenancy": "Shared",
                    "preInstalledSw": "NA",
                    "capacitystatus": "Used",
                    **attributes,
                },
            },
            "serviceCode": "AmazonEC2",
            "terms": {
                "OnDemand": {
                    f"{sku}.JRTCKXETXF": {
                        "offerTermCode": "JRTCKXETXF",
                        "sku": sku,
                        "effectiveDate": "2026-02-01T00:00:00Z",
                        "priceDimensions": {
                            f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                                "unit": "Hrs",
                                "description": f"${usd} per On Demand Linux {instance_type}",
                                "pricePerUnit": {"USD": usd},
                            }
                        },
                        "termAttributes": {},
                    }
                }
            },
            "version": "20260201000000",
            "publicationDate": "2026-02-01T00:00:00Z",
        }
    )


@dataclass
class FakePriceList:
    """Pages served in order, keyed by NextToken; every request is recorded."""

    pages: dict[str | None, dict[str, Any]] = field(default_factory=dict)
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)


def _handler(fake: FakePriceList) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
            fake.requests.append({"target": self.headers.get("X-Amz-Target"), "body": body})
            if fake.status == 403:
                self._answer(
                    403,
                    {"__type": "AccessDeniedException", "Message": "not allowed: GetProducts"},
                )
                return
            if self.headers.get("X-Amz-Target") != "AWSPriceListService.GetProducts":
                self._answer(400, {"__type": "InvalidParameterException", "Message": "?"})
                return
            self._answer(200, fake.pages[body.get("NextToken")])

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: object) -> None:  # keep test output quiet
            pass

    return Handler


@pytest.fixture
def fake_api() -> Iterator[tuple[FakePriceList, str]]:
    fake = FakePriceList(
        pages={
            None: {
                "FormatVersion": "aws_v1",
                "PriceList": [
                    price_item("m5.large", "0.1070000000"),
                    price_item("m5.xlarge", "0.2140000000"),
                ],
                "NextToken": "page-2",
            },
            "page-2": {
                "FormatVersion": "aws_v1",
                "PriceList": [
                    # Not in the bundled facts: vCPU and memory come from the attributes.
                    price_item(
                        "zz9.large",
                        "0.5000000000",
                        vcpu="2",
                        memory="16 GiB",
                        physicalProcessor="AWS Graviton4 Processor",
                        currentGeneration="Yes",
                    ),
                ],
            },
        }
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
    )


def test_live_prices_follow_every_page_and_parse_the_price(
    fake_api: tuple[FakePriceList, str], session: boto3.Session, tmp_path: Path
) -> None:
    fake, url = fake_api
    prices = pricing.live_ec2_prices(session, ["eu-west-1"], str(tmp_path), NOW, endpoint_url=url)

    assert prices.schema == pl.Schema(schema.PRICES)
    by_type = {r["instance_type"]: r for r in prices.to_dicts()}
    assert set(by_type) == {"m5.large", "m5.xlarge", "zz9.large"}
    m5 = by_type["m5.large"]
    assert m5["hourly_price"] == 0.107
    assert (m5["vcpus"], m5["memory_gib"], m5["architecture"]) == (2.0, 8.0, "x86_64")
    assert (m5["source"], m5["reference"], m5["as_of"]) == (
        "live",
        pricing.LIVE_REFERENCE,
        "2026-03-02",
    )
    unknown = by_type["zz9.large"]
    assert (unknown["vcpus"], unknown["memory_gib"], unknown["architecture"]) == (
        2.0,
        16.0,
        "arm64",
    )
    assert (unknown["family"], unknown["size"], unknown["current_generation"]) == (
        "zz9",
        "large",
        True,
    )

    assert [r["target"] for r in fake.requests] == ["AWSPriceListService.GetProducts"] * 2
    first, second = (r["body"] for r in fake.requests)
    assert "NextToken" not in first and second["NextToken"] == "page-2"
    assert first["ServiceCode"] == "AmazonEC2"
    filters = {f["Field"]: (f["Type"], f["Value"]) for f in first["Filters"]}
    assert filters == {
        "regionCode": ("TERM_MATCH", "eu-west-1"),
        "operatingSystem": ("TERM_MATCH", "Linux"),
        "tenancy": ("TERM_MATCH", "Shared"),
        "preInstalledSw": ("TERM_MATCH", "NA"),
        "capacitystatus": ("TERM_MATCH", "Used"),
    }


def test_second_call_within_a_week_is_served_from_disk(
    fake_api: tuple[FakePriceList, str], session: boto3.Session, tmp_path: Path
) -> None:
    fake, url = fake_api
    first = pricing.live_ec2_prices(session, ["eu-west-1"], str(tmp_path), NOW, endpoint_url=url)
    asked = len(fake.requests)
    later = NOW + timedelta(days=6, hours=23)
    again = pricing.live_ec2_prices(session, ["eu-west-1"], str(tmp_path), later, endpoint_url=url)

    assert len(fake.requests) == asked
    assert again.sort("instance_type").equals(first.sort("instance_type"))
    assert set(again["as_of"]) == {"2026-03-02"}  # the fetch date, not the reading date
    assert [p.name for p in tmp_path.iterdir()] == ["aws-ec2-eu-west-1-all.json"]


def test_cache_older_than_a_week_is_fetched_again(
    fake_api: tuple[FakePriceList, str], session: boto3.Session, tmp_path: Path
) -> None:
    fake, url = fake_api
    pricing.live_ec2_prices(session, ["eu-west-1"], str(tmp_path), NOW, endpoint_url=url)
    asked = len(fake.requests)
    week_later = NOW + timedelta(days=7)
    refreshed = pricing.live_ec2_prices(
        session, ["eu-west-1"], str(tmp_path), week_later, endpoint_url=url
    )
    assert len(fake.requests) == asked + 2
    assert set(refreshed["as_of"]) == {"2026-03-09"}


def test_instance_type_filter_is_sent_and_keyed_separately_in_the_cache(
    fake_api: tuple[FakePriceList, str], session: boto3.Session, tmp_path: Path
) -> None:
    fake, url = fake_api
    pricing.live_ec2_prices(
        session, ["eu-west-1"], str(tmp_path), NOW, ["m5.large"], endpoint_url=url
    )
    pricing.live_ec2_prices(
        session, ["eu-west-1"], str(tmp_path), NOW, ["m5.xlarge", "m5.large"], endpoint_url=url
    )
    filters = [
        {f["Field"]: (f["Type"], f["Value"]) for f in r["body"]["Filters"]}
        for r in fake.requests
        if "NextToken" not in r["body"]
    ]
    assert [f["instanceType"] for f in filters] == [
        ("TERM_MATCH", "m5.large"),
        ("ANY_OF", "m5.large,m5.xlarge"),
    ]
    assert len(list(tmp_path.iterdir())) == 2


def test_access_denied_surfaces_as_client_error(
    fake_api: tuple[FakePriceList, str], tmp_path: Path
) -> None:
    fake, url = fake_api
    fake.status = 403
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    with pytest.raises(ClientError) as raised:
        pricing.live_ec2_prices(session, ["eu-west-1"], str(tmp_path), NOW, endpoint_url=url)
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert list(tmp_path.iterdir()) == []  # nothing cached from a failed fetch


def test_aws_endpoint_url_environment_is_honoured(
    fake_api: tuple[FakePriceList, str],
    session: boto3.Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake, url = fake_api
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    prices = pricing.live_ec2_prices(session, ["eu-west-1"], str(tmp_path), NOW)
    assert prices.height == 3
    assert len(fake.requests) == 2


def test_no_regions_gives_an_empty_prices_frame(session: boto3.Session, tmp_path: Path) -> None:
    prices = pricing.live_ec2_prices(session, [], str(tmp_path), NOW)
    assert prices.height == 0
    assert prices.schema == pl.Schema(schema.PRICES)
