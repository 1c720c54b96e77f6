"""Intake: a referral's written confirmation, its screening, the statutory notifications, and closure."""

from __future__ import annotations

from datetime import timedelta

import pytest

from safeguarding.domain.case import (
    CaseClosure,
    CaseFile,
    CriteriaNotMet,
    NotificationRecipient,
    NotificationRecord,
    ReferralConfirmation,
    ScreeningDecision,
    ScreeningLearningRoute,
    Stage,
)
from safeguarding.domain.deadlines import DeadlineStatus
from safeguarding.domain.events import EventKind
from safeguarding.domain.facts import ChildStatus, Route
from safeguarding.domain.milestones import Milestone
from safeguarding.domain.refusal import RefusalKind
from safeguarding.domain.rules import intake
from tests.factories import (
    AWARE,
    BUSINESS_UNIT,
    JCRG_CHAIR,
    NOW,
    POLICY,
    REFERENCE,
    REFERRED,
    assert_refused,
    case_file,
    notify,
    open_case,
    opening,
    request_information,
    take,
)

SIN, REFERRAL, CDOP = Route.serious_incident_notification, Route.agency_referral, Route.cdop_referral
NOT_NOW, INVALID = RefusalKind.not_allowed_now, RefusalKind.invalid
PANEL, PARTNERS = NotificationRecipient.panel, NotificationRecipient.safeguarding_partners
SOS, OFSTED = NotificationRecipient.secretary_of_state, NotificationRecipient.ofsted


def confirmed(file):
    file.referral_confirmed_at = REFERRED + timedelta(hours=3)
    return file


def keys(file, status=None):
    return sorted(d.key for d in file.deadlines if status is None or d.status is status)


# ---------------------------------------------------------------- a referral's written confirmation


@pytest.mark.parametrize(
    ("state", "at", "kind", "fragment"),
    [
        pytest.param(lambda: case_file(SIN), NOW, NOT_NOW, "only a referral is confirmed in writing",
                     id="a serious incident notification has no referral to confirm"),
        pytest.param(lambda: confirmed(case_file(REFERRAL, Stage.screening)), NOW, NOT_NOW,
                     "already recorded as confirmed in writing at 05 October 2026 12:30:00 UTC",
                     id="a referral is confirmed once"),
        pytest.param(lambda: case_file(REFERRAL, Stage.screening), NOW + timedelta(hours=1), INVALID,
                     "the confirmation (02 February 2027 11:00:00 UTC) is in the future",
                     id="a confirmation in the future is refused"),
        pytest.param(lambda: case_file(REFERRAL, Stage.screening), REFERRED - timedelta(hours=1), NOT_NOW,
                     "is before the referral (05 October 2026 09:30:00 UTC)",
                     id="a confirmation before the referral is refused"),
    ],
)  # fmt: skip
def test_a_referral_confirmation_is_refused(state, at, kind, fragment) -> None:
    step = ReferralConfirmation(confirmed_at=at)
    assert_refused(intake.check_referral_confirmation, state(), BUSINESS_UNIT, step, NOW, kind, fragment)


@pytest.mark.parametrize("stage", [Stage.screening, Stage.rapid_review, Stage.local_review])
def test_a_referral_is_confirmed_in_writing_at_any_stage(stage) -> None:
    file = case_file(CDOP, stage)
    step = ReferralConfirmation(confirmed_at=REFERRED + timedelta(hours=5), note="Letter received")
    intake.check_referral_confirmation(file, BUSINESS_UNIT, step, NOW)
    reached = intake.apply_referral_confirmation(file, BUSINESS_UNIT, step, NOW)
    assert reached == [(Milestone.referral_confirmed, REFERRED + timedelta(hours=5), None)]
    assert file.referral_confirmed_at == REFERRED + timedelta(hours=5)
    event = file.history[-1]
    assert (event.kind, event.occurred_at, event.actor) == (
        EventKind.referral_confirmed,
        REFERRED + timedelta(hours=5),
        BUSINESS_UNIT,
    )
    assert event.details["note"] == "Letter received"


# ---------------------------------------------------------------- screening

SCREENED_IN = ScreeningDecision(criteria_met=True, reasons="Serious harm")
SCREENED_OUT = ScreeningDecision(
    criteria_met=False,
    learning_route=ScreeningLearningRoute.single_agency_learning,
    reasons="Below threshold",
)


