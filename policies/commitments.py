"""Commitments (compute part): savings plans / reserved instances for steady on-demand
instances, and spot for stateless Auto Scaling group members.

Both are ``commit`` findings: ranking applies them after any resize or schedule on the
same instance, and refuses to count a commitment on hours a schedule turns off. They are
emitted regardless, so the report can show them as alternatives.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from policies._compute import (
    HOURS_PER_MONTH,
    evidence,
    findings,
    hourly_coverage,
    lookback_hours,
    lookback_start,
    money,
    monthly,
    pct,
    price_evidence,
    rate,
    running_instances,
)
from scanner import schema
from scanner.inventory import Inventory
from scanner.registry import policy

ON_DEMAND = "on-demand"
_TRUTHY = ("true", "yes", "1", "y")

# --------------------------------------------------------------------------- savings plan / RI

SAVINGS_PLANS_PRICING = "https://aws.amazon.com/savingsplans/compute-pricing/"


@dataclass(frozen=True)
class ComputeCommitmentParams:
    # Discount of a 1-year, no-upfront Compute Savings Plan off on-demand. AWS publishes
    # the committed rates per type and region on the Savings Plans pricing page
    # (https://aws.amazon.com/savingsplans/compute-pricing/); for general-purpose
    # families such as m5 in us-east-1 the 1-year no-upfront rate is about 28% below
    # on-demand. EC2 Instance Savings Plans and Standard RIs
    # (https://aws.amazon.com/ec2/pricing/reserved-instances/pricing/) give more (~35%)
    # for less flexibility. Set your own from a quote.
    discount: float = 0.28
    # "Ran the whole lookback": CPU datapoints in at least this share of its hours.
    min_coverage: float = 0.95
    # Auto Scaling group members churn (instances are replaced), and they are the spot
    # policy's candidates; by default they are left to it.
    include_group_members: bool = False
    confidence: float = 0.75


@policy(
    id="commitments.compute-commitment",
    family="commitments",
    action="commit",
    title="Steady on-demand instance: cover it with a 1-year savings plan",
    needs=("compute", "utilization"),
    effort_hours=1.0,
    risk="medium",
    performance="neutral",
    params=ComputeCommitmentParams,
)
def compute_commitment(inv: Inventory, p: ComputeCommitmentParams) -> pl.LazyFrame:
    """Steady on-demand instances that ran the whole lookback: commit for a year.

    Flagged: a running on-demand instance (lifecycle ``on-demand``), not in an Auto
    Scaling group unless ``include_group_members``, launched before the lookback began
    (or with no launch time) and with CPU datapoints for at least ``min_coverage`` of
    the lookback's hours, so it ran throughout. A 1-year, no-upfront Compute Savings
    Plan (or reserved instance) at ``discount`` off is the estimate.

    Saving formula: monthly_savings = hourly_price × 730 × discount.
    Break-even utilization = 1 − discount: the share of the term's hours the instance
    must run for the commitment to pay. Effective committed rate = hourly_price × (1 −
    discount). Risk is medium: the commitment lasts a year whatever happens.

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
            (pl.col("lifecycle").str.to_lowercase() == ON_DEMAND)
            & (pl.lit(p.include_group_members) | ~in_group)
            & (
                pl.col("launch_time").is_null()
                | (pl.col("launch_time") <= pl.lit(start, dtype=schema.UTC_TS))
            )
        )
        .join(hourly_coverage(inv), on="resource_id", how="inner")
        .filter(pl.col("coverage") >= p.min_coverage)
    )
    current = monthly(pl.col("hourly_price"))
    saving = current * p.discount
    effective = pl.col("hourly_price") * (1.0 - p.discount)
    return findings(
        steady,
        detail=pl.format(
            "{} ({}) ran on demand for {} of the last {} hours at {}.",
            pl.col("resource_id"),
            pl.col("instance_type"),
            pl.col("hours_with_data"),
            pl.lit(lookback_hours(inv)),
            rate(pl.col("hourly_price")),
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
        confidence=pl.lit(p.confidence),
        price_source=pl.col("price_source"),
        evidence=evidence(
            formula=f"monthly_savings = hourly_price × {HOURS_PER_MONTH:g} × discount",
            hours_per_month=HOURS_PER_MONTH,
            price=price_evidence(
                pl.col("instance_type"), pl.col("hourly_price"), pl.col("price_source")
            ),
            commitment=pl.struct(
                term=pl.lit("1 year, no upfront"),
                discount=pl.lit(p.discount),
                discount_source=pl.lit(SAVINGS_PLANS_PRICING),
                effective_hourly_usd=effective,
                monthly_commitment_usd=monthly(effective),
                break_even_utilization=pl.lit(1.0 - p.discount),
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
    needs=("compute",),
    effort_hours=8.0,
    risk="high",
    performance="risk",
    params=SpotParams,
)
def spot(inv: Inventory, p: SpotParams) -> pl.LazyFrame:
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
    members = running_instances(inv).filter(
        (pl.col("lifecycle").str.to_lowercase() == ON_DEMAND)
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
            formula=(
                f"monthly_savings = (on_demand_hourly - spot_hourly) × {HOURS_PER_MONTH:g}; "
                f"without a believable spot price: on_demand_hourly × {HOURS_PER_MONTH:g} × "
                "typical_discount"
            ),
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
