"""Tasks on every stream: made, announced, completed, withdrawn, and who hears of each."""

from __future__ import annotations

from datetime import timedelta

import pytest

from safeguarding.domain.deadlines import DeadlineStatus
from safeguarding.domain.events import EventKind
from safeguarding.domain.notices import NoticeKind, closed_by_someone_else
from safeguarding.domain.record import Stream
from safeguarding.domain.refusal import RefusalKind
from safeguarding.domain.review import ReviewStage
from safeguarding.domain.rules import tasks as rules
from safeguarding.domain.tasks import Task, TaskStatus, TaskWithdrawal
from tests.factories import (
    BUSINESS_UNIT,
    HEALTH,
    JCRG_CHAIR,
    NOW,
    REFERENCE,
    REQUESTED,
    SCHOOLS,
    assert_refused,
    case_file,
    open_deadline,
    plan_file,
    review_file,
)

NOT_NOW, NOT_FOUND = RefusalKind.not_allowed_now, RefusalKind.not_found
T1, T2 = f"{REFERENCE}.T1", f"{REFERENCE}.T2"


def asked(*agencies):
    return case_file(asked=agencies or ("luton-schools",))


def completed():
    file = asked()
    rules.complete_task(file, file.tasks[0], SCHOOLS, NOW, summary="Chronology")
    return file


def withdrawn():
    file = asked()
    rules.withdraw_task(file, file.tasks[0], BUSINESS_UNIT, "Not needed", NOW)
    return file


# ---------------------------------------------------------------- finding and making tasks


@pytest.mark.parametrize(
    ("state", "task_id", "kind", "fragment"),
    [
        pytest.param(asked, f"{REFERENCE}.T5", NOT_FOUND, f"case {REFERENCE} has no task {REFERENCE}.T5",
                     id="a task the case does not have is not found"),
        pytest.param(completed, T1, NOT_NOW, f"task {T1} was already completed on 02 February 2027 10:00:00 UTC",
                     id="a completed task is not withdrawn"),
        pytest.param(withdrawn, T1, NOT_NOW, f"task {T1} was withdrawn; nothing is owed on it",
                     id="a task is withdrawn once"),
    ],
)  # fmt: skip
def test_withdrawing_a_task_is_refused(state, task_id, kind, fragment) -> None:
    step = TaskWithdrawal(task_id=task_id, reasons="Not needed")
    assert_refused(rules.check_task_withdrawal, state(), BUSINESS_UNIT, step, NOW, kind, fragment)


def test_an_open_task_is_found_and_may_be_withdrawn() -> None:
    file = asked()
    assert rules.find_task(file, T1) is file.tasks[0]
    assert rules.check_open_task(file, T1) is file.tasks[0]
    rules.check_task_withdrawal(file, BUSINESS_UNIT, TaskWithdrawal(task_id=T1, reasons="Not needed"), NOW)


@pytest.mark.parametrize(
    ("state", "letter"),
    [
        pytest.param(case_file, "T", id="a case's tasks are T"),
        pytest.param(review_file, "R", id="a review's tasks are R"),
        pytest.param(plan_file, "P", id="a plan's tasks are P"),
    ],
)
def test_task_ids_carry_the_streams_letter_and_count_up(state, letter) -> None:
    file = state()
    first = rules.add_task(file, "luton-schools", "checkpoint", "Something asked", NOW)
    second = rules.add_task(file, "luton-health", "checkpoint", "Something else", NOW)
    assert (first.id, second.id) == (f"{REFERENCE}.{letter}1", f"{REFERENCE}.{letter}2")
    assert (first.status, first.requested_at, first.due_at) == (TaskStatus.open, NOW, None)
    assert file.tasks[-2:] == [first, second]
    assert file.notices == []  # nobody hears until it is announced


def test_announcing_a_task_gives_its_owner_the_due_date_of_its_deadline() -> None:
    file = case_file()
    task = rules.add_task(file, "luton-schools", "information_return", "A chronology", REQUESTED)
    deadline = open_deadline(file, "agency_information_return", REQUESTED, task.id)
    rules.announce(file, task)
    assert task.due_at == deadline.due_at == REQUESTED + timedelta(days=7)
    (notice,) = file.notices
    assert (notice.key, notice.kind, notice.recipients, notice.owning_agency) == (
        f"luton/case-{REFERENCE}:{task.id}:assigned", NoticeKind.task_assigned, ["owning_agency"], "luton-schools"
    )  # fmt: skip
    assert (notice.title, notice.asked, notice.due_at, notice.stream) == (
        "Information for the rapid review", "A chronology", deadline.due_at, Stream.case.value
    )  # fmt: skip


def test_a_task_with_no_deadline_is_announced_without_a_due_date() -> None:
    file = review_file()
    task = rules.add_task(file, "business_unit", "review_duty", "A duty", NOW)
    rules.announce(file, task)
    assert (task.due_at, file.notices[-1].due_at, file.notices[-1].title) == (
        None, None, "Duty of the local partners in a national review"
    )  # fmt: skip


# ---------------------------------------------------------------- completing: who hears


