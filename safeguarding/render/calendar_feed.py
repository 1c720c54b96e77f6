"""The iCalendar feed of open deadlines that partner agencies subscribe to from their calendar application.

Calendar clients send no bearer token, so a feed is reached by a secret URL; only the token's hash is
kept. A feed carries case references, deadline titles and what is asked of an agency: never a case's
summary, the reasons given for a decision, or what an agency returned.

Each deadline is a point in time: DTEND equals DTSTART, at the due time in Europe/London, and the event
is transparent (it marks nobody as busy). A 30-minute block ending at the due time would show its start
as the moment to act, which it is not.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone
from sqlalchemy import Engine

from safeguarding.platform.settings import get_settings
from safeguarding.queries.calendar import live_deadlines
from safeguarding.store.tables import DeadlineRow, TaskRow

LONDON = ZoneInfo("Europe/London")

PRODID = "-//Safeguarding Learning Loop//Open deadlines//EN"

UID_DOMAIN = "safeguarding-learning-loop"

REFRESH = "PT1H"


def feed_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/calendar/{token}.ics"


def deadline_uid(deadline: DeadlineRow) -> str:
    """Stable per deadline, so that a re-dated deadline moves in the calendar instead of doubling."""
    return f"{deadline.case_reference}/{deadline.stream}/{deadline.deadline_id}@{UID_DOMAIN}"


def _event(deadline: DeadlineRow, task: TaskRow | None, public_url: str, now: datetime) -> Event:
    due = deadline.due_at.astimezone(LONDON)
    case_link = f"{public_url.rstrip('/')}/cases/{deadline.case_reference}"
    lines = []
    if task is not None:
        lines.append(f"Asked of {task.agency}: {task.asked_for}")
    if deadline.status == "overdue":
        lines.append("Overdue: the due time has passed and the deadline is not yet met.")
    lines.append(case_link)

    event = Event()
    event.add("uid", deadline_uid(deadline))
    event.add("dtstamp", now)
    event.add("dtstart", due)
    event.add("dtend", due)
    event.add("summary", f"{deadline.case_reference}: {deadline.title}")
    event.add("description", "\n".join(lines))
    event.add("url", case_link)
    event.add("status", "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    if deadline.statutory:
        event.add("categories", ["statutory"])
    for at in sorted(datetime.fromisoformat(t) for t in deadline.reminder_times or []):
        if at <= now:
            continue  # a calendar shows a past alarm as missed on every refresh: the email went already
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{deadline.case_reference}: {deadline.title} is due {due:%d %b %Y %H:%M}")
        alarm.add("trigger", at.astimezone(UTC), parameters={"VALUE": "DATE-TIME"})
        event.add_component(alarm)
    return event


def build_feed(
    engine: Engine,
    partnership: str,
    agency: str | None,
    label: str,
    now: datetime,
    *,
    public_url: str | None = None,
) -> bytes:
    """The calendar of live (open or overdue) deadlines: an agency's open tasks, or, for ``agency``
    None, every live deadline of the partnership. Links start at ``public_url`` (the settings' by default)."""
    public_url = public_url or get_settings().public_url
    deadlines = live_deadlines(engine, partnership, agency)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", label)
    calendar.add("x-wr-calname", label)
    calendar.add("x-wr-timezone", "Europe/London")
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"}, encode=False)
    calendar.add("x-published-ttl", REFRESH, encode=False)
    # The zone's rules from the year of the earliest time in the feed to the year after the latest; always
    # present, so that a feed with no deadlines is still a calendar with a component.
    years = [now.astimezone(LONDON).year, *(d.due_at.astimezone(LONDON).year for d, _ in deadlines)]
    calendar.add_component(
        Timezone.from_tzid(
            "Europe/London", first_date=date(min(years), 1, 1), last_date=date(max(years) + 2, 1, 1)
        )
    )
    for deadline, task in deadlines:
        calendar.add_component(_event(deadline, task, public_url, now))
    return calendar.to_ical()
