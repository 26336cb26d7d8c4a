"""Agent actions never wait for the workflow: an action taken while the workflow is not waiting is
accepted at once and left on the case, and the workflow's next wait resumes with it. The workflow's
waits are held back here (a gate in front of the AwaitAction logic) so that the order is certain."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from socialcare.agents import AgentClient
from socialcare.cases import actions
from socialcare.models import CaseStatus, case_id_for

from tests.builders import mention
from tests.integration.conftest import ONE_BREACH_CONFIG, PATIENT_CONFIG, execution, history, wait_for

pytestmark = pytest.mark.integration
# Clocks of minutes for every test here but the one about a timed-out wait: on a loaded machine a 2 or 3 s
# clock can run out between two steps of a test and add a wait it does not expect.
patient = pytest.mark.parametrize("stack", [PATIENT_CONFIG], indirect=True, ids=["patient"])


class Gate:
    """Holds every wait the workflow starts until opened, but for the first `passes` of them; counts the
    waits that reached it."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.held = 0
        self.passes = 0
        self._lock = threading.Lock()

    def wrap(self, original: Any) -> Any:
        def store_wait(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.held += 1
                passing = self.passes > 0
                self.passes -= passing
            if not passing and not self.open.wait(timeout=12):  # below the function's 15 s timeout
                raise AssertionError("the test never opened the gate")
            return original(*args, **kwargs)

        return store_wait


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    g = Gate()
    monkeypatch.setattr(actions, "store_wait", g.wrap(actions.store_wait))
    yield g
    g.open.set()


def _awaits(stack: Any, case_id: str) -> int:
    return sum(
        1
        for e in history(stack, case_id)
        if e["type"] == "TaskStateEntered" and e["stateEnteredEventDetails"]["name"] == "AwaitAgent"
    )


@patient
def test_reply_before_the_workflow_waits_is_accepted_and_applied_by_its_first_wait(stack, deps, send, gate):
    # Given a case whose workflow has not stored its first task token yet
    m = mention("@SkylarkAir my suitcase is lost, the baggage desk is closed. Please help")
    send(m)
    case_id = case_id_for(m.key)
    wait_for(lambda: gate.held >= 1)
    assert not deps.store.get_case(case_id).token_fresh
    # When an agent replies
    result = AgentClient(deps, "maria").reply(case_id, "So sorry - I have traced it and it arrives tonight.")
    # Then the reply is accepted at once (the workflow is still held) and waits on the case
    assert result.status == CaseStatus.CLAIMED
    case = deps.store.get_case(case_id)
    assert case.first_responded_at is not None and case.owner == "maria"
    assert case.pending_action["type"] == "reply" and case.pending_action["clock"]["name"] == "next_update"
    # and the workflow's first wait resumes with it instead of waiting, then waits on the next clock
    gate.open.set()
    after = wait_for(lambda: (c := deps.store.get_case(case_id)).token_fresh and c)
    assert after.clock.name == "next_update" and after.pending_action is None
    assert _awaits(stack, case_id) == 2
    assert [e["type"] for e in deps.store.events(case_id)].count("case.replied") == 1


@patient
def test_transfer_and_reply_while_not_waiting_fold_into_one_pending_action(stack, deps, send, gate):
    # Given a baggage case whose workflow is not waiting
    m = mention("@SkylarkAir lost my bag, please help")
    send(m)
    case_id = case_id_for(m.key)
    wait_for(lambda: gate.held >= 1)
    # When it is transferred and then answered before the workflow waits
    AgentClient(deps, "tom").transfer(case_id, "customer_care", "compensation claim")
    AgentClient(deps, "lena").reply(case_id, "I can help with the compensation claim.")
    pending = deps.store.get_case(case_id).pending_action
    assert pending["type"] == "transfer" and pending["department"] == "customer_care"
    assert pending["clock"]["name"] == "next_update"
    # Then the workflow routes the case to its new department and waits on the reply's clock
    gate.open.set()
    after = wait_for(lambda: (c := deps.store.get_case(case_id)).token_fresh and c)
    assert after.department == "customer_care" and after.clock.name == "next_update"
    items = AgentClient(deps, "lena").pull_work_items("customer_care")
    assert [(i["case_id"], i["reason"]) for i in items] == [(case_id, "transfer")]


@patient
def test_a_reply_before_the_wait_after_a_transfer_sends_the_transfer_work_item_once(stack, deps, send, gate):
    # Given a baggage case whose workflow waits (its later waits are held)
    m = mention("@SkylarkAir lost my bag on the way to Rome, please help")
    gate.passes = 1
    send(m)
    case_id = case_id_for(m.key)
    wait_for(lambda: deps.store.get_case(case_id).token_fresh)
    # When it is transferred (the workflow takes the transfer at once and routes it), and answered in the new
    # department before the workflow's next wait has dropped the transfer it took
    AgentClient(deps, "tom").transfer(case_id, "customer_care", "compensation claim")
    wait_for(lambda: gate.held >= 2)
    AgentClient(deps, "lena").reply(case_id, "I can help with the compensation claim.")
    assert deps.store.get_case(case_id).pending_action["type"] == "transfer"  # the reply folded into it
    gate.open.set()
    # Then the workflow goes on with the reply's clock, and customer care got one work item for the transfer
    after = wait_for(lambda: (c := deps.store.get_case(case_id)).token_fresh and c.clock.name == "next_update" and c)
    assert after.pending_action is None and after.department == "customer_care"
    items = AgentClient(deps, "lena").pull_work_items("customer_care", max_items=10)
    assert [(i["case_id"], i["reason"]) for i in items] == [(case_id, "transfer")]


@patient
def test_resolve_while_not_waiting_ends_the_workflow_at_its_next_wait(stack, deps, send, gate):
    m = mention("@SkylarkAir my bag arrived damaged, please help")
    send(m)
    case_id = case_id_for(m.key)
    wait_for(lambda: gate.held >= 1)
    AgentClient(deps, "ann").resolve(case_id, "sorted by phone")
    assert deps.store.get_case(case_id).pending_action is None
    gate.open.set()
    wait_for(lambda: execution(stack, case_id)["status"] == "SUCCEEDED")


@pytest.mark.parametrize("stack", [ONE_BREACH_CONFIG], indirect=True)
def test_action_on_a_wait_that_timed_out_goes_to_the_next_wait(stack, deps, send, gate):
    # Given a case waiting on its 5 s first-response clock, with the workflow's later waits held (the
    # escalation's tier and the reply's clock are minutes long: nothing else runs out meanwhile)
    m = mention("@SkylarkAir the check-in kiosk charged me but gave no boarding pass, please help")
    gate.passes = 1
    send(m)
    case_id = case_id_for(m.key)
    waiting = wait_for(lambda: (c := deps.store.get_case(case_id)).token_fresh and c)
    # When the clock runs out (the escalation's wait is held) and only then an agent replies
    wait_for(lambda: gate.held >= 2, timeout=60)
    assert deps.store.get_case(case_id).task_token == waiting.task_token  # the case still shows the old wait
    AgentClient(deps, "kofi").reply(case_id, "Can you send the kiosk receipt number?")
    # Then the reply is kept for the next wait (the old token was refused), and applied by it
    assert deps.store.get_case(case_id).pending_action["type"] == "reply"
    gate.open.set()
    after = wait_for(
        lambda: (c := deps.store.get_case(case_id)).token_fresh and c.clock.name == "next_update" and c, timeout=60
    )
    assert after.pending_action is None and after.escalation_tier == 1
    # and the spent token is refused, as Step Functions refuses it (moto answers TaskDoesNotExist where
    # AWS says TaskTimedOut; the product treats both as "that wait is over")
    with pytest.raises(ClientError) as refused:
        boto3.client("stepfunctions").send_task_success(taskToken=waiting.task_token, output="{}")
    assert refused.value.response["Error"]["Code"] in {"TaskTimedOut", "TaskDoesNotExist"}


@patient
def test_incident_resolution_closes_member_cases_whose_workflow_is_not_waiting(stack, deps, send, gate):
    from socialcare.incidents.service import Incidents
    from socialcare.outbound.port import RateLimiter

    from tests.integration.incidents.test_incidents import OUTAGE, Recorder

    # Given three customers with the same outage, their cases linked into one incident, and none of the
    # cases' workflows waiting yet (each first wait is held)
    outage = [mention(t) for t in OUTAGE[:3]]
    send(*outage)
    case_ids = [case_id_for(m.key) for m in outage]
    wait_for(lambda: gate.held >= 3)
    service = Incidents(deps, delivery=Recorder(), limiter=RateLimiter({}, 1000.0))
    [incident] = service.list()
    assert {m.case_id for m in service.members(incident.id)} == set(case_ids)
    assert not any(deps.store.get_case(cid).token_fresh for cid in case_ids)
    # When the incident is resolved with its update
    result = service.resolve(incident.id, "The app login works again - sorry for the trouble.", actor="kofi")
    # Then every member case is resolved at once, through the same resolve action an agent takes
    for cid in case_ids:
        case = deps.store.get_case(cid)
        assert case.status == CaseStatus.RESOLVED and case.pending_action is None
        assert [e["type"] for e in deps.store.events(cid)].count("case.resolved") == 1
    assert result["sent"] == 3 and result["cases_resolved"] == 3
    # and each workflow ends at the wait it was about to start
    gate.open.set()
    for cid in case_ids:
        wait_for(lambda cid=cid: execution(stack, cid)["status"] == "SUCCEEDED", timeout=30)
    # and a retry changes nothing
    again = service.resolve(incident.id, "The app login works again - sorry for the trouble.", actor="kofi")
    assert (again["sent"], again["cases_resolved"]) == (0, 0)
