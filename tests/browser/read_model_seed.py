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
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from safeguarding.domain.events import EventKind
from safeguarding.domain.policy import Policy
from safeguarding.queries.timeliness import reporting_year
from safeguarding.store.engine import make_engine, migrate
from safeguarding.store.tables import Base, DeadlineRow
from tests import rows

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

BU: rows.Actor = ("bu.officer1", "business_unit", None)
JCRG: rows.Actor = ("jcrg.chair", "jcrg_chair", None)
POLICE_DSL: rows.Actor = ("police.dsl", "partner_agency", POLICE)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


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
    late_by = min(days(2), elapsed / 3)
    case = partial(
        rows.case, partnership=policy.partnership, policy_version=policy.version, version=5, updated_at=now
    )

    def deadline(
        reference: str,
        number: int,
        key: str,
        due_at: datetime,
        met_at: datetime | None = None,
        reminders: Sequence[datetime] = (),
        **more: Any,
    ) -> DeadlineRow:
        """Titled as the policy titles it and judged as of now: met, overdue or open; breached if late."""
        status = "met" if met_at else "overdue" if due_at < now else "open"
        late = status == "overdue" or (met_at is not None and met_at > due_at)
        rule = policy.deadlines[key]
        return rows.deadline(
            reference,
            number,
            key,
            due_at,
            title=rule.title,
            statutory=rule.statutory,
            status=status,
            met_at=met_at,
            breached_at=due_at if late else None,
            reminders=reminders,
            **more,
        )

    def action(number: int, agency: str, text: str, due_at: datetime, *reminders: datetime) -> list[Base]:
        """An action of the plan following R1, with its task and its deadline; escalated once if overdue."""
        task_id = f"{PLAN_CASE}.P{number}"
        return [
            rows.action(
                PLAN_CASE,
                number,
                agency,
                text,
                due_at=due_at,
                lead_role="Designated lead",
                source="rapid_review",
                themes=["information_sharing"],
                recommendation=1,
                measure="Audit shows the change",
                escalations_sent=1 if due_at < now else 0,
            ),
            rows.task(task_id, agency, text, due_at=due_at, stream="plan", kind="action"),
            deadline(
                PLAN_CASE, number, "action_due", due_at, stream="plan", subject=task_id, reminders=reminders
            ),
        ]

    events = rows.Events()
    seeded: list[Base] = [
        rows.agency(code, name, mailboxes=[f"safeguarding@{code}.example"], updated_at=now, updated_by="seed")
        for code, name in ((SCHOOL, SCHOOL_NAME), (POLICE, POLICE_NAME))
    ]

    # LSCP-2026-101: the rapid review is overdue; the school's return is due soon, the police's is in.
    opened = now - days(20)
    school_due = now + hours(20)
    school_told = rows.notification(
        f"{OVERDUE}.T1",
        "task_assigned",
        f"case-{OVERDUE}:{OVERDUE}.T1:assigned",
        id=1,
        created_at=opened + days(2),
        owning_agency=SCHOOL,
        title="Information for the rapid review",
        asked=SCHOOL_TASK,
        deadline_id="D3",
        deadline_key="agency_information_return",
        due_at=school_due,
    )
    seeded += [
        case(OVERDUE, "rapid_review", opened),
        deadline(OVERDUE, 1, "notify_panel", opened + days(5), met_at=opened + days(1)),
        deadline(OVERDUE, 2, "rapid_review_to_panel", now - late_by),
        deadline(
            OVERDUE,
            3,
            "agency_information_return",
            school_due,
            subject=f"{OVERDUE}.T1",
            reminders=[now - hours(4)],
        ),
        deadline(
            OVERDUE,
            4,
            "agency_information_return",
            now - days(3),
            subject=f"{OVERDUE}.T2",
            met_at=now - days(4),
        ),
        rows.task(f"{OVERDUE}.T1", SCHOOL, SCHOOL_TASK, due_at=school_due),
        rows.task(
            f"{OVERDUE}.T2",
            POLICE,
            POLICE_TASK,
            due_at=now - days(3),
            status="completed",
            completed_at=now - days(4),
        ),
        school_told,
        rows.email_sent(
            school_told, f"safeguarding@{SCHOOL}.example", sent_at=opened + days(2) + timedelta(minutes=1)
        ),
    ]
    events(
        OVERDUE,
        EventKind.case_opened,
        opened,
        actor=BU,
        occurred_at=opened,
        route="serious_incident_notification",
    )
    events(OVERDUE, EventKind.deadline_opened, opened, deadline="D1", key="notify_panel")
    notified = opened + days(1)
    events(
        OVERDUE, EventKind.notification_recorded, notified, actor=BU, occurred_at=notified, recipient="panel"
    )
    events(OVERDUE, EventKind.information_requested, opened + days(2), actor=BU, agencies=2)
    events(
        OVERDUE,
        EventKind.information_returned,
        now - days(4),
        actor=POLICE_DSL,
        task=f"{OVERDUE}.T2",
        agency=POLICE,
    )
    events(
        OVERDUE,
        EventKind.recommendation_made,
        now - days(1),
        actor=JCRG,
        reasons=JCRG_REASONS,
        recommendation="local_cspr",
        methodology="Systems approach",
    )
    # The clock's bookkeeping, as the workflow records it: a deadline's id, key and ISO due time.
    rapid_due = (now - late_by).isoformat()
    events(
        OVERDUE,
        EventKind.deadline_missed,
        now - late_by,
        deadline="D2",
        key="rapid_review_to_panel",
        due_at=rapid_due,
    )
    events(
        OVERDUE,
        EventKind.escalation_sent,
        now - late_by,
        deadline="D2",
        key="rapid_review_to_panel",
        recipients=["jcrg_chair", "independent_scrutineer"],
        number=1,
    )

    # LSCP-2026-102: a referral whose written confirmation is due soon.
    opened = now - days(1)
    seeded += [
        case(DUE_SOON, "screening", opened, route="agency_referral"),
        deadline(DUE_SOON, 1, "referral_written_confirmation", now + hours(20), reminders=[now - hours(4)]),
    ]
    events(DUE_SOON, EventKind.case_opened, opened, actor=BU, occurred_at=opened, route="agency_referral")

    # LSCP-2026-103: a CSPR on track; its rapid review went to the Panel on time this year.
    opened = in_this_year - days(20)
    seeded += [
        case(ON_TRACK, "local_review", opened, outcome="local_cspr"),
        deadline(ON_TRACK, 1, "rapid_review_to_panel", in_this_year + days(2), met_at=in_this_year),
        deadline(
            ON_TRACK, 1, "cspr_completion", now + days(120), stream="review", reminders=[now + days(90)]
        ),
        rows.review(
            ON_TRACK, "reviewer_appointed", in_this_year, due_at=now + days(120), version=3, updated_at=now
        ),
    ]
    events(ON_TRACK, EventKind.case_opened, opened, actor=BU, occurred_at=opened)
    events(ON_TRACK, EventKind.screened, opened, actor=JCRG, reasons=SCREENING_REASONS, criteria_met=True)

    # LSCP-2025-090: learning actions; its rapid review went late; the police's action is overdue.
    opened = in_this_year - days(30)
    seeded += [
        case(PLAN_CASE, "learning_actions", opened, outcome="no_further_review"),
        deadline(PLAN_CASE, 1, "rapid_review_to_panel", in_this_year - days(1), met_at=in_this_year),
        rows.action_plan(PLAN_CASE, version=4, updated_at=now),
        rows.recommendation(
            PLAN_CASE, 1, "Agencies share information before strategy meetings.", source="rapid_review"
        ),
        *action(1, POLICE, POLICE_ACTION, now - days(5)),
        *action(2, SCHOOL, SCHOOL_ACTION, now + days(60), now + days(46)),
    ]

    # LSCP-2024-050: closed; its CSPR was published on time this year.
    opened = start - days(200)
    seeded += [
        case(CLOSED_CASE, "closed", opened, outcome="local_cspr", closed_at=in_this_year),
        deadline(CLOSED_CASE, 1, "rapid_review_to_panel", opened + days(21), met_at=opened + days(20)),
        deadline(
            CLOSED_CASE, 1, "cspr_completion", in_this_year + days(30), stream="review", met_at=in_this_year
        ),
    ]
    rows.write(engine, [*seeded, *events.rows])


