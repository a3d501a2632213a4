"""Runs the flow: provider -> policies -> ranking -> renderers.

This module and ``scanner.app.cli`` are the only places that wire providers, policies and
reports together. Every input is checked before the first cloud call, so bad input never
leaves a half-written report behind.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from costscan.scanner.app import catalog
from costscan.scanner.contracts import config as config_module
from costscan.scanner.contracts import files, registry, schema
from costscan.scanner.contracts.errors import CollectorError, UsageError
from costscan.scanner.contracts.inventory import Inventory, RunContext
from costscan.scanner.pipeline import billed_prices, billing_rollup

if TYPE_CHECKING:
    from costscan.providers.interface import Progress, Provider
    from costscan.reports.interface import Renderer, Report

log = logging.getLogger("costscan")

PROVIDERS = ("aws", "focus")
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
    if settings.lookback_days < 1:
        raise UsageError(f"--lookback-days must be at least 1, got {settings.lookback_days}")
    if settings.min_savings < 0:
        raise UsageError(f"--min-savings must be >= 0, got {settings.min_savings}")
    if settings.fail_on_savings is not None and settings.fail_on_savings < 0:
        raise UsageError(f"--fail-on-savings must be >= 0, got {settings.fail_on_savings}")
    if not settings.formats:
        raise UsageError("--format: give at least one format")
    if settings.provider == "focus" and not settings.billing_paths:
        raise UsageError("--billing: --provider focus needs at least one billing export path")
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
    return config, renderers


def build_provider(name: str) -> Provider:
    if name == "aws":
        from costscan.providers.aws import AwsProvider

        return AwsProvider()
    if name == "focus":
        from costscan.providers.exports import FocusProvider

        return FocusProvider()
    raise UsageError(f"--provider: unknown provider {name!r}")  # pragma: no cover - checked


def run_policies(inv: Inventory, config: config_module.Config) -> pl.DataFrame:
    """Every enabled policy over the inventory, one findings frame."""
    enabled = [
        p for pid, p in catalog.all_policies().items() if pid not in config.disabled_policies
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
    findings: pl.DataFrame,
    config: config_module.Config,
    settings: Settings,
    started_at: datetime,
) -> Report:
    """Suppress, rank, compare with history: everything the renderers show."""
    from costscan.reports.interface import Report, RunInfo
    from costscan.reports.ranking import rank
    from costscan.scanner.pipeline import history, suppressions

    started_iso = started_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    split = suppressions.apply_suppressions(
        findings, inv.frame("tags"), config.suppressions, today=started_at.date()
    )
    rate, floor = config.engineer_hourly_rate, config.confidence_floor
    ranked = rank(
        split.kept, hourly_rate=rate, min_savings=settings.min_savings, confidence_floor=floor
    )
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
    if inv.has("billing"):
        ranked.summary["spend"] = spend_block(inv)
    marked, changes = ranked.findings, None
    if settings.history:
        previous = history.load_previous(
            settings.history, inv.provider, sorted(inv.accounts), started_iso,
            profile=settings.profile,
        )  # fmt: skip
        marked, changes = history.compare(
            ranked.findings,
            previous.findings if previous else None,
            previous_started_at=previous.started_at if previous else None,
            seen_finding_ids=findings["finding_id"],
        )
    run_info = RunInfo(
        provider=inv.provider,
        accounts=sorted(inv.accounts),
        regions=sorted(inv.regions),
        started_at=started_iso,
        lookback_days=settings.lookback_days,
        currency=inv.context.currency,
        costscan_version=version(),
        hidden_below_min_savings=ranked.summary["hidden_below_min_savings"],
        min_savings=settings.min_savings,
    )
    rejections = [{"frame": r.frame, "reason": r.reason, "rows": r.rows} for r in inv.rejections]
    return Report(
        run=run_info,
        findings=marked,
        bottlenecks=ranked.bottlenecks,
        summary=ranked.summary,
        errors=list(inv.errors),
        rejections=rejections,
        suppressed=suppressed,
        history=changes,
        warnings=list(split.warnings),
    )


def spend_block(inv: Inventory) -> dict[str, Any]:
    """What the billing data says was spent, and its top resources (context, not findings)."""
    rollup = inv.billing_rollup()
    return {**rollup.spend, "top_resources": rollup.top_resources()}


def write_reports(report: Report, renderers: Sequence[Renderer], output_dir: str) -> list[Path]:
    """Render every format first, then write each atomically: all or nothing per file."""
    rendered = [(r, r.render(report)) for r in renderers]
    written = []
    for renderer, data in rendered:
        path = files.output_path(
            Path(output_dir),
            report.run.provider,
            report.run.accounts,
            report.run.started_at,
            renderer.extension,
        )
        files.write_atomically(path, data)
        written.append(path)
    return written


def run(settings: Settings, progress: Progress | None = None) -> RunResult:
    """The whole job. Raises UsageError before touching a cloud if any input is wrong."""
    from costscan.providers.interface import ScanRequest, no_progress

    config, renderers = check_settings(settings)
    started_at = settings.now or datetime.now(UTC)
    context = RunContext(
        now=started_at,
        lookback_days=settings.lookback_days,
        nonprod_tags=config.nonprod_tags,
    )
    request = ScanRequest(
        context=context,
        profile=settings.profile,
        regions=tuple(settings.regions),
        org_role=settings.org_role,
        live_pricing=settings.live_pricing,
        endpoint_url=settings.endpoint_url,
        billing_paths=tuple(settings.billing_paths),
        billing_format=settings.billing_format,
    )
    provider = build_provider(settings.provider)
    # Billing files are checked, and reduced to their rollup, before the cloud is touched:
    # a bad path or a file that breaks half-way fails in seconds.
    billing = rollup = None
    if settings.billing_paths and settings.provider != "focus":
        from costscan.providers.exports import read_billing

        billing = read_billing(settings.billing_paths, settings.billing_format)
        rollup = billing_rollup.rollup_of(billing)
    inv = provider.collect(request, progress or no_progress)
    if billing is not None:
        billing_rollup.attach(inv, billing, rollup)
        billed_prices.apply_billed_prices(inv)
    billing_rollup.prepare(inv)
    return finish(inv, config, renderers, settings, started_at)


def finish(
    inv: Inventory,
    config: config_module.Config,
    renderers: Sequence[Renderer],
    settings: Settings,
    started_at: datetime,
) -> RunResult:
    findings = run_policies(inv, config)
    report = build_report(inv, findings, config, settings, started_at)
    written = write_reports(report, renderers, settings.output_dir)
    if settings.history:
        from costscan.scanner.pipeline import history

        history.save_run(
            settings.history,
            report.findings,
            report.run.started_at,
            inv.provider,
            report.run.accounts,
            profile=settings.profile,
        )
    gate = (
        settings.fail_on_savings is not None
        and report.summary["monthly_savings"] > settings.fail_on_savings
    )
    code = EXIT_GATE if gate else (EXIT_PARTIAL if inv.errors else EXIT_OK)
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
