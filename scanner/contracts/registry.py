"""The policy registry: each policy declares its metadata once, on the decorator.

```python
@dataclass(frozen=True)
class IdleParams:
    max_cpu_percent: float = 1.0

@policy(id="rightsizing.idle", family=Family.RIGHTSIZING, action=Action.REMOVE,
        needs=("compute", "utilization"), effort_hours=1, risk=Risk.MEDIUM,
        performance=Performance.NEUTRAL, title="Idle instance",
        formula="monthly_savings = hourly_price × 730")
def idle(inv: InventoryView, p: IdleParams) -> pl.LazyFrame: ...
```

- The parameters are the policy's second argument's annotation (a frozen dataclass), so
  they are named once.
- The formula is written once, on the decorator: ``costscan policies show`` prints it and
  every finding's evidence carries it as its first figure.
- ``needs`` is enforced: the policy reads the inventory through an ``InventoryView`` that
  refuses any frame it does not declare.
- The policy returns ``schema.POLICY_OUTPUT_COLUMNS`` (plus optional per-row overrides of
  ``title``, ``effort_hours``, ``upfront_cost``, ``added_monthly_cost``, ``risk`` and
  ``performance``), each in its findings type exactly; the registry fills the rest from
  the metadata, so no default is repeated anywhere else.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import ConfigError, SchemaError
from costscan.scanner.contracts.inventory import Inventory, InventoryView
from costscan.scanner.contracts.vocab import (
    CHANGES,
    Action,
    Category,
    Change,
    ChangeFacts,
    Family,
    Performance,
    Risk,
)

P = TypeVar("P")
PolicyFunc = Callable[[InventoryView, Any], pl.LazyFrame]

# Columns a policy may set per row; the decorator's value (or the default below) is used
# where it does not.
OVERRIDABLE = (
    "title",
    "category",
    "effort_hours",
    "upfront_cost",
    "added_monthly_cost",
    "risk",
    "performance",
    "monthly_savings_before_discounts",
    "deferred_monthly_savings",
    "savings_start",
    "exclusive_group",
    "commitment_scope",
    "scope_uncovered_monthly",
    "scope_usage_removed_monthly",
    "group_key",
    "performance_gain",
)


@dataclass(frozen=True)
class NoParams:
    """A policy with nothing to tune."""


@dataclass(frozen=True)
class Policy:
    id: str
    family: Family
    action: Action
    title: str
    needs: tuple[str, ...]
    effort_hours: float
    risk: Risk
    performance: Performance
    params: type
    func: PolicyFunc
    change: Change
    category: Category = Category.SAVINGS
    formula: str | None = None

    @property
    def facts(self) -> ChangeFacts:
        """Effort level, restart and rollback of this policy's change (vocab.CHANGES)."""
        return CHANGES[self.change]

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.func.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.split("\n", 1)[0] if self.doc else self.title

    def defaults(self) -> dict[str, Any]:
        return {f.name: _default_of(f) for f in dataclasses.fields(self.params)}

    def build_params(self, raw: Mapping[str, Any] | None = None) -> Any:
        return build_params(self.params, raw or {}, where=f'policies."{self.id}"')

    def raw_output(self, inv: Inventory, params: Any) -> pl.LazyFrame:
        """The policy's own plan over the frames it declares, before the registry completes
        it; SchemaError when a column it must produce is missing or of the wrong type."""
        out = self.func(InventoryView(inv, self.needs, self.id), params)
        if not isinstance(out, pl.LazyFrame):
            raise SchemaError(f"policy {self.id} returned {type(out).__name__}, not a LazyFrame")
        produced = out.collect_schema()
        missing = [c for c in schema.POLICY_OUTPUT_COLUMNS if c not in produced]
        if missing:
            raise SchemaError(f"policy {self.id} did not produce {', '.join(missing)}")
        for column in (*schema.POLICY_OUTPUT_COLUMNS, *OVERRIDABLE):
            if column not in produced:
                continue
            expected = schema.FINDINGS[column]
            if produced[column] != expected and produced[column] != pl.Null():
                raise SchemaError(
                    f"policy {self.id}: column {column} is {produced[column]}, not {expected}"
                )
        return out

    def run(self, inv: Inventory, params: Any) -> pl.LazyFrame:
        """Run the policy and complete its output to the findings schema."""
        out = self.raw_output(inv, params)
        names = out.collect_schema().names()
        facts = self.facts
        meta: dict[str, Any] = {
            "policy_id": self.id,
            "family": self.family.value,
            "action": self.action.value,
            "category": self.category.value,
            "title": self.title,
            "effort_hours": float(self.effort_hours),
            "effort_level": facts.effort.value,
            "restart_needed": facts.restart_needed,
            "rollback_possible": facts.rollback_possible,
            "risk": self.risk.value,
            "performance": self.performance.value,
            "upfront_cost": 0.0,
            "added_monthly_cost": 0.0,
            "deferred_monthly_savings": 0.0,
            "savings_start": None,
            "exclusive_group": None,
            "commitment_scope": None,
            "scope_uncovered_monthly": None,
            "scope_usage_removed_monthly": None,
            "group_key": None,
            "performance_gain": None,
        }
        # The figure before discounts is the figure itself unless the policy knows better.
        if "monthly_savings_before_discounts" not in names:
            out = out.with_columns(
                pl.col("monthly_savings").alias("monthly_savings_before_discounts")
            )
            names.append("monthly_savings_before_discounts")
        fill = []
        for col, value in meta.items():
            lit = pl.lit(value, dtype=schema.FINDINGS[col])
            if col in names and col in OVERRIDABLE:
                fill.append(pl.col(col).cast(schema.FINDINGS[col]).fill_null(lit).alias(col))
            else:
                fill.append(lit.alias(col))
        out = out.with_columns(fill).with_columns(
            pl.concat_str(
                [
                    pl.lit(self.id),
                    pl.col("provider"),
                    pl.col("account_id"),
                    pl.col("region"),
                    pl.col("resource_id"),
                ],
                separator="|",
                ignore_nulls=True,
            ).alias("finding_id")
        )
        if self.formula is not None:
            out = out.with_columns(
                _with_first_figure(pl.col("evidence"), "formula", self.formula).alias("evidence")
            )
        return schema.conform_findings(out)


