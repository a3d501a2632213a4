"""The counting rules: findings in, ranked findings and one total per category out.

Every dollar in ``summary.monthly_savings`` must leave the bill next month. The rules, in
the order they apply (each has a test of its own in tests/reports/test_ranking.py):

1. A finding's saving after discounts never exceeds its saving before discounts, and a
   finding never saves more than its resource costs. (AWS Cost Optimization Hub shows
   savings "after discounts" beside "before discounts".)
2. Each finding has a category (vocab.Category). Only ``savings`` counts toward
   ``monthly_savings``; cost avoidance, waste, possible, deferred, investment and review
   each have a total of their own. (FinOps Foundation: usage and rate reduction are
   savings; avoided increases are cost avoidance.)
3. A saving resting on a confidence under the floor (``confidence_floor`` in
   costscan.toml) is ``possible``.
4. One action per resource: findings with the same action on one resource are
   alternatives; the best counts (savings before deferred before possible, then the
   largest net). (COH deduplicates incompatible recommendations on one resource.)
5. A removal excludes every other finding on its unit (``exclusive_group``: an instance
   with its attached volumes). A schedule excludes a commitment on the same resource (a
   commitment never covers hours a schedule turns off). A bottleneck excludes resizing
   its resource. (GCP Recommender's xorGroupId; COH: terminate beats rightsize.)
6. What stacks is computed in order, each on what the earlier left: resize, then
   schedule, then commit: ``savings_k = standalone_k × Π (1 − standalone_j / cost)``.
7. In an existing commitment's scope, a change saves on the bill only as far as the
   usage no commitment covers (``scope_uncovered_monthly``) absorbs what it takes out
   (``scope_usage_removed_monthly``: the saving inside the scope, the whole cost for a
   move to a family the commitment does not cover): ``saving_now = max(0, saving −
   max(0, removed − pool_left))``, in rank order across findings; the rest starts when the
   commitment ends (``deferred``). (COH's savings after discounts.)
8. A finding whose net saving (``monthly_savings − added_monthly_cost``) is zero or less
   never counts.
9. The same change on many like resources (one ``group_key``: a move on a fleet of one
   type in an account and region, one Auto Scaling group) is one finding with its members
   and one effort: ``effort = largest member effort × (1 + log10(members))``.
10. Order: counted findings first, by net value per hour of effort at risk:
    ``value_per_effort_hour = net × risk_weight / max(effort_hours, 0.25)`` (risk weight:
    low 1, medium 0.75, high 0.5).
11. Priority: High when the value per effort hour is at least $50 a month and the
    payback at most 3 months; Medium when the value per effort hour is at least $10 or the
    payback at most 12 months; else Low. Findings that do not count are Low and say why.
    Every finding carries its one-line reason.
12. Investments (a bottleneck's remedy) are ranked apart, by performance gained per added
    dollar (the seed's trade-off table).

For every finding, with the engineer hourly rate from config:

    net_monthly_savings = monthly_savings - added_monthly_cost
    implementation_cost = effort_hours * hourly_rate + upfront_cost
    payback_months      = implementation_cost / net_monthly_savings   (null when net <= 0)
    roi_12m             = (12 * net_monthly_savings - implementation_cost) / implementation_cost
                          (null when implementation_cost is 0)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.vocab import Category, short_resource_id

STACK_ORDER: Final = {"remove": 0, "resize": 1, "schedule": 2, "commit": 3}
# Which of two findings on one resource and action counts: the one in the earliest category.
CATEGORY_PREFERENCE: Final = {
    Category.SAVINGS: 0,
    Category.DEFERRED: 1,
    Category.POSSIBLE: 2,
    Category.COST_AVOIDANCE: 3,
    Category.WASTE: 3,
    Category.REVIEW: 4,
    Category.INVESTMENT: 4,
}
RISK_WEIGHT: Final = {"low": 1.0, "medium": 0.75, "high": 0.5}
# Less effort than a quarter hour is still a quarter hour of someone's attention.
MIN_EFFORT_HOURS: Final = 0.25
HIGH_VALUE_PER_HOUR: Final = 50.0
HIGH_PAYBACK_MONTHS: Final = 3.0
MEDIUM_VALUE_PER_HOUR: Final = 10.0
MEDIUM_PAYBACK_MONTHS: Final = 12.0
# Findings below this confidence are "possible" savings (costscan.toml confidence_floor).
DEFAULT_CONFIDENCE_FLOOR: Final = 0.5
GROUP_EFFORT_FORMULA: Final = "effort_hours = largest member effort × (1 + log10(members))"
MONEY_COLUMNS: Final = (
    "current_monthly_cost",
    "monthly_savings_before_discounts",
    "monthly_savings",
    "deferred_monthly_savings",
    "standalone_monthly_savings",
    "added_monthly_cost",
    "upfront_cost",
    "net_monthly_savings",
    "implementation_cost",
)
_SAVINGS = Category.SAVINGS.value
_DEFERRED = Category.DEFERRED.value
_POSSIBLE = Category.POSSIBLE.value


@dataclass(frozen=True)
class Ranked:
    findings: pl.DataFrame  # schema.RANKED, rank order; counted ones first
    bottlenecks: pl.DataFrame  # schema.RANKED: investments, by performance per dollar
    summary: dict[str, Any]


def rank(
    findings: pl.DataFrame,
    *,
    hourly_rate: float,
    min_savings: float = 0.0,
    confidence_floor: float = DEFAULT_CONFIDENCE_FLOOR,
) -> Ranked:
    """Rank ``findings`` (schema.FINDINGS) and total them by category."""
    # One chunk per column: polars 2.1 panics ("assertion failed: i < self.len()") in
    # this plan's windowed expressions over some multi-chunk inputs (the concatenation
    # of every policy's findings on the demo account with its data services).
    findings = findings.rechunk()
    frame = _prepared(schema.conform_findings(findings.lazy()), confidence_floor)
    is_investment = pl.col("category") == Category.INVESTMENT.value
    investments = frame.filter(is_investment)
    chosen = _choose(frame.filter(~is_investment), investments)
    chosen = _cap_by_commitment_scope(_stack(chosen)).with_columns(_counted().alias("counted"))
    # Capping by the resource's cost can leave a finding with nothing net: count again.
    chosen = _cap_by_resource_cost(chosen).with_columns(_counted().alias("counted"))
    savings = _priority(_roi(_grouped(chosen), hourly_rate))

    ranked_savings = _order(savings).collect()
    hidden = 0
    if min_savings > 0:
        keep = ranked_savings["net_monthly_savings"] >= min_savings
        hidden = int((~keep).sum())
        ranked_savings = ranked_savings.filter(keep).with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank")
        )
    ranked_investments = _ranked_investments(investments, hourly_rate).collect()
    summary = summarize(
        ranked_savings,
        ranked_investments,
        hidden=hidden,
        min_savings=min_savings,
        confidence_floor=confidence_floor,
    )
    return Ranked(ranked_savings, ranked_investments, summary)


# --------------------------------------------------------------------------- rules 1-3


def _prepared(frame: pl.LazyFrame, confidence_floor: float) -> pl.LazyFrame:
    money = {
        c: pl.col(c).fill_null(0.0)
        for c in ("monthly_savings", "added_monthly_cost", "upfront_cost", "effort_hours")
    }
    before = pl.coalesce("monthly_savings_before_discounts", "monthly_savings").fill_null(0.0)
    frame = frame.with_columns(
        before.alias("monthly_savings_before_discounts"),
        pl.col("deferred_monthly_savings").fill_null(0.0),
        pl.col("category").fill_null(
            pl.col("action").replace_strict(
                {"bottleneck": Category.INVESTMENT.value, "investigate": Category.REVIEW.value},
                default=_SAVINGS,
                return_dtype=pl.String,
            )
        ),
        **money,
    )
    # Rule 1: after discounts never above before; never more than the resource costs.
    cost = pl.col("current_monthly_cost")
    ceiling = pl.when(cost.is_not_null() & (cost > 0)).then(cost).otherwise(None)
    after = pl.min_horizontal("monthly_savings", "monthly_savings_before_discounts", ceiling).clip(
        lower_bound=0.0
    )
    before_capped = pl.min_horizontal("monthly_savings_before_discounts", ceiling).clip(
        lower_bound=0.0
    )
    frame = frame.with_columns(
        after.alias("monthly_savings"), before_capped.alias("monthly_savings_before_discounts")
    )
    # Rule 3: a saving resting on too little confidence is possible, not counted.
    unsure = (pl.col("category") == _SAVINGS) & (
        pl.col("confidence").fill_null(0.0) < confidence_floor
    )
    # A saving that starts only later is deferred (rule 7 at the policy's level).
    later = (
        (pl.col("category") == _SAVINGS)
        & (pl.col("monthly_savings") <= 0)
        & (pl.col("deferred_monthly_savings") > 0)
    )
    return frame.with_columns(
        pl.when(unsure)
        .then(pl.lit(_POSSIBLE))
        .when(later)
        .then(pl.lit(_DEFERRED))
        .otherwise(pl.col("category"))
        .alias("category")
    )


def _key(resource: pl.Expr) -> pl.Expr:
    # Billing exports name resources by ARN (arn:aws:ec2:...:instance/i-0abc) where a cloud
    # scan says i-0abc: both are one resource, so findings from either dedupe together.
    return (
        pl.when(resource.is_not_null())
        .then(
            pl.concat_str(
                [
                    pl.col("provider").str.to_lowercase(),
                    "account_id",
                    "region",
                    short_resource_id(resource),
                ],
                separator="|",
                ignore_nulls=True,
            )
        )
        .otherwise(pl.col("finding_id"))
    )


def _net() -> pl.Expr:
    return pl.col("monthly_savings") - pl.col("added_monthly_cost")


# --------------------------------------------------------------------------- rules 4-5


def _choose(frame: pl.LazyFrame, investments: pl.LazyFrame) -> pl.LazyFrame:
    """Which findings stand and which are alternatives (rules 4 and 5)."""
    bottlenecked = (
        investments.filter(pl.col("action") == "bottleneck")
        .select(
            _key(pl.col("resource_id")).alias("_resource"),
            pl.col("finding_id").alias("_bottleneck"),
        )
        .unique("_resource", keep="first")
    )
    stands_alone = pl.col("action").is_in(["configure", "investigate"])
    frame = (
        frame.with_columns(
            _key(pl.col("resource_id")).alias("_resource"),
            _key(pl.coalesce("exclusive_group", "resource_id")).alias("exclusive_group"),
            pl.col("category")
            .replace_strict(
                {k.value: v for k, v in CATEGORY_PREFERENCE.items()},
                default=5,
                return_dtype=pl.Int64,
            )
            .alias("_preference"),
            _net().alias("_net"),
            pl.col("action")
            .replace_strict(STACK_ORDER, default=4, return_dtype=pl.Int64)
            .alias("_stage"),
        )
        .join(bottlenecked, on="_resource", how="left")
        .sort(
            ["_preference", "_net", "deferred_monthly_savings", "finding_id"],
            descending=[False, True, True, False],
        )
    )
    same_action = (
        pl.when(stands_alone)
        .then(pl.col("finding_id"))
        .otherwise(pl.concat_str([pl.col("_resource"), pl.col("action")], separator="#"))
    )
    frame = frame.with_columns(
        pl.col("finding_id").first().over(same_action).alias("_best_same_action")
    ).with_columns((pl.col("finding_id") == pl.col("_best_same_action")).alias("_is_best"))

    def best_of(action: str, over: str) -> pl.Expr:
        return (
            pl.col("finding_id")
            .filter(
                (pl.col("action") == action)
                & pl.col("_is_best")
                & (pl.col("_preference") <= CATEGORY_PREFERENCE[Category.POSSIBLE])
            )
            .first()
            .over(over)
        )

    frame = frame.with_columns(
        best_of("remove", "exclusive_group").alias("_removal"),
        best_of("schedule", "_resource").alias("_schedule"),
    )
    by_removal = pl.col("_removal").is_not_null() & (pl.col("finding_id") != pl.col("_removal"))
    by_schedule = pl.col("_schedule").is_not_null() & (pl.col("action") == "commit")
    by_bottleneck = pl.col("_bottleneck").is_not_null() & (pl.col("action") == "resize")
    return frame.with_columns(
        (pl.col("_is_best") & ~by_removal & ~by_schedule & ~by_bottleneck).alias("_chosen"),
        pl.when(by_bottleneck)
        .then(pl.col("_bottleneck"))
        .when(~pl.col("_is_best"))
        .then(pl.col("_best_same_action"))
        .when(by_removal)
        .then(pl.col("_removal"))
        .when(by_schedule)
        .then(pl.col("_schedule"))
        .otherwise(None)
        .alias("alternative_to"),
    )


# --------------------------------------------------------------------------- rules 6-8


def _stack(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Rule 6: chosen resize, schedule and commit findings on one resource, each on what
    the earlier ones left. The standalone figure stays in ``standalone_monthly_savings``."""
    stacks = pl.col("_chosen") & pl.col("_stage").is_between(1, 3)
    share = (
        pl.when(stacks & (pl.col("current_monthly_cost") > 0))
        .then((pl.col("monthly_savings") / pl.col("current_monthly_cost")).clip(0.0, 1.0))
        .otherwise(0.0)
    )
    left = (1.0 - pl.col("_share")).cum_prod().shift(1, fill_value=1.0).over("_resource")
    frame = (
        frame.with_columns(share.alias("_share"))
        .sort(["_resource", "_stage", "_net"], descending=[False, False, True])
        .with_columns(left.alias("_left"))
    )
    scaled = {
        c: pl.when(stacks).then(pl.col(c) * pl.col("_left")).otherwise(pl.col(c)).alias(c)
        for c in ("monthly_savings", "monthly_savings_before_discounts", "deferred_monthly_savings")
    }
    return frame.with_columns(
        pl.col("monthly_savings").alias("standalone_monthly_savings"), *scaled.values()
    )