@pytest.mark.parametrize(
    ("state", "fragment"),
    [
        pytest.param(lambda: case_file(SIN), "is not awaiting screening (stage rapid_review)",
                     id="a serious incident notification is never screened"),
        pytest.param(lambda: case_file(REFERRAL), "is not awaiting screening (stage rapid_review)",
                     id="a referral is screened once"),
        pytest.param(lambda: case_file(REFERRAL, Stage.closed), "is not awaiting screening (stage closed)",
                     id="a screened-out referral is not screened again"),
    ],
)  # fmt: skip
def test_screening_is_refused_unless_the_referral_awaits_it(state, fragment) -> None:
    assert_refused(intake.check_screening, state(), JCRG_CHAIR, SCREENED_IN, NOW, NOT_NOW, fragment)


def test_a_referral_screened_in_starts_the_rapid_review_from_when_the_la_became_aware() -> None:
    file = case_file(REFERRAL, Stage.screening)
    intake.check_screening(file, JCRG_CHAIR, SCREENED_IN, NOW)
    reached = intake.apply_screening(file, JCRG_CHAIR, SCREENED_IN, NOW)
    assert reached == [(Milestone.incident_notifiable, AWARE, None)]
    assert (file.stage, file.screening, file.outcome) == (Stage.rapid_review, SCREENED_IN, None)
    assert file.notifiable
    assert file.history[-1].kind is EventKind.screened
    assert file.history[-1].details == {"criteria_met": True, "learning_route": None}


def test_a_referral_screened_out_closes_with_its_learning_route_and_owes_nothing_more() -> None:
    file = case_file(REFERRAL, Stage.screening)
    assert keys(file, DeadlineStatus.open) == ["referral_written_confirmation"]
    reached = intake.apply_screening(file, JCRG_CHAIR, SCREENED_OUT, NOW)
    assert reached == []
    assert (file.stage, file.outcome, file.closed_at) == (
        Stage.closed,
        "screened_out:single_agency_learning",
        NOW,
    )
    assert keys(file, DeadlineStatus.cancelled) == ["referral_written_confirmation"]
    assert [e.kind for e in file.history[-3:]] == [
        EventKind.screened,
        EventKind.deadline_cancelled,
        EventKind.case_closed,
    ]
    assert not file.notifiable


# ---------------------------------------------------------------- the statutory notifications


def looked_after_death_screened_out():
    return case_file(REFERRAL, Stage.closed, child_status=ChildStatus.looked_after, child_died=True)


@pytest.mark.parametrize(
    ("state", "recipient", "at", "kind", "fragment"),
    [
        pytest.param(lambda: case_file(upto="notified"), PANEL, NOW, NOT_NOW,
                     "panel was already recorded as notified at 06 October 2026 10:00:00 UTC",
                     id="the Panel is notified once"),
        pytest.param(lambda: case_file(REFERRAL, Stage.closed), SOS, NOW, NOT_NOW,
                     f"case {REFERENCE} is closed and owes no notification to secretary_of_state",
                     id="a closed case that owes no notification is refused"),
        pytest.param(lambda: case_file(REFERRAL, Stage.closed), PANEL, NOW, NOT_NOW,
                     "is closed and owes no notification to panel",
                     id="a screened-out referral does not notify the Panel"),
        pytest.param(looked_after_death_screened_out, PANEL, NOW, NOT_NOW,
                     "is closed and owes no notification to panel",
                     id="a closed case owing the Secretary of State still owes the Panel nothing"),
        pytest.param(lambda: case_file(REFERRAL, Stage.screening), PANEL, NOW, NOT_NOW,
                     "record the screening decision first: panel is notified of a referral only once",
                     id="the Panel hears of a referral only once it is screened in"),
        pytest.param(lambda: case_file(CDOP, Stage.screening), PARTNERS, NOW, NOT_NOW,
                     "record the screening decision first: safeguarding_partners",
                     id="the partners hear of a referral only once it is screened in"),
        pytest.param(lambda: case_file(SIN), PANEL, NOW + timedelta(minutes=6), INVALID,
                     "the time of the notification (02 February 2027 10:06:00 UTC) is in the future",
                     id="a notification in the future is refused"),
        pytest.param(lambda: case_file(SIN), OFSTED, AWARE - timedelta(days=1), NOT_NOW,
                     "is before the local authority became aware (05 October 2026 09:00:00 UTC)",
                     id="a notification before the local authority became aware is refused"),
    ],
)  # fmt: skip
def test_a_notification_is_refused(state, recipient, at, kind, fragment) -> None:
    record = NotificationRecord(recipient=recipient, sent_at=at)
    assert_refused(intake.check_notification, state(), BUSINESS_UNIT, record, NOW, kind, fragment)


