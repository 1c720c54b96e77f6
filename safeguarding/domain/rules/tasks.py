"""Tasks on any stream of a case: made, completed, withdrawn, and who hears of each.

A task is work asked of an agency (an information return, an action) or of one of the partnership's
offices by role (a monitoring checkpoint, a national review duty). Its owner hears when it is assigned
(once its due date is known), when its date moves, when it is withdrawn, and when someone else closes it.
"""

from __future__ import annotations

from datetime import datetime

from safeguarding.domain.deadline_book import DeadlineBook
from safeguarding.domain.events import EventKind
from safeguarding.domain.milestones import Reached
from safeguarding.domain.notices import NoticeKind, closed_by_someone_else
from safeguarding.domain.people import Actor
from safeguarding.domain.record import WorkRecord
from safeguarding.domain.refusal import Refusal, RefusalKind
from safeguarding.domain.rules.common import fmt, not_before
from safeguarding.domain.tasks import Task, TaskKind, TaskStatus, TaskWithdrawal


def find_task(record: WorkRecord, task_id: str) -> Task:
    task = record.task(task_id)
    if task is None:
        raise Refusal(f"case {record.reference} has no task {task_id}", RefusalKind.not_found)
    return task


def find_own_task(record: WorkRecord, actor: Actor, task_id: str) -> Task:
    """A task the actor's partnership may act on: a contributing partnership's Business Unit finds only
    its own partnership's tasks (the lead's answer as tasks that do not exist)."""
    task = find_task(record, task_id)
    acting = actor.partnership
    if acting is not None and acting != record.partnership and record.task_partnership(task) != acting:
        raise Refusal(f"case {record.reference} has no task {task_id}", RefusalKind.not_found)
    return task


def check_open_task(record: WorkRecord, task_id: str, at: datetime | None = None) -> Task:
    """An open task; a step on it dated ``at`` is not before it was asked for."""
    task = find_task(record, task_id)
    if task.status is TaskStatus.completed:
        raise Refusal(f"task {task.id} was already completed on {fmt(task.completed_at)}")  # type: ignore[arg-type]
    if task.status is TaskStatus.withdrawn:
        raise Refusal(f"task {task.id} was withdrawn; nothing is owed on it")
    if at is not None:
        not_before(at, task.requested_at, "this step", f"the request of task {task.id}")
    return task


def add_task(
    record: WorkRecord,
    agency: str,
    kind: TaskKind,
    asked_for: str,
    now: datetime,
    *,
    partnership: str | None = None,
) -> Task:
    """A new open task; announce it with ``announce`` once its due date is known. ``partnership``: a
    contributing partnership's, whose directory ``agency`` is in."""
    task = Task(
        id=record.next_task_id(),
        agency=agency,
        partnership=partnership,
        kind=kind,
        asked_for=asked_for,
        requested_at=now,
    )
    record.tasks.append(task)
    return task


def announce(record: WorkRecord, task: Task) -> None:
    """The task's owner hears of it, with its due date if its deadline has opened."""
    deadline = next((d for d in DeadlineBook(record.deadlines).live() if d.subject == task.id), None)
    if deadline is not None:
        task.due_at = deadline.due_at
    record.notify_task(task, NoticeKind.task_assigned)


def complete_task(
    record: WorkRecord,
    task: Task,
    actor: Actor | None,
    now: datetime,
    *,
    summary: str | None = None,
    documents: list[str] | None = None,
) -> None:
    task.status, task.completed_at, task.completed_by = TaskStatus.completed, now, actor
    if summary is not None:
        task.summary = summary
    if documents is not None:
        task.documents = list(documents)
    if closed_by_someone_else(task):
        record.notify_task(task, NoticeKind.task_completed)


def withdraw_task(record: WorkRecord, task: Task, actor: Actor | None, reasons: str, now: datetime) -> None:
    """The task ends: its deadlines are cancelled, and its owner hears that nothing more is asked."""
    task.status = TaskStatus.withdrawn
    for deadline in DeadlineBook(record.deadlines).cancel(task.id, reasons):
        record.record(
            EventKind.deadline_cancelled, now, deadline=deadline.id, key=deadline.key, reason=reasons
        )
    record.record(
        EventKind.task_withdrawn, now, actor=actor, reasons=reasons, task=task.id, agency=task.agency
    )
    record.notify_task(task, NoticeKind.task_withdrawn)


def check_task_withdrawal(
    record: WorkRecord, actor: Actor, withdrawal: TaskWithdrawal, now: datetime
) -> None:
    find_own_task(record, actor, withdrawal.task_id)
    check_open_task(record, withdrawal.task_id, now)


def apply_task_withdrawal(
    record: WorkRecord, actor: Actor, withdrawal: TaskWithdrawal, now: datetime
) -> list[Reached]:
    withdraw_task(record, check_open_task(record, withdrawal.task_id), actor, withdrawal.reasons, now)
    return []


def withdraw_open_tasks(record: WorkRecord, reasons: str, now: datetime) -> None:
    for task in [t for t in record.tasks if t.status is TaskStatus.open]:
        withdraw_task(record, task, None, reasons, now)


def cancel_live_deadlines(
    record: WorkRecord, reason: str, now: datetime, keep=lambda deadline: False
) -> None:  # type: ignore[no-untyped-def]
    """Nothing more is owed on this stream (but what ``keep`` keeps)."""
    for deadline in DeadlineBook(record.deadlines).live():
        if not keep(deadline):
            DeadlineBook.cancel_one(deadline, reason)
            record.record(
                EventKind.deadline_cancelled, now, deadline=deadline.id, key=deadline.key, reason=reason
            )
