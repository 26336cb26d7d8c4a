"""X API v2 connector: recorded responses (checked against the official OpenAPI) and a loopback server."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import responses
from responses import matchers
from socialcare.ingest.x import XConnector
from socialcare.local.platform_server import PlatformServer, sample_posts
from socialcare.sources import SourceConfig

from tests.unit.ingest.helpers import FIXTURES, ROTATED_TOKEN, TOKEN, Harness, fixture_json

# The schemas of the official description these tests need, vendored (source in tests/data/specs/README.md).
SPEC = Path(__file__).resolve().parents[2] / "data" / "specs" / "x-api-v2-openapi-subset.json"
BASE = "https://api.x.test"
SEARCH = f"{BASE}/2/tweets/search/recent"
PAGE2_TOKEN = "b26v89c19zqg8o3fpzhmbo5ek7ekq1ftr0ka7mk5qdm2l"  # noqa: S105  (a pagination token)


@functools.cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text(encoding="utf-8"))


def validate(schema_name: str, instance: Any) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": spec()["components"]}
    jsonschema.Draft7Validator(schema).validate(instance)


def problem_core() -> dict[str, Any]:
    """The RFC 7807 fields every Problem variant in the spec requires (about:blank 401/429 bodies)."""
    schemas = spec()["components"]["schemas"]
    variants = [schemas[v["$ref"].rsplit("/", 1)[1]] for v in schemas["Problem"]["oneOf"]]
    required = set.intersection(*(set(v["required"]) for v in variants)) - {"resource_type"}
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {k: {"type": "string"} for k in required},
    }


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "x").glob("*.json")))
def test_fixture_matches_the_official_openapi_schema(name: str) -> None:
    # Given a recorded X response
    body = fixture_json(f"x/{name}")
    # Then it has the shape the official OpenAPI description gives it
    if name.startswith("search"):
        validate("SearchPostsRecentResponse", body)
    elif name.startswith("mentions"):
        validate("GetUsersMentionsResponse", body)
    elif name.startswith("legacy"):
        for error in body["errors"]:
            validate("Error", error)
    else:
        jsonschema.Draft7Validator(problem_core()).validate(body)
        if body["type"] != "about:blank":
            assert body["type"].startswith("https://api.x.com/2/problems/")


def test_loopback_server_speaks_the_official_schema() -> None:
    # Given the loopback X server with long posts and replies
    posts = sample_posts(15)
    posts[3]["text"] = "x" * 400
    posts[4]["in_reply_to_id"] = posts[2]["id"]
    with PlatformServer(posts) as server:
        # When it is asked for the first page and the next one
        first = requests.get(
            f"{server.base_url}/2/tweets/search/recent", params={"query": "q", "max_results": 10}, timeout=5
        )
        token = first.json()["meta"]["next_token"]
        second = requests.get(
            f"{server.base_url}/2/users/1/mentions",
            params={"max_results": 10, "pagination_token": token},
            timeout=5,
        )
    # Then both pages validate against the official response schemas
    validate("SearchPostsRecentResponse", first.json())
    validate("GetUsersMentionsResponse", second.json())
    assert first.json()["meta"]["result_count"] == 10 and second.json()["meta"]["result_count"] == 5


def x_source(**overrides: Any) -> SourceConfig:
    values: dict[str, Any] = {
        "id": "x-test",
        "platform": "x",
        "query": "@SkylarkAir",
        "base_url": BASE,
        "secret": "ssm:/x/bearer",
        "backfill_s": 0,
    }
    values.update(overrides)
    return SourceConfig(**values)


def rl_headers(remaining: int, reset: float, limit: int = 450) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(int(reset)),
    }


@responses.activate
def test_pages_with_next_token_and_keeps_since_id_fixed(clock) -> None:
    # Given a stored since_id and a search whose results span two pages
    h = Harness(x_source(), clock=clock)
    h.store.save_cursor(h.store.load("x-test"), {"mark": "1991234567890123000", "token": None, "pending": None})
    responses.get(
        SEARCH,
        json=fixture_json("x/search_page1.json"),
        headers=rl_headers(449, clock.now + 900),
        match=[matchers.query_param_matcher({"since_id": "1991234567890123000"}, strict_match=False)],
    )
    responses.get(
        SEARCH,
        json=fixture_json("x/search_page2.json"),
        headers=rl_headers(448, clock.now + 900),
        match=[
            matchers.query_param_matcher(
                {
                    "since_id": "1991234567890123000",
                    "next_token": "b26v89c19zqg8o3fpzhmbo5ek7ekq1ftr0ka7mk5qdm2l",
                },
                strict_match=False,
            )
        ],
    )
    # When it polls
    result = h.poll()
    # Then every post is queued once (page 2 repeats one from page 1), with the bearer token sent
    assert h.ids == [
        "1991234567890123460",
        "1991234567890123459",
        "1991234567890123458",
        "1991234567890123450",
    ]
    assert (result.queued, result.duplicates, result.errors) == (4, 1, 0)
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    # And the new since_id is the first page's newest_id
    assert h.cursor == {"mark": "1991234567890123460", "token": None, "pending": None}


@responses.activate
def test_normalises_authors_long_text_and_threading(clock) -> None:
    # Given a page with a reply and a long post
    h = Harness(x_source(), clock=clock)
    responses.get(SEARCH, json=fixture_json("x/search_page2.json") | {"meta": {"result_count": 0}})
    responses.replace(
        responses.GET,
        SEARCH,
        json={
            **fixture_json("x/search_page1.json"),
            "meta": {"result_count": 3, "newest_id": "1991234567890123460"},
        },
    )
    # When it polls
    h.poll()
    # Then the mentions carry author reach, long-form text, permalink and reply ids
    by_id = {m.id: m for m in h.sink.mentions}
    reply = by_id["1991234567890123459"]
    assert reply.in_reply_to_id == "1991234567890123400" and reply.conversation_id == "1991234567890123400"
    assert reply.author.handle == "miguel_fl" and reply.author.followers == 58
    assert reply.permalink == "https://x.com/miguel_fl/status/1991234567890123459"
    assert by_id["1991234567890123458"].text.endswith("I would like the bag back before Friday.")
    assert by_id["1991234567890123460"].created_at.isoformat() == "2026-11-22T10:58:12+00:00"
    assert all(m.source == "x-test" and m.lang == "en" for m in h.sink.mentions)


@responses.activate
def test_second_cycle_asks_since_the_newest_id_and_counts_repeats_as_duplicates(clock) -> None:
    # Given a first poll that queued page 1 (single page)
    h = Harness(x_source(), clock=clock)
    page = {**fixture_json("x/search_page1.json")}
    page["meta"] = {k: v for k, v in page["meta"].items() if k != "next_token"}
    responses.get(SEARCH, json=page)
    h.poll()
    # When the next cycle polls and the platform returns the old posts again alongside a newer one
    newer = fixture_json("x/search_newer.json")
    newer["data"] += page["data"][:1]
    newer["includes"]["users"] += page["includes"]["users"][:1]
    responses.replace(
        responses.GET,
        SEARCH,
        json=newer,
        match=[matchers.query_param_matcher({"since_id": "1991234567890123460"}, strict_match=False)],
    )
    second = h.poll()
    # Then only the new post is queued and the repeat is a duplicate
    assert (second.queued, second.duplicates) == (1, 1)
    assert h.ids[-1] == "1991234567890123470" and len(h.ids) == 4
    assert h.cursor["mark"] == "1991234567890123470"


@responses.activate
def test_429_sleeps_the_source_until_reset_without_another_request(clock) -> None:
    # Given the API answers 429 with an x-rate-limit-reset 300 s ahead
    h = Harness(x_source(), clock=clock)
    reset = clock.now + 300
    responses.get(
        SEARCH,
        status=429,
        json=fixture_json("x/problem_429.json"),
        headers=rl_headers(0, reset),
        content_type="application/problem+json",
    )
    # When it polls, then polls again before the reset
    first = h.poll()
    second = h.poll()
    # Then the source is asleep until the reset, and the second poll made no request
    assert first.rate_limited == 1 and first.rate_limited_until == reset
    assert h.store.load("x-test").rate_limited_until == reset
    assert second.rate_limited == 1 and second.requests == 0 and len(responses.calls) == 1
    # And after the reset it polls again and the cursor moves
    clock.now = reset + 1
    responses.replace(responses.GET, SEARCH, json=fixture_json("x/search_newer.json"))
    third = h.poll()
    assert third.queued == 1 and h.cursor["mark"] == "1991234567890123470"


@responses.activate
def test_legacy_429_body_and_usage_cap_also_stop_the_source(clock) -> None:
    # Given a legacy code-88 429 without reset headers, then a usage-capped problem
    h = Harness(x_source(), clock=clock)
    responses.get(SEARCH, status=429, json=fixture_json("x/legacy_429.json"))
    first = h.poll()
    # Then the source waits a fallback interval rather than hammering the API
    assert first.rate_limited == 1 and first.rate_limited_until > clock.now
    clock.now = first.rate_limited_until + 1
    responses.replace(
        responses.GET,
        SEARCH,
        status=429,
        json=fixture_json("x/problem_usage_capped.json"),
        headers=rl_headers(0, clock.now + 3600),
    )
    second = h.poll()
    assert second.rate_limited == 1 and second.rate_limited_until == int(clock.now + 3600)
    assert h.sink.mentions == []


@responses.activate
def test_exhausted_window_stops_before_the_next_page_and_resumes_from_it(clock) -> None:
    # Given page 1 uses the last request of the window
    h = Harness(x_source(), clock=clock)
    reset = clock.now + 120
    responses.get(SEARCH, json=fixture_json("x/search_page1.json"), headers=rl_headers(0, reset))
    # When it polls
    first = h.poll()
    # Then page 1 is queued, no second request is made, and the cursor remembers where to resume
    assert first.queued == 3 and len(responses.calls) == 1
    assert h.cursor == {
        "mark": None,
        "token": "b26v89c19zqg8o3fpzhmbo5ek7ekq1ftr0ka7mk5qdm2l",
        "pending": "1991234567890123460",
    }
    assert h.store.load("x-test").rate_limited_until == reset
    # When the window resets, the next poll fetches page 2 with the stored token
    clock.now = reset
    responses.replace(
        responses.GET,
        SEARCH,
        json=fixture_json("x/search_page2.json"),
        headers=rl_headers(449, reset + 900),
        match=[
            matchers.query_param_matcher(
                {"next_token": "b26v89c19zqg8o3fpzhmbo5ek7ekq1ftr0ka7mk5qdm2l"}, strict_match=False
            )
        ],
    )
    second = h.poll()
    assert (second.queued, second.duplicates) == (1, 1)
    assert h.cursor == {"mark": "1991234567890123460", "token": None, "pending": None}


@responses.activate
def test_5xx_is_retried_with_backoff(clock, no_backoff) -> None:
    # Given one 503 without Retry-After and one 502, then a good page
    h = Harness(x_source(), clock=clock)
    responses.get(SEARCH, status=503, body="upstream connect error")
    responses.get(SEARCH, status=502, body="<html>bad gateway</html>")
    responses.get(SEARCH, json=fixture_json("x/search_newer.json"))
    # When it polls
    result = h.poll()
    # Then it retried and got there
    assert result.queued == 1 and result.errors == 0 and len(responses.calls) == 3


@responses.activate
def test_persistent_5xx_gives_up_without_moving_the_cursor(clock, no_backoff) -> None:
    # Given a stored cursor and an API that keeps failing
    h = Harness(x_source(), clock=clock)
    h.store.save_cursor(h.store.load("x-test"), {"mark": "100", "token": None, "pending": None})
    responses.get(SEARCH, status=500, json={"title": "Internal Error"})
    # When it polls
    result = h.poll()
    # Then it stops with an error, after the bounded number of attempts, and the cursor is unchanged
    assert result.errors == 1 and result.queued == 0 and len(responses.calls) == 4
    assert h.cursor["mark"] == "100"


@responses.activate
def test_timeouts_retry_then_give_up_within_the_budget(clock, no_backoff) -> None:
    # Given an API that times out
    h = Harness(x_source(), clock=clock)
    responses.get(SEARCH, body=requests.ConnectTimeout("connect timed out"))
    # When it polls
    result = h.poll()
    # Then it reports an error and nothing moved
    assert result.errors == 1 and result.requests == 4 and h.cursor == {}


@responses.activate
def test_401_marks_the_source_unhealthy_and_skips_it_until_the_secret_changes(clock) -> None:
    # Given the bearer token has been revoked
    h = Harness(x_source(), clock=clock)
    responses.get(SEARCH, status=401, json=fixture_json("x/problem_401.json"))
    first = h.poll()
    second = h.poll()
    # Then the source is unhealthy, reported as an error, and skipped without a request
    state = h.store.load("x-test")
    assert not state.healthy and "401" in (state.unhealthy_reason or "")
    assert first.errors == 1 and second.skipped == "unhealthy" and len(responses.calls) == 1
    assert TOKEN not in (state.unhealthy_reason or "") and state.failed_secret != TOKEN
    # When the secret is rotated, the source is tried again and becomes healthy
    h.secret = ROTATED_TOKEN
    responses.replace(responses.GET, SEARCH, json=fixture_json("x/search_newer.json"))
    third = h.poll()
    assert third.queued == 1 and h.store.load("x-test").healthy


@responses.activate
def test_malformed_json_is_dead_lettered_with_its_raw_body(clock) -> None:
    # Given a page that is not JSON
    h = Harness(x_source(), clock=clock)
    raw = '{"data": [{"id": "1", "text": "trunc'
    responses.get(SEARCH, body=raw, content_type="application/json")
    # When it polls
    result = h.poll()
    # Then the raw body is in the dead-letter sink and the cursor did not move
    assert result.errors == 1 and h.dead.items[0][1].raw == raw and h.cursor == {}


@responses.activate
def test_a_schema_mismatched_item_is_dead_lettered_and_the_rest_of_the_page_queued(clock) -> None:
    # Given a page where one post lacks its author (with a partial errors[] entry)
    h = Harness(x_source(), clock=clock)
    responses.get(SEARCH, json=fixture_json("x/search_partial.json"))
    # When it polls
    result = h.poll()
    # Then the good post is queued, the bad one dead-lettered verbatim, and the cursor advanced
    assert h.ids == ["1991234567890123480"]
    assert result.dead_lettered == 1 and h.dead.items[0][1].raw["id"] == "1991234567890123479"
    assert "schema mismatch" in h.dead.items[0][1].reason
    assert h.cursor["mark"] == "1991234567890123480"


@responses.activate
def test_a_queue_failure_on_page_two_keeps_page_one_and_replays_page_two(clock) -> None:
    # Given a sink that fails on the second page
    h = Harness(x_source(), clock=clock)
    responses.get(SEARCH, json=fixture_json("x/search_page1.json"))
    responses.get(SEARCH, json=fixture_json("x/search_page2.json"))
    real_send = h.sink.send
    calls = {"n": 0}

    def flaky(mentions):
        calls["n"] += 1
        if calls["n"] == 2:
            from socialcare.ingest.errors import QueueError

            raise QueueError("SQS unavailable")
        real_send(mentions)

    h.sink.send = flaky  # type: ignore[method-assign]
    first = h.poll()
    # Then page 1 is queued and the cursor points at page 2, not past it
    assert first.queued == 3 and first.errors == 1
    assert h.cursor["token"] == PAGE2_TOKEN
    # When the next poll runs, page 2 is fetched again and its new post queued
    responses.replace(responses.GET, SEARCH, json=fixture_json("x/search_page2.json"))
    second = h.poll()
    assert second.queued == 1 and h.ids.count("1991234567890123450") == 1
    assert h.cursor["mark"] == "1991234567890123460"


@responses.activate
def test_mentions_timeline_pages_with_pagination_token(clock) -> None:
    # Given the mentions timeline of the help handle over two pages
    h = Harness(x_source(mode="mentions", query=None, user_id="1460000000000000001"), clock=clock)
    url = f"{BASE}/2/users/1460000000000000001/mentions"
    responses.get(url, json=fixture_json("x/mentions_page1.json"))
    responses.get(
        url,
        json=fixture_json("x/mentions_page2.json"),
        match=[
            matchers.query_param_matcher(
                {"pagination_token": "7140dibdnow9c7btw481s8m561gat797rboud5r80xvzm"}, strict_match=False
            )
        ],
    )
    # When it polls
    result = h.poll()
    # Then both pages are queued and since_id is the newest post
    assert result.queued == 2 and h.cursor["mark"] == "1991234567890123490"


def test_loopback_burst_across_cycles_has_no_gaps_and_no_repeats() -> None:
    # Given a loopback X server with 250 posts and new ones arriving between cycles
    with PlatformServer(sample_posts(250), token=TOKEN) as server:
        h = Harness(x_source(base_url=server.base_url), secret=TOKEN)
        first = h.poll()
        server.add_posts(sample_posts(30, start_id=1_900_000_000_000_010_000))
        second = h.poll()
        third = h.poll()
    # Then every post was queued exactly once, with the minimum number of requests
    assert (first.queued, second.queued, third.queued) == (250, 30, 0)
    assert len(h.ids) == len(set(h.ids)) == 280
    assert (first.requests, second.requests, third.requests) == (3, 1, 1)


def test_x_connector_is_usable_directly_with_a_base_url_and_token() -> None:
    # Given the loopback server and a connector built by hand
    with PlatformServer(sample_posts(12), token=TOKEN) as server:
        connector = XConnector(
            bearer_token=TOKEN, query="@SkylarkAir", base_url=server.base_url, page_size=10, backfill_s=0
        )
        pages = list(connector.pages({}))
    # Then it yields both pages and a final cursor at the newest id
    assert [len(p.mentions) for p in pages] == [10, 2]
    assert pages[-1].cursor["mark"] == str(1_900_000_000_000_000_000 + 11)


@responses.activate
def test_an_expired_next_token_restarts_the_run_from_the_stored_since_id(clock) -> None:
    # Given a run interrupted after page 1, whose stored next_token X no longer accepts
    h = Harness(x_source(), clock=clock)
    h.store.save_cursor(h.store.load("x-test"), {"mark": "100", "token": "expired", "pending": "1991234567890123460"})
    responses.get(
        SEARCH,
        status=400,
        json={"title": "Invalid Request", "detail": "bad token", "type": "about:blank"},
        match=[matchers.query_param_matcher({"next_token": "expired"}, strict_match=False)],
    )
    responses.get(
        SEARCH,
        json=fixture_json("x/search_newer.json"),
        match=[matchers.query_param_matcher({"since_id": "100"}, strict_match=False)],
    )
    # When it polls
    result = h.poll()
    # Then it started again from since_id, queued what it found, and the cursor is whole again
    assert result.queued == 1 and result.errors == 0
    assert h.cursor == {"mark": "1991234567890123470", "token": None, "pending": None}


@responses.activate
def test_a_rejected_query_marks_the_source_unhealthy_until_its_configuration_changes(clock) -> None:
    # Given X refuses the query itself
    h = Harness(x_source(query="((unbalanced"), clock=clock)
    responses.get(SEARCH, status=400, json={"title": "Invalid Request", "detail": "bad query", "type": "about:blank"})
    first, second = h.poll(), h.poll()
    assert first.errors == 1 and second.skipped == "unhealthy" and len(responses.calls) == 1
    # When the query is fixed in configuration, the source is polled again
    h.source = h.source.model_copy(update={"query": "@SkylarkAir"})
    responses.replace(responses.GET, SEARCH, json=fixture_json("x/search_newer.json"))
    assert h.poll().queued == 1
