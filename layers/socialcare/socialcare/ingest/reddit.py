"""Reddit: OAuth client credentials, then search or a subreddit's new posts / comments.

Listings are newest first with an `after` token; page down to the stored created_utc watermark and
dedup by fullname (t3_/t1_). A 429 can arrive as a 200 with {"error": 429}.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import requests

from socialcare.ingest.base import DeadItem, Page, descending_run, normalise_items
from socialcare.ingest.errors import AuthError, MalformedPageError, RateLimitedError
from socialcare.ingest.http import FALLBACK_RETRY_S, Http, json_body, parse_rate_limit
from socialcare.ingest.text import clip, from_epoch
from socialcare.models import Author, Mention

PAGE_LIMIT = 100
DEFAULT_USER_AGENT = "server:socialcare:0.1 (by /u/socialcare-bot)"

_TOKENS: dict[tuple[str, str], tuple[str, float]] = {}
_TOKENS_LOCK = threading.Lock()


def _reddit_errors(response: requests.Response, now: float) -> Exception | None:
    if response.status_code == 200 and response.headers.get("Content-Type", "").startswith("application/json"):
        try:
            body = response.json()
        except ValueError:
            return None
        if isinstance(body, dict) and body.get("error") == 429:
            reset = parse_rate_limit(response.headers, now).reset_at or now + FALLBACK_RETRY_S
            return RateLimitedError(reset, "Reddit 429 in a 200 body")
    return None


def mention_from_thing(thing: dict[str, Any], *, source: str | None = None, region: str | None = None) -> Mention:
    kind, data = thing["kind"], thing["data"]
    if kind == "t3":
        text = data["title"] + (f"\n\n{data['selftext']}" if data.get("selftext") else "")
        conversation, reply_to = data["name"], None
    elif kind == "t1":
        text = data["body"]
        conversation, reply_to = data["link_id"], data.get("parent_id")
    else:
        raise ValueError(f"unexpected listing kind {kind!r}")
    author = data.get("author") or "[deleted]"
    return Mention(
        platform="reddit",
        id=data["name"],
        author=Author(id=data.get("author_fullname") or author, handle=author),
        text=clip(text),
        created_at=from_epoch(data["created_utc"]),
        # Only a site path: "permalink": ".evil.example/x" must not become https://www.reddit.com.evil.example/x.
        permalink=(
            f"https://www.reddit.com{data['permalink']}"
            if isinstance(data.get("permalink"), str) and data["permalink"].startswith("/")
            else None
        ),
        conversation_id=conversation,
        in_reply_to_id=reply_to,
        source=source,
        region=region,
    )


class RedditConnector:
    platform = "reddit"

    def __init__(
        self,
        http: Http,
        *,
        client_id: str,
        client_secret: str,
        base_url: str,
        auth_url: str,
        mode: str = "search",
        query: str | None = None,
        subreddit: str | None = None,
        user_agent: str | None = None,
        backfill_s: int = 3600,
        overlap_s: int = 0,
        source_id: str | None = None,
        region: str | None = None,
    ) -> None:
        self.http = http
        self.http.error_hook = _reddit_errors
        self._client = (client_id, client_secret)
        self.base_url = base_url.rstrip("/")
        self.auth_url = auth_url.rstrip("/")
        self.mode = mode
        self.query = query
        self.subreddit = subreddit
        self.user_agent = user_agent or DEFAULT_USER_AGENT
        self.backfill_s = backfill_s
        self.overlap_s = overlap_s
        self.source_id = source_id
        self.region = region

    def _token(self, *, renew: bool = False) -> str:
        key = (self.auth_url, self._client[0])
        with _TOKENS_LOCK:
            cached = None if renew else _TOKENS.get(key)
        if cached and cached[1] > time.time() + 60:
            return cached[0]
        response = self.http.post(
            f"{self.auth_url}/api/v1/access_token",
            auth=self._client,
            data={"grant_type": "client_credentials"},
            headers={"User-Agent": self.user_agent},
        )
        body = json_body(response)
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            raise AuthError(response.status_code, "client credentials refused")
        with _TOKENS_LOCK:
            _TOKENS[key] = (body["access_token"], time.time() + float(body.get("expires_in", 3600)))
        return body["access_token"]

    def _listing_url(self) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"limit": PAGE_LIMIT, "raw_json": 1}
        if self.mode == "search":
            return f"{self.base_url}/search", {**params, "q": self.query, "sort": "new", "type": "link"}
        if self.mode == "comments":
            return f"{self.base_url}/r/{self.subreddit}/comments", params
        return f"{self.base_url}/r/{self.subreddit}/new", params

    def _get(self, url: str, params: dict[str, Any]) -> requests.Response:
        for renew in (False, True):
            headers = {"Authorization": f"bearer {self._token(renew=renew)}", "User-Agent": self.user_agent}
            try:
                return self.http.get(url, params=params, headers=headers)
            except AuthError as exc:
                if renew or exc.status != 401:
                    raise
        raise AuthError(401, "token refused")

    def _fetch(self, mark: Any, token: Any) -> tuple[list[Mention], list[DeadItem], Any, Any, bool]:
        url, params = self._listing_url()
        if token:
            params["after"] = token
        response = self._get(url, params)
        body = json_body(response)
        data = body.get("data") if isinstance(body, dict) else None
        if response.status_code >= 400 or not isinstance(data, dict) or not isinstance(data.get("children"), list):
            raise MalformedPageError(f"HTTP {response.status_code}: expected a Listing", response.text)
        floor = float(mark) - self.overlap_s if mark is not None else self.http.clock() - self.backfill_s
        children = data["children"]
        created = []
        fresh = []
        for child in children:
            try:
                ts = float(child["data"]["created_utc"])
            except (KeyError, TypeError, ValueError):
                fresh.append(child)  # let normalisation dead-letter it
                continue
            created.append(ts)
            if ts >= floor:
                fresh.append(child)
        mentions, dead = normalise_items(
            fresh, lambda t: mention_from_thing(t, source=self.source_id, region=self.region)
        )
        newest = max(created) if created else None
        reached = bool(created) and min(created) < floor
        return mentions, dead, newest, data.get("after"), reached

    def pages(self, cursor: dict[str, Any]) -> Iterator[Page]:
        return descending_run(cursor, self._fetch)
