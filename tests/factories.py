"""Files in a given state, built without a server by taking the real steps in order.

Every factory takes each step as a workflow does: the step's ``check_*`` (so a factory can never build
a state the rules would not reach), its ``apply_*``, then the milestones it reached, with ``reach``
standing in for the workflow's clock: the deadlines they meet are met, and those they start are opened
with hand-made due dates (a week after they start; no calendar, no server).

Fixed UTC times throughout: a case becomes known on Monday 5 October 2026, its review runs from
November 2026 to January 2027, and the tests act at ``NOW``, Tuesday 2 February 2027.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

from safeguarding.domain.action_plan import (
    ActionProgress,
    ActionSignedOff,
    ActionWithdrawn,
    AddAction,
    AddRecommendation,
    PlanClosed,
    PlanFile,
)
from safeguarding.domain.case import (
    CaseClosure,
    CaseFile,
    CaseOpening,
    InformationRequest,
    NotificationRecipient,
    NotificationRecord,
    OtherReviewType,
    PanelResponse,
    PanelResponseKind,
    PartnerSignOff,
    RapidReviewSent,
    Recommendation,
    RecommendationKind,
    ScreeningDecision,
    ScreeningLearningRoute,
    ScrutineerInformed,
    Stage,
)
from safeguarding.domain.contracts import DueDates
from safeguarding.domain.deadline_book import DeadlineBook, escalation_delays
from safeguarding.domain.deadlines import Deadline
from safeguarding.domain.events import EventKind
from safeguarding.domain.facts import ChildStatus, Route
from safeguarding.domain.milestones import Milestone, Reached
from safeguarding.domain.people import Actor, Role, StatutoryPartner
from safeguarding.domain.policy import DATE_SET, Policy
from safeguarding.domain.record import ScheduledCheckpoint, Stream, WorkRecord, workflow_id_for
from safeguarding.domain.refusal import Refusal, RefusalKind
from safeguarding.domain.review import NATIONAL_REVIEW_DUTIES as DUTIES  # the partners' duties
from safeguarding.domain.review import (
    SPINE,
    ClockStopped,
    CopySent,
    DraftReceived,
    FinalReport,
    InformationToPanel,
    LearningEventHeld,
    PanelReportReceived,
    ProceedingsKind,
    PublicationScheduled,
    Published,
    ReportApproved,
    ReviewerAppointed,
    ReviewFile,
    ReviewKind,
    ReviewStage,
    TermsAgreed,
)
from safeguarding.domain.rules import action_plan as plan_rules
from safeguarding.domain.rules import intake, rapid_review
from safeguarding.domain.rules import review as review_rules
from safeguarding.domain.rules import yearly_report as yearly_rules
from safeguarding.domain.rules.tasks import add_task, announce
from safeguarding.domain.tasks import Task
from safeguarding.domain.yearly_report import (
    PUBLISHED,
    SENT,
    ReportPublished,
    ReportSent,
    YearlyDeadline,
    YearlyFile,
    YearlyStart,
)
from safeguarding.platform.policy_files import load_policies

POLICY: Policy = load_policies(Path(__file__).resolve().parent.parent / "safeguarding" / "policies")["luton"]
LONDON = ZoneInfo("Europe/London")
REFERENCE = "LSCP-0001"


def utc(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


NOW = utc(2027, 2, 2, 10)
# The case
AWARE = utc(2026, 10, 5, 9)
REFERRED = utc(2026, 10, 5, 9, 30)
OPENED = utc(2026, 10, 5, 10)
SCREENED = utc(2026, 10, 5, 15)
NOTIFIED = utc(2026, 10, 6, 10)
REQUESTED = utc(2026, 10, 7, 10)
RECOMMENDED = utc(2026, 10, 14, 10)
SIGNED_OFF = utc(2026, 10, 15, 10)
INFORMED = utc(2026, 10, 16, 10)
SENT_TO_PANEL = utc(2026, 10, 16, 14)
PANEL_RESPONDED = utc(2026, 10, 30, 10)
# The review (decided when the Panel answered)
REVIEW_DAYS = {
    ReviewStage.reviewer_appointed: date(2026, 11, 16),
    ReviewStage.terms_agreed: date(2026, 11, 30),
    ReviewStage.learning_event_held: date(2026, 12, 14),
    ReviewStage.draft_received: date(2027, 1, 4),
    ReviewStage.approved: date(2027, 1, 6),
    ReviewStage.final_report: date(2027, 1, 11),
    ReviewStage.copy_sent: date(2027, 1, 12),
    ReviewStage.publication_scheduled: date(2027, 1, 25),
    ReviewStage.information_sent: date(2026, 11, 20),
    ReviewStage.finished: date(2027, 1, 25),
}
EARLIEST_PUBLICATION = date(2027, 1, 21)  # seven working days after the copy of 12 January
# The action plan
PLAN_OPENED = utc(2027, 1, 26, 10)
ACTION_DUE = date(2027, 3, 31)
# The yearly report of 2026-27 (the year ends on 1 April 2027)
YEAR_START = date(2026, 4, 1)
YEARLY_NOW = utc(2027, 6, 15, 10)

# ---------------------------------------------------------------- who acts

BUSINESS_UNIT = Actor(user_id="bu.officer", role=Role.business_unit)
JCRG_CHAIR = Actor(user_id="jcrg.chair", role=Role.jcrg_chair)
JCRG_MEMBER = Actor(user_id="jcrg.member", role=Role.jcrg_member)
MANAGER = Actor(user_id="manager", role=Role.manager)
SCRUTINEER = Actor(user_id="scrutineer", role=Role.independent_scrutineer)


def partner(which: StatutoryPartner) -> Actor:
    return Actor(user_id=f"{which.value}.lead", role=Role.safeguarding_partner, partner=which)


def agency(code: str = "luton-schools") -> Actor:
    return Actor(user_id=f"{code}.dsl", role=Role.partner_agency, agency=code)


LOCAL_AUTHORITY = partner(StatutoryPartner.local_authority)
POLICE = partner(StatutoryPartner.police)
ICB = partner(StatutoryPartner.integrated_care_board)
SCHOOLS = agency("luton-schools")
HEALTH = agency("luton-health")
ADULTS_BOARD = Actor(user_id="sab.representative", role=Role.adults_board_representative)
ONE_OF_EACH_ROLE = {
    Role.business_unit: BUSINESS_UNIT,
    Role.jcrg_member: JCRG_MEMBER,
    Role.jcrg_chair: JCRG_CHAIR,
    Role.safeguarding_partner: LOCAL_AUTHORITY,
    Role.independent_scrutineer: SCRUTINEER,
    Role.partner_agency: SCHOOLS,
    Role.manager: MANAGER,
    Role.adults_board_representative: ADULTS_BOARD,
}

# ---------------------------------------------------------------- the clock, by hand


def due_dates(due_at: datetime, reminders: int = 0, tiers: int = 0) -> DueDates:
    """Reminders on the days before ``due_at``; each later tier of escalation a fortnight apart."""
    return DueDates(
        due_at=due_at,
        reminder_times=[due_at - timedelta(days=n) for n in range(reminders, 0, -1)],
        escalation_times=[due_at + timedelta(days=14 * n) for n in range(1, tiers + 1)],
    )


def open_deadline(
    record: WorkRecord,
    key: str,
    started_at: datetime,
    subject: str | None = None,
    now: datetime | None = None,
    due_at: datetime | None = None,
) -> Deadline:
    """The policy's deadline ``key``, opened as the clock would, due ``due_at`` (by default a week after
    it starts, or on an action's date set at 17:00 London)."""
    rule = record.policy.deadlines[key]
    if due_at is None and rule.due == DATE_SET:
        action = record.action_for_task(subject)  # type: ignore[attr-defined]
        due_at = datetime.combine(action.due_on, time(17), LONDON)
    due_at = due_at or started_at + timedelta(days=7)
    tiers = record.policy.escalation_for(rule)
    dates = due_dates(due_at, len(rule.reminders), len(escalation_delays(tiers)))
    return DeadlineBook(record.deadlines).open(
        key, rule, tiers, started_at, dates, subject, now or started_at
    )


