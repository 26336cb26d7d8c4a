"""Lazily built, cached AWS clients: nothing connects at import time, and tests can reset them.

botocore's session, not boto3's: the clients are the same, and not importing boto3 (which imports
s3transfer) saves each Lambda about 90 ms of cold start."""

from __future__ import annotations

import threading
from typing import Any

import botocore.session
from botocore.config import Config

# Standard retry mode: throttling (ProvisionedThroughputExceededException, ThrottlingException,
# RequestLimitExceeded) and 5xx are retried with exponential backoff and jitter: max_attempts counts
# the retries (botocore's legacy meaning), so a request is sent up to 6 times.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)


_LOCK = threading.Lock()
_SESSION: list[botocore.session.Session] = []
_CLIENTS: dict[str, Any] = {}


def client(service: str) -> Any:
    """The process's client for `service`, built once (two threads asking first still get one client).

    One session for all of them: each new session reads botocore's endpoint, partition and service-list
    data again (tens of ms per client at cold start); a session is not thread-safe, hence the lock.
    AWS_ENDPOINT_URL (set by the local stack) redirects every client to moto's server."""
    found = _CLIENTS.get(service)
    if found is not None:
        return found
    with _LOCK:
        if service not in _CLIENTS:
            if not _SESSION:
                _SESSION.append(botocore.session.Session())
            _CLIENTS[service] = _SESSION[0].create_client(service, config=CLIENT_CONFIG)
        return _CLIENTS[service]


class LazyClient:
    """Stands in for a client until its first use: building one reads its service model (tens of ms), and
    a function's Deps name four services where most requests use one or two (a queue read needs no Step
    Functions client, `GET /me` needs none)."""

    def __init__(self, service: str) -> None:
        self._service = service
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = client(self._service)
        return getattr(self._client, name)

    def __repr__(self) -> str:
        return f"LazyClient({self._service!r})"


def reset_clients() -> None:
    """Forget the clients and their session: the next ones read the environment (endpoint, region,
    credentials) again."""
    with _LOCK:
        _SESSION.clear()
        _CLIENTS.clear()


def settle_batch(
    sqs: Any, queue_url: str, received: list[dict[str, Any]], failed: set[str], retry_after_s: int = 0
) -> list[dict[str, Any]]:
    """After a handler reported batchItemFailures, as the Lambda event source mapping does: delete what
    succeeded, make the failures visible again after `retry_after_s`. Returns the succeeded messages."""
    done = [m for m in received if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
        )
    for m in received:
        if m["MessageId"] in failed:
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=retry_after_s
            )
    return done
