"""Notice templates: versions, the platform's own, validation, and the shipped defaults."""

from __future__ import annotations

import pytest

from takedown import notices, rendering
from takedown.models import NoticeTemplate

pytestmark = pytest.mark.django_db


def test_it_versions_templates_and_notices_keep_theirs(draft, staff, legal):
    notice = notices.notice_submit(notice_id=draft.pk, user=staff)
    old = notice.template
    new = notices.template_save(
        user=legal,
        base=old,
        name=old.name,
        legal_route=old.legal_route,
        locale=old.locale,
        platform_id=None,
        subject=old.subject,
        body=old.body + "<p>Revised by legal.</p>",
    )
    assert new.version == old.version + 1
    assert new.agency_id == notice.agency_id
    old.refresh_from_db()
    # The shipped default stays active for every other agency; the copy is this agency's.
    assert old.is_active and old.agency_id is None and new.is_active
    notice.refresh_from_db()
    assert notice.template_id == old.pk
    assert (
        notices.choose_template(
            agency_id=notice.agency_id,
            route=old.legal_route,
            locale=old.locale,
            platform_id=notice.platform_id,
        )
        == new
    )


def test_it_prefers_a_platforms_own_template(draft, legal, platforms):
    generic = notices.choose_template(
        agency_id=draft.agency_id, route="platform_policy", locale="en", platform_id=platforms["telegram"].pk
    )
    own = notices.template_save(
        user=legal,
        base=None,
        name="Telegram",
        legal_route="platform_policy",
        locale="en",
        platform_id=platforms["telegram"].pk,
        subject=generic.subject,
        body=generic.body,
    )
    assert (
        notices.choose_template(
            agency_id=draft.agency_id,
            route="platform_policy",
            locale="en",
            platform_id=platforms["telegram"].pk,
        )
        == own
    )
    assert (
        notices.choose_template(
            agency_id=draft.agency_id,
            route="platform_policy",
            locale="en",
            platform_id=platforms["reddit"].pk,
        )
        == generic
    )


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{% if %}",
        "{{ undefined_name }}",
    ],
)
def test_it_refuses_to_save_an_unsafe_or_broken_template(legal, body, templates):
    with pytest.raises(rendering.TemplateError):
        notices.template_save(
            user=legal,
            base=None,
            name="x",
            legal_route="dsa",
            locale="en",
            platform_id=None,
            subject="s",
            body=body,
        )
    assert NoticeTemplate.objects.filter(name="x").count() == 0


def test_it_lets_only_legal_edit_templates(staff, templates):
    with pytest.raises(notices.NotAllowed):
        notices.template_save(
            user=staff,
            base=None,
            name="x",
            legal_route="dsa",
            locale="en",
            platform_id=None,
            subject="s",
            body="b",
        )


def test_it_ships_a_default_template_for_every_route_and_korean_route():
    from takedown.choices import LegalRoute

    defaults = {(t.route, t.locale) for t in rendering.load_default_templates()}
    for route in LegalRoute.values:
        assert (route, "en") in defaults
    for route in ("kr_tba_22_5", "kr_network_44_2", "platform_policy"):
        assert (route, "ko") in defaults
