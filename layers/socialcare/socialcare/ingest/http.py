"""The one HTTP path every connector uses: timeouts, retries with jitter, and rate limits from headers.

Rate limits are read, never guessed: x-rate-limit-* (X), X-RateLimit-* (Mastodon), X-Ratelimit-*
(Reddit, where reset is seconds left), RateLimit-* (Bluesky, IETF draft) and Retry-After. When the
platform says "none left", no further request is made before its reset.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from socialcare.ingest.errors import AuthError, MalformedPageError, RateLimitedError, TransientError

RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
DEFAULT_TIMEOUT = (3.05, 10.0)
# When a platform sends 429 without any reset information, wait this long before asking again.
FALLBACK_RETRY_S = 60.0
# Epoch seconds are larger than this; smaller numbers are "seconds from now".
_EPOCH_THRESHOLD = 1_000_000_000


class Deadline:
    """The Lambda's remaining time budget (monotonic), minus a margin to save the cursor."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._expires = clock() + seconds

    @classmethod
    def from_context(cls, context: Any, *, margin_s: float = 5.0) -> Deadline:
        return cls(max(0.0, context.get_remaining_time_in_millis() / 1000 - margin_s))

    def remaining(self) -> float:
        return max(0.0, self._expires - self._clock())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


def _parse_reset(value: str, now: float) -> float | None:
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        return number if number > _EPOCH_THRESHOLD else now + max(0.0, number)
    try:  # Mastodon: ISO 8601 timestamp
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        pass
    try:  # Retry-After: HTTP date
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class RateLimit:
    remaining: float | None = None
    reset_at: float | None = None
    limit: float | None = None

    @property
    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0 and self.reset_at is not None


def parse_rate_limit(headers: Mapping[str, str], now: float) -> RateLimit:
    """Read whichever family of rate-limit headers the platform sent (header names are case-insensitive)."""
    lower = {k.lower(): v for k, v in headers.items()}
    remaining = reset = limit = None
    for prefix in ("x-rate-limit-", "x-ratelimit-", "ratelimit-"):
        if prefix + "remaining" in lower or prefix + "reset" in lower:
            try:
                remaining = float(lower[prefix + "remaining"]) if prefix + "remaining" in lower else None
                limit = float(lower[prefix + "limit"]) if prefix + "limit" in lower else None
            except ValueError:
                remaining = None
            if prefix + "reset" in lower:
                reset = _parse_reset(lower[prefix + "reset"], now)
            break
    if "retry-after" in lower:
        after = _parse_reset(lower["retry-after"], now)
        if after is not None:
            reset = max(reset or 0.0, after)
    return RateLimit(remaining=remaining, reset_at=reset, limit=limit)


# A connector may look at a response first: platforms hide rate limits and quotas in odd places
# (Reddit's 200 with {"error": 429}, YouTube's 403 quotaExceeded). Return an exception or None.
ErrorHook = Callable[[requests.Response, float], Exception | None]


@dataclass
class Http:
    """A requests Session wrapped with the source's time budget and rate-limit memory."""

    session: requests.Session
    deadline: Deadline
    timeout: tuple[float, float] = DEFAULT_TIMEOUT
    max_attempts: int = 4
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 8.0
    # A limited source may wait in-process for its reset if the wait is this short and fits the budget;
    # longer waits end the poll and the source sleeps in DynamoDB instead.
    max_inline_wait_s: float = 0.0
    error_hook: ErrorHook | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    limited_until: float | None = None
    requests_made: int = 0
    last_rate_limit: RateLimit = field(default_factory=RateLimit)

    def now(self) -> datetime:
        """The wall clock this session runs on (injected in tests): backfill windows start from it."""
        return datetime.fromtimestamp(self.clock(), UTC)

    def _wait_for_limit(self) -> None:
        if self.limited_until is None:
            return
        wait = self.limited_until - self.clock()
        if wait <= 0:
            self.limited_until = None
            return
        if wait <= self.max_inline_wait_s and wait < self.deadline.remaining():
            self.sleep(wait)
            self.limited_until = None
            return
        raise RateLimitedError(self.limited_until, "rate limit exhausted")

    def _backoff(self, attempt: int, why: str) -> None:
        delay = random.uniform(0, min(self.backoff_cap_s, self.backoff_base_s * 2**attempt))  # full jitter
        if attempt + 1 >= self.max_attempts or delay + self.timeout[0] >= self.deadline.remaining():
            raise TransientError(f"{why} (gave up after {attempt + 1} attempts)")
        self.sleep(delay)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send with retries. Raises RateLimitedError, AuthError or TransientError; returns 2xx/3xx/4xx."""
        attempt = 0
        while True:
            self._wait_for_limit()
            if self.deadline.expired:
                raise TransientError("time budget exhausted before the request")
            read_timeout = min(self.timeout[1], max(0.5, self.deadline.remaining()))
            self.requests_made += 1
            try:
                response = self.session.request(method, url, timeout=(self.timeout[0], read_timeout), **kwargs)
            except (requests.Timeout, requests.ConnectionError) as exc:
                self._backoff(attempt, f"{type(exc).__name__} on {method} {_path(url)}")
                attempt += 1
                continue
            now = self.clock()
            limit = parse_rate_limit(response.headers, now)
            self.last_rate_limit = limit
            if self.error_hook is not None:
                error = self.error_hook(response, now)
                if error is not None:
                    if isinstance(error, RateLimitedError):
                        self.limited_until = error.reset_at
                    raise error
            status = response.status_code
            if status == 429 or (status == 503 and "retry-after" in {k.lower() for k in response.headers}):
                reset = limit.reset_at if limit.reset_at and limit.reset_at > now else now + FALLBACK_RETRY_S
                self.limited_until = reset
                raise RateLimitedError(reset, f"HTTP {status} {_problem_title(response)}".strip())
            if status in (401, 402, 403):
                raise AuthError(status, _problem_title(response))
            if status in RETRYABLE_STATUS:
                self._backoff(attempt, f"HTTP {status} on {method} {_path(url)}")
                attempt += 1
                continue
            if limit.exhausted:
                self.limited_until = limit.reset_at
            return response

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)


def _path(url: str) -> str:
    """The URL without its query string: query strings can carry API keys and must not reach logs."""
    return url.split("?", 1)[0]


def _problem_title(response: requests.Response) -> str:
    """A short, secret-free description of an error body (RFC 7807, Mastodon, Bluesky, Graph, legacy X)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    for key in ("title", "error_description", "message", "error"):
        value = body.get(key)
        if isinstance(value, str):
            return value[:200]
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return value["message"][:200]
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message", ""))[:200]
    return ""


def json_body(response: requests.Response) -> Any:
    """The parsed JSON body, or MalformedPageError carrying the raw text for the dead-letter queue."""
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError) as exc:
        raise MalformedPageError(f"HTTP {response.status_code}: body is not JSON", response.text) from exc
