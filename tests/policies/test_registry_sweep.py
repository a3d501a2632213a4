"""One sweep over every registered policy: the contract each must keep."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import polars as pl
import pytest

from costscan.scanner.app import catalog
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import ConfigError
from costscan.scanner.contracts.inventory import Inventory, RunContext
from costscan.scanner.contracts.registry import Policy

POLICIES = catalog.all_policies()

# Named public sources a docstring may cite for its thresholds.
SOURCE_NAMES = (
    "compute optimizer",
    "cost explorer",
    "trusted advisor",
    "azure advisor",
    "recommender",
    "finops",
    "well-architected",
)


def test_policies_are_registered() -> None:
    assert POLICIES, "no policy registered"


@pytest.mark.parametrize("pol", POLICIES.values(), ids=list(POLICIES))
def test_metadata_is_complete(pol: Policy) -> None:
    assert pol.family in schema.FAMILIES
    assert pol.action in schema.ACTIONS
    assert pol.risk in schema.RISKS
    assert pol.performance in schema.PERFORMANCE
    assert pol.title.strip()
    assert pol.effort_hours >= 0
    assert pol.id.startswith(f"{pol.family}."), "ids are namespaced by family"
    doc = pol.doc.lower()
    assert pol.doc, "a policy explains itself in its docstring"
    assert re.search(r"saving|formula", doc), "the docstring explains the saving"
    assert pol.formula and "=" in pol.formula, "the formula is declared once, on the decorator"
    assert re.search(r"https?://", doc) or any(name in doc for name in SOURCE_NAMES), (
        "the docstring cites the public source of its thresholds"
    )


@pytest.mark.parametrize("pol", POLICIES.values(), ids=list(POLICIES))
def test_params_reject_an_unknown_key_by_name(pol: Policy) -> None:
    with pytest.raises(ConfigError, match="no_such_parameter"):
        pol.build_params({"no_such_parameter": 1})
    # The defaults build, and match what the registry reports.
    params = pol.build_params()
    for name, value in pol.defaults().items():
        assert getattr(params, name) == value


@pytest.mark.parametrize("pol", POLICIES.values(), ids=list(POLICIES))
def test_empty_inventory_gives_an_empty_findings_frame(pol: Policy) -> None:
    inv = Inventory(provider="aws", context=RunContext.at(datetime(2024, 6, 17, tzinfo=UTC)))
    out = pol.run(inv, pol.build_params()).collect()
    assert out.height == 0
    assert dict(out.schema) == dict(schema.FINDINGS)


@pytest.mark.parametrize("pol", POLICIES.values(), ids=list(POLICIES))
def test_raw_output_has_every_column_in_its_findings_type(pol: Policy) -> None:
    # The policy's own plan, before the registry completes or casts anything.
    inv = Inventory(provider="aws", context=RunContext.at(datetime(2024, 6, 17, tzinfo=UTC)))
    produced = pol.raw_output(inv, pol.build_params()).collect_schema()
    for column in schema.POLICY_OUTPUT_COLUMNS:
        assert column in produced, f"{pol.id} does not produce {column}"
        assert produced[column] in (schema.FINDINGS[column], pl.Null()), (
            f"{pol.id}: {column} is {produced[column]}, not {schema.FINDINGS[column]}"
        )
