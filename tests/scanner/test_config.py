from __future__ import annotations

from pathlib import Path

import pytest

from costscan.scanner.app.catalog import all_policies
from costscan.scanner.contracts import config
from costscan.scanner.contracts.errors import ConfigError


def test_defaults_without_a_file() -> None:
    cfg = config.load(None, all_policies())
    assert cfg.engineer_hourly_rate == config.DEFAULT_ENGINEER_HOURLY_RATE
    assert "environment" in cfg.nonprod_tags
    assert cfg.disabled_policies == frozenset()


def test_reads_rate_tags_and_policy_tables(tmp_path: Path) -> None:
    path = tmp_path / "costscan.toml"
    path.write_text(
        "engineer_hourly_rate = 120\n"
        "[nonprod_tags]\nStage = ['Dev', 'QA']\n"
        '[policies."rightsizing.idle"]\nenabled = false\n',
        encoding="utf-8",
    )
    cfg = config.load(path, all_policies())
    assert cfg.engineer_hourly_rate == 120.0
    assert cfg.nonprod_tags == {"stage": ("dev", "qa")}
    assert cfg.disabled_policies == {"rightsizing.idle"}
    assert cfg.params_for("rightsizing.idle") == {}


def test_unknown_top_level_key_is_named() -> None:
    with pytest.raises(ConfigError, match="engineer_rate"):
        config.parse({"engineer_rate": 1}, all_policies())


def test_not_utf8_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "costscan.toml"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="not UTF-8"):
        config.load(path, all_policies())
