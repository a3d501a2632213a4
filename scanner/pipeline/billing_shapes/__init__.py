"""The billing exports the push-down reads (contracts/billing_query.py, ``ExportShape``):
one module per export, each defining ``SHAPE``.

- ``focus``: a FOCUS 1.0 table (the AWS FOCUS data export, the BigQuery FOCUS view, any
  FOCUS Parquet);
- ``cur2``: the AWS CUR 2.0 data export as Athena reads it;
- ``gcp_bigquery``: GCP's standard and detailed usage cost export in BigQuery.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping

from costscan.scanner.contracts.billing_query import ExportShape

SHAPE_MODULES: tuple[str, ...] = ("focus", "cur2", "gcp_bigquery")


def shapes() -> tuple[ExportShape, ...]:
    """Every export shape, in the order they are tried."""
    found = []
    for module in SHAPE_MODULES:
        # TODO(issue 18, merge): every module lands with its engine; then this is strict.
        if importlib.util.find_spec(f"{__name__}.{module}") is not None:
            found.append(importlib.import_module(f"{__name__}.{module}").SHAPE)
    return tuple(found)


def shape_of(columns: Mapping[str, str]) -> ExportShape | None:
    """The first shape whose columns the table has, or None."""
    return next((shape for shape in shapes() if shape.matches(columns)), None)
