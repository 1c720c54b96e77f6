"""The schema is owned by Alembic, and starting the API and the worker together is safe."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa

from safeguarding.store.tables import Base


@pytest.mark.postgres
def test_api_and_worker_migrating_at_the_same_moment_leave_one_schema(postgres_server: str) -> None:
    import uuid

    import psycopg

    name = f"sll_migrate_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = postgres_server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    try:
        starts = [
            subprocess.Popen(
                [sys.executable, "-c", f"from safeguarding.store.engine import migrate; migrate({url!r})"]
            )
            for _ in range(4)
        ]
        assert [process.wait(timeout=120) for process in starts] == [0, 0, 0, 0]
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
        assert set(Base.metadata.tables) <= set(sa.inspect(engine).get_table_names())
        engine.dispose()
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_migrations_build_exactly_the_tables_the_code_maps(sqlite_url: str) -> None:
    engine = sa.create_engine(sqlite_url)
    inspector = sa.inspect(engine)
    for table in Base.metadata.tables.values():
        migrated = {c["name"] for c in inspector.get_columns(table.name)}
        assert migrated == {c.name for c in table.columns}, table.name
    engine.dispose()
