"""Who acts: the roles of the process, the three statutory partners, and the person behind every step."""

from __future__ import annotations

from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from safeguarding.domain.fields import AgencyCode, StrictModel, UserId


class Role(StrEnum):
    business_unit = "business_unit"
    jcrg_member = "jcrg_member"
    jcrg_chair = "jcrg_chair"
    safeguarding_partner = "safeguarding_partner"
    independent_scrutineer = "independent_scrutineer"
    partner_agency = "partner_agency"
    manager = "manager"
    # The Safeguarding Adults Board's representative: signs off a joint CSPR/SAR with the partners.
    adults_board_representative = "adults_board_representative"


class StatutoryPartner(StrEnum):
    local_authority = "local_authority"
    police = "police"
    integrated_care_board = "integrated_care_board"


class Actor(StrictModel):
    """Who did something, and in which role. Staff identifiers only, taken from a token.

    ``partnerships`` are the partnerships the token names (a person may serve several: an agency that
    serves the whole of Bedfordshire, a manager of the pan-area assurance group). ``partnership`` is the
    one this act is in: the partnership the case belongs to (or contributes to), set by the API when it
    finds the case; a step recorded before partnerships were kept apart has neither.
    """

    user_id: UserId
    role: Role
    agency: AgencyCode | None = None
    partner: StatutoryPartner | None = None  # which statutory partner a safeguarding partner acts for
    partnerships: list[AgencyCode] = Field(default_factory=list)
    partnership: AgencyCode | None = None

    def acting_in(self, partnership: str) -> Actor:
        return self.model_copy(update={"partnership": partnership})

    def serves(self, partnership: str) -> bool:
        """Whether the token names ``partnership`` (an actor recorded before partnerships, every one)."""
        return not self.partnerships or partnership in self.partnerships


D = TypeVar("D", bound=BaseModel)


class Attributed(BaseModel, Generic[D]):
    """A decision or submission together with the person who made it: the input of every update."""

    actor: Actor
    decision: D
    # What the person did, in the audit log's words (the API's method and route, or "import"): the
    # workflow writes the accepted step's audit entry itself, so it is as durable as the step.
    action: str | None = None
