"""Notice rendering: sandboxed templates, default templates per legal route, the print
layout, PDF output and its fetcher. Pure functions: no database.

Run alone with: .venv/bin/python -m pytest tests/test_rendering.py -q -p no:django
"""

from __future__ import annotations

import io
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from weasyprint import HTML

from takedown import legal, rendering
from takedown.choices import LegalRoute, Locale
from takedown.rendering import (
    SAMPLE_CONTEXT,
    LocalAssetFetcher,
    RenderedNotice,
    TemplateError,
    render_notice,
    render_pdf,
    validate_template,
)
from takedown.rendering.sandbox import MAX_RENDER_SECONDS

DEFAULTS = rendering.load_default_templates()


def squeeze(text: str) -> str:
    """Text without whitespace: a PDF wraps long URLs across lines."""
    return re.sub(r"\s+", "", text)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def pdf_image_count(pdf: bytes) -> int:
    count = 0
    for page in PdfReader(io.BytesIO(pdf)).pages:
        xobjects = page.get("/Resources", {}).get("/XObject", {})
        count += sum(1 for ref in xobjects.values() if ref.get_object().get("/Subtype") == "/Image")
    return count


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_of(body: str, **kwargs) -> bytes:
    rendered = render_notice("Subject", body, SAMPLE_CONTEXT)
    return render_pdf(rendered, title="Test", author="Tester", lang="en", **kwargs)


# -- default templates -------------------------------------------------------------------


def test_it_ships_english_for_every_route_and_korean_for_the_korean_routes():
    shipped = {(t.route, t.locale) for t in DEFAULTS}
    expected = {(route.value, Locale.EN.value) for route in LegalRoute} | {
        (route.value, Locale.KO.value)
        for route in (LegalRoute.KR_TBA, LegalRoute.KR_NETWORK, LegalRoute.PLATFORM_POLICY)
    }
    assert expected <= shipped


@pytest.mark.parametrize("template", DEFAULTS, ids=[t.path.name for t in DEFAULTS])
def test_it_renders_every_default_template_with_every_required_element(template):
    context = rendering.sample_context(template.locale, template.route)

    rendered = render_notice(template.subject, template.body, context)

    assert legal.missing_from_text(template.route, template.locale, rendered.text, context) == []
    validate_template(template.subject, template.body, route=template.route, locale=template.locale)
    assert rendered.subject and "\n" not in rendered.subject
    for item in context["items"]:
        assert item["url"] in rendered.text
        assert item["body_sha256"] in rendered.text
    assert context["artist"]["name"] in rendered.text
    if template.locale == Locale.KO:
        assert context["artist"]["name_ko"] in rendered.text


def test_it_finds_a_required_element_missing_from_a_rendering():
    template = next(t for t in DEFAULTS if (t.route, t.locale) == ("dmca", "en"))
    body = template.body.replace("under penalty of perjury", "honestly")

    with pytest.raises(TemplateError, match="perjury"):
        validate_template(template.subject, body, route="dmca", locale="en")


def test_it_finds_a_url_missing_from_a_rendering():
    context = rendering.sample_context("en", "dsa")
    template = next(t for t in DEFAULTS if (t.route, t.locale) == ("dsa", "en"))
    rendered = render_notice(template.subject, template.body, context)
    context["items"].append({**context["items"][0], "url": "https://tube.example/not-in-the-notice"})

    # The URL is missing, and so is that item's own legal ground (nothing of it is in the text).
    assert legal.missing_from_text("dsa", "en", rendered.text, context) == [
        "illegality_explanation",
        "infringing_urls",
    ]


# -- legal.py ----------------------------------------------------------------------------


def test_it_says_which_elements_the_context_lacks():
    context = rendering.sample_context("en", "dmca")
    context["signatory"] = {"name": "", "title": "", "email": "", "phone": ""}
    context["works"] = []

    assert legal.missing_elements("dmca", context) == ["signature", "copyrighted_work"]
    assert "rights record" in " ".join(legal.describe("dmca", ["copyrighted_work"]))
    assert legal.missing_elements("dmca", rendering.sample_context("en", "dmca")) == []


def test_it_requires_a_signatory_and_contact_on_every_route():
    context = rendering.sample_context("en")
    del context["signatory"]
    del context["agency"]["email"]

    for route in LegalRoute:
        missing = legal.missing_elements(route, context)
        assert missing, route
        assert {"signature", "notifier_identity", "contact"} & set(missing), route


