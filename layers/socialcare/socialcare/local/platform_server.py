"""A loopback HTTP server that speaks real social platform API shapes, so the real connectors run locally.

Give it posts in one neutral form and it serves them as X API v2, Mastodon, Bluesky, Reddit or RSS
responses, with each platform's pagination, cursors and rate-limit headers. Used by the demo, the
`socialcare poll` command, the connector tests and the burst benchmark.

    server = PlatformServer(posts, rate_limit=(450, 900)).start()
    ... XConnector(base_url=server.base_url, bearer_token="local") ...
    server.add_posts(more)          # visible to the next poll
    server.stop()

A neutral post: {"id", "author_id", "username", "followers", "text", "created_at", "conversation_id",
"in_reply_to_id", "lang"} (optional "name", "title", "rating"). Ids are numeric strings; a larger id
is a newer post. A post with a "_raw" key is served as that raw item instead (malformed-item tests).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

Post = dict[str, Any]


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return str(value)


def _dt(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _token(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def _untoken(token: str) -> dict[str, Any] | None:
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None


class _Fault:
    def __init__(self, status: int, body: str | bytes, headers: dict[str, str], times: int, prefix: str) -> None:
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.headers = headers
        self.times = times
        self.prefix = prefix


class _Reply(Exception):
    """Raised by a route to answer with a status, body and headers."""

    def __init__(
        self,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.content_type = content_type


def sample_posts(
    count: int,
    *,
    start_id: int = 1_900_000_000_000_000_000,
    start: datetime | None = None,
    step_s: float = 1.0,
    authors: int = 50,
    brand: str = "SkylarkAir",
) -> list[Post]:
    """Invented posts about the sample airline, oldest first (ids and times increase)."""
    templates = [
        "@{brand} my flight SK{n} was cancelled and nobody at the gate knows when the next one leaves",
        "@{brand} bag still missing after 3 days, claim tag {n}, please help",
        "@{brand} charged twice for seat selection on booking {n}, need a refund",
        "@{brand} the app crashes every time I try to check in for SK{n}",
        "@{brand} thank you to the crew on SK{n}, lovely flight!",
        "ugh, delayed again. {brand} why is this every single time",
        "@{brand} is the lounge at terminal {n} open before 6am?",
    ]
    start = start or datetime.now(UTC) - timedelta(seconds=count * step_s)
    posts = []
    for i in range(count):
        author = i % authors
        posts.append(
            {
                "id": str(start_id + i),
                "author_id": str(7_000_000 + author),
                "username": f"traveller{author}",
                "name": f"Traveller {author}",
                "followers": (author * 37) % 5000,
                "text": templates[i % len(templates)].format(brand=brand, n=100 + i % 900),
                "created_at": start + timedelta(seconds=i * step_s),
                "conversation_id": str(start_id + i),
                "in_reply_to_id": None,
                "lang": "en",
            }
        )
    return posts


def as_of(posts: Iterable[Post], newest: datetime) -> list[Post]:
    """The posts moved in time so the newest one was written at `newest`, order and spacing kept: sample
    data recorded on one day then always falls inside a source's backfill window, whatever the date."""
    posts = list(posts)
    if not posts:
        return posts
    shift = newest - max(_dt(p["created_at"]) for p in posts)
    shift -= timedelta(microseconds=shift.microseconds)  # whole seconds: times keep their recorded precision
    return [{**p, "created_at": _dt(p["created_at"]) + shift} for p in posts]


