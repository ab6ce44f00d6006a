"""API tokens: issued once, stored as a hash, with an expiry, a last-used time and revocation.

Clients keep sending `Authorization: Token <key>` (the API contract: README, "The REST API"). The database holds
only SHA-256(key) and the key's first characters, so a copied row or a database dump
authenticates nobody.

Who may hold a token: any active user. A token is a key held by a program, not a person at a
keyboard, so it cannot carry a second factor: what limits it instead is who issues it, its expiry
(TAKEDOWN_TOKEN_MAX_DAYS at most), its last-used time on the list and one-click revocation.
In the admin, a manager (past the second factor) issues tokens for the API-client users of their
agency only. A token for a person (staff, a legal reviewer, a manager) would let whoever holds the
key act as that person without their second factor, and a manager holding keys for a drafter
and a reviewer could move a notice through four-eyes alone: those are issued from the command
line only (`manage.py issue_token`), by the operator, as are superusers' tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication, TokenAuthentication

from takedown.choices import Role
from takedown.models import APIToken, User

# last_used_at is written at most this often per token: one UPDATE a minute, not one a request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenRefused(ValueError):
    """The token cannot be issued (a superuser, a deactivated user, a bad lifetime)."""


@dataclass(frozen=True)
class IssuedToken:
    token: APIToken
    key: str  # shown once, never stored


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def token_issue(
    *,
    user: User,
    days: int | None = None,
    note: str = "",
    created_by: User | None = None,
    replace: bool = False,
) -> IssuedToken:
    """Create a token for `user`, valid for `days`; the key is in the result and nowhere else.

    With `replace`, the user's other active tokens are revoked in the same transaction.
    Raises TokenRefused for an inactive user or a lifetime outside 1..max days.
    """
    if created_by is not None and not created_by.is_superuser and user.role != Role.API:
        raise TokenRefused(
            _(
                "%(user)s is a person, not an API client: a token for a person is issued by the "
                "operator from the command line (manage.py issue_token)."
            )
            % {"user": user}
        )
    days = settings.TAKEDOWN_TOKEN_DAYS if days is None else days
    if not 1 <= days <= settings.TAKEDOWN_TOKEN_MAX_DAYS:
        raise TokenRefused(
            _("A token lasts from 1 to %(max)d days.") % {"max": settings.TAKEDOWN_TOKEN_MAX_DAYS}
        )
    if not user.is_active:
        raise TokenRefused(_("%(user)s is deactivated; activate the user first.") % {"user": user})
    key = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        if replace:
            token_revoke_all(user=user, revoked_by=created_by)
        token = APIToken.objects.create(
            user=user,
            prefix=key[:8],
            digest=key_digest(key),
            note=note,
            created=now,
            created_by=created_by,
            expires_at=now + timedelta(days=days),
        )
    return IssuedToken(token=token, key=key)


def token_revoke(*, token_ids: list[int], revoked_by: User | None) -> int:
    """Revoke these tokens (those not already revoked); returns how many changed."""
    return APIToken.objects.filter(pk__in=token_ids, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=revoked_by
    )


def token_revoke_all(*, user: User, revoked_by: User | None) -> int:
    return APIToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=revoked_by
    )


class HashedTokenAuthentication(TokenAuthentication):
    """DRF's `Token <key>` header, checked against the stored hash."""

    def authenticate_credentials(self, key: str):
        token = APIToken.objects.select_related("user").filter(digest=key_digest(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        now = timezone.now()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token has been revoked."))
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("This token has expired."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
            # Conditional: concurrent requests write it once, and only when it is stale.
            APIToken.objects.filter(pk=token.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
            ).update(last_used_at=now)
        return token.user, token


class VerifiedSessionAuthentication(SessionAuthentication):
    """The admin's session, for the browsable bits of the API: only once the second factor passed.

    Without this a legal reviewer who typed only the password could approve through the API
    what the admin refuses to show.
    """

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        from takedown import signin

        if not signin.second_factor_satisfied(request._request):
            return None
        return result


class VerifiedSessionScheme(OpenApiAuthenticationExtension):
    """Describes the admin session in the OpenAPI schema, as drf-spectacular does for Django's own."""

    target_class = "takedown.tokens.VerifiedSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
