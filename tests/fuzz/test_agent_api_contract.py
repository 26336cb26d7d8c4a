"""The agent HTTP API honours its published contract, docs/openapi.json, as a third-party tool reads it.

schemathesis (the CLI, as any API consumer would run it) generates requests from the committed document,
valid and invalid, in all of its phases (examples, coverage, fuzzing, stateful), and sends them over real
HTTP to the Lambda handler behind a loopback API Gateway adapter (tests/fuzz/http_loopback.py): the
gateway's routes from template.yaml, its 403 for unsigned requests, payload 2.0 events. Every answer is
checked against the document: no server error, only documented status codes and content types, bodies
that fit their schemas, invalid data refused, valid data accepted.

Most well-formed case ids the tool draws are given an open case before the request is handled, so the
requests reach the action logic (claim, reply, transfer, ...) and not only the 404 path.
The figures are printed (-s); the default run is bounded by SOCIALCARE_CONTRACT_EXAMPLES per operation.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.fuzz.agent_harness import AgentApi
from tests.fuzz.http_loopback import ROOT, ApiGatewayLoopback, serve, template_routes

DOC = ROOT / "docs" / "openapi.json"
CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = int(os.environ.get("SOCIALCARE_CONTRACT_EXAMPLES", "25"))
# Shaped like SigV4: the adapter, like API Gateway, refuses requests without it (403); there is no IAM
# here to verify the signature against.
SIGNED = (
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/execute-api/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "5" * 64
)
CASE_ID = re.compile(r"SC-[A-Z0-9]{8}")


def _schemathesis(base_url: str, report: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        str(DOC),
        "--url",
        base_url,
        "--header",
        f"Authorization: {SIGNED}",
        "--max-examples",
        str(EXAMPLES),
        "--report",
        "json,ndjson",
        "--report-json-path",
        str(report / "run.json"),
        "--report-ndjson-path",
        str(report / "events.ndjson"),
        "--no-color",
        "--workers",
        "1",
    ]
    # A repeatable gate in CI, new inputs on a laptop; never a database of examples beside the clone
    command += ["--generation-deterministic"] if os.environ.get("CI") else ["--generation-database", "none"]
    # In the report's folder: the tool keeps a cache in its working directory
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, cwd=report)


def test_agent_api_honours_its_openapi_document(agent_api: AgentApi, tmp_path: Path) -> None:
    # Given the real handler behind the loopback gateway, most drawn case ids holding an open case
    seeded: set[str] = set()

    def prepare(params: dict[str, str]) -> None:
        case_id = params.get("case_id", "")
        if CASE_ID.fullmatch(case_id) and case_id not in seeded and sum(map(ord, case_id)) % 3:
            seeded.add(case_id)
            agent_api.seed(case_id)

    gateway = ApiGatewayLoopback(agent_api.handler, template_routes(), prepare)
    # When schemathesis tests every operation of the published document against it
    with serve(gateway) as url:
        run = _schemathesis(url, tmp_path)
    assert (tmp_path / "run.json").exists(), run.stdout[-3000:] + run.stderr[-3000:]
    figures = _figures(tmp_path)
    print(
        f"\nagent API contract (schemathesis, {EXAMPLES} examples per operation): "
        f"{figures['generated']} test cases generated, {figures['checks']} checks run, "
        f"{figures['failed_checks']} failed; {gateway.requests} HTTP requests, statuses "
        f"{dict(sorted(gateway.statuses.items()))}, {len(seeded)} cases seeded"
    )
    # Then no check failed, nothing crashed, and the run reached the action logic, not only refusals
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert figures["failed_checks"] == 0 and figures["checks"] > 1_000, figures
    assert gateway.crashes == [] and gateway.statuses.get(500, 0) == 0, gateway.crashes[:5]
    for status in (200, 403, 404, 409, 415, 422):
        assert gateway.statuses.get(status, 0) > 0, (status, gateway.statuses)


def _figures(report_dir: Path) -> dict[str, int]:
    """Test cases generated (the run report) and checks run and failed (the event stream)."""
    run = json.loads((report_dir / "run.json").read_text(encoding="utf-8"))
    checks = failed = 0
    for line in (report_dir / "events.ndjson").read_text(encoding="utf-8").splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        for results in (finished or {}).get("recorder", {}).get("checks", {}).values():
            checks += len(results)
            failed += sum(1 for r in results if r["status"] != "success")
    return {"generated": run["test_cases"]["generated"], "checks": checks, "failed_checks": failed}


def test_error_answers_share_one_documented_shape(agent_api: AgentApi) -> None:
    # Given a real case behind the loopback gateway, and the document's error schema
    import jsonschema
    import requests

    doc = json.loads(DOC.read_text(encoding="utf-8"))
    case_id = agent_api.seed()
    signed = {"Authorization": SIGNED}
    claim = f"/cases/{case_id}/claim"
    cases = [
        # (method, path, headers, body, expected status, expected kind: None where API Gateway answers)
        (
            "POST",
            claim,
            {**signed, "Content-Type": "multipart/form-data"},
            b'{"agent": "maria"}',
            415,
            "unsupported_media_type",
        ),
        (
            "POST",
            claim,
            {**signed, "Content-Type": "multipart/form-data; boundary=x"},
            b"--x--",
            415,
            "unsupported_media_type",
        ),
        (
            "POST",
            claim,
            {**signed, "Content-Type": "application/x-www-form-urlencoded"},
            b"agent=maria",
            415,
            "unsupported_media_type",
        ),
        ("POST", claim, {**signed, "Content-Type": "text/plain"}, b"maria", 415, "unsupported_media_type"),
        ("POST", claim, {**signed, "Content-Type": "application/json"}, b'{"agent": ""}', 422, "invalid"),
        ("POST", claim, {**signed, "Content-Type": "application/json"}, b"{not json", 422, "invalid"),
        (
            "POST",
            claim,
            {**signed, "Content-Type": "application/json"},
            b'{"agent": "maria", "force": 0.0}',
            422,
            "invalid",
        ),
        ("GET", "/cases/SC-lower123", signed, None, 422, "invalid"),
        ("POST", f"/cases/{case_id}/teleport", {**signed, "Content-Type": "application/json"}, b"{}", 404, "not_found"),
        ("GET", "/cases/SC-NOSUCH00", signed, None, 404, "not_found"),
        ("GET", f"/cases/{case_id}", {}, None, 403, None),
        ("DELETE", f"/cases/{case_id}", signed, None, 404, None),
    ]
    gateway = ApiGatewayLoopback(agent_api.handler, template_routes())
    with serve(gateway) as url:
        for method, path, headers, body, status, kind in cases:
            # When each is sent over HTTP
            response = requests.request(method, url + path, headers=headers, data=body, timeout=30)
            # Then it is the expected 4xx, as JSON, in the documented error shape
            doc_body = response.json()
            assert (response.status_code, doc_body.get("error")) == (status, kind), (method, path, doc_body)
            assert response.headers["Content-Type"] == "application/json"
            jsonschema.validate(doc_body, {"$ref": "#/components/schemas/ErrorBody", **doc})
            assert doc_body["message"]
            if status == 422:
                assert doc_body["detail"] and all(d["msg"] and d["loc"] and d["type"] for d in doc_body["detail"])
            documented = doc["paths"]["/cases/{case_id}/claim"]["post"]["responses"]
            assert str(status) in documented, status
    assert gateway.crashes == []
    # And nothing was changed by any of them
    assert agent_api.deps.store.get_case(case_id).version == 0