def test_it_knows_each_routes_deadline():
    assert legal.ROUTE_DEADLINE_HOURS["take_it_down"] == 48
    assert legal.ROUTE_DEADLINE_HOURS["kr_tba_22_5"] == 24
    assert legal.ROUTE_DEADLINE_HOURS["dmca"] is None
    assert legal.ROUTE_DEADLINE_HOURS["dsa"] is None
    assert set(legal.ROUTE_DEADLINE_HOURS) == set(legal.ROUTE_REQUIREMENTS) == set(LegalRoute.values)


# -- rendering ---------------------------------------------------------------------------


def test_it_escapes_data_and_produces_text_without_markup():
    context = rendering.sample_context()
    context["agency"]["name"] = "Smith & <b>Co</b>"

    rendered = render_notice(
        "Notice from {{ agency.name }}",
        "<h1>Notice</h1><p>From {{ agency.name }}</p>"
        "<table><tr><th>URL</th><th>Date</th></tr>"
        "{% for item in items %}<tr><td>{{ item.url }}</td><td>{{ item.discovered_at }}</td></tr>"
        "{% endfor %}</table><ul><li>one</li><li>two</li></ul>",
        context,
    )

    assert "Smith &amp; &lt;b&gt;Co&lt;/b&gt;" in rendered.html
    assert rendered.subject == "Notice from Smith & <b>Co</b>"
    assert rendered.text.splitlines() == [
        "Notice",
        "",
        "From Smith & <b>Co</b>",
        "",
        "URL | Date",
        *(f"{item['url']} | {item['discovered_at']}" for item in context["items"]),
        "",
        "- one",
        "- two",
    ]


def test_it_refuses_a_context_that_is_not_plain_data():
    from datetime import date

    context = rendering.sample_context()
    context["notice"]["date"] = date(2026, 5, 20)

    with pytest.raises(TypeError, match=r"context\['notice'\]\['date'\] is a date"):
        render_notice("s", "{{ notice.date }}", context)


def test_it_reports_a_syntax_error_with_its_line():
    with pytest.raises(TemplateError, match=r"Body, line 3: syntax error"):
        validate_template("Subject", "<p>one</p>\n<p>two</p>\n{% for x in %}\n")


def test_it_reports_an_undefined_name_by_name():
    with pytest.raises(TemplateError, match=r"Body, line 2: undefined name 'agnecy'"):
        validate_template("Subject", "<p>ok</p>\n<p>{{ agnecy.name }}</p>")
    with pytest.raises(TemplateError, match=r"Subject, line 1: undefined field 'emial'"):
        validate_template("Notice {{ agency.emial }}", "<p>ok</p>")


def test_it_refuses_an_empty_subject():
    with pytest.raises(TemplateError, match="subject is empty"):
        validate_template("{{ '' }}", "<p>ok</p>")


CANARY_PAYLOADS = [
    "{{ cycler.__init__.__globals__.os.popen('touch CANARY').read() }}",
    "{{ joiner.__init__.__globals__.os.system('touch CANARY') }}",
    "{{ namespace.__init__.__globals__.os.system('touch CANARY') }}",
    "{{ lipsum.__globals__['os'].popen('touch CANARY').read() }}",
    "{{ ''.__class__.__mro__[1].__subclasses__()[0].__init__.__globals__['os'].system('touch CANARY') }}",
    "{{ range.__globals__.os.system('touch CANARY') }}",
    "{{ self.__init__.__globals__.__builtins__.open('CANARY', 'w') }}",
]

PAYLOADS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ agency.__class__ }}",
    "{{ items[0]['__class__'] }}",
    "{{ '%s'|format(agency) }}",
    "{{ '%s' % agency }}",
    "{{ agency|attr('__class__') }}",
    "{{ 'x'|attr('format') }}",
    "{{ '{0.__class__}'.format(agency) }}",
    "{{ '{0:>999999999}'.format(1) }}",
    "{{ 'x'.format_map(agency) }}",
    "{{ range(10**9)|list }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}",
    "{{ 'x' * 10**9 }}",
    "{{ ['x'] * 10**9 }}",
    "{{ 10 ** 100000 }}",
    "{% set a = 'x' * 1000000 %}{% set a = a ~ a ~ a %}{{ a|length }}",
    "{% set a = 'x' * 1000000 %}{{ [a, a, a]|join }}",
    "{% set a = 'x' * 1000000 %}{{ ([a] * 1000)|string|length }}",
    "{% set a = 'x' * 1000000 %}{{ a|replace('x', 'yyy')|length }}",
    "{{ ([['x'] * 10000] * 10000)|sum(start=[]) }}",
    "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60)|length }}",
    "{% macro f() %}{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"
    "{% endmacro %}{{ f()|length }}",
    "{% include 'layout.html' %}",
    "{% extends 'layout.html' %}",
    "{% import 'layout.html' as layout %}",
    "{{ 'x'|safe }}",
    "{{ 'x'|random }}",
]


