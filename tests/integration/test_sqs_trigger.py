"""The local SQS trigger keeps the queue's visibility timeout and returns a failed batch, as Lambda's
event source mapping does."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from socialcare.local.artifact import Artifacts
from socialcare.local.stack import REGION, LocalStack


def test_a_batch_stays_hidden_for_the_queues_visibility_timeout(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the router's queue, and every ReceiveMessage call the trigger makes recorded
    receives: list[dict[str, Any]] = []

    def recording_client(service: str) -> Any:
        client = boto3.client(service, region_name=REGION)
        client.meta.events.register(
            "provide-client-params.sqs.ReceiveMessage", lambda params, **_: receives.append(dict(params))
        )
        return client

    monkeypatch.setattr(stack, "client", recording_client)
    sqs = boto3.client("sqs", region_name=REGION)
    url = stack.outputs["MentionsQueueUrl"]
    visibility = int(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]["VisibilityTimeout"]
    )
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    # When the trigger runs the router
    stack.pump("RouteMentionFunction")
    # Then it never shortens the queue's visibility timeout (a shorter one hands a slow batch to a
    # second poller while the first still runs it), and that timeout covers the function's Timeout,
    # as AWS requires of a queue that triggers a function
    assert receives
    assert all("VisibilityTimeout" not in r for r in receives)
    assert visibility >= stack.template.functions["RouteMentionFunction"].timeout_s


SLOW_ROUTER = """
import time


def handler(event, context):
    time.sleep(8)  # far past its 1 s Timeout
    return {"batchItemFailures": []}
"""


def test_a_built_functions_timed_out_batches_come_back_and_end_in_the_dead_letter_queue(
    stack: LocalStack, tmp_path: Path
) -> None:
    # Given the router built (run in its own runtime process, as `make test-artifact` runs it) with a
    # 1 s Timeout that every invocation overruns
    (tmp_path / "RouteMentionFunction").mkdir()
    (tmp_path / "RouteMentionFunction" / "handler.py").write_text(SLOW_ROUTER, encoding="utf-8")
    router = Artifacts(build_dir=tmp_path, python=Path(sys.executable)).function(
        "RouteMentionFunction", "router", "handler.handler", {}, timeout_s=1.0
    )
    stack.functions["RouteMentionFunction"] = router
    sqs = boto3.client("sqs", region_name=REGION)
    sent = sqs.send_message(QueueUrl=stack.outputs["MentionsQueueUrl"], MessageBody="{}")["MessageId"]
    try:
        # When the trigger delivers the message until SQS gives up on it
        stats = stack.pump("RouteMentionFunction")
    finally:
        router.stop()
    # Then each delivery timed out and returned the batch, as Lambda's event source does, and after the
    # queue's maxReceiveCount (5) the message is in the dead-letter queue, not lost
    assert (stats.received, stats.errors, stats.timeouts) == (5, 5, 5)
    dead = sqs.receive_message(QueueUrl=stack.queue_urls["MentionsDeadLetterQueue"], MaxNumberOfMessages=10)
    assert [m["MessageId"] for m in dead.get("Messages", [])] == [sent]
