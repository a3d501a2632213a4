"""Exports as they really arrive: each shape reads with the right total, period and
currency (worked out from the file's own text with ``decimal``), or is refused in one line
naming the file and the reason."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from costscan.providers.exports import read_billing
from costscan.scanner.contracts.errors import InputFileError
from costscan.scanner.pipeline import billing_rollup
from tests.providers import export_shapes as shapes

CENT = Decimal("1e-9")


def total(scan: pl.LazyFrame, column: str = "BilledCost") -> Decimal:
    """The frame's Σ ``column`` as the float polars adds up, for comparing with a Decimal."""
    return Decimal(repr(float(scan.select(pl.col(column).sum()).collect().item() or 0.0)))


def same(a: Decimal, b: Decimal) -> bool:
    return a.quantize(CENT) == b.quantize(CENT)


# --- header-only day files ---------------------------------------------------------------


def test_header_only_azure_and_cur_day_files_are_zero_rows_in_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    real = shapes.write_azure_day(folder / "azure-2024-09-01.csv", [("09/01/2024", "1.75")])
    shapes.write_azure_day(folder / "azure-2024-09-02.csv", [])
    shapes.write_csv(folder / "cur-2024-09-02.csv.gz", shapes.CUR_HEADER, [])

    read = read_billing([str(folder)])

    assert same(total(read.scan), shapes.decimal_sum([real], "CostInBillingCurrency"))
    rows = {Path(r.path).name: (r.rows_read, r.rows_rejected) for r in read.reads}
    assert rows == {
        "azure-2024-09-01.csv": (1, 0),
        "azure-2024-09-02.csv": (0, 0),
        "cur-2024-09-02.csv.gz": (0, 0),
    }


def test_a_header_only_file_alone_is_zero_spend(tmp_path: Path) -> None:
    path = shapes.write_azure_day(tmp_path / "empty-day.csv", [])
    rollup = billing_rollup.rollup_of(read_billing([str(path)]))
    assert rollup.daily.is_empty()
    assert rollup.spend["billed_cost"] == 0.0


# --- dates -------------------------------------------------------------------------------


def test_two_digit_years_read_as_this_century(tmp_path: Path) -> None:
    path = shapes.write_focus_two_digit_years(tmp_path / "focus-mdy.csv")
    read = read_billing([str(path)])
    frame = read.scan.collect()
    assert read.rejections == []
    assert frame["ChargePeriodStart"].min() == datetime(2025, 4, 1, tzinfo=UTC)
    assert frame["ChargePeriodEnd"].max() == datetime(2026, 4, 1, tzinfo=UTC)
    assert same(total(read.scan), shapes.decimal_sum([path], "BilledCost"))


def test_a_date_outside_any_plausible_year_is_rejected_with_the_reason(tmp_path: Path) -> None:
    # 150 good hours and one row dated 1925: a stray cell (under 1%), not another layout.
    rows = [
        shapes.focus_row(
            "1.0", f"2024-09-{1 + h // 24:02d}T{h % 24:02d}:00:00Z", "2024-10-01T00:00:00Z"
        )
        for h in range(150)
    ]
    rows.append(shapes.focus_row("1000", "9/1/1925", "9/2/1925"))
    path = shapes.write_csv(tmp_path / "focus.csv", shapes.FOCUS_HEADER, rows)

    read = read_billing([str(path)])

    assert [r.rows for r in read.rejections] == [1]
    reason = read.rejections[0].reason
    assert "ChargePeriodStart is not a date and time from 2000 to 2099" in reason
    assert "'9/1/1925'" in reason
    (file_read,) = read.reads
    assert (file_read.rows_read, file_read.rows_rejected) == (151, 1)
    assert same(total(read.scan), Decimal(150))


# --- GCP: Python-style lists, empty JSON lists --------------------------------------------


def test_gcp_credits_written_as_python_lists_are_read(tmp_path: Path) -> None:
    path = shapes.write_gcp_python_lists(tmp_path / "gcp.csv")
    read = read_billing([str(path)])
    frame = read.scan.collect()
    assert read.rejections == []
    expected = shapes.decimal_sum([path], "", shapes.gcp_net_cost)
    assert same(total(read.scan), expected)
    # The committed-use credit marks its row as committed, from the Python-style text too.
    committed = frame.filter(pl.col("CommitmentDiscountId") == "cud-1")
    assert committed["PricingCategory"].to_list() == ["Committed"]
    assert frame["Tags"].unique().to_list() == ['{"env":"prod"}']