@pytest.mark.parametrize("payload", CANARY_PAYLOADS)
def test_it_refuses_sandbox_escapes_and_executes_nothing(payload, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    canary = tmp_path / "CANARY"

    with pytest.raises(TemplateError):
        validate_template("Subject", payload)

    assert not canary.exists()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_refuses_known_payloads_within_the_limits(payload):
    started = time.monotonic()

    with pytest.raises(TemplateError):
        render_notice("Subject", payload, SAMPLE_CONTEXT)

    assert time.monotonic() - started < MAX_RENDER_SECONDS + 3


def test_it_stops_a_render_that_takes_too_long():
    looping_macro = (
        "{% macro f() %}{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}"
        "{% endfor %}{% endmacro %}{{ f() }}"
    )

    with pytest.raises(TemplateError, match=r"took longer than"):
        render_notice("Subject", looping_macro, SAMPLE_CONTEXT)


def test_it_stops_a_render_whose_output_is_too_long():
    with pytest.raises(TemplateError, match=r"exceed 2,000,000 characters"):
        render_notice(
            "Subject",
            "{% for i in range(10000) %}{% for j in range(1000) %}xxxxxxx{% endfor %}{% endfor %}",
            SAMPLE_CONTEXT,
        )


def test_it_still_renders_what_a_notice_needs():
    rendered = render_notice(
        "{{ artist.name|upper }}",
        "{% for item in items|sort(attribute='discovered_at') %}{{ loop.index }}. {{ item.url }}"
        "{% if not loop.last %}, {% endif %}{% endfor %} | {{ items|map(attribute='category')|unique"
        "|join('/') }} | {{ agency.get('name') }} | {{ notice.date|longdate('ko') }} | "
        "{{ artist.aliases|join(', ') }} | {{ (items|length) * 2 }} | {{ 'a' ~ 'b' }}",
        SAMPLE_CONTEXT,
    )

    assert rendered.subject == "HANA LEE"
    assert "1. https://tube.example/watch?v=Zx81aQ-fake&amp;list=PL0000example" in rendered.html
    assert "synthetic_sexual/real_intimate/impersonation/privacy/copyright" in rendered.html
    assert "Starlight Entertainment | 2026년 5월 20일 | HANA, 하나 | 10 | ab" in rendered.html


# -- PDF ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def korean_pdf():
    template = next(t for t in DEFAULTS if (t.route, t.locale) == ("kr_tba_22_5", "ko"))
    context = rendering.sample_context("ko", template.route)
    rendered = render_notice(template.subject, template.body, context)
    with rendering.pdf_warnings() as warnings:
        pdf = render_pdf(
            rendered, title=rendered.subject, author=context["agency"]["name"], lang="ko", context=context
        )
    return {"pdf": pdf, "warnings": warnings, "context": context, "rendered": rendered}


def test_it_renders_a_korean_notice_whose_text_extracts_with_names_and_urls(korean_pdf):
    text = pdf_text(korean_pdf["pdf"])
    context = korean_pdf["context"]

    assert korean_pdf["pdf"].startswith(b"%PDF-")
    for name in (context["artist"]["name_ko"], context["artist"]["name"], context["agency"]["name_ko"]):
        assert name in text
    for item in context["items"]:
        assert squeeze(item["url"]) in squeeze(text)
    assert "N-2026-000123" in text  # letterhead and page header
    assert "1 / 2" in text or "1 / 1" in text  # page numbers in the margin box


def test_it_renders_hangul_with_the_bundled_font_and_no_missing_glyphs(korean_pdf):
    assert rendering.missing_glyphs(korean_pdf["warnings"]) == []
    fonts = set()
    for page in PdfReader(io.BytesIO(korean_pdf["pdf"])).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    # WeasyPrint names embedded @font-face fonts after their CSS family: every glyph came
    # from the bundled files, none from a system fallback.
    assert fonts and all(re.fullmatch(r"/[A-Z]{6}\+Notice-Sans(-Bold)?", font) for font in fonts), fonts


def test_it_reports_missing_glyphs():
    rendered = RenderedNotice(subject="s", html="<p>\U0010fffd</p>", text="")

    with rendering.pdf_warnings() as warnings:
        render_pdf(rendered, title="t", author="a", lang="en")

    assert rendering.missing_glyphs(warnings)


def test_it_sets_pdf_metadata(korean_pdf):
    reader = PdfReader(io.BytesIO(korean_pdf["pdf"]))

    assert reader.metadata.title == korean_pdf["rendered"].subject
    assert reader.metadata.author == "Starlight Entertainment"
    assert reader.metadata["/CreationDate"] == "D:20260520"
    assert reader.trailer["/Root"]["/Lang"] == "ko"


def test_it_renders_the_same_bytes_for_the_same_input(korean_pdf):
    again = render_pdf(
        korean_pdf["rendered"],
        title=korean_pdf["rendered"].subject,
        author="Starlight Entertainment",
        lang="ko",
        context=korean_pdf["context"],
    )

    assert again == korean_pdf["pdf"]
    assert rendering.sha256_hex(again) == rendering.sha256_hex(korean_pdf["pdf"])
    assert re.fullmatch(r"[0-9a-f]{64}", rendering.sha256_hex(again))


# -- the fetcher -------------------------------------------------------------------------


@pytest.fixture
def loopback_server():
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            body = png_bytes() if self.path.endswith(".png") else b"body { color: red }"
            self.send_response(200)
            self.send_header("Content-Type", "image/png" if self.path.endswith(".png") else "text/css")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def test_it_would_be_reached_by_an_unrestricted_fetcher(loopback_server):
    # Control for the next test: the server does see WeasyPrint's default fetcher.
    base, requests = loopback_server

    HTML(string=f'<img src="{base}/control.png">').write_pdf()

    assert requests == ["/control.png"]


def test_it_fetches_nothing_from_the_network(loopback_server):
    base, requests = loopback_server
    body = (
        f'<link rel="stylesheet" href="{base}/x.css">'
        f"<style>@import url({base}/import.css); @font-face {{ font-family: X; src: url({base}/f.ttf) }}"
        f" p {{ font-family: X }}</style>"
        f'<img src="{base}/img.png"><div style="background: url({base}/bg.png)">x</div>'
        f'<object data="{base}/obj.png"></object><svg><image href="{base}/svg.png"/></svg>'
    )

    with rendering.pdf_warnings() as warnings:
        pdf = pdf_of(body)

    assert requests == []
    assert pdf_image_count(pdf) == 0
    assert any("refused" in message for message in warnings)


def test_it_reads_no_file_outside_the_layout_folder(tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(png_bytes())
    outside = f'<img src="{secret.as_uri()}">'
    control = rendering.layout_html(
        render_notice("s", outside, SAMPLE_CONTEXT), title="t", author="a", lang="en"
    )
    assert pdf_image_count(HTML(string=control).write_pdf()) == 1  # a default fetcher reads it

    pdf = pdf_of(
        outside + '<img src="file:///etc/passwd"><img src="../../../../../../etc/passwd">'
        '<img src="../../takedown/choices.py"><link rel="stylesheet" href="/etc/passwd">'
    )

    assert pdf_image_count(pdf) == 0


def test_it_serves_only_regular_files_inside_its_root(tmp_path):
    root = tmp_path / "assets"
    root.mkdir()
    (root / "logo.png").write_bytes(png_bytes())
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (root / "link.txt").symlink_to(secret)
    fetcher = LocalAssetFetcher(root)

    response = fetcher.fetch((root / "logo.png").as_uri())
    assert response.read() == png_bytes()
    assert response.content_type == "image/png"
    refused = [
        (root / "link.txt").as_uri(),  # symlink out
        root.as_uri() + "/../secret.txt",
        root.as_uri() + "/%2e%2e/secret.txt",
        secret.as_uri(),
        "file:///etc/passwd",
        "file://example.com/etc/passwd",
        root.as_uri(),  # a directory
        "http://127.0.0.1:9/logo.png",
        "https://example.com/logo.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "ftp://example.com/x",
    ]
    for url in refused:
        with pytest.raises(ValueError, match="refused"):
            fetcher.fetch(url)


def test_it_serves_the_layouts_own_fonts():
    fetcher = LocalAssetFetcher(rendering.LAYOUT_DIR)

    font = fetcher.fetch((rendering.LAYOUT_DIR / "fonts" / "NanumGothic.ttf").as_uri())

    assert font.read(4) == b"\x00\x01\x00\x00"
    assert (rendering.LAYOUT_DIR / "fonts" / "OFL.txt").read_text().count("SIL OPEN FONT LICENSE") == 1


def test_it_lists_no_unexpected_files_in_the_layout_folder():
    # Everything in the folder is servable to a template: keep it to the layout's assets.
    files = {
        str(p.relative_to(rendering.LAYOUT_DIR)) for p in Path(rendering.LAYOUT_DIR).rglob("*") if p.is_file()
    }

    assert files == {
        "layout.html",
        "print.css",
        "fonts/NanumGothic.ttf",
        "fonts/NanumGothicBold.ttf",
        "fonts/OFL.txt",
    }
