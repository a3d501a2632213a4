"""The command line. Parses flags and calls ``engine``; nothing else happens here.

Only typer is imported at start-up so that ``costscan --help`` stays fast; polars, boto3,
moto and the renderers load inside the commands that use them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, cast

import typer

from costscan.scanner.contracts.errors import CostscanError, UsageError

if TYPE_CHECKING:
    from costscan.providers.interface import Progress
    from costscan.publish.github import Behavior, Target
    from costscan.scanner.app.engine import RunResult, Settings

app = typer.Typer(
    name="costscan",
    help="Find cloud waste, price every finding, rank by ROI.\n\n"
    "Start with `costscan demo` (an offline account, no credentials), then "
    "`costscan run --provider aws --region us-east-1` on your own.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
policies_app = typer.Typer(
    help="List every policy (--family to narrow, --json for tools), or show one with "
    "`costscan policies show ID`.",
    invoke_without_command=True,
    rich_markup_mode=None,
)
app.add_typer(policies_app, name="policies")


def package_version() -> str:
    """costscan's installed version, read without importing anything heavy."""
    from importlib import metadata

    try:
        return metadata.version("costscan")
    except metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout
        return "0+unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"costscan {package_version()}")
        raise typer.Exit(0)


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_show_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Find cloud waste, price every finding, rank by ROI."""


EXIT_USAGE = 2
# click's UsageError and ClickException, whether typer vendors click or depends on it.
_CLICK_USAGE_ERROR: type[Exception] = typer.BadParameter.__mro__[1]
_CLICK_EXCEPTION: type[Exception] = typer.BadParameter.__mro__[2]


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """One clear line on stderr, no traceback."""
    typer.echo(f"costscan: error: {message}", err=True)
    raise typer.Exit(code)


def split_formats(value: str) -> list[str]:
    names = [part.strip().lower() for part in value.split(",") if part.strip()]
    if not names:
        raise UsageError("--format: give at least one format, e.g. html,csv,json,md")
    return names


def terminal_width() -> int:
    """The terminal's columns (``COLUMNS`` first); 80 when there is no terminal."""
    import shutil

    return max(shutil.get_terminal_size(fallback=(80, 24)).columns, 40)


class ProgressDisplay:
    """Progress for each stage of a run (seeding, scanning, reporting) with its counts: a
    live line on a terminal, plain lines in CI or when piped. ``stage`` gives the callback
    a stage's work calls (the providers' ``Progress``); ``advance`` 0 names a step without
    counting it."""

    def __init__(self, interactive: bool, width: int) -> None:
        self.interactive = interactive
        self.width = width
        self._bar: Any = None
        self._task: Any = None

    def stage(self, name: str, total: int | None = None, unit: str = "steps") -> Progress:
        done = 0

        def count() -> str:
            noun = unit.removesuffix("s") if (total or done) == 1 else unit
            return f"{done:,}/{total:,} {noun}" if total else f"{done:,} {noun}"

        if not self.interactive:
            from costscan.providers.interface import WAITING

            def plain(step: str, advance: int = 1) -> None:
                nonlocal done
                # Finished steps, and what a slow collector is waiting on; not start
                # markers: one followed by a usage error would be noise in front of the
                # one line that matters.
                if advance:
                    done += advance
                    line = f"costscan: {name} {count()}: {step}"
                    typer.echo(_cut(line, self.width), err=True)
                elif step.startswith(WAITING):
                    typer.echo(_cut(f"costscan: {step}", self.width), err=True)

            return plain

        bar = self._live()
        if self._task is not None:
            bar.remove_task(self._task)
        task = bar.add_task(name, total=total, stage=name, count=count(), step="")
        self._task = task
        # What is left for the step's words once the spinner, the stage, the bar, the
        # count (at its widest) and the elapsed time are drawn, with their gaps.
        widest = len(f"{total:,}/{total:,} {unit}") if total else len(f"99,999 {unit}")
        room = max(self.width - len(name) - widest - BAR_WIDTH - 18, 10)

        def live(step: str, advance: int = 1) -> None:
            nonlocal done
            done += advance
            bar.update(task, advance=advance, count=count(), step=_cut(step, room))

        return live

    def _live(self) -> Any:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                SpinnerColumn(),
                TextColumn("{task.fields[stage]}"),
                BarColumn(bar_width=BAR_WIDTH),
                TextColumn("{task.fields[count]}"),
                TextColumn("{task.fields[step]}", markup=False),
                TimeElapsedColumn(),
                console=Console(stderr=True, width=self.width),
                transient=True,
            )
            self._bar.start()
        return self._bar

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


