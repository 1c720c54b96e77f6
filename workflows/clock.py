"""The clock of a case's workflow: deadlines opened and met as milestones are reached, checkpoints on
their days, reminders before a deadline and escalations after it, a clock that stops and restarts.

Part of ``Casework`` (``workflows/casework.py``), which every case workflow is. Due dates come from the
``compute_due_dates`` activity (the working-day calendar), are stored on the deadline, and are never
recomputed: the same history replays to the same dates, whatever the holiday data says later.
"""

import asyncio
from datetime import date, datetime, timedelta

from temporalio import workflow

from safeguarding.domain.activities import (
    COMPUTE_DUE_DATES,
    DISPATCH_NOTICE,
    NEXT_CHECKPOINT,
    SHIFT_TIMES,
)
from safeguarding.domain.contracts import (
    DeadlineNotice,
    DueDateItem,
    DueDateRequest,
    DueDates,
    NextDates,
    ShiftRequest,
)
from safeguarding.domain.deadline_book import DeadlineBook, Owed, escalation_delays
from safeguarding.domain.deadlines import Deadline
from safeguarding.domain.events import EventKind
from safeguarding.domain.milestones import Milestone, Reached
from safeguarding.domain.policy import DATE_SET, CheckpointRule, DeadlineRule
from safeguarding.domain.record import ScheduledCheckpoint, WorkRecord
from safeguarding.domain.rules.tasks import add_task, announce
from workflows.calls import call

CALENDAR_TIMEOUT = timedelta(seconds=30)
NOTICE_TIMEOUT = timedelta(seconds=60)