@pytest.mark.parametrize(
    ("owner", "by", "owner_hears"),
    [
        pytest.param("luton-schools", SCHOOLS, False, id="an agency completing its own task tells nobody"),
        pytest.param(
            "luton-schools", BUSINESS_UNIT, True, id="the Business Unit closing an agency's task tells it"
        ),
        pytest.param("luton-schools", HEALTH, True, id="another agency closing it tells the owner"),
        pytest.param("luton-schools", JCRG_CHAIR, True, id="the JCRG signing an action off tells the agency"),
        pytest.param(
            "business_unit", BUSINESS_UNIT, False, id="an office completing its own task tells nobody"
        ),
        pytest.param(
            "business_unit", JCRG_CHAIR, True, id="the chair closing the Business Unit's task tells it"
        ),
        pytest.param(
            "jcrg_chair", JCRG_CHAIR, False, id="the chair completing the chair's task tells nobody"
        ),
        pytest.param("luton-schools", None, False, id="a task closed by the process itself tells nobody"),
    ],
)
def test_a_task_closed_by_someone_other_than_its_owner_tells_the_owner(owner, by, owner_hears) -> None:
    file = case_file()
    task = rules.add_task(file, owner, "checkpoint", "Notes", REQUESTED)
    rules.complete_task(file, task, by, NOW, summary="Done", documents=["notes.pdf"])
    assert (task.status, task.completed_at, task.completed_by) == (TaskStatus.completed, NOW, by)
    assert (task.summary, task.documents) == ("Done", ["notes.pdf"])
    assert closed_by_someone_else(task) is owner_hears
    expected = (
        [(NoticeKind.task_completed, owner, f"luton/case-{REFERENCE}:{task.id}:completed")]
        if owner_hears
        else []
    )
    assert [(n.kind, n.owning_agency, n.key) for n in file.notices] == expected


def test_a_completion_without_summary_keeps_what_the_task_had() -> None:
    task = Task(id="X.T1", agency="a-b", asked_for="x", requested_at=NOW, summary="Earlier", documents=["d"])
    file = case_file()
    file.tasks.append(task)
    rules.complete_task(file, task, SCHOOLS, NOW)
    assert (task.summary, task.documents) == ("Earlier", ["d"])


# ---------------------------------------------------------------- withdrawing: its deadline ends, its owner hears


def test_withdrawing_a_task_cancels_only_its_own_deadlines_and_tells_its_agency() -> None:
    file = asked("luton-schools", "luton-health")
    step = TaskWithdrawal(task_id=T1, reasons="The school was not involved")
    rules.check_task_withdrawal(file, BUSINESS_UNIT, step, NOW)
    assert rules.apply_task_withdrawal(file, BUSINESS_UNIT, step, NOW) == []
    assert [t.status for t in file.tasks] == [TaskStatus.withdrawn, TaskStatus.open]
    returns = {d.subject: d for d in file.deadlines if d.key == "agency_information_return"}
    assert (returns[T1].status, returns[T1].cancelled_reason) == (DeadlineStatus.cancelled, step.reasons)
    assert returns[T2].status is DeadlineStatus.open
    cancelled, withdrawal = file.history[-2:]
    assert (cancelled.kind, cancelled.details["deadline"]) == (EventKind.deadline_cancelled, returns[T1].id)
    assert (withdrawal.kind, withdrawal.actor, withdrawal.reasons) == (
        EventKind.task_withdrawn,
        BUSINESS_UNIT,
        step.reasons,
    )
    assert withdrawal.details == {"task": T1, "agency": "luton-schools"}
    notice = file.notices[-1]
    assert (notice.kind, notice.owning_agency, notice.key) == (
        NoticeKind.task_withdrawn, "luton-schools", f"luton/case-{REFERENCE}:{T1}:withdrawn"
    )  # fmt: skip
    assert step.reasons not in notice.model_dump_json()


def test_withdrawing_open_tasks_leaves_finished_ones_alone() -> None:
    file = asked("luton-schools", "luton-health", "luton-police")
    rules.complete_task(file, file.tasks[0], SCHOOLS, NOW)
    rules.withdraw_task(file, file.tasks[1], BUSINESS_UNIT, "Not needed", NOW)
    notices = len(file.notices)
    rules.withdraw_open_tasks(file, "the rapid review is concluded", NOW)
    assert [t.status for t in file.tasks] == [
        TaskStatus.completed,
        TaskStatus.withdrawn,
        TaskStatus.withdrawn,
    ]
    assert [(n.kind, n.owning_agency) for n in file.notices[notices:]] == [
        (NoticeKind.task_withdrawn, "luton-police")
    ]
    assert file.history[-1].actor is None


def test_cancelling_live_deadlines_keeps_what_it_is_told_to_keep_and_leaves_the_met_alone() -> None:
    file = case_file(upto="notified", asked=("luton-schools",))
    before = {d.key: d.status for d in file.deadlines}
    assert before == {
        "notify_panel": DeadlineStatus.met,
        "report_to_partners": DeadlineStatus.met,
        "rapid_review_to_panel": DeadlineStatus.open,
        "agency_information_return": DeadlineStatus.open,
    }
    rules.cancel_live_deadlines(file, "stopped", NOW, keep=lambda d: d.key == "rapid_review_to_panel")
    after = {d.key: (d.status, d.cancelled_reason) for d in file.deadlines}
    assert after == {
        "notify_panel": (DeadlineStatus.met, None),
        "report_to_partners": (DeadlineStatus.met, None),
        "rapid_review_to_panel": (DeadlineStatus.open, None),
        "agency_information_return": (DeadlineStatus.cancelled, "stopped"),
    }
    assert [e.details["key"] for e in file.history if e.kind is EventKind.deadline_cancelled] == [
        "agency_information_return"
    ]


def test_a_review_task_is_withdrawn_as_a_case_task_is() -> None:
    file = review_file(stage=ReviewStage.reviewer_appointed)
    task = rules.add_task(file, "business_unit", "checkpoint", "Monitoring", NOW)
    rules.apply_task_withdrawal(file, BUSINESS_UNIT, TaskWithdrawal(task_id=task.id, reasons="Merged"), NOW)
    assert task.status is TaskStatus.withdrawn
    assert file.notices[-1].key == f"luton/case-{REFERENCE}/review:{task.id}:withdrawn"
