"""The HTTP API for ticketing and CRM tools: the same actions as the CLI and the SDK.

Built on the Powertools APIGatewayHttpResolver with pydantic request and response models; the
OpenAPI document (docs/openapi.json) is generated from this module by `openapi_document()`.
Errors: 400 invalid request, 403 a console user outside the case's department, 404 no such case,
409 refused by the case's state or changed since the caller read it (nothing changed), 415 a body that
is not JSON, 422 a request that does not fit the schema, 503 busy: the case kept changing under the
request, the table stayed busy, a message the request sends has an earlier attempt still unsettled, or
the action is recorded but the waiting case workflow could not be resumed (Step Functions throttled or
failing); retry the same request_id: nothing is done twice, and the retry hands the action over.
Every error, ours and API Gateway's own (401/403/429/500), has one shape: a JSON object with a
`message`. Every action is idempotent on request_id (or the Idempotency-Key header) and recorded with
the agent's name.
"""

from __future__ import annotations

import binascii
import json
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFoundError
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, Field

from socialcare.agents.auth import ForbiddenError, Principal, principal_from_event
from socialcare.agents.views import ActionOutcome, CaseView, QueueFilter, QueueView, WhoAmI
from socialcare.cases.actions import ActionError, BusyError, NotAllowedError
from socialcare.config import ConfigError
from socialcare.observability import logger
from socialcare.store import NotFoundError, StoreBusyError

TITLE = "socialcare agent API"
VERSION = "1.0.0"
MAX_REQUEST_ID = 128


def _json_body(text: str) -> Any:
    """json.loads, with a document nested past the recursion limit refused like any invalid JSON (422)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text[:100], 0) from None


app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=_json_body)

CaseId = Annotated[str, Path(pattern=r"^SC-[A-Z0-9]{8}$", description="the case reference")]
DeptName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class ActionRequest(BaseModel):
    agent: str = Field(min_length=1, max_length=80, description="who acts; recorded on the case")
    department: str | None = Field(
        default=None, max_length=40, description="act as this department: refused for cases in another queue"
    )
    request_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_REQUEST_ID,
        description="idempotency key; the same id twice has one effect",
    )
    if_state: str | None = Field(
        default=None,
        max_length=32,
        description="the case's state_tag the caller read: refused (409) if someone has since changed its "
        "status, owner or department",
    )


class ClaimRequest(ActionRequest):
    # strict: JSON true/false only (lax mode would read 0, 0.0 or "yes" as a boolean the schema refuses)
    force: bool = Field(default=False, strict=True, description="take the case over from its current owner")


class ReplyRequest(ActionRequest):
    text: str = Field(min_length=1, max_length=4000)


class HandoffRequest(ActionRequest):
    to: Literal["dm", "email"]
    text: str = Field(min_length=1, max_length=4000, description="the private message")


class TransferRequest(ActionRequest):
    to: str = Field(min_length=1, max_length=40, description="the receiving department")
    note: str = Field(min_length=1, max_length=2000)


class LabelRequest(ActionRequest):
    actionable: bool = Field(description="the person's verdict on the classifier's actionable tag")


class ResolveRequest(ActionRequest):
    note: str = Field(min_length=1, max_length=2000)


class ReopenRequest(ActionRequest):
    reason: str = Field(default="reopened by an agent", max_length=2000)


class FieldError(BaseModel):
    """One reason a request was refused as invalid (422): where, why, and a stable machine-readable type."""

    loc: list[str | int] = Field(description='where: e.g. ["body", "agent"] or ["path", "case_id"]')
    msg: str = Field(description="why, for a person")
    type: str = Field(description="why, for a program: e.g. missing, string_too_long, json_invalid")


class ErrorBody(BaseModel):
    """Every error answered, by the function or by API Gateway in front of it."""

    message: str = Field(description="the reason, for a person")
    error: Literal["invalid", "not_found", "refused", "busy", "forbidden", "unsupported_media_type"] | None = Field(
        default=None,
        description="the kind of error, for a program; present on every error the API answers, absent only "
        'from API Gateway\'s own answers (401/403/429/500), whose body is {"message": ...}',
    )
    detail: list[FieldError] | None = Field(default=None, description="422 only: every field that did not fit")


_DEPS: list[Any] = []


def set_deps(deps: Any) -> None:
    """Tests and the local stack inject their Deps; Lambda builds them from its environment."""
    _DEPS[:] = [deps]


def _deps() -> Any:
    from socialcare.cases.deps import provided

    return _DEPS[0] if _DEPS else provided()


def _principal() -> Principal:
    return principal_from_event(app.current_event.raw_event)


def _client(body: ActionRequest | None = None, case_id: str | None = None) -> Any:
    from socialcare.agents.sdk import AgentClient

    deps = _deps()
    if body is None:
        return AgentClient(deps, "api")
    who = _principal()
    if who.person:
        # A console user acts as themselves, for a department they belong to, on the case they saw.
        if body.agent != who.name:
            raise ForbiddenError(f"signed in as {who.name}, not {body.agent}")
        case = deps.store.get_case(case_id)
        who.require_department(body.department or case.department)
        body.department = body.department or case.department
    if body.if_state is not None:
        _check_state(deps, case_id, body)
    # The signed caller (an IAM principal, e.g. the CRM's role) is logged beside the agent it acts for.
    iam = (app.current_event.raw_event.get("requestContext", {}).get("authorizer") or {}).get("iam") or {}
    logger.info(
        "agent api action",
        agent=body.agent,
        department=body.department,
        principal=iam.get("userArn"),
        route=app.current_event.raw_event.get("routeKey"),
    )
    return AgentClient(deps, body.agent, department=body.department)


def _check_state(deps: Any, case_id: str, body: ActionRequest) -> None:
    """Two people on one case: the second sees a conflict instead of silently acting on a state it never
    saw. A retry of a request that already took effect is a replay, not a conflict. The workflow's own
    bookkeeping (a new task token) changes the case's version, not its state tag."""
    from socialcare.agents.sdk import state_tag

    rid = _request_id(body)
    if rid and deps.store.get({"PK": {"S": f"CASE#{case_id}"}, "SK": {"S": f"ACTION#{rid}"}}) is not None:
        return
    case = deps.store.get_case(case_id)
    if state_tag(case) != body.if_state:
        raise NotAllowedError(
            f"case {case_id} changed since you read it (now {case.status}, owner {case.owner or 'nobody'}); "
            "reload it and decide again"
        )


