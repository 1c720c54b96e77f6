"""What the case, review and action-plan workflows share: one lock for human steps, one clock for
deadlines and checkpoints, and one projector that keeps the read model in step.

Not a workflow itself. A subclass keeps its state in ``self.record`` (a ``WorkRecord``), says what
its read-model snapshot is and when it is finished, and takes human steps inside ``self._step()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from safeguarding.domain.activities import (
    COMPUTE_DUE_DATES,
    DISPATCH_NOTICE,
    NEXT_CHECKPOINT,
    RECORD_CASE_CHANGES,
    SHIFT_TIMES,
)
from safeguarding.domain.contracts import (
    CaseChanges,
    DeadlineNotice,
    DueDateItem,
    DueDateRequest,
    DueDates,
    NextDates,
    ShiftRequest,
)
from safeguarding.domain.deadline_book import DeadlineBook, Notice, escalation_delays
from safeguarding.domain.deadlines import Deadline, DeadlineStatus
from safeguarding.domain.events import CaseEvent
from safeguarding.domain.milestones import Milestone, Reached
from safeguarding.domain.outcome import StepOutcome
from safeguarding.domain.people import Actor
from safeguarding.domain.policy import DATE_SET, CheckpointRule, DeadlineRule
from safeguarding.domain.record import ScheduledCheckpoint, WorkRecord
from safeguarding.domain.refusal import Refusal, RefusalKind
from safeguarding.domain.tasks import Task, TaskStatus
from workflows.calls import call

# How long a step waits for the read model before answering anyway (the write carries on).
READ_MODEL_WAIT = timedelta(seconds=5)

# Not a deadline: the moment a run waits so that its continue-as-new has a workflow task to itself.
HAND_OVER_PAUSE = timedelta(seconds=1)


def refusal_error(refusal: Refusal) -> ApplicationError:
    return ApplicationError(refusal.reason, type=refusal.kind.value, non_retryable=True)


def step_outcome(reference: str, stage: str, changes: StepChanges) -> StepOutcome:
    return StepOutcome(
        reference=reference,
        stage=stage,
        events=changes.events,
        tasks=changes.tasks,
        deadlines=changes.deadlines,
    )


class StepChanges:
    """What one step changed, cut when the step ends, for its answer."""

    def __init__(self, work: Casework) -> None:
        self._work = work
        self._first_event = len(work.record.history)
        self.events: list[CaseEvent] = []
        self.tasks: list[Task] = []
        self.deadlines: list[Deadline] = []

    def record(self, kind: str, **kwargs: Any) -> CaseEvent:
        return self._work.record.record(kind, workflow.now(), **kwargs)

    async def reach(self, reached: list[Reached], *, due_on: dict[str, Any] | None = None) -> list[Deadline]:
        touched = await self._work._reach(reached, due_on=due_on)
        self.deadlines.extend(touched)
        return touched

    def close(self) -> None:
        """Inside the lock: only this step's events, and copies, so later changes do not leak in."""
        self.events = [e.model_copy(deep=True) for e in self._work.record.history[self._first_event :]]
        self.tasks = [t.model_copy(deep=True) for t in self.tasks]
        self.deadlines = [d.model_copy(deep=True) for d in self.deadlines]