def test_a_gcp_row_with_unreadable_credits_is_rejected_alone(tmp_path: Path) -> None:
    path = shapes.write_gcp_python_lists(tmp_path / "gcp.csv", bad_row=True)
    read = read_billing([str(path)])
    good = [r for r in shapes.read_rows(path) if r["resource.name"] != "vm-3"]
    expected = sum((shapes.gcp_net_cost(r) for r in good), Decimal(0))
    assert same(total(read.scan), expected)
    assert [r.rows for r in read.rejections] == [1]
    (file_read,) = read.reads
    assert file_read.rows_read == 4 and file_read.rows_rejected == 1
    ((reason, rows),) = file_read.rejected_by_reason
    assert reason.startswith("credits is not a list of credits") and rows == 1


def test_gcp_json_lines_with_empty_label_lists_read_like_csv(tmp_path: Path) -> None:
    path = shapes.write_gcp_jsonl_empty_labels(tmp_path / "gcp.jsonl")
    read = read_billing([str(path)])
    frame = read.scan.collect()
    assert frame.height == 3
    assert frame["Tags"].null_count() == 3
    # cost + credits per row, from the fixture's own numbers: 0.5-0.25, 0.125, 2.0-0.5
    assert same(total(read.scan), Decimal("0.25") + Decimal("0.125") + Decimal("1.5"))


# --- currency ----------------------------------------------------------------------------


def test_a_cad_export_is_read_in_cad(tmp_path: Path) -> None:
    path = shapes.write_focus_cad(tmp_path / "cad.csv")
    rollup = billing_rollup.rollup_of(read_billing([str(path)]))
    assert rollup.spend["currency"] == "CAD"
    assert same(
        Decimal(repr(rollup.spend["billed_cost"])), shapes.decimal_sum([path], "BilledCost")
    )
    assert set(rollup.spend_by_currency) == {"CAD"}


def test_two_currencies_are_never_added(tmp_path: Path) -> None:
    cad = shapes.write_focus_cad(tmp_path / "cad.csv")
    usd = shapes.write_focus_usd(tmp_path / "usd.csv")
    rollup = billing_rollup.rollup_of(read_billing([str(cad), str(usd)]))
    by = rollup.spend_by_currency
    assert same(Decimal(repr(by["CAD"]["billed_cost"])), shapes.decimal_sum([cad], "BilledCost"))
    assert same(Decimal(repr(by["USD"]["billed_cost"])), shapes.decimal_sum([usd], "BilledCost"))
    # The report currency's totals are USD's alone.
    assert rollup.spend["currency"] == "USD"
    assert same(Decimal(repr(rollup.spend["billed_cost"])), shapes.decimal_sum([usd], "BilledCost"))
    sums = rollup.daily.group_by("BillingCurrency").agg(pl.col("billed_cost").sum())
    assert dict(sums.iter_rows()) == pytest.approx(
        {"CAD": float(shapes.decimal_sum([cad], "BilledCost")), "USD": 5.0}
    )


def test_a_rate_converts_into_usd_and_is_kept(tmp_path: Path) -> None:
    cad = shapes.write_focus_cad(tmp_path / "cad.csv")
    usd = shapes.write_focus_usd(tmp_path / "usd.csv")
    rollup = billing_rollup.rollup_of(read_billing([str(cad), str(usd)]), {"CAD": 0.73})
    expected = shapes.decimal_sum([cad], "BilledCost") * Decimal("0.73") + shapes.decimal_sum(
        [usd], "BilledCost"
    )
    assert rollup.spend["currency"] == "USD"
    assert same(Decimal(repr(rollup.spend["billed_cost"])), expected)
    assert rollup.rates == {"CAD": 0.73}
    assert set(rollup.daily["BillingCurrency"].unique()) == {"USD"}


# --- AWS delivery layouts ----------------------------------------------------------------


def test_a_cur_delivery_folder_counts_the_current_assembly_once(tmp_path: Path) -> None:
    files = shapes.write_cur_delivery(tmp_path)
    read = read_billing([str(tmp_path / "costreport")])
    assert sorted(read.files) == sorted(str(p) for p in files["current"])
    assert [s.path for s in read.skipped] == [str(p) for p in files["old"]]
    assert "an earlier version of the month" in read.skipped[0].reason
    assert same(total(read.scan), shapes.decimal_sum(files["current"], "lineItem/UnblendedCost"))
    assert read.warnings == []


def test_only_per_assembly_manifests_take_the_newest_with_a_warning(tmp_path: Path) -> None:
    files = shapes.write_cur_delivery(tmp_path, top_manifest=False)
    read = read_billing([str(tmp_path)])
    assert sorted(read.files) == sorted(str(p) for p in files["current"])
    assert len(read.warnings) == 1 and "read the newest" in read.warnings[0]


