"""The action plan's rules: which step may be taken now. Pure: they raise ``Refusal`` and change nothing."""

from __future__ import annotations

from datetime import date

from safeguarding.domain.action_plan import (
    SETTLED,
    Action,
    ActionProgress,
    ActionRedated,
    ActionSignedOff,
    ActionWithdrawn,
    AddAction,
    AddRecommendation,
    ImpactCheckDone,
    PlanClosed,
    PlanFile,
    PlanStep,
)
from safeguarding.domain.people import Actor
from safeguarding.domain.refusal import Refusal, RefusalKind
from safeguarding.domain.tasks import TaskStatus

JCRG = ("jcrg_member", "jcrg_chair")


def check_plan_step(file: PlanFile, actor: Actor, step: PlanStep, today: date) -> None:
    if file.status == "closed":
        raise Refusal(f"the action plan of case {file.reference} is closed")
    match step:
        case AddRecommendation():
            _role(actor, *JCRG, "business_unit")
        case AddAction():
            _role(actor, *JCRG)
            if not any(r.id == step.recommendation_id for r in file.recommendations):
                raise Refusal(
                    f"the plan has no recommendation {step.recommendation_id}", RefusalKind.not_found
                )
            if step.due_on < today:
                raise Refusal(f"the due date {step.due_on} is in the past", RefusalKind.invalid)
        case ActionProgress():
            action = _open_action(file, step.action_id)
            _role(actor, "partner_agency", "business_unit")
            if actor.role.value == "partner_agency" and actor.agency != action.agency:
                raise Refusal(f"action {action.id} belongs to {action.agency}", RefusalKind.forbidden)
        case ActionSignedOff():
            _role(actor, *JCRG)
            action = _open_action(file, step.action_id)
            if not any(c.kind == "progress" for c in action.changes):
                raise Refusal(f"action {action.id} has no progress with evidence from {action.agency} yet")
        case ActionRedated():
            _role(actor, *JCRG)
            action = _open_action(file, step.action_id)
            if step.due_on == action.due_on:
                raise Refusal(f"action {action.id} is already due on {action.due_on}")
            if step.due_on < today:
                raise Refusal(f"the new due date {step.due_on} is in the past", RefusalKind.invalid)
        case ActionWithdrawn():
            _role(actor, *JCRG)
            _open_action(file, step.action_id)
        case ImpactCheckDone():
            task = file.task(step.task_id)
            if task is None:
                raise Refusal(f"the plan has no task {step.task_id}", RefusalKind.not_found)
            if task.kind == "action":
                raise Refusal(
                    "an action is completed by the JCRG's sign-off: the agency posts its progress with evidence "
                    f"(POST /cases/{file.reference}/action-plan/progress)"
                )
            _role(actor, *JCRG, "business_unit")
            if task.status is not TaskStatus.open:
                raise Refusal(f"task {task.id} is {task.status.value}")
        case PlanClosed():
            _role(actor, *JCRG)
            still_open = [a.id for a in file.actions if a.status not in SETTLED]
            if still_open:
                raise Refusal(f"actions still open: {', '.join(still_open)}")
            pending = [c.subject or c.key for c in file.checkpoints] + [
                t.id for t in file.tasks if t.status is TaskStatus.open
            ]
            if pending:
                raise Refusal(f"impact checkpoints still to come or open: {', '.join(map(str, pending))}")


def _role(actor: Actor, *roles: str) -> None:
    if actor.role.value not in roles:
        raise Refusal(
            f"a {actor.role.value} cannot take this step; it is for: {', '.join(roles)}",
            RefusalKind.forbidden,
        )


def _open_action(file: PlanFile, action_id: str) -> Action:
    action = file.action(action_id)
    if action is None:
        raise Refusal(f"the plan has no action {action_id}", RefusalKind.not_found)
    if action.status in SETTLED:
        raise Refusal(f"action {action_id} is {action.status.value}")
    return action
