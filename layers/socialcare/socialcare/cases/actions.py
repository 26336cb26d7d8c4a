"""What an agent (or the customer) does to a case. Every action is validated against the case's
state, recorded with who and when, idempotent per request id, and handed to the case workflow
without waiting for it. The action is committed onto the case as its pending action, so the hand-over
cannot be lost: if the workflow waits (a fresh task token on the case) the action also resumes it at
once, and the wait that follows drops the pending action it already carries; if it does not wait (or
the resume fails, or the caller dies before sending it), the workflow's next wait picks the pending
action up instead of waiting. A retry of the same request sends a resume that was owed again; Step
Functions refuses a spent token, so the workflow takes the action exactly once."""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from socialcare.cases import clocks, events, tally, workflow
from socialcare.cases.deps import Deps
from socialcare.models import Case, CaseEvent, CaseStatus, Clock
from socialcare.observability import logger
from socialcare.store import ConflictError, to_item

# Conditional writes retried against a case that keeps changing, before the caller is told to retry.
ATTEMPTS = 20


class ActionError(Exception):
    """An action that does not fit the case; nothing was changed."""


class NotAllowedError(ActionError):
    """The case's state forbids the action (resolved, owned by someone else, wrong department)."""


class BusyError(ActionError):
    """The case kept changing under the request; retrying the same request is safe."""


class HandoverError(BusyError):
    """The action is committed but the waiting workflow could not be resumed (Step Functions throttled,
    failing or unreachable); retrying the same request resumes it."""


@dataclass
class ActionResult:
    case_id: str
    action: str
    status: str
    detail: dict[str, Any] = field(default_factory=dict)
    replayed: bool = False


EVENT_TYPES = {
    "claim": "case.claimed",
    "reply": "case.replied",
    "handoff": "case.handed_off",
    "transfer": "case.transferred",
    "wait_customer": "case.waiting_customer",
    "customer_replied": "case.customer_replied",
    "resolve": "case.resolved",
    "reopen": "case.reopened",
    "label": "case.labelled",
}


# Actions that leave the running clock and queue as they are: the workflow keeps its wait (and its
# timeout) instead of waking for nothing, two state transitions saved per claim.
QUIET_ACTIONS = frozenset({"claim", "label"})


def _require_open(case: Case, action: str) -> None:
    if not case.is_open:
        raise NotAllowedError(f"cannot {action} case {case.id}: it is resolved (reopen it first)")


def _replay(case_id: str, request_id: str, deps: Deps) -> ActionResult | None:
    """The saved result of a committed request, after resuming the workflow again if the request was to:
    its first attempt may have died or failed before the resume went through (a spent token is refused)."""
    done = deps.store.get({"PK": {"S": f"CASE#{case_id}"}, "SK": {"S": f"ACTION#{request_id}"}})
    if done is None:
        return None
    if handover := done.get("handover"):
        _resume(case_id, (handover["token"], handover["output"]), deps)
    return ActionResult(case_id, done["action"], done["status"], done.get("detail", {}), replayed=True)


def perform(
    case_id: str,
    action: str,
    deps: Deps,
    *,
    actor: str,
    request_id: str | None = None,
    text: str | None = None,
    to: str | None = None,
    note: str | None = None,
    force: bool = False,
    department: str | None = None,
    actionable: bool | None = None,
) -> ActionResult:
    request_id = request_id or uuid.uuid4().hex
    if (done := _replay(case_id, request_id, deps)) is not None:
        return done
    for _ in range(ATTEMPTS):
        case = deps.store.get_case(case_id)
        try:
            plan = _plan(
                case,
                action,
                deps,
                actor=actor,
                text=text,
                to=to,
                note=note,
                force=force,
                department=department,
                request_id=request_id,
                actionable=actionable,
            )
        except ActionError as refusal:
            started = [] if isinstance(refusal, BusyError) else _started_deliveries(case, action, deps, request_id)
            if not started:
                raise
            # An earlier attempt of this request passed these checks and began posting, then died; the case
            # has moved on since (gone stale, transferred, resolved). What it posted is the customer's now,
            # so the retry finishes those deliveries and records them rather than refusing the request.
            plan = _finish_started(case, action, started, refusal, deps, actor=actor)
        else:
            _hand_over(case, action, plan, deps, request_id)
        try:
            _commit(case, action, plan, deps, actor=actor, request_id=request_id)
        except ConflictError:
            # The case moved under us (another action, a new wait) or this request committed meanwhile.
            if (done := _replay(case_id, request_id, deps)) is not None:
                return done
            continue
        try:
            _resume(case.id, plan["resume"], deps)
        finally:
            # Committed: its events go out even when the resume must be retried (the retry replays).
            events.publish(
                deps.events, deps.settings.event_bus_name, plan["events"], {"department": plan["department"]}
            )
        logger.info("case action", case_id=case_id, action=action, actor=actor)
        return ActionResult(case_id, action, plan["fields"].get("status", case.status), plan["detail"])
    raise BusyError(f"case {case_id} kept changing; retry the same request")


