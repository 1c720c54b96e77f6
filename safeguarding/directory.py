"""The partner directory: who hears of which work, and where.

Each entry is an agency (or one of the partnership's own offices, such as the Business Unit) with its
functional mailboxes, an optional webhook into its own case system, the roles it holds in the process,
and whether it wants one email per event or a daily digest. A notice addressed to a role (the JCRG chair,
the Independent Scrutineer) goes to the entries that hold that role; one addressed to the agency that owns
a task goes to that agency.

python -m safeguarding.directory seed [--demo-mailboxes]     add the default entries that are missing
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, Field, HttpUrl, StringConstraints
from sqlalchemy import Connection, Engine, Row, select

from safeguarding.case import AGENCY_PATTERN, AgencyCode, Role, StrictModel
from safeguarding.store import AgencyRow

DEFAULT_DIRECTORY = Path(__file__).resolve().parent / "directories" / "luton.yaml"
OWNING_AGENCY = "owning_agency"  # a policy's name for "the agency whose task it is"

# A functional mailbox: deliberately plain (RFC 5321 local part and domain), no display names.
Mailbox = Annotated[
    str,
    StringConstraints(
        pattern=r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$",
        max_length=254,
    ),
]


def _fits(url: HttpUrl) -> HttpUrl:
    """The URL as it will be stored (normalised, which can lengthen it) must fit its column."""
    if len(str(url)) > 500:
        raise ValueError("the webhook URL is longer than 500 characters")
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
    webhook_url: Annotated[HttpUrl, AfterValidator(_fits)] | None = Field(
        default=None, description="The agency's endpoint for signed JSON notifications (https in production)."
    )
    digest: bool = Field(default=False, description="One email a day instead of one per event.")
    active: bool = True


class Agency(AgencyDetails):
    code: AgencyCode
    has_webhook_secret: bool = False
    updated_at: datetime
    updated_by: str


class SeedEntry(BaseModel):
    code: Annotated[str, StringConstraints(pattern=AGENCY_PATTERN)]
    name: str
    roles: list[Role]


class SeedFile(BaseModel):
    source: str
    agencies: list[SeedEntry]


def as_agency(row: AgencyRow) -> Agency:
    return Agency(
        code=row.code,
        name=row.name,
        roles=row.roles,
        mailboxes=row.mailboxes,
        webhook_url=row.webhook_url,
        digest=row.digest,
        active=row.active,
        has_webhook_secret=row.webhook_secret is not None,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def load_seed(path: Path = DEFAULT_DIRECTORY) -> SeedFile:
    return SeedFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def seed(engine: Engine, path: Path = DEFAULT_DIRECTORY, *, demo_mailboxes: bool = False) -> list[str]:
    """Add the entries of the seed file that are missing; never change one that exists. Returns the
    codes added. ``demo_mailboxes`` gives each new entry a mailbox at ``<code>.example`` (a reserved
    domain) so that the embedded default's local mail server shows what each agency would receive."""
    entries = load_seed(path).agencies
    added = []
    with engine.begin() as connection:
        existing = set(connection.execute(select(AgencyRow.code)).scalars())
        for entry in entries:
            if entry.code in existing:
                continue
            connection.execute(
                AgencyRow.__table__.insert(),
                {
                    "code": entry.code,
                    "name": entry.name,
                    "roles": [r.value for r in entry.roles],
                    "mailboxes": [f"safeguarding@{entry.code}.example"] if demo_mailboxes else [],
                    "webhook_url": None,
                    "webhook_secret": None,
                    "digest": False,
                    "active": True,
                    "updated_at": datetime.now(UTC),
                    "updated_by": "seed",
                },
            )
            added.append(entry.code)
    return added


def unknown_agencies(connection: Connection, codes: list[str]) -> list[str]:
    """The codes that are not active entries of the directory."""
    if not codes:
        return []
    known = set(
        connection.execute(
            select(AgencyRow.code).where(AgencyRow.code.in_(codes), AgencyRow.active.is_(True))
        ).scalars()
    )
    return [code for code in codes if code not in known]


def recipients(connection: Connection, names: list[str], owning_agency: str | None) -> list[Row[Any]]:
    """The active entries a notice goes to. ``names`` are the policy's recipients: roles, or
    ``owning_agency``; a task owned by a role (``business_unit``) goes to the entries holding it."""
    wanted_roles = {n for n in names if n != OWNING_AGENCY}
    codes = set()
    if OWNING_AGENCY in names and owning_agency:
        if owning_agency in Role.__members__:
            wanted_roles.add(owning_agency)
        else:
            codes.add(owning_agency)
    rows = connection.execute(select(AgencyRow.__table__).where(AgencyRow.active.is_(True))).all()
    chosen = [row for row in rows if row.code in codes or wanted_roles & set(row.roles)]
    return sorted(chosen, key=lambda row: row.code)


def main(argv: list[str] | None = None) -> int:
    from safeguarding.settings import get_settings
    from safeguarding.store import make_engine, migrate

    parser = argparse.ArgumentParser(prog="python -m safeguarding.directory")
    commands = parser.add_subparsers(dest="command", required=True)
    seeding = commands.add_parser("seed", help="add the default entries that are missing")
    seeding.add_argument("--file", type=Path, default=DEFAULT_DIRECTORY)
    seeding.add_argument("--demo-mailboxes", action="store_true", help="mailboxes at <code>.example")
    args = parser.parse_args(argv)
    settings = get_settings()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    added = seed(engine, args.file, demo_mailboxes=args.demo_mailboxes)
    print(f"added {len(added)} agencies: {', '.join(added) or 'none (all present)'}")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
