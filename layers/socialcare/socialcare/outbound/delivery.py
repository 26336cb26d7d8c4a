"""Publish or draft, once per idempotency key, and record what happened on the case."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from socialcare.cases.actions import BusyError
from socialcare.cases.deps import Deps, Hold
from socialcare.models import Case
from socialcare.observability import logger
from socialcare.outbound.outbox import OutboxBusyError, publish_once, resolve_writer
from socialcare.outbound.writers import OutboundMessage
from socialcare.store import to_item

Mode = Literal["published", "draft", "held", "unknown"]
SETTLED = frozenset({"published", "draft", "held", "unknown"})


class OutboundError(BusyError):
    """The delivery could not be settled now (an earlier attempt may still be in flight); the caller
    retries the same key later, which never posts twice. A BusyError, so an agent action answers
    "busy, retry the same request" (HTTP 503 with Retry-After) rather than failing."""


@dataclass(frozen=True)
class Delivery:
    mode: Mode
    platform: str
    channel: str
    kind: str
    text: str
    idempotency_key: str
    at: datetime
    reason: str = ""
    external_id: str | None = None
    replayed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "platform": self.platform,
            "channel": self.channel,
            "kind": self.kind,
            "reason": self.reason,
            "external_id": self.external_id,
            "idempotency_key": self.idempotency_key,
        }


def _key(case_id: str, idempotency_key: str) -> dict[str, Any]:
    return {"PK": {"S": f"CASE#{case_id}"}, "SK": {"S": f"OUTBOUND#{idempotency_key}"}}


def hold_reason(deps: Deps, case: Case, kind: str, channel: str) -> str | None:
    """Why this message must not go out now, or None. The single place for holds: each one plugged into
    Deps (quiet periods for the case's region hold acknowledgements and other automatic messages)."""
    found = _holding(deps, case, kind)
    return found[1] if found else None


def _holding(deps: Deps, case: Case, kind: str) -> tuple[Hold, str] | None:
    for hold in deps.holds:
        if reason := hold.reason(deps, case, kind):
            return hold, reason
    return None


def _platform_id(key: str | None) -> str | None:
    return key.split("#", 1)[1] if key and "#" in key else None


def _in_reply_to(deps: Deps, case: Case) -> str | None:
    """The customer's latest post on the case's platform: the reply goes into that thread."""
    latest = None
    for message in deps.store.messages(case.id):
        if message.get("direction") == "in" and str(message.get("mention_key", "")).startswith(f"{case.platform}#"):
            latest = message["mention_key"]
    return _platform_id(latest or case.mention_key)


def deliver(
    deps: Deps,
    case: Case,
    text: str,
    channel: str = "public",
    kind: str = "reply",
    idempotency_key: str = "",
) -> Delivery:
    """Sends `text` to the case's customer once per `idempotency_key`; see the package docstring.
    The case's OUTBOUND# item is the outbox intent: written before the platform is asked, settled after."""
    if not idempotency_key:
        raise ValueError("deliver needs an idempotency_key")
    stored = deps.store.get(_key(case.id, idempotency_key))
    if stored is not None and stored.get("mode") in SETTLED:
        return _from_record(stored)
    now = deps.now()
    pk, sk = f"CASE#{case.id}", f"OUTBOUND#{idempotency_key}"
    fields = {"at": stored["at"] if stored else now.isoformat(), "kind": kind, "platform": case.platform}
    holding = _holding(deps, case, kind) if stored is None else None
    resolved = resolve_writer(deps, case.platform, channel) if not holding else None
    if holding or isinstance(resolved, str):
        mode: Mode = "held" if holding else "draft"
        reason = holding[1] if holding else str(resolved)
        delivery = Delivery(mode, case.platform, channel, kind, text, idempotency_key, now, reason)
        record = {"PK": pk, "SK": sk, **fields, **delivery.as_dict(), "text": text}
        if not deps.store.put_new(to_item(record)):
            # A concurrent call with the same key won the race (its outcome stands), or an earlier
            # attempt reached a platform we can no longer ask: settle that one first.
            won = deps.store.get(_key(case.id, idempotency_key)) or {}
            if won.get("mode") not in SETTLED:
                raise OutboundError(f"delivery {idempotency_key} has an unsettled attempt and no writer to check it")
            return _from_record(won)
        if holding:
            holding[0].record(deps, case, delivery)  # listed for an operator to release or cancel
    else:
        assert resolved is not None
        writer, token = resolved
        message = OutboundMessage(
            text=text,
            channel=channel,
            idempotency_key=idempotency_key,
            in_reply_to=_in_reply_to(deps, case) if channel == "public" else None,
            recipient_id=case.author.id,
        )
        try:
            outcome = publish_once(deps, pk, sk, case.platform, writer, token, message, fields)
        except OutboxBusyError as exc:
            raise OutboundError(str(exc)) from exc
        if outcome.replayed and outcome.record is not None:
            return _from_record(outcome.record)
        delivery = Delivery(
            outcome.state,
            case.platform,
            channel,
            kind,
            text,
            idempotency_key,
            datetime.fromisoformat(fields["at"]),
            outcome.reason,
            outcome.external_id,
        )
    logger.info(
        "outbound delivery", case_id=case.id, mode=delivery.mode, kind=kind, channel=channel, platform=case.platform
    )
    return delivery


def _from_record(item: dict[str, Any]) -> Delivery:
    delivery = Delivery(
        mode=item["mode"],
        platform=item["platform"],
        channel=item["channel"],
        kind=item["kind"],
        text=item.get("text", ""),
        idempotency_key=item["idempotency_key"],
        at=datetime.fromisoformat(item["at"]),
        reason=item.get("reason", ""),
        external_id=item.get("external_id"),
    )
    return replace(delivery, replayed=True)
