"""Migration 0008 on a copy of the data as the service kept it before partnerships were kept apart: every
row moves into Luton, the event log stays append-only and keeps its ids, the audit chain still holds,
Luton's directory entries are named as Luton names them (unless edited), and a second partnership may
then use the same case reference. Run on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from safeguarding.domain.people import Actor, Role
from safeguarding.queries.scope import find_case
from safeguarding.store.audit import GENESIS, AuditEntry, append, entries, entry_hash, verify
from safeguarding.store.engine import MIGRATIONS_DIR, make_engine
from safeguarding.store.tables import Base

AT = datetime(2026, 10, 5, 9, tzinfo=UTC)
REFERENCE = "LSCP-2026-014"


def _upgrade(url: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    command.upgrade(config, revision)


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    """An empty database (not migrated)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'before.db'}"
        return
    import uuid

    import psycopg

    server = request.getfixturevalue("postgres_server")
    name = f"sll_m8_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _insert(connection: sa.Connection, table: str, **values: Any) -> None:
    columns = ", ".join(values)
    marks = ", ".join(f":{k}" for k in values)
    json_columns = {"details", "themes", "progress", "recipients", "roles", "mailboxes", "reminder_times",
                    "figures", "sent_to"}  # fmt: skip
    bound = {k: json.dumps(v) if k in json_columns else v for k, v in values.items()}
    connection.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES ({marks})"), bound)


def _todays_data(url: str) -> list[AuditEntry]:
    """The rows a case and its plan, the directory, the outbox, a feed, a report and the audit log held
    under revision 0007 (columns as 0007 made them)."""
    engine = sa.create_engine(url)
    audit = [
        AuditEntry(at=AT, user_id="bu.officer1", role="business_unit", action="POST /incidents",
                   case_reference=REFERENCE, outcome="accepted", status_code=200),
        AuditEntry(at=AT + timedelta(hours=1), user_id="school.dsl", role="partner_agency", agency="luton-schools",
                   action="POST /tasks/{task_id}/complete", case_reference=REFERENCE, outcome="accepted",
                   status_code=200, reason=None),
    ]  # fmt: skip
    with engine.begin() as c:
        _insert(c, "cases", reference=REFERENCE, workflow_id=f"case-{REFERENCE}", partnership="pan-bedfordshire",
                policy_version="2026.2", route="serious_incident_notification", stage="learning_actions",
                outcome=None, opened_at=AT, closed_at=None, next_due_at=AT + timedelta(days=30), version=12,
                updated_at=AT)  # fmt: skip
        _insert(c, "deadlines", case_reference=REFERENCE, deadline_id="D1", key="notify_panel",
                title="Notify the Panel", subject=None, statutory=True, started_at=AT, due_at=AT + timedelta(days=7),
                status="met", met_at=AT + timedelta(days=1), breached_at=None, stream="case",
                reminder_times=[])  # fmt: skip
        _insert(c, "tasks", task_id=f"{REFERENCE}.T1", case_reference=REFERENCE, agency="luton-schools",
                kind="information_return", asked_for="A chronology", requested_at=AT, due_at=AT + timedelta(days=7),
                status="completed", completed_at=AT + timedelta(hours=1), stream="case")  # fmt: skip
        for seq, kind in enumerate(["case_opened", "information_requested", "information_returned"], start=1):
            _insert(c, "case_events", id=seq + 40, case_reference=REFERENCE, seq=seq, kind=kind,
                    recorded_at=AT + timedelta(minutes=seq), occurred_at=None, actor_user="bu.officer1",
                    actor_role="business_unit", actor_agency=None, reasons=None, details={}, stream="case")  # fmt: skip
        _insert(c, "reviews", case_reference=REFERENCE, workflow_id=f"case-{REFERENCE}/review", kind="local_cspr",
                stage="completed", started_at=AT, paused=False, due_at=None, earliest_publication_date=None,
                publication_date=None, outcome="published", finished_at=AT + timedelta(days=90), version=30,
                updated_at=AT)  # fmt: skip
        _insert(c, "action_plans", case_reference=REFERENCE, workflow_id=f"case-{REFERENCE}/plan", status="open",
                version=4, updated_at=AT)  # fmt: skip
        _insert(c, "recommendations", case_reference=REFERENCE, recommendation_id="R1",
                text="Share bruising concerns", source="local_cspr")  # fmt: skip
        _insert(c, "actions", case_reference=REFERENCE, action_id="A1", agency="luton-schools",
                lead_role="Designated safeguarding lead", source="local_cspr", themes=["neglect"],
                due_at=AT + timedelta(days=60), status="open", completed_at=None, escalations_sent=0,
                recommendation_id="R1", description="Training", measure="Audit", evidence_of_impact=None,
                progress=[])  # fmt: skip
        _insert(c, "agencies", code="joint-case-review-group", name="Pan Bedfordshire Joint Case Review Group",
                roles=["jcrg_chair"], mailboxes=["jcrg@luton.example"], webhook_url=None, webhook_secret=None,
                digest=False, active=True, updated_at=AT, updated_by="seed")  # fmt: skip
        _insert(c, "agencies", code="luton-childrens-social-care", name="Luton Children's Social Care (edited)",
                roles=["safeguarding_partner"], mailboxes=[], webhook_url=None, webhook_secret=None, digest=False,
                active=True, updated_at=AT, updated_by="bu.officer1")  # fmt: skip
        _insert(c, "notifications", id=7, idempotency_key=f"case-{REFERENCE}:{REFERENCE}.T1:assigned",
                case_reference=REFERENCE, kind="task_assigned", deadline_id=None, deadline_key=None,
                recipients=["owning_agency"], owning_agency="luton-schools", due_at=None, created_at=AT,
                status="queued", stream="case", task_id=f"{REFERENCE}.T1", title="Information", asked="A chronology",
                number=None)  # fmt: skip
        _insert(c, "deliveries", id=3, idempotency_key="k|email|luton-schools|x", notification_id=7, digest_id=None,
                channel="email", agency="luton-schools", address="dsl@luton.example", status="sent", created_at=AT,
                sent_at=AT, attempts=1, last_error=None, started=True)  # fmt: skip
        _insert(c, "calendar_feeds", id="f1", token_hash="0" * 64, agency=None, label="All", created_at=AT,
                created_by="bu.officer1", revoked_at=None, revoked_by=None)  # fmt: skip
        _insert(c, "reports", id="ctl-1", kind="closing_the_loop", partnership="pan-bedfordshire",
                period_start=date(2026, 4, 1), period_end=date(2026, 9, 30), created_at=AT, created_by="schedule",
                figures={}, html="<p>report</p>", pdf=None)  # fmt: skip
        _insert(c, "yearly_reports", partnership="pan-bedfordshire", year_start=date(2025, 4, 1),
                published_due_at=None, published_on=None, sent_due_at=None, sent_on=None, sent_to=[], escalations=0,
                updated_at=AT, version=2)  # fmt: skip
        prev = GENESIS
        for number, entry in enumerate(audit, start=1):
            digest = entry_hash(prev, entry)
            _insert(c, "audit_log", id=number, **entry.model_dump(exclude={"partnership", "occurred_at", "entry_key"}), prev_hash=prev,
                    hash=digest)  # fmt: skip
            prev = digest
    engine.dispose()
    return audit


