"""The demo's resource ids come from moto's seeded random source: the same seed, the same
ids, so two demo runs name the same resources (and ``costscan diff`` of them is empty)."""

from __future__ import annotations

import boto3

from costscan.demo.account import seed_identifiers


def _volume(endpoint_url: str) -> str:
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=endpoint_url)
    answer = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8, VolumeType="gp3")
    return str(answer["VolumeId"])


def test_the_same_seed_gives_the_same_ids_and_another_seed_others(endpoint_url: str) -> None:
    # moto builds a region's defaults (VPC, subnets) on its first call, drawing from the
    # same source: build them first, so each seeded run below starts from the same state.
    _volume(endpoint_url)
    seed_identifiers(endpoint_url, 20240601)
    first = [_volume(endpoint_url) for _ in range(3)]
    seed_identifiers(endpoint_url, 20240601)
    again = [_volume(endpoint_url) for _ in range(3)]
    seed_identifiers(endpoint_url, 7)
    other = [_volume(endpoint_url) for _ in range(3)]
    assert again == first
    assert len(set(first)) == 3
    assert not set(other) & set(first)
