"""Mentions queue -> classify, dedup, thread or open a case. Partial batch failures, never a lost batch."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError
from socialcare.assembly import default_deps
from socialcare.cases.intake import OutOfTimeError, handle_record
from socialcare.observability import logger, metrics, tracer

# A record started with less time than this left could be cut off by the function's timeout, which
# would return the whole batch; failing just the records not started yet returns only those.
RESERVE_MS = 10_000


def _record_handler(reserve_ms: int) -> Any:
    def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
        if lambda_context.get_remaining_time_in_millis() < reserve_ms:
            raise OutOfTimeError(f"record {record.message_id} left for the next delivery: out of time")
        try:
            handle_record(record.message_id, record.body, default_deps(), os.environ["MENTIONS_DLQ_URL"])
        except Exception as exc:
            # The record returns to the queue (and after maxReceiveCount to its dead-letter queue): say
            # which one and why, so that a dead letter can be traced. A validation error's message
            # quotes the values it refused (the customer's words), so it is named by type alone.
            why = type(exc).__name__ if isinstance(exc, ValidationError) else f"{type(exc).__name__}: {exc}"
            logger.warning(
                "mention failed; it returns to the queue",
                message_id=record.message_id,
                receive_count=record.attributes.approximate_receive_count,
                error=why[:300],
            )
            raise

    return record_handler


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    reserve_ms = min(RESERVE_MS, context.get_remaining_time_in_millis() // 4)
    # One processor per invocation: it holds the batch's state, and invocations may run side by side.
    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(
        event=event, record_handler=_record_handler(reserve_ms), processor=processor, context=context
    )
