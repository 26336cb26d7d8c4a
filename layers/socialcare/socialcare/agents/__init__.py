"""Departments at work: the SDK agents and their tools use to work cases."""

from socialcare.agents.sdk import AgentClient, WorkItem
from socialcare.cases.actions import ActionError, ActionResult, BusyError, NotAllowedError

__all__ = ["ActionError", "ActionResult", "AgentClient", "BusyError", "NotAllowedError", "WorkItem"]
