"""``costscan run --provider focus``: billing export files alone, as the whole inventory."""

from __future__ import annotations

from costscan.providers.exports.read import read_billing
from costscan.providers.interface import Progress, Provider, ScanRequest, no_progress
from costscan.scanner.contracts.billing import BillingSource
from costscan.scanner.contracts.inventory import Inventory


class FocusProvider(Provider):
    """Billing exports (FOCUS, CUR, GCP, Azure, OCI) read into the ``billing`` frame.

    The files are checked and staged here (or handed over already read, ``source``: the
    engine reads them before anything else, to fail fast and to account for every row);
    the pipeline then reduces them once to the billing rollup
    (``costscan.scanner.pipeline.billing_rollup``), and the run's accounts and regions
    come from that rollup, not from another pass over the files.
    """

    name = "focus"

    def __init__(self, source: BillingSource | None = None) -> None:
        self.source = source

    def collect(self, request: ScanRequest, progress: Progress = no_progress) -> Inventory:
        progress("reading billing exports", 0)
        read = self.source or read_billing(request.billing_paths, request.billing_format)
        self.source = read
        inventory = Inventory(provider=self.name, context=request.context)
        inventory.add_scan("billing", read.scan)
        inventory.billing_files = list(read.files)
        inventory.rejections.extend(read.rejections)
        progress("reading billing exports", 1)
        return inventory
