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
from typing import TYPE_CHECKING, Annotated, NoReturn, cast

import typer

from costscan.scanner.contracts.errors import CostscanError, UsageError

if TYPE_CHECKING:
    from costscan.providers.interface import Progress
    from costscan.publish.github import Behavior, Target
    from costscan.scanner.app.engine import RunResult, Settings

app = typer.Typer(
    name="costscan",
    help="Find cloud waste, price every finding, rank by ROI.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
policies_app = typer.Typer(
    help="List every policy, or show one with `costscan policies show ID`.",
    invoke_without_command=True,
    rich_markup_mode=None,
)
app.add_typer(policies_app, name="policies")

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


def _plain_progress() -> Progress:
    def report(step: str, advance: int = 1) -> None:
        # Only finished steps: a start marker followed by a usage error would be noise
        # in front of the one line that matters.
        if advance:
            typer.echo(f"costscan: {step}", err=True)

    return report


@contextmanager
def progress_display() -> Iterator[Progress]:
    """A rich progress bar on a terminal; plain lines in CI or when piped."""
    interactive = sys.stderr.isatty() and not os.environ.get("CI")
    if not interactive:
        yield _plain_progress()
        return
    from rich.progress import Progress as RichProgress
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    with RichProgress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed} steps"),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("scanning", total=None)

        def report(step: str, advance: int = 1) -> None:
            bar.update(task, description=step, advance=advance)

        yield report


def execute(settings: Settings, *, show_table: bool = True) -> RunResult:
    from costscan.scanner.app import engine

    with progress_display() as progress:
        result = engine.run(settings, progress)
    show_result(result, show_table=show_table)
    return result


def show_result(result: RunResult, *, show_table: bool = True) -> None:
    from rich.console import Console

    from costscan.reports import terminal

    console = Console(stderr=False, soft_wrap=False, width=max(100, _terminal_width()))
    if show_table:
        console.print(terminal.top_table(result.report, limit=10))
    for line in terminal.summary_lines(result.report):
        console.print(line, markup=False, highlight=False)
    for path in result.written:
        console.print(f"wrote {path}", markup=False, highlight=False)
    if result.gate_crossed:
        console.print(
            "savings gate crossed: counted monthly savings exceed --fail-on-savings",
            markup=False,
            highlight=False,
        )


def _terminal_width() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 120


@app.command()
def run(
    provider: Annotated[
        str, typer.Option(help="aws, gcp, or focus for billing exports alone")
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
        bool, typer.Option(help="Use the AWS Price List API (cached) instead of bundled prices.")
    ] = False,
    billing: Annotated[
        list[str] | None,
        typer.Option(
            help="Billing export (FOCUS, CUR, GCP or Azure; file, folder or glob); repeat for "
            "more. With --provider focus it is the source; with a cloud, actual costs win."
        ),
    ] = None,
    billing_format: Annotated[
        str | None,
        typer.Option(help="Override format detection: focus, cur, cur2, gcp, azure or oci."),
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
        history=history,
        fx=tuple(fx or ()),
        projects=tuple(project or ()),
        organization=organization,
    )
    result = execute(settings)
    raise typer.Exit(result.exit_code)


@app.command()
def demo(
    output_dir: Annotated[str, typer.Option(help="Where reports are written.")] = "costscan-report",
    format: Annotated[
        str, typer.Option("--format", help="Comma-separated: html,csv,json,md,parquet")
    ] = "html,csv,json,md",
    config: Annotated[str | None, typer.Option(help="Path to costscan.toml.")] = None,
    provider: Annotated[
        str, typer.Option(help="aws (a moto account) or gcp (a local fake of its APIs).")
    ] = "aws",
) -> None:
    """Run the whole job on a seeded, offline cloud (AWS on moto, or GCP on a local fake of
    its APIs); no cloud account needed."""
    from datetime import datetime

    from costscan.scanner.app.engine import Settings, check_settings

    formats = split_formats(format)
    if provider.lower() == "gcp":
        _demo_gcp(output_dir, formats, config)
    if provider.lower() != "aws":
        raise UsageError(f"--provider: the demo runs aws or gcp, not {provider!r}")
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
    typer.echo("costscan: starting an offline AWS account (moto) and seeding it...", err=True)
    server, endpoint = demo_account.start_demo_server()
    try:
        seed = demo_account.seed_demo_account(endpoint, now)
        settings = Settings(
            provider="aws",
            regions=tuple(seed.regions),
            config_path=config,
            formats=formats,
            output_dir=output_dir,
            endpoint_url=endpoint,
            now=now,
        )
        result = execute(settings)
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
        result = execute(settings)
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
def policies_list(ctx: typer.Context) -> None:
    """Every registered policy."""
    if ctx.invoked_subcommand is not None:
        return
    from costscan.scanner.app import engine

    rows = engine.policy_table()
    width = max((len(r["id"]) for r in rows), default=0)
    for row in rows:
        typer.echo(
            f"{row['id']:<{width}}  {row['family']:<13}  {row['action']:<10}  {row['summary']}"
        )


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


def main(argv: list[str] | None = None) -> None:
    """Console entry point: every expected failure is one line on stderr and exit 2."""
    try:
        code = app(args=argv, standalone_mode=False)
    except CostscanError as exc:
        _die(str(exc))
    except _CLICK_EXCEPTION as exc:
        _die(exc.format_message())  # type: ignore[attr-defined]
    except typer.Abort:
        typer.echo("costscan: aborted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def _die(message: str) -> NoReturn:
    typer.echo(f"costscan: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


if __name__ == "__main__":  # pragma: no cover
    main()