def _plan(case: Case, action: str, deps: Deps, **kw: Any) -> dict[str, Any]:
    now = deps.now()
    actor = kw["actor"]
    fields: dict[str, Any] = {}
    detail: dict[str, Any] = {}
    messages: list[dict[str, Any]] = []
    dept = case.department
    if kw.get("department") and kw["department"] != case.department:
        raise NotAllowedError(f"case {case.id} is in the {case.department} queue, not {kw['department']}")
    if case.stale and case.is_open and action != "resolve":
        # Its workflow ran out of tiers and ended: only closing it (or a reopen) makes sense now.
        raise NotAllowedError(f"case {case.id} went stale after its last escalation; resolve or reopen it")
    if action == "claim":
        _require_open(case, action)
        if case.owner and case.owner != actor and not kw["force"]:
            raise NotAllowedError(f"case {case.id} is owned by {case.owner}; use --force to take it over")
        fields.update(owner=actor, status=CaseStatus.CLAIMED.value)
        detail["owner"] = actor
    elif action in {"reply", "handoff"}:
        _require_open(case, action)
        if not kw["text"]:
            raise ActionError(f"{action} needs the message text")
        owner = case.owner or actor
        if action == "reply":
            # After a hand-off the conversation continues on the private channel.
            channel = case.handoff_channel or "public"
            messages.append({"direction": "out", "channel": channel, "author": actor, "text": kw["text"]})
        else:
            channel = kw["to"] or "dm"
            if channel not in {"dm", "email"}:
                raise ActionError(f"handoff goes to dm or email, not {channel!r}")
            public = (
                f"We've moved this to {'a direct message' if channel == 'dm' else 'email'} so we can look at your "
                f"details privately. Your case reference is {case.id} and {owner} is looking after it."
            )
            messages.append({"direction": "out", "channel": "public", "author": actor, "text": public})
            messages.append({"direction": "out", "channel": channel, "author": actor, "text": kw["text"]})
            fields["handoff_channel"] = channel
            detail["channel"] = channel
        _deliver_all(case, action, messages, detail, deps, [f"{kw['request_id']}-{i}" for i in range(len(messages))])
        fields.update(owner=owner, status=CaseStatus.CLAIMED.value)
        _first_response(case, now, fields, detail)
    elif action == "transfer":
        _require_open(case, action)
        target = kw["to"]
        if target not in deps.config.department_names:
            raise ActionError(f"unknown department {target!r}; known: {deps.config.department_names}")
        if target == case.department:
            raise NotAllowedError(f"case {case.id} is already in {target}")
        dept = target
        # The history moves with the case; the new department gets no fresh first-response clock.
        fields.update(
            department=target,
            owner=None,
            status=CaseStatus.OPEN.value,
            departments_history=[*case.departments_history, target],
        )
        detail.update({"from": case.department, "to": target, "note": kw["note"] or ""})
    elif action == "wait_customer":
        _require_open(case, action)
        if case.status == CaseStatus.WAITING_CUSTOMER:
            raise NotAllowedError(f"case {case.id} is already waiting on the customer")
        fields["status"] = CaseStatus.WAITING_CUSTOMER.value
    elif action == "customer_replied":
        if case.status != CaseStatus.WAITING_CUSTOMER:
            raise NotAllowedError(f"case {case.id} is not waiting on the customer")
        fields["status"] = (CaseStatus.CLAIMED if case.owner else CaseStatus.OPEN).value
    elif action == "resolve":
        _require_open(case, action)
        fields.update(
            status=CaseStatus.RESOLVED.value,
            resolved_at=now.isoformat(),
            task_token=None,
            GSI1PK=None,
            GSI1SK=None,
            clock=None,
        )
        detail.update(
            note=kw["note"] or "",
            resolution_met=now <= case.resolution_due,
            resolution_s=round((now - case.opened_at).total_seconds(), 3),
        )
    elif action == "label":
        # A person's verdict on the classifier's "actionable" tag: kept on the case (and its event) as the
        # label a retraining can learn from. Closing a case that needs nothing is a separate resolve.
        _require_open(case, action)
        if kw.get("actionable") is None:
            raise ActionError("label needs actionable: true or false")
        verdict = "yes" if kw["actionable"] else "no"
        fields["tags"] = {**case.tags.model_dump(mode="json"), "actionable": {"value": verdict, "confidence": 1.0}}
        detail.update(actionable=bool(kw["actionable"]), was=case.tags.actionable.value)
    else:
        raise ActionError(f"unknown action {action!r}")

    clock = (
        None
        if action in QUIET_ACTIONS
        else clocks.next_clock(case.model_copy(update={"department": dept}), action, now)
    )
    if clock is not None:
        fields["clock"] = clock.model_dump(mode="json")
        fields["GSI1PK"] = f"DEPT#{dept}#OPEN"
        fields["GSI1SK"] = f"{clock.due_at.isoformat()}#{case.id}"
    if kw["note"] and action != "transfer":
        detail["note"] = kw["note"]
    if action not in QUIET_ACTIONS:
        fields["token_fresh"] = False
    return _as_plan(case, action, now, actor, fields, detail, messages, clock, dept)


