"""The rapid review: agency information, the JCRG's recommendation, the three partners' sign-off, the
Independent Scrutineer, the Panel and its answer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from safeguarding.domain.case import (
    AdultsBoardSignOff,
    InformationRequest,
    InformationReturn,
    PanelResponse,
    PanelResponseKind,
    PartnerSignOff,
    RapidReviewSent,
    Recommendation,
    RecommendationKind,
    ScrutineerInformed,
    Stage,
)
from safeguarding.domain.events import EventKind
from safeguarding.domain.facts import Route
from safeguarding.domain.milestones import Milestone
from safeguarding.domain.notices import NoticeKind
from safeguarding.domain.people import StatutoryPartner
from safeguarding.domain.refusal import RefusalKind
from safeguarding.domain.rules import rapid_review
from safeguarding.domain.tasks import TaskStatus
from tests.factories import (
    ADULTS_BOARD,
    BUSINESS_UNIT,
    HEALTH,
    ICB,
    INFORMED,
    JCRG_CHAIR,
    JCRG_MEMBER,
    LOCAL_AUTHORITY,
    NOW,
    POLICE,
    REASONS,
    RECOMMENDATIONS,
    REFERENCE,
    SCHOOLS,
    SENT_TO_PANEL,
    SIGNED_OFF,
    assert_refused,
    case_file,
    respond,
    sign_off,
    take,
)

NOT_NOW, FORBIDDEN, NOT_FOUND, INVALID = (
    RefusalKind.not_allowed_now,
    RefusalKind.forbidden,
    RefusalKind.not_found,
    RefusalKind.invalid,
)
LA, POL, ICB_ = (
    StatutoryPartner.local_authority,
    StatutoryPartner.police,
    StatutoryPartner.integrated_care_board,
)
TASK = f"{REFERENCE}.T1"


def asked(*agencies, upto="opened"):
    return case_file(upto=upto, asked=agencies)


def returned(file, task_id=TASK, by=SCHOOLS):
    step = InformationReturn(task_id=task_id, summary="Seen twice at school")
    rapid_review.apply_information_return(file, by, step, NOW)
    return file


def challenged():
    file = case_file(upto="sent")
    respond(file, PanelResponseKind.challenges)
    return file


def concluded_while_awaiting_a_return():
    file = asked("luton-schools", upto="sent")
    respond(file, PanelResponseKind.agrees)
    return file


def signed_by_the_local_authority():
    file = case_file(upto="recommended")
    sign_off(file, LA)
    return file


def disagreed():
    file = case_file(upto="recommended")
    sign_off(file, LA)
    sign_off(file, POL, agrees=False)
    return file


# ---------------------------------------------------------------- agency information


@pytest.mark.parametrize(
    ("state", "agencies", "fragment"),
    [
        pytest.param(lambda: case_file(Route.agency_referral, Stage.screening), ["luton-schools"],
                     f"requesting agency information belongs to the rapid review; case {REFERENCE} is at stage "
                     "screening", id="information is not requested before screening"),
        pytest.param(lambda: case_file(stage=Stage.local_review), ["luton-schools"],
                     "is at stage local_review", id="information is not requested once the rapid review is over"),
        pytest.param(lambda: case_file(upto="signed_off"), ["luton-schools"], "already signed off",
                     id="information is requested before the decision is signed off"),
        pytest.param(lambda: asked("luton-schools"), ["luton-health", "luton-schools"],
                     f"already waiting for a return from luton-schools ({TASK}); complete or withdraw",
                     id="an agency is not asked twice while its return is awaited"),
    ],
)  # fmt: skip
def test_requesting_information_is_refused(state, agencies, fragment) -> None:
    request = InformationRequest(agencies=agencies, asked_for="A chronology")
    assert_refused(
        rapid_review.check_information_request, state(), BUSINESS_UNIT, request, NOW, NOT_NOW, fragment
    )


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(lambda: case_file(), id="as soon as the rapid review starts"),
        pytest.param(lambda: case_file(upto="recommended"), id="after the recommendation, before sign-off"),
        pytest.param(lambda: returned(asked("luton-schools")), id="an agency whose return is in may be asked again"),
    ],
)  # fmt: skip
def test_requesting_information_is_accepted(state) -> None:
    request = InformationRequest(agencies=["luton-schools"], asked_for="A chronology")
    rapid_review.check_information_request(state(), BUSINESS_UNIT, request, NOW)


def test_a_request_makes_one_task_per_agency_each_starting_its_deadline() -> None:
    file = case_file()
    request = InformationRequest(agencies=["luton-schools", "luton-health"], asked_for="A chronology")
    tasks, reached = rapid_review.apply_information_request(file, BUSINESS_UNIT, request, NOW)
    ids = [f"{REFERENCE}.T1", f"{REFERENCE}.T2"]
    assert [(t.id, t.agency, t.kind, t.asked_for, t.requested_at) for t in tasks] == [
        (ids[0], "luton-schools", "information_return", "A chronology", NOW),
        (ids[1], "luton-health", "information_return", "A chronology", NOW),
    ]
    assert reached == [(Milestone.information_requested, NOW, i) for i in ids]
    assert file.history[-1].details == {
        "agencies": ["luton-schools", "luton-health"],
        "asked_for": "A chronology",
        "tasks": ids,
    }
    assert file.notices == []  # each agency hears once its deadline gives the task a due date


def test_each_agency_asked_hears_of_its_task_with_its_due_date() -> None:
    file = asked("luton-schools", "luton-health")
    due = {d.subject: d.due_at for d in file.deadlines if d.key == "agency_information_return"}
    assert [(n.kind, n.owning_agency, n.task_id, n.due_at, n.key) for n in file.notices] == [
        (NoticeKind.task_assigned, "luton-schools", TASK, due[TASK], f"luton/case-{REFERENCE}:{TASK}:assigned"),
        (NoticeKind.task_assigned, "luton-health", f"{REFERENCE}.T2", due[f"{REFERENCE}.T2"],
         f"luton/case-{REFERENCE}:{REFERENCE}.T2:assigned"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("state", "task_id", "actor", "kind", "fragment"),
    [
        pytest.param(lambda: asked("luton-schools"), f"{REFERENCE}.T9", SCHOOLS, NOT_FOUND,
                     f"case {REFERENCE} has no task {REFERENCE}.T9", id="a return for no task is not found"),
        pytest.param(lambda: asked("luton-schools"), TASK, HEALTH, NOT_FOUND,
                     f"case {REFERENCE} has no task {TASK}",
                     id="another agency's task answers as no task"),
        pytest.param(lambda: returned(asked("luton-schools")), TASK, HEALTH, NOT_FOUND,
                     f"case {REFERENCE} has no task {TASK}", id="another agency learns nothing of a task's state"),
        pytest.param(lambda: returned(asked("luton-schools")), TASK, SCHOOLS, NOT_NOW,
                     f"task {TASK} was already completed on 02 February 2027 10:00:00 UTC",
                     id="a return is submitted once"),
        pytest.param(concluded_while_awaiting_a_return, TASK, SCHOOLS, NOT_NOW,
                     f"task {TASK} was withdrawn; nothing is owed on it",
                     id="a return after the rapid review concluded is not owed"),
    ],
)  # fmt: skip
def test_an_information_return_is_refused(state, task_id, actor, kind, fragment) -> None:
    step = InformationReturn(task_id=task_id, summary="Seen twice")
    assert_refused(rapid_review.check_information_return, state(), actor, step, NOW, kind, fragment)


@pytest.mark.parametrize(
    ("actor", "notified"),
    [
        pytest.param(SCHOOLS, [], id="an agency completing its own task tells nobody"),
        pytest.param(BUSINESS_UNIT, [(NoticeKind.task_completed, "luton-schools")],
                     id="the Business Unit submitting for an agency tells the agency"),
    ],
)  # fmt: skip
def test_a_return_completes_its_task_and_meets_its_deadline(actor, notified) -> None:
    file = asked("luton-schools")
    step = InformationReturn(task_id=TASK, summary="Seen twice at school", documents=["chronology.pdf"])
    rapid_review.check_information_return(file, actor, step, NOW)
    before = len(file.notices)
    assert rapid_review.apply_information_return(file, actor, step, NOW) == [
        (Milestone.information_returned, NOW, TASK)
    ]
    task = file.tasks[0]
    assert (task.status, task.completed_by, task.summary, task.documents) == (
        TaskStatus.completed,
        actor,
        "Seen twice at school",
        ["chronology.pdf"],
    )
    # The return stays in the case file; the event log only records that it arrived.
    assert file.history[-1].details == {"task": TASK, "agency": "luton-schools", "documents": 1}
    assert [(n.kind, n.owning_agency) for n in file.notices[before:]] == notified


# ---------------------------------------------------------------- the JCRG's recommendation


@pytest.mark.parametrize(
    ("state", "fragment"),
    [
        pytest.param(lambda: case_file(Route.cdop_referral, Stage.screening),
                     "the JCRG's recommendation belongs to the rapid review; case LSCP-0001 is at stage screening",
                     id="a referral is screened before any recommendation"),
        pytest.param(lambda: case_file(stage=Stage.other_review), "is at stage other_review",
                     id="a concluded rapid review takes no new recommendation"),
        pytest.param(lambda: signed_by_the_local_authority(), "already has sign-off from local_authority; it can "
                     "change only if a partner disagrees", id="a recommendation a partner has signed off stays"),
        pytest.param(lambda: case_file(upto="signed_off"), "local_authority, police, integrated_care_board",
                     id="a signed-off recommendation stays"),
    ],
)  # fmt: skip
def test_a_recommendation_is_refused(state, fragment) -> None:
    rec = RECOMMENDATIONS[RecommendationKind.other_review]
    assert_refused(rapid_review.check_recommendation, state(), JCRG_CHAIR, rec, NOW, NOT_NOW, fragment)


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(lambda: case_file(), id="the first recommendation"),
        pytest.param(lambda: case_file(upto="recommended"), id="a revision before anyone signs"),
        pytest.param(disagreed, id="a new recommendation after a partner returned it"),
        pytest.param(challenged, id="a new recommendation after the Panel challenged it"),
    ],
)
def test_a_recommendation_is_accepted(state) -> None:
    rapid_review.check_recommendation(
        state(), JCRG_MEMBER, RECOMMENDATIONS[RecommendationKind.local_cspr], NOW
    )


def test_a_recommendation_asks_the_partners_to_sign_off_without_the_jcrgs_reasons() -> None:
    file = case_file()
    rec = RECOMMENDATIONS[RecommendationKind.no_further_review]
    assert rapid_review.apply_recommendation(file, JCRG_CHAIR, rec, NOW) == []
    review = file.rapid_review
    assert (review.recommendation, review.recommended_by, review.recommended_at) == (rec, JCRG_CHAIR, NOW)
    event = file.history[-1]
    assert (event.kind, event.reasons) == (EventKind.recommendation_made, REASONS)
    assert event.details["learning_actions"] == ["Refresh the multi-agency bruising protocol"]
    (notice,) = file.notices
    assert (notice.kind, notice.recipients, notice.title) == (
        NoticeKind.decision,
        ["safeguarding_partner"],
        "Sign-off needed: the rapid review's recommendation",
    )
    assert notice.key == f"luton/case-{REFERENCE}:event:{event.seq}"
    assert REASONS not in notice.model_dump_json()


def test_a_second_recommendation_before_sign_off_is_a_revision() -> None:
    file = case_file(upto="recommended")
    rapid_review.apply_recommendation(file, JCRG_CHAIR, RECOMMENDATIONS[RecommendationKind.other_review], NOW)
    assert file.history[-1].kind is EventKind.recommendation_revised
    assert file.notices[-1].title == "Sign-off needed: the rapid review's revised recommendation"
    assert file.rapid_review.recommendation.recommendation is RecommendationKind.other_review


# ---------------------------------------------------------------- the partners' sign-off


@pytest.mark.parametrize(
    ("state", "actor", "who", "kind", "fragment"),
    [
        pytest.param(lambda: case_file(upto="recommended"), POLICE, LA, FORBIDDEN,
                     "police.lead signs for police, not for local_authority",
                     id="a partner does not sign for another partner"),
        pytest.param(lambda: case_file(), LOCAL_AUTHORITY, LA, NOT_NOW,
                     "there is no JCRG recommendation to sign off yet",
                     id="a sign-off before any recommendation is refused"),
        pytest.param(disagreed, ICB, ICB_, NOT_NOW, "there is no JCRG recommendation to sign off yet",
                     id="a returned recommendation is not signed off"),
        pytest.param(signed_by_the_local_authority, LOCAL_AUTHORITY, LA, NOT_NOW,
                     "local_authority already signed off this recommendation on 15 October 2026 10:00:00 UTC",
                     id="a partner signs off once"),
        pytest.param(lambda: case_file(upto="signed_off"), ICB, ICB_, NOT_NOW,
                     "was signed off by all three partners on 15 October 2026",
                     id="a recommendation signed off by all three is not signed again"),
        pytest.param(lambda: case_file(stage=Stage.local_review), POLICE, POL, NOT_NOW,
                     "the partners' sign-off belongs to the rapid review",
                     id="no sign-off once the rapid review is concluded"),
    ],
)  # fmt: skip
def test_a_sign_off_is_refused(state, actor, who, kind, fragment) -> None:
    step = PartnerSignOff(partner=who, agrees=True, reasons="Agreed")
    assert_refused(rapid_review.check_sign_off, state(), actor, step, NOW, kind, fragment)


def test_each_partner_signs_for_itself() -> None:
    file = case_file(upto="recommended")
    for actor, who in ((LOCAL_AUTHORITY, LA), (POLICE, POL), (ICB, ICB_)):
        rapid_review.check_sign_off(file, actor, PartnerSignOff(partner=who, agrees=True, reasons="Yes"), NOW)


def test_the_third_agreement_signs_the_recommendation_off() -> None:
    file = case_file(upto="recommended")
    for n, (actor, who) in enumerate(((LOCAL_AUTHORITY, LA), (POLICE, POL), (ICB, ICB_)), start=1):
        at = SIGNED_OFF + timedelta(hours=n)
        step = PartnerSignOff(partner=who, agrees=True, reasons="Agreed")
        assert rapid_review.apply_sign_off(file, actor, step, at) == []
        assert [s.partner for s in file.rapid_review.sign_offs][-1] is who
        assert file.rapid_review.signed_off_at == (at if n == 3 else None)
    assert [e.kind for e in file.history[-2:]] == [
        EventKind.partner_signed_off,
        EventKind.recommendation_signed_off,
    ]
    assert file.history[-1].details == {"recommendation": "local_cspr"}


def test_a_partner_who_disagrees_returns_the_recommendation_to_the_jcrg() -> None:
    file = signed_by_the_local_authority()
    notices = len(file.notices)
    step = PartnerSignOff(partner=POL, agrees=False, reasons="The police view differs: " + REASONS)
    assert rapid_review.apply_sign_off(file, POLICE, step, NOW) == []
    assert (file.rapid_review.sign_offs, file.rapid_review.recommendation) == ([], None)
    assert [e.kind for e in file.history[-2:]] == [
        EventKind.partner_disagreed,
        EventKind.recommendation_returned,
    ]
    (notice,) = file.notices[notices:]
    assert (notice.kind, notice.recipients) == (NoticeKind.decision, ["jcrg_chair", "business_unit"])
    assert "police view" not in notice.model_dump_json()


# ---------------------------------------------------------------- the Independent Scrutineer and the Panel


@pytest.mark.parametrize(
    ("state", "at", "kind", "fragment"),
    [
        pytest.param(lambda: case_file(upto="recommended"), NOW, NOT_NOW,
                     "informing the Independent Scrutineer comes after all three partners have signed off",
                     id="the Scrutineer is informed after the sign-off"),
        pytest.param(lambda: case_file(upto="scrutineer_informed"), NOW, NOT_NOW,
                     "the Independent Scrutineer was recorded as informed on 16 October 2026 10:00:00 UTC",
                     id="the Scrutineer is informed once"),
        pytest.param(lambda: case_file(upto="signed_off"), SIGNED_OFF - timedelta(hours=1), NOT_NOW,
                     "is before the sign-off (15 October 2026 10:00:00 UTC)",
                     id="the Scrutineer is not informed before the sign-off"),
        pytest.param(lambda: case_file(upto="signed_off"), NOW + timedelta(hours=1), INVALID, "is in the future",
                     id="the Scrutineer informed in the future is refused"),
        pytest.param(lambda: case_file(stage=Stage.learning_actions), NOW, NOT_NOW, "is at stage learning_actions",
                     id="the Scrutineer is informed during the rapid review"),
    ],
)  # fmt: skip
def test_informing_the_scrutineer_is_refused(state, at, kind, fragment) -> None:
    step = ScrutineerInformed(informed_at=at)
    assert_refused(rapid_review.check_scrutineer_informed, state(), BUSINESS_UNIT, step, NOW, kind, fragment)


def test_the_scrutineer_informed_after_the_sign_off_is_recorded() -> None:
    file = case_file(upto="signed_off")
    step = ScrutineerInformed(informed_at=INFORMED, note="By email")
    rapid_review.check_scrutineer_informed(file, BUSINESS_UNIT, step, NOW)
    assert rapid_review.apply_scrutineer_informed(file, BUSINESS_UNIT, step, NOW) == []
    assert file.rapid_review.scrutineer_informed_at == INFORMED
    assert (file.history[-1].kind, file.history[-1].occurred_at) == (EventKind.scrutineer_informed, INFORMED)


@pytest.mark.parametrize(
    ("state", "at", "kind", "fragment"),
    [
        pytest.param(lambda: case_file(upto="recommended"), NOW, NOT_NOW,
                     "sending the rapid review to the Panel comes after all three partners have signed off",
                     id="the rapid review goes to the Panel after the sign-off"),
        pytest.param(lambda: case_file(upto="signed_off"), NOW, NOT_NOW,
                     "record that the Independent Scrutineer was informed before the rapid review goes",
                     id="the Scrutineer is informed before the Panel receives it"),
        pytest.param(lambda: case_file(upto="scrutineer_informed", notified=[]), NOW, NOT_NOW,
                     "the Panel has not been recorded as notified of the incident",
                     id="the Panel is notified of the incident before it receives the rapid review"),
        pytest.param(lambda: case_file(upto="sent"), NOW, NOT_NOW,
                     "the rapid review was recorded as sent to the Panel on 16 October 2026 14:00:00 UTC",
                     id="the rapid review is sent once"),
        pytest.param(lambda: case_file(upto="scrutineer_informed"), SIGNED_OFF - timedelta(days=1), NOT_NOW,
                     "the time the rapid review was sent (14 October 2026 10:00:00 UTC) is before the sign-off",
                     id="the rapid review is not sent before its sign-off"),
        pytest.param(lambda: case_file(stage=Stage.national_review), NOW, NOT_NOW, "is at stage national_review",
                     id="a concluded rapid review is not sent again"),
    ],
)  # fmt: skip
def test_sending_the_rapid_review_is_refused(state, at, kind, fragment) -> None:
    step = RapidReviewSent(sent_at=at)
    assert_refused(rapid_review.check_sent, state(), BUSINESS_UNIT, step, NOW, kind, fragment)


def test_the_rapid_review_sent_meets_its_deadline_when_it_was_sent() -> None:
    file = case_file(upto="scrutineer_informed")
    step = RapidReviewSent(sent_at=SENT_TO_PANEL)
    rapid_review.check_sent(file, BUSINESS_UNIT, step, NOW)
    assert rapid_review.apply_sent(file, BUSINESS_UNIT, step, NOW) == [
        (Milestone.rapid_review_sent, SENT_TO_PANEL, None)
    ]
    assert file.rapid_review.sent_to_panel_at == SENT_TO_PANEL


@pytest.mark.parametrize(
    ("state", "at", "kind", "fragment"),
    [
        pytest.param(lambda: case_file(upto="scrutineer_informed"), NOW, NOT_NOW,
                     "the rapid review has not been sent to the Panel yet, so there is no response to record",
                     id="no Panel response before the rapid review is sent"),
        pytest.param(challenged, NOW, NOT_NOW, "has not been sent to the Panel yet",
                     id="after a challenge the Panel answers the new submission"),
        pytest.param(lambda: case_file(upto="sent"), SENT_TO_PANEL - timedelta(hours=1), NOT_NOW,
                     "is before the rapid review was sent (16 October 2026 14:00:00 UTC)",
                     id="a response before the rapid review was sent is refused"),
        pytest.param(lambda: case_file(stage=Stage.local_review), NOW, NOT_NOW,
                     "the Panel's response belongs to the rapid review", id="the Panel answers once"),
    ],
)  # fmt: skip
def test_the_panels_response_is_refused(state, at, kind, fragment) -> None:
    step = PanelResponse(response=PanelResponseKind.agrees, received_at=at, reasons="Letter")
    assert_refused(rapid_review.check_panel_response, state(), BUSINESS_UNIT, step, NOW, kind, fragment)


@pytest.mark.parametrize(
    ("recommended", "response", "stage"),
    [
        (RecommendationKind.local_cspr, PanelResponseKind.agrees, Stage.local_review),
        (RecommendationKind.other_review, PanelResponseKind.agrees, Stage.other_review),
        (RecommendationKind.no_further_review, PanelResponseKind.agrees, Stage.learning_actions),
        (RecommendationKind.national_review, PanelResponseKind.agrees, Stage.national_review),
        (RecommendationKind.no_further_review, PanelResponseKind.national_review, Stage.national_review),
    ],
)
def test_the_panels_answer_concludes_the_rapid_review(recommended, response, stage) -> None:
    file = case_file(upto="sent", recommendation=recommended)
    step = PanelResponse(response=response, received_at=NOW, reasons="Letter")
    rapid_review.check_panel_response(file, BUSINESS_UNIT, step, NOW)
    assert rapid_review.apply_panel_response(file, BUSINESS_UNIT, step, NOW) == [
        (Milestone.panel_responded, NOW, None)
    ]
    outcome = "national_review" if stage is Stage.national_review else recommended.value
    assert (file.stage, file.outcome, file.rapid_review.panel_response) == (stage, outcome, response)
    assert file.history[-1].details == {"outcome": outcome, "next_stage": stage.value}


def test_a_challenge_reopens_the_recommendation_for_a_new_round() -> None:
    file = case_file(upto="sent")
    step = PanelResponse(response=PanelResponseKind.challenges, received_at=NOW, reasons="Letter")
    assert rapid_review.apply_panel_response(file, BUSINESS_UNIT, step, NOW) == [
        (Milestone.panel_responded, NOW, None)
    ]
    review = file.rapid_review
    assert (file.stage, file.outcome, review.rounds) == (Stage.rapid_review, None, 1)
    assert (review.recommendation, review.sign_offs, review.signed_off_at) == (None, [], None)
    assert (review.scrutineer_informed_at, review.sent_to_panel_at) == (None, None)
    assert (file.history[-1].kind, file.history[-1].details) == (
        EventKind.recommendation_reopened,
        {"round": 2},
    )


@pytest.mark.parametrize(
    ("response", "status"),
    [
        pytest.param(PanelResponseKind.agrees, TaskStatus.withdrawn, id="a concluded rapid review withdraws"),
        pytest.param(
            PanelResponseKind.challenges, TaskStatus.open, id="a challenged one still awaits returns"
        ),
    ],
)
def test_information_still_awaited_is_withdrawn_once_the_rapid_review_concludes(response, status) -> None:
    file = asked("luton-schools", upto="sent")
    step = PanelResponse(response=response, received_at=NOW, reasons="Letter")
    rapid_review.apply_panel_response(file, BUSINESS_UNIT, step, NOW)
    rapid_review.conclude(file, NOW)
    assert file.tasks[0].status is status
    withdrawn = [n.owning_agency for n in file.notices if n.kind is NoticeKind.task_withdrawn]
    assert withdrawn == (["luton-schools"] if status is TaskStatus.withdrawn else [])


# ---------------------------------------------------------------- a joint CSPR/SAR


def joint_recommendation(file) -> None:  # type: ignore[no-untyped-def]
    joint = RECOMMENDATIONS[RecommendationKind.local_cspr].model_copy(
        update={"joint_with_adults_board": True}
    )
    take(
        file,
        rapid_review.check_recommendation,
        rapid_review.apply_recommendation,
        JCRG_CHAIR,
        joint,
        SIGNED_OFF,
    )


def test_a_joint_cspr_sar_is_signed_off_only_once_the_adults_board_has_signed_too():
    file = case_file(Route.serious_incident_notification, Stage.rapid_review, upto="notified")
    joint_recommendation(file)
    for partner in StatutoryPartner:
        sign_off(file, partner)
    assert file.rapid_review.signed_off_at is None  # the three partners are not enough
    board = AdultsBoardSignOff(agrees=True, reasons="The SAB agrees: adults' services were involved.")
    take(
        file,
        rapid_review.check_adults_board_sign_off,
        rapid_review.apply_adults_board_sign_off,
        ADULTS_BOARD,
        board,
        NOW,
    )
    assert file.rapid_review.signed_off_at == NOW
    signed = [e for e in file.history if e.kind is EventKind.recommendation_signed_off]
    assert len(signed) == 1 and signed[0].details["joint_with_adults_board"] is True
    assert_refused(
        rapid_review.check_adults_board_sign_off, file, ADULTS_BOARD, board, NOW, NOT_NOW, "already signed"
    )


def test_the_adults_board_disagreeing_returns_a_joint_recommendation_to_the_jcrg():
    file = case_file(Route.serious_incident_notification, Stage.rapid_review, upto="notified")
    joint_recommendation(file)
    sign_off(file, StatutoryPartner.police)
    board = AdultsBoardSignOff(agrees=False, reasons="Not a SAR: no adult with care and support needs.")
    take(
        file,
        rapid_review.check_adults_board_sign_off,
        rapid_review.apply_adults_board_sign_off,
        ADULTS_BOARD,
        board,
        NOW,
    )
    review = file.rapid_review
    assert (review.recommendation, review.sign_offs, review.adults_board_signed_off_at) == (None, [], None)
    assert file.history[-1].kind is EventKind.recommendation_returned


def test_the_adults_board_does_not_sign_off_a_cspr_that_is_not_joint():
    file = case_file(Route.serious_incident_notification, Stage.rapid_review, upto="recommended")
    board = AdultsBoardSignOff(agrees=True, reasons="x")
    assert_refused(
        rapid_review.check_adults_board_sign_off,
        file,
        ADULTS_BOARD,
        board,
        NOW,
        NOT_NOW,
        "not a joint CSPR/SAR",
    )


def test_only_a_local_cspr_is_commissioned_jointly():
    with pytest.raises(ValueError, match="only a local CSPR"):
        Recommendation(recommendation=RecommendationKind.no_further_review, learning_actions=["x"], reasons="r",
                       joint_with_adults_board=True)  # fmt: skip
