"""The local stack running what `sam build` produced instead of the source tree.

Each built function runs in its own long-lived process (one Lambda execution environment, one
invocation at a time) of a separate Python 3.12 whose path holds only the function's build directory,
the built layer and the SDK version the Lambda python3.12 runtime provides; its environment is what
the template gives it, plus the runtime's own variables and the local endpoint. The layer is built for
Lambda's arm64: where this machine cannot load one of its compiled extensions, the same package and
version built for this machine is put in front of it (every pure-Python file is the built one).

An invocation has the function's Timeout from template.yaml, as the in-process adapter's do: past it,
the caller gets Sandbox.Timedout and the process is ended, so the next invocation starts a fresh one
(Lambda resets the execution environment of an invocation that timed out).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from socialcare.local.lambda_adapter import FunctionTimeoutError, LocalFunction

WORKER = Path(__file__).with_name("lambda_worker.py")


class FunctionError(Exception):
    """An invocation's unhandled error, raised under the handler's own error type name."""


def _error(payload: dict[str, Any]) -> Exception:
    kind = type(str(payload.get("errorType", "Error")), (FunctionError,), {})
    return kind(payload.get("errorMessage", ""))


@dataclass
class Artifacts:
    """Where the build is and which interpreter plays the Lambda runtime."""

    build_dir: Path  # .aws-sam/build
    python: Path  # a Python 3.12 with only the runtime's boto3/botocore installed
    native_overlay: Path | None = None  # this machine's builds of the layer's compiled packages
    log_dir: Path | None = None

    @property
    def layer_paths(self) -> list[Path]:
        layer = self.build_dir / "SharedLayer" / "python"
        return [p for p in (self.native_overlay, layer) if p is not None]

    def function(
        self, logical_id: str, name: str, handler: str, environment: dict[str, str], timeout_s: float
    ) -> BuiltFunction:
        return BuiltFunction(
            name=name,
            code_dir=self.build_dir / logical_id,
            handler=handler,
            environment=environment,
            timeout_s=timeout_s,
            artifacts=self,
        )


@dataclass
class BuiltFunction(LocalFunction):
    artifacts: Artifacts | None = None
    _proc: subprocess.Popen | None = None
    _answers: queue.Queue[str] | None = None  # the running process's answer lines ("" once it has exited)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _log: IO[str] | None = None
    invocations: int = 0

    def _runtime_env(self) -> dict[str, str]:
        keep = (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL",
            "PATH",
            "TZ",
            "LANG",
        )
        env = {k: os.environ[k] for k in keep if k in os.environ}
        env.update(self.environment)
        env.pop("POWERTOOLS_TRACE_DISABLED", None)  # the Tracer runs as in Lambda (X-Ray daemon: none here)
        region = env.get("AWS_REGION", "us-east-1")
        env.update(
            AWS_DEFAULT_REGION=region,
            LAMBDA_TASK_ROOT=str(self.code_dir),
            _HANDLER=self.handler,
            AWS_EXECUTION_ENV="AWS_Lambda_python3.12",
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE="512",
            AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:2000",
            AWS_XRAY_CONTEXT_MISSING="LOG_ERROR",
        )
        return env

    def _start(self) -> subprocess.Popen:
        assert self.artifacts is not None
        if self.artifacts.log_dir is not None:
            self.artifacts.log_dir.mkdir(parents=True, exist_ok=True)
            self._log = open(self.artifacts.log_dir / f"{self.name}.log", "a", encoding="utf-8")  # noqa: SIM115
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and worker script
            [
                str(self.artifacts.python),
                "-I",
                "-B",
                str(WORKER),
                str(self.code_dir),
                self.handler,
                *map(str, self.artifacts.layer_paths),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log or subprocess.DEVNULL,
            env=self._runtime_env(),
            text=True,
            cwd=self.code_dir,
        )
        answers: queue.Queue[str] = queue.Queue()
        threading.Thread(
            target=_read_lines, args=(proc.stdout, answers), name=f"answers-{self.name}", daemon=True
        ).start()
        # Init has no limit here, as in the in-process adapter (Lambda's is 10 s, then retried in the invoke)
        hello = json.loads(answers.get() or '{"ready": false, "error": {"errorMessage": "no answer"}}')
        if not hello.get("ready"):
            proc.kill()
            raise _error(hello.get("error") or {})
        self._answers = answers
        return proc

    def invoke(self, event: dict) -> Any:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            assert self._answers is not None
            request_id = str(uuid.uuid4())
            request = {"event": event, "request_id": request_id, "timeout_ms": int(self.timeout_s * 1000)}
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            self.invocations += 1
            try:
                line = self._answers.get(timeout=self.timeout_s)
            except queue.Empty:
                self.timeouts += 1
                self._end()
                raise FunctionTimeoutError(f"{request_id} Task timed out after {self.timeout_s:.2f} seconds") from None
            if not line:
                self._proc = None
                raise _error({"errorType": "Runtime.ExitError", "errorMessage": f"{self.name} exited"})
            answer = json.loads(line)
        if "error" in answer:
            raise _error(answer["error"])
        return answer.get("result")

    def _end(self) -> None:
        """Ends the execution environment at once (the timed-out invocation with it)."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=10)
            self._proc = None

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None


def _read_lines(stream: IO[str], into: queue.Queue[str]) -> None:
    """The process's answers, line by line, so that the caller can stop waiting at the Timeout."""
    for line in stream:
        into.put(line)
    into.put("")
