"""Every connector is liberal in what it accepts. A display-only field out of range (a negative count, an over-long name, handle or
language tag, a link longer than kept, a value of the wrong type) is normalised, never a reason to
dead-letter the post: each case takes a recorded item and spoils only its display fields. A server
whose paging never moves forward ends the poll instead of being asked until the time budget runs out."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st
from socialcare.ingest import bluesky, mastodon, meta, reddit, reviews, x, youtube
from socialcare.models import Author, Mention, language_tag
from socialcare.sources import SourceConfig

from tests.unit.ingest.helpers import Harness, RecordingMetrics, fixture_json

LONG = "n" * 3000
LONG_LANG = "en-GB-oxendict-x-" + "private" * 6


def _x() -> list[Mention]:
    body = copy.deepcopy(fixture_json("x/search_page1.json"))
    users = {u["id"]: u for u in body["includes"]["users"]}
    for user in users.values():
        user.update(name=LONG, username=LONG, verified="yes", public_metrics={"followers_count": -1})
    for post in body["data"]:
        post["lang"] = LONG_LANG
    return [x.mention_from_post(p, users) for p in body["data"]]


def _mastodon() -> list[Mention]:
    statuses = copy.deepcopy(fixture_json("mastodon/search_page.json"))["statuses"]
    for status in statuses:
        status["account"].update(display_name=LONG, acct=LONG, followers_count=-7)
        status.update(language=LONG_LANG, url="https://example.social/" + LONG)
    return [mastodon.mention_from_status(s) for s in statuses]


def _bluesky() -> list[Mention]:
    posts = copy.deepcopy(fixture_json("bluesky/search_page1.json"))["posts"]
    for post in posts:
        post["author"].update(displayName=LONG)
        post["record"]["langs"] = [LONG_LANG]
    return [bluesky.mention_from_post(p, {p["author"]["did"]: -5 for p in posts}) for p in posts]


def _reddit() -> list[Mention]:
    children = copy.deepcopy(fixture_json("reddit/search_page1.json"))["data"]["children"]
    for child in children:
        child["data"].update(author=LONG, permalink="/r/x/" + LONG)
    return [reddit.mention_from_thing(c) for c in children]


def _youtube() -> list[Mention]:
    threads = copy.deepcopy(fixture_json("youtube/comment_threads_page1.json"))["items"]
    for thread in threads:
        thread["snippet"]["topLevelComment"]["snippet"]["authorDisplayName"] = LONG
    return [m for t in threads for m in youtube.mentions_from_thread(t)]


def _trustpilot() -> list[Mention]:
    items = copy.deepcopy(fixture_json("reviews/trustpilot_reviews.json"))["reviews"]
    for review in items:
        review.update(language=LONG_LANG)
        review["consumer"]["displayName"] = LONG
    return [reviews.mention_from_trustpilot_review(r) for r in items]


def _google() -> list[Mention]:
    # (the recording's review with no star rating is a dead letter for its rating, not its display fields)
    items = [
        r
        for r in copy.deepcopy(fixture_json("reviews/gbp_reviews.json"))["reviews"]
        if r.get("starRating") != "STAR_RATING_UNSPECIFIED"
    ]
    for review in items:
        review["reviewer"]["displayName"] = LONG
    return [reviews.mention_from_google_review(r, "accounts/1/locations/2") for r in items]


def _meta() -> list[Mention]:
    delivery = copy.deepcopy(fixture_json("meta/page_comment.json"))
    for entry in delivery["entry"]:
        for change in entry["changes"]:
            if "from" in change["value"]:
                change["value"]["from"]["name"] = LONG
    mentions, dead, _ = meta.mentions_from_delivery(delivery)
    assert len(dead) == 1  # the recorded delivery's one comment without an author, as before
    return mentions


BUILDERS: dict[str, Callable[[], list[Mention]]] = {
    "x": _x,
    "mastodon": _mastodon,
    "bluesky": _bluesky,
    "reddit": _reddit,
    "youtube": _youtube,
    "trustpilot": _trustpilot,
    "google": _google,
    "meta": _meta,
}


@pytest.mark.parametrize("platform", sorted(BUILDERS))
def test_spoiled_display_fields_keep_every_post(platform: str) -> None:
    # Given recorded items whose display fields are out of range, When they are normalised
    mentions = BUILDERS[platform]()
    # Then every one is a mention, with its display fields within range
    assert mentions
    for mention in mentions:
        assert mention.author.followers is None
        assert len(mention.author.handle) <= 256 and len(mention.author.name or "") <= 512
        assert mention.lang is None or mention.lang == "en-GB-oxendict"
        assert mention.permalink is None or len(mention.permalink) <= 2048


@settings(max_examples=200, deadline=None, database=None)
@given(
    followers=st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=5), st.booleans()),
    verified=st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
    name=st.one_of(st.none(), st.text(max_size=700), st.integers()),
    lang=st.one_of(
        st.none(),
        st.text(max_size=60),
        st.integers(),
        st.from_regex(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8}){0,8}", fullmatch=True),
    ),
)
def test_any_display_value_is_normalised_not_refused(followers: Any, verified: Any, name: Any, lang: Any) -> None:
    author = Author(id="1", handle="h", name=name, followers=followers, verified=verified)
    mention = Mention(platform="x", id="1", author=author, text="t", created_at="2026-01-01T00:00:00Z", lang=lang)
    assert author.followers is None or author.followers >= 0
    assert mention.lang == language_tag(lang) and (mention.lang is None or len(mention.lang) <= 16)


@responses.activate
def test_mastodon_notifications_that_never_move_forward_end_the_poll() -> None:
    # Given a server whose full page of mention notifications always points back at the same min_id
    status = copy.deepcopy(fixture_json("mastodon/search_page.json"))["statuses"][0]
    page = [
        {
            "id": str(900 + i),
            "type": "mention",
            "created_at": status["created_at"],
            "account": status["account"],
            "status": {**status, "id": str(900 + i), "uri": f"{status['uri']}-{i}"},
        }
        for i in range(mastodon.NOTIFICATIONS_LIMIT)
    ]
    url = "https://masto.test/api/v1/notifications"
    responses.add(responses.GET, url, json=page, headers={"Link": f'<{url}?min_id=979>; rel="prev"'})
    source = SourceConfig(
        id="masto", platform="mastodon", secret="ssm:/m", base_url="https://masto.test", mode="notifications"
    )
    harness, metrics = Harness(source), RecordingMetrics()
    harness.store.save_cursor(harness.store.load("masto"), {"mark": "100"})
    # When it is polled
    result = harness.poll(metrics=metrics)
    # Then it stops after the page that repeated, keeping its posts, and says so
    assert len(responses.calls) == 2 and result.queued == mastodon.NOTIFICATIONS_LIMIT
    assert metrics.counts["PagingLoopsStopped"] == 1 and harness.cursor == {"mark": "979"}
