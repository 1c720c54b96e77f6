"""The audit log: every decision, task completion, read of a full case record and refused attempt, in an
append-only table where each entry carries the hash of the one before. Altering or removing an entry
breaks the chain from that entry on, and ``verify`` names the first entry at fault.

The chain alone can be recomputed by anyone who can write to the database. Each entry's hash is also
sealed: signed (HMAC-SHA256) with the audit key, which is kept outside the database (``SLL_AUDIT_KEY``):
a chain recomputed without it has seals that do not match. The database refuses UPDATE, DELETE and (on
PostgreSQL) TRUNCATE of the table; the service's own role should hold only INSERT and SELECT on it.

    python -m safeguarding audit verify          (exit 0 if the chain holds, 1 and the entry if not)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import sys
import time
from datetime import UTC, datetime
from functools import lru_cache

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from safeguarding.domain.partnerships import FIRST_PARTNERSHIP
from safeguarding.store.engine import make_engine
from safeguarding.store.tables import AuditRow

GENESIS = "0" * 64

AUDIT_LOCK = 0x5AFE_A0D1  # PostgreSQL advisory lock held while an entry is appended


class AuditEntry(BaseModel):
    at: datetime
    user_id: str
    role: str
    agency: str | None = None
    # The partnership the attempt was in (none on entries written before partnerships were kept
    # apart: those were all Luton's, and their hashes are kept as they were written).
    partnership: str | None = None
    action: str
    case_reference: str | None = None
    outcome: str  # accepted, refused, denied, read
    status_code: int
    reason: str | None = None
    # When the step truly happened, if the person said so (``at`` is when it was recorded).
    occurred_at: datetime | None = None
    # An accepted step's entry, written by its workflow: the key (workflow and update) that makes a
    # retried write find the entry already there.
    entry_key: str | None = None


# Fields added after entries were first written: left out of the hash when empty, so that the entries
# written before them keep their hashes.
_HASHED_WHEN_SET = ("partnership", "occurred_at", "entry_key")


class AuditRecord(AuditEntry):
    id: int
    prev_hash: str
    hash: str
    seal: str | None = None


@lru_cache
def _seal_key() -> bytes:
    from safeguarding.platform.settings import get_settings

    return get_settings().audit_seal_key()


def seal_of(digest: str, key: bytes | None = None) -> str:
    """An entry's hash signed with the audit key (kept outside the database)."""
    return hmac.new(key or _seal_key(), digest.encode(), hashlib.sha256).hexdigest()


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    content = entry.model_dump(mode="json")
    for field in _HASHED_WHEN_SET:
        if content[field] is None:  # an entry from before the field hashes as it was written
            del content[field]
    canonical = json.dumps(
        {"prev": prev_hash, **content},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def append(engine: Engine, entry: AuditEntry, attempts: int = 50) -> AuditRecord:
    """Add an entry at the end of the chain, in a transaction of its own."""
    for attempt in range(attempts):
        try:
            with engine.begin() as connection:
                record = append_in(connection, entry)
        except IntegrityError:
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))
            continue
        except OperationalError:
            if engine.dialect.name != "sqlite":
                raise  # the database is down: the caller answers 503
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # another writer went first
            continue
        assert record is not None  # an entry without a key is always written
        return record
    raise RuntimeError("could not append to the audit log: too much contention")


def append_in(connection: Connection, entry: AuditEntry) -> AuditRecord | None:
    """Add an entry at the end of the chain inside the caller's transaction (a workflow's step is
    written with its read-model changes). An entry whose key is already there is not written again
    (None). On PostgreSQL writers queue on a lock; elsewhere (SQLite serialises writes itself) a writer
    that loses the race to the same place gets an IntegrityError, and its transaction is tried again."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK})
    if entry.entry_key is not None:
        there = select(AuditRow.id).where(AuditRow.entry_key == entry.entry_key)
        if connection.execute(there).first() is not None:
            return None
    last = connection.execute(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)).scalar()
    prev = last or GENESIS
    digest = entry_hash(prev, entry)
    sealed = seal_of(digest)
    new_id = connection.execute(
        AuditRow.__table__.insert().returning(AuditRow.id),
        {**entry.model_dump(), "prev_hash": prev, "hash": digest, "seal": sealed},
    ).scalar_one()
    return AuditRecord(**entry.model_dump(), id=new_id, prev_hash=prev, hash=digest, seal=sealed)


def entries(
    engine: Engine,
    *,
    partnerships: list[str] | None,
    after_id: int = 0,
    limit: int = 1000,
    case_reference: str | None = None,
) -> list[AuditRecord]:
    """The entries of these partnerships (an entry from before partnerships were kept apart is
    Luton's; None: every entry, as the chain is checked), oldest first."""
    query = select(AuditRow).where(AuditRow.id > after_id).order_by(AuditRow.id).limit(limit)
    if partnerships is not None:
        scope = AuditRow.partnership.in_(partnerships)
        if FIRST_PARTNERSHIP in partnerships:
            scope = scope | AuditRow.partnership.is_(None)
        query = query.where(scope)
    if case_reference is not None:
        query = query.where(AuditRow.case_reference == case_reference)
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return [AuditRecord(**{k: row[k] for k in AuditRecord.model_fields}) for row in rows]


class ChainCheck(BaseModel):
    ok: bool
    entries: int
    first_bad_id: int | None = None
    problem: str | None = None


def verify(engine: Engine, key: bytes | None = None) -> ChainCheck:
    """Walk the chain from the start; the first entry whose hash, link or seal does not hold is named."""
    prev, count, after = GENESIS, 0, 0
    while True:
        batch = entries(engine, partnerships=None, after_id=after, limit=5000)
        if not batch:
            return ChainCheck(ok=True, entries=count)
        for record in batch:
            if record.prev_hash != prev:
                return ChainCheck(
                    ok=False,
                    entries=count,
                    first_bad_id=record.id,
                    problem="does not follow the entry before it (one was removed or altered)",
                )
            if entry_hash(prev, AuditEntry(**record.model_dump())) != record.hash:
                return ChainCheck(
                    ok=False,
                    entries=count,
                    first_bad_id=record.id,
                    problem="its content does not match its hash (it was altered)",
                )
            if record.seal is None or not hmac.compare_digest(record.seal, seal_of(record.hash, key)):
                return ChainCheck(
                    ok=False,
                    entries=count,
                    first_bad_id=record.id,
                    problem="its seal does not match: the chain from here was written or recomputed "
                    "without the service's audit key",
                )
            prev, count, after = record.hash, count + 1, record.id


def main(argv: list[str] | None = None) -> int:
    from safeguarding.platform.settings import get_settings

    args = argv if argv is not None else sys.argv[1:]
    if args != ["verify"]:
        print("usage: python -m safeguarding audit verify", file=sys.stderr)
        return 2
    engine = make_engine(get_settings().database_url)
    result = verify(engine)
    if result.ok:
        print(f"audit chain intact: {result.entries} entries")
        return 0
    print(
        f"audit chain broken at entry {result.first_bad_id}: {result.problem} ({result.entries} entries before it hold)"
    )
    return 1


def now() -> datetime:
    return datetime.now(UTC)