class PlatformServer:
    """ThreadingHTTPServer on 127.0.0.1 (port 0) serving posts in each platform's real response shape."""

    def __init__(
        self,
        posts: Iterable[Post] = (),
        *,
        rate_limit: tuple[int, float] | None = None,
        token: str | None = None,
        latency_s: float = 0.0,
    ) -> None:
        self._lock = threading.Lock()
        self._posts: list[Post] = []
        self._ids: set[str] = set()
        self.rate_limit = rate_limit
        self.token = token
        self.latency_s = latency_s
        self.requests = 0
        self.requests_by_path: Counter[str] = Counter()
        self.rate_limited_responses = 0
        self._window_start = 0.0
        self._window_used = 0
        self._faults: list[_Fault] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.feed_etag_changes = 0
        # The brand's own writes (replies, posts), kept apart from the posts a search finds.
        self.published: list[dict[str, Any]] = []
        self._mastodon_keys: dict[str, dict[str, Any]] = {}  # Idempotency-Key -> the status it made
        self.repeat_next_token = 0  # the next N paged X requests hand their own page token back
        self.paging_loops_served = 0
        self.add_posts(posts)

    # ----- lifecycle -------------------------------------------------------------------------------
    def start(self) -> PlatformServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return None

            def do_GET(self) -> None:
                server._handle(self, "GET")

            def do_POST(self) -> None:
                server._handle(self, "POST")

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="platform-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> PlatformServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("server not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # ----- data ------------------------------------------------------------------------------------
    def add_posts(self, posts: Iterable[Post]) -> int:
        """Add posts (thread-safe); ones with a known id are ignored. Returns how many were new."""
        added = 0
        with self._lock:
            for post in posts:
                pid = str(post["id"])
                if pid in self._ids:
                    continue
                self._ids.add(pid)
                self._posts.append({**post, "id": pid})
                added += 1
            self._posts.sort(key=lambda p: int(p["id"]))
        return added

    @property
    def post_count(self) -> int:
        with self._lock:
            return len(self._posts)

    def fail_next(
        self,
        status: int,
        body: str | bytes | Any = "",
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
        path_prefix: str = "",
    ) -> None:
        """The next `times` requests (on paths starting with `path_prefix`) get this response instead."""
        if not isinstance(body, str | bytes):
            body = json.dumps(body)
            headers = {"Content-Type": "application/json", **(headers or {})}
        with self._lock:
            self._faults.append(_Fault(status, body, headers or {}, times, path_prefix))

    def _newest_first(self, *, after: int | None = None, before: int | None = None) -> list[Post]:
        with self._lock:
            posts = list(self._posts)
        out = []
        for post in reversed(posts):
            n = int(post["id"])
            if after is not None and n <= after:
                break
            if before is not None and n >= before:
                continue
            out.append(post)
        return out

    # ----- request plumbing ------------------------------------------------------------------------
    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.prefix):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _rate_window(self) -> tuple[bool, dict[str, int]]:
        """(allowed, headers) for one request under the fixed-window limit, X style (reset in Unix s)."""
        if not self.rate_limit:
            return True, {}
        limit, window = self.rate_limit
        now = time.time()
        with self._lock:
            start = (now // window) * window
            if start != self._window_start:
                self._window_start, self._window_used = start, 0
            allowed = self._window_used < limit
            if allowed:
                self._window_used += 1
            else:
                self.rate_limited_responses += 1
            remaining = max(0, limit - self._window_used)
        reset = start + window
        return allowed, {
            "limit": limit,
            "remaining": remaining,
            "reset": int(reset if reset == int(reset) else reset + 1),
        }

    def _handle(self, req: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(req.path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        with self._lock:
            self.requests += 1
            self.requests_by_path[path] += 1
        if self.latency_s:
            time.sleep(self.latency_s)
        fault = self._take_fault(path)
        if fault is not None:
            self._send(req, fault.status, fault.body, {"Content-Type": "application/json", **fault.headers})
            return
        try:
            route = self._route(method, path)
            if route is None:
                raise _Reply(404, {"error": "not found", "path": path})
            route(req, path, query, body)
        except _Reply as reply:
            payload = reply.body
            if not isinstance(payload, bytes):
                payload = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
            self._send(req, reply.status, payload, {"Content-Type": reply.content_type, **reply.headers})

    @staticmethod
    def _send(req: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
        try:
            req.send_response(status)
            for key, value in headers.items():
                req.send_header(key, str(value))
            req.send_header("Content-Length", str(len(body)))
            req.end_headers()
            if req.command != "HEAD":
                req.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _route(self, method: str, path: str) -> Any:
        if (
            (path == "/2/tweets" and method == "POST")
            or path == "/2/users/me"
            or (path.startswith("/2/users/") and path.endswith("/tweets"))
        ):
            return self._x_brand
        if path == "/api/v1/statuses" and method == "POST":
            return self._mastodon_write
        if path == "/2/tweets/search/recent" or (path.startswith("/2/users/") and path.endswith("/mentions")):
            return self._x
        if path in ("/api/v1/notifications", "/api/v2/search"):
            return self._mastodon
        if path == "/xrpc/com.atproto.server.createSession" and method == "POST":
            return self._bluesky_session
        if path in ("/xrpc/app.bsky.feed.searchPosts", "/xrpc/app.bsky.actor.getProfiles"):
            return self._bluesky
        if path == "/api/v1/access_token" and method == "POST":
            return self._reddit_token
        if path == "/search" or (path.startswith("/r/") and path.rsplit("/", 1)[-1] in ("new", "comments")):
            return self._reddit
        if path in ("/feed.xml", "/rss.xml", "/atom.xml") or path.endswith((".rss", ".atom")):
            return self._feed
        return None

    def _bearer(self, req: BaseHTTPRequestHandler, problem: Any) -> str | None:
        auth = req.headers.get("Authorization") or ""
        if self.token is not None and auth != f"Bearer {self.token}":
            raise _Reply(401, problem)
        return auth.removeprefix("Bearer ") or None

    # ----- X API v2 --------------------------------------------------------------------------------
    def _x(self, req: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]], body: bytes) -> None:
        def arg(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        self._bearer(req, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
        allowed, rl = self._rate_window()
        headers = {f"x-rate-limit-{k}": str(v) for k, v in rl.items()}
        if not allowed:
            raise _Reply(
                429,
                {
                    "title": "Too Many Requests",
                    "detail": "Too Many Requests",
                    "type": "about:blank",
                    "status": 429,
                },
                headers,
                "application/problem+json",
            )
        search = path == "/2/tweets/search/recent"
        low = 10 if search else 5
        try:
            max_results = int(arg("max_results") or 10)
        except ValueError:
            max_results = -1
        if not low <= max_results <= 100:
            raise _Reply(
                400,
                {
                    "errors": [
                        {
                            "parameters": {"max_results": [arg("max_results")]},
                            "message": f"The `max_results` query parameter value [{arg('max_results')}] "
                            f"is not between {low} and 100",
                        }
                    ],
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": "https://api.x.com/2/problems/invalid-request",
                },
                headers,
            )
        since_id = arg("since_id")
        token_name = "next_token" if search else "pagination_token"
        token = arg(token_name)
        before: int | None = None
        if token:
            decoded = _untoken(token)
            if decoded is None or "before" not in decoded:
                raise _Reply(
                    400,
                    {
                        "errors": [
                            {
                                "parameters": {token_name: [token]},
                                "message": f"The `{token_name}` query parameter value [{token}] is not valid",
                            }
                        ],
                        "title": "Invalid Request",
                        "detail": "One or more parameters to your request was invalid.",
                        "type": "https://api.x.com/2/problems/invalid-request",
                    },
                    headers,
                )
            before = int(decoded["before"])
        posts = self._newest_first(after=int(since_id) if since_id else None, before=before)
        start_time = arg("start_time")
        if start_time and not since_id:
            floor = _dt(start_time)
            posts = [p for p in posts if _dt(p["created_at"]) >= floor]
        page, rest = posts[:max_results], posts[max_results:]
        data, users = [], {}
        for post in page:
            if "_raw" in post:
                data.append(post["_raw"])
                continue
            item, user = x_post(post)
            data.append(item)
            users[post["author_id"]] = user
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"] = page[0]["id"]
            meta["oldest_id"] = page[-1]["id"]
        if rest:
            meta["next_token"] = _token({"before": page[-1]["id"]})
            with self._lock:
                loop = bool(token) and self.repeat_next_token > 0
                if loop:  # a faulty server: the same page token again, a paging loop for the client
                    self.repeat_next_token -= 1
                    self.paging_loops_served += 1
            if loop:
                meta["next_token"] = token
        payload: dict[str, Any] = {"meta": meta}
        if data:
            payload = {"data": data, "includes": {"users": list(users.values())}, "meta": meta}
        raise _Reply(200, payload, headers)

    # ----- the brand's writes (X and Mastodon), and X's look-up of the brand's own posts ----------
    BRAND_X_ID = "4000000001"

    def _x_brand(self, req: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]], body: bytes) -> None:
        self._bearer(req, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
        if path == "/2/users/me":
            raise _Reply(200, {"data": {"id": self.BRAND_X_ID, "name": "Brand", "username": "brand"}})
        if path == "/2/tweets":
            sent = json.loads(body or b"{}")
            reply = (sent.get("reply") or {}).get("in_reply_to_tweet_id")
            with self._lock:
                post = {
                    "platform": "x",
                    "id": str(5_000_000_000 + len(self.published)),
                    "text": sent.get("text", ""),
                    "in_reply_to": reply,
                    "created_at": datetime.now(UTC),
                }
                self.published.append(post)
            raise _Reply(201, {"data": {"id": post["id"], "text": post["text"]}})
        # GET /2/users/{id}/tweets: the account's posts, newest first, from start_time on
        floor = _dt(query["start_time"][0]) if query.get("start_time") else None
        with self._lock:
            mine = [
                p
                for p in reversed(self.published)
                if p["platform"] == "x" and (floor is None or p["created_at"] >= floor)
            ]
        data = []
        for p in mine[:100]:
            item = {"id": p["id"], "text": p["text"], "created_at": _iso(p["created_at"])}
            if p["in_reply_to"]:
                item["referenced_tweets"] = [{"type": "replied_to", "id": p["in_reply_to"]}]
            data.append(item)
        meta = {"result_count": len(data)}
        raise _Reply(200, {"data": data, "meta": meta} if data else {"meta": meta})

    def _mastodon_write(self, req: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]], body: bytes) -> None:
        """POST /api/v1/statuses honouring Idempotency-Key: a repeated key returns the status it made."""
        self._bearer(req, {"error": "The access token is invalid"})
        sent = json.loads(body or b"{}")
        key = req.headers.get("Idempotency-Key")
        with self._lock:
            if key and key in self._mastodon_keys:
                status = self._mastodon_keys[key]
            else:
                post = {
                    "platform": "mastodon",
                    "id": str(7_000_000_000 + len(self.published)),
                    "text": sent.get("status", ""),
                    "in_reply_to": sent.get("in_reply_to_id"),
                    "created_at": datetime.now(UTC),
                    "idempotency_key": key,
                }
                self.published.append(post)
                status = {
                    "id": post["id"],
                    "content": f"<p>{post['text']}</p>",
                    "in_reply_to_id": post["in_reply_to"],
                    "visibility": sent.get("visibility", "public"),
                    "created_at": _iso(post["created_at"]),
                    "uri": f"{self.base_url}/users/brand/statuses/{post['id']}",
                }
                if key:
                    self._mastodon_keys[key] = status
        raise _Reply(200, status)

    # ----- Mastodon --------------------------------------------------------------------------------
    def _mastodon_status(self, post: Post) -> dict[str, Any]:
        if "_raw" in post:
            return post["_raw"]
        host = "mastodon.local"
        acct = post["username"]
        return {
            "id": post["id"],
            "uri": f"https://{host}/users/{acct}/statuses/{post['id']}",
            "url": f"https://{host}/@{acct}/{post['id']}",
            "created_at": _iso(post["created_at"]),
            "content": "<p>" + escape(post["text"]).replace("\n", "<br>") + "</p>",
            "spoiler_text": "",
            "visibility": "public",
            "language": post.get("lang") or "en",
            "in_reply_to_id": post.get("in_reply_to_id"),
            "in_reply_to_account_id": None,
            "account": {
                "id": post["author_id"],
                "username": acct,
                "acct": acct,
                "display_name": post.get("name") or acct,
                "url": f"https://{host}/@{acct}",
                "followers_count": int(post.get("followers") or 0),
            },
        }

    def _mastodon(self, req: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]], body: bytes) -> None:
        def arg(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        self._bearer(req, {"error": "The access token is invalid"})
        allowed, rl = self._rate_window()
        headers = {}
        if rl:
            reset = datetime.fromtimestamp(rl["reset"], UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            headers = {
                "X-RateLimit-Limit": str(rl["limit"]),
                "X-RateLimit-Remaining": str(rl["remaining"]),
                "X-RateLimit-Reset": reset,
            }
        if not allowed:
            raise _Reply(429, {"error": "Too many requests"}, headers)
        search = path == "/api/v2/search"
        limit = max(1, min(40 if search else 80, int(arg("limit") or (20 if search else 40))))
        min_id, max_id, since_id = arg("min_id"), arg("max_id"), arg("since_id")
        posts = self._newest_first(
            after=int(min_id or since_id) if (min_id or since_id) else None,
            before=int(max_id) if max_id else None,
        )
        if search:
            offset = int(arg("offset") or 0)
            page = posts[offset : offset + limit]
            raise _Reply(
                200,
                {"accounts": [], "statuses": [self._mastodon_status(p) for p in page], "hashtags": []},
                headers,
            )
        # min_id pages forward: the block immediately newer than min_id, newest first within the page
        page = posts[-limit:] if min_id else posts[:limit]
        items = [
            {
                "id": p["id"],
                "type": "mention",
                "created_at": _iso(p["created_at"]),
                "account": self._mastodon_status(p).get("account"),
                "status": self._mastodon_status(p),
            }
            for p in page
        ]
        if page:
            base = f"{self.base_url}{path}"
            headers["Link"] = (
                f'<{base}?max_id={page[-1]["id"]}>; rel="next", <{base}?min_id={page[0]["id"]}>; rel="prev"'
            )
        raise _Reply(200, items, headers)

    # ----- Bluesky ---------------------------------------------------------------------------------
    def _bluesky_session(
        self, req: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]], body: bytes
    ) -> None:
        try:
            creds = json.loads(body or b"{}")
        except ValueError:
            raise _Reply(400, {"error": "InvalidRequest", "message": "bad JSON"}) from None
        if self.token is not None and creds.get("password") != self.token:
            raise _Reply(401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"})
        ident = str(creds.get("identifier") or "brand.bsky.social")
        with self._lock:
            self.sessions_created = getattr(self, "sessions_created", 0) + 1
            access = f"local-access-{self.sessions_created}"
            self._bsky_tokens = {*getattr(self, "_bsky_tokens", set()), access}
        raise _Reply(
            200,
            {
                "did": "did:plc:brand0000000000000000000",
                "handle": ident,
                "accessJwt": access,
                "refreshJwt": f"local-refresh-{self.sessions_created}",
                "active": True,
            },
        )

    def expire_bluesky_sessions(self) -> None:
        """Every access token issued so far now answers ExpiredToken."""
        with self._lock:
            self._bsky_tokens = set()

    def _bluesky(self, req: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]], body: bytes) -> None:
        auth = (req.headers.get("Authorization") or "").removeprefix("Bearer ")
        if self.token is not None and auth not in getattr(self, "_bsky_tokens", set()):
            raise _Reply(400, {"error": "ExpiredToken", "message": "Token has expired"})
        allowed, rl = self._rate_window()
        headers = {}
        if rl:
            headers = {
                "RateLimit-Limit": str(rl["limit"]),
                "RateLimit-Remaining": str(rl["remaining"]),
                "RateLimit-Reset": str(rl["reset"]),
                "RateLimit-Policy": f"{rl['limit']};w=60",
            }
        if not allowed:
            raise _Reply(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, headers)
        if path.endswith("getProfiles"):
            wanted = set(query.get("actors", []))
            with self._lock:
                by_did = {self._did(p): p for p in self._posts}
            profiles = [
                {
                    "did": d,
                    "handle": f"{by_did[d]['username']}.bsky.social",
                    "displayName": by_did[d].get("name") or "",
                    "followersCount": int(by_did[d].get("followers") or 0),
                    "followsCount": 0,
                    "postsCount": 0,
                }
                for d in sorted(wanted)
                if d in by_did
            ]
            raise _Reply(200, {"profiles": profiles}, headers)
        limit = max(1, min(100, int((query.get("limit") or ["25"])[0])))
        since = (query.get("since") or [None])[0]
        cursor = (query.get("cursor") or [None])[0]
        before = None
        if cursor:
            decoded = _untoken(cursor)
            if decoded is None:
                raise _Reply(400, {"error": "InvalidRequest", "message": "invalid cursor"}, headers)
            before = int(decoded["before"])
        posts = self._newest_first(before=before)
        if since:
            floor = _dt(since)
            posts = [p for p in posts if _dt(p["created_at"]) >= floor]
        page, rest = posts[:limit], posts[limit:]
        out: dict[str, Any] = {"posts": [self._bluesky_post(p) for p in page], "hitsTotal": len(posts)}
        if rest:
            out["cursor"] = _token({"before": page[-1]["id"]})
        raise _Reply(200, out, headers)

    @staticmethod
    def _did(post: Post) -> str:
        return f"did:plc:{int(post['author_id']):024d}"

    def _bluesky_post(self, post: Post) -> dict[str, Any]:
        if "_raw" in post:
            return post["_raw"]
        did = self._did(post)
        rkey = f"3l{int(post['id']):x}"[-13:]
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": post["text"],
            "createdAt": _iso(post["created_at"]),
            "langs": [post.get("lang") or "en"],
        }
        if post.get("in_reply_to_id"):
            parent = f"at://{did}/app.bsky.feed.post/3l{int(post['in_reply_to_id']):x}"
            root_id = post.get("conversation_id") or post["in_reply_to_id"]
            root = f"at://{did}/app.bsky.feed.post/3l{int(root_id):x}"
            record["reply"] = {
                "root": {"uri": root, "cid": "bafyroot"},
                "parent": {"uri": parent, "cid": "bafyparent"},
            }
        return {
            "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
            "cid": f"bafyrei{int(post['id']):x}",
            "author": {
                "did": did,
                "handle": f"{post['username']}.bsky.social",
                "displayName": post.get("name") or "",
            },
            "record": record,
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": _iso(post["created_at"]),
            "labels": [],
        }

    # ----- Reddit ----------------------------------------------------------------------------------
    def _reddit_token(self, req: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]], body: bytes) -> None:
        auth = req.headers.get("Authorization") or ""
        if self.token is not None:
            try:
                user, _, password = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
            except ValueError:
                password = ""
            if password != self.token:
                raise _Reply(401, {"message": "Unauthorized", "error": 401})
        with self._lock:
            self.reddit_tokens_issued = getattr(self, "reddit_tokens_issued", 0) + 1
            token = f"local-reddit-{self.reddit_tokens_issued}"
            self._reddit_tokens = {*getattr(self, "_reddit_tokens", set()), token}
        raise _Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"})

    @staticmethod
    def _b36(n: int) -> str:
        chars = "0123456789abcdefghijklmnopqrstuvwxyz"
        out = ""
        while n:
            n, r = divmod(n, 36)
            out = chars[r] + out
        return out or "0"

    def _reddit_thing(self, post: Post, comments: bool) -> dict[str, Any]:
        if "_raw" in post:
            return post["_raw"]
        rid = self._b36(int(post["id"]))
        created = _dt(post["created_at"]).timestamp()
        author = post["username"]
        if comments:
            link = self._b36(int(post.get("conversation_id") or post["id"]))
            parent = f"t1_{self._b36(int(post['in_reply_to_id']))}" if post.get("in_reply_to_id") else f"t3_{link}"
            data = {
                "id": rid,
                "name": f"t1_{rid}",
                "body": post["text"],
                "author": author,
                "author_fullname": f"t2_{self._b36(int(post['author_id']))}",
                "created_utc": created,
                "link_id": f"t3_{link}",
                "parent_id": parent,
                "subreddit": "flights",
                "permalink": f"/r/flights/comments/{link}/comment/{rid}/",
                "score": 1,
            }
            return {"kind": "t1", "data": data}
        title, _, rest = post["text"].partition(". ")
        data = {
            "id": rid,
            "name": f"t3_{rid}",
            "title": post.get("title") or title,
            "selftext": rest,
            "author": author,
            "author_fullname": f"t2_{self._b36(int(post['author_id']))}",
            "created_utc": created,
            "subreddit": "flights",
            "num_comments": 0,
            "score": 1,
            "permalink": f"/r/flights/comments/{rid}/post/",
            "url": f"https://www.reddit.com/r/flights/comments/{rid}/",
        }
        return {"kind": "t3", "data": data}

    def _reddit(self, req: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]], body: bytes) -> None:
        auth = (req.headers.get("Authorization") or "").removeprefix("bearer ").removeprefix("Bearer ")
        if self.token is not None and auth not in getattr(self, "_reddit_tokens", set()):
            raise _Reply(401, {"message": "Unauthorized", "error": 401})
        allowed, rl = self._rate_window()
        headers = {}
        if rl:
            left = max(0, int(rl["reset"] - time.time()))
            headers = {
                "X-Ratelimit-Used": str(rl["limit"] - rl["remaining"]),
                "X-Ratelimit-Remaining": f"{float(rl['remaining']):.1f}",
                "X-Ratelimit-Reset": str(left),
            }
        if not allowed:
            raise _Reply(429, {"message": "Too Many Requests", "error": 429}, headers)
        limit = max(1, min(100, int((query.get("limit") or ["25"])[0])))
        after = (query.get("after") or [None])[0]
        before = int(after.split("_", 1)[1], 36) if after and "_" in after else None
        posts = self._newest_first(before=before)
        page, rest = posts[:limit], posts[limit:]
        comments = path.endswith("/comments")
        children = [self._reddit_thing(p, comments) for p in page]
        next_after = None
        if rest and page:
            next_after = f"{'t1' if comments else 't3'}_{self._b36(int(page[-1]['id']))}"
        raise _Reply(
            200,
            {
                "kind": "Listing",
                "data": {
                    "after": next_after,
                    "before": None,
                    "dist": len(children),
                    "modhash": "",
                    "geo_filter": "",
                    "children": children,
                },
            },
            headers,
        )

    # ----- RSS / Atom ------------------------------------------------------------------------------
    FEED_WINDOW = 50

    def _feed(self, req: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]], body: bytes) -> None:
        allowed, rl = self._rate_window()
        if not allowed:
            raise _Reply(429, "slow down", {"Retry-After": str(max(1, int(rl["reset"] - time.time())))}, "text/plain")
        posts = self._newest_first()[: self.FEED_WINDOW]
        etag = f'W/"{posts[0]["id"] if posts else 0}-{len(posts)}"'
        last_modified = format_datetime(
            _dt(posts[0]["created_at"]) if posts else datetime(2026, 1, 1, tzinfo=UTC), usegmt=True
        )
        headers = {"ETag": etag, "Last-Modified": last_modified}
        if req.headers.get("If-None-Match") == etag:
            raise _Reply(304, b"", headers)
        if path.endswith(".atom") or path == "/atom.xml":
            raise _Reply(200, _atom(posts), headers, "application/atom+xml; charset=utf-8")
        raise _Reply(200, _rss(posts), headers, "application/rss+xml; charset=utf-8")


