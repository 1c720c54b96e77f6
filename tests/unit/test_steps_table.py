"""The table of steps: who may take each step (a role not in it is refused, 403), and the table's shape."""

from __future__ import annotations

import pytest

from safeguarding.domain import steps
from safeguarding.domain.case import PartnerSignOff
from safeguarding.domain.people import Actor, Role
from safeguarding.domain.refusal import Refusal, RefusalKind
from safeguarding.domain.review import CheckpointDone, TaskWithdrawn
from safeguarding.domain.steps import STEPS, Process, Step
from safeguarding.domain.tasks import TaskWithdrawal
from tests.factories import ONE_OF_EACH_ROLE

BU, MEMBER, CHAIR = Role.business_unit, Role.jcrg_member, Role.jcrg_chair
PARTNER, AGENCY, SCRUTINEER, MANAGER = (
    Role.safeguarding_partner,
    Role.partner_agency,
    Role.independent_scrutineer,
    Role.manager,
)
JCRG = {MEMBER, CHAIR}

# Who takes each step, as the procedure says; the table must say the same.
WHO = {
    steps.CONFIRM_REFERRAL: {BU},
    steps.SCREEN: {BU, *JCRG},
    steps.RECORD_NOTIFICATION: {BU},
    steps.REQUEST_INFORMATION: {BU},
    steps.SUBMIT_RETURN: {AGENCY, BU},
    steps.WITHDRAW_CASE_TASK: {BU},
    steps.RECOMMEND: JCRG,
    steps.SIGN_OFF: {PARTNER},
    steps.INFORM_SCRUTINEER: {BU},
    steps.SEND_RAPID_REVIEW: {BU},
    steps.RECORD_PANEL_RESPONSE: {BU},
    steps.CLOSE_CASE: {BU},
    steps.CLOSE_NOT_MEETING_CRITERIA: {BU, Role.jcrg_chair},
    steps.ADULTS_BOARD_SIGN_OFF: {Role.adults_board_representative},
    steps.APPROVE_REPORT_FOR_ADULTS_BOARD: {Role.adults_board_representative},
    steps.AGREE_PUBLICATION_FOR_ADULTS_BOARD: {Role.adults_board_representative},
    steps.SEND_CONTRIBUTION: {BU},
    steps.APPOINT_REVIEWER: {BU, *JCRG},
    steps.AGREE_TERMS: {BU, *JCRG},
    steps.RECORD_FAMILY_ENGAGEMENT: {BU, CHAIR},
    steps.RECORD_LEARNING_EVENT: {BU, CHAIR},
    steps.RECEIVE_DRAFT: {BU, CHAIR},
    steps.APPROVE_REPORT: {PARTNER},
    steps.RECEIVE_FINAL_REPORT: {BU, *JCRG},
    steps.SEND_COPY: {BU, CHAIR},
    steps.SCHEDULE_PUBLICATION: {BU, CHAIR},
    steps.RECORD_PUBLICATION: {BU, CHAIR},
    steps.DECIDE_NOT_TO_PUBLISH: {BU, *JCRG},
    steps.STOP_CLOCK: {BU, CHAIR},
    steps.RESTART_CLOCK: {BU, CHAIR},
    steps.SEND_INFORMATION_TO_PANEL: {BU, CHAIR},
    steps.RECEIVE_PANEL_REPORT: {BU, *JCRG},
    steps.COMPLETE_REVIEW_CHECKPOINT: {BU, CHAIR},
    steps.WITHDRAW_REVIEW_TASK: {BU},
    steps.ADD_RECOMMENDATION: {BU, *JCRG},
    steps.ADD_ACTION: JCRG,
    steps.RECORD_PROGRESS: {AGENCY, BU},
    steps.SIGN_OFF_ACTION: JCRG,
    steps.REDATE_ACTION: JCRG,
    steps.WITHDRAW_ACTION: JCRG,
    steps.COMPLETE_IMPACT_CHECK: {BU, *JCRG},
    steps.CLOSE_PLAN: JCRG,
    steps.RECORD_YEARLY_PUBLICATION: {BU},
    steps.RECORD_YEARLY_SENDING: {BU},
}


def name(step: Step) -> str:
    return f"{step.process.value}.{step.update}"


def test_the_table_lists_every_step_once() -> None:
    assert len(STEPS) == len(WHO) == 44
    assert set(STEPS) == set(WHO)


@pytest.mark.parametrize("step", list(WHO), ids=name)
def test_each_step_is_taken_by_the_roles_the_procedure_names(step) -> None:
    assert set(step.roles) == WHO[step]
    assert len(step.roles) == len(set(step.roles))


CASES = [(step, role) for step in WHO for role in Role]


