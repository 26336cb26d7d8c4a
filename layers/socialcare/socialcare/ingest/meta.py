"""Meta (Facebook Page / Instagram) comments, pushed by webhook instead of polled.

Verification: a GET with hub.mode=subscribe and our verify token gets its hub.challenge back.
Delivery: a POST is accepted only when X-Hub-Signature-256 is the HMAC-SHA256 of the raw body with the
app secret (compared in constant time, on the bytes Meta sent: API Gateway may base64 them). Comments
become Mentions and go through the same dedup and queue as polled ones; a change we cannot read is
dead-lettered and the rest of the delivery still counts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from socialcare.ingest.base import DeadItem, normalise_items
from socialcare.ingest.secrets import secret_fields
from socialcare.ingest.sinks import DeadLetterSink, MentionSink, SeenIndex
from socialcare.ingest.text import clip, from_epoch
from socialcare.models import Author, Mention

SIGNATURE_HEADER = "x-hub-signature-256"
# Meta signs the body but no timestamp, so a captured delivery verifies for ever. Dedup makes a replay
# of a recent delivery a no-op; entries older than Meta's own retry horizon (36 h) plus a margin are
# refused outright, so an old capture cannot re-inject erased or expired comments.
REPLAY_WINDOW_S = 48 * 3600
SOURCE_ID = "meta-webhook"


@dataclass(frozen=True)
class MetaSecrets:
    app_secret: str
    verify_token: str

    @classmethod
    def parse(cls, value: str) -> MetaSecrets:
        fields = secret_fields(value, "app_secret", "verify_token")
        return cls(app_secret=str(fields["app_secret"]), verify_token=str(fields["verify_token"]))


@dataclass
class DeliveryResult:
    queued: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead_lettered: int = 0
    replayed: int = 0


def raw_body(body: str | None, is_base64: bool) -> bytes:
    """The exact bytes Meta signed."""
    if body is None:
        return b""
    return base64.b64decode(body) if is_base64 else body.encode("utf-8")


def signature_valid(app_secret: str, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def challenge_answer(params: dict[str, str], verify_token: str) -> str | None:
    """The challenge to echo when Meta verifies the subscription with our token; None otherwise."""
    if params.get("hub.mode") != "subscribe":
        return None
    if not hmac.compare_digest(params.get("hub.verify_token", "").encode(), verify_token.encode()):
        return None
    return params.get("hub.challenge")


def _time(value: Any) -> datetime:
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return from_epoch(int(value))
    return datetime.fromisoformat(str(value).replace("Z", "+00:00").replace("+0000", "+00:00"))


def _page_comment(value: dict[str, Any], entry_time: Any) -> Mention | None:
    if value.get("item") != "comment" or value.get("verb") not in ("add", "edited"):
        return None
    author = value["from"]
    comment_id = str(value["comment_id"])
    post_id = str(value["post_id"])
    parent = str(value.get("parent_id") or post_id)
    edited = value.get("verb") == "edited"
    created = _time(value.get("created_time") or entry_time)
    return Mention(
        platform="facebook",
        id=f"{comment_id}@{int(created.timestamp())}" if edited else comment_id,
        author=Author(id=str(author["id"]), handle=author.get("name") or str(author["id"]), name=author.get("name")),
        text=clip(value["message"]),
        created_at=created,
        permalink=f"https://www.facebook.com/{comment_id}",
        conversation_id=post_id,
        in_reply_to_id=parent if parent != post_id else None,
        source=SOURCE_ID,
    )


def _instagram_comment(value: dict[str, Any], entry_time: Any) -> Mention:
    author = value["from"]
    media = value.get("media") or {}
    return Mention(
        platform="instagram",
        id=str(value["id"]),
        author=Author(id=str(author["id"]), handle=author.get("username") or str(author["id"])),
        text=clip(value["text"]),
        created_at=_time(entry_time),
        conversation_id=str(media["id"]) if media.get("id") else None,
        in_reply_to_id=str(value["parent_id"]) if value.get("parent_id") else None,
        source=SOURCE_ID,
    )


def mentions_from_delivery(payload: Any) -> tuple[list[Mention], list[DeadItem], int]:
    """(mentions, dead items, ignored changes) from one webhook delivery."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        return [], [DeadItem("delivery without entry[]", payload)], 0
    kind = payload.get("object")
    changes: list[tuple[dict[str, Any], Any]] = []
    ignored = 0
    for entry in payload["entry"]:
        if not isinstance(entry, dict):
            changes.append(({"unreadable": entry}, None))
            continue
        for change in entry.get("changes") or []:
            field = change.get("field") if isinstance(change, dict) else None
            if (kind == "page" and field == "feed") or (kind == "instagram" and field == "comments"):
                changes.append((change.get("value") or {}, entry.get("time")))
            else:
                ignored += 1

    def build(item: tuple[dict[str, Any], Any]) -> Mention | None:
        value, when = item
        return _page_comment(value, when) if kind == "page" else _instagram_comment(value, when)

    mentions, dead = normalise_items(changes, build)
    ignored += len(changes) - len(mentions) - len(dead)
    return mentions, dead, ignored


def _fresh_entries(payload: Any, now: float) -> tuple[Any, int]:
    """The payload without entries older than the replay window, and how many were dropped."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        return payload, 0
    kept, dropped = [], 0
    for entry in payload["entry"]:
        when = entry.get("time") if isinstance(entry, dict) else None
        if isinstance(when, int | float) and not isinstance(when, bool) and now - when > REPLAY_WINDOW_S:
            dropped += 1
            continue
        kept.append(entry)
    return {**payload, "entry": kept}, dropped


def accept_delivery(
    body: bytes, *, sink: MentionSink, seen: SeenIndex, dead_letters: DeadLetterSink, now: float | None = None
) -> DeliveryResult:
    """Queue the comments of a verified delivery. Raises QueueError if SQS refused: Meta will retry."""
    import time

    result = DeliveryResult()
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        dead_letters.send(SOURCE_ID, "meta", [DeadItem("delivery body is not JSON", body.decode("utf-8", "replace"))])
        result.dead_lettered = 1
        return result
    payload, result.replayed = _fresh_entries(payload, time.time() if now is None else now)
    mentions, dead, result.ignored = mentions_from_delivery(payload)
    if dead:
        dead_letters.send(SOURCE_ID, "meta", dead)
        result.dead_lettered = len(dead)
    new, result.duplicates = seen.unseen(mentions)
    if new:
        sink.send(new)
        seen.remember(new)
    result.queued = len(new)
    return result
