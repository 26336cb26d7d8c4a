"""From a queued mention to a case: drop duplicates, thread replies, open a case when it is actionable.

Exactly once on top of at-least-once delivery: the mention's dedup item is written in the same
transaction as the case it opens or the message it attaches, and the workflow execution is named
after the case, so a redelivered or retried mention never opens a second case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from socialcare.cases import actions, clocks, events, policy, workflow
from socialcare.cases.deps import Deps
from socialcare.incidents import hooks
from socialcare.models import Case, CaseEvent, CaseStatus, Mention, Tags, case_id_for
from socialcare.observability import logger
from socialcare.store import ConflictError

Outcome = Literal["duplicate", "opened", "attached", "reopened", "ignored"]


@dataclass(frozen=True)
class RouteResult:
    outcome: Outcome
    case_id: str | None
    tags: Tags | None


def route_mention(mention: Mention, deps: Deps) -> RouteResult:
    tags = deps.classifier.classify(mention.text, platform=mention.platform, rating=mention.rating)
    now = deps.now()
    existing = _conversation(mention, deps)
    if existing is not None and existing.is_open and not existing.stale:
        return _attach(mention, tags, existing, deps)
    if existing is not None and existing.stale:
        return _reopen(mention, tags, existing, deps)  # its workflow ended: the customer's new words restart it
    if existing is not None and existing.resolved_at and (
        now - existing.resolved_at
    ).total_seconds() <= deps.config.reopen_window_s:
        return _reopen(mention, tags, existing, deps)
    if tags.is_actionable:
        return _open(mention, tags, deps)
    return _ignore(mention, tags, deps)


def _conversation(mention: Mention, deps: Deps) -> Case | None:
    """The same thread or reply chain first; else the author's recent case on this channel."""
    if mention.thread_key:
        case_id = deps.store.thread_case(mention.thread_key)
        if case_id:
            return deps.store.get_case(case_id)
    horizon = deps.now() - timedelta(seconds=max(deps.config.thread_window_s, deps.config.reopen_window_s))
    for case in deps.store.customer_cases(mention.customer_key, limit=5):
        if case.mention_key == mention.key:
            return None  # this very mention opened it: a redelivery, handled as a duplicate below
        if case.opened_at < horizon:
            break
        if case.is_open and (deps.now() - case.opened_at).total_seconds() <= deps.config.thread_window_s:
            return case
        if not case.is_open:
            return case
    return None


def _mention_put(mention: Mention, tags: Tags, case_id: str | None, deps: Deps) -> dict:
    item = deps.store.mention_item(mention, tags, case_id, deps.config.retention_days)
    return {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}


def _customer_message(mention: Mention, deps: Deps) -> dict:
    """The customer's words on the case. They are raw mention text, so they expire (DynamoDB TTL)
    with the same retention as the MENTION item."""
    return {
        "direction": "in",
        "platform": mention.platform,
        "mention_key": mention.key,
        "author": mention.author.handle,
        "text": mention.text,
        "permalink": mention.permalink,
        "expires_at": int((deps.now() + timedelta(days=deps.config.retention_days)).timestamp()),
    }


def _duplicate(mention: Mention, deps: Deps) -> RouteResult:
    """A redelivery. If this mention opened a case whose workflow never started (a crash between the
    two), start it now: the stored input and the execution name make that idempotent."""
    stored = deps.store.get_mention(mention.key) or {}
    case_id = stored.get("case_id")
    if case_id and case_id == case_id_for(mention.key):
        case = deps.store.get_case(case_id)
        if case.workflow_input and case.execution_name and case.is_open:
            workflow.start(deps.sfn, deps.settings.state_machine_arn, case.execution_name, case.workflow_input)
    logger.info("duplicate mention dropped", mention_key=mention.key)
    return RouteResult("duplicate", case_id, None)


