"""The keys of retried requests and the audit entries written by workflows, on both databases: each
kept once, the first answer kept, old keys forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from safeguarding.store import idempotency
from safeguarding.store.audit import AuditEntry, append, append_in, verify
from safeguarding.store.engine import make_engine, migrate
from safeguarding.store.tables import AuditRow, IdempotencyRow


def test_a_key_is_claimed_once_keeps_its_first_answer_and_is_forgotten_after_a_week(database_url):
    migrate(database_url)
    engine = make_engine(database_url)
    assert idempotency.claim(engine, "bu.officer1", "key-00000001", "f1", "POST /x") is None
    seen = idempotency.claim(engine, "bu.officer1", "key-00000001", "f1", "POST /x")
    assert seen is not None and seen.answer is None and seen.fingerprint == "f1"
    # Another person's key of the same name is theirs.
    assert idempotency.claim(engine, "jcrg.chair", "key-00000001", "f2", "POST /y") is None

    first = idempotency.Answer(200, {"content-type": "application/json"}, b'{"ok": 1}')
    idempotency.answer(engine, "bu.officer1", "key-00000001", first)
    idempotency.answer(engine, "bu.officer1", "key-00000001", idempotency.Answer(409, {}, b"later"))
    seen = idempotency.claim(engine, "bu.officer1", "key-00000001", "f1", "POST /x")
    assert seen is not None and seen.answer == first

    with engine.begin() as connection:
        connection.execute(
            update(IdempotencyRow)
            .where(IdempotencyRow.owner == "jcrg.chair")
            .values(created_at=datetime.now(UTC) - timedelta(days=8))
        )
    assert idempotency.forget_old(engine) == 1
    with engine.connect() as connection:
        left = connection.execute(select(IdempotencyRow.owner)).scalars().all()
    assert left == ["bu.officer1"]
    engine.dispose()


def test_a_workflows_audit_entry_is_written_once_by_its_key_and_the_chain_holds(database_url):
    migrate(database_url)
    engine = make_engine(database_url)
    at = datetime(2026, 6, 12, 11, tzinfo=UTC)
    entry = AuditEntry(
        at=at + timedelta(days=170),
        occurred_at=at,
        user_id="police.lead",
        role="safeguarding_partner",
        partnership="luton",
        action="POST /cases/{reference}/sign-offs",
        case_reference="LSCP-1",
        outcome="accepted",
        status_code=200,
        reason="Agreed.",
        entry_key="luton/case-LSCP-1/key-abc",
    )
    append(
        engine,
        AuditEntry(at=at, user_id="x", role="manager", action="GET /cases", outcome="read", status_code=200),
    )
    with engine.begin() as connection:
        assert append_in(connection, entry) is not None
    for _ in range(2):  # a retried write finds it there
        with engine.begin() as connection:
            assert append_in(connection, entry) is None
    with engine.connect() as connection:
        count = connection.execute(
            select(func.count()).select_from(AuditRow).where(AuditRow.entry_key == entry.entry_key)
        ).scalar_one()
        occurred = connection.execute(
            select(AuditRow.occurred_at).where(AuditRow.entry_key == entry.entry_key)
        ).scalar_one()
    assert count == 1 and occurred == at
    assert verify(engine).ok
    engine.dispose()
