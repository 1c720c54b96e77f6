"""What the partnership reports and when (DOMAIN.md, step 5): the periods of the closing-the-loop report
and of the reporting year, a report's id, and what the reporting workflow asks its activity for.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from hashlib import sha256
from typing import Self

from pydantic import BaseModel, Field, model_validator

from safeguarding.domain.policy import DEFAULT_THEMES, ReportingRules

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
    themes: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_THEMES))  # the partnership's words

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


BUSINESS_UNIT = "business_unit"


class ReportOrder(BaseModel):
    """What the reporting workflow asks for: one partnership's report for a settled period."""

    partnership: str
    partnership_name: str | None = None
    period_start: date
    period_end: date  # inclusive
    requested_by: str  # a user id, or "schedule"
    timezone: str = "Europe/London"
    themes: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_THEMES))


class ReportMade(BaseModel):
    """A stored report's metadata (never its body)."""

    id: str
    kind: str
    partnership: str
    period_start: date
    period_end: date
    created_at: datetime
    created_by: str
    new: bool  # False: made before (a retry, a second run, a repeated request)


def report_paths(report: str) -> tuple[str, str]:
    """Where the API serves a report: its HTML page and its PDF."""
    return f"/reports/{report}.html", f"/reports/{report}.pdf"


DEFAULT_TIMEZONE = "Europe/London"

CLOSING_THE_LOOP = "closing_the_loop"

YEARLY_FIGURES = "yearly_figures"


def _on(year: int, month_day: str) -> date:
    """The day ``MM-DD`` falls on in ``year``; a day the month lacks (29 February) is its last day."""
    month, day = (int(part) for part in month_day.split("-"))
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1


def add_years(day: date, years: int) -> date:
    return _on(day.year + years, f"{day.month:02d}-{day.day:02d}")


def closing_the_loop_period(run_on: date, rules: ReportingRules) -> tuple[date, date]:
    """The period a scheduled run on ``run_on`` covers: from the scheduled day before it (inclusive) to
    the day before it (inclusive). A run late (a worker down on the day) still covers the period that
    ended on the scheduled day it belongs to, not a sliver after it."""
    days = sorted(
        {_on(year, md) for year in (run_on.year - 1, run_on.year) for md in rules.closing_the_loop_on}
    )
    current = max(d for d in days if d <= run_on)
    earlier = [d for d in days if d < current]
    previous = max(earlier) if earlier else _on(current.year - 1, f"{current.month:02d}-{current.day:02d}")
    return previous, current - timedelta(days=1)


def reporting_year_start(year: int, rules: ReportingRules) -> date:
    """The first day of the reporting year that starts in calendar year ``year``."""
    return _on(year, rules.reporting_year_starts)


def report_id(kind: str, partnership: str, start: date, end: date, requested_by: str) -> str:
    """A report's id: the same kind, partnership, period and origin (the schedule, or a person) make the
    same id, so a retried activity or a repeated request stores one report."""
    origin = "schedule" if requested_by == "schedule" else "request"
    digest = sha256(f"{kind}|{partnership}|{start}|{end}|{origin}".encode()).hexdigest()[:10]
    prefix = "ctl" if kind == CLOSING_THE_LOOP else "yf"
    return f"{prefix}-{start:%Y%m%d}-{end:%Y%m%d}-{digest}"


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def period_words(start: date, end: date) -> str:
    """'1 April to 30 September 2026'; the year twice when the period spans two."""
    if start.year == end.year:
        return f"{start.day} {start:%B} to {long_date(end)}"
    return f"{long_date(start)} to {long_date(end)}"
