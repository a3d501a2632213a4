"""What the account's existing commitments do to a saving on EC2 and Compute Engine: savings
after discounts.

AWS applies reserved instances and savings plans to matching usage hour by hour, wherever
it runs in their scope, not to one instance:

- a regional, size-flexible reserved instance (Linux/UNIX, default tenancy) to every size
  of its family in its region; any other reserved instance to its instance type
  (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/apply_ri.html);
- an EC2 Instance Savings Plan to its family in its region; a Compute Savings Plan to all
  EC2 usage of the account (https://docs.aws.amazon.com/savingsplans/latest/userguide/
  sp-applying.html);
- on Compute Engine, a resource-based committed use discount (``kind="cud"``) to the vCPUs
  and memory of its machine series in its region (scope ``cud|project|region|series``),
  whose uncovered on-demand cost the GCP provider computes from the running instances
  (``kind="coverage"``, ``covered_by="cud"`` rows).

So cutting usage in a scope a commitment covers lowers the bill only by the on-demand
usage left uncovered in that scope (the commitment moves onto it); beyond that, the
commitment keeps billing for capacity nobody uses, and the saving starts when it ends.
``commitment_context`` gives, per instance type in an account and region, the tightest
scope that covers it, the uncovered on-demand cost there a month (Cost Explorer's coverage,
``kind="coverage"`` rows), and when the commitments covering it end. A scope whose
commitment already sits partly unused has nothing to absorb: its pool is 0. Without
Cost Explorer's coverage for a covered scope, the pool is unknown and counted as 0 (count
less, say why). Ranking spends each scope's pool once, across findings
(reports/ranking.py, rule 7).

Compute Engine also discounts on-demand usage on its own: sustained-use discounts (SUD) bill
each quarter of a month's usage of a machine series at a falling rate, so an instance running
all month pays 70% (N1, M1, M2) or 80% (N2, N2D, C2) of its list price
(https://cloud.google.com/compute/docs/sustained-use-discounts). A change saves what it takes
off that discounted bill, not off the list price; ``sustained_use_saving`` works it out before
the commitment step.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.inventory import InventoryView
from costscan.scanner.contracts.units import HOURS_PER_MONTH
from costscan.scanner.contracts.vocab import CloudProvider, PriceSource

ACTIVE_STATES: Final = ("active", "payment-pending", "queued")
# Used at least this much, a commitment has no spare capacity to absorb freed usage.
FULLY_USED: Final = 0.99
CONTEXT_COLUMNS: Final = (
    "commitment_scope",
    "scope_uncovered_monthly",
    "commitment_ends",
    "scope_underused",
    "scope_binds_family",
    "scope_binds_type",
)
_TYPE_KEYS: Final = ["provider", "account_id", "region", "instance_type"]


# The share of the list price each quarter of a month's usage is billed at, per machine
# series with sustained-use discounts; every other series (E2, N4, C3, T2D, T2A, ...) gets
# none. https://cloud.google.com/compute/docs/sustained-use-discounts ("Sustained use
# discount tables"): N1-style 100/80/60/40%, N2-style 100/86.78/73.3/60%.
SUSTAINED_USE_TIERS: Final[dict[str, tuple[float, float, float, float]]] = {
    **dict.fromkeys(("n1", "m1", "m2", "f1", "g1"), (1.0, 0.80, 0.60, 0.40)),
    **dict.fromkeys(("n2", "n2d", "c2"), (1.0, 0.8678, 0.733, 0.60)),
}
# What a month of full use saves: 30% (N1-style) or 20% (N2-style).
SUSTAINED_USE_FULL_MONTH: Final[dict[str, float]] = {
    series: round(1.0 - sum(tiers) / 4, 2) for series, tiers in SUSTAINED_USE_TIERS.items()
}


def sustained_use_share(series: pl.Expr, running_share: pl.Expr) -> pl.Expr:
    """The share of a full month's list price billed for running ``running_share`` (0-1)
    of the month on ``series``: the integral of the tier rates up to that share (1 × the
    share for a series without sustained-use discounts)."""
    share = running_share.clip(0.0, 1.0)
    billed = pl.lit(0.0)
    for quarter in range(4):
        rate = series.replace_strict(
            {name: tiers[quarter] for name, tiers in SUSTAINED_USE_TIERS.items()},
            default=1.0,
            return_dtype=pl.Float64,
        )
        billed = billed + (share - quarter * 0.25).clip(0.0, 0.25) * rate
    return billed


def sustained_use_saving(
    saving: pl.Expr,
    *,
    current_cost: pl.Expr,
    target_type: pl.Expr | None,
    running_share_after: pl.Expr | None,
) -> pl.Expr:
    """``saving`` (a monthly list-price figure for a change to an instance running all
    month) after Compute Engine's sustained-use discounts. With C the instance's monthly
    list cost, T the monthly list cost of what runs after the change for a full month and
    u the share of the month it runs then, f(series, u) = ``sustained_use_share``:

        saving = C × f(source series, 1) − T × f(target series, u)

    T is C for a schedule (same type, ``running_share_after`` = u) and C − saving
    otherwise (u = 1): 0 for a stop, the smaller type's cost for a resize. The result is
    between 0 and ``saving``: a move from a discounted series to an undiscounted one can
    save nothing at all. Other providers, and prices read from the bill (already net of
    the discount), keep ``saving``."""
    source = _family(pl.col("instance_type"))
    target = source if target_type is None else _family(target_type)
    if running_share_after is None:
        after_full, share_after = current_cost - saving, pl.lit(1.0)
    else:
        after_full, share_after = current_cost, running_share_after
    discounted = current_cost * sustained_use_share(source, pl.lit(1.0)) - (
        after_full * sustained_use_share(target, share_after)
    )
    applies = (pl.col("provider") == CloudProvider.GCP.value) & (
        pl.col("price_source").fill_null("") != PriceSource.BILLING.value
    )
    return pl.when(applies).then(pl.min_horizontal(discounted, saving).clip(0.0)).otherwise(saving)


def held_commitments(inv: InventoryView) -> pl.LazyFrame:
    """One row per reservation or savings plan: its description (EC2 / Savings Plans)
    merged with Cost Explorer's measurement, first non-null value of each column, the
    description first (providers/aws/commitments.py sends them as separate rows)."""
    rows = inv.lazy("commitments").filter(pl.col("kind").is_in(["ri", "savings_plan"]))
    keys = ["provider", "account_id", "kind", "resource_id"]
    return (
        rows.with_columns((pl.col("source") == "cost_explorer").fill_null(False).alias("_late"))
        .sort("_late", "resource_id")
        .group_by(keys, maintain_order=True)
        .agg(pl.all().exclude(*keys, "_late").drop_nulls().first())
    )


def _family(instance_type: pl.Expr) -> pl.Expr:
    """The family a commitment scope is per: EC2's before the dot (m5 of m5.xlarge), a
    Compute Engine series before the first dash (n2 of n2-standard-8)."""
    return pl.coalesce(
        instance_type.str.extract(r"^([^.]+)\.", 1),
        instance_type.str.extract(r"^([a-z0-9]+)-", 1),
    )


def active_commitments(inv: InventoryView) -> pl.LazyFrame:
    """Reservations and savings plans in force now, with the scope each applies to:
    ``scope_kind`` (ri_family, ri_type, sp_compute, sp_family) and ``scope_family``."""
    now = pl.lit(inv.context.now, dtype=schema.UTC_TS)
    state = pl.col("state").str.to_lowercase()
    active = (pl.col("state").is_null() | state.is_in(ACTIVE_STATES)) & (
        pl.col("expires").is_null() | (pl.col("expires") > now)
    )
    platform = pl.col("platform").fill_null("Linux/UNIX").str.to_lowercase()
    flexible = (pl.col("scope").fill_null("Region").str.to_lowercase() == "region") & (
        platform.str.starts_with("linux/unix") | (platform == "linux")
    )
    family = pl.coalesce(pl.col("family"), _family(pl.col("instance_type")))
    plan_type = pl.col("offering_class").fill_null("").str.to_lowercase()
    scope_kind = (
        pl.when(pl.col("kind") == "ri")
        .then(pl.when(flexible).then(pl.lit("ri_family")).otherwise(pl.lit("ri_type")))
        .when(plan_type.str.contains("compute"))
        .then(pl.lit("sp_compute"))
        .when(plan_type.str.contains("ec2"))
        .then(pl.lit("sp_family"))
        .otherwise(None)
    )
    held = (
        held_commitments(inv)
        .filter(active)
        .with_columns(scope_kind.alias("scope_kind"), family.alias("scope_family"))
        .filter(pl.col("scope_kind").is_not_null())
    )
    # A resource-based committed use discount applies to the vCPUs and memory of its
    # machine series in its region, in every project that shares it
    # (https://cloud.google.com/compute/docs/instances/committed-use-discounts-overview).
    cuds = (
        inv.lazy("commitments")
        .filter((pl.col("kind") == "cud") & active)
        .with_columns(
            pl.lit("cud_family").alias("scope_kind"), pl.col("family").alias("scope_family")
        )
    )
    return pl.concat([held, cuds.select(held.collect_schema().names())], how="vertical")


def _pools(inv: InventoryView) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    """Monthly on-demand cost no commitment covers, from Cost Explorer's coverage: per
    account, region and instance type (reservation coverage) and per account, region and
    family (savings plan coverage); for GCP, per project, region and machine series (the
    provider's own coverage of resource-based CUDs)."""
    coverage = inv.lazy("commitments").filter(pl.col("kind") == "coverage")
    by_type = (
        coverage.filter(pl.col("covered_by") == "ri")
        .group_by(_TYPE_KEYS)
        .agg(pl.col("on_demand_cost").sum().alias("_on_demand"))
        .with_columns(_family(pl.col("instance_type")).alias("scope_family"))
    )
    by_family = (
        coverage.filter(pl.col("covered_by") == "savings_plan")
        .group_by("provider", "account_id", "region", pl.col("family").alias("scope_family"))
        .agg(pl.col("on_demand_cost").sum().alias("_on_demand"))
    )
    by_series = (
        coverage.filter(pl.col("covered_by") == "cud")
        .group_by("provider", "account_id", "region", pl.col("family").alias("scope_family"))
        .agg(pl.col("on_demand_cost").sum().alias("_on_demand"))
    )
    return by_type, by_family, by_series


def commitment_context(inv: InventoryView, types: pl.LazyFrame) -> pl.LazyFrame:
    """For each row of ``types`` (provider, account_id, region, instance_type): the
    tightest commitment scope covering it (``commitment_scope``; null when none does), the
    uncovered on-demand cost there a month (``scope_uncovered_monthly``) and the last end
    of the commitments covering it (``commitment_ends``, a date); ``scope_underused`` when
    a commitment covering it already sits partly unused."""
    keys = (
        types.select(_TYPE_KEYS)
        .unique()
        .with_columns(_family(pl.col("instance_type")).alias("scope_family"))
    )
    held = active_commitments(inv)
    by_type, by_family, by_series = _pools(inv)
    used = pl.col("utilization").fill_null(1.0)
    scope_facts = held.group_by(
        "provider", "account_id", "region", "instance_type", "scope_kind", "scope_family"
    ).agg(
        pl.col("expires").max().alias("_ends"),
        (used < FULLY_USED).any().alias("_underused"),
    )

    def covering(kind: str, on: list[str]) -> pl.LazyFrame:
        facts = (
            scope_facts.filter(pl.col("scope_kind") == kind)
            .group_by(on)
            .agg(pl.col("_ends").max(), pl.col("_underused").any())
        )
        return keys.join(facts, on=on, how="inner").with_columns(pl.lit(kind).alias("_kind"))

    account = ["provider", "account_id"]
    in_family = [*account, "region", "scope_family"]
    candidates = pl.concat(
        [
            covering("ri_family", in_family).join(
                by_type.group_by(in_family).agg(pl.col("_on_demand").sum()), on=in_family,
                how="left",
            ),
            covering("ri_type", _TYPE_KEYS).join(
                by_type.select(*_TYPE_KEYS, "_on_demand"), on=_TYPE_KEYS, how="left"
            ),
            covering("sp_family", in_family).join(by_family, on=in_family, how="left"),
            covering("sp_compute", account).join(
                by_family.group_by(account).agg(pl.col("_on_demand").sum()), on=account,
                how="left",
            ),
            covering("cud_family", in_family).join(by_series, on=in_family, how="left"),
        ],
        how="diagonal_relaxed",
    )  # fmt: skip
    scope_key = (
        pl.when(pl.col("_kind") == "sp_compute")
        .then(pl.concat_str([pl.lit("sp"), "account_id"], separator="|"))
        .when(pl.col("_kind") == "cud_family")
        .then(pl.concat_str([pl.lit("cud"), "account_id", "region", "scope_family"], separator="|"))
        .when(pl.col("_kind") == "ri_type")
        .then(pl.concat_str([pl.lit("ri"), "account_id", "region", "instance_type"], separator="|"))
        .otherwise(
            pl.concat_str(
                [pl.col("_kind").str.slice(0, 2), "account_id", "region", "scope_family"],
                separator="|",
            )
        )
    )
    # Unknown coverage counts as nothing to absorb; an underused commitment absorbs nothing.
    pool = pl.when(pl.col("_underused")).then(0.0).otherwise(pl.col("_on_demand").fill_null(0.0))
    per_scope = candidates.with_columns(
        scope_key.alias("commitment_scope"), pool.clip(lower_bound=0.0).alias("_pool")
    )
    return per_scope.group_by(_TYPE_KEYS).agg(
        pl.col("commitment_scope").sort_by("_pool", "commitment_scope").first(),
        pl.col("_pool").min().alias("scope_uncovered_monthly"),
        pl.col("_ends").max().dt.date().alias("commitment_ends"),
        pl.col("_underused").any().alias("scope_underused"),
        # A reservation or an EC2 Instance plan covers one family (or type): usage moved to
        # another leaves it; a Compute Savings Plan covers any family.
        pl.col("_kind")
        .is_in(["ri_family", "sp_family", "cud_family"])
        .any()
        .alias("scope_binds_family"),
        (pl.col("_kind") == "ri_type").any().alias("scope_binds_type"),
    )


def after_discounts(
    inv: InventoryView,
    frame: pl.LazyFrame,
    saving: pl.Expr,
    *,
    current_cost: pl.Expr | None = None,
    target_type: pl.Expr | None = None,
    running_share_after: pl.Expr | None = None,
) -> pl.LazyFrame:
    """``frame`` (one row per finding on an instance) with what its ``saving`` (a monthly
    list-price figure) is after the account's commitments.

    A change inside the commitment's scope (stop, a smaller size of the family, off hours)
    frees usage worth the saving; a move to a type outside it (``target_type`` of another
    family, for a reservation or EC2 Instance plan) takes all of the instance's usage
    (``current_cost``) out of the scope and adds the new type's on demand. With ``P`` the
    scope's uncovered on-demand usage a month and ``R`` the usage taken out:

        saving now = max(0, saving − max(0, R − P))      (R = saving inside the scope)

    so inside the scope it is min(saving, P), and a move out of a fully covered scope saves
    nothing until the commitment ends. Columns added:

    - ``_saving_now``: the part that leaves next month's bill;
    - ``_saving_later``: the rest, from ``commitment_ends`` (``_savings_start``);
    - ``_commitment_scope``, ``_scope_uncovered``, ``_scope_removed``: the scope, its pool
      and what the change takes out of it (ranking spends each pool once across findings).

    Instances no commitment covers save the whole figure now.

    On Compute Engine the saving is first cut to what sustained-use discounts leave
    (``sustained_use_saving``; ``running_share_after`` for a schedule); ``_sud_cut`` holds
    the part of the list-price saving those discounts already take.
    """
    list_saving = saving
    saving = pl.col("_sud_saving")
    frame = frame.with_columns(
        sustained_use_saving(
            list_saving,
            current_cost=pl.col("hourly_price") * HOURS_PER_MONTH
            if current_cost is None
            else current_cost,
            target_type=target_type,
            running_share_after=running_share_after,
        ).alias("_sud_saving")
    ).with_columns((list_saving - pl.col("_sud_saving")).clip(0.0).alias("_sud_cut"))
    lookup = frame.select(
        "provider", "account_id", "region", pl.col("instance_type").alias("instance_type")
    )
    context = commitment_context(inv, lookup)
    joined = frame.join(
        context, on=["provider", "account_id", "region", "instance_type"], how="left"
    )
    covered = pl.col("commitment_scope").is_not_null()
    if target_type is not None and current_cost is not None:
        target_family = _family(target_type)
        leaves = (
            pl.col("scope_binds_family").fill_null(False)
            & (target_family != _family(pl.col("instance_type")))
        ) | (pl.col("scope_binds_type").fill_null(False) & (target_type != pl.col("instance_type")))
        removed = pl.when(leaves).then(current_cost).otherwise(saving)
    else:
        removed = saving
    pool = pl.col("scope_uncovered_monthly").fill_null(0.0)
    now = (
        pl.when(covered)
        .then(
            (saving - (pl.col("_scope_removed") - pool).clip(lower_bound=0.0)).clip(lower_bound=0.0)
        )
        .otherwise(saving)
    )
    return (
        joined.with_columns(removed.alias("_scope_removed"))
        .with_columns(pl.min_horizontal(now, saving).clip(lower_bound=0.0).alias("_saving_now"))
        .with_columns(
            (saving - pl.col("_saving_now")).clip(lower_bound=0.0).alias("_saving_later"),
            pl.when(covered).then(pl.col("commitment_ends")).alias("_savings_start"),
            pl.col("commitment_scope").alias("_commitment_scope"),
            pl.col("scope_uncovered_monthly").alias("_scope_uncovered"),
        )
        .with_columns(pl.when(covered).then(pl.col("_scope_removed")).alias("_scope_removed"))
        .drop(*CONTEXT_COLUMNS, "_sud_saving")
    )


def discount_columns(before: pl.Expr) -> dict[str, pl.Expr]:
    """The findings columns ``after_discounts`` prepares, for ``findings(...)``."""
    return {
        "monthly_savings_before_discounts": before,
        "monthly_savings": pl.col("_saving_now"),
        "deferred_monthly_savings": pl.col("_saving_later"),
        "savings_start": pl.col("_savings_start"),
        "commitment_scope": pl.col("_commitment_scope"),
        "scope_uncovered_monthly": pl.col("_scope_uncovered"),
        "scope_usage_removed_monthly": pl.col("_scope_removed"),
    }


def discount_evidence() -> pl.Expr:
    """The figures behind the after-discount saving, for a finding's evidence."""
    return pl.struct(
        scope=pl.col("_commitment_scope"),
        uncovered_on_demand_monthly=pl.col("_scope_uncovered"),
        usage_taken_out_of_scope_monthly=pl.col("_scope_removed"),
        saving_now=pl.col("_saving_now"),
        saving_from_commitment_end=pl.col("_saving_later"),
        commitments_end=pl.col("_savings_start").cast(pl.String),
        sustained_use_discount_monthly=pl.col("_sud_cut"),
    )


def commitment_note() -> pl.Expr:
    """A sentence for the detail when part of the saving waits for a commitment to end,
    and one when sustained-use discounts already take part of the list-price saving."""
    sustained = (
        pl.when(pl.col("_sud_cut") > 0.005)
        .then(
            pl.format(
                " Sustained-use discounts already take {} a month off this usage; only the "
                "rest is counted.",
                pl.col("_sud_cut").round(2),
            )
        )
        .otherwise(pl.lit(""))
    )
    return sustained + (
        pl.when(pl.col("_saving_later") > 0.005)
        .then(
            pl.format(
                " Existing commitments cover this usage: {} a month of it leaves the bill only "
                "when they end ({}).",
                pl.col("_saving_later").round(2),
                pl.col("_savings_start").cast(pl.String).fill_null("end date unknown"),
            )
        )
        .otherwise(pl.lit(""))
    )
