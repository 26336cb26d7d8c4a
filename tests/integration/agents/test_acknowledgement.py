"""Automatic acknowledgements: once per case, with the expected answer time, never to venting or praise."""

from __future__ import annotations

import json

import pytest
from socialcare.agents import AgentClient

from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def _tweets(x_api) -> list[dict]:
    return [json.loads(c.request.body) for c in x_api.calls if c.request.url.endswith("/2/tweets")]


def test_acknowledgement_sent_once_with_expected_time_and_kept_on_the_case(stack, deps, open_case, x_api):
    # Given baggage acknowledges X cases (brand_agents.yaml) and the first-response SLA is 2 minutes
    case_id = open_case("@SkylarkAir my suitcase is lost and the baggage desk is closed, please help")
    # When the case first waits for an agent
    acks = wait_for(lambda: [t for t in _tweets(x_api) if case_id in t["text"]])
    # Then the customer hears when to expect an answer, once
    assert len(acks) == 1 and "Expect an answer within 2 minutes" in acks[0]["text"]
    assert acks[0]["reply_settings"] == "mentionedUsers"
    # (the post goes out before the case records it, so the record is waited for, not assumed)
    recorded = wait_for(
        lambda: [m.delivery for m in AgentClient(deps, "maria").show(case_id).conversation if m.author == "auto"]
    )
    assert recorded == ["published"]
    assert "case.acknowledged" in [e["type"] for e in deps.store.events(case_id)]
    # And an agent's claim (a new wait) does not send it again, nor stop the first-response clock
    AgentClient(deps, "maria").claim(case_id)
    wait_for(lambda: deps.store.get_case(case_id).token_fresh)
    assert len([t for t in _tweets(x_api) if case_id in t["text"]]) == 1
    assert deps.store.get_case(case_id).first_responded_at is None


def test_no_acknowledgement_for_other_departments_or_venting(stack, deps, open_case, send, x_api):
    # Given reservations has no acknowledgement configured
    case_id = open_case("@SkylarkAir I was charged twice for my booking, please refund me")
    assert deps.store.get_case(case_id).department == "reservations"
    # and a venting mention opens no case at all
    from tests.builders import mention

    send(mention("ugh, just venting, what a day at the airport smh"))
    wait_for(lambda: deps.store.get_case(case_id).token_fresh)
    assert _tweets(x_api) == []


def test_a_retried_await_step_records_the_acknowledgement_once(stack, deps, open_case, x_api):
    from socialcare.cases import actions

    # Given a case that was acknowledged when its workflow first waited
    case_id = open_case("@SkylarkAir my suitcase is lost and the baggage desk is closed, please help")
    wait_for(lambda: "case.acknowledged" in [e["type"] for e in deps.store.events(case_id)])
    # When the await step runs again (a Lambda retry) and acknowledges again
    actions._acknowledge(deps.store.get_case(case_id), deps)
    # Then the customer got one message, and the case shows one message and one event
    assert len([t for t in _tweets(x_api) if case_id in t["text"]]) == 1
    assert len([m for m in deps.store.messages(case_id) if m.get("kind") == "acknowledgement"]) == 1
    assert [e["type"] for e in deps.store.events(case_id)].count("case.acknowledged") == 1
