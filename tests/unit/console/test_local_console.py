"""The local console server without a stack: headers, sign-in, tokens, hosts and paths."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest
from socialcare.agents.auth import ForbiddenError, principal_from_event
from socialcare.local.console import CSP, ConsoleServer, Sessions


@pytest.fixture
def server():
    srv = ConsoleServer(stack=None, departments=["baggage", "reservations"]).start()
    yield srv
    srv.stop()


def request(
    srv: ConsoleServer, method: str, path: str, body: Any = None, headers: dict | None = None, host: str | None = None
) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    conn.putrequest(method, path, skip_host=True)
    conn.putheader("Host", host or f"127.0.0.1:{srv.port}")
    data = json.dumps(body).encode() if body is not None else b""
    for k, v in {**(headers or {}), "Content-Length": str(len(data))}.items():
        conn.putheader(k, v)
    conn.endheaders(data)
    res = conn.getresponse()
    return res.status, dict(res.getheaders()), res.read()


def test_pages_carry_a_strict_content_security_policy_and_no_inline_script(server):
    status, headers, body = request(server, "GET", "/")
    assert status == 200 and headers["Content-Security-Policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
    assert b'<script type="module" src="js/main.js"></script>' in body
    assert b"<script>" not in body and b"style=" not in body
    _, headers, _ = request(server, "GET", "/js/main.js")
    assert headers["Content-Type"].startswith("text/javascript")


def test_no_file_outside_the_console_directory_is_served(server):
    for path in ("/../pyproject.toml", "/js/../../template.yaml", "/%2e%2e/template.yaml"):
        status, _, _ = request(server, "GET", path)
        assert status == 404, path


def test_a_request_naming_another_host_is_refused(server):
    status, _, _ = request(server, "GET", "/", host="attacker.example:80")
    assert status == 421


def test_sign_in_checks_its_input_and_the_api_needs_a_valid_token(server):
    status, _, body = request(server, "POST", "/local/sign-in", {"agent": "maria", "departments": ["nope"]})
    assert status == 400 and b"unknown departments: nope" in body
    status, _, body = request(server, "POST", "/local/sign-in", {"agent": "<b>", "departments": ["baggage"]})
    assert status == 400
    status, _, body = request(server, "POST", "/local/sign-in", {"agent": "maria", "departments": []})
    assert status == 400
    status, _, body = request(server, "POST", "/local/sign-in", {"agent": "maria", "departments": ["baggage"]})
    token = json.loads(body)["token"]
    assert status == 200 and json.loads(body)["groups"] == ["baggage"]
    # A token with its claims edited (ops added) is not accepted
    claims, sig = token.split(".")
    forged = Sessions().issue("maria", ["baggage", "ops"]).split(".")[0] + "." + sig
    for auth in ("", "Bearer nonsense", f"Bearer {forged}"):
        status, _, _ = request(server, "GET", "/api/me", headers={"Authorization": auth} if auth else {})
        assert status == 401, auth


def test_claims_become_a_principal_as_api_gateway_passes_them():
    event = {
        "requestContext": {
            "authorizer": {"jwt": {"claims": {"cognito:username": "maria", "cognito:groups": "[baggage ops]"}}}
        }
    }
    who = principal_from_event(event)
    assert who.person and who.name == "maria" and who.departments == {"baggage"} and who.ops
    who.require_department("baggage")
    with pytest.raises(ForbiddenError):
        who.require_department("reservations")
    machine = principal_from_event({"requestContext": {"authorizer": {"iam": {"userArn": "arn:aws:iam::1:role/crm"}}}})
    assert not machine.person and machine.may_see("reservations")
    nobody = principal_from_event({"requestContext": {"authorizer": {"jwt": {"claims": {"cognito:username": "li"}}}}})
    assert nobody.departments == frozenset() and not nobody.ops
    with pytest.raises(ForbiddenError):
        nobody.require_ops()
