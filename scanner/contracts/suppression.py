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

from costscan.scanner.contracts.errors import ConfigError

KEYS = ("policy", "resource", "tag", "reason", "owner", "expires")
REQUIRED = ("policy", "reason", "owner", "expires")


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
    for key in ("policy", "resource"):
        if key in text:
            check_glob(text[key], f"{where}: {key}")
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


def check_glob(pattern: str, where: str) -> None:
    """ConfigError naming ``where`` unless ``pattern`` compiles both as Python's fnmatch
    reads it (policy ids are matched in Python) and as the polars regex the findings are
    matched with (``[z-a]`` is a reversed range to both)."""
    import re

    try:
        re.compile(fnmatch.translate(pattern))
        pl.Series("probe", [""], dtype=pl.String).str.contains(glob_to_regex(pattern))
    except (re.error, pl.exceptions.PolarsError) as exc:
        lines = [line.strip() for line in str(exc).splitlines()]
        reason = next(
            (line.removeprefix("error: ") for line in lines if line.startswith("error:")),
            lines[0] if lines and lines[0] else type(exc).__name__,
        )
        raise ConfigError(f"{where}: {pattern!r} is not a valid glob ({reason})") from None


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
