"""Making the closing-the-loop report: figures from the read model, rendered to HTML and PDF, stored once,
and the Business Unit told in the same transaction.

The report's id comes from its kind, partnership, period and origin (the schedule, or a person), so a
retried activity, a second run for the same period or a repeated request finds the report already made
and stores nothing more.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import Engine, select
from temporalio import activity

from activities.delivery import DeliveryStarter
from safeguarding.domain.notices import Notice
from safeguarding.domain.partnerships import current
from safeguarding.domain.reporting import (
    BUSINESS_UNIT,
    CLOSING_THE_LOOP,
    ReportMade,
    ReportOrder,
    period_words,
    report_id,
    report_paths,
)
from safeguarding.queries.closing_the_loop import closing_the_loop_figures
from safeguarding.render.reports import render_html, render_pdf
from safeguarding.store import outbox
from safeguarding.store.engine import dialect_insert
from safeguarding.store.tables import ReportRow

log = structlog.get_logger(__name__)


class ReportActivities:
    def __init__(self, engine: Engine, public_url: str, postroom: DeliveryStarter | None = None) -> None:
        self.engine = engine
        self.public_url = public_url.rstrip("/")
        self.postroom = postroom

    @activity.defn
    def build_closing_the_loop(self, order: ReportOrder) -> ReportMade:
        """Called by ``ClosingTheLoopWorkflow``: make, store and announce the report (once)."""
        made_id = report_id(
            CLOSING_THE_LOOP, order.partnership, order.period_start, order.period_end, order.requested_by
        )
        existing = self._stored(made_id)
        if existing is not None:
            return existing
        now = datetime.now(UTC)
        figures = closing_the_loop_figures(
            self.engine,
            order.partnership,
            order.period_start,
            order.period_end,
            timezone=order.timezone,
            partnership_name=order.partnership_name,
            as_of=now,
            themes=order.themes,
        )
        html = render_html(figures, made_at=now)
        pdf = render_pdf(html)
        inserted = self._store(made_id, order, figures, html, pdf, now)
        if not inserted:  # another run stored it between our look and our write
            stored = self._stored(made_id)
            assert stored is not None
            return stored
        if self.postroom is not None:
            self.postroom.start_pending(current(order.partnership), made_id)
        log.info(
            "report.made",
            report=made_id,
            kind=CLOSING_THE_LOOP,
            partnership=order.partnership,
            period_start=order.period_start.isoformat(),
            period_end=order.period_end.isoformat(),
            actions=figures.totals.actions,
            pdf_bytes=len(pdf),
        )
        return ReportMade(
            id=made_id,
            kind=CLOSING_THE_LOOP,
            partnership=order.partnership,
            period_start=order.period_start,
            period_end=order.period_end,
            created_at=now,
            created_by=order.requested_by,
            new=True,
        )

    def _store(
        self, made_id: str, order: ReportOrder, figures: Any, html: str, pdf: bytes, now: datetime
    ) -> bool:
        """Store the report and tell the Business Unit where it is, in one transaction; False if another
        run stored it first."""
        with self.engine.begin() as connection:
            inserted = connection.execute(
                dialect_insert(self.engine, ReportRow)
                .on_conflict_do_nothing(index_elements=["id"])
                .returning(ReportRow.id),
                {
                    "id": made_id,
                    "kind": CLOSING_THE_LOOP,
                    "partnership": current(order.partnership),
                    "period_start": order.period_start,
                    "period_end": order.period_end,
                    "created_at": now,
                    "created_by": order.requested_by,
                    "figures": figures.model_dump(mode="json"),
                    "html": html,
                    "pdf": pdf,
                },
            ).first()
            if inserted is not None:
                _, pdf_path = report_paths(made_id)
                outbox.queue(
                    connection,
                    Notice(
                        key=f"report:{made_id}",
                        partnership=current(order.partnership),
                        # The outbox files every notice under a reference; a report's is its id.
                        case_reference=made_id,
                        kind="decision",
                        recipients=[BUSINESS_UNIT],
                        owning_agency=None,
                        title="Closing-the-loop report ready: "
                        + period_words(order.period_start, order.period_end),
                        asked=f"Open it, signed in, at {self.public_url}/dashboard{pdf_path}",
                    ),
                    now,
                    default_partnership=current(order.partnership),
                )
        return inserted is not None

    def _stored(self, made_id: str) -> ReportMade | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(
                    ReportRow.id,
                    ReportRow.kind,
                    ReportRow.partnership,
                    ReportRow.period_start,
                    ReportRow.period_end,
                    ReportRow.created_at,
                    ReportRow.created_by,
                ).where(ReportRow.id == made_id)
            ).first()
        if row is None:
            return None
        return ReportMade(**row._asdict(), new=False)
