"""Commitments (compute part): savings plans / reserved instances for steady on-demand
instances, and spot for stateless Auto Scaling group members.

Both are ``commit`` findings: ranking applies them after any resize or schedule on the
same instance, and refuses to count a commitment on hours a schedule turns off. They are
emitted regardless, so the report can show them as alternatives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

import polars as pl

from costscan.policies._billing import (
    commitments,
    daily,
    distinct_starts,
    earliest,
    irregular_starts,
)
from costscan.policies._compute import (
    evidence,
    findings,
    hourly_coverage,
    lookback_hours,
    lookback_start,
    money,
    money_in,
    monthly,
    num,
    pct,
    price_evidence,
    rate,
    running_instances,
)
from costscan.policies._discounts import commitment_context, held_commitments
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.contracts.registry import policy
from costscan.scanner.contracts.units import HOURS_PER_MONTH
from costscan.scanner.contracts.vocab import Category, Change, CloudProvider, provider_of

ON_DEMAND = "on-demand"
_TRUTHY = ("true", "yes", "1", "y")

# --------------------------------------------------------------------------- savings plan / RI

SAVINGS_PLANS_PRICING = "https://aws.amazon.com/savingsplans/compute-pricing/"


# Discount of a 1-year, no-upfront Compute Savings Plan off on-demand. AWS publishes
# the committed rates per type and region on the Savings Plans pricing page
# (https://aws.amazon.com/savingsplans/compute-pricing/); for general-purpose
# families such as m5 in us-east-1 the 1-year no-upfront rate is about 28% below
# on-demand. EC2 Instance Savings Plans and Standard RIs
# (https://aws.amazon.com/ec2/pricing/reserved-instances/pricing/) give more (~35%)
# for less flexibility. Every commitment estimate uses it; set your own from a quote.
ONE_YEAR_NO_UPFRONT_DISCOUNT: Final = 0.28
# "Ran the whole lookback": in use for at least this share of its hours.
STEADY_SHARE: Final = 0.95


@dataclass(frozen=True)
class ComputeCommitmentParams:
    discount: float = ONE_YEAR_NO_UPFRONT_DISCOUNT
    # CPU datapoints in at least this share of the lookback's hours.
    min_coverage: float = STEADY_SHARE
    # Auto Scaling group members churn (instances are replaced), and they are the spot
    # policy's candidates; by default they are left to it.
    include_group_members: bool = False
    confidence: float = 0.75


@policy(
    id="commitments.compute-commitment",
    family="commitments",
    action="commit",
    title="Steady on-demand instance: cover it with a 1-year savings plan",
    needs=("compute", "utilization", "prices", "commitments"),
    effort_hours=1.0,
    risk="medium",
    performance="neutral",
    change=Change.PURCHASE_COMMITMENT,
    formula=(
        f"monthly_savings = (hourly_price × {HOURS_PER_MONTH:g} − covered by existing "
        "commitments) × discount"
    ),
)
def compute_commitment(inv: InventoryView, p: ComputeCommitmentParams) -> pl.LazyFrame:
    """Steady on-demand instances that ran the whole lookback: commit for a year.

    Flagged: a running on-demand instance (lifecycle ``on-demand``), not in an Auto
    Scaling group unless ``include_group_members``, launched before the lookback began
    (or with no launch time) and with CPU datapoints for at least ``min_coverage`` of
    the lookback's hours, so it ran throughout. A 1-year, no-upfront Compute Savings
    Plan (or reserved instance) at ``discount`` off is the estimate.

    Existing commitments first (the coverage gap): EC2 does not say which instance a
    reservation or savings plan covers, so Cost Explorer's coverage (the ``commitments``
    frame's ``kind="coverage"`` rows) is spent on the steady instances before anything
    new is recommended — conservatively, since steady instances are the ones a
    commitment surely applies to. Per account, region and instance type, the reserved
    hours a month (GetReservationCoverage) cover instances one after another (dearest
    first, then by id), 730 h each; then, per account, region and instance family, the
    spend savings plans covered (GetSavingsPlansCoverage) covers what is left, in
    dollars. Only the uncovered remainder is recommended; a fully covered instance gets
    no finding.

    Saving formula: uncovered = hourly_price × 730 − covered by existing commitments;
    monthly_savings = uncovered × discount (without coverage data: hourly_price × 730 ×
    discount). Break-even utilization = 1 − discount: the share of the term's hours the
    instance must run for the commitment to pay. Effective committed rate = hourly_price
    × (1 − discount). Risk is medium: the commitment lasts a year whatever happens. It is
    a ``commit`` finding on the instance, so ranking never commits capacity that a
    counted schedule turns off and stacks it after any resize (reports/ranking.py).

    Sources: AWS Savings Plans pricing, 1-year no-upfront committed rates
    (https://aws.amazon.com/savingsplans/compute-pricing/); Reserved Instance pricing
    (https://aws.amazon.com/ec2/pricing/reserved-instances/pricing/); AWS Cost Explorer
    bases its Savings Plans recommendations on steady on-demand usage over a lookback
    (https://docs.aws.amazon.com/savingsplans/latest/userguide/sp-recommendations.html).
    """
    start = lookback_start(inv)
    in_group = pl.col("group").is_not_null() & (pl.col("group") != "")
    steady = (
        running_instances(inv)
        .filter(
            # Savings plans and reserved instances are EC2's; Compute Engine's committed use
            # discounts price differently and have no twin here yet.
            (pl.col("provider") == CloudProvider.AWS)
            & (pl.col("lifecycle").str.to_lowercase() == ON_DEMAND)
            & (pl.lit(p.include_group_members) | ~in_group)
            & (
                pl.col("launch_time").is_null()
                | (pl.col("launch_time") <= pl.lit(start, dtype=schema.UTC_TS))
            )
        )
        .join(hourly_coverage(inv), on="resource_id", how="inner")
        .filter(pl.col("coverage") >= p.min_coverage)
    )
    steady = _net_of_existing_coverage(inv, steady).filter(pl.col("_uncovered_usd") > 0.005)
    # Never buy while a commitment that would cover this usage sits partly unused: the
    # unused part applies first (AWS applies existing commitments before new ones).
    context = commitment_context(inv, steady).select(
        "provider", "account_id", "region", "instance_type", "scope_underused"
    )
    steady = steady.join(
        context, on=["provider", "account_id", "region", "instance_type"], how="left"
    ).filter(~pl.col("scope_underused").fill_null(False))
    current = monthly(pl.col("hourly_price"))
    saving = pl.col("_uncovered_usd") * p.discount
    effective = pl.col("hourly_price") * (1.0 - p.discount)
    return findings(
        steady,
        detail=pl.format(
            "{} ({}) ran on demand for {} of the last {} hours at {}; existing commitments "
            "cover {} of its {} a month.",
            pl.col("resource_id"),
            pl.col("instance_type"),
            pl.col("hours_with_data"),
            pl.lit(lookback_hours(inv)),
            rate(pl.col("hourly_price")),
            money(current - pl.col("_uncovered_usd")),
            money(current),
        ),
        recommendation=pl.format(
            "Cover {} with a 1-year no-upfront Compute Savings Plan or reserved instance: "
            "{} instead of {}, saving {} a month; it pays while the instance runs more "
            "than {} of the hours.",
            pl.col("resource_id"),
            rate(effective),
            rate(pl.col("hourly_price")),
            money(saving),
            pct(pl.lit((1.0 - p.discount) * 100.0)),
        ),
        current_monthly_cost=current,
        monthly_savings=saving,
        # One purchase covers a family's steady instances in an account and region.
        group_key=pl.format("1-year commitment for {}", pl.col("family")),
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            hours_per_month=HOURS_PER_MONTH,
            price=price_evidence(
                pl.col("instance_type"), pl.col("hourly_price"), pl.col("price_source")
            ),
            commitment=pl.struct(
                term=pl.lit("1 year, no upfront"),
                discount=pl.lit(p.discount),
                discount_source=pl.lit(SAVINGS_PLANS_PRICING),
                effective_hourly_usd=effective,
                monthly_commitment_usd=pl.col("_uncovered_usd") * (1.0 - p.discount),
                break_even_utilization=pl.lit(1.0 - p.discount),
            ),
            existing_coverage=pl.struct(
                reserved_hours_applied=pl.col("_ri_hours"),
                savings_plan_usd_applied=pl.col("_sp_usd"),
                uncovered_monthly_usd=pl.col("_uncovered_usd"),
                source=pl.lit("AWS Cost Explorer GetReservationCoverage, GetSavingsPlansCoverage"),
            ),
            usage=pl.struct(
                hours_with_data=pl.col("hours_with_data"),
                expected_hours=pl.lit(lookback_hours(inv)),
                coverage=pl.col("coverage"),
                min_coverage=pl.lit(p.min_coverage),
                launch_time=pl.col("launch_time").dt.to_string("%Y-%m-%dT%H:%M:%SZ"),
            ),
        ),
    )


def _net_of_existing_coverage(inv: InventoryView, steady: pl.LazyFrame) -> pl.LazyFrame:
    """Add ``_ri_hours``, ``_sp_usd`` (existing coverage spent on each instance, a month)
    and ``_uncovered_usd`` (its monthly on-demand cost left for a new commitment)."""
    coverage = inv.lazy("commitments").filter(pl.col("kind") == "coverage")
    by_type = ["provider", "account_id", "region", "instance_type"]
    by_family = ["provider", "account_id", "region", "family"]
    reserved = (
        coverage.filter(pl.col("covered_by") == "ri")
        .group_by(by_type)
        .agg(pl.col("covered_hours").sum().alias("_ri_pool"))
    )
    planned = (
        coverage.filter(pl.col("covered_by") == "savings_plan")
        .group_by(by_family)
        .agg(pl.col("covered_cost").sum().alias("_sp_pool"))
    )
    own = monthly(pl.col("hourly_price"))
    # Each instance before this one in its group takes a full month of reserved hours.
    hours_before = pl.int_range(pl.len()).over(by_type) * HOURS_PER_MONTH
    ri_hours = (pl.col("_ri_pool").fill_null(0.0) - hours_before).clip(0.0, HOURS_PER_MONTH)
    left = own - pl.col("_ri_hours") * pl.col("hourly_price")
    usd_before = (pl.col("_left").cum_sum() - pl.col("_left")).over(by_family)
    sp_usd = pl.min_horizontal(
        (pl.col("_sp_pool").fill_null(0.0) - usd_before).clip(lower_bound=0.0), pl.col("_left")
    )
    return (
        steady.join(reserved, on=by_type, how="left", nulls_equal=True)
        .join(planned, on=by_family, how="left", nulls_equal=True)
        # Dearest first, then by id: a stable order, so reruns allocate the same way.
        .sort(["hourly_price", "resource_id"], descending=[True, False])
        .with_columns(ri_hours.alias("_ri_hours"))
        .with_columns(left.alias("_left"))
        .with_columns(sp_usd.alias("_sp_usd"))
        .with_columns((pl.col("_left") - pl.col("_sp_usd")).alias("_uncovered_usd"))
    )


# --------------------------------------------------------------------------- spot


@dataclass(frozen=True)
class SpotParams:
    # A spot price below a tenth of on-demand is not believed (offline fakes answer
    # 0.00001 $/h; real spot discounts top out at "up to 90%",
    # https://aws.amazon.com/ec2/spot/pricing/).
    min_believable_fraction: float = 0.1
    # Without a believable observed price: the discount assumed. AWS advertises up to
    # 90% off on-demand; the Spot Instance Advisor lists per-type savings, commonly
    # 60-90% for general-purpose types (https://aws.amazon.com/ec2/spot/instance-advisor/).
    # 60% is the conservative end.
    typical_discount: float = 0.6
    # Tag keys whose truthy value ("true", "yes", "1") says the workload is stateless.
    stateless_tag_keys: tuple[str, ...] = ("stateless",)
    confidence_observed: float = 0.6
    confidence_typical: float = 0.4
    stateless_tag_bonus: float = 0.1


@policy(
    id="commitments.spot",
    family="commitments",
    action="commit",
    title="Auto Scaling group member on demand: run it on spot",
    needs=("compute", "prices", "spot_prices", "tags"),
    effort_hours=8.0,
    risk="high",
    performance="risk",
    change=Change.MOVE_TO_SPOT,
    formula=(
        f"monthly_savings = (on_demand_hourly - spot_hourly) × {HOURS_PER_MONTH:g}; "
        f"without a believable spot price: on_demand_hourly × {HOURS_PER_MONTH:g} × "
        "typical_discount"
    ),
)
def spot(inv: InventoryView, p: SpotParams) -> pl.LazyFrame:
    """On-demand members of Auto Scaling groups: stateless capacity that can run on spot.

    Flagged: a running on-demand instance in an Auto Scaling group (``group`` set: a
    group replaces its members at will, so they usually keep no state of their own; a
    truthy ``stateless_tag_keys`` tag says so explicitly and raises the confidence by
    ``stateless_tag_bonus``). Priced from the latest observed
    spot price for its type in its region (the minimum over availability zones). A spot
    price below ``min_believable_fraction`` of on-demand is not believed, and neither is
    a missing one: ``typical_discount`` applies instead, at ``confidence_typical``. An
    observed spot price at or above on-demand gives no finding. Risk is high: spot
    capacity can be reclaimed with two minutes' notice.

    Saving formula: monthly_savings = (on-demand hourly − spot hourly) × 730; without a
    believable spot price, monthly_savings = on-demand hourly × 730 × typical_discount.

    Sources: EC2 Spot pricing and the two-minute interruption notice
    (https://aws.amazon.com/ec2/spot/pricing/,
    https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-interruptions.html); the
    Spot Instance Advisor's savings over on-demand per type
    (https://aws.amazon.com/ec2/spot/instance-advisor/); Auto Scaling groups mixing
    on-demand and spot
    (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-mixed-instances-groups.html).
    """
    # EC2 Auto Scaling groups and spot prices; a managed instance group on Spot VMs would
    # need a twin of its own.
    members = running_instances(inv).filter(
        (pl.col("provider") == CloudProvider.AWS)
        & (pl.col("lifecycle").str.to_lowercase() == ON_DEMAND)
        & pl.col("group").is_not_null()
        & (pl.col("group") != "")
    )
    latest_per_zone = (
        inv.lazy("spot_prices")
        .group_by("provider", "region", "availability_zone", "instance_type")
        .agg(pl.col("hourly_price").sort_by("ts").last(), pl.col("ts").max())
    )
    spot_prices = (
        latest_per_zone.sort("hourly_price", "availability_zone")
        .group_by("provider", "region", "instance_type")
        .agg(
            pl.col("hourly_price").first().alias("spot_hourly"),
            pl.col("availability_zone").first().alias("spot_zone"),
            pl.col("ts").first().alias("spot_as_of"),
        )
    )
    hinted = (
        inv.lazy("tags")
        .filter(
            pl.col("key").str.to_lowercase().is_in([k.lower() for k in p.stateless_tag_keys])
            & pl.col("value").str.to_lowercase().is_in(_TRUTHY)
        )
        .select("resource_id")
        .unique()
        .with_columns(pl.lit(True).alias("_hinted"))
    )
    observed = pl.col("spot_hourly").is_not_null()
    believed = observed & (
        pl.col("spot_hourly") >= pl.col("hourly_price") * p.min_believable_fraction
    )
    priced = (
        members.join(spot_prices, on=["provider", "region", "instance_type"], how="left")
        .join(hinted, on="resource_id", how="left")
        .with_columns(
            believed.alias("_believed"),
            pl.col("_hinted").fill_null(False),
        )
        .filter(~pl.col("_believed") | (pl.col("spot_hourly") < pl.col("hourly_price")))
        .with_columns(
            pl.when(pl.col("_believed"))
            .then(pl.col("spot_hourly"))
            .otherwise(pl.col("hourly_price") * (1.0 - p.typical_discount))
            .alias("_spot_used")
        )
    )
    current = monthly(pl.col("hourly_price"))
    saving = monthly(pl.col("hourly_price") - pl.col("_spot_used"))
    base_confidence = (
        pl.when(pl.col("_believed"))
        .then(pl.lit(p.confidence_observed))
        .otherwise(pl.lit(p.confidence_typical))
    )
    price_text = (
        pl.when(pl.col("_believed"))
        .then(pl.format("spot {} in {}", rate(pl.col("spot_hourly")), pl.col("spot_zone")))
        .when(observed)
        .then(
            pl.format(
                "observed spot {} not believed (under {} of on-demand); assumed {} off",
                rate(pl.col("spot_hourly")),
                pct(pl.lit(p.min_believable_fraction * 100.0)),
                pct(pl.lit(p.typical_discount * 100.0)),
            )
        )
        .otherwise(
            pl.format(
                "no spot price observed; assumed {} off", pct(pl.lit(p.typical_discount * 100.0))
            )
        )
    )
    return findings(
        priced,
        detail=pl.format(
            "{} ({}) is an on-demand member of Auto Scaling group {} at {}; {}.",
            pl.col("resource_id"),
            pl.col("instance_type"),
            pl.col("group"),
            rate(pl.col("hourly_price")),
            price_text,
        ),
        recommendation=pl.format(
            "Run group {} on spot (a mixed instances policy with several types) if its "
            "members are stateless; saves {} a month for {}.",
            pl.col("group"),
            money(saving),
            pl.col("resource_id"),
        ),
        current_monthly_cost=current,
        monthly_savings=saving,
        confidence=pl.min_horizontal(
            base_confidence
            + pl.when(pl.col("_hinted")).then(pl.lit(p.stateless_tag_bonus)).otherwise(0.0),
            pl.lit(1.0),
        ),
        price_source=pl.col("price_source"),
        evidence=evidence(
            hours_per_month=HOURS_PER_MONTH,
            on_demand=price_evidence(
                pl.col("instance_type"), pl.col("hourly_price"), pl.col("price_source")
            ),
            spot=pl.struct(
                observed_hourly_usd=pl.col("spot_hourly"),
                availability_zone=pl.col("spot_zone"),
                as_of=pl.col("spot_as_of").dt.to_string("%Y-%m-%dT%H:%M:%SZ"),
                believed=pl.col("_believed"),
                used_hourly_usd=pl.col("_spot_used"),
                basis=pl.when(pl.col("_believed"))
                .then(pl.lit("observed"))
                .otherwise(pl.lit("typical_discount")),
            ),
            sanity=pl.struct(
                min_believable_fraction=pl.lit(p.min_believable_fraction),
                typical_discount=pl.lit(p.typical_discount),
            ),
            group=pl.col("group"),
            stateless_tag=pl.col("_hinted"),
        ),
    )


# --------------------------------------------------------------------------- commitments held

# AWS Cost Explorer's RI and Savings Plans utilization reports flag a commitment below a
# target utilization, and AWS Budgets' reservation budgets alert on the same figure
# (https://docs.aws.amazon.com/cost-management/latest/userguide/ce-ris.html,
# https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-create.html);
# 80% is the common target in FinOps practice (https://www.finops.org/framework/).
UTILIZATION_ALERT: Final = 0.8
ACTIVE_STATES: Final = ("active", "payment-pending", "queued")
# FOCUS PricingCategory values for usage at list rates (1.0+ "Standard"; older exports
# and some converters write "On-Demand").
ON_DEMAND_PRICING: Final = ("Standard", "On-Demand")


def _active(now: pl.Expr) -> pl.Expr:
    return (pl.col("state").is_null() | pl.col("state").str.to_lowercase().is_in(ACTIVE_STATES)) & (
        pl.col("expires").is_null() | (pl.col("expires") > now)
    )


def _billed_commitment_ids(inv: InventoryView) -> pl.LazyFrame:
    """Commitment ids the billing data accounts for (the ARN's last segment)."""
    return (
        commitments(inv)
        .filter(pl.col("CommitmentDiscountStatus") == "Unused")
        .select(pl.col("CommitmentDiscountId").str.split("/").list.last().alias("resource_id"))
        .drop_nulls()
        .unique()
    )


# The Reserved Instance Marketplace keeps 12% of the upfront price a seller receives.
# https://aws.amazon.com/ec2/pricing/reserved-instances/marketplace/
MARKETPLACE_FEE: Final = 0.12
# A reservation can be listed once active for 30 days and with at least a month to run.
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ri-market-general.html
MARKETPLACE_MIN_AGE: Final = timedelta(days=30)
MARKETPLACE_MIN_LEFT: Final = timedelta(days=31)


@dataclass(frozen=True)
class UnderusedCommitmentParams:
    min_utilization: float = UTILIZATION_ALERT
    confidence: float = 0.9


@dataclass(frozen=True)
class RecoverCommitmentParams:
    min_utilization: float = UTILIZATION_ALERT
    # A convertible reservation is exchanged on AWS's own terms: the recovery is sure
    # where uncovered on-demand usage exists to exchange into.
    confidence_exchange: float = 0.75
    # A Marketplace sale needs a buyer at the seller's price: below the default confidence
    # floor, so it is a possible saving, shown apart from the headline.
    confidence_sale: float = 0.4


def _unused_commitments(inv: InventoryView, min_utilization: float) -> pl.LazyFrame:
    """Active commitments Cost Explorer measures below ``min_utilization``, with what a
    real mechanism recovers of their unused cost a month (``_recoverable``: a convertible
    reservation exchanged into the account's uncovered on-demand usage; a standard one sold
    on the Marketplace) and ``_unused`` (monthly commitment × (1 − utilization))."""
    now = inv.context.now
    moment = pl.lit(now, dtype=schema.UTC_TS)
    held = (
        held_commitments(inv)
        .filter(
            _active(moment)
            & pl.col("utilization").is_not_null()
            & (pl.col("utilization") < min_utilization)
            & (pl.col("monthly_commitment") > 0)
        )
        .join(_billed_commitment_ids(inv), on="resource_id", how="anti")
    )
    # The account's on-demand EC2 spend no reservation covers (Cost Explorer coverage).
    uncovered = (
        inv.lazy("commitments")
        .filter((pl.col("kind") == "coverage") & (pl.col("covered_by") == "ri"))
        .group_by("provider", "account_id")
        .agg(pl.col("on_demand_cost").sum().alias("_account_on_demand"))
    )
    unused = pl.col("monthly_commitment") * (1.0 - pl.col("utilization").clip(0.0, 1.0))
    is_ri = pl.col("kind") == "ri"
    convertible = is_ri & (
        pl.col("offering_class").fill_null("").str.to_lowercase() == "convertible"
    )
    sellable = (
        is_ri
        & ~convertible
        & (pl.col("start").is_null() | (pl.col("start") <= pl.lit(now - MARKETPLACE_MIN_AGE)))
        & (pl.col("expires").is_null() | (pl.col("expires") >= pl.lit(now + MARKETPLACE_MIN_LEFT)))
    )
    # The upfront payment left in the term, which a buyer pays the seller for, less the fee.
    remaining_share = (
        (pl.col("expires") - moment).dt.total_seconds()
        / (pl.col("expires") - pl.col("start")).dt.total_seconds()
    ).clip(0.0, 1.0)
    proceeds = (
        pl.col("upfront_cost").fill_null(0.0)
        * (1.0 - pl.col("utilization").clip(0.0, 1.0))
        * remaining_share.fill_null(0.0)
        * (1.0 - MARKETPLACE_FEE)
    )
    return (
        held.join(uncovered, on=["provider", "account_id"], how="left")
        .with_columns(
            unused.alias("_unused"),
            pl.when(convertible)
            .then(pl.lit("exchange"))
            .when(sellable)
            .then(pl.lit("sell"))
            .otherwise(None)
            .alias("_mechanism"),
            proceeds.alias("_sale_proceeds"),
        )
        .with_columns(
            pl.when(pl.col("_mechanism") == "exchange")
            .then(pl.min_horizontal("_unused", pl.col("_account_on_demand").fill_null(0.0)))
            # A sold reservation's recurring fees pass to the buyer.
            .when(pl.col("_mechanism") == "sell")
            .then(pl.col("_unused"))
            .otherwise(0.0)
            .alias("_recoverable")
        )
    )


def _what_commitment() -> pl.Expr:
    return (
        pl.when(pl.col("kind") == "ri")
        .then(
            pl.format(
                "{} reserved instance ({} × {})",
                pl.col("offering_class").fill_null(""),
                pl.col("instance_count"),
                pl.col("instance_type"),
            )
        )
        .otherwise(pl.format("{} savings plan", pl.col("offering_class").fill_null("")))
    )


def _measured_evidence(min_utilization: float) -> dict[str, pl.Expr]:
    return {
        "commitment": _commitment_evidence(),
        "utilization": pl.col("utilization"),
        "min_utilization": pl.lit(min_utilization),
        "measured": pl.struct(
            source=pl.lit("AWS Cost Explorer utilization"),
            period_start=pl.col("period_start").dt.to_string("%Y-%m-%d"),
            period_end=pl.col("period_end").dt.to_string("%Y-%m-%d"),
        ),
    }


@policy(
    id="commitments.underused",
    family="commitments",
    action="configure",
    title="Commitment paid for but partly unused",
    needs=("commitments", "billing"),
    effort_hours=2.0,
    risk="low",
    performance="neutral",
    change=Change.RECOVER_COMMITMENT,
    category=Category.WASTE,
    formula="waste = monthly_commitment × (1 − utilization) − what an exchange recovers",
)
def underused(inv: InventoryView, p: UnderusedCommitmentParams) -> pl.LazyFrame:
    """Active reservations and savings plans used below ``min_utilization``: the part of
    their cost that pays for nothing, which no mechanism recovers. Waste, not savings.

    Utilization is Cost Explorer's over the lookback (used hours / purchased hours for a
    reservation, used / total commitment for a savings plan); the monthly commitment is
    the amortized cost (upfront spread over the term plus recurring fees).

    Waste formula: waste = monthly_commitment × (1 − utilization) − exchanged, where
    exchanged is what ``commitments.recover-unused`` counts for a convertible reservation
    exchanged into uncovered usage (a Marketplace sale of a standard one needs a buyer, so
    its unused part stays waste until sold). A savings
    plan can be neither sold nor exchanged: its unused part is waste until it ends, shown
    with its end date and kept out of the savings. Commitments the billing data also
    shows are left to ``commitments.unused-billing`` (actual cost wins), so nothing
    counts twice.

    Threshold source: AWS Cost Explorer RI and Savings Plans utilization reports and AWS
    Budgets reservation alerts
    (https://docs.aws.amazon.com/cost-management/latest/userguide/ce-ris.html); 80% is
    the common target (FinOps Foundation, https://www.finops.org/framework/). Savings
    Plans cannot be cancelled, sold or exchanged
    (https://docs.aws.amazon.com/savingsplans/latest/userguide/sp-faq.html).
    """
    held = _unused_commitments(inv, p.min_utilization)
    # Only a sure mechanism (an exchange) takes money out of the waste; a Marketplace sale
    # needs a buyer, so until it happens the unused part is still paid for nothing.
    exchanged = pl.when(pl.col("_mechanism") == "exchange").then(pl.col("_recoverable"))
    waste = (pl.col("_unused") - exchanged.otherwise(0.0)).clip(lower_bound=0.0)
    return held.filter(waste > 0.005).select(
        *[pl.col(c) for c in schema.IDENTITY_COLUMNS],
        pl.format(
            "{} {} is {} used: {} of its {} a month pays for nothing until it ends ({}).",
            _what_commitment(),
            pl.col("resource_id"),
            pct(pl.col("utilization") * 100.0),
            money(waste),
            money(pl.col("monthly_commitment")),
            pl.col("expires").dt.to_string("%Y-%m-%d"),
        ).alias("detail"),
        pl.when(pl.col("kind") == "ri")
        .then(pl.lit("Fit running instances to it (Availability Zone, size within the family)"))
        .otherwise(pl.lit("Move eligible usage onto it, and commit less when it renews"))
        .alias("recommendation"),
        pl.col("monthly_commitment").alias("current_monthly_cost"),
        waste.alias("monthly_savings"),
        pl.lit(p.confidence).alias("confidence"),
        pl.lit("live").alias("price_source"),
        pl.col("expires").dt.date().alias("savings_start"),
        evidence(
            **_measured_evidence(p.min_utilization),
            unused_monthly=pl.col("_unused"),
            recoverable_monthly=pl.col("_recoverable"),
            mechanism=pl.col("_mechanism"),
        ).alias("evidence"),
    )


@policy(
    id="commitments.recover-unused",
    family="commitments",
    action="configure",
    title="Unused reservation: exchange or sell it",
    needs=("commitments", "billing"),
    effort_hours=2.0,
    risk="low",
    performance="neutral",
    change=Change.RECOVER_COMMITMENT,
    formula=(
        "convertible: monthly_savings = min(unused, uncovered on-demand spend of the account); "
        "standard: monthly_savings = unused recurring fees (they pass to the buyer)"
    ),
)
def recover_unused(inv: InventoryView, p: RecoverCommitmentParams) -> pl.LazyFrame:
    """The part of an under-used reservation a real mechanism recovers.

    - A convertible reservation is exchanged for one that matches running instances no
      reservation covers: the unused commitment then pays for usage that now bills on
      demand. monthly_savings = min(unused monthly commitment, the account's uncovered
      on-demand EC2 spend (Cost Explorer reservation coverage)).
    - A standard reservation active for 30 days with a month left is sold on the Reserved
      Instance Marketplace: its recurring fees pass to the buyer (monthly_savings = the
      unused share of the monthly commitment), and the buyer pays an upfront price, of
      which AWS keeps 12%; the evidence shows the upfront value left in the unused share
      net of the fee (not counted: one-time, and a sale needs a buyer, hence a confidence
      under the floor: a possible saving).
    - Savings plans have no such mechanism (see ``commitments.underused``).

    Sources: exchanges, https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ri-convertible-exchange.html;
    the Marketplace and its 12% fee, https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ri-market-general.html
    and https://aws.amazon.com/ec2/pricing/reserved-instances/marketplace/; the 80%
    utilization line, AWS Cost Explorer utilization reports
    (https://docs.aws.amazon.com/cost-management/latest/userguide/ce-ris.html).
    """
    held = _unused_commitments(inv, p.min_utilization).filter(pl.col("_recoverable") > 0.005)
    selling = pl.col("_mechanism") == "sell"
    return held.select(
        *[pl.col(c) for c in schema.IDENTITY_COLUMNS],
        pl.format(
            "{} {} is {} used; {} of its {} a month can be recovered.",
            _what_commitment(),
            pl.col("resource_id"),
            pct(pl.col("utilization") * 100.0),
            money(pl.col("_recoverable")),
            money(pl.col("monthly_commitment")),
        ).alias("detail"),
        pl.when(selling)
        .then(
            pl.format(
                "List the unused share on the Reserved Instance Marketplace: its recurring "
                "fees pass to the buyer ({} a month); the upfront value left, net of the 12% "
                "fee, is about {} once.",
                money(pl.col("_recoverable")),
                money(pl.col("_sale_proceeds")),
            )
        )
        .otherwise(
            pl.format(
                "Exchange it for convertible reservations that match instances running on "
                "demand; saves {} a month.",
                money(pl.col("_recoverable")),
            )
        )
        .alias("recommendation"),
        pl.col("monthly_commitment").alias("current_monthly_cost"),
        pl.col("_recoverable").alias("monthly_savings"),
        pl.when(selling)
        .then(pl.lit(p.confidence_sale))
        .otherwise(pl.lit(p.confidence_exchange))
        .alias("confidence"),
        pl.lit("live").alias("price_source"),
        evidence(
            **_measured_evidence(p.min_utilization),
            mechanism=pl.col("_mechanism"),
            unused_monthly=pl.col("_unused"),
            account_uncovered_on_demand_monthly=pl.col("_account_on_demand"),
            marketplace_fee=pl.lit(MARKETPLACE_FEE),
            sale_proceeds_once=pl.col("_sale_proceeds"),
        ).alias("evidence"),
    )


def _commitment_evidence() -> pl.Expr:
    return pl.struct(
        kind=pl.col("kind"),
        offering_class=pl.col("offering_class"),
        payment_option=pl.col("payment_option"),
        term=pl.col("term"),
        instance_type=pl.col("instance_type"),
        family=pl.col("family"),
        instance_count=pl.col("instance_count"),
        monthly_commitment_usd=pl.col("monthly_commitment"),
        expires=pl.col("expires").dt.to_string("%Y-%m-%dT%H:%M:%SZ"),
    )


@dataclass(frozen=True)
class ExpiringCommitmentParams:
    within_days: int = 30
    # Cost Explorer measured the on-demand equivalent: high; estimated from list prices
    # assuming full use: lower.
    confidence_measured: float = 0.8
    confidence_list_price: float = 0.6


@policy(
    id="commitments.expiring",
    family="commitments",
    action="configure",
    title="Reservation or savings plan expires soon",
    needs=("commitments", "prices"),
    effort_hours=1.0,
    risk="low",
    performance="neutral",
    change=Change.RENEW_COMMITMENT,
    category=Category.COST_AVOIDANCE,
    formula=(
        "monthly_savings = on_demand_equivalent − monthly_commitment × utilization; "
        f"without Cost Explorer: instance_count × {HOURS_PER_MONTH:g} × "
        "on_demand_hourly − monthly_commitment"
    ),
)
def expiring(inv: InventoryView, p: ExpiringCommitmentParams) -> pl.LazyFrame:
    """Active reservations and savings plans that expire within ``within_days``.

    When a commitment ends, the usage it covered goes back to on-demand rates. Renewing
    the used part (not the unused part: see ``commitments.underused``) avoids that.

    Saving formula: monthly_savings = on-demand premium avoided = covered usage ×
    (on-demand − committed rate) = on_demand_equivalent − monthly_commitment ×
    utilization, with Cost Explorer's on-demand equivalent and utilization over the
    lookback. Without them (reserved instances only): instance_count × 730 ×
    on-demand hourly list price − monthly_commitment, assuming full use, at lower
    confidence. No finding when renewing would not pay.

    Threshold source: AWS Cost Explorer's reservation expiration alerts notify 7, 30 and
    60 days ahead (https://docs.aws.amazon.com/cost-management/latest/userguide/ce-ris.html);
    30 days leaves time to compare offers.
    """
    now = inv.context.now
    horizon = now + timedelta(days=p.within_days)
    prices = (
        inv.lazy("prices")
        .group_by("provider", "region", "instance_type")
        .agg(
            pl.col("hourly_price").min().alias("_list_hourly"),
            pl.col("reference").first().alias("_list_reference"),
        )
    )
    measured = pl.col("on_demand_equivalent").is_not_null() & pl.col("utilization").is_not_null()
    estimated = (pl.col("kind") == "ri") & pl.col("_list_hourly").is_not_null()
    premium = (
        pl.when(measured)
        .then(
            pl.col("on_demand_equivalent")
            - pl.col("monthly_commitment") * pl.col("utilization").clip(0.0, 1.0)
        )
        .when(estimated)
        .then(
            pl.col("instance_count") * HOURS_PER_MONTH * pl.col("_list_hourly")
            - pl.col("monthly_commitment")
        )
    )
    held = (
        held_commitments(inv)
        .filter(
            _active(pl.lit(now, dtype=schema.UTC_TS))
            & (pl.col("expires") <= pl.lit(horizon, dtype=schema.UTC_TS))
        )
        .join(prices, on=["provider", "region", "instance_type"], how="left")
        .with_columns(premium.alias("_premium"))
        .filter(pl.col("_premium") > 0.005)
    )
    days_left = (pl.col("expires") - pl.lit(now, dtype=schema.UTC_TS)).dt.total_hours() / 24.0
    return held.select(
        *[pl.col(c) for c in schema.IDENTITY_COLUMNS],
        pl.format(
            "{} {} expires on {} (in {} days); the usage it covers would then cost {} more "
            "a month on demand.",
            pl.col("kind").replace({"ri": "Reserved instance", "savings_plan": "Savings plan"}),
            pl.col("resource_id"),
            pl.col("expires").dt.to_string("%Y-%m-%d"),
            num(days_left),
            money(pl.col("_premium")),
        ).alias("detail"),
        pl.format(
            "Renew {} for the part in use before {} (compare a savings plan); saves {} a "
            "month against on-demand.",
            pl.col("resource_id"),
            pl.col("expires").dt.to_string("%Y-%m-%d"),
            money(pl.col("_premium")),
        ).alias("recommendation"),
        pl.col("monthly_commitment").alias("current_monthly_cost"),
        pl.col("_premium").alias("monthly_savings"),
        pl.when(measured)
        .then(pl.lit(p.confidence_measured))
        .otherwise(pl.lit(p.confidence_list_price))
        .alias("confidence"),
        pl.when(measured).then(pl.lit("live")).otherwise(pl.lit("bundled")).alias("price_source"),
        evidence(
            commitment=_commitment_evidence(),
            expires=pl.col("expires").dt.to_string("%Y-%m-%dT%H:%M:%SZ"),
            days_left=days_left,
            within_days=pl.lit(p.within_days),
            basis=pl.when(measured).then(pl.lit("cost_explorer")).otherwise(pl.lit("list_price")),
            on_demand_equivalent_usd=pl.col("on_demand_equivalent"),
            utilization=pl.col("utilization"),
            list_price=pl.struct(
                hourly_usd=pl.col("_list_hourly"), reference=pl.col("_list_reference")
            ),
        ).alias("evidence"),
    )


# --------------------------------------------------------------------------- billing (FOCUS)


def _focus_identity() -> list[pl.Expr]:
    return [
        provider_of(pl.col("ProviderName")).alias("provider"),
        pl.coalesce("SubAccountId", "BillingAccountId").alias("account_id"),
        pl.col("RegionId").alias("region"),
    ]


@dataclass(frozen=True)
class UnusedCommitmentBillingParams:
    min_utilization: float = UTILIZATION_ALERT
    confidence: float = 0.8


@policy(
    id="commitments.unused-billing",
    family="commitments",
    action="configure",
    title="Commitment paid for but unused (billing)",
    needs=("billing",),
    effort_hours=2.0,
    risk="low",
    performance="neutral",
    change=Change.RECOVER_COMMITMENT,
    category=Category.WASTE,
    formula=(
        "monthly_savings = Σ EffectiveCost(CommitmentDiscountStatus = Unused) × "
        f"{HOURS_PER_MONTH:g} / billed_hours"
    ),
)
def unused_billing(inv: InventoryView, p: UnusedCommitmentBillingParams) -> pl.LazyFrame:
    """Commitments (RIs, savings plans, CUDs, reservations) whose billed cost went unused.

    From FOCUS rows with a CommitmentDiscountId: per commitment, the EffectiveCost of
    rows with CommitmentDiscountStatus "Unused" (the commitment's cost no usage
    consumed) and "Used". Utilization = used / (used + unused). Flagged below
    ``min_utilization``. Figures scale from the commitment's billed span (earliest
    ChargePeriodStart to latest ChargePeriodEnd) to a 730-hour month.

    Saving formula: monthly_savings = Σ EffectiveCost(Unused) × 730 / billed hours; the
    current cost is Σ EffectiveCost(Used + Unused) scaled the same way.

    Threshold source: AWS Cost Explorer utilization reports and AWS Budgets reservation
    alerts (https://docs.aws.amazon.com/cost-management/latest/userguide/ce-ris.html);
    80% is the common target (FinOps Foundation, https://www.finops.org/framework/).
    FOCUS columns: https://focus.finops.org/focus-specification/.
    """
    status = pl.col("CommitmentDiscountStatus")
    # From the rollup's commitment table (policies/_billing.py): a row per commitment and
    # status, so the descriptive columns come from the earliest row that has them.
    per_commitment = (
        commitments(inv)
        .filter(status.is_in(["Used", "Unused"]))
        .group_by("CommitmentDiscountId")
        .agg(
            pl.col("effective_cost").filter(status == "Unused").sum().alias("_unused"),
            pl.col("effective_cost").filter(status == "Used").sum().alias("_used"),
            pl.col("first_start").min().alias("_start"),
            pl.col("last_end").max().alias("_end"),
            *[
                earliest(c, ignore_nulls=True)
                for c in (
                    "ProviderName",
                    "SubAccountId",
                    "BillingAccountId",
                    "RegionId",
                    "CommitmentDiscountType",
                    "CommitmentDiscountCategory",
                )
            ],
        )
    )
    hours = (pl.col("_end") - pl.col("_start")).dt.total_seconds() / 3600.0
    scale = HOURS_PER_MONTH / hours
    total = pl.col("_used") + pl.col("_unused")
    flagged = (
        per_commitment.with_columns(
            (pl.col("_used") / total).alias("_utilization"), hours.alias("_hours")
        )
        .filter(
            (pl.col("_unused") > 0)
            & (pl.col("_hours") > 0)
            & (pl.col("_utilization") < p.min_utilization)
        )
        .with_columns((pl.col("_unused") * scale).alias("_monthly_unused"))
    )
    return flagged.select(
        *_focus_identity(),
        pl.col("CommitmentDiscountId").alias("resource_id"),
        pl.col("CommitmentDiscountId").str.split("/").list.last().alias("resource_name"),
        pl.col("CommitmentDiscountType").alias("resource_type"),
        pl.format(
            "{} {} was {} used over {} billed hours: {} of it went unused ({} a month).",
            pl.col("CommitmentDiscountType").fill_null("Commitment"),
            pl.col("CommitmentDiscountId"),
            pct(pl.col("_utilization") * 100.0),
            num(pl.col("_hours")),
            money(pl.col("_unused")),
            money(pl.col("_monthly_unused")),
        ).alias("detail"),
        pl.format(
            "Put usage on it, or resize it: sell or exchange a reservation, commit less at "
            "renewal; recovers up to {} a month.",
            money(pl.col("_monthly_unused")),
        ).alias("recommendation"),
        (total * scale).alias("current_monthly_cost"),
        pl.col("_monthly_unused").alias("monthly_savings"),
        pl.lit(p.confidence).alias("confidence"),
        pl.lit("billing").alias("price_source"),
        evidence(
            unused_effective_cost=pl.col("_unused"),
            used_effective_cost=pl.col("_used"),
            utilization=pl.col("_utilization"),
            min_utilization=pl.lit(p.min_utilization),
            billed_hours=pl.col("_hours"),
            period_start=pl.col("_start").dt.to_string("%Y-%m-%dT%H:%M:%SZ"),
            period_end=pl.col("_end").dt.to_string("%Y-%m-%dT%H:%M:%SZ"),
            category=pl.col("CommitmentDiscountCategory"),
        ).alias("evidence"),
    )


# Each cloud's own published commitment pricing, for the findings of its resources.
# Azure: a 1-year savings plan for compute. Microsoft publishes savings per meter, "up to
# 65%" at three years (https://azure.microsoft.com/pricing/offers/savings-plan-compute/)
# and reservations "up to 72%" (https://azure.microsoft.com/pricing/reserved-vm-instances/);
# no single one-year figure. 0.28 is the planning figure: at or below the one-year
# reservation discounts Microsoft quotes (up to 56% with its 2024 Linux offer, which adds
# up to 15% to them, https://learn.microsoft.com/azure/cost-management-billing/reservations/limited-time-linux).
# Set your own from the Azure pricing calculator.
AZURE_SAVINGS_PLAN_PRICING = "https://azure.microsoft.com/pricing/offers/savings-plan-compute/"
AZURE_ONE_YEAR_DISCOUNT: Final = 0.28
# GCP: a 1-year Compute flexible (spend-based) committed use discount, a flat 28% off
# on-demand (46% for 3 years) across machine families and regions, where resource-based
# CUDs give up to 57% for one machine series
# (https://cloud.google.com/compute/docs/instances/committed-use-discounts-overview).
GCP_CUD_PRICING = "https://cloud.google.com/compute/docs/instances/committed-use-discounts-overview"
GCP_ONE_YEAR_DISCOUNT: Final = 0.28
# A commitment is a year: a resource billed on fewer days than this in the export is not
# steady use yet, whatever its share of those days. AWS Cost Explorer's shortest lookback
# for Savings Plans recommendations is 7 days
# (https://docs.aws.amazon.com/savingsplans/latest/userguide/sp-recommendations.html).
MIN_DAYS_BILLED = 7


@dataclass(frozen=True)
class OnDemandBillingParams:
    # AWS: 1-year no-upfront Compute Savings Plan (SAVINGS_PLANS_PRICING).
    discount: float = ONE_YEAR_NO_UPFRONT_DISCOUNT
    azure_discount: float = AZURE_ONE_YEAR_DISCOUNT
    gcp_discount: float = GCP_ONE_YEAR_DISCOUNT
    # Billed on demand in at least this share of the export's whole period.
    min_hour_share: float = STEADY_SHARE
    min_days: int = MIN_DAYS_BILLED
    service_categories: tuple[str, ...] = ("Compute",)
    confidence: float = 0.75


@policy(
    id="commitments.on-demand-billing",
    family="commitments",
    action="commit",
    title="Steady on-demand spend a commitment would cover (billing)",
    needs=("billing",),
    effort_hours=1.0,
    risk="medium",
    performance="neutral",
    change=Change.PURCHASE_COMMITMENT,
    formula=(f"monthly_savings = Σ EffectiveCost × {HOURS_PER_MONTH:g} / period_hours × discount"),
)
def on_demand_billing(inv: InventoryView, p: OnDemandBillingParams) -> pl.LazyFrame:
    """Resources billed on demand nearly every hour: a 1-year commitment would cover them.

    From FOCUS usage rows (ChargeCategory "Usage") at list rates (PricingCategory
    "Standard", or "On-Demand" in older exports) with a ResourceId, in
    ``service_categories``: per resource, the hours billed (distinct charge periods ×
    their length) and the on-demand EffectiveCost. Steady = billed in at least
    ``min_hour_share`` of the export's whole period (earliest ChargePeriodStart to latest
    ChargePeriodEnd over every line item, whatever its charge), and on at least
    ``min_days`` distinct days: one day of a capacity reservation in a month's export is
    not a year's steady use. Usage a commitment already covers is "Committed" and never
    counted. One aggregation over the rollup, then findings.

    Saving formula: monthly on-demand = Σ EffectiveCost × 730 / period hours;
    monthly_savings = monthly on-demand × discount, the discount of the resource's own
    cloud: AWS, a 1-year no-upfront Compute Savings Plan (``discount``, the same as
    ``commitments.compute-commitment``, https://aws.amazon.com/savingsplans/compute-pricing/);
    Azure, a 1-year savings plan for compute (``azure_discount``); Google Cloud, a 1-year
    Compute flexible CUD (``gcp_discount``); each finding cites its source. Other
    providers publish no comparable figure: no finding.
    Break-even utilization = 1 − discount. It is a ``commit`` finding on the resource:
    ranking stacks it after resize and never counts it where a schedule turns the
    resource off, and it is the alternative to compute-commitment on the same instance.
    AWS Cost Explorer recommends commitments from the same steady on-demand usage
    (https://docs.aws.amazon.com/savingsplans/latest/userguide/sp-recommendations.html).
    """
    on_demand = (
        (pl.col("ChargeCategory") == "Usage")
        & pl.col("PricingCategory").is_in(ON_DEMAND_PRICING)
        & pl.col("ResourceId").is_not_null()
        & pl.col("ServiceCategory").is_in(p.service_categories)
    )
    # From the rollup the billing policies share (policies/_billing.py), not the rows.
    usage = daily(inv).filter(on_demand)
    # The export's whole period, over every line item (not only the on-demand ones).
    whole = daily(inv).select(
        pl.col("first_start").min().alias("_export_start"),
        pl.col("last_end").max().alias("_export_end"),
    )
    per_resource = (
        usage.group_by("ResourceId")
        .agg(
            pl.col("day_index").n_unique().alias("_days"),
            pl.col("period_length").max().alias("_period_length"),
            pl.col("effective_cost").sum().alias("_cost"),
            pl.col("first_start").min().alias("_start"),
            pl.col("last_end").max().alias("_end"),
            *[
                earliest(c, ignore_nulls=True)
                for c in (
                    "ProviderName", "SubAccountId", "BillingAccountId", "RegionId",
                    "ResourceName", "ResourceType", "ServiceName",
                )
            ],
        )
        .join(
            distinct_starts(usage, irregular_starts(inv), ["ResourceId"], "_periods"),
            on="ResourceId",
            how="left",
        )
    )  # fmt: skip
    period_hours = (pl.col("_export_end") - pl.col("_export_start")).dt.total_seconds() / 3600.0
    billed_hours = pl.col("_periods") * pl.col("_period_length").dt.total_seconds() / 3600.0
    cloud = provider_of(pl.col("ProviderName"))
    discount = (
        pl.when(cloud == "aws")
        .then(pl.lit(p.discount))
        .when(cloud == "azure")
        .then(pl.lit(p.azure_discount))
        .when(cloud == "gcp")
        .then(pl.lit(p.gcp_discount))
    )
    source = (
        pl.when(cloud == "azure")
        .then(pl.lit(AZURE_SAVINGS_PLAN_PRICING))
        .when(cloud == "gcp")
        .then(pl.lit(GCP_CUD_PRICING))
        .otherwise(pl.lit(SAVINGS_PLANS_PRICING))
    )
    steady = (
        per_resource.join(whole, how="cross")
        .with_columns(
            period_hours.alias("_period_hours"),
            billed_hours.alias("_billed_hours"),
            discount.alias("_discount"),
            source.alias("_discount_source"),
        )
        .with_columns((pl.col("_billed_hours") / pl.col("_period_hours")).alias("_share"))
        .filter(
            (pl.col("_period_hours") > 0)
            & (pl.col("_share") >= p.min_hour_share)
            & (pl.col("_days") >= p.min_days)
            & (pl.col("_cost") > 0)
            & pl.col("_discount").is_not_null()
        )
        .with_columns(
            (pl.col("_cost") * HOURS_PER_MONTH / pl.col("_period_hours")).alias("_monthly")
        )
    )
    saving = pl.col("_monthly") * pl.col("_discount")
    currency = inv.context.currency
    return steady.select(
        *_focus_identity(),
        pl.col("ResourceId").alias("resource_id"),
        pl.col("ResourceName").alias("resource_name"),
        pl.col("ResourceType").alias("resource_type"),
        pl.format(
            "{} ({}) was billed on demand in {} of {} hours: {} a month.",
            pl.col("ResourceId"),
            pl.col("ServiceName").fill_null("service"),
            num(pl.col("_billed_hours")),
            num(pl.col("_period_hours")),
            money_in(pl.col("_monthly"), currency),
        ).alias("detail"),
        pl.format(
            "Cover {} with a 1-year no-upfront savings plan or reservation: saves {} a "
            "month; it pays while it runs more than {} of the hours.",
            pl.col("ResourceId"),
            money_in(saving, currency),
            pct((1.0 - pl.col("_discount")) * 100.0),
        ).alias("recommendation"),
        pl.col("_monthly").alias("current_monthly_cost"),
        saving.alias("monthly_savings"),
        pl.lit(p.confidence).alias("confidence"),
        pl.lit("billing").alias("price_source"),
        evidence(
            on_demand_effective_cost=pl.col("_cost"),
            billed_hours=pl.col("_billed_hours"),
            period_hours=pl.col("_period_hours"),
            hour_share=pl.col("_share"),
            min_hour_share=pl.lit(p.min_hour_share),
            days_billed=pl.col("_days"),
            min_days=pl.lit(p.min_days),
            commitment=pl.struct(
                term=pl.lit("1 year, no upfront"),
                discount=pl.col("_discount"),
                discount_source=pl.col("_discount_source"),
                monthly_commitment_usd=pl.col("_monthly") * (1.0 - pl.col("_discount")),
                break_even_utilization=1.0 - pl.col("_discount"),
            ),
        ).alias("evidence"),
    )