@pytest.mark.parametrize(
    ("state", "recipient"),
    [
        pytest.param(lambda: case_file(SIN), PANEL, id="a serious incident notifies the Panel"),
        pytest.param(lambda: case_file(REFERRAL), PARTNERS, id="a screened-in referral notifies the partners"),
        pytest.param(lambda: case_file(REFERRAL, Stage.screening), SOS,
                     id="the Secretary of State may hear before screening"),
        pytest.param(looked_after_death_screened_out, SOS,
                     id="a closed case still notifies the Secretary of State of a looked after child's death"),
        pytest.param(looked_after_death_screened_out, OFSTED,
                     id="a closed case still notifies Ofsted of a looked after child's death"),
    ],
)  # fmt: skip
def test_a_notification_owed_is_accepted(state, recipient) -> None:
    intake.check_notification(
        state(), BUSINESS_UNIT, NotificationRecord(recipient=recipient, sent_at=NOW), NOW
    )


@pytest.mark.parametrize(
    ("recipient", "milestone"),
    [
        (PANEL, Milestone.panel_notified),
        (PARTNERS, Milestone.partners_notified),
        (SOS, Milestone.secretary_of_state_notified),
        (OFSTED, Milestone.ofsted_notified),
    ],
)
def test_each_notification_reaches_its_own_milestone_when_it_was_sent(recipient, milestone) -> None:
    file = case_file(SIN)
    sent_at = AWARE + timedelta(days=1)
    record = NotificationRecord(recipient=recipient, sent_at=sent_at, reference="ACK-1")
    assert intake.apply_notification(file, BUSINESS_UNIT, record, NOW) == [(milestone, sent_at, None)]
    assert file.notifications == {recipient.value: sent_at}
    event = file.history[-1]
    assert (event.kind, event.occurred_at) == (EventKind.notification_recorded, sent_at)
    assert event.details == {"recipient": recipient.value, "reference": "ACK-1"}


# ---------------------------------------------------------------- closure

CLOSURE = CaseClosure(reasons="Nothing more to do")


def care_leaver_death(route=SIN):
    return case_file(route, child_status=ChildStatus.care_leaver, child_died=True)


def care_leaver_death_with_information_asked():
    file = care_leaver_death()
    request_information(file, "luton-schools")
    return file


@pytest.mark.parametrize(
    ("state", "fragment"),
    [
        pytest.param(lambda: case_file(REFERRAL, Stage.closed), f"case {REFERENCE} is already closed",
                     id="a closed case is not closed again"),
        pytest.param(lambda: case_file(stage=Stage.local_review, review_workflow_id="luton/case-LSCP-0001/review"),
                     "closes by itself when its review and action plan are finished",
                     id="a case with a review running closes by itself"),
        pytest.param(lambda: case_file(stage=Stage.learning_actions, plan_workflow_id="luton/case-LSCP-0001/plan"),
                     "closes by itself", id="a case with an action plan running closes by itself"),
        pytest.param(lambda: case_file(upto="sent"),
                     "is at stage rapid_review: a case closes after its rapid review is concluded",
                     id="a case is not closed during its rapid review"),
        pytest.param(lambda: case_file(REFERRAL, Stage.screening), "is at stage screening",
                     id="a referral awaiting screening is screened, not closed"),
        pytest.param(lambda: case_file(child_status=ChildStatus.care_leaver, child_died=False),
                     "a case closes after its rapid review is concluded",
                     id="a care leaver who did not die has a rapid review"),
        pytest.param(care_leaver_death_with_information_asked, "a case closes after its rapid review",
                     id="a care leaver's death whose rapid review has begun is not closed early"),
        pytest.param(lambda: case_file(upto="recommended", child_status=ChildStatus.care_leaver, child_died=True),
                     "a case closes after its rapid review",
                     id="a care leaver's death with a recommendation is not closed early"),
    ],
)  # fmt: skip
def test_closing_a_case_is_refused(state, fragment) -> None:
    assert_refused(intake.check_closure, state(), BUSINESS_UNIT, CLOSURE, NOW, NOT_NOW, fragment)


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(lambda: case_file(stage=Stage.learning_actions), id="after no further review"),
        pytest.param(lambda: case_file(stage=Stage.other_review), id="after another review, none running"),
        pytest.param(lambda: case_file(stage=Stage.national_review), id="after a national review is taken"),
        pytest.param(care_leaver_death, id="a care leaver's death needs no rapid review"),
        pytest.param(lambda: case_file(REFERRAL, Stage.screening, child_status=ChildStatus.care_leaver,
                                       child_died=True), id="a referral of a care leaver's death"),
    ],
)  # fmt: skip
def test_closing_a_case_is_accepted(state) -> None:
    intake.check_closure(state(), BUSINESS_UNIT, CLOSURE, NOW)