FEED_SITE = "https://news.skylark.local"


def x_post(post: Post) -> tuple[dict[str, Any], dict[str, Any]]:
    """A neutral post as X API v2 renders it: the tweet object and its expanded author."""
    item: dict[str, Any] = {
        "id": post["id"],
        "text": post["text"][:280],
        "author_id": post["author_id"],
        "created_at": _iso(post["created_at"]),
        "conversation_id": post.get("conversation_id") or post["id"],
        "lang": post.get("lang") or "en",
        "edit_history_tweet_ids": [post["id"]],
        "public_metrics": {
            "repost_count": 0,
            "reply_count": 0,
            "like_count": 0,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": 0,
        },
    }
    if len(post["text"]) > 280:
        item["note_tweet"] = {"text": post["text"]}
    if post.get("in_reply_to_id"):
        item["referenced_tweets"] = [{"type": "replied_to", "id": post["in_reply_to_id"]}]
        if post.get("in_reply_to_user_id"):
            item["in_reply_to_user_id"] = post["in_reply_to_user_id"]
    user = {
        "id": post["author_id"],
        "username": post["username"],
        "name": post.get("name") or post["username"],
        "public_metrics": {
            "followers_count": int(post.get("followers") or 0),
            "following_count": 0,
            "post_count": 0,
            "listed_count": 0,
        },
    }
    return item, user


