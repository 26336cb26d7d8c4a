"""X API v2: recent search and the mentions timeline, with an app-only bearer token.

Incremental: `since_id` stays fixed while paging with `next_token`/`pagination_token`; the first
page's `meta.newest_id` becomes the new `since_id` only after the whole run is queued.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import requests

from socialcare.ingest.base import DeadItem, Page, descending_run, normalise_items
from socialcare.ingest.errors import (
    MalformedPageError,
    RateLimitedError,
    SourceRejectedError,
    StaleCursorError,
)
from socialcare.ingest.http import Deadline, Http, json_body
from socialcare.ingest.text import clip
from socialcare.models import Author, Mention
from socialcare.sources import DEFAULT_BASE_URLS

TWEET_FIELDS = ",".join(
    [
        "created_at",
        "author_id",
        "conversation_id",
        "in_reply_to_user_id",
        "referenced_tweets",
        "lang",
        "public_metrics",
        "entities",
        "note_tweet",
    ]
)
USER_FIELDS = "username,name,public_metrics,verified"


def mention_from_post(
    post: dict[str, Any],
    users: dict[str, dict[str, Any]],
    *,
    source: str | None = None,
    region: str | None = None,
) -> Mention:
    """One X post (with its expanded author) as a Mention; the note carries the long-form text.

    The API answers `referenced_tweets` and `note_tweet`; its OpenAPI description (v2.167) names them
    `referenced_posts` and `note_post`. Both spellings are read. Display fields the platform sends out
    of range (a negative follower count, an over-long language tag) are normalised by the models.
    """
    author_id = str(post["author_id"])
    user = users.get(author_id, {})
    username = user.get("username") or author_id
    metrics = user.get("public_metrics") if isinstance(user.get("public_metrics"), dict) else {}
    note = _either(post, "note_tweet", "note_post")
    text = (note.get("text") if isinstance(note, dict) else None) or post["text"]
    references = _either(post, "referenced_tweets", "referenced_posts")
    replied_to = next(
        (
            str(r["id"])
            for r in (references if isinstance(references, list) else [])
            if isinstance(r, dict) and r.get("type") == "replied_to" and r.get("id")
        ),
        None,
    )
    return Mention(
        platform="x",
        id=str(post["id"]),
        author=Author(
            id=author_id,
            handle=username,
            name=user.get("name"),
            followers=metrics.get("followers_count"),
            verified=user.get("verified"),
        ),
        text=clip(text),
        created_at=datetime.fromisoformat(str(post["created_at"]).replace("Z", "+00:00")),
        lang=post.get("lang"),
        permalink=f"https://x.com/{username}/status/{post['id']}",
        conversation_id=str(post["conversation_id"]) if post.get("conversation_id") else None,
        in_reply_to_id=replied_to,
        source=source,
        region=region,
    )


class XConnector:
    """Recent search (`query`) or the mentions timeline (`user_id`) against any base URL."""

    platform = "x"

    def __init__(
        self,
        http: Http | None = None,
        *,
        bearer_token: str,
        query: str | None = None,
        user_id: str | None = None,
        base_url: str | None = None,
        page_size: int = 100,
        backfill_s: int = 3600,
        source_id: str | None = None,
        region: str | None = None,
    ) -> None:
        if not (query or user_id):
            raise ValueError("XConnector needs a query (recent search) or a user_id (mentions timeline)")
        self.http = http or Http(requests.Session(), Deadline(60))
        self._token = bearer_token
        self.query = query
        self.user_id = user_id
        self.base_url = (base_url or DEFAULT_BASE_URLS["x"]).rstrip("/")
        self.page_size = max(10 if query else 5, min(100, page_size))
        self.backfill_s = backfill_s
        self.source_id = source_id
        self.region = region

    def _fetch(self, since_id: str | None, token: str | None) -> tuple[list[Mention], list[DeadItem], Any, Any, bool]:
        params: dict[str, Any] = {
            "max_results": self.page_size,
            "expansions": "author_id",
            "tweet.fields": TWEET_FIELDS,
            "user.fields": USER_FIELDS,
        }
        if self.query:
            url = f"{self.base_url}/2/tweets/search/recent"
            params["query"] = self.query
            if token:
                params["next_token"] = token
        else:
            url = f"{self.base_url}/2/users/{self.user_id}/mentions"
            if token:
                params["pagination_token"] = token
        if since_id:
            params["since_id"] = since_id
        elif self.backfill_s:
            start = self.http.now() - timedelta(seconds=self.backfill_s)
            params["start_time"] = start.strftime("%Y-%m-%dT%H:%M:%SZ")
        response = self.http.get(url, params=params, headers={"Authorization": f"Bearer {self._token}"})
        if response.status_code in (400, 404):
            if token:
                raise StaleCursorError(f"X refused the stored pagination token (HTTP {response.status_code})")
            raise SourceRejectedError(response.status_code, "X refused the query or user id")
        body = json_body(response)
        if response.status_code >= 400 or not isinstance(body, dict):
            raise MalformedPageError(f"HTTP {response.status_code}: unexpected body", response.text)
        errors = body.get("errors") or []
        if "data" not in body and any(_is_rate_limit(e) for e in errors):
            raise RateLimitedError(self.http.clock() + 60, "X rate limit in a 200 body")
        meta = body.get("meta")
        if not isinstance(meta, dict):
            raise MalformedPageError("X response without meta", response.text)
        data = body.get("data") or []
        if not isinstance(data, list):
            raise MalformedPageError("X data is not a list", response.text)
        users = {
            str(u["id"]): u
            for u in (body.get("includes") or {}).get("users") or []
            if isinstance(u, dict) and "id" in u
        }
        mentions, dead = normalise_items(
            data, lambda p: mention_from_post(p, users, source=self.source_id, region=self.region)
        )
        return mentions, dead, meta.get("newest_id"), meta.get("next_token"), False

    def pages(self, cursor: dict[str, Any]) -> Iterator[Page]:
        return descending_run(cursor, self._fetch)


def _either(post: dict[str, Any], name: str, spec_name: str) -> Any:
    return post.get(name) if post.get(name) is not None else post.get(spec_name)


def _is_rate_limit(error: Any) -> bool:
    return isinstance(error, dict) and (error.get("code") == 88 or str(error.get("type", "")).endswith("usage-capped"))
