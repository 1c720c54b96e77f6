"""Closing the loop (DOMAIN.md, step 5): twice a year the partnership receives the learning and progress
against recommendations from every review, by theme; the yearly report counts notifications, referrals,
rapid reviews, CSPRs and what changed. Against a migrated SQLite read model seeded with a realistic year,
the reporting workflow on the time-skipping server, and the app itself."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.reports import ReportActivities
from api.app import create_app
from safeguarding.domain.events import EventKind
from safeguarding.domain.people import Role, StatutoryPartner
from safeguarding.domain.policy import Policy
from safeguarding.domain.reporting import ReportMade, ReportOrder, ReportRequest, closing_the_loop_period
from safeguarding.platform.identity import mint_local_token
from safeguarding.platform.settings import Settings
from safeguarding.queries.closing_the_loop import ClosingTheLoop, closing_the_loop_figures
from safeguarding.queries.yearly_figures import yearly_figures
from safeguarding.render.reports import render_html, render_pdf
from safeguarding.store.audit import entries
from safeguarding.store.engine import make_engine, migrate
from safeguarding.store.tables import Base, DeadlineRow, DeliveryRow, NotificationRow, ReportRow
from tests import rows
from tests.support import LONDON, london
from worker import SANDBOX
from workflows.reporting import ClosingTheLoopWorkflow

PARTNERSHIP = "luton"
PUBLIC_URL = "https://safeguarding.example.org"
SPRING, AUTUMN = date(2026, 4, 1), date(2026, 9, 30)
# When the figures are judged, so that they do not change as the calendar moves on.
AS_OF = london(2026, 11, 25, 12)

SIN = "LSCP-2026-101"  # notified in May; rapid review sent on time; integrated CSPR/SAR, clock stopped
REFERRAL_IN = "LSCP-2026-102"  # agency referral, screened in
REFERRAL_OUT = "LSCP-2026-103"  # agency referral, criteria not met: single-agency learning
PUBLISHED = "LSCP-2026-004"  # CSPR published in June, within 6 months; its themed action plan
UNPUBLISHED = "LSCP-2024-007"  # CSPR completed, decided not to publish; its action plan
ELSEWHERE = "OTHER-2026-001"  # another partnership's case: never in these reports

# What must never reach a report: the case summary, a decision's reasons, an agency's return.
SUMMARY = "Infant with unexplained fractures; mother's partner known to police."
SCREENING_REASONS = "Father disclosed drug use to the GP in March."
RETURN = "SCHOOL RETURN: sibling attended nursery until March, then withdrawn."
NOT_PUBLISHED_BECAUSE = "Publication would identify the surviving siblings."


# ---------------------------------------------------------------- a realistic year


def seed_year(engine: Engine) -> None:
    """The partnership's year to the autumn of 2026: five of its cases, and another partnership's."""
    case = partial(rows.case, policy_version="2026.3")
    deadline = partial(rows.deadline, started_at=london(2024, 1, 1))
    events = rows.Events()

    def cspr_due(reference: str, due_at: datetime, **more: Any) -> DeadlineRow:
        """The review's six months (or as re-dated)."""
        return deadline(reference, 1, "cspr_completion", due_at, stream="review", **more)

    def action_due(reference: str, number: int, due_at: datetime, **more: Any) -> DeadlineRow:
        """The date set for action ``A<number>`` of the plan, whose task is ``P<number>``."""
        return deadline(
            reference, number, "action_due", due_at, stream="plan", subject=f"{reference}.P{number}", **more
        )

    year: list[Base] = [
        rows.agency(
            "lscp-business-unit",
            "LSCP Business Unit",
            roles=["business_unit"],
            mailboxes=["lscp@luton.example.org"],
            updated_at=london(2026, 1, 1),
        )
    ]

    # Notified in May; its rapid review went to the Panel on time; an integrated CSPR/SAR, its clock
    # stopped for a trial. The summary, the reasons and the school's return are in the log, and must stay.
    year += [
        case(SIN, "local_review", london(2026, 5, 4, 10)),
        rows.task(f"{SIN}.T1", "luton-schools", RETURN, requested_at=london(2026, 5, 5), status="completed"),
        rows.review(SIN, "terms_agreed", london(2026, 6, 12), paused=True, due_at=london(2027, 1, 12, 17)),
        deadline(SIN, 1, "notify_panel", london(2026, 5, 11, 17), met_at=london(2026, 5, 6, 12)),
        deadline(SIN, 2, "report_to_partners", london(2026, 5, 11, 17), met_at=london(2026, 5, 12, 9)),
        deadline(SIN, 3, "rapid_review_to_panel", london(2026, 5, 26, 17), met_at=london(2026, 5, 20, 15)),
        cspr_due(SIN, london(2027, 1, 12, 17)),  # paused: not due yet
    ]
    events(SIN, EventKind.case_opened, london(2026, 5, 4, 10), summary=SUMMARY, reasons=SUMMARY)
    sent = london(2026, 5, 20, 15)
    events(SIN, EventKind.rapid_review_sent, sent, occurred_at=sent)
    events(SIN, EventKind.rapid_review_concluded, london(2026, 6, 10, 12), outcome="local_cspr")
    commissioned = london(2026, 6, 12)
    events(
        SIN,
        EventKind.review_commissioned,
        commissioned,
        stream="review",
        occurred_at=commissioned,
        kind="local_cspr",
        methodology="Integrated CSPR/Safeguarding Adult Review",
    )
    events(
        SIN,
        EventKind.clock_stopped,
        london(2026, 8, 3),
        stream="review",
        reasons=SUMMARY,
        proceedings="criminal_trial",
    )

    # Referred in July and screened in: notified to the Panel, its rapid review sent, awaiting the Panel.
    year += [
        case(REFERRAL_IN, "rapid_review", london(2026, 7, 1, 9), route="agency_referral"),
        deadline(
            REFERRAL_IN,
            1,
            "referral_written_confirmation",
            london(2026, 7, 3, 9),
            met_at=london(2026, 7, 4, 10),
            statutory=False,
        ),
    ]
    screened, notified, sent = london(2026, 7, 6), london(2026, 7, 7, 11), london(2026, 7, 27, 16)
    events(
        REFERRAL_IN,
        EventKind.screened,
        screened,
        reasons=SCREENING_REASONS,
        criteria_met=True,
        learning_route=None,
    )
    events(REFERRAL_IN, EventKind.notification_recorded, notified, occurred_at=notified, recipient="panel")
    events(REFERRAL_IN, EventKind.rapid_review_sent, sent, occurred_at=sent)

    # Referred in August, criteria not met: single-agency learning, and closed.
    year.append(
        case(
            REFERRAL_OUT,
            "closed",
            london(2026, 8, 3, 9),
            route="agency_referral",
            outcome="screened_out:single_agency_learning",
            closed_at=london(2026, 8, 10),
        )
    )
    events(
        REFERRAL_OUT,
        EventKind.screened,
        london(2026, 8, 10),
        reasons=SCREENING_REASONS,
        criteria_met=False,
        learning_route="single_agency_learning",
    )

    # A CSPR published in June, within six months, and its themed plan: one action done, one overdue and
    # escalated twice, one withdrawn.
    year += [
        case(PUBLISHED, "local_review", london(2025, 11, 20, 9)),
        rows.review(
            PUBLISHED,
            "finished",
            london(2026, 1, 12),
            outcome="published",
            publication_date=date(2026, 6, 30),
            finished_at=london(2026, 6, 30, 12),
        ),
        rows.action_plan(PUBLISHED, updated_at=london(2026, 9, 30)),
        cspr_due(PUBLISHED, london(2026, 7, 13, 17), met_at=london(2026, 6, 30, 12)),
        action_due(PUBLISHED, 1, london(2026, 8, 28, 17), met_at=london(2026, 8, 15, 12)),
        action_due(
            PUBLISHED, 2, london(2026, 8, 31, 17), status="overdue", breached_at=london(2026, 8, 31, 17)
        ),
        action_due(PUBLISHED, 3, london(2026, 9, 4, 17), status="cancelled"),
        rows.recommendation(
            PUBLISHED, 1, "Strengthen information sharing between the front door and police on domestic abuse"
        ),
        rows.recommendation(PUBLISHED, 2, "Record the child's lived experience in every assessment"),
        rows.action(
            PUBLISHED,
            1,
            "luton-childrens-social-care",
            "Revise the MASH protocol for police domestic abuse notifications",
            lead_role="Head of the Front Door",
            recommendation=1,
            themes=["information_sharing", "domestic_abuse"],
            measure="95% of notifications shared within 24 hours",
            due_at=london(2026, 8, 28, 17),
            status="completed",
            completed_at=london(2026, 8, 15, 12),
            evidence_of_impact="Audit of 20 notifications: 19 shared within 24 hours",
            progress=[
                rows.progress(
                    london(2026, 7, 20, 10),
                    "Protocol revised and agreed at the MASH board",
                    "mash-protocol-v3.pdf",
                    "board-minutes-2026-07.pdf",
                )
            ],
        ),
        rows.action(
            PUBLISHED,
            2,
            "bedfordshire-police",
            "Train public protection officers in joint triage",
            lead_role="Detective Chief Inspector, Public Protection",
            recommendation=1,
            themes=["domestic_abuse"],
            measure="Every officer in the unit trained",
            due_at=london(2026, 8, 31, 17),
            escalations_sent=2,
            progress=[rows.progress(london(2026, 8, 10, 10), "Training plan drafted", "training-plan.docx")],
        ),
        rows.action(
            PUBLISHED,
            3,
            "luton-schools",
            "Add the child's voice to school referral forms",
            lead_role="Chair of the designated safeguarding leads' network",
            recommendation=2,
            themes=["voice_of_the_child"],
            measure="New form in use",
            due_at=london(2026, 9, 4, 17),
            status="withdrawn",
        ),
    ]
    commissioned = london(2026, 1, 12)
    events(PUBLISHED, EventKind.review_commissioned, commissioned, stream="review", occurred_at=commissioned)
    events(PUBLISHED, EventKind.final_report, london(2026, 5, 15), stream="review", received_on="2026-05-15")
    events(
        PUBLISHED, EventKind.published, london(2026, 6, 30, 12), stream="review", published_on="2026-06-30"
    )
    for number in (1, 2, 3):
        events(
            PUBLISHED,
            EventKind.action_added,
            london(2026, 7, 1),
            stream="plan",
            action=f"A{number}",
            task=f"{PUBLISHED}.P{number}",
        )
    for number, recipients, at in [
        (1, ["owning_agency"], london(2026, 9, 1, 9)),
        (2, ["jcrg_chair"], london(2026, 9, 15, 9)),
    ]:
        events(
            PUBLISHED,
            EventKind.escalation_sent,
            at,
            stream="plan",
            deadline="D2",
            key="action_due",
            recipients=recipients,
            number=number,
        )
        year.append(
            rows.notification(
                f"{PUBLISHED}.P2",
                "escalation",
                f"case-{PUBLISHED}/plan:D2:escalation:{number}",
                created_at=at,
                recipients=recipients,
                owning_agency="bedfordshire-police",
                stream="plan",
                title="Action completed by the date set",
                deadline_id="D2",
                deadline_key="action_due",
                number=number,
            )
        )
    events(
        PUBLISHED,
        EventKind.task_withdrawn,
        london(2026, 9, 20),
        stream="plan",
        reasons=SUMMARY,
        task=f"{PUBLISHED}.P3",
    )

    # A CSPR completed but decided not to publish, and its plan: one action done, awaiting its audit.
    year += [
        case(UNPUBLISHED, "local_review", london(2024, 9, 2, 9)),
        rows.review(
            UNPUBLISHED,
            "finished",
            london(2024, 10, 1),
            outcome="completed_not_published",
            finished_at=london(2026, 9, 10, 12),
        ),
        rows.action_plan(UNPUBLISHED, updated_at=london(2026, 9, 30)),
        cspr_due(UNPUBLISHED, london(2025, 4, 1, 17), met_at=london(2026, 9, 10, 12)),
        action_due(UNPUBLISHED, 1, london(2026, 9, 15, 17), met_at=london(2026, 9, 1, 12)),
        action_due(UNPUBLISHED, 2, london(2026, 12, 15, 17)),
        rows.recommendation(UNPUBLISHED, 1, "Improve health visitors' recognition of neglect in babies"),
        rows.recommendation(UNPUBLISHED, 2, "Review the early help offer for families with young babies"),
        rows.action(
            UNPUBLISHED,
            1,
            "ccs-health",
            "Roll out the Graded Care Profile 2 to all health visitors",
            lead_role="Named Nurse for Safeguarding",
            recommendation=1,
            themes=["neglect", "physical_harm_to_under_2s"],
            measure="GCP2 used in 80% of neglect assessments",
            due_at=london(2026, 9, 15, 17),
            status="completed_pending_audit",
            completed_at=london(2026, 9, 1, 12),
            evidence_of_impact="GCP2 used in 84% of sampled assessments",
            progress=[
                rows.progress(london(2026, 6, 30, 10), "45 health visitors trained", "gcp2-attendance.xlsx")
            ],
        ),
        rows.action(
            UNPUBLISHED,
            2,
            "ccs-health",
            "Audit neglect referrals from health visiting",
            lead_role="Head of Health Visiting",
            recommendation=1,
            themes=["neglect"],
            measure="Audit reported to the JCRG",
            due_at=london(2026, 12, 15, 17),
        ),
    ]
    commissioned = london(2024, 10, 1)
    events(
        UNPUBLISHED, EventKind.review_commissioned, commissioned, stream="review", occurred_at=commissioned
    )
    events(
        UNPUBLISHED, EventKind.final_report, london(2025, 12, 1), stream="review", received_on="2025-12-01"
    )
    events(
        UNPUBLISHED,
        EventKind.not_published,
        london(2026, 9, 10, 12),
        stream="review",
        reasons=NOT_PUBLISHED_BECAUSE,
        published_instead=NOT_PUBLISHED_BECAUSE,
    )
    for number in (1, 2):
        events(
            UNPUBLISHED,
            EventKind.action_added,
            london(2026, 4, 20),
            stream="plan",
            action=f"A{number}",
            task=f"{UNPUBLISHED}.P{number}",
        )

    # Another partnership's case, its action overdue: never in these reports.
    year += [
        case(ELSEWHERE, "learning_actions", london(2026, 5, 1, 9), partnership="elsewhere"),
        rows.action_plan(ELSEWHERE, updated_at=london(2026, 9, 30), partnership="elsewhere"),
        deadline(
            ELSEWHERE,
            1,
            "action_due",
            london(2026, 6, 1, 17),
            stream="plan",
            status="overdue",
            partnership="elsewhere",
        ),
        rows.recommendation(ELSEWHERE, 1, "Another partnership's recommendation", partnership="elsewhere"),
        rows.action(
            ELSEWHERE,
            1,
            "elsewhere-council",
            "Another partnership's action",
            lead_role="Director",
            recommendation=1,
            themes=["neglect"],
            measure="Not ours",
            due_at=london(2026, 6, 1, 17),
            partnership="elsewhere",
        ),
    ]
    rows.write(engine, [*year, *events.rows])


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed_year(engine)
    return engine


