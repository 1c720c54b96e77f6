"""The partner directory: who hears of which work, and where.

Each entry is an agency (or one of the partnership's own offices, such as the Business Unit) with its
functional mailboxes, an optional webhook into its own case system, the roles it holds in the process,
and whether it wants one email per event or a daily digest. A notice addressed to a role (the JCRG chair,
the Independent Scrutineer) goes to the entries that hold that role; one addressed to the agency that owns
a task goes to that agency.

python -m safeguarding directory seed [--demo-mailboxes]     add the default entries that are missing

Each partnership has its own directory (``directories/<partnership>.yaml`` seeds it). An organisation
that serves several partnerships (Bedfordshire Police) has an entry in each, under the same code.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Connection, Engine, Row, select

from safeguarding.domain.directory import Agency, AgencyDetails, SeedFile
from safeguarding.domain.people import Role
from safeguarding.domain.policy import OWNING_AGENCY
from safeguarding.platform import webhooks
from safeguarding.store.tables import AgencyRow

DIRECTORIES = Path(__file__).resolve().parents[1] / "directories"


def default_directories() -> list[Path]:
    """One seed file per partnership (``directories/<partnership>.yaml``)."""
    return sorted(DIRECTORIES.glob("*.yaml"))


def as_agency(row: AgencyRow) -> Agency:
    return Agency(
        code=row.code,
        partnership=row.partnership,
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


def load_seed(path: Path) -> SeedFile:
    return SeedFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def demo_mailbox(partnership: str, code: str) -> str:
    """A mailbox at a reserved domain, so the embedded default's local mail server shows what each
    partnership's entry would receive."""
    return f"safeguarding@{code}.{partnership}.example"


def seed(engine: Engine, paths: list[Path] | None = None, *, demo_mailboxes: bool = False) -> list[str]:
    """Add the entries of the seed files (every partnership's by default) that are missing; never
    change one that exists. Returns what was added, as ``<partnership>/<code>``. ``demo_mailboxes``
    gives each new entry a mailbox at a reserved domain (``demo_mailbox``)."""
    added = []
    with engine.begin() as connection:
        existing = {
            (p, code) for p, code in connection.execute(select(AgencyRow.partnership, AgencyRow.code))
        }
        for path in paths if paths is not None else default_directories():
            seed_file = load_seed(path)
            partnership = seed_file.partnership
            for entry in seed_file.agencies:
                if (partnership, entry.code) in existing:
                    continue
                connection.execute(
                    AgencyRow.__table__.insert(),
                    {
                        "partnership": partnership,
                        "code": entry.code,
                        "name": entry.name,
                        "roles": [r.value for r in entry.roles],
                        "mailboxes": [demo_mailbox(partnership, entry.code)] if demo_mailboxes else [],
                        "webhook_url": None,
                        "webhook_secret": None,
                        "digest": False,
                        "active": True,
                        "updated_at": datetime.now(UTC),
                        "updated_by": "seed",
                    },
                )
                added.append(f"{partnership}/{entry.code}")
    return added


def all_agencies(engine: Engine, partnership: str) -> list[Agency]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(AgencyRow.__table__).where(AgencyRow.partnership == partnership).order_by(AgencyRow.code)
        ).all()
    return [as_agency(row) for row in rows]


def _entry(partnership: str, code: str) -> Any:
    return (AgencyRow.partnership == partnership) & (AgencyRow.code == code)


