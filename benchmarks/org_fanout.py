"""Organisation fan-out: 50 accounts x 4 regions on moto, in a bounded pool.

An organisation of a management account and 49 members (each reached through an assumed
role, as ``--org-role`` does), each with one instance and one unattached volume in every
region and no metric data (moto answers empty series quickly; see TESTING-CLOUDS.md). The
real AWS provider scans it with a pool of ``--max-workers`` threads, and once with a single
worker for the ratio. Printed: wall time, API calls (attempts on the wire, retries
included) by service, calls per account-region, and the pool's speed-up. moto runs in a
child process, so the scanner's threads do not share an interpreter lock with it.

    python benchmarks/org_fanout.py [--workers 8] [--accounts 50] [--regions 4] [--no-serial]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2")
ROLE = "CostscanReadOnly"


def _serve(queue: Any) -> None:
    from costscan.demo.account import start_demo_server

    _server, url = start_demo_server(fast_cloudwatch=False)
    queue.put(url)
    while True:  # until the parent ends this process
        time.sleep(3600)


def _credentials() -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "benchmark",
        "AWS_SECRET_ACCESS_KEY": "benchmark",
        "AWS_DEFAULT_REGION": REGIONS[0],
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    }.items():
        os.environ[key] = value
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(key, None)


def seed(url: str, accounts: int, regions: tuple[str, ...]) -> list[str]:
    import boto3

    from costscan.demo.account import DEMO_AMI

    org = boto3.client("organizations", region_name=regions[0], endpoint_url=url)
    org.create_organization(FeatureSet="ALL")
    sts = boto3.client("sts", region_name=regions[0], endpoint_url=url)
    members = []
    for index in range(accounts - 1):
        made = org.create_account(AccountName=f"team-{index}", Email=f"t{index}@example.com")
        members.append(made["CreateAccountStatus"]["AccountId"])
    management = sts.get_caller_identity()["Account"]
    for account in [management, *members]:
        creds: dict[str, Any] = {}
        if account != management:
            got = sts.assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="seed"
            )["Credentials"]
            creds = {
                "aws_access_key_id": got["AccessKeyId"],
                "aws_secret_access_key": got["SecretAccessKey"],
                "aws_session_token": got["SessionToken"],
            }
        for region in regions:
            ec2 = boto3.client("ec2", region_name=region, endpoint_url=url, **creds)
            ec2.run_instances(ImageId=DEMO_AMI, InstanceType="m5.large", MinCount=1, MaxCount=1)
            ec2.create_volume(AvailabilityZone=f"{region}a", Size=50, VolumeType="gp2")
    return [management, *members]


def scan(url: str, regions: tuple[str, ...], workers: int) -> tuple[float, Counter[str], Any]:
    from costscan.providers.aws import AwsProvider
    from costscan.providers.interface import ScanRequest
    from costscan.scanner.contracts.inventory import RunContext

    calls: Counter[str] = Counter()

    def count(event_name: str = "", **_: Any) -> None:
        # before-send.<service>.<operation> fires once per attempt: what reaches the
        # wire, retries included.
        calls[event_name.split(".")[1] if event_name.count(".") >= 2 else "?"] += 1

    provider = AwsProvider(hooks=[("before-send", count)])
    started = time.perf_counter()
    inventory = provider.collect(
        ScanRequest(
            context=RunContext(now=datetime.now(UTC).replace(microsecond=0)),
            regions=regions,
            endpoint_url=url,
            org_role=ROLE,
            max_workers=workers,
        )
    )
    return time.perf_counter() - started, calls, inventory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument("--no-serial", action="store_true", help="skip the one-worker scan")
    args = parser.parse_args()
    regions = REGIONS[: args.regions]
    _credentials()

    queue: Any = multiprocessing.get_context("fork").Queue()
    child = multiprocessing.get_context("fork").Process(target=_serve, args=(queue,), daemon=True)
    child.start()
    try:
        url = queue.get(timeout=120)
        began = time.perf_counter()
        accounts = seed(url, args.accounts, regions)
        print(
            f"seeded {len(accounts)} accounts x {len(regions)} regions "
            f"in {time.perf_counter() - began:.1f} s"
        )
        runs = [args.workers] if args.no_serial else [args.workers, 1]
        timings = {}
        for workers in runs:
            elapsed, calls, inventory = scan(url, regions, workers)
            timings[workers] = elapsed
            total = sum(calls.values())
            pairs = len(inventory.accounts) * len(inventory.regions)
            print(
                f"workers {workers:>2}: {elapsed:7.1f} s wall, {total:,} calls on the wire "
                f"({total / max(pairs, 1):.1f} per account-region), "
                f"{len(inventory.accounts)} accounts, {len(inventory.regions)} regions, "
                f"{inventory.frame('compute').height} instances, "
                f"{inventory.frame('volumes').height} volumes, {len(inventory.errors)} errors"
            )
            top = ", ".join(f"{name} {n:,}" for name, n in calls.most_common(6))
            print(f"  by service: {top}")
            for error in inventory.errors[:5]:
                print(
                    f"  error: {error.collector} {error.account_id} {error.region}: {error.message}"
                )
        if len(timings) == 2:
            print(
                f"pool of {args.workers} vs one worker: {timings[1] / timings[args.workers]:.1f}x"
            )
    finally:
        child.terminate()
        child.join(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
