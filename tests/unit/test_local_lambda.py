"""The local Lambda runtime is as strict as Lambda: concurrent invocations with their own environment,
the function's Timeout enforced, the remaining time real."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from socialcare.local import lambda_adapter
from socialcare.local.lambda_adapter import (
    FunctionTimeoutError,
    LocalFunction,
    _layer_environ,
    _threads_join_their_invocation,
)

HANDLER = """
import logging
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from socialcare.local.lambda_adapter import current_function

STARTED = threading.Event()
PROGRESS = []
WORKERS = []
LOG = logging.getLogger("shared-by-invocations")
LOG_HANDLER = logging.StreamHandler(sys.stderr)  # one handler (and lock) for every invocation, as Powertools'
LOG.addHandler(LOG_HANDLER)
LOG.propagate = False


def handler(event, context):
    if event.get("mode") == "spin":
        while True:
            PROGRESS.append(time.monotonic())
            time.sleep(0.01)
    if event.get("mode") == "overlap":
        time.sleep(0.3)
    if event.get("mode") == "worker":
        with ThreadPoolExecutor(max_workers=2) as pool:
            return pool.submit(worker, event).result()
    if event.get("mode") == "log":
        LOG.warning("invocation %s", event.get("n"))
        while event.get("then") == "spin":
            PROGRESS.append(time.monotonic())
            time.sleep(0.01)
    return {"env": os.environ.get("WHO"), "remaining": context.get_remaining_time_in_millis(),
            "thread": threading.get_ident(), "at": time.monotonic()}


def worker(event):
    # as the poller's connector threads do: work on a pool thread while the handler waits for it
    WORKERS.append(threading.current_thread())
    until = time.monotonic() + 60  # a bound, so that a worker nobody stops still ends
    while event.get("then") == "spin" and time.monotonic() < until:
        PROGRESS.append(time.monotonic())
        time.sleep(0.01)
    return {"env": os.environ.get("WHO"), "function": current_function()}
"""


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    (tmp_path / "handler.py").write_text(HANDLER, encoding="utf-8")
    _layer_environ()
    _threads_join_their_invocation()
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


class HeldLock:
    """Another thread writing through the function's log handler: it holds the handler's lock until
    released, as a long line would."""

    def __init__(self, lock: threading.RLock) -> None:
        self.lock, self.held, self.release = lock, threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)
        self.thread.start()
        assert self.held.wait(10)

    def _hold(self) -> None:
        with self.lock:
            self.held.set()
            self.release.wait(30)


def test_a_timed_out_invocation_never_keeps_the_process_from_exiting(code_dir):
    # Given a process whose only invocation times out while it waits for the log handler's lock (another
    # thread is writing), and gets the lock after its deadline
    script = f"""
import sys, threading
from pathlib import Path
from socialcare.local.lambda_adapter import (
    FunctionTimeoutError,
    LocalFunction,
    _layer_environ,
    _threads_join_their_invocation,
)
from tests.unit.test_local_lambda import HeldLock
_layer_environ()
fn = LocalFunction("exit", Path({str(code_dir)!r}), "handler.handler", {{}}, timeout_s=0.5)
writer = HeldLock(fn.entry().__globals__["LOG_HANDLER"].lock)
threading.Timer(1.5, writer.release.set).start()  # after the deadline
try:
    fn.invoke({{"mode": "log"}})
except FunctionTimeoutError:
    print("timed out", flush=True)
