"""Runs the flow: provider -> policies -> ranking -> renderers.

This module and ``scanner.app.cli`` are the only places that wire providers, policies and
reports together. Every input is checked before the first cloud call, so bad input never
leaves a half-written report behind.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from costscan.scanner.app import catalog
from costscan.scanner.contracts import config as config_module
from costscan.scanner.contracts import files, registry, schema
from costscan.scanner.contracts.billing import (
    BASE_CURRENCY,
    BillingRollup,
    BillingSource,
    parse_rates,
    report_currency,
)
from costscan.scanner.contracts.errors import CollectorError, UsageError
from costscan.scanner.contracts.inventory import Inventory, RunContext
from costscan.scanner.pipeline import billed_prices, billing_rollup, provider_advice

if TYPE_CHECKING:
    from costscan.providers.interface import Progress, Provider
    from costscan.reports.interface import Renderer, Report
    from costscan.reports.ranking import Ranked
    from costscan.scanner.pipeline.history import HistoryStore, Scope

log = logging.getLogger("costscan")

PROVIDERS = ("aws", "gcp", "azure", "focus")
# CloudWatch keeps 1-hour datapoints for 455 days (15 months); a longer lookback reads
# nothing more. https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#metrics-retention
MAX_LOOKBACK_DAYS = 455
DEFAULT_MAX_WORKERS = 8
MAX_WORKERS = 64
DEFAULT_COLLECTOR_TIMEOUT = 300.0
MAX_COLLECTOR_TIMEOUT = 3600.0
DEFAULT_FORMATS = ("html", "csv", "json", "md")
EXIT_OK, EXIT_GATE, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
SUPPRESS_COLUMNS = ("suppress_rule", "suppress_reason", "suppress_owner", "suppress_expires")


@dataclass(frozen=True)
class Settings:
    """One run, as the command line (or the demo) asked for it."""

    provider: str
    regions: Sequence[str] = ()
    profile: str | None = None
    org_role: str | None = None
    lookback_days: int = 14
    config_path: str | None = None
    formats: Sequence[str] = DEFAULT_FORMATS
    output_dir: str = "costscan-report"
    min_savings: float = 0.0
    fail_on_savings: float | None = None
    live_pricing: bool = False
    billing_paths: Sequence[str] = ()
    billing_format: str | None = None
    endpoint_url: str | None = None
    history: str | None = None
    now: datetime | None = None
    # Where the whole report can be read (the CI run's page); the Markdown links it.
    report_url: str | None = None
    # --fx values as given ("CAD=0.73": 1 CAD = 0.73 USD), checked by ``fx_rates``.
    fx: Sequence[str] = ()
    # GCP: --project (repeatable) and --organization.
    projects: Sequence[str] = ()
    organization: str | None = None
    # Azure: --subscription (repeatable) and --management-group.
    subscriptions: Sequence[str] = ()
    management_group: str | None = None
    # --history-reset: compare with no earlier run; later runs never read what is older.
    history_reset: bool = False
    max_workers: int = DEFAULT_MAX_WORKERS
    collector_timeout: float = DEFAULT_COLLECTOR_TIMEOUT
    # A push-down --billing URI (scanner/app/billing_pushdown.py): the billing periods it
    # reads ("YYYY-MM[:YYYY-MM]"; default: the months the lookback overlaps), and the most
    # its queries may scan, in GB.
    billing_period: str | None = None
    max_scan_gb: float | None = None


@dataclass
class RunResult:
    report: Report
    written: list[Path] = field(default_factory=list)
    exit_code: int = EXIT_OK
    gate_crossed: bool = False


def version() -> str:
    try:
        return metadata.version("costscan")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def check_settings(settings: Settings) -> tuple[config_module.Config, list[Renderer]]:
    """Everything that can be wrong with the input, found before any cloud call."""
    if settings.provider not in PROVIDERS:
        raise UsageError(
            f"--provider: unknown provider {settings.provider!r} "
            f"(choose from {', '.join(PROVIDERS)})"
        )
    if not 1 <= settings.lookback_days <= MAX_LOOKBACK_DAYS:
        raise UsageError(
            f"--lookback-days must be from 1 to {MAX_LOOKBACK_DAYS} (CloudWatch keeps hourly "
            f"data for {MAX_LOOKBACK_DAYS} days), got {settings.lookback_days}"
        )
    _check_amount("--min-savings", settings.min_savings)
    if settings.fail_on_savings is not None:
        _check_amount("--fail-on-savings", settings.fail_on_savings)
    if not 1 <= settings.max_workers <= MAX_WORKERS:
        raise UsageError(
            f"--max-workers must be from 1 to {MAX_WORKERS}, got {settings.max_workers}"
        )
    if not (
        math.isfinite(settings.collector_timeout)
        and 1 <= settings.collector_timeout <= MAX_COLLECTOR_TIMEOUT
    ):
        raise UsageError(
            f"--collector-timeout must be from 1 to {MAX_COLLECTOR_TIMEOUT:g} seconds, "
            f"got {settings.collector_timeout}"
        )
    if settings.history_reset and not settings.history:
        raise UsageError("--history-reset: give --history too (the history to start anew)")
    if not settings.formats:
        raise UsageError("--format: give at least one format")
    if (settings.projects or settings.organization) and settings.provider != "gcp":
        raise UsageError("--project and --organization apply to --provider gcp only")
    if (settings.subscriptions or settings.management_group) and settings.provider != "azure":
        raise UsageError("--subscription and --management-group apply to --provider azure only")
    if settings.provider == "focus" and not settings.billing_paths:
        raise UsageError("--billing: --provider focus needs at least one billing export path")
    fx_rates(settings)
    from costscan.scanner.app import billing_pushdown

    billing_pushdown.check(settings)
    if settings.billing_format is not None:
        from costscan.providers.exports import FORMATS as BILLING_FORMATS

        if settings.billing_format not in BILLING_FORMATS:
            raise UsageError(
                f"--billing-format: unknown format {settings.billing_format!r} "
                f"(choose from {', '.join(BILLING_FORMATS)})"
            )
    from costscan.reports import formats as report_formats

    renderers = [report_formats.renderer_for(name) for name in settings.formats]
    if settings.history:
        from costscan.scanner.pipeline import history

        history.check_location(settings.history)
    config = config_module.load(settings.config_path, catalog.all_policies())
    # Last, as it writes (and removes) a probe file: every other input is known good.
    files.check_writable_folder(settings.output_dir, "--output-dir")
    files.sweep_leftovers(Path(settings.output_dir))
    return config, renderers


def _check_amount(flag: str, value: float) -> None:
    # nan passes every comparison as false: a gate at nan would never trip.
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"{flag} must be a finite amount >= 0, got {value}")


def fx_rates(settings: Settings) -> dict[str, float]:
    """The --fx rates (currency -> USD per unit); one clear line for a bad one."""
    try:
        return parse_rates(settings.fx)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def build_provider(name: str) -> Provider:
    if name == "aws":
        from costscan.providers.aws import AwsProvider

        return AwsProvider()
    if name == "gcp":
        from costscan.providers.gcp import GcpProvider

        return GcpProvider()
    if name == "azure":
        from costscan.providers.azure import AzureProvider

        return AzureProvider()
    if name == "focus":
        from costscan.providers.exports import FocusProvider

        return FocusProvider()
    raise UsageError(f"--provider: unknown provider {name!r}")  # pragma: no cover - checked


def run_policies(
    inv: Inventory,
    config: config_module.Config,
    only: Callable[[registry.Policy], bool] | None = None,
) -> pl.DataFrame:
    """Every enabled policy (that ``only`` keeps) over the inventory, one findings frame."""
    enabled = [
        p
        for pid, p in catalog.all_policies().items()
        if pid not in config.disabled_policies and (only is None or only(p))
    ]
    planned: list[tuple[registry.Policy, pl.LazyFrame]] = []
    for policy in enabled:
        try:
            params = policy.build_params(config.params_for(policy.id))
            planned.append((policy, policy.run(inv, params)))
        except pl.exceptions.PolarsError as exc:
            _policy_failed(inv, policy.id, exc)
    enabled = [policy for policy, _plan in planned]
    plans = [plan for _policy, plan in planned]
    if not plans:
        return schema.empty(schema.FINDINGS)
    try:
        frames = collect_plans(plans, streaming=bool(inv.scans))
    except pl.exceptions.PolarsError:
        # Find the policy that failed: a bug in it must not cost the rest of the report.
        frames = []
        for policy, plan in zip(enabled, plans, strict=True):
            try:
                frames.append(plan.collect())
            except pl.exceptions.PolarsError as exc:
                _policy_failed(inv, policy.id, exc)
    return pl.concat(frames, how="vertical") if frames else schema.empty(schema.FINDINGS)


def _reads_billing(policy: registry.Policy) -> bool:
    return "billing" in policy.needs


def run_policies_by_currency(
    inv: Inventory, config: config_module.Config
) -> dict[str, pl.DataFrame]:
    """Findings per currency. Billing in one currency (after --fx) gives one frame in it.
    Billing in several is never added up: each currency's part of the rollup goes through
    the billing policies alone (with the run's context in that currency, so their texts
    say it), and the report currency's part also through every other policy."""
    rollup = inv.billing_rollup() if inv.has("billing") else None
    currencies = rollup.line_items_by_currency() if rollup is not None else {}
    if rollup is None or len(currencies) <= 1:
        return {inv.context.currency: run_policies(inv, config)}
    lead = report_currency(currencies)
    context = inv.context
    out: dict[str, pl.DataFrame] = {}
    try:
        for code in sorted(currencies, key=lambda c: (c != lead, c)):
            inv.use_billing_rollup(rollup.only(code))
            inv.context = dataclasses.replace(context, currency=code)
            out[code] = run_policies(inv, config, None if code == lead else _reads_billing)
    finally:
        inv.use_billing_rollup(rollup)
        inv.context = context
    return out


