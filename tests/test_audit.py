"""The audit log's chain: it verifies while untouched, and an altered or removed entry is named."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from safeguarding.store.audit import AuditEntry, append, entries, entry_hash, verify
from safeguarding.store.engine import make_engine, migrate


def entry(n: int) -> AuditEntry:
    return AuditEntry(
        at=datetime(2026, 12, 1, 9, tzinfo=UTC) + timedelta(minutes=n),
        user_id=f"user{n % 3}",
        role="business_unit",
        action="POST /cases/{reference}/screening",
        case_reference="LSCP-1",
        outcome="accepted",
        status_code=200,
        reason=f"Reason number {n}",
    )


def tamper(engine, *statements: str) -> None:
    """What someone with direct database access might do: lift the guard, change a row."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
            for statement in statements:
                connection.execute(text(statement))
            connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))
            for statement in statements:
                connection.execute(text(statement))


def test_the_chain_verifies_and_names_the_first_altered_entry(database_url):
    engine = make_engine(database_url)
    records = [append(engine, entry(n)) for n in range(10)]
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]
    assert verify(engine).ok and verify(engine).entries == 10

    tamper(engine, f"UPDATE audit_log SET reason = 'Nothing to see' WHERE id = {records[6].id}")
    result = verify(engine)
    assert not result.ok and result.first_bad_id == records[6].id and "altered" in result.problem
    assert result.entries == 6
    engine.dispose()


def test_a_removed_entry_breaks_the_chain_at_the_next_one(database_url):
    engine = make_engine(database_url)
    records = [append(engine, entry(n)) for n in range(5)]
    tamper(engine, f"DELETE FROM audit_log WHERE id = {records[2].id}")
    result = verify(engine)
    assert not result.ok and result.first_bad_id == records[3].id and "removed" in result.problem
    engine.dispose()


def test_the_database_refuses_to_change_or_delete_an_entry(database_url):
    engine = make_engine(database_url)
    record = append(engine, entry(1))
    for statement in (
        f"UPDATE audit_log SET reason = 'x' WHERE id = {record.id}",
        f"DELETE FROM audit_log WHERE id = {record.id}",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    assert entries(engine, partnerships=None)[0].reason == "Reason number 1"
    engine.dispose()


def test_concurrent_writers_keep_one_unbroken_chain(database_url):
    from concurrent.futures import ThreadPoolExecutor

    engine = make_engine(database_url)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: append(engine, entry(n)), range(60)))
    result = verify(engine)
    assert result.ok and result.entries == 60
    engine.dispose()


def test_the_verify_command_reports_the_broken_entry(sqlite_url):
    engine = make_engine(sqlite_url)
    records = [append(engine, entry(n)) for n in range(3)]
    command = [sys.executable, "-m", "safeguarding", "audit", "verify"]
    environment = {"SLL_DATABASE_URL": sqlite_url, "PATH": "/usr/bin:/bin"}
    intact = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    assert intact.returncode == 0 and "3 entries" in intact.stdout
    tamper(engine, f"UPDATE audit_log SET user_id = 'someone.else' WHERE id = {records[1].id}")
    broken = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    assert broken.returncode == 1 and f"entry {records[1].id}" in broken.stdout
    engine.dispose()


def test_a_chain_recomputed_without_the_audit_key_is_detected_by_its_seals(database_url):
    engine = make_engine(database_url)
    records = [append(engine, entry(n)) for n in range(5)]
    # Someone with database access changes an entry and recomputes every hash after it: the chain
    # itself holds again, but they cannot sign the new hashes without the audit key.
    prev = records[1].hash
    statements = []
    for record in records[2:]:
        content = AuditEntry(**record.model_dump())
        if record.id == records[2].id:
            content.reason = "Nothing to see"
        digest = entry_hash(prev, content)
        statements.append(
            f"UPDATE audit_log SET reason = '{content.reason}', prev_hash = '{prev}', hash = '{digest}' "
            f"WHERE id = {record.id}"
        )
        prev = digest
    tamper(engine, *statements)
    result = verify(engine)
    assert not result.ok and result.first_bad_id == records[2].id and "seal" in result.problem, result
    assert result.entries == 2  # the two before it hold
    engine.dispose()


def test_postgresql_refuses_to_truncate_the_audit_log_or_the_event_log(postgres_url):
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    append(engine, entry(1))
    for table in ("audit_log", "case_events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {table}"))
    assert verify(engine).entries == 1
    engine.dispose()


def test_entries_written_before_the_seal_are_sealed_by_the_migration(tmp_path):
    from alembic import command
    from alembic.config import Config

    from safeguarding.store.engine import MIGRATIONS_DIR

    # A database at the schema before the seal, holding entries written then.
    url = f"sqlite:///{tmp_path / 'before-the-seal.sqlite'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["configure_logging"] = False
    command.upgrade(config, "0010")
    engine = make_engine(url)
    prev = "0" * 64
    with engine.begin() as connection:
        for n in range(3):
            written = entry(n)
            digest = entry_hash(prev, written)
            connection.execute(
                text(
                    "INSERT INTO audit_log (at, user_id, role, action, case_reference, outcome, status_code, "
                    "reason, prev_hash, hash) VALUES (:at, :user_id, :role, :action, :case_reference, :outcome, "
                    ":status_code, :reason, :prev, :hash)"
                ),
                {
                    **written.model_dump(exclude={"agency", "partnership", "occurred_at", "entry_key"}),
                    "prev": prev,
                    "hash": digest,
                },
            )
            prev = digest
    command.upgrade(config, "head")
    result = verify(engine)
    assert result.ok and result.entries == 3, result
    append(engine, entry(3))
    assert verify(engine).entries == 4
    engine.dispose()