"""
    # When the process ends (its exit flushes every log handler, under the handler's lock)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=root,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(root), *sys.path])},
    )
    # Then it exits: the stopped invocation left no lock behind
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "timed out"


def test_an_invocation_abandoned_by_its_caller_is_stopped_once_back_in_its_own_code(code_dir, monkeypatch):
    monkeypatch.setattr(lambda_adapter, "KILL_GRACE_S", 0.3)
    fn = LocalFunction("late", code_dir, "handler.handler", {}, timeout_s=0.3, concurrency=2)
    module = fn.entry().__globals__
    writer = HeldLock(module["LOG_HANDLER"].lock)
    # Given an invocation that times out inside the logging library (waiting for the handler's lock) and
    # stays there past the grace period, so that its caller gives up on it
    with pytest.raises(FunctionTimeoutError):
        fn.invoke({"mode": "log", "n": 1, "then": "spin"})
    # When the function is invoked again meanwhile, and then the first invocation gets the lock
    result = fn.invoke({"mode": "quick"})
    writer.release.set()
    # Then the later invocation ran as its own, and the abandoned one is stopped in its own code
    assert result["env"] is None and result["remaining"] > 0
    deadline = time.monotonic() + 30
    while any(t.name == "lambda-late" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the abandoned invocation was never stopped"
        time.sleep(0.05)
    stopped_at = len(module["PROGRESS"])
    time.sleep(0.2)
    assert len(module["PROGRESS"]) == stopped_at
    # and the handler's lock is free for everyone
    assert module["LOG_HANDLER"].lock.acquire(timeout=5)
    module["LOG_HANDLER"].lock.release()


def test_a_thread_the_function_starts_runs_as_the_function(code_dir):
    fn = LocalFunction("pool", code_dir, "handler.handler", {"WHO": "pool"}, timeout_s=5)
    # Given a handler that does its work on a worker pool's thread
    # When it is invoked
    result = fn.invoke({"mode": "worker"})
    # Then the worker saw the function's environment and ran as the function (its calls use its role)
    assert result == {"env": "pool", "function": "pool"}
    assert os.environ.get("WHO") is None and lambda_adapter.current_function() is None


def test_a_worker_thread_still_running_at_the_timeout_is_stopped_with_its_invocation(code_dir):
    fn = LocalFunction("pool-late", code_dir, "handler.handler", {}, timeout_s=0.3)
    module = fn.entry().__globals__
    # Given an invocation whose handler waits for a pool thread that is still working at the Timeout
    # When the Timeout passes
    with pytest.raises(FunctionTimeoutError):
        fn.invoke({"mode": "worker", "then": "spin"})
    # Then the worker is stopped too (Lambda ends every thread of a timed-out invocation), well before
    # the 60 s it would otherwise spin
    (worker,) = module["WORKERS"]
    worker.join(15)
    assert not worker.is_alive(), "the worker thread outlived its invocation"
    stopped_at = len(module["PROGRESS"])
    time.sleep(0.2)
    assert len(module["PROGRESS"]) == stopped_at


LOGGING_HANDLER = """
import threading

from aws_lambda_powertools import Logger

LOGGER = Logger(service="per-invocation-keys", level="INFO")  # one logger and formatter, as the functions share ours
BOTH_IN = None  # the test hands both functions one barrier


@LOGGER.inject_lambda_context
def handler(event, context):
    LOGGER.append_keys(order=event["order"])
    BOTH_IN.wait(5)  # the other function's keys are set by now, in a process-wide formatter
    LOGGER.warning("routed")
    return {}
"""


def test_each_invocation_logs_with_its_own_function_and_keys(tmp_path):
    # Given two functions sharing one Powertools logger, as every function shares socialcare's in-process
    (tmp_path / "logs.py").write_text(LOGGING_HANDLER, encoding="utf-8")
    lambda_adapter._logger_keys_per_invocation()
    route = LocalFunction("route", tmp_path, "logs.handler", {}, timeout_s=10)
    await_action = LocalFunction("await-action", tmp_path, "logs.handler", {}, timeout_s=10)
    both_in = threading.Barrier(2)
    for fn in (route, await_action):
        fn.entry()
        fn._module.BOTH_IN = both_in
    written = io.StringIO()
    for handler in logging.getLogger("per-invocation-keys").handlers:
        handler.setStream(written)  # whatever stdout was when the logger was built
    # When they run at the same time, each appending its own keys before either logs
    threads = [threading.Thread(target=fn.invoke, args=({"order": fn.name},)) for fn in (route, await_action)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then each line carries its own function's name, request id and keys, as separate processes would
    lines = [json.loads(line) for line in written.getvalue().splitlines() if '"routed"' in line]
    assert sorted((line["function_name"], line["order"]) for line in lines) == [
        ("await-action", "await-action"),
        ("route", "route"),
    ]
    assert len({line["function_request_id"] for line in lines}) == 2


def test_a_formatter_built_before_the_local_runtime_keeps_its_keys():
    # Given a Powertools formatter built before the per-invocation keys were installed
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    with pytest.MonkeyPatch.context() as mp:
        mp.delattr(LambdaPowertoolsFormatter, "log_format", raising=False)
        early = LambdaPowertoolsFormatter(service="built-early")
        # When the local runtime installs them
        lambda_adapter._logger_keys_per_invocation()
        # Then its keys are still read and written outside any invocation
        assert early.log_format["service"] == "built-early"
        early.append_keys(region="eu-west-1")
        assert early.log_format["region"] == "eu-west-1"
