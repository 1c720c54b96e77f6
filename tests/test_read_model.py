"""The SQL read model and the append-only event log, on SQLite and on PostgreSQL.

The activities are called directly (no Temporal server): they are plain synchronous methods.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, inspect, select, update
from sqlalchemy.exc import DBAPIError

from activities.notices import NoticeActivities
from activities.read_model import ReadModelActivities
from safeguarding.domain.contracts import CaseChanges, CaseSummary, DeadlineNotice
from safeguarding.domain.deadlines import Deadline, DeadlineStatus
from safeguarding.domain.events import CaseEvent, EventKind
from safeguarding.domain.milestones import Milestone
from safeguarding.domain.notices import NoticeKind
from safeguarding.domain.people import Actor, Role
from safeguarding.domain.record import Stream, WorkRecord
from safeguarding.domain.rules import tasks
from safeguarding.domain.tasks import Task, TaskStatus
from safeguarding.platform.policy_files import load_policies
from safeguarding.platform.settings import get_settings
from safeguarding.queries.cases import list_cases
from safeguarding.queries.tasks import TaskListItem, list_tasks
from safeguarding.store.directory import seed
from safeguarding.store.engine import make_engine, migrate
from safeguarding.store.tables import (
    AgencyRow,
    CaseEventRow,
    CaseRow,
    DeadlineRow,
    DeliveryRow,
    NotificationRow,
    TaskRow,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# As long as a mailbox may be (254 characters): its delivery's key must still fit, on PostgreSQL too.
LONGEST_MAILBOX = f"{'m' * 64}@{'d' * 61}.{'e' * 61}.{'f' * 61}.uk"
REF = "LSCP-TEST-1"


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


# ---------------------------------------------------------------- factories


def deadline(did: str, due_at: datetime, status: DeadlineStatus = DeadlineStatus.open) -> Deadline:
    return Deadline(
        id=did,
        key=f"key-{did.lower()}",
        title=f"Deadline {did}",
        started_at=T0,
        due_at=due_at,
        met_by=Milestone.panel_notified,
        status=status,
        met_at=due_at - timedelta(hours=1) if status is DeadlineStatus.met else None,
    )


def task(ref: str, n: int, agency: str, due_at: datetime | None, **extra: object) -> Task:
    return Task(
        id=f"{ref}.T{n}", agency=agency, asked_for="A chronology", requested_at=T0, due_at=due_at, **extra
    )


@dataclass
class CaseSnapshot:
    """A case as its workflow would send it: its summary, deadlines and tasks."""

    reference: str
    summary: CaseSummary
    deadlines: list[Deadline]
    tasks: list[Task]


def snapshot(ref: str = REF, **fields: Any) -> CaseSnapshot:
    """``fields`` override stage, partnership, opened_at, deadlines, tasks..."""
    deadlines, tasks = fields.pop("deadlines", []), fields.pop("tasks", [])
    summary = {
        "stage": "screening",
        "partnership": "luton",
        "opened_at": T0,
        "outcome": None,
        "closed_at": None,
        "policy_version": "2026.1",
        "route": "serious_incident_notification",
        **fields,
    }
    return CaseSnapshot(ref, CaseSummary(**summary), deadlines, tasks)


KINDS = list(EventKind)


def event(seq: int) -> CaseEvent:
    return CaseEvent(
        seq=seq,
        kind=KINDS[seq % len(KINDS)],
        recorded_at=T0 + timedelta(minutes=seq),
        actor=Actor(user_id="bu.officer", role=Role.business_unit, agency="local-authority"),
        details={"seq": seq, "note": "non-identifying"},
    )


def changes(version: int, snap: CaseSnapshot, seqs: Sequence[int]) -> CaseChanges:
    return CaseChanges(
        version=version,
        stream="case",
        reference=snap.reference,
        workflow_id=f"case-{snap.reference}",
        events=[event(s) for s in seqs],
        deadlines=snap.deadlines,
        tasks=snap.tasks,
        case=snap.summary,
    )


def record(engine: Engine, version: int, snap: CaseSnapshot, seqs: Sequence[int] = ()) -> int:
    return ReadModelActivities(engine).record_case_changes(changes(version, snap, seqs))


def event_seqs(engine: Engine, ref: str = REF) -> list[int]:
    with engine.connect() as c:
        query = select(CaseEventRow.seq).where(CaseEventRow.case_reference == ref).order_by(CaseEventRow.seq)
        return list(c.execute(query).scalars())


def stored(engine: Engine, ref: str = REF) -> tuple[Any, list[str], list[str]]:
    """The case row, its deadline ids and its task ids."""
    with engine.connect() as c:
        case = c.execute(select(CaseRow).where(CaseRow.reference == ref)).one()
        dids = c.execute(select(DeadlineRow.deadline_id).where(DeadlineRow.case_reference == ref)).scalars()
        tids = c.execute(select(TaskRow.task_id).where(TaskRow.case_reference == ref)).scalars()
        return case, sorted(dids), sorted(tids)


# ---------------------------------------------------------------- schema and recording


def test_migrating_an_up_to_date_database_again_is_harmless(database_url: str) -> None:
    migrate(database_url)  # the fixture migrated it once already
    migrate(database_url)
    engine = make_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"cases", "deadlines", "tasks", "case_events", "notifications"} <= tables


def test_a_recorded_case_is_listed_with_its_stage_and_each_agency_sees_only_its_open_tasks(
    db: Engine,
) -> None:
    snap = snapshot(
        stage="rapid_review",
        deadlines=[deadline("D1", T0 + timedelta(days=5))],
        tasks=[
            task(REF, 1, "police", T0 + timedelta(days=9)),
            task(REF, 2, "police", T0 + timedelta(days=2)),
            task(REF, 3, "health", T0 + timedelta(days=1)),
            task(REF, 4, "police", T0 + timedelta(days=1), status=TaskStatus.completed, completed_at=T0),
        ],
    )
    assert record(db, 1, snap, [1, 2]) == 2

    [case] = list_cases(db, partnerships=["luton"], now=T0)
    assert (case.reference, case.stage, case.partnership) == (REF, "rapid_review", "luton")
    police = list_tasks(db, partnerships=["luton"], agency="police", now=T0)
    assert [t.task_id for t in police] == [f"{REF}.T2", f"{REF}.T1"]  # soonest due first, open only
    assert [t.task_id for t in list_tasks(db, partnerships=["luton"], agency="health", now=T0)] == [
        f"{REF}.T3"
    ]
    assert [
        t.task_id for t in list_tasks(db, partnerships=["luton"], agency="police", status="completed", now=T0)
    ] == [f"{REF}.T4"]
    assert event_seqs(db) == [1, 2]


def test_an_agencys_return_is_never_copied_into_the_read_model(db: Engine) -> None:
    secret = "Return text that must stay in the workflow"
    done = task(REF, 1, "police", T0, status=TaskStatus.completed, completed_at=T0, summary=secret)
    record(db, 1, snapshot(tasks=[done]))

    assert "summary" not in {col["name"] for col in inspect(db).get_columns("tasks")}
    assert "summary" not in TaskListItem.model_fields
    with db.connect() as c:
        row = c.execute(select(TaskRow)).one()
    assert row.task_id == f"{REF}.T1"
    assert all(secret not in str(value) for value in row)


def test_an_unmet_task_without_a_due_time_is_listed_after_tasks_that_are_due(db: Engine) -> None:
    tasks = [task(REF, 1, "police", None), task(REF, 2, "police", T0 + timedelta(days=3))]
    record(db, 1, snapshot(tasks=tasks))
    assert [t.task_id for t in list_tasks(db, partnerships=["luton"], agency="police", now=T0)] == [
        f"{REF}.T2",
        f"{REF}.T1",
    ]


def test_a_retried_write_records_each_event_exactly_once(db: Engine) -> None:
    same = changes(3, snapshot(deadlines=[deadline("D1", T0 + timedelta(days=1))]), [1, 2, 3])
    activities = ReadModelActivities(db)
    assert activities.record_case_changes(same) == 3
    assert activities.record_case_changes(same) == 0
    with db.connect() as c:
        assert c.execute(select(func.count()).select_from(CaseEventRow)).scalar_one() == 3
        assert c.execute(select(func.count()).select_from(DeadlineRow)).scalar_one() == 1
    assert event_seqs(db) == [1, 2, 3]


def test_a_late_older_write_keeps_the_newer_case_but_adds_its_missing_events(db: Engine) -> None:
    newer = snapshot(
        stage="rapid_review",
        deadlines=[deadline("D1", T0 + timedelta(days=1)), deadline("D2", T0 + timedelta(days=15))],
        tasks=[task(REF, 1, "police", T0 + timedelta(days=10))],
    )
    older = snapshot(stage="screening", deadlines=[deadline("D9", T0 + timedelta(days=2))])
    assert record(db, 6, newer, [2, 3]) == 2
    assert record(db, 5, older, [1, 2]) == 1  # event 1 was not stored yet; event 2 was

    case, dids, tids = stored(db)
    assert (case.version, case.stage) == (6, "rapid_review")
    assert (dids, tids) == (["D1", "D2"], [f"{REF}.T1"])
    assert case.next_due_at == T0 + timedelta(days=1)
    assert event_seqs(db) == [1, 2, 3]


def test_the_event_log_refuses_updates_and_deletes(db: Engine) -> None:
    record(db, 1, snapshot(), [1])
    before = event_seqs(db)
    with pytest.raises(DBAPIError, match="append-only"), db.begin() as c:
        c.execute(update(CaseEventRow).where(CaseEventRow.seq == 1).values(kind="rewritten", reasons="x"))
    with pytest.raises(DBAPIError, match="append-only"), db.begin() as c:
        c.execute(delete(CaseEventRow).where(CaseEventRow.case_reference == REF))
    with db.connect() as c:
        row = c.execute(select(CaseEventRow)).one()
    assert event_seqs(db) == before == [1]
    assert (row.kind, row.reasons, row.details) == (KINDS[1], None, {"seq": 1, "note": "non-identifying"})
    actor = (row.actor_user, row.actor_role, row.actor_agency)
    assert actor == ("bu.officer", "business_unit", "local-authority")


# ---------------------------------------------------------------- listing cases


def test_a_manager_sees_which_cases_are_overdue_now(db: Engine) -> None:
    now = T0 + timedelta(days=10)
    past, future = now - timedelta(hours=1), now + timedelta(days=1)
    cases = {
        "OPEN-PAST": [deadline("D1", past), deadline("D2", future)],
        "BREACHED": [deadline("D1", past, DeadlineStatus.overdue)],
        "ALL-FUTURE": [deadline("D1", future)],
        "MET-PAST": [deadline("D1", past, DeadlineStatus.met), deadline("D2", future)],
        "CANCELLED-PAST": [deadline("D1", past, DeadlineStatus.cancelled)],
        "NO-DEADLINES": [],
    }
    for ref, deadlines in cases.items():
        record(db, 1, snapshot(ref, deadlines=deadlines))

    overdue = list_cases(db, partnerships=["luton"], overdue=True, now=now)
    assert sorted(c.reference for c in overdue) == ["BREACHED", "OPEN-PAST"]
    assert all(c.overdue for c in overdue)
    on_time = list_cases(db, partnerships=["luton"], overdue=False, now=now)
    assert {c.reference for c in on_time} == {"ALL-FUTURE", "CANCELLED-PAST", "MET-PAST", "NO-DEADLINES"}
    assert not any(c.overdue for c in on_time)
    # A minute before those deadlines fell due, neither case was overdue.
    assert list_cases(db, partnerships=["luton"], overdue=True, now=past - timedelta(minutes=1)) == []


def test_cases_can_be_filtered_by_stage_and_by_partnership(db: Engine) -> None:
    record(db, 1, snapshot("CASE-A", stage="screening", partnership="luton"))
    record(db, 1, snapshot("CASE-B", stage="rapid_review", partnership="luton"))
    record(db, 1, snapshot("CASE-C", stage="rapid_review", partnership="north-shire"))

    both = ["luton", "north-shire"]
    assert [c.reference for c in list_cases(db, partnerships=both, stage="screening", now=T0)] == ["CASE-A"]
    in_both = list_cases(db, partnerships=both, stage="rapid_review", now=T0)
    assert sorted(c.reference for c in in_both) == ["CASE-B", "CASE-C"]
    assert [c.reference for c in list_cases(db, partnerships=["north-shire"], now=T0)] == ["CASE-C"]
    in_luton = list_cases(db, partnerships=["luton"], stage="rapid_review", now=T0)
    assert [c.reference for c in in_luton] == ["CASE-B"]


def test_cases_page_newest_opened_first(db: Engine) -> None:
    refs = [f"CASE-{n}" for n in range(5)]
    for n, ref in enumerate(refs):  # written out of order so insertion order cannot pass for sorting
        record(db, 1, snapshot(ref, opened_at=T0 + timedelta(days=(n * 3) % 5)))
    expected = sorted(refs, key=lambda r: (refs.index(r) * 3) % 5, reverse=True)
    pages = [list_cases(db, partnerships=["luton"], limit=2, offset=offset, now=T0) for offset in (0, 2, 4)]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [c.reference for page in pages for c in page] == expected
    assert list_cases(db, partnerships=["luton"], limit=2, offset=5, now=T0) == []


def test_next_due_is_the_earliest_deadline_still_to_be_met(db: Engine) -> None:
    d3 = deadline("D3", T0 + timedelta(days=7))
    met, cancelled = DeadlineStatus.met, DeadlineStatus.cancelled
    gone = [deadline("D1", T0 + timedelta(days=1), met), deadline("D2", T0 + timedelta(days=2), cancelled)]
    record(
        db, 1, snapshot(deadlines=[*gone, d3, deadline("D4", T0 + timedelta(days=4), DeadlineStatus.overdue)])
    )
    record(db, 1, snapshot("ALL-MET", deadlines=[deadline("D1", T0, DeadlineStatus.met)]))
    by_ref = {c.reference: c for c in list_cases(db, partnerships=["luton"], now=T0)}
    assert by_ref[REF].next_due_at == T0 + timedelta(days=4)
    assert by_ref["ALL-MET"].next_due_at is None
    # Once D4 is met, the next one due is D3.
    record(db, 2, snapshot(deadlines=[*gone, d3, deadline("D4", T0 + timedelta(days=4), met)]))
    assert stored(db)[0].next_due_at == T0 + timedelta(days=7)


# ---------------------------------------------------------------- notices and timestamps


def notice(key: str) -> DeadlineNotice:
    return DeadlineNotice(
        idempotency_key=key,
        case_reference=REF,
        kind="reminder",
        deadline_id="D1",
        deadline_key="key-d1",
        deadline_title="Deadline D1",
        subject=None,
        due_at=T0,
        recipients=["business_unit"],
    )


def test_a_reminder_is_queued_once_however_often_it_is_dispatched(db: Engine) -> None:
    seed(db)
    with db.begin() as c:
        c.execute(
            update(AgencyRow)
            .where(AgencyRow.code == "lscp-business-unit")
            .values(mailboxes=["bu@lscp.example", LONGEST_MAILBOX])
        )
    activities = NoticeActivities(db)
    assert activities.dispatch_notice(notice(f"{REF}:D1:reminder:0")) is True
    assert activities.dispatch_notice(notice(f"{REF}:D1:reminder:0")) is False
    assert activities.dispatch_notice(notice(f"{REF}:D1:reminder:1")) is True
    with db.connect() as c:
        rows = c.execute(select(NotificationRow).order_by(NotificationRow.id)).all()
        deliveries = c.execute(
            select(DeliveryRow.notification_id, DeliveryRow.agency, DeliveryRow.address).order_by(
                DeliveryRow.id
            )
        ).all()
    assert [r.idempotency_key for r in rows] == [f"{REF}:D1:reminder:0", f"{REF}:D1:reminder:1"]
    assert [r.number for r in rows] == [0, 1]
    assert all(r.status == "queued" and r.recipients == ["business_unit"] for r in rows)
    # Each reminder to each of the Business Unit's mailboxes, once; nobody else.
    assert deliveries == [
        (rows[0].id, "lscp-business-unit", "bu@lscp.example"),
        (rows[0].id, "lscp-business-unit", LONGEST_MAILBOX),
        (rows[1].id, "lscp-business-unit", "bu@lscp.example"),
        (rows[1].id, "lscp-business-unit", LONGEST_MAILBOX),
    ]


def test_a_notice_for_nobody_in_the_directory_says_so(db: Engine) -> None:
    NoticeActivities(db).dispatch_notice(notice(f"{REF}:D1:reminder:0"))
    with db.connect() as c:
        assert c.execute(select(NotificationRow.status)).scalar_one() == "no_recipients"
        assert c.execute(select(func.count()).select_from(DeliveryRow)).scalar_one() == 0


def test_times_read_back_are_utc_and_the_same_instant_as_written(db: Engine) -> None:
    plus_one = timezone(timedelta(hours=1))
    opened = datetime(2026, 3, 2, 10, 30, tzinfo=plus_one)  # 09:30 UTC
    due = datetime(2026, 3, 9, 17, 0, tzinfo=plus_one)
    record(db, 1, snapshot(opened_at=opened, deadlines=[deadline("D1", due)]), [1])

    [case] = list_cases(db, partnerships=["luton"], now=T0)
    with db.connect() as c:
        due_back = c.execute(select(DeadlineRow.due_at)).scalar_one()
        recorded_back = c.execute(select(CaseEventRow.recorded_at)).scalar_one()
    pairs = [(opened, case.opened_at), (due, due_back), (due, case.next_due_at)]
    for written, read in [*pairs, (T0 + timedelta(minutes=1), recorded_back)]:
        assert read is not None and read.utcoffset() == timedelta(0)
        assert read == written
    assert (case.opened_at.hour, case.opened_at.minute) == (9, 30)


# ---------------------------------------------------------------- concurrency


def test_two_concurrent_writes_end_with_the_newer_snapshot_and_every_event_once(db: Engine) -> None:
    def write(barrier: threading.Barrier, version: int, snap: CaseSnapshot, seqs: list[int]) -> int:
        barrier.wait(timeout=10)  # both threads start their transaction together
        return record(db, version, snap, seqs)

    for attempt in range(6):
        ref = f"RACE-{attempt}"
        if attempt % 2:  # half the races are on a case that already exists
            record(db, 1, snapshot(ref, stage="screening"), [1])
        v5 = snapshot(ref, stage="screening", deadlines=[deadline("D1", T0 + timedelta(days=1))])
        v6 = snapshot(
            ref,
            stage="rapid_review",
            deadlines=[
                deadline("D1", T0 + timedelta(days=1), DeadlineStatus.met),
                deadline("D2", T0 + timedelta(days=15)),
            ],
            tasks=[task(ref, 1, "police", T0 + timedelta(days=10))],
        )
        barrier = threading.Barrier(2)
        with ThreadPoolExecutor(max_workers=2) as pool:
            five = pool.submit(write, barrier, 5, v5, [1, 2, 3])
            six = pool.submit(write, barrier, 6, v6, [1, 2, 3, 4])
            new_events = five.result(timeout=60) + six.result(timeout=60)

        case, dids, tids = stored(db, ref)
        assert (case.version, case.stage) == (6, "rapid_review"), attempt
        assert (dids, tids) == (["D1", "D2"], [f"{ref}.T1"]), attempt
        assert case.next_due_at == T0 + timedelta(days=15), attempt
        assert event_seqs(db, ref) == [1, 2, 3, 4], attempt
        assert new_events == (3 if attempt % 2 else 4), attempt


def test_agencies_hear_of_a_task_once_when_assigned_redated_and_withdrawn(db: Engine) -> None:
    """The rules state who must hear (``safeguarding/domain/rules/tasks.py``); the read model's write puts
    each notice in the outbox once, with a delivery per mailbox, however often the write is retried."""
    seed(db, demo_mailboxes=True)
    due, later = T0 + timedelta(days=7), T0 + timedelta(days=14)
    case = work_record()
    school = tasks.add_task(case, "luton-schools", "information_return", "A chronology", T0)
    police = tasks.add_task(case, "bedfordshire-police", "information_return", "A chronology", T0)
    for each in (school, police):
        each.due_at = due
        tasks.announce(case, each)
    project(db, 1, case)
    project(db, 1, case)  # a retried write
    school.due_at = later
    case.notify_task(school, NoticeKind.task_redated, number=1)
    tasks.withdraw_task(case, police, BU, "No longer needed", T0)
    project(db, 2, case)
    tasks.complete_task(
        case, school, Actor(user_id="dsl", role=Role.partner_agency, agency="luton-schools"), T0
    )
    action = tasks.add_task(case, "bedfordshire-police", "action", "Train staff", T0)
    action.due_at = due
    tasks.announce(case, action)
    tasks.complete_task(case, action, Actor(user_id="jcrg.chair", role=Role.jcrg_chair), T0)
    project(db, 3, case)
    project(db, 2, case)  # a late, older write adds nothing

    with db.connect() as c:
        notices = c.execute(
            select(
                NotificationRow.kind,
                NotificationRow.task_id,
                NotificationRow.owning_agency,
                NotificationRow.due_at,
            ).order_by(NotificationRow.id)
        ).all()
        addresses = c.execute(
            select(NotificationRow.kind, DeliveryRow.address)
            .join(DeliveryRow, DeliveryRow.notification_id == NotificationRow.id)
            .order_by(DeliveryRow.id)
        ).all()
    # The school completing its own task is told nothing; the JCRG signing the police's action off is.
    assert notices == [
        ("task_assigned", school.id, "luton-schools", due),
        ("task_assigned", police.id, "bedfordshire-police", due),
        ("task_redated", school.id, "luton-schools", later),
        ("task_withdrawn", police.id, "bedfordshire-police", due),
        ("task_assigned", action.id, "bedfordshire-police", due),
        ("task_completed", action.id, "bedfordshire-police", due),
    ]
    assert addresses == [
        ("task_assigned", "safeguarding@luton-schools.luton.example"),
        ("task_assigned", "safeguarding@bedfordshire-police.luton.example"),
        ("task_redated", "safeguarding@luton-schools.luton.example"),
        ("task_withdrawn", "safeguarding@bedfordshire-police.luton.example"),
        ("task_assigned", "safeguarding@bedfordshire-police.luton.example"),
        ("task_completed", "safeguarding@bedfordshire-police.luton.example"),
    ]


BU = Actor(user_id="bu.officer", role=Role.business_unit)


def work_record(ref: str = REF) -> WorkRecord:
    policy = load_policies(get_settings().policy_dir)["luton"]
    return WorkRecord(reference=ref, stream=Stream.case, workflow_id=f"case-{ref}", policy=policy, facts={})


def project(db: Engine, version: int, case: WorkRecord) -> None:
    """What the workflow's projector sends: everything so far (a retry sends it again)."""
    ReadModelActivities(db).record_case_changes(
        changes(version, snapshot(tasks=case.tasks), []).model_copy(update={"notices": case.notices})
    )


