"""The least-privilege IAM policy costscan needs: every read its AWS collectors make.

The README's policy is generated from ``IAM_ACTIONS``
(``python -m costscan.providers.aws.permissions``), and a test checks that every operation a
full scan sends maps to an action listed here, so the documented policy cannot drift from
what the code calls.
"""

from __future__ import annotations

import json

# botocore service name -> IAM service prefix, where they differ.
IAM_PREFIX = {
    "efs": "elasticfilesystem",
    "elbv2": "elasticloadbalancing",
    "opensearch": "es",
    "monitoring": "cloudwatch",
}

# Operations whose IAM action is not named like the operation.
IAM_ACTION_FOR = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketLifecycleConfiguration"): "s3:GetLifecycleConfiguration",
    ("s3", "ListBucketIntelligentTieringConfigurations"): "s3:GetIntelligentTieringConfiguration",
    ("s3", "ListMultipartUploads"): "s3:ListBucketMultipartUploads",
    ("s3", "ListParts"): "s3:ListMultipartUploadParts",
    ("ce", "GetCostAndUsageWithResources"): "ce:GetCostAndUsageWithResources",
}

IAM_ACTIONS: tuple[str, ...] = (
    "application-autoscaling:DescribeScalableTargets",
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribePolicies",
    "autoscaling:DescribeScheduledActions",
    "ce:GetCostAndUsage",
    "ce:GetCostAndUsageWithResources",
    "ce:GetReservationCoverage",
    "ce:GetReservationUtilization",
    "ce:GetSavingsPlansCoverage",
    "ce:GetSavingsPlansUtilizationDetails",
    "cloudfront:GetDistributionConfig",
    "cloudfront:ListDistributions",
    "cloudwatch:GetMetricData",
    "cloudwatch:ListMetrics",
    "compute-optimizer:GetAutoScalingGroupRecommendations",
    "compute-optimizer:GetECSServiceRecommendations",
    "compute-optimizer:GetLambdaFunctionRecommendations",
    "cost-optimization-hub:ListRecommendations",
    "dynamodb:DescribeTable",
    "dynamodb:ListTables",
    "dynamodb:ListTagsOfResource",
    "ec2:DescribeAddresses",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeInstances",
    "ec2:DescribeNatGateways",
    "ec2:DescribeRegions",
    "ec2:DescribeReservedInstances",
    "ec2:DescribeSnapshots",
    "ec2:DescribeSpotPriceHistory",
    "ec2:DescribeVolumes",
    "ec2:DescribeVpcEndpoints",
    "ecs:DescribeServices",
    "ecs:DescribeTaskDefinition",
    "ecs:ListClusters",
    "ecs:ListServices",
    "elasticache:DescribeCacheClusters",
    "elasticache:DescribeReservedCacheNodes",
    "elasticache:ListTagsForResource",
    "elasticfilesystem:DescribeFileSystems",
    "elasticfilesystem:DescribeLifecycleConfiguration",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "es:DescribeDomains",
    "es:ListDomainNames",
    "es:ListTags",
    "lambda:ListFunctions",
    "logs:DescribeLogGroups",
    "organizations:ListAccounts",
    "pricing:GetProducts",
    "rds:DescribeDBInstances",
    "rds:DescribeReservedDBInstances",
    "redshift:DescribeClusters",
    "s3:GetBucketLocation",
    "s3:GetIntelligentTieringConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:ListAllMyBuckets",
    "s3:ListBucketMultipartUploads",
    "s3:ListMultipartUploadParts",
    "savingsplans:DescribeSavingsPlans",
    "sts:GetCallerIdentity",
)


def iam_action(service: str, operation: str) -> str:
    """The IAM action that allows ``operation`` of botocore service ``service``."""
    special = IAM_ACTION_FOR.get((service, operation))
    if special:
        return special
    return f"{IAM_PREFIX.get(service, service)}:{operation}"


def policy_document() -> str:
    """The read-only policy as the README shows it."""
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CostscanReadOnly",
                "Effect": "Allow",
                "Action": list(IAM_ACTIONS),
                "Resource": "*",
            }
        ],
    }
    return json.dumps(document, indent=2)


if __name__ == "__main__":  # pragma: no cover
    print(policy_document())
