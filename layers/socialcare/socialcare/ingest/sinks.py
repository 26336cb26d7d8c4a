"""Where polled mentions go: the mentions queue, the dead-letter queue, and the "seen before?" check.

A mention counts as queued only when SQS accepted it. The poller never writes the MENTION dedup item;
the router does that with a conditional put. Here we only read it, to skip what is already known.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from socialcare.ingest.base import DeadItem
from socialcare.ingest.errors import IngestError, QueueError
from socialcare.models import Mention
from socialcare.store import Store, StoreBusyError, StoreError, mention_key

if TYPE_CHECKING:
    from socialcare.settings import Settings

SQS_BATCH = 10
# Stay under SQS's 256 KiB per batch with room for attributes.
SQS_BATCH_BYTES = 240_000
DEAD_LETTER_RAW_LIMIT = 200_000
# Characters SQS refuses in a message body (InvalidMessageContents). JSON can carry them escaped.
_SQS_INVALID = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def sqs_safe(body: str) -> str:
    """A JSON document SQS accepts: characters outside SQS's allowed set (U+FFFE, U+FFFF, lone
    surrogates) become \\uXXXX escapes, which decode to the same text. Without this one hostile
    post makes every send of its page fail and pins the source's cursor for ever."""
    return _SQS_INVALID.sub(lambda m: f"\\u{ord(m.group()):04x}", body)


def dead_letter_queue_url(settings: Settings) -> str:
    """The connector dead-letter queue (template: IngestDeadLetterQueue, named <stack>-ingest-dlq)."""
    base = settings.mentions_queue_url.rsplit("/", 1)[0]
    return f"{base}/{settings.stack_name}-ingest-dlq"


class MentionSink(Protocol):
    def send(self, mentions: list[Mention]) -> None:
        """Queue every mention or raise QueueError; partial success is fine (dedup drops repeats)."""
        ...


class DeadLetterSink(Protocol):
    def send(self, source_id: str, platform: str, items: list[DeadItem]) -> None: ...


class SeenIndex(Protocol):
    def unseen(self, mentions: list[Mention]) -> tuple[list[Mention], int]:
        """The mentions not seen before, in order, and how many were duplicates."""
        ...

    def remember(self, mentions: Iterable[Mention]) -> None: ...