BAR_WIDTH = 10


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


@contextmanager
def progress_display() -> Iterator[ProgressDisplay]:
    """A live progress line on a terminal; plain lines in CI or when piped."""
    interactive = sys.stderr.isatty() and not os.environ.get("CI")
    display = ProgressDisplay(interactive, terminal_width())
    try:
        yield display
    finally:
        display.close()


def execute(
    settings: Settings,
    *,
    show_table: bool = True,
    display: ProgressDisplay | None = None,
    next_step: str | None = None,
) -> RunResult:
    from costscan.scanner.app import engine

    if display is None:
        with progress_display() as own:
            result = engine.run(settings, own.stage("scanning", unit="calls"))
    else:
        result = engine.run(settings, display.stage("scanning", unit="calls"))
        display.close()
    show_result(result, show_table=show_table, next_step=next_step)
    return result


def show_result(
    result: RunResult, *, show_table: bool = True, next_step: str | None = None
) -> None:
    from costscan.reports import terminal

    width = terminal_width()
    lines = terminal.summary_lines(result.report, width)
    if show_table:
        lines += ["", *terminal.top_lines(result.report, width, limit=10)]
    if result.gate_crossed:
        lines += ["", "Savings gate crossed: counted monthly savings exceed --fail-on-savings."]
    lines += ["", *terminal.closing_lines(result.written, width, next_step)]
    typer.echo("\n".join(lines))


NEXT_AFTER_DEMO = (
    "scan your own account (read-only): costscan run --provider aws --region us-east-1; "
    "`costscan policies` lists what it checks"
)
NEXT_AFTER_GCP_DEMO = (
    "scan your own project (read-only): costscan run --provider gcp --project ID; "
    "`costscan policies` lists what it checks"
)
NEXT_AFTER_AZURE_DEMO = (
    "scan your own subscription (read-only, after az login): costscan run --provider azure "
    "--subscription ID; `costscan policies` lists what it checks"
)
NEXT_AFTER_RUN = (
    "run it weekly with --history DIR to see what is new, still open and resolved; "
    "costscan diff OLD NEW compares two runs"
)