def seed_many_cases(engine: Engine, count: int, now: datetime, policy: Policy) -> None:
    """``count`` more cases, each with deadlines, tasks for both agencies, events and an overdue action:
    a bigger partnership, for counting the dashboard's queries."""
    many: list[Base] = []
    for n in range(count):
        reference, opened = f"BULK-{n:05d}", now - days(n % 300 + 1)
        many += [
            rows.case(
                reference,
                "rapid_review",
                opened,
                partnership=policy.partnership,
                policy_version=policy.version,
                updated_at=now,
            ),
            rows.event(reference, 1, EventKind.case_opened, opened, actor=BU, occurred_at=opened),
            rows.action(reference, 1, POLICE, "An action", due_at=now - days(1), source="rapid_review"),
            # The Panel notified; the rapid review and the school's information return still open.
            *(
                rows.deadline(
                    reference,
                    number,
                    key,
                    opened + days(5 * number),
                    title=policy.deadlines[key].title,
                    subject=f"{reference}.T1" if key == "agency_information_return" else None,
                    started_at=opened,
                    met_at=opened if number == 1 else None,
                    reminders=(),
                )
                for number, key in enumerate(
                    ("notify_panel", "rapid_review_to_panel", "agency_information_return"), 1
                )
            ),
            *(
                rows.task(
                    f"{reference}.T{number}",
                    agency,
                    "Chronology",
                    requested_at=opened,
                    due_at=opened + days(7),
                )
                for number, agency in enumerate((SCHOOL, POLICE), 1)
            ),
        ]
    rows.write(engine, many)
