"""Lazily built, cached AWS clients: nothing connects at import time, and tests can reset them.

botocore's session, not boto3's: the clients are the same, and not importing boto3 (which imports
s3transfer) saves each Lambda about 90 ms of cold start."""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)


@functools.cache
def client(service: str) -> Any:
    # AWS_ENDPOINT_URL (set by the local stack) redirects every client to moto's server.
    return botocore.session.Session().create_client(service, config=_CONFIG)


def reset_clients() -> None:
    client.cache_clear()
