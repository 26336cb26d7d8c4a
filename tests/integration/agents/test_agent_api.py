"""The agent HTTP API: the Lambda handler invoked as API Gateway would, the real workflow moving."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.integration.conftest import execution, wait_for

pytestmark = pytest.mark.integration


def api_event(method: str, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
    """An API Gateway HTTP API (payload 2.0) event, IAM-authorised."""
    event = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.local",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "t",
            },
            "authorizer": {"iam": {"userArn": "arn:aws:iam::123456789012:user/crm", "userId": "crm"}},
            "requestId": f"r{time.monotonic_ns()}",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": "22/Nov/2026:11:00:00 +0000",
            "timeEpoch": 0,
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }
    return event


def http(stack, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, Any]:
    """An API Gateway HTTP API (payload 2.0) event, IAM-authorised. Local Lambda invocations run one
    at a time, so an action waits until the workflow's await step has run (as a human's pace would)."""
    if method == "POST" and path.startswith("/cases/SC-"):
        from socialcare.assembly import build_deps

        store = build_deps().store
        case_id = path.split("/")[2]
        wait_for(lambda: (c := store.get_case(case_id)).token_fresh or not c.is_open)
    event = api_event(method, path, body, headers)
    response = stack.invoke("AgentApiFunction", event)
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


def test_api_moves_a_case_through_every_action(stack, deps, open_case, x_api):
    # Given a baggage case waiting for an agent
    case_id = open_case("@SkylarkAir my suitcase is lost and the baggage desk is closed, please help")
    # When a CRM tool works it over the API
    status, queue = http(stack, "GET", "/departments/baggage/queue")
    assert status == 200 and case_id in [c["case_id"] for c in queue["cases"]]
    started = time.perf_counter()
    status, out = http(stack, "POST", f"/cases/{case_id}/claim", {"agent": "maria", "department": "baggage"})
    claim_ms = (time.perf_counter() - started) * 1000
    assert (status, out["status"], out["detail"]["owner"]) == (200, "claimed", "maria")
    status, out = http(
        stack, "POST", f"/cases/{case_id}/reply", {"agent": "maria", "text": "On it", "request_id": "r-1"}
    )
    assert status == 200 and out["detail"]["delivery"] == "published"
    # the same request again has one effect
    status, again = http(
        stack, "POST", f"/cases/{case_id}/reply", {"agent": "maria", "text": "On it", "request_id": "r-1"}
    )
    assert status == 200 and again["replayed"] is True
    assert sum(1 for m in deps.store.messages(case_id) if m.get("text") == "On it") == 1
    assert sum(1 for c in x_api.calls if c.request.url.endswith("/2/tweets") and b'"On it"' in c.request.body) == 1
    status, out = http(
        stack,
        "POST",
        f"/cases/{case_id}/handoff",
        {"agent": "maria", "to": "email", "text": "Details please"},
    )
    assert status == 200 and out["detail"]["channel"] == "email"
    status, out = http(
        stack,
        "POST",
        f"/cases/{case_id}/transfer",
        {"agent": "maria", "to": "reservations", "note": "refund"},
    )
    assert status == 200 and out["detail"]["to"] == "reservations"
    wait_for(lambda: (c := deps.store.get_case(case_id)).token_fresh and c.department == "reservations")
    status, out = http(stack, "POST", f"/cases/{case_id}/wait-customer", {"agent": "li"})
    assert status == 200 and out["status"] == "waiting_customer", out
    status, shown = http(stack, "GET", f"/cases/{case_id}")
    assert status == 200 and shown["handoff_channel"] == "email" and shown["status"] == "waiting_customer"
    status, out = http(
        stack,
        "POST",
        f"/cases/{case_id}/resolve",
        {"agent": "li", "note": "refunded"},
        headers={"idempotency-key": "resolve-1"},
    )
    assert status == 200 and out["status"] == "resolved"
    # Then the execution ends, and every action was recorded with who did it
    wait_for(lambda: execution(stack, case_id)["status"] == "SUCCEEDED")
    actors = {(e["type"], e["actor"]) for e in deps.store.events(case_id)}
    assert {
        ("case.claimed", "maria"),
        ("case.replied", "maria"),
        ("case.handed_off", "maria"),
        ("case.transferred", "maria"),
        ("case.waiting_customer", "li"),
        ("case.resolved", "li"),
    } <= actors
    assert claim_ms < 5000


def test_api_errors_are_clear_and_change_nothing(stack, deps, open_case, x_api):
    case_id = open_case("@SkylarkAir my suitcase is lost and the baggage desk is closed, please help")
    http(stack, "POST", f"/cases/{case_id}/claim", {"agent": "maria"})
    before = wait_for(lambda: (c := deps.store.get_case(case_id)).token_fresh and c)
    status, out = http(stack, "POST", f"/cases/{case_id}/claim", {"agent": "tom"})
    assert status == 409 and out["error"] == "refused" and "owned by maria" in out["message"]
    status, out = http(
        stack, "POST", f"/cases/{case_id}/reply", {"agent": "tom", "text": "hi", "department": "inflight"}
    )
    assert status == 409 and "baggage queue" in out["message"]
    status, out = http(stack, "POST", f"/cases/{case_id}/transfer", {"agent": "maria", "to": "nowhere", "note": "x"})
    assert status == 400 and "unknown department" in out["message"]
    assert deps.store.get_case(case_id).version == before.version
    status, out = http(stack, "POST", f"/cases/{case_id}/reply", {"agent": "maria"})
    assert status == 422  # the request model: text is required
    status, out = http(stack, "GET", "/cases/SC-AAAAAAAA")
    assert status == 404 and out["error"] == "not_found"
    status, _ = http(stack, "POST", f"/cases/{case_id}/resolve", {"agent": "maria", "note": "done"})
    assert status == 200
    status, out = http(stack, "POST", f"/cases/{case_id}/resolve", {"agent": "maria", "note": "again"})
    assert status == 409 and "resolved" in out["message"]
