"""``[[suppress]]`` entries in costscan.toml: findings a team has decided to live with, for now.

```toml
[[suppress]]
policy = "storage.*"            # glob on policy_id (fnmatch, case-sensitive)
resource = "vol-0abc*"          # glob on resource_id or resource_name; "*" for every one
tag = "team=data"               # or "team": the resource carries this tag (exact match)
reason = "restore tests read these snapshots every quarter"
owner = "alice@example.com"
expires = 2026-12-31            # suppresses through this day, then the findings come back
```

An entry needs ``resource`` or ``tag`` (both given: both must match), so a bare policy glob
cannot hide a whole family by accident; ``resource = "*"`` says so on purpose. A suppressed
finding leaves the totals and is shown in its own section with the entry that hid it. An
expired entry suppresses nothing, and each expired entry that still matches a finding adds
one warning, so the owner knows the exception ran out.

Matching is vectorised: each entry (there are few) becomes one polars expression over the
whole findings frame (there may be many), with its globs compiled once as regexes.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl

from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import ConfigError

KEYS = ("policy", "resource", "tag", "reason", "owner", "expires")
REQUIRED = ("policy", "reason", "owner", "expires")
SUPPRESS_COLUMNS = ("suppress_rule", "suppress_reason", "suppress_owner", "suppress_expires")


@dataclass(frozen=True)
class Suppression:
    policy: str
    reason: str
    owner: str
    expires: date
    resource: str | None = None
    tag: str | None = None

    @property
    def tag_key(self) -> str | None:
        return None if self.tag is None else self.tag.partition("=")[0]

    @property
    def tag_value(self) -> str | None:
        """The value the tag must have; None when any value (``tag = "key"``) matches."""
        if self.tag is None or "=" not in self.tag:
            return None
        return self.tag.partition("=")[2]

    def describe(self) -> str:
        """The entry's globs as written: ``storage.* on vol-1``, ``storage.* on tag team=data``."""
        targets = []
        if self.resource is not None:
            targets.append(self.resource)
        if self.tag is not None:
            targets.append(f"tag {self.tag}")
        return f"{self.policy} on {' with '.join(targets)}"

    def active_on(self, today: date) -> bool:
        """Whether the entry still suppresses: through its expiry day, not after."""
        return today <= self.expires


@dataclass(frozen=True)
class SuppressionResult:
    kept: pl.DataFrame  # schema.FINDINGS: what ranking should see
    suppressed: pl.DataFrame  # schema.FINDINGS + the four suppress_* columns of SUPPRESSED
    warnings: list[str]


def parse_suppressions(
    raw: object, *, source: str, known_policies: Collection[str] | None = None
) -> tuple[Suppression, ...]:
    """Check the ``[[suppress]]`` array of tables; ConfigError names the entry and key.

    With ``known_policies`` (the registry's ids), a policy glob that matches none of them
    is rejected too: a typo must not silently suppress nothing.
    """
    if raw is None:
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)):
        raise ConfigError(f"{source}: suppress must be [[suppress]] tables, got {raw!r}")
    return tuple(
        _parse_entry(entry, f"{source}: [[suppress]] #{number}", known_policies)
        for number, entry in enumerate(raw, start=1)
    )


def _parse_entry(entry: object, where: str, known_policies: Collection[str] | None) -> Suppression:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: must be a table of {', '.join(KEYS)}")
    for key in entry:
        if key not in KEYS:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(KEYS)})")
    for key in REQUIRED:
        if key not in entry:
            raise ConfigError(f"{where}: missing key {key!r}")
    text = {key: _text(entry, key, where) for key in KEYS if key != "expires" and key in entry}
    policy = text["policy"]
    if known_policies is not None and not any(
        fnmatch.fnmatchcase(pid, policy) for pid in known_policies
    ):
        raise ConfigError(
            f"{where}: policy {policy!r} matches no policy id (`costscan policies` lists them)"
        )
    resource = text.get("resource")
    tag = text.get("tag")
    if resource is None and tag is None:
        raise ConfigError(
            f'{where}: give resource or tag (resource = "*" to suppress {policy!r} everywhere)'
        )
    if tag is not None and not tag.partition("=")[0].strip():
        raise ConfigError(f'{where}: tag must be "key=value" or "key", got {tag!r}')
    return Suppression(
        policy=policy,
        reason=text["reason"],
        owner=text["owner"],
        expires=_expiry(entry["expires"], where),
        resource=resource,
        tag=tag,
    )


def _text(entry: Mapping[str, object], key: str, where: str) -> str:
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key} must be non-empty text, got {value!r}")
    return value.strip()


def _expiry(value: object, where: str) -> date:
    # TOML reads `expires = 2026-12-31` as a date; a quoted "2026-12-31" is accepted too.
    # A datetime (a date subclass) is refused: the entry runs out on a day, not at an hour.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(f"{where}: expires must be a date like 2026-12-31, got {value!r}")


def glob_to_regex(pattern: str) -> str:
    """An anchored regex (Rust syntax, for polars) matching what ``fnmatchcase`` matches."""
    out = ["(?s)^"]
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        i += 1
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            # As fnmatch: a "]" first in the set (after an optional "!") is a member.
            j = i
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out.append(r"\[")  # no closing bracket: a literal "[", as fnmatch does
                continue
            members = pattern[i:j]
            i = j + 1
            negate = members.startswith("!")
            if negate:
                members = members[1:]
            out.append("[^" if negate else "[")
            out.append(_class_members(members))
            out.append("]")
        else:
            out.append(pl.escape_regex(char))
    out.append("$")
    return "".join(out)


def _class_members(members: str) -> str:
    # Keep "a-z" ranges; escape what Rust's class syntax would read as more than a member
    # (nested "[", set operators "&&", "--", "~~", a leading "^", backslashes).
    escaped = []
    for position, char in enumerate(members):
        is_range_dash = char == "-" and 0 < position < len(members) - 1
        if char in "\\[]&~^" or (char == "-" and not is_range_dash):
            escaped.append("\\" + char)
        else:
            escaped.append(char)
    return "".join(escaped)


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
