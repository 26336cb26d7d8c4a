"""What the SDK, the CLI and the HTTP API return: one set of pydantic models for all three."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class ClockView(BaseModel):
    name: str
    due_at: datetime | None
    seconds_left: float | None = Field(description="negative once breached; None when met or paused")
    state: Literal["running", "met", "breached", "paused", "closed"]


class MessageView(BaseModel):
    at: str
    direction: Literal["in", "out"]
    channel: str = "public"
    author: str | None = None
    text: str
    delivery: str | None = Field(
        default=None, description="published | draft | held | unknown (check the platform first), for messages we sent"
    )
    delivery_reason: str | None = None
    tags: dict[str, Any] | None = Field(default=None, description="a customer message's own tags, when still kept")


class EarlierCase(BaseModel):
    case_id: str
    platform: str
    department: str
    status: str
    opened_at: datetime
    resolved_at: datetime | None = None


class Suggestion(BaseModel):
    id: str
    question: str
    answer: str
    score: float


class AuthorView(BaseModel):
    handle: str
    name: str | None = None
    platform: str
    followers: int | None = Field(default=None, description="information only: never used for priority")
    verified: bool | None = None


class WorkItemView(BaseModel):
    case_id: str
    department: str
    priority: int
    status: str
    owner: str | None = None
    clock: str | None = None
    due_at: datetime | None = None
    seconds_left: float | None = None
    summary: str = ""
    platform: str | None = None
    language: str | None = None
    escalation_tier: int = 0
    breaches: int = 0
    incident_id: str | None = None
    followers: int | None = Field(default=None, description="information only: never orders or filters")


class QueueFilter(BaseModel):
    """Narrows a queue on the server (a filter on the department's index query, never a scan).
    Follower counts are deliberately not a filter."""

    owner: str | None = Field(default=None, max_length=80, description="cases owned by this agent")
    unclaimed: bool = False
    status: Literal["open", "claimed", "waiting_customer"] | None = None
    breached: bool = Field(default=False, description="a deadline passed (now or before)")
    incident: bool = Field(default=False, description="linked to an incident")
    platform: str | None = Field(default=None, max_length=40)
    language: str | None = Field(default=None, max_length=20)


class QueueView(BaseModel):
    department: str
    waiting_notices: int = Field(description="work-item notices waiting in the department's SQS queue")
    cases: list[WorkItemView]
    more: bool = Field(default=False, description="more open cases match beyond the limit")
    next: str | None = Field(default=None, description="pass as `after` for the next page (set when `more`)")


class EventView(BaseModel):
    at: str
    type: str
    actor: str
    note: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class WhoAmI(BaseModel):
    name: str | None = Field(description="the signed-in person; null for an IAM-signed machine client")
    departments: list[str] = Field(description="departments whose cases the caller sees and acts on")
    ops: bool
    known_departments: list[str]


class CaseView(BaseModel):
    case_id: str
    department: str
    status: str
    owner: str | None
    priority: int
    author: AuthorView
    tags: dict[str, Any]
    clocks: list[ClockView]
    conversation: list[MessageView]
    earlier_cases: list[EarlierCase]
    suggestions: list[Suggestion]
    handoff_channel: str | None = None
    departments_history: list[str] = Field(default_factory=list)
    escalation_tier: int = 0
    state_tag: str = Field(default="", description="send back as if_state to refuse acting on a changed case")
    incident_id: str | None = None
    opened_at: datetime | None = None
    history: list[EventView] = Field(default_factory=list, description="who did what and when, oldest first")


class ActionOutcome(BaseModel):
    case_id: str
    action: str
    status: str
    replayed: bool = False
    detail: dict[str, Any] = Field(default_factory=dict)


class HistoryEntry(BaseModel):
    """One recorded change on a case: who did what, when, and the note or reason they gave."""

    at: str
    actor: str
    action: str
    note: str | None = None


def history_entry(event: dict[str, Any]) -> HistoryEntry:
    detail = event.get("detail") or {}
    parts = [f"{k} {detail[k]}" for k in ("from", "to", "channel", "delivery", "tier") if detail.get(k) is not None]
    said = detail.get("note") or detail.get("reason")
    note = "; ".join([*parts, str(said)] if said else parts) or None
    return HistoryEntry(
        at=str(event.get("at", "")),
        actor=str(event.get("actor", "system")),
        action=str(event.get("type", "")).removeprefix("case."),
        note=note,
    )
