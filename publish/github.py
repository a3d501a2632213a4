"""Posting a comment on GitHub through PyGithub: one comment, edited in place, run after run.

``costscan comment`` builds the comment's text in ``costscan.reports.comment`` (a hidden
marker line, then the report, cut to fit) and hands it to :func:`post_comment`, which finds
the earlier comment carrying that marker line and edits it, leaves it alone when nothing
changed, or adds one. In issue mode the tracking issue carries the same marker in its body
and is found again by it and its title among the open issues.

PyGithub is an optional dependency (``pip install 'costscan[github]'``), imported here only
when something is posted, so ``costscan --help`` does not pay for it. Every failure the user
can fix (a token without write permission, a wrong repository, no network, a used-up rate
limit) becomes a ``ReportError`` of one line naming GitHub's status and message, and the
request that failed.
"""

from __future__ import annotations

import functools
import http
import json
import logging
import re
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from costscan.scanner.contracts.errors import InputFileError, ReportError, UsageError

if TYPE_CHECKING:
    from types import TracebackType

    from github.GithubException import GithubException
    from github.GithubRetry import GithubRetry
    from github.Issue import Issue
    from github.IssueComment import IssueComment
    from github.MainClass import Github
    from github.Repository import Repository
    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import HTTPResponse
    from urllib3.util.retry import Retry as UrllibRetry

Target = Literal["pr", "issue"]
Behavior = Literal["update", "new"]
Action = Literal["created", "updated", "unchanged"]

DEFAULT_API_URL = "https://api.github.com"
INSTALL_HINT = "pip install 'costscan[github]'"
# The REST API version our calls are written against (GitHub's dated API versions).
API_VERSION = "2022-11-28"
# The most GitHub returns per page of a list endpoint.
PER_PAGE = 100
# GitHub's message is quoted in the error line; a proxy's HTML error page is not a message.
MESSAGE_CHARS = 200

_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class Connection:
    """How long costscan waits on GitHub: with the defaults, under a minute for a hung API.

    A request gets ``timeout_seconds`` per attempt and at most ``retries`` more attempts
    after a timeout, a dropped connection or a 5xx (reads and edits only: a create that
    reached GitHub is never sent again). A rate limit whose reset or ``Retry-After`` is
    within ``rate_limit_wait_seconds`` is waited out, as GitHub asks, then retried; a
    later one fails at once. The pauses between requests are PyGithub's defaults, after
    GitHub's advice against secondary rate limits (at least one second between writes).
    """

    timeout_seconds: int = 15
    retries: int = 2
    rate_limit_wait_seconds: float = 60.0
    seconds_between_requests: float | None = 0.25
    seconds_between_writes: float | None = 1.0


@dataclass(frozen=True)
class PostResult:
    action: Action
    url: str  # the comment's html_url
    comment_id: int
    number: int  # the pull request or issue the comment is on


def post_comment(
    body: str,
    *,
    marker: str,
    to: Target,
    repository: str,
    number: int | None,
    token: str,
    api_url: str = DEFAULT_API_URL,
    behavior: Behavior = "update",
    title: str = "",
    issue_body: str = "",
    connection: Connection = Connection(),
) -> PostResult:
    """Post ``body`` as a comment on a pull request or a tracking issue.

    ``marker`` is the hidden line ``body`` carries: a comment is ours when one of its lines
    is exactly ``marker``. ``number`` is the pull request (``to="pr"``, required) or the
    issue to keep up to date (``to="issue"``; when None, the open issue titled ``title``
    whose body carries the marker is used, and one is opened with ``issue_body`` when there
    is none). With ``behavior="update"`` the newest comment carrying the marker is edited,
    or left alone when its text is already ``body``; ``"new"`` always adds a comment.
    """
    api_url = _checked(
        to=to,
        behavior=behavior,
        repository=repository,
        token=token,
        number=number,
        title=title,
        api_url=api_url,
    )
    # Programming errors, not the user's: without the marker the next run cannot find them.
    if not _carries(body, marker):
        raise ValueError("the comment body does not carry its marker line")
    if to == "issue" and number is None and not _carries(issue_body, marker):
        raise ValueError("the tracking issue body does not carry the marker line")

    session = _Session(api_url, token, repository, to, connection)
    existing: IssueComment | None = None
    if number is None:
        issue, issue_is_new = session.tracking_issue(marker, title, issue_body)
        if not issue_is_new and behavior == "update":
            existing = session.last_marked_comment(issue, marker)
    else:
        issue = session.issue(number)
        if behavior == "update":
            existing = session.last_marked_comment(issue, marker)

    if existing is None:
        return session.result("created", session.add_comment(issue, body), issue)
    if _same_text(existing.body, body):
        return session.result("unchanged", existing, issue)
    session.edit_comment(existing, body)
    return session.result("updated", existing, issue)


