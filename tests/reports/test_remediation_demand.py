"""Commands for the demand-matching findings, read back from their evidence."""

from __future__ import annotations

from costscan.reports.remediation import remediation
from tests.reports.test_remediation import finding


def test_lambda_memory_sets_the_target_size_and_quotes_the_name() -> None:
    fix = remediation(
        finding(
            policy_id="rightsizing.lambda-memory",
            resource_id="arn:aws:lambda:eu-west-1:111111111111:function:resize; rm -rf ~",
            resource_name="resize; rm -rf ~",
            evidence={"target_mb": 384.0},
        )
    )
    assert fix.cli == (
        "aws lambda update-function-configuration --function-name 'resize; rm -rf ~' "
        "--memory-size 384 --region eu-west-1"
    )
    assert fix.terraform == "aws_lambda_function.memory_size = 384"


def test_fixed_group_gets_target_tracking_and_its_new_bounds() -> None:
    fix = remediation(
        finding(
            policy_id="rightsizing.fleet-demand-matching",
            resource_id="web",
            resource_name="web",
            evidence={"recommended_min_size": 2.0, "recommended_max_size": 10.0},
        )
    )
    assert fix.cli is not None
    assert "--policy-type TargetTrackingScaling" in fix.cli
    assert '"TargetValue":70.0' in fix.cli
    assert "--min-size 2 --max-size 10 --region eu-west-1" in fix.cli
    assert fix.change == "Scale Auto Scaling group web with target tracking at 70% CPU (2-10)"


def test_slow_service_on_a_hot_group_scales_the_group_out() -> None:
    fix = remediation(
        finding(
            policy_id="rightsizing.load-balancer-bottleneck",
            resource_id="arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/shop/1",
            resource_name="shop",
            action="bottleneck",
            evidence={"group": "hot", "group_instances": 4.0, "extra_instances": 1.0},
        )
    )
    assert fix.cli is not None and "--desired-capacity 5 --max-size 5" in fix.cli
    assert "hot" in fix.change and "behind shop" in fix.change


def test_fargate_task_names_its_cluster_and_new_size() -> None:
    fix = remediation(
        finding(
            policy_id="rightsizing.fargate-task",
            resource_id="arn:aws:ecs:eu-west-1:111111111111:service/main/api",
            resource_name="api",
            evidence={"new_cpu_units": 1024.0, "new_memory_mb": 3072.0},
        )
    )
    assert fix.cli is not None and "--cluster main --service api" in fix.cli
    assert fix.change == "Run ECS service api with 1024 CPU units and 3072 MiB tasks"
    assert fix.console_url is not None and "/clusters/main/services/api" in fix.console_url
