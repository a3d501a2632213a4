"""Billing at scale: every billing policy in costscan against DuckDB and pandas.

Writes (once, cached under benchmarks/out/) a synthetic FOCUS Parquet file of ``--rows``
rows (benchmarks/focus_synth.py), then runs each engine in its own subprocess, so each
one's peak memory is its own (VmHWM from /proc, falling back to ru_maxrss), and prints
them side by side.

costscan runs as ``costscan run --provider focus`` does: ``providers.exports.read_billing``,
the inventory's billing rollup (scanner/billing_rollup.py), then every registered policy
whose ``needs`` include "billing" (from the registry, so new billing policies join by
themselves). DuckDB (SQL) and pandas compute the same things, each policy with its own
definitions and thresholds (read from the policy's parameter defaults and patterns in
the parent and handed to the children, so they cannot drift):

- commitments.on-demand-billing: steady on-demand usage per resource (distinct charge
  periods × longest period against the billed span), savings at the 1-year discount;
- commitments.unused-billing: Unused / Used EffectiveCost per commitment, utilization;
- network.billing-cdn-egress: internet egress rows (description and SKU patterns, GB
  units, not a CDN) per account and source, scaled to a month by the export's whole
  period, CloudFront tiers, free tier shared per account, request fees;
- observability.cost-anomaly: cost per account, service, resource and UTC day; 7- and
  30-day windows ending at the export's last day against the windows before, per
  resource and per service, ratio and increase thresholds, new spend, largest increase;
- observability.unallocated-spend: Usage cost per account, service, tag set and day in
  the last 30 days; the required-tag regex per key; monthly untagged cost threshold;
- rightsizing.billing-idle: billed hours per resource and unit, usage-metered quantity
  per billed hour;
- the spend block and the top resources by effective cost.

Each result is fingerprinted (finding count, Σ monthly_savings, Σ current_monthly_cost)
and compared across the three engines (agree: yes/no per policy). pandas reads only the
columns it needs with pyarrow, groups with ``observed=True`` and is vectorised, as an
idiomatic pandas user would write it; DuckDB gets plain SQL. Neither is handicapped nor
hand-tuned. DuckDB and pandas time each policy; costscan's plans run together.

Targets (issue 4): within 1.5x of DuckDB, at least 5x faster than pandas, costscan peak
under 3 GB. The table is also written to benchmarks/out/billing-latest.txt.

    python benchmarks/billing.py                # 10 million rows
    python benchmarks/billing.py --rows 1000000
    python benchmarks/billing.py --source csv   # the same rows as FOCUS CSV
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
ENGINES = ("costscan", "duckdb", "pandas")
DATA_END = datetime(2024, 11, 1, tzinfo=UTC)
TOP = 100
ON_DEMAND = "commitments.on-demand-billing"
UNUSED = "commitments.unused-billing"
CDN = "network.billing-cdn-egress"
ANOMALY = "observability.cost-anomaly"
UNALLOCATED = "observability.unallocated-spend"
IDLE = "rightsizing.billing-idle"
POLICIES = (ON_DEMAND, UNUSED, CDN, ANOMALY, UNALLOCATED, IDLE)
CONTEXT = ("spend", "top_resources")
CSV_TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"

# What the aggregations read; pandas loads exactly these.
COLUMNS = [
    "BilledCost",
    "EffectiveCost",
    "ServiceName",
    "ServiceCategory",
    "SubAccountId",
    "ResourceId",
    "ResourceName",
    "ChargeCategory",
    "ChargeDescription",
    "SkuId",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ConsumedQuantity",
    "ConsumedUnit",
    "PricingQuantity",
    "PricingUnit",
    "PricingCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountStatus",
    "Tags",
]

Fingerprint = list[float]


def peak_mb() -> float:
    """This process's peak resident memory, in MB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def policy_settings() -> dict[str, Any]:
    """Each billing policy's default parameters and patterns, from costscan itself.

    Read in the parent and handed to the DuckDB and pandas children as JSON, so the three
    engines answer with the same thresholds (and the children do not import polars).
    """
    from dataclasses import asdict

    from costscan.policies import _compute, commitments, network, observability, rightsizing

    def has_tag_pattern(key: str) -> str:
        # observability._has_tag's regex: the key (optionally prefixed, any case) with
        # a non-empty value.
        return (
            r'(?i)"(?:[^"\\]*:)?' + re.escape(key) + r'"\s*:\s*(?:"(?:[^"\\]|\\.)+"|[-0-9tf\{\[])'
        )

    unallocated = asdict(observability.UnallocatedSpendParams())
    unallocated["tag_patterns"] = [
        has_tag_pattern(k) for k in dict.fromkeys(k for k in unallocated["required_tags"] if k)
    ]
    return {
        "hours_per_month": _compute.HOURS_PER_MONTH,
        "days_per_month": observability.DAYS_PER_MONTH,
        ON_DEMAND: {
            **asdict(commitments.OnDemandBillingParams()),
            "pricing": list(commitments.ON_DEMAND_PRICING),
        },
        UNUSED: asdict(commitments.UnusedCommitmentBillingParams()),
        CDN: {
            **asdict(network.BillingCdnParams()),
            "egress_pattern": network.EGRESS_PATTERN,
            "not_internet_pattern": network.NOT_INTERNET_PATTERN,
            "cdn_service_pattern": network.CDN_SERVICE_PATTERN,
            "gb_units": list(network.GB_UNITS),
            "gib": network.GIB,
        },
        ANOMALY: asdict(observability.CostAnomalyParams()),
        UNALLOCATED: unallocated,
        IDLE: {
            **asdict(rightsizing.BillingIdleParams()),
            "time_units": rightsizing.TIME_UNIT_PATTERN,
            "capacity_units": rightsizing.CAPACITY_UNIT_PATTERN,
            "transfer_units": rightsizing.TRANSFER_UNIT_PATTERN,
            "charge_category": rightsizing.USAGE_CHARGE_CATEGORY,
            "committed_pricing": rightsizing.COMMITTED_PRICING,
        },
    }