def _value_per_hour() -> pl.Expr:
    weight = pl.col("risk").replace_strict(RISK_WEIGHT, default=0.5, return_dtype=pl.Float64)
    effort = pl.max_horizontal(pl.col("effort_hours"), pl.lit(MIN_EFFORT_HOURS))
    return (pl.col("monthly_savings") - pl.col("added_monthly_cost")) * weight / effort


def _cap_by_commitment_scope(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Rule 7: in a commitment's scope, changes save on the bill only as far as the usage
    no commitment covers absorbs what they take out (``scope_usage_removed_monthly``); in
    rank order, each spends the pool the ones before it left, and the rest of its saving
    moves to deferred: saving_now = max(0, saving − max(0, removed − pool_left))."""
    draws = (
        pl.col("_chosen")
        & pl.col("commitment_scope").is_not_null()
        & pl.col("action").is_in(["remove", "resize", "schedule"])
        & (pl.col("category") == _SAVINGS)
    )
    pool = pl.col("scope_uncovered_monthly").fill_null(0.0).clip(lower_bound=0.0)
    removed = pl.coalesce("scope_usage_removed_monthly", "monthly_savings")
    frame = frame.with_columns(
        pl.when(draws).then(removed).otherwise(0.0).alias("_draw"),
        _value_per_hour().alias("_order_value"),
    ).sort(["_order_value", "finding_id"], descending=[True, False])
    drawn_before = pl.col("_draw").cum_sum().shift(1, fill_value=0.0).over("commitment_scope")
    left = (pool - drawn_before).clip(lower_bound=0.0)
    realized = pl.min_horizontal(
        pl.col("monthly_savings"),
        (pl.col("monthly_savings") - (pl.col("_draw") - left).clip(lower_bound=0.0)).clip(
            lower_bound=0.0
        ),
    )
    moved = pl.col("monthly_savings") - realized
    capped = frame.with_columns(
        pl.when(draws).then(realized).otherwise(pl.col("monthly_savings")).alias("_realized")
    )
    return capped.with_columns(
        pl.when(draws)
        .then(pl.col("deferred_monthly_savings") + moved)
        .otherwise(pl.col("deferred_monthly_savings"))
        .alias("deferred_monthly_savings"),
        pl.col("_realized").alias("monthly_savings"),
        pl.when(draws & (pl.col("_realized") <= 0))
        .then(pl.lit(_DEFERRED))
        .otherwise(pl.col("category"))
        .alias("category"),
    ).drop("_realized", "_draw", "_order_value")


def _counted() -> pl.Expr:
    """Rules 2 and 8: chosen, a saving, and a positive net."""
    # In cents, as the report shows it: a fraction of a cent is nothing.
    return (
        pl.col("_chosen")
        & (pl.col("category") == _SAVINGS)
        & (pl.col("action") != "investigate")
        & (_net().round(2) > 0)
    )


def _cap_by_resource_cost(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Rule 1 across findings: the counted savings on one resource never add up to more
    than it costs; in rank order, what would exceed it is cut."""
    cost = pl.col("current_monthly_cost").max().over("_resource")
    ordered = frame.with_columns(_value_per_hour().alias("_order_value")).sort(
        ["_order_value", "finding_id"], descending=[True, False]
    )
    counted_savings = pl.when(pl.col("counted")).then(pl.col("monthly_savings")).otherwise(0.0)
    before = counted_savings.cum_sum().shift(1, fill_value=0.0).over("_resource")
    room = (cost - before).clip(lower_bound=0.0)
    limited = pl.when(pl.col("counted") & cost.is_not_null() & (cost > 0)).then(
        pl.min_horizontal(pl.col("monthly_savings"), room)
    )
    return ordered.with_columns(
        limited.otherwise(pl.col("monthly_savings")).alias("monthly_savings")
    ).drop("_order_value")


# --------------------------------------------------------------------------- rule 9


def _grouped(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Rule 9: chosen findings of one policy with the same ``group_key``, account, region
    and category become one finding listing its members; their alternatives point at it."""
    group = ["policy_id", "provider", "account_id", "region", "category", "group_key"]
    frame = frame.with_columns(
        pl.when(pl.col("_chosen") & pl.col("group_key").is_not_null())
        .then(pl.len().over(group))
        .otherwise(1)
        .alias("_members")
    )
    folds = pl.col("_chosen") & (pl.col("_members") > 1)
    group_id = pl.concat_str(
        [
            pl.col("policy_id"),
            "provider",
            "account_id",
            "region",
            "category",
            pl.lit("group"),
            "group_key",
        ],
        separator="|",
        ignore_nulls=True,
    )
    frame = frame.with_columns(
        pl.when(folds).then(group_id).otherwise(pl.col("finding_id")).alias("_group_id")
    )
    singles = frame.filter(~folds).with_columns(
        pl.lit(None, dtype=pl.Int64).alias("member_count"),
        pl.lit(None, dtype=pl.String).alias("members"),
    )
    members = frame.filter(folds).sort("monthly_savings", "finding_id", descending=[True, False])
    summed = (
        "current_monthly_cost",
        "monthly_savings_before_discounts",
        "monthly_savings",
        "deferred_monthly_savings",
        "standalone_monthly_savings",
        "added_monthly_cost",
        "upfront_cost",
        "scope_usage_removed_monthly",
    )
    special = {
        *summed, "effort_hours", "savings_start", "confidence", "price_source", "detail",
        "recommendation", "evidence", "finding_id", "_group_id", "alternative_to",
        "member_count", "members",
    }  # fmt: skip
    firsts = [c for c in members.collect_schema().names() if c not in special]
    n = pl.len()
    effort = pl.col("effort_hours").max() * (1.0 + n.cast(pl.Float64).log10())
    member_list = pl.struct(
        resource_id=pl.col("resource_id"),
        resource_name=pl.col("resource_name"),
        monthly_savings=pl.col("monthly_savings").round(2),
        deferred_monthly_savings=pl.col("deferred_monthly_savings").round(2),
    )
    weakest_source = (
        pl.col("price_source")
        .sort_by(
            pl.col("price_source").replace_strict(
                {"billing": 0, "live": 1, "bundled": 2, "none": 3}, default=4, return_dtype=pl.Int64
            )
        )
        .last()
    )
    folded = members.group_by("_group_id", maintain_order=True).agg(
        *[pl.col(c).first() for c in firsts],
        *[pl.col(c).sum() for c in summed],
        effort.alias("effort_hours"),
        pl.col("savings_start").max(),
        pl.col("confidence").min(),
        weakest_source,
        pl.col("detail").first().alias("_example_detail"),
        pl.col("recommendation").first().alias("_example_recommendation"),
        pl.col("evidence").first().alias("_example_evidence"),
        n.cast(pl.Int64).alias("member_count"),
        member_list.implode().alias("_member_list"),
    )
    label = pl.coalesce(pl.col("group_key"), pl.lit("group"))
    folded = folded.with_columns(
        pl.col("_group_id").alias("finding_id"),
        label.alias("resource_id"),
        pl.format("{} resources", pl.col("member_count")).alias("resource_name"),
        pl.format(
            "{} like changes ({}), {} a month in all. For example: {}",
            pl.col("member_count"),
            label,
            pl.col("monthly_savings").round(2),
            pl.col("_example_detail"),
        ).alias("detail"),
        pl.format(
            "Make this change on all {} (one change, one rollout): {}",
            pl.col("member_count"),
            pl.col("_example_recommendation"),
        ).alias("recommendation"),
        pl.concat_str(
            [
                pl.lit('{"grouped":{"members":'),
                pl.col("member_count").cast(pl.String),
                pl.lit(',"effort_formula":' + json.dumps(GROUP_EFFORT_FORMULA, ensure_ascii=False)),
                pl.lit('},"example":'),
                pl.col("_example_evidence").fill_null("null"),
                pl.lit("}"),
            ]
        ).alias("evidence"),
        pl.concat_str(
            [
                pl.lit("["),
                pl.col("_member_list").list.eval(pl.element().struct.json_encode()).list.join(","),
                pl.lit("]"),
            ]
        ).alias("members"),
        pl.lit(None, dtype=pl.String).alias("alternative_to"),
    )
    # Alternatives of a member now point at the group that holds it.
    member_to_group = members.select(
        pl.col("finding_id").alias("alternative_to"), pl.col("_group_id").alias("_group_of")
    )
    singles = (
        singles.join(member_to_group, on="alternative_to", how="left")
        .with_columns(pl.coalesce("_group_of", "alternative_to").alias("alternative_to"))
        .drop("_group_of")
    )
    columns = [c for c in schema.RANKED if c in singles.collect_schema().names()]
    extra = ["_chosen", "_resource"]
    return pl.concat(
        [singles.select(*columns, *extra), folded.select(*columns, *extra)],
        how="diagonal_relaxed",
    )


# --------------------------------------------------------------------------- rules 10-12


def _roi(frame: pl.LazyFrame, hourly_rate: float) -> pl.LazyFrame:
    cents = {
        c: pl.col(c).fill_null(0.0).round(2)
        for c in (
            "monthly_savings",
            "monthly_savings_before_discounts",
            "deferred_monthly_savings",
            "standalone_monthly_savings",
            "added_monthly_cost",
        )
    }
    frame = frame.with_columns(
        pl.col("upfront_cost").fill_null(0.0),
        pl.col("effort_hours").fill_null(0.0),
        **cents,
    )
    net = (pl.col("monthly_savings") - pl.col("added_monthly_cost")).round(2)
    implementation = (pl.col("effort_hours") * hourly_rate + pl.col("upfront_cost")).round(2)
    frame = frame.with_columns(
        net.alias("net_monthly_savings"), implementation.alias("implementation_cost")
    )
    return frame.with_columns(
        pl.when(pl.col("net_monthly_savings") > 0)
        .then(pl.col("implementation_cost") / pl.col("net_monthly_savings"))
        .otherwise(None)
        .round(2)
        .alias("payback_months"),
        pl.when(pl.col("implementation_cost") > 0)
        .then(
            (12 * pl.col("net_monthly_savings") - pl.col("implementation_cost"))
            / pl.col("implementation_cost")
        )
        .otherwise(None)
        .round(2)
        .alias("roi_12m"),
        _value_per_hour().round(2).alias("value_per_effort_hour"),
    )


def _money_text(amount: pl.Expr) -> pl.Expr:
    """USD with cents and thousands separators: 1234.5 -> "$1,234.50"."""
    cents = (amount * 100).round(0).cast(pl.Int64)
    dollars = (cents.abs() // 100).cast(pl.String)
    # Group the digits in threes from the right.
    grouped = (
        dollars.str.reverse().str.replace_all(r"(\d{3})", "$1,").str.reverse().str.strip_prefix(",")
    )
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    fraction = (cents.abs() % 100).cast(pl.String).str.pad_start(2, "0")
    return pl.format("{}${}.{}", sign, grouped, fraction)


def _priority(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Rules 10 and 11: priority from the value per effort hour and the payback, and why."""
    value = pl.col("value_per_effort_hour")
    payback = pl.col("payback_months")
    high = (value >= HIGH_VALUE_PER_HOUR) & (payback <= HIGH_PAYBACK_MONTHS)
    medium = (value >= MEDIUM_VALUE_PER_HOUR) | (payback <= MEDIUM_PAYBACK_MONTHS)
    priority = (
        pl.when(~pl.col("counted"))
        .then(pl.lit("Low"))
        .when(high)
        .then(pl.lit("High"))
        .when(medium)
        .then(pl.lit("Medium"))
        .otherwise(pl.lit("Low"))
    )
    worth = pl.format(
        "{}/month net for {} h of work at {} risk ({} per hour of effort), pays back in {} months",
        _money_text(pl.col("net_monthly_savings")),
        pl.col("effort_hours").round(2),
        pl.col("risk"),
        _money_text(value),
        payback.round(1),
    )
    why_not = (
        pl.when(pl.col("alternative_to").is_not_null())
        .then(pl.format("not counted: an alternative to {}", pl.col("alternative_to")))
        .when(pl.col("category") == Category.DEFERRED.value)
        .then(
            pl.format(
                "not counted yet: {}/month starts {} (a commitment covers the usage until then)",
                _money_text(pl.col("deferred_monthly_savings")),
                pl.col("savings_start").cast(pl.String).fill_null("when the commitment ends"),
            )
        )
        .when(pl.col("category") == Category.POSSIBLE.value)
        .then(
            pl.format(
                "not counted: possible, confidence {} is under the floor",
                pl.col("confidence").round(2),
            )
        )
        .when(pl.col("category") == Category.COST_AVOIDANCE.value)
        .then(
            pl.lit("not counted: cost avoidance keeps the bill from rising, it does not lower it")
        )
        .when(pl.col("category") == Category.WASTE.value)
        .then(pl.lit("not counted: committed money no mechanism recovers"))
        .when(pl.col("category") == Category.REVIEW.value)
        .then(pl.lit("not counted: money to look into, no saving claimed"))
        .when(pl.col("net_monthly_savings") <= 0)
        .then(pl.lit("not counted: it saves nothing net of what it adds"))
        .otherwise(pl.lit("not counted"))
    )
    reason = (
        pl.when(pl.col("counted"))
        .then(pl.format("{}: {}", priority, worth))
        .otherwise(pl.format("Low: {}", why_not))
    )
    return frame.with_columns(priority.alias("priority"), reason.alias("priority_reason"))


def _order(frame: pl.LazyFrame) -> pl.LazyFrame:
    return (
        frame.sort(
            ["counted", "value_per_effort_hour", "net_monthly_savings", "finding_id"],
            descending=[True, True, True, False],
            nulls_last=True,
        )
        .with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank"),
            pl.lit(None, dtype=pl.String).alias("status"),
            pl.lit(None, dtype=pl.Int64).alias("weeks_open"),
        )
        .select([pl.col(c).cast(t) for c, t in schema.RANKED.items()])
    )


def _ranked_investments(frame: pl.LazyFrame, hourly_rate: float) -> pl.LazyFrame:
    """Rule 12: performance investments, by performance gained per added dollar
    (``performance_gain`` / ``added_monthly_cost``); ties by the cheaper one."""
    per_dollar = pl.col("performance_gain").fill_null(0.0) / pl.max_horizontal(
        pl.col("added_monthly_cost"), pl.lit(0.01)
    )
    frame = frame.with_columns(
        pl.col("monthly_savings").alias("standalone_monthly_savings"),
        pl.lit(False).alias("counted"),
        pl.lit(None, dtype=pl.String).alias("alternative_to"),
        pl.lit(None, dtype=pl.Int64).alias("member_count"),
        pl.lit(None, dtype=pl.String).alias("members"),
        _key(pl.coalesce("exclusive_group", "resource_id")).alias("exclusive_group"),
    )
    frame = _roi(frame, hourly_rate).with_columns(
        pl.lit("Medium").alias("priority"),
        pl.format(
            "Medium: an investment, {}/month for {}% more headroom",
            _money_text(pl.col("added_monthly_cost")),
            (pl.col("performance_gain").fill_null(0.0) * 100).round(0),
        ).alias("priority_reason"),
        per_dollar.alias("_per_dollar"),
    )
    return (
        frame.sort(
            ["_per_dollar", "added_monthly_cost", "finding_id"], descending=[True, False, False]
        )
        .with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank"),
            pl.lit(None, dtype=pl.String).alias("status"),
            pl.lit(None, dtype=pl.Int64).alias("weeks_open"),
        )
        .select([pl.col(c).cast(t) for c, t in schema.RANKED.items()])
    )


