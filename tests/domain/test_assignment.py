"""Adjuster assignment: rules as data (the first matching rule picks the pool), skills, authority, supervisors,
escalation, capacity, then the least loaded relative to capacity, ties by id."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.assignment import (
    Adjuster,
    AdjusterStatus,
    AssignmentRule,
    ClaimKind,
    NoAdjusterError,
    RuleMatch,
    RuleSet,
    WorkItem,
    assign,
    choose_adjuster,
    claim_kind_of,
    status_flags,
)
from domain.errors import DomainError
from domain.lineage import LineageKind


def adjuster(
    adjuster_id: str,
    *,
    payer_ids: list[str] | None = None,
    limit: str = "5000.00",
    supervisor: bool = False,
    active: bool = True,
    away: bool = False,
    capacity: int = 25,
    team: str | None = None,
    claim_kinds: list[ClaimKind] | None = None,
    org_ids: list[str] | None = None,
) -> Adjuster:
    return Adjuster(
        adjuster_id=adjuster_id,
        name=adjuster_id.title(),
        payer_ids=payer_ids or [],
        claim_kinds=claim_kinds or [],
        org_ids=org_ids or [],
        authority_limit=Decimal(limit),
        capacity=capacity,
        supervisor=supervisor,
        active=active,
        away=away,
        team=team,
    )


def item(
    amount: str = "100.00",
    payer_id: str = "SANDBOX",
    *,
    org_id: str = "org-1",
    kind: ClaimKind = ClaimKind.ORIGINAL,
) -> WorkItem:
    return WorkItem(payer_id=payer_id, amount=Decimal(amount), org_id=org_id, claim_kind=kind)


def chosen_id(
    work: WorkItem,
    adjusters: list[Adjuster],
    load: dict[str, int] | None = None,
    *,
    escalate: bool = False,
    exclude: frozenset[str] = frozenset(),
) -> str:
    return choose_adjuster(work, adjusters, load or {}, escalate=escalate, exclude=exclude).adjuster_id


def rule_set(*rules: AssignmentRule, version: int = 3) -> RuleSet:
    return RuleSet(version=version, rules=list(rules), set_by="admin:root", set_at=datetime(2026, 12, 1, tzinfo=UTC))


#: Version 1 as seeded (db/seed/assignment_rules.json): one rule, everyone in the pool.
DEFAULT = rule_set(AssignmentRule(rule_id="default"), version=1)


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
            away=draw(st.booleans()),
        )
        for adjuster_id in ids
    ]


WORK = st.builds(WorkItem, payer_id=st.sampled_from(PAYERS), amount=st.integers(0, 3000).map(lambda n: Decimal(n) / 2))
LOADS = st.dictionaries(st.sampled_from(IDS), st.integers(0, 5))
EXCLUDES = st.frozensets(st.sampled_from(IDS), max_size=2)


def _eligible(work: WorkItem, a: Adjuster, escalate: bool, exclude: frozenset[str]) -> bool:
    """The rules, restated: active and not away, not excluded, skilled; a supervisor when escalating, else authority
    or a supervisor."""
    skilled = not a.payer_ids or work.payer_id in a.payer_ids
    authorised = a.supervisor if escalate else (a.supervisor or a.authority_limit >= work.amount)
    return a.active and not a.away and a.adjuster_id not in exclude and skilled and authorised


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


# ---- rules as data: a table of claims x adjusters -------------------------------------------------------------

TEAM = [
    adjuster("alice", team="review"),
    adjuster("bob", payer_ids=["SANDBOX"], limit="1000.00", team="review"),
    adjuster("carol", limit="1000000.00", supervisor=True, team="review"),
    adjuster("dave", limit="2000.00", team="cardio", claim_kinds=[ClaimKind.ORIGINAL]),
    adjuster("erin", team="cardio", away=True),
    adjuster("frank", team="corrections", claim_kinds=[ClaimKind.REPLACEMENT, ClaimKind.VOID]),
    adjuster("gina", limit="20000.00", team="big", org_ids=["org-big"]),
    adjuster("hal", limit="1000000.00", supervisor=True, team="big"),
    adjuster("ivan", team="review", active=False),
]
RULES = rule_set(
    AssignmentRule(rule_id="big-org", match=RuleMatch(org_ids=["org-big"]), team="big"),
    AssignmentRule(
        rule_id="corrections", match=RuleMatch(claim_kinds=[ClaimKind.REPLACEMENT, ClaimKind.VOID]), team="corrections"
    ),
    AssignmentRule(rule_id="high-value", match=RuleMatch(min_amount=Decimal("10000.00")), require_supervisor=True),
    AssignmentRule(rule_id="cardio-payer", match=RuleMatch(payer_ids=["60054"]), team="cardio"),
    AssignmentRule(rule_id="default"),
)
FULL = 25


@pytest.mark.parametrize(
    ("work", "load", "expected", "rule"),
    [
        pytest.param(item(), {}, "alice", "default", id="idle-team-tie-broken-by-id"),
        pytest.param(item(), {"alice": 1}, "bob", "default", id="least-loaded"),
        pytest.param(item("1500.00"), {"alice": 3, "dave": 1}, "dave", "default", id="bob-lacks-authority"),
        pytest.param(item(payer_id="87726"), {"alice": 2}, "dave", "default", id="bob-lacks-the-payer-skill"),
        pytest.param(item(payer_id="60054"), {}, "dave", "cardio-payer", id="team-rule-erin-away"),
        pytest.param(item("3000.00", "60054"), {}, None, "cardio-payer", id="team-rule-nobody-with-authority"),
        pytest.param(item(kind=ClaimKind.REPLACEMENT), {}, "frank", "corrections", id="claim-kind-rule"),
        pytest.param(item(kind=ClaimKind.VOID, org_id="org-big"), {}, "gina", "big-org", id="first-matching-rule"),
        pytest.param(item("15000.00", org_id="org-big"), {}, "gina", "big-org", id="org-rule-before-amount-rule"),
        pytest.param(item("25000.00", org_id="org-big"), {}, "hal", "big-org", id="supervisor-when-none-has-authority"),
        pytest.param(item("12000.00"), {"carol": 1}, "hal", "high-value", id="supervisors-only-rule"),
        pytest.param(item("9999.99"), {}, "carol", "default", id="a-cent-below-the-amount-rule"),
        pytest.param(item("10000.00"), {}, "carol", "high-value", id="at-the-amount-rules-minimum"),
        pytest.param(
            item(), {"alice": FULL, "bob": FULL, "dave": FULL}, "carol", "default", id="below-capacity-before-role"
        ),
        pytest.param(
            item(),
            {"alice": FULL, "bob": FULL, "dave": FULL, "carol": FULL, "hal": FULL},
            "alice",
            "default",
            id="everyone-at-capacity-still-assigned",
        ),
    ],
)
def test_rules_table_picks_the_pool_then_skill_authority_capacity_and_load(
    work: WorkItem, load: dict[str, int], expected: str | None, rule: str
) -> None:
    if expected is None:
        with pytest.raises(NoAdjusterError, match=f"pool of rule {rule}@v3"):
            assign(work, TEAM, load, RULES)
        return
    chosen = assign(work, TEAM, load, RULES)
    assert (chosen.adjuster.adjuster_id, chosen.rule_id, chosen.rule_version) == (expected, rule, 3)
    assert chosen.label == f"{rule}@v3"


class TestRules:
    def test_the_seeded_default_rules_choose_as_choose_adjuster_does(self) -> None:
        for load in ({}, {"alice": 4, "bob": 2}, {"alice": 1, "bob": 1, "dave": 0}):
            for work in (item(), item("1500.00"), item(payer_id="87726")):
                chosen = assign(work, TEAM, load, DEFAULT)
                assert chosen.adjuster == choose_adjuster(work, TEAM, load)
                assert chosen.label == "default@v1"

    def test_escalation_under_rules_takes_a_supervisor_of_the_rules_pool(self) -> None:
        chosen = assign(item(), TEAM, {}, RULES, escalate=True, exclude=frozenset({"alice"}))
        assert chosen.adjuster.adjuster_id == "carol" and chosen.rule_id == "default"
        big = assign(item(org_id="org-big"), TEAM, {}, RULES, escalate=True, exclude=frozenset({"gina"}))
        assert big.adjuster.adjuster_id == "hal" and big.rule_id == "big-org"

    def test_a_claim_no_rule_matches_is_left_unassigned_naming_the_version(self) -> None:
        only_big = rule_set(AssignmentRule(rule_id="big-org", match=RuleMatch(org_ids=["org-big"]), team="big"))
        with pytest.raises(NoAdjusterError, match="no assignment rule of version 3 matches the claim"):
            assign(item(), TEAM, {}, only_big)

    def test_the_amount_range_includes_its_minimum_and_excludes_its_maximum(self) -> None:
        middle = RuleMatch(min_amount=Decimal("100.00"), max_amount=Decimal("200.00"))
        assert [middle.matches(item(amount)) for amount in ("99.99", "100.00", "199.99", "200.00")] == [
            False,
            True,
            True,
            False,
        ]

    def test_a_range_whose_minimum_is_not_below_its_maximum_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="min_amount must be below max_amount"):
            RuleMatch(min_amount=Decimal("200.00"), max_amount=Decimal("200.00"))

    @pytest.mark.parametrize("rule_id", ["", "Has Spaces", "-leading-dash", "x" * 41])
    def test_a_rule_id_that_is_not_an_id_is_refused(self, rule_id: str) -> None:
        with pytest.raises(ValidationError):
            AssignmentRule(rule_id=rule_id)

    def test_an_empty_match_takes_every_claim(self) -> None:
        assert all(
            RuleMatch().matches(work)
            for work in (item(), item("0.00", "87726", org_id="x", kind=ClaimKind.VOID), item("99999999.99"))
        )

    def test_claim_kind_follows_the_claims_lineage(self) -> None:
        assert claim_kind_of(None) is ClaimKind.ORIGINAL
        assert claim_kind_of(LineageKind.REPLACES) is ClaimKind.REPLACEMENT
        assert claim_kind_of(LineageKind.VOIDS) is ClaimKind.VOID


class TestStatusAndSkills:
    @pytest.mark.parametrize("status", list(AdjusterStatus))
    def test_status_is_stored_as_active_and_away_flags_and_read_back(self, status: AdjusterStatus) -> None:
        assert adjuster("alice").model_copy(update=status_flags(status)).status is status

    def test_an_away_adjuster_is_never_chosen_even_when_idle(self) -> None:
        team = [adjuster("alice", away=True), adjuster("bob")]
        assert chosen_id(item(), team, {"bob": 20}) == "bob"

    def test_only_away_adjusters_leaves_the_claim_unassigned(self) -> None:
        with pytest.raises(NoAdjusterError):
            choose_adjuster(item(), [adjuster("alice", away=True)], {})

    def test_organizations_served_restrict_an_adjuster(self) -> None:
        team = [adjuster("alice", org_ids=["org-2"]), adjuster("bob")]
        assert chosen_id(item(org_id="org-1"), team, {"bob": 9}) == "bob"
        assert chosen_id(item(org_id="org-2"), team, {"bob": 9}) == "alice"

    def test_claim_kinds_restrict_an_adjuster(self) -> None:
        team = [adjuster("alice", claim_kinds=[ClaimKind.VOID]), adjuster("bob")]
        assert chosen_id(item(kind=ClaimKind.ORIGINAL), team, {"bob": 9}) == "bob"
        assert chosen_id(item(kind=ClaimKind.VOID), team, {"bob": 9}) == "alice"


class TestCapacity:
    def test_an_adjuster_at_capacity_is_skipped_for_one_below_it(self) -> None:
        team = [adjuster("alice", capacity=3), adjuster("bob", capacity=10)]
        assert chosen_id(item(), team, {"alice": 3, "bob": 5}) == "bob"

    def test_load_is_compared_relative_to_capacity(self) -> None:
        team = [adjuster("alice", capacity=10), adjuster("bob", capacity=40)]
        assert chosen_id(item(), team, {"alice": 5, "bob": 10}) == "bob"  # 50% against 25%
        assert chosen_id(item(), team, {"alice": 2, "bob": 10}) == "alice"  # 20% against 25%

    def test_when_everyone_is_at_capacity_the_least_loaded_relative_to_capacity_still_gets_the_claim(self) -> None:
        team = [adjuster("alice", capacity=2), adjuster("bob", capacity=4)]
        assert chosen_id(item(), team, {"alice": 4, "bob": 6}) == "bob"  # 200% against 150%

    def test_capacity_below_one_is_refused(self) -> None:
        with pytest.raises(ValidationError):
            adjuster("alice", capacity=0)


def test_a_hundred_claims_over_five_adjusters_fill_each_exactly_to_capacity_balanced_all_along() -> None:
    capacities = {"ann": 10, "ben": 15, "cat": 20, "dan": 25, "eve": 30}
    team = [adjuster(name, capacity=capacity) for name, capacity in capacities.items()]
    load: Counter[str] = Counter()
    widest = max(1 / capacity for capacity in capacities.values())
    for n in range(100):
        chosen = assign(item(f"{10 + n}.00"), team, dict(load), DEFAULT)
        load[chosen.adjuster.adjuster_id] += 1
        ratios = [load[name] / capacity for name, capacity in capacities.items()]
        assert all(load[name] <= capacity for name, capacity in capacities.items())
        assert max(ratios) - min(ratios) <= widest + 1e-9, (n, dict(load))
    assert dict(load) == capacities
