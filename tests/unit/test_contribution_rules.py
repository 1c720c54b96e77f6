"""Cases across areas, as pure rules: a contributing partnership's coordination task and its own
agencies' tasks on the lead's case, what it may and may not touch, and a contribution to a review led
elsewhere (its deadline, what was sent, the case closing)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from safeguarding.domain.case import (
    CaseFile,
    ContributionSent,
    ExternalLead,
    ExternalReviewKind,
    InformationRequest,
    InformationReturn,
    Stage,
)
from safeguarding.domain.deadlines import DeadlineStatus
from safeguarding.domain.facts import Route
from safeguarding.domain.milestones import Milestone
from safeguarding.domain.notices import NoticeKind
from safeguarding.domain.partnerships import Contribution, ContributionBasis
from safeguarding.domain.people import Actor, Role
from safeguarding.domain.refusal import RefusalKind
from safeguarding.domain.rules import contributions, rapid_review, tasks
from safeguarding.domain.tasks import TaskStatus, TaskWithdrawal
from tests.factories import (
    AWARE,
    BUSINESS_UNIT,
    OPENED,
    POLICY,
    REFERRED,
    REQUESTED,
    assert_refused,
    opening,
    reach,
    take,
    utc,
)

LEAD, CONTRIBUTOR = "luton", "central-bedfordshire"


def bu_of(partnership: str) -> Actor:
    return Actor(
        user_id=f"bu.{partnership}",
        role=Role.business_unit,
        partnerships=[partnership],
        partnership=partnership,
    )


def agency_of(code: str, *partnerships: str) -> Actor:
    return Actor(
        user_id=f"{code}.officer",
        role=Role.partner_agency,
        agency=code,
        partnerships=list(partnerships),
        partnership=partnerships[0],
    )


def cross_area_case() -> CaseFile:
    """Incident in Luton, child looked after by Central Bedfordshire: opened as the workflow opens it."""
    crossing = opening(
        contributors=[Contribution(partnership=CONTRIBUTOR, basis=ContributionBasis.looked_after)]
    )
    file = CaseFile.open(crossing, POLICY, OPENED)
    asked, reached = contributions.open_contributions(file, OPENED)
    reach(file, reached, OPENED)
    for task in asked:
        tasks.announce(file, task)
    return file


def ask(file: CaseFile, actor: Actor, *agencies: str) -> list:
    request = InformationRequest(agencies=list(agencies), asked_for="A chronology of involvement")
    rapid_review.check_information_request(file, actor, request, REQUESTED)
    asked, reached = rapid_review.apply_information_request(file, actor, request, REQUESTED)
    reach(file, reached, REQUESTED)
    for task in asked:
        tasks.announce(file, task)
    return asked


def test_a_contributor_gets_a_coordination_task_due_by_the_policy_and_told_to_its_own_directory() -> None:
    file = cross_area_case()
    (task,) = file.tasks
    assert (task.agency, task.kind, task.partnership) == ("business_unit", "coordination", CONTRIBUTOR)
    (deadline,) = [d for d in file.deadlines if d.subject == task.id]
    assert deadline.key == "contribution_coordinated" and task.due_at == deadline.due_at
    (notice,) = [n for n in file.notices if n.kind is NoticeKind.task_assigned]
    assert (notice.partnership, notice.recipients_in, notice.owning_agency) == (
        LEAD,
        CONTRIBUTOR,
        "business_unit",
    )


def test_a_contributor_asks_its_own_agencies_and_the_lead_its_own_even_the_same_organisation() -> None:
    file = cross_area_case()
    (theirs,) = ask(file, bu_of(CONTRIBUTOR), "bedfordshire-police")
    (ours,) = ask(file, bu_of(LEAD), "bedfordshire-police")  # one organisation, two partnerships' entries
    assert (theirs.partnership, ours.partnership) == (CONTRIBUTOR, None)
    assert {n.recipients_in for n in file.notices if n.task_id in (theirs.id, ours.id)} == {CONTRIBUTOR, None}
    repeated = InformationRequest(agencies=["bedfordshire-police"], asked_for="Again")
    assert_refused(
        rapid_review.check_information_request, file, bu_of(CONTRIBUTOR), repeated, REQUESTED,
        RefusalKind.not_allowed_now, theirs.id,
    )  # fmt: skip


def test_a_contributor_finds_none_of_the_leads_tasks() -> None:
    file = cross_area_case()
    (ours,) = ask(file, bu_of(LEAD), "luton-schools")
    withdrawal = TaskWithdrawal(task_id=ours.id, reasons="Not needed")
    assert_refused(
        tasks.check_task_withdrawal, file, bu_of(CONTRIBUTOR), withdrawal, REQUESTED,
        RefusalKind.not_found, f"has no task {ours.id}",
    )  # fmt: skip
    returned = InformationReturn(task_id=ours.id, summary="Sent by email")
    assert_refused(
        rapid_review.check_information_return, file, bu_of(CONTRIBUTOR), returned, REQUESTED,
        RefusalKind.not_found, f"has no task {ours.id}",
    )  # fmt: skip


def test_an_agency_returns_only_what_its_own_partnerships_asked_of_it() -> None:
    file = cross_area_case()
    (theirs,) = ask(file, bu_of(CONTRIBUTOR), "bedfordshire-police")
    returned = InformationReturn(task_id=theirs.id, summary="Chronology attached", documents=["chronology"])
    luton_only = agency_of("bedfordshire-police", LEAD)
    assert_refused(
        rapid_review.check_information_return, file, luton_only, returned, REQUESTED, RefusalKind.not_found,
        f"has no task {theirs.id}",
    )  # fmt: skip
    serving_both = agency_of("bedfordshire-police", LEAD, CONTRIBUTOR)
    take(file, rapid_review.check_information_return, rapid_review.apply_information_return, serving_both,
         returned, REQUESTED + timedelta(days=1))  # fmt: skip
    assert file.task(theirs.id).status is TaskStatus.completed  # type: ignore[union-attr]


def test_the_coordination_task_completed_meets_its_deadline() -> None:
    file = cross_area_case()
    (coordination,) = file.tasks
    done = InformationReturn(task_id=coordination.id, summary="All three agencies' returns sent to Luton")
    take(file, rapid_review.check_information_return, rapid_review.apply_information_return,
         bu_of(CONTRIBUTOR), done, utc(2026, 10, 12))  # fmt: skip
    (deadline,) = [d for d in file.deadlines if d.subject == coordination.id]
    assert deadline.status is DeadlineStatus.met and deadline.met_at == utc(2026, 10, 12)


# ---------------------------------------------------------------- a contribution to a review led elsewhere

HERTS = ExternalLead(
    name="Hertfordshire Safeguarding Children Partnership", review=ExternalReviewKind.rapid_review
)


def contribution_case() -> CaseFile:
    file = CaseFile.open(opening(Route.contribution_to_external_review, external_lead=HERTS), POLICY, OPENED)
    reach(file, [(Milestone.case_opened, AWARE, None), (Milestone.referral_made, REFERRED, None)], OPENED)
    return file


def test_a_contribution_opens_at_its_own_stage_with_the_policys_deadline_and_nothing_to_notify() -> None:
    file = contribution_case()
    assert file.stage is Stage.contributing and not file.notifiable and not file.is_referral
    keys = {d.key for d in file.deadlines}
    assert keys == {"external_review_contribution"}, keys


def test_sending_the_contribution_waits_for_the_agencies_then_meets_its_deadline_and_closes_the_case() -> (
    None
):
    file = contribution_case()
    (task,) = ask(file, BUSINESS_UNIT, "luton-schools")
    sent = ContributionSent(sent_at=utc(2026, 10, 20), documents=["Combined chronology", "Agency report"])
    assert_refused(
        contributions.check_contribution_sent, file, BUSINESS_UNIT, sent, utc(2026, 10, 21),
        RefusalKind.not_allowed_now, task.id,
    )  # fmt: skip
    tasks.withdraw_task(file, task, BUSINESS_UNIT, "Returned by phone instead", utc(2026, 10, 19))
    take(file, contributions.check_contribution_sent, contributions.apply_contribution_sent, BUSINESS_UNIT,
         sent, utc(2026, 10, 21))  # fmt: skip
    contributions.close_contribution(file, utc(2026, 10, 21))
    (deadline,) = [d for d in file.deadlines if d.key == "external_review_contribution"]
    assert deadline.status is DeadlineStatus.met and deadline.met_at == utc(2026, 10, 20)
    assert (file.stage, file.outcome) == (Stage.closed, "contribution_sent")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"external_lead": None}, "names the area that leads it"),
        ({"contributors": [{"partnership": "bedford-borough", "basis": "lives"}]}, "no contributors"),
    ],
)
def test_a_contribution_names_its_lead_and_nothing_of_its_own(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        opening(Route.contribution_to_external_review, **({"external_lead": HERTS} | change))


def test_a_case_names_each_contributor_once_and_never_itself() -> None:
    with pytest.raises(ValueError, match="does not contribute to its own case"):
        opening(contributors=[{"partnership": LEAD, "basis": "lives"}])
    twice = [{"partnership": CONTRIBUTOR, "basis": "lives"}, {"partnership": CONTRIBUTOR, "basis": "placed"}]
    with pytest.raises(ValueError, match="named once"):
        opening(contributors=twice)
