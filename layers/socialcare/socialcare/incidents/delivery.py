"""Sending a message to a customer or publishing a brand post, behind a small port.

The outbound capability (socialcare.outbound, issue 5) owns real delivery; until it is importable
this module records drafts in the table so nothing is lost and the same key never sends twice.
Quiet periods are enforced by the callers that know the message kind (socialcare.quiet.guard).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from socialcare.models import utcnow
from socialcare.store import Store, iso, to_item


class DeliveryError(Exception):
    """The platform refused the message; retrying with the same key is safe."""


@dataclass(frozen=True)
class Outgoing:
    platform: str
    text: str
    idempotency_key: str
    kind: str = "service"  # service | promotional | auto_ack | incident_update
    channel: str = "public"  # public | dm | email
    recipient: str | None = None  # customer key; None for a brand post
    in_reply_to: str | None = None  # mention key
    case_id: str | None = None
    region: str | None = None


class Delivery(Protocol):
    def send(self, message: Outgoing) -> str: ...


class DraftDelivery:
    """Records each message once under its idempotency key (PK=OUTBOX#{platform}); returns its id."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def send(self, message: Outgoing) -> str:
        item = {"PK": f"OUTBOX#{message.platform}", "SK": message.idempotency_key, "at": iso(utcnow()),
                **{k: v for k, v in message.__dict__.items() if v is not None}}
        self.store.put_new(to_item(item))
        return f"draft:{message.platform}:{message.idempotency_key}"


class OutboundDelivery:
    """Adapter over socialcare.outbound.deliver once it lands (publishes or records a draft)."""

    def __init__(self, deliver: Callable[..., Any], deps: Any) -> None:
        self._deliver = deliver
        self._deps = deps

    def send(self, message: Outgoing) -> str:
        result = self._deliver(message, self._deps)
        return str(getattr(result, "id", result))


def default_delivery(deps: Any) -> Delivery:
    try:
        from socialcare.outbound import deliver  # type: ignore[attr-defined]
    except ImportError:
        return DraftDelivery(deps.store)
    return OutboundDelivery(deliver, deps)


class RateLimiter:
    """A token bucket per platform: incident updates never exceed the platform's write limits."""

    def __init__(self, rates: dict[str, float], default: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rates = rates
        self.default = default
        self.clock = clock
        self.sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def acquire(self, platform: str) -> None:
        interval = 1.0 / self.rates.get(platform, self.default)
        with self._lock:
            now = self.clock()
            at = max(now, self._next.get(platform, now))
            self._next[platform] = at + interval
        if at > now:
            self.waited_s += at - now
            self.sleep(at - now)
