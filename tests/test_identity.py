"""Tokens: the partnership's identity provider (OIDC, keys from its JWKS URL) and the local default.

The identity provider cannot run here: a local HTTP server publishing a JWKS stands in for it (a fake at
the boundary, named as such); the verification code under test is the production code.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from safeguarding.domain.people import Role, StatutoryPartner
from safeguarding.platform.identity import NotAuthenticated, TokenVerifier, mint_local_token
from safeguarding.platform.settings import Settings

ISSUER = "https://login.example.invalid/partnership-tenant/v2.0"
AUDIENCE = "api://safeguarding-learning-loop"


class FakeIdentityProvider:
    """Publishes the signing key's JWKS, as Entra ID and other OIDC providers do."""

    def __init__(self, delay: float = 0.0) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        body = json.dumps({"keys": [{**public, "kid": "key-1", "use": "sig", "alg": "RS256"}]}).encode()
        self.fetches = 0
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                idp.fetches += 1
                time.sleep(delay)  # a slow provider
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.jwks_url = f"http://127.0.0.1:{self.server.server_address[1]}/discovery/v2.0/keys"

    def token(self, key=None, **claims: object) -> str:  # type: ignore[no-untyped-def]
        now = datetime.now(UTC)
        body = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "bu.officer1",
            "partnerships": ["luton"],
            "iat": now,
            "exp": now + timedelta(hours=1),
        }
        kid = str(claims.pop("kid", "key-1"))
        return jwt.encode({**body, **claims}, key or self.key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeIdentityProvider]:
    idp = FakeIdentityProvider()
    yield idp
    idp.server.shutdown()


@pytest.fixture
def verifier(provider: FakeIdentityProvider) -> TokenVerifier:
    return TokenVerifier(
        Settings(
            auth_mode="oidc", oidc_issuer=ISSUER, oidc_jwks_url=provider.jwks_url, token_audience=AUDIENCE
        )
    )


def test_a_token_from_the_identity_provider_names_the_person_and_role(provider, verifier):
    # Entra ID sends app roles as a list.
    actor = verifier.verify(provider.token(roles=["business_unit"]))
    assert (actor.user_id, actor.role) == ("bu.officer1", Role.business_unit)
    agency = verifier.verify(
        provider.token(sub="school.dsl", roles=["partner_agency"], agency="luton-schools")
    )
    assert (agency.role, agency.agency) == (Role.partner_agency, "luton-schools")
    partner = verifier.verify(
        provider.token(sub="police.lead", roles="safeguarding_partner", partner="police")
    )
    assert partner.partner is StatutoryPartner.police


@pytest.mark.parametrize(
    ("claims", "signed_by_other_key", "reason"),
    [
        ({"roles": ["business_unit"], "exp": datetime.now(UTC) - timedelta(minutes=1)}, False, "expired"),
        ({"roles": ["business_unit"], "iss": "https://elsewhere.invalid"}, False, "not valid"),
        ({"roles": ["business_unit"], "aud": "api://another-service"}, False, "not valid"),
        ({"roles": ["business_unit"]}, True, "not valid"),
        ({"roles": ["business_unit", "manager"]}, False, "exactly one role"),
        ({"roles": ["global_admin"]}, False, "exactly one role"),
        ({"roles": ["partner_agency"]}, False, "must name the agency"),
        ({"roles": ["safeguarding_partner"], "partner": "the-mayor"}, False, "must name the partner"),
        ({"roles": ["business_unit"], "sub": "Jane Smith (mother)"}, False, "accepted form"),
    ],
)
def test_a_token_that_cannot_be_trusted_is_refused(provider, verifier, claims, signed_by_other_key, reason):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048) if signed_by_other_key else None
    with pytest.raises(NotAuthenticated, match=reason):
        verifier.verify(provider.token(key=other, **claims))


