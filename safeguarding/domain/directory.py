"""The partner directory's entries: an agency (or one of the partnership's own offices) with its
functional mailboxes, an optional webhook, the roles it holds, and whether it wants a daily digest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, HttpUrl, StringConstraints

from safeguarding.domain.fields import AGENCY_PATTERN, AgencyCode, StrictModel
from safeguarding.domain.people import Role

# A functional mailbox: deliberately plain (RFC 5321 local part and domain), no display names.
Mailbox = Annotated[
    str,
    StringConstraints(
        pattern=r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$",
        max_length=254,
    ),
]


WEBHOOK_URL_MAX = 500


def _fits(url: HttpUrl) -> HttpUrl:
    """The URL as it will be stored (normalised, which can lengthen it) must fit its column."""
    if len(str(url)) > WEBHOOK_URL_MAX:
        raise ValueError(f"the webhook URL is longer than {WEBHOOK_URL_MAX} characters")
    return url


# One line of printable text (it becomes an email's subject and greeting).
AgencyName = Annotated[
    str,
    StringConstraints(min_length=2, max_length=200, strip_whitespace=True, pattern=r"^[^\x00-\x1f\x7f]+$"),
]


class AgencyDetails(StrictModel):
    """What the Business Unit sets for an agency."""

    name: AgencyName
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    mailboxes: list[Mailbox] = Field(default_factory=list, max_length=10)
    webhook_url: (
        Annotated[HttpUrl, AfterValidator(_fits), Field(json_schema_extra={"maxLength": WEBHOOK_URL_MAX - 1})]
        | None
    ) = Field(
        default=None, description="The agency's endpoint for signed JSON notifications (https in production)."
    )
    digest: bool = Field(default=False, description="One email a day instead of one per event.")
    active: bool = True


class Agency(AgencyDetails):
    code: AgencyCode
    partnership: AgencyCode
    has_webhook_secret: bool = False
    updated_at: datetime
    updated_by: str


class SeedEntry(BaseModel):
    code: Annotated[str, StringConstraints(pattern=AGENCY_PATTERN)]
    name: str
    roles: list[Role]


class SeedFile(BaseModel):
    source: str
    partnership: Annotated[str, StringConstraints(pattern=AGENCY_PATTERN)]
    agencies: list[SeedEntry]
