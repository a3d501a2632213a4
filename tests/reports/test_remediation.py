"""What to run for a finding: commands read back from the finding's own figures.

Each expected command is written out by hand from the figures in the test's finding; a
hostile name must stay one shell argument; every policy costscan ships has a builder.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

from costscan.reports.remediation import (
    AZURE_BUILDERS,
    BUILDERS,
    GCP_BUILDERS,
    LOOP_MEMBERS,
    remediation,
)
from costscan.scanner.app.catalog import all_policies


def finding(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "provider": "aws",
        "account_id": "111111111111",
        "region": "eu-west-1",
        "resource_type": "ec2_instance",
        "resource_name": None,
        "members": None,
        "member_count": None,
        "net_monthly_savings": 10.0,
        "monthly_savings_before_discounts": 10.0,
        "title": "t",
        "recommendation": "r",
        "action": "resize",
    }
    row.update(values)
    return row


def test_a_resize_reads_both_types_from_the_evidence_and_stops_then_starts() -> None:
    fix = remediation(
        finding(
            policy_id="rightsizing.overprovisioned",
            resource_id="i-0abc",
            resource_name="billing-api",
            evidence={
                "current": {"instance_type": "m5.4xlarge"},
                "candidate": {"instance_type": "r5.xlarge"},
            },
        )
    )
    assert fix.change == "Resize billing-api (i-0abc) from m5.4xlarge to r5.xlarge"
    assert fix.cli == (
        "aws ec2 stop-instances --region eu-west-1 --instance-ids i-0abc &&\n"
        "  aws ec2 wait instance-stopped --region eu-west-1 --instance-ids i-0abc &&\n"
        "  aws ec2 modify-instance-attribute --region eu-west-1 --instance-id i-0abc "
        "--instance-type Value=r5.xlarge &&\n"
        "  aws ec2 start-instances --region eu-west-1 --instance-ids i-0abc"
    )
    assert fix.terraform is not None and fix.terraform.startswith(
        'aws_instance.instance_type = "r5.xlarge"'
    )
    assert fix.console_url == (
        "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1"
        "#InstanceDetails:instanceId=i-0abc"
    )


def test_a_graviton_move_warns_that_it_needs_an_arm64_image() -> None:
    fix = remediation(
        finding(
            policy_id="rightsizing.graviton",
            resource_id="i-0abc",
            evidence={
                "current": {"instance_type": "c5.xlarge"},
                "candidate": {"instance_type": "c6g.xlarge"},
                "shape": {"architecture": "x86_64", "candidate_architecture": "arm64"},
            },
        )
    )
    assert fix.note is not None and "needs an arm64 AMI" in fix.note


def test_a_savings_plan_commitment_is_read_back_from_the_saving_and_the_discount() -> None:
    # A saving of $208.95 a month before discounts at a 28% discount covers on-demand
    # usage of 208.95 / 0.28 = $746.25 a month; the plan costs 72% of it, $537.30 a month,
    # which is 537.30 / 730 = $0.736 an hour.
    fix = remediation(
        finding(
            policy_id="commitments.compute-commitment",
            resource_id="1-year commitment for m5",
            resource_name="4 resources",
            member_count=4,
            monthly_savings_before_discounts=208.95,
            evidence={"grouped": {"members": 4}, "example": {"commitment": {"discount": 0.28}}},
            members=[{"resource_id": f"i-{n}"} for n in range(4)],
        )
    )
    assert fix.change.startswith("Commit $0.736/hour to a 1 year, no upfront Compute")
    assert fix.cli is not None and fix.cli.endswith("--commitment 0.736")


def test_a_group_loops_over_its_members_and_says_how_many_it_left_out() -> None:
    members = [{"resource_id": f"vol-{n:04d}"} for n in range(LOOP_MEMBERS + 3)]
    fix = remediation(
        finding(
            policy_id="storage.gp2-to-gp3",
            resource_type="ebs_volume",
            resource_id="gp2→gp3",
            resource_name=f"{len(members)} resources",
            member_count=len(members),
            members=json.dumps(members),
            evidence={"grouped": {"members": len(members)}, "example": {"size_gb": 200.0}},
        )
    )
    assert fix.change == f"Change {len(members)} volumes from gp2 to gp3"
    assert fix.cli is not None
    lines = fix.cli.split("\n")
    assert lines[0] == f"# the first {LOOP_MEMBERS} of {len(members)}; the JSON report lists all"
    assert lines[1] == "for volume in \\"
    assert lines[2] == "  vol-0000 \\"
    assert lines[LOOP_MEMBERS + 1] == f"  vol-{LOOP_MEMBERS - 1:04d}; do"
    assert lines[-2] == (
        '  aws ec2 modify-volume --region eu-west-1 --volume-id "$volume" --volume-type gp3'
    )
    assert lines[-1] == "done"
    short = remediation(
        finding(
            policy_id="storage.gp2-to-gp3",
            resource_type="ebs_volume",
            resource_id="gp2→gp3",
            member_count=len(members),
            members=members,
            evidence={},
        ),
        members_shown=2,
    )
    assert short.cli is not None and short.cli.startswith(
        f"# the first 2 of {len(members)}; the JSON report lists all\nfor volume in \\\n"
        "  vol-0000 \\\n  vol-0001; do\n"
    )


def test_one_gp3_move_keeps_the_gp2_baseline_it_priced() -> None:
    # A 1,000 GB gp2 volume has a 3,000 IOPS baseline and 250 MB/s; gp3 is told both.
    fix = remediation(
        finding(
            policy_id="storage.gp2-to-gp3",
            resource_type="ebs_volume",
            resource_id="vol-1",
            evidence={"gp2_baseline_iops": 3000.0, "gp2_baseline_throughput_mbps": 250.0},
        )
    )
    assert fix.cli == (
        "aws ec2 modify-volume --region eu-west-1 --volume-id vol-1 --volume-type gp3 "
        "--iops 3000 --throughput 250"
    )


def test_a_hostile_name_stays_one_shell_argument() -> None:
    name = "/app/x; rm -rf ~ `id` $(id) 'q'"
    fix = remediation(
        finding(
            policy_id="observability.log-retention",
            resource_type="log_group",
            resource_id=f"arn:aws:logs:eu-west-1:111111111111:log-group:{name}:*",
            evidence={"retention_days": 30},
        )
    )
    assert fix.cli is not None
    words = shlex.split(fix.cli)
    assert words == [
        "aws", "logs", "put-retention-policy", "--region", "eu-west-1",
        "--log-group-name", name, "--retention-in-days", "30",
    ]  # fmt: skip
    assert fix.console_url is not None and " " not in fix.console_url
    assert "$252Fapp$252Fx$253B$2520rm" in fix.console_url  # the console's double encoding


def test_a_bucket_lifecycle_rule_carries_the_target_days_and_the_smallest_object() -> None:
    fix = remediation(
        finding(
            policy_id="storage.bucket-without-lifecycle",
            resource_type="s3_bucket",
            resource_id="raw-logs",
            region="us-east-1",
            evidence={
                "chosen_target": "STANDARD_IA",
                "transition_days": 30,
                "min_billable_object_bytes": 131072.0,
                "incomplete_upload_bytes": 5.0,
            },
        )
    )
    assert fix.cli is not None
    configuration = json.loads(shlex.split(fix.cli.split("\n")[1])[-1])
    assert configuration == {
        "Rules": [
            {
                "ID": "costscan-tiering",
                "Status": "Enabled",
                "Filter": {"ObjectSizeGreaterThan": 131072},
                "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}],
            },
            {
                "ID": "costscan-abort-incomplete-uploads",
                "Status": "Enabled",
                "Filter": {},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            },
        ]
    }
    assert fix.note is not None and "replaces every rule" in fix.note


def test_selling_unused_reservations_counts_the_unused_instances() -> None:
    # 36 instances at 55.6% use: 36 × 0.444 = 16 unused.
    fix = remediation(
        finding(
            policy_id="commitments.recover-unused",
            resource_type="ec2_reserved_instance",
            resource_id="ri-1",
            evidence={
                "mechanism": "sell",
                "utilization": 0.5555555555555556,
                "commitment": {"instance_count": 36.0},
                "sale_proceeds_once": 0.0,
            },
        )
    )
    assert fix.change.startswith("Sell the unused 16 of reservation ri-1")
    assert fix.cli is not None and "--instance-count 16" in fix.cli
    assert "Price=<upfront-price>" in fix.cli


@pytest.mark.parametrize("policy_id", sorted(all_policies()))
def test_every_policy_costscan_ships_has_a_remediation(policy_id: str) -> None:
    # GCP-only policies (CUDs, Google's own advice) have GCP builders only, and Azure-only
    # ones (Advisor's advice) Azure builders only.
    assert policy_id in BUILDERS or policy_id in GCP_BUILDERS or policy_id in AZURE_BUILDERS
    provider = "aws" if policy_id in BUILDERS else "gcp" if policy_id in GCP_BUILDERS else "azure"
    fix = remediation(
        finding(policy_id=policy_id, provider=provider, resource_id="x-1", evidence={})
    )
    assert fix.change
    assert fix.console_url is not None and fix.console_url.startswith("https://")


def test_a_cloud_without_builders_gets_its_recommendation_in_words() -> None:
    fix = remediation(
        finding(
            provider="oci",
            policy_id="rightsizing.idle",
            resource_id="vm-1",
            recommendation="Stop vm-1.",
            evidence={},
        )
    )
    assert fix.change == "Stop vm-1." and fix.cli is None


def gcp_finding(**values: Any) -> dict[str, Any]:
    return finding(provider="gcp", account_id="demo-project", region="us-central1", **values)


def test_a_gcp_resize_reads_project_zone_and_name_from_the_resource_path() -> None:
    fix = remediation(
        gcp_finding(
            policy_id="rightsizing.overprovisioned",
            resource_type="gce_instance",
            resource_id="projects/demo-project/zones/us-central1-a/instances/api-1",
            resource_name="api-1",
            evidence={
                "current": {"instance_type": "n2-standard-8"},
                "candidate": {"instance_type": "e2-highmem-2"},
            },
        )
    )
    where = "--zone us-central1-a --project demo-project"
    assert fix.change == "Resize api-1 from n2-standard-8 to e2-highmem-2"
    assert fix.cli == (
        f"gcloud compute instances stop api-1 {where} &&\n"
        f"  gcloud compute instances set-machine-type api-1 --machine-type e2-highmem-2 "
        f"{where} &&\n"
        f"  gcloud compute instances start api-1 {where}"
    )
    assert fix.console_url == (
        "https://console.cloud.google.com/compute/instancesDetail/zones/us-central1-a/"
        "instances/api-1?project=demo-project"
    )


def test_a_gcp_schedule_turns_the_derived_window_into_start_and_stop_crons() -> None:
    # "Mon-Fri 07:00-19:00 UTC": start at minute 0 of hour 7, stop at minute 0 of hour 19.
    fix = remediation(
        gcp_finding(
            policy_id="scheduling.offhours",
            resource_type="gce_instance",
            resource_id="projects/demo-project/zones/europe-west1-b/instances/dev-box",
            evidence={"window": {"schedule": "Mon-Fri 07:00-19:00 UTC"}},
        )
    )
    assert fix.cli is not None
    first = shlex.split(fix.cli.split(" &&\n")[0])
    assert first[first.index("--region") + 1] == "europe-west1"
    assert first[first.index("--vm-start-schedule") + 1] == "0 7 * * MON-FRI"
    assert first[first.index("--vm-stop-schedule") + 1] == "0 19 * * MON-FRI"


def test_a_gcp_cud_purchase_names_the_series_type_region_and_one_year_plan() -> None:
    fix = remediation(
        finding(
            provider="gcp",
            policy_id="commitments.gcp-cud-purchase",
            account_id="shop-prod",
            region="europe-west1",
            resource_id="projects/shop-prod/zones/europe-west1-b/instances/api-1",
            recommendation="Buy a 1-year N2 commitment in europe-west1",
            evidence={"price": {"instance_type": "n2-standard-8"}},
        )
    )
    assert fix.cli == (
        "gcloud compute commitments create costscan-n2-europe-west1 --region europe-west1 "
        "--plan 12-month --type general-purpose-n2 --resources vcpu=VCPUS,memory=MEMORY "
        "--project shop-prod"
    )
    assert fix.console_url == (
        "https://console.cloud.google.com/compute/commitments?project=shop-prod"
    )
    assert fix.note is not None and "cannot be cancelled" in fix.note


def test_google_advice_alone_is_described_by_its_recommender_id() -> None:
    fix = remediation(
        finding(
            provider="gcp",
            policy_id="rightsizing.google-recommender",
            resource_id="projects/p/zones/us-central1-a/instances/web; rm -rf",
            evidence={
                "provider_advice": {
                    "recommender": "google.compute.instance.IdleResourceRecommender",
                    "recommendation": "projects/1/locations/us-central1-a/recommenders/"
                    "google.compute.instance.IdleResourceRecommender/recommendations/abc-1",
                }
            },
        )
    )
    assert fix.cli == (
        "gcloud recommender recommendations describe abc-1 "
        "--recommender google.compute.instance.IdleResourceRecommender "
        "--location us-central1-a --project p"
    )
    assert "web; rm -rf" in fix.change


def test_cost_optimization_hub_advice_alone_is_read_back_by_its_id_quoted() -> None:
    fix = remediation(
        finding(
            policy_id="commitments.aws-cost-optimization-hub",
            resource_id="123456789012",
            evidence={"provider_advice": {"recommendation": "rec-1; rm -rf /"}},
        )
    )
    assert fix.cli == (
        "aws cost-optimization-hub get-recommendation --region us-east-1 "
        "--recommendation-id 'rec-1; rm -rf /'"
    )
    assert fix.console_url is not None and "cost-optimization-hub" in fix.console_url


def test_a_pd_balanced_move_snapshots_copies_and_names_the_instance_to_swap_on() -> None:
    fix = remediation(
        gcp_finding(
            policy_id="storage.pd-ssd-to-pd-balanced",
            resource_id="projects/demo-project/zones/us-central1-a/disks/web-1-db",
            resource_name="web-1-db",
            evidence={"attached_to": "projects/demo-project/zones/us-central1-a/instances/web-1"},
        )
    )
    assert fix.cli is not None
    assert "gcloud compute snapshots create web-1-db-to-balanced --source-disk web-1-db" in fix.cli
    assert "gcloud compute disks create web-1-db-balanced --type pd-balanced" in fix.cli
    assert "--source-snapshot web-1-db-to-balanced --zone us-central1-a" in fix.cli
    assert fix.note is not None and "detach web-1-db from web-1" in fix.note


def test_a_gcp_log_retention_names_the_bucket_its_location_and_the_days() -> None:
    fix = remediation(
        gcp_finding(
            policy_id="observability.gcp-log-retention",
            resource_id="projects/demo-project/locations/us-central1/buckets/app-archive",
            evidence={"target_retention_days": 30},
        )
    )
    assert fix.cli == (
        "gcloud logging buckets update app-archive --location us-central1 "
        "--retention-days 30 --project demo-project"
    )


def test_a_gcp_arm_move_rebuilds_from_an_arm64_image_rather_than_switching_type() -> None:
    fix = remediation(
        gcp_finding(
            policy_id="rightsizing.gcp-arm",
            resource_id="projects/demo-project/zones/us-central1-a/instances/api",
            resource_name="api",
            evidence={
                "current": {"instance_type": "n2-standard-8"},
                "candidate": {"instance_type": "t2a-standard-8"},
            },
        )
    )
    assert fix.change == "Rebuild api on t2a-standard-8 (Arm) instead of n2-standard-8"
    assert fix.cli is not None and "set-machine-type" not in fix.cli
    assert "--machine-type t2a-standard-8" in fix.cli and "arm64" in fix.cli


def test_a_gcp_custom_metric_label_is_dropped_by_its_writer_a_prometheus_one_at_scrape() -> None:
    custom = remediation(
        gcp_finding(
            policy_id="observability.metric-cardinality",
            resource_name="custom.googleapis.com/checkout/latency",
            evidence={"dimension": "user_id"},
        )
    )
    assert (
        custom.change == "Drop the user_id label from metric custom.googleapis.com/checkout/latency"
    )
    assert custom.console_url is not None and "metrics-explorer" in custom.console_url
    prometheus = remediation(
        gcp_finding(
            policy_id="observability.metric-cardinality",
            resource_name="prometheus.googleapis.com/http_requests_total/counter",
            evidence={"dimension": "path"},
        )
    )
    assert prometheus.terraform is not None and 'regex: "path"' in prometheus.terraform


AZURE_VM = (
    "/subscriptions/s-1/resourceGroups/rg-1/providers/Microsoft.Compute/virtualMachines/api-1"
)


def test_an_azure_resize_names_the_vm_by_its_arm_id_and_the_size_from_the_evidence() -> None:
    fix = remediation(
        finding(
            provider="azure",
            policy_id="rightsizing.overprovisioned",
            resource_id=AZURE_VM,
            resource_name="api-1",
            evidence={
                "current": {"instance_type": "Standard_D8s_v5"},
                "candidate": {"instance_type": "Standard_E2s_v5"},
            },
        )
    )
    assert fix.change == "Resize api-1 from Standard_D8s_v5 to Standard_E2s_v5"
    assert fix.cli == f"az vm resize --ids {AZURE_VM} --size Standard_E2s_v5"
    assert fix.console_url == f"https://portal.azure.com/#resource{AZURE_VM}"


def test_an_azure_disk_is_snapshotted_in_its_own_resource_group_before_deletion() -> None:
    disk = "/subscriptions/s-1/resourceGroups/rg-1/providers/Microsoft.Compute/disks/d 1"
    fix = remediation(
        finding(provider="azure", policy_id="storage.unattached-volume", resource_id=disk,
                resource_name="d 1", evidence={})
    )  # fmt: skip
    assert fix.cli is not None
    assert "--resource-group rg-1 " in fix.cli and f"--source '{disk}'" in fix.cli
    assert fix.cli.endswith(f"az disk delete --ids '{disk}' --yes")