def _policy_failed(inv: Inventory, policy_id: str, exc: Exception) -> None:
    log.exception("policy %s failed", policy_id)
    inv.errors.append(CollectorError(f"policy:{policy_id}", "*", "*", f"policy failed: {exc}"))


def collect_plans(plans: list[pl.LazyFrame], *, streaming: bool) -> list[pl.DataFrame]:
    """Collect every policy's plan together.

    Policies read in-memory frames and the billing rollup (``Inventory.billing_rollup``),
    never the line items of a billing export, so common-subplan elimination (polars'
    default) only shares work between small frames. Where the inventory holds lazy scans,
    the streaming engine runs the plans, so a policy that did read one would stream it.
    """
    if not streaming:
        return pl.collect_all(plans)
    return pl.collect_all(plans, engine="streaming")


def build_report(
    inv: Inventory,
    findings: pl.DataFrame | Mapping[str, pl.DataFrame],
    config: config_module.Config,
    settings: Settings,
    started_at: datetime,
    billing: BillingSource | None = None,
    store: HistoryStore | None = None,
) -> Report:
    """Suppress, rank, compare with history: everything the renderers show."""
    return _build(inv, findings, config, settings, started_at, billing, store).report


@dataclass(frozen=True)
class Built:
    report: Report
    # With --history: what this run's history entry keeps (its findings and the earlier
    # ones it could not see), and the scope it saw.
    history_frame: pl.DataFrame | None = None
    scope: Scope | None = None


