"""SLA warnings queue -> case.sla_warning when a wait has run most of its clock unanswered."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from socialcare.assembly import default_deps
from socialcare.cases.actions import fire_sla_warning
from socialcare.observability import logger, metrics, tracer


def record_handler(record: SQSRecord) -> str:
    outcome = fire_sla_warning(json.loads(record.body), default_deps())
    if outcome == "warned":
        metrics.add_metric(name="SlaWarnings", unit="Count", value=1)
    return outcome


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # One processor per invocation: it holds the batch's state, and invocations may run side by side.
    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
