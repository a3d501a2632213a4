"""policies/_compute.py, the pieces every compute policy shares, worked by hand (issue 21):
the lookback window's edges, which series the percentiles read, the profiles, the catalogue
join, price sources and the money text.

The lookback is 14 days ending Monday 2024-06-17 00:00 UTC (tests/policies/inventories.py);
prices are AWS us-east-1 Linux on-demand list prices, 730 hours a month. Written against
the mutants of ``python benchmarks/mutation.py policies/_compute.py``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
import pytest

from costscan.policies import _compute as c
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import Inventory, InventoryView
from tests.policies.inventories import NOW, cpu, hourly, instance, inventory, prices_frame

START = NOW - timedelta(days=14)
NEEDS = ("compute", "utilization", "prices", "provider_advice")


def view(inv: Inventory) -> InventoryView:
    return InventoryView(inv, NEEDS, "test")


def points(
    resource_id: str, metric: str, statistic: str, at: list[tuple[Any, float]]
) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "resource_id": resource_id,
                "metric": metric,
                "statistic": statistic,
                "ts": ts,
                "value": v,
            }
            for ts, v in at
        ],
        schema=dict(schema.UTILIZATION),
    )


def rows(frame: pl.LazyFrame) -> dict[str, dict[str, Any]]:
    return {r["resource_id"]: r for r in frame.collect().iter_rows(named=True)}


def values(expr: pl.Expr, **columns: list[Any]) -> list[Any]:
    return pl.DataFrame(columns).select(expr.alias("out"))["out"].to_list()


# --------------------------------------------------------------------------- window


def test_the_window_keeps_its_first_hour_and_leaves_out_now() -> None:
    series = points(
        "i-a",
        "cpu",
        "average",
        [
            (START - timedelta(hours=1), 90.0),
            (START, 10.0),
            (NOW - timedelta(hours=1), 20.0),
            (NOW, 80.0),
        ],
    )
    inv = view(inventory([instance("i-a", "m5.large")], [series]))
    assert c.lookback_start(inv) == START
    assert c.lookback_hours(inv) == 336
    kept = c.utilization_in_window(inv).collect()
    assert sorted(kept["value"].to_list()) == [10.0, 20.0]
    profile = rows(c.cpu_profile(inv))["i-a"]
    # Only 10 and 20 count: the max is 20, not 80 or 90.
    assert (profile["cpu_hours"], profile["cpu_max"]) == (2, 20.0)


def test_percentiles_read_averages_and_maxima_only_where_no_average() -> None:
    inv = view(
        inventory(
            [instance("i-avg", "m5.large"), instance("i-max", "m5.large")],
            [*cpu("i-avg", 10.0, maximum=50.0), hourly("i-max", "cpu", "maximum", 30.0)],
        )
    )
    found = rows(c.cpu_profile(inv))
    # i-avg's percentiles are its averages (10), its max the highest value of any series.
    assert (found["i-avg"]["cpu_p99"], found["i-avg"]["cpu_max"]) == (10.0, 50.0)
    assert found["i-avg"]["cpu_statistic"] == "average"
    assert (found["i-max"]["cpu_p99"], found["i-max"]["cpu_statistic"]) == (30.0, "maximum")
    assert found["i-max"]["cpu_hours"] == 336


def test_an_hour_delivered_twice_counts_once_at_its_mean() -> None:
    hour = NOW - timedelta(hours=1)
    series = points("i-a", "cpu", "average", [(hour, 10.0), (hour, 30.0)])
    inv = view(inventory([instance("i-a", "m5.large")], [series]))
    profile = rows(c.cpu_profile(inv))["i-a"]
    assert (profile["cpu_hours"], profile["cpu_p50"], profile["cpu_mean"]) == (1, 20.0, 20.0)


def test_cpu_percentiles_are_linear_over_the_hourly_series() -> None:
    # 0, 1, ..., 100 over 101 hours: p50 = 50, p95 = 95, p99 = 99, mean 50, max 100.
    at = [(NOW - timedelta(hours=101 - i), float(i)) for i in range(101)]
    inv = view(inventory([instance("i-a", "m5.large")], [points("i-a", "cpu", "average", at)]))
    profile = rows(c.cpu_profile(inv))["i-a"]
    assert profile["cpu_p50"] == pytest.approx(50.0)
    assert profile["cpu_p95"] == pytest.approx(95.0)
    assert profile["cpu_p99"] == pytest.approx(99.0)
    assert profile["cpu_mean"] == pytest.approx(50.0)
    assert profile["cpu_max"] == 100.0
    memory = points("i-a", "memory", "average", at)
    inv = view(inventory([instance("i-a", "m5.large")], [memory]))
    mem = rows(c.memory_profile(inv))["i-a"]
    assert (mem["memory_hours"], mem["memory_max"]) == (101, 100.0)
    assert mem["memory_p99"] == pytest.approx(99.0)


def test_network_rates_are_bytes_an_hour_over_3600() -> None:
    # In 0, 3600, ..., 100 × 3600 bytes an hour: p95 = 95 B/s; out a flat 7,200 B/h = 2 B/s.
    at = [(NOW - timedelta(hours=101 - i), float(i) * 3600) for i in range(101)]
    frames = [
        points("i-a", "network_in", "sum", at),
        points("i-a", "network_out", "sum", [(t, 7200.0) for t, _ in at]),
        # Another statistic is not bytes per hour: left out.
        points("i-a", "network_in", "maximum", [(t, 1e9) for t, _ in at]),
    ]
    inv = view(inventory([instance("i-a", "m5.large")], frames))
    net = rows(c.network_profile(inv, 0.95))["i-a"]
    assert net["network_in_bytes_per_second"] == pytest.approx(95.0)
    assert net["network_out_bytes_per_second"] == pytest.approx(2.0)
    assert net["network_in_bytes"] == pytest.approx(5050 * 3600)
    assert net["network_out_bytes"] == pytest.approx(101 * 7200)
    assert net["network_hours"] == 101


def test_hourly_coverage_is_the_share_of_the_lookbacks_hours() -> None:
    inv = view(inventory([instance("i-a", "m5.large")], cpu("i-a", 5.0, hours=168)))
    cov = rows(c.hourly_coverage(inv))["i-a"]
    assert (cov["hours_with_data"], cov["coverage"]) == (168, 0.5)


# --------------------------------------------------------------------------- types


@pytest.mark.parametrize(
    ("family", "klass", "gen", "disk"),
    [
        ("m5", "m", 5, False),
        ("m6gd", "m", 6, True),
        ("c7gn", "c", 7, False),
        ("x", "x", None, False),
    ],
)
def test_family_names_give_class_generation_and_local_disk(
    family: str, klass: str, gen: int | None, disk: bool
) -> None:
    assert values(c.instance_class(pl.col("f")), f=[family]) == [klass]
    assert values(c.generation(pl.col("f")), f=[family]) == [gen]
    assert values(c.has_local_disk(pl.col("f")), f=[family]) == [disk]


def test_not_older_allows_the_same_generation_and_unknowns() -> None:
    out = values(
        c.not_older(pl.col("cand"), pl.col("cur")),
        cand=[4, 5, 6, None, 5],
        cur=[5, 5, 5, 5, None],
    )
    assert out == [False, True, True, True, True]


def test_the_stronger_price_source_wins_in_the_catalogue() -> None:
    live = (
        prices_frame()
        .filter(pl.col("instance_type") == "m5.large")
        .with_columns(pl.lit("live").alias("source"), pl.lit(0.09).alias("hourly_price"))
    )
    inv = inventory([instance("i-a", "m5.large", hourly_price=0.0)], with_prices=False)
    inv.add("prices", pl.concat([prices_frame(), live]))
    types = c.instance_types(view(inv)).filter(pl.col("instance_type") == "m5.large").collect()
    assert types.height == 1
    assert (types["source"][0], types["hourly_price"][0]) == ("live", 0.09)
    # A zero own price falls back to the catalogue's (the live one).
    found = rows(c.running_instances(view(inv)))["i-a"]
    assert (found["hourly_price"], found["price_source"]) == (0.09, "live")


def test_running_instances_prices_and_states() -> None:
    inv = view(
        inventory(
            [
                instance("i-run", "m5.large"),
                instance("i-upper", "m5.large", state="RUNNING"),
                instance("i-stopped", "m5.large", state="stopped"),
                instance("i-billed", "m5.large", hourly_price=0.081, price_source="billing"),
                instance("i-live", "m5.large", hourly_price=0.09, price_source="live"),
            ]
        )
    )
    found = rows(c.running_instances(inv))
    assert set(found) == {"i-run", "i-upper", "i-billed", "i-live"}
    # A billed price is after discounts: the list price is the catalogue's; any other own
    # price is the list price itself.
    assert (found["i-billed"]["hourly_price"], found["i-billed"]["list_hourly_price"]) == (
        0.081,
        0.096,
    )
    assert (found["i-live"]["hourly_price"], found["i-live"]["list_hourly_price"]) == (0.09, 0.09)
    assert found["i-run"]["list_hourly_price"] == 0.096
    row = found["i-run"]
    assert (row["family"], row["instance_class"], row["generation"], row["local_disk"]) == (
        "m5",
        "m",
        5,
        False,
    )
    assert (row["current_generation"], row["burstable"], row["vcpus"], row["memory_gib"]) == (
        True,
        False,
        2.0,
        8.0,
    )


def test_an_unpriced_type_without_its_own_price_is_left_out() -> None:
    unknown = instance("i-odd", "m5.large") | {"instance_type": "z9.large", "hourly_price": None}
    own = instance("i-own", "m5.large") | {"instance_type": "z9.large", "hourly_price": 0.5}
    found = rows(c.running_instances(view(inventory([unknown, own]))))
    assert set(found) == {"i-own"}
    # Nothing in the catalogue: the family from the name, the instance's own facts.
    assert (found["i-own"]["family"], found["i-own"]["vcpus"], found["i-own"]["price_source"]) == (
        "z9",
        2.0,
        "bundled",
    )
    assert found["i-own"]["list_hourly_price"] == 0.5


def test_candidate_types_are_the_catalogue_prefixed() -> None:
    cand = c.candidate_types(view(inventory())).collect()
    assert {"provider", "region", "cand_instance_type", "cand_hourly_price"} <= set(cand.columns)
    assert "cand_provider" not in cand.columns
    assert cand.height == len(prices_frame())


# --------------------------------------------------------------------------- output


def test_group_keys() -> None:
    frame: dict[str, list[Any]] = {"group": ["web", None], "instance_type": ["m5.large"] * 2}
    assert values(c.asg_key(), **frame) == ["asg:web", None]
    assert values(c.move_key(pl.lit("m6g.large")), **frame) == ["asg:web", "m5.large→m6g.large"]


def test_monthly_is_730_hours() -> None:
    assert values(c.monthly(pl.col("h")), h=[0.096]) == [pytest.approx(70.08)]


def test_the_weaker_source_is_reported() -> None:
    out = values(
        c.weaker_source(pl.col("a"), pl.col("b")),
        a=["billing", "live", "bundled", "live", "odd", None, "live", "bundled", "none", "odd"],
        b=["live", "billing", "bundled", "none", "bundled", None, "bundled", "none", "odd", "new"],
    )
    # billing > live > bundled > none > anything unknown; between equals, the first.
    assert out == [
        "live", "live", "bundled", "none", "odd", "none", "bundled", "none", "odd", "odd"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("amount", "text", "floored", "signed"),
    [
        (420.48, "$420.48", "$420.48", "420.48"),
        (0.416, "$0.42", "$0.41", "0.42"),
        (7.0, "$7.00", "$7.00", "7.00"),
        (1234.5, "$1234.50", "$1234.50", "1234.50"),
    ],
)
def test_money_text(amount: float, text: str, floored: str, signed: str) -> None:
    # money rounds to the cent, money_in rounds down (a saving is never rounded up).
    assert values(c.money(pl.col("x")), x=[amount]) == [text]
    assert values(c.money_in(pl.col("x"), "USD"), x=[amount]) == [floored]
    assert values(c.amount_text(pl.col("x")), x=[amount]) == [signed]


def test_a_cloud_figure_keeps_its_sign() -> None:
    assert values(c.amount_text(pl.col("x")), x=[-0.5, -12.346, 0.0]) == ["-0.50", "-12.35", "0.00"]


def test_money_in_another_currency_follows_the_figure() -> None:
    assert values(c.money_in(pl.col("x"), "CAD"), x=[0.419]) == ["0.41 CAD"]


def test_rates_counts_and_percentages() -> None:
    assert values(c.rate(pl.col("x")), x=[0.19234]) == ["$0.1923/h"]
    assert values(c.num(pl.col("x")), x=[16.0, 30.54, 0.04]) == ["16", "30.5", "0"]
    assert values(c.pct(pl.col("x")), x=[12.345]) == ["12.3%"]


def test_price_evidence_and_findings_columns() -> None:
    ev = values(
        c.evidence(price=c.price_evidence(pl.col("t"), pl.col("h"), pl.col("s")), n=3),
        t=["m5.large"],
        h=[0.1],
        s=["bundled"],
    )
    assert ev == [
        '{"price":{"instance_type":"m5.large","hourly_usd":0.1,"monthly_usd":73.0,"source":"bundled"},"n":3}'
    ]


def test_advice_review_counts_nothing_and_shows_the_figure() -> None:
    frame = pl.DataFrame(
        [{c_: None for c_ in schema.IDENTITY_COLUMNS} | {"monthly_savings": 12.5}]
    ).lazy()
    out = c.advice_review(
        frame, detail=pl.lit("d"), recommendation=pl.lit("r"), confidence=0.9, advice=pl.lit("x")
    ).collect()
    row = out.row(0, named=True)
    assert (row["monthly_savings"], row["current_monthly_cost"], row["confidence"]) == (
        0.0,
        None,
        0.9,
    )
    assert row["price_source"] == "none"
    assert row["evidence"] == '{"provider_advice":"x","provider_advice_monthly_savings":12.5}'


def test_another_regions_prices_scale_the_confidence() -> None:
    out = values(
        c.regional_price_confidence(0.5, 0.8),
        price_region=["us-east-1", "us-east-1", None],
        region=["us-east-1", "eu-south-2", "eu-south-2"],
    )
    assert out == [0.5, pytest.approx(0.4), 0.5]
    scaled = values(
        c.regional_price_confidence(pl.col("b"), 0.5), b=[0.9], price_region=["x"], region=["y"]
    )
    assert scaled == [pytest.approx(0.45)]


def test_weekday_names_follow_polars_iso_weekdays() -> None:
    # 2024-06-17 is a Monday: polars' dt.weekday() gives 1 for it, 7 for the Sunday.
    week = pl.DataFrame({"d": [NOW + timedelta(days=i) for i in range(7)]})
    numbered = week.select(
        pl.col("d").dt.weekday().alias("n"), pl.col("d").dt.strftime("%a").alias("a")
    )
    assert {n: a for n, a in numbered.iter_rows()} == c.WEEKDAY_NAMES


def test_catalogue_gaps_are_filled_with_the_safe_default() -> None:
    # A type priced with no family, burstable or generation facts: the family comes from
    # its name, it is not burstable and counts as current generation.
    bare = (
        prices_frame()
        .filter(pl.col("instance_type") == "m5.large")
        .with_columns(
            pl.lit(None, dtype=pl.String).alias("family"),
            pl.lit(None, dtype=pl.Boolean).alias("burstable"),
            pl.lit(None, dtype=pl.Boolean).alias("current_generation"),
        )
    )
    inv = inventory([instance("i-a", "m5.large")], with_prices=False)
    inv.add("prices", bare)
    types = c.instance_types(view(inv)).collect().row(0, named=True)
    assert (types["family"], types["instance_class"], types["generation"]) == ("m5", "m", 5)
    assert (types["burstable"], types["current_generation"]) == (False, True)


def test_an_unknown_type_is_not_burstable_and_current() -> None:
    own = instance("i-own", "m5.large") | {"instance_type": "z9.large", "hourly_price": 0.5}
    zero = instance("i-zero", "m5.large") | {"instance_type": "z9.large", "hourly_price": 0.0}
    found = rows(c.running_instances(view(inventory([own, zero]))))
    # A zero price with no catalogue price is no price at all.
    assert set(found) == {"i-own"}
    assert (found["i-own"]["burstable"], found["i-own"]["current_generation"]) == (False, True)


def test_a_type_priced_at_zero_is_no_price() -> None:
    # The catalogue prices m5.large at $0 and the instance has no price of its own: no
    # price, no instance (a saving against $0 would be made up).
    free = prices_frame().with_columns(
        pl.when(pl.col("instance_type") == "m5.large")
        .then(pl.lit(0.0))
        .otherwise(pl.col("hourly_price"))
        .alias("hourly_price")
    )
    inv = inventory([instance("i-a", "m5.large", hourly_price=0.0)], with_prices=False)
    inv.add("prices", free)
    assert c.running_instances(view(inv)).collect().is_empty()