def _build(
    inv: Inventory,
    findings: pl.DataFrame | Mapping[str, pl.DataFrame],
    config: config_module.Config,
    settings: Settings,
    started_at: datetime,
    billing: BillingSource | None = None,
    store: HistoryStore | None = None,
    pushdown: Mapping[str, Any] | None = None,
) -> Built:
    """Withhold what failed collectors make unreliable, suppress, rank, compare with
    history: everything the renderers show.

    ``findings`` per currency (``run_policies_by_currency``): the report currency's are
    ranked and totalled as always; another currency's are ranked apart, listed after them
    with ``counted`` false, and totalled in ``summary.by_currency`` only (never added to
    the report currency's figures).
    """
    from costscan.reports.interface import Report, RunInfo
    from costscan.reports.ranking import rank
    from costscan.reports.series import charted_resources, cpu_series
    from costscan.scanner.pipeline import gaps, history, suppressions

    currency = inv.context.currency
    per_currency = dict(findings) if isinstance(findings, Mapping) else {currency: findings}
    everything = (
        pl.concat(list(per_currency.values()), how="vertical")
        if per_currency
        else (schema.empty(schema.FINDINGS))
    )
    # A failed collector: the policies reading what it lost do not fire on part of it,
    # and what its data could have ruled out becomes possible (scanner/pipeline/gaps.py).
    everything, absurd = gaps.implausible(everything)
    errors = gaps.distinct([*inv.errors, *absurd])
    rules = gaps.rules_for(errors, catalog.all_policies())
    applied = gaps.apply(everything, rules, errors)
    everything = applied.findings
    per_currency = {
        code: everything.filter(pl.col("finding_id").is_in(frame["finding_id"].implode()))
        for code, frame in per_currency.items()
    }
    started_iso = started_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    split = suppressions.apply_suppressions(
        everything, inv.frame("tags"), config.suppressions, today=started_at.date()
    )
    rate, floor = config.engineer_hourly_rate, config.confidence_floor
    ids = {code: frame["finding_id"] for code, frame in per_currency.items()}
    lead_ids = ids.get(currency, pl.Series([], dtype=pl.String))
    kept = split.kept.filter(pl.col("finding_id").is_in(lead_ids.implode()))
    ranked = rank(kept, hourly_rate=rate, min_savings=settings.min_savings, confidence_floor=floor)
    suppressed = suppressions.as_suppressed(
        rank(
            split.suppressed.drop(SUPPRESS_COLUMNS), hourly_rate=rate, confidence_floor=floor
        ).findings,
        split.suppressed,
    )
    ranked.summary["suppressed"] = suppressed.height
    ranked.summary["suppressed_monthly_savings"] = round(
        float(suppressed["net_monthly_savings"].sum()), 2
    )
    listed = _explain_marked(ranked.findings, applied.marked_ids)
    warnings = list(split.warnings)
    if len(per_currency) > 1:
        listed, by_currency = _apart(ranked, split.kept, ids, currency, rate, settings, floor)
        ranked.summary["by_currency"] = by_currency
        warnings.append(_mixed_warning(currency, by_currency))
    if inv.has("billing"):
        ranked.summary["spend"] = spend_block(inv, billing)
        if pushdown is not None:
            # Where the billing was queried, what it scanned and what that cost.
            ranked.summary["spend"]["pushdown"] = dict(pushdown)
    if billing is not None:
        warnings.extend(billing.warnings)
    marked, changes, keep, scope = listed, None, None, None
    if store is not None:
        previous = store.previous(sorted(inv.accounts))
        ran = [pid for pid in catalog.all_policies() if pid not in config.disabled_policies]
        scope = history.Scope(
            accounts=tuple(sorted(inv.accounts)),
            regions=tuple(sorted(inv.regions)),
            policies=tuple(ran),
            blind=gaps.blind(rules),
            gaps=tuple(sorted({f"{e.collector} {e.account_id} {e.region}" for e in errors})),
        )
        # Suppressed and --min-savings-hidden findings were seen: not resolved.
        seen = everything["finding_id"]
        marked, changes = history.compare(
            listed,
            previous.findings if previous else None,
            previous_started_at=previous.started_at if previous else None,
            seen_finding_ids=seen,
            started_at=started_iso,
            scope=scope,
        )
        keep = history.carried_forward(
            marked,
            previous.findings if previous else None,
            seen_finding_ids=seen,
            scope=scope,
            started_at=started_iso,
            previous_started_at=previous.started_at if previous else None,
        )
        marked = marked.drop([c for c in history.HISTORY_COLUMNS if c in marked.columns])
    run_info = RunInfo(
        provider=inv.provider,
        accounts=sorted(inv.accounts),
        regions=sorted(inv.regions),
        started_at=started_iso,
        lookback_days=settings.lookback_days,
        currency=currency,
        costscan_version=version(),
        hidden_below_min_savings=ranked.summary["hidden_below_min_savings"],
        min_savings=settings.min_savings,
        report_url=settings.report_url,
    )
    rejections = [{"frame": r.frame, "reason": r.reason, "rows": r.rows} for r in inv.rejections]
    if applied.withheld:
        ranked.summary["withheld_by_gaps"] = applied.withheld
    # The hourly CPU behind each compute finding, for the HTML's charts.
    charted = charted_resources((marked, ranked.bottlenecks), inv.frame("compute")["resource_id"])
    utilization = cpu_series(
        inv.frame("utilization"), charted, end=started_at, hours=settings.lookback_days * 24
    )
    report = Report(
        run=run_info,
        findings=marked,
        bottlenecks=ranked.bottlenecks,
        summary=ranked.summary,
        errors=applied.errors,
        rejections=rejections,
        suppressed=suppressed,
        history=changes,
        warnings=warnings,
        utilization=utilization,
        currencies={
            finding_id: code
            for code, ids_of in ids.items()
            if code != currency
            for finding_id in ids_of.to_list()
        },
    )
    return Built(report, keep, scope)


