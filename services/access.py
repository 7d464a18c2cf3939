"""Who is calling: the caller a use case acts for, and its role."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


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
