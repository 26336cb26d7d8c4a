"""RSS and Atom feeds (blogs, news) with conditional GET: an unchanged feed costs one 304.

Identity: Atom `id`, RSS `guid`, else `link`, else a hash of link + title + date. A 301 moves the
stored URL; a 410 disables the source; 429/503 honour Retry-After (handled by Http).
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser

from socialcare.ingest.base import Page, normalise_items
from socialcare.ingest.errors import MalformedPageError, SourceGoneError
from socialcare.ingest.http import Http
from socialcare.ingest.text import clip, strip_html
from socialcare.models import Author, Mention

MAX_ID = 512


def _own(entry: Any, key: str) -> Any:
    """The entry's own value for ``key``: feedparser answers a missing ``updated``/``updated_parsed``
    with ``published``'s, a fallback it deprecates and will remove."""
    return dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)


def _entry_id(entry: Any, feed_url: str) -> str:
    ident = entry.get("id") or entry.get("guid") or entry.get("link")
    if not ident:
        when = entry.get("published") or _own(entry, "updated") or ""
        basis = f"{entry.get('link', '')}|{entry.get('title', '')}|{when}"
        if basis == "||":
            raise ValueError("entry has no id, link, title or date")
        ident = "sha256:" + hashlib.sha256(basis.encode()).hexdigest()
    ident = str(ident)
    if ":" not in ident:  # a bare guid is only unique within its feed
        ident = f"{feed_url}#{ident}"
    if len(ident) > MAX_ID:
        ident = "sha256:" + hashlib.sha256(ident.encode()).hexdigest()
    return ident


def mention_from_entry(
    entry: Any, feed: Any, feed_url: str, *, source: str | None = None, region: str | None = None
) -> Mention:
    when = entry.get("published_parsed") or _own(entry, "updated_parsed")
    created = datetime.fromtimestamp(calendar.timegm(when), UTC) if when else datetime.now(UTC)
    body = ""
    content = entry.get("content") or []
    if content:
        body = content[0].get("value", "")
    body = body or entry.get("summary", "")
    title = strip_html(entry.get("title", ""))
    text = "\n\n".join(t for t in (title, strip_html(body)) if t)
    site = feed.get("link") or feed_url
    detail = entry.get("author_detail") or {}
    author_name = detail.get("name") or entry.get("author") or feed.get("title") or urlsplit(site).netloc or "feed"
    return Mention(
        platform="rss",
        id=_entry_id(entry, feed_url),
        author=Author(id=f"{site}#{author_name}"[:256], handle=author_name[:256], name=feed.get("title")),
        text=clip(text),
        created_at=created,
        lang=(entry.get("language") or feed.get("language") or None),
        permalink=entry.get("link"),
        source=source,
        region=region,
    )


class FeedConnector:
    platform = "rss"

    def __init__(self, http: Http, *, feed_url: str, source_id: str | None = None, region: str | None = None) -> None:
        self.http = http
        self.feed_url = feed_url
        self.source_id = source_id
        self.region = region

    def pages(self, cursor: dict[str, Any]) -> Iterator[Page]:
        url = cursor.get("url") or self.feed_url
        headers = {"Accept": "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.5"}
        if cursor.get("etag"):
            headers["If-None-Match"] = cursor["etag"]
        if cursor.get("last_modified"):
            headers["If-Modified-Since"] = cursor["last_modified"]
        response = self.http.get(url, headers=headers)
        if any(r.status_code in (301, 308) for r in response.history):
            url = response.url  # permanent redirect: remember the new address
        if response.status_code == 304:
            if url != cursor.get("url", self.feed_url):
                yield Page([], {**cursor, "url": url})
            return
        if response.status_code in (404, 410):
            raise SourceGoneError(f"feed answered HTTP {response.status_code}")
        if response.status_code >= 400:
            raise MalformedPageError(f"HTTP {response.status_code} from feed", response.text[:10_000])
        parsed = feedparser.parse(
            response.content, response_headers={k.lower(): v for k, v in response.headers.items()}
        )
        if parsed.get("bozo") and not parsed.entries and not parsed.feed.get("title"):
            raise MalformedPageError(f"not a feed: {type(parsed.get('bozo_exception')).__name__}", response.text)
        mentions, dead = normalise_items(
            list(parsed.entries),
            lambda e: mention_from_entry(e, parsed.feed, url, source=self.source_id, region=self.region),
        )
        new_cursor: dict[str, Any] = {"url": url}
        if response.headers.get("ETag"):
            new_cursor["etag"] = response.headers["ETag"]
        if response.headers.get("Last-Modified"):
            new_cursor["last_modified"] = response.headers["Last-Modified"]
        yield Page(mentions, new_cursor, dead)