def test_the_partners_hear_once_that_a_recommendation_awaits_their_sign_off(db: Engine) -> None:
    seed(db, demo_mailboxes=True)
    case = work_record()
    made = case.record(
        EventKind.recommendation_made,
        T0,
        actor=Actor(user_id="jcrg.chair", role=Role.jcrg_chair),
        reasons="Significant learning about information sharing between health and police",
        recommendation="local_cspr",
    )
    case.notify_decision(made)
    for _ in range(2):  # a retried write
        project(db, 1, case)
    with db.connect() as c:
        notices = c.execute(select(NotificationRow.kind, NotificationRow.title, NotificationRow.asked)).all()
        addresses = c.execute(select(DeliveryRow.address).order_by(DeliveryRow.address)).scalars().all()
    assert [(kind, title) for kind, title, _ in notices] == [
        ("decision", "Sign-off needed: the rapid review's recommendation")
    ]
    assert "information sharing" not in notices[0].asked  # what is asked, not the JCRG's reasons
    assert addresses == [
        "safeguarding@bedfordshire-police.luton.example",
        "safeguarding@blmk-icb.luton.example",
        "safeguarding@luton-childrens-social-care.luton.example",
    ]


def test_reminders_of_todays_workflow_ids_are_queued_with_their_stream_on_both_databases(db: Engine) -> None:
    """A notice's key starts with its workflow's id, ``<partnership>/case-<ref>[/review|/plan]``: the
    stream is read from its end (it was read as ``case-<ref>``, too long for the column on PostgreSQL,
    so that no reminder or escalation was ever queued there)."""
    seed(db)
    activities = NoticeActivities(db)
    case = f"central-bedfordshire/case-{REF}"
    for key in (f"{case}:D1:reminder:0", f"{case}/review:D1:escalation:1", f"{case}/plan:D3:reminder:1"):
        assert activities.dispatch_notice(notice(key).model_copy(update={"partnership": "luton"})) is True
    with db.connect() as c:
        streams = c.execute(select(NotificationRow.stream).order_by(NotificationRow.id)).scalars().all()
    assert streams == ["case", "review", "plan"]