def _explain_marked(findings: pl.DataFrame, marked: frozenset[str]) -> pl.DataFrame:
    """The reason on a finding a failed collector made possible says so (ranking's own
    reason for a possible finding speaks of confidence)."""
    if not marked or findings.is_empty():
        return findings
    return findings.with_columns(
        pl.when(pl.col("finding_id").is_in(sorted(marked)))
        .then(
            pl.lit(
                "not counted: possible, a collector failed for this resource and its data "
                "could have ruled this out"
            )
        )
        .otherwise(pl.col("priority_reason"))
        .alias("priority_reason")
    )


def _apart(
    ranked: Ranked,
    kept: pl.DataFrame,
    ids: Mapping[str, pl.Series],
    currency: str,
    rate: float,
    settings: Settings,
    confidence_floor: float,
) -> tuple[pl.DataFrame, dict[str, dict[str, Any]]]:
    """The findings of the currencies other than ``currency``, each ranked on its own and
    listed after the report currency's with ``counted`` false; every currency's totals."""
    from costscan.reports.ranking import rank

    def totals(summary: Mapping[str, Any]) -> dict[str, Any]:
        keys = ("findings", "counted_findings", "monthly_savings", "annual_savings")
        return {key: summary[key] for key in keys}

    by_currency = {currency: totals(ranked.summary)}
    listed = [ranked.findings]
    next_rank = ranked.findings.height + 1
    for code in sorted(c for c in ids if c != currency):
        own = rank(
            kept.filter(pl.col("finding_id").is_in(ids[code].implode())),
            hourly_rate=rate,
            min_savings=settings.min_savings,
            confidence_floor=confidence_floor,
        )
        by_currency[code] = totals(own.summary)
        listed.append(
            own.findings.with_columns(
                pl.lit(False).alias("counted"),
                (pl.col("rank") + next_rank - 1).alias("rank"),
            )
        )
        next_rank += own.findings.height
    return pl.concat(listed, how="vertical"), by_currency


