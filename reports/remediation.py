"""What to run for each finding: the change in plain words, the AWS CLI commands, the
Terraform attribute to change, and a console deep link.

Presentation only: everything is read back from the finding's own columns and evidence
(the instance type it names, the IOPS it priced, the retention it assumed), never worked
out anew. A grouped finding gets one command per member, in a loop. Every value that
comes from the account (an id, a name, a region) is shell-quoted with ``shlex.quote``, so
a bucket called ``x; rm -rf ~`` stays one argument; console links percent-encode theirs.

Builders are keyed by policy id, per cloud: AWS (``BUILDERS``: the AWS CLI) and GCP
(``GCP_BUILDERS``: gcloud, the google Terraform provider, the Cloud console, reading the
project, zone and name from the resource path). A policy without one (a new policy, a
billing export's own) gets its recommendation in words and, for AWS, the console. Azure's
builders come with its provider.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

# Members listed in one command loop; a bigger group's command names the first ones and
# says how many more the JSON report lists.
LOOP_MEMBERS = 50
AWS_CONSOLE = "console.aws.amazon.com"
# How many members a loop names, set by ``remediation`` for the builders it calls (a
# comment lists fewer than the HTML) without threading it through every builder.
_MEMBERS_SHOWN: ContextVar[int] = ContextVar("members_shown", default=LOOP_MEMBERS)
GLOBAL_REGIONS = {"global", "*", ""}
# Commands that run one after the other, each only if the last worked: one per line.
AND = " &&\n  "


@dataclass(frozen=True)
class Remediation:
    """What a reader does about one finding."""

    change: str  # the change in plain words, one line
    cli: str | None = None  # shell lines (AWS CLI), ready to paste
    terraform: str | None = None  # the resource attribute to change, HCL
    console_url: str | None = None
    note: str | None = None  # what to know before running it

    def document(self) -> dict[str, str | None]:
        return {
            "change": self.change,
            "cli": self.cli,
            "terraform": self.terraform,
            "console_url": self.console_url,
            "note": self.note,
        }


Finding = Mapping[str, Any]
Builder = Callable[[Finding], Remediation]


# --------------------------------------------------------------------------- helpers


def _q(value: object) -> str:
    return shlex.quote("" if value is None else str(value))


def _text(value: object) -> str:
    return "" if value is None else " ".join(str(value).split())


def _figures(finding: Finding) -> Mapping[str, Any]:
    """The evidence the decision rests on: a grouped finding's example member's."""
    evidence = finding.get("evidence")
    if isinstance(evidence, str):
        try:
            evidence = json.loads(evidence)
        except ValueError:
            evidence = {}
    if not isinstance(evidence, Mapping):
        return {}
    example = evidence.get("example")
    if "grouped" in evidence and isinstance(example, Mapping):
        return example
    return evidence


def _dig(mapping: Mapping[str, Any], *path: str) -> Any:
    value: Any = mapping
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _int_text(value: Any) -> str | None:
    number = _number(value)
    return None if number is None else str(round(number))


def _members(finding: Finding) -> list[str]:
    """The resource ids a finding acts on: its members when grouped, else its resource."""
    members = finding.get("members")
    if isinstance(members, str):
        try:
            members = json.loads(members)
        except ValueError:
            members = None
    if isinstance(members, Sequence) and not isinstance(members, str) and members:
        ids = []
        for member in members:
            if isinstance(member, Mapping):
                ids.append(_text(member.get("resource_id")))
            else:
                ids.append(_text(member))
        return [i for i in ids if i]
    resource = _text(finding.get("resource_id"))
    return [resource] if resource else []


def _grouped(finding: Finding) -> bool:
    return len(_members(finding)) > 1 or bool(finding.get("member_count") or 0) > 1


def _region(finding: Finding) -> str | None:
    region = _text(finding.get("region"))
    return None if region in GLOBAL_REGIONS else region


def _region_flag(finding: Finding) -> str:
    region = _region(finding)
    return f" --region {_q(region)}" if region else ""


# What a group's members are, by resource type, for "40 instances".
_NOUNS: dict[str, str] = {
    "ec2_instance": "instances",
    "ebs_volume": "volumes",
    "ebs_snapshot": "snapshots",
    "s3_bucket": "buckets",
    "log_group": "log groups",
    "elastic_ip": "Elastic IPs",
    "load_balancer": "load balancers",
    "auto_scaling_group": "Auto Scaling groups",
    "lambda_function": "Lambda functions",
    "ecs_service": "ECS services",
    "nat_gateway": "NAT gateways",
    "rds_instance": "databases",
    "elasticache_cluster": "cache clusters",
    "dynamodb_table": "tables",
    "gce_instance": "VMs",
    "persistent_disk": "disks",
    "gce_snapshot": "snapshots",
    "azure_vm": "VMs",
    "managed_disk": "disks",
    "azure_snapshot": "snapshots",
    "public_ip": "public IPs",
    "storage_account": "storage accounts",
    "azure_nat_gateway": "NAT gateways",
    "azure_load_balancer": "load balancers",
}


def _label(finding: Finding) -> str:
    """``name (id)``, or the name alone when the id is an ARN (the name says it in
    words; the id is shown whole beside the change); a grouped finding's "40 instances"."""
    resource_id = _text(finding.get("resource_id"))
    name = _text(finding.get("resource_name"))
    if _grouped(finding):
        count = finding.get("member_count") or len(_members(finding))
        noun = _NOUNS.get(_text(finding.get("resource_type")), "resources")
        return f"{count:,} {noun}" if isinstance(count, int) else name or resource_id
    if name and resource_id and name != resource_id:
        return name if resource_id.startswith("arn:") else f"{name} ({resource_id})"
    return name or resource_id


def _loop(finding: Finding, variable: str, body: Callable[[str], str]) -> str:
    """``body(id)`` for a lone resource; a ``for`` loop over a group's members."""
    ids = _members(finding)
    if len(ids) <= 1:
        return body(_q(ids[0] if ids else finding.get("resource_id")))
    shown = ids[: _MEMBERS_SHOWN.get()]
    lines = [f"for {variable} in \\"]
    lines += [f"  {_q(i)} \\" for i in shown]
    lines[-1] = lines[-1].removesuffix(" \\") + "; do"
    lines.append("  " + body(f'"${variable}"').replace("\n", "\n  "))
    lines.append("done")
    if len(ids) > len(shown):
        lines.insert(0, f"# the first {len(shown)} of {len(ids):,}; the JSON report lists all")
    return "\n".join(lines)


def _ec2_console(finding: Finding, fragment: str) -> str | None:
    region = _region(finding)
    if region is None:
        return None
    r = quote(region, safe="")
    return f"https://{r}.{AWS_CONSOLE}/ec2/home?region={r}#{fragment}"


def _instance_console(finding: Finding) -> str | None:
    if _grouped(finding):
        return _ec2_console(finding, "Instances:")
    return _ec2_console(
        finding, "InstanceDetails:instanceId=" + quote(_text(finding.get("resource_id")), safe="")
    )


def _volume_console(finding: Finding) -> str | None:
    if _grouped(finding):
        return _ec2_console(finding, "Volumes:")
    return _ec2_console(
        finding, "VolumeDetails:volumeId=" + quote(_text(finding.get("resource_id")), safe="")
    )


# --------------------------------------------------------------------------- compute


def _resize_instance(target: str | None, why: str) -> Builder:
    def build(finding: Finding) -> Remediation:
        figures = _figures(finding)
        current = _text(_dig(figures, "current", "instance_type"))
        wanted = _text(_dig(figures, *(target or "candidate.instance_type").split(".")))
        if not wanted:
            return _fallback(finding)
        region = _region_flag(finding)
        moves = f"from {current} to {wanted}" if current else f"to {wanted}"
        change = f"Resize {_label(finding)} {moves}{why}"

        def body(instance: str) -> str:
            return AND.join(
                (
                    f"aws ec2 stop-instances{region} --instance-ids {instance}",
                    f"aws ec2 wait instance-stopped{region} --instance-ids {instance}",
                    f"aws ec2 modify-instance-attribute{region} --instance-id {instance} "
                    f"--instance-type Value={_q(wanted)}",
                    f"aws ec2 start-instances{region} --instance-ids {instance}",
                )
            )

        note = "Stops and starts the instance: plan a maintenance window."
        architecture = _text(_dig(figures, "shape", "candidate_architecture"))
        if architecture and architecture != _text(_dig(figures, "shape", "architecture")):
            note = (
                f"{wanted} runs {architecture}: the instance needs an {architecture} AMI and "
                "builds of its software first. " + note
            )
        return Remediation(
            change=change,
            cli=_loop(finding, "instance", body),
            terraform=f"aws_instance.instance_type = {json.dumps(wanted)}  "
            "# or the launch template's instance_type",
            console_url=_instance_console(finding),
            note=note,
        )

    return build


def _stop_instance(finding: Finding) -> Remediation:
    region = _region_flag(finding)
    return Remediation(
        change=f"Stop {_label(finding)}: idle over the lookback",
        cli=_loop(
            finding,
            "instance",
            lambda i: (
                f"aws ec2 stop-instances{region} --instance-ids {i}"
                "  # terminate-instances once nobody misses it"
            ),
        ),
        terraform="delete the aws_instance resource (or set count = 0)",
        console_url=_instance_console(finding),
        note="A stopped instance still bills its EBS volumes; snapshot them before "
        "terminating if the data matters.",
    )


def _schedule_instance(finding: Finding) -> Remediation:
    figures = _figures(finding)
    window = _text(_dig(figures, "window", "schedule")) or "office hours"
    region = _region_flag(finding)
    return Remediation(
        change=f"Run {_label(finding)} only {window}",
        cli=_loop(
            finding,
            "instance",
            lambda i: (
                f"aws ec2 create-tags{region} --resources {i} "
                "--tags Key=Schedule,Value=office-hours"
            ),
        ),
        terraform='aws_instance.tags["Schedule"] = "office-hours"',
        console_url=_instance_console(finding),
        note=f"AWS Instance Scheduler acts on the Schedule tag: define a schedule named "
        f"office-hours for {window} (or tag maid_offhours for Cloud Custodian).",
    )


