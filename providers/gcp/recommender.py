"""Google's own cost advice, read from the Recommender API (google-cloud-recommender, REST),
as the ``provider_advice`` frame: the cross-check beside costscan's findings.

Recommenders read, each for the locations where the project has what it judges (a zone
for instances and disks, a region for addresses and commitments; listed per location, all
pages, only the locations the inventory holds, so no sweep of every zone):

| recommender | judges | Google's advice (``kind``) |
|---|---|---|
| google.compute.instance.IdleResourceRecommender | instance | stop |
| google.compute.instance.MachineTypeRecommender | instance | resize |
| google.compute.disk.IdleResourceRecommender | disk | delete (after a snapshot) |
| google.compute.address.IdleResourceRecommender | static address | delete |
| google.compute.commitment.UsageCommitmentRecommender | project and region | commit |

(https://cloud.google.com/recommender/docs/recommenders). Only recommendations in state
ACTIVE or CLAIMED count: SUCCEEDED, FAILED and DISMISSED ones are history.

Money: ``primaryImpact.costProjection.cost`` is ``google.type.Money`` (units plus nanos,
negative for a saving) over ``duration`` (30 days for these recommenders). costscan's month
is 730 hours, so a projection over D seconds becomes ``−cost × 730 × 3600 / D`` a month;
the currency is the billing account's (``cost.currencyCode``), kept beside the figure.

Resources: an operation's ``resource`` is a full resource name
(``//compute.googleapis.com/projects/P/zones/Z/instances/N``); without the service prefix
it is the GCP provider's resource id. Google may name the project by number (the
recommendation's own ``name`` always does): that number is read back as the project id
the scan listed it under.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from costscan.providers.gcp.compute import region_of_zone
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.units import HOURS_PER_MONTH
from costscan.scanner.contracts.vocab import ResourceType

PROVIDER: Final = "gcp"
SECONDS_PER_MONTH: Final = HOURS_PER_MONTH * 3600
LIVE_STATES: Final = frozenset({"ACTIVE", "CLAIMED"})


@dataclass(frozen=True)
class Recommender:
    id: str
    where: str  # zone | region: the kind of location it is listed for
    resource_type: ResourceType
    kind: str  # stop | resize | delete | commit


RECOMMENDERS: tuple[Recommender, ...] = (
    Recommender(
        "google.compute.instance.IdleResourceRecommender", "zone", ResourceType.GCE_INSTANCE,
        "stop",
    ),
    Recommender(
        "google.compute.instance.MachineTypeRecommender", "zone", ResourceType.GCE_INSTANCE,
        "resize",
    ),
    Recommender(
        "google.compute.disk.IdleResourceRecommender", "zone", ResourceType.PERSISTENT_DISK,
        "delete",
    ),
    Recommender(
        "google.compute.address.IdleResourceRecommender", "region", ResourceType.STATIC_ADDRESS,
        "delete",
    ),
    Recommender(
        "google.compute.commitment.UsageCommitmentRecommender", "region",
        ResourceType.COMMITTED_USE_DISCOUNT, "commit",
    ),
)  # fmt: skip

_SERVICE_PREFIX = re.compile(r"^//[a-z0-9.-]+\.googleapis\.com/")
_PROJECT_SEGMENT = re.compile(r"^projects/([^/]+)/")


def resource_id(full_name: str, project: str, project_number: str | None) -> str:
    """``//compute.googleapis.com/projects/123/zones/z/instances/vm`` -> the provider's id,
    ``projects/<project id>/zones/z/instances/vm`` (the number read as the scanned id)."""
    path = _SERVICE_PREFIX.sub("", full_name)
    named = _PROJECT_SEGMENT.match(path)
    if named and project_number and named.group(1) == project_number:
        path = f"projects/{project}/" + path[named.end() :]
    return path


def monthly_saving(cost_projection: Any) -> tuple[float | None, str | None]:
    """(saving a 730-hour month, currency) from a CostProjection; a positive cost (the
    change costs more) is a negative saving; (None, None) without a projection."""
    cost = cost_projection.cost
    seconds = cost_projection.duration.total_seconds() if cost_projection.duration else 0.0
    if not cost.currency_code or seconds <= 0:
        return None, None
    amount = float(cost.units) + float(cost.nanos) / 1e9
    return -amount * SECONDS_PER_MONTH / seconds, cost.currency_code


def _target_machine_type(operations: Iterable[Any]) -> str | None:
    """The machine type a resize recommends: the ``replace`` of ``/machineType``."""
    for op in operations:
        # proto-plus hands a google.protobuf.Value field over as the Python value itself.
        if op.action == "replace" and op.path == "/machineType" and isinstance(op.value, str):
            return op.value.rsplit("/", 1)[-1] or None
    return None


def locations(
    compute: pl.DataFrame, disks: list[dict[str, Any]], addresses: list[dict[str, Any]]
) -> dict[str, list[str]]:
    """Per kind of location, where the project has something a recommender judges."""
    zones = {str(rid).split("/")[3] for rid in compute["resource_id"].to_list()}
    zones |= {
        str(d["resource_id"]).split("/")[3]
        for d in disks
        if str(d["resource_id"]).split("/")[2] == "zones"
    }
    regions = {region_of_zone(z) for z in zones}
    regions |= {str(a["region"]) for a in addresses if a["region"] != "global"}
    return {"zone": sorted(zones), "region": sorted(regions)}


def list_advice(client: Any, project: str, where: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Every live recommendation of the recommenders above, in ``where``'s locations."""
    rows: list[dict[str, Any]] = []
    for recommender in RECOMMENDERS:
        for location in where.get(recommender.where, []):
            parent = f"projects/{project}/locations/{location}/recommenders/{recommender.id}"
            for rec in client.list_recommendations(request={"parent": parent}):
                row = _row(rec, recommender, project, location)
                if row is not None:
                    rows.append(row)
    return rows


def _row(rec: Any, recommender: Recommender, project: str, location: str) -> dict[str, Any] | None:
    state = rec.state_info.state.name
    if state not in LIVE_STATES:
        return None
    number = _PROJECT_SEGMENT.match(rec.name)
    project_number = number.group(1) if number else None
    operations = [op for group in rec.content.operation_groups for op in group.operations]
    targets = [op.resource for op in operations if op.resource] + list(rec.target_resources)
    region = region_of_zone(location) if recommender.where == "zone" else location
    if recommender.kind == "commit" or not targets:
        rid = f"projects/{project}/regions/{region}"
    else:
        rid = resource_id(targets[0], project, project_number)
    saving, currency = monthly_saving(rec.primary_impact.cost_projection)
    return {
        "provider": PROVIDER,
        "account_id": project,
        "region": region,
        "resource_id": rid,
        "resource_name": rid.rsplit("/", 1)[-1],
        "resource_type": recommender.resource_type.value,
        "recommender": recommender.id,
        "recommendation": rec.name,
        "subtype": rec.recommender_subtype or None,
        "kind": recommender.kind,
        "description": rec.description or None,
        "monthly_savings": saving,
        "currency": currency,
        "target": _target_machine_type(operations),
        "priority": rec.priority.name if rec.priority else None,
        "state": state,
        "xor_group": rec.xor_group_id or None,
        "refreshed": rec.last_refresh_time or None,
    }


def advice_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=dict(schema.PROVIDER_ADVICE))
    return schema.conform("provider_advice", frame)
