"""Agent-side integration fixtures: the stack deployed with brand_agents.yaml, a fake X write API."""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import responses
from socialcare.local.stack import LocalStack, local_stack
from socialcare.models import case_id_for

from tests.builders import mention
from tests.integration.conftest import wait_for

AGENTS_CONFIG = str(Path(__file__).resolve().parent / "brand_agents.yaml")


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", category=UserWarning)
    with local_stack({"BrandConfigPath": AGENTS_CONFIG}) as deployed:
        boto3.client("secretsmanager").create_secret(
            Name=f"{deployed.stack_name}/x-write", SecretString="user-token-123"
        )
        yield deployed


@pytest.fixture
def x_api(stack: LocalStack) -> Iterator[responses.RequestsMock]:
    """The X write API: POST /2/tweets answers with a new post id. Started after the stack (moto
    patches requests too; the innermost mock answers). Every test here that opens an X case uses it,
    so none reaches a real network."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        counter = iter(range(900_000, 999_999))
        posted: list[dict[str, Any]] = []  # what the brand account has posted, for the look-up after a crash

        def tweet(request: Any) -> tuple[int, dict, str]:
            body = json.loads(request.body)
            post = {"id": str(next(counter)), "text": body["text"]}
            if body.get("reply"):
                post["referenced_tweets"] = [{"type": "replied_to", "id": body["reply"]["in_reply_to_tweet_id"]}]
            posted.insert(0, post)  # newest first, as X lists a user's posts
            return 201, {}, json.dumps({"data": {"id": post["id"], "text": post["text"]}})

        mock.add_callback(responses.POST, "https://api.x.test/2/tweets", callback=tweet)
        mock.add_callback(
            responses.POST,
            re.compile(r"https://api\.x\.test/2/dm_conversations/with/[^/]+/messages"),
            callback=lambda r: (201, {}, json.dumps({"data": {"dm_event_id": "dm1"}})),
        )
        mock.add(
            responses.GET, "https://api.x.test/2/users/me", json={"data": {"id": "4242", "username": "SkylarkAir"}}
        )
        mock.add_callback(
            responses.GET,
            re.compile(r"https://api\.x\.test/2/users/4242/tweets.*"),
            callback=lambda r: (
                200,
                {},
                json.dumps(
                    {"data": list(posted), "meta": {"result_count": len(posted)}}
                    if posted
                    else {"meta": {"result_count": 0}}
                ),
            ),
        )
        yield mock


@pytest.fixture
def open_case(stack: LocalStack, deps: Any, send: Any):
    """Sends a mention and returns the case once its workflow waits for an agent."""

    def _open(text: str, **kw: Any) -> str:
        m = mention(text, **kw)
        send(m)
        case_id = case_id_for(m.key)
        wait_for(lambda: (c := deps.store.get_case(case_id)).token_fresh and c)
        return case_id

    return _open
