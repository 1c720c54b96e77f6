"""This reporting year's timeliness, per partnership: the share of each measure's deadlines met on time."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.orm import Session

from safeguarding.domain.policy import Policy
from safeguarding.store.tables import DeadlineRow

# The yearly report's timeliness measures: the deadline that records each, and what it is called.
TIMELINESS_MEASURES: dict[str, str] = {
    "rapid_review_to_panel": "Rapid reviews sent to the Panel within {due}",
    "cspr_completion": "Local CSPRs completed and published within {due}",
}


class TimelinessMeasure(BaseModel):
    key: str
    label: str  # "Rapid reviews sent to the Panel within 15 working days"
    counted: int  # met in the year, or missed (due in the year and not met)
    on_time: int

    @property
    def percent(self) -> int | None:
        return None if self.counted == 0 else round(100 * self.on_time / self.counted)


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
    earliest = min(start for start, _ in years.values())
    latest = max(end for _, end in years.values())
    query = select(DeadlineRow.partnership, DeadlineRow.key, DeadlineRow.due_at, DeadlineRow.met_at).where(
        DeadlineRow.partnership.in_(list(policies)),
        DeadlineRow.key.in_(list(TIMELINESS_MEASURES)),
        DeadlineRow.status != "cancelled",
        or_(
            and_(DeadlineRow.met_at >= earliest, DeadlineRow.met_at < latest),
            and_(DeadlineRow.met_at.is_(None), DeadlineRow.due_at >= earliest, DeadlineRow.due_at < now),
        ),
    )
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    with Session(engine) as session:
        for partnership, key, due_at, met_at in session.execute(query):
            if partnership not in years:
                continue
            start, end = years[partnership]
            known = start <= met_at < end if met_at is not None else start <= due_at < min(end, now)
            if not known:
                continue
            counts = tally[(partnership, key)]
            counts[0] += 1
            counts[1] += met_at is not None and met_at <= due_at
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