def _batches(bodies: list[tuple[Any, str]]) -> Iterable[list[tuple[Any, str]]]:
    batch: list[tuple[Any, str]] = []
    size = 0
    for item in bodies:
        length = len(item[1].encode())
        if batch and (len(batch) == SQS_BATCH or size + length > SQS_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += length
    if batch:
        yield batch


class SqsMentionSink:
    """send_message_batch, ≤10 per call, retrying the entries SQS reports as Failed."""

    def __init__(self, client: Any, queue_url: str, *, attempts: int = 4, sleep: Any = time.sleep) -> None:
        self._client = client
        self._url = queue_url
        self._attempts = attempts
        self._sleep = sleep

    def send(self, mentions: list[Mention]) -> None:
        bodies = [(m, sqs_safe(m.model_dump_json())) for m in mentions]
        for batch in _batches(bodies):
            self._send_batch(batch)

    def _send_batch(self, batch: list[tuple[Any, str]]) -> None:
        pending = {str(i): body for i, (_, body) in enumerate(batch)}
        for attempt in range(self._attempts):
            entries = [{"Id": i, "MessageBody": body} for i, body in pending.items()]
            try:
                result = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
            except ClientError as exc:
                if attempt + 1 == self._attempts:
                    raise QueueError(f"send_message_batch failed: {exc.response['Error']['Code']}") from exc
                self._sleep(0.2 * 2**attempt)
                continue
            for ok in result.get("Successful", []):
                pending.pop(ok["Id"], None)
            failed = result.get("Failed", [])
            if not pending:
                return
            if any(f.get("SenderFault") for f in failed):
                codes = sorted({f.get("Code", "?") for f in failed})
                raise QueueError(f"SQS rejected {len(failed)} mentions: {codes}")
            self._sleep(0.2 * 2**attempt)
        raise QueueError(f"SQS did not accept {len(pending)} mentions after {self._attempts} attempts")


class SqsDeadLetterSink:
    """Unreadable items with their raw payload, for a human (and a redrive) to look at."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, source_id: str, platform: str, items: list[DeadItem]) -> None:
        bodies = [(item, _dead_letter_body(source_id, platform, item)) for item in items]
        for batch in _batches(bodies):
            entries = [{"Id": str(i), "MessageBody": body} for i, (_, body) in enumerate(batch)]
            try:
                result = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
            except ClientError as exc:
                raise QueueError(f"dead-letter send failed: {exc.response['Error']['Code']}") from exc
            if result.get("Failed"):
                raise QueueError(f"dead-letter queue refused {len(result['Failed'])} items")


def _dead_letter_body(source_id: str, platform: str, item: DeadItem) -> str:
    raw = item.raw if isinstance(item.raw, str) else json.dumps(item.raw, default=str, ensure_ascii=False)
    return sqs_safe(
        json.dumps(
            {
                "source_id": source_id,
                "platform": platform,
                "reason": item.reason,
                "raw": raw[:DEAD_LETTER_RAW_LIMIT],
                "truncated": len(raw) > DEAD_LETTER_RAW_LIMIT,
                "at": datetime.now(UTC).isoformat(),
            },
            ensure_ascii=False,
        )
    )


class DynamoSeenIndex:
    """BatchGetItem on the router's MENTION items, plus what this run has already queued."""

    def __init__(self, client: Any, table_name: str, *, sleep: Any = time.sleep) -> None:
        self._store = Store(client, table_name, sleep=sleep)
        self._seen: set[str] = set()

    def _known(self, keys: list[str]) -> set[str]:
        try:
            found = self._store.batch_get_all([mention_key(k) for k in keys], "PK")
        except StoreBusyError as exc:
            raise IngestError("dedup lookup left keys unprocessed") from exc
        except StoreError as exc:
            raise IngestError(f"dedup lookup failed: {exc}") from exc
        return {item["PK"]["S"].removeprefix("MENTION#") for item in found}

    def unseen(self, mentions: list[Mention]) -> tuple[list[Mention], int]:
        fresh: list[Mention] = []
        batch_keys: set[str] = set()
        for m in mentions:
            if m.key in self._seen or m.key in batch_keys:
                continue
            batch_keys.add(m.key)
            fresh.append(m)
        known = self._known(sorted(batch_keys)) if batch_keys else set()
        new = [m for m in fresh if m.key not in known]
        return new, len(mentions) - len(new)

    def remember(self, mentions: Iterable[Mention]) -> None:
        self._seen.update(m.key for m in mentions)


class MemorySeenIndex:
    """Dedup within one process (benchmark, unit tests; the poll command keeps it across cycles)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self._lock = threading.Lock()

    def unseen(self, mentions: list[Mention]) -> tuple[list[Mention], int]:
        with self._lock:
            new: list[Mention] = []
            keys: set[str] = set()
            for m in mentions:
                if m.key not in self.seen and m.key not in keys:
                    keys.add(m.key)
                    new.append(m)
            return new, len(mentions) - len(new)

    def remember(self, mentions: Iterable[Mention]) -> None:
        with self._lock:
            self.seen.update(m.key for m in mentions)


class MemoryMentionSink:
    def __init__(self) -> None:
        self.mentions: list[Mention] = []
        self._lock = threading.Lock()

    def send(self, mentions: list[Mention]) -> None:
        with self._lock:
            self.mentions.extend(mentions)


class MemoryDeadLetterSink:
    def __init__(self) -> None:
        self.items: list[tuple[str, DeadItem]] = []

    def send(self, source_id: str, platform: str, items: list[DeadItem]) -> None:
        self.items.extend((source_id, i) for i in items)
