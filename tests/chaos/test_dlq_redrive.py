"""`socialcare dlq show|redrive`: every dead letter has a reason; repairable ones go back, the rest stay."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator

import boto3
import pytest
from socialcare.local.stack import LocalStack, local_stack

from tests.integration.conftest import FAST_CONFIG


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    warnings.filterwarnings("ignore")
    with local_stack({"BrandConfigPath": FAST_CONFIG}) as deployed:
        yield deployed


def _post(pid: str) -> dict:
    return {
        "id": pid,
        "author_id": "42",
        "text": "thank you crew, lovely flight",
        "created_at": "2026-11-20T10:00:00.000Z",
    }


def _count(sqs: object, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])  # type: ignore[attr-defined]
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


@pytest.mark.integration
def test_redrive_returns_repaired_messages_and_keeps_the_rest(stack: LocalStack, capsys: pytest.CaptureFixture) -> None:
    from socialcare.cli import main
    from socialcare.ingest.x import mention_from_post

    out, sqs = stack.outputs, boto3.client("sqs")
    valid = mention_from_post(_post("1950000000000000001"), {"42": {"username": "jane"}})
    # Given: a mention SQS moved after repeated failures, a poison body with its reason, an ingest dead
    # letter that today's connector parses and one it never will, and a failed department work item
    sqs.send_message(QueueUrl=out["MentionsDeadLetterQueueUrl"], MessageBody=valid.model_dump_json())
    sqs.send_message(
        QueueUrl=out["MentionsDeadLetterQueueUrl"],
        MessageBody="not json",
        MessageAttributes={
            "reason": {"DataType": "String", "StringValue": "invalid mention: JSONDecodeError"},
            "source_message_id": {"DataType": "String", "StringValue": "m-1"},
        },
    )
    for raw in (_post("1950000000000000002"), {"id": None}):
        sqs.send_message(
            QueueUrl=out["IngestDeadLetterQueueUrl"],
            MessageBody=json.dumps(
                {
                    "source_id": "s",
                    "platform": "x",
                    "reason": "schema mismatch",
                    "raw": json.dumps(raw),
                    "truncated": False,
                }
            ),
        )
    sqs.send_message(
        QueueUrl=out["DepartmentDeadLetterQueueUrl"],
        MessageBody=json.dumps(
            {"kind": "work_item", "case_id": "SC-AAAAAAAA", "department": "baggage", "reason": "opened"}
        ),
    )
    sqs.send_message(
        QueueUrl=out["DepartmentDeadLetterQueueUrl"],
        MessageBody=json.dumps(
            {"kind": "work_item", "case_id": "SC-BBBBBBBB", "department": "../../admin", "reason": "opened"}
        ),
    )
    cli = ["--stack", stack.stack_name, "--region", "us-east-1", "--json"]

    # When: a dry run, then the redrive
    assert main(["dlq", "redrive", "mentions", "--dry-run", *cli]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry == {
        "queue": "mentions",
        "seen": 2,
        "returned": 1,
        "kept": 1,
        "dry_run": True,
        "reasons": {"failed-repeatedly": 1, "invalid": 1},
    }
    assert _count(sqs, out["MentionsQueueUrl"]) == 0
    results = {}
    for queue in ("mentions", "ingest", "department"):
        assert main(["dlq", "redrive", queue, *cli]) == 0
        results[queue] = json.loads(capsys.readouterr().out)

    # Then: the repaired ones are back in the pipeline, the rest wait with their reasons
    assert [results[q]["returned"] for q in ("mentions", "ingest", "department")] == [1, 1, 1]
    assert [results[q]["kept"] for q in ("mentions", "ingest", "department")] == [1, 1, 1]
    assert _count(sqs, out["MentionsQueueUrl"]) == 2
    assert _count(sqs, out["MentionsDeadLetterQueueUrl"]) == 1 and _count(sqs, out["IngestDeadLetterQueueUrl"]) == 1
    dept_url = out["MentionsQueueUrl"].rsplit("/", 1)[0] + "/" + out["DepartmentQueuePrefix"] + "baggage"
    assert _count(sqs, dept_url) == 1
    stack.pump("RouteMentionFunction")
    from socialcare.assembly import build_deps

    store = build_deps().store
    assert store.get_mention(valid.key) is not None and store.get_mention("x#1950000000000000002") is not None
