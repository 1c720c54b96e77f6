"""The yearly report's own deadlines, run as a process like every other (DOMAIN.md, step 5).

One workflow per partnership and reporting year, ``yearly-report-<partnership>-<year>``, started when the
reporting year ends (a Schedule on the policy's ``reporting_year_starts``) or by the Business Unit.
Two deadlines, both from the policy: the report published by ``yearly_report_published_by`` after the
year ends, and sent to the Panel and the DfE within ``yearly_report_sent_within`` of publication. Each
has its reminders before it and one escalation when it passes unmet, each sent once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from safeguarding.domain.activities import COMPUTE_DUE_DATES, NOTIFY_YEARLY, RECORD_YEARLY_STATE
from safeguarding.domain.contracts import DueDateItem, DueDateRequest
from safeguarding.domain.dates import local_date
from safeguarding.domain.people import Role
from safeguarding.domain.yearly_report import (
    PUBLISHED,
    SENT,
    YearlyDeadline,
    YearlyNotice,
    YearlyStart,
    YearlyState,
    YearlyStep,
    YearlyView,
    reference,
    workflow_id,
)
from workflows.calls import call

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


@workflow.defn
class YearlyReportWorkflow:
    @workflow.init
    def __init__(self, start: YearlyStart) -> None:
        self.start = start
        self.deadlines: list[YearlyDeadline] = []
        self.published_on: date | None = None
        self.sent_to: set[str] = set()
        self.sent_on: date | None = None
        self.history: list[str] = []
        self._changed = False
        self._ready = False
        self._lock = asyncio.Lock()
        self._version = 0

    @workflow.run
    async def run(self, start: YearlyStart) -> YearlyView:
        rules = start.rules
        year_end = date(start.year_start.year + 1, start.year_start.month, start.year_start.day)
        month, day = (int(part) for part in rules.yearly_report_published_by.split("-"))
        publish_by = date(year_end.year, month, day)
        if publish_by < year_end:
            publish_by = date(year_end.year + 1, month, day)
        opened = datetime(year_end.year, year_end.month, year_end.day, tzinfo=UTC)
        await self._open(
            PUBLISHED,
            "Yearly report published",
            DueDateItem(started_at=opened, due_on=publish_by, reminders=rules.yearly_report_reminders),
        )
        self._ready = True
        while not self._finished():
            moment = min((m for d in self.deadlines if (m := d.next_moment) is not None), default=None)
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
        return any(d.key == SENT and d.met_at is not None for d in self.deadlines)

    async def _open(self, key: str, title: str, item: DueDateItem) -> YearlyDeadline:
        (dates,) = await call(
            COMPUTE_DUE_DATES,
            DueDateRequest(timezone=self.start.timezone, working_days=self.start.working_days, items=[item]),
            start_to_close=timedelta(seconds=30),
            retry=RETRY,
        )
        # Earliest first; a reminder whose time is already past when the deadline opens is not sent late.
        now = workflow.now()
        reminders = sorted(t for t in dates.reminder_times if t > now)
        deadline = YearlyDeadline(key=key, title=title, due_at=dates.due_at, reminders=reminders)
        self.deadlines.append(deadline)
        self.history.append(f"{workflow.now().isoformat()} {key} due {dates.due_at.isoformat()}")
        await self._project()
        return deadline

    async def _send_owed(self, now: datetime) -> None:
        rules = self.start.rules
        for deadline in self.deadlines:
            moment = deadline.next_moment
            if moment is None or moment > now:
                continue
            if deadline.reminders_sent < len(deadline.reminders):
                deadline.reminders_sent += 1
                kind, number, to = "reminder", deadline.reminders_sent - 1, rules.yearly_report_reminders_to
            else:
                deadline.escalated = True
                kind, number, to = "escalation", 1, rules.yearly_report_escalate_to
            self.history.append(f"{now.isoformat()} {kind} {deadline.key} {number}")
            await call(
                NOTIFY_YEARLY,
                YearlyNotice(
                    key=f"{workflow.info().workflow_id}:{deadline.key}:{kind}:{number}",
                    reference=reference(self.start.partnership, self.start.year_start),
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

    def _next_version(self) -> int:
        self._version += 1
        return self._version

    async def _project(self) -> None:
        published = next((d for d in self.deadlines if d.key == PUBLISHED), None)
        sent = next((d for d in self.deadlines if d.key == SENT), None)
        await call(
            RECORD_YEARLY_STATE,
            YearlyState(
                version=self._next_version(),
                partnership=self.start.partnership,
                year_start=self.start.year_start,
                published_due_at=published.due_at if published else None,
                published_on=self.published_on,
                sent_due_at=sent.due_at if sent else None,
                sent_on=self.sent_on,
                sent_to=sorted(self.sent_to),
                escalations=sum(d.escalated for d in self.deadlines),
            ),
            start_to_close=timedelta(seconds=60),
            retry=RETRY,
        )

    # ------------------------------------------------------------ the Business Unit's steps

    @workflow.update
    async def take_step(self, step: YearlyStep) -> YearlyView:
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:  # one step at a time: a publication waits on an activity half-way
            self._check(step)  # again inside the lock: another step may have moved the state
            view = await self._apply(step)
        self._changed = True
        return view

    def _deadline(self, key: str) -> YearlyDeadline:
        return next(d for d in self.deadlines if d.key == key)

    def _met_on(self, day: date) -> datetime:
        """When a deadline met on ``day`` counts as met: by the end of that working day at the latest."""
        zone = ZoneInfo(self.start.timezone)
        return min(workflow.now(), datetime(day.year, day.month, day.day, 17, tzinfo=zone))

    async def _apply(self, step: YearlyStep) -> YearlyView:
        zone = ZoneInfo(self.start.timezone)
        if step.published is not None:
            on = step.published.published_on
            await self._open(
                SENT,
                "Yearly report sent to the Panel and the DfE",
                DueDateItem(
                    started_at=datetime(on.year, on.month, on.day, tzinfo=zone),
                    due=self.start.rules.yearly_report_sent_within,
                    reminders=self.start.rules.yearly_report_sent_reminders,
                ),
            )
            # Met when it was published (by the end of that working day), not when it was recorded.
            self._deadline(PUBLISHED).met_at = self._met_on(on)
            self.published_on = on
            self.history.append(f"{workflow.now().isoformat()} published {on} by {step.actor.user_id}")
        if step.sent is not None:
            self.sent_to |= set(step.sent.to)
            self.history.append(
                f"{workflow.now().isoformat()} sent to {step.sent.to} by {step.actor.user_id}"
            )
            if self.sent_to == {"panel", "dfe"}:
                on = step.sent.sent_on
                self.sent_on = on
                self._deadline(SENT).met_at = self._met_on(on)
        await self._project()
        return self.view()

    @take_step.validator
    def _check(self, step: YearlyStep) -> None:
        if step.actor.role is not Role.business_unit:
            raise ApplicationError("only the Business Unit records the yearly report", type="forbidden")
        if (step.published is None) == (step.sent is None):
            raise ApplicationError("give either the publication or the sending", type="invalid")
        today = local_date(workflow.now(), self.start.timezone)
        year_end = date(
            self.start.year_start.year + 1, self.start.year_start.month, self.start.year_start.day
        )
        if step.published is not None:
            if self.published_on is not None:
                raise ApplicationError(
                    f"the yearly report was published on {self.published_on}", type="not_allowed_now"
                )
            if not year_end <= step.published.published_on <= today:
                raise ApplicationError(
                    f"a publication date falls between the end of the year ({year_end}) and today ({today})",
                    type="invalid",
                )
        if step.sent is not None:
            if self.published_on is None:
                raise ApplicationError(
                    "the yearly report is sent once it is published", type="not_allowed_now"
                )
            if not self.published_on <= step.sent.sent_on <= today:
                raise ApplicationError(
                    f"the date it was sent falls between its publication ({self.published_on}) and today",
                    type="invalid",
                )
            if set(step.sent.to) <= self.sent_to:
                raise ApplicationError(
                    f"already recorded as sent to {sorted(self.sent_to)}", type="not_allowed_now"
                )

    @workflow.query
    def view(self) -> YearlyView:
        return YearlyView(
            partnership=self.start.partnership,
            year_start=self.start.year_start,
            deadlines=self.deadlines,
            published_on=self.published_on,
            sent_to=sorted(self.sent_to),
            sent_on=self.sent_on,
            history=self.history,
        )


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
