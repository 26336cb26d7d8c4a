"""What the agent API answers 503 for, now that an action never waits for the workflow: the case kept
changing under the request, the table stayed busy, or a message the request sends has an earlier attempt
not settled yet. Each is a 503 "busy" with Retry-After, and the same request again finishes the action
once. The real handler and Store on moto DynamoDB; the workflow, EventBridge and SQS are fakes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from socialcare.store import case_key, to_item

from tests.fuzz.agent_harness import TABLE, AgentApi, agent_api_harness
from tests.integration.agents.test_agent_api import api_event

pytestmark = pytest.mark.integration

REPLY = {"agent": "maria", "text": "Found it - on its way tonight.", "request_id": "r-1"}


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[AgentApi]:
    with agent_api_harness(monkeypatch) as harness:
        yield harness


def _reply(api: AgentApi, case_id: str) -> tuple[int, dict[str, str], dict[str, Any]]:
    response, _ = api.call(api_event("POST", f"/cases/{case_id}/reply", REPLY))
    return response["statusCode"], response.get("headers") or {}, json.loads(response["body"])


def _recorded(api: AgentApi, case_id: str) -> tuple[int, int]:
    """(replies on the conversation, ACTION records) for the case."""
    out = [m for m in api.deps.store.messages(case_id) if m.get("direction") == "out"]
    action = api.deps.store.get({"PK": {"S": f"CASE#{case_id}"}, "SK": {"S": "ACTION#r-1"}})
    return len(out), int(action is not None)


def _finishes_once(api: AgentApi, case_id: str) -> None:
    status, _, body = _reply(api, case_id)
    assert (status, body["status"], body["replayed"]) == (200, "claimed", False), body
    again, _, replay = _reply(api, case_id)
    assert (again, replay["replayed"]) == (200, True)
    assert _recorded(api, case_id) == (1, 1)


class Interfering:
    """The Store's DynamoDB client with, in front of every transaction, another writer changing the case
    first (a real failed condition, from the data) or a table that cancels it as throttled."""

    def __init__(self, client: Any, case_id: str, fault: str) -> None:
        self.client, self.case_id, self.fault, self.calls = client, case_id, fault, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.fault == "another writer":
            self.client.update_item(
                TableName=TABLE,
                Key=case_key(self.case_id),
                UpdateExpression="ADD version :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        elif self.fault == "throttled":
            reasons = [{"Code": "ThrottlingError" if i == 0 else "None"} for i in range(len(kwargs["TransactItems"]))]
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                    "CancellationReasons": reasons,
                },
                "TransactWriteItems",
            )
        return self.client.transact_write_items(**kwargs)


@pytest.mark.parametrize(("fault", "said"), [("another writer", "kept changing"), ("throttled", "ThrottlingError")])
def test_a_case_that_keeps_changing_or_a_busy_table_is_503_busy_and_the_same_request_finishes_once(api, fault, said):
    # Given a waiting case, and every transaction on it beaten by another writer (or the table throttled)
    case_id = api.seed()
    store = api.deps.store
    client = store.ddb
    store.ddb = interfering = Interfering(client, case_id, fault)
    # When an agent replies
    status, headers, body = _reply(api, case_id)
    # Then the answer is busy, to be retried, and the case records no reply
    assert (status, body["error"], headers.get("Retry-After")) == (503, "busy", "1"), body
    assert said in body["message"] and interfering.calls > 1
    assert _recorded(api, case_id) == (0, 0)
    # And once the case is left alone, the same request finishes the reply exactly once
    store.ddb = client
    _finishes_once(api, case_id)


def test_a_message_with_an_unsettled_earlier_attempt_is_503_busy_until_it_settles(api):
    # Given a waiting case whose reply r-1 has an earlier delivery attempt that has not settled (it may
    # still reach the platform)
    case_id = api.seed()
    intent = {
        "PK": f"CASE#{case_id}",
        "SK": "OUTBOUND#r-1-0",
        "at": api.deps.now().isoformat(),
        "kind": "reply",
        "platform": "x",
    }
    api.deps.store.put(to_item(intent))
    # When the agent sends the same reply again
    status, headers, body = _reply(api, case_id)
    # Then it is busy, not refused and not sent a second time
    assert (status, body["error"], headers.get("Retry-After")) == (503, "busy", "1"), body
    assert "unsettled" in body["message"] and _recorded(api, case_id) == (0, 0)
    # And once that attempt is settled (here: kept as a draft for a person), the same request finishes once
    api.deps.store.put(
        to_item(
            {
                **intent,
                "mode": "draft",
                "reason": "no write credentials",
                "channel": "public",
                "text": REPLY["text"],
                "idempotency_key": "r-1-0",
            }
        )
    )
    _finishes_once(api, case_id)
