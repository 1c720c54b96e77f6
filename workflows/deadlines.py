"""The deadlines of one case: which are open, when the workflow must next wake, and what is owed
when it does (reminders before a deadline, a breach and its escalation after).

Pure and deterministic: the workflow calls it with ``workflow.now()``; due dates come from the
``compute_due_dates`` activity and are stored here, never recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from safeguarding.case import Deadline, DeadlineStatus, Milestone, Reminder
from safeguarding.policy import DeadlineRule


@dataclass(frozen=True)
class Notice:
    """Something the workflow owes because time has passed."""

    kind: Literal["reminder", "escalation"]
    deadline: Deadline
    recipients: list[str]
    number: int  # which reminder (1, 2, ...) or 0 for the escalation


class DeadlineBook:
    def __init__(self, deadlines: list[Deadline]) -> None:
        # The list is shared with the case file, so what is changed here is what is kept.
        self.deadlines = deadlines

    def open(
        self,
        key: str,
        rule: DeadlineRule,
        escalate_to: list[str],
        started_at: datetime,
        due_at: datetime,
        reminder_times: list[datetime],
        subject: str | None,
        now: datetime,
    ) -> Deadline:
        deadline = Deadline(
            id=f"D{len(self.deadlines) + 1}",
            key=key,
            title=rule.title,
            subject=subject,
            started_at=started_at,
            due_at=due_at,
            # A reminder whose moment has already passed when the deadline opens is not sent late.
            reminders=[Reminder(at=at) for at in sorted(reminder_times) if at > now],
            reminders_to=list(rule.reminders_to),
            escalate_to=list(escalate_to),
            met_by=rule.met_by,
            statutory=rule.statutory,
            source=rule.source,
        )
        self.deadlines.append(deadline)
        return deadline

    def meet(self, milestone: Milestone, subject: str | None, at: datetime) -> list[Deadline]:
        """Mark as met every live deadline this milestone satisfies; returns them."""
        met = []
        for deadline in self.live():
            if deadline.met_by is milestone and deadline.subject == subject:
                deadline.status = DeadlineStatus.met
                deadline.met_at = at
                met.append(deadline)
        return met

    def cancel(self, subject: str | None, reason: str) -> list[Deadline]:
        cancelled = []
        for deadline in self.live():
            if deadline.subject == subject:
                deadline.status = DeadlineStatus.cancelled
                deadline.cancelled_reason = reason
                cancelled.append(deadline)
        return cancelled

    def live(self) -> list[Deadline]:
        """Deadlines not yet met: open ones and overdue ones."""
        return [d for d in self.deadlines if d.status in (DeadlineStatus.open, DeadlineStatus.overdue)]

    def next_moment(self) -> datetime | None:
        """The next time something is owed: an unsent reminder or a due time not yet breached."""
        moments = []
        for deadline in self.deadlines:
            if deadline.status is not DeadlineStatus.open:
                continue
            moments.append(deadline.due_at)
            moments.extend(r.at for r in deadline.reminders if not r.sent)
        return min(moments, default=None)

    def owed(self, now: datetime) -> list[Notice]:
        """Everything owed at ``now``, marked as done here so that it is owed only once."""
        notices: list[Notice] = []
        for deadline in self.deadlines:
            if deadline.status is not DeadlineStatus.open:
                continue
            if deadline.due_at <= now:
                deadline.status = DeadlineStatus.overdue
                deadline.breached_at = now
                # Unsent reminders are moot once the deadline is breached: only the escalation goes.
                notices.append(Notice("escalation", deadline, deadline.escalate_to, 0))
                continue
            due_reminders = [r for r in deadline.reminders if not r.sent and r.at <= now]
            for reminder in due_reminders:
                reminder.sent = True
            if due_reminders:
                # After a pause (a worker outage, say) only the latest reminder is worth sending.
                number = deadline.reminders.index(due_reminders[-1]) + 1
                notices.append(Notice("reminder", deadline, deadline.reminders_to, number))
        return notices
