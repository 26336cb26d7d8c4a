"""Scheduled poller: EventBridge names one source; poll it once within this invocation's time budget."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field
from socialcare.ingest.http import Deadline
from socialcare.ingest.service import poll_configured_source
from socialcare.observability import logger, metrics, tracer
from socialcare.settings import get_settings


class PollRequest(BaseModel):
    source_id: str = Field(min_length=1, max_length=100)


def _request(event: dict[str, Any]) -> PollRequest:
    """A schedule's constant input ({"source_id": ...}) or an EventBridge event carrying it in detail."""
    if "detail-type" in event:
        return PollRequest.model_validate(parse(event=event, model=EventBridgeModel).detail)
    return PollRequest.model_validate(event)


@logger.inject_lambda_context(correlation_id_path="source_id || detail.source_id")
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = _request(event)
    result = poll_configured_source(
        get_settings(), request.source_id, Deadline.from_context(context), metrics=metrics
    )
    logger.info(
        "source polled",
        source_id=result.source_id,
        requests=result.requests,
        skipped=result.skipped,
        **result.counts(),
    )
    return {"source_id": result.source_id, "skipped": result.skipped, **result.counts()}
