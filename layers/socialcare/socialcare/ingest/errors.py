"""Why a poll stopped. The poller maps each to one source state: retry later, sleep, or mark unhealthy."""

from __future__ import annotations


class IngestError(Exception):
    """Base class for everything a connector or the poller can raise."""


class TransientError(IngestError):
    """A 5xx, timeout or connection failure that outlived its retries or the time budget."""


class RateLimitedError(IngestError):
    """The platform said stop until `reset_at` (Unix seconds); no request may be made before then."""

    def __init__(self, reset_at: float, detail: str = "rate limited") -> None:
        super().__init__(f"{detail}; reset at {reset_at:.0f}")
        self.reset_at = reset_at
        self.detail = detail


class AuthError(IngestError):
    """401/403 (or a blocked account): a human must fix the credentials; the source is skipped until then."""

    def __init__(self, status: int, detail: str = "") -> None:
        super().__init__(f"HTTP {status}: {detail}" if detail else f"HTTP {status}")
        self.status = status


class SourceRejectedError(AuthError):
    """The platform refuses the request itself (400/404: a bad query, an unknown user): fix the config."""


class StaleCursorError(IngestError):
    """A stored page token is no longer accepted; the run restarts from the stored mark."""


class PagingLoopError(IngestError):
    """The source handed back a page token already followed in this poll: paging stops until the next one."""


class SourceGoneError(IngestError):
    """The source no longer exists (HTTP 410, deleted subreddit/video): disable it."""


class MalformedPageError(IngestError):
    """A whole response was unusable (not JSON, wrong shape); it is dead-lettered with its raw body."""

    def __init__(self, reason: str, raw: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw = raw


class QueueError(IngestError):
    """SQS did not accept every mention of a page, even after retries: the cursor must not move."""


class CursorConflictError(IngestError):
    """Another poller moved this source's cursor first (overlapping runs); this run stops."""


class ConfigurationError(IngestError):
    """A source's configuration cannot be polled (missing query, unknown platform, bad secret shape)."""