def _commit_savings_plan(finding: Finding) -> Remediation:
    figures = _figures(finding)
    discount = _number(_dig(figures, "commitment", "discount"))
    before = _number(finding.get("monthly_savings_before_discounts"))
    hourly: float | None = None
    if discount and 0 < discount < 1 and before is not None and before > 0:
        # saving = covered on-demand × discount and commitment = covered × (1 − discount),
        # so the hourly commitment is saving × (1 − discount) / discount / 730.
        hourly = before * (1 - discount) / discount / 730
    term = _text(_dig(figures, "commitment", "term")) or "1 year, no upfront"
    amount = f"${hourly:,.3f}/hour " if hourly is not None else ""
    cli = (
        "aws savingsplans describe-savings-plans-offerings --plan-types Compute "
        '--durations 31536000 --payment-options "No Upfront" '
        "--query 'searchResults[0].offeringId' --output text\n"
        "aws savingsplans create-savings-plan --savings-plan-offering-id <offering-id> "
        f"--commitment {_q(f'{hourly:.3f}') if hourly is not None else '<usd-per-hour>'}"
    )
    return Remediation(
        change=f"Commit {amount}to a {term} Compute Savings Plan for {_label(finding)}",
        cli=cli,
        terraform=None,
        console_url=f"https://{AWS_CONSOLE}/costmanagement/home#/savings-plans/purchase",
        note="Commits the account to paying this much an hour for the whole term.",
    )


def _spot(finding: Finding) -> Remediation:
    figures = _figures(finding)
    group = _text(figures.get("group"))
    region = _region_flag(finding)
    policy = json.dumps(
        {
            "InstancesDistribution": {
                "OnDemandBaseCapacity": 0,
                "OnDemandPercentageAboveBaseCapacity": 0,
                "SpotAllocationStrategy": "price-capacity-optimized",
            }
        },
        separators=(",", ":"),
    )
    cli = (
        f"aws autoscaling update-auto-scaling-group{region} "
        f"--auto-scaling-group-name {_q(group or '<group>')} "
        f"--mixed-instances-policy {_q(policy)}"
    )
    console = (
        _ec2_console(finding, "AutoScalingGroupDetails:id=" + quote(group, safe=""))
        if group
        else _ec2_console(finding, "AutoScalingGroups:")
    )
    return Remediation(
        change=f"Run Auto Scaling group {group or _label(finding)} on spot",
        cli=cli,
        terraform="aws_autoscaling_group.mixed_instances_policy.instances_distribution"
        ".on_demand_percentage_above_base_capacity = 0",
        console_url=console,
        note="The mixed instances policy also needs the group's launch template and, "
        "ideally, several instance types; members must tolerate a two-minute interruption.",
    )


# --------------------------------------------------------------------------- commitments


def _renew(finding: Finding) -> Remediation:
    figures = _figures(finding)
    commitment = _dig(figures, "commitment") or {}
    kind = _text(_dig(commitment, "kind"))
    expires = _text(figures.get("expires"))[:10]
    if kind == "ri":
        instance_type = _text(_dig(commitment, "instance_type"))
        count = _int_text(_dig(commitment, "instance_count")) or "<count>"
        offering_class = _text(_dig(commitment, "offering_class")) or "standard"
        payment = _text(_dig(commitment, "payment_option")) or "No Upfront"
        region = _region_flag(finding)
        cli = (
            f"aws ec2 describe-reserved-instances-offerings{region} "
            f"--instance-type {_q(instance_type)} --offering-class {_q(offering_class)} "
            f"--offering-type {_q(payment)} --product-description Linux/UNIX "
            "--instance-tenancy default --max-duration 31536000 "
            "--query 'ReservedInstancesOfferings[0].ReservedInstancesOfferingId' --output text\n"
            f"aws ec2 purchase-reserved-instances-offering{region} "
            f"--reserved-instances-offering-id <offering-id> --instance-count {_q(count)}"
        )
        what = f"{count} × {instance_type} reservation" if instance_type else "reservation"
        return Remediation(
            change=f"Renew the {what} {_text(finding.get('resource_id'))} before "
            f"{expires or 'it expires'}",
            cli=cli,
            terraform=None,
            console_url=_ec2_console(finding, "ReservedInstances:"),
            note="Renew only the part in use; compare a savings plan before buying.",
        )
    return Remediation(
        change=f"Renew savings plan {_text(finding.get('resource_id'))} before "
        f"{expires or 'it expires'}",
        cli="aws savingsplans describe-savings-plans --savings-plan-ids "
        f"{_q(finding.get('resource_id'))}",
        terraform=None,
        console_url=f"https://{AWS_CONSOLE}/costmanagement/home#/savings-plans/inventory",
        note="A savings plan does not renew itself: queue a purchase for the day it ends.",
    )


def _recover(finding: Finding) -> Remediation:
    figures = _figures(finding)
    mechanism = _text(figures.get("mechanism"))
    resource = _text(finding.get("resource_id"))
    region = _region_flag(finding)
    count = _number(_dig(figures, "commitment", "instance_count"))
    utilization = _number(figures.get("utilization"))
    unused = (
        str(max(1, math.floor(count * (1 - utilization))))
        if count is not None and utilization is not None and utilization < 1
        else "<count>"
    )
    proceeds = _number(figures.get("sale_proceeds_once"))
    fee = _number(figures.get("marketplace_fee")) or 0.0
    # The listing asks an upfront price; the buyer's payment less the fee is the proceeds.
    price = (
        f"{proceeds / (1 - fee):.2f}"
        if proceeds is not None and proceeds > 0 and fee < 1
        else "<upfront-price>"
    )
    if mechanism == "sell":
        return Remediation(
            change=f"Sell the unused {unused} of reservation {resource} on the Reserved "
            f"Instance Marketplace",
            cli=f"aws ec2 create-reserved-instances-listing{region} "
            f"--reserved-instances-id {_q(resource)} --instance-count {_q(unused)} "
            f"--price-schedules CurrencyCode=USD,Price={price},Term=<months-left> "
            f"--client-token {_q('costscan-' + resource)}",
            terraform=None,
            console_url=_ec2_console(finding, "ReservedInstances:"),
            note="The Marketplace takes a 12% fee of the upfront price; the listing needs a "
            "US bank account registered as a seller.",
        )
    if mechanism == "exchange":
        return Remediation(
            change=f"Exchange the unused part of convertible reservation {resource} for "
            f"types the account runs",
            cli=f"aws ec2 get-reserved-instances-exchange-quote{region} "
            f"--reserved-instance-ids {_q(resource)} "
            "--target-configurations OfferingId=<offering-id>,InstanceCount=<count>",
            terraform=None,
            console_url=_ec2_console(finding, "ReservedInstances:"),
        )
    return _investigate_commitment(finding)


def _investigate_commitment(finding: Finding) -> Remediation:
    kind = _text(finding.get("resource_type"))
    figures = _figures(finding)
    start = _text(_dig(figures, "measured", "period_start"))
    end = _text(_dig(figures, "measured", "period_end"))
    period = f"Start={start},End={end}" if start and end else "Start=<yyyy-mm-dd>,End=<yyyy-mm-dd>"
    if kind == "savings_plan":
        cli = f"aws ce get-savings-plans-utilization-details --time-period {_q(period)}"
        console = f"https://{AWS_CONSOLE}/costmanagement/home#/savings-plans/utilization"
    else:
        cli = f"aws ce get-reservation-utilization --time-period {_q(period)} --granularity DAILY"
        console = f"https://{AWS_CONSOLE}/costmanagement/home#/reservations/utilization"
    return Remediation(
        change=f"Put usage on {_label(finding)}, or commit less when it renews",
        cli=cli,
        terraform=None,
        console_url=console,
        note="Move matching instances (same family and region) onto the commitment first.",
    )


# --------------------------------------------------------------------------- storage


def _modify_volume(volume_type: str) -> Builder:
    def build(finding: Finding) -> Remediation:
        figures = _figures(finding)
        region = _region_flag(finding)
        options = f"--volume-type {volume_type}"
        hcl = [f'type = "{volume_type}"']
        if _grouped(finding):
            # Each member keeps gp3's baseline, or its own IOPS for io2: the example's
            # figures are one volume's, not every member's.
            pass
        else:
            iops = _number(figures.get("iops"))
            throughput = _number(figures.get("gp3_throughput_mbps"))
            if volume_type == "gp3" and iops is None:
                baseline = _number(figures.get("gp2_baseline_iops"))
                iops = max(3000.0, baseline) if baseline is not None else None
                gp2_mbps = _number(figures.get("gp2_baseline_throughput_mbps"))
                throughput = max(125.0, gp2_mbps) if gp2_mbps is not None else None
            if iops is not None:
                options += f" --iops {round(iops)}"
                hcl.append(f"iops = {round(iops)}")
            if throughput is not None and volume_type == "gp3":
                options += f" --throughput {round(throughput)}"
                hcl.append(f"throughput = {round(throughput)}")
        current = _text(finding.get("policy_id")).split(".")[-1].split("-to-")[0] or "the volume"
        return Remediation(
            change=f"Change {_label(finding)} from {current} to {volume_type}",
            cli=_loop(
                finding,
                "volume",
                lambda v: f"aws ec2 modify-volume{region} --volume-id {v} " + options,
            ),
            terraform="aws_ebs_volume: " + ", ".join(hcl),
            console_url=_volume_console(finding),
            note="An online change (Elastic Volumes): no detach, no downtime; a volume "
            "changes again only after six hours."
            + (
                " Members keep gp3's baseline (3,000 IOPS, 125 MB/s): give --iops and "
                "--throughput to any whose gp2 baseline was higher."
                if _grouped(finding) and volume_type == "gp3"
                else ""
            ),
        )

    return build


