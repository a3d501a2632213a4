"""History's week counting, its money sums and what a run could see, at their edges
(issue 21). Each case is worked by hand in its comment; they were written against the
mutants that survived tests/scanner/test_history.py
(``python benchmarks/mutation.py scanner/pipeline/history.py``). In memory, no S3.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from costscan.reports.formats import ParquetRenderer
from costscan.scanner.contracts import schema
from costscan.scanner.contracts.errors import InputFileError
from costscan.scanner.pipeline import history
from tests.scanner.test_history import (
    ACCOUNT,
    EAST_SCOPE,
    WEEK_1,
    WEEK_2,
    WEEK_3,
    A,
    B,
    C,
    D,
    finding,
    ranked,
    report_of,
    run_week,
    statuses,
)

# Net −5 (saves 5, adds 10): never counted, so never new money nor realized money.
LOSS = finding("storage.unattached-volume", "vol-z", 5.0, action="remove", added_monthly_cost=10.0)


def test_a_week_turns_at_exactly_seven_days() -> None:
    # First seen WEEK_1 06:00:00: 7 days later to the second is week 2, a second earlier 1.
    _, _, first = run_week(None, WEEK_1, EAST_SCOPE, A)
    just_before, _, _ = run_week(first, "2026-11-22T05:59:59Z", EAST_SCOPE, A)
    assert statuses(just_before) == {A["finding_id"]: ("open", 1)}
    at, _, _ = run_week(first, "2026-11-22T06:00:00Z", EAST_SCOPE, A)
    assert statuses(at) == {A["finding_id"]: ("open", 2)}
    # A run stamped before the first sighting (a clock set back) is still week 1.
    skewed, _, _ = run_week(first, "2026-11-14T06:00:00Z", EAST_SCOPE, A)
    assert statuses(skewed) == {A["finding_id"]: ("open", 1)}


def test_a_new_finding_is_first_seen_now_and_an_open_one_keeps_its_first_sighting() -> None:
    _, _, first = run_week(None, WEEK_1, EAST_SCOPE, A)
    marked, _, _ = run_week(first, WEEK_2, EAST_SCOPE, A, B)
    rows = {r["finding_id"]: r for r in marked.to_dicts()}
    assert (rows[A["finding_id"]]["first_seen"], rows[A["finding_id"]]["last_seen"]) == (
        WEEK_1,
        WEEK_2,
    )
    assert (rows[B["finding_id"]]["first_seen"], rows[B["finding_id"]]["weeks_open"]) == (
        WEEK_2,
        1,
    )


def old_file(weeks_open: int | None) -> pl.DataFrame:
    """A run saved before first_seen was kept: only its weeks_open says when."""
    return ranked(A).with_columns(pl.lit(weeks_open, dtype=pl.Int64).alias("weeks_open"))


def test_first_sighting_derived_from_an_older_files_weeks_open() -> None:
    # Saved at WEEK_2 in its 3rd week: first seen 2 weeks before, 2026-11-08; at WEEK_3
    # (21 days on) that is week 4. In its 1st week (or no figure): first seen WEEK_2 itself,
    # week 2 at WEEK_3.
    for weeks_open, first_seen, weeks in [
        (3, "2026-11-08T06:00:00Z", 4),
        (1, WEEK_2, 2),
        (None, WEEK_2, 2),
    ]:
        marked, _ = history.compare(
            ranked(A), old_file(weeks_open), previous_started_at=WEEK_2, started_at=WEEK_3
        )
        row = marked.row(0, named=True)
        assert (row["first_seen"], row["weeks_open"]) == (first_seen, weeks), weeks_open


def test_without_timestamps_weeks_count_the_runs() -> None:
    # ``costscan diff`` of two files: one more week than the earlier file said, and a file
    # without the figure counts as the first week.
    for weeks_open, weeks in [(3, 4), (None, 2)]:
        marked, _ = history.compare(ranked(A), old_file(weeks_open), previous_started_at=None)
        assert marked["weeks_open"].to_list() == [weeks]
        assert marked["status"].to_list() == ["open"]


def test_new_and_realized_money_count_only_counted_findings() -> None:
    # Before: A 40, B 12.5, C 30 and LOSS (net −5). Now: B, D 3.6 and a new LOSS-like one.
    # New money: D's 3.6 (the new loss is not counted). Resolved: A and C, largest first,
    # 70 realized; the old LOSS is gone but was never counted: not resolved.
    new_loss = {**LOSS, "finding_id": "storage.unattached-volume|vol-y", "resource_id": "vol-y"}
    previous = ranked(A, B, C, LOSS)
    marked, changes = history.compare(
        ranked(B, D, new_loss), previous, previous_started_at=WEEK_1, started_at=WEEK_2
    )
    assert changes is not None
    assert changes["new_findings"] == 2
    assert changes["new_monthly_savings"] == 3.6
    assert changes["still_open"] == 1
    assert [r["finding_id"] for r in changes["resolved"]] == [A["finding_id"], C["finding_id"]]
    assert [r["net_monthly_savings"] for r in changes["resolved"]] == [40.0, 30.0]
    assert changes["realized_monthly_savings"] == 70.0
    assert changes["previous_started_at"] == WEEK_1
    assert sorted(marked["status"].to_list()) == ["new", "new", "open"]


def test_unseen_money_counts_only_counted_findings() -> None:
    # A (40, counted) and LOSS (not counted) in us-east-1, then a run of eu-west-1 only:
    # both unseen, 40 of unseen money.
    _, _, first = run_week(None, WEEK_1, EAST_SCOPE, A, LOSS)
    west = history.Scope((ACCOUNT,), ("eu-west-1",), EAST_SCOPE.policies)
    _, changes, _ = run_week(first, WEEK_2, west)
    assert changes is not None
    assert changes["not_seen"] == 2
    assert changes["not_seen_monthly_savings"] == 40.0


def test_an_unseen_finding_is_kept_for_exactly_ninety_one_days() -> None:
    # Last seen WEEK_1 (2026-11-15 06:00): kept on 2027-02-14 06:00 (91 days to the
    # second), dropped a second later.
    _, _, first = run_week(None, WEEK_1, EAST_SCOPE, A)
    west = history.Scope((ACCOUNT,), ("eu-west-1",), EAST_SCOPE.policies)
    _, _, kept = run_week(first, "2027-02-14T06:00:00Z", west)
    assert kept.findings["finding_id"].to_list() == [A["finding_id"]]
    assert kept.findings["status"].to_list() == [history.NOT_SEEN]
    # 91 days after its first sighting: week 14.
    assert kept.findings["weeks_open"].to_list() == [14]
    assert kept.findings["last_seen"].to_list() == [WEEK_1]
    _, _, dropped = run_week(first, "2027-02-14T06:00:01Z", west)
    assert dropped.findings.height == 0


def test_global_and_regionless_findings_are_visible_to_any_region_of_their_account() -> None:
    # An S3 bucket ("global" region) and a finding with no region, gone in a us-east-1
    # run of their account: resolved. The same in another account: not seen.
    def place(row: dict[str, Any], region: str | None, account: str = ACCOUNT) -> dict[str, Any]:
        return {**row, "region": region, "account_id": account}

    other = "222222222222"
    previous = ranked(
        place(A, "global"),
        place(B, None),
        {**place(C, "global", other), "finding_id": "c-other"},
    )
    _, changes = history.compare(
        ranked(D),
        previous,
        previous_started_at=WEEK_1,
        started_at=WEEK_2,
        scope=EAST_SCOPE,
    )
    assert changes is not None
    assert sorted(r["finding_id"] for r in changes["resolved"]) == sorted(
        [A["finding_id"], B["finding_id"]]
    )
    assert changes["realized_monthly_savings"] == 52.5
    assert changes["not_seen"] == 1
    assert changes["not_seen_monthly_savings"] == 30.0


# --- second round ------------------------------------------------------------------------


def test_a_saved_run_states_its_schema_version(tmp_path: Path) -> None:
    path = history.save_run(str(tmp_path), ranked(A), WEEK_1, "aws", [ACCOUNT])
    metadata = json.loads(pl.read_parquet_metadata(path)[history.HISTORY_METADATA_KEY])
    assert metadata["schema_version"] == 1
    assert metadata["started_at"] == WEEK_1


def test_an_unreadable_first_sighting_counts_as_the_first_week() -> None:
    # A first_seen that is not a timestamp: its age is unknown, week 1 (not 2).
    previous = ranked(A).with_columns(pl.lit("not a date").alias("first_seen"))
    marked, _ = history.compare(ranked(A), previous, previous_started_at=WEEK_1, started_at=WEEK_2)
    assert marked["weeks_open"].to_list() == [1]


def test_a_resolved_finding_without_a_net_figure_realizes_nothing() -> None:
    # A counted finding saved without its net (a hand-edited or partial file): resolved,
    # and 0 realized, not a made-up figure.
    previous = ranked(A).with_columns(pl.lit(None, dtype=pl.Float64).alias("net_monthly_savings"))
    _, changes = history.compare(ranked(D), previous, previous_started_at=WEEK_1)
    assert changes is not None
    assert [r["finding_id"] for r in changes["resolved"]] == [A["finding_id"]]
    assert changes["realized_monthly_savings"] == 0.0


def test_a_parquet_report_gives_its_start(tmp_path: Path) -> None:
    path = tmp_path / "report.parquet"
    first = pl.DataFrame([A, B], schema=dict(schema.FINDINGS))
    path.write_bytes(ParquetRenderer().render(report_of(first, WEEK_2)))
    started_at, frame = history.read_run(str(path))
    assert started_at == WEEK_2
    assert sorted(frame["finding_id"].to_list()) == sorted([A["finding_id"], B["finding_id"]])


# --- third round: a second sample (seed 7) --------------------------------------------------


def test_a_finding_without_a_policy_is_never_resolved() -> None:
    # No policy_id: no run can say its policy ran, so its absence resolves nothing.
    previous = ranked(A).with_columns(pl.lit(None, dtype=pl.String).alias("policy_id"))
    _, changes = history.compare(
        ranked(D), previous, previous_started_at=WEEK_1, started_at=WEEK_2, scope=EAST_SCOPE
    )
    assert changes is not None
    assert changes["resolved"] == [] and changes["not_seen"] == 1


def test_the_history_s3_client_gives_up_on_a_dead_endpoint_in_seconds() -> None:
    # 5 s to connect, 60 s to read: a --history run fails fast instead of hanging.
    config = history.history_s3_client().meta.config
    assert (config.connect_timeout, config.read_timeout) == (5, 60)


def test_a_corrupt_history_file_says_why_it_cannot_be_read(tmp_path: Path) -> None:
    bad = tmp_path / f"costscan-aws-{ACCOUNT}-20261115T060000Z.parquet"
    bad.write_bytes(b"PAR1 truncated")
    with pytest.raises(InputFileError) as caught:
        history.load_previous(str(tmp_path), "aws", [ACCOUNT], WEEK_2)
    reason = str(caught.value).split("cannot read it as Parquet (", 1)[1]
    assert reason and not reason.startswith("None)")


def test_a_reset_opens_without_reading_the_damaged_runs_before_it(tmp_path: Path) -> None:
    # --history-reset is the way out of a damaged file: opening with it reads nothing
    # earlier, so the damaged file cannot stop the run; without it, the file is named.
    bad = tmp_path / f"costscan-aws-{ACCOUNT}-20261115T060000Z.parquet"
    bad.write_bytes(b"PAR1 truncated")
    history.HistoryStore(str(tmp_path), "aws", reset=True).open(WEEK_2)
    with pytest.raises(InputFileError, match=str(bad)):
        history.HistoryStore(str(tmp_path), "aws").open(WEEK_2)


def test_the_history_s3_client_retries_five_times_adaptively() -> None:
    # Adaptive retry mode (client-side rate limiting on throttling), max_attempts 5: botocore
    # counts those as retries and stores the first call plus 5 retries, 6 attempts in all.
    # https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
    config = history.history_s3_client().meta.config
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 6}


def test_a_value_that_does_not_fit_its_column_is_read_as_nothing() -> None:
    # A run whose net saving is text ("n/a") reads as no figure (null: it adds nothing to
    # any money sum), not as a failure of the whole comparison.
    frame = pl.DataFrame(
        {
            "finding_id": ["f1"],
            "counted": [True],
            "net_monthly_savings": ["n/a"],
            "weeks_open": ["3"],
        }
    )
    read = history._as_ranked(frame, "a run")
    assert read["net_monthly_savings"].to_list() == [None]
    assert read["weeks_open"].to_list() == [3]


def test_a_saved_run_is_no_reset_unless_asked() -> None:
    # encode_run's default: an ordinary run, not the start of a new chain (--history-reset).
    frame = ranked(A)
    _, data = history.encode_run(frame, WEEK_1, "aws", [ACCOUNT])
    metadata = json.loads(history._parquet_metadata(data, "run")[history.HISTORY_METADATA_KEY])
    assert "reset" not in metadata
    _, data = history.encode_run(frame, WEEK_1, "aws", [ACCOUNT], reset=True)
    metadata = json.loads(history._parquet_metadata(data, "run")[history.HISTORY_METADATA_KEY])
    assert metadata["reset"] is True


def test_an_error_is_shortened_to_one_line_of_300_characters() -> None:
    # Whitespace runs fold to one space; at most 300 characters; an empty message names
    # the exception's type instead.
    assert history._short(ValueError("a \n  b ")) == "a b"
    assert history._short(ValueError("x" * 400)) == "x" * 300
    assert history._short(ValueError("")) == "ValueError"


def test_an_absent_history_folder_has_no_previous_run(tmp_path: Path) -> None:
    store = history.HistoryStore(str(tmp_path / "absent"), "aws").read(WEEK_2)
    assert store.previous([ACCOUNT]) is None


def test_runs_in_a_sub_prefix_are_not_this_historys(
    moto: Any, endpoint_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # s3://finops/weekly/ holds its runs directly under the prefix: a file one level down
    # belongs to another history, even under a folder that starts like a run's name and
    # though it is newer and named like one.
    import boto3

    from tests.scanner.test_history import save

    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint_url)
    s3 = boto3.client("s3", endpoint_url=endpoint_url)
    s3.create_bucket(Bucket="finops")
    s3.put_object(
        Bucket="finops",
        Key=f"weekly/costscan-aws-old/costscan-aws-{ACCOUNT}-20261120T000000Z.parquet",
        Body=b"not a run",
    )
    save("s3://finops/weekly/", ranked(A), WEEK_1)
    previous = history.load_previous("s3://finops/weekly", "aws", [ACCOUNT], WEEK_2)
    assert previous is not None and previous.started_at == WEEK_1


def test_a_finding_whose_counted_flag_is_missing_realizes_and_adds_nothing() -> None:
    # A run saved without the counted flag on a row (null): it is not money anyone can sign
    # for, neither new nor realized. Were a missing flag read as counted, the 40 of A gone
    # and the 12.5 of a new B would be claimed.
    previous = ranked(A, C).with_columns(
        pl.when(pl.col("finding_id") == A["finding_id"])
        .then(None)
        .otherwise(pl.col("counted"))
        .alias("counted")
    )
    current = ranked(B, C).with_columns(
        pl.when(pl.col("finding_id") == B["finding_id"])
        .then(None)
        .otherwise(pl.col("counted"))
        .alias("counted")
    )
    _, changes = history.compare(current, previous, previous_started_at=WEEK_1, started_at=WEEK_2)
    assert changes is not None
    assert changes["resolved"] == []
    assert changes["realized_monthly_savings"] == 0.0
    assert changes["new_findings"] == 1
    assert changes["new_monthly_savings"] == 0.0


def test_money_sums_are_rounded_to_the_cent() -> None:
    # Three new findings of 1.004 a month: 3.012, shown as 3.01 (not 3.012).
    news = [
        {**A, "finding_id": f"{A['finding_id']}-{n}", "resource_id": f"r-{n}"} for n in range(3)
    ]
    current = ranked(*news).with_columns(pl.lit(1.004).alias("net_monthly_savings"))
    _, changes = history.compare(current, ranked(C), previous_started_at=WEEK_1, started_at=WEEK_2)
    assert changes is not None
    assert changes["new_findings"] == 3
    assert changes["new_monthly_savings"] == 3.01