@pytest.fixture(scope="module")
def year_on_record(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The seeded year once for the tests that only read it (migrating a database takes most of a second)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('reports') / 'read-model.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    seed_year(engine)
    yield engine
    engine.dispose()


def spring_to_autumn(engine: Engine) -> ClosingTheLoop:
    return closing_the_loop_figures(
        engine, PARTNERSHIP, SPRING, AUTUMN, partnership_name="Pan Bedfordshire", as_of=AS_OF
    )


# ---------------------------------------------------------------- the period a scheduled run covers


def test_the_october_run_covers_april_to_september_and_the_april_run_the_winter_before(
    policy: Policy,
) -> None:
    rules = policy.reports
    assert rules is not None
    assert closing_the_loop_period(date(2026, 10, 1), rules) == (date(2026, 4, 1), date(2026, 9, 30))
    assert closing_the_loop_period(date(2027, 4, 1), rules) == (date(2026, 10, 1), date(2027, 3, 31))
    # A run that starts late (a worker down on the day) still covers the period just ended.
    assert closing_the_loop_period(date(2026, 10, 3), rules) == (date(2026, 4, 1), date(2026, 9, 30))
    once_a_year = rules.model_copy(update={"closing_the_loop_on": ["04-01"]})
    assert closing_the_loop_period(date(2027, 4, 1), once_a_year) == (date(2026, 4, 1), date(2027, 3, 31))


# ---------------------------------------------------------------- the closing-the-loop figures


def test_the_closing_the_loop_report_groups_every_reviews_actions_by_theme(year_on_record: Engine) -> None:
    figures = spring_to_autumn(year_on_record)

    assert figures.totals.model_dump() == {
        "actions": 5,
        "completed": 2,
        "pending_audit": 1,
        "open": 2,
        "overdue": 1,
        "withdrawn": 1,
    }
    counts = {t.theme: t.counts.model_dump() for t in figures.themes}
    # In the partnership's order of themes; an action with two themes is counted under both.
    assert list(counts) == [
        "neglect",
        "domestic_abuse",
        "physical_harm_to_under_2s",
        "information_sharing",
        "voice_of_the_child",
    ]
    assert counts["neglect"] == {
        "actions": 2, "completed": 1, "pending_audit": 1, "open": 1, "overdue": 0, "withdrawn": 0
    }  # fmt: skip
    assert counts["domestic_abuse"] == {
        "actions": 2, "completed": 1, "pending_audit": 0, "open": 1, "overdue": 1, "withdrawn": 0
    }  # fmt: skip
    assert counts["physical_harm_to_under_2s"]["completed"] == counts["information_sharing"]["completed"] == 1
    assert counts["voice_of_the_child"]["withdrawn"] == 1

    abuse = next(t for t in figures.themes if t.theme == "domestic_abuse")
    (review,) = abuse.reviews
    assert (review.case_reference, review.review_kind, review.published, review.publication_date) == (
        PUBLISHED,
        "local_cspr",
        True,
        date(2026, 6, 30),
    )
    assert [r.recommendation_id for r in review.recommendations] == ["R1"]
    assert [a.action_id for a in review.actions] == ["A1", "A2"]
    front_door = review.actions[0]
    assert front_door.progress[0].evidence == ["mash-protocol-v3.pdf", "board-minutes-2026-07.pdf"]
    assert front_door.evidence_of_impact == "Audit of 20 notifications: 19 shared within 24 hours"
    neglect = next(t for t in figures.themes if t.theme == "neglect")
    assert [(r.case_reference, r.outcome, r.published) for r in neglect.reviews] == [
        (UNPUBLISHED, "completed_not_published", False)
    ]
    assert [(r.case_reference, r.recommendation_id) for r in figures.recommendations_without_actions] == [
        (UNPUBLISHED, "R2")
    ]
    assert all(r.case_reference != ELSEWHERE for t in figures.themes for r in t.reviews)


def test_an_action_completed_after_the_period_shows_as_it_stood_at_the_periods_end(
    year_on_record: Engine,
) -> None:
    """The front-door protocol was signed off on 15 August 2026: a report on April to July shows it open
    and without its evidence of impact, however much later the report is made."""
    figures = closing_the_loop_figures(
        year_on_record,
        PARTNERSHIP,
        SPRING,
        date(2026, 7, 31),
        partnership_name="Pan Bedfordshire",
        as_of=AS_OF,
    )
    front_door = next(
        a
        for t in figures.themes
        for r in t.reviews
        for a in r.actions
        if (a.case_reference, a.action_id) == (PUBLISHED, "A1")
    )
    assert (front_door.status, front_door.completed_at, front_door.evidence_of_impact) == ("open", None, None)
    assert [p.summary for p in front_door.progress] == ["Protocol revised and agreed at the MASH board"]


def test_an_overdue_action_shows_how_far_it_was_escalated(year_on_record: Engine) -> None:
    (overdue,) = spring_to_autumn(year_on_record).overdue
    assert (overdue.case_reference, overdue.action_id, overdue.agency) == (
        PUBLISHED,
        "A2",
        "bedfordshire-police",
    )
    assert overdue.days_overdue == 30  # due 31 August, judged at the end of 30 September
    assert overdue.escalations_sent == 2
    assert [(t.number, t.recipients) for t in overdue.escalation_tiers] == [
        (1, ["owning_agency"]),
        (2, ["jcrg_chair"]),
    ]


def test_deadlines_due_in_the_period_are_counted_as_met_on_time_met_late_or_missed(
    year_on_record: Engine,
) -> None:
    compliance = {
        d.key: (d.due, d.met_on_time, d.met_late, d.missed, d.not_yet_due)
        for d in spring_to_autumn(year_on_record).deadlines
    }
    assert compliance == {
        "notify_panel": (1, 1, 0, 0, 0),
        "report_to_partners": (1, 0, 1, 0, 0),
        "rapid_review_to_panel": (1, 1, 0, 0, 0),
        "cspr_completion": (1, 1, 0, 0, 0),  # the paused review's is not due yet
        "action_due": (3, 2, 0, 1, 0),  # the withdrawn action's deadline was cancelled
        "referral_written_confirmation": (1, 0, 1, 0, 0),
    }


# ---------------------------------------------------------------- the yearly report's figures


def test_the_yearly_figures_count_a_realistic_year(year_on_record: Engine) -> None:
    year = yearly_figures(year_on_record, PARTNERSHIP, date(2026, 4, 1), as_of=AS_OF)

    assert (year.year_start, year.year_end) == (date(2026, 4, 1), date(2027, 3, 31))
    # The notification, and the referral screened in and notified to the Panel.
    assert year.notifications == 2
    agency, cdop = year.referrals
    assert agency.model_dump() == {
        "route": "agency_referral",
        "received": 2,
        "screened_in": 1,
        "not_met": {"single_agency_learning": 1},
        "awaiting_screening": 0,
    }
    assert cdop.received == 0
    # Two sent in the year (one still awaiting the Panel, with no deadline met), one concluded.
    assert (year.rapid_reviews_sent, year.rapid_reviews_sent_on_time, year.rapid_reviews_concluded) == (
        2,
        1,
        1,
    )
    assert year.rapid_review_outcomes == {"local_cspr": 1}
    assert (year.cspr_published, year.cspr_published_within_six_months) == (1, 1)
    assert (year.cspr_completed_not_published, year.cspr_decided_not_to_publish) == (1, 1)
    assert (year.cspr_underway, year.cspr_underway_clock_stopped) == (1, 1)
    assert (year.actions_completed, year.actions_outstanding, year.actions_overdue) == (2, 2, 1)
    assert [(t.theme, t.completed, t.outstanding, t.overdue) for t in year.actions_by_theme] == [
        ("neglect", 1, 1, 0),
        ("domestic_abuse", 1, 1, 1),
        ("physical_harm_to_under_2s", 1, 0, 0),
        ("information_sharing", 1, 0, 0),
    ]


def test_the_year_before_is_counted_as_it_stood_at_its_end(year_on_record: Engine) -> None:
    year = yearly_figures(year_on_record, PARTNERSHIP, date(2025, 4, 1), as_of=AS_OF)

    assert year.notifications == 1  # the published review's case, notified in November 2025
    assert year.rapid_reviews_concluded == 0
    assert year.cspr_published == 0
    # At 31 March 2026 one review awaited publication (its decision not to publish came in September) and
    # one was underway (published in June); no action of either plan had been agreed yet.
    assert (year.cspr_awaiting_publication, year.cspr_decided_not_to_publish) == (1, 0)
    assert (year.cspr_underway, year.cspr_underway_clock_stopped) == (1, 0)
    assert (year.actions_completed, year.actions_outstanding, year.actions_by_theme) == (0, 0, [])


# ---------------------------------------------------------------- the rendered report


def normalised(text: str) -> str:
    return " ".join(text.split())


def test_the_pdf_holds_the_themes_and_figures_and_never_the_case_summary(year_on_record: Engine) -> None:
    html = render_html(spring_to_autumn(year_on_record), made_at=AS_OF)
    pdf = render_pdf(html)
    reader = PdfReader(io.BytesIO(pdf))
    text = normalised("\n".join(page.extract_text() for page in reader.pages))

    assert "Closing the loop: 1 April to 30 September 2026" in text
    for theme in ("Neglect", "Domestic abuse", "Physical harm to under-2s", "Information sharing"):
        assert theme in text
    assert "All actions 5" in text
    assert "Withdrawn 1" in text
    assert PUBLISHED in text and UNPUBLISHED in text
    assert "mash-protocol-v3.pdf" in "".join(text.split())  # a narrow column may break it at a hyphen
    assert "Tier 2: the JCRG chair" in text
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged, for assistive technology
    for secret in (SUMMARY, SCREENING_REASONS, RETURN, NOT_PUBLISHED_BECAUSE):
        assert normalised(secret) not in text
        assert secret not in html
        assert secret.split(";")[0] not in html
    assert ELSEWHERE not in html


def test_the_html_report_is_accessible_tables_with_captions_and_scoped_headers(
    year_on_record: Engine,
) -> None:
    html = render_html(spring_to_autumn(year_on_record), made_at=AS_OF)
    assert '<html lang="en-GB">' in html
    assert html.count("<table") == html.count("<caption") > 3
    assert re.findall(r"<th\b(?![^>]*\bscope=)[^>]*>", html) == []
    assert html.count("<h1") == 1


def test_the_yearly_figures_render_to_pdf(year_on_record: Engine) -> None:
    year = yearly_figures(year_on_record, PARTNERSHIP, date(2026, 4, 1), as_of=AS_OF)
    text = normalised(
        "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(render_html(year)))).pages)
    )
    assert "Number of CSPRs published 1" in text
    assert "Number of CSPRs completed but not published 1" in text
    assert "Number of CSPRs underway 1" in text
    assert "Domestic abuse 1 1 1" in text


# ---------------------------------------------------------------- the workflow


@asynccontextmanager
async def reporting_worker(client: Client, engine: Engine, task_queue: str) -> AsyncIterator[Worker]:
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=[ClosingTheLoopWorkflow],
            activities=[ReportActivities(engine, PUBLIC_URL).build_closing_the_loop],
            activity_executor=executor,
            workflow_runner=SANDBOX,
            workflow_failure_exception_types=[Exception],
        ) as worker:
            yield worker


