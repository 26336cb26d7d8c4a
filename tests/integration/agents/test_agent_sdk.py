"""The SDK: show, idempotent actions, the customer writing again, resolve and reopen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from socialcare.agents import AgentClient, NotAllowedError
from socialcare.assembly import connect_agent
from socialcare.models import Author

from tests.integration.conftest import execution, wait_for

pytestmark = pytest.mark.integration


def test_show_gives_the_agent_everything_and_actions_are_idempotent(stack, deps, open_case, send, x_api):
    author = Author(id="u-dana", handle="dana", followers=250_000, verified=True)
    # Given a customer with an earlier case, resolved a month ago (outside the reopen window), and a new one
    earlier = open_case("@SkylarkAir I was charged twice for my booking, please refund me", author=author)
    AgentClient(deps, "li", department="reservations").resolve(earlier, "refunded")
    old = deps.store.get_case(earlier)
    month_ago = old.opened_at - timedelta(days=30)
    deps.store.update_case(
        earlier,
        old.version,
        {"opened_at": month_ago.isoformat(), "resolved_at": (month_ago + timedelta(days=1)).isoformat()},
    )
    case_id = open_case(
        "@SkylarkAir my suitcase is lost and never came out at the carousel, please help",
        author=author,
        conversation_id="thread-2",
    )
    maria = AgentClient(deps, "maria", department="baggage")
    # When the agent looks at the case
    view = maria.show(case_id)
    # Then the conversation, tags, clocks, reach (as information) and earlier cases are there,
    # and the FAQ answer about delayed bags is offered, not sent
    assert (
        view.conversation[0].text.startswith("@SkylarkAir my suitcase")
        and view.tags["department"]["value"] == "baggage"
    )
    assert [c.name for c in view.clocks] == ["first_response", "resolution"] and view.clocks[0].seconds_left > 0
    assert view.author.followers == 250_000 and view.priority == 3  # reach shown, never a faster queue
    assert [c.case_id for c in view.earlier_cases] == [earlier]
    assert view.suggestions[0].id == "delayed-bag"
    assert not any(view.suggestions[0].answer in (m.text or "") for m in view.conversation)
    # And a client that finds the stack from its outputs sees the same case
    connected = connect_agent("maria", department="baggage", stack=stack.stack_name)
    assert connected.deps.settings.table_name == deps.settings.table_name
    assert connected.deps.deliver is not None and connected.deps.holds  # wired: its replies go out
    assert connected.show(case_id).conversation[0] == view.conversation[0]
    # And the same request twice has one effect
    first = maria.claim(case_id, request_id="claim-1")
    again = maria.claim(case_id, request_id="claim-1")
    assert (first.replayed, again.replayed) == (False, True)
    assert [e["type"] for e in deps.store.events(case_id)].count("case.claimed") == 1


def test_wait_customer_resumes_when_the_customer_writes_and_reopen_after_resolve(stack, deps, open_case, send, x_api):
    from tests.builders import mention

    author = Author(id="u-sam", handle="sam")
    case_id = open_case("@SkylarkAir my bag is lost, please help", author=author, conversation_id="t-sam")
    maria = AgentClient(deps, "maria", department="baggage")
    maria.claim(case_id)
    maria.handoff(case_id, "dm", "Can you send your file reference?")
    wait_for(lambda: deps.store.get_case(case_id).token_fresh)
    maria.wait_customer(case_id)
    wait_for(lambda: deps.store.get_case(case_id).token_fresh)
    assert maria.show(case_id).clocks[1].state == "paused"
    # When the customer writes again in the same thread
    send(mention("@SkylarkAir it's JFK12345", author=author, conversation_id="t-sam"))
    # Then the case is back with its owner and the next-update clock runs again
    case = wait_for(lambda: (c := deps.store.get_case(case_id)).status == "claimed" and c.token_fresh and c)
    assert case.owner == "maria" and case.clock.name == "next_update"
    maria.resolve(case_id, "bag delivered")
    wait_for(lambda: execution(stack, case_id)["status"] == "SUCCEEDED")
    with pytest.raises(NotAllowedError, match="resolved"):
        maria.reply(case_id, "anything else?")
    # And an agent can reopen it: a new execution, fresh clocks, the history kept
    result = maria.reopen(case_id, "customer called: wrong bag delivered", request_id="reopen-1")
    assert result.status == "open"
    assert maria.reopen(case_id, "twice", request_id="reopen-1").replayed
    wait_for(lambda: deps.store.get_case(case_id).token_fresh)
    assert execution(stack, f"{case_id}-r1")["status"] == "RUNNING"
    assert [e["type"] for e in deps.store.events(case_id)][-1] == "case.reopened"
    with pytest.raises(NotAllowedError, match="baggage queue"):
        AgentClient(deps, "li", department="reservations").reopen(case_id, "not mine")
