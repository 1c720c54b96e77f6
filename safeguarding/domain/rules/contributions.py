"""Cases across areas: a contributing partnership's part in another's case, and our contribution to a
review another area leads elsewhere.

When a case is opened naming contributing partnerships, each contributor's Business Unit gets a task to
coordinate its own agencies' information for the lead (it asks them itself, from its own directory, and
completes its task when its part is sent). A contribution to a review run elsewhere (route
``contribution_to_external_review``) is a case of its own: our agencies' tasks, their deadlines, and
what was sent, which closes it.
"""

from __future__ import annotations

from datetime import datetime

from safeguarding.domain.case import CaseFile, ContributionSent, Stage
from safeguarding.domain.events import EventKind
from safeguarding.domain.milestones import Milestone, Reached
from safeguarding.domain.partnerships import BASIS_WORDS
from safeguarding.domain.people import Actor, Role
from safeguarding.domain.refusal import Refusal
from safeguarding.domain.rules.common import check_happened
from safeguarding.domain.rules.intake import close
from safeguarding.domain.rules.tasks import add_task
from safeguarding.domain.tasks import Task, TaskStatus

COORDINATION = (
    "Ask your partnership's agencies for their information on this case, and send it to the leading "
    "partnership ({basis})"
)


def open_contributions(file: CaseFile, now: datetime) -> tuple[list[Task], list[Reached]]:
    """At opening: one coordination task for each contributing partnership's Business Unit."""
    asked = []
    for contribution in file.opening.contributors:
        task = add_task(
            file,
            Role.business_unit.value,
            "coordination",
            COORDINATION.format(basis=BASIS_WORDS[contribution.basis]),
            now,
            partnership=contribution.partnership,
        )
        file.record(
            EventKind.contribution_requested,
            now,
            partnership=contribution.partnership,
            basis=contribution.basis.value,
            task=task.id,
        )
        asked.append(task)
    return asked, [(Milestone.contribution_requested, now, t.id) for t in asked]


# ---------------------------------------------------------------- a contribution to a review led elsewhere


def check_contribution_sent(file: CaseFile, actor: Actor, sent: ContributionSent, now: datetime) -> None:
    if file.stage is not Stage.contributing:
        raise Refusal(
            f"case {file.reference} is not a contribution to another area's review (stage {file.stage.value})"
        )
    waiting = [t.id for t in file.tasks if t.status is TaskStatus.open]
    if waiting:
        raise Refusal(f"still waiting for {', '.join(waiting)}: complete or withdraw them first")
    check_happened(sent.sent_at, now, "the contribution", file.opening.referred_at, "the request for it")


def apply_contribution_sent(
    file: CaseFile, actor: Actor, sent: ContributionSent, now: datetime
) -> list[Reached]:
    file.record(
        EventKind.contribution_sent,
        now,
        actor=actor,
        occurred_at=sent.sent_at,
        documents=list(sent.documents),
        note=sent.note,
    )
    return [(Milestone.contribution_sent, sent.sent_at, None)]


def close_contribution(file: CaseFile, now: datetime) -> None:
    """Once the contribution's deadline is met: nothing more is owed, the case closes."""
    close(file, "contribution_sent", now)
