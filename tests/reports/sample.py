"""Hand-built reports for the renderer tests.

``sample_report()`` is a small run whose figures were worked out by hand with the ROI model
in DESIGN.md at an engineer rate of $100/hour (the comments show the sums), so the golden
files do not move when ranking changes. One finding carries hostile text in its name,
detail and recommendation, so the golden files also pin down the escaping.

``large_report(n)`` builds ``n`` findings with polars for the size tests; its summary is
aggregated from its own frame, the way ranking does it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from costscan.reports.interface import Report, RunInfo
from costscan.reports.series import CpuSeries
from costscan.scanner.contracts.errors import CollectorError
from costscan.scanner.contracts.schema import FAMILIES, RANKED, SUPPRESSED

HOSTILE_FORMULA = "=cmd|' /C calc'!A0"
HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_PIPE = "a|b"

RUN = RunInfo(
    provider="aws",
    accounts=["111111111111", "222222222222"],
    regions=["eu-west-1", "us-east-1"],
    started_at="2026-11-29T21:45:00Z",
    lookback_days=14,
    currency="USD",
    costscan_version="0.1.0",
    hidden_below_min_savings=3,
    min_savings=5.0,
)


def _finding(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "provider": "aws",
        "account_id": "111111111111",
        "region": "us-east-1",
        "resource_type": "ec2_instance",
        "upfront_cost": 0.0,
        "added_monthly_cost": 0.0,
        "price_source": "bundled",
        "alternative_to": None,
        "counted": True,
    }
    row.update(values)
    row.setdefault("resource_name", row["resource_id"])
    row.setdefault("finding_id", f"{row['policy_id']}|{row['resource_id']}")
    row.setdefault("standalone_monthly_savings", row["monthly_savings"])
    row.setdefault("monthly_savings_before_discounts", row["monthly_savings"])
    row.setdefault("deferred_monthly_savings", 0.0)
    row.setdefault("category", "investment" if row.get("action") == "bottleneck" else "savings")
    return row


SAMPLE_FINDINGS: list[dict[str, Any]] = [
    _finding(
        rank=1,
        resource_id="assets-prod",
        resource_type="s3_bucket",
        policy_id="network.cdn-in-front",
        family="network",
        action="configure",
        title="Public bucket serves heavy internet egress without a CDN",
        detail="42 TB a month leaves assets-prod straight to the internet.",
        recommendation="Put CloudFront in front of the bucket with compression on.",
        current_monthly_cost=1400.0,
        monthly_savings=900.0,
        added_monthly_cost=500.0,
        effort_hours=16.0,
        risk="medium",
        performance="improves",
        confidence=0.7,
        price_source="live",
        evidence='{"egress_gb_month": 43008, "cdn_price_per_gb": 0.085, "cache_hit_rate": 0.8}',
        net_monthly_savings=400.0,  # 900 - 500
        implementation_cost=1600.0,  # 16 h * 100
        payback_months=4.0,  # 1600 / 400
        roi_12m=2.0,  # (12 * 400 - 1600) / 1600
        priority="High",
    ),
    _finding(
        rank=2,
        account_id="222222222222",
        region="eu-west-1",
        resource_id="i-0b7c00000000003",
        resource_name=HOSTILE_FORMULA,
        policy_id="scheduling.offhours",
        family="scheduling",
        action="schedule",
        title="Non-production instance runs around the clock",
        detail=f"{HOSTILE_SCRIPT}\nbusy {HOSTILE_PIPE} on weekdays, `idle` *nights* [here](x) @ops",
        recommendation="-Stop it outside 08:00-20:00 Mon-Fri\r\n(tag Schedule=office-hours)",
        current_monthly_cost=280.32,
        monthly_savings=180.21,
        effort_hours=1.0,
        risk="low",
        performance="neutral",
        confidence=0.8,
        evidence='{"active_hours_per_week": 60, "tags": {"env": "dev"}, "note": "<b>x</b>"}',
        net_monthly_savings=180.21,
        implementation_cost=100.0,  # 1 h * 100
        payback_months=0.55,  # 100 / 180.21
        roi_12m=20.63,  # (12 * 180.21 - 100) / 100
        priority="High",
    ),
    _finding(
        rank=3,
        resource_id="i-0a1b00000000001",
        resource_name="batch-runner-old",
        policy_id="rightsizing.idle",
        family="rightsizing",
        action="remove",
        title="Idle instance: CPU never above 1% in 14 days",
        detail="Max CPU 0.6% over 336 hours, network under 5 MB a day.",
        recommendation="Stop or terminate batch-runner-old.",
        current_monthly_cost=140.16,
        monthly_savings=140.16,
        effort_hours=0.5,
        risk="low",
        performance="neutral",
        confidence=0.9,
        evidence='{"cpu_max_pct": 0.6, "lookback_hours": 336, "network_mb_per_day": 1.2}',
        net_monthly_savings=140.16,
        implementation_cost=50.0,  # 0.5 h * 100
        payback_months=0.36,  # 50 / 140.16
        roi_12m=32.64,  # (12 * 140.16 - 50) / 50
        priority="High",
    ),
    _finding(
        rank=4,
        resource_id="vol-0c5d00000000005",
        resource_name="old-data",
        resource_type="ebs_volume",
        policy_id="storage.unattached-volume",
        family="storage",
        action="remove",
        title="Unattached volume for 41 days",
        detail="500 GiB gp2 volume, detached since 2026-10-19.",
        recommendation="Snapshot it if needed, then delete it.",
        current_monthly_cost=50.0,
        monthly_savings=50.0,
        effort_hours=0.25,
        risk="low",
        performance="neutral",
        confidence=0.95,
        evidence='{"size_gb": 500, "volume_type": "gp2", "detached_days": 41}',
        net_monthly_savings=50.0,
        implementation_cost=25.0,  # 0.25 h * 100
        payback_months=0.5,  # 25 / 50
        roi_12m=23.0,  # (12 * 50 - 25) / 25
        priority="High",
    ),
    _finding(
        rank=5,
        resource_id="/aws/lambda/a|b `x` *y*",
        resource_type="log_group",
        policy_id="observability.log-retention",
        family="observability",
        action="configure",
        title="Log group never expires",
        detail="310 GB stored with no retention.",
        recommendation="Set a 30-day retention.",
        current_monthly_cost=30.0,
        monthly_savings=25.5,
        effort_hours=0.25,
        risk="low",
        performance="neutral",
        confidence=0.9,
        evidence="retention: never {",  # not JSON: the report keeps it as {"raw": ...}
        net_monthly_savings=25.5,
        implementation_cost=25.0,  # 0.25 h * 100
        payback_months=0.98,  # 25 / 25.5
        roi_12m=11.24,  # (12 * 25.5 - 25) / 25
        priority="High",
    ),
    _finding(
        rank=6,
        resource_id="i-0d4e00000000004",
        resource_name="api-server-1",
        policy_id="commitments.savings-plan",
        family="commitments",
        action="commit",
        title="Steady on-demand instance: 1-year no-upfront savings plan",
        detail="Ran all 336 hours of the lookback.",
        recommendation="Cover it with a 1-year no-upfront compute savings plan.",
        current_monthly_cost=200.0,
        monthly_savings=56.0,
        effort_hours=2.0,
        risk="medium",
        performance="neutral",
        confidence=0.85,
        evidence='{"term": "1y", "payment": "no_upfront", "break_even_utilization": 0.72}',
        net_monthly_savings=56.0,
        implementation_cost=200.0,  # 2 h * 100
        payback_months=3.57,  # 200 / 56
        roi_12m=2.36,  # (12 * 56 - 200) / 200
        priority="Medium",
    ),
    _finding(
        rank=7,
        resource_id="payments/latency",
        resource_type="metric_namespace",
        policy_id="observability.metric-cardinality",
        family="observability",
        action="configure",
        title="Custom metric with a request-id dimension",
        detail="1,200 series, 1,180 of them from request_id.",
        recommendation="Drop the request_id dimension.",
        current_monthly_cost=360.0,
        monthly_savings=12.0,
        added_monthly_cost=3.0,
        effort_hours=4.0,
        risk="low",
        performance="neutral",
        confidence=0.6,
        evidence='{"series": 1200, "top_dimensions": [{"key": "request_id", "distinct": 1180}]}',
        net_monthly_savings=9.0,  # 12 - 3
        implementation_cost=400.0,  # 4 h * 100
        payback_months=44.44,  # 400 / 9
        roi_12m=-0.73,  # (12 * 9 - 400) / 400
        priority="Low",
    ),
    _finding(
        rank=8,
        resource_id="vol-0c5d00000000005",
        resource_name="old-data",
        resource_type="ebs_volume",
        policy_id="storage.gp2-to-gp3",
        family="storage",
        action="resize",
        title="gp2 volume can move to gp3",
        detail="gp3 costs 20% less at the same baseline.",
        recommendation="Modify the volume to gp3.",
        current_monthly_cost=50.0,
        monthly_savings=10.0,
        effort_hours=0.5,
        risk="low",
        performance="improves",
        confidence=0.95,
        evidence='{"size_gb": 500, "from": "gp2", "to": "gp3"}',
        net_monthly_savings=10.0,
        implementation_cost=50.0,  # 0.5 h * 100
        payback_months=5.0,  # 50 / 10
        roi_12m=1.4,  # (12 * 10 - 50) / 50
        priority="High",
        counted=False,
        alternative_to="storage.unattached-volume|vol-0c5d00000000005",
    ),
]

SAMPLE_BOTTLENECKS: list[dict[str, Any]] = [
    _finding(
        rank=1,
        account_id="222222222222",
        region="eu-west-1",
        resource_id="i-0f9a00000000009",
        resource_name="checkout-db",
        policy_id="rightsizing.under-provisioned",
        family="rightsizing",
        action="bottleneck",
        title="p95 CPU above 85%: next size up",
        detail="p95 CPU 93.4% over 14 days on m5.xlarge.",
        recommendation="Move to m5.2xlarge.",
        current_monthly_cost=280.32,
        monthly_savings=0.0,
        added_monthly_cost=280.32,
        effort_hours=2.0,
        risk="medium",
        performance="improves",
        confidence=0.9,
        evidence='{"cpu_p95_pct": 93.4, "next_size": "m5.2xlarge"}',
        net_monthly_savings=-280.32,
        implementation_cost=200.0,  # 2 h * 100
        payback_months=None,  # never pays back: it costs money
        roi_12m=-17.82,  # (12 * -280.32 - 200) / 200
        priority="Medium",
        counted=False,
    ),
]

SAMPLE_SUMMARY: dict[str, Any] = {
    "findings": 8,
    "counted_findings": 7,
    "monthly_savings": 860.87,  # 400 + 180.21 + 140.16 + 50 + 25.5 + 56 + 9
    "annual_savings": 10330.44,
    "monthly_savings_before_discounts": 860.87,
    "cost_avoidance": 0.0,
    "commitment_waste": 0.0,
    "possible_monthly_savings": 0.0,
    "deferred_monthly_savings": 0.0,
    "investments_monthly_cost": 280.32,
    "confidence_floor": 0.5,
    "by_family": {
        "rightsizing": {"findings": 1, "monthly_savings": 140.16},
        "commitments": {"findings": 1, "monthly_savings": 56.0},
        "storage": {"findings": 2, "monthly_savings": 50.0},
        "scheduling": {"findings": 1, "monthly_savings": 180.21},
        "observability": {"findings": 2, "monthly_savings": 34.5},
        "network": {"findings": 1, "monthly_savings": 400.0},
    },
    "spend": {
        "billed_cost": 48210.55,
        "effective_cost": 45877.1,
        "period_start": "2026-11-01",
        "period_end": "2026-11-29",
    },
    "bottlenecks": 1,
    "bottleneck_monthly_cost": 280.32,
    "hidden_below_min_savings": 3,
    "min_savings": 5.0,
}

SAMPLE_ERRORS = [
    CollectorError(
        collector="cloudwatch:GetMetricData",
        account_id="222222222222",
        region="eu-west-1",
        message="AccessDenied: not authorized to perform cloudwatch:GetMetricData",
    ),
    CollectorError(
        collector="ec2:DescribeVolumes",
        account_id="111111111111",
        region="us-east-1",
        message='@SUM(1+1)*cmd|" <img src=x onerror=alert(1)>',
    ),
]

SAMPLE_REJECTIONS = [{"frame": "compute", "reason": "no resource_id", "rows": 2}]


def ranked_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=dict(RANKED))


# The idle instance's hourly CPU: 100 hours, the average 0.1% to 1.0% in steps of 0.1
# (ten hours each) with one hour missing, the maximum 0.5 points above. Its p99 by nearest
# rank over the 99 hours with data is the 99th smallest value, 1.0%.
SAMPLE_SERIES_START = "2026-11-25T14:00:00Z"
SAMPLE_CPU: list[float | None] = [round(0.1 * (1 + h // 10), 1) for h in range(100)]
SAMPLE_CPU[42] = None
SAMPLE_UTILIZATION = {
    "i-0a1b00000000001": CpuSeries(
        SAMPLE_SERIES_START,
        list(SAMPLE_CPU),
        [None if v is None else round(v + 0.5, 1) for v in SAMPLE_CPU],
    )
}


def sample_report() -> Report:
    return Report(
        run=RUN,
        findings=ranked_frame(SAMPLE_FINDINGS),
        bottlenecks=ranked_frame(SAMPLE_BOTTLENECKS),
        summary=SAMPLE_SUMMARY,
        errors=list(SAMPLE_ERRORS),
        rejections=list(SAMPLE_REJECTIONS),
        utilization=dict(SAMPLE_UTILIZATION),
    )


def large_report(n: int, accounts: int = 3) -> Report:
    """``n`` findings spread over families, accounts and regions; every tenth an alternative."""
    index = pl.col("i")
    family = pl.lit(pl.Series(FAMILIES)).get(index % len(FAMILIES))
    alternative = (index % 10) == 9
    net = ((pl.lit(n) - index) * 0.37 + 1.0).round(2)
    frame = pl.select(pl.int_range(0, n, dtype=pl.Int64).alias("i")).with_columns(
        pl.lit("aws").alias("provider"),
        (pl.lit(100000000000) + index % accounts).cast(pl.String).alias("account_id"),
        pl.when(index % 2 == 0)
        .then(pl.lit("us-east-1"))
        .otherwise(pl.lit("eu-west-1"))
        .alias("region"),
        pl.format("i-{}", index).alias("resource_id"),
        pl.format("server-{}", index).alias("resource_name"),
        pl.lit("ec2_instance").alias("resource_type"),
        pl.format("policy-{}|i-{}", index % 17, index).alias("finding_id"),
        pl.format("{}.policy-{}", family, index % 17).alias("policy_id"),
        family.alias("family"),
        pl.lit("resize").alias("action"),
        pl.format("Finding of kind {} on a server", index % 17).alias("title"),
        pl.format("Server {} is larger than its load needs.", index).alias("detail"),
        pl.lit("Move it to a smaller type.").alias("recommendation"),
        (net * 2).alias("current_monthly_cost"),
        net.alias("monthly_savings"),
        pl.lit(0.0).alias("added_monthly_cost"),
        pl.lit(0.0).alias("upfront_cost"),
        pl.lit(1.0).alias("effort_hours"),
        pl.lit("low").alias("risk"),
        pl.lit("neutral").alias("performance"),
        pl.lit(0.8).alias("confidence"),
        pl.lit("bundled").alias("price_source"),
        pl.concat_str(
            [pl.lit('{"cpu_p99_pct": '), (index % 70).cast(pl.String), pl.lit("}")]
        ).alias("evidence"),
        net.alias("standalone_monthly_savings"),
        net.alias("net_monthly_savings"),
        pl.lit(100.0).alias("implementation_cost"),
        (100.0 / net).round(2).alias("payback_months"),
        ((12 * net - 100.0) / 100.0).round(2).alias("roi_12m"),
        pl.lit("High").alias("priority"),
        (~alternative).alias("counted"),
        pl.when(alternative)
        .then(pl.format("policy-{}|i-{}", (index - 1) % 17, index - 1))
        .otherwise(None)
        .alias("alternative_to"),
        (index + 1).alias("rank"),
        pl.lit(None, dtype=pl.String).alias("status"),
        pl.lit(None, dtype=pl.Int64).alias("weeks_open"),
        pl.lit("savings").alias("category"),
        net.alias("monthly_savings_before_discounts"),
        pl.lit(0.0).alias("deferred_monthly_savings"),
    )
    frame = frame.select(
        [
            pl.col(c).cast(t) if c in frame.columns else pl.lit(None, dtype=t).alias(c)
            for c, t in RANKED.items()
        ]
    )
    counted = frame.filter(pl.col("counted"))
    by_family = {f: {"findings": 0, "monthly_savings": 0.0} for f in FAMILIES}
    for row in (
        frame.group_by("family")
        .agg(
            pl.len().alias("findings"),
            pl.col("net_monthly_savings").filter(pl.col("counted")).sum().alias("monthly_savings"),
        )
        .iter_rows(named=True)
    ):
        by_family[row["family"]] = {
            "findings": row["findings"],
            "monthly_savings": round(row["monthly_savings"], 2),
        }
    monthly = round(float(counted["net_monthly_savings"].sum()), 2)
    summary = {
        "findings": frame.height,
        "counted_findings": counted.height,
        "monthly_savings": monthly,
        "annual_savings": round(monthly * 12, 2),
        "by_family": by_family,
        "spend": None,
        "bottlenecks": 0,
        "bottleneck_monthly_cost": 0.0,
        "hidden_below_min_savings": 0,
        "min_savings": 0.0,
    }
    run = RunInfo(
        provider="aws",
        accounts=[str(100000000000 + a) for a in range(accounts)],
        regions=["eu-west-1", "us-east-1"],
        started_at="2026-11-29T21:45:00Z",
        lookback_days=14,
    )
    return Report(
        run=run,
        findings=frame,
        bottlenecks=pl.DataFrame(schema=dict(RANKED)),
        summary=summary,
    )


# --- a second week: history, suppressions and warnings ---------------------------------------

# Week-over-week status of each sample finding, by rank: "new" this run or "open" for weeks.
HISTORY_STATUS: dict[int, tuple[str, int]] = {
    1: ("open", 3),
    2: ("new", 1),
    3: ("open", 2),
    4: ("open", 5),
    5: ("new", 1),
    6: ("open", 2),
    7: ("open", 4),
    8: ("new", 1),
}

HISTORY: dict[str, Any] = {
    "previous_started_at": "2026-11-22T21:45:00Z",
    "new_findings": 3,  # ranks 2, 5 and 8
    "new_monthly_savings": 205.71,  # 180.21 + 25.5; rank 8 is an alternative, not counted
    "still_open": 5,
    "resolved": [
        {
            "finding_id": "rightsizing.idle|i-0e2f00000000007",
            "policy_id": "rightsizing.idle",
            "family": "rightsizing",
            "resource_id": "i-0e2f00000000007",
            "resource_name": "legacy-worker",
            "title": "Idle instance: CPU never above 1% in 14 days",
            "net_monthly_savings": 70.08,
            "weeks_open": 4,
        },
        {
            "finding_id": "network.idle-address|eipalloc-0a0b0c0d",
            "policy_id": "network.idle-address",
            "family": "network",
            "resource_id": "eipalloc-0a0b0c0d",
            "resource_name": None,
            "title": "Elastic IP not attached to anything",
            "net_monthly_savings": 3.6,
            "weeks_open": 2,
        },
    ],
    "realized_monthly_savings": 73.68,  # 70.08 + 3.6
}

HOSTILE_OWNER = "<img src=x onerror=alert(1)> @platform|sre"

SAMPLE_SUPPRESSED: list[dict[str, Any]] = [
    {
        **_finding(
            rank=1,
            resource_id="snap-0aa100000000001",
            resource_name="pre-migration-backup",
            resource_type="ebs_snapshot",
            policy_id="storage.old-snapshot",
            family="storage",
            action="remove",
            title="Snapshot older than 180 days",
            detail="250 GiB snapshot from 2026-02-03; its volume is gone.",
            recommendation="Delete the snapshot.",
            current_monthly_cost=12.5,
            monthly_savings=12.5,
            effort_hours=0.25,
            risk="low",
            performance="neutral",
            confidence=0.9,
            evidence='{"size_gb": 250, "age_days": 299}',
            net_monthly_savings=12.5,
            implementation_cost=25.0,  # 0.25 h * 100
            payback_months=2.0,  # 25 / 12.5
            roi_12m=5.0,  # (12 * 12.5 - 25) / 25
            priority="High",
            status="open",
            weeks_open=6,
        ),
        "suppress_rule": "policy=storage.* resource=snap-0aa1*",
        "suppress_reason": "Legal hold until the audit closes",
        "suppress_owner": "legal@example.com",
        "suppress_expires": date(2027, 3, 31),
    },
    {
        **_finding(
            rank=2,
            account_id="222222222222",
            region="eu-west-1",
            resource_id="i-0dd000000000002",
            resource_name="dr-standby",
            policy_id="rightsizing.idle",
            family="rightsizing",
            action="remove",
            title="Idle instance: CPU never above 1% in 14 days",
            detail="Max CPU 0.4% over 336 hours.",
            recommendation="Stop or terminate dr-standby.",
            current_monthly_cost=140.16,
            monthly_savings=140.16,
            effort_hours=0.5,
            risk="low",
            performance="neutral",
            confidence=0.9,
            evidence='{"cpu_max_pct": 0.4, "lookback_hours": 336}',
            net_monthly_savings=140.16,
            implementation_cost=50.0,  # 0.5 h * 100
            payback_months=0.36,  # 50 / 140.16
            roi_12m=32.64,  # (12 * 140.16 - 50) / 50
            priority="High",
            status="new",
            weeks_open=1,
        ),
        "suppress_rule": "policy=rightsizing.idle tag=role:dr",
        "suppress_reason": "Disaster-recovery standby: idle by design",
        "suppress_owner": HOSTILE_OWNER,
        "suppress_expires": date(2026, 12, 31),
    },
]

HISTORY_WARNINGS = [
    "Suppression policy=network.* resource=nat-0f1e* (owner ops@example.com) expired on "
    "2026-11-20; its findings count again.",
    f"Suppression owner field held {HOSTILE_SCRIPT}",
]

HISTORY_SUMMARY: dict[str, Any] = {
    **SAMPLE_SUMMARY,
    "spend": {
        **SAMPLE_SUMMARY["spend"],
        "top_resources": [
            {
                "resource_id": "i-0d4e00000000004",
                "service": "Amazon Elastic Compute Cloud",
                "billed_cost": 4120.5,
            },
            {
                "resource_id": "assets-prod",
                "service": "Amazon Simple Storage Service",
                "billed_cost": 2210.0,
            },
        ],
    },
    "suppressed": 2,
    "suppressed_monthly_savings": 152.66,  # 12.5 + 140.16
}


def history_report() -> Report:
    """The sample a week later: statuses, two resolved, two suppressed, two warnings."""
    findings = [
        {
            **row,
            "status": HISTORY_STATUS[row["rank"]][0],
            "weeks_open": HISTORY_STATUS[row["rank"]][1],
        }
        for row in SAMPLE_FINDINGS
    ]
    return Report(
        run=RUN,
        findings=ranked_frame(findings),
        bottlenecks=ranked_frame(SAMPLE_BOTTLENECKS),
        summary=HISTORY_SUMMARY,
        errors=list(SAMPLE_ERRORS),
        rejections=list(SAMPLE_REJECTIONS),
        suppressed=pl.DataFrame(SAMPLE_SUPPRESSED, schema=dict(SUPPRESSED)),
        history=HISTORY,
        warnings=list(HISTORY_WARNINGS),
        utilization=dict(SAMPLE_UTILIZATION),
    )
