"""This reporting year's timeliness, per partnership: the share of each measure's deadlines met on time."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import Engine, and_, case, func, or_, select
from sqlalchemy.orm import Session

from safeguarding.domain.policy import Policy
from safeguarding.store.tables import DeadlineRow

# The yearly report's timeliness measures: the deadline that records each, and what it is called.
TIMELINESS_MEASURES: dict[str, str] = {
    "rapid_review_to_panel": "Rapid reviews sent to the Panel within {due}",
    "cspr_completion": "Local CSPRs completed and published within {due}",
}


class OnTimeShare(BaseModel):
    counted: int  # met in the period, or missed (due in the period and not met)
    on_time: int

    @property
    def percent(self) -> int | None:
        return None if self.counted == 0 else round(100 * self.on_time / self.counted)


class TimelinessMeasure(OnTimeShare):
    key: str
    label: str  # "Rapid reviews sent to the Panel within 15 working days"


# A deadline met on or before its due time (1), or not (0): summed, the count on time.
ON_TIME = case((DeadlineRow.met_at <= DeadlineRow.due_at, 1), else_=0)


def decided_within(names: list[str], start: datetime, end: datetime, now: datetime) -> list[Any]:
    """The deadlines of a timeliness measure whose outcome became known in [start, end): met then, or,
    never met, fallen due then (and by ``now``). Cancelled ones do not count."""
    return [
        DeadlineRow.partnership.in_(names),
        DeadlineRow.key.in_(list(TIMELINESS_MEASURES)),
        DeadlineRow.status != "cancelled",
        or_(
            and_(DeadlineRow.met_at >= start, DeadlineRow.met_at < end),
            and_(
                DeadlineRow.met_at.is_(None), DeadlineRow.due_at >= start, DeadlineRow.due_at < min(end, now)
            ),
        ),
    ]


class Timeliness(BaseModel):
    partnership: str
    name: str
    year_starts: date
    year_ends: date  # inclusive
    measures: list[TimelinessMeasure]


def reporting_year(policy: Policy, now: datetime) -> tuple[datetime, datetime]:
    """The partnership's reporting year holding ``now`` (from ``reports.reporting_year_starts``, 1 April
    by default), as UTC instants: its first moment and the first moment of the next."""
    zone = ZoneInfo(policy.timezone)
    starts = policy.reports.reporting_year_starts if policy.reports else "04-01"
    month, day = (int(part) for part in starts.split("-"))
    today = now.astimezone(zone).date()
    year = today.year if (today.month, today.day) >= (month, day) else today.year - 1
    start = datetime(year, month, day, tzinfo=zone)
    end = datetime(year + 1, month, day, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def timeliness(engine: Engine, policies: dict[str, Policy], *, now: datetime) -> list[Timeliness]:
    """Per partnership of ``policies`` (the reader's), this reporting year's share of each measure's
    deadlines met on time.

    A deadline counts in the year its outcome became known: when it was met, or, never met, when it fell
    due. It is on time when met on or before its due time. Deadlines cancelled, or not yet due, do not
    count. One query for every partnership.
    """
    if not policies:
        return []
    years = {name: reporting_year(policy, now) for name, policy in policies.items()}
    by_window: dict[tuple[datetime, datetime], list[str]] = defaultdict(list)
    for name, window in years.items():
        by_window[window].append(name)
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    with Session(engine) as session:
        # Counted by the database, one query per reporting year in use (the partnerships usually share one).
        for (start, end), names in by_window.items():
            query = (
                select(DeadlineRow.partnership, DeadlineRow.key, func.count(), func.sum(ON_TIME))
                .where(*decided_within(names, start, end, now))
                .group_by(DeadlineRow.partnership, DeadlineRow.key)
            )
            for partnership, key, counted, on_time in session.execute(query):
                tally[(partnership, key)] = [counted, int(on_time or 0)]
    result = []
    for name, policy in sorted(policies.items()):
        start, end = years[name]
        zone = ZoneInfo(policy.timezone)
        measures = [
            TimelinessMeasure(
                key=key,
                label=label.format(due=policy.deadlines[key].due),
                counted=tally[(name, key)][0],
                on_time=tally[(name, key)][1],
            )
            for key, label in TIMELINESS_MEASURES.items()
            if key in policy.deadlines
        ]
        result.append(
            Timeliness(
                partnership=name,
                name=policy.name,
                year_starts=start.astimezone(zone).date(),
                year_ends=end.astimezone(zone).date() - timedelta(days=1),
                measures=measures,
            )
        )
    return result
