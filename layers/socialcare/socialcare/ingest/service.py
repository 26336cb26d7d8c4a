"""Wiring for the scheduled poller: settings and brand configuration in, PollResults out.

One schedule can poll every enabled source: each source runs on its own thread with its own HTTP
session and its own cursor item, so a slow or rate-limited source never holds the others up.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from socialcare import aws
from socialcare.config import load_config
from socialcare.ingest.errors import ConfigurationError
from socialcare.ingest.http import Deadline
from socialcare.ingest.poller import MetricsPort, PollResult, poll_source
from socialcare.ingest.sinks import DynamoSeenIndex, SqsDeadLetterSink, SqsMentionSink, dead_letter_queue_url
from socialcare.ingest.state import DynamoCursorStore
from socialcare.settings import Settings
from socialcare.sources import SourceConfig

USER_AGENT = "socialcare-poller/0.1"
MAX_PARALLEL_SOURCES = 8

_sessions: dict[str, requests.Session] = {}
_sessions_lock = threading.Lock()


def http_session(source_id: str) -> requests.Session:
    """One pooled session per source per warm container (sessions are not shared across threads)."""
    with _sessions_lock:
        session = _sessions.get(source_id)
        if session is None:
            session = _sessions[source_id] = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
        return session


def configured_sources(settings: Settings) -> list[SourceConfig]:
    return list(load_config(settings.config_path).sources)


def find_source(settings: Settings, source_id: str) -> SourceConfig:
    for source in configured_sources(settings):
        if source.id == source_id:
            return source
    raise ConfigurationError(f"no source {source_id!r} in {settings.config_path}")


def poll_configured_source(
    settings: Settings,
    source: SourceConfig | str,
    deadline: Deadline,
    *,
    metrics: MetricsPort | None = None,
    seen: DynamoSeenIndex | None = None,
    secrets: Any = None,
    keep_new: bool = False,
) -> PollResult:
    if isinstance(source, str):
        source = find_source(settings, source)
    ddb, sqs = aws.client("dynamodb"), aws.client("sqs")
    extra: dict[str, Any] = {"secrets": secrets} if secrets is not None else {}
    return poll_source(
        source,
        http_session(source.id),
        DynamoCursorStore(ddb, settings.table_name),
        SqsMentionSink(sqs, settings.mentions_queue_url),
        deadline,
        seen=seen or DynamoSeenIndex(ddb, settings.table_name),
        dead_letters=SqsDeadLetterSink(sqs, dead_letter_queue_url(settings)),
        metrics=metrics,
        max_inline_wait_s=min(10.0, deadline.remaining() / 4),
        keep_new=keep_new,
        **extra,
    )


def poll_all_sources(
    settings: Settings, deadline: Deadline, *, metrics: MetricsPort | None = None, now: float | None = None
) -> list[PollResult]:
    """Poll every enabled source that is due (its `every_s` has passed), in parallel."""
    now = time.time() if now is None else now
    store = DynamoCursorStore(aws.client("dynamodb"), settings.table_name)
    due = []
    for source in configured_sources(settings):
        if not source.enabled:
            continue
        polled_at = store.polled_at(source.id)
        if polled_at is not None and now - polled_at < source.every_s * 0.9:
            continue
        due.append(source)
    if not due:
        return []
    lock = threading.Lock()

    def run(source: SourceConfig) -> PollResult:
        result = poll_configured_source(settings, source, deadline, metrics=_Locked(metrics, lock) if metrics else None)
        store.mark_polled(source.id, now)
        return result

    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_SOURCES, len(due))) as pool:
        return list(pool.map(run, due))


class _Locked:
    """Powertools Metrics is not thread-safe; serialise add_metric across source threads."""

    def __init__(self, inner: MetricsPort, lock: threading.Lock) -> None:
        self._inner = inner
        self._lock = lock

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        with self._lock:
            self._inner.add_metric(name, unit, value)
