"""Review sites: Google Business Profile and Trustpilot. A review carries its star rating (Mention.rating),
so a polite one- or two-star review is still read as the complaint it is.

Google: newest `updateTime` first; an edited review comes back with a new updateTime and is a new
mention on the same conversation (the review), so it threads into the case the first version opened.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from socialcare.ingest.base import DeadItem, Page, descending_run, normalise_items
from socialcare.ingest.errors import AuthError, ConfigurationError, MalformedPageError
from socialcare.ingest.http import Http, json_body
from socialcare.ingest.secrets import secret_fields
from socialcare.ingest.text import clip, strip_html
from socialcare.models import Author, Mention

STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 - an endpoint, not a secret
GBP_PAGE = 50
TRUSTPILOT_PAGE = 100

_GOOGLE_TOKENS: dict[str, tuple[str, float]] = {}
_GOOGLE_LOCK = threading.Lock()


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def mention_from_google_review(
    review: dict[str, Any], location: str, *, source: str | None = None, region: str | None = None
) -> Mention:
    reviewer = review.get("reviewer") or {}
    name = "Anonymous" if reviewer.get("isAnonymous") else (reviewer.get("displayName") or "Anonymous")
    rating = STARS[review["starRating"]]
    comment = (review.get("comment") or "").strip()
    updated = review.get("updateTime") or review["createTime"]
    return Mention(
        platform="gbp",
        id=f"{review['reviewId']}@{updated}",
        author=Author(id=f"{location}/reviewers/{name}"[:256], handle=name[:256]),
        text=clip(comment or f"{rating}-star review without a comment"),
        created_at=_parse(updated),
        permalink=None,
        conversation_id=review["reviewId"],
        rating=rating,
        source=source,
        region=region,
    )


def mention_from_trustpilot_review(
    review: dict[str, Any], *, source: str | None = None, region: str | None = None
) -> Mention:
    consumer = review.get("consumer") or {}
    title = strip_html(review.get("title") or "")
    body = strip_html(review.get("text") or "")
    links = {link.get("rel"): link.get("href") for link in review.get("links") or [] if isinstance(link, dict)}
    return Mention(
        platform="trustpilot",
        id=str(review["id"]),
        author=Author(
            id=str(consumer.get("id") or consumer.get("displayName") or "anonymous"),
            handle=consumer.get("displayName") or "Anonymous",
        ),
        text=clip("\n\n".join(t for t in (title, body) if t)),
        created_at=_parse(review["createdAt"]),
        lang=review.get("language"),
        permalink=links.get("reviews") or f"https://www.trustpilot.com/reviews/{review['id']}",
        conversation_id=str(review["id"]),
        rating=int(review["stars"]),
        source=source,
        region=region,
    )


class GoogleReviewsConnector:
    platform = "gbp"

    def __init__(
        self,
        http: Http,
        *,
        secret: str,
        base_url: str,
        location: str,
        token_url: str | None = None,
        backfill_s: int = 3600,
        source_id: str | None = None,
        region: str | None = None,
    ) -> None:
        self.http = http
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self.location = location
        self.token_url = (token_url.rstrip("/") + "/token") if token_url else GOOGLE_TOKEN_URL
        self.backfill_s = backfill_s
        self.source_id = source_id
        self.region = region

    def _access_token(self) -> str:
        fields = (
            secret_fields(self._secret) if self._secret.lstrip().startswith("{") else {"access_token": self._secret}
        )
        if fields.get("access_token"):
            return str(fields["access_token"])
        if not all(fields.get(k) for k in ("client_id", "client_secret", "refresh_token")):
            raise ConfigurationError("Google secret needs access_token or client_id, client_secret, refresh_token")
        with _GOOGLE_LOCK:
            cached = _GOOGLE_TOKENS.get(fields["client_id"])
        if cached and cached[1] > time.time() + 60:
            return cached[0]
        response = self.http.post(
            self.token_url,
            data={
                "grant_type": "refresh_token",
                "client_id": fields["client_id"],
                "client_secret": fields["client_secret"],
                "refresh_token": fields["refresh_token"],
            },
        )
        body = json_body(response)
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            raise AuthError(response.status_code, "refresh token refused")
        with _GOOGLE_LOCK:
            _GOOGLE_TOKENS[fields["client_id"]] = (
                body["access_token"],
                time.time() + float(body.get("expires_in", 3600)),
            )
        return body["access_token"]

    def _fetch(self, mark: Any, token: Any) -> tuple[list[Mention], list[DeadItem], Any, Any, bool]:
        params: dict[str, Any] = {"pageSize": GBP_PAGE, "orderBy": "updateTime desc"}
        if token:
            params["pageToken"] = token
        response = self.http.get(
            f"{self.base_url}/v4/{self.location}/reviews",
            params=params,
            headers={"Authorization": f"Bearer {self._access_token()}"},
        )
        body = json_body(response)
        if response.status_code >= 400 or not isinstance(body, dict):
            raise MalformedPageError(f"HTTP {response.status_code}: expected reviews", response.text)
        reviews = body.get("reviews") or []
        floor = _parse(mark) if mark else self.http.now() - timedelta(seconds=self.backfill_s)
        stamps, fresh = [], []
        for review in reviews:
            try:
                stamp = _parse(review.get("updateTime") or review["createTime"])
            except (KeyError, TypeError, ValueError, AttributeError):
                fresh.append(review)
                continue
            stamps.append(stamp)
            if stamp >= floor:
                fresh.append(review)
        mentions, dead = normalise_items(
            fresh,
            lambda r: mention_from_google_review(r, self.location, source=self.source_id, region=self.region),
        )
        newest = max(stamps).isoformat() if stamps else None
        return mentions, dead, newest, body.get("nextPageToken"), bool(stamps) and min(stamps) < floor

    def pages(self, cursor: dict[str, Any]) -> Iterator[Page]:
        return descending_run(cursor, self._fetch)


class TrustpilotConnector:
    platform = "trustpilot"

    def __init__(
        self,
        http: Http,
        *,
        api_key: str,
        base_url: str,
        business_unit_id: str,
        backfill_s: int = 3600,
        source_id: str | None = None,
        region: str | None = None,
    ) -> None:
        self.http = http
        self._key = api_key
        self.base_url = base_url.rstrip("/")
        self.business_unit_id = business_unit_id
        self.backfill_s = backfill_s
        self.source_id = source_id
        self.region = region

    def _fetch(self, mark: Any, token: Any) -> tuple[list[Mention], list[DeadItem], Any, Any, bool]:
        page = int(token or 1)
        response = self.http.get(
            f"{self.base_url}/v1/business-units/{self.business_unit_id}/reviews",
            params={"perPage": TRUSTPILOT_PAGE, "page": page, "orderBy": "createdat.desc"},
            headers={"apikey": self._key},
        )
        body = json_body(response)
        if response.status_code >= 400 or not isinstance(body, dict) or not isinstance(body.get("reviews"), list):
            raise MalformedPageError(f"HTTP {response.status_code}: expected reviews", response.text)
        floor = _parse(mark) if mark else self.http.now() - timedelta(seconds=self.backfill_s)
        stamps, fresh = [], []
        for review in body["reviews"]:
            try:
                stamp = _parse(review["createdAt"])
            except (KeyError, TypeError, ValueError, AttributeError):
                fresh.append(review)
                continue
            stamps.append(stamp)
            if stamp >= floor:
                fresh.append(review)
        mentions, dead = normalise_items(
            fresh, lambda r: mention_from_trustpilot_review(r, source=self.source_id, region=self.region)
        )
        has_next = any(isinstance(link, dict) and link.get("rel") == "next-page" for link in body.get("links") or [])
        newest = max(stamps).isoformat() if stamps else None
        return mentions, dead, newest, page + 1 if has_next else None, bool(stamps) and min(stamps) < floor

    def pages(self, cursor: dict[str, Any]) -> Iterator[Page]:
        return descending_run(cursor, self._fetch)
