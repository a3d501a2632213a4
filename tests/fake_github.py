"""A local HTTP server that plays the part of GitHub's REST API for the comment tests.

It keeps one repository's issues, pull requests and comments in memory and answers the
calls PyGithub makes for ``costscan.publish.github``, in the shapes GitHub's REST reference
documents: list issue comments and list repository issues (paginated, with a ``Link``
header), get an issue, create and update a comment, create an issue. It checks the
``Authorization`` header like GitHub does (401 "Bad credentials"), refuses bodies over
65,536 characters (422), and can be told to fail: 403 to everything, as GitHub answers a
read-only ``GITHUB_TOKEN``, a used-up rate limit, or a few 5xx answers before recovering.

``max_per_page`` caps the page size below GitHub's 100, so tests see several pages.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BODY_LIMIT = 65_536


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)  # names lowercased


@dataclass
class Failure:
    """What the fake answers instead of doing the request, while it lasts."""

    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    methods: frozenset[str] | None = None  # None: every method
    times: int | None = None  # answered this many times, then the fake recovers; None: always


@dataclass
class _State:
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_number: int = 1
    next_comment_id: int = 1000
    clock: int = 0
    requests: list[Recorded] = field(default_factory=list)


class FakeGitHub:
    def __init__(
        self,
        repository: str = "acme/infra",
        token: str = "ghs_test_token",
        max_per_page: int = 100,
        user: str = "github-actions[bot]",
    ) -> None:
        self.repository = repository
        self.token = token
        self.max_per_page = max_per_page
        self.user = user
        self.failure: Failure | None = None
        self._state = _State()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        fake = self

        class Handler(_Handler):
            github = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeGitHub:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- seeding and inspection --------------------------------------------------------

    def add_issue(
        self, title: str, body: str = "", *, pull_request: bool = False, state: str = "open"
    ) -> int:
        with self._lock:
            return self._new_issue(title, body, pull_request=pull_request, state=state)["number"]

    def add_pull_request(self, title: str = "Change things") -> int:
        return self.add_issue(title, pull_request=True)

    def add_comment(self, number: int, body: str, user: str = "someone") -> int:
        with self._lock:
            return int(self._new_comment(number, body, user)["id"])

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self._state.comments.values() if c["issue"] == number]

    def issues(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(i) for i in self._state.issues.values() if "pull_request" not in i]

    def requests(self, method: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self._state.requests if method is None or r.method == method]

    def clear_requests(self) -> None:
        with self._lock:
            self._state.requests.clear()

    def fail(
        self,
        status: int,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        methods: set[str] | None = None,
        times: int | None = None,
    ) -> None:
        """Answer ``status`` with GitHub's error document instead of doing the request."""
        with self._lock:
            self.failure = Failure(
                status, message, headers or {}, frozenset(methods) if methods else None, times
            )

    def rate_limited(
        self, reset_in_seconds: int, *, methods: set[str] | None = None, times: int | None = None
    ) -> None:
        """GitHub's answer once the primary rate limit is used up (403, remaining 0)."""
        reset = int(time.time()) + reset_in_seconds
        self.fail(
            403,
            "API rate limit exceeded for installation ID 4242.",
            headers={
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-used": "5000",
                "x-ratelimit-reset": str(reset),
                "x-ratelimit-resource": "core",
            },
            methods=methods,
            times=times,
        )

    # --- the API, called by the handler with the lock held ------------------------------

    def _new_issue(
        self, title: str, body: str, *, pull_request: bool = False, state: str = "open"
    ) -> dict[str, Any]:
        number = self._state.next_number
        self._state.next_number += 1
        kind = "pull" if pull_request else "issues"
        api = f"{self.api_url}/repos/{self.repository}"
        stamp = self._timestamp()
        issue: dict[str, Any] = {
            "id": 500 + number,
            "node_id": f"I_kwDOfake{number}",
            "url": f"{api}/issues/{number}",
            "repository_url": api,
            "comments_url": f"{api}/issues/{number}/comments",
            "html_url": f"https://github.com/{self.repository}/{kind}/{number}",
            "number": number,
            "state": state,
            "title": title,
            "body": body,
            "user": {"login": self.user, "id": 41898282, "type": "Bot"},
            "labels": [],
            "locked": False,
            "comments": 0,
            "created_at": stamp,
            "updated_at": stamp,
            "closed_at": None,
            "author_association": "NONE",
        }
        if pull_request:
            # GitHub marks the pull requests in the issues endpoints by this key alone.
            issue["pull_request"] = {
                "url": f"{api}/pulls/{number}",
                "html_url": f"https://github.com/{self.repository}/pull/{number}",
                "diff_url": f"https://github.com/{self.repository}/pull/{number}.diff",
                "patch_url": f"https://github.com/{self.repository}/pull/{number}.patch",
            }
        self._state.issues[number] = issue
        return issue

    def _new_comment(self, number: int, body: str, user: str) -> dict[str, Any]:
        comment_id = self._state.next_comment_id
        self._state.next_comment_id += 1
        api = f"{self.api_url}/repos/{self.repository}"
        stamp = self._timestamp()
        comment = {
            "id": comment_id,
            "node_id": f"IC_kwDOfake{comment_id}",
            "url": f"{api}/issues/comments/{comment_id}",
            # The issue's page: /pull/N for a pull request, /issues/N for an issue.
            "html_url": f"{self._state.issues[number]['html_url']}#issuecomment-{comment_id}",
            "issue_url": f"{api}/issues/{number}",
            "issue": number,
            "body": body,
            "user": {"login": user, "type": "Bot" if user.endswith("[bot]") else "User"},
            "created_at": stamp,
            "updated_at": stamp,
            "author_association": "NONE",
        }
        self._state.comments[comment_id] = comment
        self._state.issues[number]["comments"] += 1
        return comment

    def _timestamp(self) -> str:
        # One second per object created, from a fixed start: ordered and reproducible.
        self._state.clock += 1
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_796_000_000 + self._state.clock))

    def handle(
        self, method: str, path: str, query: dict[str, str], payload: Any
    ) -> tuple[int, Any, dict[str, str]]:
        failure = self.failure
        if failure is not None and (failure.methods is None or method in failure.methods):
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    self.failure = None
            return failure.status, _error(failure.message), dict(failure.headers)
        prefix = f"/repos/{self.repository}/"
        if not path.startswith(prefix):
            return 404, _error("Not Found"), {}
        parts = path[len(prefix) :].split("/")
        if method == "GET" and parts == ["issues"]:
            wanted = query.get("state", "open")
            listed = [
                i for i in self._state.issues.values() if wanted == "all" or i["state"] == wanted
            ]
            # GitHub's default sort: newest first.
            listed.sort(key=lambda i: i["number"], reverse=True)
            return self._page(path, query, listed)
        if method == "POST" and parts == ["issues"]:
            if not isinstance(payload, dict) or not payload.get("title"):
                return 422, _error("Validation Failed", "title is missing"), {}
            return 201, self._new_issue(payload["title"], payload.get("body") or ""), {}
        if method == "GET" and len(parts) == 2 and parts[0] == "issues" and parts[1].isdigit():
            issue = self._state.issues.get(int(parts[1]))
            if issue is None:
                return 404, _error("Not Found"), {}
            return 200, issue, {}
        if len(parts) == 3 and parts[0] == "issues" and parts[2] == "comments":
            number = int(parts[1]) if parts[1].isdigit() else -1
            if number not in self._state.issues:
                return 404, _error("Not Found"), {}
            if method == "GET":
                listed = [c for c in self._state.comments.values() if c["issue"] == number]
                return self._page(path, query, [_public(c) for c in listed])
            if method == "POST":
                problem = _body_problem(payload)
                if problem:
                    return 422, _error("Validation Failed", problem), {}
                return 201, _public(self._new_comment(number, payload["body"], self.user)), {}
        if method == "PATCH" and len(parts) == 3 and parts[:2] == ["issues", "comments"]:
            comment = self._state.comments.get(int(parts[2]) if parts[2].isdigit() else -1)
            if comment is None:
                return 404, _error("Not Found"), {}
            problem = _body_problem(payload)
            if problem:
                return 422, _error("Validation Failed", problem), {}
            comment["body"] = payload["body"]
            comment["updated_at"] = self._timestamp()
            return 200, _public(comment), {}
        return 404, _error("Not Found"), {}

    def _page(
        self, path: str, query: dict[str, str], items: list[dict[str, Any]]
    ) -> tuple[int, Any, dict[str, str]]:
        size = min(int(query.get("per_page", "30")), self.max_per_page)
        page = int(query.get("page", "1"))
        last = max(1, -(-len(items) // size))
        # Like GitHub: next and last while there are more pages, prev and first after page 1.
        wanted = []
        if page < last:
            wanted += [("next", page + 1), ("last", last)]
        if page > 1:
            wanted += [("prev", page - 1), ("first", 1)]
        base = f"{self.api_url}{path}"
        links = [
            f'<{base}?{urllib.parse.urlencode({**query, "page": target})}>; rel="{rel}"'
            for rel, target in wanted
        ]
        headers = {"Link": ", ".join(links)} if links else {}
        return 200, items[(page - 1) * size : page * size], headers


def _public(comment: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in comment.items() if key != "issue"}


def _error(message: str, detail: str | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
    }
    if detail:
        document["errors"] = [{"resource": "IssueComment", "code": "custom", "message": detail}]
    return document


def _body_problem(payload: Any) -> str | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("body"), str):
        return "body is missing"
    if len(payload["body"]) > BODY_LIMIT:
        return f"Body is too long (maximum is {BODY_LIMIT} characters)"
    return None


class _Handler(BaseHTTPRequestHandler):
    github: FakeGitHub

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def _serve(self) -> None:
        split = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(split.query))
        # Every request is logged, the ones refused for their token too.
        self._record(split, query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        auth = self.headers.get("Authorization", "")
        if auth not in (f"Bearer {self.github.token}", f"token {self.github.token}"):
            self._answer(401, _error("Bad credentials"), {})
            return
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            self._answer(400, _error("Problems parsing JSON"), {})
            return
        with self.github._lock:
            status, document, headers = self.github.handle(self.command, split.path, query, payload)
        self._answer(status, document, headers)

    def _record(self, split: urllib.parse.SplitResult, query: dict[str, str]) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        with self.github._lock:
            self.github._state.requests.append(Recorded(self.command, split.path, query, headers))

    def _answer(self, status: int, document: Any, headers: dict[str, str]) -> None:
        data = json.dumps(document).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = _serve
    do_POST = _serve
    do_PATCH = _serve