# --------------------------------------------------------------------------- totals


def _total(frame: pl.DataFrame, column: str) -> float:
    value = frame[column].sum() if frame.height else 0.0
    return round(float(value or 0.0), 2)


def summarize(
    findings: pl.DataFrame,
    investments: pl.DataFrame,
    *,
    hidden: int = 0,
    min_savings: float = 0.0,
    confidence_floor: float = DEFAULT_CONFIDENCE_FLOOR,
) -> dict[str, Any]:
    """One total per category, over findings that stand (not alternatives): what every
    renderer shows and a reader can re-add from the findings."""
    counted = findings.filter(pl.col("counted"))
    standing = findings.filter(pl.col("alternative_to").is_null())

    def of(category: Category) -> pl.DataFrame:
        return standing.filter(pl.col("category") == category.value)

    by_family_frame = (
        findings.group_by("family")
        .agg(
            pl.len().alias("findings"),
            pl.col("net_monthly_savings").filter(pl.col("counted")).sum().alias("monthly_savings"),
        )
        .to_dicts()
    )
    by_family: dict[str, dict[str, Any]] = {
        fam: {"findings": 0, "monthly_savings": 0.0} for fam in schema.FAMILIES
    }
    for row in by_family_frame:
        by_family[row["family"]] = {
            "findings": int(row["findings"]),
            "monthly_savings": round(float(row["monthly_savings"] or 0.0), 2),
        }
    monthly = _total(counted, "net_monthly_savings")
    deferred = standing.filter(
        pl.col("category").is_in([_SAVINGS, _DEFERRED]) & (pl.col("deferred_monthly_savings") > 0)
    )
    return {
        "findings": findings.height,
        "counted_findings": counted.height,
        "monthly_savings": monthly,
        "annual_savings": round(monthly * 12, 2),
        "monthly_savings_before_discounts": _total(counted, "monthly_savings_before_discounts"),
        "cost_avoidance": _total(of(Category.COST_AVOIDANCE), "net_monthly_savings"),
        "commitment_waste": _total(of(Category.WASTE), "monthly_savings"),
        "possible_monthly_savings": _total(
            of(Category.POSSIBLE).filter(pl.col("net_monthly_savings") > 0), "net_monthly_savings"
        ),
        "deferred_monthly_savings": _total(deferred, "deferred_monthly_savings"),
        "investments_monthly_cost": _total(investments, "added_monthly_cost"),
        "by_family": by_family,
        "spend": None,
        "bottlenecks": investments.height,
        "bottleneck_monthly_cost": _total(investments, "added_monthly_cost"),
        "hidden_below_min_savings": hidden,
        "min_savings": min_savings,
        "confidence_floor": confidence_floor,
    }


def effort_of_group(largest_member_effort: float, members: int) -> float:
    """Rule 9's effort of a grouped change (for readers and tests)."""
    return largest_member_effort * (1.0 + math.log10(max(members, 1)))
