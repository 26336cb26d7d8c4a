"""Who calls the agent and ops APIs, and what they may see and do.

Two doors lead in. Machine clients (a CRM, a ticket system) sign requests with IAM: API Gateway has
checked the signature and the role's policy, so they act for any department, as before. People use
the web console: API Gateway has validated their Cognito token and passes its claims; a person
sees and acts on the cases of the departments whose Cognito group they belong to, and reaches the
ops routes only in the ops group. Locally the console server signs a person in and hands the same
claims to the same handlers, so these rules are applied by the same code in both places.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OPS_GROUP = "ops"


class ForbiddenError(Exception):
    """The signed-in person is not allowed this department or route; nothing was read or changed."""


@dataclass(frozen=True)
class Principal:
    name: str | None
    departments: frozenset[str]
    ops: bool
    person: bool  # False: an IAM-signed machine client, not limited to departments

    def may_see(self, department: str) -> bool:
        return not self.person or department in self.departments or self.ops

    def require_department(self, department: str) -> None:
        if self.person and department not in self.departments:
            raise ForbiddenError(f"{self.name} is not in the {department} department")

    def require_ops(self) -> None:
        if self.person and not self.ops:
            raise ForbiddenError(f"{self.name} is not in the ops group")


MACHINE = Principal(name=None, departments=frozenset(), ops=True, person=False)


def _groups(value: Any) -> list[str]:
    """cognito:groups as API Gateway's JWT authorizer passes it: a list, or the string "[a b]"."""
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [g for g in value.strip("[]").replace(",", " ").split() if g]
    return []


def principal_from_event(event: dict[str, Any]) -> Principal:
    """The caller of one HTTP API request (payload format 2.0)."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = (authorizer.get("jwt") or {}).get("claims")
    if not claims:
        return MACHINE
    name = claims.get("cognito:username") or claims.get("username") or claims.get("sub")
    if not name:
        raise ForbiddenError("the token names nobody")
    groups = set(_groups(claims.get("cognito:groups")))
    return Principal(name=str(name), departments=frozenset(groups - {OPS_GROUP}), ops=OPS_GROUP in groups, person=True)
