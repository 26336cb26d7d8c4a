"""RSS entries read for what they carry, not through feedparser's deprecated date fallbacks."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import feedparser
from socialcare.ingest.rss import mention_from_entry

FEED = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Route notes</title><link>https://blog.example/</link>
<item><title>Gate change chaos at terminal 2</title><pubDate>Tue, 03 Mar 2026 09:30:00 GMT</pubDate></item>
<item><title>Second post, no date we can read</title><link>https://blog.example/2</link>
<pubDate>sometime last week</pubDate></item>
</channel></rss>"""


def _entries() -> tuple[list, dict]:
    parsed = feedparser.parse(FEED)
    return parsed.entries, parsed.feed


def test_an_entry_with_only_a_publication_date_keeps_it_and_its_id_without_a_deprecated_fallback() -> None:
    # Given an item with no guid or link, only a title and a pubDate
    entries, feed = _entries()
    # When it is read, with feedparser's deprecation warnings raised as errors
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        first = mention_from_entry(entries[0], feed, "https://blog.example/feed.xml")
        again = mention_from_entry(entries[0], feed, "https://blog.example/feed.xml")
    # Then its date is the pubDate and its id is stable, derived from the title and that date
    assert first.created_at == datetime(2026, 3, 3, 9, 30, tzinfo=UTC)
    assert first.id == again.id and first.id.startswith("sha256:")


def test_an_unreadable_date_falls_back_to_now_without_a_deprecated_fallback() -> None:
    # Given an item whose pubDate feedparser cannot parse
    entries, feed = _entries()
    before = datetime.now(UTC)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        mention = mention_from_entry(entries[1], feed, "https://blog.example/feed.xml")
    # Then the mention is kept, dated when it was read
    assert mention.created_at >= before.replace(microsecond=0)
