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
from socialcare.cases.deps import AFTER_MENTION_PENDING, Deps
from socialcare.models import Case, CaseEvent, CaseStatus, Mention, Tags, case_id_for
from socialcare.observability import logger
from socialcare.store import ConflictError, case_key

Outcome = Literal["duplicate", "opened", "attached", "reopened", "ignored"]


@dataclass(frozen=True)
class RouteResult:
    outcome: Outcome
    case_id: str | None
    tags: Tags | None


MAX_ROUTE_ATTEMPTS = 8


class RouteRaceError(Exception):
    """Other routers kept changing the same thread or customer between this router's reads and its
    write; nothing was written. The record fails and SQS brings it back."""


class _Raced(Exception):
    """What this router read (thread owner, customer's latest case, the case's state) changed before
    its transaction: read again and decide again."""


@dataclass
class _Seen:
    """The base-table items a decision was made on, read strongly consistent; the write is
    conditioned on them still saying the same, so two routers never both open a case."""

    thread_key: str
    thread_case: str | None = None
    latest_case: str | None = None  # read only when the thread has no case


def route_mention(mention: Mention, deps: Deps) -> RouteResult:
    tags = deps.classifier.classify(mention.text, platform=mention.platform, rating=mention.rating)
    for _ in range(MAX_ROUTE_ATTEMPTS):
        try:
            return _route(mention, tags, deps)
        except _Raced:
            continue
    raise RouteRaceError(f"mention {mention.key}: its thread or customer kept changing; retry later")


def _route(mention: Mention, tags: Tags, deps: Deps) -> RouteResult:
    now = deps.now()
    existing, seen = _conversation(mention, deps)
    if existing is not None and existing.is_open and not existing.stale:
        return _attach(mention, tags, existing, seen, deps)
    if existing is not None and existing.stale:
        return _reopen(mention, tags, existing, seen, deps)  # its workflow ended: the customer's new words restart it
    if (
        existing is not None
        and existing.resolved_at
        and (now - existing.resolved_at).total_seconds() <= deps.config.reopen_window_s
    ):
        return _reopen(mention, tags, existing, seen, deps)
    if tags.is_actionable:
        return _open(mention, tags, seen, deps)
    return _ignore(mention, tags, deps)


def _conversation(mention: Mention, deps: Deps) -> tuple[Case | None, _Seen]:
    """The same thread or reply chain first; else the author's latest case, if recent. Both come from
    base-table items read strongly consistent (a GSI is eventually consistent: a second post seconds
    after the first could miss the case the first one opened)."""
    seen = _Seen(thread_key=mention.thread_key or f"{mention.platform}#{mention.id}")
    seen.thread_case = deps.store.thread_case(seen.thread_key)
    if seen.thread_case:
        return deps.store.get_case(seen.thread_case), seen
    seen.latest_case = deps.store.latest_case_id(mention.customer_key)
    if not seen.latest_case:
        return None, seen
    case = deps.store.get_case(seen.latest_case)
    if case.mention_key == mention.key:
        return None, seen  # this very mention opened it: a redelivery, handled as a duplicate below
    age = (deps.now() - case.opened_at).total_seconds()
    if age > max(deps.config.thread_window_s, deps.config.reopen_window_s):
        return None, seen
    if not case.is_open or age <= deps.config.thread_window_s:
        return case, seen
    return None, seen


def _settle_conflict(exc: ConflictError, mention: Mention, tags: Tags, deps: Deps) -> RouteResult:
    """Only a failed condition on the mention's own dedup item (always first) means "already routed";
    any other failed condition means another router moved first, so decide again on fresh reads."""
    if 0 in exc.failed:
        return _duplicate(mention, tags, deps)
    raise _Raced(str(exc)) from exc


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


def _after_mention(mention: Mention, tags: Tags, case: Case | None, deps: Deps) -> None:
    if deps.after_mention is not None:
        deps.after_mention(mention, tags, case, deps)


def _duplicate(mention: Mention, tags: Tags, deps: Deps) -> RouteResult:
    """A redelivery. If this mention opened a case whose workflow never started (a crash between the
    two), start it now: the stored input and the execution name make that idempotent. If its incident
    membership failed last time (the table stayed busy), it is tried again."""
    stored = deps.store.get_mention(mention.key) or {}
    case_id = stored.get("case_id")
    case = deps.store.get_case(case_id) if case_id else None
    if case is not None:
        _ensure_workflow(case, deps)
    if stored.get(AFTER_MENTION_PENDING) and deps.after_mention is not None:
        deps.after_mention(mention, tags, case, deps, retry=True)
    logger.info("duplicate mention dropped", mention_key=mention.key)
    return RouteResult("duplicate", case_id, None)


