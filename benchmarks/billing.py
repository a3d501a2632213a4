"""Billing at scale: every billing policy in costscan against DuckDB and pandas.

Writes (once, cached under benchmarks/out/) a synthetic FOCUS Parquet file of ``--rows``
rows (benchmarks/focus_synth.py), then runs each engine in its own subprocess, so each
one's peak memory is its own (VmHWM from /proc, falling back to ru_maxrss), and prints
them side by side.

costscan reads through ``providers.exports.read_billing`` and runs, in one
``pl.collect_all``, the spend block, the top resources and every registered policy whose
``needs`` include "billing" (from the registry, so new billing policies join by
themselves). DuckDB and pandas compute the same aggregations those rest on:

- spend: billed and effective cost over every row, and the charge period;
- spend by ServiceName and SubAccountId;
- idle: rightsizing.billing-idle's own definition (billed hours per resource and unit,
  usage-metered quantity per hour), so its findings and savings are compared to the cent;
- week over week: cost per ResourceId and ServiceName per ISO week, against the week before;
- untagged spend by service and account (Tags JSON lacking a required key);
- commitment utilization by CommitmentDiscountId and status, and coverage by PricingCategory;
- data transfer spend by source (ServiceCategory Networking priced per GB);
- top resources by effective cost.

Results are fingerprinted (row count and cost total per aggregation) and compared between
the engines that compute them. pandas reads only the columns it needs with pyarrow and
groups with ``observed=True``, as an idiomatic pandas user would; it gets no hand tuning.

Targets (DESIGN.md): within 1.5x of DuckDB, at least 5x faster than pandas, costscan peak
under 3 GB. The table is also written to benchmarks/out/billing-latest.txt.

    python benchmarks/billing.py                # 10 million rows
    python benchmarks/billing.py --rows 1000000
    COSTSCAN_BENCH_ENGINE=in-memory COSTSCAN_BENCH_CSE=1 python benchmarks/billing.py
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
ENGINES = ("costscan", "duckdb", "pandas")

# Shared thresholds, so every engine answers the same question. The idle ones are
# rightsizing.billing-idle's defaults, and DuckDB and pandas repeat its definition so the
# finding counts and savings can be compared to the cent.
IDLE_POLICY = "rightsizing.billing-idle"
IDLE_MIN_SHARE = 0.95
IDLE_MAX_PER_HOUR = 0.01
IDLE_MIN_SPAN_HOURS = 72
HOURS_PER_MONTH = 730.0
TIME_UNITS = r"^(\d+\s*)?(h|hr|hrs|hour|hours|day|days|month|months|mo|second|seconds|s)$"
CAPACITY_UNITS = (
    r"^(\d+\s*)?(b|byte|bytes|kb|mb|gb|tb|pb|kib|mib|gib|tib|pib|"
    r"kilobyte|megabyte|gigabyte|terabyte|kibibyte|mebibyte|gibibyte|tebibyte)s?"
    r"\s*[-/ ]?\s*(h|hr|hrs|hour|hours|day|days|mo|mos|month|months)$"
)
DATA_END = datetime(2024, 11, 1, tzinfo=timezone.utc)
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
    "ConsumedUnit",
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
    """Every registered billing policy, the spend block and the top resources, from one read.

    All plans go to one ``pl.collect_all`` so polars plans them together; the engine and
    common-subplan elimination (which shares one scan between the plans but holds every
    column they read in memory at once) are chosen with COSTSCAN_BENCH_ENGINE and
    COSTSCAN_BENCH_CSE, so both can be measured.
    """
    import polars as pl

    from providers.exports import read_billing, spend_from, spend_query, top_resources_query
    from scanner import registry
    from scanner.inventory import Inventory, RunContext

    engine: Literal["streaming", "in-memory"] = (
        "in-memory" if os.environ.get("COSTSCAN_BENCH_ENGINE") == "in-memory" else "streaming"
    )
    cse = os.environ.get("COSTSCAN_BENCH_CSE", "0") == "1"
    started = time.perf_counter()
    scan = read_billing([path]).scan
    policies = [p for p in registry.all_policies().values() if "billing" in p.needs]
    # The synthetic data ends on 1 November 2024; the run is "now" then.
    inventory = Inventory(provider="focus", context=RunContext.at(DATA_END))
    inventory.add_scan("billing", scan)
    plans = [p.run(inventory, p.build_params()) for p in policies]
    collected = pl.collect_all(
        [spend_query(scan), top_resources_query(scan, TOP), *plans],
        engine=engine,
        optimizations=pl.QueryOptFlags(comm_subplan_elim=cse),
    )
    seconds = time.perf_counter() - started
    spend = spend_from(collected[0])
    top = collected[1]
    found = dict(zip([p.id for p in policies], collected[2:], strict=True))
    results = {
        "spend": _fingerprint(1, spend["effective_cost"]),
        "top_resources": _fingerprint(top.height, top["effective_cost"].sum()),
    }
    idle = found.get(IDLE_POLICY)
    if idle is not None:
        results["idle"] = _fingerprint(idle.height, idle["monthly_savings"].sum())
    return {
        "seconds": seconds,
        "results": results,
        "engine": f"{engine}{' + CSE' if cse else ''}",
        "policies": {
            pid: [frame.height, round(float(frame["monthly_savings"].sum() or 0.0), 2)]
            for pid, frame in found.items()
        },
    }


# --- DuckDB ------------------------------------------------------------------------------


# rightsizing.billing-idle in SQL: per resource and unit, then per resource.
IDLE_SQL = f"""
WITH per_unit AS (
    SELECT ResourceId, coalesce(ConsumedUnit, PricingUnit) AS unit,
           count(DISTINCT ChargePeriodStart) AS periods,
           max(epoch(ChargePeriodEnd) - epoch(ChargePeriodStart)) / 3600.0 AS period_hours,
           min(ChargePeriodStart) AS first_start, max(ChargePeriodEnd) AS last_end,
           sum(coalesce(EffectiveCost, BilledCost)) AS cost,
           sum(coalesce(ConsumedQuantity, PricingQuantity)) AS qty, count(*) AS n
    FROM p WHERE ChargeCategory = 'Usage' AND ResourceId IS NOT NULL
    GROUP BY ResourceId, ConsumedUnit, PricingUnit
), classified AS (
    SELECT *, unit IS NOT NULL
              AND NOT regexp_matches(lower(trim(unit)), '{TIME_UNITS}')
              AND NOT regexp_matches(lower(trim(unit)), '{CAPACITY_UNITS}') AS metered
    FROM per_unit
), per_resource AS (
    SELECT ResourceId, max(periods * greatest(coalesce(period_hours, 1), 1)) AS billed,
           min(first_start) AS first_start, max(last_end) AS last_end, sum(cost) AS cost,
           sum(qty) FILTER (WHERE metered) AS qty, sum(n) FILTER (WHERE metered) AS metered_n
    FROM classified GROUP BY ResourceId
), spanned AS (
    SELECT *, (epoch(max(last_end) OVER ()) - epoch(min(first_start) OVER ())) / 3600.0 AS span
    FROM per_resource
), judged AS (SELECT *, least(billed, span) AS hours FROM spanned)
SELECT ResourceId, cost / hours * {HOURS_PER_MONTH} AS cost FROM judged
WHERE span >= {IDLE_MIN_SPAN_HOURS} AND metered_n > 0 AND hours / span >= {IDLE_MIN_SHARE}
  AND qty / hours < {IDLE_MAX_PER_HOUR}
