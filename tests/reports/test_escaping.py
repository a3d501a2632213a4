"""Hostile text is shown, never interpreted: links GitHub would make, mentions,
cross-references and bidirectional overrides, in every format."""

from __future__ import annotations

import dataclasses
import json
import re

import polars as pl

from costscan.reports.csv import CsvRenderer
from costscan.reports.html import HtmlRenderer
from costscan.reports.interface import Report
from costscan.reports.json import JsonRenderer
from costscan.reports.markdown import MarkdownRenderer
from costscan.reports.text import BIDI_CONTROLS, defuse_links, show_controls
from tests.reports.sample import sample_report

RLO = "\u202e"
LINKY = (
    f"https://evil.example/login owner/repo#1 see #2 and GH-3 at www.evil.example "
    f"mail ops@evil.example cc @admin {RLO}exe.txt"
)
# What GitHub would turn into a link or a notification in a comment.
AUTOLINKS = (
    re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://"),
    re.compile(r"(?i)\bwww\."),
    re.compile(r"#\d"),
    re.compile(r"(?i)\bgh-\d"),
    re.compile(r"@\w"),
)


def linky_report() -> Report:
    report = sample_report()
    target = pl.col("rank") == 1
    findings = report.findings.with_columns(
        *(
            pl.when(target).then(pl.lit(LINKY)).otherwise(pl.col(c)).alias(c)
            for c in ("resource_name", "title", "detail", "recommendation")
        )
    )
    errors = [dataclasses.replace(report.errors[0], message=LINKY)]
    return dataclasses.replace(report, findings=findings, errors=errors, warnings=[LINKY])


def test_markdown_makes_no_link_no_reference_and_no_mention() -> None:
    text = MarkdownRenderer().render(linky_report()).decode()
    for pattern in AUTOLINKS:
        assert not pattern.search(text), pattern.pattern
    # The words are all still there to read.
    assert "evil.example/login" in text and "repo#\u200b1" in text and "@\u200badmin" in text


def test_no_format_passes_a_bidi_override_through() -> None:
    report = linky_report()
    for renderer in (MarkdownRenderer(), CsvRenderer(), HtmlRenderer()):
        text = renderer.render(report).decode()
        assert not BIDI_CONTROLS & set(text), renderer.extension
        assert "⟨U+202E⟩exe.txt" in text, renderer.extension


def test_json_keeps_the_data_and_writes_bidi_as_escapes() -> None:
    data = JsonRenderer().render(linky_report())
    text = data.decode()
    assert RLO not in text and "\\u202e" in text
    document = json.loads(text)
    assert document["findings"][0]["resource_name"] == LINKY  # the data, exactly
    assert document["warnings"] == [LINKY]


def test_helpers_leave_plain_text_alone() -> None:
    plain = "vol-0abc123 in us-east-1: 42 GB, 3 snapshots (gp2 to gp3)"
    assert defuse_links(plain) == plain
    assert show_controls(plain) == plain
    assert show_controls("a\tb\nc\r\n") == "a\tb\nc\r\n"
    assert show_controls("\x1b[31mred") == "⟨U+001B⟩[31mred"