def _fingerprint(rows: int, savings: Any, current: Any) -> Fingerprint:
    return [int(rows), round(float(savings or 0.0), 2), round(float(current or 0.0), 2)]


# --- costscan (polars, through the provider) ---------------------------------------------


def run_costscan(path: str, _settings: dict[str, Any]) -> dict[str, Any]:
    """Every registered billing policy, the spend block and the top resources, as a run.

    As ``costscan run --provider focus`` does it: the inventory builds the billing rollup
    (scanner/billing_rollup.py: two reads of the file), every billing policy's plan reads
    the rollup, and all the plans go to one ``pl.collect_all``
    (``costscan.scanner.app.engine.collect_plans``).
    """
    from costscan.providers.exports import read_billing
    from costscan.scanner.app import catalog
    from costscan.scanner.app.engine import collect_plans
    from costscan.scanner.contracts.inventory import Inventory, RunContext
    from costscan.scanner.pipeline import billing_rollup

    started = time.perf_counter()
    scan = read_billing([path]).scan
    policies = [p for p in catalog.all_policies().values() if "billing" in p.needs]
    # The synthetic data ends on 1 November 2024; the run is "now" then.
    inventory = Inventory(provider="focus", context=RunContext.at(DATA_END))
    inventory.add_scan("billing", scan)
    billing_rollup.prepare(inventory)
    rollup = inventory.billing_rollup()
    rolled_up = time.perf_counter()
    plans = [p.run(inventory, p.build_params()) for p in policies]
    collected = collect_plans(plans, streaming=True)
    spend = rollup.spend
    top = rollup.top_resources(TOP)
    seconds = time.perf_counter() - started
    results = {
        "spend": _fingerprint(1, spend["effective_cost"], spend["billed_cost"]),
        "top_resources": _fingerprint(
            len(top), sum(t["effective_cost"] for t in top), sum(t["billed_cost"] for t in top)
        ),
    }
    for policy, frame in zip(policies, collected, strict=True):
        results[policy.id] = _fingerprint(
            frame.height, frame["monthly_savings"].sum(), frame["current_monthly_cost"].sum()
        )
    return {
        "seconds": seconds,
        "results": results,
        "engine": "streaming",
        "timings": {"rollup": rolled_up - started},
    }


# --- DuckDB ------------------------------------------------------------------------------


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: list[str]) -> str:
    return ", ".join(_sql_text(v) for v in values)


def _sql_tiered(gb: str, limits: list[float], prices: list[float]) -> str:
    """network.tiered in SQL: each GB at its own tier's price."""
    terms, lower = [], 0.0
    for index, price in enumerate(prices):
        upper = limits[index] if index < len(limits) else None
        capped = gb if upper is None else f"least({gb}, {upper})"
        terms.append(f"greatest({capped} - {lower}, 0) * {price}")
        lower = upper if upper is not None else lower
    return "(" + " + ".join(terms) + ")"


