"""The local Lambda runtime is as strict as Lambda: concurrent invocations with their own environment,
the function's Timeout enforced, the remaining time real."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from socialcare.local.lambda_adapter import FunctionTimeoutError, LocalFunction, _layer_environ

HANDLER = """
import os
import threading
import time

STARTED = threading.Event()
PROGRESS = []


def handler(event, context):
    if event.get("mode") == "spin":
        while True:
            PROGRESS.append(time.monotonic())
            time.sleep(0.01)
    if event.get("mode") == "overlap":
        time.sleep(0.3)
    return {"env": os.environ.get("WHO"), "remaining": context.get_remaining_time_in_millis(),
            "thread": threading.get_ident(), "at": time.monotonic()}
"""


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    (tmp_path / "handler.py").write_text(HANDLER, encoding="utf-8")
    _layer_environ()
    return tmp_path


def test_each_invocation_sees_its_own_function_environment(code_dir):
    a = LocalFunction("a", code_dir, "handler.handler", {"WHO": "a"}, timeout_s=5)
    b = LocalFunction("b", code_dir, "handler.handler", {"WHO": "b"}, timeout_s=5)
    results = {}
    threads = [threading.Thread(target=lambda f=f: results.__setitem__(f.name, f.invoke({}))) for f in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results["a"]["env"] == "a" and results["b"]["env"] == "b"
    assert os.environ.get("WHO") is None  # the process itself never saw them


def test_invocations_of_one_function_run_side_by_side(code_dir):
    fn = LocalFunction("c", code_dir, "handler.handler", {}, timeout_s=5, concurrency=4)
    started = time.monotonic()
    threads = [threading.Thread(target=fn.invoke, args=({"mode": "overlap"},)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Four 0.3 s invocations in well under the 1.2 s they would take one at a time
    assert time.monotonic() - started < 0.9


def test_remaining_time_counts_down_from_the_function_timeout(code_dir):
    fn = LocalFunction("d", code_dir, "handler.handler", {}, timeout_s=2)
    remaining = fn.invoke({})["remaining"]
    assert 1500 < remaining <= 2000


def test_an_invocation_past_its_timeout_fails_and_is_stopped(code_dir):
    fn = LocalFunction("e", code_dir, "handler.handler", {}, timeout_s=0.3)
    with pytest.raises(FunctionTimeoutError):
        fn.invoke({"mode": "spin"})
    progress = fn._module.PROGRESS
    stopped_at = len(progress)
    time.sleep(0.2)
    # Nothing more ran after the timeout: the sandbox is gone
    assert len(progress) == stopped_at
    assert FunctionTimeoutError.error_type == "Sandbox.Timedout"
