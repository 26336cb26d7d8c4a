"""Domain models shared by every capability: what a mention, a case and its events look like."""

from __future__ import annotations

import hashlib
import math
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


def utcnow() -> datetime:
    return datetime.now(UTC)


class Intent(StrEnum):
    REQUEST = "request"
    COMPLAINT = "complaint"
    QUESTION = "question"
    VENTING = "venting"
    PRAISE = "praise"
    REPUTATION = "reputation"
    NOISE = "noise"


# Intents that want something done: the "pick your battles" default when the classifier gives no
# separate actionable score.
ACTIONABLE_INTENTS = frozenset({Intent.REQUEST, Intent.COMPLAINT, Intent.QUESTION})


class Sentiment(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class Urgency(StrEnum):
    NONE = "none"
    SAFETY = "safety"
    OUTAGE = "outage"
    MONEY_LOST = "money_lost"
    TRAVEL_TODAY = "travel_today"


LANG_MAX = 16
PERMALINK_MAX = 2048
_SUBTAG = re.compile(r"[A-Za-z0-9]{2,8}")  # a singleton (x-, u-) starts an extension: dropped


def language_tag(value: Any) -> str | None:
    """A platform's language tag as kept on a mention: at most LANG_MAX characters.

    A longer BCP 47 tag keeps its leading subtags that fit (zh-Hant-TW-x-private -> zh-Hant-TW); one
    whose language subtag is not letters is "und" (undetermined). Not a string, or empty: unknown.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    tag = value.strip()
    if len(tag) <= LANG_MAX:
        return tag
    subtags = re.split(r"[-_]", tag)
    if not re.fullmatch(r"[A-Za-z]{2,8}", subtags[0]):
        return "und"
    kept = subtags[0]
    for subtag in subtags[1:]:
        if not _SUBTAG.fullmatch(subtag) or len(kept) + 1 + len(subtag) > LANG_MAX:
            break
        kept = f"{kept}-{subtag}"
    return kept


class Author(BaseModel):
    """Who wrote a mention. Reach (followers, verified) is shown to agents, never used to prioritise."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=256)
    handle: str = Field(min_length=1, max_length=256)
    name: str | None = Field(default=None, max_length=512)
    followers: int | None = Field(default=None, ge=0)
    verified: bool | None = None

    # Display-only fields: a platform that sends them out of range (a negative count, an over-long
    # name) or of another type loses the value shown to agents, never the mention.
    @field_validator("followers", mode="before")
    @classmethod
    def _count(cls, value: Any) -> int | None:
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            try:  # "12" is a count; "²" passes isdigit() but is not a number
                value = int(value.strip())
            except ValueError:
                return None
        return value if isinstance(value, int) and value >= 0 else None

    @field_validator("verified", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> bool | None:
        return value if isinstance(value, bool) else None

    @field_validator("name", mode="before")
    @classmethod
    def _display_name(cls, value: Any) -> str | None:
        return value[:512] if isinstance(value, str) else None

    @field_validator("handle", mode="before")
    @classmethod
    def _handle(cls, value: Any) -> Any:
        return value[:256] if isinstance(value, str) else value


class Mention(BaseModel):
    """One post about the brand, normalised from any platform."""

    model_config = ConfigDict(frozen=True)

    platform: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")
    id: str = Field(min_length=1, max_length=512)
    author: Author
    text: str = Field(max_length=40_000)
    created_at: datetime
    lang: str | None = Field(default=None, max_length=LANG_MAX)
    permalink: str | None = Field(default=None, max_length=PERMALINK_MAX)
    conversation_id: str | None = Field(default=None, max_length=512)
    in_reply_to_id: str | None = Field(default=None, max_length=512)
    region: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=128)
    rating: int | None = Field(default=None, ge=1, le=5)

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @field_validator("lang", mode="before")
    @classmethod
    def _language(cls, value: Any) -> str | None:
        return language_tag(value)

    @field_validator("permalink", mode="before")
    @classmethod
    def _web_link(cls, value: Any) -> str | None:
        """Agents click this link: only a plain http(s) URL survives. A platform (or a federated
        server) that sends javascript:, data:, a userinfo trick (https://host@evil/) or a link
        longer than we keep loses the link, not the mention."""
        if not isinstance(value, str) or len(value) > PERMALINK_MAX:
            return None
        try:
            parts = urlsplit(value)
        except ValueError:
            return None
        if parts.scheme not in {"http", "https"} or not parts.hostname or "@" in parts.netloc:
            return None
        return value

    @property
    def key(self) -> str:
        """The global dedup key: one platform id means one mention, however often it is delivered."""
        return f"{self.platform}#{self.id}"

    @property
    def customer_key(self) -> str:
        return f"{self.platform}#{self.author.id}"

    @property
    def thread_key(self) -> str | None:
        root = self.conversation_id or self.in_reply_to_id
        return f"{self.platform}#{root}" if root else None


class Scored(BaseModel):
    value: str
    confidence: float = Field(ge=0.0, le=1.0)


class Tags(BaseModel):
    """What the classifier says about a mention; each field carries a confidence in [0, 1]."""

    intent: Scored
    actionable: Scored  # value "yes" | "no"
    department: Scored
    sentiment: Scored
    urgency: Scored
    language: Scored
    classifier: str = "rules"

    @property
    def is_actionable(self) -> bool:
        return self.actionable.value == "yes"


class SlaPolicy(BaseModel):
    """Service levels in seconds. Production policies are hours; the local demo uses seconds."""

    model_config = ConfigDict(extra="forbid")  # brand configuration: a typo is an error, not a default

    first_response_s: int = Field(gt=0)
    next_update_s: int = Field(gt=0)
    resolution_s: int = Field(gt=0)
    # Grace after each escalation tier before the next one fires; its length is the number of tiers.
    escalation_tiers_s: list[int] = Field(default_factory=lambda: [3600, 3600], min_length=1, max_length=5)
    # After the last tier the case keeps a timer, so no execution is ever left waiting forever.
    stale_after_s: int = Field(default=7 * 24 * 3600, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> SlaPolicy:
        if self.first_response_s > self.resolution_s:
            raise ValueError("first_response_s must not exceed resolution_s")
        return self

    def scaled(self, factor: float) -> SlaPolicy:
        """A tighter (factor < 1) or looser policy, e.g. for urgent cases."""

        def s(v: int) -> int:
            return max(1, round(v * factor))

        return self.model_copy(
            update={
                "first_response_s": s(self.first_response_s),
                "next_update_s": s(self.next_update_s),
                "resolution_s": s(self.resolution_s),
                "escalation_tiers_s": [s(v) for v in self.escalation_tiers_s],
            }
        )


class Department(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    keywords: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    sla: SlaPolicy | None = None


class CaseStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"


class Clock(BaseModel):
    """The service-level clock the workflow is waiting on right now."""

    name: Literal["first_response", "next_update", "resolution", "escalation", "stale"]
    seconds: int = Field(ge=1)
    due_at: datetime


class Case(BaseModel):
    id: str
    mention_key: str
    customer_key: str
    platform: str
    author: Author
    department: str
    status: CaseStatus = CaseStatus.OPEN
    priority: int = Field(default=3, ge=1, le=5)
    tags: Tags
    sla: SlaPolicy
    opened_at: datetime
    first_response_due: datetime
    resolution_due: datetime
    first_responded_at: datetime | None = None
    resolved_at: datetime | None = None
    clock: Clock | None = None
    owner: str | None = None
    task_token: str | None = None
    escalation_tier: int = 0
    thread_key: str | None = None
    region: str | None = None
    incident_id: str | None = None
    breaches: int = 0
    stale: bool = False
    # True while the stored task token belongs to a wait that has not been answered yet.
    token_fresh: bool = False
    # An action taken while the workflow was not waiting: its next wait resumes with this at once.
    pending_action: dict[str, Any] | None = None
    execution_name: str | None = None
    workflow_input: dict[str, Any] | None = None
    reopen_count: int = 0
    # Set by the workflow's catch-all when a task failed in a way nothing expected; cleared by a restart.
    workflow_failed: bool = False
    workflow_error: str | None = None
    workflow_restarts: int = 0
    handoff_channel: str | None = None
    version: int = 0
    departments_history: list[str] = Field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.RESOLVED


class CaseEvent(BaseModel):
    """One state change on a case: stored on the case and emitted on EventBridge."""

    case_id: str
    type: str = Field(pattern=r"^case\.[a-z_]+$")
    at: datetime = Field(default_factory=utcnow)
    actor: str = "system"
    detail: dict[str, Any] = Field(default_factory=dict)
    schema_version: str = "1"


def case_id_for(mention_key: str) -> str:
    """A stable, human-quotable case reference derived from the opening mention (retries reuse it)."""
    digest = hashlib.sha256(mention_key.encode()).digest()
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    n = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(8):
        n, r = divmod(n, len(alphabet))
        chars.append(alphabet[r])
    return "SC-" + "".join(chars)
