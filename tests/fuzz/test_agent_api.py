"""The agent HTTP API under hostile input: the real Lambda handler (Powertools resolver, pydantic
models, the action logic and the DynamoDB store under moto) answers every request with a JSON body
and a status code, never a 5xx for bad input and never an unhandled exception. Path-like ids never
reach DynamoDB; markup in a reply is kept as inert JSON text.

The workflow, EventBridge and SQS are fakes (the workflow re-arms the case after each action, as its
await step would), so thousands of requests run per minute. The default run sends a few hundred
requests; `pytest -m slow tests/fuzz/test_agent_api.py` sends 1.25 x SOCIALCARE_FUZZ_SCALE.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz import agent_strategies as a
from tests.fuzz import strategies as s
from tests.fuzz import targets
from tests.fuzz.agent_harness import ALLOWED_PK, AgentApi

QUICK = 300
SCALE = int(os.environ.get("SOCIALCARE_FUZZ_SCALE", "16000"))
_COMMON = {"deadline": None, "database": None, "suppress_health_check": list(HealthCheck)}


# ------------------------------------------------------------------ the property
def _check_response(response: Any, event: dict[str, Any]) -> dict[str, Any] | None:
    assert isinstance(response, dict) and isinstance(response.get("statusCode"), int), response
    status = response["statusCode"]
    assert 200 <= status < 500, (status, response.get("body", "")[:500], event["rawPath"][:200])
    body = response.get("body")
    if response.get("isBase64Encoded"):
        raise AssertionError("the agent API answers JSON text, never base64")
    doc = json.loads(body) if body else None
    if status >= 400:
        # One error shape for every answer of the function: a kind and a message (and 422's fields).
        assert isinstance(doc, dict) and doc.get("error") and doc.get("message"), (status, body[:300])
        assert (status == 422) == bool(doc.get("detail")), (status, body[:300])
    return doc


def _send(api_: AgentApi, event: dict[str, Any]) -> tuple[int, Any, list[str]]:
    targets.COUNTS["agent-api"] += 1
    case_id = api_.seed() if a.SEEDED in event["rawPath"] else None
    if case_id:
        event["rawPath"] = event["rawPath"].replace(a.SEEDED, case_id)
        event["requestContext"]["http"]["path"] = event["rawPath"]
    response, keys = api_.call(event)
    doc = _check_response(response, event)
    for key in keys:
        assert ALLOWED_PK.fullmatch(key), (key[:200], event["rawPath"][:200])
    return response["statusCode"], doc, keys


def _run(api_: AgentApi, examples: int) -> None:
    statuses: dict[int, int] = {}

    @settings(max_examples=examples, **_COMMON)
    @given(event=a.events())
    def run(event: dict[str, Any]) -> None:
        status, _, _ = _send(api_, event)
        statuses[status] = statuses.get(status, 0) + 1

    before = targets.COUNTS["agent-api"]
    run()
    assert targets.COUNTS["agent-api"] - before >= min(examples, 50)
    # The inputs reach past validation too: some requests act on a real case.
    assert statuses.get(200, 0) > 0 and statuses.get(422, 0) > 0 and statuses.get(404, 0) > 0, statuses


def test_agent_api_never_raises_nor_answers_5xx(agent_api: AgentApi) -> None:
    _run(agent_api, QUICK)


@pytest.mark.slow
def test_agent_api_at_scale(agent_api: AgentApi) -> None:
    _run(agent_api, int(SCALE * 1.25))


# ------------------------------------------------------------------ specific hostile shapes
def test_path_like_ids_are_refused_before_dynamodb(agent_api: AgentApi) -> None:
    # Given ids shaped like paths, encodings, NUL, huge or look-alike unicode
    for ident in a.PATH_LIKE_IDS:
        for method, suffix in [("GET", ""), *(("POST", f"/{action}") for action in a.ACTIONS)]:
            body = json.dumps(a.VALID_BODIES.get(suffix[1:], {})) if method == "POST" else None
            # When each route is asked about it
            status, doc, keys = _send(agent_api, a.http_event(method, f"/cases/{ident}{suffix}", body))
            # Then it is a 4xx and nothing was read or written (the resolver's route pattern ends in `$`,
            # which matches before a final newline: that id reads the well-formed case it names, nothing else)
            assert 400 <= status < 500, (ident, suffix, status)
            assert keys == [] or (ident == "SC-AAAAAAAA\n" and set(keys) == {"CASE#SC-AAAAAAAA"}), (ident, keys)
    for dept in a.PATH_LIKE_DEPARTMENTS:
        status, _, keys = _send(agent_api, a.http_event("GET", f"/departments/{dept}/queue"))
        assert 400 <= status < 500 and keys == [], (dept, status, keys)


def test_script_in_a_reply_is_kept_as_inert_json_text(agent_api: AgentApi) -> None:
    # Given a case and a reply carrying markup and script
    case_id = agent_api.seed()
    markup = "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>\"'&amp;"
    # When an agent tool sends it
    status, out, _ = _send(
        agent_api,
        a.http_event("POST", f"/cases/{case_id}/reply", json.dumps({"agent": "<b>maria</b>", "text": markup})),
    )
    assert status == 200 and out["detail"]["delivery"] == "draft"
    # Then it is stored verbatim, and read back as a JSON string value, served as JSON (never HTML)
    stored = [m["text"] for m in agent_api.deps.store.messages(case_id) if m.get("direction") == "out"]
    assert stored == [markup]
    response, _ = agent_api.call(a.http_event("GET", f"/cases/{case_id}"))
    assert response["headers"]["Content-Type"] == "application/json"
    shown = json.loads(response["body"])
    assert [m["text"] for m in shown["conversation"] if m["direction"] == "out"] == [markup]
    assert shown["author"]["name"] == "<b>Dana</b>" and shown["owner"] == "<b>maria</b>"


def test_oversized_idempotency_key_is_a_400_not_a_500(agent_api: AgentApi) -> None:
    # Given a valid reply whose Idempotency-Key header is longer than DynamoDB allows in a key
    case_id = agent_api.seed()
    for key in ("k" * 2_000, "ü" * 600, ""):
        event = a.http_event(
            "POST",
            f"/cases/{case_id}/claim",
            json.dumps({"agent": "maria"}),
            headers={"content-type": "application/json", "idempotency-key": key},
        )
        # When it is sent, Then it is refused as invalid (or, when empty, ignored), never a 5xx
        status, doc, _ = _send(agent_api, event)
        if key:
            assert (status, doc["error"]) == (400, "invalid"), (status, doc)
            assert "Idempotency-Key" in doc["message"]
        else:
            assert status == 200


def test_missing_iam_identity_and_headers_are_tolerated(agent_api: AgentApi) -> None:
    case_id = agent_api.seed()
    for authorizer in ("absent", None, {}, {"iam": None}):
        event = a.http_event(
            "POST", f"/cases/{case_id}/claim", json.dumps({"agent": "maria"}), headers=None, authorizer=authorizer
        )
        status, _, _ = _send(agent_api, event)
        assert status == 200


def test_undecodable_deep_and_oversized_bodies_are_4xx(agent_api: AgentApi) -> None:
    # Given a real case, and bodies the resolver used to raise on (invalid UTF-8, bad base64, deep nesting)
    case_id = agent_api.seed()
    path = f"/cases/{case_id}/reply"
    b64 = lambda raw: base64.b64encode(raw).decode("ascii")  # noqa: E731
    cases = [
        (a.http_event("POST", path, b64(b'{"agent": "\xff\xfe", "text": "x"}'), is_base64=True), 400),
        (
            a.http_event("POST", path, b64(json.dumps({"agent": "m", "text": "x"}).encode("utf-16")), is_base64=True),
            400,
        ),
        (a.http_event("POST", path, "abc", is_base64=True), 400),
        (a.http_event("POST", path, s.deeply_nested(10_000)), 422),
        (a.http_event("POST", path, s.deeply_nested(100_000)), 422),
        (a.http_event("POST", path, "[" * 1_000_000), 422),
        (a.http_event("POST", path, json.dumps({"agent": "maria", "text": "x" * 2_000_000})), 422),
    ]
    for event, expected in cases:
        # When each is sent, Then it is refused with a JSON error and the case is untouched
        status, doc, _ = _send(agent_api, event)
        assert status == expected, (status, doc)
    assert agent_api.deps.store.get_case(case_id).version == 0
