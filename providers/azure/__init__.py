"""The Azure provider (azure-mgmt-compute, -network, -monitor, -advisor; read-only). See
``providers.azure.provider``. The Azure SDKs load inside the collectors, never on import."""

from __future__ import annotations

from costscan.providers.azure.provider import AzureProvider

__all__ = ["AzureProvider"]
