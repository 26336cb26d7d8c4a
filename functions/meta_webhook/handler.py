"""Meta webhook endpoint (HTTP API): answer the verification challenge, accept signed comment deliveries."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext
from socialcare.ingest import meta
from socialcare.ingest.webhook import webhook_ports
from socialcare.observability import logger, metrics, tracer
from socialcare.settings import get_settings

app = APIGatewayHttpResolver()
PATH = "/webhooks/meta"


@app.get(PATH)
def verify() -> Response:
    secrets = meta.MetaSecrets.parse(webhook_ports(get_settings()).secret())
    params = app.current_event.query_string_parameters or {}
    answer = meta.challenge_answer(params, secrets.verify_token)
    if answer is None:
        return Response(status_code=403, content_type=content_types.TEXT_PLAIN, body="forbidden")
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body=answer)


@app.post(PATH)
def deliver() -> Response:
    event = app.current_event
    ports = webhook_ports(get_settings())
    body = meta.raw_body(event.body, event.is_base64_encoded)
    secrets = meta.MetaSecrets.parse(ports.secret())
    if not meta.signature_valid(secrets.app_secret, body, event.headers.get(meta.SIGNATURE_HEADER)):
        metrics.add_metric(name="WebhookSignatureRejected", unit="Count", value=1)
        return Response(status_code=401, content_type=content_types.TEXT_PLAIN, body="bad signature")
    result = meta.accept_delivery(body, sink=ports.sink, seen=ports.seen(), dead_letters=ports.dead_letters)
    metrics.add_metric(name="MentionsIngested", unit="Count", value=result.queued)
    logger.info(
        "meta delivery",
        queued=result.queued,
        duplicates=result.duplicates,
        ignored=result.ignored,
        dead_lettered=result.dead_lettered,
    )
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body="ok")


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
