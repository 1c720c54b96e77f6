"""What the case, review and action-plan workflows share: one way to take a step, one clock for
deadlines and checkpoints (``workflows/clock.py``), and one projector that keeps the read model in step.

Not a workflow itself. A subclass keeps its state in ``self.record`` (a ``WorkRecord``), says what its
read-model snapshot is and when it is finished, and takes every human step the same way: an update per
decision, its validator written under it, both running the step's row of the table of steps (who may
take it) and its pure ``check_*``; the update then runs the step's ``apply_*`` inside ``self._step()``.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from safeguarding.domain.activities import RECORD_CASE_CHANGES
from safeguarding.domain.contracts import CaseChanges
from safeguarding.domain.deadline_book import DeadlineBook
from safeguarding.domain.deadlines import Deadline
from safeguarding.domain.events import AuditNote
from safeguarding.domain.milestones import Reached
from safeguarding.domain.outcome import StepOutcome
from safeguarding.domain.people import Actor, Attributed
from safeguarding.domain.record import WorkRecord
from safeguarding.domain.refusal import Refusal, RefusalKind
from safeguarding.domain.rules.common import step_time
from safeguarding.domain.steps import Step
from safeguarding.domain.tasks import Task
from workflows.calls import call
from workflows.clock import Clock

# How long a step waits for the read model before answering anyway (the write carries on).
READ_MODEL_WAIT = timedelta(seconds=5)
# Not a deadline: the moment a run waits so that its continue-as-new has a workflow task to itself.
HAND_OVER_PAUSE = timedelta(seconds=1)
PROJECTION_TIMEOUT = timedelta(seconds=60)
# How many recent steps' update ids a case keeps across runs (a retry comes within minutes or days).
TAKEN_KEPT = 1000

# A step's check: (the workflow's record, who acts, what they decided, now) -> None or Refusal.
Check = Callable[[Any, Actor, Any, datetime], None]


def refusal_error(refusal: Refusal) -> ApplicationError:
    return ApplicationError(refusal.reason, type=refusal.kind.value, non_retryable=True)


class StepChanges:
    """What one step changed, for its answer: its events, and the tasks and deadlines it touched."""

    def __init__(self, work: "Casework") -> None:
        self._work = work
        record = work.record
        self._first_event = len(record.history)
        self._tasks_before = {t.id: t.model_dump() for t in record.tasks}
        self._deadlines_before = {d.id: d.model_dump() for d in record.deadlines}
        self.events: list = []
        self.tasks: list[Task] = []
        self.deadlines: list[Deadline] = []
        # When the step truly happened (its ``occurred_at``, or now): the time its rules run at.
        self.at: datetime = workflow.now()

    async def reach(self, reached: list[Reached]) -> None:
        """Milestones the step reached: the deadlines they meet, open or start (an activity computes
        the dates)."""
        await self._work._reach(reached)

    def close(self) -> None:
        """Inside the lock: only this step's events, and copies, so later changes do not leak in."""
        record = self._work.record
        self.events = [e.model_copy(deep=True) for e in record.history[self._first_event :]]
        self.tasks = [
            t.model_copy(deep=True) for t in record.tasks if self._tasks_before.get(t.id) != t.model_dump()
        ]
        self.deadlines = [
            d.model_copy(deep=True)
            for d in record.deadlines
            if self._deadlines_before.get(d.id) != d.model_dump()
        ]


