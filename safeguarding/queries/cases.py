"""The cases: the API's list (``GET /cases``) and the dashboard's (each case with its next live deadline).

"Overdue" is computed at read time against the database's rows, so a case shows as overdue the moment
a due time passes, even before its workflow has woken to record the breach.
"""

from __future__ import annotations

from datetime import UTC, datetime
from math import ceil
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, case, func, or_, select
from sqlalchemy.orm import Session

from safeguarding.queries.due import LIVE, DueState, due_state
from safeguarding.store.tables import CaseEventRow, CaseRow, DeadlineRow

PAGE_SIZE = 50


class NextDeadline(BaseModel):
    key: str
    title: str
    due_at: datetime
    state: DueState


class CaseLine(BaseModel):
    reference: str
    partnership: str
    stage: str
    route: str
    opened_at: datetime
    closed_at: datetime | None
    next_deadline: NextDeadline | None


class CaseList(BaseModel):
    cases: list[CaseLine]
    total: int
    overdue: int  # cases (of the filter) whose next deadline has passed
    page: int
    pages: int
    stage: str | None


def case_list(
    engine: Engine,
    *,
    partnerships: list[str],
    now: datetime,
    stage: str | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> CaseList:
    """The partnerships' cases with their next live deadline (of any of the case's workflows), soonest
    first; cases with nothing due come last. Ordered by the case row's ``next_due_at`` (kept by the
    read model across the case's workflows, indexed); the next deadline's words read for the page's
    cases only."""
    where = [CaseRow.partnership.in_(partnerships), *([CaseRow.stage == stage] if stage else [])]
    with Session(engine) as session:
        total, overdue = session.execute(
            select(
                func.count(), func.coalesce(func.sum(case((CaseRow.next_due_at < now, 1), else_=0)), 0)
            ).where(*where)
        ).one()
        pages = max(ceil(total / page_size), 1)
        page = min(max(page, 1), pages)  # past the last page (the list shrank): the last
        rows = session.execute(
            select(
                CaseRow.reference,
                CaseRow.partnership,
                CaseRow.stage,
                CaseRow.route,
                CaseRow.opened_at,
                CaseRow.closed_at,
                CaseRow.next_due_at,
            )
            .where(*where)
            .order_by(
                CaseRow.next_due_at.is_(None), CaseRow.next_due_at, CaseRow.reference, CaseRow.partnership
            )
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
        nexts = _next_deadlines(session, [r for r in rows if r.next_due_at is not None])
    return CaseList(
        cases=[_case_line(row, nexts.get((row.partnership, row.reference)), now) for row in rows],
        total=total,
        overdue=int(overdue),
        page=page,
        pages=pages,
        stage=stage,
    )


def _next_deadlines(session: Session, rows: list[Any]) -> dict[tuple[str, str], Any]:
    """The next live deadline of each of these cases (of any of its workflows): the first by due time."""
    if not rows:
        return {}
    found = session.execute(
        select(
            DeadlineRow.partnership,
            DeadlineRow.case_reference,
            DeadlineRow.key,
            DeadlineRow.title,
            DeadlineRow.due_at,
            DeadlineRow.reminder_times,
        )
        .where(
            DeadlineRow.partnership.in_({r.partnership for r in rows}),
            DeadlineRow.case_reference.in_({r.reference for r in rows}),
            DeadlineRow.status.in_(LIVE),
        )
        .order_by(DeadlineRow.due_at, DeadlineRow.stream, DeadlineRow.deadline_id)
    ).all()
    nexts: dict[tuple[str, str], Any] = {}
    for deadline in found:
        nexts.setdefault((deadline.partnership, deadline.case_reference), deadline)
    return nexts


def _case_line(row: Any, deadline: Any, now: datetime) -> CaseLine:
    return CaseLine(
        reference=row.reference,
        partnership=row.partnership,
        stage=row.stage,
        route=row.route,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        next_deadline=None
        if deadline is None
        else NextDeadline(
            key=deadline.key,
            title=deadline.title,
            due_at=deadline.due_at,
            state=due_state(deadline.due_at, now, reminder_times=deadline.reminder_times),  # type: ignore[arg-type]
        ),
    )


class CaseListItem(BaseModel):
    reference: str
    partnership: str
    route: str
    stage: str
    outcome: str | None
    policy_version: str
    opened_at: datetime
    closed_at: datetime | None
    next_due_at: datetime | None
    overdue: bool


def list_cases(
    engine: Engine,
    *,
    partnerships: list[str],
    stage: str | None = None,
    overdue: bool | None = None,
    limit: int = 100,
    offset: int = 0,
    now: datetime | None = None,
) -> list[CaseListItem]:
    now = now or datetime.now(UTC)
    is_overdue = CaseRow.next_due_at < now  # the soonest live deadline of any of its workflows
    query = (
        select(CaseRow, func.coalesce(is_overdue, False).label("overdue"))
        .where(CaseRow.partnership.in_(partnerships))
        .order_by(CaseRow.opened_at.desc(), CaseRow.reference, CaseRow.partnership)
    )
    if stage is not None:
        query = query.where(CaseRow.stage == stage)
    if overdue is not None:
        query = query.where(is_overdue if overdue else or_(CaseRow.next_due_at.is_(None), ~is_overdue))
    with Session(engine) as session:
        rows = session.execute(query.limit(limit).offset(offset)).all()
    return [
        CaseListItem(
            reference=row.CaseRow.reference,
            partnership=row.CaseRow.partnership,
            route=row.CaseRow.route,
            stage=row.CaseRow.stage,
            outcome=row.CaseRow.outcome,
            policy_version=row.CaseRow.policy_version,
            opened_at=row.CaseRow.opened_at,
            closed_at=row.CaseRow.closed_at,
            next_due_at=row.CaseRow.next_due_at,
            overdue=bool(row.overdue),
        )
        for row in rows
    ]


def thematic_reviews_covering(engine: Engine, partnership: str, reference: str) -> list[str]:
    """The thematic reviews of the partnership that cover this case (their references)."""
    with engine.connect() as connection:
        opened = connection.execute(
            select(CaseEventRow.case_reference, CaseEventRow.details)
            .join(
                CaseRow,
                (CaseRow.partnership == CaseEventRow.partnership)
                & (CaseRow.reference == CaseEventRow.case_reference),
            )
            .where(
                CaseRow.partnership == partnership,
                CaseRow.route == "thematic_review",
                CaseEventRow.stream == "case",
                CaseEventRow.kind == "case_opened",
            )
        ).all()
    return sorted(ref for ref, details in opened if reference in (details or {}).get("covers", []))
