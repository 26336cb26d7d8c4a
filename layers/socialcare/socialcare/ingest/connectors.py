"""Which connector polls which platform: configuration picks the class, the secret picks the account.

Secret shapes (Secrets Manager / SSM values): X, Mastodon, YouTube, Trustpilot take the bare token or
key (or {"token": ...}); Bluesky {"identifier", "app_password"}; Reddit {"client_id", "client_secret",
"user_agent"?}; Google Business Profile {"access_token"} or {"client_id", "client_secret", "refresh_token"}.
"""

from __future__ import annotations

import json
from typing import Any

from socialcare.ingest.base import Connector
from socialcare.ingest.errors import ConfigurationError
from socialcare.ingest.http import Http
from socialcare.ingest.secrets import secret_fields
from socialcare.sources import SourceConfig


def _plain(secret: str | None, source: SourceConfig, *keys: str) -> str:
    """A bare token, or the first of `keys` in a JSON secret."""
    if not secret:
        raise ConfigurationError(f"source {source.id}: {source.platform} needs a secret")
    try:
        data = json.loads(secret)
    except ValueError:
        return secret
    if isinstance(data, dict):
        for key in keys:
            if data.get(key):
                return str(data[key])
        raise ConfigurationError(f"source {source.id}: secret has none of {', '.join(keys)}")
    return secret


def build_connector(source: SourceConfig, http: Http, secret: str | None) -> Connector:
    common: dict[str, Any] = {"source_id": source.id, "region": source.region}
    mode = source.resolved_mode
    match source.platform:
        case "x":
            from socialcare.ingest.x import XConnector

            return XConnector(
                http,
                bearer_token=_plain(secret, source, "bearer_token", "token"),
                query=source.query if mode == "search" else None,
                user_id=source.user_id if mode == "mentions" else None,
                base_url=source.api_base,
                page_size=source.page_size or 100,
                backfill_s=source.backfill_s,
                **common,
            )
        case "mastodon":
            from socialcare.ingest.mastodon import MastodonConnector

            return MastodonConnector(
                http,
                access_token=_plain(secret, source, "access_token", "token"),
                base_url=source.api_base,
                mode=mode,
                query=source.query,
                **common,
            )
        case "bluesky":
            from socialcare.ingest.bluesky import BlueskyConnector

            fields = secret_fields(secret or "", "identifier")
            password = fields.get("app_password") or fields.get("password")
            if not password:
                raise ConfigurationError(f"source {source.id}: Bluesky secret needs app_password")
            return BlueskyConnector(
                http,
                identifier=fields["identifier"],
                app_password=password,
                base_url=source.api_base,
                query=source.query or "",
                backfill_s=source.backfill_s,
                overlap_s=source.overlap_s,
                **common,
            )
        case "reddit":
            from socialcare.ingest.reddit import RedditConnector

            fields = secret_fields(secret or "", "client_id", "client_secret")
            return RedditConnector(
                http,
                client_id=fields["client_id"],
                client_secret=fields["client_secret"],
                base_url=source.api_base,
                auth_url=source.auth_base,
                mode=mode,
                query=source.query,
                subreddit=source.subreddit,
                user_agent=source.user_agent or fields.get("user_agent"),
                backfill_s=source.backfill_s,
                overlap_s=source.overlap_s,
                **common,
            )
        case "rss":
            from socialcare.ingest.rss import FeedConnector

            return FeedConnector(http, feed_url=source.feed_url or "", **common)
        case "youtube":
            from socialcare.ingest.youtube import YouTubeConnector

            return YouTubeConnector(
                http,
                api_key=_plain(secret, source, "api_key", "key"),
                base_url=source.api_base,
                video_id=source.video_id if mode == "video" else None,
                channel_id=source.channel_id if mode == "channel" else None,
                query=source.query,
                backfill_s=source.backfill_s,
                overlap_s=source.overlap_s,
                **common,
            )
        case "gbp":
            from socialcare.ingest.reviews import GoogleReviewsConnector

            return GoogleReviewsConnector(
                http,
                secret=secret or "",
                base_url=source.api_base,
                token_url=source.auth_url,
                location=source.location or "",
                backfill_s=source.backfill_s,
                **common,
            )
        case "trustpilot":
            from socialcare.ingest.reviews import TrustpilotConnector

            return TrustpilotConnector(
                http,
                api_key=_plain(secret, source, "api_key", "key"),
                base_url=source.api_base,
                business_unit_id=source.business_unit_id or "",
                backfill_s=source.backfill_s,
                **common,
            )
    raise ConfigurationError(f"source {source.id}: no connector for platform {source.platform!r}")
