"""SQS queues in the local stack hold up under concurrent consumers, as SQS does: the SQS trigger runs
several pollers per function, each receiving and settling its own batches."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from socialcare.local import moto_patches

pytestmark = pytest.mark.integration
MESSAGES = 400


@pytest.fixture
def queue() -> Iterator[tuple[Any, str]]:
    moto_patches.install()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        for i in range(0, MESSAGES, 10):
            entries = [{"Id": str(j), "MessageBody": str(i + j)} for j in range(10)]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        yield sqs, url


def _at_once(work: Callable[[], None], threads: int = 8) -> None:
    """Runs `work` on several threads switching as often as the interpreter allows, so that a race
    between them shows up in one run rather than once in a while."""
    saved = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        running = [threading.Thread(target=work) for _ in range(threads)]
        for t in running:
            t.start()
        for t in running:
            t.join()
    finally:
        sys.setswitchinterval(saved)


def _depth(sqs: Any, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attrs[n]) for n in names)


def test_batches_deleted_at_once_are_all_gone(queue) -> None:
    sqs, url = queue
    # Given every message received, in batches of ten
    batches = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        batches.append(got)
    assert sum(map(len, batches)) == MESSAGES
    lock = threading.Lock()

    def settle() -> None:
        while True:
            with lock:
                if not batches:
                    return
                batch = batches.pop()
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
            assert not sqs.delete_message_batch(QueueUrl=url, Entries=entries).get("Failed")

    # When several pollers delete their batches at the same time
    _at_once(settle)
    # Then no deleted message is left in the queue (in flight, to be delivered again)
    assert _depth(sqs, url) == 0


def test_messages_received_at_once_go_to_one_receiver_each(queue) -> None:
    sqs, url = queue
    taken: list[str] = []

    def take() -> None:
        while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            taken.extend(m["MessageId"] for m in got)

    # When several pollers receive from the queue at the same time
    _at_once(take)
    # Then each message went to one of them, once
    assert len(taken) == len(set(taken)) == MESSAGES


def test_a_long_poll_gets_a_message_sent_while_it_waits(queue) -> None:
    sqs, url = queue
    while sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        pass
    # Given a receiver waiting on the empty queue
    got: list[Any] = []
    waiting = threading.Thread(
        target=lambda: got.extend(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", []))
    )
    started = time.monotonic()
    waiting.start()
    # When a message is sent meanwhile (the send is not held up by the waiting receive)
    time.sleep(0.3)
    sqs.send_message(QueueUrl=url, MessageBody="late")
    waiting.join(20)
    # Then the long poll returns it before its wait is over
    assert [m["Body"] for m in got] == ["late"]
    assert time.monotonic() - started < 9