def _as_plan(
    case: Case,
    action: str,
    now: datetime,
    actor: str,
    fields: dict[str, Any],
    detail: dict[str, Any],
    messages: list[dict[str, Any]],
    clock: Clock | None,
    department: str,
) -> dict[str, Any]:
    event = CaseEvent(case_id=case.id, type=EVENT_TYPES[action], at=now, actor=actor, detail=detail)
    return {
        "fields": fields,
        "detail": detail,
        "messages": messages,
        "events": [event],
        "clock": clock,
        "department": department,
        "resume": None,  # a waiting workflow's token and output, when _hand_over finds one
    }


def _first_response(case: Case, now: datetime, fields: dict[str, Any], detail: dict[str, Any]) -> None:
    if case.first_responded_at is None:
        fields["first_responded_at"] = now.isoformat()
        detail["first_response_s"] = round((now - case.opened_at).total_seconds(), 3)
        detail["first_response_met"] = now <= case.first_response_due


def _deliver_all(
    case: Case, action: str, messages: list[dict[str, Any]], detail: dict[str, Any], deps: Deps, keys: list[str]
) -> None:
    """Publishes (or drafts) each outgoing message once per idempotency key (the request's id and the
    message's place); the outcome is kept on the message and told to the caller, so an agent always
    knows whether the customer has seen it yet."""
    deliver = deps.sender()
    deliveries = []
    for message, key in zip(messages, keys, strict=True):
        d = deliver(deps, case, message["text"], channel=message["channel"], kind=action, idempotency_key=key)
        message.update(delivery=d.mode, delivery_reason=d.reason, external_id=d.external_id)
        deliveries.append({"channel": d.channel, "mode": d.mode, "reason": d.reason})
    detail["deliveries"] = deliveries
    detail["delivery"] = deliveries[-1]["mode"] if deliveries else None


def _started_deliveries(case: Case, action: str, deps: Deps, request_id: str) -> list[dict[str, Any]]:
    """The outbound intents an earlier attempt of this request wrote, in message order."""
    if action not in {"reply", "handoff"}:
        return []
    prefix = f"OUTBOUND#{request_id}-"
    # Only this request's: the prefix of request "r1" also starts the keys of a request "r1-2".
    places = {i["SK"][len(prefix) :]: i for i in deps.store.query_case_items(case.id, prefix)}
    return [places[p] for p in sorted((p for p in places if p.isdigit()), key=int)]


