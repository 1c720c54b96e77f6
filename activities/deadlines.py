"""Due dates from the working-day calendar, computed here so that they are recorded in history."""

from __future__ import annotations

from temporalio import activity

from safeguarding.calendar import WorkingCalendar
from safeguarding.contracts import DueDateRequest, DueDates


@activity.defn
def compute_due_dates(request: DueDateRequest) -> list[DueDates]:
    """Called by the case workflow whenever milestones open deadlines."""
    calendar = WorkingCalendar(request.timezone, request.working_days)
    results = []
    for item in request.items:
        due_at = calendar.due(item.started_at, item.due)
        results.append(
            DueDates(due_at=due_at, reminder_times=[calendar.before(due_at, r) for r in item.reminders])
        )
    return results
