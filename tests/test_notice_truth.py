"""A notice states only what is true of each item, and what its law requires of each item.

The matrix runs every category on every route in every language a route ships: a route that
cannot carry a category refuses it at intake, in drafting and before sending; one that can
renders a notice whose statutory elements are present for the item itself, which says
nothing reserved for another category, claims no right that is not recorded, no authority
that is not on file, and no hash that is not from a conclusive check.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from takedown import importing, legal, notices, rendering
from takedown.choices import Category, LegalRoute, Verdict
from takedown.models import (
    Authorization,
    InfringingURL,
    Notice,
    NoticeItem,
    Platform,
    RightsRecord,
    URLCheck,
)

pytestmark = pytest.mark.django_db

SHIPPED = {(t.route, t.locale) for t in rendering.load_default_templates()}
MATRIX = [
    (route, category, locale)
    for route in LegalRoute.values
    for category in Category.values
    for locale in ("en", "ko")
    if (route, locale) in SHIPPED
]
CARRIED = [case for case in MATRIX if legal.may_carry(case[0], case[1])]
REFUSED = sorted(
    {(route, category) for route, category, _locale in MATRIX if not legal.may_carry(route, category)}
)
# A hash the notices must never print: it comes from an inconclusive check (a challenge page).
CHALLENGE_SHA = "c" * 64
AUTHORITY_PHRASES = {
    "en": (
        "authorized to act on behalf of",
        "authorized person acting",
        "written authorization",
        "representative of",
    ),
    "ko": ("위임을 받", "위임장", "(대리인)"),
}


@pytest.fixture
def tube(db):
    """A platform with a web-form channel for every route (documents not asked for)."""
    return Platform.objects.create(
        slug="exampletube",
        name="ExampleTube",
        hosts=["tube.example.net"],
        channel_kind="webform",
        channel_url="https://tube.example.net/report",
        default_route=LegalRoute.PLATFORM_POLICY,
        channels={
            route: {
                "kind": "webform",
                "url": f"https://tube.example.net/report/{route}",
                "label": "Report form",
                "source": "https://tube.example.net/help/reporting",
            }
            for route in LegalRoute.values
        },
    )


@pytest.fixture
def work(artist, agency):
    return RightsRecord.objects.create(
        artist=artist, title="Moonlit Stage (concert photo)", owner=agency.name, registration="C-2026-000001"
    )


def _url(artist, *, category: str, route: str, n: int = 1, work=None) -> InfringingURL:
    report = importing.import_rows(
        [{"url": f"https://tube.example.net/v/{category}-{n}", "category": category, "legal_route": route}],
        agency=artist.agency,
        artist=artist,
    )
    assert report.rejected == 0, report.errors
    url = InfringingURL.objects.get(
        artist=artist, normalized_url=f"https://tube.example.net/v/{category}-{n}"
    )
    if work is not None or category == Category.REAL_INTIMATE:
        url.work = work
        # What a TAKE IT DOWN request needs for an authentic image: how non-consent is known.
        url.notice_facts = (
            "Filmed privately in 2024 and posted on 2026-11-02 by an unknown account; never agreed to."
        )
        url.save()
    # A challenge page: inconclusive, so its digest must never reach a notice.
    URLCheck.objects.create(url=url, verdict=Verdict.INCONCLUSIVE, http_status=403, body_sha256=CHALLENGE_SHA)
    return url


def _notice(staff, url, locale: str) -> Notice:
    (notice,), skipped = notices.notices_prepare(user=staff, url_ids=[url.pk])
    assert skipped == 0
    Notice.objects.filter(pk=notice.pk).update(locale=locale)
    notice.refresh_from_db()
    return notice


def _render(notice: Notice) -> tuple[dict, str]:
    context = notices.notice_context(notice)
    template = notices.notice_template(notice)
    return context, rendering.render_notice(template.subject, template.body, context).text


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold()


@pytest.mark.parametrize(("route", "category", "locale"), CARRIED, ids=["-".join(c) for c in CARRIED])
def test_it_states_only_what_is_true_of_the_item(
    route, category, locale, artist, staff, tube, work, templates
):
    about_work = legal.item_about_work(route, category)
    url = _url(artist, category=category, route=route, work=work if about_work else None)
    notice = _notice(staff, url, locale)

    context, text = _render(notice)
    (item,) = context["items"]
    (section,) = legal.item_sections(text, [item["url"]])

    # Everything on record: nothing stops it, and the law's elements are there for the item itself.
    assert notices.presend_problems(notice) == []
    assert legal.missing_from_text(route, locale, text, context) == []
    # No statement reserved for another category, and no copyright without the linked work.
    assert legal.unfounded_statements(locale, text, context) == []
    haystack = _norm(text)
    for reserved in legal.RESERVED:
        if reserved.locale != locale or reserved.needs == "evidence":
            continue
        founded = (about_work and reserved.needs == "work") or category in reserved.categories
        if not founded:
            assert _norm(reserved.phrase) not in haystack, (reserved.phrase, reserved.why)
    # No hash but from a conclusive check: the only check was inconclusive.
    assert CHALLENGE_SHA not in text and "SHA-256" not in text
    assert ("Not yet checked" if locale == "en" else "아직 확인하지 않았습니다") in section
    # The item's own statement rests on its own record.
    if about_work:
        assert item["work"]["title"] in section and item["person"] is None
    else:
        person = item["person"]
        named = person["name_ko"] if locale == "ko" and person["name_ko"] else person["name"]
        assert item["work"] is None and named in section


@pytest.mark.parametrize(("route", "category"), REFUSED, ids=["-".join(c) for c in REFUSED])
def test_it_never_puts_an_item_on_a_route_that_cannot_carry_it(route, category, artist, staff, tube):
    report = importing.import_rows(
        [{"url": "https://tube.example.net/v/refused", "category": category, "legal_route": route}],
        agency=artist.agency,
        artist=artist,
    )
    (error,) = report.errors
    assert (error.field, category in error.message) == ("legal_route", True)

    # A row stored on that route by other means is left out of drafting...
    url = _url(artist, category=category, route=legal.default_route(tube, category))
    InfringingURL.objects.filter(pk=url.pk).update(legal_route=route)
    assert notices.notices_prepare(user=staff, url_ids=[url.pk]) == ([], 1)
    # ...and a draft holding it is refused before sending, naming the URL and its category.
    notice = notices.notice_create(user=staff, artist_id=artist.pk, platform_id=tube.pk, legal_route=route)
    NoticeItem.objects.create(notice=notice, url=url)
    refusal = next(p for p in notices.presend_problems(notice) if url.normalized_url in p)
    assert category in refusal and "cannot carry" in refusal


@pytest.mark.parametrize("route", sorted({r for r, _c, _l in CARRIED}))
def test_it_claims_no_authority_that_is_not_on_file(route, artist, staff, tube, work, templates):
    category = next(c for r, c, _l in CARRIED if r == route)
    about_work = legal.item_about_work(route, category)
    url = _url(artist, category=category, route=route, work=work if about_work else None)
    artist.authorizations.all().delete()
    # The agency's own rights would be authority enough for a work: someone else owns this one.
    RightsRecord.objects.filter(pk=work.pk).update(
        owner="Another Label", owner_kind=RightsRecord.OwnerKind.OTHER
    )
    notice = _notice(staff, url, "en")
    for locale in [locale for locale in ("en", "ko") if (route, locale) in SHIPPED]:
        Notice.objects.filter(pk=notice.pk).update(locale=locale)
        notice.refresh_from_db()
        assert any(url.normalized_url in p for p in notices.presend_problems(notice))
        with pytest.raises(notices.PresendFailed):
            notices.notice_submit(notice_id=notice.pk, user=staff)
        _context, text = _render(notice)
        if route != LegalRoute.DMCA:  # DMCA's statement under penalty of perjury is the statute's own
            for phrase in AUTHORITY_PHRASES[locale]:
                assert phrase not in text, (locale, phrase)


@pytest.mark.parametrize(
    "route", [LegalRoute.DMCA, LegalRoute.KR_COPYRIGHT, LegalRoute.DSA, LegalRoute.PLATFORM_POLICY]
)
def test_it_claims_no_right_that_is_not_recorded(route, artist, staff, tube, templates):
    url = _url(artist, category=Category.COPYRIGHT, route=route)
    notice = _notice(staff, url, "en")

    problems = notices.presend_problems(notice)
    assert any(url.normalized_url in p and "names no work" in p for p in problems)
    context, text = _render(notice)
    assert context["works"] == [] and context["items"][0]["work"] is None
    if route not in legal.WORK_ROUTES:  # the work routes' statutory wording names the work
        for phrase in ("copyrighted work", "exclusive right", "work copied", "rights are held by"):
            assert phrase not in text.casefold()


def test_it_prints_a_hash_only_from_a_conclusive_check_with_its_date_and_status(
    artist, staff, tube, templates
):
    now = timezone.now()
    urls = {
        name: _url(artist, category=Category.IMPERSONATION, route=LegalRoute.PLATFORM_POLICY, n=n)
        for n, name in enumerate(("live", "removed", "unchecked"), start=1)
    }
    # The live item: seen live, then a challenge page since (the later inconclusive check does not count).
    URLCheck.objects.create(
        url=urls["live"],
        verdict=Verdict.LIVE,
        http_status=200,
        body_sha256="a" * 64,
        checked_at=now - timedelta(days=2),
    )
    URLCheck.objects.filter(url=urls["live"], verdict=Verdict.INCONCLUSIVE).update(checked_at=now)
    # A 404 page's digest says nothing about the item.
    URLCheck.objects.create(
        url=urls["removed"], verdict=Verdict.REMOVED, http_status=404, body_sha256="b" * 64
    )
    (notice,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)

    context, text = _render(notice)
    live, removed, unchecked = legal.item_sections(text, [i["url"] for i in context["items"]])
    checked_on = timezone.localtime(now - timedelta(days=2)).date().isoformat()
    assert f"Checked {checked_on}: HTTP 200, live; SHA-256 of the page as retrieved: {'a' * 64}" in live
    assert "HTTP 404, removed." in removed and "b" * 64 not in text
    assert "Not yet checked by us." in unchecked
    assert CHALLENGE_SHA not in text


def test_it_names_a_designated_agent_only_when_the_channel_is_one(artist, staff, tube, work, templates):
    url = _url(artist, category=Category.COPYRIGHT, route=LegalRoute.DMCA, work=work)
    notice = _notice(staff, url, "en")
    assert "Designated Agent" not in _render(notice)[1]

    tube.channels["dmca"]["designated_agent"] = True
    tube.channels["dmca"]["source"] = "https://www.copyright.gov/dmca-directory/"
    tube.full_clean()
    tube.save()
    notice.refresh_from_db()
    assert "Designated Agent under 17 U.S.C. § 512(c)(2)" in _render(notice)[1]
    tube.channels["platform_policy"]["designated_agent"] = True
    with pytest.raises(Exception, match="only a DMCA channel"):
        tube.full_clean()


def test_it_names_the_member_a_group_item_depicts_never_the_group(agency, staff, tube, templates):
    from takedown.models import Artist

    group = Artist.objects.create(
        agency=agency, name="STELLA-9", name_ko="스텔라나인", slug="stella-9", is_group=True
    )
    member = Authorization.objects.create(
        artist=group,
        person_name="Yerin Moon",
        person_name_ko="문예린",
        scope="Removal requests.",
        routes=[LegalRoute.TAKE_IT_DOWN],
        valid_from=date(2025, 1, 1),
    )
    url = _url(group, category=Category.SYNTHETIC_SEXUAL, route=LegalRoute.TAKE_IT_DOWN)
    notice = _notice(staff, url, "en")
    assert any("is a group" in p for p in notices.presend_problems(notice))

    InfringingURL.objects.filter(pk=url.pk).update(depicted_person=member)
    assert notices.presend_problems(notice) == []
    _context, text = _render(notice)
    (section,) = legal.item_sections(text, [url.normalized_url])
    assert "Individual depicted: Yerin Moon." in section
    assert "STELLA-9" not in section and "Individual depicted: STELLA-9" not in text


def test_it_asks_for_the_facts_of_an_authentic_image_on_take_it_down(artist, staff, tube, templates):
    url = _url(artist, category=Category.REAL_INTIMATE, route=LegalRoute.TAKE_IT_DOWN)
    InfringingURL.objects.filter(pk=url.pk).update(notice_facts="")
    notice = _notice(staff, url, "en")
    assert any("223a(a)(1)(B)(iii)" in p for p in notices.presend_problems(notice))

    InfringingURL.objects.filter(pk=url.pk).update(
        notice_facts="Posted on 2026-11-02 by a former acquaintance."
    )
    _context, text = _render(notice)
    (section,) = legal.item_sections(text, [url.normalized_url])
    assert "Facts: Posted on 2026-11-02 by a former acquaintance." in section
    # Consent is about publication for real imagery; creation only for synthetic imagery.
    assert "published without the consent of Luna Kang" in section and "creation" not in section


def test_it_refuses_what_a_route_or_its_language_lacks(agency, artist, staff, tube, templates):
    url = _url(artist, category=Category.PRIVACY, route=LegalRoute.KR_NETWORK)
    notice = _notice(staff, url, "ko")
    agency.signatory_name_ko = ""
    agency.save()
    notice.refresh_from_db()
    assert any("Korean forms" in p for p in notices.presend_problems(notice))

    dsa_url = _url(artist, category=Category.PRIVACY, route=LegalRoute.DSA, n=2)
    agency.dsa_member_state = ""
    agency.save()
    dsa = _notice(staff, dsa_url, "en")
    assert any("Member State" in p for p in notices.presend_problems(dsa))


def test_it_sends_each_route_to_its_own_channel_or_says_why_not(
    agency, artist, staff, legal, platforms, templates
):
    from tests.notices_setup import file_documents

    # Telegram takes copyright by its own address, not abuse@: delivery sends to the route's channel.
    work = RightsRecord.objects.create(artist=artist, title="Moonlit Stage", owner=agency.name)
    (tg,) = _import(artist, "https://t.me/leakchan/5", Category.COPYRIGHT)
    InfringingURL.objects.filter(pk=tg.pk).update(work=work)
    (dmca,), _ = notices.notices_prepare(user=staff, url_ids=[tg.pk])
    assert dmca.legal_route == LegalRoute.DMCA and dmca.route_channel.email == "dmca@telegram.org"
    assert notices.presend_problems(dmca) == []
    notices.notice_submit(notice_id=dmca.pk, user=staff)
    notices.notice_approve(notice_id=dmca.pk, user=legal)
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend"):
        sending = notices.notice_send(notice_id=dmca.pk, user=legal)
    assert sending.status == "sending" and sending.recipient == "dmca@telegram.org"

    # Naver's rights centre asks for the authorization's documents; they are listed once uploaded.
    (naver,) = _import(artist, "https://blog.naver.com/someone/223344556677", Category.PRIVACY)
    (notice,), _ = notices.notices_prepare(user=staff, url_ids=[naver.pk])
    assert notice.legal_route == LegalRoute.KR_NETWORK
    assert any("upload" in p for p in notices.presend_problems(notice))
    file_documents(artist, legal)
    assert notices.presend_problems(notice) == []
    text = notices.notice_submit(notice_id=notice.pk, user=staff).rendered_text
    assert "첨부서류" in text and "위임장 1부" in text and "신분증 사본" in text


def _import(artist, url, category):
    report = importing.import_rows([{"url": url, "category": category}], agency=artist.agency, artist=artist)
    assert report.rejected == 0, report.errors
    return list(InfringingURL.objects.filter(artist=artist).order_by("-pk")[:1])
