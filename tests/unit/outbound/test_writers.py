"""The platform writers' answers after a crash: what was posted, what certainly was not, and what
nobody can tell. Fake HTTP sessions, no network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from socialcare.config import WriteAccount
from socialcare.outbound import OutboundMessage, PublishError, writer_for
from socialcare.outbound.writers import LookupUnavailableError, PublishUncertainError

REF = "ssm:/socialcare/x-write"  # a secret reference, not a secret
NOW = datetime.now(UTC)


class FakePlatform:
    """Answers POSTs and GETs from queued (status, body) pairs or exceptions, and records them."""

    def __init__(self, posts: list[Any] = (), gets: list[Any] = ()) -> None:
        self.post_answers, self.get_answers = list(posts), list(gets)
        self.calls: list[tuple[str, str, dict]] = []

    def _answer(self, queue: list[Any]) -> SimpleNamespace:
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body = answer

        def raise_for_status() -> None:
            if status >= 400:
                raise requests.HTTPError(f"HTTP {status}")

        return SimpleNamespace(status_code=status, json=lambda: body, raise_for_status=raise_for_status)

    def post(self, url: str, json: dict, headers: dict, timeout: object) -> SimpleNamespace:
        self.calls.append(("POST", url, {"json": json, "headers": headers}))
        return self._answer(self.post_answers)

    def get(self, url: str, params: dict, headers: dict, timeout: object) -> SimpleNamespace:
        self.calls.append(("GET", url, {"params": params}))
        return self._answer(self.get_answers)


def x(platform: FakePlatform) -> Any:
    return writer_for("x", WriteAccount(secret=REF), platform)


def test_x_finds_an_earlier_reply_among_the_brands_own_posts():
    # Given the brand's account shows the reply, in the customer's thread
    platform = FakePlatform(
        gets=[
            (200, {"data": {"id": "77"}}),
            (
                200,
                {
                    "data": [
                        {"id": "1", "text": "Sorry!", "referenced_tweets": [{"type": "replied_to", "id": "other"}]},
                        {"id": "2", "text": "Sorry!", "referenced_tweets": [{"type": "replied_to", "id": "42"}]},
                    ],
                    "meta": {},
                },
            ),
        ]
    )
    # When the writer looks for the attempt that started a minute ago
    found = x(platform).recover(OutboundMessage("Sorry!", "public", "k", in_reply_to="42"), "tok", NOW)
    # Then it is the post in that thread, read from the account the token belongs to, since the attempt
    assert found == "2"
    assert platform.calls[1][1] == "https://api.x.com/2/users/77/tweets"
    assert platform.calls[1][2]["params"]["start_time"] <= NOW.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_x_pages_the_brands_posts_and_says_absent_only_after_the_last_page():
    platform = FakePlatform(
        gets=[
            (200, {"data": {"id": "77"}}),
            (200, {"data": [{"id": "1", "text": "other"}], "meta": {"next_token": "p2"}}),
            (200, {"meta": {"result_count": 0}}),
        ]
    )
    assert x(platform).recover(OutboundMessage("Sorry!", "public", "k", in_reply_to="42"), "tok", NOW) is None
    assert platform.calls[2][2]["params"]["pagination_token"] == "p2"


@pytest.mark.parametrize(
    "answers",
    [
        [(200, {"data": {"id": "77"}}), (503, {"title": "Service Unavailable"})],
        [(200, {"errors": [{"title": "no user"}]})],
        [requests.ReadTimeout("slow")],
    ],
)
def test_x_lookup_that_cannot_answer_is_unavailable_never_absent(answers):
    with pytest.raises(LookupUnavailableError):
        x(FakePlatform(gets=answers)).recover(OutboundMessage("Sorry!", "public", "k", in_reply_to="42"), "tok", NOW)


def test_x_cannot_match_a_text_with_a_link():
    platform = FakePlatform()
    with pytest.raises(LookupUnavailableError, match="links"):
        x(platform).recover(OutboundMessage("see https://a.example/x", "public", "k"), "tok", NOW)
    assert platform.calls == []


def test_x_finds_an_earlier_dm_in_the_conversation():
    platform = FakePlatform(
        gets=[
            (
                200,
                {
                    "data": [
                        {
                            "id": "e1",
                            "text": "Psst",
                            "created_at": (NOW - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        },
                        {"id": "e2", "text": "Psst", "created_at": NOW.strftime("%Y-%m-%dT%H:%M:%S.000Z")},
                    ]
                },
            )
        ]
    )
    assert x(platform).recover(OutboundMessage("Psst", "dm", "k", recipient_id="u1"), "tok", NOW) == "e2"
    assert platform.calls[0][1] == "https://api.x.com/2/dm_conversations/with/u1/dm_events"


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ((503, {"title": "Service Unavailable"}), PublishUncertainError),
        (requests.ReadTimeout("no answer"), PublishUncertainError),
        (requests.ConnectionError("Connection aborted.", "RemoteDisconnected"), PublishUncertainError),
        (requests.ConnectTimeout("never connected"), PublishError),
        ((403, {"title": "Forbidden"}), PublishError),
    ],
)
def test_x_failures_that_may_have_posted_are_uncertain(answer, error):
    with pytest.raises(PublishError) as raised:
        x(FakePlatform(posts=[answer])).publish(OutboundMessage("hi", "public", "k"), "tok")
    assert type(raised.value) is error


def test_mastodon_posts_with_the_idempotency_key_and_recovers_by_repeating_it():
    platform = FakePlatform(posts=[(200, {"id": "109"}), (200, {"id": "109"})])
    writer = writer_for("mastodon", WriteAccount(secret=REF, api_base="https://social.example/"), platform)
    message = OutboundMessage("Flights are on time", "public", "post-P-1", in_reply_to="555")
    assert writer.publish(message, "tok") == "109"
    method, url, sent = platform.calls[0]
    assert url == "https://social.example/api/v1/statuses" and sent["headers"]["Idempotency-Key"] == "post-P-1"
    assert sent["json"] == {"status": "Flights are on time", "visibility": "public", "in_reply_to_id": "555"}
    # the look-up after a crash is the same request: the server answers with the status it made
    # the first attempt five minutes ago, by the clock at this line: a long suite must not age it out
    assert writer.recover(message, "tok", datetime.now(UTC) - timedelta(minutes=5)) == "109"
    assert platform.calls[1][2]["headers"]["Idempotency-Key"] == "post-P-1"


def test_mastodon_past_the_key_window_cannot_tell():
    platform = FakePlatform()
    writer = writer_for("mastodon", WriteAccount(secret=REF, api_base="https://social.example"), platform)
    with pytest.raises(LookupUnavailableError, match="no longer keeps"):
        writer.recover(OutboundMessage("t", "public", "k"), "tok", NOW - timedelta(hours=2))
    assert platform.calls == []


def test_mastodon_resolves_a_post_from_another_server_by_its_uri_before_replying():
    platform = FakePlatform(gets=[(200, {"statuses": [{"id": "31"}]})], posts=[(200, {"id": "32"})])
    writer = writer_for("mastodon", WriteAccount(secret=REF, api_base="https://social.example"), platform)
    writer.publish(
        OutboundMessage("On it", "public", "k", in_reply_to="https://other.example/users/a/statuses/9"), "tok"
    )
    assert platform.calls[0][2]["params"]["q"] == "https://other.example/users/a/statuses/9"
    assert platform.calls[1][2]["json"]["in_reply_to_id"] == "31"
