"""Runs the real Lambda handlers in-process when moto invokes a function (moto would need Docker),
as strictly as Lambda does:

- invocations of one function run concurrently (up to SOCIALCARE_LOCAL_CONCURRENCY each, default 4,
  as Lambda scales out); each sees its own function's environment (a per-thread layer over
  os.environ), so nothing serialises the product's logic;
- each function's Timeout is enforced: at the deadline the invocation fails with Sandbox.Timedout and
  its thread is stopped (an asynchronous exception, raised only while the thread runs the function's
  own code: never inside moto, as a real table finishes a request whose caller died, nor inside a
  library, which could be left holding a lock for good); get_remaining_time_in_millis counts down
  for real;
- a thread the invocation starts (a worker pool's) is part of it: it runs with the function's name
  (so its calls are checked against the function's role), environment and output, and is stopped
  with the invocation at the Timeout.

moto's LambdaSimpleBackend.invoke is an internal signature: moto is pinned, and a test covers this.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib.util
import json
import math
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

CONCURRENCY_VAR = "SOCIALCARE_LOCAL_CONCURRENCY"
DEFAULT_CONCURRENCY = 4
KILL_GRACE_S = 10.0  # how long the caller waits for a timed-out invocation to be stopped (then abandons it)
STOP_POLL_S = 0.005  # how often a timed-out invocation's thread is looked at until it can be stopped
RESTOP_S = 0.2  # a stop swallowed on its way (a finaliser, a bare except) is sent again after this

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # socialcare: the functions' shared code
_ADAPTER_DIR = Path(__file__).resolve().parent  # socialcare.local: runs the invocation, never stopped inside


def default_concurrency() -> int:
    return max(1, int(os.environ.get(CONCURRENCY_VAR, DEFAULT_CONCURRENCY)))


class FunctionTimeoutError(Exception):
    """The invocation ran past its function's Timeout (Lambda reports Sandbox.Timedout)."""

    error_type = "Sandbox.Timedout"


class _Killed(BaseException):
    """Raised inside a timed-out invocation's thread to stop it; not an Exception, so the handler's
    own error handling (a batch processor catching per record) cannot swallow it."""


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    aws_request_id: str = ""
    log_group_name: str = ""
    log_stream_name: str = "local"
    deadline: float = field(default_factory=lambda: time.monotonic() + 30.0)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class _Member:
    """One live thread of an invocation: the invocation's own, or one it started."""

    def __init__(self) -> None:
        self.in_service = 0  # inside a service call (moto): never stopped there


class _Invocation:
    """What the service-call guard and the timeout share about one running invocation and every thread
    it started (in Lambda they all run with the function's role and die with it at its Timeout)."""

    def __init__(self, code_dir: Path) -> None:
        self.lock = threading.Lock()
        self.timed_out = False
        # Live threads by id; a thread leaves (under the lock) before it ends, as its id may be reused after
        self.members: dict[int, _Member] = {}
        self.starting = 0  # threads started by members that have not joined yet
        self.own_code = (os.path.realpath(code_dir) + os.sep, str(_PACKAGE_DIR) + os.sep)
        self.log_formats: dict[int, dict[str, Any]] = {}  # Powertools' logger keys, per formatter

    def announce(self, count: int = 1) -> None:
        """A member is starting a thread (count=1), or failed to (count=-1)."""
        with self.lock:
            self.starting += count

    def join(self, *, announced: bool = False) -> None:
        """The calling thread runs for this invocation from now on (one starting after the Timeout is
        stopped like the others, so that whoever waits for it is not left waiting)."""
        with self.lock:
            self.members[threading.get_ident()] = _Member()
            if announced:
                self.starting -= 1

    def leave(self) -> None:
        with self.lock:
            self.members.pop(threading.get_ident(), None)

    def in_service_here(self) -> bool:
        member = self.members.get(threading.get_ident())
        return member is not None and member.in_service > 0

    def expire(self) -> None:
        with self.lock:
            self.timed_out = True

    def stop(self) -> None:
        """Stops each of the timed-out invocation's threads at a point where it runs the function's own
        code. Raised anywhere else, the exception could leave shared state broken for every later
        invocation and for the process's exit: a library between taking a lock and the `try` that
        releases it (logging's handlers are shared by all invocations and flushed at exit), the import
        machinery. Keeps looking for as long as any of them lives; a thread inside a service call is
        stopped by the guard when its request completes."""
        sent: dict[int, float] = {}
        while True:
            with self.lock:
                if not self.members and not self.starting:
                    return
                now = time.monotonic()
                for thread_id, member in self.members.items():
                    if (
                        member.in_service == 0
                        and now - sent.get(thread_id, -math.inf) >= RESTOP_S
                        and self._in_own_code(thread_id)
                    ):
                        _async_raise(thread_id)
                        sent[thread_id] = now
            time.sleep(STOP_POLL_S)

    def _in_own_code(self, thread_id: int) -> bool:
        frame = sys._current_frames().get(thread_id)
        return frame is not None and _is_own_code(frame.f_code.co_filename, self.own_code)

    @contextlib.contextmanager
    def service_call(self) -> Iterator[None]:
        with self.lock:
            if self.timed_out:
                raise _Killed
            member = self.members.get(threading.get_ident()) or _Member()
            member.in_service += 1
        try:
            yield
        finally:
            with self.lock:
                member.in_service -= 1
                stop = self.timed_out and member.in_service == 0
            if stop:
                raise _Killed  # the request completed; its caller is gone


