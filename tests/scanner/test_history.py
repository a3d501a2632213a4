"""--history: runs kept as Parquet (a folder or S3 on moto), new / open / resolved, diff."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from costscan.reports.changes import format_diff
from costscan.reports.formats import ParquetRenderer
from costscan.reports.interface import Report, RunInfo
from costscan.reports.json import JsonRenderer
from costscan.reports.ranking import rank
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import InputFileError, UsageError
from costscan.scanner.pipeline import history
from tests.moto_server import RecordingMotoServer

ACCOUNT = "111111111111"
WEEK_1 = "2026-11-15T06:00:00Z"
WEEK_2 = "2026-11-22T06:00:00Z"
WEEK_3 = "2026-11-29T06:00:00Z"


def finding(policy_id: str, resource_id: str, savings: float, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "provider": "aws",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "resource_id": resource_id,
        "resource_name": f"name-{resource_id}",
        "resource_type": "ebs_volume",
        "finding_id": f"{policy_id}|{resource_id}",
        "policy_id": policy_id,
        "family": policy_id.split(".")[0],
        "action": "configure",
        "title": f"{policy_id} title",
        "current_monthly_cost": savings * 2,
        "monthly_savings": savings,
        "added_monthly_cost": 0.0,
        "upfront_cost": 0.0,
        "effort_hours": 1.0,
        "risk": "low",
        "performance": "neutral",
        "confidence": 0.9,
        "price_source": "bundled",
        "evidence": '{"gb": 100}',
    }
    row.update(values)
    return row


A = finding("storage.unattached-volume", "vol-a", 40.0, action="remove")
B = finding("storage.old-snapshot", "snap-b", 12.5)
C = finding("observability.log-retention", "lg-c", 30.0)
D = finding("network.idle-eip", "eip-d", 3.6)
# Never counted: removing vol-a (A) makes resizing it an alternative.
A_ALT = finding("storage.gp2-to-gp3", "vol-a", 8.0, action="resize")


def ranked(*rows: dict[str, Any]) -> pl.DataFrame:
    frame = pl.DataFrame(list(rows), schema=dict(schema.FINDINGS))
    return rank(frame, hourly_rate=100.0).findings


def save(folder: str, frame: pl.DataFrame, started_at: str, **kw: Any) -> str:
    return history.save_run(
        folder,
        frame,
        started_at,
        kw.pop("provider", "aws"),
        kw.pop("accounts", [ACCOUNT]),
        **kw,
    )


def week(
    folder: str, started_at: str, *rows: dict[str, Any]
) -> tuple[pl.DataFrame, dict[str, Any] | None]:
    """One weekly run as the engine does it: rank, compare with history, save."""
    current = ranked(*rows)
    previous = history.load_previous(folder, "aws", [ACCOUNT], started_at)
    marked, changes = history.compare(
        current,
        None if previous is None else previous.findings,
        previous_started_at=None if previous is None else previous.started_at,
        started_at=started_at,
    )
    save(folder, marked, started_at)
    return marked, changes


def statuses(frame: pl.DataFrame) -> dict[str, tuple[str, int]]:
    return {
        r["finding_id"]: (r["status"], r["weeks_open"])
        for r in frame.select("finding_id", "status", "weeks_open").to_dicts()
    }


def three_weeks(folder: str) -> list[tuple[pl.DataFrame, dict[str, Any] | None]]:
    return [
        week(folder, WEEK_1, A, A_ALT, B, C),
        week(folder, WEEK_2, B, C, D),  # A fixed (and its alternative gone)
        week(folder, WEEK_3, C, D),  # B fixed
    ]


def check_three_weeks(runs: list[tuple[pl.DataFrame, dict[str, Any] | None]]) -> None:
    (first, none), (second, changes_2), (third, changes_3) = runs
    assert none is None
    assert set(statuses(first).values()) == {("new", 1)}
    assert statuses(second) == {
        B["finding_id"]: ("open", 2),
        C["finding_id"]: ("open", 2),
        D["finding_id"]: ("new", 1),
    }
    assert changes_2 == {
        "previous_started_at": WEEK_1,
        "new_findings": 1,
        "new_monthly_savings": 3.6,
        "still_open": 2,
        # A's alternative was never counted, so only A's own saving was realized.
        "resolved": [
            {
                "finding_id": A["finding_id"],
                "policy_id": "storage.unattached-volume",
                "family": "storage",
                "resource_id": "vol-a",
                "resource_name": "name-vol-a",
                "title": "storage.unattached-volume title",
                "net_monthly_savings": 40.0,
                "weeks_open": 1,
            }
        ],
        "realized_monthly_savings": 40.0,
    }
    assert statuses(third) == {C["finding_id"]: ("open", 3), D["finding_id"]: ("open", 2)}
    assert changes_3 is not None
    assert changes_3["new_findings"] == 0 and changes_3["new_monthly_savings"] == 0.0
    assert [r["finding_id"] for r in changes_3["resolved"]] == [B["finding_id"]]
    assert changes_3["resolved"][0]["weeks_open"] == 2
    assert changes_3["realized_monthly_savings"] == 12.5
    assert changes_3["previous_started_at"] == WEEK_2


# --- local folder ----------------------------------------------------------------------


def test_three_weekly_runs_in_a_folder_show_new_open_and_resolved(tmp_path: Path) -> None:
    folder = str(tmp_path / "history")
    runs = three_weeks(folder)
    check_three_weeks(runs)
    names = sorted(p.name for p in (tmp_path / "history").iterdir())
    assert names == [
        f"costscan-aws-{ACCOUNT}-20261115T060000Z.parquet",
        f"costscan-aws-{ACCOUNT}-20261122T060000Z.parquet",
        f"costscan-aws-{ACCOUNT}-20261129T060000Z.parquet",
    ]
    saved = pl.read_parquet(tmp_path / "history" / names[-1])
    assert saved.schema == pl.Schema({**schema.RANKED, **history.HISTORY_COLUMNS})
    assert statuses(saved) == statuses(runs[-1][0])


def test_previous_run_is_the_latest_earlier_one_for_the_same_provider_and_accounts(
    tmp_path: Path,
) -> None:
    folder = str(tmp_path)
    save(folder, ranked(A), WEEK_1)
    save(folder, ranked(B), WEEK_2)
    save(folder, ranked(C), WEEK_3)  # later than the run asking: not "previous"
    save(folder, ranked(D), WEEK_2, accounts=["222222222222"])
    save(folder, ranked(D), WEEK_2, provider="gcp")
    (tmp_path / "notes.parquet").write_bytes(b"not ours")  # ignored: not a run's name

    previous = history.load_previous(folder, "aws", [ACCOUNT], "2026-11-28T00:00:00Z")
    assert previous is not None
    assert previous.started_at == WEEK_2
    assert previous.location == str(tmp_path / f"costscan-aws-{ACCOUNT}-20261122T060000Z.parquet")
    assert previous.findings["finding_id"].to_list() == [B["finding_id"]]
    assert history.load_previous(folder, "aws", [ACCOUNT], WEEK_1) is None


def test_the_previous_run_is_the_latest_that_covered_any_of_the_accounts(tmp_path: Path) -> None:
    # A run keeps what it could not see (another account's findings) in its own file, so
    # the latest run sharing an account holds everything known about the others too.
    folder = str(tmp_path)
    save(folder, ranked(A), WEEK_1, accounts=["1", "2"])
    save(folder, ranked(B), WEEK_2, accounts=["1", "3"])  # also named "...-multi-..."
    previous = history.load_previous(folder, "aws", ["2", "1"], WEEK_3)
    assert previous is not None and previous.started_at == WEEK_2
    assert previous.accounts == ("1", "3")
    only_2 = history.load_previous(folder, "aws", ["2"], WEEK_3)
    assert only_2 is not None and only_2.started_at == WEEK_1
    assert history.load_previous(folder, "aws", ["4"], WEEK_3) is None


def test_first_run_and_absent_folder_have_no_previous_run(tmp_path: Path) -> None:
    assert history.load_previous(str(tmp_path / "absent"), "aws", [ACCOUNT], WEEK_1) is None
    marked, changes = history.compare(ranked(A), None, previous_started_at=None)
    assert changes is None
    assert statuses(marked) == {A["finding_id"]: ("new", 1)}


def test_a_suppressed_or_hidden_finding_is_not_resolved() -> None:
    before = history.mark_status(ranked(A, B), None)
    _, changes = history.compare(
        ranked(B),
        before,
        previous_started_at=WEEK_1,
        seen_finding_ids=[A["finding_id"], B["finding_id"]],
    )
    assert changes is not None
    assert changes["resolved"] == [] and changes["realized_monthly_savings"] == 0.0


def test_a_corrupt_history_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / f"costscan-aws-{ACCOUNT}-20261115T060000Z.parquet"
    bad.write_bytes(b"PAR1 truncated")
    with pytest.raises(InputFileError, match=str(bad)):
        history.load_previous(str(tmp_path), "aws", [ACCOUNT], WEEK_2)


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("s3://", "an S3 URI needs a bucket"),
        ("gs://bucket/x", "only local folders and s3:// URIs"),
        ("", "give a folder or an s3://bucket/prefix URI"),
    ],
)
def test_bad_history_locations_are_usage_errors(location: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        history.check_location(location)


def test_a_file_is_not_a_history_folder(tmp_path: Path) -> None:
    file = tmp_path / "history"
    file.write_text("x")
    with pytest.raises(UsageError, match="not a folder"):
        history.check_location(str(file))
    history.check_location(str(tmp_path / "new-folder"))  # created on first save


# --- S3 on moto ------------------------------------------------------------------------


def test_three_weekly_runs_on_s3_show_new_open_and_resolved(
    moto: RecordingMotoServer, endpoint_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint_url)
    s3 = boto3.client("s3", endpoint_url=endpoint_url)
    s3.create_bucket(Bucket="finops")
    # Another prefix in the same bucket must not be read as this one's history.
    s3.put_object(
        Bucket="finops",
        Key=f"other/costscan-aws-{ACCOUNT}-20261120T000000Z.parquet",
        Body=b"not a run",
    )
    moto.clear_log()

    runs = three_weeks("s3://finops/weekly/")
    check_three_weeks(runs)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="finops")["Contents"])
    assert keys == [
        f"other/costscan-aws-{ACCOUNT}-20261120T000000Z.parquet",
        f"weekly/costscan-aws-{ACCOUNT}-20261115T060000Z.parquet",
        f"weekly/costscan-aws-{ACCOUNT}-20261122T060000Z.parquet",
        f"weekly/costscan-aws-{ACCOUNT}-20261129T060000Z.parquet",
    ]
    # The only writes are the three history files: one PutObject per run.
    writes = [r for r in moto.operations() if r.method in ("PUT", "POST", "DELETE")]
    assert len(writes) == 3 and {r.service for r in writes} == {"s3"}


def test_save_run_returns_the_s3_uri(
    moto: RecordingMotoServer, endpoint_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint_url)
    boto3.client("s3", endpoint_url=endpoint_url).create_bucket(Bucket="finops")
    uri = save("s3://finops", ranked(A), WEEK_1)
    assert uri == f"s3://finops/costscan-aws-{ACCOUNT}-20261115T060000Z.parquet"
    started_at, frame = history.read_run(uri)
    assert started_at == WEEK_1 and frame["finding_id"].to_list() == [A["finding_id"]]


def test_missing_bucket_is_named(
    moto: RecordingMotoServer, endpoint_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint_url)
    with pytest.raises(InputFileError, match="s3://no-such-bucket/weekly/"):
        history.load_previous("s3://no-such-bucket/weekly", "aws", [ACCOUNT], WEEK_2)


# --- diff -----------------------------------------------------------------------------


def report_of(frame: pl.DataFrame, started_at: str) -> Report:
    ranking = rank(frame.select(list(schema.FINDINGS)), hourly_rate=100.0)
    run = RunInfo("aws", [ACCOUNT], ["us-east-1"], started_at, 14)
    return Report(run, ranking.findings, ranking.bottlenecks, ranking.summary)


def test_diff_of_two_saved_runs_matches_the_run_time_comparison(tmp_path: Path) -> None:
    folder = str(tmp_path)
    runs = three_weeks(folder)
    old = tmp_path / f"costscan-aws-{ACCOUNT}-20261115T060000Z.parquet"
    new = tmp_path / f"costscan-aws-{ACCOUNT}-20261122T060000Z.parquet"
    assert history.diff(str(old), str(new)) == runs[1][1]


def test_diff_reads_json_and_parquet_reports(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    new = tmp_path / "new.parquet"
    first = pl.DataFrame([A, A_ALT, B, C], schema=dict(schema.FINDINGS))
    second = pl.DataFrame([B, C, D], schema=dict(schema.FINDINGS))
    old.write_bytes(JsonRenderer().render(report_of(first, WEEK_1)))
    new.write_bytes(ParquetRenderer().render(report_of(second, WEEK_2)))
    changes = history.diff(str(old), str(new))
    assert changes["previous_started_at"] == WEEK_1
    assert (changes["new_findings"], changes["new_monthly_savings"]) == (1, 3.6)
    assert changes["still_open"] == 2
    assert [r["finding_id"] for r in changes["resolved"]] == [A["finding_id"]]
    assert changes["realized_monthly_savings"] == 40.0


def test_diff_of_two_json_reports_reads_their_dates(tmp_path: Path) -> None:
    """A deferred finding's savings_start is ISO text in JSON; diff parses it back to a Date
    (the README's weekly loop diffs two JSON reports)."""
    import datetime as dt

    deferred = {**B, "savings_start": dt.date(2027, 3, 1)}
    first = pl.DataFrame([A, deferred], schema=dict(schema.FINDINGS))
    second = pl.DataFrame([deferred, D], schema=dict(schema.FINDINGS))
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_bytes(JsonRenderer().render(report_of(first, WEEK_1)))
    new.write_bytes(JsonRenderer().render(report_of(second, WEEK_2)))
    _, frame = history.read_run(str(new))
    assert frame["savings_start"].to_list().count(dt.date(2027, 3, 1)) == 1
    changes = history.diff(str(old), str(new))
    assert [r["finding_id"] for r in changes["resolved"]] == [A["finding_id"]]
    assert changes["still_open"] == 1


def test_format_diff_lists_new_resolved_and_open(tmp_path: Path) -> None:
    runs = three_weeks(str(tmp_path))
    changes = runs[1][1]
    assert changes is not None
    assert format_diff(changes) == (
        "Changes since 2026-11-15T06:00:00Z:\n"
        "New: 1 finding, +$3.60/month\n"
        "Resolved: 1 finding, $40.00/month realized\n"
        "  - storage.unattached-volume on name-vol-a: storage.unattached-volume title, "
        "$40.00/month, open 1 week\n"
        "Still open: 2 findings\n"
    )


def test_diff_names_a_missing_file(tmp_path: Path) -> None:
    present = tmp_path / "new.json"
    present.write_bytes(
        JsonRenderer().render(report_of(pl.DataFrame([A], schema=dict(schema.FINDINGS)), WEEK_2))
    )
    missing = tmp_path / "absent.parquet"
    with pytest.raises(InputFileError, match=f"{missing}: no such file"):
        history.diff(str(missing), str(present))
    with pytest.raises(InputFileError, match=f"{tmp_path}: no such file"):
        history.diff(str(present), str(tmp_path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"week,savings\n1,2\n", "neither a costscan history Parquet file nor a JSON report"),
        (json.dumps({"findings": []}).encode(), "JSON, but not a costscan report"),
        (
            json.dumps({"run": {}, "findings": [{"title": "x"}]}).encode(),
            "not a costscan run",
        ),
        (b"PAR1 and then nothing", "cannot read it as Parquet"),
    ],
)
def test_diff_names_a_file_that_is_not_a_run(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.file"
    bad.write_bytes(content)
    with pytest.raises(InputFileError, match=message) as caught:
        history.diff(str(bad), str(bad))
    assert str(caught.value).startswith(str(bad))


def test_diff_refuses_a_parquet_file_that_is_not_costscan(tmp_path: Path) -> None:
    other = tmp_path / "other.parquet"
    pl.DataFrame({"finding_id": ["x"]}).write_parquet(other)
    with pytest.raises(InputFileError, match="a Parquet file, but not a costscan run or report"):
        history.read_run(str(other))


# --- what a run could see ---------------------------------------------------------------

EAST_SCOPE = history.Scope(
    accounts=(ACCOUNT,),
    regions=("us-east-1",),
    policies=(A["policy_id"], B["policy_id"], C["policy_id"], D["policy_id"]),
)


def run_week(
    previous: history.PreviousRun | None,
    started_at: str,
    scope: history.Scope,
    *rows: dict[str, Any],
) -> tuple[pl.DataFrame, dict[str, Any] | None, history.PreviousRun]:
    """One run as the engine does it, returning what its history file would hold."""
    current = ranked(*rows) if rows else ranked(A).clear()
    kwargs: dict[str, Any] = {
        "previous_started_at": previous.started_at if previous else None,
        "started_at": started_at,
    }
    marked, changes = history.compare(
        current, previous.findings if previous else None, scope=scope, **kwargs
    )
    kept = history.carried_forward(
        marked,
        previous.findings if previous else None,
        seen_finding_ids=None,
        scope=scope,
        **kwargs,
    )
    return marked, changes, history.PreviousRun("memory", started_at, kept)


def test_weeks_open_are_counted_from_the_timestamps_not_the_runs() -> None:
    _, _, first = run_week(None, "2026-11-15T06:00:00Z", EAST_SCOPE, A)
    again, _, second = run_week(first, "2026-11-15T06:00:09Z", EAST_SCOPE, A)
    assert statuses(again) == {A["finding_id"]: ("open", 1)}  # nine seconds later
    day_6, _, _ = run_week(second, "2026-11-21T05:59:59Z", EAST_SCOPE, A)
    assert statuses(day_6) == {A["finding_id"]: ("open", 1)}
    day_8, _, third = run_week(second, "2026-11-23T06:00:00Z", EAST_SCOPE, A)
    assert statuses(day_8) == {A["finding_id"]: ("open", 2)}
    day_15, _, _ = run_week(third, "2026-11-30T07:00:00Z", EAST_SCOPE, A)
    assert statuses(day_15) == {A["finding_id"]: ("open", 3)}


def test_a_finding_in_a_region_not_scanned_is_not_seen_and_keeps_its_age() -> None:
    _, _, first = run_week(None, WEEK_1, EAST_SCOPE, A, B)
    west = history.Scope((ACCOUNT,), ("eu-west-1",), EAST_SCOPE.policies)
    marked, changes, second = run_week(first, WEEK_2, west)
    assert changes is not None
    assert changes["resolved"] == [] and changes["realized_monthly_savings"] == 0.0
    assert changes["not_seen"] == 2
    assert changes["not_seen_monthly_savings"] == 52.5  # 40.00 + 12.50, both counted
    assert changes["scope"] == {"accounts": [ACCOUNT], "regions": ["eu-west-1"], "gaps": []}
    carried = second.findings.filter(pl.col("status") == history.NOT_SEEN)
    assert sorted(carried["finding_id"].to_list()) == sorted([A["finding_id"], B["finding_id"]])
    assert set(carried["first_seen"]) == {WEEK_1}

    # Back in us-east-1 a week later: A is open in its third week; B was fixed meanwhile.
    marked, changes, _ = run_week(second, WEEK_3, EAST_SCOPE, A)
    assert statuses(marked) == {A["finding_id"]: ("open", 3)}
    assert changes is not None and changes["new_findings"] == 0
    assert [r["finding_id"] for r in changes["resolved"]] == [B["finding_id"]]
    assert changes["realized_monthly_savings"] == 12.5


def test_a_finding_a_failed_collector_blinds_is_not_resolved() -> None:
    _, _, first = run_week(None, WEEK_1, EAST_SCOPE, A, C)
    blind = (pl.col("policy_id") == A["policy_id"]) & (pl.col("account_id") == ACCOUNT)
    scope = history.Scope(
        EAST_SCOPE.accounts, EAST_SCOPE.regions, EAST_SCOPE.policies, blind, ("ec2.volumes",)
    )
    _, changes, _ = run_week(first, WEEK_2, scope)
    assert changes is not None
    # C was visible and is gone: resolved. A could not have been seen: not.
    assert [r["finding_id"] for r in changes["resolved"]] == [C["finding_id"]]
    assert changes["realized_monthly_savings"] == 30.0
    assert changes["not_seen"] == 1


def test_a_finding_of_a_policy_that_did_not_run_is_not_resolved() -> None:
    _, _, first = run_week(None, WEEK_1, EAST_SCOPE, A, B)
    without_b = history.Scope((ACCOUNT,), ("us-east-1",), (A["policy_id"],))
    _, changes, _ = run_week(first, WEEK_2, without_b, A)
    assert changes is not None
    assert changes["resolved"] == [] and changes["not_seen"] == 1


def test_a_finding_unseen_for_a_quarter_is_forgotten() -> None:
    _, _, first = run_week(None, WEEK_1, EAST_SCOPE, A)
    west = history.Scope((ACCOUNT,), ("eu-west-1",), EAST_SCOPE.policies)
    _, _, later = run_week(first, "2027-02-10T06:00:00Z", west)  # 87 days: kept
    assert later.findings["finding_id"].to_list() == [A["finding_id"]]
    _, _, much_later = run_week(later, "2027-02-20T06:00:00Z", west)  # 97 days: dropped
    assert much_later.findings.height == 0


def test_a_reset_run_hides_the_runs_before_it(tmp_path: Path) -> None:
    folder = str(tmp_path)
    save(folder, ranked(A), WEEK_1)
    history.save_run(folder, ranked(B), WEEK_2, "aws", [ACCOUNT], reset=True)
    damaged = tmp_path / f"costscan-aws-{ACCOUNT}-20261101T060000Z.parquet"
    damaged.write_bytes(b"PAR1 truncated")  # older than the reset: never read
    previous = history.load_previous(folder, "aws", [ACCOUNT], WEEK_3)
    assert previous is not None and previous.started_at == WEEK_2


def test_diff_of_history_files_does_not_resolve_what_the_later_run_could_not_see(
    tmp_path: Path,
) -> None:
    _, _, first = run_week(None, WEEK_1, EAST_SCOPE, A, B)
    west = history.Scope((ACCOUNT,), ("eu-west-1",), EAST_SCOPE.policies)
    _, _, second = run_week(first, WEEK_2, west)
    old = save(str(tmp_path), first.findings, WEEK_1)
    new = save(str(tmp_path), second.findings, WEEK_2)
    changes = history.diff(old, new)
    assert changes["resolved"] == [] and changes["realized_monthly_savings"] == 0.0
    assert changes["still_open"] == 0 and changes["new_findings"] == 0
