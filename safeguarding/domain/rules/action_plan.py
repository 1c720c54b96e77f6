"""The action plan's rules: which step may be taken now, and what taking it changes.

Each step has a ``check_*`` and an ``apply_*`` taking ``(file, actor, decision, now)``, as the rapid
review's. An action is a task for its agency: its due date is the date the JCRG set (the policy's
``action_due`` deadline ends that day), and every change to it is kept in its own history.
"""

from __future__ import annotations

from datetime import datetime

from safeguarding.domain.action_plan import (
    SETTLED,
    Action,
    ActionChange,
    ActionProgress,
    ActionRedated,
    ActionSignedOff,
    ActionStatus,
    ActionWithdrawn,
    AddAction,
    AddRecommendation,
    ImpactCheckDone,
    PlanClosed,
    PlanFile,
    PlanRecommendation,
    ReviewRecommendations,
)
from safeguarding.domain.dates import local_date
from safeguarding.domain.deadlines import Deadline
from safeguarding.domain.events import EventKind
from safeguarding.domain.milestones import Milestone, Reached
from safeguarding.domain.notices import NoticeKind
from safeguarding.domain.people import Actor, Role
from safeguarding.domain.refusal import Refusal, RefusalKind
from safeguarding.domain.rules.common import not_before
from safeguarding.domain.rules.tasks import add_task, check_open_task, complete_task, find_task, withdraw_task


def _open_plan(file: PlanFile) -> None:
    if file.status == "closed":
        raise Refusal(f"the action plan of case {file.reference} is closed")


def find_action(file: PlanFile, action_id: str) -> Action:
    action = file.action(action_id)
    if action is None:
        raise Refusal(f"the plan has no action {action_id}", RefusalKind.not_found)
    return action


def _open_action(file: PlanFile, action_id: str, at: datetime | None = None) -> Action:
    """An open action; a step on it dated ``at`` is not before the action was added."""
    action = find_action(file, action_id)
    if at is not None and action.changes:
        not_before(at, action.changes[0].at, "this step", f"action {action_id} was added")
    if action.status in SETTLED:
        raise Refusal(f"action {action_id} is {action.status.value}")
    return action


def action_deadline(file: PlanFile, action: Action) -> Deadline:
    """The live deadline of an open action."""
    return next(
        d for d in file.deadlines if d.subject == action.task_id and d.status.value in ("open", "overdue")
    )


# ---------------------------------------------------------------- recommendations


def add_recommendation(file: PlanFile, text: str, source: str, actor: Actor | None, now: datetime) -> None:
    recommendation = PlanRecommendation(id=f"R{len(file.recommendations) + 1}", text=text, source=source)
    file.recommendations.append(recommendation)
    file.record(
        EventKind.recommendation_added, now, actor=actor, recommendation=recommendation.id, source=source
    )


def check_add_recommendation(file: PlanFile, actor: Actor, step: AddRecommendation, now: datetime) -> None:
    _open_plan(file)


def apply_add_recommendation(
    file: PlanFile, actor: Actor, step: AddRecommendation, now: datetime
) -> list[Reached]:
    add_recommendation(file, step.text, step.source, actor, now)
    return []


# ---------------------------------------------------------------- actions


def check_add_action(file: PlanFile, actor: Actor, step: AddAction, now: datetime) -> None:
    _open_plan(file)
    if not any(r.id == step.recommendation_id for r in file.recommendations):
        raise Refusal(f"the plan has no recommendation {step.recommendation_id}", RefusalKind.not_found)
    if step.due_on < local_date(now, file.policy.timezone):
        raise Refusal(f"the due date {step.due_on} is in the past", RefusalKind.invalid)
    unknown = [theme for theme in step.themes if theme not in file.policy.themes]
    if unknown:
        raise Refusal(
            f"not a theme of this partnership: {', '.join(unknown)}; its themes are {', '.join(file.policy.themes)}",
            RefusalKind.invalid,
        )


