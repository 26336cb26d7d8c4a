"""What the router calls after a mention is stored: incident detection and the crisis watch.

One small call site in socialcare.cases.router; neither side can fail the routing."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socialcare.cases.deps import Deps
    from socialcare.models import Case, Mention, Tags


def after_mention(mention: Mention, tags: Tags, case: Case | None, deps: Deps) -> None:
    from socialcare.incidents.service import after_mention as incidents_after_mention
    from socialcare.quiet.crisis import after_mention as crisis_after_mention

    incidents_after_mention(mention, tags, case, deps)
    crisis_after_mention(mention, tags, deps)
