"""The SQL read model, the event log, the outbox, the partner directory and the audit log: the tables,
written only by activities (and the API's audit), read by the queries. The migrations own the schema.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator):
    """Timestamps stored in UTC and always read back time-zone aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the read model")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


def _of_case() -> ForeignKeyConstraint:
    """A row of a case's: it belongs to one case of one partnership."""
    return ForeignKeyConstraint(
        ["partnership", "case_reference"], ["cases.partnership", "cases.reference"], ondelete="CASCADE"
    )


class CaseContributionRow(Base):
    """A partnership that contributes to another's case (the child lives, is looked after or is placed
    in its area): its staff may read the case's minimum and take its own part."""

    __tablename__ = "case_contributions"
    __table_args__ = (_of_case(),)

    partnership: Mapped[str] = mapped_column(String(64), primary_key=True)  # the lead's
    case_reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    contributor: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class CaseRow(Base):
    __tablename__ = "cases"

    # A case is its partnership's: two partnerships may use the same reference.
    partnership: Mapped[str] = mapped_column(String(64), primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(120))
    policy_version: Mapped[str] = mapped_column(String(40))
    route: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(40), index=True)
    outcome: Mapped[str | None] = mapped_column(String(60))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeadlineRow(Base):
    __tablename__ = "deadlines"
    __table_args__ = (Index("ix_deadlines_key_met_at", "key", "met_at"), _of_case())

    partnership: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    stream: Mapped[str] = mapped_column(String(10), primary_key=True, default="case")
    deadline_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(60))
    statutory: Mapped[bool] = mapped_column(Boolean)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminder_times: Mapped[list | None] = mapped_column(JSON)  # ISO times of its reminders


class TaskRow(Base):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_case", "partnership", "case_reference"), _of_case())

    partnership: Mapped[str] = mapped_column(String(64), primary_key=True)  # the case's partnership
    task_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    case_reference: Mapped[str] = mapped_column(String(40))
    # Whose directory the owning agency is in: the case's partnership, or a contributing one's.
    agency_partnership: Mapped[str] = mapped_column(String(64), index=True)
    stream: Mapped[str] = mapped_column(String(10), default="case")
    agency: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    asked_for: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CaseEventRow(Base):
    """The append-only event log: one row per case event, never updated or deleted."""

    __tablename__ = "case_events"
    __table_args__ = (
        UniqueConstraint("partnership", "case_reference", "stream", "seq", name="uq_case_events_case_seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partnership: Mapped[str] = mapped_column(String(64))
    case_reference: Mapped[str] = mapped_column(String(40), index=True)
    stream: Mapped[str] = mapped_column(String(10), default="case")
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    actor_user: Mapped[str | None] = mapped_column(String(100))
    actor_role: Mapped[str | None] = mapped_column(String(40))
    actor_agency: Mapped[str | None] = mapped_column(String(64))
    reasons: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON)


class ReviewRow(Base):
    """The case's review (a CSPR, another review, or the local duties of a national review)."""

    __tablename__ = "reviews"
    __table_args__ = (_of_case(),)

    partnership: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(40), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paused: Mapped[bool] = mapped_column(Boolean)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    earliest_publication_date: Mapped[date | None] = mapped_column(Date)
    publication_date: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(60))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ActionPlanRow(Base):
    __tablename__ = "action_plans"
    __table_args__ = (_of_case(),)

    partnership: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ActionRow(Base):
    __tablename__ = "actions"
    __table_args__ = (_of_case(),)

    partnership: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    action_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64), index=True)
    lead_role: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(40))
    themes: Mapped[list] = mapped_column(JSON)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(40), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalations_sent: Mapped[int] = mapped_column(Integer)
    recommendation_id: Mapped[str | None] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(Text)
    measure: Mapped[str | None] = mapped_column(Text)
    evidence_of_impact: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[list | None] = mapped_column(JSON)  # [{at, summary, evidence: [names]}]


