"""The web console on loopback: its static files, a local sign-in, and the agent/ops API behind it.

In AWS, CloudFront serves the files and API Gateway checks a Cognito token before the agent and ops
functions see a request. Here one small HTTP server does both jobs: it signs a person in (an agent
name, departments, ops or not; no Cognito), and turns each /api/ request into the API Gateway
event those functions receive in AWS, with the person's claims where the JWT authorizer puts them.
The functions' handlers then apply the same authorisation rules as in AWS (socialcare.agents.auth).

The token travels in the Authorization header, never in a cookie, so another site cannot make the
browser send it (no CSRF by construction). Requests naming another Host are refused, so a web page
cannot reach this server by pointing a DNS name at 127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import mimetypes
import re
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from socialcare.settings import project_root

# No inline script or style anywhere; the API is same-origin here (CloudFront + API Gateway in AWS).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,39}$")
TOKEN_TTL_S = 12 * 3600


def console_dir() -> Path:
    return project_root() / "console"


class Sessions:
    """HMAC-signed tokens carrying the claims a Cognito ID token would carry; the key lives in memory."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def issue(self, agent: str, groups: list[str]) -> str:
        claims = {"cognito:username": agent, "cognito:groups": groups, "exp": int(time.time()) + TOKEN_TTL_S}
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        return f"{body}.{self._sign(body)}"

    def claims(self, token: str) -> dict[str, Any] | None:
        body, _, sig = token.partition(".")
        if not body or not hmac.compare_digest(sig, self._sign(body)):
            return None
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return claims if claims.get("exp", 0) > time.time() else None

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()


def api_event(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes, claims: dict[str, Any]
) -> dict[str, Any]:
    """The HTTP API payload 2.0 event for one request, as API Gateway delivers it after its JWT authorizer
    (array claims arrive as the string "[a b]", which is what the authorizer does with cognito:groups)."""
    jwt_claims = {k: ("[" + " ".join(v) + "]" if isinstance(v, list) else v) for k, v in claims.items()}
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "queryStringParameters": dict(parse_qsl(query)) or None,
        "headers": {k.lower(): v for k, v in headers.items() if k.lower() != "authorization"},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": uuid.uuid4().hex,
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "authorizer": {"jwt": {"claims": jwt_claims, "scopes": None}},
        },
        "body": body.decode("utf-8") if body else None,
        "isBase64Encoded": False,
    }


class ConsoleServer:
    """Serves the console at http://127.0.0.1:PORT/ and calls the stack's API functions in-process."""

    def __init__(self, stack: Any, departments: list[str], port: int = 0, root: Path | None = None) -> None:
        self.stack = stack
        self.departments = departments
        self.root = root or console_dir()
        self.sessions = Sessions()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._fn: Any = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> ConsoleServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True, name="local-console")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _function(self) -> Any:
        """The console API function, its settings (dead-letter queue URLs, ...) added to this process's
        environment once: calls do not take the adapter's lock, because an action may wait for the case
        workflow, whose own Lambda tasks need that lock."""
        if self._fn is None:
            import os

            from socialcare.assembly import reset_deps
            from socialcare.settings import get_settings

            fn = self.stack.functions["ConsoleApiFunction"]
            for key, value in fn.environment.items():
                os.environ.setdefault(key, value)
            get_settings.cache_clear()
            reset_deps()
            self._fn = fn
        return self._fn

    def call_api(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes, claims: dict[str, Any]
    ) -> dict[str, Any]:
        from socialcare.local.lambda_adapter import LambdaContext

        fn = self._function()
        return fn.entry()(api_event(method, path, query, headers, body, claims), LambdaContext(fn.name))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # the terminal belongs to `local up`
                pass

            def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for k, v in {**SECURITY_HEADERS, **(extra or {})}.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, value: Any) -> None:
                self._send(status, json.dumps(value).encode(), "application/json", {"Cache-Control": "no-store"})

            def _host_ok(self) -> bool:
                host = self.headers.get("Host", "")
                return host in {f"127.0.0.1:{server.port}", f"localhost:{server.port}"}

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(min(length, 64 * 1024)) if length else b""

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self._route("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._route("POST")

            def _route(self, method: str) -> None:
                if not self._host_ok():
                    self._json(421, {"error": "invalid", "message": "unknown host"})
                    return
                parts = urlsplit(self.path)
                path = parts.path
                body = self._body() if method == "POST" else b""
                if path.startswith("/api/"):
                    self._api(method, path[4:], parts.query, body)
                elif path == "/local/sign-in" and method == "POST":
                    self._sign_in(body)
                elif path == "/config.json":
                    self._json(200, {"mode": "local", "api": "/api", "departments": server.departments})
                elif method == "GET":
                    self._static(path)
                else:
                    self._json(405, {"error": "invalid", "message": "method not allowed"})

            def _sign_in(self, body: bytes) -> None:
                try:
                    data = json.loads(body or b"{}")
                    agent = str(data.get("agent", ""))
                    departments = [str(d) for d in data.get("departments", [])]
                    ops = bool(data.get("ops", False))
                except (ValueError, AttributeError, TypeError):
                    self._json(400, {"error": "invalid", "message": "the sign-in body is not JSON"})
                    return
                if not NAME.match(agent):
                    self._json(400, {"error": "invalid", "message": "a name: letters, digits, . _ -, up to 40"})
                    return
                unknown = sorted(set(departments) - set(server.departments))
                if unknown:
                    self._json(400, {"error": "invalid", "message": f"unknown departments: {', '.join(unknown)}"})
                    return
                if not departments and not ops:
                    self._json(400, {"error": "invalid", "message": "pick at least one department or ops"})
                    return
                groups = sorted(set(departments)) + (["ops"] if ops else [])
                self._json(200, {"token": server.sessions.issue(agent, groups), "agent": agent, "groups": groups})

            def _api(self, method: str, path: str, query: str, body: bytes) -> None:
                auth = self.headers.get("Authorization", "")
                token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
                claims = server.sessions.claims(token) if token else None
                if claims is None:
                    # What API Gateway's JWT authorizer answers without a valid token.
                    self._json(401, {"message": "Unauthorized"})
                    return
                try:
                    result = server.call_api(method, path, query, dict(self.headers.items()), body, claims)
                except Exception as exc:  # noqa: BLE001 - a Lambda error is API Gateway's 500, as in AWS
                    self._json(500, {"message": "Internal Server Error", "error": type(exc).__name__})
                    return
                raw = result.get("body") or ""
                data = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
                headers = {k: v for k, v in (result.get("headers") or {}).items() if k.lower() != "content-type"}
                content_type = (result.get("headers") or {}).get("Content-Type", "application/json")
                self._send(
                    int(result.get("statusCode", 200)), data, content_type, {**headers, "Cache-Control": "no-store"}
                )

            def _static(self, path: str) -> None:
                rel = "index.html" if path in {"", "/"} else path.lstrip("/")
                target = (server.root / rel).resolve()
                if server.root.resolve() not in target.parents or not target.is_file():
                    self._json(404, {"error": "not_found", "message": "no such file"})
                    return
                ctype = {
                    ".js": "text/javascript",
                    ".mjs": "text/javascript",
                    ".css": "text/css",
                    ".html": "text/html",
                }.get(target.suffix) or mimetypes.guess_type(target.name)[0]
                self._send(
                    200,
                    target.read_bytes(),
                    f"{ctype or 'application/octet-stream'}; charset=utf-8"
                    if (ctype or "").startswith("text")
                    else ctype or "application/octet-stream",
                    {"Cache-Control": "no-cache"},
                )

        return Handler
