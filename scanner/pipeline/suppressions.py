"""Applying ``[[suppress]]`` entries (``costscan.scanner.contracts.suppression``) to a run's
findings: what they hide goes to its own section, and an expired entry warns.

Matching is vectorised: each entry (there are few) becomes one polars expression over the
whole findings frame (there may be many), with its globs compiled once as regexes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.suppression import Suppression, glob_to_regex

SUPPRESS_COLUMNS = ("suppress_rule", "suppress_reason", "suppress_owner", "suppress_expires")


@dataclass(frozen=True)
class SuppressionResult:
    kept: pl.DataFrame  # schema.FINDINGS: what ranking should see
    suppressed: pl.DataFrame  # schema.FINDINGS + the four suppress_* columns of SUPPRESSED
    warnings: list[str]


def _matches(rule: Suppression, tags: pl.DataFrame) -> pl.Expr:
    """Whether each finding falls under ``rule``, as one expression (nulls never match)."""
    condition = pl.col("policy_id").str.contains(glob_to_regex(rule.policy)).fill_null(False)
    if rule.resource is not None and rule.resource != "*":
        resource = glob_to_regex(rule.resource)
        by_id = pl.col("resource_id").str.contains(resource).fill_null(False)
        by_name = pl.col("resource_name").str.contains(resource).fill_null(False)
        condition = condition & (by_id | by_name)
    if rule.tag is not None:
        carries = pl.col("key") == rule.tag_key
        if rule.tag_value is not None:
            carries = carries & (pl.col("value") == rule.tag_value)
        tagged = tags.lazy().filter(carries).select("resource_id").unique().collect()
        condition = condition & pl.col("resource_id").is_in(
            tagged["resource_id"].implode()
        ).fill_null(False)
    return condition


def apply_suppressions(
    findings: pl.DataFrame,
    tags: pl.DataFrame,
    rules: Sequence[Suppression],
    today: date,
) -> SuppressionResult:
    """Split ``findings`` (schema.FINDINGS) into what counts and what active entries hide.

    ``tags`` is the inventory's long tags frame (resource_id, key, value). The first active
    entry in file order that matches a finding is the one recorded against it.
    """
    findings = schema.conform_findings(findings.lazy()).collect()
    if not rules:
        return SuppressionResult(findings, _with_rule_columns(findings.clear()), [])
    tags = schema.conform("tags", tags)
    hits = findings.select(
        [_matches(rule, tags).alias(f"_rule_{index}") for index, rule in enumerate(rules)]
    )
    active = [index for index, rule in enumerate(rules) if rule.active_on(today)]
    # Index of the first active entry that matches each finding, null when none does.
    candidates: list[pl.Expr] = [
        pl.when(pl.col(f"_rule_{index}")).then(pl.lit(index, dtype=pl.Int64)) for index in active
    ]
    first_active = pl.coalesce([*candidates, pl.lit(None, dtype=pl.Int64)])
    # with_columns, not select: a lone literal (no active entry) is broadcast to every row.
    chosen = hits.with_columns(first_active.alias("_rule"))["_rule"]

    expired = [index for index in range(len(rules)) if index not in active]
    still_counted = chosen.is_null()
    warnings = []
    if expired:
        # An expired entry is worth a warning only where it would still hide something.
        came_back = hits.select(
            [(pl.col(f"_rule_{i}") & still_counted).any().alias(str(i)) for i in expired]
        ).row(0)
        for index, matched in zip(expired, came_back, strict=True):
            if matched:
                rule = rules[index]
                warnings.append(
                    f"suppression for {rule.describe()} (owner {rule.owner}) expired "
                    f"{rule.expires.isoformat()}: its findings are back in the totals"
                )

    rule_table = pl.DataFrame(
        {
            "_rule": list(range(len(rules))),
            "suppress_rule": [r.describe() for r in rules],
            "suppress_reason": [r.reason for r in rules],
            "suppress_owner": [r.owner for r in rules],
            "suppress_expires": [r.expires for r in rules],
        },
        schema={"_rule": pl.Int64, **{c: schema.SUPPRESSED[c] for c in SUPPRESS_COLUMNS}},
    )
    marked = findings.with_columns(chosen.alias("_rule"))
    kept = marked.filter(pl.col("_rule").is_null()).drop("_rule")
    suppressed = (
        marked.filter(pl.col("_rule").is_not_null())
        .join(rule_table, on="_rule", how="left", maintain_order="left")
        .drop("_rule")
    )
    return SuppressionResult(kept, suppressed, warnings)


def _with_rule_columns(findings: pl.DataFrame) -> pl.DataFrame:
    return findings.with_columns(
        [pl.lit(None, dtype=schema.SUPPRESSED[c]).alias(c) for c in SUPPRESS_COLUMNS]
    )


def as_suppressed(ranked: pl.DataFrame, suppressed: pl.DataFrame) -> pl.DataFrame:
    """``ranked`` (schema.RANKED, from ranking ``SuppressionResult.suppressed`` on its own)
    with the suppress_* columns joined back by finding_id: a ``schema.SUPPRESSED`` frame
    for ``Report.suppressed``."""
    rules = suppressed.select("finding_id", *SUPPRESS_COLUMNS).unique("finding_id", keep="first")
    joined = ranked.join(rules, on="finding_id", how="left", maintain_order="left")
    return joined.select([pl.col(c).cast(t) for c, t in schema.SUPPRESSED.items()])
