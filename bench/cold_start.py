"""Cold start: import time of each Lambda handler next to a minimal Powertools + pydantic handler,
each in a fresh interpreter, several runs alternating with the reference's, median; for the HTTP API
handlers also their import plus one first request, next to the reference's import plus one invocation.
Target: every handler <= 1.3x the reference."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_COLD_RUNS", "7"))
TARGET = 1.3

REFERENCE = """
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel
logger = Logger(service="ref"); tracer = Tracer(service="ref"); metrics = Metrics(namespace="Ref", service="ref")
class Request(BaseModel):
    id: str
@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict, context: LambdaContext) -> dict:
    return Request.model_validate(event).model_dump()
"""

# The child: import the handler; then, when a first request is given (on stdin, as JSON), invoke it as
# the Lambda runtime would and time that too. AWS answers come from `answers` (by operation name, e.g.
# "Query") in place of the network: the client, its request and its parsing of the answer all run,
# only the round trip is left out (the reference makes none).
TIMER = """
import sys, time, importlib.util
t0 = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
t1 = time.perf_counter()
request = sys.stdin.read()
if request:
    import json
    request = json.loads(request)
    import botocore.awsrequest, botocore.endpoint

    class Raw:
        def __init__(self, body):
            self.body = body

        def stream(self, **kw):
            yield self.body

    def answer(endpoint, prepared):
        target = prepared.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).rsplit(".", 1)[-1]
        body = json.dumps(request["answers"].get(operation, {})).encode()
        return botocore.awsrequest.AWSResponse(prepared.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, Raw(body))

    botocore.endpoint.Endpoint._send = answer

    class Context:
        function_name = "bench"
        function_version = "$LATEST"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
        aws_request_id = "bench-request"

        def get_remaining_time_in_millis(self):
            return 30_000

    out = getattr(module, request["entry"])(request["event"], Context())
    assert out.get("statusCode", 200) == request.get("status", 200), out
t2 = time.perf_counter()
print(t1 - t0, t2 - t0)
"""


def _http(method: str, path: str, authorizer: dict[str, Any], body: bytes = b"", headers: dict | None = None) -> dict:
    """An API Gateway HTTP API (payload 2.0) event, as the local console builds them, with its authorizer's
    context replaced by `authorizer` (IAM, a JWT's claims, or none for the webhook)."""
    from socialcare.local.console import api_event

    event = api_event(method, path, "", {"content-type": "application/json", **(headers or {})}, body, {})
    event["requestContext"]["authorizer"] = authorizer
    return event


IAM = {"iam": {"userArn": "arn:aws:iam::123456789012:role/crm", "userId": "crm"}}
PERSON = {"jwt": {"claims": {"cognito:username": "maria", "cognito:groups": "[baggage]"}, "scopes": None}}
OPS = {"jwt": {"claims": {"cognito:username": "ana", "cognito:groups": "[ops]"}, "scopes": None}}
QUEUE_ANSWERS = {
    "Query": {"Items": [], "Count": 0},
    "GetQueueAttributes": {"Attributes": {"ApproximateNumberOfMessages": "0"}},
}
META_SECRET = "bench-app-secret"  # noqa: S105 - a made-up value for the stubbed Secrets Manager answer


def _meta_delivery() -> tuple[bytes, str]:
    """One signed page-comment delivery, timed now (older entries fall outside the replay window)."""
    now = int(time.time())
    value = {
        "from": {"id": "7281930456123", "name": "Rui"},
        "post_id": "104729381234567_998877665544",
        "comment_id": "998877665544_1122334455",
        "created_time": now - 5,
        "item": "comment",
        "verb": "add",
        "message": "My flight to Faro is delayed again and the app says on time. Who do I talk to?",
    }
    body = json.dumps(
        {
            "object": "page",
            "entry": [{"id": "104729381234567", "time": now, "changes": [{"field": "feed", "value": value}]}],
        }
    ).encode()
    return body, "sha256=" + hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()


def first_requests() -> dict[str, dict[str, Any]]:
    """The HTTP API handlers' cold start is their import plus the first request: what a request needs and
    is not built at import (Deps, the brand configuration, AWS clients, a route's validation models) is
    paid there. One representative request each: the queue an agent opens first (the agent API signed by
    a CRM's IAM role, the console by a person of that department), the incident list for ops, one signed
    comment for the webhook."""
    body, signature = _meta_delivery()
    secret = json.dumps({"app_secret": META_SECRET, "verify_token": "bench"})
    return {
        "agent_api": {
            "entry": "lambda_handler",
            "event": _http("GET", "/departments/baggage/queue", IAM),
            "answers": QUEUE_ANSWERS,
        },
        "console_api": {
            "entry": "lambda_handler",
            "event": _http("GET", "/departments/baggage/queue", PERSON),
            "answers": QUEUE_ANSWERS,
        },
        "ops_api": {
            "entry": "lambda_handler",
            "event": _http("GET", "/incidents", OPS),
            "answers": {"Query": {"Items": []}},
        },
        "meta_webhook": {
            "entry": "handler",
            "event": _http("POST", "/webhooks/meta", {}, body, {"x-hub-signature-256": signature}),
            "answers": {
                "GetSecretValue": {"Name": "socialcare/meta-webhook", "SecretString": secret},
                "BatchGetItem": {"Responses": {}, "UnprocessedKeys": {}},
                "SendMessageBatch": {
                    "Successful": [{"Id": "0", "MessageId": "m-1", "MD5OfMessageBody": ""}],
                    "Failed": [],
                },
                "BatchWriteItem": {"UnprocessedItems": {}},
            },
        },
    }


REFERENCE_REQUEST = {"entry": "handler", "event": {"id": "r-1"}, "answers": {}}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}  # never a real account or endpoint
    env.update(
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_METRICS_NAMESPACE="Bench",
        POWERTOOLS_SERVICE_NAME="bench",
        PYTHONDONTWRITEBYTECODE="0",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        # What the Lambda runtime and the template give a function; the credentials are made up.
        AWS_ACCESS_KEY_ID="AKIABENCHBENCHBENCH0",
        AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106
        AWS_SESSION_TOKEN="bench",  # noqa: S106
        STACK_NAME="socialcare",
        TABLE_NAME="socialcare",
        MENTIONS_QUEUE_URL="https://sqs.us-east-1.amazonaws.com/123456789012/socialcare-mentions",
    )
    return env