def github_run_url() -> str | None:
    """The Actions run page (it holds the uploaded report artifacts), inside GitHub Actions."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return None
    server = os.environ.get("GITHUB_SERVER_URL", "").rstrip("/")
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    run_id = os.environ.get("GITHUB_RUN_ID", "")
    if not (server and repository and run_id):
        return None
    return f"{server}/{repository}/actions/runs/{run_id}"


@app.command()
def run(
    provider: Annotated[
        str, typer.Option(help="aws, gcp, azure, or focus for billing exports alone")
    ] = "aws",
    region: Annotated[
        list[str] | None,
        typer.Option(help="Region to scan; repeat for more. Default: all enabled."),
    ] = None,
    profile: Annotated[str | None, typer.Option(help="AWS named profile.")] = None,
    project: Annotated[
        list[str] | None,
        typer.Option(help="GCP project to scan; repeat for more. Default: every listable one."),
    ] = None,
    organization: Annotated[
        str | None, typer.Option(help="GCP organization id whose projects to scan.")
    ] = None,
    subscription: Annotated[
        list[str] | None,
        typer.Option(
            help="Azure subscription id to scan; repeat for more. Default: every listable one."
        ),
    ] = None,
    management_group: Annotated[
        str | None,
        typer.Option(help="Azure management group whose subscriptions (at any depth) to scan."),
    ] = None,
    org_role: Annotated[
        str | None, typer.Option(help="Role name to assume in each AWS Organizations account.")
    ] = None,
    lookback_days: Annotated[int, typer.Option(help="Days of utilization to read.")] = 14,
    config: Annotated[str | None, typer.Option(help="Path to costscan.toml.")] = None,
    format: Annotated[
        str, typer.Option("--format", help="Comma-separated: html,csv,json,md,parquet")
    ] = "html,csv,json,md",
    output_dir: Annotated[str, typer.Option(help="Where reports are written.")] = "costscan-report",
    min_savings: Annotated[
        float, typer.Option(help="Hide findings saving less than this many USD a month.")
    ] = 0.0,
    fail_on_savings: Annotated[
        float | None,
        typer.Option(help="Exit 1 (after writing reports) when monthly savings exceed this."),
    ] = None,
    live_pricing: Annotated[
        bool,
        typer.Option(
            help=(
                "Fetch prices live (cached): the AWS Price List API, the Cloud Billing "
                "Catalog for GCP or the Azure Retail Prices API; bundled prices otherwise."
            )
        ),
    ] = False,
    billing: Annotated[
        list[str] | None,
        typer.Option(
            help="Billing export (FOCUS, CUR, GCP or Azure; file, folder or glob); repeat for "
            "more. With --provider focus it is the source; with a cloud, actual costs win. "
            "Or one table queried where it lives: athena://DATABASE.TABLE?workgroup=WG&"
            "output=s3://BUCKET/PREFIX, bigquery://PROJECT.DATASET.TABLE, duckdb:///PATH."
        ),
    ] = None,
    billing_format: Annotated[
        str | None,
        typer.Option(help="Override format detection: focus, cur, cur2, gcp, azure or oci."),
    ] = None,
    billing_period: Annotated[
        str | None,
        typer.Option(
            help="With a push-down --billing URI: the billing months to query, YYYY-MM or "
            "YYYY-MM:YYYY-MM. Default: the months the lookback window overlaps."
        ),
    ] = None,
    max_scan_gb: Annotated[
        float | None,
        typer.Option(
            help="With a push-down --billing URI: refuse (exit 2) when the queries' estimated "
            "scan exceeds this many GB."
        ),
    ] = None,
    fx: Annotated[
        list[str] | None,
        typer.Option(
            "--fx",
            help="Exchange rate into USD for billing in another currency, CODE=RATE "
            "(USD per 1 CODE, e.g. CAD=0.73); repeat for more. The report states the rates.",
        ),
    ] = None,
    history: Annotated[
        str | None,
        typer.Option(
            help="Folder or s3:// URI keeping each run's findings: marks new, open and "
            "resolved findings and the savings realized since the last run."
        ),
    ] = None,
    report_url: Annotated[
        str | None,
        typer.Option(
            help="Where the full report can be read; the Markdown links it. Default in "
            "GitHub Actions: the run's page, which holds the report artifact."
        ),
    ] = None,
    history_reset: Annotated[
        bool,
        typer.Option(
            help="Start the --history anew from this run: compare with no earlier run, "
            "and later runs never read the older files (a way past a damaged one)."
        ),
    ] = False,
    max_workers: Annotated[
        int, typer.Option(help="Account-regions scanned at once (1 to 64).")
    ] = 8,
    collector_timeout: Annotated[
        float,
        typer.Option(
            help="Seconds one collector may take, retries included, before it is reported "
            "as a gap (exit 3)."
        ),
    ] = 300.0,
) -> None:
    """Scan a cloud account, price every finding, and write ranked reports."""
    from costscan.scanner.app.engine import Settings

    settings = Settings(
        provider=provider.lower(),
        regions=tuple(region or ()),
        profile=profile,
        org_role=org_role,
        lookback_days=lookback_days,
        config_path=config,
        formats=split_formats(format),
        output_dir=output_dir,
        min_savings=min_savings,
        fail_on_savings=fail_on_savings,
        live_pricing=live_pricing,
        billing_paths=tuple(billing or ()),
        billing_format=billing_format.lower() if billing_format else None,
        billing_period=billing_period,
        max_scan_gb=max_scan_gb,
        history=history,
        fx=tuple(fx or ()),
        report_url=report_url or github_run_url(),
        projects=tuple(project or ()),
        organization=organization,
        subscriptions=tuple(subscription or ()),
        management_group=management_group,
        history_reset=history_reset,
        max_workers=max_workers,
        collector_timeout=collector_timeout,
    )
    result = execute(settings, next_step=NEXT_AFTER_RUN)
    raise typer.Exit(result.exit_code)


@app.command()
def demo(
    output_dir: Annotated[str, typer.Option(help="Where reports are written.")] = "costscan-report",
    format: Annotated[
        str, typer.Option("--format", help="Comma-separated: html,csv,json,md,parquet")
    ] = "html,csv,json,md",
    config: Annotated[str | None, typer.Option(help="Path to costscan.toml.")] = None,
    provider: Annotated[
        str,
        typer.Option(help="aws (a moto account), gcp or azure (a local fake of its APIs)."),
    ] = "aws",
) -> None:
    """Run the whole job on a seeded, offline cloud (AWS on moto, or GCP on a local fake of
    its APIs); no cloud account needed."""
    from datetime import datetime

    from costscan.scanner.app.engine import Settings, check_settings

    formats = split_formats(format)
    if provider.lower() == "gcp":
        _demo_gcp(output_dir, formats, config)
    if provider.lower() == "azure":
        _demo_azure(output_dir, formats, config)
    if provider.lower() != "aws":
        raise UsageError(f"--provider: the demo runs aws, gcp or azure, not {provider!r}")
    # Check the input before spending time seeding the account.
    check_settings(
        Settings(provider="aws", formats=formats, config_path=config, output_dir=output_dir)
    )
    try:
        from costscan.demo import account as demo_account
    except ImportError as exc:  # moto is the demo extra
        fail(f"the demo needs moto: pip install 'costscan[demo]' ({exc.name} is missing)")
    # The demo account is moto's: dummy credentials, never the user's real ones.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ["AWS_ACCESS_KEY_ID"] = "demo"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "demo"
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    typer.echo("costscan: starting an offline AWS account (moto)...", err=True)
    server, endpoint = demo_account.start_demo_server()
    try:
        with progress_display() as display:
            seed = demo_account.seed_demo_account(
                endpoint,
                now,
                progress=display.stage(
                    "seeding the demo account", demo_account.seed_steps(), "steps"
                ),
            )
            settings = Settings(
                provider="aws",
                regions=tuple(seed.regions),
                config_path=config,
                formats=formats,
                output_dir=output_dir,
                endpoint_url=endpoint,
                now=now,
            )
            result = execute(settings, display=display, next_step=NEXT_AFTER_DEMO)
    finally:
        server.stop()
    raise typer.Exit(0 if result.exit_code in (0, 1) else result.exit_code)


def _demo_gcp(output_dir: str, formats: list[str], config: str | None) -> NoReturn:
    """The GCP demo: the fake's endpoints in the environment, then the same run as
    `costscan run --provider gcp --project costscan-demo`."""
    from datetime import datetime

    from costscan.scanner.app.engine import Settings, check_settings

    check_settings(
        Settings(provider="gcp", formats=formats, config_path=config, output_dir=output_dir)
    )
    try:
        from costscan.demo import gcp as demo_gcp
    except ImportError as exc:  # the gcp extra (and werkzeug, from the demo extra)
        fail(f"the GCP demo needs: pip install 'costscan[demo,gcp]' ({exc.name} is missing)")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    typer.echo(
        "costscan: starting a local fake of the Google Cloud APIs and seeding it...", err=True
    )
    fake = demo_gcp.start_demo_gcp(now)
    try:
        # Anonymous credentials against the fake: never the user's real ones.
        os.environ.update(fake.environment())
        settings = Settings(
            provider="gcp",
            projects=(demo_gcp.DEMO_PROJECT,),
            config_path=config,
            formats=formats,
            output_dir=output_dir,
            now=now,
        )
        result = execute(settings, next_step=NEXT_AFTER_GCP_DEMO)
    finally:
        fake.stop()
    raise typer.Exit(0 if result.exit_code in (0, 1) else result.exit_code)


def _demo_azure(output_dir: str, formats: list[str], config: str | None) -> NoReturn:
    """The Azure demo: the fake's endpoint and certificate in the environment, then the
    same run as `costscan run --provider azure --subscription <the demo's>`."""
    from datetime import datetime

    from costscan.scanner.app.engine import Settings, check_settings

    check_settings(
        Settings(provider="azure", formats=formats, config_path=config, output_dir=output_dir)
    )
    try:
        from costscan.demo import azure as demo_azure
    except ImportError as exc:  # the azure extra (and werkzeug, from the demo extra)
        fail(f"the Azure demo needs: pip install 'costscan[demo,azure]' ({exc.name} is missing)")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    typer.echo("costscan: starting a local fake of the Azure APIs and seeding it...", err=True)
    fake = demo_azure.start_demo_azure(now)
    try:
        # A local token against the fake: never the user's real credential.
        os.environ.update(fake.environment())
        settings = Settings(
            provider="azure",
            subscriptions=(demo_azure.DEMO_SUBSCRIPTION,),
            config_path=config,
            formats=formats,
            output_dir=output_dir,
            now=now,
        )
        result = execute(settings, next_step=NEXT_AFTER_AZURE_DEMO)
    finally:
        fake.stop()
    raise typer.Exit(0 if result.exit_code in (0, 1) else result.exit_code)


@app.command()
def report(
    findings_file: Annotated[
        str, typer.Argument(help="A run saved with --format parquet.", metavar="FINDINGS.parquet")
    ],
    format: Annotated[
        str, typer.Option("--format", help="Comma-separated: html,csv,json,md")
    ] = "html",
    output_dir: Annotated[str, typer.Option(help="Where reports are written.")] = "costscan-report",
) -> None:
    """Re-render a past run (saved with --format parquet) in other formats."""
    from pathlib import Path

    from costscan.reports import formats as report_formats
    from costscan.scanner.app import engine

    renderers = [report_formats.renderer_for(name) for name in split_formats(format)]
    path = Path(findings_file)
    if not path.is_file():
        raise UsageError(f"{findings_file}: no such file")
    past = report_formats.read_parquet_report(path)
    for written in engine.write_reports(past, renderers, output_dir):
        typer.echo(f"wrote {written}")


@app.command()
def comment(
    to: Annotated[str, typer.Option(help="pr: the pull request; issue: a tracking issue.")],
    report: Annotated[str, typer.Option(help="The Markdown report to post (costscan-*.md).")],
    number: Annotated[
        int | None,
        typer.Option(
            help="The pull request or issue. pr: default from GITHUB_EVENT_PATH; issue: "
            "default the open issue costscan made, titled --title."
        ),
    ] = None,
    behavior: Annotated[
        str, typer.Option(help="update: edit the earlier comment in place; new: add one.")
    ] = "update",
    repository: Annotated[
        str | None, typer.Option(envvar="GITHUB_REPOSITORY", help="owner/name.")
    ] = None,
    title: Annotated[
        str, typer.Option(help="The tracking issue's title (--to issue).")
    ] = "costscan savings report",
    marker_id: Annotated[
        str, typer.Option(help="Tells apart the reports of several scans in one thread.")
    ] = "costscan",
    report_url: Annotated[
        str | None, typer.Option(help="Where the full report is; named when the comment is cut.")
    ] = None,
) -> None:
    """Post the Markdown report on a pull request or a tracking issue, edited in place."""
    from costscan.publish import github
    from costscan.reports import comment as github_comment

    event_path = os.environ.get("GITHUB_EVENT_PATH")
    if number is None and to == "pr" and event_path:
        number = github.pull_request_number(event_path)
    body, trimmed = github_comment.comment_body(
        github.read_markdown(report), marker_id=marker_id, report_url=report_url
    )
    result = github.post_comment(
        body,
        marker=github_comment.marker_line(marker_id),
        to=cast("Target", to),
        repository=repository or "",
        number=number,
        token=os.environ.get("GITHUB_TOKEN", ""),
        api_url=os.environ.get("GITHUB_API_URL") or github.DEFAULT_API_URL,
        behavior=cast("Behavior", behavior),
        title=title,
        issue_body=github_comment.tracking_issue_body(marker_id, edited_in_place=behavior != "new"),
    )
    cut = " (cut to fit GitHub's comment limit)" if trimmed else ""
    typer.echo(f"costscan: comment {result.action}: {result.url}{cut}")


@app.command()
def diff(
    old: Annotated[str, typer.Argument(help="The earlier run (history parquet or JSON report).")],
    new: Annotated[str, typer.Argument(help="The later run.")],
) -> None:
    """What changed between two runs: new findings, resolved ones and the savings realized."""
    from costscan.reports.changes import format_diff
    from costscan.scanner.pipeline import history

    typer.echo(format_diff(history.diff(old, new)))


@policies_app.callback()
def policies_list(
    ctx: typer.Context,
    family: Annotated[
        str | None, typer.Option(help="Only this family's policies, e.g. storage.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Every policy as JSON (id, summary, parameters...).")
    ] = False,
) -> None:
    """Every registered policy: a header, then each one's id, family, action and summary."""
    if ctx.invoked_subcommand is not None:
        return
    from costscan.reports.policy_list import policies_json, policies_text, policy_rows
    from costscan.scanner.app import catalog
    from costscan.scanner.contracts.schema import FAMILIES

    if family is not None and family.lower() not in FAMILIES:
        raise UsageError(f"--family: unknown family {family!r} (choose from {', '.join(FAMILIES)})")
    rows = policy_rows(
        catalog.all_policies().values(), family.lower() if family is not None else None
    )
    if as_json:
        typer.echo(policies_json(rows), nl=False)
    else:
        typer.echo(policies_text(rows, terminal_width()), nl=False)


