"""Cancelled transactions through the real RouteMention handler: a busy table is never a duplicate."""

from __future__ import annotations

import threading

import boto3
import pytest
from socialcare import aws
from socialcare.assembly import build_deps, reset_deps
from socialcare.cases.router import route_mention
from socialcare.models import case_id_for
from socialcare.store import TRANSACT_ATTEMPTS

from tests.builders import mention
from tests.faults import CANCELLATION_CODES, TransactionCanceller, first_calls

pytestmark = pytest.mark.integration


@pytest.fixture
def fresh_clients(stack):
    aws.reset_clients()
    reset_deps()
    yield
    aws.reset_clients()
    reset_deps()


def _queue_depth(stack) -> int:
    attrs = boto3.client("sqs").get_queue_attributes(
        QueueUrl=stack.outputs["MentionsQueueUrl"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_a_transaction_conflict_on_the_first_transaction_is_stored_after_redelivery(stack, fresh_clients, caplog):
    # Given a table that cancels the router's transactions with TransactionConflict (concurrent writers
    # on the thread item) for longer than the router's own retries
    canceller = TransactionCanceller(first_calls(TRANSACT_ATTEMPTS, "TransactionConflict"))
    canceller.install(aws.client("dynamodb"))
    m = mention("@SkylarkAir my flight SK88 was cancelled and nobody can rebook me")
    boto3.client("sqs").send_message(QueueUrl=stack.outputs["MentionsQueueUrl"], MessageBody=m.model_dump_json())
    # When the RouteMention handler takes the queue (Lambda's event source: failed records come back)
    with caplog.at_level("WARNING", logger="socialcare"):
        stats = stack.pump("RouteMentionFunction")
    # Then the first delivery failed (not dropped as a duplicate), and said so in the function's log
    # with the message's id and the error, never the mention's text; the redelivery stored it
    assert stats.failed == 1 and stats.received == 2
    failures = [r for r in caplog.records if r.getMessage() == "mention failed; it returns to the queue"]
    assert [(r.receive_count, r.error.split(":")[0]) for r in failures] == [("1", "StoreBusyError")]
    assert all(r.message_id and m.text not in r.error for r in failures)
    deps = build_deps()
    stored = deps.store.get_mention(m.key)
    assert stored is not None and stored["case_id"] == case_id_for(m.key)
    assert deps.store.get_case(case_id_for(m.key)).mention_key == m.key
    assert _queue_depth(stack) == 0
    assert canceller.counter["transaction_cancelled_TransactionConflict"] == TRANSACT_ATTEMPTS


@pytest.mark.parametrize("code", CANCELLATION_CODES)
def test_every_cancellation_reason_leaves_the_mention_stored_once(stack, fresh_clients, code):
    # Given every second transaction cancelled for this reason
    TransactionCanceller(lambda call, items: code if call % 2 else None).install(aws.client("dynamodb"))
    first = mention("@SkylarkAir charged twice for seat selection on booking 4411, refund please")
    reply = mention("still nothing, any news?", author=first.author, conversation_id=first.id, in_reply_to_id=first.id)
    quiet = mention("@SkylarkAir lovely crew today, thanks!")
    sqs = boto3.client("sqs")
    for m in (first, reply, quiet):
        sqs.send_message(QueueUrl=stack.outputs["MentionsQueueUrl"], MessageBody=m.model_dump_json())
    # When they are routed
    stack.pump("RouteMentionFunction")
    # Then each is stored, the reply on the first's case, one case in all
    deps = build_deps()
    case_id = case_id_for(first.key)
    assert deps.store.get_mention(first.key)["case_id"] == case_id
    assert deps.store.get_mention(reply.key)["case_id"] == case_id
    assert deps.store.get_mention(quiet.key) is not None
    assert [x["text"] for x in deps.store.messages(case_id)] == [first.text, reply.text]
    assert deps.store.latest_case_id(first.customer_key) == case_id


def test_concurrent_routers_on_one_customer_open_one_case(stack, fresh_clients):
    # Given one customer's posts, seconds apart, taken by eight routers at the same moment
    deps = build_deps()
    first = mention("@SkylarkAir my bag is lost, claim tag 5521, please help")
    posts = [first] + [mention(f"@SkylarkAir still no bag, claim 5521 ({i})", author=first.author) for i in range(7)]
    barrier = threading.Barrier(len(posts))
    results, errors = [], []

    def route(m):
        barrier.wait()
        try:
            results.append(route_mention(m, deps))
        except Exception as exc:  # noqa: BLE001 - collected and asserted on
            errors.append(exc)

    threads = [threading.Thread(target=route, args=(m,)) for m in posts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then exactly one case opened and every post sits on it
    assert not errors
    opened = [r for r in results if r.outcome == "opened"]
    assert len(opened) == 1
    assert {r.case_id for r in results} == {opened[0].case_id}
    assert len(deps.store.messages(opened[0].case_id)) == len(posts)


OUTAGE = [
    "@SkylarkAir the app will not let me log in, it says my password is wrong. Please fix the login",
    "@SkylarkAir app login broken: it won't accept my password and keeps logging me out, please help",
    "@SkylarkAir cannot log in to the app, login fails with my correct password, please fix it",
    "@SkylarkAir is the app down? login fails for my password on two phones, can't log in",
]


def test_an_incident_membership_the_table_kept_refusing_is_linked_on_redelivery(stack, fresh_clients):
    # Given membership transactions cancelled (TransactionConflict: every member updates the incident
    # item) for longer than the store retries, once
    left = {"n": TRANSACT_ATTEMPTS}

    def pick(call, items):
        member = any(
            str(i.get("Put", {}).get("Item", {}).get("SK", {}).get("S", "")).startswith("MEMBER#") for i in items
        )
        if member and left["n"] > 0:
            left["n"] -= 1
            return "TransactionConflict"
        return None

    TransactionCanceller(pick).install(aws.client("dynamodb"))
    sqs = boto3.client("sqs")
    outage = [mention(t) for t in OUTAGE]
    # When four customers report the same outage, one at a time through the handler
    errors = 0
    for m in outage:
        sqs.send_message(QueueUrl=stack.outputs["MentionsQueueUrl"], MessageBody=m.model_dump_json())
        errors += stack.pump("RouteMentionFunction").failed
    # Then one record failed and came back instead of losing its membership; all four are linked
    from socialcare.incidents.service import Incidents

    deps = build_deps()
    service = Incidents(deps)
    [incident] = service.list()
    assert errors == 1 and left["n"] == 0
    assert {m.case_id for m in service.members(incident.id)} == {case_id_for(m.key) for m in outage}
    assert all(not deps.store.get_mention(m.key).get("incident_pending") for m in outage)
