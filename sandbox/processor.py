"""The payer's business logic: accept claims, answer status, issue payments, keep the ledger."""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sandbox.adjudication import adjudicate
from sandbox.config import SandboxConfig
from sandbox.edits import rejection_for
from sandbox.models import ClaimSubmission, PaymentRequest
from sandbox.money import ZERO, format_money
from sandbox.scenarios import FINALIZED, Scenario, Step, first_settled_index, scenario_for, scenario_named, step_at
from sandbox.store import ClaimRow, IdempotencyRecord, Store, Tx, WebhookJob

CLAIM_SCOPE = "claim"
PAYMENT_SCOPE = "payment"
#: Claim frequency codes (CLM05-3): an original, and the void that withdraws one.
ORIGINAL = "1"
VOID = "8"
#: What a payer claim answers once a void withdrew it: finalized, nothing paid.
WITHDRAWN = Step("F2", "1", "finalized: withdrawn by a void claim (frequency 8); nothing is paid")
FAULT_KINDS = ("error", "lost_reply", "slow", "timeout", "dropped_reply", "held_reply")


#: The counter of 837P transaction sets a 999 rejected.
REJECTED_SETS = "transaction_sets_rejected"


@dataclass(frozen=True)
class Reply:
    """A status code and the exact JSON bytes to answer with."""

    status_code: int
    body: bytes


