"""The registry enforces what a policy declares: frames, parameters, output types, formula."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
import pytest

from costscan.scanner.contracts import registry, schema
from costscan.scanner.contracts.errors import SchemaError
from costscan.scanner.contracts.inventory import Inventory, InventoryView, RunContext
from costscan.scanner.contracts.vocab import Action, Change, Family, Performance, Risk

NOW = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _private_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The toy policies registered here never reach the real catalog."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


@dataclass(frozen=True)
class ToyParams:
    price: float = 2.0


def _output(frame: pl.LazyFrame, **override: pl.Expr) -> pl.LazyFrame:
    columns: dict[str, pl.Expr] = {
        "provider": pl.lit("aws"),
        "account_id": pl.lit("1"),
        "region": pl.lit("us-east-1"),
        "resource_id": pl.col("resource_id"),
        "resource_name": pl.col("resource_id"),
        "resource_type": pl.lit("ebs_volume"),
        "detail": pl.lit("d"),
        "recommendation": pl.lit("r"),
        "current_monthly_cost": pl.lit(10.0),
        "monthly_savings": pl.lit(4.0),
        "confidence": pl.lit(0.9),
        "price_source": pl.lit("bundled"),
        "evidence": pl.lit('{"size_gb":8.0}'),
        **override,
    }
    return frame.select(**columns)


def _register(name: str, func: registry.PolicyFunc, needs: tuple[str, ...]) -> registry.Policy:
    decorate = registry.policy(
        id=f"storage.{name}",
        family=Family.STORAGE,
        action=Action.CONFIGURE,
        title="toy",
        needs=needs,
        effort_hours=1.0,
        risk=Risk.LOW,
        performance=Performance.NEUTRAL,
        change=Change.CONFIGURE_SERVICE,
        formula="monthly_savings = 2 × size_gb",
    )
    decorate(func)
    return registry.registered()[f"storage.{name}"]


def _inventory() -> Inventory:
    inv = Inventory(provider="aws", context=RunContext.at(NOW))
    inv.add("volumes", pl.DataFrame({"resource_id": ["vol-1"], "size_gb": [8.0]}))
    return inv


def test_parameters_come_from_the_annotation_and_the_formula_leads_the_evidence() -> None:
    def toy(inv: InventoryView, p: ToyParams) -> pl.LazyFrame:
        return _output(inv.lazy("volumes"), monthly_savings=pl.lit(p.price))

    pol = _register("toy-annotated", toy, ("volumes",))
    assert pol.params is ToyParams
    row = pol.run(_inventory(), pol.build_params({"price": 3.0})).collect().row(0, named=True)
    assert row["monthly_savings"] == 3.0
    assert list(json.loads(row["evidence"])) == ["formula", "size_gb"]
    assert json.loads(row["evidence"])["formula"] == "monthly_savings = 2 × size_gb"


def test_a_frame_the_policy_does_not_declare_cannot_be_read() -> None:
    def sneaky(inv: InventoryView, p: ToyParams) -> pl.LazyFrame:
        inv.lazy("prices")
        return _output(inv.lazy("volumes"))

    pol = _register("toy-sneaky", sneaky, ("volumes",))
    with pytest.raises(SchemaError, match=r"storage\.toy-sneaky reads frame 'prices'"):
        pol.run(_inventory(), pol.build_params())


def test_an_output_column_of_the_wrong_type_is_refused_not_cast() -> None:
    def sloppy(inv: InventoryView, p: ToyParams) -> pl.LazyFrame:
        return _output(inv.lazy("volumes"), monthly_savings=pl.lit("4.0"))

    pol = _register("toy-sloppy", sloppy, ("volumes",))
    with pytest.raises(SchemaError, match="monthly_savings is String, not Float64"):
        pol.run(_inventory(), pol.build_params())


def test_parameters_must_be_a_frozen_dataclass_annotation() -> None:
    def untyped(inv, p):  # type: ignore[no-untyped-def]
        return _output(inv.lazy("volumes"))

    with pytest.raises(SchemaError, match="annotated with a frozen dataclass"):
        _register("toy-untyped", untyped, ("volumes",))


def test_a_vocabulary_typo_fails_at_registration() -> None:
    with pytest.raises(SchemaError, match="family 'storge' is not one of"):
        registry.policy(
            id="storge.x",
            family="storge",
            action="remove",
            title="t",
            needs=(),
            effort_hours=0,
            risk="low",
            performance="neutral",
            change="configure_service",
        )


def test_boundary_casts_are_strict_for_optional_columns() -> None:
    with pytest.raises(SchemaError, match="size_gb"):
        schema.validate("volumes", pl.DataFrame({"resource_id": ["v"], "size_gb": ["big"]}))
