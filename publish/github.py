"""Posting the savings report to GitHub: one comment, edited in place, run after run.

The Action runs ``costscan comment``, which calls :func:`post_report`. The comment carries a
hidden ``<!-- costscan:<marker_id> -->`` line; the next run finds the comment by that line and
edits it (or leaves it alone when nothing changed), so a pull request or a tracking issue
holds one current report instead of a pile of stale ones. In issue mode the tracking issue
carries the same marker in its body and is found again by it and its title.

Only the standard library talks to GitHub (urllib), so posting adds no dependency. Every
failure the user can fix (a token without write permission, a wrong repository, no network)
becomes a ``ReportError`` of one line naming GitHub's status and message.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from costscan.reports.comment import (
    DEFAULT_MARKER_ID,
    MAX_BODY_CHARS,
    comment_body,
    marker_line,
    tracking_issue_body,
)
from costscan.scanner.contracts.errors import InputFileError, ReportError, UsageError

Target = Literal["pr", "issue"]
Behavior = Literal["update", "new"]
Action = Literal["created", "updated", "unchanged"]

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_TITLE = "costscan savings report"
# The most GitHub returns per page of a list endpoint.
PER_PAGE = 100
TIMEOUT_SECONDS = 30
# GitHub's message is quoted in the error line; a proxy's HTML error page is not a message.
MESSAGE_CHARS = 200

_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="([^"]*)"')


@dataclass(frozen=True)
class PostResult:
    action: Action
    url: str  # the comment's html_url
    comment_id: int
    trimmed: bool  # the report was cut to fit GitHub's comment limit
    number: int  # the pull request or issue the comment is on


def post_report(
    markdown: str,
    *,
    to: Target,
    repository: str,
    number: int | None,
    token: str,
    api_url: str = DEFAULT_API_URL,
    behavior: Behavior = "update",
    marker_id: str = DEFAULT_MARKER_ID,
    title: str = DEFAULT_TITLE,
    report_url: str | None = None,
) -> PostResult:
    """Post ``markdown`` as a comment on a pull request or a tracking issue.

    ``number`` is the pull request (``to="pr"``, required) or the issue to keep up to date
    (``to="issue"``; when None, the open issue carrying our marker and ``title`` is used, and
    created when there is none). With ``behavior="update"`` the earlier comment carrying the
    marker is edited, or left alone when its body is already the same; ``"new"`` always adds
    a comment. A report longer than GitHub allows is cut inside its findings table, with a
    line saying how many rows were cut and pointing at ``report_url`` for the rest.
    """
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
    marker = marker_line(marker_id)
    body, trimmed = comment_body(markdown, marker_id=marker_id, report_url=report_url)
    github = GitHubClient(api_url, token, needs=_permission_for(to))
    repo = f"/repos/{repository}"

    existing: dict[str, Any] | None = None
    if number is None:
        number, issue_is_new = _tracking_issue(github, repo, marker, title, behavior)
        if not issue_is_new and behavior == "update":
            existing = _last_marked_comment(github, repo, number, marker)
    elif behavior == "update":
        existing = _last_marked_comment(github, repo, number, marker)

    if existing is None:
        created = github.request("POST", f"{repo}/issues/{number}/comments", {"body": body})
        return _result("created", created, trimmed, number)
    if _same_text(existing.get("body"), body):
        return _result("unchanged", existing, trimmed, number)
    updated = github.request("PATCH", f"{repo}/issues/comments/{existing['id']}", {"body": body})
    return _result("updated", updated, trimmed, number)


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


# --- GitHub ---------------------------------------------------------------------------


class GitHubClient:
    """The few REST calls we make, with GitHub's headers and one-line errors."""

    def __init__(self, api_url: str, token: str, *, needs: str = "issues: write") -> None:
        parsed = urllib.parse.urlsplit(api_url.rstrip("/"))
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise UsageError(f"GitHub API URL {api_url!r}: give it as https://host[/path]")
        self.api_url = api_url.rstrip("/")
        self._origin = f"{parsed.scheme}://{parsed.netloc}"
        self._token = token
        self._needs = needs

    def request(self, method: str, path_or_url: str, payload: dict[str, Any] | None = None) -> Any:
        document, _ = self._send(method, path_or_url, payload)
        return document

    def paginate(self, path: str, query: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, page by page, following the Link header."""
        params = {**(query or {}), "per_page": str(PER_PAGE)}
        url: str | None = f"{path}?{urllib.parse.urlencode(params)}"
        while url is not None:
            page, headers = self._send("GET", url, None)
            if not isinstance(page, list):
                raise ReportError(f"GitHub answered GET {path} with something other than a list")
            yield from (item for item in page if isinstance(item, dict))
            url = _next_link(headers.get("Link"))

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith("/"):
            return self.api_url + path_or_url
        # A Link header's absolute URL: the token is only ever sent to the API's own host.
        if urllib.parse.urlsplit(path_or_url).scheme and path_or_url.startswith(self._origin + "/"):
            return path_or_url
        raise ReportError(f"GitHub sent a page link outside {self._origin}: {path_or_url[:200]}")

    def _send(
        self, method: str, path_or_url: str, payload: dict[str, Any] | None
    ) -> tuple[Any, Any]:
        url = self._url(path_or_url)
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        request.add_header("Authorization", f"Bearer {self._token}")
        request.add_header("User-Agent", "costscan")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                raw = response.read()
                headers = response.headers
        except urllib.error.HTTPError as exc:
            raise ReportError(self._describe(exc, method)) from None
        except urllib.error.URLError as exc:
            raise ReportError(f"cannot reach GitHub at {self.api_url}: {exc.reason}") from None
        except (OSError, TimeoutError) as exc:
            raise ReportError(f"cannot reach GitHub at {self.api_url}: {exc}") from None
        try:
            return (json.loads(raw) if raw else None), headers
        except ValueError:
            raise ReportError(f"GitHub answered {method} {url} with something not JSON") from None

    def _describe(self, exc: urllib.error.HTTPError, method: str) -> str:
        message = str(exc.reason or "")
        details: list[str] = []
        try:
            document = json.loads(exc.read() or b"null")
        except (OSError, ValueError):
            document = None
        if isinstance(document, dict):
            message = str(document.get("message") or message)
            for error in document.get("errors") or []:
                if isinstance(error, dict) and error.get("message"):
                    details.append(str(error["message"]))
        text = _one_line("; ".join([message, *details]))
        status = exc.code
        request = f"{method} {urllib.parse.urlsplit(exc.url or '').path}"
        if status == 401:
            hint = "the token is missing, expired or wrong"
        elif status == 403 and (
            exc.headers.get("X-RateLimit-Remaining") == "0" or "rate limit" in text.lower()
        ):
            hint = "the API rate limit is used up; run again later"
        elif status == 403:
            hint = f"the token needs {self._needs} (pull requests from forks get a read-only one)"
        elif status == 404:
            hint = f"{request} does not exist or the token cannot see it"
        elif status == 422:
            hint = f"GitHub refused {request}"
        else:
            hint = f"{request} failed; run again later"
        return f"GitHub answered {status} {text}: {hint}"


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MESSAGE_CHARS else flat[: MESSAGE_CHARS - 1] + "…"


def _next_link(header: str | None) -> str | None:
    for url, rels in _LINK.findall(header or ""):
        if "next" in rels.split():
            return str(url)
    return None


def _permission_for(to: Target) -> str:
    return "pull-requests: write / issues: write" if to == "pr" else "issues: write"


def _has_marker(body: object, marker: str) -> bool:
    # A whole line, so a reply quoting our comment ("> <!-- ... -->") is not taken for it.
    return isinstance(body, str) and any(line.strip() == marker for line in body.splitlines())


def _same_text(old: object, new: str) -> bool:
    return isinstance(old, str) and old.replace("\r\n", "\n").rstrip() == new.rstrip()


def _last_marked_comment(
    github: GitHubClient, repo: str, number: int, marker: str
) -> dict[str, Any] | None:
    """The newest comment carrying ``marker``: comments list oldest first, so read them all."""
    found = None
    for comment in github.paginate(f"{repo}/issues/{number}/comments"):
        if _has_marker(comment.get("body"), marker):
            found = comment
    return found


def _tracking_issue(
    github: GitHubClient, repo: str, marker: str, title: str, behavior: Behavior
) -> tuple[int, bool]:
    """The open issue with our marker and ``title`` (newest first), or a new one."""
    for issue in github.paginate(f"{repo}/issues", {"state": "open"}):
        # The issues list includes pull requests; ours is an issue.
        if "pull_request" in issue or issue.get("title") != title:
            continue
        if _has_marker(issue.get("body"), marker) and isinstance(issue.get("number"), int):
            return int(issue["number"]), False
    marker_id = marker.removeprefix("<!-- costscan:").removesuffix(" -->")
    body = tracking_issue_body(marker_id, edited_in_place=behavior == "update")
    created = github.request("POST", f"{repo}/issues", {"title": title, "body": body})
    if not isinstance(created, dict) or not isinstance(created.get("number"), int):
        raise ReportError("GitHub created the tracking issue but did not say its number")
    return int(created["number"]), True


def _result(action: Action, comment: Any, trimmed: bool, number: int) -> PostResult:
    if not isinstance(comment, dict) or not isinstance(comment.get("id"), int):
        raise ReportError(f"GitHub's answer for the {action} comment has no comment id")
    return PostResult(
        action=action,
        url=str(comment.get("html_url") or ""),
        comment_id=int(comment["id"]),
        trimmed=trimmed,
        number=number,
    )


__all__ = ["MAX_BODY_CHARS", "PostResult", "comment_body", "marker_line", "post_report"]
