"""Labels from the case history, the promoted model's storage, and the clear refusals of a retrain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from socialcare.cases import learning
from socialcare.cases.learning import (
    LearnedModelError,
    NotEnoughLabelsError,
    learned_routing,
    retrain,
    training_set,
)
from socialcare.config import load_config
from socialcare.errors import Exit
from socialcare.models import Author, Case, CaseEvent, Clock, Mention, SlaPolicy, case_id_for
from socialcare.privacy import erase_author
from socialcare.settings import Settings
from socialcare.store import Store

from tests.unit.security.test_privacy import _tags
from tests.unit.security.test_privacy import store as store  # noqa: F401 - the moto table fixture

CONFIG = load_config(Settings().config_path)  # the sample airline: operations, airport, baggage, ...


def _case(store: Store, n: int, text: str, routed: str, *, status: str = "open") -> Case:
    now = datetime.now(UTC)
    author = Author(id=f"a{n}", handle=f"person{n}")
    m = Mention(platform="x", id=f"m{n}", author=author, text=text, created_at=now)
    sla = SlaPolicy(first_response_s=60, next_update_s=60, resolution_s=600)
    case = Case(
        id=case_id_for(m.key),
        mention_key=m.key,
        customer_key=m.customer_key,
        platform="x",
        author=author,
        department=routed,
        status=status,
        tags=_tags(),
        sla=sla,
        opened_at=now,
        first_response_due=now + timedelta(seconds=60),
        resolution_due=now + timedelta(seconds=600),
        clock=Clock(name="first_response", seconds=60, due_at=now + timedelta(seconds=60)),
    )
    store.put(store.mention_item(m, None, case.id, 90))
    store.put(store.case_item(case))
    return case


def _event(store: Store, case: Case, kind: str, **detail: object) -> None:
    store.put(store.event_item(CaseEvent(case_id=case.id, type=kind, actor="maria", detail=detail)))


def test_transfers_resolutions_and_labels_become_labels_and_erased_people_do_not(store: Store) -> None:
    # Given a transferred case, a resolved one, one marked not actionable, one untouched, one erased
    moved = _case(store, 1, "my suitcase never arrived", "reservations")
    _event(store, moved, "case.transferred", **{"from": "reservations", "to": "baggage"})
    store.update_case(moved.id, 0, {"department": "baggage"})
    done = _case(store, 2, "can I change my flight to friday", "reservations", status="resolved")
    _event(store, done, "case.resolved")
    noise = _case(store, 3, "airline stocks fell today", "operations", status="resolved")
    _event(store, noise, "case.labelled", actionable=False, was="yes")
    _event(store, noise, "case.resolved")
    _case(store, 4, "where is my refund", "reservations")
    gone = _case(store, 5, "the crew lost my bag", "baggage", status="resolved")
    _event(store, gone, "case.resolved")
    erase_author(store, "x:person5", requested_by="dpo")

    # When the training set is read from the table
    ts = training_set(store, CONFIG)

    # Then each case says what the agents said, and the erased person is not in it
    rows = {r.case_id: r for r in ts.rows}
    assert (rows[moved.id].department, rows[moved.id].source) == ("baggage", "transfer")
    assert (rows[done.id].department, rows[done.id].source) == ("reservations", "resolve")
    assert (rows[noise.id].department, rows[noise.id].actionable) == (None, False)
    assert gone.id not in rows and all("crew lost" not in r.text for r in ts.rows)
    counts = ts.counts()
    assert counts["erased_excluded"] == 1 and counts["unlabelled"] == 1 and counts["department_labels"] == 2
    assert counts["actionable_labels"] == 1


def test_too_few_labels_is_a_clear_refusal_that_says_how_many_are_needed(store: Store) -> None:
    c = _case(store, 1, "my bag is lost", "baggage", status="resolved")
    _event(store, c, "case.resolved")
    with pytest.raises(NotEnoughLabelsError) as err:
        retrain(store, CONFIG, actor="t")
    assert err.value.exit_code == Exit.REFUSED
    assert f"at least {learning.MIN_TRAIN} to train on and {learning.MIN_HELD_OUT} held out" in str(err.value)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(learning, "CHUNK_BYTES", 512)  # a model spans several items
    yield


def test_a_promoted_model_is_read_back_in_chunks_and_a_damaged_one_is_refused(store: Store, small_chunks) -> None:
    from socialcare.classify.train import train

    depts = CONFIG.department_names
    rows = [{"text": f"{d} problem number {i} with the {d} team", "department": d} for d in depts for i in range(3)]
    blob = train(rows, labels=("department",), meta={"blend": {"department": 0.4}})
    record = {"version": "v1", "departments": sorted(depts), "current": {}, "candidate": {}}
    learning._promote(store, blob, record, None)  # noqa: SLF001 - the write half of the round trip

    learned = learned_routing(store, CONFIG)
    assert learned is not None and learned.weight == 0.4
    assert store.get({"PK": {"S": learning.MODEL_PK}, "SK": {"S": learning.CURRENT_SK}})["chunks"] > 1

    # A lost chunk is an error, never a silently different model
    store.ddb.delete_item(TableName=store.table, Key={"PK": {"S": learning.MODEL_PK}, "SK": {"S": "BLOB#v1#0001"}})
    with pytest.raises(LearnedModelError):
        learned_routing(store, CONFIG)


def test_a_model_learned_for_other_departments_is_ignored(store: Store) -> None:
    from socialcare.classify.train import train

    blob = train([{"text": "a", "department": "x"}, {"text": "b", "department": "y"}], labels=("department",))
    learning._promote(store, blob, {"version": "v1", "departments": ["x", "y"]}, None)  # noqa: SLF001
    assert learned_routing(store, CONFIG) is None


def _learned_blob(weight: float) -> bytes:
    from socialcare.classify.train import train

    depts = CONFIG.department_names
    rows = [{"text": f"{d} problem number {i} with the {d} team", "department": d} for d in depts for i in range(3)]
    return train(rows, labels=("department",), meta={"blend": {"department": weight}})


def test_a_warm_function_picks_up_a_promotion_within_the_refresh_period(store: Store) -> None:
    # Given a promoted model and a running function's source of it, on a clock the test moves
    record = {"version": "v1", "departments": sorted(CONFIG.department_names)}
    learning._promote(store, _learned_blob(0.3), record, None)  # noqa: SLF001
    now = [1000.0]
    reads: list[str] = []
    store.ddb.meta.events.register("before-call.dynamodb.*", lambda model, **_: reads.append(model.name))
    source = learning.LearnedRoutingSource(store, CONFIG, refresh_s=300, clock=lambda: now[0])
    first = source()
    assert first is not None and first.weight == 0.3

    # When a retrain promotes v2
    learning._promote(
        store,
        _learned_blob(0.7),
        {"version": "v2", "departments": record["departments"]},  # noqa: SLF001
        learning.current_record(store),
    )
    reads.clear()

    # Then within the period the function keeps v1 without reading the table
    now[0] += 299
    assert source() is first and source() is first
    assert reads == []
    # And after it, one pointer read and one chunk query bring v2
    now[0] += 2
    second = source()
    assert second is not None and second.weight == 0.7
    assert reads == ["GetItem", "Query"]
    # And an unchanged pointer costs one read per period, no chunk query
    reads.clear()
    now[0] += 301
    assert source() is second and reads == ["GetItem"]


def test_a_damaged_promotion_leaves_the_warm_model_in_place_and_a_cold_start_refuses_it(store: Store) -> None:
    # Given a function routing with v1
    departments = sorted(CONFIG.department_names)
    learning._promote(store, _learned_blob(0.3), {"version": "v1", "departments": departments}, None)  # noqa: SLF001
    now = [0.0]
    warm = learning.LearnedRoutingSource(store, CONFIG, refresh_s=60, clock=lambda: now[0])
    held = warm()
    # When v2 is promoted and one of its chunks is then lost
    learning._promote(
        store,
        _learned_blob(0.7),
        {"version": "v2", "departments": departments},  # noqa: SLF001
        learning.current_record(store),
    )
    store.ddb.delete_item(TableName=store.table, Key={"PK": {"S": learning.MODEL_PK}, "SK": {"S": "BLOB#v2#0000"}})
    now[0] += 61
    # Then the warm function keeps routing with v1
    assert warm() is held
    # And a cold start refuses the damaged model (the mention is retried, never routed by another model)
    with pytest.raises(LearnedModelError):
        learning.LearnedRoutingSource(store, CONFIG)()
