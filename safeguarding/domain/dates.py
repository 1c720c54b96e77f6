"""Dates as the partnership sees them: the local date of a moment in its time zone. Pure (the tzdata
package only), so workflows may use it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def local_date(moment: datetime, timezone: str) -> date:
    """The date at ``moment`` in the partnership's time zone (workflows use it too: the worker's
    sandbox lets them read the tzdata package)."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def start_of_day(day: date, timezone: str) -> datetime:
    """The first moment of ``day`` in the partnership's time zone."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone))


def noon_utc(day: date) -> datetime:
    """Midday (UTC) of ``day``: a day given without a time, as a moment."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
