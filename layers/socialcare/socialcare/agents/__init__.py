"""Departments at work: the SDK agents and their tools use to work cases.

The names below load on first use (PEP 562), so that importing a small part of this package (the ops
API needs only `agents.auth`) does not load the SDK and the case actions with it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socialcare.agents.sdk import AgentClient, WorkItem
    from socialcare.cases.actions import ActionError, ActionResult, BusyError, NotAllowedError

_HOME = {
    "AgentClient": "socialcare.agents.sdk",
    "WorkItem": "socialcare.agents.sdk",
    "ActionError": "socialcare.cases.actions",
    "ActionResult": "socialcare.cases.actions",
    "BusyError": "socialcare.cases.actions",
    "NotAllowedError": "socialcare.cases.actions",
}

__all__ = ["ActionError", "ActionResult", "AgentClient", "BusyError", "NotAllowedError", "WorkItem"]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOME[name]), name)