def test_closing_keeps_the_outcome_and_records_who_decided() -> None:
    file = case_file(stage=Stage.learning_actions)
    assert intake.apply_closure(file, BUSINESS_UNIT, CLOSURE, NOW) == []
    assert (file.stage, file.outcome, file.closed_at) == (Stage.closed, "no_further_review", NOW)
    decided, closed = file.history[-2:]
    assert (decided.kind, decided.actor, decided.reasons) == (
        EventKind.closure_decided,
        BUSINESS_UNIT,
        "Nothing more to do",
    )
    assert (closed.kind, closed.details) == (EventKind.case_closed, {"outcome": "no_further_review"})


def test_a_care_leavers_death_closes_with_its_notifications_still_owed() -> None:
    file = care_leaver_death()
    owed = ["notify_ofsted_care_leaver_death", "notify_secretary_of_state_care_leaver_death"]
    assert keys(file, DeadlineStatus.open) == sorted([*owed, "notify_panel", "report_to_partners"])
    intake.apply_closure(file, BUSINESS_UNIT, CLOSURE, NOW)
    assert file.outcome == "closed"
    # The Panel's and the partners' notifications are statutory notifications too: they stay owed.
    assert keys(file, DeadlineStatus.open) == sorted([*owed, "notify_panel", "report_to_partners"])
    assert keys(file, DeadlineStatus.cancelled) == []


def test_closing_withdraws_open_tasks_and_cancels_what_is_not_a_notification() -> None:
    file = case_file(upto="notified")
    request_information(file, "luton-schools")
    assert keys(file, DeadlineStatus.open) == ["agency_information_return", "rapid_review_to_panel"]
    intake.close(file, "closed", NOW)
    assert keys(file, DeadlineStatus.cancelled) == ["agency_information_return", "rapid_review_to_panel"]
    assert [t.status.value for t in file.tasks] == ["withdrawn"]
    assert (file.notices[-1].kind.value, file.notices[-1].owning_agency) == (
        "task_withdrawn",
        "luton-schools",
    )
    assert {d.cancelled_reason for d in file.deadlines if d.status is DeadlineStatus.cancelled} == {
        "the case was closed"
    }


# ---------------------------------------------------------------- a notified incident not meeting the criteria


def test_a_notified_incident_found_not_to_meet_the_criteria_closes_with_its_reasons_and_owes_the_panel_nothing():
    file = case_file(SIN, Stage.rapid_review, upto="opened", notified=(), asked=("luton-schools",))
    step = CriteriaNotMet(reasons="No abuse or neglect known or suspected after checks.", panel_told_at=NOW)
    take(file, intake.check_criteria_not_met, intake.apply_criteria_not_met, BUSINESS_UNIT, step, NOW)
    assert (file.stage, file.outcome) == (Stage.closed, "did_not_meet_criteria")
    assert file.history[-2].kind is EventKind.case_closed or any(
        e.kind is EventKind.criteria_not_met and e.reasons == step.reasons for e in file.history
    )
    assert keys(file, DeadlineStatus.open) == [] and "notify_panel" in keys(file, DeadlineStatus.cancelled)
    assert all(t.status.value == "withdrawn" for t in file.tasks)


def test_a_looked_after_childs_death_still_owes_its_notifications_when_the_criteria_are_not_met():
    file = case_file(
        SIN, Stage.rapid_review, upto="opened", child_status=ChildStatus.looked_after, child_died=True
    )
    step = CriteriaNotMet(reasons="No abuse or neglect suspected.", panel_told_at=NOW)
    take(file, intake.check_criteria_not_met, intake.apply_criteria_not_met, BUSINESS_UNIT, step, NOW)
    assert file.stage is Stage.closed
    assert set(keys(file, DeadlineStatus.open)) | set(keys(file, DeadlineStatus.overdue)) == {
        "notify_secretary_of_state_looked_after_death",
        "notify_ofsted_looked_after_death",
    }