def _request_id(body: ActionRequest) -> str | None:
    header = app.current_event.headers.get("idempotency-key")
    if not body.request_id and header and len(header) > MAX_REQUEST_ID:
        # It becomes part of a DynamoDB key: held to the same bound as the request_id field.
        raise ActionError(f"the Idempotency-Key header is longer than {MAX_REQUEST_ID} characters")
    return body.request_id or header


def _outcome(result: Any) -> ActionOutcome:
    return ActionOutcome(
        case_id=result.case_id,
        action=result.action,
        status=result.status,
        replayed=result.replayed,
        detail=result.detail,
    )


def _error(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None, detail: list[FieldError] | None = None
) -> Response:
    body = ErrorBody(error=kind, message=message, detail=detail)  # type: ignore[arg-type]
    return Response(
        status_code=status,
        content_type="application/json",
        body=body.model_dump_json(exclude_none=True),
        headers=headers,
    )


def _ok(model: type[BaseModel], description: str = "Done") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": model}}}


def _err(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


# Answered by API Gateway before (or instead of) the function: IAM authorisation refuses unsigned,
# badly signed or unpermitted requests with 403; the console's JWT authoriser answers 401 to a request
# without a valid token; 429 is the route throttle; 500 a function that failed.
_GATEWAY_ERRORS = {
    401: _err('API Gateway (console, JWT): no valid token; body {"message": "Unauthorized"}'),
    429: _err("API Gateway: the route's throttle; retry later"),
    500: _err('API Gateway: the function failed; body {"message": "Internal Server Error"}'),
}

_ERRORS = {
    400: _err("The request does not fit the case (e.g. unknown department); nothing changed"),
    403: _err(
        "Refused: by API Gateway (IAM: unsigned, badly signed, or execute-api:Invoke not granted; body "
        '{"message": ...}), or a console user outside this department or the ops group (error '
        '"forbidden"); nothing changed'
    ),
    404: _err("No such case or department"),
    409: _err("Refused by the case's state; nothing changed"),
    422: _err("The request does not fit the schema: `detail` names every field"),
    503: _err(
        "Busy, not refused: the case kept changing under the request, the table stayed busy (throttled), or a "
        "message the request sends has an earlier attempt not settled yet, or the action is recorded but the waiting "
        "case workflow could not be resumed (Step Functions throttled or failing). Retry with the same request_id "
        "after Retry-After: what was already done (a message sent) is not done twice, and the retry hands the "
        "action to the workflow"
    ),
    **_GATEWAY_ERRORS,
}


_ACTION_RESPONSES = {
    200: _ok(ActionOutcome, "Done (or already done by this request_id: replayed=true)"),
    **_ERRORS,
    415: _err("The body is not JSON (Content-Type other than application/json); nothing changed"),
}
JSON_TYPES = ("", "application/json")  # no Content-Type at all is read as JSON, as the resolver does


@app.exception_handler([BusyError, StoreBusyError])
def _busy(exc: Exception) -> Response:
    # The workflow is never waited for: busy means contention on the case or the table, an unsettled send,
    # or a committed action whose resume Step Functions refused for now (the retry resends it).
    return _error(503, "busy", str(exc), {"Retry-After": "1"})


@app.exception_handler(NotAllowedError)
def _refused(exc: NotAllowedError) -> Response:
    return _error(409, "refused", f"{exc} (nothing changed)")


@app.exception_handler(ActionError)
def _invalid(exc: ActionError) -> Response:
    return _error(400, "invalid", f"{exc} (nothing changed)")


@app.exception_handler([UnicodeDecodeError, binascii.Error])
def _unreadable(exc: Exception) -> Response:
    # A base64 body that is not base64, or bytes that are not UTF-8: the resolver decodes before validating.
    return _error(400, "invalid", "the request body is not base64-encoded UTF-8 JSON")


@app.exception_handler(ForbiddenError)
def _forbidden(exc: ForbiddenError) -> Response:
    return _error(403, "forbidden", str(exc))


@app.exception_handler([NotFoundError, ConfigError])
def _not_found(exc: Exception) -> Response:
    return _error(404, "not_found", str(exc))


@app.not_found
def _no_route(exc: RouteNotFoundError) -> Response:
    # A path the gateway routes here (/cases/{case_id}/{action}) that names no action, or an id the
    # resolver's route pattern cannot hold.
    event = app.current_event
    return _error(404, "not_found", f"no such resource: {event.http_method} {event.path[:200]}")


@app.exception_handler(ServiceError)
def _service_error(exc: ServiceError) -> Response:
    kind = {404: "not_found", 415: "unsupported_media_type", 503: "busy"}.get(exc.status_code, "invalid")
    return _error(exc.status_code, kind, exc.msg)


@app.exception_handler(RequestValidationError)
def _unfit(exc: RequestValidationError) -> Response:
    detail = [FieldError(loc=list(e["loc"]), msg=str(e.get("msg", "")), type=str(e["type"])) for e in exc.errors()]
    first = detail[0] if detail else FieldError(loc=["body"], msg="invalid request", type="invalid")
    where = ".".join(str(part) for part in first.loc)
    more = f" (and {len(detail) - 1} more)" if len(detail) > 1 else ""
    return _error(422, "invalid", f"{where}: {first.msg}{more}", detail=detail)


@app.get(
    "/departments/<department>/queue",
    summary="The department's open cases by SLA due time",
    tags=["queue"],
    responses={200: _ok(QueueView, "The queue"), **_ERRORS},
)
def get_queue(
    department: DeptName,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many cases, nearest due first")] = 100,
    owner: Annotated[str | None, Query(max_length=80, description="only cases this agent owns")] = None,
    unclaimed: Annotated[bool, Query(description="only cases nobody owns")] = False,
    status: Annotated[
        Literal["open", "claimed", "waiting_customer"] | None, Query(description="only cases in this status")
    ] = None,
    breached: Annotated[bool, Query(description="only cases past a deadline")] = False,
    incident: Annotated[bool, Query(description="only cases linked to an incident")] = False,
    channel: Annotated[str | None, Query(max_length=40, description="only cases from this platform")] = None,
    language: Annotated[str | None, Query(max_length=20, description="only cases in this language")] = None,
    after: Annotated[
        str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$", description="the `next` of the page before")
    ] = None,
) -> QueueView:
    if not _principal().may_see(department):
        raise ForbiddenError(f"not in the {department} department")
    filters = QueueFilter(
        owner=owner,
        unclaimed=unclaimed,
        status=status,
        breached=breached,
        incident=incident,
        platform=channel,
        language=language,
    )
    return _client().work_queue(department, limit=limit, filters=filters, after=after)


@app.get(
    "/me",
    summary="Who the caller is: name, departments and whether they are in the ops group",
    tags=["queue"],
    responses={200: _ok(WhoAmI, "The caller"), 403: _ERRORS[403], **_GATEWAY_ERRORS},
)
def whoami() -> WhoAmI:
    who = _principal()
    known = list(_deps().config.department_names)
    return WhoAmI(
        name=who.name,
        departments=[d for d in known if d in who.departments] if who.person else known,
        ops=who.ops,
        known_departments=known,
    )


@app.get(
    "/cases/<case_id>",
    summary="Conversation, tags, clocks, owner, earlier cases, suggested replies",
    tags=["cases"],
    responses={200: _ok(CaseView, "The case"), **_ERRORS},
)
def get_case(case_id: CaseId) -> CaseView:
    view = _client().show(case_id)
    if not _principal().may_see(view.department):
        raise ForbiddenError(f"case {case_id} is in the {view.department} queue")
    return view


@app.post("/cases/<case_id>/claim", summary="Own the case", tags=["actions"], responses=_ACTION_RESPONSES)
def claim(case_id: CaseId, body: ClaimRequest) -> ActionOutcome:
    return _outcome(_client(body, case_id).claim(case_id, force=body.force, request_id=_request_id(body)))


@app.post(
    "/cases/<case_id>/reply",
    summary="Answer publicly: published with write credentials, else a draft",
    tags=["actions"],
    responses=_ACTION_RESPONSES,
)
def reply(case_id: CaseId, body: ReplyRequest) -> ActionOutcome:
    return _outcome(_client(body, case_id).reply(case_id, body.text, request_id=_request_id(body)))


@app.post(
    "/cases/<case_id>/handoff",
    summary="Move to DM or email with the case reference and the owner's name",
    tags=["actions"],
    responses=_ACTION_RESPONSES,
)
def handoff(case_id: CaseId, body: HandoffRequest) -> ActionOutcome:
    return _outcome(_client(body, case_id).handoff(case_id, body.to, body.text, request_id=_request_id(body)))


@app.post(
    "/cases/<case_id>/transfer",
    summary="Move the case and its history to another department",
    tags=["actions"],
    responses=_ACTION_RESPONSES,
)
def transfer(case_id: CaseId, body: TransferRequest) -> ActionOutcome:
    return _outcome(_client(body, case_id).transfer(case_id, body.to, body.note, request_id=_request_id(body)))


@app.post(
    "/cases/<case_id>/wait-customer",
    summary="Pause the next-update clock until the customer writes",
    tags=["actions"],
    responses=_ACTION_RESPONSES,
)
def wait_customer(case_id: CaseId, body: ActionRequest) -> ActionOutcome:
    return _outcome(_client(body, case_id).wait_customer(case_id, request_id=_request_id(body)))


@app.post(
    "/cases/<case_id>/label",
    summary="Mark the case actionable or not actionable (kept as a label; the clock is unchanged)",
    tags=["actions"],
    responses=_ACTION_RESPONSES,
)
def label(case_id: CaseId, body: LabelRequest) -> ActionOutcome:
    return _outcome(_client(body, case_id).label(case_id, body.actionable, request_id=_request_id(body)))


@app.post("/cases/<case_id>/resolve", summary="Close the case", tags=["actions"], responses=_ACTION_RESPONSES)
def resolve(case_id: CaseId, body: ResolveRequest) -> ActionOutcome:
    return _outcome(_client(body, case_id).resolve(case_id, body.note, request_id=_request_id(body)))


@app.post("/cases/<case_id>/reopen", summary="Reopen a resolved case", tags=["actions"], responses=_ACTION_RESPONSES)
def reopen(case_id: CaseId, body: ReopenRequest) -> ActionOutcome:
    return _outcome(_client(body, case_id).reopen(case_id, body.reason, request_id=_request_id(body)))


def handle_request(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: refuses a body that is not JSON before the resolver tries to read it.

    The resolver would parse form and multipart bodies too (and fail with a 500 on a multipart
    Content-Type without a boundary); this API takes JSON only, as its OpenAPI document says.
    """
    request = event if isinstance(event, dict) else {}
    headers = {str(k).lower(): v for k, v in (request.get("headers") or {}).items()}
    media_type = str(headers.get("content-type", "")).split(";", 1)[0].strip().lower()
    method = str(((request.get("requestContext") or {}).get("http") or {}).get("method", ""))
    if method.upper() == "POST" and media_type not in JSON_TYPES:
        refusal = _error(415, "unsupported_media_type", f"the body must be application/json, not {media_type[:100]}")
        return {"statusCode": 415, "headers": {"Content-Type": "application/json"}, "body": refusal.body}
    return app.resolve(event, context)


def openapi_document() -> dict[str, Any]:
    """The committed docs/openapi.json: generated from the routes and models above."""
    doc = json.loads(
        app.get_openapi_json_schema(title=TITLE, version=VERSION, description=__doc__.strip().splitlines()[0])
    )
    # The resolver documents its own 422 body ({"detail": [...]}, whose items it declares with a `msg` it
    # never sends); this API answers 422 in the one error shape, ErrorBody, so the document says that.
    for path in doc["paths"].values():
        for operation in path.values():
            operation["responses"]["422"] = {
                "description": _ERRORS[422]["description"],
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
            }
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        doc["components"]["schemas"].pop(name, None)
    doc["components"].setdefault("securitySchemes", {})["sigv4"] = {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authtype": "awsSigv4",
    }
    doc["security"] = [{"sigv4": []}]
    return doc
