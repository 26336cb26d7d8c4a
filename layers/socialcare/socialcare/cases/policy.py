"""Priority and service levels from what happened, never from who said it.

Nothing here reads follower counts or verification: the same words get the same clocks.
"""

from __future__ import annotations

from socialcare.config import BrandConfig
from socialcare.models import SlaPolicy, Tags

_URGENCY_PRIORITY = {"safety": 1, "outage": 2, "money_lost": 2, "travel_today": 2}
_INTENT_PRIORITY = {"complaint": 3, "request": 3, "question": 4}


def priority(tags: Tags) -> int:
    """1 is most urgent. Urgency first, then what the customer wants."""
    return _URGENCY_PRIORITY.get(tags.urgency.value, _INTENT_PRIORITY.get(tags.intent.value, 3))


def sla_for(config: BrandConfig, department: str, tags: Tags, scale: float = 1.0) -> SlaPolicy:
    factor = scale
    factor *= config.priority.urgency_factor.get(tags.urgency.value, 1.0)
    factor *= config.priority.intent_factor.get(tags.intent.value, 1.0)
    base = config.sla_for(department)
    return base if factor == 1.0 else base.scaled(factor)
