"""Wiring for the scheduled poller: settings and brand configuration in, one PollResult out."""

from __future__ import annotations

import functools

import requests

from socialcare import aws
from socialcare.config import load_config
from socialcare.ingest.errors import ConfigurationError
from socialcare.ingest.http import Deadline
from socialcare.ingest.poller import MetricsPort, PollResult, poll_source
from socialcare.ingest.sinks import DynamoSeenIndex, SqsDeadLetterSink, SqsMentionSink
from socialcare.ingest.sources import SourceConfig
from socialcare.ingest.state import DynamoCursorStore
from socialcare.settings import Settings

USER_AGENT = "socialcare-poller/0.1 (+https://github.com/socialcare)"


def dead_letter_queue_url(settings: Settings) -> str:
    """The connector dead-letter queue sits next to the mentions queue: <stack>-ingest-dlq."""
    base = settings.mentions_queue_url.rsplit("/", 1)[0]
    return f"{base}/{settings.stack_name}-ingest-dlq"


@functools.cache
def http_session() -> requests.Session:
    """One pooled session per warm Lambda container."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


def find_source(settings: Settings, source_id: str) -> SourceConfig:
    config = load_config(settings.config_path)
    for source in config.sources:
        if source.id == source_id:
            return source
    raise ConfigurationError(f"no source {source_id!r} in {settings.config_path}")


def poll_configured_source(
    settings: Settings, source_id: str, deadline: Deadline, *, metrics: MetricsPort | None = None
) -> PollResult:
    source = find_source(settings, source_id)
    ddb, sqs = aws.client("dynamodb"), aws.client("sqs")
    return poll_source(
        source,
        http_session(),
        DynamoCursorStore(ddb, settings.table_name),
        SqsMentionSink(sqs, settings.mentions_queue_url),
        deadline,
        seen=DynamoSeenIndex(ddb, settings.table_name),
        dead_letters=SqsDeadLetterSink(sqs, dead_letter_queue_url(settings)),
        metrics=metrics,
        max_inline_wait_s=min(10.0, deadline.remaining() / 4),
    )
