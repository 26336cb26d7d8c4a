"""The X connector against a mock generated from the official X OpenAPI description, no network.

Every answer of the mock is a random response that is valid against `SearchPostsRecentResponse` of
the vendored description (tests/data/specs), drawn by schemathesis' data generator (the schema is
handed to it as a request body: it generates what the description allows, including what our own
fixtures never show: negative counts, long language tags, both field spellings, absent fields). The
mock is served to the connector's real HTTP layer (requests, through `responses`), and the real
poller drives it: cursor, dedup, dead letters, page limits.

The description requires nothing of a post. The mock asks for what X always sends (`id`, `text`) and
what the connector requests (`author_id`, `created_at`, the authors in `includes.users`), with ids
shaped as the description's own PostId/UserId, and at least one post a page; everything else is as
random as the description permits. Its authors are drawn from
the same response's `includes.users`, and its page token is absent, a fresh one or one it already
handed out (a paging loop), as a server may answer.

Asserted over every poll: no crash, every served post ingested (none lost over a display field),
reply links and long text read from either spelling, a repeated token ends the poll, requests per
poll bounded. The figures are printed (-s).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import responses
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from socialcare.ingest.poller import MAX_PAGES_PER_POLL
from socialcare.ingest.text import clip
from socialcare.sources import SourceConfig

from tests.unit.ingest.helpers import Harness, RecordingMetrics

SPEC = Path(__file__).resolve().parents[2] / "data" / "specs" / "x-api-v2-openapi-subset.json"
BASE = "https://api.x.test"
SEARCH = re.compile(re.escape(f"{BASE}/2/tweets/search/recent") + r"(\?.*)?$")
POLLS = 25
ID = {"type": "string", "pattern": "^[0-9]{1,19}$"}  # PostId / UserId in the description


@functools.cache
def search_responses() -> st.SearchStrategy[dict[str, Any]]:
    """Bodies valid against SearchPostsRecentResponse, from schemathesis' generator."""
    import schemathesis

    doc = json.loads(SPEC.read_text(encoding="utf-8"))
    components = copy.deepcopy(doc["components"])
    schemas = components["schemas"]
    post = schemas["Post"]
    post["required"] = ["id", "text", "author_id", "created_at"]
    for name in ("id", "author_id", "conversation_id"):
        post["properties"][name] = dict(ID)
    schemas["PostReferencedPosts"]["items"]["properties"]["id"] = dict(ID)
    schemas["User"]["required"] = sorted({*(schemas["User"].get("required") or []), "id"})
    schemas["User"]["properties"]["id"] = dict(ID)
    # A page of results, as X answers when there are any: meta always (a page without it is malformed),
    # the authors expanded (the connector asks for expansions=author_id), at least one post.
    response = schemas["SearchPostsRecentResponse"]
    response["required"] = ["data", "includes", "meta"]
    response["properties"]["data"]["minItems"] = 1
    schemas["Expansions"]["required"] = ["users"]
    mock = {
        "openapi": doc["openapi"],
        "info": {"title": "X search responses", "version": doc["info"]["version"]},
        "paths": {
            "/search-response": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/SearchPostsRecentResponse"}}
                        },
                    },
                    "responses": {"200": {"description": "unused"}},
                }
            }
        },
        "components": components,
    }
    operation = schemathesis.openapi.from_dict(mock)["/search-response"]["POST"]
    return operation.as_strategy().map(lambda case: case.body)


