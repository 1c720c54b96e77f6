"""The closing-the-loop report (DOMAIN.md, step 5): twice a year the partnership receives the learning and
the progress against recommendations from every review, by theme.

``ClosingTheLoopWorkflow`` is started by a Temporal Schedule on the policy's reporting days (with no
period: it covers the time since the scheduled day before) and by the Business Unit through the API for a
period it names. It decides the period; the activity reads, renders, stores and announces the report.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Self

from pydantic import BaseModel, model_validator
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.reports import ReportActivities, ReportMade, ReportOrder
    from safeguarding.calendar import local_date
    from safeguarding.policy import ReportingRules
    from safeguarding.reports import closing_the_loop_period

SCHEDULE = "schedule"  # requested_by when the Schedule starts the report


class ReportRequest(BaseModel):
    """The workflow's input. With no period (as the Schedule starts it) the period is the one ending the
    day before the scheduled day the run belongs to, in the policy's time zone."""

    partnership: str
    period_start: date | None = None
    period_end: date | None = None  # inclusive
    requested_by: str
    rules: ReportingRules
    timezone: str = "Europe/London"
    partnership_name: str | None = None

    @model_validator(mode="after")
    def _whole_period(self) -> Self:
        if (self.period_start is None) != (self.period_end is None):
            raise ValueError("give both period_start and period_end, or neither (the scheduled period)")
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        return self


def report_workflow_id(partnership: str, start: date, end: date) -> str:
    """A requested report's workflow id: one run at a time per partnership and period."""
    return f"report-{partnership}-{start.isoformat()}-{end.isoformat()}"


@workflow.defn
class ClosingTheLoopWorkflow:
    @workflow.run
    async def run(self, request: ReportRequest) -> ReportMade:
        """Started by the closing-the-loop Schedule, or by POST /reports/closing-the-loop."""
        if request.period_start is not None and request.period_end is not None:
            start, end = request.period_start, request.period_end
        else:
            today = local_date(workflow.now(), request.timezone)
            start, end = closing_the_loop_period(today, request.rules)
        workflow.logger.info("closing-the-loop report for %s to %s", start, end)
        return await workflow.execute_activity_method(
            ReportActivities.build_closing_the_loop,
            ReportOrder(
                partnership=request.partnership,
                partnership_name=request.partnership_name,
                period_start=start,
                period_end=end,
                requested_by=request.requested_by,
                timezone=request.timezone,
            ),
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
        )
