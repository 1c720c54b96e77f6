"""Each step's check and apply, by its workflow update's name, as the workflows' handlers call them:
what the importer's replay runs a history on (``rules/onboarding.py``)."""

from __future__ import annotations

from typing import Any

from safeguarding.domain import steps as table
from safeguarding.domain.rules import action_plan as plan_rules
from safeguarding.domain.rules import contributions, intake, rapid_review, review, tasks

# Each update's check and apply, as its workflow's handler calls them.
CASE_RULES: dict[str, tuple[Any, Any]] = {
    table.CONFIRM_REFERRAL.update: (intake.check_referral_confirmation, intake.apply_referral_confirmation),
    table.SCREEN.update: (intake.check_screening, intake.apply_screening),
    table.RECORD_NOTIFICATION.update: (intake.check_notification, intake.apply_notification),
    table.REQUEST_INFORMATION.update: (rapid_review.check_information_request, None),
    table.SUBMIT_RETURN.update: (
        rapid_review.check_information_return,
        rapid_review.apply_information_return,
    ),
    table.WITHDRAW_CASE_TASK.update: (tasks.check_task_withdrawal, tasks.apply_task_withdrawal),
    table.RECOMMEND.update: (rapid_review.check_recommendation, rapid_review.apply_recommendation),
    table.SIGN_OFF.update: (rapid_review.check_sign_off, rapid_review.apply_sign_off),
    table.ADULTS_BOARD_SIGN_OFF.update: (
        rapid_review.check_adults_board_sign_off,
        rapid_review.apply_adults_board_sign_off,
    ),
    table.INFORM_SCRUTINEER.update: (
        rapid_review.check_scrutineer_informed,
        rapid_review.apply_scrutineer_informed,
    ),
    table.SEND_RAPID_REVIEW.update: (rapid_review.check_sent, rapid_review.apply_sent),
    table.RECORD_PANEL_RESPONSE.update: (
        rapid_review.check_panel_response,
        rapid_review.apply_panel_response,
    ),
    table.SEND_CONTRIBUTION.update: (
        contributions.check_contribution_sent,
        contributions.apply_contribution_sent,
    ),
    table.CLOSE_CASE.update: (intake.check_closure, intake.apply_closure),
    table.CLOSE_NOT_MEETING_CRITERIA.update: (intake.check_criteria_not_met, intake.apply_criteria_not_met),
}
REVIEW_RULES: dict[str, tuple[Any, Any]] = {
    table.APPOINT_REVIEWER.update: (review.check_reviewer_appointed, review.apply_reviewer_appointed),
    table.AGREE_TERMS.update: (review.check_terms_agreed, review.apply_terms_agreed),
    table.RECORD_FAMILY_ENGAGEMENT.update: (review.check_family_engagement, review.apply_family_engagement),
    table.RECORD_LEARNING_EVENT.update: (review.check_learning_event, review.apply_learning_event),
    table.RECEIVE_DRAFT.update: (review.check_draft_received, review.apply_draft_received),
    table.APPROVE_REPORT.update: (review.check_report_approved, review.apply_report_approved),
    table.APPROVE_REPORT_FOR_ADULTS_BOARD.update: (
        review.check_adults_board_approval,
        review.apply_adults_board_approval,
    ),
    table.AGREE_PUBLICATION_FOR_ADULTS_BOARD.update: (
        review.check_adults_board_publication,
        review.apply_adults_board_publication,
    ),
    table.RECEIVE_FINAL_REPORT.update: (review.check_final_report, review.apply_final_report),
    table.SEND_COPY.update: (review.check_copy_sent, None),
    table.SCHEDULE_PUBLICATION.update: (
        review.check_publication_scheduled,
        review.apply_publication_scheduled,
    ),
    table.RECORD_PUBLICATION.update: (review.check_published, review.apply_published),
    table.DECIDE_NOT_TO_PUBLISH.update: (review.check_not_published, review.apply_not_published),
    table.STOP_CLOCK.update: (review.check_clock_stopped, review.apply_clock_stopped),
    table.RESTART_CLOCK.update: (review.check_clock_restarted, None),
    table.SEND_INFORMATION_TO_PANEL.update: (
        review.check_information_to_panel,
        review.apply_information_to_panel,
    ),
    table.RECEIVE_PANEL_REPORT.update: (review.check_panel_report, review.apply_panel_report),
    table.COMPLETE_REVIEW_CHECKPOINT.update: (review.check_checkpoint_done, review.apply_checkpoint_done),
    table.WITHDRAW_REVIEW_TASK.update: (review.check_task_withdrawn, review.apply_task_withdrawn),
}
PLAN_RULES: dict[str, tuple[Any, Any]] = {
    table.ADD_RECOMMENDATION.update: (
        plan_rules.check_add_recommendation,
        plan_rules.apply_add_recommendation,
    ),
    table.ADD_ACTION.update: (plan_rules.check_add_action, None),
    table.RECORD_PROGRESS.update: (plan_rules.check_progress, plan_rules.apply_progress),
    table.SIGN_OFF_ACTION.update: (plan_rules.check_sign_off_action, plan_rules.apply_sign_off_action),
    table.REDATE_ACTION.update: (plan_rules.check_redate_action, None),
    table.WITHDRAW_ACTION.update: (plan_rules.check_withdraw_action, plan_rules.apply_withdraw_action),
    table.COMPLETE_IMPACT_CHECK.update: (plan_rules.check_impact_check, plan_rules.apply_impact_check),
    table.CLOSE_PLAN.update: (plan_rules.check_close_plan, plan_rules.apply_close_plan),
}
