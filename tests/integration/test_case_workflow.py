"""The case workflow end to end: real handlers, the real ASL executed by moto."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import boto3
import pytest
from socialcare.agents import AgentClient, NotAllowedError
from socialcare.cases.router import route_mention
from socialcare.models import CaseStatus, case_id_for, utcnow

from tests.builders import mention
from tests.integration.conftest import PATIENT_CONFIG, execution, history, wait_for

pytestmark = pytest.mark.integration
# Tests about what actions do run with clocks of minutes, so a loaded machine cannot make an SLA run
# out between their steps; only the breach test keeps the 2 s clocks (its waits are event-driven).
patient = pytest.mark.parametrize("stack", [PATIENT_CONFIG], indirect=True, ids=["patient"])


def _event_bus_tap(stack) -> str:
    """An SQS queue subscribed to every case event, as another department's system would subscribe."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName=f"{stack.stack_name}-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.outputs["EventBusName"]
    events.put_rule(Name="tap", EventBusName=bus, EventPattern=json.dumps({"source": ["socialcare.cases"]}))
    events.put_targets(Rule="tap", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return url


def _drain(url: str) -> list[dict]:
    sqs = boto3.client("sqs")
    out = []
    while msgs := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        out += [json.loads(m["Body"]) for m in msgs]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)]
        )
    return out


def _opened(deps, send, text: str):
    """A mention routed to a new case whose workflow is waiting for the department."""
    m = mention(text)
    send(m)
    case_id = case_id_for(m.key)
    wait_for(lambda: deps.store.get_case(case_id).token_fresh)
    return m, case_id


@patient
def test_happy_path_routes_to_department_and_resolves(stack, deps, send):
    # Given a customer who lost a bag
    tap = _event_bus_tap(stack)
    m = mention("@SkylarkAir my suitcase is lost, the baggage desk is closed. Please help")
    # When the mention is routed and an agent works the case
    send(m)
    case_id = case_id_for(m.key)
    case = wait_for(lambda: (c := deps.store.get_case(case_id)).token_fresh and c)
    assert case.department == "baggage"
    agent = AgentClient(deps, "maria")
    items = agent.pull_work_items("baggage")
    assert [i["case_id"] for i in items] == [case_id]
    agent.claim(case_id)
    agent.reply(case_id, "So sorry - I have traced it and it arrives tonight.")
    agent.resolve(case_id, "bag delivered")
    # Then the execution ends, every change is an event on the case and on the bus
    wait_for(lambda: execution(stack, case_id)["status"] == "SUCCEEDED")
    types = [e["type"] for e in deps.store.events(case_id)]
    assert types == ["case.opened", "case.routed", "case.claimed", "case.replied", "case.resolved"]
    emitted = {e["detail-type"] for e in _drain(tap)}
    assert {"case.opened", "case.routed", "case.claimed", "case.replied", "case.resolved"} <= emitted
    final = deps.store.get_case(case_id)
    assert final.status == CaseStatus.RESOLVED and final.owner == "maria" and final.breaches == 0
    # and the happy path stays within the state-transition budget
    entered = [e for e in history(stack, case_id) if e["type"].endswith("StateEntered")]
    assert len(entered) <= 12


def test_breach_escalates_tier_by_tier_to_the_escalation_queue(stack, deps, send):
    # Given a case nobody answers (first response SLA 2 s, one tier of 1 s grace)
    m = mention("@SkylarkAir the wifi on my flight is broken, please fix it")
    send(m)
    case_id = case_id_for(m.key)
    # When the clocks run out (each step is waited for with a deadline far beyond the 6 s of clocks: a
    # loaded machine slows the steps, never the order)
    case = wait_for(lambda: (c := deps.store.get_case(case_id)).escalation_tier >= 2 and c, timeout=90)
    # Then each tier is recorded on the case and the last tier lands on the escalation queue
    assert case.breaches >= 2
    # (the tier is recorded on the case a step before its event: wait for both events)
    escalations = wait_for(
        lambda: (
            (es := [e for e in deps.store.events(case_id) if e["type"] == "case.escalated"]) and len(es) >= 2 and es
        ),
        timeout=90,
    )
    assert [int(e["tier"]) for e in escalations][:2] == [1, 2]
    assert escalations[0]["breached_clock"] == "first_response"
    sqs = boto3.client("sqs")
    body = wait_for(
        lambda: sqs.receive_message(QueueUrl=stack.outputs["EscalationQueueUrl"]).get("Messages"), timeout=90
    )
    assert json.loads(body[0]["Body"])["case_id"] == case_id
    # and after the stale timer the execution ends rather than waiting forever
    wait_for(lambda: execution(stack, case_id)["status"] == "FAILED", timeout=90)
    assert deps.store.get_case(case_id).stale


