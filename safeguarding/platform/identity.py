"""Who is acting: bearer tokens (JWT) verified against the partnership's identity provider, or, on the
embedded default, against a local signing key.

Claims used: the user (``sub`` by default: a staff identifier, never a child's or family's name), the
role (one of ``Role``; a list is accepted, as Microsoft Entra ID sends app roles), the agency of a partner
agency user, which statutory partner a safeguarding partner signs for, and the partnerships the person
acts in (``partnerships`` by default, setting ``SLL_PARTNERSHIP_CLAIM``: a code or a list of codes). A
token without a partnership is refused.

    python -m safeguarding mint --role business_unit --user bu.officer1
    python -m safeguarding mint --role partner_agency --user school.dsl --agency luton-schools
    python -m safeguarding mint --role safeguarding_partner --user police.lead --partner police
    python -m safeguarding mint --role manager --user panbeds.lead --partnership luton \
        --partnership bedford-borough --partnership central-bedfordshire
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import jwt
from pydantic import ValidationError

from safeguarding.domain.fields import AGENCY_PATTERN
from safeguarding.domain.partnerships import FIRST_PARTNERSHIP
from safeguarding.domain.people import Actor, Role, StatutoryPartner
from safeguarding.platform.local_secrets import local_key
from safeguarding.platform.settings import Settings, get_settings

LOCAL_ISSUER = "safeguarding-learning-loop-local"


class NotAuthenticated(Exception):
    """No token, or a token that cannot be trusted; the message says which, without echoing it."""


def local_signing_key(settings: Settings) -> bytes:
    return local_key(
        settings.local_signing_key_file,
        create=settings.create_local_secrets,
        missing="local signing key not found",
    )


def mint_local_token(
    settings: Settings,
    *,
    user: str,
    role: Role,
    agency: str | None = None,
    partner: StatutoryPartner | None = None,
    partnerships: list[str] | None = None,
    hours: float = 8,
) -> str:
    """A local token; ``partnerships`` Luton's by default (an empty list: a token without the claim)."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": LOCAL_ISSUER,
        "aud": settings.token_audience,
        "sub": user,
        "role": role.value,
        settings.partnership_claim: [FIRST_PARTNERSHIP] if partnerships is None else list(partnerships),
        "iat": now,
        "exp": now + timedelta(hours=hours),
    }
    if agency:
        claims["agency"] = agency
    if partner:
        claims["partner"] = partner.value
    return jwt.encode(claims, local_signing_key(settings), algorithm="HS256")


class SigningKeys:
    """The identity provider's signing keys by ``kid``, from its JWKS URL. Fetched again only when a token
    names a key not held (the provider rotated its keys), at most once every ``REFETCH_AFTER`` seconds and
    one fetch at a time, with a short timeout: a flood of tokens naming made-up keys costs one fetch a
    minute, and each of them is refused at once."""

    REFETCH_AFTER = 60.0
    TIMEOUT = 5.0

    def __init__(self, url: str) -> None:
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, timeout=self.TIMEOUT)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._fetching = threading.Lock()

    def held(self, kid: str | None) -> jwt.PyJWK | None:
        return self._keys.get(kid) if kid else None

    def get(self, kid: str | None) -> jwt.PyJWK:
        """The key; fetches the JWKS (blocking: call it off the event loop) when it may have changed."""
        if not kid:
            raise NotAuthenticated("the token names no signing key (kid)")
        key = self.held(kid)
        if key is not None:
            return key
        recently = self._fetched_at is not None and time.monotonic() - self._fetched_at < self.REFETCH_AFTER
        if not recently and self._fetching.acquire(blocking=False):
            try:
                self._fetched_at = time.monotonic()
                try:
                    keys = self._client.get_signing_keys(refresh=True)
                except jwt.PyJWKClientError as error:
                    raise NotAuthenticated(f"the identity provider's keys cannot be read ({error})") from None
                self._keys = {k.key_id: k for k in keys if k.key_id}
            finally:
                self._fetching.release()
            key = self.held(kid)
        if key is None:
            raise NotAuthenticated("the token is not signed by a key the identity provider publishes")
        return key


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        if settings.auth_mode == "oidc" and not (settings.oidc_issuer and settings.oidc_jwks_url):
            raise ValueError("auth_mode oidc needs SLL_OIDC_ISSUER and SLL_OIDC_JWKS_URL")

    @cached_property
    def keys(self) -> SigningKeys:
        return SigningKeys(self.settings.oidc_jwks_url)  # type: ignore[arg-type]

    async def verify_async(self, token: str) -> Actor:
        """``verify`` from the event loop: a token whose key must first be fetched waits in a thread."""
        if self.settings.auth_mode == "oidc" and self.keys.held(_kid(token)) is None:
            return await asyncio.to_thread(self.verify, token)
        return self.verify(token)

    def verify(self, token: str) -> Actor:
        settings = self.settings
        try:
            if settings.auth_mode == "local":
                claims = jwt.decode(
                    token,
                    local_signing_key(settings),
                    algorithms=["HS256"],
                    audience=settings.token_audience,
                    issuer=LOCAL_ISSUER,
                    options={"require": ["exp", "sub", "iss", "aud"]},
                )
                user_claim, role_claim, agency_claim, partner_claim = "sub", "role", "agency", "partner"
            else:
                key = self.keys.get(_kid(token))
                claims = jwt.decode(
                    token,
                    key.key,
                    algorithms=["RS256", "ES256", "PS256"],
                    audience=settings.token_audience,
                    issuer=settings.oidc_issuer,
                    options={"require": ["exp", "iss", "aud"]},
                )
                user_claim, role_claim = settings.oidc_user_claim, settings.oidc_role_claim
                agency_claim, partner_claim = settings.oidc_agency_claim, settings.oidc_partner_claim
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("the token has expired") from None
        except (jwt.PyJWTError, ValueError) as error:
            raise NotAuthenticated(f"the token is not valid ({type(error).__name__})") from None
        actor = _actor(claims, user_claim, role_claim, agency_claim, partner_claim)
        return actor.model_copy(update={"partnerships": _partnerships(claims, settings.partnership_claim)})


