"""Logs never contain tokens, e-mail addresses or phone numbers, whoever logs them and however."""

from __future__ import annotations

import io
import json
import logging
import uuid

from aws_lambda_powertools import Logger
from hypothesis import given, settings
from hypothesis import strategies as st
from socialcare.observability import REDACTED, RedactingFormatter, logger, redact_text

TASK_TOKEN = "AAAAKgAAAAIAAAAAAAAAAX3k9o2Vw5J1Yy2s7n0dF2nmT1QyZ3xj9aKf8s0R2b4QkLmN0pQrStUv"
BEARER = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeidxbYy8lMzF1n9"


def _capture() -> tuple[Logger, io.StringIO]:
    buf = io.StringIO()
    # A fresh service name each time: Powertools reuses an initialised logger's handler by name.
    log = Logger(
        service=f"redaction-{uuid.uuid4().hex}",
        level="DEBUG",  # whatever POWERTOOLS_LOG_LEVEL other tests left set
        logger_formatter=RedactingFormatter(),
        logger_handler=logging.StreamHandler(buf),
    )
    return log, buf


def test_the_shared_logger_uses_the_redacting_formatter() -> None:
    # Given the logger every handler imports / Then its handler formats through RedactingFormatter
    assert isinstance(logger.registered_formatter, RedactingFormatter)
    assert isinstance(logger.registered_handler.formatter, RedactingFormatter)


def test_sensitive_keys_and_values_are_redacted_everywhere() -> None:
    # Given a logger with the redacting formatter
    log, buf = _capture()
    # When code logs a task token by key, a bearer header inside a message, contact details in text
    log.info(
        "resuming case with Bearer " + BEARER,
        task_token=TASK_TOKEN,
        nested={"authorization": "Bearer abc.def.ghi", "items": [{"email": "someone@example.com"}]},
        text="ring me on +44 20 7946 0958 or mail jane.doe@example.co.uk",
        case_id="K7QXZ2PA",
        mention_key="x#1900000000000000000",
    )
    line = buf.getvalue()
    record = json.loads(line)
    # Then no secret or contact detail survives, and the ids that help debugging do
    for secret in (
        TASK_TOKEN,
        BEARER,
        "abc.def.ghi",
        "someone@example.com",
        "7946 0958",
        "jane.doe@example.co.uk",
    ):
        assert secret not in line
    assert record["task_token"] == REDACTED
    assert record["nested"]["authorization"] == REDACTED
    assert record["case_id"] == "K7QXZ2PA"
    assert record["mention_key"] == "x#1900000000000000000"


def test_exceptions_with_tokens_are_redacted() -> None:
    log, buf = _capture()
    try:
        raise RuntimeError(f"TaskTimedOut for token {TASK_TOKEN} of user bob@example.org")
    except RuntimeError:
        log.exception("resume failed")
    out = buf.getvalue()
    assert TASK_TOKEN not in out and "bob@example.org" not in out
    assert "RuntimeError" in out


def test_ids_timestamps_and_arns_are_kept() -> None:
    kept = "x#1900000000000000000 2026-11-22T11:23:13.000Z arn:aws:states:us-east-1:123456789012:execution:sm:K7QXZ2PA"
    assert redact_text(kept) == kept


@settings(max_examples=300, deadline=None)
@given(
    email=st.emails(),
    filler=st.text(alphabet=st.characters(codec="ascii", categories=["L", "N", "Zs"]), max_size=40),
)
def test_no_generated_email_survives(email: str, filler: str) -> None:
    log, buf = _capture()
    log.info(f"{filler} {email} {filler}", contact=email)
    assert buf.getvalue() and email not in buf.getvalue()


@settings(max_examples=300, deadline=None)
@given(
    cc=st.sampled_from(["+1", "+44", "+49", "+353"]),
    groups=st.lists(st.integers(min_value=100, max_value=9999), min_size=2, max_size=3),
    sep=st.sampled_from([" ", "-", "."]),
)
def test_no_generated_phone_number_survives(cc: str, groups: list[int], sep: str) -> None:
    phone = cc + " " + sep.join(str(g) for g in groups)
    log, buf = _capture()
    log.info(f"call me on {phone} please")
    assert buf.getvalue() and phone not in buf.getvalue()
    assert sep.join(str(g) for g in groups) not in buf.getvalue()


@settings(max_examples=300, deadline=None)
@given(
    token=st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-",
        min_size=40,
        max_size=300,
    )
)
def test_no_opaque_token_survives(token: str) -> None:
    log, buf = _capture()
    log.warning("stale token", task_token=token, detail=f"token={token}")
    out = buf.getvalue()
    assert out and token not in out


def test_lambda_context_names_are_kept() -> None:
    from socialcare.observability import redact

    name = "sc1a2b3c-RouteMentionFunction-AbCdEfGhIjKlMnOp1234567890"
    assert redact({"function_name": name, "task_token": "x" * 50})["function_name"] == name