def _delete_volume(finding: Finding) -> Remediation:
    figures = _figures(finding)
    region = _region_flag(finding)
    snapshot = figures.get("snapshot_before_delete") is not False

    def body(volume: str) -> str:
        delete = f"aws ec2 delete-volume{region} --volume-id {volume}"
        if not snapshot:
            return delete
        return AND.join(
            (
                f"snapshot=$(aws ec2 create-snapshot{region} --volume-id {volume} "
                "--description 'costscan: before deleting the volume' "
                "--query SnapshotId --output text)",
                f'aws ec2 wait snapshot-completed{region} --snapshot-ids "$snapshot"',
                delete,
            )
        )

    first = "Snapshot and delete" if snapshot else "Delete"
    return Remediation(
        change=f"{first} {_label(finding)}",
        cli=_loop(finding, "volume", body),
        terraform="delete the aws_ebs_volume resource (and its aws_volume_attachment)",
        console_url=_volume_console(finding),
        note="A deleted volume does not come back; the snapshot does.",
    )


def _delete_snapshot(finding: Finding) -> Remediation:
    region = _region_flag(finding)
    console = (
        _ec2_console(finding, "Snapshots:")
        if _grouped(finding)
        else _ec2_console(
            finding, "SnapshotDetails:snapshotId=" + quote(_text(finding.get("resource_id")), "")
        )
    )
    return Remediation(
        change=f"Delete snapshot {_label(finding)} (or archive it)",
        cli=_loop(
            finding,
            "snapshot",
            lambda s: (
                f"aws ec2 delete-snapshot{region} --snapshot-id {s}"
                f"  # or: aws ec2 modify-snapshot-tier{region} --snapshot-id {s} "
                "--storage-tier archive"
            ),
        ),
        terraform="delete the aws_ebs_snapshot resource",
        console_url=console,
        note="A deleted snapshot does not come back.",
    )


def _s3_console(finding: Finding) -> str:
    bucket = quote(_text(finding.get("resource_id")), safe="")
    region = _region(finding)
    suffix = f"?region={quote(region, safe='')}&tab=management" if region else "?tab=management"
    return f"https://s3.{AWS_CONSOLE}/s3/buckets/{bucket}{suffix}"


def _lifecycle(finding: Finding) -> Remediation:
    figures = _figures(finding)
    bucket = _text(finding.get("resource_id"))
    policy_id = _text(finding.get("policy_id"))
    rules: list[dict[str, Any]] = []
    target = _text(figures.get("chosen_target"))
    days = _number(figures.get("transition_days"))
    smallest = _number(figures.get("min_billable_object_bytes"))
    parts = []
    if target and days is not None and policy_id != "storage.incomplete-multipart-uploads":
        rule: dict[str, Any] = {
            "ID": "costscan-tiering",
            "Status": "Enabled",
            "Filter": {"ObjectSizeGreaterThan": int(smallest)} if smallest else {},
            "Transitions": [{"Days": int(days), "StorageClass": target}],
        }
        rules.append(rule)
        parts.append(f"move Standard objects to {target} after {int(days)} days")
    uploads = _number(figures.get("incomplete_upload_bytes")) or 0
    abort_days = 7
    if uploads > 0 or policy_id != "storage.standard-tiering":
        rules.append(
            {
                "ID": "costscan-abort-incomplete-uploads",
                "Status": "Enabled",
                "Filter": {},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": abort_days},
            }
        )
        parts.append(f"abort incomplete uploads after {abort_days} days")
    configuration = json.dumps({"Rules": rules}, separators=(",", ":"))
    cli = (
        f"aws s3api get-bucket-lifecycle-configuration --bucket {_q(bucket)}  "
        "# keep the rules it has\n"
        f"aws s3api put-bucket-lifecycle-configuration --bucket {_q(bucket)} "
        f"--lifecycle-configuration {_q(configuration)}"
    )
    hcl = "aws_s3_bucket_lifecycle_configuration.rule"
    if target and days is not None:
        hcl += f' {{ transition {{ days = {int(days)}, storage_class = "{target}" }} }}'
    return Remediation(
        change=f"Add a lifecycle rule to bucket {_label(finding)}: " + " and ".join(parts),
        cli=cli,
        terraform=hcl,
        console_url=_s3_console(finding),
        note="put-bucket-lifecycle-configuration replaces every rule the bucket has: "
        "add the bucket's current rules (the first command prints them) to the list.",
    )


# --------------------------------------------------------------------------- network


def _release_address(finding: Finding) -> Remediation:
    region = _region_flag(finding)
    resource = _text(finding.get("resource_id"))
    return Remediation(
        change=f"Release Elastic IP {_label(finding)}",
        cli=_loop(
            finding, "allocation", lambda a: f"aws ec2 release-address{region} --allocation-id {a}"
        ),
        terraform="delete the aws_eip resource",
        console_url=_ec2_console(
            finding, "ElasticIpDetails:AllocationId=" + quote(resource, safe="")
        ),
        note="A released address is gone for good: check DNS records and allow-lists first.",
    )


def _delete_load_balancer(finding: Finding) -> Remediation:
    region = _region_flag(finding)
    resource = _text(finding.get("resource_id"))
    return Remediation(
        change=f"Delete load balancer {_label(finding)}",
        cli=f"aws elbv2 delete-load-balancer{region} --load-balancer-arn {_q(resource)}",
        terraform="delete the aws_lb resource (and its aws_lb_target_group and listeners)",
        console_url=_ec2_console(
            finding, "LoadBalancer:loadBalancerArn=" + quote(resource, safe="")
        ),
        note="Clients resolving its DNS name fail afterwards.",
    )


def _vpc_console(finding: Finding, fragment: str) -> str | None:
    region = _region(finding)
    if region is None:
        return None
    r = quote(region, safe="")
    return f"https://{r}.{AWS_CONSOLE}/vpcconsole/home?region={r}#{fragment}"


def _delete_nat_gateway(finding: Finding) -> Remediation:
    region = _region_flag(finding)
    resource = _text(finding.get("resource_id"))
    return Remediation(
        change=f"Delete NAT gateway {_label(finding)}",
        cli=f"aws ec2 delete-nat-gateway{region} --nat-gateway-id {_q(resource)}",
        terraform="delete the aws_nat_gateway resource (and the routes through it)",
        console_url=_vpc_console(finding, "NatGatewayDetails:natGatewayId=" + quote(resource, "")),
        note="Release its Elastic IP afterwards, or the address bills on its own.",
    )


def _gateway_endpoint(finding: Finding) -> Remediation:
    figures = _figures(finding)
    resource = _text(finding.get("resource_id"))
    region_name = _region(finding) or "<region>"
    region = _region_flag(finding)
    services = [
        name
        for name, present in (
            ("s3", figures.get("has_s3_endpoint")),
            ("dynamodb", figures.get("has_dynamodb_endpoint")),
        )
        if present is not True
    ] or ["s3"]
    lines = [
        f"vpc=$(aws ec2 describe-nat-gateways{region} --nat-gateway-ids {_q(resource)} "
        "--query 'NatGateways[0].VpcId' --output text)",
        f"tables=$(aws ec2 describe-route-tables{region} --filters "
        "\"Name=vpc-id,Values=$vpc\" --query 'RouteTables[].RouteTableId' --output text)",
    ]
    lines += [
        f'aws ec2 create-vpc-endpoint{region} --vpc-id "$vpc" --vpc-endpoint-type Gateway '
        f"--service-name {_q(f'com.amazonaws.{region_name}.{service}')} "
        "--route-table-ids $tables"
        for service in services
    ]
    return Remediation(
        change=f"Add {' and '.join(s.upper() if s == 's3' else 'DynamoDB' for s in services)} "
        f"gateway endpoints beside NAT gateway {_label(finding)}",
        cli="\n".join(lines),
        terraform='aws_vpc_endpoint: vpc_endpoint_type = "Gateway", route_table_ids = [...]',
        console_url=_vpc_console(finding, "Endpoints:"),
        note="Gateway endpoints are free; traffic to S3 and DynamoDB then skips the NAT "
        "gateway's per-GB charge.",
    )


def _cloudfront_console(finding: Finding) -> str:
    resource = quote(_text(finding.get("resource_id")), safe="")
    return f"https://us-east-1.{AWS_CONSOLE}/cloudfront/v4/home#/distributions/{resource}"


def _distribution_update(setting: str, hcl: str, change: str) -> Builder:
    def build(finding: Finding) -> Remediation:
        resource = _text(finding.get("resource_id"))
        return Remediation(
            change=f"{change} on CloudFront distribution {_label(finding)}",
            cli=(
                f"aws cloudfront get-distribution-config --id {_q(resource)} > dist.json\n"
                f"# edit DistributionConfig in dist.json: {setting}\n"
                f"aws cloudfront update-distribution --id {_q(resource)} "
                '--if-match "$(jq -r .ETag dist.json)" '
                '--distribution-config "$(jq .DistributionConfig dist.json)"'
            ),
            terraform=hcl,
            console_url=_cloudfront_console(finding),
        )

    return build


def _cdn(finding: Finding) -> Remediation:
    origin = _text(finding.get("resource_name")) or _text(finding.get("resource_id"))
    if origin.startswith("arn:aws:s3:::"):
        origin = origin.removeprefix("arn:aws:s3:::").split("/", 1)[0] + ".s3.amazonaws.com"
    return Remediation(
        change=f"Serve {origin} through CloudFront",
        cli=f"aws cloudfront create-distribution --origin-domain-name {_q(origin)}"
        "  # the origin's domain name, e.g. BUCKET.s3.amazonaws.com",
        terraform="aws_cloudfront_distribution: origin { domain_name = ... }, "
        "default_cache_behavior { compress = true }",
        console_url=f"https://us-east-1.{AWS_CONSOLE}/cloudfront/v4/home#/distributions/create",
        note="Point clients at the distribution's domain; origin fetches from AWS are free.",
    )


