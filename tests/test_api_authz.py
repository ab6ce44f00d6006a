"""Every route × every role × an object of the caller's agency and of another agency.

Nothing of another agency leaks: its objects are 404 in detail, absent from lists, and no answer
to a Starlight user mentions Comet's artist or URLs. Roles decide the rest: API clients import
and read, staff also draft and submit, only legal reviewers approve, reject and send.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from takedown import notices
from takedown.models import InfringingURL, Notice, NoticeItem, URLCheck
from takedown.tokens import token_issue

pytestmark = pytest.mark.django_db

ROLES = ["api", "staff", "legal", "manager", "outsider", "superuser", "anonymous"]
FAKE_PDF = b"%PDF-1.4\n% frozen test notice\n%%EOF\n"


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


def _url(artist, platform, path):
    return InfringingURL.objects.create(
        artist=artist, url=f"https://t.me/{path}", normalized_url=f"https://t.me/{path}", host="t.me",
        platform=platform, category="synthetic_sexual", legal_route="platform_policy",
    )  # fmt: skip


def _notice(artist, platform, author, status, path):
    url = _url(artist, platform, path)
    frozen = status != "draft"
    notice = Notice.objects.create(
        agency=artist.agency, artist=artist, platform=platform, legal_route="platform_policy", status=status,
        created_by=author, submitted_at=timezone.now() if frozen else None,
        pdf=FAKE_PDF if frozen else None, pdf_sha256=hashlib.sha256(FAKE_PDF).hexdigest() if frozen else "",
    )  # fmt: skip
    NoticeItem.objects.create(notice=notice, url=url)
    return notice


def _side(artist, author, platforms, prefix):
    telegram = platforms["telegram"]
    url = _url(artist, telegram, f"{prefix}/1")
    URLCheck.objects.create(url=url, verdict="live", http_status=200, title=f"{prefix} page")
    # A draft that passes the pre-send checks, made the way staff make one.
    _url(artist, telegram, f"{prefix}/draft")
    (draft,), _ = notices.notices_prepare(
        user=author, url_ids=list(InfringingURL.objects.filter(url__endswith="/draft", artist=artist).values_list("pk", flat=True))
    )  # fmt: skip
    return {
        "artist": artist.pk,
        "url": url.pk,
        "notice": _notice(artist, telegram, author, "pending", f"{prefix}/shown").pk,
        "draft": draft.pk,
        "pending_a": _notice(artist, telegram, author, "pending", f"{prefix}/a").pk,
        "pending_r": _notice(artist, telegram, author, "pending", f"{prefix}/r").pk,
        "approved": _notice(artist, telegram, author, "approved", f"{prefix}/s").pk,
        "prepare_url": _url(artist, telegram, f"{prefix}/prepare").pk,
    }


@pytest.fixture
def world(agency, other_agency, artist, other_artist, staff, outsider, platforms, templates):
    other_agency.address, other_agency.phone = "2 Example-gil, Seoul", "+82 2-1111-1111"
    other_agency.signatory_name, other_agency.signatory_title = "Minji Park", "Counsel"
    other_agency.save()
    return {
        "own": _side(artist, staff, platforms, "starlight-only"),
        "foreign": _side(other_artist, outsider, platforms, "comet-only"),
    }


def _client(request, role):
    client = APIClient()
    if role != "anonymous":
        user = request.getfixturevalue({"api": "api_user"}.get(role, role))
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user).key}")
    return client


OK, CREATED, BAD, UNAUTH, FORBIDDEN, MISSING = 200, 201, 400, 401, 403, 404
READERS = {
    "api": OK,
    "staff": OK,
    "legal": OK,
    "manager": OK,
    "outsider": OK,
    "superuser": OK,
    "anonymous": UNAUTH,
}
# Starlight's object seen by each role: Comet's staff (outsider) gets a 404 like for a missing id.
OWN_DETAIL = {**READERS, "outsider": MISSING}
FOREIGN_DETAIL = {**READERS, "api": MISSING, "staff": MISSING, "legal": MISSING, "manager": MISSING}


def _only(allowed: set[str], ok: int, *, outsider: int = MISSING, superuser: int | None = None) -> dict:
    expected = {role: (ok if role in allowed else FORBIDDEN) for role in ("api", "staff", "legal", "manager")}
    return {
        **expected,
        "outsider": outsider,
        "superuser": ok if superuser is None else superuser,
        "anonymous": UNAUTH,
    }


def _on_foreign(expected: dict) -> dict:
    """The same action on Comet's object: 404 for every Starlight role, whatever the role allows."""
    return {**expected, "api": MISSING, "staff": MISSING, "legal": MISSING, "manager": MISSING,
            "outsider": expected["superuser"]}  # fmt: skip


