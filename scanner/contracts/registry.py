"""The policy registry: each policy declares its metadata once, on the decorator.

```python
@dataclass(frozen=True)
class IdleParams:
    max_cpu_percent: float = 1.0

@policy(id="rightsizing.idle", family="rightsizing", action="remove", needs=("compute",),
        effort_hours=1, risk="medium", performance="neutral", title="Idle instance",
        params=IdleParams)
def idle(inv: Inventory, p: IdleParams) -> pl.LazyFrame: ...
```

The policy returns ``schema.POLICY_OUTPUT_COLUMNS`` (plus optional per-row overrides of
``title``, ``effort_hours``, ``upfront_cost``, ``added_monthly_cost``, ``risk`` and
``performance``); the registry fills the rest from the metadata, so no default is
repeated anywhere else.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import ConfigError, SchemaError
from costscan.scanner.contracts.inventory import Inventory

P = TypeVar("P")
PolicyFunc = Callable[[Inventory, Any], pl.LazyFrame]

# Columns a policy may set per row; the decorator's value is used where it does not.
OVERRIDABLE = ("title", "effort_hours", "upfront_cost", "added_monthly_cost", "risk", "performance")


@dataclass(frozen=True)
class NoParams:
    """A policy with nothing to tune."""


@dataclass(frozen=True)
class Policy:
    id: str
    family: str
    action: str
    title: str
    needs: tuple[str, ...]
    effort_hours: float
    risk: str
    performance: str
    params: type
    func: PolicyFunc

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

    def run(self, inv: Inventory, params: Any) -> pl.LazyFrame:
        """Run the policy and complete its output to the findings schema."""
        out = self.func(inv, params)
        if not isinstance(out, pl.LazyFrame):  # pragma: no cover - programming error
            raise SchemaError(f"policy {self.id} returned {type(out).__name__}, not a LazyFrame")
        names = out.collect_schema().names()
        missing = [c for c in schema.POLICY_OUTPUT_COLUMNS if c not in names]
        if missing:
            raise SchemaError(f"policy {self.id} did not produce {', '.join(missing)}")
        meta: dict[str, Any] = {
            "policy_id": self.id,
            "family": self.family,
            "action": self.action,
            "title": self.title,
            "effort_hours": float(self.effort_hours),
            "risk": self.risk,
            "performance": self.performance,
            "upfront_cost": 0.0,
            "added_monthly_cost": 0.0,
        }
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
        return schema.conform_findings(out)


_REGISTRY: dict[str, Policy] = {}


def policy(
    *,
    id: str,
    family: str,
    action: str,
    title: str,
    needs: tuple[str, ...],
    effort_hours: float,
    risk: str,
    performance: str,
    params: type = NoParams,
) -> Callable[[PolicyFunc], PolicyFunc]:
    """Register a policy. Metadata is checked here, at import, so a typo fails every test."""
    if family not in schema.FAMILIES:
        raise SchemaError(f"policy {id}: family {family!r} is not one of {schema.FAMILIES}")
    if action not in schema.ACTIONS:
        raise SchemaError(f"policy {id}: action {action!r} is not one of {schema.ACTIONS}")
    if risk not in schema.RISKS:
        raise SchemaError(f"policy {id}: risk {risk!r} is not one of {schema.RISKS}")
    if performance not in schema.PERFORMANCE:
        raise SchemaError(f"policy {id}: performance {performance!r} not in {schema.PERFORMANCE}")
    unknown = [n for n in needs if n not in schema.FRAMES]
    if unknown:
        raise SchemaError(f"policy {id}: needs unknown frames {unknown}")
    if not dataclasses.is_dataclass(params) or not params.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        raise SchemaError(f"policy {id}: params must be a frozen dataclass")

    def register(func: PolicyFunc) -> PolicyFunc:
        if id in _REGISTRY and _REGISTRY[id].func.__qualname__ != func.__qualname__:
            raise SchemaError(f"policy id {id!r} registered twice")
        _REGISTRY[id] = Policy(
            id=id,
            family=family,
            action=action,
            title=title,
            needs=tuple(needs),
            effort_hours=effort_hours,
            risk=risk,
            performance=performance,
            params=params,
            func=func,
        )
        return func

    return register


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
    """Build a frozen params dataclass from a config table, naming any unknown key."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        known = ", ".join(sorted(fields)) or "none"
        raise ConfigError(f"[{where}]: unknown parameter(s) {', '.join(unknown)} (known: {known})")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for name, value in raw.items():
        values[name] = _coerce(value, hints.get(name, Any), where=f"{where}.{name}")
    return cls(**values)


def _coerce(value: Any, hint: Any, *, where: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
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
        return tuple(_coerce(v, item, where=where) for v in value)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, members[0], where=where) if len(members) == 1 else value
    return value
