"""Hostile API Gateway HTTP API (payload 2.0) events for the agent API: random methods and paths,
path-like and oversized case ids, request bodies with wrong types, extra or missing fields, markup,
deep nesting, megabyte sizes, invalid UTF-8 and base64, odd headers and missing IAM identities.

A drawn case id of SEEDED stands for the case the harness has just stored, so some inputs reach a
real case and go all the way through the action logic.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import strategies as st

from tests.fuzz import strategies as s

SEEDED = "<seeded>"
IAM = {"iam": {"userArn": "arn:aws:iam::123456789012:user/crm", "userId": "crm", "accountId": "123456789012"}}

# Ids that must never become anything but a 4xx: traversal, separators, encodings, NUL, sizes, unicode.
PATH_LIKE_IDS = [
    "..",
    "../SC-AAAAAAAA",
    "SC-AAAAAAAA/..",
    "..%2fSC-AAAAAAAA",
    "%2e%2e",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "SC-AAAAAAAA%00",
    "SC-AAAAAAAA\x00",
    "\x00",
    "SC-AAAAAAA/",
    "SC-AAAA/AAA",
    "/",
    "//",
    "SC-AAAAAAAA\\..\\x",
    "SC-ＡＡＡＡＡＡＡＡ",
    "SC-AAAAAAA\u0130",
    "SC-aaaaaaaa",
    "sc-AAAAAAAA",
    "SC-AAAAAAAA\n",
    "SC-AAAAAAAA#SK",
    "CASE#SC-AAAAAAAA",
    "SC-" + "A" * 5_000,
    "A" * 100_000,
    "SC-AAAAAAAA?x=1",
    "SC-AAAAAAAA;x",
    " SC-AAAAAAAA",
]
PATH_LIKE_DEPARTMENTS = ["..", "../baggage", "baggage/..", "%2e%2e", "baggage\x00", "Baggage", "b" * 41, "a" * 50_000]

ACTIONS = ["claim", "reply", "handoff", "transfer", "wait-customer", "resolve", "reopen"]

VALID_BODIES: dict[str, dict[str, Any]] = {
    "claim": {"agent": "maria", "department": "baggage", "request_id": "r-1", "force": False},
    "reply": {"agent": "maria", "text": "Sorry about your bag - I'm on it."},
    "handoff": {"agent": "maria", "to": "email", "text": "Could you send the file reference?"},
    "transfer": {"agent": "maria", "to": "reservations", "note": "refund request"},
    "wait-customer": {"agent": "li"},
    "resolve": {"agent": "li", "note": "bag delivered"},
    "reopen": {"agent": "li", "reason": "customer wrote again"},
}
BODY_PATHS: dict[str, list[tuple[str, ...]]] = {
    action: [(k,) for k in body] + [("department",), ("request_id",), ("extra",), ("agent", "nested")]
    for action, body in VALID_BODIES.items()
}

CASE_IDS = st.one_of(
    st.just(SEEDED),
    st.just(SEEDED),
    st.from_regex(r"\ASC-[A-Z0-9]{8}\Z"),
    st.sampled_from(PATH_LIKE_IDS),
    s.TEXT,
    st.text(alphabet="SC-AZ09./%\\\x00", max_size=14),
)
DEPARTMENTS = st.one_of(
    st.sampled_from(["baggage", "operations", "nowhere", "customer_care"]),
    st.sampled_from(PATH_LIKE_DEPARTMENTS),
    s.TEXT,
)
METHODS = st.one_of(
    st.sampled_from(["GET", "POST"]),
    st.sampled_from(["PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "get", "", "P\x00ST"]),
)


def _path_text(value: str) -> str:
    # What API Gateway can hand over: a path is text; lone surrogates cannot arrive.
    return value.encode("utf-8", errors="replace").decode("utf-8")


@st.composite
def paths(draw: st.DrawFn) -> tuple[str, str | None]:
    """A request path and the action it names (None for reads and random paths)."""
    kind = draw(st.sampled_from(["case", "action", "action", "action", "queue", "random"]))
    if kind == "case":
        return f"/cases/{_path_text(draw(CASE_IDS))}", None
    if kind == "action":
        action = draw(st.sampled_from([*ACTIONS, "delete", "Claim", ""]))
        return f"/cases/{_path_text(draw(CASE_IDS))}/{action}", action
    if kind == "queue":
        suffix = draw(st.sampled_from(["/queue", "/queue/", "", "/queue/../queue"]))
        return f"/departments/{_path_text(draw(DEPARTMENTS))}{suffix}", None
    return draw(
        st.one_of(
            st.sampled_from(
                ["/", "", "//cases", "/cases", "/cases/", "/openapi.json", "/swagger", "/../../etc/passwd"]
            ),
            s.TEXT.map(lambda t: "/" + _path_text(t)),
        )
    ), None


def _mutated_body(action: str | None) -> st.SearchStrategy[Any]:
    base = VALID_BODIES.get(action or "", VALID_BODIES["claim"])
    paths_ = BODY_PATHS.get(action or "", BODY_PATHS["claim"])
    return st.one_of(
        st.just(base),
        s.mutated(base, paths_),
        st.builds(lambda text: {**base, "text": text, "note": text, "reason": text}, s.HOSTILE_TEXT),
        s.JSON,
    )


@st.composite
def bodies(draw: st.DrawFn, action: str | None) -> tuple[str | None, bool]:
    """The event's body and isBase64Encoded, in every shape a client (or an attacker) can send."""
    kind = draw(
        st.sampled_from(
            ["json"] * 6 + ["json-b64", "none", "text", "bytes-b64", "bad-b64", "nested", "oversized", "wrong-flag"]
        )
    )
    if kind in {"json", "json-b64"}:
        doc = json.dumps(draw(_mutated_body(action)), ensure_ascii=draw(st.booleans()))
        doc = doc.encode("utf-8", errors="surrogatepass").decode("utf-8", errors="replace")
        if kind == "json-b64":
            return base64.b64encode(doc.encode("utf-8")).decode("ascii"), True
        return doc, False
    if kind == "none":
        return None, draw(st.booleans())
    if kind == "text":
        return _path_text(draw(s.TEXT)), False
    if kind == "bytes-b64":
        # Invalid UTF-8 (and UTF-16, and JSON in another encoding) the only way API Gateway delivers it.
        raw = draw(
            st.one_of(
                st.binary(max_size=300),
                st.just(b'{"agent": "\xff\xfe"}'),
                st.just(b"\xc3\x28\xa0\xa1"),
                st.just(json.dumps(VALID_BODIES["reply"]).encode("utf-16")),
                st.just(json.dumps(VALID_BODIES["reply"]).encode("utf-32")),
            )
        )
        return base64.b64encode(raw).decode("ascii"), True
    if kind == "bad-b64":
        return draw(st.sampled_from(["!!!", "abc", "====", "e30", "\u00e9\u00e9", "{}"])), True
    if kind == "nested":
        depth = draw(st.sampled_from([100, 1_000, 10_000, 100_000]))
        return s.deeply_nested(depth), False
    if kind == "oversized":
        size = draw(st.integers(min_value=1, max_value=3)) * 1_000_000
        base = VALID_BODIES.get(action or "", VALID_BODIES["claim"])
        field = draw(st.sampled_from(["text", "agent", "note", "request_id", "junk"]))
        return json.dumps({**base, field: "x" * size}), False
    # JSON marked as base64, base64 not marked
    doc = json.dumps(VALID_BODIES.get(action or "", VALID_BODIES["claim"]))
    return (doc, True) if draw(st.booleans()) else (base64.b64encode(doc.encode()).decode(), False)


