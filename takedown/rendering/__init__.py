"""Notice rendering: sandboxed Jinja2 -> HTML and text -> PDF bytes.

Pure functions: plain data in (dicts, lists, strings, numbers), text and bytes out.
No database, no request; settings only for the PDF bounds (pdf_limits(), with
defaults when Django is not configured).

- sandbox:  the Jinja2 sandbox and its limits; render_notice() (subject, HTML, text).
            Templates are written by legal staff, so they are treated as untrusted code.
- text:     the HTML body as plain text (html_to_text()).
- pdf:      the body inside the trusted print layout, laid out as PDF bytes
            (render_pdf()) under a wall clock, a memory limit and a page cap.
- worker:   the bounded worker processes that lay the PDFs out (WeasyPrint).
- defaults: the default templates shipped in fixtures/ and the fictional sample data.
- pipeline: notice_render(), the whole render of a notice (text, required elements,
            PDF) for submission and previews; validate_template(), the check of a
            template before it is saved.

Callers use the names below, from this package: `rendering.render_notice(...)`.
"""

from takedown.rendering.defaults import (
    DEFAULT_TEMPLATES_DIR,
    SAMPLE_CONTEXT,
    DefaultTemplate,
    load_default_templates,
    sample_context,
)
from takedown.rendering.pdf import (
    LAYOUT_DIR,
    PdfLimitExceeded,
    layout_html,
    missing_glyphs,
    pdf_limits,
    pdf_warnings,
    render_pdf,
    sha256_hex,
)
from takedown.rendering.pipeline import (
    MissingElements,
    NoticeRender,
    UnfoundedStatements,
    notice_render,
    validate_template,
)
from takedown.rendering.sandbox import RenderedNotice, TemplateError, render_notice
from takedown.rendering.text import html_to_text
from takedown.rendering.worker import LocalAssetFetcher, PdfLimits, relaxed_gc

__all__ = [
    "DEFAULT_TEMPLATES_DIR",
    "LAYOUT_DIR",
    "SAMPLE_CONTEXT",
    "DefaultTemplate",
    "LocalAssetFetcher",
    "MissingElements",
    "NoticeRender",
    "PdfLimitExceeded",
    "PdfLimits",
    "RenderedNotice",
    "TemplateError",
    "UnfoundedStatements",
    "html_to_text",
    "layout_html",
    "load_default_templates",
    "missing_glyphs",
    "notice_render",
    "pdf_limits",
    "pdf_warnings",
    "relaxed_gc",
    "render_notice",
    "render_pdf",
    "sample_context",
    "sha256_hex",
    "validate_template",
]
