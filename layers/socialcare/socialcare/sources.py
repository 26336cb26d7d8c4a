"""Where to listen: one SourceConfig per handle, query, subreddit, feed, video or review location.

Adding a source is configuration (brand.yaml `sources:`), not code. Secrets are referenced by the name
of a Secrets Manager secret or SSM parameter, never given inline.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Platform = Literal["x", "mastodon", "bluesky", "reddit", "rss", "youtube", "gbp", "trustpilot"]

DEFAULT_BASE_URLS: dict[str, str] = {
    "x": "https://api.x.com",
    "mastodon": "https://mastodon.social",
    "bluesky": "https://bsky.social",
    "reddit": "https://oauth.reddit.com",
    "youtube": "https://www.googleapis.com",
    "gbp": "https://mybusiness.googleapis.com",
    "trustpilot": "https://api.trustpilot.com",
}

DEFAULT_AUTH_URLS: dict[str, str] = {
    "reddit": "https://www.reddit.com",
}

# What each platform needs besides its secret, per mode: (required field, ...).
_REQUIRED: dict[tuple[str, str], tuple[str, ...]] = {
    ("x", "search"): ("query",),
    ("x", "mentions"): ("user_id",),
    ("mastodon", "notifications"): (),
    ("mastodon", "search"): ("query",),
    ("bluesky", "search"): ("query",),
    ("reddit", "search"): ("query",),
    ("reddit", "subreddit"): ("subreddit",),
    ("reddit", "comments"): ("subreddit",),
    ("rss", "feed"): ("feed_url",),
    ("youtube", "video"): ("video_id",),
    ("youtube", "channel"): ("channel_id",),
    ("gbp", "reviews"): ("location",),
    ("trustpilot", "reviews"): ("business_unit_id",),
}

_DEFAULT_MODE: dict[str, str] = {
    "x": "search",
    "mastodon": "notifications",
    "bluesky": "search",
    "reddit": "search",
    "rss": "feed",
    "youtube": "video",
    "gbp": "reviews",
    "trustpilot": "reviews",
}


# Platforms polled without credentials; every other source names a secret.
PUBLIC_PLATFORMS = frozenset({"rss"})


class SourceConfig(BaseModel):
    """One thing to poll. `id` names its cursor item (SOURCE#{id}); sources never share a cursor."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    platform: Platform
    mode: str | None = None
    query: str | None = Field(default=None, max_length=512)
    user_id: str | None = None
    handle: str | None = None
    subreddit: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{2,21}$")
    feed_url: str | None = None
    video_id: str | None = None
    channel_id: str | None = None
    location: str | None = Field(default=None, pattern=r"^accounts/[^/]+/locations/[^/]+$")
    business_unit_id: str | None = None
    base_url: str | None = None
    auth_url: str | None = None
    # "secretsmanager:<name>" or "ssm:<parameter name>"; None only for public feeds.
    secret: str | None = Field(default=None, pattern=r"^(secretsmanager|ssm):.+$")
    enabled: bool = True
    region: str | None = None
    page_size: int | None = Field(default=None, ge=1, le=100)
    # First poll of a new source looks back this far instead of replaying the platform's whole history.
    backfill_s: int = Field(default=3600, ge=0)
    # Timestamp watermarks re-read this much before the mark: late-indexed posts are not skipped.
    overlap_s: int = Field(default=0, ge=0)
    # How often the scheduler polls it (the template's schedule for this source).
    every_s: int = Field(default=60, ge=10)
    user_agent: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> SourceConfig:
        mode = self.resolved_mode
        needed = _REQUIRED.get((self.platform, mode))
        if needed is None:
            modes = sorted(m for p, m in _REQUIRED if p == self.platform)
            raise ValueError(f"source {self.id}: platform {self.platform} has no mode {mode!r}; use one of {modes}")
        missing = [f for f in needed if not getattr(self, f)]
        if missing:
            raise ValueError(f"source {self.id}: {self.platform}/{mode} needs {', '.join(missing)}")
        return self

    @property
    def resolved_mode(self) -> str:
        return self.mode or _DEFAULT_MODE[self.platform]

    @property
    def api_base(self) -> str:
        base = self.base_url or DEFAULT_BASE_URLS.get(self.platform, "")
        return base.rstrip("/")

    @property
    def auth_base(self) -> str:
        return (self.auth_url or self.base_url or DEFAULT_AUTH_URLS.get(self.platform, "")).rstrip("/")