# --------------------------------------------------------------------------- observability


def _log_group_name(finding: Finding) -> str:
    """The log group's name: its ARN's ``log-group:`` part (without a trailing ``:*``)."""
    resource = _text(finding.get("resource_id"))
    if resource.startswith("arn:") and ":log-group:" in resource:
        return resource.split(":log-group:", 1)[1].removesuffix(":*")
    return _text(finding.get("resource_name")) or resource


def _log_console(finding: Finding) -> str | None:
    region = _region(finding)
    name = _log_group_name(finding)
    if region is None or not name:
        return None
    # The console's fragment encodes a log group name twice, writing "%" as "$25".
    encoded = quote(name, safe="").replace("%", "$25")
    r = quote(region, safe="")
    return (
        f"https://{r}.{AWS_CONSOLE}/cloudwatch/home?region={r}"
        f"#logsV2:log-groups/log-group/{encoded}"
    )


def _log_retention(finding: Finding) -> Remediation:
    figures = _figures(finding)
    days = _int_text(figures.get("retention_days")) or "30"
    name = _log_group_name(finding)
    region = _region_flag(finding)
    return Remediation(
        change=f"Keep log group {name} for {days} days",
        cli=f"aws logs put-retention-policy{region} --log-group-name {_q(name)} "
        f"--retention-in-days {_q(days)}",
        terraform=f"aws_cloudwatch_log_group.retention_in_days = {days}",
        console_url=_log_console(finding),
        note="Logs older than that are deleted: export them to S3 first if they must be kept.",
    )


def _log_ingestion(finding: Finding) -> Remediation:
    name = _log_group_name(finding)
    region = _region_flag(finding)
    return Remediation(
        change=f"Log less to {name}: sample or drop debug and per-request lines",
        cli=f"aws logs describe-log-groups{region} --log-group-name-prefix {_q(name)} "
        "--query 'logGroups[0].[storedBytes,logGroupClass]'  # the change is in the "
        "application's log level",
        terraform=None,
        console_url=_log_console(finding),
    )


def _metric_cardinality(finding: Finding) -> Remediation:
    figures = _figures(finding)
    dimension = _text(figures.get("dimension"))
    metric = _text(finding.get("resource_id"))
    namespace, _, name = metric.rpartition("/")
    region = _region(finding)
    console = None
    if region:
        r = quote(region, safe="")
        console = (
            f"https://{r}.{AWS_CONSOLE}/cloudwatch/home?region={r}#metricsV2:graph=~();"
            f"namespace={quote(namespace, safe='')}"
        )
    return Remediation(
        change=f"Drop the {dimension or 'high-cardinality'} dimension from metric {metric}",
        cli=f"aws cloudwatch list-metrics --namespace {_q(namespace)} --metric-name {_q(name)} "
        "--query 'length(Metrics)'  # the change is in the code that publishes it",
        terraform=None,
        console_url=console,
    )


# --------------------------------------------------------------------------- fallbacks


def _investigate(finding: Finding) -> Remediation:
    return Remediation(
        change=f"Look into {_label(finding)}: {_text(finding.get('title'))}",
        cli=None,
        terraform=None,
        console_url=f"https://{AWS_CONSOLE}/costmanagement/home#/cost-explorer",
    )


def _tag_spend(finding: Finding) -> Remediation:
    figures = _figures(finding)
    tags = [t for t in figures.get("required_tags") or [] if isinstance(t, str)]
    return Remediation(
        change=f"Tag the untagged resources behind {_label(finding)} with "
        f"{', '.join(tags) or 'the required tags'}",
        cli="aws resourcegroupstaggingapi get-resources --query "
        "'ResourceTagMappingList[].[ResourceARN, Tags[].Key]' --output text"
        "  # then: aws resourcegroupstaggingapi tag-resources --resource-arn-list ARN ... "
        "--tags KEY=VALUE",
        terraform='provider "aws" { default_tags { tags = { ... } } }',
        console_url=f"https://{AWS_CONSOLE}/resource-groups/tag-editor/find-resources",
        note="A tag policy or an AWS Config rule keeps new resources tagged.",
    )


def _billed_idle(finding: Finding) -> Remediation:
    """A resource a billing export shows idle: its ARN says what it is."""
    resource = _text(finding.get("resource_id"))
    short = resource.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    if ":instance/" in resource and short.startswith("i-"):
        return _stop_instance({**finding, "resource_id": short})
    if ":loadbalancer/" in resource:
        return _delete_load_balancer(finding)
    if ":natgateway/" in resource:
        return _delete_nat_gateway({**finding, "resource_id": short})
    if ":volume/" in resource:
        return _delete_volume({**finding, "resource_id": short})
    return _fallback(finding)


def _fallback(finding: Finding) -> Remediation:
    """A policy without its own builder: the recommendation, and the console."""
    recommendation = _text(finding.get("recommendation"))
    title = _text(finding.get("title"))
    change = recommendation if 0 < len(recommendation) <= 140 else f"{title}: {_label(finding)}"
    console = None
    if _text(finding.get("provider")) in ("aws", ""):
        console = f"https://{AWS_CONSOLE}/costmanagement/home#/cost-explorer"
    return Remediation(change=change, console_url=console)


# --------------------------------------------------------------------------- GCP

GCP_CONSOLE = "https://console.cloud.google.com"
_DAYS = {"Mon": "MON", "Tue": "TUE", "Wed": "WED", "Thu": "THU", "Fri": "FRI", "Sat": "SAT",
         "Sun": "SUN"}  # fmt: skip


@dataclass(frozen=True)
class _GcpPath:
    """A Compute Engine resource path: projects/P/zones/Z/instances/NAME (or regions/R,
    or global)."""

    project: str
    location_kind: str  # zones | regions | global
    location: str
    name: str


def _gcp_path(finding: Finding) -> _GcpPath:
    parts = _text(finding.get("resource_id")).split("/")
    project = _text(finding.get("account_id"))
    kind, location = "", ""
    if len(parts) >= 2 and parts[0] == "projects":
        project = parts[1]
    if len(parts) >= 4 and parts[2] in ("zones", "regions"):
        kind, location = parts[2], parts[3]
    elif len(parts) >= 3 and parts[2] == "global":
        kind = "global"
    name = _text(finding.get("resource_name")) or parts[-1]
    return _GcpPath(project, kind, location, parts[-1] or name)


def _gcp_where(path: _GcpPath) -> str:
    flag = {"zones": "--zone", "regions": "--region"}.get(path.location_kind)
    where = f" {flag} {_q(path.location)}" if flag and path.location else ""
    return where + f" --project {_q(path.project)}"


def _gcp_console(page: str, path: _GcpPath) -> str:
    return f"{GCP_CONSOLE}/{page}?project={quote(path.project, safe='')}"


def _gce_instance_console(path: _GcpPath) -> str:
    return _gcp_console(
        f"compute/instancesDetail/zones/{quote(path.location, safe='')}/instances/"
        f"{quote(path.name, safe='')}",
        path,
    )


def _gcp_stop(finding: Finding) -> Remediation:
    path = _gcp_path(finding)
    return Remediation(
        change=f"Stop {path.name}: idle over the lookback",
        cli=f"gcloud compute instances stop {_q(path.name)}{_gcp_where(path)}"
        "  # delete it once nobody misses it",
        terraform="delete the google_compute_instance resource",
        console_url=_gce_instance_console(path),
        note="A stopped VM still bills its persistent disks and static addresses.",
    )


def _gcp_resize(finding: Finding) -> Remediation:
    path = _gcp_path(finding)
    figures = _figures(finding)
    current = _text(_dig(figures, "current", "instance_type"))
    wanted = _text(_dig(figures, "candidate", "instance_type")) or _text(
        _dig(figures, "next_size", "instance_type")
    )
    if not wanted:
        return _fallback(finding)
    where = _gcp_where(path)
    name = _q(path.name)
    return Remediation(
        change=f"Resize {path.name} from {current} to {wanted}"
        if current
        else f"Resize {path.name} to {wanted}",
        cli=AND.join(
            (
                f"gcloud compute instances stop {name}{where}",
                f"gcloud compute instances set-machine-type {name} "
                f"--machine-type {_q(wanted)}{where}",
                f"gcloud compute instances start {name}{where}",
            )
        ),
        terraform=f"google_compute_instance.machine_type = {json.dumps(wanted)}  "
        "# with allow_stopping_for_update = true",
        console_url=_gce_instance_console(path),
        note="Stops and starts the VM: plan a maintenance window.",
    )


def _gcp_arm(finding: Finding) -> Remediation:
    """An x86 VM cannot switch to an Arm machine type in place: its boot image is x86."""
    path = _gcp_path(finding)
    figures = _figures(finding)
    current = _text(_dig(figures, "current", "instance_type"))
    wanted = _text(_dig(figures, "candidate", "instance_type")) or "an Arm machine type"
    return Remediation(
        change=f"Rebuild {path.name} on {wanted} (Arm)"
        + (f" instead of {current}" if current else ""),
        cli=f"gcloud compute instances create {_q(path.name + '-arm')} --machine-type "
        f"{_q(wanted)} --image-family IMAGE_FAMILY-arm64 --image-project IMAGE_PROJECT"
        f"{_gcp_where(path)}",
        terraform=f"google_compute_instance.machine_type = {json.dumps(wanted)}  "
        "# with an arm64 boot image",
        console_url=_gce_instance_console(path),
        note="Needs arm64 builds of the software and an arm64 image (replace IMAGE_FAMILY "
        "and IMAGE_PROJECT); move the traffic, then delete the x86 VM.",
    )


