"""Starting and resuming the case workflow (infra/case_workflow.asl.json)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from socialcare.models import Case, Clock


class WorkflowError(Exception):
    """The state machine refused to start or resume."""


class StaleTokenError(WorkflowError):
    """The stored task token belongs to a wait that already ended."""


def clock_payload(clock: Clock | None) -> dict[str, Any] | None:
    """The wait's timeout in seconds, and the deadline it stands for (the case's own anchor, so queue
    order and reported due times do not drift with how soon the workflow reaches its wait)."""
    if clock is None:
        return None
    return {"name": clock.name, "seconds": clock.seconds, "due_at": clock.due_at.isoformat()}


def execution_input(case: Case, queue_url: str) -> dict[str, Any]:
    sla = case.sla
    return {
        "case_id": case.id,
        "department": case.department,
        "sla": sla.model_dump(mode="json"),
        "tier": 0,
        # Tier k+1 fires escalation_tiers_s[k-1] after tier k; the first fires at the breach.
        "max_tier": len(sla.escalation_tiers_s) + 1,
        "action": {
            "type": "opened",
            "department": case.department,
            "queue_url": queue_url,
            "clock": clock_payload(case.clock),
        },
    }


def start(sfn: Any, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
    """Idempotent: the execution is named after the case, so a retried start is the same execution."""
    try:
        return sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload))[
            "executionArn"
        ]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
            return f"{state_machine_arn.replace(':stateMachine:', ':execution:')}:{name}"
        raise WorkflowError(f"cannot start case workflow {name}: {exc}") from exc


def resume(sfn: Any, token: str, output: dict[str, Any]) -> None:
    try:
        sfn.send_task_success(taskToken=token, output=json.dumps(output))
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}:
            raise StaleTokenError(f"the case workflow has moved on ({code})") from exc
        raise WorkflowError(f"cannot resume case workflow: {exc}") from exc
