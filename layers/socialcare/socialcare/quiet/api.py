"""The ops HTTP API for quiet periods, held posts and incidents (same actions as the CLI).

Served by functions/ops_api on the agent HTTP API (IAM-authorised), next to the agent routes.
Errors: 400 invalid request, 403 a console user outside the ops group (or the incident's
department), 404 unknown id, 409 refused (nothing changed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from pydantic import BaseModel, Field

from socialcare.agents.auth import ForbiddenError, Principal, principal_from_event

app = APIGatewayHttpResolver(enable_validation=True)
_DEPS: list[Any] = []


@app.exception_handler(ForbiddenError)
def _forbidden(exc: ForbiddenError) -> Response:
    return Response(status_code=403, content_type="application/json", body={"error": str(exc)})


def _who() -> Principal:
    return principal_from_event(app.current_event.raw_event)


def _ops() -> Principal:
    """Quiet periods, held posts and scheduled posts belong to the ops group (IAM clients: as before)."""
    who = _who()
    who.require_ops()
    return who


def _incident_access(incident_id: str) -> Any:
    """An incident is worked by its department's people and by ops."""
    inc = _incidents().get(incident_id)
    who = _who()
    if not who.ops:
        who.require_department(inc.department)
    return inc


def set_deps(deps: Any) -> None:
    _DEPS[:] = [deps]


def _deps() -> Any:
    from socialcare.cases.deps import provided

    return _DEPS[0] if _DEPS else provided()


def _quiet() -> Any:
    from socialcare.quiet.service import Quiet

    return Quiet(_deps())


def _incidents() -> Any:
    from socialcare.incidents.service import Incidents

    return Incidents(_deps())


class StartQuiet(BaseModel):
    region: str = Field(min_length=1, max_length=64)
    until: datetime
    reason: str = Field(min_length=1, max_length=500)
    operator: str = Field(min_length=1, max_length=80)


class Operator(BaseModel):
    operator: str = Field(min_length=1, max_length=80)


class Settle(Operator):
    quiet_id: str | None = Field(default=None, max_length=40)
    ids: list[str] | None = Field(default=None, max_length=500)


class ResolveIncident(BaseModel):
    agent: str = Field(min_length=1, max_length=80)
    text: str = Field(min_length=1, max_length=4000)


class MergeIncident(BaseModel):
    agent: str = Field(min_length=1, max_length=80)
    into: str = Field(min_length=1, max_length=40)


class SplitIncident(BaseModel):
    agent: str = Field(min_length=1, max_length=80)
    members: list[str] = Field(min_length=1, max_length=500)


def _refused(exc: Exception, status: int = 409) -> Response:
    return Response(status_code=status, content_type="application/json", body={"error": str(exc)})


@app.get("/quiet-periods")
def list_quiet() -> list[dict[str, Any]]:
    _ops()
    return [p.model_dump(mode="json") for p in _quiet().list()]


@app.post("/quiet-periods")
def start_quiet(body: StartQuiet) -> Any:
    _ops()
    _acting(body.operator)
    from socialcare.quiet.service import QuietError

    try:
        return _quiet().start(body.region, body.until, body.reason, actor=body.operator).model_dump(mode="json")
    except QuietError as exc:
        return _refused(exc, 400)


@app.post("/quiet-periods/<quiet_id>/end")
def end_quiet(quiet_id: str, body: Operator) -> Any:
    _ops()
    from socialcare.quiet.service import QuietError
    from socialcare.store import NotFoundError

    try:
        return _quiet().end(quiet_id, actor=body.operator).model_dump(mode="json")
    except NotFoundError as exc:
        return _refused(exc, 404)
    except QuietError as exc:
        return _refused(exc)


@app.get("/held")
def list_held() -> list[dict[str, Any]]:
    _ops()
    return _quiet().held()


@app.post("/held/<action>")
def settle_held(action: str, body: Settle) -> Any:
    _ops()
    if action not in {"release", "cancel"}:
        return _refused(ValueError(f"unknown action {action!r}"), 404)
    q = _quiet()
    fn = q.release if action == "release" else q.cancel
    return {"action": action, "count": fn(body.ids, quiet_id=body.quiet_id, actor=body.operator)}


@app.get("/incidents")
def list_incidents() -> list[dict[str, Any]]:
    who = _who()
    return [i.model_dump(mode="json") for i in _incidents().list() if who.may_see(i.department)]


class LinkCases(BaseModel):
    agent: str = Field(min_length=1, max_length=80)
    case_ids: list[str] = Field(min_length=1, max_length=100)


