"""What the yearly report's process writes: its state in the read model, and its reminders and
escalations in the outbox (delivered like every other notice)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from temporalio import activity

from activities.delivery import DeliveryStarter
from safeguarding.domain.notices import Notice
from safeguarding.domain.partnerships import FIRST_PARTNERSHIP, current
from safeguarding.domain.yearly_report import YearlyNotice, YearlyState
from safeguarding.store import outbox
from safeguarding.store.engine import dialect_insert
from safeguarding.store.tables import YearlyReportRow


class YearlyReportActivities:
    def __init__(self, engine: Engine, starter: DeliveryStarter | None = None) -> None:
        self.engine, self.starter = engine, starter

    @activity.defn
    def notify(self, notice: YearlyNotice) -> bool:
        # A process begun before partnerships were kept apart files under its reference's partnership.
        partnership = current(notice.partnership or FIRST_PARTNERSHIP)
        with self.engine.begin() as connection:
            queued = outbox.queue(
                connection,
                Notice(
                    key=notice.key,
                    case_reference=notice.reference,
                    kind=notice.kind,
                    recipients=notice.recipients,
                    owning_agency=None,
                    title=notice.title,
                    due_at=notice.due_at,
                    deadline_key=notice.deadline_key,
                    number=notice.number,
                ),
                datetime.now(UTC),
                default_partnership=partnership,
            )
        if self.starter is not None:
            self.starter.start_pending(partnership, notice.reference)
        return queued is not None

    @activity.defn
    def record_state(self, state: YearlyState) -> None:
        values = state.model_dump() | {
            "partnership": current(state.partnership),
            "updated_at": datetime.now(UTC),
        }
        insert = dialect_insert(self.engine, YearlyReportRow)
        with self.engine.begin() as connection:
            connection.execute(
                insert.on_conflict_do_update(
                    index_elements=["partnership", "year_start"],
                    set_={k: insert.excluded[k] for k in values if k not in ("partnership", "year_start")},
                    where=YearlyReportRow.version < insert.excluded.version,
                ),
                values,
            )