async def test_a_flood_of_tokens_naming_unknown_keys_costs_one_fetch_and_stalls_nobody():
    slow = FakeIdentityProvider(delay=1.5)
    try:
        verifier = TokenVerifier(
            Settings(
                auth_mode="oidc", oidc_issuer=ISSUER, oidc_jwks_url=slow.jwks_url, token_audience=AUDIENCE
            )
        )
        good = slow.token(roles=["business_unit"])
        assert (await verifier.verify_async(good)).role is Role.business_unit  # the first fetch
        assert slow.fetches == 1
        verifier.keys.REFETCH_AFTER = 0.2  # a minute, shortened: the flood comes after it
        await asyncio.sleep(0.3)
        forged = [slow.token(roles=["business_unit"], kid=f"made-up-{n}") for n in range(200)]

        async def one(token: str) -> str:
            try:
                await verifier.verify_async(token)
            except NotAuthenticated as refused:
                return str(refused)
            return "accepted"

        flood = asyncio.gather(*(one(token) for token in forged))
        began = time.monotonic()
        await asyncio.sleep(0.05)
        during = await verifier.verify_async(good)  # while the provider takes 1.5 s to answer
        answered_in = time.monotonic() - began
        refusals = await flood
    finally:
        slow.server.shutdown()
    assert during.role is Role.business_unit and answered_in < 0.5, answered_in
    assert all("not signed by a key" in r for r in refusals), set(refusals)
    assert slow.fetches == 2  # one more fetch for the whole flood, in a thread, not one per token


def test_local_tokens_verify_only_with_their_own_key(tmp_path):
    settings = Settings(local_signing_key_file=tmp_path / "signing.key")
    token = mint_local_token(settings, user="jcrg.chair", role=Role.jcrg_chair)
    assert TokenVerifier(settings).verify(token).role is Role.jcrg_chair
    elsewhere = Settings(local_signing_key_file=tmp_path / "another.key")
    with pytest.raises(NotAuthenticated, match="not valid"):
        TokenVerifier(elsewhere).verify(token)
    header, _, signature = token.split(".")
    forged = jwt.utils.base64url_encode(
        json.dumps(
            {**jwt.decode(token, options={"verify_signature": False}), "role": "independent_scrutineer"}
        ).encode()
    ).decode()
    with pytest.raises(NotAuthenticated):
        TokenVerifier(settings).verify(f"{header}.{forged}.{signature}")


def test_the_mint_command_prints_a_token_that_verifies_and_refuses_an_incomplete_one(tmp_path):
    environment = {"SLL_LOCAL_SIGNING_KEY_FILE": str(tmp_path / "signing.key"), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "safeguarding", "mint", "--user", "school.dsl"]
    minted = subprocess.run(
        [*command, "--role", "partner_agency", "--agency", "luton-schools"],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    settings = Settings(local_signing_key_file=tmp_path / "signing.key")
    assert TokenVerifier(settings).verify(minted.stdout.strip()).agency == "luton-schools"
    incomplete = subprocess.run(
        [*command, "--role", "partner_agency"], capture_output=True, text=True, env=environment, check=False
    )
    assert incomplete.returncode == 2 and "must name the agency" in incomplete.stderr


def test_a_token_names_the_partnerships_its_holder_acts_in(provider, verifier):
    """The claim is a setting; a token without it is refused (401), one naming several is kept whole."""
    several = verifier.verify(provider.token(roles=["manager"], partnerships=["luton", "bedford-borough"]))
    assert several.partnerships == ["luton", "bedford-borough"] and several.partnership is None
    one = verifier.verify(provider.token(roles=["business_unit"], partnerships="central-bedfordshire"))
    assert one.partnerships == ["central-bedfordshire"]
    with pytest.raises(NotAuthenticated, match="must name the partnerships"):
        verifier.verify(provider.token(roles=["business_unit"], partnerships=None))
    with pytest.raises(NotAuthenticated, match="must name the partnerships"):
        verifier.verify(provider.token(roles=["business_unit"], partnerships=[]))
    with pytest.raises(NotAuthenticated, match="not in an accepted form"):
        verifier.verify(provider.token(roles=["business_unit"], partnerships=["Luton Borough"]))
    renamed = TokenVerifier(verifier.settings.model_copy(update={"partnership_claim": "lscp"}))
    assert renamed.verify(provider.token(roles=["manager"], lscp=["luton"])).partnerships == ["luton"]
    with pytest.raises(NotAuthenticated, match=r"\(lscp\)"):
        renamed.verify(provider.token(roles=["manager"]))
