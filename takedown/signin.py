"""Signing in: who needs a second factor, the setup and code pages, lock-out, and the audit list.

The password step is Django's admin login behind django-axes (lock-out after
AXES_FAILURE_LIMIT failures per user name). The second step is django-otp: an authenticator
app (TOTP) plus ten single-use recovery codes. The admin site refuses every view, not only its
index, to a user who needs a second factor and has not passed it in this session
(TakedownAdminSite.has_permission), and the API's session authentication does the same.
"""

from __future__ import annotations

import base64

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from takedown.choices import Role
from takedown.models import SignInEvent, SignInOutcome

RECOVERY_CODES = 10
_ROLES_REQUIRING = {Role.LEGAL, Role.MANAGER}


# --- Who needs a second factor -------------------------------------------------------------


def second_factor_required(user) -> bool:
    """Superusers, legal reviewers and managers always; staff where their agency asks for it."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.role in _ROLES_REQUIRING:
        return True
    if user.role == Role.STAFF and user.agency_id is not None:
        return bool(user.agency.require_staff_second_factor)
    return False


def has_confirmed_device(user) -> bool:
    from django_otp import user_has_device

    return user_has_device(user, confirmed=True)


def second_factor_expected(user) -> bool:
    """Required by role, or set up by choice: either way the code is asked for."""
    cached = getattr(user, "_second_factor_expected", None)
    if cached is None:
        cached = second_factor_required(user) or (user.is_authenticated and has_confirmed_device(user))
        user._second_factor_expected = cached
    return cached


def second_factor_satisfied(request: HttpRequest) -> bool:
    user = request.user
    if not user.is_authenticated:
        return False
    if not second_factor_expected(user):
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


# --- The audit list -----------------------------------------------------------------------


def _client(request: HttpRequest | None) -> tuple[str | None, str]:
    if request is None:
        return None, ""
    return request.META.get("REMOTE_ADDR") or None, request.META.get("HTTP_USER_AGENT", "")[:200]


def signin_record(*, request: HttpRequest | None, outcome: str, username: str, user=None) -> SignInEvent:
    """Write one audit row; the user's agency is copied so the list can be scoped without joins."""
    from takedown.models import User

    if user is None and username:
        user = User.objects.filter(username=username).select_related("agency").first()
    ip, agent = _client(request)
    return SignInEvent.objects.create(
        username=(username or "")[:150],
        user=user,
        agency_id=getattr(user, "agency_id", None),
        ip=ip,
        user_agent=agent,
        outcome=outcome,
    )


@receiver(user_logged_in, dispatch_uid="takedown.signin.logged_in")
def _on_logged_in(sender, request, user, **kwargs) -> None:
    # force_login in tests and scripts has no request; only real sign-ins are audited.
    if request is not None:
        signin_record(
            request=request, outcome=SignInOutcome.SIGNED_IN, username=user.get_username(), user=user
        )


