"""The cases: the API's list (``GET /cases``) and the dashboard's (each case with its next live deadline).

"Overdue" is computed at read time against the database's rows, so a case shows as overdue the moment
a due time passes, even before its workflow has woken to record the breach.
"""

from __future__ import annotations

from datetime import UTC, datetime
from math import ceil
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, and_, case, exists, func, select
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
    first; cases with nothing due come last. One query: the live deadlines (few, by the status index)
    ranked per case."""
    ranked = _ranked_live_deadlines()
    next_due = ranked.c.due_at
    query = (
        select(
            CaseRow.reference,
            CaseRow.partnership,
            CaseRow.stage,
            CaseRow.route,
            CaseRow.opened_at,
            CaseRow.closed_at,
            ranked.c.key,
            ranked.c.title,
            next_due,
            ranked.c.reminder_times,
            func.count().over().label("total"),
            func.sum(case((next_due < now, 1), else_=0)).over().label("overdue"),
        )
        .outerjoin(
            ranked,
            and_(
                ranked.c.partnership == CaseRow.partnership,
                ranked.c.case_reference == CaseRow.reference,
                ranked.c.rank == 1,
            ),
        )
        .where(CaseRow.partnership.in_(partnerships))
        .order_by(next_due.is_(None), next_due, CaseRow.reference, CaseRow.partnership)
        .limit(page_size)
        .offset((max(page, 1) - 1) * page_size)
    )
    if stage:
        query = query.where(CaseRow.stage == stage)
    with Session(engine) as session:
        rows = session.execute(query).all()
    if not rows and page > 1:  # past the last page (the list shrank): show the first
        return case_list(engine, partnerships=partnerships, now=now, stage=stage, page=1, page_size=page_size)
    total = rows[0].total if rows else 0
    lines = [_case_line(row, now) for row in rows]
    return CaseList(
        cases=lines,
        total=total,
        overdue=int(rows[0].overdue or 0) if rows else 0,
        page=max(page, 1),
        pages=max(ceil(total / page_size), 1),
        stage=stage,
    )


def _ranked_live_deadlines():  # type: ignore[no-untyped-def]
    """Each case's live deadlines ranked by due time (the first is its next)."""
    return (
        select(
            DeadlineRow.partnership,
            DeadlineRow.case_reference,
            DeadlineRow.key,
            DeadlineRow.title,
            DeadlineRow.due_at,
            DeadlineRow.reminder_times,
            func.row_number()
            .over(
                partition_by=(DeadlineRow.partnership, DeadlineRow.case_reference),
                order_by=(DeadlineRow.due_at, DeadlineRow.stream, DeadlineRow.deadline_id),
            )
            .label("rank"),
        )
        .where(DeadlineRow.status.in_(LIVE))
        .subquery("live")
    )


def _case_line(row: Any, now: datetime) -> CaseLine:
    return CaseLine(
        reference=row.reference,
        partnership=row.partnership,
        stage=row.stage,
        route=row.route,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        next_deadline=None
        if row.due_at is None
        else NextDeadline(
            key=row.key,
            title=row.title,
            due_at=row.due_at,
            state=due_state(row.due_at, now, reminder_times=row.reminder_times),  # type: ignore[arg-type]
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


def _overdue_deadline(now: datetime):  # type: ignore[no-untyped-def]
    return exists().where(
        and_(
            DeadlineRow.partnership == CaseRow.partnership,
            DeadlineRow.case_reference == CaseRow.reference,
            DeadlineRow.status.in_(LIVE),
            DeadlineRow.due_at < now,
        )
    )


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
    is_overdue = _overdue_deadline(now)
    query = (
        select(CaseRow, is_overdue.label("overdue"))
        .where(CaseRow.partnership.in_(partnerships))
        .order_by(CaseRow.opened_at.desc(), CaseRow.reference, CaseRow.partnership)
    )
    if stage is not None:
        query = query.where(CaseRow.stage == stage)
    if overdue is not None:
        query = query.where(is_overdue if overdue else ~is_overdue)
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