async def make_report(
    env: WorkflowEnvironment,
    task_queue: str,
    policy: Policy,
    workflow_id: str,
    period_start: date | None = None,
    period_end: date | None = None,
    by: str = "schedule",
) -> ReportMade:
    request = ReportRequest(
        partnership=PARTNERSHIP,
        period_start=period_start,
        period_end=period_end,
        requested_by=by,
        rules=policy.reports,  # type: ignore[arg-type]
    )
    return await env.client.execute_workflow(
        ClosingTheLoopWorkflow.run, request, id=workflow_id, task_queue=task_queue
    )


async def test_the_scheduled_run_reports_on_the_period_just_ended_once(
    env: WorkflowEnvironment, seeded: Engine, task_queue: str, policy: Policy
) -> None:
    async with reporting_worker(env.client, seeded, task_queue):
        scheduled = await make_report(env, task_queue, policy, "closing-the-loop-scheduled")
        started = await env.client.get_workflow_handle("closing-the-loop-scheduled").describe()
        today = started.start_time.astimezone(LONDON).date()
        assert (scheduled.period_start, scheduled.period_end) == closing_the_loop_period(
            today,
            policy.reports,  # type: ignore[arg-type]
        )
        asked = [
            await make_report(
                env, task_queue, policy, f"report-{n}", period_start=SPRING, period_end=AUTUMN, by="bu.1"
            )
            for n in (1, 2)
        ]

    first, again = asked
    assert (first.new, again.new) == (True, False)
    assert first.id == again.id and first.created_at == again.created_at
    with Session(seeded) as session:
        stored = session.get_one(ReportRow, first.id)
        assert session.scalar(select(func.count()).select_from(ReportRow)) == 2  # the scheduled one and this
        (notice,) = session.scalars(select(NotificationRow).where(NotificationRow.case_reference == first.id))
        deliveries = session.scalars(
            select(DeliveryRow).where(DeliveryRow.notification_id == notice.id)
        ).all()
    assert (stored.kind, stored.period_start, stored.period_end, stored.created_by) == (
        "closing_the_loop",
        SPRING,
        AUTUMN,
        "bu.1",
    )
    assert stored.figures["totals"]["actions"] == 5
    assert stored.pdf is not None and stored.pdf.startswith(b"%PDF")
    assert SUMMARY not in stored.html
    assert (notice.kind, notice.recipients, notice.title) == (
        "decision",
        ["business_unit"],
        "Closing-the-loop report ready: 1 April to 30 September 2026",
    )
    assert notice.asked == f"Open it, signed in, at {PUBLIC_URL}/dashboard/reports/{first.id}.pdf"
    assert [(d.agency, d.address) for d in deliveries] == [("lscp-business-unit", "lscp@luton.example.org")]