def _finish_started(
    case: Case,
    action: str,
    started: list[dict[str, Any]],
    refusal: ActionError,
    deps: Deps,
    *,
    actor: str,
) -> dict[str, Any]:
    """A plan that settles the deliveries an earlier attempt began (through the same sender, which
    replays a settled one and looks an unsettled one up before anything is sent again) and records
    them on the case, leaving its state, clock and workflow as they are now."""
    now = deps.now()
    messages = [{"direction": "out", "channel": i["channel"], "author": actor, "text": i["text"]} for i in started]
    detail: dict[str, Any] = {"after": str(refusal)}
    _deliver_all(case, action, messages, detail, deps, [i["SK"].removeprefix("OUTBOUND#") for i in started])
    fields: dict[str, Any] = {}
    _first_response(case, now, fields, detail)  # as a reply's first attempt would have counted it
    return _as_plan(case, action, now, actor, fields, detail, messages, None, case.department)


def _commit(case: Case, action: str, plan: dict[str, Any], deps: Deps, *, actor: str, request_id: str) -> None:
    store = deps.store
    now = deps.now()
    ops: list[dict[str, Any]] = [store.case_update_op(case.id, case.version, plan["fields"])]
    ops += [{"Put": {"Item": store.event_item(e)}} for e in plan["events"]]
    for i, message in enumerate(plan["messages"]):
        at = now + timedelta(microseconds=i)
        ops.append({"Put": {"Item": store.message_item(case.id, message, at, f"{request_id}-{i}")}})
    if action == "resolve":
        # The parity tally moves with the closing, exactly once (same transaction as the ACTION record).
        ops += tally.closure_ops(case, now, deps.config.parity.bands)
    record = {
        "PK": f"CASE#{case.id}",
        "SK": f"ACTION#{request_id}",
        "action": action,
        "actor": actor,
        "at": now.isoformat(),
        "status": plan["fields"].get("status", case.status),
        "detail": plan["detail"],
    }
    if resume := plan.get("resume"):
        record["handover"] = {"token": resume[0], "output": resume[1]}  # what a retry of the request resends
    ops.append({"Put": {"Item": to_item(record), "ConditionExpression": "attribute_not_exists(PK)"}})
    store.transact(ops)


def _hand_over(case: Case, action: str, plan: dict[str, Any], deps: Deps, request_id: str) -> None:
    """How the workflow learns of the action, decided on the case as read and committed with it: the
    action is left on the case for the workflow's next wait, and if the workflow waits its token is
    spent too (resumed right after the commit; the next wait then drops the pending action by its ref).
    Should that resume never happen, the pending action still reaches the workflow: at the latest when
    the wait's clock runs out, sooner when the request is retried. Quiet actions need neither; a closing
    needs no pending action (a closed case ends the workflow at its next wait)."""
    if case.stale or action in QUIET_ACTIONS:
        return  # the workflow already ended, or it keeps waiting on the same clock
    output = _output(action, plan, deps, request_id)
    plan["fields"]["pending_action"] = None if action == "resolve" else _merged(case.pending_action, output)
    if case.token_fresh and case.task_token:
        plan["resume"] = (case.task_token, output)


def _output(action: str, plan: dict[str, Any], deps: Deps, request_id: str) -> dict[str, Any]:
    """What the workflow continues with ($.action): the next step, department, queue and clock, and
    the request it came from (so a wait can tell a pending action it already applied). A transfer
    also names its routing (`route`, its request id): the workflow sends one work item per route."""
    output = {
        "type": action,
        "department": plan["department"],
        "queue_url": deps.settings.department_queue_url(plan["department"]),
        "clock": workflow.clock_payload(plan["clock"]),
        "ref": request_id,
    }
    if action == "transfer":
        output["route"] = request_id
    return output


def _merged(pending: dict[str, Any] | None, output: dict[str, Any]) -> dict[str, Any]:
    """Actions the workflow has not picked up yet fold into one: the latest clock and department, and
    a transfer among them still sends the case to its (latest) department's queue, under that
    transfer's route, so a transfer the workflow already routed is not routed again."""
    if pending and pending.get("type") == "transfer" and output["type"] != "transfer":
        return {**output, "type": "transfer", "route": pending.get("route") or pending["ref"]}
    return output