@patient
def test_transfer_carries_history_and_running_clock(stack, deps, send):
    # Given an open case in baggage with its first-response clock running
    m = mention("@SkylarkAir lost my bag, please help")
    send(m)
    case_id = case_id_for(m.key)
    before = wait_for(lambda: (c := deps.store.get_case(case_id)).token_fresh and c)
    # When baggage transfers it to customer care
    AgentClient(deps, "tom").transfer(case_id, "customer_care", "compensation claim")
    # Then the new department gets the work item, the history and the same first-response deadline
    after = wait_for(lambda: (c := deps.store.get_case(case_id)).token_fresh and c.department == "customer_care" and c)
    assert after.clock.name == "first_response"
    assert abs(after.clock.due_at - before.clock.due_at) <= timedelta(seconds=1)
    assert after.departments_history == ["baggage", "customer_care"]
    items = AgentClient(deps, "lena").pull_work_items("customer_care")
    assert items and items[0]["case_id"] == case_id and items[0]["reason"] == "transfer"
    types = [e["type"] for e in deps.store.events(case_id)]
    assert "case.transferred" in types


def _escalation_topic_tap(stack) -> str:
    """An SQS queue subscribed to the escalation topic, as a department's pager would subscribe."""
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName=f"{stack.stack_name}-pager")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=stack.outputs["EscalationTopicArn"],
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return url


@patient
def test_a_breach_after_a_transfer_escalates_to_the_department_that_owns_the_case(stack, deps, send):
    # Given a baggage case whose workflow waits on its first-response clock, with taps on the escalation
    # topic and the event bus
    pager, tap = _escalation_topic_tap(stack), _event_bus_tap(stack)
    m = mention("@SkylarkAir lost my bag, please help")
    send(m)
    case_id = case_id_for(m.key)
    wait_for(lambda: (c := deps.store.get_case(case_id)).token_fresh and c.department == "baggage")
    # When baggage transfers it to customer care 597 s into its 600 s clock, and nobody answers there
    late = dataclasses.replace(deps, now=lambda: utcnow() + timedelta(seconds=597))
    AgentClient(late, "tom").transfer(case_id, "customer_care", "compensation claim")
    # Then the breach is escalated to customer care: the page, both bus events, the case's own records
    pages = wait_for(lambda: _drain(pager), timeout=60)
    assert [(p["department"], p["tier"], p["breached_clock"]) for p in pages] == [
        ("customer_care", 1, "first_response")
    ]
    emitted = wait_for(lambda: [e for e in _drain(tap) if e["detail-type"] in {"case.sla_breached", "case.escalated"}])
    assert {e["detail"]["department"] for e in emitted} == {"customer_care"}
    case = deps.store.get_case(case_id)
    assert (case.department, case.escalation_tier, case.breaches) == ("customer_care", 1, 1)
    # and the work item went to customer care once
    items = AgentClient(deps, "lena").pull_work_items("customer_care")
    assert [(i["case_id"], i["reason"]) for i in items] == [(case_id, "transfer")]


def test_duplicate_mention_never_opens_a_second_case(stack, deps, send):
    # Given the same mention delivered three times (redelivery, re-poll)
    m = mention("@SkylarkAir I was charged twice for my booking, refund please")
    # When all three are routed
    send(m, m, m)
    # Then exactly one case and one execution exist
    cases = deps.store.customer_cases(m.customer_key)
    assert [c.id for c in cases] == [case_id_for(m.key)]
    sfn = boto3.client("stepfunctions")
    runs = sfn.list_executions(stateMachineArn=stack.outputs["StateMachineArn"])["executions"]
    assert [r["name"] for r in runs] == [case_id_for(m.key)]


@patient
def test_reply_in_thread_attaches_to_the_open_case(stack, deps, send):
    # Given an open case from a complaint
    first = mention("@SkylarkAir my flight SK12 was cancelled, please rebook me")
    send(first)
    case_id = case_id_for(first.key)
    # When the customer replies in the same conversation (even from another angle)
    reply = mention(
        "also my hotel voucher is missing", author=first.author, conversation_id=first.id, in_reply_to_id=first.id
    )
    send(reply)
    # Then no second case opens; the reply joins the conversation
    assert [c.id for c in deps.store.customer_cases(first.customer_key)] == [case_id]
    texts = [m["text"] for m in deps.store.messages(case_id)]
    assert texts == [first.text, reply.text]


