"""Adjuster assignment: skills, authority, supervisors, escalation, then the least loaded, ties by id."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.assignment import Adjuster, NoAdjusterError, WorkItem, choose_adjuster
from domain.errors import DomainError


def adjuster(
    adjuster_id: str,
    *,
    payer_ids: list[str] | None = None,
    limit: str = "5000.00",
    supervisor: bool = False,
    active: bool = True,
) -> Adjuster:
    return Adjuster(
        adjuster_id=adjuster_id,
        name=adjuster_id.title(),
        payer_ids=payer_ids or [],
        authority_limit=Decimal(limit),
        supervisor=supervisor,
        active=active,
    )


def item(amount: str = "100.00", payer_id: str = "SANDBOX") -> WorkItem:
    return WorkItem(payer_id=payer_id, amount=Decimal(amount))


def chosen_id(
    work: WorkItem,
    adjusters: list[Adjuster],
    load: dict[str, int] | None = None,
    *,
    escalate: bool = False,
    exclude: frozenset[str] = frozenset(),
) -> str:
    return choose_adjuster(work, adjusters, load or {}, escalate=escalate, exclude=exclude).adjuster_id


class TestSkills:
    def test_assignment_skips_an_adjuster_without_the_payer_skill(self) -> None:
        team = [adjuster("alice", payer_ids=["60054"]), adjuster("bob", payer_ids=["SANDBOX"])]
        assert chosen_id(item(payer_id="SANDBOX"), team, {"bob": 9}) == "bob"

    def test_assignment_treats_empty_payer_skills_as_every_payer(self) -> None:
        team = [adjuster("alice", payer_ids=["60054"]), adjuster("bob")]
        assert chosen_id(item(payer_id="87726"), team, {"bob": 9}) == "bob"

    def test_assignment_accepts_any_of_several_payer_skills(self) -> None:
        team = [adjuster("alice", payer_ids=["60054", "SANDBOX"])]
        assert chosen_id(item(payer_id="SANDBOX"), team) == "alice"

    def test_assignment_raises_when_no_one_covers_the_payer(self) -> None:
        team = [adjuster("alice", payer_ids=["60054"]), adjuster("carol", payer_ids=["60054"], supervisor=True)]
        with pytest.raises(NoAdjusterError):
            choose_adjuster(item(payer_id="SANDBOX"), team, {})


class TestAuthority:
    def test_assignment_takes_an_adjuster_whose_limit_equals_the_amount(self) -> None:
        assert chosen_id(item("1000.00"), [adjuster("alice", limit="1000.00")]) == "alice"

    def test_assignment_skips_an_adjuster_one_cent_short_of_the_amount(self) -> None:
        team = [adjuster("alice", limit="1000.00"), adjuster("bob", limit="1000.01")]
        assert chosen_id(item("1000.01"), team, {"bob": 9}) == "bob"

    def test_assignment_falls_back_to_a_supervisor_when_no_adjuster_has_the_authority(self) -> None:
        team = [adjuster("alice", limit="500.00"), adjuster("carol", limit="0.00", supervisor=True)]
        assert chosen_id(item("900.00"), team) == "carol"

    def test_assignment_raises_when_no_one_has_the_authority(self) -> None:
        with pytest.raises(NoAdjusterError, match=r"no active adjuster covers payer SANDBOX for 900\.00"):
            choose_adjuster(item("900.00"), [adjuster("alice", limit="500.00")], {})


class TestSupervisors:
    def test_first_assignment_prefers_an_adjuster_to_a_less_loaded_supervisor(self) -> None:
        team = [adjuster("carol", supervisor=True), adjuster("alice")]
        assert chosen_id(item(), team, {"carol": 0, "alice": 7}) == "alice"

    def test_first_assignment_picks_the_least_loaded_supervisor_when_only_supervisors_qualify(self) -> None:
        team = [adjuster("carol", supervisor=True), adjuster("dave", supervisor=True), adjuster("alice", limit="1")]
        assert chosen_id(item("50.00"), team, {"carol": 3, "dave": 1}) == "dave"


class TestEscalation:
    def test_escalation_chooses_only_supervisors(self) -> None:
        team = [adjuster("alice"), adjuster("carol", supervisor=True)]
        assert chosen_id(item(), team, {"alice": 0, "carol": 12}, escalate=True) == "carol"

    def test_escalation_ignores_the_supervisor_authority_limit(self) -> None:
        team = [adjuster("carol", limit="10.00", supervisor=True)]
        assert chosen_id(item("9999.00"), team, escalate=True) == "carol"

    def test_escalation_excludes_the_previous_adjuster(self) -> None:
        team = [adjuster("carol", supervisor=True), adjuster("dave", supervisor=True)]
        load = {"carol": 0, "dave": 5}
        assert chosen_id(item(), team, load, escalate=True, exclude=frozenset({"carol"})) == "dave"

    def test_escalation_raises_when_the_only_supervisor_is_the_previous_adjuster(self) -> None:
        team = [adjuster("alice"), adjuster("carol", supervisor=True)]
        with pytest.raises(NoAdjusterError, match="no active supervisor"):
            choose_adjuster(item(), team, {}, escalate=True, exclude=frozenset({"carol"}))

    def test_escalation_raises_when_there_is_no_supervisor(self) -> None:
        with pytest.raises(NoAdjusterError, match="no active supervisor"):
            choose_adjuster(item(), [adjuster("alice"), adjuster("bob")], {}, escalate=True)

    def test_escalation_still_needs_the_payer_skill(self) -> None:
        team = [adjuster("carol", payer_ids=["60054"], supervisor=True), adjuster("dave", supervisor=True)]
        assert chosen_id(item(payer_id="SANDBOX"), team, {"dave": 4}, escalate=True) == "dave"

    def test_first_assignment_also_honours_exclude(self) -> None:
        team = [adjuster("alice"), adjuster("bob")]
        assert chosen_id(item(), team, {"bob": 3}, exclude=frozenset({"alice"})) == "bob"


class TestLoad:
    def test_assignment_picks_the_least_loaded_eligible_adjuster(self) -> None:
        team = [adjuster("alice"), adjuster("bob"), adjuster("erin")]
        assert chosen_id(item(), team, {"alice": 4, "bob": 2, "erin": 3}) == "bob"

    def test_assignment_counts_an_adjuster_missing_from_the_load_as_having_none(self) -> None:
        team = [adjuster("alice"), adjuster("bob")]
        assert chosen_id(item(), team, {"alice": 1}) == "bob"

    def test_assignment_breaks_a_load_tie_by_adjuster_id_not_list_order(self) -> None:
        assert chosen_id(item(), [adjuster("bob"), adjuster("alice")], {"alice": 2, "bob": 2}) == "alice"
        assert chosen_id(item(), [adjuster("alice"), adjuster("bob")], {"alice": 2, "bob": 2}) == "alice"

    def test_assignment_skips_an_inactive_adjuster_even_when_least_loaded(self) -> None:
        team = [adjuster("alice", active=False), adjuster("bob")]
        assert chosen_id(item(), team, {"alice": 0, "bob": 8}) == "bob"

    def test_escalation_skips_an_inactive_supervisor(self) -> None:
        team = [adjuster("carol", supervisor=True, active=False), adjuster("dave", supervisor=True)]
        assert chosen_id(item(), team, {"dave": 8}, escalate=True) == "dave"


class TestNobodyEligible:
    def test_assignment_raises_a_domain_error_with_a_stable_code_when_the_team_is_empty(self) -> None:
        with pytest.raises(DomainError) as raised:
            choose_adjuster(item(), [], {})
        assert isinstance(raised.value, NoAdjusterError)
        assert raised.value.code == "no_adjuster"

    def test_assignment_raises_when_everyone_is_inactive(self) -> None:
        team = [adjuster("alice", active=False), adjuster("carol", supervisor=True, active=False)]
        with pytest.raises(NoAdjusterError):
            choose_adjuster(item(), team, {})


IDS = ["alice", "bob", "carol", "dave", "erin", "frank"]
PAYERS = ["SANDBOX", "60054", "87726"]


@st.composite
def teams(draw: st.DrawFn) -> list[Adjuster]:
    ids = draw(st.lists(st.sampled_from(IDS), unique=True, max_size=len(IDS)))
    return [
        Adjuster(
            adjuster_id=adjuster_id,
            name=adjuster_id,
            payer_ids=draw(st.lists(st.sampled_from(PAYERS), unique=True, max_size=2)),
            authority_limit=Decimal(draw(st.integers(0, 3000))),
            supervisor=draw(st.booleans()),
            active=draw(st.booleans()),
        )
        for adjuster_id in ids
    ]


WORK = st.builds(WorkItem, payer_id=st.sampled_from(PAYERS), amount=st.integers(0, 3000).map(lambda n: Decimal(n) / 2))
LOADS = st.dictionaries(st.sampled_from(IDS), st.integers(0, 5))
EXCLUDES = st.frozensets(st.sampled_from(IDS), max_size=2)


def _eligible(work: WorkItem, a: Adjuster, escalate: bool, exclude: frozenset[str]) -> bool:
    """The rules, restated: active, not excluded, skilled; a supervisor when escalating, else authority or a supervisor."""
    skilled = not a.payer_ids or work.payer_id in a.payer_ids
    authorised = a.supervisor if escalate else (a.supervisor or a.authority_limit >= work.amount)
    return a.active and a.adjuster_id not in exclude and skilled and authorised


class TestProperties:
    @given(work=WORK, team=teams(), load=LOADS, escalate=st.booleans(), exclude=EXCLUDES)
    def test_assignment_chooses_an_eligible_adjuster_no_one_eligible_is_less_loaded_than(
        self,
        work: WorkItem,
        team: list[Adjuster],
        load: dict[str, int],
        escalate: bool,
        exclude: frozenset[str],
    ) -> None:
        eligible = [a for a in team if _eligible(work, a, escalate, exclude)]
        if not eligible:
            with pytest.raises(NoAdjusterError):
                choose_adjuster(work, team, load, escalate=escalate, exclude=exclude)
            return
        chosen = choose_adjuster(work, team, load, escalate=escalate, exclude=exclude)
        assert chosen in eligible
        preferred = [a for a in eligible if a.supervisor == escalate] or eligible
        assert chosen in preferred
        assert load.get(chosen.adjuster_id, 0) == min(load.get(a.adjuster_id, 0) for a in preferred)

    @given(work=WORK, team=teams(), load=LOADS, escalate=st.booleans(), order=st.randoms(use_true_random=False))
    def test_assignment_does_not_depend_on_the_order_of_the_team(
        self, work: WorkItem, team: list[Adjuster], load: dict[str, int], escalate: bool, order: random.Random
    ) -> None:
        shuffled = list(team)
        order.shuffle(shuffled)
        try:
            first = choose_adjuster(work, team, load, escalate=escalate)
        except NoAdjusterError:
            with pytest.raises(NoAdjusterError):
                choose_adjuster(work, shuffled, load, escalate=escalate)
            return
        assert choose_adjuster(work, shuffled, load, escalate=escalate) == first
