"""Called by the case workflow each time it waits: stores the task token and SLA clock on the case, or
resumes the workflow at once with an action taken while it was not waiting."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field
from socialcare.assembly import default_deps
from socialcare.cases import actions
from socialcare.observability import logger, metrics, tracer


class WaitRequest(BaseModel):
    case_id: str = Field(min_length=1, max_length=64)
    task_token: str = Field(min_length=1, max_length=4096)
    action: dict


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    request = WaitRequest.model_validate(event)
    case = actions.store_wait(request.case_id, request.task_token, request.action, default_deps())
    if request.action.get("type") == "escalated":
        metrics.add_metric(name="SlaBreaches", unit="Count", value=1)
        logger.info(
            "sla breached", case_id=case.id, department=case.department, clock=case.clock.name if case.clock else None
        )
    return {"case_id": request.case_id, "waiting": request.action["clock"]["name"]}