def pull_request_number(event_path: str | Path) -> int | None:
    """The pull request a workflow event is about (``GITHUB_EVENT_PATH``), or None."""
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputFileError(f"cannot read the GitHub event payload {event_path}: {exc}") from None
    if not isinstance(event, dict):
        return None
    pull_request = event.get("pull_request")
    if isinstance(pull_request, dict) and isinstance(pull_request.get("number"), int):
        return int(pull_request["number"])
    # An issue_comment event on a pull request: the issue is the pull request.
    issue = event.get("issue")
    if isinstance(issue, dict) and "pull_request" in issue and isinstance(issue.get("number"), int):
        return int(issue["number"])
    return None


def read_markdown(path: str | Path) -> str:
    """The Markdown report file's text; a missing or unreadable file is one line."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputFileError(f"cannot read the Markdown report {path}: {reason}") from None


def _checked(
    *,
    to: str,
    behavior: str,
    repository: str,
    token: str,
    number: int | None,
    title: str,
    api_url: str,
) -> str:
    """The API URL without its trailing slash, once every option is known to be usable."""
    if to not in ("pr", "issue"):
        raise UsageError(f"--to {to!r}: use pr or issue")
    if behavior not in ("update", "new"):
        raise UsageError(f"--behavior {behavior!r}: use update or new")
    if not _REPOSITORY.match(repository):
        raise UsageError(f"repository {repository!r}: give it as owner/name")
    if not token:
        raise UsageError("no GitHub token: set GITHUB_TOKEN (the Action passes github.token)")
    if to == "pr" and number is None:
        raise UsageError("a pull request comment needs the pull request number (--number)")
    if to == "issue" and number is None and not title.strip():
        raise UsageError("a tracking issue needs a title (--title)")
    if number is not None and number < 1:
        raise UsageError(f"--number {number}: issue and pull request numbers start at 1")
    parsed = urllib.parse.urlsplit(api_url.strip().rstrip("/"))
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UsageError(f"GitHub API URL {api_url!r}: give it as https://host[/path]")
    return urllib.parse.urlunsplit(parsed)


# --- GitHub, through PyGithub ---------------------------------------------------------


def _github(api_url: str, token: str, connection: Connection) -> Github:
    try:
        import github
    except ImportError:
        raise UsageError(
            f"costscan comment posts through PyGithub, which is not installed: {INSTALL_HINT}"
        ) from None
    # PyGithub logs every retried 403 and backoff at INFO on stderr by default; a failure
    # here is one line, ours.
    github.set_log_level(logging.WARNING)
    retry = _retry_class()(
        total=connection.retries,
        backoff_factor=0.5,
        # Connection failures happen before anything is sent and are retried for every
        # method; a timeout or a 5xx after a POST may have created the comment already.
        allowed_methods=frozenset({"GET", "PATCH"}),
        # The last failed answer goes to PyGithub, which turns it into its exception.
        raise_on_status=False,
        # Rate limits (the reset time, or Retry-After) are waited out up to this long.
        max_rate_limit_wait=connection.rate_limit_wait_seconds,
    )
    return github.Github(
        base_url=api_url,
        auth=github.Auth.Token(token),
        timeout=connection.timeout_seconds,
        retry=retry,
        per_page=PER_PAGE,
        user_agent="costscan",
        seconds_between_requests=connection.seconds_between_requests,
        seconds_between_writes=connection.seconds_between_writes,
        # The repository and the issue are known by name and number: no request to fetch
        # them before listing or posting comments.
        lazy=True,
        api_version=API_VERSION,
    )


@functools.cache
def _retry_class() -> type[GithubRetry]:
    from github import GithubRetry
    from urllib3.exceptions import MaxRetryError, ResponseError

    class BoundedRetry(GithubRetry):
        """GithubRetry, with two changes for a job that must not hang or post twice.

        A POST that GitHub refused with a 403 is retried too: GitHub answers 403 to a
        request it did not carry out, a rate limit (which GithubRetry waits out, up to
        ``max_rate_limit_wait``) or a missing permission (which it raises at once), so
        nothing was created. A 5xx or a timeout after a POST is not retried.

        A ``Retry-After`` longer than ``max_rate_limit_wait`` ends the retries at once;
        urllib3 would otherwise sleep for as long as the header says.
        """

        def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
            if method == "POST" and status_code == 403:
                return bool(self.total)
            return super().is_retry(method, status_code, has_retry_after)

        def increment(  # type: ignore[override]  # GithubRetry returns a Retry, not Self
            self,
            method: str | None = None,
            url: str | None = None,
            response: HTTPResponse | None = None,  # type: ignore[override]
            error: Exception | None = None,
            _pool: ConnectionPool | None = None,
            _stacktrace: TracebackType | None = None,
        ) -> UrllibRetry:
            wait = self.get_retry_after(response) if response is not None else None
            limit = self.max_rate_limit_wait
            if wait is not None and limit is not None and wait > limit and _pool and url:
                # With raise_on_status off, urllib3 hands this answer to PyGithub as it is.
                raise MaxRetryError(_pool, url, ResponseError(f"Retry-After: {wait:.0f}"))
            return super().increment(method, url, response, error, _pool, _stacktrace)

    return BoundedRetry


class _Session:
    """The calls one post makes, each turning PyGithub's failures into one line."""

    def __init__(
        self, api_url: str, token: str, repository: str, to: Target, connection: Connection
    ) -> None:
        self._api_url = api_url
        self._timeout = connection.timeout_seconds
        self._needs = "pull-requests: write / issues: write" if to == "pr" else "issues: write"
        self._path = f"/repos/{repository}"
        self._repo: Repository = _github(api_url, token, connection).get_repo(repository)

    def issue(self, number: int) -> Issue:
        return self._repo.get_issue(number)  # lazy: no request

    def last_marked_comment(self, issue: Issue, marker: str) -> IssueComment | None:
        """The newest comment carrying ``marker``: comments list oldest first, so read all."""
        found = None
        with self._calling("GET", f"{self._path}/issues/{issue.number}/comments"):
            for comment in issue.get_comments():
                if _carries(comment.body, marker):
                    found = comment
        return found

    def tracking_issue(self, marker: str, title: str, issue_body: str) -> tuple[Issue, bool]:
        """The open issue with our marker and ``title`` (newest first), or a new one."""
        with self._calling("GET", f"{self._path}/issues"):
            for issue in self._repo.get_issues(state="open"):
                if issue.title != title or not _carries(issue.body, marker):
                    continue
                # The issues list includes pull requests; ours is an issue. GitHub leaves the
                # pull_request key off real issues and PyGithub (2.10) fetches the issue to
                # fill it in (PyGithub#2423), so this is asked of the one candidate only.
                with self._calling("GET", f"{self._path}/issues/{issue.number}"):
                    if issue.pull_request is not None:
                        continue
                return issue, False
        with self._calling("POST", f"{self._path}/issues"):
            return self._repo.create_issue(title=title, body=issue_body), True

    def add_comment(self, issue: Issue, body: str) -> IssueComment:
        with self._calling("POST", f"{self._path}/issues/{issue.number}/comments"):
            return issue.create_comment(body)

    def edit_comment(self, comment: IssueComment, body: str) -> None:
        with self._calling("PATCH", f"{self._path}/issues/comments/{comment.id}"):
            comment.edit(body)

    def result(self, action: Action, comment: IssueComment, issue: Issue) -> PostResult:
        with self._calling("GET", f"{self._path}/issues/comments/{comment.id}"):
            return PostResult(
                action=action, url=comment.html_url, comment_id=comment.id, number=issue.number
            )

    @contextmanager
    def _calling(self, method: str, path: str) -> Iterator[None]:
        from github import GithubException

        try:
            yield
        except GithubException as exc:
            raise ReportError(_describe(exc, f"{method} {path}", self._needs)) from None
        except json.JSONDecodeError:
            raise ReportError(f"GitHub answered {method} {path} with something not JSON") from None
        except OSError as exc:  # requests' errors are OSErrors
            reason = _network_reason(exc, self._timeout)
            raise ReportError(f"cannot reach GitHub at {self._api_url}: {reason}") from None


