"""An action committed on a case always reaches its workflow, whatever happens between the commit and
the resume (SendTaskSuccess): Step Functions throttled or failing after botocore's retries, or the
agent API Lambda dying in between. Through the real agent API handler and the real state machine on
the local stack; the faults are answered on the handlers' own Step Functions client (a botocore hook),
only for the agent API's calls, before they reach moto."""

from __future__ import annotations

import json
import threading
from typing import Any

import botocore.retries.standard
import pytest
from botocore.awsrequest import AWSResponse
from socialcare import aws
from socialcare.agents import AgentClient
from socialcare.models import case_id_for

from tests.builders import mention
from tests.faults import PostCrash, refuse
from tests.integration.agents.test_agent_api import api_event
from tests.integration.conftest import ONE_BREACH_CONFIG, PATIENT_CONFIG, execution, history, wait_for

pytestmark = pytest.mark.integration

FAULTS = {
    "throttled": (400, "ThrottlingException", "Rate exceeded"),
    "unavailable": (503, "ServiceUnavailable", "Service Unavailable"),
}


class ResumeFaults:
    """Answers the agent API's SendTaskSuccess calls with a Step Functions error while `error` is set,
    or dies before sending the first `crashes` of them; the workflow's own calls pass untouched."""

    def __init__(self, agent_thread: str) -> None:
        self.agent_thread = agent_thread
        self.error: tuple[int, str, str] | None = None
        self.crashes = 0
        self.answered = 0
        self._lock = threading.Lock()

    def install(self) -> ResumeFaults:
        events = aws.client("stepfunctions").meta.events
        events.register_first("before-call.states.SendTaskSuccess", self.crash)
        events.register_first("before-send.states.SendTaskSuccess", self.answer)
        return self

    def _ours(self) -> bool:
        return threading.current_thread().name == self.agent_thread

    def crash(self, **kwargs: Any) -> None:
        with self._lock:
            if not self._ours() or self.crashes <= 0:
                return
            self.crashes -= 1
        raise PostCrash("the agent API Lambda died after the commit, before resuming the workflow")

    def answer(self, request: Any, **kwargs: Any) -> AWSResponse | None:
        with self._lock:
            if not self._ours() or self.error is None:
                return None
            self.answered += 1
            status, code, message = self.error
        # The refused call must not resume the wait: tests.faults.refuse keeps it from moto.
        return refuse(request, code, {"__type": code, "message": message}, status)


@pytest.fixture
def faults(stack: Any, monkeypatch: pytest.MonkeyPatch) -> ResumeFaults:
    # botocore's retries run in full (every attempt is answered with the fault), without its back-off sleeps.
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    return ResumeFaults(f"lambda-{stack.functions['AgentApiFunction'].name}").install()


def _open(deps: Any, send: Any, text: str) -> str:
    m = mention(text)
    send(m)
    case_id = case_id_for(m.key)
    wait_for(lambda: deps.store.get_case(case_id).token_fresh)
    return case_id


