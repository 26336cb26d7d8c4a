"""The console's API entry: the agent and ops routes people use, behind a Cognito JWT authorizer.

The same functions' logic as the IAM-signed API (socialcare.agents.api, socialcare.quiet.api); the
caller's Cognito groups decide what they see and do (socialcare.agents.auth). Ops-only routes that
exist for the console alone (the overview and dead-letter redrive) live here.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from socialcare.agents.auth import ForbiddenError, principal_from_event

AGENT_PREFIXES = ("/cases", "/departments", "/me")
CONSOLE_PREFIXES = ("/ops/",)

app = APIGatewayHttpResolver(enable_validation=True)


@app.exception_handler(ForbiddenError)
def _forbidden(exc: ForbiddenError) -> Response:
    return Response(status_code=403, content_type="application/json", body={"error": "forbidden", "message": str(exc)})


def _deps() -> Any:
    from socialcare.agents import api as agent_api

    return agent_api._deps()


def _require_ops() -> None:
    principal_from_event(app.current_event.raw_event).require_ops()


@app.get("/ops/overview")
def ops_overview() -> dict[str, Any]:
    from socialcare.console.overview import overview

    _require_ops()
    return overview(_deps())


@app.post("/ops/dead-letters/<queue>/redrive")
def redrive_dead_letters(queue: Literal["mentions", "ingest", "department"]) -> Any:
    from socialcare.dlq import QUEUES, redrive

    _require_ops()
    deps = _deps()
    settings = deps.settings
    urls = settings.dead_letter_queues
    if queue not in urls:
        return Response(
            status_code=404,
            content_type="application/json",
            body={"error": "not_found", "message": f"no {queue} dead-letter queue configured"},
        )
    outputs = {
        "MentionsQueueUrl": settings.mentions_queue_url,
        "DepartmentQueuePrefix": settings.department_queue_prefix,
        "Departments": ",".join(deps.config.department_names),
        **{QUEUES[name]: url for name, url in urls.items() if name in QUEUES},
    }
    return redrive(outputs, queue, dry_run=False, sqs=deps.sqs, limit=1000).as_dict()


def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One HTTP API event to the resolver that owns its path. Each resolver is imported with the first
    request for it: a cold start loads the routes, models and logic of the one API its request needs."""
    path = str(event.get("rawPath") or "")
    if path.startswith(AGENT_PREFIXES):
        from socialcare.agents import api as agent_api

        return agent_api.handle_request(event, context)
    if path.startswith(CONSOLE_PREFIXES):
        return app.resolve(event, context)
    from socialcare.quiet import api as ops_api

    return ops_api.app.resolve(event, context)
