"""What a security review asked of the service's settings and its database connection."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from temporalio.client import Client

from api.app import create_app
from api.body_limit import MAX_REQUEST_BYTES
from safeguarding.domain.people import Role
from safeguarding.platform.identity import mint_local_token
from safeguarding.platform.settings import Settings
from safeguarding.store.engine import make_engine, migrate
from safeguarding.store.tables import AuditRow

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


async def test_a_reference_longer_than_any_case_is_refused_and_audited_without_a_server_error(
    postgres_url: str, tmp_path
) -> None:
    migrate(postgres_url)
    settings = Settings(database_url=postgres_url, local_signing_key_file=tmp_path / "signing.key")
    # An agency's reader: no case of theirs is looked for in Temporal (never reached here).
    app = create_app(settings, client=await Client.connect("127.0.0.1:1", lazy=True))
    token = mint_local_token(settings, user="agency.lead", role=Role.partner_agency, agency="luton-police")
    reference = "LSCP-" + "9" * 300
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            response = await http.post(
                f"/cases/{reference}/notifications",
                json={"recipient": "panel", "sent_at": "2026-11-30T10:00:00+00:00"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert response.status_code == 403, response.text  # not theirs to take, whatever the case
        with app.state.engine.connect() as connection:
            audited = connection.execute(
                select(AuditRow.case_reference, AuditRow.outcome).where(AuditRow.user_id == "agency.lead")
            ).all()
    assert len(audited) == 1 and audited[0].outcome == "denied"
    assert reference.startswith(audited[0].case_reference.rstrip("…"))


async def test_a_body_past_the_limit_is_refused_before_anyone_is_signed_in(tmp_path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'read-model.sqlite'}")
    app = create_app(settings, client=await Client.connect("127.0.0.1:1", lazy=True))
    token = mint_local_token(settings, user="bu.officer1", role=Role.business_unit)
    big = b'{"reference": "' + b"x" * (MAX_REQUEST_BYTES + 1) + b'"}'

    async def chunks():  # no Content-Length: counted as it arrives
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            unsigned = await http.post(
                "/incidents", content=big, headers={"Content-Type": "application/json"}
            )
            streamed = await http.post(
                "/incidents", content=chunks(), headers={"Content-Type": "application/json"}
            )
            small = await http.post("/incidents", json={}, headers={})
            # The import's own, larger limit: the same body is read, and refused for what it says.
            imported = await http.post(
                "/cases/import",
                content=big,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
    assert unsigned.status_code == 413 and streamed.status_code == 413
    assert small.status_code == 401  # under the limit: sign-in is asked for as ever
    assert imported.status_code == 422, imported.text
