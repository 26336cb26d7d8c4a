"""Scheduled: the parity report as CloudWatch metrics (per follower band and channel, and the gap)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from socialcare import aws
from socialcare.assembly import default_deps
from socialcare.cases import tally
from socialcare.observability import logger, metrics, tracer
from socialcare.reports.parity import parity_from_tally, publish


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = default_deps()
    report = parity_from_tally(tally.read(deps.store), deps.config.parity)
    published = publish(aws.client("cloudwatch"), report)
    logger.info("parity published", gap_pct=report["gap_pct"], alarm=report["alarm"], metrics=published)
    return {"gap_pct": report["gap_pct"], "alarm": report["alarm"], "metrics": published}
