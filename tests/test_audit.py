"""The audit log's chain: it verifies while untouched, and an altered or removed entry is named."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from safeguarding.store.audit import AuditEntry, append, entries, verify
from safeguarding.store.engine import make_engine


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


def tamper(engine, statement: str) -> None:
    """What someone with direct database access might do: lift the guard, change a row."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
            connection.execute(text(statement))
            connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))
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