def dumps(value: object) -> str:
    """Compact JSON, as stored and answered."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def body_hash(raw: object) -> str:
    """A fingerprint of a parsed JSON body that ignores key order and whitespace."""
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def error_body(code: str, message: str, **extra: Any) -> bytes:
    """The JSON error shape every sandbox error uses."""
    return dumps({"error": code, "message": message, **extra}).encode()


def _derived_id(prefix: str, scope: str, key: str) -> str:
    return prefix + hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()[:16].upper()


def _conflict(scope: str) -> Reply:
    return Reply(
        409,
        error_body(
            "idempotency_key_reused",
            f"this Idempotency-Key was already used for a different {scope} body",
        ),
    )


class Processor:
    """Everything the HTTP routes ask of the sandbox payer, over one Store."""

    def __init__(self, config: SandboxConfig, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.store = store
        self.clock = clock

    # -- counters ---------------------------------------------------------------------------------------

    def count(self, name: str) -> None:
        """Bump a ledger counter (requests that reached a handler, injected faults)."""
        with self.store.transaction() as tx:
            tx.bump(name)

    def count_rejected_transaction_set(self, claim_id: object) -> None:
        """An 837P transaction set rejected in a 999 (its claim not taken), counted in all and for its claim id."""
        with self.store.transaction() as tx:
            tx.bump(REJECTED_SETS)
            if isinstance(claim_id, str) and claim_id:
                tx.bump(f"{REJECTED_SETS}:{claim_id}")

    # -- claims -----------------------------------------------------------------------------------------

    def submit_claim(self, key: str, claim: ClaimSubmission, raw: object) -> Reply:
        """Accept a claim once per idempotency key; replay the stored answer for the same body."""
        fingerprint = body_hash(raw)
        payer_claim_id = _derived_id("PCN-", CLAIM_SCOPE, key)
        scenario = scenario_for(claim.member_id)
        rejection = rejection_for(claim) or self._lineage_rejection(claim)
        answer = rejection or scenario.submission
        remittance = adjudicate(scenario, [(line.line_number, line.charge) for line in claim.lines])
        response = dumps(
            {
                "payer_claim_id": payer_claim_id,
                "category": answer.category,
                "status_code": answer.status_code,
                "message": answer.message,
            }
        )
        now = self.clock()
        # a void is settled when it is accepted: there is nothing to adjudicate, nothing to notify
        callback_url = None if claim.frequency_code == VOID else claim.callback_url
        state, category, due_at = self._webhook_plan(callback_url, scenario, rejection, now)
        row = ClaimRow(
            payer_claim_id=payer_claim_id,
            claim_id=claim.claim_id,
            idempotency_key=key,
            scenario=scenario.name,
            reject_status_code=None if rejection is None else rejection.status_code,
            reject_message=None if rejection is None else rejection.message,
            body=dumps(raw),
            remittance=dumps(remittance),
            submitted_at=now,
            status_requests=0,
            last_category=answer.category,
            callback_url=claim.callback_url,
            webhook_state=state,
            webhook_category=category,
            webhook_due_at=due_at,
            webhook_attempts=0,
        )
        with self.store.transaction() as tx:
            replay = self._replay(tx, CLAIM_SCOPE, key, fingerprint)
            if replay is not None:
                return replay
            tx.insert_claim(row)
            tx.save_idempotency(CLAIM_SCOPE, key, IdempotencyRecord(fingerprint, 201, response))
            tx.bump("submissions_applied")
        return Reply(201, response.encode())

    def _lineage_rejection(self, claim: ClaimSubmission) -> Step | None:
        """A7 for a replacement (7) or void (8) whose REF*F8 names no claim of this payer, or an original already
        voided; None for an original claim (1) or one that names a claim it may replace or void."""
        if claim.frequency_code == ORIGINAL:
            return None
        original_id = (claim.model_extra or {}).get("original_payer_claim_id")
        with self.store.transaction() as tx:
            original = tx.claim(original_id) if isinstance(original_id, str) and original_id else None
            voided = original is not None and self._voided(tx, original.payer_claim_id)
        if original is None:
            return Step(
                "A7",
                "21",
                "rejected for invalid information: a frequency "
                f"{claim.frequency_code} claim must name a claim of this payer in original_payer_claim_id (REF*F8)",
            )
        if voided:
            return Step("A7", "21", "rejected: the claim named in original_payer_claim_id (REF*F8) has been voided")
        return None

    @staticmethod
    def _voided(tx: Tx, payer_claim_id: str) -> bool:
        """Whether an accepted void (frequency 8) withdrew this payer claim."""
        return any(
            json.loads(row.body).get("frequency_code") == VOID and row.reject_status_code is None
            for row in tx.successors(payer_claim_id)
        )

    def _webhook_plan(
        self, callback_url: str | None, scenario: Scenario, rejection: Step | None, now: float
    ) -> tuple[str, str | None, float | None]:
        """(state, settled category, due time) of the claim's webhook; 'none' when none will be sent."""
        if callback_url is None or self.config.step_seconds <= 0:
            return "none", None, None
        if rejection is not None:
            return "pending", rejection.category, now
        index = first_settled_index(scenario)
        if index is None:
            return "none", None, None
        return "pending", scenario.script[index].category, now + index * self.config.step_seconds

    def _replay(self, tx: Tx, scope: str, key: str, fingerprint: str) -> Reply | None:
        record = tx.idempotency(scope, key)
        if record is None:
            return None
        if record.body_hash != fingerprint:
            tx.bump("idempotency_conflicts")
            return _conflict(scope)
        tx.count_replay(scope, key)
        tx.bump("idempotent_replays")
        return Reply(200, record.response.encode())

    def claim_status(self, payer_claim_id: str) -> dict[str, Any] | None:
        """Answer a status request and advance the claim one step (None if the claim is unknown)."""
        now = self.clock()
        with self.store.transaction() as tx:
            row = tx.claim(payer_claim_id)
            if row is None:
                return None
            step = WITHDRAWN if self._voided(tx, payer_claim_id) else self._step(row, row.status_requests, now)
            tx.record_status_request(payer_claim_id, step.category)
        finalized = step.category in FINALIZED and step is not WITHDRAWN
        lines: list[Any] = json.loads(row.remittance) if finalized else []
        return {
            "payer_claim_id": row.payer_claim_id,
            "claim_id": row.claim_id,
            "category": step.category,
            "status_code": step.status_code,
            "message": step.message,
            "lines": lines,
        }

    def _step(self, row: ClaimRow, polls: int, now: float) -> Step:
        if row.reject_status_code is not None and row.reject_message is not None:
            return Step("A7", row.reject_status_code, row.reject_message)
        index = polls
        if self.config.step_seconds > 0:
            index = max(index, math.floor((now - row.submitted_at) / self.config.step_seconds))
        return step_at(scenario_named(row.scenario), index)

    def stored_claim(self, payer_claim_id: str) -> tuple[dict[str, Any], str] | None:
        """(the claim as it was submitted, its last category), without advancing it; None if it is unknown."""
        with self.store.transaction() as tx:
            row = tx.claim(payer_claim_id)
        if row is None:
            return None
        submitted: dict[str, Any] = json.loads(row.body)
        return submitted, row.last_category

    def remittance(self, payer_claim_id: str) -> tuple[str, list[Any]] | None:
        """(category, remittance lines) of a finalized claim, without advancing it; None if not finalized."""
        with self.store.transaction() as tx:
            row = tx.claim(payer_claim_id)
        if row is None or row.last_category not in FINALIZED:
            return None
        lines: list[Any] = json.loads(row.remittance)
        return row.last_category, lines

    def next_control_number(self) -> int:
        """A control number for the sandbox's own interchanges: never the same twice in one ledger."""
        with self.store.transaction() as tx:
            tx.bump("x12_interchanges_written")
            return tx.counters()["x12_interchanges_written"]

    # -- payments ---------------------------------------------------------------------------------------

    def issue_payment(self, key: str, payment: PaymentRequest, raw: object) -> Reply:
        """Issue a payment once per idempotency key; replay the stored answer for the same body."""
        fingerprint = body_hash(raw)
        if payment.lines and sum((line.amount for line in payment.lines), ZERO) != payment.amount:
            return Reply(
                422,
                error_body(
                    "invalid_body",
                    "amount does not equal the sum of the line amounts",
                    fields=[{"field": "amount", "message": "must equal the sum of lines[].amount"}],
                ),
            )
        payment_id = _derived_id("PAY-", PAYMENT_SCOPE, key)
        amount = format_money(payment.amount)
        response = dumps(
            {"payment_id": payment_id, "payer_claim_id": payment.payer_claim_id, "amount": amount, "status": "issued"}
        )
        with self.store.transaction() as tx:
            replay = self._replay(tx, PAYMENT_SCOPE, key, fingerprint)
            if replay is not None:
                return replay
            claim = tx.claim(payment.payer_claim_id)
            if claim is None:
                return Reply(404, error_body("unknown_payer_claim", "no payer claim with this payer_claim_id"))
            if self._voided(tx, payment.payer_claim_id):
                return Reply(409, error_body("voided", "this payer claim was voided (frequency 8); it is not paid"))
            if claim.claim_id != payment.claim_id:
                return Reply(
                    422,
                    error_body(
                        "invalid_body",
                        "claim_id does not belong to payer_claim_id",
                        fields=[{"field": "claim_id", "message": "does not match the payer claim"}],
                    ),
                )
            tx.insert_payment(payment_id, payment.payer_claim_id, key, amount, dumps(raw), self.clock())
            tx.save_idempotency(PAYMENT_SCOPE, key, IdempotencyRecord(fingerprint, 201, response))
            tx.bump("payments_applied")
        return Reply(201, response.encode())

    # -- ledger and controls ----------------------------------------------------------------------------

    def ledger(self, claim_id: str | None = None) -> dict[str, Any]:
        """Counters and one entry per payer claim, so a test can prove nothing happened twice."""
        with self.store.transaction() as tx:
            counters = tx.counters()
            rows = tx.ledger_rows(claim_id)
        faults = {kind: counters.get(f"fault_{kind}", 0) for kind in FAULT_KINDS}
        return {
            "submission_requests": counters.get("submission_requests", 0),
            "submissions_applied": counters.get("submissions_applied", 0),
            "payment_requests": counters.get("payment_requests", 0),
            "payments_applied": counters.get("payments_applied", 0),
            "status_requests": counters.get("status_requests", 0),
            "eligibility_requests": counters.get("eligibility_requests", 0),
            # X12 837P transaction sets rejected in a 999 (the claim not taken): of this claim id when one is given
            REJECTED_SETS: counters.get(REJECTED_SETS if claim_id is None else f"{REJECTED_SETS}:{claim_id}", 0),
            "idempotent_replays": counters.get("idempotent_replays", 0),
            "idempotency_conflicts": counters.get("idempotency_conflicts", 0),
            "faults_injected": sum(faults.values()),
            "faults_by_kind": faults,
            "claims": [
                {
                    "claim_id": row.claim.claim_id,
                    "payer_claim_id": row.claim.payer_claim_id,
                    "idempotency_key": row.claim.idempotency_key,
                    "scenario": row.claim.scenario,
                    "submissions_applied": row.submissions_for_claim_id,
                    "submission_replays": row.submission_replays,
                    "payments_applied": row.payments_applied,
                    "paid_amount": format_money(sum((Decimal(a) for a in row.payment_amounts), ZERO)),
                    "status_requests": row.claim.status_requests,
                    "category": row.claim.last_category,
                    "webhook": {"state": row.claim.webhook_state, "attempts": row.claim.webhook_attempts},
                    # the 837P interchange as received (X12 claims only), for validators
                    "x12_interchange": json.loads(row.claim.body).get("x12"),
                }
                for row in rows
            ],
        }

    def reset(self) -> None:
        """Forget every claim, payment and counter."""
        with self.store.transaction() as tx:
            tx.clear()

    # -- webhooks ---------------------------------------------------------------------------------------

    def take_due_webhooks(self, limit: int) -> list[WebhookJob]:
        """Mark in flight and return the webhooks due now."""
        with self.store.transaction() as tx:
            return tx.take_due_webhooks(self.clock(), limit)

    def webhook_outcome(self, job: WebhookJob, delivered: bool, retry_in: float | None) -> None:
        """Record a delivery attempt: delivered, due again after retry_in seconds, or failed for good."""
        attempts = job.attempts + 1
        if delivered:
            state, due_at = "delivered", None
        elif retry_in is not None:
            state, due_at = "pending", self.clock() + retry_in
        else:
            state, due_at = "failed", None
        with self.store.transaction() as tx:
            tx.set_webhook(job.payer_claim_id, state, attempts, due_at)
