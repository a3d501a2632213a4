"""Timestamp layouts of text exports: sampled from the file's first rows, widened when later
rows hold another."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from costscan.providers.exports import read, read_billing
from costscan.providers.exports._common import TS_LAYOUTS, layouts_of
from tests.providers import export_samples as samples

START = datetime(2024, 9, 1, tzinfo=UTC)


def test_layouts_of_names_only_the_layouts_a_sample_needs_in_order() -> None:
    # As the export writes it: parsed from the text directly, no normalising pass.
    iso = pl.Series(["2024-09-01T00:00:00Z", "2024-09-01T01:00:00Z"])
    assert layouts_of(iso) == ("direct:%Y-%m-%dT%H:%M:%S%.fZ",)
    gcp = pl.Series(["2024-09-01 00:00:00 UTC", "2024-09-01T01:00:00Z"])
    assert layouts_of(gcp) == ("direct:%Y-%m-%dT%H:%M:%S%.fZ", "direct:%Y-%m-%d %H:%M:%S%.f UTC")
    # Padding is normalised away, so the normalised layouts take it.
    assert layouts_of(pl.Series([" 2024-09-01 00:00:00 "])) == ("%Y-%m-%d %H:%M:%S%.f",)
    mixed = pl.Series(["09/01/2024", "2024-09-01T00:00:00+02:00", "2024-09-01"])
    assert layouts_of(mixed) == ("offset", "%Y-%m-%d", "%m/%d/%Y")
    assert layouts_of(pl.Series(["yesterday", "soon"])) is None
    assert set(TS_LAYOUTS) >= set(layouts_of(mixed) or ())


def long_focus_csv(path: Path, rows: int, late_layout: str | None) -> Path:
    """A FOCUS CSV of ``rows`` hourly charges; the last ten charge starts in
    ``late_layout`` (strftime) when given, ISO 8601 before."""
    twin = samples.focus_frame().head(1)
    starts = [START + timedelta(hours=h) for h in range(rows)]
    frame = pl.concat([twin] * rows).with_columns(
        pl.Series("ChargePeriodStart", starts, dtype=pl.Datetime("us", "UTC")),
        pl.Series(
            "ChargePeriodEnd", [s + timedelta(hours=1) for s in starts], pl.Datetime("us", "UTC")
        ),
    )
    text = frame.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if late_layout:
        late = pl.int_range(pl.len()) >= rows - 10
        text = text.with_columns(
            pl.when(late)
            .then(frame["ChargePeriodStart"].dt.strftime(late_layout))
            .otherwise(pl.col("ChargePeriodStart"))
            .alias("ChargePeriodStart")
        )
    text.write_csv(path)
    return path


def test_a_file_in_one_layout_is_parsed_in_that_layout_alone(tmp_path: Path) -> None:
    path = long_focus_csv(tmp_path / "focus.csv", 200, None)
    prepared = read._prepare(path, None)
    assert prepared.layouts["ChargePeriodStart"] == ("direct:%Y-%m-%dT%H:%M:%S%.fZ",)
    frame = read_billing([str(path)]).scan.collect()
    assert frame["ChargePeriodStart"].null_count() == 0
    assert frame["ChargePeriodStart"].min() == START


def test_a_layout_after_the_sample_widens_the_parse_and_loses_no_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sample sees the first 50 rows; the last ten use US dates with a time.
    monkeypatch.setattr(read, "LAYOUT_SAMPLE_ROWS", 50)
    path = long_focus_csv(tmp_path / "focus.csv", 200, "%m/%d/%Y %H:%M:%S")
    loaded = read_billing([str(path)])
    frame = loaded.scan.collect()
    assert loaded.rejections == []
    assert frame.height == 200
    assert frame["ChargePeriodStart"].null_count() == 0
    assert frame["ChargePeriodStart"].max() == START + timedelta(hours=199)


@pytest.mark.parametrize("name", ["focus.csv", "focus.csv.gz", "focus.jsonl"])
def test_a_text_export_is_parsed_once_into_parquet(tmp_path: Path, name: str) -> None:
    text = read_billing([str(samples.write_focus(tmp_path / name))])
    typed = read_billing([str(samples.write_focus(tmp_path / "focus.parquet"))])
    plan = text.scan.explain()
    # Every later read of the text is a read of its staged Parquet copy.
    assert plan.count("SCAN") == plan.count("Parquet SCAN") == 1
    assert text.scan.collect().equals(typed.scan.collect())


def test_junk_after_the_sample_is_rejected_without_parsing_the_file_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read, "LAYOUT_SAMPLE_ROWS", 50)
    widened: list[Path] = []
    original = read._Prepared.widen

    def recording_widen(self: read._Prepared) -> None:
        widened.append(self.path)
        original(self)

    monkeypatch.setattr(read._Prepared, "widen", recording_widen)
    # One cell in 400 is not a date in any layout: a stray bad cell, not another layout.
    path = long_focus_csv(tmp_path / "focus.csv", 400, None)
    frame = pl.read_csv(path, infer_schema=False)
    frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 300)
        .then(pl.lit("soon"))
        .otherwise(pl.col("ChargePeriodStart"))
        .alias("ChargePeriodStart")
    ).write_csv(path)

    loaded = read_billing([str(path)])
    assert widened == []
    assert [r.rows for r in loaded.rejections] == [1]
    assert "'soon'" in loaded.rejections[0].reason
    assert loaded.scan.collect().height == 399


def test_staging_keeps_one_parquet_copy_per_file_and_no_inflated_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read, "LAYOUT_SAMPLE_ROWS", 50)
    # A later layout (widen: staged again) and a stray bad cost (rows left out: again).
    plain = long_focus_csv(tmp_path / "focus.csv", 200, "%m/%d/%Y %H:%M:%S")
    frame = pl.read_csv(plain, infer_schema=False).with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(pl.lit("n/a"))
        .otherwise(pl.col("BilledCost"))
        .alias("BilledCost")
    )
    gz = tmp_path / "focus.csv.gz"
    gz.write_bytes(gzip.compress(frame.write_csv().encode()))
    staging = read._staging_dir()
    before = set(staging.iterdir())

    loaded = read_billing([str(gz)])

    added = set(staging.iterdir()) - before
    assert [p.suffix for p in added] == [".parquet"]
    assert [r.rows for r in loaded.rejections] == [1]
    # The rows are gone from the copy itself: its reads are plain scans, no filter.
    assert "FILTER" not in loaded.scan.explain()
    assert loaded.scan.collect().height == 199
