"""Mentions queue -> classify, dedup, thread or open a case. Partial batch failures, never a lost batch."""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from socialcare.cases.deps import default_deps
from socialcare.cases.intake import handle_record
from socialcare.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    deps = default_deps()
    handle_record(record.message_id, record.body, deps, os.environ["MENTIONS_DLQ_URL"])


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
