"""The unit of work: one session, one transaction, committed explicitly or rolled back."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories.adjusters import AdjusterRepository
from db.repositories.audit import AuditRepository
from db.repositories.claims import ClaimRepository
from db.repositories.codes import CodeRepository
from db.repositories.documents import DocumentRepository
from db.repositories.eligibility import EligibilityRepository
from db.repositories.events import EventRepository
from db.repositories.integrations import IntegrationRepository
from db.repositories.ledger import LedgerRepository
from db.repositories.queues import QueueRepository
from db.repositories.reference import ReferenceRepository
from db.repositories.risk import RiskRepository
from db.repositories.subscriptions import SubscriptionRepository
from db.repositories.x12 import X12Repository


class UnitOfWork:
    """`async with UnitOfWork(factory) as uow: ...; await uow.commit()` — anything not committed
    when the block ends (normally or by an exception) is rolled back."""

    session: AsyncSession
    claims: ClaimRepository
    audit: AuditRepository
    reference: ReferenceRepository
    codes: CodeRepository
    x12: X12Repository
    ledger: LedgerRepository
    integrations: IntegrationRepository
    eligibility: EligibilityRepository
    risk: RiskRepository
    documents: DocumentRepository
    adjusters: AdjusterRepository
    queues: QueueRepository
    events: EventRepository
    subscriptions: SubscriptionRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def __aenter__(self) -> Self:
        self.session = self._session_factory()
        self.claims = ClaimRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.reference = ReferenceRepository(self.session)
        self.codes = CodeRepository(self.session)
        self.x12 = X12Repository(self.session)
        self.ledger = LedgerRepository(self.session)
        self.integrations = IntegrationRepository(self.session)
        self.eligibility = EligibilityRepository(self.session)
        self.risk = RiskRepository(self.session)
        self.adjusters = AdjusterRepository(self.session)
        self.documents = DocumentRepository(self.session)
        self.queues = QueueRepository(self.session)
        self.events = EventRepository(self.session)
        self.subscriptions = SubscriptionRepository(self.session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        try:
            await self.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        """Make everything done so far durable."""
        await self.session.commit()

    async def rollback(self) -> None:
        """Undo everything since the last commit."""
        await self.session.rollback()
