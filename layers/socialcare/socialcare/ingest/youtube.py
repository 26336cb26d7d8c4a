"""YouTube Data API v3 comment threads for a video or a whole channel, newest first (order=time).

Top-level comments and the replies that come inline with them are mentions; a reply threads under its
top-level comment. Quota exhaustion is a 403 with reason quotaExceeded: the source sleeps until the
daily quota resets (midnight Pacific time), it is not unhealthy.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from socialcare.ingest.base import DeadItem, Page, descending_run
from socialcare.ingest.errors import MalformedPageError, RateLimitedError
from socialcare.ingest.http import Http, json_body
from socialcare.ingest.text import clip, strip_html
from socialcare.models import Author, Mention

PAGE_LIMIT = 100
_PACIFIC = ZoneInfo("America/Los_Angeles")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def next_quota_reset(now: float) -> float:
    local = datetime.fromtimestamp(now, _PACIFIC)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.timestamp()


def _youtube_errors(response: requests.Response, now: float) -> Exception | None:
    if response.status_code != 403:
        return None
    try:
        errors = response.json()["error"]["errors"]
        reasons = {e.get("reason") for e in errors}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if reasons & {"quotaExceeded", "dailyLimitExceeded", "rateLimitExceeded", "userRateLimitExceeded"}:
        return RateLimitedError(next_quota_reset(now), "YouTube quota exceeded")
    return None


def _comment(
    comment: dict[str, Any],
    *,
    thread_id: str,
    video_id: str | None,
    parent: str | None,
    source: str | None,
    region: str | None,
) -> Mention:
    snippet = comment["snippet"]
    author_id = (snippet.get("authorChannelId") or {}).get("value") or snippet["authorDisplayName"]
    video = snippet.get("videoId") or video_id
    permalink = f"https://www.youtube.com/watch?v={video}&lc={comment['id']}" if video else None
    text = snippet.get("textOriginal") or strip_html(snippet.get("textDisplay", ""))
    return Mention(
        platform="youtube",
        id=comment["id"],
        author=Author(id=author_id, handle=snippet["authorDisplayName"]),
        text=clip(text),
        created_at=_parse(snippet["publishedAt"]),
        permalink=permalink,
        conversation_id=thread_id,
        in_reply_to_id=parent,
        source=source,
        region=region,
    )


def mentions_from_thread(
    thread: dict[str, Any], *, source: str | None = None, region: str | None = None
) -> list[Mention]:
    snippet = thread["snippet"]
    top = snippet["topLevelComment"]
    video = snippet.get("videoId")
    out = [_comment(top, thread_id=thread["id"], video_id=video, parent=None, source=source, region=region)]
    for reply in (thread.get("replies") or {}).get("comments") or []:
        out.append(
            _comment(reply, thread_id=thread["id"], video_id=video, parent=top["id"], source=source, region=region)
        )
    return out


class YouTubeConnector:
    platform = "youtube"

    def __init__(
        self,
        http: Http,
        *,
        api_key: str,
        base_url: str,
        video_id: str | None = None,
        channel_id: str | None = None,
        query: str | None = None,
        backfill_s: int = 3600,
        overlap_s: int = 0,
        source_id: str | None = None,
        region: str | None = None,
    ) -> None:
        if not (video_id or channel_id):
            raise ValueError("YouTubeConnector needs a video_id or a channel_id")
        self.http = http
        self.http.error_hook = _youtube_errors
        self._key = api_key
        self.base_url = base_url.rstrip("/")
        self.video_id = video_id
        self.channel_id = channel_id
        self.query = query
        self.backfill_s = backfill_s
        self.overlap_s = overlap_s
        self.source_id = source_id
        self.region = region

    def _fetch(self, mark: Any, token: Any) -> tuple[list[Mention], list[DeadItem], Any, Any, bool]:
        params: dict[str, Any] = {
            "part": "snippet,replies",
            "order": "time",
            "maxResults": PAGE_LIMIT,
            "textFormat": "plainText",
            "key": self._key,
        }
        if self.video_id:
            params["videoId"] = self.video_id
        else:
            params["allThreadsRelatedToChannelId"] = self.channel_id
        if self.query:
            params["searchTerms"] = self.query
        if token:
            params["pageToken"] = token
        response = self.http.get(f"{self.base_url}/youtube/v3/commentThreads", params=params)
        body = json_body(response)
        if response.status_code >= 400 or not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise MalformedPageError(f"HTTP {response.status_code}: expected commentThreads", response.text)
        floor = (
            (_parse(mark) - timedelta(seconds=self.overlap_s))
            if mark
            else (self.http.now() - timedelta(seconds=self.backfill_s))
        )
        mentions: list[Mention] = []
        dead: list[DeadItem] = []
        stamps: list[datetime] = []
        for thread in body["items"]:
            try:
                # Thread order follows the latest activity; a new reply brings an old thread back up.
                updated = _parse(
                    thread["snippet"]["topLevelComment"]["snippet"].get("updatedAt")
                    or thread["snippet"]["topLevelComment"]["snippet"]["publishedAt"]
                )
            except (KeyError, TypeError, ValueError, AttributeError):
                updated = None
            try:
                built = mentions_from_thread(thread, source=self.source_id, region=self.region)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                dead.append(DeadItem(f"schema mismatch: {type(exc).__name__}: {str(exc)[:200]}", thread))
                continue
            newest = max(m.created_at for m in built)
            stamps.append(max(newest, updated) if updated else newest)
            mentions.extend(m for m in built if m.created_at >= floor)
        newest_mark = max(stamps).isoformat() if stamps else None
        reached = bool(stamps) and min(stamps) < floor
        return mentions, dead, newest_mark, body.get("nextPageToken"), reached

    def pages(self, cursor: dict[str, Any]) -> Iterator[Page]:
        return descending_run(cursor, self._fetch)
