"""The database: an engine for the read model's URL (SQLite by default, PostgreSQL in production), the
Alembic migrations that own the schema, and one INSERT that understands both dialects' upserts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Written once and read for ever: the service's role may add to them and read them, nothing more.
APPEND_ONLY_TABLES = ("audit_log", "case_events")


def dialect_insert(bind: Engine | Connection, table: Any) -> Any:
    """INSERT with the dialect's ON CONFLICT support (PostgreSQL and SQLite share the API)."""
    return (postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert)(table)


def make_engine(url: str) -> Engine:
    # A database error's text names its statement, never the values bound to it (a reason, a summary):
    # errors reach logs and activity failures.
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    # A database that cannot be reached is said so within seconds (503), not after the OS gives up.
    return create_engine(
        url, pool_pre_ping=True, pool_timeout=10, connect_args={"connect_timeout": 5}, hide_parameters=True
    )


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the latest schema (idempotent)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


def prepare_schema(url: str, *, migrate_at_start: bool) -> None:
    """At the API's or the worker's start: migrate (the embedded default), or only check the schema is
    current, as the service's role that cannot change it (a deployment with its own migration step)."""
    if migrate_at_start:
        migrate(url)
        return
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    if current != head:
        raise SchemaNotCurrent(
            f"the read model's schema is at {current or 'nothing'}, not {head}: run the migration step "
            "(python -m safeguarding.store.migration) before starting the API and the workers"
        )


class SchemaNotCurrent(RuntimeError):
    """The schema is behind this release, and this process may not change it."""


def grant_service_role(owner_url: str, role: str) -> None:
    """Give the service's PostgreSQL role, which owns nothing, what it needs on the schema ``owner_url``
    owns: rows to read and write, the append-only tables to read and add to only, the schema's version
    to read (the service checks it at start). Run after every migration, so new tables are covered."""
    engine = make_engine(owner_url)
    if engine.dialect.name != "postgresql":
        raise ValueError("a separate service role is a PostgreSQL arrangement")
    quoted = engine.dialect.identifier_preparer.quote
    who = quoted(role)
    try:
        with engine.begin() as connection:
            database = connection.execute(text("SELECT current_database()")).scalar_one()
            for statement in (
                f"GRANT CONNECT ON DATABASE {quoted(database)} TO {who}",
                f"GRANT USAGE ON SCHEMA public TO {who}",
                f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {who}",
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {who}",
                f"REVOKE UPDATE, DELETE ON {', '.join(map(quoted, APPEND_ONLY_TABLES))} FROM {who}",
                f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {who}",
                f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {who}",
            ):
                connection.execute(text(statement))
    finally:
        engine.dispose()