HEADER_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
HEADERS = st.one_of(
    st.just({"content-type": "application/json"}),
    st.none(),
    st.just({}),
    st.fixed_dictionaries(
        {},
        optional={
            "content-type": st.sampled_from(
                [
                    "application/json",
                    "text/html",
                    "application/x-www-form-urlencoded",
                    "",
                    "application/json; charset=utf-16",
                ]
            )
            | HEADER_TEXT,
            "idempotency-key": st.one_of(
                HEADER_TEXT,
                st.sampled_from(["", "../../x", "\x00"]),
                st.integers(min_value=129, max_value=20_000).map(lambda n: "k" * n),
            ),
            "Idempotency-Key": HEADER_TEXT,
            "content-length": st.sampled_from(["-1", "0", "999999999999", "x"]),
            "x-forwarded-for": HEADER_TEXT,
            "cookie": HEADER_TEXT,
        },
    ),
)
AUTHORIZERS = st.sampled_from(
    [
        IAM,
        "absent",
        None,
        {},
        {"iam": None},
        {"iam": {}},
        {"iam": {"userArn": None}},
        {"jwt": {"claims": {"sub": "x"}, "scopes": None}},
        {"lambda": {"anything": 1}},
    ]
)


def http_event(
    method: str,
    path: str,
    body: str | None = None,
    *,
    is_base64: bool = False,
    headers: dict[str, str] | None | str = "default",
    authorizer: Any = IAM,
    query: str = "",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event as the IAM-authorised agent API receives it."""
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "api",
        "domainName": "api.local",
        "domainPrefix": "api",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "fuzz"},
        "requestId": "fuzz",
        "routeKey": "$default",
        "stage": "$default",
        "time": "22/Nov/2026:11:00:00 +0000",
        "timeEpoch": 0,
    }
    if authorizer != "absent":
        context["authorizer"] = authorizer
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "requestContext": context,
        "isBase64Encoded": is_base64,
    }
    if headers == "default":
        headers = {"content-type": "application/json"}
    if headers is not None:
        event["headers"] = headers
    if body is not None:
        event["body"] = body
    return event


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    """One hostile (or, now and then, valid) agent API request."""
    path, action = draw(paths())
    method = "POST" if action is not None and draw(st.integers(0, 4)) else draw(METHODS)
    body, is_base64 = draw(bodies(action)) if method != "GET" or draw(st.booleans()) else (None, False)
    return http_event(
        method,
        path,
        body,
        is_base64=is_base64,
        headers=draw(HEADERS),
        authorizer=draw(AUTHORIZERS),
        query=draw(st.sampled_from(["", "x=1", "limit=-1", "case_id=../x", "%zz"])),
    )
