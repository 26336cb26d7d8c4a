"""The department-side SDK: work a queue, own cases, answer customers, hand over, resolve.

    from socialcare.assembly import connect_agent
    agent = connect_agent("maria", department="baggage", stack="socialcare")
    for item in agent.queue("baggage"):
        agent.claim(item.case_id)
        agent.reply(item.case_id, "Sorry about your bag - I'm on it.")   # .detail["delivery"]: published|draft|unknown

`connect_agent` finds the stack the usual way (profile/region, AWS_ENDPOINT_URL or a running
`socialcare local up`) and every resource name from the stack's outputs. An agent bound to a
department cannot act on cases in another department's queue. Every action takes an optional
request_id: the same request twice has one effect. An AgentClient built by hand takes Deps from
socialcare.assembly: its replies go out through the outbound plug-in on them.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from socialcare.agents import views
from socialcare.agents.suggest import suggest
from socialcare.cases import actions
from socialcare.cases.actions import ActionResult
from socialcare.cases.deps import Deps
from socialcare.models import Case, CaseStatus


@dataclass(frozen=True)
class WorkItem:
    case_id: str
    department: str
    priority: int
    due_at: datetime | None
    clock: str | None
    owner: str | None
    status: str
    summary: str


class AgentClient:
    def __init__(self, deps: Deps, name: str, department: str | None = None) -> None:
        self.deps = deps
        self.name = name
        self.department = department
        if department is not None:
            deps.config.department(department)

    # ---------------------------------------------------------------- reading
    def queue(self, department: str, *, limit: int = 100) -> list[WorkItem]:
        """Open cases of the department, the one whose SLA falls due first at the top (one index query)."""
        return [
            WorkItem(
                case_id=v.case_id,
                department=v.department,
                priority=v.priority,
                due_at=v.due_at,
                clock=v.clock,
                owner=v.owner,
                status=v.status,
                summary=v.summary,
            )
            for v in self.work_queue(department, limit=limit).cases
        ]

    def pull_work_items(self, department: str, *, max_items: int = 10, wait_s: int = 0) -> list[dict[str, Any]]:
        """Takes new work-item notices off the department's SQS queue (deleting them once read)."""
        sqs = self.deps.sqs
        url = self.deps.settings.department_queue_url(department)
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(10, max_items), WaitTimeSeconds=wait_s).get(
            "Messages", []
        )
        items = []
        for m in got:
            items.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return items

    def case(self, case_id: str) -> Case:
        return self.deps.store.get_case(case_id)

    def work_queue(
        self,
        department: str,
        *,
        limit: int = 100,
        filters: views.QueueFilter | None = None,
        after: str | None = None,
    ) -> views.QueueView:
        """A page of the department's open cases by SLA due time (`after`: the `next` of the page before),
        plus how many notices wait in its SQS queue (counted, not consumed). One query on the inbox
        index, which holds just what a row shows: no read per case."""
        self.deps.config.department(department)
        now = self.deps.now()
        rows = self._queue_rows(department, limit + 1, filters, now, _cursor_key(department, after))
        more, rows = len(rows) > limit, rows[:limit]
        # Cases opened before the index carried the opening words: those rows read them in one batch.
        older = self._summaries([r["id"] for r in rows if "summary" not in r])
        items = []
        for row in rows:
            clock = row.get("clock") or None
            due = datetime.fromisoformat(clock["due_at"]) if clock else None
            left = (due - now).total_seconds() if due else None
            items.append(
                views.WorkItemView(
                    case_id=row["id"],
                    department=row["department"],
                    priority=int(row.get("priority", 3)),
                    status=row["status"],
                    owner=row.get("owner"),
                    clock=clock["name"] if clock else None,
                    due_at=due,
                    seconds_left=None if left is None else round(left, 1),
                    summary=str(row["summary"] if "summary" in row else older.get(row["id"], "")),
                    platform=row.get("platform"),
                    language=row.get("language"),
                    escalation_tier=int(row.get("escalation_tier") or 0),
                    breaches=int(row.get("breaches") or 0),
                    incident_id=row.get("incident_id"),
                    followers=row.get("followers"),
                )
            )
        attrs = self.deps.sqs.get_queue_attributes(
            QueueUrl=self.deps.settings.department_queue_url(department),
            AttributeNames=["ApproximateNumberOfMessages"],
        )["Attributes"]
        return views.QueueView(
            department=department,
            waiting_notices=int(attrs.get("ApproximateNumberOfMessages", 0)),
            cases=items,
            more=more,
            next=_cursor(rows[-1]["GSI1SK"]) if more else None,
        )

    def history(self, case_id: str) -> list[views.HistoryEntry]:
        """Every recorded change on the case, oldest first: who, what, when, and their note."""
        self.case(case_id)  # an unknown case is NotFoundError, not an empty history
        return [views.history_entry(e) for e in self.deps.store.events(case_id)]

    def open_count(self, department: str) -> int:
        """How many open cases the department has (queue() returns at most its limit)."""
        self.deps.config.department(department)
        return self.deps.store.count_open_cases(department)

    def show(self, case_id: str) -> views.CaseView:
        """Everything an agent needs to act: conversation, tags, clocks with time left, owner, the
        customer's earlier cases, author reach (information only) and suggested replies."""
        case = self.case(case_id)
        now = self.deps.now()
        messages = self.deps.store.messages(case_id)
        inbound = [m["mention_key"] for m in messages if m.get("direction") == "in" and m.get("mention_key")]
        tagged = self.deps.store.mentions(inbound, "PK, tags") if inbound else {}
        conversation = [
            views.MessageView(
                at=str(m.get("at", "")),
                direction=m.get("direction", "in"),
                channel=m.get("channel", "public"),
                author=m.get("author"),
                text=m.get("text", ""),
                delivery=m.get("delivery"),
                delivery_reason=m.get("delivery_reason"),
                tags=(tagged.get(m.get("mention_key") or "") or {}).get("tags"),
            )
            for m in messages
        ]
        earlier = [
            views.EarlierCase(
                case_id=c.id,
                platform=c.platform,
                department=c.department,
                status=c.status,
                opened_at=c.opened_at,
                resolved_at=c.resolved_at,
            )
            for c in self.deps.store.customer_cases(case.customer_key, limit=20)
            if c.id != case.id
        ]
        inbound = " ".join(m.get("text", "") for m in messages if m.get("direction") == "in")
        suggestions = [
            views.Suggestion(id=e.id, question=e.question, answer=e.answer, score=score)
            for e, score in suggest(inbound, self.deps.config.faq, case.department)
        ]
        return views.CaseView(
            case_id=case.id,
            department=case.department,
            status=case.status,
            owner=case.owner,
            priority=case.priority,
            author=views.AuthorView(
                handle=case.author.handle,
                name=case.author.name,
                platform=case.platform,
                followers=case.author.followers,
                verified=case.author.verified,
            ),
            tags={k: v for k, v in case.tags.model_dump(mode="json").items()},
            clocks=clock_views(case, now),
            conversation=conversation,
            earlier_cases=earlier,
            suggestions=suggestions,
            handoff_channel=case.handoff_channel,
            departments_history=case.departments_history,
            escalation_tier=case.escalation_tier,
            state_tag=state_tag(case),
            incident_id=case.incident_id,
            opened_at=case.opened_at,
            history=[
                views.EventView(
                    at=str(e.get("at", "")),
                    type=str(e.get("type", "")),
                    actor=str(e.get("actor", "system")),
                    note=(e.get("detail") or {}).get("note") or (e.get("detail") or {}).get("reason"),
                    detail=e.get("detail") or {},
                )
                for e in self.deps.store.events(case_id)
            ],
        )

    def _queue_rows(
        self,
        department: str,
        limit: int,
        filters: views.QueueFilter | None = None,
        now: datetime | None = None,
        start: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Open cases from the department's inbox index, nearest due first, narrowed by a filter expression."""
        from socialcare.store import from_item

        names = {f"#{a}": a for a in INBOX_ROW}
        values: dict[str, Any] = {":pk": {"S": f"DEPT#{department}#OPEN"}}
        kwargs: dict[str, Any] = {
            "TableName": self.deps.store.table,
            "IndexName": "InboxByDepartment",
            "KeyConditionExpression": "GSI1PK = :pk",
            "ProjectionExpression": ", ".join(["GSI1SK", *names]),
            "ExpressionAttributeNames": names,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        conditions = _queue_conditions(filters, values, names, now or self.deps.now())
        if conditions:
            kwargs["FilterExpression"] = " AND ".join(conditions)
        kwargs["ExpressionAttributeValues"] = values
        rows: list[dict[str, Any]] = []
        read = 0
        while len(rows) < limit:
            # A filter is applied after the read: when a page came back short, read twice as many next time.
            want = limit - len(rows)
            read = min(1000, max(want, 2 * read))
            page = self.deps.store.ddb.query(**kwargs, Limit=read if conditions else want)
            rows.extend(from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return rows[:limit]

    def _summaries(self, case_ids: list[str]) -> dict[str, str]:
        """The opening message's start per case, from the case items, 100 at a time (BatchGetItem)."""
        from socialcare.store import SUMMARY_CHARS, case_key, from_item

        out: dict[str, str] = {}
        mention_keys: dict[str, str] = {}
        for item in self.deps.store.batch_get([case_key(k) for k in case_ids], "id, mention_key")[0]:
            data = from_item(item)
            mention_keys[data["mention_key"]] = data["id"]
        for key, data in self.deps.store.mentions(list(mention_keys), "PK, mention.#t", {"#t": "text"}).items():
            out[mention_keys[key]] = str(data.get("mention", {}).get("text", ""))[:SUMMARY_CHARS]
        return out

    # ---------------------------------------------------------------- acting
    def _do(self, case_id: str, action: str, request_id: str | None = None, **kw: Any) -> ActionResult:
        return actions.perform(
            case_id,
            action,
            self.deps,
            actor=self.name,
            request_id=request_id,
            department=self.department,
            **kw,
        )

    def claim(self, case_id: str, *, force: bool = False, request_id: str | None = None) -> ActionResult:
        return self._do(case_id, "claim", request_id, force=force)

    def reply(self, case_id: str, text: str, *, request_id: str | None = None) -> ActionResult:
        return self._do(case_id, "reply", request_id, text=text)

    def handoff(self, case_id: str, to: str, text: str, *, request_id: str | None = None) -> ActionResult:
        return self._do(case_id, "handoff", request_id, to=to, text=text)

    def transfer(self, case_id: str, to: str, note: str, *, request_id: str | None = None) -> ActionResult:
        return self._do(case_id, "transfer", request_id, to=to, note=note)

    def wait_customer(self, case_id: str, *, request_id: str | None = None) -> ActionResult:
        return self._do(case_id, "wait_customer", request_id)

    def label(self, case_id: str, actionable: bool, *, request_id: str | None = None) -> ActionResult:
        """Marks the case actionable or not: a person's verdict on the classifier's tag, kept for retraining."""
        return self._do(case_id, "label", request_id, actionable=actionable)

    def resolve(self, case_id: str, note: str, *, request_id: str | None = None) -> ActionResult:
        return self._do(case_id, "resolve", request_id, note=note)

    def reopen(
        self, case_id: str, reason: str = "reopened by an agent", *, request_id: str | None = None
    ) -> ActionResult:
        if self.department is not None:
            case = self.case(case_id)
            if case.department != self.department:
                raise actions.NotAllowedError(
                    f"case {case_id} is in the {case.department} queue, not {self.department}"
                )
        return actions.reopen(case_id, self.deps, actor=self.name, reason=reason, request_id=request_id)

    def restart(self, case_id: str) -> ActionResult:
        """The redrive path after the case workflow's catch-all flagged the case."""
        if self.department is not None and self.case(case_id).department != self.department:
            raise actions.NotAllowedError(f"case {case_id} is not in the {self.department} queue")
        return actions.restart_workflow(case_id, self.deps, actor=self.name)


# What an inbox row shows: the attributes the InboxByDepartment index projects (template.yaml).
INBOX_ROW = (
    "id",
    "department",
    "status",
    "priority",
    "owner",
    "clock",
    "platform",
    "escalation_tier",
    "breaches",
    "incident_id",
    "summary",
    "language",
    "followers",
)
_CASE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _cursor(index_sk: str) -> str:
    """Where the next page starts: the last row's position in the index (its due time and case id)."""
    return base64.urlsafe_b64encode(index_sk.encode()).decode().rstrip("=")


def _cursor_key(department: str, cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        index_sk = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        due, _, case_id = index_sk.rpartition("#")
        datetime.fromisoformat(due)
    except ValueError:  # not base64, not UTF-8 (a ValueError too) or no due time in it
        case_id = ""
    if not _CASE_ID.match(case_id):
        raise actions.ActionError("'after' is not a position this queue handed out (use the 'next' of a page)")
    return {
        "GSI1PK": {"S": f"DEPT#{department}#OPEN"},
        "GSI1SK": {"S": index_sk},
        "PK": {"S": f"CASE#{case_id}"},
        "SK": {"S": "CASE"},
    }


def _queue_conditions(
    filters: views.QueueFilter | None, values: dict[str, Any], names: dict[str, str], now: datetime
) -> list[str]:
    if filters is None:
        return []
    out = []
    if filters.owner:
        out.append("#owner = :owner")
        values[":owner"] = {"S": filters.owner}
    if filters.unclaimed:
        out.append("(attribute_not_exists(#owner) OR attribute_type(#owner, :null))")
        values[":null"] = {"S": "NULL"}
    if filters.status:
        out.append("#status = :status")
        values[":status"] = {"S": filters.status}
    if filters.breached:
        names["#due_at"] = "due_at"
        out.append("(#breaches > :zero OR #clock.#due_at < :now)")
        values[":zero"] = {"N": "0"}
        values[":now"] = {"S": now.isoformat()}
    if filters.incident:
        out.append("(attribute_exists(#incident_id) AND NOT attribute_type(#incident_id, :nul2))")
        values[":nul2"] = {"S": "NULL"}
    if filters.platform:
        out.append("#platform = :platform")
        values[":platform"] = {"S": filters.platform}
    if filters.language:
        out.append("#language = :language")
        values[":language"] = {"S": filters.language}
    return out


def state_tag(case: Case) -> str:
    """What a person acting on a case has decided on: its status, owner, department and channel."""
    import hashlib

    seen = f"{case.status}|{case.owner or ''}|{case.department}|{case.handoff_channel or ''}|{case.reopen_count}"
    return hashlib.sha256(seen.encode()).hexdigest()[:16]


def clock_views(case: Case, now: datetime) -> list[views.ClockView]:
    """Each service-level clock with its time left: first response, the running clock, resolution."""

    def left(due: datetime) -> float:
        return round((due - now).total_seconds(), 1)

    closed = case.status == CaseStatus.RESOLVED
    out = []
    if case.first_responded_at is not None:
        out.append(
            views.ClockView(name="first_response", due_at=case.first_response_due, seconds_left=None, state="met")
        )
    else:
        s = left(case.first_response_due)
        out.append(
            views.ClockView(
                name="first_response",
                due_at=case.first_response_due,
                seconds_left=s,
                state="closed" if closed else ("breached" if s < 0 else "running"),
            )
        )
    if case.first_responded_at is not None and not closed:
        if case.status == CaseStatus.WAITING_CUSTOMER:
            out.append(views.ClockView(name="next_update", due_at=None, seconds_left=None, state="paused"))
        elif case.clock is not None and case.clock.name in {"next_update", "escalation", "stale"}:
            s = left(case.clock.due_at)
            out.append(
                views.ClockView(
                    name=case.clock.name,
                    due_at=case.clock.due_at,
                    seconds_left=s,
                    state="breached" if s < 0 else "running",
                )
            )
    if closed:
        met = case.resolved_at is not None and case.resolved_at <= case.resolution_due
        out.append(
            views.ClockView(
                name="resolution",
                due_at=case.resolution_due,
                seconds_left=None,
                state="met" if met else "breached",
            )
        )
    else:
        s = left(case.resolution_due)
        out.append(
            views.ClockView(
                name="resolution",
                due_at=case.resolution_due,
                seconds_left=s,
                state="breached" if s < 0 else "running",
            )
        )
    return out