def test_the_data_of_before_moves_into_luton_whole(blank_url: str) -> None:
    _upgrade(blank_url, "0007")
    audit = _todays_data(blank_url)
    _upgrade(blank_url, "head")
    engine = make_engine(blank_url)
    with engine.connect() as c:
        # The schema is exactly what the code maps: columns, keys and indexes.
        assert compare_metadata(MigrationContext.configure(c), Base.metadata) == []

        def one(query: str) -> Any:
            return c.execute(sa.text(query)).all()

        assert one("SELECT partnership, reference, workflow_id FROM cases") == [
            ("luton", REFERENCE, f"case-{REFERENCE}")
        ]
        for table in ("deadlines", "reviews", "action_plans", "actions", "recommendations", "case_events"):
            assert {row[0] for row in one(f"SELECT partnership FROM {table}")} == {"luton"}, table
        assert one("SELECT partnership, agency_partnership, task_id FROM tasks") == [
            ("luton", "luton", f"{REFERENCE}.T1")
        ]
        assert one("SELECT id, seq FROM case_events ORDER BY id") == [(41, 1), (42, 2), (43, 3)]
        assert one("SELECT partnership FROM notifications") == [("luton",)]
        assert one("SELECT partnership FROM deliveries") == [("luton",)]
        assert one("SELECT partnership FROM calendar_feeds") == [("luton",)]
        assert one("SELECT partnership FROM reports") == [("luton",)]
        assert one("SELECT partnership FROM yearly_reports") == [("luton",)]
        assert one("SELECT code, name FROM agencies ORDER BY code") == [
            ("joint-case-review-group", "Luton Joint Case Review Group"),  # the seed's words: renamed
            ("luton-childrens-social-care", "Luton Children's Social Care (edited)"),  # edited: kept
        ]
    # The event log refuses changes as before, and gives the next event the next id.
    with pytest.raises(sa.exc.DBAPIError):
        with engine.begin() as c:
            c.execute(sa.text("UPDATE case_events SET kind = 'tampered' WHERE id = 41"))
    with engine.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO case_events (partnership, case_reference, stream, seq, kind, recorded_at, details) "
                "VALUES ('luton', :ref, 'case', 4, 'case_closed', :at, '{}')"
            ),
            {"ref": REFERENCE, "at": AT},
        )
        assert c.execute(sa.text("SELECT max(id) FROM case_events")).scalar_one() == 44
        # Another partnership may now use the same reference, and its rows hang off its own case.
        c.execute(
            sa.text(
                "INSERT INTO cases (partnership, reference, workflow_id, policy_version, route, stage, "
                "opened_at, version, updated_at) VALUES ('central-bedfordshire', :ref, :wf, '2026.2', "
                "'serious_incident_notification', 'rapid_review', :at, 1, :at)"
            ),
            {"ref": REFERENCE, "wf": f"central-bedfordshire/case-{REFERENCE}", "at": AT},
        )
    # The audit chain written before still holds, and goes on with entries that name their partnership.
    append(engine, AuditEntry(at=AT + timedelta(days=1), user_id="scrutineer", role="independent_scrutineer",
                              partnership="luton", action="GET /audit", outcome="read", status_code=200))  # fmt: skip
    assert verify(engine).ok and verify(engine).entries == 3
    assert [e.user_id for e in entries(engine, partnerships=["luton"])] == [
        *(e.user_id for e in audit),
        "scrutineer",
    ]
    assert entries(engine, partnerships=["bedford-borough"]) == []
    # Luton's staff find the case of before by its old workflow id; Bedford Borough's find nothing.
    luton = Actor(user_id="bu.officer1", role=Role.business_unit, partnerships=["luton"])
    found = find_case(engine, luton, REFERENCE)
    assert found is not None and found.workflow_id == f"case-{REFERENCE}" and found.partnership == "luton"
    bedford = Actor(user_id="bu.bedford", role=Role.business_unit, partnerships=["bedford-borough"])
    assert find_case(engine, bedford, REFERENCE) is None
    engine.dispose()