def _title(post: Post) -> str:
    return escape(post.get("title") or post["text"][:60])


def _html_body(post: Post) -> str:
    return escape("<p>" + escape(post["text"]) + "</p>")


def _atom(posts: list[Post]) -> str:
    entries = []
    for p in posts:
        entries.append(
            f"<entry><id>tag:news.skylark.local,2026:{p['id']}</id><title>{_title(p)}</title>"
            f'<link href="{FEED_SITE}/posts/{p["id"]}"/><updated>{_iso(p["created_at"])}</updated>'
            f"<author><name>{escape(p.get('name') or p['username'])}</name></author>"
            f'<content type="html">{_html_body(p)}</content></entry>'
        )
    updated = _iso(posts[0]["created_at"]) if posts else "2026-01-01T00:00:00Z"
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
        f'<title>Skylark Watch</title><id>{FEED_SITE}/</id><link href="{FEED_SITE}/"/>'
        f"<updated>{updated}</updated>{''.join(entries)}</feed>"
    )


def _rss(posts: list[Post]) -> str:
    items = []
    for p in posts:
        published = format_datetime(_dt(p["created_at"]), usegmt=True)
        author = f"{escape(p['username'])}@news.skylark.local ({escape(p.get('name') or p['username'])})"
        items.append(
            f"<item><title>{_title(p)}</title><link>{FEED_SITE}/posts/{p['id']}</link>"
            f'<guid isPermaLink="false">{p["id"]}</guid><pubDate>{published}</pubDate>'
            f"<author>{author}</author><description>{_html_body(p)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Skylark Watch</title>'
        f"<link>{FEED_SITE}/</link><description>Travel news</description><language>en</language>"
        f"{''.join(items)}</channel></rss>"
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m socialcare.local.platform_server --posts 200`: serve sample posts until interrupted."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--token", default=None)
    parser.add_argument("--add-every", type=float, default=0.0, help="add one new post every N seconds")
    args = parser.parse_args(argv)
    server = PlatformServer(sample_posts(args.posts), token=args.token).start()
    print(server.base_url, flush=True)
    next_id = 1_900_000_000_000_000_000 + args.posts
    try:
        while True:
            time.sleep(args.add_every or 3600)
            if args.add_every:
                server.add_posts(sample_posts(1, start_id=next_id, start=datetime.now(UTC)))
                next_id += 1
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
