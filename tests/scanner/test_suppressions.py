"""[[suppress]] entries: parsing with errors that name the entry and key, and matching."""

from __future__ import annotations

import fnmatch
import tomllib
from datetime import date
from typing import Any

import polars as pl
import pytest

from costscan.reports.ranking import rank
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import ConfigError
from costscan.scanner.contracts.suppression import (
    Suppression,
    glob_to_regex,
    parse_suppressions,
)
from costscan.scanner.pipeline.suppressions import apply_suppressions, as_suppressed

TODAY = date(2026, 11, 29)
SOURCE = "costscan.toml"


def finding(
    policy_id: str, resource_id: str | None, savings: float, **values: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "provider": "aws",
        "account_id": "111111111111",
        "region": "us-east-1",
        "resource_id": resource_id,
        "resource_name": resource_id,
        "resource_type": "ebs_volume",
        "finding_id": f"{policy_id}|{resource_id}",
        "policy_id": policy_id,
        "family": policy_id.split(".")[0],
        "action": "configure",
        "title": policy_id,
        "current_monthly_cost": savings * 2,
        "monthly_savings": savings,
        "added_monthly_cost": 0.0,
        "upfront_cost": 0.0,
        "effort_hours": 1.0,
        "risk": "low",
        "performance": "neutral",
        "confidence": 0.9,
        "price_source": "bundled",
        "evidence": "{}",
    }
    row.update(values)
    return row


def findings_frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=dict(schema.FINDINGS))


def tags_frame(*rows: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [dict(zip(("resource_id", "key", "value"), r, strict=True)) for r in rows],
        schema=dict(schema.TAGS),
    )


FINDINGS = findings_frame(
    finding("storage.unattached-volume", "vol-1", 40.0),
    finding("storage.unattached-volume", "vol-2", 25.0),
    finding("storage.old-snapshot", "snap-9", 7.5, resource_name="nightly-backup"),
    finding("rightsizing.idle", "i-1", 120.0),
)
NO_TAGS = tags_frame()


def rule(**values: Any) -> Suppression:
    fields: dict[str, Any] = {
        "policy": "storage.*",
        "reason": "kept for restore tests",
        "owner": "alice",
        "expires": date(2026, 12, 31),
    }
    fields.update(values)
    return Suppression(**fields)


def parse_toml(text: str) -> tuple[Suppression, ...]:
    return parse_suppressions(tomllib.loads(text).get("suppress"), source=SOURCE)


# --- parsing ---------------------------------------------------------------------------


def test_toml_entries_parse_with_native_and_quoted_dates() -> None:
    rules = parse_toml(
        """
[[suppress]]
policy = "storage.*"
resource = "vol-*"
reason = "restore tests"
owner = "alice"
expires = 2026-12-31

[[suppress]]
policy = "rightsizing.idle"
tag = "team=data"
reason = "batch host"
owner = "bob"
expires = "2027-01-15"
"""
    )
    assert rules == (
        Suppression("storage.*", "restore tests", "alice", date(2026, 12, 31), resource="vol-*"),
        Suppression("rightsizing.idle", "batch host", "bob", date(2027, 1, 15), tag="team=data"),
    )
    assert rules[1].tag_key == "team" and rules[1].tag_value == "data"


def test_unknown_key_names_the_entry_and_the_key() -> None:
    text = """
[[suppress]]
policy = "storage.*"
resource = "vol-1"
reason = "r"
owner = "o"
expires = 2026-12-31

[[suppress]]
policy = "storage.*"
resouce = "vol-2"
reason = "r"
owner = "o"
expires = 2026-12-31
"""
    with pytest.raises(ConfigError) as caught:
        parse_toml(text)
    assert str(caught.value).startswith("costscan.toml: [[suppress]] #2: unknown key 'resouce'")


