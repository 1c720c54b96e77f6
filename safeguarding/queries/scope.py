"""Which case a reference names for someone: their own partnership's, or one their partnership
contributes to. Another partnership's case is not found, exactly as a case that does not exist.

A partner agency finds a case only where it has work (a task, from its own partnership's directory);
a contributing partnership's Business Unit finds the cases it contributes to; everyone else finds
their own partnership's cases.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select

from safeguarding.domain.people import Actor, Role
from safeguarding.domain.record import Stream, stream_workflow_id
from safeguarding.store.tables import CaseContributionRow, CaseRow, TaskRow

# Who of a contributing partnership finds the case at all: its Business Unit (which coordinates) and
# its agencies (which have tasks on it).
CONTRIBUTOR_ROLES = (Role.business_unit, Role.partner_agency)


@dataclass(frozen=True)
class CaseAt:
    """A case as someone finds it: whose it is, its workflow, and the partnership they act in."""

    partnership: str  # the case's (the lead's)
    reference: str
    workflow_id: str  # the case's own workflow; its review and plan add /review, /plan
    acting_in: str  # the case's partnership, or the contributing partnership the actor is of

    @property
    def contributing(self) -> bool:
        return self.acting_in != self.partnership

    def workflow(self, stream: Stream = Stream.case) -> str:
        return stream_workflow_id(self.workflow_id, stream)


class Ambiguous(LookupError):
    """The reference names a case in more than one of the actor's partnerships."""

    def __init__(self, partnerships: list[str]) -> None:
        super().__init__(", ".join(partnerships))
        self.partnerships = partnerships


def find_case(engine: Engine, actor: Actor, reference: str, wanted: str | None = None) -> CaseAt | None:
    """The case ``reference`` names for ``actor`` (in ``wanted`` only, if given); None if there is none
    they may see. Raises ``Ambiguous`` when it names cases in several of their partnerships."""
    serves = [p for p in actor.partnerships if wanted is None or p == wanted]
    if not serves:
        return None
    with engine.connect() as connection:
        found = _as_lead(connection, actor, reference, serves)
        if not found and actor.role in CONTRIBUTOR_ROLES:
            found = _as_contributor(connection, actor, reference, serves)
    if len(found) > 1:
        raise Ambiguous(sorted(case.partnership for case in found))
    return found[0] if found else None


def _as_lead(connection: Connection, actor: Actor, reference: str, serves: list[str]) -> list[CaseAt]:
    rows = connection.execute(
        select(CaseRow.partnership, CaseRow.workflow_id).where(
            CaseRow.reference == reference, CaseRow.partnership.in_(serves)
        )
    ).all()
    cases = [CaseAt(p, reference, workflow_id, p) for p, workflow_id in rows]
    if actor.role is Role.partner_agency:
        cases = [c for c in cases if _has_work(connection, actor, c)]
    return cases


def _as_contributor(connection: Connection, actor: Actor, reference: str, serves: list[str]) -> list[CaseAt]:
    rows = connection.execute(
        select(CaseRow.partnership, CaseRow.workflow_id, CaseContributionRow.contributor)
        .join(
            CaseContributionRow,
            (CaseContributionRow.partnership == CaseRow.partnership)
            & (CaseContributionRow.case_reference == CaseRow.reference),
        )
        .where(CaseRow.reference == reference, CaseContributionRow.contributor.in_(serves))
    ).all()
    cases = [CaseAt(p, reference, workflow_id, contributor) for p, workflow_id, contributor in rows]
    if actor.role is Role.partner_agency:
        cases = [c for c in cases if _has_work(connection, actor, c)]
    return cases


def _has_work(connection: Connection, actor: Actor, case: CaseAt) -> bool:
    """Whether the agency has a task on the case, from a directory of a partnership it serves."""
    return (
        connection.execute(
            select(TaskRow.task_id)
            .where(
                TaskRow.partnership == case.partnership,
                TaskRow.case_reference == case.reference,
                TaskRow.agency == actor.agency,
                TaskRow.agency_partnership.in_(actor.partnerships),
            )
            .limit(1)
        ).first()
        is not None
    )