@policies_app.command("show")
def policies_show(policy_id: Annotated[str, typer.Argument(help="A policy id.")]) -> None:
    """A policy's docstring, parameters and defaults."""
    from costscan.scanner.app import engine

    info = engine.describe_policy(policy_id)
    typer.echo(f"{info['id']}: {info['title']}")
    typer.echo(
        f"family {info['family']}, action {info['action']}, effort {info['effort_hours']} h, "
        f"risk {info['risk']}, performance {info['performance']}, needs {', '.join(info['needs'])}"
    )
    typer.echo(
        f"change {info['change']}: effort level {info['effort_level']}, restart needed "
        f"{'yes' if info['restart_needed'] else 'no'}, rollback possible "
        f"{'yes' if info['rollback_possible'] else 'no'} (after AWS Cost Optimization Hub); "
        f"counts as {info['category']}"
    )
    if info["formula"]:
        typer.echo(f"formula: {info['formula']}")
    typer.echo("")
    typer.echo(info["doc"])
    typer.echo("")
    typer.echo(f'parameters (costscan.toml [policies."{info["id"]}"]):')
    if not info["parameters"]:
        typer.echo("  (none)")
    for name, default in info["parameters"].items():
        typer.echo(f"  {name} = {default!r}")


def _terminate(signum: int, _frame: object) -> None:
    # SIGTERM (a CI job cancelled, a container stopped) unwinds like Ctrl-C, so every
    # temporary file is removed on the way out (scanner/contracts/files.py).
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: every expected failure is one line on stderr and exit 2."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args:
        # `costscan` alone shows the help, as `costscan --help` does (click would call it a
        # usage error).
        args = ["--help"]

    import signal
    import threading

    # polars' allocator (jemalloc, read when polars first loads, so set here) keeps pages
    # freed by one pass of the billing rollup to reuse them, and they count as resident
    # until reused: returned at once, the rollup of 40 million rows peaks 1.37 GB, not
    # 1.59 GB, in the same time (README, "Billing memory"). A value the user set wins.
    os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        code = app(args=args, standalone_mode=False)
    except CostscanError as exc:
        _die(str(exc))
    except _CLICK_EXCEPTION as exc:
        _die(exc.format_message())  # type: ignore[attr-defined]
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("costscan: aborted", err=True)
        sys.exit(130)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    sys.exit(code if isinstance(code, int) else 0)


def _die(message: str) -> NoReturn:
    typer.echo(f"costscan: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


if __name__ == "__main__":  # pragma: no cover
    main()
