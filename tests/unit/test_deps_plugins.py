"""Sending to customers reaches the case actions only through the plug-ins socialcare.assembly puts on
Deps: Deps without them refuse before anything is written, so no customer's message vanishes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from socialcare.assembly import plug_in
from socialcare.cases import actions
from socialcare.cases.deps import Deps, NotWiredError
from socialcare.config import load_config
from socialcare.models import Author, Case, Scored, SlaPolicy, Tags
from socialcare.settings import Settings

BRAND = Path(__file__).resolve().parents[2] / "layers" / "socialcare" / "socialcare" / "data" / "brand.yaml"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class Untouchable:
    """A client or store that fails the test on any write; reads answer from the one case."""

    def __init__(self, case: Case | None = None) -> None:
        self.case = case
        self.writes: list[str] = []

    def get(self, key: Any) -> None:
        return None  # no earlier request with this id

    def get_case(self, case_id: str) -> Case:
        assert self.case is not None
        return self.case

    def __getattr__(self, name: str) -> Any:
        def write(*args: Any, **kwargs: Any) -> None:
            self.writes.append(name)

        return write


def _case() -> Case:
    s = lambda v: Scored(value=v, confidence=0.9)  # noqa: E731
    tags = Tags(
        intent=s("complaint"),
        actionable=s("yes"),
        department=s("baggage"),
        sentiment=s("negative"),
        urgency=s("none"),
        language=s("en"),
    )
    return Case(
        id="SC-AAAAAAAA",
        mention_key="x#1",
        customer_key="x#u1",
        platform="x",
        author=Author(id="u1", handle="dana"),
        department="baggage",
        tags=tags,
        sla=SlaPolicy(first_response_s=3600, next_update_s=14400, resolution_s=172800),
        opened_at=NOW - timedelta(minutes=10),
        first_response_due=NOW + timedelta(minutes=50),
        resolution_due=NOW + timedelta(hours=47),
    )


def _bare_deps(store: Untouchable) -> Deps:
    settings = Settings(
        stack_name="t",
        table_name="t",
        mentions_queue_url="https://sqs.example/1/t-mentions",
        state_machine_arn="arn:aws:states:us-east-1:1:stateMachine:t",
    )
    return Deps(
        settings=settings,
        config=load_config(str(BRAND)),
        store=store,
        sfn=Untouchable(),  # type: ignore[arg-type]
        events=Untouchable(),
        sqs=Untouchable(),
        classifier=None,
        now=lambda: NOW,
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("action", ["reply", "handoff"])
def test_an_action_that_sends_refuses_on_deps_without_delivery_and_writes_nothing(action):
    # Given Deps built without socialcare.assembly (no outbound delivery plugged in)
    store = Untouchable(_case())
    deps = _bare_deps(store)
    # When an agent replies (or hands off, which posts a public note and a private message)
    with pytest.raises(NotWiredError, match="no outbound delivery"):
        actions.perform("SC-AAAAAAAA", action, deps, actor="maria", text="On it", to="dm")
    # Then nothing was written or sent anywhere: the caller knows, and the message is not half-recorded
    assert store.writes == [] and deps.sfn.writes == [] and deps.events.writes == []


def test_the_first_wait_refuses_on_deps_without_acknowledgement_before_storing_its_token():
    store = Untouchable(_case())
    deps = _bare_deps(store)
    opened = {"type": "opened", "department": "baggage", "clock": {"name": "first_response", "seconds": 3600}}
    with pytest.raises(NotWiredError, match="no acknowledgement"):
        actions.store_wait("SC-AAAAAAAA", "token-1", opened, deps)
    assert store.writes == [] and deps.sfn.writes == []


def test_the_composition_root_plugs_in_outbound_delivery_and_the_acknowledgement(monkeypatch):
    import socialcare.outbound
    import socialcare.outbound.ack

    # Given Deps from the composition root, with outbound's functions recording their calls
    calls: list[tuple] = []
    monkeypatch.setattr(socialcare.outbound, "deliver", lambda *a, **kw: calls.append(("deliver", a[2], kw)) or "d")
    monkeypatch.setattr(socialcare.outbound.ack, "acknowledge", lambda *a: calls.append(("ack",)) or None)
    deps = plug_in(_bare_deps(Untouchable()))
    # When the case actions send through the plug-ins
    sent = deps.sender()(deps, _case(), "On it", channel="dm", kind="handoff", idempotency_key="r-1")
    acked = deps.acknowledger()(deps, _case())
    # Then each reaches outbound with what it was given
    assert (sent, acked) == ("d", None)
    assert calls == [("deliver", "On it", {"channel": "dm", "kind": "handoff", "idempotency_key": "r-1"}), ("ack",)]
    assert deps.after_mention is not None and deps.holds
