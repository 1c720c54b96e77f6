"""The action plan: recommendations, actions owned by agencies, progress, sign-off, new dates,
withdrawal, impact checks and closing the plan."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from safeguarding.domain.action_plan import (
    ActionProgress,
    ActionRedated,
    ActionSignedOff,
    ActionStatus,
    ActionWithdrawn,
    AddAction,
    AddRecommendation,
    ImpactCheckDone,
    PlanClosed,
)
from safeguarding.domain.deadline_book import DeadlineBook
from safeguarding.domain.deadlines import DeadlineStatus
from safeguarding.domain.events import EventKind
from safeguarding.domain.milestones import Milestone
from safeguarding.domain.notices import NoticeKind
from safeguarding.domain.refusal import RefusalKind
from safeguarding.domain.rules import action_plan as rules
from safeguarding.domain.tasks import TaskStatus
from tests.factories import (
    ACTION_DUE,
    BUSINESS_UNIT,
    HEALTH,
    JCRG_CHAIR,
    JCRG_MEMBER,
    LONDON,
    NOW,
    REFERENCE,
    SCHOOLS,
    assert_refused,
    due_dates,
    hold_checkpoint,
    plan_file,
    reach,
)

NOT_NOW, FORBIDDEN, NOT_FOUND, INVALID = (
    RefusalKind.not_allowed_now,
    RefusalKind.forbidden,
    RefusalKind.not_found,
    RefusalKind.invalid,
)
TODAY = NOW.date()
TASK = f"{REFERENCE}.P1"


def action(recommendation="R1", due_on=ACTION_DUE):
    return AddAction(recommendation_id=recommendation, agency="luton-schools", lead_role="Head of Safeguarding",
                     description="Train every designated lead", measure="An audit", themes=["neglect"],
                     due_on=due_on)  # fmt: skip


def closed():
    return plan_file(["withdrawn"], closed=True)


def with_impact_check(state="completed"):
    file = plan_file([state])
    hold_checkpoint(file, NOW)
    return file


def impact_checked():
    file = with_impact_check()
    rules.apply_impact_check(
        file, JCRG_CHAIR, ImpactCheckDone(task_id=f"{REFERENCE}.P2", summary="Embedded"), NOW
    )
    return file


# ---------------------------------------------------------------- recommendations and actions


def test_a_closed_plan_takes_no_recommendation() -> None:
    step = AddRecommendation(text="Audit again", source="audit")
    fragment = f"the action plan of case {REFERENCE} is closed"
    assert_refused(rules.check_add_recommendation, closed(), JCRG_CHAIR, step, NOW, NOT_NOW, fragment)


def test_recommendations_are_numbered_in_order() -> None:
    file = plan_file(recommendations=1)
    step = AddRecommendation(text="Audit again", source="audit")
    rules.check_add_recommendation(file, BUSINESS_UNIT, step, NOW)
    assert rules.apply_add_recommendation(file, BUSINESS_UNIT, step, NOW) == []
    assert [(r.id, r.text, r.source) for r in file.recommendations][-1] == ("R2", "Audit again", "audit")
    assert file.history[-1].details == {"recommendation": "R2", "source": "audit"}


@pytest.mark.parametrize(
    ("state", "step", "kind", "fragment"),
    [
        pytest.param(closed, action(), NOT_NOW, "is closed", id="a closed plan takes no action"),
        pytest.param(plan_file, action("R2"), NOT_FOUND, "the plan has no recommendation R2",
                     id="an action follows a recommendation the plan has"),
        pytest.param(plan_file, action(due_on=TODAY - timedelta(days=1)), INVALID,
                     "the due date 2027-02-01 is in the past", id="an action due in the past is refused"),
    ],
)  # fmt: skip
def test_adding_an_action_is_refused(state, step, kind, fragment) -> None:
    assert_refused(rules.check_add_action, state(), JCRG_CHAIR, step, NOW, kind, fragment)


def test_an_action_becomes_a_task_for_its_agency_due_on_the_date_set() -> None:
    file = plan_file()
    step = action(due_on=TODAY)
    rules.check_add_action(file, JCRG_MEMBER, step, NOW)
    reached = rules.apply_add_action(file, JCRG_MEMBER, step, NOW)
    assert reached == [(Milestone.action_agreed, NOW, TASK)]
    (added,) = file.actions
    assert (added.id, added.task_id, added.agency, added.due_on, added.status) == (
        "A1", TASK, "luton-schools", TODAY, ActionStatus.open
    )  # fmt: skip
    assert (file.tasks[0].kind, file.tasks[0].agency) == ("action", "luton-schools")
    assert [c.kind for c in added.changes] == ["added"]
    assert file.notices == []  # the agency hears once the deadline gives the date a time
    reach(file, reached, NOW)
    rules.announce_action(file, added)
    due = datetime(2027, 2, 2, 17, tzinfo=LONDON)
    assert added.due_at == file.tasks[0].due_at == due
    (notice,) = file.notices
    assert (notice.kind, notice.owning_agency, notice.due_at, notice.title) == (
        NoticeKind.task_assigned, "luton-schools", due, "Action from the action plan"
    )  # fmt: skip


# ---------------------------------------------------------------- progress and sign-off


@pytest.mark.parametrize(
    ("state", "action_id", "actor", "kind", "fragment"),
    [
        pytest.param(lambda: plan_file(["open"]), "A9", SCHOOLS, NOT_FOUND, "the plan has no action A9",
                     id="progress on no action is not found"),
        pytest.param(lambda: plan_file(["open"]), "A1", HEALTH, NOT_FOUND, "the plan has no action A1",
                     id="another agency's action answers as no action"),
        pytest.param(lambda: plan_file(["withdrawn"]), "A1", HEALTH, NOT_FOUND, "the plan has no action A1",
                     id="another agency learns nothing of an action's state"),
        pytest.param(lambda: plan_file(["completed"]), "A1", SCHOOLS, NOT_NOW, "action A1 is completed",
                     id="a completed action takes no progress"),
        pytest.param(lambda: plan_file(["withdrawn"]), "A1", BUSINESS_UNIT, NOT_NOW, "action A1 is withdrawn",
                     id="a withdrawn action takes no progress"),
        pytest.param(closed, "A1", SCHOOLS, NOT_NOW, "is closed", id="a closed plan takes no progress"),
    ],
)  # fmt: skip
def test_progress_is_refused(state, action_id, actor, kind, fragment) -> None:
    step = ActionProgress(action_id=action_id, summary="Done", evidence=["a.pdf"])
    assert_refused(rules.check_progress, state(), actor, step, NOW, kind, fragment)


@pytest.mark.parametrize(
    "actor", [SCHOOLS, BUSINESS_UNIT], ids=["the owning agency", "the Business Unit for it"]
)
def test_progress_is_kept_in_the_actions_history(actor) -> None:
    file = plan_file(["progressed"])
    step = ActionProgress(action_id="A1", summary="Half trained", evidence=["register.pdf", "slides.pdf"])
    rules.check_progress(file, actor, step, NOW)
    assert rules.apply_progress(file, actor, step, NOW) == []
    change = file.actions[0].changes[-1]
    assert (change.kind, change.actor, change.reasons, change.details) == (
        "progress", actor, "Half trained", {"evidence": ["register.pdf", "slides.pdf"]}
    )  # fmt: skip
    assert file.history[-1].details == {"action": "A1", "evidence": 2}
    assert file.actions[0].status is ActionStatus.open


@pytest.mark.parametrize(
    ("state", "action_id", "kind", "fragment"),
    [
        pytest.param(lambda: plan_file(["open"]), "A1", NOT_NOW,
                     "action A1 has no progress with evidence from luton-schools yet",
                     id="an action is signed off only after progress with evidence"),
        pytest.param(lambda: plan_file(["completed_pending_audit"]), "A1", NOT_NOW,
                     "action A1 is completed_pending_audit", id="an action is signed off once"),
        pytest.param(lambda: plan_file(["progressed"]), "A2", NOT_FOUND, "the plan has no action A2",
                     id="signing off no action is not found"),
        pytest.param(closed, "A1", NOT_NOW, "is closed", id="a closed plan signs nothing off"),
    ],
)  # fmt: skip
def test_signing_an_action_off_is_refused(state, action_id, kind, fragment) -> None:
    step = ActionSignedOff(
        action_id=action_id, outcome="completed", evidence_of_impact="Audit", reasons="Done"
    )
    assert_refused(rules.check_sign_off_action, state(), JCRG_CHAIR, step, NOW, kind, fragment)


@pytest.mark.parametrize("outcome", ["completed", "completed_pending_audit"])
def test_a_signed_off_action_tells_its_agency_and_schedules_its_impact_check(outcome) -> None:
    file = plan_file(["progressed"])
    step = ActionSignedOff(
        action_id="A1", outcome=outcome, evidence_of_impact="Audit shows use", reasons="Done"
    )
    rules.check_sign_off_action(file, JCRG_CHAIR, step, NOW)
    notices = len(file.notices)
    reached = rules.apply_sign_off_action(file, JCRG_CHAIR, step, NOW)
    assert reached == [(Milestone.action_completed, NOW, TASK)]
    signed = file.actions[0]
    assert (signed.status, signed.completed_at, signed.evidence_of_impact) == (
        ActionStatus(outcome), NOW, "Audit shows use"
    )  # fmt: skip
    assert (file.tasks[0].status, file.tasks[0].completed_by) == (TaskStatus.completed, JCRG_CHAIR)
    assert [(n.kind, n.owning_agency) for n in file.notices[notices:]] == [
        (NoticeKind.task_completed, "luton-schools")
    ]
    reach(file, reached, NOW)
    assert file.deadlines[0].status is DeadlineStatus.met
    assert [(c.key, c.subject) for c in file.checkpoints] == [("impact_checkpoint", TASK)]


# ---------------------------------------------------------------- a new date, withdrawal


@pytest.mark.parametrize(
    ("state", "action_id", "due_on", "kind", "fragment"),
    [
        pytest.param(lambda: plan_file(["open"]), "A1", ACTION_DUE, NOT_NOW, "action A1 is already due on 2027-03-31",
                     id="a new date must differ from the old one"),
        pytest.param(lambda: plan_file(["open"]), "A1", date(2027, 1, 31), INVALID,
                     "the new due date 2027-01-31 is in the past", id="a new date in the past is refused"),
        pytest.param(lambda: plan_file(["withdrawn"]), "A1", date(2027, 6, 1), NOT_NOW, "action A1 is withdrawn",
                     id="a withdrawn action takes no new date"),
        pytest.param(lambda: plan_file(["open"]), "A3", date(2027, 6, 1), NOT_FOUND, "the plan has no action A3",
                     id="a new date for no action is not found"),
        pytest.param(closed, "A1", date(2027, 6, 1), NOT_NOW, "is closed", id="a closed plan moves no date"),
    ],
)  # fmt: skip
def test_a_new_date_is_refused(state, action_id, due_on, kind, fragment) -> None:
    step = ActionRedated(action_id=action_id, due_on=due_on, reasons="Staff changes")
    assert_refused(rules.check_redate_action, state(), JCRG_CHAIR, step, NOW, kind, fragment)


def redate(file, due_on):
    """As the workflow does: move the deadline to the new date first, then apply the step."""
    step = ActionRedated(action_id="A1", due_on=due_on, reasons="Staff changes")
    rules.check_redate_action(file, JCRG_CHAIR, step, NOW)
    deadline = rules.action_deadline(file, file.actions[0])
    due_at = datetime(due_on.year, due_on.month, due_on.day, 17, tzinfo=LONDON)
    policy = file.policy
    tiers = policy.escalation_for(policy.deadlines["action_due"])
    DeadlineBook(file.deadlines).redate(deadline, due_dates(due_at, 2, 2), tiers, NOW)
    assert rules.apply_redate_action(file, JCRG_CHAIR, step, NOW) == []
    return due_at


def test_each_new_date_is_kept_in_the_actions_history_and_told_to_its_agency() -> None:
    file = plan_file(["open"])
    first = redate(file, date(2027, 5, 28))
    second = redate(file, date(2027, 6, 30))
    moved = file.actions[0]
    assert (moved.due_on, moved.due_at, file.tasks[0].due_at) == (date(2027, 6, 30), second, second)
    assert [c.details for c in moved.changes if c.kind == "redated"] == [
        {"from": "2027-03-31", "to": "2027-05-28"},
        {"from": "2027-05-28", "to": "2027-06-30"},
    ]
    redated = [n for n in file.notices if n.kind is NoticeKind.task_redated]
    assert [(n.key, n.due_at, n.owning_agency) for n in redated] == [
        (f"luton/case-{REFERENCE}/plan:{TASK}:redated:1", first, "luton-schools"),
        (f"luton/case-{REFERENCE}/plan:{TASK}:redated:2", second, "luton-schools"),
    ]
    assert file.history[-1].details == {"action": "A1", "due_on": "2027-06-30"}


@pytest.mark.parametrize(
    ("state", "action_id", "kind", "fragment"),
    [
        pytest.param(lambda: plan_file(["completed"]), "A1", NOT_NOW, "action A1 is completed",
                     id="a completed action is not withdrawn"),
        pytest.param(lambda: plan_file(["withdrawn"]), "A1", NOT_NOW, "action A1 is withdrawn",
                     id="an action is withdrawn once"),
        pytest.param(plan_file, "A1", NOT_FOUND, "the plan has no action A1", id="withdrawing no action"),
        pytest.param(closed, "A1", NOT_NOW, "is closed", id="a closed plan withdraws nothing"),
    ],
)  # fmt: skip
def test_withdrawing_an_action_is_refused(state, action_id, kind, fragment) -> None:
    step = ActionWithdrawn(action_id=action_id, reasons="Overtaken")
    assert_refused(rules.check_withdraw_action, state(), JCRG_CHAIR, step, NOW, kind, fragment)


def test_a_withdrawn_action_ends_its_task_and_deadline_and_tells_its_agency() -> None:
    file = plan_file(["progressed"])
    step = ActionWithdrawn(action_id="A1", reasons="Overtaken by a national change")
    rules.check_withdraw_action(file, JCRG_CHAIR, step, NOW)
    assert rules.apply_withdraw_action(file, JCRG_CHAIR, step, NOW) == []
    assert (file.actions[0].status, file.tasks[0].status) == (ActionStatus.withdrawn, TaskStatus.withdrawn)
    assert (file.deadlines[0].status, file.deadlines[0].cancelled_reason) == (
        DeadlineStatus.cancelled, "Overtaken by a national change"
    )  # fmt: skip
    assert (file.notices[-1].kind, file.notices[-1].owning_agency) == (
        NoticeKind.task_withdrawn,
        "luton-schools",
    )
    assert file.actions[0].changes[-1].kind == "withdrawn"


# ---------------------------------------------------------------- impact checks and closing


@pytest.mark.parametrize(
    ("state", "task_id", "kind", "fragment"),
    [
        pytest.param(with_impact_check, f"{REFERENCE}.P9", NOT_FOUND, f"case {REFERENCE} has no task {REFERENCE}.P9",
                     id="an impact check of no task is not found"),
        pytest.param(lambda: plan_file(["progressed"]), TASK, NOT_NOW,
                     "an action is completed by the JCRG's sign-off: the agency posts its progress with evidence "
                     f"(POST /cases/{REFERENCE}/action-plan/progress)", id="an action's own task is not an impact check"),
        pytest.param(impact_checked, f"{REFERENCE}.P2", NOT_NOW, f"task {REFERENCE}.P2 was already completed",
                     id="an impact check is done once"),
        pytest.param(closed, TASK, NOT_NOW, "is closed",
                     id="a closed plan takes no impact check"),
    ],
)  # fmt: skip
def test_an_impact_check_is_refused(state, task_id, kind, fragment) -> None:
    step = ImpactCheckDone(task_id=task_id, summary="Embedded")
    assert_refused(rules.check_impact_check, state(), BUSINESS_UNIT, step, NOW, kind, fragment)


def test_an_impact_check_completes_its_task_and_notes_the_action() -> None:
    file = with_impact_check("completed_pending_audit")
    check = file.tasks[-1]
    assert (check.id, check.agency, check.asked_for) == (
        f"{REFERENCE}.P2", "business_unit", f"Impact of a completed action tested ({TASK})"
    )  # fmt: skip
    step = ImpactCheckDone(task_id=check.id, summary="Audit of ten referrals: all used the protocol")
    rules.check_impact_check(file, JCRG_CHAIR, step, NOW)
    notices = len(file.notices)
    assert rules.apply_impact_check(file, JCRG_CHAIR, step, NOW) == [
        (Milestone.task_completed, NOW, check.id)
    ]
    assert (check.status, check.summary) == (TaskStatus.completed, step.summary)
    assert [(c.kind, c.reasons) for c in file.actions[0].changes][-1] == ("impact_checked", step.summary)
    # The JCRG closing the Business Unit's checkpoint: the Business Unit hears that nothing more is asked.
    assert [(n.kind, n.owning_agency) for n in file.notices[notices:]] == [
        (NoticeKind.task_completed, "business_unit")
    ]


@pytest.mark.parametrize(
    ("state", "fragment"),
    [
        pytest.param(lambda: plan_file(["completed", "open", "progressed"]), "actions still open: A2, A3",
                     id="a plan with open actions stays open"),
        pytest.param(lambda: plan_file(["completed"]), f"impact checkpoints still to come or open: {TASK}",
                     id="a plan with an impact checkpoint to come stays open"),
        pytest.param(with_impact_check, f"impact checkpoints still to come or open: {REFERENCE}.P2",
                     id="a plan with an impact check not done stays open"),
        pytest.param(closed, "is closed", id="a plan is closed once"),
    ],
)  # fmt: skip
def test_closing_the_plan_is_refused(state, fragment) -> None:
    assert_refused(
        rules.check_close_plan, state(), JCRG_CHAIR, PlanClosed(reasons="Done"), NOW, NOT_NOW, fragment
    )


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(plan_file, id="a plan with no actions"),
        pytest.param(lambda: plan_file(["withdrawn", "withdrawn"]), id="every action withdrawn"),
        pytest.param(impact_checked, id="every action completed and its impact checked"),
    ],
)
def test_a_settled_plan_closes(state) -> None:
    file = state()
    rules.check_close_plan(file, JCRG_CHAIR, PlanClosed(reasons="Every action settled"), NOW)
    assert rules.apply_close_plan(file, JCRG_CHAIR, PlanClosed(reasons="Every action settled"), NOW) == []
    assert (file.status, file.closed_at) == ("closed", NOW)
    assert (file.history[-1].kind, file.history[-1].reasons) == (
        EventKind.action_plan_closed,
        "Every action settled",
    )


def test_an_actions_date_is_judged_on_the_partnerships_calendar_not_utcs() -> None:
    """At half past midnight in summer it is already the next day in London: yesterday is in the past."""
    just_after_midnight = datetime(2027, 6, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 June in London
    yesterday = date(2027, 6, 1)
    step = action(due_on=yesterday)
    assert_refused(
        rules.check_add_action, plan_file(), JCRG_CHAIR, step, just_after_midnight, INVALID, "in the past"
    )