def apply_add_action(file: PlanFile, actor: Actor, step: AddAction, now: datetime) -> list[Reached]:
    """The action's deadline opens on the date set; ``announce_action`` tells its agency once it has."""
    task = add_task(file, step.agency, "action", step.description, now)
    action = Action(
        id=f"A{len(file.actions) + 1}",
        recommendation_id=step.recommendation_id,
        agency=step.agency,
        lead_role=step.lead_role,
        description=step.description,
        measure=step.measure,
        themes=step.themes,
        due_on=step.due_on,
        task_id=task.id,
    )
    file.actions.append(action)
    action.changes.append(
        ActionChange(
            at=now, kind="added", actor=actor, details=step.model_dump(mode="json", exclude={"step"})
        )
    )
    file.record(
        EventKind.action_added,
        now,
        actor=actor,
        action=action.id,
        agency=step.agency,
        task=task.id,
        due_on=step.due_on.isoformat(),
        themes=list(step.themes),
    )
    return [(Milestone.action_agreed, now, task.id)]


def announce_action(file: PlanFile, action: Action) -> None:
    """The action's deadline is open: its due time is known, and its agency hears of it."""
    task = find_task(file, action.task_id)
    action.due_at = task.due_at = action_deadline(file, action).due_at
    file.notify_task(task, NoticeKind.task_assigned)


def check_progress(file: PlanFile, actor: Actor, step: ActionProgress, now: datetime) -> None:
    _open_plan(file)
    # Whose action it is comes first: another agency's action answers as one that does not exist.
    action = file.action(step.action_id)
    if action is None or (actor.role is Role.partner_agency and actor.agency != action.agency):
        raise Refusal(f"the plan has no action {step.action_id}", RefusalKind.not_found)
    _open_action(file, step.action_id, now)


def apply_progress(file: PlanFile, actor: Actor, step: ActionProgress, now: datetime) -> list[Reached]:
    find_action(file, step.action_id).changes.append(
        ActionChange(
            at=now, kind="progress", actor=actor, reasons=step.summary, details={"evidence": step.evidence}
        )
    )
    file.record(
        EventKind.action_progress, now, actor=actor, action=step.action_id, evidence=len(step.evidence)
    )
    return []


def check_sign_off_action(file: PlanFile, actor: Actor, step: ActionSignedOff, now: datetime) -> None:
    _open_plan(file)
    action = _open_action(file, step.action_id, now)
    if not any(c.kind == "progress" for c in action.changes):
        raise Refusal(f"action {action.id} has no progress with evidence from {action.agency} yet")


def apply_sign_off_action(
    file: PlanFile, actor: Actor, step: ActionSignedOff, now: datetime
) -> list[Reached]:
    """Its agency hears that nothing more is asked; an impact checkpoint follows (the policy's)."""
    action = find_action(file, step.action_id)
    action.status = ActionStatus(step.outcome)
    action.completed_at, action.evidence_of_impact = now, step.evidence_of_impact
    action.changes.append(
        ActionChange(
            at=now,
            kind=step.outcome,
            actor=actor,
            reasons=step.reasons,
            details={"evidence_of_impact": step.evidence_of_impact},
        )
    )
    complete_task(file, find_task(file, action.task_id), actor, now)
    file.record(
        EventKind.action_signed_off,
        now,
        actor=actor,
        reasons=step.reasons,
        action=action.id,
        outcome=step.outcome,
    )
    return [(Milestone.action_completed, now, action.task_id)]


def check_redate_action(file: PlanFile, actor: Actor, step: ActionRedated, now: datetime) -> None:
    _open_plan(file)
    action = _open_action(file, step.action_id, now)
    if step.due_on == action.due_on:
        raise Refusal(f"action {action.id} is already due on {action.due_on}")
    if step.due_on < local_date(now, file.policy.timezone):
        raise Refusal(f"the new due date {step.due_on} is in the past", RefusalKind.invalid)