@receiver(user_login_failed, dispatch_uid="takedown.signin.login_failed")
def _on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # axes' own receiver runs first (its app is listed first) and marks a locked-out request.
    locked = bool(getattr(request, "axes_locked_out", False))
    signin_record(
        request=request,
        outcome=SignInOutcome.LOCKED_OUT if locked else SignInOutcome.FAILED,
        username=str(credentials.get("username", "")),
    )


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked-out user name: a page that says what happened, in their language."""
    from django.contrib import admin

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60) if settings.AXES_COOLOFF_TIME else None
    context = {
        **admin.site.each_context(request),
        "title": _("Sign-in locked"),
        "minutes": minutes,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    }
    return TemplateResponse(
        request, "admin/signin/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE
    ).render()


# --- The second-factor pages --------------------------------------------------------------


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url("admin:index")


def _with_next(name: str, request: HttpRequest) -> str:
    from urllib.parse import urlencode

    return f"{reverse(name)}?{urlencode({REDIRECT_FIELD_NAME: _next_url(request)})}"


def next_step_url(request: HttpRequest) -> str | None:
    """Where a signed-in user who still owes a second factor goes; None when nothing is owed."""
    user = request.user
    if not user.is_authenticated or second_factor_satisfied(request):
        return None
    if has_confirmed_device(user):
        return _with_next("admin:second_factor", request)
    return _with_next("admin:second_factor_setup", request)


def _clean_code(raw: str) -> str:
    return "".join(raw.split()).replace("-", "").lower()


def _page(request: HttpRequest, site, template: str, status: int = 200, **context) -> HttpResponse:
    response = TemplateResponse(
        request,
        template,
        {**site.each_context(request), REDIRECT_FIELD_NAME: _next_url(request), **context},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


def _signed_in_staff(view):
    """Signed in with the password, whether or not the second factor passed yet."""

    def wrapped(request: HttpRequest, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    return never_cache(csrf_protect(sensitive_post_parameters("code")(wrapped)))


def verify_view(request: HttpRequest, site) -> HttpResponse:
    """Ask for a code from the authenticator app, or a recovery code."""
    from django_otp import login as otp_login
    from django_otp import match_token

    user = request.user
    if second_factor_satisfied(request):
        return HttpResponseRedirect(_next_url(request))
    if not has_confirmed_device(user):
        return HttpResponseRedirect(_with_next("admin:second_factor_setup", request))
    error = None
    if request.method == "POST":
        code = _clean_code(request.POST.get("code", ""))
        device = match_token(user, code) if code else None
        if device is not None:
            otp_login(request, device)
            signin_record(
                request=request, outcome=SignInOutcome.VERIFIED, username=user.get_username(), user=user
            )
            if device.__class__.__name__ == "StaticDevice":
                left = device.token_set.count()
                from django.contrib import messages

                messages.warning(
                    request,
                    _("You used a recovery code; %(left)d are left. Each code works once.") % {"left": left},
                )
            return HttpResponseRedirect(_next_url(request))
        signin_record(
            request=request,
            outcome=SignInOutcome.SECOND_FACTOR_FAILED,
            username=user.get_username(),
            user=user,
        )
        error = _(
            "That code is not right. Each wrong code makes the next try wait longer (1, 2, 4… seconds): "
            "wait for the app's next code and try again."
        )
    return _page(
        request,
        site,
        "admin/signin/verify.html",
        status=400 if error else 200,
        title=_("Second factor"),
        error=error,
    )


def setup_view(request: HttpRequest, site) -> HttpResponse:
    """Enrol an authenticator app: QR code and secret, one code to confirm, then recovery codes once."""
    from django_otp import login as otp_login
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = request.user
    if has_confirmed_device(user) and not second_factor_satisfied(request):
        # A password alone must not replace the device of someone who already has one.
        return HttpResponseRedirect(_with_next("admin:second_factor", request))
    if has_confirmed_device(user):
        return HttpResponseRedirect(_next_url(request))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name=str(gettext_lazy("Authenticator app")), confirmed=False
        )
    error = None
    if request.method == "POST":
        code = _clean_code(request.POST.get("code", ""))
        if code and device.verify_token(code):
            codes = _confirm(device)
            otp_login(request, device)
            signin_record(
                request=request, outcome=SignInOutcome.ENROLLED, username=user.get_username(), user=user
            )
            return _page(
                request,
                site,
                "admin/signin/recovery_codes.html",
                title=_("Your recovery codes"),
                codes=codes,
            )
        signin_record(
            request=request,
            outcome=SignInOutcome.SECOND_FACTOR_FAILED,
            username=user.get_username(),
            user=user,
        )
        error = _(
            "That code is not right. Check the phone's clock, wait a few seconds and enter the code now shown."
        )
    return _page(
        request,
        site,
        "admin/signin/setup.html",
        status=400 if error else 200,
        title=_("Set up a second factor"),
        error=error,
        qr_svg=qr_svg(device.config_url),
        secret=base64.b32encode(device.bin_key).decode("ascii"),
        required=second_factor_required(user),
    )


@transaction.atomic
def _confirm(device) -> list[str]:
    """Confirm the app and replace any old recovery codes with ten new ones."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=device.user).delete()
    static = StaticDevice.objects.create(user=device.user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=c) for c in codes])
    return codes


def qr_svg(data: str) -> str:
    """The QR code as inline SVG, drawn here: the secret never leaves the server for a QR service."""
    import segno

    return segno.make(data, error="m").svg_inline(scale=5, dark="#000", light="#fff", omitsize=False)


def admin_views(site) -> list:
    """The URLs the admin site adds for the second factor, and a logout an unverified user can reach."""
    from django.urls import path

    def signout(request):
        # Django's own logout sits behind has_permission, which an unverified user fails.
        return site.logout(request)

    return [
        path("second-factor/", _signed_in_staff(lambda r: verify_view(r, site)), name="second_factor"),
        path(
            "second-factor/setup/",
            _signed_in_staff(lambda r: setup_view(r, site)),
            name="second_factor_setup",
        ),
        path("logout/", never_cache(csrf_protect(signout)), name="logout"),
    ]
