"""Tenancy and four-eyes against a hostile insider: one agency's people never shape, see or
approve what another agency sends, and nobody approves a notice they shaped."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from takedown import importing, notices
from takedown.models import (
    Artist,
    InfringingURL,
    Job,
    Notice,
    NoticeEvent,
    NoticeTemplate,
    RightsRecord,
    URLCheck,
    User,
    visible,
)

pytestmark = pytest.mark.django_db

ATTACK = "{% if agency.name == 'Comet Music' %}<p>Reply only to attacker@evil.example.net</p>{% endif %}"


def _user(username, agency, role, **extra):
    return User.objects.create_user(
        username=username, password="correct horse battery", agency=agency, role=role, is_staff=True, **extra
    )


def _complete(agency):
    """Give an agency what a notice needs to pass the pre-send checks."""
    for field, value in {
        "email": f"legal@{agency.slug}.example.net",
        "address": "2 Example-gil, Mapo-gu, Seoul",
        "signatory_name": "Minji Park",
        "signatory_title": "General Counsel",
    }.items():
        setattr(agency, field, value)
    agency.save()


def _draft(user, artist, urls):
    report = importing.import_rows(
        [{"url": u, "category": "synthetic_sexual"} for u in urls], agency=artist.agency, artist=artist
    )
    assert report.rejected == 0, report.errors
    (notice,), _ = notices.notices_prepare(user=user, artist_id=artist.pk)
    return notice


# -- templates per agency ----------------------------------------------------------------------


def test_it_keeps_one_agencys_template_edit_out_of_another_agencys_notices(
    agency, artist, other_agency, other_artist, staff, legal, platforms, templates
):
    default = NoticeTemplate.objects.get(
        agency__isnull=True, legal_route="platform_policy", locale="en", platform__isnull=True
    )
    edited = notices.template_save(
        user=legal,
        base=default,
        name=default.name,
        legal_route=default.legal_route,
        locale=default.locale,
        platform_id=None,
        subject=default.subject,
        body=ATTACK + default.body,
    )
    assert edited.agency_id == agency.pk

    _complete(other_agency)
    b_staff = _user("comet-staff", other_agency, "staff")
    b_notice = _draft(b_staff, other_artist, ["https://t.me/comet_leaks/7"])
    b_notice = notices.notice_submit(notice_id=b_notice.pk, user=b_staff)
    assert b_notice.template_id == default.pk
    assert "attacker@" not in b_notice.rendered_html and "attacker@" not in b_notice.rendered_text

    a_notice = _draft(staff, artist, ["https://t.me/starlight_leaks/8"])
    a_notice = notices.notice_submit(notice_id=a_notice.pk, user=staff)
    assert a_notice.template_id == edited.pk


def test_it_refuses_editing_another_agencys_template(agency, other_agency, legal, templates):
    b_legal = _user("comet-legal", other_agency, "legal")
    default = NoticeTemplate.objects.filter(agency__isnull=True, legal_route="dsa", locale="en").get()
    b_copy = notices.template_save(
        user=b_legal,
        base=default,
        name="Comet DSA",
        legal_route="dsa",
        locale="en",
        platform_id=None,
        subject=default.subject,
        body=default.body,
    )
    with pytest.raises(notices.NotAllowed):
        notices.template_save(
            user=legal,
            base=b_copy,
            name="mine now",
            legal_route="dsa",
            locale="en",
            platform_id=None,
            subject=default.subject,
            body=ATTACK + default.body,
        )
    assert not NoticeTemplate.objects.filter(body__contains="attacker@").exists()
    assert b_copy not in visible(NoticeTemplate, legal)
    assert default in visible(NoticeTemplate, legal)


def test_it_scopes_the_template_admin_and_its_preview(client, agency, other_agency, legal, templates):
    b_legal = _user("comet-legal", other_agency, "legal")
    default = NoticeTemplate.objects.filter(agency__isnull=True, legal_route="dsa", locale="en").get()
    b_copy = notices.template_save(
        user=b_legal,
        base=default,
        name="Comet's own DSA wording",
        legal_route="dsa",
        locale="en",
        platform_id=None,
        subject=default.subject,
        body=default.body,
    )
    client.force_login(legal)
    listing = client.get(reverse("admin:takedown_noticetemplate_changelist")).content.decode()
    assert "Comet&#x27;s own DSA wording" not in listing and "Comet's own DSA wording" not in listing
    assert client.get(reverse("admin:takedown_noticetemplate_change", args=[b_copy.pk])).status_code == 302
    assert client.get(reverse("admin:takedown_noticetemplate_preview", args=[b_copy.pk])).status_code == 404
    assert client.get(reverse("admin:takedown_noticetemplate_preview", args=[default.pk])).status_code == 200


# -- four-eyes ----------------------------------------------------------------------------------


def test_it_refuses_approval_by_a_reviewer_who_added_urls_to_the_draft(
    agency, artist, staff, legal, legal2, platforms, templates
):
    notice = _draft(staff, artist, ["https://t.me/leakchan/1"])
    importing.import_rows(
        [{"url": "https://t.me/leakchan/2", "category": "synthetic_sexual"}], agency=agency, artist=artist
    )
    (same,), _ = notices.notices_prepare(user=legal, artist_id=artist.pk)
    assert same.pk == notice.pk and same.items.count() == 2
    notices.notice_submit(notice_id=notice.pk, user=staff)
    with pytest.raises(notices.NotAllowed):
        notices.notice_approve(notice_id=notice.pk, user=legal)
    with pytest.raises(notices.NotAllowed):
        notices.notice_reject(notice_id=notice.pk, user=legal, reason="mine")
    assert Notice.objects.get(pk=notice.pk).status == "pending"
    assert notices.notice_approve(notice_id=notice.pk, user=legal2).status == "approved"


def test_it_refuses_approval_by_the_reviewer_who_submitted(
    agency, artist, staff, legal, legal2, templates, platforms
):
    notice = _draft(staff, artist, ["https://t.me/leakchan/3"])
    notices.notice_submit(notice_id=notice.pk, user=legal)
    assert Notice.objects.get(pk=notice.pk).submitted_by_id == legal.pk
    with pytest.raises(notices.NotAllowed):
        notices.notice_approve(notice_id=notice.pk, user=legal)
    assert notices.notice_approve(notice_id=notice.pk, user=legal2).reviewed_by_id == legal2.pk


def test_it_refuses_approval_by_a_reviewer_who_removed_items(
    client, agency, artist, staff, legal, legal2, platforms, templates
):
    notice = _draft(staff, artist, ["https://t.me/leakchan/4", "https://t.me/leakchan/5"])
    item = notice.items.order_by("pk").first()
    notices.notice_remove_items(notice_id=notice.pk, user=legal, item_ids=[item.pk])
    assert NoticeEvent.objects.filter(notice=notice, actor=legal, reason="URLs removed").exists()
    notices.notice_submit(notice_id=notice.pk, user=staff)
    with pytest.raises(notices.NotAllowed):
        notices.notice_approve(notice_id=notice.pk, user=legal)
    notices.notice_approve(notice_id=notice.pk, user=legal2)


def test_it_counts_the_drafter_of_a_rejected_notice_in_its_revision(
    agency, artist, staff, legal, legal2, platforms, templates
):
    notice = _draft(legal2, artist, ["https://t.me/leakchan/6"])
    notices.notice_submit(notice_id=notice.pk, user=legal2)
    notices.notice_reject(notice_id=notice.pk, user=legal, reason="Wrong route")
    revision = notices.notice_revise(notice_id=notice.pk, user=staff)
    notices.notice_submit(notice_id=revision.pk, user=staff)
    # legal2 chose the URLs of the rejected notice, which the revision carries over.
    with pytest.raises(notices.NotAllowed):
        notices.notice_approve(notice_id=revision.pk, user=legal2)
    assert notices.notice_approve(notice_id=revision.pk, user=legal).status == "approved"


def test_it_enforces_reviewer_not_submitter_in_the_database(
    agency, artist, staff, legal, platforms, templates
):
    from django.db import IntegrityError, transaction

    notice = _draft(staff, artist, ["https://t.me/leakchan/9"])
    notices.notice_submit(notice_id=notice.pk, user=legal)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notice.objects.filter(pk=notice.pk).update(reviewed_by=legal, status="approved")


def test_it_hides_approve_from_a_contributor_in_the_admin(
    client, agency, artist, staff, legal, platforms, templates
):
    notice = _draft(staff, artist, ["https://t.me/leakchan/10"])
    notices.notice_submit(notice_id=notice.pk, user=legal)
    client.force_login(legal)
    page = client.get(reverse("admin:takedown_notice_change", args=[notice.pk]))
    names = [a["name"] for a in page.context["workflow_actions"]]
    assert "approve" not in names and "reject" not in names
    response = client.post(
        reverse("admin:takedown_notice_action", args=[notice.pk, "approve"]), {"confirm": "yes"}
    )
    assert response.status_code == 302
    assert Notice.objects.get(pk=notice.pk).status == "pending"


def test_it_refuses_approval_through_the_api_by_a_contributor(
    client, agency, artist, staff, legal, platforms, templates
):
    notice = _draft(staff, artist, ["https://t.me/leakchan/11"])
    notices.notice_submit(notice_id=notice.pk, user=legal)
    client.force_login(legal)
    response = client.post(f"/api/v1/notices/{notice.pk}/approve/")
    assert response.status_code == 403, response.content
    assert Notice.objects.get(pk=notice.pk).status == "pending"


# -- no cross-agency names anywhere in the admin -----------------------------------------------

# Agency B's rows get ids far above anything agency A's walk creates, so that an id of B's in a
# page (a filter link, an <option value>, a change link) is unmistakable.
B_ID = 900_001
B_NAMES = [
    "Comet Music",
    "Rio Seo",
    "서리오",
    "comet-staff",
    "comet-legal",
    "Comet Secret Album",
    "cometleaks",
]


@pytest.fixture
def two_agencies(agency, artist, other_agency, platforms, templates, staff, legal, manager):
    from takedown.models import Agency

    # Agency A first (its ids stay below B_ID): a bit of everything too, so that each page has rows, filters and change links.
    RightsRecord.objects.create(artist=artist, title="Starlight photo", owner="Starlight Entertainment")
    a_notice = _draft(staff, artist, ["https://t.me/starlight_leaks/1"])
    a_url = a_notice.items.get().url
    URLCheck.objects.create(url=a_url, verdict="live", title="starlight live")
    Job.objects.create(kind="import", agency=agency, user=staff)

    # Agency B, with one of everything, at unmistakable ids.
    Agency.objects.filter(pk=other_agency.pk).update(name="Comet Music")
    b_artist = Artist.objects.create(
        pk=B_ID,
        agency=other_agency,
        name="Rio Seo",
        name_ko="서리오",
        slug="rio-seo-b",
        aliases=["Comet Rio"],
    )
    b_staff = User.objects.create_user(
        pk=B_ID, username="comet-staff", password="x" * 12, agency=other_agency, role="staff", is_staff=True
    )
    b_legal = User.objects.create_user(
        pk=B_ID + 1,
        username="comet-legal",
        password="x" * 12,
        agency=other_agency,
        role="legal",
        is_staff=True,
    )
    RightsRecord.objects.create(pk=B_ID, artist=b_artist, title="Comet Secret Album", owner="Comet Music")
    b_url = InfringingURL.objects.create(
        pk=B_ID,
        artist=b_artist,
        url="https://t.me/cometleaks/1",
        normalized_url="https://t.me/cometleaks/1",
        host="t.me",
        platform=platforms["telegram"],
        category="synthetic_sexual",
        legal_route="platform_policy",
    )
    URLCheck.objects.create(pk=B_ID, url=b_url, verdict="live", title="cometleaks live")
    b_notice = Notice.objects.create(
        pk=B_ID,
        agency=other_agency,
        artist=b_artist,
        platform=platforms["telegram"],
        legal_route="platform_policy",
        created_by=b_staff,
    )
    b_notice.items.create(url=b_url)
    NoticeEvent.objects.create(notice=b_notice, actor=b_staff, to_status="draft", reason="Comet Secret Album")
    default = NoticeTemplate.objects.filter(agency__isnull=True, legal_route="dsa", locale="en").get()
    notices.template_save(
        user=b_legal,
        base=default,
        name="Comet Secret Album wording",
        legal_route="dsa",
        locale="en",
        platform_id=None,
        subject=default.subject,
        body=default.body,
    )
    Job.objects.create(
        pk=B_ID, kind="import", agency=other_agency, user=b_staff, params={"note": "cometleaks"}
    )

    return {"staff": staff, "legal": legal, "manager": manager}


def _leaks(html: str) -> list[str]:
    found = [name for name in B_NAMES if name in html or name.replace("'", "&#x27;") in html]
    found += re.findall(r"\b9000\d\d\b", html)
    return found


def _model_pages(model_admin, request_user, a_objects) -> list[str]:
    opts = model_admin.model._meta
    base = f"admin:{opts.app_label}_{opts.model_name}"
    pages = [reverse(f"{base}_changelist")]
    try:
        pages.append(reverse(f"{base}_add"))
    except NoReverseMatch:
        pass
    for obj in a_objects:
        pages += [
            reverse(f"{base}_change", args=[obj.pk]),
            reverse(f"{base}_history", args=[obj.pk]),
            reverse(f"{base}_delete", args=[obj.pk]),
        ]
    return pages


@pytest.mark.parametrize("role", ["staff", "legal", "manager"])
def test_it_shows_no_name_or_id_of_another_agency_on_any_admin_page(client, two_agencies, role):
    from django.test import RequestFactory

    user = two_agencies[role]
    client.force_login(user)
    visited = 0
    for model, model_admin in admin.site._registry.items():
        try:
            a_objects = (
                list(visible(model, user).exclude(pk__gte=B_ID)[:1])
                if hasattr(model._default_manager.all(), "visible_to")
                else list(model._default_manager.all()[:1])
            )
        except TypeError:
            a_objects = []
        for url in _model_pages(model_admin, user, a_objects):
            response = client.get(url)
            assert response.status_code in (200, 302, 403), (url, response.status_code)
            if response.status_code != 200:
                continue
            visited += 1
            html = response.content.decode()
            assert not _leaks(html), (role, url, _leaks(html))
            if url.endswith("/") and "changelist" not in url and response.context is None:
                continue
            # Every "By …" filter choice, applied: the sidebar, the result and the counts.
            cl = response.context.get("cl") if response.context else None
            if cl is None:
                continue
            request = RequestFactory().get(url)
            request.user = user
            for spec in cl.filter_specs:
                for choice in spec.choices(cl):
                    query = choice.get("query_string")
                    if not query or query == "?":
                        continue
                    filtered = client.get(url + query)
                    assert filtered.status_code in (200, 302), (url + query, filtered.status_code)
                    visited += 1
                    assert not _leaks(filtered.content.decode()), (role, url + query)
    assert visited > 30

    # Every page of the admin that takes no argument: the home page, the dashboard, the
    # approval queue, the CSV upload and export, and whatever is added later.
    names = ["admin:index"] + [
        f"admin:{pattern.name}"
        for model_admin in admin.site._registry.values()
        for pattern in model_admin.get_urls()
        if pattern.name and not pattern.pattern.converters and "<" not in str(pattern.pattern)
    ]
    names += [f"admin:{p.name}" for p in admin.site.get_urls() if getattr(p, "name", None) == "dashboard"]
    for name in sorted(set(names)):
        response = client.get(reverse(name))
        assert response.status_code in (200, 302, 403), (name, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert not _leaks(body.decode()), (role, name, _leaks(body.decode()))
        visited += 1


@pytest.mark.parametrize("role", ["staff", "legal", "manager"])
def test_it_scopes_every_autocomplete(client, two_agencies, role):
    user = two_agencies[role]
    client.force_login(user)
    checked = 0
    for model, model_admin in admin.site._registry.items():
        for field_name in model_admin.autocomplete_fields:
            response = client.get(
                reverse("admin:autocomplete"),
                {
                    "app_label": model._meta.app_label,
                    "model_name": model._meta.model_name,
                    "field_name": field_name,
                    "term": "",
                },
            )
            if response.status_code == 403:
                continue
            checked += 1
            assert response.status_code == 200
            assert not _leaks(response.content.decode()), (role, model, field_name)
            for term in ("Rio", "Comet", "서리오"):
                results = client.get(
                    reverse("admin:autocomplete"),
                    {
                        "app_label": model._meta.app_label,
                        "model_name": model._meta.model_name,
                        "field_name": field_name,
                        "term": term,
                    },
                ).json()["results"]
                assert results == []
    assert checked >= 1


def test_it_lets_a_superuser_filter_by_agency(client, two_agencies, superuser):
    client.force_login(superuser)
    html = client.get(reverse("admin:takedown_artist_changelist")).content.decode()
    assert "Comet Music" in html and "Starlight Entertainment" in html


@pytest.mark.django_db(transaction=True)
def test_it_migrates_edited_templates_to_the_agency_that_edited_them():
    """Before templates were per agency, any agency's edit became everyone's active version.
    The migration gives each edit to its editor's agency and re-activates the default."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("takedown", "0001_initial")])
    old = executor.loader.project_state([("takedown", "0001_initial")]).apps
    Agency = old.get_model("takedown", "Agency")
    OldUser = old.get_model("takedown", "User")
    OldTemplate = old.get_model("takedown", "NoticeTemplate")
    a = Agency.objects.create(name="A", slug="a")
    b = Agency.objects.create(name="B", slug="b")
    a_legal = OldUser.objects.create(username="a-legal", agency=a, role="legal")
    b_legal = OldUser.objects.create(username="b-legal", agency=b, role="legal")
    common = {"legal_route": "dsa", "locale": "en", "subject": "s", "name": "DSA"}
    v1 = OldTemplate.objects.create(version=1, body="default", is_active=False, **common)
    v2 = OldTemplate.objects.create(version=2, body="A's edit", is_active=False, created_by=a_legal, **common)
    v3 = OldTemplate.objects.create(version=3, body="B's edit", is_active=True, created_by=b_legal, **common)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    rows = {t.pk: t for t in NoticeTemplate.objects.all()}
    assert (rows[v1.pk].agency_id, rows[v1.pk].is_active) == (None, True)
    assert (rows[v2.pk].agency_id, rows[v2.pk].is_active) == (a.pk, True)
    assert (rows[v3.pk].agency_id, rows[v3.pk].is_active) == (b.pk, True)
    for agency_id, expected in [(a.pk, v2.pk), (b.pk, v3.pk), (None, v1.pk)]:
        chosen = notices.choose_template(agency_id=agency_id, route="dsa", locale="en", platform_id=None)
        assert chosen.pk == expected


