"""AssignmentRuleSet: one version of the ordered assignment rules (kept for ever; the newest one is in force)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class AssignmentRuleSet(Base):
    """A version of the rules: the ordered list (domain.assignment.AssignmentRule as JSON), who set it, when."""

    __tablename__ = "assignment_rule_set"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[datetime] = mapped_column(server_default=func.now())
