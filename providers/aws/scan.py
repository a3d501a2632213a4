"""What one account-region scan holds: its clients, its inventory and its error list.

Every collector module (compute, storage, network, observability, commitments) takes a
``RegionScan`` and wraps each AWS call in ``attempt`` so that a failure costs only its own
data and becomes a ``CollectorError`` in the report. ``collected`` keeps each collector's
latest answer, so a later collector reuses what an earlier one fetched (the storage
collector reads the instances the EC2 collector described) instead of calling again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import polars as pl

from costscan.providers.aws.session import ClientFactory
from costscan.providers.interface import Progress, ScanRequest
from costscan.scanner.contracts.errors import CollectorError
from costscan.scanner.contracts.inventory import Inventory

T = TypeVar("T")

GLOBAL = "global"
MESSAGE_LIMIT = 300


def one_line(exc: BaseException) -> str:
    """An exception as one short line (botocore messages can carry HTML bodies)."""
    text = re.sub(r"\s+", " ", str(exc)).strip() or type(exc).__name__
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


@dataclass(frozen=True)
class Account:
    account_id: str
    clients: ClientFactory


class RegionScan:
    """What one account-region scan needs and collects."""

    def __init__(
        self,
        account: Account,
        region: str,
        request: ScanRequest,
        prices: pl.DataFrame,
        progress: Progress,
        *,
        home_region: str | None = None,
    ) -> None:
        self.account = account
        self.region = region
        # Where global services are called from (region is "global" for account scans).
        self.home_region = home_region or region
        self.request = request
        self.prices = prices
        self.progress = progress
        self.inventory = Inventory(
            provider="aws",
            context=request.context,
            accounts=[account.account_id],
            regions=[] if region == GLOBAL else [region],
        )
        # Collector name -> its latest successful answer (a failed call leaves no entry).
        self.collected: dict[str, Any] = {}

    def client(self, service: str, region: str | None = None) -> Any:
        """A guarded client; an account scan's clients live in the home region."""
        where = region or (self.home_region if self.region == GLOBAL else self.region)
        return self.account.clients.client(service, where)

    def attempt(self, collector: str, call: Callable[[], T]) -> T | None:
        """Run one collector; a botocore failure becomes a CollectorError, not a crash."""
        from botocore.exceptions import BotoCoreError, ClientError
        from botocore.parsers import ResponseParserError

        try:
            answer = call()
        # ResponseParserError is not a BotoCoreError: an endpoint answering HTML (a proxy,
        # an emulator lacking the API) must cost only this collector.
        except (ClientError, BotoCoreError, ResponseParserError) as exc:
            self.inventory.errors.append(
                CollectorError(collector, self.account.account_id, self.region, one_line(exc))
            )
            return None
        finally:
            self.progress(f"{self.account.account_id} {self.region}: {collector}", 1)
        self.collected[collector] = answer
        return answer