class Casework:
    record: WorkRecord

    def _start_casework(self, record: WorkRecord) -> None:
        self.record = record
        self.book = DeadlineBook(record.deadlines)
        self._lock = asyncio.Lock()
        self._ready = False
        # Set by anything that may change when the clock must next act. An event rather than a
        # wait_condition flag: the SDK re-checks conditions only in some activations, and a step that
        # lands in another must still wake the clock.
        self._wake = asyncio.Event()
        self._busy_steps = 0
        self._clock_wakes_on_event = False
        self._project_when_settled = False
        self._projected_version = record.version
        self._projected_events = len(record.history)

    # ------------------------------------------------------------ for subclasses

    def _snapshot(self, changes: CaseChanges) -> CaseChanges:
        """Add the stream's own summary (case, review or plan) to a read-model write."""
        raise NotImplementedError

    def _done(self) -> bool:
        """The stream's own business is over (the case closed, the review finished, the plan closed)."""
        raise NotImplementedError

    def _log(self, message: str, **fields: object) -> None:
        # The case reference and non-identifying fields only: never the summary, reasons or returns.
        workflow.logger.info(
            message,
            extra={"case_reference": self.record.reference, "stream": self.record.stream.value, **fields},
        )

    # ------------------------------------------------------------ human steps

    def _validate(self, check: Callable[..., Any], *args: Any) -> None:
        try:
            check(*args)
        except Refusal as refusal:
            raise refusal_error(refusal) from None

    @asynccontextmanager
    async def _step(self) -> AsyncIterator[StepChanges]:
        """One human step: serialised with the others, refused cleanly, projected before answering."""
        self._busy_steps += 1
        try:
            await workflow.wait_condition(lambda: self._ready)
            async with self._lock:
                changes = StepChanges(self)
                try:
                    yield changes
                except Refusal as refusal:
                    # The state moved between validation and execution (another step got in first).
                    raise refusal_error(refusal) from None
                changes.close()
                self._after_step()
            self._wake.set()
            await self._await_read_model(self.record.version)
        finally:
            self._busy_steps -= 1
            if self._clock_wakes_on_event:
                self._wake.set()

    def _after_step(self) -> None:
        """Hook for subclasses: runs inside the lock after every accepted step."""

    def _on_notice(self, notice: Notice, now: datetime) -> None:
        """Hook for subclasses: a reminder or an escalation has just been recorded."""

    def _time_to_move(self) -> bool:
        """Hook for subclasses that continue as new: the clock stops so that the run can hand over."""
        return False

    async def _await_read_model(self, version: int) -> None:
        """Answer once the read model has this version, or after READ_MODEL_WAIT if it lags."""
        try:
            await workflow.wait_condition(
                lambda: self._projected_version >= version,
                timeout=READ_MODEL_WAIT,
                timeout_summary="read model catch-up",
            )
        except TimeoutError:
            self._log("read model behind; answering anyway", version=version)

    def check_actor(self, actor: Actor, *roles: str, agency: str | None = None) -> None:
        """A process rule, not authentication: who may take this step at all."""
        if actor.role.value not in roles:
            raise Refusal(
                f"a {actor.role.value} cannot take this step; it is for: {', '.join(roles)}",
                RefusalKind.forbidden,
            )
        if agency is not None and actor.role.value == "partner_agency" and actor.agency != agency:
            raise Refusal(f"this task belongs to {agency}, not to {actor.agency}", RefusalKind.forbidden)

    # ------------------------------------------------------------ deadlines

    def _due_request(self, items: list[DueDateItem]) -> DueDateRequest:
        policy = self.record.policy
        return DueDateRequest(timezone=policy.timezone, working_days=policy.working_days, items=items)

    async def _compute(self, items: list[DueDateItem]) -> list[DueDates]:
        return await call(COMPUTE_DUE_DATES, self._due_request(items), start_to_close=timedelta(seconds=30))

    def _due_item(self, rule: DeadlineRule, started_at: datetime, due_on: Any = None) -> DueDateItem:
        steps = self.record.policy.escalation_for(rule)
        return DueDateItem(
            started_at=started_at,
            due=None if rule.due == DATE_SET else rule.due,
            due_on=due_on if rule.due == DATE_SET else None,
            reminders=rule.reminders,
            escalations_after=escalation_delays(steps),
        )

    async def _reach(self, reached: list[Reached], *, due_on: dict[str, Any] | None = None) -> list[Deadline]:
        """Milestones reached: meet the deadlines they satisfy, then open the deadlines and checkpoints
        they start. ``due_on`` gives the date set for a deadline whose policy says "the date set"."""
        now = workflow.now()
        record = self.record
        touched: list[Deadline] = []
        for milestone, at, subject in reached:
            for deadline in self.book.meet(milestone, subject, at):
                record.record(
                    "deadline_met",
                    now,
                    occurred_at=at,
                    deadline=deadline.id,
                    key=deadline.key,
                    due_at=deadline.due_at.isoformat(),
                    on_time=deadline.met_on_time,
                )
                touched.append(deadline)
            self._stop_checkpoints(milestone, subject)
        policy = record.policy
        starting = [
            (key, rule, at, subject)
            for milestone, at, subject in reached
            for key, rule in policy.rules_started_by(milestone, record.facts)
        ]
        touched += await self._open(starting, due_on or {})
        for milestone, at, subject in reached:
            for key, rule in policy.checkpoints_started_by(milestone, record.facts):
                await self._schedule_checkpoint(key, rule, at, subject, sequence=1)
        return touched

    async def _open(
        self, starting: list[tuple[str, DeadlineRule, datetime, str | None]], due_on: dict[str, Any]
    ) -> list[Deadline]:
        if not starting:
            return []
        now = workflow.now()
        items = [self._due_item(rule, at, due_on.get(subject or "")) for _, rule, at, subject in starting]
        dates = await self._compute(items)
        opened = []
        for (key, rule, at, subject), due in zip(starting, dates, strict=True):
            deadline = self.book.open(
                key, rule, self.record.policy.escalation_for(rule), at, due, subject, now
            )
            self.record.record(
                "deadline_opened",
                now,
                deadline=deadline.id,
                key=key,
                subject=subject,
                started_at=at.isoformat(),
                due_at=deadline.due_at.isoformat(),
            )
            opened.append(deadline)
        return opened

    async def _redate(self, deadline: Deadline, rule: DeadlineRule, due_on: Any) -> None:
        (dates,) = await self._compute([self._due_item(rule, deadline.started_at, due_on)])
        self.book.redate(deadline, dates, self.record.policy.escalation_for(rule), workflow.now())

    def _pause_clock(self, at: datetime) -> list[Deadline]:
        paused = [d for d in self.book.pausable() if d.paused_since is None]
        for deadline in paused:
            deadline.paused_since = at
        return paused

    async def _resume_clock(self, at: datetime) -> tuple[list[Deadline], int]:
        """Move every paused deadline on by the whole days it was paused, keeping its local time."""
        resumed = [d for d in self.book.live() if d.paused_since is not None]
        if not resumed:
            return [], 0
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
            start_to_close=timedelta(seconds=30),
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
        return resumed, shifted.days

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
            start_to_close=timedelta(seconds=30),
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
        """A checkpoint's day: a task for whoever the policy names, with its own deadline."""
        record, policy = self.record, self.record.policy
        rule = policy.checkpoints[checkpoint.key]
        record.checkpoints.remove(checkpoint)
        now = workflow.now()
        task = Task(
            id=record.next_task_id(),
            agency=rule.task_for,
            kind="checkpoint",
            asked_for=rule.title if checkpoint.subject is None else f"{rule.title} ({checkpoint.subject})",
            requested_at=now,
        )
        record.tasks.append(task)
        record.record(
            "checkpoint_task_created",
            now,
            task=task.id,
            checkpoint=checkpoint.key,
            subject=checkpoint.subject,
            sequence=checkpoint.sequence,
        )
        deadline_rule = rule.as_deadline_rule(policy.escalate_to)
        (deadline,) = await self._open([(checkpoint.key, deadline_rule, now, task.id)], {})
        task.due_at = deadline.due_at
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
        for notice in self.book.owed(now):
            deadline = notice.deadline
            if notice.breach:
                self.record.record(
                    "deadline_missed",
                    now,
                    deadline=deadline.id,
                    key=deadline.key,
                    due_at=deadline.due_at.isoformat(),
                )
                self._log("deadline missed", deadline=deadline.key, due_at=deadline.due_at.isoformat())
            self.record.record(
                f"{notice.kind}_sent",
                now,
                deadline=deadline.id,
                key=deadline.key,
                recipients=notice.recipients,
                number=notice.number,
            )
            self._on_notice(notice, now)
            await call(DISPATCH_NOTICE, self._notice(notice), start_to_close=timedelta(seconds=60))

    def _notice(self, notice: Notice) -> DeadlineNotice:
        deadline = notice.deadline
        task = self.record.task(deadline.subject) if deadline.subject else None
        return DeadlineNotice(
            idempotency_key=f"{self.record.workflow_id}:{deadline.id}:{notice.kind}:{notice.number}",
            case_reference=self.record.reference,
            kind=notice.kind,
            deadline_id=deadline.id,
            deadline_key=deadline.key,
            deadline_title=deadline.title,
            subject=deadline.subject,
            due_at=deadline.due_at,
            recipients=notice.recipients,
            owning_agency=task.agency if task else None,
        )

    # ------------------------------------------------------------ the read model

    async def _project_continuously(self) -> None:
        """Keeps the read model in step: each write carries every event not yet written."""
        while True:
            if self._project_when_settled:
                # Never half-way through a step or a notice: each write is a state the case really had,
                # and one activity at a time per case (the time-skipping test server mishandles an
                # activity that completes while another workflow task of the same run is open).
                await workflow.wait_condition(
                    lambda: self.record.version > self._projected_version and not self._lock.locked()
                )
            else:  # runs begun before that change keep the way they were recorded
                await workflow.wait_condition(lambda: self.record.version > self._projected_version)
            await self._project_once()

    async def _project_once(self) -> None:
        record = self.record
        version = record.version
        events = record.history[self._projected_events :]
        changes = self._snapshot(
            CaseChanges(
                version=version,
                stream=record.stream.value,
                reference=record.reference,
                workflow_id=record.workflow_id,
                events=events,
                deadlines=record.deadlines,
                tasks=[t.model_copy(update={"summary": None, "documents": []}) for t in record.tasks],
                settled=not self._lock.locked(),
            )
        )
        await call(RECORD_CASE_CHANGES, changes, start_to_close=timedelta(seconds=60))
        self._projected_version = version
        self._projected_events += len(events)

    async def _run_casework(self) -> None:
        """The life of the stream after it has opened: clock and projector until finished."""
        # Decided before any step can run, so that a run begun before the change behaves as recorded.
        self._clock_wakes_on_event = workflow.patched("clock-wakes-on-event")
        self._project_when_settled = workflow.patched("project-when-settled")
        self._ready = True
        self._projector = asyncio.create_task(self._project_continuously())
        if self._clock_wakes_on_event:
            self._projector.add_done_callback(lambda _: self._wake.set())
        await self._keep_time()
        await self._settle()
        if self._time_to_move() and workflow.patched("hand-over-alone"):
            # Continue as new in a workflow task of its own: the time-skipping test server rejects a
            # hand-over that shares its task with a step's answer or a cancelled timer ("invalid history
            # builder state"). A step accepted meanwhile is finished and written before looking again.
            while True:
                await workflow.sleep(HAND_OVER_PAUSE, summary="hand over to a new run")
                if workflow.all_handlers_finished() and self._settled():
                    break
                await self._settle()
        self._projector.cancel()

    def _settled(self) -> bool:
        return self._projected_version >= self.record.version

    async def _settle(self) -> None:
        """Wait until no step is running and everything recorded is in the read model."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        await workflow.wait_condition(lambda: self._settled() or self._projector.done())
        if self._projector.done():
            self._projector.result()

    # ------------------------------------------------------------ tasks any stream may have

    def check_withdrawal(self, task_id: str) -> Task:
        task = self.record.task(task_id)
        if task is None:
            raise Refusal(f"case {self.record.reference} has no task {task_id}", RefusalKind.not_found)
        if task.status is not TaskStatus.open:
            raise Refusal(f"task {task_id} is {task.status.value}; only an open task can be withdrawn")
        return task

    def withdraw(self, changes: StepChanges, task: Task, actor: Actor | None, reasons: str) -> None:
        task.status = TaskStatus.withdrawn
        for deadline in self.book.cancel(task.id, reasons):
            changes.record("deadline_cancelled", deadline=deadline.id, key=deadline.key, reason=reasons)
        changes.record("task_withdrawn", actor=actor, reasons=reasons, task=task.id, agency=task.agency)
        changes.tasks.append(task)

    def cancel_live_deadlines(
        self, changes: StepChanges, reason: str, keep: Callable[[Deadline], bool]
    ) -> None:
        for deadline in self.book.live():
            if not keep(deadline):
                deadline.status = DeadlineStatus.cancelled
                deadline.cancelled_reason = reason
                changes.record("deadline_cancelled", deadline=deadline.id, key=deadline.key, reason=reason)
