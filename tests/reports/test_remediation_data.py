"""Remediation for the data-service findings: commands read back from each finding's
own evidence, ids shell-quoted."""

from __future__ import annotations

from costscan.reports.remediation import remediation
from tests.reports.test_remediation import finding


def test_multi_az_standby_is_removed_in_the_maintenance_window() -> None:
    fix = remediation(
        finding(
            policy_id="rightsizing.multi-az-nonprod",
            resource_type="rds_instance",
            resource_id="staging-orders-db",
            evidence={},
        )
    )
    assert fix.cli == (
        "aws rds modify-db-instance --region eu-west-1 --db-instance-identifier "
        "staging-orders-db --no-multi-az"
    )
    assert fix.console_url is not None and "#database:id=staging-orders-db" in fix.console_url


def test_io1_storage_moves_to_gp3_with_the_iops_it_priced() -> None:
    fix = remediation(
        finding(
            policy_id="storage.database-io1-to-gp3",
            resource_type="rds_instance",
            resource_id="ledger-db",
            evidence={"iops": 20000.0},
        )
    )
    assert fix.cli is not None and fix.cli.endswith("--storage-type gp3 --iops 20000")


def test_dynamodb_capacity_sets_the_right_sized_units_or_on_demand() -> None:
    sized = remediation(
        finding(
            policy_id="rightsizing.dynamodb-capacity",
            resource_type="dynamodb_table",
            resource_id="clicks; rm -rf ~",
            evidence={"target": "provisioned 72 RCU / 43 WCU", "target_rcu": 72.0,
                      "target_wcu": 43.0},
        )
    )  # fmt: skip
    assert sized.cli == (
        "aws dynamodb update-table --region eu-west-1 --table-name 'clicks; rm -rf ~' "
        "--billing-mode PROVISIONED --provisioned-throughput "
        "ReadCapacityUnits=72,WriteCapacityUnits=43"
    )
    on_demand = remediation(
        finding(
            policy_id="rightsizing.dynamodb-capacity",
            resource_type="dynamodb_table",
            resource_id="spiky",
            evidence={"target": "on-demand"},
        )
    )
    assert on_demand.cli is not None and on_demand.cli.endswith("--billing-mode PAY_PER_REQUEST")


def test_a_hot_read_heavy_database_gets_a_replica_command() -> None:
    fix = remediation(
        finding(
            policy_id="rightsizing.database-bottleneck",
            resource_type="rds_instance",
            resource_id="checkout-db",
            action="bottleneck",
            evidence={"remedy": "read_replica"},
        )
    )
    assert fix.cli == (
        "aws rds create-db-instance-read-replica --region eu-west-1 --db-instance-identifier "
        "checkout-db-replica --source-db-instance-identifier checkout-db"
    )