def reach(record: WorkRecord, reached: list[Reached], now: datetime) -> None:
    """What the workflow's clock does with milestones: meet deadlines, stop checkpoints, then open
    the deadlines and schedule the checkpoints they start (a checkpoint falls 30 days on)."""
    book, policy = DeadlineBook(record.deadlines), record.policy
    for milestone, at, subject in reached:
        book.meet(milestone, subject, at)
        for checkpoint in list(record.checkpoints):
            rule = policy.checkpoints[checkpoint.key]
            if milestone in rule.until and (checkpoint.subject == subject or subject is None):
                record.checkpoints.remove(checkpoint)
    for milestone, at, subject in reached:
        for key, _ in policy.rules_started_by(milestone, record.facts):
            open_deadline(record, key, at, subject, now)
        for key, _ in policy.checkpoints_started_by(milestone, record.facts):
            record.checkpoints.append(
                ScheduledCheckpoint(key=key, at=at + timedelta(days=30), subject=subject)
            )


def hold_checkpoint(record: WorkRecord, now: datetime) -> Task:
    """The first scheduled checkpoint's day: a task for whoever the policy names, with its deadline
    (and, for a repeating one, the next one scheduled)."""
    checkpoint = record.checkpoints.pop(0)
    rule = record.policy.checkpoints[checkpoint.key]
    asked = rule.title if checkpoint.subject is None else f"{rule.title} ({checkpoint.subject})"
    task = add_task(record, rule.task_for, "checkpoint", asked, now)
    deadline_rule = rule.as_deadline_rule(record.policy.escalate_to)
    tiers = record.policy.escalation_for(deadline_rule)
    DeadlineBook(record.deadlines).open(
        checkpoint.key, deadline_rule, tiers, now, due_dates(now + timedelta(days=14)), task.id, now
    )
    announce(record, task)
    if rule.every is not None:  # a repeating checkpoint: the next one is scheduled
        record.checkpoints.append(
            ScheduledCheckpoint(
                key=checkpoint.key,
                at=checkpoint.at + timedelta(days=30),
                subject=checkpoint.subject,
                sequence=checkpoint.sequence + 1,
            )
        )
    return task


