"""The ROI model: findings in, ranked findings and totals out, with nothing counted twice.

For every finding, with the engineer hourly rate from config:

    net_monthly_savings = monthly_savings - added_monthly_cost
    implementation_cost = effort_hours * hourly_rate + upfront_cost
    payback_months      = implementation_cost / net_monthly_savings   (null when net <= 0)
    roi_12m             = (12 * net_monthly_savings - implementation_cost) / implementation_cost
                          (null when implementation_cost is 0)

Double counting. Findings on one resource are grouped:
- a ``remove`` finding (stop, terminate, delete) excludes every other finding on the
  resource: the best removal counts and the rest are its alternatives;
- findings with the same action on one resource exclude each other (m5.xlarge or m6g.large,
  not both): the largest net saving counts, the rest are alternatives;
- a commitment never covers capacity that a schedule turns off, so a ``commit`` finding on a
  resource with a counted ``schedule`` finding is an alternative to it;
- what remains stacks in the order resize -> schedule -> commit, each computed on the cost
  left by the ones before: savings_k = standalone_k * prod(1 - standalone_j / current_cost)
  over the earlier stages j. The standalone figure stays in ``standalone_monthly_savings``;
- ``configure`` findings (retention, compression ...) touch separate cost lines and all count;
- a resource with a bottleneck finding needs more capacity: its ``resize`` findings are
  alternatives to the bottleneck and never count;
- ``investigate`` findings (an anomaly, untagged spend) claim no saving and never count.

``bottleneck`` findings never count toward savings: they are ranked in their own list.

Priority, first matching rule wins (the trade-off table a FinOps team uses: money against
risk and performance, with pure code or configuration changes first):

| # | condition                                                         | priority |
|---|-------------------------------------------------------------------|----------|
| 1 | net_monthly_savings <= 0                                          | Low      |
| 2 | risk high: roi_12m >= 5                                           | Medium   |
| 3 | risk high: otherwise                                              | Low      |
| 4 | performance improves and payback <= 12 months (a faster CDN that  | High     |
|   | costs more per month but still pays)                              |          |
| 5 | performance at risk: payback <= 6 months                          | Medium   |
| 6 | performance at risk: otherwise                                    | Low      |
| 7 | pure change: no upfront, no added monthly cost, effort <= 8 h,    | High     |
|   | risk low                                                          |          |
| 8 | payback <= 3 months and risk low, or payback <= 1 month (medium)  | High     |
| 9 | payback <= 12 months (a sharding project that adds $2,000/month   | Medium   |
|   | and pays back within the year)                                    |          |
| 10| otherwise                                                         | Low      |

Bottlenecks are Medium: they cost money and protect performance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.vocab import short_resource_id

PRIORITY_ORDER = {"High": 0, "Medium": 1, "Low": 2}
STACK_ORDER = {
    "remove": 0,
    "resize": 1,
    "schedule": 2,
    "commit": 3,
    "configure": 4,
    "investigate": 4,
}
PURE_CHANGE_MAX_EFFORT_HOURS = 8.0
MONEY_COLUMNS = (
    "current_monthly_cost",
    "monthly_savings",
    "standalone_monthly_savings",
    "added_monthly_cost",
    "upfront_cost",
    "net_monthly_savings",
    "implementation_cost",
)


@dataclass(frozen=True)
class Ranked:
    findings: pl.DataFrame  # schema.RANKED, rank order; counted ones first
    bottlenecks: pl.DataFrame  # schema.RANKED
    summary: dict[str, Any]


def rank(findings: pl.DataFrame, *, hourly_rate: float, min_savings: float = 0.0) -> Ranked:
    """Rank ``findings`` (schema.FINDINGS) and compute totals over what counts."""
    frame = schema.conform_findings(findings.lazy())
    savings = _dedupe_and_stack(
        frame.filter(pl.col("action") != "bottleneck"),
        frame.filter(pl.col("action") == "bottleneck"),
    )
    savings = _priority(_roi(savings, hourly_rate))
    bottlenecks = _roi(
        frame.filter(pl.col("action") == "bottleneck").with_columns(
            pl.col("monthly_savings").alias("standalone_monthly_savings"),
            pl.lit(False).alias("counted"),
            pl.lit(None, dtype=pl.String).alias("alternative_to"),
        ),
        hourly_rate,
    ).with_columns(pl.lit("Medium").alias("priority"))

    ranked_savings = _order(savings).collect()
    hidden = 0
    if min_savings > 0:
        keep = ranked_savings["net_monthly_savings"] >= min_savings
        hidden = int((~keep).sum())
        ranked_savings = ranked_savings.filter(keep).with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank")
        )
    ranked_bottlenecks = (
        bottlenecks.sort(["added_monthly_cost", "finding_id"], descending=[True, False])
        .with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank"),
            pl.lit(None, dtype=pl.String).alias("status"),
            pl.lit(None, dtype=pl.Int64).alias("weeks_open"),
        )
        .select(list(schema.RANKED))
        .collect()
    )
    summary = summarize(ranked_savings, ranked_bottlenecks, hidden=hidden, min_savings=min_savings)
    return Ranked(ranked_savings, ranked_bottlenecks, summary)


def _resource_key() -> pl.Expr:
    # Billing exports name resources by ARN (arn:aws:ec2:...:instance/i-0abc) where a cloud
    # scan says i-0abc: both are one resource, so findings from either dedupe together.
    resource = short_resource_id(pl.col("resource_id"))
    return (
        pl.when(pl.col("resource_id").is_not_null())
        .then(
            pl.concat_str(
                [pl.col("provider").str.to_lowercase(), "account_id", "region", resource],
                separator="|",
                ignore_nulls=True,
            )
        )
        .otherwise(pl.col("finding_id"))
    )


def _dedupe_and_stack(frame: pl.LazyFrame, bottlenecks: pl.LazyFrame) -> pl.LazyFrame:
    standalone_net = pl.col("monthly_savings") - pl.col("added_monthly_cost")
    # A resource above the alert line needs more capacity, not a cheaper shape: its resize
    # savings are alternatives to fixing the bottleneck, never counted.
    bottlenecked = bottlenecks.select(
        _resource_key().alias("_resource"), pl.col("finding_id").alias("_bottleneck")
    ).unique("_resource", keep="first")
    # Best first, with a stable tie-break so reruns rank the same way.
    frame = frame.with_columns(
        _resource_key().alias("_resource"),
        standalone_net.fill_null(0.0).alias("_net"),
        pl.col("action")
        .replace_strict(STACK_ORDER, default=4, return_dtype=pl.Int64)
        .alias("_stage"),
    ).join(bottlenecked, on="_resource", how="left")
    frame = frame.sort(["_net", "finding_id"], descending=[True, False])

    exclusive_key = (
        pl.when(pl.col("action").is_in(["configure", "investigate"]))
        .then(pl.col("finding_id"))
        .otherwise(pl.concat_str([pl.col("_resource"), pl.col("action")], separator="#"))
    )
    frame = frame.with_columns(exclusive_key.alias("_exclusive"))
    frame = frame.with_columns(
        pl.col("finding_id").first().over("_exclusive").alias("_best_same_action")
    ).with_columns((pl.col("finding_id") == pl.col("_best_same_action")).alias("_is_best"))

    def best_of(action: str) -> pl.Expr:
        return (
            pl.col("finding_id")
            .filter((pl.col("action") == action) & pl.col("_is_best"))
            .first()
            .over("_resource")
        )

    frame = frame.with_columns(
        best_of("remove").alias("_removal"), best_of("schedule").alias("_schedule")
    )
    excluded_by_removal = pl.col("_removal").is_not_null() & (pl.col("action") != "remove")
    excluded_by_schedule = pl.col("_schedule").is_not_null() & (pl.col("action") == "commit")
    excluded_by_bottleneck = pl.col("_bottleneck").is_not_null() & (pl.col("action") == "resize")
    frame = frame.with_columns(
        (
            pl.col("_is_best")
            & (pl.col("action") != "investigate")
            & ~excluded_by_removal
            & ~excluded_by_schedule
            & ~excluded_by_bottleneck
        ).alias("counted"),
        pl.when(excluded_by_bottleneck)
        .then(pl.col("_bottleneck"))
        .when(~pl.col("_is_best"))
        .then(pl.col("_best_same_action"))
        .when(excluded_by_removal)
        .then(pl.col("_removal"))
        .when(excluded_by_schedule)
        .then(pl.col("_schedule"))
        .otherwise(None)
        .alias("alternative_to"),
    )

    # Stack counted resize -> schedule -> commit savings on what the earlier ones leave.
    stacks = pl.col("counted") & pl.col("_stage").is_between(1, 3)
    share = (
        pl.when(stacks & (pl.col("current_monthly_cost") > 0))
        .then((pl.col("monthly_savings") / pl.col("current_monthly_cost")).clip(0.0, 1.0))
        .otherwise(0.0)
    )
    frame = (
        frame.with_columns(share.alias("_share"))
        .sort(["_resource", "_stage", "_net"], descending=[False, False, True])
        .with_columns(
            (1.0 - pl.col("_share"))
            .cum_prod()
            .shift(1, fill_value=1.0)
            .over("_resource")
            .alias("_left")
        )
        .with_columns(
            pl.col("monthly_savings").alias("standalone_monthly_savings"),
            pl.when(stacks)
            .then(pl.col("monthly_savings") * pl.col("_left"))
            .otherwise(pl.col("monthly_savings"))
            .alias("monthly_savings"),
        )
    )
    return frame.drop(
        "_resource", "_net", "_stage", "_exclusive", "_best_same_action", "_is_best",
        "_removal", "_schedule", "_share", "_left", "_bottleneck",
    )  # fmt: skip


def _roi(frame: pl.LazyFrame, hourly_rate: float) -> pl.LazyFrame:
    cents = [pl.col(c).fill_null(0.0).round(2) for c in ("monthly_savings", "added_monthly_cost")]
    frame = frame.with_columns(
        cents[0].alias("monthly_savings"),
        cents[1].alias("added_monthly_cost"),
        pl.col("standalone_monthly_savings").fill_null(0.0).round(2),
        pl.col("upfront_cost").fill_null(0.0),
        pl.col("effort_hours").fill_null(0.0),
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
    )


def _priority(frame: pl.LazyFrame) -> pl.LazyFrame:
    net = pl.col("net_monthly_savings")
    payback = pl.col("payback_months").fill_null(0.0)
    risk = pl.col("risk")
    perf = pl.col("performance")
    pure_change = (
        (pl.col("upfront_cost") == 0)
        & (pl.col("added_monthly_cost") == 0)
        & (pl.col("effort_hours") <= PURE_CHANGE_MAX_EFFORT_HOURS)
        & (risk == "low")
    )
    priority = (
        pl.when(net <= 0)
        .then(pl.lit("Low"))
        .when(risk == "high")
        .then(
            pl.when(pl.col("roi_12m").fill_null(1e9) >= 5)
            .then(pl.lit("Medium"))
            .otherwise(pl.lit("Low"))
        )
        .when((perf == "improves") & (payback <= 12))
        .then(pl.lit("High"))
        .when(perf == "risk")
        .then(pl.when(payback <= 6).then(pl.lit("Medium")).otherwise(pl.lit("Low")))
        .when(pure_change)
        .then(pl.lit("High"))
        .when(((payback <= 3) & (risk == "low")) | (payback <= 1))
        .then(pl.lit("High"))
        .when(payback <= 12)
        .then(pl.lit("Medium"))
        .otherwise(pl.lit("Low"))
    )
    return frame.with_columns(priority.alias("priority"))


def _order(frame: pl.LazyFrame) -> pl.LazyFrame:
    return (
        frame.with_columns(
            pl.col("priority").replace_strict(PRIORITY_ORDER, return_dtype=pl.Int64).alias("_p")
        )
        .sort(
            ["counted", "_p", "net_monthly_savings", "finding_id"],
            descending=[True, False, True, False],
        )
        .with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank"),
            pl.lit(None, dtype=pl.String).alias("status"),
            pl.lit(None, dtype=pl.Int64).alias("weeks_open"),
        )
        .select([pl.col(c).cast(t) for c, t in schema.RANKED.items()])
    )


def summarize(
    findings: pl.DataFrame,
    bottlenecks: pl.DataFrame,
    *,
    hidden: int = 0,
    min_savings: float = 0.0,
) -> dict[str, Any]:
    """Totals over counted findings: what every renderer shows and a reader can re-add."""
    counted = findings.filter(pl.col("counted"))
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
    monthly = round(float(counted["net_monthly_savings"].sum()), 2)
    return {
        "findings": findings.height,
        "counted_findings": counted.height,
        "monthly_savings": monthly,
        "annual_savings": round(monthly * 12, 2),
        "by_family": by_family,
        "spend": None,
        "bottlenecks": bottlenecks.height,
        "bottleneck_monthly_cost": round(float(bottlenecks["added_monthly_cost"].sum()), 2),
        "hidden_below_min_savings": hidden,
        "min_savings": min_savings,
    }
