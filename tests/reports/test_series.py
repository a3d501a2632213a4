"""The hourly CPU the HTML draws beside a compute finding: one grid, one decimal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from costscan.reports.series import CpuSeries, charted_resources, cpu_series
from costscan.scanner.contracts import schema

END = datetime(2026, 12, 6, 5, 30, tzinfo=UTC)


def utilization(rows: list[tuple[str, str, str, datetime, float]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=dict(schema.UTILIZATION), orient="row").with_columns(
        pl.col("ts").dt.replace_time_zone("UTC")
    )


def test_each_hour_lands_on_its_place_in_the_grid_with_gaps_left_null() -> None:
    first = datetime(2026, 12, 6, 1, tzinfo=UTC)  # 4 hours before 05:00
    frame = utilization(
        [
            ("i-1", "cpu", "average", first, 10.04),
            ("i-1", "cpu", "maximum", first, 20.06),
            # Hour 2 has two samples: their mean, (30 + 31) / 2 = 30.5.
            ("i-1", "cpu", "average", first + timedelta(hours=2), 30.0),
            ("i-1", "cpu", "average", first + timedelta(hours=2, minutes=30), 31.0),
            ("i-1", "memory", "average", first, 99.0),  # not CPU
            ("i-2", "cpu", "average", first, 50.0),  # not asked for
            ("i-1", "cpu", "average", first - timedelta(hours=1), 77.0),  # before the window
        ]
    )
    got = cpu_series(frame, ["i-1"], end=END, hours=4)
    assert got == {
        "i-1": CpuSeries("2026-12-06T01:00:00Z", [10.0, None, 30.5, None], [20.1, None, None, None])
    }
    assert CpuSeries.from_document(got["i-1"].document()) == got["i-1"]


def test_no_data_gives_no_series() -> None:
    empty = schema.empty(schema.UTILIZATION)
    assert cpu_series(empty, ["i-1"], end=END, hours=4) == {}


def test_charted_resources_follow_the_rank_order_members_included_and_stop_at_the_limit() -> None:
    findings = pl.DataFrame(
        {
            "resource_id": ["vol-1", "m5→m6g", "i-3", "i-1"],
            "members": [
                None,
                '[{"resource_id": "i-4"}, {"resource_id": "i-5"}, {"resource_id": "i-6"}, '
                '{"resource_id": "i-7"}]',
                None,
                None,
            ],
        }
    )
    compute = ["i-1", "i-3", "i-4", "i-5", "i-6", "i-7"]
    assert charted_resources([findings], compute) == ["i-4", "i-5", "i-6", "i-3", "i-1"]
    assert charted_resources([findings], compute, limit=2) == ["i-4", "i-5"]
