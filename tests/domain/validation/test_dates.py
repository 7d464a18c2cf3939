"""Date rules: service dates, the date of birth, age, timely filing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.validation.rules.dates import age_on
from tests.domain.factories import line_body, make_claim
from tests.domain.validation.support import findings, report

TODAY = date.today()


def _service_date() -> date:
    """A recent service date that also exists 150 years earlier (never 29 February)."""
    service = TODAY - timedelta(days=3)
    return service - timedelta(days=1) if (service.month, service.day) == (2, 29) else service


class TestServiceDate:
    def test_today_passes(self) -> None:
        assert findings(make_claim(lines__0__service_date=TODAY)) == set()

    def test_tomorrow_fails(self) -> None:
        claim = make_claim(lines__0__service_date=TODAY + timedelta(days=1))
        assert findings(claim) == {("service_date.future", "lines[0].service_date")}

    def test_before_the_date_of_birth_fails(self) -> None:
        born = TODAY - timedelta(days=20)
        claim = make_claim(patient__date_of_birth=born, lines__0__service_date=born - timedelta(days=1))
        assert findings(claim) == {("service_date.before_birth", "lines[0].service_date")}

    def test_on_the_date_of_birth_passes(self) -> None:
        born = TODAY - timedelta(days=20)
        assert findings(make_claim(patient__date_of_birth=born, lines__0__service_date=born)) == set()

    def test_each_line_is_judged(self) -> None:
        lines = [line_body(), line_body(service_date=TODAY + timedelta(days=2), line_control_number="L2")]
        assert findings(make_claim(lines=lines)) == {("service_date.future", "lines[1].service_date")}


class TestTimelyFiling:
    def test_a_year_old_service_passes(self) -> None:
        assert findings(make_claim(lines__0__service_date=TODAY - timedelta(days=365))) == set()

    def test_an_older_service_warns(self) -> None:
        claim = make_claim(lines__0__service_date=TODAY - timedelta(days=366))
        assert findings(claim) == {("service_date.timely_filing", "lines[0].service_date")}
        assert report(claim).valid


class TestDateOfBirth:
    def test_in_the_future_fails_once(self) -> None:
        claim = make_claim(patient__date_of_birth=TODAY + timedelta(days=1))
        assert findings(claim) == {("date_of_birth.future", "patient.date_of_birth")}

    def test_age_149_passes(self) -> None:
        service = _service_date()
        born = service.replace(year=service.year - 150) + timedelta(days=1)
        assert age_on(born, service) == 149
        assert findings(make_claim(patient__date_of_birth=born, lines__0__service_date=service)) == set()

    def test_age_150_fails(self) -> None:
        service = _service_date()
        born = service.replace(year=service.year - 150)
        claim = make_claim(patient__date_of_birth=born, lines__0__service_date=service)
        assert findings(claim) == {("date_of_birth.age", "patient.date_of_birth")}

    @pytest.mark.parametrize(
        ("born", "on", "age"),
        [
            (date(2000, 2, 29), date(2001, 2, 28), 0),
            (date(2000, 2, 29), date(2001, 3, 1), 1),
            (date(1990, 5, 5), date(2020, 5, 5), 30),
        ],
    )
    def test_age_counts_whole_years(self, born: date, on: date, age: int) -> None:
        assert age_on(born, on) == age

    def test_messages_never_echo_the_date_of_birth(self) -> None:
        born = TODAY + timedelta(days=1)
        claim = make_claim(patient__date_of_birth=born)
        assert all(born.isoformat() not in issue.message for issue in report(claim).issues)
