"""Which connector polls which platform: configuration picks the class, the secret picks the account."""

from __future__ import annotations

from socialcare.ingest.base import Connector
from socialcare.ingest.errors import ConfigurationError
from socialcare.ingest.http import Http
from socialcare.ingest.sources import SourceConfig


def build_connector(source: SourceConfig, http: Http, secret: str | None) -> Connector:
    platform = source.platform
    if platform == "x":
        from socialcare.ingest.x import XConnector

        if not secret:
            raise ConfigurationError(f"source {source.id}: X needs a bearer token secret")
        mode = source.resolved_mode
        return XConnector(
            http,
            bearer_token=secret,
            query=source.query if mode == "search" else None,
            user_id=source.user_id if mode == "mentions" else None,
            base_url=source.api_base,
            page_size=source.page_size or 100,
            backfill_s=source.backfill_s,
            source_id=source.id,
            region=source.region,
        )
    raise ConfigurationError(f"source {source.id}: no connector for platform {platform!r}")