@pytest.mark.parametrize(
    ("route", "stage", "fragment"),
    [
        pytest.param(REFERRAL, Stage.screening, "was not notified", id="a referral is screened out instead"),
        pytest.param(SIN, Stage.local_review, "during its rapid review", id="after the rapid review"),
    ],
)
def test_not_meeting_the_criteria_is_refused_outside_a_notified_rapid_review(route, stage, fragment):
    file = case_file(route, stage)
    step = CriteriaNotMet(reasons="Reasons.", panel_told_at=NOW)
    assert_refused(intake.check_criteria_not_met, file, BUSINESS_UNIT, step, NOW, NOT_NOW, fragment)


def test_the_panel_is_not_told_before_the_local_authority_knew():
    file = case_file(SIN, Stage.rapid_review, upto="opened")
    step = CriteriaNotMet(reasons="Reasons.", panel_told_at=AWARE - timedelta(days=1))
    assert_refused(intake.check_criteria_not_met, file, BUSINESS_UNIT, step, NOW, NOT_NOW, "panel_told_at")


# ---------------------------------------------------------------- a care leaver's death


def test_a_care_leavers_death_owes_the_secretary_of_state_and_ofsted_only_and_closes_once_both_are_told():
    file = open_case(Route.care_leaver_death, ChildStatus.care_leaver, child_died=True)
    assert file.stage is Stage.notifying and not file.notifiable
    assert sorted(keys(file, DeadlineStatus.open)) == [
        "notify_ofsted_care_leaver_death",
        "notify_secretary_of_state_care_leaver_death",
    ]
    assert_refused(
        intake.check_notification,
        file,
        BUSINESS_UNIT,
        NotificationRecord(recipient=PANEL, sent_at=NOW),
        NOW,
        NOT_NOW,
        "a care leaver's death is told to the Secretary of State and Ofsted",
    )
    notify(file, SOS)
    assert file.stage is Stage.notifying
    notify(file, OFSTED)
    assert (file.stage, file.outcome) == (Stage.closed, "care_leaver_death_notified")
    assert sorted(keys(file, DeadlineStatus.met)) == [
        "notify_ofsted_care_leaver_death",
        "notify_secretary_of_state_care_leaver_death",
    ]


def test_the_care_leaver_route_is_for_a_care_leaver_who_died():
    with pytest.raises(ValueError, match="care_leaver_death route is for a care leaver who died"):
        opening(Route.care_leaver_death, ChildStatus.neither, True)


# ---------------------------------------------------------------- a referral screened out into a local learning review


def test_a_referral_screened_out_into_a_local_learning_review_goes_on_to_the_review_and_owes_the_panel_nothing():
    file = case_file(REFERRAL, Stage.screening)
    decision = ScreeningDecision(
        criteria_met=False,
        learning_route=ScreeningLearningRoute.local_learning_review,
        reasons="Below the criteria; multi-agency learning about missed health appointments.",
        occurred_at=NOW - timedelta(days=1),
    )
    file.recording(NOW)  # as the workflow takes a dated step: its rules run at the time it happened
    assert intake.apply_screening(file, JCRG_CHAIR, decision, decision.occurred_at) == []
    file.recording(None)
    assert (file.stage, file.outcome) == (Stage.learning_review, "local_learning_review")
    assert not file.notifiable and keys(file, DeadlineStatus.open) == []
    assert file.stage in intake.FOLLOWED_UP
    # The review's clock starts from the screening decision, as dated.
    assert intake.review_decided_at(file) == decision.occurred_at


# ---------------------------------------------------------------- the intake's facts and what they make owed


def test_the_intake_facts_reach_the_policy_and_a_regulated_setting_owes_ofsted_too():
    asked = opening(SIN, regulated_setting=True, abuse_or_neglect="suspected", in_custody=False)
    facts = asked.facts()
    assert facts["regulated_setting"] is True and facts["abuse_or_neglect"] == "suspected"
    assert facts["in_custody"] is False and "harmed_outside_england" not in facts  # not asked: left out
    owed = {key for key, _ in POLICY.rules_started_by(Milestone.incident_notifiable, facts)}
    assert "notify_ofsted_regulated_setting" in owed
    elsewhere = {
        key for key, _ in POLICY.rules_started_by(Milestone.incident_notifiable, opening(SIN).facts())
    }
    assert "notify_ofsted_regulated_setting" not in elsewhere  # not asked, or not so: not owed


