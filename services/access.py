"""Who is calling, and which claims they may see: the caller a use case acts for, its role, its claim scope."""

from __future__ import annotations

from enum import StrEnum
from typing import assert_never

from pydantic import BaseModel, ConfigDict

from db.records import EVERY_CLAIM, ClaimScope


class Role(StrEnum):
    SUBMITTER = "submitter"
    ADJUSTER = "adjuster"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Principal(BaseModel):
    """The authenticated caller."""

    model_config = ConfigDict(frozen=True)

    sub: str
    role: Role
    org: str | None = None

    @property
    def label(self) -> str:
        """How the caller appears in audit entries and status history."""
        return f"{self.role.value}:{self.sub}"


def scope_of(principal: Principal) -> ClaimScope:
    """The claims a caller may read, list, decide, cancel or answer for (minimum necessary):

    a submitter its organization's; an adjuster those assigned to it; a supervisor its team's (claims assigned to
    an adjuster of its team, and claims in review that nobody is assigned); an admin every claim.
    """
    match principal.role:
        case Role.SUBMITTER:
            if principal.org is None:  # tokens without an org are refused at the door; never widen to "all"
                raise ValueError("a submitter's token names its organization")
            return ClaimScope(kind="organization", subject=principal.org)
        case Role.ADJUSTER:
            return ClaimScope(kind="assigned", subject=principal.sub)
        case Role.SUPERVISOR:
            return ClaimScope(kind="team", subject=principal.sub)
        case Role.ADMIN:
            return EVERY_CLAIM
        case _:
            assert_never(principal.role)
