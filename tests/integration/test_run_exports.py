"""`costscan run --provider focus` on exports as they arrive: currencies, --fx, delivery
folders and the row account, through the CLI and into the JSON and Markdown reports."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from costscan.scanner.app.cli import main
from tests.providers import export_shapes as shapes

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "focus-1.0-sample.csv"


def run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, dict[str, Any], str, str]:
    out = tmp_path / "report"
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--provider", "focus", "--output-dir", str(out), "--format", "json,md",
              *args])  # fmt: skip
    code = int(exit_info.value.code or 0)
    err = capsys.readouterr().err
    if code != 0:
        return code, {}, "", err
    (report,) = out.glob("*.json")
    (markdown,) = out.glob("*.md")
    return code, json.loads(report.read_text("utf-8")), markdown.read_text("utf-8"), err


def close(value: float, expected: Decimal) -> bool:
    return Decimal(repr(value)).quantize(Decimal("1e-9")) == expected.quantize(Decimal("1e-9"))


def test_a_cad_export_is_reported_in_cad(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cad = shapes.write_focus_cad(tmp_path / "cad.csv")
    code, doc, markdown, _ = run(tmp_path, capsys, "--billing", str(cad))
    assert code == 0
    assert doc["run"]["currency"] == "CAD"
    spend = doc["summary"]["spend"]
    assert spend["currency"] == "CAD"
    assert close(spend["billed_cost"], shapes.decimal_sum([cad], "BilledCost"))
    assert "1.26 CAD billed" in markdown and "$1.26" not in markdown


def test_fx_converts_into_usd_and_the_report_states_the_rate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cad = shapes.write_focus_cad(tmp_path / "cad.csv")
    usd = shapes.write_focus_usd(tmp_path / "usd.csv")
    code, doc, markdown, _ = run(
        tmp_path, capsys, "--billing", str(cad), "--billing", str(usd), "--fx", "cad=0.73"
    )
    assert code == 0
    spend = doc["summary"]["spend"]
    expected = shapes.decimal_sum([cad], "BilledCost") * Decimal("0.73") + shapes.decimal_sum(
        [usd], "BilledCost"
    )
    assert doc["run"]["currency"] == "USD"
    assert close(spend["billed_cost"], expected)
    assert spend["fx"] == {"CAD": {"usd_per_unit": 0.73, "source": "--fx"}}
    assert spend["by_currency"]["CAD"]["fx_rate"] == 0.73
    assert "x 0.73 USD per CAD, from --fx" in markdown
    assert "by_currency" not in doc["summary"]


def test_two_currencies_without_a_rate_are_kept_apart_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cad = shapes.write_focus_cad(tmp_path / "cad.csv")
    usd = shapes.write_focus_usd(tmp_path / "usd.csv")
    code, doc, markdown, _ = run(tmp_path, capsys, "--billing", str(cad), "--billing", str(usd))
    assert code == 0
    spend = doc["summary"]["spend"]
    assert doc["run"]["currency"] == "USD"
    assert close(spend["billed_cost"], shapes.decimal_sum([usd], "BilledCost"))
    assert close(
        spend["by_currency"]["CAD"]["billed_cost"], shapes.decimal_sum([cad], "BilledCost")
    )
    assert set(doc["summary"]["by_currency"]) == {"CAD", "USD"}
    (warning,) = [w for w in doc["warnings"] if "currencies" in w]
    assert "nothing is added across currencies" in warning and "--fx CAD=" in warning
    assert "not converted, not in the totals" in markdown
    # The totals re-add from the counted findings, all in USD.
    assert doc["summary"]["monthly_savings"] == round(
        sum(f["net_monthly_savings"] for f in doc["findings"] if f["counted"]), 2
    )


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("CAD", "give CODE=RATE"),
        ("XYZ=1.2", "'XYZ' is not an ISO 4217 currency code"),
        ("CAD=0", "positive, finite"),
        ("CAD=nan", "positive, finite"),
        ("CAD=abc", "'abc' is not a number"),
        ("USD=1.1", "USD needs none"),
    ],
)
def test_a_bad_fx_value_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, says: str
) -> None:
    cad = shapes.write_focus_cad(tmp_path / "cad.csv")
    code, _, _, err = run(tmp_path, capsys, "--billing", str(cad), "--fx", value)
    assert code == 2
    assert err.count("\n") == 1 and "--fx" in err and says in err


def test_a_delivery_folder_counts_each_month_once_and_lists_what_it_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = shapes.write_cur_delivery(tmp_path / "s3")
    code, doc, _, _ = run(tmp_path, capsys, "--billing", str(tmp_path / "s3"))
    assert code == 0
    spend = doc["summary"]["spend"]
    assert close(
        spend["billed_cost"], shapes.decimal_sum(files["current"], "lineItem/UnblendedCost")
    )
    assert [s["path"] for s in spend["skipped_files"]] == [str(p) for p in files["old"]]
    assert spend["rows"] == {"read": 3, "used": 3, "rejected": 0, "rejected_by_reason": []}


def test_a_header_only_file_is_zero_spend_and_exit_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shapes.write_azure_day(tmp_path / "day.csv", [])
    code, doc, _, _ = run(tmp_path, capsys, "--billing", str(path))
    assert code == 0
    spend = doc["summary"]["spend"]
    assert spend["billed_cost"] == 0.0
    assert spend["rows"]["read"] == 0
    assert spend["files"] == [
        {"path": str(path), "format": "azure", "rows_read": 0, "rows_used": 0, "rows_rejected": 0}
    ]


@pytest.mark.skipif(not SAMPLE.is_file(), reason=f"the FOCUS sample is not at {SAMPLE}")
def test_every_row_of_the_focus_sample_is_accounted_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SAMPLE.open(newline="", encoding="utf-8") as fh:
        lines = sum(1 for _ in csv.DictReader(fh))
    code, doc, _, _ = run(tmp_path, capsys, "--billing", str(SAMPLE))
    assert code == 0
    rows = doc["summary"]["spend"]["rows"]
    assert rows["read"] == lines
    assert rows["read"] == rows["used"] + rows["rejected"]
    assert doc["summary"]["spend"]["files"][0]["rows_used"] == rows["used"]
    # The JSON contract's keys come first, in their order; the new ones after.
    assert list(doc["summary"]["spend"])[:5] == [
        "billed_cost",
        "effective_cost",
        "period_start",
        "period_end",
        "top_resources",
    ]