def take(
    record: Any,
    check: Callable[..., None],
    apply: Callable[..., Any],
    actor: Actor,
    decision: BaseModel,
    now: datetime,
) -> list[Reached]:
    """One step as a workflow takes it: checked, applied, its milestones reached."""
    check(record, actor, decision, now)
    reached = apply(record, actor, decision, now) or []
    reach(record, reached, now)
    return reached


def refusal_of(
    check: Callable[..., None], file: BaseModel, actor: Actor, decision: Any, now: datetime
) -> Refusal:
    """The refusal ``check`` gives; asserts that it changed nothing."""
    before = file.model_dump()
    with pytest.raises(Refusal) as caught:
        check(file, actor, decision, now)
    assert file.model_dump() == before, "a refused step changed the file"
    return caught.value


def assert_refused(
    check: Callable[..., None],
    file: BaseModel,
    actor: Actor,
    decision: Any,
    now: datetime,
    kind: RefusalKind,
    fragment: str,
) -> Refusal:
    refusal = refusal_of(check, file, actor, decision, now)
    assert refusal.kind is kind, refusal.reason
    assert fragment in refusal.reason, refusal.reason
    return refusal


# ---------------------------------------------------------------- the case: intake and the rapid review

REASONS = "Bruising seen by three agencies was never shared between them"
RECOMMENDATIONS = {
    RecommendationKind.local_cspr: Recommendation(
        recommendation=RecommendationKind.local_cspr, methodology="Systems review (SILP)", reasons=REASONS
    ),
    RecommendationKind.other_review: Recommendation(
        recommendation=RecommendationKind.other_review,
        review_type=OtherReviewType.local_learning_review,
        reasons=REASONS,
    ),
    RecommendationKind.no_further_review: Recommendation(
        recommendation=RecommendationKind.no_further_review,
        learning_actions=["Refresh the multi-agency bruising protocol"],
        reasons=REASONS,
    ),
    RecommendationKind.national_review: Recommendation(
        recommendation=RecommendationKind.national_review, reasons=REASONS
    ),
}
# Where a concluded rapid review leads, and the recommendation (and Panel answer) that leads there.
CONCLUDED = {
    Stage.local_review: (RecommendationKind.local_cspr, PanelResponseKind.agrees),
    Stage.other_review: (RecommendationKind.other_review, PanelResponseKind.agrees),
    Stage.learning_actions: (RecommendationKind.no_further_review, PanelResponseKind.agrees),
    Stage.national_review: (RecommendationKind.local_cspr, PanelResponseKind.national_review),
}
# How far a rapid review has gone, in order.
RAPID_REVIEW = ("opened", "notified", "recommended", "signed_off", "scrutineer_informed", "sent")