def _open(mention: Mention, tags: Tags, deps: Deps) -> RouteResult:
    now = deps.now()
    department = tags.department.value
    if department not in deps.config.department_names:
        department = deps.config.default_department
    sla = policy.sla_for(deps.config, department, tags, deps.settings.sla_scale)
    case_id = case_id_for(mention.key)
    case = Case(
        id=case_id,
        mention_key=mention.key,
        customer_key=mention.customer_key,
        platform=mention.platform,
        author=mention.author,
        department=department,
        priority=policy.priority(tags),
        tags=tags,
        sla=sla,
        opened_at=now,
        first_response_due=now + timedelta(seconds=sla.first_response_s),
        resolution_due=now + timedelta(seconds=sla.resolution_s),
        clock=clocks.first_clock(sla, now),
        thread_key=mention.thread_key or f"{mention.platform}#{mention.id}",
        region=mention.region,
        execution_name=case_id,
        departments_history=[department],
    )
    queue_url = deps.settings.department_queue_url(department)
    case = case.model_copy(update={"workflow_input": workflow.execution_input(case, queue_url)})
    opened = [
        CaseEvent(case_id=case_id, type="case.opened", at=now,
                  detail={"mention_key": mention.key, "platform": mention.platform, "intent": tags.intent.value,
                          "priority": case.priority}),
        CaseEvent(case_id=case_id, type="case.routed", at=now, detail={"department": department}),
    ]
    store = deps.store
    ops = [
        _mention_put(mention, tags, case_id, deps),
        {"Put": {"Item": store.case_item(case), "ConditionExpression": "attribute_not_exists(PK)"}},
        {"Put": {"Item": store.thread_item(case.thread_key, case_id)}},
        {"Put": {"Item": store.message_item(case_id, _customer_message(mention, deps), mention.created_at,
                                            mention.key)}},
        *({"Put": {"Item": store.event_item(e)}} for e in opened),
    ]
    try:
        store.transact(ops)
    except ConflictError:
        return _duplicate(mention, deps)
    workflow.start(deps.sfn, deps.settings.state_machine_arn, case_id, case.workflow_input)
    events.publish(deps.events, deps.settings.event_bus_name, opened, {"department": department})
    logger.info("case opened", case_id=case_id, department=department, priority=case.priority)
    hooks.after_mention(mention, tags, case, deps)
    return RouteResult("opened", case_id, tags)


def _attach(mention: Mention, tags: Tags, case: Case, deps: Deps) -> RouteResult:
    store = deps.store
    ops = [
        _mention_put(mention, tags, case.id, deps),
        {"Put": {"Item": store.message_item(case.id, _customer_message(mention, deps), mention.created_at,
                                            mention.key)}},
    ]
    if mention.thread_key:
        ops.append({"Put": {"Item": store.thread_item(mention.thread_key, case.id)}})
    try:
        store.transact(ops)
    except ConflictError:
        return _duplicate(mention, deps)
    if case.status == CaseStatus.WAITING_CUSTOMER:
        actions.customer_replied(case.id, deps, mention_key=mention.key)
    logger.info("mention attached to case", case_id=case.id, mention_key=mention.key)
    return RouteResult("attached", case.id, tags)


def _reopen(mention: Mention, tags: Tags, case: Case, deps: Deps) -> RouteResult:
    store = deps.store
    try:
        store.transact(
            [
                _mention_put(mention, tags, case.id, deps),
                {"Put": {"Item": store.message_item(case.id, _customer_message(mention, deps), mention.created_at,
                                                    mention.key)}},
            ]
        )
    except ConflictError:
        return _duplicate(mention, deps)
    actions.reopen(case.id, deps, actor="customer", reason=f"new mention {mention.key}")
    return RouteResult("reopened", case.id, tags)


def _ignore(mention: Mention, tags: Tags, deps: Deps) -> RouteResult:
    """Venting, praise, noise: heard and stored, no case. One conditional write, nothing else."""
    if not deps.store.put_new(deps.store.mention_item(mention, tags, None, deps.config.retention_days)):
        return RouteResult("duplicate", None, None)
    hooks.after_mention(mention, tags, None, deps)
    return RouteResult("ignored", None, tags)
