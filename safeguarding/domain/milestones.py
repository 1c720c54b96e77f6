"""Things that happen on a case. The deadline policy starts and meets deadlines on these."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class Milestone(StrEnum):
    """Things that happen on a case. The deadline policy starts and meets deadlines on these."""

    case_opened = "case_opened"
    incident_notifiable = "incident_notifiable"
    referral_made = "referral_made"
    referral_confirmed = "referral_confirmed"
    information_requested = "information_requested"
    information_returned = "information_returned"
    panel_notified = "panel_notified"
    partners_notified = "partners_notified"
    secretary_of_state_notified = "secretary_of_state_notified"
    ofsted_notified = "ofsted_notified"
    rapid_review_sent = "rapid_review_sent"
    panel_responded = "panel_responded"
    # Cases across areas
    contribution_requested = "contribution_requested"
    contribution_sent = "contribution_sent"
    # The review (issue 3)
    review_decided = "review_decided"
    review_report_sent = "review_report_sent"
    review_completed = "review_completed"
    national_review_taken = "national_review_taken"
    national_information_sent = "national_information_sent"
    # The action plan
    action_agreed = "action_agreed"
    action_completed = "action_completed"
    # Tasks created by checkpoints and duties
    task_created = "task_created"
    task_completed = "task_completed"


# A milestone reached: what, when it happened, and what it concerns (a task id), if anything.
Reached = tuple[Milestone, datetime, str | None]
