"""A step refused, with a reason a person can act on; its kind says which HTTP answer it becomes."""

from __future__ import annotations

from enum import StrEnum


class RefusalKind(StrEnum):
    not_allowed_now = "ProcessRefusal"  # the process does not allow this step in the case's state (409)
    forbidden = "NotYours"  # this person's role (or agency) does not take this step (403)
    not_found = "NotFound"  # the thing named does not exist on this case (404)
    invalid = "InvalidInput"  # the input cannot be right whatever the state, e.g. a time in the future (422)
    # (a time before the step it follows conflicts with the case's record: not_allowed_now, 409)


class Refusal(Exception):
    """A step refused, with a reason a person can act on. Nothing is changed."""

    def __init__(self, reason: str, kind: RefusalKind = RefusalKind.not_allowed_now) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
