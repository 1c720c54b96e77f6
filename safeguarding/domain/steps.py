"""Every step a person takes in the process: which workflow update takes it, who may take it, and the
API route that sends it. One table, read by the API (each route's dependency lets only these roles
through) and by the workflows (each update's validator refuses anyone else), and printed in the README
(``python -m safeguarding steps``): the three cannot disagree.

Who may take a step is a rule of the process, not of sign-in: a step that reaches a workflow some other
way is refused by the same table. Rules that depend on the step's content (a partner signs for its own
organisation only, an agency completes only its own task) are the step's own check.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel

from safeguarding.domain.action_plan import (
    ActionProgress,
    ActionRedated,
    ActionSignedOff,
    ActionWithdrawn,
    AddAction,
    AddRecommendation,
    ImpactCheckDone,
    PlanClosed,
)
from safeguarding.domain.case import (
    AdultsBoardSignOff,
    CaseClosure,
    ContributionSent,
    CriteriaNotMet,
    InformationRequest,
    InformationReturn,
    NotificationRecord,
    PanelResponse,
    PartnerSignOff,
    RapidReviewSent,
    Recommendation,
    ReferralConfirmation,
    ScreeningDecision,
    ScrutineerInformed,
)
from safeguarding.domain.people import Actor, Role
from safeguarding.domain.refusal import Refusal, RefusalKind
from safeguarding.domain.review import (
    AdultsBoardApproval,
    AdultsBoardPublication,
    CheckpointDone,
    ClockRestarted,
    ClockStopped,
    CopySent,
    DraftReceived,
    FamilyEngagement,
    FinalReport,
    InformationToPanel,
    LearningEventHeld,
    NotPublished,
    PanelReportReceived,
    PublicationScheduled,
    Published,
    ReportApproved,
    ReviewerAppointed,
    TaskWithdrawn,
    TermsAgreed,
)
from safeguarding.domain.tasks import TaskWithdrawal
from safeguarding.domain.yearly_report import ReportPublished, ReportSent

BU = Role.business_unit
JCRG = (Role.jcrg_member, Role.jcrg_chair)
CHAIR = Role.jcrg_chair
PARTNER = Role.safeguarding_partner
AGENCY = Role.partner_agency
ADULTS_BOARD = Role.adults_board_representative


class Process(StrEnum):
    """The workflow that takes the step."""

    case = "case"  # intake and the rapid review (CaseWorkflow)
    review = "review"  # the CSPR, another review, or a national review's local duties (ReviewWorkflow)
    plan = "plan"  # the action plan (ActionPlanWorkflow)
    yearly_report = "yearly_report"  # the yearly report's deadlines (YearlyReportWorkflow)


@dataclass(frozen=True)
class Step:
    process: Process
    update: str  # the workflow update that takes it
    body: type[BaseModel]  # what the person sends
    method: str  # its HTTP method and path
    roles: tuple[Role, ...]
    does: str  # what it records, in a line
    # Taken by a contributing partnership on another's case too, for its own part (its own agencies,
    # its own tasks); every other step only by the case's own partnership.
    contributors: bool = False

    @property
    def path(self) -> str:
        return self.method.split(" ", 1)[1]

    def check_actor(self, actor: Actor) -> None:
        """A process rule: a role that does not take this step is refused (403), whatever let it in."""
        if actor.role not in self.roles:
            raise Refusal(
                f"a {actor.role.value} cannot take this step; it is for: {', '.join(r.value for r in self.roles)}",
                RefusalKind.forbidden,
            )

    def check_partnership(
        self,
        actor: Actor,
        reference: str,
        partnership: str,
        contributors: list[str] | tuple[str, ...] = (),
        *,
        missing: str | None = None,
    ) -> None:
        """Another partnership's case answers as one that does not exist (404); a contributing
        partnership takes only the steps marked for contributors (403). An actor recorded before
        partnerships were kept apart acts in none and is not checked."""
        acting = actor.partnership
        if acting is None or acting == partnership:
            return
        if acting not in contributors:
            raise Refusal(missing or f"no case with reference {reference}", RefusalKind.not_found)
        if not self.contributors:
            raise Refusal(
                f"{acting} contributes to case {reference}; {partnership} takes this step",
                RefusalKind.forbidden,
            )


C, R, P, Y = Process.case, Process.review, Process.plan, Process.yearly_report
CASE = "POST /cases/{reference}"
REVIEW = "POST /cases/{reference}/review"
PLAN = "POST /cases/{reference}/action-plan"
TASK = "POST /tasks/{task_id}"
YEAR = "POST /yearly-reports/{partnership}/{year}"

# ---------------------------------------------------------------- intake and the rapid review
CONFIRM_REFERRAL = Step(
    C, "confirm_referral", ReferralConfirmation, f"{CASE}/referral-confirmation", (BU,),
    "a referral's written confirmation arrived (meets the 48-hour deadline)",
)  # fmt: skip
SCREEN = Step(
    C, "screen", ScreeningDecision, f"{CASE}/screening", (BU, *JCRG),
    "a referral meets the notification criteria, or not (closed with its learning route)",
)  # fmt: skip
RECORD_NOTIFICATION = Step(
    C, "record_notification", NotificationRecord, f"{CASE}/notifications", (BU,),
    "the Panel, the partners, the Secretary of State or Ofsted was notified",
)  # fmt: skip
REQUEST_INFORMATION = Step(
    C, "request_information", InformationRequest, f"{CASE}/information-requests", (BU,),
    "ask agencies for information; one task each, due per the policy",
    contributors=True,
)  # fmt: skip
SUBMIT_RETURN = Step(
    C, "submit_return", InformationReturn, f"{TASK}/complete", (AGENCY, BU),
    "an agency's information return (the agency it was asked of, or the Business Unit for it)",
    contributors=True,
)  # fmt: skip
WITHDRAW_CASE_TASK = Step(
    C, "withdraw_task", TaskWithdrawal, f"{TASK}/withdraw", (BU,),
    "an information request no longer needed: its task and deadline end",
    contributors=True,
)  # fmt: skip
SEND_CONTRIBUTION = Step(
    C, "send_contribution", ContributionSent, f"{CASE}/contribution", (BU,),
    "our contribution to a review another area leads, sent (closes the contribution)",
)  # fmt: skip
RECOMMEND = Step(
    C, "recommend", Recommendation, f"{CASE}/recommendation", JCRG,
    "local CSPR (methodology) / other review (type) / no further review (learning actions) / national review",
)  # fmt: skip
SIGN_OFF = Step(
    C, "sign_off", PartnerSignOff, f"{CASE}/sign-offs", (PARTNER,),
    "the local authority, police or ICB agrees, or returns it to the JCRG (each for itself)",
)  # fmt: skip
ADULTS_BOARD_SIGN_OFF = Step(
    C, "adults_board_sign_off", AdultsBoardSignOff, f"{CASE}/adults-board-sign-off", (ADULTS_BOARD,),
    "a joint CSPR/SAR: the Safeguarding Adults Board agrees to the recommendation, or returns it",
)  # fmt: skip
INFORM_SCRUTINEER = Step(
    C, "inform_scrutineer", ScrutineerInformed, f"{CASE}/scrutineer-informed", (BU,),
    "the Independent Scrutineer was informed",
)  # fmt: skip
SEND_RAPID_REVIEW = Step(
    C, "send_rapid_review", RapidReviewSent, f"{CASE}/rapid-review-sent", (BU,),
    "the rapid review was sent to the Panel",
)  # fmt: skip
RECORD_PANEL_RESPONSE = Step(
    C, "record_panel_response", PanelResponse, f"{CASE}/panel-response", (BU,),
    "the Panel agrees, challenges (decision reopened) or takes a national review",
)  # fmt: skip
CLOSE_CASE = Step(
    C, "close_case", CaseClosure, f"{CASE}/closure", (BU,),
    "close a case with no review or plan running (a case with them closes by itself)",
)  # fmt: skip
CLOSE_NOT_MEETING_CRITERIA = Step(
    C, "close_not_meeting_criteria", CriteriaNotMet, f"{CASE}/criteria-not-met", (BU, CHAIR),
    "a notified incident does not meet the criteria: closed with the reasons, the Panel told",
)  # fmt: skip

# ---------------------------------------------------------------- the review
APPOINT_REVIEWER = Step(
    R, "appoint_reviewer", ReviewerAppointed, f"{REVIEW}/reviewer-appointed", (*JCRG, BU),
    "the independent reviewer is appointed",
)  # fmt: skip
AGREE_TERMS = Step(
    R, "agree_terms", TermsAgreed, f"{REVIEW}/terms-agreed", (*JCRG, BU),
    "terms of reference and methodology agreed",
)  # fmt: skip
RECORD_FAMILY_ENGAGEMENT = Step(
    R, "record_family_engagement", FamilyEngagement, f"{REVIEW}/family-engagement", (BU, CHAIR),
    "offered / accepted / declined / delayed, with reasons (any time before the final report)",
)  # fmt: skip
RECORD_LEARNING_EVENT = Step(
    R, "record_learning_event", LearningEventHeld, f"{REVIEW}/learning-event-held", (BU, CHAIR),
    "the practitioner learning event",
)  # fmt: skip
RECEIVE_DRAFT = Step(
    R, "receive_draft", DraftReceived, f"{REVIEW}/draft-received", (BU, CHAIR),
    "the draft report (the partners are asked to approve it)",
)  # fmt: skip
APPROVE_REPORT = Step(
    R, "approve_report", ReportApproved, f"{REVIEW}/report-approved", (PARTNER,),
    "each of the three partners approves the report (each for itself)",
)  # fmt: skip
APPROVE_REPORT_FOR_ADULTS_BOARD = Step(
    R, "approve_report_for_adults_board", AdultsBoardApproval, f"{REVIEW}/adults-board-approval",
    (ADULTS_BOARD,), "a joint CSPR/SAR: the Safeguarding Adults Board approves the report too",
)  # fmt: skip
AGREE_PUBLICATION_FOR_ADULTS_BOARD = Step(
    R, "agree_publication_for_adults_board", AdultsBoardPublication, f"{REVIEW}/adults-board-publication",
    (ADULTS_BOARD,), "a joint CSPR/SAR: the Safeguarding Adults Board agrees to its publication",
)  # fmt: skip
RECEIVE_FINAL_REPORT = Step(
    R, "receive_final_report", FinalReport, f"{REVIEW}/final-report", (*JCRG, BU),
    "the final report and its recommendations (another type of review finishes here)",
)  # fmt: skip
SEND_COPY = Step(
    R, "send_copy", CopySent, f"{REVIEW}/copy-sent", (BU, CHAIR),
    "the report sent to the Panel and the Secretary of State (and Ofsted)",
)  # fmt: skip
SCHEDULE_PUBLICATION = Step(
    R, "schedule_publication", PublicationScheduled, f"{REVIEW}/publication-scheduled", (BU, CHAIR),
    "a publication date, refused with the earliest date if it gives less than the policy's notice",
)  # fmt: skip
RECORD_PUBLICATION = Step(
    R, "record_publication", Published, f"{REVIEW}/published", (BU, CHAIR),
    "published on a date: the review is finished",
)  # fmt: skip
DECIDE_NOT_TO_PUBLISH = Step(
    R, "decide_not_to_publish", NotPublished, f"{REVIEW}/not-published", (*JCRG, BU),
    "a decision not to publish, with what is published instead",
)  # fmt: skip
STOP_CLOCK = Step(
    R, "stop_clock", ClockStopped, f"{REVIEW}/clock-stopped", (BU, CHAIR),
    "parallel proceedings: the reason, the expected end, when the Panel was told",
)  # fmt: skip
RESTART_CLOCK = Step(
    R, "restart_clock", ClockRestarted, f"{REVIEW}/clock-restarted", (BU, CHAIR),
    "the review's deadlines move on by the days stopped",
)  # fmt: skip
SEND_INFORMATION_TO_PANEL = Step(
    R, "send_information_to_panel", InformationToPanel, f"{REVIEW}/information-to-panel", (BU, CHAIR),
    "national review: the partners' information sent to the Panel",
)  # fmt: skip
RECEIVE_PANEL_REPORT = Step(
    R, "receive_panel_report", PanelReportReceived, f"{REVIEW}/panel-report-received", (*JCRG, BU),
    "national review: the Panel's report and its recommendations",
)  # fmt: skip
COMPLETE_REVIEW_CHECKPOINT = Step(
    R, "complete_checkpoint", CheckpointDone, f"{TASK}/complete", (BU, CHAIR),
    "a monitoring checkpoint's notes (the review's progress, time and quality)",
)  # fmt: skip
WITHDRAW_REVIEW_TASK = Step(
    R, "withdraw_task", TaskWithdrawn, f"{TASK}/withdraw", (BU,),
    "a review task no longer needed: its deadline is cancelled",
)  # fmt: skip

# ---------------------------------------------------------------- the action plan
ADD_RECOMMENDATION = Step(
    P, "add_recommendation", AddRecommendation, f"{PLAN}/add-recommendation", (*JCRG, BU),
    "a recommendation the plan follows",
)  # fmt: skip
ADD_ACTION = Step(
    P, "add_action", AddAction, f"{PLAN}/add-action", JCRG,
    "an action: agency, lead role, date, measure, themes (a task for the agency)",
)  # fmt: skip
RECORD_PROGRESS = Step(
    P, "record_progress", ActionProgress, f"{PLAN}/progress", (AGENCY, BU),
    "progress with evidence (the owning agency, or the Business Unit for it)",
)  # fmt: skip
SIGN_OFF_ACTION = Step(
    P, "sign_off_action", ActionSignedOff, f"{PLAN}/sign-off-action", JCRG,
    "completed (evidence of impact) or completed pending an audit; an impact checkpoint follows",
)  # fmt: skip
REDATE_ACTION = Step(
    P, "redate_action", ActionRedated, f"{PLAN}/redate-action", JCRG,
    "a new date, with reasons; the action keeps its history",
)  # fmt: skip
WITHDRAW_ACTION = Step(
    P, "withdraw_action", ActionWithdrawn, f"{PLAN}/withdraw-action", JCRG,
    "withdrawn, with reasons",
)  # fmt: skip
COMPLETE_IMPACT_CHECK = Step(
    P, "complete_impact_check", ImpactCheckDone, f"{TASK}/complete", (*JCRG, BU),
    "an impact checkpoint's notes (is the change embedded?)",
)  # fmt: skip
CLOSE_PLAN = Step(
    P, "close_plan", PlanClosed, f"{PLAN}/close-plan", JCRG,
    "when every action is settled and every impact check done",
)  # fmt: skip

# ---------------------------------------------------------------- the yearly report
RECORD_YEARLY_PUBLICATION = Step(
    Y, "record_publication", ReportPublished, f"{YEAR}/published", (BU,),
    "the yearly report was published (the deadline to send it starts)",
)  # fmt: skip
RECORD_YEARLY_SENDING = Step(
    Y, "record_sending", ReportSent, f"{YEAR}/sent", (BU,),
    "it was sent to the Panel and/or the DfE",
)  # fmt: skip

STEPS: list[Step] = [value for value in list(globals().values()) if isinstance(value, Step)]


def step_for(process: Process, body: type[BaseModel]) -> Step:
    """The step of ``process`` whose body is ``body``."""
    return next(step for step in STEPS if step.process is process and step.body is body)


def roles_of(*steps: Step) -> tuple[Role, ...]:
    """Who may call a route that takes any of these steps (the step itself checks which)."""
    return tuple(dict.fromkeys(role for step in steps for role in step.roles))


def markdown_table() -> str:
    """The README's table of steps, from this one."""
    lines = ["| route | who | step | what |", "|---|---|---|---|"]
    for step in STEPS:
        who = ", ".join(role.value for role in step.roles)
        if step.contributors:
            who += " (and a contributing partnership's, for its own part)"
        lines.append(f"| `{step.method}` | {who} | `{step.process.value}.{step.update}` | {step.does} |")
    return "\n".join(lines)