def put_agency(
    engine: Engine,
    partnership: str,
    code: str,
    details: AgencyDetails,
    by: str,
    seal: Callable[[str], str],
) -> tuple[Agency, str | None, bool]:
    """Add or change a partnership's entry, whole. A webhook URL given for the first time gets a new
    signing secret (returned once, kept sealed); removing the URL removes the secret. Returns the entry
    as stored, the new secret if one was made, and whether the entry is new."""
    with engine.begin() as connection:
        existing = connection.execute(
            select(AgencyRow.__table__).where(_entry(partnership, code)).with_for_update()
        ).first()
        secret, sealed = None, existing.webhook_secret if existing else None
        if details.webhook_url is None:
            sealed = None
        elif sealed is None:
            secret = new_webhook_secret()
            sealed = seal(secret)
        values = {
            "name": details.name,
            "roles": [r.value for r in details.roles],
            "mailboxes": list(dict.fromkeys(details.mailboxes)),
            "webhook_url": str(details.webhook_url) if details.webhook_url else None,
            "webhook_secret": sealed,
            "digest": details.digest,
            "active": details.active,
            "updated_at": datetime.now(UTC),
            "updated_by": by,
        }
        if existing is None:
            connection.execute(
                AgencyRow.__table__.insert(), {"partnership": partnership, "code": code, **values}
            )
        else:
            connection.execute(AgencyRow.__table__.update().where(_entry(partnership, code)).values(**values))
        row = connection.execute(select(AgencyRow.__table__).where(_entry(partnership, code))).one()
    return as_agency(row), secret, existing is None


def new_webhook_secret() -> str:
    return webhooks.new_secret()


class NotInDirectory(LookupError):
    pass


class NoWebhook(ValueError):
    pass


def replace_webhook_secret(engine: Engine, partnership: str, code: str, sealed: str, by: str) -> None:
    """The old secret stops working at once."""
    with engine.begin() as connection:
        row = connection.execute(select(AgencyRow.__table__).where(_entry(partnership, code))).first()
        if row is None:
            raise NotInDirectory(f"no agency {code} in the directory")
        if row.webhook_url is None:
            raise NoWebhook(f"{code} has no webhook: set webhook_url first")
        connection.execute(
            AgencyRow.__table__.update()
            .where(_entry(partnership, code))
            .values(webhook_secret=sealed, updated_at=datetime.now(UTC), updated_by=by)
        )


def unknown_agencies(connection: Connection, partnership: str, codes: list[str]) -> list[str]:
    """The codes that are not active entries of the partnership's directory."""
    if not codes:
        return []
    known = set(
        connection.execute(
            select(AgencyRow.code).where(
                AgencyRow.partnership == partnership, AgencyRow.code.in_(codes), AgencyRow.active.is_(True)
            )
        ).scalars()
    )
    return [code for code in codes if code not in known]


def recipients(
    connection: Connection, partnership: str, names: list[str], owning_agency: str | None
) -> list[Row[Any]]:
    """The partnership's active entries a notice goes to. ``names`` are the policy's recipients: roles,
    or ``owning_agency``; a task owned by a role (``business_unit``) goes to the entries holding it.
    Another partnership's entries never hear of it, whatever roles they hold."""
    wanted_roles = {n for n in names if n != OWNING_AGENCY}
    codes = set()
    if OWNING_AGENCY in names and owning_agency:
        if owning_agency in Role.__members__:
            wanted_roles.add(owning_agency)
        else:
            codes.add(owning_agency)
    rows = connection.execute(
        select(AgencyRow.__table__).where(AgencyRow.partnership == partnership, AgencyRow.active.is_(True))
    ).all()
    chosen = [row for row in rows if row.code in codes or wanted_roles & set(row.roles)]
    return sorted(chosen, key=lambda row: row.code)


def main(argv: list[str] | None = None) -> int:
    from safeguarding.platform.settings import get_settings
    from safeguarding.store.engine import make_engine, migrate

    parser = argparse.ArgumentParser(prog="python -m safeguarding directory")
    commands = parser.add_subparsers(dest="command", required=True)
    seeding = commands.add_parser("seed", help="add the default entries that are missing")
    seeding.add_argument(
        "--file", type=Path, action="append", help="a seed file (repeat; default: every partnership's)"
    )
    seeding.add_argument("--demo-mailboxes", action="store_true", help="mailboxes at <code>.example")
    args = parser.parse_args(argv)
    settings = get_settings()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    added = seed(engine, args.file, demo_mailboxes=args.demo_mailboxes)
    print(f"added {len(added)} entries: {', '.join(added) or 'none (all present)'}")
    engine.dispose()
    return 0
