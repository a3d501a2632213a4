"""The inventory: what a provider hands to the policies.

A set of named polars frames (schemas in ``scanner.schema``), the run's context (the clock,
lookback and the organisation's conventions), and what could not be collected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import CollectorError, SchemaError

if TYPE_CHECKING:
    from costscan.scanner.contracts.billing import BillingRollup

# Tag values that commonly mark non-production environments. Used only when the user's
# config says nothing; a team's own convention in costscan.toml replaces this.
DEFAULT_NONPROD_TAGS: Mapping[str, tuple[str, ...]] = {
    "environment": ("dev", "development", "test", "testing", "qa", "staging", "stage", "sandbox"),
    "env": ("dev", "development", "test", "testing", "qa", "staging", "stage", "sandbox"),
}


@dataclass(frozen=True)
class RunContext:
    """What every policy may know about the run, passed in rather than read from the world."""

    now: datetime
    lookback_days: int = 14
    currency: str = "USD"
    # tag key (case-insensitive) -> values (case-insensitive) that mark non-production
    nonprod_tags: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_NONPROD_TAGS)
    )

    @staticmethod
    def at(now: datetime | None = None, **kwargs: object) -> RunContext:
        moment = now or datetime.now(UTC)
        return RunContext(now=moment, **kwargs)  # type: ignore[arg-type]


@dataclass
class Inventory:
    """Named frames with fixed schemas, plus collector errors and rejected-row counts."""

    provider: str
    context: RunContext
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    # Sources too large to hold in memory (billing exports): lazy scans, already conformed
    # to their schema by the provider, that policies read with ``lazy(name)``.
    scans: dict[str, pl.LazyFrame] = field(default_factory=dict)
    errors: list[CollectorError] = field(default_factory=list)
    rejections: list[schema.Rejection] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    # The billing export files the ``billing`` frame was read from, to name in errors.
    billing_files: list[str] = field(default_factory=list)
    # The billing rollup the pipeline builds before policies run (pipeline/billing_rollup.py),
    # dropped whenever the billing data changes.
    _billing_rollup: BillingRollup | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def billing_rollup(self) -> BillingRollup:
        """The ``billing`` line items reduced once, for every reader of billing data in
        the run. The pipeline builds it before any policy runs
        (``costscan.scanner.pipeline.billing_rollup.prepare``)."""
        if self._billing_rollup is None and not self.has("billing"):
            from costscan.scanner.contracts.billing import BillingRollup

            return BillingRollup.empty()
        if self._billing_rollup is None:
            raise SchemaError(
                "the billing rollup has not been built: the pipeline prepares it "
                "(costscan.scanner.pipeline.billing_rollup.prepare) before policies read it"
            )
        return self._billing_rollup

    def has_billing_rollup(self) -> bool:
        return self._billing_rollup is not None

    def use_billing_rollup(self, rollup: BillingRollup) -> None:
        """Hold ``rollup``, built already from the ``billing`` scan this inventory holds."""
        self._billing_rollup = rollup

    def add(self, name: str, df: pl.DataFrame) -> None:
        """Validate ``df`` against frame ``name`` and append it to what is held."""
        checked = schema.validate(name, df)
        if name == "billing":
            self._billing_rollup = None
        self.rejections.extend(checked.rejections)
        if name in self.frames and self.frames[name].height:
            self.frames[name] = pl.concat([self.frames[name], checked.frame], how="vertical")
        else:
            self.frames[name] = checked.frame

    def add_scan(self, name: str, scan: pl.LazyFrame) -> None:
        """Hold a lazy scan for frame ``name``; the provider has conformed it to the schema."""
        if name not in schema.FRAMES:
            raise SchemaError(f"unknown frame {name!r}")
        if name == "billing":
            self._billing_rollup = None
        self.scans[name] = scan

    def frame(self, name: str) -> pl.DataFrame:
        """Frame ``name``; an empty frame with the right schema when nothing was collected."""
        if name not in schema.FRAMES:
            raise SchemaError(f"unknown frame {name!r}")
        if name in self.scans:
            return self.scans[name].collect()
        got = self.frames.get(name)
        return got if got is not None else schema.empty(schema.FRAMES[name])

    def lazy(self, name: str) -> pl.LazyFrame:
        """Frame ``name`` as a LazyFrame: the lazy scan when the provider gave one."""
        if name in self.scans:
            return self.scans[name]
        return self.frame(name).lazy()

    def has(self, name: str) -> bool:
        if name in self.scans:
            return True
        return name in self.frames and self.frames[name].height > 0

    def merge(self, others: Iterable[Inventory]) -> None:
        """Fold other inventories (one per region or account) into this one."""
        self._billing_rollup = None
        for other in others:
            for name, df in other.frames.items():
                if name in self.frames and self.frames[name].height:
                    self.frames[name] = pl.concat([self.frames[name], df], how="vertical")
                else:
                    self.frames[name] = df
            self.errors.extend(other.errors)
            self.rejections.extend(other.rejections)
            for acct in other.accounts:
                if acct not in self.accounts:
                    self.accounts.append(acct)
            for region in other.regions:
                if region not in self.regions:
                    self.regions.append(region)


class InventoryView:
    """What one policy sees of the inventory: the frames it declares in ``needs``, the
    run's context and, when it declares ``billing``, the billing rollup.

    Reading anything else raises ``SchemaError`` naming the policy and the frame, so a
    policy's declaration is what it reads, and ``needs`` can be trusted by the tools that
    use it (the billing benchmark runs every policy that needs ``billing``).
    """

    def __init__(self, inventory: Inventory, needs: Iterable[str], policy_id: str) -> None:
        self._inventory = inventory
        self._needs = frozenset(needs)
        self._policy_id = policy_id

    @property
    def provider(self) -> str:
        return self._inventory.provider

    @property
    def context(self) -> RunContext:
        return self._inventory.context

    def _check(self, name: str) -> None:
        if name not in self._needs:
            raise SchemaError(
                f"policy {self._policy_id} reads frame {name!r} without declaring it in needs"
            )

    def frame(self, name: str) -> pl.DataFrame:
        self._check(name)
        return self._inventory.frame(name)

    def lazy(self, name: str) -> pl.LazyFrame:
        self._check(name)
        return self._inventory.lazy(name)

    def has(self, name: str) -> bool:
        self._check(name)
        return self._inventory.has(name)

    def billing_rollup(self) -> BillingRollup:
        self._check("billing")
        return self._inventory.billing_rollup()
