"""Meta webhook logic, YouTube comment threads and review sites, on recorded payloads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import responses
from hypothesis import given
from hypothesis import strategies as st
from responses import matchers
from socialcare.ingest import meta
from socialcare.ingest.sinks import MemoryDeadLetterSink, MemoryMentionSink, MemorySeenIndex
from socialcare.ingest.text import strip_html
from socialcare.ingest.youtube import next_quota_reset
from socialcare.sources import SourceConfig

from tests.unit.ingest.helpers import TOKEN, Harness, fixture_json, fixture_text

APP_SECRET = "meta-app-secret"  # noqa: S105 - test value
SECRET_REF = "secretsmanager:socialcare/test"  # noqa: S105 - a reference
# The recorded deliveries are accepted on the clock of the minute they were sent, whatever today's date.
RECORDED_AT = 1795345100 + 60


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_signature_is_checked_on_the_exact_bytes() -> None:
    # Given a delivery body and its signature
    body = fixture_text("meta/page_comment.json").encode()
    good = sign(body)
    # Then only the right secret over the same bytes verifies
    assert meta.signature_valid(APP_SECRET, body, good)
    assert not meta.signature_valid(APP_SECRET, body + b" ", good)
    assert not meta.signature_valid("other", body, good)
    assert not meta.signature_valid(APP_SECRET, body, None)
    assert not meta.signature_valid(APP_SECRET, body, good.replace("sha256=", "sha1="))
    # And a base64 body from API Gateway is decoded back to the signed bytes
    assert meta.raw_body(base64.b64encode(body).decode(), True) == body


def test_verification_challenge_needs_the_verify_token() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
    assert meta.challenge_answer(params, "tok") == "1158201444"
    assert meta.challenge_answer({**params, "hub.verify_token": "nope"}, "tok") is None
    assert meta.challenge_answer({**params, "hub.mode": "unsubscribe"}, "tok") is None


def test_page_comments_become_threaded_mentions_and_bad_changes_are_dead_lettered() -> None:
    # Given a page delivery with two comments, a reaction and a comment without author
    sink, seen, dead = MemoryMentionSink(), MemorySeenIndex(), MemoryDeadLetterSink()
    body = fixture_text("meta/page_comment.json").encode()
    # When it is accepted twice (Meta retries deliveries)
    first = meta.accept_delivery(body, sink=sink, seen=seen, dead_letters=dead, now=RECORDED_AT)
    again = meta.accept_delivery(body, sink=sink, seen=seen, dead_letters=dead, now=RECORDED_AT)
    # Then the comments are queued once, the reply threads under its parent, the reaction is ignored
    assert (first.queued, first.ignored, first.dead_lettered) == (2, 1, 1)
    assert (again.queued, again.duplicates) == (0, 2)
    top, reply = sink.mentions
    assert top.platform == "facebook" and top.id == "998877665544_1122334455" and top.in_reply_to_id is None
    assert top.conversation_id == "104729381234567_998877665544" and top.author.handle == "Rui Costa"
    assert reply.in_reply_to_id == "998877665544_1122334455"
    assert top.created_at.timestamp() == 1795344990


def test_instagram_comment_and_unreadable_delivery() -> None:
    sink, seen, dead = MemoryMentionSink(), MemorySeenIndex(), MemoryDeadLetterSink()
    meta.accept_delivery(
        fixture_text("meta/instagram_comment.json").encode(),
        sink=sink,
        seen=seen,
        dead_letters=dead,
        now=RECORDED_AT,
    )
    bad = meta.accept_delivery(b"{not json", sink=sink, seen=seen, dead_letters=dead)
    assert sink.mentions[0].platform == "instagram" and sink.mentions[0].author.handle == "wanderlust.jo"
    assert sink.mentions[0].conversation_id == "18000000000000001"
    assert bad.dead_lettered == 1 and dead.items[-1][1].raw == "{not json"


@responses.activate
def test_youtube_threads_replies_pages_and_watermark(clock) -> None:
    # Given a channel's comment threads over two pages, the second older than the backfill window
    source = SourceConfig(
        id="yt",
        platform="youtube",
        mode="channel",
        channel_id="UCskylarkair0000000000000",
        base_url="https://yt.test",
        secret=SECRET_REF,
        backfill_s=10**8,
    )
    h = Harness(source, clock=clock)
    url = "https://yt.test/youtube/v3/commentThreads"
    responses.get(
        url,
        json=fixture_json("youtube/comment_threads_page1.json"),
        match=[
            matchers.query_param_matcher(
                {"allThreadsRelatedToChannelId": "UCskylarkair0000000000000", "order": "time", "key": TOKEN},
                strict_match=False,
            )
        ],
    )
    responses.get(
        url,
        json=fixture_json("youtube/comment_threads_page2.json"),
        match=[matchers.query_param_matcher({"pageToken": "QURTSl9pMk5hUmZj"}, strict_match=False)],
    )
    # When it polls
    result = h.poll()
    # Then the top comment and its reply are mentions threaded on the thread id
    top, reply = h.sink.mentions[:2]
    assert top.text == 'Your safety video says "we care" but I\'ve waited 9 days for my refund'
    assert top.permalink == "https://www.youtube.com/watch?v=dQw4SkyLark&lc=UgzQ5vX7kG2o3n1AbCd4AaABAg"
    assert reply.in_reply_to_id == top.id and reply.conversation_id == "UgzQ5vX7kG2o3n1AbCd4AaABAg"
    assert result.queued == 3 and h.cursor["mark"].startswith("2026-11-22T10:05:00")
    # And the API key never appears in a stored cursor
    assert TOKEN not in json.dumps(h.cursor)


@responses.activate
def test_youtube_quota_exhaustion_sleeps_until_pacific_midnight(clock) -> None:
    source = SourceConfig(
        id="yt2", platform="youtube", video_id="dQw4SkyLark", base_url="https://yt.test", secret=SECRET_REF
    )
    h = Harness(source, clock=clock)
    responses.get(
        "https://yt.test/youtube/v3/commentThreads",
        status=403,
        json=fixture_json("youtube/quota_exceeded.json"),
    )
    result = h.poll()
    assert result.rate_limited == 1 and result.rate_limited_until == next_quota_reset(clock.now)
    assert h.store.load("yt2").healthy and 0 < result.rate_limited_until - clock.now <= 86_400


@responses.activate
def test_google_reviews_carry_the_star_rating_and_edits_thread(clock) -> None:
    # Given a location's reviews (one edited two-star, one five-star without text, one unreadable)
    source = SourceConfig(
        id="gbp",
        platform="gbp",
        location="accounts/1234567890/locations/987654321",
        base_url="https://gbp.test",
        secret=SECRET_REF,
        backfill_s=10**8,
        region="uk",
    )
    h = Harness(source, secret=json.dumps({"access_token": TOKEN}), clock=clock)
    responses.get(
        "https://gbp.test/v4/accounts/1234567890/locations/987654321/reviews",
        json=fixture_json("reviews/gbp_reviews.json"),
        match=[matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})],
    )
    # When it polls
    result = h.poll()
    # Then the polite two-star review is a mention with rating 2, threaded on its review id
    polite, silent = h.sink.mentions
    assert polite.rating == 2 and polite.conversation_id == "AbFvOqk2" and polite.region == "uk"
    assert polite.id == "AbFvOqk2@2026-11-22T08:30:00.000Z" and polite.text.startswith("Staff at the desk")
    assert silent.rating == 5 and silent.author.handle == "Anonymous" and "5-star" in silent.text
    assert result.dead_lettered == 1


@responses.activate
def test_trustpilot_one_star_review_and_next_page(clock) -> None:
    source = SourceConfig(
        id="tp",
        platform="trustpilot",
        business_unit_id="5f0000000000000000000001",
        base_url="https://tp.test",
        secret=SECRET_REF,
        backfill_s=10**8,
    )
    h = Harness(source, clock=clock)
    url = "https://tp.test/v1/business-units/5f0000000000000000000001/reviews"
    responses.get(
        url,
        json=fixture_json("reviews/trustpilot_reviews.json"),
        match=[
            matchers.query_param_matcher({"page": "1"}, strict_match=False),
            matchers.header_matcher({"apikey": TOKEN}),
        ],
    )
    responses.get(
        url,
        json={"reviews": [], "links": []},
        match=[matchers.query_param_matcher({"page": "2"}, strict_match=False)],
    )
    result = h.poll()
    one_star = h.sink.mentions[0]
    assert one_star.rating == 1 and one_star.text.startswith("Polite staff, no solution\n\nEveryone was very nice")
    assert result.queued == 2 and len(responses.calls) == 2 and h.cursor["mark"].startswith("2026-11-22T07:15")


@given(st.text(max_size=300))
def test_strip_html_never_leaves_tags_from_plain_text_and_never_raises(text: str) -> None:
    # Given any text escaped into a paragraph, stripping gives the text back (modulo whitespace)
    from html import escape

    out = strip_html(f"<p>{escape(text)}</p>")
    assert "<p>" not in out
    assert " ".join(out.split()) == " ".join(text.split())