@functools.lru_cache(maxsize=4096)
def _is_own_code(filename: str, roots: tuple[str, ...]) -> bool:
    path = os.path.realpath(filename)
    return path.startswith(roots) and not path.startswith(str(_ADAPTER_DIR) + os.sep)


def _async_raise(thread_id: int) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(_Killed))


_TLS = threading.local()  # per thread: env (the function's variables), invocation


class _LayeredEnviron(MutableMapping[str, str]):
    """os.environ with a per-thread layer on top: an invocation's thread sees its function's
    variables, every other thread the process's. Writes go to the layer while one is active."""

    def __init__(self, base: MutableMapping[str, str]) -> None:
        self.base = base

    @staticmethod
    def _layer() -> dict[str, str] | None:
        return getattr(_TLS, "env", None)

    def __getitem__(self, key: str) -> str:
        layer = self._layer()
        if layer is not None and key in layer:
            return layer[key]
        return self.base[key]

    def __setitem__(self, key: str, value: str) -> None:
        layer = self._layer()
        if layer is not None:
            layer[key] = value
        else:
            self.base[key] = value

    def __delitem__(self, key: str) -> None:
        layer = self._layer()
        if layer is not None and key in layer:
            del layer[key]
        else:
            del self.base[key]

    def __iter__(self) -> Iterator[str]:
        layer = self._layer() or {}
        yield from layer
        yield from (k for k in self.base if k not in layer)

    def __len__(self) -> int:
        layer = self._layer() or {}
        return len(layer) + sum(1 for k in self.base if k not in layer)

    def copy(self) -> dict[str, str]:
        return dict(self)


def _layer_environ() -> None:
    if not isinstance(os.environ, _LayeredEnviron):
        os.environ = _LayeredEnviron(os.environ)  # type: ignore[assignment]  # noqa: B003 - a layer, nothing cleared