"""


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
        "idle": IDLE_SQL,
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
        "top_resources": "SELECT ResourceId, sum(EffectiveCost) AS cost, sum(BilledCost) AS "
        "billed, first(ResourceName), first(ServiceName), first(SubAccountId) FROM p WHERE "
        "ResourceId IS NOT NULL GROUP BY ResourceId ORDER BY cost DESC, billed DESC, ResourceId "
        f"LIMIT {TOP}",
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
    by = df.groupby(["ServiceName", "SubAccountId"], dropna=False, observed=True)[
        "EffectiveCost"
    ].sum()
    results["by_service_account"] = _fingerprint(len(by), by.sum())
    with_resource = df[df["ResourceId"].notna()]
    results["idle"] = _pandas_idle(with_resource)
    start = with_resource["ChargePeriodStart"]
    week = (start - pd.to_timedelta(start.dt.weekday, unit="D")).dt.floor("D")
    weekly = (
        with_resource.assign(week=week)
        .groupby(["ResourceId", "ServiceName", "week"], dropna=False, observed=True)[
            "EffectiveCost"
        ]
        .sum()
        .reset_index(name="cost")
        .sort_values("week")
    )
    weekly["previous"] = weekly.groupby(["ResourceId", "ServiceName"], dropna=False, observed=True)[
        "cost"
    ].shift(1)
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
        df[lacking]
        .groupby(["ServiceName", "SubAccountId"], dropna=False, observed=True)["EffectiveCost"]
        .sum()
    )
    results["untagged"] = _fingerprint(len(untagged), untagged.sum())
    committed = df[df["CommitmentDiscountId"].notna()]
    commitments = committed.groupby(
        ["CommitmentDiscountId", "CommitmentDiscountStatus"], dropna=False
    )[["EffectiveCost", "ListCost"]].sum()
    results["commitments"] = _fingerprint(len(commitments), commitments["EffectiveCost"].sum())
    coverage = (
        df[df["ChargeCategory"] == "Usage"]
        .groupby("PricingCategory", dropna=False, observed=True)[["EffectiveCost", "ListCost"]]
        .sum()
    )
    results["coverage"] = _fingerprint(len(coverage), coverage["EffectiveCost"].sum())
    transfer = df[(df["ServiceCategory"] == "Networking") & (df["PricingUnit"] == "GB")]
    transfer_by = transfer.groupby(["ResourceId", "RegionId"], dropna=False, observed=True)[
        ["EffectiveCost", "PricingQuantity"]
    ].sum()
    results["data_transfer"] = _fingerprint(len(transfer_by), transfer_by["EffectiveCost"].sum())
    top = (
        with_resource.groupby("ResourceId", observed=True)[["EffectiveCost", "BilledCost"]]
        .sum()
        .reset_index()
        .sort_values(["EffectiveCost", "BilledCost", "ResourceId"], ascending=[False, False, True])
        .head(TOP)
    )
    results["top_resources"] = _fingerprint(len(top), top["EffectiveCost"].sum())
    return {"seconds": time.perf_counter() - started, "results": results}


def _pandas_idle(with_resource: Any) -> list[float]:
    """rightsizing.billing-idle in pandas: per resource and unit, then per resource."""
    import pandas as pd

    usage = with_resource[with_resource["ChargeCategory"] == "Usage"]
    usage = usage.assign(
        cost=usage["EffectiveCost"].fillna(usage["BilledCost"]),
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
            qty=("qty", "sum"),
            n=("cost", "size"),
        )
        .reset_index()
    )
    unit = per_unit["ConsumedUnit"].fillna(per_unit["PricingUnit"])
    lowered = unit.str.strip().str.lower()
    per_unit["metered"] = (
        unit.notna()
        & ~lowered.str.contains(TIME_UNITS, regex=True).fillna(False).astype(bool)
        & ~lowered.str.contains(CAPACITY_UNITS, regex=True).fillna(False).astype(bool)
    )
    per_unit["covered"] = per_unit["periods"] * per_unit["period_hours"].fillna(1.0).clip(lower=1)
    per_unit["metered_qty"] = per_unit["qty"].where(per_unit["metered"], 0.0)
    per_unit["metered_n"] = per_unit["n"].where(per_unit["metered"], 0)
    per = per_unit.groupby("ResourceId").agg(
        billed=("covered", "max"),
        first_start=("first_start", "min"),
        last_end=("last_end", "max"),
        cost=("cost", "sum"),
        qty=("metered_qty", "sum"),
        metered_n=("metered_n", "sum"),
    )
    span = (per["last_end"].max() - per["first_start"].min()) / pd.Timedelta(hours=1)
    hours = per["billed"].clip(upper=span)
    flagged = per[
        (span >= IDLE_MIN_SPAN_HOURS)
        & (per["metered_n"] > 0)
        & (hours / span >= IDLE_MIN_SHARE)
        & (per["qty"] / hours < IDLE_MAX_PER_HOUR)
    ]
    monthly = flagged["cost"] / hours[flagged.index] * HOURS_PER_MONTH
    return _fingerprint(len(flagged), monthly.sum())


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
    table = print_table(args.rows, outcomes)
    latest = OUT / "billing-latest.txt"
    latest.write_text(table + "\n", encoding="utf-8")
    print(f"\nwritten to {latest.relative_to(ROOT)}")


def print_table(rows: int, outcomes: dict[str, dict[str, Any]]) -> str:
    """The comparison table (for the README), printed and returned."""
    duck = outcomes["duckdb"]["seconds"]
    ours = outcomes["costscan"]["seconds"]
    pandas = outcomes["pandas"]["seconds"]
    lines = [
        f"Billing benchmark: {rows:,} synthetic FOCUS rows (Parquet), "
        f"{os.cpu_count()} CPU cores, polars {_version('polars')}, "
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
    lines.append("")
    # Compare each aggregation between the engines that compute it (costscan reports the
    # ones its policies and summaries produce directly).
    disagreements = []
    for name, reference in outcomes["duckdb"]["results"].items():
        for engine in ("costscan", "pandas"):
            got = outcomes[engine]["results"].get(name)
            if got is not None and not _close(got, reference):
                disagreements.append(f"  {name}: {engine}={got}, duckdb={reference}")
    shared = sorted(set(outcomes["costscan"]["results"]) & set(outcomes["duckdb"]["results"]))
    lines.append(
        f"results agree across engines ({', '.join(shared)} also against costscan): "
        f"{'yes' if not disagreements else 'NO'}"
    )
    lines.extend(disagreements)
    policies = outcomes["costscan"].get("policies", {})
    lines.append(f"billing policies run by costscan: {len(policies)}")
    for pid, (count, savings) in sorted(policies.items()):
        lines.append(f"  {pid:<38} {count:>6} findings  ${savings:,.2f}/month")
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


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def _close(a: list[float] | None, b: list[float]) -> bool:
    if a is None:
        return False
    return int(a[0]) == int(b[0]) and abs(a[1] - b[1]) <= max(0.05, 1e-6 * abs(b[1]))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
