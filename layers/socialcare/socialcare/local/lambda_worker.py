"""One Lambda execution environment as a process: loads a handler and answers invocations.

Started by socialcare.local.artifact with `python -I` (no PYTHONPATH, no user site, not even this
file's directory on the path), so it imports only what the Lambda python3.12 runtime would: the
function's directory first, then the layer, then the interpreter's site-packages (the runtime's SDK).
Standard library only. Requests arrive as JSON lines on stdin, answers leave on the original stdout;
whatever the handler prints (logs, EMF metrics) goes to stderr.
"""

import importlib
import json
import os
import sys
import time
import traceback
import uuid


class Context:
    def __init__(self, request_id, deadline_ms):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"))
        region, account = os.environ.get("AWS_REGION", "us-east-1"), "123456789012"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{self.function_name}"
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


def _error(exc):
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exc().splitlines()[-8:],
    }


def main():
    code_dir, handler, *layer_paths = sys.argv[1:]
    sys.path[:0] = [code_dir, *layer_paths]
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    module_name, _, attr = handler.rpartition(".")
    try:
        entry, init_error = getattr(importlib.import_module(module_name), attr), None
    except Exception as exc:  # noqa: BLE001 - Lambda reports an init error on every invocation
        entry, init_error = None, {**_error(exc), "errorType": "Runtime.ImportModuleError"}
    answers.write(json.dumps({"ready": init_error is None, "error": init_error}) + "\n")
    answers.flush()
    for line in sys.stdin:
        request = json.loads(line)
        # What Lambda's Runtime API gives with each event (its request id, the time left before the Timeout)
        request_id = request.get("request_id") or str(uuid.uuid4())
        deadline_ms = time.time() * 1000 + float(request.get("timeout_ms", 3000))
        os.environ["_X_AMZN_TRACE_ID"] = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=1"
        if init_error is not None:
            answer = {"error": init_error}
        else:
            try:
                result = entry(request["event"], Context(request_id, deadline_ms))
                answer = {"result": result}
            except Exception as exc:  # noqa: BLE001 - an unhandled error becomes the function's error payload
                answer = {"error": _error(exc)}
        sys.stdout.flush()
        answers.write(json.dumps(answer, default=str) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
