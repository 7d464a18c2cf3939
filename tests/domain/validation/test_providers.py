"""Provider rules: NPI format and check digit for every provider, the billing tax id."""

from __future__ import annotations

import pytest

from domain.validation import is_valid_npi, npi_check_digit
from tests.domain.factories import make_claim, valid_npi
from tests.domain.validation.support import findings, report

# 1234567893 is the worked example in CMS's NPI check-digit document; the others are checked
# below by the document's own method, independently of the implementation. The invalid ones
# change one digit of a valid NPI, or are not NPIs at all.
VALID_NPIS = ["1234567893", "1245319599", "1003000126", "1497758544", "1588667638"]
INVALID_NPIS = ["1234567890", "1234567894", "1245319590", "2234567893", "0000000001"]


def cms_method(npi: str) -> bool:
    """CMS's worked method: double alternate digits from the right of the first 9, add 24, round up to 10."""
    digits = [int(c) for c in npi[:9]]
    total = 24
    for position, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if position % 2 == 0 else digit
        total += doubled // 10 + doubled % 10
    return (-total) % 10 == int(npi[9])


class TestCheckDigit:
    @pytest.mark.parametrize("npi", VALID_NPIS + INVALID_NPIS)
    def test_the_examples_agree_with_the_cms_method(self, npi: str) -> None:
        assert cms_method(npi) is (npi in VALID_NPIS)

    @pytest.mark.parametrize("npi", VALID_NPIS)
    def test_published_npis_are_valid(self, npi: str) -> None:
        assert is_valid_npi(npi)

    @pytest.mark.parametrize("npi", INVALID_NPIS)
    def test_a_changed_digit_is_caught(self, npi: str) -> None:
        assert not is_valid_npi(npi)

    def test_the_cms_example_check_digit(self) -> None:
        assert npi_check_digit("123456789") == "3"

    @pytest.mark.parametrize("path", ["billing_provider", "rendering_provider", "referring_provider"])
    def test_every_provider_is_checked(self, path: str) -> None:
        claim = make_claim(**{path: {"npi": "1234567890", "name": "Dr Test"}})
        assert findings(claim) == {("npi.check_digit", f"{path}.npi")}

    @pytest.mark.parametrize("path", ["billing_provider", "rendering_provider", "referring_provider"])
    def test_valid_npis_pass_for_every_provider(self, path: str) -> None:
        assert findings(make_claim(**{path: {"npi": valid_npi("198765432"), "name": "Dr Test"}})) == set()


class TestFormat:
    @pytest.mark.parametrize("npi", ["123456789", "12345678931", "123456789A", "1234-56789"])
    def test_not_ten_digits_fails_format_only(self, npi: str) -> None:
        claim = make_claim(rendering_provider={"npi": npi})
        assert findings(claim) == {("npi.format", "rendering_provider.npi")}


class TestTaxId:
    @pytest.mark.parametrize("tax_id", ["123456789", "12-3456789"])
    def test_nine_digits_or_ein_spelling_pass(self, tax_id: str) -> None:
        assert findings(make_claim(billing_provider__tax_id=tax_id)) == set()

    @pytest.mark.parametrize("tax_id", ["12345678", "1234567890", "123-45-6789", "12345678A"])
    def test_anything_else_fails(self, tax_id: str) -> None:
        assert findings(make_claim(billing_provider__tax_id=tax_id)) == {("tax_id.format", "billing_provider.tax_id")}

    def test_the_tax_id_is_not_echoed(self) -> None:
        (issue,) = report(make_claim(billing_provider__tax_id="123-45-6789")).errors
        assert "123-45-6789" not in issue.message
