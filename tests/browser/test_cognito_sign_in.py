"""The console's Cognito sign-in (authorization code with PKCE) in a real browser, without AWS.

Three loopback servers stand in for what AWS serves, each on its own origin as in AWS: the console's
files with the Content Security Policy of template.yaml's CloudFront response-headers policy and the
config.json `socialcare console publish` writes; Cognito's /oauth2/authorize, /oauth2/token and /logout,
checking the request against template.yaml's app client (code flow, scopes, callback URL) and the code
verifier against the challenge (RFC 7636, S256); and the console API, answering CORS as template.yaml's
HTTP API is configured to and accepting only `Authorization: Bearer <the ID token>`.

What this shows: the verifier is random, 43 characters, and its SHA-256 is the challenge sent first;
no client secret is ever sent; the ID token travels in the Authorization header and never in a cookie;
the code and verifier do not outlive the sign-in; a sign-in answer that does not match the request is
refused. What it cannot show: Cognito's own page and signature keys (there is no AWS account here).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from socialcare.console.publish import console_config
from socialcare.local.template import load_sam

from tests.browser.test_console import no_console_errors, ready

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "1example23456789"
ID_TOKEN_CLAIMS = {"cognito:username": "priya", "cognito:groups": ["baggage"], "token_use": "id", "aud": CLIENT_ID}
TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def template_resource(name: str) -> dict[str, Any]:
    return load_sam(ROOT / "template.yaml")["Resources"][name]["Properties"]


def sub_text(value: Any) -> str:
    return value["Fn::Sub"] if isinstance(value, dict) else value


class Server:
    """One loopback origin; `handle(method, path, query, headers, body)` -> (status, headers, body)."""

    def __init__(self, handle: Any) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _any(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, out = handle(method, parts.path, parse_qs(parts.query), self.headers, body)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self._any("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._any("POST")

            def do_OPTIONS(self) -> None:  # noqa: N802
                self._any("OPTIONS")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class StandIns:
    """The console origin, Cognito and the console API, with what each was asked."""

    def __init__(self) -> None:
        self.authorize: list[dict[str, str]] = []
        self.token: list[dict[str, str]] = []
        self.api: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self.codes: dict[str, dict[str, str]] = {}
        self.id_token = ""
        client = template_resource("ConsoleUserPoolClient")
        cors = template_resource("ConsoleHttpApi")["CorsConfiguration"]
        self.scopes, self.flows = set(client["AllowedOAuthScopes"]), client["AllowedOAuthFlows"]
        self.allow_methods = {m.upper() for m in cors["AllowMethods"]}
        self.allow_headers = {h.lower() for h in cors["AllowHeaders"]}
        assert not client["GenerateSecret"] and self.flows == ["code"]
        self.cognito = Server(self._cognito)
        self.api_server = Server(self._api)
        self.console = Server(self._console)
        self.console_url = self.console.origin + "/"
        # The stack outputs AWS would give, pointing at the stand-ins; config.json as publish writes it.
        self.config = console_config(
            {
                "ConsoleBucketName": "unused",
                "ConsoleUrl": self.console_url,
                "ConsoleApiUrl": self.api_server.origin,
                "ConsoleUserPoolId": "eu-west-1_StandIn1",
                "ConsoleUserPoolClientId": CLIENT_ID,
                "ConsoleSignInDomain": self.cognito.origin,
            },
            "eu-west-1",
        )
        self.csp = self._csp()

    def _csp(self) -> str:
        """template.yaml's policy, its API and Cognito host patterns pointed at the stand-ins."""
        policy = sub_text(
            template_resource("ConsoleSecurityHeaders")["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"][
                "ContentSecurityPolicy"
            ]["ContentSecurityPolicy"]
        )
        api = re.search(r"https://\*\.execute-api\.\S+", policy)
        auth = re.search(r"https://\*\.auth\.\S+", policy)
        assert api and auth, policy
        policy = policy.replace(api.group(0).rstrip(";"), self.api_server.origin)
        return policy.replace(auth.group(0).rstrip(";"), self.cognito.origin)

    def stop(self) -> None:
        for server in (self.console, self.cognito, self.api_server):
            server.stop()

    # ------------------------------------------------------------ the console's origin (CloudFront)
    def _console(self, method: str, path: str, query: Any, headers: Any, body: bytes) -> tuple[int, dict, bytes]:
        security = {
            "Content-Security-Policy": self.csp,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        }
        if path == "/config.json":
            return 200, {**security, "Content-Type": "application/json"}, json.dumps(self.config).encode()
        target = (ROOT / "console" / ("index.html" if path == "/" else path.lstrip("/"))).resolve()
        if (ROOT / "console").resolve() not in target.parents or not target.is_file():
            return 404, security, b"not found"
        return (
            200,
            {**security, "Content-Type": TYPES.get(target.suffix, "application/octet-stream")},
            target.read_bytes(),
        )

    # ------------------------------------------------------------ Cognito's hosted sign-in endpoints
    def _cognito(self, method: str, path: str, query: Any, headers: Any, body: bytes) -> tuple[int, dict, bytes]:
        one = {k: v[0] for k, v in query.items()}
        if path == "/oauth2/authorize" and method == "GET":
            self.authorize.append(one)
            wrong = [
                k
                for k, ok in [
                    ("response_type", one.get("response_type") in self.flows),
                    ("client_id", one.get("client_id") == CLIENT_ID),
                    ("redirect_uri", one.get("redirect_uri") == self.console_url),  # the client's CallbackURLs
                    ("scope", bool(one.get("scope")) and set(one["scope"].split()) <= self.scopes),
                    ("code_challenge_method", one.get("code_challenge_method") == "S256"),
                    ("code_challenge", re.fullmatch(r"[A-Za-z0-9_-]{43}", one.get("code_challenge", "")) is not None),
                    ("state", len(one.get("state", "")) >= 16),
                ]
                if not ok
            ]
            if wrong:
                self.problems.append(f"authorize: {wrong}")
                return 400, {"Content-Type": "text/plain"}, f"invalid_request: {wrong}".encode()
            # The person signs in on Cognito's page; Cognito sends the browser back with a one-time code.
            code = secrets.token_urlsafe(24)
            self.codes[code] = one
            return 302, {"Location": f"{one['redirect_uri']}?{urlencode({'code': code, 'state': one['state']})}"}, b""
        if path == "/oauth2/token" and method == "POST":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            self.token.append(
                {**form, "_content_type": headers.get("Content-Type", ""), "_cookie": headers.get("Cookie", "")}
            )
            asked = self.codes.pop(form.get("code", ""), None)  # a code is good once
            verifier = form.get("code_verifier", "")
            checks = [
                ("grant_type", form.get("grant_type") == "authorization_code"),
                ("client_id", form.get("client_id") == CLIENT_ID),
                ("code", asked is not None),
                ("redirect_uri", asked is not None and form.get("redirect_uri") == asked["redirect_uri"]),
                # RFC 7636: 43-128 unreserved characters, and BASE64URL(SHA256(verifier)) is the challenge.
                (
                    "code_verifier",
                    re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", verifier) is not None
                    and asked is not None
                    and b64url(hashlib.sha256(verifier.encode()).digest()) == asked["code_challenge"],
                ),
                ("no client_secret", "client_secret" not in form and "Authorization" not in headers),
            ]
            cors = {"Access-Control-Allow-Origin": self.console.origin, "Content-Type": "application/json"}
            wrong = [k for k, ok in checks if not ok]
            if wrong:
                self.problems.append(f"token: {wrong}")
                return 400, cors, json.dumps({"error": "invalid_grant"}).encode()
            claims = {**ID_TOKEN_CLAIMS, "iss": self.cognito.origin, "exp": int(time.time()) + 3600}
            self.id_token = ".".join(
                [
                    b64url(json.dumps({"alg": "RS256", "kid": "stand-in"}).encode()),
                    b64url(json.dumps(claims).encode()),
                    b64url(secrets.token_bytes(32)),
                ]
            )
            tokens = {
                "id_token": self.id_token,
                "access_token": "access." + secrets.token_urlsafe(16),
                "refresh_token": "refresh." + secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 3600,
            }
            return 200, cors, json.dumps(tokens).encode()
        if path == "/logout" and method == "GET":
            if one.get("client_id") != CLIENT_ID or one.get("logout_uri") != self.console_url:  # LogoutURLs
                self.problems.append(f"logout: {one}")
                return 400, {}, b"invalid logout"
            return 302, {"Location": one["logout_uri"]}, b""
        return 404, {}, b"not found"

    # ------------------------------------------------------------ the console API (HTTP API + JWT authorizer)
    def _api(self, method: str, path: str, query: Any, headers: Any, body: bytes) -> tuple[int, dict, bytes]:
        origin = headers.get("Origin", "")
        if method == "OPTIONS":  # CORS preflight, answered as the HTTP API's CorsConfiguration says
            asked = {h.strip().lower() for h in headers.get("Access-Control-Request-Headers", "").split(",") if h}
            if (
                origin != self.console.origin
                or headers.get("Access-Control-Request-Method") not in self.allow_methods
                or not asked <= self.allow_headers
            ):
                self.problems.append(f"preflight refused: {origin} {asked}")
                return 403, {}, b""
            return (
                204,
                {
                    "Access-Control-Allow-Origin": origin,
                    "Access-Control-Allow-Methods": ",".join(sorted(self.allow_methods)),
                    "Access-Control-Allow-Headers": ",".join(sorted(asked)),
                    "Access-Control-Max-Age": "600",
                },
                b"",
            )
        self.api.append(
            {
                "method": method,
                "path": path,
                "authorization": headers.get("Authorization"),
                "cookie": headers.get("Cookie"),
            }
        )
        cors = {"Access-Control-Allow-Origin": self.console.origin, "Content-Type": "application/json"}
        if not self.id_token or headers.get("Authorization") != f"Bearer {self.id_token}":
            return 401, cors, json.dumps({"message": "Unauthorized"}).encode()
        if path == "/me":
            me = {
                "name": "priya",
                "departments": ["baggage"],
                "ops": False,
                "known_departments": ["baggage", "customer_care"],
            }
            return 200, cors, json.dumps(me).encode()
        if path == "/departments/baggage/queue":
            queue = {"department": "baggage", "waiting_notices": 0, "cases": [], "more": False, "next": None}
            return 200, cors, json.dumps(queue).encode()
        return 404, cors, json.dumps({"error": "not_found", "message": path}).encode()


