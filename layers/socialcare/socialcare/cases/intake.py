"""The mentions queue consumer: one record at a time, failures reported per record, never per batch."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from socialcare.cases.deps import Deps
from socialcare.cases.router import RouteResult, route_mention
from socialcare.models import Mention
from socialcare.observability import logger, metrics

_METRIC = {
    "opened": "CasesOpened",
    "attached": "MentionsAttached",
    "reopened": "CasesReopened",
    "duplicate": "DuplicatesDropped",
    "ignored": "MentionsNotActionable",
}


class OutOfTimeError(Exception):
    """The invocation is about to time out: the record is failed untouched and comes back."""


class PoisonMessageError(Exception):
    """A message that can never be processed; it goes to the dead-letter queue at once."""


def dead_letter(sqs: Any, dlq_url: str, body: str, *, message_id: str, reason: str) -> None:
    """Straight to the dead-letter queue with its id and the reason, so nothing is lost or retried in vain."""
    sqs.send_message(
        QueueUrl=dlq_url,
        MessageBody=body if body else "<empty>",
        MessageAttributes={
            "source_message_id": {"DataType": "String", "StringValue": message_id or "unknown"},
            "reason": {"DataType": "String", "StringValue": reason[:1000] or "unknown"},
        },
    )


def handle_record(message_id: str, body: str, deps: Deps, dlq_url: str) -> RouteResult | None:
    try:
        # pydantic's own JSON parser: bounded nesting (a 10,000-deep document is a ValidationError,
        # where json.loads would raise RecursionError and the record would be retried in vain).
        mention = Mention.model_validate_json(body)
    except (ValueError, ValidationError, RecursionError) as exc:
        reason = f"invalid mention: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        logger.warning("mention rejected to dead-letter queue", message_id=message_id, reason=reason)
        dead_letter(deps.sqs, dlq_url, body, message_id=message_id, reason=reason)
        metrics.add_metric(name="MentionsDeadLettered", unit="Count", value=1)
        return None
    result = route_mention(mention, deps)
    metrics.add_metric(name="MentionsRouted", unit="Count", value=1)
    metrics.add_metric(name=_METRIC[result.outcome], unit="Count", value=1)
    return result
