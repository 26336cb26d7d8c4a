"""Per-platform write adapters behind one small interface. Each turns an OutboundMessage into one
platform write request and returns the platform's id for the new post or message, and can tell,
after a crash, whether an earlier attempt reached the platform (`recover`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from urllib3.exceptions import NewConnectionError

from socialcare.config import WriteAccount

if TYPE_CHECKING:
    import requests

# requests is imported where a message is sent: the functions that hold this module for its types and
# rules (the ops API, the incident service, the workflow steps) and never post skip its import.

TIMEOUT = (3.05, 10.0)
# Mastodon keeps an Idempotency-Key for up to an hour; past this age a replay is no longer safe.
MASTODON_KEY_WINDOW = timedelta(minutes=55)
LOOKUP_PAGES = 5  # the brand's own recent posts read when looking for an earlier attempt
_URL = re.compile(r"https?://", re.IGNORECASE)


class PublishError(Exception):
    """The platform refused the message (it was not posted); the caller keeps it as a draft."""


class PublishUncertainError(PublishError):
    """The request may have reached the platform (no answer in time, a 5xx): posting again blindly
    could post twice, so the caller looks the post up (`Writer.recover`) instead."""


class LookupUnavailableError(Exception):
    """The platform cannot say whether an earlier attempt was posted: a person checks before resending."""


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

    def recover(self, message: OutboundMessage, token: str, since: datetime) -> str | None:
        """The id of the post an attempt started at `since` made, None when it certainly made none;
        LookupUnavailableError when the platform cannot tell."""
        ...


def _session() -> requests.Session:
    import requests

    return requests.Session()


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the connection was never made, so the platform cannot have seen the request."""
    import requests

    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def _post(session: Any, platform: str, url: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    import requests

    try:
        response = session.post(url, json=body, headers=headers, timeout=TIMEOUT)
    except requests.RequestException as exc:
        if _never_sent(exc):
            raise PublishError(f"{platform} unreachable: {type(exc).__name__}") from exc
        # A dropped connection or a read timeout: the platform may have posted it.
        raise PublishUncertainError(f"{platform} did not answer: {type(exc).__name__}") from exc
    if response.status_code >= 500:
        raise PublishUncertainError(f"{platform} failed while posting: HTTP {response.status_code}")
    if response.status_code not in (200, 201):
        raise PublishError(f"{platform} refused the post: HTTP {response.status_code}")
    try:
        data = response.json()
    except ValueError as exc:
        raise PublishUncertainError(f"{platform} answered with something other than JSON") from exc
    return data if isinstance(data, dict) else {}


def _get(session: Any, platform: str, url: str, params: dict[str, Any], token: str) -> dict[str, Any]:
    import requests

    try:
        response = session.get(url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise LookupUnavailableError(f"{platform} lookup failed: {type(exc).__name__}") from exc
    return data if isinstance(data, dict) else {}


class XWriter:
    """X API v2: `POST /2/tweets` for public replies (with `reply.in_reply_to_tweet_id` and the
    account's `reply_settings`) and `POST /2/dm_conversations/with/{id}/messages` for DMs.
    The token is an OAuth 2.0 user-context access token with tweet.write (and dm.write, and
    tweet.read/users.read/dm.read for the look-up after a crash).

    X takes no idempotency key, so an earlier attempt is found by reading the brand's own posts since
    it started (`GET /2/users/{id}/tweets`, or the DM conversation's events) for the same text in
    the same reply thread. X rewrites links to t.co, so a text with a link cannot be matched: a
    person checks it."""

    platform = "x"

    def __init__(self, account: WriteAccount, session: Any | None = None) -> None:
        self.base = (account.api_base or "https://api.x.com").rstrip("/")
        self.reply_settings = account.reply_settings
        self.session = session or _session()

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
        data = _post(self.session, "X", url, body, headers).get("data") or {}
        return str(data.get("id") or data.get("dm_event_id") or "")

    def recover(self, message: OutboundMessage, token: str, since: datetime) -> str | None:
        if _URL.search(message.text):
            raise LookupUnavailableError("X rewrites links, so the post cannot be matched by its text")
        start = (since - timedelta(minutes=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if message.channel == "dm":
            url = f"{self.base}/2/dm_conversations/with/{message.recipient_id}/dm_events"
            params: dict[str, Any] = {
                "event_types": "MessageCreate",
                "max_results": 100,
                "dm_event.fields": "text,created_at",
            }
            match = lambda e: e.get("text") == message.text and e.get("created_at", "") >= start  # noqa: E731
        else:
            me = (_get(self.session, "X", f"{self.base}/2/users/me", {}, token).get("data") or {}).get("id")
            if not me:
                raise LookupUnavailableError("X did not say which account the token belongs to")
            url = f"{self.base}/2/users/{me}/tweets"
            params = {"start_time": start, "max_results": 100, "tweet.fields": "referenced_tweets,created_at"}

            def match(post: dict[str, Any]) -> bool:
                replied = {r.get("id") for r in post.get("referenced_tweets") or [] if r.get("type") == "replied_to"}
                return post.get("text") == message.text and (not message.in_reply_to or message.in_reply_to in replied)

        for _ in range(LOOKUP_PAGES):
            page = _get(self.session, "X", url, params, token)
            found = next((p for p in page.get("data") or [] if match(p)), None)
            if found:
                return str(found.get("id"))
            token_next = (page.get("meta") or {}).get("next_token")
            if not token_next:
                return None
            params = {**params, "pagination_token": token_next}
        raise LookupUnavailableError(f"more than {LOOKUP_PAGES} pages of X posts since the attempt")


class MastodonWriter:
    """Mastodon: `POST /api/v1/statuses` (status, in_reply_to_id, visibility) with the delivery's key
    in the `Idempotency-Key` header: the server answers a repeat of the key with the status it
    already made, for about an hour. So the look-up after a crash is the same request again while
    the key is kept, and a person checks after that. The token needs write:statuses (read:search
    to reply to a post from another server, found by its URI)."""

    platform = "mastodon"
    needs_api_base = True  # every brand has its own server

    def __init__(self, account: WriteAccount, session: Any | None = None) -> None:
        self.base = (account.api_base or "").rstrip("/")
        self.session = session or _session()

    def supports(self, channel: str) -> bool:
        return channel == "public"

    def _reply_target(self, in_reply_to: str, token: str) -> str:
        """Mentions are keyed by the status URI (global); a reply needs the id on the brand's server."""
        if not _URL.match(in_reply_to):
            return in_reply_to
        try:
            found = _get(
                self.session,
                "Mastodon",
                f"{self.base}/api/v2/search",
                {"q": in_reply_to, "type": "statuses", "resolve": "true", "limit": 1},
                token,
            )
        except LookupUnavailableError as exc:
            raise PublishError(f"Mastodon could not resolve the post to answer: {exc}") from exc
        statuses = found.get("statuses") or []
        if not statuses:
            raise PublishError("Mastodon does not know the post to answer")
        return str(statuses[0]["id"])

    def publish(self, message: OutboundMessage, token: str) -> str:
        if message.channel != "public":
            raise PublishError(f"Mastodon cannot send a {message.channel} message here")
        body: dict[str, Any] = {"status": message.text, "visibility": "public"}
        if message.in_reply_to:
            body["in_reply_to_id"] = self._reply_target(message.in_reply_to, token)
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": message.idempotency_key}
        return str(_post(self.session, "Mastodon", f"{self.base}/api/v1/statuses", body, headers).get("id") or "")

    def recover(self, message: OutboundMessage, token: str, since: datetime) -> str | None:
        if datetime.now(UTC) - since > MASTODON_KEY_WINDOW:
            raise LookupUnavailableError("Mastodon no longer keeps the idempotency key of the first attempt")
        try:
            return self.publish(message, token)  # the same key: the server returns the status it made
        except PublishError as exc:
            raise LookupUnavailableError(f"Mastodon did not confirm the first attempt: {exc}") from exc


WRITERS: dict[str, type] = {"x": XWriter, "mastodon": MastodonWriter}


def writer_for(platform: str, account: WriteAccount, session: Any | None = None) -> Writer | None:
    """The platform's writer, or None when there is none (or the account lacks the server it needs)."""
    cls = WRITERS.get(platform)
    if cls is None or (getattr(cls, "needs_api_base", False) and not account.api_base):
        return None
    return cls(account, session)
