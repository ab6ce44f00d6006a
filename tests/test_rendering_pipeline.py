"""The whole render of a notice (rendering.notice_render): text, the elements its legal
route requires, PDF. Pure: no database.
"""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from takedown import rendering
from takedown.rendering import MissingElements, NoticeRender, TemplateError, notice_render

DEFAULTS = {(t.route, t.locale): t for t in rendering.load_default_templates()}
AUTHOR = "Starlight Entertainment"


def render(route: str, locale: str, *, body: str | None = None, **kwargs) -> NoticeRender:
    template = DEFAULTS[(route, locale)]
    return notice_render(
        subject=template.subject,
        body=template.body if body is None else body,
        context=rendering.sample_context(locale, route),
        author=AUTHOR,
        lang=locale,
        **kwargs,
    )


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def without_perjury(route: str = "dmca", locale: str = "en") -> str:
    body = DEFAULTS[(route, locale)].body
    assert "under penalty of perjury" in body
    return body.replace("under penalty of perjury", "honestly")


def test_it_renders_a_default_template_to_text_and_a_pdf():
    context = rendering.sample_context("en", "dmca")

    result = render("dmca", "en")

    assert result.rendered == rendering.render_notice(
        DEFAULTS[("dmca", "en")].subject, DEFAULTS[("dmca", "en")].body, context
    )
    assert result.pdf.startswith(b"%PDF-")
    assert result.pdf_sha256 == rendering.sha256_hex(result.pdf)
    reader = PdfReader(io.BytesIO(result.pdf))
    assert reader.metadata.title == result.rendered.subject
    assert reader.metadata.author == AUTHOR
    text = re.sub(r"\s+", "", pdf_text(result.pdf))
    assert "N-2026-000123" in text
    for item in context["items"]:
        assert item["url"] in text


def test_it_renders_the_same_bytes_for_the_same_input():
    first, second = render("kr_tba_22_5", "ko"), render("kr_tba_22_5", "ko")

    assert first.pdf == second.pdf
    assert first.pdf_sha256 == second.pdf_sha256


def test_it_names_the_required_element_missing_from_the_rendering():
    with pytest.raises(MissingElements) as caught:
        render("dmca", "en", body=without_perjury())

    assert caught.value.missing == ["perjury_accuracy"]
    assert (caught.value.route, caught.value.locale) == ("dmca", "en")
    assert "Accuracy statement and authority under penalty of perjury" in str(caught.value)
    assert "expected wording" in str(caught.value)
    assert isinstance(caught.value, TemplateError)


def test_it_checks_the_wording_of_the_notices_own_language():
    template = DEFAULTS[("kr_tba_22_5", "ko")]
    context = rendering.sample_context("en", "kr_tba_22_5")

    with pytest.raises(MissingElements):
        notice_render(subject=template.subject, body=template.body, context=context, author=AUTHOR, lang="ko")


def test_it_renders_a_preview_with_elements_missing():
    result = render("dmca", "en", body=without_perjury(), preview=True)

    assert result.pdf.startswith(b"%PDF-")
    assert "perjury" not in result.rendered.text


def test_it_refuses_a_template_with_the_same_rule_when_it_is_saved():
    template = DEFAULTS[("dmca", "en")]

    with pytest.raises(MissingElements) as caught:
        rendering.validate_template(template.subject, without_perjury(), route="dmca", locale="en")

    assert caught.value.missing == ["perjury_accuracy"]


def test_it_stops_a_pdf_past_its_bounds():
    body = '{% for i in range(3) %}<p style="break-after: page">page {{ i }}</p>{% endfor %}'

    with pytest.raises(rendering.PdfLimitExceeded, match="more than 2 pages"):
        render("dmca", "en", body=body, preview=True, limits=rendering.PdfLimits(max_pages=2))
