"""Evidence as a person reads it: labelled figures in their units, rounded with sense."""

from __future__ import annotations

import pytest

from costscan.reports.evidence import (
    EXAMPLE,
    byte_size,
    figures,
    label,
    money,
    percent,
    sort_columns,
    value_text,
)


@pytest.mark.parametrize(
    ("key", "value", "text"),
    [
        ("p99_percent", 9.084616335535634, "9.1%"),
        ("p99_percent", 36.338465342142534, "36%"),
        ("max_percent", 0.899569955659545, "0.90%"),
        ("monthly_usd", 205.85999999999999, "$205.86/mo"),
        ("hourly_usd", 0.27648, "$0.2765/h"),
        ("hourly_price", 0.0225, "$0.0225/h"),
        ("gp3_price_gb_month", 0.08, "$0.08/GB-month"),
        ("standard_bytes", 2199023255552.0, "2 TiB"),
        ("in_bytes_per_second", 7.5220554323570195, "7.52 B/s"),
        ("size_gb", 400.0, "400 GB"),
        ("iops", 10000.0, "10,000 IOPS"),
        ("gp3_throughput_mbps", 500.0, "500 MB/s"),
        ("retention_days", 30, "30 days"),
        ("hours", 336, "336 h"),
        ("utilization", 0.5555555555555556, "56%"),
        ("discount", 0.28, "28%"),
        ("weeks_per_month", 4.333333333333333, "4.33"),
        ("series_count", 1200, "1,200"),
        ("associated", False, "no"),
        ("attached_to", None, "—"),
        ("created", "2026-09-07 05:00:00.000000+00:00", "2026-09-07 05:00 UTC"),
        ("expires", "2026-12-26T00:00:00Z", "2026-12-26"),
    ],
)
def test_a_figure_reads_in_its_unit(key: str, value: object, text: str) -> None:
    assert value_text(key, value) == text


def test_money_keeps_cents_and_four_digits_under_a_dollar() -> None:
    assert money(1234.5) == "$1,234.50"
    assert money(0.005) == "$0.005"
    assert money(-3.0) == "-$3.00"
    assert percent(0.0) == "0%"
    assert byte_size(1023) == "1,023 B"


def test_labels_drop_the_unit_the_value_now_says() -> None:
    assert label("p99_percent") == "p99"
    assert label("retention_days") == "Retention"
    assert label("hourly_usd") == "Hourly"
    assert label("hours_per_month") == "Hours per month"
    assert label("gp2_baseline_iops") == "gp2 baseline IOPS"


def test_nested_evidence_becomes_sections_and_the_formula_and_sources_come_apart() -> None:
    shown = figures(
        {
            "formula": "monthly_savings = (current_hourly - candidate_hourly) × 730",
            "hours_per_month": 730.0,
            "current": {"instance_type": "m5.4xlarge", "hourly_usd": 0.856},
            "cpu": {"p99_percent": 9.08, "hours": 336},
            "price_reference": "https://aws.amazon.com/ec2/pricing/",
        }
    )
    assert shown.formula == "monthly_savings = (current_hourly - candidate_hourly) × 730"
    assert [(s.title, s.figures) for s in shown.sections] == [
        ("", [("Hours per month", "730 h")]),
        ("Current", [("Instance type", "m5.4xlarge"), ("Hourly", "$0.856/h")]),
        ("CPU", [("p99", "9.1%"), ("Hours", "336 h")]),
    ]
    assert shown.sources == ["https://aws.amazon.com/ec2/pricing/"]


def test_a_grouped_finding_shows_its_member_count_and_one_member_for_example() -> None:
    shown = figures(
        {
            "grouped": {"members": 40, "effort_formula": "effort = e × (1 + log10(n))"},
            "example": {"formula": "f", "size_gb": 200.0, "price": {"hourly_usd": 0.17}},
        }
    )
    assert shown.formula == "f"
    assert shown.sections[0].figures == [
        ("Members", "40"),
        ("Effort", "effort = e × (1 + log10(n))"),
    ]
    assert shown.sections[1].title == EXAMPLE
    assert shown.sections[1].figures == [("Size", "200 GB")]
    assert shown.sections[2].title == f"{EXAMPLE} · Price"


def test_the_sort_columns_come_from_the_evidence_or_the_policy_name() -> None:
    assert sort_columns(
        "rightsizing.overprovisioned",
        {
            "current": {"instance_type": "m5.4xlarge"},
            "candidate": {"instance_type": "r5.xlarge"},
            "cpu": {"p99_percent": 9.08},
        },
    ) == {
        "current_type": "m5.4xlarge",
        "target_type": "r5.xlarge",
        "size_gb": None,
        "cpu_p99_percent": 9.08,
    }
    assert sort_columns("storage.io1-to-gp3", {"size_gb": 400.0}) == {
        "current_type": "io1",
        "target_type": "gp3",
        "size_gb": 400.0,
        "cpu_p99_percent": None,
    }
