"""Which instance types are current generation: AWS's documented list, not moto's copy."""

from __future__ import annotations

import polars as pl

from costscan.providers.pricing.aws import FACTS_CSV, PREVIOUS_GENERATION_FAMILIES


def test_bundled_generation_flags_follow_aws_documented_previous_generation_list() -> None:
    facts = pl.read_csv(FACTS_CSV)
    expected = ~pl.col("family").is_in(sorted(PREVIOUS_GENERATION_FAMILIES))
    wrong = facts.filter(pl.col("current_generation") != expected)
    assert wrong.is_empty(), wrong
    current = set(facts.filter(pl.col("current_generation"))["family"])
    # AWS lists these as current generation (moto 5.2 does not).
    assert {"m5", "c5", "r5", "m6i", "r6i", "t2"} <= current
    assert {"m4", "c4", "r4", "m3"}.isdisjoint(current)


def test_the_demo_answers_describe_instance_types_as_aws_documents() -> None:
    from moto.ec2.models.instance_types import InstanceTypeBackend

    from costscan.demo.account import use_documented_instance_generations

    use_documented_instance_generations()
    answered = {
        t.name: t["CurrentGeneration"] for t in InstanceTypeBackend().describe_instance_types()
    }
    assert answered["m5.large"] is True
    assert answered["m6i.large"] is True
    assert answered["m4.large"] is False
