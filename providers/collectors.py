"""What each provider's collectors measure, and what a collector's failure leaves incomplete.

A provider declares its collectors in a table (name -> ``Collector``); a failure then
becomes a ``CollectorError`` carrying the frames and resource types it lost, from which
the pipeline withholds the findings that read them and the history treats last run's
findings on them as not seen, never as resolved (scanner/pipeline/gaps.py). A collector
without frames (advice, live prices) loses nothing a policy reads: the report names it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from costscan.scanner.contracts.errors import CollectorError, ProviderError, ReadOnlyViolation

T = TypeVar("T")


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


def attempted(
    call: Callable[[], T],
    *,
    table: Mapping[str, Collector],
    collector: str,
    account_id: str,
    errors: list[CollectorError],
    api_errors: tuple[type[BaseException], ...],
    one_line: Callable[[BaseException], str],
    region: str = "global",
) -> T | None:
    """``call()``, or None with its failure appended to ``errors`` as the declared
    CollectorError (a ProviderError by its text, an SDK's ``api_errors`` by ``one_line``).
    A read-only violation is never a collector's failure: it stops the scan."""
    try:
        return call()
    except ReadOnlyViolation:
        raise
    except ProviderError as exc:
        errors.append(declared_error(table, collector, account_id, region, str(exc)))
    except api_errors as exc:
        errors.append(declared_error(table, collector, account_id, region, one_line(exc)))
    return None