class Casework(Clock):
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
        self._projected_notices = len(record.notices)

    # ------------------------------------------------------------ for subclasses

    def _snapshot(self, changes: CaseChanges) -> CaseChanges:
        """Add the stream's own summary (case, review or plan) to a read-model write."""
        raise NotImplementedError

    def _stage(self) -> str:
        """Where the stream stands, for a step's answer."""
        raise NotImplementedError

    def _after_step(self) -> None:
        """Runs inside the lock after every accepted step."""

    # ------------------------------------------------------------ human steps

    def _contributors(self) -> list[str]:
        """The partnerships that contribute to the case (only the case's own workflow has any)."""
        return []

    def _began(self) -> tuple[datetime | None, str]:
        """When the stream's work began, and in words: no dated step goes before it."""
        return self.record.began_at, "the start of this work"

    def _check(self, step: Step, attributed: Attributed[Any], check: Check) -> datetime:
        """Who may, then the step's rules at the time it truly happened; returns that time."""
        record = self.record
        step.check_partnership(attributed.actor, record.reference, record.partnership, self._contributors())
        step.check_actor(attributed.actor)
        at = step_time(attributed.decision, workflow.now(), *self._began())
        check(record, attributed.actor, attributed.decision, at)
        return at

    def _not_taken_before(self) -> None:
        """A step retried after the workflow handed over to a new run is not taken again."""
        update = workflow.current_update_info()
        if update is not None and update.id in self.record.taken:
            raise Refusal(
                "this request was already taken (before the case moved to a new run): read the case for "
                "its outcome",
                RefusalKind.not_allowed_now,
            )

    def _validate(self, step: Step, attributed: Attributed[Any], check: Check) -> None:
        """An update's validator: a refused step never reaches history, and the caller gets the reason."""
        try:
            self._not_taken_before()
            if self._ready:
                self._check(step, attributed, check)
            else:
                # Still opening (a plan's recommendations, a review's first tasks come in its run): who
                # may take the step is checked now, its own rules under the lock once it is open.
                record = self.record
                step.check_partnership(
                    attributed.actor, record.reference, record.partnership, self._contributors()
                )
                step.check_actor(attributed.actor)
        except Refusal as refusal:
            raise refusal_error(refusal) from None

    @asynccontextmanager
    async def _step(
        self, step: Step, attributed: Attributed[Any], check: Check
    ) -> AsyncIterator[StepChanges]:
        """One human step: serialised with the others, checked again under the lock (another step may
        have got in first), refused cleanly, projected before answering."""
        self._busy_steps += 1
        try:
            await workflow.wait_condition(lambda: self._ready)
            async with self._lock:
                changes = StepChanges(self)
                try:
                    self._not_taken_before()
                    changes.at = self._check(step, attributed, check)
                    self.record.recording(workflow.now())
                    yield changes
                except Refusal as refusal:
                    raise refusal_error(refusal) from None
                finally:
                    self.record.recording(None)
                self._note_for_audit(step, attributed, changes.at)
                self._remember_taken()
                changes.close()
                self._after_step()
            self._wake.set()
            await self._await_read_model(self.record.version)
        finally:
            self._busy_steps -= 1
            if self._clock_wakes_on_event:
                self._wake.set()

    def _remember_taken(self) -> None:
        update = workflow.current_update_info()
        if update is not None:
            taken = self.record.taken
            taken.append(update.id)
            del taken[: max(0, len(taken) - TAKEN_KEPT)]

    def _note_for_audit(self, step: Step, attributed: Attributed[Any], at: datetime) -> None:
        """The accepted step's audit entry, written with the read model (exactly once: by the update id,
        which Temporal takes once)."""
        record, now = self.record, workflow.now()
        update = workflow.current_update_info()
        record.audit.append(
            AuditNote(
                key=f"{record.workflow_id}/{update.id if update else record.version}",
                at=now,
                occurred_at=at if at != now else None,
                actor=attributed.actor,
                action=attributed.action or step.method,
                case_reference=record.reference,
                reason=getattr(attributed.decision, "reasons", None),
            )
        )

    def _outcome(self, changes: StepChanges) -> StepOutcome:
        return StepOutcome(
            reference=self.record.reference,
            stage=self._stage(),
            events=changes.events,
            tasks=changes.tasks,
            deadlines=changes.deadlines,
        )

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

    # ------------------------------------------------------------ the read model

    async def _project_continuously(self) -> None:
        """Keeps the read model in step: each write carries every event and notice not yet written."""
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
        notices = record.notices[self._projected_notices :]
        audit = list(record.audit)
        changes = self._snapshot(
            CaseChanges(
                version=version,
                stream=record.stream.value,
                partnership=record.partnership,
                reference=record.reference,
                workflow_id=record.workflow_id,
                events=events,
                notices=notices,
                audit=audit,
                deadlines=record.deadlines,
                tasks=[t.model_copy(update={"summary": None, "documents": []}) for t in record.tasks],
                settled=not self._lock.locked(),
            )
        )
        await call(RECORD_CASE_CHANGES, changes, start_to_close=PROJECTION_TIMEOUT)
        self._projected_version = version
        del record.audit[: len(audit)]
        self._projected_events += len(events)
        self._projected_notices += len(notices)

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
