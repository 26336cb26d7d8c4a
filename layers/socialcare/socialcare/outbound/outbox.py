"""Publishing exactly once, on top of callers that retry after a crash.

Every write to a platform (agent replies, acknowledgements, incident updates, brand posts, released
held messages) goes through `publish_once`:

1. an intent is written with a conditional put under the delivery's idempotency key, state
   "sending", before the platform is asked;
2. the platform is asked once;
3. the intent is settled: "published" with the platform's id, or "draft" when the platform refused.

A process that dies between 2 and 3 leaves "sending". A retry that finds it does not post blindly:
it asks the writer whether the first attempt reached the platform (`Writer.recover`: X reads the
brand's own recent posts, Mastodon repeats the request under the same Idempotency-Key). Found:
settled as published. Certainly absent and the first attempt is past its lease: a new attempt.
Cannot tell: "unknown", listed for a person to check before anything is resent. Intents nobody
retries are settled the same way by `reconcile_stuck` (the scheduled publisher runs it).

Intent states: sending -> published | draft | unknown | not_sent (absent: the next retry sends it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import ClientError

from socialcare.observability import logger, metrics
from socialcare.outbound.writers import (
    LookupUnavailableError,
    OutboundMessage,
    PublishError,
    PublishUncertainError,
    Writer,
    writer_for,
)
from socialcare.store import StoreError, from_item, iso, to_item

# Longer than a writer's connect + read timeout: an intent younger than this may still be in flight.
LEASE = timedelta(seconds=60)
SENDING_INDEX_PK = "OUTBOX#SENDING"  # GSI1 (sparse index) entry while unsettled: how reconcile finds it
State = Literal["published", "draft", "unknown"]

# Tests (and the local stack) replace this to give writers a fake HTTP session.
HTTP_SESSION: Any = None


class OutboxBusyError(Exception):
    """Another attempt with this key may still be in flight: retry the same key later."""


@dataclass(frozen=True)
class Outcome:
    state: State
    reason: str
    external_id: str | None = None
    replayed: bool = False
    record: dict[str, Any] | None = None  # the settled intent, as stored


def resolve_writer(deps: Any, platform: str, channel: str) -> tuple[Writer, str] | str:
    """(writer, token) for the platform, or why there is none (the message becomes a draft)."""
    from socialcare.ingest.errors import ConfigurationError
    from socialcare.ingest.secrets import load_secret

    account = deps.config.outbound.get(platform)
    if account is None:
        return f"no write credentials for {platform}; a human posts it"
    writer = writer_for(platform, account, HTTP_SESSION)
    if writer is None or not writer.supports(channel):
        return f"no {channel} writer for {platform}; a human posts it"
    try:
        return writer, load_secret(account.secret)
    except ConfigurationError as exc:
        return f"write credentials unreadable ({exc}); a human posts it"


def _raw_key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def publish_once(
    deps: Any,
    pk: str,
    sk: str,
    platform: str,
    writer: Writer,
    token: str,
    message: OutboundMessage,
    fields: dict[str, Any] | None = None,
) -> Outcome:
    """Posts `message` at most once per (pk, sk); see the module docstring. `fields` are kept on the
    intent beside the state (what the caller shows later: kind, channel, ...)."""
    store = deps.store
    now = deps.now()
    stamp = iso(now)
    intent = {
        **(fields or {}),
        "PK": pk,
        "SK": sk,
        "mode": "sending",
        "platform": platform,
        "channel": message.channel,
        "text": message.text,
        "idempotency_key": message.idempotency_key,
        "in_reply_to": message.in_reply_to,
        "recipient_id": message.recipient_id,
        "attempt_at": stamp,
        "attempts": 1,
        "GSI1PK": SENDING_INDEX_PK,
        "GSI1SK": f"{stamp}#{pk}#{sk}",
    }
    if not store.put_new(to_item({k: v for k, v in intent.items() if v is not None})):
        existing = store.get(_raw_key(pk, sk))
        if existing is None:  # pragma: no cover - the item cannot vanish; a retry starts again
            raise OutboxBusyError(f"intent {pk}/{sk} changed under us; retry")
        return _resume(deps, existing, writer, token, message)
    return _attempt(deps, pk, sk, stamp, writer, token, message)


def _attempt(deps: Any, pk: str, sk: str, stamp: str, writer: Writer, token: str, message: OutboundMessage) -> Outcome:
    """One request to the platform under a claimed attempt (`stamp`), then the settlement."""
    try:
        external_id = writer.publish(message, token)
    except PublishUncertainError as exc:
        return _recover(deps, pk, sk, stamp, writer, token, message, datetime.fromisoformat(stamp), str(exc))
    except PublishError as exc:
        return _settle(deps, pk, sk, stamp, "draft", f"{exc}; kept as a draft for a human to post", None)
    return _settle(deps, pk, sk, stamp, "published", f"posted on {writer.platform}", external_id)


def _resume(deps: Any, item: dict[str, Any], writer: Writer, token: str, message: OutboundMessage) -> Outcome:
    """A retry found the intent: replay a settled one, look an unsettled one up, never post blindly."""
    pk, sk, mode = item["PK"], item["SK"], item.get("mode")
    message = _message_of(item)  # what the first attempt sent (the thread may have moved on since)
    if mode in {"published", "draft", "unknown", "held"}:
        return Outcome(
            mode if mode != "held" else "draft",
            item.get("reason", ""),
            item.get("external_id"),
            replayed=True,
            record=item,
        )
    stamp = item["attempt_at"]
    if mode == "sending":
        outcome = _recover(
            deps,
            pk,
            sk,
            stamp,
            writer,
            token,
            message,
            datetime.fromisoformat(stamp),
            "a retry found an earlier attempt",
            absent_ok=True,
        )
        if outcome is not None:
            return outcome
        if deps.now() - datetime.fromisoformat(stamp) < LEASE:
            raise OutboxBusyError(f"an attempt for {message.idempotency_key} may still be in flight; retry later")
    # Certainly not posted (absent past its lease, or settled "not_sent"): claim a new attempt.
    new_stamp = iso(deps.now())
    if not _claim(deps, pk, sk, stamp, new_stamp, item):
        latest = deps.store.get(_raw_key(pk, sk))
        if latest is None or latest.get("mode") in {"sending", "not_sent"}:
            raise OutboxBusyError(f"another retry of {message.idempotency_key} is sending it; retry later")
        return _resume(deps, latest, writer, token, message)
    metrics.add_metric(name="OutboundResent", unit="Count", value=1)
    return _attempt(deps, pk, sk, new_stamp, writer, token, message)


def _recover(
    deps: Any,
    pk: str,
    sk: str,
    stamp: str,
    writer: Writer,
    token: str,
    message: OutboundMessage,
    since: datetime,
    why: str,
    *,
    absent_ok: bool = False,
) -> Any:
    """Asks the platform whether the attempt started at `since` was posted and settles from the
    answer. With absent_ok, "certainly absent" returns None (the caller may send again); otherwise
    absent after an uncertain failure settles as unknown too (the post may still appear)."""
    try:
        found = writer.recover(message, token, since)
    except LookupUnavailableError as exc:
        return _unknown(deps, pk, sk, stamp, f"{why}; {exc}")
    if found:
        metrics.add_metric(name="OutboundRecovered", unit="Count", value=1)
        return _settle(deps, pk, sk, stamp, "published", f"posted on {writer.platform} (found after a retry)", found)
    if absent_ok:
        return None
    return _unknown(deps, pk, sk, stamp, f"{why}; not found on {writer.platform} yet")


def _unknown(deps: Any, pk: str, sk: str, stamp: str, why: str) -> Outcome:
    metrics.add_metric(name="OutboundUnknown", unit="Count", value=1)
    logger.warning("outbound delivery unknown; a person checks before resending", intent=f"{pk}/{sk}")
    return _settle(deps, pk, sk, stamp, "unknown", f"unknown - check before resending ({why})", None)


def _claim(deps: Any, pk: str, sk: str, stamp: str, new_stamp: str, item: dict[str, Any]) -> bool:
    return _conditional_update(
        deps,
        pk,
        sk,
        stamp,
        "SET #m = :sending, attempt_at = :new, attempts = :n, GSI1PK = :g, GSI1SK = :gs",
        {
            ":sending": {"S": "sending"},
            ":new": {"S": new_stamp},
            ":n": {"N": str(int(item.get("attempts", 1)) + 1)},
            ":g": {"S": SENDING_INDEX_PK},
            ":gs": {"S": f"{new_stamp}#{pk}#{sk}"},
        },
        modes=("sending", "not_sent"),
    )


def _settle(deps: Any, pk: str, sk: str, stamp: str, state: str, reason: str, external_id: str | None) -> Outcome:
    values = {":state": {"S": state}, ":reason": {"S": reason}, ":at": {"S": iso(deps.now())}}
    expr = "SET #m = :state, reason = :reason, settled_at = :at"
    if external_id:
        values[":ext"] = {"S": external_id}
        expr += ", external_id = :ext"
    if not _conditional_update(deps, pk, sk, stamp, expr + " REMOVE GSI1PK, GSI1SK", values, modes=("sending",)):
        # Someone else settled this attempt first (a reconcile, a concurrent retry): theirs stands.
        latest = deps.store.get(_raw_key(pk, sk)) or {}
        if latest.get("mode") in {"published", "draft", "unknown"}:
            return Outcome(latest["mode"], latest.get("reason", ""), latest.get("external_id"), True, latest)
        raise OutboxBusyError(f"intent {pk}/{sk} moved on to another attempt; retry")
    record = deps.store.get(_raw_key(pk, sk))
    return Outcome(state, reason, external_id, record=record)  # type: ignore[arg-type]


def _conditional_update(
    deps: Any, pk: str, sk: str, stamp: str, expr: str, values: dict[str, Any], *, modes: tuple[str, ...]
) -> bool:
    names = {"#m": "mode"}
    mode_values = {f":mode{i}": {"S": m} for i, m in enumerate(modes)}
    condition = f"attempt_at = :stamp AND #m IN ({', '.join(mode_values)})"
    try:
        deps.store.ddb.update_item(
            TableName=deps.store.table,
            Key=_raw_key(pk, sk),
            UpdateExpression=expr,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={**values, **mode_values, ":stamp": {"S": stamp}},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise StoreError(str(exc)) from exc
    return True


def reconcile_stuck(deps: Any, limit: int = 100) -> dict[str, int]:
    """Settles intents left "sending" past their lease (the process died after asking the platform):
    published when the platform has the post, not_sent when it certainly has not (the caller's next
    retry sends it), unknown when nobody can tell. Nothing is posted here."""
    counts = {"published": 0, "not_sent": 0, "unknown": 0, "draft": 0}
    cutoff = iso(deps.now() - LEASE)
    try:
        page = deps.store.ddb.query(
            TableName=deps.store.table,
            IndexName="OpenByDepartment",
            Limit=limit,  # the sparse GSI1 index
            KeyConditionExpression="GSI1PK = :p AND GSI1SK < :cutoff",
            ExpressionAttributeValues={":p": {"S": SENDING_INDEX_PK}, ":cutoff": {"S": cutoff}},
        )
    except ClientError as exc:
        raise StoreError(str(exc)) from exc
    for entry in page.get("Items", []):
        seen = from_item(entry)
        item = deps.store.get(_raw_key(seen["PK"], seen["SK"]))  # the index lags: decide on the base item
        if item is None or item.get("mode") != "sending" or item["attempt_at"] >= cutoff:
            continue
        counts[_reconcile_one(deps, item)] += 1
    if any(counts.values()):
        logger.info("stuck outbound intents reconciled", **counts)
    return counts


def _message_of(item: dict[str, Any]) -> OutboundMessage:
    return OutboundMessage(
        text=item["text"],
        channel=item["channel"],
        idempotency_key=item["idempotency_key"],
        in_reply_to=item.get("in_reply_to"),
        recipient_id=item.get("recipient_id"),
    )


def _reconcile_one(deps: Any, item: dict[str, Any]) -> str:
    pk, sk, stamp = item["PK"], item["SK"], item["attempt_at"]
    message = _message_of(item)
    resolved = resolve_writer(deps, item["platform"], item["channel"])
    if isinstance(resolved, str):
        return _unknown(deps, pk, sk, stamp, f"cannot look it up: {resolved}").state
    writer, token = resolved
    try:
        outcome = _recover(
            deps,
            pk,
            sk,
            stamp,
            writer,
            token,
            message,
            datetime.fromisoformat(stamp),
            "the sender stopped before recording the answer",
            absent_ok=True,
        )
    except OutboxBusyError:
        return "unknown"
    if outcome is not None:
        return outcome.state
    if _conditional_update(
        deps, pk, sk, stamp, "SET #m = :ns REMOVE GSI1PK, GSI1SK", {":ns": {"S": "not_sent"}}, modes=("sending",)
    ):
        return "not_sent"
    return "unknown"
