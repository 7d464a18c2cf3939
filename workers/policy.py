"""The claim policy (timings, limits) built from settings."""

from __future__ import annotations

from datetime import timedelta

from workers.settings import Settings
from workflows.claim_contract import ClaimPolicy


def claim_policy(settings: Settings) -> ClaimPolicy:
    return ClaimPolicy(
        auto_approve_limit=settings.auto_approve_limit,
        poll_initial=timedelta(seconds=settings.poll_initial_seconds),
        poll_max=timedelta(seconds=settings.poll_max_seconds),
        poll_deadline=timedelta(days=settings.poll_deadline_days),
        review_sla=timedelta(hours=settings.review_sla_hours),
        info_deadline=timedelta(days=settings.info_deadline_days),
    )
