"""Mastodon: mention notifications (forward with min_id, one safe cursor per page) and status search.

The status `uri` is the global id (the dedup key); `id` is local to the instance and only drives paging.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import requests

from socialcare.ingest.base import DeadItem, Page, PageTokens, descending_run, normalise_items
from socialcare.ingest.errors import MalformedPageError, PagingLoopError
from socialcare.ingest.http import Http, json_body
from socialcare.ingest.text import clip, strip_html
from socialcare.models import Author, Mention

NOTIFICATIONS_LIMIT = 80
SEARCH_LIMIT = 40


def _newest(ids: list[str]) -> str | None:
    numeric = [i for i in ids if i.isdigit()]
    return max(numeric, key=int) if numeric else None


def mention_from_status(status: dict[str, Any], *, source: str | None = None, region: str | None = None) -> Mention:
    account = status["account"]
    text = strip_html(status["content"])
    if status.get("spoiler_text"):
        text = f"{status['spoiler_text']}\n\n{text}"
    return Mention(
        platform="mastodon",
        id=status["uri"],
        author=Author(
            id=account.get("url") or str(account["id"]),
            handle=account["acct"],
            name=account.get("display_name") or None,
            followers=account.get("followers_count"),
        ),
        text=clip(text),
        created_at=datetime.fromisoformat(str(status["created_at"]).replace("Z", "+00:00")),
        lang=status.get("language"),
        permalink=status.get("url") or status["uri"],
        in_reply_to_id=str(status["in_reply_to_id"]) if status.get("in_reply_to_id") else None,
        source=source,
        region=region,
    )


class MastodonConnector:
    platform = "mastodon"

    def __init__(
        self,
        http: Http,
        *,
        access_token: str,
        base_url: str,
        mode: str = "notifications",
        query: str | None = None,
        source_id: str | None = None,
        region: str | None = None,
    ) -> None:
        self.http = http
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self.base_url = base_url.rstrip("/")
        self.mode = mode
        self.query = query
        self.source_id = source_id
        self.region = region

    def _build(self, status: dict[str, Any]) -> Mention:
        return mention_from_status(status, source=self.source_id, region=self.region)

    def pages(self, cursor: dict[str, Any]) -> Iterator[Page]:
        if self.mode == "search":
            return descending_run(cursor, self._search_page)
        return self._notifications(cursor)

    def _notifications(self, cursor: dict[str, Any]) -> Iterator[Page]:
        """min_id returns the block just after the cursor, so each page's newest id is a safe cursor."""
        min_id = cursor.get("mark")
        marks = PageTokens(min_id)
        while True:
            params: list[tuple[str, Any]] = [("types[]", "mention"), ("limit", NOTIFICATIONS_LIMIT)]
            if min_id:
                params.append(("min_id", min_id))
            response = self.http.get(f"{self.base_url}/api/v1/notifications", params=params, headers=self._headers)
            body = json_body(response)
            if response.status_code >= 400 or not isinstance(body, list):
                raise MalformedPageError(
                    f"HTTP {response.status_code}: expected a list of notifications", response.text
                )
            if not body:
                return
            ids = [str(n.get("id")) for n in body if isinstance(n, dict)]
            statuses: list[Any] = []
            dead: list[DeadItem] = []
            for notification in body:
                if not isinstance(notification, dict) or not isinstance(notification.get("status"), dict):
                    dead.append(DeadItem("notification without a status", notification))
                elif notification.get("type") == "mention":
                    statuses.append(notification["status"])
            mentions, bad = normalise_items(statuses, self._build)
            newest = _prev_min_id(response) or _newest(ids)
            if newest is None:
                raise MalformedPageError("notifications without usable ids", response.text)
            yield Page(mentions, {"mark": newest}, dead + bad)
            if len(body) < NOTIFICATIONS_LIMIT or not min_id:
                return  # a short page is the newest block; a first poll backfills one page only
            if marks.repeated(newest):
                raise PagingLoopError(f"the server repeated min_id {str(newest)[:40]} after {len(marks)} pages")
            min_id = newest

    def _search_page(self, mark: Any, token: Any) -> tuple[list[Mention], list[DeadItem], Any, Any, bool]:
        offset = int(token or 0)
        params: dict[str, Any] = {
            "q": self.query,
            "type": "statuses",
            "limit": SEARCH_LIMIT,
            "resolve": "false",
        }
        if mark:
            params["min_id"] = mark
        if offset:
            params["offset"] = offset
        response = self.http.get(f"{self.base_url}/api/v2/search", params=params, headers=self._headers)
        body = json_body(response)
        if response.status_code >= 400 or not isinstance(body, dict) or not isinstance(body.get("statuses"), list):
            raise MalformedPageError(f"HTTP {response.status_code}: expected search results", response.text)
        statuses = body["statuses"]
        mentions, dead = normalise_items(statuses, self._build)
        newest = _newest([str(s.get("id")) for s in statuses if isinstance(s, dict)])
        next_token = offset + len(statuses) if len(statuses) >= SEARCH_LIMIT else None
        return mentions, dead, newest, next_token, False


def _prev_min_id(response: requests.Response) -> str | None:
    """Mastodon's Link rel="prev" carries the min_id for the next forward page."""
    prev = response.links.get("prev", {}).get("url")
    if not prev:
        return None
    from urllib.parse import parse_qs, urlsplit

    values = parse_qs(urlsplit(prev).query).get("min_id")
    return values[0] if values else None