def opening(
    route: Route = Route.serious_incident_notification,
    child_status: ChildStatus = ChildStatus.neither,
    child_died: bool = False,
    **more: Any,
) -> CaseOpening:
    return CaseOpening.model_validate(
        {
            "reference": REFERENCE,
            "partnership": "luton",
            "route": route,
            "la_aware_at": AWARE,
            "referred_at": None if route is Route.serious_incident_notification else REFERRED,
            "referring_agency": "luton-childrens-social-care",
            "child_status": child_status,
            "child_died": child_died,
            "summary": "Infant admitted to hospital with unexplained injuries.",
            **more,
        }
    )


def open_case(
    route: Route = Route.serious_incident_notification,
    child_status: ChildStatus = ChildStatus.neither,
    child_died: bool = False,
) -> CaseFile:
    """A case as its workflow opens it: its first milestones reached, its first deadlines open."""
    file = CaseFile.open(opening(route, child_status, child_died), POLICY, OPENED)
    file.record(EventKind.case_opened, OPENED, actor=BUSINESS_UNIT, occurred_at=AWARE, route=route.value)
    reached: list[Reached] = [(Milestone.case_opened, AWARE, None)]
    if file.notifiable:
        reached.append((Milestone.incident_notifiable, AWARE, None))
    if file.opening.referred_at is not None:
        reached.append((Milestone.referral_made, REFERRED, None))
    reach(file, reached, OPENED)
    return file


def screen(file: CaseFile, met: bool = True) -> None:
    decision = ScreeningDecision(
        criteria_met=met,
        learning_route=None if met else ScreeningLearningRoute.multi_agency_audit,
        reasons="Serious harm; abuse suspected" if met else "Below the threshold; an audit follows",
    )
    take(file, intake.check_screening, intake.apply_screening, JCRG_CHAIR, decision, SCREENED)


def notify(file: CaseFile, recipient: NotificationRecipient, at: datetime = NOTIFIED) -> None:
    record = NotificationRecord(recipient=recipient, sent_at=at)
    take(file, intake.check_notification, intake.apply_notification, BUSINESS_UNIT, record, at)


def request_information(file: CaseFile, *agencies: str, now: datetime = REQUESTED) -> list[Task]:
    """The Business Unit asks ``agencies`` for their information; each hears of its task."""
    request = InformationRequest(agencies=list(agencies), asked_for="A chronology of involvement")
    rapid_review.check_information_request(file, BUSINESS_UNIT, request, now)
    asked, reached = rapid_review.apply_information_request(file, BUSINESS_UNIT, request, now)
    reach(file, reached, now)
    for task in asked:
        announce(file, task)
    return asked


def recommend(file: CaseFile, kind: RecommendationKind = RecommendationKind.local_cspr) -> None:
    rec = RECOMMENDATIONS[kind]
    take(
        file,
        rapid_review.check_recommendation,
        rapid_review.apply_recommendation,
        JCRG_CHAIR,
        rec,
        RECOMMENDED,
    )


def sign_off(file: CaseFile, who: StatutoryPartner, agrees: bool = True, at: datetime = SIGNED_OFF) -> None:
    decision = PartnerSignOff(partner=who, agrees=agrees, reasons="Agreed" if agrees else "Not agreed")
    take(file, rapid_review.check_sign_off, rapid_review.apply_sign_off, partner(who), decision, at)


def respond(file: CaseFile, response: PanelResponseKind) -> None:
    answer = PanelResponse(response=response, received_at=PANEL_RESPONDED, reasons="The Panel's letter")
    take(
        file, rapid_review.check_panel_response, rapid_review.apply_panel_response, BUSINESS_UNIT, answer,
        PANEL_RESPONDED,
    )  # fmt: skip
    rapid_review.conclude(file, PANEL_RESPONDED)


