"""The billing exports the push-down reads (contracts/billing_query.py, ``ExportShape``):
one module per export, each defining ``SHAPE``.

- ``focus``: a FOCUS 1.0 table (the AWS FOCUS data export, the BigQuery FOCUS view, any
  FOCUS Parquet);
- ``cur2``: the AWS CUR 2.0 data export as Athena reads it;
- ``gcp_bigquery``: GCP's standard and detailed usage cost export in BigQuery.
"""

from __future__ import annotations

from collections.abc import Mapping

from costscan.scanner.contracts.billing_query import ExportShape
from costscan.scanner.pipeline.billing_shapes import cur2, focus, gcp_bigquery

# In the order they are tried.
SHAPES: tuple[ExportShape, ...] = (focus.SHAPE, cur2.SHAPE, gcp_bigquery.SHAPE)


def shapes() -> tuple[ExportShape, ...]:
    """Every export shape, in the order they are tried."""
    return SHAPES


def shape_of(columns: Mapping[str, str]) -> ExportShape | None:
    """The first shape whose columns the table has, or None."""
    return next((shape for shape in shapes() if shape.matches(columns)), None)
