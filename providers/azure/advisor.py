"""Azure Advisor's cost recommendations (azure-mgmt-advisor, Recommendations - List with
``$filter=Category eq 'Cost'``, all pages) as the ``provider_advice`` frame: the
cross-check beside costscan's findings.

Advisor's kinds of cost advice, by ``extendedProperties.recommendationType`` or the
impacted resource type, in the frame's vocabulary (``kind``):

| Advisor says | resource | ``kind`` |
|---|---|---|
| Shutdown | virtual machine | stop |
| SkuChange (or a ``targetSku``) | virtual machine | resize (``target``: the size) |
| any | managed disk | delete |
| any | public IP address | delete |
| reserved instance / savings plan purchase | subscription | commit |

(https://learn.microsoft.com/azure/advisor/advisor-reference-cost-recommendations).
``savingsAmount`` is Advisor's monthly figure in ``savingsCurrency``, at retail prices and
without reservations or savings plans: where costscan's figure (after discounts) differs,
the report says so.
"""

from __future__ import annotations

from typing import Any, Final

import polars as pl

from costscan.providers.azure.compute import text
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.vocab import ResourceType

PROVIDER: Final = "azure"
SOURCE: Final = "Azure Advisor"
_BY_TYPE: Final[dict[str, tuple[ResourceType, str]]] = {
    "microsoft.compute/disks": (ResourceType.MANAGED_DISK, "delete"),
    "microsoft.network/publicipaddresses": (ResourceType.PUBLIC_IP, "delete"),
}


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def list_advice(client: Any, subscription: str, vm_ids: dict[str, str]) -> list[dict[str, Any]]:
    """Every cost recommendation of ``subscription``. ``vm_ids`` (lower case -> as ARM
    spells it) writes a VM's id the way the compute frame does."""
    rows: list[dict[str, Any]] = []
    for rec in client.recommendations.list(filter="Category eq 'Cost'"):
        extended = dict(rec.extended_properties or {})
        resource = (rec.resource_metadata.resource_id if rec.resource_metadata else None) or str(
            rec.id
        ).split("/providers/Microsoft.Advisor/", 1)[0]
        field = str(rec.impacted_field or "").lower()
        advice = str(extended.get("recommendationType") or "").lower()
        target = extended.get("targetSku") or extended.get("vmSize") or None
        if field == "microsoft.compute/virtualmachines":
            rtype = ResourceType.AZURE_VM
            kind = "stop" if advice == "shutdown" or target == "Shutdown" else "resize"
            resource = vm_ids.get(resource.lower(), resource)
        elif field in _BY_TYPE:
            rtype, kind = _BY_TYPE[field]
        elif field in {"microsoft.subscriptions/subscriptions", "microsoft.compute/reservations"}:
            rtype, kind = ResourceType.COMMITMENT_COVERAGE, "commit"
        else:
            continue
        problem = rec.short_description.problem if rec.short_description else None
        rows.append(
            {
                "provider": PROVIDER,
                "account_id": subscription,
                "region": extended.get("regionId") or extended.get("region") or None,
                "resource_id": resource,
                "resource_name": str(rec.impacted_value or resource.rsplit("/", 1)[-1]),
                "resource_type": rtype.value,
                "recommender": SOURCE,
                "recommendation": str(rec.id),
                "subtype": rec.recommendation_type_id or None,
                "kind": kind,
                "description": problem,
                "monthly_savings": _float(extended.get("savingsAmount")),
                "currency": extended.get("savingsCurrency") or None,
                # A resize's size, or the size a reservation purchase is for.
                "target": target if kind in ("resize", "commit") else None,
                "priority": text(rec.impact),
                "state": "Active",
                "refreshed": rec.last_updated,
            }
        )
    return rows


def advice_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=dict(schema.PROVIDER_ADVICE))
    return schema.conform("provider_advice", frame)
