"""The yearly report's own deadlines, run as a process like every other (DOMAIN.md, step 5).

One workflow per partnership and reporting year, ``yearly-report-<partnership>-<year>``, started when the
reporting year ends (a Schedule on the policy's ``reporting_year_starts``) or by the Business Unit.
Two deadlines, both from the policy: the report published by ``yearly_report_published_by`` after the
year ends, and sent to the Panel and the DfE within ``yearly_report_sent_within`` of publication. Each
has its reminders before it and one escalation when it passes unmet, each sent once.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from safeguarding.domain import steps
from safeguarding.domain.activities import COMPUTE_DUE_DATES, NOTIFY_YEARLY, RECORD_YEARLY_STATE
from safeguarding.domain.contracts import DueDateItem, DueDateRequest
from safeguarding.domain.dates import local_date, start_of_day
from safeguarding.domain.partnerships import current
from safeguarding.domain.people import Attributed
from safeguarding.domain.refusal import Refusal, RefusalKind
from safeguarding.domain.rules import yearly_report as rules
from safeguarding.domain.yearly_report import (
    PUBLISHED,
    SENT,
    ReportPublished,
    ReportSent,
    YearlyDeadline,
    YearlyFile,
    YearlyNotice,
    YearlyStart,
    YearlyState,
    YearlyStep,
    YearlyView,
    reference,
    workflow_id,
)
from workflows.calls import call
from workflows.casework import Check, refusal_error

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


@workflow.defn
class YearlyReportWorkflow:
    @workflow.init
    def __init__(self, start: YearlyStart) -> None:
        self.file = YearlyFile(partnership=start.partnership, year_start=start.year_start, start=start)
        self._changed = False
        self._ready = False
        self._lock = asyncio.Lock()
        self._version = 0

    @workflow.run
    async def run(self, start: YearlyStart) -> YearlyView:
        year_end = self.file.year_end
        month, day = (int(part) for part in start.rules.yearly_report_published_by.split("-"))
        publish_by = date(year_end.year, month, day)
        if publish_by < year_end:
            publish_by = date(year_end.year + 1, month, day)
        opened = datetime(year_end.year, year_end.month, year_end.day, tzinfo=UTC)
        await self._open(
            PUBLISHED,
            "Yearly report published",
            DueDateItem(started_at=opened, due_on=publish_by, reminders=start.rules.yearly_report_reminders),
        )
        self._ready = True
        while not self._finished():
            moment = min((m for d in self.file.deadlines if (m := d.next_moment) is not None), default=None)
            now = workflow.now()
            if moment is not None and moment <= now:
                await self._send_owed(now)
                continue
            self._changed = False
            try:
                await workflow.wait_condition(
                    lambda: self._changed,
                    timeout=None if moment is None else moment - now,
                    timeout_summary="next reminder or due time",
                )
            except TimeoutError:
                pass
        await workflow.wait_condition(workflow.all_handlers_finished)  # the last step answers first
        await self._project()
        return self.view()

    def _finished(self) -> bool:
        return any(d.key == SENT and d.met_at is not None for d in self.file.deadlines)

    async def _open(self, key: str, title: str, item: DueDateItem) -> YearlyDeadline:
        start = self.file.start
        (dates,) = await call(
            COMPUTE_DUE_DATES,
            DueDateRequest(timezone=start.timezone, working_days=start.working_days, items=[item]),
            start_to_close=timedelta(seconds=30),
            retry=RETRY,
        )
        # Earliest first; a reminder whose time is already past when the deadline opens is not sent late.
        now = workflow.now()
        reminders = sorted(t for t in dates.reminder_times if t > now)
        deadline = YearlyDeadline(key=key, title=title, due_at=dates.due_at, reminders=reminders)
        self.file.deadlines.append(deadline)
        self.file.history.append(f"{now.isoformat()} {key} due {dates.due_at.isoformat()}")
        await self._project()
        return deadline

    async def _send_owed(self, now: datetime) -> None:
        start = self.file.start
        for deadline in self.file.deadlines:
            moment = deadline.next_moment
            if moment is None or moment > now:
                continue
            if deadline.reminders_sent < len(deadline.reminders):
                deadline.reminders_sent += 1
                kind, number, to = (
                    "reminder",
                    deadline.reminders_sent - 1,
                    start.rules.yearly_report_reminders_to,
                )
            else:
                deadline.escalated = True
                kind, number, to = "escalation", 1, start.rules.yearly_report_escalate_to
            self.file.history.append(f"{now.isoformat()} {kind} {deadline.key} {number}")
            await call(
                NOTIFY_YEARLY,
                YearlyNotice(
                    key=f"{workflow.info().workflow_id}:{deadline.key}:{kind}:{number}",
                    reference=reference(start.partnership, start.year_start),
                    partnership=start.partnership,
                    kind=kind,
                    deadline_key=deadline.key,
                    title=deadline.title,
                    due_at=deadline.due_at,
                    recipients=to,
                    number=number,
                ),
                start_to_close=timedelta(seconds=60),
                retry=RETRY,
            )
        await self._project()

    async def _project(self) -> None:
        file = self.file
        published = next((d for d in file.deadlines if d.key == PUBLISHED), None)
        sent = next((d for d in file.deadlines if d.key == SENT), None)
        self._version += 1
        await call(
            RECORD_YEARLY_STATE,
            YearlyState(
                version=self._version,
                partnership=file.partnership,
                year_start=file.year_start,
                published_due_at=published.due_at if published else None,
                published_on=file.published_on,
                sent_due_at=sent.due_at if sent else None,
                sent_on=file.sent_on,
                sent_to=sorted(file.sent_to),
                escalations=sum(d.escalated for d in file.deadlines),
            ),
            start_to_close=timedelta(seconds=60),
            retry=RETRY,
        )

    @workflow.query
    def view(self) -> YearlyView:
        """GET /yearly-reports/{partnership}/{year}: its deadlines and where it stands."""
        return self.file.view()

    # ------------------------------------------------------------ the Business Unit's steps

    def _check(self, step: steps.Step, attributed: Attributed[Any], check: Check) -> None:
        file = self.file
        step.check_partnership(
            attributed.actor,
            file.partnership,
            current(file.partnership),
            missing=f"no yearly report for {file.year_start.year}",
        )
        step.check_actor(attributed.actor)
        check(self.file, attributed.actor, attributed.decision, workflow.now())

    def _validate(self, step: steps.Step, attributed: Attributed[Any], check: Check) -> None:
        try:
            self._check(step, attributed, check)
        except Refusal as refusal:
            raise refusal_error(refusal) from None

    @asynccontextmanager
    async def _step(self, step: steps.Step, attributed: Attributed[Any], check: Check) -> AsyncIterator[None]:
        """Steps one at a time (a publication waits on an activity half-way), checked again under the
        lock (another step may have moved the state), the read model written before answering."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            try:
                self._check(step, attributed, check)
                yield
            except Refusal as refusal:
                raise refusal_error(refusal) from None
            await self._project()
        self._changed = True

    @workflow.update
    async def record_publication(self, step: Attributed[ReportPublished]) -> YearlyView:
        """Business Unit: the report was published; the deadline to send it starts that day."""
        async with self._step(steps.RECORD_YEARLY_PUBLICATION, step, rules.check_publication):
            start = self.file.start
            await self._open(
                SENT,
                "Yearly report sent to the Panel and the DfE",
                DueDateItem(
                    started_at=start_of_day(step.decision.published_on, start.timezone),
                    due=start.rules.yearly_report_sent_within,
                    reminders=start.rules.yearly_report_sent_reminders,
                ),
            )
            rules.apply_publication(self.file, step.actor, step.decision, workflow.now())
        return self.view()

    @record_publication.validator
    def _validate_record_publication(self, step: Attributed[ReportPublished]) -> None:
        self._validate(steps.RECORD_YEARLY_PUBLICATION, step, rules.check_publication)

    @workflow.update
    async def record_sending(self, step: Attributed[ReportSent]) -> YearlyView:
        """Business Unit: the report was sent to the Panel and/or the DfE."""
        async with self._step(steps.RECORD_YEARLY_SENDING, step, rules.check_sending):
            rules.apply_sending(self.file, step.actor, step.decision, workflow.now())
        return self.view()

    @record_sending.validator
    def _validate_record_sending(self, step: Attributed[ReportSent]) -> None:
        self._validate(steps.RECORD_YEARLY_SENDING, step, rules.check_sending)

    @workflow.update
    async def take_step(self, step: YearlyStep) -> YearlyView:
        """Kept only for processes whose histories carry it (before one update per step): it takes the
        same step through the same update. The API never sends it."""
        if step.published is not None:
            return await self.record_publication(
                Attributed[ReportPublished](actor=step.actor, decision=step.published)
            )
        return await self.record_sending(Attributed[ReportSent](actor=step.actor, decision=step.sent))  # type: ignore[arg-type]

    @take_step.validator
    def _validate_take_step(self, step: YearlyStep) -> None:
        if (step.published is None) == (step.sent is None):
            raise refusal_error(Refusal("give either the publication or the sending", RefusalKind.invalid))
        if step.published is not None:
            self._validate_record_publication(
                Attributed[ReportPublished](actor=step.actor, decision=step.published)
            )
        else:
            self._validate_record_sending(Attributed[ReportSent](actor=step.actor, decision=step.sent))  # type: ignore[arg-type]


@workflow.defn
class YearlyReportKickoffWorkflow:
    """What the yearly Schedule starts: the process for the reporting year that has just ended."""

    @workflow.run
    async def run(self, start: YearlyStart) -> str:
        today = local_date(workflow.now(), start.timezone)
        month, day = (int(part) for part in start.rules.reporting_year_starts.split("-"))
        this_year_start = date(today.year, month, day)
        if this_year_start > today:
            this_year_start = date(today.year - 1, month, day)
        ended = date(this_year_start.year - 1, month, day)
        process = start.model_copy(update={"year_start": ended})
        child_id = workflow_id(start.partnership, ended)
        try:
            await workflow.start_child_workflow(
                YearlyReportWorkflow.run,
                process,
                id=child_id,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,  # one process per year, ever
            )
        except WorkflowAlreadyStartedError:
            pass  # started before (the Business Unit, or a repeated run): one process per year
        return child_id
