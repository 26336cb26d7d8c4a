"""The department-side SDK: work a queue, own cases, answer customers, hand over, resolve.

    from socialcare.agents import AgentClient
    agent = AgentClient.connect(name="maria")          # finds the stack from the environment
    for item in agent.queue("baggage"):
        agent.claim(item.case_id)
        agent.reply(item.case_id, "Sorry about your bag - I'm on it.")
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from socialcare.cases import actions
from socialcare.cases.actions import ActionResult
from socialcare.cases.deps import Deps, build_deps
from socialcare.models import Case


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
    def __init__(self, deps: Deps, name: str) -> None:
        self.deps = deps
        self.name = name

    @classmethod
    def connect(cls, name: str, deps: Deps | None = None) -> AgentClient:
        return cls(deps or build_deps(), name)

    # ---------------------------------------------------------------- reading
    def queue(self, department: str, *, limit: int = 100) -> list[WorkItem]:
        """Open cases of the department, the one whose SLA falls due first at the top."""
        self.deps.config.department(department)
        return [self._item(c) for c in self.deps.store.open_cases(department, limit=limit)]

    def pull_work_items(self, department: str, *, max_items: int = 10, wait_s: int = 0) -> list[dict[str, Any]]:
        """Takes new work-item notices off the department's SQS queue (deleting them once read)."""
        sqs = self.deps.sqs
        url = self.deps.settings.department_queue_url(department)
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(10, max_items), WaitTimeSeconds=wait_s).get("Messages", [])
        items = []
        for m in got:
            items.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return items

    def case(self, case_id: str) -> Case:
        return self.deps.store.get_case(case_id)

    def _item(self, case: Case) -> WorkItem:
        first = next((m for m in self.deps.store.messages(case.id) if m.get("direction") == "in"), None)
        return WorkItem(
            case_id=case.id,
            department=case.department,
            priority=case.priority,
            due_at=case.clock.due_at if case.clock else None,
            clock=case.clock.name if case.clock else None,
            owner=case.owner,
            status=case.status,
            summary=(first or {}).get("text", "")[:140],
        )

    # ---------------------------------------------------------------- acting
    def _do(self, case_id: str, action: str, request_id: str | None = None, **kw: Any) -> ActionResult:
        return actions.perform(case_id, action, self.deps, actor=self.name, request_id=request_id, **kw)

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

    def resolve(self, case_id: str, note: str, *, request_id: str | None = None) -> ActionResult:
        return self._do(case_id, "resolve", request_id, note=note)

    def reopen(self, case_id: str, reason: str, *, request_id: str | None = None) -> ActionResult:
        return actions.reopen(case_id, self.deps, actor=self.name, reason=reason, request_id=request_id)