@patient
def test_a_reply_in_the_thread_of_a_case_closed_past_the_reopen_window_opens_a_new_case(stack, deps, send):
    # Given a case resolved longer ago than the brand's reopen window
    first, old = _opened(deps, send, "@SkylarkAir my flight SK12 was cancelled, please rebook me")
    AgentClient(deps, "maria").resolve(old, "rebooked on SK14")
    later = dataclasses.replace(deps, now=lambda: utcnow() + timedelta(seconds=deps.config.reopen_window_s + 60))
    # When the customer writes again in the same thread
    reply = mention(
        "@SkylarkAir the rebooked flight SK14 is cancelled too, please help",
        author=first.author,
        conversation_id=first.id,
        in_reply_to_id=first.id,
    )
    result = route_mention(reply, later)
    # Then a new case opens (the thread and the customer's latest case both point at it), and the
    # old case stays resolved: the customer's latest-case pointer, which the thread lookup never
    # read, is no reason to decide again (it once made every attempt a "race" and the mention a
    # dead letter)
    assert result.outcome == "opened" and result.case_id == case_id_for(reply.key)
    assert deps.store.thread_case(reply.thread_key) == result.case_id
    assert deps.store.latest_case_id(first.customer_key) == result.case_id
    assert deps.store.get_case(old).status == CaseStatus.RESOLVED


@patient
def test_waiting_on_customer_pauses_next_update_until_they_write(stack, deps, send):
    first, case_id = _opened(
        deps, send, "@SkylarkAir the check-in kiosk charged me but gave no boarding pass, please help"
    )
    agent = AgentClient(deps, "kofi")
    agent.reply(case_id, "Can you send the kiosk receipt number?")
    wait_for(lambda: deps.store.get_case(case_id).token_fresh)
    # When the agent waits on the customer, only the resolution clock runs
    agent.wait_customer(case_id)
    waiting = wait_for(lambda: (c := deps.store.get_case(case_id)).token_fresh and c)
    assert waiting.status == CaseStatus.WAITING_CUSTOMER and waiting.clock.name == "resolution"
    # Then a customer reply restarts the next-update clock
    send(mention("receipt is 55-1234", author=first.author, conversation_id=first.id, in_reply_to_id=first.id))
    resumed = wait_for(
        lambda: (c := deps.store.get_case(case_id)).token_fresh and c.status != CaseStatus.WAITING_CUSTOMER and c
    )
    assert resumed.clock.name == "next_update"
    assert "case.customer_replied" in [e["type"] for e in deps.store.events(case_id)]


@patient
def test_actions_that_do_not_fit_the_state_change_nothing(stack, deps, send):
    _, case_id = _opened(deps, send, "@SkylarkAir my bag arrived damaged, please help")
    AgentClient(deps, "ann").claim(case_id)
    version = wait_for(lambda: (c := deps.store.get_case(case_id)).token_fresh and c).version
    with pytest.raises(NotAllowedError, match="owned by ann"):
        AgentClient(deps, "bob").claim(case_id)
    assert deps.store.get_case(case_id).version == version
    # The same request twice has one effect
    first = AgentClient(deps, "ann").reply(case_id, "On it", request_id="req-1")
    again = AgentClient(deps, "ann").reply(case_id, "On it", request_id="req-1")
    assert again.replayed and not first.replayed
    assert sum(1 for e in deps.store.events(case_id) if e["type"] == "case.replied") == 1


def test_bad_messages_go_to_the_dead_letter_queue_and_the_batch_survives(stack, deps, send):
    good = mention("@SkylarkAir my flight is delayed 5 hours, please rebook me")
    send("{not json", json.dumps({"platform": "x", "id": "1"}), good)
    assert deps.store.get_case(case_id_for(good.key)).department == "operations"
    sqs = boto3.client("sqs")
    dead = sqs.receive_message(
        QueueUrl=stack.outputs["MentionsDeadLetterQueueUrl"], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    assert len(dead) == 2
    assert all(d["MessageAttributes"]["reason"]["StringValue"].startswith("invalid mention") for d in dead)
    assert all(d["MessageAttributes"]["source_message_id"]["StringValue"] for d in dead)


def test_venting_is_heard_but_opens_no_case(stack, deps, send):
    m = mention("ugh what a day, never flying again, just venting")
    send(m)
    stored = deps.store.get_mention(m.key)
    assert stored["tags"]["intent"]["value"] == "venting" and "case_id" not in stored
    assert deps.store.customer_cases(m.customer_key) == []
