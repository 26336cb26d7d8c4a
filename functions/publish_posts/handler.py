"""Scheduled: publish due brand posts through the platform writers; hold those a quiet period covers;
settle outbound intents a crash left "sending" (looked up on the platform, never posted again here)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from socialcare.assembly import default_deps
from socialcare.observability import logger, metrics, tracer
from socialcare.outbound import reconcile_stuck
from socialcare.quiet.service import Quiet


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    deps = default_deps()
    counts = Quiet(deps).publish_due()
    logger.info("scheduled posts", **counts)
    settled = reconcile_stuck(deps)
    return {**counts, **{f"intents_{k}": v for k, v in settled.items()}}