@pytest.mark.parametrize(
    ("expires", "shown"),
    [('"31/12/2026"', "'31/12/2026'"), ("2026-12-31T10:00:00", "datetime"), ("20261231", "2026")],
)
def test_bad_expiry_says_what_a_date_looks_like(expires: str, shown: str) -> None:
    text = f"""
[[suppress]]
policy = "storage.*"
resource = "vol-1"
reason = "r"
owner = "o"
expires = {expires}
"""
    with pytest.raises(ConfigError) as caught:
        parse_toml(text)
    message = str(caught.value)
    assert message.startswith(
        "costscan.toml: [[suppress]] #1: expires must be a date like 2026-12-31, got "
    )
    assert shown in message


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            {"policy": "storage.*", "resource": "vol-1", "owner": "o", "expires": "2026-12-31"},
            "[[suppress]] #1: missing key 'reason'",
        ),
        (
            {"policy": "storage.*", "reason": "r", "owner": "o", "expires": "2026-12-31"},
            "[[suppress]] #1: give resource or tag",
        ),
        (
            {
                "policy": "storage.*",
                "tag": "=x",
                "reason": "r",
                "owner": "o",
                "expires": "2026-12-31",
            },
            '[[suppress]] #1: tag must be "key=value" or "key"',
        ),
        (
            {"policy": "", "resource": "*", "reason": "r", "owner": "o", "expires": "2026-12-31"},
            "[[suppress]] #1: policy must be non-empty text",
        ),
        (
            {
                "policy": "storage.*",
                "resource": 7,
                "reason": "r",
                "owner": "o",
                "expires": "2026-12-31",
            },
            "[[suppress]] #1: resource must be non-empty text, got 7",
        ),
        ("storage.*", "[[suppress]] #1: must be a table"),
    ],
)
def test_each_bad_entry_is_named_with_its_problem(entry: object, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_suppressions([entry], source=SOURCE)
    assert f"costscan.toml: {expected}" in str(caught.value)


def test_not_an_array_of_tables_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"costscan.toml: suppress must be \[\[suppress\]\]"):
        parse_suppressions({"policy": "storage.*"}, source=SOURCE)
    assert parse_suppressions(None, source=SOURCE) == ()


def test_policy_glob_matching_no_known_policy_is_a_typo() -> None:
    entry = {"policy": "storge.*", "resource": "*", "reason": "r", "owner": "o"}
    entry["expires"] = "2026-12-31"
    known = ["storage.unattached-volume", "rightsizing.idle"]
    with pytest.raises(ConfigError, match=r"#1: policy 'storge.\*' matches no policy id"):
        parse_suppressions([entry], source=SOURCE, known_policies=known)
    entry["policy"] = "storage.*"
    assert parse_suppressions([entry], source=SOURCE, known_policies=known)[0].resource == "*"


# --- glob translation ------------------------------------------------------------------

PATTERNS = ["*", "storage.*", "vol-?", "[abc]x", "[!a]x", "[]]x", "[a-c]*", "[-a]", "x[", "a+b(c)",
            "[^a]", "a\\b", "[a&&b]", "snap-[0-9]*", "a b#", "[\\]"]  # fmt: skip
SUBJECTS = ["storage.snap", "vol-1", "vol-12", "ax", "bx", "dx", "]x", "-", "a", "x[", "a.b",
            "a+b(c)", "^", "a\\b", "&", "\\", "snap-9abc", "a b#", "", "x\ny"]  # fmt: skip


@pytest.mark.parametrize("pattern", PATTERNS)
def test_glob_regex_matches_exactly_what_fnmatch_matches(pattern: str) -> None:
    got = pl.Series(SUBJECTS).str.contains(glob_to_regex(pattern)).to_list()
    assert got == [fnmatch.fnmatchcase(s, pattern) for s in SUBJECTS]


# --- matching --------------------------------------------------------------------------


def ids(frame: pl.DataFrame) -> list[str]:
    return sorted(frame["finding_id"].to_list())


def test_policy_and_resource_globs_suppress_only_their_findings() -> None:
    result = apply_suppressions(FINDINGS, NO_TAGS, [rule(resource="vol-1")], TODAY)
    assert ids(result.suppressed) == ["storage.unattached-volume|vol-1"]
    assert ids(result.kept) == [
        "rightsizing.idle|i-1",
        "storage.old-snapshot|snap-9",
        "storage.unattached-volume|vol-2",
    ]
    assert result.kept.schema == pl.Schema(schema.FINDINGS)
    row = result.suppressed.row(0, named=True)
    assert (row["suppress_rule"], row["suppress_reason"], row["suppress_owner"]) == (
        "storage.* on vol-1",
        "kept for restore tests",
        "alice",
    )
    assert row["suppress_expires"] == date(2026, 12, 31)
    assert result.warnings == []


def test_resource_glob_also_matches_the_resource_name() -> None:
    result = apply_suppressions(FINDINGS, NO_TAGS, [rule(resource="nightly-*")], TODAY)
    assert ids(result.suppressed) == ["storage.old-snapshot|snap-9"]


def test_star_resource_suppresses_the_policy_everywhere_and_nothing_else() -> None:
    result = apply_suppressions(
        FINDINGS, NO_TAGS, [rule(policy="storage.unattached-*", resource="*")], TODAY
    )
    assert ids(result.suppressed) == [
        "storage.unattached-volume|vol-1",
        "storage.unattached-volume|vol-2",
    ]
    assert result.kept.height == 2


