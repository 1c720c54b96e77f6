"""Working-day arithmetic on a partnership's calendar.

Due dates are computed inside an activity (and by the importer's dry run), never in a workflow: the
``holidays`` data changes between releases, so a due date is computed once, recorded in the workflow's
history, and never recomputed on replay.

Rules (DOMAIN.md): working days are Monday to Friday, excluding bank holidays (substitute days
included) and any extra days the partnership closes; a day-based deadline falls due at the end of the
working day in the partnership's time zone; hours are elapsed hours.
"""

from __future__ import annotations

import calendar as _calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays as _holidays

from safeguarding.domain.contracts import DueDateRequest, DueDates
from safeguarding.domain.policy import BankHolidayCalendar, Duration, DurationUnit, WorkingDays

_SUBDIVISION = {
    BankHolidayCalendar.england_and_wales: "ENG",
    BankHolidayCalendar.scotland: "SCT",
    BankHolidayCalendar.northern_ireland: "NIR",
}


class WorkingCalendar:
    def __init__(self, timezone: str, working_days: WorkingDays) -> None:
        self.zone = ZoneInfo(timezone)
        self.end_of_day = working_days.end_of_working_day
        self.extra_closed = set(working_days.extra_closed_days)
        self.bank_holidays = _holidays.country_holidays(
            "GB", subdiv=_SUBDIVISION[working_days.bank_holidays], observed=True
        )

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.bank_holidays and day not in self.extra_closed

    def end_of(self, day: date) -> datetime:
        """The end of the working day on ``day`` (a date a decision set), in UTC."""
        return self._end_of(day)

    def _end_of(self, day: date) -> datetime:
        return datetime.combine(day, self.end_of_day, tzinfo=self.zone).astimezone(UTC)

    def _step_working_days(self, day: date, count: int, direction: int) -> date:
        while count:
            day += timedelta(days=direction)
            if self.is_working_day(day):
                count -= 1
        return day

    def due(self, start: datetime, period: Duration) -> datetime:
        """When a deadline that started at ``start`` falls due, in UTC."""
        if period.unit is DurationUnit.hours:
            # In UTC: adding hours to a Europe/London time would move the clock face, not elapsed time.
            return start.astimezone(UTC) + timedelta(hours=period.amount)
        local_day = start.astimezone(self.zone).date()
        if period.unit is DurationUnit.working_days:
            return self._end_of(self._step_working_days(local_day, period.amount, +1))
        if period.unit is DurationUnit.calendar_days:
            return self._end_of(local_day + timedelta(days=period.amount))
        return self._end_of(add_months(local_day, period.amount))

    def before(self, due: datetime, lead: Duration) -> datetime:
        """The moment ``lead`` before ``due``: when a reminder is sent."""
        if lead.unit is DurationUnit.hours:
            return due.astimezone(UTC) - timedelta(hours=lead.amount)
        local = due.astimezone(self.zone)
        if lead.unit is DurationUnit.working_days:
            day = self._step_working_days(local.date(), lead.amount, -1)
        elif lead.unit is DurationUnit.calendar_days:
            day = local.date() - timedelta(days=lead.amount)
        else:
            day = add_months(local.date(), -lead.amount)
        return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=self.zone).astimezone(UTC)

    def working_days_between(self, earlier: date, later: date) -> int:
        """Working days after ``earlier`` up to and including ``later``."""
        count, day = 0, earlier
        while day < later:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


def add_months(day: date, months: int) -> date:
    """Same day of the month ``months`` later; the last day of a shorter month when it has none."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def due_dates(request: DueDateRequest) -> list[DueDates]:
    """The due time, reminder times and escalation times of each item, on the partnership's calendar."""
    calendar = WorkingCalendar(request.timezone, request.working_days)
    results = []
    for item in request.items:
        if item.due_on is not None:
            due_at = calendar.end_of(item.due_on)
        elif item.due is not None:
            due_at = calendar.due(item.started_at, item.due)
        else:
            raise ValueError("a deadline needs a period or a date")
        results.append(
            DueDates(
                due_at=due_at,
                reminder_times=[calendar.before(due_at, lead) for lead in item.reminders],
                escalation_times=[calendar.due(due_at, after) for after in item.escalations_after if after],
            )
        )
    return results
