"""The port incidents and quiet periods send through: a message to a customer or a brand post.

It sits on `deliver` (customers with a case) and the outbox (brand posts, customers without a case), so
the layers above plug into outbound rather than outbound knowing them; tests give them a fake Sender.
Holds for case messages are the ones plugged into Deps (see socialcare.outbound.hold_reason).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from socialcare.models import utcnow
from socialcare.outbound.delivery import OutboundError, deliver
from socialcare.outbound.outbox import OutboxBusyError, publish_once, resolve_writer
from socialcare.outbound.writers import OutboundMessage
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


class Sender(Protocol):
    def send(self, message: Outgoing) -> str: ...


class DraftSender:
    """Records each message once under its idempotency key (PK=OUTBOX#{platform}); returns its id."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def send(self, message: Outgoing) -> str:
        item = {
            "PK": f"OUTBOX#{message.platform}",
            "SK": message.idempotency_key,
            "at": iso(utcnow()),
            **{k: v for k, v in message.__dict__.items() if v is not None},
        }
        self.store.put_new(to_item(item))
        return f"draft:{message.platform}:{message.idempotency_key}"


class OutboundSender:
    """Through socialcare.outbound: `deliver` for a customer with a case (recorded on the case, published
    or drafted, held if a quiet period applies); the platform writer for brand posts and for customers
    without a case (replying to their post), a draft when the platform has no write credentials."""

    def __init__(self, deps: Any) -> None:
        self.deps = deps
        self.drafts = DraftSender(deps.store)

    def send(self, message: Outgoing) -> str:
        if message.case_id:
            case = self.deps.store.get_case(message.case_id)
            d = deliver(
                self.deps,
                case,
                message.text,
                channel=message.channel,
                kind=message.kind,
                idempotency_key=message.idempotency_key,
            )
            return f"{d.mode}:{d.external_id or message.idempotency_key}"
        return self._publish(message)

    def _publish(self, message: Outgoing) -> str:
        """A brand post or a reply to a customer without a case, exactly once per key: the outbox
        intent (OUTBOX#{platform} / SEND#{key}) is written before the platform is asked."""
        resolved = resolve_writer(self.deps, message.platform, message.channel)
        if isinstance(resolved, str):
            return self.drafts.send(message)
        writer, token = resolved
        in_reply_to = (
            message.in_reply_to.split("#", 1)[1] if message.in_reply_to and "#" in message.in_reply_to else None
        )
        outgoing = OutboundMessage(
            text=message.text, channel=message.channel, idempotency_key=message.idempotency_key, in_reply_to=in_reply_to
        )
        try:
            outcome = publish_once(
                self.deps,
                f"OUTBOX#{message.platform}",
                f"SEND#{message.idempotency_key}",
                message.platform,
                writer,
                token,
                outgoing,
                {"kind": message.kind},
            )
        except OutboxBusyError as exc:
            raise OutboundError(str(exc)) from exc
        if outcome.state == "draft":
            return self.drafts.send(message)
        if outcome.state == "unknown":
            return f"unknown:{message.platform}:{message.idempotency_key}"
        return f"published:{outcome.external_id}"


def default_sender(deps: Any) -> Sender:
    return OutboundSender(deps)


class RateLimiter:
    """A token bucket per platform: incident updates never exceed the platform's write limits."""

    def __init__(
        self,
        rates: dict[str, float],
        default: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
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
