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


def test_a_process_that_may_not_migrate_refuses_to_start_on_a_schema_behind_this_release(tmp_path):
    """With a migration step of its own (SLL_MIGRATE_AT_START=false), the API and the workers only check
    the schema: behind this release they stop with the reason, and create nothing."""
    from sqlalchemy import inspect as inspected

    from safeguarding.store.engine import SchemaNotCurrent, make_engine, migrate, prepare_schema

    url = f"sqlite:///{tmp_path / 'read-model.sqlite'}"
    with pytest.raises(SchemaNotCurrent, match="run the migration step"):
        prepare_schema(url, migrate_at_start=False)
    engine = make_engine(url)
    assert inspected(engine).get_table_names() == []  # nothing was created
    engine.dispose()
    migrate(url)
    prepare_schema(url, migrate_at_start=False)  # current: starts
