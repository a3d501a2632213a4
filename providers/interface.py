"""What every provider is: something that turns a cloud (or export files) into an Inventory.

Providers do all the I/O; nothing else in costscan talks to a cloud. Each provider module
imports its SDK lazily inside its functions, so importing this package costs nothing.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from costscan.scanner.contracts.inventory import Inventory, RunContext

# Progress callback: (step description, advance by) — the CLI draws it, providers only call it.
# A step with advance 0 is a status, not a finished step: "waiting on ..." (WAITING) says
# what a slow collector is waiting for, and the CLI shows it even in plain mode.
Progress = Callable[[str, int], None]
WAITING = "waiting on"


def no_progress(_step: str, _advance: int = 1) -> None:
    """A progress callback that shows nothing."""


@dataclass(frozen=True)
class ScanRequest:
    """Everything a provider needs to know about what to scan."""

    context: RunContext
    profile: str | None = None
    regions: Sequence[str] = ()
    org_role: str | None = None
    live_pricing: bool = False
    endpoint_url: str | None = None  # tests and the demo; real runs use AWS_ENDPOINT_URL
    billing_paths: Sequence[str] = ()
    billing_format: str | None = None
    cache_dir: str | None = None
    # Threads scanning account-regions at once (--max-workers), and the longest one
    # collector may take before it is a named gap (--collector-timeout, seconds).
    max_workers: int = 8
    collector_timeout: float = 300.0
    extra: dict[str, str] = field(default_factory=dict)
    # GCP: the projects to scan (none: every project the credentials can list) and the
    # organization whose projects to list.
    projects: Sequence[str] = ()
    organization: str | None = None
    # Azure: the subscriptions to scan (none: every one the credential can list) and the
    # management group whose subscriptions to scan.
    subscriptions: Sequence[str] = ()
    management_group: str | None = None


class Provider(abc.ABC):
    """One cloud, or one kind of billing export."""

    name: str

    def check(self, request: ScanRequest) -> None:
        """Check what can be checked without calling the cloud (a profile, credentials,
        a region's spelling): UsageError with one clear line. The engine calls it before
        any cloud call. A provider with nothing to check keeps this one."""
        return None

    @abc.abstractmethod
    def collect(self, request: ScanRequest, progress: Progress = no_progress) -> Inventory:
        """Return the inventory; failures of single collectors go to ``inventory.errors``."""