def _gcp_schedule(finding: Finding) -> Remediation:
    """An instance schedule (a resource policy) from the window the finding derived."""
    import re

    path = _gcp_path(finding)
    window = _text(_dig(_figures(finding), "window", "schedule"))
    match = re.fullmatch(r"(\w{3})-(\w{3}) (\d{2}):(\d{2})-(\d{2}):(\d{2}) UTC", window)
    region = path.location.rsplit("-", 1)[0] if path.location_kind == "zones" else path.location
    if match and match.group(1) in _DAYS and match.group(2) in _DAYS:
        days = f"{_DAYS[match.group(1)]}-{_DAYS[match.group(2)]}"
        start = f"{int(match.group(4))} {int(match.group(3))} * * {days}"
        stop = f"{int(match.group(6))} {int(match.group(5))} * * {days}"
    else:
        start, stop = "0 7 * * MON-FRI", "0 19 * * MON-FRI"
    policy = "costscan-office-hours"
    return Remediation(
        change=f"Run {path.name} only {window or 'office hours'}",
        cli=AND.join(
            (
                f"gcloud compute resource-policies create instance-schedule {policy} "
                f"--region {_q(region)} --project {_q(path.project)} "
                f"--vm-start-schedule {_q(start)} --vm-stop-schedule {_q(stop)} --timezone UTC",
                f"gcloud compute instances add-resource-policies {_q(path.name)} "
                f"--resource-policies {policy}{_gcp_where(path)}",
            )
        ),
        terraform="google_compute_resource_policy.instance_schedule_policy "
        f'{{ vm_start_schedule {{ schedule = "{start}" }}, '
        f'vm_stop_schedule {{ schedule = "{stop}" }} }}',
        console_url=_gce_instance_console(path),
        note="The Compute Engine service agent needs compute.instances.start and stop on "
        "the VM for the schedule to act.",
    )


def _gcp_delete_disk(finding: Finding) -> Remediation:
    path = _gcp_path(finding)
    where = _gcp_where(path)
    name = _q(path.name)
    snapshot = _q(f"{path.name}-before-delete"[:63])
    return Remediation(
        change=f"Snapshot and delete disk {path.name}",
        cli=AND.join(
            (
                f"gcloud compute snapshots create {snapshot} --source-disk {name} "
                f"--source-disk-zone {_q(path.location)} --project {_q(path.project)}",
                f"gcloud compute disks delete {name}{where} --quiet",
            )
        ),
        terraform="delete the google_compute_disk resource (and its attachment)",
        console_url=_gcp_console(
            f"compute/disksDetail/zones/{quote(path.location, safe='')}/disks/"
            f"{quote(path.name, safe='')}",
            path,
        ),
        note="A deleted disk does not come back; the snapshot does.",
    )


def _gcp_pd_balanced(finding: Finding) -> Remediation:
    """A Persistent Disk's type does not change in place: snapshot, a pd-balanced disk from
    the snapshot, then the swap on the instance (named in the evidence)."""
    path = _gcp_path(finding)
    where = _gcp_where(path)
    snapshot = _q(f"{path.name}-to-balanced"[:63])
    balanced = f"{path.name}-balanced"[:63]
    new_disk = _q(balanced)
    instance = _text(_figures(finding).get("attached_to")).rsplit("/", 1)[-1]
    return Remediation(
        change=f"Replace pd-ssd disk {path.name} with a pd-balanced copy",
        cli=AND.join(
            (
                f"gcloud compute snapshots create {snapshot} --source-disk {_q(path.name)} "
                f"--source-disk-zone {_q(path.location)} --project {_q(path.project)}",
                f"gcloud compute disks create {new_disk} --type pd-balanced "
                f"--source-snapshot {snapshot}{where}",
            )
        ),
        terraform='google_compute_disk.type = "pd-balanced"  # replaces the disk: restore '
        "it from a snapshot first",
        console_url=_gcp_console(
            f"compute/disksDetail/zones/{quote(path.location, safe='')}/disks/"
            f"{quote(path.name, safe='')}",
            path,
        ),
        note=f"Then detach {path.name} from {instance or 'its instance'} and attach "
        f"{balanced} under the same device name (a boot disk needs the VM "
        "stopped); delete the pd-ssd disk once the workload is checked.",
    )


def _log_bucket(finding: Finding) -> tuple[str, str, str]:
    """(project, location, bucket id) of ``projects/P/locations/L/buckets/B``."""
    parts = _text(finding.get("resource_id")).split("/")
    if len(parts) >= 6 and parts[0] == "projects" and parts[2] == "locations":
        return parts[1], parts[3], parts[5]
    return _text(finding.get("account_id")), "global", parts[-1]


def _gcp_log_retention(finding: Finding) -> Remediation:
    project, location, bucket = _log_bucket(finding)
    days = _number(_figures(finding).get("target_retention_days")) or 30
    return Remediation(
        change=f"Keep logs {round(days)} days in log bucket {bucket}",
        cli=f"gcloud logging buckets update {_q(bucket)} --location {_q(location)} "
        f"--retention-days {round(days)} --project {_q(project)}",
        terraform=f"google_logging_project_bucket_config.retention_days = {round(days)}",
        console_url=f"{GCP_CONSOLE}/logs/storage?project={quote(project, safe='')}",
        note="Logs past the new retention are deleted: route what must be kept to a Cloud "
        "Storage bucket first. A locked bucket's retention cannot be shortened.",
    )


def _gcp_log_ingestion(finding: Finding) -> Remediation:
    project, _location, bucket = _log_bucket(finding)
    # The _Default sink feeds the _Default bucket; another bucket's sinks are the user's own.
    sink = "_Default" if bucket == "_Default" else "SINK"
    return Remediation(
        change=f"Exclude debug and per-request logs from log bucket {bucket}",
        cli=f"gcloud logging sinks update {sink} --project {_q(project)} "
        "--add-exclusion=name=costscan-drop-debug,filter='severity<=DEBUG'",
        terraform='google_logging_project_sink.exclusions { filter = "severity<=DEBUG" }',
        console_url=f"{GCP_CONSOLE}/logs/router?project={quote(project, safe='')}",
        note="Check the filter in the Logs Explorer first: excluded entries are not stored."
        + ("" if sink == "_Default" else " Replace SINK with the sink routing to the bucket."),
    )


def _gcp_metric_cardinality(finding: Finding) -> Remediation:
    """A Cloud Monitoring metric type: Prometheus labels drop at scrape time; a custom
    metric's label is the writer's to drop."""
    metric = _text(finding.get("resource_name"))
    label = _text(_figures(finding).get("dimension")) or "the high-cardinality label"
    project = _text(finding.get("account_id"))
    prometheus = metric.startswith("prometheus.googleapis.com/")
    return Remediation(
        change=f"Drop the {label} label from metric {metric}",
        cli=None,
        terraform=(
            "PodMonitoring.spec.endpoints[].metricRelabeling: "
            f'[{{action: labeldrop, regex: "{label}"}}]'
            if prometheus
            else None
        ),
        console_url=f"{GCP_CONSOLE}/monitoring/metrics-explorer?project={quote(project, safe='')}",
        note="Managed Prometheus drops it at scrape time (metricRelabeling)."
        if prometheus
        else "The label is written by the code that sends the metric: drop or bucket it there.",
    )


def _gcp_delete_snapshot(finding: Finding) -> Remediation:
    path = _gcp_path(finding)
    return Remediation(
        change=f"Delete snapshot {path.name}",
        cli=f"gcloud compute snapshots delete {_q(path.name)} --project {_q(path.project)} --quiet",
        terraform="delete the google_compute_snapshot resource",
        console_url=_gcp_console(
            f"compute/snapshotsDetail/projects/{quote(path.project, safe='')}/global/"
            f"snapshots/{quote(path.name, safe='')}",
            path,
        ),
        note="A deleted snapshot does not come back.",
    )


def _gcp_release_address(finding: Finding) -> Remediation:
    path = _gcp_path(finding)
    return Remediation(
        change=f"Release static address {_text(finding.get('resource_name')) or path.name}",
        cli=f"gcloud compute addresses delete {_q(path.name)}{_gcp_where(path)} --quiet",
        terraform="delete the google_compute_address resource",
        console_url=_gcp_console("networking/addresses/list", path),
        note="A released address is gone for good: check DNS records and allow-lists first.",
    )


def _gcs_lifecycle(finding: Finding) -> Remediation:
    figures = _figures(finding)
    bucket = _text(finding.get("resource_id")).removeprefix("gs://")
    project = _text(finding.get("account_id"))
    target = _text(figures.get("chosen_target")) or "NEARLINE"
    days = int(_number(figures.get("transition_days")) or 30)
    rules = {
        "rule": [
            {
                "action": {"type": "SetStorageClass", "storageClass": target},
                "condition": {"age": days, "matchesStorageClass": ["STANDARD"]},
            },
            {
                "action": {"type": "AbortIncompleteMultipartUpload"},
                "condition": {"age": 7},
            },
        ]
    }
    return Remediation(
        change=f"Add a lifecycle rule to bucket {bucket}: move Standard objects to {target} "
        f"after {days} days (or turn on Autoclass)",
        cli=AND.join(
            (
                f"printf '%s' {_q(json.dumps(rules, separators=(',', ':')))} > lifecycle.json",
                f"gcloud storage buckets update {_q('gs://' + bucket)} "
                "--lifecycle-file lifecycle.json"
                + (f" --project {_q(project)}" if project else ""),
            )
        ),
        terraform=f'google_storage_bucket.lifecycle_rule {{ action {{ type = "SetStorageClass", '
        f'storage_class = "{target}" }}, condition {{ age = {days} }} }}',
        console_url=f"{GCP_CONSOLE}/storage/browser/{quote(bucket, safe='')};tab=lifecycle"
        + (f"?project={quote(project, safe='')}" if project else ""),
        note="--lifecycle-file replaces every rule the bucket has: add its current rules "
        "(gcloud storage buckets describe) to the file.",
    )