def _kid(token: str) -> str | None:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        return None
    return kid if isinstance(kid, str) else None


def _partnerships(claims: dict[str, Any], claim: str) -> list[str]:
    value = claims.get(claim)
    codes = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    if not codes:
        raise NotAuthenticated(f"the token must name the partnerships its holder acts in ({claim})")
    if not all(isinstance(c, str) and re.fullmatch(AGENCY_PATTERN, c) for c in codes):
        raise NotAuthenticated(f"the token's partnerships ({claim}) are not in an accepted form")
    return list(dict.fromkeys(codes))


def _actor(
    claims: dict[str, Any], user_claim: str, role_claim: str, agency_claim: str, partner_claim: str
) -> Actor:
    roles = claims.get(role_claim)
    candidates = roles if isinstance(roles, list) else [roles]
    known = [r for r in candidates if r in Role.__members__]
    if len(known) != 1:
        raise NotAuthenticated("the token must carry exactly one role of this service")
    role = Role(known[0])
    agency, partner = claims.get(agency_claim), claims.get(partner_claim)
    if role is Role.partner_agency and not agency:
        raise NotAuthenticated("a partner agency user's token must name the agency")
    if role is Role.safeguarding_partner and partner not in StatutoryPartner.__members__:
        raise NotAuthenticated(
            "a safeguarding partner's token must name the partner (local_authority, police, icb)"
        )
    try:
        return Actor(
            user_id=str(claims.get(user_claim, "")),
            role=role,
            agency=agency if role is Role.partner_agency else None,
            partner=StatutoryPartner(partner) if role is Role.safeguarding_partner else None,
        )
    except ValidationError:
        raise NotAuthenticated("the token's user or agency is not in an accepted form") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m safeguarding",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    mint = commands.add_parser("mint", help="mint a local token (embedded default only)")
    mint.add_argument("--user", required=True, help="a staff identifier, e.g. bu.officer1")
    mint.add_argument("--role", required=True, choices=list(Role.__members__))
    mint.add_argument("--agency", help="for partner_agency: the agency code")
    mint.add_argument(
        "--partner", choices=list(StatutoryPartner.__members__), help="for safeguarding_partner"
    )
    mint.add_argument(
        "--partnership",
        action="append",
        dest="partnerships",
        help=f"a partnership the person acts in (repeat for several; default {FIRST_PARTNERSHIP})",
    )
    mint.add_argument("--hours", type=float, default=8)
    args = parser.parse_args(argv)
    settings = get_settings()
    if settings.auth_mode != "local":
        print("tokens come from the identity provider when SLL_AUTH_MODE=oidc", file=sys.stderr)
        return 2
    role = Role(args.role)
    partner = StatutoryPartner(args.partner) if args.partner else None
    token = mint_local_token(
        settings,
        user=args.user,
        role=role,
        agency=args.agency,
        partner=partner,
        partnerships=args.partnerships,
        hours=args.hours,
    )
    # The token must verify as the service will: a missing agency or partner is caught here.
    try:
        TokenVerifier(settings).verify(token)
    except NotAuthenticated as problem:
        print(f"cannot mint this token: {problem}", file=sys.stderr)
        return 2
    print(token)
    return 0