@pytest.mark.parametrize(
    ("step", "role"),
    CASES,
    ids=[
        f"{name(step)} {'takes' if role in WHO[step] else 'refuses'} a {role.value}" for step, role in CASES
    ],
)
def test_check_actor_accepts_the_steps_roles_and_refuses_every_other(step, role) -> None:
    actor = ONE_OF_EACH_ROLE[role]
    if role in WHO[step]:
        step.check_actor(actor)
        return
    with pytest.raises(Refusal) as caught:
        step.check_actor(actor)
    assert caught.value.kind is RefusalKind.forbidden
    allowed = ", ".join(r.value for r in step.roles)
    assert caught.value.reason == f"a {role.value} cannot take this step; it is for: {allowed}"


@pytest.mark.parametrize("role", [MANAGER, SCRUTINEER], ids=["a manager", "the Independent Scrutineer"])
def test_those_who_watch_take_no_step_at_all(role) -> None:
    for step in STEPS:
        with pytest.raises(Refusal):
            step.check_actor(ONE_OF_EACH_ROLE[role])


def test_a_refusal_names_who_the_step_is_for() -> None:
    agency = Actor(user_id="school", role=AGENCY, agency="luton-schools")
    with pytest.raises(
        Refusal, match=r"^a partner_agency cannot take this step; it is for: safeguarding_partner$"
    ):
        steps.SIGN_OFF.check_actor(agency)


@pytest.mark.parametrize("process", list(Process))
def test_each_update_of_a_process_takes_one_body(process) -> None:
    of_process = [s for s in STEPS if s.process is process]
    assert len({s.update for s in of_process}) == len(of_process)
    assert len({s.body for s in of_process}) == len(of_process)
    for step in of_process:
        assert steps.step_for(process, step.body) is step


def test_a_step_is_found_by_its_process_and_body() -> None:
    assert steps.step_for(Process.case, PartnerSignOff) is steps.SIGN_OFF
    assert steps.step_for(Process.case, TaskWithdrawal) is steps.WITHDRAW_CASE_TASK
    assert steps.step_for(Process.review, TaskWithdrawn) is steps.WITHDRAW_REVIEW_TASK
    assert steps.step_for(Process.review, CheckpointDone) is steps.COMPLETE_REVIEW_CHECKPOINT


def test_each_route_is_a_post_and_its_path_follows_the_method() -> None:
    for step in STEPS:
        method, path = step.method.split(" ", 1)
        assert (method, step.path) == ("POST", path)
    assert steps.SIGN_OFF.path == "/cases/{reference}/sign-offs"


def test_a_route_shared_by_steps_lets_in_anyone_who_takes_one_of_them() -> None:
    shared = steps.roles_of(
        steps.SUBMIT_RETURN, steps.COMPLETE_REVIEW_CHECKPOINT, steps.COMPLETE_IMPACT_CHECK
    )
    assert shared == (AGENCY, BU, CHAIR, MEMBER)


def test_the_readme_table_has_a_row_per_step() -> None:
    table = steps.markdown_table().splitlines()
    assert table[:2] == ["| route | who | step | what |", "|---|---|---|---|"]
    assert len(table) == 2 + len(STEPS)
    assert (
        "| `POST /cases/{reference}/sign-offs` | safeguarding_partner | `case.sign_off` | "
        "the local authority, police or ICB agrees, or returns it to the JCRG (each for itself) |"
    ) in table


# ---------------------------------------------------------------- which partnership takes a step

CONTRIBUTORS_TAKE = {steps.REQUEST_INFORMATION, steps.SUBMIT_RETURN, steps.WITHDRAW_CASE_TASK}


def acting(partnership: str | None, role: Role = BU) -> Actor:
    return Actor(user_id="someone", role=role, partnerships=[partnership or "luton"], partnership=partnership)


def test_only_a_contributing_partnerships_own_part_is_marked_for_contributors() -> None:
    assert {step for step in STEPS if step.contributors} == CONTRIBUTORS_TAKE


@pytest.mark.parametrize("step", STEPS, ids=name)
def test_another_partnerships_case_is_not_found_for_every_step(step: Step) -> None:
    with pytest.raises(Refusal) as refused:
        step.check_partnership(acting("bedford-borough"), "LSCP-1", "luton", ["central-bedfordshire"])
    assert refused.value.kind is RefusalKind.not_found
    assert str(refused.value) == "no case with reference LSCP-1"


@pytest.mark.parametrize("step", STEPS, ids=name)
def test_the_cases_own_partnership_and_actors_recorded_before_partnerships_pass(step: Step) -> None:
    step.check_partnership(acting("luton"), "LSCP-1", "luton", ["central-bedfordshire"])
    step.check_partnership(acting(None), "LSCP-1", "luton")


@pytest.mark.parametrize("step", STEPS, ids=name)
def test_a_contributor_takes_only_its_own_part(step: Step) -> None:
    contributor = acting("central-bedfordshire")
    if step in CONTRIBUTORS_TAKE:
        step.check_partnership(contributor, "LSCP-1", "luton", ["central-bedfordshire"])
        return
    with pytest.raises(Refusal) as refused:
        step.check_partnership(contributor, "LSCP-1", "luton", ["central-bedfordshire"])
    assert refused.value.kind is RefusalKind.forbidden