class NotificationRow(Base):
    """The outbox: one row per event someone must hear of (a task assigned, re-dated or withdrawn, a
    reminder, an escalation), keyed by the event, so that a retry or a replay never makes a second.
    Its deliveries, one per mailbox or webhook, are in ``deliveries``."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    partnership: Mapped[str] = mapped_column(String(64), index=True)  # whose case, report or year
    case_reference: Mapped[str] = mapped_column(String(100), index=True)  # a case, a report, a year
    kind: Mapped[str] = mapped_column(String(20))
    deadline_id: Mapped[str | None] = mapped_column(String(20))
    deadline_key: Mapped[str | None] = mapped_column(String(64))
    recipients: Mapped[list] = mapped_column(JSON)
    owning_agency: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # queued: written, deliveries being made; no_recipients: nobody in the directory to send it to
    status: Mapped[str] = mapped_column(String(20))
    stream: Mapped[str | None] = mapped_column(String(10))
    task_id: Mapped[str | None] = mapped_column(String(60))
    title: Mapped[str | None] = mapped_column(String(200))  # what is asked, or what the deadline is
    asked: Mapped[str | None] = mapped_column(Text)
    number: Mapped[int | None] = mapped_column(Integer)  # which reminder, which escalation tier


class RecommendationRow(Base):
    """A recommendation an action plan follows (from a review, a rapid review, or added)."""

    __tablename__ = "recommendations"
    __table_args__ = (_of_case(),)

    partnership: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_reference: Mapped[str] = mapped_column(String(40), primary_key=True)
    recommendation_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(40))


class ReportRow(Base):
    """A report the service made: the closing-the-loop report, or the yearly report's figures."""

    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)  # closing_the_loop | yearly_figures
    partnership: Mapped[str] = mapped_column(String(64), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # inclusive
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))  # a user, or "schedule"
    figures: Mapped[dict] = mapped_column(JSON)
    html: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)


class YearlyReportRow(Base):
    """The yearly report's process for one reporting year: its two deadlines and where it stands."""

    __tablename__ = "yearly_reports"

    partnership: Mapped[str] = mapped_column(String(64), primary_key=True)
    year_start: Mapped[date] = mapped_column(Date, primary_key=True)
    published_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_on: Mapped[date | None] = mapped_column(Date)
    sent_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_on: Mapped[date | None] = mapped_column(Date)
    sent_to: Mapped[list] = mapped_column(JSON)
    escalations: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AgencyRow(Base):
    """The partner directory: each agency (or office, such as the Business Unit) with where it hears
    of its work and the roles it holds in the process."""

    __tablename__ = "agencies"

    # One organisation serving several partnerships has an entry in each (the same code).
    partnership: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list] = mapped_column(JSON)
    mailboxes: Mapped[list] = mapped_column(JSON)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(Text)  # sealed with the payload keys
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(100))


class DeliveryRow(Base):
    """One message to one mailbox or webhook: an event's notification, or a day's digest."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(240), unique=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"), index=True)
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # email | webhook
    partnership: Mapped[str] = mapped_column(String(64))  # the directory the agency's entry is in
    agency: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(500))
    # pending -> sent | failed; for an agency on the daily digest: digest -> digested (in a digest)
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    started: Mapped[bool] = mapped_column(Boolean, default=False)  # its delivery workflow is running


class DeliveryAttemptRow(Base):
    """Every try at a delivery and what came of it."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(10))  # sent | failed
    detail: Mapped[str] = mapped_column(Text)


class CalendarFeedRow(Base):
    """A subscribable calendar of open deadlines: one agency's, or the whole partnership's. Calendar
    clients send no bearer token, so the URL carries a secret; only its hash is kept."""

    __tablename__ = "calendar_feeds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    partnership: Mapped[str] = mapped_column(String(64), index=True)
    agency: Mapped[str | None] = mapped_column(String(64), index=True)  # None: the whole partnership
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(100))


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ux_audit_log_entry_key", "entry_key", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(40))
    agency: Mapped[str | None] = mapped_column(String(64))
    # The partnership the attempt was in (none: before partnerships were kept apart, all Luton's).
    partnership: Mapped[str | None] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(120))
    case_reference: Mapped[str | None] = mapped_column(String(40), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    status_code: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    # When the step truly happened, if the person said (a dated step); ``at`` is when it was recorded.
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An accepted step's entry is written by its workflow: once, by this key (workflow and update).
    entry_key: Mapped[str | None] = mapped_column(String(240))
    # Unique: two writers cannot both follow the same entry, so the chain cannot fork.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))
    # The hash signed with the audit key, kept outside the database (``store/audit.py``).
    seal: Mapped[str | None] = mapped_column(String(64))


class IdempotencyRow(Base):
    """A state-changing request sent with an ``Idempotency-Key``: what it was (its fingerprint) and,
    once answered, the answer, so that the same request again gets the same answer and takes no step."""

    __tablename__ = "idempotency_keys"

    owner: Mapped[str] = mapped_column(String(100), primary_key=True)  # who sent it (user id)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha-256 of method, path, query and body
    request: Mapped[str] = mapped_column(String(300))  # method and path, to name a conflict
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status_code: Mapped[int | None] = mapped_column(Integer)  # none while the first attempt is running
    # The answer's headers worth giving again (its content type, where it redirects): never a cookie.
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
