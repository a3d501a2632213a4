"""`costscan run --provider focus` on the real FOCUS 1.0 sample, through the CLI."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from costscan.scanner.app.cli import main

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "focus-1.0-sample.csv"


def exact_billed_total(path: Path) -> Decimal:
    with path.open(newline="", encoding="utf-8") as fh:
        return sum(
            (
                Decimal(row["BilledCost"])
                for row in csv.DictReader(fh)
                if row["BilledCost"] not in ("", "NULL")
            ),
            Decimal(0),
        )


@pytest.mark.skipif(not SAMPLE.is_file(), reason=f"the FOCUS sample is not at {SAMPLE}")
def test_focus_sample_spend_is_exact_in_the_json_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "run",
                "--provider",
                "focus",
                "--billing",
                str(SAMPLE),
                "--output-dir",
                str(out),
                "--format",
                "json,md",
            ]
        )
    assert exit_info.value.code == 0, capsys.readouterr().err
    (report,) = out.glob("*.json")
    doc = json.loads(report.read_text(encoding="utf-8"))
    spend = doc["summary"]["spend"]
    assert Decimal(str(spend["billed_cost"])).quantize(Decimal("1e-9")) == exact_billed_total(
        SAMPLE
    ).quantize(Decimal("1e-9"))
    assert spend["period_start"].startswith("2024-09-01")
    assert doc["run"]["provider"] == "focus"
    assert doc["rejected_rows"] == []
    assert doc["summary"]["monthly_savings"] == round(
        sum(f["net_monthly_savings"] for f in doc["findings"] if f["counted"]), 2
    )