IMPORT_BODY = {
    "items": [{"artist": "luna-kang", "url": "https://t.me/starlight-only/new", "category": "privacy"}]
}
ARTIST_BODY = {"name": "New Artist"}
ARTIST_BODY_SUPER = {"name": "New Artist", "agency": "starlight"}

# (name, method, path, body, expected per role)
ROUTES = [
    ("artists list", "get", "/api/v1/artists/", None, READERS),
    ("artist own", "get", "/api/v1/artists/{own[artist]}/", None, OWN_DETAIL),
    ("artist foreign", "get", "/api/v1/artists/{foreign[artist]}/", None, FOREIGN_DETAIL),
    ("artist create", "post", "/api/v1/artists/", ARTIST_BODY,
     {**_only({"staff", "legal", "manager"}, CREATED, outsider=CREATED), "superuser": BAD}),
    ("platforms", "get", "/api/v1/platforms/", None, READERS),
    ("urls list", "get", "/api/v1/urls/", None, READERS),
    ("urls filtered by foreign artist", "get", "/api/v1/urls/?artist={foreign[artist]}", None, READERS),
    ("url own", "get", "/api/v1/urls/{own[url]}/", None, OWN_DETAIL),
    ("url foreign", "get", "/api/v1/urls/{foreign[url]}/", None, FOREIGN_DETAIL),
    ("import", "post", "/api/v1/urls/import/", IMPORT_BODY,
     # Comet's staff has no 'luna-kang': the row is rejected (400), nothing is stored for Starlight.
     {**_only({"api", "staff", "legal"}, CREATED, outsider=BAD), "superuser": BAD}),
    ("notices list", "get", "/api/v1/notices/", None, READERS),
    ("notice own", "get", "/api/v1/notices/{own[notice]}/", None, OWN_DETAIL),
    ("notice foreign", "get", "/api/v1/notices/{foreign[notice]}/", None, FOREIGN_DETAIL),
    ("pdf own", "get", "/api/v1/notices/{own[notice]}/pdf/", None, OWN_DETAIL),
    ("pdf foreign", "get", "/api/v1/notices/{foreign[notice]}/pdf/", None, FOREIGN_DETAIL),
    ("prepare own", "post", "/api/v1/notices/prepare/", {"urls": ["{own[prepare_url]}"]},
     _only({"staff", "legal"}, OK, outsider=OK)),
    ("prepare foreign", "post", "/api/v1/notices/prepare/", {"urls": ["{foreign[prepare_url]}"]},
     _only({"staff", "legal"}, OK, outsider=OK)),
    ("submit own", "post", "/api/v1/notices/{own[draft]}/submit/", None, _only({"staff", "legal"}, OK)),
    ("submit foreign", "post", "/api/v1/notices/{foreign[draft]}/submit/", None,
     _on_foreign(_only({"staff", "legal"}, OK))),
    ("approve own", "post", "/api/v1/notices/{own[pending_a]}/approve/", None, _only({"legal"}, OK)),
    ("approve foreign", "post", "/api/v1/notices/{foreign[pending_a]}/approve/", None,
     _on_foreign(_only({"legal"}, OK))),
    ("reject own", "post", "/api/v1/notices/{own[pending_r]}/reject/", {"reason": "Wrong route"},
     _only({"legal"}, OK)),
    ("reject foreign", "post", "/api/v1/notices/{foreign[pending_r]}/reject/", {"reason": "Wrong route"},
     _on_foreign(_only({"legal"}, OK))),
    ("send own", "post", "/api/v1/notices/{own[approved]}/send/", {}, _only({"legal"}, OK)),
    ("send foreign", "post", "/api/v1/notices/{foreign[approved]}/send/", {},
     _on_foreign(_only({"legal"}, OK))),
    ("stats", "get", "/api/v1/stats/", None, {**READERS, "superuser": BAD}),
]  # fmt: skip

