"""What the yearly report's process writes: its state in the read model, and its reminders and
escalations in the outbox (delivered like every other notice)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel
from sqlalchemy import Engine
from temporalio import activity

from activities.delivery import DeliveryStarter
from safeguarding import outbox
from safeguarding.store import YearlyReportRow, dialect_insert


class YearlyNotice(BaseModel):
    key: str
    reference: str  # yearly-<partnership>-<year>
    kind: str  # reminder | escalation
    deadline_key: str
    title: str
    due_at: datetime
    recipients: list[str]
    number: int


class YearlyState(BaseModel):
    version: int  # grows with each write, so a late write never overwrites a newer one
    partnership: str
    year_start: date
    published_due_at: datetime | None
    published_on: date | None
    sent_due_at: datetime | None
    sent_on: date | None
    sent_to: list[str]
    escalations: int


class YearlyReportActivities:
    def __init__(self, engine: Engine, starter: DeliveryStarter | None = None) -> None:
        self.engine, self.starter = engine, starter

    @activity.defn
    def notify(self, notice: YearlyNotice) -> bool:
        with self.engine.begin() as connection:
            queued = outbox.queue(
                connection,
                outbox.Notice(
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
            )
        if self.starter is not None:
            self.starter.start_pending(notice.reference)
        return queued is not None

    @activity.defn
    def record_state(self, state: YearlyState) -> None:
        values = state.model_dump() | {"updated_at": datetime.now(UTC)}
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
