"""Scheduled: publish due brand posts through the platform writers; hold those a quiet period covers."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from socialcare.assembly import default_deps
from socialcare.observability import logger, metrics, tracer
from socialcare.quiet.service import Quiet


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    counts = Quiet(default_deps()).publish_due()
    logger.info("scheduled posts", **counts)
    return counts
