"""Lazily built, cached boto3 clients: nothing connects at import time, and tests can reset them."""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)


@functools.cache
def client(service: str) -> Any:
    # AWS_ENDPOINT_URL (set by the local stack) redirects every client to moto's server.
    return boto3.session.Session().client(service, config=_CONFIG)


def reset_clients() -> None:
    client.cache_clear()
