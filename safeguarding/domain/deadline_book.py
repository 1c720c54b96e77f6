"""The deadlines of one workflow: which are live, when it must next wake, and what is owed when it
does (reminders before a deadline; a breach and each tier of escalation after it).

Pure and deterministic: the workflow calls it with ``workflow.now()``; due dates come from the
``compute_due_dates`` activity and are stored here, never recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from safeguarding.domain.contracts import DueDates
from safeguarding.domain.deadlines import Deadline, DeadlineStatus, Escalation, Reminder
from safeguarding.domain.milestones import Milestone
from safeguarding.domain.policy import DeadlineRule, EscalationStep


@dataclass(frozen=True)
class Owed:
    """A reminder or an escalation the workflow owes because time has passed."""

    kind: Literal["reminder", "escalation", "breach"]  # a breach alone: no tier falls at the due time
    deadline: Deadline
    recipients: list[str]
    number: int  # which reminder, or which tier of escalation (1, 2, ...)
    breach: bool = False  # the first escalation comes with the record of the breach
    at: datetime | None = None  # when it fell due


def _escalations(steps: list[EscalationStep], dates: DueDates) -> list[Escalation]:
    later = iter(dates.escalation_times)
    return [
        Escalation(at=dates.due_at if step.after is None else next(later), recipients=list(step.to))
        for step in steps
    ]


def escalation_delays(steps: list[EscalationStep]) -> list:
    """What the due-date activity must compute for these tiers: one time per tier with a delay."""
    return [step.after for step in steps if step.after is not None]


class DeadlineBook:
    def __init__(self, deadlines: list[Deadline]) -> None:
        # The list is shared with the workflow's record, so what is changed here is what is kept.
        self.deadlines = deadlines

    def open(
        self,
        key: str,
        rule: DeadlineRule,
        escalation: list[EscalationStep],
        started_at: datetime,
        dates: DueDates,
        subject: str | None,
        now: datetime,
    ) -> Deadline:
        deadline = Deadline(
            id=f"D{len(self.deadlines) + 1}",
            key=key,
            title=rule.title,
            subject=subject,
            started_at=started_at,
            due_at=dates.due_at,
            # A reminder whose moment has already passed when the deadline opens is not sent late.
            reminders=[Reminder(at=at) for at in sorted(dates.reminder_times) if at > now],
            reminders_to=list(rule.reminders_to),
            escalations=_escalations(escalation, dates),
            met_by=rule.met_by,
            statutory=rule.statutory,
            pausable=rule.pausable,
            source=rule.source,
        )
        self.deadlines.append(deadline)
        return deadline

    def redate(
        self, deadline: Deadline, dates: DueDates, escalation: list[EscalationStep], now: datetime
    ) -> None:
        """A new due date (an action re-dated): new reminders and tiers; an overdue deadline reopens."""
        deadline.original_due_at = deadline.original_due_at or deadline.due_at
        deadline.due_at = dates.due_at
        deadline.reminders = [Reminder(at=at) for at in sorted(dates.reminder_times) if at > now]
        deadline.escalations = _escalations(escalation, dates)
        if deadline.status is DeadlineStatus.overdue and dates.due_at > now:
            deadline.status = DeadlineStatus.open

    def meet(self, milestone: Milestone, subject: str | None, at: datetime) -> list[Deadline]:
        """Mark as met every live deadline this milestone satisfies; returns them."""
        met = []
        for deadline in self.live():
            if deadline.met_by is milestone and deadline.subject == subject:
                deadline.status = DeadlineStatus.met
                deadline.met_at = at
                if at > deadline.due_at:
                    # Met late (by a step dated after its due time): it was missed at its due time.
                    deadline.breached_at = deadline.due_at
                else:
                    # Met in time by a step recorded after the fact: it was never missed, whatever the
                    # clock noticed meanwhile.
                    deadline.breached_at = None
                met.append(deadline)
        return met

    def cancel(self, subject: str | None, reason: str) -> list[Deadline]:
        """Cancel the live deadlines of ``subject`` (a task); returns them."""
        cancelled = [d for d in self.live() if d.subject == subject]
        for deadline in cancelled:
            self.cancel_one(deadline, reason)
        return cancelled

    @staticmethod
    def cancel_one(deadline: Deadline, reason: str) -> None:
        deadline.status = DeadlineStatus.cancelled
        deadline.cancelled_reason = reason

    def live(self) -> list[Deadline]:
        """Deadlines not yet met: open ones and overdue ones."""
        return [d for d in self.deadlines if d.status in (DeadlineStatus.open, DeadlineStatus.overdue)]

    def pausable(self) -> list[Deadline]:
        return [d for d in self.live() if d.pausable]

    def pause(self, at: datetime) -> list[Deadline]:
        """A clock stop: every pausable deadline waits from ``at`` (no reminder, no breach)."""
        paused = [d for d in self.pausable() if d.paused_since is None]
        for deadline in paused:
            deadline.paused_since = at
        return paused

    def next_moment(self) -> datetime | None:
        """The next time something is owed: a reminder, a due time, a tier of escalation."""
        moments = []
        for deadline in self.live():
            if deadline.paused_since is not None:
                continue
            if deadline.status is DeadlineStatus.open:
                moments.append(deadline.due_at)
                moments.extend(r.at for r in deadline.reminders if not r.sent)
            moments.extend(e.at for e in deadline.escalations if not e.sent and e.at > deadline.due_at)
        return min(moments, default=None)

    def owed(self, now: datetime) -> list[Owed]:
        """Everything owed at ``now``, marked as done here so that it is owed only once."""
        notices: list[Owed] = []
        for deadline in self.live():
            if deadline.paused_since is not None:
                continue  # the clock is stopped: no reminder, no breach
            breach = False
            if deadline.status is DeadlineStatus.open and deadline.due_at <= now:
                deadline.status = DeadlineStatus.overdue
                deadline.breached_at = deadline.due_at  # missed at its due time, whenever noticed
                breach = True
            if deadline.status is DeadlineStatus.open:
                due_reminders = [r for r in deadline.reminders if not r.sent and r.at <= now]
                for reminder in due_reminders:
                    reminder.sent = True
                if due_reminders:
                    # After a pause (a worker outage, say) only the latest reminder is worth sending.
                    number = deadline.reminders.index(due_reminders[-1]) + 1
                    notices.append(
                        Owed("reminder", deadline, deadline.reminders_to, number, at=due_reminders[-1].at)
                    )
                continue
            # Overdue: unsent reminders are moot; each tier of escalation goes once, at its time.
            for tier, escalation in enumerate(deadline.escalations, start=1):
                if not escalation.sent and escalation.at <= now:
                    escalation.sent = True
                    notices.append(
                        Owed("escalation", deadline, escalation.recipients, tier, breach, at=escalation.at)
                    )
                    breach = False
            if breach:  # recorded even when the first tier of escalation comes later
                notices.append(Owed("breach", deadline, [], 0, breach=True))
        return notices
