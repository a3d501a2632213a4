"""What a failed collector means for the findings: withheld, marked, or not seen.

A collector's failure (``CollectorError``) says which inventory frames it left incomplete,
for which resource types and, where known, which resources, in one account and region
(``global``: every region). From that and each policy's declared ``needs``:

1. **Withheld.** A policy that reads a lost frame does not fire on the affected resources:
   on part of the data it would report part of the truth (the idle instances of the batch
   that happened to answer) and the report would look whole.
2. **Marked.** A finding of another policy on an affected resource could have been ruled
   out by the lost data (a Graviton move for an instance whose utilization was lost would
   lose to resizing or removing it): it becomes ``possible``, out of the headline, with
   the reason.
3. **Not seen.** The history (scanner/pipeline/history.py) treats a previous finding the
   same rule matches as not seen this run: it is neither resolved nor realized.

A failed policy (``policy:<id>``) is a rule too: its findings are missing everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import polars as pl

from costscan.scanner.contracts.errors import CollectorError
from costscan.scanner.contracts.registry import Policy
from costscan.scanner.contracts.vocab import Category

GLOBAL = "global"
ANY = "*"
POLICY_FAILED = "policy:"
LISTED_RESOURCES = 5


@dataclass(frozen=True)
class GapRule:
    """The findings one failure makes unreliable: of ``policies`` (withheld) or on
    ``resources`` (marked), in ``account`` and ``region`` (None: any)."""

    error: CollectorError
    policies: frozenset[str]
    account: str | None
    region: str | None
    resource_types: frozenset[str] | None
    resources: frozenset[str] | None

    def _where(self) -> pl.Expr:
        where = pl.lit(True)
        if self.account is not None:
            where &= pl.col("account_id") == self.account
        if self.region is not None:
            where &= pl.col("region") == self.region
        if self.resource_types is not None:
            where &= pl.col("resource_type").is_in(sorted(self.resource_types))
        if self.resources is not None:
            where &= pl.col("resource_id").is_in(sorted(self.resources))
        return where.fill_null(False)

    def blinds(self) -> pl.Expr:
        """True for the findings this failure withholds (or makes unseen)."""
        return pl.col("policy_id").is_in(sorted(self.policies)).fill_null(False) & self._where()

    def doubts(self) -> pl.Expr:
        """True for other policies' findings on the resources the failure names."""
        if self.resources is None:
            return pl.lit(False)
        return ~pl.col("policy_id").is_in(sorted(self.policies)).fill_null(False) & self._where()


def rules_for(errors: Iterable[CollectorError], policies: Mapping[str, Policy]) -> list[GapRule]:
    """One rule per failure that loses data a policy reads."""
    rules = []
    for error in errors:
        if error.collector.startswith(POLICY_FAILED):
            failed = error.collector[len(POLICY_FAILED) :]
            rules.append(GapRule(error, frozenset({failed}), None, None, None, None))
            continue
        if not error.frames:
            continue
        lost = set(error.frames)
        readers = frozenset(pid for pid, p in policies.items() if lost & set(p.needs))
        if not readers:
            continue
        rules.append(
            GapRule(
                error,
                readers,
                None if error.account_id in ("", ANY) else error.account_id,
                None if error.region in ("", ANY, GLOBAL) else error.region,
                frozenset(error.resource_types) or None,
                frozenset(error.resources) or None,
            )
        )
    return rules


def blind(rules: Sequence[GapRule]) -> pl.Expr:
    """True for the findings any rule withholds."""
    out = pl.lit(False)
    for rule in rules:
        out |= rule.blinds()
    return out


@dataclass(frozen=True)
class Applied:
    findings: pl.DataFrame
    withheld: int
    marked_ids: frozenset[str]
    errors: list[CollectorError]


