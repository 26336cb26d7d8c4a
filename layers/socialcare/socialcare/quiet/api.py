"""The ops HTTP API for quiet periods, held posts and incidents (same actions as the CLI).

Served by functions/ops_api on the agent HTTP API (IAM-authorised), next to the agent routes.
Errors: 400 invalid request, 404 unknown id, 409 refused (nothing changed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from pydantic import BaseModel, Field

app = APIGatewayHttpResolver(enable_validation=True)
_DEPS: list[Any] = []


def set_deps(deps: Any) -> None:
    _DEPS[:] = [deps]


def _deps() -> Any:
    from socialcare.cases.deps import default_deps

    return _DEPS[0] if _DEPS else default_deps()


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
    return [p.model_dump(mode="json") for p in _quiet().list()]


@app.post("/quiet-periods")
def start_quiet(body: StartQuiet) -> Any:
    from socialcare.quiet.service import QuietError

    try:
        return _quiet().start(body.region, body.until, body.reason, actor=body.operator).model_dump(mode="json")
    except QuietError as exc:
        return _refused(exc, 400)


@app.post("/quiet-periods/<quiet_id>/end")
def end_quiet(quiet_id: str, body: Operator) -> Any:
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
    return _quiet().held()


@app.post("/held/<action>")
def settle_held(action: str, body: Settle) -> Any:
    if action not in {"release", "cancel"}:
        return _refused(ValueError(f"unknown action {action!r}"), 404)
    q = _quiet()
    fn = q.release if action == "release" else q.cancel
    return {"action": action, "count": fn(body.ids, quiet_id=body.quiet_id, actor=body.operator)}


@app.get("/incidents")
def list_incidents() -> list[dict[str, Any]]:
    return [i.model_dump(mode="json") for i in _incidents().list()]


@app.post("/incidents/<incident_id>/resolve")
def resolve_incident(incident_id: str, body: ResolveIncident) -> Any:
    from socialcare.incidents.service import IncidentError

    try:
        return _incidents().resolve(incident_id, body.text, actor=body.agent)
    except IncidentError as exc:
        return _refused(exc)


@app.post("/incidents/<incident_id>/merge")
def merge_incident(incident_id: str, body: MergeIncident) -> Any:
    from socialcare.incidents.service import IncidentError

    try:
        return _incidents().merge(incident_id, body.into, actor=body.agent).model_dump(mode="json")
    except IncidentError as exc:
        return _refused(exc)


@app.post("/incidents/<incident_id>/split")
def split_incident(incident_id: str, body: SplitIncident) -> Any:
    from socialcare.incidents.service import IncidentError

    try:
        return _incidents().split(incident_id, body.members, actor=body.agent).model_dump(mode="json")
    except IncidentError as exc:
        return _refused(exc)
