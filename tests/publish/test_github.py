"""Posting through PyGithub, over real HTTP, against our fake GitHub API.

Every test runs ``costscan.publish.github.post_comment`` with the real PyGithub client
against ``tests.fake_github.FakeGitHub``, which answers in the shapes GitHub's REST
reference documents and logs every request it gets; the request log is how these tests see
what was sent. The comment bodies come from ``costscan.reports.comment``, as in
``costscan comment``. PyGithub's pauses between requests are switched off here (``FAST``)
so the suite stays quick; the command-line tests keep the defaults.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from costscan.publish.github import (
    INSTALL_HINT,
    Connection,
    PostResult,
    post_comment,
    pull_request_number,
    read_markdown,
)
from costscan.reports.comment import comment_body, marker_line, tracking_issue_body
from costscan.scanner.contracts.errors import InputFileError, ReportError, UsageError
from tests.fake_github import FakeGitHub
from tests.publish.conftest import REPO, TOKEN

GOLDEN = Path(__file__).parents[1] / "reports" / "golden"
FAST = Connection(seconds_between_requests=None, seconds_between_writes=None)
API = f"/repos/{REPO}"


def sample_markdown() -> str:
    return (GOLDEN / "sample.md").read_text(encoding="utf-8")


def changed_markdown(amount: str = "$900.00") -> str:
    return sample_markdown().replace("$860.87/month", f"{amount}/month")


def post(github: FakeGitHub, markdown: str, **options: Any) -> PostResult:
    """What ``costscan comment`` does: the body from reports, the post from publish."""
    marker_id = options.pop("marker_id", "costscan")
    options.setdefault("to", "pr")
    options.setdefault("number", None)
    options.setdefault("title", "costscan savings report")
    options.setdefault("connection", FAST)
    options.setdefault("repository", REPO)
    options.setdefault("token", TOKEN)
    options.setdefault("api_url", github.api_url)
    body, _ = comment_body(markdown, marker_id=marker_id)
    return post_comment(
        body,
        marker=marker_line(marker_id),
        issue_body=tracking_issue_body(
            marker_id, edited_in_place=options.get("behavior", "update") == "update"
        ),
        **options,
    )


def calls(github: FakeGitHub) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in github.requests()]


# --- update in place -------------------------------------------------------------------


def test_first_post_creates_one_comment_carrying_the_marker(github: FakeGitHub) -> None:
    pr = github.add_pull_request()
    result = post(github, sample_markdown(), number=pr)

    comments = github.comments_on(pr)
    assert result.action == "created"
    assert [c["id"] for c in comments] == [result.comment_id]
    assert comments[0]["body"] == comment_body(sample_markdown())[0]
    assert result.url == f"https://github.com/{REPO}/pull/{pr}#issuecomment-{result.comment_id}"
    assert result.number == pr
    # The repository and the pull request are not fetched first (PyGithub's lazy objects).
    assert calls(github) == [
        ("GET", f"{API}/issues/{pr}/comments"),
        ("POST", f"{API}/issues/{pr}/comments"),
    ]


def test_every_request_carries_the_token_the_api_version_and_our_user_agent(
    github: FakeGitHub,
) -> None:
    pr = github.add_pull_request()
    post(github, sample_markdown(), number=pr)

    for request in github.requests():
        assert request.headers["authorization"] == f"token {TOKEN}"
        assert request.headers["x-github-api-version"] == "2022-11-28"
        assert request.headers["user-agent"] == "costscan"
    assert github.requests("GET")[0].query == {"per_page": "100"}


def test_posting_the_same_report_again_is_unchanged_and_sends_no_edit(
    github: FakeGitHub,
) -> None:
    pr = github.add_pull_request()
    first = post(github, sample_markdown(), number=pr)
    github.clear_requests()

    second = post(github, sample_markdown(), number=pr)

    assert second.action == "unchanged"
    assert second.comment_id == first.comment_id
    assert second.url == first.url
    assert calls(github) == [("GET", f"{API}/issues/{pr}/comments")]
    assert len(github.comments_on(pr)) == 1


def test_a_changed_report_edits_the_same_comment_in_place(github: FakeGitHub) -> None:
    pr = github.add_pull_request()
    first = post(github, sample_markdown(), number=pr)
    github.clear_requests()

    third = post(github, changed_markdown(), number=pr)

    assert third.action == "updated"
    assert third.comment_id == first.comment_id
    [comment] = github.comments_on(pr)
    assert "**$900.00/month in savings found**" in comment["body"]
    assert calls(github) == [
        ("GET", f"{API}/issues/{pr}/comments"),
        ("PATCH", f"{API}/issues/comments/{first.comment_id}"),
    ]


def test_new_behavior_adds_another_comment_and_update_then_edits_the_newest(
    github: FakeGitHub,
) -> None:
    pr = github.add_pull_request()
    first = post(github, sample_markdown(), number=pr)
    github.clear_requests()
    second = post(github, sample_markdown(), number=pr, behavior="new")

    assert second.action == "created"
    assert second.comment_id != first.comment_id
    assert len(github.comments_on(pr)) == 2
    # "new" does not look for the earlier comment at all.
    assert calls(github) == [("POST", f"{API}/issues/{pr}/comments")]

    third = post(github, changed_markdown("$1.00"), number=pr)
    assert (third.action, third.comment_id) == ("updated", second.comment_id)


def test_comments_of_people_and_other_markers_are_left_alone(github: FakeGitHub) -> None:
    pr = github.add_pull_request()
    quoted = f"> {marker_line()}\n> **$1.00/month in savings found**\nIs this right?"
    people = github.add_comment(pr, quoted)
    other_stack = github.add_comment(pr, marker_line("staging") + "\nthe staging report")

    result = post(github, sample_markdown(), number=pr)

    assert result.action == "created"
    bodies = {c["id"]: c["body"] for c in github.comments_on(pr)}
    assert bodies[people] == quoted
    assert bodies[other_stack].endswith("the staging report")
    assert post(github, sample_markdown(), number=pr, marker_id="staging").comment_id == (
        other_stack
    )


# --- pagination ------------------------------------------------------------------------


def test_the_marker_comment_is_found_on_the_third_page_of_250_comments(
    github: FakeGitHub,
) -> None:
    pr = github.add_pull_request()
    for n in range(230):
        github.add_comment(pr, f"review remark {n}")
    ours = github.add_comment(pr, marker_line() + "\nlast week's report", user="bot")
    for n in range(19):
        github.add_comment(pr, f"a later remark {n}")
    github.clear_requests()

    result = post(github, sample_markdown(), number=pr)

    assert (result.action, result.comment_id) == ("updated", ours)
    gets = github.requests("GET")
    # GitHub's largest page; the first page has no page parameter, the rest follow Link.
    assert [r.query.get("page", "1") for r in gets] == ["1", "2", "3"]
    assert {r.query["per_page"] for r in gets} == {"100"}
    assert calls(github)[-1] == ("PATCH", f"{API}/issues/comments/{ours}")
    assert len(github.comments_on(pr)) == 250  # edited, none added


def test_the_newest_marked_comment_wins_across_pages(github: FakeGitHub) -> None:
    github.max_per_page = 2
    pr = github.add_pull_request()
    older = github.add_comment(pr, marker_line() + "\nan old report")
    for n in range(3):
        github.add_comment(pr, f"review remark {n}")
    newer = github.add_comment(pr, marker_line() + "\na newer report")
    github.add_comment(pr, "a later remark")

    result = post(github, sample_markdown(), number=pr)

    assert (result.action, result.comment_id) == ("updated", newer)
    bodies = {c["id"]: c["body"] for c in github.comments_on(pr)}
    assert bodies[older].endswith("an old report")


# --- issue mode ------------------------------------------------------------------------


def test_issue_mode_creates_one_tracking_issue_then_reuses_it(github: FakeGitHub) -> None:
    github.max_per_page = 2
    # Open pull requests and unrelated issues share the list; none of them is ours.
    pr_with_marker = github.add_issue("costscan savings report", marker_line(), pull_request=True)
    github.add_issue("costscan savings report", "a person's issue with the same title")
    github.add_issue("Flaky test", marker_line())

    first = post(github, sample_markdown(), to="issue")
    second = post(github, changed_markdown("$870.00"), to="issue")
    third = post(github, changed_markdown("$870.00"), to="issue")

    ours = [i for i in github.issues() if marker_line() in i["body"].splitlines()]
    assert [i["title"] for i in ours] == ["Flaky test", "costscan savings report"]
    tracking = next(i for i in ours if i["title"] == "costscan savings report")
    assert tracking["body"] == tracking_issue_body(edited_in_place=True)
    assert first.number == second.number == third.number == tracking["number"]
    assert (first.action, second.action, third.action) == ("created", "updated", "unchanged")
    [comment] = github.comments_on(tracking["number"])
    assert "**$870.00/month in savings found**" in comment["body"]
    assert github.comments_on(pr_with_marker) == []


def test_issue_mode_request_log_for_a_create_and_an_update(github: FakeGitHub) -> None:
    github.add_issue("Flaky test", "a person's issue")

    first = post(github, sample_markdown(), to="issue")
    assert calls(github) == [
        ("GET", f"{API}/issues"),
        ("POST", f"{API}/issues"),
        ("POST", f"{API}/issues/{first.number}/comments"),
    ]
    assert github.requests("GET")[0].query == {"state": "open", "per_page": "100"}
    github.clear_requests()

    second = post(github, changed_markdown(), to="issue")

    assert second.action == "updated"
    assert calls(github) == [
        ("GET", f"{API}/issues"),
        # PyGithub 2.10 fetches the candidate issue to learn it is no pull request: GitHub's
        # list leaves the pull_request key off real issues (PyGithub#2423).
        ("GET", f"{API}/issues/{first.number}"),
        ("GET", f"{API}/issues/{first.number}/comments"),
        ("PATCH", f"{API}/issues/comments/{first.comment_id}"),
    ]


def test_issue_mode_opens_a_new_issue_once_the_old_one_is_closed(github: FakeGitHub) -> None:
    first = post(github, sample_markdown(), to="issue", title="Weekly AWS savings")
    github._state.issues[first.number]["state"] = "closed"

    second = post(github, sample_markdown(), to="issue", title="Weekly AWS savings")

    assert second.number != first.number
    assert second.action == "created"


def test_issue_mode_with_a_number_posts_on_that_issue(github: FakeGitHub) -> None:
    issue = github.add_issue("FinOps weekly")
    result = post(github, sample_markdown(), to="issue", number=issue)
    assert result.number == issue
    assert len(github.comments_on(issue)) == 1
    assert [i["number"] for i in github.issues()] == [issue]
    assert ("GET", f"{API}/issues") not in calls(github)


# --- errors: one line each -------------------------------------------------------------


def test_a_403_on_the_post_names_status_message_and_the_permission_needed(
    github: FakeGitHub,
) -> None:
    pr = github.add_pull_request()
    # A read-only GITHUB_TOKEN (a pull request from a fork) may read but not write.
    github.fail(403, "Resource not accessible by integration", methods={"POST"})

    with pytest.raises(ReportError) as caught:
        post(github, sample_markdown(), number=pr)

    message = str(caught.value)
    assert message == (
        "GitHub answered 403 Resource not accessible by integration: the token needs "
        "pull-requests: write / issues: write (pull requests from forks get a read-only one)"
    )
    assert github.comments_on(pr) == []
    # A refused write is not retried.
    assert calls(github) == [
        ("GET", f"{API}/issues/{pr}/comments"),
        ("POST", f"{API}/issues/{pr}/comments"),
    ]


def test_a_403_in_issue_mode_names_the_issues_permission(github: FakeGitHub) -> None:
    github.fail(403, "Resource not accessible by integration")
    with pytest.raises(ReportError, match=r": the token needs issues: write \(pull"):
        post(github, sample_markdown(), to="issue")
    assert len(github.requests()) == 1


def test_a_used_up_rate_limit_fails_at_once_with_the_rate_limit_hint(
    github: FakeGitHub,
) -> None:
    pr = github.add_pull_request()
    github.rate_limited(reset_in_seconds=3_600)
    started = time.monotonic()

    with pytest.raises(ReportError) as caught:
        post(github, sample_markdown(), number=pr)

    assert str(caught.value) == (
        "GitHub answered 403 API rate limit exceeded for installation ID 4242.: "
        "the API rate limit is used up; run again later"
    )
    # The reset is an hour away, beyond the minute costscan waits: no retry, no sleep.
    assert len(github.requests()) == 1
    assert time.monotonic() - started < 5


def test_a_rate_limit_that_resets_within_the_wait_is_waited_out(github: FakeGitHub) -> None:
    pr = github.add_pull_request()
    github.rate_limited(reset_in_seconds=0, times=1)

    result = post(github, sample_markdown(), number=pr)

    assert result.action == "created"
    assert calls(github) == [
        ("GET", f"{API}/issues/{pr}/comments"),
        ("GET", f"{API}/issues/{pr}/comments"),
        ("POST", f"{API}/issues/{pr}/comments"),
    ]


SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)


def test_a_short_retry_after_is_waited_out_before_the_read_is_sent_again(
    github: FakeGitHub,
) -> None:
    pr = github.add_pull_request()
    github.fail(403, SECONDARY, headers={"retry-after": "1"}, methods={"GET"}, times=1)
    started = time.monotonic()

    result = post(github, sample_markdown(), number=pr)

    assert result.action == "created"
    assert time.monotonic() - started >= 1  # GitHub asked for one second
    assert [r.method for r in github.requests()] == ["GET", "GET", "POST"]


def test_a_retry_after_beyond_the_wait_fails_at_once_with_the_rate_limit_hint(
    github: FakeGitHub,
) -> None:
    pr = github.add_pull_request()
    github.fail(403, SECONDARY, headers={"retry-after": "600"})
    started = time.monotonic()

    with pytest.raises(ReportError) as caught:
        post(github, sample_markdown(), number=pr)

    assert str(caught.value) == (
        f"GitHub answered 403 {SECONDARY}: the API rate limit is used up; run again later"
    )
    assert len(github.requests()) == 1
    assert time.monotonic() - started < 5


def test_a_create_refused_for_a_rate_limit_is_sent_again_once_it_resets(
    github: FakeGitHub,
) -> None:
    pr = github.add_pull_request()
    github.rate_limited(reset_in_seconds=0, methods={"POST"}, times=1)

    result = post(github, sample_markdown(), number=pr, behavior="new")

    assert result.action == "created"
    assert calls(github) == [("POST", f"{API}/issues/{pr}/comments")] * 2
    assert len(github.comments_on(pr)) == 1


def test_a_server_error_on_a_read_is_retried(github: FakeGitHub) -> None:
    pr = github.add_pull_request()
    github.fail(502, "Server Error", methods={"GET"}, times=2)

    result = post(github, sample_markdown(), number=pr)

    assert result.action == "created"
    assert [r.method for r in github.requests()] == ["GET", "GET", "GET", "POST"]


def test_a_server_error_on_a_create_is_not_retried_so_nothing_is_posted_twice(
    github: FakeGitHub,
) -> None:
    pr = github.add_pull_request()
    github.fail(502, "Server Error", methods={"POST"}, times=1)

    with pytest.raises(ReportError) as caught:
        post(github, sample_markdown(), number=pr)

    assert str(caught.value) == (
        f"GitHub answered 502 Server Error: POST {API}/issues/{pr}/comments failed; run again later"
    )
    assert [r.method for r in github.requests()] == ["GET", "POST"]


def test_a_wrong_token_is_a_401_report_error(github: FakeGitHub) -> None:
    pr = github.add_pull_request()
    with pytest.raises(ReportError) as caught:
        post(github, sample_markdown(), number=pr, token="ghs_wrong")
    assert str(caught.value) == (
        "GitHub answered 401 Bad credentials: the token is missing, expired or wrong"
    )
    assert len(github.requests()) == 1


def test_a_missing_pull_request_is_a_404_naming_the_request(github: FakeGitHub) -> None:
    with pytest.raises(ReportError) as caught:
        post(github, sample_markdown(), number=99)
    assert str(caught.value) == (
        f"GitHub answered 404 Not Found: GET {API}/issues/99/comments "
        "does not exist or the token cannot see it"
    )


def test_a_refused_body_is_a_422_with_github_s_reason(github: FakeGitHub) -> None:
    pr = github.add_pull_request()
    body = marker_line() + "\n" + "x" * 70_000
    with pytest.raises(ReportError) as caught:
        post_comment(
            body,
            marker=marker_line(),
            to="pr",
            repository=REPO,
            number=pr,
            token=TOKEN,
            api_url=github.api_url,
            connection=FAST,
        )
    assert str(caught.value) == (
        "GitHub answered 422 Validation Failed; Body is too long (maximum is 65536 characters): "
        f"GitHub refused POST {API}/issues/{pr}/comments"
    )


def test_no_network_is_one_line_naming_the_api_url() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    api_url = f"http://127.0.0.1:{port}"
    with pytest.raises(ReportError) as caught:
        post_comment(
            comment_body(sample_markdown())[0],
            marker=marker_line(),
            to="pr",
            repository=REPO,
            number=1,
            token=TOKEN,
            api_url=api_url,
            connection=FAST,
        )
    assert str(caught.value) == f"cannot reach GitHub at {api_url}: Connection refused"


def test_a_hung_api_gives_up_after_the_timeout_and_retries() -> None:
    # Accepts connections (the kernel's backlog) and never answers.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        api_url = f"http://127.0.0.1:{hung.getsockname()[1]}"
        patient = Connection(
            timeout_seconds=1, retries=1, seconds_between_requests=None, seconds_between_writes=None
        )
        started = time.monotonic()
        with pytest.raises(ReportError) as caught:
            post_comment(
                comment_body(sample_markdown())[0],
                marker=marker_line(),
                to="pr",
                repository=REPO,
                number=1,
                token=TOKEN,
                api_url=api_url,
                connection=patient,
            )
        elapsed = time.monotonic() - started
    assert str(caught.value) == f"cannot reach GitHub at {api_url}: no answer within 1 s"
    # Two attempts of one second each, and no more.
    assert 2 <= elapsed < 6


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"to": "pr", "number": None}, "pull request number"),
        ({"to": "wiki"}, "use pr or issue"),
        ({"behavior": "append"}, "use update or new"),
        ({"repository": "not-a-repo"}, "owner/name"),
        ({"token": ""}, "GITHUB_TOKEN"),
        ({"number": None, "title": " "}, "title"),
        ({"number": 0}, "start at 1"),
        ({"api_url": "ftp://example.com"}, "GitHub API URL"),
    ],
)
def test_bad_options_are_usage_errors_before_any_request(
    github: FakeGitHub, options: dict[str, Any], complaint: str
) -> None:
    arguments: dict[str, Any] = {
        "marker": marker_line(),
        "to": "issue",
        "repository": REPO,
        "number": 1,
        "token": TOKEN,
        "api_url": github.api_url,
        "title": "costscan savings report",
        "issue_body": tracking_issue_body(edited_in_place=True),
        "connection": FAST,
        **options,
    }
    with pytest.raises(UsageError, match=complaint):
        post_comment(comment_body(sample_markdown())[0], **arguments)
    assert github.requests() == []


def test_a_body_without_its_marker_is_refused_before_any_request(github: FakeGitHub) -> None:
    with pytest.raises(ValueError, match="marker"):
        post_comment(
            sample_markdown(),
            marker=marker_line("prod"),
            to="pr",
            repository=REPO,
            number=1,
            token=TOKEN,
            api_url=github.api_url,
            connection=FAST,
        )
    assert github.requests() == []


def test_without_pygithub_posting_says_how_to_install_it(
    github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "github", None)  # `import github` now raises ImportError
    with pytest.raises(UsageError) as caught:
        post(github, sample_markdown(), number=1)
    assert str(caught.value) == (
        "costscan comment posts through PyGithub, which is not installed: "
        "pip install 'costscan[github]'"
    )
    assert INSTALL_HINT in str(caught.value)
    assert github.requests() == []


# --- what the command line reads --------------------------------------------------------


def test_pull_request_number_comes_from_the_event_payload(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "opened", "pull_request": {"number": 42}}))
    assert pull_request_number(event) == 42
    event.write_text(json.dumps({"issue": {"number": 7, "pull_request": {"url": "x"}}}))
    assert pull_request_number(event) == 7
    event.write_text(json.dumps({"issue": {"number": 7}}))  # a comment on an issue
    assert pull_request_number(event) is None
    event.write_text(json.dumps({"schedule": "17 6 * * 1"}))
    assert pull_request_number(event) is None
    with pytest.raises(InputFileError, match="event payload"):
        pull_request_number(tmp_path / "missing.json")


def test_reading_a_missing_report_is_one_input_error_line(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"^cannot read the Markdown report .*missing\.md"):
        read_markdown(tmp_path / "missing.md")
