"""CodeSystemLoad: which code systems have been loaded, from what, and whether in full."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class CodeSystemLoad(Base):
    """The latest load of one code system (hcpcs, cpt, icd10cm).

    `loaded_in_full` is set by a full release (`claimflow codes import --full`) and stays set: once a
    system's complete release is in the tables, a code missing from them is an error, not a warning.
    """

    __tablename__ = "code_system_load"

    system: Mapped[str] = mapped_column(String(16), primary_key=True)
    loaded_in_full: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(255))  # the file's name, never its path
    version: Mapped[str | None] = mapped_column(String(32))
    codes: Mapped[int]
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
