"""``--billing athena://...``, ``bigquery://...`` or ``duckdb://...``: the engine that holds
the billing export, picked by the URI's scheme (contracts/billing_query.py).

Each engine is a module exporting ``open_engine(uri: str) -> QueryEngine``, imported only
when its scheme is used, so a missing SDK is one line saying which extra brings it, and
``costscan --help`` never loads one.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Final, NamedTuple, cast

from costscan.scanner.contracts.billing_query import PUSHDOWN_SCHEMES, QueryEngine
from costscan.scanner.contracts.errors import InputFileError, UsageError


class EngineModule(NamedTuple):
    module: str  # the module exporting open_engine
    sdk: str  # the SDK's name, for the message when it is missing
    sdk_module: str  # what must be importable
    extra: str  # the pip extra that installs it


ENGINES: Final[dict[str, EngineModule]] = {
    "athena": EngineModule("costscan.providers.exports.athena", "AWS SDK (boto3)", "boto3", ""),
    "bigquery": EngineModule(
        "costscan.providers.exports.bigquery",
        "Google Cloud BigQuery client",
        "google.cloud.bigquery",
        "gcp",
    ),
    "duckdb": EngineModule(
        "costscan.providers.exports.duckdb_engine", "DuckDB", "duckdb", "duckdb"
    ),
}

EXAMPLES: Final = (
    "athena://DATABASE.TABLE?workgroup=WG&output=s3://BUCKET/PREFIX, "
    "bigquery://PROJECT.DATASET.TABLE or duckdb:///PATH/TO/*.parquet"
)


def scheme_of(value: str) -> str | None:
    """The push-down scheme ``value`` names (``athena`` for ``athena://...``), or None for a
    path. Any other ``scheme://`` is refused here: the files reader would call it a missing
    file."""
    scheme, sep, _rest = value.partition("://")
    if not sep or "/" in scheme or not scheme:
        return None
    if scheme.lower() not in PUSHDOWN_SCHEMES:
        raise InputFileError(
            f"--billing {value}: {scheme}:// is not a billing source costscan queries; give a "
            f"file, folder or glob, or {EXAMPLES}"
        )
    return scheme.lower()


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def open_engine(uri: str) -> QueryEngine:
    """The engine for ``uri`` (a push-down URI); one clear line when it cannot be had."""
    scheme = scheme_of(uri)
    if scheme is None:
        raise InputFileError(f"--billing {uri}: not a push-down URI ({EXAMPLES})")
    engine = ENGINES[scheme]
    if not _installed(engine.sdk_module):
        extra = f"pip install 'costscan[{engine.extra}]'" if engine.extra else "pip install boto3"
        raise UsageError(
            f"--billing {scheme}:// needs the {engine.sdk}: {extra} ({engine.sdk_module} is "
            "missing)"
        )
    if not _installed(engine.module):
        raise UsageError(f"--billing {scheme}:// is not available in this build of costscan")
    module = importlib.import_module(engine.module)
    return cast(QueryEngine, module.open_engine(uri))
