"""Integration tests: template.yaml deployed into moto in-process, the real state machine executed."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from socialcare.local.stack import LocalStack, local_stack

FAST_CONFIG = str(Path(__file__).resolve().parents[1] / "data" / "brand_fast.yaml")
# Clocks of minutes: for tests whose steps must not race an SLA (they are not about breaches).
PATIENT_CONFIG = str(Path(__file__).resolve().parents[1] / "data" / "brand_patient.yaml")
# A 5 s first-response clock and minutes after it: for tests about one breach and what follows it.
ONE_BREACH_CONFIG = str(Path(__file__).resolve().parents[1] / "data" / "brand_one_breach.yaml")


@pytest.fixture
def stack(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    """The stack with the fast brand (2 s clocks), or the brand a test passes through indirect
    parametrisation (`@pytest.mark.parametrize("stack", [PATIENT_CONFIG], indirect=True)`)."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", category=UserWarning)
    with local_stack({"BrandConfigPath": getattr(request, "param", FAST_CONFIG)}) as deployed:
        yield deployed


@pytest.fixture
def deps(stack: LocalStack) -> Any:
    from socialcare.assembly import build_deps

    return build_deps()


@pytest.fixture
def send(stack: LocalStack) -> Callable[..., None]:
    sqs = boto3.client("sqs")

    def _send(*bodies: Any) -> None:
        for body in bodies:
            text = body if isinstance(body, str) else body.model_dump_json()
            sqs.send_message(QueueUrl=stack.outputs["MentionsQueueUrl"], MessageBody=text)
        stack.pump("RouteMentionFunction")

    return _send


# Each wait's bound is set for an idle machine; a 2-core runner with other work beside it has run
# the local workflows three times slower. A predicate that holds returns at once, so the stretch
# only costs time on a test that is failing anyway. SOCIALCARE_WAIT_SCALE=1 restores the bare bounds.
WAIT_SCALE = float(os.environ.get("SOCIALCARE_WAIT_SCALE", "3"))


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.1) -> Any:
    """The predicate's first truthy value, polled every ``interval`` s for up to ``timeout`` x WAIT_SCALE s."""
    timeout *= WAIT_SCALE
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def execution(stack: LocalStack, name: str) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions")
    arn = stack.outputs["StateMachineArn"].replace(":stateMachine:", ":execution:") + ":" + name
    return sfn.describe_execution(executionArn=arn)


def history(stack: LocalStack, name: str) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions")
    arn = stack.outputs["StateMachineArn"].replace(":stateMachine:", ":execution:") + ":" + name
    return sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