class Clock:
    record: WorkRecord
    book: DeadlineBook
    _lock: asyncio.Lock
    _wake: asyncio.Event
    _busy_steps: int
    _clock_wakes_on_event: bool
    _projector: asyncio.Task[None]

    # ------------------------------------------------------------ hooks

    def _done(self) -> bool:
        """The stream's own business is over (the case closed, the review finished, the plan closed)."""
        raise NotImplementedError

    def _date_set(self, subject: str | None) -> date | None:
        """The date a decision set for the deadline of ``subject`` (an action's due date), if any."""
        return None

    def _on_notice(self, owed: Owed, now: datetime) -> None:
        """A reminder or an escalation has just been recorded."""

    def _time_to_move(self) -> bool:
        """Streams that continue as new stop their clock so that the run can hand over."""
        return False

    # ------------------------------------------------------------ deadlines

    def _due_request(self, items: list[DueDateItem]) -> DueDateRequest:
        policy = self.record.policy
        return DueDateRequest(timezone=policy.timezone, working_days=policy.working_days, items=items)

    async def _compute(self, items: list[DueDateItem]) -> list[DueDates]:
        return await call(COMPUTE_DUE_DATES, self._due_request(items), start_to_close=CALENDAR_TIMEOUT)

    def _due_item(
        self, rule: DeadlineRule, started_at: datetime, subject: str | None, due_on: date | None = None
    ) -> DueDateItem:
        date_set = rule.due == DATE_SET
        return DueDateItem(
            started_at=started_at,
            due=None if date_set else rule.due,
            due_on=(due_on or self._date_set(subject)) if date_set else None,
            reminders=rule.reminders,
            escalations_after=escalation_delays(self.record.policy.escalation_for(rule)),
        )

    async def _reach(self, reached: list[Reached]) -> None:
        """Milestones reached: meet the deadlines they satisfy, then open the deadlines and checkpoints
        they start."""
        now = workflow.now()
        record, policy = self.record, self.record.policy
        for milestone, at, subject in reached:
            for deadline in self.book.meet(milestone, subject, at):
                record.record(
                    EventKind.deadline_met,
                    now,
                    occurred_at=at,
                    deadline=deadline.id,
                    key=deadline.key,
                    due_at=deadline.due_at.isoformat(),
                    on_time=deadline.met_on_time,
                )
            self._stop_checkpoints(milestone, subject)
        starting = [
            (key, rule, at, subject)
            for milestone, at, subject in reached
            for key, rule in policy.rules_started_by(milestone, record.facts)
        ]
        await self._open(starting)
        for milestone, at, subject in reached:
            for key, checkpoint in policy.checkpoints_started_by(milestone, record.facts):
                await self._schedule_checkpoint(key, checkpoint, at, subject, sequence=1)

    async def _open(self, starting: list[tuple[str, DeadlineRule, datetime, str | None]]) -> list[Deadline]:
        if not starting:
            return []
        now = workflow.now()
        dates = await self._compute([self._due_item(rule, at, subject) for _, rule, at, subject in starting])
        opened = []
        for (key, rule, at, subject), due in zip(starting, dates, strict=True):
            deadline = self.book.open(
                key, rule, self.record.policy.escalation_for(rule), at, due, subject, now
            )
            self.record.record(
                EventKind.deadline_opened,
                now,
                deadline=deadline.id,
                key=key,
                subject=subject,
                started_at=at.isoformat(),
                due_at=deadline.due_at.isoformat(),
            )
            opened.append(deadline)
        return opened

    async def _redate(self, deadline: Deadline, due_on: date) -> None:
        """A new date set for ``deadline``: new due time, reminders and tiers."""
        rule = self.record.policy.deadlines[deadline.key]
        (dates,) = await self._compute([self._due_item(rule, deadline.started_at, deadline.subject, due_on)])
        self.book.redate(deadline, dates, self.record.policy.escalation_for(rule), workflow.now())

    async def _resume_clock(self, at: datetime) -> int:
        """Move every paused deadline on by the whole days it was paused, keeping its local time; returns
        the days."""
        resumed = [d for d in self.book.live() if d.paused_since is not None]
        if not resumed:
            return 0
        times = [
            t
            for d in resumed
            for t in (d.due_at, *(r.at for r in d.reminders), *(e.at for e in d.escalations))
        ]
        shifted = await call(
            SHIFT_TIMES,
            ShiftRequest(
                timezone=self.record.policy.timezone,
                paused_at=resumed[0].paused_since,
                resumed_at=at,
                times=times,
            ),
            start_to_close=CALENDAR_TIMEOUT,
        )
        moved = iter(shifted.times)
        for deadline in resumed:
            deadline.original_due_at = deadline.original_due_at or deadline.due_at
            deadline.due_at = next(moved)
            for reminder in deadline.reminders:
                reminder.at = next(moved)
            for escalation in deadline.escalations:
                escalation.at = next(moved)
            deadline.paused_since = None
            deadline.paused_days += shifted.days
        return shifted.days

    # ------------------------------------------------------------ checkpoints

    async def _schedule_checkpoint(
        self, key: str, rule: CheckpointRule, after: datetime, subject: str | None, sequence: int
    ) -> None:
        policy = self.record.policy
        at = await call(
            NEXT_CHECKPOINT,
            NextDates(
                timezone=policy.timezone,
                working_days=policy.working_days,
                after=after,
                every=rule.first_after if sequence == 1 else rule.every,
            ),
            start_to_close=CALENDAR_TIMEOUT,
        )
        self.record.checkpoints.append(
            ScheduledCheckpoint(key=key, at=at, subject=subject, sequence=sequence)
        )
        self._wake.set()

    def _stop_checkpoints(self, milestone: Milestone, subject: str | None) -> None:
        policy = self.record.policy
        for checkpoint in list(self.record.checkpoints):
            rule = policy.checkpoints[checkpoint.key]
            if milestone in rule.until and (checkpoint.subject == subject or subject is None):
                self.record.checkpoints.remove(checkpoint)

    async def _hold_checkpoint(self, checkpoint: ScheduledCheckpoint) -> None:
        """A checkpoint's day: a task for whoever the policy names, with its own deadline; they hear of it."""
        record, policy = self.record, self.record.policy
        rule = policy.checkpoints[checkpoint.key]
        record.checkpoints.remove(checkpoint)
        now = workflow.now()
        asked = rule.title if checkpoint.subject is None else f"{rule.title} ({checkpoint.subject})"
        task = add_task(record, rule.task_for, "checkpoint", asked, now)
        record.record(
            EventKind.checkpoint_task_created,
            now,
            task=task.id,
            checkpoint=checkpoint.key,
            subject=checkpoint.subject,
            sequence=checkpoint.sequence,
        )
        await self._open([(checkpoint.key, rule.as_deadline_rule(policy.escalate_to), now, task.id)])
        announce(record, task)
        if rule.every is not None:
            await self._schedule_checkpoint(
                checkpoint.key, rule, checkpoint.at, checkpoint.subject, checkpoint.sequence + 1
            )

    # ------------------------------------------------------------ the clock

    async def _keep_time(self) -> None:
        """The one clock: sleep until something is owed, do it, until this stream is finished.

        Finished means done, nothing live, and no step half-way: a step that is still running may open
        a deadline, so the loop waits for it and looks again.
        """
        while True:
            if self._projector.done():
                self._projector.result()  # a failure in the projector must not go unseen
            if self._time_to_move():
                return
            moment = self._next_moment()
            now = workflow.now()
            if moment is not None and moment <= now:
                async with self._lock:
                    await self._send_owed(now)
                continue
            if self._finished():
                await workflow.wait_condition(
                    lambda: workflow.all_handlers_finished() or not self._finished()
                )
                if self._finished():
                    return
                continue
            self._wake.clear()
            try:
                # Until the next reminder, due time or checkpoint, or until something changes.
                if self._clock_wakes_on_event:
                    await asyncio.wait_for(
                        self._wake.wait(), timeout=None if moment is None else (moment - now).total_seconds()
                    )
                else:  # runs begun before that fix keep the way they were recorded
                    await workflow.wait_condition(
                        lambda: self._wake.is_set() or self._finished() or self._projector.done(),
                        timeout=None if moment is None else moment - now,
                        timeout_summary="next reminder, due time or checkpoint",
                    )
            except TimeoutError:
                pass

    def _finished(self) -> bool:
        return self._done() and not self.book.live() and self._busy_steps == 0

    def _next_moment(self) -> datetime | None:
        moments = [c.at for c in self.record.checkpoints]
        deadline_moment = self.book.next_moment()
        if deadline_moment is not None:
            moments.append(deadline_moment)
        return min(moments, default=None)

    async def _send_owed(self, now: datetime) -> None:
        for checkpoint in [c for c in self.record.checkpoints if c.at <= now]:
            await self._hold_checkpoint(checkpoint)
        for owed in self.book.owed(now):
            deadline = owed.deadline
            if owed.breach:
                self.record.record(
                    EventKind.deadline_missed,
                    now,
                    deadline=deadline.id,
                    key=deadline.key,
                    due_at=deadline.due_at.isoformat(),
                )
                self._log("deadline missed", deadline=deadline.key, due_at=deadline.due_at.isoformat())
            if owed.kind == "breach" or self._due_before_entry(owed):
                continue
            self.record.record(
                EventKind(f"{owed.kind}_sent"),
                now,
                deadline=deadline.id,
                key=deadline.key,
                recipients=owed.recipients,
                number=owed.number,
            )
            self._on_notice(owed, now)
            await call(DISPATCH_NOTICE, self._deadline_notice(owed), start_to_close=NOTICE_TIMEOUT)

    def _due_before_entry(self, owed: Owed) -> bool:
        """A reminder or escalation that fell due before this work was entered in the service (a case
        entered late, or brought in with its history) is not sent: no one could have sent it then, and
        the steps that follow may show it was not needed. The deadline shows overdue all the same."""
        record = self.record
        entered = record.history[0].recorded_at if record.history and record.first_seq == 1 else None
        if entered is None or owed.at is None or owed.at >= entered:
            return False
        return workflow.patched("no-notices-due-before-entry")

    def _deadline_notice(self, owed: Owed) -> DeadlineNotice:
        deadline = owed.deadline
        task = self.record.task(deadline.subject) if deadline.subject else None
        return DeadlineNotice(
            idempotency_key=f"{self.record.workflow_id}:{deadline.id}:{owed.kind}:{owed.number}",
            case_reference=self.record.reference,
            partnership=self.record.partnership,
            recipients_in=task.partnership if task else None,
            kind=owed.kind,
            deadline_id=deadline.id,
            deadline_key=deadline.key,
            deadline_title=deadline.title,
            subject=deadline.subject,
            due_at=deadline.due_at,
            recipients=owed.recipients,
            owning_agency=task.agency if task else None,
        )

    def _log(self, message: str, **fields: object) -> None:
        # The case reference and non-identifying fields only: never the summary, reasons or returns.
        workflow.logger.info(
            message,
            extra={"case_reference": self.record.reference, "stream": self.record.stream.value, **fields},
        )
