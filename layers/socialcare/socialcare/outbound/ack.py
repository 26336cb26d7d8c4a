"""Managing expectations: an optional automatic acknowledgement per department and channel that
tells the customer when to expect an answer (from the case's first-response SLA).

Sent once per case (the idempotency key is the case id, so a retried await step or a reopened case
never sends a second one), never to venting or praise (those open no case; guarded anyway), and
through `deliver` with kind "acknowledgement", so quiet-period holds apply.
"""

from __future__ import annotations

from socialcare.cases.deps import Deps
from socialcare.config import Acknowledgement
from socialcare.models import Case, Intent
from socialcare.outbound.delivery import Delivery, deliver

NEVER_ACKNOWLEDGE = frozenset({Intent.VENTING, Intent.PRAISE, Intent.NOISE})


def expect_phrase(seconds: int) -> str:
    """'within 45 minutes', 'within 2 hours', 'within 2 days': rounded up, never over-promising."""
    minutes = -(-seconds // 60)
    if minutes < 60:
        return f"within {max(1, minutes)} minute{'s' if minutes > 1 else ''}"
    hours = -(-seconds // 3600)
    if hours <= 48:
        return f"within {hours} hour{'s' if hours > 1 else ''}"
    days = -(-seconds // 86400)
    return f"within {days} days"


def template_for(deps: Deps, case: Case) -> Acknowledgement | None:
    """The department's acknowledgement for the case's channel, else its catch-all ("*")."""
    mine = [a for a in deps.config.acknowledgements if a.department == case.department]
    return next((a for a in mine if a.channel == case.platform), None) or next(
        (a for a in mine if a.channel == "*"), None
    )


def acknowledge(deps: Deps, case: Case) -> Delivery | None:
    """Sends the acknowledgement if the brand configured one for this department and channel."""
    if case.tags.intent.value in NEVER_ACKNOWLEDGE or not case.tags.is_actionable:
        return None
    ack = template_for(deps, case)
    if ack is None:
        return None
    text = ack.text.format(
        author=f"@{case.author.handle}", case_id=case.id, expect=expect_phrase(case.sla.first_response_s)
    )
    return deliver(deps, case, text, channel="public", kind="acknowledgement", idempotency_key=f"ack-{case.id}")
