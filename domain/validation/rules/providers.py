"""Provider rules: NPI format and check digit for every provider, and the billing provider's tax id."""

from __future__ import annotations

import re
from collections.abc import Iterator

from domain.validation.issues import Severity
from domain.validation.registry import Finding, Rule, RuleContext

NPI = re.compile(r"[0-9]{10}")
#: A tax id (EIN or SSN) is 9 digits; the EIN spelling with a hyphen after the 2nd digit is
#: accepted too. The value is never echoed back: it may be a person's SSN.
TAX_ID = re.compile(r"[0-9]{9}|[0-9]{2}-[0-9]{7}")


def npi_check_digit(first_nine: str) -> str:
    """The NPI check digit: Luhn (ISO/IEC 7812) over the card prefix "80840" and the first 9 digits."""
    total = 0
    for position, char in enumerate(reversed("80840" + first_nine)):
        digit = int(char)
        if position % 2 == 0:  # every other digit from the right of the payload is doubled
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def is_valid_npi(npi: str) -> bool:
    """Whether the string is a 10-digit NPI with a correct check digit."""
    return NPI.fullmatch(npi) is not None and npi_check_digit(npi[:9]) == npi[9]


def _npis(ctx: RuleContext) -> Iterator[tuple[str, str]]:
    claim = ctx.claim
    yield "billing_provider.npi", claim.billing_provider.npi
    if claim.rendering_provider is not None:
        yield "rendering_provider.npi", claim.rendering_provider.npi
    if claim.referring_provider is not None:
        yield "referring_provider.npi", claim.referring_provider.npi


def npi_format(ctx: RuleContext) -> Iterator[Finding]:
    for path, npi in _npis(ctx):
        if NPI.fullmatch(npi) is None:
            yield path, {}


def npi_check(ctx: RuleContext) -> Iterator[Finding]:
    for path, npi in _npis(ctx):
        if NPI.fullmatch(npi) is not None and npi_check_digit(npi[:9]) != npi[9]:
            yield path, {}


def tax_id_format(ctx: RuleContext) -> Iterator[Finding]:
    tax_id = ctx.claim.billing_provider.tax_id
    if TAX_ID.fullmatch(tax_id) is None:
        yield "billing_provider.tax_id", {}


RULES = (
    Rule(
        "npi.format",
        Severity.ERROR,
        "*.npi",
        "every provider NPI is 10 digits",
        npi_format,
        lambda m: f"{m.text} is not an NPI; an NPI is exactly 10 digits, with no spaces or dashes",
    ),
    Rule(
        "npi.check_digit",
        Severity.ERROR,
        "*.npi",
        "every provider NPI has a valid Luhn check digit",
        npi_check,
        lambda m: f"{m.text} fails the NPI check digit, so a digit is wrong; copy the NPI again from NPPES",
    ),
    Rule(
        "tax_id.format",
        Severity.ERROR,
        "billing_provider.tax_id",
        "the tax id is 9 digits",
        tax_id_format,
        # never the value: it may be a person's SSN
        lambda _: "the tax id is not 9 digits; send the 9 digits as 123456789 (an EIN may be written 12-3456789)",
    ),
)
