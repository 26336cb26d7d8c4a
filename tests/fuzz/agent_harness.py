"""The agent API's Lambda handler with its Deps, for fuzzing: the real Store on moto DynamoDB (every
partition key it touches recorded), fakes for the workflow, EventBridge and SQS (the workflow re-arms
the case after each action, as its await step would), so thousands of requests run per minute."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from socialcare.agents.sdk import INBOX_ROW

from tests.fuzz.http_loopback import LambdaContext

TABLE = "fuzz-state"
# Every partition key the agent API may touch: one case, a department's open queue, a customer's cases,
# the parity tally (a resolve adds to it).
ALLOWED_PK = re.compile(r"CASE#SC-[A-Z0-9]{8}|DEPT#[a-z][a-z0-9_]{0,39}#OPEN|CUSTOMER#[a-z]+#[\w.-]+|PARITY")
RECREATE_EVERY = 25  # moto deep-copies the whole table on every transaction and scans it for GSIs


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
        ]
        + [
            {
                "IndexName": "InboxByDepartment",
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(INBOX_ROW)},
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                ],
            }
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

    def seed(self, case_id: str | None = None) -> str:
        """A fresh open case in baggage whose workflow waits for an agent (under `case_id` when given); the
        table is renewed now and then."""
        from socialcare.models import Author, Case, Scored, SlaPolicy, Tags

        if self.seeded and self.seeded % RECREATE_EVERY == 0:
            self.raw_ddb.delete_table(TableName=TABLE)
            _create_table(self.raw_ddb)
        self.seeded += 1
        now = self.deps.now()
        tag = lambda v: Scored(value=v, confidence=0.9)  # noqa: E731
        case_id = case_id or f"SC-F{self.seeded:07d}"
        case = Case(
            id=case_id,
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
            task_token=f"tok#{case_id}",
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
            response = self.handler(event, LambdaContext())
        return response, list(self.ddb.keys)


@contextmanager
def agent_api_harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[AgentApi]:
    """The handler wired to moto DynamoDB and the fakes, its logging quietened, for the block's duration."""
    from socialcare.agents import api
    from socialcare.assembly import plug_in
    from socialcare.cases.deps import Deps
    from socialcare.config import load_config
    from socialcare.observability import logger
    from socialcare.settings import Settings
    from socialcare.store import Store

    for k, v in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
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
        deps = plug_in(
            Deps(
                settings=settings_,
                config=config,
                store=Store(RecordingDynamoDB(raw), TABLE),
                sfn=workflow,
                events=FakeEvents(),
                sqs=FakeSqs(),
                classifier=None,  # type: ignore[arg-type]
            )
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
