"""The yearly report's own deadlines as a process: published by a date after the reporting year ends,
and sent to the Panel and the DfE within a time of publication. What the process keeps and shows.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from safeguarding.domain.fields import StrictModel
from safeguarding.domain.partnerships import RENAMED
from safeguarding.domain.people import Actor
from safeguarding.domain.policy import ReportingRules, WorkingDays

PUBLISHED, SENT = "yearly_report_published", "yearly_report_sent"


class YearlyStart(BaseModel):
    partnership: str
    year_start: date  # the first day of the reporting year
    timezone: str
    working_days: WorkingDays
    rules: ReportingRules


class YearlyDeadline(BaseModel):
    key: str
    title: str
    due_at: datetime
    reminders: list[datetime] = Field(default_factory=list)
    reminders_sent: int = 0
    escalated: bool = False
    met_at: datetime | None = None

    @property
    def next_moment(self) -> datetime | None:
        if self.met_at is not None:
            return None
        if self.reminders_sent < len(self.reminders):
            return self.reminders[self.reminders_sent]
        return None if self.escalated else self.due_at


class ReportPublished(StrictModel):
    published_on: date


class ReportSent(StrictModel):
    sent_on: date
    to: list[Literal["panel", "dfe"]] = Field(min_length=1, max_length=2)


class YearlyStep(StrictModel):
    actor: Actor
    published: ReportPublished | None = None
    sent: ReportSent | None = None


class YearlyView(BaseModel):
    """GET /yearly-reports/{partnership}/{year}: the process's deadlines and where it stands."""

    partnership: str
    year_start: date
    deadlines: list[YearlyDeadline] = Field(default_factory=list)
    published_on: date | None = None
    sent_to: list[str] = Field(default_factory=list)
    sent_dates: dict[str, date] = Field(default_factory=dict)  # when it went to each (panel, dfe)
    sent_on: date | None = None  # when it had gone to both
    history: list[str] = Field(default_factory=list)


class YearlyFile(YearlyView):
    """What the yearly report's workflow keeps: its view, and the year it was started for."""

    start: YearlyStart

    @property
    def year_end(self) -> date:
        """The first day after the reporting year."""
        first = self.start.year_start
        return date(first.year + 1, first.month, first.day)

    def deadline(self, key: str) -> YearlyDeadline:
        return next(d for d in self.deadlines if d.key == key)

    def view(self) -> YearlyView:
        return YearlyView(**self.model_dump(include={*YearlyView.model_fields}))


def year_label(year_start: date) -> str:
    return f"{year_start.year}-{(year_start.year + 1) % 100:02d}"


def workflow_id(partnership: str, year_start: date) -> str:
    return f"yearly-report-{partnership}-{year_start.year}"


def workflow_ids(partnership: str, year_start: date) -> list[str]:
    """Where the partnership's process for a year may run: under its code, or under an older code of
    it (a process begun before partnerships were kept apart)."""
    older = [old for old, new in RENAMED.items() if new == partnership]
    return [workflow_id(code, year_start) for code in [partnership, *older]]


def reference(partnership: str, year_start: date) -> str:
    """What the outbox files its notices under (no case: the partnership's year)."""
    return f"yearly-{partnership}-{year_start.year}"


class YearlyNotice(BaseModel):
    key: str
    reference: str  # yearly-<partnership>-<year>
    partnership: str | None = None  # None: from a run begun before partnerships were kept apart
    kind: str  # reminder | escalation
    deadline_key: str
    title: str
    due_at: datetime
    recipients: list[str]
    number: int


class YearlyState(BaseModel):
    version: int  # grows with each write, so a late write never overwrites a newer one
    partnership: str
    year_start: date
    published_due_at: datetime | None
    published_on: date | None
    sent_due_at: datetime | None
    sent_on: date | None
    sent_to: list[str]
    escalations: int
