"""The outbox intent's states under crashes and retries, on a DynamoDB table (moto) with a fake writer
whose platform is a list of posts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from socialcare.outbound import OutboundMessage, OutboxBusyError, publish_once
from socialcare.outbound.outbox import LEASE
from socialcare.outbound.writers import LookupUnavailableError, PublishUncertainError
from socialcare.store import Store

from tests.faults import PostCrash

pytestmark = pytest.mark.integration
PK, SK = "OUTBOX#fake", "SEND#k1"


class FakeWriter:
    """A platform that keeps what it was sent; it can crash its caller after accepting a post, fail
    in a way that may or may not have posted, or be unable to look anything up."""

    platform = "fake"

    def __init__(self) -> None:
        self.posts: list[str] = []
        self.crash_after_next = False
        self.uncertain_next: bool | None = None  # True: posted then failed; False: failed before posting
        self.lookup = True

    def supports(self, channel: str) -> bool:
        return True

    def publish(self, message: OutboundMessage, token: str) -> str:
        if self.uncertain_next is not None:
            posted, self.uncertain_next = self.uncertain_next, None
            if posted:
                self.posts.append(message.text)
            raise PublishUncertainError("fake: no answer")
        self.posts.append(message.text)
        if self.crash_after_next:
            self.crash_after_next = False
            raise PostCrash("died after the platform accepted the post")
        return f"id-{len(self.posts)}"

    def recover(self, message: OutboundMessage, token: str, since: datetime) -> str | None:
        if not self.lookup:
            raise LookupUnavailableError("fake: cannot look up")
        return f"id-{self.posts.index(message.text) + 1}" if message.text in self.posts else None


@pytest.fixture
def deps() -> Iterator[Any]:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "GSI1PK", "GSI1SK")],
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "OpenByDepartment",
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                    "KeySchema": [
                        {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                        {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                    ],
                }
            ],
        )
        clock = {"now": datetime.now(UTC)}
        yield SimpleNamespace(store=Store(ddb, "t"), now=lambda: clock["now"], clock=clock)


def send(deps: Any, writer: FakeWriter, text: str = "Flights on time") -> Any:
    return publish_once(deps, PK, SK, "fake", writer, "tok", OutboundMessage(text, "public", "k1"), {"kind": "post"})


def intent(deps: Any) -> dict[str, Any]:
    return deps.store.get({"PK": {"S": PK}, "SK": {"S": SK}})


def test_a_crash_after_the_platform_accepted_is_found_by_the_retry(deps):
    writer = FakeWriter()
    writer.crash_after_next = True
    with pytest.raises(PostCrash):
        send(deps, writer)
    assert intent(deps)["mode"] == "sending" and intent(deps)["GSI1PK"] == "OUTBOX#SENDING"
    outcome = send(deps, writer)
    assert writer.posts == ["Flights on time"]
    assert (outcome.state, outcome.external_id) == ("published", "id-1")
    assert send(deps, writer).replayed and writer.posts == ["Flights on time"]


def test_the_retry_sends_with_what_the_first_attempt_sent(deps):
    writer = FakeWriter()
    writer.crash_after_next = True
    with pytest.raises(PostCrash):
        send(deps, writer, "first text")
    assert send(deps, writer, "edited text").external_id == "id-1" and writer.posts == ["first text"]


def test_absent_within_the_lease_waits_and_past_it_sends_once_more(deps):
    writer = FakeWriter()
    writer.crash_after_next = True
    with pytest.raises(PostCrash):
        send(deps, writer)
    writer.posts.clear()  # the platform lost it (or it never arrived): the look-up finds nothing
    with pytest.raises(OutboxBusyError):
        send(deps, writer)  # it might still be in flight
    assert writer.posts == []
    deps.clock["now"] += LEASE + timedelta(seconds=1)
    outcome = send(deps, writer)
    assert outcome.state == "published" and writer.posts == ["Flights on time"]
    assert intent(deps)["attempts"] == 2 and "GSI1PK" not in intent(deps)


def test_no_lookup_means_unknown_for_a_person_and_never_a_second_post(deps):
    writer = FakeWriter()
    writer.crash_after_next, writer.lookup = True, False
    with pytest.raises(PostCrash):
        send(deps, writer)
    outcome = send(deps, writer)
    assert outcome.state == "unknown" and "check before resending" in outcome.reason
    deps.clock["now"] += timedelta(hours=1)
    assert send(deps, writer).state == "unknown" and writer.posts == ["Flights on time"]


@pytest.mark.parametrize(("posted", "state"), [(True, "published"), (False, "unknown")])
def test_an_uncertain_failure_is_looked_up_at_once(deps, posted, state):
    writer = FakeWriter()
    writer.uncertain_next = posted
    assert send(deps, writer).state == state
    assert len(writer.posts) == (1 if posted else 0)
