"""The README's IAM policy is generated from providers/aws/permissions.py and covers every call."""

from __future__ import annotations

from pathlib import Path

from costscan.providers.aws.permissions import IAM_ACTIONS, iam_action, policy_document

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_shows_the_generated_policy() -> None:
    assert policy_document() in README.read_text(encoding="utf-8")


def test_every_action_is_a_read() -> None:
    verbs = ("Describe", "List", "Get")
    assert all(action.split(":", 1)[1].startswith(verbs) for action in IAM_ACTIONS)
    assert len(set(IAM_ACTIONS)) == len(IAM_ACTIONS)


def test_operation_names_map_to_iam_actions() -> None:
    assert iam_action("monitoring", "GetMetricData") == "cloudwatch:GetMetricData"
    assert (
        iam_action("elbv2", "DescribeTargetHealth") == "elasticloadbalancing:DescribeTargetHealth"
    )
    assert iam_action("s3", "ListBuckets") == "s3:ListAllMyBuckets"
    assert iam_action("ec2", "DescribeVolumes") in IAM_ACTIONS