def _mixed_warning(currency: str, by_currency: Mapping[str, Mapping[str, Any]]) -> str:
    from costscan.reports.markdown import format_money

    others = [c for c in by_currency if c != currency]
    apart = "; ".join(
        f"{code}: {by_currency[code]['counted_findings']} counted findings, "
        f"{format_money(by_currency[code]['monthly_savings'], code)}/month"
        for code in others
    )
    return (
        f"Billing is in {len(by_currency)} currencies ({', '.join(sorted(by_currency))}) and "
        f"no --fx rate converts {', '.join(others)}: nothing is added across currencies. "
        f"Totals and spend are in {currency}; the rest is totalled apart in "
        f"summary.by_currency and summary.spend.by_currency ({apart}). Give "
        f"--fx {others[0]}=<USD per 1 {others[0]}> to convert."
    )


def spend_block(inv: Inventory, billing: BillingSource | None = None) -> dict[str, Any]:
    """What the billing data says was spent (in the run's currency), its top resources,
    the spend in every currency the files bill in, the rates used, and every file and
    row accounted for (context, not findings)."""
    rollup = inv.billing_rollup()
    currency = inv.context.currency
    own = rollup.only(currency) if len(rollup.line_items_by_currency()) > 1 else rollup
    block: dict[str, Any] = {
        "billed_cost": own.spend["billed_cost"],
        "effective_cost": own.spend["effective_cost"],
        "period_start": own.spend["period_start"],
        "period_end": own.spend["period_end"],
        "top_resources": own.top_resources(),
        "currency": currency,
        "by_currency": {
            code: {**figures, **({"fx_rate": rollup.rates[code]} if code in rollup.rates else {})}
            for code, figures in rollup.spend_by_currency.items()
        },
        "fx": {
            code: {"usd_per_unit": value, "source": "--fx"}
            for code, value in sorted(rollup.rates.items())
        },
    }
    if billing is not None:
        block |= _accounting(rollup, billing)
    return block


