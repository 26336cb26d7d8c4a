"""Service-level clock rules, in one place: what the workflow waits for after each action.

The customer's clocks keep running whatever happens inside the company: a transfer or a claim
carries the running clock over, it never starts a fresh one.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from socialcare.models import Case, Clock, SlaPolicy

# Actions after which the customer has heard from us: the next-update clock starts.
RESPONDING_ACTIONS = frozenset({"reply", "handoff", "customer_replied"})


def make_clock(name: str, seconds: float, now: datetime) -> Clock:
    whole = max(1, math.ceil(seconds))
    return Clock(name=name, seconds=whole, due_at=now + timedelta(seconds=whole))  # type: ignore[arg-type]


def first_clock(sla: SlaPolicy, opened_at: datetime) -> Clock:
    return make_clock("first_response", sla.first_response_s, opened_at)


def remaining(case: Case, now: datetime) -> float:
    if case.clock is None:
        return float(case.sla.first_response_s)
    return (case.clock.due_at - now).total_seconds()


def next_clock(case: Case, action: str, now: datetime) -> Clock | None:
    """The clock to wait on after `action`; None when the case closes."""
    if action == "resolve":
        return None
    resolution_left = (case.resolution_due - now).total_seconds()
    if action in RESPONDING_ACTIONS:
        if case.sla.next_update_s < resolution_left:
            return make_clock("next_update", case.sla.next_update_s, now)
        return make_clock("resolution", resolution_left, now)
    if action == "wait_customer":
        # The next-update clock is paused; only resolution keeps running.
        return make_clock("resolution", resolution_left, now)
    # claim, transfer, note, ...: the running clock carries over unchanged.
    current = case.clock.name if case.clock else "first_response"
    return make_clock(current, remaining(case, now), now)
