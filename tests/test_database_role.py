"""The service's database role on a real PostgreSQL: the schema is migrated by its owner, and the role the
API and the worker connect as owns nothing, is no superuser, and may only read and add to the audit log.

A role that could UPDATE, DELETE or TRUNCATE would meet the append-only triggers; these tests ask for the
refusal that comes first, the missing privilege, so that they fail if the grants were too broad.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import errors, sql

from safeguarding.platform.settings import Settings
from safeguarding.store.audit import AuditEntry, append, verify
from safeguarding.store.engine import APPEND_ONLY_TABLES, make_engine, migrate
from safeguarding.store.migration import migrate_and_grant


@dataclass(frozen=True)
class Deployment:
    database: str
    owner: str
    service_role: str
    owner_url: str
    service_url: str
    admin_url: str

    def connect_as_service(self) -> psycopg.Connection:
        return psycopg.connect(self.service_url.replace("postgresql+psycopg://", "postgresql://"))


@pytest.fixture
def deployment(postgres_server: str) -> Iterator[Deployment]:
    """A fresh database owned by a schema-owner role (no superuser), and a service role with a password,
    as deploy/postgres-init.sh makes them; all three dropped afterwards."""
    tag = uuid.uuid4().hex[:10]
    database, owner, service_role = f"sll_role_{tag}", f"sll_owner_{tag}", f"sll_service_{tag}"
    password = secrets.token_urlsafe(16)
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        for role in (owner, service_role):
            admin.execute(
                sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
        admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(*map(sql.Identifier, (database, owner))))
    server = postgres_server.split("://", 1)[1].rsplit("@", 1)[-1].rsplit("/", 1)[0]
    yield Deployment(
        database=database,
        owner=owner,
        service_role=service_role,
        owner_url=f"postgresql+psycopg://{owner}:{password}@{server}/{database}",
        service_url=f"postgresql+psycopg://{service_role}:{password}@{server}/{database}",
        admin_url=postgres_server,
    )
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        for role in (service_role, owner):
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture
def migrated(deployment: Deployment) -> Deployment:
    """The deployment's migration step: as the owner, then the service role granted its rights."""
    settings = Settings(database_url=deployment.service_url, migration_database_url=deployment.owner_url)
    assert migrate_and_grant(settings) == deployment.service_role
    return deployment


def audit_entry() -> AuditEntry:
    return AuditEntry(
        at=datetime(2026, 12, 1, 9, tzinfo=UTC),
        user_id="bu-1",
        role="business_unit",
        action="POST /cases/{reference}/screening",
        case_reference="LSCP-1",
        outcome="accepted",
        status_code=200,
        reason="Screened in",
    )


def test_the_service_role_adds_to_and_reads_the_audit_log_through_the_services_own_code(migrated):
    engine = make_engine(migrated.service_url)
    try:
        append(engine, audit_entry())
        append(engine, audit_entry())
        result = verify(engine)
        assert result.ok and result.entries == 2, result
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET id = id",
        "DELETE FROM {table}",
        "TRUNCATE {table}",
    ],
)
@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_the_service_role_may_not_change_or_empty_the_append_only_tables(migrated, table, statement):
    with migrated.connect_as_service() as connection:
        with pytest.raises(errors.InsufficientPrivilege, match=f"permission denied for table {table}"):
            connection.execute(statement.format(table=table))


def test_the_service_role_may_not_change_the_schema(migrated):
    with migrated.connect_as_service() as connection:
        with pytest.raises(errors.InsufficientPrivilege):
            connection.execute("CREATE TABLE mine (id int)")
        connection.rollback()
        with pytest.raises(errors.InsufficientPrivilege, match="must be owner"):
            connection.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
        connection.rollback()
        with pytest.raises(errors.InsufficientPrivilege, match="permission denied for table alembic_version"):
            connection.execute("UPDATE alembic_version SET version_num = '0001'")


def test_the_service_role_is_neither_superuser_nor_owner(migrated):
    with psycopg.connect(migrated.admin_url) as admin:
        superuser, creates_roles, creates_databases = admin.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = %s",
            (migrated.service_role,),
        ).fetchone()
        assert not (superuser or creates_roles or creates_databases)
    with psycopg.connect(migrated.admin_url.rsplit("/", 1)[0] + f"/{migrated.database}") as admin:
        database_owner = admin.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        ).fetchone()[0]
        assert database_owner == migrated.owner
        owned = admin.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = %s",
            (migrated.service_role,),
        ).fetchall()
        assert owned == []
        tables = {
            row[0] for row in admin.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        assert {"audit_log", "case_events", "cases", "alembic_version"} <= tables
        # Not the owner through membership either: it cannot act as the owner role.
        assert not admin.execute(
            "SELECT pg_has_role(%s, %s, 'MEMBER')", (migrated.service_role, migrated.owner)
        ).fetchone()[0]


def test_the_service_reads_and_writes_the_other_tables_as_its_work_needs(migrated):
    with migrated.connect_as_service() as connection:
        connection.execute(
            "INSERT INTO idempotency_keys (owner, key, fingerprint, request, created_at) "
            "VALUES ('bu-1', 'k', 'f', 'POST /cases', now())"
        )
        connection.execute("UPDATE idempotency_keys SET status_code = 201 WHERE key = 'k'")
        assert connection.execute("DELETE FROM idempotency_keys WHERE key = 'k'").rowcount == 1
        # Emptying a table wholesale is no part of the service's work, on any table.
        with pytest.raises(errors.InsufficientPrivilege):
            connection.execute("TRUNCATE cases")


def test_the_service_starting_as_its_own_role_finds_the_schema_up_to_date(migrated):
    """The API and the worker run migrate() at start with their own URL: nothing to do, nothing refused."""
    migrate(migrated.service_url)


def test_one_url_for_both_migrates_and_grants_nothing(postgres_url):
    assert migrate_and_grant(Settings(database_url=postgres_url)) is None