def duckdb_queries(s: dict[str, Any]) -> dict[str, str]:
    """One SQL query per policy (and the context), each returning ``savings, current``."""
    hpm, dpm = s["hours_per_month"], s["days_per_month"]
    cost = "coalesce(EffectiveCost, BilledCost)"
    qty = "coalesce(ConsumedQuantity, PricingQuantity)"
    od, un, cdn, an, ua, idle = (s[p] for p in POLICIES)

    idle_sql = f"""
WITH per_unit AS (
    SELECT ResourceId, coalesce(ConsumedUnit, PricingUnit) AS unit,
           count(DISTINCT ChargePeriodStart) AS periods,
           max(epoch(ChargePeriodEnd) - epoch(ChargePeriodStart)) / 3600.0 AS period_hours,
           min(ChargePeriodStart) AS first_start, max(ChargePeriodEnd) AS last_end,
           sum({cost}) AS cost, sum({qty}) AS qty, count(*) AS n,
           coalesce(sum({cost}) FILTER (
               WHERE PricingCategory = {_sql_text(idle["committed_pricing"])}), 0) AS committed
    FROM p WHERE ChargeCategory = {_sql_text(idle["charge_category"])} AND ResourceId IS NOT NULL
    GROUP BY ResourceId, ConsumedUnit, PricingUnit
), classified AS (
    SELECT *, unit IS NOT NULL
              AND NOT regexp_matches(lower(trim(unit)), {_sql_text(idle["time_units"])})
              AND NOT regexp_matches(lower(trim(unit)), {_sql_text(idle["capacity_units"])})
              AS metered,
           coalesce(regexp_matches(lower(trim(unit)), {_sql_text(idle["transfer_units"])}), false)
              AS transfer
    FROM per_unit
), per_resource AS (
    SELECT ResourceId,
           max(periods * greatest(coalesce(period_hours, 1), 1)) FILTER (WHERE NOT transfer)
               AS billed,
           min(first_start) AS first_start, max(last_end) AS last_end, sum(cost) AS cost,
           sum(committed) AS committed,
           coalesce(sum(qty) FILTER (WHERE metered), 0) AS qty,
           coalesce(sum(n) FILTER (WHERE metered), 0) AS metered_n,
           coalesce(sum(n) FILTER (WHERE NOT transfer), 0) AS own_n
    FROM classified GROUP BY ResourceId
), spanned AS (
    SELECT *, (epoch(max(last_end) OVER ()) - epoch(min(first_start) OVER ())) / 3600.0 AS span
    FROM per_resource
), judged AS (SELECT *, least(billed, span) AS hours FROM spanned),
flagged AS (
    SELECT cost / hours * {hpm} AS monthly,
           coalesce(least(greatest(committed / nullif(cost, 0), 0), 1), 0) AS committed_share
    FROM judged
    WHERE span >= {idle["min_period_hours"]} AND metered_n > 0 AND own_n > 0
      AND hours / span >= {idle["min_billed_hour_share"]}
      AND qty / hours < {idle["max_quantity_per_hour"]}
), rounded AS (
    SELECT floor(monthly * 100) / 100 AS before_discounts, committed_share, monthly FROM flagged
)
-- What a commitment pays for stays on the bill until it ends: deferred, not counted.
SELECT floor(before_discounts * (1 - committed_share) * 100) / 100 AS savings,
       monthly AS current
FROM rounded WHERE before_discounts > 0"""

    on_demand_sql = f"""
WITH per_resource AS (
    SELECT ResourceId, max(epoch(ChargePeriodEnd) - epoch(ChargePeriodStart)) AS period_seconds,
           sum(EffectiveCost) AS cost, min(ChargePeriodStart) AS first_start,
           max(ChargePeriodEnd) AS last_end, count(DISTINCT ChargePeriodStart) AS periods,
           count(DISTINCT floor(epoch(ChargePeriodStart) / 86400)) AS days
    FROM p
    WHERE ChargeCategory = 'Usage' AND PricingCategory IN ({_sql_list(od["pricing"])})
      AND ResourceId IS NOT NULL AND ServiceCategory IN ({_sql_list(od["service_categories"])})
    GROUP BY ResourceId
), judged AS (
    SELECT *, (SELECT (epoch(max(ChargePeriodEnd)) - epoch(min(ChargePeriodStart))) / 3600.0
               FROM p) AS period_hours,
           periods * period_seconds / 3600.0 AS billed_hours
    FROM per_resource
), steady AS (
    SELECT cost * {hpm} / period_hours AS monthly FROM judged
    WHERE period_hours > 0 AND billed_hours / period_hours >= {od["min_hour_share"]} AND cost > 0
      AND days >= {od["min_days"]}
)
SELECT monthly * {od["discount"]} AS savings, monthly AS current FROM steady"""

    unused_sql = f"""
WITH per_commitment AS (
    SELECT CommitmentDiscountId,
           coalesce(sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Unused'), 0)
               AS unused,
           coalesce(sum(EffectiveCost) FILTER (WHERE CommitmentDiscountStatus = 'Used'), 0)
               AS used,
           (epoch(max(ChargePeriodEnd)) - epoch(min(ChargePeriodStart))) / 3600.0 AS hours
    FROM p
    WHERE CommitmentDiscountId IS NOT NULL AND CommitmentDiscountStatus IN ('Used', 'Unused')
    GROUP BY CommitmentDiscountId
)
SELECT unused * {hpm} / hours AS savings, (used + unused) * {hpm} / hours AS current
FROM per_commitment
WHERE unused > 0 AND hours > 0 AND used / (used + unused) < {un["min_utilization"]}"""

    text = "concat_ws(' ', ChargeDescription, SkuId)"
    list_egress = _sql_tiered("monthly_gb", cdn["egress_tier_limits_gb"], cdn["egress_tier_prices"])
    cdn_transfer = _sql_tiered(
        "billable_gb", cdn["cloudfront_tier_limits_gb"], cdn["cloudfront_tier_prices"]
    )
    cdn_sql = f"""
WITH export_period AS (
    -- The export's whole period, not the source's own first and last charge.
    SELECT (epoch(max(ChargePeriodEnd)) - epoch(min(ChargePeriodStart))) / 86400.0 AS days
    FROM p
), egress AS (
    SELECT coalesce(SubAccountId, 'unknown') AS account_id,
           coalesce(ResourceId, ServiceName, 'unknown') AS source,
           sum({qty}) AS gb, sum({cost}) AS cost
    FROM p
    WHERE regexp_matches({text}, {_sql_text(cdn["egress_pattern"])})
      AND NOT regexp_matches({text}, {_sql_text(cdn["not_internet_pattern"])})
      AND NOT regexp_matches(coalesce(ServiceName, ''), {_sql_text(cdn["cdn_service_pattern"])})
      AND lower(PricingUnit) IN ({_sql_list(cdn["gb_units"])})
    GROUP BY ALL
), monthly AS (
    SELECT account_id, gb / days * {dpm} AS monthly_gb, cost / days * {dpm} AS direct_cost
    FROM egress CROSS JOIN export_period WHERE days > 0
), candidates AS (
    SELECT *, monthly_gb / sum(monthly_gb) OVER (PARTITION BY account_id) AS share
    FROM monthly WHERE monthly_gb >= {cdn["min_monthly_gb"]}
), billable AS (
    SELECT *, greatest(monthly_gb - {cdn["free_tier_gb"]} * share, 0) AS billable_gb,
           greatest(monthly_gb * {cdn["gib"]} / {cdn["assumed_object_bytes"]}
                    - {cdn["free_tier_requests"]} * share, 0) AS billable_requests
    FROM candidates
), priced AS (
    SELECT CASE WHEN coalesce(direct_cost, 0) > 0 THEN direct_cost
                ELSE {list_egress}
           END AS egress_cost,
           {cdn_transfer}
           + billable_requests / 10000.0 * {cdn["https_price_per_10k_requests"]} AS cdn_cost
    FROM billable
)
SELECT egress_cost AS savings, egress_cost AS current FROM priced
WHERE egress_cost - cdn_cost >= {cdn["min_net_monthly_saving"]}"""

    windows = sorted({int(w) for w in an["windows_days"] if w > 0})
    window_sums = ", ".join(
        f"coalesce(sum(cost) FILTER (WHERE back < {w}), 0) AS current_{w}, "
        f"coalesce(sum(cost) FILTER (WHERE back >= {w} AND back < {2 * w}), 0) AS previous_{w}"
        for w in windows
    )
    service_sums = ", ".join(
        f"sum(current_{w}) AS current_{w}, sum(previous_{w}) AS previous_{w}" for w in windows
    )
    per_window = " UNION ALL ".join(
        f"SELECT kind, SubAccountId, ServiceName, ResourceId, {w} AS window_days, "
        f"current_{w} AS current_cost, previous_{w} AS previous_cost FROM keyed "
        f"WHERE span >= {2 * w - 1}"
        for w in windows
    )
    include_new = "true" if an["include_new_spend"] else "false"
    anomaly_sql = f"""
WITH daily AS (
    SELECT SubAccountId, ServiceName, ResourceId, CAST(ChargePeriodStart AS DATE) AS day,
           sum({cost}) AS cost
    FROM p WHERE ChargePeriodStart IS NOT NULL GROUP BY ALL
), anchored AS (
    SELECT *, max(day) OVER () - day AS back, max(day) OVER () - min(day) OVER () AS span
    FROM daily
), per_resource AS (
    SELECT SubAccountId, ServiceName, ResourceId, any_value(span) AS span, {window_sums}
    FROM anchored GROUP BY SubAccountId, ServiceName, ResourceId
), keyed AS (
    SELECT 'billed_resource' AS kind, * FROM per_resource WHERE ResourceId IS NOT NULL
    UNION ALL BY NAME
    SELECT 'billed_service' AS kind, SubAccountId, ServiceName, NULL AS ResourceId,
           any_value(span) AS span, {service_sums}
    FROM per_resource GROUP BY SubAccountId, ServiceName
), jumped AS (
    SELECT *, current_cost - previous_cost AS increase FROM ({per_window})
    WHERE current_cost - previous_cost >= {an["min_increase"]}
      AND CASE WHEN previous_cost <= 0 THEN {include_new}
               ELSE current_cost >= previous_cost * {an["min_ratio"]} END
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY kind, SubAccountId, ServiceName, ResourceId
                                 ORDER BY increase DESC, window_days) AS rank
    FROM jumped
)
SELECT 0.0 AS savings, current_cost * {dpm} / window_days AS current FROM ranked
WHERE rank = 1"""

    missing = [
        f"NOT coalesce(regexp_matches(Tags, {_sql_text(t)}), false)" for t in ua["tag_patterns"]
    ]
    untagged = " OR ".join(missing) if missing else "false"
    unallocated_sql = f"""
WITH daily AS (
    SELECT SubAccountId, ServiceName, Tags, CAST(ChargePeriodStart AS DATE) AS day,
           sum({cost}) AS cost
    FROM p
    WHERE ChargePeriodStart IS NOT NULL
      AND ChargeCategory IN ({_sql_list(ua["charge_categories"])})
    GROUP BY ALL
), anchored AS (
    SELECT *, max(day) OVER () AS anchor, min(day) OVER () AS first_day FROM daily
), windowed AS (
    SELECT *, {untagged} AS untagged FROM anchored WHERE anchor - day < {ua["window_days"]}
), per_service AS (
    SELECT SubAccountId, ServiceName,
           coalesce(sum(cost) FILTER (WHERE untagged), 0) AS untagged_cost,
           least({ua["window_days"]}, any_value(anchor) - any_value(first_day) + 1) AS days
    FROM windowed GROUP BY SubAccountId, ServiceName
), flagged AS (
    SELECT untagged_cost, untagged_cost * {dpm} / days AS monthly FROM per_service
)
SELECT 0.0 AS savings, monthly AS current FROM flagged
WHERE untagged_cost > 0 AND monthly >= {ua["min_monthly_cost"]}"""

    return {
        "spend": "SELECT sum(EffectiveCost) AS savings, sum(BilledCost) AS current, "
        "min(ChargePeriodStart), greatest(max(ChargePeriodEnd), max(ChargePeriodStart)) FROM p",
        "top_resources": "SELECT sum(EffectiveCost) AS savings, sum(BilledCost) AS current, "
        "first(ResourceName), first(ServiceName), first(SubAccountId) FROM p "
        "WHERE ResourceId IS NOT NULL GROUP BY ResourceId "
        f"ORDER BY savings DESC, current DESC, ResourceId LIMIT {TOP}",
        ON_DEMAND: on_demand_sql,
        UNUSED: unused_sql,
        CDN: cdn_sql,
        ANOMALY: anomaly_sql,
        UNALLOCATED: unallocated_sql,
        IDLE: idle_sql,
    }


