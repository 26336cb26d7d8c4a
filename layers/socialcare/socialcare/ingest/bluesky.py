"""Bluesky: app.bsky.feed.searchPosts with a session from an app password.

There is no since-id: page `sort=latest` down to the stored indexedAt watermark (minus an overlap for
late indexing), dedup by the post's at:// uri. Follower counts come from app.bsky.actor.getProfiles.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from socialcare.ingest.base import DeadItem, Page, descending_run, normalise_items
from socialcare.ingest.errors import AuthError, MalformedPageError
from socialcare.ingest.http import Http, json_body
from socialcare.ingest.text import clip
from socialcare.models import Author, Mention

PAGE_LIMIT = 100
PROFILES_BATCH = 25

# Sessions survive between polls in a warm container: createSession is itself rate limited.
_SESSIONS: dict[tuple[str, str], str] = {}
_SESSIONS_LOCK = threading.Lock()


class _ExpiredSessionError(Exception):
    pass


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _bluesky_errors(response: requests.Response, now: float) -> Exception | None:
    if response.status_code in (400, 401):
        try:
            name = response.json().get("error")
        except (ValueError, AttributeError):
            return None
        if name in ("ExpiredToken", "InvalidToken"):
            return _ExpiredSessionError(name)
    return None


def mention_from_post(
    post: dict[str, Any], followers: dict[str, int], *, source: str | None = None, region: str | None = None
) -> Mention:
    author = post["author"]
    record = post["record"]
    uri = post["uri"]
    rkey = uri.rsplit("/", 1)[-1]
    reply = record.get("reply") or {}
    langs = record.get("langs") or []
    return Mention(
        platform="bluesky",
        id=uri,
        author=Author(
            id=author["did"],
            handle=author["handle"],
            name=author.get("displayName") or None,
            followers=followers.get(author["did"]),
        ),
        text=clip(record["text"]),
        created_at=_parse_time(record["createdAt"]),
        lang=langs[0] if langs else None,
        permalink=f"https://bsky.app/profile/{author['handle']}/post/{rkey}",
        conversation_id=(reply.get("root") or {}).get("uri"),
        in_reply_to_id=(reply.get("parent") or {}).get("uri"),
        source=source,
        region=region,
    )


class BlueskyConnector:
    platform = "bluesky"

    def __init__(
        self,
        http: Http,
        *,
        identifier: str,
        app_password: str,
        base_url: str,
        query: str,
        backfill_s: int = 3600,
        overlap_s: int = 0,
        fetch_followers: bool = True,
        source_id: str | None = None,
        region: str | None = None,
    ) -> None:
        self.http = http
        self.http.error_hook = _bluesky_errors
        self._identifier = identifier
        self._password = app_password
        self.base_url = base_url.rstrip("/")
        self.query = query
        self.backfill_s = backfill_s
        self.overlap_s = overlap_s
        self.fetch_followers = fetch_followers
        self.source_id = source_id
        self.region = region

    def _session_key(self) -> tuple[str, str]:
        return (self.base_url, self._identifier)

    def _access_token(self, *, renew: bool = False) -> str:
        with _SESSIONS_LOCK:
            token = None if renew else _SESSIONS.get(self._session_key())
        if token:
            return token
        response = self.http.post(
            f"{self.base_url}/xrpc/com.atproto.server.createSession",
            json={"identifier": self._identifier, "password": self._password},
        )
        body = json_body(response)
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("accessJwt"):
            raise AuthError(response.status_code, "createSession refused the app password")
        with _SESSIONS_LOCK:
            _SESSIONS[self._session_key()] = body["accessJwt"]
        return body["accessJwt"]

    def _get(self, path: str, params: Any) -> requests.Response:
        for renew in (False, True):
            headers = {"Authorization": f"Bearer {self._access_token(renew=renew)}"}
            try:
                return self.http.get(f"{self.base_url}/xrpc/{path}", params=params, headers=headers)
            except _ExpiredSessionError:
                continue
        raise AuthError(401, "session expired twice in a row")

    def _followers(self, dids: list[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        if not self.fetch_followers:
            return counts
        for start in range(0, len(dids), PROFILES_BATCH):
            batch = dids[start : start + PROFILES_BATCH]
            response = self._get("app.bsky.actor.getProfiles", [("actors", d) for d in batch])
            try:
                profiles = response.json().get("profiles") or []
            except (ValueError, AttributeError):
                continue  # follower counts are nice to have; the posts still go through
            for profile in profiles:
                if isinstance(profile, dict) and isinstance(profile.get("followersCount"), int):
                    counts[profile["did"]] = profile["followersCount"]
        return counts

    def _fetch(self, mark: Any, token: Any) -> tuple[list[Mention], list[DeadItem], Any, Any, bool]:
        floor = (
            _parse_time(mark) - timedelta(seconds=self.overlap_s)
            if mark
            else (self.http.now() - timedelta(seconds=self.backfill_s))
        )
        params: dict[str, Any] = {
            "q": self.query,
            "sort": "latest",
            "limit": PAGE_LIMIT,
            "since": _iso(floor),
        }
        if token:
            params["cursor"] = token
        response = self._get("app.bsky.feed.searchPosts", params)
        body = json_body(response)
        if response.status_code >= 400 or not isinstance(body, dict) or not isinstance(body.get("posts"), list):
            raise MalformedPageError(f"HTTP {response.status_code}: expected searchPosts output", response.text)
        posts = body["posts"]
        indexed = []
        for post in posts:
            try:
                indexed.append(_parse_time(post["indexedAt"]))
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
        dids = sorted(
            {
                p["author"]["did"]
                for p in posts
                if isinstance(p, dict) and isinstance(p.get("author"), dict) and p["author"].get("did")
            }
        )
        followers = self._followers(dids) if posts else {}
        mentions, dead = normalise_items(
            posts, lambda p: mention_from_post(p, followers, source=self.source_id, region=self.region)
        )
        newest = _iso(max(indexed)) if indexed else None
        reached = bool(indexed) and min(indexed) < floor
        return mentions, dead, newest, body.get("cursor"), reached

    def pages(self, cursor: dict[str, Any]) -> Iterator[Page]:
        return descending_run(cursor, self._fetch)