@dataclass
class LocalFunction:
    name: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    timeout_s: float = 30.0
    concurrency: int = field(default_factory=default_concurrency)
    _module: ModuleType | None = None

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._load = threading.Lock()
        self.timeouts = 0  # invocations stopped at the Timeout (reported by the chaos run)

    def entry(self) -> Callable[[dict, Any], Any]:
        with self._load:
            if self._module is None:
                module_name, _, _ = self.handler.rpartition(".")
                path = self.code_dir / f"{module_name}.py"
                spec = importlib.util.spec_from_file_location(f"socialcare_fn_{self.code_dir.name}", path)
                if spec is None or spec.loader is None:
                    raise ImportError(f"cannot load handler {path}")
                module = importlib.util.module_from_spec(spec)
                sys.modules[spec.name] = module
                with _env(self.environment):
                    spec.loader.exec_module(module)
                self._module = module
        return getattr(self._module, self.handler.rpartition(".")[2])

    def invoke(self, event: dict) -> Any:
        """One invocation on its own thread (a sandbox), at most `concurrency` at once, stopped at
        the function's Timeout."""
        with self._slots:
            handler = self.entry()
            ctx = LambdaContext(
                function_name=self.name, aws_request_id=str(uuid.uuid4()), deadline=time.monotonic() + self.timeout_s
            )
            invocation = _Invocation(self.code_dir)
            box: dict[str, Any] = {}

            def run() -> None:
                _TLS.env = dict(self.environment)
                _TLS.invocation = invocation
                invocation.join()
                try:
                    with _inside_function(self.name):
                        box["result"] = handler(event, ctx)
                except _Killed:
                    box["killed"] = True
                except BaseException as exc:  # noqa: BLE001 - handed to the caller as the function's error
                    box["error"] = exc
                finally:
                    _TLS.env = None
                    _TLS.invocation = None
                    invocation.leave()

            thread = _AdapterThread(target=run, name=f"lambda-{self.name}", daemon=True)
            thread.start()
            thread.join(self.timeout_s)
            if thread.is_alive():
                self.timeouts += 1
                invocation.expire()
                # The caller waits the grace period at most; a thread not stopped by then is abandoned to
                # the stopper, which stops it (and every thread it started) once back in the function's code.
                _AdapterThread(target=invocation.stop, name=f"stop-{self.name}", daemon=True).start()
                thread.join(KILL_GRACE_S)
                raise FunctionTimeoutError(f"{ctx.aws_request_id} Task timed out after {self.timeout_s:.2f} seconds")
            if "error" in box:
                raise box["error"]
            return box.get("result")


class _AdapterThread(threading.Thread):
    """A thread of this adapter (an invocation's sandbox, its stopper): it takes no invocation's context
    from the thread that starts it."""


def _threads_join_their_invocation() -> None:
    """A thread started while an invocation runs (a worker pool's, a timer's) runs as part of it, as every
    thread of a Lambda function does: with the function's role (IAM checks its calls), its environment,
    its output, and it is stopped with the invocation at the Timeout. Threads that moto starts inside a
    service call (a state machine's execution) belong to the service, not to the function."""
    if getattr(threading.Thread, "_socialcare_joins", False):
        return
    original = threading.Thread.start

    def start(self: threading.Thread) -> None:
        invocation = getattr(_TLS, "invocation", None)
        if invocation is None or isinstance(self, _AdapterThread) or invocation.in_service_here():
            original(self)
            return
        self.run = _as_member(self.run, invocation, _TLS.env, current_function())  # type: ignore[method-assign]
        invocation.announce()
        try:
            original(self)
        except BaseException:
            invocation.announce(-1)
            raise

    threading.Thread.start = start  # type: ignore[method-assign]
    threading.Thread._socialcare_joins = True  # type: ignore[attr-defined]


def _as_member(
    body: Callable[[], None], invocation: _Invocation, env: dict[str, str] | None, function: str | None
) -> Callable[[], None]:
    def run() -> None:
        _TLS.env, _TLS.invocation = env, invocation
        _CALLS.depth, _CALLS.function = 1, function
        try:
            invocation.join(announced=True)
            try:
                body()
            finally:
                invocation.leave()
        except _Killed:
            pass  # stopped with its invocation, as Lambda ends every thread of a timed-out invocation
        finally:
            _TLS.env = _TLS.invocation = None
            _CALLS.depth, _CALLS.function = 0, None

    return run


