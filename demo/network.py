"""Demo seeding for the network family: an idle Elastic IP, a NAT gateway's VPC without
gateway endpoints, and an ALB with no targets, in the first demo region.

moto lacks Cost Explorer's GetCostAndUsageWithResources, so the demo seeds no data
transfer: the collector asks for resource-level data only when account-wide transfer
exists, which keeps the demo's error list empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


def seed_network(endpoint_url: str, now: datetime, regions: Sequence[str]) -> None:
    """Seed network waste into the moto account at ``endpoint_url`` (``now`` unused: the
    resources carry no metrics, so an empty lookback is what makes them idle)."""
    import boto3

    del now
    region = regions[0] if regions else "us-east-1"
    ec2 = boto3.client("ec2", region_name=region, endpoint_url=endpoint_url)
    address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.create_tags(Resources=[address], Tags=[{"Key": "Name", "Value": "old-bastion-ip"}])
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{i}.0/24", AvailabilityZone=f"{region}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    elbv2 = boto3.client("elbv2", region_name=region, endpoint_url=endpoint_url)
    elbv2.create_load_balancer(Name="legacy-campaign-alb", Subnets=subnets, Type="application")
