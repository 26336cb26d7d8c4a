"""`socialcare privacy erase/export`: one person's data found everywhere, then gone, and the erasure recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from socialcare.models import Author, Case, Clock, Mention, SlaPolicy, Tags, case_id_for
from socialcare.privacy import PrivacyError, erase_author, export_author, parse_author
from socialcare.privacy.service import ERASED, erasures, pseudonym
from socialcare.store import Store

JANE = Author(id="42", handle="Jane_Doe", name="Jane Doe", followers=10)
BOB = Author(id="43", handle="bob", name="Bob")


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    for k, v in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK", "GSI2PK", "GSI2SK")],
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "ByCustomer",
                    "Projection": {"ProjectionType": "ALL"},
                    "KeySchema": [
                        {"AttributeName": "GSI2PK", "KeyType": "HASH"},
                        {"AttributeName": "GSI2SK", "KeyType": "RANGE"},
                    ],
                }
            ],
        )
        yield Store(ddb, "t")


def _seed(store: Store, author: Author, mention_id: str, text: str) -> Case:
    now = datetime.now(UTC)
    m = Mention(
        platform="x",
        id=mention_id,
        author=author,
        text=text,
        created_at=now,
        permalink=f"https://x.com/{author.handle}/status/{mention_id}",
    )
    sla = SlaPolicy(first_response_s=60, next_update_s=60, resolution_s=600, escalation_tiers_s=[60], stale_after_s=60)
    case = Case(
        id=case_id_for(m.key),
        mention_key=m.key,
        customer_key=m.customer_key,
        platform="x",
        author=author,
        department="baggage",
        tags=_tags(),
        sla=sla,
        opened_at=now,
        first_response_due=now + timedelta(seconds=60),
        resolution_due=now + timedelta(seconds=600),
        clock=Clock(name="first_response", seconds=60, due_at=now + timedelta(seconds=60)),
    )
    store.put(store.mention_item(m, None, case.id, 90))
    store.put(store.case_item(case, summary=text))  # the inbox copy of their words
    store.put(
        store.message_item(
            case.id,
            {
                "direction": "in",
                "platform": "x",
                "mention_key": m.key,
                "author": author.handle,
                "text": text,
                "permalink": m.permalink,
            },
            now,
            m.key,
        )
    )
    store.put(
        store.message_item(
            case.id,
            {
                "direction": "out",
                "channel": "dm",
                "author": "agent ann",
                "text": f"Hi {author.name}, send your booking ref",
            },
            now,
            "req-1-0",
        )
    )
    return case


def _tags() -> Tags:
    from socialcare.classify import build_classifier
    from socialcare.config import load_config

    from tests.integration.conftest import FAST_CONFIG

    return build_classifier(load_config(FAST_CONFIG)).classify(
        "@SkylarkAir my bag is lost please help", platform="x", rating=None
    )


def _dump(store: Store) -> str:
    return json.dumps(store.ddb.scan(TableName="t")["Items"])


def test_export_gives_the_person_their_data_and_nobody_elses(store: Store) -> None:
    jane = _seed(store, JANE, "1001", "my bag is lost, call me on +44 20 7946 0958")
    _seed(store, BOB, "1002", "bob's own complaint")
    data = export_author(store, "x:@jane_doe")
    assert [c["id"] for c in data["cases"]] == [jane.id]
    assert len(data["mentions"]) == 1 and data["mentions"][0]["mention"]["text"].startswith("my bag is lost")
    assert {m["direction"] for m in data["messages"]} == {"in", "out"}
    assert "bob" not in json.dumps(data).lower()
    assert "task_token" not in json.dumps(data) and "GSI2PK" not in json.dumps(data)


def test_erase_removes_the_person_everywhere_keeps_dedup_and_records_it(store: Store) -> None:
    jane = _seed(store, JANE, "1001", "my bag is lost, call me on +44 20 7946 0958")
    bob = _seed(store, BOB, "1002", "bob's own complaint")
    dry = erase_author(store, "x:jane_doe", requested_by="dpo", dry_run=True)
    assert (dry.mentions, dry.cases, dry.messages) == (1, 1, 2) and "Jane" in _dump(store)

    report = erase_author(store, "x:jane_doe", requested_by="dpo")

    everything = _dump(store)
    for personal in ("Jane", "jane_doe", "7946 0958", "my bag is lost", "x.com/Jane_Doe"):
        assert personal.lower() not in everything.lower(), personal
    # The dedup marker stays: the poller will not ingest her post again.
    assert store.get_mention("x#1001") is not None and store.get_mention("x#1001").get("mention") is None
    # The case keeps its SLA facts, under a pseudonym.
    case = store.get_case(jane.id)
    assert case.author.handle == ERASED and case.customer_key == pseudonym("x", "jane_doe")
    assert case.sla.first_response_s == 60 and case.department == "baggage"
    assert {m["text"] for m in store.messages(jane.id)} == {ERASED}
    # Bob is untouched.
    assert store.get_case(bob.id).author.handle == "bob" and "bob's own complaint" in everything
    # And the erasure is on record, without her handle.
    (record,) = erasures(store)
    assert record["author"] == report.author == pseudonym("x", "Jane_Doe")
    assert record["requested_by"] == "dpo" and record["cases"] == 1 and record["case_ids"] == [jane.id]
    assert export_author(store, "x:jane_doe")["mentions"] == []


@pytest.mark.parametrize("ref", ["jane", "x:", ":jane", "x y:jane", "../../etc:passwd", "x:" + "a" * 300])
def test_bad_author_references_are_refused(ref: str) -> None:
    with pytest.raises(PrivacyError):
        parse_author(ref)


def test_raw_mention_text_expires_with_the_retention(store: Store) -> None:
    case = _seed(store, JANE, "1003", "text")
    item: dict[str, Any] = store.get_mention("x#1003") or {}
    days = (item["expires_at"] - datetime.now(UTC).timestamp()) / 86400
    assert 89.9 < days <= 90.0 and case.id


def test_customer_message_text_expires_with_the_mention() -> None:
    from types import SimpleNamespace

    from socialcare.cases.router import _customer_message

    now = datetime.now(UTC)
    deps = SimpleNamespace(now=lambda: now, config=SimpleNamespace(retention_days=30))
    m = Mention(platform="x", id="9", author=JANE, text="secret-ish", created_at=now)
    message = _customer_message(m, deps)  # type: ignore[arg-type]
    assert message["expires_at"] == int((now + timedelta(days=30)).timestamp())
