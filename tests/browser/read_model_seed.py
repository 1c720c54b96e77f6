"""A small partnership written straight into the read model, as the workflows would have left it: the
dashboard reads only these tables, so its tests need no Temporal at all.

Times are relative to ``now`` and to the reporting year holding it, so the same states show on any day:

- LSCP-2026-101, rapid review: the rapid review is overdue; the school's information return is due
  soon, the police's is in; the JCRG's recommendation with its reasons; a notice sent to the school.
- LSCP-2026-102, screening: the referral's written confirmation is due soon.
- LSCP-2026-103, local review: the CSPR's six months are on track; its rapid review went on time.
- LSCP-2025-090, learning actions: its rapid review went late; the police's action is overdue, the
  school's is on track.
- LSCP-2024-050, closed: its CSPR was published on time this year (its rapid review, years ago, does
  not count).

So this year: rapid reviews on time 1 of 3 (103; 090 late, 101 not sent and overdue), CSPRs 1 of 1.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from safeguarding.domain.policy import Policy
from safeguarding.queries.timeliness import reporting_year
from safeguarding.store.engine import make_engine, migrate
from safeguarding.store.tables import (
    ActionPlanRow,
    ActionRow,
    AgencyRow,
    CaseEventRow,
    CaseRow,
    DeadlineRow,
    DeliveryRow,
    NotificationRow,
    RecommendationRow,
    ReviewRow,
    TaskRow,
)

SCHOOL, POLICE = "luton-schools", "bedfordshire-police"
SCHOOL_NAME, POLICE_NAME = "Luton schools", "Bedfordshire Police"
OVERDUE, DUE_SOON, ON_TRACK = "LSCP-2026-101", "LSCP-2026-102", "LSCP-2026-103"
PLAN_CASE, CLOSED_CASE = "LSCP-2025-090", "LSCP-2024-050"

SCHOOL_TASK = "Chronology of the school's involvement with the family"
POLICE_TASK = "Police involvement summary and custody records"
SCHOOL_ACTION = "Designated safeguarding leads trained on escalation"
POLICE_ACTION = "Audit of police referrals to children's social care"
JCRG_REASONS = "Practice issues across agencies: information was not shared at the strategy meeting."
SCREENING_REASONS = "Meets the criteria: serious harm, abuse suspected."


def seeded_read_model(folder: Path, policy: Policy, now: datetime) -> Path:
    """A migrated SQLite read model holding the partnership: made once, then copied for each test
    (migrating takes most of a second; a copy, milliseconds)."""
    path = folder / "seeded-read-model.sqlite"
    migrate(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    seed_partnership(engine, policy, now)
    engine.dispose()
    return path


def copy_of(template: Path, folder: Path) -> str:
    """A copy of the template database (SQLite's backup API: consistent whatever its journal holds)."""
    path = folder / "read-model.sqlite"
    with sqlite3.connect(template) as source, sqlite3.connect(path) as target:
        source.backup(target)
    source.close()
    target.close()
    return f"sqlite:///{path}"


def seed_partnership(engine: Engine, policy: Policy, now: datetime) -> None:
    start, _ = reporting_year(policy, now)
    elapsed = now - start
    in_this_year = start + elapsed / 2  # a moment of this reporting year, before now
    late_by = min(timedelta(days=2), elapsed / 3)
    rows: dict[type, list[dict[str, Any]]] = {table: [] for table in _TABLES}

    def case(reference: str, stage: str, opened_at: datetime, **extra: Any) -> None:
        rows[CaseRow].append(
            {
                "reference": reference,
                "workflow_id": f"case-{reference}",
                "partnership": policy.partnership,
                "policy_version": policy.version,
                "route": extra.pop("route", "serious_incident_notification"),
                "stage": stage,
                "outcome": extra.pop("outcome", None),
                "opened_at": opened_at,
                "closed_at": extra.pop("closed_at", None),
                "next_due_at": None,
                "version": 5,
                "updated_at": now,
            }
        )

    def deadline(reference: str, number: int, key: str, due_at: datetime, **extra: Any) -> None:
        met_at = extra.pop("met_at", None)
        status = extra.pop("status", "met" if met_at else ("overdue" if due_at < now else "open"))
        rows[DeadlineRow].append(
            {
                "case_reference": reference,
                "stream": extra.pop("stream", "case"),
                "deadline_id": f"D{number}",
                "key": key,
                "title": policy.deadlines[key].title,
                "subject": extra.pop("subject", None),
                "statutory": policy.deadlines[key].statutory,
                "started_at": due_at - timedelta(days=7),
                "due_at": due_at,
                "status": status,
                "met_at": met_at,
                "breached_at": due_at if status == "overdue" or (met_at and met_at > due_at) else None,
                "reminder_times": [t.isoformat() for t in extra.pop("reminders", [])],
            }
        )

    def task(task_id: str, agency: str, asked_for: str, due_at: datetime, **extra: Any) -> None:
        rows[TaskRow].append(
            {
                "task_id": task_id,
                "case_reference": task_id.split(".")[0],
                "stream": extra.pop("stream", "case"),
                "agency": agency,
                "kind": extra.pop("kind", "information_return"),
                "asked_for": asked_for,
                "requested_at": due_at - timedelta(days=7),
                "due_at": due_at,
                "status": extra.pop("status", "open"),
                "completed_at": extra.pop("completed_at", None),
            }
        )

    def event(reference: str, seq: int, kind: str, at: datetime, **extra: Any) -> None:
        user, role, agency = extra.pop("actor", (None, None, None))
        rows[CaseEventRow].append(
            {
                "case_reference": reference,
                "stream": extra.pop("stream", "case"),
                "seq": seq,
                "kind": kind,
                "recorded_at": at,
                "occurred_at": extra.pop("occurred_at", None),
                "actor_user": user,
                "actor_role": role,
                "actor_agency": agency,
                "reasons": extra.pop("reasons", None),
                "details": extra,
            }
        )

    for code, name in ((SCHOOL, SCHOOL_NAME), (POLICE, POLICE_NAME)):
        rows[AgencyRow].append(
            {
                "code": code,
                "name": name,
                "roles": ["partner_agency"],
                "mailboxes": [f"safeguarding@{code}.example"],
                "webhook_url": None,
                "webhook_secret": None,
                "digest": False,
                "active": True,
                "updated_at": now,
                "updated_by": "seed",
            }
        )

    # LSCP-2026-101: the rapid review is overdue.
    bu, jcrg = ("bu.officer1", "business_unit", None), ("jcrg.chair", "jcrg_chair", None)
    opened = now - timedelta(days=20)
    case(OVERDUE, "rapid_review", opened)
    deadline(OVERDUE, 1, "notify_panel", opened + timedelta(days=5), met_at=opened + timedelta(days=1))
    deadline(OVERDUE, 2, "rapid_review_to_panel", now - late_by)
    deadline(
        OVERDUE,
        3,
        "agency_information_return",
        now + timedelta(hours=20),
        subject=f"{OVERDUE}.T1",
        reminders=[now - timedelta(hours=4)],
    )
    deadline(
        OVERDUE,
        4,
        "agency_information_return",
        now - timedelta(days=3),
        subject=f"{OVERDUE}.T2",
        met_at=now - timedelta(days=4),
    )
    task(f"{OVERDUE}.T1", SCHOOL, SCHOOL_TASK, now + timedelta(hours=20))
    task(
        f"{OVERDUE}.T2",
        POLICE,
        POLICE_TASK,
        now - timedelta(days=3),
        status="completed",
        completed_at=now - timedelta(days=4),
    )
    event(
        OVERDUE, 1, "case_opened", opened, actor=bu, occurred_at=opened, route="serious_incident_notification"
    )
    event(OVERDUE, 2, "deadline_opened", opened, deadline="D1", key="notify_panel")
    event(
        OVERDUE,
        3,
        "notification_recorded",
        opened + timedelta(days=1),
        actor=bu,
        occurred_at=opened + timedelta(days=1),
        recipient="panel",
    )
    event(OVERDUE, 4, "information_requested", opened + timedelta(days=2), actor=bu, agencies=2)
    event(
        OVERDUE,
        5,
        "information_returned",
        now - timedelta(days=4),
        actor=("police.dsl", "partner_agency", POLICE),
        task=f"{OVERDUE}.T2",
        agency=POLICE,
    )
    event(
        OVERDUE,
        6,
        "recommendation_made",
        now - timedelta(days=1),
        actor=jcrg,
        reasons=JCRG_REASONS,
        recommendation="local_cspr",
        methodology="Systems approach",
    )
    event(OVERDUE, 7, "deadline_missed", now - late_by, deadline="D2", key="rapid_review_to_panel")
    rows[NotificationRow].append(
        {
            "id": 1,
            "idempotency_key": f"case-{OVERDUE}:{OVERDUE}.T1:assigned",
            "case_reference": OVERDUE,
            "kind": "task_assigned",
            "deadline_id": "D3",
            "deadline_key": "agency_information_return",
            "recipients": ["owning_agency"],
            "owning_agency": SCHOOL,
            "due_at": now + timedelta(hours=20),
            "created_at": opened + timedelta(days=2),
            "status": "queued",
            "stream": "case",
            "task_id": f"{OVERDUE}.T1",
            "title": "Information for the rapid review",
            "asked": SCHOOL_TASK,
            "number": None,
        }
    )
    rows[DeliveryRow].append(
        {
            "id": 1,
            "idempotency_key": f"case-{OVERDUE}:{OVERDUE}.T1:assigned:email:{SCHOOL}",
            "notification_id": 1,
            "digest_id": None,
            "channel": "email",
            "agency": SCHOOL,
            "address": f"safeguarding@{SCHOOL}.example",
            "status": "sent",
            "created_at": opened + timedelta(days=2),
            "sent_at": opened + timedelta(days=2, minutes=1),
            "attempts": 1,
            "last_error": None,
            "started": True,
        }
    )

    # LSCP-2026-102: a referral whose written confirmation is due soon.
    opened = now - timedelta(days=1)
    case(DUE_SOON, "screening", opened, route="agency_referral")
    deadline(
        DUE_SOON,
        1,
        "referral_written_confirmation",
        now + timedelta(hours=20),
        reminders=[now - timedelta(hours=4)],
    )
    event(DUE_SOON, 1, "case_opened", opened, actor=bu, occurred_at=opened, route="agency_referral")

    # LSCP-2026-103: a CSPR on track; its rapid review went to the Panel on time this year.
    opened = in_this_year - timedelta(days=20)
    case(ON_TRACK, "local_review", opened, outcome="local_cspr")
    deadline(ON_TRACK, 1, "rapid_review_to_panel", in_this_year + timedelta(days=2), met_at=in_this_year)
    deadline(
        ON_TRACK,
        1,
        "cspr_completion",
        now + timedelta(days=120),
        stream="review",
        reminders=[now + timedelta(days=90)],
    )
    event(ON_TRACK, 1, "case_opened", opened, actor=bu, occurred_at=opened)
    event(ON_TRACK, 2, "screened", opened, actor=jcrg, reasons=SCREENING_REASONS, criteria_met=True)
    rows[ReviewRow].append(
        {
            "case_reference": ON_TRACK,
            "workflow_id": f"case-{ON_TRACK}/review",
            "kind": "local_cspr",
            "stage": "reviewer_appointed",
            "started_at": in_this_year,
            "paused": False,
            "due_at": now + timedelta(days=120),
            "earliest_publication_date": None,
            "publication_date": None,
            "outcome": None,
            "finished_at": None,
            "version": 3,
            "updated_at": now,
        }
    )

    # LSCP-2025-090: learning actions; its rapid review went late; the police's action is overdue.
    opened = in_this_year - timedelta(days=30)
    case(PLAN_CASE, "learning_actions", opened, outcome="no_further_review")
    deadline(PLAN_CASE, 1, "rapid_review_to_panel", in_this_year - timedelta(days=1), met_at=in_this_year)
    deadline(PLAN_CASE, 1, "action_due", now - timedelta(days=5), stream="plan", subject=f"{PLAN_CASE}.P1")
    deadline(
        PLAN_CASE,
        2,
        "action_due",
        now + timedelta(days=60),
        stream="plan",
        subject=f"{PLAN_CASE}.P2",
        reminders=[now + timedelta(days=46)],
    )
    for number, (agency, text, due_at) in enumerate(
        [(POLICE, POLICE_ACTION, now - timedelta(days=5)), (SCHOOL, SCHOOL_ACTION, now + timedelta(days=60))],
        start=1,
    ):
        task(f"{PLAN_CASE}.P{number}", agency, text, due_at, stream="plan", kind="action")
        rows[ActionRow].append(
            {
                "case_reference": PLAN_CASE,
                "action_id": f"A{number}",
                "agency": agency,
                "lead_role": "Designated lead",
                "source": "rapid_review",
                "themes": ["information_sharing"],
                "due_at": due_at,
                "status": "open",
                "completed_at": None,
                "escalations_sent": 1 if due_at < now else 0,
                "recommendation_id": "R1",
                "description": text,
                "measure": "Audit shows the change",
                "evidence_of_impact": None,
                "progress": [],
            }
        )
    rows[RecommendationRow].append(
        {
            "case_reference": PLAN_CASE,
            "recommendation_id": "R1",
            "text": "Agencies share information before strategy meetings.",
            "source": "rapid_review",
        }
    )
    rows[ActionPlanRow].append(
        {
            "case_reference": PLAN_CASE,
            "workflow_id": f"case-{PLAN_CASE}/plan",
            "status": "open",
            "version": 4,
            "updated_at": now,
        }
    )

    # LSCP-2024-050: closed; its CSPR was published on time this year.
    opened = start - timedelta(days=200)
    case(CLOSED_CASE, "closed", opened, outcome="local_cspr", closed_at=in_this_year)
    deadline(
        CLOSED_CASE,
        1,
        "rapid_review_to_panel",
        opened + timedelta(days=21),
        met_at=opened + timedelta(days=20),
    )
    deadline(
        CLOSED_CASE,
        1,
        "cspr_completion",
        in_this_year + timedelta(days=30),
        stream="review",
        met_at=in_this_year,
    )

    with Session(engine) as session, session.begin():
        for table in _TABLES:
            if rows[table]:
                session.execute(insert(table), rows[table])


def seed_many_cases(engine: Engine, count: int, now: datetime, policy: Policy) -> None:
    """``count`` more cases, each with deadlines, tasks for both agencies, events and an overdue action:
    a bigger partnership, for counting the dashboard's queries."""
    cases, deadlines, tasks, events, actions = [], [], [], [], []
    for n in range(count):
        reference = f"BULK-{n:05d}"
        opened = now - timedelta(days=n % 300 + 1)
        cases.append(
            {
                "reference": reference,
                "workflow_id": f"case-{reference}",
                "partnership": policy.partnership,
                "policy_version": policy.version,
                "route": "serious_incident_notification",
                "stage": "rapid_review",
                "outcome": None,
                "opened_at": opened,
                "closed_at": None,
                "next_due_at": None,
                "version": 1,
                "updated_at": now,
            }
        )
        for number, key in enumerate(
            ["notify_panel", "rapid_review_to_panel", "agency_information_return"], 1
        ):
            deadlines.append(
                {
                    "case_reference": reference,
                    "stream": "case",
                    "deadline_id": f"D{number}",
                    "key": key,
                    "title": policy.deadlines[key].title,
                    "subject": f"{reference}.T1" if key == "agency_information_return" else None,
                    "statutory": True,
                    "started_at": opened,
                    "due_at": opened + timedelta(days=5 * number),
                    "status": "open" if number > 1 else "met",
                    "met_at": opened if number == 1 else None,
                    "breached_at": None,
                    "reminder_times": [],
                }
            )
        for number, agency in enumerate([SCHOOL, POLICE], 1):
            tasks.append(
                {
                    "task_id": f"{reference}.T{number}",
                    "case_reference": reference,
                    "stream": "case",
                    "agency": agency,
                    "kind": "information_return",
                    "asked_for": "Chronology",
                    "requested_at": opened,
                    "due_at": opened + timedelta(days=7),
                    "status": "open",
                    "completed_at": None,
                }
            )
        events.append(
            {
                "case_reference": reference,
                "stream": "case",
                "seq": 1,
                "kind": "case_opened",
                "recorded_at": opened,
                "occurred_at": opened,
                "actor_user": "bu.officer1",
                "actor_role": "business_unit",
                "actor_agency": None,
                "reasons": None,
                "details": {},
            }
        )
        actions.append(
            {
                "case_reference": reference,
                "action_id": "A1",
                "agency": POLICE,
                "lead_role": "Lead",
                "source": "rapid_review",
                "themes": [],
                "due_at": now - timedelta(days=1),
                "status": "open",
                "completed_at": None,
                "escalations_sent": 0,
                "recommendation_id": None,
                "description": "An action",
                "measure": None,
                "evidence_of_impact": None,
                "progress": [],
            }
        )
    with Session(engine) as session, session.begin():
        for table, values in (
            (CaseRow, cases),
            (DeadlineRow, deadlines),
            (TaskRow, tasks),
            (CaseEventRow, events),
            (ActionRow, actions),
        ):
            session.execute(insert(table), values)


_TABLES = (
    AgencyRow,
    CaseRow,
    ReviewRow,
    ActionPlanRow,
    DeadlineRow,
    TaskRow,
    CaseEventRow,
    ActionRow,
    RecommendationRow,
    NotificationRow,
    DeliveryRow,
)
