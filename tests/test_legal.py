"""The law as data (takedown/legal.py): which items each route may carry and where an item
goes by default, each route's elements per item, its clock, and the Korean wording rules."""

from __future__ import annotations

import importlib
import re
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from takedown import legal, notices, rendering
from takedown.choices import Category, LegalRoute, URLStatus
from takedown.models import InfringingURL, Platform

DEFAULTS = {(t.route, t.locale): t for t in rendering.load_default_templates()}
KOREAN_TEMPLATES = sorted(key for key in DEFAULTS if key[1] == "ko")

SYN, REAL, IMP, PRIV, COPY = (
    Category.SYNTHETIC_SEXUAL.value,
    Category.REAL_INTIMATE.value,
    Category.IMPERSONATION.value,
    Category.PRIVACY.value,
    Category.COPYRIGHT.value,
)
# DESIGN.md, "Which items a route may carry" (Art. 44-2 also takes authentic intimate imagery:
# it is a 사생활 침해, which the article names).
CARRIES = {
    "dmca": {SYN, REAL, IMP, PRIV, COPY},
    "kr_copyright_103": {SYN, REAL, IMP, PRIV, COPY},
    "take_it_down": {SYN, REAL},
    "dsa": {SYN, REAL, IMP, PRIV, COPY},
    "kr_tba_22_5": {SYN, REAL},
    "kr_network_44_2": {SYN, REAL, IMP, PRIV},
    "platform_policy": {SYN, REAL, IMP, PRIV, COPY},
}


def test_it_knows_what_each_route_may_carry_and_why():
    for route in LegalRoute.values:
        rule = legal.route_rule(route)
        assert set(rule.carries) == CARRIES[route], route
        assert rule.source and rule.about, route
        for category in Category.values:
            assert legal.may_carry(route, category) is (category in CARRIES[route])
    assert legal.route_rule("dmca").needs_work and legal.route_rule("kr_copyright_103").needs_work
    assert "impersonation" in legal.carry_refusal("take_it_down", "impersonation")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("platform", "category", "route"),
    [
        ("x", SYN, "take_it_down"),
        ("x", REAL, "take_it_down"),
        ("x", IMP, "platform_policy"),  # never "an intimate visual depiction"
        ("x", COPY, "dmca"),
        ("naver", SYN, "kr_tba_22_5"),
        ("naver", PRIV, "kr_network_44_2"),
        ("naver", IMP, "kr_network_44_2"),
        ("naver", COPY, "kr_copyright_103"),  # never the Network Act, never a deepfake accusation
        ("daum_kakao", COPY, "kr_copyright_103"),
        ("youtube", SYN, "platform_policy"),
        ("youtube", COPY, "dmca"),
        ("telegram", COPY, "dmca"),
        ("reddit", COPY, "platform_policy"),  # no sourced copyright channel
        ("cloudflare", SYN, "platform_policy"),  # its NCSEI category, not DMCA
        ("dcinside", SYN, "platform_policy"),  # no channel at all: the policy route, refused before sending
        (None, COPY, "platform_policy"),
    ],
)
def test_it_defaults_the_route_from_the_platform_and_the_category(platforms, platform, category, route):
    chosen = legal.default_route(platforms[platform] if platform else None, category)
    assert chosen == route
    assert legal.may_carry(chosen, category)
    assert chosen != "dsa"  # asserting a Member State's law is a deliberate choice


@pytest.mark.django_db
def test_it_gives_every_registry_channel_a_source_and_no_false_designated_agent(platforms):
    for platform in platforms.values():
        platform.full_clean()
        for route in LegalRoute.values:
            channel = platform.channel_for(route)
            if channel is None:
                continue
            assert channel.source.startswith("http"), (platform.slug, route)
            assert not channel.designated_agent, (platform.slug, route)
        # Delivery uses the platform's own channel: it is its default route's.
        default = platform.channel_for(platform.default_route)
        if default is not None:
            assert (default.kind, default.address) == (
                platform.channel_kind,
                platform.channel_email or platform.channel_url,
            ), platform.slug


def test_it_grounds_every_dsa_item_in_a_named_member_states_provision():
    for code, state in legal.DSA_MEMBER_STATES.items():
        assert set(state.grounds) == set(Category.values), code
        for ground in state.grounds.values():
            assert ground.provision and ground.source_url.startswith("https://"), ground
    assert "226-8-1" in legal.item_ground("dsa", SYN, member_state="FR").provision
    assert "226-2-1" in legal.item_ground("dsa", REAL, member_state="FR").provision
    assert legal.item_ground("dsa", SYN, member_state="") is None


