"""Nothing past the page edge: every glyph of every default notice, in English and Korean,
lies inside its page, however long the URLs, names, work titles and evidence lines.

The positions are read back from the PDF itself (tests/pdfglyphs.py), not from the HTML.
Pure rendering: no database.
"""

from __future__ import annotations

import pytest

from takedown import rendering
from tests.pdfglyphs import glyphs, glyphs_outside

DEFAULTS = rendering.load_default_templates()
# Printers cannot print the outermost few millimetres of a sheet.
INSET_POINTS = 3 * 72 / 25.4


def unbroken(prefix: str, length: int) -> str:
    """A word with no break opportunity except the ones overflow-wrap makes."""
    return (prefix + "x" * length)[:length]


def long_context(locale: str, route: str) -> dict:
    context = rendering.sample_context(locale, route)
    hangul = "가나다라마바사아자차카타파하" * 12  # no spaces: one 168-syllable word
    context["agency"].update(
        name="Starlight" + "Entertainment" * 12,
        name_ko="스타라이트" + hangul,
        address="12Example-ro" + "-Gangnam-gu" * 20,
        email="legal." + "department" * 15 + "@starlight.example.com",
        phone="+82" + "0" * 120,
        website="https://starlight.example.com/" + "about/" * 40,
    )
    context["signatory"].update(
        name="Minji" + "Park" * 40,
        title="HeadOfLegalAffairs" * 10,
        email="minji." + "park" * 40 + "@starlight.example.com",
    )
    context["artist"].update(
        name="Hana" + "Lee" * 50, name_ko="이하나" + hangul, aliases=["HANA" * 60, hangul]
    )
    context["platform"].update(
        name="ExampleTube" * 15,
        channel_url="https://tube.example.com/legal/report?" + "form=privacy&" * 40,
        channel_email="abuse." + "copyright" * 20 + "@tube.example.com",
    )
    work = {
        **context["works"][0],
        "title": "Moonrise" + "(OfficialMusicVideo)" * 20,
        "description": "MusicVideoFirstPublished2025-03-14" * 10,
        "url": "https://starlight.example.com/works/" + "moonrise-" * 250,
        "owner": "Starlight" + "Entertainment" * 12,
        "registration": "C-2025-" + "0" * 100,
    }
    context["works"] = [work]
    person = {"name": "Hana" + "Lee" * 50, "name_ko": "이하나" + hangul}
    context["authorizations"] = [
        {**context["authorizations"][0], "person": person["name"], "person_ko": person["name_ko"]}
    ]
    context["authorities"] = [{**a, "holder": person["name"]} for a in context["authorities"]]
    context["channel"].update(
        label="LegalReportForm" * 20, address="https://tube.example.com/" + "form/" * 60
    )
    context["items"] = [
        {
            **item,
            "url": "https://files.example.net/u/anon123/" + "leak_2026-05-19_" * 125 + ".mp4",
            "category_label": "Synthetic" * 20,
            "title": "t" * 400,
            "evidence": {
                "checked": True,
                "date": "2026-05-19",
                "http_status": 200,
                "verdict": "live",
                "verdict_label": "Live",
                "sha256": "9f2c8e1d4b7a6c5e" * 4,
            },
            "work": work if item["work"] else None,
            "person": person if item["person"] else None,
            "facts": "Facts" * 100,
        }
        for item in context["items"]
    ]
    context["notice"]["reference"] = "N-2026-" + "0" * 150
    return context


def render(template: rendering.DefaultTemplate, context: dict) -> bytes:
    rendered = rendering.render_notice(template.subject, template.body, context)
    return rendering.render_pdf(
        rendered, title=rendered.subject, author="Starlight", lang=template.locale, context=context
    )


def test_it_finds_glyphs_past_the_edge_when_a_word_cannot_wrap():
    # Control: the reader sees a URL that runs off the page, so the tests below can fail.
    body = '<p style="overflow-wrap: normal">' + unbroken("https://example.net/", 600) + "</p>"
    pdf = rendering.render_pdf(
        rendering.render_notice("s", body, rendering.SAMPLE_CONTEXT), title="t", author="a", lang="en"
    )

    outside = glyphs_outside(pdf, inset=INSET_POINTS)

    assert len(outside) > 300
    assert max(glyph.x1 for glyph in outside) > 2000  # points: far past the 595-point A4 width


def test_it_places_a_short_notice_inside_its_margins():
    template = next(t for t in DEFAULTS if (t.route, t.locale) == ("dmca", "en"))
    pdf = render(template, rendering.sample_context("en", "dmca"))
    placed = list(glyphs(pdf))

    assert len(placed) > 1000
    # The body sits between the 18 mm side margins, within a point.
    margin = 18 * 72 / 25.4
    assert min(glyph.x0 for glyph, _ in placed) >= margin - 1
    assert max(glyph.x1 for glyph, _ in placed) <= 595.28 - margin + 1


@pytest.mark.parametrize("template", DEFAULTS, ids=lambda t: f"{t.route}.{t.locale}")
def test_it_keeps_every_glyph_of_a_notice_with_long_words_inside_the_page(template):
    context = long_context(template.locale, template.route)

    pdf = render(template, context)

    placed = list(glyphs(pdf))
    assert len(placed) > 3000  # the long values are there, not dropped
    assert glyphs_outside(pdf, inset=INSET_POINTS) == []


def test_it_wraps_a_long_url_in_a_list_written_in_a_template():
    body = (
        "<ul><li>" + unbroken("https://example.net/watch?v=", 900) + "</li></ul>"
        "<ol><li><a href='https://example.net/'>" + unbroken("https://example.com/", 500) + "</a></li></ol>"
        "<p>증거 " + "가나다라마바사" * 60 + "</p><pre>" + unbroken("sha256:", 400) + "</pre>"
        "<table><tr><td>" + unbroken("https://example.net/t/", 700) + "</td><td>x</td></tr></table>"
    )
    pdf = rendering.render_pdf(
        rendering.render_notice("s", body, rendering.SAMPLE_CONTEXT), title="t", author="a", lang="ko"
    )

    assert glyphs_outside(pdf, inset=INSET_POINTS) == []