def _once(path: Path, request: dict[str, Any] | None = None) -> tuple[float, float]:
    """Import seconds, and import plus first request seconds (the same when no request is given)."""
    out = subprocess.run(
        [sys.executable, "-c", TIMER, str(path)],
        input=json.dumps(request) if request else "",
        capture_output=True,
        text=True,
        env=_env(),
        cwd=str(path.parent),
        check=True,
    )
    imported, total = out.stdout.strip().splitlines()[-1].split()
    return float(imported), float(total)


def _median_ratio(mine: list[float], theirs: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(mine, theirs, strict=True))


def paired(path: Path, reference: Path, runs: int = RUNS, request: dict[str, Any] | None = None) -> dict[str, float]:
    """Handler and reference run alternately, so a change in machine load between them (other work on a
    shared machine) moves both: medians of each, and the median of the per-pair ratios. With a first
    request, the reference also handles one invocation, and both figures are kept: import only, and
    import plus the first request (the cold start a caller waits for)."""
    mine, theirs = [], []
    for _ in range(runs):
        mine.append(_once(path, request))
        theirs.append(_once(reference, REFERENCE_REQUEST if request else None))
    out = {
        "import": statistics.median(m[0] for m in mine),
        "ref_import": statistics.median(t[0] for t in theirs),
        "import_ratio": _median_ratio([m[0] for m in mine], [t[0] for t in theirs]),
    }
    if request:
        out.update(
            cold=statistics.median(m[1] for m in mine),
            ref_cold=statistics.median(t[1] for t in theirs),
            cold_ratio=_median_ratio([m[1] for m in mine], [t[1] for t in theirs]),
        )
    return out


def handlers() -> list[Path]:
    return sorted((ROOT / "functions").glob("*/handler.py"))


def results(runs: int = RUNS) -> dict[str, dict[str, float]]:
    """Per handler: paired() against the reference."""
    import tempfile

    requests = first_requests()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        ref = Path(tmp) / "handler.py"
        ref.write_text(REFERENCE, encoding="utf-8")
        _once(ref, REFERENCE_REQUEST)  # warm the OS file cache and .pyc files, as a provisioned runtime would be
        for path in handlers():
            request = requests.get(path.parent.name)
            _once(path, request)
            out[path.parent.name] = paired(path, ref, runs, request)
    return out


def run() -> None:
    load = os.getloadavg()[0]
    res = results()
    print(
        f"cold start, median of {RUNS} fresh interpreters per handler, each run beside one of the reference "
        f"(python {sys.version.split()[0]}, load average {load:.2f} at the start)"
    )
    print("import: the module's import; + 1st request: the HTTP APIs' import and their first request, against")
    print("the reference's import and one invocation (AWS answers stubbed in place of the network). The target")
    print("applies to the HTTP APIs' import + first request, to the others' import (their first event is not run).")
    head = f"{'handler':16} {'import ms':>10} {'ref ms':>7} {'x ref':>6}   {'+1st request ms':>15} {'ref ms':>7} {'x ref':>6}"
    print(f"{head}  target <= {TARGET}x")
    for name, r in res.items():
        line = f"{name:16} {r['import'] * 1000:10.1f} {r['ref_import'] * 1000:7.1f} {r['import_ratio']:6.2f}"
        judged = r["import_ratio"]
        if "cold" in r:
            line += f"   {r['cold'] * 1000:15.1f} {r['ref_cold'] * 1000:7.1f} {r['cold_ratio']:6.2f}"
            judged = r["cold_ratio"]
        else:
            line += " " * 33
        print(line + ("" if judged <= TARGET else "  OVER"))
