"""BatchWriteItem's contract, which moto does not enforce: UnprocessedItems are sent again, and items a
throttled table never takes are a busy error, never taken for written."""

from __future__ import annotations

import pytest
from socialcare.incidents.index import DynamoIndex
from socialcare.store import BATCH_WRITE_ITEMS, TRANSACT_ATTEMPTS, Store, StoreBusyError, to_item

from tests.faults import UnprocessedItems, leave_all, leave_half_first
from tests.unit.security.test_privacy import store as store  # noqa: F401 - the moto table fixture
from tests.unit.test_store_batch_get import _member, _no_wait


def _items(n: int) -> list[dict]:
    return [to_item({"PK": f"BATCH#{i}", "SK": "I", "n": i}) for i in range(n)]


def _stored(store: Store, n: int) -> int:
    return sum(
        bool(store.ddb.get_item(TableName=store.table, Key={"PK": {"S": f"BATCH#{i}"}, "SK": {"S": "I"}}).get("Item"))
        for i in range(n)
    )


def test_every_item_is_written_in_requests_of_at_most_25_however_many_come_back_unprocessed(store: Store) -> None:
    # Given a table that leaves half of each of the first four requests unwritten
    slept = _no_wait(store)
    fault = UnprocessedItems(leave_half_first(4)).install(store.ddb)
    sent: list[int] = []
    # When 60 items are put
    store.batch_put(_items(60), counted=sent.append)
    # Then all 60 are stored, no request carried more than 25, the unwritten ones were sent again after
    # a wait, and every request was counted
    assert _stored(store, 60) == 60
    assert max(len(r[store.table]) for r in fault.requests) <= BATCH_WRITE_ITEMS
    assert fault.left > 0 and len(slept) == 4
    assert sent == [len(r[store.table]) for r in fault.requests]


def test_items_a_throttled_table_never_takes_are_a_busy_error(store: Store) -> None:
    # Given a table that never processes a write
    _no_wait(store)
    fault = UnprocessedItems(leave_all).install(store.ddb)
    # When 3 items are put, Then the store says busy after its attempts, and nothing was written
    with pytest.raises(StoreBusyError, match="3 items unprocessed"):
        store.batch_put(_items(3))
    assert fault.calls == TRANSACT_ATTEMPTS
    fault.leave = lambda call, entries: []
    assert _stored(store, 3) == 0


def test_an_incident_member_whose_write_stays_unprocessed_fails_busy_for_the_router_to_retry(store: Store) -> None:
    # Given an incident index on a table that leaves every write unprocessed
    index = DynamoIndex(store)
    _no_wait(store)
    bands = ["b1", "b2"]
    fault = UnprocessedItems(leave_all).install(store.ddb)
    # When a member is added, Then the index says busy (the router flags the mention and its record is
    # redelivered) instead of returning as if the member were in its buckets
    with pytest.raises(StoreBusyError):
        index.add(_member("case#one", 1_000.0), bands, {}, ttl_s=3600)
    # And once the table takes writes, the same add stores the member in every band and its signature
    fault.leave = lambda call, entries: []
    index.add(_member("case#one", 1_000.0), bands, {}, ttl_s=3600)
    assert {b: [k for k, _ in v] for b, v in index.buckets("baggage", bands).items()} == {
        b: ["case#one"] for b in bands
    }
    assert set(index.signatures(["case#one"])) == {"case#one"}
    assert index.cost.counts["requests"] == TRANSACT_ATTEMPTS + 1 + 1 + 1
