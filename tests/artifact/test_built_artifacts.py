"""The artifacts `sam build` produced, run the way Lambda runs them: each function in a fresh Python 3.12
whose path holds only its build directory, the built layer and the runtime's SDK, with the environment
the template gives it, against the local stack (moto on loopback)."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from tests.artifact.conftest import layer_tool
from tests.builders import mention

pytestmark = pytest.mark.artifact

MB = 1024 * 1024
NOT_RUNTIME = [
    "socialcare/cli.py",
    "socialcare/local",
    "socialcare/classify/train.py",
    "socialcare/template_sync.py",
    "socialcare/config_check.py",
    "socialcare/reports/demo.py",
    "socialcare/data/demo",
    "socialcare/doctor",
    "socialcare/privacy",
    "socialcare/console/publish.py",
    "socialcare/console/backfill.py",
    "socialcare/agents/training.py",
    "socialcare/incidents/evaluate.py",
    "socialcare/ingest/replay.py",
]


def _dists(layer: Path) -> dict[str, tuple[str, str]]:
    """{canonical name: (version, METADATA text)} of every package installed in the layer."""
    tool = layer_tool()
    out = {}
    for meta in layer.glob("*.dist-info/METADATA"):
        text = meta.read_text(encoding="utf-8")
        name = re.search(r"^Name: (.+)$", text, re.M).group(1).strip()
        version = re.search(r"^Version: (.+)$", text, re.M).group(1).strip()
        out[tool.canonical(name)] = (version, text)
    return out


def test_layer_holds_exactly_the_pinned_packages_and_only_runtime_code(build_dir):
    tool = layer_tool()
    layer = build_dir / "SharedLayer" / "python"
    _, pins = tool.parse(tool.REQUIREMENTS.read_text(encoding="utf-8"))
    dists = _dists(layer)
    assert {n: v for n, (v, _) in dists.items()} == pins
    for path in NOT_RUNTIME:
        assert not (layer / path).exists(), f"{path} is not runtime code and must stay out of the layer"
    assert not list(layer.glob("socialcare/*/commands.py"))
    assert (layer / "socialcare" / "data" / "brand.yaml").exists()
    # compiled parts are built for Lambda's arm64
    compiled = [p.name for p in layer.rglob("*.so")]
    assert compiled and all("aarch64" in name for name in compiled), compiled


def test_every_dependency_of_every_layer_package_is_in_the_layer_or_the_runtime(build_dir):
    tool = layer_tool()
    dists = _dists(build_dir / "SharedLayer" / "python")
    requested_extras = {
        tool.canonical(Requirement(s).name): Requirement(s).extras for s in tool.direct_dependencies().values()
    }
    env = {
        **default_environment(),
        "python_version": "3.12",
        "python_full_version": "3.12.0",
        "platform_machine": "aarch64",
        "sys_platform": "linux",
        "platform_system": "Linux",
    }
    missing = []
    for name, (_, meta) in dists.items():
        extras = requested_extras.get(name, set()) | {""}
        for line in re.findall(r"^Requires-Dist: (.+)$", meta, re.M):
            req = Requirement(line)
            if req.marker and not any(req.marker.evaluate({**env, "extra": e}) for e in extras):
                continue
            dep = tool.canonical(req.name)
            if dep in tool.RUNTIME_PROVIDED:
                continue
            if dep not in dists or not req.specifier.contains(dists[dep][0], prereleases=True):
                missing.append(f"{name} needs {req}")
    assert missing == []


def _zipped(path: Path) -> int:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(path.rglob("*")):
            if p.is_file():
                zf.write(p, str(p.relative_to(path)))
    return len(buf.getvalue())


def test_layer_and_functions_fit_lambdas_size_limits(build_dir):
    layer = build_dir / "SharedLayer"
    unzipped = sum(p.stat().st_size for p in layer.rglob("*") if p.is_file())
    zipped = _zipped(layer)
    biggest_fn = max(
        sum(p.stat().st_size for p in d.rglob("*") if p.is_file())
        for d in build_dir.iterdir()
        if d.is_dir() and d.name.endswith("Function")
    )
    print(
        f"\nlayer: {unzipped / MB:.1f} MB unzipped, {zipped / MB:.1f} MB zipped; "
        f"largest function code {biggest_fn / 1024:.1f} KB"
    )
    # Lambda: 250 MB unzipped for a function and all its layers, 50 MB zipped for a direct upload.
    assert unzipped + biggest_fn < 250 * MB / 2, "less than half of Lambda's limit, room to grow"
    assert zipped < 50 * MB


# ------------------------------------------------------------------ the built functions at work
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def built_stack(artifacts):
    import requests
    from moto.server import ThreadedMotoServer
    from socialcare import aws
    from socialcare.assembly import reset_deps
    from socialcare.local.stack import MOTO_CONFIG, LocalStack
    from socialcare.settings import get_settings

    port = _free_port()
    saved = dict(os.environ)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        MOTO_PORT=str(port),
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
    )
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        requests.post(f"http://127.0.0.1:{port}/moto-api/config", json=MOTO_CONFIG, timeout=5).raise_for_status()
        aws.reset_clients()
        offline = str(Path(__file__).with_name("brand_offline.yaml"))
        stack = LocalStack(stack_name="artifact", parameters={"BrandConfigPath": offline}, artifacts=artifacts)
        stack.deploy()
        os.environ.update(stack.environment())
        get_settings.cache_clear()
        reset_deps()
        yield stack
    finally:
        for fn in getattr(locals().get("stack"), "functions", {}).values():
            fn.stop()
        server.stop()
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
        aws.reset_clients()


def test_every_built_handler_imports_in_the_lambda_runtime(built_stack):
    from socialcare.local.artifact import BuiltFunction

    started = {}
    for logical_id, fn in built_stack.functions.items():
        assert isinstance(fn, BuiltFunction) and fn.code_dir.parent.name == "build"
        assert fn.timeout_s == built_stack.template.functions[logical_id].timeout_s  # its Timeout, as in Lambda
        t0 = time.perf_counter()
        fn._proc = fn._start()  # the init phase: import the handler module with the template's environment
        started[logical_id] = time.perf_counter() - t0
    print("\ninit (import) per built function, s: " + ", ".join(f"{k}={v:.2f}" for k, v in sorted(started.items())))
    assert len(started) == len(built_stack.template.functions) >= 9


def _wait(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)
    return value


def test_a_mention_travels_through_the_built_functions_to_a_resolved_case(built_stack):
    import boto3
    from socialcare.assembly import build_deps
    from socialcare.models import CaseStatus, case_id_for

    from tests.integration.agents.test_agent_api import api_event

    store = build_deps().store
    m = mention("@SkylarkAir my suitcase is lost, the baggage desk is closed. Please help")
    boto3.client("sqs").send_message(QueueUrl=built_stack.outputs["MentionsQueueUrl"], MessageBody=m.model_dump_json())
    t0 = time.perf_counter()
    stats = built_stack.pump("RouteMentionFunction")  # the built RouteMention, in its own runtime process
    assert (stats.received, stats.failed) == (1, 0)
    case_id = case_id_for(m.key)
    # the real state machine runs the built AwaitAction through lambda:invoke
    case = _wait(lambda: (c := store.get_case(case_id)) is not None and c.token_fresh and c)
    assert case.department == "baggage"

    def act(method, path, body=None):
        if method == "POST":
            _wait(lambda: (c := store.get_case(case_id)).token_fresh or not c.is_open)
        response = built_stack.invoke("AgentApiFunction", api_event(method, path, body))
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else None

    status, queue = act("GET", "/departments/baggage/queue")
    assert status == 200 and case_id in [c["case_id"] for c in queue["cases"]]
    assert act("POST", f"/cases/{case_id}/claim", {"agent": "maria"})[0] == 200
    assert act("POST", f"/cases/{case_id}/reply", {"agent": "maria", "text": "Found it, it arrives tonight."})[0] == 200
    assert act("POST", f"/cases/{case_id}/resolve", {"agent": "maria", "note": "bag delivered"})[0] == 200
    sfn = boto3.client("stepfunctions")
    arn = built_stack.outputs["StateMachineArn"].replace(":stateMachine:", ":execution:") + ":" + case_id
    _wait(lambda: sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED")
    final = store.get_case(case_id)
    assert final.status == CaseStatus.RESOLVED and final.owner == "maria"
    print(
        f"\nmention -> resolved case through the built functions: {time.perf_counter() - t0:.2f}s; invocations: "
        + ", ".join(f"{k}={fn.invocations}" for k, fn in sorted(built_stack.functions.items()) if fn.invocations)
    )
    assert built_stack.functions["AwaitActionFunction"].invocations >= 1
    # an SLA warning that comes due after the case was resolved is recognised as stale by the built WarnSla
    now = datetime.now(UTC).isoformat()
    boto3.client("sqs").send_message(
        QueueUrl=built_stack.queue_urls["SlaWarningQueue"],
        MessageBody=json.dumps(
            {"case_id": case_id, "clock": "first_response", "seconds": 60, "warn_at": now, "due_at": now}
        ),
    )
    warned = built_stack.pump("WarnSlaFunction")
    assert (warned.received, warned.failed) == (1, 0)


def test_every_other_built_function_answers_its_event(built_stack):
    from tests.integration.agents.test_agent_api import api_event

    scheduled = {
        "version": "0",
        "id": "e",
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }
    # schedules: nothing due, no source with credentials - each completes without an unhandled error
    for fn_id in ("PublishPostsFunction", "ReportParityFunction"):
        built_stack.invoke(fn_id, scheduled)
    polled = built_stack.invoke("PollMentionsFunction", built_stack.scheduled_event("PollMentionsFunction"))
    assert polled is not None
    assert built_stack.invoke("OpsApiFunction", api_event("GET", "/incidents"))["statusCode"] == 200
    import boto3

    # moto's CloudFormation does not create secrets: the one the template declares, made by hand
    boto3.client("secretsmanager").create_secret(
        Name=f"{built_stack.stack_name}/meta-webhook", SecretString=json.dumps({"app_secret": "s", "verify_token": "t"})
    )
    verify = api_event("GET", "/webhooks/meta")
    verify["queryStringParameters"] = {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"}
    assert built_stack.invoke("MetaWebhookFunction", verify)["statusCode"] == 403
