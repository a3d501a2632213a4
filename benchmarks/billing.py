"""Billing at scale: costscan against DuckDB and pandas on the same FOCUS aggregations.

Writes (once, cached under benchmarks/out/) a synthetic FOCUS Parquet file of ``--rows``
rows (benchmarks/focus_synth.py), then runs each engine in its own subprocess, so each
one's peak memory is its own (VmHWM from /proc, falling back to ru_maxrss), and prints
them side by side. Every engine computes the same aggregations, the ones the billing
policies rest on:

- spend: billed and effective cost over every row, and the charge period;
- spend by ServiceName and SubAccountId;
- idle: per ResourceId, hourly usage rows and consumed quantity (billed often, used little);
- week over week: cost per ResourceId and ServiceName per ISO week, against the week before;
- untagged spend by service and account (Tags JSON lacking a required key);
- commitment utilization by CommitmentDiscountId and status, and coverage by PricingCategory;
- data transfer spend by source (ServiceCategory Networking priced per GB);
- top resources by cost.

The costscan side reads through ``providers.exports.read_billing`` and ``spend_summary``,
runs the aggregations as lazy polars queries collected together, and then runs every
registered policy whose ``needs`` include "billing" (none until the billing policies land).
Each engine's results are fingerprinted (row count and cost total per aggregation) so the
table also says whether the three agree.

Targets (DESIGN.md): within 1.5x of DuckDB, at least 5x faster than pandas, costscan peak
under 3 GB.

    python benchmarks/billing.py                # 10 million rows
    python benchmarks/billing.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
ENGINES = ("costscan", "duckdb", "pandas")

# Shared thresholds, so every engine answers the same question.
IDLE_MIN_ROWS = 100  # billed at least this many hours
IDLE_MAX_USAGE_PER_ROW = 0.05
WOW_RATIO, WOW_MIN_DELTA = 1.5, 5.0
REQUIRED_TAGS = ("owner", "cost_center")
TOP = 100

# What the aggregations read; pandas loads exactly these.
COLUMNS = [
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ServiceName",
    "ServiceCategory",
    "SubAccountId",
    "ResourceId",
    "RegionId",
    "ChargeCategory",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ConsumedQuantity",
    "PricingQuantity",
    "PricingUnit",
    "PricingCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountStatus",
    "Tags",
]


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


# --- costscan (polars, through the provider) ---------------------------------------------


def run_costscan(path: str) -> dict[str, Any]:
    import polars as pl

    from providers.exports import read_billing, spend_summary

    started = time.perf_counter()
    read = read_billing([path])
    scan = read.scan
    spend = spend_summary(scan)
    cost = pl.col("EffectiveCost").sum()
    with_resource = scan.filter(pl.col("ResourceId").is_not_null())
    tags = pl.col("Tags")
    lacking = tags.is_null()
    for key in REQUIRED_TAGS:
        lacking = lacking | ~tags.str.contains(f'"{key}":', literal=True)
    is_usage = pl.col("ChargeCategory") == "Usage"
    weekly = with_resource.group_by(
        "ResourceId", "ServiceName", pl.col("ChargePeriodStart").dt.truncate("1w").alias("week")
    ).agg(cost.alias("cost"))
    # Aggregations that share group keys share one pass: spend and untagged spend by
    # service and account; idle usage and top cost by resource.
    by_service_account = scan.group_by("ServiceName", "SubAccountId").agg(
        cost.alias("cost"),
        pl.col("BilledCost").sum().alias("billed"),
        pl.col("EffectiveCost").filter(lacking).sum().alias("untagged_cost"),
        lacking.any().alias("has_untagged"),
    )
    by_resource = with_resource.group_by("ResourceId").agg(
        cost.alias("cost"),
        is_usage.sum().alias("hours"),
        pl.col("ConsumedQuantity").filter(is_usage).sum().alias("usage"),
        pl.col("EffectiveCost").filter(is_usage).sum().alias("usage_cost"),
    )
    queries = {
        "by_service_account": by_service_account,
        "by_resource": by_resource,
        "week_over_week": weekly.with_columns(
            pl.col("cost")
            .shift(1)
            .over(["ResourceId", "ServiceName"], order_by="week")
            .alias("previous")
        ).filter(
            (pl.col("previous") > 0)
            & (pl.col("cost") > WOW_RATIO * pl.col("previous"))
            & (pl.col("cost") - pl.col("previous") > WOW_MIN_DELTA)
        ),
        "commitments": scan.filter(pl.col("CommitmentDiscountId").is_not_null())
        .group_by("CommitmentDiscountId", "CommitmentDiscountStatus")
        .agg(cost.alias("cost"), pl.col("ListCost").sum().alias("list")),
        "coverage": scan.filter(is_usage)
        .group_by("PricingCategory")
        .agg(cost.alias("cost"), pl.col("ListCost").sum().alias("list")),
        "data_transfer": scan.filter(
            (pl.col("ServiceCategory") == "Networking") & (pl.col("PricingUnit") == "GB")
        )
        .group_by("ResourceId", "RegionId")
        .agg(cost.alias("cost"), pl.col("PricingQuantity").sum().alias("gb")),
    }
    # Streamed together, without caching the shared scan: common-subplan elimination would
    # hold every column the queries read in memory at once (2.5 GB at 10M rows).
    collected = pl.collect_all(
        list(queries.values()),
        engine="streaming",
        optimizations=pl.QueryOptFlags(comm_subplan_elim=False),
    )
    frames = dict(zip(queries, collected, strict=True))
    spend_groups = frames.pop("by_service_account")
    untagged = spend_groups.filter(pl.col("has_untagged"))
    resources = frames.pop("by_resource")
    idle = resources.filter(
        (pl.col("hours") >= IDLE_MIN_ROWS)
        & (pl.col("usage") < IDLE_MAX_USAGE_PER_ROW * pl.col("hours"))
    )
    results = {
        name: _fingerprint(frame.height, frame["cost"].sum()) for name, frame in frames.items()
    }
    results["by_service_account"] = _fingerprint(spend_groups.height, spend_groups["cost"].sum())
    results["untagged"] = _fingerprint(untagged.height, untagged["untagged_cost"].sum())
    results["idle"] = _fingerprint(idle.height, idle["usage_cost"].sum())
    top = resources.top_k(TOP, by="cost")
    results["top_resources"] = _fingerprint(top.height, top["cost"].sum())
    results["spend"] = _fingerprint(1, spend["effective_cost"])
    policy_note = _run_billing_policies(scan, spend)
    return {
        "seconds": time.perf_counter() - started,
        "results": results,
        "policies": policy_note,
    }


def _run_billing_policies(scan: Any, spend: dict[str, Any]) -> str:
    """Run every registered billing policy over the same scan; say what ran."""
    from datetime import datetime

    from scanner import registry
    from scanner.inventory import Inventory, RunContext

    try:
        policies = [p for p in registry.all_policies().values() if "billing" in p.needs]
    except Exception as exc:  # a policy module that does not import must not hide timings
        return f"policy registry failed to load: {type(exc).__name__}: {exc}"
    if not policies:
        return "no billing policies registered yet"
    now = datetime.fromisoformat(spend["period_end"]) if spend["period_end"] else None
    inventory = Inventory(provider="focus", context=RunContext.at(now))
    inventory.add_scan("billing", scan)
    findings = 0
    for policy in policies:
        findings += policy.run(inventory, policy.build_params()).collect().height
    return f"{len(policies)} billing policies ran ({findings} findings)"


# --- DuckDB ------------------------------------------------------------------------------


def run_duckdb(path: str) -> dict[str, Any]:
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    con.execute(f"CREATE VIEW p AS SELECT * FROM read_parquet('{path}')")
    lacking = " OR ".join(f"NOT contains(Tags, '\"{k}\":')" for k in REQUIRED_TAGS)
    sql = {
        "spend": "SELECT sum(EffectiveCost) AS cost, min(ChargePeriodStart), "
        "greatest(max(ChargePeriodEnd), max(ChargePeriodStart)), sum(BilledCost) FROM p",
        "by_service_account": "SELECT ServiceName, SubAccountId, sum(EffectiveCost) AS cost, "
        "sum(BilledCost) FROM p GROUP BY ALL",
        "idle": "SELECT ResourceId, count(*) AS n_rows, sum(ConsumedQuantity) AS qty, "
        "sum(EffectiveCost) AS cost FROM p WHERE ResourceId IS NOT NULL AND ChargeCategory = "
        f"'Usage' GROUP BY ResourceId HAVING count(*) >= {IDLE_MIN_ROWS} AND "
        f"sum(ConsumedQuantity) < {IDLE_MAX_USAGE_PER_ROW} * count(*)",
        "week_over_week": "WITH w AS (SELECT ResourceId, ServiceName, "
        "date_trunc('week', ChargePeriodStart) AS wk, sum(EffectiveCost) AS cost FROM p "
        "WHERE ResourceId IS NOT NULL GROUP BY ALL), l AS (SELECT *, lag(cost) OVER "
        "(PARTITION BY ResourceId, ServiceName ORDER BY wk) AS previous FROM w) "
        f"SELECT * FROM l WHERE previous > 0 AND cost > {WOW_RATIO} * previous "
        f"AND cost - previous > {WOW_MIN_DELTA}",
        "untagged": "SELECT ServiceName, SubAccountId, sum(EffectiveCost) AS cost FROM p "
        f"WHERE Tags IS NULL OR {lacking} GROUP BY ALL",
        "commitments": "SELECT CommitmentDiscountId, CommitmentDiscountStatus, "
        "sum(EffectiveCost) AS cost, sum(ListCost) FROM p WHERE CommitmentDiscountId IS NOT NULL "
        "GROUP BY ALL",
        "coverage": "SELECT PricingCategory, sum(EffectiveCost) AS cost, sum(ListCost) FROM p "
        "WHERE ChargeCategory = 'Usage' GROUP BY ALL",
        "data_transfer": "SELECT ResourceId, RegionId, sum(EffectiveCost) AS cost, "
        "sum(PricingQuantity) FROM p WHERE ServiceCategory = 'Networking' AND "
        "PricingUnit = 'GB' GROUP BY ALL",
        "top_resources": "SELECT ResourceId, sum(EffectiveCost) AS cost FROM p WHERE ResourceId "
        f"IS NOT NULL GROUP BY ResourceId ORDER BY cost DESC LIMIT {TOP}",
    }
    results = {}
    for name, query in sql.items():
        cursor = con.execute(query)
        cost_at = [d[0] for d in cursor.description].index("cost")
        rows = cursor.fetchall()
        results[name] = _fingerprint(len(rows), sum(r[cost_at] or 0.0 for r in rows))
    return {"seconds": time.perf_counter() - started, "results": results}


# --- pandas ------------------------------------------------------------------------------


def run_pandas(path: str) -> dict[str, Any]:
    import pandas as pd

    started = time.perf_counter()
    df = pd.read_parquet(path, columns=COLUMNS)
    results = {}
    results["spend"] = _fingerprint(1, df["EffectiveCost"].sum())
    by = df.groupby(["ServiceName", "SubAccountId"], dropna=False)["EffectiveCost"].sum()
    results["by_service_account"] = _fingerprint(len(by), by.sum())
    with_resource = df[df["ResourceId"].notna()]
    usage_rows = with_resource[with_resource["ChargeCategory"] == "Usage"]
    idle = usage_rows.groupby("ResourceId").agg(
        hours=("EffectiveCost", "size"),
        usage=("ConsumedQuantity", "sum"),
        cost=("EffectiveCost", "sum"),
    )
    idle = idle[
        (idle["hours"] >= IDLE_MIN_ROWS) & (idle["usage"] < IDLE_MAX_USAGE_PER_ROW * idle["hours"])
    ]
    results["idle"] = _fingerprint(len(idle), idle["cost"].sum())
    start = with_resource["ChargePeriodStart"]
    week = (start - pd.to_timedelta(start.dt.weekday, unit="D")).dt.floor("D")
    weekly = (
        with_resource.assign(week=week)
        .groupby(["ResourceId", "ServiceName", "week"], dropna=False)["EffectiveCost"]
        .sum()
        .reset_index(name="cost")
        .sort_values("week")
    )
    weekly["previous"] = weekly.groupby(["ResourceId", "ServiceName"], dropna=False)["cost"].shift(
        1
    )
    jumps = weekly[
        (weekly["previous"] > 0)
        & (weekly["cost"] > WOW_RATIO * weekly["previous"])
        & (weekly["cost"] - weekly["previous"] > WOW_MIN_DELTA)
    ]
    results["week_over_week"] = _fingerprint(len(jumps), jumps["cost"].sum())
    tags = df["Tags"]
    lacking = tags.isna()
    for key in REQUIRED_TAGS:
        lacking = lacking | ~tags.str.contains(f'"{key}":', regex=False).fillna(False).astype(bool)
    untagged = (
        df[lacking].groupby(["ServiceName", "SubAccountId"], dropna=False)["EffectiveCost"].sum()
    )
    results["untagged"] = _fingerprint(len(untagged), untagged.sum())
    committed = df[df["CommitmentDiscountId"].notna()]
    commitments = committed.groupby(
        ["CommitmentDiscountId", "CommitmentDiscountStatus"], dropna=False
    )[["EffectiveCost", "ListCost"]].sum()
    results["commitments"] = _fingerprint(len(commitments), commitments["EffectiveCost"].sum())
    coverage = (
        df[df["ChargeCategory"] == "Usage"]
        .groupby("PricingCategory", dropna=False)[["EffectiveCost", "ListCost"]]
        .sum()
    )
    results["coverage"] = _fingerprint(len(coverage), coverage["EffectiveCost"].sum())
    transfer = df[(df["ServiceCategory"] == "Networking") & (df["PricingUnit"] == "GB")]
    transfer_by = transfer.groupby(["ResourceId", "RegionId"], dropna=False)[
        ["EffectiveCost", "PricingQuantity"]
    ].sum()
    results["data_transfer"] = _fingerprint(len(transfer_by), transfer_by["EffectiveCost"].sum())
    top = with_resource.groupby("ResourceId")["EffectiveCost"].sum().nlargest(TOP)
    results["top_resources"] = _fingerprint(len(top), top.sum())
    return {"seconds": time.perf_counter() - started, "results": results}


def _fingerprint(rows: int, total: Any) -> list[float]:
    return [int(rows), round(float(total or 0.0), 2)]


# --- the parent: data, subprocesses, table ----------------------------------------------


def child(engine: str, path: str) -> None:
    runner = {"costscan": run_costscan, "duckdb": run_duckdb, "pandas": run_pandas}[engine]
    outcome = runner(path)
    outcome["peak_mb"] = peak_mb()
    print(json.dumps(outcome))


def ensure_data(rows: int) -> Path:
    # v2: the first 30% of rows are always-on resources billed every hour.
    path = OUT / f"focus-synthetic-v2-{rows}.parquet"
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


def measure(engine: str, path: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(
        [sys.executable, __file__, "--child", engine, "--path", str(path)],
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.path)
        return
    path = ensure_data(args.rows)
    outcomes = {}
    for engine in ENGINES:
        print(f"running {engine} ...", flush=True)
        outcomes[engine] = measure(engine, path)
    print_table(args.rows, outcomes)


def print_table(rows: int, outcomes: dict[str, dict[str, Any]]) -> None:
    duck = outcomes["duckdb"]["seconds"]
    ours = outcomes["costscan"]["seconds"]
    pandas = outcomes["pandas"]["seconds"]
    print()
    print(
        f"{'engine':<10} {'rows':>12} {'seconds':>9} {'peak MB':>9} "
        f"{'vs DuckDB':>10} {'pandas/x':>9}"
    )
    for engine in ENGINES:
        o = outcomes[engine]
        print(
            f"{engine:<10} {rows:>12,} {o['seconds']:>9.2f} {o['peak_mb']:>9.0f} "
            f"{o['seconds'] / duck:>9.2f}x {pandas / o['seconds']:>8.2f}x"
        )
    reference = outcomes["duckdb"]["results"]
    agree = all(
        _close(outcomes[e]["results"].get(name), fp)
        for e in ENGINES
        for name, fp in reference.items()
    )
    print()
    print(f"results agree across engines: {'yes' if agree else 'NO'}")
    if not agree:
        for name in reference:
            print(
                f"  {name}: "
                + ", ".join(f"{e}={outcomes[e]['results'].get(name)}" for e in ENGINES)
            )
    print(f"costscan policies: {outcomes['costscan'].get('policies')}")
    checks = [
        (f"costscan within 1.5x of DuckDB ({ours / duck:.2f}x)", ours <= 1.5 * duck),
        (f"costscan >= 5x faster than pandas ({pandas / ours:.2f}x)", pandas / ours >= 5),
        (
            f"costscan peak < 3 GB ({outcomes['costscan']['peak_mb']:.0f} MB)",
            outcomes["costscan"]["peak_mb"] < 3 * 1024,
        ),
    ]
    for label, met in checks:
        print(f"  [{'met' if met else 'MISSED'}] {label}")


def _close(a: list[float] | None, b: list[float]) -> bool:
    if a is None:
        return False
    return int(a[0]) == int(b[0]) and abs(a[1] - b[1]) <= max(0.05, 1e-6 * abs(b[1]))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
