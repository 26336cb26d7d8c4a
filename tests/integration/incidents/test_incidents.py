"""Incidents in the pipeline: detected as cases open, resolved with one idempotent update."""

from __future__ import annotations

import pytest
from socialcare.incidents.service import Incidents
from socialcare.models import Author, CaseStatus, case_id_for
from socialcare.outbound.port import RateLimiter

from tests.builders import mention
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

OUTAGE = [
    "@SkylarkAir the app will not let me log in, it says my password is wrong. Please fix the login",
    "@SkylarkAir app login broken: it won't accept my password and keeps logging me out, please help",
    "@SkylarkAir cannot log in to the app, login fails with my correct password, please fix it",
    "@SkylarkAir is the app down? login fails for my password on two phones, can't log in",
]


class Recorder:
    def __init__(self) -> None:
        self.sent: list = []

    def send(self, message) -> str:
        self.sent.append(message)
        return f"d{len(self.sent)}"


def test_similar_cases_form_one_incident_and_one_update_reaches_each_customer_once(stack, deps, send):
    # Given four customers reporting the same app login failure and one with an unrelated problem
    outage = [mention(t) for t in OUTAGE]
    other = mention("@SkylarkAir my suitcase is lost in Denver, the baggage desk is closed, please help")
    for m in [*outage, other]:
        send(m)
    service = Incidents(deps, delivery=(recorder := Recorder()), limiter=RateLimiter({}, 1000.0))
    # Then one incident in the owning department links exactly the outage cases
    [incident] = service.list()
    assert incident.department == "airport"
    linked = {m.case_id for m in service.members(incident.id)}
    assert linked == {case_id_for(m.key) for m in outage}
    assert deps.store.get_case(case_id_for(outage[0].key)).incident_id == incident.id
    assert deps.store.get_case(case_id_for(other.key)).incident_id is None
    assert incident.customers == 4 and incident.channels == {"x": 4}
    # When the agent resolves it with one update, twice (a retry)
    for cid in linked:
        wait_for(lambda cid=cid: deps.store.get_case(cid).token_fresh)
    first = service.resolve(incident.id, "The app login is fixed - sorry for the trouble.", actor="kofi")
    again = service.resolve(incident.id, "The app login is fixed - sorry for the trouble.", actor="kofi")
    # Then every customer got exactly one message, recorded on their case, and the cases resolved
    assert first["sent"] == 4 and again["sent"] == 0 and again["already_sent"] == 4
    assert sorted(m.recipient for m in recorder.sent) == sorted(m.customer_key for m in outage)
    for m in outage:
        cid = case_id_for(m.key)
        msgs = [x for x in deps.store.messages(cid) if x.get("incident_id") == incident.id]
        assert len(msgs) == 1 and msgs[0]["direction"] == "out"
        wait_for(lambda cid=cid: deps.store.get_case(cid).status == CaseStatus.RESOLVED)
    done = service.get(incident.id)
    assert done.status == "resolved" and done.updates_sent == 4
    with pytest.raises(Exception, match="already has its update"):
        service.resolve(incident.id, "a different text", actor="kofi")


def test_agents_split_and_merge_incidents_by_hand(stack, deps, send):
    outage = [mention(t) for t in OUTAGE]
    for m in outage:
        send(m)
    service = Incidents(deps, delivery=Recorder(), limiter=RateLimiter({}, 1000.0))
    [incident] = service.list()
    moved = case_id_for(outage[-1].key)
    # When an agent splits one case out
    split = service.split(incident.id, [moved], actor="kofi")
    # Then it sits in its own incident and the counts follow
    assert {m.case_id for m in service.members(split.id)} == {moved}
    assert service.get(incident.id).members == 3 and service.get(incident.id).customers == 3
    assert deps.store.get_case(moved).incident_id == split.id
    # And merging puts them back together
    merged = service.merge(split.id, incident.id, actor="kofi")
    assert merged.members == 4 and merged.customers == 4
    assert service.get(split.id).status == "merged"
    assert deps.store.get_case(moved).incident_id == incident.id


def test_a_silent_customer_with_the_same_problem_is_linked_without_a_case(stack, deps, send):
    for t in OUTAGE[:3]:
        send(mention(t))
    venting = mention(
        "ugh the app will not let me log in, password wrong again, login fails. just venting",
        author=Author(id="quiet1", handle="quiet_one", followers=3),
    )
    send(venting)
    service = Incidents(deps, delivery=Recorder(), limiter=RateLimiter({}, 1000.0))
    [incident] = service.list()
    kinds = sorted(m.kind for m in service.members(incident.id))
    assert kinds == ["case", "case", "case", "mention"]
    assert service.get(incident.id).customers == 4
