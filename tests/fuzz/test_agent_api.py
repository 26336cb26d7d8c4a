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
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from moto import mock_aws

from tests.fuzz import agent_strategies as a
from tests.fuzz import strategies as s
from tests.fuzz import targets

QUICK = 300
SCALE = int(os.environ.get("SOCIALCARE_FUZZ_SCALE", "16000"))
_COMMON = {"deadline": None, "database": None, "suppress_health_check": list(HealthCheck)}
TABLE = "fuzz-state"
# Every partition key the agent API may touch: one case, a department's open queue, a customer's cases,
# the parity tally (a resolve adds to it).
ALLOWED_PK = re.compile(r"CASE#SC-[A-Z0-9]{8}|DEPT#[a-z][a-z0-9_]{0,39}#OPEN|CUSTOMER#[a-z]+#[\w.-]+|PARITY")
RECREATE_EVERY = 25  # moto deep-copies the whole table on every transaction and scans it for GSIs


@dataclass
class _Context:
    function_name: str = "agent-api"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:agent-api"
    aws_request_id: str = "fuzz"


class RecordingDynamoDB:
    """The boto3 client, noting the partition key of every request: what reached DynamoDB."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.keys: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not callable(method):
            return method

        def call(**kwargs: Any) -> Any:
            self.keys.extend(_partition_keys(kwargs))
            return method(**kwargs)

        return call


def _partition_keys(kwargs: dict[str, Any]) -> list[str]:
    found = []
    for doc in [kwargs, *(next(iter(op.values())) for op in kwargs.get("TransactItems", []))]:
        for field in ("Key", "Item"):
            if field in doc:
                found.append(doc[field]["PK"]["S"])
        if ":pk" in doc.get("ExpressionAttributeValues", {}):
            found.append(doc["ExpressionAttributeValues"][":pk"]["S"])
    return found


class FakeWorkflow:
    """Step Functions as the case sees it: after an action (or a reopen) the workflow waits again."""

    def __init__(self) -> None:
        self.store: Any = None

    def _rearm(self, case_id: str) -> None:
        case = self.store.get_case(case_id)
        if case.is_open:
            self.store.update_case(case_id, case.version, {"token_fresh": True, "task_token": f"tok#{case_id}"})

    def send_task_success(self, taskToken: str, output: str) -> dict[str, Any]:  # noqa: N803
        json.loads(output)
        self._rearm(taskToken.split("#", 1)[1])
        return {}

    def start_execution(self, stateMachineArn: str, name: str, input: str) -> dict[str, Any]:  # noqa: N803, A002
        json.loads(input)
        self._rearm(name.rsplit("-r", 1)[0])
        return {"executionArn": f"{stateMachineArn}:{name}"}


class FakeEvents:
    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        assert all(json.loads(e["Detail"]) for e in Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in Entries]}


class FakeSqs:
    def get_queue_attributes(self, **kwargs: Any) -> dict[str, Any]:
        return {"Attributes": {"ApproximateNumberOfMessages": "0"}}

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        return {"MessageId": "m"}


def _create_table(ddb: Any) -> None:
    ddb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")
        ],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index,
                "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [
                    {"AttributeName": f"GSI{n}PK", "KeyType": "HASH"},
                    {"AttributeName": f"GSI{n}SK", "KeyType": "RANGE"},
                ],
            }
            for n, index in ((1, "OpenByDepartment"), (2, "ByCustomer"))
        ],
    )


class AgentApi:
    """The handler with its Deps: moto DynamoDB behind the real Store, fakes for the rest."""

    def __init__(self, raw_ddb: Any, deps: Any) -> None:
        from agent_api.handler import lambda_handler

        self.handler = lambda_handler
        self.raw_ddb = raw_ddb
        self.deps = deps
        self.ddb: RecordingDynamoDB = deps.store.ddb
        self.seeded = 0
        self.case_id = ""

    def seed(self) -> str:
        """A fresh open case in baggage whose workflow waits for an agent; the table is renewed now and then."""
        from socialcare.models import Author, Case, Scored, SlaPolicy, Tags

        if self.seeded and self.seeded % RECREATE_EVERY == 0:
            self.raw_ddb.delete_table(TableName=TABLE)
            _create_table(self.raw_ddb)
        self.seeded += 1
        now = self.deps.now()
        tag = lambda v: Scored(value=v, confidence=0.9)  # noqa: E731
        case = Case(
            id=f"SC-F{self.seeded:07d}",
            mention_key=f"x#{self.seeded}",
            customer_key="x#u1",
            platform="x",
            author=Author(id="u1", handle="dana", name="<b>Dana</b>", followers=12),
            department="baggage",
            tags=Tags(
                intent=tag("complaint"),
                actionable=tag("yes"),
                department=tag("baggage"),
                sentiment=tag("negative"),
                urgency=tag("none"),
                language=tag("en"),
            ),
            sla=SlaPolicy(first_response_s=3600, next_update_s=14400, resolution_s=172800),
            opened_at=now - timedelta(minutes=5),
            first_response_due=now + timedelta(minutes=55),
            resolution_due=now + timedelta(hours=47),
            task_token=f"tok#SC-F{self.seeded:07d}",
            token_fresh=True,
        )
        self.deps.store.put(self.deps.store.case_item(case))
        self.deps.store.put(
            self.deps.store.message_item(
                case.id,
                {"direction": "in", "text": "my suitcase is lost", "mention_key": case.mention_key},
                now - timedelta(minutes=5),
                "m0",
            )
        )
        self.case_id = case.id
        return case.id

    def call(self, event: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """One request: the response and the partition keys it touched."""
        self.ddb.keys.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Metrics: "no application metrics to publish", per request
            response = self.handler(event, _Context())
        return response, list(self.ddb.keys)


@pytest.fixture
def agent_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[AgentApi]:
    from socialcare.agents import api
    from socialcare.cases import actions
    from socialcare.cases.deps import Deps
    from socialcare.config import load_config
    from socialcare.observability import logger
    from socialcare.settings import Settings
    from socialcare.store import Store

    for k, v in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    # A busy workflow would wait 15 s per request; the fake one is never busy, so this only bounds a bug.
    monkeypatch.setattr(actions, "TOKEN_WAIT_S", 0.5)
    settings_ = Settings(
        stack_name="fuzz",
        table_name=TABLE,
        mentions_queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/fuzz-mentions",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:fuzz-case-workflow",
    )
    config = load_config(settings_.config_path)
    config = config.model_copy(update={"outbound": {}, "acknowledgements": []})  # replies are drafts
    with mock_aws():
        raw = boto3.client("dynamodb", region_name="us-east-1")
        _create_table(raw)
        workflow = FakeWorkflow()
        deps = Deps(
            settings=settings_,
            config=config,
            store=Store(RecordingDynamoDB(raw), TABLE),
            sfn=workflow,
            events=FakeEvents(),
            sqs=FakeSqs(),
            classifier=None,  # type: ignore[arg-type]
        )
        workflow.store = deps.store
        api.set_deps(deps)
        level = logger.log_level
        logger.setLevel("ERROR")
        try:
            yield AgentApi(raw, deps)
        finally:
            logger.setLevel(level)
            api._DEPS.clear()


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
        # Our errors: {"error", "message"}; the resolver's: {"statusCode", "message"} or 422 {"detail"}.
        assert isinstance(doc, dict) and (doc.get("message") or doc.get("detail")), (status, body[:300])
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
