"""Fuzzing (hypothesis): whatever the input, a report or one clear error, never a crash.

- The config loader: any TOML text, and any document built from the keys costscan knows
  with values of every type (nan, inf, huge and negative numbers, dates, nested tables),
  gives a Config whose every number is finite and in range, or a ConfigError.
- The billing reader: any CSV with FOCUS's headers (a shuffled subset, sometimes with
  strangers) and cells of any text gives a read billing source, or an input error naming
  the file. A smaller sample goes through the whole CLI: reports, or exit 2 with one line.
- The renderers: any findings (text of any Unicode, numbers of any size or none), with
  the absurd figures withheld as the engine does (scanner/pipeline/gaps.py), ranked and
  rendered in every format: valid JSON, no bidi control in the text formats, the
  Markdown under GitHub's limit.

Examples are drawn from a fixed seed (``derandomize``), so CI sees the same inputs on
every run; ``FUZZ_EXAMPLES`` multiplies the counts for a longer local search.
"""

from __future__ import annotations

import json
import math
import os
import string
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from costscan.reports.formats import renderer_for
from costscan.reports.interface import Report, RunInfo
from costscan.reports.markdown import GITHUB_COMMENT_LIMIT
from costscan.reports.ranking import rank
from costscan.reports.text import BIDI_CONTROLS
from costscan.scanner.app.catalog import all_policies
from costscan.scanner.app.cli import main
from costscan.scanner.contracts import config as config_module
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import CollectorError, ConfigError, UsageError
from costscan.scanner.contracts.registry import parameter_range
from costscan.scanner.pipeline import gaps

SCALE = max(1, int(os.environ.get("FUZZ_EXAMPLES", "1")))
CONFIG_EXAMPLES = 300 * SCALE
BILLING_EXAMPLES = 120 * SCALE
CLI_EXAMPLES = 25 * SCALE
RENDER_EXAMPLES = 80 * SCALE