def case_file(
    route: Route = Route.serious_incident_notification,
    stage: Stage = Stage.rapid_review,
    *,
    upto: str = "opened",
    recommendation: RecommendationKind = RecommendationKind.local_cspr,
    notified: Sequence[NotificationRecipient] = (
        NotificationRecipient.panel,
        NotificationRecipient.safeguarding_partners,
    ),
    asked: Sequence[str] = (),
    child_status: ChildStatus = ChildStatus.neither,
    child_died: bool = False,
    **changes: Any,
) -> CaseFile:
    """A case at ``stage``, reached by the real steps: at ``screening`` a referral not yet screened; in
    the ``rapid_review`` as far as ``upto`` (one of ``RAPID_REVIEW``; a referral is screened in first);
    concluded to a later stage by the Panel's answer; ``closed``: a referral screened out, or a case
    closed by the Business Unit after a rapid review with no further review. The agencies ``asked``
    are asked for information once the rapid review starts. ``changes`` are then set on the file as
    they are."""
    file = open_case(route, child_status, child_died)
    if stage is Stage.screening:
        assert file.is_referral, "only a referral waits for screening"
    elif stage is Stage.closed and file.is_referral:
        screen(file, met=False)
    else:
        if file.is_referral:
            screen(file)
        if stage is not Stage.rapid_review:
            upto = RAPID_REVIEW[-1]
            recommendation = CONCLUDED.get(stage, (RecommendationKind.no_further_review, None))[0]
        done = RAPID_REVIEW[: RAPID_REVIEW.index(upto) + 1]
        if "notified" in done:
            for recipient in notified:
                notify(file, recipient)
        if asked:
            request_information(file, *asked)
        if "recommended" in done:
            recommend(file, recommendation)
        if "signed_off" in done:
            for who in StatutoryPartner:
                sign_off(file, who)
        if "scrutineer_informed" in done:
            informed = ScrutineerInformed(informed_at=INFORMED)
            take(
                file, rapid_review.check_scrutineer_informed, rapid_review.apply_scrutineer_informed,
                BUSINESS_UNIT, informed, INFORMED,
            )  # fmt: skip
        if "sent" in done:
            sent = RapidReviewSent(sent_at=SENT_TO_PANEL)
            take(file, rapid_review.check_sent, rapid_review.apply_sent, BUSINESS_UNIT, sent, SENT_TO_PANEL)
        if stage is not Stage.rapid_review:
            respond(file, CONCLUDED.get(stage, (None, PanelResponseKind.agrees))[1])
        if stage is Stage.closed:
            closure = CaseClosure(reasons="Learning actions agreed; nothing more to review")
            take(file, intake.check_closure, intake.apply_closure, BUSINESS_UNIT, closure, PANEL_RESPONDED)
    for name, value in changes.items():
        setattr(file, name, value)
    return file


# ---------------------------------------------------------------- the review


def _review_step(file: ReviewFile, stage: ReviewStage, now: datetime) -> None:
    """Take the step that moves ``file`` to ``stage``."""
    day = REVIEW_DAYS[stage]
    rules = review_rules
    steps: dict[ReviewStage, tuple[Callable[..., None], Callable[..., Any], BaseModel]] = {
        ReviewStage.reviewer_appointed: (
            rules.check_reviewer_appointed,
            rules.apply_reviewer_appointed,
            ReviewerAppointed(reviewer="An independent reviewer", appointed_on=day),
        ),
        ReviewStage.terms_agreed: (
            rules.check_terms_agreed,
            rules.apply_terms_agreed,
            TermsAgreed(methodology="Systems review", terms_of_reference="Agreed terms", agreed_on=day),
        ),
        ReviewStage.learning_event_held: (
            rules.check_learning_event, rules.apply_learning_event, LearningEventHeld(held_on=day),
        ),
        ReviewStage.draft_received: (
            rules.check_draft_received, rules.apply_draft_received, DraftReceived(received_on=day),
        ),
        ReviewStage.final_report: (
            rules.check_final_report,
            rules.apply_final_report,
            FinalReport(received_on=day, recommendations=["Share bruising concerns across agencies"]),
        ),
        ReviewStage.copy_sent: (rules.check_copy_sent, rules.apply_copy_sent, CopySent(sent_on=day)),
        ReviewStage.publication_scheduled: (
            rules.check_publication_scheduled,
            rules.apply_publication_scheduled,
            PublicationScheduled(publication_date=day),
        ),
        ReviewStage.information_sent: (
            rules.check_information_to_panel, rules.apply_information_to_panel, InformationToPanel(sent_on=day),
        ),
    }  # fmt: skip
    if stage is ReviewStage.approved:
        for who in StatutoryPartner:
            step = ReportApproved(partner=who, reasons="Approved")
            take(file, rules.check_report_approved, rules.apply_report_approved, partner(who), step, now)
        return
    if stage is ReviewStage.finished and file.kind is ReviewKind.national_review:
        step = PanelReportReceived(received_on=day, recommendations=["Learn from the national review"])
        check, apply = rules.check_panel_report, rules.apply_panel_report
    elif stage is ReviewStage.finished:
        check, apply, step = rules.check_published, rules.apply_published, Published(published_on=day)
    else:
        check, apply, step = steps[stage]
    take(file, check, apply, BUSINESS_UNIT, step, now)
    if stage is ReviewStage.copy_sent:
        review_rules.publication_notice_given(file, EARLIEST_PUBLICATION)


