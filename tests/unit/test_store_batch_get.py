"""BatchGetItem's contract, which moto does not enforce: UnprocessedKeys are asked again, every caller
gets what it asked for or a busy error, never an unread item taken for a missing one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from socialcare.cases.learning import training_set
from socialcare.incidents.index import DynamoIndex, Member
from socialcare.ingest.errors import IngestError
from socialcare.ingest.sinks import DynamoSeenIndex
from socialcare.models import Author, Mention
from socialcare.store import BATCH_GET_KEYS, TRANSACT_ATTEMPTS, Store, StoreBusyError, from_item, mention_key

from tests.faults import UnprocessedKeys, leave_all, leave_half_first
from tests.unit.security.test_privacy import store as store  # noqa: F401 - the moto table fixture
from tests.unit.test_learning_from_cases import CONFIG, _case, _event


def _no_wait(store: Store) -> list[float]:
    slept: list[float] = []
    store.sleep = slept.append
    return slept


def _mentions(store: Store, n: int) -> list[str]:
    now = datetime.now(UTC)
    keys = []
    for i in range(n):
        m = Mention(
            platform="x", id=f"b{i}", author=Author(id=f"p{i}", handle=f"p{i}"), text=f"post {i}", created_at=now
        )
        store.put(store.mention_item(m, None, None, 90))
        keys.append(m.key)
    return keys


def test_every_key_is_read_in_requests_of_at_most_100_however_many_come_back_unprocessed(store: Store) -> None:
    # Given 250 stored mentions (asked for with repeats), and a table that leaves half of the keys of
    # each of the first four requests unprocessed
    keys = _mentions(store, 250)
    slept = _no_wait(store)
    fault = UnprocessedKeys(leave_half_first(4)).install(store.ddb)
    # When they are read with a projection, strongly consistent
    found, left = store.batch_get(
        [mention_key(k) for k in keys + keys[:30]], "PK, #t", {"#t": "mention"}, consistent=True
    )
    # Then every one is found once, none left, and no request asked for more than 100 keys or dropped
    # the projection or the consistency when it asked again
    assert sorted(from_item(i)["PK"] for i in found) == sorted(f"MENTION#{k}" for k in keys)
    assert left == [] and fault.left > 0
    sizes = [len(r["t"]["Keys"]) for r in fault.requests]
    assert max(sizes) <= BATCH_GET_KEYS and sum(sizes) == 250 + fault.left
    assert all(r["t"]["ProjectionExpression"] == "PK, #t" and r["t"]["ConsistentRead"] for r in fault.requests)
    assert {"mention"} == set(from_item(found[0])) - {"PK"}
    assert len(slept) == 4 and all(0 <= s <= 1.0 for s in slept)  # a backoff before each retry


def test_keys_a_throttled_table_keeps_unprocessed_are_returned_or_raised_as_busy(store: Store) -> None:
    # Given a table that never processes a key
    keys = _mentions(store, 3)
    slept = _no_wait(store)
    fault = UnprocessedKeys(leave_all).install(store.ddb)
    # When they are read, Then the reader is told which keys stayed unread after the bounded retries
    found, left = store.batch_get([mention_key(k) for k in keys], "PK")
    assert found == [] and sorted(from_item(k)["PK"] for k in left) == sorted(f"MENTION#{k}" for k in keys)
    assert fault.calls == TRANSACT_ATTEMPTS and len(slept) == TRANSACT_ATTEMPTS - 1
    # And a reader that needs all of them gets a busy error, not a shorter answer
    with pytest.raises(StoreBusyError, match="unprocessed"):
        store.batch_get_all([mention_key(k) for k in keys], "PK")


def _resolved_cases(store: Store, n: int) -> None:
    for i in range(n):
        case = _case(store, i, f"my suitcase number {i} never arrived", "baggage", status="resolved")
        _event(store, case, "case.resolved")


def test_a_retrain_reads_every_opening_mention_the_table_left_unprocessed_at_first(store: Store) -> None:
    # Given 120 resolved cases, and a table that leaves half of the first two BatchGetItems unprocessed
    _resolved_cases(store, 120)
    _no_wait(store)
    fault = UnprocessedKeys(leave_half_first(2)).install(store.ddb)
    # When the training set is read
    ts = training_set(store, CONFIG)
    # Then every case has its text (none taken for a mention without text)
    assert fault.left > 0
    assert ts.counts()["department_labels"] == 120 and ts.no_text == 0


def test_a_retrain_on_a_table_that_stays_throttled_is_busy_not_short_of_labels(store: Store) -> None:
    # Given resolved cases on a table that never processes a key
    _resolved_cases(store, 5)
    _no_wait(store)
    UnprocessedKeys(leave_all).install(store.ddb)
    # When the training set is read, Then it fails as busy (try again), not as cases without text
    with pytest.raises(StoreBusyError):
        training_set(store, CONFIG)


def _member(key: str, at: float) -> Member:
    return Member(
        key=key,
        kind="case",
        department="baggage",
        words=frozenset({"belt", "heathrow"}),
        at=at,
        customer_key=f"x:{key}",
        platform="x",
        case_id=key,
    )


def _bucket_keys(call: int, keys: list[dict]) -> list[dict]:
    """Half the band buckets of the first read, unprocessed."""
    return [k for k in keys if k["PK"]["S"].startswith("LSH#")][::2] if call == 1 else []


def test_an_incident_member_stays_in_every_bucket_when_its_read_came_back_partly_unprocessed(store: Store) -> None:
    # Given a member indexed in four bands, and a table that leaves half of the next read's buckets
    # unprocessed
    index = DynamoIndex(store)
    _no_wait(store)
    bands = ["b1", "b2", "b3", "b4"]
    first = _member("case#one", 1_000.0)
    index.add(first, bands, index.buckets("baggage", bands), ttl_s=3600)
    fault = UnprocessedKeys(_bucket_keys).install(store.ddb)
    # When a second member reads its buckets and writes them back with itself added
    buckets = index.buckets("baggage", bands)
    second = _member("case#two", 1_010.0)
    index.add(second, bands, buckets, ttl_s=3600)
    # Then every band still holds the first member (none was read as empty and overwritten), each
    # bucket read strongly consistent, and the retries counted as requests
    assert fault.left == 2
    assert {b: [k for k, _ in v] for b, v in index.buckets("baggage", bands).items()} == {
        b: ["case#one", "case#two"] for b in bands
    }
    assert all(r["t"].get("ConsistentRead") for r in fault.requests)
    assert index.cost.counts["items_read"] == 4 + 4 + 2 + 4
    # And the signatures of both are read back whole
    fault.leave = leave_half_first(fault.calls + 1)
    assert set(index.signatures(["case#one", "case#two"])) == {"case#one", "case#two"}


def test_an_incident_index_on_a_table_that_stays_throttled_fails_busy_and_writes_nothing(store: Store) -> None:
    # Given a member indexed in two bands, then a table that never processes a key
    index = DynamoIndex(store)
    _no_wait(store)
    index.add(_member("case#one", 1_000.0), ["b1", "b2"], {}, ttl_s=3600)
    fault = UnprocessedKeys(leave_all).install(store.ddb)
    # When the next member reads its buckets, Then the read fails busy (the router's record is retried)
    with pytest.raises(StoreBusyError):
        index.buckets("baggage", ["b1", "b2"])
    with pytest.raises(StoreBusyError):
        index.signatures(["case#one"])
    fault.leave = lambda call, keys: []
    assert [k for k, _ in index.buckets("baggage", ["b1", "b2"])["b1"]] == ["case#one"]


def test_the_poller_still_knows_a_mention_whose_dedup_read_came_back_unprocessed(store: Store) -> None:
    # Given 150 mentions already stored, and a table that leaves half of the first two reads unprocessed
    keys = _mentions(store, 150)
    seen = DynamoSeenIndex(store.ddb, store.table, sleep=lambda s: None)
    UnprocessedKeys(leave_half_first(2)).install(store.ddb)
    polled = [
        Mention(
            platform="x",
            id=f"b{i}",
            author=Author(id=f"p{i}", handle=f"p{i}"),
            text=f"post {i}",
            created_at=datetime.now(UTC),
        )
        for i in range(160)
    ]
    # When the poller asks which of 160 polled mentions are new
    new, duplicates = seen.unseen(polled)
    # Then only the 10 never stored are new
    assert [m.key for m in new] == [f"x#b{i}" for i in range(150, 160)] and duplicates == 150
    assert all(k in {m.key for m in polled} for k in keys)


def test_the_poller_stops_with_an_error_when_the_dedup_read_stays_unprocessed(store: Store) -> None:
    _mentions(store, 2)
    seen = DynamoSeenIndex(store.ddb, store.table, sleep=lambda s: None)
    UnprocessedKeys(leave_all).install(store.ddb)
    polled = [
        Mention(platform="x", id="b0", author=Author(id="p0", handle="p0"), text="post 0", created_at=datetime.now(UTC))
    ]
    with pytest.raises(IngestError, match="unprocessed"):
        seen.unseen(polled)
