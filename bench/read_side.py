"""The read side at scale: every dashboard page and API list, the yearly figures and the closing-the-loop
report, on a read model seeded with 1,000 and 10,000 cases, on SQLite (the embedded default) and on
PostgreSQL. Requests go through the whole app (authentication, the query, the page) in process.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from statistics import median, quantiles

import httpx
import psycopg

from api.app import create_app
from api.pages import SESSION_COOKIE
from bench.seed import seed_read_model, utc_now
from safeguarding.domain.people import Role
from safeguarding.platform.identity import mint_local_token
from safeguarding.platform.settings import Settings
from safeguarding.queries.closing_the_loop import closing_the_loop_figures
from safeguarding.queries.yearly_figures import yearly_figures
from safeguarding.store.directory import seed as seed_directory
from safeguarding.store.engine import make_engine, migrate

POSTGRES_ADMIN_URL = os.environ.get("SLL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")

# What is read, and how (a dashboard page with the session cookie, an API list with the bearer token).
PAGES = [
    ("dashboard: cases, first page", "/dashboard"),
    ("dashboard: cases, page 100", "/dashboard?page=100"),
    ("dashboard: overdue work", "/dashboard/overdue"),
    ("dashboard: one case", "/dashboard/cases/BENCH-000001"),
    ("GET /cases", "/cases"),
    ("GET /cases deep offset", "/cases?offset=9000&limit=100"),
    ("GET /cases?overdue=true", "/cases?overdue=true"),
    ("GET /tasks (an agency's open)", "/tasks?agency=luton-schools"),
    ("GET /tasks, a page of 100", "/tasks?agency=luton-schools&limit=100&offset=1000"),
]


def percentile(samples: list[float], p: int) -> float:
    if len(samples) < 2:
        return samples[0]
    return quantiles(samples, n=100, method="inclusive")[p - 1]


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'read-model.sqlite'}"
        return
    name = f"sll_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield (
            POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            + f"/{name}"
        )
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_reachable() -> bool:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


async def measure_read_side(backend: str, cases: int, client, samples: int) -> list[dict]:  # type: ignore[no-untyped-def]
    """Seed ``cases`` into a fresh read model on ``backend``; time every page and report."""
    results = []
    with database(backend) as url, tempfile.TemporaryDirectory() as keys:
        migrate(url)
        engine = make_engine(url)
        now = utc_now()
        seeded = seed_read_model(engine, cases, now)
        seed_directory(engine, demo_mailboxes=False)
        settings = Settings(database_url=url, local_signing_key_file=Path(keys) / "local-signing.key")
        token = mint_local_token(settings, user="bench.manager", role=Role.business_unit)
        app = create_app(settings, client=client)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://bench",
                headers={"Authorization": f"Bearer {token}"},
                cookies={SESSION_COOKIE: token},
                timeout=120,
            ) as http:
                for name, path in PAGES:
                    times, size = [], 0
                    for attempt in range(samples + 1):
                        started = time.perf_counter()
                        response = await http.get(path)
                        elapsed = (time.perf_counter() - started) * 1000
                        if response.status_code != 200:
                            raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")
                        size = len(response.content)
                        if attempt:  # the first warms the caches
                            times.append(elapsed)
                    results.append(_row(backend, cases, name, times, size, target_ms=150))
        year_start = date(now.year if now.month >= 4 else now.year - 1, 4, 1)
        for name, compute in (
            ("yearly figures", lambda: yearly_figures(engine, "luton", year_start, as_of=now)),
            (
                "closing-the-loop report",
                lambda: closing_the_loop_figures(
                    engine, "luton", year_start, date(year_start.year + 1, 3, 31), as_of=now
                ),
            ),
        ):
            times = []
            for _ in range(max(3, samples // 4)):
                started = time.perf_counter()
                compute()
                times.append((time.perf_counter() - started) * 1000)
            results.append(_row(backend, cases, name, times, 0, target_ms=500))
        engine.dispose()
    results.append({"backend": backend, "cases": cases, "seeded": seeded})
    return results


def _row(backend: str, cases: int, name: str, times: list[float], size: int, target_ms: float) -> dict:
    return {
        "backend": backend,
        "cases": cases,
        "what": name,
        "p50_ms": round(median(times), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "bytes": size,
        "target_ms": target_ms,
        "met": percentile(times, 95) <= target_ms,
    }
