"""The review's other rules: the clock stopped for parallel proceedings, a national review's local
duties, and the review's tasks (its order of steps and publication: test_review_rules.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from safeguarding.domain.deadlines import DeadlineStatus
from safeguarding.domain.events import EventKind
from safeguarding.domain.milestones import Milestone
from safeguarding.domain.notices import NoticeKind
from safeguarding.domain.refusal import RefusalKind
from safeguarding.domain.review import (
    CheckpointDone,
    ClockRestarted,
    ClockStopped,
    InformationToPanel,
    PanelReportReceived,
    ProceedingsKind,
    ReviewKind,
    ReviewStage,
    TaskWithdrawn,
)
from safeguarding.domain.rules import review as rules
from safeguarding.domain.tasks import TaskStatus
from tests.factories import (
    BUSINESS_UNIT,
    JCRG_CHAIR,
    NOW,
    REFERENCE,
    assert_refused,
    hold_checkpoint,
    reach,
    review_file,
)

NOT_NOW, NOT_FOUND, INVALID = RefusalKind.not_allowed_now, RefusalKind.not_found, RefusalKind.invalid
LOCAL, OTHER, NATIONAL = ReviewKind.local_cspr, ReviewKind.other_review, ReviewKind.national_review
S = ReviewStage
DAY = date(2027, 2, 1)
PANEL_REPORT = PanelReportReceived(received_on=DAY, recommendations=["Learn"])


# ---------------------------------------------------------------- the clock


@pytest.mark.parametrize(
    ("state", "expected_end", "told", "kind", "fragment"),
    [
        pytest.param(lambda: review_file(LOCAL, S.terms_agreed, paused=True), date(2027, 6, 1), DAY, NOT_NOW,
                     "the clock is already stopped (since 02 February 2027)", id="the clock stops once"),
        pytest.param(lambda: review_file(LOCAL), date(2027, 2, 2), DAY, INVALID,
                     "the expected end of the proceedings must be in the future",
                     id="proceedings expected to have ended already are refused"),
        pytest.param(lambda: review_file(LOCAL), date(2027, 6, 1), date(2027, 2, 9), INVALID, "is in the future",
                     id="the Panel told on a future day is refused"),
        pytest.param(lambda: review_file(OTHER, S.final_report), date(2027, 6, 1), DAY, NOT_NOW, "is finished",
                     id="a finished review's clock does not stop"),
    ],
)  # fmt: skip
def test_stopping_the_clock_is_refused(state, expected_end, told, kind, fragment) -> None:
    step = ClockStopped(proceedings=ProceedingsKind.criminal_trial, reasons="Trial", expected_end=expected_end,
                        panel_told_on=told)  # fmt: skip
    assert_refused(rules.check_clock_stopped, state(), BUSINESS_UNIT, step, NOW, kind, fragment)


def test_stopping_the_clock_pauses_every_pausable_deadline_and_nothing_else() -> None:
    file = review_file(LOCAL, S.terms_agreed)
    task = hold_checkpoint(file, NOW - timedelta(days=1))
    step = ClockStopped(proceedings=ProceedingsKind.criminal_trial, reasons="Trial", expected_end=date(2027, 9, 1),
                        panel_told_on=DAY)  # fmt: skip
    rules.check_clock_stopped(file, BUSINESS_UNIT, step, NOW)
    assert rules.apply_clock_stopped(file, BUSINESS_UNIT, step, NOW) == []
    assert file.paused
    assert {d.key: d.paused_since for d in file.deadlines} == {
        "cspr_completion": NOW,
        "cspr_monitoring": None,
    }
    assert file.deadlines[-1].subject == task.id
    assert (file.pauses[-1].started_at, file.pauses[-1].expected_end) == (NOW, date(2027, 9, 1))


def test_the_clock_restarts_only_when_stopped() -> None:
    refusal = assert_refused(rules.check_clock_restarted, review_file(LOCAL, S.terms_agreed), BUSINESS_UNIT,
                             ClockRestarted(reasons="Verdict"), NOW, NOT_NOW, "the clock is not stopped")  # fmt: skip
    assert refusal.reason == "the clock is not stopped"
    assert_refused(rules.check_clock_restarted, review_file(OTHER, S.final_report), BUSINESS_UNIT,
                   ClockRestarted(reasons="Verdict"), NOW, NOT_NOW, "is finished")  # fmt: skip


def test_a_restarted_clock_ends_the_pause_and_records_the_days_moved() -> None:
    file = review_file(LOCAL, S.terms_agreed, paused=True)
    later = NOW + timedelta(days=30)
    rules.check_clock_restarted(file, BUSINESS_UNIT, ClockRestarted(reasons="Verdict"), later)
    assert rules.apply_clock_restarted(file, BUSINESS_UNIT, ClockRestarted(reasons="Verdict"), later) == []
    rules.clock_moved_on(file, 30)
    assert (file.paused, file.pauses[-1].started_at, file.pauses[-1].ended_at, file.pauses[-1].days) == (
        False, NOW, later, 30
    )  # fmt: skip
    assert file.history[-1].kind is EventKind.clock_restarted


# ---------------------------------------------------------------- a national review's local duties


@pytest.mark.parametrize(
    ("actor", "owner_told"),
    [
        pytest.param(BUSINESS_UNIT, [], id="the Business Unit doing its own duty tells nobody"),
        pytest.param(JCRG_CHAIR, ["business_unit"], id="the chair doing it tells the Business Unit"),
    ],
)
def test_information_sent_to_the_panel_does_the_first_duty(actor, owner_told) -> None:
    file = review_file(NATIONAL)
    notices = len(file.notices)
    step = InformationToPanel(sent_on=DAY)
    rules.check_information_to_panel(file, actor, step, NOW)
    # Sent the day before it was recorded: the duty was done at midday that day (London), not now.
    assert rules.apply_information_to_panel(file, actor, step, NOW) == [
        (Milestone.national_information_sent, datetime(DAY.year, DAY.month, DAY.day, 12, tzinfo=UTC), None)
    ]
    assert file.stage is S.information_sent
    assert [t.status for t in file.tasks] == [TaskStatus.completed, TaskStatus.open]
    assert [n.owning_agency for n in file.notices[notices:]] == owner_told


def test_the_panels_report_finishes_a_national_review_and_does_the_second_duty() -> None:
    file = review_file(NATIONAL, S.information_sent)
    rules.check_panel_report(file, JCRG_CHAIR, PANEL_REPORT, NOW)
    assert rules.apply_panel_report(file, JCRG_CHAIR, PANEL_REPORT, NOW) == [
        (Milestone.review_completed, datetime(DAY.year, DAY.month, DAY.day, 12, tzinfo=UTC), None)
    ]
    assert (file.stage, file.outcome, file.recommendations) == (
        S.finished,
        "national_review_reported",
        ["Learn"],
    )
    assert [t.status for t in file.tasks] == [TaskStatus.completed, TaskStatus.completed]


# ---------------------------------------------------------------- the review's tasks


def monitored():
    file = review_file(LOCAL, S.reviewer_appointed)
    hold_checkpoint(file, NOW - timedelta(days=2))
    return file


def monitored_and_done():
    file = monitored()
    rules.apply_checkpoint_done(
        file, BUSINESS_UNIT, CheckpointDone(task_id=f"{REFERENCE}.R1", summary="OK"), NOW
    )
    return file


def monitored_and_finished():
    file = monitored()
    file.stage, file.outcome = S.finished, "published"
    return file


TASK_REFUSALS = [
    pytest.param(monitored, f"{REFERENCE}.R7", NOT_FOUND, f"case {REFERENCE} has no task {REFERENCE}.R7",
                 id="a task the review does not have is not found"),
    pytest.param(monitored_and_done, f"{REFERENCE}.R1", NOT_NOW, f"task {REFERENCE}.R1 was already completed",
                 id="a task done is not done again"),
    pytest.param(monitored_and_finished, f"{REFERENCE}.R1", NOT_NOW, "is finished (published)",
                 id="a finished review takes no task step"),
]  # fmt: skip


@pytest.mark.parametrize(("state", "task_id", "kind", "fragment"), TASK_REFUSALS)
def test_completing_a_checkpoint_is_refused(state, task_id, kind, fragment) -> None:
    step = CheckpointDone(task_id=task_id, summary="On track")
    assert_refused(rules.check_checkpoint_done, state(), BUSINESS_UNIT, step, NOW, kind, fragment)


@pytest.mark.parametrize(("state", "task_id", "kind", "fragment"), TASK_REFUSALS)
def test_withdrawing_a_review_task_is_refused(state, task_id, kind, fragment) -> None:
    step = TaskWithdrawn(task_id=task_id, reasons="Not needed")
    assert_refused(rules.check_task_withdrawn, state(), BUSINESS_UNIT, step, NOW, kind, fragment)


def test_a_checkpoint_done_completes_its_task_and_meets_its_deadline() -> None:
    file = monitored()
    step = CheckpointDone(task_id=f"{REFERENCE}.R1", summary="On time; quality good")
    rules.check_checkpoint_done(file, BUSINESS_UNIT, step, NOW)
    reached = rules.apply_checkpoint_done(file, BUSINESS_UNIT, step, NOW)
    assert reached == [(Milestone.task_completed, NOW, f"{REFERENCE}.R1")]
    reach(file, reached, NOW)
    task = file.tasks[0]
    assert (task.status, task.summary, task.completed_by) == (
        TaskStatus.completed,
        "On time; quality good",
        BUSINESS_UNIT,
    )
    assert {d.key: d.status for d in file.deadlines}["cspr_monitoring"] is DeadlineStatus.met


def test_a_withdrawn_review_task_ends_its_deadline_and_tells_its_owner() -> None:
    file = monitored()
    step = TaskWithdrawn(task_id=f"{REFERENCE}.R1", reasons="Merged with the next one")
    rules.check_task_withdrawn(file, BUSINESS_UNIT, step, NOW)
    assert rules.apply_task_withdrawn(file, BUSINESS_UNIT, step, NOW) == []
    assert file.tasks[0].status is TaskStatus.withdrawn
    assert {d.key: d.status for d in file.deadlines}["cspr_monitoring"] is DeadlineStatus.cancelled
    assert (file.notices[-1].kind, file.notices[-1].owning_agency) == (
        NoticeKind.task_withdrawn,
        "business_unit",
    )


def test_a_national_reviews_duty_is_not_completed_as_a_checkpoint() -> None:
    """Its duties are done by recording them (information sent, the Panel's report), which moves the review on."""
    file = review_file(ReviewKind.national_review)
    step = CheckpointDone(task_id=f"{REFERENCE}.R1", summary="Sent")
    assert_refused(
        rules.check_checkpoint_done, file, BUSINESS_UNIT, step, NOW, NOT_NOW, "information-to-panel"
    )