def _gcp_buy_cud(finding: Finding) -> Remediation:
    """A 1-year CUD sized to the steady members: its vCPUs and memory are the reader's sum."""
    path = _gcp_path(finding)
    region = _text(finding.get("region")) or path.location
    figures = _figures(finding)
    series = _text(_dig(figures, "price", "instance_type")).split("-", 1)[0] or "SERIES"
    return Remediation(
        change=_text(finding.get("recommendation")) or f"Buy a 1-year CUD in {region}",
        cli=f"gcloud compute commitments create costscan-{series}-{region} "
        f"--region {_q(region)} --plan 12-month --type {_q(_CUD_TYPES.get(series, series))} "
        f"--resources vcpu=VCPUS,memory=MEMORY --project {_q(path.project)}",
        terraform='google_compute_region_commitment { plan = "TWELVE_MONTH" ... }',
        console_url=_gcp_console("compute/commitments", path),
        note="A CUD cannot be cancelled: size VCPUS and MEMORY to what the listed VMs use "
        "all month, not to their peak.",
    )


def _gcp_review_cud(finding: Finding) -> Remediation:
    path = _gcp_path(finding)
    return Remediation(
        change=_text(finding.get("recommendation")) or f"Use or share {path.name}",
        cli=f"gcloud compute commitments describe {_q(path.name)}{_gcp_where(path)}",
        console_url=_gcp_console("compute/commitments", path),
        note="A CUD cannot be cancelled or sold: move matching usage onto it, or share it "
        "across the billing account's projects.",
    )


def _gcp_review_advice(finding: Finding) -> Remediation:
    path = _gcp_path(finding)
    advice = _figures(finding).get("provider_advice")
    advice = advice if isinstance(advice, Mapping) else {}
    recommender = _text(advice.get("recommender"))
    recommendation = _text(advice.get("recommendation"))
    location = path.location or _text(finding.get("region")) or "global"
    cli = None
    if recommender and recommendation:
        cli = (
            f"gcloud recommender recommendations describe {_q(recommendation.rsplit('/', 1)[-1])}"
            f" --recommender {_q(recommender)} --location {_q(location)}"
            f" --project {_q(path.project)}"
        )
    return Remediation(
        change=f"Review Google's advice on {_label(finding)}",
        cli=cli,
        console_url=_gcp_console("home/recommendations", path),
        note="costscan counts no saving for it: check it against the resource's use.",
    )


# The --type a commitment needs for each machine series (general-purpose is the default).
_CUD_TYPES = {"n2": "general-purpose-n2", "n2d": "general-purpose-n2d",
              "e2": "general-purpose-e2", "n1": "general-purpose",
              "t2d": "general-purpose-t2d", "c2": "compute-optimized"}  # fmt: skip


GCP_BUILDERS: dict[str, Builder] = {
    "rightsizing.idle": _gcp_stop,
    "rightsizing.overprovisioned": _gcp_resize,
    "rightsizing.previous-generation": _gcp_resize,
    "rightsizing.underprovisioned": _gcp_resize,
    "rightsizing.gcp-arm": _gcp_arm,
    "scheduling.offhours": _gcp_schedule,
    "storage.unattached-volume": _gcp_delete_disk,
    "storage.stopped-instance-volume": _gcp_delete_disk,
    "storage.stale-snapshot": _gcp_delete_snapshot,
    "network.unused-static-address": _gcp_release_address,
    "storage.gcs-bucket-without-lifecycle": _gcs_lifecycle,
    "storage.pd-ssd-to-pd-balanced": _gcp_pd_balanced,
    "observability.gcp-log-retention": _gcp_log_retention,
    "observability.gcp-log-ingestion": _gcp_log_ingestion,
    "observability.metric-cardinality": _gcp_metric_cardinality,
    "commitments.gcp-cud-purchase": _gcp_buy_cud,
    "commitments.gcp-unused-cud": _gcp_review_cud,
    "rightsizing.google-recommender": _gcp_review_advice,
    "storage.google-recommender": _gcp_review_advice,
    "network.google-recommender": _gcp_review_advice,
    "commitments.google-recommender": _gcp_review_advice,
}


# --------------------------------------------------------------------------- Azure

AZURE_PORTAL = "https://portal.azure.com"


def _azure_id(finding: Finding) -> str:
    return _text(finding.get("resource_id"))


def _azure_portal(finding: Finding) -> str:
    """The resource's own blade: the portal opens any ARM id under #resource."""
    rid = _azure_id(finding)
    if rid.startswith("/"):
        return f"{AZURE_PORTAL}/#resource{quote(rid, safe='/')}"
    return f"{AZURE_PORTAL}/#view/Microsoft_Azure_Expert/AdvisorMenuBlade/~/Cost"


def _azure_name(finding: Finding) -> str:
    return _text(finding.get("resource_name")) or _azure_id(finding).rsplit("/", 1)[-1]


def _azure_deallocate(finding: Finding) -> Remediation:
    name = _azure_name(finding)
    return Remediation(
        change=f"Deallocate {name}: idle over the lookback",
        cli=f"az vm deallocate --ids {_q(_azure_id(finding))}  # delete it once nobody misses it",
        terraform="delete the azurerm_linux_virtual_machine (or _windows_) resource",
        console_url=_azure_portal(finding),
        note="A deallocated VM stops billing compute; its disks and public IPs still bill.",
    )


def _azure_resize(finding: Finding) -> Remediation:
    figures = _figures(finding)
    current = _text(_dig(figures, "current", "instance_type"))
    wanted = _text(_dig(figures, "candidate", "instance_type")) or _text(
        _dig(figures, "next_size", "instance_type")
    )
    if not wanted:
        return Remediation(change=_fallback(finding).change, console_url=_azure_portal(finding))
    name = _azure_name(finding)
    return Remediation(
        change=f"Resize {name} from {current} to {wanted}"
        if current
        else f"Resize {name} to {wanted}",
        cli=f"az vm resize --ids {_q(_azure_id(finding))} --size {_q(wanted)}",
        terraform=f"azurerm_linux_virtual_machine.size = {json.dumps(wanted)}",
        console_url=_azure_portal(finding),
        note="Resizing restarts the VM (and deallocates it when the size needs other "
        "hardware): plan a maintenance window.",
    )


def _azure_schedule(finding: Finding) -> Remediation:
    window = _text(_dig(_figures(finding), "window", "schedule"))
    name = _azure_name(finding)
    return Remediation(
        change=f"Run {name} only {window or 'office hours'}",
        cli=f"az vm auto-shutdown --ids {_q(_azure_id(finding))} --time 1900"
        "  # and start it with an Azure Automation start/stop schedule",
        terraform='azurerm_dev_test_global_vm_shutdown_schedule { daily_recurrence_time = "1900" }',
        console_url=_azure_portal(finding),
        note="Auto-shutdown deallocates; starting again needs a schedule or a person.",
    )


def _azure_delete_disk(finding: Finding) -> Remediation:
    rid = _azure_id(finding)
    name = _azure_name(finding)
    snapshot = _q(f"{name}-before-delete"[:80])
    group = (
        rid.split("/resourceGroups/", 1)[-1].split("/", 1)[0] if "/resourceGroups/" in rid else ""
    )
    return Remediation(
        change=f"Snapshot and delete disk {name}",
        cli=AND.join(
            (
                f"az snapshot create --name {snapshot} --resource-group {_q(group)} "
                f"--source {_q(rid)} --incremental true",
                f"az disk delete --ids {_q(rid)} --yes",
            )
        ),
        terraform="delete the azurerm_managed_disk resource (and its attachment)",
        console_url=_azure_portal(finding),
        note="A deleted disk does not come back; the snapshot does.",
    )


def _azure_delete_snapshot(finding: Finding) -> Remediation:
    return Remediation(
        change=f"Delete snapshot {_azure_name(finding)}",
        cli=f"az snapshot delete --ids {_q(_azure_id(finding))}",
        terraform="delete the azurerm_snapshot resource",
        console_url=_azure_portal(finding),
        note="A deleted snapshot does not come back.",
    )


def _azure_delete_public_ip(finding: Finding) -> Remediation:
    return Remediation(
        change=f"Delete public IP {_azure_name(finding)}",
        cli=f"az network public-ip delete --ids {_q(_azure_id(finding))}",
        terraform="delete the azurerm_public_ip resource",
        console_url=_azure_portal(finding),
        note="The address is given back to Azure: anything that still points at it breaks.",
    )


def _azure_blob_lifecycle(finding: Finding) -> Remediation:
    rid = _azure_id(finding)
    name = _azure_name(finding)
    group = (
        rid.split("/resourceGroups/", 1)[-1].split("/", 1)[0] if "/resourceGroups/" in rid else ""
    )
    days = _dig(_figures(finding), "transition_days") or 30
    rule = {
        "rules": [
            {
                "enabled": True,
                "name": "costscan-cool-after-30-days",
                "type": "Lifecycle",
                "definition": {
                    "filters": {"blobTypes": ["blockBlob"]},
                    "actions": {
                        "baseBlob": {"tierToCool": {"daysAfterModificationGreaterThan": days}}
                    },
                },
            }
        ]
    }
    return Remediation(
        change=f"Add a lifecycle policy to {name}: Cool after {days} days",
        cli=f"az storage account management-policy create --account-name {_q(name)} "
        f"--resource-group {_q(group)} --policy {_q(json.dumps(rule, separators=(',', ':')))}",
        terraform="azurerm_storage_management_policy { rule { actions { base_blob { "
        f"tier_to_cool_after_days_since_modification_greater_than = {days} }} }} }}",
        console_url=_azure_portal(finding),
        note="Cool bills 30 days at least and a read per GB: keep what is read often in Hot.",
    )


def _azure_delete_network(kind: str, command: str, resource: str) -> Builder:
    def build(finding: Finding) -> Remediation:
        return Remediation(
            change=f"Delete {kind} {_azure_name(finding)}",
            cli=f"az network {command} delete --ids {_q(_azure_id(finding))}",
            terraform=f"delete the {resource} resource",
            console_url=_azure_portal(finding),
            note="Check nothing routes through it first: a deletion does not come back.",
        )

    return build