async def test_time_skipped_to_the_schedules_april_day_the_report_covers_the_winter_before(
    env: WorkflowEnvironment, seeded: Engine, task_queue: str, policy: Policy
) -> None:
    """What the Schedule does on its day (the time-skipping server has no Schedules: the test moves its
    clock to the day the policy names and starts the workflow as the Schedule's action does)."""
    from tests.conftest import advance_to
    from tests.support import london

    await advance_to(env, london(2027, 4, 1, 6))
    async with reporting_worker(env.client, seeded, task_queue):
        made = await make_report(env, task_queue, policy, "closing-the-loop-april-2027")
    assert (made.period_start, made.period_end) == (date(2026, 10, 1), date(2027, 3, 31))
    with Session(seeded) as session:
        assert session.get_one(ReportRow, made.id).created_by == "schedule"


@pytest.mark.postgres
def test_on_postgresql_the_figures_are_the_same_and_a_retried_activity_stores_the_report_once(
    postgres_url: str, year_on_record: Engine
) -> None:
    engine = make_engine(postgres_url)
    try:
        seed_year(engine)
        assert spring_to_autumn(engine) == spring_to_autumn(year_on_record)
        a_year = date(2026, 4, 1)
        assert yearly_figures(engine, PARTNERSHIP, a_year, as_of=AS_OF) == yearly_figures(
            year_on_record, PARTNERSHIP, a_year, as_of=AS_OF
        )
        order = ReportOrder(
            partnership=PARTNERSHIP, period_start=SPRING, period_end=AUTUMN, requested_by="bu.1"
        )
        activities = ReportActivities(engine, PUBLIC_URL)
        made, retried = activities.build_closing_the_loop(order), activities.build_closing_the_loop(order)
        assert (made.new, retried.new, retried.id) == (True, False, made.id)
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(ReportRow)) == 1
            assert (
                session.scalar(
                    select(func.count())
                    .select_from(NotificationRow)
                    .where(NotificationRow.case_reference == made.id)
                )
                == 1
            )
            assert session.get_one(ReportRow, made.id).figures["totals"]["overdue"] == 1
    finally:
        engine.dispose()