def review_file(
    kind: ReviewKind = ReviewKind.local_cspr,
    stage: ReviewStage = ReviewStage.commissioned,
    *,
    paused: bool = False,
    **changes: Any,
) -> ReviewFile:
    """A review of ``kind`` as its workflow starts it, taken step by step along its spine to ``stage``
    (another type of review finishes with its final report); ``paused``: its clock then stopped at
    ``NOW`` for an inquest. ``changes`` are then set as they are."""
    file = ReviewFile(
        reference=REFERENCE,
        stream=Stream.review,
        workflow_id=workflow_id_for("luton", REFERENCE, Stream.review),
        policy=POLICY,
        facts={**opening().facts(), "review_kind": kind.value},
        kind=kind,
        decided_at=PANEL_RESPONDED,
        started_at=PANEL_RESPONDED,
    )
    file.record(EventKind.review_commissioned, PANEL_RESPONDED, kind=kind.value)
    reached: list[Reached] = [(Milestone.review_decided, PANEL_RESPONDED, None)]
    duties = []
    if kind is ReviewKind.national_review:
        reached.append((Milestone.national_review_taken, PANEL_RESPONDED, None))
        duties = [add_task(file, "business_unit", "review_duty", duty, PANEL_RESPONDED) for duty in DUTIES]
    reach(file, reached, PANEL_RESPONDED)
    for duty in duties:
        announce(file, duty)
    for next_stage in SPINE[kind][1:]:
        if file.reached(stage):
            break
        now = datetime.combine(REVIEW_DAYS[next_stage], time(12), UTC)
        _review_step(file, next_stage, now)
        review_rules.wind_up(file, now)
    if paused:
        stop = ClockStopped(
            proceedings=ProceedingsKind.inquest,
            reasons="An inquest is pending",
            expected_end=date(2027, 6, 1),
            panel_told_on=NOW.date(),
        )
        take(
            file, review_rules.check_clock_stopped, review_rules.apply_clock_stopped, BUSINESS_UNIT, stop, NOW
        )
    for name, value in changes.items():
        setattr(file, name, value)
    return file


# ---------------------------------------------------------------- the action plan


def add_action(file: PlanFile, code: str = "luton-schools", due_on: date = ACTION_DUE) -> str:
    """The JCRG adds an action for ``code`` (its deadline opens on the date set); returns its id."""
    step = AddAction(
        recommendation_id="R1",
        agency=code,
        lead_role="Head of Safeguarding",
        description="Train every designated lead on the bruising protocol",
        measure="An audit of ten referrals",
        themes=["physical_harm_to_under_2s"],
        due_on=due_on,
    )
    take(file, plan_rules.check_add_action, plan_rules.apply_add_action, JCRG_CHAIR, step, PLAN_OPENED)
    plan_rules.announce_action(file, file.actions[-1])
    return file.actions[-1].id


def progress(file: PlanFile, action_id: str, by: Actor = SCHOOLS) -> None:
    step = ActionProgress(action_id=action_id, summary="Training delivered", evidence=["attendance.pdf"])
    take(
        file, plan_rules.check_progress, plan_rules.apply_progress, by, step, PLAN_OPENED + timedelta(days=1)
    )