@pytest.mark.parametrize(
    ("condition", "facts", "holds"),
    [
        pytest.param({"in_custody": True}, {"in_custody": True}, True, id="in custody"),
        pytest.param({"in_custody": True}, {"in_custody": False}, False, id="not in custody"),
        pytest.param({"in_custody": True}, {}, False, id="custody not asked"),
        pytest.param(
            {"harmed_outside_england": True}, {"harmed_outside_england": True}, True, id="outside England"
        ),
        pytest.param(
            {"abuse_or_neglect": ["known", "suspected"]}, {"abuse_or_neglect": "known"}, True, id="known"
        ),
        pytest.param(
            {"abuse_or_neglect": ["known", "suspected"]},
            {"abuse_or_neglect": "not_suspected"},
            False,
            id="not",
        ),
    ],
)
def test_a_policy_condition_on_an_intake_fact_holds_only_when_the_fact_was_asked_and_is_so(
    condition, facts, holds
):
    from safeguarding.domain.policy import AppliesWhen

    assert (
        AppliesWhen.model_validate(condition).holds_for({"route": "serious_incident_notification", **facts})
        is holds
    )


def test_a_notification_without_abuse_or_neglect_known_or_suspected_is_refused_unless_a_looked_after_child_died():
    with pytest.raises(ValueError, match="needs abuse or neglect known or suspected"):
        opening(SIN, abuse_or_neglect="not_suspected")
    assert opening(SIN, ChildStatus.looked_after, True, abuse_or_neglect="not_suspected").abuse_or_neglect
    assert opening(REFERRAL, abuse_or_neglect="not_suspected").route is REFERRAL  # screened instead


# ---------------------------------------------------------------- learning from elsewhere


def test_learning_from_elsewhere_opens_straight_at_its_plan_and_owes_nothing_of_an_incident():
    source = {
        "kind": "national_review",
        "title": "The Myth of Invisible Men",
        "recommendations": ["See the men"],
    }
    asked = opening(
        Route.learning_from_elsewhere, learning_source=source, referring_agency="lscp-business-unit"
    )
    file = CaseFile.open(asked, POLICY, NOW)
    assert (file.stage, file.notifiable) == (Stage.learning_actions, False)
    assert file.stage in intake.FOLLOWED_UP
    assert not list(POLICY.rules_started_by(Milestone.case_opened, asked.facts()))


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        pytest.param({}, "learning_source is given exactly when", id="no source"),
        pytest.param({"child_died": True, "learning_source": "SOURCE"}, "no child", id="a child"),
    ],
)
def test_learning_from_elsewhere_needs_its_source_and_no_child(changes, fragment):
    source = {"kind": "audit", "title": "Audit of neglect referrals", "recommendations": ["Act"]}
    changes = {k: (source if v == "SOURCE" else v) for k, v in changes.items()}
    with pytest.raises(ValueError, match=fragment):
        opening(Route.learning_from_elsewhere, **changes)


# ---------------------------------------------------------------- a thematic review


@pytest.mark.parametrize(
    ("cases", "fragment"),
    [
        pytest.param(["LSCP-0002"], "at least 2", id="one case is not a theme"),
        pytest.param(["LSCP-0002", "LSCP-0002"], "each case is named once", id="the same case twice"),
        pytest.param([REFERENCE, "LSCP-0002"], "does not cover itself", id="itself"),
    ],
)
def test_a_thematic_review_covers_two_or_more_other_cases(cases, fragment):
    with pytest.raises(ValueError, match=fragment):
        opening(Route.thematic_review, thematic={"theme": "neglect", "title": "Neglect", "cases": cases})


def test_a_thematic_review_opens_at_its_review_from_its_dated_decision():
    asked = opening(
        Route.thematic_review,
        thematic={"theme": "neglect", "title": "Neglect", "cases": ["LSCP-0002", "LSCP-0003"]},
    )
    file = CaseFile.open(asked, POLICY, NOW)
    assert (file.stage, file.notifiable) == (Stage.thematic_review, False)
    assert intake.review_decided_at(file) == AWARE


def test_a_safeguarding_adults_review_on_its_own_names_its_care_act_basis_and_has_no_child():
    with pytest.raises(ValueError, match="care_act_basis is given exactly when"):
        opening(Route.safeguarding_adults_review)
    with pytest.raises(ValueError, match="about an adult"):
        opening(Route.safeguarding_adults_review, ChildStatus.looked_after, care_act_basis="s44_1")
    file = CaseFile.open(opening(Route.safeguarding_adults_review, care_act_basis="s44_4"), POLICY, NOW)
    assert (file.stage, file.notifiable, intake.review_decided_at(file)) == (
        Stage.adults_review,
        False,
        AWARE,
    )
