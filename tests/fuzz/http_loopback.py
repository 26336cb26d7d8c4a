"""The agent API served over real HTTP on 127.0.0.1, the way API Gateway (HTTP API, payload 2.0)
serves it in AWS: third-party HTTP clients (schemathesis, curl, a CRM's SDK) talk to the real Lambda
handler without a deployment.

What the adapter does is what the gateway does in front of the function, no more: it matches the
routes declared for the function in template.yaml (anything else is the gateway's 404), refuses a
request without a SigV4 Authorization header with the gateway's 403 (the signature itself is not
verified: there is no IAM here), turns the request into a payload 2.0 event (lower-case headers,
repeated values joined by commas, binary bodies base64-encoded) and the function's answer back into
HTTP. A handler that raises is the gateway's 500, exactly as a crashed Lambda would be seen.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

ROOT = Path(__file__).resolve().parents[2]
# API Gateway's own answers (HTTP APIs have no gateway-response customisation): {"message": ...}.
GATEWAY_NOT_FOUND = {"message": "Not Found"}
GATEWAY_FORBIDDEN = {"message": "Forbidden"}
GATEWAY_ERROR = {"message": "Internal Server Error"}
SIGV4 = re.compile(r"AWS4-HMAC-SHA256 Credential=[^,\s]+,\s*SignedHeaders=[^,\s]+,\s*Signature=[0-9a-f]{64}")
TEXT_TYPES = re.compile(r"(text/|application/(json|[\w.+-]*\+json|xml|javascript|x-www-form-urlencoded))", re.I)
MAX_BODY = 10 * 1024 * 1024  # HTTP API payload quota


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # "/cases/{case_id}/{action}"

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        names = re.findall(r"\{(\w+)\}", self.path)
        pattern = "^" + re.sub(r"\\\{\w+\\\}", "([^/]+)", re.escape(self.path)) + "$"
        found = re.match(pattern, path)
        return dict(zip(names, (unquote(v) for v in found.groups()), strict=True)) if found else None


def template_routes(function: str = "AgentApiFunction") -> list[Route]:
    """The HttpApi events of a function in template.yaml: the routes the gateway sends to it."""
    from socialcare.local.template import load_sam

    events = load_sam(ROOT / "template.yaml")["Resources"][function]["Properties"]["Events"]
    return [
        Route(e["Properties"]["Method"].upper(), e["Properties"]["Path"])
        for e in events.values()
        if e["Type"] == "HttpApi"
    ]


@dataclass
class LambdaContext:
    function_name: str = "agent-api"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:agent-api"
    aws_request_id: str = "loopback"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


class ApiGatewayLoopback:
    """A WSGI application: HTTP request -> payload 2.0 event -> handler -> HTTP response."""

    def __init__(
        self,
        handler: Callable[[dict[str, Any], Any], Any],
        routes: list[Route],
        prepare: Callable[[dict[str, str]], None] | None = None,
    ) -> None:
        self.handler = handler
        self.routes = routes
        self.prepare = prepare  # test data for the path parameters, set up before the function runs
        self.requests = 0
        self.statuses: dict[int, int] = {}
        self.crashes: list[str] = []
        self.handler_seconds = 0.0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.requests += 1
        status, headers, body = self._answer(environ)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Unknown"
        start_response(f"{status} {reason}", [*headers.items(), ("Content-Length", str(len(body)))])
        return [body]

    def _answer(self, environ: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        method = environ["REQUEST_METHOD"].upper()
        raw_path = environ.get("PATH_INFO", "") or "/"
        # WSGI decodes the path as latin-1; the gateway sees the bytes the client sent
        path = raw_path.encode("latin-1").decode("utf-8", "replace")
        headers = _headers(environ)
        found = next(((r, p) for r in self.routes if (p := r.match(method, path)) is not None), None)
        if found is None:
            return _json(404, GATEWAY_NOT_FOUND)
        if not SIGV4.fullmatch(headers.get("authorization", "")):
            return _json(403, GATEWAY_FORBIDDEN)
        route, params = found
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY:
            return _json(413, {"message": "Request Entity Too Large"})
        raw = environ["wsgi.input"].read(length) if length else b""
        event = _event(method, path, route, params, headers, environ.get("QUERY_STRING", ""), raw)
        if self.prepare:
            self.prepare(params)
        started = time.perf_counter()
        try:
            result = self.handler(event, LambdaContext())
        except Exception as exc:  # noqa: BLE001 - a crashed function is the gateway's 500, and a finding
            self.crashes.append(f"{method} {path}: {type(exc).__name__}: {exc}"[:500])
            return _json(500, GATEWAY_ERROR)
        finally:
            self.handler_seconds += time.perf_counter() - started
        return _response(result)


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            found[key[5:].replace("_", "-").lower()] = value
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            found[key.replace("_", "-").lower()] = environ[key]
    return found


def _event(
    method: str, path: str, route: Route, params: dict[str, str], headers: dict[str, str], query: str, raw: bytes
) -> dict[str, Any]:
    text_body = TEXT_TYPES.match(headers.get("content-type", "")) is not None
    try:
        body, is_b64 = (raw.decode("utf-8"), False) if text_body else (None, True)
    except UnicodeDecodeError:
        body, is_b64 = None, True
    if is_b64:
        body = base64.b64encode(raw).decode("ascii")
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "pathParameters": params,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "loopback",
            "authorizer": {"iam": {"accountId": "123456789012", "userArn": "arn:aws:iam::123456789012:user/crm"}},
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": "loopback",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": f"loopback-{int(now * 1000)}",
            "routeKey": route.key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": is_b64,
    }
    if query:
        # Decoded, repeated names joined by commas, as payload 2.0 gives them (rawQueryString stays raw)
        params: dict[str, str] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            params[name] = f"{params[name]},{value}" if name in params else value
        event["queryStringParameters"] = params
    if raw:
        event["body"] = body
    return event


def _response(result: Any) -> tuple[int, dict[str, str], bytes]:
    if not isinstance(result, dict) or "statusCode" not in result:
        # payload 2.0 reads any other return value as a 200 JSON body
        return 200, {"Content-Type": "application/json"}, json.dumps(result).encode()
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
    for k, values in (result.get("multiValueHeaders") or {}).items():
        headers[k] = ", ".join(str(v) for v in values)
    return int(result["statusCode"]), headers, data


def _json(status: int, doc: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(doc).encode()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        return None


@contextmanager
def serve(app: ApiGatewayLoopback) -> Iterator[str]:
    """Serve the adapter on an ephemeral 127.0.0.1 port for the duration of the block; yields the base URL."""
    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
