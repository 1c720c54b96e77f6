"""The review: its order of steps (the kind's SPINE), family engagement, approval and publication.
The clock, a national review's local duties and the review's tasks: test_review_clock_and_duties_rules.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from safeguarding.domain.deadlines import DeadlineStatus
from safeguarding.domain.events import EventKind
from safeguarding.domain.milestones import Milestone
from safeguarding.domain.notices import NoticeKind
from safeguarding.domain.people import StatutoryPartner
from safeguarding.domain.refusal import RefusalKind
from safeguarding.domain.review import (
    SPINE,
    AdultsBoardApproval,
    AdultsBoardPublication,
    CopySent,
    DraftReceived,
    FamilyEngagement,
    FamilyEngagementStatus,
    FinalReport,
    InformationToPanel,
    LearningEventHeld,
    NotPublished,
    PanelReportReceived,
    PublicationScheduled,
    Published,
    ReportApproved,
    ReviewerAppointed,
    ReviewKind,
    ReviewStage,
    TermsAgreed,
)
from safeguarding.domain.rules import review as rules
from safeguarding.domain.rules.review import KIND_WORDS
from safeguarding.domain.tasks import TaskStatus
from tests.factories import (
    ADULTS_BOARD,
    BUSINESS_UNIT,
    EARLIEST_PUBLICATION,
    JCRG_CHAIR,
    LOCAL_AUTHORITY,
    NOW,
    POLICE,
    REFERENCE,
    assert_refused,
    hold_checkpoint,
    reach,
    refusal_of,
    review_file,
    take,
)
from tests.factories import (
    partner as partner_of,
)

NOT_NOW, FORBIDDEN, INVALID = RefusalKind.not_allowed_now, RefusalKind.forbidden, RefusalKind.invalid
LOCAL, OTHER, NATIONAL = ReviewKind.local_cspr, ReviewKind.other_review, ReviewKind.national_review
S = ReviewStage
DAY = date(2027, 2, 1)
NOON_OF_DAY = datetime(2027, 2, 1, 12, tzinfo=UTC)  # midday in London (GMT in February)
LA = StatutoryPartner.local_authority

# The steps that move a review to a stage of its spine, and how each names itself in a refusal.
NEXT_STEP = {
    S.reviewer_appointed: (rules.check_reviewer_appointed, ReviewerAppointed(reviewer="R", appointed_on=DAY),
                           "appointing the reviewer"),
    S.terms_agreed: (rules.check_terms_agreed, TermsAgreed(methodology="M", terms_of_reference="T", agreed_on=DAY),
                     "agreeing the terms of reference"),
    S.learning_event_held: (rules.check_learning_event, LearningEventHeld(held_on=DAY),
                            "the practitioner learning event"),
    S.draft_received: (rules.check_draft_received, DraftReceived(received_on=DAY), "receiving the draft report"),
    S.approved: (rules.check_report_approved, ReportApproved(partner=LA, reasons="Yes"), "the partners' approval"),
    S.final_report: (rules.check_final_report, FinalReport(received_on=DAY, recommendations=["R"]),
                     "the final report"),
    S.copy_sent: (rules.check_copy_sent, CopySent(sent_on=DAY),
                  "sending the final report to the Panel and the Secretary of State"),
    S.information_sent: (rules.check_information_to_panel, InformationToPanel(sent_on=DAY),
                         "sending information to the Panel"),
}  # fmt: skip
PANEL_REPORT = PanelReportReceived(received_on=DAY, recommendations=["Learn"])
WALK = [
    (kind, stage, *NEXT_STEP[stage]) for kind in ReviewKind for stage in SPINE[kind] if stage in NEXT_STEP
] + [(NATIONAL, S.finished, rules.check_panel_report, PANEL_REPORT, "the Panel's report")]


def actor_for(decision):
    return LOCAL_AUTHORITY if isinstance(decision, ReportApproved) else BUSINESS_UNIT


@pytest.mark.parametrize(
    ("kind", "stage", "check", "decision", "what"),
    WALK,
    ids=[f"{kind.value}: {what} comes right after {SPINE[kind][SPINE[kind].index(stage) - 1].value}"
         for kind, stage, _, _, what in WALK],
)  # fmt: skip
def test_each_step_of_the_spine_comes_right_after_the_one_before(kind, stage, check, decision, what) -> None:
    spine = SPINE[kind]
    before = spine[spine.index(stage) - 1]
    check(review_file(kind, before), actor_for(decision), decision, NOW)
    for earlier in spine[: spine.index(before)]:
        fragment = f"{what} comes after '{before.value}'; the review is at stage {earlier.value}"
        assert_refused(
            check, review_file(kind, earlier), actor_for(decision), decision, NOW, NOT_NOW, fragment
        )
    for later in spine[spine.index(stage) :]:
        file = review_file(kind, later)
        fragment = (
            f"the review of case {REFERENCE} is finished"
            if file.stage is S.finished
            else f"{what} is already recorded (the review is at stage {later.value})"
        )
        assert_refused(check, file, actor_for(decision), decision, NOW, NOT_NOW, fragment)


@pytest.mark.parametrize(
    ("stage", "check", "decision", "fragment", "also_at"),
    [
        pytest.param(S.publication_scheduled, rules.check_publication_scheduled,
                     PublicationScheduled(publication_date=EARLIEST_PUBLICATION),
                     "send the final report to the Panel and the Secretary of State before setting a publication date",
                     [S.publication_scheduled], id="local_cspr: a publication date comes right after the copy"),
        pytest.param(S.finished, rules.check_published, Published(published_on=DAY),
                     "schedule the publication date first", [],
                     id="local_cspr: publication comes right after the date is scheduled"),
    ],
)  # fmt: skip
def test_publication_ends_a_csprs_spine(stage, check, decision, fragment, also_at) -> None:
    spine = SPINE[LOCAL]
    before = spine[spine.index(stage) - 1]
    for accepted in [before, *also_at]:
        check(review_file(LOCAL, accepted), BUSINESS_UNIT, decision, NOW)
    for earlier in spine[: spine.index(before)]:
        assert_refused(check, review_file(LOCAL, earlier), BUSINESS_UNIT, decision, NOW, NOT_NOW, fragment)
    finished = review_file(LOCAL, S.finished)
    assert_refused(check, finished, BUSINESS_UNIT, decision, NOW, NOT_NOW, "is finished (published)")


NOT_PART = [
    (OTHER, rules.check_learning_event, LearningEventHeld(held_on=DAY), "the practitioner learning event"),
    (OTHER, rules.check_copy_sent, CopySent(sent_on=DAY), NEXT_STEP[S.copy_sent][2]),
    (OTHER, rules.check_publication_scheduled, PublicationScheduled(publication_date=DAY),
     "setting a publication date"),
    (OTHER, rules.check_published, Published(published_on=DAY), "publication"),
    (OTHER, rules.check_not_published, NotPublished(reasons="R", published_instead="P"),
     "a decision not to publish"),
    (OTHER, rules.check_information_to_panel, InformationToPanel(sent_on=DAY), "sending information to the Panel"),
    (LOCAL, rules.check_information_to_panel, InformationToPanel(sent_on=DAY), "sending information to the Panel"),
    (LOCAL, rules.check_panel_report, PANEL_REPORT, "the Panel's report"),
    (OTHER, rules.check_panel_report, PANEL_REPORT, "the Panel's report"),
    (NATIONAL, rules.check_family_engagement,
     FamilyEngagement(status=FamilyEngagementStatus.offered, on=DAY, reasons="R"), "family engagement"),
    *[(NATIONAL, check, decision, what) for stage, (check, decision, what) in NEXT_STEP.items()
      if stage is not S.information_sent],
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "check", "decision", "what"),
    NOT_PART,
    ids=[f"{what} is not part of {KIND_WORDS[kind]}" for kind, _, _, what in NOT_PART],
)
def test_a_step_not_on_the_kinds_spine_is_refused_as_not_part_of_it(kind, check, decision, what) -> None:
    fragment = f"{what} is not part of {KIND_WORDS[kind]}"
    assert_refused(check, review_file(kind), actor_for(decision), decision, NOW, NOT_NOW, fragment)


@pytest.mark.parametrize(
    ("stage", "check", "decision"),
    [
        (S.reviewer_appointed, rules.check_reviewer_appointed, ReviewerAppointed(reviewer="R", appointed_on=date(2027, 2, 4))),
        (S.terms_agreed, rules.check_terms_agreed, TermsAgreed(methodology="M", terms_of_reference="T", agreed_on=date(2027, 3, 1))),
        (S.draft_received, rules.check_draft_received, DraftReceived(received_on=date(2027, 2, 9))),
    ],
    ids=["an appointment in the future", "terms agreed in the future", "a draft received in the future"],
)  # fmt: skip
def test_a_date_in_the_future_is_invalid_even_when_the_step_is_next(stage, check, decision) -> None:
    spine = SPINE[LOCAL]
    file = review_file(LOCAL, spine[spine.index(stage) - 1])
    assert_refused(check, file, BUSINESS_UNIT, decision, NOW, INVALID, "is in the future")


# ---------------------------------------------------------------- what each step records


def test_appointing_the_reviewer_and_agreeing_terms_record_who_and_how() -> None:
    file = review_file(LOCAL)
    assert rules.apply_reviewer_appointed(file, JCRG_CHAIR, ReviewerAppointed(reviewer="Ann Reviewer", appointed_on=DAY), NOW) == []  # fmt: skip
    assert (file.stage, file.reviewer) == (S.reviewer_appointed, "Ann Reviewer")
    assert file.history[-1].details == {"reviewer": "Ann Reviewer", "appointed_on": "2027-02-01"}
    terms = TermsAgreed(methodology="SILP", terms_of_reference="Scope agreed", agreed_on=DAY)
    assert rules.apply_terms_agreed(file, JCRG_CHAIR, terms, NOW) == []
    assert (file.stage, file.methodology, file.terms_of_reference) == (S.terms_agreed, "SILP", "Scope agreed")


@pytest.mark.parametrize(
    ("kind", "stage", "day", "kind_of_refusal", "fragment"),
    [
        pytest.param(LOCAL, S.commissioned, DAY, NOT_NOW,
                     "family engagement is recorded between the reviewer's appointment and the final report",
                     id="family engagement before the reviewer is appointed is refused"),
        pytest.param(LOCAL, S.final_report, DAY, NOT_NOW, "between the reviewer's appointment and the final report",
                     id="family engagement after the final report is refused"),
        pytest.param(LOCAL, S.copy_sent, DAY, NOT_NOW, "and the final report",
                     id="family engagement after the copy is sent is refused"),
        pytest.param(LOCAL, S.terms_agreed, date(2027, 2, 5), INVALID, "Friday 5 February 2027 is in the future",
                     id="family engagement on a future day is refused"),
        pytest.param(LOCAL, S.finished, DAY, NOT_NOW, "is finished (published)",
                     id="family engagement in a finished review is refused"),
        pytest.param(OTHER, S.final_report, DAY, NOT_NOW, "is finished (completed)",
                     id="another review is finished with its final report"),
    ],
)  # fmt: skip
def test_family_engagement_is_refused(kind, stage, day, kind_of_refusal, fragment) -> None:
    step = FamilyEngagement(status=FamilyEngagementStatus.declined, on=day, reasons="Not ready")
    file = review_file(kind, stage)
    assert_refused(rules.check_family_engagement, file, BUSINESS_UNIT, step, NOW, kind_of_refusal, fragment)


@pytest.mark.parametrize(
    ("kind", "stage"),
    [(LOCAL, S.reviewer_appointed), (LOCAL, S.learning_event_held), (LOCAL, S.approved), (OTHER, S.draft_received)],
)  # fmt: skip
def test_family_engagement_is_recorded_any_time_between_appointment_and_final_report(kind, stage) -> None:
    file = review_file(kind, stage)
    for status in FamilyEngagementStatus:
        step = FamilyEngagement(status=status, on=DAY, reasons="As agreed")
        rules.check_family_engagement(file, BUSINESS_UNIT, step, NOW)
        assert rules.apply_family_engagement(file, BUSINESS_UNIT, step, NOW) == []
    assert [f.status for f in file.family_engagement] == list(FamilyEngagementStatus)
    assert file.stage is stage  # it moves nothing along the spine


def test_the_learning_event_moves_the_review_on() -> None:
    file = review_file(LOCAL, S.terms_agreed)
    assert rules.apply_learning_event(file, BUSINESS_UNIT, LearningEventHeld(held_on=DAY), NOW) == []
    assert (file.stage, file.history[-1].kind) == (S.learning_event_held, EventKind.learning_event_held)


def test_a_draft_asks_the_three_partners_to_approve_it() -> None:
    file = review_file(LOCAL, S.learning_event_held)
    assert rules.apply_draft_received(file, JCRG_CHAIR, DraftReceived(received_on=DAY), NOW) == []
    assert file.stage is S.draft_received
    (notice,) = [n for n in file.notices if n.kind is NoticeKind.decision]
    assert (notice.recipients, notice.title, notice.stream) == (
        ["safeguarding_partner"],
        "Approval needed: the review's draft report",
        "review",
    )


@pytest.mark.parametrize(
    ("approvals", "actor", "who", "kind", "fragment"),
    [
        pytest.param(0, POLICE, LA, FORBIDDEN, "police.lead approves for police, not for local_authority",
                     id="a partner does not approve for another"),
        pytest.param(1, LOCAL_AUTHORITY, LA, NOT_NOW, "local_authority has already approved the report",
                     id="a partner approves once"),
    ],
)  # fmt: skip
def test_an_approval_is_refused(approvals, actor, who, kind, fragment) -> None:
    file = review_file(LOCAL, S.draft_received)
    if approvals:
        rules.apply_report_approved(file, LOCAL_AUTHORITY, ReportApproved(partner=LA, reasons="Yes"), NOW)
    step = ReportApproved(partner=who, reasons="Yes")
    assert_refused(rules.check_report_approved, file, actor, step, NOW, kind, fragment)


def test_the_report_is_approved_when_the_third_partner_approves() -> None:
    file = review_file(OTHER, S.draft_received)
    for n, who in enumerate(StatutoryPartner, start=1):
        step = ReportApproved(partner=who, reasons="Approved")
        rules.check_report_approved(file, LOCAL_AUTHORITY.model_copy(update={"partner": who}), step, NOW)
        assert rules.apply_report_approved(file, BUSINESS_UNIT, step, NOW) == []
        assert file.stage is (S.approved if n == 3 else S.draft_received)
    assert file.approvals == list(StatutoryPartner)
    assert file.history[-1].kind is EventKind.report_approved_by_all_partners


@pytest.mark.parametrize(
    ("kind", "stage", "milestones", "outcome"),
    [
        pytest.param(LOCAL, S.final_report, [], None, id="a CSPR goes on to publication"),
        pytest.param(OTHER, S.finished, [(Milestone.review_completed, NOON_OF_DAY, None)], "completed",
                     id="another type of review finishes with its final report (on the day received)"),
    ],
)  # fmt: skip
def test_the_final_report_keeps_its_recommendations(kind, stage, milestones, outcome) -> None:
    file = review_file(kind, S.approved)
    step = FinalReport(received_on=DAY, recommendations=["Share concerns", "Audit referrals"])
    assert rules.apply_final_report(file, JCRG_CHAIR, step, NOW) == milestones
    assert (file.stage, file.outcome, file.recommendations) == (
        stage,
        outcome,
        ["Share concerns", "Audit referrals"],
    )


def test_the_copy_sent_starts_the_notice_before_publication() -> None:
    file = review_file(LOCAL, S.final_report)
    step = CopySent(sent_on=DAY, to_ofsted=True)
    # Sent the day before it was recorded: the report went at midday that day (London), not now.
    assert rules.apply_copy_sent(file, BUSINESS_UNIT, step, NOW) == [
        (Milestone.review_report_sent, datetime(DAY.year, DAY.month, DAY.day, 12, tzinfo=UTC), None)
    ]
    assert (file.stage, file.copy_sent_on) == (S.copy_sent, DAY)
    rules.publication_notice_given(file, date(2027, 2, 10))
    assert file.earliest_publication_date == date(2027, 2, 10)


# ---------------------------------------------------------------- publication


@pytest.mark.parametrize(
    ("state", "day", "fragment"),
    [
        pytest.param(lambda: review_file(LOCAL, S.final_report), date(2027, 3, 1),
                     "send the final report to the Panel and the Secretary of State before setting a publication date",
                     id="a publication date before the copy is sent is refused"),
        pytest.param(lambda: review_file(LOCAL, S.copy_sent), EARLIEST_PUBLICATION - timedelta(days=1),
                     "the report went to the Panel and the Secretary of State on Tuesday 12 January 2027 and must "
                     "reach them at least 7 working days before publication: the earliest publication date is "
                     "Thursday 21 January 2027", id="a publication date with too little notice is refused"),
        pytest.param(lambda: review_file(LOCAL, S.copy_sent, paused=True), date(2027, 3, 1),
                     "the clock is stopped for parallel proceedings; restart it before setting the publication date",
                     id="no publication date while the clock is stopped"),
        pytest.param(lambda: review_file(LOCAL, S.finished), date(2027, 3, 1), "is finished",
                     id="a published review takes no new date"),
    ],
)  # fmt: skip
def test_scheduling_publication_is_refused(state, day, fragment) -> None:
    step = PublicationScheduled(publication_date=day)
    assert_refused(rules.check_publication_scheduled, state(), BUSINESS_UNIT, step, NOW, NOT_NOW, fragment)


@pytest.mark.parametrize("stage", [S.copy_sent, S.publication_scheduled])
def test_a_publication_date_keeping_the_notice_is_accepted_and_may_be_moved(stage) -> None:
    file = review_file(LOCAL, stage)
    step = PublicationScheduled(publication_date=EARLIEST_PUBLICATION)
    rules.check_publication_scheduled(file, JCRG_CHAIR, step, NOW)
    assert rules.apply_publication_scheduled(file, JCRG_CHAIR, step, NOW) == []
    assert (file.stage, file.publication_date) == (S.publication_scheduled, EARLIEST_PUBLICATION)


@pytest.mark.parametrize(
    ("state", "day", "kind", "fragment"),
    [
        pytest.param(lambda: review_file(LOCAL, S.copy_sent), DAY, NOT_NOW, "schedule the publication date first",
                     id="publication before a date is scheduled is refused"),
        pytest.param(lambda: review_file(LOCAL, S.publication_scheduled), date(2027, 1, 22), NOT_NOW,
                     "publication was scheduled for Monday 25 January 2027; record it on or after that date",
                     id="publication before the scheduled date is refused"),
        pytest.param(lambda: review_file(LOCAL, S.publication_scheduled), date(2027, 2, 10), INVALID,
                     "is in the future", id="publication on a future day is refused"),
        pytest.param(lambda: review_file(LOCAL, S.publication_scheduled, paused=True), DAY, NOT_NOW,
                     "restart it before publication", id="no publication while the clock is stopped"),
    ],
)  # fmt: skip
def test_recording_publication_is_refused(state, day, kind, fragment) -> None:
    step = Published(published_on=day)
    assert_refused(rules.check_published, state(), BUSINESS_UNIT, step, NOW, kind, fragment)


def test_publication_finishes_the_review_and_meets_its_deadline() -> None:
    file = review_file(LOCAL, S.publication_scheduled)
    step = Published(published_on=DAY)
    rules.check_published(file, BUSINESS_UNIT, step, NOW)
    # Published the day before it was recorded: finished that day, not when recorded.
    assert rules.apply_published(file, BUSINESS_UNIT, step, NOW) == [
        (Milestone.review_completed, NOON_OF_DAY, None)
    ]
    assert (file.stage, file.outcome, file.finished_at, file.published_on) == (
        S.finished,
        "published",
        NOON_OF_DAY,
        DAY,
    )
    reach(file, [(Milestone.review_completed, NOON_OF_DAY, None)], NOW)
    assert [d.status for d in file.deadlines if d.key == "cspr_completion"] == [DeadlineStatus.met]


def test_a_finished_review_winds_up_once_its_monitoring_ended_and_its_tasks_withdrawn() -> None:
    file = review_file(LOCAL, S.publication_scheduled)
    task = hold_checkpoint(file, NOW)  # a monitoring task open, the next month's scheduled
    assert [(c.key, c.sequence) for c in file.checkpoints] == [("cspr_monitoring", 2)]
    rules.wind_up(file, NOW)
    assert (len(file.checkpoints), task.status) == (1, TaskStatus.open)  # not finished: nothing ends
    rules.apply_published(file, BUSINESS_UNIT, Published(published_on=DAY), NOW)
    rules.wind_up(file, NOW)
    rules.wind_up(file, NOW)
    assert (file.checkpoints, task.status) == ([], TaskStatus.withdrawn)
    assert [n.kind for n in file.notices if n.task_id == task.id] == [
        NoticeKind.task_assigned,
        NoticeKind.task_withdrawn,
    ]
    assert [e.details for e in file.history if e.kind is EventKind.review_finished] == [
        {"outcome": "published", "recommendations": 1}
    ]


@pytest.mark.parametrize(
    ("kind", "stage", "fragment"),
    [
        pytest.param(LOCAL, S.final_report, "the final report goes to the Panel and the Secretary of State before a "
                     "decision not to publish", id="a decision not to publish before the copy is refused"),
        pytest.param(LOCAL, S.finished, "is finished", id="a published review is not unpublished"),
    ],
)  # fmt: skip
def test_a_decision_not_to_publish_is_refused(kind, stage, fragment) -> None:
    step = NotPublished(reasons="Risk to siblings", published_instead="The improvements made")
    assert_refused(
        rules.check_not_published, review_file(kind, stage), JCRG_CHAIR, step, NOW, NOT_NOW, fragment
    )


@pytest.mark.parametrize("stage", [S.copy_sent, S.publication_scheduled])
def test_a_decision_not_to_publish_finishes_the_review(stage) -> None:
    file = review_file(LOCAL, stage)
    step = NotPublished(reasons="Risk to siblings", published_instead="The improvements made")
    rules.check_not_published(file, JCRG_CHAIR, step, NOW)
    assert rules.apply_not_published(file, JCRG_CHAIR, step, NOW) == [(Milestone.review_completed, NOW, None)]
    assert (file.outcome, file.published_instead) == ("completed_not_published", "The improvements made")


def test_a_decision_not_to_publish_waits_for_the_clock_to_restart() -> None:
    """Finishing a review while its clock is stopped would leave the stop open for good."""
    file = review_file(LOCAL, S.copy_sent, paused=True)
    step = NotPublished(reasons="Risk to siblings", published_instead="The improvements made")
    assert_refused(rules.check_not_published, file, JCRG_CHAIR, step, NOW, NOT_NOW, "restart it before")


# ---------------------------------------------------------------- a local learning review


def test_a_local_learning_review_has_its_own_stages_and_deadline_and_finishes_with_its_final_report() -> None:
    LLR = ReviewKind.local_learning_review
    file = review_file(LLR, S.learning_event_held)
    assert [d.key for d in file.deadlines] == ["learning_review_completion"]
    assert not [d for d in file.deadlines if d.key == "cspr_completion"]
    assert file.deadlines[0].statutory is False
    # No draft for the partners' approval, no publication: the final report follows the learning event.
    assert (
        "not part of a local learning review"
        in refusal_of(
            rules.check_draft_received, file, BUSINESS_UNIT, DraftReceived(received_on=DAY), NOW
        ).reason
    )
    step = FinalReport(received_on=DAY, recommendations=["Share the learning on missed health appointments"])
    rules.check_final_report(file, JCRG_CHAIR, step, NOW)
    assert rules.apply_final_report(file, JCRG_CHAIR, step, NOW) == [
        (Milestone.review_completed, NOON_OF_DAY, None)
    ]
    assert (file.stage, file.outcome) == (S.finished, "completed")


def test_a_joint_cspr_sars_report_is_approved_once_the_adults_board_has_approved_it_too() -> None:
    file = review_file(LOCAL, S.draft_received, joint_with_adults_board=True)
    for partner in StatutoryPartner:
        approval = ReportApproved(partner=partner, reasons="Approved")
        take(
            file, rules.check_report_approved, rules.apply_report_approved, partner_of(partner), approval, NOW
        )
    assert file.stage is S.draft_received  # the partners alone are not enough
    board = AdultsBoardApproval(reasons="The SAB approves the report")
    take(file, rules.check_adults_board_approval, rules.apply_adults_board_approval, ADULTS_BOARD, board, NOW)
    assert file.stage is S.approved and file.adults_board_approved
    assert file.history[-1].kind is EventKind.report_approved_by_all_partners


def test_the_adults_board_does_not_approve_a_review_that_is_not_joint() -> None:
    file = review_file(LOCAL, S.draft_received)
    board = AdultsBoardApproval(reasons="x")
    assert (
        "not a joint CSPR/SAR"
        in refusal_of(rules.check_adults_board_approval, file, ADULTS_BOARD, board, NOW).reason
    )


def test_a_joint_cspr_sar_is_published_only_once_the_adults_board_has_agreed() -> None:
    file = review_file(LOCAL, S.copy_sent, joint_with_adults_board=True, adults_board_approved=True)
    schedule = PublicationScheduled(publication_date=EARLIEST_PUBLICATION)
    assert (
        "Safeguarding Adults Board has agreed to publication"
        in refusal_of(rules.check_publication_scheduled, file, BUSINESS_UNIT, schedule, NOW).reason
    )
    agreed = AdultsBoardPublication(reasons="The SAB agrees to publish")
    take(
        file,
        rules.check_adults_board_publication,
        rules.apply_adults_board_publication,
        ADULTS_BOARD,
        agreed,
        NOW,
    )
    rules.check_publication_scheduled(file, BUSINESS_UNIT, schedule, NOW)  # now it may be scheduled
    assert (
        "already agreed"
        in refusal_of(rules.check_adults_board_publication, file, ADULTS_BOARD, agreed, NOW).reason
    )
