"""Dates from the working-day calendar, computed here so that they are recorded in history: an
upgrade of the holiday data must never change a running case on replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from temporalio import activity

from safeguarding.domain.contracts import DueDateRequest, DueDates, NextDates, Shifted, ShiftRequest
from safeguarding.platform.working_days import WorkingCalendar, due_dates


@activity.defn
def compute_due_dates(request: DueDateRequest) -> list[DueDates]:
    """Called by every case workflow whenever milestones open deadlines, or an action is re-dated."""
    return due_dates(request)


@activity.defn
def shift_times(request: ShiftRequest) -> Shifted:
    """A clock stop: the days paused are counted on the local calendar, and every time moves on by
    them at the same local clock time (17:00 stays 17:00 across a change of the clocks)."""
    zone = ZoneInfo(request.timezone)
    days = (request.resumed_at.astimezone(zone).date() - request.paused_at.astimezone(zone).date()).days
    moved = []
    for moment in request.times:
        local = moment.astimezone(zone)
        moved.append(
            datetime.combine(
                local.date() + timedelta(days=days), local.timetz().replace(tzinfo=None), tzinfo=zone
            ).astimezone(UTC)
        )
    return Shifted(days=days, times=moved)


@activity.defn
def next_checkpoint(request: NextDates) -> datetime:
    """When a checkpoint falls: ``every`` after ``after``, at the end of that working day."""
    calendar = WorkingCalendar(request.timezone, request.working_days)
    return calendar.due(request.after, request.every)
