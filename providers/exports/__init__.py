"""Billing export files (FOCUS 1.0-1.2, AWS CUR legacy and 2.0, GCP, Azure) as the
``billing`` frame. Each native format's mapping to FOCUS is documented in its module."""

from __future__ import annotations

from costscan.providers.exports.detect import FORMATS
from costscan.providers.exports.provider import FocusProvider
from costscan.providers.exports.read import BillingRead, read_billing

__all__ = ["FORMATS", "BillingRead", "FocusProvider", "read_billing"]