def test_it_keeps_each_routes_clock_as_the_law_says():
    clocks = legal.ROUTE_CLOCKS
    assert set(clocks) == set(LegalRoute.values)
    assert clocks["take_it_down"].statutory_hours == 48 and "223a(a)(3)" in clocks["take_it_down"].rule
    assert clocks["dmca"].restore_business_days == (10, 14)
    assert all(clocks[r].restore_business_days is None for r in LegalRoute.values if r != "dmca")
    assert clocks["kr_network_44_2"].recheck_days == (30,)
    # The statute says 지체 없이: 24 h is ours, and says so.
    assert clocks["kr_tba_22_5"].statutory_hours is None and clocks["kr_tba_22_5"].target_hours == 24
    assert "internal target" in legal.deadline_basis("kr_tba_22_5")
    assert legal.deadline_basis("take_it_down").startswith("statutory")
    assert legal.deadline_basis("take_it_down", 48).startswith("statutory")
    assert "internal" in legal.deadline_basis("dmca")


@pytest.mark.parametrize(
    "route",
    sorted(
        {
            code
            for code, reqs in legal.ROUTE_REQUIREMENTS.items()
            if any(r.item_keys or r.item_markers for r in reqs)
        }
    ),
)
def test_it_wants_each_items_elements_beside_the_item_not_once_as_boilerplate(route):
    locale = "en"
    template = DEFAULTS[(route, locale)]
    context = rendering.sample_context(locale, route)
    text = rendering.render_notice(template.subject, template.body, context).text
    assert legal.missing_from_text(route, locale, text, context) == []
    urls = [item["url"] for item in context["items"]]

    # The same words, with the URLs moved to a bare list at the end: every statement is still
    # there, but once, as boilerplate, and no item has its own.
    for url in urls:
        text = text.replace(url, "")
    boilerplate = text + "\n\n" + "\n\n".join(urls) + "\n"

    per_item = {r.code for r in legal.requirements_for(route) if r.item_keys or r.item_markers}
    assert per_item <= set(legal.missing_from_text(route, locale, boilerplate, context))


# -- Korean wording ------------------------------------------------------------------------

PARTICLE_PLACEHOLDERS = (
    "은(는)",
    "는(은)",
    "이(가)",
    "가(이)",
    "을(를)",
    "를(을)",
    "와(과)",
    "과(와)",
    "(으)로",
)
JOSA = "(?:은|는|이|가|을|를|와|과|으로|로)"


def _korean(route: str, *, person_ko: str, agency_ko: str) -> tuple[dict, str]:
    context = rendering.sample_context("ko", route)
    context["agency"]["name_ko"] = agency_ko
    for auth in context["authorizations"]:
        auth["person_ko"] = person_ko
    for item in context["items"]:
        if item["person"]:
            item["person"]["name_ko"] = person_ko
    template = DEFAULTS[(route, "ko")]
    return context, rendering.render_notice(template.subject, template.body, context).text


@pytest.mark.parametrize(("route", "locale"), KOREAN_TEMPLATES, ids=[r for r, _l in KOREAN_TEMPLATES])
# A name ending in a vowel and one ending in a consonant: the particle after a name differs.
@pytest.mark.parametrize(
    ("person_ko", "agency_ko"), [("이하나", "스타라이트 엔터테인먼트"), ("김민준", "별빛음악")]
)
def test_it_writes_korean_as_a_representative_would(route, locale, person_ko, agency_ko):
    context, text = _korean(route, person_ko=person_ko, agency_ko=agency_ko)

    # The sender is 요청인, and only that; the victim is named, never "본인" signed by the agency.
    assert "요청인" in text and "신고인" not in text
    assert "본인" not in text
    for placeholder in PARTICLE_PLACEHOLDERS:
        assert placeholder not in text
    # No particle is glued to a name that varies: its form would depend on the name.
    for name in (person_ko, agency_ko, context["signatory"]["name_ko"]):
        assert not re.search(re.escape(name) + JOSA + r"(?![가-힣])", text), name
    # Signed in Korean: the signatory's Korean title and name, not the English ones.
    signature = text[text.rindex("(서명)") - 80 : text.rindex("(서명)")]
    assert f"{context['signatory']['title_ko']} {context['signatory']['name_ko']}" in signature
    assert context["signatory"]["name"] not in signature and context["signatory"]["title"] not in signature
    if route != LegalRoute.KR_COPYRIGHT:
        assert f"피해자 {person_ko}" in text