def test_it_lets_a_manager_issue_tokens_for_api_clients_only(client, manager, staff, legal, api_user):
    """Keys for a drafter and a reviewer in one manager's hands would let one person move a
    notice through four-eyes alone, without either person's second factor."""
    from takedown import tokens
    from takedown.models import APIToken

    for person in (staff, legal, manager):
        with pytest.raises(tokens.TokenRefused):
            tokens.token_issue(user=person, created_by=manager)
    assert tokens.token_issue(user=api_user, created_by=manager).key
    client.force_login(manager)
    add = reverse("admin:takedown_apitoken_add")
    page = client.get(add).content.decode()
    assert f'value="{api_user.pk}"' in page and f'value="{legal.pk}"' not in page
    response = client.post(add, {"user": legal.pk, "days": 30, "note": "x"})
    assert response.status_code == 200 and response.context["adminform"].form.errors["user"]
    assert not APIToken.objects.filter(user=legal).exists()
    # The operator still issues a person's token from the command line.
    assert tokens.token_issue(user=legal).key


def test_it_counts_a_change_of_language_as_shaping_the_notice(
    client, agency, artist, staff, legal, legal2, platforms, templates
):
    notice = _draft(staff, artist, ["https://t.me/leakchan/12"])
    client.force_login(legal)
    change = reverse("admin:takedown_notice_change", args=[notice.pk])
    response = client.post(
        change,
        {
            "locale": "ko",
            "items-TOTAL_FORMS": "1",
            "items-INITIAL_FORMS": "1",
            "items-0-id": notice.items.get().pk,
            "items-0-notice": notice.pk,
            "counter_notices-TOTAL_FORMS": "0",
            "counter_notices-INITIAL_FORMS": "0",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    notice.refresh_from_db()
    assert notice.locale == "ko"
    assert NoticeEvent.objects.filter(notice=notice, actor=legal, data__locale=["en", "ko"]).exists()
    notices.notice_submit(notice_id=notice.pk, user=staff)
    with pytest.raises(notices.NotAllowed):
        notices.notice_approve(notice_id=notice.pk, user=legal)
    assert notices.notice_approve(notice_id=notice.pk, user=legal2).status == "approved"


def test_it_records_items_removed_in_the_admin_as_contributing(
    client, agency, artist, staff, legal, platforms, templates
):
    notice = _draft(staff, artist, ["https://t.me/leakchan/13", "https://t.me/leakchan/14"])
    first, second = notice.items.order_by("pk")
    client.force_login(legal)
    response = client.post(
        reverse("admin:takedown_notice_change", args=[notice.pk]),
        {
            "locale": notice.locale,
            "items-TOTAL_FORMS": "2",
            "items-INITIAL_FORMS": "2",
            "items-0-id": first.pk,
            "items-0-notice": notice.pk,
            "items-0-DELETE": "on",
            "items-1-id": second.pk,
            "items-1-notice": notice.pk,
            "counter_notices-TOTAL_FORMS": "0",
            "counter_notices-INITIAL_FORMS": "0",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert list(notice.items.values_list("pk", flat=True)) == [second.pk]
    event = NoticeEvent.objects.get(notice=notice, reason="URLs removed")
    assert event.actor == legal and event.data == {"removed": [first.url_id]}
    assert legal.pk in notices.notice_contributors(notice)


def test_it_offers_no_approve_in_the_queue_to_a_contributor(
    client, agency, artist, staff, legal, legal2, platforms, templates
):
    notice = _draft(staff, artist, ["https://t.me/leakchan/15"])
    notices.notice_submit(notice_id=notice.pk, user=legal)
    queue = reverse("admin:takedown_notice_queue")
    approve = reverse("admin:takedown_notice_action", args=[notice.pk, "approve"])
    client.force_login(legal)
    assert approve not in client.get(queue).content.decode()
    client.force_login(legal2)
    assert approve in client.get(queue).content.decode()
