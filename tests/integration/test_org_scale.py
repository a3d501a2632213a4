"""An organisation on moto: --org-role over several member accounts, each with resources of
its own, in a bounded pool, with 30% of requests throttled and one account refusing the
role. Every other account's findings are its own, totals add up by account, the refusing
account is a named gap, exit 3.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest

from costscan.scanner.app.cli import main
from tests.moto_server import RecordingMotoServer

pytestmark = pytest.mark.slow

REGION = "us-east-1"
ROLE = "CostscanReadOnly"
MEMBERS = 4
# us-east-1 list prices (providers/pricing/data): gp2 $0.10 per GB-month; a public IPv4
# address $0.005 an hour, 730 hours a month.
GP2_PER_GB_MONTH = Decimal("0.10")
IPV4_PER_MONTH = Decimal("0.005") * 730


def member_client(endpoint_url: str, account_id: str, service: str) -> Any:
    sts = boto3.client("sts", region_name=REGION, endpoint_url=endpoint_url)
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE}", RoleSessionName="seed"
    )["Credentials"]
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def seed_organization(endpoint_url: str) -> dict[str, tuple[str, str, int]]:
    """Member account -> (its unattached volume, its idle address, the volume's GiB)."""
    org = boto3.client("organizations", region_name=REGION, endpoint_url=endpoint_url)
    org.create_organization(FeatureSet="ALL")
    seeded = {}
    for index in range(MEMBERS):
        created = org.create_account(AccountName=f"team-{index}", Email=f"t{index}@example.com")
        account_id = created["CreateAccountStatus"]["AccountId"]
        ec2 = member_client(endpoint_url, account_id, "ec2")
        size = 100 * (index + 1)
        volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=size, VolumeType="gp2")
        address = ec2.allocate_address(Domain="vpc")
        seeded[account_id] = (volume["VolumeId"], address["AllocationId"], size)
    return seeded


def test_an_organisation_under_throttling_with_one_account_refusing(
    moto: RecordingMotoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint_url)
    seeded = seed_organization(moto.endpoint_url)
    refusing = sorted(seeded)[1]
    moto.faults.add("deny", service="sts", operation="AssumeRole", body_contains=refusing)
    moto.faults.add("throttle", share=0.3)
    config = tmp_path / "costscan.toml"
    config.write_text(
        '[policies."storage.unattached-volume"]\n'
        "min_age_days = 0\nsnapshot_before_delete = false\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "run", "--region", REGION, "--org-role", ROLE, "--max-workers", "3",
                "--config", str(config), "--format", "json", "--output-dir", str(out),
            ]
        )  # fmt: skip
    err = capsys.readouterr().err
    assert exit_info.value.code == 3, err
    assert moto.faults.injected.get("throttle", 0) > 20, "throttling was injected"
    (path,) = out.glob("*.json")
    document = json.loads(path.read_text(encoding="utf-8"))

    # The refusing account is a named gap, and nothing else failed despite the throttling.
    gaps = [(e["collector"], e["account_id"]) for e in document["errors"]]
    assert gaps == [("sts.member_account_access", refusing)]
    assert refusing not in document["run"]["accounts"]
    assert set(seeded) - {refusing} <= set(document["run"]["accounts"])

    findings = document["findings"]
    assert not any(f["account_id"] == refusing for f in findings)
    for account_id, (volume, address, size) in seeded.items():
        if account_id == refusing:
            continue
        own = {f["resource_id"]: f for f in findings if f["account_id"] == account_id}
        # Each account's resources are reported under that account, and only there.
        assert {volume, address} <= set(own)
        assert all(f["account_id"] == account_id for f in findings if f["resource_id"] == volume)
        removal = next(
            f
            for f in findings
            if f["resource_id"] == volume and f["policy_id"] == "storage.unattached-volume"
        )
        assert Decimal(str(removal["net_monthly_savings"])) == size * GP2_PER_GB_MONTH
        eip = next(f for f in findings if f["resource_id"] == address)
        assert Decimal(str(eip["net_monthly_savings"])) == IPV4_PER_MONTH

    # The totals add up by account.
    by_account: dict[str, Decimal] = {}
    for f in findings:
        if f["counted"]:
            by_account[f["account_id"]] = by_account.get(f["account_id"], Decimal(0)) + Decimal(
                str(f["net_monthly_savings"])
            )
    assert Decimal(str(document["summary"]["monthly_savings"])) == sum(
        by_account.values(), Decimal(0)
    ).quantize(Decimal("0.01"))
    for account_id, (_volume, _address, size) in seeded.items():
        if account_id != refusing:
            assert by_account[account_id] >= size * GP2_PER_GB_MONTH + IPV4_PER_MONTH
