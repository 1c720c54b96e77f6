"""Partnerships: the boundary every case, task, report and mailbox belongs to.

A safeguarding children partnership (Luton, Bedford Borough, Central Bedfordshire) runs its own cases
under its own policy file, with its own directory of agencies and its own reports. Procedures may be
shared (the three Bedfordshire partnerships inherit the Pan Bedfordshire procedure), cases are not:
another partnership's case answers exactly as a case that does not exist.

A case can cross areas: the partnership where the incident happened leads, and the partnerships where
the child lives, is looked after or is placed contribute. A contributor's Business Unit coordinates its
own agencies' information for the lead and sees the case's minimum, never the lead's reasons.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from safeguarding.domain.fields import AGENCY_PATTERN, StrictModel

PartnershipCode = Annotated[str, StringConstraints(pattern=AGENCY_PATTERN)]

# Codes a partnership had before partnerships were kept apart: everything recorded as "pan-bedfordshire"
# was Luton's (its Business Unit ran the service for the whole arrangement). Running cases keep the code
# in the policy they opened under; everything they write is filed under the partnership's code now.
RENAMED = {"pan-bedfordshire": "luton"}

# Where the rows written before partnerships were kept apart belong.
FIRST_PARTNERSHIP = "luton"


def current(code: str) -> str:
    """The partnership's code today, for a code recorded by a case opened under an older name."""
    return RENAMED.get(code, code)


class ContributionBasis(StrEnum):
    """Why a partnership contributes to another's case (Panel guidance: the area where the incident
    happened leads and works with the child's home authority)."""

    lives = "lives"  # the child lives in the contributor's area
    looked_after = "looked_after"  # the contributor looks after the child
    placed = "placed"  # the child is placed in the contributor's area (secure custody, a placement)


BASIS_WORDS = {
    ContributionBasis.lives: "the child lives in its area",
    ContributionBasis.looked_after: "it looks after the child",
    ContributionBasis.placed: "the child is placed in its area",
}


class Contribution(StrictModel):
    """A contributing partnership named when the case is opened."""

    partnership: PartnershipCode
    basis: ContributionBasis = Field(description="lives, looked_after or placed")