def sign_off_action(file: PlanFile, action_id: str, outcome: str = "completed") -> None:
    step = ActionSignedOff(
        action_id=action_id, outcome=outcome, evidence_of_impact="Audit shows use", reasons="Done"
    )  # type: ignore[arg-type]
    now = PLAN_OPENED + timedelta(days=2)
    take(file, plan_rules.check_sign_off_action, plan_rules.apply_sign_off_action, JCRG_CHAIR, step, now)


def withdraw_action(file: PlanFile, action_id: str) -> None:
    step = ActionWithdrawn(action_id=action_id, reasons="Overtaken by a national change")
    now = PLAN_OPENED + timedelta(days=2)
    take(file, plan_rules.check_withdraw_action, plan_rules.apply_withdraw_action, JCRG_CHAIR, step, now)


def plan_file(actions: Sequence[str] = (), *, recommendations: int = 1, closed: bool = False) -> PlanFile:
    """An action plan with ``recommendations`` and one action (for luton-schools) per entry of
    ``actions``, each taken to that state: ``open``, ``progressed``, ``completed``,
    ``completed_pending_audit`` or ``withdrawn``. A completed action's impact checkpoint stays
    scheduled (``hold_checkpoint`` makes its task)."""
    file = PlanFile(
        reference=REFERENCE,
        stream=Stream.plan,
        workflow_id=workflow_id_for("luton", REFERENCE, Stream.plan),
        policy=POLICY,
        facts=opening().facts(),
    )
    file.record(EventKind.action_plan_opened, PLAN_OPENED)
    for n in range(recommendations):
        step = AddRecommendation(text=f"Recommendation {n + 1}", source="local_cspr")
        take(file, plan_rules.check_add_recommendation, plan_rules.apply_add_recommendation, JCRG_CHAIR, step,
             PLAN_OPENED)  # fmt: skip
    for state in actions:
        action_id = add_action(file)
        if state in ("progressed", "completed", "completed_pending_audit"):
            progress(file, action_id)
        if state in ("completed", "completed_pending_audit"):
            sign_off_action(file, action_id, state)
        if state == "withdrawn":
            withdraw_action(file, action_id)
    if closed:
        step = PlanClosed(reasons="Every action settled")
        take(file, plan_rules.check_close_plan, plan_rules.apply_close_plan, JCRG_CHAIR, step, PLAN_OPENED)
    return file


# ---------------------------------------------------------------- the yearly report


def yearly_file(
    published_on: date | None = None, sent: Sequence[tuple[str, date]] = (), now: datetime = YEARLY_NOW
) -> YearlyFile:
    """The 2026-27 yearly report's process: due to be published by 30 September 2027; published on
    ``published_on`` (the deadline to send it opens then); sent as ``sent`` says, one recipient at a time."""
    assert POLICY.reports is not None
    start = YearlyStart(
        partnership=POLICY.partnership,
        year_start=YEAR_START,
        timezone=POLICY.timezone,
        working_days=POLICY.working_days,
        rules=POLICY.reports,
    )
    file = YearlyFile(partnership=start.partnership, year_start=YEAR_START, start=start)
    due = datetime(2027, 9, 30, 17, tzinfo=LONDON)
    reminders = [due - timedelta(days=28), due - timedelta(days=7)]
    file.deadlines.append(
        YearlyDeadline(key=PUBLISHED, title="Yearly report published", due_at=due, reminders=reminders)
    )
    if published_on is not None:
        step = ReportPublished(published_on=published_on)
        yearly_rules.check_publication(file, BUSINESS_UNIT, step, now)
        sent_due = datetime.combine(published_on + timedelta(days=9), time(17), LONDON)
        file.deadlines.append(YearlyDeadline(key=SENT, title="Yearly report sent", due_at=sent_due))
        yearly_rules.apply_publication(file, BUSINESS_UNIT, step, now)
    for to, day in sent:
        sending = ReportSent(sent_on=day, to=[to])  # type: ignore[list-item]
        yearly_rules.check_sending(file, BUSINESS_UNIT, sending, now)
        yearly_rules.apply_sending(file, BUSINESS_UNIT, sending, now)
    return file
