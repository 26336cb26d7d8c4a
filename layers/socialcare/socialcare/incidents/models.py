"""An incident: many customers, one problem, one owner department, one update when it is fixed."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class IncidentStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    MERGED = "merged"


class Incident(BaseModel):
    id: str
    department: str
    status: IncidentStatus = IncidentStatus.OPEN
    title: str = ""
    opened_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    merged_into: str | None = None
    members: int = 0
    cases: int = 0
    customers: int = 0
    channels: dict[str, int] = Field(default_factory=dict)  # platform -> linked members
    update_text: str | None = None
    updates_sent: int = 0
    window_start: float = 0.0
    window_count: int = 0
    baseline_per_s: float = 0.0
    spiked_window: float | None = None
    version: int = 0


def incident_id_for(first_member_key: str) -> str:
    """Derived from the member that opened it, so a retried opening finds the same incident."""
    return "INC-" + hashlib.sha256(first_member_key.encode()).hexdigest()[:10].upper()