def _with_first_figure(evidence: pl.Expr, key: str, value: str) -> pl.Expr:
    """``evidence`` (JSON object text) with ``key: value`` as its first member."""
    member = f"{json.dumps(key)}:{json.dumps(value, ensure_ascii=False)}"
    rest = evidence.str.strip_chars_start().str.strip_prefix("{").str.strip_chars_start()
    return (
        pl.when(evidence.is_null())
        .then(pl.lit("{" + member + "}"))
        .when(rest.str.starts_with("}"))
        .then(pl.lit("{" + member) + rest)
        .otherwise(pl.lit("{" + member + ",") + rest)
    )


_REGISTRY: dict[str, Policy] = {}


def policy(
    *,
    id: str,
    family: Family | str,
    action: Action | str,
    title: str,
    needs: tuple[str, ...],
    effort_hours: float,
    risk: Risk | str,
    performance: Performance | str,
    change: Change | str,
    category: Category | str | None = None,
    formula: str | None = None,
) -> Callable[[PolicyFunc], PolicyFunc]:
    """Register a policy. Metadata is checked here, at import, so a typo fails every test.

    ``category`` defaults by action: a bottleneck is an investment, an investigation a
    review, anything else savings (a policy may set it per row).
    """
    checked_family = _member(Family, family, id, "family")
    checked_action = _member(Action, action, id, "action")
    checked_risk = _member(Risk, risk, id, "risk")
    checked_performance = _member(Performance, performance, id, "performance")
    checked_change = _member(Change, change, id, "change")
    default_category = {
        Action.BOTTLENECK: Category.INVESTMENT,
        Action.INVESTIGATE: Category.REVIEW,
    }.get(checked_action, Category.SAVINGS)
    checked_category = (
        default_category if category is None else _member(Category, category, id, "category")
    )
    unknown = [n for n in needs if n not in schema.FRAMES]
    if unknown:
        raise SchemaError(f"policy {id}: needs unknown frames {unknown}")

    def register(func: PolicyFunc) -> PolicyFunc:
        if id in _REGISTRY and _REGISTRY[id].func.__qualname__ != func.__qualname__:
            raise SchemaError(f"policy id {id!r} registered twice")
        _REGISTRY[id] = Policy(
            id=id,
            family=checked_family,
            action=checked_action,
            title=title,
            needs=tuple(needs),
            effort_hours=effort_hours,
            risk=checked_risk,
            performance=checked_performance,
            params=_params_of(func, id),
            func=func,
            change=checked_change,
            category=checked_category,
            formula=formula,
        )
        return func

    return register


