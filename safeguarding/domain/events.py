"""The case's history: one event per thing recorded, copied to the read model's event log.

Every kind of event is named here, once: the workflows record them, the reports and the dashboard read
them back by these names (the read model stores the value, so a value never changes once recorded).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from safeguarding.domain.people import Actor


class EventKind(StrEnum):
    # intake
    case_opened = "case_opened"
    referral_confirmed = "referral_confirmed"
    screened = "screened"
    notification_recorded = "notification_recorded"
    # the rapid review
    information_requested = "information_requested"
    information_returned = "information_returned"
    recommendation_made = "recommendation_made"
    recommendation_revised = "recommendation_revised"
    partner_signed_off = "partner_signed_off"
    partner_disagreed = "partner_disagreed"
    recommendation_returned = "recommendation_returned"
    recommendation_signed_off = "recommendation_signed_off"
    scrutineer_informed = "scrutineer_informed"
    rapid_review_sent = "rapid_review_sent"
    panel_responded = "panel_responded"
    recommendation_reopened = "recommendation_reopened"
    rapid_review_concluded = "rapid_review_concluded"
    # cases across areas
    contribution_requested = "contribution_requested"  # a contributing partnership asked for its part
    contribution_sent = "contribution_sent"  # our part sent to the area that leads (an external lead)
    # what follows the rapid review, on the case
    review_started = "review_started"
    review_finished = "review_finished"  # on the case (the child's outcome) and on the review
    action_plan_started = "action_plan_started"
    action_plan_closed = "action_plan_closed"  # on the case and on the plan
    closure_decided = "closure_decided"
    case_closed = "case_closed"
    # the review
    review_commissioned = "review_commissioned"
    reviewer_appointed = "reviewer_appointed"
    terms_agreed = "terms_agreed"
    family_engagement = "family_engagement"
    learning_event_held = "learning_event_held"
    draft_received = "draft_received"
    report_approved = "report_approved"
    report_approved_by_all_partners = "report_approved_by_all_partners"
    final_report = "final_report"
    copy_sent = "copy_sent"
    publication_scheduled = "publication_scheduled"
    published = "published"
    not_published = "not_published"
    clock_stopped = "clock_stopped"
    clock_restarted = "clock_restarted"
    information_to_panel = "information_to_panel"
    panel_report_received = "panel_report_received"
    checkpoint_done = "checkpoint_done"
    # A review begun on the partners' decision, before the Panel's answer, follows that decision.
    review_rescoped = "review_rescoped"
    review_withdrawn = "review_withdrawn"
    # the action plan
    action_plan_opened = "action_plan_opened"
    recommendation_added = "recommendation_added"
    # A joint CSPR/SAR: the Safeguarding Adults Board's representative on the recommendation and report.
    adults_board_signed_off = "adults_board_signed_off"
    adults_board_disagreed = "adults_board_disagreed"
    adults_board_approved_report = "adults_board_approved_report"
    adults_board_agreed_publication = "adults_board_agreed_publication"
    # A notified incident found not to meet the criteria: closed with the reasons, the Panel told.
    criteria_not_met = "criteria_not_met"
    # The review's recommendations joined a plan opened at the rapid review.
    review_recommendations_taken = "review_recommendations_taken"
    action_added = "action_added"
    action_progress = "action_progress"
    action_signed_off = "action_signed_off"
    action_redated = "action_redated"
    impact_checked = "impact_checked"
    # tasks, deadlines and the clock, on every stream
    task_withdrawn = "task_withdrawn"
    checkpoint_task_created = "checkpoint_task_created"
    deadline_opened = "deadline_opened"
    deadline_met = "deadline_met"
    deadline_missed = "deadline_missed"
    deadline_cancelled = "deadline_cancelled"
    reminder_sent = "reminder_sent"
    escalation_sent = "escalation_sent"


class CaseEvent(BaseModel):
    """One entry of the case's history; the read model's event log is a copy of these."""

    seq: int
    kind: EventKind
    recorded_at: datetime
    occurred_at: datetime | None = None
    actor: Actor | None = None
    reasons: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class AuditNote(BaseModel):
    """An accepted step, for the audit log: written by the workflow that took it, with its read-model
    changes, exactly once by ``key`` (the workflow and the update id; Temporal takes an update id once).
    The API audits only what never reaches a workflow: refusals, denials, reads."""

    key: str
    at: datetime  # when it was recorded
    occurred_at: datetime | None = None  # when it truly happened, if the person said
    actor: Actor
    action: str
    case_reference: str
    reason: str | None = None
