"""What a security review asked of the service's settings and its database connection."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from safeguarding.platform.settings import Settings
from safeguarding.store.engine import make_engine, migrate

SECRET = "Practitioners did not share the bruising seen at the health visit"


def test_production_refuses_local_sign_in() -> None:
    with pytest.raises(ValidationError, match="SLL_AUTH_MODE=oidc"):
        Settings(auth_mode="local", create_local_secrets=False)
    assert Settings(auth_mode="oidc", create_local_secrets=False).auth_mode == "oidc"
    assert Settings(auth_mode="local", create_local_secrets=True).auth_mode == "local"  # the embedded default


def test_a_database_error_names_its_statement_but_not_the_values_bound_to_it(database_url: str) -> None:
    migrate(database_url)
    engine = make_engine(database_url)
    insert = text(
        "INSERT INTO case_events (partnership, case_reference, stream, seq, kind, recorded_at, reasons, details) "
        "VALUES ('luton', 'LSCP-1', 'case', 1, 'case_opened', CURRENT_TIMESTAMP, :reasons, '{}')"
    )
    try:
        with engine.begin() as connection:
            connection.execute(insert, {"reasons": SECRET})
        with pytest.raises(IntegrityError) as raised, engine.begin() as connection:
            connection.execute(insert, {"reasons": SECRET})  # the same sequence number again
        assert "INSERT INTO case_events" in str(raised.value)
        assert SECRET not in str(raised.value)
    finally:
        engine.dispose()
