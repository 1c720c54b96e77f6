"""Timeliness quarter by quarter over the last reporting years, per partnership: the same measures and the
same counting as this year's (``timeliness.py``), each quarter of the reporting year on its own."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session

from safeguarding.domain.policy import Policy
from safeguarding.platform.working_days import add_months
from safeguarding.queries.timeliness import (
    ON_TIME,
    TIMELINESS_MEASURES,
    OnTimeShare,
    decided_within,
    reporting_year,
)
from safeguarding.store.tables import DeadlineRow

YEARS_SHOWN = 3  # this reporting year and the two before it


class QuarterFigures(OnTimeShare):
    starts: date
    ends: date  # inclusive


class MeasureByQuarter(BaseModel):
    key: str
    label: str
    quarters: list[QuarterFigures]


class TimelinessByQuarter(BaseModel):
    partnership: str
    name: str
    measures: list[MeasureByQuarter]


def quarters(policy: Policy, now: datetime, years: int = YEARS_SHOWN) -> list[datetime]:
    """The first moments of the quarters shown, as UTC instants, and the end of the quarter holding
    ``now``: the last ``years`` reporting years' quarters, up to and including this one."""
    zone = ZoneInfo(policy.timezone)
    this_year, _ = reporting_year(policy, now)
    first = this_year.astimezone(zone).date()
    first = first.replace(year=first.year - (years - 1))
    bounds = []
    for n in range(4 * years + 1):
        starts = datetime.combine(add_months(first, 3 * n), time(0), tzinfo=zone).astimezone(UTC)
        bounds.append(starts)
        if starts > now:
            break
    return bounds


def timeliness_by_quarter(
    engine: Engine, policies: dict[str, Policy], *, now: datetime, years: int = YEARS_SHOWN
) -> list[TimelinessByQuarter]:
    """Per partnership of ``policies`` (the reader's), each measure's deadlines met on time in each quarter
    of the last ``years`` reporting years. A deadline counts in the quarter it was met or, never met, fell
    due (once due); cancelled ones do not count. One query per set of quarters in use."""
    if not policies:
        return []
    bounds = {name: quarters(policy, now, years) for name, policy in policies.items()}
    by_bounds: dict[tuple[datetime, ...], list[str]] = defaultdict(list)
    for name, edges in bounds.items():
        by_bounds[tuple(edges)].append(name)
    tally: dict[tuple[str, str, int], tuple[int, int]] = {}
    with Session(engine) as session:
        for edges, names in by_bounds.items():
            decided = func.coalesce(DeadlineRow.met_at, DeadlineRow.due_at)  # when its outcome was known
            counted = (
                select(
                    DeadlineRow.partnership,
                    DeadlineRow.key,
                    case(
                        *((decided < edge, n) for n, edge in enumerate(edges[1:])), else_=len(edges) - 2
                    ).label("quarter"),
                    ON_TIME.label("on_time"),
                )
                .where(*decided_within(names, edges[0], edges[-1], now))
                .subquery()
            )
            # Grouped outside: the quarter's expression, with its bound edges, named once.
            query = select(
                counted.c.partnership,
                counted.c.key,
                counted.c.quarter,
                func.count(),
                func.sum(counted.c.on_time),
            ).group_by(counted.c.partnership, counted.c.key, counted.c.quarter)
            for partnership, key, n, counted, on_time in session.execute(query):
                tally[(partnership, key, n)] = (counted, int(on_time or 0))
    result = []
    for name, policy in sorted(policies.items()):
        zone, edges = ZoneInfo(policy.timezone), bounds[name]
        measures = [
            MeasureByQuarter(
                key=key,
                label=label.format(due=policy.deadlines[key].due),
                quarters=[
                    QuarterFigures(
                        starts=edges[n].astimezone(zone).date(),
                        ends=edges[n + 1].astimezone(zone).date() - timedelta(days=1),
                        counted=tally.get((name, key, n), (0, 0))[0],
                        on_time=tally.get((name, key, n), (0, 0))[1],
                    )
                    for n in range(len(edges) - 1)
                ],
            )
            for key, label in TIMELINESS_MEASURES.items()
            if key in policy.deadlines
        ]
        result.append(TimelinessByQuarter(partnership=name, name=policy.name, measures=measures))
    return result