# ---------------------------------------------------------------- the API


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path, task_queue: str) -> Settings:
    return Settings(
        database_url=sqlite_url,
        local_signing_key_file=tmp_path / "local-signing.key",
        public_url=PUBLIC_URL,
        task_queue=task_queue,
    )


def signed_in(settings: Settings, role: Role) -> dict[str, str]:
    partner = StatutoryPartner.police if role is Role.safeguarding_partner else None
    agency = "luton-schools" if role is Role.partner_agency else None
    token = mint_local_token(settings, user=f"{role.value}.user", role=role, agency=agency, partner=partner)
    return {"Authorization": f"Bearer {token}"}


async def test_the_business_unit_asks_for_the_report_and_the_readers_download_it(
    env: WorkflowEnvironment, seeded: Engine, settings: Settings, task_queue: str
) -> None:
    app = create_app(settings, client=env.client)
    as_role = {role: signed_in(settings, role) for role in Role}
    bu = as_role[Role.business_unit]
    period = {"partnership": PARTNERSHIP, "period_start": "2026-04-01", "period_end": "2026-09-30"}
    async with (
        reporting_worker(env.client, seeded, task_queue),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://reports.test") as http,
    ):
        made = await http.post("/reports/closing-the-loop", json=period, headers=bu)
        assert made.status_code == 201, made.text
        report = made.json()
        again = await http.post("/reports/closing-the-loop", json=period, headers=bu)
        assert (again.status_code, again.json()["id"]) == (200, report["id"])
        assert report["pdf"] == f"/reports/{report['id']}.pdf"

        for refused in (
            {**period, "period_end": "2026-03-31"},  # ends before it starts
            {**period, "period_end": "2028-04-01"},  # over 2 years
            {**period, "partnership": "nowhere-near"},
            {**period, "period_end": "2099-12-31", "period_start": "2099-01-01"},  # not ended yet
        ):
            answer = await http.post("/reports/closing-the-loop", json=refused, headers=bu)
            assert answer.status_code == 422, refused
        assert (
            await http.post("/reports/closing-the-loop", json=period, headers=as_role[Role.jcrg_chair])
        ).status_code == 403

        readers = {
            Role.business_unit,
            Role.manager,
            Role.independent_scrutineer,
            Role.jcrg_member,
            Role.jcrg_chair,
            Role.safeguarding_partner,  # the partners lead the partnership the report is for
        }
        for role, headers in as_role.items():
            listed = await http.get("/reports", headers=headers)
            pdf = await http.get(report["pdf"], headers=headers)
            if role in readers:
                assert [r["id"] for r in listed.json()] == [report["id"]]
                assert "figures" not in listed.json()[0] and "html" in listed.json()[0]
                assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
                assert pdf.content.startswith(b"%PDF")
            else:
                assert (listed.status_code, pdf.status_code) == (403, 403), role

        page = await http.get(report["html"], headers=as_role[Role.independent_scrutineer])
        assert page.headers["content-type"].startswith("text/html")
        assert "Domestic abuse" in page.text and SUMMARY not in page.text
        assert (
            await http.get("/reports/ctl-20260401-20260930-0000000000.pdf", headers=bu)
        ).status_code == 404

        yearly = await http.get(
            "/reports/yearly-figures",
            params={"partnership": PARTNERSHIP, "year": 2026},
            headers=as_role[Role.manager],
        )
        assert yearly.status_code == 200, yearly.text
        figures = yearly.json()
        assert (figures["year_start"], figures["year_end"]) == ("2026-04-01", "2027-03-31")
        assert (figures["notifications"], figures["cspr_published"], figures["cspr_underway"]) == (2, 1, 1)
        as_pdf = await http.get(
            "/reports/yearly-figures",
            params={"partnership": PARTNERSHIP, "year": 2026, "format": "pdf"},
            headers=bu,
        )
        assert as_pdf.content.startswith(b"%PDF")
        unknown = await http.get(
            "/reports/yearly-figures", params={"partnership": "nowhere-near", "year": 2026}, headers=bu
        )
        assert unknown.status_code == 422
        denied = await http.get(
            "/reports/yearly-figures",
            params={"partnership": PARTNERSHIP, "year": 2026},
            headers=as_role[Role.partner_agency],
        )
        assert denied.status_code == 403

    downloads = [
        (e.role, e.outcome)
        for e in entries(seeded, partnerships=["luton"])
        if e.action == "GET /reports/{report}.pdf"
    ]
    assert ("manager", "accepted") in downloads and ("business_unit", "refused") in downloads
    assert ("partner_agency", "denied") in downloads


