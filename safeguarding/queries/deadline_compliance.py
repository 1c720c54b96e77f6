"""How a partnership's deadlines were kept, counted in SQL rather than read row by row: the
closing-the-loop report's compliance by policy key, and the cases whose deadlines of a key the yearly
figures count as kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, case, func, not_, or_, select

from safeguarding.queries.report_rows import ReportRows
from safeguarding.store.tables import DeadlineRow


class DeadlineCompliance(BaseModel):
    """Deadlines that fell due in the period, by policy key; cancelled ones are left out."""

    key: str
    title: str
    statutory: bool
    due: int = 0
    met_on_time: int = 0
    met_late: int = 0
    missed: int = 0  # not met by the cut-off
    not_yet_due: int = 0  # due after the cut-off (a period that runs on past today)


def deadline_compliance(
    model: ReportRows, start_at: datetime, end_at: datetime, cut_off: datetime
) -> list[DeadlineCompliance]:
    """The deadlines due in [start_at, end_at), judged at the cut-off, key by key. Each key's title and
    whether it is statutory are its first deadline's (the soonest due, then by case and id)."""
    due_in_period = [
        DeadlineRow.partnership == model.partnership,
        DeadlineRow.status != "cancelled",
        DeadlineRow.due_at >= start_at,
        DeadlineRow.due_at < end_at,
    ]
    met = and_(DeadlineRow.met_at.is_not(None), DeadlineRow.met_at <= cut_off)

    def how_many(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    counted = (
        select(
            DeadlineRow.key,
            func.min(DeadlineRow.due_at),
            func.count(),
            how_many(and_(met, DeadlineRow.met_at <= DeadlineRow.due_at)),
            how_many(and_(met, DeadlineRow.met_at > DeadlineRow.due_at)),
            how_many(and_(not_(met), DeadlineRow.due_at < cut_off)),
        )
        .where(*due_in_period)
        .group_by(DeadlineRow.key)
    )
    connection = model.session.connection()
    by_key = {key: (soonest, numbers) for key, soonest, *numbers in connection.execute(counted)}
    if not by_key:
        return []
    first_due = or_(
        *(and_(DeadlineRow.key == key, DeadlineRow.due_at == soonest) for key, (soonest, _) in by_key.items())
    )

    def in_order(d: Any) -> tuple[datetime, str, str]:
        return (d.due_at, d.case_reference, d.deadline_id)

    first: dict[str, Any] = {}
    for d in model.rows(
        DeadlineRow,
        DeadlineRow.key,
        DeadlineRow.due_at,
        DeadlineRow.case_reference,
        DeadlineRow.deadline_id,
        DeadlineRow.title,
        DeadlineRow.statutory,
        where=[*due_in_period, first_due],
    ):
        if d.key not in first or in_order(d) < in_order(first[d.key]):
            first[d.key] = d
    compliance = [
        DeadlineCompliance(
            key=key,
            title=first[key].title,
            statutory=first[key].statutory,
            due=due,
            met_on_time=on_time,
            met_late=late,
            missed=missed,
            not_yet_due=due - on_time - late - missed,
        )
        for key, (_, (due, on_time, late, missed)) in by_key.items()
    ]
    # Equal titles in the order their keys first fell due, as the deadlines were always read.
    compliance.sort(key=lambda c: in_order(first[c.key]))
    return sorted(compliance, key=lambda c: (not c.statutory, c.title))


def kept_on_time(model: ReportRows, keys: list[str]) -> dict[str, set[str]]:
    """deadline key -> the cases whose deadlines of that key (cancelled ones aside) were every one met,
    and met on time."""
    met_on_time = and_(DeadlineRow.met_at.is_not(None), DeadlineRow.met_at <= DeadlineRow.due_at)
    statement = (
        select(DeadlineRow.key, DeadlineRow.case_reference)
        .where(
            DeadlineRow.partnership == model.partnership,
            DeadlineRow.key.in_(keys),
            DeadlineRow.status != "cancelled",
        )
        .group_by(DeadlineRow.key, DeadlineRow.case_reference)
        .having(func.min(case((met_on_time, 1), else_=0)) == 1)
    )
    kept: dict[str, set[str]] = {key: set() for key in keys}
    for key, reference in model.session.connection().execute(statement):
        kept[key].add(reference)
    return kept