def _resume(case_id: str, resume: tuple[str, dict[str, Any]] | None, deps: Deps) -> None:
    """Resumes the wait the action was committed against. A refused token means that wait is over: it
    took this action (an earlier attempt of the request), or it timed out and the wait that replaces it
    finds the action pending on the case (a closing ends the workflow there). Nothing more to do."""
    if resume is None:
        return
    token, output = resume
    try:
        workflow.resume(deps.sfn, token, output)
    except workflow.StaleTokenError:
        return
    except (workflow.WorkflowError, BotoCoreError) as exc:
        # Throttled, 5xx or timed out after botocore's retries: committed, not yet handed over.
        logger.warning("case workflow not resumed", case_id=case_id, action=output["type"], error=str(exc))
        raise HandoverError(
            f"case {case_id}: the {output['type']} is recorded but the case workflow did not take "
            "it yet; retry the same request"
        ) from exc


def customer_replied(case_id: str, deps: Deps, *, mention_key: str) -> ActionResult:
    return perform(case_id, "customer_replied", deps, actor="customer", request_id=f"customer-{mention_key}")


def reopen(case_id: str, deps: Deps, *, actor: str, reason: str, request_id: str | None = None) -> ActionResult:
    """A resolved case comes back: a new execution, fresh clocks for the new request."""
    request_id = request_id or uuid.uuid4().hex
    if (done := _replay(case_id, request_id, deps)) is not None:
        # The reopen was committed; the caller may have died before the new execution started.
        case = deps.store.get_case(case_id)
        if case.is_open and not case.token_fresh and case.execution_name and case.workflow_input:
            workflow.start(deps.sfn, deps.settings.state_machine_arn, case.execution_name, case.workflow_input)
        return done
    case = deps.store.get_case(case_id)
    if case.is_open and not case.stale:
        raise NotAllowedError(f"case {case_id} is open; nothing to reopen")
    now = deps.now()
    clock = clocks.first_clock(case.sla, now)
    name = f"{case.id}-r{case.reopen_count + 1}"
    reopened = case.model_copy(
        update={
            "clock": clock,
            "first_response_due": now + timedelta(seconds=case.sla.first_response_s),
            "resolution_due": now + timedelta(seconds=case.sla.resolution_s),
        }
    )
    payload = workflow.execution_input(reopened, deps.settings.department_queue_url(case.department))
    fields = {
        "status": CaseStatus.OPEN.value,
        "resolved_at": None,
        "first_responded_at": None,
        "owner": None,
        "clock": clock.model_dump(mode="json"),
        "first_response_due": reopened.first_response_due.isoformat(),
        "resolution_due": reopened.resolution_due.isoformat(),
        "reopen_count": case.reopen_count + 1,
        "execution_name": name,
        "workflow_input": payload,
        "escalation_tier": 0,
        "token_fresh": False,
        "stale": False,
        "pending_action": None,
        "GSI1PK": f"DEPT#{case.department}#OPEN",
        "GSI1SK": f"{clock.due_at.isoformat()}#{case.id}",
    }
    event = CaseEvent(case_id=case.id, type="case.reopened", at=now, actor=actor, detail={"reason": reason})
    plan = {"fields": fields, "detail": {"reason": reason}, "messages": [], "events": [event]}
    _commit(case, "reopen", plan, deps, actor=actor, request_id=request_id)
    workflow.start(deps.sfn, deps.settings.state_machine_arn, name, payload)
    events.publish(deps.events, deps.settings.event_bus_name, [event], {"department": case.department})
    return ActionResult(case_id, "reopen", CaseStatus.OPEN.value, {"reason": reason})


def restart_workflow(case_id: str, deps: Deps, *, actor: str) -> ActionResult:
    """The redrive path for a case whose workflow failed (its catch-all flagged it): a fresh execution
    from the case as it stands now (department, escalation tier, what is left of the running clock)."""
    case = deps.store.get_case(case_id)
    if not case.workflow_failed:
        raise NotAllowedError(f"case {case_id}: its workflow has not failed; nothing to restart")
    if not case.is_open:
        raise NotAllowedError(f"case {case_id} is resolved; reopen it instead")
    now = deps.now()
    clock = case.clock or clocks.first_clock(case.sla, now)
    remaining = max(1, math.ceil((clock.due_at - now).total_seconds()))
    clock = clock.model_copy(update={"seconds": remaining})
    name = f"{case.id}-w{case.workflow_restarts + 1}"
    payload = workflow.execution_input(
        case.model_copy(update={"clock": clock}), deps.settings.department_queue_url(case.department)
    )
    payload["tier"] = case.escalation_tier
    fields = {
        "workflow_failed": False,
        "workflow_error": None,
        "workflow_restarts": case.workflow_restarts + 1,
        "execution_name": name,
        "workflow_input": payload,
        "token_fresh": False,
        "stale": False,
        # the fresh execution starts from the case as it stands, so nothing is left pending
        "pending_action": None,
    }
    event = CaseEvent(
        case_id=case.id,
        type="case.workflow_restarted",
        at=now,
        actor=actor,
        detail={"execution": name, "error": case.workflow_error},
    )
    plan = {"fields": fields, "detail": {"execution": name}, "messages": [], "events": [event]}
    _commit(case, "restart", plan, deps, actor=actor, request_id=f"restart-{name}")
    workflow.start(deps.sfn, deps.settings.state_machine_arn, name, payload)
    events.publish(deps.events, deps.settings.event_bus_name, [event], {"department": case.department})
    return ActionResult(case_id, "restart", case.status, {"execution": name})


