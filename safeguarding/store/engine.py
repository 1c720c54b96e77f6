"""The database: an engine for the read model's URL (SQLite by default, PostgreSQL in production), the
Alembic migrations that own the schema, and one INSERT that understands both dialects' upserts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


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
