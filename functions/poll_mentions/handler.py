"""Scheduled poller: the schedule's input names one source ({"source_id": ...}) or all due sources."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field
from socialcare.ingest.http import Deadline
from socialcare.ingest.service import poll_all_sources, poll_configured_source
from socialcare.observability import logger, metrics, tracer
from socialcare.settings import get_settings


class PollRequest(BaseModel):
    source_id: str | None = Field(default=None, min_length=1, max_length=100)
    sources: str | None = Field(default=None, pattern="^all$")


def _request(event: dict[str, Any]) -> PollRequest:
    """A schedule's constant input, or an EventBridge event carrying it in `detail`."""
    if "detail-type" in event:
        return PollRequest.model_validate(parse(event=event, model=EventBridgeModel).detail)
    return PollRequest.model_validate(event)


@logger.inject_lambda_context(correlation_id_path="source_id || detail.source_id")
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = _request(event)
    deadline = Deadline.from_context(context)
    if request.source_id:
        results = [poll_configured_source(get_settings(), request.source_id, deadline, metrics=metrics)]
    else:
        results = poll_all_sources(get_settings(), deadline, metrics=metrics)
    for r in results:
        logger.info("source polled", source_id=r.source_id, requests=r.requests, skipped=r.skipped, **r.counts())
    return {"sources": [{"source_id": r.source_id, "skipped": r.skipped, **r.counts()} for r in results]}
