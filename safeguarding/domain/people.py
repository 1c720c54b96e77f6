"""Who acts: the roles of the process, the three statutory partners, and the person behind every step."""

from __future__ import annotations

from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import BaseModel

from safeguarding.domain.fields import AgencyCode, StrictModel, UserId


class Role(StrEnum):
    business_unit = "business_unit"
    jcrg_member = "jcrg_member"
    jcrg_chair = "jcrg_chair"
    safeguarding_partner = "safeguarding_partner"
    independent_scrutineer = "independent_scrutineer"
    partner_agency = "partner_agency"
    manager = "manager"


class StatutoryPartner(StrEnum):
    local_authority = "local_authority"
    police = "police"
    integrated_care_board = "integrated_care_board"


class Actor(StrictModel):
    """Who did something, and in which role. Staff identifiers only; issue 4 takes them from a token."""

    user_id: UserId
    role: Role
    agency: AgencyCode | None = None
    partner: StatutoryPartner | None = None  # which statutory partner a safeguarding partner acts for


D = TypeVar("D", bound=BaseModel)


class Attributed(BaseModel, Generic[D]):
    """A decision or submission together with the person who made it: the input of every update."""

    actor: Actor
    decision: D
