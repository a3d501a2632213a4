"""What each provider's collectors measure, and what a collector's failure leaves incomplete.

A provider declares its collectors in a table (name -> ``Collector``); a failure then
becomes a ``CollectorError`` carrying the frames and resource types it lost, from which
the pipeline withholds the findings that read them and the history treats last run's
findings on them as not seen, never as resolved (scanner/pipeline/gaps.py). A collector
without frames (advice, live prices) loses nothing a policy reads: the report names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from costscan.scanner.contracts.errors import CollectorError


@dataclass(frozen=True)
class Collector:
    """What one collector measures, and what its failure leaves incomplete."""

    measures: str
    frames: tuple[str, ...] = ()
    resource_types: tuple[str, ...] = ()


def declared_error(
    table: Mapping[str, Collector],
    collector: str,
    account_id: str,
    region: str,
    message: str,
    resources: tuple[str, ...] = (),
) -> CollectorError:
    """A CollectorError carrying what ``table`` declares ``collector``'s failure loses (an
    undeclared collector loses nothing the pipeline can name)."""
    spec = table.get(collector, Collector(""))
    return CollectorError(
        collector,
        account_id,
        region,
        message,
        measures=spec.measures,
        frames=spec.frames,
        resource_types=spec.resource_types,
        resources=resources,
    )