class UnlinkCase(BaseModel):
    agent: str = Field(min_length=1, max_length=80)
    case_id: str = Field(min_length=1, max_length=40)


class SchedulePost(BaseModel):
    at: datetime
    text: str = Field(min_length=1, max_length=4000)
    region: str | None = Field(default=None, max_length=64)
    kind: str = Field(default="promotional", pattern="^(promotional|service)$")
    operator: str = Field(min_length=1, max_length=80)


def _acting(agent: str) -> None:
    """A console user acts under their own name."""
    who = _who()
    if who.person and agent != who.name:
        raise ForbiddenError(f"signed in as {who.name}, not {agent}")


@app.get("/incidents/<incident_id>")
def show_incident(incident_id: str) -> Any:
    from socialcare.store import NotFoundError

    try:
        inc = _incident_access(incident_id)
    except NotFoundError as exc:
        return _refused(exc, 404)
    members = _incidents().members(inc.id)
    return {
        **inc.model_dump(mode="json"),
        "linked_cases": sorted({m.case_id for m in members if m.case_id}),
        "linked_mentions": sum(1 for m in members if not m.case_id),
    }


@app.post("/incidents/<incident_id>/link")
def link_incident(incident_id: str, body: LinkCases) -> Any:
    from socialcare.incidents.service import IncidentError
    from socialcare.store import NotFoundError

    _acting(body.agent)
    try:
        inc = _incident_access(incident_id)
        who = _who()
        for case_id in body.case_ids:
            if not who.may_see(_deps().store.get_case(case_id).department):
                raise ForbiddenError(f"case {case_id} is in another department")
        return {"incident_id": inc.id, "linked": _incidents().link_cases(inc.id, body.case_ids, actor=body.agent)}
    except NotFoundError as exc:
        return _refused(exc, 404)
    except IncidentError as exc:
        return _refused(exc)


@app.post("/incidents/<incident_id>/unlink")
def unlink_incident(incident_id: str, body: UnlinkCase) -> Any:
    from socialcare.incidents.service import IncidentError
    from socialcare.store import NotFoundError

    _acting(body.agent)
    try:
        inc = _incident_access(incident_id)
        return {"incident_id": inc.id, "unlinked": _incidents().unlink_case(inc.id, body.case_id, actor=body.agent)}
    except NotFoundError as exc:
        return _refused(exc, 404)
    except IncidentError as exc:
        return _refused(exc)


@app.get("/posts")
def list_posts() -> list[dict[str, Any]]:
    _ops()
    return [p.model_dump(mode="json") for p in _quiet().posts()]


@app.post("/posts")
def schedule_post(body: SchedulePost) -> Any:
    from socialcare.quiet.service import QuietError

    _ops()
    _acting(body.operator)
    try:
        return _quiet().schedule(body.at, body.text, region=body.region, kind=body.kind).model_dump(mode="json")
    except QuietError as exc:
        return _refused(exc, 400)


@app.get("/crisis-suggestions")
def crisis_suggestions() -> list[dict[str, Any]]:
    """Proposed quiet periods (a burst of tragedy words about a region) waiting for a human."""
    _ops()
    deps = _deps()
    now = deps.now().timestamp()
    out = []
    for region in deps.config.regions:
        got = deps.store.get({"PK": {"S": f"CRISIS#{region.name}"}, "SK": {"S": "SUGGESTED"}})
        if got and float(got.get("expires_at", 0)) > now:
            out.append({k: v for k, v in got.items() if k not in {"PK", "SK"}})
    return out


@app.post("/incidents/<incident_id>/resolve")
def resolve_incident(incident_id: str, body: ResolveIncident) -> Any:
    from socialcare.incidents.service import IncidentError

    _acting(body.agent)
    _incident_access(incident_id)
    try:
        return _incidents().resolve(incident_id, body.text, actor=body.agent)
    except IncidentError as exc:
        return _refused(exc)


@app.post("/incidents/<incident_id>/merge")
def merge_incident(incident_id: str, body: MergeIncident) -> Any:
    _ops()
    from socialcare.incidents.service import IncidentError

    try:
        return _incidents().merge(incident_id, body.into, actor=body.agent).model_dump(mode="json")
    except IncidentError as exc:
        return _refused(exc)


@app.post("/incidents/<incident_id>/split")
def split_incident(incident_id: str, body: SplitIncident) -> Any:
    _ops()
    from socialcare.incidents.service import IncidentError

    try:
        return _incidents().split(incident_id, body.members, actor=body.agent).model_dump(mode="json")
    except IncidentError as exc:
        return _refused(exc)
