"""The AWS provider (boto3, read-only). See ``providers.aws.provider``."""

from __future__ import annotations

from costscan.providers.aws.provider import AwsProvider

__all__ = ["AwsProvider"]
