"""Running one registered policy over a hand-built inventory, as the engine runs it."""

from __future__ import annotations

from typing import Any

import polars as pl

from costscan.scanner.app.catalog import policy_by_id
from costscan.scanner.contracts.inventory import Inventory
from costscan.scanner.pipeline import billing_rollup


def run_policy(policy_id: str, inv: Inventory, **params: Any) -> pl.DataFrame:
    """Findings of ``policy_id`` with ``params`` over ``inv``, after the pipeline steps the
    engine runs before any policy (the billing rollup)."""
    billing_rollup.prepare(inv)
    pol = policy_by_id(policy_id)
    return pol.run(inv, pol.build_params(params)).collect()
