"""Rows of the SQL read model, as the workflows would have left them: one small factory per table, each
taking the facts a test cares about and filling the rest with the usual values, and ``write`` to store
them. The seeders (``tests/browser/read_model_seed.py``, ``seed_year``, the calendar feeds') are built
from these, so that each reads as its scenario rather than as column lists."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from safeguarding.domain.events import EventKind
from safeguarding.store.tables import (
    ActionPlanRow,
    ActionRow,
    AgencyRow,
    Base,
    CaseEventRow,
    CaseRow,
    DeadlineRow,
    DeliveryRow,
    NotificationRow,
    RecommendationRow,
    ReviewRow,
    TaskRow,
)

LUTON = "luton"

# Who recorded an event: (user, role, agency).
Actor = tuple[str, str, str | None]
WEEK = timedelta(days=7)


def write(engine: Engine, rows: Iterable[Base]) -> None:
    """Store the rows in one transaction, each table before the tables that refer to it (in the order
    given within a table, so that the event log's ids follow it)."""
    order = {table: number for number, table in enumerate(Base.metadata.sorted_tables)}
    by_table: dict[int, list[Base]] = {}
    for row in rows:
        by_table.setdefault(order[row.__table__], []).append(row)  # type: ignore[index]
    with Session(engine) as session, session.begin():
        for number in sorted(by_table):
            session.add_all(by_table[number])
            session.flush()
        # As the read model keeps it: each case's next due time, its soonest live deadline of any stream.
        session.execute(
            text(
                "UPDATE cases SET next_due_at = (SELECT min(d.due_at) FROM deadlines d "
                "WHERE d.partnership = cases.partnership AND d.case_reference = cases.reference "
                "AND d.status IN ('open', 'overdue'))"
            )
        )


def case_of(task_id: str) -> str:
    """The case a task (``LSCP-2026-101.T1``) belongs to."""
    return task_id.split(".")[0]


def agency(
    code: str,
    name: str,
    *,
    updated_at: datetime,
    roles: Sequence[str] = ("partner_agency",),
    mailboxes: Sequence[str] | None = None,
    active: bool = True,
    updated_by: str = "bu.officer1",
    partnership: str = LUTON,
) -> AgencyRow:
    return AgencyRow(
        partnership=partnership,
        code=code,
        name=name,
        roles=list(roles),
        mailboxes=[f"safeguarding@{code}.example.org"] if mailboxes is None else list(mailboxes),
        digest=False,
        active=active,
        updated_at=updated_at,
        updated_by=updated_by,
    )


def case(
    reference: str,
    stage: str,
    opened_at: datetime,
    *,
    route: str = "serious_incident_notification",
    outcome: str | None = None,
    closed_at: datetime | None = None,
    partnership: str = "luton",
    policy_version: str = "test",
    version: int = 1,
    updated_at: datetime | None = None,
) -> CaseRow:
    return CaseRow(
        reference=reference,
        workflow_id=f"{partnership}/case-{reference}",
        partnership=partnership,
        policy_version=policy_version,
        route=route,
        stage=stage,
        outcome=outcome,
        opened_at=opened_at,
        closed_at=closed_at,
        next_due_at=None,
        version=version,
        updated_at=updated_at or opened_at,
    )


def deadline(
    reference: str,
    number: int,
    key: str,
    due_at: datetime,
    *,
    stream: str = "case",
    subject: str | None = None,
    status: str | None = None,
    met_at: datetime | None = None,
    breached_at: datetime | None = None,
    reminders: Sequence[datetime] | None = None,
    title: str | None = None,
    statutory: bool = True,
    started_at: datetime | None = None,
    partnership: str = LUTON,
) -> DeadlineRow:
    """Deadline ``D<number>`` of the case's stream: met if ``met_at`` is given, otherwise open; titled
    from its key ("Action due"); started a week before it falls due; with no list of reminders unless
    ``reminders`` is given (SQL NULL: the readers take it as none)."""
    row = DeadlineRow(
        partnership=partnership,
        case_reference=reference,
        stream=stream,
        deadline_id=f"D{number}",
        key=key,
        title=title or key.replace("_", " ").capitalize(),
        subject=subject,
        statutory=statutory,
        started_at=started_at or due_at - WEEK,
        due_at=due_at,
        status=status or ("met" if met_at else "open"),
        met_at=met_at,
        breached_at=breached_at,
    )
    if reminders is not None:  # not None itself: the ORM would store JSON null
        row.reminder_times = [at.isoformat() for at in reminders]
    return row


def task(
    task_id: str,
    agency: str,
    asked_for: str,
    *,
    due_at: datetime | None = None,
    requested_at: datetime | None = None,
    stream: str = "case",
    kind: str = "information_return",
    status: str = "open",
    completed_at: datetime | None = None,
    partnership: str = LUTON,
    agency_partnership: str | None = None,
) -> TaskRow:
    """A task asked of an agency, requested a week before it is due (or when ``requested_at`` says)."""
    if requested_at is None:
        assert due_at is not None, "a task with no due date needs requested_at"
        requested_at = due_at - WEEK
    return TaskRow(
        partnership=partnership,
        agency_partnership=agency_partnership or partnership,
        task_id=task_id,
        case_reference=case_of(task_id),
        stream=stream,
        agency=agency,
        kind=kind,
        asked_for=asked_for,
        requested_at=requested_at,
        due_at=due_at,
        status=status,
        completed_at=completed_at,
    )


def event(
    reference: str,
    seq: int,
    kind: EventKind,
    at: datetime,
    /,
    *,
    stream: str = "case",
    occurred_at: datetime | None = None,
    actor: Actor | None = None,
    reasons: str | None = None,
    partnership: str = LUTON,
    **details: object,
) -> CaseEventRow:
    user, role, agency_code = actor or (None, None, None)
    return CaseEventRow(
        partnership=partnership,
        case_reference=reference,
        stream=stream,
        seq=seq,
        kind=EventKind(kind).value,
        recorded_at=at,
        occurred_at=occurred_at,
        actor_user=user,
        actor_role=role,
        actor_agency=agency_code,
        reasons=reasons,
        details=details,
    )


class Events:
    """An event log, numbered as the workflows number it: 1, 2, 3... on each case's stream, in the order
    the events are given. Call it as ``event`` without the number; ``rows`` holds what was recorded."""

    def __init__(self) -> None:
        self.rows: list[CaseEventRow] = []
        self._last: dict[tuple[str, str], int] = {}

    def __call__(
        self, reference: str, kind: EventKind, at: datetime, /, *, stream: str = "case", **more: object
    ) -> None:
        seq = self._last[(reference, stream)] = self._last.get((reference, stream), 0) + 1
        self.rows.append(event(reference, seq, kind, at, stream=stream, **more))  # type: ignore[arg-type]


def review(
    reference: str,
    stage: str,
    started_at: datetime,
    *,
    kind: str = "local_cspr",
    paused: bool = False,
    due_at: datetime | None = None,
    publication_date: date | None = None,
    outcome: str | None = None,
    finished_at: datetime | None = None,
    version: int = 1,
    updated_at: datetime | None = None,
    partnership: str = LUTON,
) -> ReviewRow:
    return ReviewRow(
        partnership=partnership,
        case_reference=reference,
        workflow_id=f"{partnership}/case-{reference}/review",
        kind=kind,
        stage=stage,
        started_at=started_at,
        paused=paused,
        due_at=due_at,
        earliest_publication_date=None,
        publication_date=publication_date,
        outcome=outcome,
        finished_at=finished_at,
        version=version,
        updated_at=updated_at or started_at,
    )


def action_plan(
    reference: str, *, updated_at: datetime, status: str = "open", version: int = 1, partnership: str = LUTON
) -> ActionPlanRow:
    return ActionPlanRow(
        partnership=partnership,
        case_reference=reference,
        workflow_id=f"{partnership}/case-{reference}/plan",
        status=status,
        version=version,
        updated_at=updated_at,
    )


def recommendation(
    reference: str, number: int, text: str, *, source: str = "local_cspr", partnership: str = LUTON
) -> RecommendationRow:
    return RecommendationRow(
        partnership=partnership,
        case_reference=reference,
        recommendation_id=f"R{number}",
        text=text,
        source=source,
    )


def action(
    reference: str,
    number: int,
    agency: str,
    description: str,
    *,
    due_at: datetime,
    lead_role: str = "Lead",
    source: str = "local_cspr",
    themes: Sequence[str] = (),
    recommendation: int | None = None,
    measure: str | None = None,
    status: str = "open",
    completed_at: datetime | None = None,
    evidence_of_impact: str | None = None,
    escalations_sent: int = 0,
    progress: Sequence[dict[str, object]] = (),
    partnership: str = LUTON,
) -> ActionRow:
    """Action ``A<number>`` of the case's plan, following recommendation ``R<recommendation>``."""
    return ActionRow(
        partnership=partnership,
        case_reference=reference,
        action_id=f"A{number}",
        agency=agency,
        lead_role=lead_role,
        source=source,
        themes=list(themes),
        due_at=due_at,
        status=status,
        completed_at=completed_at,
        escalations_sent=escalations_sent,
        recommendation_id=None if recommendation is None else f"R{recommendation}",
        description=description,
        measure=measure,
        evidence_of_impact=evidence_of_impact,
        progress=list(progress),
    )


def progress(at: datetime, summary: str, *evidence: str) -> dict[str, object]:
    """One entry of an action's progress, with the names of its evidence."""
    return {"at": at.astimezone(UTC).isoformat(), "summary": summary, "evidence": list(evidence)}


def notification(
    task_id: str,
    kind: str,
    idempotency_key: str,
    *,
    created_at: datetime,
    owning_agency: str,
    title: str,
    deadline_id: str,
    deadline_key: str,
    recipients: Sequence[str] = ("owning_agency",),
    stream: str = "case",
    due_at: datetime | None = None,
    asked: str | None = None,
    number: int | None = None,
    id: int | None = None,
    partnership: str = LUTON,
) -> NotificationRow:
    """The outbox's notice of something about a task (assigned, an escalation...), not yet delivered."""
    return NotificationRow(
        id=id,
        partnership=partnership,
        idempotency_key=idempotency_key,
        case_reference=case_of(task_id),
        kind=kind,
        deadline_id=deadline_id,
        deadline_key=deadline_key,
        recipients=list(recipients),
        owning_agency=owning_agency,
        due_at=due_at,
        created_at=created_at,
        status="queued",
        stream=stream,
        task_id=task_id,
        title=title,
        asked=asked,
        number=number,
    )


def email_sent(notification: NotificationRow, address: str, *, sent_at: datetime) -> DeliveryRow:
    """The notification emailed to its owning agency's mailbox, sent at the first attempt (the delivery
    numbered as its notification)."""
    assert notification.id is not None and notification.owning_agency is not None
    return DeliveryRow(
        id=notification.id,
        idempotency_key=f"{notification.idempotency_key}:email:{notification.owning_agency}",
        notification_id=notification.id,
        channel="email",
        partnership=notification.partnership,
        agency=notification.owning_agency,
        address=address,
        status="sent",
        created_at=notification.created_at,
        sent_at=sent_at,
        attempts=1,
        started=True,
    )
