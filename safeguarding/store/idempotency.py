"""Requests sent with an ``Idempotency-Key``: the first is kept with its answer, and the same request
again (the same person, key, method, path and body) gets that answer without taking its step again.

A key whose first attempt has no answer yet (still running, or cut off by a timeout or an outage) is
let through again with the same update id, and Temporal, which deduplicates updates by id, answers it
with the step's one outcome. A key sent with another request is a conflict, never a second step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select, update

from safeguarding.store.engine import dialect_insert
from safeguarding.store.tables import IdempotencyRow

# How long an answer is kept: a client may retry for at least a day (a week here).
KEPT_FOR = timedelta(days=7)


@dataclass(frozen=True)
class Answer:
    status_code: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Seen:
    """What the key was first used for, and its answer if it has one."""

    fingerprint: str
    request: str
    created_at: datetime
    answer: Answer | None


def claim(engine: Engine, owner: str, key: str, fingerprint: str, request: str) -> Seen | None:
    """Record the key's first use; None if this is it, else what it was first used for."""
    now = datetime.now(UTC)
    with engine.begin() as connection:
        inserted = connection.execute(
            dialect_insert(engine, IdempotencyRow)
            .on_conflict_do_nothing(index_elements=["owner", "key"])
            .returning(IdempotencyRow.key),
            {"owner": owner, "key": key, "fingerprint": fingerprint, "request": request, "created_at": now},
        ).first()
        if inserted is not None:
            return None
        table = IdempotencyRow.__table__
        row = (
            connection.execute(select(table).where(table.c.owner == owner, table.c.key == key))
            .mappings()
            .one()
        )
        status_code = row["status_code"]
        answer = (
            Answer(status_code, row["headers"] or {}, row["body"] or b"") if status_code is not None else None
        )
        return Seen(row["fingerprint"], row["request"], row["created_at"], answer)


def answer(engine: Engine, owner: str, key: str, given: Answer) -> None:
    """Keep the first answer (a later one, from a retry that raced it, does not replace it)."""
    with engine.begin() as connection:
        connection.execute(
            update(IdempotencyRow)
            .where(
                IdempotencyRow.owner == owner,
                IdempotencyRow.key == key,
                IdempotencyRow.status_code.is_(None),
            )
            .values(status_code=given.status_code, headers=given.headers, body=given.body)
        )


def forget_old(engine: Engine, now: datetime | None = None) -> int:
    """Remove keys older than ``KEPT_FOR``; how many."""
    cutoff = (now or datetime.now(UTC)) - KEPT_FOR
    with engine.begin() as connection:
        return connection.execute(delete(IdempotencyRow).where(IdempotencyRow.created_at < cutoff)).rowcount