class XMock:
    """The search endpoint: each request answered with a freshly drawn spec-valid body."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data
        self.tokens: list[str] = []
        self.served: dict[str, dict[str, Any]] = {}  # post id -> the post as first served
        self.users: dict[str, dict[str, Any]] = {}
        self.responses = 0
        self.repeated_token = False

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = self.data.draw(search_responses())
        self.responses += 1
        users = [u for u in ((body.get("includes") or {}).get("users") or []) if isinstance(u, dict)]
        posts = body.get("data") or []
        for i, post in enumerate(posts):
            if users:
                post["author_id"] = users[i % len(users)]["id"]
            self.served.setdefault(post["id"], post)  # a repeated id is a duplicate: the first one counts
        for user in users:
            self.users[user["id"]] = user
        meta = body["meta"]
        choice = self.data.draw(
            st.sampled_from(["end", "fresh", "repeat", "fresh"] if self.tokens else ["end", "fresh"])
        )
        meta.pop("next_token", None)
        if choice == "fresh":
            meta["next_token"] = f"t{len(self.tokens)}-{self.data.draw(st.integers(0, 10**9))}"
            self.tokens.append(meta["next_token"])
        elif choice == "repeat":
            meta["next_token"] = self.data.draw(st.sampled_from(self.tokens))
            self.repeated_token = True
        return 200, {"content-type": "application/json"}, json.dumps(body)


FIGURES: Counter[str] = Counter()


def _x_source() -> SourceConfig:
    return SourceConfig(id="x-mock", platform="x", secret="ssm:/x", query="skylark", base_url=BASE)


def _reply_target(post: dict[str, Any]) -> str | None:
    for field in ("referenced_tweets", "referenced_posts"):
        refs = post.get(field)
        if refs is not None:
            return next((r["id"] for r in refs if r.get("type") == "replied_to" and r.get("id")), None)
    return None


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Any:
    yield
    if FIGURES:
        print(
            f"\nX OpenAPI mock: {FIGURES['polls']} polls, {FIGURES['responses']} responses generated, "
            f"{FIGURES['posts_served']} posts served, {FIGURES['posts_ingested']} ingested, "
            f"{FIGURES['dead_lettered']} dead-lettered, {FIGURES['loops']} paging loops stopped, "
            f"requests per poll max {FIGURES['max_requests']} (limit {MAX_PAGES_PER_POLL}), "
            f"display fields normalised: {FIGURES['negative_followers']} negative follower counts, "
            f"{FIGURES['long_lang']} language tags over 16 characters"
        )


# No shrinking: a failing poll is reported as drawn (shrinking these documents takes many minutes).
@settings(
    max_examples=POLLS,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(data=st.data())
def test_x_connector_against_the_openapi_mock(data: st.DataObject) -> None:
    # Given a mock of X search answering spec-valid random pages
    mock = XMock(data)
    metrics = RecordingMetrics()
    harness = Harness(_x_source())
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.GET, SEARCH, callback=mock)
        # When the source is polled once
        result = harness.poll(metrics=metrics)
        requests_made = len(rsps.calls)
    # Then nothing crashed and every post served was ingested: none lost over a display field
    assert harness.dead.items == [], harness.dead.items[:2]
    ingested = {m.id: m for m in harness.sink.mentions}
    assert set(ingested) == set(mock.served), set(mock.served) ^ set(ingested)
    assert result.errors == 0
    # And the fields are read from either spelling of the description
    for post_id, post in mock.served.items():
        mention = ingested[post_id]
        assert mention.in_reply_to_id == _reply_target(post), post
        note = post.get("note_tweet") if post.get("note_tweet") is not None else post.get("note_post")
        assert mention.text == clip((note or {}).get("text") or post["text"]), post_id
        assert mention.lang is None or len(mention.lang) <= 16
        assert mention.author.followers is None or mention.author.followers >= 0
    # And paging is bounded: a repeated token ends the poll, never more requests than the page limit
    assert requests_made <= MAX_PAGES_PER_POLL and requests_made == mock.responses
    assert metrics.counts["PagingLoopsStopped"] == (1 if mock.repeated_token else 0), (requests_made, mock.tokens)
    FIGURES.update(
        polls=1,
        responses=mock.responses,
        posts_served=len(mock.served),
        posts_ingested=len(ingested),
        dead_lettered=len(harness.dead.items),
        loops=metrics.counts["PagingLoopsStopped"],
        negative_followers=sum(
            1 for u in mock.users.values() if ((u.get("public_metrics") or {}).get("followers_count") or 0) < 0
        ),
        long_lang=sum(1 for p in mock.served.values() if len(p.get("lang") or "") > 16),
    )
    FIGURES["max_requests"] = max(FIGURES["max_requests"], requests_made)


# ------------------------------------------------------------------ what the mock found, pinned
def _page(posts: list[dict[str, Any]], users: list[dict[str, Any]], next_token: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"result_count": len(posts), "newest_id": posts[0]["id"], "oldest_id": posts[-1]["id"]}
    if next_token:
        meta["next_token"] = next_token
    return {"data": posts, "includes": {"users": users}, "meta": meta}


def _post(post_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": post_id,
        "text": f"post {post_id}",
        "author_id": "42",
        "created_at": "2026-01-01T10:00:00.000Z",
        **fields,
    }


USER = {"id": "42", "username": "dana", "name": "Dana"}


@responses.activate
def test_a_server_repeating_its_page_token_ends_the_poll_and_the_next_poll_starts_over() -> None:
    # Given a server that hands back the same next_token forever (8,324 requests in one poll before)
    responses.add(responses.GET, SEARCH, json=_page([_post("100"), _post("99")], [USER], "same-token"))
    harness, metrics = Harness(_x_source()), RecordingMetrics()
    # When the source is polled
    result = harness.poll(metrics=metrics)
    # Then it asks twice (the first page, the repeat), keeps the posts, counts the loop once, and the
    # cursor starts the next poll from the top again rather than from the looping token
    assert len(responses.calls) == 2
    assert sorted(m.id for m in harness.sink.mentions) == ["100", "99"] and result.errors == 0
    assert metrics.counts["PagingLoopsStopped"] == 1
    assert harness.cursor.get("token") is None
    # And the next poll is a normal one: same answer, the same bounded cost, the repeats are duplicates
    again = harness.poll(metrics=metrics)
    assert len(responses.calls) == 4 and (again.queued, again.duplicates) == (0, 4)


@responses.activate
def test_a_server_with_endless_fresh_tokens_costs_at_most_the_page_limit_and_resumes() -> None:
    # Given a server that always has one more page
    served = iter(range(10_000, 0, -1))

    def endless(request: Any) -> tuple[int, dict[str, str], str]:
        n = next(served)
        return 200, {}, json.dumps(_page([_post(str(n))], [USER], f"token-{n}"))

    responses.add_callback(responses.GET, SEARCH, callback=endless)
    harness = Harness(_x_source())
    # When it is polled
    first = harness.poll()
    # Then one poll makes at most MAX_PAGES_PER_POLL requests, and the next resumes where it stopped
    assert len(responses.calls) == MAX_PAGES_PER_POLL == first.pages == first.queued
    assert harness.cursor["token"] == f"token-{10_000 - MAX_PAGES_PER_POLL + 1}"
    harness.poll()
    assert f"next_token=token-{10_000 - MAX_PAGES_PER_POLL + 1}" in responses.calls[MAX_PAGES_PER_POLL].request.url
    assert len(harness.sink.mentions) == 2 * MAX_PAGES_PER_POLL == len({m.id for m in harness.sink.mentions})


@responses.activate
def test_out_of_range_display_fields_and_the_spec_spellings_never_cost_the_post() -> None:
    # Given posts as the description allows them: negative follower counts, a 40-character language
    # tag, the reply and the long text under the description's names (referenced_posts, note_post)
    users = [
        {"id": "42", "username": "dana", "name": "D" * 900, "public_metrics": {"followers_count": -3}},
        {"id": "43", "username": "u" * 2100, "verified": "yes", "public_metrics": {"followers_count": 7}},
    ]
    posts = [
        _post("300", lang="zh-Hant-TW-x-" + "p" * 28, referenced_posts=[{"type": "replied_to", "id": "299"}]),
        _post("299", author_id="43", lang="1" * 40, note_post={"text": "long " * 100}),
        _post("298", referenced_tweets=[{"type": "quoted", "id": "7"}], note_tweet={"text": "the long one"}),
    ]
    responses.add(responses.GET, SEARCH, json=_page(posts, users, None))
    harness = Harness(_x_source())
    # When polled
    result = harness.poll()
    # Then every post is queued, its display fields normalised, its links and long text read
    by_id = {m.id: m for m in harness.sink.mentions}
    assert (result.queued, result.dead_lettered) == (3, 0)
    assert by_id["300"].author.followers is None and len(by_id["300"].author.name or "") == 512
    assert by_id["300"].lang == "zh-Hant-TW" and by_id["300"].in_reply_to_id == "299"
    assert by_id["299"].lang == "und" and by_id["299"].text == "long " * 100
    assert by_id["299"].author.followers == 7 and by_id["299"].author.verified is None
    assert len(by_id["299"].author.handle) == 256 and by_id["299"].permalink is None  # too long to keep
    assert by_id["298"].text == "the long one" and by_id["298"].in_reply_to_id is None
