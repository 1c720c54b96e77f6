"""The independent side of the national year (``bench/national_year.py``): its own calendar, and the
checks of what the read model recorded against it.

The calendar is written here, not taken from the service: England's bank holidays from GOV.UK (not the
``holidays`` package), weekends, calendar months, the end of the working day in London across the clock
changes. Each simulated deadline must have the due time it says, be met when its step happened, and
carry a breach at its due time exactly when it was late (the timer fired: none missed). Every other
deadline the simulation opened must show its breach as its own due time and met time say; every late
action and CSPR must have had its first escalation queued in the outbox, and no one on time any.
"""

from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from safeguarding.store.tables import CaseEventRow, DeadlineRow, NotificationRow

LONDON = ZoneInfo("Europe/London")

# England and Wales bank holidays (GOV.UK), substitute days included: the independent calendar.
BANK_HOLIDAYS = {
    date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 4), date(2026, 5, 25),
    date(2026, 8, 31), date(2026, 12, 25), date(2026, 12, 28),
    date(2027, 1, 1), date(2027, 3, 26), date(2027, 3, 29), date(2027, 5, 3), date(2027, 5, 31),
    date(2027, 8, 30), date(2027, 12, 27), date(2027, 12, 28),
    date(2028, 1, 3), date(2028, 4, 14), date(2028, 4, 17), date(2028, 5, 1), date(2028, 5, 29),
    date(2028, 8, 28), date(2028, 12, 25), date(2028, 12, 26),
}  # fmt: skip
# A date-only step recorded on its own day is met when it was recorded (the 16:30 sending), not at midday.
SAME_DAY_SLACK = timedelta(minutes=25)


def london(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


def expected_due(start: datetime, working_days: int, end_of_day: tuple[int, int]) -> datetime:
    """The end of the ``working_days``-th working day after ``start``'s day in London, in UTC."""
    day = start.astimezone(LONDON).date()
    if not min(BANK_HOLIDAYS).year <= day.year <= max(BANK_HOLIDAYS).year:
        raise ValueError(f"{day}: the independent calendar has no bank holidays for that year")
    while working_days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in BANK_HOLIDAYS:
            working_days -= 1
    return london(day, *end_of_day).astimezone(UTC)


def months_later(day: date, months: int) -> date:
    """The same day of the month ``months`` on; the month's last day when it is shorter."""
    year, month = day.year + (day.month - 1 + months) // 12, (day.month - 1 + months) % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cspr_due(decided: datetime, days_stopped: int, end_of_day: tuple[int, int]) -> datetime:
    """Six calendar months from the local date of the partners' decision, moved on by the local
    calendar days the clock stood, at the end of the working day in London (UTC)."""
    day = months_later(decided.astimezone(LONDON).date(), 6) + timedelta(days=days_stopped)
    return london(day, *end_of_day).astimezone(UTC)


def action_due(due_on: date, end_of_day: tuple[int, int]) -> datetime:
    """The end of the working day, in London, on the date the JCRG set (UTC)."""
    return london(due_on, *end_of_day).astimezone(UTC)


@dataclass(frozen=True)
class Expected:
    """One simulated deadline as the independent calendar has it. ``met``: when its step happened (None:
    never, by the end); a date-only step recorded on its day is met up to ``slack`` after ``met``."""

    reference: str
    stream: str
    key: str
    due: datetime
    met: datetime | None
    subject: str | None = None  # an action's id (its deadline's subject is its task)
    slack: timedelta = timedelta(seconds=1)

    @property
    def late(self) -> bool:
        return self.met is None or self.met > self.due


def check(engine: Engine, expected: list[Expected], simulated_to: datetime) -> dict:
    """What the read model recorded, against ``expected``: the figures and the problems found."""
    with engine.connect() as connection:
        rows = connection.execute(select(DeadlineRow)).all()
        added = connection.execute(
            select(CaseEventRow.case_reference, CaseEventRow.details).where(
                CaseEventRow.stream == "plan", CaseEventRow.kind == "action_added"
            )
        ).all()
        notices = connection.execute(
            select(
                NotificationRow.kind,
                NotificationRow.deadline_key,
                NotificationRow.number,
                NotificationRow.case_reference,
                NotificationRow.stream,
                NotificationRow.task_id,
            ).where(NotificationRow.kind.in_(("reminder", "escalation")))
        ).all()
    task_of = {(reference, details["action"]): details["task"] for reference, details in added}
    found = {(r.case_reference, r.stream, r.key, r.subject): r for r in rows}
    escalated = {
        (n.case_reference, n.stream, n.deadline_key, n.task_id)
        for n in notices
        if n.kind == "escalation" and n.number == 1
    }
    problems: list[str] = []
    checked: Counter[str] = Counter()
    late: Counter[str] = Counter()
    for want in expected:
        subject = task_of.get((want.reference, want.subject)) if want.subject else None
        name = f"{want.reference} {want.key}" + (f" {want.subject}" if want.subject else "")
        row = found.get((want.reference, want.stream, want.key, subject))
        if row is None:
            problems.append(f"{name}: no deadline")
            continue
        checked[want.key] += 1
        late[want.key] += want.late
        problems += _compare(name, want, row)
        if want.key in ("cspr_completion", "action_due"):
            first = (want.reference, want.stream, want.key, subject) in escalated
            if want.late and not first:
                problems.append(f"{name}: late, but no first escalation queued")
            elif not want.late and first:
                problems.append(f"{name}: on time, but an escalation was queued")
    problems += _every_timer_fired(rows, simulated_to)
    return {
        "deadlines_checked": sum(checked.values()),
        "checked_by_key": dict(checked),
        "late_by_key": dict(late),
        "late": sum(late.values()),
        "on_time": sum(checked.values()) - sum(late.values()),
        "deadlines_in_read_model": len(rows),
        "reminders": sum(n.kind == "reminder" for n in notices),
        "escalations": sum(n.kind == "escalation" for n in notices),
        "notices_by_key": dict(Counter(f"{n.kind}:{n.deadline_key}" for n in notices)),
        "problems": problems,
    }


def _compare(name: str, want: Expected, row) -> list[str]:  # type: ignore[no-untyped-def]
    problems = []
    if row.due_at != want.due:
        problems.append(f"{name}: due {row.due_at} expected {want.due}")
    if want.met is None:
        if row.met_at is not None:
            problems.append(f"{name}: met {row.met_at}, but never completed")
    elif row.met_at is None or not -timedelta(seconds=1) <= row.met_at - want.met <= want.slack:
        problems.append(f"{name}: met {row.met_at} expected {want.met}")
    if want.late != (row.breached_at is not None):
        problems.append(f"{name}: late {want.late} but breach {row.breached_at}")
    elif want.late and row.breached_at != want.due:
        problems.append(f"{name}: breach at {row.breached_at}, due {want.due}")
    return problems


def _every_timer_fired(rows: list, simulated_to: datetime) -> list[str]:
    """Every deadline the simulation opened, whatever its key: a breach at its due time exactly when it
    was met after it, or is still unmet once that time has passed."""
    problems = []
    for row in rows:
        if row.status == "cancelled":
            continue
        if row.met_at is not None:
            breach = row.due_at if row.met_at > row.due_at else None
        else:
            breach = row.due_at if row.due_at <= simulated_to else None
        if row.breached_at != breach:
            problems.append(
                f"{row.case_reference} {row.stream} {row.key} {row.deadline_id}: breach {row.breached_at}, "
                f"expected {breach} (due {row.due_at}, met {row.met_at}, {row.status})"
            )
    return problems
