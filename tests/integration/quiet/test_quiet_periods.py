"""Quiet periods: promotional posts and automatic messages to the region are held, service goes out;
a tragedy spike proposes a quiet period and never starts one."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest
from socialcare.models import Author, case_id_for
from socialcare.outbound import deliver
from socialcare.quiet.api import app, set_deps
from socialcare.quiet.service import Quiet, QuietError

from tests.builders import mention
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


class Recorder:
    def __init__(self) -> None:
        self.sent: list = []

    def send(self, message) -> str:
        self.sent.append(message)
        return f"d{len(self.sent)}"


def _tap(stack) -> str:
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName=f"{stack.stack_name}-quiet-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.outputs["EventBusName"]
    events.put_rule(Name="quiet-tap", EventBusName=bus, EventPattern=json.dumps({"source": ["socialcare.quiet"]}))
    events.put_targets(Rule="quiet-tap", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return url


def test_quiet_period_holds_promotional_posts_for_the_region_and_releases_on_request(stack, deps):
    quiet = Quiet(deps, delivery=(out := Recorder()))
    now = deps.now()
    promo = quiet.schedule(now - timedelta(seconds=1), "Flash sale to Mexico City!", region="MX", kind="promotional")
    service = quiet.schedule(now - timedelta(seconds=1), "Airport PTY open again", region="PA", kind="service")
    elsewhere = quiet.schedule(now - timedelta(seconds=1), "Fares to Boston", region="us-east", kind="promotional")
    # Given a quiet period for latam (which includes MX and PA)
    period = quiet.start("latam", now + timedelta(hours=6), "hurricane", actor="ops")
    # When the scheduler runs
    counts = quiet.publish_due()
    # Then the promotional post to the region is held, service and other regions go out
    assert counts == {"published": 2, "held": 1}
    assert {m.text for m in out.sent} == {service.text, elsewhere.text}
    held = quiet.held(period.id)
    assert [h["id"] for h in held] == [promo.id]
    # and a second run changes nothing (held, not retried, not dropped)
    assert quiet.publish_due() == {"published": 0, "held": 0}
    # When the operator ends the period and releases what was held, it goes out once
    quiet.end(period.id, actor="ops")
    assert quiet.release(quiet_id=period.id, actor="ops") == 1
    assert quiet.release(quiet_id=period.id, actor="ops") == 0
    assert [m.text for m in out.sent].count(promo.text) == 1
    assert [p.status for p in quiet.posts() if p.id == promo.id] == ["released"]
    with pytest.raises(QuietError, match="unknown region"):
        quiet.start("atlantis", now + timedelta(hours=1), "x", actor="ops")


def test_acknowledgements_are_held_but_service_replies_still_go_out(stack, deps, send):
    m = mention("@SkylarkAir my suitcase is lost in Cancun, please help", region="MX")
    send(m)
    case = deps.store.get_case(case_id_for(m.key))
    quiet = Quiet(deps)
    period = quiet.start("latam", deps.now() + timedelta(hours=2), "hurricane", actor="ops")
    ack = deliver(
        deps, case, "Thanks, we got your message", channel="public", kind="acknowledgement", idempotency_key="ack-1"
    )
    reply = deliver(deps, case, "I have found your bag", channel="public", kind="reply", idempotency_key="reply-1")
    assert ack.mode == "held" and period.id in ack.reason
    assert reply.mode != "held"
    held = quiet.held(period.id)
    assert [h["case_id"] for h in held] == [case.id]
    assert quiet.cancel(quiet_id=period.id, actor="ops") == 1 and quiet.held(period.id) == []


def test_a_tragedy_spike_in_one_region_proposes_a_quiet_period_once_and_never_starts_one(stack, deps, send):
    tap = _tap(stack)
    posts = [
        "@SkylarkAir my parents were on the flight to Puerto Alba before the hurricane, did it land?",
        "@SkylarkAir the hurricane hit Puerto Alba, is SK 1442 safe? we can't reach them",
        "@SkylarkAir ¿el vuelo a Puerto Alba despegó? llegó el huracán y no contesta",
        "@SkylarkAir any news from Puerto Alba after the hurricane? my brother flew in",
    ]
    for i, text in enumerate(posts):
        send(mention(text, region="latam", author=Author(id=f"fam{i}", handle=f"fam{i}", followers=50)))
    sqs = boto3.client("sqs")
    got = wait_for(lambda: sqs.receive_message(QueueUrl=tap, MaxNumberOfMessages=10).get("Messages"))
    suggested = [json.loads(g["Body"]) for g in got if json.loads(g["Body"])["detail-type"] == "quiet.suggested"]
    assert len(suggested) == 1 and suggested[0]["detail"]["region"] == "latam"
    assert Quiet(deps).list() == []  # proposed to a human, never started


def test_http_api_starts_lists_and_ends_a_quiet_period(stack, deps):
    set_deps(deps)

    def call(method: str, path: str, body: dict | None = None) -> dict:
        event = {
            "version": "2.0",
            "routeKey": f"{method} {path}",
            "rawPath": path,
            "rawQueryString": "",
            "headers": {"content-type": "application/json"},
            "isBase64Encoded": False,
            "requestContext": {"http": {"method": method, "path": path}, "stage": "$default"},
            "body": json.dumps(body) if body else None,
        }
        return app.resolve(event, None)

    until = (deps.now() + timedelta(hours=3)).isoformat()
    started = call("POST", "/quiet-periods", {"region": "latam", "until": until, "reason": "storm", "operator": "ana"})
    assert started["statusCode"] == 200
    qid = json.loads(started["body"])["id"]
    assert [p["id"] for p in json.loads(call("GET", "/quiet-periods")["body"])] == [qid]
    assert (
        call("POST", "/quiet-periods", {"region": "nowhere", "until": until, "reason": "x", "operator": "a"})[
            "statusCode"
        ]
        == 400
    )
    ended = call("POST", f"/quiet-periods/{qid}/end", {"operator": "ana"})
    assert ended["statusCode"] == 200 and json.loads(ended["body"])["ended_by"] == "ana"
