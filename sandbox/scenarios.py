"""The scenario table: member id prefix -> submission answer, status script and remittance rules."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

#: Categories after which a claim is settled (webhooks fire when one is reached).
SETTLED: frozenset[str] = frozenset({"F1", "F2", "F3", "F4", "P3", "P4", "A3", "A6", "A7"})
#: Categories whose status answers carry 835-style lines.
FINALIZED: frozenset[str] = frozenset({"F1", "F2", "F3", "F4"})


@dataclass(frozen=True)
class Step:
    """One 277-style answer: category, status code and a human message."""

    category: str
    status_code: str
    message: str


@dataclass(frozen=True)
class LineRule:
    """How the payer adjudicates a line: the share it pays and who bears the rest."""

    paid_percent: Decimal = Decimal(100)
    group_code: str | None = None
    reason_code: str | None = None
    remark_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemittanceExtras:
    """What a scenario's X12 835 carries beyond its lines (the JSON dialect has neither): a claim-level adjustment
    (CAS after the CLP) taking a share of what the lines paid, and a provider-level adjustment (PLB) naming the
    payer claim. A PLB amount reduces the payment; a negative one (interest) adds to it."""

    claim_group_code: str
    claim_reason_code: str
    claim_percent: Decimal
    provider_reason_code: str
    provider_amount: Decimal


@dataclass(frozen=True)
class Scenario:
    """A magic member id prefix and everything the sandbox does for claims carrying it.

    `rejects_transaction_set`: in X12 the 837P's transaction set is rejected in the 999 (IK5*R, AK9*R) and the
    claim is not taken; in JSON it answers its submission step (A3).
    """

    name: str
    prefix: str | None
    summary: str
    submission: Step
    script: tuple[Step, ...]
    first_line: LineRule = LineRule()
    other_lines: LineRule = LineRule()
    rejects_transaction_set: bool = False
    remittance_extras: RemittanceExtras | None = None


RECEIVED = Step("A1", "19", "received: the claim was acknowledged")
ACCEPTED = Step("A2", "20", "accepted into adjudication")
PENDING = Step("P1", "20", "pending: in process")
PENDING_INFO = Step("P3", "294", "pending: information requested from the provider (supporting documentation)")
PAID = Step("F1", "65", "finalized: paid")
DENIED = Step("F2", "1", "finalized: denied, see the remittance advice")
REVISED = Step("F3", "65", "finalized: revised, paid")
NO_PAYMENT = Step("F4", "1", "finalized: adjudication complete, no payment (applied to deductible)")
REJECTED_MEMBER = Step(
    "A7", "21", "rejected for invalid information: member_id is not a subscriber id this payer recognises"
)
UNPROCESSABLE = Step("A3", "21", "returned as unprocessable: the claim's transaction set was rejected (999 IK5*R)")

PAY_IN_FULL = LineRule()
PAY_80_CO45 = LineRule(paid_percent=Decimal(80), group_code="CO", reason_code="45")
DENY_CO50 = LineRule(paid_percent=Decimal(0), group_code="CO", reason_code="50", remark_codes=("N130",))
DEDUCTIBLE_PR1 = LineRule(paid_percent=Decimal(0), group_code="PR", reason_code="1")

DEFAULT = Scenario("default", None, "A2 -> P1 -> F1, every line paid in full", RECEIVED, (ACCEPTED, PENDING, PAID))

#: The scenario table, matched in order against the member id (case-insensitive prefix).
SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "partial",
        "PART",
        "A2 -> P1 -> F1; the first line is paid 80% with CO-45 for the rest, other lines in full",
        RECEIVED,
        (ACCEPTED, PENDING, PAID),
        first_line=PAY_80_CO45,
    ),
    Scenario(
        "deny",
        "DENY",
        "A2 -> P1 -> F2; every line paid 0.00 with CO-50 for the full charge, remark N130",
        RECEIVED,
        (ACCEPTED, PENDING, DENIED),
        first_line=DENY_CO50,
        other_lines=DENY_CO50,
    ),
    Scenario(
        "nopay",
        "NOPAY",
        "A2 -> P1 -> F4; every line paid 0.00 with PR-1 (deductible) for the full charge",
        RECEIVED,
        (ACCEPTED, PENDING, NO_PAYMENT),
        first_line=DEDUCTIBLE_PR1,
        other_lines=DEDUCTIBLE_PR1,
    ),
    Scenario("revise", "REVISE", "A2 -> P1 -> F3, paid in full", RECEIVED, (ACCEPTED, PENDING, REVISED)),
    Scenario(
        "provider_adjustment",
        "PLB",
        "A2 -> P1 -> F1, every line paid in full; in X12 its 835 also takes 2% at claim level (CO-253, "
        "sequestration) and pays 0.50 interest as a provider-level adjustment (PLB L6)",
        RECEIVED,
        (ACCEPTED, PENDING, PAID),
        remittance_extras=RemittanceExtras("CO", "253", Decimal(2), "L6", Decimal("-0.50")),
    ),
    Scenario(
        "pend",
        "PEND",
        "A2 -> P1 -> P3 (information requested from the provider), and stays P3",
        RECEIVED,
        (ACCEPTED, PENDING, PENDING_INFO),
    ),
    Scenario(
        "slow",
        "SLOW",
        "A2, then P1 eight times, then F1 paid in full",
        RECEIVED,
        (ACCEPTED, *([PENDING] * 8), PAID),
    ),
    Scenario("never", "NEVER", "A2 -> P1 forever", RECEIVED, (ACCEPTED, PENDING)),
    Scenario(
        "reject",
        "REJECT",
        "the submission answers A7 (invalid member id); status keeps answering A7",
        REJECTED_MEMBER,
        (REJECTED_MEMBER,),
    ),
    Scenario(
        "reject999",
        "REJ999",
        "X12: the 837P's transaction set is rejected in the 999 (IK5*R, AK9*R) and the claim is not taken; "
        "JSON: A3 (unprocessable) at submission and forever",
        UNPROCESSABLE,
        (UNPROCESSABLE,),
        rejects_transaction_set=True,
    ),
)

_BY_NAME: dict[str, Scenario] = {s.name: s for s in (DEFAULT, *SCENARIOS)}


def scenario_for(member_id: str) -> Scenario:
    """The scenario a member id selects (the default one when no prefix matches)."""
    upper = member_id.upper()
    for scenario in SCENARIOS:
        if scenario.prefix is not None and upper.startswith(scenario.prefix):
            return scenario
    return DEFAULT


def scenario_named(name: str) -> Scenario:
    """Look a scenario up by its stored name."""
    return _BY_NAME[name]


def step_at(scenario: Scenario, index: int) -> Step:
    """The script step at index, clamped to the last step."""
    script = scenario.script
    return script[min(max(index, 0), len(script) - 1)]


def first_settled_index(scenario: Scenario) -> int | None:
    """Index of the first settled step of the script, or None if the script never settles."""
    for index, step in enumerate(scenario.script):
        if step.category in SETTLED:
            return index
    return None
