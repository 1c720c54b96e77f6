"""What every step's rules share: times and dates people give for what already happened, and how they
are written back in a refusal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from safeguarding.domain.dates import local_date
from safeguarding.domain.refusal import Refusal, RefusalKind

# People give times to the minute and clocks differ: a time for something that happened may be this
# far ahead of the service's clock, or this far before the step it must follow.
CLOCK_TOLERANCE = timedelta(minutes=5)


def fmt(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%d %B %Y %H:%M:%S UTC")


def day_words(day: date) -> str:
    return day.strftime("%A %d %B %Y").replace(" 0", " ")


def check_happened(
    at: datetime, now: datetime, what: str, not_before: datetime | None = None, before_what: str = ""
) -> None:
    """``at`` has happened, and not before the step it follows."""
    if at > now + CLOCK_TOLERANCE:
        raise Refusal(
            f"{what} ({fmt(at)}) is in the future; record it once it has happened", RefusalKind.invalid
        )
    if not_before is not None and at < not_before - CLOCK_TOLERANCE:
        raise Refusal(  # it conflicts with the case's record, not with the calendar: 409
            f"{what} ({fmt(at)}) is before {before_what} ({fmt(not_before)})", RefusalKind.not_allowed_now
        )


def check_day_happened(day: date, now: datetime) -> None:
    """A date people give (a London date) is not after today; a day's margin covers the time zone."""
    if day > now.date() + timedelta(days=1):
        raise Refusal(
            f"{day_words(day)} is in the future; record it once it has happened", RefusalKind.invalid
        )


def step_time(decision: object, now: datetime, began: datetime | None, began_what: str) -> datetime:
    """When a step truly happened: its ``occurred_at``, or now. Not in the future, not before the case
    (or review, or plan) began."""
    at = getattr(decision, "occurred_at", None)
    if at is None:
        return now
    check_happened(at, now, "occurred_at", began, began_what)
    return at


def on_day(day: date, now: datetime, timezone: str) -> datetime:
    """When a step given only by its date happened, for its deadlines: now if that is today, else
    midday of that day in the partnership's time zone (within the working day, so a step taken on the
    day something is due meets it)."""
    if local_date(now, timezone) == day:
        return now
    return datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def not_before(at: datetime, earlier: datetime | None, what: str, earlier_what: str) -> None:
    """A dated step is not before the step it follows."""
    if earlier is not None and at < earlier - CLOCK_TOLERANCE:
        raise Refusal(
            f"{what} ({fmt(at)}) is before {earlier_what} ({fmt(earlier)})", RefusalKind.not_allowed_now
        )
