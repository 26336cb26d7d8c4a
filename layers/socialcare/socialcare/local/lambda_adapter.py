"""Runs the real Lambda handlers in-process when moto invokes a function (moto would need Docker).

moto's LambdaSimpleBackend.invoke is an internal signature: moto is pinned, and a test covers this.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

_LOCK = threading.RLock()  # handlers share os.environ: one invocation at a time


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    aws_request_id: str = ""
    log_group_name: str = ""
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class LocalFunction:
    name: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    _module: ModuleType | None = None

    def entry(self) -> Callable[[dict, Any], Any]:
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
        with _LOCK, _env(self.environment), _inside_function(self.name):
            ctx = LambdaContext(function_name=self.name, aws_request_id=str(uuid.uuid4()))
            return self.entry()(event, ctx)


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
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.saved: dict[str, str | None] = {}

    def __enter__(self) -> None:
        for k, v in self.values.items():
            self.saved[k] = os.environ.get(k)
            os.environ[k] = v

    def __exit__(self, *exc: object) -> None:
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


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
            {"errorType": type(exc).__name__, "errorMessage": str(exc),
             "stackTrace": traceback.format_exc().splitlines()[-5:]}
        ).encode()
    return json.dumps(result).encode()


def install() -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    from socialcare.local import moto_patches

    LambdaSimpleBackend.invoke = _invoke  # type: ignore[method-assign]
    moto_patches.install()
