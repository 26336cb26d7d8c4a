"""Per-platform write adapters behind one small interface. Each turns an OutboundMessage into one
platform write request and returns the platform's id for the new post or message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import requests

from socialcare.config import WriteAccount

TIMEOUT = (3.05, 10.0)


class PublishError(Exception):
    """The platform refused or could not be reached; the caller keeps the message as a draft."""


@dataclass(frozen=True)
class OutboundMessage:
    text: str
    channel: str  # public | dm | email
    idempotency_key: str
    in_reply_to: str | None = None  # the platform's id of the customer's post we answer
    recipient_id: str | None = None  # the platform's id of the customer (private messages)


class Writer(Protocol):
    platform: str

    def supports(self, channel: str) -> bool: ...

    def publish(self, message: OutboundMessage, token: str) -> str: ...


class XWriter:
    """X API v2: `POST /2/tweets` for public replies (with `reply.in_reply_to_tweet_id` and the
    account's `reply_settings`) and `POST /2/dm_conversations/with/{id}/messages` for DMs.
    The token is an OAuth 2.0 user-context access token with tweet.write (and dm.write)."""

    platform = "x"

    def __init__(self, account: WriteAccount, session: Any | None = None) -> None:
        self.base = (account.api_base or "https://api.x.com").rstrip("/")
        self.reply_settings = account.reply_settings
        self.session = session or requests.Session()

    def supports(self, channel: str) -> bool:
        return channel in {"public", "dm"}

    def publish(self, message: OutboundMessage, token: str) -> str:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if message.channel == "public":
            url = f"{self.base}/2/tweets"
            body: dict[str, Any] = {"text": message.text}
            if message.in_reply_to:
                body["reply"] = {"in_reply_to_tweet_id": message.in_reply_to}
            if self.reply_settings != "everyone":
                body["reply_settings"] = self.reply_settings
        elif message.channel == "dm" and message.recipient_id:
            url = f"{self.base}/2/dm_conversations/with/{message.recipient_id}/messages"
            body = {"text": message.text}
        else:
            raise PublishError(f"X cannot send a {message.channel} message without a recipient")
        try:
            response = self.session.post(url, json=body, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise PublishError(f"X unreachable: {type(exc).__name__}") from exc
        if response.status_code not in (200, 201):
            raise PublishError(f"X refused the post: HTTP {response.status_code}")
        try:
            data = response.json().get("data", {})
        except ValueError as exc:
            raise PublishError("X answered with something other than JSON") from exc
        return str(data.get("id") or data.get("dm_event_id") or "")


WRITERS: dict[str, type] = {"x": XWriter}


def writer_for(platform: str, account: WriteAccount, session: Any | None = None) -> Writer | None:
    cls = WRITERS.get(platform)
    return cls(account, session) if cls else None