def store_wait(case_id: str, task_token: str, action: dict[str, Any], deps: Deps) -> Case:
    """Called by the workflow each time it starts waiting: the token and clock go on the case."""
    if action.get("type") == "opened":
        deps.acknowledger()  # a first wait may acknowledge: refused before the token is stored if it cannot
    now = deps.now()
    clock = clocks.make_clock(action["clock"]["name"], action["clock"]["seconds"], now)
    if action["clock"].get("due_at"):
        # Computed when the action was taken; escalation clocks from the workflow have none.
        clock = clock.model_copy(update={"due_at": datetime.fromisoformat(action["clock"]["due_at"])})
    for _ in range(ATTEMPTS):
        case = deps.store.get_case(case_id)
        if not case.is_open:
            raise CaseClosedError(f"case {case_id} is closed")
        pending = case.pending_action
        if pending and pending.get("ref") != action.get("ref"):
            # An action came while the workflow was not waiting: it goes on with it now, not waiting.
            if pending.get("type") == "transfer" and not pending.get("route"):
                pending = {**pending, "route": pending["ref"]}  # left by a version without routes
            workflow.resume(deps.sfn, task_token, pending)
            _clear_pending(case, pending["ref"], deps)
            _maybe_acknowledge(case, action, deps)
            return case
        fields = {
            "task_token": task_token,
            "token_fresh": True,
            "clock": clock.model_dump(mode="json"),
            "GSI1SK": f"{clock.due_at.isoformat()}#{case_id}",
        }
        if pending:
            fields["pending_action"] = None  # applied by the previous wait, which was gone before clearing it
        try:
            deps.store.update_case(case_id, case.version, fields)
        except ConflictError:
            continue
        _maybe_acknowledge(case, action, deps)
        schedule_sla_warning(case_id, clock, deps)
        return case
    raise BusyError(f"case {case_id} kept changing while storing its task token")


def _clear_pending(case: Case, ref: str, deps: Deps) -> None:
    """Removes a pending action the workflow has just taken, unless a newer one replaced it (that one
    waits for the next wait). A clear that never lands is done by the next wait instead."""
    for _ in range(ATTEMPTS):
        try:
            deps.store.update_case(case.id, case.version, {"pending_action": None})
            return
        except ConflictError:
            case = deps.store.get_case(case.id)
            if not case.pending_action or case.pending_action.get("ref") != ref:
                return


def _maybe_acknowledge(case: Case, action: dict[str, Any], deps: Deps) -> None:
    if action.get("type") == "opened" and case.first_responded_at is None:
        _acknowledge(case, deps)


def _acknowledge(case: Case, deps: Deps) -> None:
    """The optional automatic acknowledgement (once per case); kept on the conversation and as an event.
    A retried await step finds the first delivery (same time, same keys), so it records nothing twice."""
    delivery = deps.acknowledger()(deps, case)
    if delivery is None:
        return
    at = delivery.at
    message = {
        "direction": "out",
        "channel": "public",
        "author": "auto",
        "text": delivery.text,
        "delivery": delivery.mode,
        "delivery_reason": delivery.reason,
        "external_id": delivery.external_id,
        "kind": "acknowledgement",
    }
    event = CaseEvent(
        case_id=case.id,
        type="case.acknowledged",
        at=at,
        actor="system",
        detail={"delivery": delivery.mode, "reason": delivery.reason},
    )
    event_item = deps.store.event_item(event)
    event_item["SK"] = {"S": f"EVENT#{at.astimezone(UTC).isoformat(timespec='milliseconds')}#case.acknowledged#ack"}
    deps.store.transact(
        [
            {"Put": {"Item": deps.store.message_item(case.id, message, at, f"ack-{case.id}")}},
            {"Put": {"Item": event_item}},
        ]
    )
    events.publish(deps.events, deps.settings.event_bus_name, [event], {"department": case.department})


