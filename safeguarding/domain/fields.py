"""The shapes of what people type: case references, agency codes, staff ids, reasons, dates.

Every input model refuses what it does not know (``StrictModel``); references and codes keep to a safe
alphabet because they become parts of workflow ids and task ids. No child or family is named anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

# The case reference becomes part of the workflow id and of task ids, so it is kept to a safe
# alphabet with no dots (a task id is "<reference>.T<n>").
CASE_REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{1,39}$"

AGENCY_PATTERN = r"^[a-z0-9][a-z0-9-]{1,63}$"

USER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$"

CaseReference = Annotated[str, StringConstraints(pattern=CASE_REFERENCE_PATTERN)]

AgencyCode = Annotated[str, StringConstraints(pattern=AGENCY_PATTERN)]

UserId = Annotated[str, StringConstraints(pattern=USER_PATTERN)]


# Some character that is not a space, by every engine's idea of one (Python's, JSON Schema's, pydantic's):
# how the OpenAPI document says "not blank", and how the validator checks it.
WORDS_PATTERN = r"[^\s\x1c-\x1f\x85\uFEFF]"
_WORDS = re.compile(WORDS_PATTERN)


def _must_have_words(text: str) -> str:
    if not _WORDS.search(text):
        raise ValueError("must not be blank")
    return text.strip()


_NOT_BLANK = Field(json_schema_extra={"pattern": WORDS_PATTERN})

Reasons = Annotated[
    str, StringConstraints(min_length=1, max_length=4000), AfterValidator(_must_have_words), _NOT_BLANK
]

ShortText = Annotated[
    str, StringConstraints(min_length=1, max_length=1000), AfterValidator(_must_have_words), _NOT_BLANK
]


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


# What the validators above take, stated in the OpenAPI document too, exactly: a real calendar date from
# 2000 to 2100 and, for a time, its offset (a generated client, or a fuzzer, draws only what is taken).
_DAY = (
    r"((20[0-9]{2}|2100)-(0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])"
    r"|(20[0-9]{2}|2100)-(0[469]|11)-(0[1-9]|[12][0-9]|30)"
    r"|(20[0-9]{2}|2100)-02-(0[1-9]|1[0-9]|2[0-8])"
    r"|20([02468][048]|[13579][26])-02-29)"
)
_CLOCK = r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"  # RFC 3339: with its seconds
_OFFSET = r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
AWARE_DATETIME_PATTERN = rf"^{_DAY}T{_CLOCK}{_OFFSET}$"
PLAUSIBLE_DATE_PATTERN = rf"^{_DAY}$"


def _written_as(pattern: str, example: str) -> Callable[[Any], Any]:
    """What people send is read only as the OpenAPI document writes it (a string in that pattern); a value
    made in code (a ``datetime``, a ``date``) is taken as it is."""
    written = re.compile(pattern)

    def check(value: Any) -> Any:
        if isinstance(value, str):
            if written.match(value):
                return value
            if written.match(value + "+00:00"):  # all but its offset
                raise ValueError("must include a time zone offset, e.g. 2026-12-18T10:00:00+00:00")
            raise ValueError(f"must be written as {example}")
        elif not isinstance(value, (date, datetime)):
            raise ValueError(f"must be written as {example}")
        return value

    return check


AwareDatetime = Annotated[
    datetime,
    BeforeValidator(
        _written_as(AWARE_DATETIME_PATTERN, "2026-12-18T10:00:00+00:00 (RFC 3339, with its offset)")
    ),
    AfterValidator(_aware),
    Field(json_schema_extra={"pattern": AWARE_DATETIME_PATTERN}),
]

PlausibleDate = Annotated[
    date,
    BeforeValidator(_written_as(PLAUSIBLE_DATE_PATTERN, "2026-12-18 (a date from 2000 to 2100)")),
    AfterValidator(_plausible_date),
    Field(json_schema_extra={"pattern": PLAUSIBLE_DATE_PATTERN}),
]


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