def test_the_yearly_figures_count_learning_reviews_care_leavers_deaths_and_notifications_not_meeting_the_criteria(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'read-model.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    referral = partial(rows.case, route="agency_referral")
    done, running, before = "LLR-DONE", "LLR-RUNNING", "LLR-BEFORE"
    with Session(engine) as session:
        session.add_all(
            [
                referral(done, "closed", london(2026, 5, 1), outcome="local_learning_review"),
                referral(running, "learning_review", london(2026, 11, 2)),
                referral(before, "learning_review", london(2025, 12, 1)),
                rows.case(
                    "CL-1",
                    "closed",
                    london(2026, 6, 3),
                    route="care_leaver_death",
                    outcome="care_leaver_death_notified",
                ),
                rows.case("CL-OLD", "closed", london(2025, 6, 3), route="care_leaver_death"),
                rows.case(
                    "NM-1",
                    "closed",
                    london(2026, 7, 1),
                    outcome="did_not_meet_criteria",
                    closed_at=london(2026, 7, 9),
                ),
                rows.case("TH-1", "thematic_review", london(2026, 6, 1), route="thematic_review"),
                rows.case("NAT-1", "learning_actions", london(2026, 5, 5), route="learning_from_elsewhere"),
            ]
        )
        session.flush()
        session.add_all(
            [
                rows.review(done, "finished", london(2026, 5, 12), kind="local_learning_review",
                            outcome="completed", finished_at=london(2026, 8, 28, 12)),
                rows.review(running, "terms_agreed", london(2026, 11, 10), kind="local_learning_review"),
                rows.review(before, "learning_event_held", london(2025, 12, 8), kind="local_learning_review"),
                rows.deadline(done, 1, "learning_review_completion", london(2026, 9, 12, 17), stream="review",
                              status="met", met_at=london(2026, 8, 28, 12), statutory=False),
                rows.review("TH-1", "terms_agreed", london(2026, 6, 1), kind="thematic_review"),
                rows.action_plan("NAT-1", updated_at=london(2026, 5, 5)),
                rows.action("NAT-1", 1, "luton-schools", "Invite fathers", due_at=london(2026, 9, 30, 17),
                            source="national_review", themes=["voice_of_the_child"]),
            ]
        )  # fmt: skip
        session.commit()
    year = yearly_figures(engine, PARTNERSHIP, date(2026, 4, 1), as_of=AS_OF)
    assert year.learning_reviews.model_dump() == {
        "started": 2,
        "completed": 1,
        "completed_on_time": 1,
        "underway": 2,
    }
    assert (year.care_leaver_deaths, year.not_meeting_criteria) == (1, 1)
    assert (year.thematic_reviews.started, year.thematic_reviews.underway) == (1, 1)
    assert year.plans_from_elsewhere == {"national_review": 1}
    html = render_html(year)
    assert 'id="learning-reviews-completed">1<' in html and 'id="care-leaver-deaths">1<' in html
    assert 'id="not-meeting-criteria">1<' in html and 'id="thematic-reviews-started">1<' in html
    assert "Action plans from learning elsewhere: national review" in html
    engine.dispose()


def test_the_closing_the_loop_report_counts_every_learning_route_by_theme(tmp_path: Path) -> None:
    """A joint CSPR/SAR, a thematic review, a local learning review, a SAR, a plan from a national review
    and a rapid review's own learning: each route's plans and actions, and its themes."""
    url = f"sqlite:///{tmp_path / 'read-model.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    due = london(2026, 8, 28, 17)
    plans = {
        "JOINT-1": ("serious_incident_notification", "local_cspr", ["domestic_abuse", "neglect"]),
        "TH-1": ("thematic_review", "thematic_review", ["extrafamilial_harm"]),
        "LLR-1": ("agency_referral", "local_learning_review", ["neglect"]),
        "SAR-1": ("safeguarding_adults_review", "safeguarding_adults_review", ["domestic_abuse"]),
        "NAT-1": ("learning_from_elsewhere", None, ["voice_of_the_child"]),
        "RR-1": ("serious_incident_notification", None, ["neglect"]),
    }
    seeded: list[Any] = []
    for reference, (route, kind, themes) in plans.items():
        seeded += [rows.case(reference, "learning_actions", london(2026, 4, 2), route=route)]
        if kind is not None:
            seeded.append(rows.review(reference, "final_report", london(2026, 4, 10), kind=kind))
        seeded += [
            rows.action_plan(reference, updated_at=london(2026, 5, 1)),
            rows.action(
                reference, 1, "luton-schools", f"First action of {reference}", due_at=due, themes=themes
            ),
        ]
    seeded += [
        rows.action("JOINT-1", 2, "luton-police", "Second", due_at=london(2026, 12, 1, 17), themes=["neglect"]),
        rows.event("JOINT-1", 9, EventKind.recommendation_signed_off, london(2026, 4, 9),
                   recommendation="local_cspr", joint_with_adults_board=True),
    ]  # fmt: skip
    rows.write(engine, seeded)

    figures = closing_the_loop_figures(engine, PARTNERSHIP, SPRING, AUTUMN, as_of=AS_OF)
    by_route = {r.route: r for r in figures.routes}
    assert list(by_route) == [
        "joint_cspr_sar",
        "local_learning_review",
        "thematic_review",
        "safeguarding_adults_review",
        "rapid_review",
        "learning_from_elsewhere",
    ]
    joint = by_route["joint_cspr_sar"]
    assert (joint.plans, joint.counts.actions, joint.counts.overdue) == (1, 2, 1)
    assert {t: c.actions for t, c in joint.themes.items()} == {"neglect": 2, "domestic_abuse": 1}
    assert by_route["thematic_review"].themes["extrafamilial_harm"].actions == 1
    assert by_route["learning_from_elsewhere"].themes["voice_of_the_child"].overdue == 1
    neglect = next(t for t in figures.themes if t.theme == "neglect")
    assert {r.case_reference: r.route for r in neglect.reviews} == {
        "JOINT-1": "joint_cspr_sar",
        "LLR-1": "local_learning_review",
        "RR-1": "rapid_review",
    }
    html = render_html(figures)
    assert 'id="by-route"' in html
    assert "joint CSPR and Safeguarding Adults Review" in html and "thematic review" in html
    engine.dispose()
