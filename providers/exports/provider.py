"""``costscan run --provider focus``: billing export files alone, as the whole inventory."""

from __future__ import annotations

import polars as pl

from providers.exports.read import read_billing
from providers.interface import Progress, Provider, ScanRequest, no_progress
from scanner.inventory import Inventory


class FocusProvider(Provider):
    """Billing exports (FOCUS, CUR, GCP, Azure) read into the ``billing`` frame."""

    name = "focus"

    def collect(self, request: ScanRequest, progress: Progress = no_progress) -> Inventory:
        progress("reading billing exports", 0)
        read = read_billing(request.billing_paths, request.billing_format)
        inventory = Inventory(provider=self.name, context=request.context)
        inventory.add_scan("billing", read.scan)
        inventory.rejections.extend(read.rejections)
        accounts, regions = pl.collect_all(
            [
                read.scan.select(pl.coalesce("SubAccountId", "BillingAccountId").alias("account"))
                .drop_nulls()
                .unique(),
                read.scan.select(pl.col("RegionId").alias("region")).drop_nulls().unique(),
            ],
            engine="streaming",
        )
        inventory.accounts = sorted(accounts["account"].to_list())
        inventory.regions = sorted(regions["region"].to_list())
        progress("reading billing exports", 1)
        return inventory
