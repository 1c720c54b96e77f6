"""Which partnerships a request reads: those the token names, or the one asked for among them."""

from __future__ import annotations

from fastapi import HTTPException, status

from safeguarding.domain.people import Actor
from safeguarding.domain.policy import Policy


def require_known(partnership: str, policies: dict[str, Policy]) -> None:
    """An unknown partnership is 422, naming the known ones."""
    if partnership not in policies:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"unknown partnership {partnership!r}; known: {', '.join(sorted(policies))}",
        )


def require_served(actor: Actor, partnership: str, policies: dict[str, Policy]) -> None:
    """A partnership the token does not name has nothing for the reader (404, as for a case of another
    partnership): its reports, directory and processes are not theirs to read or act on."""
    require_known(partnership, policies)
    if partnership not in actor.partnerships:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"nothing of {partnership} for you: your token names {', '.join(actor.partnerships)}",
        )


def partnerships_read(actor: Actor, wanted: str | None, policies: dict[str, Policy]) -> list[str]:
    """The reader's partnerships (every one the token names), or the one asked for if it is one."""
    if wanted is None:
        return list(actor.partnerships)
    require_served(actor, wanted, policies)
    return [wanted]


def one_partnership(actor: Actor, wanted: str | None, policies: dict[str, Policy]) -> str:
    """The partnership a request acts in: the one asked for, or the token's only one."""
    if wanted is not None:
        require_served(actor, wanted, policies)
        return wanted
    if len(actor.partnerships) != 1:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"your token names several partnerships ({', '.join(actor.partnerships)}): "
            "say which with ?partnership=",
        )
    return actor.partnerships[0]
