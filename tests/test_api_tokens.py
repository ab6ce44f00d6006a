"""API tokens: issued and revoked by a command or in the admin, scoped to the agency."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token, TokenProxy
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def issue(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_it_issues_a_token_printing_only_the_key(api_user, platforms):
    key, message = issue("api")
    assert key == Token.objects.get(user=api_user).key and len(key) == 40
    assert "not shown again" in message and "Starlight Entertainment" in message
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/platforms/").status_code == 200


def test_it_replaces_the_old_key_when_issuing_again(api_user, platforms):
    old, _ = issue("api")
    new, message = issue("api")
    assert new != old and "replaces the previous key" in message
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.get("/api/v1/platforms/").status_code == 401


def test_it_revokes_a_token(api_user, platforms):
    key, _ = issue("api")
    out, message = issue("api", "--revoke")
    assert out == "" and "Revoked" in message
    assert not Token.objects.filter(user=api_user).exists()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/platforms/").status_code == 401
    with pytest.raises(CommandError, match="no token"):
        issue("api", "--revoke")


def test_it_refuses_unknown_and_deactivated_users(api_user):
    with pytest.raises(CommandError, match="No user 'ghost'"):
        issue("ghost")
    api_user.is_active = False
    api_user.save()
    with pytest.raises(CommandError, match="deactivated"):
        issue("api")


def test_it_scopes_the_token_admin_to_the_agency(client, staff, api_user, outsider, superuser):
    from django.contrib.auth.models import Permission

    Token.objects.create(user=api_user)
    foreign = Token.objects.create(user=outsider)
    # Roles grant no token permissions; a superuser may grant them to a user explicitly.
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="authtoken"))
    client.force_login(staff)
    listing = client.get("/admin/authtoken/tokenproxy/")
    assert listing.status_code == 200
    text = listing.content.decode()
    assert f"/tokenproxy/{api_user.pk}/change/" in text
    assert f"/tokenproxy/{outsider.pk}/change/" not in text and "outsider" not in text
    assert api_user.auth_token.key not in text  # keys are never listed
    assert client.get(f"/admin/authtoken/tokenproxy/{outsider.pk}/change/").status_code in (302, 404)
    add = client.get("/admin/authtoken/tokenproxy/add/").content.decode()
    assert f'value="{api_user.pk}"' in add and f'value="{outsider.pk}"' not in add
    assert TokenProxy.objects.filter(pk=foreign.pk).exists()


def test_it_shows_no_token_admin_to_roles_without_the_permission(client, staff, legal):
    for user in (staff, legal):
        client.force_login(user)
        assert client.get("/admin/authtoken/tokenproxy/").status_code == 403


def test_it_lets_a_manager_issue_tokens_only_for_their_agency(client, manager, api_user, outsider):
    client.force_login(manager)
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 200
    response = client.post("/admin/authtoken/tokenproxy/add/", {"user": outsider.pk})
    assert response.status_code == 200  # the form refuses a user of another agency
    assert not Token.objects.filter(user=outsider).exists()
    response = client.post("/admin/authtoken/tokenproxy/add/", {"user": api_user.pk}, follow=True)
    assert response.status_code == 200
    assert Token.objects.filter(user=api_user).exists()


def test_it_shows_a_new_key_once_in_the_admin(client, superuser, api_user):
    client.force_login(superuser)
    response = client.post("/admin/authtoken/tokenproxy/add/", {"user": api_user.pk}, follow=True)
    assert response.status_code == 200
    key = Token.objects.get(user=api_user).key
    assert "copy it now" in response.content.decode() and key in response.content.decode()