def _azure_review_advice(finding: Finding) -> Remediation:
    return Remediation(
        change=f"Review Azure Advisor's advice on {_label(finding)}",
        cli=f"az advisor recommendation list --category Cost --ids {_q(_azure_id(finding))}",
        console_url=f"{AZURE_PORTAL}/#view/Microsoft_Azure_Expert/AdvisorMenuBlade/~/Cost",
        note="costscan counts no saving for it: check it against the resource's use.",
    )


AZURE_BUILDERS: dict[str, Builder] = {
    "rightsizing.idle": _azure_deallocate,
    "rightsizing.overprovisioned": _azure_resize,
    "rightsizing.previous-generation": _azure_resize,
    "rightsizing.underprovisioned": _azure_resize,
    "scheduling.offhours": _azure_schedule,
    "storage.unattached-volume": _azure_delete_disk,
    "storage.stopped-instance-volume": _azure_delete_disk,
    "storage.stale-snapshot": _azure_delete_snapshot,
    "network.unused-static-address": _azure_delete_public_ip,
    "storage.azure-blob-without-lifecycle": _azure_blob_lifecycle,
    "network.idle-nat-gateway": _azure_delete_network(
        "NAT gateway", "nat gateway", "azurerm_nat_gateway"
    ),
    "network.idle-load-balancer": _azure_delete_network("load balancer", "lb", "azurerm_lb"),
    "rightsizing.azure-advisor": _azure_review_advice,
    "storage.azure-advisor": _azure_review_advice,
    "network.azure-advisor": _azure_review_advice,
    "commitments.azure-advisor": _azure_review_advice,
}


# --------------------------------------------------------------------------- data services


def _console(finding: Finding, path: str) -> str:
    """An AWS console page of the finding's region (the global console without one)."""
    region = _region(finding)
    if region is None:
        return f"https://{AWS_CONSOLE}/{path}"
    r = quote(region, safe="")
    return f"https://{r}.{AWS_CONSOLE}/{path}?region={r}"


def _rds_console(finding: Finding) -> str:
    return (
        _console(finding, "rds/home")
        + "#database:id="
        + quote(_text(finding.get("resource_id")), safe="")
    )


def _modify_db(option: str, flag: str, hcl: str, why: str) -> Builder:
    """A DB instance modification to the class, storage or figure the evidence names."""

    def build(finding: Finding) -> Remediation:
        value = _figures(finding).get(option)
        if option and (value is None or value == ""):
            return _fallback(finding)
        text = _int_text(value) if isinstance(value, float) else _text(value)
        rendered = flag.format(_q(text)) if option else flag
        region = _region_flag(finding)
        return Remediation(
            change=f"{why.format(text)} for {_label(finding)}",
            cli=_loop(
                finding,
                "db",
                lambda db: (
                    f"aws rds modify-db-instance{region} --db-instance-identifier {db} {rendered}"
                ),
            ),
            terraform=hcl.format(json.dumps(text)),
            console_url=_rds_console(finding),
            note="Applied in the next maintenance window; add --apply-immediately to do it now "
            "(a restart, or a failover with Multi-AZ).",
        )

    return build


def _delete_db(finding: Finding) -> Remediation:
    region = _region_flag(finding)
    db = _text(finding.get("resource_id"))
    return Remediation(
        change=f"Snapshot and delete database {_label(finding)}",
        cli=f"aws rds delete-db-instance{region} --db-instance-identifier {_q(db)} "
        f"--final-db-snapshot-identifier {_q(db + '-final')}",
        terraform="delete the aws_db_instance resource (skip_final_snapshot = false)",
        console_url=_rds_console(finding),
        note="The final snapshot keeps the data; restoring it makes a new instance.",
    )


def _upgrade_db(finding: Finding) -> Remediation:
    region = _region_flag(finding)
    figures = _figures(finding)
    engine = _text(figures.get("engine")) or "<engine>"
    version = _text(figures.get("engine_version")) or "<version>"
    db = _q(finding.get("resource_id"))
    return Remediation(
        change=f"Upgrade {_label(finding)} from {engine} {version} to a supported major version",
        cli=AND.join(
            (
                f"aws rds describe-db-engine-versions{region} --engine {_q(engine)} "
                f"--engine-version {_q(version)} --query "
                "'DBEngineVersions[].ValidUpgradeTarget[?IsMajorVersionUpgrade].EngineVersion'",
                f"aws rds modify-db-instance{region} --db-instance-identifier {db} "
                "--engine-version <target-version> --allow-major-version-upgrade",
            )
        ),
        terraform='aws_db_instance.engine_version = "<target-version>"  '
        "# allow_major_version_upgrade = true",
        console_url=_rds_console(finding),
        note="A major upgrade changes behaviour: try it on a restored snapshot first.",
    )


def _database_bottleneck(finding: Finding) -> Remediation:
    figures = _figures(finding)
    if _text(figures.get("remedy")) == "larger_class":
        return _modify_db(
            "larger_class",
            "--db-instance-class {}",
            "aws_db_instance.instance_class = {}",
            "Move up to {}",
        )(finding)
    if _text(figures.get("remedy")) != "read_replica":
        return _fallback(finding)
    region = _region_flag(finding)
    db = _text(finding.get("resource_id"))
    return Remediation(
        change=f"Add a read replica of {_label(finding)} and send its reads there",
        cli=f"aws rds create-db-instance-read-replica{region} --db-instance-identifier "
        f"{_q(db + '-replica')} --source-db-instance-identifier {_q(db)}",
        terraform="a new aws_db_instance with replicate_source_db = the source's identifier",
        console_url=_rds_console(finding),
        note="The application must send its reads to the replica's endpoint.",
    )


def _cache_layer(finding: Finding) -> Remediation:
    figures = _figures(finding)
    node = _text(figures.get("cache_node_type")) or "cache.r6g.large"
    count = _int_text(figures.get("cache_nodes")) or "2"
    region = _region_flag(finding)
    name = _text(finding.get("resource_id")) + "-cache"
    return Remediation(
        change=f"Put a Redis cache ({count} × {node}) in front of {_label(finding)}",
        cli=f"aws elasticache create-replication-group{region} --replication-group-id "
        f"{_q(name)} --replication-group-description {_q('read cache')} --engine redis "
        f"--cache-node-type {_q(node)} --num-cache-clusters {_q(count)}",
        terraform="a new aws_elasticache_replication_group",
        console_url=_console(finding, "elasticache/home"),
        note="The application reads through the cache (cache-aside): that is the work.",
    )


def _delete_cache(finding: Finding) -> Remediation:
    region = _region_flag(finding)
    cluster = _text(finding.get("resource_id"))
    return Remediation(
        change=f"Delete cache cluster {_label(finding)}",
        cli=f"aws elasticache delete-cache-cluster{region} --cache-cluster-id {_q(cluster)}",
        terraform="delete the aws_elasticache_cluster resource",
        console_url=_console(finding, "elasticache/home"),
        note="Take a backup first if the data matters (Redis: create-snapshot).",
    )


def _modify_cache(option: str, why: str) -> Builder:
    def build(finding: Finding) -> Remediation:
        node = _text(_figures(finding).get(option))
        if not node:
            return _fallback(finding)
        region = _region_flag(finding)
        cluster = _q(finding.get("resource_id"))
        return Remediation(
            change=f"{why} {_label(finding)} to {node}",
            cli=f"aws elasticache modify-cache-cluster{region} --cache-cluster-id {cluster} "
            f"--cache-node-type {_q(node)} --apply-immediately",
            terraform=f"aws_elasticache_cluster.node_type = {json.dumps(node)}",
            console_url=_console(finding, "elasticache/home"),
            note="The node type changes online for Redis; Memcached needs a new cluster.",
        )

    return build


def _dynamodb_capacity(rcu_key: str, wcu_key: str) -> Builder:
    def build(finding: Finding) -> Remediation:
        figures = _figures(finding)
        region = _region_flag(finding)
        table = _q(finding.get("resource_id"))
        rcu, wcu = _int_text(figures.get(rcu_key)), _int_text(figures.get(wcu_key))
        on_demand = _text(figures.get("target")) == "on-demand" or (
            _text(figures.get("remedy")) == "on_demand"
        )
        if on_demand:
            setting = "--billing-mode PAY_PER_REQUEST"
            change, hcl = "Switch {} to on-demand capacity", 'billing_mode = "PAY_PER_REQUEST"'
        elif rcu and wcu:
            setting = (
                "--billing-mode PROVISIONED --provisioned-throughput "
                f"ReadCapacityUnits={rcu},WriteCapacityUnits={wcu}"
            )
            change = "Set {} to " + f"{rcu} RCU / {wcu} WCU"
            hcl = f"read_capacity = {rcu}, write_capacity = {wcu}"
        else:
            return _fallback(finding)
        return Remediation(
            change=change.format(_label(finding)),
            cli=f"aws dynamodb update-table{region} --table-name {table} {setting}",
            terraform=f"aws_dynamodb_table.{hcl}",
            console_url=_console(finding, "dynamodbv2/home"),
            note="A table switches capacity mode at most once in 24 hours.",
        )

    return build


def _dynamodb_class(finding: Finding) -> Remediation:
    region = _region_flag(finding)
    return Remediation(
        change=f"Change {_label(finding)} to the Standard-IA table class",
        cli=f"aws dynamodb update-table{region} --table-name {_q(finding.get('resource_id'))} "
        "--table-class STANDARD_INFREQUENT_ACCESS",
        terraform='aws_dynamodb_table.table_class = "STANDARD_INFREQUENT_ACCESS"',
        console_url=_console(finding, "dynamodbv2/home"),
        note="Online; the class can change twice in 30 days.",
    )


