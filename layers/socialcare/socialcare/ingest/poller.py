"""Poll one source once: fetch pages, drop what is already known, queue the rest, then move the cursor.

The order is the guarantee: a page's cursor is saved only after every mention on it (and its dead
letters) is accepted by SQS. A crash anywhere before that replays the page next time, and dedup
drops the repeats. A rate-limited source sleeps in its DynamoDB item; an unauthorised one is marked
unhealthy (metric SourceUnhealthy, alarmed) and skipped until its secret or its configuration changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from socialcare.ingest.base import Connector, DeadItem
from socialcare.ingest.connectors import build_connector
from socialcare.ingest.errors import (
    AuthError,
    ConfigurationError,
    CursorConflictError,
    IngestError,
    MalformedPageError,
    PagingLoopError,
    RateLimitedError,
    SourceGoneError,
    TransientError,
)
from socialcare.ingest.http import Deadline, Http
from socialcare.ingest.secrets import fingerprint, load_secret
from socialcare.ingest.sinks import DeadLetterSink, MentionSink, SeenIndex
from socialcare.ingest.state import CursorStore
from socialcare.models import Mention
from socialcare.observability import logger
from socialcare.sources import SourceConfig

# Pages one source may fetch in one poll (up to 5,000 posts at 100 a page). A source with more waiting
# resumes from the saved page token on the next poll: requests per poll stay bounded whatever the
# platform answers, and nothing is skipped.
MAX_PAGES_PER_POLL = 50


class MetricsPort(Protocol):
    def add_metric(self, name: str, unit: Any, value: float) -> None: ...


class NullMetrics:
    def add_metric(self, name: str, unit: Any, value: float) -> None:
        return None


@dataclass
class PollResult:
    source_id: str
    platform: str
    queued: int = 0
    duplicates: int = 0
    rate_limited: int = 0
    errors: int = 0
    dead_lettered: int = 0
    requests: int = 0
    pages: int = 0
    skipped: str | None = None
    rate_limited_until: float | None = None
    new: list[Mention] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "queued": self.queued,
            "duplicates": self.duplicates,
            "rate_limited": self.rate_limited,
            "errors": self.errors,
        }


def poll_source(
    source: SourceConfig,
    session: requests.Session,
    store: CursorStore,
    sink: MentionSink,
    deadline: Deadline,
    *,
    seen: SeenIndex,
    dead_letters: DeadLetterSink,
    secrets: Callable[[str], str] = load_secret,
    metrics: MetricsPort | None = None,
    max_inline_wait_s: float = 0.0,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    connector_factory: Callable[[SourceConfig, Http, str | None], Connector] = build_connector,
    keep_new: bool = False,
    max_pages: int = MAX_PAGES_PER_POLL,
) -> PollResult:
    """Poll `source` once within `deadline`; never raises for platform trouble, only reports it."""
    metrics = metrics or NullMetrics()
    result = PollResult(source_id=source.id, platform=source.platform)
    log = logger
    state = store.load(source.id)

    if not source.enabled or state.disabled:
        result.skipped = "disabled"
        return result
    if state.rate_limited_until and state.rate_limited_until > clock():
        wait = state.rate_limited_until - clock()
        if wait > max_inline_wait_s or wait >= deadline.remaining():
            result.skipped = "rate_limited"
            result.rate_limited = 1
            result.rate_limited_until = state.rate_limited_until
            return result
        sleep(wait)

    try:
        secret = secrets(source.secret) if source.secret else None
    except ConfigurationError as exc:
        log.error("source secret unavailable", source_id=source.id, error=str(exc))
        metrics.add_metric("SourceUnhealthy", "Count", 1)
        result.errors = 1
        result.skipped = "secret"
        return result
    # The unhealthy mark lifts by itself when the secret is rotated or the source's configuration changes.
    secret_print = fingerprint(f"{secret or ''}|{source.model_dump_json()}")
    if not state.healthy and state.failed_secret == secret_print:
        result.skipped = "unhealthy"
        metrics.add_metric("SourceUnhealthy", "Count", 1)
        return result

    http = Http(session, deadline, max_inline_wait_s=max_inline_wait_s, clock=clock, sleep=sleep)
    try:
        connector = connector_factory(source, http, secret)
        for page in connector.pages(dict(state.cursor)):
            result.pages += 1
            if page.dead:
                dead_letters.send(source.id, source.platform, page.dead)
                result.dead_lettered += len(page.dead)
                result.errors += len(page.dead)
            new, duplicates = seen.unseen(page.mentions)
            if new:
                sink.send(new)
                seen.remember(new)
            result.queued += len(new)
            result.duplicates += duplicates
            if keep_new:
                result.new.extend(new)
            if page.cursor != state.cursor:
                state = store.save_cursor(state, page.cursor)
            if result.pages >= max_pages:
                log.info(
                    "page limit of one poll reached; the next poll resumes here",
                    source_id=source.id,
                    pages=result.pages,
                )
                break
        if not state.healthy:
            store.mark_healthy(source.id)
    except RateLimitedError as exc:
        store.mark_rate_limited(source.id, exc.reset_at)
        result.rate_limited = 1
        result.rate_limited_until = exc.reset_at
        log.info("source rate limited", source_id=source.id, reset_at=exc.reset_at, detail=exc.detail)
    except AuthError as exc:
        store.mark_unhealthy(source.id, str(exc), secret_fingerprint=secret_print)
        metrics.add_metric("SourceUnhealthy", "Count", 1)
        result.errors += 1
        log.error("source unauthorised; skipped until its secret changes", source_id=source.id, status=exc.status)
    except SourceGoneError as exc:
        store.disable(source.id, str(exc))
        result.errors += 1
        log.error("source gone; disabled", source_id=source.id, error=str(exc))
    except MalformedPageError as exc:
        dead_letters.send(source.id, source.platform, [DeadItem(reason=exc.reason, raw=exc.raw)])
        result.dead_lettered += 1
        result.errors += 1
        log.warning("unreadable page dead-lettered", source_id=source.id, reason=exc.reason)
    except PagingLoopError as exc:
        metrics.add_metric("PagingLoopsStopped", "Count", 1)
        log.warning("source repeated a page token; paging stopped for this poll", source_id=source.id, error=str(exc))
    except CursorConflictError:
        log.info("another poller advanced this source; stopping", source_id=source.id)
    except (TransientError, ConfigurationError, IngestError, requests.RequestException) as exc:
        result.errors += 1
        log.warning("poll stopped early", source_id=source.id, error_type=type(exc).__name__, error=str(exc))
    finally:
        result.requests = http.requests_made

    if http.limited_until and http.limited_until > clock() and not result.rate_limited:
        # The last page used the final request of the window: sleep before the next poll asks again.
        store.mark_rate_limited(source.id, http.limited_until)
        result.rate_limited_until = http.limited_until
    for name, value in (
        ("MentionsIngested", result.queued),
        ("MentionDuplicates", result.duplicates),
        ("SourceRateLimited", result.rate_limited),
        ("IngestErrors", result.errors),
        ("MentionsDeadLettered", result.dead_lettered),
    ):
        if value:
            metrics.add_metric(name, "Count", value)
    return result