# Comet's staff may act on Comet's objects ("foreign" to Starlight) — but not on what their role forbids.
for name, _m, _p, _b, expected in ROUTES:
    if name in ("submit foreign",):
        expected["outsider"] = OK
    if name in ("approve foreign", "reject foreign", "send foreign"):
        expected["outsider"] = FORBIDDEN

LIST_ROUTES = {"artists list": "artist", "urls list": "url", "urls filtered by foreign artist": "url",
               "notices list": "notice"}  # fmt: skip
NOTICE_KEYS = {"notice", "draft", "pending_a", "pending_r", "approved"}


def _fill(value, world):
    if isinstance(value, str):
        filled = value.format(**world)
        return int(filled) if filled.isdigit() else filled
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


@pytest.mark.parametrize("role", ROLES)
def test_it_answers_every_route_for_every_role_without_leaking(request, world, role, settings):
    # A configured mail server (sending only queues delivery; no mail leaves in this test).
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    client = _client(request, role)
    failures = []
    for name, method, path, body, expected in ROUTES:
        url = path.format(**world)
        if body is None:
            response = getattr(client, method)(url)
        else:
            response = getattr(client, method)(url, _fill(body, world), format="json")
        if response.status_code != expected[role]:
            failures.append(f"{name}: {method.upper()} {url} -> {response.status_code}, expected {expected[role]}: "
                            f"{response.content[:200]!r}")  # fmt: skip
            continue
        if response["Content-Type"] == "application/json":
            answer = response.json()
            if response.status_code >= 400:
                assert set(answer) >= {"detail", "errors"}, (name, answer)
            text = json.dumps(answer, ensure_ascii=False)
            # Markers found only in stored data of one agency (not in anything the caller sent).
            if role in ("api", "staff", "legal", "manager"):
                assert not [m for m in ("comet-only", "서리오", "Rio Seo") if m in text], (name, text)
            if role == "outsider":
                assert not [m for m in ("starlight-only", "강루나", "Luna Kang") if m in text], (name, text)
            if name in LIST_ROUTES and response.status_code == 200 and role != "superuser":
                foreign = world["own" if role == "outsider" else "foreign"]
                kind = LIST_ROUTES[name]
                hidden = {
                    v for k, v in foreign.items() if k == kind or (kind == "notice" and k in NOTICE_KEYS)
                }
                assert not {row["id"] for row in answer["results"]} & hidden, (name, answer)
    assert not failures, "\n".join(failures)


def test_it_lets_a_superuser_read_every_agency(request, world, superuser):
    client = _client(request, "superuser")
    urls = {row["id"] for row in client.get("/api/v1/urls/").json()["results"]}
    assert {world["own"]["url"], world["foreign"]["url"]} <= urls
    assert client.get(f"/api/v1/notices/{world['foreign']['notice']}/").status_code == 200
    assert client.get("/api/v1/stats/?agency=comet").json()["agency"] == "comet"
    created = client.post("/api/v1/artists/", ARTIST_BODY_SUPER, format="json")
    assert created.status_code == 201 and created.json()["agency"] == "starlight"


def test_it_refuses_a_revoked_or_unknown_token(api_user, platforms):
    client = APIClient()
    token = token_issue(user=api_user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/platforms/").status_code == 200
    token.token.delete()
    response = client.get("/api/v1/platforms/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token.", "errors": []}
    assert response["WWW-Authenticate"] == "Token"


def test_it_refuses_the_token_of_a_deactivated_user(api_user, platforms):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=api_user).key}")
    api_user.is_active = False
    api_user.save()
    assert client.get("/api/v1/platforms/").status_code == 401
