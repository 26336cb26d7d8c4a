"""API tokens from Secrets Manager or SSM Parameter Store, through Powertools Parameters (cached).

A reference is "secretsmanager:<name>" or "ssm:<parameter name>"; "{stack}" in it stands for the stack's
name, so one configuration serves every stack (the template grants only `<stack>/*`). Values never reach logs; only a
short fingerprint is stored, so a rotated secret can lift an "unhealthy" mark without a human click.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from socialcare.ingest.errors import ConfigurationError

CACHE_SECONDS = 300


def expand(reference: str) -> str:
    """The reference with "{stack}" replaced by the stack's name (STACK_NAME, as the template sets it)."""
    if "{stack}" not in reference:
        return reference
    from socialcare.settings import get_settings

    return reference.replace("{stack}", get_settings().stack_name)


def _use_our_client(store: str) -> None:
    """Powertools' default provider for `store`, on the client of socialcare.aws: its own would build a
    boto3 session of its own, which reads botocore's endpoint data again at cold start."""
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS

    from socialcare import aws

    if store == "secretsmanager" and "secrets" not in DEFAULT_PROVIDERS:
        DEFAULT_PROVIDERS["secrets"] = parameters.SecretsProvider(boto3_client=aws.client("secretsmanager"))
    elif store == "ssm" and "ssm" not in DEFAULT_PROVIDERS:
        DEFAULT_PROVIDERS["ssm"] = parameters.SSMProvider(boto3_client=aws.client("ssm"))


def load_secret(reference: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    reference = expand(reference)
    store, _, name = reference.partition(":")
    _use_our_client(store)
    try:
        if store == "secretsmanager":
            value = parameters.get_secret(name, max_age=CACHE_SECONDS)
        elif store == "ssm":
            value = parameters.get_parameter(name, decrypt=True, max_age=CACHE_SECONDS)
        else:
            raise ConfigurationError(f"unknown secret store {store!r}")
    except parameters.exceptions.GetParameterError as exc:
        raise ConfigurationError(f"cannot read secret {reference}: {type(exc).__name__}") from exc
    if isinstance(value, bytes):
        value = value.decode()
    return str(value)


def fingerprint(value: str | None) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def secret_fields(value: str, *required: str) -> dict[str, Any]:
    """A JSON secret (e.g. {"client_id": ..., "client_secret": ...}) with its required fields present."""
    try:
        data = json.loads(value)
    except ValueError as exc:
        raise ConfigurationError("secret is not a JSON object") from exc
    if not isinstance(data, dict) or any(not data.get(f) for f in required):
        raise ConfigurationError(f"secret must be a JSON object with {', '.join(required)}")
    return data
