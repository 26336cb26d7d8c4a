"""The agent HTTP API (API Gateway HTTP API, IAM-authorised): routes live in socialcare.agents.api."""

from __future__ import annotations

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from socialcare.agents.api import handle_request
from socialcare.assembly import default_deps
from socialcare.cases.deps import provide
from socialcare.observability import logger, metrics, tracer

provide(default_deps)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return handle_request(event, context)