def run_duckdb(path: str, settings: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    if path.endswith(".csv"):
        # Loaded once into a table, as a DuckDB user would before several queries (a view
        # would parse the CSV again for each).
        con.execute(
            f"CREATE TABLE p AS SELECT * FROM read_csv({_sql_text(path)}, header = true, "
            f"timestampformat = {_sql_text(CSV_TIMESTAMP)})"
        )
    else:
        con.execute(f"CREATE VIEW p AS SELECT * FROM read_parquet({_sql_text(path)})")
    results, timings = {}, {}
    for name, query in duckdb_queries(settings).items():
        began = time.perf_counter()
        rows = con.execute(query).fetchall()
        timings[name] = time.perf_counter() - began
        results[name] = _fingerprint(
            len(rows) if name != "spend" else 1,
            sum(r[0] or 0.0 for r in rows),
            sum(r[1] or 0.0 for r in rows),
        )
    return {"seconds": time.perf_counter() - started, "results": results, "timings": timings}


# --- pandas ------------------------------------------------------------------------------


def _pandas_tiered(gb: Any, limits: list[float], prices: list[float]) -> Any:
    """network.tiered in pandas: each GB at its own tier's price."""
    total = gb * 0.0
    lower = 0.0
    for index, price in enumerate(prices):
        upper = limits[index] if index < len(limits) else None
        capped = gb if upper is None else gb.clip(upper=upper)
        total = total + (capped - lower).clip(lower=0.0) * price
        lower = upper if upper is not None else lower
    return total


def pandas_idle(df: Any, s: dict[str, Any]) -> Fingerprint:
    """rightsizing.billing-idle: per resource and unit, then per resource."""
    import pandas as pd

    p = s[IDLE]
    usage = df[(df["ChargeCategory"] == p["charge_category"]) & df["ResourceId"].notna()]
    cost = usage["EffectiveCost"].fillna(usage["BilledCost"])
    usage = usage.assign(
        cost=cost,
        committed=cost.where(usage["PricingCategory"] == p["committed_pricing"], 0.0),
        qty=usage["ConsumedQuantity"].fillna(usage["PricingQuantity"]),
        period_hours=(usage["ChargePeriodEnd"] - usage["ChargePeriodStart"]).dt.total_seconds()
        / 3600.0,
    )
    per_unit = (
        usage.groupby(["ResourceId", "ConsumedUnit", "PricingUnit"], dropna=False, observed=True)
        .agg(
            periods=("ChargePeriodStart", "nunique"),
            period_hours=("period_hours", "max"),
            first_start=("ChargePeriodStart", "min"),
            last_end=("ChargePeriodEnd", "max"),
            cost=("cost", "sum"),
            committed=("committed", "sum"),
            qty=("qty", "sum"),
            n=("cost", "size"),
        )
        .reset_index()
    )
    unit = per_unit["ConsumedUnit"].fillna(per_unit["PricingUnit"])
    lowered = unit.str.strip().str.lower()
    per_unit["metered"] = (
        unit.notna()
        & ~lowered.str.contains(p["time_units"], regex=True).fillna(False).astype(bool)
        & ~lowered.str.contains(p["capacity_units"], regex=True).fillna(False).astype(bool)
    )
    covered = per_unit["periods"] * per_unit["period_hours"].fillna(1.0).clip(lower=1)
    transfer = lowered.str.contains(p["transfer_units"], regex=True).fillna(False).astype(bool)
    per_unit["covered"] = covered.where(~transfer)
    per_unit["metered_qty"] = per_unit["qty"].where(per_unit["metered"], 0.0)
    per_unit["metered_n"] = per_unit["n"].where(per_unit["metered"], 0)
    per_unit["own_n"] = per_unit["n"].where(~transfer, 0)
    per = per_unit.groupby("ResourceId", observed=True).agg(
        billed=("covered", "max"),
        own_n=("own_n", "sum"),
        first_start=("first_start", "min"),
        last_end=("last_end", "max"),
        cost=("cost", "sum"),
        committed=("committed", "sum"),
        qty=("metered_qty", "sum"),
        metered_n=("metered_n", "sum"),
    )
    span = (per["last_end"].max() - per["first_start"].min()) / pd.Timedelta(hours=1)
    hours = per["billed"].clip(upper=span)
    keep = (
        (span >= p["min_period_hours"])
        & (per["metered_n"] > 0)
        & (per["own_n"] > 0)
        & (hours / span >= p["min_billed_hour_share"])
        & (per["qty"] / hours < p["max_quantity_per_hour"])
    )
    monthly = per["cost"][keep] / hours[keep] * s["hours_per_month"]
    before_discounts = (monthly * 100).apply(math.floor) / 100
    share = (per["committed"][keep] / per["cost"][keep]).fillna(0.0).clip(0.0, 1.0)
    # What a commitment pays for stays on the bill until it ends: deferred, not counted.
    savings = (before_discounts * (1.0 - share) * 100).apply(math.floor) / 100
    kept = before_discounts > 0
    return _fingerprint(int(kept.sum()), savings[kept].sum(), monthly[kept].sum())


def pandas_on_demand(df: Any, s: dict[str, Any]) -> Fingerprint:
    """commitments.on-demand-billing: steady on-demand usage per resource."""
    p = s[ON_DEMAND]
    rows = df[
        (df["ChargeCategory"] == "Usage")
        & df["PricingCategory"].isin(p["pricing"])
        & df["ResourceId"].notna()
        & df["ServiceCategory"].isin(p["service_categories"])
    ]
    per = (
        rows.assign(
            length=rows["ChargePeriodEnd"] - rows["ChargePeriodStart"],
            day=rows["ChargePeriodStart"].dt.floor("D"),
        )
        .groupby("ResourceId", observed=True)
        .agg(
            length=("length", "max"),
            cost=("EffectiveCost", "sum"),
            first_start=("ChargePeriodStart", "min"),
            last_end=("ChargePeriodEnd", "max"),
            periods=("ChargePeriodStart", "nunique"),
            days=("day", "nunique"),
        )
    )
    # The export's whole period, over every line item.
    whole = df["ChargePeriodEnd"].max() - df["ChargePeriodStart"].min()
    period_hours = whole.total_seconds() / 3600.0
    billed_hours = per["periods"] * per["length"].dt.total_seconds() / 3600.0
    steady = per[
        (period_hours > 0)
        & (billed_hours / period_hours >= p["min_hour_share"])
        & (per["days"] >= p["min_days"])
        & (per["cost"] > 0)
    ]
    monthly = steady["cost"] * s["hours_per_month"] / period_hours
    return _fingerprint(len(steady), (monthly * p["discount"]).sum(), monthly.sum())


def pandas_unused(df: Any, s: dict[str, Any]) -> Fingerprint:
    """commitments.unused-billing: Unused and Used EffectiveCost per commitment."""
    status = df["CommitmentDiscountStatus"]
    rows = df[df["CommitmentDiscountId"].notna() & status.isin(["Used", "Unused"])]
    status = rows["CommitmentDiscountStatus"]
    per = (
        rows.assign(
            unused=rows["EffectiveCost"].where(status == "Unused", 0.0),
            used=rows["EffectiveCost"].where(status == "Used", 0.0),
        )
        .groupby("CommitmentDiscountId", observed=True)
        .agg(
            unused=("unused", "sum"),
            used=("used", "sum"),
            first_start=("ChargePeriodStart", "min"),
            last_end=("ChargePeriodEnd", "max"),
        )
    )
    hours = (per["last_end"] - per["first_start"]).dt.total_seconds() / 3600.0
    total = per["used"] + per["unused"]
    keep = (per["unused"] > 0) & (hours > 0) & (per["used"] / total < s[UNUSED]["min_utilization"])
    scale = s["hours_per_month"] / hours[keep]
    return _fingerprint(
        int(keep.sum()), (per["unused"][keep] * scale).sum(), (total[keep] * scale).sum()
    )


def pandas_cdn(df: Any, s: dict[str, Any]) -> Fingerprint:
    """network.billing-cdn-egress: internet egress per source, against CloudFront."""
    p = s[CDN]
    text = df["ChargeDescription"].str.cat(df["SkuId"], sep=" ", na_rep="")
    is_egress = (
        text.str.contains(p["egress_pattern"], regex=True).fillna(False).astype(bool)
        & ~text.str.contains(p["not_internet_pattern"], regex=True).fillna(False).astype(bool)
        & ~df["ServiceName"].fillna("").str.contains(p["cdn_service_pattern"], regex=True)
        & df["PricingUnit"].str.lower().isin(p["gb_units"])
    )
    rows = df[is_egress]
    per = (
        rows.assign(
            account_id=rows["SubAccountId"].fillna("unknown"),
            source=rows["ResourceId"].fillna(rows["ServiceName"]).fillna("unknown"),
            gb=rows["ConsumedQuantity"].fillna(rows["PricingQuantity"]),
            cost=rows["EffectiveCost"].fillna(rows["BilledCost"]),
        )
        .groupby(["account_id", "source"], observed=True)[["gb", "cost"]]
        .sum()
        .reset_index()
    )
    # The export's whole period, not the source's own first and last charge.
    days = (df["ChargePeriodEnd"].max() - df["ChargePeriodStart"].min()).total_seconds() / 86400.0
    per = per.iloc[0:0] if not days > 0 else per
    per = per.assign(
        monthly_gb=per["gb"] / days * s["days_per_month"],
        direct_cost=per["cost"] / days * s["days_per_month"],
    )
    per = per[per["monthly_gb"] >= p["min_monthly_gb"]]
    share = per["monthly_gb"] / per.groupby("account_id")["monthly_gb"].transform("sum")
    requests = per["monthly_gb"] * p["gib"] / p["assumed_object_bytes"]
    billable_gb = (per["monthly_gb"] - p["free_tier_gb"] * share).clip(lower=0.0)
    billable_requests = (requests - p["free_tier_requests"] * share).clip(lower=0.0)
    list_egress = _pandas_tiered(
        per["monthly_gb"], p["egress_tier_limits_gb"], p["egress_tier_prices"]
    )
    egress_cost = per["direct_cost"].where(per["direct_cost"].fillna(0.0) > 0, list_egress)
    cdn_cost = (
        _pandas_tiered(billable_gb, p["cloudfront_tier_limits_gb"], p["cloudfront_tier_prices"])
        + billable_requests / 10_000.0 * p["https_price_per_10k_requests"]
    )
    saving = egress_cost[egress_cost - cdn_cost >= p["min_net_monthly_saving"]]
    return _fingerprint(len(saving), saving.sum(), saving.sum())


def pandas_anomaly(df: Any, s: dict[str, Any]) -> Fingerprint:
    """observability.cost-anomaly: 7- and 30-day windows per resource and per service."""
    import pandas as pd

    p = s[ANOMALY]
    windows = sorted({int(w) for w in p["windows_days"] if w > 0})
    rows = df[df["ChargePeriodStart"].notna()]
    keys = ["SubAccountId", "ServiceName", "ResourceId"]
    daily = (
        rows.assign(
            day=rows["ChargePeriodStart"].dt.floor("D"),
            cost=rows["EffectiveCost"].fillna(rows["BilledCost"]),
        )
        .groupby([*keys, "day"], dropna=False, observed=True)["cost"]
        .sum()
        .reset_index()
    )
    anchor, first_day = daily["day"].max(), daily["day"].min()
    back = (anchor - daily["day"]).dt.days
    span = (anchor - first_day).days
    sums = {}
    for w in windows:
        sums[f"current_{w}"] = daily["cost"].where(back < w, 0.0)
        sums[f"previous_{w}"] = daily["cost"].where((back >= w) & (back < 2 * w), 0.0)
    per_resource = (
        daily[keys]
        .assign(**sums)
        .groupby(keys, dropna=False, observed=True)[list(sums)]
        .sum()
        .reset_index()
    )
    per_service = (
        per_resource.groupby(keys[:2], dropna=False, observed=True)[list(sums)].sum().reset_index()
    )
    keyed = pd.concat(
        [
            per_resource[per_resource["ResourceId"].notna()].assign(kind="billed_resource"),
            per_service.assign(kind="billed_service", ResourceId=None),
        ],
        ignore_index=True,
    )
    long = pd.concat(
        [
            keyed[["kind", *keys]].assign(
                window_days=w,
                current_cost=keyed[f"current_{w}"],
                previous_cost=keyed[f"previous_{w}"],
            )
            for w in windows
            if span >= 2 * w - 1
        ],
        ignore_index=True,
    )
    increase = long["current_cost"] - long["previous_cost"]
    is_new = long["previous_cost"] <= 0
    jumped = long[
        (increase >= p["min_increase"])
        & (
            (is_new & p["include_new_spend"])
            | (~is_new & (long["current_cost"] >= long["previous_cost"] * p["min_ratio"]))
        )
    ].assign(increase=increase)
    chosen = jumped.sort_values(
        ["increase", "window_days"], ascending=[False, True]
    ).drop_duplicates(["kind", *keys])
    monthly = chosen["current_cost"] * s["days_per_month"] / chosen["window_days"]
    return _fingerprint(len(chosen), 0.0, monthly.sum())


def pandas_unallocated(df: Any, s: dict[str, Any]) -> Fingerprint:
    """observability.unallocated-spend: untagged Usage cost per account and service."""
    p = s[UNALLOCATED]
    rows = df[df["ChargePeriodStart"].notna() & df["ChargeCategory"].isin(p["charge_categories"])]
    daily = (
        rows.assign(
            day=rows["ChargePeriodStart"].dt.floor("D"),
            cost=rows["EffectiveCost"].fillna(rows["BilledCost"]),
        )
        .groupby(["SubAccountId", "ServiceName", "Tags", "day"], dropna=False, observed=True)[
            "cost"
        ]
        .sum()
        .reset_index()
    )
    anchor, first_day = daily["day"].max(), daily["day"].min()
    daily = daily[(anchor - daily["day"]).dt.days < p["window_days"]]
    untagged = daily["Tags"].isna() & False
    for pattern in p["tag_patterns"]:
        untagged = untagged | ~daily["Tags"].str.contains(pattern, regex=True).fillna(False).astype(
            bool
        )
    per_service = (
        daily.assign(untagged_cost=daily["cost"].where(untagged, 0.0))
        .groupby(["SubAccountId", "ServiceName"], dropna=False, observed=True)["untagged_cost"]
        .sum()
    )
    days = min(p["window_days"], (anchor - first_day).days + 1)
    monthly = per_service * s["days_per_month"] / days
    flagged = monthly[(per_service > 0) & (monthly >= p["min_monthly_cost"])]
    return _fingerprint(len(flagged), 0.0, flagged.sum())


def pandas_spend(df: Any, _s: dict[str, Any]) -> Fingerprint:
    # The period as the spend block reports it, though the fingerprint holds the costs.
    _ = (
        df["ChargePeriodStart"].min(),
        max(df["ChargePeriodEnd"].max(), df["ChargePeriodStart"].max()),
    )
    return _fingerprint(1, df["EffectiveCost"].sum(), df["BilledCost"].sum())


def pandas_top_resources(df: Any, _s: dict[str, Any]) -> Fingerprint:
    top = (
        df[df["ResourceId"].notna()]
        .groupby("ResourceId", observed=True)
        .agg(
            effective=("EffectiveCost", "sum"),
            billed=("BilledCost", "sum"),
            name=("ResourceName", "first"),
            service=("ServiceName", "first"),
            account=("SubAccountId", "first"),
        )
        .reset_index()
        .sort_values(["effective", "billed", "ResourceId"], ascending=[False, False, True])
        .head(TOP)
    )
    return _fingerprint(len(top), top["effective"].sum(), top["billed"].sum())


PANDAS: dict[str, Callable[[Any, dict[str, Any]], Fingerprint]] = {
    "spend": pandas_spend,
    "top_resources": pandas_top_resources,
    ON_DEMAND: pandas_on_demand,
    UNUSED: pandas_unused,
    CDN: pandas_cdn,
    ANOMALY: pandas_anomaly,
    UNALLOCATED: pandas_unallocated,
    IDLE: pandas_idle,
}


def run_pandas(path: str, settings: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    started = time.perf_counter()
    if path.endswith(".csv"):
        # Strings stay strings (no inference across 10M rows); the two charge period columns
        # parsed as the UTC timestamps the file writes.
        numeric = ["BilledCost", "EffectiveCost", "ConsumedQuantity", "PricingQuantity"]
        dtypes = {c: ("float64" if c in numeric else "string") for c in COLUMNS}
        periods = ["ChargePeriodStart", "ChargePeriodEnd"]
        df = pd.read_csv(
            path, usecols=COLUMNS, dtype={c: t for c, t in dtypes.items() if c not in periods}
        )
        for column in periods:
            df[column] = pd.to_datetime(df[column], utc=True, format=CSV_TIMESTAMP)
    else:
        df = pd.read_parquet(path, columns=COLUMNS, engine="pyarrow")
    timings = {"read": time.perf_counter() - started}
    results = {}
    for name, compute in PANDAS.items():
        began = time.perf_counter()
        results[name] = compute(df, settings)
        timings[name] = time.perf_counter() - began
    return {"seconds": time.perf_counter() - started, "results": results, "timings": timings}


# --- the parent: data, subprocesses, table ----------------------------------------------

RUNNERS: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
    "costscan": run_costscan,
    "duckdb": run_duckdb,
    "pandas": run_pandas,
}


def child(engine: str, path: str, settings: str) -> None:
    outcome = RUNNERS[engine](path, json.loads(settings))
    outcome["peak_mb"] = peak_mb()
    print(json.dumps(outcome))


def ensure_data(rows: int) -> Path:
    # v3: unused reserved-instance hours and internet egress rows, so every billing
    # policy has something to find (v2: the first 30% of rows are always-on resources).
    path = OUT / f"focus-synthetic-v3-{rows}.parquet"
    if not path.exists():
        print(f"generating {rows:,} synthetic FOCUS rows -> {path.relative_to(ROOT)}", flush=True)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "focus_synth.py"),
                "--rows",
                str(rows),
                "--out",
                str(path),
            ],
            check=True,
            cwd=ROOT,
        )
    return path


