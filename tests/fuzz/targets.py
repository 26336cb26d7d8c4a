"""Fuzz targets: one hostile input in, one accounted-for outcome out, never an unhandled exception.

Each target returns "ok" (a valid Mention / config), "rejected" (a validation error the caller turns
into a 4xx or a config error) or "dead" (a dead-letter entry with a reason). COUNTS tallies every
input, so the suite can report how many it threw at the system.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from socialcare.config import ConfigError, parse_config
from socialcare.ingest import bluesky, mastodon, reddit, rss, x
from socialcare.ingest.base import normalise_items
from socialcare.models import Mention

COUNTS: Counter[str] = Counter()

PERMALINK_HOSTS = {
    "x": {"x.com"},
    "bluesky": {"bsky.app"},
    "reddit": {"www.reddit.com"},
}


def _check_mention(m: Mention) -> None:
    """Invariants of anything that reaches the router, whatever came in."""
    assert len(m.text) <= 40_000
    assert m.key.startswith(f"{m.platform}#")
    if m.permalink is not None:
        parts = urlsplit(m.permalink)
        # A link shown to agents is always web, never javascript:/data:, never a userinfo trick.
        assert parts.scheme in {"http", "https"}, m.permalink
        assert "@" not in parts.netloc, m.permalink
        if m.platform in PERMALINK_HOSTS:
            assert parts.hostname in PERMALINK_HOSTS[m.platform], m.permalink


def _normalise(name: str, item: Any, build: Any) -> str:
    COUNTS[name] += 1
    mentions, dead = normalise_items([item], build)
    assert len(mentions) + len(dead) <= 1
    for m in mentions:
        _check_mention(m)
    for d in dead:
        assert d.reason and d.raw is item
    return "dead" if dead else ("ok" if mentions else "skipped")


def x_post(item: Any, users: dict[str, Any] | None = None) -> str:
    return _normalise("x", item, lambda p: x.mention_from_post(p, users or {}, source="fuzz"))


def mastodon_status(item: Any) -> str:
    return _normalise("mastodon", item, lambda s: mastodon.mention_from_status(s, source="fuzz"))


def bluesky_post(item: Any) -> str:
    return _normalise("bluesky", item, lambda p: bluesky.mention_from_post(p, {}, source="fuzz"))


def reddit_thing(item: Any) -> str:
    return _normalise("reddit", item, lambda t: reddit.mention_from_thing(t, source="fuzz"))


def feed_document(body: bytes) -> str:
    """The RSS/Atom path as FeedConnector runs it: feedparser, then one Mention per entry."""
    import feedparser

    COUNTS["rss"] += 1
    parsed = feedparser.parse(body)
    mentions, dead = normalise_items(
        list(parsed.entries), lambda e: rss.mention_from_entry(e, parsed.feed, "https://feed.example/rss")
    )
    for m in mentions:
        _check_mention(m)
    return "dead" if dead else "ok"


def config_text(text: str) -> str:
    COUNTS["config"] += 1
    try:
        parse_config(text, source="<fuzz>")
    except ConfigError as exc:
        assert str(exc)
        return "rejected"
    return "ok"


class FakeSqs:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        # SQS itself refuses bodies over 256 KiB; the DLQ entry must still carry id and reason.
        assert kwargs["MessageAttributes"]["reason"]["StringValue"]
        assert kwargs["MessageAttributes"]["source_message_id"]["StringValue"]
        self.sent.append(kwargs)
        return {"MessageId": str(len(self.sent))}


def queue_body(body: str, intake: Any, deps: Any, routed: list[Mention]) -> str:
    """The mentions-queue consumer: a body is either a valid Mention (routed) or dead-lettered."""
    COUNTS["intake"] += 1
    before = len(deps.sqs.sent)
    result = intake.handle_record("fuzz-msg", body, deps, "https://sqs.local/dlq")
    if len(deps.sqs.sent) == before + 1:
        assert result is None
        return "dead"
    assert routed and result is not None
    _check_mention(routed[-1])
    return "ok"


def json_loads_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None
