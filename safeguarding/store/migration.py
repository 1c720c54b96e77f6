"""The migration step of a deployment: bring the schema up to date as its owner, then grant the
service's own role what it needs. The service connects as that role, which cannot change the schema,
rewrite the audit log or the event log, or empty a table.

    python -m safeguarding.store.migration

reads ``SLL_MIGRATION_DATABASE_URL`` (the owner; ``SLL_DATABASE_URL`` when unset) and
``SLL_DATABASE_URL`` (the service: its user is the role granted). One URL for both, as on the embedded
default, migrates and grants nothing.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url

from safeguarding.platform.settings import Settings, get_settings
from safeguarding.store.engine import grant_service_role, migrate


def migrate_and_grant(settings: Settings) -> str | None:
    """Migrate as the owner; return the service role granted, if it is not the owner itself."""
    owner_url = settings.migration_database_url or settings.database_url
    migrate(owner_url)
    service_role = make_url(settings.database_url).username
    if service_role is None or service_role == make_url(owner_url).username:
        return None
    grant_service_role(owner_url, service_role)
    return service_role


def main() -> int:
    granted = migrate_and_grant(get_settings())
    print(f"schema up to date; {f'rights granted to {granted}' if granted else 'no separate service role'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