def _post(stack: Any, case_id: str, action: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = stack.invoke("AgentApiFunction", api_event("POST", f"/cases/{case_id}/{action}", body))
    return response["statusCode"], json.loads(response["body"])


def _resumes(stack: Any, case_id: str) -> list[dict[str, Any]]:
    """What each AwaitAgent wait of the execution was resumed with, in order."""
    return [
        json.loads(e["taskSucceededEventDetails"]["output"])
        for e in history(stack, case_id)
        if e["type"] == "TaskSucceeded" and e["taskSucceededEventDetails"]["resourceType"] == "lambda"
    ]


def _waiting_after(deps: Any, case_id: str, clock: str) -> Any:
    return wait_for(lambda: (c := deps.store.get_case(case_id)).token_fresh and c.clock.name == clock and c, timeout=30)


@pytest.mark.parametrize("stack", [PATIENT_CONFIG], indirect=True)
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_failed_resume_is_busy_and_the_same_request_hands_the_action_over_once(stack, deps, send, faults, fault):
    # Given a case whose workflow waits for an agent, and Step Functions refusing the agent API's resumes
    case_id = _open(deps, send, "@SkylarkAir my suitcase is lost, the baggage desk is closed. Please help")
    waiting = deps.store.get_case(case_id)
    faults.error = FAULTS[fault]
    reply = {"agent": "maria", "text": "Found it - it arrives tonight.", "request_id": "r-1"}
    # When an agent replies
    status, body = _post(stack, case_id, "reply", reply)
    # Then the answer is busy, to be retried with the same request, after botocore retried the resume
    assert (status, body["error"]) == (503, "busy"), body
    assert "retry the same request" in body["message"] and faults.answered > 1
    # and the reply is recorded once and left on the case for the workflow, which still waits
    case = deps.store.get_case(case_id)
    assert case.owner == "maria" and case.first_responded_at is not None
    assert (case.pending_action["type"], case.pending_action["ref"]) == ("reply", "r-1")
    assert case.task_token == waiting.task_token and _resumes(stack, case_id) == []
    # When Step Functions answers again and the agent retries the same request
    faults.error = None
    status, body = _post(stack, case_id, "reply", reply)
    # Then the saved result comes back, and the workflow takes the reply and waits on its follow-up clock
    assert (status, body["replayed"], body["status"]) == (200, True, "claimed"), body
    after = _waiting_after(deps, case_id, "next_update")
    assert after.pending_action is None and after.task_token != waiting.task_token
    assert [r["ref"] for r in _resumes(stack, case_id)] == ["r-1"]
    # and another retry changes nothing: the spent token is refused, the reply is not taken twice
    status, body = _post(stack, case_id, "reply", reply)
    assert (status, body["replayed"]) == (200, True)
    assert [r["ref"] for r in _resumes(stack, case_id)] == ["r-1"]
    assert deps.store.get_case(case_id).task_token == after.task_token
    assert [e["type"] for e in deps.store.events(case_id)].count("case.replied") == 1
    assert len([m for m in deps.store.messages(case_id) if m.get("direction") == "out"]) == 1


@pytest.mark.parametrize("stack", [PATIENT_CONFIG], indirect=True)
def test_a_transfer_whose_lambda_died_before_the_resume_is_finished_by_the_retry(stack, deps, send, faults):
    # Given a baggage case whose workflow waits, and the agent API dying right after its next commit
    case_id = _open(deps, send, "@SkylarkAir lost my bag on the way to Lisbon, please help")
    faults.crashes = 1
    transfer = {"agent": "tom", "to": "customer_care", "note": "compensation claim", "request_id": "t-1"}
    # When an agent transfers the case
    with pytest.raises(PostCrash):
        _post(stack, case_id, "transfer", transfer)
    # Then the transfer is committed and left pending for the workflow, which has not moved it yet
    case = deps.store.get_case(case_id)
    assert case.department == "customer_care" and case.pending_action["type"] == "transfer"
    assert _resumes(stack, case_id) == []
    # When the agent's tool retries the same request
    status, body = _post(stack, case_id, "transfer", transfer)
    # Then the workflow moves the case to its new department's queue, once, and waits there
    assert (status, body["replayed"]) == (200, True), body
    after = wait_for(
        lambda: (c := deps.store.get_case(case_id)).token_fresh and c.task_token != case.task_token and c, timeout=30
    )
    assert after.pending_action is None and after.department == "customer_care"
    assert [(r["type"], r["ref"]) for r in _resumes(stack, case_id)] == [("transfer", "t-1")]
    items = AgentClient(deps, "lena").pull_work_items("customer_care")
    assert [(i["case_id"], i["reason"]) for i in items] == [(case_id, "transfer")]
    assert [e["type"] for e in deps.store.events(case_id)].count("case.transferred") == 1


@pytest.mark.parametrize("stack", [ONE_BREACH_CONFIG], indirect=True)
def test_a_reply_whose_lambda_died_before_the_resume_reaches_the_workflow_at_its_next_wait(stack, deps, send, faults):
    # Given a case waiting on its 5 s first-response clock, and the agent API dying after its next commit
    case_id = _open(deps, send, "@SkylarkAir the check-in kiosk charged me twice, please help")
    faults.crashes = 1
    # When an agent replies and nobody retries
    with pytest.raises(PostCrash):
        _post(stack, case_id, "reply", {"agent": "kofi", "text": "Refund is on its way.", "request_id": "r-9"})
    # Then the wait runs out, and the wait that follows takes the reply instead of waiting
    wait_for(lambda: _resumes(stack, case_id), timeout=60)
    assert [(r["type"], r["ref"]) for r in _resumes(stack, case_id)][0] == ("reply", "r-9")
    assert [e["type"] for e in deps.store.events(case_id)].count("case.replied") == 1
    # and the answered case was not escalated for the clock the reply had already stopped
    assert "Escalate" not in _states_until_resumed(stack, case_id)


def _states_until_resumed(stack: Any, case_id: str) -> list[str]:
    """The states the execution entered up to the first agent action it took."""
    names = []
    for e in history(stack, case_id):
        if e["type"].endswith("StateEntered"):
            names.append(e["stateEnteredEventDetails"]["name"])
            if names[-1] == "NextStep":
                break
    return names


@pytest.mark.parametrize("stack", [ONE_BREACH_CONFIG], indirect=True)
def test_a_resolve_whose_lambda_died_before_the_resume_ends_the_workflow_without_escalating(stack, deps, send, faults):
    # Given a case waiting on its 5 s first-response clock, and the agent API dying after its next commit
    case_id = _open(deps, send, "@SkylarkAir my bag arrived damaged, please help")
    faults.crashes = 1
    # When an agent resolves it and nobody retries
    with pytest.raises(PostCrash):
        _post(stack, case_id, "resolve", {"agent": "ann", "note": "sorted by phone", "request_id": "z-1"})
    assert deps.store.get_case(case_id).status == "resolved" and _resumes(stack, case_id) == []
    # Then the wait runs out and the workflow ends as the resolve asked, without escalating the closed case
    wait_for(lambda: execution(stack, case_id)["status"] != "RUNNING", timeout=60)
    assert execution(stack, case_id)["status"] == "SUCCEEDED"
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in history(stack, case_id) if e["type"].endswith("StateEntered")
    ]
    assert "Escalate" not in entered and entered[-1] == "Closed"
    case = deps.store.get_case(case_id)
    assert (case.breaches, case.escalation_tier) == (0, 0)
    assert [e["type"] for e in deps.store.events(case_id)] == ["case.opened", "case.routed", "case.resolved"]