def _guard_service_calls() -> None:
    """Every in-process call into moto (botocore's before-send stubber) runs under the calling
    invocation's guard, so a timed-out invocation is stopped between requests, never inside one."""
    from moto.core.botocore_stubber import BotocoreStubber

    if getattr(BotocoreStubber, "_socialcare_guarded", False):
        return
    original = BotocoreStubber.__call__

    def __call__(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        invocation = getattr(_TLS, "invocation", None)
        if invocation is None:
            return original(self, event_name, request, **kwargs)
        with invocation.service_call():
            return original(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = __call__  # type: ignore[method-assign]
    BotocoreStubber._socialcare_guarded = True  # type: ignore[attr-defined]


class _Output:
    """Where handlers' stdout (Powertools EMF metrics and logs) goes; the demo sends it to a file."""

    stream: Any = None


OUTPUT = _Output()
_CALLS = threading.local()


@contextlib.contextmanager
def _inside_function(name: str | None = None) -> Any:
    depth, outer = getattr(_CALLS, "depth", 0), getattr(_CALLS, "function", None)
    _CALLS.depth, _CALLS.function = depth + 1, name
    try:
        yield
    finally:
        _CALLS.depth, _CALLS.function = depth, outer


def current_function() -> str | None:
    """The function whose invocation this thread is running (its AWS calls use that function's role)."""
    return getattr(_CALLS, "function", None)


class _ThreadRoutedStdout:
    """sys.stdout that sends what a function prints (on whichever thread it runs) to OUTPUT.stream,
    and everything else (the CLI's own progress) to the terminal. redirect_stdout is process-wide,
    so it would swallow the progress lines printed by other threads meanwhile."""

    def __init__(self, terminal: Any) -> None:
        self.terminal = terminal

    def _target(self) -> Any:
        if OUTPUT.stream is not None and getattr(_CALLS, "depth", 0) > 0:
            return OUTPUT.stream
        return self.terminal

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.terminal, name)


def route_function_output(stream: Any) -> None:
    OUTPUT.stream = stream
    if stream is not None and not isinstance(sys.stdout, _ThreadRoutedStdout):
        sys.stdout = _ThreadRoutedStdout(sys.stdout)


class _env:
    """The function's variables on this thread while its module is imported."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.saved: dict[str, str] | None = None

    def __enter__(self) -> None:
        self.saved = getattr(_TLS, "env", None)
        _TLS.env = {**(self.saved or {}), **self.values}

    def __exit__(self, *exc: object) -> None:
        _TLS.env = self.saved


REGISTRY: dict[str, LocalFunction] = {}


def register(fn: LocalFunction) -> None:
    REGISTRY[fn.name] = fn


def _invoke(
    self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
) -> bytes:
    name = function_name.split(":function:")[-1].split(":")[0]
    fn = REGISTRY.get(name)
    if fn is None:
        return json.dumps({"errorType": "ResourceNotFoundException", "errorMessage": name}).encode()
    event = json.loads(body) if body else {}
    try:
        result = fn.invoke(event)
    except Exception as exc:  # noqa: BLE001 - a Lambda's unhandled error becomes its error payload
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps(
            {
                "errorType": getattr(exc, "error_type", type(exc).__name__),
                "errorMessage": str(exc),
                "stackTrace": traceback.format_exc().splitlines()[-5:],
            }
        ).encode()
    return json.dumps(result).encode()


def _logger_keys_per_invocation() -> None:
    """In Lambda each function has its own process, so Powertools' logger keys (function_name and
    request id from inject_lambda_context, keys a handler appends) describe one function's invocation.
    In-process every function shares one formatter, and one invocation's keys would tag another's
    lines (a RouteMention failure logged under AwaitAction's name). Each invocation (with the threads
    it starts) keeps its own keys, starting from those set outside any invocation."""
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    if isinstance(LambdaPowertoolsFormatter.__dict__.get("log_format"), property):
        return

    def shared(self: Any) -> dict[str, Any]:
        # A formatter built before this was installed keeps its keys in its own "log_format".
        if "_shared_log_format" not in self.__dict__:
            self.__dict__["_shared_log_format"] = self.__dict__.pop("log_format", {})
        return self.__dict__["_shared_log_format"]

    def get(self: Any) -> dict[str, Any]:
        invocation = getattr(_TLS, "invocation", None)
        if invocation is None:
            return shared(self)
        return invocation.log_formats.setdefault(id(self), dict(shared(self)))

    def set_(self: Any, value: dict[str, Any]) -> None:
        invocation = getattr(_TLS, "invocation", None)
        if invocation is None or not shared(self):
            self.__dict__["_shared_log_format"] = value
        if invocation is not None:
            invocation.log_formats[id(self)] = value

    LambdaPowertoolsFormatter.log_format = property(get, set_)  # type: ignore[assignment]


def install() -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    from socialcare.local import moto_patches

    LambdaSimpleBackend.invoke = _invoke  # type: ignore[method-assign]
    _layer_environ()
    _guard_service_calls()
    _threads_join_their_invocation()
    _logger_keys_per_invocation()
    moto_patches.install()
