"""What the router calls after a mention is stored: incident detection and the crisis watch.

Plugged into Deps by socialcare.assembly and called by socialcare.cases.router; neither side fails
the routing, except when the table stays too busy to record an incident membership: then the mention
is flagged and its record fails, and the redelivery (a duplicate for the router) links it again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from socialcare.cases.deps import AFTER_MENTION_PENDING
from socialcare.observability import logger, metrics
from socialcare.store import StoreBusyError, mention_key

if TYPE_CHECKING:
    from socialcare.cases.deps import Deps
    from socialcare.models import Case, Mention, Tags


def after_mention(mention: Mention, tags: Tags, case: Case | None, deps: Deps, *, retry: bool = False) -> None:
    from socialcare.incidents.service import after_mention as incidents_after_mention
    from socialcare.quiet.crisis import after_mention as crisis_after_mention

    try:
        incidents_after_mention(mention, tags, case, deps)
    except StoreBusyError:
        _flag(mention, deps, pending=True)
        raise
    if retry:
        _flag(mention, deps, pending=False)
        return  # the crisis watch counted this mention the first time
    crisis_after_mention(mention, tags, deps)


def _flag(mention: Mention, deps: Deps, *, pending: bool) -> None:
    store = deps.store
    expr = f"SET {AFTER_MENTION_PENDING} = :yes" if pending else f"REMOVE {AFTER_MENTION_PENDING}"
    kwargs = {"TableName": store.table, "Key": mention_key(mention.key), "UpdateExpression": expr}
    if pending:
        kwargs["ExpressionAttributeValues"] = {":yes": {"BOOL": True}}
    try:
        store.ddb.update_item(**kwargs)
    except Exception as exc:  # noqa: BLE001 - a flag left set only costs one more (idempotent) relink
        if pending:
            metrics.add_metric(name="IncidentLinksLost", unit="Count", value=1)
            logger.error("incident membership not flagged for retry", mention_key=mention.key, error=str(exc))