WARNED_CLOCKS = frozenset({"first_response", "next_update", "resolution"})
MAX_SQS_DELAY_S = 900


def sla_warning_queue_url(deps: Deps) -> str:
    """The stack's SLA warning queue ("<stack>-sla-warnings"), beside its other queues."""
    base = deps.settings.mentions_queue_url.rsplit("/", 1)[0]
    return f"{base}/{deps.settings.stack_name}-sla-warnings"


def schedule_sla_warning(case_id: str, clock: Clock, deps: Deps, *, warn_at: datetime | None = None) -> str | None:
    """A warning for this wait at the configured fraction of its clock, as a delayed SQS message
    (re-delayed in steps of at most 15 minutes until it is due). None when warnings are off."""
    fraction = deps.config.sla_warning_fraction
    if fraction <= 0 or clock.name not in WARNED_CLOCKS or not deps.settings.mentions_queue_url:
        return None
    if warn_at is None:
        warn_at = clock.due_at - timedelta(seconds=clock.seconds * (1 - fraction))
    delay = max(0, min(MAX_SQS_DELAY_S, math.ceil((warn_at - deps.now()).total_seconds())))
    body = {
        "kind": "sla_warning",
        "case_id": case_id,
        "clock": clock.name,
        "due_at": clock.due_at.isoformat(),
        "seconds": clock.seconds,
        "warn_at": warn_at.isoformat(),
    }
    try:
        deps.sqs.send_message(QueueUrl=sla_warning_queue_url(deps), MessageBody=json.dumps(body), DelaySeconds=delay)
    except ClientError as exc:
        # A stack deployed before warnings existed has no queue: the case still waits, just unwarned.
        if exc.response["Error"]["Code"] not in {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}:
            raise
        logger.warning("no SLA warning queue; warning skipped", case_id=case_id)
        return None
    return body["warn_at"]


def fire_sla_warning(body: dict[str, Any], deps: Deps) -> str:
    """Emits case.sla_warning once per wait if that wait is still running unanswered; else nothing.
    Returns what happened: "deferred", "stale", "duplicate" or "warned"."""
    warn_at = datetime.fromisoformat(body["warn_at"])
    due_at = datetime.fromisoformat(body["due_at"])
    clock = Clock(name=body["clock"], seconds=int(body["seconds"]), due_at=due_at)
    if (warn_at - deps.now()).total_seconds() > 1:
        schedule_sla_warning(body["case_id"], clock, deps, warn_at=warn_at)
        return "deferred"
    case = deps.store.get_case(body["case_id"])
    if not case.is_open or case.clock is None or case.clock.name != clock.name or case.clock.due_at != due_at:
        return "stale"  # answered, transferred into a new wait, or closed: nothing to warn about
    now = deps.now()
    event = CaseEvent(
        case_id=case.id,
        type="case.sla_warning",
        at=now,
        detail={
            "clock": clock.name,
            "due_at": due_at.isoformat(),
            "seconds_left": round((due_at - now).total_seconds(), 1),
            "fraction": deps.config.sla_warning_fraction,
            "owner": case.owner,
        },
    )
    marker = to_item(
        {"PK": f"CASE#{case.id}", "SK": f"WARNING#{clock.name}#{due_at.isoformat()}", "at": now.isoformat()}
    )
    try:
        deps.store.transact(
            [
                {"Put": {"Item": marker, "ConditionExpression": "attribute_not_exists(PK)"}},
                {"Put": {"Item": deps.store.event_item(event)}},
            ]
        )
    except ConflictError:
        return "duplicate"
    events.publish(deps.events, deps.settings.event_bus_name, [event], {"department": case.department})
    return "warned"


class CaseClosedError(Exception):
    """The workflow asked to wait on a case that is already closed (its ASL Catch ends the run)."""