def _efs_lifecycle(finding: Finding) -> Remediation:
    region = _region_flag(finding)
    return Remediation(
        change=f"Add a lifecycle policy to {_label(finding)}",
        cli=f"aws efs put-lifecycle-configuration{region} --file-system-id "
        f"{_q(finding.get('resource_id'))} --lifecycle-policies "
        "TransitionToIA=AFTER_30_DAYS TransitionToPrimaryStorageClass=AFTER_1_ACCESS",
        terraform='aws_efs_file_system.lifecycle_policy { transition_to_ia = "AFTER_30_DAYS" }',
        console_url=_console(finding, "efs/home"),
        note="Reads from Infrequent Access are charged per GB.",
    )


def _search_domain(what: str, option: str, setting: str) -> Builder:
    def build(finding: Finding) -> Remediation:
        value = _text(_figures(finding).get(option)) if option else ""
        if option and not value:
            return _fallback(finding)
        region = _region_flag(finding)
        domain = _q(finding.get("resource_id"))
        return Remediation(
            change=f"{what.format(value)} on {_label(finding)}",
            cli=f"aws opensearch update-domain-config{region} --domain-name {domain} "
            + setting.format(_q(value)),
            terraform="aws_opensearch_domain: " + setting.format(json.dumps(value)),
            console_url=_console(finding, "aos/home"),
            note="A blue/green deployment: the domain stays available while it runs.",
        )

    return build


def _delete_search_domain(finding: Finding) -> Remediation:
    region = _region_flag(finding)
    return Remediation(
        change=f"Delete OpenSearch domain {_label(finding)}",
        cli=f"aws opensearch delete-domain{region} --domain-name {_q(finding.get('resource_id'))}",
        terraform="delete the aws_opensearch_domain resource",
        console_url=_console(finding, "aos/home"),
        note="Take a manual snapshot to S3 first if the indexes matter.",
    )


def _pause_warehouse(finding: Finding) -> Remediation:
    region = _region_flag(finding)
    return Remediation(
        change=f"Pause Redshift cluster {_label(finding)}",
        cli=f"aws redshift pause-cluster{region} --cluster-identifier "
        f"{_q(finding.get('resource_id'))}",
        terraform="a scheduled pause (aws_redshift_scheduled_action)",
        console_url=_console(finding, "redshiftv2/home"),
        note="Resume it with resume-cluster; storage still bills while paused.",
    )


DATA_SERVICE_BUILDERS: dict[str, Builder] = {
    "rightsizing.idle-database": _delete_db,
    "rightsizing.oversized-database": _modify_db(
        "smaller_class",
        "--db-instance-class {}",
        "aws_db_instance.instance_class = {}",
        "Move down to {}",
    ),
    "rightsizing.database-graviton": _modify_db(
        "graviton_class",
        "--db-instance-class {}",
        "aws_db_instance.instance_class = {}",
        "Move to Graviton {}",
    ),
    "rightsizing.multi-az-nonprod": _modify_db(
        "", "--no-multi-az", "aws_db_instance.multi_az = false", "Remove the Multi-AZ standby"
    ),
    "rightsizing.database-extended-support": _upgrade_db,
    "storage.database-io1-to-gp3": _modify_db(
        "iops",
        "--storage-type gp3 --iops {}",
        'aws_db_instance.storage_type = "gp3", iops = {}',
        "Move storage to gp3 with {} IOPS",
    ),
    "rightsizing.database-bottleneck": _database_bottleneck,
    "rightsizing.database-cache-layer": _cache_layer,
    "rightsizing.idle-cache": _delete_cache,
    "rightsizing.oversized-cache": _modify_cache("smaller_node_type", "Move down"),
    "rightsizing.cache-bottleneck": _modify_cache("larger_node_type", "Move up"),
    "rightsizing.dynamodb-capacity": _dynamodb_capacity("target_rcu", "target_wcu"),
    "rightsizing.dynamodb-throttling": _dynamodb_capacity("raised_rcu", "raised_wcu"),
    "storage.dynamodb-standard-ia": _dynamodb_class,
    "storage.efs-without-lifecycle": _efs_lifecycle,
    "rightsizing.idle-search-domain": _delete_search_domain,
    "storage.search-domain-gp2-to-gp3": _search_domain(
        "Move the EBS volumes to gp3", "", "--ebs-options EBSEnabled=true,VolumeType=gp3"
    ),
    "rightsizing.search-domain-bottleneck": _search_domain(
        "Move the data nodes up to {}", "larger_instance_type", "--cluster-config InstanceType={}"
    ),
    "rightsizing.idle-warehouse": _pause_warehouse,
}


def _aws_review_hub(finding: Finding) -> Remediation:
    """Cost Optimization Hub's advice no costscan finding answers: read it, check it."""
    advice = _figures(finding).get("provider_advice")
    advice = advice if isinstance(advice, Mapping) else {}
    recommendation = _text(advice.get("recommendation"))
    cli = None
    if recommendation:
        # The Hub answers from us-east-1 only.
        cli = (
            "aws cost-optimization-hub get-recommendation --region us-east-1"
            f" --recommendation-id {_q(recommendation)}"
        )
    return Remediation(
        change=f"Review Cost Optimization Hub's advice on {_label(finding)}",
        cli=cli,
        console_url=f"https://{AWS_CONSOLE}/costmanagement/home#/cost-optimization-hub",
        note="costscan counts no saving for it: check it against the resource's use.",
    )


BUILDERS: dict[str, Builder] = {
    "rightsizing.aws-cost-optimization-hub": _aws_review_hub,
    "commitments.aws-cost-optimization-hub": _aws_review_hub,
    "rightsizing.idle": _stop_instance,
    "rightsizing.overprovisioned": _resize_instance(None, ""),
    "rightsizing.previous-generation": _resize_instance(None, " (current generation)"),
    "rightsizing.graviton": _resize_instance(None, " (Graviton)"),
    "rightsizing.underprovisioned": _resize_instance("next_size.instance_type", " (more CPU)"),
    "scheduling.offhours": _schedule_instance,
    "commitments.compute-commitment": _commit_savings_plan,
    "commitments.on-demand-billing": _commit_savings_plan,
    "commitments.expiring": _renew,
    "commitments.recover-unused": _recover,
    "commitments.underused": _investigate_commitment,
    "commitments.unused-billing": _investigate_commitment,
    "commitments.spot": _spot,
    "storage.gp2-to-gp3": _modify_volume("gp3"),
    "storage.io1-to-gp3": _modify_volume("gp3"),
    "storage.io1-to-io2": _modify_volume("io2"),
    "storage.unattached-volume": _delete_volume,
    "storage.stopped-instance-volume": _delete_volume,
    "storage.stale-snapshot": _delete_snapshot,
    "storage.bucket-without-lifecycle": _lifecycle,
    "storage.standard-tiering": _lifecycle,
    "storage.incomplete-multipart-uploads": _lifecycle,
    "network.idle-elastic-ip": _release_address,
    "network.idle-load-balancer": _delete_load_balancer,
    "network.idle-nat-gateway": _delete_nat_gateway,
    "network.nat-gateway-endpoint": _gateway_endpoint,
    "network.cdn-for-origin": _cdn,
    "network.billing-cdn-egress": _cdn,
    "network.distribution-compression": _distribution_update(
        "set Compress to true in every CacheBehavior and the DefaultCacheBehavior",
        "aws_cloudfront_distribution.default_cache_behavior.compress = true",
        "Turn on compression",
    ),
    "network.price-class-regional": _distribution_update(
        'set PriceClass to "PriceClass_100"',
        'aws_cloudfront_distribution.price_class = "PriceClass_100"',
        "Use PriceClass_100",
    ),
    "observability.log-retention": _log_retention,
    "observability.log-ingestion": _log_ingestion,
    "observability.metric-cardinality": _metric_cardinality,
    "observability.cost-anomaly": _investigate,
    "observability.unallocated-spend": _tag_spend,
    "rightsizing.billing-idle": _billed_idle,
    # GCP-only policies: their findings are GCP's (GCP_BUILDERS).
    "network.unused-static-address": _gcp_release_address,
    "storage.gcs-bucket-without-lifecycle": _gcs_lifecycle,
    # RDS and Aurora, ElastiCache, DynamoDB, EFS, OpenSearch, Redshift.
    **DATA_SERVICE_BUILDERS,
}


def _demand_builders() -> dict[str, Builder]:
    # Their own module (reports/remediation_demand.py), which reads this one's helpers.
    from costscan.reports.remediation_demand import builders

    return builders()


BUILDERS.update(_demand_builders())


def remediation(finding: Finding, *, members_shown: int = LOOP_MEMBERS) -> Remediation:
    """What to do about ``finding`` (a finding record: evidence and members parsed or as
    JSON text). AWS findings from the policies costscan ships get commands; others get the
    change in words and, for AWS, the console. A group's loop names its first
    ``members_shown`` members."""
    token = _MEMBERS_SHOWN.set(max(1, members_shown))
    try:
        return _remediation(finding)
    finally:
        _MEMBERS_SHOWN.reset(token)


def _remediation(finding: Finding) -> Remediation:
    provider = _text(finding.get("provider")) or "aws"
    if provider == "gcp":
        gcp_builder = GCP_BUILDERS.get(_text(finding.get("policy_id")))
        return gcp_builder(finding) if gcp_builder is not None else _fallback(finding)
    if provider == "azure":
        azure_builder = AZURE_BUILDERS.get(_text(finding.get("policy_id")))
        return azure_builder(finding) if azure_builder is not None else _fallback(finding)
    builder = BUILDERS.get(_text(finding.get("policy_id")))
    if provider != "aws" or builder is None:
        if _text(finding.get("action")) == "investigate":
            return _investigate(finding) if provider == "aws" else _fallback(finding)
        return _fallback(finding)
    return builder(finding)


def change_in_words(finding: Finding) -> str:
    """The change as one plain line: "Resize billing-api (i-…) from m5.4xlarge to r5.xlarge"."""
    return remediation(finding).change
