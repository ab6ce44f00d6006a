"""The standard cast: two agencies, their artists and one user per role, plus an outsider."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Fixtures shared by the notice tests (a draft, a real SMTP server...).
pytest_plugins = ["tests.notices_setup", "tests.cases_setup"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Users are created in most tests; a slow hasher is for production only.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch):
    """`client.force_login(user)` skips the password; here it skips the second factor as well.

    Tests of the admin's pages then sign in as legal reviewers and managers as before, with a
    confirmed authenticator on the account and the session marked verified. tests/test_signin.py
    signs in through the real pages (password, then code) wherever the sign-in is the subject.
    """
    from django.test import Client

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from takedown import signin

        if signin.second_factor_required(user) or signin.has_confirmed_device(user):
            device = TOTPDevice.objects.filter(
                user=user, confirmed=True
            ).first() or TOTPDevice.objects.create(user=user, name="test", confirmed=True)
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request in Korean leaves Korean active in this thread (LocaleMiddleware does not undo
    it); the next test starts in the default language again, as a new worker would."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _empty_cache_after_each_test():
    """The default cache outlives a test's rolled-back database; primary keys do not, so a
    later test's user would inherit an earlier one's API throttle counters."""
    yield
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _private_documents(settings, tmp_path):
    # Authorization documents (takedown.models.PrivateStorage) go to a directory of the test's own.
    settings.TAKEDOWN_PRIVATE_DIR = tmp_path / "private"


@pytest.fixture
def platforms(db):
    from takedown.management.commands.setup import load_platforms

    load_platforms(ROOT / "fixtures" / "platforms.json")
    from takedown.models import Platform

    return {p.slug: p for p in Platform.objects.all()}


@pytest.fixture
def agency(db):
    from takedown.models import Agency

    return Agency.objects.create(
        name="Starlight Entertainment",
        name_ko="스타라이트 엔터테인먼트",
        slug="starlight",
        email="legal@starlight.example",
        signatory_name="Jiyoon Han",
        signatory_title="Head of Legal",
        signatory_name_ko="한지윤",
        signatory_title_ko="법무팀장",
        dsa_member_state="FR",
        address="1 Example-ro, Gangnam-gu, Seoul",
        phone="+82 2-0000-0000",
    )


@pytest.fixture
def other_agency(db):
    from takedown.models import Agency

    return Agency.objects.create(name="Comet Music", slug="comet", email="legal@comet.example")


def authorized(artist):
    """The artist's authorization of its agency, on file for every route."""
    from datetime import date

    from takedown.choices import LegalRoute
    from takedown.models import Authorization

    Authorization.objects.create(
        artist=artist,
        person_name=artist.name,
        person_name_ko=artist.name_ko,
        scope="Removal requests and the correspondence that follows.",
        routes=list(LegalRoute.values),
        valid_from=date(2020, 1, 1),
    )
    return artist


@pytest.fixture
def artist(agency):
    """A solo artist whose authorization of the agency is on file for every route."""
    from takedown.models import Artist

    return authorized(
        Artist.objects.create(
            agency=agency,
            name="Luna Kang",
            name_ko="강루나",
            slug="luna-kang",
            official_accounts=["https://x.com/luna_official", "luna-kang.example.net"],
        )
    )


@pytest.fixture
def other_artist(other_agency):
    from takedown.models import Artist

    return authorized(
        Artist.objects.create(agency=other_agency, name="Rio Seo", name_ko="서리오", slug="rio-seo")
    )


def _user(username, agency, role, *, is_staff=True, is_superuser=False):
    from takedown.models import User

    return User.objects.create_user(
        username=username,
        password="correct horse battery",
        agency=agency,
        role=role,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )


@pytest.fixture
def staff(agency):
    return _user("staff", agency, "staff")


@pytest.fixture
def legal(agency):
    return _user("legal", agency, "legal")


@pytest.fixture
def manager(agency):
    return _user("manager", agency, "manager")


@pytest.fixture
def api_user(agency):
    return _user("api", agency, "api", is_staff=False)


@pytest.fixture
def outsider(other_agency):
    return _user("outsider", other_agency, "staff")


@pytest.fixture
def superuser(db):
    return _user("root", None, "staff", is_superuser=True)


@pytest.fixture
def legal2(agency):
    return _user("legal2", agency, "legal")


@pytest.fixture
def templates(db):
    from takedown import notices

    notices.templates_load_defaults()