def fuzz(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --- the config loader ----------------------------------------------------------------

POLICIES = all_policies()
POLICY_IDS = sorted(POLICIES)
PARAMETERS = sorted({name for p in POLICIES.values() for name in p.defaults()})

numbers = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 0.5, 100, 101, float("nan"), float("inf"), -float("inf")]),
)
scalars = st.one_of(
    numbers,
    st.booleans(),
    st.text(max_size=20),
    st.dates(min_value=date(1900, 1, 1)),
    st.sampled_from(["*", "[z-a]*", "storage.*", "vol-*", "[", "**", "team=data", ""]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def toml_value(value: Any) -> str:
    """``value`` as TOML (nan and inf as TOML spells them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, (int, date)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


# Values in a plausible range half the time, so loading also succeeds and the checks past
# the first one run.
sane = st.one_of(st.floats(0, 1), st.integers(0, 100), st.booleans(), values)

policy_tables = st.dictionaries(
    st.sampled_from(POLICY_IDS) | st.text(max_size=12),
    st.dictionaries(
        st.sampled_from([*PARAMETERS, "enabled"]) | st.text(max_size=6), sane, max_size=4
    ),
    max_size=3,
)
suppress_entries = st.lists(
    st.dictionaries(
        st.sampled_from(["policy", "resource", "tag", "reason", "owner", "expires", "other"]),
        scalars,
        max_size=7,
    ),
    max_size=3,
)
documents = st.fixed_dictionaries(
    {},
    optional={
        "engineer_hourly_rate": sane,
        "confidence_floor": sane,
        "nonprod_tags": values,
        "policies": policy_tables,
        "suppress": suppress_entries,
        "unknown_key": values,
    },
)


def toml_document(document: dict[str, Any]) -> str:
    lines = []
    for key in ("engineer_hourly_rate", "confidence_floor", "unknown_key", "nonprod_tags"):
        if key in document:
            lines.append(f"{key} = {toml_value(document[key])}")
    for policy_id, table in (document.get("policies") or {}).items():
        lines.append(f"[policies.{json.dumps(policy_id)}]")
        lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
    for entry in document.get("suppress") or []:
        lines.append("[[suppress]]")
        lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def check_loaded(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "costscan.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            loaded = config_module.load(path, POLICIES)
        except ConfigError as exc:
            assert "\n" not in str(exc).strip() or str(exc).startswith(str(path))
            event("config error")
            return
    event("config loaded")
    assert math.isfinite(loaded.engineer_hourly_rate) and loaded.engineer_hourly_rate >= 0
    assert 0 <= loaded.confidence_floor <= 1
    for policy_id, table in loaded.policy_params.items():
        for name, value in POLICIES[policy_id].build_params(table).__dict__.items():
            items = value if isinstance(value, tuple) else (value,)
            _what, low, high = parameter_range(name)
            for item in items:
                if isinstance(item, (int, float)) and not isinstance(item, bool):
                    assert math.isfinite(item) and low <= item <= high, (policy_id, name, item)


@fuzz(CONFIG_EXAMPLES)
@given(documents)
def test_any_config_document_loads_clean_or_is_one_config_error(document: dict[str, Any]) -> None:
    check_loaded(toml_document(document))


@fuzz(CONFIG_EXAMPLES)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_any_config_text_loads_clean_or_is_one_config_error(text: str) -> None:
    check_loaded(text)


# --- the billing reader ---------------------------------------------------------------

FOCUS_COLUMNS = [
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
]
garbage = st.text(alphabet=string.printable + "é€\u202e", max_size=12)
numbers_text = st.one_of(
    st.decimals(min_value=-(10**6), max_value=10**7, places=6).map(str),
    st.sampled_from(["", "NULL", "0", "-0", "1e308", "-1e308", "nan", "inf", "1E-7"]),
)
moments = st.one_of(
    st.datetimes(
        min_value=datetime(2024, 8, 1),
        max_value=datetime(2024, 10, 31),
    ).map(lambda moment: moment.strftime("%Y-%m-%d %H:00:00")),
    st.sampled_from(["2024-09-18T23:00:00Z", "9/18/24", "2024-13-45", "", "NULL"]),
)
COST_COLUMNS = (
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "ListUnitPrice",
    "ContractedUnitPrice",
    "ConsumedQuantity",
    "PricingQuantity",
)
# Each column mostly in its own kind of value, sometimes anything: the reader's checks
# and the policies both get exercised, not just the first check.
KINDS: dict[str, Any] = {
    **{c: numbers_text for c in COST_COLUMNS},
    **{
        c: moments
        for c in ["ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd"]
    },
    "BillingCurrency": st.sampled_from(["USD", "USD", "EUR", "", "usd", "XXX"]),
    "ChargeCategory": st.sampled_from(["Usage", "Usage", "Purchase", "Tax", "Credit", ""]),
    "ProviderName": st.sampled_from(["AWS", "Microsoft", "Google Cloud", "", "Oracle"]),
    "ServiceCategory": st.sampled_from(["Compute", "Storage", "Networking", ""]),
    "PricingCategory": st.sampled_from(["Standard", "Committed", "Dynamic", ""]),
    "ResourceId": st.sampled_from(["i-1", "i-2", "vol-1", "", "NULL"]) | garbage,
    "SubAccountId": st.sampled_from(["111111111111", "222222222222", ""]),
    "Tags": st.sampled_from(["{}", '{"env": "dev"}', "[]", "not json", ""]),
}


@st.composite
def billing_csv(draw: st.DrawFn) -> str:
    columns = draw(st.lists(st.sampled_from(FOCUS_COLUMNS), min_size=1, max_size=25, unique=True))
    if draw(st.integers(0, 3)) > 0:
        columns = [*FOCUS_COLUMNS]
    if draw(st.integers(0, 5)) == 0:
        columns.append(draw(st.text(alphabet=string.ascii_letters, min_size=1, max_size=8)))
    count = draw(st.integers(0, 8))
    # One file in four has stray cells (one in sixteen is anything at all); the others
    # hold each column's own kind of value, so they get past the reader's checks.
    stray = draw(st.integers(0, 3)) == 0

    def value(column: str) -> str:
        if column in KINDS and not (stray and draw(st.integers(0, 15)) == 0):
            return str(draw(KINDS[column]))
        return str(draw(garbage))

    rows = [[value(c) for c in columns] for _ in range(count)]

    def quoted(cell: str) -> str:
        return '"' + cell.replace('"', '""') + '"'

    lines = [",".join(columns)] + [",".join(quoted(c) for c in row) for row in rows]
    return "\n".join(lines) + "\n"


@fuzz(BILLING_EXAMPLES)
@given(billing_csv())
def test_any_billing_csv_is_read_or_named_as_bad_input(text: str) -> None:
    from costscan.providers.exports import read_billing
    from costscan.scanner.pipeline import billing_rollup

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_text(text, encoding="utf-8")
        try:
            billing = read_billing([str(path)], None)
            billing_rollup.rollup_of(billing, {})
        except UsageError as exc:
            assert str(path) in str(exc) or "--billing" in str(exc), str(exc)
            event("input error")
            return
        event("read")


@pytest.mark.slow
@fuzz(CLI_EXAMPLES)
@given(billing_csv())
def test_any_billing_csv_through_the_cli_gives_reports_or_one_line(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_text(text, encoding="utf-8")
        out = Path(folder) / "out"
        args = ["run", "--provider", "focus", "--billing", str(path), "--output-dir", str(out)]
        import contextlib
        import io

        err = io.StringIO()
        with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exit_info:
            main([*args, "--format", "json,csv,md,html"])
        code = exit_info.value.code
        event(f"exit {code}")
        if code == 2:
            lines = [
                line for line in err.getvalue().splitlines() if line.startswith("costscan: error")
            ]
            assert len(lines) == 1 and "Traceback" not in err.getvalue()
            assert not out.exists() or not any(out.iterdir())
        else:
            assert code in (0, 1, 3), err.getvalue()
            assert len(list(out.iterdir())) == 5


# --- the renderers --------------------------------------------------------------------

any_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40
) | st.sampled_from(
    ["=cmd|' /C calc'!A0", "https://evil.example #1 @a", "\u202eexe.txt", "|`*_[x](y)<b>"]
)
money = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.floats(-1e6, 1e6)


@st.composite
def findings(draw: st.DrawFn) -> pl.DataFrame:
    count = draw(st.integers(0, 12))
    rows = []
    for index in range(count):
        policy_id = draw(st.sampled_from(POLICY_IDS))
        rows.append(
            {
                "provider": "aws",
                "account_id": draw(st.sampled_from(["111111111111", "222222222222"]) | any_text),
                "region": draw(st.sampled_from(["us-east-1"]) | any_text),
                "resource_id": f"r-{index}-" + draw(any_text),
                "resource_name": draw(any_text | st.none()),
                "resource_type": "ec2_instance",
                "policy_id": policy_id,
                "family": POLICIES[policy_id].family.value,
                "action": POLICIES[policy_id].action.value,
                "category": draw(st.sampled_from(["savings", "possible", "investment", "waste"])),
                "title": draw(any_text),
                "detail": draw(any_text),
                "recommendation": draw(any_text),
                "current_monthly_cost": draw(money),
                "monthly_savings": draw(money),
                "added_monthly_cost": draw(money),
                "upfront_cost": draw(money),
                "effort_hours": draw(st.floats(0, 100)),
                "risk": draw(st.sampled_from(["low", "medium", "high"])),
                "performance": "neutral",
                "confidence": draw(st.floats(0, 1)),
                "price_source": "bundled",
                "evidence": draw(any_text | st.just('{"a": 1}')),
                "finding_id": f"{policy_id}|{index}",
            }
        )
    return pl.DataFrame(rows, schema=dict(schema.FINDINGS))


@fuzz(RENDER_EXAMPLES)
@given(findings(), any_text, st.lists(any_text, max_size=2))
def test_any_findings_render_in_every_format(
    frame: pl.DataFrame, message: str, warnings: list[str]
) -> None:
    # As the engine does: figures that are not finite or absurd are withheld first.
    kept, withheld = gaps.implausible(frame)
    ranked = rank(kept, hourly_rate=100.0)
    report = Report(
        run=RunInfo("aws", ["111111111111"], ["us-east-1"], "2026-11-29T06:00:00Z", 14),
        findings=ranked.findings,
        bottlenecks=ranked.bottlenecks,
        summary=ranked.summary,
        errors=[CollectorError("ec2.volumes", "111111111111", "us-east-1", message), *withheld],
        warnings=warnings,
    )
    for name in ("json", "csv", "md", "html"):
        data = renderer_for(name).render(report)
        text = data.decode("utf-8")
        if name == "json":
            document = json.loads(text)
            assert document["summary"]["monthly_savings"] is None or math.isfinite(
                document["summary"]["monthly_savings"]
            )
        else:
            assert not BIDI_CONTROLS & set(text), name
        if name == "md":
            assert len(text) < GITHUB_COMMENT_LIMIT