def _accounting(rollup: BillingRollup, billing: BillingSource) -> dict[str, Any]:
    """Rows read, used and rejected (by reason), and each file: a reader can check that
    nothing was dropped (read = used + rejected, used = the line items summed)."""
    used = int(rollup.daily["line_items"].sum() or 0)
    read = sum(r.rows_read for r in billing.reads)
    rejected = sum(r.rows_rejected for r in billing.reads)
    return {
        "rows": {
            "read": read,
            "used": used,
            "rejected": rejected,
            "rejected_by_reason": [
                {"file": r.path, "reason": reason, "rows": rows}
                for r in billing.reads
                for reason, rows in r.rejected_by_reason
            ],
        },
        "files": [
            {
                "path": r.path,
                "format": r.format,
                "rows_read": r.rows_read,
                "rows_used": r.rows_read - r.rows_rejected,
                "rows_rejected": r.rows_rejected,
            }
            for r in billing.reads
        ],
        "skipped_files": [{"path": s.path, "reason": s.reason} for s in billing.skipped],
    }


def write_reports(report: Report, renderers: Sequence[Renderer], output_dir: str) -> list[Path]:
    """Render every format first, then write them together: all of them or none."""
    with files.StagedFiles() as staged:
        _stage_reports(staged, report, renderers, output_dir)
        return staged.commit()


def _stage_reports(
    staged: files.StagedFiles, report: Report, renderers: Sequence[Renderer], output_dir: str
) -> None:
    # A renderer may write more than one file (the CSV's investments beside it).
    rendered = [part for r in renderers for part in r.render_files(report)]
    for extension, data in rendered:
        path = files.output_path(
            Path(output_dir),
            report.run.provider,
            report.run.accounts,
            report.run.started_at,
            extension,
        )
        staged.add(path, data)


def run(settings: Settings, progress: Progress | None = None) -> RunResult:
    """The whole job. Raises UsageError before touching a cloud if any input is wrong.

    The order is the contract: flags and files (check_settings), then what the provider
    can check locally (a profile, credentials), then the history (read, and a write
    proven), then billing files; only then the first call that scans.
    """
    from costscan.providers.interface import ScanRequest, no_progress

    config, renderers = check_settings(settings)
    rates = fx_rates(settings)
    started_at = settings.now or datetime.now(UTC)
    request = ScanRequest(
        context=RunContext(
            now=started_at,
            lookback_days=settings.lookback_days,
            nonprod_tags=config.nonprod_tags,
        ),
        profile=settings.profile,
        regions=tuple(settings.regions),
        org_role=settings.org_role,
        live_pricing=settings.live_pricing,
        endpoint_url=settings.endpoint_url,
        billing_paths=tuple(settings.billing_paths),
        billing_format=settings.billing_format,
        projects=tuple(settings.projects),
        organization=settings.organization,
        subscriptions=tuple(settings.subscriptions),
        management_group=settings.management_group,
        max_workers=settings.max_workers,
        collector_timeout=settings.collector_timeout,
    )
    provider: Provider = build_provider(settings.provider)
    provider.check(request)
    store = open_history(settings, started_at)
    # Billing files are checked, and reduced to their rollup, before the cloud is touched:
    # a bad path or a file that breaks half-way fails in seconds.
    billing: BillingSource | None = None
    rollup: BillingRollup | None = None
    # A push-down source: the rollup is built where the export lives, no file is read.
    from costscan.scanner.app import billing_pushdown

    uri = billing_pushdown.pushdown_uri(settings.billing_paths)
    pushed: dict[str, Any] | None = None
    if uri is not None:
        rollup, pushed = billing_pushdown.rollup(uri, settings, rates, started_at)
        if settings.provider != "focus":
            _check_billing_in_usd(rollup)
    elif settings.billing_paths:
        from costscan.providers.exports import read_billing

        billing = read_billing(settings.billing_paths, settings.billing_format)
        rollup = billing_rollup.rollup_of(billing, rates)
        if settings.provider != "focus":
            _check_billing_in_usd(rollup)
    if settings.provider == "focus" and pushed is None:
        from costscan.providers.exports import FocusProvider

        provider = FocusProvider(billing)
    if settings.provider == "focus" and pushed is not None:
        inv = Inventory(provider="focus", context=request.context)
    else:
        inv = provider.collect(request, progress or no_progress)
    if pushed is not None and rollup is not None:
        billing_pushdown.attach(inv, rollup)
        if settings.provider != "focus":
            billed_prices.apply_billed_prices(inv)
    elif billing is not None and rollup is not None:
        if settings.provider == "focus":
            inv.use_billing_rollup(rollup)
        else:
            billing_rollup.attach(inv, billing, rollup)
            billed_prices.apply_billed_prices(inv)
    billing_rollup.prepare(inv, rates)
    if inv.has("billing"):
        inv.context = dataclasses.replace(inv.context, currency=inv.billing_rollup().currency())
    (progress or no_progress)("running the policies and writing the reports", 0)
    return finish(inv, config, renderers, settings, started_at, billing, store, pushed)


