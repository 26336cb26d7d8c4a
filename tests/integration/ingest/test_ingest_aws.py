"""Ingest against AWS (moto): the DynamoDB and SQS adapters, the scheduled poller and the Meta webhook
deployed from template.yaml and invoked in-process."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws
from socialcare.ingest.base import DeadItem
from socialcare.ingest.errors import CursorConflictError, QueueError
from socialcare.ingest.sinks import DynamoSeenIndex, SqsDeadLetterSink, SqsMentionSink
from socialcare.ingest.state import DynamoCursorStore
from socialcare.local.platform_server import PlatformServer, sample_posts
from socialcare.local.stack import LocalStack, local_stack
from socialcare.models import Author, Mention

from tests.builders import meta_delivery_sent_at

pytestmark = pytest.mark.integration
TOKEN = "integration-token"  # noqa: S105 - loopback only
FINGERPRINT = "0123abcd"  # a secret fingerprint, not a secret
PACKAGED_BRAND = Path(__file__).resolve().parents[3] / "layers" / "socialcare" / "socialcare" / "data" / "brand.yaml"


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any, str, str]]:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    with mock_aws():
        ddb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
        ddb.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
        )
        queue = sqs.create_queue(QueueName="mentions")["QueueUrl"]
        yield ddb, sqs, "t", queue


def mention(i: int) -> Mention:
    return Mention(
        platform="x",
        id=str(1000 + i),
        author=Author(id="1", handle="a"),
        text=f"post {i}",
        created_at=datetime(2026, 11, 22, tzinfo=UTC),
    )


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return out
        out.extend(json.loads(m["Body"]) for m in got)
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)],
        )


def test_cursor_item_round_trips_and_refuses_a_stale_writer(aws) -> None:
    # Given a source's state item
    ddb, _, table, _ = aws
    store = DynamoCursorStore(ddb, table)
    state = store.load("x-a")
    # When a poller saves its cursor, and a second poller holding the old version tries too
    saved = store.save_cursor(state, {"mark": "5", "token": None, "pending": None})
    with pytest.raises(CursorConflictError):
        store.save_cursor(state, {"mark": "3"})
    store.mark_rate_limited("x-a", 1_795_000_123.5)
    store.mark_unhealthy("x-a", "HTTP 401", secret_fingerprint=FINGERPRINT)
    # Then the item is PK=SOURCE#x-a, SK=CURSOR with the first cursor, the reset and the health mark
    loaded = store.load("x-a")
    assert loaded.cursor == {"mark": "5", "token": None, "pending": None} and loaded.version == saved.version == 1
    assert loaded.rate_limited_until == 1_795_000_123.5 and not loaded.healthy and loaded.failed_secret == FINGERPRINT
    raw = ddb.get_item(TableName=table, Key={"PK": {"S": "SOURCE#x-a"}, "SK": {"S": "CURSOR"}})["Item"]
    assert raw["healthy"] == {"BOOL": False}
    store.mark_healthy("x-a")
    assert store.load("x-a").healthy


def test_seen_index_reads_the_routers_mention_items_in_batches(aws) -> None:
    # Given the router has stored MENTION items for 150 of 160 mentions
    ddb, _, table, _ = aws
    for i in range(150):
        ddb.put_item(TableName=table, Item={"PK": {"S": f"MENTION#x#{1000 + i}"}, "SK": {"S": "MENTION"}})
    seen = DynamoSeenIndex(ddb, table)
    # When the poller asks which are new (with one repeated within the page)
    batch = [mention(i) for i in range(160)] + [mention(155)]
    new, duplicates = seen.unseen(batch)
    # Then only the ten unknown ones are new, the repeat and the known ones are duplicates
    assert [m.id for m in new] == [str(1000 + i) for i in range(150, 160)] and duplicates == 151


def test_sqs_sink_sends_model_json_in_batches_of_ten(aws) -> None:
    _, sqs, _, queue = aws
    SqsMentionSink(sqs, queue).send([mention(i) for i in range(23)])
    bodies = drain(sqs, queue)
    assert sorted(Mention.model_validate(b).id for b in bodies) == sorted(str(1000 + i) for i in range(23))


class _FlakySqs:
    """send_message_batch that reports some entries Failed (throttled) the first time."""

    def __init__(self, fail_ids: set[str], sender_fault: bool = False) -> None:
        self.fail_ids = set(fail_ids)
        self.sender_fault = sender_fault
        self.calls: list[list[str]] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        ids = [e["Id"] for e in Entries]
        self.calls.append(ids)
        failed = [i for i in ids if i in self.fail_ids]
        if not self.sender_fault:
            self.fail_ids -= set(failed)
        return {
            "Successful": [{"Id": i} for i in ids if i not in failed],
            "Failed": [{"Id": i, "Code": "ThrottlingException", "SenderFault": self.sender_fault} for i in failed],
        }


def test_sqs_sink_retries_only_the_failed_entries() -> None:
    client = _FlakySqs({"2", "7"})
    SqsMentionSink(client, "q", sleep=lambda s: None).send([mention(i) for i in range(10)])
    assert client.calls == [[str(i) for i in range(10)], ["2", "7"]]


def test_sqs_sink_raises_when_sqs_keeps_refusing() -> None:
    client = _FlakySqs({"3"}, sender_fault=True)
    with pytest.raises(QueueError):
        SqsMentionSink(client, "q", sleep=lambda s: None).send([mention(i) for i in range(5)])


def test_dead_letters_keep_the_raw_payload(aws) -> None:
    _, sqs, _, _ = aws
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    SqsDeadLetterSink(sqs, dlq).send("x-a", "x", [DeadItem("schema mismatch", {"id": "9", "weird": True})])
    (body,) = drain(sqs, dlq)
    assert body["source_id"] == "x-a" and json.loads(body["raw"]) == {"id": "9", "weird": True}


# ---------------------------------------------------------------- deployed from template.yaml


@pytest.fixture(scope="module")
def platform() -> Iterator[PlatformServer]:
    posts = sample_posts(130, start=datetime.now(UTC) - timedelta(hours=1))
    with PlatformServer(posts, token=TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def deployed(platform: PlatformServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """One stack for the module: deploying template.yaml costs seconds."""
    brand = yaml.safe_load(PACKAGED_BRAND.read_text())
    brand["sources"] = [
        {
            "id": "it-x",
            "platform": "x",
            "query": "@SkylarkAir",
            "base_url": platform.base_url,
            "secret": "secretsmanager:{stack}/x-bearer",
            "backfill_s": 86400,
            "every_s": 60,
        },
        {"id": "it-rss", "platform": "rss", "feed_url": f"{platform.base_url}/feed.xml", "every_s": 60},
    ]
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    path = tmp_path_factory.mktemp("ingest") / "brand.yaml"
    name = f"it{int(time.time() * 1000) % 10**8}"
    for source in brand["sources"]:
        if "secret" in source:
            source["secret"] = source["secret"].format(stack=name)
    path.write_text(yaml.safe_dump(brand))
    with local_stack({"BrandConfigPath": str(path)}, stack_name=name) as stack:
        secrets = boto3.client("secretsmanager")
        secrets.create_secret(Name=f"{name}/x-bearer", SecretString=TOKEN)
        secrets.create_secret(
            Name=f"{name}/meta-webhook",
            SecretString=json.dumps({"app_secret": "app-secret", "verify_token": "verify-me"}),
        )
        yield stack


def test_scheduled_poller_queues_every_source_once_and_respects_their_interval(
    deployed: LocalStack, platform: PlatformServer
) -> None:
    # Given the template's schedule input ({"sources": "all"})
    event = deployed.scheduled_event("PollMentionsFunction")
    assert event == {"sources": "all"}
    # When it fires twice in a row
    first = deployed.invoke("PollMentionsFunction", event)
    second = deployed.invoke("PollMentionsFunction", event)
    # Then both sources were polled in the first run, and neither again before its every_s
    by_id = {s["source_id"]: s for s in first["sources"]}
    assert by_id["it-x"]["queued"] == 130 and by_id["it-rss"]["queued"] == PlatformServer.FEED_WINDOW
    assert second["sources"] == []
    sqs = boto3.client("sqs")
    bodies = drain(sqs, deployed.outputs["MentionsQueueUrl"])
    assert len(bodies) == 130 + PlatformServer.FEED_WINDOW
    store = DynamoCursorStore(boto3.client("dynamodb"), deployed.outputs["TableName"])
    assert store.load("it-x").cursor["mark"] == str(1_900_000_000_000_000_000 + 129)
    # When one source is polled by name after new posts arrive
    platform.add_posts(sample_posts(3, start_id=1_900_000_000_000_005_000))
    third = deployed.invoke("PollMentionsFunction", {"source_id": "it-x"})
    assert third["sources"][0]["queued"] == 3


def _api_event(
    method: str, *, body: str = "", query: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": f"{method} /webhooks/meta",
        "rawPath": "/webhooks/meta",
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "queryStringParameters": query,
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "x",
            "domainPrefix": "x",
            "http": {
                "method": method,
                "path": "/webhooks/meta",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "facebookexternalua",
            },
            "requestId": "r1",
            "routeKey": f"{method} /webhooks/meta",
            "stage": "$default",
            "time": "22/Nov/2026:11:00:00 +0000",
            "timeEpoch": 1795345200000,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def test_meta_webhook_answers_the_challenge_and_rejects_bad_signatures(deployed: LocalStack) -> None:
    # Given the webhook function deployed from the template
    ok = deployed.invoke(
        "MetaWebhookFunction",
        _api_event("GET", query={"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"}),
    )
    wrong = deployed.invoke(
        "MetaWebhookFunction",
        _api_event("GET", query={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "42"}),
    )
    assert (ok["statusCode"], ok["body"]) == (200, "42") and wrong["statusCode"] == 403
    # When a delivery arrives unsigned, then signed
    recorded = json.loads(
        (Path(__file__).resolve().parents[2] / "data" / "fixtures" / "meta" / "page_comment.json").read_text()
    )
    payload = json.dumps(meta_delivery_sent_at(recorded, time.time()))
    unsigned = deployed.invoke(
        "MetaWebhookFunction", _api_event("POST", body=payload, headers={"x-hub-signature-256": "sha256=00"})
    )
    signature = "sha256=" + hmac.new(b"app-secret", payload.encode(), hashlib.sha256).hexdigest()
    signed = deployed.invoke(
        "MetaWebhookFunction", _api_event("POST", body=payload, headers={"x-hub-signature-256": signature})
    )
    # And the header's name is read in any case (Meta sends X-Hub-Signature-256; HTTP APIs lower-case it)
    mixed = deployed.invoke(
        "MetaWebhookFunction", _api_event("POST", body=payload, headers={"X-Hub-Signature-256": signature})
    )
    # Then only the signed ones are queued: the same two comments twice, since the webhook drops only
    # what the router has already stored, and the router drops the second copy
    assert unsigned["statusCode"] == 401 and signed["statusCode"] == 200 and mixed["statusCode"] == 200
    bodies = drain(boto3.client("sqs"), deployed.outputs["MentionsQueueUrl"])
    assert sorted(b["id"] for b in bodies if b["platform"] == "facebook") == 2 * [
        "998877665544_1122334455",
    ] + 2 * ["998877665544_1122334499"]
