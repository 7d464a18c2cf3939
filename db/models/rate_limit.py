"""RateLimitWindow: how many requests one caller made in one window, shared by every API replica."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class RateLimitWindow(Base):
    """One caller's request count in one fixed window. `caller` is a hash (of the token's subject and role, or of
    the client address): no name, address or token is stored. Windows older than the current one are purged.

    The key leads with `window_start`, so the purge is a range delete on the primary key.
    """

    __tablename__ = "rate_limit_window"

    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    caller: Mapped[str] = mapped_column(String(64), primary_key=True)
    requests: Mapped[int] = mapped_column(Integer)