def ensure_csv(parquet: Path) -> Path:
    """The synthetic export as FOCUS CSV (ISO 8601 UTC timestamps), cached beside it."""
    path = parquet.with_suffix(".csv")
    if not path.exists():
        import polars as pl

        print(f"writing {path.relative_to(ROOT)}", flush=True)
        partial = path.with_suffix(".csv.partial")
        pl.scan_parquet(parquet).sink_csv(partial, datetime_format=CSV_TIMESTAMP)
        partial.replace(path)
    return path


def measure(engine: str, path: Path, settings: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(
        [sys.executable, __file__, "--child", engine, "--path", str(path), "--settings", settings],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{done.stderr}")
    outcome: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if not outcome.get("peak_mb") and after > before:
        outcome["peak_mb"] = after / 1024
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--source",
        choices=("parquet", "csv"),
        default="parquet",
        help="the export's file format (csv: written once from the Parquet file)",
    )
    parser.add_argument(
        "--growth",
        metavar="SIZES",
        help="growth mode: millions of rows, comma-separated (10,40,100); each size runs "
        "`costscan run` alone and prints its time, peak memory and the slopes "
        "(benchmarks/billing_memory.py, which takes the same --sizes)",
    )
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.growth:
        # One implementation of the growth runs: billing_memory.py's, beside this file.
        script = Path(__file__).with_name("billing_memory.py")
        raise SystemExit(subprocess.call([sys.executable, str(script), "--sizes", args.growth]))
    if args.child:
        child(args.child, args.path, args.settings)
        return
    path = ensure_data(args.rows)
    if args.source == "csv":
        path = ensure_csv(path)
    settings = json.dumps(policy_settings())
    outcomes = {}
    for engine in ENGINES:
        print(f"running {engine} ...", flush=True)
        outcomes[engine] = measure(engine, path, settings)
    table = print_table(args.rows, outcomes, args.source)
    latest = OUT / f"billing-latest{'-csv' if args.source == 'csv' else ''}.txt"
    latest.write_text(table + "\n", encoding="utf-8")
    print(f"\nwritten to {latest.relative_to(ROOT)}")


def print_table(rows: int, outcomes: dict[str, dict[str, Any]], source: str = "parquet") -> str:
    """The comparison table (for the README), printed and returned."""
    duck = outcomes["duckdb"]["seconds"]
    ours = outcomes["costscan"]["seconds"]
    pandas = outcomes["pandas"]["seconds"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"Billing benchmark: {rows:,} synthetic FOCUS rows ({source}), "
        f"{os.cpu_count()} CPU cores (load {load:.1f} at the end), polars {_version('polars')}, "
        f"DuckDB {_version('duckdb')}, pandas {_version('pandas')}",
        "",
        f"| {'engine':<27} | {'seconds':>8} | {'peak MB':>8} | {'vs DuckDB':>9} | "
        f"{'faster than pandas':>18} |",
        f"|{'-' * 29}|{'-' * 9}:|{'-' * 9}:|{'-' * 10}:|{'-' * 19}:|",
    ]
    labels = {
        "costscan": f"costscan ({outcomes['costscan'].get('engine', 'polars')})",
        "duckdb": "DuckDB (same aggregations)",
        "pandas": "pandas (same aggregations)",
    }
    for engine in ENGINES:
        o = outcomes[engine]
        lines.append(
            f"| {labels[engine]:<27} | {o['seconds']:>8.2f} | {o['peak_mb']:>8.0f} | "
            f"{o['seconds'] / duck:>8.2f}x | {pandas / o['seconds']:>17.2f}x |"
        )
    lines += [
        "",
        "Per policy: costscan's findings, Σ monthly_savings and Σ current_monthly_cost;",
        "agree = the three engines give the same count and sums (to the cent, or 1e-6);",
        "DuckDB and pandas seconds per query (costscan builds its rollup, then collects every",
        "plan at once).",
        "",
        f"| {'policy':<33} | {'findings':>8} | {'savings $/mo':>13} | {'current $/mo':>13} | "
        f"agree | {'DuckDB s':>8} | {'pandas s':>8} |",
        f"|{'-' * 35}|{'-' * 9}:|{'-' * 14}:|{'-' * 14}:|:{'-' * 5}:|{'-' * 9}:|{'-' * 9}:|",
    ]
    disagreements = []
    unmirrored = []
    names = [*POLICIES, *CONTEXT]
    registered = set(outcomes["costscan"]["results"]) - set(CONTEXT)
    names += sorted(registered - set(POLICIES))
    for name in names:
        got = {e: outcomes[e]["results"].get(name) for e in ENGINES}
        reference = got["costscan"]
        mirrored = got["duckdb"] is not None or got["pandas"] is not None
        agree = reference is not None and all(
            _close(got[e], reference) for e in ("duckdb", "pandas")
        )
        if not mirrored:
            # A billing policy registered after the mirrors were written: costscan's figure
            # alone, said so, neither a yes nor a NO.
            unmirrored.append(name)
        elif not agree:
            disagreements.append(f"  {name}: " + ", ".join(f"{e}={got[e]}" for e in ENGINES))
        count, savings, current = reference or [0, 0.0, 0.0]
        duck_s = outcomes["duckdb"].get("timings", {}).get(name)
        pandas_s = outcomes["pandas"].get("timings", {}).get(name)
        lines.append(
            f"| {name:<33} | {int(count):>8} | {savings:>13,.2f} | {current:>13,.2f} | "
            f"{'yes' if agree else 'NO' if mirrored else '-':>5} | {_seconds(duck_s):>8} | "
            f"{_seconds(pandas_s):>8} |"
        )
    rollup = outcomes["costscan"].get("timings", {}).get("rollup")
    lines.append(
        f"| {'(costscan: billing rollup, s)':<33} | {_seconds(rollup):>8} | {'':>13} | "
        f"{'':>13} | {'':>5} | {'':>8} | {'':>8} |"
    )
    read = outcomes["pandas"].get("timings", {}).get("read")
    lines.append(
        f"| {'(pandas: read the file)':<33} | {'':>8} | {'':>13} | {'':>13} | {'':>5} | "
        f"{'':>8} | {_seconds(read):>8} |"
    )
    lines.append("")
    lines.append(
        f"all mirrored results agree across engines: {'yes' if not disagreements else 'NO'}"
    )
    lines.extend(disagreements)
    if unmirrored:
        lines.append(
            f"  no DuckDB or pandas mirror yet (costscan's figures alone): {', '.join(unmirrored)}"
        )
    checks = [
        (f"costscan within 1.5x of DuckDB ({ours / duck:.2f}x)", ours <= 1.5 * duck),
        (f"costscan >= 5x faster than pandas ({pandas / ours:.2f}x)", pandas / ours >= 5),
        (
            f"costscan peak < 3 GB ({outcomes['costscan']['peak_mb']:.0f} MB)",
            outcomes["costscan"]["peak_mb"] < 3 * 1024,
        ),
    ]
    for label, met in checks:
        lines.append(f"  [{'met' if met else 'MISSED'}] {label}")
    text = "\n".join(lines)
    print()
    print(text)
    return text


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def _close(a: list[float] | None, b: list[float]) -> bool:
    if a is None:
        return False
    return int(a[0]) == int(b[0]) and all(
        abs(x - y) <= max(0.05, 1e-6 * abs(y)) for x, y in zip(a[1:], b[1:], strict=True)
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
