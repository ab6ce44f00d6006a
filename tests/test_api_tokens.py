"""API tokens: stored hashed, shown once, expiring, revocable, issued by command or in the admin."""

from __future__ import annotations

import io
import types
from datetime import timedelta
from importlib import import_module

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from takedown.models import APIToken
from takedown.tokens import key_digest, token_issue

pytestmark = pytest.mark.django_db


def issue(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def api_get(key: str, path: str = "/api/v1/platforms/"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get(path)


def test_it_issues_a_token_printing_only_the_key_and_storing_only_its_hash(api_user, platforms):
    key, message = issue("api")
    token = APIToken.objects.get(user=api_user)
    assert len(key) >= 40 and token.digest == key_digest(key) and token.prefix == key[:8]
    stored = " ".join(str(v) for v in APIToken.objects.filter(pk=token.pk).values().first().values())
    assert key not in stored
    assert "not shown again" in message and "Starlight Entertainment" in message
    assert api_get(key).status_code == 200


def test_it_does_not_authenticate_a_row_copied_from_the_database(api_user, platforms):
    issued = token_issue(user=api_user)
    row = APIToken.objects.filter(pk=issued.token.pk).values("digest", "prefix").get()
    for stolen in (row["digest"], row["prefix"]):
        response = api_get(stolen)
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid token.", "errors": []}
    assert api_get(issued.key).status_code == 200


def test_it_refuses_expired_and_revoked_tokens_in_the_api_error_shape(api_user, legal, platforms):
    expired = token_issue(user=api_user, days=1)
    APIToken.objects.filter(pk=expired.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api_get(expired.key)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "This token has expired.", "errors": []}

    revoked = token_issue(user=legal)
    assert api_get(revoked.key).status_code == 200
    issue("legal", "--revoke")
    response = api_get(revoked.key)
    assert response.status_code == 401
    assert response.json() == {"detail": "This token has been revoked.", "errors": []}


def test_it_records_last_use_at_most_once_a_minute(api_user, platforms, django_assert_num_queries):
    issued = token_issue(user=api_user)
    assert issued.token.last_used_at is None
    assert api_get(issued.key).status_code == 200
    first = APIToken.objects.get(pk=issued.token.pk).last_used_at
    assert first is not None
    assert api_get(issued.key).status_code == 200
    assert APIToken.objects.get(pk=issued.token.pk).last_used_at == first  # no write within the minute
    APIToken.objects.filter(pk=issued.token.pk).update(last_used_at=first - timedelta(minutes=2))
    assert api_get(issued.key).status_code == 200
    assert APIToken.objects.get(pk=issued.token.pk).last_used_at > first - timedelta(minutes=2)


def test_it_replaces_the_old_key_when_issuing_again(api_user, platforms):
    old, _ = issue("api")
    new, message = issue("api", "--days", "7")
    assert new != old and "replaces the previous key" in message
    assert api_get(old).status_code == 401 and api_get(new).status_code == 200
    token = APIToken.objects.get(digest=key_digest(new))
    assert timedelta(days=6, hours=23) < token.expires_at - timezone.now() <= timedelta(days=7)


def test_it_revokes_tokens_from_the_command_line(api_user, platforms):
    key, _ = issue("api")
    out, message = issue("api", "--revoke")
    assert out == "" and "Revoked" in message
    assert APIToken.objects.get(user=api_user).revoked_at is not None  # kept, for the record
    assert api_get(key).status_code == 401
    with pytest.raises(CommandError, match="no active token"):
        issue("api", "--revoke")


def test_it_refuses_unknown_and_deactivated_users_and_bad_lifetimes(api_user, settings):
    with pytest.raises(CommandError, match="No user 'ghost'"):
        issue("ghost")
    with pytest.raises(CommandError, match="1 to 365 days"):
        issue("api", "--days", "400")
    api_user.is_active = False
    api_user.save()
    with pytest.raises(CommandError, match="deactivated"):
        issue("api")
    assert not APIToken.objects.exists()


def test_it_scopes_the_token_admin_to_the_agency(client, manager, api_user, outsider):
    mine = token_issue(user=api_user)
    foreign = token_issue(user=outsider)
    client.force_login(manager)
    listing = client.get("/admin/takedown/apitoken/")
    assert listing.status_code == 200
    text = listing.content.decode()
    assert f"/apitoken/{mine.token.pk}/change/" in text and mine.token.prefix in text
    assert f"/apitoken/{foreign.token.pk}/change/" not in text and "outsider" not in text
    assert mine.key not in text and mine.token.digest not in text  # keys are never listed
    assert client.get(f"/admin/takedown/apitoken/{foreign.token.pk}/change/").status_code in (302, 404)
    add = client.get("/admin/takedown/apitoken/add/").content.decode()
    assert f'value="{api_user.pk}"' in add and f'value="{outsider.pk}"' not in add


def test_it_shows_no_token_admin_to_roles_without_the_permission(client, staff, legal):
    for user in (staff, legal):
        client.force_login(user)
        assert client.get("/admin/takedown/apitoken/").status_code == 403


def test_it_lets_a_manager_issue_a_key_shown_once_and_revoke_it(
    client, manager, api_user, outsider, platforms
):
    client.force_login(manager)
    response = client.post("/admin/takedown/apitoken/add/", {"user": outsider.pk, "days": 30})
    assert response.status_code == 200 and not APIToken.objects.exists()  # another agency's user
    response = client.post("/admin/takedown/apitoken/add/", {"user": api_user.pk, "days": 400})
    assert response.status_code == 200 and not APIToken.objects.exists()  # over the maximum
    response = client.post(
        "/admin/takedown/apitoken/add/", {"user": api_user.pk, "days": 30, "note": "crawler"}
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    token = APIToken.objects.get(user=api_user)
    assert token.created_by == manager and token.note == "crawler"
    page = response.content.decode()
    key = page.split('id="issued-key" class="signin-secret">')[1].split("<")[0]
    assert key_digest(key) == token.digest and "not shown again" in page
    assert api_get(key).status_code == 200
    assert key not in client.get(f"/admin/takedown/apitoken/{token.pk}/change/").content.decode()

    client.post(
        "/admin/takedown/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == manager
    assert api_get(key).status_code == 401


def test_the_migration_hashes_existing_plain_keys_so_clients_keep_working(api_user, platforms):
    migration = import_module("takedown.migrations.0005_signin")
    plain = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id bigint, created timestamp with time zone)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, user_id, created) VALUES (%s, %s, %s)",
            [plain, api_user.pk, timezone.now()],
        )
    from django.apps import apps

    migration.hash_plain_tokens(apps, types.SimpleNamespace(connection=connection))
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0  # the plain copy is gone
        cursor.execute("DROP TABLE authtoken_token")
    token = APIToken.objects.get(user=api_user)
    assert token.digest == key_digest(plain) and token.expires_at > timezone.now() + timedelta(days=89)
    assert api_get(plain).status_code == 200
