"""A built function (`make test-artifact` runs each in its own runtime process) has its function's
Timeout, with the outcome an in-process invocation has: Sandbox.Timedout, and a fresh execution
environment for the next invocation."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from socialcare.local.artifact import Artifacts, BuiltFunction
from socialcare.local.lambda_adapter import FunctionTimeoutError

HANDLER = """
import os
import time


def handler(event, context):
    if event.get("mode") == "slow":
        time.sleep(event["seconds"])
    return {"remaining": context.get_remaining_time_in_millis(), "pid": os.getpid(),
            "request_id": context.aws_request_id}
"""


@pytest.fixture
def built(tmp_path: Path) -> Iterator[BuiltFunction]:
    """A function 'built' into tmp_path, run by this interpreter as the stand-in runtime."""
    (tmp_path / "SlowFunction").mkdir()
    (tmp_path / "SlowFunction" / "handler.py").write_text(HANDLER, encoding="utf-8")
    artifacts = Artifacts(build_dir=tmp_path, python=Path(sys.executable))
    fn = artifacts.function("SlowFunction", "slow", "handler.handler", {}, timeout_s=1.0)
    yield fn
    fn.stop()


def test_a_built_invocation_has_its_functions_timeout(built: BuiltFunction) -> None:
    # Given a built function whose template Timeout is 1 s
    # When it answers at once
    answer = built.invoke({})
    # Then its context counts down from that Timeout
    assert 0 < answer["remaining"] <= 1000


def test_a_built_invocation_past_its_timeout_fails_as_lambdas_and_the_next_starts_afresh(
    built: BuiltFunction,
) -> None:
    first = built.invoke({})
    # Given an invocation that would run 8 s on a 1 s Timeout
    started = time.monotonic()
    # When it runs
    with pytest.raises(FunctionTimeoutError, match=r"Task timed out after 1\.00 seconds") as timed_out:
        built.invoke({"mode": "slow", "seconds": 8})
    # Then its caller gets Sandbox.Timedout at the Timeout, not when the handler would have returned
    assert time.monotonic() - started < 6
    assert timed_out.value.error_type == "Sandbox.Timedout"
    assert built.timeouts == 1
    # and the next invocation runs in a new execution environment, as Lambda resets a timed-out one
    again = built.invoke({})
    assert again["pid"] != first["pid"] and again["remaining"] > 0
