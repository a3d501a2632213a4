"""AWS Lambda and Fargate list prices (USD), bundled for us-east-1.

Lambda bills duration per GB-second (memory × billed time) and requests per million;
Fargate bills the task's vCPU and memory reservation per hour. Both publish one price
list per region; us-east-1 is bundled here, and any other region is priced at its
us-east-1 figure with ``fallback`` set, so findings lower their confidence and name the
substitution (most commercial regions charge the us-east-1 Lambda rates; Fargate varies
more). No network, no credentials.

Sources (read 2026-12; the first tier, which every account below 6 billion x86
GB-seconds a month pays):

- Lambda: https://aws.amazon.com/lambda/pricing/ (US East (N. Virginia)): duration
  x86 $0.0000166667 and Arm $0.0000133334 per GB-second; requests $0.20 per million;
  provisioned concurrency $0.0000041667 (x86) and $0.0000033334 (Arm) per GB-second
  allocated.
- Fargate: https://aws.amazon.com/fargate/pricing/ (US East (N. Virginia), Linux):
  x86 $0.04048 per vCPU-hour and $0.004445 per GB-hour; Arm $0.03238 and $0.00356.
  Fargate Spot "runs at up to a 70% discount" and its price moves with spare capacity,
  so a Spot figure here is that documented discount, not a quote.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

FALLBACK_REGION = "us-east-1"
LAMBDA_REFERENCE = "https://aws.amazon.com/lambda/pricing/"
FARGATE_REFERENCE = "https://aws.amazon.com/fargate/pricing/"
AS_OF = "2026-12-01"
# "Fargate Spot ... at up to a 70% discount off the Fargate price": the most it saves.
FARGATE_SPOT_DISCOUNT = 0.70


@dataclass(frozen=True)
class LambdaPrices:
    gb_second_x86_64: float
    gb_second_arm64: float
    per_million_requests: float
    provisioned_gb_second_x86_64: float
    provisioned_gb_second_arm64: float


@dataclass(frozen=True)
class FargatePrices:
    vcpu_hour_x86_64: float
    gb_hour_x86_64: float
    vcpu_hour_arm64: float
    gb_hour_arm64: float


_LAMBDA: dict[str, LambdaPrices] = {
    "us-east-1": LambdaPrices(
        gb_second_x86_64=0.0000166667,
        gb_second_arm64=0.0000133334,
        per_million_requests=0.20,
        provisioned_gb_second_x86_64=0.0000041667,
        provisioned_gb_second_arm64=0.0000033334,
    ),
}
_FARGATE: dict[str, FargatePrices] = {
    "us-east-1": FargatePrices(
        vcpu_hour_x86_64=0.04048,
        gb_hour_x86_64=0.004445,
        vcpu_hour_arm64=0.03238,
        gb_hour_arm64=0.00356,
    ),
}


@dataclass(frozen=True)
class Priced(Generic[T]):
    """Prices for a region: the region whose list they are, and where they come from."""

    prices: T
    price_region: str
    reference: str
    fallback: bool


def lambda_prices(region: str) -> Priced[LambdaPrices]:
    """Lambda prices for ``region``, else us-east-1's (``fallback``)."""
    found = _LAMBDA.get(region)
    if found is not None:
        return Priced(found, region, LAMBDA_REFERENCE, False)
    return Priced(
        _LAMBDA[FALLBACK_REGION],
        FALLBACK_REGION,
        f"{LAMBDA_REFERENCE}; {region} is not bundled, us-east-1 price used",
        True,
    )


def fargate_prices(region: str) -> Priced[FargatePrices]:
    """Fargate prices for ``region``, else us-east-1's (``fallback``)."""
    found = _FARGATE.get(region)
    if found is not None:
        return Priced(found, region, FARGATE_REFERENCE, False)
    return Priced(
        _FARGATE[FALLBACK_REGION],
        FALLBACK_REGION,
        f"{FARGATE_REFERENCE}; {region} is not bundled, us-east-1 price used",
        True,
    )
