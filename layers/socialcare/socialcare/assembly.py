"""The whole product's Deps: the layers below (cases, outbound) with incidents and quiet periods plugged in.

Lower layers never import the upper ones; they call the hooks this module puts on Deps. Every entry
point that runs the product (the Lambda handlers, the local stack, the demo, the tests) builds its
Deps here."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from socialcare.cases.deps import Deps
from socialcare.cases.deps import build_deps as build_base_deps
from socialcare.config import BrandConfig
from socialcare.incidents.hooks import after_mention
from socialcare.quiet.guard import QuietHold
from socialcare.settings import Settings, settings_from_env

if TYPE_CHECKING:
    from socialcare.agents.connect import Target
    from socialcare.agents.sdk import AgentClient
    from socialcare.models import Case
    from socialcare.outbound import Delivery


def plug_in(deps: Deps) -> Deps:
    return replace(deps, after_mention=after_mention, holds=(QuietHold(),), deliver=deliver, acknowledge=acknowledge)


# Outbound (and the platform writers under it) is imported on the first message sent, so a function that
# never sends (the router) does not load it at cold start.
def deliver(
    deps: Deps, case: Case, text: str, channel: str = "public", kind: str = "reply", idempotency_key: str = ""
) -> Delivery:
    from socialcare.outbound import deliver as outbound_deliver

    return outbound_deliver(deps, case, text, channel=channel, kind=kind, idempotency_key=idempotency_key)


def acknowledge(deps: Deps, case: Case) -> Delivery | None:
    from socialcare.outbound.ack import acknowledge as outbound_acknowledge

    return outbound_acknowledge(deps, case)


def build_deps(settings: Settings | None = None, config: BrandConfig | None = None) -> Deps:
    return plug_in(build_base_deps(settings, config))


_CACHE: dict[str, Deps] = {}


def default_deps() -> Deps:
    """One Deps per configuration: a warm Lambda builds it once. Keyed by the settings so that
    in-process local mode, where several functions share a process, never mixes stacks."""
    settings = settings_from_env()
    key = settings.model_dump_json()
    if key not in _CACHE:
        _CACHE[key] = build_deps(settings)
    return _CACHE[key]


def reset_deps() -> None:
    _CACHE.clear()


def deps_for(target: Target) -> Deps:
    """The product's Deps for a stack found from outside it (the CLI, a person's program)."""
    from socialcare.agents.connect import deps_for as base_deps_for

    return plug_in(base_deps_for(target))


def deps_from_args(args: Any) -> Deps:
    """Deps for the stack a command line names (--stack/--profile/--region/--endpoint-url), else the local one."""
    from socialcare.agents.connect import target_from_args

    return deps_for(target_from_args(args))


def connect_agent(
    name: str,
    *,
    department: str | None = None,
    stack: str | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> AgentClient:
    """The SDK's way in for a person's program: an AgentClient on the stack named (default "socialcare",
    or a running `socialcare local up`), found as the CLI finds it; inside a Lambda of the stack, on the
    stack its environment names."""
    import os
    import sys

    from socialcare.agents.connect import resolve_target
    from socialcare.agents.sdk import AgentClient
    from socialcare.observability import route_logs

    target = resolve_target(
        stack=stack, profile=profile, region=region, endpoint_url=endpoint_url, env=dict(os.environ)
    )
    explicit = stack or profile or region or endpoint_url or target.endpoint_url
    if os.environ.get("TABLE_NAME") and not explicit:
        deps = build_deps()
    else:
        # In a person's program stdout is theirs: our logs go to stderr (in Lambda, stdout is the log).
        route_logs(sys.stderr)
        deps = deps_for(target)
    return AgentClient(deps, name, department)
