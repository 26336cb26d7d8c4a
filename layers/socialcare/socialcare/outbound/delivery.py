"""Publish or draft, once per idempotency key, and record what happened on the case."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from socialcare.cases.deps import Deps, Hold
from socialcare.models import Case
from socialcare.observability import logger
from socialcare.outbound.writers import OutboundMessage, PublishError, writer_for
from socialcare.store import to_item

Mode = Literal["published", "draft", "held"]

# Tests (and the local stack) replace this to give writers a fake HTTP session.
HTTP_SESSION: Any = None


class OutboundError(Exception):
    """The delivery could not even be recorded (store failure); the caller may retry the same key."""


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
        if message.get("direction") == "in" and str(message.get("mention_key", "")).startswith(
            f"{case.platform}#"
        ):
            latest = message["mention_key"]
    return _platform_id(latest or case.mention_key)


def _publish(deps: Deps, case: Case, text: str, channel: str, key: str) -> tuple[Mode, str, str | None]:
    account = deps.config.outbound.get(case.platform)
    if account is None:
        return "draft", f"no write credentials for {case.platform}; a human posts it", None
    writer = writer_for(case.platform, account, HTTP_SESSION)
    if writer is None or not writer.supports(channel):
        return "draft", f"no {channel} writer for {case.platform}; a human posts it", None
    from socialcare.ingest.errors import ConfigurationError
    from socialcare.ingest.secrets import load_secret

    try:
        token = load_secret(account.secret)
    except ConfigurationError as exc:
        return "draft", f"write credentials unreadable ({exc}); a human posts it", None
    message = OutboundMessage(
        text=text,
        channel=channel,
        idempotency_key=key,
        in_reply_to=_in_reply_to(deps, case) if channel == "public" else None,
        recipient_id=case.author.id,
    )
    try:
        external_id = writer.publish(message, token)
    except PublishError as exc:
        return "draft", f"{exc}; kept as a draft for a human to post", None
    return "published", f"posted on {case.platform}", external_id


def deliver(
    deps: Deps,
    case: Case,
    text: str,
    channel: str = "public",
    kind: str = "reply",
    idempotency_key: str = "",
) -> Delivery:
    """Sends `text` to the case's customer once per `idempotency_key`; see the package docstring."""
    if not idempotency_key:
        raise ValueError("deliver needs an idempotency_key")
    if (stored := deps.store.get(_key(case.id, idempotency_key))) is not None:
        return _from_record(stored)
    now = deps.now()
    holding = _holding(deps, case, kind)
    if holding:
        mode, reason, external_id = "held", holding[1], None
    else:
        mode, reason, external_id = _publish(deps, case, text, channel, idempotency_key)
    delivery = Delivery(mode, case.platform, channel, kind, text, idempotency_key, now, reason, external_id)
    record = {
        "PK": f"CASE#{case.id}",
        "SK": f"OUTBOUND#{idempotency_key}",
        "at": now.isoformat(),
        **delivery.as_dict(),
        "text": text,
    }
    if not deps.store.put_new(to_item(record)):
        # A concurrent call with the same key won the race: its outcome stands.
        stored = deps.store.get(_key(case.id, idempotency_key))
        if stored is not None:
            return _from_record(stored)
    if holding:
        holding[0].record(deps, case, delivery)
    logger.info(
        "outbound delivery", case_id=case.id, mode=mode, kind=kind, channel=channel, platform=case.platform
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
