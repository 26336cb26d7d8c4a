"""Recorded responses from Mastodon, Bluesky, Reddit and feeds, replayed: what a Mention looks like."""

from __future__ import annotations

import json

import responses
from responses import matchers
from socialcare.sources import SourceConfig

from tests.unit.ingest.helpers import TOKEN, Harness, fixture_json, fixture_text

MASTODON = "https://mastodon.test"
BSKY = "https://bsky.test"
REDDIT = "https://oauth.reddit.test"
REDDIT_AUTH = "https://www.reddit.test"
SECRET_REF = "secretsmanager:socialcare/test"  # noqa: S105  (a reference, not a secret)


@responses.activate
def test_mastodon_notifications_strip_html_and_dead_letter_statuses_without_accounts(clock) -> None:
    # Given a recorded page of mention notifications (one status lacks its account)
    source = SourceConfig(id="m", platform="mastodon", base_url=MASTODON, secret=SECRET_REF)
    h = Harness(source, clock=clock)
    h.store.save_cursor(h.store.load("m"), {"mark": "34975000"})
    responses.get(
        f"{MASTODON}/api/v1/notifications",
        json=fixture_json("mastodon/notifications_page.json"),
        headers={
            "Link": f'<{MASTODON}/api/v1/notifications?max_id=34975700>; rel="next", '
            f'<{MASTODON}/api/v1/notifications?min_id=34975861>; rel="prev"'
        },
        match=[matchers.query_param_matcher({"min_id": "34975000"}, strict_match=False)],
    )
    # When it polls
    result = h.poll()
    # Then statuses become mentions keyed by their global uri, with HTML stripped and spoilers kept
    first, second = h.sink.mentions
    assert first.id == "https://fosstodon.org/users/kite/statuses/113557022318001234"
    assert first.text == "@SkylarkAir still no answer on my refund & it's been 3 weeks.\nBooking ref QX7RTP"
    assert first.author.handle == "kite@fosstodon.org" and first.author.followers == 311
    assert first.in_reply_to_id == "113557000000000001" and first.lang == "en"
    assert second.text.startswith("rant\n\n@SkylarkAir o voo SK88") and second.lang == "pt"
    assert result.dead_lettered == 1
    # And the cursor is the page's prev-link min_id
    assert h.cursor == {"mark": "34975861"}


@responses.activate
def test_mastodon_search_reads_statuses(clock) -> None:
    source = SourceConfig(
        id="ms", platform="mastodon", mode="search", query="#SkylarkAir", base_url=MASTODON, secret=SECRET_REF
    )
    h = Harness(source, clock=clock)
    responses.get(
        f"{MASTODON}/api/v2/search",
        json=fixture_json("mastodon/search_page.json"),
        match=[matchers.query_param_matcher({"q": "#SkylarkAir", "type": "statuses"}, strict_match=False)],
    )
    h.poll()
    assert h.sink.mentions[0].text == "Anyone else stuck at LIS with #SkylarkAir? Gate B12, 3h delay."
    assert h.cursor["mark"] == "113557100000000001"


@responses.activate
def test_bluesky_session_search_pages_followers_and_threading(clock) -> None:
    # Given an app-password session and two recorded pages that overlap by one post
    secret = json.dumps({"identifier": "skylarkair.bsky.social", "app_password": TOKEN})
    source = SourceConfig(
        id="b", platform="bluesky", query="skylark air", base_url=BSKY, secret=SECRET_REF, backfill_s=10**8
    )
    h = Harness(source, secret=secret, clock=clock)
    responses.post(
        f"{BSKY}/xrpc/com.atproto.server.createSession",
        json=fixture_json("bluesky/session.json"),
        match=[matchers.json_params_matcher({"identifier": "skylarkair.bsky.social", "password": TOKEN})],
    )
    search = f"{BSKY}/xrpc/app.bsky.feed.searchPosts"
    responses.get(
        search,
        json=fixture_json("bluesky/search_page1.json"),
        match=[matchers.query_param_matcher({"sort": "latest", "q": "skylark air"}, strict_match=False)],
    )
    responses.get(
        search,
        json=fixture_json("bluesky/search_page2.json"),
        match=[matchers.query_param_matcher({"cursor": "2"}, strict_match=False)],
    )
    responses.get(f"{BSKY}/xrpc/app.bsky.actor.getProfiles", json=fixture_json("bluesky/profiles.json"))
    # When it polls
    result = h.poll()
    # Then each post is queued once, with the session's access token, followers and reply threading
    assert (result.queued, result.duplicates) == (3, 1)
    marta = h.sink.mentions[0]
    assert marta.permalink == "https://bsky.app/profile/marta.bsky.social/post/3lbq7xkz2vk2c"
    assert marta.author.followers == 845 and marta.lang == "en"
    assert marta.conversation_id == "at://did:plc:skylark7q2u4tqgrd3xmvyc4/app.bsky.feed.post/3lbq6aaaaaaa2"
    assert marta.in_reply_to_id.endswith("3lbq6bbbbbbb2")
    search_calls = [c for c in responses.calls if "searchPosts" in c.request.url]
    assert search_calls[0].request.headers["Authorization"].endswith("sig-access")
    # And the watermark is the newest indexedAt of the run
    assert h.cursor["mark"] == "2026-11-22T11:00:00.501000Z"


