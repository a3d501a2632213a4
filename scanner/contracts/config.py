"""costscan.toml: policy parameters, the engineer rate and the non-production convention.

```toml
engineer_hourly_rate = 100.0
confidence_floor = 0.5  # savings below this confidence are "possible", apart from the total

[nonprod_tags]          # tag key = values that mark non-production (case-insensitive)
environment = ["dev", "test", "staging"]

[policies."rightsizing.idle"]
enabled = true
max_cpu_percent = 1.0

[[suppress]]            # an accepted finding: out of the totals until it expires
policy = "storage.*"
resource = "vol-0abc*"  # or tag = "keep=true"
reason = "restored from backup every quarter"
owner = "alice@example.com"
expires = 2026-12-31
```

Unknown keys are rejected with their names, so a typo never silently does nothing.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from costscan.scanner.contracts.errors import ConfigError
from costscan.scanner.contracts.inventory import DEFAULT_NONPROD_TAGS
from costscan.scanner.contracts.registry import Policy
from costscan.scanner.contracts.suppression import Suppression, parse_suppressions

# A loaded cost for a cloud or platform engineer, in USD per hour. Only used to price the
# effort a finding takes; teams set their own in costscan.toml.
DEFAULT_ENGINEER_HOURLY_RATE = 100.0

# No loaded engineering hour costs this much; a larger figure is a typo (cents, yen).
MAX_ENGINEER_HOURLY_RATE = 10_000.0

# Savings resting on a confidence under this are "possible", totalled apart from the headline.
DEFAULT_CONFIDENCE_FLOOR = 0.5

TOP_LEVEL_KEYS = (
    "engineer_hourly_rate",
    "confidence_floor",
    "nonprod_tags",
    "policies",
    "suppress",
)


@dataclass(frozen=True)
class Config:
    engineer_hourly_rate: float = DEFAULT_ENGINEER_HOURLY_RATE
    confidence_floor: float = DEFAULT_CONFIDENCE_FLOOR
    nonprod_tags: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_NONPROD_TAGS)
    )
    # policy id -> raw parameter table (without ``enabled``), validated on load
    policy_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    disabled_policies: frozenset[str] = frozenset()
    # [[suppress]] entries: accepted findings, with a reason, an owner and an expiry
    suppressions: tuple[Suppression, ...] = ()
    source: str | None = None

    def params_for(self, policy_id: str) -> Mapping[str, Any]:
        return self.policy_params.get(policy_id, {})


def load(path: str | Path | None, known_policies: Mapping[str, Policy]) -> Config:
    """Read and check ``path`` against ``known_policies`` (every policy by id); ``None``
    gives the defaults."""
    if path is None:
        return Config()
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"config file {p}: is a folder; give the path of costscan.toml")
    if not p.exists():
        raise ConfigError(f"config file {p}: not found")
    if not p.is_file():
        raise ConfigError(f"config file {p}: not a regular file")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"config file {p}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {p}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"config file {p}: cannot be read ({exc.strerror})") from None
    return parse(raw, known_policies, source=str(p))


def parse(
    raw: Mapping[str, Any], known_policies: Mapping[str, Policy], *, source: str = "costscan.toml"
) -> Config:
    unknown = sorted(set(raw) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise ConfigError(
            f"{source}: unknown key(s) {', '.join(unknown)} (known: {', '.join(TOP_LEVEL_KEYS)})"
        )
    rate = raw.get("engineer_hourly_rate", DEFAULT_ENGINEER_HOURLY_RATE)
    # nan or inf would pass a ``< 0`` test and turn every payback and ROI into null.
    if (
        isinstance(rate, bool)
        or not isinstance(rate, (int, float))
        or not math.isfinite(rate)
        or not 0 <= rate <= MAX_ENGINEER_HOURLY_RATE
    ):
        raise ConfigError(
            f"{source}: engineer_hourly_rate must be a finite number from 0 to "
            f"{MAX_ENGINEER_HOURLY_RATE:,.0f}, got {rate!r}"
        )

    floor = raw.get("confidence_floor", DEFAULT_CONFIDENCE_FLOOR)
    if (
        isinstance(floor, bool)
        or not isinstance(floor, (int, float))
        or not math.isfinite(floor)
        or not 0 <= floor <= 1
    ):
        raise ConfigError(f"{source}: confidence_floor must be a number from 0 to 1, got {floor!r}")

    nonprod = raw.get("nonprod_tags", DEFAULT_NONPROD_TAGS)
    if not isinstance(nonprod, Mapping):
        raise ConfigError(f"{source}: nonprod_tags must be a table of tag key = [values]")
    nonprod_tags: dict[str, tuple[str, ...]] = {}
    for key, values in nonprod.items():
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
            raise ConfigError(f"{source}: nonprod_tags.{key} must be a list of strings")
        if not str(key).strip():
            raise ConfigError(f"{source}: nonprod_tags: a tag key must not be empty")
        nonprod_tags[str(key).lower()] = tuple(v.lower() for v in values)

    policies = raw.get("policies", {})
    if not isinstance(policies, Mapping):
        raise ConfigError(f'{source}: policies must be tables like [policies."rightsizing.idle"]')
    known = known_policies
    params: dict[str, Mapping[str, Any]] = {}
    disabled: set[str] = set()
    for policy_id, table in policies.items():
        if policy_id not in known:
            raise ConfigError(
                f'{source}: [policies."{policy_id}"]: unknown policy id '
                "(`costscan policies` lists them)"
            )
        if not isinstance(table, Mapping):
            raise ConfigError(f'{source}: [policies."{policy_id}"] must be a table')
        table = dict(table)
        enabled = table.pop("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f'{source}: [policies."{policy_id}"].enabled must be true or false')
        if not enabled:
            disabled.add(policy_id)
        try:
            known[policy_id].build_params(table)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        params[policy_id] = table
    suppressions = parse_suppressions(raw.get("suppress", []), source=source, known_policies=known)
    return Config(
        engineer_hourly_rate=float(rate),
        confidence_floor=float(floor),
        nonprod_tags=nonprod_tags,
        policy_params=params,
        disabled_policies=frozenset(disabled),
        suppressions=suppressions,
        source=source,
    )
