"""IntegrationRoute: which of an organization's integrations a payer's claims go through."""

from __future__ import annotations

from sqlalchemy import ForeignKey, ForeignKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, TimestampMixin


class IntegrationRoute(TimestampMixin, Base):
    """Per organization: payer id -> integration id (a payer without a route uses the organization's default)."""

    __tablename__ = "integration_route"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "integration_id"],
            ["integration.org_id", "integration.integration_id"],
            name="fk_integration_route_org_id_integration",
        ),
    )

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    payer_id: Mapped[str] = mapped_column(String(30), ForeignKey("payer.payer_id"), primary_key=True)
    integration_id: Mapped[str] = mapped_column(String(40))
