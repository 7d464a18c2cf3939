"""Date rules: service dates and the date of birth are possible, and the claim is not stale."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from domain.validation.issues import Severity
from domain.validation.registry import Finding, Rule, RuleContext

MAX_AGE_YEARS = 150
#: Past this many days after the service most payers refuse a claim (Medicare: 12 months).
TIMELY_FILING_DAYS = 365


def age_on(birth: date, on: date) -> int:
    """Whole years of age on a date."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def service_in_future(ctx: RuleContext) -> Iterator[Finding]:
    for i, line in enumerate(ctx.claim.lines):
        if line.service_date > ctx.today:
            yield f"lines[{i}].service_date", {}


def service_before_birth(ctx: RuleContext) -> Iterator[Finding]:
    if ctx.dob_in_future:  # one wrong date of birth, reported once by its own rule
        return
    birth = ctx.claim.patient.date_of_birth
    for i, line in enumerate(ctx.claim.lines):
        if line.service_date < birth:
            yield f"lines[{i}].service_date", {}


def timely_filing(ctx: RuleContext) -> Iterator[Finding]:
    for i, line in enumerate(ctx.claim.lines):
        if (ctx.today - line.service_date).days > TIMELY_FILING_DAYS:
            yield f"lines[{i}].service_date", {}


def birth_in_future(ctx: RuleContext) -> Iterator[Finding]:
    if ctx.dob_in_future:
        yield "patient.date_of_birth", {}


def age(ctx: RuleContext) -> Iterator[Finding]:
    birth = ctx.claim.patient.date_of_birth
    latest = max((line.service_date for line in ctx.claim.lines), default=ctx.today)
    if age_on(birth, latest) >= MAX_AGE_YEARS:
        yield "patient.date_of_birth", {}


# The messages never echo the date of birth.
RULES = (
    Rule(
        "service_date.future",
        Severity.ERROR,
        "lines[].service_date",
        "no service date after today",
        service_in_future,
        lambda _: "the service date is in the future; send the claim once the service has been performed",
    ),
    Rule(
        "service_date.before_birth",
        Severity.ERROR,
        "lines[].service_date",
        "no service date before the date of birth",
        service_before_birth,
        lambda _: (
            "the service date is before the patient's date of birth; correct the service date or the date of birth"
        ),
    ),
    Rule(
        "service_date.timely_filing",
        Severity.WARNING,
        "lines[].service_date",
        f"the service is at most {TIMELY_FILING_DAYS} days old",
        timely_filing,
        lambda _: (
            f"the service is more than {TIMELY_FILING_DAYS} days old and may be past the payer's timely "
            "filing limit; check the payer's limit and keep proof of any earlier submission"
        ),
    ),
    Rule(
        "date_of_birth.future",
        Severity.ERROR,
        "patient.date_of_birth",
        "no date of birth after today",
        birth_in_future,
        lambda _: "the date of birth is in the future; correct the patient's date of birth",
    ),
    Rule(
        "date_of_birth.age",
        Severity.ERROR,
        "patient.date_of_birth",
        "age under 150 on the service date",
        age,
        lambda _: (
            f"the date of birth makes the patient {MAX_AGE_YEARS} or older on the service date; "
            "correct the patient's date of birth"
        ),
    ),
)