def _open(mention: Mention, tags: Tags, seen: _Seen, deps: Deps) -> RouteResult:
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
        thread_key=seen.thread_key,
        region=mention.region,
        execution_name=case_id,
        departments_history=[department],
    )
    queue_url = deps.settings.department_queue_url(department)
    case = case.model_copy(update={"workflow_input": workflow.execution_input(case, queue_url)})
    opened = [
        CaseEvent(
            case_id=case_id,
            type="case.opened",
            at=now,
            detail={
                "mention_key": mention.key,
                "platform": mention.platform,
                "intent": tags.intent.value,
                "priority": case.priority,
            },
        ),
        CaseEvent(case_id=case_id, type="case.routed", at=now, detail={"department": department}),
    ]
    store = deps.store
    if seen.thread_case is not None:
        # The thread's case answered (closed past the reopen window) before the customer's
        # latest-case pointer was read: read it now, for the write is conditioned on it.
        seen.latest_case = store.latest_case_id(mention.customer_key)
    ops = [
        _mention_put(mention, tags, case_id, deps),
        {
            "Put": {
                "Item": store.case_item(case, summary=mention.text),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        },
        _unchanged(store.thread_item(seen.thread_key, case_id), seen.thread_case),
        _unchanged(store.latest_case_item(mention.customer_key, case_id, now), seen.latest_case),
        {
            "Put": {
                "Item": store.message_item(case_id, _customer_message(mention, deps), mention.created_at, mention.key)
            }
        },
        *({"Put": {"Item": store.event_item(e)}} for e in opened),
    ]
    try:
        store.transact(ops)
    except ConflictError as exc:
        return _settle_conflict(exc, mention, tags, deps)
    workflow.start(deps.sfn, deps.settings.state_machine_arn, case_id, case.workflow_input)
    events.publish(deps.events, deps.settings.event_bus_name, opened, {"department": department})
    logger.info("case opened", case_id=case_id, department=department, priority=case.priority)
    _after_mention(mention, tags, case, deps)
    return RouteResult("opened", case_id, tags)


def _attach(mention: Mention, tags: Tags, case: Case, seen: _Seen, deps: Deps) -> RouteResult:
    store = deps.store
    ops = [
        _mention_put(mention, tags, case.id, deps),
        {
            "Put": {
                "Item": store.message_item(case.id, _customer_message(mention, deps), mention.created_at, mention.key)
            }
        },
        _still_open(case),
    ]
    if seen.thread_case != case.id:
        ops.append(_unchanged(store.thread_item(seen.thread_key, case.id), seen.thread_case))
    try:
        store.transact(ops)
    except ConflictError as exc:
        return _settle_conflict(exc, mention, tags, deps)
    _ensure_workflow(case, deps)
    if case.status == CaseStatus.WAITING_CUSTOMER:
        actions.customer_replied(case.id, deps, mention_key=mention.key)
    logger.info("mention attached to case", case_id=case.id, mention_key=mention.key)
    return RouteResult("attached", case.id, tags)


def _reopen(mention: Mention, tags: Tags, case: Case, seen: _Seen, deps: Deps) -> RouteResult:
    """The case comes back first (idempotent per mention), then the mention is stored on it: a crash
    between the two finds the case open on redelivery and attaches the mention there."""
    if deps.store.get_mention(mention.key) is not None:
        return _duplicate(mention, tags, deps)
    try:
        actions.reopen(
            case.id, deps, actor="customer", reason=f"new mention {mention.key}", request_id=f"reopen-{mention.key}"
        )
    except (actions.NotAllowedError, ConflictError) as exc:
        raise _Raced(str(exc)) from exc  # someone reopened or changed it first: decide again
    store = deps.store
    ops = [
        _mention_put(mention, tags, case.id, deps),
        {
            "Put": {
                "Item": store.message_item(case.id, _customer_message(mention, deps), mention.created_at, mention.key)
            }
        },
    ]
    if seen.thread_case != case.id:
        ops.append(_unchanged(store.thread_item(seen.thread_key, case.id), seen.thread_case))
    try:
        store.transact(ops)
    except ConflictError as exc:
        return _settle_conflict(exc, mention, tags, deps)
    return RouteResult("reopened", case.id, tags)


def _ensure_workflow(case: Case, deps: Deps) -> None:
    """An open case whose workflow is not waiting may be one whose opener or reopener died right
    after committing, before starting the execution. Starting it again is idempotent (same name,
    same stored input), so the next mention on the case, or the redelivery, repairs it."""
    if case.is_open and not case.stale and not case.token_fresh and case.execution_name and case.workflow_input:
        workflow.start(deps.sfn, deps.settings.state_machine_arn, case.execution_name, case.workflow_input)


def _unchanged(item: dict, seen_case: str | None) -> dict:
    """A pointer item (thread owner, customer's latest case) written only if it still says what the
    router read."""
    if seen_case is None:
        return {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}
    return {
        "Put": {
            "Item": item,
            "ConditionExpression": "case_id = :seen",
            "ExpressionAttributeValues": {":seen": {"S": seen_case}},
        }
    }


def _still_open(case: Case) -> dict:
    """Attaching to a case that another request resolved meanwhile would hide the customer's words."""
    return {
        "ConditionCheck": {
            "Key": case_key(case.id),
            "ConditionExpression": "#s <> :resolved",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":resolved": {"S": CaseStatus.RESOLVED.value}},
        }
    }


def _ignore(mention: Mention, tags: Tags, deps: Deps) -> RouteResult:
    """Venting, praise, noise: heard and stored, no case. One conditional write, nothing else."""
    if not deps.store.put_new(deps.store.mention_item(mention, tags, None, deps.config.retention_days)):
        return _duplicate(mention, tags, deps)
    _after_mention(mention, tags, None, deps)
    return RouteResult("ignored", None, tags)