def apply(
    findings: pl.DataFrame, rules: Sequence[GapRule], errors: Sequence[CollectorError]
) -> Applied:
    """Withhold and mark ``findings`` (schema.FINDINGS) by ``rules``; ``errors`` come back
    with ``affects`` saying, for each, what it cost the report."""
    if not rules or findings.is_empty():
        return Applied(findings, 0, frozenset(), [_described(e, rules, findings) for e in errors])
    withheld_mask = findings.select(blind(rules).alias("w"))["w"]
    kept = findings.filter(~withheld_mask)
    doubt = pl.lit(False)
    for rule in rules:
        doubt |= rule.doubts()
    marked = kept.filter(doubt)["finding_id"]
    note = (
        " Possible only: data a collector failed to read for this resource could have "
        "ruled this out (see the report's errors)."
    )
    kept = kept.with_columns(
        pl.when(doubt)
        .then(pl.lit(Category.POSSIBLE.value))
        .otherwise(pl.col("category"))
        .alias("category"),
        pl.when(doubt)
        .then(pl.col("detail").fill_null("") + pl.lit(note))
        .otherwise(pl.col("detail"))
        .alias("detail"),
    )
    return Applied(
        kept,
        findings.height - kept.height,
        frozenset(str(i) for i in marked.to_list() if i is not None),
        [_described(e, rules, findings) for e in errors],
    )


def _described(
    error: CollectorError, rules: Sequence[GapRule], findings: pl.DataFrame
) -> CollectorError:
    """``error`` with ``affects``: the resources it concerns and the policies it held back."""
    parts = []
    if error.resources:
        shown = ", ".join(error.resources[:LISTED_RESOURCES])
        more = len(error.resources) - LISTED_RESOURCES
        types = "/".join(error.resource_types) or "resources"
        parts.append(f"{types} {shown}" + (f" and {more} more" if more > 0 else ""))
    elif error.resource_types:
        where = "every region" if error.region in (GLOBAL, ANY) else error.region
        parts.append(f"every {'/'.join(error.resource_types)} in {where}")
    own = [r for r in rules if r.error is error]
    if own:
        policies = sorted(set().union(*(r.policies for r in own)))
        withheld = 0
        if not findings.is_empty():
            withheld = findings.filter(blind(own)).height
        families = sorted({p.split(".", 1)[0] for p in policies})
        parts.append(
            f"withheld: {', '.join(policies)} ({', '.join(families)}); "
            f"{withheld} finding(s) not reported"
        )
    elif error.frames:
        parts.append(f"incomplete: {', '.join(error.frames)}")
    affects = "; ".join(parts)
    return replace(error, affects=affects) if affects else error


# No one change saves or costs this much a month; a figure beyond it, or not finite, comes
# from broken input (a billing cell of 1e308), not from a policy's arithmetic, and would
# poison every total it joined.
MAX_FIGURE = 1e12
FIGURE_COLUMNS = (
    "current_monthly_cost",
    "monthly_savings_before_discounts",
    "monthly_savings",
    "deferred_monthly_savings",
    "added_monthly_cost",
    "upfront_cost",
    "effort_hours",
    "confidence",
)


def implausible(findings: pl.DataFrame) -> tuple[pl.DataFrame, list[CollectorError]]:
    """``findings`` without the rows whose figures are not finite or beyond ``MAX_FIGURE``,
    and one error per policy that produced any (a failed policy: its findings are not
    seen this run)."""
    columns = [c for c in FIGURE_COLUMNS if c in findings.columns]
    if findings.is_empty() or not columns:
        return findings, []
    bad = pl.lit(False)
    for column in columns:
        value = pl.col(column).cast(pl.Float64)
        bad |= (~value.is_finite() | (value.abs() > MAX_FIGURE)).fill_null(False)
    flagged = findings.filter(bad)
    if flagged.is_empty():
        return findings, []
    errors = [
        CollectorError(
            f"{POLICY_FAILED}{row['policy_id']}",
            ANY,
            ANY,
            f"{row['len']} finding(s) withheld: a figure not finite or beyond "
            f"{MAX_FIGURE:,.0f} a month (check the input data)",
        )
        for row in flagged.group_by("policy_id").len().sort("policy_id").iter_rows(named=True)
    ]
    return findings.filter(~bad), errors


def distinct(errors: Iterable[CollectorError]) -> list[CollectorError]:
    """The errors without repeats, in their first order (two threads can fail alike)."""
    seen: set[CollectorError] = set()
    out = []
    for error in errors:
        if error not in seen:
            seen.add(error)
            out.append(error)
    return out