@pytest.mark.parametrize("stack", [PATIENT_CONFIG], indirect=True)
def test_a_resume_that_goes_through_leaves_nothing_owed(stack, deps, send, faults):
    # Given a waiting case (no fault armed)
    case_id = _open(deps, send, "@SkylarkAir my bag arrived damaged, please help")
    # When an agent replies
    status, body = _post(
        stack, case_id, "reply", {"agent": "ann", "text": "Sorry - claim form sent.", "request_id": "r-2"}
    )
    # Then the workflow is resumed at once, and its next wait drops the pending action it carries (the
    # execution records the resume on its own thread: read its history once that wait is stored)
    assert (status, body["replayed"]) == (200, False), body
    after = _waiting_after(deps, case_id, "next_update")
    assert [r["ref"] for r in _resumes(stack, case_id)] == ["r-2"]
    assert after.pending_action is None and faults.answered == 0


@pytest.mark.parametrize("stack", [ONE_BREACH_CONFIG], indirect=True)
def test_a_reopen_after_a_resolve_whose_resume_was_lost_leaves_the_case_to_its_new_execution(stack, deps, send, faults):
    # Given a case whose resolve was committed but never handed over (the agent API died), reopened at once
    case_id = _open(deps, send, "@SkylarkAir my bag arrived damaged, please help")
    faults.crashes = 1
    with pytest.raises(PostCrash):
        _post(stack, case_id, "resolve", {"agent": "ann", "note": "sorted by phone", "request_id": "z-2"})
    status, body = _post(
        stack, case_id, "reopen", {"agent": "ann", "reason": "not sorted after all", "request_id": "o-1"}
    )
    assert status == 200, body
    # When the first execution's wait runs out
    wait_for(lambda: execution(stack, case_id)["status"] != "RUNNING", timeout=60)
    # Then it ends without escalating or waiting again: the case belongs to the execution the reopen started
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in history(stack, case_id) if e["type"].endswith("StateEntered")
    ]
    assert execution(stack, case_id)["status"] == "SUCCEEDED"
    assert "Escalate" not in entered and entered.count("AwaitAgent") == 1 and entered[-1] == "Closed"
    case = deps.store.get_case(case_id)
    assert case.execution_name == f"{case_id}-r1" and execution(stack, f"{case_id}-r1")["status"] == "RUNNING"
