"""Billing export reading: the real FOCUS sample, every native layout against its FOCUS twin,
folders and globs, and each bad input's one message."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import polars as pl
import pytest

from costscan.providers.exports import FocusProvider, read_billing
from costscan.providers.interface import ScanRequest
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import InputFileError, UsageError
from costscan.scanner.contracts.inventory import RunContext
from costscan.scanner.pipeline import billing_rollup
from tests.providers import export_samples as samples

REPO = Path(__file__).resolve().parents[2]
FOCUS_SAMPLE = REPO.parent / "shared" / "data" / "focus-1.0-sample.csv"
needs_sample = pytest.mark.skipif(
    not FOCUS_SAMPLE.exists(), reason=f"FOCUS sample not found at {FOCUS_SAMPLE}"
)


def spend_summary(scan: pl.LazyFrame) -> dict[str, object]:
    """The spend block a run reports for ``scan`` (from its billing rollup)."""
    return billing_rollup.build(scan).spend


def top_resources(scan: pl.LazyFrame, limit: int) -> list[dict[str, object]]:
    return billing_rollup.build(scan).top_resources(limit)


def by_service_and_resource(frame: pl.DataFrame, column: str) -> dict[tuple[object, ...], float]:
    grouped = frame.group_by("ServiceName", "ResourceId").agg(pl.col(column).sum())
    return {(r[0], r[1]): round(r[2], 9) for r in grouped.iter_rows()}


def twin_sums(column: str) -> dict[tuple[object, ...], float]:
    return by_service_and_resource(samples.focus_frame(), column)


# --- the real FOCUS 1.0 sample -------------------------------------------------------------


@needs_sample
def test_focus_sample_billed_cost_total_is_exact() -> None:
    with FOCUS_SAMPLE.open(newline="", encoding="utf-8") as handle:
        cells = [row["BilledCost"] for row in csv.DictReader(handle)]
    expected = sum(Decimal(c) for c in cells if c not in ("", "NULL"))
    read = read_billing([str(FOCUS_SAMPLE)])
    spend = spend_summary(read.scan)
    got = Decimal(repr(spend["billed_cost"]))
    cents, nano = Decimal("0.01"), Decimal("1e-9")
    assert got.quantize(cents, ROUND_HALF_EVEN) == expected.quantize(cents, ROUND_HALF_EVEN)
    assert got.quantize(nano, ROUND_HALF_EVEN) == expected.quantize(nano, ROUND_HALF_EVEN)
    assert read.rejections == []


@needs_sample
def test_focus_sample_loads_every_row_with_nulls_tags_and_providers() -> None:
    read = read_billing([str(FOCUS_SAMPLE)])
    frame = read.scan.collect()
    with FOCUS_SAMPLE.open(newline="", encoding="utf-8") as handle:
        raw_rows = list(csv.DictReader(handle))
    assert frame.height == len(raw_rows)
    assert frame.schema == pl.Schema(schema.BILLING)
    assert read.file_formats[str(FOCUS_SAMPLE)] == "focus-1.0"
    assert sorted(frame["ProviderName"].unique().to_list()) == ["AWS", "Microsoft", "Oracle"]
    # The literal "NULL" and empty cells are nulls, never the text "NULL" or "".
    for column in ("ChargeClass", "ResourceId", "Tags", "PricingCategory"):
        values = frame[column].drop_nulls().to_list()
        assert "NULL" not in values and "" not in values
    assert frame["ChargeClass"].null_count() == sum(r["ChargeClass"] == "NULL" for r in raw_rows)
    assert frame["ChargePeriodStart"].null_count() == 0
    tags = frame["Tags"].drop_nulls().to_list()
    assert tags and all(isinstance(json.loads(t), dict) for t in tags)
    first = raw_rows[0]
    assert frame["ChargePeriodStart"][0] == datetime.strptime(
        first["ChargePeriodStart"], "%Y-%m-%d %H:%M:%S"
    ).replace(tzinfo=UTC)


# --- native layouts against their FOCUS twin ------------------------------------------------

Writer = Callable[[Path], Path]
NATIVE: dict[str, tuple[str, Writer]] = {
    "focus-1.0.csv": ("focus", lambda p: samples.write_focus(p, "1.0")),
    "focus-1.1.csv.gz": ("focus", lambda p: samples.write_focus(p, "1.1")),
    "focus-1.2.parquet": ("focus", lambda p: samples.write_focus(p, "1.2")),
    "cur.csv": ("cur", samples.write_cur),
    "cur.csv.gz": ("cur", samples.write_cur),
    "cur.parquet": ("cur", samples.write_cur),
    "cur2.csv": ("cur2", samples.write_cur2),
    "cur2.parquet": ("cur2", samples.write_cur2),
    "gcp.csv": ("gcp", samples.write_gcp),
    "gcp.parquet": ("gcp", samples.write_gcp),
    "gcp.jsonl": ("gcp", samples.write_gcp),
    "azure-actual.csv": ("azure", samples.write_azure),
    "azure-actual.parquet": ("azure", samples.write_azure),
}


@pytest.mark.parametrize("name", sorted(NATIVE))
def test_native_export_maps_to_its_focus_twin(tmp_path: Path, name: str) -> None:
    fmt, write = NATIVE[name]
    path = write(tmp_path / name)
    read = read_billing([str(path)])
    frame = read.scan.collect()
    assert read.source_format == fmt
    assert frame.schema == pl.Schema(schema.BILLING)
    assert by_service_and_resource(frame, "BilledCost") == twin_sums("BilledCost")
    assert frame["ChargePeriodStart"].null_count() == 0
    assert read.rejections == []


@pytest.mark.parametrize("name", ["cur.csv", "cur2.parquet", "focus-1.0.csv"])
def test_commitment_exports_carry_effective_cost_and_status(tmp_path: Path, name: str) -> None:
    _, write = NATIVE[name]
    frame = read_billing([str(write(tmp_path / name))]).scan.collect()
    assert by_service_and_resource(frame, "EffectiveCost") == twin_sums("EffectiveCost")
    used = frame.filter(pl.col("CommitmentDiscountStatus") == "Used")
    assert sorted(used["ResourceId"].to_list()) == ["i-bbb", "i-ccc"]
    assert set(used["PricingCategory"]) == {"Committed"}


def test_cur_tags_become_one_json_object_without_the_user_prefix(tmp_path: Path) -> None:
    for write, name in ((samples.write_cur, "cur.csv"), (samples.write_cur2, "cur2.parquet")):
        frame = read_billing([str(write(tmp_path / name))]).scan.collect()
        spot = frame.filter(pl.col("ResourceId") == "i-ddd")
        assert json.loads(spot["Tags"][0]) == {"team": "batch", "note": 'says "hi", ok'}
        assert frame.filter(pl.col("ResourceId") == "logs-bucket")["Tags"][0] is None


def test_azure_amortized_export_maps_effective_cost(tmp_path: Path) -> None:
    path = samples.write_azure(tmp_path / "azure-amortized.csv", amortized=True, camel_case=True)
    read = read_billing([str(path)])
    frame = read.scan.collect()
    assert read.source_format == "azure"
    assert by_service_and_resource(frame, "EffectiveCost") == twin_sums("EffectiveCost")
    unused = frame.filter(pl.col("CommitmentDiscountStatus") == "Unused")
    assert unused["EffectiveCost"].to_list() == [pytest.approx(0.10)]
    assert set(frame["RegionId"].drop_nulls()) == {"us-east-1", "eu-west-1"}


def test_billing_format_overrides_detection(tmp_path: Path) -> None:
    path = samples.write_cur(tmp_path / "cur.csv")
    assert read_billing([str(path)], "cur").source_format == "cur"
    with pytest.raises(InputFileError, match=r"cur\.csv: missing mandatory FOCUS columns: "):
        read_billing([str(path)], "focus")
    with pytest.raises(UsageError, match="unknown format 'xml'"):
        read_billing([str(path)], "xml")


def test_focus_1_0_and_1_2_files_give_the_same_billing_frame(tmp_path: Path) -> None:
    old = samples.write_focus(tmp_path / "v10.csv", "1.0")
    new = samples.write_focus(tmp_path / "v12.csv", "1.2")
    assert "InvoiceId" not in pl.read_csv(old).columns
    assert {"InvoiceId", "BillingAccountType"} <= set(pl.read_csv(new).columns)
    read_old, read_new = read_billing([str(old)]), read_billing([str(new)])
    assert read_old.file_formats[str(old)] == "focus-1.0"
    assert read_new.file_formats[str(new)] == "focus-1.2"
    assert read_old.scan.collect().equals(read_new.scan.collect())


# --- paths -------------------------------------------------------------------------------


def test_folder_and_glob_read_every_file(tmp_path: Path) -> None:
    samples.write_focus(tmp_path / "exports" / "2024-09.csv")
    samples.write_focus(tmp_path / "exports" / "nested" / "2024-10.parquet", "1.2")
    (tmp_path / "exports" / "README.txt").write_text("not billing")
    rows = len(samples.TWIN)
    by_folder = read_billing([str(tmp_path / "exports")])
    assert len(by_folder.files) == 2
    assert by_folder.scan.collect().height == 2 * rows
    by_glob = read_billing([str(tmp_path / "exports" / "**" / "*.parquet")])
    assert [Path(f).name for f in by_glob.files] == ["2024-10.parquet"]
    assert by_glob.scan.collect().height == rows


def test_mixed_formats_in_one_run_add_up(tmp_path: Path) -> None:
    cur = samples.write_cur(tmp_path / "a" / "cur.parquet")
    gcp = samples.write_gcp(tmp_path / "a" / "gcp.jsonl")
    read = read_billing([str(cur.parent)])
    assert read.source_format == "mixed"
    assert read.file_formats == {str(cur): "cur", str(gcp): "gcp"}
    total = sum(r.billed for r in samples.TWIN)
    assert spend_summary(read.scan)["billed_cost"] == pytest.approx(2 * total)


def test_spend_summary_accounts_for_every_row_and_the_period(tmp_path: Path) -> None:
    read = read_billing([str(samples.write_focus(tmp_path / "f.parquet"))])
    spend = spend_summary(read.scan)
    assert spend == {
        "billed_cost": pytest.approx(sum(r.billed for r in samples.TWIN)),
        "effective_cost": pytest.approx(sum(r.effective for r in samples.TWIN)),
        "period_start": "2024-09-01T00:00:00+00:00",
        "period_end": "2024-09-01T04:00:00+00:00",
        "currency": "USD",
    }


# --- bad input: one message naming the file and the problem ------------------------------


def test_missing_file_glob_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"nope\.csv: no such file or folder"):
        read_billing([str(tmp_path / "nope.csv")])
    with pytest.raises(InputFileError, match=r"\*\.parquet: no file matches this pattern"):
        read_billing([str(tmp_path / "*.parquet")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="empty: folder holds no billing files"):
        read_billing([str(tmp_path / "empty")])


@pytest.mark.parametrize("name", ["empty.csv", "empty.parquet", "empty.csv.gz"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"" if not name.endswith(".gz") else __import__("gzip").compress(b""))
    with pytest.raises(InputFileError, match=rf"{name.replace('.', chr(92) + '.')}: empty file"):
        read_billing([str(path)])


def test_truncated_and_non_parquet_files(tmp_path: Path) -> None:
    good = samples.write_focus(tmp_path / "good.parquet")
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InputFileError, match=r"truncated\.parquet: not a readable Parquet file"):
        read_billing([str(truncated)])
    fake = tmp_path / "fake.parquet"
    fake.write_text("BilledCost\n1\n")
    with pytest.raises(InputFileError, match=r"fake\.parquet: not a readable Parquet file"):
        read_billing([str(fake)])


def test_wrong_columns_name_the_missing_mandatory_focus_columns(tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    pl.DataFrame({"cost": [1.0], "when": ["2024-09-01"]}).write_csv(path)
    with pytest.raises(InputFileError) as raised:
        read_billing([str(path)])
    message = str(raised.value)
    assert message.startswith(f"{path}: not a billing export costscan knows")
    assert "BilledCost, BillingAccountId" in message and "ServiceName" in message
    partial = tmp_path / "partial.csv"
    samples.focus_frame().drop("ServiceName", "ChargePeriodEnd").write_csv(partial)
    with pytest.raises(
        InputFileError,
        match=r"partial\.csv: missing mandatory FOCUS columns: ChargePeriodEnd, ServiceName$",
    ):
        read_billing([str(partial)])


def test_non_numeric_costs_name_column_example_and_count(tmp_path: Path) -> None:
    path = tmp_path / "bad-cost.csv"
    frame = samples.focus_frame().with_columns(pl.col("BilledCost").cast(pl.String))
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) < 3)
        .then(pl.lit("$1.25"))
        .otherwise("BilledCost")
        .alias("BilledCost")
    )
    frame.write_csv(path)
    with pytest.raises(InputFileError) as raised:
        read_billing([str(path)])
    assert str(raised.value) == (
        f"{path}: non-numeric cost: BilledCost is not a number in 3 of "
        f"{len(samples.TWIN)} rows (e.g. '$1.25')"
    )


def test_a_stray_bad_cell_is_rejected_and_counted_not_dropped_silently(tmp_path: Path) -> None:
    base = samples.focus_frame()
    big = pl.concat([base] * 20).with_columns(pl.col("ListCost").cast(pl.String))
    big = big.with_columns(
        pl.when(pl.int_range(pl.len()) == 7)
        .then(pl.lit("n/a"))
        .otherwise("ListCost")
        .alias("ListCost")
    )
    path = tmp_path / "stray.csv"
    big.write_csv(path)
    read = read_billing([str(path)])
    assert [(r.frame, r.rows) for r in read.rejections] == [("billing", 1)]
    assert "ListCost is not a number in 1 of 200 rows (e.g. 'n/a')" in read.rejections[0].reason
    frame = read.scan.collect()
    assert frame.height == 199
    dropped = base.row(7, named=True)["BilledCost"]
    expected = 20 * sum(r.billed for r in samples.TWIN) - dropped
    assert spend_summary(read.scan)["billed_cost"] == pytest.approx(expected)


# --- the provider ------------------------------------------------------------------------


def test_focus_provider_fills_the_billing_scan_accounts_and_regions(tmp_path: Path) -> None:
    path = samples.write_focus(tmp_path / "f.parquet", "1.2")
    request = ScanRequest(
        context=RunContext.at(datetime(2024, 10, 1, tzinfo=UTC)),
        billing_paths=(str(path),),
    )
    steps: list[str] = []
    inventory = FocusProvider().collect(request, lambda step, _n: steps.append(step))
    # The pipeline reduces the files to their rollup; the accounts and regions come from it.
    billing_rollup.prepare(inventory)
    assert FocusProvider.name == "focus" and inventory.provider == "focus"
    assert inventory.has("billing")
    billing = inventory.lazy("billing")
    assert billing.collect_schema() == pl.Schema(schema.BILLING)
    assert billing.collect().height == len(samples.TWIN)
    assert inventory.accounts == ["222222222222", "333333333333"]
    assert inventory.regions == ["eu-west-1", "us-east-1"]
    assert steps


# --- top resources by cost (report context, not a finding) --------------------------------


@needs_sample
def test_top_resources_of_the_focus_sample_match_a_python_tally() -> None:
    with FOCUS_SAMPLE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))

    def amount(cell: str) -> Decimal:
        return Decimal(0) if cell in ("", "NULL") else Decimal(cell)

    effective: dict[str, Decimal] = {}
    billed: dict[str, Decimal] = {}
    for row in rows:
        rid = row["ResourceId"]
        if rid not in ("", "NULL"):
            effective[rid] = effective.get(rid, Decimal(0)) + amount(row["EffectiveCost"])
            billed[rid] = billed.get(rid, Decimal(0)) + amount(row["BilledCost"])
    # Most effective cost first; ties by billed cost, then by id.
    expected = sorted(effective.items(), key=lambda item: (-item[1], -billed[item[0]], item[0]))[:5]

    top = top_resources(read_billing([str(FOCUS_SAMPLE)]).scan, limit=5)

    assert [item["resource_id"] for item in top] == [rid for rid, _ in expected]
    for item, (_, cost) in zip(top, expected, strict=True):
        assert Decimal(repr(item["effective_cost"])).quantize(Decimal("0.01")) == cost.quantize(
            Decimal("0.01")
        )
        assert set(item) == {
            "resource_id",
            "resource_name",
            "service",
            "account",
            "billed_cost",
            "effective_cost",
        }


def test_top_resources_ranks_by_effective_cost_and_skips_rows_without_a_resource() -> None:
    start = datetime(2024, 9, 1, tzinfo=UTC)
    rows = [
        # (resource, name, service, sub account, billed, effective)
        ("vm-a", "web", "Compute", "111", 10.0, 6.0),
        ("vm-a", None, "Compute", "111", 10.0, 6.0),
        ("db-b", "orders", "Databases", None, 5.0, 15.0),
        ("lb-c", "edge", "Networking", "333", 1.0, 1.0),
        ("lb-d", "edge2", "Networking", "333", 2.0, 1.0),
        (None, None, "Support", "111", 500.0, 500.0),
    ]
    frame = schema.conform(
        "billing",
        pl.DataFrame(
            {
                "ResourceId": [r[0] for r in rows],
                "ResourceName": [r[1] for r in rows],
                "ServiceName": [r[2] for r in rows],
                "SubAccountId": [r[3] for r in rows],
                "BillingAccountId": ["999"] * len(rows),
                "BilledCost": [r[4] for r in rows],
                "EffectiveCost": [r[5] for r in rows],
                "ChargePeriodStart": [start] * len(rows),
            }
        ),
    )
    top = top_resources(frame.lazy(), limit=3)
    assert top == [
        {
            "resource_id": "db-b",
            "resource_name": "orders",
            "service": "Databases",
            "account": "999",  # no sub account: the billing account
            "billed_cost": 5.0,
            "effective_cost": 15.0,
        },
        {
            "resource_id": "vm-a",
            "resource_name": "web",  # the first name present
            "service": "Compute",
            "account": "111",
            "billed_cost": 20.0,
            "effective_cost": 12.0,
        },
        {
            # Tied on effective cost with lb-c: the higher billed cost ranks first.
            "resource_id": "lb-d",
            "resource_name": "edge2",
            "service": "Networking",
            "account": "333",
            "billed_cost": 2.0,
            "effective_cost": 1.0,
        },
    ]
    assert top_resources(frame.lazy(), limit=0) == []


def test_a_file_that_fails_half_way_through_is_bad_input_naming_it() -> None:
    from costscan.providers.exports import BillingRead
    from costscan.scanner.contracts.inventory import Inventory
    from costscan.scanner.pipeline.billing_rollup import attach

    # A cell polars can only reject when it reads it: the rollup's read meets it.
    failing = (
        schema.conform("billing", pl.DataFrame({"BilledCost": [1.0]}))
        .lazy()
        .with_columns(
            pl.lit("not a time").str.to_datetime("%Y", strict=True).alias("ChargePeriodStart")
        )
    )
    read = BillingRead(scan=failing, rejections=[], source_format="focus", files=["bad.csv"])
    inventory = Inventory(provider="focus", context=RunContext.at())
    with pytest.raises(InputFileError) as raised:
        attach(inventory, read)
    assert str(raised.value).startswith("bad.csv: cannot be read: ")
    assert "\n" not in str(raised.value)
