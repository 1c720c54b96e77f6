"""The reports the service has made and stored (closing the loop, yearly figures), and the yearly
report's process for each year: lists for the API and the dashboard, and one report's body."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, select

from safeguarding.domain.reporting import ReportMade, report_paths
from safeguarding.store.tables import ReportRow, YearlyReportRow


class ReportListItem(BaseModel):
    id: str
    kind: str
    partnership: str
    period_start: date
    period_end: date
    created_at: datetime
    created_by: str
    html: str = Field(description="Where to read it.")
    pdf: str = Field(description="Where to download it.")


def report_item(report: ReportMade | Any) -> ReportListItem:
    html, pdf = report_paths(report.id)
    return ReportListItem(
        id=report.id,
        kind=report.kind,
        partnership=report.partnership,
        period_start=report.period_start,
        period_end=report.period_end,
        created_at=report.created_at,
        created_by=report.created_by,
        html=html,
        pdf=pdf,
    )


def list_reports(engine: Engine, partnerships: list[str], kind: str | None = None) -> list[ReportListItem]:
    """The partnerships' reports, newest period first: their metadata and where to read them, never
    their bodies."""
    query = select(
        ReportRow.id,
        ReportRow.kind,
        ReportRow.partnership,
        ReportRow.period_start,
        ReportRow.period_end,
        ReportRow.created_at,
        ReportRow.created_by,
    ).order_by(ReportRow.period_end.desc(), ReportRow.created_at.desc(), ReportRow.id)
    query = query.where(ReportRow.partnership.in_(partnerships))
    if kind is not None:
        query = query.where(ReportRow.kind == kind)
    with engine.connect() as connection:
        return [report_item(row) for row in connection.execute(query)]


def report_body(
    engine: Engine, partnerships: list[str], report: str, pdf: bool
) -> tuple[str, str | bytes] | None:
    """A stored report's body (HTML or PDF) and the name to save it under; None if there is none among
    the partnerships' reports."""
    with engine.connect() as connection:
        found = connection.execute(
            select(
                ReportRow.kind,
                ReportRow.partnership,
                ReportRow.period_start,
                ReportRow.period_end,
                ReportRow.pdf if pdf else ReportRow.html,
            ).where(ReportRow.id == report, ReportRow.partnership.in_(partnerships))
        ).first()
    if found is None or found[-1] is None:
        return None
    kind, partnership, start, end, body = found
    return f"{kind.replace('_', '-')}-{partnership}-{start}-{end}.{'pdf' if pdf else 'html'}", body


def yearly_processes(engine: Engine, partnerships: list[str]) -> list[Any]:
    """The yearly report's process for each year of the partnerships, newest year first."""
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(YearlyReportRow.__table__)
                .where(YearlyReportRow.partnership.in_(partnerships))
                .order_by(YearlyReportRow.year_start.desc(), YearlyReportRow.partnership)
            ).all()
        )