def _params_of(func: PolicyFunc, policy_id: str) -> type:
    """The policy's parameters: its second argument's annotation, a frozen dataclass."""
    arguments = list(inspect.signature(func).parameters)
    if len(arguments) != 2:
        raise SchemaError(f"policy {policy_id}: takes (inventory, params), got {arguments}")
    params = typing.get_type_hints(func).get(arguments[1])
    if (
        not isinstance(params, type)
        or not dataclasses.is_dataclass(params)
        or not params.__dataclass_params__.frozen  # type: ignore[attr-defined]
    ):
        raise SchemaError(
            f"policy {policy_id}: its parameters must be annotated with a frozen dataclass"
        )
    return params


E = TypeVar("E", bound=StrEnum)


def _member(vocabulary: type[E], value: str, policy_id: str, what: str) -> E:
    try:
        return vocabulary(value)
    except ValueError:
        known = ", ".join(m.value for m in vocabulary)
        raise SchemaError(f"policy {policy_id}: {what} {value!r} is not one of {known}") from None


def registered() -> dict[str, Policy]:
    """Every policy registered so far, by id. The composition root imports the policy
    modules first (``costscan.scanner.app.catalog``); this module never imports them."""
    return dict(sorted(_REGISTRY.items()))


def _default_of(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def build_params(cls: type[P], raw: Mapping[str, Any], *, where: str) -> P:
    """Build a frozen params dataclass from a config table, naming any unknown key and any
    value that is not a finite number in its parameter's range (``parameter_range``)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        known = ", ".join(sorted(fields)) or "none"
        raise ConfigError(f"[{where}]: unknown parameter(s) {', '.join(unknown)} (known: {known})")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for name, value in raw.items():
        values[name] = _coerce(
            value, hints.get(name, Any), where=f"{where}.{name}", bounds=parameter_range(name)
        )
    return cls(**values)


# Parameter ranges by naming convention, so no policy repeats them. The first rule whose
# test matches the name applies; every number is finite and at least 0 whatever its name
# (no threshold, price, age or count in costscan is negative).
_FRACTION_WORDS = (
    "confidence",
    "share",
    "fraction",
    "discount",
    "percentile",
    "coverage",
    "utilization",
    "reduction",
    "compression_factor",
    "price_factor",
)
PARAMETER_RANGES: tuple[tuple[str, Callable[[str], bool], tuple[float, float]], ...] = (
    ("a percentage", lambda name: name.endswith("_percent"), (0.0, 100.0)),
    ("a fraction", lambda name: any(w in name for w in _FRACTION_WORDS), (0.0, 1.0)),
    ("a figure", lambda name: True, (0.0, math.inf)),
)


def parameter_range(name: str) -> tuple[str, float, float]:
    """(what the parameter is, lowest, highest) for a parameter called ``name``."""
    for what, test, (low, high) in PARAMETER_RANGES:
        if test(name):
            return what, low, high
    raise AssertionError("the last rule matches every name")  # pragma: no cover


def _number_in_range(value: float, where: str, bounds: tuple[str, float, float]) -> None:
    what, low, high = bounds
    upper = "" if math.isinf(high) else f" and at most {high:g}"
    # nan or inf would pass any comparison the policies make and silently change findings.
    if not math.isfinite(value) or not low <= value <= high:
        raise ConfigError(
            f"{where}: {what}: expected a finite number at least {low:g}{upper}, got {value!r}"
        )


def _coerce(
    value: Any, hint: Any, *, where: str, bounds: tuple[str, float, float] | None = None
) -> Any:
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        if bounds is not None:
            _number_in_range(float(value), where, bounds)
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        if bounds is not None:
            _number_in_range(float(value), where, bounds)
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        args = typing.get_args(hint)
        item = args[0] if args else Any
        return tuple(_coerce(v, item, where=where, bounds=bounds) for v in value)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        if len(members) == 1:
            return _coerce(value, members[0], where=where, bounds=bounds)
        return value
    return value
