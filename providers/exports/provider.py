"""``costscan run --provider focus``: billing export files alone, as the whole inventory."""

from __future__ import annotations

from costscan.providers.exports.read import attach, read_billing
from costscan.providers.interface import Progress, Provider, ScanRequest, no_progress
from costscan.scanner.contracts.inventory import Inventory


class FocusProvider(Provider):
    """Billing exports (FOCUS, CUR, GCP, Azure) read into the ``billing`` frame."""

    name = "focus"

    def collect(self, request: ScanRequest, progress: Progress = no_progress) -> Inventory:
        progress("reading billing exports", 0)
        read = read_billing(request.billing_paths, request.billing_format)
        inventory = Inventory(provider=self.name, context=request.context)
        # The rollup every billing policy reads is built here, in the provider's read of
        # the files; the accounts and regions come from it, not from another pass.
        attach(inventory, read)
        rollup = inventory.billing_rollup()
        inventory.accounts = rollup.accounts()
        inventory.regions = rollup.regions()
        progress("reading billing exports", 1)
        return inventory
