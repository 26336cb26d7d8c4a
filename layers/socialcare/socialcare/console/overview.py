"""The ops overview: per department open cases, oldest, SLA met today, breaches and escalations;
parity per follower band; dead-letter counts; source health.

Parity comes from the same function over the same tally items as `socialcare report parity` and the
ReportParity metrics, so they agree by construction. The department rows read every case record (a
scan): the page is loaded on demand by the few people in the ops group, never on a customer's path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from socialcare.cases import tally
from socialcare.reports.parity import parity_from_tally


def _at(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def department_rows(cases: list[dict[str, Any]], departments: list[str], now: datetime) -> list[dict[str, Any]]:
    today = now.date()
    rows = {
        d: {
            "department": d,
            "open": 0,
            "oldest_case": None,
            "oldest_opened_at": None,
            "first_responses_today": 0,
            "first_response_met_today": 0,
            "resolved_today": 0,
            "resolution_met_today": 0,
            "breached_open": 0,
            "escalated_open": 0,
        }
        for d in departments
    }
    for c in cases:
        row = rows.get(str(c.get("department")))
        if row is None:
            continue
        if c.get("status") != "resolved":
            row["open"] += 1
            opened = _at(c.get("opened_at"))
            if opened and (row["oldest_opened_at"] is None or opened < _at(row["oldest_opened_at"])):
                row["oldest_opened_at"], row["oldest_case"] = opened.isoformat(), c.get("id")
            row["breached_open"] += 1 if int(c.get("breaches") or 0) > 0 else 0
            row["escalated_open"] += 1 if int(c.get("escalation_tier") or 0) > 0 else 0
        first = _at(c.get("first_responded_at"))
        if first and first.date() == today:
            row["first_responses_today"] += 1
            due = _at(c.get("first_response_due"))
            row["first_response_met_today"] += 1 if due and first <= due else 0
        resolved = _at(c.get("resolved_at"))
        if resolved and resolved.date() == today:
            row["resolved_today"] += 1
            due = _at(c.get("resolution_due"))
            row["resolution_met_today"] += 1 if due and resolved <= due else 0
    return list(rows.values())


def dead_letter_counts(sqs: Any, queues: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, url in sorted(queues.items()):
        attrs = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        counts[name] = int(attrs.get("ApproximateNumberOfMessages", 0)) + int(
            attrs.get("ApproximateNumberOfMessagesNotVisible", 0)
        )
    return counts


def source_health(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keep = ("healthy", "unhealthy_reason", "disabled", "rate_limited_until", "updated_at", "polled_at")
    return [
        {"source": i["PK"].removeprefix("SOURCE#"), **{k: i.get(k) for k in keep if k in i}}
        for i in sorted(items, key=lambda i: i["PK"])
    ]


def overview(deps: Any) -> dict[str, Any]:
    now = deps.now()
    cases = deps.store.scan_prefix("CASE#", "CASE")
    return {
        "at": now.isoformat(),
        "departments": department_rows(cases, list(deps.config.department_names), now),
        "parity": parity_from_tally(tally.read(deps.store), deps.config.parity),
        "dead_letters": dead_letter_counts(deps.sqs, deps.settings.dead_letter_queues),
        "sources": source_health(deps.store.scan_prefix("SOURCE#", "CURSOR")),
    }
