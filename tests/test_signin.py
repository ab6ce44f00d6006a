"""Signing in: lock-out, the second factor and where it is required, the audit list, the CSP.

These tests sign in through the real pages (password form, then code), never force_login,
wherever the sign-in itself is what is tested.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from takedown import signin
from takedown.models import SignInEvent, SignInOutcome

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parent.parent


def password_login(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post(
        "/admin/login/", {"username": username, "password": password, "next": "/admin/"}, **extra
    )


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def enrolled(user) -> tuple[TOTPDevice, list[str]]:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=False)
    return device, signin._confirm(device)


@pytest.fixture
def no_code_throttle(settings):
    # django-otp makes each try after a wrong code wait 1, 2, 4… seconds; the flows below type a
    # wrong code and then the right one at once. test_it_throttles_guessing covers the wait.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def outcomes(username: str) -> list[str]:
    return list(
        SignInEvent.objects.filter(username=username).order_by("at", "pk").values_list("outcome", flat=True)
    )


@pytest.fixture
def pending_notice(agency, artist, staff, platforms, templates):
    from takedown import importing, notices

    importing.import_rows(
        [{"url": "https://youtu.be/abcDEF12340", "category": "synthetic_sexual"}],
        agency=agency,
        artist=artist,
    )
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    return notices.notice_submit(notice_id=notice.pk, user=staff)


# --- Lock-out ------------------------------------------------------------------------------


def test_it_locks_a_user_name_out_after_repeated_failures_even_with_the_right_password(
    client, legal, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        response = password_login(client, "legal", "wrong password", REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 429
    # Another address does not help: the count belongs to the user name.
    response = password_login(Client(), "legal", REMOTE_ADDR="10.1.1.2")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Sign-in is locked for this user name after 3 wrong passwords" in page and "15 minutes" in page
    assert "_auth_user_id" not in client.session
    assert outcomes("legal") == ["failed", "failed", "locked_out", "locked_out"]
    event = SignInEvent.objects.filter(username="legal").first()
    assert event.agency_id == legal.agency_id and event.ip in ("10.1.1.1", "10.1.1.2")


def test_it_shows_the_lock_out_in_korean(client, legal, settings):
    settings.AXES_FAILURE_LIMIT = 1
    password_login(client, "legal", "wrong")
    response = password_login(client, "legal", HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 429
    assert "로그인이 잠겼습니다" in response.content.decode()


def test_it_forgets_failures_after_a_successful_sign_in(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 3
    password_login(client, "staff", "wrong")
    password_login(client, "staff", "wrong")
    assert password_login(client, "staff").status_code == 302
    client.post("/admin/logout/")
    password_login(client, "staff", "wrong")
    password_login(client, "staff", "wrong")
    assert password_login(client, "staff").status_code == 302


# --- The second factor ---------------------------------------------------------------------


def test_it_keeps_a_legal_user_without_a_second_factor_out_of_the_approval_queue(
    client, legal, pending_notice
):
    response = password_login(client, "legal")
    assert response.status_code == 302 and response["Location"].startswith("/admin/second-factor/setup/")
    guarded = [
        "/admin/",
        "/admin/takedown/notice/queue/",
        f"/admin/takedown/notice/{pending_notice.pk}/pdf/",
        f"/admin/takedown/notice/{pending_notice.pk}/change/",
        "/admin/dashboard/",
        "/admin/takedown/job/",
    ]
    for path in guarded:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/admin/login/"), path
        assert client.get(response["Location"])["Location"].startswith("/admin/second-factor/setup/")
    # Nor through the API with the same session, nor by posting the approval directly.
    assert client.get("/api/v1/notices/").status_code in (401, 403)
    client.post(f"/admin/takedown/notice/{pending_notice.pk}/do/approve/")
    assert client.post(f"/api/v1/notices/{pending_notice.pk}/approve/").status_code in (401, 403)
    pending_notice.refresh_from_db()
    assert pending_notice.status == "pending"


def test_it_enrols_an_app_with_one_code_and_shows_ten_recovery_codes_once(
    client, legal, pending_notice, no_code_throttle
):
    password_login(client, "legal")
    page = client.get("/admin/second-factor/setup/?next=/admin/takedown/notice/queue/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and 'id="secret"' in html and "<img" not in html
    device = TOTPDevice.objects.get(user=legal, confirmed=False)
    secret = re.search(r'id="secret">([A-Z2-7]+)<', html).group(1)
    import base64

    assert base64.b32decode(secret) == device.bin_key

    wrong = client.post("/admin/second-factor/setup/", {"code": "000000", "next": "/admin/"})
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    assert client.get("/admin/takedown/notice/queue/").status_code == 302

    done = client.post(
        "/admin/second-factor/setup/", {"code": current_code(device), "next": "/admin/takedown/notice/queue/"}
    )
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert set(StaticToken.objects.filter(device__user=legal).values_list("token", flat=True)) == set(codes)
    queue = client.get("/admin/takedown/notice/queue/")
    assert queue.status_code == 200 and str(pending_notice.pk) in queue.content.decode()
    # The set-up page does not come back (nor the codes): the device is confirmed.
    again = client.get("/admin/second-factor/setup/")
    assert again.status_code == 302 and codes[0] not in again.content.decode()
    assert outcomes("legal") == ["signed_in", "second_factor_failed", "enrolled"]


def test_it_asks_a_user_with_a_device_for_a_code_and_takes_each_recovery_code_once(
    client, manager, no_code_throttle
):
    device, codes = enrolled(manager)
    response = password_login(client, "manager")
    assert response["Location"].startswith("/admin/second-factor/?")
    # With only the password, the set-up page cannot replace the existing device.
    assert client.get("/admin/second-factor/setup/")["Location"].startswith("/admin/second-factor/")
    wrong = client.post("/admin/second-factor/", {"code": "123456", "next": "/admin/dashboard/"})
    assert wrong.status_code == 400
    assert client.get("/admin/dashboard/").status_code == 302

    ok = client.post("/admin/second-factor/", {"code": codes[0].upper(), "next": "/admin/dashboard/"})
    assert ok.status_code == 302 and ok["Location"] == "/admin/dashboard/"
    assert client.get("/admin/dashboard/").status_code == 200
    assert StaticToken.objects.filter(device__user=manager).count() == 9

    client.post("/admin/logout/")
    other = Client()
    password_login(other, "manager")
    assert other.post("/admin/second-factor/", {"code": codes[0], "next": "/admin/"}).status_code == 400
    ok = other.post("/admin/second-factor/", {"code": current_code(device), "next": "//evil.example.net/"})
    assert ok.status_code == 302 and ok["Location"] == "/admin/"  # never an off-site redirect
    assert outcomes("manager") == [
        "signed_in",
        "second_factor_failed",
        "verified",
        "signed_in",
        "second_factor_failed",
        "verified",
    ]


def test_it_throttles_guessing_codes(client, legal):
    device, codes = enrolled(legal)
    password_login(client, "legal")
    assert client.post("/admin/second-factor/", {"code": "000000"}).status_code == 400
    # Right after a wrong code even the right one is refused: guessing 10^6 codes takes forever.
    assert client.post("/admin/second-factor/", {"code": current_code(device)}).status_code == 400
    assert client.post("/admin/second-factor/", {"code": codes[0]}).status_code == 400
    assert client.get("/admin/").status_code == 302
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=None, throttling_failure_count=0
    )
    assert client.post("/admin/second-factor/", {"code": current_code(device)}).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_it_lets_staff_in_with_the_password_unless_their_agency_requires_a_second_factor(
    client, staff, agency
):
    assert password_login(client, "staff")["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    agency.require_staff_second_factor = True
    agency.save()
    client.post("/admin/logout/")
    assert password_login(client, "staff")["Location"].startswith("/admin/second-factor/setup/")
    assert client.get("/admin/").status_code == 302


def test_it_asks_staff_who_chose_a_second_factor_for_it(client, staff):
    enrolled(staff)
    assert password_login(client, "staff")["Location"].startswith("/admin/second-factor/?")
    assert client.get("/admin/").status_code == 302


def test_it_requires_the_second_factor_of_superusers(client, superuser):
    assert password_login(client, "root")["Location"].startswith("/admin/second-factor/setup/")
    assert client.get("/admin/takedown/signinevent/").status_code == 302


def test_it_lets_a_superuser_reset_a_lost_second_factor_without_seeing_the_secret(client, superuser, legal):
    device, codes = enrolled(legal)
    client.force_login(superuser)
    listing = client.get("/admin/otp_totp/totpdevice/")
    assert listing.status_code == 200 and "legal" in listing.content.decode()
    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert device.key not in page
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code == 403
    static = client.get("/admin/otp_static/staticdevice/").content.decode()
    static_pk = re.search(r"/admin/otp_static/staticdevice/(\d+)/change/", static).group(1)
    assert codes[0] not in client.get(f"/admin/otp_static/staticdevice/{static_pk}/change/").content.decode()

    client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    client.post(f"/admin/otp_static/staticdevice/{static_pk}/delete/", {"post": "yes"})
    assert password_login(Client(), "legal")["Location"].startswith("/admin/second-factor/setup/")


def test_it_lets_an_unverified_user_log_out(client, legal):
    password_login(client, "legal")
    response = client.post("/admin/logout/")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/second-factor/setup/")["Location"].startswith("/admin/login/")


# --- The audit list ------------------------------------------------------------------------


def test_it_lists_sign_ins_to_managers_of_their_own_agency_only(client, manager, staff, outsider, superuser):
    password_login(Client(), "staff", HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux) Firefox/140.0")
    password_login(Client(), "staff", "wrong")
    password_login(Client(), "outsider", "wrong")
    password_login(Client(), "nobody-here", "wrong")
    client.force_login(manager)
    page = client.get("/admin/takedown/signinevent/")
    assert page.status_code == 200
    html = page.content.decode()
    names = re.findall(r'<td class="field-username">([^<]*)</td>', html)
    assert sorted(names) == ["manager", "staff", "staff"] and "Firefox 140 · Linux" in html
    assert "outsider" not in html and "nobody-here" not in html
    assert client.get("/admin/takedown/signinevent/add/").status_code == 403
    event = SignInEvent.objects.filter(username="staff").first()
    assert client.post(f"/admin/takedown/signinevent/{event.pk}/delete/").status_code == 403

    client.force_login(superuser)
    html = client.get("/admin/takedown/signinevent/").content.decode()
    assert "outsider" in html and "nobody-here" in html


def test_it_shows_the_audit_list_to_managers_only(client, staff, legal):
    for user in (staff, legal):
        client.force_login(user)
        assert client.get("/admin/takedown/signinevent/").status_code == 403


def test_it_records_no_secret_in_the_audit_list(client, staff):
    password_login(client, "staff", "my-secret-guess")
    assert SignInEvent.objects.get(username="staff").outcome == SignInOutcome.FAILED
    assert not any("my-secret-guess" in str(v) for v in SignInEvent.objects.values().first().values())


# --- Content-Security-Policy ---------------------------------------------------------------


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_it_sends_a_strict_policy_on_the_admin_the_api_and_the_docs(client, api_user, platforms):
    from takedown.tokens import token_issue

    key = token_issue(user=api_user).key
    responses = [
        client.get("/admin/login/"),
        client.get("/api/v1/platforms/"),
        client.get("/api/v1/platforms/", HTTP_AUTHORIZATION=f"Token {key}"),
        client.get("/api/docs/"),
        client.get("/api/redoc/"),
    ]
    for response in responses:
        policy = _policy(response)
        assert policy["script-src"] == ["'self'"], response
        assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert "data:" in policy["img-src"]
    docs = responses[3].content.decode()
    assert re.search(r"<script>\s*\S", docs) is None  # Swagger UI starts from a script file


def test_it_lets_only_the_pdf_views_be_framed_by_the_admin_itself(client, legal, pending_notice):
    client.force_login(legal)
    pdf = client.get(f"/admin/takedown/notice/{pending_notice.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["X-Frame-Options"] == "SAMEORIGIN"
    assert _policy(pdf)["frame-ancestors"] == ["'self'"]
    queue = client.get("/admin/takedown/notice/queue/")
    assert queue["X-Frame-Options"] == "DENY" and _policy(queue)["frame-ancestors"] == ["'none'"]


def test_it_has_no_inline_script_or_event_handler_in_the_templates():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
