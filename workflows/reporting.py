"""The closing-the-loop report (DOMAIN.md, step 5): twice a year the partnership receives the learning and
the progress against recommendations from every review, by theme.

``ClosingTheLoopWorkflow`` is started by a Temporal Schedule on the policy's reporting days (with no
period: it covers the time since the scheduled day before) and by the Business Unit through the API for a
period it names. It decides the period; the activity reads, renders, stores and announces the report.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from safeguarding.domain.activities import BUILD_CLOSING_THE_LOOP
from safeguarding.domain.dates import local_date
from safeguarding.domain.reporting import ReportMade, ReportOrder, ReportRequest, closing_the_loop_period
from workflows.calls import call


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
        return await call(
            BUILD_CLOSING_THE_LOOP,
            ReportOrder(
                partnership=request.partnership,
                partnership_name=request.partnership_name,
                period_start=start,
                period_end=end,
                requested_by=request.requested_by,
                timezone=request.timezone,
                themes=request.themes,
            ),
            start_to_close=timedelta(minutes=10),
            retry=RetryPolicy(maximum_interval=timedelta(minutes=5)),
        )