@responses.activate
def test_reddit_client_credentials_listing_pages_and_comments(clock) -> None:
    # Given a client-credentials token and two listing pages that overlap by one post
    secret = json.dumps({"client_id": "cid", "client_secret": TOKEN})
    source = SourceConfig(
        id="r",
        platform="reddit",
        query="skylark air",
        base_url=REDDIT,
        auth_url=REDDIT_AUTH,
        secret=SECRET_REF,
        backfill_s=10**9,
    )
    h = Harness(source, secret=secret, clock=clock)
    responses.post(f"{REDDIT_AUTH}/api/v1/access_token", json=fixture_json("reddit/token.json"))
    responses.get(
        f"{REDDIT}/search",
        json=fixture_json("reddit/search_page1.json"),
        match=[matchers.query_param_matcher({"sort": "new", "limit": "100", "raw_json": "1"}, strict_match=False)],
    )
    responses.get(
        f"{REDDIT}/search",
        json=fixture_json("reddit/search_page2.json"),
        match=[matchers.query_param_matcher({"after": "t3_1h0abc2"}, strict_match=False)],
    )
    # When it polls
    result = h.poll()
    # Then posts and comments are queued once with their fullnames and threading
    assert h.ids == ["t3_1h0abc9", "t3_1h0abc2", "t1_lzz0q1x"] and result.duplicates == 1
    post, _, comment = h.sink.mentions
    assert post.text.startswith("Skylark Air double charged for seat selection\n\nFlew LIS-CDG")
    assert post.permalink.startswith("https://www.reddit.com/r/flights/comments/1h0abc9/")
    assert comment.conversation_id == "t3_1gzzzz1" and comment.in_reply_to_id == "t3_1gzzzz1"
    token_call = responses.calls[0].request
    assert token_call.headers["Authorization"].startswith("Basic ") and ":" in token_call.headers["User-Agent"]
    assert h.cursor["mark"] == 1795345200.0


@responses.activate
def test_reddit_429_inside_a_200_body_is_a_rate_limit(clock) -> None:
    secret = json.dumps({"client_id": "cid2", "client_secret": TOKEN})
    source = SourceConfig(
        id="r2",
        platform="reddit",
        subreddit="flights",
        mode="subreddit",
        base_url=REDDIT,
        auth_url=REDDIT_AUTH,
        secret=SECRET_REF,
    )
    h = Harness(source, secret=secret, clock=clock)
    responses.post(f"{REDDIT_AUTH}/api/v1/access_token", json=fixture_json("reddit/token.json"))
    responses.get(
        f"{REDDIT}/r/flights/new",
        json=fixture_json("reddit/ratelimited_200.json"),
        headers={"X-Ratelimit-Used": "100", "X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Reset": "42"},
    )
    result = h.poll()
    assert result.rate_limited == 1 and result.rate_limited_until == clock.now + 42


@responses.activate
def test_rss_feed_items_strip_html_and_dead_letter_empty_items(clock) -> None:
    # Given a recorded RSS feed with a guid, a guid-less item and an empty item
    source = SourceConfig(id="f", platform="rss", feed_url="https://runway-notes.example/feed.xml")
    h = Harness(source, secret=None, clock=clock)
    responses.get(
        "https://runway-notes.example/feed.xml",
        body=fixture_text("rss/feed.xml"),
        content_type="application/rss+xml",
        headers={"ETag": '"abc"'},
    )
    # When it polls
    result = h.poll()
    # Then items are mentions with readable text, the link as id when there is no guid
    first, second = h.sink.mentions
    assert first.id == "https://runway-notes.example/2026/11/skylark-roster-outage"
    assert "Passengers at Lisbon and Porto were left without information for hours — the airline says" in first.text
    assert "track()" not in first.text and first.author.handle == "Hana Ito" and first.lang == "en-gb"
    assert second.id == "https://runway-notes.example/2026/11/loyalty-opinion"
    assert result.dead_lettered == 1 and h.cursor["etag"] == '"abc"'


@responses.activate
def test_atom_feed_and_permanent_redirect_moves_the_stored_url(clock) -> None:
    # Given a feed that moved permanently
    source = SourceConfig(id="a", platform="rss", feed_url="https://gatelice.example/old.atom")
    h = Harness(source, secret=None, clock=clock)
    responses.get(
        "https://gatelice.example/old.atom",
        status=301,
        headers={"Location": "https://gatelice.example/feed.atom"},
    )
    responses.get(
        "https://gatelice.example/feed.atom",
        body=fixture_text("rss/atom.xml"),
        content_type="application/atom+xml",
    )
    # When it polls
    h.poll()
    # Then the entry is read and the new URL is remembered
    assert h.ids == ["tag:gatelice.example,2026:long-night"]
    assert (
        h.sink.mentions[0].text
        == "A very long night with Skylark Air\n\nFour hours on the tarmac, no water, no announcements."
    )
    assert h.cursor["url"] == "https://gatelice.example/feed.atom"


@responses.activate
def test_gone_feed_disables_the_source(clock) -> None:
    source = SourceConfig(id="g", platform="rss", feed_url="https://gone.example/feed.xml")
    h = Harness(source, secret=None, clock=clock)
    responses.get("https://gone.example/feed.xml", status=410)
    h.poll()
    assert h.store.load("g").disabled and h.poll().skipped == "disabled"
