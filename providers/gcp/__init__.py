"""The GCP provider (google-cloud-compute, -storage, -monitoring; read-only). See
``providers.gcp.provider``. The Google SDKs load inside the collectors, never on import."""

from __future__ import annotations

from costscan.providers.gcp.provider import GcpProvider

__all__ = ["GcpProvider"]
