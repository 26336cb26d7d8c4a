"""Publishing exactly once through the real handlers: a sender that dies after X accepted a post and
before the post is recorded never makes the retry (or the scheduled publisher) post it again."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from socialcare.agents import AgentClient
from socialcare.cases.actions import NotAllowedError
from socialcare.outbound import outbox
from socialcare.store import iso

from tests.faults import CrashingSession, PostCrash

pytestmark = pytest.mark.integration

REFUND_CASE = "@SkylarkAir I was charged twice for my booking, please refund me"
TEXT = "Your refund is on its way - sorry for the double charge."


def _tweets(x_api: Any, text: str) -> list[dict]:
    return [
        json.loads(c.request.body)
        for c in x_api.calls
        if c.request.method == "POST" and c.request.url.endswith("/2/tweets") and text in c.request.body.decode()
    ]


def _intent(deps: Any, case_id: str, request_id: str) -> dict[str, Any]:
    return deps.store.get({"PK": {"S": f"CASE#{case_id}"}, "SK": {"S": f"OUTBOUND#{request_id}-0"}})


def _backdate(deps: Any, case_id: str, request_id: str, minutes: int = 2) -> None:
    """The crash happened `minutes` ago: the intent's attempt is past its lease."""
    item = _intent(deps, case_id, request_id)
    stamp = iso(deps.now() - timedelta(minutes=minutes))
    deps.store.ddb.update_item(
        TableName=deps.store.table,
        Key={"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}},
        UpdateExpression="SET attempt_at = :a, GSI1SK = :g",
        ExpressionAttributeValues={":a": {"S": stamp}, ":g": {"S": f"{stamp}#{item['PK']}#{item['SK']}"}},
    )


def test_a_reply_posted_before_a_crash_is_not_posted_again_by_the_retry(stack, deps, open_case, x_api, monkeypatch):
    # Given an open case, and a sender that dies right after X accepted its post
    case_id = open_case(REFUND_CASE)
    agent = AgentClient(deps, "maria")
    monkeypatch.setattr(outbox, "HTTP_SESSION", CrashingSession())
    with pytest.raises(PostCrash):
        agent.reply(case_id, TEXT, request_id="reply-1")
    assert len(_tweets(x_api, TEXT)) == 1 and _intent(deps, case_id, "reply-1")["mode"] == "sending"
    # When the agent's tool retries the same request
    result = agent.reply(case_id, TEXT, request_id="reply-1")
    # Then X has the reply once, found by looking at the brand's own posts, and the case records it
    tweets = _tweets(x_api, TEXT)
    assert len(tweets) == 1
    intent = _intent(deps, case_id, "reply-1")
    assert intent["mode"] == "published" and intent["attempts"] == 1 and intent["external_id"]
    assert "found after a retry" in intent["reason"]
    assert result.detail["delivery"] == "published"
    sent = [m for m in agent.show(case_id).conversation if m.text == TEXT]
    assert len(sent) == 1 and sent[0].delivery == "published"


def test_the_scheduled_publisher_settles_an_intent_nobody_retried(stack, deps, open_case, x_api, monkeypatch):
    # Given a reply X accepted two minutes ago whose sender died before recording it, never retried
    case_id = open_case(REFUND_CASE)
    monkeypatch.setattr(outbox, "HTTP_SESSION", CrashingSession())
    with pytest.raises(PostCrash):
        AgentClient(deps, "maria").reply(case_id, TEXT, request_id="reply-2")
    monkeypatch.setattr(outbox, "HTTP_SESSION", None)
    _backdate(deps, case_id, "reply-2")
    # When the scheduled publisher runs (the real handler)
    result = stack.invoke("PublishPostsFunction", stack.scheduled_event("PublishPostsFunction"))
    # Then the intent is settled from what X shows, and nothing was posted again
    assert result["intents_published"] == 1
    intent = _intent(deps, case_id, "reply-2")
    assert intent["mode"] == "published" and intent["external_id"]
    assert "GSI1PK" not in intent  # off the unsettled list
    assert len(_tweets(x_api, TEXT)) == 1


def test_an_attempt_that_never_left_is_marked_not_sent_and_the_retry_sends_it_once(
    stack, deps, open_case, x_api, monkeypatch
):
    # Given a sender that died before its request left, two minutes ago
    case_id = open_case(REFUND_CASE)
    monkeypatch.setattr(outbox, "HTTP_SESSION", CrashingSession(after=False))
    with pytest.raises(PostCrash):
        AgentClient(deps, "maria").reply(case_id, TEXT, request_id="reply-3")
    monkeypatch.setattr(outbox, "HTTP_SESSION", None)
    _backdate(deps, case_id, "reply-3")
    # When the scheduled publisher looks it up: X has no such post
    result = stack.invoke("PublishPostsFunction", stack.scheduled_event("PublishPostsFunction"))
    assert result["intents_not_sent"] == 1 and _intent(deps, case_id, "reply-3")["mode"] == "not_sent"
    assert _tweets(x_api, TEXT) == []
    # Then the agent's retry sends it, once
    AgentClient(deps, "maria").reply(case_id, TEXT, request_id="reply-3")
    AgentClient(deps, "maria").reply(case_id, TEXT, request_id="reply-3")
    assert len(_tweets(x_api, TEXT)) == 1
    intent = _intent(deps, case_id, "reply-3")
    assert intent["mode"] == "published" and intent["attempts"] == 2


def test_a_post_that_cannot_be_looked_up_is_left_for_a_person(stack, deps, open_case, x_api, monkeypatch):
    # Given a reply with a link (X rewrites links, so its text cannot be matched) whose sender died
    text = "Refund form: https://skylark.example/refund - sorry!"
    case_id = open_case(REFUND_CASE)
    monkeypatch.setattr(outbox, "HTTP_SESSION", CrashingSession())
    with pytest.raises(PostCrash):
        AgentClient(deps, "maria").reply(case_id, text, request_id="reply-4")
    # When the agent retries
    result = AgentClient(deps, "maria").reply(case_id, text, request_id="reply-4")
    # Then nothing is posted again; the delivery says a person must check X first
    assert len(_tweets(x_api, "Refund form")) == 1
    assert result.detail["delivery"] == "unknown"
    intent = _intent(deps, case_id, "reply-4")
    assert intent["mode"] == "unknown" and "check before resending" in intent["reason"]


def _went_stale(deps: Any, case_id: str) -> None:
    """What the workflow's MarkStale state writes after the last escalation tier."""
    deps.store.ddb.update_item(
        TableName=deps.store.table,
        Key={"PK": {"S": f"CASE#{case_id}"}, "SK": {"S": "CASE"}},
        UpdateExpression="SET stale = :yes",
        ExpressionAttributeValues={":yes": {"BOOL": True}},
    )


@pytest.mark.parametrize(
    "moved_on",
    [_went_stale, lambda deps, case_id: AgentClient(deps, "li").resolve(case_id, "sorted by phone")],
    ids=["went-stale", "resolved-by-another-agent"],
)
def test_a_reply_posted_before_a_crash_is_recorded_by_the_retry_after_the_case_moved_on(
    stack, deps, open_case, x_api, monkeypatch, moved_on
):
    # Given a reply X accepted before its sender died, and a case whose state then no longer admits a reply
    case_id = open_case(REFUND_CASE)
    agent = AgentClient(deps, "maria")
    monkeypatch.setattr(outbox, "HTTP_SESSION", CrashingSession())
    with pytest.raises(PostCrash):
        agent.reply(case_id, TEXT, request_id="reply-5")
    moved_on(deps, case_id)
    before = deps.store.get_case(case_id)
    # When the agent's tool retries the same request
    result = agent.reply(case_id, TEXT, request_id="reply-5")
    # Then it is not refused: the reply the customer already has is settled and recorded on the case, once
    assert result.detail["delivery"] == "published" and result.detail["after"]
    intent = _intent(deps, case_id, "reply-5")
    assert intent["mode"] == "published" and intent["attempts"] == 1 and "GSI1PK" not in intent
    assert len(_tweets(x_api, TEXT)) == 1
    sent = [m for m in agent.show(case_id).conversation if m.text == TEXT]
    assert len(sent) == 1 and sent[0].delivery == "published"
    after = deps.store.get_case(case_id)
    assert after.first_responded_at is not None
    # and the case's state, owner and clock are what they were before the retry
    for name in ("status", "stale", "owner", "clock", "department"):
        assert getattr(after, name) == getattr(before, name), name
    # A further retry replays the recorded result; a new request is still refused, also one whose id
    # begins the keys of the earlier request's messages ("reply" and "reply-5-0")
    assert agent.reply(case_id, TEXT, request_id="reply-5").replayed
    for new_request in ("reply-6", "reply"):
        with pytest.raises(NotAllowedError):
            agent.reply(case_id, "Anything else?", request_id=new_request)
