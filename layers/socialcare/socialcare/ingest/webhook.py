"""What the Meta webhook function needs: its secret, the mentions queue, the seen index, the dead letters.

Apart from the poller's wiring (socialcare.ingest.service), so that the webhook's cold start loads no
HTTP client, connectors or brand configuration it never uses."""

from __future__ import annotations

from socialcare import aws
from socialcare.ingest.secrets import load_secret
from socialcare.ingest.sinks import DynamoSeenIndex, SqsDeadLetterSink, SqsMentionSink, dead_letter_queue_url
from socialcare.settings import Settings


class WebhookPorts:
    """What the Meta webhook needs: its secret, the mentions queue, the seen index, the dead letters."""

    def __init__(self, settings: Settings) -> None:
        ddb, sqs = aws.client("dynamodb"), aws.client("sqs")
        self._settings = settings
        self._ddb = ddb
        self.sink = SqsMentionSink(sqs, settings.mentions_queue_url)
        self.dead_letters = SqsDeadLetterSink(sqs, dead_letter_queue_url(settings))

    def secret(self) -> str:
        """Secrets Manager <stack>/meta-webhook: {"app_secret": ..., "verify_token": ...}."""
        return load_secret(f"secretsmanager:{self._settings.stack_name}/meta-webhook")

    def seen(self) -> DynamoSeenIndex:
        return DynamoSeenIndex(self._ddb, self._settings.table_name)


def webhook_ports(settings: Settings) -> WebhookPorts:
    return WebhookPorts(settings)