@pytest.fixture(scope="module")
def aws() -> Iterator[StandIns]:
    stand_ins = StandIns()
    try:
        yield stand_ins
    finally:
        stand_ins.stop()


def signed_out(driver: Any, url: str) -> None:
    """A new tab (its own, empty sessionStorage) instead of whatever an earlier test left open."""
    old = driver.window_handles
    driver.switch_to.new_window("tab")
    fresh = driver.current_window_handle
    for handle in old:
        driver.switch_to.window(handle)
        driver.close()
    driver.switch_to.window(fresh)
    driver.get_log("browser")  # what an earlier test's page logged is not this test's


def storage(driver: Any, key: str) -> Any:
    return driver.execute_script("return sessionStorage.getItem(arguments[0])", key)


def test_pkce_sign_in_sends_the_id_token_in_the_authorization_header_only(aws, browser):
    driver = browser
    signed_out(driver, aws.console_url)
    driver.get(aws.console_url)
    # Given the sign-in page of a deployed console
    ready(driver, "sign-in")
    # When the person signs in (Cognito's page is the stand-in's immediate answer)
    driver.find_element(By.ID, "signin-cognito").click()
    ready(driver, "inbox")
    assert not aws.problems, aws.problems
    # Then the challenge sent first is the S256 of the verifier sent with the code, which was random
    (asked,), (traded,) = aws.authorize, aws.token
    assert b64url(hashlib.sha256(traded["code_verifier"].encode()).digest()) == asked["code_challenge"]
    assert len(traded["code_verifier"]) == 43 and traded["code_verifier"] != asked["code_challenge"]
    assert traded["_content_type"].startswith("application/x-www-form-urlencoded") and not traded["_cookie"]
    assert "client_secret" not in traded and asked["scope"] == "openid email profile"
    # And the API saw the ID token in the Authorization header on every request, and never a cookie
    assert {(c["method"], c["path"]) for c in aws.api} >= {("GET", "/me"), ("GET", "/departments/baggage/queue")}
    assert all(c["authorization"] == f"Bearer {aws.id_token}" for c in aws.api), aws.api
    assert not any(c["cookie"] for c in aws.api)
    assert driver.execute_script("return document.cookie") == ""
    assert "priya" in driver.find_element(By.ID, "who").text
    # And neither the code (in the address) nor the verifier outlive the sign-in
    assert "code=" not in driver.current_url and storage(driver, "socialcare.pkce") is None
    no_console_errors(driver)

    # Given a second sign-in: its verifier is a new one
    driver.find_element(By.ID, "sign-out").click()  # Cognito's /logout, back to the console
    ready(driver, "sign-in")
    assert storage(driver, "socialcare.session") is None
    driver.find_element(By.ID, "signin-cognito").click()
    ready(driver, "inbox")
    assert len(aws.token) == 2 and aws.token[1]["code_verifier"] != aws.token[0]["code_verifier"]
    assert not aws.problems, aws.problems
    no_console_errors(driver)


def test_a_sign_in_answer_that_does_not_match_the_request_is_refused(aws, browser):
    driver = browser
    signed_out(driver, aws.console_url)
    traded = len(aws.token)
    # When the browser arrives with a code and a state this tab never asked for (a forged link)
    driver.get(aws.console_url + "?" + urlencode({"code": "forged-code", "state": "not-the-one-we-sent"}))
    # Then the console says so, trades nothing, and stays signed out
    WebDriverWait(driver, 20).until(lambda d: "did not match" in d.find_element(By.ID, "alert").text)
    ready(driver, "sign-in")
    assert len(aws.token) == traded and storage(driver, "socialcare.session") is None
    assert "code=" not in driver.current_url
    no_console_errors(driver)