def apply_redate_action(file: PlanFile, actor: Actor, step: ActionRedated, now: datetime) -> list[Reached]:
    """After the workflow has moved the action's deadline to the new date: the action keeps the change
    in its history, and its agency hears of the new date."""
    action = find_action(file, step.action_id)
    action.changes.append(
        ActionChange(
            at=now,
            kind="redated",
            actor=actor,
            reasons=step.reasons,
            details={"from": action.due_on.isoformat(), "to": step.due_on.isoformat()},
        )
    )
    action.due_on = step.due_on
    task = find_task(file, action.task_id)
    action.due_at = task.due_at = action_deadline(file, action).due_at
    file.notify_task(task, NoticeKind.task_redated, number=sum(c.kind == "redated" for c in action.changes))
    file.record(
        EventKind.action_redated,
        now,
        actor=actor,
        reasons=step.reasons,
        action=action.id,
        due_on=step.due_on.isoformat(),
    )
    return []


def check_withdraw_action(file: PlanFile, actor: Actor, step: ActionWithdrawn, now: datetime) -> None:
    _open_plan(file)
    _open_action(file, step.action_id, now)


def apply_withdraw_action(
    file: PlanFile, actor: Actor, step: ActionWithdrawn, now: datetime
) -> list[Reached]:
    action = find_action(file, step.action_id)
    action.status = ActionStatus.withdrawn
    action.changes.append(ActionChange(at=now, kind="withdrawn", actor=actor, reasons=step.reasons))
    withdraw_task(file, find_task(file, action.task_id), actor, step.reasons, now)
    return []


# ---------------------------------------------------------------- impact checks and closing


def check_impact_check(file: PlanFile, actor: Actor, step: ImpactCheckDone, now: datetime) -> None:
    _open_plan(file)
    task = find_task(file, step.task_id)
    if task.kind == "action":
        raise Refusal(
            "an action is completed by the JCRG's sign-off: the agency posts its progress with evidence "
            f"(POST /cases/{file.reference}/action-plan/progress)"
        )
    check_open_task(file, step.task_id, now)


def apply_impact_check(file: PlanFile, actor: Actor, step: ImpactCheckDone, now: datetime) -> list[Reached]:
    task = find_task(file, step.task_id)
    complete_task(file, task, actor, now, summary=step.summary)
    for action in file.actions:
        if task.asked_for.endswith(f"({action.task_id})"):
            action.changes.append(
                ActionChange(at=now, kind="impact_checked", actor=actor, reasons=step.summary)
            )
    file.record(EventKind.impact_checked, now, actor=actor, task=task.id)
    return [(Milestone.task_completed, now, task.id)]


def check_close_plan(file: PlanFile, actor: Actor, step: PlanClosed, now: datetime) -> None:
    _open_plan(file)
    if file.awaiting_review is not None:
        raise Refusal(
            f"the {file.awaiting_review.replace('_', ' ')}'s recommendations are still to come: the plan "
            "takes them when the partners agree the final report"
        )
    still_open = [a.id for a in file.actions if a.status not in SETTLED]
    if still_open:
        raise Refusal(f"actions still open: {', '.join(still_open)}")
    pending = [c.subject or c.key for c in file.checkpoints] + [
        t.id for t in file.tasks if t.status.value == "open"
    ]
    if pending:
        raise Refusal(f"impact checkpoints still to come or open: {', '.join(map(str, pending))}")


def apply_close_plan(file: PlanFile, actor: Actor, step: PlanClosed, now: datetime) -> list[Reached]:
    file.status, file.closed_at = "closed", now
    file.record(EventKind.action_plan_closed, now, actor=actor, reasons=step.reasons)
    return []


def take_review_recommendations(file: PlanFile, agreed: ReviewRecommendations, now: datetime) -> None:
    """The review's agreed recommendations join the plan (the plan no longer waits for them)."""
    if file.awaiting_review is None:
        return  # already taken (a repeated message changes nothing)
    for text in agreed.recommendations:
        add_recommendation(file, text, agreed.kind, None, now)
    file.awaiting_review = None
    file.record(
        EventKind.review_recommendations_taken,
        now,
        occurred_at=agreed.agreed_at if agreed.agreed_at < now else None,
        kind=agreed.kind,
        recommendations=len(agreed.recommendations),
    )
