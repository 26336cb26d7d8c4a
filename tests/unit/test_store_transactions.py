"""Store.transact under every cancellation reason DynamoDB documents for TransactWriteItems
(API reference, TransactionCanceledException / CancellationReason): only a failed condition is a
conflict; every other reason is retried, boundedly, and never read as "already written"."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from socialcare.store import TRANSACT_ATTEMPTS, ConflictError, Store, StoreBusyError

from tests.faults import CANCELLATION_CODES

# The documented codes a cancelled item can carry (one list, tests/faults.py), and one AWS may add later.
TRANSIENT_CODES = [*CANCELLATION_CODES, "SomeReasonAddedLater"]


def cancelled(*codes: str) -> ClientError:
    reasons = [{"Code": c, "Message": "chaos"} if c != "None" else {"Code": "None"} for c in codes]
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": f"cancelled {list(codes)}"},
            "CancellationReasons": reasons,
        },
        "TransactWriteItems",
    )


class FakeDynamo:
    """Answers TransactWriteItems with the queued errors, then succeeds."""

    def __init__(self, *errors: ClientError) -> None:
        self.errors = list(errors)
        self.calls = 0

    def transact_write_items(self, **kwargs: Any) -> dict:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {}


def ops(n: int = 3) -> list[dict]:
    return [{"Put": {"Item": {"PK": {"S": f"K{i}"}, "SK": {"S": "S"}}}} for i in range(n)]


def store(client: FakeDynamo, sleeps: list[float]) -> Store:
    return Store(client, "t", sleep=sleeps.append)


@pytest.mark.parametrize("code", TRANSIENT_CODES)
def test_a_transient_reason_is_retried_then_the_write_goes_through(code):
    # Given a transaction cancelled twice for a reason that is not a failed condition
    sleeps: list[float] = []
    client = FakeDynamo(cancelled("None", code, "None"), cancelled(code, "None", "None"))
    # When it is written
    store(client, sleeps).transact(ops())
    # Then it was retried with bounded, jittered pauses and went through
    assert client.calls == 3
    assert len(sleeps) == 2 and all(0 <= s <= 1.0 for s in sleeps)


@pytest.mark.parametrize("code", TRANSIENT_CODES)
def test_a_reason_that_never_clears_fails_as_busy_never_as_a_conflict(code):
    # Given a table that cancels every attempt
    sleeps: list[float] = []
    client = FakeDynamo(*[cancelled(code, "None", "None") for _ in range(TRANSACT_ATTEMPTS)])
    # When it is written
    with pytest.raises(StoreBusyError) as raised:
        store(client, sleeps).transact(ops())
    # Then the caller learns it is busy (so the work comes back), not that it was done already
    assert not isinstance(raised.value, ConflictError)
    assert raised.value.reasons == [code, "None", "None"]
    assert client.calls == TRANSACT_ATTEMPTS


@pytest.mark.parametrize("index", [0, 1, 2])
def test_a_failed_condition_names_the_item_and_is_not_retried(index):
    # Given a transaction whose condition on one item fails
    codes = ["None"] * 3
    codes[index] = "ConditionalCheckFailed"
    client = FakeDynamo(cancelled(*codes))
    # When it is written
    with pytest.raises(ConflictError) as raised:
        store(client, []).transact(ops())
    # Then the conflict names exactly that item, at once
    assert raised.value.failed == frozenset({index})
    assert client.calls == 1


def test_a_failed_condition_beside_a_transient_reason_is_tried_again_first():
    # Given a condition that fails while another item is in a concurrent transaction
    client = FakeDynamo(
        cancelled("ConditionalCheckFailed", "TransactionConflict"), cancelled("ConditionalCheckFailed", "None")
    )
    # When it is written
    with pytest.raises(ConflictError) as raised:
        store(client, []).transact(ops(2))
    # Then the verdict comes from an attempt that only failed on conditions
    assert raised.value.failed == frozenset({0}) and client.calls == 2


def test_other_errors_are_store_errors():
    client = FakeDynamo(
        ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "TransactWriteItems")
    )
    with pytest.raises(Exception) as raised:
        store(client, []).transact(ops())
    assert type(raised.value).__name__ == "StoreError"
