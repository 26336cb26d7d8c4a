"""A record the router cannot take is logged with its id and why, and never with the customer's words."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel, ValidationError
from route_mention import handler as route_handler
from socialcare.store import StoreBusyError

TEXT = "@SkylarkAir my card 4111 was charged twice, call me on +1 555 0100"


class _Context:
    def get_remaining_time_in_millis(self) -> int:
        return 60_000


class _Text(BaseModel):
    text: int


def _refused() -> ValidationError:
    try:
        _Text(text=TEXT)
    except ValidationError as exc:
        return exc
    raise AssertionError("the model took the text")


def _record() -> SQSRecord:
    return SQSRecord({"messageId": "m-1", "body": "{}", "attributes": {"ApproximateReceiveCount": "3"}})


@pytest.mark.parametrize(
    ("error", "logged"),
    [
        (
            StoreBusyError("transaction cancelled 6 times", ["TransactionConflict"]),
            "StoreBusyError: transaction cancelled 6 times",
        ),
        (_refused(), "ValidationError"),
    ],
    ids=["service error", "validation error"],
)
def test_a_failed_record_is_logged_with_its_id_and_why_then_returned(monkeypatch, caplog, error, logged):
    # Given a router that fails on the record
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(route_handler, "handle_record", fail)
    monkeypatch.setattr(route_handler, "default_deps", lambda: None)
    monkeypatch.setenv("MENTIONS_DLQ_URL", "https://sqs.local/dlq")
    # When the record handler takes it
    with caplog.at_level("WARNING", logger="socialcare"), pytest.raises(type(error)):
        route_handler._record_handler(0)(_record(), _Context())
    # Then the failure is raised on (the record comes back), and logged once with its id, its
    # delivery count and why; a validation error (which quotes the values it refused) by type only
    (entry,) = [r for r in caplog.records if r.getMessage() == "mention failed; it returns to the queue"]
    assert (entry.message_id, entry.receive_count, entry.error) == ("m-1", "3", logged)
    assert "4111" not in caplog.text and "555 0100" not in caplog.text


def test_the_validation_error_above_does_quote_the_customers_words():
    # The case the handler must not log as is: pydantic's message carries the refused input
    assert "4111" in str(_refused())
