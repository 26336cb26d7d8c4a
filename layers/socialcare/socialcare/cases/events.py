"""Case events: stored on the case and published on the EventBridge bus (schema in docs/events.md)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from socialcare.models import CaseEvent

SOURCE = "socialcare.cases"


class EventPublishError(Exception):
    """EventBridge refused some entries."""


def entry(event: CaseEvent, bus: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    detail = {
        "schema_version": event.schema_version,
        "case_id": event.case_id,
        "at": event.at.isoformat(),
        "actor": event.actor,
        **event.detail,
        **(extra or {}),
    }
    return {"EventBusName": bus, "Source": SOURCE, "DetailType": event.type, "Detail": json.dumps(detail, default=str)}


def publish(client: Any, bus: str, events: list[CaseEvent], extra: dict[str, Any] | None = None) -> None:
    """At-least-once: consumers dedupe on (case_id, type, at)."""
    entries = [entry(e, bus, extra) for e in events]
    for start in range(0, len(entries), 10):
        chunk = entries[start : start + 10]
        try:
            result = client.put_events(Entries=chunk)
        except ClientError as exc:
            raise EventPublishError(str(exc)) from exc
        if result.get("FailedEntryCount"):
            raise EventPublishError(f"{result['FailedEntryCount']} case events were not accepted")
