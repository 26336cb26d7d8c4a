"""Every polled platform against its loopback server: pagination, incremental cursor, 429 with reset,
5xx, bad JSON, malformed items, and duplicates across pages and cycles."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from socialcare.ingest.state import MemoryCursorStore
from socialcare.local.platform_server import PlatformServer, sample_posts
from socialcare.sources import SourceConfig

from tests.unit.ingest.helpers import TOKEN, FakeClock, Harness

BASE_ID = 1_900_000_000_000_000_000
NEW_ID = BASE_ID + 10_000


@dataclass(frozen=True)
class Case:
    platform: str
    fields: dict[str, Any]
    secret: str | None
    fault_prefix: str
    page_size: int | None  # None: not paginated (a feed is one document)
    initial_cursor: dict[str, Any] | None = None

    def source(self, server: PlatformServer) -> SourceConfig:
        fields = {k: (v.format(base=server.base_url) if isinstance(v, str) else v) for k, v in self.fields.items()}
        return SourceConfig(
            id=f"{self.platform}-loop",
            platform=self.platform,
            base_url=server.base_url,
            secret=None if self.secret is None else "secretsmanager:test",
            backfill_s=86_400,
            **fields,
        )

    def rate_limit_headers(self, reset: float) -> dict[str, str]:
        seconds = int(reset - time.time())
        return {
            "x": {
                "x-rate-limit-limit": "450",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(reset)),
            },
            "mastodon": {
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": datetime.fromtimestamp(int(reset), UTC).isoformat(),
            },
            "bluesky": {
                "RateLimit-Limit": "3000",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(int(reset)),
                "RateLimit-Policy": "3000;w=300",
            },
            "reddit": {
                "X-Ratelimit-Used": "100",
                "X-Ratelimit-Remaining": "0.0",
                "X-Ratelimit-Reset": str(seconds),
            },
            "rss": {"Retry-After": str(seconds)},
        }[self.platform]


CASES = [
    Case("x", {"query": "@SkylarkAir"}, TOKEN, "/2/", 100),
    Case("mastodon", {"mode": "notifications"}, TOKEN, "/api/v1/notifications", 80, {"mark": "0"}),
    Case(
        "bluesky",
        {"query": "skylark air"},
        json.dumps({"identifier": "care.bsky.social", "app_password": TOKEN}),
        "/xrpc/app.bsky.feed",
        100,
    ),
    Case(
        "reddit",
        {"query": "skylark air"},
        json.dumps({"client_id": "cid", "client_secret": TOKEN}),
        "/search",
        100,
    ),
    Case("rss", {"feed_url": "{base}/feed.xml"}, None, "/feed.xml", None),
]
IDS = [c.platform for c in CASES]


def old_posts(count: int) -> list[dict[str, Any]]:
    return sample_posts(count, start=datetime.now(UTC) - timedelta(hours=2))


def new_posts(count: int) -> list[dict[str, Any]]:
    return sample_posts(count, start_id=NEW_ID, start=datetime.now(UTC) - timedelta(minutes=10))


def harness(case: Case, server: PlatformServer) -> Harness:
    h = Harness(case.source(server), secret=case.secret)
    if case.initial_cursor:
        h.store.save_cursor(h.store.load(h.source.id), case.initial_cursor)
    return h


@pytest.fixture(params=CASES, ids=IDS)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


def test_pagination_queues_every_post_once(case: Case) -> None:
    # Given more posts than fit on one page (a feed shows its newest window)
    count = 230 if case.page_size else PlatformServer.FEED_WINDOW
    with PlatformServer(old_posts(count), token=TOKEN) as server:
        h = harness(case, server)
        # When one poll runs
        result = h.poll()
    # Then every post is queued exactly once, in as few requests as the page size allows
    assert result.queued == count and len(set(h.ids)) == count and result.errors == 0
    if case.page_size:
        assert result.pages >= -(-count // case.page_size)


WINDOWED = [c for c in CASES if c.platform in ("x", "bluesky", "reddit")]


@pytest.mark.parametrize("case", WINDOWED, ids=[c.platform for c in WINDOWED])
def test_the_backfill_window_is_counted_back_from_the_injected_wall_clock(case: Case) -> None:
    # Given 20 posts written one per minute from 12:00 on a day years from now, and a wall clock at 14:00
    written = datetime(2041, 3, 1, 12, tzinfo=UTC)
    clock = FakeClock((written + timedelta(hours=2)).timestamp())
    with PlatformServer(sample_posts(20, start=written, step_s=60), token=TOKEN) as server:
        # When sources that look back 1h50m and 3h make their first poll
        def first_poll(backfill_s: int) -> int:
            source = case.source(server).model_copy(update={"id": f"w{backfill_s}", "backfill_s": backfill_s})
            return Harness(source, secret=case.secret, clock=clock).poll().queued

        # Then the window starts from that clock, not from the machine's: the posts after 12:10, then all
        assert (first_poll(110 * 60), first_poll(3 * 3600)) == (10, 20)


def test_incremental_cursor_across_cycles(case: Case) -> None:
    # Given a first poll has taken everything
    with PlatformServer(old_posts(120), token=TOKEN) as server:
        h = harness(case, server)
        h.poll()
        cursor_after_first = h.cursor
        # When new posts arrive and the next cycles poll
        server.add_posts(new_posts(7))
        second = h.poll()
        third = h.poll()
    # Then the second cycle queues exactly the new posts and the third nothing; the cursor moved
    assert second.queued == 7 and all(m.created_at > datetime.now(UTC) - timedelta(minutes=11) for m in second.new)
    assert third.queued == 0
    assert h.cursor != cursor_after_first
    assert len(h.ids) == len(set(h.ids)) == (PlatformServer.FEED_WINDOW if case.platform == "rss" else 120) + 7


def test_429_with_reset_sleeps_the_source_and_makes_no_request_until_then(case: Case) -> None:
    # Given the platform answers 429 with its own flavour of reset header, two minutes ahead
    with PlatformServer(old_posts(30), token=TOKEN) as server:
        h = harness(case, server)
        reset = time.time() + 120
        server.fail_next(
            429,
            {"error": "rate limited"},
            headers=case.rate_limit_headers(reset),
            path_prefix=case.fault_prefix,
        )
        first = h.poll()
        requests_after_first = server.requests
        # When the next scheduled poll comes before the reset
        second = h.poll()
        # Then the source sleeps until the reset: no request, counted as rate limited, nothing lost
        assert first.rate_limited == 1 and first.queued == 0
        assert first.rate_limited_until == pytest.approx(reset, abs=2)
        assert second.rate_limited == 1 and second.requests == 0 and server.requests == requests_after_first
        # And once the reset has passed, everything comes through
        h.store.mark_rate_limited(h.source.id, time.time() - 1)
        third = h.poll()
    assert third.queued == 30


def test_other_sources_carry_on_while_one_is_rate_limited() -> None:
    # Given two sources on the same platform with separate cursors, one of them limited
    with PlatformServer(old_posts(20), token=TOKEN) as server:
        store = MemoryCursorStore()
        limited = Harness(CASES[0].source(server), store=store)
        other = Harness(CASES[0].source(server).model_copy(update={"id": "x-other"}), store=store)
        store.mark_rate_limited(limited.source.id, time.time() + 600)
        # When both are polled
        a, b = limited.poll(), other.poll()
    # Then only the limited one waits
    assert a.rate_limited == 1 and a.requests == 0
    assert b.queued == 20 and store.load("x-other").cursor["mark"]


def test_5xx_is_retried_within_the_budget(case: Case, no_backoff: None) -> None:
    # Given the platform fails twice with 5xx and then recovers
    with PlatformServer(old_posts(15), token=TOKEN) as server:
        h = harness(case, server)
        server.fail_next(503, "<html>upstream overloaded</html>", times=1, path_prefix=case.fault_prefix)
        server.fail_next(500, {"error": "internal"}, times=1, path_prefix=case.fault_prefix)
        # When it polls
        result = h.poll()
    # Then it retried and got every post
    assert result.queued == 15 and result.errors == 0


def test_bad_json_is_dead_lettered_and_the_cursor_stays(case: Case) -> None:
    # Given the platform returns a truncated body
    body = "<html><body>Service Unavailable" if case.platform == "rss" else '{"data": [{"id": "1", "te'
    with PlatformServer(old_posts(10), token=TOKEN) as server:
        h = harness(case, server)
        server.fail_next(200, body, path_prefix=case.fault_prefix)
        before = h.cursor
        # When it polls
        result = h.poll()
        # Then the raw body is dead-lettered, nothing is queued and the cursor did not move
        assert result.errors == 1 and result.queued == 0 and h.cursor == before
        assert h.dead.items and h.dead.items[0][1].raw == body
        # And the next poll picks everything up
        assert h.poll().queued == 10


# Feeds have no per-item JSON schema (feedparser reads what it can; see the recorded feed test).
JSON_CASES = [c for c in CASES if c.platform != "rss"]


@pytest.mark.parametrize("case", JSON_CASES, ids=[c.platform for c in JSON_CASES])
def test_a_malformed_item_is_dead_lettered_and_the_rest_of_the_page_queued(case: Case) -> None:
    # Given one post in the page that does not match the platform's schema
    posts = old_posts(12)
    broken = {
        "id": posts[5]["id"],
        "created_at": posts[5]["created_at"],
        "text": "x",
        "username": "u",
        "author_id": "1",
        "_raw": {"id": posts[5]["id"], "unexpected": True},
    }
    posts[5] = broken
    with PlatformServer(posts, token=TOKEN) as server:
        h = harness(case, server)
        result = h.poll()
    # Then the other posts are queued and the bad one is in the dead-letter sink verbatim
    assert result.queued == 11 and result.dead_lettered == 1
    assert h.dead.items[0][1].raw["unexpected"] is True


def test_a_crash_before_the_cursor_is_saved_replays_and_dedup_drops_the_repeats(case: Case) -> None:
    # Given a poll that queued everything but "crashed" before saving its cursor (the store is lost)
    with PlatformServer(old_posts(40), token=TOKEN) as server:
        h = harness(case, server)
        first = h.poll()
        h.store = MemoryCursorStore()
        if case.initial_cursor:
            h.store.save_cursor(h.store.load(h.source.id), case.initial_cursor)
        # When the next poll replays the same posts
        second = h.poll()
    # Then nothing is queued twice: every replayed post is a duplicate
    assert first.queued == 40 and second.queued == 0 and second.duplicates == 40
    assert len(h.ids) == len(set(h.ids)) == 40


def test_rss_conditional_get_costs_one_304_when_nothing_changed() -> None:
    # Given a feed that has been read once
    with PlatformServer(old_posts(5)) as server:
        h = harness(CASES[-1], server)
        h.poll()
        # When it is polled again without changes
        second = h.poll()
        etag_sent = h.cursor.get("etag")
    # Then the second request was conditional, answered 304, and queued nothing
    assert etag_sent and second.requests == 1 and second.queued == 0 and second.duplicates == 0


def test_rss_retry_after_http_date_is_honoured() -> None:
    # Given a feed answering 503 with Retry-After as an HTTP date
    with PlatformServer(old_posts(5)) as server:
        h = harness(CASES[-1], server)
        when = datetime.now(UTC) + timedelta(minutes=5)
        server.fail_next(503, "busy", headers={"Retry-After": format_datetime(when, usegmt=True)})
        result = h.poll()
    # Then the source sleeps until that date
    assert result.rate_limited == 1 and result.rate_limited_until == pytest.approx(when.timestamp(), abs=2)


def test_bluesky_renews_an_expired_session() -> None:
    # Given a Bluesky session that expires between polls
    case = CASES[2]
    with PlatformServer(old_posts(5), token=TOKEN) as server:
        h = harness(case, server)
        h.poll()
        server.expire_bluesky_sessions()
        server.add_posts(new_posts(2))
        # When it polls again
        result = h.poll()
    # Then it created a new session and carried on
    assert result.queued == 2 and server.sessions_created == 2


def test_reddit_wrong_client_secret_marks_the_source_unhealthy() -> None:
    # Given a Reddit app whose secret was revoked
    case = CASES[3]
    with PlatformServer(old_posts(5), token=TOKEN) as server:
        h = harness(case, server)
        h.source = h.source.model_copy(update={"auth_url": server.base_url + "/"})
        h.secret = json.dumps({"client_id": "cid-revoked", "client_secret": "revoked"})
        result = h.poll()
        again = h.poll()
    # Then the source is unhealthy and skipped
    assert result.errors == 1 and not h.store.load(h.source.id).healthy and again.skipped == "unhealthy"


@pytest.mark.parametrize("created", [1e12, 1e300, -1e15, "nan", "Infinity", "not-a-number"])
def test_reddit_timestamp_out_of_any_calendar_is_dead_lettered_not_raised(created: object) -> None:
    # Found by `make fuzz`: datetime.fromtimestamp(1e12) raises OSError (EOVERFLOW) on Linux.
    from socialcare.ingest import reddit
    from socialcare.ingest.base import normalise_items

    good = {"kind": "t3", "data": {"name": "t3_ok", "title": "bag lost", "author": "u1", "created_utc": 1.7e9}}
    bad = {"kind": "t3", "data": {"name": "t3_bad", "title": "bag lost", "author": "u2", "created_utc": created}}
    mentions, dead = normalise_items([bad, good], lambda t: reddit.mention_from_thing(t, source="t"))
    assert [m.id for m in mentions] == ["t3_ok"]
    assert len(dead) == 1 and "schema mismatch" in dead[0].reason and dead[0].raw == bad
