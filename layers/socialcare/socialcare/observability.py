"""The one place that builds the Powertools Logger, Tracer and Metrics; every handler imports them.

Logs pass through a redacting formatter: task tokens, bearer/API tokens, JWTs, secrets, e-mail
addresses and phone numbers never reach CloudWatch, whichever code path logs them and under
whatever key (a sensitive key's whole value goes; elsewhere the matching substrings go).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

SERVICE = "socialcare"
NAMESPACE = "SocialCare"
REDACTED = "[REDACTED]"

# Keys whose value is secret whatever it looks like (compared lower-case, without - and _).
_SENSITIVE_KEYS = frozenset(
    {
        "token",
        "tasktoken",
        "accesstoken",
        "refreshtoken",
        "bearertoken",
        "idtoken",
        "sessiontoken",
        "accessjwt",
        "refreshjwt",
        "secret",
        "clientsecret",
        "appsecret",
        "password",
        "passwd",
        "authorization",
        "apikey",
        "xapikey",
        "cookie",
        "setcookie",
        "signature",
        "xhubsignature256",
        "email",
        "emailaddress",
        "phone",
        "phonenumber",
        "mobile",
    }
)

# Lambda context fields Powertools adds: AWS-generated names and ids, never personal data or secrets
# (a long function name would otherwise look like an opaque token).
_TRUSTED_KEYS = frozenset({"functionname", "functionarn", "functionrequestid", "xraytraceid", "service", "level"})

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Authorization header values and "token=..." style pairs.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=%-]{8,}"), r"\1 " + REDACTED),
    (
        re.compile(r"(?i)\b(token|secret|password|api[_-]?key|signature)([\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;]{4,}"),
        r"\1\2" + REDACTED,
    ),
    # JWTs (three base64url segments, the first a JSON header).
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),
    # AWS access key ids.
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), REDACTED),
    # E-mail addresses.
    (
        re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z][A-Za-z0-9-]+"),
        REDACTED,
    ),
    # Phone numbers: international (+44 20 7946 0958), North American ((415) 555-0100, 415.555.0100)
    # and national trunk-prefixed (07700 900123). Bare digit runs (platform ids) are left alone.
    (re.compile(r"(?<![\w+])\+\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,4}(?!\w)"), REDACTED),
    (re.compile(r"(?<!\w)\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?!\w)"), REDACTED),
    (re.compile(r"(?<!\w)0\d{3,4}[\s-]\d{3}[\s-]?\d{3,4}(?!\w)"), REDACTED),
    # Opaque tokens: long base64-ish runs mixing letters and digits (Step Functions task tokens,
    # platform access tokens). Hex digests and ARNs (which contain ':') do not match.
    (
        re.compile(
            r"(?<![A-Za-z0-9+/=_-])(?=[A-Za-z0-9+/=_-]*[0-9])(?=[A-Za-z0-9+/=_-]*[g-zG-Z])"
            r"[A-Za-z0-9+/=_-]{40,}"
        ),
        REDACTED,
    ),
]


def _normal_key(key: Any) -> str:
    return str(key).lower().replace("-", "").replace("_", "")


def redact_text(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of a log structure with secrets and personal contact details removed."""
    if _depth > 20:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            k: (
                REDACTED
                if _normal_key(k) in _SENSITIVE_KEYS and v not in (None, "")
                else v
                if _normal_key(k) in _TRUSTED_KEYS and isinstance(v, str)
                else redact(v, _depth + 1)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set):
        return [redact(v, _depth + 1) for v in value]
    return value


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, with every record redacted just before it is serialised."""

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        cleaned = redact(json.loads(json.dumps(log, default=str)))
        return super().serialize(cleaned)


logger = Logger(service=SERVICE, logger_formatter=RedactingFormatter())
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def route_logs(stream: Any) -> None:
    """Points the logger at another stream (stderr for the CLI, a file for the demo). Powertools bound
    its handler to stdout when the logger was built, so the handler itself is re-pointed."""
    import logging

    for handler in getattr(logger, "handlers", []):
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)