def test_tag_with_value_or_key_alone_selects_tagged_resources() -> None:
    tags = tags_frame(
        ("vol-2", "team", "data"),
        ("snap-9", "team", "web"),
        ("i-1", "team", "data"),  # tagged, but the policy glob does not cover it
        ("vol-1", "keep", ""),
    )
    by_value = apply_suppressions(FINDINGS, tags, [rule(tag="team=data")], TODAY)
    assert ids(by_value.suppressed) == ["storage.unattached-volume|vol-2"]
    by_key = apply_suppressions(FINDINGS, tags, [rule(tag="team")], TODAY)
    assert ids(by_key.suppressed) == [
        "storage.old-snapshot|snap-9",
        "storage.unattached-volume|vol-2",
    ]
    both = apply_suppressions(FINDINGS, tags, [rule(resource="vol-*", tag="keep")], TODAY)
    assert ids(both.suppressed) == ["storage.unattached-volume|vol-1"]
    assert both.suppressed["suppress_rule"].to_list() == ["storage.* on vol-* with tag keep"]


def test_first_active_entry_in_file_order_is_recorded() -> None:
    rules = [
        rule(resource="vol-1", owner="expired-owner", expires=date(2026, 1, 1)),
        rule(resource="vol-*", owner="bob"),
        rule(resource="*", owner="carol"),
    ]
    result = apply_suppressions(FINDINGS, NO_TAGS, rules, TODAY)
    owners = dict(
        zip(result.suppressed["finding_id"], result.suppressed["suppress_owner"], strict=True)
    )
    assert owners == {
        "storage.unattached-volume|vol-1": "bob",
        "storage.unattached-volume|vol-2": "bob",
        "storage.old-snapshot|snap-9": "carol",
    }
    # The expired entry's finding is still hidden by an active one: no warning for it.
    assert result.warnings == []


def test_expired_entry_does_not_suppress_and_warns_once() -> None:
    expired = rule(resource="vol-*", expires=date(2026, 10, 1))
    result = apply_suppressions(FINDINGS, NO_TAGS, [expired], TODAY)
    assert result.suppressed.height == 0
    assert result.kept.height == FINDINGS.height
    assert result.warnings == [
        "suppression for storage.* on vol-* (owner alice) expired 2026-10-01: "
        "its findings are back in the totals"
    ]


def test_entry_suppresses_through_its_expiry_day() -> None:
    last_day = rule(resource="vol-1", expires=TODAY)
    assert apply_suppressions(FINDINGS, NO_TAGS, [last_day], TODAY).suppressed.height == 1


def test_expired_entry_matching_nothing_stays_quiet() -> None:
    expired = rule(resource="vol-404", expires=date(2026, 10, 1))
    assert apply_suppressions(FINDINGS, NO_TAGS, [expired], TODAY).warnings == []


def test_suppressed_findings_leave_the_totals_and_rank_on_their_own() -> None:
    result = apply_suppressions(FINDINGS, NO_TAGS, [rule(resource="vol-1")], TODAY)
    everything = rank(FINDINGS, hourly_rate=100.0).summary["monthly_savings"]
    kept = rank(result.kept, hourly_rate=100.0)
    assert kept.summary["monthly_savings"] == round(everything - 40.0, 2)
    shown = as_suppressed(rank(result.suppressed, hourly_rate=100.0).findings, result.suppressed)
    assert shown.schema == pl.Schema(schema.SUPPRESSED)
    row = shown.row(0, named=True)
    assert row["finding_id"] == "storage.unattached-volume|vol-1"
    assert row["net_monthly_savings"] == 40.0
    assert row["suppress_owner"] == "alice"


def test_no_rules_keep_everything_with_typed_empty_suppressed() -> None:
    result = apply_suppressions(FINDINGS, NO_TAGS, [], TODAY)
    assert result.kept.height == FINDINGS.height
    assert result.suppressed.height == 0
    assert set(result.suppressed.columns) == set(schema.FINDINGS) | {
        "suppress_rule",
        "suppress_reason",
        "suppress_owner",
        "suppress_expires",
    }


def test_findings_without_resource_never_match_a_resource_glob() -> None:
    frame = findings_frame(finding("storage.bucket", None, 5.0, resource_name=None))
    assert apply_suppressions(frame, NO_TAGS, [rule(resource="*x*")], TODAY).kept.height == 1
    assert apply_suppressions(frame, NO_TAGS, [rule(tag="team")], TODAY).kept.height == 1
