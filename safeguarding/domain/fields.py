"""The shapes of what people type: case references, agency codes, staff ids, reasons, dates.

Every input model refuses what it does not know (``StrictModel``); references and codes keep to a safe
alphabet because they become parts of workflow ids and task ids. No child or family is named anywhere.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

# The case reference becomes part of the workflow id and of task ids, so it is kept to a safe
# alphabet with no dots (a task id is "<reference>.T<n>").
CASE_REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{1,39}$"

AGENCY_PATTERN = r"^[a-z0-9][a-z0-9-]{1,63}$"

USER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$"

CaseReference = Annotated[str, StringConstraints(pattern=CASE_REFERENCE_PATTERN)]

AgencyCode = Annotated[str, StringConstraints(pattern=AGENCY_PATTERN)]

UserId = Annotated[str, StringConstraints(pattern=USER_PATTERN)]


def _must_have_words(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return text.strip()


Reasons = Annotated[str, StringConstraints(min_length=1, max_length=4000), AfterValidator(_must_have_words)]

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=1000), AfterValidator(_must_have_words)]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must include a time zone offset, e.g. 2026-12-18T10:00:00+00:00")
    if not 2000 <= value.year <= 2100:
        raise ValueError("must be a date between the years 2000 and 2100")
    return value


def _plausible_date(value: date) -> date:
    if not 2000 <= value.year <= 2100:
        raise ValueError("must be a date between the years 2000 and 2100")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]

PlausibleDate = Annotated[date, AfterValidator(_plausible_date)]


class StrictModel(BaseModel):
    """Every input refuses fields it does not know: a typo must not be silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=False)


class Dated(StrictModel):
    """A step that says when it truly happened. People record what happened when it happened, not when
    they type it: ``occurred_at`` (a time with its offset) is the step's time for its deadlines and its
    order; the time it was recorded is kept beside it. Left out, it is now."""

    occurred_at: AwareDatetime | None = Field(
        default=None,
        description="When this truly happened (a time with its offset), if not now: deadlines start and "
        "are met from it. Not in the future, not before the case began or the step it follows.",
    )