def test_assemblies_without_any_manifest_warn_and_take_the_newest(tmp_path: Path) -> None:
    files = shapes.write_cur_delivery(tmp_path)
    for manifest in tmp_path.rglob("*Manifest.json"):
        manifest.unlink()
    read = read_billing([str(tmp_path)])
    assert sorted(read.files) == sorted(str(p) for p in files["current"])
    (warning,) = read.warnings
    assert "2 versions of the month and no manifest" in warning
    assert same(total(read.scan), shapes.decimal_sum(files["current"], "lineItem/UnblendedCost"))


def test_pointing_at_an_older_assembly_reads_that_assembly(tmp_path: Path) -> None:
    files = shapes.write_cur_delivery(tmp_path)
    (old,) = files["old"]
    read = read_billing([str(old.parent)])
    assert read.files == [str(old)]


def test_a_glob_over_a_delivery_folder_still_counts_each_month_once(tmp_path: Path) -> None:
    files = shapes.write_cur_delivery(tmp_path)
    read = read_billing([str(tmp_path / "**" / "*.csv.gz")])
    assert sorted(read.files) == sorted(str(p) for p in files["current"])


def test_a_data_export_reads_the_files_its_manifests_list(tmp_path: Path) -> None:
    files = shapes.write_data_export(tmp_path)
    read = read_billing([str(tmp_path / "prefix")])
    assert sorted(read.files) == sorted(str(p) for p in files["current"])
    assert [s.path for s in read.skipped] == [str(p) for p in files["stale"]]
    assert same(total(read.scan), shapes.decimal_sum(files["current"], "line_item_unblended_cost"))
    frame = read.scan.collect()
    assert frame["ChargePeriodStart"].min() == datetime(2024, 9, 1, tzinfo=UTC)
    assert frame["ChargePeriodStart"].max() == datetime(2024, 10, 1, tzinfo=UTC)


def test_a_manifest_listing_a_missing_file_is_refused_naming_both(tmp_path: Path) -> None:
    files = shapes.write_cur_delivery(tmp_path)
    files["current"][1].unlink()
    with pytest.raises(InputFileError, match=r"costreport-Manifest.json: lists .*costreport-2"):
        read_billing([str(tmp_path)])


# --- Azure localised headers ---------------------------------------------------------------


def test_a_german_azure_export_with_a_bom_is_detected_and_read(tmp_path: Path) -> None:
    path = shapes.write_german_azure(tmp_path / "Nutzung.csv")
    read = read_billing([str(path)])
    assert read.source_format == "azure"
    frame = read.scan.collect()
    assert same(total(read.scan), shapes.decimal_sum([path], "PreTaxCost (PreTaxCost)"))
    assert frame["ServiceName"].unique().to_list() == ["Virtual Machines"]
    assert frame["SubAccountId"].unique().to_list() == ["sub-guid-1"]
    assert frame["ChargePeriodStart"].min() == datetime(2024, 9, 1, tzinfo=UTC)
    assert frame["PricingQuantity"].sum() == 96
    # The file names no currency: said so, once, rather than assumed silently.
    assert read.warnings == [f"{path}: no billing currency column: its costs are taken as USD"]


def test_a_camel_case_azure_export_with_localised_headers_too(tmp_path: Path) -> None:
    header = ["Datum (date)", "Kosten (costInBillingCurrency)", "Kategorie (meterCategory)",
              "Währung (billingCurrency)"]  # fmt: skip
    path = shapes.write_csv(tmp_path / "mca.csv", header, [["2024-09-01", "2.5", "Storage", "EUR"]])
    rollup = billing_rollup.rollup_of(read_billing([str(path)]))
    assert rollup.spend == {
        "billed_cost": 2.5,
        "effective_cost": 2.5,
        "period_start": "2024-09-01T00:00:00+00:00",
        "period_end": "2024-09-02T00:00:00+00:00",
        "currency": "EUR",
    }


# --- OCI -----------------------------------------------------------------------------------


def test_an_oci_cost_report_is_read_not_taken_for_cur(tmp_path: Path) -> None:
    path = shapes.write_oci_cost_report(tmp_path / "reports_cost-csv_0001000000123.csv.gz")
    read = read_billing([str(path)])
    assert read.source_format == "oci"
    frame = read.scan.collect()
    assert same(total(read.scan), shapes.decimal_sum([path], "cost/myCost"))
    assert frame["BillingCurrency"].unique().to_list() == ["GBP"]
    assert frame["ProviderName"].unique().to_list() == ["Oracle"]
    assert frame.filter(pl.col("ChargeClass") == "Correction").height == 1
    assert frame["Tags"][0] == '{"Oracle-Tags.CreatedBy":"someone@example.com"}'


def test_an_oci_usage_report_is_refused_by_name(tmp_path: Path) -> None:
    path = shapes.write_oci_usage_report(tmp_path / "usage.csv")
    with pytest.raises(InputFileError, match=r"usage.csv: an OCI usage report"):
        read_billing([str(path)])