def _describe(exc: GithubException, request: str, needs: str) -> str:
    from github import RateLimitExceededException

    status = exc.status
    message = ""
    details: list[str] = []
    if isinstance(exc.data, dict):
        message = str(exc.data.get("message") or "")
        for error in exc.data.get("errors") or []:
            if isinstance(error, dict) and error.get("message"):
                details.append(str(error["message"]))
            elif isinstance(error, str):
                details.append(error)
    message = message or exc.message or _phrase(status)
    text = _one_line("; ".join([message, *details]))
    headers = {name.lower(): value for name, value in (exc.headers or {}).items()}
    rate_limited = isinstance(exc, RateLimitExceededException) or (
        status in (403, 429)
        and (headers.get("x-ratelimit-remaining") == "0" or "rate limit" in text.lower())
    )
    if status == 401:
        hint = "the token is missing, expired or wrong"
    elif rate_limited:
        hint = "the API rate limit is used up; run again later"
    elif status == 403:
        hint = f"the token needs {needs} (pull requests from forks get a read-only one)"
    elif status == 404:
        hint = f"{request} does not exist or the token cannot see it"
    elif status == 422:
        hint = f"GitHub refused {request}"
    else:
        hint = f"{request} failed; run again later"
    return f"GitHub answered {status} {text}: {hint}"


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "error"


def _network_reason(exc: BaseException, timeout_seconds: int) -> str:
    """The root cause under requests' and urllib3's wrappers, in a few words."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    innermost: OSError | None = None
    while pending:
        error = pending.pop(0)
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, TimeoutError) or type(error).__name__.endswith("TimeoutError"):
            return f"no answer within {timeout_seconds} s"
        if isinstance(error, OSError) and error.strerror:
            innermost = error
        # urllib3's MaxRetryError keeps the cause in .reason; requests wraps it in .args.
        reason = getattr(error, "reason", None)
        nested = [*error.args, reason, error.__cause__, error.__context__]
        pending.extend(e for e in nested if isinstance(e, BaseException))
    if innermost is not None:
        return str(innermost.strerror)
    return _one_line(str(exc))


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MESSAGE_CHARS else flat[: MESSAGE_CHARS - 1] + "…"


def _carries(body: object, marker: str) -> bool:
    # A whole line, so a reply quoting our comment ("> <!-- ... -->") is not taken for it.
    return isinstance(body, str) and any(line.strip() == marker for line in body.splitlines())


def _same_text(old: object, new: str) -> bool:
    return isinstance(old, str) and old.replace("\r\n", "\n").rstrip() == new.rstrip()
