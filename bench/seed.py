"""A read model as the workflows would leave it, at scale, written straight into the tables: cases at
every stage, three deadlines and two tasks each (a third of them overdue), a review and an action plan
for a fifth of them with actions and their events, so that every dashboard page and report has work.

Deterministic (a seeded random), partnership by partnership, in bulk inserts.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from safeguarding.store.tables import (
    ActionPlanRow,
    ActionRow,
    CaseEventRow,
    CaseRow,
    DeadlineRow,
    RecommendationRow,
    ReviewRow,
    TaskRow,
)

STAGES = ["rapid_review", "local_review", "learning_actions", "national_review", "closed"]
DEADLINE_KEYS = [
    ("notify_panel", "Panel notified", True),
    ("rapid_review_to_panel", "Rapid review sent to the Panel", True),
    ("cspr_completion", "CSPR completed", True),
]
AGENCIES = ["luton-childrens-social-care", "luton-schools", "bedfordshire-police", "elft-nhs"]
THEMES = ["neglect", "domestic_abuse", "extrafamilial_harm", "voice_of_the_child"]


def seed_read_model(engine: Engine, cases: int, now: datetime, partnership: str = "luton") -> dict[str, int]:
    """``cases`` cases of ``partnership``; returns how many rows of each kind were written."""
    rng = random.Random(20261130)
    rows: dict[Any, list[dict[str, Any]]] = {
        t: []
        for t in (
            CaseRow,
            DeadlineRow,
            TaskRow,
            ReviewRow,
            ActionPlanRow,
            ActionRow,
            RecommendationRow,
            CaseEventRow,
        )
    }
    for n in range(cases):
        reference = f"BENCH-{n:06d}"
        opened = now - timedelta(days=rng.randint(1, 700), hours=rng.randint(0, 23))
        stage = STAGES[n % len(STAGES)]
        dues = []
        for number, (key, title, statutory) in enumerate(DEADLINE_KEYS, start=1):
            due = now + timedelta(days=rng.randint(-60, 120), hours=rng.randint(0, 23))
            live = stage != "closed" and number >= 2
            if live:
                dues.append(due)
            rows[DeadlineRow].append(
                {
                    "partnership": partnership,
                    "case_reference": reference,
                    "stream": "case",
                    "deadline_id": f"D{number}",
                    "key": key,
                    "title": title,
                    "subject": None,
                    "statutory": statutory,
                    "started_at": opened,
                    "due_at": due,
                    "status": ("overdue" if due < now else "open") if live else "met",
                    "met_at": None if live else min(due, now),
                    "breached_at": due if live and due < now else None,
                    "reminder_times": [(due - timedelta(days=5)).isoformat()],
                }
            )
        rows[CaseRow].append(
            {
                "partnership": partnership,
                "reference": reference,
                "workflow_id": f"{partnership}/case-{reference}",
                "policy_version": "2026.6",
                "route": "serious_incident_notification",
                "stage": stage,
                "outcome": "closed" if stage == "closed" else None,
                "opened_at": opened,
                "closed_at": now - timedelta(days=1) if stage == "closed" else None,
                "next_due_at": min(dues, default=None),
                "version": 1,
                "updated_at": opened,
            }
        )
        for number in (1, 2):
            due = now + timedelta(days=rng.randint(-30, 30))
            open_task = stage != "closed" and number == 2
            rows[TaskRow].append(
                {
                    "partnership": partnership,
                    "task_id": f"{reference}.T{number}",
                    "case_reference": reference,
                    "agency_partnership": partnership,
                    "stream": "case",
                    "agency": AGENCIES[(n + number) % len(AGENCIES)],
                    "kind": "information_return",
                    "asked_for": "Chronology of involvement",
                    "requested_at": opened,
                    "due_at": due,
                    "status": "open" if open_task else "completed",
                    "completed_at": None if open_task else opened + timedelta(days=3),
                }
            )
        seq = 0

        def event(
            what: str, at: datetime, stream: str = "case", reference: str = reference, **details: Any
        ) -> None:
            nonlocal seq
            seq += 1
            rows[CaseEventRow].append(
                {
                    "partnership": partnership,
                    "case_reference": reference,
                    "stream": stream,
                    "seq": seq,
                    "kind": what,
                    "recorded_at": at,
                    "occurred_at": None,
                    "details": details,
                }
            )

        event("case_opened", opened, route="serious_incident_notification")
        event("notification_recorded", opened + timedelta(days=3), recipient="panel")
        if n % 5 == 1:  # a CSPR with its plan
            started = opened + timedelta(days=30)
            rows[ReviewRow].append(
                {
                    "partnership": partnership,
                    "case_reference": reference,
                    "workflow_id": f"{partnership}/case-{reference}/review",
                    "kind": "local_cspr",
                    "stage": "terms_agreed",
                    "started_at": started,
                    "paused": False,
                    "due_at": started + timedelta(days=182),
                    "version": 1,
                    "updated_at": started,
                }
            )
            event("review_commissioned", started, "review", kind="local_cspr")
            rows[ActionPlanRow].append(
                {
                    "partnership": partnership,
                    "case_reference": reference,
                    "workflow_id": f"{partnership}/case-{reference}/plan",
                    "status": "open",
                    "version": 1,
                    "updated_at": started,
                }
            )
            rows[RecommendationRow].append(
                {
                    "partnership": partnership,
                    "case_reference": reference,
                    "recommendation_id": "R1",
                    "text": "Strengthen information sharing at the front door",
                    "source": "local_cspr",
                }
            )
            for number in range(1, 6):
                due = now + timedelta(days=rng.randint(-90, 180))
                done = number % 3 == 0
                rows[ActionRow].append(
                    {
                        "partnership": partnership,
                        "case_reference": reference,
                        "action_id": f"A{number}",
                        "agency": AGENCIES[number % len(AGENCIES)],
                        "lead_role": "Head of safeguarding",
                        "source": "local_cspr",
                        "themes": [THEMES[(n + number) % len(THEMES)]],
                        "due_at": due,
                        "status": "completed" if done else "open",
                        "completed_at": due - timedelta(days=2) if done else None,
                        "escalations_sent": 1 if due < now and not done else 0,
                        "recommendation_id": "R1",
                        "description": "Audit of referrals",
                        "measure": "Audit completed",
                        "evidence_of_impact": None,
                        "progress": [],
                    }
                )
                event("action_added", started + timedelta(days=number), "plan", action=f"A{number}")
    with engine.begin() as connection:
        for table, values in rows.items():
            for start in range(0, len(values), 2000):
                connection.execute(insert(table), values[start : start + 2000])
    return {table.__tablename__: len(values) for table, values in rows.items()}


def utc_now() -> datetime:
    return datetime.now(UTC)