def test_it_describes_both_sexual_crimes_act_articles_with_their_element():
    context, text = _korean("kr_tba_22_5", person_ko="이하나", agency_ko="스타라이트")
    sections = legal.item_sections(text, [item["url"] for item in context["items"]])
    for item, section in zip(context["items"], sections, strict=True):
        assert "성적 욕망 또는 수치심을 유발할 수 있는" in section, item["category"]
        assert ("제14조의2" in section) is (item["category"] == SYN)
    english = DEFAULTS[("kr_tba_22_5", "en")]
    en_context = rendering.sample_context("en", "kr_tba_22_5")
    en_text = rendering.render_notice(english.subject, english.body, en_context).text
    assert "illegally filmed or falsified material" in en_text
    assert en_text.count("may cause sexual desire or shame") == 2


def test_it_asks_at_least_for_a_temporary_measure_and_looks_again_at_day_30():
    _context, text = _korean("kr_network_44_2", person_ko="이하나", agency_ko="스타라이트")
    assert "최소한 같은 조 제4항에 따른 임시조치" in text and "30일이 되는 날" in text
    english = DEFAULTS[("kr_network_44_2", "en")]
    en_text = rendering.render_notice(
        english.subject, english.body, rendering.sample_context("en", "kr_network_44_2")
    ).text
    assert "at least a temporary measure" in en_text and "30 days after sending" in en_text


@pytest.mark.django_db
def test_it_checks_a_network_act_url_again_at_day_30(artist, platforms):
    import random

    from takedown.rechecks import next_check_at

    sent = timezone.now() - timedelta(days=26)
    url = InfringingURL(
        artist=artist,
        url="https://blog.naver.com/someone/1",
        normalized_url="https://blog.naver.com/someone/1",
        host="blog.naver.com",
        category=PRIV,
        legal_route=LegalRoute.KR_NETWORK,
        status=URLStatus.SOFT_REMOVED,
        notified_at=sent,
    )
    when = next_check_at(url, timezone.now(), None, random.Random(1))
    assert when == sent + timedelta(days=30, hours=1)
    url.legal_route = LegalRoute.PLATFORM_POLICY
    assert next_check_at(url, timezone.now(), None, random.Random(1)) != sent + timedelta(days=30, hours=1)


@pytest.mark.django_db
def test_it_keeps_the_dmca_restore_window_and_none_elsewhere(
    agency, artist, staff, legal, platforms, templates
):
    from takedown.models import Notice, RightsRecord
    from tests.notices_setup import approve, import_urls

    work = RightsRecord.objects.create(artist=artist, title="Moonlit Stage", owner=agency.name)
    (url,) = import_urls(agency, artist, ["https://www.youtube.com/watch?v=abcDEF12345"], category=COPY)
    InfringingURL.objects.filter(pk=url.pk).update(work=work)
    (draft,), _ = notices.notices_prepare(user=staff, artist_id=artist.pk)
    assert draft.legal_route == "dmca"
    approve(draft, staff, legal)
    notice = notices.mark_sent(
        Notice.objects.get(pk=draft.pk), user=legal, sent_at=timezone.now(), reason="t"
    )
    counter = notices.notice_record_counter(
        notice_id=notice.pk,
        user=legal,
        received_at=timezone.make_aware(datetime(2026, 11, 20, 9)),
        summary="Uploader claims a licence",
    )
    assert (counter.restore_earliest, counter.restore_latest) == (date(2026, 12, 4), date(2026, 12, 10))


@pytest.mark.django_db
def test_it_moves_open_urls_off_a_route_that_cannot_carry_them_when_migrating(artist, platforms):
    from django.apps import apps

    migration = importlib.import_module("takedown.migrations.0011_route_truth")
    x = platforms["x"]
    url = InfringingURL.objects.create(
        artist=artist,
        url="https://x.com/someone/status/1",
        normalized_url="https://x.com/i/status/1",
        host="x.com",
        platform=x,
        category=IMP,
        legal_route=LegalRoute.TAKE_IT_DOWN,
    )
    sent = InfringingURL.objects.create(
        artist=artist,
        url="https://x.com/someone/status/2",
        normalized_url="https://x.com/i/status/2",
        host="x.com",
        platform=x,
        category=IMP,
        legal_route=LegalRoute.TAKE_IT_DOWN,
        status=URLStatus.NOTIFIED,
    )
    Platform.objects.filter(pk=x.pk).update(channels={})

    migration.channels_and_routes(apps, None)

    url.refresh_from_db()
    sent.refresh_from_db()
    assert url.legal_route == "platform_policy"
    assert sent.legal_route == "take_it_down"  # it went out as it was
    assert Platform.objects.get(pk=x.pk).channels["take_it_down"]["kind"] == "webform"
