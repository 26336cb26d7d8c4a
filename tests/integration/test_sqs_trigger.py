"""The local SQS trigger keeps the queue's visibility timeout, as Lambda's event source mapping does."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
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