def open_history(settings: Settings, started_at: datetime) -> HistoryStore | None:
    """The --history, read and proven writable before the scan; None without one."""
    if not settings.history:
        return None
    from costscan.scanner.pipeline.history import HistoryStore

    store = HistoryStore(
        settings.history,
        settings.provider,
        profile=settings.profile,
        reset=settings.history_reset,
    )
    return store.open(started_at.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _check_billing_in_usd(rollup: BillingRollup) -> None:
    """A cloud scan prices in USD, and billed prices replace list prices resource by
    resource: billing in another currency needs its rate first."""
    others = sorted(c for c in rollup.line_items_by_currency() if c != BASE_CURRENCY)
    if others:
        raise UsageError(
            f"--billing: the billing is in {', '.join(others)} and cloud prices are in USD; "
            f"give --fx {others[0]}=<USD per 1 {others[0]}> (repeat for each currency)"
        )


def finish(
    inv: Inventory,
    config: config_module.Config,
    renderers: Sequence[Renderer],
    settings: Settings,
    started_at: datetime,
    billing: BillingSource | None = None,
    store: HistoryStore | None = None,
    pushdown: Mapping[str, Any] | None = None,
) -> RunResult:
    """Policies, the report, and the files: every report and the history entry are
    written together, so a run is recorded in both or in neither."""
    findings = {
        code: provider_advice.cross_check(frame, inv)
        for code, frame in run_policies_by_currency(inv, config).items()
    }
    built = _build(inv, findings, config, settings, started_at, billing, store, pushdown)
    report = built.report
    with files.StagedFiles() as staged:
        _stage_reports(staged, report, renderers, settings.output_dir)
        entry = None
        if store is not None and built.history_frame is not None:
            from costscan.scanner.pipeline import history

            entry = history.encode_run(
                built.history_frame,
                report.run.started_at,
                inv.provider,
                report.run.accounts,
                built.scope,
                reset=settings.history_reset,
            )
        written = staged.commit()
        if entry is not None and settings.history:
            # The history entry is the commit point: if it cannot be written, the reports
            # just written are removed again, and the run is recorded nowhere.
            try:
                from costscan.scanner.pipeline import history

                history.put(settings.history, *entry, profile=settings.profile)
            except BaseException:
                staged.rollback()
                raise
    gate = (
        settings.fail_on_savings is not None
        and report.summary["monthly_savings"] > settings.fail_on_savings
    )
    code = EXIT_GATE if gate else (EXIT_PARTIAL if report.errors else EXIT_OK)
    return RunResult(report=report, written=written, exit_code=code, gate_crossed=gate)


def describe_policy(policy_id: str) -> dict[str, Any]:
    p = catalog.policy_by_id(policy_id)
    return {
        "id": p.id,
        "family": p.family,
        "action": p.action,
        "title": p.title,
        "needs": list(p.needs),
        "effort_hours": p.effort_hours,
        "risk": p.risk,
        "performance": p.performance,
        "formula": p.formula,
        "category": p.category.value,
        "change": p.change.value,
        "effort_level": p.facts.effort.value,
        "restart_needed": p.facts.restart_needed,
        "rollback_possible": p.facts.rollback_possible,
        "doc": p.doc,
        "parameters": p.defaults(),
    }


def policy_table() -> list[dict[str, Any]]:
    return [
        {"id": p.id, "family": p.family, "action": p.action, "summary": p.summary}
        for p in catalog.all_policies().values()
    ]


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, default=str)
